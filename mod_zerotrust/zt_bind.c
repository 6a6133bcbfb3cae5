/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Sender-constrained tokens in httpd: the glue of zt_dpop.h and
 * zt_replay.h.  A verified token is checked here before the decision:
 *
 *   cnf.jkt       only with `Authorization: DPoP` and a valid proof by
 *                 that key (RFC 9449); as Bearer it is refused
 *   cnf.x5t#S256  only over TLS with a verified client certificate of
 *                 that thumbprint (RFC 8705)
 *   issuer `binding mtls|dpop|any`   an unbound token is refused
 *
 * Each proof's jti is remembered, for as long as the proof could be
 * accepted, in a set in anonymous shared memory made in post_config
 * before the children fork, so every process sees every jti.  Server
 * nonces (ZeroTrustDPoPNonce) need no shared state: they are MACs under a
 * key made at the same moment.  The directives are global: the set and
 * the key are one for the whole server.
 */

#include "mod_zerotrust.h"

#include <apr_shm.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"

#include "zt_alg.h"
#include "zt_dpop.h"
#include "zt_pkcache.h"
#include "zt_replay.h"


APLOG_USE_MODULE(zerotrust);

#define ZT_NONCE_PERIOD 300     /* default seconds a server nonce is current */

static const zt_dpop_conf_t zt_dpop_defaults = {
    .algs = ZT_DPOP_ALGS_DEFAULT, .max_age = ZT_DPOP_MAX_AGE,
    .skew = ZT_DPOP_SKEW, .nonce_key = NULL, .nonce_period = ZT_NONCE_PERIOD
};
static zt_dpop_conf_t zt_dpop_conf;
/* zt_dpop_conf.algs as the algs= text of DPoP challenges: fixed once the
 * configuration is read, so made in post_config, not per refusal. */
static const char *zt_dpop_algs_text;
static int zt_nonce_on;                 /* ZeroTrustDPoPNonce on */
/* The key of the server nonces: random per generation, made before the
 * children fork, so all of them make and accept the same nonces. */
static unsigned char zt_nonce_key[32];
static uint32_t zt_replay_nslots = ZT_REPLAY_DEFAULT;
static zt_replay_t *zt_replay_set;      /* in shared memory, or NULL */
/* ZeroTrustDPoPKeyCache: the bounds of each child's proof-key cache
 * (zeroed: zt_pkcache_create's defaults). */
static zt_cache_conf_t zt_pkcache_conf;

static apr_status_t zt_bind_forget(void *unused)
{
    zt_dpop_conf = zt_dpop_defaults;
    zt_dpop_algs_text = NULL;
    zt_nonce_on = 0;
    zt_replay_nslots = ZT_REPLAY_DEFAULT;
    zt_replay_set = NULL;
    memset(&zt_pkcache_conf, 0, sizeof(zt_pkcache_conf));
    return APR_SUCCESS;
}

void zt_bind_pre_config(apr_pool_t *pconf)
{
    zt_bind_forget(NULL);
    apr_pool_cleanup_register(pconf, NULL, zt_bind_forget,
                              apr_pool_cleanup_null);
}

#define ZT_REPLAY_KEY "zerotrust-dpop-replay"

/*
** The seen-set, in anonymous shared memory of the process pool: made once,
** before any child forks, and kept across graceful restarts, so a proof
** accepted by a child of the old generation is still refused by the new
** one.  A changed ZeroTrustDPoPReplayCache takes effect at the next full
** start (a new set would forget the live entries).
*/
static zt_replay_t *zt_bind_replay_set(server_rec *s)
{
    apr_pool_t *keep = s->process->pool;
    apr_size_t size = zt_replay_size(zt_replay_nslots);
    zt_replay_t *set = NULL;
    apr_shm_t *shm;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&set, ZT_REPLAY_KEY, keep);
    if (set != NULL) {
        if (zt_replay_slots(set) != zt_replay_nslots) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, ZTLOGNO(00048)
                         "the DPoP replay cache keeps its %u entries until "
                         "Apache is stopped and started "
                         "(ZeroTrustDPoPReplayCache %u)",
                         (unsigned)zt_replay_slots(set),
                         (unsigned)zt_replay_nslots);
        }
        return set;
    }
    rv = apr_shm_create(&shm, size, NULL, keep);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ZTLOGNO(00045)
                     "cannot make the %lu bytes of shared memory of the "
                     "DPoP replay cache (ZeroTrustDPoPReplayCache %u)",
                     (unsigned long)size, (unsigned)zt_replay_nslots);
        return NULL;
    }
    set = zt_replay_init(apr_shm_baseaddr_get(shm), apr_shm_size_get(shm),
                         zt_replay_nslots);
    if (set == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, ZTLOGNO(00046)
                     "the DPoP replay cache cannot hold %u entries",
                     (unsigned)zt_replay_nslots);
        return NULL;
    }
    apr_pool_userdata_set(set, ZT_REPLAY_KEY, apr_pool_cleanup_null, keep);
    return set;
}

int zt_bind_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_status_t rv;

    if ((zt_replay_set = zt_bind_replay_set(s)) == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    zt_dpop_algs_text = zt_dpop_alg_names(pconf, zt_dpop_conf.algs);
    zt_dpop_conf.nonce_key = NULL;
    if (zt_nonce_on) {
        rv = apr_generate_random_bytes(zt_nonce_key, sizeof(zt_nonce_key));
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, ZTLOGNO(00047)
                         "cannot make the key of the DPoP server nonces "
                         "(ZeroTrustDPoPNonce on)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        zt_dpop_conf.nonce_key = zt_nonce_key;
    }
    return OK;
}

/*
** Each process keeps the proof keys it imported (zt_pkcache.h), as
** ZeroTrustDPoPKeyCache bounds them.  Made here, after the fork, so no
** process shares another's; without it every proof's key is imported
** again, which is slower and nothing else.
*/
void zt_bind_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    zt_dpop_conf.keys = NULL;
    if (zt_pkcache_conf.off) {
        return;
    }
    rv = zt_pkcache_create(&zt_dpop_conf.keys, pchild,
                           zt_pkcache_conf.entries, zt_pkcache_conf.bytes);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, ZTLOGNO(00070)
                     "the DPoP proof-key cache could not be made; each "
                     "proof's key is imported anew");
        zt_dpop_conf.keys = NULL;
    }
}

const char *zt_bind_algs(void)
{
    return zt_dpop_algs_text ? zt_dpop_algs_text : "";
}

uint32_t zt_bind_alg_mask(void)
{
    return zt_dpop_conf.algs;
}

/* ------------------------------------------------------------------ */
/* Directives                                                          */

/* ZeroTrustDPoPAlgorithms ALG...: the proof algorithms accepted. */
const char *zt_bind_set_algs(cmd_parms *cmd, void *dconf, const char *args)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *word;
    uint32_t algs = 0, bit;

    if (err) {
        return err;
    }
    while (*(word = ap_getword_conf(cmd->temp_pool, &args)) != '\0') {
        bit = zt_alg_from_name(word, strlen(word));
        if (bit == 0 || (bit & ZT_ALG_HS_ALL)) {
            return apr_psprintf(cmd->pool, "ZeroTrustDPoPAlgorithms: '%s' is "
                                "not an asymmetric JWS algorithm (RS256..512, "
                                "PS256..512, ES256..512, EdDSA)", word);
        }
        algs |= bit;
    }
    if (algs == 0) {
        return "ZeroTrustDPoPAlgorithms needs at least one algorithm";
    }
    zt_dpop_conf.algs = algs;
    return NULL;
}

/* ZeroTrustDPoPMaxAge SECONDS [SKEW]: the window of a proof's iat. */
const char *zt_bind_set_max_age(cmd_parms *cmd, void *dconf, const char *age,
                                const char *skew)
{
    static const zt_num_spec_t ages = { ZT_NUM_SECONDS, 1, 3600, NULL, NULL },
        skews = { ZT_NUM_SECONDS, 0, 300, "clock skew", NULL };
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    uint64_t a, k = ZT_DPOP_SKEW;

    if (err || (err = zt_config_number(cmd, age, &ages, &a)) != NULL
        || (skew && (err = zt_config_number(cmd, skew, &skews, &k)) != NULL)) {
        return err;
    }
    zt_dpop_conf.max_age = (uint32_t)a;
    zt_dpop_conf.skew = (uint32_t)k;
    return NULL;
}

/* ZeroTrustDPoPNonce on [SECONDS] | off: proofs must carry our nonce. */
const char *zt_bind_set_nonce(cmd_parms *cmd, void *dconf, const char *flag,
                              const char *period)
{
    static const zt_num_spec_t periods = {
        ZT_NUM_SECONDS, 10, 86400, NULL, NULL
    };
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    uint64_t p = ZT_NONCE_PERIOD;

    if (err) {
        return err;
    }
    if (!strcasecmp(flag, "off") && !period) {
        zt_nonce_on = 0;
        return NULL;
    }
    if (strcasecmp(flag, "on")) {
        return "ZeroTrustDPoPNonce takes 'on [seconds]' or 'off'";
    }
    if (period && (err = zt_config_number(cmd, period, &periods, &p))) {
        return err;
    }
    zt_nonce_on = 1;
    zt_dpop_conf.nonce_period = (uint32_t)p;
    return NULL;
}

/* ZeroTrustDPoPReplayCache ENTRIES: the size of the shared seen-set. */
const char *zt_bind_set_replay(cmd_parms *cmd, void *dconf, const char *arg)
{
    static const zt_num_spec_t entries = {
        ZT_NUM_ENTRIES, ZT_REPLAY_MIN, ZT_REPLAY_MAX, NULL, NULL
    };
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    uint64_t n;

    if (err || (err = zt_config_number(cmd, arg, &entries, &n)) != NULL) {
        return err;
    }
    zt_replay_nslots = (uint32_t)n;
    return NULL;
}

/* ZeroTrustDPoPKeyCache ENTRIES [MAX-BYTES] | off: each process's keys. */
const char *zt_bind_set_key_cache(cmd_parms *cmd, void *dconf, const char *a1,
                                  const char *a2)
{
    return zt_config_cache(cmd, a1, a2, &zt_pkcache_conf);
}

/* ------------------------------------------------------------------ */
/* The checks                                                          */

static int zt_bind_refuse(zt_bind_refusal_t *out, int status,
                          const char *error, const char *reason,
                          const char *description)
{
    out->status = status;
    out->error = error;
    out->reason = reason;
    out->description = description;
    return 0;
}

static int zt_bind_count(void *rec, const char *key, const char *value)
{
    (*(int *)rec)++;
    return 1;
}

/*
** The request's target URI as the client addressed it: scheme of the
** connection, host and port as the Host header gave them (httpd's own
** self-referencing URL), and the path as it arrived, before decoding.
*/
static const char *zt_bind_uri(request_rec *r)
{
    const char *path = r->parsed_uri.path ? r->parsed_uri.path : r->uri;

    return ap_construct_url(r->pool, path, r);
}

/*
** DPoP-Nonce (RFC 9449 section 9): the current nonce, with the refusal
** that asks for one, or after a success with the previous period's.
*/
static void zt_bind_nonce(request_rec *r, const zt_dpop_proof_t *p,
                          int64_t now, int ok)
{
    char *n = apr_palloc(r->pool, ZT_NONCE_SIZE);

    zt_dpop_nonce(zt_nonce_key, zt_dpop_conf.nonce_period, now, n);
    if (!ok) {
        apr_table_setn(r->err_headers_out, "DPoP-Nonce", n);
    }
    else if (p->nonce == NULL || strcmp(p->nonce, n) != 0) {
        apr_table_setn(r->headers_out, "DPoP-Nonce", n);
    }
}

/* The DPoP proof of the request: exactly one DPoP field. */
static int zt_bind_dpop(request_rec *r, const zt_dpop_cnf_t *cnf,
                        const char *jwt, apr_size_t len,
                        zt_bind_refusal_t *out)
{
    int64_t now = (int64_t)apr_time_sec(r->request_time);
    const char *proof, *why;
    zt_dpop_proof_t p;
    zt_dpop_status_e st;
    unsigned char key[32];
    int n = 0;

    apr_table_do(zt_bind_count, &n, r->headers_in, "DPoP", NULL);
    /* httpd joins repeated fields with ", ", which no proof holds. */
    proof = apr_table_get(r->headers_in, "DPoP");
    if (n == 1 && strchr(proof, ',') != NULL) {
        n = 2;
    }
    if (n != 1) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_dpop_proof",
                              n ? "dpop_many" : "dpop_missing",
                              n ? "more than one DPoP header"
                                : "the DPoP scheme needs a DPoP proof header");
    }
    st = zt_dpop_verify(proof, strlen(proof), r->method, zt_bind_uri(r), jwt,
                        len, now, &zt_dpop_conf, r->pool, &p, &why);
    if (st == ZT_DPOP_NONCE || (st == ZT_DPOP_OK && zt_nonce_on)) {
        zt_bind_nonce(r, &p, now, st == ZT_DPOP_OK);
    }
    if (st != ZT_DPOP_OK) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED,
                              st == ZT_DPOP_NONCE ? "use_dpop_nonce"
                                                  : "invalid_dpop_proof",
                              zt_dpop_status_name(st), why);
    }
    if (p.key_cached) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00071)
                      "%s %s: the DPoP proof's key was imported earlier by "
                      "this process (ZeroTrustDPoPKeyCache)", r->method,
                      ap_escape_logitem(r->pool, r->uri));
    }
    if (cnf->jkt == NULL) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                              "dpop_unbound", "the token is not bound to a "
                              "DPoP key (no cnf.jkt)");
    }
    if (strcmp(cnf->jkt, p.jkt) != 0) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_dpop_proof",
                              "dpop_jkt", "the DPoP proof's key is not the "
                              "key the token is bound to");
    }
    /* Last, so that proofs refused for other reasons take no room. */
    zt_dpop_replay_key(&p, key);
    switch (zt_replay_check(zt_replay_set, key, now,
                            zt_dpop_lifetime(&zt_dpop_conf, p.iat, now))) {
    case ZT_REPLAY_FRESH:
        return 1;
    case ZT_REPLAY_SEEN:
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_dpop_proof",
                              "dpop_replay", "the DPoP proof was used before");
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00044)
                      "%s %s: the DPoP replay cache has no room for this "
                      "proof (%u entries, ZeroTrustDPoPReplayCache); "
                      "refusing it", r->method,
                      ap_escape_logitem(r->pool, r->uri),
                      zt_replay_set ? (unsigned)zt_replay_slots(zt_replay_set)
                                    : 0u);
        return zt_bind_refuse(out, HTTP_SERVICE_UNAVAILABLE, NULL,
                              "dpop_replay_full", "the server cannot take "
                              "more DPoP proofs right now");
    }
}

#define ZT_NOTE_CNF 0x1          /* zt_conn_t's cnf_* hold the memo's */

/*
** The token's cnf claim.  A kept-alive client sends the same token, and
** a token from the connection's memo is the very entry it held for the
** requests before (its claims never change): read once per entry, kept
** in the connection next to the memo, forgotten when the memo changes
** entry (zt_tcache.h: the note is then 0).  The strings point into the
** entry's claims, which the memo keeps alive.
*/
static int zt_bind_cnf(request_rec *r, const zt_token_t *tok, int memo,
                       zt_dpop_cnf_t *cnf)
{
    zt_conn_t *zc;

    if (!memo) {
        return zt_dpop_cnf_read(tok->claims, cnf);
    }
    zc = zt_conn_get(r->connection);
    if (!(zc->token.note & ZT_NOTE_CNF)) {
        zc->cnf_rc = zt_dpop_cnf_read(tok->claims, cnf);
        zc->cnf_jkt = cnf->jkt;
        zc->cnf_x5t = cnf->x5t;
        zc->token.note |= ZT_NOTE_CNF;
    }
    cnf->jkt = zc->cnf_jkt;
    cnf->x5t = zc->cnf_x5t;
    return zc->cnf_rc;
}

int zt_bind_check(request_rec *r, zt_req_t *rq, const zt_token_t *tok,
                  int memo, const char *jwt, apr_size_t len,
                  zt_bind_refusal_t *out)
{
    uint32_t need = tok->issuer ? tok->issuer->binding : ZT_BIND_NONE;
    const zt_cert_t *cert;
    zt_dpop_cnf_t cnf;

    if (zt_bind_cnf(r, tok, memo, &cnf) != 0) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                              "cnf_malformed", "the token's cnf claim is "
                              "not an object of strings");
    }
    if (rq->dpop) {
        if (!zt_bind_dpop(r, &cnf, jwt, len, out)) {
            return 0;
        }
    }
    else if (cnf.jkt != NULL) {
        return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                              "dpop_as_bearer", "the token is bound to a "
                              "DPoP key: send it with the DPoP scheme and a "
                              "proof");
    }
    if (cnf.x5t != NULL) {
        if ((cert = zt_cert_get(r)) == NULL || cert->thumb == NULL) {
            return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                                  "cnf_no_cert", "the token is bound to a "
                                  "client certificate, and the connection "
                                  "has none");
        }
        if (strcmp(cert->thumb, cnf.x5t) != 0) {
            return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                                  "cnf_mismatch", "the token is bound to "
                                  "another client certificate");
        }
    }
    if (((need & ZT_BIND_MTLS) && cnf.x5t != NULL)
        || ((need & ZT_BIND_DPOP) && cnf.jkt != NULL) || need == 0) {
        return 1;
    }
    return zt_bind_refuse(out, HTTP_UNAUTHORIZED, "invalid_token",
                          "unbound_token",
                          need == ZT_BIND_MTLS
                          ? "the token's issuer requires a token bound to a "
                            "client certificate (cnf.x5t#S256)"
                          : need == ZT_BIND_DPOP
                          ? "the token's issuer requires a DPoP-bound token "
                            "(cnf.jkt)"
                          : "the token's issuer requires a sender-constrained "
                            "token (cnf.jkt or cnf.x5t#S256)");
}
