// XEP-0045 v1.35 §7.10 (registering with a room) and §9.9 (approving registration requests): the
// muc#register data forms (FORM_TYPE http://jabber.org/protocol/muc#register, §15.5.1) — the form a user
// fills, reading a submitted one, and the approval form sent to admins and owners. Who may register is
// check_registration in privileges.hpp. Pure functions, any thread; tests: tests/unit/muc_registration_test.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"

namespace causerie::modules::muc {

// What a user submitted. Only the nickname is acted on; the rest is shown to the approving admins.
struct RegistrationRequest {
  std::string nick;  // muc#register_roomnick, resourceprep'd and checked (§17.1)
  std::string first, last, url, email;
  std::vector<std::string> faq;  // muc#register_faqentry (text-multi)
};

// §7.10: the form of a user not yet registered, or (with the nickname filled in) of one who is.
xml::DataForm registration_form(std::string_view room, std::string_view current_nick);

// A submitted form: bad-request when it is no muc#register submission (§7.10), not-acceptable without a
// nickname or with a value over `max_text` bytes (XEP-0077 §3.1), the nickname's own error (§17.1).
tl::expected<RegistrationRequest, StanzaError> parse_registration_form(const xml::DataForm& form, size_t max_nick_chars,
                                                                       size_t max_text);

// §9.9: the recommended approval form plus muc#jid (the user's bare JID, as in the §8.6 voice approval
// form: the request must say who asks), muc#register_allow unset.
xml::DataForm approval_form(const RegistrationRequest& r, std::string_view user_bare, std::string_view room);

struct ApprovalAnswer {
  bool allow = false;
  std::string jid;  // the user's bare JID
  RegistrationRequest request;
};
// An admin's submitted approval form. Only an approval (allow true) is read further: the nickname is
// checked as above and muc#jid must name a user (jid-malformed).
tl::expected<ApprovalAnswer, StanzaError> parse_approval_form(const xml::DataForm& form, size_t max_nick_chars,
                                                              size_t max_text);

}  // namespace causerie::modules::muc
