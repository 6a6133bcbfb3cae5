/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Token verification core: zt_b64, zt_json, zt_jwk, zt_jws, zt_token.
 *
 * Keys are made at test time with OpenSSL, turned into JWK Sets by
 * zt_t_jwk() below and parsed by zt_jwks_parse.  Tokens come from two
 * signers: zt_t_sign() here (EVP), and PyJWT run by /usr/bin/python3 into a
 * temporary directory (an independent implementation; it also checks that
 * the tokens signed here verify with PyJWT).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "zt_test.h"
#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_json.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_token.h"
#include "../fuzz/jdoc_same.h"

#define NOW       INT64_C(1700000000)
#define ISS       "https://idp.example.com/realms/corp"
#define ISS2      "https://other.example.org"
#define AUD       "orders-api"
#define SALT_JWS  (-1000)
#define ALGS_ASYM (ZT_ALG_ALL & ~(ZT_ALG_HS256 | ZT_ALG_HS384 | ZT_ALG_HS512))

/* For helpers that also run outside a test (Check's asserts may not). */
#define need(x) do { \
    if (!(x)) { \
        fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #x); \
        abort(); \
    } \
} while (0)

/* Keys made once in main(); forked test processes inherit them. */
static EVP_PKEY *k_rsa, *k_rsa2, *k_ec256, *k_ec384, *k_ec521, *k_ed,
                *k_attacker, *k_rsa1024;
static apr_pool_t *g_pool;          /* lives for the whole run */
static zt_keyset_t *g_ks;           /* kids: rsa, ec256, ec384, ec521, ed */
static zt_keyset_t *g_ks2;          /* kid: other (k_rsa2), for ISS2 */

/* ------------------------------------------------------------------ */
/* Helpers: JWK export, signing, token assembly                        */
/* ------------------------------------------------------------------ */

static char *zt_t_b64bn(apr_pool_t *p, EVP_PKEY *k, const char *name, int width)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;

    need(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
    n = width > 0 ? BN_bn2binpad(bn, buf, width) : BN_bn2bin(bn, buf);
    need(n > 0);
    BN_free(bn);
    return zt_b64url_encode_pool(p, buf, (size_t)n);
}

/* The public JWK of @a k, with @a extra members ("" or ",\"alg\":...") . */
static char *zt_t_jwk(apr_pool_t *p, EVP_PKEY *k, const char *kid,
                      const char *extra)
{
    const char *kidm = kid ? apr_psprintf(p, "\"kid\":\"%s\",", kid) : "";

    if (EVP_PKEY_is_a(k, "RSA")) {
        return apr_psprintf(p, "{%s\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                            kidm, zt_t_b64bn(p, k, OSSL_PKEY_PARAM_RSA_N, 0),
                            zt_t_b64bn(p, k, OSSL_PKEY_PARAM_RSA_E, 0), extra);
    }
    if (EVP_PKEY_is_a(k, "EC")) {
        char grp[32];
        int w;
        const char *crv;

        need(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
                                                 grp, sizeof(grp), NULL) == 1);
        w = strcmp(grp, "prime256v1") == 0 ? 32 : strcmp(grp, "secp384r1") == 0 ? 48 : 66;
        crv = w == 32 ? "P-256" : w == 48 ? "P-384" : "P-521";
        return apr_psprintf(p, "{%s\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
                            "\"y\":\"%s\"%s}", kidm, crv,
                            zt_t_b64bn(p, k, OSSL_PKEY_PARAM_EC_PUB_X, w),
                            zt_t_b64bn(p, k, OSSL_PKEY_PARAM_EC_PUB_Y, w), extra);
    }
    {
        unsigned char raw[32];
        size_t n = sizeof(raw);

        need(EVP_PKEY_get_raw_public_key(k, raw, &n) == 1);
        return apr_psprintf(p, "{%s\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                            "\"x\":\"%s\"%s}", kidm,
                            zt_b64url_encode_pool(p, raw, n), extra);
    }
}

static const EVP_MD *zt_t_md(uint32_t alg)
{
    if (alg & (ZT_ALG_RS256 | ZT_ALG_PS256 | ZT_ALG_ES256 | ZT_ALG_HS256)) {
        return EVP_sha256();
    }
    if (alg & (ZT_ALG_RS384 | ZT_ALG_PS384 | ZT_ALG_ES384 | ZT_ALG_HS384)) {
        return EVP_sha384();
    }
    if (alg & (ZT_ALG_RS512 | ZT_ALG_PS512 | ZT_ALG_ES512 | ZT_ALG_HS512)) {
        return EVP_sha512();
    }
    return NULL;
}

/*
** Sign @a data as JWS @a alg wants it.  @a pss_salt: SALT_JWS for the JWS
** salt (hash length), else passed to OpenSSL (RSA_PSS_SALTLEN_MAX, 0, ...).  @a der: keep ECDSA's DER instead
** of converting to r || s.
*/
static unsigned char *zt_t_sign_raw(apr_pool_t *p, uint32_t alg, EVP_PKEY *k,
                                    const void *data, size_t len,
                                    size_t *siglen, int pss_salt, int der)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    const EVP_MD *md = zt_t_md(alg);
    unsigned char *sig;
    size_t n = 0;

    need(EVP_DigestSignInit(m, &pc, md, NULL, k) == 1);
    if (alg & (ZT_ALG_PS256 | ZT_ALG_PS384 | ZT_ALG_PS512)) {
        need(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0);
        need(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) > 0);
        need(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, pss_salt == SALT_JWS
                  ? EVP_MD_get_size(md) : pss_salt) > 0);
    }
    need(EVP_DigestSign(m, NULL, &n, data, len) == 1);
    sig = apr_palloc(p, n);
    need(EVP_DigestSign(m, sig, &n, data, len) == 1);
    EVP_MD_CTX_free(m);
    if ((alg & (ZT_ALG_ES256 | ZT_ALG_ES384 | ZT_ALG_ES512)) && !der) {
        size_t w = alg == ZT_ALG_ES256 ? 32 : alg == ZT_ALG_ES384 ? 48 : 66;
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        unsigned char *rs = apr_palloc(p, 2 * w);

        need(es != NULL);
        need(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)w) == (int)w);
        need(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + w, (int)w) == (int)w);
        ECDSA_SIG_free(es);
        sig = rs;
        n = 2 * w;
    }
    *siglen = n;
    return sig;
}

static char *zt_t_b64s(apr_pool_t *p, const char *s)
{
    return zt_b64url_encode_pool(p, (const unsigned char *)s, strlen(s));
}

/* A compact JWS of @a header and @a payload (JSON text), signed with @a k. */
static char *zt_t_sign(apr_pool_t *p, uint32_t alg, EVP_PKEY *k,
                       const char *header, const char *payload)
{
    char *input = apr_pstrcat(p, zt_t_b64s(p, header), ".",
                              zt_t_b64s(p, payload), NULL);
    size_t n;
    unsigned char *sig = zt_t_sign_raw(p, alg, k, input, strlen(input), &n,
                                       -1, 0);

    return apr_pstrcat(p, input, ".", zt_b64url_encode_pool(p, sig, n), NULL);
}

/* Header for @a alg with @a kid (or none) and @a extra members. */
static char *zt_t_hdr(apr_pool_t *p, uint32_t alg, const char *kid,
                      const char *extra)
{
    return apr_psprintf(p, "{\"alg\":\"%s\"%s%s%s%s}", zt_alg_name(alg),
                        kid ? ",\"kid\":\"" : "", kid ? kid : "",
                        kid ? "\"" : "", extra);
}

/* Claims valid at NOW for ISS/AUD, plus @a extra members. */
static char *zt_t_claims(apr_pool_t *p, const char *extra)
{
    return apr_psprintf(p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
                        "\"sub\":\"alice\",\"iat\":%" APR_INT64_T_FMT ","
                        "\"exp\":%" APR_INT64_T_FMT "%s}", NOW - 10, NOW + 300,
                        extra);
}

static EVP_PKEY *zt_t_key_for(uint32_t alg, const char **kid)
{
    if (alg & (ZT_ALG_ES256)) { *kid = "ec256"; return k_ec256; }
    if (alg & (ZT_ALG_ES384)) { *kid = "ec384"; return k_ec384; }
    if (alg & (ZT_ALG_ES512)) { *kid = "ec521"; return k_ec521; }
    if (alg & ZT_ALG_EDDSA) { *kid = "ed"; return k_ed; }
    *kid = "rsa";
    return k_rsa;
}

/* A good token for @a alg with the usual claims plus @a extra. */
static char *zt_t_token(apr_pool_t *p, uint32_t alg, const char *extra)
{
    const char *kid;
    EVP_PKEY *k = zt_t_key_for(alg, &kid);

    return zt_t_sign(p, alg, k, zt_t_hdr(p, alg, kid, ""), zt_t_claims(p, extra));
}

/* Issuers: corp (ISS, keys g_ks) and other (ISS2, keys g_ks2). */
static zt_issuer_t g_issuers[2];

static void zt_t_issuers_reset(void)
{
    g_issuers[0] = (zt_issuer_t){ .name = "corp", .iss = ISS, .audience = AUD,
                                  .algs = ALGS_ASYM, .leeway = 30,
                                  .keys = g_ks };
    g_issuers[1] = (zt_issuer_t){ .name = "other", .iss = ISS2,
                                  .audience = "other-api",
                                  .algs = ZT_ALG_RS256, .keys = g_ks2 };
}

static zt_tok_status_e zt_t_verify_at(apr_pool_t *p, const char *jwt,
                                      size_t len, int64_t now, zt_token_t *out,
                                      const char **reason)
{
    return zt_token_verify(jwt, len, g_issuers, 2, now, 0, p, out, reason);
}

#define ck_tok(p, jwt, want) do { \
    zt_token_t out_; const char *why_ = NULL; \
    zt_tok_status_e st_ = zt_t_verify_at((p), (jwt), strlen(jwt), NOW, &out_, &why_); \
    ck_assert_msg(st_ == (want), "got %s (%s), want %s for %.120s", \
                  zt_tok_status_name(st_), why_ ? why_ : "-", \
                  zt_tok_status_name(want), (jwt)); \
} while (0)

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, g_pool);
    zt_t_issuers_reset();
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ------------------------------------------------------------------ */
/* zt_b64                                                              */
/* ------------------------------------------------------------------ */

static int zt_t_dec(const char *s, size_t len, char *out, size_t cap)
{
    size_t n;

    if (zt_b64url_decode((unsigned char *)out, cap, &n, s, len) != 0) {
        return -1;
    }
    out[n] = '\0';
    return (int)n;
}

START_TEST(b64_rfc4648_vectors)
{
    static const char *enc[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    static const char *dec[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    char buf[16], ebuf[16];

    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(zt_t_dec(enc[i], strlen(enc[i]), buf, sizeof(buf) - 1),
                         (int)strlen(dec[i]));
        ck_assert_str_eq(buf, dec[i]);
        ck_assert_uint_eq(zt_b64url_encode(ebuf, (const unsigned char *)dec[i],
                                           strlen(dec[i])), strlen(enc[i]));
        ck_assert_str_eq(ebuf, enc[i]);
        ck_assert_uint_eq(ZT_B64_ENCODED_LEN(strlen(dec[i])), strlen(enc[i]));
    }
}
END_TEST

START_TEST(b64_refuses_non_canonical)
{
    static const char *bad[] = {
        "Zg==", "Zg=", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v",
        "Zm9 v", "Zm9v\n", " Zm9v", "Zm9v\r\n", "Zm\tv", "=", "==", "Z===",
        "Zm9v=", "\xc3\xa9xx", "Zm9v\x80", "Zm.v", "Zm9v!",
    };
    char buf[16];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(zt_t_dec(bad[i], strlen(bad[i]), buf, sizeof(buf)) < 0,
                      "accepted \"%s\"", bad[i]);
    }
    /* A NUL inside the counted length. */
    ck_assert_int_lt(zt_t_dec("Zm\0v", 4, buf, sizeof(buf)), 0);
    ck_assert_int_lt(zt_t_dec("Zm9v\0\0\0\0", 8, buf, sizeof(buf)), 0);
}
END_TEST

/* Every 2- and 3-character string: decodes iff its unused bits are zero,
 * and then it is the encoder's own output (one spelling per value). */
START_TEST(b64_exhaustive_tails)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char s[4], back[8];
    unsigned char out[4];
    size_t n;
    int ok2 = 0, ok3 = 0;

    for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 64; j++) {
            s[0] = a[i], s[1] = a[j];
            if (zt_b64url_decode(out, sizeof(out), &n, s, 2) == 0) {
                ck_assert_uint_eq(n, 1);
                ck_assert_int_eq(j & 0x0f, 0);
                zt_b64url_encode(back, out, n);
                ck_assert(memcmp(back, s, 2) == 0);
                ok2++;
            }
            else {
                ck_assert_int_ne(j & 0x0f, 0);
            }
            for (int k = 0; k < 64; k++) {
                s[2] = a[k];
                if (zt_b64url_decode(out, sizeof(out), &n, s, 3) == 0) {
                    ck_assert_uint_eq(n, 2);
                    ck_assert_int_eq(k & 0x03, 0);
                    zt_b64url_encode(back, out, n);
                    ck_assert(memcmp(back, s, 3) == 0);
                    ok3++;
                }
                else {
                    ck_assert_int_ne(k & 0x03, 0);
                }
            }
        }
    }
    ck_assert_int_eq(ok2, 256);
    ck_assert_int_eq(ok3, 65536);
}
END_TEST

/* Round trips of every length 0..300 against OpenSSL's standard base64. */
START_TEST(b64_round_trip_vs_openssl)
{
    unsigned char in[300], out[300], std[420];
    char enc[420];
    size_t n;

    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char)(i * 151 + 7);
    }
    for (size_t len = 0; len <= sizeof(in); len++) {
        size_t e = zt_b64url_encode(enc, in, len);
        int s = EVP_EncodeBlock(std, in, (int)len);

        /* Standard alphabet and padding -> url alphabet without padding. */
        while (s > 0 && std[s - 1] == '=') {
            s--;
        }
        for (int i = 0; i < s; i++) {
            std[i] = std[i] == '+' ? '-' : std[i] == '/' ? '_' : std[i];
        }
        ck_assert_uint_eq(e, (size_t)s);
        ck_assert(memcmp(enc, std, e) == 0);
        ck_assert_int_eq(zt_b64url_decode(out, sizeof(out), &n, enc, e), 0);
        ck_assert_uint_eq(n, len);
        ck_assert(memcmp(out, in, len) == 0);
        ck_assert_uint_le(n, ZT_B64_DECODED_MAX(e));
    }
}
END_TEST

/* The grouped fast loop: a bad character at any position of a long string
 * is refused, and the output never goes past its exact size (malloc'd to
 * the byte, so ASan sees any overrun). */
START_TEST(b64_every_position)
{
    static const unsigned char bad[] = { '=', '+', '/', '.', ' ', 0, 0x80, 0xff };
    unsigned char in[120];
    char enc[170];

    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char)(i * 37 + 11);
    }
    for (size_t len = 0; len <= sizeof(in); len++) {
        size_t e = zt_b64url_encode(enc, in, len), n;
        unsigned char *out = malloc(len ? len : 1);

        ck_assert_int_eq(zt_b64url_decode(out, len, &n, enc, e), 0);
        ck_assert_uint_eq(n, len);
        ck_assert(memcmp(out, in, len) == 0);
        if (len > 0) {
            ck_assert_int_lt(zt_b64url_decode(out, len - 1, &n, enc, e), 0);
        }
        for (size_t pos = 0; pos < e; pos++) {
            for (size_t k = 0; k < sizeof(bad); k++) {
                char keep = enc[pos];

                enc[pos] = (char)bad[k];
                ck_assert_msg(zt_b64url_decode(out, len, &n, enc, e) < 0,
                              "length %zu: 0x%02x at %zu accepted", e, bad[k], pos);
                enc[pos] = keep;
            }
        }
        free(out);
    }
}
END_TEST

START_TEST(b64_capacity)
{
    unsigned char out[3];
    size_t n = 99;

    ck_assert_int_eq(zt_b64url_decode(out, 3, &n, "Zm9v", 4), 0);
    ck_assert_int_lt(zt_b64url_decode(out, 2, &n, "Zm9v", 4), 0);
    ck_assert_int_lt(zt_b64url_decode(out, 3, &n, "Zm9vYg", 6), 0);
    ck_assert_ptr_null(zt_b64url_decode_pool(pool, "Zg=", 3, &n));
    ck_assert_ptr_nonnull(zt_b64url_decode_pool(pool, "", 0, &n));
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zt_json                                                             */
/* ------------------------------------------------------------------ */

/* Both strict readers (zt_json for key sets, zt_jdoc for tokens) on @a s:
 * 1 accepted, 0 refused; a disagreement fails the test (test_jdoc has the
 * reader's own cases). */
static int zt_t_json_ok(const char *s, size_t len)
{
    int rc = zt_jdoc_both(s, len, 1 << 20, pool);

    ck_assert_msg(rc >= 0, "zt_json and zt_jdoc disagree on %.*s", (int)len, s);
    return rc;
}

#define JOK(s)  ck_assert_msg(zt_t_json_ok(s, sizeof(s) - 1), "refused %s", s)
#define JBAD(s) ck_assert_msg(!zt_t_json_ok(s, sizeof(s) - 1), "accepted %s", s)

START_TEST(json_accepts_plain_objects)
{
    JOK("{}");
    JOK(" {\"a\":1,\"b\":[1,2.5,-3e2,true,false,null],\"c\":{\"d\":\"\xc3\xa9\"}} \n");
    JOK("{\"a\":\"\\u00e9\\ud83d\\ude00\"}");          /* escaped pair is fine */
    JOK("{\"a\":\"\xf0\x9f\x98\x80\"}");                  /* U+1F600 raw */
    JOK("{\"a\":{},\"b\":{\"a\":1}}");                    /* same name, other objects */
}
END_TEST

START_TEST(json_refuses_duplicates)
{
    JBAD("{\"a\":1,\"a\":1}");
    JBAD("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}");
    JBAD("{\"x\":[{\"k\":1,\"k\":1}]}");
    JBAD("{\"\\u0061\":1,\"a\":2}");                      /* same name, escaped */
}
END_TEST

START_TEST(json_refuses_bad_utf8_and_nul)
{
    JBAD("{\"a\":\"\xff\"}");
    JBAD("{\"a\":\"\xc3\"}");                             /* truncated sequence */
    JBAD("{\"a\":\"\xc0\xaf\"}");                         /* overlong '/' */
    JBAD("{\"a\":\"\xe0\x80\xaf\"}");                     /* overlong, 3 bytes */
    JBAD("{\"a\":\"\xf0\x80\x80\xaf\"}");                 /* overlong, 4 bytes */
    JBAD("{\"a\":\"\xed\xa0\x80\"}");                     /* UTF-16 surrogate */
    JBAD("{\"a\":\"\xf4\x90\x80\x80\"}");                 /* above U+10FFFF */
    JBAD("{\"\xfe\":1}");                                 /* in a member name */
    JBAD("{\"a\":\"\\ud800\"}");                          /* lone surrogate escape */
    JBAD("{\"a\":\"\\u0000\"}");
    JBAD("{\"a\\u0000\":1}");
    JBAD("{\"a\":\"x\0y\"}");
    JBAD("{\"a\":1}\0");
    JBAD("\0{\"a\":1}");
    JBAD("{\"a\":\"tab\there\"}");                        /* raw control character */
}
END_TEST

START_TEST(json_refuses_structure)
{
    JBAD("");
    JBAD("   ");
    JBAD("[]");
    JBAD("[{}]");
    JBAD("\"s\"");
    JBAD("1");
    JBAD("null");
    JBAD("true");
    JBAD("{} x");
    JBAD("{}{}");
    JBAD("{},");
    JBAD("{\"a\":1,}");
    JBAD("{'a':1}");
    JBAD("{\"a\":1 // c\n}");
    JBAD("{\"a\":NaN}");
    JBAD("{\"a\":Infinity}");
    JBAD("{\"a\":1e400}");
    JBAD("{\"a\":123456789012345678901234567890}");
    JBAD("\xef\xbb\xbf{}");                               /* BOM */
    JBAD("{\"a\":01}");
    JBAD("{\"a\":\"unterminated}");
    JBAD("{\"a\"");
}
END_TEST

static char *zt_t_nest(apr_pool_t *p, int depth, int arrays)
{
    char *s = apr_palloc(p, (apr_size_t)depth * 8 + 8), *q = s;

    /* depth containers: the top object, then depth - 1 inner ones. */
    *q++ = '{';
    for (int i = 1; i < depth; i++) {
        if (arrays) {
            q += sprintf(q, "\"a\":[");
            for (; i < depth - 1; i++) {
                *q++ = '[';
            }
            for (int j = 1; j < depth - 1; j++) {
                *q++ = ']';
            }
            *q++ = ']';
            break;
        }
        q += sprintf(q, "\"a\":{");
    }
    if (!arrays) {
        for (int i = 1; i < depth; i++) {
            *q++ = '}';
        }
    }
    *q++ = '}';
    *q = '\0';
    return s;
}

START_TEST(json_depth_limit)
{
    const char *s;

    s = zt_t_nest(pool, ZT_JSON_MAX_DEPTH, 0);
    ck_assert_msg(zt_t_json_ok(s, strlen(s)), "refused depth %d", ZT_JSON_MAX_DEPTH);
    s = zt_t_nest(pool, ZT_JSON_MAX_DEPTH + 1, 0);
    ck_assert(!zt_t_json_ok(s, strlen(s)));
    s = zt_t_nest(pool, ZT_JSON_MAX_DEPTH, 1);
    ck_assert_msg(zt_t_json_ok(s, strlen(s)), "refused %s", s);
    s = zt_t_nest(pool, ZT_JSON_MAX_DEPTH + 1, 1);
    ck_assert(!zt_t_json_ok(s, strlen(s)));
    s = zt_t_nest(pool, 5000, 1);                         /* past jansson's own */
    ck_assert(!zt_t_json_ok(s, strlen(s)));
}
END_TEST

START_TEST(json_length_limit)
{
    const char *err;
    json_t *j;

    j = zt_json_parse("{\"a\":1}", 7, 7, pool, &err);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    ck_assert_ptr_null(zt_json_parse("{\"a\":1}", 7, 6, pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
    ck_assert_ptr_null(zt_json_parse(NULL, 0, 6, pool, &err));
}
END_TEST

START_TEST(json_pool_owns)
{
    apr_pool_t *p;
    const char *err;
    json_t *j;

    apr_pool_create(&p, pool);
    j = zt_json_parse("{\"a\":[1,2,3]}", 13, 100, p, &err);
    ck_assert_ptr_nonnull(j);
    zt_json_pool_own(p, j);
    apr_pool_destroy(p);        /* valgrind: the document is freed here */
}
END_TEST

/* ------------------------------------------------------------------ */
/* zt_jwk                                                              */
/* ------------------------------------------------------------------ */

static zt_keyset_t *zt_t_jwks(const char *doc, const char **err)
{
    zt_keyset_t *ks = NULL;

    *err = NULL;
    if (zt_jwks_parse(&ks, doc, strlen(doc), pool, err) != APR_SUCCESS) {
        ck_assert_ptr_nonnull(*err);
        ck_assert_ptr_null(ks);
        return NULL;
    }
    return ks;
}

/* A set of @a good (a valid JWK) plus @a other; @a other is skipped? */
static void zt_t_skipped(const char *other, const char *why)
{
    const char *err;
    char *doc = apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                             zt_t_jwk(pool, k_ec256, "good", ""), other);
    zt_keyset_t *ks = zt_t_jwks(doc, &err);
    const apr_array_header_t *w;

    ck_assert_msg(ks != NULL, "set refused: %s (key %s)", err, other);
    ck_assert_int_eq(zt_jwks_count(ks), 1);
    ck_assert_str_eq(zt_jwks_key(ks, 0)->kid, "good");
    w = zt_jwks_warnings(ks);
    ck_assert_int_ge(w->nelts, 1);
    ck_assert_msg(strstr(APR_ARRAY_IDX(w, 0, const char *), why) != NULL,
                  "warning \"%s\" lacks \"%s\"", APR_ARRAY_IDX(w, 0, const char *), why);
    /* Alone, it leaves no usable key: an error. */
    doc = apr_psprintf(pool, "{\"keys\":[%s]}", other);
    ck_assert_ptr_null(zt_t_jwks(doc, &err));
    ck_assert_ptr_nonnull(strstr(err, "no usable key"));
}

static void zt_t_refused(const char *doc, const char *why)
{
    const char *err;

    ck_assert_msg(zt_t_jwks(doc, &err) == NULL, "accepted %.200s", doc);
    ck_assert_msg(strstr(err, why) != NULL, "error \"%s\" lacks \"%s\"", err, why);
}

START_TEST(jwks_good_keys)
{
    const char *err;
    char *doc = apr_psprintf(pool, "{\"keys\":[%s,%s,%s,%s,%s]}",
                             zt_t_jwk(pool, k_rsa, "rsa", ",\"use\":\"sig\""),
                             zt_t_jwk(pool, k_ec256, "ec256", ",\"alg\":\"ES256\""),
                             zt_t_jwk(pool, k_ec384, "ec384", ",\"key_ops\":[\"verify\"]"),
                             zt_t_jwk(pool, k_ec521, "ec521", ""),
                             zt_t_jwk(pool, k_ed, NULL, ",\"alg\":\"EdDSA\""));
    zt_keyset_t *ks = zt_t_jwks(doc, &err);
    const zt_jwk_t *k;

    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(zt_jwks_count(ks), 5);
    ck_assert_int_eq(zt_jwks_warnings(ks)->nelts, 0);
    k = zt_jwks_key(ks, 0);
    ck_assert_str_eq(k->kid, "rsa");
    ck_assert_str_eq(k->kty, "RSA");
    ck_assert_str_eq(k->use, "sig");
    ck_assert_ptr_null(k->alg);
    ck_assert_ptr_null(k->crv);
    ck_assert_int_eq(k->bits, 2048);
    ck_assert_uint_eq(k->algs, ZT_ALG_RS256 | ZT_ALG_RS384 | ZT_ALG_RS512 |
                      ZT_ALG_PS256 | ZT_ALG_PS384 | ZT_ALG_PS512);
    k = zt_jwks_key(ks, 1);
    ck_assert_str_eq(k->crv, "P-256");
    ck_assert_str_eq(k->alg, "ES256");
    ck_assert_uint_eq(k->algs, ZT_ALG_ES256);
    k = zt_jwks_key(ks, 2);
    ck_assert_uint_eq(k->algs, ZT_ALG_ES384);
    ck_assert_int_eq(k->key_ops->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(k->key_ops, 0, const char *), "verify");
    k = zt_jwks_key(ks, 3);
    ck_assert_int_eq(k->bits, 521);
    ck_assert_uint_eq(k->algs, ZT_ALG_ES512);
    k = zt_jwks_key(ks, 4);
    ck_assert_ptr_null(k->kid);
    ck_assert_str_eq(k->kty, "OKP");
    ck_assert_uint_eq(k->algs, ZT_ALG_EDDSA);
    ck_assert_int_eq(k->index, 4);
    ck_assert_ptr_null(zt_jwks_key(ks, 5));
    ck_assert_ptr_null(zt_jwks_key(ks, -1));
    ck_assert_int_eq(zt_jwks_count(NULL), 0);
}
END_TEST

START_TEST(jwks_alg_narrows)
{
    const char *err;
    char *doc = apr_psprintf(pool, "{\"keys\":[%s]}",
                             zt_t_jwk(pool, k_rsa, "r", ",\"alg\":\"PS384\""));
    zt_keyset_t *ks = zt_t_jwks(doc, &err);

    ck_assert_ptr_nonnull(ks);
    ck_assert_uint_eq(zt_jwks_key(ks, 0)->algs, ZT_ALG_PS384);
}
END_TEST

START_TEST(jwks_skips_unusable_keys)
{
    zt_t_skipped(zt_t_jwk(pool, k_rsa1024, "small", ""), "1024 bits");
    zt_t_skipped("{\"kty\":\"foo\",\"kid\":\"x\"}", "not supported");
    zt_t_skipped("{\"kid\":\"x\",\"n\":\"AQAB\"}", "\"kty\" is missing");
    zt_t_skipped("{\"kty\":7}", "\"kty\" is missing or not a string");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"use\":\"enc\""), "\"use\" is \"enc\"");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"use\":1"), "\"use\" is not a string");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"key_ops\":[\"sign\"]"), "verify");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"key_ops\":\"verify\""), "not an array");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"key_ops\":[\"verify\",1]"), "non-string");
    zt_t_skipped(zt_t_jwk(pool, k_ec256, "e", ",\"alg\":\"ES384\""), "\"alg\" is \"ES384\"");
    zt_t_skipped(zt_t_jwk(pool, k_rsa, "r", ",\"alg\":\"HS256\""), "\"alg\" is \"HS256\"");
    zt_t_skipped(zt_t_jwk(pool, k_rsa, "r", ",\"alg\":\"RSA-OAEP\""), "RSA-OAEP");
    zt_t_skipped(zt_t_jwk(pool, k_rsa, "r", ",\"alg\":\"none\""), "\"none\"");
    zt_t_skipped(zt_t_jwk(pool, k_rsa, "r", ",\"alg\":\"rs256\""), "rs256");
    zt_t_skipped(zt_t_jwk(pool, k_rsa, "r", ",\"alg\":256"), "\"alg\" is not a string");
    zt_t_skipped(zt_t_jwk(pool, k_ed, "x", ",\"alg\":\"ES256\""), "ES256");
    /* kid of the wrong type */
    zt_t_skipped(zt_t_jwk(pool, k_ec256, NULL, ",\"kid\":5"), "\"kid\" is not a string");
}
END_TEST

START_TEST(jwks_skips_bad_rsa)
{
    const char *n = zt_t_b64bn(pool, k_rsa, OSSL_PKEY_PARAM_RSA_N, 0);

    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), "\"n\" is missing");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\"}", n), "\"e\" is missing");
    zt_t_skipped("{\"kty\":\"RSA\",\"n\":12,\"e\":\"AQAB\"}", "\"n\" is not a string");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":65537}", n),
                 "\"e\" is not a string");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s==\",\"e\":\"AQAB\"}", n),
                 "not base64url");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQA=\"}", n),
                 "not base64url");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}", n), "odd");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}", n), "odd");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"\"}", n), "odd");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQEBAQEBAQEB\"}", n),
                 "64 bits");
    zt_t_skipped("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}", "RSA modulus of 0 bits");
}
END_TEST

START_TEST(jwks_rsa_leading_zero_and_e3)
{
    /* A leading zero octet on n (RFC 7518 says none; tolerated), e = 3. */
    const char *err;
    BIGNUM *bn = NULL;
    unsigned char buf[260];
    char *doc;
    zt_keyset_t *ks;

    ck_assert(EVP_PKEY_get_bn_param(k_rsa, OSSL_PKEY_PARAM_RSA_N, &bn) == 1);
    buf[0] = 0;
    ck_assert_int_eq(BN_bn2bin(bn, buf + 1), 256);
    BN_free(bn);
    doc = apr_psprintf(pool, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"Aw\"}]}",
                       zt_b64url_encode_pool(pool, buf, 257));
    ks = zt_t_jwks(doc, &err);
    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(zt_jwks_key(ks, 0)->bits, 2048);
}
END_TEST

START_TEST(jwks_skips_bad_ec_and_okp)
{
    unsigned char c[66];
    char *x32, *x31, *x33, *crd;
    char *good = zt_t_jwk(pool, k_ec256, "e", "");
    json_t *j = json_loads(good, 0, NULL);
    const char *gx = json_string_value(json_object_get(j, "x"));
    const char *gy = json_string_value(json_object_get(j, "y"));
    unsigned char yb[32];
    size_t n;

    memset(c, 0, sizeof(c));
    x32 = zt_b64url_encode_pool(pool, c, 32);
    x33 = zt_b64url_encode_pool(pool, c, 33);
    c[0] = 1;
    x31 = zt_b64url_encode_pool(pool, c, 31);
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", gx, gy),
                 "\"crv\" is missing");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"%s\",\"y\":\"%s\"}",
                              gx, gy), "\"P-192\" is not supported");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}",
                              gx, gy), "not supported");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"%s\"}", gy),
                 "\"x\" is missing");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", gx),
                 "\"y\" is missing");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":[]}", gx),
                 "\"y\" is not a string");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                              x33, gy), "must be 32 bytes");
    /* The point at (0, 0), a short coordinate off the curve, a flipped y. */
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                              x32, x32), "not a");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                              x31, gy), "not a");
    ck_assert_int_eq(zt_b64url_decode(yb, sizeof(yb), &n, gy, strlen(gy)), 0);
    yb[31] ^= 1;
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                              gx, zt_b64url_encode_pool(pool, yb, 32)), "not a");
    /* P-256 coordinates presented as P-384 (padded, then off the curve). */
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
                              gx, gy), "not a");
    /* OKP */
    crd = zt_b64url_encode_pool(pool, c, 32);
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"%s\"}", crd),
                 "only Ed25519");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"%s\"}", crd),
                 "only Ed25519");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x31),
                 "32 bytes");
    zt_t_skipped("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "\"x\" is missing");
    zt_t_skipped(apr_psprintf(pool, "{\"kty\":\"OKP\",\"x\":\"%s\"}", crd), "\"crv\"");
    json_decref(j);
}
END_TEST

START_TEST(jwks_ec_short_coordinate_padded)
{
    /* A P-521 key whose x has a zero top octet, written without it. */
    const char *err;
    EVP_PKEY *k = NULL;
    BIGNUM *x = NULL;
    zt_keyset_t *ks;
    unsigned char b[66];
    char *doc;
    int tries = 0;

    do {
        EVP_PKEY_free(k);
        BN_free(x);
        x = NULL;
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1);
    } while (BN_num_bytes(x) == 66 && ++tries < 200);
    ck_assert_int_lt(BN_num_bytes(x), 66);
    BN_bn2bin(x, b);
    doc = apr_psprintf(pool, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\","
                       "\"x\":\"%s\",\"y\":\"%s\"}]}",
                       zt_b64url_encode_pool(pool, b, (size_t)BN_num_bytes(x)),
                       zt_t_b64bn(pool, k, OSSL_PKEY_PARAM_EC_PUB_Y, 66));
    ks = zt_t_jwks(doc, &err);
    ck_assert_msg(ks != NULL, "%s", err);
    ck_assert_int_eq(zt_jwks_warnings(ks)->nelts, 1);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(zt_jwks_warnings(ks), 0, const char *),
                                 "shorter"));
    {
        const char *in = "signed";
        size_t n;
        unsigned char *sig = zt_t_sign_raw(pool, ZT_ALG_ES512, k, in, 6, &n, SALT_JWS, 0);

        ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_ES512, zt_jwks_key(ks, 0),
                                           (const unsigned char *)in, 6, sig, n),
                         ZT_JWS_OK);
    }
    BN_free(x);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(jwks_refuses_sets)
{
    char *big;
    apr_size_t n = ZT_JWKS_MAX_LEN + 16;
    char *many;
    const char *one = zt_t_jwk(pool, k_ed, NULL, "");

    zt_t_refused("{\"keys\":[]}", "no keys");
    zt_t_refused("{}", "\"keys\" is missing");
    zt_t_refused("{\"keys\":{}}", "not an array");
    zt_t_refused("{\"keys\":\"x\"}", "not an array");
    zt_t_refused("[]", "not a JSON object");
    zt_t_refused("", "empty");
    zt_t_refused("{\"keys\":[1]}", "not a JSON object");
    zt_t_refused(apr_psprintf(pool, "{\"keys\":[%s,null]}", one), "key 1 not a JSON object");
    zt_t_refused("{\"keys\":[],\"keys\":[]}", "duplicate");
    zt_t_refused("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\\u0000\"}]}", "invalid JSON");
    /* Private material, in any key: the whole set is refused. */
    zt_t_refused(apr_psprintf(pool, "{\"keys\":[%s]}",
                              zt_t_jwk(pool, k_ec256, "e", ",\"d\":\"AAAA\"")),
                 "private key material (\"d\")");
    zt_t_refused(apr_psprintf(pool, "{\"keys\":[%s,%s]}", one,
                              zt_t_jwk(pool, k_rsa, "r", ",\"p\":\"AAAA\",\"q\":\"AAAA\"")),
                 "key 1 (kid \"r\") holds private key material (\"p\")");
    zt_t_refused(apr_psprintf(pool, "{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", one),
                 "(\"k\")");
    /* Too large, too many. */
    big = apr_palloc(pool, n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"keys\":[", 9);
    memcpy(big + n - 2, "]}", 2);
    big[n] = '\0';
    zt_t_refused(big, "too large");
    many = apr_pstrdup(pool, "{\"keys\":[");
    for (int i = 0; i <= ZT_JWKS_MAX_KEYS; i++) {
        many = apr_pstrcat(pool, many, i ? "," : "", "{}", NULL);
    }
    many = apr_pstrcat(pool, many, "]}", NULL);
    zt_t_refused(many, "limit is");
}
END_TEST

START_TEST(jwks_duplicate_kid_warns)
{
    const char *err;
    char *doc = apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                             zt_t_jwk(pool, k_ec256, "same", ""),
                             zt_t_jwk(pool, k_rsa, "same", ""));
    zt_keyset_t *ks = zt_t_jwks(doc, &err);

    ck_assert_ptr_nonnull(ks);
    ck_assert_int_eq(zt_jwks_count(ks), 2);
    ck_assert_int_eq(zt_jwks_warnings(ks)->nelts, 1);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(zt_jwks_warnings(ks), 0, const char *),
                                 "same kid"));
}
END_TEST

START_TEST(jwks_kid_sanitised_in_messages)
{
    const char *err;
    zt_keyset_t *ks = zt_t_jwks(apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                                             zt_t_jwk(pool, k_ed, "ok", ""),
                                             "{\"kty\":\"zz\",\"kid\":\"a\\nb\\\"c\"}"),
                                &err);
    const char *w;

    ck_assert_ptr_nonnull(ks);
    w = APR_ARRAY_IDX(zt_jwks_warnings(ks), 0, const char *);
    ck_assert_ptr_null(strchr(w, '\n'));
    ck_assert_ptr_nonnull(strstr(w, "kid \"a?b?c\""));
}
END_TEST

static char *zt_t_tmpfile(const char *content, size_t len)
{
    char *path = apr_pstrdup(pool, "/tmp/zt_jwks_XXXXXX");
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

START_TEST(jwks_load_file)
{
    const char *err;
    zt_keyset_t *ks;
    char *doc = apr_psprintf(pool, "{\"keys\":[%s]}", zt_t_jwk(pool, k_ed, "f", ""));
    char *path = zt_t_tmpfile(doc, strlen(doc)), *big;
    apr_size_t n = ZT_JWKS_MAX_LEN + 1;

    ck_assert_int_eq(zt_jwks_load_file(&ks, path, pool, &err), APR_SUCCESS);
    ck_assert_int_eq(zt_jwks_count(ks), 1);
    unlink(path);
    ck_assert_int_ne(zt_jwks_load_file(&ks, path, pool, &err), APR_SUCCESS);
    ck_assert_ptr_null(ks);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    /* Exactly the limit is read; one byte more is refused unparsed. */
    big = apr_palloc(pool, n);
    memset(big, ' ', n);
    memcpy(big, doc, strlen(doc));
    path = zt_t_tmpfile(big, n - 1);
    ck_assert_int_eq(zt_jwks_load_file(&ks, path, pool, &err), APR_SUCCESS);
    unlink(path);
    path = zt_t_tmpfile(big, n);
    ck_assert_int_ne(zt_jwks_load_file(&ks, path, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "larger than"));
    unlink(path);
    path = zt_t_tmpfile("{\"keys\":[]}", 11);
    ck_assert_int_ne(zt_jwks_load_file(&ks, path, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, path));
    unlink(path);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zt_jws: the signature primitive                                     */
/* ------------------------------------------------------------------ */

static const zt_jwk_t *zt_t_key(const char *kid)
{
    for (int i = 0; i < zt_jwks_count(g_ks); i++) {
        const zt_jwk_t *k = zt_jwks_key(g_ks, i);

        if (k->kid != NULL && strcmp(k->kid, kid) == 0) {
            return k;
        }
    }
    ck_abort_msg("no key %s", kid);
    return NULL;
}

START_TEST(jws_sig_every_alg)
{
    static const uint32_t algs[] = {
        ZT_ALG_RS256, ZT_ALG_RS384, ZT_ALG_RS512, ZT_ALG_PS256, ZT_ALG_PS384,
        ZT_ALG_PS512, ZT_ALG_ES256, ZT_ALG_ES384, ZT_ALG_ES512, ZT_ALG_EDDSA,
    };
    const unsigned char msg[] = "eyJhbGciOi.eyJzdWIi";

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        const char *kid;
        EVP_PKEY *k = zt_t_key_for(algs[i], &kid);
        const zt_jwk_t *jk = zt_t_key(kid);
        size_t n;
        unsigned char *sig = zt_t_sign_raw(pool, algs[i], k, msg, sizeof(msg) - 1,
                                           &n, SALT_JWS, 0);

        ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 1, sig, n),
                         ZT_JWS_OK);
        /* One bit of message or signature changed. */
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 2, sig, n),
                         ZT_JWS_SIGNATURE);
        sig[n / 2] ^= 0x10;
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 1, sig, n),
                         ZT_JWS_SIGNATURE);
        sig[n / 2] ^= 0x10;
        /* Wrong length: a byte short, a zero byte added in front. */
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 1, sig, n - 1),
                         ZT_JWS_SIGNATURE);
        {
            unsigned char *longer = apr_palloc(pool, n + 1);

            longer[0] = 0;
            memcpy(longer + 1, sig, n);
            ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 1,
                                               longer, n + 1), ZT_JWS_SIGNATURE);
        }
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], jk, msg, sizeof(msg) - 1, sig, 0),
                         ZT_JWS_SIGNATURE);
    }
}
END_TEST

/*
** Threads verifying with the same keys at once: the prepared templates
** are shared and the working contexts pass from thread to thread through
** the keys' spare slots (zt_jwk_spares_t), after good and bad signatures
** alike.  Every verification must still give its own right answer.
*/
#define ZT_T_THREADS 8
#define ZT_T_ROUNDS  150

typedef struct {
    uint32_t alg;
    const zt_jwk_t *key;
    const unsigned char *sig, *bad;
    size_t siglen;
} zt_t_case_t;

static zt_t_case_t g_cases[5];
static const unsigned char g_msg[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0";

static void *APR_THREAD_FUNC zt_t_verifier(apr_thread_t *th, void *data)
{
    unsigned long *wrong = data;

    for (int r = 0; r < ZT_T_ROUNDS; r++) {
        for (size_t c = 0; c < sizeof(g_cases) / sizeof(g_cases[0]); c++) {
            const zt_t_case_t *k = &g_cases[(c + (size_t)r) % 5];
            int good = (r + (int)c) % 3 != 0;
            zt_jws_status_e st = zt_jws_verify_sig(k->alg, k->key, g_msg,
                                                   sizeof(g_msg) - 1,
                                                   good ? k->sig : k->bad,
                                                   k->siglen);

            *wrong += st != (good ? ZT_JWS_OK : ZT_JWS_SIGNATURE);
        }
    }
    (void)th;
    return NULL;
}

START_TEST(jws_threads_share_keys)
{
    static const uint32_t algs[] = {
        ZT_ALG_RS256, ZT_ALG_PS256, ZT_ALG_ES256, ZT_ALG_EDDSA, ZT_ALG_HS256,
    };
    static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
    apr_thread_t *th[ZT_T_THREADS];
    unsigned long wrong[ZT_T_THREADS] = { 0 };
    zt_keyset_t *hs;
    const char *err;

    ck_assert_int_eq(zt_keyset_from_secret(&hs, secret, sizeof(secret),
                                           ZT_ALG_HS256, pool, &err), APR_SUCCESS);
    for (size_t i = 0; i < 5; i++) {
        zt_t_case_t *k = &g_cases[i];
        unsigned char *bad;
        const char *kid;

        k->alg = algs[i];
        if (algs[i] == ZT_ALG_HS256) {
            unsigned int n = 0;

            k->key = zt_jwks_key(hs, 0);
            k->sig = apr_palloc(pool, 32);
            need(HMAC(EVP_sha256(), secret, sizeof(secret), g_msg,
                      sizeof(g_msg) - 1, (unsigned char *)k->sig, &n) != NULL);
            k->siglen = n;
        }
        else {
            EVP_PKEY *pk = zt_t_key_for(algs[i], &kid);

            k->key = zt_t_key(kid);
            k->sig = zt_t_sign_raw(pool, algs[i], pk, g_msg, sizeof(g_msg) - 1,
                                   &k->siglen, SALT_JWS, 0);
        }
        bad = apr_pmemdup(pool, k->sig, k->siglen);
        bad[k->siglen / 2] ^= 0x01;
        k->bad = bad;
        ck_assert_int_eq(zt_jws_verify_sig(k->alg, k->key, g_msg, sizeof(g_msg) - 1,
                                           k->sig, k->siglen), ZT_JWS_OK);
    }
    for (int t = 0; t < ZT_T_THREADS; t++) {
        ck_assert_int_eq(apr_thread_create(&th[t], NULL, zt_t_verifier, &wrong[t],
                                           pool), APR_SUCCESS);
    }
    for (int t = 0; t < ZT_T_THREADS; t++) {
        apr_status_t rv;

        apr_thread_join(&rv, th[t]);
        ck_assert_msg(wrong[t] == 0, "thread %d: %lu wrong answers", t, wrong[t]);
    }
}
END_TEST

START_TEST(jws_sig_key_must_fit)
{
    const unsigned char msg[] = "x";
    size_t n;
    unsigned char *sig = zt_t_sign_raw(pool, ZT_ALG_RS256, k_rsa, msg, 1, &n, SALT_JWS, 0);

    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256, zt_t_key("ec256"), msg, 1, sig, n),
                     ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_ES384, zt_t_key("ec256"), msg, 1, sig, n),
                     ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_EDDSA, zt_t_key("rsa"), msg, 1, sig, n),
                     ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_HS256, zt_t_key("rsa"), msg, 1, sig, n),
                     ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(0, zt_t_key("rsa"), msg, 1, sig, n), ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256 | ZT_ALG_RS384, zt_t_key("rsa"),
                                       msg, 1, sig, n), ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256, NULL, msg, 1, sig, n), ZT_JWS_ALG);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256, zt_t_key("rsa"), msg, 1, sig, n),
                     ZT_JWS_OK);
}
END_TEST

/* PKCS #1 v1.5 and PSS under the same key are different primitives, and
 * PSS must use salt = hash length. */
START_TEST(jws_sig_rsa_padding_confusion)
{
    const unsigned char msg[] = "payload";
    const zt_jwk_t *k = zt_t_key("rsa");
    size_t n;
    unsigned char *rs = zt_t_sign_raw(pool, ZT_ALG_RS256, k_rsa, msg, 7, &n, SALT_JWS, 0);
    unsigned char *ps;

    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_PS256, k, msg, 7, rs, n), ZT_JWS_SIGNATURE);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS384, k, msg, 7, rs, n), ZT_JWS_SIGNATURE);
    ps = zt_t_sign_raw(pool, ZT_ALG_PS256, k_rsa, msg, 7, &n, SALT_JWS, 0);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_PS256, k, msg, 7, ps, n), ZT_JWS_OK);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256, k, msg, 7, ps, n), ZT_JWS_SIGNATURE);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_PS384, k, msg, 7, ps, n), ZT_JWS_SIGNATURE);
    ps = zt_t_sign_raw(pool, ZT_ALG_PS256, k_rsa, msg, 7, &n, RSA_PSS_SALTLEN_MAX, 0);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_PS256, k, msg, 7, ps, n), ZT_JWS_SIGNATURE);
    ps = zt_t_sign_raw(pool, ZT_ALG_PS256, k_rsa, msg, 7, &n, 0, 0);
    ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_PS256, k, msg, 7, ps, n), ZT_JWS_SIGNATURE);
}
END_TEST

static void zt_t_ecdsa_rs(uint32_t alg, const char *kid, size_t w)
{
    const unsigned char msg[] = "m";
    const zt_jwk_t *k = zt_t_key(kid);
    unsigned char *rs = apr_pcalloc(pool, 2 * w), nbuf[66];
    size_t n;
    unsigned char *der;
    BIGNUM *order;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(w == 32 ? NID_X9_62_prime256v1
                                             : w == 48 ? NID_secp384r1 : NID_secp521r1);
    unsigned char *good = zt_t_sign_raw(pool, alg, zt_t_key_for(alg, &kid), msg, 1,
                                        &n, SALT_JWS, 0);

    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, good, n), ZT_JWS_OK);
    /* r = s = 0 */
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_SIGNATURE);
    /* r = 0, s good; r good, s = 0 */
    memcpy(rs + w, good + w, w);
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_SIGNATURE);
    memcpy(rs, good, w);
    memset(rs + w, 0, w);
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_SIGNATURE);
    /* r = n, s = n; r + n and s + n cannot be written in w bytes for these
     * curves, so n itself is the first out-of-range value. */
    order = BN_dup(EC_GROUP_get0_order(g));
    ck_assert_int_eq(BN_bn2binpad(order, nbuf, (int)w), (int)w);
    memcpy(rs, nbuf, w);
    memcpy(rs + w, good + w, w);
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_SIGNATURE);
    memcpy(rs, good, w);
    memcpy(rs + w, nbuf, w);
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_SIGNATURE);
    /* s replaced by n - s: the other valid ECDSA signature, which ECDSA
     * accepts (no low-s rule in JWS); r alone must still be right. */
    {
        BIGNUM *s = BN_bin2bn(good + w, (int)w, NULL);

        BN_sub(s, order, s);
        BN_bn2binpad(s, rs + w, (int)w);
        memcpy(rs, good, w);
        ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, rs, 2 * w), ZT_JWS_OK);
        BN_free(s);
    }
    /* DER instead of r || s */
    der = zt_t_sign_raw(pool, alg, zt_t_key_for(alg, &kid), msg, 1, &n, SALT_JWS, 1);
    ck_assert_int_eq(zt_jws_verify_sig(alg, k, msg, 1, der, n), ZT_JWS_SIGNATURE);
    BN_free(order);
    EC_GROUP_free(g);
}

START_TEST(jws_sig_ecdsa_edges)
{
    zt_t_ecdsa_rs(ZT_ALG_ES256, "ec256", 32);
    zt_t_ecdsa_rs(ZT_ALG_ES384, "ec384", 48);
    zt_t_ecdsa_rs(ZT_ALG_ES512, "ec521", 66);
}
END_TEST

START_TEST(jws_select_key)
{
    zt_jws_t jws;
    const zt_jwk_t *k;
    const char *reason, *err;
    zt_keyset_t *two;
    char *t;

    /* kid picks, among the keys that fit the algorithm */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\"}", "{}");
    ck_assert_int_eq(zt_jws_parse(&jws, t, strlen(t), pool, &reason), ZT_JWS_OK);
    ck_assert_int_eq(zt_jws_select_key(&jws, g_ks, &k, &reason), ZT_JWS_OK);
    ck_assert_str_eq(k->kid, "ec256");
    /* no kid: the single ES256 key */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\"}", "{}");
    ck_assert_int_eq(zt_jws_parse(&jws, t, strlen(t), pool, &reason), ZT_JWS_OK);
    ck_assert_int_eq(zt_jws_select_key(&jws, g_ks, &k, &reason), ZT_JWS_OK);
    ck_assert_str_eq(k->kid, "ec256");
    ck_assert_int_eq(zt_jws_select_key(&jws, NULL, &k, &reason), ZT_JWS_UNKNOWN_KEY);
    /* no kid, two ES256 keys: ambiguous */
    two = zt_t_jwks(apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                                 zt_t_jwk(pool, k_ec256, "a", ""),
                                 zt_t_jwk(pool, k_attacker, "b", "")), &err);
    ck_assert_ptr_nonnull(two);
    ck_assert_int_eq(zt_jws_select_key(&jws, two, &k, &reason), ZT_JWS_UNKNOWN_KEY);
    ck_assert_ptr_nonnull(strstr(reason, "more than one"));
    /* same kid twice, both ES256: ambiguous */
    two = zt_t_jwks(apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                                 zt_t_jwk(pool, k_ec256, "a", ""),
                                 zt_t_jwk(pool, k_attacker, "a", "")), &err);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"a\"}", "{}");
    ck_assert_int_eq(zt_jws_parse(&jws, t, strlen(t), pool, &reason), ZT_JWS_OK);
    ck_assert_int_eq(zt_jws_select_key(&jws, two, &k, &reason), ZT_JWS_UNKNOWN_KEY);
    /* same kid on an RSA and an EC key: the algorithm decides */
    two = zt_t_jwks(apr_psprintf(pool, "{\"keys\":[%s,%s]}",
                                 zt_t_jwk(pool, k_rsa, "a", ""),
                                 zt_t_jwk(pool, k_ec256, "a", "")), &err);
    ck_assert_int_eq(zt_jws_select_key(&jws, two, &k, &reason), ZT_JWS_OK);
    ck_assert_str_eq(k->kty, "EC");
    ck_assert_int_eq(zt_jws_verify(&jws, k, &reason), ZT_JWS_OK);
}
END_TEST

START_TEST(jws_compact_allowlist)
{
    zt_jws_t jws;
    const zt_jwk_t *k;
    const char *reason;
    char *t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
                        "not JSON at all");

    ck_assert_int_eq(zt_jws_verify_compact(&jws, t, strlen(t), g_ks, ZT_ALG_ES256, pool,
                                           &k, &reason), ZT_JWS_OK);
    ck_assert_uint_eq(jws.payload_len, 15);
    ck_assert_str_eq((const char *)jws.payload, "not JSON at all");
    ck_assert_int_eq(zt_jws_verify_compact(&jws, t, strlen(t), g_ks, ZT_ALG_RS256, pool,
                                           &k, &reason), ZT_JWS_ALG);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zt_token: our own signer                                            */
/* ------------------------------------------------------------------ */

START_TEST(token_every_alg)
{
    static const uint32_t algs[] = {
        ZT_ALG_RS256, ZT_ALG_RS384, ZT_ALG_RS512, ZT_ALG_PS256, ZT_ALG_PS384,
        ZT_ALG_PS512, ZT_ALG_ES256, ZT_ALG_ES384, ZT_ALG_ES512, ZT_ALG_EDDSA,
    };

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char *t = zt_t_token(pool, algs[i], "");
        zt_token_t out;
        const char *reason;
        zt_tok_status_e st = zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason);

        ck_assert_msg(st == ZT_TOK_OK, "%s: %s", zt_alg_name(algs[i]), reason);
        ck_assert_ptr_eq(out.issuer, &g_issuers[0]);
        ck_assert_str_eq(out.sub, "alice");
        ck_assert_str_eq(out.alg, zt_alg_name(algs[i]));
        ck_assert_ptr_nonnull(out.kid);
        ck_assert_int_eq(out.exp, NOW + 300);
        ck_assert_ptr_nonnull(out.header);
        ck_assert_str_eq(zt_jdoc_get_str(out.claims, "iss"), ISS);
        /* The issuer allows only this algorithm: still fine; without it: no. */
        g_issuers[0].algs = algs[i];
        ck_tok(pool, t, ZT_TOK_OK);
        g_issuers[0].algs = ALGS_ASYM & ~algs[i];
        ck_tok(pool, t, ZT_TOK_ALG);
        zt_t_issuers_reset();
    }
}
END_TEST

START_TEST(token_signature_before_claims)
{
    /* Expired, wrong audience and a bad signature: the signature speaks. */
    char *t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                        "{\"iss\":\"" ISS "\",\"aud\":\"x\",\"exp\":1}");

    ck_tok(pool, t, ZT_TOK_SIGNATURE);
    /* A bad signature also beats a missing exp, sub of the wrong type ... */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"" ISS "\",\"sub\":7}");
    ck_tok(pool, t, ZT_TOK_SIGNATURE);
}
END_TEST

START_TEST(token_tampering)
{
    char *t = zt_t_token(pool, ZT_ALG_RS256, "");
    char *dot = strchr(t, '.') + 1;
    char *swapped;

    ck_tok(pool, t, ZT_TOK_OK);
    /* Replace the payload by another, validly encoded one. */
    swapped = apr_pstrcat(pool, apr_pstrndup(pool, t, (apr_size_t)(dot - t)),
                          zt_t_b64s(pool, zt_t_claims(pool, ",\"admin\":true")),
                          strrchr(t, '.'), NULL);
    ck_tok(pool, swapped, ZT_TOK_SIGNATURE);
    /* A token signed by another RSA key under our kid. */
    t = zt_t_sign(pool, ZT_ALG_RS256, k_rsa2, zt_t_hdr(pool, ZT_ALG_RS256, "rsa", ""),
                  zt_t_claims(pool, ""));
    ck_tok(pool, t, ZT_TOK_SIGNATURE);
}
END_TEST

START_TEST(token_issuers)
{
    char *t;

    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"aud\":\"" AUD "\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_MISSING_CLAIM);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":[\"" ISS "\"],\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_BAD_CLAIM);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"" ISS "/\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_UNKNOWN_ISSUER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"HTTPS://IDP.EXAMPLE.COM/realms/corp\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_UNKNOWN_ISSUER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"https://idp.example.com/realms/corp\\u0000x\",\"exp\":1}");
    ck_tok(pool, t, ZT_TOK_MALFORMED);
    /* Issuer 2: its own key, its own algorithms, its own audience. */
    t = zt_t_sign(pool, ZT_ALG_RS256, k_rsa2, zt_t_hdr(pool, ZT_ALG_RS256, "other", ""),
                  "{\"iss\":\"" ISS2 "\",\"aud\":\"other-api\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_OK);
    /* ... never with the other issuer's keys, whatever the kid says. */
    t = zt_t_sign(pool, ZT_ALG_RS256, k_rsa, zt_t_hdr(pool, ZT_ALG_RS256, "rsa", ""),
                  "{\"iss\":\"" ISS2 "\",\"aud\":\"other-api\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_UNKNOWN_KEY);
    t = zt_t_sign(pool, ZT_ALG_RS256, k_rsa2, zt_t_hdr(pool, ZT_ALG_RS256, "other", ""),
                  zt_t_claims(pool, ""));
    ck_tok(pool, t, ZT_TOK_UNKNOWN_KEY);
    /* Issuer 2 allows only RS256. */
    t = zt_t_sign(pool, ZT_ALG_PS256, k_rsa2, zt_t_hdr(pool, ZT_ALG_PS256, "other", ""),
                  "{\"iss\":\"" ISS2 "\",\"aud\":\"other-api\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_ALG);
    /* An issuer without keys. */
    g_issuers[1].keys = NULL;
    t = zt_t_sign(pool, ZT_ALG_RS256, k_rsa2, zt_t_hdr(pool, ZT_ALG_RS256, "other", ""),
                  "{\"iss\":\"" ISS2 "\",\"aud\":\"other-api\",\"exp\":1800000000}");
    ck_tok(pool, t, ZT_TOK_UNKNOWN_KEY);
    /* No issuers at all. */
    {
        zt_token_t out;
        const char *reason;

        ck_assert_int_eq(zt_token_verify(t, strlen(t), NULL, 0, NOW, 0, pool, &out,
                                         &reason), ZT_TOK_UNKNOWN_ISSUER);
    }
}
END_TEST

/* Token with iat/exp/nbf members given verbatim (no defaults). */
static char *zt_t_times(const char *times)
{
    return zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                     apr_psprintf(pool, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"%s}",
                                  times));
}

static zt_tok_status_e zt_t_at(const char *t, int64_t now)
{
    zt_token_t out;
    const char *reason;

    return zt_t_verify_at(pool, t, strlen(t), now, &out, &reason);
}

START_TEST(token_exp)
{
    char *t = zt_t_times(",\"exp\":1700000100");

    /* leeway 30: valid while now < exp + 30 */
    ck_assert_int_eq(zt_t_at(t, 1700000129), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(t, 1700000130), ZT_TOK_EXPIRED);
    ck_assert_int_eq(zt_t_at(t, 1800000000), ZT_TOK_EXPIRED);
    g_issuers[0].leeway = 0;
    ck_assert_int_eq(zt_t_at(t, 1700000099), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(t, 1700000100), ZT_TOK_EXPIRED);
    /* Fractional NumericDate, exposed as its floor. */
    t = zt_t_times(",\"exp\":1700000100.5");
    ck_assert_int_eq(zt_t_at(t, 1700000100), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(t, 1700000101), ZT_TOK_EXPIRED);
    {
        zt_token_t out;
        const char *reason;

        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), 1700000000, &out, &reason),
                         ZT_TOK_OK);
        ck_assert_int_eq(out.exp, 1700000100);
    }
    t = zt_t_times(",\"exp\":1.7000001e9");
    ck_assert_int_eq(zt_t_at(t, 1700000099), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(t, 1700000100), ZT_TOK_EXPIRED);
    /* Missing, or not a number. */
    ck_assert_int_eq(zt_t_at(zt_t_times(""), NOW), ZT_TOK_MISSING_CLAIM);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":\"1800000000\""), NOW), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":null"), NOW), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":true"), NOW), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":[1800000000]"), NOW), ZT_TOK_BAD_CLAIM);
    /* Huge values: far future is valid, the exposed exp saturates. */
    {
        zt_token_t out;
        const char *reason;

        t = zt_t_times(",\"exp\":1e300");
        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
        ck_assert_int_eq(out.exp, INT64_MAX);
        t = zt_t_times(",\"exp\":9223372036854775807");
        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
        ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":-1e300"), NOW), ZT_TOK_EXPIRED);
    }
}
END_TEST

START_TEST(token_nbf_iat)
{
    char *t = zt_t_times(",\"exp\":1800000000,\"nbf\":1700000100");

    ck_assert_int_eq(zt_t_at(t, 1700000070), ZT_TOK_OK);           /* nbf - 30 */
    ck_assert_int_eq(zt_t_at(t, 1700000069), ZT_TOK_NOT_YET_VALID);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1800000000,\"nbf\":\"0\""), NOW),
                     ZT_TOK_BAD_CLAIM);
    t = zt_t_times(",\"exp\":1800000000,\"iat\":1700000100");
    ck_assert_int_eq(zt_t_at(t, 1700000070), ZT_TOK_OK);           /* iat <= now + 30 */
    ck_assert_int_eq(zt_t_at(t, 1700000069), ZT_TOK_ISSUED_IN_FUTURE);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1800000000,\"iat\":{}"), NOW),
                     ZT_TOK_BAD_CLAIM);
    g_issuers[0].leeway = 0;
    ck_assert_int_eq(zt_t_at(t, 1700000100), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(t, 1700000099), ZT_TOK_ISSUED_IN_FUTURE);
}
END_TEST

/* valid_from is the first second at which nbf and iat hold: the token
 * cache answers from it on (zt_tcache.h), so it must be exactly that. */
START_TEST(token_valid_from)
{
    static const char *const times[] = {
        ",\"exp\":1800000000,\"nbf\":1700000100",
        ",\"exp\":1800000000,\"iat\":1700000100",
        ",\"exp\":1800000000,\"nbf\":1700000100,\"iat\":1700000050",
        ",\"exp\":1800000000,\"nbf\":1700000050,\"iat\":1700000100",
        ",\"exp\":1800000000,\"nbf\":1700000100.5",
        ",\"exp\":1800000000,\"iat\":1700000100.25,\"nbf\":1.7e9",
    };

    for (int leeway = 0; leeway <= 30; leeway += 30) {
        g_issuers[0].leeway = (uint32_t)leeway;
        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
            char *t = zt_t_times(times[i]);
            zt_token_t out;
            const char *reason;

            ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), 1700000200, &out,
                                            &reason), ZT_TOK_OK);
            ck_assert_msg(zt_t_at(t, out.valid_from) == ZT_TOK_OK
                          && zt_t_at(t, out.valid_from - 1) != ZT_TOK_OK,
                          "%s, leeway %d: valid_from %lld", times[i], leeway,
                          (long long)out.valid_from);
        }
    }
    {
        char *t = zt_t_times(",\"exp\":1800000000");
        zt_token_t out;
        const char *reason;

        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
        ck_assert_int_eq(out.valid_from, INT64_MIN);
        ck_assert_ptr_null(out.azp);
        t = zt_t_times(",\"exp\":1800000000,\"azp\":\"web-app\"");
        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
        ck_assert_str_eq(out.azp, "web-app");
    }
}
END_TEST

START_TEST(token_max_lifetime)
{
    g_issuers[0].max_lifetime = 900;
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"iat\":1700000000,\"exp\":1700000900"), NOW),
                     ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"iat\":1700000000,\"exp\":1700000901"), NOW),
                     ZT_TOK_LIFETIME);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"iat\":1700000000.5,\"exp\":1700000900.5"), NOW),
                     ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1700000900"), NOW), ZT_TOK_MISSING_CLAIM);
    g_issuers[0].max_lifetime = 0;
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1700000900"), NOW), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"iat\":1,\"exp\":1700000900"), NOW), ZT_TOK_OK);
}
END_TEST

static zt_tok_status_e zt_t_aud(const char *aud)
{
    return zt_t_at(zt_t_sign(pool, ZT_ALG_EDDSA, k_ed, "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}",
                             apr_psprintf(pool, "{\"iss\":\"" ISS "\",\"exp\":1800000000%s}",
                                          aud)), NOW);
}

START_TEST(token_audience)
{
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"" AUD "\""), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[\"x\",\"" AUD "\"]"), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[\"" AUD "\"]"), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"Orders-API\""), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"orders-api \""), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"orders\""), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[\"x\",\"y\"]"), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[]"), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"orders-api orders\""), ZT_TOK_AUDIENCE);
    ck_assert_int_eq(zt_t_aud(""), ZT_TOK_MISSING_CLAIM);
    ck_assert_int_eq(zt_t_aud(",\"aud\":7"), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_aud(",\"aud\":null"), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_aud(",\"aud\":{\"" AUD "\":1}"), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[\"" AUD "\",1]"), ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_aud(",\"aud\":[[\"" AUD "\"]]"), ZT_TOK_BAD_CLAIM);
    /* No audience configured: any string or list is fine, types still checked. */
    g_issuers[0].audience = NULL;
    ck_assert_int_eq(zt_t_aud(",\"aud\":\"x\""), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_aud(""), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_aud(",\"aud\":7"), ZT_TOK_BAD_CLAIM);
}
END_TEST

START_TEST(token_sub)
{
    zt_token_t out;
    const char *reason;
    char *t = zt_t_times(",\"exp\":1800000000,\"sub\":\"bob\"");

    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
    ck_assert_str_eq(out.sub, "bob");
    t = zt_t_times(",\"exp\":1800000000");
    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason), ZT_TOK_OK);
    ck_assert_ptr_null(out.sub);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1800000000,\"sub\":42"), NOW),
                     ZT_TOK_BAD_CLAIM);
    ck_assert_int_eq(zt_t_at(zt_t_times(",\"exp\":1800000000,\"sub\":null"), NOW),
                     ZT_TOK_BAD_CLAIM);
}
END_TEST

START_TEST(token_typ)
{
    static const char *ok[] = { "JWT", "jwt", "at+jwt", "AT+JWT", "application/jwt",
                                "application/at+jwt", "Application/JWT" };
    static const char *bad[] = { "JOSE", "JWS", "application/json", "", "jwt ", "at+jwt+x",
                                 "application/", "dpop+jwt" };
    char *c = zt_t_claims(pool, "");

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
               "ec256", apr_psprintf(pool, ",\"typ\":\"%s\"", ok[i])), c), ZT_TOK_OK);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
               "ec256", apr_psprintf(pool, ",\"typ\":\"%s\"", bad[i])), c), ZT_TOK_BAD_HEADER);
    }
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
           "ec256", ",\"typ\":1"), c), ZT_TOK_BAD_HEADER);
    /* cty, x5t and unknown members are ignored */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
           "ec256", ",\"cty\":\"x\",\"x5t\":\"AAAA\",\"x5t#S256\":\"AA\",\"foo\":[1]"), c),
           ZT_TOK_OK);
}
END_TEST

START_TEST(token_status_names)
{
    static const char *want[] = {
        "ok", "malformed", "too_large", "bad_header", "alg", "unknown_issuer",
        "unknown_key", "signature", "expired", "not_yet_valid", "issued_in_future",
        "lifetime", "audience", "missing_claim", "bad_claim",
    };

    for (int i = 0; i <= ZT_TOK_BAD_CLAIM; i++) {
        ck_assert_str_eq(zt_tok_status_name((zt_tok_status_e)i), want[i]);
    }
    ck_assert_str_eq(zt_tok_status_name((zt_tok_status_e)99), "unknown");
    ck_assert_str_eq(zt_tok_status_name((zt_tok_status_e)-1), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Attacks                                                             */
/* ------------------------------------------------------------------ */

START_TEST(attack_alg_none)
{
    static const char *nones[] = { "none", "None", "NONE", "nOnE", "NoNe" };
    const char *c = zt_t_claims(pool, "");

    for (size_t i = 0; i < sizeof(nones) / sizeof(nones[0]); i++) {
        char *h = apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"rsa\"}", nones[i]);
        char *base = apr_pstrcat(pool, zt_t_b64s(pool, h), ".", zt_t_b64s(pool, c), NULL);
        zt_token_t out;
        const char *reason;

        ck_assert_int_eq(zt_t_verify_at(pool, apr_pstrcat(pool, base, ".", NULL),
                                        strlen(base) + 1, NOW, &out, &reason), ZT_TOK_ALG);
        ck_assert_ptr_nonnull(strstr(reason, "none"));
        ck_tok(pool, apr_pstrcat(pool, base, ".AAAA", NULL), ZT_TOK_ALG);
        ck_tok(pool, base, ZT_TOK_MALFORMED);          /* two parts */
        /* Even an issuer allowing everything (the format has no "none"). */
        g_issuers[0].algs = ZT_ALG_ALL;
        ck_tok(pool, apr_pstrcat(pool, base, ".AAAA", NULL), ZT_TOK_ALG);
        zt_t_issuers_reset();
    }
    /* Unknown and wrongly spelled algorithms. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"alg\":\"rs256\",\"kid\":\"rsa\"}", c),
           ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"alg\":\"RS1\",\"kid\":\"rsa\"}", c),
           ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"alg\":\"RS256 \",\"kid\":\"rsa\"}", c),
           ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"alg\":\"\",\"kid\":\"rsa\"}", c),
           ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"alg\":[\"RS256\"],\"kid\":\"rsa\"}", c),
           ZT_TOK_BAD_HEADER);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa, "{\"kid\":\"rsa\"}", c),
           ZT_TOK_BAD_HEADER);
}
END_TEST

/* HS256 with the RSA public key as the HMAC secret (the classic
 * confusion): refused with or without HS256 in the issuer's list. */
START_TEST(attack_hs256_with_public_key)
{
    const char *c = zt_t_claims(pool, "");
    char *h = zt_t_b64s(pool, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}");
    char *input = apr_pstrcat(pool, h, ".", zt_t_b64s(pool, c), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *t;
    long pemlen;
    const char *jwk_n = zt_t_b64bn(pool, k_rsa, OSSL_PKEY_PARAM_RSA_N, 0);

    ck_assert(PEM_write_bio_PUBKEY(bio, k_rsa) == 1);
    pemlen = BIO_get_mem_data(bio, &pem);
    /* secret = the PEM text */
    HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)input, strlen(input), mac, &maclen);
    t = apr_pstrcat(pool, input, ".", zt_b64url_encode_pool(pool, mac, maclen), NULL);
    ck_tok(pool, t, ZT_TOK_ALG);
    g_issuers[0].algs = ZT_ALG_ALL;
    ck_tok(pool, t, ZT_TOK_ALG);    /* the key with kid "rsa" does not fit HS256 */
    /* secret = the JWK's "n" string, and no kid */
    h = zt_t_b64s(pool, "{\"alg\":\"HS256\"}");
    input = apr_pstrcat(pool, h, ".", zt_t_b64s(pool, c), NULL);
    HMAC(EVP_sha256(), jwk_n, (int)strlen(jwk_n), (unsigned char *)input, strlen(input),
         mac, &maclen);
    t = apr_pstrcat(pool, input, ".", zt_b64url_encode_pool(pool, mac, maclen), NULL);
    ck_tok(pool, t, ZT_TOK_ALG);    /* HS256 allowed, but no secret: no key */
    zt_t_issuers_reset();
    ck_tok(pool, t, ZT_TOK_ALG);
    /* With a real secret configured, HS256 is verified with it and only
     * with it: the public key as the secret fails, kid or not. */
    {
        zt_keyset_t *ks;
        const char *err;
        char *pem_t = apr_pstrcat(pool, zt_t_b64s(pool, "{\"alg\":\"HS256\",\"kid\":\"rsa\"}"),
                                  ".", zt_t_b64s(pool, c), NULL);

        ck_assert_int_eq(zt_keyset_from_secret(&ks, (const unsigned char *)
                                               "a 32-byte secret of the issuer..", 32,
                                               ZT_ALG_HS256, pool, &err), APR_SUCCESS);
        g_issuers[0].secret = ks;
        g_issuers[0].algs = ZT_ALG_ALL;
        ck_tok(pool, t, ZT_TOK_SIGNATURE);
        HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)pem_t, strlen(pem_t), mac,
             &maclen);
        pem_t = apr_pstrcat(pool, pem_t, ".", zt_b64url_encode_pool(pool, mac, maclen), NULL);
        ck_tok(pool, pem_t, ZT_TOK_SIGNATURE);
    }
    BIO_free(bio);
}
END_TEST

/* The attacker's own key in the header: jwk, jku, x5u, x5c are refused. */
START_TEST(attack_embedded_key)
{
    const char *c = zt_t_claims(pool, "");
    char *jwk = zt_t_jwk(pool, k_attacker, "ec256", "");
    char *t;

    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker,
                  apr_psprintf(pool, "{\"alg\":\"ES256\",\"kid\":\"ec256\",\"jwk\":%s}", jwk), c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker,
                  apr_psprintf(pool, "{\"alg\":\"ES256\",\"jwk\":%s}", jwk), c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"jku\":\"https://evil.example/jwks.json\"}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"x5u\":\"https://evil.example/cert.pem\"}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"x5c\":[\"MIIB\"]}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    /* Even when the signature is by our own key: the header is refused. */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                  apr_psprintf(pool, "{\"alg\":\"ES256\",\"kid\":\"ec256\",\"jwk\":%s}",
                               zt_t_jwk(pool, k_ec256, NULL, "")), c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    /* crit, and b64 other than true */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"crit\":[\"exp\"],\"exp\":1}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"crit\":[]}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"b64\":false}", c);
    ck_tok(pool, t, ZT_TOK_BAD_HEADER);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{\"alg\":\"ES256\",\"kid\":\"ec256\","
                  "\"b64\":true}", c);
    ck_tok(pool, t, ZT_TOK_OK);
}
END_TEST

START_TEST(attack_kid)
{
    const char *c = zt_t_claims(pool, "");

    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_attacker,
                           "{\"alg\":\"ES256\",\"kid\":\"../../etc/passwd\"}", c),
           ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"../../etc/passwd\"}", c),
           ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"ec256' OR '1'='1\"}", c),
           ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"EC256\"}", c), ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"ec256\\u0000\"}", c), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"\"}", c), ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":7}", c), ZT_TOK_BAD_HEADER);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":null}", c), ZT_TOK_BAD_HEADER);
    /* A kid that exists, for a key of another type. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"kid\":\"rsa\"}", c), ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES384, k_ec384,
                           "{\"alg\":\"ES384\",\"kid\":\"ec256\"}", c), ZT_TOK_ALG);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_RS256, k_rsa,
                           "{\"alg\":\"RS256\",\"kid\":\"ed\"}", c), ZT_TOK_ALG);
    /* No kid, one key fits: used. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_EDDSA, k_ed, "{\"alg\":\"EdDSA\"}", c), ZT_TOK_OK);
}
END_TEST

/* Replace the signature of @a t by @a sig (n bytes). */
static char *zt_t_resign(const char *t, const unsigned char *sig, size_t n)
{
    return apr_pstrcat(pool, apr_pstrndup(pool, t, (apr_size_t)(strrchr(t, '.') - t + 1)),
                       zt_b64url_encode_pool(pool, sig, n), NULL);
}

START_TEST(attack_ecdsa_signatures)
{
    char *t = zt_t_token(pool, ZT_ALG_ES256, "");
    const char *input = apr_pstrndup(pool, t, (apr_size_t)(strrchr(t, '.') - t));
    unsigned char zero[64] = { 0 };
    size_t n;
    unsigned char *der = zt_t_sign_raw(pool, ZT_ALG_ES256, k_ec256, input, strlen(input),
                                       &n, SALT_JWS, 1);

    ck_tok(pool, t, ZT_TOK_OK);
    ck_tok(pool, zt_t_resign(t, zero, 64), ZT_TOK_SIGNATURE);
    ck_tok(pool, zt_t_resign(t, der, n), ZT_TOK_SIGNATURE);
    /* ES512 signature length on an ES256 token */
    {
        unsigned char big[132] = { 0 };

        ck_tok(pool, zt_t_resign(t, big, 132), ZT_TOK_SIGNATURE);
    }
}
END_TEST

START_TEST(attack_encoding)
{
    char *t = zt_t_token(pool, ZT_ALG_RS256, "");
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char *h = apr_pstrndup(pool, t, (apr_size_t)(d1 - t));
    char *p = apr_pstrndup(pool, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    char *s = apr_pstrdup(pool, d2 + 1);
    char *std;

    ck_tok(pool, t, ZT_TOK_OK);
    /* Padding on each part (RSA 2048: the signature has 2 pad characters). */
    ck_tok(pool, apr_pstrcat(pool, h, "=.", p, ".", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, "==.", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, ".", s, "==", NULL), ZT_TOK_MALFORMED);
    /* Standard alphabet: find a token whose signature has - or _ . */
    for (int i = 0; strpbrk(s, "-_") == NULL && i < 50; i++) {
        t = zt_t_token(pool, ZT_ALG_RS256, apr_psprintf(pool, ",\"n\":%d", i));
        s = apr_pstrdup(pool, strrchr(t, '.') + 1);
    }
    ck_assert_ptr_nonnull(strpbrk(s, "-_"));
    std = apr_pstrdup(pool, t);
    for (char *q = std; *q; q++) {
        *q = *q == '-' ? '+' : *q == '_' ? '/' : *q;
    }
    ck_tok(pool, t, ZT_TOK_OK);
    ck_tok(pool, std, ZT_TOK_MALFORMED);
    /* Whitespace, inside and around. */
    ck_tok(pool, apr_pstrcat(pool, " ", t, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, t, "\n", NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, "Bearer ", t, NULL), ZT_TOK_MALFORMED);
    /* A flipped unused bit at the end of the signature: same bytes, other
     * spelling; refused as non-canonical. */
    {
        char *alt = apr_pstrdup(pool, t);
        size_t l = strlen(alt);
        static const char a[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int v = (int)(strchr(a, alt[l - 1]) - a);

        alt[l - 1] = a[v | 1];                      /* 256 bytes: 4 unused bits */
        ck_tok(pool, alt, ZT_TOK_MALFORMED);
    }
}
END_TEST

START_TEST(attack_segments)
{
    char *t = zt_t_token(pool, ZT_ALG_ES256, "");
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char *h = apr_pstrndup(pool, t, (apr_size_t)(d1 - t));
    char *p = apr_pstrndup(pool, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    char *s = apr_pstrdup(pool, d2 + 1);
    zt_token_t out;
    const char *reason;

    ck_tok(pool, h, ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, ".", s, ".", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, ".", s, ".", NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, ".", s, ".", p, ".", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, ".", p, ".", NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, ".", p, ".", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, apr_pstrcat(pool, h, "..", s, NULL), ZT_TOK_MALFORMED);
    ck_tok(pool, "..", ZT_TOK_MALFORMED);
    ck_tok(pool, ".", ZT_TOK_MALFORMED);
    ck_tok(pool, "", ZT_TOK_MALFORMED);
    ck_assert_int_eq(zt_token_verify(NULL, 0, g_issuers, 2, NOW, 0, pool, &out, &reason),
                     ZT_TOK_MALFORMED);
    /* NUL bytes anywhere inside the counted length. */
    for (size_t i = 0; i < strlen(t); i += 37) {
        char *z = apr_pstrdup(pool, t);

        z[i] = '\0';
        ck_assert_int_eq(zt_t_verify_at(pool, z, strlen(t), NOW, &out, &reason),
                         ZT_TOK_MALFORMED);
    }
    {
        char *z = apr_pstrcat(pool, t, "x", NULL);

        z[strlen(t)] = '\0';
        ck_assert_int_eq(zt_t_verify_at(pool, z, strlen(t) + 1, NOW, &out, &reason),
                         ZT_TOK_MALFORMED);
    }
}
END_TEST

START_TEST(attack_size)
{
    zt_token_t out;
    const char *reason;
    char *t, *pad;
    size_t base, want = ZT_TOKEN_MAX_LEN;

    /* Grow a claim (and a header member, since base64url lengths skip
     * 4k + 1) until the token is exactly the limit: accepted.  One
     * character more is refused before any parsing. */
    base = strlen(zt_t_token(pool, ZT_ALG_ES256, ",\"pad\":\"\""));
    t = NULL;
    for (int hx = 0; hx < 4 && (t == NULL || strlen(t) != want); hx++) {
        char *h = zt_t_hdr(pool, ZT_ALG_ES256, "ec256",
                           apr_psprintf(pool, ",\"x\":\"%.*s\"", hx, "xxx"));

        for (size_t extra = (want - base) * 3 / 4 - 8; ; extra++) {
            pad = apr_palloc(pool, extra + 1);
            memset(pad, 'x', extra);
            pad[extra] = '\0';
            t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                          zt_t_claims(pool, apr_psprintf(pool, ",\"pad\":\"%s\"", pad)));
            if (strlen(t) >= want) {
                break;
            }
        }
    }
    ck_assert_uint_eq(strlen(t), want);
    ck_tok(pool, t, ZT_TOK_OK);
    t = apr_pstrcat(pool, t, "A", NULL);
    ck_tok(pool, t, ZT_TOK_TOO_LARGE);
    /* 9 KiB */
    pad = apr_palloc(pool, 9 * 1024);
    memset(pad, 'x', 9 * 1024 - 1);
    pad[9 * 1024 - 1] = '\0';
    t = zt_t_token(pool, ZT_ALG_ES256, apr_psprintf(pool, ",\"pad\":\"%s\"", pad));
    ck_tok(pool, t, ZT_TOK_TOO_LARGE);
    /* A caller's own limit. */
    ck_assert_int_eq(zt_token_verify(t, strlen(t), g_issuers, 2, NOW, 64 * 1024, pool,
                                     &out, &reason), ZT_TOK_OK);
    t = zt_t_token(pool, ZT_ALG_ES256, "");
    ck_assert_int_eq(zt_token_verify(t, strlen(t), g_issuers, 2, NOW, 100, pool, &out,
                                     &reason), ZT_TOK_TOO_LARGE);
}
END_TEST

START_TEST(attack_json)
{
    char *h = zt_t_hdr(pool, ZT_ALG_ES256, "ec256", "");

    /* Duplicate claims: a verifier that takes the first and a backend that
     * takes the last would disagree. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1,"
                           "\"exp\":1800000000}"), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                           zt_t_claims(pool, ",\"sub\":\"mallory\"")), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256,
                           "{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"ec256\"}",
                           zt_t_claims(pool, "")), ZT_TOK_MALFORMED);
    /* Payload not an object, not JSON, not UTF-8, trailing data. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h, "[1]"), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h, "\"s\""), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h, "garbage"), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h, ""), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                           apr_pstrcat(pool, zt_t_claims(pool, ""), "{}", NULL)),
           ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                           zt_t_claims(pool, ",\"n\":\"\xc0\xaf\"")), ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, h,
                           apr_pstrcat(pool, "{\"deep\":", zt_t_nest(pool, 70, 0), ",",
                                       zt_t_claims(pool, "") + 1, NULL)), ZT_TOK_MALFORMED);
    /* Header not an object. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "[\"ES256\"]", zt_t_claims(pool, "")),
           ZT_TOK_MALFORMED);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, "{alg:ES256}", zt_t_claims(pool, "")),
           ZT_TOK_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------------ */
/* PyJWT, an independent implementation                                */
/* ------------------------------------------------------------------ */

static const char zt_t_pyscript[] =
"import sys, json, os, jwt\n"
"from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519\n"
"from cryptography.hazmat.primitives import serialization as ser\n"
"d, now, iss, aud = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]\n"
"def b64(b):\n"
"    import base64\n"
"    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()\n"
"def ib(i, n):\n"
"    return b64(i.to_bytes(n, 'big'))\n"
"keys = {'py-rsa': rsa.generate_private_key(65537, 2048),\n"
"        'py-ec256': ec.generate_private_key(ec.SECP256R1()),\n"
"        'py-ec384': ec.generate_private_key(ec.SECP384R1()),\n"
"        'py-ec521': ec.generate_private_key(ec.SECP521R1()),\n"
"        'py-ed': ed25519.Ed25519PrivateKey.generate()}\n"
"def jwk(kid, k):\n"
"    p = k.public_key()\n"
"    if kid == 'py-rsa':\n"
"        n = p.public_numbers()\n"
"        return {'kty': 'RSA', 'kid': kid, 'n': ib(n.n, 256), 'e': ib(n.e, 3)}\n"
"    if kid == 'py-ed':\n"
"        return {'kty': 'OKP', 'crv': 'Ed25519', 'kid': kid,\n"
"                'x': b64(p.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw))}\n"
"    w = {'py-ec256': 32, 'py-ec384': 48, 'py-ec521': 66}[kid]\n"
"    c = {'py-ec256': 'P-256', 'py-ec384': 'P-384', 'py-ec521': 'P-521'}[kid]\n"
"    n = p.public_numbers()\n"
"    return {'kty': 'EC', 'crv': c, 'kid': kid, 'x': ib(n.x, w), 'y': ib(n.y, w)}\n"
"with open(os.path.join(d, 'jwks.json'), 'w') as f:\n"
"    json.dump({'keys': [jwk(k, v) for k, v in keys.items()]}, f)\n"
"claims = {'iss': iss, 'aud': [aud, 'other'], 'sub': 'py-user', 'iat': now,\n"
"          'nbf': now - 5, 'exp': now + 600, 'scope': 'orders:read'}\n"
"with open(os.path.join(d, 'tokens.txt'), 'w') as f:\n"
"    for alg, kid in [('RS256', 'py-rsa'), ('RS384', 'py-rsa'), ('RS512', 'py-rsa'),\n"
"                     ('PS256', 'py-rsa'), ('PS384', 'py-rsa'), ('PS512', 'py-rsa'),\n"
"                     ('ES256', 'py-ec256'), ('ES384', 'py-ec384'),\n"
"                     ('ES512', 'py-ec521'), ('EdDSA', 'py-ed')]:\n"
"        t = jwt.encode(claims, keys[kid], algorithm=alg, headers={'kid': kid})\n"
"        f.write('%s ok %s\\n' % (alg, t))\n"
"        t = jwt.encode(dict(claims, exp=now - 100), keys[kid], algorithm=alg,\n"
"                       headers={'kid': kid})\n"
"        f.write('%s expired %s\\n' % (alg, t))\n"
"        t = jwt.encode(dict(claims, aud='someone-else'), keys[kid], algorithm=alg,\n"
"                       headers={'kid': kid})\n"
"        f.write('%s audience %s\\n' % (alg, t))\n"
"    t = jwt.encode(claims, 'secret', algorithm='HS256', headers={'kid': 'py-rsa'})\n"
"    f.write('HS256 alg %s\\n' % t)\n"
"    secret = os.urandom(64)\n"
"    with open(os.path.join(d, 'secret.bin'), 'wb') as s:\n"
"        s.write(secret)\n"
"    for alg in ('HS256', 'HS384', 'HS512'):\n"
"        t = jwt.encode(claims, secret, algorithm=alg)\n"
"        f.write('%s hs-ok %s\\n' % (alg, t))\n"
"    t = jwt.encode(claims, None, algorithm='none')\n"
"    f.write('none alg %s\\n' % t)\n"
"# Our own signer, checked by PyJWT: ctokens.txt holds 'ALG TOKEN' lines.\n"
"cj = os.path.join(d, 'cjwks.json')\n"
"if os.path.exists(cj):\n"
"    ks = {k['kid']: jwt.PyJWK(k) for k in json.load(open(cj))['keys']}\n"
"    for line in open(os.path.join(d, 'ctokens.txt')):\n"
"        alg, tok = line.split()\n"
"        kid = jwt.get_unverified_header(tok)['kid']\n"
"        try:\n"
"            jwt.decode(tok, ks[kid].key, algorithms=[alg], audience=aud,\n"
"                       issuer=iss, options={'verify_exp': False, 'verify_iat': False})\n"
"            print('verified', alg)\n"
"        except Exception as e:\n"
"            print('FAILED', alg, repr(e))\n";

/* Run the script in @a dir; return its stdout. */
static char *zt_t_python(const char *dir)
{
    char *script = apr_pstrcat(pool, dir, "/gen.py", NULL);
    char *cmd, buf[512], *out = "";
    FILE *f = fopen(script, "w"), *pp;
    int rc;

    ck_assert_ptr_nonnull(f);
    fputs(zt_t_pyscript, f);
    fclose(f);
    ck_assert_msg(access("/usr/bin/python3", X_OK) == 0, "/usr/bin/python3 is missing");
    cmd = apr_psprintf(pool, "/usr/bin/python3 %s %s %" APR_INT64_T_FMT " '%s' '%s' 2>&1",
                       script, dir, NOW, ISS, AUD);
    pp = popen(cmd, "r");
    ck_assert_ptr_nonnull(pp);
    while (fgets(buf, sizeof(buf), pp) != NULL) {
        out = apr_pstrcat(pool, out, buf, NULL);
    }
    rc = pclose(pp);
    ck_assert_msg(rc == 0, "python (PyJWT) failed: %s", out);
    return out;
}

static char *zt_t_slurp(const char *path)
{
    char *buf;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    ck_assert_int_eq(apr_file_open(&f, path, APR_FOPEN_READ, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    n = (apr_size_t)fi.size;
    buf = apr_palloc(pool, n + 1);
    ck_assert_int_eq(apr_file_read_full(f, buf, n, &n), APR_SUCCESS);
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

START_TEST(pyjwt_tokens_verify)
{
    char dir[] = "/tmp/zt_pyjwt_XXXXXX";
    const char *err;
    char *doc, *tokens, *line, *last;
    zt_keyset_t *ks;
    zt_issuer_t is = { .name = "py", .iss = ISS, .audience = AUD,
                       .algs = ALGS_ASYM, .max_lifetime = 900 };
    int n = 0, ok = 0;
    FILE *f;
    static const uint32_t algs[] = {
        ZT_ALG_RS256, ZT_ALG_RS384, ZT_ALG_RS512, ZT_ALG_PS256, ZT_ALG_PS384,
        ZT_ALG_PS512, ZT_ALG_ES256, ZT_ALG_ES384, ZT_ALG_ES512, ZT_ALG_EDDSA,
    };
    char *cjwks = "{\"keys\":[";

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* Tokens from our own signer, for PyJWT to check. */
    f = fopen(apr_pstrcat(pool, dir, "/ctokens.txt", NULL), "w");
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        fprintf(f, "%s %s\n", zt_alg_name(algs[i]), zt_t_token(pool, algs[i], ""));
    }
    fclose(f);
    cjwks = apr_pstrcat(pool, cjwks, zt_t_jwk(pool, k_rsa, "rsa", ""), ",",
                        zt_t_jwk(pool, k_ec256, "ec256", ""), ",",
                        zt_t_jwk(pool, k_ec384, "ec384", ""), ",",
                        zt_t_jwk(pool, k_ec521, "ec521", ""), ",",
                        zt_t_jwk(pool, k_ed, "ed", ""), "]}", NULL);
    f = fopen(apr_pstrcat(pool, dir, "/cjwks.json", NULL), "w");
    fputs(cjwks, f);
    fclose(f);

    {
        char *out = zt_t_python(dir);

        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
            ck_assert_msg(strstr(out, apr_psprintf(pool, "verified %s\n",
                                                   zt_alg_name(algs[i]))) != NULL,
                          "PyJWT did not verify our %s token: %s",
                          zt_alg_name(algs[i]), out);
        }
        ck_assert_ptr_null(strstr(out, "FAILED"));
    }

    doc = zt_t_slurp(apr_pstrcat(pool, dir, "/jwks.json", NULL));
    ck_assert_int_eq(zt_jwks_parse(&ks, doc, strlen(doc), pool, &err), APR_SUCCESS);
    ck_assert_int_eq(zt_jwks_count(ks), 5);
    ck_assert_int_eq(zt_jwks_warnings(ks)->nelts, 0);
    is.keys = ks;
    tokens = zt_t_slurp(apr_pstrcat(pool, dir, "/tokens.txt", NULL));
    for (line = apr_strtok(tokens, "\n", &last); line != NULL;
         line = apr_strtok(NULL, "\n", &last)) {
        char *alg = line, *want = strchr(alg, ' ') + 1, *tok = strchr(want, ' ') + 1;
        zt_token_t out;
        const char *reason;
        zt_tok_status_e st;

        want[-1] = tok[-1] = '\0';
        st = zt_token_verify(tok, strlen(tok), &is, 1, NOW, 0, pool, &out, &reason);
        n++;
        if (strcmp(want, "hs-ok") == 0) {
            /* PyJWT's HMAC with the secret it wrote: verified once the
             * issuer has that secret and allows HS*, refused before. */
            zt_issuer_t hs = is;
            zt_keyset_t *secret;

            ck_assert_msg(st == ZT_TOK_ALG, "PyJWT %s without secret: %s", alg, reason);
            ck_assert_int_eq(zt_keyset_from_secret_file(&secret, apr_pstrcat(
                                 pool, dir, "/secret.bin", NULL), ZT_ALG_ALL, pool,
                                 &err), APR_SUCCESS);
            hs.secret = secret;
            hs.algs = ZT_ALG_ALL;
            st = zt_token_verify(tok, strlen(tok), &hs, 1, NOW, 0, pool, &out, &reason);
            ck_assert_msg(st == ZT_TOK_OK, "PyJWT %s: %s", alg, reason);
            ck_assert_str_eq(out.alg, alg);
            ck_assert_str_eq(out.sub, "py-user");
            ok++;
        }
        else if (strcmp(want, "ok") == 0) {
            ck_assert_msg(st == ZT_TOK_OK, "PyJWT %s: %s", alg, reason);
            ck_assert_str_eq(out.sub, "py-user");
            ck_assert_str_eq(out.alg, alg);
            ck_assert_int_eq(out.exp, NOW + 600);
            ok++;
        }
        else {
            ck_assert_msg(strcmp(zt_tok_status_name(st), want) == 0,
                          "PyJWT %s (%s): got %s (%s)", alg, want,
                          zt_tok_status_name(st), reason);
        }
    }
    ck_assert_int_eq(ok, 13);
    ck_assert_int_eq(n, 35);
    {
        const char *files[] = { "jwks.json", "tokens.txt", "ctokens.txt", "cjwks.json",
                                "gen.py", "secret.bin" };

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            unlink(apr_pstrcat(pool, dir, "/", files[i], NULL));
        }
        rmdir(dir);
    }
}
END_TEST


/* ------------------------------------------------------------------ */
/* HMAC secrets, typ, required claims, the time checks                 */
/* ------------------------------------------------------------------ */

#define ALGS_HS (ZT_ALG_HS256 | ZT_ALG_HS384 | ZT_ALG_HS512)

/* 64 bytes: long enough for HS512. */
static const unsigned char zt_t_secret[64] =
    "0123456789abcdef0123456789ABCDEF-the-issuer's-shared-hmac-secret";

/* A compact JWS of @a header and @a payload, HMAC'd with @a key. */
static char *zt_t_hmac_sign(apr_pool_t *p, uint32_t alg, const void *key,
                            size_t keylen, const char *header,
                            const char *payload)
{
    char *input = apr_pstrcat(p, zt_t_b64s(p, header), ".",
                              zt_t_b64s(p, payload), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    need(HMAC(zt_t_md(alg), key, (int)keylen, (unsigned char *)input,
              strlen(input), mac, &maclen) != NULL);
    return apr_pstrcat(p, input, ".", zt_b64url_encode_pool(p, mac, maclen),
                       NULL);
}

/* Issuer 0 with the 64-byte secret and every algorithm. */
static zt_keyset_t *zt_t_with_secret(void)
{
    zt_keyset_t *ks;
    const char *err;

    ck_assert_int_eq(zt_keyset_from_secret(&ks, zt_t_secret, sizeof(zt_t_secret),
                                           ALGS_HS, pool, &err), APR_SUCCESS);
    g_issuers[0].secret = ks;
    g_issuers[0].algs = ZT_ALG_ALL;
    return ks;
}

START_TEST(secret_keyset)
{
    static const struct { uint32_t algs; size_t min; } cases[] = {
        { ZT_ALG_HS256, 32 }, { ZT_ALG_HS384, 48 }, { ZT_ALG_HS512, 64 },
        { ZT_ALG_HS256 | ZT_ALG_HS512, 64 }, { ZT_ALG_HS256 | ZT_ALG_HS384, 48 },
        { ALGS_HS | ZT_ALG_RS256, 64 },
    };
    unsigned char big[ZT_SECRET_MAX_LEN + 1];
    zt_keyset_t *ks;
    const zt_jwk_t *k;
    const char *err;

    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* RFC 7518 3.2: at least the hash size, for every HS allowed. */
        err = NULL;
        ck_assert_int_ne(zt_keyset_from_secret(&ks, big, cases[i].min - 1,
                                               cases[i].algs, pool, &err),
                         APR_SUCCESS);
        ck_assert_ptr_null(ks);
        ck_assert_ptr_nonnull(strstr(err, "RFC 7518"));
        ck_assert_int_eq(zt_keyset_from_secret(&ks, big, cases[i].min,
                                               cases[i].algs, pool, &err),
                         APR_SUCCESS);
        ck_assert(zt_keyset_is_secret(ks));
        ck_assert_int_eq(zt_jwks_count(ks), 1);
        k = zt_jwks_key(ks, 0);
        ck_assert_str_eq(k->kty, "oct");
        ck_assert_ptr_null(k->kid);
        ck_assert_ptr_null(k->pkey);
        ck_assert_uint_eq(k->algs, cases[i].algs & ALGS_HS);
        ck_assert_int_eq(k->bits, (int)cases[i].min * 8);
        ck_assert_int_eq(k->hmac[0] != NULL, (cases[i].algs & ZT_ALG_HS256) != 0);
        ck_assert_int_eq(k->hmac[1] != NULL, (cases[i].algs & ZT_ALG_HS384) != 0);
        ck_assert_int_eq(k->hmac[2] != NULL, (cases[i].algs & ZT_ALG_HS512) != 0);
        ck_assert_ptr_null(zt_jwks_key(ks, 1));
    }
    /* No HS algorithm, empty, too long. */
    ck_assert_int_ne(zt_keyset_from_secret(&ks, big, 64, ALGS_ASYM, pool, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "no HMAC algorithm"));
    ck_assert_int_ne(zt_keyset_from_secret(&ks, NULL, 0, ZT_ALG_HS256, pool, &err),
                     APR_SUCCESS);
    ck_assert_int_ne(zt_keyset_from_secret(&ks, big, sizeof(big), ZT_ALG_HS256,
                                           pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "limit"));
    ck_assert_int_eq(zt_keyset_from_secret(&ks, big, sizeof(big) - 1, ZT_ALG_HS256,
                                           pool, &err), APR_SUCCESS);
    /* A JWK Set is never a secret set, and holds no secret. */
    ck_assert(!zt_keyset_is_secret(g_ks));
    ck_assert(!zt_keyset_is_secret(NULL));
    ck_assert_int_ne(zt_jwks_parse(&ks, "{\"keys\":[{\"kty\":\"oct\",\"k\":"
                                   "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
                                   72, pool, &err), APR_SUCCESS);
}
END_TEST

START_TEST(secret_file)
{
    char path[] = "/tmp/zt_secret_XXXXXX";
    int fd = mkstemp(path);
    zt_keyset_t *ks;
    const char *err;
    char *tok;
    unsigned char raw[33];

    ck_assert_int_ge(fd, 0);
    /* 32 bytes and a newline: the newline is part of the secret. */
    memcpy(raw, zt_t_secret, 32);
    raw[32] = '\n';
    ck_assert_int_eq(write(fd, raw, sizeof(raw)), (int)sizeof(raw));
    close(fd);
    ck_assert_int_eq(zt_keyset_from_secret_file(&ks, path, ZT_ALG_HS256, pool, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(zt_jwks_key(ks, 0)->bits, 33 * 8);
    g_issuers[0].secret = ks;
    g_issuers[0].algs |= ZT_ALG_HS256;
    tok = zt_t_hmac_sign(pool, ZT_ALG_HS256, raw, sizeof(raw),
                         "{\"alg\":\"HS256\"}", zt_t_claims(pool, ""));
    ck_tok(pool, tok, ZT_TOK_OK);
    tok = zt_t_hmac_sign(pool, ZT_ALG_HS256, raw, 32, "{\"alg\":\"HS256\"}",
                         zt_t_claims(pool, ""));
    ck_tok(pool, tok, ZT_TOK_SIGNATURE);
    /* Too short for HS384: refused, and the message names the file but
     * never the secret. */
    ck_assert_int_ne(zt_keyset_from_secret_file(&ks, path, ZT_ALG_HS384, pool, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_null(strstr(err, "0123456789"));
    unlink(path);
    ck_assert_int_ne(zt_keyset_from_secret_file(&ks, path, ZT_ALG_HS256, pool, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
}
END_TEST

/* RFC 7515 appendix A.1: an HS256 JWS and its key, from the RFC. */
START_TEST(jws_hmac_rfc7515)
{
    static const char k64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH"
                              "75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char jws[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    size_t klen;
    const unsigned char *key = zt_b64url_decode_pool(pool, k64, strlen(k64), &klen);
    zt_keyset_t *ks;
    const zt_jwk_t *k;
    zt_jws_t parsed;
    const char *err, *reason;
    char *bad;

    ck_assert_ptr_nonnull(key);
    ck_assert_uint_eq(klen, 64);
    ck_assert_int_eq(zt_keyset_from_secret(&ks, key, klen, ZT_ALG_HS256, pool, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(zt_jws_verify_compact(&parsed, jws, strlen(jws), ks,
                                           ZT_ALG_HS256, pool, &k, &reason),
                     ZT_JWS_OK);
    ck_assert_ptr_eq(k, zt_jwks_key(ks, 0));
    /* Not in the allowlist; one bit of the MAC changed. */
    ck_assert_int_eq(zt_jws_verify_compact(&parsed, jws, strlen(jws), ks,
                                           ZT_ALG_HS384, pool, &k, &reason),
                     ZT_JWS_ALG);
    bad = apr_pstrdup(pool, jws);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'X' ? 'Y' : 'X';
    ck_assert_int_eq(zt_jws_verify_compact(&parsed, bad, strlen(bad), ks,
                                           ZT_ALG_HS256, pool, &k, &reason),
                     ZT_JWS_SIGNATURE);
}
END_TEST

START_TEST(jws_hmac_sig)
{
    static const uint32_t algs[] = { ZT_ALG_HS256, ZT_ALG_HS384, ZT_ALG_HS512 };
    static const unsigned char data[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0";
    zt_keyset_t *ks, *ks256;
    const zt_jwk_t *k, *k256;
    const char *err;

    ck_assert_int_eq(zt_keyset_from_secret(&ks, zt_t_secret, 64, ALGS_HS, pool, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(zt_keyset_from_secret(&ks256, zt_t_secret, 32, ZT_ALG_HS256,
                                           pool, &err), APR_SUCCESS);
    k = zt_jwks_key(ks, 0);
    k256 = zt_jwks_key(ks256, 0);
    for (size_t i = 0; i < 3; i++) {
        unsigned char mac[EVP_MAX_MD_SIZE + 1];
        unsigned int n = 0;

        need(HMAC(zt_t_md(algs[i]), zt_t_secret, 64, data, sizeof(data) - 1, mac,
                  &n) != NULL);
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac, n),
                         ZT_JWS_OK);
        /* Truncated, one byte longer, one bit off, another message. */
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac,
                                           n - 1), ZT_JWS_SIGNATURE);
        mac[n] = 0;
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac,
                                           n + 1), ZT_JWS_SIGNATURE);
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 2, mac, n),
                         ZT_JWS_SIGNATURE);
        mac[n - 1] ^= 1;
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac, n),
                         ZT_JWS_SIGNATURE);
        mac[0] ^= 0x80;
        mac[n - 1] ^= 1;
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac, n),
                         ZT_JWS_SIGNATURE);
        ck_assert_int_eq(zt_jws_verify_sig(algs[i], k, data, sizeof(data) - 1, mac, 0),
                         ZT_JWS_SIGNATURE);
        /* A secret allowed HS256 only does nothing else. */
        if (algs[i] != ZT_ALG_HS256) {
            ck_assert_int_eq(zt_jws_verify_sig(algs[i], k256, data, sizeof(data) - 1,
                                               mac, n), ZT_JWS_ALG);
        }
    }
    /* A secret never verifies an asymmetric algorithm, a public key never
     * an HMAC, and no algorithm set or several are refused. */
    {
        size_t n;
        unsigned char *sig = zt_t_sign_raw(pool, ZT_ALG_RS256, k_rsa, data,
                                           sizeof(data) - 1, &n, -1, 0);

        ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_RS256, k, data, sizeof(data) - 1,
                                           sig, n), ZT_JWS_ALG);
        ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_HS256, zt_jwks_key(g_ks, 0), data,
                                           sizeof(data) - 1, sig, 32), ZT_JWS_ALG);
        ck_assert_int_eq(zt_jws_verify_sig(0, k, data, sizeof(data) - 1, sig, 32),
                         ZT_JWS_ALG);
        ck_assert_int_eq(zt_jws_verify_sig(ZT_ALG_HS256 | ZT_ALG_HS384, k, data,
                                           sizeof(data) - 1, sig, 32), ZT_JWS_ALG);
    }
}
END_TEST

START_TEST(token_hmac)
{
    static const uint32_t algs[] = { ZT_ALG_HS256, ZT_ALG_HS384, ZT_ALG_HS512 };
    const char *c = zt_t_claims(pool, "");
    zt_keyset_t *ks = zt_t_with_secret();
    static const unsigned char other[64] = "another secret, of the same length as "
                                           "the issuer's: 64 bytes....";

    for (size_t i = 0; i < 3; i++) {
        const char *name = zt_alg_name(algs[i]);
        char *t = zt_t_hmac_sign(pool, algs[i], zt_t_secret, 64,
                                 apr_psprintf(pool, "{\"alg\":\"%s\"}", name), c);
        zt_token_t out;
        const char *reason;

        ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason),
                         ZT_TOK_OK);
        ck_assert_str_eq(out.alg, name);
        ck_assert_ptr_null(out.kid);
        ck_assert_str_eq(out.sub, "alice");
        /* Whatever kid the token names, the secret is the one key. */
        ck_tok(pool, zt_t_hmac_sign(pool, algs[i], zt_t_secret, 64, apr_psprintf(
               pool, "{\"alg\":\"%s\",\"kid\":\"rsa\"}", name), c), ZT_TOK_OK);
        ck_tok(pool, zt_t_hmac_sign(pool, algs[i], zt_t_secret, 64, apr_psprintf(
               pool, "{\"alg\":\"%s\",\"kid\":\"../../etc/passwd\"}", name), c),
               ZT_TOK_OK);
        /* Another secret; the secret with another hash. */
        ck_tok(pool, zt_t_hmac_sign(pool, algs[i], other, 64, apr_psprintf(
               pool, "{\"alg\":\"%s\"}", name), c), ZT_TOK_SIGNATURE);
        ck_tok(pool, zt_t_hmac_sign(pool, algs[(i + 1) % 3], zt_t_secret, 64,
               apr_psprintf(pool, "{\"alg\":\"%s\"}", name), c), ZT_TOK_SIGNATURE);
        /* Not in the issuer's list. */
        g_issuers[0].algs = ZT_ALG_ALL & ~algs[i];
        ck_tok(pool, t, ZT_TOK_ALG);
        g_issuers[0].algs = ZT_ALG_ALL;
        /* The secret allows other HS algorithms only. */
        {
            zt_keyset_t *one;
            const char *err;

            ck_assert_int_eq(zt_keyset_from_secret(&one, zt_t_secret, 64,
                                                   ALGS_HS & ~algs[i], pool, &err),
                             APR_SUCCESS);
            g_issuers[0].secret = one;
            ck_tok(pool, t, ZT_TOK_ALG);
            g_issuers[0].secret = ks;
        }
        /* Checked like any token after the MAC: expiry, audience. */
        ck_tok(pool, zt_t_hmac_sign(pool, algs[i], zt_t_secret, 64, apr_psprintf(
               pool, "{\"alg\":\"%s\"}", name), "{\"iss\":\"" ISS "\",\"aud\":\""
               AUD "\",\"exp\":1}"), ZT_TOK_EXPIRED);
    }
    /* The asymmetric algorithms still verify with the key set... */
    ck_tok(pool, zt_t_token(pool, ZT_ALG_RS256, ""), ZT_TOK_OK);
    ck_tok(pool, zt_t_token(pool, ZT_ALG_ES256, ""), ZT_TOK_OK);
    /* ... and never with the secret: RS256 or ES256 headers over an HMAC
     * made with it. */
    ck_tok(pool, zt_t_hmac_sign(pool, ZT_ALG_HS256, zt_t_secret, 64,
                                "{\"alg\":\"RS256\",\"kid\":\"rsa\"}", c),
           ZT_TOK_SIGNATURE);
    ck_tok(pool, zt_t_hmac_sign(pool, ZT_ALG_HS512, zt_t_secret, 64,
                                "{\"alg\":\"ES256\",\"kid\":\"ec256\"}", c),
           ZT_TOK_SIGNATURE);
    /* A secret-only issuer refuses asymmetric tokens; an issuer without a
     * secret refuses HS tokens, HS256 in its list or not. */
    g_issuers[0].keys = NULL;
    ck_tok(pool, zt_t_token(pool, ZT_ALG_RS256, ""), ZT_TOK_UNKNOWN_KEY);
    ck_tok(pool, zt_t_hmac_sign(pool, ZT_ALG_HS256, zt_t_secret, 64,
                                "{\"alg\":\"HS256\"}", c), ZT_TOK_OK);
    zt_t_issuers_reset();
    g_issuers[0].algs = ZT_ALG_ALL;
    ck_tok(pool, zt_t_hmac_sign(pool, ZT_ALG_HS256, zt_t_secret, 64,
                                "{\"alg\":\"HS256\"}", c), ZT_TOK_ALG);
    /* The secret set put where a JWK Set belongs is not used either. */
    g_issuers[0].keys = ks;
    ck_tok(pool, zt_t_hmac_sign(pool, ZT_ALG_HS256, zt_t_secret, 64,
                                "{\"alg\":\"HS256\"}", c), ZT_TOK_ALG);
}
END_TEST

/* Issuer 0 wants typ @a want; the token says @a typ (NULL: no typ). */
static zt_tok_status_e zt_t_typ(const char *want, const char *typ,
                                const char **reason)
{
    zt_token_t out;
    char *t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
                        "ec256", typ ? apr_psprintf(pool, ",\"typ\":\"%s\"", typ) : ""),
                        zt_t_claims(pool, ""));

    g_issuers[0].typ = want;
    return zt_t_verify_at(pool, t, strlen(t), NOW, &out, reason);
}

START_TEST(token_typ_required_by_issuer)
{
    static const char *ok[] = { "at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt",
                                "APPLICATION/at+JWT" };
    static const char *bad[] = { "JWT", "jwt", "application/jwt", "at+jwt ", "",
                                 "at+jw", "application/", "xat+jwt",
                                 "application/application/at+jwt", "dpop+jwt" };
    const char *reason;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(zt_t_typ("at+jwt", ok[i], &reason) == ZT_TOK_OK, "%s: %s",
                      ok[i], reason);
        ck_assert_msg(zt_t_typ("application/at+jwt", ok[i], &reason) == ZT_TOK_OK,
                      "%s", ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(zt_t_typ("at+jwt", bad[i], &reason) == ZT_TOK_BAD_HEADER,
                      "typ \"%s\" passed", bad[i]);
        ck_assert_str_eq(reason, "the token's type is not at+jwt");
    }
    /* Required, so a token without typ fails; with none required it passes. */
    ck_assert_int_eq(zt_t_typ("at+jwt", NULL, &reason), ZT_TOK_BAD_HEADER);
    ck_assert_int_eq(zt_t_typ(NULL, NULL, &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_typ("", NULL, &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_typ("", "JWT", &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_typ("", "JOSE", &reason), ZT_TOK_BAD_HEADER);
    /* Another issuer's typ does not apply. */
    ck_assert_int_eq(zt_t_typ("JWT", "JWT", &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_t_typ("JWT", "at+jwt", &reason), ZT_TOK_BAD_HEADER);
    /* Not a string; a NUL inside. */
    g_issuers[0].typ = "at+jwt";
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
           "ec256", ",\"typ\":[\"at+jwt\"]"), zt_t_claims(pool, "")), ZT_TOK_BAD_HEADER);
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256,
           "ec256", ",\"typ\":\"at+jwt\\u0000x\""), zt_t_claims(pool, "")),
           ZT_TOK_MALFORMED);
    /* typ is header-only: no weaker than the signature it sits next to. */
    ck_tok(pool, zt_t_sign(pool, ZT_ALG_ES256, k_attacker, zt_t_hdr(pool, ZT_ALG_ES256,
           "ec256", ",\"typ\":\"at+jwt\""), zt_t_claims(pool, "")), ZT_TOK_SIGNATURE);
}
END_TEST

START_TEST(token_required_claims)
{
    static const char *const req[] = { "sub", "azp", "client_id" };
    static const char *present[] = { "\"x\"", "\"\"", "0", "false", "[]", "{}",
                                     "1.5", "true" };
    zt_token_t out;
    const char *reason;
    char *t;

    g_issuers[0].required = req;
    g_issuers[0].nrequired = 3;
    for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
        t = zt_t_token(pool, ZT_ALG_ES256, apr_psprintf(pool, ",\"azp\":%s,"
                       "\"client_id\":\"c\"", present[i]));
        ck_assert_msg(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason)
                      == ZT_TOK_OK, "azp %s: %s", present[i], reason);
    }
    t = zt_t_token(pool, ZT_ALG_ES256, ",\"client_id\":\"c\"");
    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason),
                     ZT_TOK_MISSING_CLAIM);
    ck_assert_str_eq(reason, "the token lacks the required claim 'azp'");
    t = zt_t_token(pool, ZT_ALG_ES256, ",\"azp\":null,\"client_id\":\"c\"");
    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason),
                     ZT_TOK_MISSING_CLAIM);
    ck_assert_str_eq(reason, "the token lacks the required claim 'azp'");
    t = zt_t_token(pool, ZT_ALG_ES256, ",\"azp\":\"a\"");
    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason),
                     ZT_TOK_MISSING_CLAIM);
    ck_assert_str_eq(reason, "the token lacks the required claim 'client_id'");
    /* Nested names are not looked into: "realm_access" is one claim. */
    t = zt_t_token(pool, ZT_ALG_ES256, ",\"azp\":\"a\",\"x\":{\"client_id\":1}");
    ck_tok(pool, t, ZT_TOK_MISSING_CLAIM);
    /* sub is one of them: a token without sub fails. */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1800000000,"
                  "\"azp\":\"a\",\"client_id\":\"c\"}");
    ck_assert_int_eq(zt_t_verify_at(pool, t, strlen(t), NOW, &out, &reason),
                     ZT_TOK_MISSING_CLAIM);
    ck_assert_str_eq(reason, "the token lacks the required claim 'sub'");
    /* The signature and the registered claims speak first. */
    t = zt_t_sign(pool, ZT_ALG_ES256, k_attacker, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  zt_t_claims(pool, ""));
    ck_tok(pool, t, ZT_TOK_SIGNATURE);
    t = zt_t_sign(pool, ZT_ALG_ES256, k_ec256, zt_t_hdr(pool, ZT_ALG_ES256, "ec256", ""),
                  "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1}");
    ck_tok(pool, t, ZT_TOK_EXPIRED);
    /* Only the issuer that verified the token counts. */
    g_issuers[0].nrequired = 0;
    t = zt_t_token(pool, ZT_ALG_ES256, "");
    ck_tok(pool, t, ZT_TOK_OK);
    g_issuers[1].required = req;
    g_issuers[1].nrequired = 3;
    ck_tok(pool, t, ZT_TOK_OK);
}
END_TEST

START_TEST(token_check_times)
{
    zt_issuer_t is = { .name = "t", .iss = ISS, .leeway = 10 };
    const char *reason;
    const zt_claims_t *c;

#define ck_times(doc, now, want) do { \
        c = zt_jdoc_parse(doc, strlen(doc), strlen(doc), pool, &reason); \
        ck_assert_ptr_nonnull(c); \
        reason = NULL; \
        ck_assert_msg(zt_token_check_times(c, &is, (now), &reason) == (want), \
                      "%s at %d: %s", doc, (int)(now), reason ? reason : "-"); \
        ck_assert_ptr_nonnull(reason == NULL && (want) == ZT_TOK_OK ? "" : reason); \
    } while (0)

    ck_times("{\"exp\":100}", 109, ZT_TOK_OK);
    ck_times("{\"exp\":100}", 110, ZT_TOK_EXPIRED);
    ck_times("{\"exp\":100.9}", 110, ZT_TOK_OK);
    ck_times("{}", 0, ZT_TOK_MISSING_CLAIM);
    ck_times("{\"exp\":\"100\"}", 0, ZT_TOK_BAD_CLAIM);
    ck_times("{\"exp\":null}", 0, ZT_TOK_BAD_CLAIM);
    ck_times("{\"exp\":100,\"nbf\":50}", 40, ZT_TOK_OK);
    ck_times("{\"exp\":100,\"nbf\":50}", 39, ZT_TOK_NOT_YET_VALID);
    ck_times("{\"exp\":100,\"nbf\":\"50\"}", 60, ZT_TOK_BAD_CLAIM);
    ck_times("{\"exp\":100,\"iat\":50}", 40, ZT_TOK_OK);
    ck_times("{\"exp\":100,\"iat\":50}", 39, ZT_TOK_ISSUED_IN_FUTURE);
    ck_times("{\"exp\":100,\"iat\":true}", 60, ZT_TOK_BAD_CLAIM);
    is.leeway = 0;
    ck_times("{\"exp\":100}", 99, ZT_TOK_OK);
    ck_times("{\"exp\":100}", 100, ZT_TOK_EXPIRED);
    /* Lifetime and audience are not time checks: not looked at here. */
    is.max_lifetime = 1;
    is.audience = "x";
    ck_times("{\"exp\":100,\"iat\":0,\"aud\":\"y\"}", 50, ZT_TOK_OK);
#undef ck_times
}
END_TEST

/* ------------------------------------------------------------------ */

static EVP_PKEY *zt_t_keygen(const char *type, const char *param, size_t bits)
{
    EVP_PKEY *k = param != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, type, param)
                : bits > 0 ? EVP_PKEY_Q_keygen(NULL, NULL, type, bits)
                : EVP_PKEY_Q_keygen(NULL, NULL, type);

    if (k == NULL) {
        fprintf(stderr, "keygen %s failed\n", type);
        exit(EXIT_FAILURE);
    }
    return k;
}

static void zt_t_fixtures(void)
{
    const char *err;
    char *doc;

    apr_pool_create(&g_pool, NULL);
    k_rsa = zt_t_keygen("RSA", NULL, 2048);
    k_rsa2 = zt_t_keygen("RSA", NULL, 2048);
    k_rsa1024 = zt_t_keygen("RSA", NULL, 1024);
    k_ec256 = zt_t_keygen("EC", "P-256", 0);
    k_ec384 = zt_t_keygen("EC", "P-384", 0);
    k_ec521 = zt_t_keygen("EC", "P-521", 0);
    k_attacker = zt_t_keygen("EC", "P-256", 0);
    k_ed = zt_t_keygen("ED25519", NULL, 0);
    pool = g_pool;
    doc = apr_psprintf(g_pool, "{\"keys\":[%s,%s,%s,%s,%s]}",
                       zt_t_jwk(g_pool, k_rsa, "rsa", ""),
                       zt_t_jwk(g_pool, k_ec256, "ec256", ",\"use\":\"sig\""),
                       zt_t_jwk(g_pool, k_ec384, "ec384", ",\"alg\":\"ES384\""),
                       zt_t_jwk(g_pool, k_ec521, "ec521", ",\"key_ops\":[\"verify\"]"),
                       zt_t_jwk(g_pool, k_ed, "ed", ""));
    if (zt_jwks_parse(&g_ks, doc, strlen(doc), g_pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "fixture key set: %s\n", err);
        exit(EXIT_FAILURE);
    }
    doc = apr_psprintf(g_pool, "{\"keys\":[%s]}", zt_t_jwk(g_pool, k_rsa2, "other", ""));
    if (zt_jwks_parse(&g_ks2, doc, strlen(doc), g_pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "fixture key set 2: %s\n", err);
        exit(EXIT_FAILURE);
    }
}

/* At exit, in the parent and in every forked test: LeakSanitizer does not
 * scan APR's (mmap-backed) pool memory, so keys only a pool points to
 * would be reported as leaks. */
static void zt_t_free_fixtures(void)
{
    EVP_PKEY *all[] = { k_rsa, k_rsa2, k_rsa1024, k_ec256, k_ec384, k_ec521,
                        k_attacker, k_ed };

    if (g_pool == NULL) {
        return;
    }
    apr_pool_destroy(g_pool);
    g_pool = NULL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        EVP_PKEY_free(all[i]);
    }
    apr_terminate();
}

static TCase *zt_t_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("token");
    TCase *tc;
    SRunner *sr;
    int failed;

    apr_initialize();
    zt_t_fixtures();
    atexit(zt_t_free_fixtures);

    tc = zt_t_tcase(s, "b64");
    tcase_add_test(tc, b64_rfc4648_vectors);
    tcase_add_test(tc, b64_refuses_non_canonical);
    tcase_add_test(tc, b64_exhaustive_tails);
    tcase_add_test(tc, b64_round_trip_vs_openssl);
    tcase_add_test(tc, b64_every_position);
    tcase_add_test(tc, b64_capacity);

    tc = zt_t_tcase(s, "json");
    tcase_add_test(tc, json_accepts_plain_objects);
    tcase_add_test(tc, json_refuses_duplicates);
    tcase_add_test(tc, json_refuses_bad_utf8_and_nul);
    tcase_add_test(tc, json_refuses_structure);
    tcase_add_test(tc, json_depth_limit);
    tcase_add_test(tc, json_length_limit);
    tcase_add_test(tc, json_pool_owns);

    tc = zt_t_tcase(s, "jwks");
    tcase_add_test(tc, jwks_good_keys);
    tcase_add_test(tc, jwks_alg_narrows);
    tcase_add_test(tc, jwks_skips_unusable_keys);
    tcase_add_test(tc, jwks_skips_bad_rsa);
    tcase_add_test(tc, jwks_rsa_leading_zero_and_e3);
    tcase_add_test(tc, jwks_skips_bad_ec_and_okp);
    tcase_add_test(tc, jwks_ec_short_coordinate_padded);
    tcase_add_test(tc, jwks_refuses_sets);
    tcase_add_test(tc, jwks_duplicate_kid_warns);
    tcase_add_test(tc, jwks_kid_sanitised_in_messages);
    tcase_add_test(tc, jwks_load_file);

    tc = zt_t_tcase(s, "jws");
    tcase_add_test(tc, jws_sig_every_alg);
    tcase_add_test(tc, jws_sig_key_must_fit);
    tcase_add_test(tc, jws_threads_share_keys);
    tcase_add_test(tc, jws_sig_rsa_padding_confusion);
    tcase_add_test(tc, jws_sig_ecdsa_edges);
    tcase_add_test(tc, jws_select_key);
    tcase_add_test(tc, jws_compact_allowlist);

    tc = zt_t_tcase(s, "token");
    tcase_add_test(tc, token_every_alg);
    tcase_add_test(tc, token_signature_before_claims);
    tcase_add_test(tc, token_tampering);
    tcase_add_test(tc, token_issuers);
    tcase_add_test(tc, token_exp);
    tcase_add_test(tc, token_nbf_iat);
    tcase_add_test(tc, token_valid_from);
    tcase_add_test(tc, token_max_lifetime);
    tcase_add_test(tc, token_audience);
    tcase_add_test(tc, token_sub);
    tcase_add_test(tc, token_typ);
    tcase_add_test(tc, token_status_names);
    tcase_add_test(tc, secret_keyset);
    tcase_add_test(tc, secret_file);
    tcase_add_test(tc, jws_hmac_rfc7515);
    tcase_add_test(tc, jws_hmac_sig);
    tcase_add_test(tc, token_hmac);
    tcase_add_test(tc, token_typ_required_by_issuer);
    tcase_add_test(tc, token_required_claims);
    tcase_add_test(tc, token_check_times);

    tc = zt_t_tcase(s, "attack");
    tcase_add_test(tc, attack_alg_none);
    tcase_add_test(tc, attack_hs256_with_public_key);
    tcase_add_test(tc, attack_embedded_key);
    tcase_add_test(tc, attack_kid);
    tcase_add_test(tc, attack_ecdsa_signatures);
    tcase_add_test(tc, attack_encoding);
    tcase_add_test(tc, attack_segments);
    tcase_add_test(tc, attack_size);
    tcase_add_test(tc, attack_json);

    tc = zt_t_tcase(s, "pyjwt");
    tcase_add_test(tc, pyjwt_tokens_verify);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
