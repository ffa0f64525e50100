#include "modules/muc/muc_stanzas.hpp"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::modules::muc {

xml::Element make_occupant_presence(const Jid& from, const PresenceSpec& spec) {
  xml::Element p("presence", ns::kClient);
  if (spec.base && !spec.unavailable) {
    for (const auto& n : spec.base->nodes()) {
      if (n.is_text()) continue;
      if (n.ns() == ns::kMuc || n.ns() == ns::kMucUser || n.ns() == ns::kOccupantId) continue;
      p.add(n);
    }
    for (const auto& a : spec.base->attrs())
      if (a.name != "to" && a.name != "from" && a.name != "type") p.set_attr(a.name, a.value);
  } else if (spec.base && spec.unavailable) {
    // §7.14: a custom exit message travels with the unavailable presence.
    for (const xml::Element* st : spec.base->children("status", ns::kClient)) p.add(*st);
  }
  p.set_attr("from", from.str());
  if (spec.unavailable) p.set_attr("type", "unavailable");
  xml::Element& x = p.add_child("x", ns::kMucUser);
  xml::Element& item = x.add_child("item");
  item.set_attr("affiliation", to_string(spec.item.affiliation));
  if (!spec.item.jid.empty()) item.set_attr("jid", spec.item.jid);
  if (!spec.item.nick.empty()) item.set_attr("nick", spec.item.nick);
  item.set_attr("role", to_string(spec.item.role));
  if (!spec.item.actor.empty()) item.add_child("actor").set_attr("nick", spec.item.actor);
  if (!spec.item.reason.empty()) item.add_text_child("reason", spec.item.reason);
  std::vector<int> codes = spec.codes;
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  for (int c : codes) x.add_child("status").set_attr("code", std::to_string(c));
  if (spec.destroy) {
    xml::Element& d = x.add_child("destroy");
    if (!spec.destroy->jid.empty()) d.set_attr("jid", spec.destroy->jid);
    if (!spec.destroy->reason.empty()) d.add_text_child("reason", spec.destroy->reason);
    if (!spec.destroy->password.empty()) d.add_text_child("password", spec.destroy->password);
  }
  if (!spec.occupant_id.empty()) p.add_child("occupant-id", ns::kOccupantId).set_attr("id", spec.occupant_id);
  return p;
}

xml::Element make_status_x(const std::vector<int>& codes) {
  xml::Element x("x", ns::kMucUser);
  for (int c : codes) x.add_child("status").set_attr("code", std::to_string(c));
  return x;
}

std::vector<int> entry_codes(const RoomConfig& c, bool created, bool nick_modified) {
  std::vector<int> codes;
  if (c.whois == Whois::kAnyone) codes.push_back(100);  // §7.2.4
  if (c.logging) codes.push_back(170);                  // §7.2.12
  if (created) codes.push_back(201);                    // §10.1.1
  if (nick_modified) codes.push_back(210);              // §7.2.3
  return codes;
}

void strip_client_muc_elements(xml::Element& stanza) {
  stanza.remove_children("x", ns::kMucUser);
  stanza.remove_children("x", ns::kMuc);
  stanza.remove_children("occupant-id", ns::kOccupantId);
}

void set_occupant_id(xml::Element& stanza, std::string_view id) {
  stanza.remove_children("occupant-id", ns::kOccupantId);
  stanza.add_child("occupant-id", ns::kOccupantId).set_attr("id", id);
}

namespace {

// Decodes one UTF-8 code point (input already validated by the XML parser and stringprep).
char32_t next_code_point(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i++]);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
  for (int k = 0; k < extra && i < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

bool invisible(char32_t cp) {
  return cp == U' ' || cp == U'\t' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200F) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x2060 || cp == 0x3000 || cp == 0xFEFF ||
         cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0;
}

}  // namespace

std::optional<StanzaError> check_nick(std::string_view nick, size_t max_chars) {
  if (nick.empty()) return StanzaError(StanzaErrorCondition::kJidMalformed, "a nickname is required");
  size_t chars = 0;
  bool visible = false;
  for (size_t i = 0; i < nick.size();) {
    char32_t cp = next_code_point(nick, i);
    ++chars;
    if (!invisible(cp)) visible = true;
  }
  if (!visible) return StanzaError(StanzaErrorCondition::kJidMalformed, "a nickname cannot be blank");
  if (chars > max_chars)
    return StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify,
                       "nicknames are limited to " + std::to_string(max_chars) + " characters");
  return std::nullopt;
}

std::string make_occupant_id(std::string_view secret, std::string_view room, std::string_view bare_jid) {
  std::string data;
  data.reserve(room.size() + bare_jid.size() + 1);
  data.append(room).push_back('\0');
  data.append(bare_jid);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return util::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), 18));
}

}  // namespace causerie::modules::muc
