#include "modules/mam/archive_rules.hpp"

#include <algorithm>

#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/rsm.hpp"
#include "core/util/encoding.hpp"

namespace causerie::modules::mam {

namespace {

constexpr const char* kFormType = "FORM_TYPE";

bool has_hint(const xml::Element& message, std::string_view name) {
  return message.child(name, ns::kHints) != nullptr;
}

StanzaError bad_request(std::string text) { return StanzaError(StanzaErrorCondition::kBadRequest, std::move(text)); }

}  // namespace

bool should_archive(const xml::Element& message) {
  std::string_view type = message.attr("type");
  if (!type.empty() && type != "chat" && type != "normal") return false;  // error, groupchat, headline
  if (has_hint(message, "no-store") || has_hint(message, "no-permanent-store")) return false;
  if (has_hint(message, "store")) return true;
  return message.child("body", ns::kClient) != nullptr || message.child("retract", ns::kRetract) != nullptr;
}

std::string body_text(const xml::Element& message) {
  std::string out;
  for (const xml::Element* b : message.children("body", ns::kClient)) {
    if (!out.empty()) out += '\n';
    out += b->text();
  }
  return out;
}

std::string strip_stanza_ids(xml::Element& message, const std::function<bool(std::string_view)>& ours,
                             std::string_view keep_by) {
  std::string kept;
  auto& nodes = message.nodes();
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                             [&](const xml::Element& c) {
                               if (!c.is("stanza-id", ns::kStanzaId)) return false;
                               std::string_view by = c.attr("by");
                               if (!ours(by)) return false;
                               if (!keep_by.empty() && by == keep_by && kept.empty()) kept = c.attr("id");
                               return true;
                             }),
              nodes.end());
  return kept;
}

// The store relies on this form (storage::archive_id_time_ms): it finds these ids by their time.
std::string new_archive_id(int64_t now_ms) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";  // base32hex: sorts like the number
  std::string id(9, '0');
  auto v = static_cast<uint64_t>(std::max<int64_t>(now_ms, 0));
  for (size_t i = id.size(); i-- > 0; v >>= 5) id[i] = kDigits[v & 31];
  // 9 bytes from the CSPRNG, drawn 4 KiB at a time per thread: a RAND_bytes call per id (its locks,
  // provider look-ups and fork check) was ~5% of the core on the archive-on bench.
  constexpr size_t kRandomBytes = 9, kPool = 4095;  // a multiple of 9
  thread_local std::string pool;
  thread_local size_t used = 0;
  if (used + kRandomBytes > pool.size()) {
    pool = util::random_bytes(kPool);
    used = 0;
  }
  id += util::base64url_encode(std::string_view(pool).substr(used, kRandomBytes));
  // Used bytes are overwritten: nothing left in memory tells an id already given.
  std::fill_n(pool.begin() + static_cast<std::ptrdiff_t>(used), kRandomBytes, '\0');
  used += kRandomBytes;
  return id;
}

void add_stanza_id(xml::Element& message, std::string_view by, std::string_view id) {
  message.add_child("stanza-id", ns::kStanzaId).set_attr("by", by).set_attr("id", id);
}

bool list_matches(const std::vector<std::string>& list, const Jid& target) {
  for (const auto& entry : list) {
    // XEP-0441 §2.3.1: a listed full JID is compared as is, a listed bare JID with the target's bare JID.
    bool full = entry.find('/') != std::string::npos;
    if (full ? entry == target.str() : entry == target.bare_view()) return true;
  }
  return false;
}

Decision decide(const storage::ArchivePrefs& prefs, const Jid& target) {
  // A JID in both lists is not archived: the safer reading of a contradiction.
  if (list_matches(prefs.never, target)) return Decision::kSkip;
  if (list_matches(prefs.always, target)) return Decision::kArchive;
  if (prefs.default_mode == "never") return Decision::kSkip;
  if (prefs.default_mode == "roster") return Decision::kAskRoster;
  return Decision::kArchive;
}

xml::Element prefs_element(const storage::ArchivePrefs& prefs) {
  xml::Element p("prefs", ns::kMam);
  p.set_attr("default", prefs.default_mode);
  xml::Element& always = p.add_child("always");
  for (const auto& j : prefs.always) always.add_text_child("jid", j);
  xml::Element& never = p.add_child("never");
  for (const auto& j : prefs.never) never.add_text_child("jid", j);
  return p;
}

tl::expected<storage::ArchivePrefs, StanzaError> parse_prefs(const xml::Element& el) {
  constexpr size_t kMaxJids = 1000;  // per list: every message is checked against them
  storage::ArchivePrefs p;
  p.default_mode = std::string(el.attr("default"));
  if (p.default_mode != "always" && p.default_mode != "never" && p.default_mode != "roster")
    return tl::unexpected(bad_request("default must be always, never or roster"));
  for (auto [name, list] : {std::pair{"always", &p.always}, std::pair{"never", &p.never}}) {
    const xml::Element* l = el.child(name, ns::kMam);
    if (!l) continue;
    for (const xml::Element* j : l->children("jid", ns::kMam)) {
      auto jid = Jid::parse(j->text());
      if (!jid) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, j->text()));
      if (std::find(list->begin(), list->end(), jid->str()) == list->end()) list->push_back(jid->str());
      if (list->size() > kMaxJids) return tl::unexpected(StanzaError(StanzaErrorCondition::kNotAcceptable, "too many JIDs"));
    }
  }
  return p;
}

xml::DataForm query_form() {
  xml::DataForm f;
  f.type = "form";
  f.add(kFormType, "hidden", {ns::kMam});
  f.add("with", "jid-single", {});
  f.add("start", "text-single", {});
  f.add("end", "text-single", {});
  f.add("before-id", "text-single", {});
  f.add("after-id", "text-single", {});
  xml::FormField& ids = f.add("ids", "list-multi", {});
  ids.validate_datatype = "xs:string";
  ids.validate_open = true;  // §4.1.6: the list is open, never enumerated
  f.add(kFulltextField, "text-single", {}, "Words the message body contains");
  return f;
}

tl::expected<ParsedQuery, StanzaError> parse_query(const xml::Element& query, size_t default_page, size_t max_page) {
  constexpr size_t kMaxIds = 250;
  ParsedQuery out;
  out.queryid = std::string(query.attr("queryid"));
  out.flip = query.child("flip-page", ns::kMam) != nullptr;
  storage::ArchiveQuery& q = out.query;
  if (const xml::Element* x = query.child("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*x);
    if (!form || (form->type != "submit" && form->type != "form")) return tl::unexpected(bad_request("a submitted form is expected"));
    if (const auto* ft = form->field(kFormType); ft && ft->value() != ns::kMam)
      return tl::unexpected(bad_request("FORM_TYPE must be urn:xmpp:mam:2"));
    for (const auto& f : form->fields) {
      const std::string& v = f.value();
      if (f.var == kFormType) continue;
      if (f.var == "with") {
        if (v.empty()) continue;
        auto jid = Jid::parse(v);
        if (!jid) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "with: " + v));
        q.with = jid->str();
      } else if (f.var == "start" || f.var == "end") {
        if (v.empty()) continue;
        auto t = util::parse_datetime(v);
        if (!t) return tl::unexpected(bad_request(f.var + ": a XEP-0082 DateTime is expected"));
        int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
        (f.var == "start" ? q.start_ms : q.end_ms) = ms;
      } else if (f.var == "before-id") {
        if (!v.empty()) q.before.push_back(v);
      } else if (f.var == "after-id") {
        if (!v.empty()) q.after.push_back(v);
      } else if (f.var == "ids") {
        for (const auto& id : f.values)
          if (!id.empty()) q.ids.push_back(id);
        if (q.ids.size() > kMaxIds) return tl::unexpected(StanzaError(StanzaErrorCondition::kPolicyViolation, "too many ids"));
        if (q.ids.empty()) return tl::unexpected(bad_request("ids: at least one id"));
      } else if (f.var == kFulltextField) {
        q.fulltext = v;
      } else {
        return tl::unexpected(StanzaError(StanzaErrorCondition::kFeatureNotImplemented, "unknown field " + f.var));
      }
    }
  }
  auto rsm = xml::parse_rsm(query);
  if (!rsm.error.empty()) return tl::unexpected(bad_request(rsm.error));
  q.limit = default_page;
  if (rsm.request) {
    const xml::RsmRequest& r = *rsm.request;
    if (r.index) return tl::unexpected(StanzaError(StanzaErrorCondition::kFeatureNotImplemented, "RSM index is not supported"));
    if (r.max) q.limit = std::min(*r.max, max_page);
    if (r.after) {
      if (r.after->empty()) return tl::unexpected(bad_request("an empty <after/>"));
      q.after.push_back(*r.after);
    }
    if (r.before) {
      // XEP-0059 §2.5: an empty <before/> asks for the last page; with an id, the page before it.
      q.from_end = true;
      if (!r.before->empty()) q.before.push_back(*r.before);
    }
  }
  return out;
}

std::string retracted_id(const xml::Element& message) {
  // Only a conversation message retracts: an error bouncing a retraction carries its payload back.
  std::string_view type = message.attr("type");
  if (!type.empty() && type != "chat" && type != "normal") return {};
  const xml::Element* r = message.child("retract", ns::kRetract);
  return r ? std::string(r->attr("id")) : std::string();
}

xml::Element tombstone(const xml::Element& original, std::string_view retraction_id, std::string_view stamp) {
  xml::Element t(original.name(), original.ns());
  for (const auto& a : original.attrs()) t.set_attr(a.name, a.value);
  t.add_child("retracted", ns::kRetract).set_attr("id", retraction_id).set_attr("stamp", stamp);
  return t;
}

xml::Element moderated_tombstone(const xml::Element& original, const xml::Element& moderated, std::string_view reason,
                                 std::string_view stamp) {
  xml::Element t(original.name(), original.ns());
  for (const auto& a : original.attrs()) t.set_attr(a.name, a.value);
  if (const xml::Element* oid = original.child("occupant-id", ns::kOccupantId)) t.add(*oid);
  xml::Element& r = t.add_child("retracted", ns::kRetract);
  r.set_attr("stamp", stamp);
  r.add(moderated);
  if (!reason.empty()) r.add_text_child("reason", std::string(reason));
  return t;
}

std::optional<xml::Element> result_message(std::string_view from, std::string_view queryid,
                                           const storage::ArchivedMessage& m) {
  auto inner = xml::parse_fragment(m.xml);
  if (!inner) return std::nullopt;
  xml::Element msg("message", ns::kClient);
  msg.set_attr("from", from);
  msg.set_attr("id", util::random_id(9));
  xml::Element& result = msg.add_child("result", ns::kMam);
  if (!queryid.empty()) result.set_attr("queryid", queryid);
  result.set_attr("id", m.id);
  xml::Element& fwd = result.add_child("forwarded", ns::kForward);
  fwd.add_child("delay", ns::kDelay)
      .set_attr("stamp", util::format_datetime(std::chrono::system_clock::time_point(std::chrono::milliseconds(m.time_ms()))));
  fwd.add(std::move(*inner));
  return msg;
}

xml::Element fin_element(const storage::ArchivePage& page) {
  xml::Element fin("fin", ns::kMam);
  if (page.complete) fin.set_attr("complete", "true");
  xml::RsmResult rsm;
  if (!page.messages.empty()) {
    rsm.first = page.messages.front().id;
    rsm.last = page.messages.back().id;
  }
  fin.add(xml::to_element(rsm));
  return fin;
}

}  // namespace causerie::modules::mam
