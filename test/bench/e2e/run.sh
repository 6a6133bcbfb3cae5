#!/bin/sh
# End-to-end benchmark (docs/BENCHMARKS.md, "End to end (wrk)"): plain
# Apache, mod_zerotrust, mod_auth_openidc and mod_oauth2 on 127.0.0.1,
# measured with wrk in one run; prints the table.
#
#   test/bench/e2e/run.sh                  # 5 s per measurement, 3 rounds
#   test/bench/e2e/run.sh -d 20 -r 5       # longer, steadier
#   test/bench/e2e/run.sh --only plain,zerotrust --modes distinct
#
# Options are bench.py's (-h lists them).  Installs what is missing (as
# test/bootstrap.sh does, plus wrk and the two peer modules), builds in
# $ZT_BUILD (default: build/ under the source tree), configured without
# sanitizers, so the figures are those of a release build.
set -eu
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${ZT_BUILD:-$top/build}
export ZT_BUILD="$build"

if [ -f "$build/Makefile" ] && grep -q '^SAN_CFLAGS = .*-fsanitize' "$build/Makefile"; then
    echo "run.sh: $build is built with sanitizers; set ZT_BUILD to another" \
         "directory" >&2
    exit 2
fi
"$top/test/bootstrap.sh" >&2

missing=""
for p in wrk libapache2-mod-auth-openidc libapache2-mod-oauth2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "run.sh: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null
fi

ZT_E2E_CONFIG=$build/test/e2e/config.ini \
    exec /usr/bin/python3 "$top/test/bench/e2e/bench.py" "$@"
