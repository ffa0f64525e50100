#!/usr/bin/env bash
# `make bench`: Causerie, Prosody and ejabberd on loopback, the same scenarios, the same accounts,
# each server restarted before each scenario and pinned to one core (taskset -c 0) with the load
# generator on the other (taskset -c 1); then Causerie once more on both cores for the message figure.
# Writes bench/RESULTS.md and bench/results.png (see bench/README.md). BENCH_QUICK=1: a smoke run of
# a few minutes. BENCH_SERVERS="causerie prosody" limits the servers; BENCH_OUT=dir writes elsewhere;
# BENCH_ONLY="msg bosh-msg pubsub" runs only the scenarios with these labels (the first column of RESULTS.md's
# command list); BENCH_MERGE=1 then carries the other rows over from the results already in BENCH_OUT.
# The federation scenarios (s2s-msg, s2s-links: two servers of each kind) are run by bench/s2s.py.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
GEN=$BUILD/causerie-bench
CAUSERIE=$BUILD/causerie
QUICK=${BENCH_QUICK:-0}
SERVERS=${BENCH_SERVERS:-causerie prosody ejabberd}
ONLY=${BENCH_ONLY:-}
OUT=${BENCH_OUT:-$ROOT/bench}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
GEN_CPU=${BENCH_GEN_CPU:-1}
WORK=$(mktemp -d /tmp/causerie-bench.XXXXXX)
chmod 755 "$WORK"  # ejabberd runs as its own user and reads its files here
RESULTS=$WORK/results.jsonl
COMMANDS=$WORK/commands.txt
: > "$RESULTS"; : > "$COMMANDS"
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$QUICK" = 1 ]; then
  WARM=0.5; DUR=2; IDLE=2000; IDLE_BIG=5000; PAIRS=50; USERS=200; OCC=100; SUBS=100; BOSH_PAIRS=50; TIMEOUT=60
  S2S_PAIRS=20; S2S_LINKS=20; MAM_SIZE=100000; FEED_POSTS=100000
else
  WARM=2; DUR=10; IDLE=10000; IDLE_BIG=100000; PAIRS=500; USERS=1000; OCC=500; SUBS=1000; BOSH_PAIRS=200; TIMEOUT=300
  S2S_PAIRS=200; S2S_LINKS=400; MAM_SIZE=1000000; FEED_POSTS=1000000
fi
# WITH_MAM=1 (set for one `run`): every server archives every 1:1 message (XEP-0313), as a phone user's
# server does; WITH_SM=1: stream management (XEP-0198) loaded where it is a module (Prosody, ejabberd).
MERGE=${BENCH_MERGE:-0}
# Whether any single-server (c2s) scenario is asked for: with BENCH_ONLY="s2s-msg s2s-links" their set-up
# (accounts, ejabberd imports) is skipped too.
C2S=1
if [ -n "$ONLY" ]; then C2S=0; for l in $ONLY; do [[ $l == s2s-* ]] || C2S=1; done; fi
ROSTER=100
# One process holds at most RLIMIT_NOFILE sockets; where the hard limit cannot be raised (no
# CAP_SYS_RESOURCE, e.g. in a container) the big idle run is cut to what fits, and RESULTS.md says so.
NOFILE=$(ulimit -n)
IDLE_CUT=0
if [ $(( IDLE_BIG + 1000 )) -gt "$NOFILE" ]; then IDLE_BIG=$(( (NOFILE - 1000) / 1000 * 1000 )); IDLE_CUT=1; fi
ACCOUNTS=$(( IDLE_BIG > IDLE ? IDLE_BIG : IDLE ))
PASSWORD=bench-password
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for f in "$GEN" "$CAUSERIE"; do [ -x "$f" ] || { echo "bench: $f missing (make build)" >&2; exit 1; }; done

# Free loopback ports below 32768 (above is the kernel's ephemeral range).
used_ports() { ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u; }
pick_port() {
  local p
  while :; do
    p=$(( 12000 + RANDOM % 20000 ))
    used_ports | grep -qx "$p" || { echo "$p"; return; }
  done
}
PORT=$(pick_port); TLSPORT=$(pick_port); HTTPPORT=$(pick_port)
while [ "$TLSPORT" = "$PORT" ] || [ "$HTTPPORT" = "$PORT" ] || [ "$HTTPPORT" = "$TLSPORT" ]; do
  TLSPORT=$(pick_port); HTTPPORT=$(pick_port)
done

SERVER_PID=""
STOP_CMD=""
EPMD_BEFORE=$(pgrep -x epmd || true)
cleanup() {
  stop_server || true
  # ejabberd starts Erlang's port mapper daemon; stop it if it was not running before us.
  if [ -z "$EPMD_BEFORE" ]; then for p in $(pgrep -x epmd || true); do kill "$p" 2>/dev/null || true; done; fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# One certificate for all three servers (ECDSA P-256: what a current ACME client issues by default).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,DNS:*.localhost" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/combined.pem"
chmod 644 "$WORK"/*.pem

# ---------------------------------------------------------------- accounts
log "writing $ACCOUNTS accounts (the first $USERS with rosters of $ROSTER)"
$GEN accounts --format xep0227 --hashes both --count "$ACCOUNTS" --roster-users "$USERS" --roster-size $ROSTER \
  --password $PASSWORD --out "$WORK/accounts-both.xml"
$GEN accounts --format ejabberd --hashes sha1 --count "$IDLE" --roster-users "$USERS" --roster-size $ROSTER \
  --password $PASSWORD --out "$WORK/accounts-sha1.xml"
$GEN accounts --format ejabberd --hashes sha256 --count 1000 --password $PASSWORD --out "$WORK/accounts-sha256.xml"

# ---------------------------------------------------------------- causerie
causerie_config() {  # $1 workers
  mkdir -p "$WORK/causerie"
  cat > "$WORK/causerie/causerie.toml" <<TOML
[server]
data_dir = "$WORK/causerie/data"
log_level = "warn"
workers = $1
[tls]
certificate = "$WORK/cert.pem"
key = "$WORK/key.pem"
[c2s]
require_encryption = false
[http]
requests_per_second = 100000
[limits]
auth_failures_before_delay = 1000
[modules.mam]
default = "$([ "${WITH_MAM:-0}" = 1 ] && echo always || echo "${CAUSERIE_MAM_DEFAULT:-never}")"
[[host]]
name = "localhost"
[[listener]]
type = "c2s"
address = "127.0.0.1"
port = $PORT
tls = "starttls"
[[listener]]
type = "c2s"
address = "127.0.0.1"
port = $TLSPORT
tls = "direct"
[[listener]]
type = "http"
address = "127.0.0.1"
port = $HTTPPORT
tls = "none"
TOML
}

setup_causerie() {
  causerie_config 1
  log "causerie: importing accounts"
  "$CAUSERIE" user import "$WORK/accounts-both.xml" --config "$WORK/causerie/causerie.toml" >&2
}

start_causerie() {  # $1 variant (1core|2core)
  local cpus=$SERVER_CPU workers=1
  if [ "$1" = 2core ]; then cpus=$SERVER_CPU,$GEN_CPU; workers=2; fi
  causerie_config $workers
  taskset -c "$cpus" "$CAUSERIE" run --config "$WORK/causerie/causerie.toml" >> "$WORK/causerie/server.log" 2>&1 &
  SERVER_PID=$!
  STOP_CMD="kill $SERVER_PID"
}

# ---------------------------------------------------------------- prosody
prosody_config() {  # $1 variant: sha1 | sha256
  local d=$WORK/prosody-$1
  mkdir -p "$d/data"
  local hash=SHA-1; [ "$1" = sha256 ] && hash=SHA-256
  cat > "$d/prosody.cfg.lua" <<LUA
-- Engine comparison on loopback: no TLS requirement, no limits, internal storage (files).
run_as_root = true
pidfile = "$d/prosody.pid"
data_path = "$d/data"
log = { warn = "$d/prosody.log" }
interfaces = { "127.0.0.1" }
c2s_ports = { $PORT }
c2s_direct_tls_ports = { $TLSPORT }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
s2s_ports = {}
http_ports = { $HTTPPORT }
http_interfaces = { "127.0.0.1" }
https_ports = {}
network_backend = "epoll"
network_settings = { tcp_backlog = 1024 }
authentication = "internal_hashed"
password_hash = "$hash"
storage = "internal"
certificates = "$WORK"
ssl = { certificate = "$WORK/cert.pem", key = "$WORK/key.pem" }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "posix", "websocket", "bosh", "pep"$(
  [ "${WITH_MAM:-0}" = 1 ] && printf ', "mam"'; [ "${WITH_SM:-0}" = 1 ] && printf ', "smacks"'; true) }
-- WITH_MAM: archive every message, keep it (mod_mam with the internal storage, like everything else here).
default_archive_policy = true
archive_expires_after = "never"
-- BOSH on plain HTTP counts as secure here like the plain c2s port (no TLS requirement anywhere).
consider_bosh_secure = true
-- mod_pubsub lets only admins create nodes: u0 creates the pubsub scenario's node.
admins = { "u0@localhost" }
modules_disabled = { "s2s", "offline" }
VirtualHost "localhost"
Component "conference.localhost" "muc"
  muc_room_locking = false
  muc_room_default_history_length = 0
  restrict_room_creation = false
Component "pubsub.localhost" "pubsub"
LUA
}

setup_prosody() {
  for v in sha1 sha256; do
    prosody_config $v
    local n=$IDLE; [ $v = sha256 ] && n=1000
    $GEN accounts --format prosody --hashes $v --count $n --roster-users $([ $v = sha1 ] && echo "$USERS" || echo 0) \
      --roster-size $ROSTER --password $PASSWORD --out "$WORK/prosody-$v/data"
  done
}

start_prosody() {  # $1 variant
  prosody_config "$1"  # again: WITH_MAM / WITH_SM may differ from one scenario to the next
  taskset -c "$SERVER_CPU" prosody --config "$WORK/prosody-$1/prosody.cfg.lua" -F >> "$WORK/prosody-$1/stdout.log" 2>&1 &
  SERVER_PID=$!
  STOP_CMD="kill $SERVER_PID"
}

# ---------------------------------------------------------------- ejabberd
EJ_NODE=bench$$@localhost
ejabberd_config() {  # $1 variant: sha1 | sha256
  local d=$WORK/ejabberd-$1 hash=sha
  [ "$1" = sha256 ] && hash=sha256
  mkdir -p "$d/db" "$d/log"
  cat > "$d/ejabberdctl.cfg" <<CFG
ERLANG_NODE=$EJ_NODE
EJABBERD_CONFIG_PATH=$d/ejabberd.yml
EJABBERD_PID_PATH=$d/ejabberd.pid
ERL_MAX_PORTS=1048576
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
CFG
  cat > "$d/ejabberd.yml" <<YML
# Engine comparison on loopback: no TLS requirement, no shapers, no anti-abuse limits.
hosts: ["localhost"]
loglevel: warning
certfiles: ["$WORK/combined.pem"]
listen:
  - port: $PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: true
    backlog: 1024
    shaper: none
    max_stanza_size: 262144
  - port: $TLSPORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
    backlog: 1024
    shaper: none
    max_stanza_size: 262144
  - port: $HTTPPORT
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 1024
    request_handlers:
      /xmpp-websocket: ejabberd_http_ws
      /http-bind: mod_bosh
auth_method: internal
auth_password_format: scram
auth_scram_hash: $hash
default_db: mnesia
shaper: {}
shaper_rules: {}
max_fsm_queue: 1000000
# The default (1 000 entries) would thrash with a thousand users of a hundred contacts each.
cache_size: 100000
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
api_permissions:
  "console commands":
    from: [ejabberd_ctl]
    who: all
    what: "*"
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
  mod_bosh: {}
  mod_caps: {}
  mod_pubsub:
    host: "pubsub.localhost"
    access_createnode: pubsub_createnode
    plugins: ["flat", "pep"]
    max_items_node: 1000
  mod_muc:
    host: "conference.localhost"
    access_create: muc_create
    history_size: 0
    max_users: 10000
    max_users_presence: 10000
    default_room_options:
      mam: false
      max_users: 10000
YML
  if [ "${WITH_MAM:-0}" = 1 ]; then printf '  mod_mam:\n    default: always\n' >> "$d/ejabberd.yml"; fi
  if [ "${WITH_SM:-0}" = 1 ]; then printf '  mod_stream_mgmt:\n    resume_timeout: 300\n' >> "$d/ejabberd.yml"; fi
  chown -R ejabberd "$d"
}

ejctl() { local v=$1; shift; ejabberdctl --ctl-config "$WORK/ejabberd-$v/ejabberdctl.cfg" --spool "$WORK/ejabberd-$v/db" --logs "$WORK/ejabberd-$v/log" "$@"; }

ejabberd_wait() {  # until the c2s port answers
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

start_ejabberd() {  # $1 variant
  local v=$1
  ejabberd_config "$v"  # again: WITH_MAM / WITH_SM may differ from one scenario to the next
  # setpriv, not ejabberdctl's own su: su applies PAM limits and the node would get 1024 descriptors.
  (cd "$WORK/ejabberd-$v" && taskset -c "$SERVER_CPU" setpriv --reuid ejabberd --regid ejabberd --init-groups \
    env HOME=/var/lib/ejabberd ejabberdctl --ctl-config "$WORK/ejabberd-$v/ejabberdctl.cfg" \
    --spool "$WORK/ejabberd-$v/db" --logs "$WORK/ejabberd-$v/log" foreground >> "$WORK/ejabberd-$v/stdout.log" 2>&1 &)
  ejabberd_wait || { log "ejabberd did not start"; tail -20 "$WORK/ejabberd-$v/log/ejabberd.log" >&2; return 1; }
  SERVER_PID=$(pgrep -f "beam.smp.*-sname $EJ_NODE" | head -1)
  STOP_CMD="ejctl $v stop"
}

setup_ejabberd() {
  for v in sha1 sha256; do
    ejabberd_config $v
    start_ejabberd $v
    log "ejabberd-$v: importing accounts"
    local file=$WORK/accounts-$v.xml
    chmod 644 "$file"
    ejctl $v import_piefxis "$file" >&2
    stop_server
  done
}

# ---------------------------------------------------------------- running
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  eval "$STOP_CMD" >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  # Let TIME_WAIT sockets of the previous scenario not matter: the next one uses other source ports.
  sleep 1
}

start_server() {  # $1 server $2 variant
  case $1 in
    causerie) start_causerie "$2" ;;
    prosody) start_prosody "$2" ;;
    ejabberd) start_ejabberd "$2" ;;
  esac
  wait_port || { log "$1 did not start"; return 1; }
  sleep 0.5
}

# Causerie's archive rows, read from its database (the server stopped, so that every queued write is in).
archive_rows() {
  /usr/bin/python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); m = c.execute("SELECT mark FROM archive_entry_state").fetchone()[0]; print(c.execute("SELECT COUNT(*) FROM archive").fetchone()[0] + c.execute("SELECT COUNT(*) + COALESCE(SUM(owner2 != 0), 0) FROM archive_messages WHERE id > ?", (m,)).fetchone()[0])' \
    "$WORK/causerie/data/causerie.db"
}
# The archive-on message run is valid only if every message went into both parties' archives: a run that
# kept its rate by not archiving would measure nothing.
check_archive() {  # $1 JSON line, $2 rows before the run
  /usr/bin/python3 - "$1" "$2" "$(archive_rows)" <<'PY'
import json, sys
r, before, after = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
f = r.setdefault("figures", {})
want = 2 * f.get("sent_total", 0)
f["archived_rows"], f["archived_expected"] = after - before, want
if after - before != want:
    r["ok"] = False
    p = f"{after - before} archive rows for {want // 2} messages (2 expected per message)"
    r["problems"] = r["problems"] + "; " + p if r.get("problems") else p
print(json.dumps(r, separators=(",", ":")))
PY
}

# run SERVER VARIANT LABEL SCENARIO ARGS... : restart the server, run one scenario, keep its JSON line.
run() {
  local server=$1 variant=$2 label=$3 scenario=$4; shift 4
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $label "* ]]; then return; fi
  local gen_cpus=$GEN_CPU
  [ "$variant" = 2core ] && gen_cpus=$SERVER_CPU,$GEN_CPU
  local rows_before=""
  if [ "$server" = causerie ] && [ "${WITH_MAM:-0}" = 1 ] && [ "$scenario" = msg ]; then rows_before=$(archive_rows); fi
  if ! start_server "$server" "$variant"; then
    printf '{"server":"%s","scenario":"%s","label":"%s","ok":false,"problems":"server did not start"}\n' \
      "$server" "$scenario" "$label" >> "$RESULTS"
    stop_server; return
  fi
  local cmd=(taskset -c "$gen_cpus" "$GEN" run "$scenario" --server-name "$server" --server-pid "$SERVER_PID"
             --port "$PORT" --timeout "$TIMEOUT" "$@")
  echo "$label ($server, $variant): ${cmd[*]}" | sed "s/--server-pid [0-9]*/--server-pid PID/" >> "$COMMANDS"
  log "$server/$variant: $label"
  local line
  line=$("${cmd[@]}" 2>>"$WORK/generator.log") || true
  [ -n "$line" ] || line="{\"server\":\"$server\",\"scenario\":\"$scenario\",\"ok\":false,\"problems\":\"generator failed\"}"
  if [ -n "$rows_before" ]; then stop_server; line=$(check_archive "$line" "$rows_before"); fi
  echo "${line%\}},\"label\":\"$label\",\"variant\":\"$variant\"}" >> "$RESULTS"
  echo "$line" >&2
  stop_server
}

scenarios_for() {  # $1 server
  local s=$1 v1=sha1 v256=sha256 tlsport=(--port "$TLSPORT")
  [ "$s" = causerie ] && { v1=1core; v256=1core; }
  local common=(--warmup "$WARM" --duration "$DUR")
  run "$s" $v1 login-scram-sha1 login "${common[@]}" --mech SCRAM-SHA-1 --concurrency 50 --accounts 1000
  run "$s" $v256 login-scram-sha256 login "${common[@]}" --mech SCRAM-SHA-256 --concurrency 50 --accounts 1000
  run "$s" $v1 login-scram-sha1-tls login "${common[@]}" --mech SCRAM-SHA-1 --tls direct "${tlsport[@]}" --concurrency 50 --accounts 1000
  run "$s" $v256 login-scram-sha256-tls login "${common[@]}" --mech SCRAM-SHA-256 --tls direct "${tlsport[@]}" --concurrency 50 --accounts 1000
  run "$s" $v1 idle-plain idle --sessions "$IDLE" --concurrency 100 --hold 8
  run "$s" $v1 idle-tls idle --sessions "$IDLE" --concurrency 100 --hold 8 --tls direct "${tlsport[@]}"
  run "$s" $v1 msg msg "${common[@]}" --pairs "$PAIRS" --window 10
  run "$s" $v1 presence presence "${common[@]}" --users "$USERS" --roster-size $ROSTER --window 1 --concurrency 50
  # The same 1:1 load with every message archived for both parties (XEP-0313), and XEP-0198 resumptions.
  WITH_MAM=1 run "$s" $v1 msg-mam msg "${common[@]}" --pairs "$PAIRS" --window 10
  WITH_SM=1 run "$s" $v1 resume resume "${common[@]}" --concurrency 100
  # XMPP over WebSocket (RFC 7395), ws:// on loopback: the same login and 1:1 figures.
  local ws=(--transport websocket --port "$HTTPPORT" --http-path /xmpp-websocket)
  run "$s" $v256 ws-login-scram-sha256 login "${common[@]}" --mech SCRAM-SHA-256 "${ws[@]}" --concurrency 50 --accounts 1000
  run "$s" $v1 ws-msg msg "${common[@]}" --pairs "$PAIRS" --window 10 "${ws[@]}"
  # XMPP over BOSH (XEP-0124/0206), plain HTTP: two keep-alive connections per session, hold 1, requests 2.
  local bosh=(--transport bosh --port "$HTTPPORT" --http-path /http-bind)
  run "$s" $v256 bosh-login-scram-sha256 login "${common[@]}" --mech SCRAM-SHA-256 "${bosh[@]}" --concurrency 50 --accounts 1000
  run "$s" $v1 bosh-msg msg "${common[@]}" --pairs "$BOSH_PAIRS" --window 4 "${bosh[@]}"
  # PubSub fan-out (XEP-0060) on pubsub.localhost, and PEP (XEP-0163) on u0's account: $SUBS subscribers.
  run "$s" $v1 pubsub pubsub "${common[@]}" --service pubsub.localhost --subscribers "$SUBS" --publishers 4 --window 4 --concurrency 100
  run "$s" $v1 pep pubsub "${common[@]}" --service pep --subscribers "$SUBS" --window 16 --concurrency 100
  if [ "$s" != causerie ] || [ -d "$ROOT/src/modules/muc" ]; then
    run "$s" $v1 muc muc "${common[@]}" --occupants "$OCC" --senders 10 --window 4 --concurrency 100
  fi
}

for s in $SERVERS; do
  [ "$C2S" = 1 ] || break
  setup_"$s"
  scenarios_for "$s"
  if [ "$s" = causerie ]; then
    # Latency at half the maximum rate (the issue's target: p99 ≤ 5 ms there), paced, same pairs.
    max=$(grep '"server":"causerie"' "$RESULTS" | grep '"label":"msg"' | grep -o '"msgs_per_s":[0-9.e+]*' | cut -d: -f2 || true)
    if [ -n "$max" ]; then
      half=$(awk -v m="$max" 'BEGIN { printf "%d", m / 2 }')
      run causerie 1core msg-half-rate msg --warmup "$WARM" --duration "$DUR" --pairs "$PAIRS" --window 10 --rate "$half"
      # The latency curve below it: at which paced load is p99 within 5 ms?
      for div in 4 8 16; do
        r=$(awk -v m="$max" -v d="$div" 'BEGIN { printf "%d", m / d }')
        run causerie 1core "msg-rate-1-$div" msg --warmup "$WARM" --duration "$DUR" --pairs "$PAIRS" --window 10 --rate "$r"
      done
    fi
    run causerie 2core msg-2core msg --warmup "$WARM" --duration "$DUR" --pairs "$PAIRS" --window 10
    # The news feed's fan-out (issue 15): u0 posts on its microblog (XEP-0277) followed by $SUBS accounts
    # (bare-JID subscriptions) that log out before the run, so every post becomes a row in each follower's
    # feed; compared with the anchors' PEP fan-out above (`pep`) per server core-second.
    run causerie 1core feed-fanout pubsub --warmup "$WARM" --duration "$DUR" --service pep --followers \
      --subscribers "$SUBS" --window 16 --max-items 100000 --concurrency 100
    # A MAM page out of a big archive: u0's archive filled directly through ArchiveStore (the server is
    # stopped between scenarios), then pages fetched over XMPP, one query at a time.
    if [ -z "$ONLY" ] || [[ " $ONLY " == *" mam-page "* ]]; then
      log "causerie: filling u0's archive with $MAM_SIZE messages"
      "$GEN" fill-archive --database "$WORK/causerie/data/causerie.db" --owner u0@localhost --count "$MAM_SIZE" >&2
      WITH_MAM=1 run causerie 1core mam-page mam-page --warmup "$WARM" --duration "$DUR" --window 1 \
        --archive-size "$MAM_SIZE" --page-size 50
    fi
    # The first page of a news feed (issue 15: a reader following 500 people, 1 000 000 posts stored): the
    # microblogs of u1…u2000 and u0's feed filled directly through the pubsub, feed and roster stores (u0
    # follows u1…u500), then feed pages fetched over XMPP (urn:causerie:feed:0), one query at a time.
    if [ -z "$ONLY" ] || [[ " $ONLY " == *" feed-page "* ]]; then
      log "causerie: filling microblogs with $FEED_POSTS posts and u0's feed"
      "$GEN" fill-feed --database "$WORK/causerie/data/causerie.db" --posts "$FEED_POSTS" --authors 2000 --follow 500 >&2
      run causerie 1core feed-page feed-page --warmup "$WARM" --duration "$DUR" --window 1 --page-size 20 \
        --feed-posts "$FEED_POSTS" --feed-authors 2000 --feed-follow 500
    fi
    run causerie 1core idle-tls-big idle --sessions "$IDLE_BIG" --concurrency 200 --hold 8 --tls direct --port "$TLSPORT"
  fi
done

# Federation: two servers of each kind on core 0 (bench/s2s.py pins itself there), the generator on core 1;
# the same CA, DNS (dnsmasq) and server wrappers as the federation tests in tests/integration.
if [ -z "$ONLY" ] || [[ " $ONLY " == *" s2s-"* ]]; then
  log "federation scenarios (bench/s2s.py)"
  /usr/bin/python3 "$ROOT/bench/s2s.py" --binary "$CAUSERIE" --generator "$GEN" --servers "$SERVERS" --only "$ONLY" \
    --results "$RESULTS" --commands "$COMMANDS" --workdir "$WORK" --output "$WORK/s2s-logs" --pairs "$S2S_PAIRS" \
    --window 10 --warmup "$WARM" --duration "$DUR" --links "$S2S_LINKS" --links-window 20 --timeout "$TIMEOUT" \
    --server-cpu "$SERVER_CPU" --gen-cpu "$GEN_CPU" > /dev/null || true
fi

# The news feed's storage path (bench/feed_store_bench.cpp): no server, no network; on core 0.
if [ -z "$ONLY" ] || [[ " $ONLY " == *" feed "* ]]; then
  log "news feed storage (causerie-feed-bench)"
  for per_commit in 1 20; do
    taskset -c 0 "$BUILD/causerie-feed-bench" --dir "$WORK" --per-commit "$per_commit" >> "$WORK/feed_store.json" || true
  done
fi

log "writing $OUT/RESULTS.md"
mkdir -p "$OUT"
PREVIOUS=()
if [ "$MERGE" = 1 ] && [ -f "$OUT/results.jsonl" ]; then
  cp "$OUT/results.jsonl" "$WORK/previous.jsonl"
  [ -f "$OUT/RESULTS.md" ] && cp "$OUT/RESULTS.md" "$WORK/previous.md"
  PREVIOUS=(--previous "$WORK/previous.jsonl" --previous-md "$WORK/previous.md")
fi
FEED_STORE=()
if [ -s "$WORK/feed_store.json" ]; then FEED_STORE=(--feed-store "$WORK/feed_store.json");
elif [ -s "$OUT/feed_store.json" ]; then FEED_STORE=(--feed-store "$OUT/feed_store.json"); fi
/usr/bin/python3 "$ROOT/bench/report.py" --results "$RESULTS" --commands "$COMMANDS" --out "$OUT" \
  --quick "$QUICK" --causerie "$CAUSERIE" --nofile "$NOFILE" --idle-cut "$IDLE_CUT" --load-start "$LOAD_START" \
  "${PREVIOUS[@]}" "${FEED_STORE[@]}"
[ "$MERGE" = 1 ] || cp "$RESULTS" "$OUT/results.jsonl"
if [ -s "$WORK/feed_store.json" ]; then cp "$WORK/feed_store.json" "$OUT/feed_store.json"; fi
