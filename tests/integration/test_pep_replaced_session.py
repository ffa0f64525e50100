"""A web session replaced by a new one with the same full JID (RFC 6120 §7.7.2.2, policy "override"; the
web app gets its resource back through XEP-0386 Bind 2), whose WebSocket closing handshake (RFC 6455
§7.1.2) ends only after the new session sent its XEP-0115 caps presence. The old session's end must not
take the new session's "+notify" interests (XEP-0163 §4.3) with it, nor show contacts that live resource
going offline (RFC 6121 §4.5.2 is for the old session only). Found while chasing a report from the web
app's browser test (a contact that stopped getting vCard4 notifications); driven by python3-slixmpp for
the other accounts and web_client.py's WebSocket client for the replaced and replacing sessions."""
import harness
from harness import check
from pubsub_util import PEP_PLUGINS, watch, caps_known, make_contacts, send, ps
from web_client import ws_login, CLIENT

VCARD4 = "urn:xmpp:vcard4"
VCARD = "urn:ietf:params:xml:ns:vcard-4.0"


async def ws_next(ws, pred):
    while True:
        el = await ws.recv_xml()
        check(el is not None, "the WebSocket stays open")
        if pred(el):
            return el


async def test_late_end_of_replaced_session_keeps_new_sessions_interests(env):
    (ajid, apw), (bjid, bpw), (cjid, cpw) = env.user("rs_alice"), env.user("rs_bob"), env.user("rs_carol")
    alice = await env.connect(ajid + "/a", apw, PEP_PLUGINS, setup=watch)

    def interested(c):
        watch(c)
        c["xep_0163"].add_interest(VCARD4)
    # Carol's caps (verified, so cached by the server) are the ones the WebSocket sessions announce.
    carol = await env.connect(cjid + "/c", cpw, PEP_PLUGINS, setup=interested)
    await carol["xep_0115"].update_caps(broadcast=False)
    carol.send_presence()
    await caps_known(carol)
    ver = await carol["xep_0115"].get_verstring(carol.boundjid.full)
    caps = (f"<presence xmlns='{CLIENT}'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
            f"node='{carol['xep_0115'].caps_node}' ver='{ver}'/></presence>")
    bob = await env.connect(bjid + "/sx", bpw, PEP_PLUGINS, setup=watch)
    await make_contacts(alice, bob)

    port = env.server.extra_ports["web"]
    old, full = await ws_login(port, bjid, bpw, "web")
    await old.send(caps)
    await ws_next(old, lambda el: el.tag == f"{{{CLIENT}}}presence" and el.get("from") == full)
    mark = env.server.log_mark()
    new, full2 = await ws_login(port, bjid, bpw, "web")
    check(full2 == full, f"the same resource: {full2}")
    await new.send(caps)
    await ws_next(new, lambda el: el.tag == f"{{{CLIENT}}}presence" and el.get("from") == full)  # available
    alice.drain()
    # Only now does the old stream answer the server's close (conflict), and so end.
    _, code = await old.recv_until_closed()
    check(code == 1000, f"the old WebSocket closed normally: {code}")
    await env.server.wait_log(f"{full} disconnected", since=mark)
    await send(alice, None, ps(f"<publish node='{VCARD4}'><item id='current'><vcard xmlns='{VCARD}'>"
                               f"<fn><text>Alice</text></fn></vcard></item></publish>"))
    el = await ws_next(new, lambda el: el.tag == f"{{{CLIENT}}}message" or
                       (el.tag == f"{{{CLIENT}}}presence" and el.get("from") == full))
    check(el.tag == f"{{{CLIENT}}}message" and el.find(".//{%s}vcard" % VCARD) is not None,
          f"the new session gets the vCard4 notification (and no unavailable of its own): {el.tag} {el.attrib}")
    # Nor did Alice see bob/web go offline (the old session's end was before the publish she made).
    gone = [p for p in harness.queued(alice.presences) if str(p["from"]) == full and p["type"] == "unavailable"]
    check(not gone, f"no unavailable from the live resource reached the contact: {gone}")
    new.close()
    old.close()


harness.main(globals(), listeners=[("web", "http", "none")])
