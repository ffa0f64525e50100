// The explicit list of modules (DESIGN §3: no static-init magic). Each make_* constructs one module,
// which registers its handlers with the context.
#pragma once

#include <memory>
#include <vector>

#include "core/module/module.hpp"

namespace causerie::modules {

std::unique_ptr<Module> make_im(ModuleContext& ctx);
std::unique_ptr<Module> make_offline(ModuleContext& ctx);
std::unique_ptr<Module> make_disco(ModuleContext& ctx);
std::unique_ptr<Module> make_ping(ModuleContext& ctx);
std::unique_ptr<Module> make_version(ModuleContext& ctx);
std::unique_ptr<Module> make_time(ModuleContext& ctx);
std::unique_ptr<Module> make_last(ModuleContext& ctx);
std::unique_ptr<Module> make_register(ModuleContext& ctx);
std::unique_ptr<Module> make_vcard(ModuleContext& ctx);
std::unique_ptr<Module> make_private(ModuleContext& ctx);
std::unique_ptr<Module> make_muc(ModuleContext& ctx);
std::unique_ptr<Module> make_pubsub(ModuleContext& ctx);  // pubsub/pubsub_module.cpp
std::unique_ptr<Module> make_blocking(ModuleContext& ctx);  // blocking.cpp (XEP-0191, XEP-0377)
std::unique_ptr<Module> make_mam(ModuleContext& ctx);       // mam/mam_module.cpp (XEP-0313)
std::unique_ptr<Module> make_push(ModuleContext& ctx);      // push.cpp (XEP-0357)
std::unique_ptr<Module> make_webpush(ModuleContext& ctx);   // webpush/webpush_module.cpp (Web Push)
std::unique_ptr<Module> make_carbons(ModuleContext& ctx);   // carbons.cpp (XEP-0280)
std::unique_ptr<Module> make_csi(ModuleContext& ctx);       // csi.cpp (XEP-0352)
std::unique_ptr<Module> make_extdisco(ModuleContext& ctx);  // extdisco.cpp (XEP-0215)
std::unique_ptr<Module> make_upload(ModuleContext& ctx);    // upload.cpp (XEP-0363)
std::unique_ptr<Module> make_webapp(ModuleContext& ctx);    // webapp/webapp_module.cpp (the browser client)
std::unique_ptr<Module> make_guests(ModuleContext& ctx);    // guests.cpp (XEP-0175)
std::unique_ptr<Module> make_multicast(ModuleContext& ctx); // multicast.cpp (XEP-0033)
std::unique_ptr<Module> make_directory(ModuleContext& ctx); // directory.cpp (XEP-0055, XEP-0433)
std::unique_ptr<Module> make_invites(ModuleContext& ctx);   // invites/invites_module.cpp (XEP-0401 page)
std::unique_ptr<Module> make_adhoc(ModuleContext& ctx);     // adhoc.cpp (XEP-0050)
std::unique_ptr<Module> make_admin(ModuleContext& ctx);     // admin/admin_module.cpp (XEP-0133)
std::unique_ptr<Module> make_account_download(ModuleContext& ctx);  // portability/account_download.cpp (XEP-0227)
std::unique_ptr<Module> make_sign_out_everywhere(ModuleContext& ctx);  // sign_out_everywhere.cpp (FAST tokens, sessions)
std::unique_ptr<Module> make_previews(ModuleContext& ctx);  // previews/previews_module.cpp (link previews, image proxy)

struct ModuleEntry {
  const char* name;
  std::unique_ptr<Module> (*make)(ModuleContext&);
};
const std::vector<ModuleEntry>& all_modules();

}  // namespace causerie::modules
