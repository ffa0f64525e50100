"""Turns the JSON lines of one `make bench` run into bench/RESULTS.md and bench/results.png (gnuplot).

Not in the measured path: it only formats what causerie-bench printed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess

SERVERS = ["causerie", "prosody", "ejabberd"]
# (label in results.jsonl, figure key, row title, unit, higher is better)
ROWS = [
    ("login-scram-sha1", "logins_per_s", "login SCRAM-SHA-1, plain", "sessions/s", True),
    ("login-scram-sha256", "logins_per_s", "login SCRAM-SHA-256, plain", "sessions/s", True),
    ("login-scram-sha1-tls", "logins_per_s", "login SCRAM-SHA-1, TLS", "sessions/s", True),
    ("login-scram-sha256-tls", "logins_per_s", "login SCRAM-SHA-256, TLS", "sessions/s", True),
    ("idle-plain", "rss_per_session_bytes", "idle session RSS, plain", "KB/session", False),
    ("idle-tls", "rss_per_session_bytes", "idle session RSS, TLS", "KB/session", False),
    ("msg", "msgs_per_s", "1:1 messages", "msgs/s", True),
    ("msg", "latency_ms_p50", "1:1 latency p50 (at max rate)", "ms", False),
    ("msg", "latency_ms_p99", "1:1 latency p99 (at max rate)", "ms", False),
    ("msg-mam", "msgs_per_s", "1:1 messages, archive on (XEP-0313)", "msgs/s", True),
    ("mam-page", "page_ms_p99", "MAM page of 50, p99", "ms", False),
    ("mam-page", "queries_per_s", "MAM pages", "pages/s", True),
    ("feed-page", "page_ms_p99", "news feed page of 20, p99", "ms", False),
    ("feed-page", "queries_per_s", "news feed pages", "pages/s", True),
    ("resume", "resumptions_per_s", "XEP-0198 resumptions", "resumptions/s", True),
    ("presence", "deliveries_per_s", "presence broadcast (100 contacts)", "deliveries/s", True),
    ("muc", "deliveries_per_s", "MUC fan-out", "deliveries/s", True),
    ("ws-login-scram-sha256", "logins_per_s", "WebSocket login SCRAM-SHA-256", "sessions/s", True),
    ("ws-msg", "msgs_per_s", "WebSocket 1:1 messages", "msgs/s", True),
    ("bosh-login-scram-sha256", "logins_per_s", "BOSH login SCRAM-SHA-256", "sessions/s", True),
    ("bosh-msg", "msgs_per_s", "BOSH 1:1 messages", "msgs/s", True),
    ("pubsub", "deliveries_per_s", "PubSub fan-out (pubsub service)", "notifications/s", True),
    ("pep", "deliveries_per_s", "PEP fan-out", "notifications/s", True),
    ("feed-fanout", "deliveries_per_s", "news feed fan-out (offline followers)", "feed entries/s", True),
    ("s2s-msg", "msgs_per_s", "1:1 messages between two servers (s2s)", "msgs/s", True),
    ("s2s-links", "links_per_s", "s2s link set-up (new domain pairs)", "links/s", True),
]
EFFICIENCY = [
    ("login-scram-sha256", "logins", "login SCRAM-SHA-256, plain"),
    ("login-scram-sha256-tls", "logins", "login SCRAM-SHA-256, TLS"),
    ("msg", "msgs", "1:1 messages"),
    ("msg-mam", "msgs", "1:1 messages, archive on"),
    ("mam-page", "queries", "MAM pages"),
    ("feed-page", "queries", "news feed pages"),
    ("resume", "resumptions", "XEP-0198 resumptions"),
    ("presence", "deliveries", "presence broadcast"),
    ("muc", "deliveries", "MUC fan-out"),
    ("ws-login-scram-sha256", "logins", "WebSocket login SCRAM-SHA-256"),
    ("ws-msg", "msgs", "WebSocket 1:1 messages"),
    ("bosh-login-scram-sha256", "logins", "BOSH login SCRAM-SHA-256"),
    ("bosh-msg", "msgs", "BOSH 1:1 messages"),
    ("pubsub", "deliveries", "PubSub fan-out"),
    ("pep", "deliveries", "PEP fan-out"),
    ("feed-fanout", "deliveries", "news feed fan-out (feed entries)"),
    ("s2s-msg", "msgs", "1:1 messages between two servers (both servers' CPU)"),
    ("s2s-links", "links", "s2s link set-up (both servers' CPU)"),
]


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001 - a missing tool only leaves a blank
        return ""


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit == "KB/session":
        return f"{v / 1024:.1f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", default="0")
    ap.add_argument("--causerie", required=True)
    ap.add_argument("--nofile", type=int, default=0)
    ap.add_argument("--idle-cut", default="0")
    ap.add_argument("--load-start", default="")
    ap.add_argument("--previous", default=None, help="BENCH_MERGE: results.jsonl of an earlier run")
    ap.add_argument("--previous-md", default=None, help="BENCH_MERGE: that run's RESULTS.md (date, commands)")
    ap.add_argument("--feed-store", default=None, help="causerie-feed-bench's JSON lines (feed_store.json)")
    a = ap.parse_args()

    runs = {}
    for line in open(a.results):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        runs[(r["server"], r.get("label", r["scenario"]))] = r
    # BENCH_MERGE=1: the labels this run did not measure are carried over from the earlier run, whole (every
    # server's figure of a row comes from one run), each line marked with the date of the run that measured it.
    measured_labels = {label for _, label in runs}
    carried, previous_date, previous_commands = [], "", []
    if a.previous:
        previous_md = open(a.previous_md).read() if a.previous_md and os.path.exists(a.previous_md) else ""
        m = re.search(r"make bench` on \*\*([^*]+)\*\*", previous_md)
        previous_date = m.group(1) if m else "an earlier run"
        m = re.search(r"## Commands\n.*?```\n(.*?)```", previous_md, re.S)
        if m:
            previous_commands = [l for l in m.group(1).splitlines()
                                 if l.strip() and not l.startswith("#") and l.split(" ", 1)[0] not in measured_labels]
        for line in open(a.previous):
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            label = r.get("label", r["scenario"])
            if label in measured_labels:
                continue
            r.setdefault("carried_from", previous_date)
            carried.append(r)
            runs[(r["server"], label)] = r

    def fig(server, label, key):
        r = runs.get((server, label))
        if not r or not r.get("ok") or key not in r.get("figures", {}):
            return None
        return r["figures"][key]

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kb = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    commit = sh("git", "-C", os.path.dirname(os.path.abspath(__file__)), "log", "-1", "--format=%h %s")
    versions = {
        "causerie": sh(a.causerie, "version") + (f" (commit {commit})" if commit else ""),
        "prosody": "Prosody " + sh("dpkg-query", "-W", "-f=${Version}", "prosody") + " (Debian, Lua " +
                   sh("sh", "-c", "lua -v 2>&1 | head -1 | cut -d' ' -f2") + ")",
        "ejabberd": "ejabberd " + sh("dpkg-query", "-W", "-f=${Version}", "ejabberd") + " (Debian, Erlang/OTP " +
                    sh("dpkg-query", "-W", "-f=${Version}", "erlang-base") + ")",
    }
    quick = a.quick == "1"
    out = []
    w = out.append
    w("# Causerie benchmark results\n")
    w(f"Run of `{'BENCH_QUICK=1 ' if quick else ''}make bench` on **{now}**"
      + (" — **quick smoke run: short, small, not for comparison**" if quick else "") + ".\n")
    w("Each server was restarted before each scenario, pinned to core 0 (`taskset -c 0`, one worker thread / "
      "one Erlang scheduler / Prosody's single thread) with the load generator `causerie-bench` pinned to core 1; "
      "same accounts (same salt, 4096 iterations), same ECDSA P-256 certificate, TLS 1.3 full handshakes "
      "(no resumption), loopback TCP. A cell is `—` when the run was invalid (loss, errors) or the server lacks "
      "the feature; see *Problems* below.\n")
    if carried:
        dates = sorted({r["carried_from"] for r in carried})
        w(f"**This run measured only {', '.join(sorted(measured_labels))}** (`BENCH_ONLY`, `BENCH_MERGE=1`); every "
          f"other row is carried over unchanged from the run of {' and '.join(dates)} (the lines of results.jsonl "
          "that carry `carried_from`). Each row's servers were measured in one and the same run, so the ratios "
          "within a row hold; the machine section below describes this run.\n")
    w("## Machine\n")
    w(f"- CPU: {cpu}, {os.cpu_count()} cores; {mem_kb // 1024} MiB RAM")
    w(f"- Kernel: {platform.release()}; load average (1, 5, 15 min) at the start: {a.load_start or '?'}, at the end: "
      f"{' '.join(sh('cat', '/proc/loadavg').split()[:3])}. On this shared machine run it under the team's CPU lock "
      "(`flock /tmp/causerie-cpu.lock make bench`) so that no build or test runs meanwhile.")
    w(f"- OpenSSL: {sh('openssl', 'version')}")
    for s in SERVERS:
        w(f"- {versions[s]}")
    w("")
    w("## Figures (one core for the server)\n")
    w("| figure | unit | Causerie | Prosody | ejabberd | Causerie/Prosody | Causerie/ejabberd |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for label, key, title, unit, higher in ROWS:
        vals = [fig(s, label, key) for s in SERVERS]
        def ratio(c, o):
            if c is None or o is None or c == 0 or o == 0:
                return "—"
            return f"{c / o:.2f}×" if higher else f"{c / o:.2f}× (lower is better)"
        w(f"| {title} | {unit} | " + " | ".join(fmt(v, unit) for v in vals) + f" | {ratio(vals[0], vals[1])} | "
          f"{ratio(vals[0], vals[2])} |")
    w("")
    w("## Server CPU and efficiency\n")
    w("`cores` is the server's CPU time (utime+stime from /proc/PID/stat, all threads) over the measured "
      "interval divided by its length; `per core-second` divides the figure's count by that CPU time. When the "
      "generator saturates first (it shares the machine), the efficiency is the figure to compare.\n")
    w("| figure | Causerie cores | Prosody cores | ejabberd cores | Causerie /core-s | Prosody /core-s | "
      "ejabberd /core-s | C/P | C/E |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, what, title in EFFICIENCY:
        cores = [fig(s, label, "server_cores") for s in SERVERS]
        eff = [fig(s, label, what + "_per_core_second") for s in SERVERS]
        r1 = f"{eff[0] / eff[1]:.2f}×" if eff[0] and eff[1] else "—"
        r2 = f"{eff[0] / eff[2]:.2f}×" if eff[0] and eff[2] else "—"
        w(f"| {title} | " + " | ".join(fmt(c) for c in cores) + " | " + " | ".join(fmt(e) for e in eff) +
          f" | {r1} | {r2} |")
    w("")
    w("## Against the issue's targets\n")
    w("\"Best anchor\" is the better of Prosody and ejabberd on that figure. A target is met only when the "
      "measured figure meets it. Where Causerie's core was not saturated (server cores < 0.9: the generator, on "
      "the other core, ran out first), the ratio of efficiencies (per server core-second) is a projection of what "
      "a saturated core would do: it is shown beside the measured figure, and a target met only by it is not met.\n")
    w("| target | measured | met? |")
    w("|---|---|---|")

    def best(label, key, higher=True):
        vals = [v for v in (fig("prosody", label, key), fig("ejabberd", label, key)) if v]
        if not vals:
            return None
        return max(vals) if higher else min(vals)

    def throughput_target(title, label, key, what, factor):
        c, b = fig("causerie", label, key), best(label, key)
        ce, be = fig("causerie", label, what + "_per_core_second"), best(label, what + "_per_core_second")
        cores = fig("causerie", label, "server_cores") or 0
        if not c or not b:
            w(f"| {title} | — | not measured |")
            return
        raw, eff = c / b, (ce / be if ce and be else 0)
        if raw >= factor:
            verdict = "yes"
        elif eff >= factor:
            verdict = f"no (met only by the per core-second projection, {eff:.1f}×)"
        else:
            verdict = "no"
        w(f"| {title}: ≥ {factor}× best anchor | {raw:.1f}× measured, {eff:.1f}× per core-second "
          f"(Causerie used {cores:.2f} cores) | {verdict} |")

    throughput_target("1:1 messages, one core", "msg", "msgs_per_s", "msgs", 10)
    throughput_target("1:1 messages with the archive on, one core", "msg-mam", "msgs_per_s", "msgs", 10)
    off, on = fig("causerie", "msg", "msgs_per_s"), fig("causerie", "msg-mam", "msgs_per_s")
    if off and on:
        w(f"| 1:1 messages: archive on ≥ 50% of archive off | {fmt(on)} vs {fmt(off)} msgs/s ({on / off:.0%}) | "
          f"{'yes' if on >= off / 2 else 'no'} |")
    else:
        w("| 1:1 messages: archive on ≥ 50% of archive off | — | not measured |")
    page = runs.get(("causerie", "mam-page"))
    if page and page.get("ok"):
        f, pp = page["figures"], page["params"]
        p99 = f.get("page_ms_p99", 0)
        w(f"| MAM page of {pp.get('page_size')} out of {pp.get('archive_size'):,} in one account: p99 ≤ 10 ms | "
          f"{p99:.2f} ms over {f.get('queries', 0):,} pages (newest {fmt(f.get('newest_ms_p99'))}, before-id "
          f"{fmt(f.get('before_ms_p99'))}, after-id {fmt(f.get('after_ms_p99'))}, with {fmt(f.get('with_ms_p99'))} ms) | "
          f"{'yes' if p99 <= 10 else 'no'} |")
    else:
        w("| MAM page of 50 out of 1 000 000 in one account: p99 ≤ 10 ms | — | not measured |")
    throughput_target("login SCRAM-SHA-256, plain", "login-scram-sha256", "logins_per_s", "logins", 5)
    throughput_target("login SCRAM-SHA-256, TLS", "login-scram-sha256-tls", "logins_per_s", "logins", 5)
    throughput_target("MUC fan-out", "muc", "deliveries_per_s", "deliveries", 10)
    for label, title in (("pubsub", "PubSub fan-out"), ("pep", "PEP fan-out")):
        r = runs.get(("causerie", label)) or {}
        subs = r.get("params", {}).get("subscribers")
        throughput_target(f"{title} to {subs:,} subscribers (the issue's anchor: PEP to 1 000 subscribers ~8k/s)"
                          if subs else title, label, "deliveries_per_s", "deliveries", 10)
    # Issue 15: a post's fan-out to followers' feeds against the anchors' plain PEP fan-out (they keep no
    # feed: their figure is the `pep` row's notifications), per server core-second.
    ce, be = fig("causerie", "feed-fanout", "deliveries_per_core_second"), best("pep", "deliveries_per_core_second")
    feed_run = runs.get(("causerie", "feed-fanout")) or {}
    followers = feed_run.get("params", {}).get("subscribers") or 1000
    feed_title = (f"news feed: fan-out of a post to {followers:,} followers' feeds ≥ 10× the best anchor's PEP "
                  "notifications per server core-second")
    if ce and be:
        rate, cores = fig("causerie", "feed-fanout", "deliveries_per_s"), fig("causerie", "feed-fanout", "server_cores")
        w(f"| {feed_title} | {ce / be:.1f}× ({fmt(ce)} feed entries vs {fmt(be)} notifications per core-second; "
          f"{fmt(rate)} entries/s, Causerie used {fmt(cores)} cores) | {'yes' if ce / be >= 10 else 'no'} |")
    else:
        w(f"| {feed_title} | — | not measured |")
    pages = [json.loads(l) for l in open(a.feed_store)] if a.feed_store and os.path.exists(a.feed_store) else []
    if pages:
        p99 = max(max(p["first_page_p99_ms"], p.get("first_page_pending_p99_ms", 0)) for p in pages)
        w(f"| news feed: first page of a reader following {pages[0]['followed']} people among "
          f"{pages[0]['posts']:,} posts, p99 ≤ 20 ms (storage path, causerie-feed-bench) | {p99:.3f} ms | "
          f"{'yes' if p99 <= 20 else 'no'} |")
    else:
        w("| news feed: first page among 1 000 000 posts, p99 ≤ 20 ms | — | not measured |")
    feed_page = runs.get(("causerie", "feed-page"))
    if feed_page and feed_page.get("ok"):
        f, pp = feed_page["figures"], feed_page["params"]
        p99 = f.get("first_ms_p99", 0)
        w(f"| news feed: first page of {pp.get('page_size')} of a reader following {pp.get('feed_follow')} people among "
          f"{pp.get('feed_posts'):,} posts, p99 ≤ 20 ms (over XMPP, `feed-page`) | {p99:.2f} ms (p50 "
          f"{fmt(f.get('first_ms_p50'))} ms; 'people' filter {fmt(f.get('people_ms_p99'))}, next page "
          f"{fmt(f.get('after_ms_p99'))} ms p99) | {'yes' if p99 <= 20 else 'no'} |")
    else:
        w("| news feed: first page among 1 000 000 posts, p99 ≤ 20 ms (over XMPP) | — | not measured |")
    # Issue 11's federation target is itself per server core-second (both servers' CPU): the measured
    # efficiencies are compared directly, and a run with loss or reordering is invalid (no figure).
    ce, be = fig("causerie", "s2s-msg", "msgs_per_core_second"), best("s2s-msg", "msgs_per_core_second")
    if ce and be:
        c, b = fig("causerie", "s2s-msg", "msgs_per_s"), best("s2s-msg", "msgs_per_s")
        w(f"| 1:1 messages between two servers (s2s): ≥ 10× best anchor's msgs/s per server core-second, zero loss, "
          f"order kept per sender | {ce / be:.1f}× per core-second measured ({fmt(ce)} vs {fmt(be)}); "
          f"{c / b:.1f}× in msgs/s | {'yes' if ce / be >= 10 else 'no'} |")
    else:
        w("| 1:1 messages between two servers (s2s): ≥ 10× best anchor's msgs/s per server core-second | — | "
          "not measured |")
    for label, title in (("idle-plain", "plain"), ("idle-tls", "TLS")):
        c, p = fig("causerie", label, "rss_per_session_bytes"), fig("prosody", label, "rss_per_session_bytes")
        if c and p:
            w(f"| idle session RSS, {title}: ≤ ⅛ of Prosody's | {c / 1024:.1f} KB vs {p / 1024:.1f} KB "
              f"(1/{p / c:.1f}) | {'yes' if c * 8 <= p else 'no'} |")
        else:
            w(f"| idle session RSS, {title}: ≤ ⅛ of Prosody's | — | not measured |")
    half_run = runs.get(("causerie", "msg-half-rate"))
    if half_run and half_run.get("ok"):
        p99 = half_run["figures"].get("latency_ms_p99", 0)
        w(f"| 1:1 p99 latency ≤ 5 ms at half the maximum rate | {p99:.2f} ms | {'yes' if p99 <= 5 else 'no'} |")
    one_r, two_r = fig("causerie", "msg", "msgs_per_s"), fig("causerie", "msg-2core", "msgs_per_s")
    one_e, two_e = fig("causerie", "msg", "msgs_per_core_second"), fig("causerie", "msg-2core", "msgs_per_core_second")
    if one_r and two_r:
        scale = two_e / one_e if one_e and two_e else 0
        measured = two_r / one_r
        verdict = "yes" if measured >= 1.8 else (
            f"no (projection: {2 * scale:.2f}× if the generator left both cores free)" if scale >= 0.9 else "no")
        w(f"| two cores ≥ 1.8× the one-core message rate | {measured:.2f}× measured (the generator shares both "
          f"cores); two workers deliver {scale:.2f}× one worker's msgs per core-second | {verdict} |")
    big_run = runs.get(("causerie", "idle-tls-big"))
    if big_run:
        est = big_run.get("figures", {}).get("established", 0)
        w(f"| 100 000 concurrent TLS sessions | {est:,} held | {'yes' if est >= 100000 else 'no (see below)'} |")
    w("")
    w("## Causerie only\n")
    one = fig("causerie", "msg", "msgs_per_s")
    two = fig("causerie", "msg-2core", "msgs_per_s")
    two_cores = fig("causerie", "msg-2core", "server_cores")
    two_eff = fig("causerie", "msg-2core", "msgs_per_core_second")
    w(f"- 1:1 messages with the server on both cores (generator on both cores too): {fmt(two)} msgs/s "
      f"using {fmt(two_cores)} server cores ({fmt(two_eff)} msgs per core-second); "
      f"{(two / one) if one and two else 0:.2f}× the one-core rate.")
    mam_run = runs.get(("causerie", "msg-mam"))
    if mam_run:
        f = mam_run.get("figures", {})
        rows = f.get("archived_rows")
        counted = f"{rows:,} archive rows written" if isinstance(rows, int) else "archive rows not counted"
        w(f"- 1:1 messages with the archive on: {fmt(f.get('msgs_per_s'))} msgs/s, p99 {fmt(f.get('latency_ms_p99'))} ms; "
          f"{counted} for {f.get('sent_total', 0):,} messages (both parties' rows of every message are checked in "
          f"the database after the run; valid run: {mam_run.get('ok')}). Archive writes hold the senders back when "
          "the write lane is behind, so this is the rate at which everything is archived.")
    half = runs.get(("causerie", "msg-half-rate"))
    if half:
        f = half.get("figures", {})
        w(f"- 1:1 latency at half the one-core maximum rate (paced at {half['params'].get('rate', 0):,.0f} msgs/s, "
          f"achieved {fmt(f.get('msgs_per_s'))}): p50 {fmt(f.get('latency_ms_p50'))} ms, p99 "
          f"{fmt(f.get('latency_ms_p99'))} ms, max {fmt(f.get('latency_ms_max'))} ms; lost {f.get('lost', '?')}, "
          f"reordered {f.get('reordered', '?')} (valid run: {half.get('ok')}).")
    curve = [(d, runs.get(("causerie", f"msg-rate-1-{d}"))) for d in (4, 8, 16)]
    curve = [(d, r) for d, r in curve if r]
    if curve:
        w("- The latency curve below half rate (paced, same pairs and window; p99 target 5 ms):\n")
        w("  | load | paced at msgs/s | achieved | server cores | p50 ms | p99 ms | max ms | valid |")
        w("  |---|---:|---:|---:|---:|---:|---:|---|")
        for d, r in curve:
            f = r.get("figures", {})
            w(f"  | 1/{d} of max | {r['params'].get('rate', 0):,.0f} | {fmt(f.get('msgs_per_s'))} | "
              f"{fmt(f.get('server_cores'))} | {fmt(f.get('latency_ms_p50'))} | {fmt(f.get('latency_ms_p99'))} | "
              f"{fmt(f.get('latency_ms_max'))} | {r.get('ok')} |")
        w("")
    big = runs.get(("causerie", "idle-tls-big"))
    if big:
        f = big.get("figures", {})
        w(f"- {f.get('established', 0):,} concurrent TLS sessions held (asked: {big['params'].get('sessions')}, "
          f"valid run: {big.get('ok')}): {fmt(f.get('rss_per_session_bytes'), 'KB/session')} KB of server RSS "
          f"per session; generator {fmt(f.get('generator_rss_per_session_bytes'), 'KB/session')} KB per session; "
          f"ramp {fmt(f.get('logins_per_s_ramp'))} logins/s.")
        if a.idle_cut == "1":
            w(f"  - The target is 100 000 concurrent TLS sessions. This machine's open-file limit is {a.nofile:,} "
              "per process (hard limit; raising it needs CAP_SYS_RESOURCE, which this environment lacks), so "
              "neither the server nor the generator can hold more than that here: the run used what fits. "
              "Memory is not the limit: the per-session figures above put 100 000 TLS sessions at about "
              f"{(f.get('rss_per_session_bytes') or 0) * 100000 / 2**30:.1f} GiB for the server and "
              f"{(f.get('generator_rss_per_session_bytes') or 0) * 100000 / 2**30:.1f} GiB for the generator.")
    w("")
    fed = [(s, runs.get((s, "s2s-msg")), runs.get((s, "s2s-links"))) for s in SERVERS]
    if any(m or l for _, m, l in fed):
        w("## Federation: two servers of each kind\n")
        w("`bench/s2s.py`: two instances of the same server (a.bench on 127.0.0.31, b.bench on 127.0.0.32), both "
          "pinned to core 0, the generator on core 1; certificates from one test CA, so both directions "
          "authenticate with SASL EXTERNAL (XEP-0178; Prosody and ejabberd without dialback), names through "
          "dnsmasq (SRV and A records). `s2s-msg`: the two users of each pair on different servers, each "
          "direction with its window of messages in flight; zero loss and per-sender order checked. "
          "`s2s-links`: u0@a.bench pings d0…d(N-1).b.bench, N domains of the second server, each needing a new "
          "link for a new domain pair (TCP, TLS, authentication, the answer back). CPU is both servers' "
          "(utime+stime).\n")
        w("| server | s2s msgs/s | server A cores | server B cores | msgs per core-s | p50 ms | p99 ms | links | "
          "links/s | link set-up p50 ms | max ms | links per core-s | valid |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for s, m, l in fed:
            mf, lf = (m or {}).get("figures", {}), (l or {}).get("figures", {})
            w(f"| {s} | {fmt(mf.get('msgs_per_s'))} | {fmt(mf.get('server_a_cores'))} | {fmt(mf.get('server_b_cores'))} | "
              f"{fmt(mf.get('msgs_per_core_second'))} | {fmt(mf.get('latency_ms_p50'))} | {fmt(mf.get('latency_ms_p99'))} | "
              f"{lf.get('links', '—')} | {fmt(lf.get('links_per_s'))} | {fmt(lf.get('setup_ms_p50'))} | "
              f"{fmt(lf.get('setup_ms_max'))} | {fmt(lf.get('links_per_core_second'))} | "
              f"{(m or {}).get('ok', '—')} / {(l or {}).get('ok', '—')} |")
        w("")
    w("## Chart\n")
    w("![three servers side by side](results.png)\n")
    w("[results.png](results.png): left, throughputs on a log scale (higher is better); right, idle session "
      "memory (lower is better).\n")
    problems = [(k, r.get("problems", "")) for k, r in runs.items() if not r.get("ok")]
    w("## Problems\n")
    if problems:
        for (s, label), p in sorted(problems):
            w(f"- {s} / {label}: {p}")
    else:
        w("None: every run was valid (zero loss, no reordering, every session established).")
    w("")
    # The tuning log is kept by hand beside this script; RESULTS.md carries it (issue 3: "record what you
    # changed and what it gained in RESULTS.md"), one heading level down.
    tuning = os.path.join(os.path.dirname(os.path.abspath(__file__)), "TUNING.md")
    if os.path.exists(tuning):
        for line in open(tuning).read().rstrip().splitlines():
            w("#" + line if line.startswith("#") else line)
        w("")
    w("## Commands\n")
    w("Reproduce with `make bench` (full, well under an hour) or `BENCH_QUICK=1 make bench` (a few minutes). "
      "Every scenario line the run executed (PID and ports are per run):\n")
    w("```")
    w(open(a.commands).read().rstrip())
    if previous_commands:
        w("# carried over from earlier runs (see the note at the top):")
        w("\n".join(previous_commands))
    w("```")
    w("")
    w("Raw JSON lines of this run: [results.jsonl](results.jsonl).")
    with open(os.path.join(a.out, "RESULTS.md"), "w") as fh:
        fh.write("\n".join(out) + "\n")
    if a.previous:
        # The merged lines: this run's, then the carried ones.
        with open(os.path.join(a.out, "results.jsonl"), "w") as fh:
            fh.write(open(a.results).read().rstrip("\n") + "\n")
            for r in carried:
                fh.write(json.dumps(r, separators=(",", ":")) + "\n")

    # Chart data: throughputs and memory in two files, a row per figure, a column per server.
    files = {True: os.path.join(a.out, "tput.dat"), False: os.path.join(a.out, "mem.dat")}
    handles = {k: open(v, "w") for k, v in files.items()}
    for label, key, title, unit, higher in ROWS:
        if key.startswith("latency"):
            continue
        vals = [fig(s, label, key) or 0 for s in SERVERS]
        if unit == "KB/session":
            vals = [v / 1024 for v in vals]
        handles[unit != "KB/session"].write('"%s" %s\n' % (title.replace("login ", "login\\n"),
                                                               " ".join(f"{v:.3f}" for v in vals)))
    for h in handles.values():
        h.close()
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.gp")
    subprocess.run(["gnuplot", "-e", f"tput='{files[True]}'; mem='{files[False]}'; "
                    f"outfile='{os.path.join(a.out, 'results.png')}'", gp], check=False)
    for f in files.values():
        os.remove(f)

if __name__ == "__main__":
    main()
