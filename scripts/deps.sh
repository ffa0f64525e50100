#!/usr/bin/env bash
# Installs every Debian package Causerie needs to build, run and test, and nothing already present.
# Idempotent: a fresh Debian 12 machine and a warm one both end in the same state.
# Usage: scripts/deps.sh [build|test|bench]   (default: test, which includes build)
set -euo pipefail
what=${1:-test}

build_pkgs=(build-essential cmake ninja-build ccache pkg-config openssl
  libexpat1-dev libidn-dev libsqlite3-dev libssl-dev libboost1.74-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  libcmark-dev libjemalloc-dev libgtest-dev libgmock-dev)
test_pkgs=(python3-slixmpp python3-aiodns)
bench_pkgs=(prosody ejabberd gnuplot-nox util-linux procps linux-perf)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "deps.sh: unknown set '$what' (build|test|bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Services from Debian (prosody, ejabberd) must not start on install: the benchmark starts its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
