// Small server services, each a few lines: XEP-0199 ping, XEP-0092 software version, XEP-0202 entity time.
#include <sys/utsname.h>

#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace {

// XEP-0199 v2.0.1: a ping to the server (or, answered on its behalf, to an account) gets an empty result.
class PingModule final : public Module {
 public:
  explicit PingModule(ModuleContext& ctx) {
    auto pong = [](IqRequest& r) { r.reply.result(); };
    ctx.on_iq(IqScope::kServer, false, ns::kPing, pong);
    ctx.on_iq(IqScope::kAccount, false, ns::kPing, pong);
    ctx.disco().add_server_feature(ns::kPing);
  }
};

// XEP-0092 v1.1: name and version, and the OS unless the admin hides it.
class VersionModule final : public Module {
 public:
  explicit VersionModule(ModuleContext& ctx) {
    bool hide_os = ctx.config().hide_os_version;
    std::string os;
    utsname u{};
    if (!hide_os && uname(&u) == 0) os = std::string(u.sysname) + " " + u.release;
    ctx.on_iq(IqScope::kServer, false, ns::kVersion, [os](IqRequest& r) {
      xml::Element q("query", ns::kVersion);
      q.add_text_child("name", "Causerie");
      q.add_text_child("version", CAUSERIE_VERSION);
      if (!os.empty()) q.add_text_child("os", os);
      r.reply.result(std::move(q));
    });
    ctx.disco().add_server_feature(ns::kVersion);
  }
};

// XEP-0202 v2.0: UTC time; the server reports in UTC, so the offset is zero.
class TimeModule final : public Module {
 public:
  explicit TimeModule(ModuleContext& ctx) {
    ctx.on_iq(IqScope::kServer, false, ns::kTime, [&clock = ctx.clock()](IqRequest& r) {
      xml::Element t("time", ns::kTime);
      t.add_text_child("tzo", "+00:00");
      t.add_text_child("utc", util::format_datetime(clock.wall()));
      r.reply.result(std::move(t));
    });
    ctx.disco().add_server_feature(ns::kTime);
  }
};

}  // namespace

std::unique_ptr<Module> make_ping(ModuleContext& ctx) { return std::make_unique<PingModule>(ctx); }
std::unique_ptr<Module> make_version(ModuleContext& ctx) { return std::make_unique<VersionModule>(ctx); }
std::unique_ptr<Module> make_time(ModuleContext& ctx) { return std::make_unique<TimeModule>(ctx); }

}  // namespace causerie::modules
