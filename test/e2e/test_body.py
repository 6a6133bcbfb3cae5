# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Request bodies in a real Apache (issue #5, points 3-5): media type
(415), size while reading, chunked too (413), JSON against the route's
schema and XML with libxml2 (400), answered as RFC 9457 problem+json
naming the JSON pointer or the element, audited with stage "input" and
the same reason.  Apache proxies (mod_proxy_http) to a real upstream on
loopback that reports the sha256 and length of the body it got: what the
client sent arrives byte for byte.

Then the hostile corpus: deep nesting, megabyte strings, huge numbers,
duplicate names, bad UTF-8, NUL bytes, billion laughs and external
entities, wrong media types, oversized chunked bodies, a slow body.
Each gets its status, Apache keeps serving, and no answer leaks a file
or an internal."""

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import zt_e2e
from conftest import Api, SERVERS
from test_language import SSL_BODY
from test_tls import curl
from zt_e2e import Pki, SetupError, assert_problem, claims, sign

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMER = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"
JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "application/xml"}


class Upstream(BaseHTTPRequestHandler):
    """The API behind Apache: answers with what it received."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self):
        data = self.body()
        self.server.seen.append(data)
        out = json.dumps({
            "method": self.command, "path": self.path,
            "sha256": hashlib.sha256(data).hexdigest(), "length": len(data),
            "content_type": self.headers.get("Content-Type"),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = answer


PROXY_BODY = """\
LoadModule proxy_module %(mods)s/mod_proxy.so
LoadModule proxy_http_module %(mods)s/mod_proxy_http.so
ZeroTrustAuditLog "logs/audit.log"
# A slow body is given up on after this long (the slow-body test).
Timeout 3
ProxyPass "/" "http://127.0.0.1:%(up)d/"
<Location "/">
    ZeroTrustPolicy "policy/body.ztb"
    AuthType ZeroTrust
    AuthName "body"
    Require zerotrust
</Location>
"""


@pytest.fixture(scope="module")
def upstream():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    srv.seen = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


# The body read before an internal redirect reaches the backend after it:
# /old is rewritten per directory (in fixups, after our hook read and
# validated the body) to /echo, which proxies.
REDIRECT_BODY = """\
LoadModule proxy_module %(mods)s/mod_proxy.so
LoadModule proxy_http_module %(mods)s/mod_proxy_http.so
LoadModule rewrite_module %(mods)s/mod_rewrite.so
ZeroTrustAuditLog "logs/audit.log"
ProxyPass "/echo" "http://127.0.0.1:%(up)d/echo"
<Directory "{root}/htdocs">
    RewriteEngine On
    RewriteRule "^old$" "/echo" [PT]
</Directory>
<Location "/">
    ZeroTrustPolicy "policy/body.ztb"
    AuthType ZeroTrust
    AuthName "body"
    Require zerotrust
</Location>
"""


def body_server(zt_cfg, roots, upstream, conf):
    """An Apache with body.ztp and its schemas, @conf its configuration."""
    root = roots.make("body", policy=None)
    for name in ("body.ztp", "body_order.schema.json", "body_doc.xsd"):
        shutil.copy(os.path.join(HERE, name), os.path.join(root, "policy"))
    try:
        zt_e2e.compile_policy(zt_cfg, os.path.join(root, "policy/body.ztp"),
                              os.path.join(root, "policy/body.ztb"))
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    s = Api(zt_cfg, root, conf % {"mods": zt_cfg.libexecdir,
                                  "up": upstream.server_address[1]})
    SERVERS.append(s)
    try:
        s.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    return s


@pytest.fixture(scope="module")
def srv(zt_cfg, roots, upstream):
    s = body_server(zt_cfg, roots, upstream, PROXY_BODY)
    yield s
    s.stop()


@pytest.fixture
def writer(keys):
    return sign(keys, claims(scope="orders:write"), alg="ES256")


def order(**kw):
    o = {"customer": CUSTOMER, "items": [{"sku": "AB-12", "quantity": 2}]}
    o.update(kw)
    return o


def passed(r, sent):
    """200 from the upstream, which got exactly @sent."""
    assert r.status_code == 200, (r.status_code, r.text)
    got = r.json()
    assert got["length"] == len(sent), got
    assert got["sha256"] == hashlib.sha256(sent).hexdigest(), got
    return got


def refused(r, status, name="body", pointer=None, why=None):
    """@status problem+json naming @name (and @pointer), audited as input
    with the same reason; returns the invalid-params entry."""
    body = assert_problem(r, status)
    params = body["invalid-params"]
    assert len(params) == 1, body
    p = params[0]
    assert p["name"] == name, body
    if pointer is not None:
        assert p.get("pointer", p.get("element")) == pointer, body
    if why is not None:
        assert why in p["reason"], body
    assert len(r.audit) == 1, r.audit
    rec = r.audit[0]
    assert rec["decision"] == "deny" and rec["stage"] == "input", rec
    where = name + (p.get("pointer") or "")
    assert rec["reason"].startswith(where), (rec, p)
    assert rec["reason"].endswith(p["reason"]), (rec, p)
    assert_no_leak(r)
    return p


def assert_no_leak(r):
    text = r.text
    assert "root:x:0" not in text and "/bin/" not in text, text
    assert "zt-e2e-" not in text and "/tmp/" not in text, text
    assert "ZT0" not in text, text


def still_serving(srv):
    data = json.dumps({"ok": True}).encode()
    passed(srv.req("POST", "/echo", data=data, headers=JSON), data)


def raw(srv, head, body=b"", timeout=15, pause=None, rest=b""):
    """Send bytes as they are; returns (status, response bytes)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    try:
        s.sendall(head + body)
        if pause:
            time.sleep(pause)
            try:
                s.sendall(rest)
            except OSError:
                pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


# ---------------------------------------------------------------------------
# Bodies that pass arrive byte for byte

def test_json_with_schema_reaches_backend_unchanged(srv, writer):
    # Odd spacing, escapes and key order: the backend gets these bytes.
    data = ('{ "items" : [ {"quantity":2, "sku":"AB-12"} ],\n'
            '"customer":"%s", "note": "caf\\u00e9 \\"x\\"" }' % CUSTOMER).encode()
    r = srv.req("POST", "/orders", writer, data=data, headers=JSON)
    got = passed(r, data)
    assert got["content_type"] == "application/json"
    assert r.audit[-1]["decision"] == "allow", r.audit


def test_chunked_body_reaches_backend_unchanged(srv):
    data = json.dumps({"k%d" % i: "v" * 50 for i in range(1000)}).encode()
    assert 50000 < len(data) < 65536
    parts = (data[i:i + 7000] for i in range(0, len(data), 7000))
    r = srv.req("POST", "/echo", data=parts, headers=JSON)
    passed(r, data)


@pytest.mark.parametrize("ctype", [
    "application/json", "application/json; charset=utf-8",
    "Application/JSON;charset=\"UTF-8\"", "application/merge-patch+json",
    "application/vnd.api+json",
])
def test_json_media_types(srv, ctype):
    data = b"[1, 2, 3]"
    passed(srv.req("POST", "/echo", data=data,
                   headers={"Content-Type": ctype}), data)


def test_xml_with_schema_reaches_backend_unchanged(srv):
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<doc>\n  <title>'
            b'caf\xc3\xa9 &amp; co</title>\n  <count>3</count>\n</doc>\n')
    passed(srv.req("PUT", "/docs", data=data, headers={"Content-Type":
                                                       "text/xml"}), data)


def test_empty_body_on_route_without_body(srv):
    r = srv.req("POST", "/nobody", headers={"Content-Length": "0"})
    passed(r, b"")


# ---------------------------------------------------------------------------
# Media type, presence, size

@pytest.mark.parametrize("ctype", [
    None, "text/plain", "application/x-www-form-urlencoded",
    "application/json; charset=iso-8859-1", "application/jsonp",
    "application/xml", "json",
])
def test_wrong_media_type_with_valid_body_415(srv, ctype):
    h = {} if ctype is None else {"Content-Type": ctype}
    r = srv.req("POST", "/echo", data=b'{"a": 1}', headers=h)
    p = refused(r, 415, name="header.content-type")
    assert "application/json" in p["reason"]
    still_serving(srv)


def test_xml_route_refuses_json_media_type(srv):
    r = srv.req("POST", "/xml", data=b"<a/>", headers=JSON)
    refused(r, 415, name="header.content-type")


def test_missing_body_400(srv):
    r = srv.req("POST", "/echo", headers=dict(JSON, **{"Content-Length": "0"}))
    refused(r, 400, why="found no body")


def test_content_length_over_max_413_at_once(srv):
    # Headers only: the answer comes before a byte of the body is sent.
    status, data = raw(srv, b"POST /orders HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: 16385\r\n\r\n", timeout=5)
    assert status == 413, data
    assert b"application/problem+json" in data
    assert b"at most 16384 bytes" in data
    still_serving(srv)


def test_413_comes_before_the_token(srv):
    r = srv.req("POST", "/orders", data=b"x" * 20000, headers=JSON)
    refused(r, 413, why="at most 16384 bytes")


def test_oversized_chunked_body_413(srv, upstream):
    before = len(upstream.seen)
    parts = (b"[" + b"1," * 4000 for _ in range(100))     # ~800 KB > 64k
    r = srv.req("POST", "/echo", data=parts, headers=JSON)
    refused(r, 413, why="at most 65536 bytes")
    assert len(upstream.seen) == before
    still_serving(srv)


def test_body_on_route_without_body_413(srv, upstream):
    before = len(upstream.seen)
    r = srv.req("GET", "/things", data=b'{"a": 1}', headers=JSON)
    refused(r, 413, why="no body")
    parts = (b"x" for _ in range(3))
    r = srv.req("POST", "/nobody", data=parts)
    refused(r, 413, why="no body")
    assert len(upstream.seen) == before


# ---------------------------------------------------------------------------
# Order: the body is read only once the policy allows

def test_bad_body_without_token_is_401(srv):
    r = srv.req("POST", "/orders", data=b'{"oops"', headers=JSON)
    assert r.status_code == 401, r.text
    assert r.audit[0]["stage"] == "token", r.audit


def test_bad_body_with_refused_token_is_403(srv, keys):
    tok = sign(keys, claims(scope="orders:read"), alg="ES256")
    r = srv.req("POST", "/orders", tok, data=b'{"oops"', headers=JSON)
    assert r.status_code == 403, r.text


def test_media_type_checked_before_token(srv):
    r = srv.req("POST", "/orders", data=b"{}", headers={"Content-Type":
                                                         "text/plain"})
    refused(r, 415, name="header.content-type")


# ---------------------------------------------------------------------------
# The schema: 400 naming the JSON pointer and what was expected

@pytest.mark.parametrize("doc,pointer,why", [
    ({"items": [{"sku": "AB-12", "quantity": 2}]}, "/customer",
     "found missing, expected a required member"),
    (order(customer="nope"), "/customer", 'found "nope", expected a UUID'),
    (order(items=[]), "/items", "expected at least 1 items"),
    (order(items=[{"sku": "AB-12", "quantity": 1}] * 4), "/items",
     "expected at most 3 items"),
    (order(items=[{"sku": "AB-12", "quantity": 0}]), "/items/0/quantity",
     "found 0, expected a number >= 1"),
    (order(items=[{"sku": "AB-12", "quantity": 2.5}]), "/items/0/quantity",
     "expected an integer"),
    (order(items=[{"sku": "AB", "quantity": 2}]), "/items/0/sku",
     "expected a string matching /^[A-Z0-9-]{4,8}$/"),
    (order(items=[{"sku": "ab-12", "quantity": 2}]), "/items/0/sku",
     'found "ab-12", expected a string matching'),
    (order(items=[{"sku": "AB-12", "quantity": "2"}]), "/items/0/quantity",
     'found "2", expected an integer'),
    (order(extra=1), "/extra", "found an undeclared member"),
    (order(delivery="drone"), "/delivery",
     'expected one of "standard", "express"'),
    (order(email="a@b"), "/email", "expected an e-mail address"),
    (order(when="2026-02-30T10:00:00Z"), "/when",
     "expected an RFC 3339 date-time"),
    (order(note="x" * 21), "/note", "at most 20 characters"),
    (order(note=5), "/note", "expected a string or null"),
    (order(price=0.25), "/price", "expected a number >= 0.5"),
    ([order()], "", "found an array of 1 items, expected an object"),
])
def test_schema_violation_400(srv, writer, upstream, doc, pointer, why):
    before = len(upstream.seen)
    r = srv.req("POST", "/orders", writer, data=json.dumps(doc).encode(),
                headers=JSON)
    refused(r, 400, pointer=pointer, why=why)
    assert len(upstream.seen) == before


def test_schema_valid_variants_pass(srv, writer):
    for doc in (order(note=None), order(when="2026-11-29T06:43:09.5+01:00"),
                order(email="first.last@example.co.uk", delivery="express"),
                order(items=[{"sku": "ABCD", "quantity": 1000.0}])):
        data = json.dumps(doc).encode()
        passed(srv.req("POST", "/orders", writer, data=data, headers=JSON),
               data)


# ---------------------------------------------------------------------------
# Hostile JSON

@pytest.mark.parametrize("name,data,why", [
    ("deep arrays", b"[" * 10000 + b"]" * 10000, "nested too deep"),
    ("deep objects", b'{"a":' * 10000 + b"1" + b"}" * 10000, "nested too deep"),
    ("huge real", b'{"n": 1e400}', "invalid JSON"),
    ("huge integer", b'{"n": 123456789012345678901234567890}', "invalid JSON"),
    ("long number", b'{"n": 1' + b"0" * 5000 + b"}", "invalid JSON"),
    ("duplicate names", b'{"a": 1, "a": 2}', "duplicate"),
    ("invalid UTF-8", b'{"a": "\xff"}', "UTF-8"),
    ("overlong slash", b'{"a": "\xc0\xaf"}', "UTF-8"),
    ("overlong NUL", b'{"a": "\xc0\x80"}', "UTF-8"),
    ("surrogate", b'{"a": "\xed\xa0\x80"}', "UTF-8"),
    ("escaped NUL", b'{"a": "x\\u0000y"}', "NUL"),
    ("raw NUL", b'{"a": "x\x00y"}', "NUL"),
    ("lone surrogate escape", b'{"a": "\\ud800"}', "invalid JSON"),
    ("trailing comma", b'{"a": 1,}', "invalid JSON"),
    ("two values", b'{"a": 1} {"b": 2}', "data after the value"),
    ("BOM", b'\xef\xbb\xbf{"a": 1}', "invalid JSON"),
    ("NaN", b'{"a": NaN}', "invalid JSON"),
    ("truncated", b'{"a": [1, 2', "invalid JSON"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "")
def test_hostile_json_400(srv, upstream, name, data, why):
    before = len(upstream.seen)
    r = srv.req("POST", "/echo", data=data, headers=JSON)
    refused(r, 400, why=why)
    assert len(upstream.seen) == before
    still_serving(srv)


def test_megabyte_string(srv):
    data = b'{"s": "' + b"a" * (1 << 20) + b'"}'
    # Over the route's max: 413; under a larger max, the string limit: 400.
    refused(srv.req("POST", "/echo", data=data, headers=JSON), 413)
    p = refused(srv.req("POST", "/big", data=data, headers=JSON), 400,
                pointer="/s", why="strings of at most 65536 bytes")
    assert "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" not in p["reason"]
    still_serving(srv)


def test_too_many_members(srv):
    data = json.dumps({"k%d" % i: 0 for i in range(10001)}).encode()
    refused(srv.req("POST", "/big", data=data, headers=JSON), 400,
            pointer="", why="at most 10000 members")
    data = json.dumps([0] * 10001).encode()
    refused(srv.req("POST", "/big", data=data, headers=JSON), 400,
            pointer="", why="at most 10000 items")


def test_many_duplicate_names_fast(srv):
    data = b"{" + b",".join(b'"k%d": 0' % i for i in range(50000)) \
        + b', "k7": 1}'
    t0 = time.time()
    refused(srv.req("POST", "/big", data=data, headers=JSON), 400,
            why="duplicate")
    assert time.time() - t0 < 5


# ---------------------------------------------------------------------------
# XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<doc><title>&lol9;</title><count>1</count></doc>
"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE doc [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<doc><title>&xxe;</title><count>1</count></doc>
"""

XXE_PARAM = b"""<?xml version="1.0"?>
<!DOCTYPE doc [ <!ENTITY % p SYSTEM "file:///etc/passwd"> %p; ]>
<doc><title>t</title><count>1</count></doc>
"""

XXE_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE doc SYSTEM "http://127.0.0.1:1/evil.dtd">
<doc><title>t</title><count>1</count></doc>
"""


@pytest.mark.parametrize("name,data,why", [
    ("billion laughs", BILLION_LAUGHS, "DOCTYPE"),
    ("external entity", XXE_FILE, "DOCTYPE"),
    ("parameter entity", XXE_PARAM, "DOCTYPE"),
    ("external DTD", XXE_DTD, "DOCTYPE"),
    ("not well-formed", b"<doc><title>t</doc>", "well-formed"),
    ("undefined entity", b"<doc><title>&xxe;</title></doc>", "well-formed"),
    ("deep", b"<a>" * 5000 + b"</a>" * 5000, "nested"),
    ("invalid UTF-8", b"<doc><title>\xff</title><count>1</count></doc>",
     "well-formed"),
    ("overlong", b"<doc><title>\xc0\xaf</title><count>1</count></doc>",
     "well-formed"),
    ("NUL", b"<doc><title>a\x00b</title><count>1</count></doc>",
     "well-formed"),
    ("latin-1", b'<?xml version="1.0" encoding="ISO-8859-1"?>'
     b"<doc><title>\xe9</title><count>1</count></doc>", "UTF-8"),
    ("two roots", b"<doc/><doc/>", "well-formed"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else "")
def test_hostile_xml_400(srv, upstream, name, data, why):
    before = len(upstream.seen)
    t0 = time.time()
    r = srv.req("PUT", "/docs", data=data, headers=XML)
    assert time.time() - t0 < 5
    refused(r, 400, why=why)
    assert len(upstream.seen) == before
    still_serving(srv)


def test_xml_root_and_schema(srv):
    r = srv.req("PUT", "/docs", data=b"<other/>", headers=XML)
    refused(r, 400, why="expected the root element <doc>")
    r = srv.req("PUT", "/docs", headers=XML,
                data=b"<doc>\n<title>t</title>\n<count>many</count>\n</doc>")
    p = refused(r, 400, why="valid against the schema")
    assert p["line"] == 3 and p["element"] == "/doc/count", p
    r = srv.req("PUT", "/docs", headers=XML,
                data=b"<doc><title>t</title>" + b"<count>1</count>" * 4
                + b"</doc>")
    refused(r, 400, why="valid against the schema")


def test_xml_without_schema(srv):
    data = b'<?xml version="1.0"?><any xmlns="urn:x"><thing a="1"/></any>'
    passed(srv.req("POST", "/xml", data=data,
                   headers={"Content-Type": "application/atom+xml"}), data)
    r = srv.req("POST", "/xml", data=XXE_FILE, headers=XML)
    refused(r, 400, why="DOCTYPE")


# ---------------------------------------------------------------------------
# httpd's own LimitRequestBody, below the routes' max

# In front of the echo CGI, not a proxy: httpd 2.4 does not apply
# LimitRequestBody to a proxied request (HTTP_IN takes no limit when
# r->proxyreq is set), so behind ProxyPass a route's max is the only limit.
LIMITED_BODY = zt_e2e.api_body("policy/body.ztb", "LimitRequestBody 1000\n")

# What the record says of a body httpd refused as the module read it.
SERVER_LIMIT = "body: found more than the server accepts, expected a smaller body"


@pytest.fixture(scope="module")
def limited(zt_cfg, roots, upstream):
    s = body_server(zt_cfg, roots, upstream, LIMITED_BODY)
    yield s
    s.stop()


def one_answer(srv, head, body, status):
    """@head and @body sent raw: one answer, with @status; returns its
    header fields, its body and the records written."""
    pos = srv.audit.size()
    got, data = raw(srv, head, body, timeout=5)
    recs = srv.audit.records(pos, wait=0.5)
    assert got == status, data
    assert data.count(b"HTTP/1.1 ") == 1, data
    fields, page = data.split(b"\r\n\r\n", 1)
    return fields, page, recs


def answered_by_httpd(srv, head, body, status):
    """@head and @body sent raw: @status is httpd's own page, alone on the
    connection (no problem+json of ours after it), and the one record says
    that status; returns the record."""
    fields, page, recs = one_answer(srv, head, body, status)
    assert b"Content-Type: text/html" in fields, fields
    assert page.rstrip().endswith(b"</html>"), page
    assert b"about:blank" not in page, page
    assert len(recs) == 1, recs
    rec = recs[0]
    assert rec["decision"] == "deny" and rec["status"] == status, rec
    assert rec["stage"] == "input", rec
    return rec


def chunked(data, size=500):
    return b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]),
                                          data[i:i + size])
                    for i in range(0, len(data), size)) + b"0\r\n\r\n"


def long_order(path, framing, token=None):
    """A POST of @path, with @token if any, of an order the contract takes
    made longer than 1000 bytes by spaces, framed by Content-Length or
    chunked: (head, body) for raw()."""
    data = json.dumps(order(), indent=300).encode()
    assert 1000 < len(data) < 16384
    head = (b"POST %s HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n" % path.encode())
    if token is not None:
        head += b"Authorization: Bearer %s\r\n" % token.encode()
    if framing == "length":
        return head + b"Content-Length: %d\r\n\r\n" % len(data), data
    return head + b"Transfer-Encoding: chunked\r\n\r\n", chunked(data)


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("path", ["/echo", "/orders"])
def test_limit_request_body_413_from_httpd(limited, keys, framing, path):
    # A body the route's contract takes (its max is 64k / 16k; spaces make
    # a valid order long), but over the server's 1000 bytes: httpd's 413,
    # neither a 400 from the module nor the CGI's 200; a token route too,
    # where the body is read only once the policy allowed.
    token = sign(keys, claims(scope="orders:write"), alg="ES256")
    head, body = long_order(path, framing, token)
    rec = answered_by_httpd(limited, head, body, 413)
    assert rec["reason"] == SERVER_LIMIT, rec
    assert rec["sub"] == "alice" and rec["rule"] is None, rec
    # The same request within the limit reaches the CGI.
    small = json.dumps(order()).encode()
    r = limited.req("POST", path, token=token, data=small, headers=JSON)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.audit[0]["decision"] == "allow", r.audit


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("scope,status,stage", [
    (None, 401, "token"), ("orders:read", 403, "policy")])
def test_refusal_before_the_body_is_read_stands(limited, keys, framing,
                                                scope, status, stage):
    # Refused before its body is read: the module's answer goes out and
    # the connection closes, so httpd reads none of the body (to keep the
    # connection, it would read all of it, and past LimitRequestBody answer
    # its 413 in place of the 401 / 403 the record says).
    token = sign(keys, claims(scope=scope), alg="ES256") if scope else None
    head, body = long_order("/orders", framing, token)
    fields, answer, recs = one_answer(limited, head, body, status)
    assert b"Connection: close" in fields, fields
    assert json.loads(answer)["status"] == status, answer
    assert [(r["status"], r["stage"]) for r in recs] == [(status, stage)], recs


# The same limit over HTTP/2 (mod_http2 on TLS): httpd's 413 reaches the
# client, and the record takes that status, not one of its own.
H2_BODY = """\
LoadModule http2_module %(mods)s/mod_http2.so
Protocols h2 http/1.1
"""


@pytest.fixture(scope="module")
def limited_h2(zt_cfg, roots, upstream, workdir):
    pki = Pki(os.path.join(workdir, "body-h2-pki"))
    cert, key = pki.server()
    port = zt_e2e.free_port()
    s = body_server(zt_cfg, roots, upstream, LIMITED_BODY + H2_BODY
                    + SSL_BODY.format(mods="%(mods)s", tls=port, cert=cert,
                                      key=key, ca=pki.ca_file))
    yield s, "https://127.0.0.1:%d" % port, pki.ca_file
    s.stop()


@pytest.mark.parametrize("path", ["/echo", "/orders"])
def test_limit_request_body_413_over_http2(limited_h2, keys, workdir, path):
    srv, base, ca = limited_h2
    token = sign(keys, claims(scope="orders:write"), alg="ES256")
    data = os.path.join(workdir, "long-order.json")
    with open(data, "wb") as f:
        f.write(json.dumps(order(), indent=300).encode())
    assert os.path.getsize(data) > 1000
    pos = srv.audit.size()
    status, version, page = curl("--http2", "--cacert", ca, "-X", "POST",
                                 "-H", "Authorization: Bearer " + token,
                                 "-H", "Content-Type: application/json",
                                 "--data-binary", "@" + data, base + path)
    assert (status, version) == (413, "2"), page
    assert "about:blank" not in page, page      # httpd's page, not ours
    recs = srv.audit.records(pos, wait=0.5)
    assert [(r["status"], r["reason"]) for r in recs] == [(413, SERVER_LIMIT)], recs
    # Within the limit, over the same protocol, it reaches the CGI.
    status, version, _ = curl("--http2", "--cacert", ca, "-X", "POST",
                              "-H", "Authorization: Bearer " + token,
                              "-H", "Content-Type: application/json",
                              "--data-binary", json.dumps(order()), base + path)
    assert (status, version) == (200, "2")


# ---------------------------------------------------------------------------
# A slow body, and parameter tricks around bodies

def test_slow_body_408_and_others_served(srv):
    head = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/json\r\nContent-Length: 100\r\n\r\n")
    result = {}

    def slow():
        result["r"] = raw(srv, head, b'{"a": "', timeout=20, pause=6,
                          rest=b"x" * 93)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    still_serving(srv)              # while the slow one waits
    t.join(30)
    status, data = result["r"]
    assert status == 408, data
    assert b"application/problem+json" in data
    still_serving(srv)


def test_pipelined_request_after_refused_body_not_run(srv, upstream):
    # The body of a refused request is never taken for a next request.
    before = len(upstream.seen)
    smuggled = b"GET /things HTTP/1.1\r\nHost: x\r\n\r\n"
    status, data = raw(srv, b"POST /orders HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                       % len(smuggled), smuggled, timeout=5)
    assert status == 415, data
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert len(upstream.seen) == before


def test_chunked_with_bad_framing_400(srv):
    # HTTP_IN answers a bad chunk itself, as the module reads the body.
    rec = answered_by_httpd(srv, b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n",
                            b"zz\r\n{}\r\n0\r\n\r\n", 400)
    assert rec["reason"] == ("body: found a body the server could not read, "
                             "expected a body framed as its headers say"), rec
    still_serving(srv)


def test_query_pollution_refused_before_body(srv, upstream):
    before = len(upstream.seen)
    r = srv.req("POST", "/echo?a=1&a=2", data=b'{"a": 1}', headers=JSON)
    body = assert_problem(r, 400)
    assert body["invalid-params"][0]["name"] == "query.a", body
    assert len(upstream.seen) == before


def test_encoded_slash_and_dot_segments(srv, upstream):
    before = len(upstream.seen)
    status, data = raw(srv, b"POST /ec%2Fho HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: 2\r\n\r\n", b"{}", timeout=5)
    assert status == 404, data
    assert len(upstream.seen) == before
    data = b'{"dots": true}'
    status, out = raw(srv, b"POST /x/../echo HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(data), data,
                      timeout=5)
    assert status == 200, out
    got = json.loads(out.split(b"\r\n\r\n", 1)[1])
    assert got["path"] == "/echo" and got["length"] == len(data), got


def test_expect_100_continue(srv):
    """The client waits for 100 before it sends the body: it gets it only
    once the request is allowed and the body is wanted; a body too large
    is refused without a 100."""
    data = b'{"expect": 100}'
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Expect: 100-continue\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(data))
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 100 "), first
        s.sendall(data)
        rest = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    finally:
        s.close()
    assert rest.startswith(b"HTTP/1.1 200 "), rest
    got = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert got["sha256"] == hashlib.sha256(data).hexdigest(), got
    status, out = raw(srv, b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                      b"Expect: 100-continue\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 999999\r\n\r\n", timeout=5)
    assert status == 413 and b" 100 " not in out.split(b"\r\n")[0], out


# Every 413 for a body over a limit says the same, wherever the size was
# found out; a body where the route declares none says that instead.
TOO_LARGE = "The request body is larger than this resource accepts."
NO_BODY = "This resource takes no request body."


def test_413_details(srv):
    def detail(r, why):
        refused(r, 413, why=why)
        return r.json()["detail"]

    # Content-Length over max (the headers alone), chunked over max (read).
    r = srv.req("POST", "/orders", data=b"x" * 20000, headers=JSON)
    assert detail(r, "found 20000 bytes, expected at most 16384") == TOO_LARGE
    r = srv.req("POST", "/echo", data=(b"[" + b"1," * 40000 for _ in range(2)),
                headers=JSON)
    assert detail(r, "more than 65536 bytes") == TOO_LARGE
    # A route without a body: by Content-Length, and chunked.
    r = srv.req("GET", "/things", data=b'{"a": 1}', headers=JSON)
    assert detail(r, "found 8 bytes, expected no body") == NO_BODY
    r = srv.req("POST", "/nobody", data=(b"x" for _ in range(3)))
    assert detail(r, "expected no body") == NO_BODY


def test_body_survives_internal_redirect(zt_cfg, roots, upstream):
    s = body_server(zt_cfg, roots, upstream, REDIRECT_BODY)
    try:
        data = b'{"via": "redirect", "n": [1, 2, 3]}'
        got = passed(s.req("POST", "/old", data=data, headers=JSON), data)
        assert got["path"] == "/echo", got
        r = s.req("POST", "/old", data=b'{"a": 1, "a": 2}', headers=JSON)
        refused(r, 400, why="duplicate")
    finally:
        s.stop()


# What `zpc test` decides for a test block's body is what the module
# answers: each request below goes to Apache, and then, written as a test
# block expecting the module's answer, through `zpc test` on the same
# policy and schemas.
OUTCOME = {200: "allow", 400: "invalid", 401: "token", 403: "deny",
           413: "toolarge", 415: "mediatype"}
BIG = json.dumps(order(note="x" * 500, items=[{"sku": "AB-12", "quantity": 1}] * 700))
CASES = [
    # (method, path, writer token?, Content-Type or None, body): None with
    # no bytes is `body none`, with bytes `body untyped` (no Content-Type)
    ("POST", "/orders", True, "application/json", json.dumps(order())),
    ("POST", "/orders", True, "application/json",
     json.dumps(order(items=[{"sku": "AB-12", "quantity": 0}]))),
    ("POST", "/orders", True, "text/plain", json.dumps(order())),
    ("POST", "/orders", True, "application/json; charset=latin1",
     json.dumps(order())),
    ("POST", "/orders", True, "application/json", BIG),
    ("POST", "/orders", True, None, ""),
    ("POST", "/orders", True, None, json.dumps(order())),
    ("POST", "/nobody", False, None, "{}"),
    ("POST", "/orders", False, "application/json", '{"quantity": 0}'),
    ("POST", "/orders", False, "text/plain", "x"),
    ("PUT", "/docs", False, "application/xml",
     "<doc><title>t</title><count>2</count></doc>"),
    ("PUT", "/docs", False, "text/xml", "<page/>"),
    ("PUT", "/docs", False, "application/xml", "<doc><title>t</title>"),
    ("PUT", "/docs", False, "application/xml",
     '<!DOCTYPE doc [<!ENTITY e "x">]><doc><title>&e;</title><count>1</count></doc>'),
    ("POST", "/nobody", False, "application/json", "{}"),
    ("POST", "/echo", False, "application/merge-patch+json", '{"a": 1}'),
    ("POST", "/echo", False, "application/json", '{"a": 1, "a": 2}'),
]


def test_zpc_test_decides_bodies_as_the_module(srv, zt_cfg, writer, tmp_path):
    blocks = []
    for n, (method, path, tok, ctype, text) in enumerate(CASES):
        data = text.encode()
        r = srv.req(method, path, writer if tok else None,
                    headers={"Content-Type": ctype} if ctype else {},
                    data=data)
        assert r.status_code in OUTCOME, (n, r.status_code, r.text)
        (tmp_path / ("case%d.body" % n)).write_bytes(data)
        blocks.append('test "case %d: %s %s, %s" {\n%s    request %s %s\n'
                      '    body    %s\n    expect  %s\n}\n' % (
                          n, method, path, ctype,
                          '    token   { sub "alice"  scope "orders:write" }\n'
                          if tok else "", method, path,
                          'none' if ctype is None and not text
                          else 'untyped file "case%d.body"' % n
                          if ctype is None
                          else '"%s" file "case%d.body"' % (ctype, n),
                          OUTCOME[r.status_code]))
    for name in ("body_order.schema.json", "body_doc.xsd"):
        shutil.copy(os.path.join(HERE, name), str(tmp_path))
    with open(os.path.join(HERE, "body.ztp")) as f:
        (tmp_path / "t.ztp").write_text(f.read() + "\n" + "".join(blocks))
    p = subprocess.run([zt_cfg.zpc, "test", "t.ztp"], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "# %d tests: %d passed, 0 failed" % (len(CASES), len(CASES)) in out, out
    # The answers cover every body outcome, so the agreement means something.
    outcomes = set(re.findall(r"expect  (\w+)", "".join(blocks)))
    assert outcomes >= {"allow", "invalid", "token", "toolarge",
                        "mediatype"}, outcomes
    # Bytes without a Content-Type: 415 where a body is declared, 413 where
    # none is (the length is refused first), in Apache and in zpc test.
    untyped = [b for b in blocks if "body    untyped" in b]
    assert [re.search(r"expect  (\w+)", b).group(1) for b in untyped] == \
        ["mediatype", "toolarge"], untyped
