/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_jdoc.h"
#include "zt_jws.h"

#define ZT_ALG_RS (ZT_ALG_RS256 | ZT_ALG_RS384 | ZT_ALG_RS512)
#define ZT_ALG_PS (ZT_ALG_PS256 | ZT_ALG_PS384 | ZT_ALG_PS512)
#define ZT_ALG_ES (ZT_ALG_ES256 | ZT_ALG_ES384 | ZT_ALG_ES512)

/* Group orders n, big-endian, exactly one coordinate wide (SEC 2). */
static const unsigned char zt_order_p256[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
    0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const unsigned char zt_order_p384[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
    0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};
static const unsigned char zt_order_p521[66] = {
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa, 0x51, 0x86,
    0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
    0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c, 0x47, 0xae, 0xbb, 0x6f,
    0xb7, 0x1e, 0x91, 0x38, 0x64, 0x09,
};

/* Header members naming a key source the token would choose itself. */
static const char *const zt_jws_key_sources[] = { "jwk", "jku", "x5u", "x5c" };

static const EVP_MD *zt_jws_md(uint32_t alg)
{
    switch (alg) {
    case ZT_ALG_RS256: case ZT_ALG_PS256: case ZT_ALG_ES256:
        return EVP_sha256();
    case ZT_ALG_RS384: case ZT_ALG_PS384: case ZT_ALG_ES384:
        return EVP_sha384();
    case ZT_ALG_RS512: case ZT_ALG_PS512: case ZT_ALG_ES512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* 1 if the big-endian @a v (@a len bytes) is in [1, n - 1]. */
static int zt_jws_in_range(const unsigned char *v, const unsigned char *n,
                           size_t len)
{
    unsigned char any = 0;

    for (size_t i = 0; i < len; i++) {
        any |= v[i];
    }
    return any != 0 && memcmp(v, n, len) < 0;
}

/*
** JWS ECDSA signatures are r || s, each exactly the coordinate size
** (RFC 7518 3.4); OpenSSL wants DER.  Anything of another length, or with
** r or s outside [1, n - 1], is refused here before OpenSSL sees it
** (OpenSSL checks the range too; two fences).
*/
static int zt_jws_ecdsa_der(uint32_t alg, const unsigned char *sig,
                            size_t siglen, unsigned char *der, size_t cap,
                            size_t *derlen)
{
    const unsigned char *order;
    size_t half;
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *p = der;
    int n;

    switch (alg) {
    case ZT_ALG_ES256: order = zt_order_p256; half = 32; break;
    case ZT_ALG_ES384: order = zt_order_p384; half = 48; break;
    case ZT_ALG_ES512: order = zt_order_p521; half = 66; break;
    default: return 0;
    }
    if (siglen != 2 * half || !zt_jws_in_range(sig, order, half)
        || !zt_jws_in_range(sig + half, order, half)) {
        return 0;
    }
    if ((es = ECDSA_SIG_new()) == NULL) {
        return 0;
    }
    r = BN_bin2bn(sig, (int)half, NULL);
    s = BN_bin2bn(sig + half, (int)half, NULL);
    if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return 0;
    }
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || (size_t)n > cap || i2d_ECDSA_SIG(es, &p) != n) {
        ECDSA_SIG_free(es);
        return 0;
    }
    ECDSA_SIG_free(es);
    *derlen = (size_t)n;
    return 1;
}

/*
** HS256/384/512: recompute the MAC on a keyed context (a kept one, else a
** duplicate of the key's template) and compare all of it in constant
** time.  A MAC of another length (truncated, padded) is refused before
** any work.  A context is given back re-initialised (EVP_MAC_init without
** a key: the keyed ipad/opad state is reused, nothing is rehashed).
*/
static zt_jws_status_e zt_jws_hmac(uint32_t alg, const zt_jwk_t *key,
                                   const unsigned char *data, size_t len,
                                   const unsigned char *sig, size_t siglen)
{
    int i = alg == ZT_ALG_HS256 ? 0 : alg == ZT_ALG_HS384 ? 1 : 2;
    size_t want = alg == ZT_ALG_HS256 ? 32 : alg == ZT_ALG_HS384 ? 48 : 64;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC_CTX *ctx;
    int ok;

    if (key->hmac[i] == NULL) {
        return ZT_JWS_ALG;
    }
    if (siglen != want) {
        return ZT_JWS_SIGNATURE;
    }
    ctx = key->hmac_spares != NULL ? zt_jwk_spare_take(&key->hmac_spares[i])
                                   : NULL;
    if (ctx == NULL && (ctx = EVP_MAC_CTX_dup(key->hmac[i])) == NULL) {
        ERR_clear_error();
        return ZT_JWS_SIGNATURE;
    }
    ok = EVP_MAC_update(ctx, data, len) == 1
         && EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) == 1
         && maclen == want
         && CRYPTO_memcmp(mac, sig, want) == 0;
    if (key->hmac_spares == NULL || EVP_MAC_init(ctx, NULL, 0, NULL) != 1
        || !zt_jwk_spare_give(&key->hmac_spares[i], ctx)) {
        EVP_MAC_CTX_free(ctx);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    ERR_clear_error();
    return ok ? ZT_JWS_OK : ZT_JWS_SIGNATURE;
}

/*
** RS*, PS*, ES* with the key's prepared context: hash, then verify the
** digest on a copy of the template (which is shared and never written).
** The same checks as EVP_DigestVerify, without its per-call setup.  The
** copy and the hash context are kept for the next call (spare_ctx,
** spare_md) unless OpenSSL reported an error, not just a mismatch, on
** them: then they are freed and the next call starts afresh.
*/
static zt_jws_status_e zt_jws_verify_prepared(const zt_jwk_prep_t *prep, int i,
                                              const unsigned char *data,
                                              size_t len,
                                              const unsigned char *sig,
                                              size_t siglen)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_PKEY_CTX *c = zt_jwk_spare_take(&prep->spare_ctx[i]);
    EVP_MD_CTX *m = zt_jwk_spare_take(&prep->spare_md[i]);
    int hashed = 0, rc = -1;

    if (c == NULL) {
        c = EVP_PKEY_CTX_dup(prep->ctx[i]);
    }
    if (m == NULL) {
        m = EVP_MD_CTX_new();
    }
    if (c != NULL && m != NULL) {
        hashed = EVP_DigestInit_ex2(m, prep->md[i], NULL) == 1
                 && EVP_DigestUpdate(m, data, len) == 1
                 && EVP_DigestFinal_ex(m, digest, &dlen) == 1;
        if (hashed) {
            rc = EVP_PKEY_verify(c, sig, siglen, digest, dlen);
        }
    }
    if (c != NULL && (rc < 0 || !zt_jwk_spare_give(&prep->spare_ctx[i], c))) {
        EVP_PKEY_CTX_free(c);
    }
    if (m != NULL && (!hashed || !zt_jwk_spare_give(&prep->spare_md[i], m))) {
        EVP_MD_CTX_free(m);
    }
    ERR_clear_error();
    return rc == 1 ? ZT_JWS_OK : ZT_JWS_SIGNATURE;
}

zt_jws_status_e zt_jws_verify_sig(uint32_t alg, const zt_jwk_t *key,
                                  const unsigned char *data, size_t len,
                                  const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = NULL;
    unsigned char der[160];         /* DER of two 66-byte integers: < 150 */
    int ok = 0;

    /* One algorithm, one the key may verify, one we implement. */
    if (key == NULL || alg == 0 || (alg & (alg - 1)) != 0
        || (alg & key->algs) == 0) {
        return ZT_JWS_ALG;
    }
    /* A secret verifies HS* only, a public key never does: two fences
     * against "HS256 keyed with the RSA public key". */
    if (alg & ZT_ALG_HS_ALL) {
        if (key->pkey != NULL || strcmp(key->kty, "oct") != 0) {
            return ZT_JWS_ALG;
        }
        return zt_jws_hmac(alg, key, data, len, sig, siglen);
    }
    if (key->pkey == NULL
        || (alg & (ZT_ALG_RS | ZT_ALG_PS | ZT_ALG_ES | ZT_ALG_EDDSA)) == 0) {
        return ZT_JWS_ALG;
    }
    if (alg & ZT_ALG_ES) {
        size_t derlen;

        if (!zt_jws_ecdsa_der(alg, sig, siglen, der, sizeof(der), &derlen)) {
            ERR_clear_error();
            return ZT_JWS_SIGNATURE;
        }
        sig = der;
        siglen = derlen;
    }
    else if (alg & (ZT_ALG_RS | ZT_ALG_PS)) {
        /* Exactly the modulus size: no leading zeros added or dropped. */
        if (siglen != (size_t)EVP_PKEY_get_size(key->pkey)) {
            return ZT_JWS_SIGNATURE;
        }
    }
    else if (siglen != 64) {        /* Ed25519: R || S */
        return ZT_JWS_SIGNATURE;
    }
    if (alg != ZT_ALG_EDDSA && (md = zt_jws_md(alg)) == NULL) {
        return ZT_JWS_ALG;
    }
    if (alg != ZT_ALG_EDDSA && key->prep != NULL) {
        int i = __builtin_ctz(alg);

        if (i < 9 && key->prep->ctx[i] != NULL) {
            return zt_jws_verify_prepared(key->prep, i, data, len, sig, siglen);
        }
    }
    if ((mctx = EVP_MD_CTX_new()) == NULL) {
        return ZT_JWS_SIGNATURE;
    }
    /* EdDSA: a copy of the key's initialised context, when it copies. */
    if (alg == ZT_ALG_EDDSA && key->prep != NULL && key->prep->eddsa != NULL) {
        if (EVP_MD_CTX_copy_ex(mctx, key->prep->eddsa) == 1) {
            ok = EVP_DigestVerify(mctx, sig, siglen, data, len) == 1;
            goto done;
        }
        EVP_MD_CTX_reset(mctx);
    }
    if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key->pkey) != 1) {
        goto done;
    }
    if (alg & ZT_ALG_RS) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
            goto done;
        }
    }
    else if (alg & ZT_ALG_PS) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md)) <= 0) {
            goto done;
        }
    }
    /* One shot: required for Ed25519, fine for the others. */
    ok = EVP_DigestVerify(mctx, sig, siglen, data, len) == 1;
done:
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();              /* keep this thread's error queue empty */
    return ok ? ZT_JWS_OK : ZT_JWS_SIGNATURE;
}

/*
** A malformed token's reason: a character outside base64url (and the dot)
** anywhere is named first, whatever else is wrong, else @a why.  Only on
** the failure path: a well-formed token is scanned once, by the decoder.
*/
static zt_jws_status_e zt_jws_malformed(const char *compact, size_t len,
                                        const char *why, const char **reason)
{
    for (size_t i = 0; i < len; i++) {
        if (compact[i] != '.' && !zt_b64url_is_char((unsigned char)compact[i])) {
            why = "the token holds a character outside base64url";
            break;
        }
    }
    *reason = why;
    return ZT_JWS_MALFORMED;
}

zt_jws_status_e zt_jws_parse(zt_jws_t *jws, const char *compact, size_t len,
                             apr_pool_t *pool, const char **reason)
{
    return zt_jws_parse_ex(jws, compact, len, 0, pool, reason);
}

zt_jws_status_e zt_jws_parse_ex(zt_jws_t *jws, const char *compact,
                                size_t len, unsigned int flags,
                                apr_pool_t *pool, const char **reason)
{
    const char *dot1 = NULL, *dot2 = NULL, *jerr, *s;
    const unsigned char *hdr;
    size_t hlen, plen, slen, hdr_len, i;
    const zt_jnode_t *v;

    memset(jws, 0, sizeof(*jws));
    if (compact == NULL || len == 0) {
        *reason = "the token is empty";
        return ZT_JWS_MALFORMED;
    }
    /* The dots by memchr; the decoder checks every other character. */
    dot1 = memchr(compact, '.', len);
    if (dot1 != NULL) {
        dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact));
    }
    if (dot2 == NULL
        || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact)) != NULL) {
        return zt_jws_malformed(compact, len, "the token is not three parts "
                                "separated by dots", reason);
    }
    hlen = (size_t)(dot1 - compact);
    plen = (size_t)(dot2 - dot1 - 1);
    slen = len - (size_t)(dot2 - compact) - 1;
    if (hlen == 0) {
        return zt_jws_malformed(compact, len, "the token has no header", reason);
    }
    if ((hdr = zt_b64url_decode_pool(pool, compact, hlen, &hdr_len)) == NULL
        || (jws->payload = zt_b64url_decode_pool(pool, dot1 + 1, plen,
                                                 &jws->payload_len)) == NULL
        || (jws->sig = zt_b64url_decode_pool(pool, dot2 + 1, slen,
                                             &jws->sig_len)) == NULL) {
        return zt_jws_malformed(compact, len, "the token is not canonical "
                                "base64url", reason);
    }
    jws->signing_input = compact;
    jws->signing_input_len = (size_t)(dot2 - compact);
    jws->header = zt_jdoc_parse((const char *)hdr, hdr_len, hdr_len, pool,
                                &jerr);
    if (jws->header == NULL) {
        *reason = "the token header is not a JSON object";
        return ZT_JWS_MALFORMED;
    }

    v = zt_jdoc_get(jws->header, "alg");
    if (v == NULL || v->type != ZT_J_STR) {
        *reason = "the token header has no algorithm";
        return ZT_JWS_BAD_HEADER;
    }
    s = zt_jnode_str(v);
    if (strcasecmp(s, "none") == 0) {
        *reason = "unsigned tokens (alg none) are refused";
        return ZT_JWS_ALG;
    }
    jws->alg_name = s;
    jws->alg = zt_alg_from_name(s, v->u.s.len);
    if (jws->alg == 0) {
        *reason = "the token's algorithm is not supported";
        return ZT_JWS_ALG;
    }
    if (zt_jdoc_get(jws->header, "crit") != NULL) {
        *reason = "the token requires header extensions (crit)";
        return ZT_JWS_BAD_HEADER;
    }
    for (i = 0; i < sizeof(zt_jws_key_sources) / sizeof(char *); i++) {
        if ((flags & ZT_JWS_EMBEDDED_JWK) && i == 0) {
            continue;       /* "jwk": the caller verifies with it alone */
        }
        if (zt_jdoc_get(jws->header, zt_jws_key_sources[i]) != NULL) {
            *reason = apr_psprintf(pool, "the token header names its own key "
                                   "(%s), which is never trusted",
                                   zt_jws_key_sources[i]);
            return ZT_JWS_BAD_HEADER;
        }
    }
    v = zt_jdoc_get(jws->header, "b64");
    if (v != NULL && v->type != ZT_J_TRUE) {
        *reason = "unencoded payloads (b64) are not supported";
        return ZT_JWS_BAD_HEADER;
    }
    v = zt_jdoc_get(jws->header, "kid");
    if (v != NULL) {
        if (v->type != ZT_J_STR) {
            *reason = "the token's kid is not a string";
            return ZT_JWS_BAD_HEADER;
        }
        jws->kid = zt_jnode_str(v);
    }
    /* Checked after the header, so "alg":"none" with no signature is
     * reported as what it is. */
    if (jws->sig_len == 0) {
        *reason = "the token has no signature";
        return ZT_JWS_MALFORMED;
    }
    return ZT_JWS_OK;
}

zt_jws_status_e zt_jws_select_key(const zt_jws_t *jws, const zt_keyset_t *ks,
                                  const zt_jwk_t **key, const char **reason)
{
    const zt_jwk_t *found = NULL;
    int n = zt_jwks_count(ks), fits = 0, named = 0;

    *key = NULL;
    if (zt_keyset_is_secret(ks)) {
        /* The issuer's one shared secret has no kid: whatever kid an HS
         * token names, the secret is the only key that can verify it. */
        found = zt_jwks_key(ks, 0);
        if (found == NULL || !(found->algs & jws->alg)) {
            *reason = "the token's algorithm does not fit the issuer's secret";
            return ZT_JWS_ALG;
        }
        *key = found;
        return ZT_JWS_OK;
    }
    for (int i = 0; i < n; i++) {
        const zt_jwk_t *k = zt_jwks_key(ks, i);

        if (jws->kid != NULL) {
            if (k->kid == NULL || strcmp(k->kid, jws->kid) != 0) {
                continue;
            }
            named++;
        }
        if (k->algs & jws->alg) {
            found = k;
            fits++;
        }
    }
    if (fits == 1) {
        *key = found;
        return ZT_JWS_OK;
    }
    if (fits > 1) {
        *reason = jws->kid != NULL ? "more than one key has the token's kid"
                                   : "the token has no kid and more than one key fits";
        return ZT_JWS_UNKNOWN_KEY;
    }
    if (named > 0) {
        *reason = "the token's algorithm does not fit the key with its kid";
        return ZT_JWS_ALG;
    }
    *reason = jws->kid != NULL ? "no key with the token's kid"
                               : "the token has no kid and no key fits its algorithm";
    return ZT_JWS_UNKNOWN_KEY;
}

zt_jws_status_e zt_jws_verify(const zt_jws_t *jws, const zt_jwk_t *key,
                              const char **reason)
{
    zt_jws_status_e st;

    st = zt_jws_verify_sig(jws->alg, key,
                           (const unsigned char *)jws->signing_input,
                           jws->signing_input_len, jws->sig, jws->sig_len);
    if (st == ZT_JWS_ALG) {
        *reason = "the token's algorithm does not fit its key";
    }
    else if (st != ZT_JWS_OK) {
        *reason = "the token's signature is invalid";
    }
    return st;
}

zt_jws_status_e zt_jws_verify_compact(zt_jws_t *jws, const char *compact,
                                      size_t len, const zt_keyset_t *ks,
                                      uint32_t algs, apr_pool_t *pool,
                                      const zt_jwk_t **key,
                                      const char **reason)
{
    zt_jws_status_e st;

    *key = NULL;
    if ((st = zt_jws_parse(jws, compact, len, pool, reason)) != ZT_JWS_OK) {
        return st;
    }
    if ((jws->alg & algs) == 0) {
        *reason = "the token's algorithm is not allowed";
        return ZT_JWS_ALG;
    }
    if ((st = zt_jws_select_key(jws, ks, key, reason)) != ZT_JWS_OK) {
        return st;
    }
    return zt_jws_verify(jws, *key, reason);
}
