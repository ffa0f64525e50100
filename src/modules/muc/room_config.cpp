#include "modules/muc/room_config.hpp"

#include <algorithm>
#include <charconv>

#include "core/jid/jid.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::modules::muc {

namespace {

constexpr Role kListRoles[] = {Role::kModerator, Role::kParticipant, Role::kVisitor};

std::vector<std::string> roles_of(uint8_t bits) {
  std::vector<std::string> out;
  for (Role r : kListRoles)
    if (bits & role_bit(r)) out.emplace_back(to_string(r));
  return out;
}

void add_role_options(xml::FormField& f) {
  f.options = {{"Moderator", "moderator"}, {"Participant", "participant"}, {"Visitor", "visitor"}};
}

const char* b(bool v) { return v ? "1" : "0"; }

StanzaError unacceptable(std::string text) {
  return StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify, std::move(text));
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

xml::DataForm config_form(const RoomConfig& c, const std::vector<std::string>& owners,
                          const std::vector<std::string>& admins, const ConfigLimits& limits, std::string_view room) {
  xml::DataForm f;
  f.type = "form";
  f.title = "Configuration for " + std::string(room);
  f.instructions = "Complete this form to configure the room; submit it unchanged to keep these values.";
  f.add("FORM_TYPE", "hidden", {ns::kMucRoomConfig});
  f.add("muc#roomconfig_roomname", "text-single", {c.name}, "Natural-Language Room Name");
  f.add("muc#roomconfig_roomdesc", "text-single", {c.description}, "Short Description of Room");
  f.add("muc#roomconfig_lang", "text-single", {c.lang}, "Natural Language for Room Discussions");
  f.add("muc#roomconfig_enablelogging", "boolean", {b(c.logging)}, "Enable Public Logging?");
  f.add("muc#roomconfig_enablearchiving", "boolean", {b(c.archiving)}, "Archive Messages (XEP-0313)?");
  f.add("muc#roomconfig_changesubject", "boolean", {b(c.change_subject)}, "Allow Occupants to Change Subject?");
  f.add("muc#roomconfig_allowinvites", "boolean", {b(c.allow_invites)}, "Allow Members to Invite Others?");
  auto& pm = f.add("muc#roomconfig_allowpm", "list-single", {to_string(c.allow_pm)}, "Who Can Send Private Messages?");
  pm.options = {{"Anyone", "anyone"}, {"Anyone with Voice", "participants"}, {"Moderators Only", "moderators"},
                {"Nobody", "none"}};
  auto& mu = f.add("muc#roomconfig_maxusers", "list-single", {c.max_users ? std::to_string(c.max_users) : "none"},
                   "Maximum Number of Occupants");
  for (uint32_t n : {10u, 20u, 30u, 50u, 100u, 200u, 500u, 1000u, 5000u})
    if (n <= limits.max_users) mu.options.emplace_back(std::to_string(n), std::to_string(n));
  mu.options.emplace_back("None", "none");
  auto& pb = f.add("muc#roomconfig_presencebroadcast", "list-multi", roles_of(c.presence_broadcast),
                   "Roles for which Presence is Broadcasted");
  add_role_options(pb);
  auto& gm = f.add("muc#roomconfig_getmemberlist", "list-multi", roles_of(c.get_member_list),
                   "Roles and Affiliations that May Retrieve Member List");
  add_role_options(gm);
  f.add("muc#roomconfig_publicroom", "boolean", {b(c.is_public)}, "Make Room Publicly Searchable?");
  f.add("muc#roomconfig_persistentroom", "boolean", {b(c.persistent)}, "Make Room Persistent?");
  f.add("muc#roomconfig_moderatedroom", "boolean", {b(c.moderated)}, "Make Room Moderated?");
  f.add("muc#roomconfig_membersonly", "boolean", {b(c.members_only)}, "Make Room Members-Only?");
  f.add("muc#roomconfig_passwordprotectedroom", "boolean", {b(c.password_protected)}, "Password Required to Enter?");
  f.add("muc#roomconfig_roomsecret", "text-private", {c.password}, "Password");
  auto& wh = f.add("muc#roomconfig_whois", "list-single", {to_string(c.whois)}, "Who May Discover Real JIDs?");
  wh.options = {{"Moderators Only", "moderators"}, {"Anyone", "anyone"}};
  // Not a registered muc#roomconfig field, so its name is namespaced (XEP-0068 §3.2).
  auto& rg = f.add(kRegistrationField, "list-single", {to_string(c.registration)},
                   "Who May Register with the Room (and so reserve a nickname)?");
  rg.options = {{"Anyone; in a members-only room once an admin approves", "auto"},
                {"Anyone, once an admin approves", "approval"},
                {"Nobody: admins add members", "none"}};
  f.add("muc#maxhistoryfetch", "text-single", {std::to_string(c.history_fetch)},
        "Maximum Number of History Messages Returned by Room (at most " + std::to_string(limits.max_history) + ")");
  f.add("muc#roomconfig_roomadmins", "jid-multi", admins, "Room Admins");
  f.add("muc#roomconfig_roomowners", "jid-multi", owners, "Room Owners");
  return f;
}

tl::expected<ConfigSubmission, StanzaError> apply_config_form(const xml::DataForm& form, const RoomConfig& current,
                                                              const ConfigLimits& limits) {
  std::string type = form.form_type();
  if (!type.empty() && type != ns::kMucRoomConfig)
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "not a muc#roomconfig form"));
  ConfigSubmission out;
  RoomConfig& c = out.config;
  c = current;
  std::optional<bool> password_flag;

  for (const auto& f : form.fields) {
    const std::string& v = f.value();
    auto boolean = [&](bool& target) -> bool {
      auto parsed = xml::parse_form_bool(v);
      if (!parsed) return false;
      target = *parsed;
      return true;
    };
    auto text = [&](std::string& target) -> bool {
      if (v.size() > limits.max_text) return false;
      target = v;
      return true;
    };
    auto roles = [&](uint8_t& target) -> bool {
      uint8_t bits = 0;
      for (const auto& r : f.values) {
        auto role = parse_role(r);
        if (!role || *role == Role::kNone) return false;
        bits |= role_bit(*role);
      }
      target = bits;
      return true;
    };
    auto jids = [&](std::optional<std::vector<std::string>>& target) -> bool {
      if (f.values.size() > limits.max_list) return false;
      std::vector<std::string> list;
      for (const auto& s : f.values) {
        if (s.empty()) continue;
        auto j = Jid::parse(s);
        if (!j) return false;
        std::string bare(j->bare_view());
        if (std::find(list.begin(), list.end(), bare) == list.end()) list.push_back(std::move(bare));
      }
      target = std::move(list);
      return true;
    };

    bool ok = true;
    const std::string& var = f.var;
    if (var == "muc#roomconfig_roomname") ok = text(c.name);
    else if (var == "muc#roomconfig_roomdesc") ok = text(c.description);
    else if (var == "muc#roomconfig_lang") ok = v.size() <= 64 && text(c.lang);
    else if (var == "muc#roomconfig_enablelogging") ok = boolean(c.logging);
    else if (var == "muc#roomconfig_enablearchiving") ok = boolean(c.archiving);
    else if (var == "muc#roomconfig_changesubject") ok = boolean(c.change_subject);
    else if (var == "muc#roomconfig_allowinvites") ok = boolean(c.allow_invites);
    else if (var == "muc#roomconfig_publicroom") ok = boolean(c.is_public);
    else if (var == "muc#roomconfig_persistentroom") ok = boolean(c.persistent);
    else if (var == "muc#roomconfig_moderatedroom") ok = boolean(c.moderated);
    else if (var == "muc#roomconfig_membersonly") ok = boolean(c.members_only);
    else if (var == "muc#roomconfig_passwordprotectedroom") {
      bool p = false;
      ok = boolean(p);
      password_flag = p;
    } else if (var == "muc#roomconfig_roomsecret") ok = text(c.password);
    else if (var == "muc#roomconfig_allowpm") {
      auto p = parse_allow_pm(v);
      ok = p.has_value();
      if (p) c.allow_pm = *p;
    } else if (var == "muc#roomconfig_whois") {
      auto w = parse_whois(v);
      ok = w.has_value();
      if (w) c.whois = *w;
    } else if (var == kRegistrationField) {
      auto r = parse_registration(v);
      ok = r.has_value();
      if (r) c.registration = *r;
    } else if (var == "muc#roomconfig_maxusers") {
      if (v == "none" || v.empty()) c.max_users = 0;
      else if (auto n = parse_u32(v); n && *n > 0 && *n <= limits.max_users) c.max_users = *n;
      else ok = false;
    } else if (var == "muc#maxhistoryfetch") {
      auto n = parse_u32(v);
      ok = n && *n <= limits.max_history;
      if (ok) c.history_fetch = *n;
    } else if (var == "muc#roomconfig_presencebroadcast") ok = roles(c.presence_broadcast);
    else if (var == "muc#roomconfig_getmemberlist") ok = roles(c.get_member_list);
    else if (var == "muc#roomconfig_roomadmins") ok = jids(out.admins);
    else if (var == "muc#roomconfig_roomowners") ok = jids(out.owners);
    if (!ok) return tl::unexpected(unacceptable("unacceptable value for " + var));
  }
  // A password alone makes the room protected; an explicit 'no' clears the password.
  c.password_protected = password_flag ? *password_flag : !c.password.empty();
  if (!c.password_protected) c.password.clear();
  if (c.password_protected && c.password.empty())
    return tl::unexpected(unacceptable("a password-protected room needs a password"));
  if (out.owners && out.owners->empty()) return tl::unexpected(unacceptable("a room needs at least one owner"));
  return out;
}

std::vector<int> config_change_codes(const RoomConfig& before, const RoomConfig& after) {
  std::vector<int> codes;
  if (before.logging != after.logging) codes.push_back(after.logging ? 170 : 171);
  if (before.whois != after.whois) {
    switch (after.whois) {
      case Whois::kAnyone: codes.push_back(172); break;
      case Whois::kModerators: codes.push_back(173); break;
      case Whois::kNone: codes.push_back(174); break;
    }
  }
  RoomConfig a = before, z = after;
  a.logging = z.logging;
  a.whois = z.whois;
  if (!(a == z)) codes.push_back(104);
  return codes;
}

std::string serialize_config(const RoomConfig& c) {
  xml::DataForm f = config_form(c, {}, {}, ConfigLimits{UINT32_MAX, UINT32_MAX}, "");
  f.type = "submit";
  f.title.clear();
  f.instructions.clear();
  std::erase_if(f.fields, [](const xml::FormField& x) {
    return x.var == "muc#roomconfig_roomadmins" || x.var == "muc#roomconfig_roomowners";
  });
  for (auto& x : f.fields) {
    x.options.clear();
    x.label.clear();
  }
  return xml::to_string(f.to_element());
}

RoomConfig deserialize_config(std::string_view text, const ConfigLimits& limits) {
  RoomConfig defaults;
  auto el = xml::parse_fragment(text);
  if (!el) return defaults;
  auto form = xml::DataForm::parse(*el);
  if (!form) return defaults;
  // Stored values were accepted once; limits lowered since are applied by clamping, not by refusing.
  ConfigLimits loose = limits;
  loose.max_users = UINT32_MAX;
  loose.max_history = UINT32_MAX;
  auto applied = apply_config_form(*form, defaults, loose);
  if (!applied) return defaults;
  RoomConfig c = applied->config;
  if (c.max_users > limits.max_users) c.max_users = limits.max_users;
  if (c.history_fetch > limits.max_history) c.history_fetch = limits.max_history;
  return c;
}

}  // namespace causerie::modules::muc
