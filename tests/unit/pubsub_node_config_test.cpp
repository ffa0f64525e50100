// XEP-0060 node configuration: defaults, form processing, storage round trip, publish-options
// preconditions (XEP-0223) and subscription options.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/xml/fragment.hpp"
#include "modules/pubsub/node_config.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

xml::DataForm submit(std::vector<std::pair<std::string, std::vector<std::string>>> fields,
                     const char* form_type = "http://jabber.org/protocol/pubsub#node_config") {
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {form_type});
  for (auto& [var, values] : fields) f.add(var, "", values);
  return f;
}

const ServiceLimits kLimits;

}  // namespace

TEST(PubsubNodeConfig, Defaults) {
  NodeConfig service = default_config(false, kLimits);
  NodeConfig pep = default_config(true, kLimits);
  EXPECT_EQ(service.access_model, AccessModel::kOpen);
  EXPECT_EQ(pep.access_model, AccessModel::kPresence);  // XEP-0163 §8
  EXPECT_EQ(pep.send_last_published_item, SendLastItem::kOnSubAndPresence);
  EXPECT_TRUE(pep.deliver_payloads && pep.persist_items);
  EXPECT_EQ(pep.max_items, kLimits.default_max_items);
}

TEST(PubsubNodeConfig, ApplyForm) {
  auto c = apply_config_form(default_config(false, kLimits),
                             submit({{"pubsub#title", {"Princely Musings"}},
                                     {"pubsub#max_items", {"max"}},
                                     {"pubsub#deliver_payloads", {"0"}},
                                     {"pubsub#access_model", {"roster"}},
                                     {"pubsub#roster_groups_allowed", {"Friends", "Family"}},
                                     {"pubsub#item_expire", {"604800"}},
                                     {"pubsub#type", {"urn:xmpp:pubsub-social-feed:1"}},
                                     {"pubsub#itemreply", {"publisher"}},
                                     {"pubsub#contact", {"bard@shakespeare.lit"}}}),
                             kLimits);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->title, "Princely Musings");
  EXPECT_TRUE(c->max_items_max);
  EXPECT_EQ(c->effective_max_items(kLimits), kLimits.max_items_limit);
  EXPECT_FALSE(c->deliver_payloads);
  EXPECT_EQ(c->access_model, AccessModel::kRoster);
  EXPECT_EQ(c->roster_groups_allowed, (std::vector<std::string>{"Friends", "Family"}));
  EXPECT_EQ(c->item_expire, 604800);
  EXPECT_EQ(c->itemreply, "publisher");
}

TEST(PubsubNodeConfig, RefusesBadForms) {
  struct Case {
    const char* var;
    const char* value;
    StanzaErrorCondition cond;
  };
  const Case cases[] = {
      {"pubsub#max_items", "lots", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#max_items", "0", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#max_items", "100000000000", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#persist_items", "maybe", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#access_model", "secret", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#publish_model", "everyone", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#flavour", "vanilla", StanzaErrorCondition::kNotAcceptable},
      {"pubsub#node_type", "collection", StanzaErrorCondition::kFeatureNotImplemented},
      {"pubsub#contact", "not a jid@", StanzaErrorCondition::kNotAcceptable},
  };
  for (const auto& c : cases) {
    auto r = apply_config_form(default_config(false, kLimits), submit({{c.var, {c.value}}}), kLimits);
    ASSERT_FALSE(r) << c.var << "=" << c.value;
    EXPECT_EQ(r.error().condition, c.cond) << c.var;
  }
  auto wrong_type = apply_config_form(default_config(false, kLimits), submit({}, "urn:other"), kLimits);
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().condition, StanzaErrorCondition::kBadRequest);
}

TEST(PubsubNodeConfig, StorageRoundTrip) {
  NodeConfig c = default_config(true, kLimits);
  c.title = "Tom's <blog> & \"things\"";
  c.max_items = 42;
  c.publish_model = PublishModel::kOpen;
  c.roster_groups_allowed = {"A", "B"};
  c.item_expire = 86400;
  c.notification_type = "normal";
  c.max_payload_size = 1000;
  NodeConfig back = parse_config(serialize_config(c, kLimits), default_config(true, kLimits), kLimits);
  EXPECT_EQ(back, c);
  // Garbage in storage falls back to the defaults rather than losing the node.
  EXPECT_EQ(parse_config("<not a form", default_config(false, kLimits), kLimits), default_config(false, kLimits));
}

TEST(PubsubNodeConfig, ConfigFormShowsEveryField) {
  xml::DataForm f = config_form(default_config(false, kLimits), kLimits);
  for (const char* var : {"FORM_TYPE", "pubsub#access_model", "pubsub#publish_model", "pubsub#max_items", "pubsub#persist_items",
                          "pubsub#deliver_payloads", "pubsub#notify_retract", "pubsub#send_last_published_item",
                          "pubsub#item_expire", "pubsub#title", "pubsub#type", "pubsub#roster_groups_allowed", "pubsub#itemreply"})
    EXPECT_TRUE(f.field(var)) << var;
  EXPECT_EQ(f.value("pubsub#access_model"), "open");
}

TEST(PubsubNodeConfig, LanguageIsAnOpenListSingle) {
  // XEP-0060 §16.4.4 registers pubsub#language as list-single; XEP-0122 <open/> lets any tag through.
  NodeConfig c = default_config(false, kLimits);
  xml::DataForm f = xml::DataForm::parse(config_form(c, kLimits).to_element()).value();
  const xml::FormField* lang = f.field("pubsub#language");
  ASSERT_TRUE(lang);
  EXPECT_EQ(lang->type, "list-single");
  EXPECT_EQ(lang->validate_datatype, "xs:language");
  EXPECT_TRUE(lang->validate_open);
  EXPECT_TRUE(lang->values.empty());
  auto offered = [&](const xml::FormField& field, const std::string& v) {
    return std::any_of(field.options.begin(), field.options.end(), [&](const auto& o) { return o.second == v; });
  };
  EXPECT_TRUE(offered(*lang, "fr"));
  EXPECT_TRUE(offered(*lang, "en"));

  // A tag that is not an ISO 639-1 code is accepted and then offered, so the form stays consistent.
  auto applied = apply_config_form(c, submit({{"pubsub#language", {"oc-aranes"}}}), kLimits);
  ASSERT_TRUE(applied);
  xml::DataForm again = config_form(*applied, kLimits);
  lang = again.field("pubsub#language");
  EXPECT_EQ(lang->value(), "oc-aranes");
  EXPECT_TRUE(offered(*lang, "oc-aranes"));
  applied = apply_config_form(c, submit({{"pubsub#language", {"fr"}}}), kLimits);
  again = config_form(*applied, kLimits);
  lang = again.field("pubsub#language");
  EXPECT_EQ(std::count_if(lang->options.begin(), lang->options.end(), [](const auto& o) { return o.second == "fr"; }), 1);
}

TEST(PubsubNodeConfig, Preconditions) {
  NodeConfig node = default_config(true, kLimits);
  node.access_model = AccessModel::kOpen;
  node.max_items_max = true;
  const char* po = "http://jabber.org/protocol/pubsub#publish-options";
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#access_model", {"open"}}, {"pubsub#persist_items", {"1"}}}, po), kLimits),
            std::nullopt);
  // Booleans compare by meaning ("true" = "1"), max_items by meaning ("max").
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#persist_items", {"true"}}, {"pubsub#max_items", {"max"}}}, po), kLimits),
            std::nullopt);
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#access_model", {"presence"}}}, po), kLimits), "pubsub#access_model");
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#max_items", {"1"}}}, po), kLimits), "pubsub#max_items");
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#colour", {"blue"}}}, po), kLimits), "pubsub#colour");
  // A field the caller handles itself (a social feed's post visibility) is skipped.
  EXPECT_EQ(unmet_precondition(node, submit({{"pubsub#access_model", {"presence"}}}, po), kLimits, "pubsub#access_model"),
            std::nullopt);
  auto created = config_with_options(default_config(true, kLimits),
                                     submit({{"pubsub#access_model", {"whitelist"}}, {"pubsub#max_items", {"max"}},
                                             {"pubsub#send_last_published_item", {"never"}}}, po), kLimits);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->access_model, AccessModel::kWhitelist);
  EXPECT_EQ(created->send_last_published_item, SendLastItem::kNever);
  auto bad = config_with_options(default_config(true, kLimits), submit({{"pubsub#max_items", {"x"}}}, po), kLimits);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().condition, StanzaErrorCondition::kConflict);
  ASSERT_TRUE(bad.error().app_condition);
  EXPECT_EQ(bad.error().app_condition->name(), "precondition-not-met");
}

TEST(PubsubNodeConfig, SubscriptionOptions) {
  const char* so = "http://jabber.org/protocol/pubsub#subscribe_options";
  auto o = apply_options_form({}, submit({{"pubsub#deliver", {"false"}}, {"pubsub#show-values", {"chat", "online"}}}, so));
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->deliver);
  EXPECT_EQ(parse_options(serialize_options(*o)), *o);
  EXPECT_EQ(serialize_options({}), "");
  EXPECT_FALSE(apply_options_form({}, submit({{"pubsub#show-values", {"sleeping"}}}, so)));
  EXPECT_FALSE(apply_options_form({}, submit({{"pubsub#digest", {"1"}}}, so)));
  EXPECT_FALSE(apply_options_form({}, submit({{"pubsub#unknown", {"1"}}}, so)));
}
