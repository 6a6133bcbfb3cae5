# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Independent JOSE implementations for the end-to-end tests, run with
Node.js from test/interop/: npm `jose` (keys, tokens, verification) and
`oidc-provider` (a real OpenID Provider on loopback).

Missing Node.js or npm packages are a SetupError -- the tests fail with
the reason and the command that fixes it, never skip."""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time

import requests

import zt_e2e
from zt_e2e import SetupError

INTEROP = os.path.join(os.path.dirname(zt_e2e.HERE), "interop")
NODE_MIN = 18
FIX = "run `npm ci` in %s (test/bootstrap.sh does it)" % INTEROP


def node():
    """The command that runs node (a list), after checking node and the
    pinned npm packages.  ZT_NODE names another node binary."""
    exe = os.environ.get("ZT_NODE") or shutil.which("node")
    if not exe or not os.access(exe, os.X_OK):
        raise SetupError("node is not installed (%s): apt-get install nodejs "
                         "npm, then %s" % (exe or "not on PATH", FIX))
    out = subprocess.run([exe, "--version"], stdout=subprocess.PIPE,
                         timeout=30).stdout.decode().strip()
    m = re.match(r"v(\d+)\.", out)
    if not m or int(m.group(1)) < NODE_MIN:
        raise SetupError("node %s is too old: Node.js %d or later is needed"
                         % (out or "?", NODE_MIN))
    cmd = [exe]
    if int(m.group(1)) < 19:
        # Debian 12's nodejs is 18: jose 6 needs the Web Crypto global,
        # there only behind this flag (the default from Node 19 on).
        cmd.append("--experimental-global-webcrypto")
    with open(os.path.join(INTEROP, "package.json")) as f:
        pins = json.load(f)["dependencies"]
    for name, version in pins.items():
        path = os.path.join(INTEROP, "node_modules", name, "package.json")
        try:
            with open(path) as f:
                have = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            raise SetupError("npm package %s is not installed: %s"
                             % (name, FIX)) from None
        if have != version:
            raise SetupError("npm package %s is %s, package.json pins %s: %s"
                             % (name, have, version, FIX))
    return cmd


def jose_tool(*args, stdin=None, timeout=120):
    """Run test/interop/jose_tool.mjs; its JSON answer."""
    p = subprocess.run(node() + [os.path.join(INTEROP, "jose_tool.mjs")]
                       + list(args),
                       input=None if stdin is None else json.dumps(stdin).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=INTEROP)
    if p.returncode != 0:
        raise SetupError("jose_tool %s failed (exit %d): %s"
                         % (args[0], p.returncode, p.stderr.decode()))
    return json.loads(p.stdout)


class OidcProvider:
    """test/interop/oidc_provider.mjs: oidc-provider on 127.0.0.1, issuing
    ES256-signed JWT access tokens by the client_credentials grant."""

    CLIENT = ("zt-client", "zt-secret")
    RESOURCE = "urn:zt:orders-api"
    SCOPE = "orders:read"

    def __init__(self, logdir):
        self.logdir = logdir
        self.proc = None
        self.issuer = None
        self.kid = None
        self.events = queue.Queue()
        self.session = requests.Session()

    def _read(self, out):
        for line in out:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({"event": "garbage", "line": line})

    def _wait(self, event, timeout=30):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0 or self.proc.poll() is not None:
                break
            try:
                ev = self.events.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            if ev.get("event") == event:
                return ev
        raise SetupError("oidc-provider: no %r event (exit %s); stderr:\n%s"
                         % (event, self.proc.poll(), self.stderr()))

    def stderr(self):
        try:
            with open(self.errpath, encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def start(self):
        cmd = node()
        self.errpath = os.path.join(self.logdir, "oidc-provider.err")
        err = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            cmd + [os.path.join(INTEROP, "oidc_provider.mjs"), "0"],
            stdout=subprocess.PIPE, stderr=err, cwd=INTEROP,
            text=True)
        err.close()
        threading.Thread(target=self._read, args=(self.proc.stdout,),
                         daemon=True).start()
        ev = self._wait("listening")
        self.issuer, self.kid = ev["issuer"], ev["kid"]
        return self

    def rotate(self):
        """A new signing key, first in the JWK Set; the old one stays
        published.  Returns the new kid."""
        self.proc.send_signal(signal.SIGHUP)
        self.kid = self._wait("rotated")["kid"]
        return self.kid

    def token(self, session=None, timeout=10):
        """An access token by the client_credentials grant (@session: a
        requests.Session of the calling thread)."""
        r = (session or self.session).post(self.issuer + "/token", auth=self.CLIENT,
                              data={"grant_type": "client_credentials",
                                    "scope": self.SCOPE,
                                    "resource": self.RESOURCE},
                              timeout=timeout)
        r.raise_for_status()
        return r.json()["access_token"]

    def discovery(self):
        r = self.session.get(self.issuer
                             + "/.well-known/openid-configuration", timeout=10)
        r.raise_for_status()
        return r.json()

    def jwks(self):
        r = self.session.get(self.discovery()["jwks_uri"], timeout=10)
        r.raise_for_status()
        return r.json()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_api(roots, name, policy_name, policy_text, prepare=None):
    """A server root from the e2e harness (conftest's Roots) with the echo
    API guarded by @policy_text, compiled as policy/@policy_name;
    @prepare(policy_dir) writes key files first.  Returns the started
    conftest.Api (registered for the error log guard); stop() it."""
    from conftest import SERVERS, Api
    root = roots.make(name, policy=None)
    policy_dir = os.path.join(root, "policy")
    if prepare:
        prepare(policy_dir)
    src = os.path.join(policy_dir, policy_name)
    with open(src, "w") as f:
        f.write(policy_text)
    table = zt_e2e.compile_policy(roots.cfg, src, src[:-4] + ".ztb")
    srv = Api(roots.cfg, root,
              zt_e2e.api_body(os.path.relpath(table, root)))
    SERVERS.append(srv)
    srv.start()
    return srv
