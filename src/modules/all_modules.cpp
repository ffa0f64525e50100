#include "modules/all_modules.hpp"

#include "modules/im/im_module.hpp"

namespace causerie::modules {

std::unique_ptr<Module> make_im(ModuleContext& ctx) { return std::make_unique<im::ImModule>(ctx); }

const std::vector<ModuleEntry>& all_modules() {
  // Order matters only for disco listings; hooks are ordered by their priorities.
  static const std::vector<ModuleEntry> kModules = {
      {"im", make_im},           {"offline", make_offline}, {"disco", make_disco},
      {"ping", make_ping},       {"version", make_version}, {"time", make_time},
      {"last", make_last},       {"register", make_register}, {"vcard", make_vcard},
      {"private", make_private}, {"muc", make_muc}, {"pubsub", make_pubsub},
      {"blocking", make_blocking}, {"mam", make_mam}, {"carbons", make_carbons}, {"csi", make_csi},
      {"push", make_push}, {"webpush", make_webpush}, {"extdisco", make_extdisco}, {"upload", make_upload}, {"invites", make_invites},
      {"webapp", make_webapp},
      {"guests", make_guests}, {"multicast", make_multicast},
      {"directory", make_directory},
      {"adhoc", make_adhoc},     {"admin", make_admin},
      {"account_download", make_account_download},
      {"sign_out_everywhere", make_sign_out_everywhere},
      {"previews", make_previews},
  };
  return kModules;
}

}  // namespace causerie::modules
