#!/usr/bin/env bash
# Installs every Debian package Causerie needs to build, run and test, and nothing already present.
# Idempotent: a fresh Debian 12 machine and a warm one both end in the same state.
# Usage: scripts/deps.sh [run|build|test|bench]   (default: test, which includes build; run: only the shared
# libraries the built binary needs, for a machine that runs a binary built elsewhere)
set -euo pipefail
what=${1:-test}

build_pkgs=(build-essential cmake ninja-build ccache pkg-config openssl
  libexpat1-dev libidn-dev libsqlite3-dev libssl-dev libboost1.74-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  libcmark-dev libjemalloc-dev libc-ares-dev libgtest-dev libgmock-dev nodejs
  libqrencode-dev libvips-dev libxml2-dev)
# libxml2-dev: its HTML parser reads the <head> of pages the server previews (modules/previews).
# libvips-dev: thumbnails and web-sized copies of uploaded pictures (modules/media). Its runtime library,
# libvips42, is in run_pkgs with the other shared libraries the binary links.
run_pkgs=(libexpat1 libidn12 libsqlite3-0 libssl3 libfmt9 libspdlog1.10 libcmark0.30.2 libjemalloc2 libc-ares2
  libqrencode4 libvips42 libxml2)
# nodejs (+ npm, below): the web app in web/ is bundled by esbuild at build time and embedded in the binary.
# chromium + node: the browser test (Converse.js driven by playwright-core, which never downloads browsers).
# go-sendxmpp and python3-aioxmpp: third-party clients the regression tests of issue 10 drive.
# dnsmasq-base: the DNS server of the federation tests (SRV and A records for the test domains).
# prosody, lua-unbound (Prosody's resolver, the one that can be pointed at dnsmasq's port) and ejabberd:
# the federation peers of test_s2s_prosody.py / test_s2s_ejabberd.py (and the benchmark's anchors). The tests
# run them in the foreground from their own configs; their system services never start (policy-rc.d below).
# biboumi and ngircd: an IRC gateway as an external component and its IRC server (test_biboumi.py starts
# both with their own configuration; the packaged services are not started, see policy-rc.d below).
# python3-prometheus-client: its text parser reads /metrics in test_ops.py (the format Prometheus scrapes);
# systemd: test_ops.py checks the installed unit with systemd-analyze verify (nothing is started).
# coturn: the TURN server (turnserver, turnutils_uclient, turnutils_peer) test_extdisco.py starts on loopback
# from its own command line; its packaged service is not started either.
# poezio: the curses client test_guests.py runs in a pseudo-terminal to join a room as an anonymous guest.
# libvips-tools (vips) and libimage-exiftool-perl (exiftool): test_media.py makes a JPEG with GPS tags and
# checks that the served original and its copies carry no location.
# python3-cryptography: test_webpush.py's push service decrypts each push (ECDH, AES-GCM) and checks the
# VAPID token's ES256 signature with it, apart from the server's own OpenSSL code.
test_pkgs=(python3-slixmpp python3-aiodns python3-aioxmpp go-sendxmpp dnsmasq-base chromium
  prosody lua-unbound ejabberd biboumi ngircd coturn python3-prometheus-client systemd poezio
  libvips-tools libimage-exiftool-perl python3-cryptography)
bench_pkgs=(gnuplot-nox util-linux procps linux-perf)

pkgs=("${build_pkgs[@]}")
case "$what" in
  run) pkgs=("${run_pkgs[@]}") ;;
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "deps.sh: unknown set '$what' (run|build|test|bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Debian's nodejs comes without npm (a separate package); other builds of nodejs bundle it.
if [ "$what" != run ] && ! command -v npm >/dev/null; then missing+=(npm); fi

# npm packages, pinned by each package-lock.json and reinstalled when the lock changes: the web app's
# (web/, needed to build) and the browser tests' (tests/web).
npm_ci() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "deps.sh: npm ci in $1"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}
npm_install() {
  [ "$what" = run ] && return 0
  npm_ci web
  [ "$what" = build ] && return 0
  npm_ci tests/web
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_install
  exit 0
fi

echo "deps.sh: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Services from Debian (prosody, ejabberd) must not start on install: the tests and the benchmark start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_install
