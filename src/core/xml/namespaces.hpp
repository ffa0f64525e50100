// XML namespace URIs used by the core and modules, defined once (DESIGN §6).
#pragma once

namespace causerie::ns {

inline constexpr const char* kStream = "http://etherx.jabber.org/streams";
inline constexpr const char* kClient = "jabber:client";
inline constexpr const char* kServer = "jabber:server";
inline constexpr const char* kComponentAccept = "jabber:component:accept";
inline constexpr const char* kDialback = "jabber:server:dialback";                 // XEP-0220
inline constexpr const char* kDialbackFeature = "urn:xmpp:features:dialback";      // XEP-0220 §2.3
inline constexpr const char* kBidi = "urn:xmpp:bidi";                              // XEP-0288
inline constexpr const char* kBidiFeature = "urn:xmpp:features:bidi";              // XEP-0288
inline constexpr const char* kXml = "http://www.w3.org/XML/1998/namespace";
inline constexpr const char* kStreams = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr const char* kStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr const char* kTls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr const char* kSasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr const char* kBind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr const char* kSession = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr const char* kFraming = "urn:ietf:params:xml:ns:xmpp-framing";
inline constexpr const char* kSaslCb = "urn:xmpp:sasl-cb:0";
inline constexpr const char* kSasl2 = "urn:xmpp:sasl:2";  // XEP-0388
inline constexpr const char* kBind2 = "urn:xmpp:bind:0";  // XEP-0386
inline constexpr const char* kFast = "urn:xmpp:fast:0";   // XEP-0484
inline constexpr const char* kSm = "urn:xmpp:sm:3";       // XEP-0198
inline constexpr const char* kHttpBind = "http://jabber.org/protocol/httpbind";  // XEP-0124
inline constexpr const char* kXbosh = "urn:xmpp:xbosh";                           // XEP-0206
inline constexpr const char* kXrd = "http://docs.oasis-open.org/ns/xri/xrd-1.0";  // XEP-0156 host-meta

inline constexpr const char* kRoster = "jabber:iq:roster";
inline constexpr const char* kRosterVer = "urn:xmpp:features:rosterver";
inline constexpr const char* kPreApproval = "urn:xmpp:features:pre-approval";
inline constexpr const char* kDiscoInfo = "http://jabber.org/protocol/disco#info";
inline constexpr const char* kAddress = "http://jabber.org/protocol/address";  // XEP-0033
inline constexpr const char* kDiscoItems = "http://jabber.org/protocol/disco#items";
inline constexpr const char* kDataForms = "jabber:x:data";
inline constexpr const char* kDataFormsValidate = "http://jabber.org/protocol/xdata-validate";  // XEP-0122
inline constexpr const char* kVersion = "jabber:iq:version";
inline constexpr const char* kPing = "urn:xmpp:ping";
inline constexpr const char* kTime = "urn:xmpp:time";
inline constexpr const char* kLast = "jabber:iq:last";
inline constexpr const char* kRegister = "jabber:iq:register";
inline constexpr const char* kRegisterFeature = "http://jabber.org/features/iq-register";
inline constexpr const char* kPars = "urn:xmpp:pars:0";          // XEP-0379/XEP-0445 <preauth/>
inline constexpr const char* kIbrToken = "urn:xmpp:ibr-token:0";  // XEP-0445 stream feature
inline constexpr const char* kVcard = "vcard-temp";
inline constexpr const char* kPrivate = "jabber:iq:private";
inline constexpr const char* kDelay = "urn:xmpp:delay";
inline constexpr const char* kServerInfo = "http://jabber.org/network/serverinfo";
inline constexpr const char* kCaps = "http://jabber.org/protocol/caps";
inline constexpr const char* kRsm = "http://jabber.org/protocol/rsm";
inline constexpr const char* kHints = "urn:xmpp:hints";
inline constexpr const char* kBlocking = "urn:xmpp:blocking";               // XEP-0191
inline constexpr const char* kBlockingErrors = "urn:xmpp:blocking:errors";  // XEP-0191 §3.3
inline constexpr const char* kExtDisco = "urn:xmpp:extdisco:2";              // XEP-0215

// Instant messaging on several devices: carbons (XEP-0280) with forwarding (XEP-0297), client state
// indication (XEP-0352), and the IM payloads their rules look at.
inline constexpr const char* kCarbons = "urn:xmpp:carbons:2";
inline constexpr const char* kForward = "urn:xmpp:forward:0";
inline constexpr const char* kCsi = "urn:xmpp:csi:0";
inline constexpr const char* kChatStates = "http://jabber.org/protocol/chatstates";  // XEP-0085
inline constexpr const char* kReceipts = "urn:xmpp:receipts";                      // XEP-0184
inline constexpr const char* kChatMarkers = "urn:xmpp:chat-markers:0";             // XEP-0333

// XEP-0045 multi-user chat and its companions (XEP-0249, XEP-0410, XEP-0421).
inline constexpr const char* kMuc = "http://jabber.org/protocol/muc";
inline constexpr const char* kMucUser = "http://jabber.org/protocol/muc#user";
inline constexpr const char* kMucAdmin = "http://jabber.org/protocol/muc#admin";
inline constexpr const char* kMucOwner = "http://jabber.org/protocol/muc#owner";
inline constexpr const char* kMucRoomConfig = "http://jabber.org/protocol/muc#roomconfig";
inline constexpr const char* kMucRoomInfo = "http://jabber.org/protocol/muc#roominfo";
inline constexpr const char* kMucRequest = "http://jabber.org/protocol/muc#request";
inline constexpr const char* kMucRegister = "http://jabber.org/protocol/muc#register";
inline constexpr const char* kMucStableId = "http://jabber.org/protocol/muc#stable_id";
inline constexpr const char* kMucSelfPing = "http://jabber.org/protocol/muc#self-ping-optimization";
inline constexpr const char* kOccupantId = "urn:xmpp:occupant-id:0";
inline constexpr const char* kConference = "jabber:x:conference";

inline constexpr const char* kShim = "http://jabber.org/protocol/shim";

inline constexpr const char* kPubsub = "http://jabber.org/protocol/pubsub";
inline constexpr const char* kPubsubOwner = "http://jabber.org/protocol/pubsub#owner";
inline constexpr const char* kPubsubEvent = "http://jabber.org/protocol/pubsub#event";
inline constexpr const char* kPubsubErrors = "http://jabber.org/protocol/pubsub#errors";
inline constexpr const char* kPubsubNodeConfig = "http://jabber.org/protocol/pubsub#node_config";
inline constexpr const char* kPubsubMetaData = "http://jabber.org/protocol/pubsub#meta-data";
inline constexpr const char* kPubsubPublishOptions = "http://jabber.org/protocol/pubsub#publish-options";
inline constexpr const char* kPubsubSubscribeOptions = "http://jabber.org/protocol/pubsub#subscribe_options";
inline constexpr const char* kPubsubSubscribeAuthorization = "http://jabber.org/protocol/pubsub#subscribe_authorization";
inline constexpr const char* kAtom = "http://www.w3.org/2005/Atom";
inline constexpr const char* kMicroblog = "urn:xmpp:microblog:0";
inline constexpr const char* kSocialFeed = "urn:xmpp:pubsub-social-feed:1";

// Message archive management (XEP-0313) and what goes with it.
inline constexpr const char* kMam = "urn:xmpp:mam:2";
inline constexpr const char* kMamExtended = "urn:xmpp:mam:2#extended";
inline constexpr const char* kStanzaId = "urn:xmpp:sid:0";                  // XEP-0359
inline constexpr const char* kRetract = "urn:xmpp:message-retract:1";       // XEP-0424
inline constexpr const char* kModerate = "urn:xmpp:message-moderate:1";     // XEP-0425
inline constexpr const char* kRetractTombstone = "urn:xmpp:message-retract:1#tombstone";
inline constexpr const char* kFulltext = "urn:xmpp:fulltext:0";             // our MAM search field's namespace
// PEP nodes that have older equivalents (modules/pubsub/pep_compat.hpp).
inline constexpr const char* kBookmarks = "urn:xmpp:bookmarks:1";               // XEP-0402
inline constexpr const char* kBookmarksCompat = "urn:xmpp:bookmarks:1#compat";  // XEP-0402 §"Compatibility"
inline constexpr const char* kLegacyBookmarks = "storage:bookmarks";            // XEP-0048
inline constexpr const char* kAvatarData = "urn:xmpp:avatar:data";              // XEP-0084
inline constexpr const char* kAvatarMetadata = "urn:xmpp:avatar:metadata";
inline constexpr const char* kVcardUpdate = "vcard-temp:x:update";                       // XEP-0153
inline constexpr const char* kPepVcardConversion = "urn:xmpp:pep-vcard-conversion:0";  // XEP-0398
inline constexpr const char* kVcard4 = "urn:xmpp:vcard4";                              // XEP-0292 node
inline constexpr const char* kVcard4Payload = "urn:ietf:params:xml:ns:vcard-4.0";
inline constexpr const char* kMdsDisplayed = "urn:xmpp:mds:displayed:0";  // XEP-0490
inline constexpr const char* kPie = "urn:xmpp:pie:0";                    // XEP-0227
inline constexpr const char* kPieScram = "urn:xmpp:pie:0#scram";
inline constexpr const char* kPieMam = "urn:xmpp:pie:0#mam";
inline constexpr const char* kCauseriePie = "urn:causerie:pie:0";        // our XEP-0227 extensions
inline constexpr const char* kXInclude = "http://www.w3.org/2001/XInclude";

}  // namespace causerie::ns
