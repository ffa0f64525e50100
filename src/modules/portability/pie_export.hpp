// XEP-0227 v1.1 (Portable Import/Export Format for XMPP-IM Servers): the export side, shared by
// `causerie export` and the account download page (account_download.cpp). Everything an account has is
// written in the XEP's own shapes where it defines one: SCRAM credentials (§3.2.1), roster, pending
// subscription requests as <presence type='subscribe'/>, vcard-temp, private XML, offline messages, PEP
// nodes with configuration, affiliations, subscriptions and every item, and the message archive
// (urn:xmpp:pie:0#mam). What the XEP leaves out is written under our own namespace (urn:causerie:pie:0,
// ns::kCauseriePie), as §4 allows: the account's creation time, hidden roster state, item publication
// times and visibility, other per-account documents, the XEP-0191 blocklist and XEP-0441 preferences (in
// their own protocol namespaces), and services (§2 puts MUC and pubsub out of the XEP's scope): one
// <service jid='conference.example.org'/> per service domain, holding its rooms (configuration, subject,
// affiliations, history, archive) or its pubsub nodes in the same form as PEP.
//
// Canonical: hosts, users, roster items, documents, nodes, affiliations and subscriptions are sorted;
// items and archives are oldest first; each <user/> and <service/> is one line. Exporting what an export
// imported gives the same bytes.
//
// Runs on whatever thread owns the Storage (the CLI's, or the storage read lane for the download page).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/xml/element.hpp"
#include "storage/storage.hpp"

namespace causerie::portability {

// One account as a <user xmlns='urn:xmpp:pie:0'/> element. Throws StorageError on a stored document that
// does not parse (the export must not silently lose data).
xml::Element export_user(storage::Storage& db, const std::string& bare_jid);

// One service domain (MUC rooms, pubsub nodes) as a <service xmlns='urn:causerie:pie:0'/> element (without
// children when it holds nothing).
xml::Element export_service(storage::Storage& db, const std::string& domain);

// What to export: every host listed, each with its accounts (or only `user`, a bare JID) and, unless a
// single user is asked for, the service domains under it (service == host or ends with ".host").
struct ExportScope {
  std::vector<std::string> hosts;  // prepared domains
  std::string user;                // "": every account
};

// Writes the whole document; returns the number of accounts written.
size_t export_pie(storage::Storage& db, const ExportScope& scope, std::ostream& out);

// The document header, a host's opening line, and the closing lines, as export_pie writes them.
std::string pie_document(const std::string& host, const xml::Element& user);

}  // namespace causerie::portability
