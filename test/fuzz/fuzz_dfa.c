/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for the pattern automata (zt_dfa.c).  The first byte
 * picks the mode:
 *
 *   'r' (or any even byte): the rest, up to its first NUL, is a pattern;
 *       after the NUL, subjects separated by NUL.  A pattern that compiles
 *       must give an image the verifier accepts, the same image again,
 *       and the same image written "^(?:...)$" (anchoring is implicit,
 *       images are canonical); then every subject is matched.  A refused
 *       pattern must say why, at a place inside it.
 *   odd bytes: the rest is an image, copied to an 8-aligned buffer of its
 *       exact length.  If the verifier accepts it, matching any subject
 *       must stay inside it (ASan), and every subject ends in a state.
 * Every match must agree with a plain step-a-byte walk of the image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "zt_dfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *re, size_t n)
{
    fprintf(stderr, "fuzz_dfa: %s: /%.*s/\n", what, (int)n, re);
    abort();
}

/* Match the plain way, one step a byte through the image's table, which
 * zt_dfa_match must agree with (it looks for the dead state less often). */
static int fz_match_ref(const void *img, const uint8_t *s, size_t n)
{
    const zt_dfa_hdr_t *h = img;
    const uint32_t *next = (const uint32_t *)(h + 1);
    uint32_t q = 1;

    for (size_t i = 0; i < n && q != 0; i++) {
        q = next[q * h->nclasses + h->cls[s[i]]] / h->nclasses;
    }
    return ((const uint8_t *)(next + (size_t)h->nstates * h->nclasses))[q];
}

static void fz_subjects(const void *img, const uint8_t *p, size_t n)
{
    while (n > 0) {
        const uint8_t *z = memchr(p, 0, n);
        size_t k = z != NULL ? (size_t)(z - p) : n;

        if (zt_dfa_match(img, (const char *)p, k) != fz_match_ref(img, p, k)) {
            fprintf(stderr, "fuzz_dfa: a subject of %zu bytes\n", k);
            abort();
        }
        p += k + (z != NULL);
        n -= k + (z != NULL);
    }
}

static void fz_pattern(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    const uint8_t *z = memchr(data, 0, size);
    size_t n = z != NULL ? (size_t)(z - data) : size;
    const char *re = (const char *)data;
    const void *img, *again;
    size_t len, len2, off = 0, elen = 0;
    char err[256];

    if (zt_dfa_compile_at(re, n, pool, &img, &len, err, sizeof(err),
                          &off, &elen) < 0) {
        if (err[0] == '\0' || elen == 0 || (n > 0 && off >= n)
            || img != NULL || len != 0) {
            fz_fail("a refusal without a message or a place", re, n);
        }
        return;
    }
    if (!zt_dfa_verify(img, len)) {
        fz_fail(zt_dfa_problem(img, len), re, n);
    }
    if (zt_dfa_compile(re, n, pool, &again, &len2, err, sizeof(err)) < 0
        || len2 != len || memcmp(img, again, len) != 0) {
        fz_fail("compiled twice, two images", re, n);
    }
    /* "^(?:re)$": the same language, so the same canonical image */
    if (n > 0 && re[0] != '^' && re[n - 1] != '$' && re[n - 1] != '\\') {
        char *wrapped = apr_psprintf(pool, "^(?:%.*s)$", (int)n, re);
        if (zt_dfa_compile(wrapped, n + 6, pool, &again, &len2, err,
                           sizeof(err)) == 0
            && (len2 != len || memcmp(img, again, len) != 0)) {
            fz_fail("^(?:...)$ gives another image", re, n);
        }
    }
    if (z != NULL) {
        fz_subjects(img, z + 1, size - n - 1);
    }
}

static void fz_image(const uint8_t *data, size_t size)
{
    void *buf = malloc(size > 0 ? size : 1);    /* malloc aligns to 16 */

    if (buf == NULL) {
        return;
    }
    memcpy(buf, data, size);
    if (zt_dfa_verify(buf, size)) {
        fz_subjects(buf, data, size);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *pool;

    if (size == 0) {
        return 0;
    }
    if (root == NULL) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (data[0] & 1) {
        fz_image(data + 1, size - 1);
        return 0;
    }
    apr_pool_create(&pool, root);
    fz_pattern(pool, data + 1, size - 1);
    apr_pool_destroy(pool);
    return 0;
}
