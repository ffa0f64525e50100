#include "modules/admin/motd.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::admin {

namespace {
constexpr const char* kStore = "motd";
}

Motd::Motd(ModuleContext& ctx) : ctx_(ctx) {
  for (const auto& h : ctx.config().hosts) load(h.name);
  // A host a reload adds may have a message stored from when it was served before.
  ctx.on_host_added([this](const HostConfig& h) { load(h.name); });
  ctx.on_session(SessionHook::kAvailable, [this](ClientSession& s) { available(s); });
}

void Motd::load(const std::string& host) {
  ctx_.storage().read([this, host](storage::Storage& db) {
    auto text = db.kv().get(host, kStore, "text");
    auto version = db.kv().get(host, kStore, "version");
    if (!text || !version) return;
    std::lock_guard lock(mutex_);
    current_.try_emplace(host, Current{*version, *text});  // unless one was set meanwhile
  });
}

std::optional<std::string> Motd::text(const std::string& host) const {
  std::lock_guard lock(mutex_);
  auto it = current_.find(host);
  return it == current_.end() ? std::nullopt : std::optional<std::string>(it->second.text);
}

xml::Element Motd::message(const std::string& host, const Jid& to, const std::string& text) {
  xml::Element m("message", ns::kClient);
  m.set_attr("from", host);
  m.set_attr("to", to.str());
  m.set_attr("type", "normal");
  m.add_text_child("subject", "Message of the day");
  m.add_text_child("body", text);
  return m;
}

std::optional<std::string> Motd::stored(storage::Storage& db, const std::string& host) {
  return db.kv().get(host, kStore, "text");
}

void Motd::store(storage::Storage& db, const std::string& host, const std::string& text, const std::string& version) {
  db.kv().put(host, kStore, "text", text);
  db.kv().put(host, kStore, "version", version);
}

void Motd::erase(storage::Storage& db, const std::string& host) {
  db.kv().remove(host, kStore, "text");
  db.kv().remove(host, kStore, "version");
}

void Motd::available(ClientSession& session) {
  std::string host(session.jid().domainpart());
  Current cur;
  {
    std::lock_guard lock(mutex_);
    auto it = current_.find(host);
    if (it == current_.end()) return;
    cur = it->second;
  }
  std::string owner(session.jid().bare_view());
  SessionRef ref = session.ref();
  Jid to = session.jid();
  ctx_.storage().read([this, owner, ref, to, host, cur](storage::Storage& db) {
    if (db.kv().get(owner, kStore, "seen") == cur.version) {
      spdlog::debug("motd: {} has seen the message of the day of {}", owner, host);
      return;
    }
    // Decided again on the write lane, where jobs run one at a time: two sessions logging in together
    // get the message once between them.
    ctx_.storage().write([this, owner, ref, to, host, cur](storage::Storage& db) -> storage::StorageService::Completion {
      if (db.kv().get(owner, kStore, "seen") == cur.version) return nullptr;
      db.kv().put(owner, kStore, "seen", cur.version);
      return [this, ref, to, host, cur] { ctx_.router().deliver_to_session(ref, message(host, to, cur.text)); };
    });
  });
}

void Motd::set(const std::string& host, std::string text, std::function<void(size_t)> done) {
  Current cur{util::random_id(9), std::move(text)};
  {
    std::lock_guard lock(mutex_);
    current_[host] = cur;
  }
  // Who is online now gets it at once, and is marked as having seen it.
  struct Target {
    SessionRef ref;
    Jid jid;
  };
  std::vector<Target> targets;
  std::set<std::string> owners;
  ctx_.sessions().for_each([&](std::string_view bare, const BoundResource& r) {
    auto j = Jid::parse(bare);
    if (!j || j->domainpart() != host || !r.available) return;
    owners.emplace(bare);
    if (auto full = j->with_resource(r.resource)) targets.push_back({r.ref, *full});
  });
  ctx_.storage().write([this, host, cur, targets, owners, done](storage::Storage& db) -> storage::StorageService::Completion {
    store(db, host, cur.text, cur.version);
    for (const auto& o : owners) db.kv().put(o, kStore, "seen", cur.version);
    return [this, host, cur, targets, done] {
      for (const auto& t : targets) ctx_.router().deliver_to_session(t.ref, message(host, t.jid, cur.text));
      spdlog::info("admin: message of the day of {} set, sent to {} session(s)", host, targets.size());
      done(targets.size());
    };
  });
}

void Motd::edit(const std::string& host, std::string text, std::function<void()> done) {
  std::string version;
  {
    std::lock_guard lock(mutex_);
    auto& cur = current_[host];
    if (cur.version.empty()) cur.version = util::random_id(9);
    cur.text = text;
    version = cur.version;
  }
  ctx_.storage().write([host, text, version, done](storage::Storage& db) -> storage::StorageService::Completion {
    store(db, host, text, version);
    return done;
  });
}

void Motd::remove(const std::string& host, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    current_.erase(host);
  }
  ctx_.storage().write([host, done](storage::Storage& db) -> storage::StorageService::Completion {
    erase(db, host);
    spdlog::info("admin: message of the day of {} deleted", host);
    return done;
  });
}

}  // namespace causerie::modules::admin
