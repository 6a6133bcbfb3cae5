/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The token path's JSON reader (zt_jdoc) and the claims API on top of it
 * (zt_claims).  Every accept/refuse case runs through both strict readers
 * (zt_jdoc and jansson's zt_json, jdoc_same.h), which must agree and read
 * the same values; the cases only the new reader can tell (its layout, its
 * messages, the copy of a block) are checked on it alone.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "zt_test.h"
#include "zt_claims.h"
#include "zt_jdoc.h"
#include "../fuzz/jdoc_same.h"

ZT_TEST_POOL_FIXTURE

#define MAX (1 << 20)

/* Both readers on @a s: 1 accepted, 0 refused; a disagreement fails. */
static int both(const char *s, size_t len)
{
    int rc = zt_jdoc_both(s, len, MAX, pool);

    ck_assert_msg(rc >= 0, "the readers disagree on %.*s", (int)len, s);
    return rc;
}

#define OK(s)  ck_assert_msg(both(s, sizeof(s) - 1) == 1, "refused %s", s)
#define BAD(s) ck_assert_msg(both(s, sizeof(s) - 1) == 0, "accepted %s", s)

static const zt_jdoc_t *parse(const char *s)
{
    const char *err = NULL;
    const zt_jdoc_t *d = zt_jdoc_parse(s, strlen(s), MAX, pool, &err);

    ck_assert_msg(d != NULL, "refused %s: %s", s, err);
    return d;
}

/* The message for a refused @a s. */
static const char *why(const char *s, size_t len)
{
    const char *err = NULL;

    ck_assert_ptr_null(zt_jdoc_parse(s, len, MAX, pool, &err));
    ck_assert_ptr_nonnull(err);
    return err;
}

#define ck_why(s, want)                                                     \
    do {                                                                    \
        const char *w_ = why(s, sizeof(s) - 1);                             \
        ck_assert_msg(strstr(w_, want) != NULL, "%s: got \"%s\", want \"%s\"", \
                      s, w_, want);                                         \
    } while (0)

/* ------------------------------------------------------------------ */
/* Accepted documents and their values                                 */
/* ------------------------------------------------------------------ */

START_TEST(accepts_and_reads)
{
    const zt_jdoc_t *d;
    const zt_jnode_t *v, *e;
    double x;

    OK("{}");
    OK(" \t\r\n{ \"a\" : 1 , \"b\" : [ ] , \"c\" : { } } \n");
    OK("{\"a\":1,\"b\":[1,2.5,-3e2,true,false,null],\"c\":{\"d\":\"\xc3\xa9\"}}");
    OK("{\"\":\"\"}");
    OK("{\"a\":{},\"b\":{\"a\":1}}");                      /* same name, other objects */
    OK("{\"a\":[{\"k\":1},{\"k\":1}]}");                   /* same name, sibling objects */

    d = parse("{\"s\":\"x\",\"i\":-42,\"r\":0.5,\"t\":true,\"f\":false,\"n\":null,"
              "\"a\":[1,[2,3],{\"k\":\"v\"},\"z\"],\"o\":{\"p\":{\"q\":7}}}");
    ck_assert_uint_eq(d->node[0].type, ZT_J_OBJECT);
    ck_assert_uint_eq(d->node[0].u.n, 8);
    ck_assert_uint_eq(d->node[0].size, d->nnodes);
    ck_assert_str_eq(zt_jdoc_get_str(d, "s"), "x");
    ck_assert_ptr_null(zt_jdoc_get_str(d, "i"));
    ck_assert_ptr_null(zt_jdoc_get(d, "missing"));
    ck_assert_ptr_null(zt_jdoc_get(d, "S"));               /* names are exact */
    v = zt_jdoc_get(d, "i");
    ck_assert_uint_eq(v->type, ZT_J_INT);
    ck_assert_int_eq(v->u.i, -42);
    ck_assert(zt_jnode_number(v, &x) && x == -42.0);
    v = zt_jdoc_get(d, "r");
    ck_assert_uint_eq(v->type, ZT_J_REAL);
    ck_assert(zt_jnode_number(v, &x) && x == 0.5);
    ck_assert_uint_eq(zt_jdoc_get(d, "t")->type, ZT_J_TRUE);
    ck_assert_uint_eq(zt_jdoc_get(d, "f")->type, ZT_J_FALSE);
    ck_assert_uint_eq(zt_jdoc_get(d, "n")->type, ZT_J_NULL);
    ck_assert(!zt_jnode_number(zt_jdoc_get(d, "s"), &x));
    ck_assert(!zt_jnode_number(NULL, &x));

    /* An array's elements, subtrees skipped by size. */
    v = zt_jdoc_get(d, "a");
    ck_assert_uint_eq(v->type, ZT_J_ARRAY);
    ck_assert_uint_eq(v->u.n, 4);
    e = zt_jnode_first(v);
    ck_assert_int_eq(e->u.i, 1);
    e = zt_jnode_next(e);
    ck_assert_uint_eq(e->type, ZT_J_ARRAY);
    ck_assert_uint_eq(e->size, 3);
    e = zt_jnode_next(e);
    ck_assert_uint_eq(e->type, ZT_J_OBJECT);
    ck_assert_str_eq(zt_jnode_str(zt_jnode_member(e, "k", 1)), "v");
    e = zt_jnode_next(e);
    ck_assert_str_eq(zt_jnode_str(e), "z");
    ck_assert_ptr_eq(zt_jnode_next(e), zt_jnode_next(v));
    ck_assert_ptr_null(zt_jnode_member(v, "k", 1));        /* not an object */

    v = zt_jnode_member(zt_jnode_member(zt_jdoc_get(d, "o"), "p", 1), "q", 1);
    ck_assert_int_eq(v->u.i, 7);

    /* By NUL-terminated name, on any object (a DPoP proof's "jwk"). */
    ck_assert_ptr_eq(zt_jnode_get(zt_jnode_get(zt_jdoc_get(d, "o"), "p"), "q"), v);
    ck_assert_ptr_eq(zt_jnode_get(d->node, "i"), zt_jdoc_get(d, "i"));
    e = zt_jnode_next(zt_jnode_next(zt_jnode_first(zt_jdoc_get(d, "a"))));
    ck_assert_str_eq(zt_jnode_get_str(e, "k"), "v");
    ck_assert_str_eq(zt_jnode_get_str(d->node, "s"), "x");
    ck_assert_ptr_null(zt_jnode_get_str(d->node, "i"));    /* not a string */
    ck_assert_ptr_null(zt_jnode_get(zt_jdoc_get(d, "o"), "q"));   /* one level only */
    ck_assert_ptr_null(zt_jnode_get(zt_jdoc_get(d, "a"), "k"));   /* an array */
    ck_assert_ptr_null(zt_jnode_get(zt_jdoc_get(d, "s"), "x"));   /* a string */
    ck_assert_ptr_null(zt_jnode_get(NULL, "s"));
    ck_assert_ptr_null(zt_jnode_get_str(NULL, "s"));
    ck_assert_ptr_null(zt_jdoc_get(NULL, "s"));
    ck_assert_ptr_null(zt_jdoc_get_str(NULL, "s"));
    ck_assert_ptr_eq(zt_jnode_next(zt_jdoc_get(d, "o")), d->node + d->nnodes);
}
END_TEST

START_TEST(decodes_strings)
{
    const zt_jdoc_t *d;
    const zt_jnode_t *v;

    OK("{\"a\":\"\\u00e9\\ud83d\\ude00\"}");               /* escaped pair */
    OK("{\"a\":\"\xf0\x9f\x98\x80\"}");                    /* U+1F600 raw */
    OK("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}");
    OK("{\"\\u0001\":\"\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\"}");
    OK("{\"a\":\"\\uDBFF\\uDFFF\"}");                      /* U+10FFFF, upper case */
    OK("{\"a\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xe0\xa0\x80\xc2\x80\"}");

    d = parse("{\"k\\u00e9y\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"}");
    v = zt_jdoc_get(d, "k\xc3\xa9y");
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->u.s.len, 14);
    ck_assert_str_eq(zt_jnode_str(v), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
    /* Long strings, past the reader's stack scratch. */
    {
        char *s = apr_palloc(pool, 5000), *q = s;

        q += sprintf(q, "{\"long\":\"");
        for (int i = 0; i < 1000; i++) {
            q += sprintf(q, "%s", i % 2 ? "\\u00e9" : "ab");
        }
        sprintf(q, "\"}");
        d = parse(s);
        v = zt_jdoc_get(d, "long");
        ck_assert_uint_eq(v->u.s.len, 2000);
        ck_assert_int_eq(memcmp(zt_jnode_str(v), "ab\xc3\xa9" "ab", 6), 0);
        ck_assert_int_eq(both(s, strlen(s)), 1);
    }
}
END_TEST

START_TEST(numbers)
{
    const zt_jdoc_t *d;
    double x;

    OK("{\"a\":9223372036854775807,\"b\":-9223372036854775808}");
    OK("{\"a\":0,\"b\":-0,\"c\":-0.0,\"d\":1E2,\"e\":1e+2,\"f\":1e-2,\"g\":0.0e0}");
    OK("{\"a\":1e308,\"b\":-1.7976931348623157e308,\"c\":1e-400,\"d\":4.9e-324}");
    OK("{\"a\":123456789012345678901234567890.5}");        /* a real may be big */
    OK("{\"a\":1.00000000000000000000000000000000000000000000000000000000000000000001}");
    BAD("{\"a\":9223372036854775808}");
    BAD("{\"a\":-9223372036854775809}");
    BAD("{\"a\":123456789012345678901234567890}");
    BAD("{\"a\":1e400}");
    BAD("{\"a\":-1e400}");
    BAD("{\"a\":1.8e308}");
    BAD("{\"a\":01}");
    BAD("{\"a\":-01}");
    BAD("{\"a\":+1}");
    BAD("{\"a\":.5}");
    BAD("{\"a\":5.}");
    BAD("{\"a\":1e}");
    BAD("{\"a\":1e+}");
    BAD("{\"a\":-}");
    BAD("{\"a\":0x10}");
    BAD("{\"a\":1_000}");
    BAD("{\"a\":NaN}");
    BAD("{\"a\":-Infinity}");

    d = parse("{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
              "\"z\":-0,\"e\":25e-1,\"big\":1e300}");
    ck_assert_int_eq(zt_jdoc_get(d, "max")->u.i, INT64_MAX);
    ck_assert_int_eq(zt_jdoc_get(d, "min")->u.i, INT64_MIN);
    ck_assert_uint_eq(zt_jdoc_get(d, "z")->type, ZT_J_INT);
    ck_assert_int_eq(zt_jdoc_get(d, "z")->u.i, 0);
    ck_assert(zt_jnode_number(zt_jdoc_get(d, "e"), &x) && x == 2.5);
    ck_assert(zt_jnode_number(zt_jdoc_get(d, "big"), &x) && x == 1e300);
    ck_why("{\"a\":9223372036854775808}", "64-bit");
    ck_why("{\"a\":1e999}", "overflow");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refused documents                                                   */
/* ------------------------------------------------------------------ */

START_TEST(refuses_duplicates)
{
    BAD("{\"a\":1,\"a\":1}");
    BAD("{\"a\":1,\"b\":2,\"a\":{}}");
    BAD("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}");
    BAD("{\"x\":[{\"k\":1,\"k\":1}]}");
    BAD("{\"x\":[[[{\"k\":[],\"k\":[]}]]]}");
    BAD("{\"\\u0061\":1,\"a\":2}");                        /* same name, escaped */
    BAD("{\"\\u00e9\":1,\"\xc3\xa9\":2}");
    BAD("{\"\":1,\"\":2}");
    ck_why("{\"a\":1,\"a\":1}", "at byte 7: duplicate member name");
    /* Prefixes are not duplicates. */
    OK("{\"a\":1,\"ab\":2,\"abc\":3,\"b\":4}");
}
END_TEST

/* Objects past the linear check: sorted names, duplicates anywhere. */
START_TEST(refuses_duplicates_in_big_objects)
{
    for (int n = 15; n <= 400; n += n < 40 ? 1 : 97) {
        for (int dup = -1; dup < n; dup += dup < 0 ? 1 : 1 + n / 7) {
            char *s = apr_palloc(pool, (apr_size_t)n * 16 + 32), *q = s;

            *q++ = '{';
            for (int i = 0; i < n; i++) {
                /* Name i is "m<i>"; with dup >= 0 the last one repeats it. */
                q += sprintf(q, "%s\"m%d\":%d", i ? "," : "",
                             i == n - 1 && dup >= 0 ? dup : i, i);
            }
            sprintf(q, "}");
            ck_assert_msg(both(s, strlen(s)) == (dup < 0 || dup == n - 1),
                          "n %d dup %d", n, dup);
        }
    }
}
END_TEST

START_TEST(refuses_bad_utf8_and_nul)
{
    BAD("{\"a\":\"\xff\"}");
    BAD("{\"a\":\"\x80\"}");                               /* lone continuation */
    BAD("{\"a\":\"\xc3\"}");                               /* truncated sequence */
    BAD("{\"a\":\"\xc3\"");
    BAD("{\"a\":\"\xe2\x82\"}");
    BAD("{\"a\":\"\xf0\x9f\x98\"}");
    BAD("{\"a\":\"\xc3\x28\"}");                           /* bad continuation */
    BAD("{\"a\":\"\xe2\x28\xa1\"}");
    BAD("{\"a\":\"\xf0\x9f\x28\x80\"}");
    BAD("{\"a\":\"\xc0\xaf\"}");                           /* overlong '/' */
    BAD("{\"a\":\"\xc1\xbf\"}");
    BAD("{\"a\":\"\xe0\x80\xaf\"}");                       /* overlong, 3 bytes */
    BAD("{\"a\":\"\xe0\x9f\xbf\"}");
    BAD("{\"a\":\"\xf0\x80\x80\xaf\"}");                   /* overlong, 4 bytes */
    BAD("{\"a\":\"\xf0\x8f\xbf\xbf\"}");
    BAD("{\"a\":\"\xed\xa0\x80\"}");                       /* UTF-16 surrogates */
    BAD("{\"a\":\"\xed\xbf\xbf\"}");
    BAD("{\"a\":\"\xf4\x90\x80\x80\"}");                   /* above U+10FFFF */
    BAD("{\"a\":\"\xf5\x80\x80\x80\"}");
    BAD("{\"a\":\"\xf8\x88\x80\x80\x80\"}");
    BAD("{\"\xfe\":1}");                                   /* in a member name */
    BAD("{\"a\":1,\xc3\xa9:1}");                           /* outside a string */
    BAD("{\"a\":\"\\ud800\"}");                            /* unpaired surrogates */
    BAD("{\"a\":\"\\udc00\"}");
    BAD("{\"a\":\"\\ud800\\u0041\"}");
    BAD("{\"a\":\"\\ud800\\ud800\"}");
    BAD("{\"a\":\"\\ud800x\"}");
    BAD("{\"a\":\"\\ud800\\\"}");
    BAD("{\"a\":\"\\ude00\\ud83d\"}");                     /* pair reversed */
    BAD("{\"a\":\"\\u0000\"}");
    BAD("{\"a\\u0000\":1}");
    BAD("{\"a\":\"x\0y\"}");
    BAD("{\"a\":1}\0");
    BAD("\0{\"a\":1}");
    BAD("{\"a\":\0}");
    BAD("{\"a\":\"tab\there\"}");                          /* raw control characters */
    BAD("{\"a\":\"\x1f\"}");
    BAD("{\"a\":\"\n\"}");
    OK("{\"a\":\"\x7f\"}");                                /* DEL is not one */
    ck_why("{\"a\":\"x\0y\"}", "NUL");
    ck_why("{\"a\":\"\\u0000\"}", "NUL");
    ck_why("{\"a\":\"\xc0\xaf\"}", "at byte 6: invalid UTF-8");
    ck_why("{\"a\":\"\\ud800\"}", "surrogate");
}
END_TEST

START_TEST(refuses_structure)
{
    BAD("");
    BAD(" ");
    BAD("[]");
    BAD("[{}]");
    BAD("\"s\"");
    BAD("1");
    BAD("null");
    BAD("true");
    BAD("{");
    BAD("}");
    BAD("{\"a\"");
    BAD("{\"a\":");
    BAD("{\"a\":1");
    BAD("{\"a\":1,");
    BAD("{\"a\":[1,2}");
    BAD("{\"a\":[1,2");
    BAD("{\"a\":{\"b\":1}");
    BAD("{} x");
    BAD("{}{}");
    BAD("{},");
    BAD("{\"a\":1,}");
    BAD("{\"a\":[1,]}");
    BAD("{\"a\":[,1]}");
    BAD("{,\"a\":1}");
    BAD("{\"a\" 1}");
    BAD("{\"a\":1 \"b\":2}");
    BAD("{\"a\"::1}");
    BAD("{a:1}");
    BAD("{'a':1}");
    BAD("{\"a\":'x'}");
    BAD("{\"a\":1 // c\n}");
    BAD("{\"a\":1 /* c */}");
    BAD("{\"a\":tru}");
    BAD("{\"a\":truex}");
    BAD("{\"a\":True}");
    BAD("{\"a\":nul}");
    BAD("{\"a\":undefined}");
    BAD("{\"a\":\"\\x41\"}");                              /* escapes JSON lacks */
    BAD("{\"a\":\"\\a\"}");
    BAD("{\"a\":\"\\'\"}");
    BAD("{\"a\":\"\\u12\"}");
    BAD("{\"a\":\"\\u12g4\"}");
    BAD("{\"a\":\"\\U0041\"}");
    BAD("{\"a\":\"\\");
    BAD("\xef\xbb\xbf{}");                                 /* BOM */
    BAD("{\"a\":1}\x0b");                                  /* not JSON whitespace */
    BAD("\x0c{}");
    BAD("{\"a\":\"unterminated}");
    ck_why("[]", "top level is not a JSON object");
    ck_why("{} x", "at byte 3: data after the object");
    ck_why("{\"a\":1,}", "at byte 7: expected a member name");
    ck_why("{\"a\" 1}", "expected ':'");
    ck_why("{\"a\":[1 2]}", "expected ',' or ']'");
    ck_why("{\"a\":1 \"b\":2}", "expected ',' or '}'");
}
END_TEST

/* Every proper prefix of a good document is refused, and so is every
 * single-byte change both readers cannot agree is still JSON. */
START_TEST(truncations_and_flips)
{
    static const char good[] =
        "{\"iss\":\"https://idp.example.com/realms/corp\",\"sub\":\"u\\u00e9\","
        "\"aud\":[\"api\",\"account\"],\"exp\":1700000600,\"nbf\":-1.5e3,"
        "\"ok\":true,\"no\":false,\"n\":null,\"ra\":{\"roles\":[\"a\",{}]}}";
    size_t len = sizeof(good) - 1;
    char buf[sizeof(good)];
    static const unsigned char subst[] = {
        0, ' ', '"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e',
        '.', 'u', 't', 0x80, 0xc3, 0xff,
    };

    ck_assert_int_eq(both(good, len), 1);
    for (size_t n = 0; n < len; n++) {
        ck_assert_msg(both(good, n) == 0, "accepted the first %zu bytes", n);
    }
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof(subst); k++) {
            memcpy(buf, good, len);
            buf[i] = (char)subst[k];
            both(buf, len);         /* fails on a disagreement */
        }
    }
}
END_TEST

static char *nest(int depth, int arrays)
{
    char *s = apr_palloc(pool, (apr_size_t)depth * 8 + 8), *q = s;

    /* depth containers: the top object, then depth - 1 inner ones. */
    *q++ = '{';
    for (int i = 1; i < depth; i++) {
        q += sprintf(q, arrays && i > 1 ? "[" : "\"a\":%s", arrays ? "[" : "{");
    }
    for (int i = 1; i < depth; i++) {
        *q++ = arrays ? ']' : '}';
    }
    *q++ = '}';
    *q = '\0';
    return s;
}

START_TEST(depth_limit)
{
    const char *s;

    for (int arrays = 0; arrays < 2; arrays++) {
        s = nest(ZT_JSON_MAX_DEPTH, arrays);
        ck_assert_msg(both(s, strlen(s)) == 1, "refused depth %d: %s",
                      ZT_JSON_MAX_DEPTH, s);
        s = nest(ZT_JSON_MAX_DEPTH + 1, arrays);
        ck_assert_msg(both(s, strlen(s)) == 0, "accepted %s", s);
        ck_assert_ptr_nonnull(strstr(why(s, strlen(s)), "nested too deep"));
        s = nest(100000, arrays);             /* no stack to spare for this */
        ck_assert_int_eq(both(s, strlen(s)), 0);
    }
    s = "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[";
    ck_assert_int_eq(both(s, strlen(s)), 0);   /* truncated and too deep */
}
END_TEST

START_TEST(length_limit)
{
    const char *err;

    ck_assert_ptr_nonnull(zt_jdoc_parse("{\"a\":1}", 7, 7, pool, &err));
    ck_assert_ptr_null(zt_jdoc_parse("{\"a\":1}", 7, 6, pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
    ck_assert_ptr_null(zt_jdoc_parse(NULL, 0, 6, pool, &err));
    ck_assert_str_eq(err, "empty document");
    ck_assert_ptr_null(zt_jdoc_parse("{}", 0, 6, pool, &err));
}
END_TEST

/* A big document: nodes and text past the stack scratch, one block. */
START_TEST(big_documents)
{
    int n = 5000;
    char *s = apr_palloc(pool, (apr_size_t)n * 40 + 64), *q = s;
    const zt_jdoc_t *d;
    const zt_jnode_t *v, *e;
    uint32_t k;

    q += sprintf(q, "{\"list\":[");
    for (int i = 0; i < n; i++) {
        q += sprintf(q, "%s[%d,\"s%d\",{\"k\":%d}]", i ? "," : "", i, i, -i);
    }
    q += sprintf(q, "],\"end\":\"e\"}");
    ck_assert_int_eq(both(s, strlen(s)), 1);
    d = parse(s);
    ck_assert_uint_eq(d->nnodes, 1 + 2 + (uint32_t)n * 6 + 2);
    v = zt_jdoc_get(d, "list");
    ck_assert_uint_eq(v->u.n, (uint32_t)n);
    for (k = 0, e = zt_jnode_first(v); k < v->u.n; k++, e = zt_jnode_next(e)) {
        char want[16];

        ck_assert_int_eq(zt_jnode_first(e)->u.i, k);
        snprintf(want, sizeof(want), "s%u", k);
        ck_assert_str_eq(zt_jnode_str(zt_jnode_next(zt_jnode_first(e))), want);
    }
    ck_assert_str_eq(zt_jdoc_get_str(d, "end"), "e");
}
END_TEST

/* The block holds no address: a copy elsewhere reads the same. */
START_TEST(block_copies)
{
    static const char doc[] = "{\"sub\":\"u1\",\"a\":[\"x\",{\"y\":\"z\"}],"
                              "\"e\":\"\\u00e9\"}";
    const zt_jdoc_t *d = parse(doc);
    zt_jdoc_t *c = malloc(zt_jdoc_size(d));
    json_t *j = json_loads(doc, 0, NULL);

    memcpy(c, d, zt_jdoc_size(d));
    memset((void *)d, 0, zt_jdoc_size(d));
    ck_assert(zt_jdoc_same(c->node, j));
    ck_assert_str_eq(zt_jdoc_get_str(c, "sub"), "u1");
    ck_assert_str_eq(zt_jdoc_get_str(c, "e"), "\xc3\xa9");
    free(c);
    json_decref(j);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zt_claims on top                                                    */
/* ------------------------------------------------------------------ */

START_TEST(claims_api)
{
    const zt_claims_t *c = parse(
        "{\"sub\":\"u1\",\"n\":5,\"t\":true,\"f\":false,\"r\":1.5,\"z\":null,"
        "\"realm_access\":{\"roles\":[\"admin\",7,true,\"u1\",[\"x\"]]},"
        "\"deep\":{\"a\":{\"b\":\"c\"}}}");
    zt_val_t v, a;

    zt_claims_get(c, "sub", 1, &v);
    ck_assert_int_eq(v.type, ZT_V_STR);
    ck_assert_uint_eq(v.len, 2);
    ck_assert_int_eq(memcmp(v.s, "u1", 2), 0);
    zt_claims_get(c, "n", 1, &v);
    ck_assert(v.type == ZT_V_INT && v.i == 5);
    zt_claims_get(c, "t", 1, &v);
    ck_assert(v.type == ZT_V_BOOL && v.i == 1);
    zt_claims_get(c, "f", 1, &v);
    ck_assert(v.type == ZT_V_BOOL && v.i == 0);
    zt_claims_get(c, "r", 1, &v);
    ck_assert_int_eq(v.type, ZT_V_OTHER);
    zt_claims_get(c, "z", 1, &v);
    ck_assert_int_eq(v.type, ZT_V_OTHER);
    zt_claims_get(c, "nope", 1, &v);
    ck_assert_int_eq(v.type, ZT_V_MISSING);
    ck_assert_ptr_null(v.ref);
    zt_claims_get(NULL, "sub", 1, &v);
    ck_assert_int_eq(v.type, ZT_V_MISSING);
    zt_claims_get(c, "deep\0a\0b", 3, &v);
    ck_assert(v.type == ZT_V_STR && v.len == 1 && v.s[0] == 'c');
    zt_claims_get(c, "deep\0a\0b\0c", 4, &v);           /* past a string */
    ck_assert_int_eq(v.type, ZT_V_MISSING);
    zt_claims_get(c, "deep\0x\0b", 3, &v);
    ck_assert_int_eq(v.type, ZT_V_MISSING);
    zt_claims_get(c, "sub\0x", 2, &v);
    ck_assert_int_eq(v.type, ZT_V_MISSING);

    zt_claims_get(c, "realm_access\0roles", 2, &v);
    ck_assert_int_eq(v.type, ZT_V_OTHER);
    a = (zt_val_t){ .type = ZT_V_STR, .s = "admin", .len = 5 };
    ck_assert(zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_STR, .s = "u1", .len = 2 };
    ck_assert(zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_STR, .s = "admi", .len = 4 };
    ck_assert(!zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_STR, .s = "x", .len = 1 };   /* nested: no */
    ck_assert(!zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_INT, .i = 7 };
    ck_assert(zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_BOOL, .i = 1 };
    ck_assert(zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_BOOL, .i = 0 };
    ck_assert(!zt_claims_array_has(&v, &a));
    a = (zt_val_t){ .type = ZT_V_OTHER };
    ck_assert(!zt_claims_array_has(&v, &a));
    zt_claims_get(c, "sub", 1, &v);                       /* not an array */
    a = (zt_val_t){ .type = ZT_V_STR, .s = "u1", .len = 2 };
    ck_assert(!zt_claims_array_has(&v, &a));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jdoc");
    TCase *tc = tcase_create("jdoc");

    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 60);
    tcase_add_test(tc, accepts_and_reads);
    tcase_add_test(tc, decodes_strings);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, refuses_duplicates);
    tcase_add_test(tc, refuses_duplicates_in_big_objects);
    tcase_add_test(tc, refuses_bad_utf8_and_nul);
    tcase_add_test(tc, refuses_structure);
    tcase_add_test(tc, truncations_and_flips);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, length_limit);
    tcase_add_test(tc, big_documents);
    tcase_add_test(tc, block_copies);
    tcase_add_test(tc, claims_api);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
