/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Every vector of the Wycheproof signature files we support, through the
 * same code the module runs: keys through zt_jwks_parse (from the group's
 * JWK, or built from its raw coordinates when it has none), signatures
 * through zt_jws_verify_sig, compact JWS through zt_jws_verify_compact.
 *
 *   valid       must verify
 *   invalid     must not verify
 *   acceptable  decided per flag in zt_wp_acceptable[] (an unlisted flag
 *               fails the test: every such case is a decision to write down)
 *
 * HMAC groups (kty "oct") run through zt_keyset_from_secret, the way an
 * issuer's `secret file` is loaded: the JWK's "k" is the secret, its "alg"
 * narrows the algorithms, a "use" other than "sig" leaves no key.
 *
 * Whole groups are skipped only for a reason in this file, and every
 * skipped vector is counted and printed.  Vectors where we knowingly
 * disagree with the file are listed in zt_wp_deviations[] with the reason;
 * they are counted and printed too, and any other disagreement fails.
 */
#include <stdio.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "zt_test.h"
#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_jwk.h"
#include "zt_jws.h"

typedef struct {
    int total, valid, invalid, acceptable, skipped, deviations, mismatches;
    int hmac;                   /* run with an issuer secret set */
} zt_wp_count_t;

/* What we do with "acceptable" vectors, by flag. */
static const struct {
    const char *flag;
    int accept;
    const char *why;
} zt_wp_acceptable[] = {
    /* PKCS #1 v1.5 DigestInfo without the NULL parameters: RFC 8017 says
     * the NULL is there; tolerating it is a legacy concession we need not
     * make, since JWS signers all use the standard encoding. */
    { "MissingNull", 0, "PKCS #1 DigestInfo without NULL: refused" },
};

/* Vectors where our answer differs from the file, on purpose. */
enum { ZT_WP_KEY_ALG = 1, ZT_WP_FILE_BUG };
static const struct {
    const char *file;
    int tcid;
    int kind;                   /* ZT_WP_KEY_ALG: checked to verify without it */
    const char *why;
} zt_wp_deviations[] = {
    { "json_web_signature_test.json", 346, ZT_WP_KEY_ALG,
      "RFC 7520 figure 20: a PS384 token, but the key says alg \"PS256\"; "
      "a key whose alg does not match the token's is never used" },
    { "json_web_signature_test.json", 350, ZT_WP_KEY_ALG,
      "RFC 7520 figure 20 with key_ops: PS384 token, key alg \"PS256\"" },
    { "json_web_signature_test.json", 347, ZT_WP_KEY_ALG,
      "RFC 7520 figure 27: the key says alg \"ES521\", not a JWS algorithm; "
      "a key whose alg does not match the token's is never used" },
    { "json_web_signature_test.json", 351, ZT_WP_KEY_ALG,
      "RFC 7520 figure 27 with key_ops: same key, alg \"ES521\"" },
    /* The file's own faults, checked below (zt_wp_file_bug). */
    { "json_web_signature_test.json", 367, ZT_WP_FILE_BUG,
      "\"invalidBase64Padding\" is byte for byte tcId 357 (valid), no padding "
      "in it (C2SP/wycheproof issue 236): a correct token, accepted" },
    { "json_web_signature_test.json", 370, ZT_WP_FILE_BUG,
      "\"invalidBase64PaddingInPayload\" is byte for byte tcId 357 (valid) "
      "(C2SP/wycheproof issue 236): a correct token, accepted" },
    { "json_web_signature_test.json", 372, ZT_WP_FILE_BUG,
      "'?' inside the header, labelled valid (a lenient decoder skips it); "
      "RFC 7515 5.2 says no other characters: refused" },
    { "json_web_signature_test.json", 373, ZT_WP_FILE_BUG,
      "'?' inside the payload, labelled valid (a lenient decoder skips it); "
      "RFC 7515 5.2 says no other characters: refused" },
};

static int zt_wp_deviation_kind(const char *file, int tcid)
{
    for (size_t i = 0; i < sizeof(zt_wp_deviations) / sizeof(zt_wp_deviations[0]); i++) {
        if (strcmp(zt_wp_deviations[i].file, file) == 0
            && zt_wp_deviations[i].tcid == tcid) {
            return zt_wp_deviations[i].kind;
        }
    }
    return 0;
}

static const char *zt_wp_deviation(const char *file, int tcid)
{
    for (size_t i = 0; i < sizeof(zt_wp_deviations) / sizeof(zt_wp_deviations[0]); i++) {
        if (strcmp(zt_wp_deviations[i].file, file) == 0
            && zt_wp_deviations[i].tcid == tcid) {
            return zt_wp_deviations[i].why;
        }
    }
    return NULL;
}

/*
** A ZT_WP_FILE_BUG deviation must be what its note says: the same text as
** a valid vector of the group, or (a '?' inside) that valid vector once
** the '?' is taken out.  Anything else fails the test.
*/
static void zt_wp_file_bug(json_t *tests, json_t *t, const char *compact)
{
    const char *q = strchr(compact, '?');
    char *plain = strdup(compact);
    json_t *o;
    size_t i;
    int same = 0;

    ck_assert_ptr_nonnull(plain);
    if (q != NULL) {
        memmove(plain + (q - compact), q + 1, strlen(q + 1) + 1);
    }
    json_array_foreach(tests, i, o) {
        const char *r = json_string_value(json_object_get(o, "result"));
        const char *j = json_string_value(json_object_get(o, "jws"));

        if (o != t && j != NULL && strcmp(r, "valid") == 0
            && strcmp(j, plain) == 0) {
            same = 1;
        }
    }
    free(plain);
    ck_assert_msg(same, "a file-bug deviation that is not a copy of a valid vector");
}

static unsigned char *zt_wp_hex(apr_pool_t *p, const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    unsigned char *out = apr_palloc(p, n + 1);

    for (size_t i = 0; i < n; i++) {
        unsigned v;

        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    *len = n;
    return out;
}

static json_t *zt_wp_open(apr_pool_t *p, const char *file)
{
    const char *path = apr_pstrcat(p, zt_test_datadir(), "/wycheproof/", file,
                                   NULL);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);

    ck_assert_msg(doc != NULL, "%s: %s", path, err.text);
    return doc;
}

/*
** The key of a signature test group as a one-key JWK Set, parsed by
** zt_jwks_parse.  NULL when the parser refuses it (every vector of the
** group then counts as "not verified").
*/
static const zt_jwk_t *zt_wp_group_key(apr_pool_t *p, json_t *group,
                                       const char **err)
{
    json_t *jwk = json_object_get(group, "publicKeyJwk");
    json_t *pk = json_object_get(group, "publicKey");
    zt_keyset_t *ks;
    char *doc;

    if (jwk == NULL) {
        jwk = json_object_get(group, "keyJwk");
    }
    if (jwk == NULL && json_is_object(pk)
        && json_object_get(pk, "wx") != NULL) {
        /* Some ECDSA groups carry no JWK: build one from (wx, wy). */
        const char *crv = json_string_value(json_object_get(pk, "curve"));
        size_t coord = strcmp(crv, "secp256r1") == 0 ? 32
                     : strcmp(crv, "secp384r1") == 0 ? 48 : 66;
        const char *names[2] = { "wx", "wy" };
        char *b64[2];

        for (int i = 0; i < 2; i++) {
            size_t n;
            unsigned char *raw = zt_wp_hex(p, json_string_value(
                                               json_object_get(pk, names[i])), &n);
            unsigned char *fixed = apr_pcalloc(p, coord);

            while (n > coord && raw[0] == 0) {
                raw++, n--;
            }
            ck_assert_uint_le(n, coord);
            memcpy(fixed + coord - n, raw, n);
            b64[i] = zt_b64url_encode_pool(p, fixed, coord);
        }
        doc = apr_psprintf(p, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"%s\","
                           "\"x\":\"%s\",\"y\":\"%s\"}]}",
                           strcmp(crv, "secp256r1") == 0 ? "P-256"
                           : strcmp(crv, "secp384r1") == 0 ? "P-384" : "P-521",
                           b64[0], b64[1]);
    }
    else {
        char *s;

        ck_assert_ptr_nonnull(jwk);
        s = json_dumps(jwk, JSON_COMPACT);
        doc = apr_pstrcat(p, "{\"keys\":[", s, "]}", NULL);
        free(s);
    }
    if (zt_jwks_parse(&ks, doc, strlen(doc), p, err) != APR_SUCCESS) {
        return NULL;
    }
    return zt_jwks_key(ks, 0);
}

static uint32_t zt_wp_alg(const char *algorithm, const char *sha)
{
    static const struct { const char *a, *sha; uint32_t bit; } map[] = {
        { "ECDSA", "SHA-256", ZT_ALG_ES256 }, { "ECDSA", "SHA-384", ZT_ALG_ES384 },
        { "ECDSA", "SHA-512", ZT_ALG_ES512 },
        { "RSASSA-PKCS1-v1_5", "SHA-256", ZT_ALG_RS256 },
        { "RSASSA-PKCS1-v1_5", "SHA-384", ZT_ALG_RS384 },
        { "RSASSA-PKCS1-v1_5", "SHA-512", ZT_ALG_RS512 },
        { "RSASSA-PSS", "SHA-256", ZT_ALG_PS256 }, { "RSASSA-PSS", "SHA-384", ZT_ALG_PS384 },
        { "RSASSA-PSS", "SHA-512", ZT_ALG_PS512 },
    };

    if (strcmp(algorithm, "EDDSA") == 0) {
        return ZT_ALG_EDDSA;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].a, algorithm) == 0 && sha != NULL
            && strcmp(map[i].sha, sha) == 0) {
            return map[i].bit;
        }
    }
    return 0;
}

/* Did we get what the file expects?  Counts and reports. */
static void zt_wp_judge(zt_wp_count_t *c, const char *file, json_t *t,
                        int verified, const char *reason)
{
    const char *result = json_string_value(json_object_get(t, "result"));
    int tcid = (int)json_integer_value(json_object_get(t, "tcId"));
    int expect;
    const char *dev;

    c->total++;
    if (strcmp(result, "valid") == 0) {
        c->valid++;
        expect = 1;
    }
    else if (strcmp(result, "invalid") == 0) {
        c->invalid++;
        expect = 0;
    }
    else {
        json_t *flags = json_object_get(t, "flags"), *f;
        size_t i;
        int decided = -1;

        c->acceptable++;
        json_array_foreach(flags, i, f) {
            for (size_t k = 0; k < sizeof(zt_wp_acceptable) / sizeof(zt_wp_acceptable[0]); k++) {
                if (strcmp(json_string_value(f), zt_wp_acceptable[k].flag) == 0) {
                    decided = zt_wp_acceptable[k].accept;
                }
            }
        }
        if (decided < 0) {
            printf("# %s tcId %d: acceptable with no decision for its flags\n",
                   file, tcid);
            c->mismatches++;
            return;
        }
        expect = decided;
    }
    if (verified == expect) {
        return;
    }
    if ((dev = zt_wp_deviation(file, tcid)) != NULL) {
        c->deviations++;
        printf("# %s tcId %d: deviation (%s: %s): %s\n", file, tcid,
               verified ? "accepted" : "refused", reason ? reason : "-", dev);
        return;
    }
    c->mismatches++;
    printf("# %s tcId %d: MISMATCH: expected %s, got %s (%s; %s)\n", file,
           tcid, result, verified ? "verified" : "refused",
           json_string_value(json_object_get(t, "comment")),
           reason ? reason : "-");
}

static void zt_wp_report(const char *file, const zt_wp_count_t *c)
{
    printf("# %s: %d vectors (%d valid, %d invalid, %d acceptable; %d HMAC): "
           "%d skipped, %d deviations, %d mismatches\n", file, c->total,
           c->valid, c->invalid, c->acceptable, c->hmac, c->skipped,
           c->deviations, c->mismatches);
    fflush(stdout);
}

/* ecdsa_*_p1363, rsa_signature_*, rsa_pss_*, ed25519: raw signatures. */
static void zt_wp_signature_file(const char *file)
{
    apr_pool_t *p;
    json_t *doc, *groups, *g;
    zt_wp_count_t c = { 0 };
    const char *algorithm;
    size_t gi;

    apr_pool_create(&p, NULL);
    doc = zt_wp_open(p, file);
    algorithm = json_string_value(json_object_get(doc, "algorithm"));
    ck_assert_ptr_nonnull(algorithm);
    groups = json_object_get(doc, "testGroups");
    json_array_foreach(groups, gi, g) {
        json_t *tests = json_object_get(g, "tests"), *t;
        const char *sha = json_string_value(json_object_get(g, "sha"));
        uint32_t alg = zt_wp_alg(algorithm, sha);
        const zt_jwk_t *key;
        const char *err = NULL;
        size_t ti;

        ck_assert_msg(alg != 0, "%s group %d: no JWS algorithm", file, (int)gi);
        if (strcmp(algorithm, "RSASSA-PSS") == 0) {
            /* JWS fixes MGF1 to the message hash and the salt to its size. */
            const char *mgf = json_string_value(json_object_get(g, "mgfSha"));
            int slen = (int)json_integer_value(json_object_get(g, "sLen"));
            int hlen = alg == ZT_ALG_PS256 ? 32 : alg == ZT_ALG_PS384 ? 48 : 64;

            if (mgf == NULL || strcmp(mgf, sha) != 0 || slen != hlen) {
                c.skipped += (int)json_array_size(tests);
                c.total += (int)json_array_size(tests);
                printf("# %s group %d skipped: MGF1 %s, salt %d is not a "
                       "JWS PS algorithm\n", file, (int)gi, mgf, slen);
                continue;
            }
        }
        key = zt_wp_group_key(p, g, &err);
        if (key == NULL) {
            printf("# %s group %d: key refused (%s); its vectors count as "
                   "refused\n", file, (int)gi, err);
        }
        json_array_foreach(tests, ti, t) {
            size_t mlen, slen;
            unsigned char *msg = zt_wp_hex(p, json_string_value(
                                               json_object_get(t, "msg")), &mlen);
            unsigned char *sig = zt_wp_hex(p, json_string_value(
                                               json_object_get(t, "sig")), &slen);
            int ok = key != NULL
                     && zt_jws_verify_sig(alg, key, msg, mlen, sig, slen) == ZT_JWS_OK;

            zt_wp_judge(&c, file, t, ok, key == NULL ? "key refused" : NULL);
        }
    }
    zt_wp_report(file, &c);
    json_decref(doc);
    apr_pool_destroy(p);
    ck_assert_int_eq(c.mismatches, 0);
    ck_assert_int_gt(c.total - c.skipped, 0);
}

/* A group's key material as JWK Set text: a set as given, or one key wrapped. */
static char *zt_wp_jwks_text(apr_pool_t *p, json_t *g, int *all_oct)
{
    json_t *k = json_object_get(g, "public"), *keys, *one;
    char *s, *out;
    size_t i;

    if (k == NULL || json_is_null(k)) {
        k = json_object_get(g, "private");
    }
    keys = json_object_get(k, "keys");
    *all_oct = 1;
    if (keys != NULL) {
        json_array_foreach(keys, i, one) {
            const char *kty = json_string_value(json_object_get(one, "kty"));
            *all_oct &= kty != NULL && strcmp(kty, "oct") == 0;
        }
        s = json_dumps(k, JSON_COMPACT);
        out = apr_pstrdup(p, s);
    }
    else {
        const char *kty = json_string_value(json_object_get(k, "kty"));

        *all_oct = kty != NULL && strcmp(kty, "oct") == 0;
        s = json_dumps(k, JSON_COMPACT);
        out = apr_pstrcat(p, "{\"keys\":[", s, "]}", NULL);
    }
    free(s);
    return out;
}

/*
** For a listed deviation: with "alg" removed from the group's keys, does
** the vector verify?  It must, or the deviation is not the policy we claim.
*/
static int zt_wp_verifies_without_key_alg(apr_pool_t *p, json_t *g,
                                          const char *compact, uint32_t algs)
{
    json_t *k = json_object_get(g, "public"), *copy, *keys, *one;
    zt_keyset_t *ks;
    zt_jws_t parsed;
    const zt_jwk_t *key;
    const char *err, *reason;
    char *s, *text;
    size_t i;
    int ok;

    if (k == NULL || json_is_null(k)) {
        k = json_object_get(g, "private");
    }
    copy = json_deep_copy(k);
    keys = json_object_get(copy, "keys");
    if (keys != NULL) {
        json_array_foreach(keys, i, one) {
            json_object_del(one, "alg");
        }
        s = json_dumps(copy, JSON_COMPACT);
        text = apr_pstrdup(p, s);
    }
    else {
        json_object_del(copy, "alg");
        s = json_dumps(copy, JSON_COMPACT);
        text = apr_pstrcat(p, "{\"keys\":[", s, "]}", NULL);
    }
    free(s);
    json_decref(copy);
    ok = zt_jwks_parse(&ks, text, strlen(text), p, &err) == APR_SUCCESS
         && zt_jws_verify_compact(&parsed, compact, strlen(compact), ks, algs,
                                  p, &key, &reason) == ZT_JWS_OK;
    return ok;
}

/*
** A group whose keys are all "oct" as an issuer secret set.  0 with *ks
** set, or with *ks NULL and *why saying why no key came of it (its vectors
** then count as refused); -1 when the group cannot be expressed (several
** secrets: an issuer has one).
*/
static int zt_wp_secret_set(apr_pool_t *p, json_t *g, zt_keyset_t **ks,
                            const char **why)
{
    json_t *k = json_object_get(g, "public"), *keys;
    const char *k64, *alg, *use;
    const unsigned char *secret;
    size_t len;
    uint32_t algs = ZT_ALG_HS256 | ZT_ALG_HS384 | ZT_ALG_HS512;

    *ks = NULL;
    if (k == NULL || json_is_null(k)) {
        k = json_object_get(g, "private");
    }
    if ((keys = json_object_get(k, "keys")) != NULL) {
        if (json_array_size(keys) != 1) {
            return -1;
        }
        k = json_array_get(keys, 0);
    }
    k64 = json_string_value(json_object_get(k, "k"));
    alg = json_string_value(json_object_get(k, "alg"));
    use = json_string_value(json_object_get(k, "use"));
    if (use != NULL && strcmp(use, "sig") != 0) {
        *why = "\"use\" is not \"sig\"";
        return 0;
    }
    if (alg != NULL) {
        algs &= zt_alg_from_name(alg, strlen(alg));
        if (algs == 0) {
            *why = apr_psprintf(p, "\"alg\" %s is not an HMAC algorithm", alg);
            return 0;
        }
    }
    if (k64 == NULL
        || (secret = zt_b64url_decode_pool(p, k64, strlen(k64), &len)) == NULL) {
        *why = "\"k\" is missing or not base64url";
        return 0;
    }
    if (zt_keyset_from_secret(ks, secret, len, algs, p, why) != APR_SUCCESS) {
        *ks = NULL;
    }
    return 0;
}

/*
** json_web_signature_test.json and json_web_key_test.json: compact JWS
** (or a JSON serialisation, which we do not accept) against a group key set.
*/
static void zt_wp_jose_file(const char *file)
{
    apr_pool_t *p;
    json_t *doc, *groups, *g;
    zt_wp_count_t c = { 0 };
    size_t gi;
    const uint32_t algs = ZT_ALG_ALL;

    apr_pool_create(&p, NULL);
    doc = zt_wp_open(p, file);
    groups = json_object_get(doc, "testGroups");
    json_array_foreach(groups, gi, g) {
        json_t *tests = json_object_get(g, "tests"), *t;
        const char *comment = json_string_value(json_object_get(g, "comment"));
        zt_keyset_t *ks = NULL;
        const char *err = NULL;
        int all_oct;
        char *text = zt_wp_jwks_text(p, g, &all_oct);
        size_t ti;

        if (all_oct) {
            if (zt_wp_secret_set(p, g, &ks, &err) < 0) {
                c.skipped += (int)json_array_size(tests);
                c.total += (int)json_array_size(tests);
                printf("# %s group %d (%s) skipped: several HMAC secrets in "
                       "one set, chosen by kid; an issuer has one secret; "
                       "%d vectors\n", file, (int)gi, comment,
                       (int)json_array_size(tests));
                continue;
            }
            c.hmac += (int)json_array_size(tests);
            if (ks == NULL) {
                printf("# %s group %d (%s): secret refused (%s); its vectors "
                       "count as refused\n", file, (int)gi, comment, err);
            }
        }
        else if (zt_jwks_parse(&ks, text, strlen(text), p, &err) != APR_SUCCESS) {
            printf("# %s group %d (%s): key set refused (%s); its vectors "
                   "count as refused\n", file, (int)gi, comment, err);
            ks = NULL;
        }
        json_array_foreach(tests, ti, t) {
            json_t *jws = json_object_get(t, "jws");
            zt_jws_t parsed;
            const zt_jwk_t *key;
            const char *reason = NULL, *compact;
            char *dumped = NULL;
            int ok = 0;

            if (json_is_string(jws)) {
                compact = json_string_value(jws);
            }
            else {
                /* JSON serialisation: we take compact only, so it must fail
                 * like any other malformed token. */
                dumped = json_dumps(jws, JSON_COMPACT);
                compact = dumped;
            }
            if (ks != NULL) {
                ok = zt_jws_verify_compact(&parsed, compact, strlen(compact),
                                           ks, algs, p, &key, &reason) == ZT_JWS_OK;
            }
            switch (zt_wp_deviation_kind(file, (int)json_integer_value(
                                             json_object_get(t, "tcId")))) {
            case ZT_WP_KEY_ALG:
                ck_assert_msg(!ok && zt_wp_verifies_without_key_alg(p, g, compact,
                                                                    algs),
                              "%s: deviation that is not the key alg rule", file);
                break;
            case ZT_WP_FILE_BUG:
                zt_wp_file_bug(tests, t, compact);
                break;
            default:
                break;
            }
            free(dumped);
            zt_wp_judge(&c, file, t, ok, ks == NULL ? "key set refused" : reason);
        }
    }
    zt_wp_report(file, &c);
    json_decref(doc);
    apr_pool_destroy(p);
    ck_assert_int_eq(c.mismatches, 0);
    ck_assert_int_gt(c.total - c.skipped, 0);
}

static const struct {
    const char *file;
    void (*run)(const char *file);
} zt_wp_files[] = {
    { "ecdsa_secp256r1_sha256_p1363_test.json", zt_wp_signature_file },
    { "ecdsa_secp384r1_sha384_p1363_test.json", zt_wp_signature_file },
    { "ecdsa_secp521r1_sha512_p1363_test.json", zt_wp_signature_file },
    { "rsa_signature_2048_sha256_test.json", zt_wp_signature_file },
    { "rsa_signature_3072_sha384_test.json", zt_wp_signature_file },
    { "rsa_pss_2048_sha256_mgf1_32_test.json", zt_wp_signature_file },
    { "ed25519_test.json", zt_wp_signature_file },
    { "json_web_signature_test.json", zt_wp_jose_file },
    { "json_web_key_test.json", zt_wp_jose_file },
};

#define ZT_WP_TEST(name, idx) \
    START_TEST(name) { zt_wp_files[idx].run(zt_wp_files[idx].file); } END_TEST

ZT_WP_TEST(wp_ecdsa_p256, 0)
ZT_WP_TEST(wp_ecdsa_p384, 1)
ZT_WP_TEST(wp_ecdsa_p521, 2)
ZT_WP_TEST(wp_rsa_2048_sha256, 3)
ZT_WP_TEST(wp_rsa_3072_sha384, 4)
ZT_WP_TEST(wp_rsa_pss_2048_sha256, 5)
ZT_WP_TEST(wp_ed25519, 6)
ZT_WP_TEST(wp_json_web_signature, 7)
ZT_WP_TEST(wp_json_web_key, 8)

int main(void)
{
    Suite *s = suite_create("wycheproof");
    TCase *tc = tcase_create("vectors");

    zt_test_timeout(tc, 120);
    tcase_add_test(tc, wp_ecdsa_p256);
    tcase_add_test(tc, wp_ecdsa_p384);
    tcase_add_test(tc, wp_ecdsa_p521);
    tcase_add_test(tc, wp_rsa_2048_sha256);
    tcase_add_test(tc, wp_rsa_3072_sha384);
    tcase_add_test(tc, wp_rsa_pss_2048_sha256);
    tcase_add_test(tc, wp_ed25519);
    tcase_add_test(tc, wp_json_web_signature);
    tcase_add_test(tc, wp_json_web_key);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
