# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""One record of the client certificate per connection (zt_cert.c).

The policy's client.cert.subject and client.cert.san, a token's
cnf.x5t#S256 and the audit record's cert_subject all read the same
record, made when a connection first needs it: the certificate is read
once per connection (its ZT00067 debug line), however many requests the
connection carries and whichever of the three asks.  The expected values
are computed here with cryptography, not by the module."""

import http.client
import os

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import zt_e2e
from conftest import Api, SERVERS
from test_binding import cert_thumb
from test_language import SSL_BODY
from zt_e2e import Pki, SetupError, claims, client_context

AUD = "cert-api"

POLICY = """\
policy "cert-api"

issuer corp "https://idp.test/realms/corp" {
    audience   "cert-api"
    algorithms ES256
    jwks       file "corp.jwks.json"
}

route GET /orders
route GET /who

allow GET /orders  when token.sub == "alice"
allow GET /who     when client.cert.subject == "O=Corp,CN=svc-a"
                        and "spiffe://corp/svc-a" in client.cert.san
"""


class Cert:
    pass


@pytest.fixture(scope="module")
def mtls(zt_cfg, keys, workdir):
    C = Cert()
    root = os.path.join(workdir, "cert")
    zt_e2e.make_tree(root)
    zt_e2e.install_cgi(root)
    keys.write_jwks(os.path.join(root, "policy"))
    pki = Pki(os.path.join(root, "pki"))
    srv_cert, srv_key = pki.server()
    C.ca = pki.ca_file
    C.svc_a = pki.issue("svc-a", [(NameOID.COMMON_NAME, "svc-a"),
                                  (NameOID.ORGANIZATION_NAME, "Corp")],
                        [x509.UniformResourceIdentifier("spiffe://corp/svc-a")])
    C.svc_b = pki.issue("svc-b", [(NameOID.COMMON_NAME, "svc-b")])
    C.tls = zt_e2e.free_port()
    body = ("LogLevel warn zerotrust:debug\n"
            + zt_e2e.api_body("policy/cert.ztb")
            + SSL_BODY.format(mods=zt_cfg.libexecdir, tls=C.tls,
                              cert=srv_cert, key=srv_key, ca=C.ca))
    src = os.path.join(root, "policy", "cert.ztp")
    with open(src, "w") as f:
        f.write(POLICY)
    C.srv = Api(zt_cfg, root, body)
    SERVERS.append(C.srv)
    try:
        zt_e2e.compile_policy(zt_cfg, src, src[:-4] + ".ztb")
        C.srv.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield C
    C.srv.stop()


def token(keys, **extra):
    return zt_e2e.sign(keys, claims(aud=AUD, **extra))


def reads(C, pos):
    """The ZT00067 lines logged since @pos: one per certificate read."""
    return [l for l in C.srv.errlog.since(pos).splitlines()
            if "ZT00067" in l]


def one_connection(C, cert, requests):
    """@requests ((path, token) pairs) on ONE kept-alive TLS connection
    presenting @cert; their statuses and audit records."""
    pos = C.srv.audit.size()
    conn = http.client.HTTPSConnection("127.0.0.1", C.tls, timeout=15,
                                       context=client_context(C.ca, cert))
    statuses = []
    try:
        for path, tok in requests:
            conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
            assert not resp.will_close, "the server closed the connection"
    finally:
        conn.close()
    recs = C.srv.audit.records(pos, wait=0.5)
    assert len(recs) == len(requests), recs
    return statuses, recs


def test_one_read_per_connection_for_every_use(mtls, keys):
    C = mtls
    thumb = cert_thumb(C.svc_a[0])
    bound = token(keys, cnf={"x5t#S256": thumb})
    plain = token(keys)
    # names (policy), thumbprint (binding) and subject (audit), mixed,
    # five requests on one connection
    pos = C.srv.errlog.size()
    statuses, recs = one_connection(C, C.svc_a, [
        ("/who", plain), ("/orders", bound), ("/who", bound),
        ("/orders", plain), ("/orders", bound)])
    assert statuses == [200] * 5
    assert [r["cert_subject"] for r in recs] == ["O=Corp,CN=svc-a"] * 5
    lines = reads(C, pos)
    assert len(lines) == 1, lines
    assert "x5t#S256 %s" % thumb in lines[0], lines
    # a second connection reads it again: the record is the connection's
    pos = C.srv.errlog.size()
    statuses, _ = one_connection(C, C.svc_a, [("/orders", bound)] * 2)
    assert statuses == [200, 200]
    assert len(reads(C, pos)) == 1


def test_record_serves_only_its_connection(mtls, keys):
    C = mtls
    bound_a = token(keys, cnf={"x5t#S256": cert_thumb(C.svc_a[0])})
    # svc-b's connection: its own record, so a token bound to svc-a and
    # the names of svc-a do not hold there
    statuses, recs = one_connection(C, C.svc_b, [
        ("/orders", bound_a), ("/who", token(keys)), ("/orders", token(keys))])
    assert statuses == [401, 403, 200]
    assert recs[0]["reason"] == "cnf_mismatch"
    assert [r["cert_subject"] for r in recs] == ["CN=svc-b"] * 3


def test_no_certificate_no_read(mtls, keys):
    C = mtls
    pos = C.srv.errlog.size()
    statuses, recs = one_connection(C, None, [
        ("/orders", token(keys)), ("/who", token(keys)),
        ("/orders", token(keys, cnf={"x5t#S256": cert_thumb(C.svc_a[0])}))])
    assert statuses == [200, 403, 401]
    assert recs[2]["reason"] == "cnf_no_cert"
    assert [r["cert_subject"] for r in recs] == [None] * 3
    assert reads(C, pos) == []
