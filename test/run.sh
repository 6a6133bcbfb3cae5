#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine:
#   unit tests (Check), zpc golden tests, fuzz-corpus replay  -- make check
#   the same under ASan + UBSan                               -- make check
#   end-to-end tests against a real Apache                    -- pytest
# Ends with one line "N passed, M failed" over every test case run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ZT_BUILD:-$top/build}
"$top/test/bootstrap.sh" || { echo "0 passed, 1 failed"; exit 1; }

logs=$build/test-logs
mkdir -p "$logs"

# make_check NAME DIR: run `make check` in DIR; sets pass/fail/skip counts.
make_check() {
    log=$logs/$1.log
    (cd "$2" && make -j"$(nproc)" check) >"$log" 2>&1
    grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP):' "$log" | tr '\n' ' '; echo
    grep -E '^(FAIL|ERROR|XPASS):' "$log" | head -n 50
    count() { sed -n "s/^# $1: *\([0-9]*\)$/\1/p" "$log" | tail -n 1; }
    c_pass=$(count PASS)
    if [ -z "$c_pass" ]; then
        echo "make check did not run its suite:"; tail -n 40 "$log"
        c_pass=0; c_fail=1; c_skip=0; return
    fi
    c_fail=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
    c_skip=$(count SKIP)
}

echo "== make check (unit, golden, fuzz corpus replay)"
make_check make-check "$build"
m_pass=$c_pass; m_fail=$c_fail; m_skip=$c_skip

# The same suite again, built with AddressSanitizer and UndefinedBehavior-
# Sanitizer: memory errors, leaks and UB in the core fail it.
if [ "${ZT_SKIP_ASAN:-0}" != 1 ]; then
    echo "== make check under ASan + UBSan"
    asan=$build-asan
    mkdir -p "$asan"
    if (cd "$asan" && { [ -f Makefile ] || "$top/configure" -q --enable-sanitizers; } \
            && make -s -j"$(nproc)" >/dev/null) >"$logs/asan-build.log" 2>&1; then
        make_check make-check-asan "$asan"
    else
        tail -n 40 "$logs/asan-build.log"; c_pass=0; c_fail=1; c_skip=0
    fi
    m_pass=$((m_pass + c_pass)); m_fail=$((m_fail + c_fail)); m_skip=$((m_skip + c_skip))
fi

echo "== end-to-end (pytest, real Apache on 127.0.0.1)"
ZT_E2E_CONFIG=$build/test/e2e/config.ini \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q -rfEs "$top/test/e2e" \
    >"$logs/pytest.log" 2>&1
tail -n 30 "$logs/pytest.log"
summary=$(grep -E '(passed|failed|errors?|skipped|no tests ran).* in [0-9.]+s' \
    "$logs/pytest.log" | tail -n 1)
num() { printf '%s\n' "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
p_pass=$(num passed); p_fail=$(num failed); p_err=$(num 'errors?'); p_skip=$(num skipped)
if [ -z "$summary" ]; then
    echo "pytest did not finish its run"; p_fail=$((p_fail + 1))
fi

passed=$((m_pass + p_pass))
failed=$((m_fail + p_fail + p_err))
skipped=$((m_skip + p_skip))
echo "logs: $logs"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
