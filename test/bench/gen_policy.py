#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Generate a decision-engine benchmark: one model, written twice.

From a seed and a rule count this builds an API of REST resources
(/v1/SVC/RES/{id}, /tenants/{t}/projects/{p}/SVC/RES/..., per-user and
asset routes with * and **) and rules over them (scope words, role
arrays, sub == path capture, numeric claims, denies, client.ip, tls and
time), then writes:

  policy.ztp          the rules in zpc's language; with the include
                      feature, blocks of routes and rules go to
                      part-NNN.ztp files it includes (zpc reads at most
                      4 MiB of source a file)
  cedar.cedar         the same rules as Cedar policies (one action per
                      route, as API-linked Cedar stores model an API)
  requests.txt        requests for bench_eval, one a line:
                      EXPECT METHOD PATH IP NOW TLS CLAIMS-JSON|-
  cedar_requests.jsonl  the same requests for isAuthorized (not the 404s)
  meta.json           counts: rules, routes, expected verdicts

EXPECT is what this script's own evaluator (the semantics of SPEC section 2
and zt_format.h) decides, so both engines are checked against it:
allow, deny, token (no token, 401), notfound (no route, 404).

Features the front end may not compile yet are chosen with --features
(run_policy.sh probes zpc for each); without one, a rule of the same
shape and cost in the basic language stands in, so the rule count and the
per-route rule count do not change.

    gen_policy.py --rules 10000 --out DIR [--seed 1] [--requests 20000]
                  [--features cmp,cidr,tls,time,glob]
"""
import argparse
import datetime
import ipaddress
import json
import os
import random

FEATURES = ("cmp", "cidr", "tls", "time", "glob", "include")
BLOCKS_PER_FILE = 1000      # with include: about 1.5 MB a file

SERVICES = """billing orders inventory catalog shipping payments accounts
reports analytics search media messages notifications projects tasks
tickets invoices customers vendors contracts assets devices sensors jobs
pipelines builds deployments secrets audit events webhooks plans
subscriptions coupons reviews carts returns warehouses fleet claims""".split()
RESOURCES = """items notes comments attachments versions labels members
settings exports imports schedules rates quotas logs metrics alerts rules
groups tags snapshots backups drafts templates approvals refunds batches
lines entries sessions links reservations slots variants prices discounts
documents records readings""".split()

OFFICE = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]
TLS_ORDER = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
REVOKED = ["legacy-batch", "revoked-7"]


# ---------------------------------------------------------------- model

class Route:
    def __init__(self, method, segs):
        self.method = method
        self.segs = segs            # ("lit", text) ("cap", name) ("star",) ("glob",)
        self.index = None
        self.rules = []             # rule indices, ascending

    def pattern(self):
        out = []
        for s in self.segs:
            out.append({"lit": lambda: s[1], "cap": lambda: "{" + s[1] + "}",
                        "star": lambda: "*", "glob": lambda: "**"}[s[0]]())
        return "/" + "/".join(out)

    def target(self):
        return self.method + " " + self.pattern()

    def captures(self):
        return [s[1] for s in self.segs if s[0] == "cap"]


class Rule:
    def __init__(self, effect, routes, cond, public=False, text=None):
        self.effect = effect        # "allow" | "deny"
        self.routes = routes        # the routes the targets cover
        self.cond = cond            # condition tuple, or None
        self.public = public
        self.text = text            # targets as written; None: the routes'


# Conditions are tuples; operands are tuples too:
#   ("tok", ("realm_access", "roles")) ("path", "t") ("str", s) ("int", n)
#   ("bool", b) ("tls",) ("hour",) ("wday",)
#   ("word", w, claimpath)   w in token.C: array member or word of a string
#   ("inlist", opnd, [literal values])
#   ("eq", a, b) ("ne", a, b) ("cmp", op, a, b)   op in < <= > >=
#   ("cidr", [blocks]) ("and", a, b) ("or", a, b) ("not", a) ("let", name)


def tok(*parts):
    return ("tok", tuple(parts))


class Model:
    def __init__(self, nrules, features, rng):
        self.features = features
        self.rng = rng
        self.routes = []
        self.rules = []
        self.lets = {
            "platform_admin": ("word", "platform-admin", ("realm_access", "roles")),
            "revoked": ("inlist", tok("azp"), REVOKED),
        }
        self.blocks = []
        self.block_rules = []       # per block: [first, end) of its rules
        self.build(nrules)

    def has(self, f):
        return f in self.features

    def route(self, method, segs):
        r = Route(method, segs)
        r.index = len(self.routes)
        self.routes.append(r)
        return r

    def rule(self, r):
        if len(self.rules) < self.nrules:   # the last block may stop short
            self.rules.append(r)

    def build(self, nrules):
        self.nrules = nrules
        health = self.route("GET", [("lit", "health")])
        self.rule(Rule("allow", [health], None, public=True))
        # Global rules apply to every route (or every GET route): their cost
        # is in every decision, whatever the size.
        self.rule(Rule("deny", None, ("let", "revoked"), text="* /**"))
        self.rule(Rule("allow", None, ("let", "platform_admin"), text="GET /**"))
        k = 0
        while len(self.rules) < nrules:
            self.block(k)
            k += 1
        for r in self.rules[1:3]:
            r.routes = [rt for rt in self.routes
                        if r.text.startswith("*") or rt.method == "GET"]
        for i, r in enumerate(self.rules):
            for rt in r.routes:
                rt.rules.append(i)

    def block(self, k):
        """One REST resource: five routes and ten rules over them."""
        ns, nr = len(SERVICES), len(RESOURCES)
        svc = SERVICES[k % ns]
        res = RESOURCES[(k // ns) % nr]
        gen = k // (ns * nr)
        if gen:
            svc += str(gen + 1)
        kinds = ["rest", "tenant", "user"] + (["assets"] if self.has("glob") else [])
        kind = self.rng.choice(kinds)
        lit = lambda *ws: [("lit", w) for w in ws]
        if kind == "rest":
            base = lit("v1", svc, res)
            L = self.route("GET", base)
            C = self.route("POST", base)
            I = self.route("GET", base + [("cap", "id")])
            U = self.route("PUT", base + [("cap", "id")])
            D = self.route("DELETE", base + [("cap", "id")])
        elif kind == "tenant":
            base = lit("tenants") + [("cap", "t")] + lit("projects") + [("cap", "p")] + lit(svc, res)
            L = self.route("GET", base)
            C = self.route("POST", base)
            I = self.route("GET", base + [("cap", "id")])
            U = self.route("PATCH", base + [("cap", "id")])
            D = self.route("DELETE", base + [("cap", "id")])
        elif kind == "user":
            base = lit("v1", svc, "users") + [("cap", "uid")] + lit(res)
            L = self.route("GET", base)
            C = self.route("POST", base)
            I = self.route("GET", base + [("cap", "id")])
            U = self.route("PUT", base + [("cap", "id")])
            D = self.route("DELETE", base + [("cap", "id")])
        else:
            base = lit("assets", svc, res)
            L = self.route("GET", base + [("glob",)])
            C = self.route("PUT", base + [("star",)])
            I = self.route("PATCH", base + [("star",)] + lit("meta"))
            U = self.route("PUT", base + [("star",)] + lit("meta"))
            D = self.route("DELETE", base + [("star",)])
        self.blocks.append((kind, svc, res, [L, C, I, U, D]))
        first_rule = len(self.rules)
        scope = svc + "." + res
        roles = tok("realm_access", "roles")
        A = lambda *c: ("and",) + c
        R = self.rule
        R(Rule("allow", [L, I], ("word", scope + ":read", ("scope",))))
        R(Rule("allow", [C, U], ("word", scope + ":write", ("scope",))))
        R(Rule("allow", [D], ("word", scope + ":admin", roles[1])))
        if self.has("cmp"):
            level = ("cmp", ">=", tok("level"), ("int", 2))
        else:
            level = ("inlist", tok("level"), [2, 3, 4, 5])
        R(Rule("allow", [L, I], A(("word", "auditor", roles[1]), level)))
        R(Rule("deny", [D], ("inlist", tok("azp"), ["legacy-batch", "ci-bot"])))
        if kind == "tenant":
            prefix = "* /tenants/*/projects/*/%s/%s/**" % (svc, res)
            R(Rule("allow", [L, C, I, U, D],
                   A(("eq", tok("tenant"), ("path", "t")),
                     ("word", "member", roles[1])), text=prefix))
        elif kind == "user":
            R(Rule("allow", [L, I], ("eq", tok("sub"), ("path", "uid"))))
        else:
            R(Rule("allow", [I], A(("inlist", tok("tier"), ["gold", "platinum"]),
                                   ("eq", tok("email_verified"), ("bool", True)))))
        R(Rule("deny", [C], ("not", ("eq", tok("email_verified"), ("bool", True)))))
        R(Rule("allow", [U], ("or", ("eq", tok("sub"), ("str", "svc-" + svc)),
                                    ("eq", tok("azp"), ("str", svc + "-worker")))))
        if self.has("cidr"):
            office = ("cidr", OFFICE)
        else:
            office = ("inlist", tok("net"), ["office", "vpn"])
        R(Rule("allow", [L, I], A(("word", "support", roles[1]), office)))
        if self.has("time"):
            weekend = ("inlist", ("wday",), ["sat", "sun"])
        else:
            weekend = ("eq", tok("weekend"), ("bool", True))
        if self.has("tls"):
            old_tls = ("cmp", "<", ("tls",), ("str", "TLSv1.2"))
        else:
            old_tls = ("inlist", tok("risk"), ["high"])
        R(Rule("deny", [U, D], ("or", A(weekend, ("not", ("word", "oncall", roles[1]))),
                                      old_tls)))
        self.block_rules.append((first_rule, len(self.rules)))


# ------------------------------------------------------------ evaluator

MISSING = object()


def operand(o, rq, caps):
    kind = o[0]
    if kind == "tok":
        v = rq["claims"]
        for p in o[1]:
            if not isinstance(v, dict) or p not in v:
                return MISSING
            v = v[p]
        return v
    if kind == "path":
        return caps.get(o[1], MISSING)
    if kind in ("str", "int", "bool"):
        return o[1]
    if kind == "tls":
        return rq["tls"] if rq["tls"] else MISSING
    if kind == "hour":
        return rq["time"].hour
    if kind == "wday":
        return WEEKDAYS[rq["time"].weekday()]
    raise ValueError(kind)


def scalar(v):
    return isinstance(v, (str, int, bool))


def same(a, b):
    """Same type and value: a bool is never an integer here."""
    return type(a) is type(b) and a == b


def ordered(op, a, b):
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def holds(c, rq, caps, lets):
    op = c[0]
    if op == "let":
        return holds(lets[c[1]], rq, caps, lets)
    if op == "and":
        return holds(c[1], rq, caps, lets) and holds(c[2], rq, caps, lets)
    if op == "or":
        return holds(c[1], rq, caps, lets) or holds(c[2], rq, caps, lets)
    if op == "not":
        return not holds(c[1], rq, caps, lets)
    if op == "word":
        v = operand(tok(*c[2]), rq, caps)
        if isinstance(v, list):
            return any(same(c[1], e) for e in v)
        return isinstance(v, str) and c[1] in v.split(" ")
    if op == "inlist":
        v = operand(c[1], rq, caps)
        return scalar(v) and any(same(v, x) for x in c[2])
    if op in ("eq", "ne"):
        a, b = operand(c[1], rq, caps), operand(c[2], rq, caps)
        if not scalar(a) or not scalar(b):
            return False
        return same(a, b) == (op == "eq")
    if op == "cmp":
        a, b = operand(c[2], rq, caps), operand(c[3], rq, caps)
        if c[2] == ("tls",):
            # zpc lowers an ordering on tls.version to a list of versions
            if a is MISSING:
                return False
            a, b = TLS_ORDER.index(a), TLS_ORDER.index(b)
        elif not (type(a) is int and type(b) is int):
            return False
        return ordered(c[1], a, b)
    if op == "cidr":
        addr = ipaddress.ip_address(rq["ip"])
        return any(addr in ipaddress.ip_network(n) for n in c[1])
    raise ValueError(op)


class Matcher:
    """Route match by rank, best first left to right: literal, capture,
    *, ** (zt_eval.h).  A tree per method; HEAD is GET."""

    def __init__(self, routes):
        self.roots = {}
        for r in routes:
            node = self.roots.setdefault(r.method, self.node())
            for s in r.segs:
                if s[0] == "glob":
                    node["glob"] = r
                    break
                key = s[1] if s[0] == "lit" else s[0]
                group = node["lit"] if s[0] == "lit" else node
                if key not in group:
                    group[key] = self.node()
                node = group[key]
            else:
                node["end"] = r

    @staticmethod
    def node():
        return {"lit": {}, "end": None, "glob": None}

    def match(self, method, path):
        root = self.roots.get("GET" if method == "HEAD" else method)
        segs = path.strip("/").split("/") if path != "/" else []
        return self.walk(root, segs, 0) if root else None

    def walk(self, node, segs, i):
        if i == len(segs):
            if node["end"]:
                return node["end"]
        else:
            for child in (node["lit"].get(segs[i]), node.get("cap"), node.get("star")):
                if child:
                    r = self.walk(child, segs, i + 1)
                    if r:
                        return r
        return node["glob"]


def captures(route, path):
    segs = path.strip("/").split("/")
    return {s[1]: segs[i] for i, s in enumerate(route.segs) if s[0] == "cap"}


def decide(model, matcher, rq):
    """zt_eval_decide: deny overrides; an allow needs a token unless it is
    public; a deny holds without a token too, and then asks for one."""
    route = matcher.match(rq["method"], rq["path"])
    if route is None:
        return "notfound", None
    caps = captures(route, rq["path"])
    token = rq["claims"] is not None
    allow = False
    for ri in route.rules:
        rule = model.rules[ri]
        if rule.effect == "allow" and (allow or (not token and not rule.public)):
            continue
        if rule.cond is not None and not holds(rule.cond, rq, caps, model.lets):
            continue
        if rule.effect == "deny":
            return ("deny" if token else "token"), route
        allow = True
    if allow:
        return "allow", route
    return ("deny" if token else "token"), route


# ------------------------------------------------------------ requests

def segment_value(seg, rng):
    if seg[0] == "lit":
        return [seg[1]]
    name = seg[1] if seg[0] == "cap" else ""
    if name == "t":
        return ["t%d" % rng.randrange(40)]
    if name == "p":
        return ["p%d" % rng.randrange(8)]
    if name == "uid":
        return ["u%d" % rng.randrange(50)]
    if seg[0] == "glob":
        return ["f%x" % rng.randrange(1 << 16) for _ in range(rng.randrange(4))]
    return [str(rng.randrange(1, 10 ** 6))]


def make_path(route, rng):
    parts = []
    for s in route.segs:
        parts += segment_value(s, rng)
    return "/" + "/".join(parts)


def make_request(model, rng, now0):
    kind, svc, res, routes = rng.choice(model.blocks)
    route = rng.choice(routes)
    method = route.method
    path = make_path(route, rng)
    roll = rng.random()
    if roll < 0.02:
        path = "/v1/%s/%s/unknown/deeper" % (svc, res)      # no such route
    elif roll < 0.04:
        method = rng.choice(["OPTIONS", "PATCH"])           # no such method here
    scope = svc + "." + res
    caps = dict(zip(route.captures(), [p for p, s in zip(path.strip("/").split("/"), route.segs)
                                      if s[0] == "cap"]))
    claims = make_claims(rng, scope, caps)
    ip = rng.choice(["10.1.2.3", "192.168.7.9", "203.0.113.5", "198.51.100.20",
                     "2001:db8::17", "2001:dbf::1"])
    tls = rng.choices(["TLSv1.3", "TLSv1.2", "TLSv1.1", None], [70, 20, 5, 5])[0]
    t = now0 + datetime.timedelta(hours=rng.randrange(24 * 7))
    return {"method": method, "path": path, "claims": claims, "ip": ip,
            "tls": tls, "time": t}


def make_claims(rng, scope, caps):
    if rng.random() < 0.08:
        return None
    n = rng.randrange(1, 60)
    sub = "u%d" % n
    words = ["openid", "profile"]
    roles = ["offline_access"]
    persona = rng.choice(["reader", "writer", "admin", "auditor", "stranger",
                          "tenant", "user", "support", "service", "mixed"])
    if persona == "reader":
        words.append(scope + ":read")
    elif persona == "writer":
        words += [scope + ":read", scope + ":write"]
    elif persona == "admin":
        roles.append(scope + ":admin")
    elif persona == "auditor":
        roles.append("auditor")
    elif persona == "tenant":
        roles.append("member")
    elif persona == "user":
        sub = caps.get("uid", sub) if rng.random() < 0.7 else sub
    elif persona == "support":
        roles.append("support")
    elif persona == "mixed":
        words.append(scope + rng.choice([":read", ":write"]))
        roles += [rng.choice(["oncall", "member", "auditor", "support"])]
    for _ in range(rng.randrange(6)):               # other resources' scopes
        words.append("%s.%s:%s" % (rng.choice(SERVICES), rng.choice(RESOURCES),
                                    rng.choice(["read", "write"])))
    if rng.random() < 0.1:
        roles.append("oncall")
    if rng.random() < 0.01:
        roles.append("platform-admin")
    svc = scope.split(".")[0]
    azp = rng.choices(["web-spa", "mobile", "partner-api", svc + "-worker"]
                      + REVOKED + ["ci-bot"], [50, 20, 15, 5, 2, 2, 3])[0]
    if persona == "service":
        sub = "svc-" + svc if rng.random() < 0.7 else sub
    tenant = "t%d" % rng.randrange(40)
    if persona == "tenant" and "t" in caps and rng.random() < 0.7:
        tenant = caps["t"]
    c = {
        "iss": "https://idp.bench.test/realms/corp", "aud": "bench-api",
        "sub": sub, "azp": azp, "exp": 1900000000, "iat": 1899999100,
        "scope": " ".join(words),
        "realm_access": {"roles": roles},
        "tenant": tenant,
        "level": rng.randrange(0, 5),
        "email_verified": rng.random() < 0.85,
        "tier": rng.choice(["free", "gold", "platinum", "silver"]),
        "net": rng.choice(["office", "vpn", "home", "cafe"]),
        "weekend": rng.random() < 0.3,
        "risk": rng.choices(["low", "medium", "high"], [80, 15, 5])[0],
    }
    return c


# -------------------------------------------------------------- writers

def ztp_operand(o):
    k = o[0]
    if k == "tok":
        return "token." + ".".join(o[1])
    if k == "path":
        return "path." + o[1]
    if k == "str":
        return json.dumps(o[1])
    if k == "bool":
        return "true" if o[1] else "false"
    if k == "int":
        return str(o[1])
    return {"tls": "tls.version", "hour": "time.hour", "wday": "time.weekday"}[k]


def ztp_cond(c, top=True):
    op = c[0]
    if op == "let":
        return c[1]
    if op in ("and", "or"):
        s = "%s %s %s" % (ztp_cond(c[1], False), op, ztp_cond(c[2], False))
        return s if top else "(" + s + ")"
    if op == "not":
        return "not " + ztp_cond(c[1], False)
    if op == "word":
        return '%s in token.%s' % (json.dumps(c[1]), ".".join(c[2]))
    if op == "inlist":
        return "%s in [%s]" % (ztp_operand(c[1]), ", ".join(json.dumps(v) for v in c[2]))
    if op in ("eq", "ne"):
        return "%s %s %s" % (ztp_operand(c[1]), "==" if op == "eq" else "!=",
                             ztp_operand(c[2]))
    if op == "cmp":
        return "%s %s %s" % (ztp_operand(c[2]), c[1], ztp_operand(c[3]))
    if op == "cidr":
        return "client.ip in [%s]" % ", ".join(c[1])
    raise ValueError(op)


def ztp_rule(r):
    targets = r.text or ", ".join(rt.target() for rt in r.routes)
    line = "%-5s %s" % (r.effect, targets)
    if r.public:
        line += "  public"
    elif r.cond is not None:
        line += "  when " + ztp_cond(r.cond)
    return line


def ztp_block(model, k):
    out = ["route %-6s %s" % (rt.method, rt.pattern()) for rt in model.blocks[k][3]]
    first, end = model.block_rules[k]
    return out + [ztp_rule(r) for r in model.rules[first:end]]


def write_ztp(model, out_dir):
    """The policy: header, lets, the global rules, then each block's routes
    and rules -- inline, or in part files it includes."""
    split = "include" in model.features
    out = ['# Generated by test/bench/gen_policy.py: %d rules, %d routes.'
           % (len(model.rules), len(model.routes)),
           'policy "bench-%d"' % len(model.rules), '',
           'issuer corp "https://idp.bench.test/realms/corp" {',
           '    audience   "bench-api"',
           '    algorithms ES256 RS256',
           '    jwks       file "bench.jwks.json"',
           '}', '']
    for name, c in model.lets.items():
        out.append("let %s = %s" % (name, ztp_cond(c)))
    out += ["", "route GET /health"]
    out += [ztp_rule(r) for r in model.rules[:3]]
    for first in range(0, len(model.blocks), BLOCKS_PER_FILE):
        lines = []
        for k in range(first, min(first + BLOCKS_PER_FILE, len(model.blocks))):
            lines += [""] + ztp_block(model, k)
        if split:
            name = "part-%03d.ztp" % (first // BLOCKS_PER_FILE)
            out.append('include "%s"' % name)
            with open(os.path.join(out_dir, name), "w") as f:
                f.write("# Generated by test/bench/gen_policy.py.\n" + "\n".join(lines) + "\n")
        else:
            out += lines
    with open(os.path.join(out_dir, "policy.ztp"), "w") as f:
        f.write("\n".join(out) + "\n")


def cedar_path(o):
    """The Cedar expression of an operand, and the `has` tests it needs."""
    k = o[0]
    if k == "tok":
        guards, expr = ["context has token"], "context.token"
        for p in o[1]:
            guards.append("%s has %s" % (expr, p))
            expr += "." + p
        return expr, guards
    if k == "path":
        return "context.path." + o[1], ["context.path has " + o[1]]
    if k in ("str", "bool", "int"):
        return ztp_operand(o), []
    if k == "tls":
        return "context.tls", ["context has tls"]
    return {"hour": "context.hour", "wday": "context.weekday"}[k], []


def cedar_guarded(guards, expr):
    return "(" + " && ".join(guards + [expr]) + ")"


def cedar_cond(c, lets):
    op = c[0]
    if op == "let":
        return cedar_cond(lets[c[1]], lets)
    if op in ("and", "or"):
        return "(%s %s %s)" % (cedar_cond(c[1], lets), "&&" if op == "and" else "||",
                               cedar_cond(c[2], lets))
    if op == "not":
        return "!" + cedar_cond(c[1], lets)
    if op == "word":
        e, g = cedar_path(tok(*c[2]))
        return cedar_guarded(g, "%s.contains(%s)" % (e, json.dumps(c[1])))
    if op == "inlist":
        e, g = cedar_path(c[1])
        return cedar_guarded(g, "[%s].contains(%s)" % (", ".join(json.dumps(v) for v in c[2]), e))
    if op in ("eq", "ne"):
        a, ga = cedar_path(c[1])
        b, gb = cedar_path(c[2])
        return cedar_guarded(ga + gb, "%s %s %s" % (a, "==" if op == "eq" else "!=", b))
    if op == "cmp":
        a, ga = cedar_path(c[2])
        if c[2] == ("tls",):
            ok = [v for v in TLS_ORDER if ordered(c[1], TLS_ORDER.index(v),
                                                  TLS_ORDER.index(c[3][1]))]
            return cedar_guarded(ga, "[%s].contains(%s)" % (", ".join(json.dumps(v) for v in ok), a))
        b, gb = cedar_path(c[3])
        return cedar_guarded(ga + gb, "%s %s %s" % (a, c[1], b))
    if op == "cidr":
        return "(" + " || ".join('context.ip.isInRange(ip("%s"))' % n for n in c[1]) + ")"
    raise ValueError(op)


def write_cedar(model, path):
    out = ["// Generated by test/bench/gen_policy.py: the rules of policy.ztp."]
    for r in model.rules:
        if r.text and r.text.startswith("* /**"):
            scope, extra = "action", []
        elif r.text and r.text.startswith("GET /**"):
            scope, extra = "action", ['context.method == "GET"']
        else:
            acts = ", ".join('Action::"%s"' % rt.target() for rt in r.routes)
            scope = "action in [%s]" % acts
            extra = []
        # an allow needs a token unless public; a deny is tried without one
        conds = [] if r.public or r.effect == "deny" else ["context has token"]
        conds += extra
        if r.cond is not None:
            conds.append(cedar_cond(r.cond, model.lets))
        effect = "permit" if r.effect == "allow" else "forbid"
        text = "%s(principal, %s, resource)" % (effect, scope)
        if conds:
            text += " when { %s }" % " && ".join(conds)
        out.append(text + ";")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def cedar_value(v):
    if isinstance(v, dict):
        return {k: cedar_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [cedar_value(x) for x in v]
    return v


def cedar_request(rq, route, expect):
    ctx = {"method": rq["method"],
           "path": captures(route, rq["path"]),
           "ip": {"__extn": {"fn": "ip", "arg": rq["ip"]}},
           "hour": rq["time"].hour,
           "weekday": WEEKDAYS[rq["time"].weekday()]}
    if rq["tls"]:
        ctx["tls"] = rq["tls"]
    sub = "anonymous"
    if rq["claims"] is not None:
        tokc = cedar_value(rq["claims"])
        tokc["scope"] = [w for w in rq["claims"]["scope"].split(" ") if w]
        ctx["token"] = tokc
        sub = rq["claims"]["sub"]
    return {"principal": {"type": "User", "id": sub},
            "action": {"type": "Action", "id": route.target()},
            "resource": {"type": "Api", "id": "bench-api"},
            "context": ctx, "expect": expect}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--features", default="")
    a = ap.parse_args()
    features = set(f for f in a.features.split(",") if f)
    bad = features - set(FEATURES)
    if bad:
        ap.error("unknown feature(s): %s (known: %s)" % (",".join(sorted(bad)), ",".join(FEATURES)))
    if a.rules < 10:
        ap.error("--rules must be at least 10")
    rng = random.Random(a.seed)
    model = Model(a.rules, features, rng)
    matcher = Matcher(model.routes)
    os.makedirs(a.out, exist_ok=True)
    for old in os.listdir(a.out):
        if old.startswith("part-") and old.endswith(".ztp"):
            os.unlink(os.path.join(a.out, old))
    write_ztp(model, a.out)
    write_cedar(model, os.path.join(a.out, "policy.cedar"))

    rrng = random.Random(a.seed * 7919 + a.rules)
    now0 = datetime.datetime(2026, 11, 23, 0, 0, tzinfo=datetime.timezone.utc)  # a Monday
    counts = {}
    with open(os.path.join(a.out, "requests.txt"), "w") as zf, \
            open(os.path.join(a.out, "cedar_requests.jsonl"), "w") as cf:
        for _ in range(a.requests):
            rq = make_request(model, rrng, now0)
            expect, route = decide(model, matcher, rq)
            counts[expect] = counts.get(expect, 0) + 1
            claims = "-" if rq["claims"] is None else json.dumps(rq["claims"], separators=(",", ":"))
            zf.write("%s %s %s %s %d %s %s\n" % (
                expect, rq["method"], rq["path"], rq["ip"], int(rq["time"].timestamp()),
                rq["tls"] or "-", claims))
            if route is not None:
                cf.write(json.dumps(cedar_request(rq, route, expect), separators=(",", ":")) + "\n")
    meta = {"rules": len(model.rules), "routes": len(model.routes),
            "features": sorted(features), "seed": a.seed, "requests": a.requests,
            "expect": counts}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(meta, sort_keys=True))


if __name__ == "__main__":
    main()
