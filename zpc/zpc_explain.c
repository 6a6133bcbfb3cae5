/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * `zpc explain POLICY.ztb --request "GET /orders?limit=5" [--token JWT] ...`:
 * one request through every stage the module runs, in its order.
 *
 *   request   what was asked, as understood
 *   route     which declared route matched, and its captures
 *   token     the claims: decoded WITHOUT verification unless --jwks is
 *             given (then every check of the token core, as `zpc decode`)
 *   contract  the route's declared captures, query and header parameters
 *   rules     each rule on the route, its condition's value and the value
 *             of each comparison in it
 *   step-up   the route's requirement against the token's acr / auth_time
 *   decision  the answer and the rule that decided
 *
 * The values come from the module's own matcher and evaluator
 * (zpc_req_node_holds), not from a second implementation.  Exit status:
 * 0 allowed, 1 refused (any other answer), 2 usage or system error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "zpc_tools.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_json.h"
#include "zt_token.h"

typedef struct {
    const char *table, *token, *request, *jwks;
    zpc_req_t r;
} zpc_explain_t;

static int zpc_explain_usage(const char *why)
{
    if (why != NULL) {
        fprintf(stderr, "zpc explain: %s\n", why);
    }
    fputs("usage: zpc explain POLICY.ztb --request \"METHOD /path?query\" "
          "[--token JWT] [--jwks FILE]\n"
          "                   [--from IP] [--header \"Name: value\"]... "
          "[--tls VERSION|none] [--cert]\n"
          "                   [--cert-subject S] [--cert-san X]... "
          "[--now UNIXTIME]\n", stderr);
    return ZPC_EXIT_USAGE;
}

static int zpc_explain_args(zpc_explain_t *x, int argc, char **argv,
                            apr_pool_t *pool)
{
    zpc_req_t *r = &x->r;

    r->tls = "TLSv1.3";
    r->now = (int64_t)time(NULL);
    r->headers = apr_array_make(pool, 4, sizeof(const char *));
    r->cert_san = apr_array_make(pool, 2, sizeof(const char *));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (a[0] != '-') {
            if (x->table != NULL) {
                return zpc_explain_usage("more than one table given");
            }
            x->table = a;
            continue;
        }
        if (strcmp(a, "--cert") == 0) {
            r->cert = 1;        /* takes no value */
            continue;
        }
        if (v == NULL) {
            return zpc_explain_usage(apr_psprintf(pool, "%s needs a value", a));
        }
        i++;
        if (strcmp(a, "--request") == 0) {
            x->request = v;
        }
        else if (strcmp(a, "--token") == 0) {
            x->token = v;
        }
        else if (strcmp(a, "--jwks") == 0) {
            x->jwks = v;
        }
        else if (strcmp(a, "--from") == 0) {
            r->from = v;
        }
        else if (strcmp(a, "--tls") == 0) {
            r->tls = strcmp(v, "none") == 0 ? NULL : v;
        }
        else if (strcmp(a, "--cert-subject") == 0) {
            r->cert = 1;
            r->cert_subject = v;
        }
        else if (strcmp(a, "--cert-san") == 0) {
            r->cert = 1;
            APR_ARRAY_PUSH(r->cert_san, const char *) = v;
        }
        else if (strcmp(a, "--header") == 0) {
            const char *colon = strchr(v, ':');
            if (colon == NULL || colon == v) {
                return zpc_explain_usage(apr_psprintf(pool, "--header wants "
                                         "\"Name: value\", not '%s'", v));
            }
            APR_ARRAY_PUSH(r->headers, const char *) =
                apr_pstrmemdup(pool, v, (apr_size_t)(colon - v));
            colon++;
            while (*colon == ' ' || *colon == '\t') {
                colon++;
            }
            APR_ARRAY_PUSH(r->headers, const char *) = colon;
        }
        else if (strcmp(a, "--now") == 0) {
            char *end;
            long long n;

            errno = 0;
            n = strtoll(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0') {
                return zpc_explain_usage(apr_psprintf(pool, "--now wants seconds "
                                         "since the epoch, not '%s'", v));
            }
            r->now = (int64_t)n;
        }
        else {
            return zpc_explain_usage(apr_psprintf(pool, "unknown option '%s'", a));
        }
    }
    if (x->table == NULL || x->request == NULL) {
        return zpc_explain_usage("need POLICY.ztb and --request");
    }
    {
        const char *sp = strchr(x->request, ' ');
        if (sp == NULL || sp == x->request || sp[1] != '/') {
            return zpc_explain_usage("--request wants \"METHOD /path[?query]\"");
        }
        r->method = apr_pstrmemdup(pool, x->request, (apr_size_t)(sp - x->request));
        r->target = sp + 1;
    }
    return ZPC_EXIT_OK;
}

/* The table's issuers, verifying with the keys of @a ks (--jwks). */
static zt_issuer_t *zpc_explain_issuers(const zt_table_t *t, const zt_keyset_t *ks,
                                        apr_pool_t *pool)
{
    zt_issuer_t *is = apr_pcalloc(pool, sizeof(*is) * (t->nissuers + 1));

    for (uint32_t i = 0; i < t->nissuers; i++) {
        const zt_issuer_rec_t *rec = &t->issuers[i];
        const char *typ = zt_table_str(t, rec->typ);
        const char *name = zt_table_str(t, rec->required);
        const char **req = apr_pcalloc(pool, sizeof(*req) * (rec->nrequired + 1));

        for (uint32_t k = 0; k < rec->nrequired; k++) {
            req[k] = name;
            name += strlen(name) + 1;
        }
        is[i].name = zt_table_str(t, rec->name);
        is[i].iss = zt_table_str(t, rec->iss);
        is[i].audience = zt_table_str(t, rec->audience);
        is[i].algs = rec->algs;
        is[i].max_lifetime = rec->max_lifetime;
        is[i].leeway = rec->leeway;
        is[i].typ = *typ ? typ : NULL;
        is[i].required = req;
        is[i].nrequired = (int)rec->nrequired;
        is[i].keys = ks;
    }
    return is;
}

static void zpc_explain_check(void *ctx, const zt_tok_check_t *c)
{
    (void)ctx;
    if (c->status == ZT_TOK_OK) {
        printf("          ok      %s\n", c->name);
    }
    else {
        printf("          FAILED  %s: %s\n", c->name, c->reason != NULL ? c->reason : "");
    }
}

/*
 * The token stage.  Returns 1 when there are claims to go on with (or no
 * token), 0 when the module would answer 401 here.
 */
static int zpc_explain_token(zpc_explain_t *x, const zt_table_t *t, apr_pool_t *pool)
{
    const char *tok = x->token, *reason = NULL;
    apr_size_t len;
    zt_jws_t jws;

    if (tok == NULL) {
        puts("token     none presented: only public rules can allow");
        return 1;
    }
    if (strncmp(tok, "Bearer ", 7) == 0) {
        tok += 7;
    }
    len = strlen(tok);
    if (len > ZT_TOKEN_MAX_LEN) {
        printf("token     FAILED: %" APR_SIZE_T_FMT " bytes, more than the %d of "
               "the ZeroTrustTokenMaxSize default\n", len, ZT_TOKEN_MAX_LEN);
        return 0;
    }
    if (x->jwks != NULL) {
        zt_keyset_t *ks = NULL;
        zt_token_t out;
        zt_tok_status_e st;

        if (zt_jwks_load_file(&ks, x->jwks, pool, &reason) != APR_SUCCESS) {
            printf("token     FAILED: %s\n", reason);
            return 0;
        }
        printf("token     verified against the table's issuers with the keys "
               "of %s (now %" APR_INT64_T_FMT ")\n", x->jwks, x->r.now);
        st = zt_token_verify_report(tok, len, zpc_explain_issuers(t, ks, pool),
                                    (int)t->nissuers, x->r.now, 0, pool, &out,
                                    &reason, zpc_explain_check, x);
        if (st != ZT_TOK_OK) {
            printf("          INVALID (%s): %s\n", zt_tok_status_name(st), reason);
            return 0;
        }
        printf("          VALID (issuer %s, %s)\n", out.issuer->name, out.alg);
    }
    else {
        puts("token     NOT VERIFIED: the claims below were decoded without "
             "checking the signature,\n"
             "          issuer, audience or times (give --jwks FILE to "
             "verify; `zpc decode` shows every check)");
    }
    /* The payload once more as a jansson tree, for printing and for the
     * step-up lines; the evaluator gets its own form (zpc_claims_from_json). */
    if (zt_jws_parse(&jws, tok, len, pool, &reason) != ZT_JWS_OK) {
        printf("          FAILED: %s\n", reason);
        return 0;
    }
    x->r.claims = zt_json_parse((const char *)jws.payload, jws.payload_len,
                                jws.payload_len, pool, &reason);
    if (x->r.claims == NULL) {
        printf("          FAILED: the payload: %s\n", reason);
        return 0;
    }
    zt_json_pool_own(pool, x->r.claims);
    {
        char *json = json_dumps(x->r.claims, JSON_COMPACT | JSON_SORT_KEYS
                                             | JSON_ENSURE_ASCII);
        printf("          claims %s\n", json != NULL
               ? zpc_escape(json, strlen(json), 0, pool) : "?");
        free(json);
    }
    return 1;
}

/* Each comparison under @a node once, with its value. */
static void zpc_explain_atoms(const zt_table_t *t, const zpc_req_t *r,
                              uint32_t node, char *seen, apr_pool_t *pool)
{
    const zt_node_rec_t *n = &t->nodes[node];

    if (seen[node]) {
        return;
    }
    seen[node] = 1;
    if (zpc_node_is_atom(t, node)) {
        printf("             %-5s  %s\n",
               zpc_req_node_holds(t, r, node, pool) ? "true" : "false",
               zpc_cond_text(t, node, pool));
    }
    else if (n->op == ZT_OP_AND || n->op == ZT_OP_OR) {
        zpc_explain_atoms(t, r, n->a, seen, pool);
        zpc_explain_atoms(t, r, n->b, seen, pool);
    }
    else if (n->op == ZT_OP_NOT) {
        zpc_explain_atoms(t, r, n->a, seen, pool);
    }
}

static void zpc_explain_rules(const zt_table_t *t, const zpc_req_t *r, apr_pool_t *pool)
{
    const zt_route_rec_t *route = &t->routes[r->match.route];
    char *seen = apr_pcalloc(pool, t->nnodes + 1);

    printf("rules     %u on this route; deny overrides allow%s\n",
           (unsigned int)route->rref_count,
           r->claims == NULL ? "; without a token only public allow rules "
                               "apply (denies are still evaluated)" : "");
    for (uint32_t k = 0; k < route->rref_count; k++) {
        uint32_t ri = t->rrefs[route->rref_first + k];
        const zt_rule_rec_t *rule = &t->rules[ri];
        const char *value;

        if (r->claims == NULL && !(rule->flags & ZT_RULE_PUBLIC)
            && rule->effect == ZT_EFFECT_ALLOW) {
            value = "skipped";
        }
        else if (rule->cond == ZT_NONE) {
            value = "true";
        }
        else {
            value = zpc_req_node_holds(t, r, rule->cond, pool) ? "true" : "false";
        }
        printf("  %-7s  %s  %s\n", value, zpc_rule_where(t, ri, pool),
               zpc_rule_text(t, ri, pool));
        if (rule->cond != ZT_NONE && !zpc_node_is_atom(t, rule->cond)
            && strcmp(value, "skipped") != 0) {
            memset(seen, 0, t->nnodes + 1);
            zpc_explain_atoms(t, r, rule->cond, seen, pool);
        }
    }
}

static void zpc_explain_stepup(const zt_table_t *t, const zpc_req_t *r, apr_pool_t *pool)
{
    const zt_route_rec_t *route = &t->routes[r->match.route];
    const zt_stepup_rec_t *s;
    json_t *acr, *at;

    if (route->stepup == ZT_NONE) {
        puts("step-up   none on this route");
        return;
    }
    s = &t->stepups[route->stepup];
    printf("step-up   required (line %u):", (unsigned int)s->line);
    if (s->acr_count > 0) {
        printf(" acr");
        for (uint32_t k = 0; k < s->acr_count; k++) {
            const char *v = zt_table_str(t, t->opnds[t->lists[s->acr_first + k]].str);
            printf(" %s", zpc_escape(v, strlen(v), 1, pool));
        }
    }
    if (s->max_age > 0) {
        printf(" max_age %us", (unsigned int)s->max_age);
    }
    putchar('\n');
    acr = r->claims != NULL ? json_object_get(r->claims, "acr") : NULL;
    at = r->claims != NULL ? json_object_get(r->claims, "auth_time") : NULL;
    printf("          the token's acr %s, auth_time %s\n",
           json_is_string(acr) ? zpc_escape(json_string_value(acr),
                                            json_string_length(acr), 1, pool)
                               : "absent",
           json_is_integer(at) ? apr_psprintf(pool, "%" APR_INT64_T_FMT " (%"
                                              APR_INT64_T_FMT "s ago)",
                                              (int64_t)json_integer_value(at),
                                              r->now - (int64_t)json_integer_value(at))
                               : "absent");
}

static void zpc_explain_decision(const zt_table_t *t, const zpc_outcome_t *o,
                                 apr_pool_t *pool)
{
    const char *rule = o->d.rule < t->nrules
                       ? apr_pstrcat(pool, zpc_rule_where(t, o->d.rule, pool), " ",
                                     zpc_rule_text(t, o->d.rule, pool), NULL)
                       : NULL;

    switch (o->outcome) {
    case ZPC_EXPECT_NOTFOUND:
        printf("decision  notfound (404): %s\n", o->why);
        break;
    case ZPC_EXPECT_INVALID:
        printf("decision  invalid (400): %s\n", o->why);
        break;
    case ZPC_EXPECT_ALLOW:
        printf("decision  allow, by %s\n", rule != NULL ? rule : "?");
        break;
    case ZPC_EXPECT_STEPUP:
        printf("decision  stepup (401 insufficient_user_authentication): allowed "
               "by %s,\n          but the token does not meet the step-up "
               "requirement\n", rule != NULL ? rule : "?");
        break;
    case ZPC_EXPECT_TOKEN:
        if (o->d.stepup != ZT_NONE) {
            printf("decision  token (401): allowed by %s, but the route's step-up "
                   "requirement needs a token\n", rule != NULL ? rule : "?");
        }
        else if (rule != NULL) {
            printf("decision  token (401), by %s: a matching deny asks a request "
                   "without a token for one\n", rule);
        }
        else {
            puts("decision  token (401): no rule allows a request without a token");
        }
        break;
    default:
        if (rule != NULL) {
            printf("decision  deny (403), by %s\n", rule);
        }
        else {
            puts("decision  deny (403): no rule allows (default deny)");
        }
        break;
    }
}

int zpc_explain_main(int argc, char **argv, apr_pool_t *pool)
{
    zpc_explain_t x;
    zt_table_t *t;
    zpc_outcome_t o;
    const char *err = NULL;
    int rc;

    memset(&x, 0, sizeof(x));
    if ((rc = zpc_explain_args(&x, argc, argv, pool)) != ZPC_EXIT_OK) {
        return rc;
    }
    if (zt_table_open(&t, x.table, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc explain: %s\n", err);
        return ZPC_EXIT_USAGE;
    }
    if ((err = zpc_req_prepare(&x.r, t, pool)) != NULL) {
        return zpc_explain_usage(err);
    }
    /* The claims are not known yet: the request line shows no token. */
    printf("request   %s %s from %s, %s\n", zpc_escape(x.r.method, strlen(x.r.method),
                                                     0, pool),
           zpc_escape(x.r.target, strlen(x.r.target), 0, pool),
           x.r.from != NULL ? x.r.from : "127.0.0.1",
           x.r.tls != NULL ? x.r.tls : "plain HTTP");
    for (int i = 0; i + 1 < x.r.headers->nelts; i += 2) {
        const char *n = APR_ARRAY_IDX(x.r.headers, i, const char *);
        const char *v = APR_ARRAY_IDX(x.r.headers, i + 1, const char *);
        printf("          header %s: %s\n", zpc_escape(n, strlen(n), 0, pool),
               zpc_escape(v, strlen(v), 0, pool));
    }
    if (x.r.cert) {
        printf("          client certificate, subject %s, %d SAN%s\n",
               x.r.cert_subject != NULL
               ? zpc_escape(x.r.cert_subject, strlen(x.r.cert_subject), 1, pool)
               : "absent", x.r.cert_san->nelts, x.r.cert_san->nelts == 1 ? "" : "s");
        for (int i = 0; i < x.r.cert_san->nelts; i++) {
            const char *v = APR_ARRAY_IDX(x.r.cert_san, i, const char *);
            printf("            san %s\n", zpc_escape(v, strlen(v), 1, pool));
        }
    }
    if (x.r.route != ZT_ROUTE_OK) {
        printf("route     none: %s\n", x.r.path_err != NULL ? x.r.path_err
               : "no declared route matches");
        zpc_req_decide(t, &x.r, &o, pool);
        zpc_explain_decision(t, &o, pool);
        return ZPC_EXIT_INPUT;
    }
    {
        const zt_route_rec_t *route = &t->routes[x.r.match.route];
        const char *file = zt_table_str(t, route->file);

        printf("route     %s  (%s%s%u)\n", zpc_route_text(t, x.r.match.route, pool),
               zpc_file_name(file, pool), *file ? ":" : "line ", (unsigned int)route->line);
        for (uint32_t i = 0; i < route->seg_count && i < x.r.match.nseg; i++) {
            const zt_seg_rec_t *s = &t->segs[route->seg_first + i];
            if (s->kind == ZT_SEG_CAPTURE) {
                printf("          path.%s = %s\n",
                       zpc_escape(zt_table_str(t, s->str),
                                  strlen(zt_table_str(t, s->str)), 0, pool),
                       zpc_escape(x.r.match.seg[i].ptr, x.r.match.seg[i].len, 1, pool));
            }
        }
    }
    if (!zpc_explain_token(&x, t, pool)) {
        puts("decision  token (401 invalid_token): the module stops here");
        return ZPC_EXIT_INPUT;
    }
    /* The claims are known now. */
    x.r.rq.claims = zpc_claims_from_json(x.r.claims, pool);
    zpc_req_decide(t, &x.r, &o, pool);
    if (o.outcome == ZPC_EXPECT_INVALID) {
        printf("contract  FAILED: %s\n", o.why);
        zpc_explain_decision(t, &o, pool);
        return ZPC_EXIT_INPUT;
    }
    puts("contract  ok");
    zpc_explain_rules(t, &x.r, pool);
    zpc_explain_stepup(t, &x.r, pool);
    zpc_explain_decision(t, &o, pool);
    return o.outcome == ZPC_EXPECT_ALLOW ? ZPC_EXIT_OK : ZPC_EXIT_INPUT;
}
