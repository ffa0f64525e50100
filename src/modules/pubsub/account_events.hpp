// The AccountEvents (core/router/account_event.hpp) of the social core, for modules that tell an
// account elsewhere (Web Push): a comment or a like on one of its posts (a comment on the post's
// comments node, whose creator is the post's author; Movim's "♥" comment; a XEP-0470 attachment on the
// post), and a new subscriber to its microblog (XEP-0472 social feed on its PEP service).
//
// Thread rules: publish_events runs in the publish job (storage write lane); the events are told once
// the job is committed. follow_event is pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/router/account_event.hpp"
#include "modules/pubsub/engine.hpp"

namespace causerie::modules::pubsub {

std::vector<AccountEvent> publish_events(const Engine& engine, storage::Storage& db, const Service& svc,
                                         const Engine::Published& p);
// A subscription to `n` that became "subscribed" for `subscriber` (bare JID): a follower when `n` is an
// account's social feed and the subscriber is someone else.
std::optional<AccountEvent> follow_event(const Service& svc, const NodeState& n, const std::string& subscriber);

}  // namespace causerie::modules::pubsub
