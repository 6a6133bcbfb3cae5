#!/bin/sh
# Golden tests for zpc (TAP), run by `make check`:
#   ok/NAME.ztp    compiles; `zpc dump` of the table equals ok/NAME.dump
#   fail/NAME.ztp  `zpc check` exits 1 and stderr equals fail/NAME.err
# Set ZPC_GOLDEN_UPDATE=1 to rewrite the expected files after a reviewed change.
set -u
src=${ZT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${ZT_BUILDDIR:-$src}
zpc=$bld/zpc/zpc
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
n=0; failed=0

report() {  # report OK|FAIL NAME [diff file]
    n=$((n + 1))
    if [ "$1" = OK ]; then
        echo "ok $n - $2"
    else
        failed=1
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -n 40
    fi
}

for p in "$src"/test/zpc/ok/*.ztp; do
    [ -f "$p" ] || continue
    name=ok/$(basename "$p" .ztp)
    want=${p%.ztp}.dump
    if ! (cd "$(dirname "$p")" && "$zpc" compile "$(basename "$p")" -o "$tmp/t.ztb") \
            >"$tmp/out" 2>&1; then
        report FAIL "$name compiles" "$tmp/out"
        continue
    fi
    "$zpc" dump "$tmp/t.ztb" >"$tmp/dump" 2>&1
    [ "${ZPC_GOLDEN_UPDATE:-}" = 1 ] && cp "$tmp/dump" "$want"
    if diff -u "$want" "$tmp/dump" >"$tmp/diff" 2>&1; then
        report OK "$name dump"
    else
        report FAIL "$name dump" "$tmp/diff"
    fi
done

for p in "$src"/test/zpc/fail/*.ztp; do
    [ -f "$p" ] || continue
    name=fail/$(basename "$p" .ztp)
    want=${p%.ztp}.err
    (cd "$(dirname "$p")" && "$zpc" check "$(basename "$p")") >/dev/null 2>"$tmp/err"
    rc=$?
    [ "${ZPC_GOLDEN_UPDATE:-}" = 1 ] && cp "$tmp/err" "$want"
    if [ "$rc" -ne 1 ]; then
        echo "exit status $rc, expected 1" >"$tmp/diff"
        report FAIL "$name exits 1" "$tmp/diff"
    elif diff -u "$want" "$tmp/err" >"$tmp/diff" 2>&1; then
        report OK "$name diagnostics"
    else
        report FAIL "$name diagnostics" "$tmp/diff"
    fi
done

echo "1..$n"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
