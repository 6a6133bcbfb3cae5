#!/bin/sh
# Install what is missing (Debian 12), then configure and build into build/.
# Used by examples/demo.sh, test/run.sh and .ci/run; safe to run again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ZT_BUILD:-$top/build}

PACKAGES="build-essential autoconf automake libtool pkg-config flex bison
  apache2 apache2-dev libapr1-dev libaprutil1-dev libssl-dev libjansson-dev libcurl4-openssl-dev libxml2-dev
  check libpcre2-dev curl python3 python3-pytest python3-requests python3-cryptography
  python3-jwt"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The interop and OpenID Provider tests use npm packages (jose,
# oidc-provider), pinned by test/interop/package-lock.json.
if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: installing nodejs npm"
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    ${SUDO:-} apt-get update -qq
    DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d "$top/test/interop/node_modules" ] \
        || [ "$top/test/interop/package-lock.json" -nt "$top/test/interop/node_modules" ]; then
    (cd "$top/test/interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$top/test/interop/node_modules"
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
    "$top/configure" -q ${ZT_CONFIGURE_FLAGS:-}
fi
make -s -j"$(nproc)" >/dev/null
echo "bootstrap: built in $build"
