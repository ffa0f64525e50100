#include "modules/muc/muc_module.hpp"

#include <algorithm>
#include <map>
#include <future>

#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/muc/room_config.hpp"
#include "storage/muc_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::muc {

namespace {

constexpr size_t kMaxListed = 1000;  // disco#items without RSM (more: RSM paging, XEP-0059)

int64_t ranged(const RawConfig& raw, const std::string& key, int64_t def, int64_t min, int64_t max) {
  int64_t v = raw.get_int("modules.muc." + key).value_or(def);
  if (v < min || v > max)
    throw ConfigError("config key 'modules.muc." + key + "': expected " + std::to_string(min) + " to " +
                      std::to_string(max));
  return v;
}

}  // namespace

MucModule::MucModule(ModuleContext& ctx) : ctx_(ctx), slot_(ctx.allocate_session_slot()) {
  const RawConfig& raw = ctx.raw_config();
  if (!raw.get_bool("modules.muc.enabled").value_or(true)) return;
  for (const auto& h : ctx.config().hosts) serve_host(h);
  ctx.on_host_added([this](const HostConfig& h) { serve_host(h); });
  ctx.disco().add_channel_lister([this](const std::string& host, std::function<void(std::vector<ChannelInfo>)> done) {
    list_channels(host, std::move(done));
  });

  // A client that sends presence to a room is remembered on its session, so that when the session ends
  // its rooms learn it at once, even if it never sent initial presence (the IM module then has nothing
  // to broadcast) — the room checks that it is still the same session. The same list bounds how many
  // rooms one session may be in (DESIGN §9).
  ctx.hook(StanzaHook::kFromClient, 90, [this](StanzaEvent& ev) {
    if (!ev.origin || !ev.stanza.is_presence()) return HookResult::kContinue;
    const Jid& to = ev.stanza.to();
    std::string_view type = ev.stanza.type();
    if (!to.has_localpart() || !to.has_resource() || (!type.empty() && type != "unavailable"))
      return HookResult::kContinue;
    Service* svc = service_for(to.domainpart());
    if (!svc) return HookResult::kContinue;
    auto* st = ev.origin->extension_as<SessionRooms>(slot_);
    if (!st) {
      ev.origin->set_extension(slot_, std::make_unique<SessionRooms>());
      st = ev.origin->extension_as<SessionRooms>(slot_);
    }
    auto key = std::make_pair(svc, std::string(to.bare_view()));
    if (type == "unavailable") {
      st->rooms.erase(key);
      return HookResult::kContinue;
    }
    if (st->rooms.size() >= kMaxRoomsPerSession && !st->rooms.count(key)) {
      ctx_.router().bounce(ev.stanza, StanzaError(StanzaErrorCondition::kPolicyViolation, StanzaErrorType::kWait,
                                                  "this session is in too many rooms"));
      return HookResult::kHandled;
    }
    st->rooms.insert(std::move(key));
    return HookResult::kContinue;
  });
  ctx.on_session(SessionHook::kClosed, [this](ClientSession& session) {
    auto* st = session.extension_as<SessionRooms>(slot_);
    if (!st) return;
    for (const auto& [svc, room] : st->rooms)
      if (auto j = Jid::parse(room)) svc->rooms->session_gone(*j, session.jid(), session.ref());
  });
}

void MucModule::serve_host(const HostConfig& h) {
  const std::vector<std::string>& hosts = ctx_.router().local_hosts();
  auto svc = std::make_unique<Service>();
  svc->host = h.name;
  svc->settings = read_settings(h.name, hosts);
  // XEP-0421 §5.1: the occupant-id secret is stored, so ids stay stable across restarts. Startup (or a
  // reload, on the main thread) may wait for the disk.
  auto secret = std::make_shared<std::promise<std::string>>();
  auto done = secret->get_future();
  std::string domain = svc->settings.domain;
  ctx_.storage().write([secret, domain](storage::Storage& db) -> storage::StorageService::Completion {
    std::string s = db.muc().service_secret(domain);
    return [secret, s] { secret->set_value(s); };
  });
  if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    throw storage::StorageError("cannot read the MUC service secret for " + domain);
  svc->settings.secret = done.get();
  svc->rooms = std::make_unique<RoomRegistry>(ctx_, svc->settings);
  Service* s = svc.get();
  owned_.push_back(std::move(svc));
  services_.update([s](std::vector<Service*>& all) { all.push_back(s); });
  ctx_.add_service(domain, [this, s](Stanza&& st, ClientSession* origin) { on_stanza(*s, std::move(st), origin); });
  ctx_.disco().add_server_item({h.name, domain, "Chatrooms"});  // §6.1
}

ServiceSettings MucModule::read_settings(const std::string& host, std::vector<std::string> hosts) {
  const RawConfig& raw = ctx_.raw_config();
  ServiceSettings s;
  std::string pattern = raw.get_string("modules.muc.domain").value_or("conference.{host}");
  std::string domain = pattern;
  if (auto p = domain.find("{host}"); p != std::string::npos) domain.replace(p, 6, host);
  auto prepped = prep_domainpart(domain);
  if (!prepped || std::find(hosts.begin(), hosts.end(), *prepped) != hosts.end())
    throw ConfigError("config key 'modules.muc.domain': '" + domain + "' is not a usable service domain");
  if (service_for(*prepped))
    throw ConfigError("config key 'modules.muc.domain': every host needs its own service ('{host}' in the name)");
  s.domain = *prepped;
  s.local_hosts = std::move(hosts);
  for (const auto& h : ctx_.config().hosts)
    for (const auto& a : h.admins)
      if (auto j = Jid::parse(a)) s.service_admins.insert(std::string(j->bare_view()));
  std::string creators = raw.get_string("modules.muc.creators").value_or("local");
  if (creators == "local") s.creators = Creators::kLocal;
  else if (creators == "admins") s.creators = Creators::kAdmins;
  else if (creators == "anyone") s.creators = Creators::kAnyone;
  else throw ConfigError("config key 'modules.muc.creators': expected \"local\", \"admins\" or \"anyone\"");
  s.limits.max_users = static_cast<uint32_t>(ranged(raw, "max_occupants", 1000, 2, 100000));
  s.limits.max_history = static_cast<uint32_t>(ranged(raw, "history_size", 50, 0, 1000));
  s.max_nick_chars = static_cast<size_t>(ranged(raw, "max_nick_length", 64, 1, 1023));
  s.max_affiliations = static_cast<size_t>(ranged(raw, "max_affiliations", 10000, 10, 1000000));
  s.history_bytes = static_cast<size_t>(ranged(raw, "history_bytes", 256 * 1024, 0, 64 << 20));
  s.defaults.history_fetch = static_cast<uint32_t>(
      ranged(raw, "default_history", std::min<int64_t>(20, s.limits.max_history), 0, s.limits.max_history));
  s.defaults.is_public = raw.get_bool("modules.muc.default_public").value_or(true);
  s.defaults.persistent = raw.get_bool("modules.muc.default_persistent").value_or(false);
  s.defaults.archiving = raw.get_bool("modules.muc.default_archiving").value_or(true);
  return s;
}

MucModule::Service* MucModule::service_for(std::string_view domain) {
  for (Service* s : services_.get())
    if (s->settings.domain == domain) return s;
  return nullptr;
}

void MucModule::on_stanza(Service& svc, Stanza&& st, ClientSession* origin) {
  if (st.from().empty()) return;
  if (!st.to().has_localpart()) {
    service_stanza(svc, std::move(st));
    return;
  }
  if (stopping_.load()) {
    if (auto e = make_error_reply(st.element(), StanzaError(StanzaErrorCondition::kServiceUnavailable)))
      ctx_.router().route(Stanza(std::move(*e), st.to(), st.from()));
    return;
  }
  const Jid& from = st.from();
  // The sender's own session, to which the room may later write directly.
  SessionRef ref = origin && origin->jid() == from ? origin->ref() : SessionRef{};
  if (!ref.valid() && st.is_presence() && from.has_resource() && svc.settings.is_local(from.domainpart())) {
    // A presence that did not come straight from the client: the user's server speaking for it (RFC
    // 6121 §4.6.3 directed presence) or another module.
    if (auto bound = ctx_.sessions().find(from)) {
      // An "unavailable" generated for an earlier session of this full JID must not evict the live
      // one that rejoined since; the room learns of that earlier session's end from kClosed anyway.
      if (st.type() == "unavailable" && bound->available) return;
      ref = bound->ref;
    }
  }
  Jid room = st.to().bare();
  svc.rooms->submit(room, std::move(st), ref);
}

void MucModule::service_stanza(Service& svc, Stanza&& st) {
  if (!st.is_iq()) return;  // presence and messages to the service itself mean nothing
  std::string_view type = st.type();
  if (type != "get" && type != "set") return;
  IqResponder reply = ctx_.router().responder_for(st);
  const xml::Element* q = nullptr;
  for (const auto& n : st.element().nodes())
    if (!n.is_text()) q = &n;
  if (type == "get" && q && q->is("query", ns::kDiscoInfo) && q->attr("node").empty()) {
    // §6.2. XEP-0421 §5: occupant ids are on in every room, so the service says so too.
    reply.result(DiscoRegistry::info_query({DiscoIdentity{"conference", "text", "Chatrooms"}},
                                           {ns::kDiscoInfo, ns::kDiscoItems, ns::kMuc, ns::kMucStableId,
                                            ns::kOccupantId, ns::kPing}));
    return;
  }
  if (type == "get" && q && q->is("query", ns::kDiscoItems) && q->attr("node").empty()) {
    list_rooms(svc, st, reply);
    return;
  }
  if (type == "get" && q && q->is("ping", ns::kPing)) {
    reply.result();
    return;
  }
  reply.error(StanzaError(q && (q->ns() == ns::kDiscoInfo || q->ns() == ns::kDiscoItems)
                              ? StanzaErrorCondition::kItemNotFound
                              : StanzaErrorCondition::kServiceUnavailable));
}

void MucModule::list_rooms(Service& svc, const Stanza& st, IqResponder reply) {
  // §6.3: public rooms — stored persistent ones (loaded or not) and loaded temporary ones — with their
  // occupant counts, ordered by JID, paged with XEP-0059 RSM (<max/>, <after/>) when asked or too many.
  const xml::Element* q = st.element().child("query", ns::kDiscoItems);
  const xml::Element* set = q->child("set", ns::kRsm);
  size_t max = kMaxListed;
  std::string after;
  if (set) {
    std::string m = set->child_text("max", ns::kRsm);
    if (!m.empty()) {
      try {
        max = std::min<size_t>(kMaxListed, std::stoul(m));
      } catch (...) {
        reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "bad <max/>"));
        return;
      }
    }
    after = set->child_text("after", ns::kRsm);
  }
  Service* s = &svc;
  ctx_.storage().read([s, reply, max, after, paged = set != nullptr](storage::Storage& db) {
    auto stored = db.muc().public_rooms(s->settings.domain, after, max + 1);
    size_t stored_count = db.muc().count_public_rooms(s->settings.domain);
    auto loaded = s->rooms->loaded_public_rooms();
    std::map<std::string, std::pair<std::string, size_t>> rooms;  // jid -> name, occupants
    for (auto& r : stored) rooms[r.jid] = {r.name, 0};
    size_t temporary = 0;
    for (auto& r : loaded) {
      if (!r.persistent) ++temporary;
      if (r.jid > after) rooms[r.jid] = {r.name, r.occupants};
    }
    xml::Element items("query", ns::kDiscoItems);
    std::string first, last;
    size_t n = 0;
    for (const auto& [jid, v] : rooms) {
      if (n == max) break;
      xml::Element& i = items.add_child("item");
      i.set_attr("jid", jid);
      std::string name = v.first.empty() ? jid.substr(0, jid.find('@')) : v.first;
      i.set_attr("name", name + " (" + std::to_string(v.second) + ")");
      if (first.empty()) first = jid;
      last = jid;
      ++n;
    }
    if (paged || rooms.size() > max) {
      xml::Element& rs = items.add_child("set", ns::kRsm);
      if (!first.empty()) {
        rs.add_text_child("first", first);
        rs.add_text_child("last", last);
      }
      rs.add_text_child("count", std::to_string(stored_count + temporary));
    }
    reply.result(std::move(items));
  });
}

void MucModule::list_channels(const std::string& host, std::function<void(std::vector<ChannelInfo>)> done) {
  Service* svc = nullptr;
  for (Service* s : services_.get())
    if (s->host == host) svc = s;
  if (!svc) return done({});
  // Stored public rooms (loaded or not), then what the loaded ones say now: occupants, temporary rooms.
  ctx_.storage().read([svc, done = std::move(done)](storage::Storage& db) {
    constexpr size_t kMaxChannels = 100000;
    auto channel = [](const std::string& jid, const RoomSummary& s) {
      ChannelInfo c;
      c.address = jid;
      c.service_type = "xep-0045";
      c.name = s.name.empty() ? jid.substr(0, jid.find('@')) : s.name;
      c.description = s.description;
      c.language = s.lang;
      c.is_open = s.open;
      c.anonymity = s.non_anonymous ? "{urn:xmpp:channel-search:0:anonymity}none" : "muc_semianonymous";
      return c;
    };
    std::map<std::string, ChannelInfo> rooms;
    for (auto& r : db.muc().public_rooms(svc->settings.domain, "", kMaxChannels)) {
      RoomConfig config = deserialize_config(r.config, svc->settings.limits);
      RoomSummary s;
      s.name = config.name;
      s.description = config.description;
      s.lang = config.lang;
      s.open = !config.members_only && !config.password_protected;
      s.non_anonymous = config.whois == Whois::kAnyone;
      ChannelInfo c = channel(r.jid, s);
      c.nusers = 0;  // not loaded: nobody is in it
      rooms[r.jid] = std::move(c);
    }
    for (auto& r : svc->rooms->loaded_public_rooms()) {
      ChannelInfo c = channel(r.jid, r.summary);
      c.nusers = r.occupants;
      rooms[r.jid] = std::move(c);
    }
    std::vector<ChannelInfo> out;
    out.reserve(rooms.size());
    for (auto& [jid, c] : rooms) out.push_back(std::move(c));
    done(std::move(out));
  });
}

void MucModule::stop() {
  stopping_.store(true);
  for (Service* s : services_.get()) s->rooms->shutdown_all(std::chrono::seconds(2));
}

}  // namespace causerie::modules::muc

namespace causerie::modules {

std::unique_ptr<Module> make_muc(ModuleContext& ctx) { return std::make_unique<muc::MucModule>(ctx); }

}  // namespace causerie::modules
