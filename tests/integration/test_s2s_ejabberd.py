"""Issue 11: Debian's ejabberd 23.01 as a federation peer of Causerie (a.test), on e.test with its MUC service
conference.e.test: once with certificates only (SASL EXTERNAL both ways, ejabberd without mod_s2s_dialback and
with s2s_cafile), once with dialback only (neither side can verify the other's certificate). The tests and the
bed are in peers.py; clients on both servers are python3-slixmpp."""
import peers

if __name__ == "__main__":
    peers.main(globals(), peers.Ejabberd, "127.0.0.6")
