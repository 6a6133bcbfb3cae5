/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * DPoP proofs (zt_dpop.h), thumbprints, cnf, and the shared seen-set
 * (zt_replay.h).  Proofs are made here with OpenSSL; the e2e tests make
 * them with PyJWT / cryptography, an independent implementation.
 */

#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_dpop.h"
#include "zt_format.h"
#include "zt_jdoc.h"
#include "zt_pkcache.h"
#include "zt_replay.h"
#include "zt_test.h"

ZT_TEST_POOL_FIXTURE

#define NOW   1700000000
#define URI   "https://api.example.com/orders/7"
#define TOKEN "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"

static const zt_dpop_conf_t conf = {
    .algs = ZT_DPOP_ALGS_DEFAULT, .max_age = 60, .skew = 5
};
static EVP_PKEY *k_ec, *k_ed, *k_other;

static EVP_PKEY *keygen(const char *type, const char *curve)
{
    EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve)
                        : EVP_PKEY_Q_keygen(NULL, NULL, type);

    if (k == NULL) {
        fprintf(stderr, "cannot make a %s key\n", type);
        exit(EXIT_FAILURE);
    }
    return k;
}

static char *b64s(const char *s)
{
    return zt_b64url_encode_pool(pool, (const unsigned char *)s, strlen(s));
}

static char *b64bn(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char buf[32];

    ck_assert_int_eq(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    ck_assert_int_eq(BN_bn2binpad(bn, buf, 32), 32);
    BN_free(bn);
    return zt_b64url_encode_pool(pool, buf, 32);
}

/* The public JWK of @a k (P-256 or Ed25519) plus @a extra members. */
static char *jwk(EVP_PKEY *k, const char *extra)
{
    unsigned char raw[32];
    size_t n = sizeof(raw);

    if (EVP_PKEY_is_a(k, "EC")) {
        return apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\","
                            "\"x\":\"%s\",\"y\":\"%s\"%s}",
                            b64bn(k, OSSL_PKEY_PARAM_EC_PUB_X),
                            b64bn(k, OSSL_PKEY_PARAM_EC_PUB_Y), extra);
    }
    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(k, raw, &n), 1);
    return apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                        "\"x\":\"%s\"%s}", zt_b64url_encode_pool(pool, raw, n),
                        extra);
}

/* A compact JWS of @a header and @a payload signed by @a k (ES256 or
 * EdDSA, by key type). */
static char *sign(EVP_PKEY *k, const char *header, const char *payload)
{
    char *input = apr_pstrcat(pool, b64s(header), ".", b64s(payload), NULL);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ec = EVP_PKEY_is_a(k, "EC");
    unsigned char sig[128], rs[64];
    const unsigned char *q = sig;
    size_t n = sizeof(sig);

    ck_assert_int_eq(EVP_DigestSignInit(m, NULL, ec ? EVP_sha256() : NULL,
                                        NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(m, sig, &n, (unsigned char *)input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(m);
    if (ec) {
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);

        ck_assert_ptr_nonnull(es);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        return apr_pstrcat(pool, input, ".",
                           zt_b64url_encode_pool(pool, rs, 64), NULL);
    }
    return apr_pstrcat(pool, input, ".", zt_b64url_encode_pool(pool, sig, n),
                       NULL);
}

static char *ath(const char *token)
{
    unsigned char md[32];

    SHA256((const unsigned char *)token, strlen(token), md);
    return zt_b64url_encode_pool(pool, md, 32);
}

/* Proof claims: each value is JSON text, or NULL to leave the member out. */
static char *claims_with(const char *jti, const char *htm, const char *htu,
                         const char *iat, const char *athv)
{
    const char *names[] = { "jti", "htm", "htu", "iat", "ath" };
    const char *values[] = { jti, htm, htu, iat, athv };
    char *out = "{";

    for (int i = 0; i < 5; i++) {
        if (values[i] != NULL) {
            out = apr_psprintf(pool, "%s%s\"%s\":%s", out,
                               out[1] != '\0' ? "," : "", names[i], values[i]);
        }
    }
    return apr_pstrcat(pool, out, "}", NULL);
}

static char *good_claims(void)
{
    return claims_with("\"j-1\"", "\"GET\"", "\"" URI "\"",
                       apr_psprintf(pool, "%d", NOW),
                       apr_psprintf(pool, "\"%s\"", ath(TOKEN)));
}

static char *hdr(const char *alg, EVP_PKEY *k, const char *extra)
{
    return apr_psprintf(pool, "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\","
                        "\"jwk\":%s%s}", alg, jwk(k, ""), extra);
}

static char *good_proof(void)
{
    return sign(k_ec, hdr("ES256", k_ec, ""), good_claims());
}

static zt_dpop_status_e check(const char *proof, const char *method,
                              const char *uri, const char *token,
                              zt_dpop_proof_t *out)
{
    const char *why = NULL;
    zt_dpop_status_e st = zt_dpop_verify(proof, strlen(proof), method, uri,
                                         token, token ? strlen(token) : 0,
                                         NOW, &conf, pool, out, &why);

    ck_assert_ptr_nonnull(why);
    return st;
}

static zt_dpop_status_e check_proof(const char *proof)
{
    zt_dpop_proof_t p;

    return check(proof, "GET", URI, TOKEN, &p);
}

/* ------------------------------------------------------------------ */

START_TEST(valid_proofs)
{
    zt_dpop_proof_t p;
    char want[ZT_THUMB_SIZE];
    const zt_jdoc_t *j;
    const char *err;

    ck_assert_int_eq(check(good_proof(), "GET", URI, TOKEN, &p), ZT_DPOP_OK);
    ck_assert_str_eq(p.jti, "j-1");
    ck_assert_int_eq(p.iat, NOW);
    j = zt_jdoc_parse(jwk(k_ec, ""), strlen(jwk(k_ec, "")), 4096, pool, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(zt_dpop_jwk_thumb(&j->node[0], pool, want), 1);
    ck_assert_str_eq(p.jkt, want);
    /* EdDSA, and no token: then no ath is needed. */
    ck_assert_int_eq(check(sign(k_ed, hdr("EdDSA", k_ed, ""),
                                claims_with("\"x\"", "\"POST\"",
                                            "\"" URI "\"", "1700000003", NULL)),
                           "POST", URI, NULL, &p), ZT_DPOP_OK);
    /* iat as a real, inside the window at both ends */
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("ES256", k_ec, ""),
        claims_with("\"a\"", "\"GET\"", "\"" URI "\"", "1699999940.5",
                    apr_psprintf(pool, "\"%s\"", ath(TOKEN))))), ZT_DPOP_OK);
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("ES256", k_ec, ""),
        claims_with("\"a\"", "\"GET\"", "\"" URI "\"", "1700000005",
                    apr_psprintf(pool, "\"%s\"", ath(TOKEN))))), ZT_DPOP_OK);
}
END_TEST

/* RFC 7638 section 3.1 and RFC 8037 appendix A.3: known thumbprints. */
START_TEST(thumbprints)
{
    static const char *rsa = "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZp"
        "tN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
        "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf"
        "0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQv"
        "RL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksI"
        "NHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\","
        "\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    static const char *okp = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
        "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    char out[ZT_THUMB_SIZE];
    const char *err;
    const zt_jdoc_t *j;

    j = zt_jdoc_parse(rsa, strlen(rsa), 4096, pool, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(zt_dpop_jwk_thumb(&j->node[0], pool, out), 1);
    ck_assert_str_eq(out, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    j = zt_jdoc_parse(okp, strlen(okp), 4096, pool, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(zt_dpop_jwk_thumb(&j->node[0], pool, out), 1);
    ck_assert_str_eq(out, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /* a member of the wrong type: no thumbprint */
    j = zt_jdoc_parse("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":7}", 35,
                      4096, pool, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(zt_dpop_jwk_thumb(&j->node[0], pool, out), 0);
    /* x5t#S256 is plain SHA-256 of the DER: of "abc", FIPS 180-2 */
    zt_dpop_cert_thumb((const unsigned char *)"abc", 3, out);
    ck_assert_str_eq(out, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}
END_TEST

START_TEST(header_refused)
{
    char *c = good_claims();
    const char *hs_header;
    char *input, *proof;
    unsigned char mac[32];
    unsigned int n = 0;

    /* typ: missing, JWT, not a string */
    ck_assert_int_eq(check_proof(sign(k_ec, apr_psprintf(pool,
        "{\"alg\":\"ES256\",\"jwk\":%s}", jwk(k_ec, "")), c)), ZT_DPOP_TYP);
    ck_assert_int_eq(check_proof(sign(k_ec, apr_psprintf(pool,
        "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"jwk\":%s}", jwk(k_ec, "")), c)),
        ZT_DPOP_TYP);
    ck_assert_int_eq(check_proof(sign(k_ec, apr_psprintf(pool,
        "{\"typ\":1,\"alg\":\"ES256\",\"jwk\":%s}", jwk(k_ec, "")), c)),
        ZT_DPOP_TYP);
    /* alg none, in any case, unsigned */
    proof = apr_pstrcat(pool, b64s(apr_psprintf(pool, "{\"typ\":\"dpop+jwt\","
                        "\"alg\":\"nOnE\",\"jwk\":%s}", jwk(k_ec, ""))), ".",
                        b64s(c), ".", NULL);
    ck_assert_int_eq(check_proof(proof), ZT_DPOP_ALG);
    /* HS256 keyed with the jwk's own x: a proof any attacker could make */
    hs_header = apr_psprintf(pool, "{\"typ\":\"dpop+jwt\",\"alg\":\"HS256\","
                             "\"jwk\":%s}", jwk(k_ec, ""));
    input = apr_pstrcat(pool, b64s(hs_header), ".", b64s(c), NULL);
    HMAC(EVP_sha256(), "k", 1, (unsigned char *)input, strlen(input), mac, &n);
    proof = apr_pstrcat(pool, input, ".", zt_b64url_encode_pool(pool, mac, n),
                        NULL);
    ck_assert_int_eq(check_proof(proof), ZT_DPOP_ALG);
    /* the jwk's key is EC, the alg says EdDSA */
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("EdDSA", k_ec, ""), c)),
                     ZT_DPOP_ALG);
    /* a key source besides jwk, and crit, stay refused */
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("ES256", k_ec,
        ",\"jku\":\"https://evil/jwks\""), c)), ZT_DPOP_MALFORMED);
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("ES256", k_ec,
        ",\"x5c\":[\"AAAA\"]"), c)), ZT_DPOP_MALFORMED);
    ck_assert_int_eq(check_proof(sign(k_ec, hdr("ES256", k_ec,
        ",\"crit\":[\"x\"],\"x\":1"), c)), ZT_DPOP_MALFORMED);
}
END_TEST

START_TEST(alg_allowlist)
{
    static const zt_dpop_conf_t eddsa_only = {
        .algs = ZT_ALG_EDDSA, .max_age = 60, .skew = 5
    };
    static const zt_dpop_conf_t hs_only = {
        .algs = ZT_ALG_HS256, .max_age = 60, .skew = 5
    };
    zt_dpop_proof_t p;
    const char *why;
    char *proof = good_proof();

    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &eddsa_only, pool, &p,
                                    &why), ZT_DPOP_ALG);
    /* HS* in the configuration is ignored, never honoured */
    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &hs_only, pool, &p,
                                    &why), ZT_DPOP_ALG);
    ck_assert_str_eq(zt_dpop_alg_names(pool, ZT_ALG_ES256 | ZT_ALG_HS256
                                             | ZT_ALG_EDDSA), "ES256 EdDSA");
}
END_TEST

START_TEST(jwk_refused)
{
    char *c = good_claims();
    const char *priv;

    /* private material in the jwk: refused, never used */
    priv = jwk(k_ec, ",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"");
    ck_assert_int_eq(check_proof(sign(k_ec, apr_psprintf(pool,
        "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", priv), c)),
        ZT_DPOP_JWK);
    ck_assert_int_eq(check_proof(sign(k_ec, "{\"typ\":\"dpop+jwt\",\"alg\":"
        "\"ES256\"}", c)), ZT_DPOP_JWK);
    ck_assert_int_eq(check_proof(sign(k_ec, "{\"typ\":\"dpop+jwt\",\"alg\":"
        "\"ES256\",\"jwk\":\"key\"}", c)), ZT_DPOP_JWK);
    ck_assert_int_eq(check_proof(sign(k_ec, "{\"typ\":\"dpop+jwt\",\"alg\":"
        "\"ES256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}}", c)),
        ZT_DPOP_JWK);
    /* a point not on the curve */
    ck_assert_int_eq(check_proof(sign(k_ec, "{\"typ\":\"dpop+jwt\",\"alg\":"
        "\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
        "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":"
        "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}", c)), ZT_DPOP_JWK);
    /* signed by another key than the one it carries */
    ck_assert_int_eq(check_proof(sign(k_other, hdr("ES256", k_ec, ""), c)),
                     ZT_DPOP_SIGNATURE);
}
END_TEST

START_TEST(claims_refused)
{
    const char *a = apr_psprintf(pool, "\"%s\"", ath(TOKEN));
    const char *iat = "1700000000";

#define P(c) check_proof(sign(k_ec, hdr("ES256", k_ec, ""), (c)))
    ck_assert_int_eq(P(claims_with(NULL, "\"GET\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with("\"\"", "\"GET\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with("7", "\"GET\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with(apr_psprintf(pool, "\"%0257d\"", 1),
                                   "\"GET\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", NULL, iat, a)),
                     ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"",
                                   "\"1700000000\"", a)), ZT_DPOP_CLAIMS);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"", NULL, a)),
                     ZT_DPOP_CLAIMS);
    /* htm: exact method, case included */
    ck_assert_int_eq(P(claims_with("\"j\"", "\"get\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_HTM);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"POST\"", "\"" URI "\"", iat, a)),
                     ZT_DPOP_HTM);
    /* iat: 61 s old, 6 s ahead */
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"",
                                   "1699999939", a)), ZT_DPOP_IAT);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"",
                                   "1700000006", a)), ZT_DPOP_IAT);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"",
                                   "1e300", a)), ZT_DPOP_IAT);
    /* ath: missing, of another token, not a string */
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"", iat,
                                   NULL)), ZT_DPOP_ATH);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"", iat,
                                   apr_psprintf(pool, "\"%s\"",
                                                ath(TOKEN "x")))), ZT_DPOP_ATH);
    ck_assert_int_eq(P(claims_with("\"j\"", "\"GET\"", "\"" URI "\"", iat,
                                   "1")), ZT_DPOP_ATH);
    /* payload not an object */
    ck_assert_int_eq(P("[1]"), ZT_DPOP_MALFORMED);
#undef P
}
END_TEST

/* htu against the request URI, both normalised. */
static zt_dpop_status_e htu(const char *proof_htu, const char *request_uri)
{
    zt_dpop_proof_t p;
    char *c = claims_with("\"j\"", "\"GET\"", apr_psprintf(pool, "\"%s\"",
                          proof_htu), "1700000000",
                          apr_psprintf(pool, "\"%s\"", ath(TOKEN)));

    return check(sign(k_ec, hdr("ES256", k_ec, ""), c), "GET", request_uri,
                 TOKEN, &p);
}

START_TEST(htu_compare)
{
    ck_assert_int_eq(htu(URI, URI), ZT_DPOP_OK);
    ck_assert_int_eq(htu("HTTPS://API.Example.COM:443/orders/7", URI), ZT_DPOP_OK);
    ck_assert_int_eq(htu(URI "?limit=5#frag", URI), ZT_DPOP_OK);
    ck_assert_int_eq(htu("https://api.example.com/orders/%37", URI), ZT_DPOP_OK);
    ck_assert_int_eq(htu("https://api.example.com/x/../orders/./7", URI), ZT_DPOP_OK);
    ck_assert_int_eq(htu("https://api.example.com/orders/8", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://api.example.com/Orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://api.example.com:8443/orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("http://api.example.com/orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://evil.example.com/orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://user@api.example.com/orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("/orders/7", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://api.example.com/orders/7%", URI), ZT_DPOP_HTU);
    ck_assert_int_eq(htu("https://api.example.com/orders/7", "garbage"), ZT_DPOP_HTU);
}
END_TEST

START_TEST(htu_normalise)
{
    static const struct { const char *in, *out; } cases[] = {
        { "https://a.b", "https://a.b/" },
        { "HTTP://A.B:80/", "http://a.b/" },
        { "http://a.b:0080/x", "http://a.b/x" },
        { "https://a.b:443/%7e%2f%41", "https://a.b/~%2FA" },
        { "https://a.b/a/b/../../../c", "https://a.b/c" },
        { "https://a.b/a/.", "https://a.b/a/" },
        { "https://[::1]:8443/x?q#f", "https://[::1]:8443/x" },
        { "https://a.b:65536/", NULL },
        { "https://a.b:x/", NULL },
        { "https:///x", NULL },
        { "ftp://a.b/", NULL },
        { "https://a b/", NULL },
        { "https://a.b/\x01", NULL },
        { "https://a.b/%zz", NULL },
        { "https://[::1/", NULL },
        { "", NULL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = zt_dpop_htu(pool, cases[i].in, strlen(cases[i].in));

        if (cases[i].out == NULL) {
            ck_assert_msg(got == NULL, "%s -> %s", cases[i].in, got);
        }
        else {
            ck_assert_msg(got && strcmp(got, cases[i].out) == 0, "%s -> %s",
                          cases[i].in, got ? got : "NULL");
        }
    }
}
END_TEST

/* Every prefix of a good proof, and bytes flipped in it: refused, no crash. */
START_TEST(hostile_bytes)
{
    char *proof = good_proof(), *big;
    size_t len = strlen(proof);

    for (size_t i = 0; i < len; i++) {
        zt_dpop_proof_t p;
        const char *why;

        ck_assert_int_ne(zt_dpop_verify(proof, i, "GET", URI, TOKEN,
                                        strlen(TOKEN), NOW, &conf, pool, &p,
                                        &why), ZT_DPOP_OK);
    }
    for (size_t i = 0; i < len; i += 7) {
        char *bad = apr_pstrdup(pool, proof);

        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        ck_assert_int_ne(check_proof(bad), ZT_DPOP_OK);
    }
    big = apr_palloc(pool, ZT_DPOP_MAX_LEN + 2);
    memset(big, 'A', ZT_DPOP_MAX_LEN + 1);
    big[ZT_DPOP_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(check_proof(big), ZT_DPOP_TOO_LARGE);
    ck_assert_int_eq(check_proof(""), ZT_DPOP_MALFORMED);
    ck_assert_int_eq(check_proof("a.b.c"), ZT_DPOP_MALFORMED);
}
END_TEST

/* A valid proof of exactly @a want bytes: good_claims plus a "pad" claim
 * sized so (an ES256 signature is always 86 characters), signed once. */
static char *proof_of_len(size_t want)
{
    const char *h = b64s(hdr("ES256", k_ec, ""));
    char *claims = good_claims();
    size_t base = strlen(claims), fixed = strlen(h) + 1 + 1 + 86;

    for (size_t pad = 0; pad < want; pad++) {
        /* ",\"pad\":\"...\"" before the closing brace: 9 bytes and pad */
        size_t n = base + 9 + pad;

        if (fixed + (4 * n + 2) / 3 == want) {
            char *p = apr_palloc(pool, pad + 1);

            memset(p, 'p', pad);
            p[pad] = '\0';
            claims[base - 1] = '\0';
            return sign(k_ec, hdr("ES256", k_ec, ""),
                        apr_pstrcat(pool, claims, ",\"pad\":\"", p, "\"}",
                                    NULL));
        }
    }
    return NULL;
}

/* ZT_DPOP_MAX_LEN is the largest proof: one that size is verified in
 * full, one byte more is refused unread, as is the fuzz seed over 8 KiB
 * (a signed, otherwise valid proof). */
START_TEST(size_limit)
{
    char *at = proof_of_len(ZT_DPOP_MAX_LEN);
    char *over = proof_of_len(ZT_DPOP_MAX_LEN + 1);
    zt_dpop_proof_t p;
    const char *why = NULL;
    char buf[ZT_DPOP_MAX_LEN + 1024];
    FILE *f;
    size_t n;
    char *nl;

    if (over == NULL) {         /* base64url has no length 4k+1 */
        over = proof_of_len(ZT_DPOP_MAX_LEN + 2);
    }
    ck_assert_ptr_nonnull(at);
    ck_assert_uint_eq(strlen(at), ZT_DPOP_MAX_LEN);
    ck_assert_int_eq(check_proof(at), ZT_DPOP_OK);
    ck_assert_ptr_nonnull(over);
    ck_assert_uint_eq(zt_dpop_verify(over, ZT_DPOP_MAX_LEN + 1, "GET", URI,
                                     TOKEN, strlen(TOKEN), NOW, &conf, pool,
                                     &p, &why), ZT_DPOP_TOO_LARGE);
    ck_assert_str_eq(why, "the DPoP proof is too large");
    ck_assert_int_eq(check_proof(over), ZT_DPOP_TOO_LARGE);
    /* the seed: "proof\nhtu", as fuzz_dpop reads it */
    f = fopen(ZT_SRCDIR "/test/fuzz/corpus/dpop/oversized", "rb");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(nl = strchr(buf, '\n'));
    *nl = '\0';
    ck_assert_uint_gt(strlen(buf), ZT_DPOP_MAX_LEN);
    ck_assert_int_eq(check_proof(buf), ZT_DPOP_TOO_LARGE);
}
END_TEST

static const zt_claims_t *doc(const char *json)
{
    const char *err;

    return zt_jdoc_parse(json, strlen(json), 4096, pool, &err);
}

START_TEST(cnf)
{
    zt_dpop_cnf_t c;

    ck_assert_int_eq(zt_dpop_cnf_read(doc("{}"), &c), 0);
    ck_assert_ptr_null(c.jkt);
    ck_assert_ptr_null(c.x5t);
    ck_assert_int_eq(zt_dpop_cnf_read(doc("{\"cnf\":{\"jkt\":\"a\","
                                     "\"x5t#S256\":\"b\"}}"), &c), 0);
    ck_assert_str_eq(c.jkt, "a");
    ck_assert_str_eq(c.x5t, "b");
    ck_assert_int_eq(zt_dpop_cnf_read(doc("{\"cnf\":\"a\"}"), &c), -1);
    ck_assert_int_eq(zt_dpop_cnf_read(doc("{\"cnf\":{\"jkt\":1}}"), &c), -1);
    ck_assert_int_eq(zt_dpop_cnf_read(doc("{\"cnf\":{\"x5t#S256\":null}}"), &c), -1);
}
END_TEST

/* Server nonces: current and previous period pass, nothing else. */
START_TEST(nonces)
{
    static const unsigned char key[32] = { 1, 2, 3 }, other[32] = { 9 };
    zt_dpop_conf_t nconf = conf;
    char n[ZT_NONCE_SIZE], old[ZT_NONCE_SIZE], *bad;
    zt_dpop_proof_t p;
    const char *why;
    char *proof;

    zt_dpop_nonce(key, 60, NOW, n);
    ck_assert_uint_eq(strlen(n), ZT_NONCE_SIZE - 1);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW, n), 1);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW + 60, n), 1);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW + 120, n), 0);
    ck_assert_int_eq(zt_dpop_nonce_ok(other, 60, NOW, n), 0);
    zt_dpop_nonce(key, 60, NOW - 120, old);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW, old), 0);
    bad = apr_pstrdup(pool, n);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW, bad), 0);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW, ""), 0);
    ck_assert_int_eq(zt_dpop_nonce_ok(key, 60, NOW, apr_pstrcat(pool, n, "A",
                                                                NULL)), 0);

    nconf.nonce_key = key;
    nconf.nonce_period = 60;
#define NP(extra) sign(k_ec, hdr("ES256", k_ec, ""), apr_psprintf(pool, \
        "{\"jti\":\"j\",\"htm\":\"GET\",\"htu\":\"" URI "\",\"iat\":%d," \
        "\"ath\":\"%s\"%s}", NOW, ath(TOKEN), (extra)))
    proof = NP(apr_psprintf(pool, ",\"nonce\":\"%s\"", n));
    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &nconf, pool, &p,
                                    &why), ZT_DPOP_OK);
    ck_assert_str_eq(p.nonce, n);
    /* without the key configured, a nonce is ignored */
    ck_assert_int_eq(check_proof(proof), ZT_DPOP_OK);
    proof = NP("");
    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &nconf, pool, &p,
                                    &why), ZT_DPOP_NONCE);
    proof = NP(apr_psprintf(pool, ",\"nonce\":\"%s\"", old));
    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &nconf, pool, &p,
                                    &why), ZT_DPOP_NONCE);
    proof = NP(",\"nonce\":7");
    ck_assert_int_eq(zt_dpop_verify(proof, strlen(proof), "GET", URI, TOKEN,
                                    strlen(TOKEN), NOW, &nconf, pool, &p,
                                    &why), ZT_DPOP_NONCE);
#undef NP
}
END_TEST

/* ------------------------------------------------------------------ */
/* The seen-set                                                        */

static void key_of(unsigned n, unsigned char key[32])
{
    SHA256((const unsigned char *)&n, sizeof(n), key);
}

START_TEST(replay_basic)
{
    size_t size = zt_replay_size(1024);
    void *mem = apr_palloc(pool, size);
    zt_replay_t *rp = zt_replay_init(mem, size, 1024);
    unsigned char k1[32], k2[32];

    ck_assert_ptr_nonnull(rp);
    ck_assert_ptr_null(zt_replay_init(mem, size, 16));
    ck_assert_ptr_null(zt_replay_init(mem, size - 1, 1024));
    key_of(1, k1);
    key_of(2, k2);
    ck_assert_int_eq(zt_replay_check(rp, k1, NOW, 60), ZT_REPLAY_FRESH);
    ck_assert_int_eq(zt_replay_check(rp, k1, NOW, 60), ZT_REPLAY_SEEN);
    ck_assert_int_eq(zt_replay_check(rp, k1, NOW + 59, 60), ZT_REPLAY_SEEN);
    ck_assert_int_eq(zt_replay_check(rp, k2, NOW, 60), ZT_REPLAY_FRESH);
    ck_assert_uint_eq(zt_replay_live(rp, NOW), 2);
    /* expired: the proof itself is refused by its iat by now */
    ck_assert_int_eq(zt_replay_check(rp, k1, NOW + 60, 60), ZT_REPLAY_FRESH);
    ck_assert_int_eq(zt_replay_check(NULL, k1, NOW, 60), ZT_REPLAY_FULL);
}
END_TEST

/* A full window refuses, and never evicts a live entry. */
START_TEST(replay_full)
{
    size_t size = zt_replay_size(ZT_REPLAY_MIN);
    zt_replay_t *rp = zt_replay_init(apr_palloc(pool, size), size,
                                     ZT_REPLAY_MIN);
    unsigned char k[32];
    unsigned n, fresh = 0, full = 0;

    for (n = 0; n < 4 * ZT_REPLAY_MIN; n++) {
        key_of(n, k);
        switch (zt_replay_check(rp, k, NOW, 100)) {
        case ZT_REPLAY_FRESH: fresh++; break;
        case ZT_REPLAY_FULL: full++; break;
        default: break;
        }
    }
    ck_assert_uint_eq(fresh, ZT_REPLAY_MIN);
    ck_assert_uint_eq(full, 3 * ZT_REPLAY_MIN);
    /* every remembered key is still refused */
    for (n = 0, fresh = 0; n < 4 * ZT_REPLAY_MIN; n++) {
        key_of(n, k);
        fresh += zt_replay_check(rp, k, NOW + 99, 100) == ZT_REPLAY_SEEN;
    }
    ck_assert_uint_eq(fresh, ZT_REPLAY_MIN);
    /* once they expire there is room again */
    key_of(9999, k);
    ck_assert_int_eq(zt_replay_check(rp, k, NOW + 100, 100), ZT_REPLAY_FRESH);
}
END_TEST

/* Four processes spend the same keys at once: each key is accepted once
 * at most, across all of them. */
START_TEST(replay_processes)
{
    enum { PROCS = 4, KEYS = 3000 };
    size_t size = zt_replay_size(1 << 14);
    void *mem = mmap(NULL, size + KEYS * sizeof(uint32_t),
                     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t *wins;
    zt_replay_t *rp;
    unsigned total = 0;

    ck_assert_ptr_ne(mem, MAP_FAILED);
    rp = zt_replay_init(mem, size, 1 << 14);
    wins = (uint32_t *)((char *)mem + size);
    for (int i = 0; i < PROCS; i++) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            unsigned char k[32];

            for (unsigned n = 0; n < KEYS; n++) {
                key_of(n, k);
                if (zt_replay_check(rp, k, NOW, 60) == ZT_REPLAY_FRESH) {
                    __atomic_add_fetch(&wins[n], 1, __ATOMIC_SEQ_CST);
                }
            }
            _exit(0);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status;

        wait(&status);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (unsigned n = 0; n < KEYS; n++) {
        ck_assert_uint_le(wins[n], 1);
        total += wins[n];
    }
    /* both racing uses refused is allowed (fail closed), but rare */
    ck_assert_uint_ge(total, KEYS * 9 / 10);
    munmap(mem, size + KEYS * sizeof(uint32_t));
}
END_TEST

/*
** The proof-key cache (zt_pkcache.h) changes no answer: each proof, sent
** twice through a configuration with the cache (a miss, then maybe a hit)
** and once without, gets the same status and thumbprint.  Only a key that
** signed is kept, and a cached key still has to sign.
*/
START_TEST(key_cache)
{
    const char *c = good_claims();
    const char *proofs[] = {
        good_proof(),
        /* the same header, another jti: a hit */
        sign(k_ec, hdr("ES256", k_ec, ""), claims_with("\"j-2\"", "\"GET\"",
             "\"" URI "\"", "1700000000",
             apr_psprintf(pool, "\"%s\"", ath(TOKEN)))),
        /* the cached key's header, signed by another key */
        sign(k_other, hdr("ES256", k_ec, ""), c),
        /* the same key with private material, or another use */
        sign(k_ec, apr_psprintf(pool, "{\"typ\":\"dpop+jwt\",\"alg\":"
             "\"ES256\",\"jwk\":%s}", jwk(k_ec, ",\"d\":\"AAAA\"")), c),
        sign(k_ec, apr_psprintf(pool, "{\"typ\":\"dpop+jwt\",\"alg\":"
             "\"ES256\",\"jwk\":%s}", jwk(k_ec, ",\"use\":\"enc\"")), c),
        /* the key, but the alg of another type */
        sign(k_ec, hdr("EdDSA", k_ec, ""), c),
        sign(k_ed, hdr("EdDSA", k_ed, ""), c),
    };
    zt_dpop_conf_t cached = conf;
    zt_pkcache_stats_t st;
    zt_dpop_proof_t p, q;
    const char *why;
    int said = 0;

    ck_assert_int_eq(zt_pkcache_create(&cached.keys, pool, 0, 0), APR_SUCCESS);
    for (size_t i = 0; i < sizeof(proofs) / sizeof(proofs[0]); i++) {
        size_t n = strlen(proofs[i]);
        zt_dpop_status_e want = zt_dpop_verify(proofs[i], n, "GET", URI, TOKEN,
                                               strlen(TOKEN), NOW, &conf, pool,
                                               &p, &why);

        for (int round = 0; round < 2; round++) {
            ck_assert_int_eq(zt_dpop_verify(proofs[i], n, "GET", URI, TOKEN,
                                            strlen(TOKEN), NOW, &cached, pool,
                                            &q, &why), want);
            ck_assert_str_eq(q.jkt, p.jkt);
            said += want == ZT_DPOP_OK && q.key_cached;
        }
        ck_assert_int_eq(p.key_cached, 0);      /* no cache: never */
    }
    /* Kept: k_ec's and k_ed's headers, each once, on their first good
     * signature.  Hits: the second round of proofs 0 and 6, both rounds
     * of 1 and 2 (k_ec's header, known since proof 0). */
    zt_pkcache_stats(cached.keys, &st);
    ck_assert_uint_eq(st.inserts, 2);
    ck_assert_uint_eq(st.entries, 2);
    ck_assert_uint_eq(st.hits, 6);
    /* key_cached says so of the accepted ones: 0 and 6 once, 1 twice
     * (proof 2's hits did not sign). */
    ck_assert_int_eq(said, 4);
    ck_assert_int_eq(zt_dpop_verify(proofs[2], strlen(proofs[2]), "GET", URI,
                                    TOKEN, strlen(TOKEN), NOW, &cached, pool,
                                    &q, &why), ZT_DPOP_SIGNATURE);
}
END_TEST

static Suite *dpop_suite(void)
{
    Suite *s = suite_create("dpop");
    TCase *tc = tcase_create("proof");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_proofs);
    tcase_add_test(tc, thumbprints);
    tcase_add_test(tc, header_refused);
    tcase_add_test(tc, alg_allowlist);
    tcase_add_test(tc, jwk_refused);
    tcase_add_test(tc, claims_refused);
    tcase_add_test(tc, htu_compare);
    tcase_add_test(tc, htu_normalise);
    tcase_add_test(tc, hostile_bytes);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, cnf);
    tcase_add_test(tc, nonces);
    tcase_add_test(tc, key_cache);
    suite_add_tcase(s, tc);
    tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, replay_basic);
    tcase_add_test(tc, replay_full);
    tcase_add_test(tc, replay_processes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    k_ec = keygen("EC", "P-256");
    k_other = keygen("EC", "P-256");
    k_ed = keygen("ED25519", NULL);
    return zt_test_main(dpop_suite());
}
