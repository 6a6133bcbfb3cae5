/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Checks of test blocks, lowered on the way to zpc_ir_test_t: the token's
 * claims become JSON text, the time Unix seconds.  Tests never reach the
 * table; `zpc test` runs them.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zpc_check.h"
#include "zt_alg.h"
#include "zt_jescape.h"

/* ------------------------------------------------------------------ */
/* tests                                                               */

static void zpc_json_bytes(apr_array_header_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        APR_ARRAY_PUSH(out, char) = s[i];
    }
}

/* A JSON string literal of @a s: the core's escaper (zt_jescape.h), which
 * keeps every character, as the lexer has taken only valid UTF-8. */
static void zpc_json_str(apr_array_header_t *out, const char *s)
{
    size_t n = strlen(s);
    char *buf = apr_palloc(out->pool, ZT_JSON_ESCAPE_ROOM(n)), *end;

    end = zt_json_escape(buf, s, n);
    APR_ARRAY_PUSH(out, char) = '"';
    zpc_json_bytes(out, buf, (size_t)(end - buf));
    APR_ARRAY_PUSH(out, char) = '"';
}

static void zpc_json_text(apr_array_header_t *out, const char *s)
{
    zpc_json_bytes(out, s, strlen(s));
}

/* A token's claims as JSON text; a repeated name is an error.  Depth is
 * bounded by the builder (ZPC_MAX_VALUE_DEPTH). */
static int zpc_json_value(zpc_check_t *c, apr_array_header_t *out,
                          const zpc_ast_value_t *v)
{
    char num[32];
    int ok = 1;

    switch (v->kind) {
    case ZPC_VAL_STR:
        zpc_json_str(out, v->str);
        break;
    case ZPC_VAL_INT:
        snprintf(num, sizeof(num), "%lld", (long long)v->num);
        zpc_json_text(out, num);
        break;
    case ZPC_VAL_BOOL:
        zpc_json_text(out, v->num ? "true" : "false");
        break;
    case ZPC_VAL_ARR:
        APR_ARRAY_PUSH(out, char) = '[';
        for (int i = 0; i < v->items->nelts; i++) {
            if (i > 0) {
                APR_ARRAY_PUSH(out, char) = ',';
            }
            ok &= zpc_json_value(c, out, APR_ARRAY_IDX(v->items, i, zpc_ast_value_t *));
        }
        APR_ARRAY_PUSH(out, char) = ']';
        break;
    default: {
        apr_hash_t *seen = apr_hash_make(c->pool);
        APR_ARRAY_PUSH(out, char) = '{';
        for (int i = 0; i < v->items->nelts; i++) {
            const zpc_ast_member_t *m = APR_ARRAY_IDX(v->items, i, zpc_ast_member_t *);
            const zpc_ast_member_t *prev = apr_hash_get(seen, m->key, APR_HASH_KEY_STRING);
            if (prev != NULL) {
                zpc_diag_error(c->d, &m->key_loc, "claim %s is given twice",
                               zpc_check_quote(c, m->key));
                zpc_diag_note(c->d, &prev->key_loc, "the first one is here");
                ok = 0;
                continue;
            }
            apr_hash_set(seen, m->key, APR_HASH_KEY_STRING, m);
            if (i > 0) {
                APR_ARRAY_PUSH(out, char) = ',';
            }
            zpc_json_str(out, m->key);
            APR_ARRAY_PUSH(out, char) = ':';
            ok &= zpc_json_value(c, out, m->value);
        }
        APR_ARRAY_PUSH(out, char) = '}';
        break;
    }
    }
    return ok;
}

/* "2026-11-29T10:00:00Z" to Unix seconds, or -1. */
static int64_t zpc_parse_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    time_t t;

    if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d,
                                  &h, &mi, &sec, &n) != 6 || n != 20
        || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59
        || h < 0 || mi < 0 || sec < 0 || y < 1970) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    /* timegm normalises 31 February; a date that moved did not exist */
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1) {
        return -1;
    }
    return (int64_t)t;
}

static const char *const zpc_expects[] = {
    "allow", "deny", "stepup", "token", "notfound", "invalid", "toolarge",
    "mediatype", NULL
};

static void zpc_check_cert(zpc_check_t *c, zpc_ir_test_t *it,
                           const zpc_ast_titem_t *item)
{
    it->cert = 1;
    if (item->value->kind != ZPC_VAL_OBJ) {
        zpc_diag_error(c->d, &item->value->loc, "cert takes { subject \"...\" "
                       "san [\"...\"] } (either may be left out)");
        return;
    }
    for (int i = 0; i < item->value->items->nelts; i++) {
        const zpc_ast_member_t *m = APR_ARRAY_IDX(item->value->items, i, zpc_ast_member_t *);
        const zpc_ast_value_t *v = m->value;

        if (strcmp(m->key, "subject") == 0 && v->kind == ZPC_VAL_STR) {
            it->cert_subject = v->str;
            continue;
        }
        if (strcmp(m->key, "san") == 0 && v->kind == ZPC_VAL_ARR) {
            it->cert_san = apr_array_make(c->pool, v->items->nelts, sizeof(const char *));
            for (int k = 0; k < v->items->nelts; k++) {
                const zpc_ast_value_t *x = APR_ARRAY_IDX(v->items, k, zpc_ast_value_t *);
                if (x->kind != ZPC_VAL_STR) {
                    zpc_diag_error(c->d, &x->loc, "a san is a string");
                    continue;
                }
                APR_ARRAY_PUSH(it->cert_san, const char *) = x->str;
            }
            continue;
        }
        zpc_diag_error(c->d, &m->key_loc, "a cert has subject \"...\" and san "
                       "[\"...\", ...]; not %s", zpc_check_quote(c, m->key));
    }
}

/*
** body json|xml|untyped|none|"MEDIA/TYPE" ['TEXT' | "TEXT" | file "NAME"]:
** what the request sends, with the Content-Type json and xml stand for;
** untyped sends the bytes without one, none sends neither.  A file is read
** now, relative to the test's own file, so a missing one is a compile
** error, not a failed test.
*/
static void zpc_check_tbody(zpc_check_t *c, zpc_ir_test_t *it,
                            const zpc_ast_titem_t *item)
{
    static const char *const kinds[] = { "json", "xml", "none", "untyped", NULL };
    static const char *const types[] = { "application/json", "application/xml",
                                         NULL, NULL };
    int k = item->quoted ? -1 : zpc_word_index(kinds, item->a);

    it->body = 1;
    if (item->quoted) {
        if (item->a[0] == '\0' || zpc_control_char(item->a) != 0) {
            zpc_diag_error(c->d, &item->a_loc, "a body's media type is a "
                           "Content-Type value, e.g. \"application/json\"");
        }
        it->body_type = item->a;
    }
    else if (k < 0) {
        zpc_diag_error(c->d, &item->a_loc, "unknown body type '%s' (write "
                       "json, xml, untyped, none, or a media type in quotes)",
                       item->a);
    }
    else if (k == 2) {          /* body none: no Content-Type, no bytes */
        if (item->b != NULL) {
            zpc_diag_error(c->d, &item->b_loc, "body none takes no text "
                           "(write body json '...', a media type in quotes, "
                           "or body untyped '...' for no Content-Type)");
        }
        return;
    }
    else {
        it->body_type = types[k];   /* untyped: NULL, no Content-Type */
    }
    if (item->b == NULL) {
        zpc_diag_error(c->d, &item->a_loc, "body %s needs its text: body %s "
                       "'...', or body %s file \"NAME\"", item->a, item->a,
                       item->a);
        return;
    }
    if (item->how == NULL) {
        it->body_text = item->b;
        it->body_len = strlen(item->b);
        return;
    }
    if (strcmp(item->how, "file") != 0) {
        zpc_diag_error(c->d, &item->how_loc, "unexpected '%s' (a body's text "
                       "is in quotes, or in a file: file \"NAME\")",
                       item->how);
        return;
    }
    it->body_text = zpc_check_read(c, &item->b_loc, item->b, "body",
                                   ZPC_MAX_BODY, &it->body_len);
}

static void zpc_check_test(zpc_check_t *c, zpc_ast_test_t *t, zpc_ir_test_t *it)
{
    const zpc_ast_titem_t *seen[ZPC_TITEM__COUNT] = { NULL };
    static const char *const words[ZPC_TITEM__COUNT] = {
        "token", "request", "from", "header", "cert", "tls", "time", "expect",
        "body"
    };
    unsigned char addr[16];

    memset(it, 0, sizeof(*it));
    it->name = t->name;
    it->file = zpc_diag_file_name(c->d, t->loc.file);
    it->line = (uint32_t)t->loc.first_line;
    it->headers = apr_array_make(c->pool, 2, sizeof(const char *));
    it->tls = "TLSv1.3";
    it->time = -1;
    it->expect = -1;
    if (t->name[0] == '\0') {
        zpc_diag_error(c->d, &t->name_loc, "the test name is empty");
    }
    for (int i = 0; i < t->items->nelts; i++) {
        const zpc_ast_titem_t *item = APR_ARRAY_IDX(t->items, i, zpc_ast_titem_t *);
        int k = item->kind;

        if (seen[k] != NULL && k != ZPC_TITEM_HEADER) {
            zpc_diag_error(c->d, &item->loc, "'%s' is written twice in test %s",
                           words[k], zpc_check_quote(c, t->name));
            zpc_diag_note(c->d, &seen[k]->loc, "the first one is here");
            continue;
        }
        seen[k] = item;
        switch (k) {
        case ZPC_TITEM_TOKEN: {
            apr_array_header_t *out = apr_array_make(c->pool, 64, 1);
            if (item->value->kind != ZPC_VAL_OBJ) {
                zpc_diag_error(c->d, &item->value->loc, "token takes its claims "
                               "in braces: token { sub \"u1\" scope \"a b\" }");
                break;
            }
            if (zpc_json_value(c, out, item->value)) {
                APR_ARRAY_PUSH(out, char) = '\0';
                it->claims_json = out->elts;
            }
            break;
        }
        case ZPC_TITEM_REQUEST:
            if (strcmp(item->a, "HEAD") != 0
                && zt_method_from_name(item->a, strlen(item->a)) == 0) {
                zpc_diag_error(c->d, &item->a_loc, "unknown method '%s' (expected "
                               "GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)",
                               item->a);
            }
            it->method = item->a;
            it->target = item->b;
            break;
        case ZPC_TITEM_FROM:
            if (strchr(item->a, '/') != NULL
                || (inet_pton(AF_INET, item->a, addr) != 1
                    && inet_pton(AF_INET6, item->a, addr) != 1)) {
                zpc_diag_error(c->d, &item->a_loc, "'%s' is not an IPv4 or IPv6 "
                               "address", item->a);
            }
            it->from = item->a;
            break;
        case ZPC_TITEM_HEADER:
            if (!zpc_is_token(item->a)) {
                zpc_diag_error(c->d, &item->a_loc, "%s is not a header name",
                               zpc_check_quote(c, item->a));
            }
            else if (zpc_control_char(item->b) != 0) {
                zpc_diag_error(c->d, &item->b_loc, "control character in a "
                               "header value");
            }
            APR_ARRAY_PUSH(it->headers, const char *) = item->a;
            APR_ARRAY_PUSH(it->headers, const char *) = item->b;
            break;
        case ZPC_TITEM_CERT:
            zpc_check_cert(c, it, item);
            break;
        case ZPC_TITEM_TLS:
            if (item->a == NULL && strcmp(item->b, "none") == 0) {
                it->tls = NULL;
            }
            else if (item->a == NULL || zpc_word_index(zpc_tls_versions, item->a) < 0) {
                zpc_diag_error(c->d, &item->a_loc, "tls is \"TLSv1\", \"TLSv1.1\", "
                               "\"TLSv1.2\", \"TLSv1.3\" or none (plain HTTP)");
            }
            else {
                it->tls = item->a;
            }
            break;
        case ZPC_TITEM_BODY:
            zpc_check_tbody(c, it, item);
            break;
        case ZPC_TITEM_TIME:
            if ((it->time = zpc_parse_time(item->a)) < 0) {
                zpc_diag_error(c->d, &item->a_loc, "a time is written "
                               "\"YYYY-MM-DDTHH:MM:SSZ\" (UTC), e.g. "
                               "\"2026-11-29T10:00:00Z\"");
            }
            break;
        default:        /* EXPECT */
            if ((it->expect = zpc_word_index(zpc_expects, item->a)) < 0) {
                zpc_diag_error(c->d, &item->a_loc, "unknown outcome '%s' (expect "
                               "allow, deny, stepup, token, notfound, invalid, "
                               "toolarge or mediatype)", item->a);
            }
            break;
        }
    }
    /* A body line says the Content-Type (untyped: none); a header line
     * naming one too would make the test mean two things. */
    for (int i = 0; seen[ZPC_TITEM_BODY] != NULL && i < t->items->nelts; i++) {
        const zpc_ast_titem_t *item = APR_ARRAY_IDX(t->items, i, zpc_ast_titem_t *);

        if (item->kind == ZPC_TITEM_HEADER && strcasecmp(item->a, "Content-Type") == 0) {
            zpc_diag_error(c->d, &item->a_loc, "the body line gives the "
                           "Content-Type (body \"TYPE\" '...', or body untyped "
                           "for none), not a header line");
        }
    }
    if (seen[ZPC_TITEM_REQUEST] == NULL) {
        zpc_diag_error(c->d, &t->name_loc, "test %s has no request (add: request "
                       "GET /PATH)", zpc_check_quote(c, t->name));
    }
    if (seen[ZPC_TITEM_EXPECT] == NULL) {
        zpc_diag_error(c->d, &t->name_loc, "test %s has no expect (add: expect "
                       "allow, or deny, stepup, token, notfound, invalid, "
                       "toolarge, mediatype)",
                       zpc_check_quote(c, t->name));
    }
}

void zpc_check_tests(zpc_check_t *c)
{
    apr_array_header_t *tests = c->ast->tests;
    apr_hash_t *names = apr_hash_make(c->pool);

    c->tests = apr_array_make(c->pool, tests->nelts, sizeof(zpc_ir_test_t));
    for (int i = 0; i < tests->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_ast_test_t *t = APR_ARRAY_IDX(tests, i, zpc_ast_test_t *);
        zpc_ast_test_t *prev = apr_hash_get(names, t->name, APR_HASH_KEY_STRING);

        if (prev != NULL) {
            zpc_diag_error(c->d, &t->name_loc, "test %s is declared twice",
                           zpc_check_quote(c, t->name));
            zpc_diag_note(c->d, &prev->name_loc, "the first one is here");
        }
        apr_hash_set(names, t->name, APR_HASH_KEY_STRING, t);
        zpc_check_test(c, t, apr_array_push(c->tests));
    }
}
