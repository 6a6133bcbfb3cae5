#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Instructions per request of the end-to-end bench's mod_zerotrust server
with one token reused, per algorithm: one `apache2 -X` under callgrind,
run twice per token (50 and 50 + N requests on one keep-alive connection);
the difference over N cancels start-up and the first, verifying, request.
Steady where server CPU time is not (docs/BENCHMARKS.md, "Where the time
goes").

  ZT_E2E_CONFIG=$build/test/e2e/config.ini \\
      test/bench/e2e/instr.py [-n 300] [--audit on|off|buffer]
                              [--plain] [--keep DIR] [--only FN] [ALG ...]

--plain measures plain Apache with the same request and header instead
(the ceiling of the req/s table); --keep DIR keeps the callgrind files,
with a count per instruction, for callgrind_annotate; --only FN counts
only inside function FN and what it calls (callgrind --toggle-collect):
the cost of one stage alone, e.g. zt_audit_write, without the noise of
the whole process.
"""

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(TOP, "test/e2e"))

import zt_e2e                   # noqa: E402
import gen_policy               # noqa: E402
import servers                  # noqa: E402
import tokens                   # noqa: E402

AUDIT = {"on": "", "off": "# ", "buffer": "ZeroTrustAuditBuffer 64K\n"}
WARM = 50


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit("instr: no totals in %s" % path)


def run(cfg, srv, url_path, token, n, out, only=None, instr=False):
    """Total instructions of an apache2 -X that answered @n requests (in
    function @only alone, if given); @instr keeps a count per instruction
    in @out, for a look at the machine code."""
    # The child runs as www-data when we are root: the file must be its.
    open(out, "w").close()
    os.chmod(out, 0o666)
    collect = ["--toggle-collect=" + only] if only else []
    if instr:
        collect.append("--dump-instr=yes")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--vgdb=no",
                          "--callgrind-out-file=" + out] + collect
                         + [cfg.httpd, "-X", "-f", srv.conf], cwd=srv.root,
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 300   # valgrind on a busy machine
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                                  timeout=60)
                conn.connect()
                break
            except OSError:
                if p.poll() is not None:
                    raise SystemExit("instr: apache2 -X ended (%d): %s%s"
                                     % (p.returncode,
                                        p.stderr.read().decode()[-2000:],
                                        srv.errlog.all()[-2000:]))
                if time.time() > deadline:
                    raise SystemExit("instr: apache2 -X did not listen")
                time.sleep(0.2)
        for _ in range(n):
            conn.request("GET", url_path,
                         headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit("instr: %d to a good token; see %s"
                                 % (r.status, srv.errlog.path))
        conn.close()
        time.sleep(0.3)
    finally:
        p.terminate()
        p.wait()
    return total_ir(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=300,
                    help="requests measured per token (300)")
    ap.add_argument("-s", "--services", type=int, default=2500,
                    help="policy services, 4 rules each (2500)")
    ap.add_argument("--audit", choices=sorted(AUDIT), default="on")
    ap.add_argument("--plain", action="store_true",
                    help="plain Apache, the same requests")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the callgrind files in DIR")
    ap.add_argument("--only", metavar="FN",
                    help="count only inside function FN (zt_audit_write)")
    ap.add_argument("algs", nargs="*", default=list(tokens.ALGS))
    a = ap.parse_args()
    cfg = zt_e2e.Config(zt_e2e.find_config())
    work = tempfile.mkdtemp(prefix="zt-instr-")
    os.chmod(work, 0o777)
    try:
        keydir = os.path.join(work, "keys")
        os.makedirs(keydir)
        os.chmod(keydir, 0o755)
        keys = tokens.Keys()
        keys.write(keydir)
        mid = a.services // 2
        role = "%s:read" % gen_policy.service_name(mid)
        url_path = ("/%s/orders/42?fields=id,status&version=2"
                    % gen_policy.service_name(mid))
        src = os.path.join(keydir, "bench.ztp")
        with open(src, "w") as f:
            f.write(gen_policy.policy(a.services, 0))
        policy = zt_e2e.compile_policy(cfg, src, src[:-4] + ".ztb")
        if a.plain:
            srv = servers.Server(cfg, os.path.join(work, "plain"), "plain",
                                 servers.PLAIN, tokens.ALGS)
        else:
            srv = servers.Server(cfg, os.path.join(work, "zerotrust"),
                                 "zerotrust", servers.ZEROTRUST.format(
                                     module=cfg.module, policy=policy,
                                     audit=AUDIT[a.audit]), tokens.ALGS)
        what = "plain " if a.plain else "audit %-6s" % a.audit
        if a.only:
            what += " in %s," % a.only
        for alg in a.algs:
            token = keys.valid(alg, role)
            base = run(cfg, srv, url_path, token, WARM,
                       os.path.join(work, "cg.%s.base" % alg), a.only,
                       bool(a.keep))
            more = run(cfg, srv, url_path, token, WARM + a.n,
                       os.path.join(work, "cg.%s" % alg), a.only,
                       bool(a.keep))
            print("%-6s token %4d bytes, %s %8.0f instructions "
                  "per request" % (alg, len(token), what,
                                   (more - base) / a.n), flush=True)
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                for f in ("cg.%s.base" % alg, "cg.%s" % alg):
                    shutil.copy(os.path.join(work, f), a.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
