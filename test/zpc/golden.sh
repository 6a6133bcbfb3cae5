#!/bin/sh
# Golden tests for zpc (TAP), run by `make check`:
#   ok/NAME.ztp    compiles; `zpc dump` of the table equals ok/NAME.dump
#   fail/NAME.ztp  `zpc check` exits 1 and stderr equals fail/NAME.err
#   warn/NAME.ztp  `zpc check` exits 0 and stderr (the warnings) equals warn/NAME.err
#   decode/cases   `zpc decode` of each case equals decode/NAME.out, plus
#                  hostile input (1 MiB, random bytes) and usage errors
# Set ZPC_GOLDEN_UPDATE=1 to rewrite the expected files after a reviewed change
# (ZPC_GOLDEN_UPDATE=decode: only the decode/*.out files).
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

# diagnostics DIR RC WHAT: for each DIR/NAME.ztp, `zpc check` exits RC and
# its stderr equals DIR/NAME.err.
diagnostics() {
    for p in "$src"/test/zpc/"$1"/*.ztp; do
        [ -f "$p" ] || continue
        name=$1/$(basename "$p" .ztp)
        want=${p%.ztp}.err
        (cd "$(dirname "$p")" && "$zpc" check "$(basename "$p")") >/dev/null 2>"$tmp/err"
        rc=$?
        [ "${ZPC_GOLDEN_UPDATE:-}" = 1 ] && cp "$tmp/err" "$want"
        if [ "$rc" -ne "$2" ]; then
            echo "exit status $rc, expected $2" >"$tmp/diff"
            cat "$tmp/err" >>"$tmp/diff"
            report FAIL "$name exits $2" "$tmp/diff"
        elif diff -u "$want" "$tmp/err" >"$tmp/diff" 2>&1; then
            report OK "$name $3"
        else
            report FAIL "$name $3" "$tmp/diff"
        fi
    done
}
diagnostics fail 1 diagnostics
diagnostics warn 0 warnings

# zpc decode: fixtures in a scratch copy, the policy compiled beside its keys.
dec=$src/test/zpc/decode
work=$tmp/decode
mkdir -p "$work" && cp "$dec"/*.jwt "$dec"/keys.jwks.json "$dec"/policy.ztp "$work"/
# The apps issuer's HS256 secret, as make_fixtures.py signed with it.
(umask 077 && printf '%s' 'decode-test-secret-not-for-use-0' >"$work/hs256.key")
if ! (cd "$work" && "$zpc" compile policy.ztp -o policy.ztb) >"$tmp/out" 2>&1; then
    report FAIL "decode/policy.ztp compiles" "$tmp/out"
fi
while read -r name token opts; do
    case $name in ''|'#'*) continue ;; esac
    want=$dec/$name.out
    # shellcheck disable=SC2086 # options are words
    (cd "$work" && "$zpc" decode - $opts --now 1700000000 <"$token") >"$tmp/got" 2>&1
    echo "exit $?" >>"$tmp/got"
    case ${ZPC_GOLDEN_UPDATE:-} in 1|decode) cp "$tmp/got" "$want" ;; esac
    if diff -u "$want" "$tmp/got" >"$tmp/diff" 2>&1; then
        report OK "decode/$name"
    else
        report FAIL "decode/$name" "$tmp/diff"
    fi
done <"$dec/cases"

# decode_rc NAME WANT_RC ARGS... [<input via $dec_in]: exit status only.
decode_rc() {
    name=$1; want=$2; shift 2
    (cd "$work" && "$zpc" decode "$@" <"${dec_in:-/dev/null}") >"$tmp/got" 2>&1
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        report OK "decode $name exits $want"
    else
        echo "exit status $rc, expected $want" >"$tmp/diff"
        cat "$tmp/got" >>"$tmp/diff"
        report FAIL "decode $name exits $want" "$tmp/diff"
    fi
}
# A token as an argument reads the same as on the standard input.
(cd "$work" && "$zpc" decode "$(cat rs256.jwt)" --policy policy.ztb --now 1700000000) \
    >"$tmp/got" 2>&1
echo "exit $?" >>"$tmp/got"
if diff -u "$dec/policy-rs256.out" "$tmp/got" >"$tmp/diff" 2>&1; then
    report OK "decode JWT as an argument = on stdin"
else
    report FAIL "decode JWT as an argument = on stdin" "$tmp/diff"
fi
# 1 MiB exactly: read, judged too large; one byte more: refused unread.
head -c 1048576 /dev/zero | tr '\0' 'A' >"$tmp/1m"
dec_in=$tmp/1m decode_rc "1 MiB of base64url" 1 - --policy policy.ztb
grep -q '^  FAILED  size ' "$tmp/got" || report FAIL "decode 1 MiB says FAILED size" "$tmp/got"
printf 'A' >>"$tmp/1m"
dec_in=$tmp/1m decode_rc "1 MiB + 1" 1 -
grep -q 'larger than 1048576 bytes' "$tmp/got" \
    || report FAIL "decode 1 MiB + 1 says why" "$tmp/got"
head -c 65536 /dev/urandom >"$tmp/random"
dec_in=$tmp/random decode_rc "64 KiB of random bytes" 1 - --jwks keys.jwks.json
dec_in=/dev/null decode_rc "empty input" 1 - --policy policy.ztb
decode_rc "no token" 2
decode_rc "--jwks and --policy" 2 x --jwks keys.jwks.json --policy policy.ztb
decode_rc "bad --now" 2 x --now soon
decode_rc "unknown option" 2 x --verbose
decode_rc "missing key file" 2 x --jwks nowhere.json
decode_rc "two tokens" 2 x y

echo "1..$n"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
