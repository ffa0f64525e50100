"""Issue 11: Debian's Prosody 0.12 as a federation peer of Causerie (a.test), on p.test with its MUC service
conference.p.test: once with certificates only (SASL EXTERNAL both ways, Prosody without dialback and with
s2s_secure_auth), once with dialback only (neither side can verify the other's certificate). The tests and
the bed are in peers.py; clients on both servers are python3-slixmpp."""
import peers

if __name__ == "__main__":
    peers.main(globals(), peers.Prosody, "127.0.0.5")
