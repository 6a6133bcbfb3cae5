# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The audit record's request_id is the request's log id: the access log's
%L and the error log's %L show the same, whoever made it first (the
module, with the process id read once per child, or httpd's core when an
error log line came first)."""

import re

import requests

import zt_e2e
from zt_e2e import claims, sign

BODY = zt_e2e.api_body("policy/api.ztb").replace(
    'ZeroTrustAuditLog "logs/audit.log"',
    'ZeroTrustAuditLog "logs/audit.log"\n'
    'LogFormat "%L %U" withid\n'
    'CustomLog "logs/ids.log" withid\n'
    'ErrorLogFormat "[%m:%l] [%L] %M"\n')

CORE_ID = re.compile(r"^[A-Za-z0-9+/]{11}$")


def ids_log(srv):
    with open(srv.root + "/logs/ids.log") as f:
        return dict(reversed(line.split()) for line in f if line.strip())


def test_request_id_is_the_log_id(servers, keys):
    srv = servers(BODY)
    tok = sign(keys, claims(sub="alice", scope="orders:read"))
    seen, by_path = set(), {}
    for i in range(6):
        # Allowed: the module makes the id (nothing logged before it).
        r = srv.get("/orders/%d" % i, tok)
        assert r.status_code == 200
        [rec] = r.audit
        assert CORE_ID.match(rec["request_id"]), rec["request_id"]
        seen.add(rec["request_id"])
        by_path[rec["path"]] = rec["request_id"]
    # Refused without a token: ZT00004 (info) comes first, so httpd's core
    # made the id, and the record carries that one.
    pos = srv.errlog.size()
    r = srv.get("/orders/none")
    assert r.status_code == 401
    [refused] = r.audit
    line = [l for l in srv.errlog.since(pos).splitlines() if "ZT00004" in l]
    assert line and "[%s]" % refused["request_id"] in line[0], line
    assert CORE_ID.match(refused["request_id"])
    seen.add(refused["request_id"])
    assert len(seen) == 7
    srv.stop()
    logged = ids_log(srv)
    for i in range(6):
        assert logged["/orders/%d" % i] == by_path["/orders/%d" % i]
    assert logged["/orders/none"] == refused["request_id"]


def test_request_id_is_unique_id_when_set(servers, keys):
    # A front end's request id, passed on as UNIQUE_ID without
    # mod_unique_id (SetEnvIf): the record carries it, so operators can
    # follow one request through both tiers.
    body = BODY.replace(
        'ZeroTrustAuditLog "logs/audit.log"',
        'ZeroTrustAuditLog "logs/audit.log"\n'
        'SetEnvIf X-Request-Id "^([A-Za-z0-9-]+)$" UNIQUE_ID=$1')
    srv = servers(body)
    tok = sign(keys, claims(sub="alice", scope="orders:read"))
    r = srv.get("/orders/1", tok, headers={"X-Request-Id": "lb-7f3a-0001"})
    assert r.status_code == 200
    [rec] = r.audit
    assert rec["request_id"] == "lb-7f3a-0001"
    # Without the header, the log id as before.
    r = srv.get("/orders/2", tok)
    [rec] = r.audit
    assert CORE_ID.match(rec["request_id"]), rec["request_id"]
