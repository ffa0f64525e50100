// XEP-0227 import (`causerie user import`): one <user/> at a time, table-driven, then a whole file
// streamed into a real SQLite database.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli/pie_import.hpp"
#include "core/config/config.hpp"
#include "core/sasl/scram.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
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

TEST(PieImport, ParsesUsers) {
  std::string both = scram_el("SCRAM-SHA-1", sha1()) + scram_el("SCRAM-SHA-256", sha256());
  std::string roster =
      "<query xmlns='jabber:iq:roster'><item jid='Juliet@Example.com' name='J' subscription='both'>"
      "<group>Friends</group></item><item jid='nurse@example.com' subscription='none' ask='subscribe'/></query>";
  struct Case {
    std::string xml;
    std::string error;  // substring of the error; empty = accepted
    bool credentials;
    size_t roster_items;
    unsigned skipped;
  };
  std::vector<Case> cases = {
      {user("name='Romeo'", both + roster), "", true, 2, 0},
      {user("name='romeo' password='pencil'", ""), "", false, 0, 0},
      // One hash only: the password is needed to derive the other.
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1())), "needs SCRAM-SHA-1 and SCRAM-SHA-256", false, 0, 0},
      {user("name='romeo' password='pencil'", scram_el("SCRAM-SHA-1", sha1())), "", false, 0, 0},
      {user("name='romeo'", both + scram_el("SCRAM-SHA-512", sha256())), "", true, 0, 0},
      {user("name='romeo'", both + "<vCard xmlns='vcard-temp'/><offline-messages/>"), "", true, 0, 2},
      {user("name=''", both), "invalid user name", false, 0, 0},
      {user("name='a@b'", both), "invalid user name", false, 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "0") + scram_el("SCRAM-SHA-256", sha256())),
       "iter-count", false, 0, 0},
      {user("name='romeo'", scram_el("SCRAM-SHA-1", sha1(), "012") + scram_el("SCRAM-SHA-256", sha256())),
       "iter-count", false, 0, 0},
      {user("name='romeo'", both + "<query xmlns='jabber:iq:roster'><item jid='a@b/c'/></query>"), "bad roster item",
       false, 0, 0},
      {user("name='romeo' password=''", ""), "needs", false, 0, 0},
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
    EXPECT_EQ(u->has_credentials, c.credentials) << c.xml;
    EXPECT_EQ(u->roster.size(), c.roster_items) << c.xml;
    EXPECT_EQ(u->skipped_elements, c.skipped) << c.xml;
  }
}

TEST(PieImport, KeepsCredentialsAndRosterDetails) {
  auto el = xml::parse_fragment(user("name='romeo'", scram_el("SCRAM-SHA-1", sha1()) + scram_el("SCRAM-SHA-256", sha256()) +
                                                         "<query xmlns='jabber:iq:roster'><item jid='juliet@example.com' "
                                                         "name='J' subscription='from' ask='subscribe'><group>A</group>"
                                                         "<group>B</group></item></query>"));
  auto u = parse_pie_user(*el, "example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->account.sha1.stored_key, sha1().stored_key);
  EXPECT_EQ(u->account.sha1.salt, "salt-1");
  EXPECT_EQ(u->account.sha256.server_key, sha256().server_key);
  EXPECT_EQ(u->account.sha256.iterations, 4096u);
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha256, u->account.sha256, "pencil"));
  ASSERT_EQ(u->roster.size(), 1u);
  EXPECT_EQ(u->roster[0].jid, "juliet@example.com");
  EXPECT_EQ(u->roster[0].name, "J");
  EXPECT_EQ(u->roster[0].subscription, storage::Subscription::kFrom);
  EXPECT_TRUE(u->roster[0].ask);
  EXPECT_EQ(u->roster[0].groups, (std::vector<std::string>{"A", "B"}));
}

TEST(PieImport, StreamsAFileIntoTheDatabase) {
  auto dir = std::filesystem::temp_directory_path() / ("causerie-pie-" + util::random_id(6));
  std::filesystem::create_directories(dir);
  Config config = load_config_text("[[host]]\nname = \"example.com\"\n", "t");
  config.scram_iterations = 4096;
  std::string creds = scram_el("SCRAM-SHA-1", sha1()) + scram_el("SCRAM-SHA-256", sha256());
  std::string file = "<?xml version='1.0'?><server-data xmlns='urn:xmpp:pie:0'><host jid='Example.COM'>";
  for (int i = 0; i < 1200; ++i)  // more than one transaction batch
    file += "<user name='u" + std::to_string(i) + "'>" + creds +
            "<query xmlns='jabber:iq:roster'><item jid='u0@example.com' subscription='both'/></query></user>";
  file += "<user name='pw' password='pencil'/>";
  file += "</host><host jid='other.org'><user name='x' password='pencil'/></host>"
          "<host jid='example.com'><user name='bad@name'/></host></server-data>";
  {
    auto db = storage::sqlite::open_sqlite((dir / "db.sqlite").string());
    std::istringstream in(file);
    PieImportResult r = import_pie(in, *db, config);
    EXPECT_EQ(r.imported, 1201u);
    EXPECT_EQ(r.roster_items, 1200u);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_NE(r.errors[0].find("other.org"), std::string::npos);
    EXPECT_NE(r.errors[1].find("invalid user name"), std::string::npos);
    auto a = db->accounts().get("u1199@example.com");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->sha1.stored_key, sha1().stored_key);
    auto pw = db->accounts().get("pw@example.com");
    ASSERT_TRUE(pw);
    EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha1, pw->sha1, "pencil"));
    EXPECT_EQ(db->roster().items("u7@example.com").size(), 1u);

    std::istringstream again(file);
    PieImportResult r2 = import_pie(again, *db, config);
    EXPECT_EQ(r2.imported, 0u);
    EXPECT_EQ(r2.existing, 1201u);
  }
  {
    auto db = storage::sqlite::open_sqlite((dir / "db2.sqlite").string());
    std::istringstream broken("<server-data xmlns='urn:xmpp:pie:0'><host jid='example.com'><user name='a'");
    PieImportResult r = import_pie(broken, *db, config);
    EXPECT_EQ(r.imported, 0u);
    ASSERT_EQ(r.errors.size(), 1u);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
