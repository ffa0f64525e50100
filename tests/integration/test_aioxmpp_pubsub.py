"""Issue 10, item 3: a node's configuration read and changed by aioxmpp (python3-aioxmpp, Debian), whose
typed NodeConfigForm refuses a form that does not follow XEP-0060's registered field types (§16.4.4:
pubsub#language is list-single)."""
import aioxmpp
import aioxmpp.pubsub.xso as pubsub_xso
import aioxmpp.forms

import harness
from harness import check


async def aioxmpp_client(env, jid, password):
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr(jid),
        aioxmpp.make_security_layer(password, no_verify=True),
        override_peer=[("127.0.0.1", env.server.c2s_port, aioxmpp.connector.STARTTLSConnector())])
    stack = client.connected()
    await stack.__aenter__()
    return client, stack


async def test_aioxmpp_reads_and_changes_node_configuration(env):
    jid, pw = env.user("typed")
    client, stack = await aioxmpp_client(env, jid, pw)
    try:
        pubsub = client.summon(aioxmpp.PubSubClient)
        service = aioxmpp.JID.fromstr(f"pubsub.{env.host}")
        await pubsub.create(service, "typed-node")

        data = await pubsub.get_node_config(service, "typed-node")
        form = pubsub_xso.NodeConfigForm.from_xso(data)  # raises on a field of the wrong type
        language = [f for f in data.fields if f.var == "pubsub#language"][0]
        check(language.type_ == aioxmpp.forms.xso.FieldType.LIST_SINGLE, f"pubsub#language is {language.type_}")

        form.title.value = "Typed node"
        form.language.value = "fr"
        await pubsub.set_node_config(service, form.render_reply(), "typed-node")

        again = pubsub_xso.NodeConfigForm.from_xso(await pubsub.get_node_config(service, "typed-node"))
        check(again.title.value == "Typed node", f"title changed: {again.title.value}")
        check(again.language.value == "fr", f"language changed: {again.language.value}")
        # Any language tag is accepted on submit (the field is open, XEP-0122), not only the options, and
        # then offered as an option so that typed forms still accept the node's configuration.
        submit = aioxmpp.forms.Data(aioxmpp.forms.DataType.SUBMIT)
        for var, value in (("FORM_TYPE", "http://jabber.org/protocol/pubsub#node_config"),
                           ("pubsub#language", "oc-aranes")):
            submit.fields.append(aioxmpp.forms.Field(var=var, values=[value]))
        await pubsub.set_node_config(service, submit, "typed-node")
        last = pubsub_xso.NodeConfigForm.from_xso(await pubsub.get_node_config(service, "typed-node"))
        check(last.language.value == "oc-aranes", f"language changed again: {last.language.value}")
    finally:
        await stack.__aexit__(None, None, None)


if __name__ == "__main__":
    harness.main(globals())
