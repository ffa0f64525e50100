"""Issue 11: `make bench`'s federation scenarios keep working (never a benchmark: timings are not checked).
bench/s2s.py runs tiny against two Causerie servers (a.bench and b.bench, SASL EXTERNAL both ways, names through
dnsmasq): s2s-msg must be a valid run (every message across the servers arrived, in order per sender) with
both servers' CPU counted, and s2s-links must link every remote domain (each ping answered by its own
domain of the second server), every link authenticated by SASL EXTERNAL, as bench/README.md says."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "causerie"))
    ap.add_argument("--output", default=os.path.join(tempfile.gettempdir(), "causerie-test-output", "test_bench_s2s"))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    generator = os.path.join(os.path.dirname(binary), "causerie-bench")
    check(os.access(generator, os.X_OK), f"{generator} is not built")
    os.makedirs(args.output, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="causerie-bench-s2s-test-") as work:
        results = os.path.join(work, "results.jsonl")
        commands = os.path.join(work, "commands.txt")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "s2s.py"), "--binary", binary,
                            "--generator", generator, "--servers", "causerie", "--results", results,
                            "--commands", commands, "--workdir", work, "--output", args.output,
                            "--pairs", "4", "--window", "3", "--warmup", "0.2", "--duration", "1", "--links", "6",
                            "--links-window", "3", "--threads", "1", "--timeout", "30",
                            "--causerie-log-level", "info"],
                           capture_output=True, text=True, timeout=300)
        lines = [json.loads(l) for l in open(results) if l.strip()] if os.path.exists(results) else []
        by_label = {l.get("label"): l for l in lines}
        failures = []

        def test(name, fn):
            try:
                fn()
                print(f"PASS {name}", flush=True)
            except AssertionError as e:
                failures.append(name)
                print(f"FAIL {name}: {e}\n{r.stderr[-2000:]}", flush=True)

        def msg():
            m = by_label.get("s2s-msg")
            check(m is not None, f"no s2s-msg line in {lines}")
            check(m["ok"], f"s2s-msg not valid: {m}")
            p, f = m["params"], m["figures"]
            check(p["domain"] == "a.bench" and p["peer_domain"] == "b.bench" and p["pairs"] == 4, f"params {p}")
            check(f["delivered"] > 0 and f["lost"] == 0 and f["reordered"] == 0 and
                  f["sent_total"] == f["received_total"], f"loss or order {f}")
            check(f["server_a_cores"] > 0 and f["server_b_cores"] > 0 and
                  abs(f["server_cores"] - f["server_a_cores"] - f["server_b_cores"]) < 1e-3, f"both servers' CPU {f}")
            check(f["msgs_per_core_second"] > 0, f"efficiency {f}")

        def links():
            m = by_label.get("s2s-links")
            check(m is not None, f"no s2s-links line in {lines}")
            check(m["ok"], f"s2s-links not valid: {m}")
            f = m["figures"]
            check(f["links"] == 6 and f["errors"] == 0 and f["answered"] == 6, f"every domain linked {f}")
            check(f["links_per_s"] > 0 and 0 < f["setup_ms_p50"] <= f["setup_ms_max"], f"figures {f}")

        def recorded():
            text = open(commands).read()
            check("s2s-msg (causerie, two servers):" in text and "s2s-links (causerie, two servers):" in text and
                  "--peer-pid PID" in text, f"command lines {text}")
            check(r.returncode == 0, f"s2s.py exit {r.returncode}")

        def authentication():
            # Each server logs every s2s stream once, with how it authenticated (both runs, both servers).
            methods = []
            for path in glob.glob(os.path.join(args.output, "causerie-*", "causerie.log")):
                methods += re.findall(r"s2s (?:incoming|outgoing) \S+ -> \S+ \([^)]*\): authenticated by ([^,]+)",
                                      open(path, errors="replace").read())
            check(len(methods) >= 2 and set(methods) == {"SASL EXTERNAL"}, f"authentications: {methods}")

        test("test_s2s_msg_no_loss_in_order", msg)
        test("test_s2s_links_every_domain", links)
        test("test_commands_recorded", recorded)
        test("test_every_link_used_sasl_external", authentication)
    print(f"{4 - len(failures)} passed, {len(failures)} failed; logs in {args.output}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
