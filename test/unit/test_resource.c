/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * What a table says about its protected resource (zt_resource.c, RFC 9728
 * metadata): every issuer; the scopes allow rules test with `in
 * token.scope` where they help the allow, once each, in node order; no
 * scope from deny rules, from under `not`, from other claims or operators,
 * and none that is not a scope-token.  Tables are built by hand
 * (zt_ir_build.h), emitted and loaded, so they are verified ones.
 */
#include <string.h>

#include "zt_test.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_resource.h"

ZT_TEST_POOL_FIXTURE

static zt_table_t *build(const zpc_ir_t *ir)
{
    void *buf;
    apr_size_t len;
    const char *err = NULL;
    zt_table_t *t;

    ck_assert_msg(zpc_emit(ir, pool, &buf, &len, &err) == APR_SUCCESS,
                  "emit: %s", err);
    ck_assert_msg(zt_table_load(&t, buf, len, "t.ztb", pool, &err)
                  == APR_SUCCESS, "load: %s", err);
    return t;
}

/* @a got (n strings) is exactly the NULL-terminated @a want, in order. */
static void same(const char **got, uint32_t n, const char *const *want)
{
    uint32_t i;

    for (i = 0; want[i]; i++) {
        ck_assert_msg(i < n, "missing '%s' (got %u)", want[i], n);
        ck_assert_str_eq(got[i], want[i]);
    }
    ck_assert_msg(i == n, "%u more than expected, first '%s'", n - i,
                  n > i ? got[i] : "");
}

static zt_resource_t describe(const zpc_ir_t *ir)
{
    zt_resource_t res;

    zt_resource_describe(build(ir), pool, &res);
    return res;
}

START_TEST(orders_example)
{
    zt_resource_t res = describe(zb_orders(pool));

    same(res.issuers, res.nissuers, (const char *[]){
        "https://idp.example.com/realms/corp", NULL });
    same(res.scopes, res.nscopes, (const char *[]){
        "orders:read", "orders:write", NULL });
}
END_TEST

START_TEST(issuers_in_table_order)
{
    zpc_ir_t *ir = zb_orders(pool);

    zb_issuer(ir, "partner", "https://partner.test", "orders-api",
              ZT_ALG_ES256, "partner.jwks.json", 0, 0);
    zt_resource_t res = describe(ir);

    same(res.issuers, res.nissuers, (const char *[]){
        "https://idp.example.com/realms/corp", "https://partner.test",
        NULL });
}
END_TEST

START_TEST(only_scopes_that_help_an_allow)
{
    zpc_ir_t *ir = zb_new(pool, "s", "s.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");

    zb_issuer(ir, "corp", "https://idp.test", "api", ZT_ALG_ES256,
              "corp.jwks.json", 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(and (in \"a:read\" token.scope)"
            "     (or (in \"b:read\" token.scope)"
            "         (not (in \"not:me\" token.scope))))", "GET /a", 1, a);
    /* Two NOTs cancel: wanted again. */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(not (and (eq token.sub \"x\")"
            "          (not (in \"c:read\" token.scope))))", "GET /a", 1, a);
    /* Repeated: listed once, where first used. */
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in \"b:read\" token.scope)",
            "GET /a", 1, a);
    /* A deny's scope is nothing to ask for. */
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(in \"legacy\" token.scope)",
            "GET /a", 1, a);
    zt_resource_t res = describe(ir);

    same(res.scopes, res.nscopes, (const char *[]){
        "a:read", "b:read", "c:read", NULL });
}
END_TEST

START_TEST(other_claims_and_operators_are_not_scopes)
{
    zpc_ir_t *ir = zb_new(pool, "o", "o.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");

    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(or (in \"admin\" token.realm_access.roles)"
            " (or (in \"x\" token.scp)"
            " (or (in \"y\" token.a.scope)"
            " (or (eq token.scope \"whole\")"
            " (or (in_list token.scope [\"listed\"])"
            "     (in path.p token.scope))))))", "GET /a", 1, a);
    zt_resource_t res = describe(ir);

    ck_assert_uint_eq(res.nscopes, 0);
    ck_assert_uint_eq(res.nissuers, 0);
}
END_TEST

/* An allow rule whose condition is `"@a lit" in token.scope` (built
 * directly: the fixture's S-expressions have no escapes). */
static void allow_scope(zpc_ir_t *ir, uint32_t route, const char *lit)
{
    uint32_t rule = zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, route);
    uint32_t n = zb_node_raw(ir, ZT_OP_IN_CLAIM,
                             zb_opnd(ir, ZT_OPND_STR, lit, 0),
                             zb_token(ir, "scope"), 0);

    APR_ARRAY_IDX(ir->rules, rule, zpc_ir_rule_t).cond = n;
}

START_TEST(literals_that_cannot_be_scope_words)
{
    static const char *const bad[] = {
        "two words", "", "quo\"te", "back\\slash", "caf\xc3\xa9",
        "tab\there", "del\x7f", NULL
    };
    const char *ok = "ok:!#$%&'()*+,-./:;<=>?@[]^_`{|}~";
    zpc_ir_t *ir = zb_new(pool, "w", "w.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");

    for (int i = 0; bad[i]; i++) {
        allow_scope(ir, a, bad[i]);
    }
    allow_scope(ir, a, ok);
    zt_resource_t res = describe(ir);

    same(res.scopes, res.nscopes, (const char *[]){ ok, NULL });
}
END_TEST

START_TEST(public_and_unconditional_rules)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t a = zb_route(ir, ZT_M_GET, "/a");

    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL, "GET /a", 1, a);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, a);
    zt_resource_t res = describe(ir);

    ck_assert_uint_eq(res.nscopes, 0);
}
END_TEST

/* The full fixture: every opcode and operand kind, shared nodes. */
START_TEST(full_fixture_is_described)
{
    zt_resource_t res = describe(zb_full(pool));

    ck_assert_uint_ge(res.nscopes, 2);
    ck_assert_str_eq(res.scopes[0], "orders:read");
    for (uint32_t i = 0; i < res.nscopes; i++) {
        for (uint32_t j = i + 1; j < res.nscopes; j++) {
            ck_assert_str_ne(res.scopes[i], res.scopes[j]);
        }
    }
}
END_TEST

static Suite *resource_suite(void)
{
    Suite *s = suite_create("resource");
    TCase *tc = tcase_create("describe");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, orders_example);
    tcase_add_test(tc, issuers_in_table_order);
    tcase_add_test(tc, only_scopes_that_help_an_allow);
    tcase_add_test(tc, other_claims_and_operators_are_not_scopes);
    tcase_add_test(tc, literals_that_cannot_be_scope_words);
    tcase_add_test(tc, public_and_unconditional_rules);
    tcase_add_test(tc, full_fixture_is_described);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(resource_suite());
}
