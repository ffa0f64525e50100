// XEP-0133 v1.3 service administration: the ad-hoc commands (XEP-0050, through the CommandRegistry) a
// host's admins (`admins` of its [[host]]) and the local control socket's operator may run on that
// host. Every command is refused (forbidden) to anyone else and not listed for them.
//
// Commands (node http://jabber.org/protocol/admin#…): add-user, delete-user, disable-user,
// reenable-user, end-user-session, change-user-password, user-stats, get-registered-users-num,
// get-disabled-users-num, get-online-users-num, get-registered-users-list, get-disabled-users-list,
// get-online-users-list, announce, set-motd, edit-motd, delete-motd. Each one shows one form (the
// counts and delete-motd none) and acts on its submission; the result comes after the storage COMMIT.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "core/accounts/accounts.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/account_actions.hpp"
#include "modules/admin/motd.hpp"
#include "modules/all_modules.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

constexpr const char* kAdminNs = "http://jabber.org/protocol/admin";

std::string node(const char* name) { return std::string(kAdminNs) + "#" + name; }

xml::DataForm admin_form(std::string title, std::string instructions) {
  xml::DataForm f;
  f.title = std::move(title);
  f.instructions = std::move(instructions);
  f.add("FORM_TYPE", "hidden", {kAdminNs});
  return f;
}

xml::DataForm result_form() {
  xml::DataForm f;
  f.type = "result";
  f.add("FORM_TYPE", "hidden", {kAdminNs});
  return f;
}

xml::FormField& required(xml::FormField& f) {
  f.required = true;
  return f;
}

// §4.18: how many items a list may show.
void add_max_items(xml::DataForm& f) {
  auto& m = f.add("max_items", "list-single", {"100"}, "Maximum number of items to show");
  for (const char* v : {"25", "50", "75", "100", "150", "200"}) m.options.emplace_back(v, v);
  m.options.emplace_back("None", "none");
}

size_t max_items(const SubmittedForm& s) {
  std::string v = s.text("max_items");
  if (v.empty() || v == "none") return SIZE_MAX;
  return static_cast<size_t>(std::stoul(v));  // one of the options: checked by SubmittedForm
}

StanzaError bad(std::string text) { return StanzaError(StanzaErrorCondition::kBadRequest, std::move(text)); }

class AdminModule final : public Module {
 public:
  explicit AdminModule(ModuleContext& ctx) : ctx_(ctx), motd_(ctx) {
    one_form("add-user", "Add a User", [] {
      auto f = admin_form("Adding a User", "Fill out this form to add a user.");
      required(f.add("accountjid", "jid-single", {}, "The Jabber ID for the account to be added"));
      required(f.add("password", "text-private", {}, "The password for this account"));
      required(f.add("password-verify", "text-private", {}, "Retype password"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { add_user(c, s); });
    one_form("delete-user", "Delete a User", [] {
      auto f = admin_form("Deleting a User", "Fill out this form to delete a user.");
      required(f.add("accountjids", "jid-multi", {}, "The Jabber ID(s) to delete"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { delete_users(c, s); });
    one_form("disable-user", "Disable a User", [] {
      auto f = admin_form("Disabling a User", "Fill out this form to disable a user.");
      required(f.add("accountjids", "jid-multi", {}, "The Jabber ID(s) to disable"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { set_disabled(c, s, true); });
    one_form("reenable-user", "Re-Enable a User", [] {
      auto f = admin_form("Re-Enable a User", "Fill out this form to re-enable a user.");
      required(f.add("accountjids", "jid-multi", {}, "The Jabber ID(s) to re-enable"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { set_disabled(c, s, false); });
    one_form("end-user-session", "End User Session", [] {
      auto f = admin_form("Ending a User Session", "Fill out this form to end a user's session.");
      required(f.add("accountjids", "jid-multi", {}, "The Jabber ID(s) for which to end sessions"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { end_user_sessions(c, s); });
    one_form("change-user-password", "Change User Password", [] {
      auto f = admin_form("Changing a User Password", "Fill out this form to change a user's password.");
      required(f.add("accountjid", "jid-single", {}, "The Jabber ID for this account"));
      required(f.add("password", "text-private", {}, "The password for this account"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { change_password(c, s); });
    one_form("user-stats", "Get User Statistics", [] {
      auto f = admin_form("Get User Statistics", "Fill out this form to gather user statistics.");
      required(f.add("accountjid", "jid-single", {}, "The Jabber ID for statistics"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { user_stats(c, s); });

    immediate("get-registered-users-num", "Get Number of Registered Users", [this](CommandCall& c) {
      read_count(c, "registeredusersnum", "The number of registered users",
                 [](storage::Storage& db, const std::string& host) { return db.accounts().count_accounts(host); });
    });
    immediate("get-disabled-users-num", "Get Number of Disabled Users", [this](CommandCall& c) {
      read_count(c, "disabledusersnum", "The number of disabled users",
                 [](storage::Storage& db, const std::string& host) { return db.accounts().list_disabled(host).size(); });
    });
    immediate("get-online-users-num", "Get Number of Online Users", [this](CommandCall& c) {
      auto f = result_form();
      f.add("onlineusersnum", "text-single", {std::to_string(online_users(c.host).size())},
            "The number of online users");
      c.reply.done({}, f);
    });
    list_command("get-registered-users-list", "Get List of Registered Users", "registereduserjids",
                 "The list of all users", [](storage::Storage& db, const std::string& host) { return db.accounts().list(host); });
    list_command("get-disabled-users-list", "Get List of Disabled Users", "disableduserjids",
                 "The list of all disabled users",
                 [](storage::Storage& db, const std::string& host) { return db.accounts().list_disabled(host); });
    one_form("get-online-users-list", "Get List of Online Users", [] {
      auto f = admin_form("Requesting List of Online Users", "Fill out this form to request the online users of this service.");
      add_max_items(f);
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) {
      auto users = online_users(c.host);
      users.resize(std::min(users.size(), max_items(s)));
      auto f = result_form();
      f.add("onlineuserjids", "jid-multi", users, "The list of all online users");
      c.reply.done({}, f);
    });

    one_form("announce", "Send Announcement to Online Users", [] {
      auto f = admin_form("Making an Announcement",
                          "Fill out this form to make an announcement to all active users of this service.");
      required(f.add("announcement", "text-multi", {}, "Announcement"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) { announce(c, s.lines("announcement")); });
    one_form("set-motd", "Set Message of the Day", [] {
      auto f = admin_form("Setting the Message of the Day", "Fill out this form to set the message of the day.");
      required(f.add("motd", "text-multi", {}, "Message of the Day"));
      return f;
    }, [this](CommandCall& c, const SubmittedForm& s) {
      motd_.set(c.host, s.lines("motd"), [reply = c.reply](size_t sent) {
        reply.done({{CommandNote::kInfo, "Message of the day set; sent to " + std::to_string(sent) + " online session(s)."}});
      });
    });
    // §4.25: the form "SHOULD include the current message of the day if one has already been set".
    ctx.commands().add({.node = node("edit-motd"), .name = "Edit Message of the Day", .host = "",
                        .allowed = ctx.commands().host_admins(), .handler = [this](CommandCall& c) {
      if (c.stage == 0) {
        auto f = admin_form("Editing the Message of the Day", "Fill out this form to edit the message of the day.");
        std::vector<std::string> lines;
        if (auto text = motd_.text(c.host)) lines = split_lines(*text);
        required(f.add("motd", "text-multi", lines, "Message of the Day"));
        c.reply.form(f);
        return;
      }
      motd_.edit(c.host, c.submitted->lines("motd"), [reply = c.reply] { reply.done({{CommandNote::kInfo, "Message of the day changed."}}); });
    }});
    immediate("delete-motd", "Delete Message of the Day", [this](CommandCall& c) {
      motd_.remove(c.host, [reply = c.reply] { reply.done({{CommandNote::kInfo, "Message of the day deleted."}}); });
    });
  }

 private:
  using Act = std::function<void(CommandCall&, const SubmittedForm&)>;

  // A command that shows one form and acts on its submission.
  void one_form(const char* name, const char* label, std::function<xml::DataForm()> make, Act act) {
    ctx_.commands().add({.node = node(name), .name = label, .host = "", .allowed = ctx_.commands().host_admins(),
                         .handler = [make, act](CommandCall& c) {
                           if (c.stage == 0) c.reply.form(make());
                           else act(c, *c.submitted);
                         }});
  }

  // A command that acts at once, without a form.
  void immediate(const char* name, const char* label, CommandHandler h) {
    ctx_.commands().add({.node = node(name), .name = label, .host = "", .allowed = ctx_.commands().host_admins(),
                         .handler = std::move(h)});
  }

  void read_count(CommandCall& c, const char* var, const char* label,
                  std::function<size_t(storage::Storage&, const std::string&)> count) {
    ctx_.storage().read([reply = c.reply, host = c.host, var, label, count](storage::Storage& db) {
      auto f = result_form();
      f.add(var, "text-single", {std::to_string(count(db, host))}, label);
      reply.done({}, f);
    });
  }

  void list_command(const char* name, const char* label, const char* var, const char* field_label,
                    std::function<std::vector<std::string>(storage::Storage&, const std::string&)> list) {
    std::string title = std::string("Requesting ") + label;
    one_form(name, label, [title] {
      auto f = admin_form(title, "Fill out this form to request the list.");
      add_max_items(f);
      return f;
    }, [this, var, field_label, list](CommandCall& c, const SubmittedForm& s) {
      size_t max = max_items(s);
      ctx_.storage().read([reply = c.reply, host = c.host, var, field_label, list, max](storage::Storage& db) {
        auto users = list(db, host);
        std::vector<CommandNote> notes;
        if (users.size() > max) {
          notes.push_back({CommandNote::kInfo, "Showing " + std::to_string(max) + " of " + std::to_string(users.size()) + "."});
          users.resize(max);
        }
        auto f = result_form();
        f.add(var, "jid-multi", users, field_label);
        reply.done(notes, f);
      });
    });
  }

  static std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
      size_t nl = text.find('\n', start);
      out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return out;
  }

  // The bare JIDs of the host's accounts with a bound session, sorted.
  std::vector<std::string> online_users(const std::string& host) {
    std::set<std::string> users;
    ctx_.sessions().for_each([&](std::string_view bare, const BoundResource&) {
      auto at = bare.find('@');
      if (at != std::string_view::npos && bare.substr(at + 1) == host) users.emplace(bare);
    });
    return {users.begin(), users.end()};
  }

  // An account of this host named in a form: user@host, without a resource unless `full` allows one.
  std::optional<Jid> local_account(const CommandCall& c, const Jid& j, bool full = false) {
    if (!j.has_localpart() || j.domainpart() != c.host || (!full && j.has_resource())) {
      c.reply.fail(bad("'" + j.str() + "' is not an account of " + c.host));
      return std::nullopt;
    }
    return j;
  }

  std::optional<std::vector<std::string>> local_accounts(const CommandCall& c, const SubmittedForm& s) {
    std::vector<std::string> out;
    for (const Jid& j : s.jids("accountjids")) {
      auto a = local_account(c, j);
      if (!a) return std::nullopt;
      out.push_back(a->str());
    }
    return out;
  }

  void add_user(CommandCall& c, const SubmittedForm& s) {
    auto j = local_account(c, *s.jid("accountjid"));
    if (!j) return;
    std::string password = s.text("password");
    if (password != s.text("password-verify")) return c.reply.fail(bad("the passwords do not match"));
    if (auto problem = password_problem(password))
      return c.reply.fail(StanzaError(StanzaErrorCondition::kNotAcceptable, *problem));
    storage::Account account = make_account(j->str(), password, ctx_.config().scram_iterations);
    std::string who = c.caller.jid.str();
    ctx_.storage().write([reply = c.reply, account, who](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.accounts().create(account)) {
        reply.fail(StanzaError(StanzaErrorCondition::kConflict, "the account " + account.jid + " already exists"));
        return nullptr;
      }
      return [reply, jid = account.jid, who] {
        spdlog::info("admin: {} created by {}", jid, who);
        reply.done({{CommandNote::kInfo, "Account " + jid + " created."}});
      };
    });
  }

  void delete_users(CommandCall& c, const SubmittedForm& s) {
    auto jids = local_accounts(c, s);
    if (!jids) return;
    std::string who = c.caller.jid.str();
    ctx_.storage().write([this, reply = c.reply, jids = *jids, who](storage::Storage& db) -> storage::StorageService::Completion {
      std::vector<std::pair<std::string, std::vector<storage::RosterItem>>> removed;
      std::vector<std::string> unknown;
      for (const auto& j : jids) {
        auto roster = db.roster().items(j);
        if (db.accounts().remove(j)) removed.emplace_back(j, std::move(roster));
        else unknown.push_back(j);
      }
      return [this, reply, removed, unknown, who] {
        std::vector<CommandNote> notes;
        for (const auto& [j, roster] : removed) {
          spdlog::info("admin: {} deleted by {}", j, who);
          after_account_removed(ctx_, j, roster);
          notes.push_back({CommandNote::kInfo, "Account " + j + " deleted."});
        }
        for (const auto& j : unknown) notes.push_back({CommandNote::kError, "no account " + j});
        reply.done(notes);
      };
    });
  }

  void set_disabled(CommandCall& c, const SubmittedForm& s, bool disabled) {
    auto jids = local_accounts(c, s);
    if (!jids) return;
    std::string who = c.caller.jid.str();
    ctx_.storage().write([this, reply = c.reply, jids = *jids, disabled, who](storage::Storage& db) -> storage::StorageService::Completion {
      std::vector<std::string> changed, unknown;
      for (const auto& j : jids) (db.accounts().set_disabled(j, disabled) ? changed : unknown).push_back(j);
      return [this, reply, changed, unknown, disabled, who] {
        std::vector<CommandNote> notes;
        for (const auto& j : changed) {
          ctx_.credentials().invalidate(j);
          spdlog::info("admin: {} {} by {}", j, disabled ? "disabled" : "re-enabled", who);
          // §4.3: "MUST result in the termination of any active sessions for the user".
          if (disabled) end_sessions(ctx_, *Jid::parse(j), StreamErrorCondition::kNotAuthorized, "the account was disabled");
          notes.push_back({CommandNote::kInfo, "Account " + j + (disabled ? " disabled." : " re-enabled.")});
        }
        for (const auto& j : unknown) notes.push_back({CommandNote::kError, "no account " + j});
        reply.done(notes);
      };
    });
  }

  void end_user_sessions(CommandCall& c, const SubmittedForm& s) {
    std::vector<Jid> targets;
    for (const Jid& j : s.jids("accountjids")) {
      auto a = local_account(c, j, true);
      if (!a) return;
      targets.push_back(*a);
    }
    std::vector<CommandNote> notes;
    for (const Jid& j : targets) {
      // §4.5: a bare JID ends all of the user's sessions, a full JID only that resource's.
      size_t n = end_sessions(ctx_, j, StreamErrorCondition::kPolicyViolation, "session ended by an administrator");
      spdlog::info("admin: {} session(s) of {} ended by {}", n, j.str(), c.caller.jid.str());
      notes.push_back({n ? CommandNote::kInfo : CommandNote::kWarn,
                       std::to_string(n) + " session(s) of " + j.str() + " ended."});
    }
    c.reply.done(notes);
  }

  void change_password(CommandCall& c, const SubmittedForm& s) {
    auto j = local_account(c, *s.jid("accountjid"));
    if (!j) return;
    std::string password = s.text("password");
    if (auto problem = password_problem(password))
      return c.reply.fail(StanzaError(StanzaErrorCondition::kNotAcceptable, *problem));
    storage::Account creds = make_account(j->str(), password, ctx_.config().scram_iterations);
    std::string who = c.caller.jid.str();
    ctx_.storage().write([this, reply = c.reply, creds, who](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.accounts().set_credentials(creds.jid, creds.sha1, creds.sha256)) {
        reply.fail(StanzaError(StanzaErrorCondition::kItemNotFound, "no account " + creds.jid));
        return nullptr;
      }
      return [this, reply, jid = creds.jid, who] {
        ctx_.credentials().invalidate(jid);
        spdlog::info("admin: password of {} changed by {}", jid, who);
        reply.done({{CommandNote::kInfo, "Password of " + jid + " changed."}});
      };
    });
  }

  // §4.8: roster size, online resources and their addresses (each read on its session's thread).
  void user_stats(CommandCall& c, const SubmittedForm& s) {
    auto j = local_account(c, *s.jid("accountjid"));
    if (!j) return;
    struct Collect {
      CommandReply reply;
      size_t roster = 0;
      std::mutex mutex;
      std::vector<std::string> resources, addresses;
      explicit Collect(CommandReply r) : reply(std::move(r)) {}
      // Answers when the last session has been asked (or has gone, dropping its copy).
      ~Collect() {
        std::sort(resources.begin(), resources.end());
        std::sort(addresses.begin(), addresses.end());
        addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
        auto f = result_form();
        f.add("rostersize", "text-single", {std::to_string(roster)}, "Roster size");
        f.add("onlineresources", "text-multi", resources, "Online resources");
        f.add("ipaddresses", "text-multi", addresses, "IP addresses");
        reply.done({}, f);
      }
    };
    std::string owner = j->str();
    ctx_.storage().read([this, reply = c.reply, owner](storage::Storage& db) {
      if (!db.accounts().exists(owner)) {
        reply.fail(StanzaError(StanzaErrorCondition::kItemNotFound, "no account " + owner));
        return;
      }
      auto collect = std::make_shared<Collect>(reply);
      collect->roster = db.roster().items(owner).size();
      for (const auto& r : ctx_.sessions().resources(owner)) {
        ctx_.dispatcher().with_session(r.ref, [collect, resource = r.resource](ClientSession& s) {
          std::lock_guard lock(collect->mutex);
          collect->resources.push_back(resource);
          collect->addresses.push_back(s.peer_address());
        });
      }
    });
  }

  // §4.23: a message to every session of the host's users.
  void announce(CommandCall& c, const std::string& text) {
    size_t sent = 0;
    std::vector<std::pair<SessionRef, Jid>> targets;
    ctx_.sessions().for_each([&](std::string_view bare, const BoundResource& r) {
      auto j = Jid::parse(bare);
      if (!j || j->domainpart() != c.host || !r.available) return;
      if (auto full = j->with_resource(r.resource)) targets.emplace_back(r.ref, *full);
    });
    for (const auto& [ref, to] : targets) {
      xml::Element m("message", ns::kClient);
      m.set_attr("from", c.host);
      m.set_attr("to", to.str());
      m.set_attr("type", "headline");
      m.add_text_child("subject", "Announcement");
      m.add_text_child("body", text);
      ctx_.router().deliver_to_session(ref, m);
      ++sent;
    }
    spdlog::info("admin: announcement by {} sent to {} session(s)", c.caller.jid.str(), sent);
    c.reply.done({{CommandNote::kInfo, "Announcement sent to " + std::to_string(sent) + " session(s)."}});
  }

  ModuleContext& ctx_;
  admin::Motd motd_;
};

}  // namespace

std::unique_ptr<Module> make_admin(ModuleContext& ctx) { return std::make_unique<AdminModule>(ctx); }

}  // namespace causerie::modules
