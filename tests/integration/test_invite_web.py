"""Issue 14 item 1, a newcomer's path in Chromium: an admin makes an invitation for Romeo's contact with the
command line, the invitee opens the link in headless Chromium without JavaScript and signs up through the
page's form (tests/web/invite_signup.mjs); then Romeo, online all along, has the invitee in his roster
(pushed, subscription both), and the two chat with slixmpp.
"""
import asyncio
import os
import shutil

import harness
from harness import check

HERE = os.path.dirname(os.path.abspath(__file__))
SIGNUP = os.path.join(HERE, "..", "web", "invite_signup.mjs")
PASSWORD = "newcomer-s3cret"


async def test_newcomer_signs_up_in_chromium_and_chats(env):
    node = shutil.which("node")
    check(node and os.path.isdir(os.path.join(HERE, "..", "web", "node_modules", "playwright-core")),
          "node and tests/web/node_modules (scripts/deps.sh runs npm ci) are needed")
    romeo, pw = env.user("romeo")
    r = await env.connect(romeo, pw)
    await r.get_roster()
    pushes = []
    r.add_event_handler("roster_update", lambda iq: pushes.append(str(iq)))
    url = env.server.cli("invite", "create", "--inviter", romeo).stdout.strip()
    token = url.rsplit("/", 1)[1]
    proc = await asyncio.create_subprocess_exec(
        node, SIGNUP, "--url", url, "--username", "Juliet", "--password", PASSWORD,
        "--expect-uri", f"xmpp:{romeo}?roster;preauth={token};ibr=y", "--output", env.output,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode(errors="replace")
    with open(os.path.join(env.output, "invite_signup.log"), "w") as f:
        f.write(text)
    check(proc.returncode == 0, f"the browser sign-up failed:\n{text}")
    juliet = f"juliet@{env.host}"
    check(f"created {juliet}" in text, text)
    await harness.wait_until(lambda: any(juliet in p and "both" in p for p in pushes),
                             "Romeo's roster push of the invitee")
    j = await env.connect(juliet, PASSWORD)
    items = (await j.get_roster())["roster"]["items"]
    check(romeo in items and items[romeo]["subscription"] == "both", f"Juliet's roster: {items}")
    await r.next_presence(lambda p: p["from"].bare == juliet and p["type"] != "unavailable")
    j.send_message(mto=romeo, mbody="I signed up from your link")
    await r.next_message(lambda m: m["body"] == "I signed up from your link" and m["from"].bare == juliet)
    r.send_message(mto=juliet, mbody="Welcome!")
    await j.next_message(lambda m: m["body"] == "Welcome!")


harness.main(globals(), registration={"localhost": "invite"}, listeners=[("http", "http", "none")])
