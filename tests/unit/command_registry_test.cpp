// XEP-0050 engine (CommandRegistry) and XEP-0004 submission checks (SubmittedForm), driven through
// execute() with <command/> elements as a client would send them, on a ManualClock.
#include <gtest/gtest.h>

#include "core/config/config.hpp"
#include "core/module/command_registry.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {
namespace {

const char* kConfig = "[[host]]\nname = \"example.org\"\nadmins = [\"boss@example.org\"]\n";

xml::Element parse(const std::string& s) {
  auto e = xml::parse_fragment(s);
  EXPECT_TRUE(e) << s;
  return e ? *e : xml::Element("invalid");
}

std::string cmd(const std::string& node, const std::string& attrs = "", const std::string& body = "") {
  return "<command xmlns='http://jabber.org/protocol/commands' node='" + node + "' " + attrs + ">" + body +
         "</command>";
}

std::string submit(const std::string& fields) {
  return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:test</value></field>" + fields +
         "</x>";
}

struct Outcome {
  std::optional<xml::Element> command;
  std::optional<StanzaError> error;
  std::string status() const { return command ? std::string(command->attr("status")) : ""; }
  std::string sessionid() const { return command ? std::string(command->attr("sessionid")) : ""; }
  std::string app() const { return error && error->app_condition ? error->app_condition->name() : ""; }
};

struct AdhocCommands : ::testing::Test {
  LiveConfig config{load_config_text(kConfig, "test")};
  ManualClock clock;
  CommandRegistry reg{config, clock};
  CommandCaller boss{*Jid::parse("boss@example.org/desk")};
  CommandCaller user{*Jid::parse("someone@example.org/phone")};
  std::vector<std::string> log;

  void SetUp() override {
    // A two-stage wizard: a name (required text), then a count (list-single) and a flag (boolean).
    reg.add({.node = "wizard", .name = "Wizard", .host = "", .allowed = reg.host_admins(),
             .handler = [this](CommandCall& c) {
               xml::DataForm f;
               f.add("FORM_TYPE", "hidden", {"urn:test"});
               if (c.stage == 0) {
                 f.add("name", "text-single", {}, "Name").required = true;
                 f.add("who", "jid-single", {}, "Who");
                 c.reply.form(f, CommandActions::next_only());
               } else if (c.stage == 1) {
                 c.state["name"] = c.submitted->text("name");
                 auto& l = f.add("count", "list-single", {"1"}, "Count");
                 l.options = {{"one", "1"}, {"two", "2"}};
                 f.add("flag", "boolean", {}, "Flag");
                 c.reply.form(f, CommandActions::last(), {{CommandNote::kInfo, "almost there"}});
               } else {
                 log.push_back(c.state["name"] + ":" + c.submitted->text("count") + ":" +
                               (c.submitted->boolean("flag") ? "yes" : "no") + ":" + c.previous[0].text("name"));
                 c.reply.done({{CommandNote::kInfo, "done"}});
               }
             }});
    reg.add({.node = "ping", .name = "Ping", .host = "example.org", .allowed = CommandRegistry::local_users(),
             .handler = [](CommandCall& c) { c.reply.done({{CommandNote::kInfo, "pong"}}); }});
  }

  Outcome run(const CommandCaller& who, const std::string& xml) {
    Outcome o;
    reg.execute(who, "example.org", parse(xml), [&o](tl::expected<xml::Element, StanzaError> r) {
      if (r) o.command = std::move(*r);
      else o.error = r.error();
    });
    return o;
  }
};

TEST_F(AdhocCommands, MultiStageWizardWithNotesActionsAndCompletion) {
  Outcome first = run(boss, cmd("wizard", "action='execute'"));
  ASSERT_EQ(first.status(), "executing");
  std::string id = first.sessionid();
  ASSERT_FALSE(id.empty());
  const xml::Element* actions = first.command->child("actions", adhoc::kNs);
  ASSERT_TRUE(actions);
  EXPECT_EQ(actions->attr("execute"), "next");
  EXPECT_TRUE(actions->child("next", adhoc::kNs));
  EXPECT_FALSE(actions->child("prev", adhoc::kNs));
  EXPECT_FALSE(actions->child("complete", adhoc::kNs));
  ASSERT_TRUE(first.command->child("x", ns::kDataForms));

  // 'execute' means the stage's default, 'next'.
  Outcome second = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("<field var='name'><value>Ann</value></field>")));
  ASSERT_EQ(second.status(), "executing");
  const xml::Element* a2 = second.command->child("actions", adhoc::kNs);
  EXPECT_EQ(a2->attr("execute"), "complete");
  EXPECT_TRUE(a2->child("prev", adhoc::kNs));
  EXPECT_EQ(second.command->child_text("note", adhoc::kNs), "almost there");

  Outcome third = run(boss, cmd("wizard", "sessionid='" + id + "' action='complete'",
                                submit("<field var='count'><value>2</value></field><field var='flag'><value>true</value></field>")));
  ASSERT_EQ(third.status(), "completed");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "Ann:2:yes:Ann");
  // An ended session's id is expired, not unknown (§4.6).
  Outcome again = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("")));
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->condition, StanzaErrorCondition::kNotAllowed);
  EXPECT_EQ(again.app(), "session-expired");
}

TEST_F(AdhocCommands, PrevShowsTheEarlierFormWithItsValues) {
  std::string id = run(boss, cmd("wizard")).sessionid();
  run(boss, cmd("wizard", "sessionid='" + id + "' action='next'", submit("<field var='name'><value>Bob</value></field>")));
  Outcome back = run(boss, cmd("wizard", "sessionid='" + id + "' action='prev'"));
  ASSERT_EQ(back.status(), "executing");
  auto form = xml::DataForm::parse(*back.command->child("x", ns::kDataForms));
  ASSERT_TRUE(form);
  EXPECT_EQ(form->value("name"), "Bob");
  EXPECT_TRUE(form->field("name")->required);
  // prev again at the first stage is not allowed: it offered no <prev/>.
  Outcome none = run(boss, cmd("wizard", "sessionid='" + id + "' action='prev'"));
  ASSERT_TRUE(none.error);
  EXPECT_EQ(none.app(), "bad-action");
  // The wizard goes on from the first stage again.
  Outcome on = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("<field var='name'><value>Cy</value></field>")));
  EXPECT_EQ(on.status(), "executing");
}

TEST_F(AdhocCommands, CancelEndsTheSession) {
  std::string id = run(boss, cmd("wizard")).sessionid();
  Outcome c = run(boss, cmd("wizard", "sessionid='" + id + "' action='cancel'"));
  EXPECT_EQ(c.status(), "canceled");
  EXPECT_EQ(c.sessionid(), id);
  Outcome after = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("<field var='name'><value>x</value></field>")));
  EXPECT_EQ(after.app(), "session-expired");
  EXPECT_EQ(reg.session_count(), 0u);
}

TEST_F(AdhocCommands, ErrorsOfSection46) {
  // Unknown node.
  Outcome unknown = run(boss, cmd("nope"));
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->condition, StanzaErrorCondition::kItemNotFound);
  // Not an admin.
  Outcome forbidden = run(user, cmd("wizard"));
  ASSERT_TRUE(forbidden.error);
  EXPECT_EQ(forbidden.error->condition, StanzaErrorCondition::kForbidden);
  // An action that does not exist, and one that does not fit.
  EXPECT_EQ(run(boss, cmd("wizard", "action='jump'")).app(), "malformed-action");
  EXPECT_EQ(run(boss, cmd("wizard", "action='prev'")).app(), "bad-action");
  std::string id = run(boss, cmd("wizard")).sessionid();
  EXPECT_EQ(run(boss, cmd("wizard", "sessionid='" + id + "' action='complete'")).app(), "bad-action");
  // Unknown session id; another requester's; another command's.
  Outcome bad = run(boss, cmd("wizard", "sessionid='made-up'"));
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error->condition, StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(bad.app(), "bad-sessionid");
  CommandCaller other_resource{*Jid::parse("boss@example.org/laptop")};
  EXPECT_EQ(run(other_resource, cmd("wizard", "sessionid='" + id + "'")).app(), "bad-sessionid");
  EXPECT_EQ(run(user, cmd("ping", "sessionid='" + id + "'")).app(), "bad-sessionid");
}

TEST_F(AdhocCommands, InvalidSubmissionsAreBadPayloadAndTheStageStays) {
  std::string id = run(boss, cmd("wizard")).sessionid();
  Outcome missing = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("")));
  EXPECT_EQ(missing.app(), "bad-payload");
  EXPECT_NE(missing.error->text.find("'Name' is required"), std::string::npos) << missing.error->text;
  Outcome bad_jid = run(boss, cmd("wizard", "sessionid='" + id + "'",
                                  submit("<field var='name'><value>a</value></field><field var='who'><value>@@</value></field>")));
  EXPECT_EQ(bad_jid.app(), "bad-payload");
  Outcome two = run(boss, cmd("wizard", "sessionid='" + id + "'",
                              submit("<field var='name'><value>a</value><value>b</value></field>")));
  EXPECT_EQ(two.app(), "bad-payload");
  Outcome wrong_type = run(boss, cmd("wizard", "sessionid='" + id + "'",
                                     "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field>"
                                     "<field var='name'><value>a</value></field></x>"));
  EXPECT_EQ(wrong_type.app(), "bad-payload");
  // Still at the first stage: a good answer moves on.
  Outcome ok = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("<field var='name'><value>Di</value></field>")));
  ASSERT_EQ(ok.status(), "executing");
  Outcome not_an_option = run(boss, cmd("wizard", "sessionid='" + id + "' action='complete'",
                                        submit("<field var='count'><value>7</value></field>")));
  EXPECT_EQ(not_an_option.app(), "bad-payload");
  Outcome not_bool = run(boss, cmd("wizard", "sessionid='" + id + "' action='complete'",
                                   submit("<field var='flag'><value>maybe</value></field>")));
  EXPECT_EQ(not_bool.app(), "bad-payload");
}

TEST_F(AdhocCommands, IdleSessionsExpireOnTheClock) {
  std::string id = run(boss, cmd("wizard")).sessionid();
  clock.advance(CommandRegistry::kSessionTimeout + std::chrono::seconds(1));
  Outcome late = run(boss, cmd("wizard", "sessionid='" + id + "'", submit("<field var='name'><value>a</value></field>")));
  ASSERT_TRUE(late.error);
  EXPECT_EQ(late.app(), "session-expired");
  // The sweep forgets it later; the id is then unknown.
  clock.advance(3 * CommandRegistry::kSessionTimeout);
  reg.sweep();
  EXPECT_EQ(run(boss, cmd("wizard", "sessionid='" + id + "'")).app(), "bad-sessionid");
}

TEST_F(AdhocCommands, DiscoListsOnlyWhatTheCallerMayRun) {
  auto names = [](const xml::Element& q) {
    std::vector<std::string> out;
    for (const auto* i : q.children("item", ns::kDiscoItems)) out.emplace_back(i->attr("node"));
    return out;
  };
  EXPECT_EQ(names(reg.disco_items(boss, "example.org")), (std::vector<std::string>{"wizard", "ping"}));
  EXPECT_EQ(names(reg.disco_items(user, "example.org")), (std::vector<std::string>{"ping"}));
  auto info = reg.disco_info(boss, "example.org", "wizard");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->child("identity", ns::kDiscoInfo)->attr("type"), "command-node");
  auto refused = reg.disco_info(user, "example.org", "wizard");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().condition, StanzaErrorCondition::kForbidden);
  EXPECT_FALSE(reg.disco_info(boss, "example.org", "nope"));
  CommandCaller op{*Jid::parse("example.org/control-1"), true};
  EXPECT_TRUE(reg.is_admin(op, "example.org"));
  EXPECT_FALSE(reg.is_admin(user, "example.org"));
}

TEST_F(AdhocCommands, AsynchronousAnswersAndDuplicateNodes) {
  std::optional<CommandReply> held;
  reg.add({.node = "slow", .name = "Slow", .host = "", .allowed = reg.host_admins(),
           .handler = [&held](CommandCall& c) { held = c.reply; }});
  auto status = std::make_shared<std::string>();
  reg.execute(boss, "example.org", parse(cmd("slow")), [status](tl::expected<xml::Element, StanzaError> r) {
    *status = r ? std::string(r->attr("status")) : "error";
  });
  EXPECT_EQ(*status, "");  // not answered yet
  EXPECT_EQ(run(boss, cmd("slow", "sessionid='x'")).app(), "bad-sessionid");
  held->done();
  EXPECT_EQ(*status, "completed");
  EXPECT_THROW(reg.add({.node = "slow", .name = "Again", .host = "", .allowed = {}, .handler = {}}), ConfigError);
}

TEST_F(AdhocCommands, TooManySessionsPerCaller) {
  for (size_t i = 0; i < CommandRegistry::kMaxSessionsPerCaller; ++i) ASSERT_EQ(run(boss, cmd("wizard")).status(), "executing");
  Outcome over = run(boss, cmd("wizard"));
  ASSERT_TRUE(over.error);
  EXPECT_EQ(over.error->condition, StanzaErrorCondition::kResourceConstraint);
}

TEST_F(AdhocCommands, AdminsFollowTheConfigurationInForce) {
  CommandCaller newcomer{*Jid::parse("newcomer@example.org/laptop")};
  EXPECT_TRUE(reg.is_admin(boss, "example.org"));
  EXPECT_FALSE(reg.is_admin(newcomer, "example.org"));
  // A reload (SIGHUP) publishes a configuration where the admins changed: the next check follows it.
  config.publish(load_config_text("[[host]]\nname = \"example.org\"\nadmins = [\"newcomer@example.org\"]\n", "test"));
  EXPECT_FALSE(reg.is_admin(boss, "example.org"));
  EXPECT_TRUE(reg.is_admin(newcomer, "example.org"));
  EXPECT_FALSE(reg.is_admin(newcomer, "other.example"));
}

}  // namespace
}  // namespace causerie
