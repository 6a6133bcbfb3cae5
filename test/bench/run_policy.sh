#!/bin/sh
# Decision-engine benchmark (docs/BENCHMARKS.md, "Decision engine"): build,
# generate policies of 10 to 100 000 rules, compile them with zpc, decide the
# same requests with the compiled table (bench_eval) and with Cedar
# (bench_cedar.mjs, @cedar-policy/cedar-wasm), and print one table.
#
#   test/bench/run_policy.sh                    # 10 1000 10000 100000 rules
#   test/bench/run_policy.sh 10 1000            # some sizes only
#
# Environment: ZT_BUILD (build directory, default build/ under the source
# tree, configured without sanitizers), ZT_BENCH_DIR (generated files,
# default $ZT_BUILD/bench-policy), ZT_SEED (1), ZT_REQUESTS (20000 per size),
# ZT_ROUNDS (5 timed passes), ZT_CEDAR_SECONDS (20 s of Cedar decisions per
# size; 0 skips Cedar), ZT_CEDAR_MAX_RULES (10000: cedar-wasm's parse of a
# larger set takes too long to wait for; see docs), ZT_NODE (node),
# ZT_CALLGRIND (1: count instructions per decision under callgrind when
# valgrind is installed -- a figure a busy machine does not move; 0: skip),
# ZT_PYTHON (/usr/bin/python3).
#
# Columns: zt p50/p99/mean are wall-clock ns of zt_route_match +
# zt_eval_decide, each request the best of ZT_ROUNDS; zt instr the
# instructions per decision; zt view ns the p50 of zt_eval_view, the
# claims looked up once per token (the token stage's work, kept by the
# token cache); Cedar's are CPU time per statefulIsAuthorized (best of
# 3), since its calls last long enough to be preempted.  A second table
# cuts each decision after its stages (bench_eval -s: the route match, the
# read of the route's program entry, of its block's first line), and a
# third gives bench_memlat's cost of one dependent load at random in 1 to
# 64 MiB: the floor under each table line no recent decision read.
#
# The language features the generator uses beyond the basic ones (numeric
# orderings, client.ip, tls.version, time.*, * and ** routes, include) are
# those this zpc compiles: each is probed with a small policy first.
# Every decision of both engines is checked against the generator's own:
# any difference fails the run (exit 1).  Decisions run on one CPU (taskset).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${ZT_BUILD:-$top/build}
work=${ZT_BENCH_DIR:-$build/bench-policy}
seed=${ZT_SEED:-1}
requests=${ZT_REQUESTS:-20000}
rounds=${ZT_ROUNDS:-5}
cedar_s=${ZT_CEDAR_SECONDS:-20}
cedar_max=${ZT_CEDAR_MAX_RULES:-10000}
callgrind=${ZT_CALLGRIND:-1}
command -v valgrind >/dev/null 2>&1 || callgrind=0
node=${ZT_NODE:-node}
python=${ZT_PYTHON:-/usr/bin/python3}
[ $# -gt 0 ] || set -- 10 1000 10000 100000

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$build" "$work"
cd "$build"
if [ ! -f Makefile ]; then
    "$top/configure" -q
elif grep -q '^SAN_CFLAGS = .*-fsanitize' Makefile; then
    echo "run_policy.sh: $build is built with sanitizers; set ZT_BUILD to another" \
         "directory" >&2
    exit 2
fi
make -s -j"$(nproc)" zpc/zpc bench >/dev/null
zpc=$build/zpc/zpc
one_cpu=""
if command -v taskset >/dev/null 2>&1; then
    one_cpu="taskset -c $(($(nproc) - 1))"
fi
if [ "$cedar_s" != 0 ] && [ ! -d "$top/test/interop/node_modules/@cedar-policy/cedar-wasm" ]; then
    (cd "$top/test/interop" && npm ci --silent >/dev/null) || {
        echo "run_policy.sh: npm ci in test/interop failed; ZT_CEDAR_SECONDS=0 skips Cedar" >&2
        exit 2
    }
fi

# --- which constructs does this zpc compile?
probe() {   # probe NAME: zpc check of a small policy using the feature
    d=$work/probe-$1
    mkdir -p "$d"
    {
        echo 'policy "probe"'
        echo 'issuer corp "https://idp.test" { audience "a" algorithms ES256 jwks file "k.json" }'
        case $1 in
        cmp)     echo 'route GET /a'; echo 'allow GET /a when token.level >= 2' ;;
        cidr)    echo 'route GET /a'; echo 'allow GET /a when client.ip in [10.0.0.0/8, 2001:db8::/32]' ;;
        tls)     echo 'route GET /a'; echo 'allow GET /a when tls.version < "TLSv1.2"' ;;
        time)    echo 'route GET /a'; echo 'allow GET /a when time.weekday in ["sat", "sun"]' ;;
        glob)    echo 'route GET /a/**'; echo 'route PUT /a/*/m'
                 echo 'allow GET /a/**, PUT /a/*/m when "x" in token.scope' ;;
        include) echo 'include "part.ztp"'
                 printf 'route GET /a\nallow GET /a when "x" in token.scope\n' >"$d/part.ztp" ;;
        esac
    } >"$d/p.ztp"
    "$zpc" check "$d/p.ztp" >/dev/null 2>&1
}
features=""
for f in cmp cidr tls time glob include; do
    if probe $f; then
        features=${features:+$features,}$f
    fi
done

echo "# machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg); decisions on one CPU${one_cpu:+ ($one_cpu)}"
echo "# commit $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo unknown);" \
     "features: ${features:-basic only}; seed $seed; $requests requests a size"
if [ "$cedar_s" != 0 ]; then
    echo "# node $($node --version), cedar-wasm $(cd "$top/test/interop" && $node -p \
        "require('./node_modules/@cedar-policy/cedar-wasm/package.json').version")"
fi

now_ns() { date +%s%N; }
status=0
results=$work/results.jsonl
: >"$results"
for n in "$@"; do
    d=$work/r$n
    $python "$top/test/bench/gen_policy.py" --rules "$n" --out "$d" --seed "$seed" \
        --requests "$requests" --features "$features" >"$d.meta" 2>"$d.err" || {
        echo "run_policy.sh: gen_policy.py failed for $n rules:" >&2; cat "$d.err" >&2; exit 2; }
    # compile: best of 3, or one run when it takes more than 5 s
    best=""
    for i in 1 2 3; do
        t0=$(now_ns)
        if ! "$zpc" compile "$d/policy.ztp" -o "$d/policy.ztb" >"$d/zpc.out" 2>&1; then
            best=failed
            break
        fi
        t=$(($(now_ns) - t0))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        [ "$t" -lt 5000000000 ] || break
    done
    zt="{}"
    cedar="{}"
    if [ "$best" = failed ]; then
        echo "run_policy.sh: zpc compile of $n rules failed:" >&2
        grep -m 3 'error' "$d/zpc.out" >&2 || true
        status=1
    else
        if zt=$($one_cpu "$build/test/bench/bench_eval" -r "$rounds" "$d/policy.ztb" "$d/requests.txt"); then :
        else
            echo "run_policy.sh: bench_eval failed for $n rules" >&2
            zt="{}"; status=1
        fi
        # where the time goes: the decision cut after each of its stages,
        # the four runs taken in turn three times (the median of each is
        # shown), so that a slow minute of the machine falls on all four
        stages=""
        for pass in 1 2 3; do
            for s in route entry line full; do
                j=$($one_cpu "$build/test/bench/bench_eval" -s $s -r "$rounds" \
                    "$d/policy.ztb" "$d/requests.txt") || { status=1; j="{}"; }
                stages="${stages:+$stages, }$j"
            done
        done
        [ "$zt" = "{}" ] || zt=$(printf '%s' "$zt" | sed "s/}\$/, \"stages\": [$stages]}/")
        if [ "$callgrind" != 0 ] && [ "$zt" != "{}" ]; then
            valgrind --tool=callgrind --callgrind-out-file="$d/callgrind.out" \
                --toggle-collect=zt_route_match --toggle-collect=zt_eval_decide \
                "$build/test/bench/bench_eval" -r 0 "$d/policy.ztb" "$d/requests.txt" \
                >/dev/null 2>"$d/callgrind.err" || { cat "$d/callgrind.err" >&2; status=1; }
            ir=$(sed -n 's/^summary: *//p' "$d/callgrind.out" 2>/dev/null || true)
            [ -z "$ir" ] || zt=$(printf '%s' "$zt" | sed "s/}\$/, \"ir\": $ir}/")
        fi
    fi
    if [ "$cedar_s" != 0 ] && [ "$n" -le "$cedar_max" ]; then
        if cedar=$($one_cpu "$node" --max-old-space-size=8192 "$top/test/bench/bench_cedar.mjs" \
                   "$d" --seconds "$cedar_s"); then :
        else
            echo "run_policy.sh: bench_cedar failed for $n rules" >&2
            status=1
            [ -n "$cedar" ] || cedar="{}"
        fi
    fi
    printf '{"n": %s, "compile_ns": "%s", "meta": %s, "zt": %s, "cedar": %s}\n' \
        "$n" "$best" "$(cat "$d.meta")" "$zt" "$cedar" >>"$results"
done

# the floor under a line no recent decision read: one dependent load at
# random in regions around the tables' sizes
$one_cpu "$build/test/bench/bench_memlat" 1 2 4 8 16 32 64 >"$work/memlat.jsonl" || status=1

$python - "$results" "$work/memlat.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lat = [json.loads(l) for l in open(sys.argv[2])]
head = ("rules", "routes", "compile s", "table bytes", "zt p50 ns", "zt p99 ns",
        "zt mean ns", "zt instr", "zt view ns", "cedar p50 ns cpu", "cedar p99 ns cpu", "cedar load s", "cedar n")
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---:" for _ in head) + "|")
def g(d, k, f="{:,}"):
    return f.format(d[k]) if k in d else "-"
for r in rows:
    zt, ce, c = r["zt"], r["cedar"], r["compile_ns"]
    print("| " + " | ".join([
        "{:,}".format(r["meta"]["rules"]), "{:,}".format(r["meta"]["routes"]),
        "%.3f" % (int(c) / 1e9) if c.isdigit() else c,
        g(zt, "table_bytes"), g(zt, "p50_ns"), g(zt, "p99_ns"), g(zt, "mean_ns", "{:,.0f}"),
        "{:,.0f}".format(zt["ir"] / zt["requests"]) if "ir" in zt else "-",
        g(zt, "view_p50_ns"),
        g(ce, "cpu_p50_ns"), g(ce, "cpu_p99_ns"),
        "%.2f" % (ce["load_ns"] / 1e9) if "load_ns" in ce else "-",
        g(ce, "timed")]) + " |")
print()
print("Where a decision's time goes (p50 ns of the decision cut after each stage;")
print("each the median of three runs taken in turn):")
print()
print("| rules | route match | + program entry | + block's first line | full decision |")
print("|---:|---:|---:|---:|---:|")
def median_p50(runs, stage):
    v = sorted(x["p50_ns"] for x in runs if x.get("stage") == stage)
    return "{:,}".format(v[len(v) // 2]) if v else "-"
for r in rows:
    st = r["zt"].get("stages", [])
    print("| " + " | ".join(["{:,}".format(r["meta"]["rules"])]
                            + [median_p50(st, s) for s in ("route", "entry", "line", "full")])
          + " |")
print()
print("One load that waits for the one before, at random in N MiB (bench_memlat):")
print()
print("| " + " | ".join("%d MiB" % x["mib"] for x in lat) + " |")
print("|" + "|".join("---:" for _ in lat) + "|")
print("| " + " | ".join("%.1f ns" % x["ns"] for x in lat) + " |")
print()
for r in rows:
    e, ce = r["meta"]["expect"], r["cedar"]
    cedar = "not run"
    if ce:
        cedar = "%d of %d agree (%d allow)" % (ce["requests"] - ce["mismatches"],
                                               ce["requests"], ce["allow"])
    print("# %s rules: expected %s; zpc+eval %s; cedar %s" % (
        r["meta"]["rules"], ", ".join("%s %d" % kv for kv in sorted(e.items())),
        "agrees on all" if r["zt"] else "NOT RUN", cedar))
EOF
exit $status
