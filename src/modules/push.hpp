// XEP-0357 v0.4.1 Push Notifications: the decisions and documents of the push module (pure functions,
// table-tested), apart from the module that registers the handlers (push.cpp).
//
// An account registers app servers (a push service JID, a node and an optional publish-options form);
// they are kept in the key-value store as one document per account, `PushRegistrations`. When a message
// that matters arrives while the account cannot see it, the server publishes a summary of it to each
// app server's node (§5).
//
// Thread rules: values and free functions only; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::modules::push {

inline constexpr const char* kNs = "urn:xmpp:push:0";
inline constexpr const char* kSummary = "urn:xmpp:push:summary";
inline constexpr const char* kPublishOptions = "http://jabber.org/protocol/pubsub#publish-options";
// Where the registrations live in the key-value store (owner = the account's bare JID).
inline constexpr const char* kStore = "push";
inline constexpr const char* kKey = "";
// §4: one account may enable several services (and several nodes of one); bounded (DESIGN §9).
inline constexpr size_t kMaxRegistrations = 32;

struct Registration {
  std::string jid;   // the XMPP Push Service (the app server), prepared
  std::string node;  // may be empty: §4 says SHOULD, not MUST
  std::optional<xml::Element> publish_options;  // the jabber:x:data form given at enable, as given
};

// The stored document: <registrations xmlns='urn:causerie:push'><registration jid node>[form]</…>…
std::string to_xml(const std::vector<Registration>& regs);
// Unreadable or empty text gives no registrations.
std::vector<Registration> from_xml(std::string_view text);

// §4: a JID and node enabled again replace the earlier entry (its publish options). Returns false,
// leaving `regs`, when a new entry would pass kMaxRegistrations.
bool upsert(std::vector<Registration>& regs, Registration reg);
// §4 disable: the JID and node, or with no node every entry of the JID. Returns how many went.
size_t remove(std::vector<Registration>& regs, std::string_view jid, std::optional<std::string_view> node);

// An <enable/> checked: the registration, or the reason it is a bad request.
struct EnableRequest {
  std::optional<Registration> reg;
  std::string error;  // set when reg is empty
  bool jid_malformed = false;
};
EnableRequest parse_enable(const xml::Element& enable);

// Whether a message warrants waking the device (§5 leaves it to the server): one a client would show or
// ring for, i.e. a chat or normal message with a body, an OMEMO-encrypted payload or a call proposal
// (XEP-0353). Not chat states, receipts or markers alone, errors, headlines, nor groupchat (MUC mentions
// are not detected, so room traffic is not pushed).
bool worth_pushing(const xml::Element& message);

// §6: whether an error answer to a publish disables the JID and node. Errors the XEP calls "recoverable
// or transient" keep it: type 'wait', and a remote server that cannot be reached now
// (remote-server-not-found, remote-server-timeout). Returns the condition's name in `condition`.
bool error_disables(const xml::Element& iq_error, std::string& condition);

// What the summary form says (§5, the urn:xmpp:push:summary registry entry).
struct Summary {
  uint64_t message_count = 0;
  std::string last_sender;  // empty: not included
  std::string last_body;    // empty: not included
};

// §5: <iq type='set' id from to><pubsub><publish node><item><notification><x summary/></notification>
// </item></publish>[<publish-options>form</publish-options>]</pubsub></iq>.
xml::Element make_publish(const Registration& reg, const Summary& summary, std::string_view from, std::string_view id);

}  // namespace causerie::modules::push
