# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The audit log: one JSON line per decision, allowed or refused; strict
escaping of hostile paths, claims and certificate subjects; cert_subject
over real mod_ssl; whole lines from concurrent writers, to a file and to a
slow pipe with records longer than PIPE_BUF."""

import calendar
import http.client
import json
import os
import re
import shutil
import threading
import time
import urllib.parse

import pytest
import requests
from cryptography.x509.oid import NameOID

import zt_e2e
from conftest import SERVERS, Api
from test_language import SSL_BODY
from zt_e2e import CORP, Pki, SetupError, claims, client_context, sign

# The fields in the order they are written (SPEC section 7, and status).
ORDER = ["time", "request_id", "client_ip", "method", "path", "route", "sub",
         "iss", "azp", "decision", "status", "stage", "reason", "rule",
         "policy", "tls", "cert_subject", "latency_us"]
FIELDS = set(ORDER)
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def table_hash(api):
    with open(os.path.join(api.root, "policy/api.ztb"), "rb") as f:
        return f.read()[-32:].hex()


def check_common(api, rec, method, path):
    assert list(rec) == ORDER, list(rec)
    assert TIME.match(rec["time"]), rec["time"]
    # the request's own time, in UTC (the record formats it by hand)
    when = calendar.timegm(time.strptime(rec["time"][:19],
                                         "%Y-%m-%dT%H:%M:%S"))
    assert abs(when - time.time()) < 60, rec["time"]
    assert rec["request_id"]
    assert rec["client_ip"] == "127.0.0.1"
    assert rec["method"] == method
    assert rec["path"] == path
    assert rec["policy"] == table_hash(api)
    assert rec["tls"] is False and rec["cert_subject"] is None
    assert isinstance(rec["latency_us"], int) and rec["latency_us"] >= 0
    assert rec["decision"] in ("allow", "deny")
    assert rec["stage"] in ("route", "token", "policy")


def test_allowed_record(api, keys):
    r = api.get("/orders/42", sign(keys, claims(sub="alice", azp="web",
                                                scope="orders:read")))
    assert r.status_code == 200
    [rec] = r.audit
    check_common(api, rec, "GET", "/orders/42")
    assert rec["decision"] == "allow" and rec["stage"] == "policy"
    assert rec["route"] == "/orders/{id}"
    assert (rec["sub"], rec["iss"], rec["azp"]) == ("alice", CORP, "web")
    assert rec["rule"].startswith("api.ztp:")
    assert rec["rule"] == r.json()["ZT_RULE"]


def test_refused_records(api, keys):
    cases = [
        ("GET", "/nope", None, "route", "undeclared route", 404),
        ("GET", "/orders", None, "token", "no token", 401),
        ("GET", "/orders", sign(keys, claims(), evil=True), "token",
         "signature", 401),
        ("POST", "/orders", sign(keys, claims(sub="bob")), "policy",
         "no rule allows", 403),
    ]
    for method, path, tok, stage, reason, status in cases:
        r = api.req(method, path, tok)
        assert r.status_code == status
        [rec] = r.audit
        check_common(api, rec, method, path)
        assert (rec["decision"], rec["stage"], rec["reason"]) == (
            "deny", stage, reason)
        if stage == "policy":
            assert (rec["sub"], rec["iss"]) == ("bob", CORP)
            assert rec["route"] == "/orders"
        else:
            assert rec["sub"] is None and rec["iss"] is None


# Methods as the record spells them: httpd's own, extension ones of
# capitals only (counted, not escaped), and ones with other token
# characters or small letters (measured and escaped as any text).
METHODS = ["GET", "HEAD", "PATCH", "PROPFIND", "BREW", "M-SEARCH", "get",
           "Get", "X1", "A.B_C~D!", "GETGETGETGETGETGETGET"]


def test_methods_spelled_exactly(api, keys):
    tok = sign(keys, claims(sub="alice", scope="orders:read"))
    for method in METHODS:
        # http.client sends the method as given (requests capitalises it)
        pos = api.audit.size()
        u = urllib.parse.urlsplit(api.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        conn.request(method, "/orders/42",
                     headers={"Authorization": "Bearer " + tok})
        conn.getresponse().read()
        conn.close()
        recs = api.audit.records(pos, wait=0.5)
        assert len(recs) == 1, method
        assert recs[0]["method"] == method


# Decoded paths and how they come back from the record.  Valid UTF-8 is
# kept (written \\uXXXX); a path that is not UTF-8 has each byte above
# 0x7F written as the four characters \\xHH.
HOSTILE_PATHS = [
    ("a%22b%5C", 'a"b\\'),
    ("%0a%0d", "\n\r"),
    ("%01%1f%7f%09%08%0c", "\x01\x1f\x7f\t\b\f"),
    ("%ff%fe", "\\xFF\\xFE"),
    ("%e2%82%ac", "\u20ac"),
    ("%e2%80%a8%e2%80%a9", "\u2028\u2029"),
    ("%f0%9f%98%80", "\U0001F600"),
    ("%c0%af", "\\xC0\\xAF"),                       # overlong "/"
    ("%ed%a0%80", "\\xED\\xA0\\x80"),              # a surrogate
    ("%f4%90%80%80", "\\xF4\\x90\\x80\\x80"),     # above U+10FFFF
    ("%e2%82", "\\xE2\\x82"),                       # truncated
    ("%e2%82%ac%ff", "\\xE2\\x82\\xAC\\xFF"),      # valid, then not
    ("%5Cx41", "\\x41"),                             # looks like an escape
]

# A record is printable ASCII: no raw control byte, nothing above 0x7E.
PRINTABLE = re.compile(rb"^[\x20-\x7e]*$")


def run_threads(worker, n, timeout):
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def raw_lines(audit, pos):
    with open(audit.path, "rb") as f:
        f.seek(pos)
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", lines[-1]
    return lines[:-1]


def test_hostile_path_stays_one_valid_line(api, keys):
    pos = api.audit.size()
    tok = sign(keys, claims(sub="alice"))
    for seg, _ in HOSTILE_PATHS:
        r = api.get("/users/%s/orders" % seg, tok)
        assert r.status_code in (403, 404), (seg, r.status_code)
        assert len(r.audit) == 1, seg
    lines = raw_lines(api.audit, pos)
    assert len(lines) == len(HOSTILE_PATHS)
    for line, (seg, want) in zip(lines, HOSTILE_PATHS):
        assert PRINTABLE.match(line), line
        assert json.loads(line)["path"] == "/users/%s/orders" % want, seg
    # How they are written: strict, as jansson did, and DEL escaped too.
    assert b'"path":"/users/\\u0001\\u001F\\u007F\\t\\b\\f/orders"' in lines[2]
    assert b'"path":"/users/\\u20AC/orders"' in lines[4]
    assert b'"path":"/users/\\uD83D\\uDE00/orders"' in lines[6]
    assert b'"path":"/users/\\\\xFF\\\\xFE/orders"' in lines[3]


def spelled(c):
    """How the record writes byte @c of a path that is otherwise ASCII
    (zt_jescape.h): a byte above 0x7F alone is not UTF-8."""
    short = {0x22: b'\\"', 0x5c: b"\\\\", 0x08: b"\\b", 0x0c: b"\\f",
             0x0a: b"\\n", 0x0d: b"\\r", 0x09: b"\\t"}
    if c in short:
        return short[c]
    if c < 0x20 or c == 0x7f:
        return b"\\u%04X" % c
    if c >= 0x80:
        return b"\\\\x%02X" % c
    return bytes([c])


def test_every_byte_spelled_exactly(api, keys):
    """Each byte value, percent-encoded in a path, as the last byte of the
    path's first and second 8-byte words: the raw line spells it exactly
    so (upper case hex, the short escapes, \\xHH for a byte that is not
    UTF-8)."""
    # %2F never reaches the module (AllowEncodedSlashes Off: httpd's 404)
    values = [c for c in range(1, 256) if c != 0x2f]
    pos = api.audit.size()
    tok = sign(keys, claims(sub="alice"))
    for c in values:
        api.get("/users/abcdefgh%%%02X/orders" % c, tok)
        api.get("/users/%%%02Xz/orders" % c, tok)
    lines = raw_lines(api.audit, pos)
    assert len(lines) == 2 * len(values)
    for i, c in enumerate(values):
        for line, path in zip(lines[2 * i:2 * i + 2],
                              (b"/users/abcdefgh%s/orders" % spelled(c),
                               b"/users/%sz/orders" % spelled(c))):
            assert PRINTABLE.match(line), line
            assert b',"path":"%s",' % path in line, (c, line)


def test_hostile_claims_are_escaped(api, keys):
    """sub and azp come from a verified token: any Unicode, quotes,
    backslashes (a subject with control characters is refused, but azp
    may hold them)."""
    sub = 'a"b\\c\u2028\U0001F600\u00e9'
    azp = "web\t\x7f\n</script>\x1b[0m"
    pos = api.audit.size()
    tok = sign(keys, claims(sub=sub, azp=azp, scope="orders:read"))
    # The second request is answered from the token cache, which keeps
    # what the record writes of sub and azp: the same bytes.
    for _ in range(2):
        assert api.get("/orders", tok).status_code == 200
    lines = raw_lines(api.audit, pos)
    assert len(lines) == 2
    for line in lines:
        assert PRINTABLE.match(line), line
        rec = json.loads(line)
        assert (rec["sub"], rec["azp"]) == (sub, azp)
    claims_of = [line[line.index(b',"sub":'):line.index(b',"decision":')]
                 for line in lines]
    assert claims_of[0] == claims_of[1], claims_of


def test_table_strings_that_need_escapes(servers, keys):
    """The record copies a table's strings as they are when none of them
    needs an escape (api.ztp's); a table holding one that does (here its
    source's file name, which each rule's "rule" names) has them all
    escaped."""
    srv = servers(zt_e2e.api_body("policy/api.ztb"), start=False,
                  policy=None)
    name = 'q"b\\\u00e9.ztp'
    src = os.path.join(srv.root, "policy", name)
    shutil.copy(os.path.join(zt_e2e.HERE, "api.ztp"), src)
    zt_e2e.compile_policy(srv.cfg, src,
                          os.path.join(srv.root, "policy/api.ztb"))
    srv.start()
    pos = srv.audit.size()
    r = srv.get("/orders/42", sign(keys, claims(scope="orders:read")))
    assert r.status_code == 200
    [line] = raw_lines(srv.audit, pos)
    assert PRINTABLE.match(line), line
    assert b',"route":"/orders/{id}","sub":"alice",' in line, line
    assert b',"iss":"%s",' % CORP.encode() in line, line
    assert b',"rule":"q\\"b\\\\\\u00E9.ztp:' in line, line
    assert json.loads(line)["rule"].startswith(name + ":")


def test_long_path_is_one_line(api, keys):
    """Longer than the writer's stack buffer, and than PIPE_BUF: every
    byte is a control character, escaped to six."""
    seg = "%01" * 2500
    r = api.get("/users/%s/orders" % seg, sign(keys, claims()))
    assert r.status_code in (403, 404)
    [rec] = r.audit
    assert rec["path"] == "/users/%s/orders" % ("\x01" * 2500)
    assert rec["decision"] == "deny" and list(rec) == ORDER


def test_request_ids_are_unique(api, keys):
    ids = set()
    for _ in range(5):
        [rec] = api.get("/health").audit
        ids.add(rec["request_id"])
    assert len(ids) == 5


def test_concurrent_requests_one_line_each(api, keys):
    tok = sign(keys, claims(scope="orders:read"))
    pos = api.audit.size()
    n_threads, per_thread = 8, 12
    errors = []

    def worker(i):
        # One connection per request: a busy event MPM may close an idle
        # kept-alive connection just as the client reuses it, and a retry
        # could not tell whether the request was served (and audited).
        for j in range(per_thread):
            path = "/orders/%d-%d" % (i, j)
            h = {"Connection": "close"}
            if j % 2:
                h["Authorization"] = "Bearer " + tok
            try:
                r = requests.get(api.url + path, headers=h, timeout=15)
                if r.status_code not in (200, 401):
                    errors.append((path, r.status_code))
            except Exception as e:      # noqa: BLE001 - report, don't hang
                errors.append((path, repr(e)))

    run_threads(worker, n_threads, 60)
    assert not errors, errors
    recs = api.audit.records(pos)
    assert len(recs) == n_threads * per_thread
    paths = sorted(r["path"] for r in recs)
    assert paths == sorted("/orders/%d-%d" % (i, j)
                           for i in range(n_threads)
                           for j in range(per_thread))


# ---------------------------------------------------------------------------
# A slow pipe: records longer than PIPE_BUF from many threads and both
# processes, while the pipe is full

SLOW_READER = """\
import sys, time
out = open(sys.argv[1], "ab", buffering=0)
while True:
    data = sys.stdin.buffer.read1(4096)
    if not data:
        break
    out.write(data)
    time.sleep(0.005)
"""


def test_pipe_keeps_long_records_whole(servers, keys, tmp_path):
    reader = tmp_path / "slow_reader.py"
    reader.write_text(SLOW_READER)
    out = tmp_path / "piped.log"
    srv = servers(zt_e2e.api_body("policy/api.ztb").replace(
        'ZeroTrustAuditLog "logs/audit.log"',
        'ZeroTrustAuditLog "||/usr/bin/python3 %s %s"' % (reader, out)))
    tok = sign(keys, claims(sub="alice"))
    n_threads, per_thread = 8, 8
    errors = []

    def worker(i):
        for j in range(per_thread):
            # Odd requests are short records, even ones ~15 KB.
            seg = "%d-%d" % (i, j) + ("" if j % 2 else "%01" * 2500)
            try:
                r = requests.get("%s/users/%s/orders" % (srv.url, seg),
                                 headers={"Authorization": "Bearer " + tok,
                                          "Connection": "close"},
                                 timeout=30)
                if r.status_code not in (403, 404):
                    errors.append((i, j, r.status_code))
            except Exception as e:      # noqa: BLE001 - report, don't hang
                errors.append((i, j, repr(e)))

    run_threads(worker, n_threads, 120)
    assert not errors, errors
    want = n_threads * per_thread
    deadline = time.time() + 30
    while time.time() < deadline:
        data = out.read_bytes() if out.exists() else b""
        if data.count(b"\n") >= want:
            break
        time.sleep(0.1)
    lines = data.split(b"\n")
    assert lines[-1] == b""
    recs = [json.loads(l) for l in lines[:-1]]      # every line is JSON
    assert len(recs) == want
    assert sum(len(l) > 4096 for l in lines) == want // 2
    got = sorted(r["path"].split("/")[2] for r in recs)
    assert got == sorted("%d-%d" % (i, j) + ("" if j % 2 else "\x01" * 2500)
                         for i in range(n_threads) for j in range(per_thread))


# ---------------------------------------------------------------------------
# cert_subject over real mod_ssl

TLS_RULES = """
route GET    /mtls/who
allow GET /mtls/who    when client.cert.subject == "CN=nobody" or client.cert
"""

TLS_BODY = """\
<Location "/mtls/">
    ZeroTrustPolicy "policy/tls.ztb"
</Location>
"""

# A subject that needs RFC 2253 escapes and UTF-8.
ODD_SUBJECT = [(NameOID.ORGANIZATION_NAME, 'Corp "\u00dc", Ltd'),
               (NameOID.COMMON_NAME, "svc\\odd+\u20ac")]


class Tls:
    pass


@pytest.fixture(scope="module")
def tls(zt_cfg, keys, roots):
    T = Tls()
    root = roots.make("audit-tls")
    src = os.path.join(root, "policy/api.ztp")
    with open(src) as f:
        text = f.read()
    dst = os.path.join(root, "policy/tls.ztp")
    with open(dst, "w") as f:
        f.write(text.replace('policy "e2e-api"', 'policy "e2e-tls"')
                + TLS_RULES)
    pki = Pki(os.path.join(root, "pki"))
    rogue = Pki(os.path.join(root, "rogue"), name="rogue-ca")
    T.ca = pki.ca_file
    srv_cert, srv_key = pki.server()
    T.svc = pki.issue("svc", [(NameOID.COMMON_NAME, "svc-a"),
                              (NameOID.ORGANIZATION_NAME, "Corp")])
    T.odd = pki.issue("odd", ODD_SUBJECT)
    T.rogue = rogue.issue("rogue", [(NameOID.COMMON_NAME, "svc-a")])
    T.port = zt_e2e.free_port()
    body = (zt_e2e.api_body("policy/api.ztb") + TLS_BODY
            + SSL_BODY.replace("SSLVerifyClient optional",
                               "SSLVerifyClient optional_no_ca").format(
                mods=zt_cfg.libexecdir, tls=T.port, cert=srv_cert,
                key=srv_key, ca=T.ca))
    T.srv = Api(zt_cfg, root, body)
    SERVERS.append(T.srv)
    try:
        zt_e2e.compile_policy(zt_cfg, dst, dst[:-4] + ".ztb")
        T.srv.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield T
    T.srv.stop()


def tls_get(T, path, cert=None, token=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    r = zt_e2e.raw_request(T.srv.audit, "127.0.0.1", T.port, "GET", path, h,
                           context=client_context(T.ca, cert))
    assert len(r.audit) == 1, r.audit
    return r, r.audit[0]


def test_cert_subject_of_a_verified_certificate(tls, keys):
    T = tls
    tok = sign(keys, claims(scope="orders:read"))
    # The table reads client.cert.subject: the request's facts give it.
    r, rec = tls_get(T, "/mtls/who", T.svc, tok)
    assert r.status_code == 200 and rec["decision"] == "allow"
    assert (rec["tls"], rec["cert_subject"]) == (True, "O=Corp,CN=svc-a")
    assert r.json()["SSL_CLIENT_S_DN"] == rec["cert_subject"]
    # A table that does not read it (mod_ssl prints it), and a request
    # refused before its facts exist: the same string.
    for path, token, stage in (("/orders", tok, "policy"),
                               ("/orders", None, "token"),
                               ("/nope", tok, "route")):
        r, rec = tls_get(T, path, T.svc, token)
        assert rec["stage"] == stage or rec["decision"] == "allow", rec
        assert (rec["tls"], rec["cert_subject"]) == (True, "O=Corp,CN=svc-a")
        assert list(rec) == ORDER


def test_cert_subject_is_null_without_a_verified_certificate(tls, keys):
    T = tls
    tok = sign(keys, claims(scope="orders:read"))
    for cert in (None, T.rogue):      # none; one mod_ssl calls GENEROUS
        for path in ("/mtls/who", "/orders", "/nope"):
            r, rec = tls_get(T, path, cert, tok)
            assert (rec["tls"], rec["cert_subject"]) == (True, None), (
                cert, path, rec)


def test_cert_subject_escaped_as_every_field(tls, keys):
    T = tls
    tok = sign(keys, claims(scope="orders:read"))
    pos = T.srv.audit.size()
    r, via_facts = tls_get(T, "/mtls/who", T.odd, tok)
    assert r.status_code == 200
    _, via_ssl = tls_get(T, "/orders", T.odd, tok)
    subject = r.json()["SSL_CLIENT_S_DN"]
    assert "\u20ac" in subject and '\\"' in subject, subject
    assert via_facts["cert_subject"] == via_ssl["cert_subject"] == subject
    for line in raw_lines(T.srv.audit, pos):
        assert PRINTABLE.match(line), line
