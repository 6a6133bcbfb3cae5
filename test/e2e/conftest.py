# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Fixtures of the end-to-end tests: a real Apache with mod_zerotrust on
127.0.0.1, keys and a compiled policy, and a guard that fails any test
after which an error log holds an unexpected error or a crash.

Nothing here skips: a missing Apache, module or zpc fails every test with
the reason."""

import os
import shutil
import tempfile

import pytest
import requests

import zt_e2e
from zt_e2e import Httpd, Keys, SetupError

# The main server.  Paths in {root} are the server root; ZeroTrustPolicy
# is relative to it, as the directive documents.
MAIN_BODY = """\
ZeroTrustAuditLog "logs/audit.log"
# Room for a token above ZeroTrustTokenMaxSize's default (8192).
LimitRequestFieldSize 32768
ScriptAliasMatch "^/(.*)$" "{root}/cgi/echo.py/$1"
# An operator rule that copies client data into ZT_SUBJECT: the module
# must not let it through.
SetEnvIf X-Forge "^(.*)$" ZT_SUBJECT=$1
<Directory "{root}/cgi">
    Options +ExecCGI
</Directory>
<Location "/">
    ZeroTrustPolicy "policy/api.ztb"
    AuthType ZeroTrust
    AuthName "e2e"
    AuthzSendForbiddenOnFailure Off
    Require zerotrust
</Location>
<Location "/internal/">
    <RequireAll>
        Require zerotrust
        Require ip 127.0.0.1
    </RequireAll>
</Location>
<Location "/elsewhere/">
    <RequireAll>
        Require zerotrust
        Require ip 192.0.2.0/24
    </RequireAll>
</Location>
"""

# Every server started in this session, for the error log guard.
SERVERS = []


class Api(Httpd):
    """An Apache plus a client that remembers the audit records each
    request produced."""

    def req(self, method, path, token=None, headers=None, raw_auth=None,
            **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if raw_auth is not None:
            h["Authorization"] = raw_auth
        pos = self.audit.size()
        r = requests.request(method, self.url + path, headers=h, timeout=15,
                             allow_redirects=False, **kw)
        r.audit = self.audit.records(pos, wait=0.5)
        return r

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token, **kw)


@pytest.fixture(scope="session")
def zt_cfg():
    try:
        cfg = zt_e2e.Config(zt_e2e.find_config())
        cfg.check()
    except SetupError as e:
        pytest.fail("end-to-end setup: %s" % e, pytrace=False)
    return cfg


@pytest.fixture(scope="session")
def keys():
    return Keys()


@pytest.fixture(scope="session")
def workdir(request):
    d = tempfile.mkdtemp(prefix="zt-e2e-")
    os.chmod(d, 0o755)
    yield d
    if request.session.testsfailed == 0:
        shutil.rmtree(d, ignore_errors=True)
    else:
        print("\nend-to-end: servers and logs kept in %s" % d)


class Roots:
    """Fresh server roots with the CGI, the key sets and the compiled
    policy; each call gives a new directory."""

    def __init__(self, cfg, keys, workdir):
        self.cfg, self.keys, self.workdir = cfg, keys, workdir
        self.n = 0

    def make(self, name="srv", policy="api.ztp"):
        self.n += 1
        root = os.path.join(self.workdir, "%s%d" % (name, self.n))
        zt_e2e.make_tree(root)
        zt_e2e.install_cgi(root)
        self.keys.write_jwks(os.path.join(root, "policy"))
        if policy:
            src = zt_e2e.copy_policy(root, policy)
            try:
                zt_e2e.compile_policy(self.cfg, src, src[:-4] + ".ztb")
            except SetupError as e:
                pytest.fail(str(e), pytrace=False)
        return root


@pytest.fixture(scope="session")
def roots(zt_cfg, keys, workdir):
    return Roots(zt_cfg, keys, workdir)


@pytest.fixture(scope="session")
def api(zt_cfg, roots):
    srv = Api(zt_cfg, roots.make("main"), MAIN_BODY)
    SERVERS.append(srv)
    try:
        srv.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield srv
    srv.stop()


@pytest.fixture
def servers(zt_cfg, roots):
    """Factory of extra servers for one test; all stopped afterwards."""
    made = []

    def make(body, start=True, policy="api.ztp"):
        srv = Api(zt_cfg, roots.make("extra", policy), body)
        SERVERS.append(srv)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def allow_log():
    """Substrings of error log lines a test expects (e.g. "ZT00001")."""
    return []


@pytest.fixture(autouse=True)
def errlog_guard(request, allow_log):
    before = {id(s): s.errlog.size() for s in SERVERS}
    yield
    problems = []
    for srv in SERVERS:
        text = srv.errlog.since(before.get(id(srv), 0))
        for line in srv.errlog.bad_lines(text, allow_log):
            problems.append("%s: %s" % (srv.errlog.path, line))
    if problems:
        pytest.fail("unexpected error log lines:\n" + "\n".join(problems),
                    pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    """Last line of defence (an interrupted run): no server outlives us."""
    for srv in SERVERS:
        try:
            srv.stop()
        except Exception:       # noqa: BLE001 - keep stopping the others
            pass
