#!/bin/sh
# Replay every fuzz corpus through its target (TAP).  Run by `make check`.
# Each target's corpus is test/fuzz/corpus/<target without "fuzz_">/.
set -u
src=${ZT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${ZT_BUILDDIR:-$src}
n=0; failed=0
for t in table_load zpc_parse token query jdoc validate dfa dpop jschema xml route \
         jescape; do
    bin=$bld/test/fuzz/fuzz_$t
    dir=$src/test/fuzz/corpus/$t
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        if out=$("$bin" "$f" 2>&1); then
            echo "ok $n - $t $(basename "$f")"
        else
            failed=1
            echo "not ok $n - $t $(basename "$f")"
            printf '%s\n' "$out" | sed 's/^/# /' | tail -n 20
        fi
    done
done
echo "1..$n"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
