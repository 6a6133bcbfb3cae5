/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Route matching through the trie (zt_route.c): ranks (literal > capture >
 * `*` > `**`, left to right), backtracking, `**` over zero or more
 * segments, methods and HEAD, path hygiene, captures, the refusal of two
 * routes with one shape, and a seeded random comparison of the trie with
 * a plain scan over the routes that ranks every candidate.
 * Tables are built by hand (zt_ir_build.h), emitted and loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zt_test.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_eval.h"

ZT_TEST_POOL_FIXTURE

static zt_table_t *build_in(const zpc_ir_t *ir, apr_pool_t *p)
{
    void *buf;
    apr_size_t len;
    const char *err = NULL;
    zt_table_t *t;

    ck_assert_msg(zpc_emit(ir, p, &buf, &len, &err) == APR_SUCCESS, "emit: %s", err);
    ck_assert_msg(zt_table_load(&t, buf, len, "t.ztb", p, &err) == APR_SUCCESS,
                  "load: %s", err);
    return t;
}

static zt_table_t *build(const zpc_ir_t *ir)
{
    return build_in(ir, pool);
}

/* zb_route, with "*" and "**" segments as STAR and GLOBSTAR. */
static uint32_t route(zpc_ir_t *ir, uint32_t method, const char *pattern)
{
    uint32_t i = zb_route(ir, method, pattern);
    zpc_ir_route_t *r = &APR_ARRAY_IDX(ir->routes, i, zpc_ir_route_t);

    for (int k = 0; k < r->segs->nelts; k++) {
        zpc_ir_seg_t *g = &APR_ARRAY_IDX(r->segs, k, zpc_ir_seg_t);
        if (g->kind == ZT_SEG_LITERAL && strcmp(g->text, "*") == 0) {
            g->kind = ZT_SEG_STAR;
            g->text = NULL;
        }
        else if (g->kind == ZT_SEG_LITERAL && strcmp(g->text, "**") == 0) {
            g->kind = ZT_SEG_GLOBSTAR;
            g->text = NULL;
        }
    }
    return i;
}

/* 80 'q's, for building paths of a given length. */
#define ZT_QS "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"

#define NO_ROUTE ZT_NONE
#define BAD_PATH (ZT_NONE - 1)

static uint32_t route_of(const zt_table_t *t, const char *method, const char *path)
{
    zt_match_t m;
    zt_route_status_e st = zt_route_match(t, method, path, &m);

    if (st != ZT_ROUTE_OK) {
        ck_assert_uint_eq(m.route, ZT_NONE);
        return st == ZT_ROUTE_NONE ? NO_ROUTE : BAD_PATH;
    }
    return m.route;
}

#define ck_route(t, method, path, want)                                       \
    do {                                                                      \
        uint32_t got_ = route_of((t), (method), (path));                      \
        ck_assert_msg(got_ == (uint32_t)(want), "%s %s: route %d, want %d",   \
                      (method) ? (const char *)(method) : "(null)", (path),   \
                      (int)got_, (int)(want));                                \
    } while (0)

/* ------------------------------------------------------------------ */
/* Literals and captures                                               */
/* ------------------------------------------------------------------ */

static zt_table_t *routes_table(void)
{
    zpc_ir_t *ir = zb_new(pool, "routes", "r.ztp");
    char deep[2 * ZT_MAX_SEGMENTS + 1] = "";

    for (int i = 0; i < ZT_MAX_SEGMENTS; i++) {
        strcat(deep, "/a");
    }
    route(ir, ZT_M_GET, "/");                       /* 0 */
    route(ir, ZT_M_GET, "/orders");                 /* 1 */
    route(ir, ZT_M_GET, "/orders/{id}");            /* 2 */
    route(ir, ZT_M_GET, "/orders/mine");            /* 3: after 2, still wins */
    route(ir, ZT_M_GET, "/{a}/x");                  /* 4 */
    route(ir, ZT_M_GET, "/x/{b}");                  /* 5 */
    route(ir, ZT_M_POST, "/orders");                /* 6 */
    route(ir, ZT_M_GET, apr_pstrdup(pool, deep));   /* 7 */
    route(ir, ZT_M_DELETE, "/orders/{id}");         /* 8 */
    route(ir, ZT_M_GET, "/{p}/{q}/{r}");            /* 9 */
    route(ir, ZT_M_GET, "/{p}/{q}/z");              /* 10 */
    return build(ir);
}

START_TEST(literals_and_captures)
{
    zt_table_t *t = routes_table();

    ck_route(t, "GET", "/", 0);
    ck_route(t, "GET", "/orders", 1);
    ck_route(t, "GET", "/orders/42", 2);
    ck_route(t, "GET", "/orders/mine", 3);
    ck_route(t, "GET", "/orders/mine2", 2);
    ck_route(t, "GET", "/orders/min", 2);
    ck_route(t, "GET", "/ordersx", NO_ROUTE);
    ck_route(t, "GET", "/order", NO_ROUTE);
    ck_route(t, "GET", "/orders/42/x", 9);
    ck_route(t, "GET", "/orders/42/x/y", NO_ROUTE);
    ck_route(t, "GET", "/orders/\xc3\xa9", 2);      /* UTF-8 */
    ck_route(t, "GET", "/...", NO_ROUTE);           /* not a dot segment */
    ck_route(t, "GET", "/ORDERS", NO_ROUTE);        /* bytes, not case */
}
END_TEST

START_TEST(precedence_left_to_right)
{
    zt_table_t *t = routes_table();

    /* /{a}/x and /x/{b} both match /x/x: the literal comes first in /x/{b} */
    ck_route(t, "GET", "/x/x", 5);
    ck_route(t, "GET", "/y/x", 4);
    ck_route(t, "GET", "/x/y", 5);
    /* /{p}/{q}/z beats /{p}/{q}/{r}, later in the table or not */
    ck_route(t, "GET", "/u/v/z", 10);
    ck_route(t, "GET", "/u/v/w", 9);
}
END_TEST

START_TEST(methods_and_head)
{
    zt_table_t *t = routes_table();

    ck_route(t, "HEAD", "/orders", 1);
    ck_route(t, "HEAD", "/orders/1", 2);
    ck_route(t, "POST", "/orders", 6);
    ck_route(t, "POST", "/orders/1", NO_ROUTE);
    ck_route(t, "DELETE", "/orders/1", 8);
    ck_route(t, "DELETE", "/orders", NO_ROUTE);
    ck_route(t, "PUT", "/orders", NO_ROUTE);
    ck_route(t, "OPTIONS", "/orders", NO_ROUTE);
    ck_route(t, "get", "/orders", NO_ROUTE);
    ck_route(t, "BREW", "/orders", NO_ROUTE);
    ck_route(t, "", "/orders", NO_ROUTE);
    ck_route(t, NULL, "/orders", NO_ROUTE);
    ck_route(t, "GET ", "/orders", NO_ROUTE);
    ck_route(t, "HEAD", "/", 0);
    ck_route(t, "POST", "/", NO_ROUTE);
    /* names one byte short of or past a known one are no method at all */
    static const char *const near[] = {
        "G", "GE", "GETX", "GETT", "H", "HEA", "HEADX", "P", "PO", "POS",
        "POSTX", "PU", "PUTX", "PATC", "PATCHX", "D", "DELET", "DELETEX",
        "DELETE ", "O", "OPTION", "OPTIONSX", "Get", "gET", "\xc7" "ET",
    };
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        ck_route(t, near[i], "/orders", NO_ROUTE);
        ck_route(t, near[i], "/orders/1", NO_ROUTE);
    }
}
END_TEST

static const char *const bad_paths[] = {
    "", "orders", "orders/1", " /orders", "//", "/orders/", "/orders//1",
    "//orders", "/.", "/./orders", "/orders/.", "/..", "/orders/..",
    "/orders/../orders", ("/a\x01" "b"), "/a\x1f", "/a\x7f", "/a\tb", "/a\nb",
    "/orders/1\r", "/a/./b", "/a/", "///",
};

START_TEST(bad_paths_refused)
{
    zt_table_t *t = routes_table();
    zt_match_t m;

    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        ck_assert_msg(zt_route_match(t, "GET", bad_paths[i], &m) == ZT_ROUTE_BAD_PATH,
                      "path %zu accepted", i);
        ck_assert_uint_eq(m.route, ZT_NONE);
        ck_assert_uint_eq(m.nseg, 0);
    }
    /* the same after a 70-byte segment: the split of 64 bytes or more */
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        char *p;
        if (bad_paths[i][0] != '/') {
            continue;
        }
        p = apr_psprintf(pool, "/%070d%s", 7, bad_paths[i]);
        ck_assert_msg(zt_route_match(t, "GET", p, &m) == ZT_ROUTE_BAD_PATH,
                      "long path %zu accepted", i);
        ck_assert_uint_eq(m.route, ZT_NONE);
        ck_assert_uint_eq(m.nseg, 0);
    }
    ck_assert_int_eq(zt_route_match(t, "GET", NULL, &m), ZT_ROUTE_BAD_PATH);
    /* a bad path is bad whatever the method */
    ck_assert_int_eq(zt_route_match(t, "BREW", "/a/../b", &m), ZT_ROUTE_BAD_PATH);
}
END_TEST

/* The split reads 16 (or 8) bytes at a time, and paths of 64 bytes or
 * more another way: a stop byte ('/', control, DEL) must be found at every
 * offset of a segment of every length up to 140, and bytes >= 0x80 or
 * just above the limits (' ', '0', 0x7e) never stop it. */
START_TEST(split_every_offset)
{
    zt_table_t *t = routes_table();
    static const char bad[] = { 0x01, 0x1f, 0x7f, '\t' };
    static const char fine[] = { ' ', '0', 0x7e, (char)0x80, (char)0xff };
    char path[142];
    zt_match_t m;

    for (size_t len = 1; len + 2 < sizeof(path); len++) {
        for (size_t at = 0; at < len; at++) {
            path[0] = '/';
            memset(path + 1, 'q', len);
            path[len + 1] = '\0';
            for (size_t k = 0; k < sizeof(bad); k++) {
                path[1 + at] = bad[k];
                ck_assert_msg(zt_route_match(t, "GET", path, &m) == ZT_ROUTE_BAD_PATH,
                              "byte %#x at %zu of %zu accepted", bad[k], at, len);
            }
            for (size_t k = 0; k < sizeof(fine); k++) {
                path[1 + at] = fine[k];
                ck_assert_int_eq(zt_route_match(t, "GET", path, &m), ZT_ROUTE_NONE);
                ck_assert_uint_eq(m.nseg, 1);
                ck_assert_uint_eq(m.seg[0].len, len);
            }
            path[1 + at] = '/';     /* two segments, or an empty one */
            ck_assert_int_eq(zt_route_match(t, "GET", path, &m),
                             at == 0 || at + 1 == len ? ZT_ROUTE_BAD_PATH : ZT_ROUTE_NONE);
            if (at != 0 && at + 1 != len) {
                ck_assert_uint_eq(m.nseg, 2);
                ck_assert_uint_eq(m.seg[0].len, at);
                ck_assert_uint_eq(m.seg[1].len, len - at - 1);
            }
        }
    }
}
END_TEST

/* "." and ".." segments (and empty ones) are found from the '/' and '.'
 * masks: at every place in paths of every length up to about 140, before
 * and after the 64 bytes where the split changes, alone or last; "...",
 * ".a" and "a." are ordinary segments. */
START_TEST(dot_segments_every_offset)
{
    static const struct { const char *seg; int bad; } segs[] = {
        { ".", 1 }, { "..", 1 }, { "", 1 }, { "...", 0 }, { ".a", 0 },
        { "a.", 0 }, { "..a", 0 },
    };
    zt_table_t *t = routes_table();
    zt_match_t m;

    for (int before = 0; before < 70; before++) {
        for (int after = -1; after < 70; after += 7) {
            for (size_t k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
                /* "/q..q/SEG" or "/q..q/SEG/q..q", the first part absent
                 * when before is 0 */
                char *p;
                if (before == 0 && after < 0 && segs[k].seg[0] == '\0') {
                    continue;       /* "/" */
                }
                p = before > 0
                          ? apr_psprintf(pool, "/%.*s/%s", before, ZT_QS, segs[k].seg)
                          : apr_psprintf(pool, "/%s", segs[k].seg);
                if (after >= 0) {
                    p = apr_psprintf(pool, "%s/%.*s", p, after + 1, ZT_QS);
                }
                ck_assert_msg((zt_route_match(t, "GET", p, &m) == ZT_ROUTE_BAD_PATH)
                              == segs[k].bad, "%s: %s", p,
                              segs[k].bad ? "accepted" : "refused");
                if (!segs[k].bad) {
                    ck_assert_uint_eq(m.nseg, (before > 0) + 1 + (after >= 0));
                }
            }
        }
    }
}
END_TEST

START_TEST(segment_limit)
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

START_TEST(captures)
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
    ck_assert_ptr_null(zt_route_capture(t, NULL, "id"));

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
/* Stars, globstars, backtracking                                      */
/* ------------------------------------------------------------------ */

START_TEST(ranks)
{
    zpc_ir_t *ir = zb_new(pool, "ranks", "r.ztp");
    zt_table_t *t;

    route(ir, ZT_M_GET, "/a/**");       /* 0 */
    route(ir, ZT_M_GET, "/a/*");        /* 1 */
    route(ir, ZT_M_GET, "/a/{x}");      /* 2 */
    route(ir, ZT_M_GET, "/a/b");        /* 3 */
    route(ir, ZT_M_POST, "/a/*");       /* 4 */
    route(ir, ZT_M_POST, "/a/**");      /* 5 */
    route(ir, ZT_M_PUT, "/a/**");       /* 6 */
    route(ir, ZT_M_PUT, "/{x}/b");      /* 7 */
    route(ir, ZT_M_PUT, "/*/c");        /* 8 */
    t = build(ir);

    ck_route(t, "GET", "/a/b", 3);      /* literal */
    ck_route(t, "GET", "/a/c", 2);      /* capture beats * and ** */
    ck_route(t, "GET", "/a/b/c", 0);    /* only ** takes two */
    ck_route(t, "GET", "/a", 0);        /* ** takes zero */
    ck_route(t, "POST", "/a/b", 4);     /* * beats ** */
    ck_route(t, "POST", "/a/b/c", 5);
    ck_route(t, "POST", "/a", 5);
    ck_route(t, "POST", "/b", NO_ROUTE);
    /* left to right: the literal /a beats a capture later in the path */
    ck_route(t, "PUT", "/a/b", 6);
    ck_route(t, "PUT", "/x/b", 7);
    ck_route(t, "PUT", "/x/c", 8);
    ck_route(t, "PUT", "/a/c", 6);
    ck_route(t, "PUT", "/x/d", NO_ROUTE);
}
END_TEST

START_TEST(backtracking)
{
    zpc_ir_t *ir = zb_new(pool, "bt", "r.ztp");
    zt_table_t *t;

    route(ir, ZT_M_GET, "/a/b/c");          /* 0 */
    route(ir, ZT_M_GET, "/{x}/b/d");        /* 1 */
    route(ir, ZT_M_GET, "/a/{y}/e");        /* 2 */
    route(ir, ZT_M_GET, "/*/*/f");          /* 3 */
    route(ir, ZT_M_GET, "/**");             /* 4 */
    route(ir, ZT_M_POST, "/a/b/c/d");       /* 5 */
    route(ir, ZT_M_POST, "/a/**");          /* 6 */
    route(ir, ZT_M_PUT, "/a/b/**");         /* 7 */
    route(ir, ZT_M_PUT, "/{x}/b/d");        /* 8 */
    t = build(ir);

    ck_route(t, "GET", "/a/b/c", 0);
    ck_route(t, "GET", "/a/b/d", 1);        /* /a/b leads nowhere: back to the root */
    ck_route(t, "GET", "/a/b/e", 2);        /* back one level only */
    ck_route(t, "GET", "/a/b/f", 3);        /* back to the root, twice */
    ck_route(t, "GET", "/a/b/g", 4);
    ck_route(t, "GET", "/a/b", 4);
    ck_route(t, "GET", "/z/b/d", 1);
    ck_route(t, "GET", "/z/b/c", 4);
    ck_route(t, "GET", "/", 4);             /* a globstar at the root: "/" too */
    ck_route(t, "HEAD", "/q/r/s/t", 4);
    ck_route(t, "POST", "/a/b/c", 6);       /* the longer literal route ends later */
    ck_route(t, "POST", "/a/b/c/d", 5);
    ck_route(t, "POST", "/a/b/c/d/e", 6);
    ck_route(t, "POST", "/b", NO_ROUTE);
    ck_route(t, "DELETE", "/a/b/c", NO_ROUTE);
    /* left to right: /a/b/(globstar) has literals where /{x}/b/d has a
     * capture, so it wins even where /{x}/b/d matches exactly */
    ck_route(t, "PUT", "/a/b/d", 7);
    ck_route(t, "PUT", "/c/b/d", 8);
}
END_TEST

/* A method's routes never shadow another method's, even one with a better
 * shape: the walk only follows branches that hold the request's method. */
START_TEST(methods_do_not_mix)
{
    zpc_ir_t *ir = zb_new(pool, "m", "r.ztp");
    zt_table_t *t;

    route(ir, ZT_M_POST, "/a/b");           /* 0 */
    route(ir, ZT_M_GET, "/{x}/b");          /* 1 */
    route(ir, ZT_M_DELETE, "/a/b");         /* 2 */
    route(ir, ZT_M_GET, "/a/{y}/c/**");     /* 3 */
    route(ir, ZT_M_PATCH, "/a/b/c");        /* 4 */
    route(ir, ZT_M_OPTIONS, "/**");         /* 5 */
    t = build(ir);

    ck_route(t, "GET", "/a/b", 1);
    ck_route(t, "HEAD", "/a/b", 1);
    ck_route(t, "POST", "/a/b", 0);
    ck_route(t, "DELETE", "/a/b", 2);
    ck_route(t, "GET", "/a/b/c", 3);
    ck_route(t, "GET", "/a/b/c/d", 3);
    ck_route(t, "PATCH", "/a/b/c", 4);
    ck_route(t, "PATCH", "/a/b", NO_ROUTE);
    ck_route(t, "OPTIONS", "/a/b", 5);
    ck_route(t, "PUT", "/a/b", NO_ROUTE);
}
END_TEST

/* A literal child with no route of the request's method, beside a
 * capture or `*` child with one: the match follows the literal (it takes
 * a literal child without testing its methods), ends on no route and must
 * still answer the capture's or the `*`'s route, whether the literal is
 * the last segment, in the middle, short or long, and with routes of the
 * method deeper below it or not. */
START_TEST(literal_without_the_method)
{
    zpc_ir_t *ir = zb_new(pool, "m", "r.ztp");
    zt_table_t *t;

    route(ir, ZT_M_GET, "/o/mine");                         /* 0 */
    route(ir, ZT_M_DELETE, "/o/{id}");                      /* 1 */
    route(ir, ZT_M_GET, "/o/mine/a/b");                     /* 2 */
    route(ir, ZT_M_PUT, "/o/{id}/a/b");                     /* 3 */
    route(ir, ZT_M_POST, "/o/*/a/b");                       /* 4 */
    route(ir, ZT_M_GET, "/p/a-literal-of-20-byte/x");       /* 5 */
    route(ir, ZT_M_PATCH, "/p/{q}/x");                      /* 6 */
    route(ir, ZT_M_OPTIONS, "/p/**");                       /* 7 */
    route(ir, ZT_M_PATCH, "/p/a-literal-of-20-byte/x/y");   /* 8 */
    route(ir, ZT_M_PUT, "/o/{id}/a/b/{z}");                 /* 9 */
    t = build(ir);

    ck_route(t, "GET", "/o/mine", 0);
    ck_route(t, "DELETE", "/o/mine", 1);
    ck_route(t, "DELETE", "/o/7", 1);
    ck_route(t, "GET", "/o/mine/a/b", 2);
    ck_route(t, "PUT", "/o/mine/a/b", 3);
    ck_route(t, "POST", "/o/mine/a/b", 4);
    ck_route(t, "POST", "/o/7/a/b", 4);
    ck_route(t, "DELETE", "/o/mine/a/b", NO_ROUTE);
    ck_route(t, "PUT", "/o/mine/a", NO_ROUTE);
    ck_route(t, "GET", "/p/a-literal-of-20-byte/x", 5);
    ck_route(t, "PATCH", "/p/a-literal-of-20-byte/x", 6);
    ck_route(t, "PATCH", "/p/a-literal-of-20-byte/x/y", 8);
    ck_route(t, "OPTIONS", "/p/a-literal-of-20-byte/x", 7);
    ck_route(t, "OPTIONS", "/p/a-literal-of-20-byte/x/y/z", 7);
    ck_route(t, "DELETE", "/p/a-literal-of-20-byte/x", NO_ROUTE);
    /* the same past 64 bytes, where the split does not follow the trie */
    ck_route(t, "PATCH", "/p/a-literal-of-20-byte/x?" ZT_QS, NO_ROUTE);
    ck_route(t, "PUT", "/o/mine/a/b/" ZT_QS, 9);       /* back from mine */
    ck_route(t, "OPTIONS", "/p/a-literal-of-20-byte/x/" ZT_QS, 7);
}
END_TEST

START_TEST(globstar_captures)
{
    zpc_ir_t *ir = zb_new(pool, "g", "r.ztp");
    zt_table_t *t;
    zt_match_t m;
    const zt_span_t *sp;

    route(ir, ZT_M_GET, "/files/{dir}/**");
    t = build(ir);
    ck_assert_int_eq(zt_route_match(t, "GET", "/files/d/x/y", &m), ZT_ROUTE_OK);
    ck_assert_uint_eq(m.nseg, 4);
    sp = zt_route_capture(t, &m, "dir");
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->len, 1);
    ck_assert_int_eq(sp->ptr[0], 'd');
    /* zero segments for **: the capture is still there */
    ck_assert_int_eq(zt_route_match(t, "GET", "/files/e", &m), ZT_ROUTE_OK);
    ck_assert_int_eq(zt_route_capture(t, &m, "dir")->ptr[0], 'e');
    ck_assert_int_eq(zt_route_match(t, "GET", "/files", &m), ZT_ROUTE_NONE);
}
END_TEST

/* Many literal children at one node: binary search finds every one, and
 * near misses (prefixes, longer, one byte off) fall to the capture. */
START_TEST(wide_fanout)
{
    zpc_ir_t *ir = zb_new(pool, "wide", "r.ztp");
    zt_table_t *t;
    char path[64];

    for (int i = 0; i < 500; i++) {
        route(ir, ZT_M_GET, apr_psprintf(pool, "/r/n%d", i * 7));
    }
    route(ir, ZT_M_GET, "/r/{other}");      /* 500 */
    t = build(ir);
    for (int i = 0; i < 500; i++) {
        snprintf(path, sizeof(path), "/r/n%d", i * 7);
        ck_route(t, "GET", path, i);
        snprintf(path, sizeof(path), "/r/n%d", i * 7 + 1);
        ck_route(t, "GET", path, 500);          /* no multiple of 7 */
        snprintf(path, sizeof(path), "/r/n%dx", i * 7);
        ck_route(t, "GET", path, 500);
        snprintf(path, sizeof(path), "/r/m%d", i * 7);
        ck_route(t, "GET", path, 500);
    }
    ck_route(t, "GET", "/r/n", 500);
    ck_route(t, "GET", "/r/", BAD_PATH);
}
END_TEST

/* The routes ending at a node are packed into it as a base route and a
 * distance per method of at most 30 (zt_route.c); farther apart, or with
 * a `**` route there, they are kept in a record of their own.  Every
 * method at nodes of each kind, at the edges of the packing. */
START_TEST(routes_of_one_node)
{
    zpc_ir_t *ir = zb_new(pool, "ends", "r.ztp");
    zt_table_t *t;
    uint32_t p_get, p_post, q_get, q_put, r_get, r_glob, r_gglob, f0, g0;

    p_get = route(ir, ZT_M_GET, "/p");
    f0 = route(ir, ZT_M_GET, "/f0");
    for (int i = 1; i < 29; i++) {
        route(ir, ZT_M_GET, apr_psprintf(pool, "/f%d", i));
    }
    p_post = route(ir, ZT_M_POST, "/p");            /* p_get + 30: packed */
    q_get = route(ir, ZT_M_GET, "/q");
    g0 = route(ir, ZT_M_GET, "/g0");
    for (int i = 1; i < 30; i++) {
        route(ir, ZT_M_GET, apr_psprintf(pool, "/g%d", i));
    }
    q_put = route(ir, ZT_M_PUT, "/q");              /* q_get + 31: not */
    r_get = route(ir, ZT_M_GET, "/r");
    r_glob = route(ir, ZT_M_POST, "/r/**");
    r_gglob = route(ir, ZT_M_GET, "/r/**");
    ck_assert_uint_eq(p_post, p_get + 30);
    ck_assert_uint_eq(q_put, q_get + 31);
    t = build(ir);

    ck_route(t, "GET", "/p", p_get);
    ck_route(t, "HEAD", "/p", p_get);
    ck_route(t, "POST", "/p", p_post);
    ck_route(t, "PUT", "/p", NO_ROUTE);
    ck_route(t, "PATCH", "/p", NO_ROUTE);
    ck_route(t, "DELETE", "/p", NO_ROUTE);
    ck_route(t, "OPTIONS", "/p", NO_ROUTE);
    ck_route(t, "GET", "/q", q_get);
    ck_route(t, "HEAD", "/q", q_get);
    ck_route(t, "OPTIONS", "/q", NO_ROUTE);
    ck_route(t, "PUT", "/q", q_put);
    ck_route(t, "POST", "/q", NO_ROUTE);
    ck_route(t, "DELETE", "/q", NO_ROUTE);
    ck_route(t, "GET", "/r", r_get);
    ck_route(t, "POST", "/r", r_glob);              /* ** over no segment */
    ck_route(t, "POST", "/r/x/y", r_glob);
    ck_route(t, "GET", "/r/x/y", r_gglob);
    ck_route(t, "PUT", "/r", NO_ROUTE);
    ck_route(t, "PUT", "/r/x", NO_ROUTE);
    ck_route(t, "GET", "/f0", f0);
    ck_route(t, "GET", "/f28", f0 + 28);
    ck_route(t, "GET", "/g0", g0);
    ck_route(t, "GET", "/g29", g0 + 29);
    ck_route(t, "POST", "/f0", NO_ROUTE);
    ck_route(t, "GET", "/f29", NO_ROUTE);
}
END_TEST

/* route_of on a malloc'd copy of exactly strlen(path) + 1 bytes: under
 * ASan a read past the NUL is an error, whatever the path's length. */
static uint32_t route_of_exact(const zt_table_t *t, const char *method,
                               const char *path)
{
    char *copy = strdup(path);
    uint32_t r;

    ck_assert_ptr_nonnull(copy);
    r = route_of(t, method, copy);
    free(copy);
    return r;
}

#define ck_route_exact(t, method, path, want)                                 \
    do {                                                                      \
        uint32_t got_ = route_of_exact((t), (method), (path));                \
        ck_assert_msg(got_ == (uint32_t)(want), "%s %s: route %d, want %d",   \
                      (method), (path), (int)got_, (int)(want));              \
    } while (0)

/* The literal hash starts at key + parent offset, so literals under
 * different parents can share a first slot, whether their keys are
 * equal or differ by the parents' offsets ('a' - 'A' is 32, one node).
 * The parent in the slot keeps them apart, and none is found under
 * another's parent: the same 24 literals under 48 parents fill a
 * quarter of their table, so many start where another one lies. */
START_TEST(hash_start_shared_across_parents)
{
    static const struct { const char *path; uint32_t route; } want[] = {
        { "/a/abbbbbbb", 0 }, { "/b/Abbbbbbb", 1 }, { "/a/a", 2 }, { "/b/b", 3 },
        { "/a/Abbbbbbb", NO_ROUTE }, { "/b/abbbbbbb", NO_ROUTE },
    };
    zpc_ir_t *ir = zb_new(pool, "collide", "r.ztp");
    zt_table_t *t;
    uint32_t first;

    route(ir, ZT_M_GET, "/a/abbbbbbb");         /* 0 */
    route(ir, ZT_M_GET, "/b/Abbbbbbb");         /* 1 */
    route(ir, ZT_M_GET, "/a/a");                /* 2: a second literal under each */
    route(ir, ZT_M_GET, "/b/b");                /* 3 */
    first = route(ir, ZT_M_GET, "/p0/x0");
    for (int i = 0; i < 48; i++) {
        for (int k = i == 0; k < 24; k++) {
            route(ir, ZT_M_GET, apr_psprintf(pool, "/p%d/x%d", i, k));
        }
    }
    t = build(ir);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_route_exact(t, "GET", want[i].path, want[i].route);
    }
    for (int i = 0; i < 48; i++) {
        for (int k = 0; k < 25; k++) {
            char path[32];
            snprintf(path, sizeof(path), "/p%d/x%d", i, k);
            ck_route_exact(t, "GET", path, k < 24 ? first + (uint32_t)(i * 24 + k)
                                                  : NO_ROUTE);
            snprintf(path, sizeof(path), "/p%d/X%d", i, k);
            ck_route_exact(t, "GET", path, NO_ROUTE);
        }
    }
}
END_TEST

/* Literals of every length around the 8 bytes a slot holds and the 16
 * the long compare reads as two words, under one node and in paths
 * short (copied by the split) and long (64 bytes or more, read in place,
 * the segment at the very end): each matches only itself, and one byte
 * more, less or different falls to the capture.  Every path is matched
 * in a block of its own size. */
START_TEST(literal_lengths)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
    zpc_ir_t *ir = zb_new(pool, "lens", "r.ztp");
    char pad[80], lit[64], path[200];
    zt_table_t *t;

    memset(pad, 'p', 70);
    pad[70] = '\0';
    for (int n = 1; n <= 40; n++) {
        route(ir, ZT_M_GET, apr_psprintf(pool, "/r/%.*s", n, alpha));       /* n - 1 */
    }
    route(ir, ZT_M_GET, "/r/{other}");                                      /* 40 */
    for (int n = 1; n <= 40; n++) {
        route(ir, ZT_M_GET, apr_psprintf(pool, "/%s/%.*s", pad, n, alpha)); /* 40 + n */
    }
    route(ir, ZT_M_GET, apr_psprintf(pool, "/%s/{other}", pad));            /* 81 */
    t = build(ir);
    for (int n = 1; n <= 40; n++) {
        for (int far = 0; far < 2; far++) {
            const char *dir = far ? pad : "r";
            int base = far ? 40 + n : n - 1, other = far ? 81 : 40;

            snprintf(path, sizeof(path), "/%s/%.*s", dir, n, alpha);
            ck_route_exact(t, "GET", path, base);
            snprintf(path, sizeof(path), "/%s/%.*sx", dir, n, alpha);      /* longer */
            ck_route_exact(t, "GET", path, n < 40 && alpha[n] == 'x' ? base + 1 : other);
            if (n > 1) {                                                    /* shorter */
                snprintf(path, sizeof(path), "/%s/%.*s", dir, n - 1, alpha);
                ck_route_exact(t, "GET", path, base - 1);
            }
            for (int at = 0; at < n; at++) {                                /* one byte off */
                memcpy(lit, alpha, (size_t)n);
                lit[at] = '_';
                snprintf(path, sizeof(path), "/%s/%.*s", dir, n, lit);
                ck_route_exact(t, "GET", path, other);
            }
        }
    }
    ck_route_exact(t, "GET", "/r/a", 0);          /* under 8 bytes in all */
    ck_route_exact(t, "GET", "/r/b", 40);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Routes of one shape                                                 */
/* ------------------------------------------------------------------ */

/* @a t with route @a ri's method changed to @a method, its trie rebuilt. */
static apr_status_t rebuild_with_method(const zt_table_t *t, uint32_t ri,
                                        uint32_t method, const char **err)
{
    zt_table_t *c = apr_pmemdup(pool, t, sizeof(*t));
    zt_route_rec_t *routes = apr_pmemdup(pool, t->routes,
                                         t->nroutes * sizeof(zt_route_rec_t));

    routes[ri].methods = method;
    c->routes = routes;
    c->trie = NULL;
    return zt_route_trie_build(c, pool, err);
}

START_TEST(equal_shapes_refused)
{
    static const char *const pairs[][2] = {
        { "/a/{x}", "/a/{y}" },         /* capture names do not count */
        { "/a/**", "/a/**" },
        { "/*/b", "/*/b" },
        { "/", "/" },
        { "/{x}/**", "/{y}/**" },
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        zpc_ir_t *ir = zb_new(pool, "dup", "dup.ztp");
        const char *err = NULL;
        zt_table_t *t;

        route(ir, ZT_M_GET, "/other");
        route(ir, ZT_M_GET, pairs[i][0]);           /* 1, line 12 */
        route(ir, ZT_M_POST, pairs[i][1]);          /* 2, line 13 */
        t = build(ir);                              /* two methods: fine */
        ck_assert_int_eq(route_of(t, "GET", "/other"), 0);
        ck_assert_int_ne(rebuild_with_method(t, 2, ZT_M_GET, &err), APR_SUCCESS);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, apr_psprintf(pool, "GET %s (", pairs[i][0])) != NULL
                      && strstr(err, apr_psprintf(pool, "GET %s (", pairs[i][1])) != NULL
                      && strstr(err, ":12)") != NULL && strstr(err, ":13)") != NULL
                      && strstr(err, "can match the same request with equal rank") != NULL,
                      "message: %s", err);
        /* another method is fine */
        err = NULL;
        ck_assert_int_eq(rebuild_with_method(t, 2, ZT_M_PUT, &err), APR_SUCCESS);
    }
}
END_TEST

START_TEST(similar_shapes_accepted)
{
    zpc_ir_t *ir = zb_new(pool, "sim", "r.ztp");
    zt_table_t *t;

    route(ir, ZT_M_GET, "/a/{x}");      /* 0 */
    route(ir, ZT_M_GET, "/a/*");        /* 1: a star is not a capture */
    route(ir, ZT_M_GET, "/a/**");       /* 2 */
    route(ir, ZT_M_GET, "/a");          /* 3: not /a/(globstar) taking zero */
    route(ir, ZT_M_GET, "/a/b");        /* 4 */
    route(ir, ZT_M_GET, "/a/B");        /* 5 */
    t = build(ir);
    ck_route(t, "GET", "/a", 3);
    ck_route(t, "GET", "/a/B", 5);
    ck_route(t, "GET", "/a/c", 0);
}
END_TEST

/* The loader builds the trie, so a table with two routes of one shape and
 * method does not load, whoever wrote it. */
START_TEST(loader_refuses_equal_shapes)
{
    zpc_ir_t *ir = zb_new(pool, "dup", "dup.ztp");
    void *buf;
    apr_size_t len;
    const char *err = NULL;
    zt_table_t *t;

    route(ir, ZT_M_GET, "/a/{x}");
    route(ir, ZT_M_GET, "/a/{y}");
    if (zpc_emit(ir, pool, &buf, &len, &err) != APR_SUCCESS) {
        /* the emitter may refuse it first; then the message says why */
        ck_assert_ptr_nonnull(strstr(err, "equal rank"));
        return;
    }
    ck_assert_int_ne(zt_table_load(&t, buf, len, "dup.ztb", pool, &err), APR_SUCCESS);
    ck_assert_msg(strstr(err, "GET /a/{x} (dup.ztp:") != NULL
                  && strstr(err, "GET /a/{y} (dup.ztp:") != NULL, "message: %s", err);
}
END_TEST

/* `**` before the last segment is no route the format allows; the trie
 * build refuses it even if a loader let it through. */
START_TEST(globstar_not_last_refused)
{
    zpc_ir_t *ir = zb_new(pool, "g", "r.ztp");
    zt_table_t *t, *c;
    zt_seg_rec_t *segs;
    const char *err = NULL;

    route(ir, ZT_M_GET, "/a/b/c");
    t = build(ir);
    c = apr_pmemdup(pool, t, sizeof(*t));
    segs = apr_pmemdup(pool, t->segs, t->nsegs * sizeof(zt_seg_rec_t));
    segs[1].kind = ZT_SEG_GLOBSTAR;
    c->segs = segs;
    ck_assert_int_ne(zt_route_trie_build(c, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "not the last segment"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Random route sets against a reference scan                          */
/* ------------------------------------------------------------------ */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;       /* xorshift64 */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const lits[] = { "a", "b", "c" };
static const char *const path_lits[] = { "a", "b", "c", "d" };
static const uint32_t methods[] = { ZT_M_GET, ZT_M_POST, ZT_M_DELETE };
static const char *const method_names[] = { "GET", "POST", "DELETE", "HEAD" };

/* Rank of one segment kind, best first; a route that has ended ranks
 * above every kind (an exact route beats `**` taking zero segments). */
static int seg_rank(const zt_table_t *t, const zt_route_rec_t *r, uint32_t k)
{
    return k < r->seg_count ? (int)t->segs[r->seg_first + k].kind : -1;
}

static int ref_fits(const zt_table_t *t, const zt_route_rec_t *r,
                    const char *const *seg, uint32_t nseg)
{
    uint32_t n = r->seg_count;
    int glob = n > 0 && t->segs[r->seg_first + n - 1].kind == ZT_SEG_GLOBSTAR;

    if (glob ? nseg < n - 1 : nseg != n) {
        return 0;
    }
    for (uint32_t k = 0; k < n - (uint32_t)glob; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        if (s->kind == ZT_SEG_LITERAL && strcmp(zt_table_str(t, s->str), seg[k]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* The best route by a scan of all routes: the one whose rank sequence is
 * smallest, comparing left to right.  Equal sequences cannot both fit
 * (they would have one shape), so there is no tie to break. */
static uint32_t ref_match(const zt_table_t *t, uint32_t mbit,
                          const char *const *seg, uint32_t nseg)
{
    uint32_t best = ZT_NONE;

    for (uint32_t i = 0; i < t->nroutes; i++) {
        const zt_route_rec_t *r = &t->routes[i];
        if ((r->methods & mbit) == 0 || !ref_fits(t, r, seg, nseg)) {
            continue;
        }
        if (best != ZT_NONE) {
            const zt_route_rec_t *b = &t->routes[best];
            uint32_t k = 0;
            while (k <= ZT_MAX_SEGMENTS && seg_rank(t, r, k) == seg_rank(t, b, k)) {
                k++;
            }
            ck_assert_msg(k <= ZT_MAX_SEGMENTS, "routes %u and %u tie", best, i);
            if (seg_rank(t, r, k) > seg_rank(t, b, k)) {
                continue;
            }
        }
        best = i;
    }
    return best;
}

#define RT_SETS   400
#define RT_PATHS  60

START_TEST(random_against_reference)
{
    uint32_t cases = 0, matched = 0;

    rng = UINT64_C(0x9e3779b97f4a7c15);
    for (int set = 0; set < RT_SETS; set++) {
        apr_pool_t *p;
        zpc_ir_t *ir;
        apr_hash_t *shapes;
        zt_table_t *t;
        uint32_t nroutes = 1 + rnd(30);

        apr_pool_create(&p, pool);
        ir = zb_new(p, "rnd", "rnd.ztp");
        shapes = apr_hash_make(p);
        for (uint32_t i = 0; i < nroutes; i++) {
            uint32_t nseg = rnd(5), mi = rnd(3);
            char pat[128] = "", shape[128];
            for (uint32_t k = 0; k < nseg; k++) {
                uint32_t kind = rnd(10);
                if (kind < 5) {
                    strcat(pat, "/");
                    strcat(pat, lits[rnd(3)]);
                }
                else if (kind < 7) {
                    char cap[16];
                    snprintf(cap, sizeof(cap), "/{c%u}", k);
                    strcat(pat, cap);
                }
                else if (kind < 9 || k + 1 < nseg) {
                    strcat(pat, "/*");
                }
                else {
                    strcat(pat, "/**");
                }
            }
            if (pat[0] == '\0') {
                strcpy(pat, "/");
            }
            /* shape: captures all alike */
            snprintf(shape, sizeof(shape), "%u%s", mi, pat);
            for (char *s = shape; (s = strstr(s, "{c")) != NULL; s++) {
                s[2] = '0';
            }
            if (apr_hash_get(shapes, shape, APR_HASH_KEY_STRING) != NULL) {
                continue;
            }
            apr_hash_set(shapes, apr_pstrdup(p, shape), APR_HASH_KEY_STRING, "");
            route(ir, methods[mi], apr_pstrdup(p, pat));
        }
        t = build_in(ir, p);
        for (int q = 0; q < RT_PATHS; q++) {
            const char *seg[8];
            uint32_t nseg = rnd(6), mi = rnd(4), want, got;
            char path[64] = "";
            zt_match_t m;
            zt_route_status_e st;

            for (uint32_t k = 0; k < nseg; k++) {
                seg[k] = path_lits[rnd(4)];
                strcat(path, "/");
                strcat(path, seg[k]);
            }
            if (nseg == 0) {
                strcpy(path, "/");
            }
            want = ref_match(t, mi == 3 ? ZT_M_GET : methods[mi], seg, nseg);
            st = zt_route_match(t, method_names[mi], path, &m);
            got = m.route;
            ck_assert(st == (got == ZT_NONE ? ZT_ROUTE_NONE : ZT_ROUTE_OK));
            ck_assert_msg(got == want, "set %d: %s %s: trie %d (%s), scan %d (%s)",
                          set, method_names[mi], path, (int)got,
                          got == ZT_NONE ? "-" : zt_table_str(t, t->routes[got].pattern),
                          (int)want,
                          want == ZT_NONE ? "-" : zt_table_str(t, t->routes[want].pattern));
            cases++;
            matched += want != ZT_NONE;
        }
        apr_pool_destroy(p);
    }
    ck_assert_uint_eq(cases, RT_SETS * RT_PATHS);
    /* the generator must exercise both outcomes */
    ck_assert_uint_gt(matched, cases / 5);
    ck_assert_uint_lt(matched, cases - cases / 5);
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc;

    tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, literals_and_captures);
    tcase_add_test(tc, precedence_left_to_right);
    tcase_add_test(tc, methods_and_head);
    tcase_add_test(tc, bad_paths_refused);
    tcase_add_test(tc, segment_limit);
    tcase_add_test(tc, split_every_offset);
    tcase_add_test(tc, dot_segments_every_offset);
    tcase_add_test(tc, captures);
    tcase_add_test(tc, ranks);
    tcase_add_test(tc, backtracking);
    tcase_add_test(tc, methods_do_not_mix);
    tcase_add_test(tc, globstar_captures);
    tcase_add_test(tc, literal_without_the_method);
    tcase_add_test(tc, wide_fanout);
    tcase_add_test(tc, literal_lengths);
    tcase_add_test(tc, hash_start_shared_across_parents);
    tcase_add_test(tc, routes_of_one_node);
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, equal_shapes_refused);
    tcase_add_test(tc, similar_shapes_accepted);
    tcase_add_test(tc, loader_refuses_equal_shapes);
    tcase_add_test(tc, globstar_not_last_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, random_against_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(route_suite());
}
