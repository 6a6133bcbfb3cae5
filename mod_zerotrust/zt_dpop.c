/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * DPoP proofs (RFC 9449 section 4.3) and token confirmation.  The order of
 * the checks is in zt_dpop.h; the claims are read only once the signature
 * holds.  The proof's key arrives in its own header, so, unlike a token,
 * it proves nothing by itself: what it binds is decided by the caller,
 * which compares zt_dpop_proof_t.jkt with the token's cnf.jkt.
 */

#include <math.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "zt_alg.h"
#include "zt_ascii.h"
#include "zt_b64.h"
#include "zt_dpop.h"
#include "zt_format.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_pkcache.h"


static const char *const zt_dpop_names[] = {
    [ZT_DPOP_OK] = "ok",
    [ZT_DPOP_TOO_LARGE] = "dpop_too_large",
    [ZT_DPOP_MALFORMED] = "dpop_malformed",
    [ZT_DPOP_TYP] = "dpop_typ",
    [ZT_DPOP_ALG] = "dpop_alg",
    [ZT_DPOP_JWK] = "dpop_jwk",
    [ZT_DPOP_SIGNATURE] = "dpop_signature",
    [ZT_DPOP_CLAIMS] = "dpop_claims",
    [ZT_DPOP_HTM] = "dpop_htm",
    [ZT_DPOP_HTU] = "dpop_htu",
    [ZT_DPOP_IAT] = "dpop_iat",
    [ZT_DPOP_ATH] = "dpop_ath",
    [ZT_DPOP_NONCE] = "dpop_nonce",
};

const char *zt_dpop_status_name(zt_dpop_status_e st)
{
    if ((unsigned)st >= sizeof(zt_dpop_names) / sizeof(zt_dpop_names[0])) {
        return "dpop_unknown";
    }
    return zt_dpop_names[st];
}

/* base64url(SHA-256(@a data)) into @a out. */
static void zt_thumb(const void *data, size_t len, char out[ZT_THUMB_SIZE])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1
        || mdlen != sizeof(md)) {
        /* Cannot happen short of a broken OpenSSL; never match anything. */
        memset(out, 0, ZT_THUMB_SIZE);
        return;
    }
    zt_b64url_encode(out, md, sizeof(md));
}

void zt_dpop_cert_thumb(const unsigned char *der, size_t len,
                   char out[ZT_THUMB_SIZE])
{
    zt_thumb(der, len, out);
}

/*
** RFC 7638: SHA-256 over the key's required members, in lexical order,
** without whitespace.  Called once zt_jwk_from_jnode accepted the key, so
** the members are there, strings, and base64url or a known curve name:
** nothing in them needs escaping.
*/
int zt_dpop_jwk_thumb(const zt_jnode_t *jwk, apr_pool_t *pool,
                      char out[ZT_THUMB_SIZE])
{
    const char *kty = zt_jnode_get_str(jwk, "kty");
    const char *crv = zt_jnode_get_str(jwk, "crv");
    const char *x = zt_jnode_get_str(jwk, "x");
    const char *y = zt_jnode_get_str(jwk, "y");
    const char *n = zt_jnode_get_str(jwk, "n");
    const char *e = zt_jnode_get_str(jwk, "e");
    const char *text = NULL;

    if (kty == NULL) {
        return 0;
    }
    if (strcmp(kty, "EC") == 0 && crv && x && y) {
        text = apr_psprintf(pool, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                            "\"y\":\"%s\"}", crv, x, y);
    }
    else if (strcmp(kty, "RSA") == 0 && n && e) {
        text = apr_psprintf(pool, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                            e, n);
    }
    else if (strcmp(kty, "OKP") == 0 && crv && x) {
        text = apr_psprintf(pool, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                            crv, x);
    }
    if (text == NULL) {
        return 0;
    }
    zt_thumb(text, strlen(text), out);
    return 1;
}

void zt_dpop_replay_key(const zt_dpop_proof_t *proof, unsigned char key[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int n = 0;

    memset(key, 0, 32);
    if (m != NULL && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1
        && EVP_DigestUpdate(m, proof->jkt, strlen(proof->jkt) + 1) == 1
        && EVP_DigestUpdate(m, proof->jti, strlen(proof->jti)) == 1) {
        EVP_DigestFinal_ex(m, key, &n);
    }
    EVP_MD_CTX_free(m);
}

uint32_t zt_dpop_lifetime(const zt_dpop_conf_t *conf, int64_t iat,
                          int64_t now)
{
    /* Accepted while now <= iat + max_age; iat <= now + skew here. */
    int64_t left = iat + (int64_t)conf->max_age - now + 1;

    return left < 1 ? 1 : left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

const char *zt_dpop_alg_names(apr_pool_t *pool, uint32_t algs)
{
    const char *out = "";

    for (uint32_t bit = 1; bit <= ZT_ALG_ALL; bit <<= 1) {
        const char *name = zt_alg_name(bit);

        if ((algs & bit) && !(bit & ZT_ALG_HS_ALL) && name != NULL) {
            out = *out ? apr_pstrcat(pool, out, " ", name, NULL) : name;
        }
    }
    return out;
}

int zt_dpop_cnf_read(const zt_claims_t *claims, zt_dpop_cnf_t *cnf)
{
    const zt_jnode_t *c = zt_jdoc_get(claims, "cnf"), *v;

    cnf->jkt = cnf->x5t = NULL;
    if (c == NULL) {
        return 0;
    }
    if (c->type != ZT_J_OBJECT) {
        return -1;
    }
    if ((v = zt_jnode_member(c, "jkt", 3)) != NULL) {
        if (v->type != ZT_J_STR) {
            return -1;
        }
        cnf->jkt = zt_jnode_str(v);
    }
    if ((v = zt_jnode_member(c, "x5t#S256", 8)) != NULL) {
        if (v->type != ZT_J_STR) {
            return -1;
        }
        cnf->x5t = zt_jnode_str(v);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Server nonces                                                       */

/* The nonce of period @a n: 4 bytes of n, 16 of its MAC. */
static void zt_nonce_of(const unsigned char key[32], uint32_t n,
                        char out[ZT_NONCE_SIZE])
{
    unsigned char msg[4] = { n >> 24, n >> 16, n >> 8, n }, raw[20];
    unsigned char mac[32];
    unsigned int maclen = 0;

    memcpy(raw, msg, 4);
    if (HMAC(EVP_sha256(), key, 32, msg, sizeof(msg), mac, &maclen) == NULL
        || maclen != sizeof(mac)) {
        memset(out, 0, ZT_NONCE_SIZE);     /* matches no proof's nonce */
        return;
    }
    memcpy(raw + 4, mac, 16);
    zt_b64url_encode(out, raw, sizeof(raw));
}

void zt_dpop_nonce(const unsigned char key[32], uint32_t period, int64_t now,
                   char out[ZT_NONCE_SIZE])
{
    zt_nonce_of(key, (uint32_t)(now / (period ? period : 1)), out);
}

int zt_dpop_nonce_ok(const unsigned char key[32], uint32_t period,
                     int64_t now, const char *nonce)
{
    uint32_t n = (uint32_t)(now / (period ? period : 1));
    char want[ZT_NONCE_SIZE];
    int ok = 0;

    if (strlen(nonce) != ZT_NONCE_SIZE - 1) {
        return 0;
    }
    for (uint32_t back = 0; back < 2; back++) {
        zt_nonce_of(key, n - back, want);
        ok |= want[0] != '\0'
              && CRYPTO_memcmp(want, nonce, ZT_NONCE_SIZE - 1) == 0;
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* htu                                                                 */

static int zt_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}

/*
** RFC 3986 5.2.4, on a path that starts with '/': "." and ".." segments
** go, ".." taking the segment before it; never above the root.
*/
static char *zt_remove_dots(char *path)
{
    char *out = path, *in = path;

    while (*in != '\0') {
        char *end = strchr(in + 1, '/');
        size_t seg = end ? (size_t)(end - in) : strlen(in);    /* "/name" */

        if (seg == 2 && in[1] == '.') {                          /* "/." */
            in += seg;
            if (*in == '\0') {
                *out++ = '/';
            }
        }
        else if (seg == 3 && in[1] == '.' && in[2] == '.') {    /* "/.." */
            while (out > path && *--out != '/') {
            }
            in += seg;
            if (*in == '\0') {
                *out++ = '/';
            }
        }
        else {
            memmove(out, in, seg);
            out += seg;
            in += seg;
        }
    }
    if (out == path) {
        *out++ = '/';
    }
    *out = '\0';
    return path;
}

const char *zt_dpop_htu(apr_pool_t *pool, const char *uri, size_t len)
{
    const char *p = uri, *end = uri + len, *host, *hend, *port = NULL;
    char *out, *o, *path, *po;
    int https;
    unsigned long pnum = 0;

    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f) {
            return NULL;
        }
    }
    if (len > 8 && strncasecmp(p, "https://", 8) == 0) {
        https = 1;
        p += 8;
    }
    else if (len > 7 && strncasecmp(p, "http://", 7) == 0) {
        https = 0;
        p += 7;
    }
    else {
        return NULL;
    }
    host = p;
    if (p < end && *p == '[') {
        while (p < end && *p != ']') {
            p++;
        }
        if (p == end) {
            return NULL;
        }
        p++;
    }
    else {
        while (p < end && *p != ':' && *p != '/' && *p != '?' && *p != '#') {
            if (*p == '@' || *p == '%' || *p == '[' || *p == ']') {
                return NULL;            /* userinfo, escapes: not a host */
            }
            p++;
        }
    }
    hend = p;
    if (hend == host) {
        return NULL;
    }
    if (p < end && *p == ':') {
        port = ++p;
        while (p < end && *p >= '0' && *p <= '9') {
            pnum = pnum * 10 + (unsigned long)(*p - '0');
            if (pnum > 65535) {
                return NULL;
            }
            p++;
        }
    }
    if (p < end && *p != '/' && *p != '?' && *p != '#') {
        return NULL;
    }
    /* "scheme://" host ":" port path, each at most as long as given. */
    out = apr_palloc(pool, len + 16);
    o = out;
    memcpy(o, https ? "https://" : "http://", https ? 8 : 7);
    o += https ? 8 : 7;
    for (const char *h = host; h < hend; h++) {
        *o++ = (*h >= 'A' && *h <= 'Z') ? (char)(*h - 'A' + 'a') : *h;
    }
    if (port != NULL && p > port && pnum != (https ? 443ul : 80ul)) {
        o += sprintf(o, ":%lu", pnum);
    }
    path = po = o;
    *po++ = '/';
    if (p < end && *p == '/') {
        p++;
    }
    while (p < end && *p != '?' && *p != '#') {
        if (*p == '%') {
            int hi, lo, c;

            if (end - p < 3 || (hi = zt_hexval((unsigned char)p[1])) < 0
                || (lo = zt_hexval((unsigned char)p[2])) < 0) {
                return NULL;
            }
            c = hi * 16 + lo;
            if (zt_unreserved(c)) {
                *po++ = (char)c;
            }
            else {
                *po++ = '%';
                *po++ = "0123456789ABCDEF"[hi];
                *po++ = "0123456789ABCDEF"[lo];
            }
            p += 3;
            continue;
        }
        *po++ = *p++;
    }
    *po = '\0';
    zt_remove_dots(path);
    return out;
}

/* ------------------------------------------------------------------ */
/* The proof                                                           */

/* The proof's "jwk" as a key and its thumbprint, from the header
 * zt_jws_parse_ex has read: the header is decoded and parsed once. */
static zt_dpop_status_e zt_dpop_key(const zt_jws_t *jws, apr_pool_t *pool,
                                    zt_jwk_t *key, char jkt[ZT_THUMB_SIZE],
                                    const char **reason)
{
    const zt_jnode_t *jwk = zt_jdoc_get(jws->header, "jwk");
    const char *err;

    if (jwk == NULL || jwk->type != ZT_J_OBJECT) {
        *reason = "the DPoP proof has no jwk header with its public key";
        return ZT_DPOP_JWK;
    }
    if (zt_jwk_from_jnode(key, jwk, pool, &err) != APR_SUCCESS) {
        *reason = apr_psprintf(pool, "the DPoP proof's jwk is not a usable "
                               "public key: %s", err);
        return ZT_DPOP_JWK;
    }
    if (!zt_dpop_jwk_thumb(jwk, pool, jkt)) {
        *reason = "the DPoP proof's jwk has no thumbprint";
        return ZT_DPOP_JWK;
    }
    return ZT_DPOP_OK;
}

/* The claims every proof has, read and typed. */
static zt_dpop_status_e zt_dpop_claims(const zt_jdoc_t *c, const char **jti,
                                       const char **htm, const char **htu,
                                       double *iat, const char **reason)
{
    const zt_jnode_t *v;

    v = zt_jdoc_get(c, "jti");
    if (v == NULL || v->type != ZT_J_STR || v->u.s.len == 0
        || v->u.s.len > ZT_DPOP_JTI_MAX) {
        *reason = "the DPoP proof has no jti of 1 to 256 bytes";
        return ZT_DPOP_CLAIMS;
    }
    *jti = zt_jnode_str(v);
    if ((*htm = zt_jdoc_get_str(c, "htm")) == NULL) {
        *reason = "the DPoP proof has no htm";
        return ZT_DPOP_CLAIMS;
    }
    if ((*htu = zt_jdoc_get_str(c, "htu")) == NULL) {
        *reason = "the DPoP proof has no htu";
        return ZT_DPOP_CLAIMS;
    }
    v = zt_jdoc_get(c, "iat");
    if (!zt_jnode_number(v, iat) || !isfinite(*iat)) {
        *reason = "the DPoP proof has no numeric iat";
        return ZT_DPOP_CLAIMS;
    }
    return ZT_DPOP_OK;
}

/* ath: base64url(SHA-256(the access token's ASCII)), RFC 9449 4.2. */
static zt_dpop_status_e zt_dpop_ath(const zt_jdoc_t *c, const char *token,
                                    size_t token_len, const char **reason)
{
    const zt_jnode_t *v = zt_jdoc_get(c, "ath");
    char want[ZT_THUMB_SIZE];

    if (token == NULL) {
        return ZT_DPOP_OK;
    }
    if (v == NULL || v->type != ZT_J_STR) {
        *reason = "the DPoP proof has no ath for the access token";
        return ZT_DPOP_ATH;
    }
    zt_thumb(token, token_len, want);
    if (v->u.s.len != strlen(want) || strcmp(zt_jnode_str(v), want) != 0) {
        *reason = "the DPoP proof's ath is not the hash of the access token";
        return ZT_DPOP_ATH;
    }
    return ZT_DPOP_OK;
}

zt_dpop_status_e zt_dpop_verify(const char *proof, size_t len,
                                const char *method, const char *uri,
                                const char *token, size_t token_len,
                                int64_t now, const zt_dpop_conf_t *conf,
                                apr_pool_t *pool, zt_dpop_proof_t *out,
                                const char **reason)
{
    zt_jws_t jws;
    zt_jwk_t key;
    const zt_jdoc_t *claims;
    const zt_jnode_t *typ;
    const char *jti, *htm, *htu, *mine, *theirs, *jerr, *dot;
    double iat;
    zt_dpop_status_e st;
    size_t hlen;
    int cached;

    memset(out, 0, sizeof(*out));
    *reason = NULL;
    if (len > ZT_DPOP_MAX_LEN) {
        *reason = "the DPoP proof is too large";
        return ZT_DPOP_TOO_LARGE;
    }
    switch (zt_jws_parse_ex(&jws, proof, len, ZT_JWS_EMBEDDED_JWK, pool,
                            reason)) {
    case ZT_JWS_OK:
        break;
    case ZT_JWS_ALG:
        *reason = apr_pstrcat(pool, "DPoP proof: ", *reason, NULL);
        return ZT_DPOP_ALG;
    default:
        *reason = apr_pstrcat(pool, "DPoP proof: ", *reason, NULL);
        return ZT_DPOP_MALFORMED;
    }
    typ = zt_jdoc_get(jws.header, "typ");
    if (typ == NULL || typ->type != ZT_J_STR
        || strcasecmp(zt_jnode_str(typ), "dpop+jwt") != 0) {
        *reason = "the DPoP proof's typ is not dpop+jwt";
        return ZT_DPOP_TYP;
    }
    if ((jws.alg & conf->algs & ~(uint32_t)ZT_ALG_HS_ALL) == 0) {
        *reason = "the DPoP proof's algorithm is not allowed";
        return ZT_DPOP_ALG;
    }
    /* The header as sent (up to the first dot) names the key in the
     * process's cache: a hit skips the import (zt_pkcache.h). */
    dot = memchr(proof, '.', jws.signing_input_len);
    hlen = dot != NULL ? (size_t)(dot - proof) : 0;
    cached = hlen > 0
             && zt_pkcache_get(conf->keys, proof, hlen, pool, &key, out->jkt);
    if (!cached
        && (st = zt_dpop_key(&jws, pool, &key, out->jkt, reason))
           != ZT_DPOP_OK) {
        return st;
    }
    switch (zt_jws_verify_sig(jws.alg, &key,
                              (const unsigned char *)jws.signing_input,
                              jws.signing_input_len, jws.sig, jws.sig_len)) {
    case ZT_JWS_OK:
        /* Kept once it signed: garbage keys take no room. */
        if (!cached && hlen > 0) {
            zt_pkcache_put(conf->keys, proof, hlen, &key, out->jkt);
        }
        out->key_cached = cached;
        break;
    case ZT_JWS_ALG:
        *reason = "the DPoP proof's algorithm does not fit its key";
        return ZT_DPOP_ALG;
    default:
        *reason = "the DPoP proof's signature is invalid";
        return ZT_DPOP_SIGNATURE;
    }

    /* Signed by the key it carries: now its claims mean something. */
    claims = zt_jdoc_parse((const char *)jws.payload, jws.payload_len,
                           jws.payload_len, pool, &jerr);
    if (claims == NULL) {
        *reason = "the DPoP proof's payload is not a JSON object";
        return ZT_DPOP_MALFORMED;
    }
    if ((st = zt_dpop_claims(claims, &jti, &htm, &htu, &iat, reason))
        != ZT_DPOP_OK) {
        return st;
    }
    if (strcmp(htm, method) != 0) {
        *reason = "the DPoP proof's htm is not the request method";
        return ZT_DPOP_HTM;
    }
    theirs = zt_dpop_htu(pool, htu, strlen(htu));
    mine = zt_dpop_htu(pool, uri, strlen(uri));
    if (theirs == NULL || mine == NULL || strcmp(theirs, mine) != 0) {
        *reason = "the DPoP proof's htu is not the request URI";
        return ZT_DPOP_HTU;
    }
    if (!(iat >= (double)now - (double)conf->max_age
          && iat <= (double)now + (double)conf->skew)) {
        *reason = iat > (double)now ? "the DPoP proof was issued in the future"
                                    : "the DPoP proof is too old";
        return ZT_DPOP_IAT;
    }
    if ((st = zt_dpop_ath(claims, token, token_len, reason)) != ZT_DPOP_OK) {
        return st;
    }
    /* Last: a client told use_dpop_nonce (which it handles by retrying
     * with the nonce) then knows the rest of its proof was right. */
    if (conf->nonce_key != NULL) {
        out->nonce = zt_jdoc_get_str(claims, "nonce");
        if (out->nonce == NULL
            || !zt_dpop_nonce_ok(conf->nonce_key, conf->nonce_period, now,
                                 out->nonce)) {
            *reason = out->nonce == NULL ? "the DPoP proof has no nonce"
                                         : "the DPoP proof's nonce is stale "
                                           "or not ours";
            return ZT_DPOP_NONCE;
        }
    }
    out->jti = jti;
    out->iat = (int64_t)iat;    /* in the window: near now, and positive */
    *reason = "the DPoP proof is valid";
    return ZT_DPOP_OK;
}
