#!/usr/bin/python3
"""A third-party client for the browser tests: python3-slixmpp publishes one XEP-0277 entry (an Atom
<entry/> given as XML) on an account's microblog node, then leaves. Exit status 0 once the server has
answered the publish.

Usage: publish_entry.py JID PASSWORD C2S_PORT ENTRY_XML
"""
import ssl
import sys

import slixmpp
from slixmpp.xmlstream import ET

MICROBLOG = "urn:xmpp:microblog:0"


class Publisher(slixmpp.ClientXMPP):
    def __init__(self, jid, password, entry):
        super().__init__(jid, password)
        self.entry = entry
        self.ok = False
        self.register_plugin("xep_0060")
        # The test server's certificate is its embedded self-signed one.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.start)

    async def start(self, _):
        try:
            await self["xep_0060"].publish(self.boundjid.bare, MICROBLOG, payload=ET.fromstring(self.entry), timeout=20)
            self.ok = True
        finally:
            self.disconnect()


def main():
    jid, password, port, entry = sys.argv[1:5]
    client = Publisher(jid, password, entry)
    client.connect(("127.0.0.1", int(port)))
    client.loop.run_until_complete(client.disconnected)
    sys.exit(0 if client.ok else 1)


if __name__ == "__main__":
    main()
