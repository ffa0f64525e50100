#include "modules/spam_report.hpp"

#include "core/xml/namespaces.hpp"

namespace causerie::modules::spam_report {

Parsed parse(const xml::Element& item, std::string_view reporter, std::string_view reported) {
  Parsed out;
  const xml::Element* report = item.child("report", kNs);
  if (!report) return out;
  std::string_view reason = report->attr("reason");
  if (reason.empty()) {
    out.error = "a report needs a 'reason'";
    return out;
  }
  SpamReport r;
  r.reporter = std::string(reporter);
  r.reported = std::string(reported);
  r.reason = std::string(reason);
  for (const xml::Element* t : report->children("text", kNs)) {
    std::string text = t->text();
    // Trim the indentation clients put around the words.
    size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    text = text.substr(b, e - b + 1);
    std::string_view lang = t->attr("xml:lang");
    r.texts.push_back(lang.empty() ? text : "[" + std::string(lang) + "] " + text);
  }
  for (const xml::Element* s : report->children("stanza-id", kStanzaIdNs))
    r.stanza_ids.push_back({std::string(s->attr("id")), std::string(s->attr("by"))});
  r.original = *report;
  out.report = std::move(r);
  return out;
}

std::string describe(const SpamReport& r) {
  std::string why = r.reason == kSpam ? "spam" : r.reason == kAbuse ? "abuse" : r.reason;
  std::string s = r.reporter + " blocked and reported " + r.reported + " for " + why;
  for (const auto& t : r.texts) s += "\nText: " + t;
  for (const auto& id : r.stanza_ids) s += "\nMessage: " + id.id + (id.by.empty() ? "" : " (archive of " + id.by + ")");
  return s;
}

xml::Element admin_message(const SpamReport& r, std::string_view host, std::string_view admin) {
  xml::Element m("message", ns::kClient);
  m.set_attr("type", "normal").set_attr("from", host).set_attr("to", admin);
  m.add_text_child("subject", "Report: " + r.reported, ns::kClient);
  m.add_text_child("body", describe(r), ns::kClient);
  m.add(r.original);
  return m;
}

}  // namespace causerie::modules::spam_report
