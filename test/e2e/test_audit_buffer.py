# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""ZeroTrustAuditBuffer: records kept per child and written in runs.  They
are all there after a graceful stop, a stop and a graceful restart; none is
torn under concurrent load from many threads and both children; a record
waits at most until the first record a second later; a buffer smaller than
one record writes each at once; a buffered pipe keeps records whole."""

import json
import time

import requests

import test_audit
import zt_e2e
from test_audit import run_threads
from zt_e2e import claims, sign

TOKEN_CLAIMS = dict(sub="alice", scope="orders:read")


def body(buffer, log='"logs/audit.log"', extra=""):
    return zt_e2e.api_body("policy/api.ztb").replace(
        'ZeroTrustAuditLog "logs/audit.log"',
        "ZeroTrustAuditLog %s\nZeroTrustAuditBuffer %s\n%s"
        % (log, buffer, extra))


# One child, so that consecutive requests share one buffer.
ONE_CHILD = """\
StartServers 1
ServerLimit 1
MaxRequestWorkers 8
"""


def get(srv, path, tok=None):
    h = {"Connection": "close"}
    if tok:
        h["Authorization"] = "Bearer " + tok
    return requests.get(srv.url + path, headers=h, timeout=30)


def records(path):
    """Every line of @path, each a JSON object; the file ends a line."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return []
    lines = data.split(b"\n")
    assert lines[-1] == b"", lines[-1][:200]
    return [json.loads(line) for line in lines[:-1]]


def stop_gracefully(srv):
    """`-k graceful-stop`: the children finish and exit, then the parent."""
    pid = srv.pid()
    srv.settle()
    rc, out = srv.run("-k", "graceful-stop")
    assert rc == 0, out
    deadline = time.time() + 30
    while pid and srv.alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not srv.alive(pid), "httpd did not stop"
    srv.started = False


def load(srv, tok, n_threads, per_thread, path=lambda i, j: "/orders/%d-%d"
         % (i, j), ok=(200, 401)):
    """Requests from many threads, half with the token; returns errors."""
    errors = []

    def worker(i):
        for j in range(per_thread):
            try:
                r = get(srv, path(i, j), tok if j % 2 else None)
                if r.status_code not in ok:
                    errors.append((i, j, r.status_code))
            except Exception as e:      # noqa: BLE001 - report, don't hang
                errors.append((i, j, repr(e)))

    run_threads(worker, n_threads, 120)
    return errors


def test_buffered_until_stop_then_all_there(servers, keys):
    srv = servers(body("64K"))
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    assert get(srv, "/orders/first", tok).status_code == 200
    time.sleep(0.3)
    # Kept in the child: nothing written yet (no record came a second
    # later, and 64K is far from full).
    assert records(srv.audit.path) == []
    assert not load(srv, tok, 4, 10)
    stop_gracefully(srv)
    recs = records(srv.audit.path)
    got = sorted(r["path"] for r in recs)
    assert got == sorted(["/orders/first"] + ["/orders/%d-%d" % (i, j)
                                              for i in range(4)
                                              for j in range(10)])
    first = [r for r in recs if r["path"] == "/orders/first"][0]
    assert first["decision"] == "allow" and first["sub"] == "alice"


def test_stop_and_graceful_restart_write_the_buffers(servers, keys):
    srv = servers(body("64K"))
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    t0 = time.time()
    assert not load(srv, tok, 2, 5, path=lambda i, j: "/orders/g%d-%d" % (i, j))
    if time.time() - t0 < 0.9:      # no record can have found one a second old
        assert records(srv.audit.path) == []
    # A graceful restart ends the old children: their records go out.
    srv.graceful()
    deadline = time.time() + 20
    while len(records(srv.audit.path)) < 10 and time.time() < deadline:
        time.sleep(0.1)
    assert sorted(r["path"] for r in records(srv.audit.path)) == sorted(
        "/orders/g%d-%d" % (i, j) for i in range(2) for j in range(5))
    # The new children buffer again; a plain stop (SIGTERM) writes them.
    assert get(srv, "/orders/after-restart", tok).status_code == 200
    srv.stop()
    assert records(srv.audit.path)[-1]["path"] == "/orders/after-restart"
    assert len(records(srv.audit.path)) == 11


def test_many_threads_no_record_torn(servers, keys):
    # A small buffer: runs go out all the time, from both children, while
    # records of other threads are being added.
    srv = servers(body("4K"))
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    n_threads, per_thread = 12, 25
    assert not load(srv, tok, n_threads, per_thread)
    stop_gracefully(srv)
    recs = records(srv.audit.path)        # every line is JSON
    assert len(recs) == n_threads * per_thread
    assert sorted(r["path"] for r in recs) == sorted(
        "/orders/%d-%d" % (i, j) for i in range(n_threads)
        for j in range(per_thread))
    assert {r["decision"] for r in recs} == {"allow", "deny"}


def test_a_record_waits_at_most_until_one_a_second_later(servers, keys):
    srv = servers(body("64K", extra=ONE_CHILD))
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    t0 = time.time()
    assert get(srv, "/orders/a", tok).status_code == 200
    ta = time.time()                # "a" was put between t0 and ta
    time.sleep(0.3)
    assert records(srv.audit.path) == []
    assert get(srv, "/orders/b", tok).status_code == 200
    if time.time() - t0 < 0.9:      # "b" surely came within the second
        assert records(srv.audit.path) == []
    time.sleep(max(0.0, ta + 1.1 - time.time()))
    assert get(srv, "/orders/c", tok).status_code == 200
    # "c" found "a" older than a second: the three went out together.
    assert [r["path"] for r in records(srv.audit.path)] == [
        "/orders/a", "/orders/b", "/orders/c"]
    assert get(srv, "/orders/d", tok).status_code == 200
    assert len(records(srv.audit.path)) == 3     # the clock starts again


def test_buffer_smaller_than_a_record(servers, keys):
    srv = servers(body("256"))
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    for i, seg in enumerate(("short", "x" * 3000)):
        assert get(srv, "/orders/" + seg, tok).status_code == 200
        # Larger than the buffer: written at once, as without a buffer.
        recs = records(srv.audit.path)
        assert len(recs) == i + 1
        assert recs[-1]["path"] == "/orders/" + seg


# test_audit's slow reader (the pipe fills, runs above PIPE_BUF are
# split), made to outlive the SIGTERM httpd sends its piped loggers at the
# stop: it reads until every writer is gone.
SLOW_READER = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
               + test_audit.SLOW_READER)


def piped_server(servers, tmp_path, size):
    """A server whose audit log is the slow reader, buffered; and the file
    the reader writes."""
    reader = tmp_path / "slow_reader.py"
    reader.write_text(SLOW_READER)
    out = tmp_path / "piped.log"
    return servers(body(size, log='"||/usr/bin/python3 %s %s"'
                        % (reader, out))), out


def wait_lines(path, want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= want:
            return
        time.sleep(0.1)


def test_pipe_with_buffer_keeps_records_whole(servers, keys, tmp_path):
    srv, out = piped_server(servers, tmp_path, "8K")
    tok = sign(keys, claims(sub="alice"))
    n_threads, per_thread = 8, 8

    def path(i, j):
        # Odd requests are short records, even ones ~15 KB (larger than
        # the buffer: written alone, under the same lock).
        return "/users/%d-%d%s/orders" % (i, j,
                                          "" if j % 2 else "%01" * 2500)

    assert not load(srv, tok, n_threads, per_thread, path=path,
                    ok=(403, 404))
    stop_gracefully(srv)
    want = n_threads * per_thread
    wait_lines(out, want)
    recs = records(out)
    assert len(recs) == want
    assert sorted(r["path"].split("/")[2] for r in recs) == sorted(
        "%d-%d" % (i, j) + ("" if j % 2 else "\x01" * 2500)
        for i in range(n_threads) for j in range(per_thread))


def test_directive_is_checked(servers):
    for arg in ("12", "0", "17M", "lots", "-1K"):
        srv = servers(body(arg), start=False)
        rc, out = srv.configtest()
        assert rc != 0 and "ZeroTrustAuditBuffer" in out, (arg, out)
    vhost = servers(body("Off", extra="""\
<VirtualHost 127.0.0.1:*>
    ZeroTrustAuditBuffer 64K
</VirtualHost>
"""), start=False)
    rc, out = vhost.configtest()
    assert rc != 0 and "ZeroTrustAuditBuffer" in out, out
    off = servers(body("off"), start=False)
    assert off.configtest()[0] == 0


def test_pipe_with_buffer_across_a_graceful_restart(servers, keys, tmp_path):
    # httpd ends the old piped logger at a restart while the old children
    # finish; a logger that reads to the end gets every record, and the
    # cross-process lock outlives the old generation's pconf (each child
    # holds a reference: the lock used to fail with EINVAL here).
    srv, out = piped_server(servers, tmp_path, "64K")
    tok = sign(keys, claims(**TOKEN_CLAIMS))
    assert not load(srv, tok, 4, 10)
    srv.graceful()
    wait_lines(out, 40)
    assert sorted(r["path"] for r in records(out)) == sorted(
        "/orders/%d-%d" % (i, j) for i in range(4) for j in range(10))
