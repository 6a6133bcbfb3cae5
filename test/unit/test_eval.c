/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Per-request work on a verified table: route matching (precedence, HEAD,
 * bad paths, captures) and decisions (deny overrides, default deny,
 * public, need-token, claim types, missing claims, path captures).
 * Policies are built by hand (zt_ir_build.h), emitted and loaded.
 */
#include <string.h>

#include "zt_test.h"
#include "zt_jdoc.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_eval.h"

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
/* Routes                                                              */
/* ------------------------------------------------------------------ */

static zt_table_t *routes_table(void)
{
    zpc_ir_t *ir = zb_new(pool, "routes", "r.ztp");
    char deep[2 * ZT_MAX_SEGMENTS + 1] = "";

    for (int i = 0; i < ZT_MAX_SEGMENTS; i++) {
        strcat(deep, "/a");
    }
    zb_route(ir, ZT_M_GET, "/");                    /* 0 */
    zb_route(ir, ZT_M_GET, "/orders");              /* 1 */
    zb_route(ir, ZT_M_GET, "/orders/{id}");         /* 2 */
    zb_route(ir, ZT_M_GET, "/orders/mine");         /* 3: after 2, still wins */
    zb_route(ir, ZT_M_GET, "/{a}/x");               /* 4 */
    zb_route(ir, ZT_M_GET, "/x/{b}");               /* 5 */
    zb_route(ir, ZT_M_POST, "/orders");             /* 6 */
    zb_route(ir, ZT_M_GET, apr_pstrdup(pool, deep)); /* 7 */
    zb_route(ir, ZT_M_DELETE, "/orders/{id}");      /* 8 */
    zb_route(ir, ZT_M_GET, "/{p}/{q}/{r}");         /* 9 */
    zb_route(ir, ZT_M_GET, "/{p}/{q}/z");           /* 10 */
    return build(ir);
}

static uint32_t route_of(const zt_table_t *t, const char *method, const char *path)
{
    zt_match_t m;
    zt_route_status_e st = zt_route_match(t, method, path, &m);

    if (st != ZT_ROUTE_OK) {
        ck_assert_uint_eq(m.route, ZT_NONE);
        return st == ZT_ROUTE_NONE ? ZT_NONE : ZT_NONE - 1;
    }
    return m.route;
}

#define NO_ROUTE ZT_NONE
#define BAD_PATH (ZT_NONE - 1)

START_TEST(route_literals_and_captures)
{
    zt_table_t *t = routes_table();

    ck_assert_uint_eq(route_of(t, "GET", "/"), 0);
    ck_assert_uint_eq(route_of(t, "GET", "/orders"), 1);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/42"), 2);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/mine"), 3);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/mine2"), 2);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/min"), 2);
    ck_assert_uint_eq(route_of(t, "GET", "/ordersx"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "GET", "/order"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/42/x"), 9);       /* /{p}/{q}/{r} */
    ck_assert_uint_eq(route_of(t, "GET", "/orders/42/x/y"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "GET", "/orders/\xc3\xa9"), 2);   /* UTF-8 */
    ck_assert_uint_eq(route_of(t, "GET", "/..."), NO_ROUTE);        /* not a dot segment */
}
END_TEST

START_TEST(route_precedence_left_to_right)
{
    zt_table_t *t = routes_table();

    /* /{a}/x and /x/{b} both match /x/x: the literal comes first in /x/{b} */
    ck_assert_uint_eq(route_of(t, "GET", "/x/x"), 5);
    ck_assert_uint_eq(route_of(t, "GET", "/y/x"), 4);
    ck_assert_uint_eq(route_of(t, "GET", "/x/y"), 5);
    /* /{p}/{q}/z beats /{p}/{q}/{r}, later in the table or not */
    ck_assert_uint_eq(route_of(t, "GET", "/u/v/z"), 10);
    ck_assert_uint_eq(route_of(t, "GET", "/u/v/w"), 9);
}
END_TEST

START_TEST(route_methods)
{
    zt_table_t *t = routes_table();

    ck_assert_uint_eq(route_of(t, "HEAD", "/orders"), 1);
    ck_assert_uint_eq(route_of(t, "HEAD", "/orders/1"), 2);
    ck_assert_uint_eq(route_of(t, "POST", "/orders"), 6);
    ck_assert_uint_eq(route_of(t, "POST", "/orders/1"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "DELETE", "/orders/1"), 8);
    ck_assert_uint_eq(route_of(t, "DELETE", "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "PUT", "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "get", "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "BREW", "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "", "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, NULL, "/orders"), NO_ROUTE);
    ck_assert_uint_eq(route_of(t, "GET ", "/orders"), NO_ROUTE);
}
END_TEST

static const char *const bad_paths[] = {
    "", "orders", "orders/1", " /orders", "//", "/orders/", "/orders//1",
    "//orders", "/.", "/./orders", "/orders/.", "/..", "/orders/..",
    "/orders/../orders", ("/a\x01" "b"), "/a\x1f", "/a\x7f", "/a\tb", "/a\nb",
    "/orders/1\r", "/a/./b",
};

START_TEST(route_bad_paths)
{
    zt_table_t *t = routes_table();
    zt_match_t m;

    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        ck_assert_msg(zt_route_match(t, "GET", bad_paths[i], &m) == ZT_ROUTE_BAD_PATH,
                      "path %zu accepted", i);
        ck_assert_uint_eq(m.route, ZT_NONE);
        ck_assert_uint_eq(m.nseg, 0);
    }
    ck_assert_int_eq(zt_route_match(t, "GET", NULL, &m), ZT_ROUTE_BAD_PATH);
    /* a bad path is bad whatever the method */
    ck_assert_int_eq(zt_route_match(t, "BREW", "/a/../b", &m), ZT_ROUTE_BAD_PATH);
}
END_TEST

START_TEST(route_segment_limit)
{
    zt_table_t *t = routes_table();
    char path[2 * (ZT_MAX_SEGMENTS + 1) + 1] = "";
    zt_match_t m;

    for (int i = 0; i < ZT_MAX_SEGMENTS; i++) {
        strcat(path, "/a");
    }
    ck_assert_int_eq(zt_route_match(t, "GET", path, &m), ZT_ROUTE_OK);
    ck_assert_uint_eq(m.route, 7);
    ck_assert_uint_eq(m.nseg, ZT_MAX_SEGMENTS);
    strcat(path, "/a");
    ck_assert_int_eq(zt_route_match(t, "GET", path, &m), ZT_ROUTE_BAD_PATH);
    ck_assert_int_eq(zt_route_match(t, "GET", "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/"
                                    "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a",
                                    &m), ZT_ROUTE_BAD_PATH);
}
END_TEST

START_TEST(route_captures)
{
    zt_table_t *t = routes_table();
    zt_match_t m;
    const zt_span_t *sp;

    ck_assert_int_eq(zt_route_match(t, "DELETE", "/orders/9b2f-x", &m), ZT_ROUTE_OK);
    sp = zt_route_capture(t, &m, "id");
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->len, 6);
    ck_assert_int_eq(memcmp(sp->ptr, "9b2f-x", 6), 0);
    ck_assert_ptr_null(zt_route_capture(t, &m, "orders"));    /* a literal */
    ck_assert_ptr_null(zt_route_capture(t, &m, "i"));
    ck_assert_ptr_null(zt_route_capture(t, &m, "idx"));
    ck_assert_ptr_null(zt_route_capture(t, &m, NULL));

    ck_assert_int_eq(zt_route_match(t, "GET", "/u/v/w", &m), ZT_ROUTE_OK);
    ck_assert_int_eq(memcmp(zt_route_capture(t, &m, "q")->ptr, "v", 1), 0);
    ck_assert_int_eq(memcmp(zt_route_capture(t, &m, "r")->ptr, "w", 1), 0);

    ck_assert_int_eq(zt_route_match(t, "GET", "/orders", &m), ZT_ROUTE_OK);
    ck_assert_ptr_null(zt_route_capture(t, &m, "id"));
    ck_assert_int_eq(zt_route_match(t, "GET", "/nope/nope/nope/nope", &m), ZT_ROUTE_NONE);
    ck_assert_ptr_null(zt_route_capture(t, &m, "id"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Decisions on the example policy                                     */
/* ------------------------------------------------------------------ */

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

/* Decide @a method @a path with @a json claims (NULL: no token). */
static zt_decision_t decide(const zt_table_t *t, const char *method,
                            const char *path, const char *json)
{
    zt_match_t m;
    zt_decision_t d;
    const zt_claims_t *claims = claims_of(json);

    ck_assert_msg(zt_route_match(t, method, path, &m) == ZT_ROUTE_OK,
                  "no route for %s %s", method, path);
    zt_eval_decide(t, &m, claims, &d);
    return d;
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
    /* claims that are not an object never reach the evaluator (zt_jdoc
     * refuses them, test_jdoc) */
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
    ck_decision(t, "GET", "/orders", "{\"scope\":\"orders:read\",\"azp\":[\"legacy-batch\"]}",
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
    ck_denied(t, "/list", "{\"n\":[1]}");
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

    ck_assert_int_eq(zt_route_match(t, "GET", "/nope", &m), ZT_ROUTE_NONE);
    zt_eval_decide(t, &m, NULL, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, ZT_NONE);
    zt_eval_decide(t, NULL, NULL, &d);
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

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc;

    tc = tcase_create("route");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, route_literals_and_captures);
    tcase_add_test(tc, route_precedence_left_to_right);
    tcase_add_test(tc, route_methods);
    tcase_add_test(tc, route_bad_paths);
    tcase_add_test(tc, route_segment_limit);
    tcase_add_test(tc, route_captures);
    suite_add_tcase(s, tc);

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
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(eval_suite());
}
