/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for the token core.  The first byte of the input picks
 * what the rest is (byte % 4):
 *
 *   0  a JWK Set document          -> zt_jwks_parse
 *   1  a compact JWT               -> zt_token_verify against the built-in
 *                                     key set below (issuer
 *                                     "https://fuzz.example", audience
 *                                     "fuzz-api", every algorithm allowed)
 *   2  a JSON document             -> zt_json_parse (zt_jdoc_parse has
 *                                     its own target, fuzz_jdoc)
 *   3  base64url text              -> zt_b64url_decode
 *
 * Besides "no crash, no leak, no sanitizer report", each mode checks an
 * invariant and aborts when it breaks: a decoded base64url string
 * re-encodes to exactly the input (one spelling per value); parsed JSON
 * dumps and parses again; a loaded key set has usable keys; a verified
 * token has an issuer, an algorithm and its claims.
 *
 * The seed corpus (test/fuzz/corpus/token/) was made with PyJWT: tokens
 * signed by the private halves of the keys below (thrown away since), plus
 * malformed and hostile variants, key sets and JSON documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_b64.h"
#include "zt_format.h"
#include "zt_json.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NOW INT64_C(1700000000)

static const char fz_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fz-rsa\",\"n\":\"2nfeFHCRrwbL9RRYtUVkppX-"
    "cgh_mtlgptN9xvu-4VABZp3sPSY6lRv8sS2NdszHKZwwDEAimEJrp5MueoFAhtAMMw"
    "ojAthqtumqr4aICYUpyMFQRpem9vPofwrcCtbBRjNH6veB1cnzJHCl1Ekp1iyuF2mz"
    "OKTtie5g-Hb5Wb-2zBmvmQVEfh8cdW95e6Ab43OXcbOsADuXZXXqv065-OOU-4CCue"
    "BoDFKnXYjp--67kPb6oZ-edUbIgqlnaBdUMY5cVn3QiLmSR7rLL-L0mQRWI2SIksnF"
    "GXzTBUYx8pWf-jbxqr3uaVBIGXOXaHJjAKzg9VvDFhpdWiL-ETpfbw\",\"e\":\"AQAB\""
    "},{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fz-ec256\",\"x\":\"zNEWt4EoVvvbZ9Lf"
    "ieXL2nbZBs6vvqyOjajeC9ocp5k\",\"y\":\"p33h27BjHX6Fc9Z9ITGKK2c-NW183SC0"
    "FkleGus4LTo\"},{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"fz-ec384\",\"x\":\"8fAu"
    "X0SXCWq01F5IyDVo1Xby_joWlGXqP-yMvM37kMGVqqEeXG-FEa7CDkzlfp_J\",\"y\":"
    "\"czQe-8kVDWxblxFLQYmM58HqcPZe0PT9Z141NytL35IEZQP-ItfXW0oaGchfxNWY\""
    "},{\"kty\":\"EC\",\"crv\":\"P-521\",\"kid\":\"fz-ec521\",\"x\":\"AA2y2SeaXFVbdB-w"
    "lfKHGelikL7zMacPTbf8NAMcSlnb9cZyTPmhX90vH4U334ZD4uhAldu3rPPGaMrwNv"
    "_GsLU3\",\"y\":\"AMPY57kmxd8EQ_cCYvIRRu87-AOrCIOROi59UDWC3hUdu7792VF3S"
    "Cfs2mzyIFRmqwHB6x2o6xsqzSwO-ktNsF9I\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\""
    ",\"kid\":\"fz-ed\",\"x\":\"ViATZAffI0iMAQg2evv4INvHxRxFqE-eVLhJr9YvzKA\"}]"
    "}"
    ;

static apr_pool_t *fz_pool;
static zt_issuer_t fz_issuers[2];

static void fz_done(void)
{
    apr_pool_destroy(fz_pool);
    apr_terminate();
}

static void fz_init(void)
{
    zt_keyset_t *ks;
    const char *err;

    apr_initialize();
    apr_pool_create(&fz_pool, NULL);
    if (zt_jwks_parse(&ks, fz_jwks, sizeof(fz_jwks) - 1, fz_pool, &err)
        != APR_SUCCESS || zt_jwks_count(ks) != 5) {
        abort();
    }
    fz_issuers[0] = (zt_issuer_t){ .name = "ec",
                                   .iss = "https://ec.fuzz.example",
                                   .audience = "fuzz-api",
                                   .algs = ZT_ALG_ES256 | ZT_ALG_ES384,
                                   .keys = ks };
    fz_issuers[1] = (zt_issuer_t){ .name = "fuzz", .iss = "https://fuzz.example",
                                   .audience = "fuzz-api", .algs = ZT_ALG_ALL,
                                   .leeway = 60, .keys = ks };
    atexit(fz_done);
}

static void fz_b64(const char *in, size_t len, apr_pool_t *p)
{
    size_t n;
    unsigned char *out = zt_b64url_decode_pool(p, in, len, &n);

    if (out != NULL) {
        char *back = zt_b64url_encode_pool(p, out, n);

        if (n > ZT_B64_DECODED_MAX(len) || strlen(back) != len
            || memcmp(back, in, len) != 0) {
            abort();
        }
    }
}

static void fz_json(const char *in, size_t len, apr_pool_t *p)
{
    const char *err;
    json_t *j = zt_json_parse(in, len, 1 << 20, p, &err), *again;
    char *dump;

    if (j == NULL) {
        return;
    }
    dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump == NULL) {
        abort();
    }
    again = zt_json_parse(dump, strlen(dump), 4u << 20, p, &err);
    if (again == NULL || !json_equal(j, again)) {
        abort();
    }
    json_decref(again);
    free(dump);
    json_decref(j);
}

static void fz_jwks_parse(const char *in, size_t len, apr_pool_t *p)
{
    zt_keyset_t *ks;
    const char *err;

    if (zt_jwks_parse(&ks, in, len, p, &err) != APR_SUCCESS) {
        if (err == NULL) {
            abort();
        }
        return;
    }
    if (zt_jwks_count(ks) < 1) {
        abort();
    }
    for (int i = 0; i < zt_jwks_count(ks); i++) {
        const zt_jwk_t *k = zt_jwks_key(ks, i);

        if (k->pkey == NULL || k->algs == 0 || k->kty == NULL) {
            abort();
        }
    }
}

static void fz_token(const char *in, size_t len, apr_pool_t *p)
{
    zt_token_t out;
    const char *reason = NULL;
    zt_tok_status_e st = zt_token_verify(in, len, fz_issuers, 2, FZ_NOW, 0, p,
                                         &out, &reason);

    if (reason == NULL || zt_tok_status_name(st) == NULL) {
        abort();
    }
    if (st == ZT_TOK_OK && (out.issuer == NULL || out.alg == NULL
                            || out.header->node[0].type != ZT_J_OBJECT
                            || out.claims->node[0].type != ZT_J_OBJECT
                            || !zt_jnode_number(zt_jdoc_get(out.claims, "exp"),
                                                &(double){ 0 }))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *in = (const char *)data + 1;
    size_t len;

    if (!ready) {
        fz_init();
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    len = size - 1;
    apr_pool_create(&p, fz_pool);
    switch (data[0] % 4) {
    case 0: fz_jwks_parse(in, len, p); break;
    case 1: fz_token(in, len, p); break;
    case 2: fz_json(in, len, p); break;
    default: fz_b64(in, len, p); break;
    }
    apr_pool_destroy(p);
    return 0;
}
