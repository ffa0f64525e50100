#include "modules/pubsub/node_config.hpp"

#include <charconv>
#include <functional>

#include "core/jid/jid.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr size_t kMaxTextField = 4096;
constexpr size_t kMaxListField = 64;

const char* kAccessModels[] = {"open", "presence", "roster", "authorize", "whitelist"};
const char* kPublishModels[] = {"publishers", "subscribers", "open"};
const char* kSendLast[] = {"never", "on_sub", "on_sub_and_presence"};
const char* kNodeFull[] = {"retract-oldest", "discard-oldest", "reject"};
const char* kShowValues[] = {"away", "chat", "dnd", "online", "xa"};

template <size_t N>
int index_of(const char* const (&names)[N], std::string_view v) {
  for (size_t i = 0; i < N; ++i)
    if (v == names[i]) return static_cast<int>(i);
  return -1;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

StanzaError invalid(const std::string& var, const std::string& why) {
  return StanzaError(StanzaErrorCondition::kNotAcceptable, "configuration field " + var + ": " + why);
}

xml::FormField& list_single(xml::DataForm& f, const char* var, const char* value, const char* label,
                            std::initializer_list<const char*> options) {
  xml::FormField& field = f.add(var, "list-single", {value}, label);
  for (const char* o : options) field.options.emplace_back("", o);
  return field;
}

std::string bool_str(bool b) { return b ? "1" : "0"; }

// One field of a submitted configuration form applied to a configuration.
using FieldSetter = std::function<std::optional<StanzaError>(NodeConfig&, const xml::FormField&, const ServiceLimits&)>;

std::optional<StanzaError> set_bool(bool& out, const xml::FormField& f) {
  if (f.values.empty()) return std::nullopt;
  auto b = xml::parse_form_bool(f.value());
  if (!b) return invalid(f.var, "expected a boolean");
  out = *b;
  return std::nullopt;
}

std::optional<StanzaError> set_text(std::string& out, const xml::FormField& f) {
  std::string v = f.value();
  if (v.size() > kMaxTextField) return invalid(f.var, "too long");
  out = std::move(v);
  return std::nullopt;
}

template <typename E, size_t N>
std::optional<StanzaError> set_enum(E& out, const xml::FormField& f, const char* const (&names)[N]) {
  if (f.values.empty()) return std::nullopt;
  int i = index_of(names, f.value());
  if (i < 0) return invalid(f.var, "unsupported value '" + f.value() + "'");
  out = static_cast<E>(i);
  return std::nullopt;
}

#define BOOL_FIELD(name) \
  {"pubsub#" #name, [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) { return set_bool(c.name, f); }}
#define TEXT_FIELD(name) \
  {"pubsub#" #name, [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) { return set_text(c.name, f); }}

const std::vector<std::pair<std::string, FieldSetter>>& setters() {
  static const std::vector<std::pair<std::string, FieldSetter>> kSetters = {
      {"pubsub#access_model",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.empty()) return std::nullopt;
         auto m = parse_access_model(f.value());
         // §8.1.2: an access model the service does not support.
         if (!m) return pubsub_error(StanzaErrorCondition::kNotAcceptable, "unsupported-access-model",
                                     "unsupported access model '" + f.value() + "'");
         c.access_model = *m;
         return std::nullopt;
       }},
      {"pubsub#publish_model",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) { return set_enum(c.publish_model, f, kPublishModels); }},
      {"pubsub#send_last_published_item",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) {
         return set_enum(c.send_last_published_item, f, kSendLast);
       }},
      {"pubsub#publish_node_full",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) { return set_enum(c.publish_node_full, f, kNodeFull); }},
      BOOL_FIELD(deliver_notifications),
      BOOL_FIELD(deliver_payloads),
      BOOL_FIELD(notify_config),
      BOOL_FIELD(notify_delete),
      BOOL_FIELD(notify_retract),
      BOOL_FIELD(notify_sub),
      BOOL_FIELD(persist_items),
      BOOL_FIELD(presence_based_delivery),
      BOOL_FIELD(purge_offline),
      BOOL_FIELD(subscribe),
      BOOL_FIELD(tempsub),
      {"pubsub#max_items",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits& l) -> std::optional<StanzaError> {
         if (f.values.empty()) return std::nullopt;
         if (f.value() == "max") {
           c.max_items_max = true;
           return std::nullopt;
         }
         auto v = parse_int(f.value());
         if (!v || *v < 1) return invalid(f.var, "expected a positive number or \"max\"");
         if (*v > l.max_items_limit)
           return invalid(f.var, "this service keeps at most " + std::to_string(l.max_items_limit) + " items per node");
         c.max_items_max = false;
         c.max_items = *v;
         return std::nullopt;
       }},
      {"pubsub#item_expire",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits& l) -> std::optional<StanzaError> {
         if (f.values.empty()) return std::nullopt;
         if (f.value() == "max" || f.value().empty()) {
           c.item_expire = 0;
           return std::nullopt;
         }
         auto v = parse_int(f.value());
         if (!v || *v < 0) return invalid(f.var, "expected a number of seconds or \"max\"");
         if (*v > l.max_item_expire) return invalid(f.var, "at most " + std::to_string(l.max_item_expire) + " seconds");
         c.item_expire = *v;
         return std::nullopt;
       }},
      {"pubsub#max_payload_size",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.empty()) return std::nullopt;
         auto v = parse_int(f.value());
         if (!v || *v < 0) return invalid(f.var, "expected a number of bytes");
         c.max_payload_size = *v;
         return std::nullopt;
       }},
      {"pubsub#notification_type",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.empty()) return std::nullopt;
         if (f.value() != "normal" && f.value() != "headline") return invalid(f.var, "expected normal or headline");
         c.notification_type = f.value();
         return std::nullopt;
       }},
      {"pubsub#itemreply",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         std::string v = f.value();
         if (v == "none") v.clear();
         if (!v.empty() && v != "owner" && v != "publisher") return invalid(f.var, "expected owner or publisher");
         c.itemreply = v;
         return std::nullopt;
       }},
      {"pubsub#node_type",
       [](NodeConfig&, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.empty() || f.value() == "leaf") return std::nullopt;
         return unsupported("collections", "only leaf nodes are supported");
       }},
      TEXT_FIELD(title),
      TEXT_FIELD(description),
      TEXT_FIELD(type),
      TEXT_FIELD(language),
      TEXT_FIELD(body_xslt),
      TEXT_FIELD(dataform_xslt),
      {"pubsub#contact",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.size() > kMaxListField) return invalid(f.var, "too many values");
         std::vector<std::string> out;
         for (const auto& v : f.values) {
           auto j = Jid::parse(v);
           if (!j) return invalid(f.var, "'" + v + "' is not a JID");
           out.push_back(j->str());
         }
         c.contact = std::move(out);
         return std::nullopt;
       }},
      {"pubsub#roster_groups_allowed",
       [](NodeConfig& c, const xml::FormField& f, const ServiceLimits&) -> std::optional<StanzaError> {
         if (f.values.size() > kMaxListField) return invalid(f.var, "too many values");
         for (const auto& v : f.values)
           if (v.size() > 1024) return invalid(f.var, "group name too long");
         c.roster_groups_allowed = f.values;
         return std::nullopt;
       }},
  };
  return kSetters;
}

#undef BOOL_FIELD
#undef TEXT_FIELD

const FieldSetter* setter_for(std::string_view var) {
  for (const auto& [name, fn] : setters())
    if (name == var) return &fn;
  return nullptr;
}

}  // namespace

const char* to_string(AccessModel m) { return kAccessModels[static_cast<int>(m)]; }
const char* to_string(PublishModel m) { return kPublishModels[static_cast<int>(m)]; }
const char* to_string(SendLastItem s) { return kSendLast[static_cast<int>(s)]; }
const char* to_string(NodeFullPolicy p) { return kNodeFull[static_cast<int>(p)]; }

std::optional<AccessModel> parse_access_model(std::string_view s) {
  int i = index_of(kAccessModels, s);
  if (i < 0) return std::nullopt;
  return static_cast<AccessModel>(i);
}

NodeConfig default_config(bool pep, const ServiceLimits& limits) {
  NodeConfig c;
  c.max_items = limits.default_max_items;
  if (pep) c.access_model = AccessModel::kPresence;  // XEP-0163 §8
  return c;
}

// ISO 639-1 codes: the options of pubsub#language. Clients with typed forms (aioxmpp) only let users pick
// an offered option, so the list is complete; any other tag (BCP 47: "oc-aranes") is accepted on submit
// and offered first while it is the node's value.
constexpr std::string_view kLanguageCodes =
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el "
    "en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it "
    "iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt "
    "my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo "
    "za zh zu";

xml::FormField& add_language_field(xml::DataForm& f, const std::string& language, std::string label) {
  xml::FormField& field = f.add("pubsub#language", "list-single", {}, std::move(label));
  bool listed = false;
  for (size_t pos = 0; pos < kLanguageCodes.size(); pos += 3) listed |= kLanguageCodes.substr(pos, 2) == language;
  if (!language.empty()) {
    field.values.push_back(language);
    if (!listed) field.options.emplace_back("", language);
  }
  for (size_t pos = 0; pos < kLanguageCodes.size(); pos += 3)
    field.options.emplace_back("", std::string(kLanguageCodes.substr(pos, 2)));
  field.validate_datatype = "xs:language";
  field.validate_open = true;
  return field;
}

xml::DataForm config_form(const NodeConfig& c, const ServiceLimits& limits) {
  xml::DataForm f;
  f.type = "form";
  f.add("FORM_TYPE", "hidden", {ns::kPubsubNodeConfig});
  list_single(f, "pubsub#access_model", to_string(c.access_model), "Who may subscribe and retrieve items",
              {"authorize", "open", "presence", "roster", "whitelist"});
  f.add("pubsub#roster_groups_allowed", "list-multi", c.roster_groups_allowed, "Roster groups allowed to subscribe");
  list_single(f, "pubsub#publish_model", to_string(c.publish_model), "Who may publish", {"publishers", "subscribers", "open"});
  f.add("pubsub#title", "text-single", {c.title}, "A friendly name for the node");
  f.add("pubsub#description", "text-single", {c.description}, "A description of the node");
  f.add("pubsub#type", "text-single", {c.type}, "The semantic type of the node's items");
  add_language_field(f, c.language, "The default language of the node");
  f.add("pubsub#contact", "jid-multi", c.contact, "People to contact with questions");
  f.add("pubsub#max_items", "text-single", {c.max_items_max ? std::string("max") : std::to_string(c.max_items)},
        "Max # of items to persist (`max`: " + std::to_string(limits.max_items_limit) + ")");
  f.add("pubsub#item_expire", "text-single", {c.item_expire ? std::to_string(c.item_expire) : std::string("max")},
        "Seconds after which items are removed (`max`: never)");
  f.add("pubsub#max_payload_size", "text-single", {std::to_string(c.effective_max_payload(limits))},
        "The maximum payload size in bytes");
  f.add("pubsub#persist_items", "boolean", {bool_str(c.persist_items)}, "Persist items to storage");
  f.add("pubsub#deliver_notifications", "boolean", {bool_str(c.deliver_notifications)}, "Deliver event notifications");
  f.add("pubsub#deliver_payloads", "boolean", {bool_str(c.deliver_payloads)}, "Deliver payloads with event notifications");
  f.add("pubsub#notify_config", "boolean", {bool_str(c.notify_config)}, "Notify subscribers when the configuration changes");
  f.add("pubsub#notify_delete", "boolean", {bool_str(c.notify_delete)}, "Notify subscribers when the node is deleted");
  f.add("pubsub#notify_retract", "boolean", {bool_str(c.notify_retract)}, "Notify subscribers when items are removed");
  f.add("pubsub#notify_sub", "boolean", {bool_str(c.notify_sub)}, "Notify owners about new subscribers");
  f.add("pubsub#presence_based_delivery", "boolean", {bool_str(c.presence_based_delivery)},
        "Deliver notifications to available users only");
  f.add("pubsub#purge_offline", "boolean", {bool_str(c.purge_offline)}, "Purge items when the publisher goes offline");
  f.add("pubsub#subscribe", "boolean", {bool_str(c.subscribe)}, "Allow subscriptions");
  f.add("pubsub#tempsub", "boolean", {bool_str(c.tempsub)}, "Make subscriptions temporary");
  list_single(f, "pubsub#send_last_published_item", to_string(c.send_last_published_item), "When to send the last published item",
              {"never", "on_sub", "on_sub_and_presence"});
  list_single(f, "pubsub#publish_node_full", to_string(c.publish_node_full), "What to do when the node is full",
              {"retract-oldest", "discard-oldest", "reject"});
  list_single(f, "pubsub#notification_type", c.notification_type.c_str(), "Type of notification messages", {"normal", "headline"});
  list_single(f, "pubsub#itemreply", c.itemreply.empty() ? "none" : c.itemreply.c_str(), "Who receives replies to items",
              {"owner", "publisher", "none"});
  list_single(f, "pubsub#node_type", "leaf", "Node type", {"leaf"});
  f.add("pubsub#body_xslt", "text-single", {c.body_xslt}, "XSLT producing a message body");
  f.add("pubsub#dataform_xslt", "text-single", {c.dataform_xslt}, "XSLT producing a data form");
  return f;
}

tl::expected<NodeConfig, StanzaError> apply_config_form(NodeConfig base, const xml::DataForm& submitted,
                                                        const ServiceLimits& limits) {
  std::string form_type = submitted.form_type();
  if (!form_type.empty() && form_type != ns::kPubsubNodeConfig && form_type != ns::kPubsubPublishOptions)
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "unexpected FORM_TYPE " + form_type));
  for (const auto& f : submitted.fields) {
    if (f.var == "FORM_TYPE") continue;
    const FieldSetter* set = setter_for(f.var);
    if (!set) return tl::unexpected(invalid(f.var, "unknown field"));
    if (auto err = (*set)(base, f, limits)) return tl::unexpected(std::move(*err));
  }
  return base;
}

std::string serialize_config(const NodeConfig& c, const ServiceLimits& limits) {
  xml::DataForm f = config_form(c, limits);
  f.type = "submit";
  for (auto& field : f.fields) {
    field.label.clear();
    field.options.clear();
  }
  // The effective payload size is shown to owners; store what was configured.
  if (auto* mps = f.field("pubsub#max_payload_size")) mps->values = {std::to_string(c.max_payload_size)};
  return xml::to_string(f.to_element());
}

NodeConfig parse_config(std::string_view stored, const NodeConfig& defaults, const ServiceLimits& limits) {
  auto el = xml::parse_fragment(stored);
  if (!el) return defaults;
  auto form = xml::DataForm::parse(*el);
  if (!form) return defaults;
  // Limits may have been lowered since the node was configured: clamp rather than lose the node.
  ServiceLimits relaxed = limits;
  relaxed.max_items_limit = INT64_MAX;
  relaxed.max_item_expire = INT64_MAX;
  auto c = apply_config_form(defaults, *form, relaxed);
  if (!c) return defaults;
  if (!c->max_items_max && c->max_items > limits.max_items_limit) c->max_items = limits.max_items_limit;
  return *c;
}

std::optional<std::string> unmet_precondition(const NodeConfig& node, const xml::DataForm& options,
                                              const ServiceLimits& limits, std::string_view skip) {
  for (const auto& f : options.fields) {
    if (f.var == "FORM_TYPE" || f.var == skip) continue;
    // A precondition holds when applying it would change nothing.
    xml::DataForm one;
    one.fields.push_back(f);
    auto applied = apply_config_form(node, one, limits);
    if (!applied || !(*applied == node)) return f.var;
  }
  return std::nullopt;
}

tl::expected<NodeConfig, StanzaError> config_with_options(NodeConfig defaults, const xml::DataForm& options,
                                                          const ServiceLimits& limits, std::string_view skip) {
  xml::DataForm filtered;
  for (const auto& f : options.fields)
    if (f.var != "FORM_TYPE" && f.var != skip) filtered.fields.push_back(f);
  auto c = apply_config_form(std::move(defaults), filtered, limits);
  if (!c) return tl::unexpected(pubsub_error(StanzaErrorCondition::kConflict, "precondition-not-met", c.error().text));
  return c;
}

// --- subscription options ---

xml::DataForm options_form(const SubscriptionOptions& o) {
  xml::DataForm f;
  f.type = "form";
  f.add("FORM_TYPE", "hidden", {ns::kPubsubSubscribeOptions});
  f.add("pubsub#deliver", "boolean", {bool_str(o.deliver)}, "Enable delivery?");
  f.add("pubsub#digest", "boolean", {"0"}, "Receive digest notifications (approx. one per day)?");
  f.add("pubsub#include_body", "boolean", {bool_str(o.include_body)}, "Receive message body in addition to payload?");
  xml::FormField& show = f.add("pubsub#show-values", "list-multi", o.show_values, "Select the presence types which are allowed to receive event notifications");
  for (const char* v : kShowValues) show.options.emplace_back("", v);
  return f;
}

tl::expected<SubscriptionOptions, StanzaError> apply_options_form(SubscriptionOptions o, const xml::DataForm& f) {
  auto bad = [](const std::string& why) { return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, why)); };
  std::string form_type = f.form_type();
  if (!form_type.empty() && form_type != ns::kPubsubSubscribeOptions) return bad("unexpected FORM_TYPE " + form_type);
  for (const auto& field : f.fields) {
    if (field.var == "FORM_TYPE") continue;
    if (field.var == "pubsub#deliver" || field.var == "pubsub#include_body" || field.var == "pubsub#digest") {
      if (field.values.empty()) continue;
      auto b = xml::parse_form_bool(field.value());
      if (!b) return bad(field.var + ": expected a boolean");
      if (field.var == "pubsub#deliver") o.deliver = *b;
      else if (field.var == "pubsub#include_body") o.include_body = *b;
      else if (*b) return bad("digests are not supported");
    } else if (field.var == "pubsub#show-values") {
      for (const auto& v : field.values)
        if (index_of(kShowValues, v) < 0) return bad("unknown show value '" + v + "'");
      o.show_values = field.values;
    } else {
      return bad("unknown subscription option " + field.var);
    }
  }
  return o;
}

std::string serialize_options(const SubscriptionOptions& o) {
  if (o == SubscriptionOptions{}) return {};
  xml::DataForm f = options_form(o);
  f.type = "submit";
  for (auto& field : f.fields) {
    field.label.clear();
    field.options.clear();
  }
  return xml::to_string(f.to_element());
}

SubscriptionOptions parse_options(std::string_view stored) {
  if (stored.empty()) return {};
  auto el = xml::parse_fragment(stored);
  if (!el) return {};
  auto form = xml::DataForm::parse(*el);
  if (!form) return {};
  auto o = apply_options_form({}, *form);
  return o ? *o : SubscriptionOptions{};
}

}  // namespace causerie::modules::pubsub
