// The social-network core, as one module: XEP-0060 v1.30.0 publish-subscribe on pubsub.<host> (also
// answering as comments.<host> and spaces.<host>), XEP-0163 v1.2.2 PEP on every account, XEP-0277
// microblogging and XEP-0472 social feeds, XEP-0115 caps-filtered notifications, public blog and tag pages,
// the index of public posts (post_index.hpp), and
// the conversions of PEP bookmarks and avatars to their older forms (pep_compat.hpp).
//
// This file wires the Engine to the server: the service domains, the account-scope pubsub iq handlers,
// disco, presence hooks (caps, last items on login), and the HTTP routes. Settings: [modules.pubsub]
// (see causerie.example.toml).
//
// Thread rules: hooks and handlers run on session threads and storage threads; the module's shared
// state is the CapsTracker (its own mutex) and read-only settings.
#pragma once

#include <memory>

#include "core/module/module.hpp"
#include "modules/pubsub/caps.hpp"
#include "modules/pubsub/engine.hpp"
#include "modules/pubsub/feed.hpp"
#include "modules/pubsub/notifier.hpp"
#include "modules/pubsub/pep_compat.hpp"
#include "modules/pubsub/post_index.hpp"

namespace causerie::modules::pubsub {

// Reads and checks [modules.pubsub]; throws ConfigError.
Settings load_settings(const RawConfig& raw);

class PubsubModule final : public Module {
 public:
  explicit PubsubModule(ModuleContext& ctx);

  Engine& engine() { return engine_; }

 private:
  void on_service_stanza(Stanza&& st, ClientSession* origin);
  HookResult on_client_presence(StanzaEvent& ev);
  HookResult on_account_stanza(StanzaEvent& ev);
  bool on_account_disco(AccountDiscoQuery kind, IqRequest& r);
  void query_caps(const std::string& host, const std::string& full, const Caps& caps, const std::string& id);
  Service pep_service(const Jid& account) const;

  ModuleContext& ctx_;
  Settings settings_;
  CapsTracker caps_;
  Notifier notifier_;
  Engine engine_;
  PepCompat compat_;
  Feed feed_;
  PostIndex post_index_;
  IqTable service_iq_;
  size_t blog_page_size_ = 20;
};

// GET /blog/<user@host>[/atom.xml] and /blog/community/<node>@<service>[/atom.xml] (blog_routes.cpp).
void serve_blog(ModuleContext& ctx, Engine& engine, size_t page_size, const web::Request& req, web::Respond respond);
// GET /tag/<tag> and /tag/<tag>.atom: the public posts carrying a hashtag (blog_routes.cpp).
void serve_tag(ModuleContext& ctx, size_t page_size, const web::Request& req, web::Respond respond);

}  // namespace causerie::modules::pubsub
