// DataForm: XEP-0004 data forms (jabber:x:data) as a value, with XEP-0068 FORM_TYPE helpers.
// Used for disco extensions (XEP-0128), node and room configuration, and publish-options.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::xml {

struct FormField {
  std::string var;
  std::string type;  // "" (text-single), boolean, fixed, hidden, jid-multi, jid-single, list-multi, …
  std::string label;
  std::string desc;
  bool required = false;
  std::vector<std::string> values;
  std::vector<std::pair<std::string, std::string>> options;  // label, value
  // XEP-0122 validation: a datatype ("xs:language", …) and, for list fields, whether values beyond the
  // options are accepted (<open/>). Empty datatype: no <validate/> element.
  std::string validate_datatype;
  bool validate_open = false;

  const std::string& value() const;  // first value or ""
};

struct DataForm {
  std::string type = "form";  // form | submit | cancel | result
  std::string title, instructions;
  std::vector<FormField> fields;

  const FormField* field(std::string_view var) const;
  FormField* field(std::string_view var);
  std::string value(std::string_view var) const;
  std::string form_type() const { return value("FORM_TYPE"); }
  FormField& add(std::string var, std::string type, std::vector<std::string> values, std::string label = {});

  Element to_element() const;
  // nullopt when `x` is not a jabber:x:data form.
  static std::optional<DataForm> parse(const Element& x);
};

// XEP-0004 §3.3: boolean values are "1"/"true" and "0"/"false".
std::optional<bool> parse_form_bool(std::string_view v);

}  // namespace causerie::xml
