// XEP-0215 v1.0 External Service Discovery (urn:xmpp:extdisco:2): each host's STUN and TURN servers
// ([[host.external_service]]) for its own users, with TURN REST API credentials (extdisco.hpp).
#include "modules/extdisco.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace extdisco {

TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view user,
                                      std::chrono::system_clock::time_point now, std::chrono::seconds lifetime) {
  int64_t expiry = util::unix_seconds(now) + lifetime.count();
  TurnCredentials c;
  c.username = std::to_string(expiry) + ":" + std::string(user);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(c.username.data()), c.username.size(), mac, &len);
  c.password = util::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
  c.expires = util::from_unix_seconds(expiry);
  return c;
}

namespace {

xml::Element service_element(const ExternalService& s, bool with_port_and_transport) {
  xml::Element e("service", ns::kExtDisco);
  e.set_attr("type", s.type);
  e.set_attr("host", s.host);
  if (with_port_and_transport) {
    e.set_attr("port", std::to_string(s.port));
    e.set_attr("transport", s.transport);
    if (!s.name.empty()) e.set_attr("name", s.name);
  }
  return e;
}

void add_credentials(xml::Element& e, const ExternalService& s, std::string_view user,
                     std::chrono::system_clock::time_point now) {
  TurnCredentials c = turn_rest_credentials(s.secret, user, now, s.lifetime);
  e.set_attr("username", c.username);
  e.set_attr("password", c.password);
  e.set_attr("expires", util::format_datetime(c.expires));
}

}  // namespace

Answer answer_services(const std::vector<ExternalService>& services, const xml::Element& request,
                       std::string_view user, std::chrono::system_clock::time_point now) {
  std::string_view type = request.attr("type");
  xml::Element out("services", ns::kExtDisco);
  if (!type.empty()) out.set_attr("type", type);
  for (const auto& s : services) {
    if (!type.empty() && s.type != type) continue;
    xml::Element& e = out.add(service_element(s, true));
    if (!s.secret.empty()) {
      // Credentials are required at this service (restricted); these are good until 'expires', then
      // the client asks again (§3.3).
      e.set_attr("restricted", "1");
      add_credentials(e, s, user, now);
    }
  }
  return out;
}

Answer answer_credentials(const std::vector<ExternalService>& services, const xml::Element& request,
                          std::string_view user, std::chrono::system_clock::time_point now) {
  auto wanted = request.children("service", ns::kExtDisco);
  if (wanted.empty()) return StanzaError(StanzaErrorCondition::kBadRequest, "a <service/> with host and type is required");
  xml::Element out("credentials", ns::kExtDisco);
  for (const xml::Element* w : wanted) {
    std::string_view host = w->attr("host"), type = w->attr("type"), port = w->attr("port"),
                     transport = w->attr("transport");
    // §3.3: 'host' and 'type' identify the service; 'port' (and here 'transport') narrow it down.
    if (host.empty() || type.empty())
      return StanzaError(StanzaErrorCondition::kBadRequest, "<service/> needs 'host' and 'type'");
    uint16_t port_number = 0;
    if (!port.empty()) {
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
      if (ec != std::errc() || end != port.data() + port.size() || port_number == 0)
        return StanzaError(StanzaErrorCondition::kBadRequest, "'port' must be a port number");
    }
    bool known = false;
    size_t issued = 0;
    for (const auto& s : services) {
      if (s.host != host || s.type != type) continue;
      if (port_number != 0 && s.port != port_number) continue;
      if (!transport.empty() && s.transport != transport) continue;
      known = true;
      if (s.secret.empty()) continue;
      xml::Element& e = out.add(service_element(s, true));
      add_credentials(e, s, user, now);
      ++issued;
    }
    if (!known) return StanzaError(StanzaErrorCondition::kItemNotFound, "no such service");
    if (issued == 0) return StanzaError(StanzaErrorCondition::kItemNotFound, "this service takes no credentials");
  }
  return out;
}

}  // namespace extdisco

namespace {

class ExtDiscoModule final : public Module {
 public:
  explicit ExtDiscoModule(ModuleContext& ctx) : ctx_(ctx) {
    ctx.on_iq(IqScope::kServer, false, ns::kExtDisco, [this](IqRequest& r) { answer(r, extdisco::answer_services); },
              "services");
    ctx.on_iq(IqScope::kServer, false, ns::kExtDisco,
              [this](IqRequest& r) { answer(r, extdisco::answer_credentials); }, "credentials");
    ctx.disco().add_server_feature(ns::kExtDisco);
  }

 private:
  using Answerer = extdisco::Answer (*)(const std::vector<ExternalService>&, const xml::Element&, std::string_view,
                                        std::chrono::system_clock::time_point);

  void answer(IqRequest& r, Answerer fn) {
    // A host's services, and credentials in particular, are for its own accounts: nobody else's clients
    // (another host's, a remote server's) has any business with its TURN server.
    std::string_view host = r.to().domainpart();
    const HostConfig* hc = ctx_.config().find_host(host);
    if (!hc || !r.from().has_localpart() || r.from().domainpart() != host) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "external services are for this host's accounts"));
      return;
    }
    std::string user(r.from().bare_view());
    auto result = fn(hc->external_services, r.payload(), user, ctx_.clock().wall());
    if (auto* err = std::get_if<StanzaError>(&result)) {
      r.reply.error(std::move(*err));
      return;
    }
    spdlog::debug("extdisco: <{}/> answered for {}", r.payload().name(), user);
    r.reply.result(std::move(std::get<xml::Element>(result)));
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_extdisco(ModuleContext& ctx) { return std::make_unique<ExtDiscoModule>(ctx); }

}  // namespace causerie::modules
