// XEP-0227 v1.1 (Portable Import/Export Format for XMPP-IM Servers): the import side of `causerie import`
// (and its older name `causerie user import`). Reads what pie_export.hpp writes, and what other servers
// write (ejabberd's export_piefxis, Prosody's data through prosody_data.hpp): accounts (SCRAM credentials
// §3.2.1, or a plaintext password from which credentials are derived), rosters with pending requests,
// vcard-temp, private XML, offline messages, PEP nodes with configuration, affiliations, subscriptions
// and items, message archives, and our extensions (services with MUC rooms and pubsub nodes, blocklists,
// archive preferences, other per-account documents).
//
// All or nothing: everything is validated as it is read (PieReader refuses DTDs and oversized input) and
// written inside one transaction, rolled back at the first problem — a refused file leaves the database
// as it was. Refused: users of hosts the configuration does not serve, accounts that already exist or
// appear twice, invalid JIDs, SCRAM credentials of the wrong size or with an iteration count outside
// [4096, 10 000 000], malformed stanzas, items or forms. Foreign node configurations keep only the fields
// this server knows (XEP-0227 §3.10 "SHOULD ignore"), but an access model it cannot honour is refused
// rather than replaced by a weaker default.
//
// Runs on the CLI's thread with its own Storage connection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "cli/pie_reader.hpp"
#include "core/xml/element.hpp"
#include "storage/account_store.hpp"
#include "storage/archive_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/muc_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage.hpp"

namespace causerie {

struct Config;

struct PieNode {
  storage::PubsubNode node;  // config normalised to this server's stored form
  std::vector<storage::PubsubItem> items;  // oldest first
  std::vector<storage::PubsubAffiliation> affiliations;
  std::vector<storage::PubsubSubscription> subscriptions;
};

struct PieArchived {
  storage::ArchivedMessage message;
  int64_t time_ms = 0;
};

struct PieUser {
  storage::Account account;
  bool sha1 = false, sha256 = false;  // which credentials the file gave
  std::string password;               // when one is missing and the file has a password
  std::vector<storage::RosterItem> roster;
  std::vector<storage::KeyValueEntry> documents;  // vCard, private XML, other stores
  std::vector<std::string> offline;               // serialized messages, oldest first
  std::vector<PieNode> pep;
  std::vector<PieArchived> archive;
  std::optional<storage::ArchivePrefs> prefs;
  std::vector<std::string> blocked;
  unsigned skipped_elements = 0;  // user data this importer does not handle
};

struct PieRoom {
  storage::MucRoom room;  // with affiliations and history
  std::vector<PieArchived> archive;
};

struct PieService {
  std::string domain;
  std::vector<PieRoom> rooms;
  std::vector<PieNode> nodes;
  unsigned skipped_elements = 0;
};

// Pure: one <user xmlns='urn:xmpp:pie:0'/> of host `host` (already prepared).
tl::expected<PieUser, std::string> parse_pie_user(const xml::Element& user, const std::string& host);
// Pure: one <service xmlns='urn:causerie:pie:0'/> under host `host`.
tl::expected<PieService, std::string> parse_pie_service(const xml::Element& service, const std::string& host);

struct PieImportResult {
  bool ok = false;
  uint64_t accounts = 0, roster_items = 0, documents = 0, offline = 0, nodes = 0, items = 0, archived = 0,
           rooms = 0, services = 0, skipped_elements = 0;
  std::string error;  // why nothing was imported
  std::string summary() const;
};

struct PieImportOptions {
  PieLimits limits;
  std::filesystem::path base_dir = ".";  // for XIncludes, when reading a stream
  std::string name = "<stdin>";
};

// Reads the whole document into `db`, in one transaction; on any error nothing is written.
PieImportResult import_pie(std::istream& in, storage::Storage& db, const Config& config,
                           const PieImportOptions& options = {});
PieImportResult import_pie_file(const std::filesystem::path& path, storage::Storage& db, const Config& config,
                                PieLimits limits = {});
// `causerie import --from prosody DIR`: a Prosody data directory read as a XEP-0227 document
// (prosody_data.hpp), then imported like one; a damaged file there also leaves the database untouched.
PieImportResult import_prosody_dir(const std::filesystem::path& dir, storage::Storage& db, const Config& config,
                                   PieLimits limits = {});

}  // namespace causerie
