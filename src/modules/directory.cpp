// XEP-0055 v1.3 user directory (opt-in through XEP-0077 registration with the service), XEP-0433 v0.1
// channel search and urn:causerie:explore:0 (post search, people), all on search.<host> (see
// directory.hpp, channel_search.hpp and explore/explore.hpp).
#include "modules/directory.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/xml/data_form.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/channel_search.hpp"
#include "modules/explore/explore.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace directory {

namespace {

constexpr const char* kVcard = ns::kVcard;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool has(const std::string& value, const std::string& fragment_lower) {
  return fragment_lower.empty() || lower(value).find(fragment_lower) != std::string::npos;
}

}  // namespace

Entry make_entry(std::string jid, std::string_view listing, std::string_view vcard) {
  Entry e;
  e.jid = std::move(jid);
  e.nick = std::string(listing);
  if (!vcard.empty()) {
    if (auto v = xml::parse_fragment(vcard, 64 * 1024)) {
      if (e.nick.empty()) e.nick = v->child_text("NICKNAME", kVcard);
      e.full_name = v->child_text("FN", kVcard);
      if (const xml::Element* n = v->child("N", kVcard)) {
        e.first = n->child_text("GIVEN", kVcard);
        e.last = n->child_text("FAMILY", kVcard);
      }
      if (const xml::Element* mail = v->child("EMAIL", kVcard)) e.email = mail->child_text("USERID", kVcard);
    }
  }
  return e;
}

tl::expected<Request, StanzaError> parse_request(const xml::Element& query) {
  Request r;
  if (const xml::Element* x = query.child("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*x);
    if (!form || form->type != "submit" || form->form_type() != kSearch)
      return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "submit the jabber:iq:search form"));
    r.form = true;
    r.query.nick = lower(form->value("nick"));
    r.query.first = lower(form->value("first"));
    r.query.last = lower(form->value("last"));
    r.query.name = lower(form->value("name"));
    r.query.email = lower(form->value("email"));
    r.query.jid = lower(form->value("jid"));
  } else {
    r.query.nick = lower(query.child_text("nick", kSearch));
    r.query.first = lower(query.child_text("first", kSearch));
    r.query.last = lower(query.child_text("last", kSearch));
    r.query.email = lower(query.child_text("email", kSearch));
  }
  // Listed users chose to be found, not to be enumerated: a search names something, two letters at least.
  if (r.query.empty())
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "fill in at least one field"));
  for (const std::string* f : {&r.query.nick, &r.query.first, &r.query.last, &r.query.name, &r.query.email, &r.query.jid})
    if (f->size() == 1) return tl::unexpected(StanzaError(StanzaErrorCondition::kNotAcceptable, "at least two characters per field"));
  return r;
}

bool matches(const Entry& e, const Query& q) {
  bool name_ok = q.name.empty() || has(e.full_name, q.name) || has(e.first + " " + e.last, q.name) || has(e.nick, q.name);
  return has(e.nick, q.nick) && has(e.first, q.first) && has(e.last, q.last) && name_ok && has(e.email, q.email) &&
         has(e.jid, q.jid);
}

xml::Element search_fields() {
  xml::Element q("query", kSearch);
  q.add_text_child("instructions",
                   "Find users of this server who chose to be listed (register with this service to be listed "
                   "yourself). Fill in one field or more; parts of words match.",
                   kSearch);
  for (const char* f : {"first", "last", "nick", "email"}) q.add_child(f, kSearch);
  xml::DataForm form;
  form.title = "User directory";
  form.instructions = "Fill in one field or more; parts of words match.";
  form.add("FORM_TYPE", "hidden", {kSearch});
  form.add("nick", "text-single", {}, "Nickname");
  form.add("name", "text-single", {}, "Name");
  form.add("first", "text-single", {}, "Given name");
  form.add("last", "text-single", {}, "Family name");
  form.add("email", "text-single", {}, "Email");
  form.add("jid", "text-single", {}, "Address (part of it)");
  q.add(form.to_element());
  return q;
}

xml::Element results(const std::vector<Entry>& found, bool form) {
  xml::Element q("query", kSearch);
  if (!form) {
    for (const auto& e : found) {
      xml::Element& item = q.add_child("item", kSearch);
      item.set_attr("jid", e.jid);
      item.add_text_child("first", e.first, kSearch);
      item.add_text_child("last", e.last, kSearch);
      item.add_text_child("nick", e.nick, kSearch);
      item.add_text_child("email", e.email, kSearch);
    }
    return q;
  }
  xml::Element& x = q.add_child("x", ns::kDataForms);
  x.set_attr("type", "result");
  xml::Element& ft = x.add_child("field", ns::kDataForms);
  ft.set_attr("type", "hidden").set_attr("var", "FORM_TYPE");
  ft.add_text_child("value", kSearch, ns::kDataForms);
  struct Column {
    const char* var;
    const char* label;
    const char* type;
    std::string Entry::*member;
  };
  static const Column kColumns[] = {{"jid", "Address", "jid-single", &Entry::jid},
                                    {"nick", "Nickname", "text-single", &Entry::nick},
                                    {"name", "Name", "text-single", &Entry::full_name},
                                    {"first", "Given name", "text-single", &Entry::first},
                                    {"last", "Family name", "text-single", &Entry::last},
                                    {"email", "Email", "text-single", &Entry::email}};
  xml::Element& reported = x.add_child("reported", ns::kDataForms);
  for (const auto& c : kColumns)
    reported.add_child("field", ns::kDataForms).set_attr("var", c.var).set_attr("label", c.label).set_attr("type", c.type);
  for (const auto& e : found) {
    xml::Element& item = x.add_child("item", ns::kDataForms);
    for (const auto& c : kColumns) {
      xml::Element& f = item.add_child("field", ns::kDataForms);
      f.set_attr("var", c.var);
      f.add_text_child("value", e.*c.member, ns::kDataForms);
    }
  }
  return q;
}

namespace {

constexpr const char* kListingStore = explore::kListingStore;  // kv: owner → the nickname it is listed under

class DirectoryModule final : public Module {
 public:
  explicit DirectoryModule(ModuleContext& ctx) : ctx_(ctx) {
    const RawConfig& raw = ctx.raw_config();
    if (!raw.get_bool("modules.directory.enabled").value_or(true)) return;
    std::string pattern = raw.get_string("modules.directory.domain").value_or("search.{host}");
    int64_t max = raw.get_int("modules.directory.max_results").value_or(50);
    if (max < 1 || max > 1000) throw ConfigError("config key 'modules.directory.max_results': expected 1 to 1000");
    max_results_ = static_cast<size_t>(max);
    if (pattern.find("{host}") == std::string::npos)
      throw ConfigError("config key 'modules.directory.domain': every host needs its own service ('{host}' in the name)");
    pattern_ = pattern;
    for (const auto& h : ctx.config().hosts) serve_host(h);
    ctx.on_host_added([this](const HostConfig& h) { serve_host(h); });
  }

  // The directory service of one host (at startup, and when a reload adds a host).
  void serve_host(const HostConfig& h) {
    if (h.anonymous) return;  // guests have nobody to find
    std::string domain = pattern_;
    domain.replace(domain.find("{host}"), 6, h.name);
    auto prepared = prep_domainpart(domain);
    if (!prepared || *prepared != domain)
      throw ConfigError("config key 'modules.directory.domain': '" + domain + "' is not a usable service domain");
    std::string host = h.name;
    ctx_.add_service(domain, [this, host](Stanza&& st, ClientSession*) { on_stanza(host, std::move(st)); });
    ctx_.disco().add_server_item({h.name, domain, "User directory and channel search"});
  }

  void on_stanza(const std::string& host, Stanza&& st) {
    std::string_view type = st.type();
    if (!st.is_iq() || (type != "get" && type != "set")) return;
    IqResponder reply = ctx_.router().responder_for(st);
    const xml::Element* q = nullptr;
    for (const auto& n : st.element().nodes())
      if (!n.is_text()) q = &n;
    if (!q || !st.to().is_domain() || st.to().has_resource()) {
      reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    }
    if (q->is("query", ns::kDiscoInfo) && type == "get") {
      if (!q->attr("node").empty()) return reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      reply.result(DiscoRegistry::info_query({DiscoIdentity{"directory", "user", "User directory"},
                                              DiscoIdentity{"directory", "chatroom", "Channel search"}},
                                             {ns::kDiscoInfo, ns::kDiscoItems, kSearch, ns::kRegister,
                                              channel_search::kSearch, explore::kNs}));
      return;
    }
    if (q->is("query", ns::kDiscoItems) && type == "get") {
      reply.result(xml::Element("query", ns::kDiscoItems));
      return;
    }
    // Only this server's own accounts use the directory: it is theirs (XEP-0055 §8, harvesting).
    const Jid& from = st.from();
    const HostConfig* from_host = from.has_localpart() ? ctx_.config().find_host(from.domainpart()) : nullptr;
    if (!from_host || from_host->anonymous) {
      reply.error(StanzaError(StanzaErrorCondition::kForbidden, "for this server's users only"));
      return;
    }
    if (q->is("query", kSearch)) {
      if (type == "get") return reply.result(search_fields());
      return search(*q, reply);
    }
    if (q->is("query", ns::kRegister)) return registration(from.bare().str(), *q, type == "set", reply);
    if (q->is("search", channel_search::kSearch)) return channels(host, *q, reply);
    if (q->is("posts", explore::kNs) && type == "get") return explore::posts(ctx_, *q, paging(), reply);
    if (q->is("people", explore::kNs) && type == "get") return explore::people(ctx_, *q, paging(), reply);
    reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));
  }

  // XEP-0077 with the service: being listed. The form's only field is the nickname shown.
  void registration(std::string owner, const xml::Element& q, bool set, IqResponder reply) {
    if (!set) {
      ctx_.storage().read([owner, reply](storage::Storage& db) {
        auto listing = db.kv().get(owner, kListingStore, "");
        xml::Element out("query", ns::kRegister);
        out.add_text_child("instructions",
                           "Register to be listed in this server's user directory, under the nickname you give "
                           "(and your vCard's names). Cancel the registration to be unlisted.",
                           ns::kRegister);
        if (listing) out.add_child("registered", ns::kRegister);
        out.add_text_child("nick", listing.value_or(""), ns::kRegister);
        reply.result(std::move(out));
      });
      return;
    }
    if (q.child("remove", ns::kRegister)) {
      ctx_.storage().write([owner, reply](storage::Storage& db) -> storage::StorageService::Completion {
        bool listed = db.kv().get(owner, kListingStore, "").has_value();
        db.kv().remove(owner, kListingStore, "");
        return [reply, listed, owner] {
          if (!listed) return reply.error(StanzaError(StanzaErrorCondition::kItemNotFound, "you are not listed"));
          spdlog::info("directory: {} unlisted", owner);
          reply.result();
        };
      });
      return;
    }
    std::string nick = q.child_text("nick", ns::kRegister);
    if (nick.size() > 256) return reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "a shorter nickname"));
    ctx_.storage().write([owner, nick, reply](storage::Storage& db) -> storage::StorageService::Completion {
      db.kv().put(owner, kListingStore, "", nick);
      return [reply, owner] {
        spdlog::info("directory: {} listed", owner);
        reply.result();
      };
    });
  }

  void search(const xml::Element& q, IqResponder reply) {
    auto request = parse_request(q);
    if (!request) return reply.error(request.error());
    size_t max = max_results_;
    ctx_.storage().read([request = *request, max, reply](storage::Storage& db) {
      std::vector<Entry> found;
      // The listed users only: their own choice (XEP-0055 §8 leaves who is searchable to the service).
      for (auto& [owner, nick] : db.kv().all(kListingStore, "", 100000)) {
        Entry e = make_entry(owner, nick, db.kv().get(owner, "vcard", "").value_or(""));
        if (!matches(e, request.query)) continue;
        found.push_back(std::move(e));
        if (found.size() == max) break;
      }
      reply.result(results(found, request.form));
    });
  }

  // XEP-0433: the form, or a page of the channels every lister of the host knows.
  void channels(const std::string& host, const xml::Element& q, IqResponder reply) {
    const xml::Element* x = q.child("x", ns::kDataForms);
    if (!x) {
      xml::Element out("search", channel_search::kSearch);
      out.add(channel_search::search_form().to_element());
      return reply.result(std::move(out));
    }
    auto form = xml::DataForm::parse(*x);
    if (!form) return reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "not a data form"));
    auto query = channel_search::parse_query(*form);
    if (!query) return reply.error(query.error());
    auto rsm = xml::parse_rsm(q);
    if (!rsm.error.empty()) return reply.error(StanzaError(StanzaErrorCondition::kBadRequest, rsm.error));
    const auto& listers = ctx_.disco().channel_listers();
    struct Gather {
      std::mutex m;
      std::vector<ChannelInfo> channels;
      size_t waiting;
    };
    auto g = std::make_shared<Gather>();
    g->waiting = listers.size();
    size_t page = max_results_;
    auto finish = [g, query = *query, request = rsm.request, reply, page] {
      auto sorted = channel_search::select(std::move(g->channels), query);
      auto result = channel_search::result_page(sorted, query, request, page);
      if (!result) return reply.error(result.error());
      reply.result(std::move(*result));
    };
    if (listers.empty()) return finish();
    for (const auto& lister : listers) {
      lister(host, [g, finish](std::vector<ChannelInfo> found) {
        bool last;
        {
          std::lock_guard lock(g->m);
          for (auto& c : found) g->channels.push_back(std::move(c));
          last = --g->waiting == 0;
        }
        if (last) finish();
      });
    }
  }

  explore::Paging paging() const { return explore::Paging{std::min<size_t>(20, max_results_), max_results_}; }

  ModuleContext& ctx_;
  size_t max_results_ = 50;
  std::string pattern_;  // modules.directory.domain, "{host}" standing for each host
};

}  // namespace

}  // namespace directory

std::unique_ptr<Module> make_directory(ModuleContext& ctx) { return std::make_unique<directory::DirectoryModule>(ctx); }

}  // namespace causerie::modules
