// XEP-0060 / XEP-0163 / XEP-0277 / XEP-0115: the module's wiring (see pubsub_module.hpp).
#include "modules/pubsub/pubsub_module.hpp"

#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/pubsub/account_events.hpp"
#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules {

std::unique_ptr<Module> make_pubsub(ModuleContext& ctx) { return std::make_unique<pubsub::PubsubModule>(ctx); }

}  // namespace causerie::modules

namespace causerie::modules::pubsub {

namespace {

int64_t positive(const RawConfig& raw, const std::string& key, int64_t def, int64_t min, int64_t max) {
  auto v = raw.get_int("modules.pubsub." + key);
  if (!v) return def;
  if (*v < min || *v > max)
    throw ConfigError("config key 'modules.pubsub." + key + "': expected " + std::to_string(min) + " to " + std::to_string(max));
  return *v;
}

bool is_subscription_authorization(const xml::Element& message, xml::DataForm& out) {
  for (const xml::Element* x : message.children("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*x);
    if (form && form->form_type() == ns::kPubsubSubscribeAuthorization && (form->type == "submit" || form->type == "cancel")) {
      out = std::move(*form);
      return true;
    }
  }
  return false;
}

}  // namespace

Settings load_settings(const RawConfig& raw) {
  Settings s;
  s.limits.max_items_limit = positive(raw, "max_items", 1'000'000, 1, 100'000'000);
  s.limits.default_max_items = positive(raw, "default_max_items", 256, 1, s.limits.max_items_limit);
  s.limits.max_payload_size = positive(raw, "max_payload_size", 192 * 1024, 1024, 64 << 20);
  s.max_items_per_request = static_cast<size_t>(positive(raw, "max_items_per_request", 500, 1, 100'000));
  s.max_nodes_per_owner = static_cast<size_t>(positive(raw, "max_nodes_per_owner", 1000, 1, 10'000'000));
  if (auto create = raw.get_string("modules.pubsub.create")) {
    if (*create == "local") s.create = CreatePolicy::kLocalUsers;
    else if (*create == "admins") s.create = CreatePolicy::kAdmins;
    else if (*create == "anyone") s.create = CreatePolicy::kAnyone;
    else throw ConfigError("config key 'modules.pubsub.create': expected \"local\", \"admins\" or \"anyone\"");
  }
  if (auto names = raw.get_strings("modules.pubsub.services")) {
    if (names->empty()) throw ConfigError("config key 'modules.pubsub.services': at least one name is needed");
    for (const auto& n : *names)
      if (n.empty() || n.find_first_of("@/. ") != std::string::npos)
        throw ConfigError("config key 'modules.pubsub.services': '" + n + "' is not a subdomain label");
    s.service_prefixes = *names;
  }
  return s;
}

FeedSettings load_feed_settings(const RawConfig& raw) {
  FeedSettings f;
  f.default_page = static_cast<size_t>(positive(raw, "feed_page", 20, 1, 1000));
  f.max_page = static_cast<size_t>(positive(raw, "feed_max_page", 100, 1, 1000));
  if (f.default_page > f.max_page) throw ConfigError("config key 'modules.pubsub.feed_page': larger than feed_max_page");
  f.backfill = static_cast<size_t>(positive(raw, "feed_backfill", 50, 0, 1000));
  return f;
}

PubsubModule::PubsubModule(ModuleContext& ctx)
    : ctx_(ctx),
      settings_(load_settings(ctx.raw_config())),
      notifier_(ctx, caps_),
      engine_(ctx, settings_, caps_, notifier_),
      compat_(ctx, engine_),
      feed_(ctx, engine_, load_feed_settings(ctx.raw_config())),
      post_index_(ctx, engine_) {
  blog_page_size_ = static_cast<size_t>(positive(ctx.raw_config(), "blog_page_size", 20, 1, 200));
  if (static_cast<size_t>(settings_.limits.max_payload_size) + 1024 > ctx.config().limits.max_stanza_bytes)
    spdlog::warn("modules.pubsub.max_payload_size ({}) is not below limits.max_stanza_size ({}): a publish near "
                 "the limit ends the client's stream instead of getting a payload-too-big error",
                 settings_.limits.max_payload_size, ctx.config().limits.max_stanza_bytes);

  // The service domains.
  service_iq_.add(false, ns::kDiscoInfo, [this](IqRequest& r) {
    if (auto svc = engine_.service_at(r.to().domainpart())) engine_.disco_info(r, *svc);
  });
  service_iq_.add(false, ns::kDiscoItems, [this](IqRequest& r) {
    if (auto svc = engine_.service_at(r.to().domainpart())) engine_.disco_items(r, *svc);
  });
  for (const char* n : {ns::kPubsub, ns::kPubsubOwner})
    for (bool set : {false, true})
      service_iq_.add(set, n, [this](IqRequest& r) {
        if (auto svc = engine_.service_at(r.to().domainpart())) engine_.handle(r, *svc);
      });
  auto serve_host = [this, &ctx](const std::string& host) {
    auto domains = engine_.service_domains(host);
    for (const auto& d : domains)
      ctx.add_service(d, [this](Stanza&& st, ClientSession* origin) { on_service_stanza(std::move(st), origin); });
    ctx.disco().add_server_item({host, domains.front(), "Publish-Subscribe"});
  };
  for (const auto& host : ctx.router().local_hosts()) serve_host(host);
  ctx.on_host_added([serve_host](const HostConfig& h) { serve_host(h.name); });
  ctx.disco().add_channel_lister([this](const std::string& host, std::function<void(std::vector<ChannelInfo>)> done) {
    engine_.list_channels(host, std::move(done));
  });

  // PEP: every account is a pubsub service (XEP-0163 §3), answered on its behalf.
  for (const char* n : {ns::kPubsub, ns::kPubsubOwner})
    for (bool set : {false, true})
      ctx.on_iq(IqScope::kAccount, set, n, [this](IqRequest& r) { engine_.handle(r, pep_service(r.account())); });
  ctx.disco().add_account_identity({"pubsub", "pep", ""});  // XEP-0163 §6.1
  for (const auto& f : pubsub_features()) ctx.disco().add_account_feature(f);
  ctx.disco().add_account_feature("http://jabber.org/protocol/pubsub#pubsub-on-a-jid");  // XEP-0060 §9
  ctx.disco().add_account_handler([this](AccountDiscoQuery kind, IqRequest& r) { return on_account_disco(kind, r); });

  // XEP-0115 caps of local sessions, before the IM module broadcasts the presence (priority 100).
  ctx.hook(StanzaHook::kFromClient, 110, [this](StanzaEvent& ev) { return on_client_presence(ev); });
  // Remote contacts' presence, and PEP owners' answers to approval forms.
  ctx.hook(StanzaHook::kToAccount, 110, [this](StanzaEvent& ev) { return on_account_stanza(ev); });
  ctx.on_session(SessionHook::kAvailable, [this](ClientSession& s) { engine_.send_last_for_subscriptions(s.jid()); });
  ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) {
    if (!s.bound()) return;
    // RFC 6120 §7.7.2.2 ("override"): a session replaced by a new one with the same full JID (the web
    // app's XEP-0386 Bind 2 gives a returning browser its resource again) may end only after the new
    // one sent its presence, e.g. a WebSocket waiting for its closing handshake. The caps entry is
    // keyed by full JID, so it is the new session's by then: leave it (its own close removes it).
    std::string_view res = s.jid().resourcepart();
    bool replaced = false;
    ctx_.sessions().inspect(s.jid().bare_view(), [&](const std::vector<BoundResource>& resources) {
      for (const auto& r : resources)
        if (r.resource == res && !(r.ref == s.ref())) replaced = true;
    });
    if (!replaced) caps_.unavailable(s.jid().str());
  });

  // Comments and likes on an account's posts, for Web Push (account_events.hpp); told once committed.
  engine_.add_publish_observer([this](storage::Storage& db, const Service& svc, const Engine::Published& p) {
    if (!ctx_.router().has_account_event_observers()) return std::function<void()>();
    auto events = publish_events(engine_, db, svc, p);
    if (events.empty()) return std::function<void()>();
    return std::function<void()>([this, events = std::move(events)] {
      for (const auto& ev : events) ctx_.router().account_event(ev);
    });
  });

  ctx.on_http("GET", "/blog", [this](const web::Request& req, web::Respond respond) {
    serve_blog(ctx_, engine_, blog_page_size_, req, std::move(respond));
  });
  ctx.on_http("GET", "/tag", [this](const web::Request& req, web::Respond respond) {
    serve_tag(ctx_, blog_page_size_, req, std::move(respond));
  });
}

Service PubsubModule::pep_service(const Jid& account) const {
  return Service{account.bare().str(), true, std::string(account.domainpart())};
}

void PubsubModule::on_service_stanza(Stanza&& st, ClientSession* origin) {
  auto svc = engine_.service_at(st.to().domainpart());
  if (!svc) return;
  if (st.is_iq()) {
    std::string_view type = st.type();
    if (type == "result" || type == "error") {
      // Answers to our XEP-0115 disco#info queries.
      std::string id(st.id());
      if (!caps_.is_pending(id)) return;
      const xml::Element* q = type == "result" ? st.element().child("query", ns::kDiscoInfo) : nullptr;
      for (auto& r : caps_.answer(id, q))
        if (!r.gained.empty()) engine_.send_last_for_interests(r.full, r.gained, r.owners);
      return;
    }
    if (st.to().has_localpart() || st.to().has_resource()) {
      ctx_.router().bounce(st, StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    }
    IqRequest req{std::move(st), IqResponder(), origin};
    req.reply = ctx_.router().responder_for(req.stanza);
    try {
      service_iq_.dispatch(req);
    } catch (const std::exception& e) {
      spdlog::error("pubsub: request failed: {}", e.what());  // the responder still answers
    }
    return;
  }
  if (st.is_message() && st.type() != "error") {
    xml::DataForm form;
    if (is_subscription_authorization(st.element(), form)) engine_.authorization_answer(*svc, st.from(), form);
  }
}

HookResult PubsubModule::on_client_presence(StanzaEvent& ev) {
  Stanza& st = ev.stanza;
  if (!st.is_presence() || !ev.origin || !st.to().empty() || !ev.origin->bound()) return HookResult::kContinue;
  std::string_view type = st.type();
  const std::string& full = ev.origin->jid().str();
  if (type == "unavailable") {
    caps_.unavailable(full);
  } else if (type.empty()) {
    auto caps = parse_caps(st.element());
    auto seen = caps_.available(full, caps);
    if (!seen.query_id.empty()) query_caps(std::string(ev.origin->jid().domainpart()), full, *caps, seen.query_id);
    if (seen.known && !seen.gained.empty()) engine_.send_last_for_interests(full, seen.gained, {});
  }
  return HookResult::kContinue;
}

HookResult PubsubModule::on_account_stanza(StanzaEvent& ev) {
  Stanza& st = ev.stanza;
  const Jid& from = st.from();
  if (st.is_presence()) {
    // XEP-0163 §4.3: a remote contact's presence tells which of the owner's nodes it wants. Local
    // sessions are tracked from their own stream (on_client_presence); presence from our own services
    // and from any chat room (an occupant's presence relayed by a room is not the occupant's own) is
    // not a contact's.
    if (from.empty() || !from.has_resource() || ctx_.router().is_local_host(from.domainpart()) ||
        ctx_.router().is_service(from.domainpart()) || st.element().child("x", ns::kMucUser))
      return HookResult::kContinue;
    std::string owner(st.to().bare_view());
    std::string_view type = st.type();
    if (type == "unavailable") {
      caps_.unavailable(from.str(), owner);
    } else if (type.empty()) {
      auto caps = parse_caps(st.element());
      auto seen = caps_.available(from.str(), caps, owner);
      if (!seen.query_id.empty()) query_caps(std::string(st.to().domainpart()), from.str(), *caps, seen.query_id);
      if (seen.known && !seen.gained.empty()) engine_.send_last_for_interests(from.str(), seen.gained, {owner});
    }
    return HookResult::kContinue;
  }
  // §8.6 on a PEP service: the owner answers the approval form it received from its own bare JID.
  if (st.is_message() && st.to().is_bare() && st.type() != "error" && from.bare() == st.to()) {
    xml::DataForm form;
    if (is_subscription_authorization(st.element(), form)) {
      engine_.authorization_answer(pep_service(st.to()), from, form);
      return HookResult::kHandled;
    }
  }
  return HookResult::kContinue;
}

bool PubsubModule::on_account_disco(AccountDiscoQuery kind, IqRequest& r) {
  Service svc = pep_service(r.account());
  if (kind == AccountDiscoQuery::kInfo) engine_.disco_info(r, svc);
  else engine_.disco_items(r, svc);
  return true;
}

void PubsubModule::query_caps(const std::string& host, const std::string& full, const Caps& caps, const std::string& id) {
  // XEP-0115 §6.2: ask the entity itself, for the node#ver it announced; the answer comes back to the
  // pubsub service's domain (on_service_stanza), which is where we can receive iq results.
  auto from = Jid::parse(engine_.service_domains(host).front());
  auto to = Jid::parse(full);
  if (!from || !to) return;
  xml::Element iq("iq", ns::kClient);
  iq.set_attr("type", "get").set_attr("id", id);
  xml::Element& q = iq.add_child("query", ns::kDiscoInfo);
  if (!caps.node.empty()) q.set_attr("node", caps.node + "#" + caps.ver);
  ctx_.router().route(Stanza(std::move(iq), *from, *to));
}

}  // namespace causerie::modules::pubsub
