#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine:
#   unit tests (Check), zpc golden tests, fuzz-corpus replay  -- make check
#   end-to-end tests against a real Apache                    -- pytest
# Ends with one line "N passed, M failed" over every test case run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ZT_BUILD:-$top/build}
"$top/test/bootstrap.sh" || { echo "0 passed, 1 failed"; exit 1; }

logs=$build/test-logs
mkdir -p "$logs"

echo "== make check (unit, golden, fuzz corpus replay)"
(cd "$build" && make -j"$(nproc)" check) >"$logs/make-check.log" 2>&1
sed -n '/^=*$/,$p' "$logs/make-check.log" | grep -E '^(# |FAIL|ERROR|XPASS)' || true
grep -E '^(FAIL|ERROR|XPASS):' "$logs/make-check.log" | head -n 50
count() { sed -n "s/^# $1: *\([0-9]*\)$/\1/p" "$logs/make-check.log" | tail -n 1; }
m_pass=$(count PASS); m_fail=$(count FAIL); m_err=$(count ERROR)
m_xpass=$(count XPASS); m_skip=$(count SKIP)
if [ -z "$m_pass" ]; then
    echo "make check did not run its suite:"; tail -n 40 "$logs/make-check.log"
    m_pass=0; m_fail=1; m_err=0; m_xpass=0; m_skip=0
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
failed=$((m_fail + m_err + m_xpass + p_fail + p_err))
skipped=$((m_skip + p_skip))
echo "logs: $logs"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
