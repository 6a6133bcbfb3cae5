// Licensed under the Apache License, Version 2.0 (the "License"); you may
// not use this file except in compliance with the License.  You may obtain
// a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
//
// The Cedar side of the decision-engine benchmark (docs/BENCHMARKS.md):
// the rules gen_policy.py wrote as policy.cedar, decided by
// @cedar-policy/cedar-wasm (test/interop/package.json) on the requests of
// cedar_requests.jsonl, each checked against the generator's verdict.
//
//   node test/bench/bench_cedar.mjs DIR [--seconds S] [--max N] [--rounds R]
//
// The policy set is parsed once (preparsePolicySet, timed as the load);
// each decision is statefulIsAuthorized on it, timed per call with
// process.hrtime.bigint() less the timer's own cost, and in CPU time
// (process.cpuUsage, microseconds: fine for calls of 0.1 ms and more, and
// what a machine shared with other jobs does not inflate).  As in bench_eval, a
// request's cost is the best of R (3) interleaved rounds, so that a busy
// machine's preemption does not make the percentiles.  At large sizes one
// decision takes milliseconds, so the first round stops after S/R seconds
// of decisions (S defaults to 20; at least 100 requests are timed) and the
// others repeat the requests it reached.  Prints one JSON line; exits 1
// when a decision differs from the generator's.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'interop', 'package.json'));
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

const args = process.argv.slice(2);
if (args.length < 1) {
    console.error('usage: bench_cedar.mjs DIR [--seconds S] [--max N]');
    process.exit(2);
}
const dir = args[0];
let seconds = 20, max = Infinity, rounds = 3;
for (let i = 1; i < args.length; i += 2) {
    if (args[i] === '--seconds') seconds = Number(args[i + 1]);
    else if (args[i] === '--max') max = Number(args[i + 1]);
    else if (args[i] === '--rounds') rounds = Math.max(1, Number(args[i + 1]));
    else { console.error(`bench_cedar: unknown option ${args[i]}`); process.exit(2); }
}

const policies = readFileSync(join(dir, 'policy.cedar'), 'utf8');
const requests = readFileSync(join(dir, 'cedar_requests.jsonl'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));

let t0 = process.hrtime.bigint();
const parsed = cedar.preparsePolicySet('bench', { staticPolicies: policies });
const loadNs = Number(process.hrtime.bigint() - t0);
if (parsed.type !== 'success') {
    console.error('bench_cedar: policy.cedar does not parse:',
                  JSON.stringify(parsed.errors.slice(0, 3)));
    process.exit(1);
}

const calls = requests.map((r) => ({
    principal: r.principal, action: r.action, resource: r.resource,
    context: r.context, preparsedPolicySetId: 'bench', entities: [],
}));

// The timer's own cost, subtracted from every sample.
const overhead = [];
for (let i = 0; i < 10000; i++) {
    const a = process.hrtime.bigint();
    overhead.push(Number(process.hrtime.bigint() - a));
}
overhead.sort((a, b) => a - b);
const timer = overhead[overhead.length >> 1];

const warmup = Math.min(10, calls.length);
let allow = 0, mismatches = 0, errors = 0, done = 0;

function decide(i) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const ans = cedar.statefulIsAuthorized(calls[i]);
    const ns = Number(process.hrtime.bigint() - t0) - timer;
    const cpu = process.cpuUsage(c0);
    if (ans.type !== 'success') {
        console.error('bench_cedar: request', i, 'failed:', JSON.stringify(ans.errors));
        process.exit(1);
    }
    return [ans.response, Math.max(ns, 0), (cpu.user + cpu.system) * 1000];
}

// Round 0 checks every decision it makes against the generator's.
const best = [], bestCpu = [];
const budget = BigInt(Math.round(seconds * 1e9 / rounds));
const start = process.hrtime.bigint();
for (let i = 0; i < calls.length && done < max; i++) {
    const [res, ns, cpu] = decide(i);
    const got = res.decision;
    errors += res.diagnostics.errors.length > 0 ? 1 : 0;
    if (got === 'allow') allow++;
    if ((got === 'allow') !== (requests[i].expect === 'allow')) {
        if (mismatches < 5) {
            console.error(`bench_cedar: request ${i} (${requests[i].action.id}) expected`,
                          `${requests[i].expect}, Cedar says ${got}`);
        }
        mismatches++;
    }
    done++;
    best.push(ns);
    bestCpu.push(cpu);
    if (i >= warmup + 100 && process.hrtime.bigint() - start > budget) break;
}
for (let r = 1; r < rounds; r++) {
    for (let i = 0; i < done; i++) {
        const [, ns, cpu] = decide(i);
        best[i] = Math.min(best[i], ns);
        bestCpu[i] = Math.min(bestCpu[i], cpu);
    }
}
const sorted = (a) => a.slice(warmup).sort((x, y) => x - y);
const pct = (a, p) => a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : 0;
const samples = sorted(best), cpus = sorted(bestCpu);
const mean = samples.reduce((s, x) => s + x, 0) / Math.max(samples.length, 1);
console.log(JSON.stringify({
    cedar: cedar.getCedarVersion(), requests: done, timed: samples.length, rounds,
    load_ns: loadNs, p50_ns: pct(samples, 0.5), p99_ns: pct(samples, 0.99),
    mean_ns: Math.round(mean), cpu_p50_ns: pct(cpus, 0.5), cpu_p99_ns: pct(cpus, 0.99),
    timer_ns: timer, allow, eval_errors: errors, mismatches,
}));
process.exit(mismatches ? 1 : 0);
