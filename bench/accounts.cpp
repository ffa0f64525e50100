// `causerie-bench accounts`: writes the benchmark's accounts for each server, so that every server
// gets the same users, passwords and rosters without one slow CLI call per account:
//   --format xep0227  a XEP-0227 (v1.1) file with SCRAM credentials and rosters, read by
//                     `causerie user import` and by `ejabberdctl import_piefxis`;
//   --format prosody  Prosody's internal storage tree (accounts/ and roster/ under the host).
//   --format ejabberd the same XEP-0227 file as ejabberd 23.01 reads it (see COMPAT below);
// Every account has the same password and salt, so PBKDF2 runs once here and once in the generator.
// Users u0..u(count-1); the first --roster-users of them get a ring roster: u(i±1)…u(i±size/2),
// subscription both.
#include "accounts.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/sasl/scram.hpp"
#include "core/util/encoding.hpp"

namespace causerie::bench {

namespace {

std::vector<unsigned> ring(unsigned i, unsigned users, unsigned size) {
  std::vector<unsigned> r;
  if (users < 2) return r;
  unsigned half = std::min(size / 2, (users - 1) / 2);
  for (unsigned k = 1; k <= half; ++k) {
    r.push_back((i + k) % users);
    r.push_back((i + users - k) % users);
  }
  return r;
}

std::string hex(std::string_view raw) { return util::hex_encode(raw); }

void write_xep0227(const AccountSpec& s, const sasl::ScramCredentials& c1, const sasl::ScramCredentials& c256) {
  std::ofstream f(s.out, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write " + s.out);
  // COMPAT(ejabberd 23.01): its XEP-0227 import base64-decodes the values and stores the raw bytes where
  // its SCRAM code expects base64 text (its export writes base64 of that text). The file made for it
  // therefore carries base64 of base64; the XEP's own form is single base64.
  bool twice = s.format == "ejabberd";
  auto b64 = [&](std::string_view raw) {
    return twice ? util::base64_encode(util::base64_encode(raw)) : util::base64_encode(raw);
  };
  auto creds = [&](const char* mech, const sasl::ScramCredentials& c) {
    return std::string("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='") + mech + "'><iter-count>" +
           std::to_string(c.iterations) + "</iter-count><salt>" + b64(c.salt) + "</salt><server-key>" +
           b64(c.server_key) + "</server-key><stored-key>" + b64(c.stored_key) + "</stored-key></scram-credentials>";
  };
  std::string both;
  // ejabberd reads only the first <scram-credentials/>: the preferred hash goes first.
  if (s.hashes == "sha256") both = creds("SCRAM-SHA-256", c256);
  else if (s.hashes == "sha1") both = creds("SCRAM-SHA-1", c1);
  else both = creds("SCRAM-SHA-1", c1) + creds("SCRAM-SHA-256", c256);
  f << "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='" << s.domain
    << "'>\n";
  for (unsigned i = 0; i < s.count; ++i) {
    f << "<user name='" << s.prefix << i << "'>" << both;
    if (i < s.roster_users) {
      f << "<query xmlns='jabber:iq:roster'>";
      for (unsigned c : ring(i, s.roster_users, s.roster_size))
        f << "<item jid='" << s.prefix << c << '@' << s.domain << "' subscription='both'/>";
      f << "</query>";
    }
    f << "</user>\n";
  }
  f << "</host>\n</server-data>\n";
}

// Prosody 0.12 util.datamanager: <data>/<host, '.' as %2e>/<store>/<user>.dat holding "return {…};".
void write_prosody(const AccountSpec& s, const sasl::ScramCredentials& c) {
  namespace fs = std::filesystem;
  std::string host;
  for (char ch : s.domain) host += ch == '.' ? std::string("%2e") : std::string(1, ch);
  fs::path base = fs::path(s.out) / host;
  fs::create_directories(base / "accounts");
  fs::create_directories(base / "roster");
  for (unsigned i = 0; i < s.count; ++i) {
    std::string name = s.prefix + std::to_string(i);
    std::ofstream a(base / "accounts" / (name + ".dat"));
    a << "return {\n\t[\"iteration_count\"] = " << c.iterations << ";\n\t[\"salt\"] = \"" << c.salt
      << "\";\n\t[\"stored_key\"] = \"" << hex(c.stored_key) << "\";\n\t[\"server_key\"] = \"" << hex(c.server_key)
      << "\";\n};\n";
    if (i >= s.roster_users) continue;
    std::ofstream r(base / "roster" / (name + ".dat"));
    r << "return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t};\n";
    for (unsigned k : ring(i, s.roster_users, s.roster_size))
      r << "\t[\"" << s.prefix << k << '@' << s.domain << "\"] = {\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"groups\"] = {};\n\t};\n";
    r << "};\n";
  }
}

}  // namespace

void write_accounts(const AccountSpec& s) {
  for (char ch : s.salt)
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) throw std::runtime_error("--salt: plain characters only");
  auto c1 = sasl::derive_scram_credentials(sasl::ScramHash::kSha1, s.password, s.salt, s.iterations);
  auto c256 = sasl::derive_scram_credentials(sasl::ScramHash::kSha256, s.password, s.salt, s.iterations);
  if (s.format == "xep0227" || s.format == "ejabberd") write_xep0227(s, c1, c256);
  else if (s.format == "prosody") write_prosody(s, s.hashes == "sha256" ? c256 : c1);
  else throw std::runtime_error("--format: xep0227, ejabberd or prosody");
}

}  // namespace causerie::bench
