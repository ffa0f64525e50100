"""Issue 11, item 6: `causerie check` reports, for each host, its certificate (names covered, chain, dates)
and the DNS records it needs and where they lead, as `prosodyctl check dns` and `check certs` do.

The records come from dnsmasq on loopback (federation.Dns, `[dns] servers` pointing at it), the certificates
from a test CA. Three hosts, all served from 127.0.0.2:
- good.test: every record right, a certificate naming the host and its services: every line is OK;
- broken.monserveur.fr (a public-looking name, so its problems are errors; dnsmasq answers for it and
  nothing leaves loopback): a client record on the wrong port and another machine's address, no server
  record and no address for the fallback, "." for its MUC domain, a target without address for its pubsub
  domain, and a certificate that does not name its MUC domain;
- expired.test: right records, an expired certificate.
"""
import os
import subprocess

import federation
from harness import check, free_port

GOOD, BROKEN, EXPIRED = "good.test", "broken.monserveur.fr", "expired.test"
ADDRESS = "127.0.0.2"


def make_bed(bed, binary):
    bed.binary = binary
    bed.ports = {name: free_port() for name in ("c2s", "c2s_direct", "s2s", "s2s_direct")}
    p = bed.ports
    dns = bed.dns
    certs = {
        GOOD: bed.ca.issue(GOOD, days=90),
        BROKEN: bed.ca.issue(BROKEN, names=[BROKEN, f"pubsub.{BROKEN}"], days=90),
        EXPIRED: bed.ca.issue(EXPIRED, days=-1),
    }
    for domain in (GOOD, EXPIRED):
        target = f"xmpp.{domain}"
        dns.host(target, ADDRESS)
        dns.srv("_xmpp-client", domain, target, p["c2s"])
        dns.srv("_xmpps-client", domain, target, p["c2s_direct"])
        for name in (domain, f"conference.{domain}", f"pubsub.{domain}"):
            dns.srv("_xmpp-server", name, target, p["s2s"])
            dns.srv("_xmpps-server", name, target, p["s2s_direct"])
    dns.zone("monserveur.fr")
    dns.host(f"xmpp.{BROKEN}", "192.0.2.7")  # TEST-NET-1: never this machine, never contacted
    dns.srv("_xmpp-client", BROKEN, f"xmpp.{BROKEN}", p["c2s_direct"])
    dns.no_service("_xmpp-server", f"conference.{BROKEN}")
    dns.srv("_xmpp-server", f"pubsub.{BROKEN}", f"nowhere.{BROKEN}", p["s2s"])
    dns.start()

    bed.config = os.path.join(bed.workdir, "check.toml")
    with open(bed.config, "w") as f:
        f.write(f'[server]\ndata_dir = "{bed.workdir}/data"\n'
                f'[dns]\nservers = ["127.0.0.1:{dns.port}"]\ntimeout_ms = 500\n'
                f'[s2s]\nca_file = "{bed.ca.cert}"\n'
                '[modules.pubsub]\nservices = ["pubsub"]\n')
        for domain, (cert, key) in certs.items():
            f.write(f'[[host]]\nname = "{domain}"\ncertificate = "{cert}"\nkey = "{key}"\n')
        for name, kind, tls in (("c2s", "c2s", "starttls"), ("c2s_direct", "c2s", "direct"),
                                ("s2s", "s2s", "starttls"), ("s2s_direct", "s2s", "direct")):
            f.write(f'[[listener]]\ntype = "{kind}"\naddress = "{ADDRESS}"\nport = {p[name]}\ntls = "{tls}"\n')
    bed.certs = certs


def run_check(bed, *args, cwd=None):
    return subprocess.run([bed.binary, "check", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def lines_of(output, host):
    return [line for line in output.splitlines() if line[6:].startswith(host + ": ")]


async def test_each_host_dns_and_certificates(bed):
    r = run_check(bed, "--config", bed.config)
    print(r.stdout)
    check(r.returncode == 1, f"errors make the exit status 1: {r.returncode}\n{r.stderr}")
    p = {k: str(v) for k, v in bed.ports.items()}
    ca = f"the system trust store and s2s.ca_file {bed.ca.cert}"

    def expect(host, expected):
        got = lines_of(r.stdout, host)
        for want, line in zip(expected, got):
            check(line == want, f"{host}:\n  expected {want!r}\n  got      {line!r}")
        check(len(got) == len(expected), f"{host}: {len(expected)} lines expected, got:\n" + "\n".join(got))

    def good_dns(domain):
        t = f"xmpp.{domain}"
        out = [f"OK    {domain}: SRV _xmpp-client._tcp.{domain} -> {t}:{p['c2s']}: {ADDRESS} (this machine)",
               f"OK    {domain}: SRV _xmpps-client._tcp.{domain} -> {t}:{p['c2s_direct']}: {ADDRESS} (this machine)"]
        for name in (domain, f"conference.{domain}", f"pubsub.{domain}"):
            out += [f"OK    {domain}: SRV _xmpp-server._tcp.{name} -> {t}:{p['s2s']}: {ADDRESS} (this machine)",
                    f"OK    {domain}: SRV _xmpps-server._tcp.{name} -> {t}:{p['s2s_direct']}: {ADDRESS} (this machine)"]
        return out

    expect(GOOD, [
        f"OK    {GOOD}: certificate {bed.certs[GOOD][0]} names {GOOD} (DNS-ID {GOOD})",
        f"OK    {GOOD}: certificate names the service domains conference.{GOOD}, pubsub.{GOOD} (DNS-ID *.{GOOD})",
        f"OK    {GOOD}: certificate chain verifies against {ca}",
    ] + validity_line(r.stdout, GOOD) + good_dns(GOOD))

    x = f"xmpp.{BROKEN}"
    expect(BROKEN, [
        f"OK    {BROKEN}: certificate {bed.certs[BROKEN][0]} names {BROKEN} (DNS-ID {BROKEN})",
        f"ERROR {BROKEN}: certificate does not name conference.{BROKEN}: servers federating with these domains "
        f"cannot verify them (add these names, or *.{BROKEN})",
        f"OK    {BROKEN}: certificate chain verifies against {ca}",
    ] + validity_line(r.stdout, BROKEN) + [
        f"ERROR {BROKEN}: SRV _xmpp-client._tcp.{BROKEN} -> {x}:{p['c2s_direct']}: 192.0.2.7 (not this machine); "
        f"no STARTTLS c2s listener uses port {p['c2s_direct']}",
        f"WARN  {BROKEN}: SRV _xmpps-client._tcp.{BROKEN}: no record; clients will not find direct TLS "
        f"(port {p['c2s_direct']})",
        f"ERROR {BROKEN}: SRV _xmpp-server._tcp.{BROKEN}: no record, so servers try {BROKEN}:5269: {BROKEN} has no "
        "A or AAAA record",
        f"WARN  {BROKEN}: SRV _xmpps-server._tcp.{BROKEN}: no record; servers will not find direct TLS "
        f"(port {p['s2s_direct']})",
        f"ERROR {BROKEN}: SRV _xmpp-server._tcp.conference.{BROKEN} -> \".\": says there is no such service, but "
        "this server has a STARTTLS s2s listener",
        f"WARN  {BROKEN}: SRV _xmpps-server._tcp.conference.{BROKEN}: no record; servers will not find direct TLS "
        f"(port {p['s2s_direct']})",
        f"ERROR {BROKEN}: SRV _xmpp-server._tcp.pubsub.{BROKEN} -> nowhere.{BROKEN}:{p['s2s']}: nowhere.{BROKEN} "
        "has no A or AAAA record",
        f"WARN  {BROKEN}: SRV _xmpps-server._tcp.pubsub.{BROKEN}: no record; servers will not find direct TLS "
        f"(port {p['s2s_direct']})",
    ])

    expired = [l for l in lines_of(r.stdout, EXPIRED) if " certificate expired on " in l]
    expect(EXPIRED, [
        f"OK    {EXPIRED}: certificate {bed.certs[EXPIRED][0]} names {EXPIRED} (DNS-ID {EXPIRED})",
        f"OK    {EXPIRED}: certificate names the service domains conference.{EXPIRED}, pubsub.{EXPIRED} "
        f"(DNS-ID *.{EXPIRED})",
        f"OK    {EXPIRED}: certificate chain verifies against {ca}",
    ] + expired + good_dns(EXPIRED))
    check(len(expired) == 1 and expired[0].startswith(f"ERROR {EXPIRED}: certificate expired on "),
          f"the expired certificate is an error: {expired}")
    check(r.stdout.rstrip().endswith("6 errors, 4 warnings"), f"summary: {r.stdout.splitlines()[-1]}")


def validity_line(stdout, host):
    lines = [l for l in lines_of(stdout, host) if " certificate valid until " in l]
    check(len(lines) == 1 and lines[0].startswith("OK "), f"{host}: validity {lines}")
    return lines


async def test_the_embedded_default_has_only_warnings(bed):
    # `make run`'s configuration (localhost, a self-signed certificate made at first start): DNS is not
    # looked up for a special-use name without [dns] servers, and nothing about localhost is an error.
    # Its fixed ports may be held (by `make run`): those lines alone may be errors.
    cwd = os.path.join(bed.workdir, "default")
    os.makedirs(cwd)
    r = run_check(bed, cwd=cwd)
    errors = [l for l in r.stdout.splitlines() if l.startswith("ERROR")]
    check(all(l.startswith("ERROR listener ") for l in errors), f"only busy ports may be errors: {errors}")
    check(r.returncode == (1 if errors else 0), f"exit status {r.returncode} with {errors}")
    check(lines_of(r.stdout, "localhost") == [
        "WARN  localhost: no certificate configured ([tls] or [[host]] certificate and key): a self-signed one is "
        "generated in ./data/certs at first start, which clients and other servers do not trust",
        "WARN  localhost: DNS not checked: localhost is a special-use name that the public DNS does not serve "
        "([dns] servers may point at a private zone)"], r.stdout)


if __name__ == "__main__":
    federation.main(globals(), make_bed)
