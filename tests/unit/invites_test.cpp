// XEP-0401/XEP-0445 invitation rules (modules/invites/invites.hpp), the landing page
// (invite_page.hpp) and its QR code (qr_svg.hpp).
#include <gtest/gtest.h>

#include <set>

#include "modules/invites/invite_page.hpp"
#include "modules/invites/invites.hpp"
#include "modules/invites/qr_svg.hpp"

using namespace causerie;
using namespace causerie::modules::invites;

namespace {

TEST(Invites, TokensAreRandomAlphanumericAndRecognised) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = new_token();
    EXPECT_EQ(t.size(), 26u);
    EXPECT_TRUE(plausible_token(t)) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
  for (const char* bad : {"", "short", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxy1", "../../../etc/passwdxxxxxxx"})
    EXPECT_FALSE(plausible_token(bad)) << bad;
}

TEST(Invites, State) {
  storage::Invite i;
  i.uses_left = 1;
  i.expires = 100;
  struct Case {
    std::optional<storage::Invite> invite;
    int64_t now;
    bool check_expiry;
    InviteState want;
  };
  storage::Invite used = i;
  used.uses_left = 0;
  storage::Invite forever = i;
  forever.expires = 0;
  std::vector<Case> cases = {
      {std::nullopt, 0, true, InviteState::kUnknown}, {i, 99, true, InviteState::kValid},
      {i, 100, true, InviteState::kExpired},          {i, 100, false, InviteState::kValid},  // XEP-0445 §4
      {used, 0, true, InviteState::kUsedUp},          {forever, 1'000'000'000, true, InviteState::kValid},
  };
  for (const auto& c : cases) EXPECT_EQ(invite_state(c.invite, c.now, c.check_expiry), c.want) << c.now;
}

TEST(Invites, UrisOfXep0401) {
  storage::Invite i;
  i.token = "tok";
  i.host = "example.com";
  EXPECT_EQ(invite_uri(i, true), "xmpp:example.com?register;preauth=tok");
  i.username = "juliet";
  EXPECT_EQ(invite_uri(i, true), "xmpp:juliet@example.com?register;preauth=tok");
  i.username.clear();
  i.creator = "romeo@example.com";
  i.add_contact = true;
  EXPECT_EQ(invite_uri(i, true), "xmpp:romeo@example.com?roster;preauth=tok;ibr=y");
  EXPECT_EQ(invite_uri(i, false), "xmpp:romeo@example.com?roster;preauth=tok");
  i.username = "juliet";  // §4.4 account creation with a contact: the name is fixed, so register
  EXPECT_EQ(invite_uri(i, true), "xmpp:juliet@example.com?register;preauth=tok");
  EXPECT_EQ(landing_url("https://example.com:5281/", "tok"), "https://example.com:5281/invite/tok");
}

TEST(Invites, LinksFollowTheConfig) {
  Config c = load_config_text(
      "[[host]]\nname = \"a.org\"\nregistration = \"invite\"\n[[host]]\nname = \"b.org\"\n"
      "[[listener]]\ntype = \"http\"\nport = 5280\ntls = \"none\"\n",
      "t");
  EXPECT_EQ(invite_base_url(c), "http://127.0.0.1:5280");
  EXPECT_EQ(default_lifetime(c), std::chrono::hours(24 * 7));
  EXPECT_TRUE(host_takes_invites(c, "a.org"));
  EXPECT_FALSE(host_takes_invites(c, "b.org"));
  EXPECT_FALSE(host_takes_invites(c, "c.org"));
  Config d = load_config_text(
      "[[host]]\nname = \"a.org\"\n[modules.invites]\nurl = \"https://chat.a.org\"\nexpire_after = \"0\"\n", "t");
  EXPECT_EQ(invite_base_url(d), "https://chat.a.org");
  EXPECT_EQ(default_lifetime(d).count(), 0);
}

TEST(InvitePage, Language) {
  EXPECT_EQ(pick_language(""), Lang::kEn);
  EXPECT_EQ(pick_language("fr-FR,fr;q=0.9,en;q=0.8"), Lang::kFr);
  EXPECT_EQ(pick_language("en-GB,en;q=0.9,fr;q=0.8"), Lang::kEn);
  EXPECT_EQ(pick_language("de, fr;q=0.5"), Lang::kFr);
  EXPECT_EQ(pick_language("de"), Lang::kEn);
  EXPECT_EQ(pick_language("en;q=0.2, FR;q=0.7"), Lang::kFr);
}

TEST(InvitePage, EscapesAndOffersUriQrAndForm) {
  InvitePage p;
  p.host = "example.org";
  p.inviter = "<b>romeo</b>@example.org";
  p.uri = "xmpp:romeo@example.org?roster;preauth=tok;ibr=y";
  p.action = "/invite/tok";
  p.csrf = "c'srf";
  p.username = "jul'iet";
  std::string html = render_invite(p);
  EXPECT_EQ(html.find("<b>romeo"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;romeo"), std::string::npos);
  EXPECT_NE(html.find("href='xmpp:romeo@example.org?roster;preauth=tok;ibr=y'"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<form method='post' action='/invite/tok#create'>"), std::string::npos);
  EXPECT_NE(html.find("value='c&apos;srf'"), std::string::npos);
  EXPECT_NE(html.find("value='jul&apos;iet'"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  p.lang = Lang::kFr;
  p.problem = FormProblem::kPasswordsDiffer;
  std::string fr = render_invite(p);
  EXPECT_NE(fr.find("<html lang='fr'>"), std::string::npos);
  EXPECT_NE(fr.find("Les deux mots de passe"), std::string::npos);
}

TEST(InvitePage, CspAllowsOnlyTheInlineStyle) {
  const std::string& csp = page_csp();
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("style-src 'sha256-"), std::string::npos);
  EXPECT_NE(csp.find("form-action 'self'"), std::string::npos);
}

TEST(QrSvg, DrawsAQrCodeOfTheUri) {
  std::string svg = qr_svg("xmpp:example.org?register;preauth=abcdefghijklmnopqrstuvwxyz");
  ASSERT_TRUE(svg.starts_with("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 "));
  // 60 bytes need version 4 at level M (62 bytes in byte mode): 33 modules and the quiet zone (8) = 41.
  EXPECT_NE(svg.find("viewBox='0 0 41 41'"), std::string::npos) << svg.substr(0, 120);
  EXPECT_NE(svg.find("<path fill='#000' d='M4 4h7v1h-7z"), std::string::npos);  // the top-left finder pattern
  EXPECT_EQ(qr_svg(std::string(8000, 'x')), "");
}

}  // namespace
