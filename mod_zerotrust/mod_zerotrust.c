/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * mod_zerotrust: every request proves who it is and what it may do.
 *
 *   AuthType ZeroTrust        the authn hook below runs the pipeline
 *   Require  zerotrust        the authz provider grants what it decided
 *
 * mod_authz_core calls the provider first, with no user.  It grants a
 * public rule for a request without credentials (over TLS, unless
 * ZeroTrustRequireTLS is off) and otherwise answers "denied, no user", so
 * that httpd runs authentication: our check_authn hook matches the route,
 * verifies the bearer token, evaluates the table and keeps the result in
 * the request config.  Refusals are answered from the hook itself, in
 * this order: 403 (plain HTTP), 404 (no route), 400 (the query or the
 * route's contract, zt_validate.h, checked before any token; with it what
 * the headers say of the body: 400/413/415), 401 (token), 403 (policy),
 * then the body itself, read only once allowed (413/400, zt_body_filter.c);
 * so a policy refusal is a 403 whatever
 * AuthzSendForbiddenOnFailure says.  On success it sets r->user to the
 * token's subject; authz_core then calls the provider again, which reads
 * the stored decision and grants.
 *
 * Where the `Require zerotrust` line stands alone (nothing else in its
 * section, no AuthMerging And/Or or Satisfy anywhere, no .htaccess:
 * zt_config_note_require), the provider's first call runs that same
 * pipeline itself: it grants an allowed request there, which spares
 * httpd the authn hooks and authz_core's second pass, and answers a
 * refusal with "denied, no user" as before, for the authn hook to return
 * its status.  Where something may compose with the line, another
 * requirement could settle the request without us (granted by
 * <RequireAny>, denied by <RequireAll>), and the pipeline waits for
 * authentication as above, so that it runs, logs and audits only then.
 */

#include "mod_zerotrust.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_time.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "mod_auth.h"
#include "mpm_common.h"

#include "zt_keys.h"

#include <openssl/crypto.h>


APLOG_USE_MODULE(zerotrust);

#define ZT_DETAIL_404 "The requested resource is not part of this API."
#define ZT_DETAIL_401 "A valid bearer token is required."
#define ZT_DETAIL_STEPUP "Stronger or more recent authentication is required."
#define ZT_DETAIL_403 "The request is not permitted."
#define ZT_DETAIL_500 "The server is not configured to decide this request."

/* ------------------------------------------------------------------ */
/* Request state                                                       */

static int zt_collect_name(void *rec, const char *key, const char *value)
{
    *(const char **)apr_array_push((apr_array_header_t *)rec) = key;
    return 1;
}

/* Asked of every header and variable of every request: the first letter
 * decides almost always, before any case-insensitive compare. */
static int zt_is_ours(const char *name, int headers)
{
    switch (name[0]) {
    case 'Z':
    case 'z':
        return (name[1] == 'T' || name[1] == 't')
               && (name[2] == '_' || (headers && name[2] == '-'));
    case 'R':
    case 'r':
        return headers && (!strcasecmp(name, "Remote-User")
                           || !strcasecmp(name, "Remote_User"));
    case 'H':
    case 'h':
        /* A CGI variable made of such a header (mod_include's page). */
        return !headers && !strncasecmp(name, "HTTP_", 5)
               && zt_is_ours(name + 5, 1);
    default:
        return 0;
    }
}

/*
** Nothing that arrives with the request may look like our output: drop
** ZT_* variables (SetEnvIf can copy client data into them), incoming
** ZT-* / Remote-User headers (a proxied backend would read them as ours)
** and their CGI variables (HTTP_ZT_*, HTTP_REMOTE_USER), which a
** subrequest inherits from an SSI page outside the API.
*/
static void zt_strip_untrusted(request_rec *r, apr_table_t *t, int headers)
{
    const apr_array_header_t *elts = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)elts->elts;
    apr_array_header_t *names;
    int i;

    /* Almost always nothing to strip: then nothing is allocated. */
    for (i = 0; i < elts->nelts; i++) {
        if (e[i].key && zt_is_ours(e[i].key, headers)) {
            break;
        }
    }
    if (i == elts->nelts) {
        return;
    }
    names = apr_array_make(r->pool, 4, sizeof(char *));
    apr_table_do(zt_collect_name, names, t, NULL);
    for (i = 0; i < names->nelts; i++) {
        const char *name = ((const char **)names->elts)[i];

        if (zt_is_ours(name, headers)) {
            apr_table_unset(t, name);
        }
    }
}

/*
** The request's headers, walked once: strip what looks like ours (as
** zt_strip_untrusted does) and note the Authorization fields, which the
** provider's first pass and the bearer token read (an apr_table_get, a
** walk of its own, each).  Nothing we strip is an Authorization field,
** so the value noted stays the table's.
*/
static void zt_headers_in(request_rec *r, zt_req_t *rq)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int ours = 0;

    for (int i = 0; i < arr->nelts; i++) {
        const char *key = e[i].key;

        if (key == NULL) {
            continue;
        }
        if (key[0] == 'A' || key[0] == 'a') {
            /* Accept* begin with 'A' too: the second letter first. */
            if ((key[1] == 'u' || key[1] == 'U')
                && !strcasecmp(key, "Authorization")
                && rq->nauthorization++ == 0) {
                rq->authorization = e[i].val;
            }
        }
        else if (zt_is_ours(key, 1)) {
            ours = 1;
        }
    }
    if (ours) {
        zt_strip_untrusted(r, r->headers_in, 1);
    }
}

/* match and violation close zt_req_t, with nothing between or after them
 * but padding: a field added there would start unzeroed (zt_req_get). */
_Static_assert(offsetof(zt_req_t, violation)
               == offsetof(zt_req_t, match) + sizeof(zt_match_t)
               && sizeof(zt_req_t) - offsetof(zt_req_t, violation)
                  - sizeof(zt_violation_t) < _Alignof(zt_req_t),
               "zt_req_t: only match and violation may follow ZT_REQ_ZEROED");

static zt_req_t *zt_req_get(request_rec *r, const zt_dir_conf_t *conf)
{
    zt_req_t *rq = ap_get_module_config(r->request_config, &zerotrust_module);

    if (rq) {
        return rq;
    }
    rq = apr_palloc(r->pool, sizeof(*rq));
    memset(rq, 0, ZT_REQ_ZEROED);
    rq->t0 = apr_time_now();
    rq->policy = conf->policy;
    rq->feeds = conf->feeds;
    rq->decision.verdict = ZT_DENY;
    rq->decision.rule = ZT_NONE;
    rq->status = HTTP_FORBIDDEN;
    rq->auth_type = -1;
    zt_strip_untrusted(r, r->subprocess_env, 0);
    zt_headers_in(r, rq);
    zt_identity_strip(r, conf);
    ap_set_module_config(r->request_config, &zerotrust_module, rq);
    return rq;
}

static apr_status_t zt_conn_cleanup(void *data)
{
    zt_tcache_memo_clear(&((zt_conn_t *)data)->token);
    return APR_SUCCESS;
}

zt_conn_t *zt_conn_get(conn_rec *c)
{
    zt_conn_t *zc = ap_get_module_config(c->conn_config, &zerotrust_module);

    if (zc == NULL) {
        zc = apr_pcalloc(c->pool, sizeof(*zc));
        apr_pool_cleanup_register(c->pool, zc, zt_conn_cleanup,
                                  apr_pool_cleanup_null);
        ap_set_module_config(c->conn_config, &zerotrust_module, zc);
    }
    return zc;
}

static void zt_req_match(request_rec *r, zt_req_t *rq)
{
    if (!rq->matched) {
        rq->route_status = zt_route_match(rq->policy->table, r->method,
                                          r->uri, &rq->match);
        rq->matched = 1;
    }
}

/* "file:line" of the rule that decided, for logs and ZT_RULE, which every
 * allowed request sets: the policy wrote them all when it was made. */
static const char *zt_rule_where(const zt_req_t *rq)
{
    return rq->decision.rule == ZT_NONE
           ? "(default)"
           : zt_policy_rule_where(rq->policy, rq->decision.rule);
}

/* Request text fit for the error log (control bytes escaped). */
static const char *zt_esc(request_rec *r, const char *s)
{
    return s ? ap_escape_logitem(r->pool, s) : "-";
}

/* Record a refusal and audit it; the caller prepares the answer. */
static void zt_refused(request_rec *r, zt_req_t *rq, int status,
                       zt_stage_e stage, const char *reason)
{
    zt_body_unread(r, rq);
    rq->done = 1;
    rq->allowed = 0;
    rq->status = status;
    rq->stage = stage;
    rq->reason = reason;
    zt_audit_write(r, rq);
}

/* Record a refusal, audit it, and prepare its problem+json answer. */
static int zt_refuse(request_rec *r, zt_req_t *rq, int status,
                     zt_stage_e stage, const char *reason, const char *detail)
{
    zt_refused(r, rq, status, stage, reason);
    return zt_answer_problem(r, rq, status, detail);
}

static void zt_allow(request_rec *r, zt_req_t *rq, const char *reason)
{
    rq->done = 1;
    rq->allowed = 1;
    rq->status = OK;
    rq->stage = ZT_STAGE_POLICY;
    rq->reason = reason;
    /* addn: zt_req_get dropped every ZT_* variable, and ZT_RULE is set
     * once per decision (zt_check_authn unsets it before another); the
     * value is a literal or the policy's, in the configuration's pool. */
    apr_table_addn(r->subprocess_env, "ZT_RULE", zt_rule_where(rq));
    zt_audit_write(r, rq);
}

/* A request that should be decided but no table applies: fail closed. */
static int zt_no_policy(request_rec *r, const zt_dir_conf_t *conf)
{
    zt_req_t *rq = zt_req_get(r, conf);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00001)
                  "%s %s: AuthType ZeroTrust or Require zerotrust applies, "
                  "but no ZeroTrustPolicy does; refusing the request",
                  r->method, zt_esc(r, r->uri));
    return zt_refuse(r, rq, HTTP_INTERNAL_SERVER_ERROR, ZT_STAGE_CONFIG,
                     "no policy", ZT_DETAIL_500);
}

/*
** ZeroTrustRequireTLS (on unless said otherwise): a request that did not
** come over TLS is refused before its route, query or token are looked
** at.  The token already crossed the network in clear; reading it would
** only teach the client that plain HTTP works.  mod_ssl (or any module
** that answers ap_ssl_conn_is_ssl) says what TLS is; a proxy in front
** that terminates TLS is plain HTTP here, and needs the directive Off.
*/
int zt_transport_ok(request_rec *r, const zt_dir_conf_t *conf)
{
    return !conf->require_tls || ap_ssl_conn_is_ssl(r->connection);
}

static int zt_refuse_plain(request_rec *r, zt_req_t *rq)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00037)
                  "%s %s: plain HTTP refused (ZeroTrustRequireTLS is on)",
                  r->method, zt_esc(r, r->uri));
    return zt_refuse(r, rq, HTTP_FORBIDDEN, ZT_STAGE_TRANSPORT,
                     "tls_required", ZT_DETAIL_TLS);
}

/*
** AuthType ZeroTrust applies to @a r.  authn_core evaluates the AuthType
** expression anew on each ap_auth_type() (about 100 instructions), which
** authz_core's two passes and the authn hook would each ask: the answer
** is kept in @a rq (NULL: not made yet) for the rest of the request.
*/
static int zt_is_zerotrust(request_rec *r, zt_req_t *rq)
{
    const char *type;
    int ours;

    if (rq != NULL && rq->auth_type >= 0) {
        return rq->auth_type;
    }
    type = ap_auth_type(r);
    ours = type && !strcasecmp(type, ZT_AUTH_TYPE);
    if (rq != NULL) {
        rq->auth_type = ours;
    }
    return ours;
}

/* ------------------------------------------------------------------ */
/* The bearer token                                                    */

typedef enum {
    ZT_BEARER_OK = 0,
    ZT_BEARER_NONE,         /* no Authorization, or another scheme */
    ZT_BEARER_BAD           /* Bearer, but not one well-formed token68 */
} zt_bearer_e;

static int zt_is_token68(unsigned char c)
{
    return apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
           || c == '+' || c == '/';
}

/*
** Authorization: Bearer <token68>  (RFC 6750 section 2.1, RFC 9110 11.4),
** or DPoP <token68> (RFC 9449 7.1; *dpop is then 1).
** The scheme is case-insensitive; one Authorization field only (httpd
** joins repeated fields with ", ", which zt_token68_why then refuses),
** as zt_headers_in found them.
** What follows the spaces is the credentials: whether they are one
** token68 is zt_token68_why's question, asked only when the token cache
** does not hold them (what it holds passed that check).
*/
static zt_bearer_e zt_bearer(const zt_req_t *rq, const char **jwt,
                             apr_size_t *len, const char **why, int *dpop)
{
    const char *h = rq->authorization, *p;

    if (rq->nauthorization == 0 || h == NULL) {
        return ZT_BEARER_NONE;
    }
    if (rq->nauthorization > 1) {
        *why = "more than one Authorization header";
        return ZT_BEARER_BAD;
    }
    for (p = h; *p && *p != ' '; p++) {
    }
    *dpop = p - h == 4 && !strncasecmp(h, "DPoP", 4);
    if (!*dpop && (p - h != 6 || strncasecmp(h, "Bearer", 6))) {
        return ZT_BEARER_NONE;
    }
    while (*p == ' ') {
        p++;
    }
    *jwt = p;
    *len = strlen(p);
    return ZT_BEARER_OK;
}

/* Why @a len bytes at @a s are not one token68, or NULL when they are. */
static const char *zt_token68_why(const char *s, apr_size_t len)
{
    const char *p = s, *end = s + len;

    while (p < end && zt_is_token68((unsigned char)*p)) {
        p++;
    }
    while (p < end && *p == '=') {
        p++;
    }
    if (p == s) {
        return "the Bearer credentials are empty";
    }
    if (p < end) {
        return "the Bearer credentials are not a single token";
    }
    return NULL;
}

/* A subject usable as REMOTE_USER and in headers: no control bytes. */
static int zt_subject_ok(const char *sub)
{
    const unsigned char *p = (const unsigned char *)sub;

    if (!p || !*p) {
        return 0;
    }
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/*
** zt_subject_ok of the verified subject.  A cached token's subject was
** measured at the put (zt_token_ids_t): when it needs no JSON escape,
** none of its bytes is below 0x20 or from 0x7f on (zt_jescape.h), and a
** non-empty one is usable without another look.
*/
static int zt_subject_usable(const zt_req_t *rq)
{
    if (rq->sub != NULL && rq->ids != NULL && rq->ids->sub == rq->sub
        && rq->ids->sub_len > 0) {
        return 1;
    }
    return zt_subject_ok(rq->sub);
}

/*
** r->user for the verified subject: a copy, since r->user is the
** request's to change and a cached token's subject is shared.  Its length
** is known when the token cache measured it (zt_token_ids_t).
*/
static char *zt_user(request_rec *r, const zt_req_t *rq)
{
    if (rq->ids != NULL && rq->sub != NULL) {
        return apr_pmemdup(r->pool, rq->sub, (apr_size_t)rq->ids->sub_len + 1);
    }
    return apr_pstrdup(r->pool, rq->sub);
}

static int zt_refuse_token(request_rec *r, zt_req_t *rq, const char *reason,
                           const char *description)
{
    zt_answer_challenge(r, rq, "invalid_token", description);
    return zt_refuse(r, rq, HTTP_UNAUTHORIZED, ZT_STAGE_TOKEN, reason,
                     description);
}

/*
** The policy's issuers with their keys as they are now (zt_keys.h), held
** until the request ends: a key set replaced meanwhile stays alive for it.
*/
static const zt_keyring_t *zt_keyring(request_rec *r, const zt_policy_t *pol)
{
    const zt_keyring_t *ring;

    if (pol->keys == NULL) {
        return NULL;
    }
    ring = zt_keys_acquire(pol->keys);
    zt_keys_release_on(r->pool, ring);
    return ring;
}

/*
** A token named a key its issuer's current set lacks: perhaps the IdP has
** rotated.  Refetch that set (zt_keys_refetch: at most once per
** refetch_min, one fetch for all the requests that wait on it) and verify
** once more against the new one.  The untrusted "iss" only chooses which
** configured issuer's set to refetch.  An issuer without any set says so.
*/
static zt_tok_status_e zt_verify_refetch(request_rec *r,
                                         const zt_dir_conf_t *conf,
                                         const zt_policy_t *pol,
                                         zt_tcache_tag_t *tag, int64_t now,
                                         const char *jwt, apr_size_t len,
                                         zt_token_t *tok, const char **reason)
{
    const zt_jnode_t *iss = zt_jdoc_get(tok->claims, "iss");
    zt_tok_status_e st = ZT_TOK_UNKNOWN_KEY;
    const zt_keyring_t *ring;
    int i;

    if (iss == NULL || iss->type != ZT_J_STR) {
        return st;
    }
    i = zt_keys_issuer_index(pol->keys, zt_jnode_str(iss), iss->u.s.len);
    if (i < 0) {
        return st;
    }
    if (zt_keys_refetch(pol->keys, i, tag->generations[i])) {
        ring = zt_keyring(r, pol);
        tag->issuers = ring->issuers;
        tag->generations = ring->generations;
        memset(tok, 0, sizeof(*tok));
        st = zt_token_verify(jwt, len, ring->issuers, ring->nissuers, now,
                             conf->token_max, r->pool, tok, reason);
    }
    if (st == ZT_TOK_UNKNOWN_KEY && tag->generations[i] == 0) {
        *reason = "the issuer's keys are not available";
    }
    return st;
}

/*
** The claims' view for the policy's table (zt_eval_view), unless the
** token cache kept one: looked up once per token, not per decision.
*/
static void zt_token_view(request_rec *r, const zt_policy_t *pol, zt_token_t *tok)
{
    uint32_t n = zt_eval_view_size(pol->table);
    uint32_t *view;

    if (tok->claim_view != NULL && tok->nview == n) {
        return;
    }
    view = apr_palloc(r->pool, ((apr_size_t)n + 1) * sizeof(*view));
    zt_eval_view(pol->table, tok->claims, view);
    tok->claim_view = view;
    tok->nview = n;
}

/*
** The generation of each issuer's current key set, for a token cache
** lookup: atomic reads, without the keyring's lock and reference, which
** every request would otherwise take on one mutex per policy.  NULL when
** the policy's keys are all in the table (their generation is fixed).
*/
static const uint64_t *zt_key_generations(request_rec *r,
                                          const zt_policy_t *pol,
                                          uint64_t *buf, int nbuf)
{
    uint64_t *gens;

    if (pol->keys == NULL) {
        return NULL;
    }
    gens = pol->nissuers <= nbuf
           ? buf : apr_palloc(r->pool, pol->nissuers * sizeof(*gens));
    for (int i = 0; i < pol->nissuers; i++) {
        gens[i] = zt_keys_generation(pol->keys, i);
    }
    return gens;
}

/*
** zt_token_verify behind this process's verified-token cache (zt_tcache.h).
** The tag keeps tables, issuers and key-set generations apart; a hit must
** fit this section's size limit.  Only a miss takes the keyring.
** Credentials the cache does not hold must first be one token68: when
** they are not, *malformed says why and nothing is verified.  *memo is 1
** when *tok is the entry the connection's memo now holds.
*/
static zt_tok_status_e zt_verify_cached(request_rec *r,
                                        const zt_dir_conf_t *conf,
                                        const zt_policy_t *pol,
                                        const char *jwt, apr_size_t len,
                                        zt_token_t *tok, int *memo,
                                        const char **reason,
                                        const char **malformed)
{
    zt_tcache_t *cache = zt_config_tcache();
    int64_t now = (int64_t)apr_time_sec(r->request_time);
    apr_size_t max = conf->token_max ? conf->token_max : ZT_TOKEN_MAX_LEN;
    uint64_t gens[8];
    /* A hit's issuer is only read for its configuration (iss, binding),
     * which the policy's issuers and every keyring's share. */
    zt_tcache_tag_t tag = { pol->table->sha256, pol->issuers,
                            (uint32_t)pol->nissuers, NULL };
    const zt_keyring_t *ring;
    zt_tok_status_e st;

    *malformed = NULL;
    *memo = 0;
    if (cache && len <= max) {
        tag.generations = zt_key_generations(r, pol, gens, 8);
        /* A kept-alive client sends the same token again: the
         * connection's memo answers first (zt_tcache_get_memo). */
        if (zt_tcache_get_memo(cache, &zt_conn_get(r->connection)->token,
                               jwt, len, &tag, now, r->pool, tok)) {
            *memo = 1;
            /* Inside the window exp, nbf and iat leave (zt_tcache.h). */
            *reason = "the token is valid";
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00028)
                          "%s %s: token verified earlier by this process "
                          "(token cache), within its exp, nbf and iat",
                          r->method, zt_esc(r, r->uri));
            return ZT_TOK_OK;
        }
    }
    if ((*malformed = zt_token68_why(jwt, len)) != NULL) {
        return ZT_TOK_MALFORMED;
    }
    if ((ring = zt_keyring(r, pol)) != NULL) {
        tag.issuers = ring->issuers;
        tag.generations = ring->generations;
    }
    st = zt_token_verify(jwt, len, tag.issuers, pol->nissuers, now,
                         conf->token_max, r->pool, tok, reason);
    if (st == ZT_TOK_UNKNOWN_KEY && ring != NULL) {
        st = zt_verify_refetch(r, conf, pol, &tag, now, jwt, len, tok, reason);
    }
    if (st == ZT_TOK_OK) {
        zt_token_view(r, pol, tok);
    }
    if (st == ZT_TOK_OK && cache) {
        zt_tcache_put(cache, jwt, len, &tag, now, tok);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* The pipeline: route, input, token, decision                         */

/*
** Route matched: the request's facts, then its route's contract
** (zt_validate.h), once per request.  Returns 1 when the input is valid.
** Both run before any token is looked at, so that a request that breaks
** the contract is a 400 with or without one: 404 route, 400 input,
** 401 token, 403 policy.
*/
static int zt_input_valid(request_rec *r, zt_req_t *rq)
{
    if (zt_request_build(r, rq) != NULL) {
        return 0;
    }
    if (!rq->validated) {
        rq->validated = 1;
        rq->invalid = zt_validate_request(rq->policy->table, &rq->facts,
                                          &rq->violation) != 0;
    }
    return !rq->invalid && zt_body_head(r, rq) == NULL;
}

/* A refused body (zt_body_filter.c): log, audit, answer; or, when httpd
 * has answered it as it read the body, only log and audit what it sent
 * (AP_FILTER_ERROR: ap_die sends nothing more). */
static int zt_refuse_body(request_rec *r, zt_req_t *rq,
                          const zt_body_refusal_t *x)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00058)
                  "%s %s: %d, the request body is refused: %s%s", r->method,
                  zt_esc(r, r->uri), x->status, x->reason,
                  x->answered ? " (answered by httpd)" : "");
    zt_refused(r, rq, x->status, ZT_STAGE_INPUT, x->reason);
    if (x->answered) {
        rq->answered = 1;
        return AP_FILTER_ERROR;
    }
    return zt_answer_body_refusal(r, rq, x);
}

/* The 400 of a refused query string or a broken contract. */
static int zt_input(request_rec *r, zt_req_t *rq)
{
    const zt_violation_t *v = &rq->violation;
    const char *problem, *reason, *name, *why;
    char text[512], whybuf[ZT_VIOLATION_WHY_SIZE];

    if (zt_input_valid(r, rq)) {
        return OK;
    }
    if (zt_request_build(r, rq) == NULL && !rq->invalid) {
        return zt_refuse_body(r, rq, zt_body_head(r, rq));
    }
    if ((problem = zt_request_build(r, rq)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00031)
                      "%s %s: query string refused: %s", r->method,
                      zt_esc(r, r->uri), problem);
        zt_refused(r, rq, HTTP_BAD_REQUEST, ZT_STAGE_INPUT, "bad query");
        return zt_answer_invalid(r, rq, apr_pstrcat(r->pool, "The query "
                                 "string is not valid: ", problem, ".", NULL),
                                 "query", problem);
    }
    /* The violation's text is printable ASCII: fit for the log, the
     * audit record and the answer as it is. */
    reason = apr_pstrdup(r->pool, zt_violation_text(v, text, sizeof(text)));
    name = apr_pstrcat(r->pool, zt_violation_where(v), ".", v->name, NULL);
    why = apr_pstrdup(r->pool, zt_violation_why(v, whybuf, sizeof(whybuf)));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00033)
                  "%s %s: the request breaks the contract of its route: %s",
                  r->method, zt_esc(r, r->uri), reason);
    zt_refused(r, rq, HTTP_BAD_REQUEST, ZT_STAGE_INPUT, reason);
    return zt_answer_invalid(r, rq, apr_pstrcat(r->pool, "The request does "
                             "not match the API contract: ", reason, ".",
                             NULL), name, why);
}

/* A verified token whose binding does not hold (zt_bind.c). */
static int zt_refuse_binding(request_rec *r, zt_req_t *rq,
                             const zt_bind_refusal_t *b)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00043)
                  "%s %s: token of subject %s refused (%s): %s", r->method,
                  zt_esc(r, r->uri), zt_esc(r, rq->sub), b->reason,
                  b->description);
    if (b->error) {
        zt_answer_challenge(r, rq, b->error, b->description);
    }
    return zt_refuse(r, rq, b->status, ZT_STAGE_TOKEN, b->reason,
                     b->description);
}

/*
** Which part of the route's step-up requirement the token misses, for the
** audit record, the log and error_description.  The evaluator decided;
** this only names the reason, reading the same two claims (RFC 9470).
*/
static const char *zt_stepup_reason(const zt_table_t *t, uint32_t stepup,
                                    const zt_request_t *f, const char **desc)
{
    const zt_stepup_rec_t *st = &t->stepups[stepup];
    zt_val_t acr, at;
    uint32_t i;
    int listed = st->acr_count == 0;

    zt_claims_get(f->claims, "acr", 1, &acr);
    for (i = 0; !listed && i < st->acr_count; i++) {
        const char *v = zt_stepup_acr(t, st, i);

        listed = acr.type == ZT_V_STR && acr.len == strlen(v)
                 && memcmp(acr.s, v, acr.len) == 0;
    }
    if (!listed) {
        *desc = acr.type == ZT_V_MISSING
                ? "the token has no acr claim; a listed acr is required"
                : "the token's acr is not one this resource accepts";
        return acr.type == ZT_V_MISSING ? "stepup: no acr" : "stepup: acr";
    }
    zt_claims_get(f->claims, "auth_time", 1, &at);
    if (at.type != ZT_V_INT) {
        *desc = "the token has no auth_time claim; recent authentication "
                "is required";
        return "stepup: no auth_time";
    }
    *desc = "the authentication (auth_time) is older than max_age allows";
    return "stepup: auth_time";
}

static int zt_refuse_malformed(request_rec *r, zt_req_t *rq, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00013)
                  "%s %s: malformed Authorization header: %s",
                  r->method, zt_esc(r, r->uri), why);
    return zt_refuse_token(r, rq, "malformed", why);
}

static int zt_refuse_stepup(request_rec *r, zt_req_t *rq)
{
    const zt_table_t *t = rq->policy->table;
    const zt_stepup_rec_t *st = &t->stepups[rq->decision.stepup];
    const char *desc = NULL;
    const char *reason = zt_stepup_reason(t, rq->decision.stepup, &rq->facts,
                                          &desc);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00032)
                  "%s %s: allowed by %s, but the step-up of %s:%u is not "
                  "met for subject %s (%s)", r->method, zt_esc(r, r->uri),
                  zt_rule_where(rq), zt_table_str(t, st->file),
                  (unsigned int)st->line, zt_esc(r, rq->sub), reason);
    zt_answer_stepup(r, rq, rq->decision.stepup, desc);
    return zt_refuse(r, rq, HTTP_UNAUTHORIZED, ZT_STAGE_POLICY, reason,
                     ZT_DETAIL_STEPUP);
}

static int zt_pipeline(request_rec *r, const zt_dir_conf_t *conf,
                       zt_req_t *rq)
{
    const zt_policy_t *pol = rq->policy;
    const char *jwt = NULL, *why = NULL, *reason = NULL;
    const zt_body_refusal_t *refusal;
    apr_size_t len = 0;
    zt_tok_status_e st;
    zt_token_t tok;
    int memo;
    zt_bind_refusal_t unbound;

    if (!zt_transport_ok(r, conf)) {
        return zt_refuse_plain(r, rq);
    }
    zt_req_match(r, rq);
    if (rq->route_status != ZT_ROUTE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00003)
                      "%s %s: %s", r->method, zt_esc(r, r->uri),
                      rq->route_status == ZT_ROUTE_NONE
                      ? "no declared route matches" : "path refused");
        return zt_refuse(r, rq, HTTP_NOT_FOUND, ZT_STAGE_ROUTE,
                         rq->route_status == ZT_ROUTE_NONE
                         ? "undeclared route" : "bad path", ZT_DETAIL_404);
    }
    if (zt_input(r, rq) != OK) {
        return rq->status;
    }

    switch (zt_bearer(rq, &jwt, &len, &why, &rq->dpop)) {
    case ZT_BEARER_NONE:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00004)
                      "%s %s: no bearer token", r->method, zt_esc(r, r->uri));
        zt_answer_challenge(r, rq, NULL, NULL);
        return zt_refuse(r, rq, HTTP_UNAUTHORIZED, ZT_STAGE_TOKEN,
                         "no token", ZT_DETAIL_401);
    case ZT_BEARER_BAD:
        return zt_refuse_malformed(r, rq, why);
    case ZT_BEARER_OK:
        break;
    }

    /* tok is written whole by the cache or zt_token_verify, or (bad
     * credentials: why) not at all, and then not read. */
    st = zt_verify_cached(r, conf, pol, jwt, len, &tok, &memo, &reason,
                          &why);
    if (why != NULL) {
        return zt_refuse_malformed(r, rq, why);
    }
    if (st != ZT_TOK_OK) {
        if (!reason) {
            reason = "the token is not valid";
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00005)
                      "%s %s: token refused (%s): %s", r->method,
                      zt_esc(r, r->uri), zt_tok_status_name(st), reason);
        return zt_refuse_token(r, rq, zt_tok_status_name(st), reason);
    }
    rq->iss = tok.issuer ? tok.issuer->iss : NULL;
    rq->sub = tok.sub;
    rq->azp = tok.azp;
    rq->ids = tok.ids;
    if (!zt_bind_check(r, rq, &tok, memo, jwt, len, &unbound)) {
        return zt_refuse_binding(r, rq, &unbound);
    }

    zt_token_view(r, pol, &tok);
    rq->facts.claims = tok.claims;
    rq->facts.claim_view = tok.claim_view;
    zt_eval_decide(pol->table, &rq->facts, &rq->decision);
    switch (rq->decision.verdict) {
    case ZT_ALLOW:
        break;
    case ZT_STEPUP:
        return zt_refuse_stepup(r, rq);
    case ZT_NEED_TOKEN:
        /* Cannot happen with claims; answered as the header says. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00018)
                      "%s %s: the policy asks for a token", r->method,
                      zt_esc(r, r->uri));
        zt_answer_challenge(r, rq, NULL, NULL);
        return zt_refuse(r, rq, HTTP_UNAUTHORIZED, ZT_STAGE_POLICY,
                         "token needed", ZT_DETAIL_401);
    case ZT_DENY:
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00006)
                      "%s %s: denied %s %s for subject %s", r->method,
                      zt_esc(r, r->uri),
                      rq->decision.rule == ZT_NONE ? "by default," : "by",
                      rq->decision.rule == ZT_NONE ? "no rule allows"
                                                   : zt_rule_where(rq),
                      zt_esc(r, rq->sub));
        return zt_refuse(r, rq, HTTP_FORBIDDEN, ZT_STAGE_POLICY,
                         rq->decision.rule == ZT_NONE ? "no rule allows"
                                                      : "denied by rule",
                         ZT_DETAIL_403);
    }

    if (!zt_subject_usable(rq)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00012)
                      "%s %s: allowed by %s, but the token has no usable "
                      "subject", r->method, zt_esc(r, r->uri),
                      zt_rule_where(rq));
        rq->sub = NULL;
        return zt_refuse_token(r, rq, "no subject",
                               "the token has no usable subject");
    }
    if ((refusal = zt_body_read(r, rq)) != NULL) {
        return zt_refuse_body(r, rq, refusal);
    }
    r->user = zt_user(r, rq);
    r->ap_auth_type = (char *)ZT_AUTH_TYPE;
    /* addn: none is there (zt_req_get dropped every ZT_* variable; an
     * allowed request with a subject is not decided again); the claims
     * live as long as r->pool (a cached token's too: zt_tcache.h), the
     * issuer as long as the configuration. */
    apr_table_addn(r->subprocess_env, "ZT_SUBJECT", rq->sub);
    if (rq->iss) {
        apr_table_addn(r->subprocess_env, "ZT_ISSUER", rq->iss);
    }
    zt_identity_set(r, conf, rq->facts.claims);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00007)
                  "%s %s: allowed by %s for subject %s", r->method,
                  zt_esc(r, r->uri), zt_rule_where(rq),
                  zt_esc(r, rq->sub));
    zt_allow(r, rq, "allowed");
    return OK;
}

/* ------------------------------------------------------------------ */
/* Hooks and the authz provider                                        */

static int zt_check_authn(request_rec *r)
{
    const zt_dir_conf_t *conf;
    zt_req_t *rq = ap_get_module_config(r->request_config, &zerotrust_module);

    if (!zt_is_zerotrust(r, rq)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &zerotrust_module);
    if (!conf->policy) {
        return zt_no_policy(r, conf);
    }
    rq = zt_req_get(r, conf);
    rq->auth_type = 1;
    if (rq->done) {
        if (!rq->allowed) {
            return rq->answered ? AP_FILTER_ERROR : rq->status;
        }
        if (rq->sub) {
            r->user = zt_user(r, rq);
            r->ap_auth_type = (char *)ZT_AUTH_TYPE;
            return OK;
        }
        /* A public rule granted, but another requirement of the section
         * wants a user: decide again, now a token is needed. */
        rq->done = rq->audited = rq->allowed = 0;
        apr_table_unset(r->subprocess_env, "ZT_RULE");
    }
    return zt_pipeline(r, conf, rq);
}

/* A .htaccess file took part in @a r's configuration: it may compose
 * requirements with ours (AuthMerging), which no start-up check sees. */
static int zt_htaccess_applied(const request_rec *r)
{
    for (const struct htaccess_result *h = r->htaccess; h; h = h->next) {
        if (h->htaccess != NULL) {
            return 1;
        }
    }
    return 0;
}

static authz_status zt_authz_check(request_rec *r, const char *line,
                                   const void *parsed)
{
    const zt_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                     &zerotrust_module);
    zt_req_t *rq = ap_get_module_config(r->request_config, &zerotrust_module);

    if (!conf->policy) {
        zt_no_policy(r, conf);
        return AUTHZ_GENERAL_ERROR;
    }
    if (!zt_is_zerotrust(r, rq)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00002)
                      "%s %s: Require zerotrust needs AuthType ZeroTrust "
                      "(AuthType is %s); refusing the request", r->method,
                      zt_esc(r, r->uri),
                      ap_auth_type(r) ? ap_auth_type(r) : "not set");
        rq = zt_req_get(r, conf);
        rq->auth_type = 0;
        zt_refuse(r, rq, HTTP_INTERNAL_SERVER_ERROR, ZT_STAGE_CONFIG,
                  "no AuthType ZeroTrust", ZT_DETAIL_500);
        return AUTHZ_GENERAL_ERROR;
    }
    rq = zt_req_get(r, conf);
    rq->auth_type = 1;
    if (rq->done) {
        /* Second call, after our authn hook set r->user. */
        if (rq->allowed && (rq->sub == NULL
                            || (r->user && !strcmp(r->user, rq->sub)))) {
            return AUTHZ_GRANTED;
        }
        return AUTHZ_DENIED;
    }
    if (r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00017)
                      "%s %s: user %s was authenticated by another module; "
                      "Require zerotrust only trusts a verified token",
                      r->method, zt_esc(r, r->uri), zt_esc(r, r->user));
        return AUTHZ_GENERAL_ERROR;
    }
    /* First call, no user yet: a public rule needs no credentials (but
     * TLS: plain HTTP goes on to the authn hook, which refuses it). */
    if (rq->nauthorization == 0 && zt_transport_ok(r, conf)) {
        zt_req_match(r, rq);
        /* Invalid input is answered (400) by the authn hook. */
        if (rq->route_status == ZT_ROUTE_OK && zt_input_valid(r, rq)) {
            rq->facts.claims = NULL;
            rq->facts.claim_view = NULL;
            zt_eval_decide(rq->policy->table, &rq->facts, &rq->decision);
            if (rq->decision.verdict == ZT_ALLOW) {
                const zt_body_refusal_t *x = zt_body_read(r, rq);

                if (x != NULL) {
                    /* Recorded and answered; the authn hook, which
                     * authz_core calls next, returns its status. */
                    zt_refuse_body(r, rq, x);
                    return AUTHZ_DENIED_NO_USER;
                }
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00008)
                              "%s %s: public, allowed by %s", r->method,
                              zt_esc(r, r->uri), zt_rule_where(rq));
                zt_allow(r, rq, "public");
                return AUTHZ_GRANTED;
            }
        }
    }
    if (zt_config_require_alone(parsed) && !zt_htaccess_applied(r)) {
        /* Nothing composes with this line: decide now, as the authn hook
         * would, which then only answers a refusal (rq->done). */
        return zt_pipeline(r, conf, rq) == OK ? AUTHZ_GRANTED
                                              : AUTHZ_DENIED_NO_USER;
    }
    return AUTHZ_DENIED_NO_USER;
}

static const char *zt_authz_parse(cmd_parms *cmd, const char *line,
                                  const void **parsed)
{
    const char *args = cmd->directive ? cmd->directive->args : NULL;

    if (line && *line) {
        return "Require zerotrust takes no arguments: the policy is named "
               "by ZeroTrustPolicy";
    }
    if (args && !strncasecmp(args, "not", 3) && apr_isspace(args[3])) {
        return "Require not zerotrust is not supported: the policy itself "
               "says what is refused";
    }
    /* The same negation as a section: what the table refuses would pass
     * <RequireNone> (a request it refuses before a token is even looked
     * at, unrecorded), and a sibling such as Require ip would grant it. */
    for (const ap_directive_t *d = cmd->directive ? cmd->directive->parent
                                                  : NULL;
         d != NULL; d = d->parent) {
        if (d->directive && !strcasecmp(d->directive, "<RequireNone")) {
            return "Require zerotrust inside <RequireNone> is not "
                   "supported: the policy itself says what is refused";
        }
    }
    *parsed = zt_config_note_require(cmd);
    return NULL;
}

static const authz_provider zt_authz_provider = {
    &zt_authz_check,
    &zt_authz_parse,
};

static int zt_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, ZT_AUTH_TYPE)) {
        return DECLINED;
    }
    zt_answer_challenge(r, ap_get_module_config(r->request_config,
                                                &zerotrust_module),
                        NULL, NULL);
    return OK;
}

static int zt_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    zt_config_pre(pconf);
    zt_bind_pre_config(pconf);
    return OK;
}

static int zt_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    return zt_config_check(pconf, s);
}

static int zt_open_logs(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    return zt_audit_open(pconf, s);
}

static int zt_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    zt_config_post(s);
    return zt_bind_post_config(pconf, s);
}

static void zt_child_init_tcache(apr_pool_t *pchild, server_rec *s)
{
    zt_config_child_init(pchild, s);
}

static void zt_child_init_keys(apr_pool_t *pchild, server_rec *s)
{
    zt_config_child_keys(pchild, s);
}

static void zt_child_stopping(apr_pool_t *pchild, int graceful)
{
    zt_audit_child_stopping(ap_server_conf);
}

static void zt_register_hooks(apr_pool_t *p)
{
    /* Our keys are freed by pool cleanups, which apr_terminate() runs from
     * atexit() in every child; OpenSSL's own atexit handler, registered
     * later, would run first and free what EVP_PKEY_free() then touches.
     * (mod_ssl, when loaded first, initialises OpenSSL the same way.) */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
    ap_hook_post_config(zt_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(zt_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(zt_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_open_logs(zt_open_logs, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zt_child_init_tcache, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zt_child_init_keys, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zt_bind_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zt_audit_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(zt_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(zt_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(zt_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "zerotrust",
                              AUTHZ_PROVIDER_VERSION, &zt_authz_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    zt_answer_register_hooks(p);
    zt_identity_register_hooks(p);
    zt_metadata_register_hooks(p);
    zt_body_register_hooks(p);
}

/* Declared by hand (not AP_DECLARE_MODULE): APLOG_USE_MODULE above
 * already names it for the log calls of this file. */
module AP_MODULE_DECLARE_DATA zerotrust_module = {
    STANDARD20_MODULE_STUFF,
    zt_config_create_dir,
    zt_config_merge_dir,
    zt_config_create_srv,
    zt_config_merge_srv,
    zt_config_cmds,
    zt_register_hooks,
    AP_MODULE_FLAG_NONE
};
