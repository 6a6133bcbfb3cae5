#!/bin/sh
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
#
# Source guard: every error log message id ZTLOGNO(nnnnn) is used exactly
# once, is five digits, and mod_zerotrust/next-number is above all of them.
# Speaks TAP.
set -u
srcdir=${ZT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=${TMPDIR:-/tmp}/logno.$$
trap 'rm -f "$tmp".*' EXIT INT TERM

# Every use, as "id file:line", outside the macro's own definition.
grep -n 'ZTLOGNO(' "$srcdir"/mod_zerotrust/*.c \
        "$srcdir"/zpc/*.c 2>/dev/null \
    | grep -v '#define ZTLOGNO' \
    | sed -n 's/^\([^:]*\):\([0-9]*\):.*ZTLOGNO(\([^)]*\)).*$/\3 \1:\2/p' \
    | sed "s#$srcdir/##" >"$tmp.uses"

# A line holding two ids would hide the second from the sed above.
grep -c 'ZTLOGNO(.*ZTLOGNO(' "$srcdir"/mod_zerotrust/*.c 2>/dev/null \
    | grep -v ':0$' >"$tmp.double" || true

n=0; failed=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

echo "1..5"

if [ -s "$tmp.uses" ]; then
    ok "ZTLOGNO ids found ($(wc -l <"$tmp.uses") uses)"
else
    not_ok "ZTLOGNO ids found (none under $srcdir/mod_zerotrust)"
fi

if [ -s "$tmp.double" ]; then
    not_ok "one ZTLOGNO per line"; sed 's/^/# /' "$tmp.double"
else
    ok "one ZTLOGNO per line"
fi

bad=$(awk '$1 !~ /^[0-9][0-9][0-9][0-9][0-9]$/' "$tmp.uses")
if [ -n "$bad" ]; then
    not_ok "every id has five digits"; printf '%s\n' "$bad" | sed 's/^/# /'
else
    ok "every id has five digits"
fi

dups=$(awk '{ n[$1]++; at[$1] = at[$1] " " $2 }
            END { for (i in n) if (n[i] > 1) print i ":" at[i] }' "$tmp.uses")
if [ -n "$dups" ]; then
    not_ok "no id is used twice"; printf '%s\n' "$dups" | sed 's/^/# /'
else
    ok "no id is used twice"
fi

next=$(tr -dc '0-9' <"$srcdir/mod_zerotrust/next-number" 2>/dev/null)
max=$(awk '{ v = $1 + 0; if (v > m) m = v } END { print m + 0 }' "$tmp.uses")
if [ -n "$next" ] && [ "$next" -gt "$max" ]; then
    ok "next-number ($next) is above every id (highest $max)"
else
    not_ok "next-number (${next:-missing}) is above every id (highest $max)"
fi

[ "$failed" -eq 0 ]
