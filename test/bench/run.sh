#!/bin/sh
# Token verification benchmarks (docs/BENCHMARKS.md): build, then print the
# machine and the table of verifications per second per core next to
# `openssl speed` for the same primitive, and the cache-hit cost.
#
#   test/bench/run.sh                 # 3 rounds of 2 s per figure, wall-clock
#   test/bench/run.sh -c -r 5         # CPU time (a shared machine), 5 rounds
#   test/bench/run.sh -a RS256,ES256  # some algorithms only
#
# Options are bench_token's (-s SECONDS -r ROUNDS -a ALGS -n -c).  Builds in
# $ZT_BUILD (default: build/ under the source tree, as test/run.sh does),
# configured without sanitizers, so the figures are those of a release.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${ZT_BUILD:-$top/build}

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
    "$top/configure" -q
elif grep -q '^SAN_CFLAGS = .*-fsanitize' Makefile; then
    echo "run.sh: $build is built with sanitizers; set ZT_BUILD to another" \
         "directory" >&2
    exit 2
fi
make -s -j"$(nproc)" bench >/dev/null

echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "# $(openssl version), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ $# -gt 0 ] || set -- -s 2 -r 3
exec ./test/bench/bench_token "$@"
