/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_jdoc.h"
#include "zt_jwk.h"

#define ZT_RSA_MIN_BITS   2048
#define ZT_RSA_MAX_BITS   16384
#define ZT_RSA_MAX_E_LEN  8         /* bytes: OpenSSL's own cap for big moduli */

#define ZT_ALG_RSA_ALL (ZT_ALG_RS256 | ZT_ALG_RS384 | ZT_ALG_RS512 | \
                        ZT_ALG_PS256 | ZT_ALG_PS384 | ZT_ALG_PS512)


struct zt_keyset_s {
    apr_array_header_t *keys;       /* array of zt_jwk_t */
    apr_array_header_t *warnings;   /* array of const char * */
    int secret;                     /* made by zt_keyset_from_secret */
};

/* What parsing one key came to. */
enum { ZT_KEY_FATAL = -1, ZT_KEY_SKIP = 0, ZT_KEY_OK = 1 };

typedef struct {
    apr_pool_t *pool;               /* the set's pool: keys, names, notes */
    apr_pool_t *tmp;                /* decoded member bytes */
    const char *label;              /* "key 3 (kid \"abc\")" */
    const char *why;                /* reason for a skip or a refusal */
    const char *note;               /* remark on a key that loads anyway */
    int once;                       /* a key verifying once (DPoP): no
                                       contexts are prepared for it */
} zt_jwk_ctx_t;

typedef struct {
    const char *crv;
    int bits;
    size_t coord;                   /* octets per coordinate */
    uint32_t alg;
} zt_curve_t;

static const zt_curve_t zt_ec_curves[] = {
    { "P-256", 256, 32, ZT_ALG_ES256 },
    { "P-384", 384, 48, ZT_ALG_ES384 },
    { "P-521", 521, 66, ZT_ALG_ES512 },
};

/* Members that carry private or secret key material (RFC 7518 6.2.2, 6.3.2,
 * 6.4.1; RFC 8037 2). */
static const char *const zt_private_members[] = {
    "d", "p", "q", "dp", "dq", "qi", "oth", "k"
};

static apr_status_t zt_pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static apr_status_t zt_prep_cleanup(void *data)
{
    zt_jwk_prep_t *prep = data;
    void *c;

    for (int i = 0; i < 9; i++) {
        while ((c = zt_jwk_spare_take(&prep->spare_ctx[i])) != NULL) {
            EVP_PKEY_CTX_free(c);
        }
        while ((c = zt_jwk_spare_take(&prep->spare_md[i])) != NULL) {
            EVP_MD_CTX_free(c);
        }
        EVP_PKEY_CTX_free(prep->ctx[i]);
        EVP_MD_free(prep->md[i]);
        prep->ctx[i] = NULL;
        prep->md[i] = NULL;
    }
    EVP_MD_CTX_free(prep->eddsa);
    prep->eddsa = NULL;
    return APR_SUCCESS;
}

/*
** The verification contexts of @a k (zt_jwk_prep_t), for each of RS256 to
** ES512 in its algs, made exactly as zt_jws.c would make them per call.
** NULL when there is nothing to prepare or OpenSSL declines: verification
** then sets up per call, as before; never an error.
*/
static const zt_jwk_prep_t *zt_jwk_prepare(apr_pool_t *pool, const zt_jwk_t *k)
{
    static const char *const hash[9] = {
        "SHA2-256", "SHA2-384", "SHA2-512", "SHA2-256", "SHA2-384", "SHA2-512",
        "SHA2-256", "SHA2-384", "SHA2-512",
    };
    zt_jwk_prep_t *prep;
    int any = 0;

    if (k->pkey == NULL || (k->algs & (((1u << 9) - 1) | ZT_ALG_EDDSA)) == 0) {
        return NULL;
    }
    prep = apr_pcalloc(pool, sizeof(*prep));
    prep->spare_ctx = apr_pcalloc(pool, 9 * sizeof(zt_jwk_spares_t));
    prep->spare_md = apr_pcalloc(pool, 9 * sizeof(zt_jwk_spares_t));
    apr_pool_cleanup_register(pool, prep, zt_prep_cleanup,
                              apr_pool_cleanup_null);
    for (int i = 0; i < 9; i++) {
        uint32_t alg = 1u << i;
        EVP_PKEY_CTX *c;
        EVP_MD *md;
        int ok;

        if ((k->algs & alg) == 0) {
            continue;
        }
        md = EVP_MD_fetch(NULL, hash[i], NULL);
        c = md != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL) : NULL;
        ok = c != NULL && EVP_PKEY_verify_init(c) == 1
             && EVP_PKEY_CTX_set_signature_md(c, md) > 0;
        if (ok && (alg & (ZT_ALG_RS256 | ZT_ALG_RS384 | ZT_ALG_RS512))) {
            ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0;
        }
        else if (ok && (alg & (ZT_ALG_PS256 | ZT_ALG_PS384 | ZT_ALG_PS512))) {
            ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) > 0
                 && EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) > 0
                 && EVP_PKEY_CTX_set_rsa_pss_saltlen(c, EVP_MD_get_size(md)) > 0;
        }
        if (!ok) {
            EVP_PKEY_CTX_free(c);
            EVP_MD_free(md);
            continue;
        }
        prep->ctx[i] = c;
        prep->md[i] = md;
        any = 1;
    }
    if (k->algs & ZT_ALG_EDDSA) {
        EVP_MD_CTX *m = EVP_MD_CTX_new();

        if (m != NULL && EVP_DigestVerifyInit(m, NULL, NULL, NULL, k->pkey) == 1) {
            prep->eddsa = m;
            any = 1;
        }
        else {
            EVP_MD_CTX_free(m);
        }
    }
    ERR_clear_error();
    return any ? prep : NULL;
}

/* A kid fit for a log line: printable ASCII, at most 64 characters. */
static const char *zt_jwk_safe(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), cut = n > 64 ? 64 : n;
    char *out = apr_pstrndup(p, s, cut);

    for (char *c = out; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f
            || *c == '"' || *c == '\\') {
            *c = '?';
        }
    }
    return n > cut ? apr_pstrcat(p, out, "...", NULL) : out;
}

/*
** Member @a name of @a key as canonical base64url, decoded.  Sets ctx->why
** and returns NULL when it is missing, not a string or not base64url.
*/
static const unsigned char *zt_jwk_b64(zt_jwk_ctx_t *ctx,
                                       const zt_jnode_t *key,
                                       const char *name, size_t *len)
{
    const zt_jnode_t *v = zt_jnode_get(key, name);
    const unsigned char *bytes;

    if (v == NULL) {
        ctx->why = apr_psprintf(ctx->pool, "\"%s\" is missing", name);
        return NULL;
    }
    if (v->type != ZT_J_STR) {
        ctx->why = apr_psprintf(ctx->pool, "\"%s\" is not a string", name);
        return NULL;
    }
    bytes = zt_b64url_decode_pool(ctx->tmp, zt_jnode_str(v), v->u.s.len, len);
    if (bytes == NULL) {
        ctx->why = apr_psprintf(ctx->pool, "\"%s\" is not base64url", name);
    }
    return bytes;
}

/* Member @a name as a string: 1 present, 0 absent, -1 wrong type. */
static int zt_jwk_str(const zt_jnode_t *key, const char *name,
                      const char **out)
{
    const zt_jnode_t *v = zt_jnode_get(key, name);

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    if (v->type != ZT_J_STR) {
        return -1;
    }
    *out = zt_jnode_str(v);
    return 1;
}

/*
** ROCA (CVE-2017-15361): an Infineon-generated modulus n satisfies, for
** every small prime p below, n mod p in the subgroup of (Z/p)* generated by
** 65537 (Nemec et al., CCS 2017).  A sound modulus shows the fingerprint
** with probability about 2^-28, so a false refusal is very unlikely, and
** its message says why.  The subgroups are computed here instead of stored
** as magic masks.
*/
static int zt_rsa_has_roca_fingerprint(const BIGNUM *n)
{
    static const unsigned primes[] = {
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67,
        71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139,
        149, 151, 157, 163, 167
    };

    for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
        unsigned p = primes[i], g = 65537 % p, x = 1;
        BN_ULONG r = BN_mod_word(n, p);
        int member = 0;

        if (r == (BN_ULONG)-1) {
            return 0;
        }
        do {
            if (x == r) {
                member = 1;
                break;
            }
            x = (x * g) % p;
        } while (x != 1);
        if (!member) {
            return 0;
        }
    }
    return 1;
}

static int zt_jwk_rsa(zt_jwk_ctx_t *ctx, const zt_jnode_t *key,
                      zt_jwk_t *k)
{
    const unsigned char *n, *e;
    size_t nlen, elen;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    int rc = ZT_KEY_SKIP;

    if ((n = zt_jwk_b64(ctx, key, "n", &nlen)) == NULL
        || (e = zt_jwk_b64(ctx, key, "e", &elen)) == NULL) {
        return ZT_KEY_SKIP;
    }
    /* Tolerate leading zero octets (RFC 7518 6.3.1.1 forbids them, some
     * libraries emit them); the sizes below count significant bits. */
    while (elen > 0 && e[0] == 0) {
        e++, elen--;
    }
    if (elen == 0 || elen > ZT_RSA_MAX_E_LEN || !(e[elen - 1] & 1)
        || (elen == 1 && e[0] < 3)) {
        ctx->why = "public exponent \"e\" must be odd, at least 3 and at "
                   "most 64 bits";
        return ZT_KEY_SKIP;
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    if (bn_n == NULL || bn_e == NULL) {
        ctx->why = "out of memory";
        rc = ZT_KEY_FATAL;
        goto done;
    }
    k->bits = BN_num_bits(bn_n);
    if (k->bits < ZT_RSA_MIN_BITS || k->bits > ZT_RSA_MAX_BITS) {
        ctx->why = apr_psprintf(ctx->pool, "RSA modulus of %d bits (accepted: "
                                "%d to %d)", k->bits, ZT_RSA_MIN_BITS,
                                ZT_RSA_MAX_BITS);
        goto done;
    }
    if (zt_rsa_has_roca_fingerprint(bn_n)) {
        ctx->why = "RSA modulus has the ROCA fingerprint (CVE-2017-15361): "
                   "the private key can be computed";
        goto done;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(pctx) <= 0
        || EVP_PKEY_fromdata(pctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        ctx->why = "OpenSSL refused the RSA key";
        goto done;
    }
    k->algs = ZT_ALG_RSA_ALL;
    rc = ZT_KEY_OK;
done:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rc;
}

static int zt_jwk_ec(zt_jwk_ctx_t *ctx, const zt_jnode_t *key,
                     zt_jwk_t *k)
{
    const zt_curve_t *c = NULL;
    const unsigned char *x, *y;
    unsigned char pub[1 + 2 * 66];
    size_t xlen, ylen;
    const char *crv;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL, *cctx = NULL;
    int rc = ZT_KEY_SKIP;

    if (zt_jwk_str(key, "crv", &crv) != 1) {
        ctx->why = "\"crv\" is missing or not a string";
        return ZT_KEY_SKIP;
    }
    for (size_t i = 0; i < sizeof(zt_ec_curves) / sizeof(zt_ec_curves[0]); i++) {
        if (strcmp(crv, zt_ec_curves[i].crv) == 0) {
            c = &zt_ec_curves[i];
        }
    }
    if (c == NULL) {
        ctx->why = apr_psprintf(ctx->pool, "curve \"%s\" is not supported",
                                zt_jwk_safe(ctx->pool, crv));
        return ZT_KEY_SKIP;
    }
    if ((x = zt_jwk_b64(ctx, key, "x", &xlen)) == NULL
        || (y = zt_jwk_b64(ctx, key, "y", &ylen)) == NULL) {
        return ZT_KEY_SKIP;
    }
    if (xlen > c->coord || ylen > c->coord || xlen == 0 || ylen == 0) {
        ctx->why = apr_psprintf(ctx->pool, "\"x\" and \"y\" must be %d bytes "
                                "each for %s", (int)c->coord, c->crv);
        return ZT_KEY_SKIP;
    }
    /* RFC 7518 6.2.1.2 wants the full width, but some libraries (PyJWT
     * before 2.8, for one) drop leading zero octets.  The value is the same
     * either way, so pad it back and say so. */
    if (xlen < c->coord || ylen < c->coord) {
        ctx->note = apr_psprintf(ctx->pool, "\"x\" or \"y\" is shorter than "
                                 "%d bytes (leading zeros dropped); accepted",
                                 (int)c->coord);
    }
    memset(pub, 0, sizeof(pub));
    pub[0] = 0x04;                  /* uncompressed point (SEC 1, 2.3.3) */
    memcpy(pub + 1 + c->coord - xlen, x, xlen);
    memcpy(pub + 1 + 2 * c->coord - ylen, y, ylen);
    if ((bld = OSSL_PARAM_BLD_new()) == NULL
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            c->crv, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, 1 + 2 * c->coord)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL
        || EVP_PKEY_fromdata_init(pctx) <= 0
        || EVP_PKEY_fromdata(pctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        ctx->why = apr_psprintf(ctx->pool, "(x, y) is not a point on %s",
                                c->crv);
        goto done;
    }
    /* On the curve, not infinity, in the prime-order subgroup.  These
     * curves have cofactor 1, so on the curve is in the subgroup: a key
     * used once (a DPoP proof's) skips the full check's multiplication by
     * the order, which would cost more than the signature (~300 us). */
    if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL
        || (ctx->once ? EVP_PKEY_public_check_quick(cctx)
                      : EVP_PKEY_public_check(cctx)) != 1) {
        ctx->why = apr_psprintf(ctx->pool, "(x, y) is not a valid public "
                                "point on %s", c->crv);
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        goto done;
    }
    k->crv = c->crv;
    k->bits = c->bits;
    k->algs = c->alg;
    rc = ZT_KEY_OK;
done:
    EVP_PKEY_CTX_free(cctx);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

static int zt_jwk_okp(zt_jwk_ctx_t *ctx, const zt_jnode_t *key,
                      zt_jwk_t *k)
{
    const unsigned char *x;
    size_t xlen;
    const char *crv;

    if (zt_jwk_str(key, "crv", &crv) != 1) {
        ctx->why = "\"crv\" is missing or not a string";
        return ZT_KEY_SKIP;
    }
    if (strcmp(crv, "Ed25519") != 0) {
        ctx->why = apr_psprintf(ctx->pool, "OKP curve \"%s\" is not supported "
                                "(only Ed25519)", zt_jwk_safe(ctx->pool, crv));
        return ZT_KEY_SKIP;
    }
    if ((x = zt_jwk_b64(ctx, key, "x", &xlen)) == NULL) {
        return ZT_KEY_SKIP;
    }
    if (xlen != 32) {
        ctx->why = "\"x\" must be 32 bytes for Ed25519";
        return ZT_KEY_SKIP;
    }
    k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
    if (k->pkey == NULL) {
        ctx->why = "OpenSSL refused the Ed25519 key";
        return ZT_KEY_SKIP;
    }
    k->crv = "Ed25519";
    k->bits = 255;
    k->algs = ZT_ALG_EDDSA;
    return ZT_KEY_OK;
}

/*
** The members every key type shares: kid, use, key_ops, alg.  They narrow
** k->algs (already set from the key type); 0 left means not usable.
*/
static int zt_jwk_common(zt_jwk_ctx_t *ctx, const zt_jnode_t *key,
                         zt_jwk_t *k)
{
    const zt_jnode_t *ops = zt_jnode_get(key, "key_ops"), *op;
    const char *alg;
    uint32_t i;
    int verify = 0;

    if (zt_jwk_str(key, "use", &k->use) < 0) {
        ctx->why = "\"use\" is not a string";
        return ZT_KEY_SKIP;
    }
    if (k->use != NULL && strcmp(k->use, "sig") != 0) {
        ctx->why = apr_psprintf(ctx->pool, "\"use\" is \"%s\", not \"sig\"",
                                zt_jwk_safe(ctx->pool, k->use));
        return ZT_KEY_SKIP;
    }
    if (ops != NULL) {
        apr_array_header_t *arr;

        if (ops->type != ZT_J_ARRAY) {
            ctx->why = "\"key_ops\" is not an array";
            return ZT_KEY_SKIP;
        }
        arr = apr_array_make(ctx->pool, (int)ops->u.n + 1,
                             sizeof(const char *));
        for (i = 0, op = zt_jnode_first(ops); i < ops->u.n;
             i++, op = zt_jnode_next(op)) {
            if (op->type != ZT_J_STR) {
                ctx->why = "\"key_ops\" holds a non-string";
                return ZT_KEY_SKIP;
            }
            APR_ARRAY_PUSH(arr, const char *) =
                apr_pstrdup(ctx->pool, zt_jnode_str(op));
            verify |= strcmp(zt_jnode_str(op), "verify") == 0;
        }
        if (!verify) {
            ctx->why = "\"key_ops\" does not include \"verify\"";
            return ZT_KEY_SKIP;
        }
        k->key_ops = arr;
    }
    if (zt_jwk_str(key, "alg", &alg) < 0) {
        ctx->why = "\"alg\" is not a string";
        return ZT_KEY_SKIP;
    }
    if (alg != NULL) {
        uint32_t bit = zt_alg_from_name(alg, strlen(alg));

        if ((bit & k->algs) == 0) {
            ctx->why = apr_psprintf(ctx->pool, "\"alg\" is \"%s\", not a "
                                    "signature algorithm for this %s key",
                                    zt_jwk_safe(ctx->pool, alg), k->kty);
            return ZT_KEY_SKIP;
        }
        k->algs = bit;
        k->alg = apr_pstrdup(ctx->pool, alg);
    }
    if (k->use != NULL) {
        k->use = apr_pstrdup(ctx->pool, k->use);
    }
    return ZT_KEY_OK;
}

/* One element of "keys": ZT_KEY_OK with *k filled, ZT_KEY_SKIP or FATAL. */
static int zt_jwk_parse_one(zt_jwk_ctx_t *ctx, const zt_jnode_t *key,
                            int index, zt_jwk_t *k)
{
    const char *kty, *kid;
    int rc;

    memset(k, 0, sizeof(*k));
    k->index = index;
    ctx->note = NULL;
    ctx->label = apr_psprintf(ctx->pool, "key %d", index);
    if (key->type != ZT_J_OBJECT) {
        ctx->why = "not a JSON object";
        return ZT_KEY_FATAL;
    }
    if (zt_jwk_str(key, "kid", &kid) < 0) {
        ctx->why = "\"kid\" is not a string";
        return ZT_KEY_SKIP;
    }
    if (kid != NULL) {
        ctx->label = apr_psprintf(ctx->pool, "key %d (kid \"%s\")", index,
                                  zt_jwk_safe(ctx->pool, kid));
    }
    for (size_t i = 0; i < sizeof(zt_private_members) / sizeof(char *); i++) {
        if (zt_jnode_get(key, zt_private_members[i]) != NULL) {
            ctx->why = apr_psprintf(ctx->pool, "holds private key material "
                                    "(\"%s\"); a key set for verification "
                                    "must hold public keys only",
                                    zt_private_members[i]);
            return ZT_KEY_FATAL;
        }
    }
    if (zt_jwk_str(key, "kty", &kty) != 1) {
        ctx->why = "\"kty\" is missing or not a string";
        return ZT_KEY_SKIP;
    }
    if (strcmp(kty, "RSA") == 0) {
        k->kty = "RSA";
        rc = zt_jwk_rsa(ctx, key, k);
    }
    else if (strcmp(kty, "EC") == 0) {
        k->kty = "EC";
        rc = zt_jwk_ec(ctx, key, k);
    }
    else if (strcmp(kty, "OKP") == 0) {
        k->kty = "OKP";
        rc = zt_jwk_okp(ctx, key, k);
    }
    else {
        ctx->why = apr_psprintf(ctx->pool, "key type \"%s\" is not supported",
                                zt_jwk_safe(ctx->pool, kty));
        return ZT_KEY_SKIP;
    }
    if (rc != ZT_KEY_OK) {
        return rc;
    }
    /* From here on the pool owns the key, whatever happens next. */
    apr_pool_cleanup_register(ctx->pool, k->pkey, zt_pkey_cleanup,
                              apr_pool_cleanup_null);
    rc = zt_jwk_common(ctx, key, k);
    if (rc != ZT_KEY_OK) {
        apr_pool_cleanup_run(ctx->pool, k->pkey, zt_pkey_cleanup);
        k->pkey = NULL;
        return rc;
    }
    k->kid = kid != NULL ? apr_pstrdup(ctx->pool, kid) : NULL;
    if (!ctx->once) {
        k->prep = zt_jwk_prepare(ctx->pool, k); /* algs are final now */
    }
    return ZT_KEY_OK;
}

static void zt_jwks_free_keys(zt_keyset_t *set, apr_pool_t *pool)
{
    for (int i = 0; i < set->keys->nelts; i++) {
        zt_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, zt_jwk_t);

        if (k->prep != NULL) {
            apr_pool_cleanup_run(pool, (void *)k->prep, zt_prep_cleanup);
            k->prep = NULL;
        }
        apr_pool_cleanup_run(pool, k->pkey, zt_pkey_cleanup);
        k->pkey = NULL;
    }
    set->keys->nelts = 0;
}

apr_status_t zt_jwks_parse(zt_keyset_t **ks, const char *json, apr_size_t len,
                           apr_pool_t *pool, const char **err)
{
    zt_keyset_t *set;
    zt_jwk_ctx_t ctx;
    const zt_jdoc_t *doc;
    const zt_jnode_t *keys, *key;
    const char *jerr;
    uint32_t i;
    apr_status_t rv = APR_SUCCESS;

    *ks = NULL;
    *err = NULL;
    memset(&ctx, 0, sizeof(ctx));
    ctx.pool = pool;
    if (apr_pool_create(&ctx.tmp, pool) != APR_SUCCESS) {
        *err = "key set: out of memory";
        return APR_ENOMEM;
    }
    /* The document lives in ctx.tmp: what a key keeps is copied. */
    doc = zt_jdoc_parse(json, len, ZT_JWKS_MAX_LEN, ctx.tmp, &jerr);
    keys = doc != NULL ? zt_jdoc_get(doc, "keys") : NULL;
    if (doc == NULL) {
        *err = apr_pstrcat(pool, "key set: ", jerr, NULL);
    }
    else if (keys == NULL || keys->type != ZT_J_ARRAY) {
        *err = "key set: \"keys\" is missing or not an array";
    }
    else if (keys->u.n > ZT_JWKS_MAX_KEYS) {
        *err = apr_psprintf(pool, "key set: %u keys (limit is %d)",
                            (unsigned)keys->u.n, ZT_JWKS_MAX_KEYS);
    }
    if (*err != NULL) {
        apr_pool_destroy(ctx.tmp);
        return APR_EINVAL;
    }
    set = apr_pcalloc(pool, sizeof(*set));
    set->keys = apr_array_make(pool, (int)keys->u.n + 1, sizeof(zt_jwk_t));
    set->warnings = apr_array_make(pool, 4, sizeof(const char *));
    for (i = 0, key = zt_jnode_first(keys); i < keys->u.n;
         i++, key = zt_jnode_next(key)) {
        zt_jwk_t k;
        int rc = zt_jwk_parse_one(&ctx, key, (int)i, &k);

        ERR_clear_error();          /* nothing of OpenSSL's queue matters now */
        if (rc == ZT_KEY_FATAL) {
            *err = apr_psprintf(pool, "key set: %s %s", ctx.label, ctx.why);
            rv = APR_EINVAL;
            break;
        }
        if (rc == ZT_KEY_SKIP) {
            APR_ARRAY_PUSH(set->warnings, const char *) =
                apr_psprintf(pool, "%s skipped: %s", ctx.label, ctx.why);
            continue;
        }
        if (ctx.note != NULL) {
            APR_ARRAY_PUSH(set->warnings, const char *) =
                apr_psprintf(pool, "%s: %s", ctx.label, ctx.note);
        }
        for (int j = 0; k.kid != NULL && j < set->keys->nelts; j++) {
            const zt_jwk_t *o = &APR_ARRAY_IDX(set->keys, j, zt_jwk_t);

            if (o->kid != NULL && strcmp(o->kid, k.kid) == 0) {
                APR_ARRAY_PUSH(set->warnings, const char *) =
                    apr_psprintf(pool, "%s has the same kid as key %d; a "
                                 "token naming it verifies only if exactly "
                                 "one of them fits its algorithm", ctx.label,
                                 o->index);
                break;
            }
        }
        APR_ARRAY_PUSH(set->keys, zt_jwk_t) = k;
    }
    apr_pool_destroy(ctx.tmp);
    if (rv == APR_SUCCESS && set->keys->nelts == 0) {
        *err = set->warnings->nelts > 0
            ? apr_pstrcat(pool, "key set: no usable key (",
                          APR_ARRAY_IDX(set->warnings, 0, const char *),
                          set->warnings->nelts > 1 ? ", ..." : "", ")", NULL)
            : "key set: no keys";
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        zt_jwks_free_keys(set, pool);
        return rv;
    }
    *ks = set;
    return APR_SUCCESS;
}

apr_status_t zt_jwks_load_file(zt_keyset_t **ks, const char *path,
                               apr_pool_t *pool, const char **err)
{
    apr_pool_t *tmp;
    apr_file_t *f;
    apr_size_t got = 0;
    char *buf, ebuf[128];
    apr_status_t rv;

    *ks = NULL;
    if ((rv = apr_pool_create(&tmp, pool)) != APR_SUCCESS) {
        *err = "out of memory";
        return rv;
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, tmp);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_pool_destroy(tmp);
        return rv;
    }
    /* One byte more than allowed, to tell "exactly the limit" from "more". */
    buf = apr_palloc(tmp, ZT_JWKS_MAX_LEN + 1);
    rv = apr_file_read_full(f, buf, ZT_JWKS_MAX_LEN + 1, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(pool, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_pool_destroy(tmp);
        return rv;
    }
    if (got > ZT_JWKS_MAX_LEN) {
        *err = apr_psprintf(pool, "%s: larger than %d bytes", path,
                            ZT_JWKS_MAX_LEN);
        apr_pool_destroy(tmp);
        return APR_EINVAL;
    }
    rv = zt_jwks_parse(ks, buf, got, pool, err);
    if (rv != APR_SUCCESS) {
        *err = apr_pstrcat(pool, path, ": ", *err, NULL);
    }
    apr_pool_destroy(tmp);
    return rv;
}

apr_status_t zt_jwk_from_jnode(zt_jwk_t *k, const zt_jnode_t *jwk,
                               apr_pool_t *pool, const char **err)
{
    zt_jwk_ctx_t ctx;
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    ctx.pool = ctx.tmp = pool;
    ctx.once = 1;
    rc = zt_jwk_parse_one(&ctx, jwk, 0, k);
    ERR_clear_error();
    if (rc != ZT_KEY_OK) {
        *err = ctx.why != NULL ? ctx.why : "not a usable public key";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

int zt_jwks_count(const zt_keyset_t *ks)
{
    return ks != NULL ? ks->keys->nelts : 0;
}

const zt_jwk_t *zt_jwks_key(const zt_keyset_t *ks, int i)
{
    if (ks == NULL || i < 0 || i >= ks->keys->nelts) {
        return NULL;
    }
    return &APR_ARRAY_IDX(ks->keys, i, zt_jwk_t);
}

const apr_array_header_t *zt_jwks_warnings(const zt_keyset_t *ks)
{
    return ks != NULL ? ks->warnings : NULL;
}

/* ------------------------------------------------------------------ */
/* HMAC secrets                                                        */

static apr_status_t zt_mac_cleanup(void *data)
{
    EVP_MAC_CTX_free(data);         /* cleanses the keyed state */
    return APR_SUCCESS;
}

static apr_status_t zt_mac_spares_cleanup(void *data)
{
    zt_jwk_spares_t *spares = data;
    void *c;

    for (int i = 0; i < 3; i++) {
        while ((c = zt_jwk_spare_take(&spares[i])) != NULL) {
            EVP_MAC_CTX_free(c);
        }
    }
    return APR_SUCCESS;
}

/*
** One HMAC context per allowed HS algorithm, keyed once here: the ipad and
** opad blocks are hashed at init, so a verification only duplicates the
** context (EVP_MAC_CTX_dup reads the template, which is never written
** again, so threads may share it) and hashes the signing input.
*/
apr_status_t zt_keyset_from_secret(zt_keyset_t **ks,
                                   const unsigned char *secret, apr_size_t len,
                                   uint32_t algs, apr_pool_t *pool,
                                   const char **err)
{
    static const struct {
        uint32_t alg;
        const char *digest;
        apr_size_t min;             /* the hash output: RFC 7518 3.2 */
    } hs[3] = {
        { ZT_ALG_HS256, "SHA256", 32 },
        { ZT_ALG_HS384, "SHA384", 48 },
        { ZT_ALG_HS512, "SHA512", 64 },
    };
    zt_keyset_t *set;
    zt_jwk_t *k;
    EVP_MAC *mac;

    *ks = NULL;
    *err = NULL;
    algs &= ZT_ALG_HS_ALL;
    if (algs == 0) {
        *err = "secret: no HMAC algorithm (HS256, HS384, HS512) is allowed";
        return APR_EINVAL;
    }
    if (secret == NULL && len > 0) {
        *err = "secret: no bytes";
        return APR_EINVAL;
    }
    for (int i = 0; i < 3; i++) {
        if ((algs & hs[i].alg) && len < hs[i].min) {
            *err = apr_psprintf(pool, "secret: %" APR_SIZE_T_FMT " bytes, but "
                                "%s needs at least %" APR_SIZE_T_FMT " (the "
                                "hash size, RFC 7518 section 3.2)", len,
                                zt_alg_name(hs[i].alg), hs[i].min);
            return APR_EINVAL;
        }
    }
    if (len > ZT_SECRET_MAX_LEN) {
        *err = apr_psprintf(pool, "secret: %" APR_SIZE_T_FMT " bytes (the "
                            "limit is %d)", len, ZT_SECRET_MAX_LEN);
        return APR_EINVAL;
    }
    set = apr_pcalloc(pool, sizeof(*set));
    set->keys = apr_array_make(pool, 1, sizeof(zt_jwk_t));
    set->warnings = apr_array_make(pool, 1, sizeof(const char *));
    set->secret = 1;
    k = apr_array_push(set->keys);
    memset(k, 0, sizeof(*k));
    k->kty = "oct";
    k->bits = (int)len * 8;
    k->algs = algs;
    /* Keyed duplicates kept between verifications (zt_jws.c). */
    k->hmac_spares = apr_pcalloc(pool, 3 * sizeof(zt_jwk_spares_t));
    apr_pool_cleanup_register(pool, k->hmac_spares, zt_mac_spares_cleanup,
                              apr_pool_cleanup_null);
    if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        ERR_clear_error();
        *err = "secret: OpenSSL has no HMAC";
        return APR_ENOTIMPL;
    }
    for (int i = 0; i < 3; i++) {
        OSSL_PARAM params[2];
        EVP_MAC_CTX *ctx;

        if (!(algs & hs[i].alg)) {
            continue;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)hs[i].digest, 0);
        params[1] = OSSL_PARAM_construct_end();
        if ((ctx = EVP_MAC_CTX_new(mac)) == NULL) {
            break;
        }
        apr_pool_cleanup_register(pool, ctx, zt_mac_cleanup,
                                  apr_pool_cleanup_null);
        if (EVP_MAC_init(ctx, secret, len, params) != 1) {
            break;
        }
        k->hmac[i] = ctx;
    }
    EVP_MAC_free(mac);
    ERR_clear_error();
    for (int i = 0; i < 3; i++) {
        if ((algs & hs[i].alg) && k->hmac[i] == NULL) {
            *err = apr_psprintf(pool, "secret: OpenSSL cannot key HMAC-%s",
                                hs[i].digest);
            return APR_EGENERAL;
        }
    }
    *ks = set;
    return APR_SUCCESS;
}

apr_status_t zt_keyset_from_secret_file(zt_keyset_t **ks, const char *path,
                                        uint32_t algs, apr_pool_t *pool,
                                        const char **err)
{
    apr_file_t *f;
    apr_size_t got = 0;
    unsigned char buf[ZT_SECRET_MAX_LEN + 1];
    char ebuf[128];
    apr_status_t rv;

    *ks = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    /* One byte more than allowed, to tell "exactly the limit" from "more". */
    rv = apr_file_read_full(f, buf, sizeof(buf), &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(pool, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    else if ((rv = zt_keyset_from_secret(ks, buf, got, algs, pool, err))
             != APR_SUCCESS) {
        *err = apr_pstrcat(pool, path, ": ", *err, NULL);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

int zt_keyset_is_secret(const zt_keyset_t *ks)
{
    return ks != NULL && ks->secret;
}
