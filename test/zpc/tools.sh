#!/bin/sh
# Golden tests for zpc test, explain and diff (TAP), run by `make check`:
#   examples/*/*.ztp          `zpc test` passes every test block (exit 0)
#   test/NAME.ztp             `zpc test` stdout + "exit N" equals test/NAME.out
#   explain/cases             `zpc explain` of each case equals explain/NAME.out
#   diff/NAME.old.ztp, .new   `zpc diff` of the two tables equals diff/NAME.out
# plus hostile input and usage errors.  Set ZPC_GOLDEN_UPDATE=1 to rewrite
# the expected files after a reviewed change.
set -u
src=${ZT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${ZT_BUILDDIR:-$src}
zpc=$bld/zpc/zpc
here=$src/test/zpc
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
n=0; failed=0

report() {  # report OK|FAIL|TODO NAME [diff file]
    n=$((n + 1))
    if [ "$1" = OK ]; then
        echo "ok $n - $2"
    elif [ "$1" = TODO ]; then
        echo "not ok $n - $2 # TODO $todo"
        [ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -n 10
    else
        failed=1
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -n 60
    fi
}

# golden NAME WANT GOT: compare (or rewrite) one expected output.
golden() {
    [ "${ZPC_GOLDEN_UPDATE:-}" = 1 ] && cp "$3" "$2"
    if diff -u "$2" "$3" >"$tmp/diff" 2>&1; then
        report OK "$1"
    else
        report FAIL "$1" "$tmp/diff"
    fi
}

# rc NAME WANT CMD...: the exit status only (output kept in $tmp/got).
rc() {
    name=$1; want=$2; shift 2
    "$@" >"$tmp/got" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then
        report OK "$name exits $want"
    else
        echo "exit status $got, expected $want" >"$tmp/diff"
        cat "$tmp/got" >>"$tmp/diff"
        report FAIL "$name exits $want" "$tmp/diff"
    fi
}

# --- The examples: every test block passes -----------------------------
# An example waiting for a language feature is a TODO (XFAIL), so that it
# shows, and turns into an unexpected pass when the feature lands.
blocked() {
    case $1 in
    # examples/NAME/FILE.ztp) echo "needs ..." ;;
    esac
}
for p in "$src"/examples/*/*.ztp; do
    [ -f "$p" ] || continue
    name=examples/$(basename "$(dirname "$p")")/$(basename "$p")
    todo=$(blocked "$name")
    (cd "$(dirname "$p")" && "$zpc" test "$(basename "$p")") >"$tmp/got" 2>&1
    status=$?
    if [ "$status" -eq 0 ] && ! grep -q '^not ok' "$tmp/got" \
            && grep -q '^# [0-9]* tests*: [0-9]* passed, 0 failed$' "$tmp/got"; then
        report OK "zpc test $name ($(sed -n 's/^# \([0-9]*\) tests*:.*/\1/p' "$tmp/got") tests)${todo:+ # TODO $todo}"
    else
        echo "exit status $status" >>"$tmp/got"
        if [ -n "$todo" ]; then
            report TODO "zpc test $name" "$tmp/got"
        else
            report FAIL "zpc test $name" "$tmp/got"
        fi
    fi
done

# --- zpc test: passing and failing runs --------------------------------
for p in "$here"/test/*.ztp; do
    [ -f "$p" ] || continue
    name=test/$(basename "$p" .ztp)
    (cd "$here/test" && "$zpc" test "$(basename "$p")") >"$tmp/got" 2>&1
    echo "exit $?" >>"$tmp/got"
    golden "$name" "${p%.ztp}.out" "$tmp/got"
done

# --- zpc explain --------------------------------------------------------
ex=$tmp/explain
mkdir -p "$ex" && cp "$here"/explain/*.ztp "$here"/explain/*.jwt "$ex"/ \
    && cp "$here"/decode/keys.jwks.json "$here"/decode/rs256.jwt \
          "$here"/decode/expired.jwt "$here"/decode/bad_sig.jwt "$ex"/
if (cd "$ex" && "$zpc" compile explain.ztp -o explain.ztb) >"$tmp/out" 2>&1; then
    while read -r name args; do
        case $name in ''|'#'*) continue ;; esac
        # shellcheck disable=SC2086 # the case's words, quoted as in a shell
        (cd "$ex" && eval "set -- $args" && "$zpc" explain explain.ztb "$@") \
            >"$tmp/got" 2>&1
        echo "exit $?" >>"$tmp/got"
        golden "explain/$name" "$here/explain/$name.out" "$tmp/got"
    done <"$here/explain/cases"
else
    report FAIL "explain/explain.ztp compiles" "$tmp/out"
fi

# --- zpc diff -----------------------------------------------------------
for old in "$here"/diff/*.old.ztp; do
    [ -f "$old" ] || continue
    base=$(basename "$old" .old.ztp)
    d=$tmp/diff-$base
    mkdir -p "$d" && cp "$old" "$d/old.ztp" && cp "$here/diff/$base.new.ztp" "$d/new.ztp"
    if ! (cd "$d" && "$zpc" compile old.ztp -o old.ztb && "$zpc" compile new.ztp -o new.ztb) \
            >"$tmp/out" 2>&1; then
        report FAIL "diff/$base compiles" "$tmp/out"
        continue
    fi
    (cd "$d" && "$zpc" diff old.ztb new.ztb) >"$tmp/got" 2>&1
    echo "exit $?" >>"$tmp/got"
    golden "diff/$base" "$here/diff/$base.out" "$tmp/got"
done

# --- Hostile input and usage --------------------------------------------
d=$tmp/hostile
mkdir -p "$d" && cp "$here/diff/added-route.old.ztp" "$d/p.ztp"
(cd "$d" && "$zpc" compile p.ztp -o p.ztb) >/dev/null 2>&1
rc "diff of a table with itself" 0 "$zpc" diff "$d/p.ztb" "$d/p.ztb"
rc "diff with a missing table" 2 "$zpc" diff "$d/p.ztb" "$d/nowhere.ztb"
rc "diff with one table" 2 "$zpc" diff "$d/p.ztb"
head -c 100 "$d/p.ztb" >"$d/cut.ztb"
rc "diff with a truncated table" 2 "$zpc" diff "$d/p.ztb" "$d/cut.ztb"
grep -q 'cut.ztb' "$tmp/got" || report FAIL "diff names the truncated table" "$tmp/got"
cp "$d/p.ztb" "$d/flip.ztb"
printf '\377' | dd of="$d/flip.ztb" bs=1 seek=200 conv=notrunc 2>/dev/null
rc "diff with a corrupted table" 2 "$zpc" diff "$d/flip.ztb" "$d/p.ztb"
rc "diff of a policy source, not a table" 2 "$zpc" diff "$d/p.ztp" "$d/p.ztb"
rc "explain without --request" 2 "$zpc" explain "$d/p.ztb"
rc "explain with a request without a path" 2 "$zpc" explain "$d/p.ztb" --request GET
rc "explain with a bad address" 2 "$zpc" explain "$d/p.ztb" --request "GET /orders" \
    --from 10.0.0.256
rc "explain with a header without a colon" 2 "$zpc" explain "$d/p.ztb" \
    --request "GET /orders" --header "X-Tenant"
rc "explain with an unknown option" 2 "$zpc" explain "$d/p.ztb" --request "GET /" --verbose x
rc "explain with a missing table" 2 "$zpc" explain "$d/nowhere.ztb" --request "GET /"
rc "explain with a bad --now" 2 "$zpc" explain "$d/p.ztb" --request "GET /" --now soon
rc "explain of a token that is not a JWT" 1 "$zpc" explain "$d/p.ztb" \
    --request "GET /orders" --token "not-a-token"
grep -q '^token .*' "$tmp/got" && grep -q 'FAILED' "$tmp/got" \
    || report FAIL "explain says why the token fails" "$tmp/got"
big=$(head -c 9000 /dev/zero | tr '\0' 'A')
rc "explain of a 9000-byte token" 1 "$zpc" explain "$d/p.ztb" --request "GET /orders" \
    --token "$big.$big.$big"
grep -q 'ZeroTrustTokenMaxSize' "$tmp/got" \
    || report FAIL "explain refuses a token over the size limit" "$tmp/got"
rc "explain of an encoded slash" 1 "$zpc" explain "$d/p.ztb" --request "GET /orders%2Fx"
grep -q 'notfound' "$tmp/got" || report FAIL "an encoded slash is notfound" "$tmp/got"
rc "explain of a bad percent escape" 1 "$zpc" explain "$d/p.ztb" --request "GET /orders%zz"
rc "explain of a dot segment" 1 "$zpc" explain "$d/p.ztb" --request "GET /x/../orders"
rc "explain of a control byte in the query" 1 "$zpc" explain "$d/p.ztb" \
    --request "GET /orders?q=%01"
grep -q 'invalid (400)' "$tmp/got" || report FAIL "a control byte in the query is invalid" "$tmp/got"
rc "test of a missing policy" 1 "$zpc" test "$d/nowhere.ztp"
rc "test without a policy" 2 "$zpc" test
rc "test with two policies" 2 "$zpc" test "$d/p.ztp" "$d/p.ztp"
# A test's body file: 1 MiB is read (and sent: above the route's max, 413);
# one byte more is a compile error naming the limit.
printf '%s\n' 'policy "b"' 'issuer corp "https://idp.example.com" {' \
    '    audience "api"' '    algorithms ES256' '    jwks file "corp.jwks.json"' '}' \
    'route POST /a {' '    body json max 1k' '}' 'allow POST /a public' \
    'test "a large body" {' '    request POST /a' '    body json file "big.json"' \
    '    expect toolarge' '}' >"$d/b.ztp"
head -c 1048576 /dev/zero | tr '\0' ' ' >"$d/big.json"
rc "test with a 1 MiB body file" 0 "$zpc" test "$d/b.ztp"
printf ' ' >>"$d/big.json"
rc "test with a body file over 1 MiB" 1 "$zpc" test "$d/b.ztp"
grep -q 'cannot read body file .*big.json.*: larger than 1048576 bytes' "$tmp/got" \
    || report FAIL "a body file over 1 MiB is refused by name" "$tmp/got"

echo "1..$n"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
