/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * A request described by a person (`zpc explain`) or a test block (`zpc
 * test`) made into what the module's evaluator reads: the matched route,
 * the decoded query, the client address, headers, certificate, TLS
 * version, time and claims.  The module gets these from httpd; here they
 * come from text, so everything the evaluator then computes is the
 * module's own code on the same inputs.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "zpc_tools.h"
#include "zt_ascii.h"
#include "zt_body.h"
#include "zt_jdoc.h"
#include "zt_validate.h"

const zt_claims_t *zpc_claims_from_json(const json_t *claims, apr_pool_t *pool)
{
    const zt_claims_t *c = NULL;
    const char *err = NULL;
    char *text;

    if (claims == NULL) {
        return NULL;
    }
    /* The token stage's own reader, on the claims as compact JSON: what
     * the module would have made of a token carrying them. */
    text = json_dumps(claims, JSON_COMPACT);
    if (text != NULL) {
        c = zt_jdoc_parse(text, strlen(text), strlen(text), pool, &err);
        free(text);
    }
    return c;
}

/*
 * Percent-decode the path the way Apache serves it to the module: once,
 * strictly.  An encoded slash or NUL never reaches a capture (Apache's
 * AllowEncodedSlashes Off answers 404), nor does an invalid escape.
 */
static const char *zpc_req_path(zpc_req_t *r, const char *raw, apr_size_t len,
                                apr_pool_t *pool)
{
    char *out = apr_palloc(pool, len + 1), *o = out;

    for (apr_size_t i = 0; i < len; i++) {
        if (raw[i] != '%') {
            *o++ = raw[i];
            continue;
        }
        if (i + 2 >= len) {
            r->path_err = "an incomplete percent escape in the path";
            break;
        }
        {
            int hi = zt_hexval((unsigned char)raw[i + 1]);
            int lo = hi < 0 ? -1 : zt_hexval((unsigned char)raw[i + 2]);
            if (hi < 0 || lo < 0) {
                r->path_err = "an invalid percent escape in the path";
                break;
            }
            if (hi * 16 + lo == '/' || hi * 16 + lo == 0) {
                r->path_err = "an encoded slash or NUL in the path";
                break;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
    }
    *o = '\0';
    return out;
}

static const char *zpc_req_header(void *ctx, const char *lname)
{
    const zpc_req_t *r = ctx;

    for (int i = 0; r->headers != NULL && i + 1 < r->headers->nelts; i += 2) {
        if (strcasecmp(APR_ARRAY_IDX(r->headers, i, const char *), lname) == 0) {
            return APR_ARRAY_IDX(r->headers, i + 1, const char *);
        }
    }
    return NULL;
}

const char *zpc_req_prepare(zpc_req_t *r, const zt_table_t *t, apr_pool_t *pool)
{
    const char *from = r->from != NULL ? r->from : "127.0.0.1";
    const char *q = strchr(r->target, '?');
    apr_size_t plen = q != NULL ? (apr_size_t)(q - r->target) : strlen(r->target);
    zt_request_t *rq = &r->rq;

    memset(rq, 0, sizeof(*rq));
    if (inet_pton(AF_INET, from, rq->ip) == 1) {
        rq->ip_family = 4;
    }
    else if (inet_pton(AF_INET6, from, rq->ip) == 1) {
        rq->ip_family = 6;
    }
    else {
        return apr_psprintf(pool, "'%s' is not an IPv4 or IPv6 address",
                            zpc_escape(from, strlen(from), 0, pool));
    }

    r->path_err = NULL;
    r->path = zpc_req_path(r, r->target, plen, pool);
    r->match.route = ZT_NONE;
    r->route = r->path_err != NULL ? ZT_ROUTE_BAD_PATH
               : zt_route_match(t, r->method, r->path, &r->match);
    if (r->route == ZT_ROUTE_BAD_PATH && r->path_err == NULL) {
        r->path_err = "not a canonical path (empty or dot segment, control "
                      "byte, or too many segments)";
    }

    r->query_err = NULL;
    r->nquery = 0;
    r->query = apr_pcalloc(pool, sizeof(*r->query) * (ZPC_MAX_QUERY + 1));
    if (q != NULL && q[1] != '\0') {
        char *buf = apr_palloc(pool, strlen(q + 1) + 1);
        const char *err = NULL;
        int n = zt_query_parse(q + 1, buf, r->query, ZPC_MAX_QUERY + 1, &err);

        if (n < 0) {
            r->query_err = apr_pstrcat(pool, "the query string: ",
                                       err != NULL ? err : "refused", NULL);
        }
        else if (n > ZPC_MAX_QUERY) {
            r->query_err = apr_psprintf(pool, "more than %d query parameters",
                                        ZPC_MAX_QUERY);
        }
        else {
            r->nquery = (uint32_t)n;
        }
    }

    r->san = NULL;
    if (r->cert_san != NULL) {
        r->san = (const char *const *)r->cert_san->elts;
        rq->ncert_san = (uint32_t)r->cert_san->nelts;
    }
    rq->match = &r->match;
    rq->claims = zpc_claims_from_json(r->claims, pool);
    rq->query = r->query;
    rq->nquery = r->nquery;
    rq->header = zpc_req_header;
    rq->header_ctx = r;
    rq->cert = r->cert;
    rq->cert_subject = r->cert_subject;
    rq->cert_san = r->san;
    rq->tls_version = r->tls;
    rq->now = r->now;
    return NULL;
}

const char *zpc_req_text(const zpc_req_t *r, apr_pool_t *pool)
{
    const char *text = apr_pstrcat(pool, r->method, " ",
                                   zpc_escape(r->target, strlen(r->target), 0, pool),
                                   " from ", r->from != NULL ? r->from : "127.0.0.1",
                                   ", ", r->tls != NULL ? r->tls : "plain HTTP",
                                   NULL);

    for (int i = 0; r->headers != NULL && i + 1 < r->headers->nelts; i += 2) {
        const char *n = APR_ARRAY_IDX(r->headers, i, const char *);
        const char *v = APR_ARRAY_IDX(r->headers, i + 1, const char *);
        text = apr_pstrcat(pool, text, ", header ", zpc_escape(n, strlen(n), 1, pool),
                           " ", zpc_escape(v, strlen(v), 1, pool), NULL);
    }
    if (r->body) {
        text = apr_pstrcat(pool, text, ", body ",
                           r->body_type != NULL
                           ? zpc_escape(r->body_type, strlen(r->body_type), 1, pool)
                           : "without Content-Type",
                           r->body_text != NULL
                           ? apr_psprintf(pool, " (%" APR_SIZE_T_FMT " bytes)",
                                          r->body_len)
                           : " (none)", NULL);
    }
    if (r->cert) {
        text = apr_pstrcat(pool, text, ", client cert", NULL);
        if (r->cert_subject != NULL) {
            text = apr_pstrcat(pool, text, " subject ",
                               zpc_escape(r->cert_subject, strlen(r->cert_subject),
                                          1, pool), NULL);
        }
        for (int i = 0; r->cert_san != NULL && i < r->cert_san->nelts; i++) {
            const char *s = APR_ARRAY_IDX(r->cert_san, i, const char *);
            text = apr_pstrcat(pool, text, i == 0 ? " san " : " ",
                               zpc_escape(s, strlen(s), 1, pool), NULL);
        }
    }
    if (r->claims != NULL) {
        char *json = json_dumps(r->claims, JSON_COMPACT | JSON_SORT_KEYS
                                           | JSON_ENSURE_ASCII);
        text = apr_pstrcat(pool, text, ", token ",
                           json != NULL ? zpc_escape(json, strlen(json), 0, pool)
                                        : "?", NULL);
        free(json);
    }
    else {
        text = apr_pstrcat(pool, text, ", no token", NULL);
    }
    return text;
}

int zpc_req_node_holds(const zt_table_t *t, const zpc_req_t *r,
                       uint32_t node, apr_pool_t *pool)
{
    zt_table_t probe = *t;
    zt_rule_rec_t *rules = apr_palloc(pool, sizeof(*rules) * (t->nrules + 1));
    zt_route_rec_t *routes = apr_palloc(pool, sizeof(*routes) * t->nroutes);
    uint32_t *rref = apr_palloc(pool, sizeof(*rref));
    zt_route_rec_t *route = &routes[r->match.route];
    zt_decision_t d;

    memcpy(rules, t->rules, sizeof(*rules) * t->nrules);
    memset(&rules[t->nrules], 0, sizeof(*rules));
    rules[t->nrules].effect = ZT_EFFECT_ALLOW;
    rules[t->nrules].flags = ZT_RULE_PUBLIC;
    rules[t->nrules].cond = node;
    rules[t->nrules].file = t->rules != NULL && t->nrules > 0 ? t->rules[0].file : 0;
    memcpy(routes, t->routes, sizeof(*routes) * t->nroutes);
    *rref = t->nrules;
    route->rref_first = 0;
    route->rref_count = 1;
    route->stepup = ZT_NONE;
    probe.rules = rules;
    probe.nrules = t->nrules + 1;
    probe.routes = routes;
    probe.rrefs = rref;
    probe.nrrefs = 1;
    probe.prog = NULL;      /* the programs were compiled from the real rules */
    zt_eval_decide(&probe, &r->rq, &d);
    return d.verdict == ZT_ALLOW;
}

const char *zpc_expect_name(int expect)
{
    static const char *const names[] = {
        [ZPC_EXPECT_ALLOW] = "allow", [ZPC_EXPECT_DENY] = "deny",
        [ZPC_EXPECT_STEPUP] = "stepup", [ZPC_EXPECT_TOKEN] = "token",
        [ZPC_EXPECT_NOTFOUND] = "notfound", [ZPC_EXPECT_INVALID] = "invalid",
        [ZPC_EXPECT_TOOLARGE] = "toolarge", [ZPC_EXPECT_MEDIATYPE] = "mediatype",
    };

    return expect >= 0 && expect <= ZPC_EXPECT_MEDIATYPE ? names[expect] : "?";
}

/*
** The body's headers, before the token, as zt_body_filter.c checks them:
** the test's body is sent with a Content-Length (0 is no body), `body
** none` with neither.  1 when that refuses the request.
*/
static int zpc_req_body_head(const zt_table_t *t, const zpc_req_t *r,
                             zpc_outcome_t *o, apr_pool_t *pool)
{
    uint32_t bi = t->routes[r->match.route].body;
    const zt_body_rec_t *b = bi == ZT_NONE ? NULL : &t->bodies[bi];
    int64_t len = r->body_text != NULL ? (int64_t)r->body_len : -1;

    switch (zt_body_precheck(b, len > 0, len, r->body_type)) {
    case ZT_BODY_UNDECLARED:
        o->outcome = ZPC_EXPECT_TOOLARGE;
        o->why = apr_psprintf(pool, "body: found %" APR_INT64_T_FMT " bytes, "
                              "expected no body (this route declares none)",
                              len);
        return 1;
    case ZT_BODY_MISSING:
        o->outcome = ZPC_EXPECT_INVALID;
        o->why = b->kind == ZT_BODY_JSON ? "body: found no body, expected a "
                                           "JSON body"
                                         : "body: found no body, expected an "
                                           "XML body";
        return 1;
    case ZT_BODY_MEDIA_TYPE:
        o->outcome = ZPC_EXPECT_MEDIATYPE;
        o->why = apr_psprintf(pool, "header.content-type: found %s, expected %s",
                              r->body_type != NULL
                              ? zpc_escape(r->body_type, strlen(r->body_type),
                                           1, pool) : "missing",
                              zt_body_type_expected(b->kind));
        return 1;
    case ZT_BODY_TOO_LARGE:
        o->outcome = ZPC_EXPECT_TOOLARGE;
        o->why = apr_psprintf(pool, "body: found %" APR_INT64_T_FMT " bytes, "
                              "expected at most %u bytes", len,
                              (unsigned int)b->max);
        return 1;
    default:
        return 0;
    }
}

/* The body itself, read once the policy allowed: zt_body_check. */
static void zpc_req_body_read(const zt_table_t *t, const zpc_req_t *r,
                              zpc_outcome_t *o, apr_pool_t *pool)
{
    uint32_t bi = t->routes[r->match.route].body;
    zt_body_fault_t f;
    char text[512];

    if (bi == ZT_NONE || r->body_text == NULL || r->body_len == 0) {
        return;
    }
    if (zt_body_check(t, bi, r->body_text, r->body_len, pool, &f) < 0) {
        o->outcome = ZPC_EXPECT_INVALID;
        o->why = apr_pstrdup(pool, zt_body_fault_text(&f, text, sizeof(text)));
    }
}

void zpc_req_decide(const zt_table_t *t, const zpc_req_t *r, zpc_outcome_t *o,
                    apr_pool_t *pool)
{
    zt_violation_t v;
    char text[512];

    memset(o, 0, sizeof(*o));
    o->d.verdict = ZT_DENY;
    o->d.rule = ZT_NONE;
    o->d.stepup = ZT_NONE;
    if (r->route != ZT_ROUTE_OK) {
        o->outcome = ZPC_EXPECT_NOTFOUND;
        o->why = r->path_err != NULL ? r->path_err : "no declared route matches";
        return;
    }
    /* The module's order: the query string is parsed, then the contract
     * (zt_validate.c, the module's own check) is checked. */
    if (r->query_err != NULL) {
        o->outcome = ZPC_EXPECT_INVALID;
        o->why = r->query_err;
        return;
    }
    if (zt_validate_request(t, &r->rq, &v) < 0) {
        o->outcome = ZPC_EXPECT_INVALID;
        o->why = apr_pstrdup(pool, zt_violation_text(&v, text, sizeof(text)));
        return;
    }
    if (r->body && zpc_req_body_head(t, r, o, pool)) {
        return;
    }
    zt_eval_decide(t, &r->rq, &o->d);
    switch (o->d.verdict) {
    case ZT_ALLOW:      o->outcome = ZPC_EXPECT_ALLOW; break;
    case ZT_STEPUP:     o->outcome = ZPC_EXPECT_STEPUP; break;
    case ZT_NEED_TOKEN: o->outcome = ZPC_EXPECT_TOKEN; break;
    default:            o->outcome = ZPC_EXPECT_DENY; break;
    }
    /* The module reads the body only for a request it allows. */
    if (o->outcome == ZPC_EXPECT_ALLOW && r->body) {
        zpc_req_body_read(t, r, o, pool);
    }
}
