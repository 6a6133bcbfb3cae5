#!/bin/sh
# The main job on a fresh Debian 12 machine: install what is missing, build,
# compile examples/orders/orders.ztp, start Apache with mod_zerotrust on
# 127.0.0.1 (port $ZT_DEMO_PORT, default 8480), and show requests allowed
# and refused, and why.  Apache keeps running; the script says how to stop it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/test/bootstrap.sh"
# The build bootstrap.sh just made (it honours ZT_BUILD), not another one.
ZT_BUILDDIR=${ZT_BUILD:-$top/build}
export ZT_BUILDDIR
exec /usr/bin/python3 "$top/examples/demo.py" "$@"
