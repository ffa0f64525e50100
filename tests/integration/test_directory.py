"""Issue 14, item 4: the search service search.localhost. XEP-0055 user directory, opt-in: alice registers
with the service (XEP-0077) to be listed, bob never does; carol's searches (the legacy fields and the data
form) find alice by nickname, name or address fragment, never bob, and no longer alice once she cancels.
XEP-0433 channel search over the public rooms (MUC) and open communities (pubsub nodes) of the server:
the form, keyword search, service types, sort keys, RSM pages and the §4.2.2 errors. All with slixmpp."""
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

import harness
import muc_util
import pubsub_util
from harness import check
from pubsub_util import form, get, send

SEARCH = "jabber:iq:search"
REGISTER = "jabber:iq:register"
DATA = "jabber:x:data"
CS = "urn:xmpp:channel-search:0:search"
PARAMS = "urn:xmpp:channel-search:0:search-params"
CS_ERRORS = "urn:xmpp:channel-search:0:error"
BY_ADDRESS = "{urn:xmpp:channel-search:0:order}address"
PUBSUB_TYPE = "{urn:causerie:channel-search}pubsub"
RSM = "http://jabber.org/protocol/rsm"
PLUGINS = ["xep_0030", "xep_0004", "xep_0054", "xep_0045", "xep_0060"]


def service(env):
    return f"search.{env.host}"


async def user(env, name, fn=None):
    jid, pw = env.user(name)
    c = await env.connect(jid + "/r", pw, PLUGINS)
    if fn:
        v = c["xep_0054"].make_vcard()
        v["FN"] = fn
        await c["xep_0054"].publish_vcard(v)
    return c


async def error_of(coro):
    try:
        await coro
    except IqError as e:
        err = e.iq.xml.find("{jabber:client}error")
        cond = [c.tag.split("}")[1] for c in err if c.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}")
                and not c.tag.endswith("}text")]
        apps = [c.tag.split("}")[1] for c in err if c.tag.startswith("{" + CS_ERRORS)]
        return (cond[0] if cond else None), (apps[0] if apps else None)
    raise AssertionError("the request succeeded but should have failed")


def legacy_jids(query):
    return sorted(i.get("jid") for i in query.findall(f"{{{SEARCH}}}item"))


def form_jids(query):
    x = query.find(f"{{{DATA}}}x")
    check(x is not None and x.get("type") == "result", "a result form")
    out = []
    for item in x.findall(f"{{{DATA}}}item"):
        for f in item.findall(f"{{{DATA}}}field"):
            if f.get("var") == "jid":
                out.append(f.find(f"{{{DATA}}}value").text)
    return sorted(out)


async def test_service_is_discoverable(env):
    c = await user(env, "carol")
    items = await c["xep_0030"].get_items(jid=env.host)
    check(service(env) in [i[0] for i in items["disco_items"]["items"]], "search.<host> in the host's items")
    info = await c["xep_0030"].get_info(jid=service(env))
    features = info["disco_info"]["features"]
    for f in (SEARCH, REGISTER, CS):
        check(f in features, f"{f} advertised: {features}")


async def test_only_opted_in_users_are_found(env):
    alice = await user(env, "alice", fn="Alice Liddell")
    await user(env, "bob", fn="Alice Bobson")  # a namesake who never asked to be listed
    carol = await user(env, "carol")
    svc = service(env)
    # The registration form, then alice's registration: she is listed as "wonderland".
    q = await get(alice, svc, f"<query xmlns='{REGISTER}'/>")
    check(q.find(f"{{{REGISTER}}}nick") is not None and q.find(f"{{{REGISTER}}}registered") is None,
          "a nick field, not registered yet")
    await send(alice, svc, f"<query xmlns='{REGISTER}'><nick>wonderland</nick></query>")
    q = await get(alice, svc, f"<query xmlns='{REGISTER}'/>")
    check(q.find(f"{{{REGISTER}}}registered") is not None, "alice is registered")

    fields = await get(carol, svc, f"<query xmlns='{SEARCH}'/>")
    check(fields.find(f"{{{SEARCH}}}nick") is not None and fields.find(f"{{{DATA}}}x") is not None,
          "legacy fields and a data form")
    alice_jid = f"alice@{env.host}"
    r = await send(carol, svc, f"<query xmlns='{SEARCH}'><nick>wonder</nick></query>")
    check(legacy_jids(r) == [alice_jid], f"found by nickname: {legacy_jids(r)}")
    item = r.find(f"{{{SEARCH}}}item")
    check(item.find(f"{{{SEARCH}}}nick").text == "wonderland", "her listed nickname")
    r = await send(carol, svc, f"<query xmlns='{SEARCH}'>" + form(SEARCH, {"name": "alice"}) + "</query>")
    check(form_jids(r) == [alice_jid], f"by name, bob (unlisted) not found: {form_jids(r)}")
    r = await send(carol, svc, f"<query xmlns='{SEARCH}'>" + form(SEARCH, {"jid": "bob@"}) + "</query>")
    check(form_jids(r) == [], f"bob is not listed: {form_jids(r)}")
    r = await send(carol, svc, f"<query xmlns='{SEARCH}'>" + form(SEARCH, {"jid": "ice@loc"}) + "</query>")
    check(form_jids(r) == [alice_jid], f"by a fragment of the address: {form_jids(r)}")
    # A search must name something.
    cond, _ = await error_of(send(carol, svc, f"<query xmlns='{SEARCH}'/>"))
    check(cond == "bad-request", f"an empty search is refused: {cond}")
    # Unlisted again.
    await send(alice, svc, f"<query xmlns='{REGISTER}'><remove/></query>")
    r = await send(carol, svc, f"<query xmlns='{SEARCH}'><nick>wonder</nick></query>")
    check(legacy_jids(r) == [], f"alice unlisted: {legacy_jids(r)}")


def cs_form(fields):
    return f"<search xmlns='{CS}'>" + form(PARAMS, fields) + "</search>"


def cs_addresses(result):
    return [i.get("address") for i in result.findall(f"{{{CS}}}item")]


async def test_channel_search(env):
    alice = await user(env, "alice")
    bob = await user(env, "bob")
    svc = service(env)
    conf = muc_util.service(env)
    await muc_util.create(alice, f"coffee@{conf}", "alice", {"muc#roomconfig_roomname": "Coffee lovers",
                                                              "muc#roomconfig_roomdesc": "beans and brewing",
                                                              "muc#roomconfig_persistentroom": "1"})
    await muc_util.join(bob, f"coffee@{conf}", "bob")
    await muc_util.create(alice, f"tea@{conf}", "alice", {"muc#roomconfig_roomname": "Tea",
                                                           "muc#roomconfig_roomdesc": "no coffee here"})
    await muc_util.create(alice, f"hidden@{conf}", "alice", {"muc#roomconfig_roomname": "Coffee conspiracy",
                                                              "muc#roomconfig_publicroom": "0"})
    spaces = f"spaces.{env.host}"
    await send(alice, spaces, pubsub_util.ps("<create node='roasters'/><configure>" +
                                             pubsub_util.node_config(access_model="open", title="Roasters",
                                                                     description="a coffee community") +
                                             "</configure>"))
    await send(alice, spaces, pubsub_util.ps("<create node='insiders'/><configure>" +
                                             pubsub_util.node_config(access_model="whitelist", title="Coffee insiders") +
                                             "</configure>"))

    f = await get(bob, svc, f"<search xmlns='{CS}'/>")
    fields = [fl.get("var") for fl in f.findall(f"{{{DATA}}}x/{{{DATA}}}field")]
    for var in ("FORM_TYPE", "q", "all", "sinname", "sindescription", "types", "key"):
        check(var in fields, f"{var} in the form: {fields}")

    # Keywords, rooms only by default, most users first.
    r = await get(bob, svc, cs_form({"q": "coffee"}))
    check(cs_addresses(r) == [f"coffee@{conf}", f"tea@{conf}"], f"public rooms that speak of coffee: {cs_addresses(r)}")
    coffee = r.find(f"{{{CS}}}item")
    check(coffee.find(f"{{{CS}}}name").text == "Coffee lovers" and coffee.find(f"{{{CS}}}nusers").text == "2"
          and coffee.find(f"{{{CS}}}is-open") is not None, "name, occupants, open")
    r = await get(bob, svc, cs_form({"q": "coffee", "sindescription": "false"}))
    check(cs_addresses(r) == [f"coffee@{conf}"], f"names and addresses only: {cs_addresses(r)}")
    # Communities when asked for, by address, in pages of two.
    both = {"all": "true", "types": ["xep-0045", PUBSUB_TYPE], "key": BY_ADDRESS}
    r = await get(bob, svc, f"<search xmlns='{CS}'><set xmlns='{RSM}'><max>2</max></set>" + form(PARAMS, both) + "</search>")
    page1 = cs_addresses(r)
    check(page1 == [f"coffee@{conf}", f"roasters@{spaces}"], f"first page: {page1}")
    check(r.find(f"{{{RSM}}}set/{{{RSM}}}count").text == "3", "three channels in all")
    last = r.find(f"{{{RSM}}}set/{{{RSM}}}last").text
    r = await get(bob, svc, f"<search xmlns='{CS}'><set xmlns='{RSM}'><max>2</max><after>{last}</after></set>" +
                  form(PARAMS, both) + "</search>")
    check(cs_addresses(r) == [f"tea@{conf}"], f"second page: {cs_addresses(r)}")

    # §4.2.2 errors.
    check(await error_of(get(bob, svc, cs_form({"q": "coffee", "all": "true"}))) == ("bad-request", "conflicting-fields"),
          "q with all")
    check(await error_of(get(bob, svc, cs_form({}))) == ("bad-request", "no-search-conditions"), "nothing asked")
    check(await error_of(get(bob, svc, cs_form({"all": "true", "key": "{urn:x}stars"}))) ==
          ("feature-not-implemented", "invalid-sort-key"), "an unknown sort key")


if __name__ == "__main__":
    harness.main(globals())
