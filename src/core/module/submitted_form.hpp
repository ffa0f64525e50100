// SubmittedForm: a XEP-0004 form of type "submit", checked against the form that was shown, so that a
// command reads typed values and never has to re-validate. What check() enforces (XEP-0004 §3.3):
//  - the submission is <x type='submit'/> (XEP-0050 §4.3 says to take type='cancel' like 'submit');
//  - FORM_TYPE, when the shown form had one and the submission names one, is the same (XEP-0068);
//  - every <required/> field has a non-empty value;
//  - single-valued types (boolean, hidden, jid-single, list-single, text-private, text-single) carry at
//    most one value; booleans are 0/1/true/false; jid-single and jid-multi values are valid JIDs
//    (RFC 7622, prepared: jid() and jids() return them prepared); list values are among the options
//    unless the field was shown with an XEP-0122 <open/>.
// Fields the shown form did not have are dropped; fields of type "fixed" are ignored.
//
// A plain value type: any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/jid/jid.hpp"
#include "core/xml/data_form.hpp"

namespace causerie {

class SubmittedForm {
 public:
  // The checked submission, or the reason it is refused (one sentence naming the field, for a <text/>).
  static tl::expected<SubmittedForm, std::string> check(const xml::DataForm& shown, const xml::DataForm& submitted);

  bool has(std::string_view var) const { return form_.field(var) != nullptr; }
  // First value, or "" when the field was not submitted.
  std::string text(std::string_view var) const { return form_.value(var); }
  // Every value (text-multi lines, list-multi choices); empty when not submitted.
  std::vector<std::string> values(std::string_view var) const;
  // text-multi: the lines joined with '\n'.
  std::string lines(std::string_view var) const;
  // A boolean field; `fallback` when it was not submitted.
  bool boolean(std::string_view var, bool fallback = false) const;
  // A jid-single field, prepared; nullopt when not submitted.
  std::optional<Jid> jid(std::string_view var) const;
  std::vector<Jid> jids(std::string_view var) const;
  const xml::DataForm& form() const { return form_; }

 private:
  xml::DataForm form_;
};

}  // namespace causerie
