/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for the route match (zt_route_match) on a fixed table
 * of literals around 8 and 16 bytes, captures, `*` and `**`.  The first
 * input byte picks the method (some invalid); the rest, up to a NUL, is
 * the path, copied into a block of exactly its size so ASan sees any read
 * past its NUL (the split reads 16 or 8 bytes at a time).
 *
 * The answer must be the one of a plain reference written differently:
 * the path split byte by byte (refused: not absolute, an empty, "." or
 * ".." segment, a control byte or DEL, more than ZT_MAX_SEGMENTS
 * segments), the same spans, and the route found by ranking every route
 * that fits (literal > capture > `*` > `**`, left to right).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_alg.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static zt_table_t *fz_table;

static void fz_fail(const char *what, const char *path)
{
    fprintf(stderr, "fuzz_route: %s (path of %zu bytes)\n", what, strlen(path));
    abort();
}

static const char *const fz_routes[][2] = {
    { "GET", "/" }, { "GET", "/a" }, { "GET", "/a/{x}" }, { "POST", "/a/*" },
    { "GET", "/abcdefgh" }, { "GET", "/abcdefghi" }, { "GET", "/abcdefghijklmnop" },
    { "GET", "/abcdefghijklmnopq" }, { "GET", "/abcdefghijklmnopqrstuvwxyz012345" },
    { "GET", "/{p}/abcdefgh/{q}" }, { "GET", "/{p}/*/c" }, { "PUT", "/a/b/**" },
    { "GET", "/v1/**" }, { "DELETE", "/v1/{x}/b" }, { "OPTIONS", "/**" },
    { "PATCH", "/t/{t}/p/{p}/billing/items/{id}" }, { "GET", "/a/b/c/d/e/f/g/h" },
};

static const char *const fz_methods[] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "BREW", "get", "",
    "GE", "GETX", "HEA", "HEADX", "POS", "POSTX", "PUTX", "PATC", "PATCHX",
    "DELET", "DELETEX", "OPTION", "OPTIONSX", "P",
};

static void fz_init(void)
{
    static apr_pool_t *pool;
    zpc_ir_t *ir;
    void *buf;
    apr_size_t len;
    const char *err = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    ir = zb_new(pool, "fuzz", "fuzz.ztp");
    for (size_t i = 0; i < sizeof(fz_routes) / sizeof(fz_routes[0]); i++) {
        zb_route(ir, zt_method_from_name(fz_routes[i][0], strlen(fz_routes[i][0])),
                 fz_routes[i][1]);      /* "*" and "**" become STAR, GLOBSTAR */
    }
    if (zpc_emit(ir, pool, &buf, &len, &err) != APR_SUCCESS
        || zt_table_load(&fz_table, buf, len, "fuzz.ztb", pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_route: cannot build the table: %s\n", err);
        abort();
    }
}

/* The reference split: byte by byte; the number of segments, or -1. */
static int fz_split(const char *path, zt_span_t *seg)
{
    const char *s;
    int n = 0;

    if (path[0] != '/') {
        return -1;
    }
    if (path[1] == '\0') {
        return 0;
    }
    for (s = path + 1;;) {
        const char *e = s;
        while (*e != '\0' && *e != '/') {
            unsigned char c = (unsigned char)*e;
            if (c < 0x20 || c == 0x7f) {
                return -1;
            }
            e++;
        }
        if (e == s || (e - s == 1 && s[0] == '.')
            || (e - s == 2 && s[0] == '.' && s[1] == '.') || n == ZT_MAX_SEGMENTS) {
            return -1;
        }
        seg[n].ptr = s;
        seg[n].len = (uint32_t)(e - s);
        n++;
        if (*e == '\0') {
            return n;
        }
        s = e + 1;
    }
}

/* Kind of segment k of route @a r for ranking; -1 past its end. */
static int fz_rank(const zt_route_rec_t *r, uint32_t k)
{
    return k < r->seg_count ? (int)fz_table->segs[r->seg_first + k].kind : -1;
}

static int fz_fits(const zt_route_rec_t *r, const zt_span_t *seg, uint32_t nseg)
{
    uint32_t n = r->seg_count;
    int glob = n > 0 && fz_table->segs[r->seg_first + n - 1].kind == ZT_SEG_GLOBSTAR;

    if (glob ? nseg < n - 1 : nseg != n) {
        return 0;
    }
    for (uint32_t k = 0; k < n - (uint32_t)glob; k++) {
        const zt_seg_rec_t *s = &fz_table->segs[r->seg_first + k];
        const char *lit = zt_table_str(fz_table, s->str);
        if (s->kind == ZT_SEG_LITERAL
            && (strlen(lit) != seg[k].len || memcmp(lit, seg[k].ptr, seg[k].len) != 0)) {
            return 0;
        }
    }
    return 1;
}

static uint32_t fz_match(uint32_t mbit, const zt_span_t *seg, uint32_t nseg)
{
    uint32_t best = ZT_NONE;

    for (uint32_t i = 0; i < fz_table->nroutes; i++) {
        const zt_route_rec_t *r = &fz_table->routes[i];
        if ((r->methods & mbit) == 0 || !fz_fits(r, seg, nseg)) {
            continue;
        }
        if (best != ZT_NONE) {
            const zt_route_rec_t *b = &fz_table->routes[best];
            uint32_t k = 0;
            while (k <= ZT_MAX_SEGMENTS && fz_rank(r, k) == fz_rank(b, k)) {
                k++;
            }
            if (fz_rank(r, k) > fz_rank(b, k)) {
                continue;
            }
        }
        best = i;
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zt_span_t ref[ZT_MAX_SEGMENTS];
    const char *method;
    zt_route_status_e st;
    zt_match_t m;
    size_t len;
    char *path;
    int n;

    if (fz_table == NULL) {
        fz_init();
    }
    if (size == 0) {
        return 0;
    }
    method = fz_methods[data[0] % (sizeof(fz_methods) / sizeof(fz_methods[0]))];
    len = strnlen((const char *)data + 1, size - 1);
    if ((path = malloc(len + 1)) == NULL) {
        return 0;
    }
    memcpy(path, data + 1, len);
    path[len] = '\0';
    st = zt_route_match(fz_table, method, path, &m);
    n = fz_split(path, ref);
    if ((st == ZT_ROUTE_BAD_PATH) != (n < 0)) {
        fz_fail(n < 0 ? "a bad path accepted" : "a good path refused", path);
    }
    if (n >= 0) {
        uint32_t mbit = zt_method_from_name(method, strlen(method));
        if (m.nseg != (uint32_t)n) {
            fz_fail("segment count differs", path);
        }
        for (int k = 0; k < n; k++) {
            if (m.seg[k].ptr != ref[k].ptr || m.seg[k].len != ref[k].len) {
                fz_fail("segment span differs", path);
            }
        }
        if (m.route != (mbit != 0 ? fz_match(mbit, ref, (uint32_t)n) : ZT_NONE)
            || (st == ZT_ROUTE_OK) != (m.route != ZT_NONE)) {
            fz_fail("route differs from the reference", path);
        }
    }
    else if (m.route != ZT_NONE || m.nseg != 0) {
        fz_fail("a refused path left a route or segments", path);
    }
    free(path);
    return 0;
}
