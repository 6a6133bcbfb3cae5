#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""End-to-end benchmark (issue #7, docs/BENCHMARKS.md "End to end (wrk)"):
plain Apache (sent the same request, token included, which it ignores),
Apache + mod_zerotrust (ES256, RS256, EdDSA; a 10 000-rule policy; audit
log on; and ES256 with ZeroTrustAuditBuffer), Apache + mod_auth_openidc
and Apache + mod_oauth2 (ES256, RS256), measured with wrk on 127.0.0.1 in one run, each with one
token reused and with a distinct token per request.

Every server must first answer 200 to a good token and 401 (or 403 for a
missing role) to each bad one; the run stops if one does not.  Each
round measures the configurations in a new (seeded) order; the table shows
medians and each row's range over the rounds.  Run through
test/bench/e2e/run.sh, which builds the module first."""

import argparse
import collections
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(TOP, "test/e2e"))

import zt_e2e                   # noqa: E402
import gen_policy               # noqa: E402
import servers                  # noqa: E402
import tokens                   # noqa: E402

# openssl speed -mr lines: +F2 rsa, +F4 ecdsa, +F6 eddsa; verify/s last.
SPEED_LINE = {"RS256": ("+F2", "2048"), "ES256": ("+F4", "256"),
              "EdDSA": ("+F6", "253")}


# Fewer distinct tokens would let a process see the same ones again while
# its verified-token cache (4096 entries, LRU) still holds them.
MIN_TOKENS = 20000


def log(msg):
    print(msg, flush=True)


def fail(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------------------
# Set-up

def make_servers(cfg, work, jwks, jwks_url, policies, role, a):
    """The servers, not started: [Server].  @policies: {"large": table,
    "small": table}."""
    made = []
    only = a.only

    def add(name, body, algs):
        if only and name not in only:
            return
        made.append(servers.Server(cfg, os.path.join(work, name), name,
                                   body, algs))

    fmt = dict(issuer=tokens.ISSUER, audience=tokens.AUDIENCE, role=role,
               sysmods=servers.SYSTEM_MODULES)
    add("plain", servers.PLAIN, ())
    zt_algs = ("ES256", "RS256", "EdDSA")
    add("zerotrust", servers.ZEROTRUST.format(
        module=cfg.module, policy=policies["large"], audit=""), zt_algs)
    # The same with ZeroTrustAuditBuffer (an operator's choice: a crashed
    # child loses what it holds; docs/DIRECTIVES.md).
    add("zt-buffered", servers.ZEROTRUST.format(
        module=cfg.module, policy=policies["large"],
        audit="ZeroTrustAuditBuffer 64K\n"), ("ES256",))
    if a.variants or only & {"zt-no-audit", "zt-4-rules"}:
        # Where the time goes: without the audit log, and with a policy of
        # the measured service alone (4 rules).
        add("zt-no-audit", servers.ZEROTRUST.format(
            module=cfg.module, policy=policies["large"], audit="# "),
            ("ES256",))
        add("zt-4-rules", servers.ZEROTRUST.format(
            module=cfg.module, policy=policies["small"], audit=""),
            ("ES256",))
    add("openidc", servers.OPENIDC.format(jwks_url=jwks_url, **fmt),
        ("ES256", "RS256"))
    for alg in ("ES256", "RS256"):
        add("oauth2-" + alg,
            servers.OAUTH2.format(jwk=jwks[alg].replace('"', '\\"'), **fmt),
            (alg,))
    return made


def http_get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def first_last(path):
    with open(path) as f:
        first = f.readline().strip()
        f.seek(max(0, os.path.getsize(path) - 4096))
        last = f.read().strip().splitlines()[-1]
    return first, last


def check_refusals(srv, url, keys, role, token_files):
    """200 for good tokens (the first and last of each token file), 401
    without a token and for each bad token; 401 or 403 when the role is
    missing (a policy refusal is 403 in mod_zerotrust).  Returns lines to
    print; exits on the first wrong answer."""
    lines = []
    want = {"no token": (401,)}
    got = {"no token": http_get(url)}
    for alg in srv.algs:
        good = [keys.valid(alg, role)] + list(first_last(token_files[alg]))
        for i, tok in enumerate(good):
            got["%s good #%d" % (alg, i)] = http_get(url, tok)
            want["%s good #%d" % (alg, i)] = (200,)
        for case, tok in keys.bad(alg, role).items():
            name = "%s %s" % (alg, case)
            got[name] = http_get(url, tok)
            want[name] = (401, 403) if case == "role missing" else (401,)
    if srv.name == "zerotrust" or srv.name.startswith("zt-"):
        # the route's contract is enforced too: a query value of the
        # wrong type is refused even with a good token
        bad_query = url.replace("version=2", "version=two")
        for alg in srv.algs:
            name = "%s good, bad query" % alg
            got[name] = http_get(bad_query, keys.valid(alg, role))
            want[name] = (400,)
    for name, status in got.items():
        if status not in want[name]:
            fail("%s answered %d to '%s' (want %s); error log: %s"
                 % (srv.name, status, name,
                    " or ".join(map(str, want[name])), srv.errlog.path))
    refused = sorted({s for n, s in got.items() if want[n] != (200,)})
    lines.append("  %-14s good tokens 200; %d bad cases refused (%s)"
                 % (srv.name, sum(1 for w in want.values() if w != (200,)),
                    "/".join(map(str, refused))))
    return lines


# ---------------------------------------------------------------------------
# Measuring

def run_wrk(url, a, token=None, token_file=None, start=0):
    env = dict(os.environ)
    cmd = ["wrk", "-t", str(a.threads), "-c", str(a.connections),
           "-d", "%ds" % a.duration, "--timeout", "10s",
           "-s", os.path.join(HERE, "wrk.lua")]
    env.pop("ZT_TOKENS", None)
    if token_file:
        env.update(ZT_TOKENS=token_file, ZT_START=str(start),
                   ZT_THREADS=str(a.threads))
    elif token:
        cmd += ["-H", "Authorization: Bearer " + token]
    p = subprocess.run(cmd + [url], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env,
                       timeout=a.duration + 120)
    out = p.stdout.decode("utf-8", "replace")
    for line in out.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            res["rps"] = res["requests"] * 1e6 / res["duration_us"]
            return res
    fail("wrk printed no result (exit %d):\n%s" % (p.returncode, out))


class Case:
    """One row of the table: a server, a token algorithm, a token mode.
    Plain Apache gets the same request as the others (an ES256 token it
    ignores): the ceiling serves the same bytes.  With alg None it gets no
    Authorization header at all (--variants), to show what the header
    costs."""

    def __init__(self, srv, alg, mode):
        self.srv, self.alg, self.mode = srv, alg, mode
        self.results = []

    @property
    def label(self):
        if self.srv.name != "plain":
            return self.srv.name
        return "plain (same request)" if self.alg else "plain (no token)"

    @property
    def token(self):
        if self.srv.name != "plain":
            return "%s %s" % (self.alg, self.mode)
        if not self.alg:
            return "none"
        return "%s %s (ignored)" % (self.alg, self.mode)

    def median(self, key):
        return statistics.median(r[key] for r in self.results)

    def spread(self, key):
        """min-max of @key over the rounds: a difference smaller than
        this is noise, not the configuration."""
        vals = [r[key] for r in self.results]
        return "%.0f-%.0f" % (min(vals), max(vals))


def measure(cases, a, url_path, token_files, keys, role):
    reused = {alg: keys.valid(alg, role) for alg in tokens.ALGS}
    offsets = {alg: 0 for alg in tokens.ALGS}
    n_tokens = a.tokens
    # A new order each round (seeded: a rerun repeats it): a rotation
    # kept neighbours together, so ES256 ran first of the three tokens in
    # two rounds of three, and a drift in the machine's load read as a
    # difference between algorithms (docs/BENCHMARKS.md).
    rng = random.Random(a.seed)
    for rnd in range(a.rounds):
        order = list(cases)
        rng.shuffle(order)
        log("round %d/%d (load %s)" % (rnd + 1, a.rounds, loadavg()))
        for c in order:
            url = c.srv.url + url_path
            cpu0 = c.srv.cpu_seconds()
            if not c.alg:
                res = run_wrk(url, a)
            elif c.mode == "reused":
                res = run_wrk(url, a, token=reused[c.alg])
            else:
                start = offsets[c.alg]
                res = run_wrk(url, a, token_file=token_files[c.alg],
                              start=start)
                offsets[c.alg] = (start + res["requests"]) % n_tokens
                res["wrapped"] = res["requests"] > n_tokens
            res["cpu_us"] = ((c.srv.cpu_seconds() - cpu0) * 1e6
                             / max(1, res["requests"]))
            bad = {k: res[k] for k in ("connect", "read", "write", "status",
                                       "timeout") if res[k]}
            log("  %-20s %-6s %-8s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms"
                "  server CPU %4.0f us/req%s"
                % (c.label, c.alg or "-", c.mode, res["rps"],
                   res["p50_us"] / 1e3,
                   res["p99_us"] / 1e3, res["cpu_us"],
                   ("  ERRORS %s" % bad) if bad else ""))
            if bad.get("status"):
                fail("%s answered %d requests with a status other than 2xx "
                     "or 3xx; see %s" % (c.srv.name, bad["status"],
                                          c.srv.errlog.path))
            c.results.append(res)


def openssl_speed(seconds):
    """{alg: verify/s} from one `openssl speed` run."""
    p = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "-mr",
                        "ecdsap256", "rsa2048", "ed25519"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=120)
    rates = {}
    for line in p.stdout.decode().splitlines():
        f = line.split(":")
        for alg, (tag, bits) in SPEED_LINE.items():
            if f[0] == tag and f[2] == bits:
                rates[alg] = float(f[-1])
    if set(rates) != set(SPEED_LINE):
        fail("openssl speed printed no verify rate for %s"
             % ", ".join(sorted(set(SPEED_LINE) - set(rates))))
    return rates


# ---------------------------------------------------------------------------
# Where the time goes: perf on the children

PERF_HZ = 999


def perf_rows(data):
    """[(samples, dso, symbol)] of a perf.data file, most first."""
    p = subprocess.run(["perf", "report", "-i", data, "--stdio", "-q",
                        "--sort", "dso,sym", "-F", "sample,dso,sym",
                        "-t", ";"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=600)
    rows = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = [x.strip() for x in line.split(";")]
        if len(f) == 3 and f[0].isdigit():
            rows.append((int(f[0]), f[1], f[2]))
    return sorted(rows, reverse=True)


def profile(srvs, a, url_path, keys, role, work):
    """perf record -F 999 on each server's children during one wrk run
    with one token reused; prints the server CPU per request that the
    samples show, by DSO, and the top symbols."""
    for s in srvs:
        alg = (s.algs or ("ES256",))[0]
        data = os.path.join(work, "perf-%s.data" % s.name)
        rec = subprocess.Popen(["perf", "record", "-q", "-F", str(PERF_HZ),
                                "-o", data, "-p",
                                ",".join(str(p) for p in s.children())],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1)                   # perf attaches
        res = run_wrk(s.url + url_path, a, token=keys.valid(alg, role))
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=120)
        rows = perf_rows(data)
        total = sum(r[0] for r in rows)
        if not rows or not res["requests"]:
            fail("perf recorded nothing for %s (perf installed? "
                 "kernel.perf_event_paranoid?)" % s.name)

        def us(n):
            return n * 1e6 / PERF_HZ / res["requests"]

        by_dso = collections.Counter()
        for n, dso, _ in rows:
            by_dso[dso] += n
        log("")
        log("%s, %s reused: %.0f req/s, %.0f us of server CPU per request "
            "in perf samples (%d samples, %d requests)"
            % (s.name, alg, res["rps"], us(total), total, res["requests"]))
        log("  by object: " + ", ".join("%s %.1f" % (d, us(n)) for d, n
                                        in by_dso.most_common(8)))
        for n, dso, sym in rows[:a.profile_top]:
            log("  %6.2f us %5.1f%%  %-22s %s"
                % (us(n), 100.0 * n / total, dso[:22], sym))


# ---------------------------------------------------------------------------
# The table

def report(cases, mem, speed, a, load_before, load_after):
    plain = {c.mode: c.median("rps") for c in cases
             if c.srv.name == "plain" and c.alg}
    log("")
    log("| config | token | req/s | p50 ms | p99 ms | × plain | bound req/s "
        "| × bound | server CPU µs/req | (rounds' range) |")
    log("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c in cases:
        rps = c.median("rps")
        base = plain.get(c.mode)
        ratio = "%.2f" % (rps / base) if base else "–"
        bound = bound_ratio = ""
        if c.mode == "distinct" and c.alg in speed and base \
                and c.srv.name != "plain":
            b = 1.0 / (1.0 / base + 1.0 / speed[c.alg])
            bound, bound_ratio = "%.0f" % b, "%.2f" % (rps / b)
        wrapped = " (tokens reused in a cycle)" \
            if any(r.get("wrapped") for r in c.results) else ""
        log("| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %.0f | %s |%s"
            % (c.label, c.token, rps, c.median("p50_us") / 1e3,
               c.median("p99_us") / 1e3, ratio, bound, bound_ratio,
               c.median("cpu_us"), c.spread("cpu_us"), wrapped))
    log("")
    log("openssl speed verify/s (one core): "
        + ", ".join("%s %.0f" % (k, v) for k, v in sorted(speed.items())))
    log("bound = 1 / (1/plain(distinct) + 1/openssl verify); rows 'distinct' "
        "send a new token per request (%d minted per algorithm)" % a.tokens)
    log("plain (same request): plain Apache is sent the same request as "
        "the ES256 rows, Authorization header included, and ignores it")
    log("server CPU µs/req: user + system time of the server's processes "
        "during the measurement, per request (steadier than req/s on a "
        "busy machine); the range is its lowest and highest round: rows "
        "whose ranges overlap do not differ beyond the machine's noise")
    goals(cases, plain, speed)
    log("")
    log("| server | children | Rss per child KiB | Pss per child KiB "
        "| private per child KiB | master Rss KiB |")
    log("|---|--:|--:|--:|--:|--:|")
    for name, (master, kids) in mem.items():
        if not kids:
            continue
        log("| %s | %d | %.0f | %.0f | %.0f | %d |"
            % (name, len(kids), statistics.mean(k[0] for k in kids),
               statistics.mean(k[1] for k in kids),
               statistics.mean(k[2] for k in kids), master[0]))
    log("(private = Private_Clean + Private_Dirty: what each further "
        "process adds)")
    log("")
    log("load average before %s, after %s" % (load_before, load_after))


def goals(cases, plain, speed):
    """The issue's goals for mod_zerotrust, per algorithm, as measured."""
    rps = {(c.srv.name, c.alg, c.mode): c.median("rps") for c in cases}
    peers = ("openidc", "oauth2-ES256", "oauth2-RS256")
    log("")
    log("goals (issue #7), mod_zerotrust:")
    for alg in tokens.ALGS:
        line = []
        r = rps.get(("zerotrust", alg, "reused"))
        best = max([rps.get((p, alg, "reused"), 0) for p in peers])
        if r and plain.get("reused"):
            line.append("reused %.2f x plain (goal 0.95)"
                        % (r / plain["reused"]))
        if r and best:
            line.append("%.1f x best peer (goal 2)" % (r / best))
        d = rps.get(("zerotrust", alg, "distinct"))
        best = max([rps.get((p, alg, "distinct"), 0) for p in peers])
        if d and plain.get("distinct"):
            b = 1.0 / (1.0 / plain["distinct"] + 1.0 / speed[alg])
            line.append("distinct %.2f x bound (goal 0.9)" % (d / b))
        if d and best:
            line.append("%.2f x best peer (goal >= 1)" % (d / best))
        if line:
            log("  %-5s %s" % (alg, "; ".join(line)))
    r = rps.get(("zt-buffered", "ES256", "reused"))
    if r and plain.get("reused"):
        log("  ES256 with ZeroTrustAuditBuffer 64K: reused %.2f x plain "
            "(goal 0.95)" % (r / plain["reused"]))


# ---------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-d", "--duration", type=int, default=5,
                    help="seconds per measurement (5)")
    ap.add_argument("-r", "--rounds", type=int, default=3,
                    help="rounds; the table shows medians (3)")
    ap.add_argument("-c", "--connections", type=int, default=32,
                    help="wrk connections (32)")
    ap.add_argument("-t", "--threads", type=int, default=2,
                    help="wrk threads (2)")
    ap.add_argument("--seed", type=int, default=7,
                    help="seed of the rounds' orders (7)")
    ap.add_argument("-n", "--tokens", type=int, default=100000,
                    help="distinct tokens minted per algorithm (100000)")
    ap.add_argument("-s", "--services", type=int, default=2500,
                    help="policy services, 4 rules each (2500: 10 000 rules)")
    ap.add_argument("--only", default="",
                    help="comma-separated servers: plain, zerotrust, "
                         "zt-buffered, openidc, oauth2-ES256, oauth2-RS256, "
                         "zt-no-audit, zt-4-rules (all but the last two; "
                         "--variants)")
    ap.add_argument("--modes", default="reused,distinct",
                    help="token modes (reused,distinct)")
    ap.add_argument("--speed-seconds", type=int, default=2,
                    help="openssl speed -seconds (2)")
    ap.add_argument("--variants", action="store_true",
                    help="also mod_zerotrust without the audit log, and with "
                         "a 4-rule policy (where the time goes), and plain "
                         "Apache without the Authorization header")
    ap.add_argument("--profile", action="store_true",
                    help="instead of the table: perf record each server's "
                         "children during one wrk run of -d seconds with "
                         "the token reused, and print its CPU per request "
                         "by object and the top symbols")
    ap.add_argument("--profile-top", type=int, default=15,
                    help="symbols listed per server with --profile (15)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (servers' logs)")
    ap.add_argument("--hold", action="store_true",
                    help="after the checks, print the servers' URLs and wait "
                         "for Enter before measuring (to attach perf)")
    a = ap.parse_args()
    if a.duration < 1 or a.rounds < 1 or a.threads < 1 \
            or a.connections < a.threads or a.tokens < MIN_TOKENS:
        ap.error("duration, rounds >= 1; connections >= threads; "
                 "tokens >= %d" % MIN_TOKENS)
    a.only = {s for s in a.only.split(",") if s}
    a.modes = [m for m in a.modes.split(",") if m]
    if not set(a.modes) <= {"reused", "distinct"}:
        ap.error("modes: reused, distinct")
    return a


def main():
    a = parse_args()
    # A killed run still stops its servers (the finally below); the
    # minting pool's workers, forked with this handler, just end.
    main_pid = os.getpid()

    def on_term(*_):
        if os.getpid() != main_pid:
            os._exit(128 + signal.SIGTERM)
        sys.exit("bench: terminated")
    signal.signal(signal.SIGTERM, on_term)
    if not shutil.which("wrk"):
        fail("wrk is not installed (apt-get install wrk)")
    try:
        cfg = zt_e2e.Config(zt_e2e.find_config())
        cfg.check()
    except zt_e2e.SetupError as e:
        fail(str(e))
    for mod in ("mod_auth_openidc.so", "mod_oauth2.so"):
        if not os.path.isfile(os.path.join(servers.SYSTEM_MODULES, mod)):
            fail("%s missing (apt-get install libapache2-mod-auth-openidc "
                 "libapache2-mod-oauth2)" % mod)

    load_before = loadavg()
    commit = subprocess.run(["git", "-C", TOP, "rev-parse", "--short",
                             "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain",
                            "-uno", "--", "mod_zerotrust", "zpc"],
                           stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL).stdout.decode().strip()
    log("# %d CPUs, %s; %s; commit %s%s; load %s"
        % (os.cpu_count(), cpu_model(), apache_version(cfg), commit or "?",
           " with uncommitted changes" if dirty else "", load_before))
    log("# module %s" % cfg.module)
    log("# wrk -t %d -c %d -d %ds, %d rounds in shuffled order (seed %d); "
        "MPM event 2 x 32 threads"
        % (a.threads, a.connections, a.duration, a.rounds, a.seed))

    work = tempfile.mkdtemp(prefix="zt-bench-e2e-")
    os.chmod(work, 0o755)
    started = []
    try:
        keydir = os.path.join(work, "keys")
        os.makedirs(keydir)
        os.chmod(keydir, 0o755)
        keys = tokens.Keys()
        jwks = keys.write(keydir)
        mid = a.services // 2
        role = "%s:read" % gen_policy.service_name(mid)
        url_path = ("/%s/orders/42?fields=id,status&version=2"
                    % gen_policy.service_name(mid))

        policies = {}
        for name, count, first in (("large", a.services, 0),
                                   ("small", 1, mid)):
            src = os.path.join(keydir, "bench-%s.ztp" % name)
            with open(src, "w") as f:
                f.write(gen_policy.policy(count, first))
            t0 = time.time()
            policies[name] = zt_e2e.compile_policy(cfg, src,
                                                   src[:-4] + ".ztb")
            log("policy %s: %d rules, %d routes, compiled in %.1f s, "
                "table %d KiB" % (name, count * gen_policy.RULES_PER_SERVICE,
                                  count * gen_policy.ROUTES_PER_SERVICE,
                                  time.time() - t0,
                                  os.path.getsize(policies[name]) // 1024))

        jwks_srv = servers.JwksServer(keydir,
                                      os.path.join(keydir, "peers.jwks.json"))
        srvs = make_servers(cfg, work, jwks, jwks_srv.url, policies, role,
                            a)
        if not srvs:
            fail("no server left by --only")
        algs = sorted({alg for s in srvs for alg in s.algs} | {"ES256"})
        token_files = {}
        for alg in algs:
            path = os.path.join(work, alg + ".tokens")
            secs = tokens.mint_file(path, alg, keys.good[alg], role,
                                    a.tokens)
            token_files[alg] = path
            log("minted %d %s tokens in %.1f s" % (a.tokens, alg, secs))

        for s in srvs:
            rc, out = s.configtest()
            if rc != 0:
                fail("%s: configtest failed:\n%s" % (s.name, out))
            s.start()
            started.append(s)
        log("refusals, checked before measuring:")
        for s in srvs:
            if s.algs:
                for line in check_refusals(s, s.url + url_path, keys, role,
                                           token_files):
                    log(line)
            elif http_get(s.url + url_path) != 200:
                fail("%s does not serve %s" % (s.name, url_path))

        for s in srvs:
            s.errlog.mark()     # the checks' refusals are logged, rightly
        if a.hold:
            for s in srvs:
                log("  %s %s children %s" % (s.name, s.url, s.children()))
            input("measure? [Enter] ")

        if a.profile:
            profile(srvs, a, url_path, keys, role, work)
            return

        cases = []
        for mode in a.modes:
            for s in srvs:
                for alg in (s.algs or ("ES256",)):
                    cases.append(Case(s, alg, mode))
                if s.name == "plain" and a.variants and mode == "reused":
                    cases.append(Case(s, None, mode))
        measure(cases, a, url_path, token_files, keys, role)

        # A server whose state went bad under load (a context or cache
        # corrupted by a race) would now refuse what it accepted before.
        for s in srvs:
            for alg in s.algs:
                status = http_get(s.url + url_path, keys.valid(alg, role))
                if status != 200:
                    fail("%s answered %d to a fresh good %s token after the "
                         "measurements (200 before them); error log: %s"
                         % (s.name, status, alg, s.errlog.path))

        mem = {}
        for s in srvs:
            m = s.memory_kib()
            master = m.pop(s.pid(), (0, 0, 0))
            mem[s.name] = (master, list(m.values()))
        log("openssl speed -seconds %d ecdsap256 rsa2048 ed25519 ..."
            % a.speed_seconds)
        speed = openssl_speed(a.speed_seconds)
        for s in srvs:
            bad = s.errlog.bad_lines(s.errlog.since())
            if bad:
                log("%s: %d error lines while measuring, first: %s"
                    % (s.name, len(bad), bad[0]))
        report(cases, mem, speed, a, load_before, loadavg())
    finally:
        for s in started:
            s.stop()
        if a.keep:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def apache_version(cfg):
    p = subprocess.run([cfg.httpd, "-v"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    first = p.stdout.decode().splitlines()[0] if p.stdout else "?"
    return first.split(":", 1)[-1].strip()


if __name__ == "__main__":
    main()
