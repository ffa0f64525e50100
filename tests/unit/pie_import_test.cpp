// XEP-0227 import and export (`causerie import`/`export`): one <user/> at a time, table-driven; a server's
// worth of data exported, imported into an empty database and exported again byte for byte; hostile and
// malformed files refused with nothing written; XIncludes as ejabberd writes them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/pie_import.hpp"
#include "core/config/config.hpp"
#include "core/sasl/scram.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "modules/muc/room_config.hpp"
#include "modules/portability/pie_export.hpp"
#include "modules/pubsub/node_config.hpp"
#include "storage/account_store.hpp"
#include "storage/archive_store.hpp"
#include "storage/blocking_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/muc_store.hpp"
#include "storage/offline_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;

namespace {

// XEP-0227 §3.2.1 example shape, with keys derived here so the test can check them.
std::string scram_el(const char* mech, const sasl::ScramCredentials& c, std::string iter = "") {
  return std::string("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='") + mech + "'><iter-count>" +
         (iter.empty() ? std::to_string(c.iterations) : iter) + "</iter-count><salt>" + util::base64_encode(c.salt) +
         "</salt><server-key>" + util::base64_encode(c.server_key) + "</server-key><stored-key>" +
         util::base64_encode(c.stored_key) + "</stored-key></scram-credentials>";
}

const sasl::ScramCredentials& sha1() {
  static auto c = sasl::derive_scram_credentials(sasl::ScramHash::kSha1, "pencil", "salt-1", 4096);
  return c;
}
const sasl::ScramCredentials& sha256() {
  static auto c = sasl::derive_scram_credentials(sasl::ScramHash::kSha256, "pencil", "salt-2", 4096);
  return c;
}

std::string user(const std::string& attrs, const std::string& body) {
  return "<user xmlns='urn:xmpp:pie:0' " + attrs + ">" + body + "</user>";
}

std::string both() { return scram_el("SCRAM-SHA-1", sha1()) + scram_el("SCRAM-SHA-256", sha256()); }

struct TempDir {
  std::filesystem::path dir;
  TempDir()
      : dir(std::filesystem::temp_directory_path() / ("causerie-pie-" + std::to_string(::getpid()) + "-" +
                                                       util::random_id(6))) {
    std::filesystem::create_directories(dir);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::unique_ptr<storage::Storage> open(const std::string& name) {
    return storage::sqlite::open_sqlite((dir / name).string());
  }
};

Config test_config() {
  Config c = load_config_text("[[host]]\nname = \"example.com\"\n[[host]]\nname = \"example.net\"\n", "t");
  c.scram_iterations = 4096;
  return c;
}

std::string doc(const std::string& hosts) {
  return "<?xml version='1.0'?><server-data xmlns='urn:xmpp:pie:0'>" + hosts + "</server-data>";
}

PieImportResult import_text(const std::string& text, storage::Storage& db, PieLimits limits = {}) {
  std::istringstream in(text);
  PieImportOptions o;
  o.limits = limits;
  return import_pie(in, db, test_config(), o);
}

std::string export_all(storage::Storage& db) {
  std::ostringstream out;
  portability::ExportScope scope;
  scope.hosts = {"example.com", "example.net"};
  portability::export_pie(db, scope, out);
  return out.str();
}

TEST(PieImport, ParsesUsers) {
  std::string roster =
      "<query xmlns='jabber:iq:roster'><item jid='Juliet@Example.com' name='J' subscription='both'>"
      "<group>Friends</group></item><item jid='nurse@example.com' subscription='none' ask='subscribe'/></query>";
  struct Case {
    std::string xml;
    std::string error;  // substring of the error; empty = accepted
    size_t roster_items = 0;
    unsigned skipped = 0;
  };
  std::vector<Case> cases = {
      {user("name='Romeo'", both() + roster), "", 2, 0},
      {user("name='romeo' password='pencil'", ""), "", 0, 0},
      // One hash only is kept as it is (Prosody's accounts): that mechanism alone works.
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1())), "", 0, 0},
      {user("name='romeo' password='pencil'", scram_el("SCRAM-SHA-1", sha1())), "", 0, 0},
      {user("name='romeo'", both() + scram_el("SCRAM-SHA-512", sha256())), "", 0, 1},
      {user("name='romeo'", both() + "<vCard xmlns='vcard-temp'/><offline-messages/><x xmlns='other'/>"), "", 0, 1},
      {user("name=''", both()), "invalid user name", 0, 0},
      {user("name='a@b'", both()), "invalid user name", 0, 0},
      {user("name='romeo'", ""), "needs SCRAM-SHA-1 or SCRAM-SHA-256 credentials or a password", 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "0")), "iter-count", 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "012")), "iter-count", 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "100")), "outside [4096", 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "4000000000")), "outside [4096", 0, 0},
      // SHA-256 keys given as SHA-1 credentials: wrong size.
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha256())), "not 20 bytes", 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1()) + scram_el("SCRAM-SHA-1", sha1())), "two sets", 0, 0},
      {user("name='romeo'", both() + "<query xmlns='jabber:iq:roster'><item jid='a@b/c'/></query>"), "invalid JID",
       0, 0},
      {user("name='romeo'", both() + "<query xmlns='jabber:iq:roster'><item jid='a@@b'/></query>"), "invalid JID", 0,
       0},
      {user("name='romeo'", both() + "<query xmlns='jabber:iq:roster'><item jid='a@b' subscription='remove'/></query>"),
       "subscription 'remove'", 0, 0},
      {user("name='romeo'", both() + "<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='A@b'/></query>"),
       "appears twice", 0, 0},
      {user("name='romeo' password=''", ""), "needs", 0, 0},
      {user("name='romeo'", both() + "<offline-messages><presence xmlns='jabber:client'/></offline-messages>"),
       "expected a <message", 0, 0},
      {user("name='romeo'", both() + "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'/></pubsub>"),
       "without <configure/>", 0, 0},
      {user("name='romeo'", both() + "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'>"
                                     "<x xmlns='jabber:x:data' type='submit'><field var='pubsub#access_model'>"
                                     "<value>everyone-please</value></field></x></configure></pubsub>"),
       "refusing rather than opening the node wider", 0, 0},
  };
  for (const auto& c : cases) {
    auto el = xml::parse_fragment(c.xml);
    ASSERT_TRUE(el) << c.xml;
    auto u = parse_pie_user(*el, "example.com");
    if (!c.error.empty()) {
      ASSERT_FALSE(u) << c.xml;
      EXPECT_NE(u.error().find(c.error), std::string::npos) << u.error();
      continue;
    }
    ASSERT_TRUE(u) << c.xml << ": " << u.error();
    EXPECT_EQ(u->account.jid, "romeo@example.com");
    EXPECT_EQ(u->roster.size(), c.roster_items) << c.xml;
    EXPECT_EQ(u->skipped_elements, c.skipped) << c.xml;
  }
}

TEST(PieImport, KeepsCredentialsAndRosterDetails) {
  auto el = xml::parse_fragment(user(
      "name='romeo'", both() +
                          "<query xmlns='jabber:iq:roster'><item jid='juliet@example.com' name='J' subscription='from' "
                          "ask='subscribe'><group>A</group><group>B</group></item></query>"
                          "<presence xmlns='jabber:client' type='subscribe' from='nurse@example.com/x'/>"));
  auto u = parse_pie_user(*el, "example.com");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(u->account.sha1.stored_key, sha1().stored_key);
  EXPECT_EQ(u->account.sha1.salt, "salt-1");
  EXPECT_EQ(u->account.sha256.server_key, sha256().server_key);
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha256, u->account.sha256, "pencil"));
  ASSERT_EQ(u->roster.size(), 2u);
  EXPECT_EQ(u->roster[0].jid, "juliet@example.com");
  EXPECT_EQ(u->roster[0].subscription, storage::Subscription::kFrom);
  EXPECT_TRUE(u->roster[0].ask);
  EXPECT_EQ(u->roster[0].groups, (std::vector<std::string>{"A", "B"}));
  // XEP-0227 §3.9: a pending request from someone not in the roster is kept as hidden state.
  EXPECT_EQ(u->roster[1].jid, "nurse@example.com");
  EXPECT_TRUE(u->roster[1].hidden && u->roster[1].pending_in);
}

// COMPAT(ejabberd 23.01): its export_piefxis writes salt and keys base64-encoded twice. This element is
// what it wrote for alice@e.test, password "alicepass".
TEST(PieImport, ReadsEjabberdDoubleEncodedCredentials) {
  auto el = xml::parse_fragment(
      "<user xmlns='urn:xmpp:pie:0' name='alice'><scram-credentials xmlns='urn:xmpp:pie:0#scram' "
      "mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count><salt>b2xKZWRpRFJtNUZvaUVFaVpiK3pZQT09</salt>"
      "<server-key>TmRSNTI2TFFxYS9vcCtuNW1tbG5uaDNnMy84PQ==</server-key>"
      "<stored-key>Vm5HcGVEaVIwN1Z1TjhnbjJFdkhtOWJDMU5zPQ==</stored-key></scram-credentials></user>");
  ASSERT_TRUE(el);
  auto u = parse_pie_user(*el, "e.test");
  ASSERT_TRUE(u) << u.error();
  EXPECT_TRUE(u->sha1 && !u->sha256);
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha1, u->account.sha1, "alicepass"));
  EXPECT_FALSE(sasl::verify_password(sasl::ScramHash::kSha1, u->account.sha1, "alicepasS"));
}

// Fills a database through the stores with one of everything the export covers.
void populate(storage::Storage& db) {
  storage::Account a{"romeo@example.com", sha1(), sha256(), 1700000000};
  ASSERT_TRUE(db.accounts().create(a));
  ASSERT_TRUE(db.accounts().create({"juliet@example.com", sha1(), sha256(), 1700000001}));
  // Imported from Prosody earlier: SHA-1 keys only.
  ASSERT_TRUE(db.accounts().create({"nurse@example.net", sha1(), {}, 1700000002}));
  storage::RosterItem r;
  r.jid = "juliet@example.com";
  r.name = "Juliet";
  r.subscription = storage::Subscription::kBoth;
  r.groups = {"Verona", "Capulets"};
  db.roster().put(a.jid, r);
  storage::RosterItem pending;
  pending.jid = "tybalt@example.net";
  pending.pending_in = true;
  pending.hidden = true;
  pending.pending_in_stanza = "<presence xmlns='jabber:client' type='subscribe' from='tybalt@example.net/sword'>"
                              "<nick xmlns='http://jabber.org/protocol/nick'>T</nick></presence>";
  db.roster().put(a.jid, pending);
  storage::RosterItem approved;
  approved.jid = "friar@example.net";
  approved.approved = true;
  approved.hidden = true;
  db.roster().put(a.jid, approved);
  db.kv().put(a.jid, "vcard", "", "<vCard xmlns='vcard-temp'><FN>Romeo Montague</FN></vCard>");
  db.kv().put(a.jid, "private", "exodus:prefs", "<exodus xmlns='exodus:prefs'><defaultnick>R</defaultnick></exodus>");
  db.kv().put(a.jid, "last", "", "1700000100\nGone to Mantua");
  db.offline().push(a.jid,
                    "<message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.com' "
                    "type='chat'><body>Wherefore?</body><delay xmlns='urn:xmpp:delay' from='example.com' "
                    "stamp='2023-11-14T22:13:20Z'/></message>",
                    100);
  namespace ps = modules::pubsub;
  ps::ServiceLimits limits;
  ps::NodeConfig blog = ps::default_config(true, limits);
  blog.access_model = ps::AccessModel::kOpen;
  int64_t node = db.pubsub().create_node(
      {0, a.jid, "urn:xmpp:microblog:0", ps::serialize_config(blog, limits), a.jid, 1700000000123, 0});
  ASSERT_GT(node, 0);
  db.pubsub().put_item(node, {"post-1", a.jid, "<entry xmlns='http://www.w3.org/2005/Atom'><title>One</title></entry>",
                              "presence", 1700000200000, 0});
  db.pubsub().put_item(node, {"post-2", a.jid, "<entry xmlns='http://www.w3.org/2005/Atom'><title>Two</title></entry>",
                              "", 1700000300456, 0});
  db.pubsub().put_subscription(node, {"juliet@example.com/balcony", "sub-1", "subscribed",
                                      ps::serialize_options(ps::SubscriptionOptions{true, true, {"chat"}})});
  db.pubsub().set_affiliation(node, "juliet@example.com", "member");
  int64_t svc = db.pubsub().create_node({0, "pubsub.example.com", "news",
                                         ps::serialize_config(ps::default_config(false, limits), limits),
                                         "juliet@example.com", 1700000000000, 0});
  db.pubsub().put_item(svc, {"n1", "juliet@example.com", "<p xmlns='urn:example'>Hello</p>", "", 1700000400000, 0});
  db.pubsub().set_affiliation(svc, "juliet@example.com", "owner");
  storage::ArchivedMessage m1{0, "sid-1", "juliet@example.com/balcony", false, "m1",
                              "<message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.com' "
                              "id='m1' type='chat'><body>Hi</body></message>",
                              "Hi"};
  db.archive().append(a.jid, m1, 1700000500000);
  storage::ArchivedMessage m2{0, "sid-2", "juliet@example.com", true, "m2",
                              "<message xmlns='jabber:client' from='romeo@example.com/orchard' to='juliet@example.com' "
                              "id='m2' type='chat'><body>Hello</body></message>",
                              "Hello"};
  db.archive().append(a.jid, m2, 1700000500001);
  db.archive().set_prefs(a.jid, {"roster", {"juliet@example.com"}, {"tybalt@example.net"}});
  db.blocking().block(a.jid, "tybalt@example.net");
  namespace muc = modules::muc;
  muc::RoomConfig rc;
  rc.name = "Balcony";
  rc.persistent = true;
  rc.members_only = true;
  storage::MucRoom room;
  room.jid = "balcony@conference.example.com";
  room.service = "conference.example.com";
  room.is_public = true;
  room.name = "Balcony";
  room.config = muc::serialize_config(rc);
  room.subject = "Love";
  room.subject_nick = "romeo";
  room.subject_stamp_ms = 1700000600000;
  db.muc().save_room(room);
  db.muc().set_affiliation(room.jid, {"romeo@example.com", "owner", "romeo", ""});
  db.muc().set_affiliation(room.jid, {"tybalt@example.net", "outcast", "", "Quarrelsome"});
  db.muc().append_history(room.jid,
                          {1700000700000, "<message xmlns='jabber:client' from='balcony@conference.example.com/romeo' "
                                          "type='groupchat'><body>In the room</body></message>"},
                          50);
  storage::ArchivedMessage rm{0, "room-1", "balcony@conference.example.com/romeo", false, "",
                              "<message xmlns='jabber:client' from='balcony@conference.example.com/romeo' "
                              "type='groupchat'><body>In the room</body></message>",
                              "In the room"};
  db.archive().append(room.jid, rm, 1700000700000);
}

TEST(PieExport, RoundTripGivesTheSameDocument) {
  TempDir t;
  auto first = t.open("first.db");
  populate(*first);
  std::string exported = export_all(*first);
  // Spot checks of the XEP-0227 shapes.
  for (const char* expected :
       {"<host jid='example.com'>", "<user name='romeo'>", "mechanism='SCRAM-SHA-256'",
        "<query xmlns='jabber:iq:roster'><item jid='juliet@example.com' name='Juliet' subscription='both'>",
        "<presence xmlns='jabber:client' type='subscribe' from='tybalt@example.net/sword'>",
        "<vCard xmlns='vcard-temp'><FN>Romeo Montague</FN></vCard>", "<offline-messages>",
        "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:xmpp:microblog:0'",
        "<item id='post-1' publisher='romeo@example.com'", "<archive xmlns='urn:xmpp:pie:0#mam'>",
        "stamp='2023-11-14T22:21:40Z'", "stamp='2023-11-14T22:21:40.001Z'",
        "<service xmlns='urn:causerie:pie:0' jid='conference.example.com'>",
        "<service xmlns='urn:causerie:pie:0' jid='pubsub.example.com'>", "<user name='nurse'>"}) {
    EXPECT_NE(exported.find(expected), std::string::npos) << expected << "\n" << exported;
  }
  size_t nurse = exported.find("<user name='nurse'>");
  std::string nurse_line = exported.substr(nurse, exported.find('\n', nurse) - nurse);
  EXPECT_NE(nurse_line.find("mechanism='SCRAM-SHA-1'"), std::string::npos) << nurse_line;
  EXPECT_EQ(nurse_line.find("SCRAM-SHA-256"), std::string::npos) << nurse_line;

  auto second = t.open("second.db");
  PieImportResult r = import_text(exported, *second);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accounts, 3u);
  EXPECT_EQ(r.rooms, 1u);
  EXPECT_EQ(r.services, 2u);
  EXPECT_EQ(r.skipped_elements, 0u);
  EXPECT_EQ(export_all(*second), exported);

  // What was imported works, not only re-exports: the same credentials, the archive's times, items' order.
  auto romeo = second->accounts().get("romeo@example.com");
  ASSERT_TRUE(romeo);
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha256, romeo->sha256, "pencil"));
  EXPECT_EQ(second->accounts().get("nurse@example.net")->sha256.iterations, 0u);
  auto last = second->archive().last("romeo@example.com");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->time_ms(), 1700000500001);
  EXPECT_TRUE(last->outgoing);
  EXPECT_EQ(last->with, "juliet@example.com");
  auto node = second->pubsub().node("romeo@example.com", "urn:xmpp:microblog:0");
  ASSERT_TRUE(node);
  storage::PubsubItemQuery q;
  auto items = second->pubsub().items(node->id, q);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, "post-2");  // newest first
  EXPECT_EQ(items[1].access, "presence");
  EXPECT_EQ(second->roster().item("romeo@example.com", "tybalt@example.net")->pending_in, true);
  EXPECT_EQ(second->offline().count("romeo@example.com"), 1u);

  // One account alone.
  std::ostringstream one;
  portability::export_pie(*first, {{"example.com"}, "romeo@example.com"}, one);
  EXPECT_EQ(one.str().find("<user name='juliet'>"), std::string::npos);
  EXPECT_EQ(one.str().find("<service"), std::string::npos);
  auto third = t.open("third.db");
  PieImportResult r3 = import_text(one.str(), *third);
  ASSERT_TRUE(r3.ok) << r3.error;
  EXPECT_EQ(r3.accounts, 1u);
}

// Nothing of a refused file is written: the database exports the same before and after.
void expect_refused(storage::Storage& db, const std::string& file, const std::string& error, PieLimits limits = {}) {
  std::string before = export_all(db);
  PieImportResult r = import_text(file, db, limits);
  EXPECT_FALSE(r.ok) << file.substr(0, 300);
  EXPECT_NE(r.error.find(error), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("nothing was imported"), std::string::npos) << r.error;
  EXPECT_EQ(export_all(db), before);
}

TEST(PieImport, RefusesHostileAndMalformedFilesWritingNothing) {
  TempDir t;
  auto db = t.open("db");
  ASSERT_TRUE(db->accounts().create({"existing@example.com", sha1(), sha256(), 1}));
  std::string good = "<user name='a'>" + both() + "</user>";
  std::string laughs =
      "<?xml version='1.0'?><!DOCTYPE server-data [<!ENTITY a 'lol'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>"
      "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'>]><server-data xmlns='urn:xmpp:pie:0'><host jid='example.com'>"
      "<user name='x' password='&c;'/></host></server-data>";
  expect_refused(*db, laughs, "DOCTYPE is not allowed");
  expect_refused(*db,
                 "<?xml version='1.0'?><!DOCTYPE x SYSTEM 'file:///etc/passwd'><server-data xmlns='urn:xmpp:pie:0'/>",
                 "DOCTYPE is not allowed");
  // Good users before the bad one are not kept either.
  expect_refused(*db, doc("<host jid='example.com'>" + good + "<user name='b'>" +
                          scram_el("SCRAM-SHA-256", sha256(), "1") + "</user></host>"),
                 "outside [4096");
  expect_refused(*db, doc("<host jid='example.com'>" + good + good + "</host>"), "already exists");
  expect_refused(*db, doc("<host jid='example.com'>" + good + "<user name='existing'>" + both() + "</user></host>"),
                 "already exists");
  expect_refused(*db, doc("<host jid='example.com'>" + good + "</host><host jid='elsewhere.org'>" + good + "</host>"),
                 "not served");
  expect_refused(*db, doc("<host jid='example.com'>" + good + "<user name='j&#x0;'/></host>"), "invalid");
  expect_refused(*db, doc("<host jid='example.com'>" + good), "mismatched tag");
  expect_refused(*db, "<server-data xmlns='urn:example'/>", "root element");
  expect_refused(*db, doc("<host jid='example.com'>" + good + std::string(200, ' ') + "</host>"),
                 "larger than the import limit", PieLimits{100, 1 << 20, 48, 2});
  expect_refused(*db, doc("<host jid='example.com'><user name='big'>" + both() + "<x xmlns='y'>" +
                          std::string(5000, 'z') + "</x></user></host>"),
                 "one element is larger", PieLimits{1 << 20, 2000, 48, 2});
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += "<d>";
  expect_refused(*db, doc("<host jid='example.com'><user name='deep'>" + deep), "nested too deep");
  expect_refused(*db, doc("<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='/etc/passwd'/>"),
                 "not a file name in the same directory");
  expect_refused(*db, doc("<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='../x.xml'/>"),
                 "not a file name in the same directory");
  expect_refused(*db, doc("<host jid='example.com'><service xmlns='urn:causerie:pie:0' jid='muc.elsewhere.org'/></host>"),
                 "not under host");
  EXPECT_EQ(db->accounts().list("example.com"), std::vector<std::string>{"existing@example.com"});
}

TEST(PieImport, ReadsXIncludedHostFiles) {
  TempDir t;
  // ejabberd's export_piefxis: the main file includes one file per host.
  std::ofstream(t.dir / "main.xml") << "<?xml version='1.0' encoding='utf-8'?>\n<server-data "
                                       "xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>"
                                       "<xi:include href='example.com.xml'/></server-data>";
  std::ofstream(t.dir / "example.com.xml") << "<?xml version='1.0' encoding='utf-8'?>\n<host xmlns='urn:xmpp:pie:0' "
                                              "jid='example.com'><user name='inc' password='secret-pw'/></host>";
  auto db = t.open("db");
  PieImportResult r = import_pie_file(t.dir / "main.xml", *db, test_config());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accounts, 1u);
  EXPECT_TRUE(db->accounts().exists("inc@example.com"));
}

}  // namespace
