// AccountEvent: something that concerns a local account, seen by the module where it happened (MUC,
// pubsub), for the modules that tell accounts about such things elsewhere (Web Push to a closed
// browser). Router::account_event() hands it to the observers modules registered.
//
// Thread rules: a value; told after the change is committed, on any thread; an observer must not block
// (it queues its work).
#pragma once

#include <string>

namespace causerie {

struct AccountEvent {
  enum class Kind {
    kRoomMention,  // a groupchat message naming the account in a room it is not in (MUC)
    kComment,      // a comment on one of its posts (XEP-0277 comments node)
    kLike,         // a like on one of its posts (XEP-0470 attachment, or Movim's "♥" comment)
    kFollower,     // a new subscriber to its microblog (XEP-0472, XEP-0465)
  };
  Kind kind;
  std::string account;  // the bare JID it concerns
  std::string actor;    // who did it: a bare JID, or the occupant JID of a room message
  std::string service;  // where: the room's JID, or the pubsub service of the post
  std::string node;     // the post's node (empty for rooms)
  std::string item;     // the post's item id (empty for rooms and followers)
  std::string text;     // the message body, or the comment's title (may be empty)
};

}  // namespace causerie
