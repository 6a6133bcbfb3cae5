/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * bench_token: token verifications per second on one core, next to
 * `openssl speed` for the same primitive in the same run (docs/BENCHMARKS.md).
 *
 *   bench_token [-s SECONDS] [-r ROUNDS] [-a ALG[,ALG...]] [-n] [-c]
 *               [-p full|sig|parse|hit]
 *
 * For each algorithm, a realistic access token (10 claims, about 600 bytes
 * of signed input) is verified through zt_token_verify with a request-like
 * pool cleared after every call.  Two more columns say where the time goes:
 * "sig" runs only the signature primitive as the core calls it
 * (zt_jws_verify_sig over the same bytes), "parse" only the structure and
 * JSON (zt_jws_parse plus the payload through zt_jdoc_parse).  Then
 * `openssl speed -elapsed -mr` measures the matching primitive (rsa2048,
 * ecdsap256/384/521, ed25519, or HMAC-SHA256 over the same message size);
 * the ratio ours/openssl is the goal (>= 0.9).  Each figure is the
 * best of ROUNDS runs of SECONDS each, ours and openssl's interleaved, so a
 * busy machine slows both sides alike.  -n skips openssl.  -c divides by
 * CPU time instead of wall-clock time, on both sides (openssl speed then
 * without -elapsed): steadier on a machine others are using.  -p runs one part
 * alone for SECONDS on the first chosen algorithm and prints its rate: a
 * loop to put under perf or callgrind.
 *
 * Last, the verified-token cache: what a request with a token seen before
 * costs (zt_tcache_get, zt_token_check_times on the hit, and releasing the
 * hit with the request pool), in nanoseconds; the goal is <= 1 us.
 *
 * Keys are made at start with OpenSSL; tokens are signed here.  Every
 * token is verified once before timing and the run stops if it does not
 * verify: a benchmark of a failing path would measure the wrong thing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_jdoc.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_tcache.h"
#include "zt_token.h"

#define BENCH_ISS  "https://idp.example.com/realms/corp"
#define BENCH_AUD  "orders-api"
#define BENCH_NOW  INT64_C(1700000000)

#define need(x) do { \
    if (!(x)) { \
        fprintf(stderr, "bench_token: %s:%d: failed: %s\n", __FILE__, \
                __LINE__, #x); \
        exit(2); \
    } \
} while (0)

typedef enum { K_RSA, K_P256, K_P384, K_P521, K_ED, K_HMAC, K_COUNT } bench_key_e;

typedef struct {
    const char *alg;            /* JWS name */
    bench_key_e key;
    const char *speed;          /* openssl speed algorithm */
    const char *primitive;      /* how the table names it */
} bench_alg_t;

static const bench_alg_t bench_algs[] = {
    { "RS256", K_RSA,  "rsa2048",   "rsa2048 verify" },
    { "RS384", K_RSA,  "rsa2048",   "rsa2048 verify" },
    { "RS512", K_RSA,  "rsa2048",   "rsa2048 verify" },
    { "PS256", K_RSA,  "rsa2048",   "rsa2048 verify" },
    { "ES256", K_P256, "ecdsap256", "ecdsap256 verify" },
    { "ES384", K_P384, "ecdsap384", "ecdsap384 verify" },
    { "ES512", K_P521, "ecdsap521", "ecdsap521 verify" },
    { "EdDSA", K_ED,   "ed25519",   "ed25519 verify" },
    { "HS256", K_HMAC, "hmac",      "hmac(sha256)" },
};
#define BENCH_NALGS (sizeof(bench_algs) / sizeof(bench_algs[0]))

static const char *const bench_kids[K_COUNT] = {
    "rsa-2048", "ec-p256", "ec-p384", "ec-p521", "ed-1", "hs-1"
};

static EVP_PKEY *bench_keys[K_COUNT];
static const unsigned char bench_secret[32] = "bench-secret-0123456789abcdefgh";

/* ------------------------------------------------------------------ */
/* Keys, JWK Set, signing                                              */
/* ------------------------------------------------------------------ */

static char *bench_b64bn(apr_pool_t *p, EVP_PKEY *k, const char *name, int w)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;

    need(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
    n = w > 0 ? BN_bn2binpad(bn, buf, w) : BN_bn2bin(bn, buf);
    need(n > 0);
    BN_free(bn);
    return zt_b64url_encode_pool(p, buf, (size_t)n);
}

static char *bench_jwk(apr_pool_t *p, bench_key_e which)
{
    EVP_PKEY *k = bench_keys[which];
    const char *kid = bench_kids[which];
    unsigned char raw[32];
    size_t n = sizeof(raw);
    static const char *const crv[] = { "P-256", "P-384", "P-521" };
    static const int width[] = { 32, 48, 66 };

    switch (which) {
    case K_RSA:
        return apr_psprintf(p, "{\"kid\":\"%s\",\"kty\":\"RSA\",\"use\":\"sig\","
                            "\"n\":\"%s\",\"e\":\"%s\"}", kid,
                            bench_b64bn(p, k, OSSL_PKEY_PARAM_RSA_N, 0),
                            bench_b64bn(p, k, OSSL_PKEY_PARAM_RSA_E, 0));
    case K_P256: case K_P384: case K_P521:
        return apr_psprintf(p, "{\"kid\":\"%s\",\"kty\":\"EC\",\"use\":\"sig\","
                            "\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kid,
                            crv[which - K_P256],
                            bench_b64bn(p, k, OSSL_PKEY_PARAM_EC_PUB_X,
                                        width[which - K_P256]),
                            bench_b64bn(p, k, OSSL_PKEY_PARAM_EC_PUB_Y,
                                        width[which - K_P256]));
    case K_ED:
        need(EVP_PKEY_get_raw_public_key(k, raw, &n) == 1);
        return apr_psprintf(p, "{\"kid\":\"%s\",\"kty\":\"OKP\",\"use\":\"sig\","
                            "\"crv\":\"Ed25519\",\"x\":\"%s\"}", kid,
                            zt_b64url_encode_pool(p, raw, n));
    default:
        return NULL;
    }
}

static const EVP_MD *bench_md(const char *alg)
{
    if (strcmp(alg, "EdDSA") == 0) {
        return NULL;
    }
    return strcmp(alg + 2, "256") == 0 ? EVP_sha256()
         : strcmp(alg + 2, "384") == 0 ? EVP_sha384() : EVP_sha512();
}

/* The JWS signature of @a in as @a a->alg wants it (ECDSA as r || s). */
static unsigned char *bench_sign(apr_pool_t *p, const bench_alg_t *a,
                                 const char *in, size_t *siglen)
{
    const EVP_MD *md = bench_md(a->alg);
    EVP_MD_CTX *m;
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *sig;
    size_t n = 0;

    if (a->key == K_HMAC) {
        unsigned int hl = 0;

        sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        need(HMAC(md, bench_secret, sizeof(bench_secret),
                  (const unsigned char *)in, strlen(in), sig, &hl) != NULL);
        *siglen = hl;
        return sig;
    }
    need((m = EVP_MD_CTX_new()) != NULL);
    need(EVP_DigestSignInit(m, &pc, md, NULL, bench_keys[a->key]) == 1);
    if (a->alg[0] == 'P') {
        need(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0);
        need(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) > 0);
        need(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, EVP_MD_get_size(md)) > 0);
    }
    need(EVP_DigestSign(m, NULL, &n, (const unsigned char *)in, strlen(in)) == 1);
    sig = apr_palloc(p, n);
    need(EVP_DigestSign(m, sig, &n, (const unsigned char *)in, strlen(in)) == 1);
    EVP_MD_CTX_free(m);
    if (a->alg[0] == 'E' && a->alg[1] == 'S') {
        int w = a->key == K_P256 ? 32 : a->key == K_P384 ? 48 : 66;
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        unsigned char *rs = apr_palloc(p, 2 * (size_t)w);

        need(es != NULL);
        need(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, w) == w);
        need(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + w, w) == w);
        ECDSA_SIG_free(es);
        sig = rs;
        n = 2 * (size_t)w;
    }
    *siglen = n;
    return sig;
}

static char *bench_b64s(apr_pool_t *p, const char *s)
{
    return zt_b64url_encode_pool(p, (const unsigned char *)s, strlen(s));
}

/* An access token as an OpenID Provider issues it: 10 claims. */
static char *bench_token(apr_pool_t *p, const bench_alg_t *a)
{
    const char *hdr = apr_psprintf(p, "{\"alg\":\"%s\",\"typ\":\"JWT\","
                                   "\"kid\":\"%s\"}", a->alg,
                                   bench_kids[a->key]);
    const char *claims = apr_psprintf(p,
        "{\"iss\":\"" BENCH_ISS "\","
        "\"sub\":\"f3b1c2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d\","
        "\"aud\":[\"" BENCH_AUD "\",\"account\"],"
        "\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT ","
        "\"iat\":%" APR_INT64_T_FMT ","
        "\"jti\":\"8c9d0e1f-2a3b-4c5d-6e7f-8091a2b3c4d5\","
        "\"azp\":\"orders-web\","
        "\"scope\":\"openid profile email orders:read orders:write\","
        "\"realm_access\":{\"roles\":[\"offline_access\",\"uma_authorization\","
        "\"orders-clerk\",\"default-roles-corp\"]}}",
        BENCH_NOW + 600, BENCH_NOW - 5, BENCH_NOW - 5);
    char *in = apr_pstrcat(p, bench_b64s(p, hdr), ".", bench_b64s(p, claims),
                           NULL);
    size_t n;
    unsigned char *sig = bench_sign(p, a, in, &n);

    return apr_pstrcat(p, in, ".", zt_b64url_encode_pool(p, sig, n), NULL);
}

/* ------------------------------------------------------------------ */
/* Timing                                                              */
/* ------------------------------------------------------------------ */

static int bench_cpu_time;         /* -c */

static double bench_clock(void)
{
    struct timespec ts;

    clock_gettime(bench_cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC,
                  &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
    const char *jwt;
    size_t len;
    const zt_issuer_t *issuer;
    const zt_jwk_t *key;        /* for the primitive alone */
    zt_jws_t jws;               /* parsed once, for the primitive alone */
    apr_pool_t *pool;           /* cleared after every call, like r->pool */
} bench_ctx_t;

typedef int (*bench_fn)(bench_ctx_t *c);

static int bench_full(bench_ctx_t *c)
{
    zt_token_t tok;
    const char *reason;
    zt_tok_status_e st = zt_token_verify(c->jwt, c->len, c->issuer, 1,
                                         BENCH_NOW, 0, c->pool, &tok, &reason);

    apr_pool_clear(c->pool);
    return st == ZT_TOK_OK;
}

static int bench_sig(bench_ctx_t *c)
{
    return zt_jws_verify_sig(c->jws.alg, c->key,
                             (const unsigned char *)c->jws.signing_input,
                             c->jws.signing_input_len, c->jws.sig,
                             c->jws.sig_len) == ZT_JWS_OK;
}

static int bench_parse(bench_ctx_t *c)
{
    zt_jws_t jws;
    const char *reason, *err;
    int ok = 0;

    if (zt_jws_parse(&jws, c->jwt, c->len, c->pool, &reason) == ZT_JWS_OK) {
        ok = zt_jdoc_parse((const char *)jws.payload, jws.payload_len,
                           jws.payload_len, c->pool, &err) != NULL;
    }
    apr_pool_clear(c->pool);
    return ok;
}

/* A request whose token is in the cache: look up, re-check the times, release. */
static zt_tcache_t *bench_cache;
static zt_tcache_tag_t bench_tag;

static int bench_hit(bench_ctx_t *c)
{
    zt_token_t tok;
    const char *reason;
    int ok = zt_tcache_get(bench_cache, c->jwt, c->len, &bench_tag, BENCH_NOW,
                           c->pool, &tok)
             && zt_token_check_times(tok.claims, tok.issuer, BENCH_NOW,
                                     &reason) == ZT_TOK_OK;

    apr_pool_clear(c->pool);
    return ok;
}

/* Calls per second of @a fn over about @a seconds of wall-clock time. */
static double bench_rate(bench_fn fn, bench_ctx_t *c, double seconds)
{
    double t0 = bench_clock(), t;
    long n = 0;

    do {
        for (int i = 0; i < 32; i++) {
            need(fn(c));
        }
        n += 32;
        t = bench_clock() - t0;
    } while (t < seconds);
    return (double)n / t;
}

/*
** `openssl speed -mr` verifications per second for @a a's primitive.
** Machine-readable lines: "+F2:i:bits:sign/s:verify/s" (RSA),
** "+F4:i:bits:sign/s:verify/s" (ECDSA), "+F6:i:bits:name:sign/s:verify/s"
** (EdDSA), "+F:i:name:bytes/s" (HMAC; divided by the message size).
*/
static double bench_openssl(const bench_alg_t *a, int seconds, size_t msglen)
{
    char cmd[256], line[512];
    FILE *f;
    double v = 0, s1, s2;
    unsigned int i, bits;
    char name[64];

    if (a->key == K_HMAC) {
        snprintf(cmd, sizeof(cmd), "openssl speed -seconds %d %s -mr "
                 "-bytes %zu -hmac sha256 2>/dev/null", seconds,
                 bench_cpu_time ? "" : "-elapsed", msglen);
    }
    else {
        snprintf(cmd, sizeof(cmd), "openssl speed -seconds %d %s -mr "
                 "%s 2>/dev/null", seconds, bench_cpu_time ? "" : "-elapsed",
                 a->speed);
    }
    if ((f = popen(cmd, "r")) == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (a->key == K_RSA || (a->key >= K_P256 && a->key <= K_P521)) {
            if ((sscanf(line, "+F2:%u:%u:%lf:%lf", &i, &bits, &s1, &s2) == 4
                 || sscanf(line, "+F4:%u:%u:%lf:%lf", &i, &bits, &s1, &s2) == 4)) {
                v = s2;
            }
        }
        else if (a->key == K_ED) {
            if (sscanf(line, "+F6:%u:%u:%63[^:]:%lf:%lf", &i, &bits, name,
                       &s1, &s2) == 5 && strcmp(name, "Ed25519") == 0) {
                v = s2;
            }
        }
        else if (sscanf(line, "+F:%u:%63[^:]:%lf", &i, name, &s1) == 3) {
            v = s1 / (double)msglen;
        }
    }
    pclose(f);
    return v;
}

/*
** The cache hit, on the ES256 token (any would do: a hit never looks at the
** signature).  Best round, in nanoseconds per request.
*/
static void bench_hit_report(apr_pool_t *pool, const zt_issuer_t *is,
                             int seconds, int rounds, int profile)
{
    bench_ctx_t c;
    zt_token_t tok;
    const char *reason;
    double best = 0, r;
    zt_tcache_stats_t st;

    memset(&c, 0, sizeof(c));
    need(apr_pool_create(&c.pool, pool) == APR_SUCCESS);
    c.jwt = bench_token(pool, &bench_algs[4]);
    c.len = strlen(c.jwt);
    need(zt_token_verify(c.jwt, c.len, is, 1, BENCH_NOW, 0, c.pool, &tok,
                         &reason) == ZT_TOK_OK);
    need(zt_tcache_put(bench_cache, c.jwt, c.len, &bench_tag, BENCH_NOW, &tok) == 1);
    apr_pool_clear(c.pool);
    for (int round = 0; round < (profile ? 1 : rounds); round++) {
        if ((r = bench_rate(bench_hit, &c, seconds)) > best) {
            best = r;
        }
    }
    zt_tcache_stats(bench_cache, &st);
    printf("%-6s %6zu %10.0f   cache hit: %.0f ns per request (get + time "
           "checks + release; goal <= 1000 ns)\n", "hit", c.len, best,
           1e9 / best);
    apr_pool_destroy(c.pool);
}

/* ------------------------------------------------------------------ */

static void bench_usage(void)
{
    fputs("usage: bench_token [-s SECONDS] [-r ROUNDS] [-a ALG[,ALG...]] [-n] [-c]\n"
          "                   [-p full|sig|parse|hit]\n"
          "  -s  seconds per measurement (default 1)\n"
          "  -r  rounds; each figure is the best round (default 3)\n"
          "  -a  algorithms (default all: RS256,RS384,RS512,PS256,ES256,"
          "ES384,ES512,EdDSA,HS256)\n"
          "  -n  do not run openssl speed\n"
          "  -c  CPU time instead of wall-clock time, for both sides\n"
          "  -p  run only this part, once, on the first algorithm (profiling)\n",
          stderr);
}

static int bench_selected(const char *list, const char *alg)
{
    size_t n = strlen(alg);

    if (list == NULL) {
        return 1;
    }
    for (const char *p = list; p != NULL; p = strchr(p, ',')) {
        if (*p == ',') {
            p++;
        }
        if (strncmp(p, alg, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    int seconds = 1, rounds = 3, no_openssl = 0;
    const char *only = NULL, *part = NULL, *jwks, *err = NULL;
    zt_keyset_t *ks, *secret;
    unsigned char table_hash[ZT_HASH_LEN];
    zt_issuer_t is;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            seconds = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "-a") == 0 && i + 1 < argc) {
            only = argv[++i];
        }
        else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            part = argv[++i];
        }
        else if (strcmp(argv[i], "-c") == 0) {
            bench_cpu_time = 1;
        }
        else if (strcmp(argv[i], "-n") == 0) {
            no_openssl = 1;
        }
        else {
            bench_usage();
            return 2;
        }
    }
    if (seconds < 1 || seconds > 60 || rounds < 1 || rounds > 20
        || (part != NULL && strcmp(part, "full") != 0
            && strcmp(part, "sig") != 0 && strcmp(part, "parse") != 0
            && strcmp(part, "hit") != 0)) {
        bench_usage();
        return 2;
    }
    need(apr_initialize() == APR_SUCCESS);
    need(apr_pool_create(&pool, NULL) == APR_SUCCESS);

    need((bench_keys[K_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) != NULL);
    need((bench_keys[K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) != NULL);
    need((bench_keys[K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")) != NULL);
    need((bench_keys[K_P521] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521")) != NULL);
    need((bench_keys[K_ED] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
    jwks = apr_pstrcat(pool, "{\"keys\":[", bench_jwk(pool, K_RSA), ",",
                       bench_jwk(pool, K_P256), ",", bench_jwk(pool, K_P384),
                       ",", bench_jwk(pool, K_P521), ",", bench_jwk(pool, K_ED),
                       "]}", NULL);
    if (zt_jwks_parse(&ks, jwks, strlen(jwks), pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_token: key set: %s\n", err);
        return 2;
    }
    if (zt_keyset_from_secret(&secret, bench_secret, sizeof(bench_secret),
                              ZT_ALG_HS256, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_token: secret: %s\n", err);
        return 2;
    }
    memset(&is, 0, sizeof(is));
    is.name = "corp";
    is.iss = BENCH_ISS;
    is.audience = BENCH_AUD;
    is.algs = ZT_ALG_ALL;
    is.max_lifetime = 900;
    is.leeway = 30;
    is.keys = ks;
    is.secret = secret;
    memset(table_hash, 0x5a, sizeof(table_hash));
    bench_tag.table = table_hash;
    bench_tag.issuers = &is;
    bench_tag.nissuers = 1;
    need(zt_tcache_create(&bench_cache, pool, 0, 0, 0) == APR_SUCCESS);

    printf("# bench_token: %d round(s) of %d s, best round; one thread; %s time\n",
           rounds, seconds, bench_cpu_time ? "CPU" : "wall-clock");
    printf("%-6s %6s %10s %10s %10s %8s %10s %-18s %6s\n", "alg", "bytes",
           "verify/s", "sig/s", "parse/s", "over_us", "openssl/s",
           "openssl primitive", "ratio");
    for (size_t ai = 0; ai < BENCH_NALGS; ai++) {
        const bench_alg_t *a = &bench_algs[ai];
        bench_ctx_t c;
        double full = 0, sig = 0, parse = 0, ossl = 0, r;
        const char *reason = NULL;
        zt_tok_status_e st;
        zt_token_t tok;
        int have_sig;

        if (!bench_selected(only, a->alg)
            || (part != NULL && strcmp(part, "hit") == 0)) {
            continue;
        }
        memset(&c, 0, sizeof(c));
        need(apr_pool_create(&c.pool, pool) == APR_SUCCESS);
        c.jwt = bench_token(pool, a);
        c.len = strlen(c.jwt);
        c.issuer = &is;
        st = zt_token_verify(c.jwt, c.len, &is, 1, BENCH_NOW, 0, c.pool,
                             &tok, &reason);
        if (st != ZT_TOK_OK) {
            /* HS* needs the issuer's secret, which the core may not take yet. */
            printf("%-6s %6zu %10s   (not measured: %s: %s)\n", a->alg, c.len,
                   "-", zt_tok_status_name(st), reason);
            apr_pool_destroy(c.pool);
            continue;
        }
        apr_pool_clear(c.pool);
        /* The primitive alone, on bytes parsed once, in the run's pool. */
        need(zt_jws_parse(&c.jws, c.jwt, c.len, pool, &reason) == ZT_JWS_OK);
        have_sig = zt_jws_select_key(&c.jws, a->key == K_HMAC ? secret : ks,
                                     &c.key, &reason) == ZT_JWS_OK;
        if (part != NULL) {
            bench_fn fn = strcmp(part, "full") == 0 ? bench_full
                        : strcmp(part, "parse") == 0 ? bench_parse : bench_sig;

            if (fn == bench_sig && !have_sig) {
                continue;
            }
            printf("%s %s: %.0f/s\n", a->alg, part, bench_rate(fn, &c, seconds));
            break;
        }
        for (int round = 0; round < rounds; round++) {
            if ((r = bench_rate(bench_full, &c, seconds)) > full) {
                full = r;
            }
            if (have_sig && (r = bench_rate(bench_sig, &c, seconds)) > sig) {
                sig = r;
            }
            if ((r = bench_rate(bench_parse, &c, seconds)) > parse) {
                parse = r;
            }
            if (!no_openssl
                && (r = bench_openssl(a, seconds, c.jws.signing_input_len)) > ossl) {
                ossl = r;
            }
        }
        printf("%-6s %6zu %10.0f %10s %10.0f %8.2f %10s %-18s %6s\n", a->alg,
               c.len, full,
               have_sig ? apr_psprintf(pool, "%.0f", sig) : "-", parse,
               have_sig ? 1e6 / full - 1e6 / sig : 0.0,
               ossl > 0 ? apr_psprintf(pool, "%.0f", ossl) : "-",
               a->key == K_HMAC ? apr_psprintf(pool, "%s %" APR_SIZE_T_FMT "B",
                                               a->primitive,
                                               c.jws.signing_input_len)
                                : a->primitive,
               ossl > 0 ? apr_psprintf(pool, "%.2f", full / ossl) : "-");
        fflush(stdout);
        apr_pool_destroy(c.pool);
    }
    if (part == NULL || strcmp(part, "hit") == 0) {
        bench_hit_report(pool, &is, seconds, rounds, part != NULL);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
