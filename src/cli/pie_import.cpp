#include "cli/pie_import.hpp"

#include <expat.h>

#include <charconv>
#include <ctime>
#include <functional>

#include "core/accounts/accounts.hpp"
#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"

namespace causerie {

namespace {

constexpr std::string_view kPie = "urn:xmpp:pie:0";
constexpr std::string_view kPieScram = "urn:xmpp:pie:0#scram";
constexpr size_t kBatch = 500;

tl::expected<sasl::ScramCredentials, std::string> parse_scram(const xml::Element& el) {
  sasl::ScramCredentials c;
  std::string iter = el.child_text("iter-count", kPieScram);
  auto [p, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), c.iterations);
  if (ec != std::errc() || p != iter.data() + iter.size() || c.iterations == 0 || iter[0] == '0')
    return tl::unexpected(std::string("bad <iter-count/>"));
  auto salt = util::base64_decode(el.child_text("salt", kPieScram));
  auto server_key = util::base64_decode(el.child_text("server-key", kPieScram));
  auto stored_key = util::base64_decode(el.child_text("stored-key", kPieScram));
  if (!salt || salt->empty() || !server_key || !stored_key) return tl::unexpected(std::string("bad SCRAM salt or keys"));
  c.salt = *salt;
  c.server_key = *server_key;
  c.stored_key = *stored_key;
  return c;
}

// Streams <user/> elements (depth 3: server-data > host > user) with the host they belong to.
class PieReader {
 public:
  using OnUser = std::function<void(const std::string& host, const xml::Element& user)>;
  PieReader(OnUser on_user, std::vector<std::string>& errors) : on_user_(std::move(on_user)), errors_(errors) {
    parser_ = XML_ParserCreateNS("UTF-8", ' ');
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &PieReader::start, &PieReader::end);
    XML_SetCharacterDataHandler(parser_, &PieReader::chars);
  }
  ~PieReader() { XML_ParserFree(parser_); }

  bool feed(const char* data, size_t n, bool final) {
    if (XML_Parse(parser_, data, static_cast<int>(n), final) == XML_STATUS_OK) return true;
    errors_.push_back("line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ": " +
                      XML_ErrorString(XML_GetErrorCode(parser_)));
    return false;
  }

 private:
  static std::pair<std::string, std::string> split(const char* name) {
    std::string_view n(name);
    size_t sp = n.rfind(' ');
    if (sp == std::string_view::npos) return {std::string(n), {}};
    return {std::string(n.substr(sp + 1)), std::string(n.substr(0, sp))};
  }
  static void start(void* p, const char* name, const char** attrs) {
    auto* self = static_cast<PieReader*>(p);
    ++self->depth_;
    auto [local, ns] = split(name);
    if (self->depth_ == 2 && local == "host" && ns == kPie) {
      for (size_t i = 0; attrs[i]; i += 2)
        if (std::string_view(attrs[i]) == "jid") self->host_ = attrs[i + 1];
    }
    if (self->depth_ < 3) return;
    xml::Element el(local, ns);
    for (size_t i = 0; attrs[i]; i += 2) el.set_attr(split(attrs[i]).first, attrs[i + 1]);
    if (self->depth_ == 3) {
      self->user_ = std::move(el);
      self->stack_.assign(1, &self->user_);
    } else if (!self->stack_.empty()) {
      self->stack_.push_back(&self->stack_.back()->add(std::move(el)));
    }
  }
  static void end(void* p, const char*) {
    auto* self = static_cast<PieReader*>(p);
    if (self->depth_ >= 3 && !self->stack_.empty()) self->stack_.pop_back();
    if (self->depth_ == 3 && self->user_.name() == "user" && self->user_.ns() == kPie)
      self->on_user_(self->host_, self->user_);
    --self->depth_;
  }
  static void chars(void* p, const char* s, int len) {
    auto* self = static_cast<PieReader*>(p);
    if (self->depth_ > 3 && !self->stack_.empty()) self->stack_.back()->add_text(std::string_view(s, static_cast<size_t>(len)));
  }

  XML_ParserStruct* parser_;
  OnUser on_user_;
  std::vector<std::string>& errors_;
  int depth_ = 0;
  std::string host_;
  xml::Element user_;
  std::vector<xml::Element*> stack_;
};

}  // namespace

tl::expected<PieUser, std::string> parse_pie_user(const xml::Element& user, const std::string& host) {
  PieUser u;
  auto local = prep_localpart(user.attr("name"));
  if (!local || local->empty()) return tl::unexpected("invalid user name '" + std::string(user.attr("name")) + "'");
  u.account.jid = *local + "@" + host;
  u.account.created = static_cast<int64_t>(std::time(nullptr));
  bool sha1 = false, sha256 = false;
  for (const auto& child : user.nodes()) {
    if (child.is_text()) continue;
    if (child.is("scram-credentials", kPieScram)) {
      auto creds = parse_scram(child);
      if (!creds) return tl::unexpected(u.account.jid + ": " + creds.error());
      std::string_view mech = child.attr("mechanism");
      if (mech == "SCRAM-SHA-1") {
        u.account.sha1 = *creds;
        sha1 = true;
      } else if (mech == "SCRAM-SHA-256") {
        u.account.sha256 = *creds;
        sha256 = true;
      }  // other mechanisms (SCRAM-SHA-512…) are not used by this server: ignored
    } else if (child.is("query", ns::kRoster)) {
      for (const xml::Element* item : child.children("item", ns::kRoster)) {
        auto contact = Jid::parse(item->attr("jid"));
        if (!contact || contact->has_resource())
          return tl::unexpected(u.account.jid + ": bad roster item '" + std::string(item->attr("jid")) + "'");
        storage::RosterItem r;
        r.jid = contact->str();
        r.name = std::string(item->attr("name"));
        r.subscription = storage::parse_subscription(item->attr("subscription")).value_or(storage::Subscription::kNone);
        r.ask = item->attr("ask") == "subscribe";
        for (const xml::Element* g : item->children("group", ns::kRoster)) r.groups.push_back(g->text());
        u.roster.push_back(std::move(r));
      }
    } else {
      ++u.skipped_elements;
    }
  }
  u.has_credentials = sha1 && sha256;
  if (!u.has_credentials) {
    // §3.2: without usable credentials, a plaintext password lets us derive both.
    u.password = std::string(user.attr("password"));
    if (u.password.empty())
      return tl::unexpected(u.account.jid + ": needs SCRAM-SHA-1 and SCRAM-SHA-256 credentials or a password");
    if (auto problem = password_problem(u.password)) return tl::unexpected(u.account.jid + ": " + *problem);
  }
  return u;
}

PieImportResult import_pie(std::istream& in, storage::Storage& db, const Config& config) {
  PieImportResult res;
  size_t in_batch = 0;
  db.begin();
  PieReader reader(
      [&](const std::string& raw_host, const xml::Element& el) {
        auto host = prep_domainpart(raw_host);
        if (!host || !config.find_host(*host)) {
          res.errors.push_back("host '" + raw_host + "' is not served by " + config.source);
          return;
        }
        auto u = parse_pie_user(el, *host);
        if (!u) {
          res.errors.push_back(u.error());
          return;
        }
        if (!u->has_credentials) {
          auto created = u->account.created;
          u->account = make_account(u->account.jid, u->password, config.scram_iterations);
          u->account.created = created;
        }
        res.skipped_elements += u->skipped_elements;
        if (!db.accounts().create(u->account)) {
          ++res.existing;
          return;
        }
        for (const auto& item : u->roster) db.roster().put(u->account.jid, item);
        res.roster_items += u->roster.size();
        ++res.imported;
        if (++in_batch >= kBatch) {
          db.commit();
          db.begin();
          in_batch = 0;
        }
      },
      res.errors);
  std::vector<char> buf(1 << 20);
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    ok = reader.feed(buf.data(), static_cast<size_t>(in.gcount()), false);
  }
  if (ok) reader.feed(nullptr, 0, true);
  db.commit();
  return res;
}

}  // namespace causerie
