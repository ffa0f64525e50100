// Prosody's data files: the Lua subset its util.serialization writes (table-driven, hostile inputs
// refused), and a data directory written by Prosody 0.12 (tests/data/prosody) turned into XEP-0227.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/lua_data.hpp"
#include "cli/prosody_data.hpp"
#include "core/xml/fragment.hpp"

using namespace causerie;
using namespace causerie::prosody;

TEST(LuaData, ParsesWhatProsodyWrites) {
  auto v = parse_lua_return(
      "return {\n\t[false] = { [\"pending\"] = {}; [\"version\"] = 2; };\n"
      "\t[\"b@p.test\"] = { name = 'B\\'s'; [\"groups\"] = { [\"Friends\"] = true; }; n = -1.5e3; h = 0x10; };\n"
      "\t\"positional\", [[long\nstring]], nil, true;\n};\n");
  ASSERT_TRUE(v) << v.error();
  ASSERT_TRUE(v->is_table());
  const LuaValue* b = v->get("b@p.test");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->str("name"), "B's");
  EXPECT_EQ(b->get("n")->number, -1500);
  EXPECT_EQ(b->str("h"), "16");
  EXPECT_TRUE(b->get("groups")->get("Friends")->boolean);
  auto arr = v->array();
  ASSERT_EQ(arr.size(), 4u);
  EXPECT_EQ(arr[0]->string, "positional");
  EXPECT_EQ(arr[1]->string, "long\nstring");
  EXPECT_EQ(arr[2]->type, LuaValue::Type::kNil);
  EXPECT_TRUE(arr[3]->boolean);
  EXPECT_EQ(v->entries[0].first.type, LuaValue::Type::kBool);

  auto esc = parse_lua_return("return \"a\\\"b\\\\c\\n\\065\\x42\\u{E9}\\z   d\\\n\"");
  ASSERT_TRUE(esc) << esc.error();
  EXPECT_EQ(esc->string, "a\"b\\c\nAB\xC3\xA9" "d\n");

  auto items = parse_lua_items("item({ [\"key\"] = \"k1\"; when = 1.5; });\nitem({ key = \"k2\" });\n");
  ASSERT_TRUE(items) << items.error();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[1].str("key"), "k2");
}

TEST(LuaData, RefusesAnythingButData) {
  std::string deep = "return ";
  for (int i = 0; i < 200; ++i) deep += "{";
  for (const std::string& bad : std::vector<std::string>{
           "return os.execute('rm -rf /')", "return { [\"a\"] = io.open('x') }", "x = 1", "return { a = 1",
           "return \"unterminated", "return \"bad \\q escape\"", "return { [nil] = 1 }", "return 1 2",
           "return function() end", deep}) {
    EXPECT_FALSE(parse_lua_return(bad)) << bad;
  }
  EXPECT_FALSE(parse_lua_items("item({}); os.exit()"));
}

TEST(ProsodyData, ConvertsADataDirectoryProsodyWrote) {
  auto doc = pie_from_data_dir(std::string(CAUSERIE_TEST_DATA) + "/prosody");
  ASSERT_TRUE(doc) << doc.error();
  const std::string& d = *doc;
  for (const char* expected : {
           "<host jid='p.test'>", "<user name='alice'>",
           // internal_hashed: SHA-1 keys, hex in the file, base64 here; the salt is used as it is.
           "<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>10000</iter-count>"
           "<salt>MzcxZGM5MjItMmNmNS00YzZlLTkxMmYtYWFhNjg4ZjhhOTE5</salt><server-key>BXUk0zn9SaEqTBmiD4qL46SdEsQ=",
           "<item jid='bob@p.test' name='Bob B' subscription='none'><group>Friends</group><group>Work</group></item>",
           "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME></vCard>",
           "<query xmlns='jabber:iq:private'><prefs xmlns='test:prefs'><color>blue</color></prefs></query>",
           "<configure node='urn:xmpp:microblog:0'>",
           "<item id='post1' publisher='alice@p.test' xmlns:a0='urn:causerie:pie:0' a0:published='2026-12-07T10:10:11Z'>"
           "<entry xmlns='http://www.w3.org/2005/Atom'><title>Hello</title></entry></item>",
           "<field var='pubsub#access_model'><value>open</value></field>",
           "<result xmlns='urn:xmpp:mam:2' id='rNeA8Au_zPufRV2t6kdPL3I2'>",
           "<offline-messages><message xmlns='jabber:client' from='alice@p.test/x' to='bob@p.test' xml:lang='en'",
           "<vCard xmlns='vcard-temp'><FN>Bob \"the builder\"\nSecond line \xE2\x80\x94 \xC3\xA9</FN></vCard>"}) {
    EXPECT_NE(d.find(expected), std::string::npos) << expected << "\n" << d;
  }
  EXPECT_EQ(d.find("stamp='2026-12-07T10:10:11Z' xmlns"), std::string::npos);  // Prosody's own stamp attribute
  EXPECT_FALSE(pie_from_data_dir("/nonexistent/prosody"));
}
