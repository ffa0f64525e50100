#include "core/module/submitted_form.hpp"

#include <algorithm>

namespace causerie {

namespace {

bool single_valued(std::string_view type) {
  return type.empty() || type == "boolean" || type == "hidden" || type == "jid-single" || type == "list-single" ||
         type == "text-private" || type == "text-single";
}

std::string label_of(const xml::FormField& f) { return f.label.empty() ? "'" + f.var + "'" : "'" + f.label + "'"; }

}  // namespace

tl::expected<SubmittedForm, std::string> SubmittedForm::check(const xml::DataForm& shown,
                                                              const xml::DataForm& submitted) {
  if (submitted.type != "submit" && submitted.type != "cancel")
    return tl::unexpected(std::string("the data form must be of type 'submit'"));
  const std::string expected_type = shown.form_type();
  if (const xml::FormField* ft = submitted.field("FORM_TYPE"); ft && !expected_type.empty() && ft->value() != expected_type)
    return tl::unexpected("the form's FORM_TYPE must be '" + expected_type + "'");
  SubmittedForm out;
  out.form_.type = "submit";
  for (const xml::FormField& f : shown.fields) {
    if (f.type == "fixed" || f.var.empty()) continue;
    const xml::FormField* got = submitted.field(f.var);
    std::vector<std::string> values = got ? got->values : std::vector<std::string>{};
    bool empty = std::all_of(values.begin(), values.end(), [](const std::string& v) { return v.empty(); });
    if (f.required && empty) return tl::unexpected("the field " + label_of(f) + " is required");
    if (!got) continue;
    if (single_valued(f.type) && values.size() > 1)
      return tl::unexpected("the field " + label_of(f) + " takes a single value");
    if (f.type == "boolean") {
      for (const auto& v : values)
        if (!xml::parse_form_bool(v)) return tl::unexpected("the field " + label_of(f) + " must be true or false");
    } else if (f.type == "jid-single" || f.type == "jid-multi") {
      for (auto& v : values) {
        if (v.empty() && f.type == "jid-single") continue;
        auto j = Jid::parse(v);
        if (!j) return tl::unexpected("'" + v + "' in the field " + label_of(f) + " is not a valid JID");
        v = j->str();
      }
      if (f.type == "jid-multi") std::erase(values, std::string());
    } else if ((f.type == "list-single" || f.type == "list-multi") && !f.validate_open && !f.options.empty()) {
      for (const auto& v : values) {
        if (v.empty() && f.type == "list-single") continue;
        bool known = std::any_of(f.options.begin(), f.options.end(), [&](const auto& o) { return o.second == v; });
        if (!known) return tl::unexpected("'" + v + "' is not one of the choices of the field " + label_of(f));
      }
    }
    out.form_.add(f.var, f.type, std::move(values), f.label);
  }
  return out;
}

std::vector<std::string> SubmittedForm::values(std::string_view var) const {
  const xml::FormField* f = form_.field(var);
  return f ? f->values : std::vector<std::string>{};
}

std::string SubmittedForm::lines(std::string_view var) const {
  std::string out;
  for (const auto& v : values(var)) out += (out.empty() ? "" : "\n") + v;
  return out;
}

bool SubmittedForm::boolean(std::string_view var, bool fallback) const {
  const xml::FormField* f = form_.field(var);
  if (!f || f->values.empty()) return fallback;
  return xml::parse_form_bool(f->values.front()).value_or(fallback);
}

std::optional<Jid> SubmittedForm::jid(std::string_view var) const {
  std::string v = text(var);
  if (v.empty()) return std::nullopt;
  auto j = Jid::parse(v);
  return j ? std::optional<Jid>(*j) : std::nullopt;
}

std::vector<Jid> SubmittedForm::jids(std::string_view var) const {
  std::vector<Jid> out;
  for (const auto& v : values(var))
    if (auto j = Jid::parse(v)) out.push_back(*j);
  return out;
}

}  // namespace causerie
