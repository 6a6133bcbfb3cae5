# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Configuration: bad tables fail `apachectl -t` with a clear message and
never crash Apache; misconfigured sections fail closed."""

import json
import os
import re
import shutil
import time

import pytest

from zt_e2e import assert_problem, claims, sign

BASE = """\
ScriptAliasMatch "^/(.*)$" "{root}/cgi/echo.py/$1"
<Directory "{root}/cgi">
    Options +ExecCGI
</Directory>
ZeroTrustAuditLog "logs/audit.log"
"""

PROTECTED = BASE + """\
<Location "/">
    ZeroTrustPolicy "%s"
    AuthType ZeroTrust
    Require zerotrust
</Location>
"""


def protected(policy):
    return PROTECTED % policy


def assert_configtest_fails(srv, *needles):
    rc, out = srv.configtest()
    # 1 is httpd's "configuration error"; a signal would be negative.
    assert rc == 1, (rc, out)
    for n in needles:
        assert n in out, (n, out)
    assert not re.search(r"Segmentation|core dumped|Aborted|AddressSanitizer",
                         out), out
    return out


def test_valid_config_is_syntax_ok(servers):
    srv = servers(protected("policy/api.ztb"), start=False)
    rc, out = srv.configtest()
    assert rc == 0, out
    assert "Syntax OK" in out


def test_missing_table(servers):
    srv = servers(protected("policy/missing.ztb"), start=False)
    out = assert_configtest_fails(srv, "ZeroTrustPolicy", "missing.ztb",
                                  srv.conf)
    assert re.search(r"line \d+ of", out), out


def mangle(srv, how):
    path = os.path.join(srv.root, "policy/api.ztb")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "flip":
        data[len(data) // 2] ^= 0xFF
    elif how == "flip-header":
        data[5] ^= 0x01                 # the version field
    elif how == "flip-trailer":
        data[-1] ^= 0x01
    elif how == "truncate":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = bytearray()
    elif how == "garbage":
        data = bytearray(b"GET / HTTP/1.0\r\n" * 64)
    with open(path, "wb") as f:
        f.write(bytes(data))


@pytest.mark.parametrize("how", ["flip", "flip-header", "flip-trailer",
                                 "truncate", "empty", "garbage"])
def test_corrupted_table(servers, how):
    srv = servers(protected("policy/api.ztb"), start=False)
    mangle(srv, how)
    out = assert_configtest_fails(srv, "ZeroTrustPolicy", "api.ztb",
                                  srv.conf)
    assert re.search(r"line \d+ of", out), out


def test_corrupted_table_refuses_to_start(servers):
    srv = servers(protected("policy/api.ztb"), start=False)
    mangle(srv, "flip")
    rc, out = srv.run("-k", "start")
    assert rc != 0 and rc > 0, out
    assert srv.pid() is None or not srv.alive(srv.pid())


def test_missing_key_set(servers):
    srv = servers(protected("policy/api.ztb"), start=False)
    os.unlink(os.path.join(srv.root, "policy/partner.jwks.json"))
    assert_configtest_fails(srv, "ZeroTrustPolicy", "partner")


def test_bad_key_set(servers):
    srv = servers(protected("policy/api.ztb"), start=False)
    with open(os.path.join(srv.root, "policy/corp.jwks.json"), "w") as f:
        f.write('{"keys": [ {"kty": "EC", "crv": "P-256", "x": "AAAA"')
    assert_configtest_fails(srv, "ZeroTrustPolicy", "corp")


def test_unusable_key_is_a_startup_warning(servers, keys):
    """A key the set holds but can never use is named once at start-up
    (ZT00019); the other keys still verify."""
    srv = servers(protected("policy/api.ztb"), start=False)
    path = os.path.join(srv.root, "policy/corp.jwks.json")
    with open(path) as f:
        doc = json.load(f)
    enc = dict(doc["keys"][0], kid="enc1", use="enc")
    doc["keys"].append(enc)
    with open(path, "w") as f:
        json.dump(doc, f)
    rc, out = srv.configtest()
    assert rc == 0 and "ZT00019" in out and "enc1" in out, out
    srv.start()
    log = srv.errlog.all()
    # Other keys may have their own notes (a short EC coordinate, say).
    warned = [l for l in log.splitlines() if "ZT00019" in l and "enc1" in l]
    assert len(warned) == 1, log[-2000:]
    assert "[zerotrust:warn]" in warned[0]
    r = srv.get("/orders", sign(keys, claims(scope="orders:read")))
    assert r.status_code == 200, r.text


def test_token_max_size_with_a_suffix(servers, keys):
    """ZeroTrustTokenMaxSize 1K: the longest token up to 1 024 bytes
    passes, the shortest above is refused before it is decoded."""
    srv = servers(protected("policy/api.ztb").replace(
        "    Require zerotrust\n",
        "    Require zerotrust\n    ZeroTrustTokenMaxSize 1K\n"))
    toks = [sign(keys, claims(scope="orders:read", pad="x" * k))
            for k in range(0, 900, 3)]
    fits = [t for t in toks if len(t) <= 1024]
    over = [t for t in toks if len(t) > 1024]
    assert fits and over and max(map(len, fits)) > 1000
    assert srv.get("/orders", max(fits, key=len)).status_code == 200
    r = srv.get("/orders", min(over, key=len))
    assert r.status_code == 401, r.text
    assert "too large" in r.headers.get("WWW-Authenticate", ""), r.headers


@pytest.mark.parametrize("directive,needle", [
    ("ZeroTrustTokenMaxSize 12", "ZeroTrustTokenMaxSize"),
    ("ZeroTrustTokenMaxSize lots", "ZeroTrustTokenMaxSize"),
    ("ZeroTrustPolicy", "ZeroTrustPolicy"),
    ("<Location /x>\nRequire zerotrust please\n</Location>", "zerotrust"),
    ("<Location /x>\nRequire not zerotrust\n</Location>", "not zerotrust"),
    # The same negation as a section: beside Require ip it granted what
    # the table refuses (a 200 for GET /orders without a token, no record).
    ("<Location /x>\n<RequireAll>\nRequire ip 127.0.0.1\n<RequireNone>\n"
     "Require zerotrust\n</RequireNone>\n</RequireAll>\n</Location>",
     "inside <RequireNone>"),
    ("<Location /x>\n<RequireAll>\nRequire ip 127.0.0.1\n<RequireNone>\n"
     "<RequireAny>\nRequire zerotrust\nRequire ip 10.0.0.1\n</RequireAny>\n"
     "</RequireNone>\n</RequireAll>\n</Location>", "inside <RequireNone>"),
])
def test_bad_directives(servers, directive, needle):
    srv = servers(protected("policy/api.ztb") + directive + "\n",
                  start=False)
    assert_configtest_fails(srv, needle)


def test_require_without_any_policy_fails_configtest(servers):
    body = BASE + """\
<Location "/">
    AuthType ZeroTrust
    Require zerotrust
</Location>
"""
    srv = servers(body, start=False)
    assert_configtest_fails(srv, "ZT00011", "Require zerotrust")


def test_section_without_policy_fails_closed(servers, keys, allow_log):
    allow_log.append("ZT00001")
    body = BASE + """\
<Location "/orders">
    ZeroTrustPolicy "policy/api.ztb"
    AuthType ZeroTrust
    Require zerotrust
</Location>
<Location "/health">
    AuthType ZeroTrust
    Require zerotrust
</Location>
"""
    srv = servers(body)
    r = srv.get("/health")
    assert_problem(r, 500)
    assert "ZT00001" in srv.errlog.all()
    [rec] = r.audit
    assert (rec["decision"], rec["stage"]) == ("deny", "config")
    # The configured part works.
    ok = srv.get("/orders", sign(keys, claims(scope="orders:read")))
    assert ok.status_code == 200


def test_require_without_authtype_fails_closed(servers, keys, allow_log):
    allow_log.append("ZT00002")
    body = BASE + """\
ZeroTrustPolicy "policy/api.ztb"
<Location "/">
    Require zerotrust
</Location>
"""
    srv = servers(body)
    r = srv.get("/health")
    assert r.status_code == 500
    r = srv.get("/orders", sign(keys, claims(scope="orders:read")))
    assert r.status_code == 500
    assert "ZT00002" in srv.errlog.all()


def test_server_level_policy_is_inherited(servers, keys):
    body = BASE + """\
ZeroTrustPolicy "policy/api.ztb"
<Location "/">
    AuthType zerotrust
    Require zerotrust
</Location>
"""
    srv = servers(body)
    assert srv.get("/health").status_code == 200
    r = srv.get("/orders", sign(keys, claims(scope="orders:read")))
    assert r.status_code == 200


def test_policy_named_twice_is_loaded_once(servers, keys):
    body = BASE + """\
<Location "/orders">
    ZeroTrustPolicy "policy/api.ztb"
    AuthType ZeroTrust
    Require zerotrust
</Location>
<Location "/health">
    ZeroTrustPolicy "{root}/policy/api.ztb"
    AuthType ZeroTrust
    Require zerotrust
</Location>
"""
    srv = servers(body)
    assert srv.get("/health").status_code == 200
    assert srv.get("/orders").status_code == 401


@pytest.mark.parametrize("pipe", ["|$/bin/cat >> {root}/logs/piped.log",
                                  "|/usr/bin/tee -a {root}/logs/piped.log",
                                  "||/usr/bin/tee -a {root}/logs/piped.log"])
def test_piped_audit_log(servers, keys, pipe):
    body = protected("policy/api.ztb").replace(
        'ZeroTrustAuditLog "logs/audit.log"',
        'ZeroTrustAuditLog "%s"' % pipe)
    srv = servers(body)
    for _ in range(3):
        assert srv.get("/health").status_code == 200
    assert srv.get("/orders").status_code == 401
    path = os.path.join(srv.root, "logs/piped.log")
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                lines = f.read().splitlines()
            if len(lines) >= 4:
                break
        time.sleep(0.05)
    assert len(lines) == 4, lines
    assert [__import__("json").loads(l)["decision"] for l in lines] == [
        "allow", "allow", "allow", "deny"]


def test_graceful_restart_with_new_table(servers, keys, zt_cfg):
    srv = servers(protected("policy/api.ztb"))
    tok = sign(keys, claims(scope="orders:read"))
    assert srv.get("/orders", tok).status_code == 200
    # A new table under the same name: picked up on graceful restart.
    src = os.path.join(srv.root, "policy/api.ztp")
    with open(src) as f:
        text = f.read()
    with open(src, "w") as f:
        f.write(text.replace('allow GET /orders, GET /orders/{id}      when reader',
                             'allow GET /orders/{id}      when reader'))
    from zt_e2e import compile_policy
    compile_policy(zt_cfg, src, os.path.join(srv.root, "policy/api.ztb"))
    srv.graceful()
    deadline = time.time() + 10
    status = None
    while time.time() < deadline:
        status = srv.get("/orders", tok).status_code
        if status == 403:
            break
        time.sleep(0.2)
    assert status == 403
    assert srv.get("/orders/1", tok).status_code == 200


def test_graceful_restart_with_broken_table_keeps_running(servers, keys):
    srv = servers(protected("policy/api.ztb"))
    tok = sign(keys, claims(scope="orders:read"))
    pid = srv.pid()
    mangle(srv, "flip")
    # httpd reads the configuration before it signals the running server:
    # the restart is refused, and the old generation keeps its good table.
    rc, out = srv.run("-k", "graceful")
    assert rc == 1, out
    assert "ZeroTrustPolicy" in out and "api.ztb" in out, out
    time.sleep(0.3)
    assert srv.pid() == pid and srv.alive(pid)
    assert srv.get("/orders", tok).status_code == 200


# Every numeric directive reads its number with one parser: whatever is
# wrong with it, the error names the directive, the argument and the range.
NUMBERS = [
    # (the directive up to the number, what the error says after it)
    ("ZeroTrustTokenMaxSize", "is not a size from 256 to 1M (bytes, or with "
     "K or M)"),
    ("ZeroTrustTokenCache", "is not 'off' or a number of entries from 16 "
     "to 1000000"),
    ("ZeroTrustTokenCache 100", "is not a size from 64K to 1G (bytes, or "
     "with K, M or G)"),
    ("ZeroTrustAuditBuffer", "is not Off or a size from 256 to 16M (bytes, "
     "or with K or M)"),
    ("ZeroTrustDPoPMaxAge", "is not a number of seconds from 1 to 3600"),
    ("ZeroTrustDPoPMaxAge 60", "is not a number of seconds from 0 to 300"),
    ("ZeroTrustDPoPNonce on", "is not a number of seconds from 10 to 86400"),
    ("ZeroTrustDPoPReplayCache", "is not a number of entries from 64 to "
     "16777216"),
    ("ZeroTrustDPoPKeyCache", "is not 'off' or a number of entries from 16 "
     "to 1000000"),
    ("ZeroTrustDPoPKeyCache 100", "is not a size from 64K to 1G (bytes, or "
     "with K, M or G)"),
]
BAD_NUMBERS = [
    "99999999999999999999",     # past 2^64
    "4294967360",               # 2^32 + 64: in range if read as 32 bits
    "-1", "-0", "+60",          # no sign
    '""',                       # empty
    "60s", "0x40", "1.5",       # trailing junk
]
COUNT_SUFFIXES = ["64K", "1M", "1G"]        # a count or seconds takes none
SIZE_JUNK = ["64KB", "1T", "K", '"64 K"']   # one K, M or G after digits


@pytest.mark.parametrize("prefix,says", NUMBERS,
                         ids=[p.replace(" ", "_") for p, _ in NUMBERS])
def test_number_errors(servers, prefix, says):
    name = prefix.split()[0]
    size = "a size" in says
    srv = servers(protected("policy/api.ztb"), start=False)
    for arg in BAD_NUMBERS + (SIZE_JUNK if size else COUNT_SUFFIXES):
        srv.write_conf(protected("policy/api.ztb") + prefix + " " + arg
                       + "\n")
        if arg == '""':
            # httpd itself refuses an empty first word ("takes one
            # argument"), and takes an empty second one for none at all.
            if " " not in prefix:
                assert_configtest_fails(srv, name + " take")
            continue
        shown = arg.strip('"')
        label = "clock skew " if prefix == "ZeroTrustDPoPMaxAge 60" else ""
        assert_configtest_fails(srv, "%s: %s'%s' %s" % (name, label,
                                                         shown, says))
