# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The demo behind examples/demo.sh: the Orders API of
examples/orders/orders.ztp behind a real Apache, and seventeen requests with
real signed tokens, each shown with its answer and the reason."""

import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "test", "e2e"))

import requests                                           # noqa: E402
import zt_e2e                                             # noqa: E402
from zt_e2e import Httpd, Keys, claims, sign             # noqa: E402

ISS = "https://idp.example.com/realms/corp"

BODY = """\
# Plain HTTP on 127.0.0.1 for the demo; serve a real API over TLS and
# leave ZeroTrustRequireTLS at its default, On.
ZeroTrustRequireTLS Off
""" + zt_e2e.api_body("policy/orders.ztb")


def token(keys, alg="ES256", evil=False, **kw):
    return sign(keys, claims(iss=ISS, **kw), alg=alg, evil=evil)


ORDER = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"
NEW_ORDER = {"customer": "5d6c7b8a-0f1e-4d2c-9b3a-1e2f3a4b5c6d",
             "items": [{"sku": "BOOK-0042", "quantity": 2}]}


def scenarios(keys):
    """(method, path, token, caller, extra request arguments)"""
    reader = token(keys, sub="alice", scope="orders:read profile")
    admin = token(keys, "RS256", sub="root", realm_access={"roles": ["admin"]})
    mfa = token(keys, "RS256", sub="root", realm_access={"roles": ["admin"]},
                acr="urn:example:mfa", auth_time=int(time.time()) - 60)
    return [
        ("GET", "/health", None, "no token, public route", {}),
        ("GET", "/orders", None, "no token", {}),
        ("GET", "/orders", reader, "alice, scope orders:read (ES256)", {}),
        ("GET", "/orders/" + ORDER, token(keys, sub="alice", scope="profile"),
         "alice, no orders:read scope", {}),
        ("POST", "/orders", token(keys, "EdDSA", sub="alice",
                                  scope="orders:write"),
         "alice, scope orders:write (EdDSA)",
         {"json": NEW_ORDER, "headers": {"Idempotency-Key": "demo-0001-0002"}}),
        ("DELETE", "/orders/" + ORDER, admin,
         "an admin (RS256), not from the office", {}),
        ("GET", "/orders?limit=500", reader, "alice, limit above int 1..100",
         {}),
        ("GET", "/orders?debug=1", reader,
         "alice, an undeclared query parameter", {}),
        ("DELETE", "/orders/" + ORDER, admin,
         "an admin from the office, no MFA (acr)", {"office": True}),
        ("DELETE", "/orders/" + ORDER, mfa,
         "an admin from the office, MFA a minute ago", {"office": True}),
        ("GET", "/users/alice/orders", token(keys, sub="alice"),
         "alice reads her own orders", {}),
        ("GET", "/users/bob/orders", token(keys, sub="alice"),
         "alice reads bob's orders", {}),
        ("GET", "/orders", token(keys, sub="batch", azp="legacy-batch",
                                 scope="orders:read"),
         "the legacy batch client (deny beats allow)", {}),
        ("GET", "/orders", token(keys, sub="alice", scope="orders:read",
                                 iat=int(time.time()) - 3600, lifetime=600),
         "an expired token", {}),
        ("GET", "/orders", token(keys, sub="alice", scope="orders:read",
                                 evil=True),
         "a token signed with someone else's key", {}),
        ("GET", "/orders", token(keys, sub="alice", scope="orders:read",
                                 aud="billing-api"),
         "a token for another API", {}),
        ("GET", "/admin/users", reader, "an endpoint the API does not declare",
         {}),
    ]


def office_copy(src, dest):
    """The policy with this machine in the office network, so that the
    step-up rows can be shown from 127.0.0.1; its rules are otherwise the
    same.  The first server serves orders.ztp itself, unchanged."""
    with open(src) as f:
        text = f.read()
    office = "let office = client.ip in [10.0.0.0/8, 2001:db8::/32]"
    if office not in text:
        raise zt_e2e.SetupError("%s: no line %r" % (src, office))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write(text.replace(office, office[:-1] + ", 127.0.0.1/32]"))
    # The files the policy names (its schema, its tests' bodies) beside it.
    here = os.path.dirname(src)
    for name in os.listdir(here):
        path = os.path.join(here, name)
        if os.path.isfile(path) and name != os.path.basename(src):
            shutil.copy(path, os.path.dirname(dest))
    return dest


def serve(cfg, keys, root, src, port):
    """An Apache on @port guarding the echo API with @src compiled."""
    zt_e2e.make_tree(root)
    zt_e2e.install_cgi(root)
    keys.write_jwks(os.path.join(root, "policy"))
    ztb = os.path.join(root, "policy", "orders.ztb")
    zt_e2e.compile_policy(cfg, src, ztb)
    shown = os.path.relpath(src, TOP) if src.startswith(TOP) else src
    print("compiled %s -> %s" % (shown, ztb))
    srv = Httpd(cfg, root, BODY)
    srv.plain_http = ""             # BODY says it
    srv.port = port
    srv.table = ztb
    srv.write_conf()
    srv.start()
    return srv


def short(path):
    """The path in its column: a UUID shortened."""
    return path if len(path) <= 20 else path[:17] + "..."


def why(r):
    """The reason, as the client sees it."""
    if r.status_code == 200:
        return "allowed by " + r.json().get("ZT_RULE", "?")
    chal = dict(re.findall(r'(\w+)="([^"]*)"',
                           r.headers.get("WWW-Authenticate", "")))
    if "error_description" in chal:
        if "acr_values" in chal:                  # a step-up challenge
            return "%s (acr_values %s, max_age %s)" % (
                chal["error_description"], chal["acr_values"],
                chal.get("max_age", "-"))
        return chal["error_description"]
    try:
        return r.json().get("detail", "")
    except ValueError:
        return r.text[:60]


def main():
    cfg = zt_e2e.Config(zt_e2e.find_config())
    cfg.check()
    port = int(os.environ.get("ZT_DEMO_PORT", "8480"))
    root = os.path.join(cfg.builddir, "demo")

    office_root = root + "-office"

    # A previous demo server may still run: stop it first.
    for r in (root, office_root):
        old = Httpd(cfg, r, BODY) if os.path.exists(r) else None
        if old is not None and old.pid() and old.alive(old.pid()):
            old.started = True
            old.stop()

    # The office copy is made afresh: nothing of an older one may stand in.
    shutil.rmtree(office_root, ignore_errors=True)
    keys = Keys()
    src = os.path.join(TOP, "examples", "orders", "orders.ztp")
    srv = serve(cfg, keys, root, src, port)
    # The office is 10.0.0.0/8 and 2001:db8::/32; the demo's client is
    # 127.0.0.1, so the step-up rows go to a second Apache whose policy
    # also counts 127.0.0.1/32 as the office.
    office_src = office_copy(src, os.path.join(office_root, "orders.ztp"))
    office = serve(cfg, keys, office_root, office_src, port + 1)
    print("Apache with mod_zerotrust listens on %s (orders.ztp); the step-up"
          " rows use %s (127.0.0.1 in the office), stopped after them\n"
          % (srv.url, office.url))

    print("  status request                     caller                                       "
          "client is told / audit log says")
    for method, path, tok, who, extra in scenarios(keys):
        h = dict(extra.get("headers", {}))
        if tok:
            h["Authorization"] = "Bearer " + tok
        to = office if extra.get("office") else srv
        pos = to.audit.size()
        r = requests.request(method, to.url + path, headers=h,
                             json=extra.get("json"), timeout=10)
        rec = (to.audit.records(pos, wait=1.0) or [{}])[-1]
        print("  %d    %-6s %-20s %-44s %s\n%78s[%s: %s%s]"
              % (r.status_code, method, short(path), who, why(r), "",
                 rec.get("stage"), rec.get("reason"),
                 ", rule " + rec["rule"] if rec.get("rule") else ""))

    office.stop()           # only the step-up rows needed it
    print("\naudit log:  %s" % srv.audit.path)
    last = srv.audit.all().splitlines()[-1:]
    if last:
        print("last record: %s" % last[0])
    print("table:      %s dump %s" % (cfg.zpc, srv.table))
    print("stop with:  %s -f %s -k stop" % (cfg.httpd, srv.conf))


if __name__ == "__main__":
    try:
        main()
    except zt_e2e.SetupError as e:
        sys.exit("demo: %s" % e)
