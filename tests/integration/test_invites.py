"""Issue 14 item 1: invitations (XEP-0401) and pre-authenticated in-band registration (XEP-0445).

The QR/URI path: an invitation made with `causerie invite create`, its token presented by slixmpp before
XEP-0077 registration; a user invitation makes inviter and invitee mutual contacts (roster push to the
inviter's session), and they chat. Bad input: forged, used-up, expired (the server's test clock) and revoked
tokens, registration without a token where the policy is `invite`, a `closed` host, a name reserved by an
invitation, cross-site and forged form posts on the invitation page. The browser path is test_invite_web.py.
"""
import re
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import ET, IqError, RawClient, check

INVITE_HOST = "localhost"
CLOSED = "closed.localhost"
OPEN = "open.localhost"
PASSWORD = "juliet-s3cret"


def create_invite(env, *args):
    r = env.server.cli("invite", "create", *args)
    url = r.stdout.strip()
    check(re.fullmatch(r"http://127\.0\.0\.1:\d+/invite/[a-z2-7]{26}", url), f"an invitation link: {url!r}")
    return url, url.rsplit("/", 1)[1]


def http(env, url, data=None, headers=None):
    """(status, headers, body) of a GET, or of a form POST when `data` is a dict."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def raw_iq(raw, payload, iq_id, to=None):
    """Sends an iq on a raw stream (before authentication) and returns the whole answer to it."""
    to_attr = f" to='{to}'" if to else ""
    raw.send(f"<iq type='set' id='{iq_id}'{to_attr}>{payload}</iq>")
    marker = f"id='{iq_id}'"
    text = raw.read_until(marker)
    at = text.rfind("<iq", 0, text.find(marker))
    while True:
        head_end = text.find(">", at)
        if head_end > 0 and text[head_end - 1] == "/":
            return text[at:head_end + 1]
        close = text.find("</iq>", at)
        if close > 0:
            return text[at:close + 5]
        raw.sock.settimeout(10)  # the rest of the answer: a bound on a read that should come
        chunk = raw.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"stream closed inside the answer: {text[at:]}")
        raw.buffer += chunk
        text = raw.buffer.decode(errors="replace")


def preauth(token):
    return f"<preauth xmlns='urn:xmpp:pars:0' token='{token}'/>"


def register(user, password=PASSWORD):
    return (f"<query xmlns='jabber:iq:register'><username>{user}</username>"
            f"<password>{password}</password></query>")


def raw_stream(env, host=INVITE_HOST):
    raw = RawClient(env.server, host=host)
    features = raw.open_stream()
    return raw, features


async def advance_clock(env, client, seconds):
    iq = client.Iq(stype="set", sto=client.boundjid.domain)
    iq.append(ET.fromstring(f"<advance xmlns='urn:causerie:testing:clock' seconds='{seconds}'/>"))
    await iq.send(timeout=10)


async def test_stream_features_follow_the_policy(env):
    _, features = raw_stream(env)
    check("<register xmlns='urn:xmpp:ibr-token:0'/>" in features, f"XEP-0445 §3 feature: {features}")
    check("<register xmlns='http://jabber.org/features/iq-register'/>" in features, features)


async def test_user_invitation_through_in_band_registration(env):
    romeo, pw = env.user("romeo")
    r = await env.connect(romeo, pw)
    await r.get_roster()  # an interested resource (RFC 6121 §2.1.6) gets the push
    url, token = create_invite(env, "--inviter", romeo)
    # The landing page offers the XEP-0401 roster URI with ibr=y.
    status, _, page = http(env, url)
    check(status == 200, f"page status {status}")
    check(f"xmpp:{romeo}?roster;preauth={token};ibr=y" in page, "the roster URI is on the page")
    pushes = []
    r.add_event_handler("roster_update", lambda iq: pushes.append(iq))
    juliet = f"juliet@{env.host}"
    j = await env.connect(juliet, PASSWORD, register=True, preauth=token)
    check(j.boundjid.bare == juliet, "the invitee logs in")
    roster = await j.get_roster()
    items = roster["roster"]["items"]
    check(romeo in items and items[romeo]["subscription"] == "both", f"invitee's roster: {items}")
    await harness.wait_until(lambda: any(juliet in str(p) and "both" in str(p) for p in pushes),
                             "the inviter's roster push (XEP-0401 §4.5)")
    # Presence flows both ways (subscription both), and they chat.
    await r.next_presence(lambda p: p["from"].bare == juliet and p["type"] != "unavailable")
    j.send_message(mto=romeo, mbody="hello Romeo")
    m = await r.next_message(lambda m: m["body"] == "hello Romeo")
    check(m["from"].bare == juliet, "message from the invitee")
    r.send_message(mto=juliet, mbody="welcome Juliet")
    await j.next_message(lambda m: m["body"] == "welcome Juliet")
    listed = env.server.cli("invite", "list").stdout
    check(f"{token} localhost used up uses-left=0" in listed and f"account={juliet}" in listed, listed)
    # Used up now: the token is refused before registration, and so is the page.
    raw, _ = raw_stream(env)
    answer = raw_iq(raw, preauth(token), "pa")
    check("type='error'" in answer and "item-not-found" in answer, answer)
    check(http(env, url)[0] == 410, "a used-up invitation's page is gone")


async def test_admin_invitation_with_several_uses(env):
    url, token = create_invite(env, "--uses", "2")
    for name in ("mercutio", "tybalt"):
        c = await env.connect(f"{name}@{env.host}", PASSWORD, register=True, preauth=token)
        roster = await c.get_roster()
        check(not roster["roster"]["items"], "no contact comes with an admin invitation")
    err = await env.connect(f"benvolio@{env.host}", PASSWORD, register=True, preauth=token, expect_failure=True)
    check(isinstance(err, IqError) and err.condition == "item-not-found", f"third use refused: {err}")
    check(env.server.cli("invite", "list").stdout.count("account=") >= 3, "accounts recorded")


async def test_forged_and_missing_tokens_under_invite_policy(env):
    raw, _ = raw_stream(env)
    answer = raw_iq(raw, preauth("a" * 26), "pa1")
    check("item-not-found" in answer and "invalid or expired" in answer, answer)
    answer = raw_iq(raw, preauth("../../etc/passwd"), "pa2")
    check("item-not-found" in answer, answer)
    answer = raw_iq(raw, register("nobody"), "r1")
    check("not-allowed" in answer and "needs an invitation" in answer, f"no token, invite policy: {answer}")
    check(not env.server.cli("user", "list", env.host).stdout.count("nobody@"), "no account created")


async def test_token_is_used_only_by_a_successful_registration(env):
    taken, _ = env.user("taken")
    _, token = create_invite(env)
    raw, _ = raw_stream(env)
    check("type='result'" in raw_iq(raw, preauth(token), "pa"), "token accepted")
    answer = raw_iq(raw, register("taken"), "r1")
    check("conflict" in answer, f"a taken name: {answer}")
    check("type='result'" in raw_iq(raw, register("paris"), "r2"), "the same token still creates an account")
    answer = raw_iq(raw, register("paris2"), "r3")
    check("not-allowed" in answer and "used up" in answer, f"one use only: {answer}")


async def test_reserved_username(env):
    _, token = create_invite(env, "--username", "rosaline")
    raw, _ = raw_stream(env, OPEN)
    answer = raw_iq(raw, register("rosaline"), "r1", to=OPEN)
    check("type='result'" in answer, f"other hosts are not affected: {answer}")
    raw, _ = raw_stream(env)
    check("type='result'" in raw_iq(raw, preauth(token), "pa"), "token accepted")
    answer = raw_iq(raw, register("someone-else"), "r1")
    check("not-acceptable" in answer, f"the invitation is for rosaline: {answer}")
    check("type='result'" in raw_iq(raw, register("rosaline"), "r2"), "the reserved name is created")


async def test_expired_invitation(env):
    clock_user, pw = env.user("clockkeeper")
    c = await env.connect(clock_user, pw)
    url, token = create_invite(env, "--expires", "1h")
    raw, _ = raw_stream(env)
    check("type='result'" in raw_iq(raw, preauth(token), "pa"), "valid before expiry")
    await advance_clock(env, c, 2 * 3600)
    # XEP-0445 §4: expiry was checked when the token was presented; this stream may still register.
    check("type='result'" in raw_iq(raw, register("lateguest"), "r1"), "registration after a valid preauth")
    _, token2 = create_invite(env, "--expires", "1h", "--uses", "5")
    await advance_clock(env, c, 2 * 3600)
    raw2, _ = raw_stream(env)
    answer = raw_iq(raw2, preauth(token2), "pa")
    check("item-not-found" in answer and "expired" in answer, f"expired: {answer}")
    status, _, page = http(env, url.rsplit("/", 1)[0] + "/" + token2)
    check(status == 410 and "expired" in page, f"expired page: {status}")


async def test_closed_host(env):
    r = env.server.cli("invite", "create", "--host", CLOSED, check=False)
    check(r.returncode != 0 and "closed" in r.stderr, f"no invitation on a closed host: {r.stderr}")
    raw, features = raw_stream(env, CLOSED)
    answer = raw_iq(raw, register("intruder"), "r1", to=CLOSED)
    check("not-allowed" in answer and "closed" in answer, answer)
    _, token = create_invite(env)
    answer = raw_iq(raw, preauth(token), "pa", to=CLOSED)
    check("type='error'" in answer, f"a token is no key to a closed host: {answer}")


async def test_revoked_invitation(env):
    url, token = create_invite(env)
    r = env.server.cli("invite", "revoke", url)
    check(f"revoked {token}" in r.stdout, r.stdout)
    check(http(env, url)[0] == 404, "a revoked invitation's page is gone")
    raw, _ = raw_stream(env)
    check("item-not-found" in raw_iq(raw, preauth(token), "pa"), "revoked token refused")
    r = env.server.cli("invite", "revoke", token, check=False)
    check(r.returncode != 0 and "no invitation" in r.stderr, r.stderr)


async def test_page_and_form_refuse_bad_input(env):
    url, token = create_invite(env)
    status, headers, page = http(env, url, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    check(status == 200 and "<html lang='fr'>" in page, "French when asked")
    csp = headers.get("Content-Security-Policy", "")
    check("default-src 'none'" in csp and "unsafe-inline" not in csp, f"strict CSP: {csp}")
    check("<script" not in page and "<svg" in page, "no script, an inline QR code")
    check(f"xmpp:{env.host}?register;preauth={token}" in page, "the register URI")
    csrf = re.search(r"name='csrf' value='([0-9a-f]+)'", page).group(1)
    form = {"csrf": csrf, "username": "viola", "password": PASSWORD, "password2": PASSWORD}
    # Cross-site posts and forged form tokens are refused, and nothing is used.
    status, _, _ = http(env, url, form, {"Origin": "https://evil.example"})
    check(status == 400, f"cross-site post: {status}")
    status, _, _ = http(env, url, dict(form, csrf="0" * 64))
    check(status == 400, f"forged form token: {status}")
    status, _, page = http(env, url, dict(form, password2="other"))
    check(status == 400 and "not the same" in page, f"passwords differ: {status}")
    status, _, _ = http(env, url, dict(form, username="no spaces@allowed"))
    check(status == 400, f"bad username: {status}")
    check(http(env, url.rsplit("/", 1)[0] + "/" + "b" * 26, form)[0] == 404, "forged token")
    status, _, page = http(env, url, form)
    check(status == 201 and f"viola@{env.host}" in page, f"created: {status}")
    c = await env.connect(f"viola@{env.host}", PASSWORD)
    check(c.boundjid.bare == f"viola@{env.host}", "the new account logs in")
    check(http(env, url, form)[0] == 410, "used up")


CMD = "http://jabber.org/protocol/commands"
XDATA = "jabber:x:data"


async def command(client, node, to, form=None, sessionid=None):
    """One XEP-0050 stage: returns the <command/> of the result (IqError when refused)."""
    iq = client.Iq(stype="set", sto=to)
    attrs = f"node='{node}'" + (f" sessionid='{sessionid}'" if sessionid else " action='execute'")
    fields = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in (form or {}).items())
    payload = f"<x xmlns='{XDATA}' type='submit'>{fields}</x>" if form is not None else ""
    iq.append(ET.fromstring(f"<command xmlns='{CMD}' {attrs}>{payload}</command>"))
    res = await iq.send(timeout=10)
    return res.xml.find(f"{{{CMD}}}command")


def result_fields(cmd):
    return {f.get("var"): f.findtext(f"{{{XDATA}}}value") for f in cmd.iter(f"{{{XDATA}}}field")}


async def test_adhoc_create_account_by_an_admin(env):
    admin, pw = env.user("admin")  # admins = ["admin@localhost"] (below)
    a = await env.connect(admin, pw)
    await a.get_roster()
    first = await command(a, "urn:xmpp:invite#create-account", env.host)
    check(first.get("status") == "executing" and first.find(f".//{{{XDATA}}}field[@var='username']") is not None,
          "XEP-0401 §4.4 form")
    done = await command(a, "urn:xmpp:invite#create-account", env.host,
                         {"username": "nurse", "roster-subscription": "1"}, first.get("sessionid"))
    check(done.get("status") == "completed", f"completed: {ET.tostring(done)}")
    fields = result_fields(done)
    check(fields.get("FORM_TYPE") == "urn:xmpp:invite#invitation", fields)
    m = re.fullmatch(rf"xmpp:nurse@{env.host}\?register;preauth=([a-z2-7]{{26}})", fields.get("uri", ""))
    check(m, f"register URI with the name: {fields}")
    check(fields.get("landing-url", "").endswith("/invite/" + m.group(1)) and fields.get("expire"), fields)
    # The name is reserved for the invitee, who registers with the token and gets the admin as contact.
    _, other = create_invite(env)
    raw, _ = raw_stream(env)
    check("type='result'" in raw_iq(raw, preauth(other), "pa"), "another invitation's token")
    check("conflict" in raw_iq(raw, register("nurse"), "r"), "XEP-0445 §5: the reserved name is not for others")
    n = await env.connect(f"nurse@{env.host}", PASSWORD, register=True, preauth=m.group(1))
    items = (await n.get_roster())["roster"]["items"]
    check(admin in items and items[admin]["subscription"] == "both", f"roster-subscription: {items}")


async def test_adhoc_user_invitation(env):
    friar, pw = env.user("friar")  # allow_user_invites = true on localhost
    f = await env.connect(friar, pw)
    done = await command(f, "urn:xmpp:invite#invite", env.host)
    check(done.get("status") == "completed", "XEP-0401 §4.1: completed at once")
    uri = result_fields(done).get("uri", "")
    m = re.fullmatch(rf"xmpp:{friar}\?roster;preauth=([a-z2-7]{{26}});ibr=y", uri)
    check(m, f"roster URI with ibr=y: {uri}")
    p = await env.connect(f"pilgrim@{env.host}", PASSWORD, register=True, preauth=m.group(1))
    items = (await p.get_roster())["roster"]["items"]
    check(friar in items and items[friar]["subscription"] == "both", f"contacts: {items}")


async def test_existing_account_becomes_a_contact_with_the_token(env):
    """XEP-0379 for someone who has an account already: the inviter's `xmpp:inviter?roster;preauth=T` link,
    opened by an existing user, sends a subscription request with the token; the server approves it for the
    inviter and asks back, so the two are contacts both ways without the inviter's client doing anything.
    A second use of a one-use token, and an unknown token, leave the request to the inviter."""
    romeo, rpw = env.user("romeo")  # allow_user_invites = true on localhost
    juliet, jpw = env.user("juliet2")
    nurse, npw = env.user("nurse2")
    r = await env.connect(romeo, rpw)
    r.roster.auto_authorize = False  # only the server may approve here
    r.roster.auto_subscribe = False
    await r.get_roster()
    done = await command(r, "urn:xmpp:invite#invite", env.host)
    m = re.fullmatch(rf"xmpp:{romeo}\?roster;preauth=([a-z2-7]{{26}});ibr=y", result_fields(done).get("uri", ""))
    check(m, f"roster URI: {result_fields(done)}")

    def ask(client, token):
        # XEP-0379 §3.4: pre-approve the inviter (RFC 6121 §3.4), then ask with the token.
        client.send_presence(pto=romeo, ptype="subscribed")
        p = client.Presence(sto=romeo, stype="subscribe")
        p.append(ET.fromstring(f"<preauth xmlns='urn:xmpp:pars:0' token='{token}'/>"))
        p.send()

    j = await env.connect(juliet, jpw)
    j.roster.auto_authorize = False
    await j.get_roster()
    ask(j, m.group(1))
    await j.next_presence(lambda p: p["from"].bare == romeo and p["type"] == "subscribed")
    await r.next_presence(lambda p: p["from"].bare == juliet and p["type"] == "subscribed")
    # The roster pushes came before those presences (slixmpp's roster follows them).
    check(r.client_roster[juliet]["subscription"] == "both", f"romeo's roster: {r.client_roster[juliet]['subscription']}")
    check(j.client_roster[romeo]["subscription"] == "both", f"juliet's roster: {j.client_roster[romeo]['subscription']}")

    # The token is used up (one use): the nurse's request waits for romeo like any other; so does a
    # request with a token the server never made (it may be one romeo's client made).
    n = await env.connect(nurse, npw)
    n.roster.auto_authorize = False
    await n.get_roster()
    for token in (m.group(1), "a" * 26):
        ask(n, token)
        req = await r.next_presence(lambda p: p["from"].bare == nurse and p["type"] == "subscribe")
        check(req.xml.find("{urn:xmpp:pars:0}preauth") is not None, "the request reaches romeo with its token")
    await harness.storage_barrier(r)
    check(r.client_roster[nurse]["subscription"] == "none", f"nobody approved the nurse: {r.client_roster[nurse]}")
    check(n.client_roster[romeo]["subscription"] == "none", f"the nurse has no approval: {n.client_roster[romeo]}")


async def test_adhoc_refused_where_users_may_not_invite(env):
    env.server.cli("user", "add", f"walker@{OPEN}", "--password", PASSWORD)
    w = await env.connect(f"walker@{OPEN}", PASSWORD)
    try:
        await command(w, "urn:xmpp:invite#invite", OPEN)
        raise AssertionError("a user of a host without allow_user_invites made an invitation")
    except IqError as e:
        check(e.condition == "forbidden", f"forbidden: {e.condition}")
    iq = w.Iq(stype="get", sto=OPEN)
    iq.append(ET.fromstring(f"<query xmlns='http://jabber.org/protocol/disco#items' node='{CMD}'/>"))
    listed = ET.tostring((await iq.send(timeout=10)).xml).decode()
    check("urn:xmpp:invite" not in listed, f"not listed: {listed}")


async def test_open_host_takes_registrations_without_a_token(env):
    raw, _ = raw_stream(env, OPEN)
    check("type='result'" in raw_iq(raw, register("walkin"), "r1", to=OPEN), "open registration")


harness.main(globals(), hosts=(INVITE_HOST, CLOSED, OPEN),
             registration={INVITE_HOST: "invite", CLOSED: "closed", OPEN: "open"},
             host_toml={INVITE_HOST: 'admins = ["admin@localhost"]\nallow_user_invites = true'},
             require_encryption=False, extra_toml="[testing]\nmanual_clock = true",
             listeners=[("http", "http", "none")])
