# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The demo behind examples/demo.sh: the Orders API of
examples/orders/orders.ztp behind a real Apache, and a dozen requests with
real signed tokens, each shown with its answer and the reason."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "test", "e2e"))

import requests                                           # noqa: E402
import zt_e2e                                             # noqa: E402
from zt_e2e import Httpd, Keys, claims, sign             # noqa: E402

ISS = "https://idp.example.com/realms/corp"

BODY = zt_e2e.api_body("policy/orders.ztb")


def token(keys, alg="ES256", evil=False, **kw):
    return sign(keys, claims(iss=ISS, **kw), alg=alg, evil=evil)


ORDER = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"
NEW_ORDER = {"customer": "5d6c7b8a-0f1e-4d2c-9b3a-1e2f3a4b5c6d",
             "items": [{"sku": "BOOK-0042", "quantity": 2}]}


def scenarios(keys):
    """(method, path, token, caller, extra request arguments)"""
    reader = token(keys, sub="alice", scope="orders:read profile")
    admin = token(keys, "RS256", sub="root", realm_access={"roles": ["admin"]})
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


def short(path):
    """The path in its column: a UUID shortened."""
    return path if len(path) <= 20 else path[:17] + "..."


def why(r):
    """The reason, as the client sees it."""
    if r.status_code == 200:
        return "allowed by " + r.json().get("ZT_RULE", "?")
    chal = r.headers.get("WWW-Authenticate", "")
    if "error_description" in chal:
        return chal.split("error_description=", 1)[1].strip('"')
    try:
        return r.json().get("detail", "")
    except ValueError:
        return r.text[:60]


def main():
    cfg = zt_e2e.Config(zt_e2e.find_config())
    cfg.check()
    port = int(os.environ.get("ZT_DEMO_PORT", "8480"))
    root = os.path.join(cfg.builddir, "demo")

    # A previous demo server may still run: stop it first.
    old = Httpd(cfg, root, BODY) if os.path.exists(root) else None
    if old is not None and old.pid() and old.alive(old.pid()):
        old.started = True
        old.stop()

    zt_e2e.make_tree(root)
    zt_e2e.install_cgi(root)
    keys = Keys()
    keys.write_jwks(os.path.join(root, "policy"))
    src = os.path.join(TOP, "examples", "orders", "orders.ztp")
    ztb = os.path.join(root, "policy", "orders.ztb")
    zt_e2e.compile_policy(cfg, src, ztb)
    print("compiled %s -> %s" % (os.path.relpath(src, TOP), ztb))

    srv = Httpd(cfg, root, BODY)
    srv.port = port
    srv.write_conf()
    srv.start()
    print("Apache with mod_zerotrust listens on %s\n" % srv.url)

    print("  status request                     caller                                       "
          "client is told / audit log says")
    for method, path, tok, who, extra in scenarios(keys):
        h = dict(extra.get("headers", {}))
        if tok:
            h["Authorization"] = "Bearer " + tok
        pos = srv.audit.size()
        r = requests.request(method, srv.url + path, headers=h,
                             json=extra.get("json"), timeout=10)
        rec = (srv.audit.records(pos, wait=1.0) or [{}])[-1]
        print("  %d    %-6s %-20s %-44s %s\n%78s[%s: %s%s]"
              % (r.status_code, method, short(path), who, why(r), "",
                 rec.get("stage"), rec.get("reason"),
                 ", rule " + rec["rule"] if rec.get("rule") else ""))

    print("\naudit log:  %s" % srv.audit.path)
    last = srv.audit.all().splitlines()[-1:]
    if last:
        print("last record: %s" % last[0])
    print("table:      %s dump %s" % (cfg.zpc, ztb))
    print("stop with:  %s -f %s -k stop" % (cfg.httpd, srv.conf))


if __name__ == "__main__":
    try:
        main()
    except zt_e2e.SetupError as e:
        sys.exit("demo: %s" % e)
