// What happens around an account when it is removed or its sessions must end, shared by in-band
// registration (XEP-0077 cancellation) and service administration (XEP-0133). Any thread: sessions are
// reached through the SessionDispatcher.
#pragma once

#include <string>
#include <vector>

#include "core/module/module.hpp"
#include "storage/roster_store.hpp"

namespace causerie::modules {

// After an account's storage is gone (the write committed): forgets its cached credentials, tells the
// modules (ModuleContext::on_account_removed), cancels its subscriptions with every contact (XEP-0077
// §3.2: unsubscribe and unsubscribed) and ends its sessions with <not-authorized/>.
void after_account_removed(ModuleContext& ctx, const std::string& owner, const std::vector<storage::RosterItem>& roster);

// Ends the sessions of an account (a bare JID) or of one resource (a full JID) with a stream error;
// returns how many were bound.
size_t end_sessions(ModuleContext& ctx, const Jid& who, StreamErrorCondition condition, const std::string& text);

}  // namespace causerie::modules
