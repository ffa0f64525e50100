// PepCompat: the server-side conversions between PEP nodes and the older forms of the same data, so that
// clients speaking only one of them see what the others wrote:
//  - bookmarks (XEP-0402 v1.2 §"Compatibility", announced as urn:xmpp:bookmarks:1#compat): the items of
//    the PEP node urn:xmpp:bookmarks:1 are the only copy of an account's rooms; XEP-0048 bookmarks read
//    through XEP-0049 private storage (storage:bookmarks) are built from them, and a legacy client's
//    replacement list becomes publications and retractions (with notifications) of the items that changed.
//    What the legacy form holds beyond rooms (<url/> bookmarks) stays in private storage.
//  - avatars (XEP-0398 v0.2, urn:xmpp:pep-vcard-conversion:0): an XEP-0084 avatar published to
//    urn:xmpp:avatar:metadata becomes the vcard-temp PHOTO, a vCard set with a PHOTO is published to the
//    XEP-0084 data and metadata nodes, and the XEP-0153 hash of the vCard photo is put into the user's
//    available presence (§4).
//  - vCard4 (XEP-0292 v1.1): its full name and nickname (FN, NICKNAME), the names clients show, are copied
//    both ways between the urn:xmpp:vcard4 node and vcard-temp; nothing else is converted.
//
// Only the account itself may use its private storage or set its vCard, so the owner's iqs are taken
// here as its client sends them (kFromClient), before the private and vcard modules would see them.
//
// Thread rules: hooks run on session threads, conversions in storage jobs; the photo hashes of accounts
// with a session are the only shared state, under mutex_.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/module/module.hpp"
#include "modules/pubsub/engine.hpp"

namespace causerie::modules::pubsub {

// Pure conversions (pep_compat.cpp), tested on their own.
// A XEP-0048 <conference/> as the XEP-0402 payload of the item named by its jid; nullopt without a jid.
std::optional<std::pair<std::string, xml::Element>> bookmark_from_legacy(const xml::Element& conference);
// The XEP-0048 <conference/> for a XEP-0402 item.
xml::Element bookmark_to_legacy(const std::string& jid, const xml::Element& conference);
// The image in a vCard's PHOTO (its bytes and type), when there is one with a valid BINVAL.
struct Photo {
  std::string bytes, type;
};
std::optional<Photo> vcard_photo(const xml::Element& vcard);
// FN and NICKNAME of a vcard-temp (XEP-0054) or vCard4 (RFC 6351 XML, XEP-0292) document, and setting
// them (the first such element replaced in place, or one appended).
struct VcardNames {
  std::optional<std::string> fn, nickname;
};
VcardNames vcard_temp_names(const xml::Element& vcard);
VcardNames vcard4_names(const xml::Element& vcard);
void set_vcard_temp_names(xml::Element& vcard, const VcardNames& names);
void set_vcard4_names(xml::Element& vcard, const VcardNames& names);
// Lower-case hex of SHA-1, the XEP-0084 item id and XEP-0153 hash of an image.
std::string sha1_hex(std::string_view bytes);

// A XEP-0048 list: its rooms as XEP-0402 items (one per room JID), and what is not a room (<url/>).
struct LegacyBookmarks {
  std::vector<std::pair<std::string, xml::Element>> rooms;
  xml::Element rest{"storage", "storage:bookmarks"};
};
tl::expected<LegacyBookmarks, StanzaError> parse_legacy_bookmarks(const xml::Element& storage);

class PepCompat {
 public:
  PepCompat(ModuleContext& ctx, Engine& engine);

 private:
  HookResult on_client_stanza(StanzaEvent& ev);
  void private_bookmarks_get(IqRequest req);
  void private_bookmarks_set(IqRequest req, std::vector<xml::Element> others);
  // In a write job: the PEP node made to hold `list` (changed rooms published, missing ones retracted),
  // the rest kept in private storage; the events to send once committed.
  struct Applied {
    std::vector<Engine::Notification> events;
    std::optional<StanzaError> error;
  };
  Applied apply_legacy(storage::Storage& db, const Service& svc, const Jid& from, LegacyBookmarks list);
  void migrate_legacy_bookmarks(const Jid& account);
  void vcard_set(const Jid& from, const xml::Element& vcard);
  // In a write job: the XEP-0084 publications of a vCard photo named `id`, and of the vCard's names.
  void publish_avatar(storage::Storage& db, const Service& svc, const Jid& from, const Photo& photo,
                      const std::string& id, std::vector<Engine::Notification>& events);
  void copy_names_to_vcard4(storage::Storage& db, const Service& svc, const Jid& from, const VcardNames& names,
                            std::vector<Engine::Notification>& events);
  void add_photo_hash(Stanza& presence);
  // The conversion of a client's publish on its own PEP service (Engine::PublishObserver).
  std::function<void()> after_publish(storage::Storage& db, const Service& svc, const Engine::Published& p);
  void remember_hash(const std::string& bare, std::string hash, bool replace);

  ModuleContext& ctx_;
  Engine& engine_;
  std::mutex mutex_;
  // Bare JID → SHA-1 (hex) of its vCard photo, "" for a vCard without one; accounts with a session only.
  std::unordered_map<std::string, std::string> photo_hashes_;
};

}  // namespace causerie::modules::pubsub
