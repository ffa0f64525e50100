// The web app module: serves Causerie's browser client (web/, embedded at build time) at "/" of every HTTP
// listener, beside the protocol endpoints (WebSocket, BOSH, host-meta) and the other modules' pages, which
// keep their own, longer paths. `[modules.webapp] enabled = false` turns it off.
#include <spdlog/spdlog.h>

#include "core/module/module.hpp"
#include "modules/all_modules.hpp"
#include "modules/webapp/web_app_response.hpp"

namespace causerie::modules {
namespace {

class WebAppModule final : public Module {
 public:
  explicit WebAppModule(ModuleContext& ctx) {
    if (!ctx.raw_config().get_bool("modules.webapp.enabled").value_or(true)) return;
    auto assets = webapp::web_assets();
    // "/" matches every path no longer route takes: unknown paths stay 404.
    ctx.on_http("GET", "/", [assets](const web::Request& req, web::Respond respond) {
      const webapp::WebAsset* a = webapp::find_asset(assets, req.path);
      if (!a) return respond(web::Response::text(404, "not found\n"));
      respond(webapp::asset_response(*a, req));
    });
    spdlog::debug("webapp: {} files served at /", assets.size());
  }
};

}  // namespace

std::unique_ptr<Module> make_webapp(ModuleContext& ctx) { return std::make_unique<WebAppModule>(ctx); }

}  // namespace causerie::modules
