// The invitation landing page (XEP-0401 §4.2, XEP-0379 §3.3) as HTML built from plain values: what XMPP
// is, a button with the xmpp: URI and its QR code for apps that support easy onboarding, and a form that
// creates the account here. It works without JavaScript, loads nothing from elsewhere (the QR code is
// inline SVG, the style inline under a hash in the CSP), and speaks English or French (Accept-Language).
//
// Thread rules: pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include "modules/invites/invites.hpp"

namespace causerie::modules::invites {

enum class Lang { kEn, kFr };
// The language of the page: the first of en/fr the Accept-Language header prefers (q-values honoured),
// English when neither is there.
Lang pick_language(std::string_view accept_language);

// Why a submitted form did not create an account.
enum class FormProblem { kNone, kBadName, kPasswordsDiffer, kBadPassword, kTaken, kWrongName, kUsedUp, kStaleForm,
                         kTooMany, kServerError };

struct InvitePage {
  Lang lang = Lang::kEn;
  std::string host;
  std::string inviter;    // "" for an invitation from the server's admins
  std::string uri;        // the xmpp: URI (XEP-0401)
  std::string action;     // where the form posts: "/invite/<token>"
  std::string csrf;       // the form's token
  std::string username;   // reserved name, or what the visitor typed before a problem
  bool name_fixed = false;  // the invitation reserves the name
  std::string expires;    // XEP-0082 date-time, "" = never
  FormProblem problem = FormProblem::kNone;
};

std::string render_invite(const InvitePage& page);
// After the account was created: its address and how to log in, in an app or, when `web_app` is the path
// of the server's web app (not empty), in the browser right away.
std::string render_created(Lang lang, std::string_view jid, std::string_view inviter, std::string_view web_app = {});
// An invitation that cannot be used (unknown, expired, used up) or a host that takes no registrations.
std::string render_unusable(Lang lang, InviteState state);
// The Content-Security-Policy of these pages: nothing but the inline style (by hash) and the form posting
// to this origin.
const std::string& page_csp();

}  // namespace causerie::modules::invites
