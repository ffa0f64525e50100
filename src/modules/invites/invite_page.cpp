#include "modules/invites/invite_page.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>

#include "core/util/encoding.hpp"
#include "core/xml/serializer.hpp"
#include "modules/invites/qr_svg.hpp"

namespace causerie::modules::invites {

namespace {

std::string esc(std::string_view s) { return xml::escape(s, true); }

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5;"
    "color:#222}h1{font-size:1.5rem}.app{display:inline-block;padding:.6rem 1.2rem;background:#2a6;color:#fff;"
    "border-radius:.4rem;text-decoration:none;font-weight:bold}.qr svg{max-width:16rem;height:auto}"
    "form{display:grid;gap:.5rem;max-width:22rem}input{font-size:1rem;padding:.4rem}"
    "button{font-size:1rem;padding:.5rem}.problem{color:#a00;font-weight:bold}small{color:#555}";

struct Text {
  const char* title;         // %s = host
  const char* from_user;     // %s = inviter
  const char* from_admin;    // %s = host
  const char* what_is_xmpp;
  const char* have_app;
  const char* open_app;
  const char* scan;
  const char* no_app;
  const char* create_here;
  const char* username;
  const char* password;
  const char* password_again;
  const char* create;
  const char* expires;       // %s = date
  const char* contact_note;  // %s = inviter
  const char* created_title;
  const char* created_body;  // %s = jid
  const char* created_contact;  // %s = inviter
  const char* unusable_title;
  const char* unknown, *expired, *used_up;
  const char* problems[10];
};

constexpr Text kEnglish = {
    "You are invited to chat on %s",
    "%s invites you to chat with them over XMPP.",
    "You are invited to create an account on %s.",
    "XMPP (also called Jabber) is an open standard for instant messaging: like e-mail, anyone can have an "
    "address on a server of their choice and talk with people on any other server, using the app they prefer. "
    "No company owns it.",
    "Already have an XMPP app?",
    "Open the invitation in your app",
    "On a phone, scan this code with an app that supports invitations (Conversations, Monal, Siskin, Gajim, "
    "Dino…):",
    "No app yet? Install one, then come back to this page; or create your account right here and log in "
    "with any XMPP app afterwards.",
    "Create your account here",
    "Username",
    "Password",
    "Password again",
    "Create my account",
    "This invitation is valid until %s (UTC).",
    "%s will be in your contacts.",
    "Your account is ready",
    "Your address is %s. Log in with it and your password in any XMPP app.",
    "%s is already in your contacts.",
    "This invitation cannot be used",
    "This invitation does not exist, or it was revoked.",
    "This invitation has expired. Ask for a new one.",
    "This invitation has already been used.",
    {"", "This username is not valid: use letters, digits and simple punctuation, without spaces or '@'.",
     "The two passwords are not the same.",
     "This password cannot be used (empty, too long, or with characters that are not allowed).",
     "This username is already taken: choose another one.", "This invitation is for another username.",
     "This invitation has already been used.", "The form was too old: please submit it again.",
     "Too many accounts were created from your address: try later.",
     "Something went wrong on the server: please try again."},
};

constexpr Text kFrench = {
    "Vous êtes invité·e à discuter sur %s",
    "%s vous invite à discuter avec lui ou elle par XMPP.",
    "Vous êtes invité·e à créer un compte sur %s.",
    "XMPP (aussi appelé Jabber) est un standard ouvert de messagerie instantanée : comme pour le courriel, "
    "chacun a une adresse sur le serveur de son choix et peut parler aux personnes de n’importe quel autre "
    "serveur, avec l’application qu’il préfère. Aucune entreprise ne le possède.",
    "Vous avez déjà une application XMPP ?",
    "Ouvrir l’invitation dans votre application",
    "Sur un téléphone, scannez ce code avec une application qui gère les invitations (Conversations, Monal, "
    "Siskin, Gajim, Dino…) :",
    "Pas encore d’application ? Installez-en une puis revenez sur cette page ; ou créez votre compte ici et "
    "connectez-vous ensuite avec n’importe quelle application XMPP.",
    "Créer votre compte ici",
    "Nom d’utilisateur",
    "Mot de passe",
    "Mot de passe (encore)",
    "Créer mon compte",
    "Cette invitation est valable jusqu’au %s (UTC).",
    "%s sera dans vos contacts.",
    "Votre compte est prêt",
    "Votre adresse est %s. Connectez-vous avec elle et votre mot de passe dans n’importe quelle application XMPP.",
    "%s est déjà dans vos contacts.",
    "Cette invitation ne peut pas être utilisée",
    "Cette invitation n’existe pas, ou elle a été révoquée.",
    "Cette invitation a expiré. Demandez-en une nouvelle.",
    "Cette invitation a déjà été utilisée.",
    {"", "Ce nom d’utilisateur n’est pas valide : lettres, chiffres et ponctuation simple, sans espace ni « @ ».",
     "Les deux mots de passe ne sont pas identiques.",
     "Ce mot de passe ne peut pas être utilisé (vide, trop long, ou avec des caractères non permis).",
     "Ce nom d’utilisateur est déjà pris : choisissez-en un autre.", "Cette invitation est pour un autre nom d’utilisateur.",
     "Cette invitation a déjà été utilisée.", "Le formulaire était trop ancien : envoyez-le à nouveau.",
     "Trop de comptes ont été créés depuis votre adresse : réessayez plus tard.",
     "Le serveur a rencontré un problème : réessayez."},
};

const Text& text(Lang lang) { return lang == Lang::kFr ? kFrench : kEnglish; }

// Replaces the one %s of a message with already escaped HTML.
std::string fill(const char* format, std::string_view html) {
  std::string s(format);
  size_t at = s.find("%s");
  if (at != std::string::npos) s.replace(at, 2, html);
  return s;
}

std::string page(Lang lang, std::string_view title, std::string_view body) {
  std::string out = "<!DOCTYPE html>\n<html lang='";
  out += lang == Lang::kFr ? "fr" : "en";
  out += "'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
         "<meta name='referrer' content='no-referrer'><title>";
  out += title;
  out += "</title><style>";
  out += kStyle;
  out += "</style></head><body>";
  out += body;
  out += "</body></html>\n";
  return out;
}

std::string field(std::string_view label, std::string_view name, std::string_view type, std::string_view value,
                  std::string_view extra) {
  std::string out = "<label>";
  out += label;
  out += "<br><input name='" + std::string(name) + "' type='" + std::string(type) + "' required";
  if (!value.empty()) out += " value='" + esc(value) + "'";
  out += extra;
  out += "></label>";
  return out;
}

}  // namespace

Lang pick_language(std::string_view header) {
  double en = -1, fr = -1;
  size_t order = 0;
  double en_order = 1e9, fr_order = 1e9;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = part.find(';');
    std::string_view tag = part.substr(0, semi);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    double q = 1;
    if (semi != std::string_view::npos) {
      std::string_view params = part.substr(semi + 1);
      size_t qa = params.find("q=");
      if (qa != std::string_view::npos) q = std::strtod(std::string(params.substr(qa + 2)).c_str(), nullptr);
    }
    std::string primary(tag.substr(0, tag.find('-')));
    for (auto& c : primary) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (primary == "fr" && q > fr) fr = q, fr_order = static_cast<double>(order);
    if (primary == "en" && q > en) en = q, en_order = static_cast<double>(order);
    ++order;
  }
  if (fr > 0 && (fr > en || (fr == en && fr_order < en_order))) return Lang::kFr;
  return Lang::kEn;
}

std::string render_invite(const InvitePage& p) {
  const Text& t = text(p.lang);
  std::string title = fill(t.title, esc(p.host));
  std::string b = "<h1>" + title + "</h1><p>";
  b += p.inviter.empty() ? fill(t.from_admin, esc(p.host)) : fill(t.from_user, "<strong>" + esc(p.inviter) + "</strong>");
  b += "</p><p>" + std::string(t.what_is_xmpp) + "</p>";
  if (!p.expires.empty()) b += "<p><small>" + fill(t.expires, esc(p.expires)) + "</small></p>";
  b += "<h2>" + std::string(t.have_app) + "</h2><p><a class='app' href='" + esc(p.uri) + "'>" + t.open_app + "</a></p>";
  std::string qr = qr_svg(p.uri);
  if (!qr.empty()) b += "<p>" + std::string(t.scan) + "</p><p class='qr'>" + qr + "</p>";
  b += "<p>" + std::string(t.no_app) + "</p>";
  b += "<h2 id='create'>" + std::string(t.create_here) + "</h2>";
  if (!p.inviter.empty()) b += "<p>" + fill(t.contact_note, esc(p.inviter)) + "</p>";
  if (p.problem != FormProblem::kNone)
    b += "<p class='problem' role='alert'>" + std::string(t.problems[static_cast<int>(p.problem)]) + "</p>";
  b += "<form method='post' action='" + esc(p.action) + "#create'>";
  b += "<input type='hidden' name='csrf' value='" + esc(p.csrf) + "'>";
  std::string name_extra = " autocomplete='username' autocapitalize='none' spellcheck='false' maxlength='1023'";
  if (p.name_fixed) name_extra += " readonly";
  b += field(std::string(t.username) + " <small>(…@" + esc(p.host) + ")</small>", "username", "text", p.username, name_extra);
  b += field(t.password, "password", "password", "", " autocomplete='new-password' maxlength='1023'");
  b += field(t.password_again, "password2", "password", "", " autocomplete='new-password' maxlength='1023'");
  b += "<button type='submit'>" + std::string(t.create) + "</button></form>";
  return page(p.lang, title, b);
}

// RFC 3986 §2.1: everything but unreserved characters percent-encoded (a query parameter's value).
static std::string query_value(std::string_view v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

std::string render_created(Lang lang, std::string_view jid, std::string_view inviter, std::string_view web_app) {
  const Text& t = text(lang);
  std::string b = "<h1>" + std::string(t.created_title) + "</h1><p>" +
                  fill(t.created_body, "<strong id='jid'>" + esc(jid) + "</strong>") + "</p>";
  if (!inviter.empty()) b += "<p>" + fill(t.created_contact, esc(inviter)) + "</p>";
  b += "<p><a class='app' href='xmpp:" + esc(jid) + "'>" + t.open_app + "</a></p>";
  if (!web_app.empty()) {
    // The web app signs in with the address filled in (?jid=), the password typed again there.
    const char* label = lang == Lang::kFr ? "Continuer dans le navigateur" : "Continue in your browser";
    b += "<p><a class='web' href='" + esc(std::string(web_app) + "?jid=" + query_value(jid)) + "'>" + label + "</a></p>";
  }
  b += "<p>" + std::string(t.what_is_xmpp) + "</p>";
  return page(lang, t.created_title, b);
}

std::string render_unusable(Lang lang, InviteState state) {
  const Text& t = text(lang);
  const char* why = state == InviteState::kExpired ? t.expired : state == InviteState::kUsedUp ? t.used_up : t.unknown;
  return page(lang, t.unusable_title, "<h1>" + std::string(t.unusable_title) + "</h1><p>" + why + "</p><p>" +
                                          t.what_is_xmpp + "</p>");
}

const std::string& page_csp() {
  static const std::string kCsp = [] {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(kStyle.data(), kStyle.size(), digest, &len, EVP_sha256(), nullptr);
    std::string hash = util::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
    return "default-src 'none'; style-src 'sha256-" + hash +
           "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  }();
  return kCsp;
}

}  // namespace causerie::modules::invites
