// Motd: each host's message of the day (XEP-0133 §§4.24–4.26, its footnote: "sent once to all users …
// until and unless the message is deleted … immediately to users who are online when the message is
// set, or after the next session initiation for other users").
//
// Storage: key-value documents, owner = the host, store "motd": "text" and "version" (a random id a new
// message gets; an edit keeps it). Each account remembers the version it was given (owner = the account,
// store "motd", key "seen"), so it gets each message once, at its first available presence
// (SessionHook::kAvailable) after the message was set, or at once when it is online then. The current
// messages are also kept in memory (read at startup), so a login costs nothing while a host has none.
//
// Thread rules: any thread; one mutex over the in-memory copy. Storage writes go through the write lane,
// which also decides (in order) whether an account has seen a version.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/module/module.hpp"
#include "storage/storage.hpp"

namespace causerie::modules::admin {

class Motd {
 public:
  explicit Motd(ModuleContext& ctx);

  std::optional<std::string> text(const std::string& host) const;
  // A new message: stored, then sent to the host's online users; `done` runs after COMMIT with the
  // number of sessions it was sent to.
  void set(const std::string& host, std::string text, std::function<void(size_t)> done);
  // The same message corrected: who has seen it does not get it again.
  void edit(const std::string& host, std::string text, std::function<void()> done);
  void remove(const std::string& host, std::function<void()> done);

  static xml::Element message(const std::string& host, const Jid& to, const std::string& text);

  // The stored form, for the command line when no server runs (on a write lane or a direct Storage).
  static std::optional<std::string> stored(storage::Storage& db, const std::string& host);
  static void store(storage::Storage& db, const std::string& host, const std::string& text, const std::string& version);
  static void erase(storage::Storage& db, const std::string& host);

 private:
  struct Current {
    std::string version, text;
  };
  void available(ClientSession& session);
  void load(const std::string& host);  // the stored message of a host, into current_

  ModuleContext& ctx_;
  mutable std::mutex mutex_;
  std::map<std::string, Current> current_;  // by host
};

}  // namespace causerie::modules::admin
