// XEP-0227 v1.1 (Portable Import/Export Format for XMPP-IM Servers): the import side, as used by
// `causerie user import FILE`. Imports accounts (SCRAM credentials §3.2.1, or a plaintext password from
// which fresh credentials are derived) and rosters (jabber:iq:roster items); other per-user data
// (vCards, offline messages, private XML, PEP, archives) is counted as skipped, not imported.
//
// The file is read as a stream (expat), one <user/> element at a time, so a dump of 100 000 accounts
// needs no more memory than one user. Runs on the CLI's thread with its own Storage connection.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/xml/element.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage.hpp"

namespace causerie {

struct Config;

struct PieUser {
  storage::Account account;
  bool has_credentials = false;  // both SCRAM-SHA-1 and SCRAM-SHA-256 given
  std::string password;          // when credentials are missing
  std::vector<storage::RosterItem> roster;
  unsigned skipped_elements = 0;  // user data this importer does not handle
};

// Pure: one <user xmlns='urn:xmpp:pie:0'/> of host `host` (already prepared) → account and roster.
tl::expected<PieUser, std::string> parse_pie_user(const xml::Element& user, const std::string& host);

struct PieImportResult {
  uint64_t imported = 0, existing = 0, roster_items = 0, skipped_elements = 0;
  std::vector<std::string> errors;  // one line per refused user or malformed input
};

// Streams the whole file into `db`, in transactions of a few hundred users. Users of hosts the
// configuration does not serve are refused; existing accounts are left untouched.
PieImportResult import_pie(std::istream& in, storage::Storage& db, const Config& config);

}  // namespace causerie
