/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Decisions on a verified table (zt_eval.c) from a zt_request_t: deny
 * overrides, default deny, public, need-token, claim types, missing
 * operands, path captures; every operand kind (query, header, client
 * address, certificate, TLS version, time) and opcode (orderings, lists
 * and sets, CIDR blocks); step-up.  Also the query parser (zt_query.c)
 * on hostile input.  Policies are built by hand (zt_ir_build.h), emitted
 * and loaded; route matching has its own test (test_route.c).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include <apr_hash.h>
#include <apr_strings.h>

#include "zt_test.h"
#include "zt_jdoc.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_eval.h"
#include "zt_prog.h"
#include "../fuzz/tree_only.h"

ZT_TEST_POOL_FIXTURE

static zt_table_t *build(const zpc_ir_t *ir)
{
    void *buf;
    apr_size_t len;
    const char *err = NULL;
    zt_table_t *t;

    ck_assert_msg(zpc_emit(ir, pool, &buf, &len, &err) == APR_SUCCESS, "emit: %s", err);
    ck_assert_msg(zt_table_load(&t, buf, len, "t.ztb", pool, &err) == APR_SUCCESS,
                  "load: %s", err);
    return t;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* What a test request carries besides its method and target. */
typedef struct {
    const char *json;               /* claims, or NULL: no token */
    const char *ip;                 /* "10.1.2.3", "::1", or NULL: unknown */
    const char *const *headers;     /* name, value, ..., NULL; or NULL: none */
    int cert;
    const char *subject;
    const char *const *san;         /* NULL-terminated, or NULL */
    const char *tls;
    int64_t now;
} req_t;

#define REQ(...) (&(const req_t){ __VA_ARGS__ })

static const zt_claims_t *claims_of(const char *json)
{
    const char *err = NULL;
    const zt_claims_t *c;

    if (json == NULL) {
        return NULL;
    }
    c = zt_jdoc_parse(json, strlen(json), strlen(json), pool, &err);
    ck_assert_msg(c != NULL, "bad JSON in test: %s", err);
    return c;
}

/* The last header name the evaluator asked for. */
static char asked[64];

static const char *header_of(void *ctx, const char *lname)
{
    const char *const *h = ctx;

    snprintf(asked, sizeof(asked), "%s", lname);
    for (; h[0] != NULL; h += 2) {
        if (strcasecmp(h[0], lname) == 0) {
            return h[1];
        }
    }
    return NULL;
}

/* Decide @a rq four ways -- route program or node trees, claims through
 * a view or by name -- and insist on one answer. */
static zt_decision_t decide_every_way(const zt_table_t *t, zt_request_t *rq)
{
    const zt_table_t *tree = zt_tree_only(t, pool);
    uint32_t *view = apr_palloc(pool, (zt_eval_view_size(t) + 1) * sizeof(uint32_t));
    zt_decision_t d, alt;

    ck_assert_ptr_nonnull(t->prog);
    ck_assert_uint_eq(t->prog->nblocks, t->nroutes);
    zt_eval_view(t, rq->claims, view);
    rq->claim_view = rq->claims != NULL ? view : NULL;
    memset(&d, 0x5a, sizeof(d));        /* every field is written */
    zt_eval_decide(t, rq, &d);
    for (int way = 1; way < 4; way++) {
        rq->claim_view = (way & 1) || rq->claims == NULL ? NULL : view;
        memset(&alt, 0xa5, sizeof(alt));
        zt_eval_decide(way >= 2 ? tree : t, rq, &alt);
        ck_assert_msg(alt.verdict == d.verdict && alt.rule == d.rule
                      && alt.stepup == d.stepup,
                      "way %d: verdict %d rule %d stepup %d, program with "
                      "view: %d %d %d", way, (int)alt.verdict, (int)alt.rule,
                      (int)alt.stepup, (int)d.verdict, (int)d.rule, (int)d.stepup);
    }
    return d;
}

/* Decide @a method @a target ("/path?query") carrying @a q. */
static zt_decision_t decide_rq(const zt_table_t *t, const char *method,
                               const char *target, const req_t *q)
{
    zt_match_t m;
    zt_request_t rq;
    zt_qparam_t params[16];
    const char *qs = strchr(target, '?'), *err = NULL;
    char *path = apr_pstrndup(pool, target, qs ? (size_t)(qs - target) : strlen(target));
    const zt_claims_t *claims = claims_of(q->json);
    uint32_t nsan = 0;
    int n = 0;

    ck_assert_msg(zt_route_match(t, method, path, &m) == ZT_ROUTE_OK,
                  "no route for %s %s", method, path);
    memset(&rq, 0, sizeof(rq));
    rq.match = &m;
    rq.claims = claims;
    if (qs != NULL) {
        n = zt_query_parse(qs + 1, apr_palloc(pool, strlen(qs)), params, 16, &err);
        ck_assert_msg(n >= 0, "query %s: %s", qs, err);
    }
    rq.query = params;
    rq.nquery = (uint32_t)n;
    if (q->headers != NULL) {
        rq.header = header_of;
        rq.header_ctx = (void *)q->headers;
    }
    if (q->ip != NULL) {
        rq.ip_family = strchr(q->ip, ':') ? 6 : 4;
        ck_assert_int_eq(inet_pton(rq.ip_family == 6 ? AF_INET6 : AF_INET, q->ip, rq.ip), 1);
    }
    while (q->san != NULL && q->san[nsan] != NULL) {
        nsan++;
    }
    rq.cert = q->cert;
    rq.cert_subject = q->subject;
    rq.cert_san = q->san;
    rq.ncert_san = nsan;
    rq.tls_version = q->tls;
    rq.now = q->now;
    return decide_every_way(t, &rq);
}

static zt_decision_t decide(const zt_table_t *t, const char *method,
                            const char *target, const char *json)
{
    return decide_rq(t, method, target, REQ(.json = json));
}

#define ck_decision(t, method, path, json, want_verdict, want_rule)          \
    do {                                                                     \
        zt_decision_t d_ = decide((t), (method), (path), (json));            \
        ck_assert_msg(d_.verdict == (want_verdict) && d_.rule == (want_rule),\
                      "%s %s %s: got verdict %d rule %d, want %d rule %d",   \
                      (method), (path), (json) ? (json) : "(no token)",      \
                      (int)d_.verdict, (int)d_.rule, (int)(want_verdict),    \
                      (int)(want_rule));                                     \
    } while (0)

#define NONE ((uint32_t)ZT_NONE)

/* ------------------------------------------------------------------ */
/* Decisions on the example policy                                     */
/* ------------------------------------------------------------------ */

START_TEST(decide_public_and_need_token)
{
    zt_table_t *t = build(zb_orders(pool));

    ck_decision(t, "GET", "/health", NULL, ZT_ALLOW, 0);
    ck_decision(t, "HEAD", "/health", NULL, ZT_ALLOW, 0);
    ck_decision(t, "GET", "/health", "{}", ZT_ALLOW, 0);
    ck_decision(t, "GET", "/orders", NULL, ZT_NEED_TOKEN, NONE);
    ck_decision(t, "DELETE", "/orders/1", NULL, ZT_NEED_TOKEN, NONE);
    ck_decision(t, "GET", "/users/u1/orders", NULL, ZT_NEED_TOKEN, NONE);
}
END_TEST

START_TEST(decide_default_deny)
{
    zt_table_t *t = build(zb_orders(pool));

    ck_decision(t, "GET", "/orders", "{}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"sub\":\"u1\"}", ZT_DENY, NONE);
    ck_decision(t, "POST", "/orders", "{\"scope\":\"orders:read\"}", ZT_DENY, NONE);
    /* claims that are not an object, or hold a NUL, never reach the
     * evaluator: the token stage's reader refuses them (test_jdoc) */
}
END_TEST

START_TEST(decide_scope_words)
{
    zt_table_t *t = build(zb_orders(pool));

    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\"}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/orders/7", "{\"scope\":\"a orders:read b\"}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"  orders:read  \"}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:write orders:read\"}",
                ZT_ALLOW, 1);
    /* words, not substrings */
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:readx\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"xorders:read\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:rea\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read,x\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\\tx\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":\" \"}", ZT_DENY, NONE);
    /* an array: elements, exactly */
    ck_decision(t, "GET", "/orders", "{\"scope\":[\"orders:read\"]}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/orders", "{\"scope\":[1, null, \"orders:read\"]}",
                ZT_ALLOW, 1);
    ck_decision(t, "GET", "/orders", "{\"scope\":[\"orders:read orders:write\"]}",
                ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":[[\"orders:read\"]]}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":[]}", ZT_DENY, NONE);
    /* other types */
    ck_decision(t, "GET", "/orders", "{\"scope\":{\"orders:read\":true}}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":null}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/orders", "{\"scope\":7}", ZT_DENY, NONE);
}
END_TEST

START_TEST(decide_deny_overrides)
{
    zt_table_t *t = build(zb_orders(pool));
    const char *batch = "{\"scope\":\"orders:read orders:write\",\"azp\":\"legacy-batch\"}";

    ck_decision(t, "GET", "/orders", batch, ZT_DENY, 5);
    ck_decision(t, "GET", "/orders/1", batch, ZT_DENY, 5);
    ck_decision(t, "POST", "/orders", batch, ZT_DENY, 5);
    /* the deny matches without any allow matching too */
    ck_decision(t, "DELETE", "/orders/1", batch, ZT_DENY, 5);
    /* the deny does not cover /users */
    ck_decision(t, "GET", "/users/u/orders", "{\"sub\":\"u\",\"azp\":\"legacy-batch\"}",
                ZT_ALLOW, 4);
    /* in_list is exact */
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\",\"azp\":\"legacy\"}",
                ZT_ALLOW, 1);
    /* an array claim is in a list when one of its elements is */
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\",\"azp\":[\"legacy-batch\"]}",
                ZT_DENY, 5);
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\",\"azp\":[\"x\",\"legacy\"]}",
                ZT_ALLOW, 1);
}
END_TEST

START_TEST(decide_nested_claims)
{
    zt_table_t *t = build(zb_orders(pool));

    ck_decision(t, "DELETE", "/orders/1",
                "{\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"cli\"}", ZT_ALLOW, 3);
    ck_decision(t, "DELETE", "/orders/1",
                "{\"realm_access\":{\"roles\":[\"user\",\"admin\"]}}", ZT_ALLOW, 3);
    /* a space-separated string works at depth too */
    ck_decision(t, "DELETE", "/orders/1",
                "{\"realm_access\":{\"roles\":\"user admin\"}}", ZT_ALLOW, 3);
    ck_decision(t, "DELETE", "/orders/1",
                "{\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"web-spa\"}",
                ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access\":{\"roles\":[\"user\"]}}",
                ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access\":{}}", ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access\":\"admin\"}", ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access\":[{\"roles\":[\"admin\"]}]}",
                ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"roles\":[\"admin\"]}", ZT_DENY, NONE);
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access.roles\":[\"admin\"]}",
                ZT_DENY, NONE);
}
END_TEST

START_TEST(decide_not_of_missing)
{
    zt_table_t *t = build(zb_orders(pool));

    /* admin and not token.azp == "web-spa": no azp at all is not web-spa */
    ck_decision(t, "DELETE", "/orders/1", "{\"realm_access\":{\"roles\":[\"admin\"]}}",
                ZT_ALLOW, 3);
    /* azp of another type is missing for ==, so not(...) holds */
    ck_decision(t, "DELETE", "/orders/1",
                "{\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":[\"web-spa\"]}",
                ZT_ALLOW, 3);
}
END_TEST

START_TEST(decide_path_capture)
{
    zt_table_t *t = build(zb_orders(pool));

    ck_decision(t, "GET", "/users/u1/orders", "{\"sub\":\"u1\"}", ZT_ALLOW, 4);
    ck_decision(t, "GET", "/users/u1/orders", "{\"sub\":\"u2\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/users/u1/orders", "{\"sub\":\"u1x\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/users/u1/orders", "{\"sub\":\"u\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/users/u1/orders", "{}", ZT_DENY, NONE);
    /* a claim is compared with a capture only when it is a string */
    ck_decision(t, "GET", "/users/1/orders", "{\"sub\":1}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/users/true/orders", "{\"sub\":true}", ZT_DENY, NONE);
    /* or admin */
    ck_decision(t, "GET", "/users/u1/orders",
                "{\"sub\":\"u2\",\"realm_access\":{\"roles\":[\"admin\"]}}", ZT_ALLOW, 4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Values: one route per condition                                     */
/* ------------------------------------------------------------------ */

static const char *const value_conds[][2] = {
    { "/int",     "(eq token.level 3)" },
    { "/neg",     "(eq token.level -9223372036854775807)" },
    { "/big",     "(eq token.level 1099511627776)" },
    { "/bool",    "(eq token.mfa true)" },
    { "/false",   "(eq token.mfa false)" },
    { "/ne",      "(ne token.tier \"free\")" },
    { "/list",    "(in_list token.n [1 2 \"x\" true])" },
    { "/empty",   "(not (in_list token.n []))" },
    { "/tokeq",   "(eq token.a token.b)" },
    { "/tokne",   "(ne token.a token.b)" },
    { "/absent",  "(not (in \"x\" token.groups))" },
    { "/inint",   "(in 5 token.ids)" },
    { "/inbool",  "(in true token.flags)" },
    { "/inempty", "(in \"\" token.scope)" },
    { "/deep",    "(eq token.a.b.c \"v\")" },
    { "/strlit",  "(eq \"a\" \"a\")" },
    { "/mixlit",  "(ne 1 \"1\")" },
    { "/pathne",  "(ne path.nope \"x\")" },
    { "/true",    "(true)" },
    { "/or",      "(or (eq token.a 1) (eq token.b 1))" },
    { "/and",     "(and (eq token.a 1) (eq token.b 1))" },
    { "/notnot",  "(not (not (eq token.a 1)))" },
};
#define NVALUES (sizeof(value_conds) / sizeof(value_conds[0]))

static zt_table_t *values_table(void)
{
    zpc_ir_t *ir = zb_new(pool, "values", "v.ztp");

    for (size_t i = 0; i < NVALUES; i++) {
        uint32_t r = zb_route(ir, ZT_M_GET, value_conds[i][0]);
        zb_rule(ir, ZT_EFFECT_ALLOW, 0, value_conds[i][1], value_conds[i][0], 1, r);
    }
    return build(ir);
}

static int allowed(const zt_table_t *t, const char *path, const char *json)
{
    zt_decision_t d = decide(t, "GET", path, json);

    ck_assert(d.verdict == ZT_ALLOW || (d.verdict == ZT_DENY && d.rule == ZT_NONE));
    return d.verdict == ZT_ALLOW;
}

#define ck_allowed(t, path, json)                                           \
    ck_assert_msg(allowed((t), (path), (json)), "%s %s: denied", (path), (json))
#define ck_denied(t, path, json)                                            \
    ck_assert_msg(!allowed((t), (path), (json)), "%s %s: allowed", (path), (json))

START_TEST(values_integers)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/int", "{\"level\":3}");
    ck_denied(t, "/int", "{\"level\":4}");
    ck_denied(t, "/int", "{\"level\":\"3\"}");
    ck_denied(t, "/int", "{\"level\":3.0}");
    ck_denied(t, "/int", "{\"level\":true}");
    ck_denied(t, "/int", "{\"level\":[3]}");
    ck_denied(t, "/int", "{}");
    ck_allowed(t, "/neg", "{\"level\":-9223372036854775807}");
    ck_denied(t, "/neg", "{\"level\":9223372036854775807}");
    ck_allowed(t, "/big", "{\"level\":1099511627776}");
    ck_denied(t, "/big", "{\"level\":0}");
}
END_TEST

START_TEST(values_booleans)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/bool", "{\"mfa\":true}");
    ck_denied(t, "/bool", "{\"mfa\":false}");
    ck_denied(t, "/bool", "{\"mfa\":1}");
    ck_denied(t, "/bool", "{\"mfa\":\"true\"}");
    ck_denied(t, "/bool", "{}");
    ck_allowed(t, "/false", "{\"mfa\":false}");
    ck_denied(t, "/false", "{\"mfa\":0}");
    ck_denied(t, "/false", "{\"mfa\":null}");
    ck_denied(t, "/false", "{}");
}
END_TEST

START_TEST(values_not_equal)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/ne", "{\"tier\":\"gold\"}");
    ck_allowed(t, "/ne", "{\"tier\":\"fre\"}");
    ck_allowed(t, "/ne", "{\"tier\":\"free \"}");
    ck_denied(t, "/ne", "{\"tier\":\"free\"}");
    /* different types differ */
    ck_allowed(t, "/ne", "{\"tier\":5}");
    ck_allowed(t, "/ne", "{\"tier\":false}");
    /* missing, or not a string/integer/boolean: no comparison at all */
    ck_denied(t, "/ne", "{}");
    ck_denied(t, "/ne", "{\"tier\":null}");
    ck_denied(t, "/ne", "{\"tier\":[\"gold\"]}");
    ck_denied(t, "/ne", "{\"tier\":{}}");
    ck_denied(t, "/ne", "{\"tier\":1.5}");
    ck_allowed(t, "/mixlit", "{}");
    ck_allowed(t, "/strlit", "{}");
    /* a capture the route does not have is missing */
    ck_denied(t, "/pathne", "{}");
}
END_TEST

START_TEST(values_lists)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/list", "{\"n\":1}");
    ck_allowed(t, "/list", "{\"n\":2}");
    ck_allowed(t, "/list", "{\"n\":\"x\"}");
    ck_allowed(t, "/list", "{\"n\":true}");
    ck_denied(t, "/list", "{\"n\":\"2\"}");
    ck_denied(t, "/list", "{\"n\":3}");
    ck_denied(t, "/list", "{\"n\":false}");
    ck_allowed(t, "/list", "{\"n\":[1]}");            /* some element is listed */
    ck_allowed(t, "/list", "{\"n\":[3,\"x\"]}");
    ck_denied(t, "/list", "{\"n\":[3,\"1\"]}");
    ck_denied(t, "/list", "{}");
    /* x in [] is false, so its negation holds, even for a missing x */
    ck_allowed(t, "/empty", "{\"n\":1}");
    ck_allowed(t, "/empty", "{}");
}
END_TEST

START_TEST(values_claim_vs_claim)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/tokeq", "{\"a\":\"s\",\"b\":\"s\"}");
    ck_allowed(t, "/tokeq", "{\"a\":1,\"b\":1}");
    ck_allowed(t, "/tokeq", "{\"a\":false,\"b\":false}");
    ck_denied(t, "/tokeq", "{\"a\":1,\"b\":\"1\"}");
    ck_denied(t, "/tokeq", "{\"a\":[1],\"b\":[1]}");
    ck_denied(t, "/tokeq", "{\"a\":null,\"b\":null}");
    ck_denied(t, "/tokeq", "{\"a\":\"s\"}");
    ck_denied(t, "/tokeq", "{}");
    ck_allowed(t, "/tokne", "{\"a\":1,\"b\":\"1\"}");
    ck_denied(t, "/tokne", "{\"a\":1,\"b\":1}");
    ck_denied(t, "/tokne", "{\"a\":1}");
    ck_denied(t, "/tokne", "{\"a\":{},\"b\":{\"x\":1}}");
}
END_TEST

START_TEST(values_in_claim)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/absent", "{}");
    ck_allowed(t, "/absent", "{\"groups\":[\"y\"]}");
    ck_allowed(t, "/absent", "{\"groups\":\"y z\"}");
    ck_denied(t, "/absent", "{\"groups\":[\"x\"]}");
    ck_denied(t, "/absent", "{\"groups\":\"y x\"}");
    ck_allowed(t, "/inint", "{\"ids\":[1,5]}");
    ck_denied(t, "/inint", "{\"ids\":[\"5\"]}");
    ck_denied(t, "/inint", "{\"ids\":\"5\"}");      /* words are strings */
    ck_denied(t, "/inint", "{\"ids\":5}");
    ck_denied(t, "/inint", "{\"ids\":[5.0]}");
    ck_allowed(t, "/inbool", "{\"flags\":[false,true]}");
    /* the empty string is no word, but can be an array element */
    ck_denied(t, "/inempty", "{\"scope\":\"a  b\"}");
    ck_denied(t, "/inempty", "{\"scope\":\" \"}");
    ck_denied(t, "/inempty", "{\"scope\":\"\"}");
    ck_allowed(t, "/inempty", "{\"scope\":[\"\"]}");
    ck_denied(t, "/inbool", "{\"flags\":[\"true\"]}");
}
END_TEST

START_TEST(values_deep_and_logic)
{
    zt_table_t *t = values_table();

    ck_allowed(t, "/deep", "{\"a\":{\"b\":{\"c\":\"v\"}}}");
    ck_denied(t, "/deep", "{\"a\":{\"b\":{\"c\":\"w\"}}}");
    ck_denied(t, "/deep", "{\"a\":{\"b\":\"c\"}}");
    ck_denied(t, "/deep", "{\"a\":{\"b\":{\"c\":{\"v\":1}}}}");
    ck_denied(t, "/deep", "{\"a\":null}");
    ck_denied(t, "/deep", "{\"a.b.c\":\"v\"}");
    ck_allowed(t, "/true", "{}");
    ck_allowed(t, "/or", "{\"b\":1}");
    ck_allowed(t, "/or", "{\"a\":1}");
    ck_denied(t, "/or", "{\"a\":2,\"b\":2}");
    ck_allowed(t, "/and", "{\"a\":1,\"b\":1}");
    ck_denied(t, "/and", "{\"a\":1}");
    ck_allowed(t, "/notnot", "{\"a\":1}");
    ck_denied(t, "/notnot", "{}");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rule selection                                                      */
/* ------------------------------------------------------------------ */

START_TEST(rules_order_and_flags)
{
    zpc_ir_t *ir = zb_new(pool, "rules", "r.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");
    uint32_t b = zb_route(ir, ZT_M_GET, "/b");
    uint32_t c = zb_route(ir, ZT_M_GET, "/c");
    uint32_t e = zb_route(ir, ZT_M_GET, "/e");
    zt_table_t *t;

    /* /a: two allows then two denies; the first matching of each counts */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.x 1)", "GET /a", 1, a);        /* 0 */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, a);                    /* 1 */
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(eq token.y 1)", "GET /a", 1, a);         /* 2 */
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(eq token.z 1)", "GET /a", 1, a);         /* 3 */
    /* /b: a public deny beats a public allow, token or not */
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL, "GET /b", 1, b);       /* 4 */
    zb_rule(ir, ZT_EFFECT_DENY, ZT_RULE_PUBLIC, "(not (eq token.ok true))",
            "GET /b", 1, b);                                                  /* 5 */
    /* /c: no rules at all */
    (void)c;
    /* /e: a public allow with a condition on claims */
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(not (eq token.banned true))",
            "GET /e", 1, e);                                                  /* 6 */
    t = build(ir);

    ck_decision(t, "GET", "/a", "{}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/a", "{\"x\":1}", ZT_ALLOW, 0);
    ck_decision(t, "GET", "/a", "{\"x\":1,\"z\":1}", ZT_DENY, 3);
    ck_decision(t, "GET", "/a", "{\"x\":1,\"y\":1,\"z\":1}", ZT_DENY, 2);
    ck_decision(t, "GET", "/a", NULL, ZT_NEED_TOKEN, NONE);

    ck_decision(t, "GET", "/b", NULL, ZT_DENY, 5);
    ck_decision(t, "GET", "/b", "{}", ZT_DENY, 5);
    ck_decision(t, "GET", "/b", "{\"ok\":true}", ZT_ALLOW, 4);

    ck_decision(t, "GET", "/c", NULL, ZT_NEED_TOKEN, NONE);
    ck_decision(t, "GET", "/c", "{\"x\":1}", ZT_DENY, NONE);

    ck_decision(t, "GET", "/e", NULL, ZT_ALLOW, 6);
    ck_decision(t, "GET", "/e", "{}", ZT_ALLOW, 6);
    ck_decision(t, "GET", "/e", "{\"banned\":true}", ZT_DENY, NONE);
}
END_TEST

START_TEST(no_route_is_deny)
{
    zt_table_t *t = build(zb_orders(pool));
    zt_match_t m;
    zt_decision_t d;

    zt_request_t rq;

    memset(&rq, 0, sizeof(rq));
    ck_assert_int_eq(zt_route_match(t, "GET", "/nope", &m), ZT_ROUTE_NONE);
    rq.match = &m;
    memset(&d, 0x5a, sizeof(d));
    zt_eval_decide(t, &rq, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, ZT_NONE);
    ck_assert_uint_eq(d.stepup, ZT_NONE);
    rq.match = NULL;
    zt_eval_decide(t, &rq, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    zt_eval_decide(t, NULL, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
}
END_TEST

/* A shared node (a `let` used twice) is evaluated correctly from both
 * parents, and a condition at the depth limit evaluates. */
START_TEST(shared_and_deep_conditions)
{
    zpc_ir_t *ir = zb_new(pool, "dag", "d.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/d");
    uint32_t r2 = zb_route(ir, ZT_M_GET, "/deep");
    uint32_t x = zb_token(ir, "x"), one = zb_opnd(ir, ZT_OPND_INT, NULL, 1);
    uint32_t base;
    zt_table_t *t;

    /* n0 = and(n1, n2); n1 = or(n2, n3); n2 = x == 1; n3 = true */
    zb_node_raw(ir, ZT_OP_AND, 1, 2, 0);
    zb_node_raw(ir, ZT_OP_OR, 2, 3, 0);
    zb_node_raw(ir, ZT_OP_EQ, x, one, 0);
    zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /d", 1, r);
    APR_ARRAY_IDX(ir->rules, 0, zpc_ir_rule_t).cond = 0;
    /* 127 NOTs over x == 1: depth 128, the limit */
    base = (uint32_t)ir->nodes->nelts;
    for (uint32_t i = 0; i < ZT_MAX_COND_DEPTH - 1; i++) {
        zb_node_raw(ir, ZT_OP_NOT, base + i + 1, 0, 0);
    }
    zb_node_raw(ir, ZT_OP_EQ, x, one, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /deep", 1, r2);
    APR_ARRAY_IDX(ir->rules, 1, zpc_ir_rule_t).cond = base;
    t = build(ir);

    ck_decision(t, "GET", "/d", "{\"x\":1}", ZT_ALLOW, 0);
    ck_decision(t, "GET", "/d", "{\"x\":2}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/deep", "{\"x\":2}", ZT_ALLOW, 1);
    ck_decision(t, "GET", "/deep", "{\"x\":1}", ZT_DENY, NONE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Conditions built node by node (operands the S-expressions lack)     */
/* ------------------------------------------------------------------ */

static uint32_t opnd(zpc_ir_t *ir, uint32_t kind, const char *str)
{
    return zb_opnd(ir, kind, str, 0);
}

static uint32_t lit_int(zpc_ir_t *ir, int64_t v)
{
    return zb_opnd(ir, ZT_OPND_INT, NULL, v);
}

static uint32_t lit_str(zpc_ir_t *ir, const char *s)
{
    return zb_opnd(ir, ZT_OPND_STR, s, 0);
}

/* A LIST run of string literals, NULL-terminated; returns its first index. */
static uint32_t str_list(zpc_ir_t *ir, const char *const *v, uint32_t *count)
{
    uint32_t ops[16], n = 0, first = (uint32_t)ir->lists->nelts;

    while (v[n] != NULL) {
        ops[n] = lit_str(ir, v[n]);
        n++;
    }
    for (uint32_t k = 0; k < n; k++) {
        APR_ARRAY_PUSH(ir->lists, uint32_t) = ops[k];
    }
    *count = n;
    return first;
}

/* GET @a path (a new route) allowed when node @a cond holds; a public
 * rule when @a public, so that no token is needed. */
static uint32_t allow_when(zpc_ir_t *ir, const char *path, uint32_t cond, int public)
{
    uint32_t r = zb_route(ir, ZT_M_GET, path);
    uint32_t rule = zb_rule(ir, ZT_EFFECT_ALLOW, public ? ZT_RULE_PUBLIC : 0, NULL,
                            path, 1, r);

    APR_ARRAY_IDX(ir->rules, rule, zpc_ir_rule_t).cond = cond;
    return r;
}

static uint32_t cmp(zpc_ir_t *ir, uint32_t op, uint32_t a, uint32_t b)
{
    return zb_node_raw(ir, op, a, b, 0);
}

static int allowed_rq(const zt_table_t *t, const char *target, const req_t *q)
{
    zt_decision_t d = decide_rq(t, "GET", target, q);

    ck_assert_msg(d.verdict == ZT_ALLOW || d.rule == ZT_NONE,
                  "%s: verdict %d rule %d", target, (int)d.verdict, (int)d.rule);
    return d.verdict == ZT_ALLOW;
}

#define ck_yes(t, target, q) \
    ck_assert_msg(allowed_rq((t), (target), (q)), "%s: refused", (target))
#define ck_no(t, target, q) \
    ck_assert_msg(!allowed_rq((t), (target), (q)), "%s: allowed", (target))

/* ------------------------------------------------------------------ */
/* Orderings                                                           */
/* ------------------------------------------------------------------ */

START_TEST(orderings)
{
    zpc_ir_t *ir = zb_new(pool, "ord", "o.ztp");
    zt_table_t *t;
    uint32_t n;

    allow_when(ir, "/lt", cmp(ir, ZT_OP_LT, zb_token(ir, "level"), lit_int(ir, 3)), 0);
    allow_when(ir, "/le", cmp(ir, ZT_OP_LE, zb_token(ir, "level"), lit_int(ir, 3)), 0);
    allow_when(ir, "/gt", cmp(ir, ZT_OP_GT, zb_token(ir, "level"), lit_int(ir, 3)), 0);
    allow_when(ir, "/ge", cmp(ir, ZT_OP_GE, zb_token(ir, "level"), lit_int(ir, 3)), 0);
    allow_when(ir, "/claims", cmp(ir, ZT_OP_LT, zb_token(ir, "a"), zb_token(ir, "b")), 0);
    allow_when(ir, "/min", cmp(ir, ZT_OP_LE, zb_token(ir, "level"),
                               lit_int(ir, INT64_MIN)), 0);
    n = zb_node_raw(ir, ZT_OP_NOT, 0, 0, 0);
    APR_ARRAY_IDX(ir->nodes, n, zpc_ir_node_t).a =
        cmp(ir, ZT_OP_GE, zb_token(ir, "level"), lit_int(ir, 3));
    allow_when(ir, "/notge", n, 0);
    t = build(ir);

    ck_yes(t, "/lt", REQ(.json = "{\"level\":2}"));
    ck_no(t, "/lt", REQ(.json = "{\"level\":3}"));
    ck_yes(t, "/lt", REQ(.json = "{\"level\":-9223372036854775807}"));
    ck_yes(t, "/le", REQ(.json = "{\"level\":3}"));
    ck_no(t, "/le", REQ(.json = "{\"level\":4}"));
    ck_yes(t, "/gt", REQ(.json = "{\"level\":4}"));
    ck_no(t, "/gt", REQ(.json = "{\"level\":3}"));
    ck_yes(t, "/gt", REQ(.json = "{\"level\":9223372036854775807}"));
    ck_yes(t, "/ge", REQ(.json = "{\"level\":3}"));
    ck_no(t, "/ge", REQ(.json = "{\"level\":2}"));
    /* only integers are ordered: every other type is false both ways */
    for (int k = 0; k < 2; k++) {
        const char *path = k ? "/ge" : "/lt";
        ck_no(t, path, REQ(.json = "{\"level\":\"2\"}"));
        ck_no(t, path, REQ(.json = "{\"level\":\"4\"}"));
        ck_no(t, path, REQ(.json = "{\"level\":2.0}"));
        ck_no(t, path, REQ(.json = "{\"level\":4.5}"));
        ck_no(t, path, REQ(.json = "{\"level\":true}"));
        ck_no(t, path, REQ(.json = "{\"level\":false}"));
        ck_no(t, path, REQ(.json = "{\"level\":null}"));
        ck_no(t, path, REQ(.json = "{\"level\":[2]}"));
        ck_no(t, path, REQ(.json = "{}"));
    }
    /* NOT of a missing ordering holds, as for every comparison */
    ck_yes(t, "/notge", REQ(.json = "{}"));
    ck_yes(t, "/notge", REQ(.json = "{\"level\":\"9\"}"));
    ck_no(t, "/notge", REQ(.json = "{\"level\":9}"));
    ck_yes(t, "/claims", REQ(.json = "{\"a\":1,\"b\":2}"));
    ck_no(t, "/claims", REQ(.json = "{\"a\":2,\"b\":2}"));
    ck_no(t, "/claims", REQ(.json = "{\"a\":1}"));
    ck_yes(t, "/min", REQ(.json = "{\"level\":-9223372036854775808}"));
    ck_no(t, "/min", REQ(.json = "{\"level\":-9223372036854775807}"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Query parameters and headers                                        */
/* ------------------------------------------------------------------ */

START_TEST(query_operands)
{
    zpc_ir_t *ir = zb_new(pool, "q", "q.ztp");
    zt_table_t *t;

    allow_when(ir, "/eq", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_QUERY, "limit"),
                              lit_str(ir, "10")), 1);
    allow_when(ir, "/ne", cmp(ir, ZT_OP_NE, opnd(ir, ZT_OPND_QUERY, "limit"),
                              lit_str(ir, "10")), 1);
    allow_when(ir, "/int", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_QUERY, "limit"),
                               lit_int(ir, 10)), 1);
    allow_when(ir, "/empty", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_QUERY, "flag"),
                                 lit_str(ir, "")), 1);
    allow_when(ir, "/sp", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_QUERY, "a b"),
                              lit_str(ir, "c d")), 1);
    allow_when(ir, "/word", cmp(ir, ZT_OP_IN_CLAIM, opnd(ir, ZT_OPND_QUERY, "role"),
                                zb_token(ir, "roles")), 0);
    t = build(ir);

    ck_yes(t, "/eq?limit=10", REQ(0));
    ck_yes(t, "/eq?x=1&limit=10", REQ(0));
    ck_yes(t, "/eq?limit=%31%30", REQ(0));                 /* decoded */
    ck_yes(t, "/eq?li%6dit=10", REQ(0));
    ck_yes(t, "/eq?limit=10&limit=11", REQ(0));            /* the first value */
    ck_no(t, "/eq?limit=11&limit=10", REQ(0));
    ck_no(t, "/eq?Limit=10", REQ(0));                      /* names are exact */
    ck_no(t, "/eq?limit=10%20", REQ(0));
    ck_no(t, "/eq?limit", REQ(0));
    ck_no(t, "/eq", REQ(0));
    ck_no(t, "/eq?", REQ(0));
    ck_yes(t, "/ne?limit=11", REQ(0));
    ck_no(t, "/ne?limit=10", REQ(0));
    ck_no(t, "/ne", REQ(0));                               /* missing: no comparison */
    ck_no(t, "/int?limit=10", REQ(0));                     /* a string, never an integer */
    ck_yes(t, "/empty?flag", REQ(0));
    ck_yes(t, "/empty?flag=", REQ(0));
    ck_no(t, "/empty?flags", REQ(0));
    ck_yes(t, "/sp?a+b=c+d", REQ(0));
    ck_yes(t, "/sp?a%20b=c%20d", REQ(0));
    ck_no(t, "/sp?a%2Bb=c%2Bd", REQ(0));
    ck_yes(t, "/word?role=admin", REQ(.json = "{\"roles\":\"user admin\"}"));
    ck_yes(t, "/word?role=admin", REQ(.json = "{\"roles\":[\"admin\"]}"));
    ck_no(t, "/word?role=user+admin", REQ(.json = "{\"roles\":\"user admin\"}"));
    ck_no(t, "/word", REQ(.json = "{\"roles\":\"user admin\"}"));
}
END_TEST

START_TEST(header_operands)
{
    static const char *const hdrs[] = {
        "X-Tenant", "t1", "x-empty", "", "X-Int", "7", NULL
    };
    static const char *const other[] = { "X-Tenant", "t2", NULL };
    static const char *const none[] = { NULL };
    zpc_ir_t *ir = zb_new(pool, "h", "h.ztp");
    zt_table_t *t;

    allow_when(ir, "/t", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_HEADER, "x-tenant"),
                             lit_str(ir, "t1")), 1);
    allow_when(ir, "/ne", cmp(ir, ZT_OP_NE, opnd(ir, ZT_OPND_HEADER, "x-tenant"),
                              lit_str(ir, "t1")), 1);
    allow_when(ir, "/e", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_HEADER, "x-empty"),
                             lit_str(ir, "")), 1);
    allow_when(ir, "/sub", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_HEADER, "x-tenant"),
                               zb_token(ir, "tenant")), 0);
    t = build(ir);

    asked[0] = '\0';
    ck_yes(t, "/t", REQ(.headers = hdrs));
    ck_assert_str_eq(asked, "x-tenant");                   /* lower case, as stored */
    ck_no(t, "/t", REQ(.headers = other));
    ck_no(t, "/t", REQ(.headers = none));
    ck_no(t, "/t", REQ(0));                                /* no callback at all */
    ck_yes(t, "/ne", REQ(.headers = other));
    ck_no(t, "/ne", REQ(.headers = none));
    ck_yes(t, "/e", REQ(.headers = hdrs));
    ck_no(t, "/e", REQ(.headers = other));
    ck_yes(t, "/sub", REQ(.json = "{\"tenant\":\"t1\"}", .headers = hdrs));
    ck_no(t, "/sub", REQ(.json = "{\"tenant\":\"t2\"}", .headers = hdrs));
    ck_no(t, "/sub", REQ(.json = "{}", .headers = hdrs));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Client address                                                      */
/* ------------------------------------------------------------------ */

static void cidr(zpc_ir_t *ir, const char *addr, uint8_t prefix)
{
    zpc_ir_cidr_t *c = &APR_ARRAY_PUSH(ir->cidrs, zpc_ir_cidr_t);

    memset(c, 0, sizeof(*c));
    c->family = strchr(addr, ':') ? 6 : 4;
    c->prefix = prefix;
    ck_assert_int_eq(inet_pton(c->family == 6 ? AF_INET6 : AF_INET, addr, c->addr), 1);
}

static uint32_t in_cidr(zpc_ir_t *ir, uint32_t first)
{
    return zb_node_raw(ir, ZT_OP_IN_CIDR, opnd(ir, ZT_OPND_CLIENT_IP, NULL), first,
                       (uint32_t)ir->cidrs->nelts - first);
}

START_TEST(client_address)
{
    zpc_ir_t *ir = zb_new(pool, "ip", "ip.ztp");
    zt_table_t *t;
    uint32_t first, n;

    first = (uint32_t)ir->cidrs->nelts;
    cidr(ir, "10.0.0.0", 8);
    cidr(ir, "192.168.1.7", 32);
    cidr(ir, "172.16.0.0", 12);
    cidr(ir, "2001:db8::", 32);
    cidr(ir, "::1", 128);
    cidr(ir, "fe80::", 10);
    cidr(ir, "::ffff:100.64.0.0", 106);     /* mapped form of 100.64.0.0/10 */
    allow_when(ir, "/in", in_cidr(ir, first), 1);
    first = (uint32_t)ir->cidrs->nelts;
    cidr(ir, "0.0.0.0", 0);
    allow_when(ir, "/any4", in_cidr(ir, first), 1);
    first = (uint32_t)ir->cidrs->nelts;
    cidr(ir, "::", 0);
    allow_when(ir, "/any6", in_cidr(ir, first), 1);
    allow_when(ir, "/none", zb_node_raw(ir, ZT_OP_IN_CIDR,
                                        opnd(ir, ZT_OPND_CLIENT_IP, NULL), 0, 0), 1);
    n = zb_node_raw(ir, ZT_OP_NOT, 0, 0, 0);
    first = (uint32_t)ir->cidrs->nelts;
    cidr(ir, "10.0.0.0", 8);
    APR_ARRAY_IDX(ir->nodes, n, zpc_ir_node_t).a = in_cidr(ir, first);
    allow_when(ir, "/not10", n, 1);
    t = build(ir);

    static const char *const in[] = {
        "10.0.0.0", "10.255.255.255", "10.1.2.3", "192.168.1.7", "172.16.0.1",
        "172.31.255.255", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "::1", "fe80::1", "febf:ffff::1", "::ffff:10.9.9.9", "::ffff:172.20.0.1",
        "100.64.0.1", "100.127.255.255", "::ffff:100.64.0.0",
    };
    static const char *const out[] = {
        "11.0.0.0", "9.255.255.255", "192.168.1.6", "192.168.1.8", "172.15.255.255",
        "172.32.0.0", "2001:db9::", "2001:db7:ffff::", "::2", "::", "fec0::1",
        "::ffff:11.0.0.1", "::a00:1" /* IPv4-compatible is not mapped */,
        "::ffff:0:a00:1", "100.63.255.255", "100.128.0.0", "0.0.0.0",
        "255.255.255.255", "64:ff9b::a00:1",
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        ck_assert_msg(allowed_rq(t, "/in", REQ(.ip = in[i])), "%s not in", in[i]);
        ck_assert_msg(!allowed_rq(t, "/not10", REQ(.ip = in[i]))
                      == (strstr(in[i], "10.") == in[i] || strstr(in[i], ":10.") != NULL),
                      "%s: not10", in[i]);
    }
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        ck_assert_msg(!allowed_rq(t, "/in", REQ(.ip = out[i])), "%s in", out[i]);
    }
    ck_no(t, "/in", REQ(0));                    /* unknown address */
    ck_yes(t, "/not10", REQ(0));
    ck_yes(t, "/any4", REQ(.ip = "1.2.3.4"));
    ck_yes(t, "/any4", REQ(.ip = "::ffff:1.2.3.4"));
    ck_no(t, "/any4", REQ(.ip = "::1"));
    ck_yes(t, "/any6", REQ(.ip = "::1"));
    ck_no(t, "/any6", REQ(.ip = "1.2.3.4"));    /* an IPv4 client is not in ::/0 */
    ck_no(t, "/any6", REQ(.ip = "::ffff:1.2.3.4"));
    ck_no(t, "/none", REQ(.ip = "1.2.3.4"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Client certificate, TLS                                             */
/* ------------------------------------------------------------------ */

START_TEST(certificate)
{
    static const char *const sans[] = { "spiffe://corp/svc-a", "svc-a.corp", NULL };
    static const char *const no_sans[] = { NULL };
    static const char *const accepted[] = { "spiffe://corp/svc-b", "spiffe://corp/svc-a", NULL };
    zpc_ir_t *ir = zb_new(pool, "cert", "c.ztp");
    zt_table_t *t;
    uint32_t first, count;

    allow_when(ir, "/cert", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_CERT, NULL),
                                zb_opnd(ir, ZT_OPND_BOOL, NULL, 1)), 1);
    allow_when(ir, "/nocert", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_CERT, NULL),
                                  zb_opnd(ir, ZT_OPND_BOOL, NULL, 0)), 1);
    allow_when(ir, "/subject", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_CERT_SUBJECT, NULL),
                                   lit_str(ir, "CN=svc-a,O=corp")), 1);
    allow_when(ir, "/subjne", cmp(ir, ZT_OP_NE, opnd(ir, ZT_OPND_CERT_SUBJECT, NULL),
                                  lit_str(ir, "CN=svc-a,O=corp")), 1);
    allow_when(ir, "/san", cmp(ir, ZT_OP_IN_CLAIM, lit_str(ir, "svc-a.corp"),
                               opnd(ir, ZT_OPND_CERT_SAN, NULL)), 1);
    allow_when(ir, "/sanint", cmp(ir, ZT_OP_IN_CLAIM, lit_int(ir, 1),
                                  opnd(ir, ZT_OPND_CERT_SAN, NULL)), 1);
    first = str_list(ir, accepted, &count);
    allow_when(ir, "/sanlist", zb_node_raw(ir, ZT_OP_IN_LIST,
                                           opnd(ir, ZT_OPND_CERT_SAN, NULL),
                                           first, count), 1);
    allow_when(ir, "/saneq", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_CERT_SAN, NULL),
                                 lit_str(ir, "svc-a.corp")), 1);
    allow_when(ir, "/sanne", cmp(ir, ZT_OP_NE, opnd(ir, ZT_OPND_CERT_SAN, NULL),
                                 lit_str(ir, "x")), 1);
    allow_when(ir, "/subsan", cmp(ir, ZT_OP_IN_CLAIM, zb_token(ir, "sub"),
                                  opnd(ir, ZT_OPND_CERT_SAN, NULL)), 0);
    t = build(ir);

    ck_yes(t, "/cert", REQ(.cert = 1));
    ck_no(t, "/cert", REQ(0));
    ck_yes(t, "/nocert", REQ(0));                       /* a boolean, never missing */
    ck_no(t, "/nocert", REQ(.cert = 1));
    ck_yes(t, "/subject", REQ(.cert = 1, .subject = "CN=svc-a,O=corp"));
    ck_no(t, "/subject", REQ(.cert = 1, .subject = "CN=svc-a,O=corp2"));
    ck_no(t, "/subject", REQ(.cert = 1, .subject = "CN=svc-a"));
    ck_no(t, "/subject", REQ(.cert = 1));
    /* no verified certificate: its subject is missing whatever is passed */
    ck_no(t, "/subject", REQ(.subject = "CN=svc-a,O=corp"));
    ck_no(t, "/subjne", REQ(.subject = "CN=x"));
    ck_yes(t, "/subjne", REQ(.cert = 1, .subject = "CN=x"));
    ck_yes(t, "/san", REQ(.cert = 1, .san = sans));
    ck_no(t, "/san", REQ(.cert = 1, .san = no_sans));
    ck_no(t, "/san", REQ(.cert = 1));
    ck_no(t, "/san", REQ(.san = sans));                 /* not verified */
    ck_no(t, "/sanint", REQ(.cert = 1, .san = sans));
    ck_yes(t, "/sanlist", REQ(.cert = 1, .san = sans));
    ck_no(t, "/sanlist", REQ(.cert = 1, .san = no_sans));
    ck_no(t, "/sanlist", REQ(.san = sans));
    /* a set is not a value: == and != never hold */
    ck_no(t, "/saneq", REQ(.cert = 1, .san = sans));
    ck_no(t, "/sanne", REQ(.cert = 1, .san = sans));
    ck_yes(t, "/subsan", REQ(.json = "{\"sub\":\"spiffe://corp/svc-a\"}", .cert = 1,
                             .san = sans));
    ck_no(t, "/subsan", REQ(.json = "{\"sub\":\"spiffe://corp/svc\"}", .cert = 1,
                            .san = sans));
    ck_no(t, "/subsan", REQ(.json = "{\"sub\":[\"svc-a.corp\"]}", .cert = 1,
                            .san = sans));
}
END_TEST

START_TEST(tls_version)
{
    static const char *const modern[] = { "TLSv1.2", "TLSv1.3", NULL };
    zpc_ir_t *ir = zb_new(pool, "tls", "t.ztp");
    zt_table_t *t;
    uint32_t first, count;

    first = str_list(ir, modern, &count);
    allow_when(ir, "/modern", zb_node_raw(ir, ZT_OP_IN_LIST,
                                          opnd(ir, ZT_OPND_TLS_VERSION, NULL),
                                          first, count), 1);
    t = build(ir);

    ck_yes(t, "/modern", REQ(.tls = "TLSv1.3"));
    ck_yes(t, "/modern", REQ(.tls = "TLSv1.2"));
    ck_no(t, "/modern", REQ(.tls = "TLSv1.1"));
    ck_no(t, "/modern", REQ(.tls = "TLSv1"));
    ck_no(t, "/modern", REQ(.tls = "TLSv1.3 "));
    ck_no(t, "/modern", REQ(0));                        /* plain HTTP */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

START_TEST(time_of_day_and_week)
{
    static const char *const weekend[] = { "sat", "sun", NULL };
    zpc_ir_t *ir = zb_new(pool, "time", "t.ztp");
    zt_table_t *t;
    uint32_t first, count, office;

    /* office: 9 <= hour and hour < 17; the AND first, children after */
    office = zb_node_raw(ir, ZT_OP_AND, 0, 0, 0);
    APR_ARRAY_IDX(ir->nodes, office, zpc_ir_node_t).a =
        cmp(ir, ZT_OP_GE, opnd(ir, ZT_OPND_TIME_HOUR, NULL), lit_int(ir, 9));
    APR_ARRAY_IDX(ir->nodes, office, zpc_ir_node_t).b =
        cmp(ir, ZT_OP_LT, opnd(ir, ZT_OPND_TIME_HOUR, NULL), lit_int(ir, 17));
    allow_when(ir, "/office", office, 1);
    first = str_list(ir, weekend, &count);
    allow_when(ir, "/weekend", zb_node_raw(ir, ZT_OP_IN_LIST,
                                           opnd(ir, ZT_OPND_TIME_WEEKDAY, NULL),
                                           first, count), 1);
    allow_when(ir, "/wed", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_TIME_WEEKDAY, NULL),
                               lit_str(ir, "wed")), 1);
    allow_when(ir, "/h23", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_TIME_HOUR, NULL),
                               lit_int(ir, 23)), 1);
    allow_when(ir, "/hstr", cmp(ir, ZT_OP_EQ, opnd(ir, ZT_OPND_TIME_HOUR, NULL),
                                lit_str(ir, "10")), 1);
    t = build(ir);

    /* 2026-11-29T10:00:00Z is a Sunday */
    const int64_t sun10 = INT64_C(1795946400);
    ck_yes(t, "/office", REQ(.now = sun10));
    ck_yes(t, "/weekend", REQ(.now = sun10));
    ck_no(t, "/hstr", REQ(.now = sun10));              /* the hour is an integer */
    ck_no(t, "/office", REQ(.now = sun10 - 3600 - 1)); /* 08:59:59 */
    ck_yes(t, "/office", REQ(.now = sun10 - 3600));    /* 09:00:00 */
    ck_yes(t, "/office", REQ(.now = sun10 + 7 * 3600 - 1));    /* 16:59:59 */
    ck_no(t, "/office", REQ(.now = sun10 + 7 * 3600));         /* 17:00:00 */
    /* midnight: Sunday ends, Monday starts; Saturday's last second */
    ck_yes(t, "/weekend", REQ(.now = INT64_C(1795996800) - 1));
    ck_no(t, "/weekend", REQ(.now = INT64_C(1795996800)));
    ck_yes(t, "/weekend", REQ(.now = INT64_C(1795910399)));
    ck_no(t, "/weekend", REQ(.now = INT64_C(1795910399) - 86400));  /* Friday */
    ck_yes(t, "/h23", REQ(.now = INT64_C(1795910399)));
    /* the epoch was a Thursday; the hour before it a Wednesday, 23h */
    ck_no(t, "/wed", REQ(.now = 0));
    ck_yes(t, "/wed", REQ(.now = -3600));
    ck_yes(t, "/h23", REQ(.now = -3600));
    ck_yes(t, "/h23", REQ(.now = -1));
    ck_yes(t, "/wed", REQ(.now = -1));
    ck_no(t, "/wed", REQ(.now = -86401));
    /* 2024-02-29T09:00:00Z (leap day), a Thursday */
    ck_no(t, "/weekend", REQ(.now = INT64_C(1709197200)));
    ck_yes(t, "/office", REQ(.now = INT64_C(1709197200)));
    /* the extremes do not trap (UBSan) and stay in range */
    (void)allowed_rq(t, "/office", REQ(.now = INT64_MAX));
    (void)allowed_rq(t, "/office", REQ(.now = INT64_MIN));
    (void)allowed_rq(t, "/weekend", REQ(.now = INT64_MAX));
    (void)allowed_rq(t, "/weekend", REQ(.now = INT64_MIN));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sets of claims                                                      */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Claim views                                                         */
/* ------------------------------------------------------------------ */

/* This round's names: 10 (5 in use) from a tiny alphabet, 0 to 24 bytes, so that
 * names of one length often share their first and last 8 bytes (what the
 * view's table compares first) and differ only in the middle. */
static char *view_names[10];

static void view_names_make(unsigned *seed)
{
    for (int i = 0; i < 10; i++) {
        unsigned len = (unsigned)rand_r(seed) % 25;
        int framed = rand_r(seed) % 2 && len > 16;
        char *s = apr_palloc(pool, len + 1);

        for (unsigned k = 0; k < len; k++) {
            /* framed: only the middle differs from other framed names */
            s[k] = framed && (k < 8 || k >= len - 8) ? 'f' : "ab"[rand_r(seed) % 2];
        }
        s[len] = '\0';
        view_names[i] = s;
    }
}

static char *view_name(unsigned *seed)
{
    return view_names[rand_r(seed) % 5];
}

/* A random JSON value over those names, nested up to @a depth. */
static void view_value(unsigned *seed, int depth, char **out, int object)
{
    int kind = object ? 5 : rand_r(seed) % (depth > 0 ? 7 : 4);

    switch (kind) {
    case 0:  *out = apr_pstrcat(pool, *out, "1", NULL); break;
    case 1:  *out = apr_pstrcat(pool, *out, "\"v\"", NULL); break;
    case 2:  *out = apr_pstrcat(pool, *out, "true", NULL); break;
    case 3:  *out = apr_pstrcat(pool, *out, "null", NULL); break;
    case 4:  *out = apr_pstrcat(pool, *out, "[1,{\"a\":2}]", NULL); break;
    default: {
        int n = rand_r(seed) % 8;
        apr_hash_t *seen = apr_hash_make(pool);

        *out = apr_pstrcat(pool, *out, "{", NULL);
        for (int k = 0; k < n; k++) {
            char *name = view_name(seed);
            if (apr_hash_get(seen, name, APR_HASH_KEY_STRING) != NULL) {
                continue;       /* no duplicate names: the parser refuses them */
            }
            apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
            *out = apr_pstrcat(pool, *out, apr_hash_count(seen) > 1 ? "," : "",
                               "\"", name, "\":", NULL);
            view_value(seed, depth - 1, out, 0);
        }
        *out = apr_pstrcat(pool, *out, "}", NULL);
    }
    }
}

/* A view answers exactly as a lookup by name, for every slot, on random
 * documents and paths of up to 3 parts over colliding names. */
START_TEST(claim_view_matches_lookup)
{
    unsigned seed = 20261129, found = 0;

    for (int round = 0; round < 300; round++) {
        zt_claim_slots_t *cs = zt_claim_slots_make(pool);
        const char *paths[24];
        uint32_t parts[24], slot[24], *view;
        int npaths = 1 + rand_r(&seed) % 24;
        char *json = "";
        const zt_claims_t *c;

        view_names_make(&seed);
        for (int i = 0; i < npaths; i++) {
            char buf[128];
            size_t at = 0;

            parts[i] = 1 + (uint32_t)rand_r(&seed) % 3;
            for (uint32_t k = 0; k < parts[i]; k++) {
                const char *n = view_name(&seed);
                memcpy(buf + at, n, strlen(n) + 1);
                at += strlen(n) + 1;
            }
            paths[i] = apr_pmemdup(pool, buf, at);
            slot[i] = zt_claim_slots_add(cs, paths[i], parts[i]);
            ck_assert_uint_lt(slot[i], (uint32_t)npaths);
        }
        zt_claim_slots_seal(cs);
        view_value(&seed, 3, &json, 1);
        c = claims_of(json);
        view = apr_palloc(pool, (zt_claim_slots_view_size(cs) + 1) * sizeof(uint32_t));
        zt_claims_view(c, cs, view);
        for (int i = 0; i < npaths; i++) {
            zt_val_t a, b;

            zt_claims_get(c, paths[i], parts[i], &a);
            zt_claims_get_slot(c, view, slot[i], &b);
            ck_assert_msg(a.type == b.type && a.ref == b.ref,
                          "round %d, %s, path %d (%u parts): by name %d, by "
                          "view %d", round, json, i, parts[i], (int)a.type, (int)b.type);
            found += a.type != ZT_V_MISSING;
        }
        zt_claims_view(NULL, cs, view);
        for (int i = 0; i < npaths; i++) {
            zt_val_t b;
            zt_claims_get_slot(NULL, view, slot[i], &b);
            ck_assert_int_eq(b.type, ZT_V_MISSING);
        }
    }
    ck_assert_uint_gt(found, 300);      /* the paths do find claims */
}
END_TEST

/* The word or element @a w of @a len bytes is in the space-separated
 * @a list (words), or is one of @a n strings (elements): the evaluator's
 * semantics, written plainly. */
static int ref_word_of(const char *list, const char *w, size_t len)
{
    const char *p = list;

    if (len == 0) {
        return 0;
    }
    for (;;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == len && memcmp(p, w, len) == 0) {
            return 1;
        }
        if (e == NULL) {
            return 0;
        }
        p = e + 1;
    }
}

/* A set index answers as a scan of the claim: words of a string (runs of
 * spaces, leading and trailing ones, up to 20 words: some over
 * ZT_CLAIM_SET_MAX) and elements of an array (strings, "" and integers). */
START_TEST(claim_set_index_matches_scan)
{
    static const char *const words[] = {
        "", "a", "b", "ab", "a b", "orders:read", "orders:reaD", "orders:write",
        "aaaaaaaaXaaaaaaaa", "aaaaaaaaYaaaaaaaa", "0123456789abcdefg"
    };
    const size_t nw = sizeof(words) / sizeof(words[0]);
    unsigned seed = 4242, answered = 0, indexed_yes = 0;

    for (int round = 0; round < 400; round++) {
        zt_claim_slots_t *cs = zt_claim_slots_make(pool);
        uint32_t ss = zt_claim_slots_add(cs, "s", 1), sa = zt_claim_slots_add(cs, "a", 1);
        char str[512] = "", *json;
        const char *arr = "[", *sep = "";
        int nwords = rand_r(&seed) % 21, nelem = rand_r(&seed) % 21;
        const zt_claims_t *c;
        uint32_t *view;

        for (int k = 0; k < nwords; k++) {
            const char *w = words[1 + rand_r(&seed) % (nw - 1)];
            strcat(str, rand_r(&seed) % 5 == 0 ? "  " : " ");
            strcat(str, strchr(w, ' ') ? "x" : w);      /* a word has no space */
        }
        for (int k = 0; k < nelem; k++) {
            arr = rand_r(&seed) % 4 == 0
                  ? apr_psprintf(pool, "%s%s%d", arr, sep, rand_r(&seed) % 3)
                  : apr_psprintf(pool, "%s%s\"%s\"", arr, sep, words[rand_r(&seed) % nw]);
            sep = ",";
        }
        json = apr_psprintf(pool, "{\"s\":\"%s\",\"a\":%s]}", str, arr);
        zt_claim_slots_index(cs, ss);
        zt_claim_slots_index(cs, sa);
        zt_claim_slots_seal(cs);
        ck_assert_uint_ne(zt_claim_slots_set(cs, ss), UINT32_MAX);
        c = claims_of(json);
        view = apr_palloc(pool, zt_claim_slots_view_size(cs) * sizeof(uint32_t));
        zt_claims_view(c, cs, view);
        for (size_t k = 0; k < nw; k++) {
            size_t len = strlen(words[k]);
            uint32_t h = zt_claims_member_hash(words[k], len);
            int want_s = ref_word_of(str, words[k], len);
            int got_s = zt_claims_set_has(c, view, zt_claim_slots_set(cs, ss),
                                          words[k], (uint32_t)len, h);
            int got_a = zt_claims_set_has(c, view, zt_claim_slots_set(cs, sa),
                                          words[k], (uint32_t)len, h);
            int want_a = strstr(arr, apr_psprintf(pool, "\"%s\"", words[k])) != NULL;

            ck_assert_msg(got_s == -1 || got_s == want_s, "%s: \"%s\" in s: %d, want %d",
                          json, words[k], got_s, want_s);
            ck_assert_msg(got_a == -1 || got_a == want_a, "%s: \"%s\" in a: %d, want %d",
                          json, words[k], got_a, want_a);
            /* the index answers exactly when the members fit */
            ck_assert_int_eq(got_s == -1, nwords > ZT_CLAIM_SET_MAX);
            answered += (got_s >= 0) + (got_a >= 0);
            indexed_yes += (got_s == 1) + (got_a == 1);
        }
    }
    ck_assert_uint_gt(answered, 2000);
    ck_assert_uint_gt(indexed_yes, 500);
    {   /* a view without its claims answers nothing */
        zt_claim_slots_t *cs = zt_claim_slots_make(pool);
        uint32_t *view, slot = zt_claim_slots_add(cs, "scope", 1);

        zt_claim_slots_index(cs, slot);
        zt_claim_slots_seal(cs);
        view = apr_palloc(pool, zt_claim_slots_view_size(cs) * sizeof(uint32_t));
        zt_claims_view(claims_of("{\"scope\":\"a b\"}"), cs, view);
        ck_assert_int_eq(zt_claims_set_has(NULL, view, zt_claim_slots_set(cs, slot), "a", 1,
                                           zt_claims_member_hash("a", 1)), -1);
        zt_claims_view(NULL, cs, view);
        ck_assert_int_eq(view[slot], 0);
    }
}
END_TEST

START_TEST(claim_sets_in_list)
{
    zpc_ir_t *ir = zb_new(pool, "sets", "s.ztp");
    zt_table_t *t;

    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in_list token.groups [\"ops\" \"dev\" 7 true])",
            "GET /g", 1, zb_route(ir, ZT_M_GET, "/g"));
    t = build(ir);

    ck_allowed(t, "/g", "{\"groups\":\"ops\"}");
    ck_allowed(t, "/g", "{\"groups\":[\"x\",\"dev\"]}");
    ck_allowed(t, "/g", "{\"groups\":[null,{},7]}");
    ck_allowed(t, "/g", "{\"groups\":[true]}");
    ck_denied(t, "/g", "{\"groups\":[\"x\"]}");
    ck_denied(t, "/g", "{\"groups\":[]}");
    ck_denied(t, "/g", "{\"groups\":[[\"ops\"]]}");
    ck_denied(t, "/g", "{\"groups\":[\"7\",\"true\",false]}");
    ck_denied(t, "/g", "{\"groups\":{\"ops\":1}}");
    ck_denied(t, "/g", "{\"groups\":\"ops dev\"}");   /* a string is one value here */
    ck_denied(t, "/g", "{\"groups\":null}");
    ck_denied(t, "/g", "{\"groups\":7.0}");
    ck_denied(t, "/g", "{}");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Programs against node trees, at random                              */
/* ------------------------------------------------------------------ */

/* Strings whose lengths straddle the word compares (0, 7, 8, 9, 16, 17,
 * 32, 33 bytes), differing only in their first, a middle or last byte. */
static const char *const rnd_strs[] = {
    "", "a", "b", "abcdefg", "abcdefX", "abcdefgh", "Xbcdefgh", "abcdefghi",
    "abcdefghX", "abcdefghijklmnop", "abcdefghijklmnoX", "abcdefgXijklmnop",
    "abcdefghijklmnopq", "abcdefghijklmnopX", "abcdefghXjklmnopq",
    "abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklXnopqrstuvwxyz012345",
    "abcdefghijklmnopqrXtuvwxyz012345", "abcdefghijklmnopqrstuvwxyz0123456",
    "abcdefghijklmnopqrstuvwxyz012345X"
};
#define RND_NSTRS ((int)(sizeof(rnd_strs) / sizeof(rnd_strs[0])))

static const char *rnd_str(unsigned *seed)
{
    return rnd_strs[rand_r(seed) % RND_NSTRS];
}

/* One comparison over claims x, y, s, n, capture a, the weekday, TLS
 * and the client address: every specialised case of zt_prog.h, turned
 * round or not, and the generic ones. */
static const char *rnd_atom(unsigned *seed)
{
    static const char *const claims[] = { "x", "y", "s", "n" };
    static const char *const ord[] = { "lt", "le", "gt", "ge" };
    const char *c = claims[rand_r(seed) % 4], *w = rnd_str(seed);
    int k = rand_r(seed) % 4 - 1;

    switch (rand_r(seed) % 16) {
    case 0:  return apr_psprintf(pool, "(eq token.%s \"%s\")", c, w);
    case 1:  return apr_psprintf(pool, "(ne \"%s\" token.%s)", w, c);
    case 2:  return apr_psprintf(pool, "(eq token.%s %d)", c, k);
    case 3:  return apr_psprintf(pool, "(ne token.%s %s)", c, k < 1 ? "true" : "false");
    case 4:  return apr_psprintf(pool, "(%s token.%s path.a)", k < 1 ? "eq" : "ne", c);
    case 5:  return apr_psprintf(pool, "(%s token.%s %d)", ord[rand_r(seed) % 4], c, k);
    case 6:  return apr_psprintf(pool, "(%s %d token.%s)", ord[rand_r(seed) % 4], k, c);
    case 7:
    case 8:  return apr_psprintf(pool, "(in \"%s\" token.%s)", w, c);
    case 9:  return apr_psprintf(pool, "(in_list token.%s [\"%s\" \"%s\"])", c, w,
                                 rnd_str(seed));
    case 10: return apr_psprintf(pool, "(in_list token.%s [\"%s\" 2 true])", c, w);
    case 11: return k < 1 ? "(in_list time.weekday [\"sat\" \"mon\" \"x\" 3])"
                          : "(eq time.weekday \"sun\")";
    case 12: return k < 0 ? "(in_list tls.version [\"TLSv1.2\" \"TLSv1.3\"])"
                   : k < 1 ? "(in_list tls.version [\"TLSv1\" \"TLSv1.1\" \"SSLv3\" \"TLSv1.0\"])"
                           : "(ne tls.version \"TLSv1.3\")";
    case 13: return "(in_cidr client.ip [10.0.0.0/8 192.168.1.0/24])";
    case 14: return apr_psprintf(pool, "(eq token.x token.%s)", c);
    default: return apr_psprintf(pool, "(in token.%s token.s)", c);
    }
}

static const char *rnd_cond(unsigned *seed, int depth)
{
    switch (depth > 0 ? rand_r(seed) % 5 : 0) {
    case 0:
    case 1:  return rnd_atom(seed);
    case 2:  return apr_psprintf(pool, "(and %s %s)", rnd_cond(seed, depth - 1),
                                 rnd_cond(seed, depth - 1));
    case 3:  return apr_psprintf(pool, "(or %s %s)", rnd_cond(seed, depth - 1),
                                 rnd_cond(seed, depth - 1));
    default: return apr_psprintf(pool, "(not %s)", rnd_cond(seed, depth - 1));
    }
}

/* A claim's JSON: a string, words, an integer, a boolean, null, an
 * array (sometimes of more than ZT_CLAIM_SET_MAX members) or an object. */
static const char *rnd_value(unsigned *seed)
{
    const char *v = "";

    switch (rand_r(seed) % 8) {
    case 0:  return apr_psprintf(pool, "\"%s\"", rnd_str(seed));
    case 1:
        for (int k = 1 + rand_r(seed) % 4; k > 0; k--) {
            v = apr_pstrcat(pool, v, rnd_strs[1 + rand_r(seed) % (RND_NSTRS - 1)],
                            k > 1 ? " " : "", NULL);
        }
        return apr_psprintf(pool, "\"%s\"", v);
    case 2:  return apr_psprintf(pool, "%d", rand_r(seed) % 4 - 1);
    case 3:  return rand_r(seed) % 2 ? "true" : "false";
    case 4:  return "null";
    case 5:
    case 6:
        for (int k = rand_r(seed) % (rand_r(seed) % 4 ? 5 : 19); k > 0; k--) {
            v = rand_r(seed) % 5 == 0
                ? apr_psprintf(pool, "%s%d%s", v, rand_r(seed) % 3, k > 1 ? "," : "")
                : apr_psprintf(pool, "%s\"%s\"%s", v, rnd_str(seed), k > 1 ? "," : "");
        }
        return apr_psprintf(pool, "[%s]", v);
    default: return "{\"a\":1}";
    }
}

/* Random policies over three routes (captures in different places, one
 * without), decided four ways (decide_every_way): the route programs --
 * chains of rules, calls of shared conditions, every specialised case --
 * answer as the node trees do, with and without a view. */
START_TEST(programs_match_trees)
{
    /* a Sunday, a Monday, and the Wednesday before the epoch */
    static const int64_t now[] = { INT64_C(1795946400), INT64_C(1795996800), -3600 };
    static const char *const tls[] = {  /* known by bit, and not */
        NULL, "TLSv1.2", "TLSv1.3", "TLSv1", "TLSv1.1", "SSLv3", "TLSv1.0", "TLSv1.3x"
    };
    static const char *const ips[] = { "10.1.2.3", "192.168.1.7", "::ffff:10.0.0.1", "::1" };
    unsigned seed = 20261129, verdicts[4] = { 0 };

    for (int round = 0; round < 150; round++) {
        zpc_ir_t *ir = zb_new(pool, "rnd", "r.ztp");
        uint32_t routes[3];
        zt_table_t *t;

        routes[0] = zb_route(ir, ZT_M_GET, "/r/{a}");
        routes[1] = zb_route(ir, ZT_M_GET, "/s");
        routes[2] = zb_route(ir, ZT_M_GET, "/t/{b}/{a}");
        for (int k = 0; k < 12; k++) {
            uint32_t sel[3], n = 0;
            int pick = 1 + rand_r(&seed) % 7;

            for (int r = 0; r < 3; r++) {
                if (pick & (1 << r)) {
                    sel[n++] = routes[r];
                }
            }
            zb_rule(ir, rand_r(&seed) % 3 == 0 ? ZT_EFFECT_DENY : ZT_EFFECT_ALLOW,
                    rand_r(&seed) % 5 == 0 ? ZT_RULE_PUBLIC : 0,
                    rand_r(&seed) % 10 == 0 ? NULL : rnd_cond(&seed, 4), "GET /rnd",
                    (int)n, sel[0], sel[1], sel[2]);
        }
        t = build(ir);
        for (int q = 0; q < 40; q++) {
            const char *seg = rnd_strs[1 + rand_r(&seed) % (RND_NSTRS - 1)];
            const char *seg2 = rnd_strs[1 + rand_r(&seed) % (RND_NSTRS - 1)];
            const char *target = rand_r(&seed) % 3 == 0 ? "/s"
                                 : rand_r(&seed) % 2 ? apr_psprintf(pool, "/r/%s", seg)
                                 : apr_psprintf(pool, "/t/%s/%s", seg2, seg);
            const char *json = NULL;
            zt_decision_t d;

            if (rand_r(&seed) % 5 != 0) {
                json = apr_psprintf(pool, "{\"x\":%s,\"y\":%s,\"s\":%s,\"n\":%s}",
                                    rnd_value(&seed), rnd_value(&seed), rnd_value(&seed),
                                    rnd_value(&seed));
                if (rand_r(&seed) % 4 == 0) {
                    json = "{\"y\":\"a\"}";     /* most claims missing */
                }
            }
            d = decide_rq(t, "GET", target,
                          REQ(.json = json, .ip = ips[rand_r(&seed) % 4],
                              .tls = tls[rand_r(&seed) % 8], .now = now[rand_r(&seed) % 3]));
            verdicts[d.verdict]++;
        }
    }
    /* the policies decide every way, not only by default */
    ck_assert_uint_gt(verdicts[ZT_ALLOW], 300);
    ck_assert_uint_gt(verdicts[ZT_DENY], 300);
    ck_assert_uint_gt(verdicts[ZT_NEED_TOKEN], 100);
}
END_TEST

/* A balanced OR of (eq token.cK "v") for K in [from, to). */
static const char *wide_or(int from, int to)
{
    int mid = from + (to - from) / 2;

    if (to - from == 1) {
        return apr_psprintf(pool, "(eq token.c%d \"v\")", from);
    }
    return apr_psprintf(pool, "(or %s %s)", wide_or(from, mid), wide_or(mid, to));
}

/* ZT_PI_GENERIC instructions of the @a n at @a ins. */
static uint32_t count_generic(const zt_pins_t *ins, uint32_t n)
{
    uint32_t generic = 0;

    for (uint32_t i = 0; i < n; i++) {
        generic += ins[i].code == ZT_PI_GENERIC;
    }
    return generic;
}

START_TEST(programs_past_16_bits)
{
    /* More claims than a 16-bit slot names, and so set places past 16
     * bits too: those comparisons run operand by operand (ZT_PI_GENERIC),
     * with the node trees' answers. */
    zpc_ir_t *ir = zb_new(pool, "wide", "w.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/w");
    const zt_proute_t *pr;
    zt_table_t *t;

    for (int k = 0; k < 66000; k += 2000) {     /* rules 0 .. 32, shared */
        zb_rule(ir, ZT_EFFECT_ALLOW, 0, wide_or(k, k + 2000), "GET /w", 1, r);
    }
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(and (in \"w\" token.s) (eq token.c65999 \"z\"))",
            "GET /w", 1, r);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(and (in \"w\" token.s) (ge token.c70000 7))",
            "GET /w", 1, r);
    t = build(ir);
    pr = zt_prog_head(t->prog->code, t->prog->route[r]);
    ck_assert_uint_eq(count_generic(pr->ins, pr->ninsns), 4);    /* rules 33, 34 */
    ck_decision(t, "GET", "/w", "{\"c5\":\"v\"}", ZT_ALLOW, 0);
    ck_decision(t, "GET", "/w", "{\"c65998\":\"v\"}", ZT_ALLOW, 32);
    ck_decision(t, "GET", "/w", "{\"c65999\":\"z\",\"s\":\"w\"}", ZT_DENY, 33);
    ck_decision(t, "GET", "/w", "{\"c65999\":\"z\",\"s\":\"x\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/w", "{\"c65999\":\"v\",\"s\":\"w\"}", ZT_ALLOW, 32);
    ck_decision(t, "GET", "/w", "{\"c70000\":8,\"s\":\"x w\"}", ZT_ALLOW, 34);
    ck_decision(t, "GET", "/w", "{\"c70000\":6,\"s\":\"x w\"}", ZT_DENY, NONE);
    ck_decision(t, "GET", "/w", NULL, ZT_NEED_TOKEN, NONE);
}
END_TEST

/* Route @a r's block ends at @a deny deny rules, @a allow allow rules
 * and one end of no rule. */
static void ck_ends(const zt_table_t *t, uint32_t r, uint32_t deny, uint32_t allow)
{
    uint32_t n[ZT_PI__COUNT] = { 0 };
    const zt_proute_t *pr;
    const zt_pend_t *end;
    size_t lines;

    ck_assert_uint_ne(t->prog->route[r], ZT_NONE);
    pr = zt_prog_head(t->prog->code, t->prog->route[r]);
    for (uint32_t i = 0; i < pr->ninsns; i++) {
        ck_assert_uint_lt(pr->ins[i].code, ZT_PI_DENY);
    }
    end = (const zt_pend_t *)(const void *)(pr->ins + pr->ninsns);
    /* the entry names the block's lines after its first */
    ck_assert_uint_eq((uintptr_t)pr->ins % 64, 0);
    lines = ((const char *)(end + pr->nends) - (const char *)pr->ins - 1) / 64;
    ck_assert_uint_eq(t->prog->route[r] & ZT_PROG_LINES,
                      lines < ZT_PROG_LINES ? lines : ZT_PROG_LINES);
    for (uint32_t i = 0; i < pr->nends; i++) {
        ck_assert_uint_ge(end[i].code, ZT_PI_DENY);
        n[end[i].code]++;
    }
    ck_assert_uint_eq(n[ZT_PI_DENY], deny);
    ck_assert_uint_eq(n[ZT_PI_ALLOW], allow);
    ck_assert_uint_eq(n[ZT_PI_NONE], 1);
}

/* Each rule of a block ends at an instruction of its own that names it,
 * once, and one end is for no rule; without a token, an allow that is
 * not public goes back to the next allow. */
START_TEST(programs_ends)
{
    zpc_ir_t *ir = zb_new(pool, "ends", "e.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");      /* every allow public */
    uint32_t b = zb_route(ir, ZT_M_GET, "/b");      /* public and not */
    uint32_t c = zb_route(ir, ZT_M_GET, "/c");      /* denies only */
    uint32_t e = zb_route(ir, ZT_M_GET, "/e");      /* allows only */
    uint32_t f = zb_route(ir, ZT_M_GET, "/f");      /* one allow, not public */
    uint32_t g = zb_route(ir, ZT_M_GET, "/g");      /* then one without condition */
    zt_table_t *t;

    zb_rule(ir, ZT_EFFECT_DENY, 0, "(eq token.x 1)", "GET /a", 2, a, b);             /* 0 */
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(not (eq token.y 1))", "GET /a", 1, a);
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL, "GET /a /b", 2, a, b);        /* 2 */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.z 1)", "GET /b", 1, b);               /* 3 */
    zb_rule(ir, ZT_EFFECT_DENY, ZT_RULE_PUBLIC, "(eq token.x 2)", "GET /c", 1, c);   /* 4 */
    zb_rule(ir, ZT_EFFECT_DENY, 0, NULL, "GET /c", 1, c);                            /* 5 */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.z 1)", "GET /e", 1, e);               /* 6 */
    /* conditions that hold without a token */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(not (eq token.q 1))", "GET /e /f", 2, e, f);   /* 7 */
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(not (eq token.w 1))", "GET /e", 1, e);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(not (eq token.q 1))", "GET /g", 1, g);         /* 9 */
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL, "GET /g", 1, g);              /* 10 */
    t = build(ir);

    ck_ends(t, a, 1, 2);
    ck_decision(t, "GET", "/a", NULL, ZT_ALLOW, 1);
    ck_decision(t, "GET", "/a", "{\"y\":1}", ZT_ALLOW, 2);
    ck_decision(t, "GET", "/a", "{\"x\":1}", ZT_DENY, 0);

    ck_ends(t, b, 1, 2);
    ck_decision(t, "GET", "/b", NULL, ZT_ALLOW, 2);
    ck_decision(t, "GET", "/b", "{\"z\":1}", ZT_ALLOW, 2);
    ck_decision(t, "GET", "/b", "{\"x\":1,\"z\":1}", ZT_DENY, 0);

    ck_ends(t, c, 2, 0);
    ck_decision(t, "GET", "/c", NULL, ZT_NEED_TOKEN, 5);
    ck_decision(t, "GET", "/c", "{\"x\":2}", ZT_DENY, 4);
    ck_decision(t, "GET", "/c", "{}", ZT_DENY, 5);

    ck_ends(t, e, 0, 3);
    ck_decision(t, "GET", "/e", NULL, ZT_ALLOW, 8);        /* 7 holds, but is not public */
    ck_decision(t, "GET", "/e", "{\"z\":1}", ZT_ALLOW, 6);
    ck_decision(t, "GET", "/e", "{\"z\":2}", ZT_ALLOW, 7);
    ck_decision(t, "GET", "/e", "{\"q\":1}", ZT_ALLOW, 8);
    ck_decision(t, "GET", "/e", "{\"q\":1,\"w\":1}", ZT_DENY, NONE);

    ck_ends(t, f, 0, 1);
    ck_decision(t, "GET", "/f", NULL, ZT_NEED_TOKEN, NONE);
    ck_decision(t, "GET", "/f", "{}", ZT_ALLOW, 7);

    /* the next allow is its end, laid out after this one's */
    ck_ends(t, g, 0, 2);
    ck_decision(t, "GET", "/g", NULL, ZT_ALLOW, 10);
    ck_decision(t, "GET", "/g", "{}", ZT_ALLOW, 9);
    ck_decision(t, "GET", "/g", "{\"q\":1}", ZT_ALLOW, 10);
}
END_TEST

/* A block of more lines than a route's entry counts (ZT_PROG_LINES):
 * 300 rules of one comparison each.  The count stops there, and every
 * rule, the last one included, still decides. */
START_TEST(programs_past_the_line_count)
{
    zpc_ir_t *ir = zb_new(pool, "long", "l.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/l");
    zt_table_t *t;

    for (int k = 0; k < 300; k++) {
        zb_rule(ir, ZT_EFFECT_ALLOW, 0, apr_psprintf(pool, "(eq token.c%d \"v\")", k),
                "GET /l", 1, r);
    }
    t = build(ir);
    ck_assert_uint_eq(t->prog->route[r] & ZT_PROG_LINES, ZT_PROG_LINES);
    ck_ends(t, r, 0, 300);
    ck_decision(t, "GET", "/l", "{\"c0\":\"v\"}", ZT_ALLOW, 0);
    ck_decision(t, "GET", "/l", "{\"c299\":\"v\"}", ZT_ALLOW, 299);
    ck_decision(t, "GET", "/l", "{\"c299\":\"w\",\"c300\":\"v\"}", ZT_DENY, NONE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Step-up                                                             */
/* ------------------------------------------------------------------ */

static int32_t stepup(zpc_ir_t *ir, const char *const *acr, uint32_t max_age)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_stepup_t *s = &APR_ARRAY_PUSH(ir->stepups, zpc_ir_stepup_t);

    s->acr = apr_array_make(p, 2, sizeof(const char *));
    for (; acr != NULL && *acr != NULL; acr++) {
        APR_ARRAY_PUSH(s->acr, const char *) = *acr;
    }
    s->max_age = max_age;
    s->file = "s.ztp";
    s->line = 50 + (uint32_t)ir->stepups->nelts;
    return (int32_t)ir->stepups->nelts - 1;
}

#define NOW INT64_C(1800000000)

#define ck_stepup(t, path, claims, want_verdict, want_stepup)                    \
    do {                                                                         \
        const char *c_ = (claims);                                               \
        zt_decision_t d_ = decide_rq((t), "GET", (path), REQ(.json = c_,         \
                                                           .now = NOW));         \
        ck_assert_msg(d_.verdict == (want_verdict) && d_.stepup == (want_stepup),\
                      "%s %s: verdict %d stepup %d", (path),                     \
                      c_ ? c_ : "-", (int)d_.verdict, (int)d_.stepup);           \
    } while (0)

START_TEST(stepup_requirements)
{
    static const char *const mfa[] = { "urn:mfa", "urn:hwk", NULL };
    zpc_ir_t *ir = zb_new(pool, "stepup", "s.ztp");
    zt_table_t *t;
    uint32_t both, acr_only, age_only, denied, pub, none;

    both = allow_when(ir, "/both", ZT_NONE, 0);
    acr_only = allow_when(ir, "/acr", ZT_NONE, 0);
    age_only = allow_when(ir, "/age", ZT_NONE, 0);
    denied = allow_when(ir, "/denied", ZT_NONE, 0);
    pub = allow_when(ir, "/pub", ZT_NONE, 1);
    none = zb_route(ir, ZT_M_GET, "/none");             /* no rule allows */
    APR_ARRAY_IDX(ir->routes, both, zpc_ir_route_t).stepup = stepup(ir, mfa, 600);
    APR_ARRAY_IDX(ir->routes, acr_only, zpc_ir_route_t).stepup = stepup(ir, mfa, 0);
    APR_ARRAY_IDX(ir->routes, age_only, zpc_ir_route_t).stepup = stepup(ir, NULL, 60);
    APR_ARRAY_IDX(ir->routes, denied, zpc_ir_route_t).stepup = 0;
    APR_ARRAY_IDX(ir->routes, pub, zpc_ir_route_t).stepup = 0;
    APR_ARRAY_IDX(ir->routes, none, zpc_ir_route_t).stepup = 0;
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(eq token.banned true)", "GET /denied", 1, denied);
    t = build(ir);

    /* acr listed and auth_time recent enough */
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000000}", ZT_ALLOW, NONE);
    ck_stepup(t, "/both", "{\"acr\":\"urn:hwk\",\"auth_time\":1799999400}", ZT_ALLOW, NONE);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000300}", ZT_ALLOW, NONE);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\",\"auth_time\":1799999399}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":\"urn:pwd\",\"auth_time\":1800000000}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa \",\"auth_time\":1800000000}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":[\"urn:mfa\"],\"auth_time\":1800000000}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"auth_time\":1800000000}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\"}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\",\"auth_time\":\"1800000000\"}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000000.0}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", "{}", ZT_STEPUP, 0);
    ck_stepup(t, "/both", NULL, ZT_NEED_TOKEN, NONE);  /* no allow without a token */
    /* only acr */
    ck_stepup(t, "/acr", "{\"acr\":\"urn:hwk\"}", ZT_ALLOW, NONE);
    ck_stepup(t, "/acr", "{\"acr\":\"urn:hwk\",\"auth_time\":0}", ZT_ALLOW, NONE);
    ck_stepup(t, "/acr", "{\"acr\":\"urn:x\"}", ZT_STEPUP, 1);
    /* only max_age: any acr, or none */
    ck_stepup(t, "/age", "{\"auth_time\":1799999940}", ZT_ALLOW, NONE);
    ck_stepup(t, "/age", "{\"acr\":\"0\",\"auth_time\":1799999940}", ZT_ALLOW, NONE);
    ck_stepup(t, "/age", "{\"auth_time\":1799999939}", ZT_STEPUP, 2);
    ck_stepup(t, "/age", "{\"auth_time\":-9223372036854775808}", ZT_STEPUP, 2);
    /* a deny still overrides; no allow means deny, not step-up */
    ck_stepup(t, "/denied", "{\"banned\":true}", ZT_DENY, NONE);
    ck_stepup(t, "/denied", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000000,\"banned\":true}",
              ZT_DENY, NONE);
    ck_stepup(t, "/denied", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000000}", ZT_ALLOW, NONE);
    ck_stepup(t, "/denied", "{}", ZT_STEPUP, 0);
    ck_stepup(t, "/none", "{}", ZT_DENY, NONE);
    /* a public rule allows, but step-up needs a token: ask for one */
    ck_stepup(t, "/pub", NULL, ZT_NEED_TOKEN, 0);
    ck_stepup(t, "/pub", "{}", ZT_STEPUP, 0);
    ck_stepup(t, "/pub", "{\"acr\":\"urn:mfa\",\"auth_time\":1800000000}", ZT_ALLOW, NONE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Denies without a token                                              */
/* ------------------------------------------------------------------ */

/* A deny on something other than the token holds on a public route too;
 * without a token it answers "token needed", naming the deny. */
START_TEST(deny_without_token)
{
    zpc_ir_t *ir = zb_new(pool, "dn", "d.ztp");
    zt_table_t *t;
    uint32_t health, orders, first;

    health = allow_when(ir, "/health", ZT_NONE, 1);                 /* rule 0 */
    orders = allow_when(ir, "/orders", ZT_NONE, 0);                 /* rule 1 */
    first = (uint32_t)ir->cidrs->nelts;
    cidr(ir, "203.0.113.0", 24);
    zb_rule(ir, ZT_EFFECT_DENY, 0, NULL, "* /**", 2, health, orders); /* rule 2 */
    APR_ARRAY_IDX(ir->rules, 2, zpc_ir_rule_t).cond = in_cidr(ir, first);
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(eq token.azp \"legacy\")", "* /**", 2,
            health, orders);                                        /* rule 3 */
    t = build(ir);

    zt_decision_t d = decide_rq(t, "GET", "/health", REQ(.ip = "203.0.113.9"));
    ck_assert_int_eq(d.verdict, ZT_NEED_TOKEN);
    ck_assert_uint_eq(d.rule, 2);
    d = decide_rq(t, "GET", "/health", REQ(.ip = "198.51.100.1"));
    ck_assert_int_eq(d.verdict, ZT_ALLOW);
    ck_assert_uint_eq(d.rule, 0);
    d = decide_rq(t, "GET", "/health", REQ(.ip = "203.0.113.9", .json = "{}"));
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, 2);
    d = decide_rq(t, "GET", "/orders", REQ(.ip = "203.0.113.9"));
    ck_assert_int_eq(d.verdict, ZT_NEED_TOKEN);
    ck_assert_uint_eq(d.rule, 2);
    d = decide_rq(t, "GET", "/orders", REQ(.ip = "198.51.100.1"));
    ck_assert_int_eq(d.verdict, ZT_NEED_TOKEN);
    ck_assert_uint_eq(d.rule, NONE);
    /* a token deny cannot hold without a token: its claim is missing */
    d = decide_rq(t, "GET", "/health", REQ(0));
    ck_assert_int_eq(d.verdict, ZT_ALLOW);
    d = decide_rq(t, "GET", "/health", REQ(.json = "{\"azp\":\"legacy\"}"));
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The query parser                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
    int n;
    zt_qparam_t p[8];
    const char *err;
    char *buf;
    size_t buflen;
} parsed_t;

/* Parse a copy of @a raw into a buffer of exactly strlen(raw) bytes, so
 * that ASan catches a write past it; every span must lie in the copy or
 * the buffer, which are then freed. */
static parsed_t *parse(const char *raw, uint32_t max)
{
    parsed_t *r = apr_pcalloc(pool, sizeof(*r));
    char *copy = strdup(raw);

    ck_assert_uint_le(max, 8);
    r->buflen = strlen(raw);
    r->buf = malloc(r->buflen ? r->buflen : 1);
    r->n = zt_query_parse(copy, r->buf, r->p, max, &r->err);
    for (int k = 0; k < r->n; k++) {
        zt_span_t *sp[2] = { &r->p[k].name, &r->p[k].value };
        for (int j = 0; j < 2; j++) {
            ck_assert(sp[j]->len == 0
                      || (sp[j]->ptr >= r->buf
                          && sp[j]->ptr + sp[j]->len <= r->buf + r->buflen)
                      || (sp[j]->ptr >= copy
                          && sp[j]->ptr + sp[j]->len <= copy + r->buflen));
            sp[j]->ptr = apr_pstrmemdup(pool, sp[j]->ptr, sp[j]->len);
        }
    }
    free(r->buf);
    free(copy);
    return r;
}

static int span_is(const zt_span_t *sp, const char *s, size_t len)
{
    return sp->len == len && memcmp(sp->ptr, s, len) == 0;
}

#define ck_pair(r, k, want_name, want_value)                                \
    ck_assert_msg(span_is(&(r)->p[k].name, want_name, sizeof(want_name) - 1)\
                  && span_is(&(r)->p[k].value, want_value,                  \
                             sizeof(want_value) - 1),                       \
                  "pair %d: [%.*s]=[%.*s]", (k),                            \
                  (int)(r)->p[k].name.len, (r)->p[k].name.ptr,              \
                  (int)(r)->p[k].value.len, (r)->p[k].value.ptr)

START_TEST(query_parse_good)
{
    parsed_t *r;
    const char *err = NULL;

    ck_assert_int_eq(zt_query_parse(NULL, NULL, NULL, 0, &err), 0);
    ck_assert_int_eq(parse("", 8)->n, 0);
    r = parse("a=1&b=2", 8);
    ck_assert_int_eq(r->n, 2);
    ck_pair(r, 0, "a", "1");
    ck_pair(r, 1, "b", "2");
    r = parse("a", 8);
    ck_assert_int_eq(r->n, 1);
    ck_pair(r, 0, "a", "");
    r = parse("a=&b", 8);
    ck_pair(r, 0, "a", "");
    ck_pair(r, 1, "b", "");
    r = parse("a=b=c", 8);
    ck_pair(r, 0, "a", "b=c");
    r = parse("%3D=%3d&%26=%26", 8);                  /* escaped separators */
    ck_assert_int_eq(r->n, 2);
    ck_pair(r, 0, "=", "=");
    ck_pair(r, 1, "&", "&");
    r = parse("q=a+b&a+b=%2B", 8);
    ck_pair(r, 0, "q", "a b");
    ck_pair(r, 1, "a b", "+");
    r = parse("x=%4a%4A%41%7e", 8);
    ck_pair(r, 0, "x", "JJA~");
    r = parse("x=%2526", 8);                          /* decoded once */
    ck_pair(r, 0, "x", "%26");
    r = parse("a;b=1", 8);                            /* ';' separates nothing */
    ck_assert_int_eq(r->n, 1);
    ck_pair(r, 0, "a;b", "1");
    r = parse("e=%C3%A9&f=%f0%9f%98%80&g=\xc3\xa9&h=%ef%bf%bf", 8);
    ck_assert_int_eq(r->n, 4);
    ck_pair(r, 0, "e", "\xc3\xa9");
    ck_pair(r, 1, "f", "\xf0\x9f\x98\x80");
    ck_pair(r, 2, "g", "\xc3\xa9");
    ck_pair(r, 3, "h", "\xef\xbf\xbf");
    r = parse("a=%20%7E%21", 8);
    ck_pair(r, 0, "a", " ~!");
    /* empty pairs are skipped, and do not count against the limit */
    r = parse("&&a=1&&&b=2&", 2);
    ck_assert_int_eq(r->n, 2);
    ck_pair(r, 0, "a", "1");
    ck_pair(r, 1, "b", "2");
    ck_assert_int_eq(parse("&", 0)->n, 0);
    ck_assert_int_eq(parse("&&&&", 8)->n, 0);
    /* repeated names are kept in order */
    r = parse("a=1&a=2&a=3", 8);
    ck_assert_int_eq(r->n, 3);
    ck_pair(r, 2, "a", "3");
}
END_TEST

START_TEST(query_parse_hostile)
{
    static const struct { const char *raw; const char *why; } bad[] = {
        { "%", "invalid percent escape" },
        { "a=%", "invalid percent escape" },
        { "a=%4", "invalid percent escape" },
        { "a=%4g", "invalid percent escape" },
        { "a=%g4", "invalid percent escape" },
        { "a=%%41", "invalid percent escape" },
        { "a=% 41", "invalid percent escape" },
        { "a=%-1", "invalid percent escape" },
        { "a=%+1", "invalid percent escape" },
        { "a=%\xc3\xa9", "invalid percent escape" },
        { "%zz=1", "invalid percent escape" },
        { "a=1&b=%2", "invalid percent escape" },
        { "a=%00", "NUL or control byte" },
        { "%00=a", "NUL or control byte" },
        { "a=%0a", "NUL or control byte" },
        { "a=%0D%0A", "NUL or control byte" },
        { "a=%09", "NUL or control byte" },
        { "a=%1f", "NUL or control byte" },
        { "a=%7F", "NUL or control byte" },
        { "a=\x01", "NUL or control byte" },
        { "a\tb=1", "NUL or control byte" },
        { "a=\x7f", "NUL or control byte" },
        { "a=\r\n", "NUL or control byte" },
        { "a=%ff", "invalid UTF-8" },
        { "a=%fe", "invalid UTF-8" },
        { "a=%80", "invalid UTF-8" },
        { "a=%c0%af", "invalid UTF-8" },          /* overlong '/' */
        { "a=%c1%bf", "invalid UTF-8" },
        { "a=%e0%80%af", "invalid UTF-8" },       /* overlong, 3 bytes */
        { "a=%f0%80%80%af", "invalid UTF-8" },    /* overlong, 4 bytes */
        { "a=%ed%a0%80", "invalid UTF-8" },       /* surrogate */
        { "a=%ed%bf%bf", "invalid UTF-8" },
        { "a=%f4%90%80%80", "invalid UTF-8" },    /* above U+10FFFF */
        { "a=%f5%80%80%80", "invalid UTF-8" },
        { "a=%c3", "invalid UTF-8" },             /* truncated */
        { "a=%c3&b=%a9", "invalid UTF-8" },       /* split across pairs */
        { "a=%e2%82", "invalid UTF-8" },
        { "a=%c3%28", "invalid UTF-8" },
        { "a=\xc3", "invalid UTF-8" },
        { "a=\xc3\x28", "invalid UTF-8" },
        { "\xff=1", "invalid UTF-8" },
        { "a=%f0%9f%98", "invalid UTF-8" },
        /* after ASCII and a valid sequence: checked from the first high byte on */
        { "a=xy%c3%a9%80", "invalid UTF-8" },
        { "a=ok%e2%82%acz%ff", "invalid UTF-8" },
        { "a=abc\xc3\xa9\xc3", "invalid UTF-8" },
        { "name%c3%a9x%c0%af=1", "invalid UTF-8" },
        { "=1", "parameter without a name" },
        { "=", "parameter without a name" },
        { "a=1&=", "parameter without a name" },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parsed_t *r = parse(bad[i].raw, 8);
        ck_assert_msg(r->n == -1 && r->err != NULL && strcmp(r->err, bad[i].why) == 0,
                      "%zu: %s: n %d err %s", i, bad[i].raw, r->n, r->err ? r->err : "-");
    }
    /* limits */
    ck_assert_int_eq(parse("a&b&c", 3)->n, 3);
    ck_assert_int_eq(parse("a&b&c", 2)->n, -1);
    ck_assert_str_eq(parse("a&b&c", 2)->err, "too many parameters");
    ck_assert_int_eq(parse("a", 0)->n, -1);
    ck_assert_int_eq(parse("", 0)->n, 0);
}
END_TEST

/* Where @a sp points: 'r' into @a raw, 'b' into @a buf, '-' when empty. */
static char span_home(const zt_span_t *sp, const char *raw, const char *buf,
                      size_t len)
{
    if (sp->len == 0) {
        return '-';
    }
    if (sp->ptr >= raw && sp->ptr + sp->len <= raw + len) {
        return 'r';
    }
    ck_assert(sp->ptr >= buf && sp->ptr + sp->len <= buf + len);
    return 'b';
}

/* A part with nothing to decode is taken as it stands, in the query; any
 * other is decoded into the buffer; the answers are those of a full
 * decoding (the hostile cases above, and fuzz_query's reference). */
START_TEST(query_parse_in_place)
{
    static const struct { const char *raw; const char *homes; } cases[] = {
        { "a=1&b=2", "rrrr" },
        { "a=%41&b=2", "rbrr" },
        { "%61=1", "br" },
        { "a+b=c", "br" },
        { "a=b+c", "rb" },
        { "a=b=c", "rr" },                     /* '=' is a value's byte */
        { "a=&b", "r-r-" },
        { "fields=id,status&version=2", "rrrr" },
        { "q=~!$'()*,;:@/?", "rr" },
        { "q=\xc3\xa9", "rb" },                /* raw UTF-8 is checked */
        { "\xc3\xa9=1", "br" },
        { "x=%7e&y=~", "rbrr" },
        { "x=1&&y=%20&z", "rrrbr-" },
    };
    const char *err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].raw);
        char *raw = strdup(cases[i].raw), *buf = malloc(len), homes[16];
        zt_qparam_t out[8];
        int n = zt_query_parse(raw, buf, out, 8, &err);

        ck_assert_msg(n >= 0, "%s: %s", cases[i].raw, err);
        for (int k = 0; k < n; k++) {
            homes[2 * k] = span_home(&out[k].name, raw, buf, len);
            homes[2 * k + 1] = span_home(&out[k].value, raw, buf, len);
        }
        homes[2 * n] = '\0';
        ck_assert_msg(strcmp(homes, cases[i].homes) == 0, "%s: %s, want %s",
                      cases[i].raw, homes, cases[i].homes);
        free(buf);
        free(raw);
    }
    /* the values, whichever home */
    parsed_t *r = parse("a=%41&b=2&c+d=e+f&=", 8);
    ck_assert_int_eq(r->n, -1);
    ck_assert_str_eq(r->err, "parameter without a name");
    r = parse("a=&=b", 8);
    ck_assert_int_eq(r->n, -1);
    ck_assert_str_eq(r->err, "parameter without a name");
    r = parse("a=%41&b=2&c+d=e+f", 8);
    ck_assert_int_eq(r->n, 3);
    ck_pair(r, 0, "a", "A");
    ck_pair(r, 1, "b", "2");
    ck_pair(r, 2, "c d", "e f");
    /* errors after a clean part, and in a part after a clean one */
    ck_assert_str_eq(parse("ok=1&a=1%", 8)->err, "invalid percent escape");
    ck_assert_str_eq(parse("ok=1&a=%zz", 8)->err, "invalid percent escape");
    ck_assert_str_eq(parse("ok=1&%", 8)->err, "invalid percent escape");
    ck_assert_str_eq(parse("ok=1&a%=1", 8)->err, "invalid percent escape");
    ck_assert_str_eq(parse("ok=1&a=x%00", 8)->err, "NUL or control byte");
    ck_assert_str_eq(parse("ok=1&a=%c0%80", 8)->err, "invalid UTF-8");
    ck_assert_str_eq(parse("ok=1&a=\xc0\x80", 8)->err, "invalid UTF-8");
    ck_assert_str_eq(parse("ok=1&a=\x7f", 8)->err, "NUL or control byte");
    /* the name's UTF-8 is judged before the value's bytes */
    ck_assert_str_eq(parse("\xc3=%zz", 8)->err, "invalid UTF-8");
    ck_assert_str_eq(parse("a%zz=\xc3", 8)->err, "invalid percent escape");
    /* the count limit, before the pair over it is read */
    ck_assert_str_eq(parse("a&b&%zz", 2)->err, "too many parameters");
}
END_TEST

/* 64 KiB queries: clean pairs stay in place; an escape at the very end of
 * a long value decodes the whole value; a '%' as the last byte is
 * refused after 64 KiB of clean bytes. */
START_TEST(query_parse_64k)
{
    size_t len = 64 * 1024;
    char *raw = malloc(len + 1), *buf = malloc(len);
    zt_qparam_t *out = malloc(16384 * sizeof(*out));
    const char *err = NULL;
    int n;

    for (size_t i = 0; i < len; i += 4) {
        memcpy(raw + i, "k=v&", 4);
    }
    raw[len] = '\0';
    n = zt_query_parse(raw, buf, out, 16384, &err);
    ck_assert_int_eq(n, 16384);
    ck_assert(out[0].name.ptr == raw && out[16383].value.ptr == raw + len - 2);
    ck_assert_int_eq(zt_query_parse(raw, buf, out, 16383, &err), -1);
    ck_assert_str_eq(err, "too many parameters");

    memcpy(raw, "v=", 2);
    memset(raw + 2, 'x', len - 2);
    memcpy(raw + len - 3, "%41", 3);
    ck_assert_int_eq(zt_query_parse(raw, buf, out, 1, &err), 1);
    ck_assert_uint_eq(out[0].value.len, len - 4);
    ck_assert(out[0].value.ptr == buf);         /* the name took no room */
    ck_assert_int_eq(out[0].value.ptr[len - 5], 'A');
    ck_assert_int_eq(out[0].value.ptr[0], 'x');

    raw[len - 1] = '%';
    raw[len - 2] = 'x';
    raw[len - 3] = 'x';
    ck_assert_int_eq(zt_query_parse(raw, buf, out, 1, &err), -1);
    ck_assert_str_eq(err, "invalid percent escape");

    memset(raw, 'n', len);                      /* one long name, no value */
    ck_assert_int_eq(zt_query_parse(raw, buf, out, 1, &err), 1);
    ck_assert(out[0].name.ptr == raw && out[0].name.len == len);
    ck_assert_uint_eq(out[0].value.len, 0);
    free(out);
    free(buf);
    free(raw);
}
END_TEST

/* A long query decodes in one pass into a buffer of its own length. */
START_TEST(query_parse_long)
{
    size_t len = 1u << 20;
    char *raw = apr_palloc(pool, len + 1), *buf = malloc(len);
    zt_qparam_t *out = apr_palloc(pool, 65536 * sizeof(*out));
    const char *err = NULL;
    int n;

    for (size_t i = 0; i < len; i += 16) {
        memcpy(raw + i, "k=%41%42%43+xyz&", 16);
    }
    raw[len - 1] = 'z';                       /* no trailing '&' */
    raw[len] = '\0';
    n = zt_query_parse(raw, buf, out, 65536, &err);
    ck_assert_int_eq(n, 65536);
    ck_assert(span_is(&out[0].value, "ABC xyz", 7));
    ck_assert(span_is(&out[65535].value, "ABC xyzz", 8));
    ck_assert_int_eq(zt_query_parse(raw, buf, out, 65535, &err), -1);
    free(buf);
}
END_TEST

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc;

    tc = tcase_create("decide");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, decide_public_and_need_token);
    tcase_add_test(tc, decide_default_deny);
    tcase_add_test(tc, decide_scope_words);
    tcase_add_test(tc, decide_deny_overrides);
    tcase_add_test(tc, decide_nested_claims);
    tcase_add_test(tc, decide_not_of_missing);
    tcase_add_test(tc, decide_path_capture);
    tcase_add_test(tc, rules_order_and_flags);
    tcase_add_test(tc, no_route_is_deny);
    tcase_add_test(tc, shared_and_deep_conditions);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, values_integers);
    tcase_add_test(tc, values_booleans);
    tcase_add_test(tc, values_not_equal);
    tcase_add_test(tc, values_lists);
    tcase_add_test(tc, values_claim_vs_claim);
    tcase_add_test(tc, values_in_claim);
    tcase_add_test(tc, values_deep_and_logic);
    tcase_add_test(tc, orderings);
    tcase_add_test(tc, query_operands);
    tcase_add_test(tc, header_operands);
    tcase_add_test(tc, client_address);
    tcase_add_test(tc, certificate);
    tcase_add_test(tc, tls_version);
    tcase_add_test(tc, time_of_day_and_week);
    tcase_add_test(tc, claim_sets_in_list);
    tcase_add_test(tc, claim_view_matches_lookup);
    tcase_add_test(tc, claim_set_index_matches_scan);
    tcase_add_test(tc, programs_match_trees);
    tcase_add_test(tc, programs_past_16_bits);
    tcase_add_test(tc, programs_past_the_line_count);
    tcase_add_test(tc, programs_ends);
    suite_add_tcase(s, tc);

    tc = tcase_create("stepup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stepup_requirements);
    tcase_add_test(tc, deny_without_token);
    suite_add_tcase(s, tc);

    tc = tcase_create("query");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, query_parse_good);
    tcase_add_test(tc, query_parse_hostile);
    tcase_add_test(tc, query_parse_long);
    tcase_add_test(tc, query_parse_in_place);
    tcase_add_test(tc, query_parse_64k);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(eval_suite());
}
