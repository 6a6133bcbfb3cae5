/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The strict JSON reader (zt_jdoc.h): a recursive descent over the bytes,
 * at most ZT_JSON_MAX_DEPTH frames deep, that appends nodes and decoded
 * strings to two scratch arrays (on the stack for a token-sized document,
 * from the pool for a larger one), then copies both into the one block it
 * returns.  Why not jansson on this path: it reads through a character
 * stream and mallocs every string and member, about 10 us for a token's
 * header and payload; this takes well under 1 us (docs/BENCHMARKS.md).
 *
 * Duplicate names: each new name is compared with its object's earlier
 * ones while the object has at most ZT_JP_LINEAR members; an object with
 * more is checked once more at its end by sorting its names, so a hostile
 * object of thousands of members costs n log n, not n^2.
 */

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "zt_ascii.h"
#include "zt_jdoc.h"
#include "zt_utf8.h"

#define ZT_JP_STACK_NODES  128      /* scratch on the stack: a token's worth */
#define ZT_JP_STACK_TEXT   1024
#define ZT_JP_LINEAR       16       /* names compared one by one up to this */

typedef struct {
    const unsigned char *p, *end, *start;
    zt_jnode_t *nodes;
    uint32_t n, cap;
    char *text;                     /* decoded strings, each NUL-terminated */
    uint32_t ntext;
    apr_pool_t *pool;
    const char *why;                /* the failure, at p */
} zt_jp_t;

/* Bytes that stand for themselves inside a string: printable ASCII but
 * the quote and the backslash. */
static const unsigned char zt_jp_plain[256] = {
    [0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

/*
** Non-zero when any of the 8 bytes of @a w is a quote, a backslash, a
** control character or a byte >= 0x80 (the classic "has a zero byte"
** and "has a byte less than n" word tricks): a string's plain run is
** then copied 8 bytes a step.  A borrow can only flag bytes above a
** flagged one, so the lowest flag (little-endian: the first byte in
** memory) is exact.
*/
static inline uint64_t zt_jp_special8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)
            | w) & (ones * 0x80);
}

static int zt_jp_fail(zt_jp_t *jp, const unsigned char *at, const char *why)
{
    jp->p = at;
    jp->why = at < jp->end && *at == '\0' ? "NUL byte in document" : why;
    return -1;
}

static inline void zt_jp_ws(zt_jp_t *jp)
{
    const unsigned char *p = jp->p;

    /* Tokens come compact: the first test nearly always ends it. */
    while (p < jp->end && *p <= ' '
           && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    jp->p = p;
}

/* Twice the room for nodes, from the pool; -1 past 2^27 nodes. */
static __attribute__((noinline)) int zt_jp_grow(zt_jp_t *jp)
{
    uint32_t cap = jp->cap * 2;
    zt_jnode_t *bigger;

    if (cap > (UINT32_MAX / 2) / sizeof(zt_jnode_t)) {
        return -1;
    }
    bigger = apr_palloc(jp->pool, cap * sizeof(zt_jnode_t));
    memcpy(bigger, jp->nodes, jp->n * sizeof(zt_jnode_t));
    jp->nodes = bigger;
    jp->cap = cap;
    return 0;
}

/* Append a node of @a type; its index, or -1 (only past 2^27 nodes). */
static inline int64_t zt_jp_node(zt_jp_t *jp, zt_jtype_e type)
{
    zt_jnode_t *v;

    if (jp->n == jp->cap && zt_jp_grow(jp) != 0) {
        return -1;
    }
    v = &jp->nodes[jp->n];
    v->type = (uint8_t)type;
    v->size = 1;
    v->u.i = 0;
    return jp->n++;
}

static int zt_jp_hex4(const unsigned char *p, uint32_t *cp)
{
    uint32_t v = 0;

    for (int k = 0; k < 4; k++) {
        int d = zt_hexval(p[k]);

        if (d < 0) {
            return -1;
        }
        v = v << 4 | (uint32_t)d;
    }
    *cp = v;
    return 0;
}

/* \uXXXX (and its low half when it is a high surrogate) at @a p, just past
 * the 'u', as UTF-8 at *o.  Returns the bytes of input read, or -1. */
static int zt_jp_unicode(zt_jp_t *jp, const unsigned char *p, char **o)
{
    uint32_t cp, lo;
    char *q = *o;
    int used = 4;

    if (jp->end - p < 4 || zt_jp_hex4(p, &cp) != 0) {
        return zt_jp_fail(jp, p, "invalid \\u escape");
    }
    if (cp == 0) {
        return zt_jp_fail(jp, p, "NUL (\\u0000) in a string");
    }
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        return zt_jp_fail(jp, p, "unpaired surrogate escape");
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (jp->end - p < 10 || p[4] != '\\' || p[5] != 'u'
            || zt_jp_hex4(p + 6, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
            return zt_jp_fail(jp, p, "unpaired surrogate escape");
        }
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        used = 10;
    }
    if (cp < 0x80) {
        *q++ = (char)cp;
    }
    else if (cp < 0x800) {
        *q++ = (char)(0xc0 | cp >> 6);
        *q++ = (char)(0x80 | (cp & 0x3f));
    }
    else if (cp < 0x10000) {
        *q++ = (char)(0xe0 | cp >> 12);
        *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    }
    else {
        *q++ = (char)(0xf0 | cp >> 18);
        *q++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *q++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = q;
    return used;
}

/* The string at jp->p (its opening quote) into node @a idx. */
static int zt_jp_string(zt_jp_t *jp, int64_t idx)
{
    const unsigned char *p = jp->p + 1, *end = jp->end;
    char *o0 = jp->text + jp->ntext, *o = o0;
    int n;

    for (;;) {
        while (end - p >= 8) {
            uint64_t w, m;

            memcpy(&w, p, 8);
            memcpy(o, &w, 8);       /* the bytes past the run are rewritten */
            if ((m = zt_jp_special8(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                int k = __builtin_ctzll(m) / 8;

                o += k;
                p += k;
#endif
                break;
            }
            o += 8;
            p += 8;
        }
        while (p < end && zt_jp_plain[*p]) {
            *o++ = (char)*p++;
        }
        if (p == end) {
            return zt_jp_fail(jp, jp->p, "unterminated string");
        }
        if (*p == '"') {
            break;
        }
        if (*p == '\\') {
            if (end - p < 2) {
                return zt_jp_fail(jp, p, "unterminated string");
            }
            switch (p[1]) {
            case '"':  *o++ = '"';  break;
            case '\\': *o++ = '\\'; break;
            case '/':  *o++ = '/';  break;
            case 'b':  *o++ = '\b'; break;
            case 'f':  *o++ = '\f'; break;
            case 'n':  *o++ = '\n'; break;
            case 'r':  *o++ = '\r'; break;
            case 't':  *o++ = '\t'; break;
            case 'u':
                if ((n = zt_jp_unicode(jp, p + 2, &o)) < 0) {
                    return -1;
                }
                p += n;
                break;
            default:
                return zt_jp_fail(jp, p, "invalid escape");
            }
            p += 2;
        }
        else if (*p < 0x20) {
            return zt_jp_fail(jp, p, "control character in a string");
        }
        else {
            if ((n = (int)zt_utf8_seq(p, (size_t)(end - p))) == 0) {
                return zt_jp_fail(jp, p, "invalid UTF-8");
            }
            memcpy(o, p, (size_t)n);
            o += n;
            p += n;
        }
    }
    *o++ = '\0';
    /* Text offset for now; zt_jdoc_parse makes it node-relative. */
    jp->nodes[idx].u.s.off = jp->ntext;
    jp->nodes[idx].u.s.len = (uint32_t)(o - o0 - 1);
    jp->ntext += (uint32_t)(o - o0);
    jp->p = p + 1;
    return 0;
}

/* A real: strtod of a copy (NUL-terminated, with the locale's radix). */
static int zt_jp_real(zt_jp_t *jp, const unsigned char *s, size_t len,
                      double *out)
{
    char local[64], *buf = len < sizeof(local) ? local
                                               : apr_palloc(jp->pool, len + 1);
    const char *radix = localeconv()->decimal_point;
    char *dot;

    memcpy(buf, s, len);
    buf[len] = '\0';
    if (radix[0] != '.' && radix[0] != '\0' && (dot = strchr(buf, '.')) != NULL) {
        *dot = radix[0];
    }
    *out = strtod(buf, NULL);
    return isfinite(*out) ? 0 : -1;
}

/* RFC 8259 number; an integer (no fraction, no exponent) must fit int64. */
static int zt_jp_number(zt_jp_t *jp)
{
    const unsigned char *s = jp->p, *p = s, *end = jp->end;
    uint64_t acc = 0, lim;
    int neg = 0, big = 0, is_int = 1;
    int64_t idx;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (p == end || *p < '0' || *p > '9') {
        return zt_jp_fail(jp, s, "invalid number");
    }
    if (*p == '0') {
        p++;
    }
    else {
        const unsigned char *digits = p;

        /* Up to 18 digits cannot pass 2^63 - 1: check only past them. */
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            unsigned d = (unsigned)(*p - '0');

            if (p - digits >= 18 && acc > (lim - d) / 10) {
                big = 1;
            }
            else if (!big) {
                acc = acc * 10 + d;
            }
        }
    }
    if (p < end && *p == '.') {
        is_int = 0;
        if (++p == end || *p < '0' || *p > '9') {
            return zt_jp_fail(jp, s, "invalid number");
        }
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_int = 0;
        if (++p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p == end || *p < '0' || *p > '9') {
            return zt_jp_fail(jp, s, "invalid number");
        }
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if ((idx = zt_jp_node(jp, is_int ? ZT_J_INT : ZT_J_REAL)) < 0) {
        return zt_jp_fail(jp, s, "too many values");
    }
    if (is_int) {
        if (big) {
            return zt_jp_fail(jp, s, "integer out of the 64-bit range");
        }
        jp->nodes[idx].u.i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    }
    else if (zt_jp_real(jp, s, (size_t)(p - s), &jp->nodes[idx].u.d) != 0) {
        return zt_jp_fail(jp, s, "real number overflow");
    }
    jp->p = p;
    return 0;
}

typedef struct {
    const char *s;
    uint32_t len;
} zt_jp_name_t;

static int zt_jp_name_cmp(const void *a, const void *b)
{
    const zt_jp_name_t *x = a, *y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->s, y->s, x->len);
}

/* Is the name just added at @a key already in the object at @a obj, whose
 * @a count members so far are complete? */
static int zt_jp_name_seen(const zt_jp_t *jp, uint32_t obj, uint32_t count,
                           uint32_t key)
{
    const zt_jnode_t *nk = &jp->nodes[key];
    const char *s = jp->text + nk->u.s.off;
    uint32_t k = obj + 1;

    for (uint32_t m = 0; m < count; m++) {
        const zt_jnode_t *v = &jp->nodes[k];

        /* Most names are short and differ in the first byte. */
        if (v->u.s.len == nk->u.s.len && jp->text[v->u.s.off] == s[0]
            && memcmp(jp->text + v->u.s.off, s, nk->u.s.len) == 0) {
            return 1;
        }
        k += 1 + jp->nodes[k + 1].size;
    }
    return 0;
}

/* The whole object at @a obj, @a count members: any name twice? */
static int zt_jp_names_unique(zt_jp_t *jp, uint32_t obj, uint32_t count)
{
    zt_jp_name_t *names = apr_palloc(jp->pool, count * sizeof(*names));
    uint32_t k = obj + 1;

    for (uint32_t m = 0; m < count; m++) {
        names[m].s = jp->text + jp->nodes[k].u.s.off;
        names[m].len = jp->nodes[k].u.s.len;
        k += 1 + jp->nodes[k + 1].size;
    }
    qsort(names, count, sizeof(*names), zt_jp_name_cmp);
    for (uint32_t m = 1; m < count; m++) {
        if (zt_jp_name_cmp(&names[m - 1], &names[m]) == 0) {
            return 0;
        }
    }
    return 1;
}

static int zt_jp_value(zt_jp_t *jp, int depth);

/* Open a container at jp->p: its node in *idx; 1 when it is empty (and
 * closed), 0 when a first element follows, -1 on failure. */
static int zt_jp_open(zt_jp_t *jp, zt_jtype_e type, char close, int64_t *idx)
{
    if ((*idx = zt_jp_node(jp, type)) < 0) {
        return zt_jp_fail(jp, jp->p, "too many values");
    }
    jp->p++;
    zt_jp_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 1;
    }
    return 0;
}

/* After an element: 0 when ',' (another follows), 1 when @a close ends
 * the container, -1 on anything else. */
static int zt_jp_after(zt_jp_t *jp, char close, const char *expected)
{
    zt_jp_ws(jp);
    if (jp->p < jp->end && *jp->p == ',') {
        jp->p++;
        zt_jp_ws(jp);
        return 0;
    }
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 1;
    }
    return zt_jp_fail(jp, jp->p, expected);
}

static int zt_jp_object(zt_jp_t *jp, int depth)
{
    const unsigned char *open = jp->p;
    int64_t obj, key;
    uint32_t count = 0;
    int rc;

    if ((rc = zt_jp_open(jp, ZT_J_OBJECT, '}', &obj)) != 0) {
        return rc < 0 ? -1 : 0;
    }
    do {
        const unsigned char *at = jp->p;

        if (at == jp->end || *at != '"') {
            return zt_jp_fail(jp, at, "expected a member name");
        }
        if ((key = zt_jp_node(jp, ZT_J_STR)) < 0) {
            return zt_jp_fail(jp, at, "too many values");
        }
        if (zt_jp_string(jp, key) != 0) {
            return -1;
        }
        if (count < ZT_JP_LINEAR
            && zt_jp_name_seen(jp, (uint32_t)obj, count, (uint32_t)key)) {
            return zt_jp_fail(jp, at, "duplicate member name");
        }
        zt_jp_ws(jp);
        if (jp->p == jp->end || *jp->p != ':') {
            return zt_jp_fail(jp, jp->p, "expected ':'");
        }
        jp->p++;
        zt_jp_ws(jp);
        if (zt_jp_value(jp, depth + 1) != 0) {
            return -1;
        }
        count++;
    } while ((rc = zt_jp_after(jp, '}', "expected ',' or '}'")) == 0);
    if (rc < 0) {
        return -1;
    }
    if (count > ZT_JP_LINEAR && !zt_jp_names_unique(jp, (uint32_t)obj, count)) {
        return zt_jp_fail(jp, open, "duplicate member name");
    }
    jp->nodes[obj].u.n = count;
    jp->nodes[obj].size = jp->n - (uint32_t)obj;
    return 0;
}

static int zt_jp_array(zt_jp_t *jp, int depth)
{
    int64_t arr;
    uint32_t count = 0;
    int rc;

    if ((rc = zt_jp_open(jp, ZT_J_ARRAY, ']', &arr)) != 0) {
        return rc < 0 ? -1 : 0;
    }
    do {
        if (zt_jp_value(jp, depth + 1) != 0) {
            return -1;
        }
        count++;
    } while ((rc = zt_jp_after(jp, ']', "expected ',' or ']'")) == 0);
    if (rc < 0) {
        return -1;
    }
    jp->nodes[arr].u.n = count;
    jp->nodes[arr].size = jp->n - (uint32_t)arr;
    return 0;
}

static int zt_jp_literal(zt_jp_t *jp, const char *word, size_t len,
                         zt_jtype_e type)
{
    if ((size_t)(jp->end - jp->p) < len || memcmp(jp->p, word, len) != 0) {
        return zt_jp_fail(jp, jp->p, "invalid literal");
    }
    if (zt_jp_node(jp, type) < 0) {
        return zt_jp_fail(jp, jp->p, "too many values");
    }
    jp->p += len;
    return 0;
}

/* A value at jp->p (whitespace skipped); @a depth counts containers,
 * this one included if it is one. */
static int zt_jp_value(zt_jp_t *jp, int depth)
{
    int64_t idx;

    if (jp->p == jp->end) {
        return zt_jp_fail(jp, jp->p, "unexpected end of document");
    }
    switch (*jp->p) {
    case '{':
    case '[':
        if (depth > ZT_JSON_MAX_DEPTH) {
            return zt_jp_fail(jp, jp->p, "nested too deep");
        }
        return *jp->p == '{' ? zt_jp_object(jp, depth) : zt_jp_array(jp, depth);
    case '"':
        if ((idx = zt_jp_node(jp, ZT_J_STR)) < 0) {
            return zt_jp_fail(jp, jp->p, "too many values");
        }
        return zt_jp_string(jp, idx);
    case 't':
        return zt_jp_literal(jp, "true", 4, ZT_J_TRUE);
    case 'f':
        return zt_jp_literal(jp, "false", 5, ZT_J_FALSE);
    case 'n':
        return zt_jp_literal(jp, "null", 4, ZT_J_NULL);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return zt_jp_number(jp);
    default:
        return zt_jp_fail(jp, jp->p, "unexpected character");
    }
}

/* One document; @a any_value: any value at the top, else an object. */
static zt_jdoc_t *zt_jdoc_read(const char *buf, size_t len, size_t max_len,
                               int any_value, apr_pool_t *pool,
                               const char **err)
{
    zt_jnode_t nodes[ZT_JP_STACK_NODES];
    char text[ZT_JP_STACK_TEXT];
    zt_jp_t jp;
    zt_jdoc_t *d;
    size_t head;

    if (buf == NULL || len == 0) {
        *err = "empty document";
        return NULL;
    }
    /* The decoded text is never longer than the document, so the block's
     * offsets fit 32 bits when the document does (with room to spare). */
    if (len > max_len || len > UINT32_MAX / 4) {
        *err = apr_psprintf(pool, "document too large (%" APR_SIZE_T_FMT
                            " bytes, limit %" APR_SIZE_T_FMT ")",
                            (apr_size_t)len, (apr_size_t)max_len);
        return NULL;
    }
    jp.start = jp.p = (const unsigned char *)buf;
    jp.end = jp.p + len;
    jp.nodes = nodes;
    jp.n = 0;
    jp.cap = ZT_JP_STACK_NODES;
    jp.text = len < sizeof(text) ? text : apr_palloc(pool, len + 1);
    jp.ntext = 0;
    jp.pool = pool;
    jp.why = NULL;

    zt_jp_ws(&jp);
    if (any_value) {
        if (zt_jp_value(&jp, 1) == 0) {
            zt_jp_ws(&jp);
            if (jp.p != jp.end) {
                zt_jp_fail(&jp, jp.p, "data after the value");
            }
        }
    }
    else if (jp.p == jp.end || *jp.p != '{') {
        zt_jp_fail(&jp, jp.p, "top level is not a JSON object");
    }
    else if (zt_jp_object(&jp, 1) == 0) {
        zt_jp_ws(&jp);
        if (jp.p != jp.end) {
            zt_jp_fail(&jp, jp.p, "data after the object");
        }
    }
    if (jp.why != NULL) {
        *err = apr_psprintf(pool, "invalid JSON at byte %" APR_SIZE_T_FMT
                            ": %s", (apr_size_t)(jp.p - jp.start), jp.why);
        return NULL;
    }

    head = sizeof(*d) + (size_t)jp.n * sizeof(zt_jnode_t);
    d = apr_palloc(pool, head + jp.ntext);
    d->nnodes = jp.n;
    d->size = (uint32_t)(head + jp.ntext);
    memcpy(d->node, jp.nodes, (size_t)jp.n * sizeof(zt_jnode_t));
    memcpy((char *)d + head, jp.text, jp.ntext);
    /* String offsets from their node: the block needs no base address. */
    for (uint32_t i = 0; i < jp.n; i++) {
        if (d->node[i].type == ZT_J_STR) {
            d->node[i].u.s.off += (uint32_t)(head - sizeof(*d))
                                  - i * (uint32_t)sizeof(zt_jnode_t);
        }
    }
    return d;
}

zt_jdoc_t *zt_jdoc_parse(const char *buf, size_t len, size_t max_len,
                         apr_pool_t *pool, const char **err)
{
    return zt_jdoc_read(buf, len, max_len, 0, pool, err);
}

zt_jdoc_t *zt_jdoc_parse_value(const char *buf, size_t len, size_t max_len,
                               apr_pool_t *pool, const char **err)
{
    return zt_jdoc_read(buf, len, max_len, 1, pool, err);
}

const zt_jnode_t *zt_jnode_member(const zt_jnode_t *obj, const char *name,
                                  size_t len)
{
    const zt_jnode_t *k;

    if (obj == NULL || obj->type != ZT_J_OBJECT) {
        return NULL;
    }
    k = obj + 1;
    for (uint32_t m = 0; m < obj->u.n; m++) {
        /* Most names differ in length, the rest mostly in the first byte. */
        if (k->u.s.len == len) {
            const char *s = zt_jnode_str(k);
            if (len == 0 || (s[0] == name[0] && memcmp(s, name, len) == 0)) {
                return k + 1;
            }
        }
        k = zt_jnode_next(k + 1);
    }
    return NULL;
}

const zt_jnode_t *zt_jnode_get(const zt_jnode_t *obj, const char *name)
{
    return zt_jnode_member(obj, name, strlen(name));
}

const char *zt_jnode_get_str(const zt_jnode_t *obj, const char *name)
{
    const zt_jnode_t *v = zt_jnode_get(obj, name);

    return v != NULL && v->type == ZT_J_STR ? zt_jnode_str(v) : NULL;
}

const zt_jnode_t *zt_jdoc_get(const zt_jdoc_t *d, const char *name)
{
    return zt_jnode_get(d != NULL ? d->node : NULL, name);
}

const char *zt_jdoc_get_str(const zt_jdoc_t *d, const char *name)
{
    return zt_jnode_get_str(d != NULL ? d->node : NULL, name);
}
