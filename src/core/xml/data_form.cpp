#include "core/xml/data_form.hpp"

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

namespace {
const std::string kEmpty;
}

const std::string& FormField::value() const { return values.empty() ? kEmpty : values.front(); }

const FormField* DataForm::field(std::string_view var) const {
  for (const auto& f : fields)
    if (f.var == var) return &f;
  return nullptr;
}

FormField* DataForm::field(std::string_view var) {
  for (auto& f : fields)
    if (f.var == var) return &f;
  return nullptr;
}

std::string DataForm::value(std::string_view var) const {
  const FormField* f = field(var);
  return f ? f->value() : std::string();
}

FormField& DataForm::add(std::string var, std::string type, std::vector<std::string> values, std::string label) {
  FormField f;
  f.var = std::move(var);
  f.type = std::move(type);
  f.values = std::move(values);
  f.label = std::move(label);
  fields.push_back(std::move(f));
  return fields.back();
}

Element DataForm::to_element() const {
  Element x("x", ns::kDataForms);
  x.set_attr("type", type);
  if (!title.empty()) x.add_text_child("title", title);
  if (!instructions.empty()) x.add_text_child("instructions", instructions);
  for (const auto& f : fields) {
    Element& fe = x.add_child("field");
    if (!f.var.empty()) fe.set_attr("var", f.var);
    if (!f.type.empty()) fe.set_attr("type", f.type);
    if (!f.label.empty()) fe.set_attr("label", f.label);
    if (!f.desc.empty()) fe.add_text_child("desc", f.desc);
    if (f.required) fe.add_child("required");
    for (const auto& v : f.values) fe.add_text_child("value", v);
    for (const auto& [label, value] : f.options) {
      Element& o = fe.add_child("option");
      if (!label.empty()) o.set_attr("label", label);
      o.add_text_child("value", value);
    }
    if (!f.validate_datatype.empty()) {
      Element& v = fe.add_child("validate", ns::kDataFormsValidate);
      v.set_attr("datatype", f.validate_datatype);
      if (f.validate_open) v.add_child("open", ns::kDataFormsValidate);
    }
  }
  return x;
}

std::optional<DataForm> DataForm::parse(const Element& x) {
  if (!x.is("x", ns::kDataForms)) return std::nullopt;
  DataForm form;
  form.type = std::string(x.attr("type"));
  form.title = x.child_text("title", ns::kDataForms);
  form.instructions = x.child_text("instructions", ns::kDataForms);
  for (const Element* fe : x.children("field", ns::kDataForms)) {
    FormField f;
    f.var = std::string(fe->attr("var"));
    f.type = std::string(fe->attr("type"));
    f.label = std::string(fe->attr("label"));
    f.required = fe->child("required", ns::kDataForms) != nullptr;
    for (const Element* v : fe->children("value", ns::kDataForms)) f.values.push_back(v->text());
    for (const Element* o : fe->children("option", ns::kDataForms))
      f.options.emplace_back(std::string(o->attr("label")), o->child_text("value", ns::kDataForms));
    if (const Element* v = fe->child("validate", ns::kDataFormsValidate)) {
      f.validate_datatype = std::string(v->attr("datatype"));
      f.validate_open = v->child("open", ns::kDataFormsValidate) != nullptr;
    }
    form.fields.push_back(std::move(f));
  }
  return form;
}

std::optional<bool> parse_form_bool(std::string_view v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return std::nullopt;
}

}  // namespace causerie::xml
