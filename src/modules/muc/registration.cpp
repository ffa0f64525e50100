#include "modules/muc/registration.hpp"

#include "core/jid/jid.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/muc/muc_stanzas.hpp"

namespace causerie::modules::muc {

namespace {

constexpr size_t kMaxFaqLines = 50;

StanzaError unacceptable(std::string text) {
  return StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify, std::move(text));
}

// The labels of the §15.5.1 registry.
void add_fields(xml::DataForm& f, const RegistrationRequest& r) {
  f.add("muc#register_first", "text-single", {r.first}, "Given Name");
  f.add("muc#register_last", "text-single", {r.last}, "Family Name");
  f.add("muc#register_roomnick", "text-single", {r.nick}, "Desired Nickname");
  f.add("muc#register_url", "text-single", {r.url}, "Your URL");
  f.add("muc#register_email", "text-single", {r.email}, "Email Address");
  f.add("muc#register_faqentry", "text-multi", r.faq, "FAQ Entry");
}

}  // namespace

xml::DataForm registration_form(std::string_view room, std::string_view current_nick) {
  xml::DataForm f;
  f.type = "form";
  f.title = "Registration with " + std::string(room);
  f.instructions = "Choose the nickname to reserve in this room; the other fields are optional.";
  f.add("FORM_TYPE", "hidden", {ns::kMucRegister});
  RegistrationRequest empty;
  empty.nick = current_nick;
  add_fields(f, empty);
  f.field("muc#register_roomnick")->required = true;
  return f;
}

tl::expected<RegistrationRequest, StanzaError> parse_registration_form(const xml::DataForm& form, size_t max_nick_chars,
                                                                       size_t max_text) {
  if (form.type != "submit" || form.form_type() != ns::kMucRegister)
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "a submitted muc#register form is expected"));
  RegistrationRequest r;
  for (const auto& f : form.fields)
    for (const auto& v : f.values)
      if (v.size() > max_text) return tl::unexpected(unacceptable("the value of " + f.var + " is too long"));
  r.first = form.value("muc#register_first");
  r.last = form.value("muc#register_last");
  r.url = form.value("muc#register_url");
  r.email = form.value("muc#register_email");
  if (const xml::FormField* faq = form.field("muc#register_faqentry")) {
    if (faq->values.size() > kMaxFaqLines) return tl::unexpected(unacceptable("the FAQ entry is too long"));
    r.faq = faq->values;
  }
  std::string raw = form.value("muc#register_roomnick");
  if (raw.empty()) return tl::unexpected(unacceptable("a nickname is required"));
  auto nick = prep_resourcepart(raw);
  if (!nick) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid nickname"));
  if (auto bad = check_nick(*nick, max_nick_chars)) return tl::unexpected(*bad);
  r.nick = std::move(*nick);
  return r;
}

xml::DataForm approval_form(const RegistrationRequest& r, std::string_view user_bare, std::string_view room) {
  xml::DataForm f;
  f.type = "form";
  f.title = "Registration request";
  f.instructions = std::string(user_bare) + " asks to register with " + std::string(room) +
                   ". To approve, select \"Allow this person to register with the room?\" and submit the form; "
                   "to skip it, cancel.";
  f.add("FORM_TYPE", "hidden", {ns::kMucRegister});
  add_fields(f, r);
  f.add("muc#jid", "jid-single", {std::string(user_bare)}, "User ID");
  f.add("muc#register_allow", "boolean", {"0"}, "Allow this person to register with the room?");
  return f;
}

tl::expected<ApprovalAnswer, StanzaError> parse_approval_form(const xml::DataForm& form, size_t max_nick_chars,
                                                              size_t max_text) {
  ApprovalAnswer a;
  a.allow = xml::parse_form_bool(form.value("muc#register_allow")).value_or(false);
  if (!a.allow) return a;  // a refusal changes nothing, whatever the rest says
  auto request = parse_registration_form(form, max_nick_chars, max_text);
  if (!request) return tl::unexpected(request.error());
  auto jid = Jid::parse(form.value("muc#jid"));
  if (!jid || !jid->has_localpart())
    return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "muc#jid names no user"));
  a.jid = std::string(jid->bare_view());
  a.request = std::move(*request);
  return a;
}

}  // namespace causerie::modules::muc
