// Prosody's data files: the Lua subset its util.serialization writes (table-driven, hostile inputs
// refused), and a data directory written by Prosody 0.12 (tests/data/prosody: a host, a MUC component with
// a persistent room, a pubsub component with a node) turned into XEP-0227 and imported; damaged room and
// node files refused with nothing imported.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/lua_data.hpp"
#include "cli/pie_import.hpp"
#include "cli/prosody_data.hpp"
#include "core/config/config.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "storage/account_store.hpp"
#include "storage/muc_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

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

TEST(ProsodyData, ConvertsTheRoomsAndNodesOfProsodysComponents) {
  auto doc = pie_from_data_dir(std::string(CAUSERIE_TEST_DATA) + "/prosody");
  ASSERT_TRUE(doc) << doc.error();
  const std::string& d = *doc;
  for (const char* expected : {
           // Both components go under the host they are subdomains of, after its accounts.
           "<service xmlns='urn:causerie:pie:0' jid='conference.p.test'>"
           "<room jid='tea@conference.p.test' public='false' name='Tea party'>",
           "<field var='muc#roomconfig_persistentroom'><value>1</value></field>",
           "<field var='muc#roomconfig_roomdesc'><value>Afternoon tea, members only</value></field>",
           "<field var='muc#roomconfig_lang'><value>en</value></field>",
           "<field var='muc#roomconfig_publicroom'><value>0</value></field>",
           "<field var='muc#roomconfig_membersonly'><value>1</value></field>",
           "<field var='muc#roomconfig_changesubject'><value>0</value></field>",
           "<field var='muc#roomconfig_passwordprotectedroom'><value>0</value></field>",
           "<field var='muc#roomconfig_whois'><value>anyone</value></field>",
           "<subject nick='Alice' stamp='2026-12-07T16:06:13Z'>Earl Grey or Darjeeling?</subject>",
           "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='owner' jid='alice@p.test'/>"
           "<item affiliation='member' jid='bob@p.test' nick='Bobby'/>"
           "<item affiliation='outcast' jid='mallory@elsewhere.example'/></query>",
           // The newest messages are the join history (no 'to': whoever joins), all of them the archive.
           "<history><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-07T16:06:13Z'/>"
           "<message xmlns='jabber:client' id='63b01682f5d8407294632b2af1d43dde' type='groupchat' xml:lang='en' "
           "from='tea@conference.p.test/Alice'><body>Welcome to tea</body>",
           "<archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='urn:xmpp:mam:2' id='8_4P-bxBvCBdLWZfBVqqgHhB'>",
           "<result xmlns='urn:xmpp:mam:2' id='66U-Sv5K8Gljd0a4vFUh8Foy'>",
           "<service xmlns='urn:causerie:pie:0' jid='pubsub.p.test'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>"
           "<configure node='news'>",
           "<field var='pubsub#title'><value>Tea news</value></field>",
           "<field var='pubsub#max_items'><value>10</value></field>",
           "<affiliations node='news'><affiliation jid='alice@p.test' affiliation='owner'/>"
           "<affiliation jid='bob@p.test' affiliation='publisher'/></affiliations>",
           "<subscriptions node='news'><subscription jid='alice@p.test' subscription='subscribed'/></subscriptions>",
           "<items node='news'><item id='n1' publisher='alice@p.test'",
           "<entry xmlns='http://www.w3.org/2005/Atom'><title>Jam or cream first</title></entry>"}) {
    EXPECT_NE(d.find(expected), std::string::npos) << expected << "\n" << d;
  }
  EXPECT_LT(d.find("<user name='bob'>"), d.find("jid='conference.p.test'"));
  EXPECT_LT(d.find("jid='pubsub.p.test'"), d.find("</host>"));
  EXPECT_EQ(d.find("occupant_id_salt"), std::string::npos);
}

namespace {

struct TempCopy {
  std::filesystem::path dir;
  TempCopy()
      : dir(std::filesystem::temp_directory_path() /
            ("causerie-prosody-" + std::to_string(::getpid()) + "-" + util::random_id(6))) {
    std::filesystem::create_directories(dir);
    std::filesystem::copy(std::string(CAUSERIE_TEST_DATA) + "/prosody", dir / "data",
                          std::filesystem::copy_options::recursive);
  }
  ~TempCopy() { std::filesystem::remove_all(dir); }
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir / "data" / rel).parent_path());
    std::ofstream(dir / "data" / rel, std::ios::binary | std::ios::trunc) << text;
  }
};

Config prosody_config() {
  Config c = load_config_text("[[host]]\nname = \"p.test\"\n", "t");
  c.scram_iterations = 4096;
  return c;
}

}  // namespace

TEST(ProsodyData, ImportsRoomsAndNodesIntoTheStores) {
  TempCopy t;
  auto db = storage::sqlite::open_sqlite((t.dir / "db").string());
  auto r = import_prosody_dir(t.dir / "data", *db, prosody_config());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.rooms, 1u);
  EXPECT_EQ(r.services, 2u);
  auto room = db->muc().load_room("tea@conference.p.test", 100);
  ASSERT_TRUE(room);
  EXPECT_EQ(room->name, "Tea party");
  EXPECT_FALSE(room->is_public);
  EXPECT_EQ(room->subject, "Earl Grey or Darjeeling?");
  EXPECT_EQ(room->subject_nick, "Alice");
  EXPECT_EQ(room->affiliations.size(), 3u);
  ASSERT_EQ(room->history.size(), 2u);
  EXPECT_NE(room->history[1].xml.find("Milk first?"), std::string::npos);
  auto nodes = db->pubsub().nodes("pubsub.p.test");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node, "news");
  storage::PubsubItemQuery q;
  q.oldest_first = true;
  auto items = db->pubsub().items(nodes[0].id, q);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, "n1");
  EXPECT_EQ(items[1].publisher, "alice@p.test");
}

// A damaged room or node file stops the import before anything is written: not the accounts of the host,
// not the other component's data. Each message names the file and what is wrong in it.
TEST(ProsodyData, RefusesAMalformedRoomFileImportingNothing) {
  const std::string room = "conference%2ep%2etest/config/tea.dat";
  struct Case {
    std::string file, text, error;
  };
  const std::vector<Case> cases = {
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; }; "
             "[\"bob@p.test\"] = \"boss\" };", "tea.dat: affiliation 'boss' for bob@p.test"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; }; "
             "[\"bob@p.test\"] = { \"member\" } };", "tea.dat: affiliation '(not text)' for bob@p.test"},
      {room, "return { [\"_jid\"] = \"coffee@conference.p.test\"; [\"_data\"] = { persistent = true; } };",
       "tea.dat: holds room 'coffee@conference.p.test', expected 'tea@conference.p.test'"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = \"persistent\" };",
       "tea.dat: no _data table"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = \"yes\" } };",
       "tea.dat: _data.persistent is not true or false"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; "
             "name = { \"Tea\" } } };", "tea.dat: _data.name is not a string"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; "
             "whois = \"everybody\" } };", "tea.dat: _data.whois is 'everybody'"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; "
             "subject = \"x\"; subject_time = -5 } };", "tea.dat: _data.subject_time is not a non-negative number"},
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\";", "tea.dat: line 1"},
      {"conference%2ep%2etest/muc_log/tea.list", "item({ name = \"message\"; attr = { type = \"groupchat\" }; "
                                                 "[1] = 5 }); item(", "tea.list: line 1"},
      // JIDs are checked by the import itself, which names the room.
      {room, "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; }; "
             "[\"a b@@p.test\"] = \"member\" };", "room tea@conference.p.test affiliation: invalid JID 'a b@@p.test'"},
      {"pubsub%2ep%2etest/pubsub_nodes/news.dat", "return { name = \"olds\"; config = {} };",
       "news.dat: not the node 'news' util.pubsub writes (its name is 'olds')"},
      {"conference%2eelsewhere%2eexample/config/tea.dat", "return { [\"_jid\"] = \"tea@conference.elsewhere.example\"; "
                                                          "[\"_data\"] = { persistent = true; } };",
       "the component conference.elsewhere.example is not a subdomain of any host with accounts here"},
  };
  for (const auto& c : cases) {
    TempCopy t;
    t.write(c.file, c.text);
    auto db = storage::sqlite::open_sqlite((t.dir / "db").string());
    auto r = import_prosody_dir(t.dir / "data", *db, prosody_config());
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("nothing was imported"), std::string::npos) << r.error;
    EXPECT_TRUE(db->accounts().list("p.test").empty()) << c.text;
    EXPECT_TRUE(db->muc().services().empty()) << c.text;
    EXPECT_TRUE(db->pubsub().services().empty()) << c.text;
  }
}

// Rooms Prosody itself would not bring back as they were are left out: a live room that was not
// persistent (saved at shutdown with its occupants) and the tombstone a destroyed room leaves.
TEST(ProsodyData, LeavesOutRoomsThatWereNotKept) {
  TempCopy t;
  t.write("conference%2ep%2etest/config/chat.dat",
          "return { [\"_jid\"] = \"chat@conference.p.test\"; [\"_data\"] = { name = \"Chat\" }; "
          "[\"alice@p.test\"] = \"owner\" };");
  t.write("conference%2ep%2etest/config/gone.dat",
          "return { [\"_jid\"] = \"gone@conference.p.test\"; [\"_data\"] = { persistent = true; "
          "destroyed = true; reason = \"moved\" } };");
  auto doc = pie_from_data_dir(t.dir / "data");
  ASSERT_TRUE(doc) << doc.error();
  EXPECT_NE(doc->find("tea@conference.p.test"), std::string::npos);
  EXPECT_EQ(doc->find("chat@conference.p.test"), std::string::npos);
  EXPECT_EQ(doc->find("gone@conference.p.test"), std::string::npos);
}

// Settings the room written by the test's Prosody leaves at their defaults, as mod_muc stores them when set.
TEST(ProsodyData, CarriesAPasswordAndTheOtherRoomSettings) {
  TempCopy t;
  t.write("conference%2ep%2etest/config/tea.dat",
          "return { [\"_jid\"] = \"tea@conference.p.test\"; [\"_data\"] = { persistent = true; password = \"s3cret\"; "
          "moderated = true; allow_member_invites = true; archiving = false; history_length = 5; "
          "presence_broadcast = { moderator = true; participant = true; visitor = false; } }; "
          "[\"alice@p.test\"] = \"owner\"; [\"carol@p.test\"] = \"admin\" };");
  auto doc = pie_from_data_dir(t.dir / "data");
  ASSERT_TRUE(doc) << doc.error();
  for (const char* expected : {
           "<room jid='tea@conference.p.test' public='true'>",
           "<field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field>"
           "<field var='muc#roomconfig_roomsecret'><value>s3cret</value></field>",
           "<field var='muc#roomconfig_moderatedroom'><value>1</value></field>",
           "<field var='muc#roomconfig_allowinvites'><value>1</value></field>",
           "<field var='muc#roomconfig_enablearchiving'><value>0</value></field>",
           "<field var='muc#roomconfig_whois'><value>moderators</value></field>",
           "<field var='muc#maxhistoryfetch'><value>5</value></field>",
           "<field var='muc#roomconfig_presencebroadcast'><value>moderator</value><value>participant</value></field>",
           "<item affiliation='admin' jid='carol@p.test'/>"}) {
    EXPECT_NE(doc->find(expected), std::string::npos) << expected << "\n" << *doc;
  }
  EXPECT_EQ(doc->find("<subject"), std::string::npos);
  // And the import takes them.
  auto db = storage::sqlite::open_sqlite((t.dir / "db").string());
  auto r = import_prosody_dir(t.dir / "data", *db, prosody_config());
  ASSERT_TRUE(r.ok) << r.error;
  auto room = db->muc().load_room("tea@conference.p.test", 100);
  ASSERT_TRUE(room);
  EXPECT_NE(room->config.find("s3cret"), std::string::npos);
  EXPECT_EQ(room->history.size(), 2u);  // the archive's two messages, fewer than the 5 kept
}
