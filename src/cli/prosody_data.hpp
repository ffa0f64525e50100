// Prosody 0.12 data directories (storage = "internal", its default) turned into a XEP-0227 document, which
// `causerie import --from prosody DIR` then imports like any other (same checks, all or nothing).
//
// Layout read (util.datamanager: names percent-encoded, e.g. "p%2etest"): DIR/<host>/accounts/<user>.dat
// (internal_hashed: SCRAM-SHA-1 salt, stored and server keys, iteration count — Prosody keeps no
// SCRAM-SHA-256 keys, so such accounts log in with SCRAM-SHA-1 until their password is set again;
// internal_plain: the password), roster/<user>.dat (items, groups, pending inbound requests),
// vcard/<user>.dat (mod_vcard), private/<user>.dat, offline/<user>.list, pep/<user>.dat (node names,
// configuration, affiliations, subscribers) with pep_<node>/<user>.list (the items), archive/<user>.list
// (mod_mam). With mod_vcard_legacy (Debian's default) there is no vcard store: the vcard-temp FN and
// NICKNAME are taken from the urn:xmpp:vcard4 PEP item, as Prosody itself would answer them.
//
// Components become our <service/> elements (urn:causerie:pie:0), each under the host whose subdomain it
// is: mod_muc's persistent rooms from DIR/<component>/config/<room>.dat (name, description, language,
// members-only, moderated, hidden, password, whois, subject and who set it, history length, presence
// broadcast, owners/admins/members/outcasts with reserved nicknames) with mod_muc_mam's
// muc_log/<room>.list as the room's archive, its newest messages as join history; mod_pubsub's nodes
// from pubsub_nodes/<node>.dat (configuration, affiliations, subscribers) with pubsub_<node>.list (the
// items). Rooms that are not persistent (live rooms saved at shutdown) and tombstones of destroyed ones
// are left out; a room file whose values have the wrong type, an unknown affiliation or another room's
// JID is refused, as is a component under no host of the directory. Other components (upload, proxy)
// hold nothing of ours and are not read.
//
// Pure apart from reading files; any thread.
#pragma once

#include <filesystem>
#include <string>

#include <tl/expected.hpp>

namespace causerie::prosody {

// The XEP-0227 document, or the first problem (file and line).
tl::expected<std::string, std::string> pie_from_data_dir(const std::filesystem::path& dir);

}  // namespace causerie::prosody
