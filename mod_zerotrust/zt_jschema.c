/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * JSON bodies and the JSON Schema subset of SPEC section 2 (zt_body.h).
 *
 * A schema is read with the strict reader (zt_jdoc.h) and compiled into a
 * tree of zt_js_t, once per table load; every keyword outside the subset
 * is an error, so a schema never means less than it says.  A body is
 * read with the same reader (any value at the top) and walked once
 * against that tree; the walk is as deep as the body (at most
 * ZT_JSON_MAX_DEPTH) and touches each node once per schema that applies,
 * and only `items` and `properties` apply a schema below, so the work is
 * linear in the body.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "zt_ascii.h"
#include "zt_body.h"
#include "zt_dfa.h"
#include "zt_jdoc.h"

/* Bits of zt_js_t.types; 0 means any type. */
enum {
    ZT_JS_NULL = 1, ZT_JS_BOOL = 2, ZT_JS_INT = 4, ZT_JS_NUM = 8,
    ZT_JS_STR = 16, ZT_JS_ARR = 32, ZT_JS_OBJ = 64
};

enum { ZT_FMT_NONE = 0, ZT_FMT_UUID, ZT_FMT_EMAIL, ZT_FMT_DATETIME };

typedef struct zt_js_s zt_js_t;

typedef struct {
    const char *name;           /* decoded, NUL-terminated */
    uint32_t len;
    const zt_js_t *schema;
} zt_js_prop_t;

struct zt_js_s {
    unsigned int types;         /* ZT_JS_* bits, 0: any */
    int never;                  /* the schema `false`: nothing is valid */
    int has_min, has_max;
    double minimum, maximum;
    uint32_t min_len, max_len;  /* characters (code points) */
    uint32_t min_items, max_items;
    int format;                 /* ZT_FMT_* */
    const void *dfa;            /* pattern compiled (zt_dfa.h), or NULL */
    const char *pattern;        /* ... as written, for messages */
    const zt_jnode_t *enums;    /* the enum array in the schema, or NULL */
    zt_js_prop_t *props;        /* array of nprops */
    uint32_t nprops;
    const zt_jnode_t **required; /* name nodes, nrequired */
    uint32_t nrequired;
    int no_extra;               /* additionalProperties: false */
    const zt_js_t *extra;       /* additionalProperties: a schema, or NULL */
    const zt_js_t *items;       /* or NULL */
};

struct zt_jschema_s {
    const zt_jdoc_t *doc;       /* the schema itself: enum values live in it */
    const zt_js_t *root;
};

/* ------------------------------------------------------------------ */
/* JSON pointers, both into schemas and into bodies                   */

typedef struct {
    char buf[160];
    size_t len;
} zt_ptr_t;

/*
** Append @a len bytes of @a s to @a out (@a *n used of @a cap, kept
** NUL-terminated) as printable ASCII: other bytes as \xNN, and in a JSON
** pointer (@a ptr) ~ and / as ~0 and ~1 (RFC 6901).  Client text is cut
** after 40 bytes: an answer never echoes much of a body.
*/
static void zt_ascii_append(char *out, size_t *n, size_t cap, const char *s,
                            size_t len, int ptr)
{
    size_t o = *n;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (o + 8 >= cap || i == 40) {
            if (o + 4 < cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (ptr && (c == '~' || c == '/')) {
            out[o++] = '~';
            out[o++] = c == '~' ? '0' : '1';
        }
        else if (c < 0x20 || c > 0x7e || (!ptr && (c == '"' || c == '\\'))) {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        }
        else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *n = o;
}

/* Append "/" @a name to the pointer; returns the old length to pop to. */
static size_t zt_ptr_push(zt_ptr_t *p, const char *name, size_t len)
{
    size_t old = p->len;

    if (p->len + 1 < sizeof(p->buf)) {
        p->buf[p->len++] = '/';
    }
    zt_ascii_append(p->buf, &p->len, sizeof(p->buf), name, len, 1);
    return old;
}

static size_t zt_ptr_index(zt_ptr_t *p, uint32_t i)
{
    char num[16];

    return zt_ptr_push(p, num, (size_t)snprintf(num, sizeof(num), "%u", i));
}

static void zt_ptr_pop(zt_ptr_t *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

/* ------------------------------------------------------------------ */
/* Compiling a schema                                                  */

typedef struct {
    apr_pool_t *pool;
    zt_ptr_t at;
    const char *err;
} zt_jsc_t;

static int zt_jsc_fail(zt_jsc_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int zt_jsc_fail(zt_jsc_t *c, const char *fmt, ...)
{
    va_list ap;
    char *why;

    va_start(ap, fmt);
    why = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->err = apr_psprintf(c->pool, "%s: %s", c->at.len ? c->at.buf : "(top)",
                          why);
    return -1;
}

static int zt_name_is(const zt_jnode_t *k, const char *s)
{
    return k->u.s.len == strlen(s) && memcmp(zt_jnode_str(k), s, k->u.s.len) == 0;
}

static const struct { const char *name; unsigned int bit; } zt_js_types[] = {
    { "null", ZT_JS_NULL }, { "boolean", ZT_JS_BOOL },
    { "integer", ZT_JS_INT }, { "number", ZT_JS_NUM | ZT_JS_INT },
    { "string", ZT_JS_STR }, { "array", ZT_JS_ARR }, { "object", ZT_JS_OBJ },
};

static int zt_jsc_type_name(zt_jsc_t *c, const zt_jnode_t *v, unsigned int *bits)
{
    if (v->type == ZT_J_STR) {
        for (size_t i = 0; i < sizeof(zt_js_types) / sizeof(zt_js_types[0]); i++) {
            if (zt_name_is(v, zt_js_types[i].name)) {
                *bits |= zt_js_types[i].bit;
                return 0;
            }
        }
    }
    return zt_jsc_fail(c, "a type is one of null, boolean, integer, number, "
                       "string, array, object");
}

static int zt_jsc_type(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    const zt_jnode_t *e;

    if (v->type != ZT_J_ARRAY) {
        return zt_jsc_type_name(c, v, &s->types);
    }
    if (v->u.n == 0) {
        return zt_jsc_fail(c, "an empty list of types");
    }
    e = zt_jnode_first(v);
    for (uint32_t i = 0; i < v->u.n; i++, e = zt_jnode_next(e)) {
        if (zt_jsc_type_name(c, e, &s->types) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A count keyword: an integer 0..UINT32_MAX (JSON Schema: non-negative). */
static int zt_jsc_count(zt_jsc_t *c, const zt_jnode_t *v, uint32_t *out)
{
    double d;

    if (!zt_jnode_number(v, &d) || d < 0 || d > (double)UINT32_MAX
        || d != floor(d)) {
        return zt_jsc_fail(c, "must be an integer 0..%u", UINT32_MAX);
    }
    *out = (uint32_t)d;
    return 0;
}

static int zt_jsc_number(zt_jsc_t *c, const zt_jnode_t *v, double *out)
{
    return zt_jnode_number(v, out) ? 0 : zt_jsc_fail(c, "must be a number");
}

static int zt_jsc_format(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    if (v->type == ZT_J_STR) {
        if (zt_name_is(v, "uuid")) {
            s->format = ZT_FMT_UUID;
            return 0;
        }
        if (zt_name_is(v, "email")) {
            s->format = ZT_FMT_EMAIL;
            return 0;
        }
        if (zt_name_is(v, "date-time")) {
            s->format = ZT_FMT_DATETIME;
            return 0;
        }
    }
    return zt_jsc_fail(c, "the formats are uuid, email and date-time");
}

/*
** A pattern becomes a DFA (zt_dfa.h: linear time, no backtracking, SPEC
** section 2), compiled here, once per load.  The automaton matches the
** whole string, where JSON Schema's pattern is unanchored: the writer's
** anchors mean the same in both, and a pattern without them would match
** more under JSON Schema than here, so it must be anchored ("^...$") to
** say what it means.
*/
/* Is there a '|' outside any group, class or escape in @a re?  "^a|b$"
 * is "^a" or "b$" in JSON Schema, but "a|b" whole in an automaton. */
static int zt_jsc_top_alternation(const char *re, size_t len)
{
    int depth = 0, in_class = 0;

    for (size_t i = 0; i < len; i++) {
        if (re[i] == '\\') {
            i++;
        }
        else if (in_class) {
            in_class = re[i] != ']';
        }
        else if (re[i] == '[') {
            in_class = 1;
            i += i + 1 < len && re[i + 1] == '^';
            i += i + 1 < len && re[i + 1] == ']';
        }
        else if (re[i] == '(') {
            depth++;
        }
        else if (re[i] == ')') {
            depth--;
        }
        else if (re[i] == '|' && depth == 0) {
            return 1;
        }
    }
    return 0;
}

static int zt_jsc_pattern(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    const char *re = zt_jnode_str(v);
    size_t len = v->u.s.len, image_len;
    char why[160];

    if (v->type != ZT_J_STR) {
        return zt_jsc_fail(c, "must be a string");
    }
    if (len < 2 || re[0] != '^' || re[len - 1] != '$'
        || (len >= 3 && re[len - 2] == '\\')) {
        return zt_jsc_fail(c, "a pattern here matches the whole string: "
                           "write it anchored, ^...$");
    }
    if (zt_jsc_top_alternation(re, len)) {
        return zt_jsc_fail(c, "'|' outside a group binds looser than the "
                           "anchors: write ^(?:a|b)$");
    }
    if (zt_dfa_compile(re, len, c->pool, &s->dfa, &image_len, why,
                       sizeof(why)) != 0) {
        return zt_jsc_fail(c, "%s", why);
    }
    s->pattern = re;
    return 0;
}

static int zt_jsc_enum(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    const zt_jnode_t *e;

    if (v->type != ZT_J_ARRAY || v->u.n == 0) {
        return zt_jsc_fail(c, "must be a non-empty array");
    }
    e = zt_jnode_first(v);
    for (uint32_t i = 0; i < v->u.n; i++, e = zt_jnode_next(e)) {
        if (e->type == ZT_J_ARRAY || e->type == ZT_J_OBJECT) {
            size_t old = zt_ptr_index(&c->at, i);

            zt_jsc_fail(c, "enum members are strings, numbers, booleans "
                        "or null");
            zt_ptr_pop(&c->at, old);
            return -1;
        }
    }
    s->enums = v;
    return 0;
}

static int zt_jsc_required(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    const zt_jnode_t *e;

    if (v->type != ZT_J_ARRAY) {
        return zt_jsc_fail(c, "must be an array of member names");
    }
    s->required = apr_palloc(c->pool, (v->u.n + 1) * sizeof(*s->required));
    e = zt_jnode_first(v);
    for (uint32_t i = 0; i < v->u.n; i++, e = zt_jnode_next(e)) {
        if (e->type != ZT_J_STR) {
            return zt_jsc_fail(c, "must be an array of member names");
        }
        for (uint32_t k = 0; k < i; k++) {
            if (s->required[k]->u.s.len == e->u.s.len
                && memcmp(zt_jnode_str(s->required[k]), zt_jnode_str(e),
                          e->u.s.len) == 0) {
                return zt_jsc_fail(c, "\"%s\" is listed twice",
                                   zt_jnode_str(e));
            }
        }
        s->required[i] = e;
    }
    s->nrequired = v->u.n;
    return 0;
}

static const zt_js_t *zt_jsc_schema(zt_jsc_t *c, const zt_jnode_t *v);

/* A keyword whose value is a schema, at pointer "/" @a kw. */
static const zt_js_t *zt_jsc_sub(zt_jsc_t *c, const zt_jnode_t *v)
{
    return zt_jsc_schema(c, v);
}

static int zt_jsc_properties(zt_jsc_t *c, const zt_jnode_t *v, zt_js_t *s)
{
    const zt_jnode_t *k;

    if (v->type != ZT_J_OBJECT) {
        return zt_jsc_fail(c, "must be an object of member schemas");
    }
    s->props = apr_pcalloc(c->pool, (v->u.n + 1) * sizeof(*s->props));
    k = zt_jnode_first(v);
    for (uint32_t i = 0; i < v->u.n; i++, k = zt_jnode_next(k + 1)) {
        size_t old = zt_ptr_push(&c->at, zt_jnode_str(k), k->u.s.len);

        s->props[i].name = zt_jnode_str(k);
        s->props[i].len = k->u.s.len;
        if ((s->props[i].schema = zt_jsc_sub(c, k + 1)) == NULL) {
            return -1;
        }
        zt_ptr_pop(&c->at, old);
    }
    s->nprops = v->u.n;
    return 0;
}

/* Keywords that only annotate: accepted, not enforced. */
static int zt_jsc_annotation(const zt_jnode_t *k)
{
    static const char *const names[] = {
        "$schema", "$id", "$comment", "title", "description", "default",
        "examples",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (zt_name_is(k, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* One keyword @a k with value @a v of schema @a s (pointer at @a k). */
static int zt_jsc_keyword(zt_jsc_t *c, const zt_jnode_t *k,
                          const zt_jnode_t *v, zt_js_t *s)
{
    if (zt_name_is(k, "type")) {
        return zt_jsc_type(c, v, s);
    }
    if (zt_name_is(k, "properties")) {
        return zt_jsc_properties(c, v, s);
    }
    if (zt_name_is(k, "required")) {
        return zt_jsc_required(c, v, s);
    }
    if (zt_name_is(k, "additionalProperties")) {
        if (v->type == ZT_J_FALSE || v->type == ZT_J_TRUE) {
            s->no_extra = v->type == ZT_J_FALSE;
            return 0;
        }
        return (s->extra = zt_jsc_sub(c, v)) != NULL ? 0 : -1;
    }
    if (zt_name_is(k, "items")) {
        if (v->type == ZT_J_ARRAY) {
            return zt_jsc_fail(c, "one schema for all items (the tuple "
                               "form is not supported)");
        }
        return (s->items = zt_jsc_sub(c, v)) != NULL ? 0 : -1;
    }
    if (zt_name_is(k, "minItems")) {
        return zt_jsc_count(c, v, &s->min_items);
    }
    if (zt_name_is(k, "maxItems")) {
        return zt_jsc_count(c, v, &s->max_items);
    }
    if (zt_name_is(k, "minLength")) {
        return zt_jsc_count(c, v, &s->min_len);
    }
    if (zt_name_is(k, "maxLength")) {
        return zt_jsc_count(c, v, &s->max_len);
    }
    if (zt_name_is(k, "minimum")) {
        s->has_min = 1;
        return zt_jsc_number(c, v, &s->minimum);
    }
    if (zt_name_is(k, "maximum")) {
        s->has_max = 1;
        return zt_jsc_number(c, v, &s->maximum);
    }
    if (zt_name_is(k, "enum")) {
        return zt_jsc_enum(c, v, s);
    }
    if (zt_name_is(k, "format")) {
        return zt_jsc_format(c, v, s);
    }
    if (zt_name_is(k, "pattern")) {
        return zt_jsc_pattern(c, v, s);
    }
    if (zt_jsc_annotation(k)) {
        return 0;
    }
    return zt_jsc_fail(c, "unknown or unsupported keyword; the subset is "
                       "type, properties, required, additionalProperties, "
                       "items, minItems, maxItems, minLength, maxLength, "
                       "pattern, minimum, maximum, enum, format");
}

static const zt_js_t *zt_jsc_schema(zt_jsc_t *c, const zt_jnode_t *v)
{
    zt_js_t *s = apr_pcalloc(c->pool, sizeof(*s));
    const zt_jnode_t *k;

    s->max_len = s->max_items = UINT32_MAX;
    if (v->type == ZT_J_TRUE || v->type == ZT_J_FALSE) {
        s->never = v->type == ZT_J_FALSE;
        return s;
    }
    if (v->type != ZT_J_OBJECT) {
        zt_jsc_fail(c, "a schema is an object (or true, or false)");
        return NULL;
    }
    k = zt_jnode_first(v);
    for (uint32_t i = 0; i < v->u.n; i++, k = zt_jnode_next(k + 1)) {
        size_t old = zt_ptr_push(&c->at, zt_jnode_str(k), k->u.s.len);

        if (zt_jsc_keyword(c, k, k + 1, s) != 0) {
            return NULL;
        }
        zt_ptr_pop(&c->at, old);
    }
    if (s->min_len > s->max_len || s->min_items > s->max_items
        || (s->has_min && s->has_max && s->minimum > s->maximum)) {
        zt_jsc_fail(c, "a minimum above its maximum: nothing would be valid");
        return NULL;
    }
    return s;
}

zt_jschema_t *zt_jschema_compile(const char *buf, size_t len,
                                 apr_pool_t *pool, const char **err)
{
    zt_jsc_t c;
    zt_jschema_t *js;
    const char *why = NULL;
    const zt_jdoc_t *doc = zt_jdoc_parse(buf, len, len, pool, &why);

    if (doc == NULL) {
        *err = apr_psprintf(pool, "not a JSON object: %s", why);
        return NULL;
    }
    memset(&c, 0, sizeof(c));
    c.pool = pool;
    js = apr_pcalloc(pool, sizeof(*js));
    js->doc = doc;
    if ((js->root = zt_jsc_schema(&c, doc->node)) == NULL) {
        *err = c.err;
        return NULL;
    }
    return js;
}

/* ------------------------------------------------------------------ */
/* Checking a body                                                     */

typedef struct {
    zt_ptr_t at;
    zt_body_fault_t *f;
} zt_jsv_t;

static int zt_jsv_fail(zt_jsv_t *v, const char *found, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int zt_jsv_fail(zt_jsv_t *v, const char *found, const char *fmt, ...)
{
    va_list ap;

    apr_cpystrn(v->f->where, v->at.buf, sizeof(v->f->where));
    apr_cpystrn(v->f->found, found, sizeof(v->f->found));
    va_start(ap, fmt);
    vsnprintf(v->f->expected, sizeof(v->f->expected), fmt, ap);
    va_end(ap);
    return -1;
}

/* Code points of a valid UTF-8 string. */
static uint32_t zt_utf8_count(const char *s, uint32_t len)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

/* The value @a n as found: short scalars as they are (quoted, escaped),
 * the rest by kind and size.  Never more than fits @a buf. */
static const char *zt_jsv_found(const zt_jnode_t *n, char *buf, size_t size)
{
    switch (n->type) {
    case ZT_J_NULL:
        return "null";
    case ZT_J_TRUE:
        return "true";
    case ZT_J_FALSE:
        return "false";
    case ZT_J_INT:
        snprintf(buf, size, "%lld", (long long)n->u.i);
        return buf;
    case ZT_J_REAL:
        snprintf(buf, size, "%.15g", n->u.d);
        return buf;
    case ZT_J_ARRAY:
        snprintf(buf, size, "an array of %u items", n->u.n);
        return buf;
    case ZT_J_OBJECT:
        snprintf(buf, size, "an object of %u members", n->u.n);
        return buf;
    default:
        break;
    }
    if (n->u.s.len > 40) {
        snprintf(buf, size, "a string of %u characters",
                 zt_utf8_count(zt_jnode_str(n), n->u.s.len));
        return buf;
    }
    {
        size_t len = 1;

        buf[0] = '"';
        zt_ascii_append(buf, &len, size - 1, zt_jnode_str(n), n->u.s.len, 0);
        buf[len++] = '"';
        buf[len] = '\0';
    }
    return buf;
}

/* "a string", "an integer or null": the types of @a bits, in words. */
static const char *zt_jsv_types(unsigned int bits, char *buf, size_t size)
{
    static const struct { unsigned int bit; const char *words; } t[] = {
        { ZT_JS_OBJ, "an object" }, { ZT_JS_ARR, "an array" },
        { ZT_JS_STR, "a string" }, { ZT_JS_NUM, "a number" },
        { ZT_JS_INT, "an integer" }, { ZT_JS_BOOL, "a boolean" },
        { ZT_JS_NULL, "null" },
    };
    size_t n = 0;

    buf[0] = '\0';
    if (bits & ZT_JS_NUM) {
        bits &= ~(unsigned int)ZT_JS_INT;
    }
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (bits & t[i].bit) {
            n += (size_t)snprintf(buf + n, size > n ? size - n : 0, "%s%s",
                                  n ? " or " : "", t[i].words);
        }
    }
    return buf;
}

static unsigned int zt_jsv_type_of(const zt_jnode_t *n)
{
    switch (n->type) {
    case ZT_J_NULL:
        return ZT_JS_NULL;
    case ZT_J_TRUE:
    case ZT_J_FALSE:
        return ZT_JS_BOOL;
    case ZT_J_INT:
        return ZT_JS_INT | ZT_JS_NUM;
    case ZT_J_REAL:
        /* JSON Schema: 2.0 is an integer. */
        return n->u.d == floor(n->u.d) ? ZT_JS_INT | ZT_JS_NUM : ZT_JS_NUM;
    case ZT_J_STR:
        return ZT_JS_STR;
    case ZT_J_ARRAY:
        return ZT_JS_ARR;
    default:
        return ZT_JS_OBJ;
    }
}

/* An addr-spec of the common form: dot-atoms, no quoting, no comments,
 * a domain of LDH labels with at least one dot. */
static int zt_fmt_email(const char *s, uint32_t len)
{
    const char *at = memchr(s, '@', len), *d;
    uint32_t local, label = 0;

    if (at == NULL || len > 254) {
        return 0;
    }
    local = (uint32_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.') {
        return 0;
    }
    for (uint32_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>@[\\]", c)
            || (c == '.' && s[i + 1] == '.')) {
            return 0;
        }
    }
    d = at + 1;
    if (d == s + len || memchr(d, '.', (size_t)(s + len - d)) == NULL) {
        return 0;
    }
    for (; d < s + len; d++) {
        unsigned char c = (unsigned char)*d;

        if (c == '.') {
            if (label == 0 || d[-1] == '-') {
                return 0;
            }
            label = 0;
        }
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                 || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
            if (++label > 63) {
                return 0;
            }
        }
        else {
            return 0;
        }
    }
    return label > 0 && d[-1] != '-';
}

/* @a n digits at @a s as a number in lo..hi, else -1. */
static int zt_digits(const char *s, int n, int lo, int hi)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* RFC 3339 date-time: 2026-11-29T06:43:09(.123)?(Z|+01:00). */
static int zt_fmt_datetime(const char *s, uint32_t len)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;
    uint32_t i = 19;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] | 0x20) != 't'
        || s[13] != ':' || s[16] != ':'
        || (y = zt_digits(s, 4, 0, 9999)) < 0
        || (m = zt_digits(s + 5, 2, 1, 12)) < 0
        || (d = zt_digits(s + 8, 2, 1, mdays[m - 1])) < 0
        || zt_digits(s + 11, 2, 0, 23) < 0 || zt_digits(s + 14, 2, 0, 59) < 0
        || zt_digits(s + 17, 2, 0, 60) < 0) {
        return 0;
    }
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        return 0;
    }
    if (s[i] == '.') {
        uint32_t start = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == start) {
            return 0;
        }
    }
    if (i < len && (s[i] | 0x20) == 'z') {
        return i + 1 == len;
    }
    return i + 6 == len && (s[i] == '+' || s[i] == '-')
           && zt_digits(s + i + 1, 2, 0, 23) >= 0 && s[i + 3] == ':'
           && zt_digits(s + i + 4, 2, 0, 59) >= 0;
}

static int zt_jsv_format(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    static const char *const words[] = {
        "", "a UUID", "an e-mail address", "an RFC 3339 date-time",
    };
    const char *str = zt_jnode_str(n);
    char found[64];
    int ok;

    switch (s->format) {
    case ZT_FMT_UUID:
        ok = zt_uuid_shape(str, n->u.s.len);
        break;
    case ZT_FMT_EMAIL:
        ok = zt_fmt_email(str, n->u.s.len);
        break;
    case ZT_FMT_DATETIME:
        ok = zt_fmt_datetime(str, n->u.s.len);
        break;
    default:
        return 0;
    }
    return ok ? 0 : zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                                "%s", words[s->format]);
}

/* Same JSON value (scalars only: enum members are): numbers by value. */
static int zt_jsv_equal(const zt_jnode_t *a, const zt_jnode_t *b)
{
    double x, y;

    if (zt_jnode_number(a, &x) && zt_jnode_number(b, &y)) {
        return x == y;
    }
    if (a->type != b->type) {
        return 0;
    }
    if (a->type == ZT_J_STR) {
        return a->u.s.len == b->u.s.len
               && memcmp(zt_jnode_str(a), zt_jnode_str(b), a->u.s.len) == 0;
    }
    return a->type == ZT_J_NULL || a->type == ZT_J_TRUE || a->type == ZT_J_FALSE;
}

static int zt_jsv_enum(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    const zt_jnode_t *e = zt_jnode_first(s->enums);
    char found[64], list[200], one[64];
    size_t len = 0;

    for (uint32_t i = 0; i < s->enums->u.n; i++, e = zt_jnode_next(e)) {
        if (zt_jsv_equal(e, n)) {
            return 0;
        }
    }
    list[0] = '\0';
    e = zt_jnode_first(s->enums);
    for (uint32_t i = 0; i < s->enums->u.n; i++, e = zt_jnode_next(e)) {
        const char *w = zt_jsv_found(e, one, sizeof(one));

        if (len + strlen(w) + 8 >= sizeof(list) - 16) {
            apr_cpystrn(list + len, ", ...", sizeof(list) - len);
            break;
        }
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                i ? ", " : "", w);
    }
    return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)), "one of %s",
                       list);
}

static int zt_jsv_value(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n);

static const zt_js_t *zt_jsv_prop(const zt_js_t *s, const zt_jnode_t *k)
{
    for (uint32_t i = 0; i < s->nprops; i++) {
        if (s->props[i].len == k->u.s.len
            && memcmp(s->props[i].name, zt_jnode_str(k), k->u.s.len) == 0) {
            return s->props[i].schema;
        }
    }
    return NULL;
}

static int zt_jsv_object(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    const zt_jnode_t *k = zt_jnode_first(n);

    for (uint32_t i = 0; s != NULL && i < s->nrequired; i++) {
        const zt_jnode_t *r = s->required[i];

        if (zt_jnode_member(n, zt_jnode_str(r), r->u.s.len) == NULL) {
            zt_ptr_push(&v->at, zt_jnode_str(r), r->u.s.len);
            return zt_jsv_fail(v, "missing", "a required member");
        }
    }
    for (uint32_t i = 0; i < n->u.n; i++, k = zt_jnode_next(k + 1)) {
        const zt_js_t *sub = s ? zt_jsv_prop(s, k) : NULL;
        size_t old = zt_ptr_push(&v->at, zt_jnode_str(k), k->u.s.len);

        if (k->u.s.len > ZT_BODY_MAX_STRING) {
            char found[64];

            snprintf(found, sizeof(found), "a member name of %u bytes",
                     k->u.s.len);
            return zt_jsv_fail(v, found, "names of at most %u bytes",
                               (unsigned int)ZT_BODY_MAX_STRING);
        }
        if (sub == NULL && s != NULL) {
            if (s->no_extra) {
                return zt_jsv_fail(v, "an undeclared member",
                                   "only the declared members");
            }
            sub = s->extra;
        }
        if (zt_jsv_value(v, sub, k + 1) != 0) {
            return -1;
        }
        zt_ptr_pop(&v->at, old);
    }
    return 0;
}

static int zt_jsv_array(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    const zt_jnode_t *e = zt_jnode_first(n);

    for (uint32_t i = 0; i < n->u.n; i++, e = zt_jnode_next(e)) {
        size_t old = zt_ptr_index(&v->at, i);

        if (zt_jsv_value(v, s ? s->items : NULL, e) != 0) {
            return -1;
        }
        zt_ptr_pop(&v->at, old);
    }
    return 0;
}

/* The limits of every body, then the schema's keywords on this value. */
static int zt_jsv_here(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    char found[64], want[128];
    unsigned int type = zt_jsv_type_of(n);
    double num;

    if (n->type == ZT_J_STR && n->u.s.len > ZT_BODY_MAX_STRING) {
        snprintf(found, sizeof(found), "a string of %u bytes", n->u.s.len);
        return zt_jsv_fail(v, found, "strings of at most %u bytes",
                           (unsigned int)ZT_BODY_MAX_STRING);
    }
    if ((n->type == ZT_J_ARRAY || n->type == ZT_J_OBJECT)
        && n->u.n > ZT_BODY_MAX_MEMBERS) {
        return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                           "at most %u %s", (unsigned int)ZT_BODY_MAX_MEMBERS,
                           n->type == ZT_J_ARRAY ? "items" : "members");
    }
    if (s == NULL) {
        return 0;
    }
    if (s->never) {
        return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                           "nothing here (the schema allows no value)");
    }
    if (s->types != 0 && (s->types & type) == 0) {
        return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)), "%s",
                           zt_jsv_types(s->types, want, sizeof(want)));
    }
    if (s->enums != NULL && zt_jsv_enum(v, s, n) != 0) {
        return -1;
    }
    if (zt_jnode_number(n, &num)) {
        if ((s->has_min && num < s->minimum) || (s->has_max && num > s->maximum)) {
            return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                               "a number %s %.15g",
                               s->has_min && num < s->minimum ? ">=" : "<=",
                               s->has_min && num < s->minimum ? s->minimum
                                                              : s->maximum);
        }
    }
    else if (n->type == ZT_J_STR) {
        uint32_t chars = zt_utf8_count(zt_jnode_str(n), n->u.s.len);

        if (chars < s->min_len || chars > s->max_len) {
            snprintf(found, sizeof(found), "a string of %u characters", chars);
            return zt_jsv_fail(v, found, "a string of %s %u characters",
                               chars < s->min_len ? "at least" : "at most",
                               chars < s->min_len ? s->min_len : s->max_len);
        }
        if (s->dfa != NULL
            && !zt_dfa_match(s->dfa, zt_jnode_str(n), n->u.s.len)) {
            char pat[64];
            size_t plen = 0;

            zt_ascii_append(pat, &plen, sizeof(pat), s->pattern,
                            strlen(s->pattern), 0);
            return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                               "a string matching /%s/", pat);
        }
        return zt_jsv_format(v, s, n);
    }
    else if (n->type == ZT_J_ARRAY
             && (n->u.n < s->min_items || n->u.n > s->max_items)) {
        return zt_jsv_fail(v, zt_jsv_found(n, found, sizeof(found)),
                           "%s %u items", n->u.n < s->min_items ? "at least"
                                                                : "at most",
                           n->u.n < s->min_items ? s->min_items : s->max_items);
    }
    return 0;
}

/* The value @a n (at v->at) against @a s, or only the limits when NULL. */
static int zt_jsv_value(zt_jsv_t *v, const zt_js_t *s, const zt_jnode_t *n)
{
    if (zt_jsv_here(v, s, n) != 0) {
        return -1;
    }
    if (n->type == ZT_J_OBJECT) {
        return zt_jsv_object(v, s, n);
    }
    if (n->type == ZT_J_ARRAY) {
        return zt_jsv_array(v, s, n);
    }
    return 0;
}

int zt_jschema_check(const zt_jschema_t *schema, const char *buf, size_t len,
                     apr_pool_t *pool, zt_body_fault_t *f)
{
    const char *why = NULL;
    const zt_jdoc_t *doc;
    zt_jsv_t v;

    memset(f, 0, sizeof(*f));
    doc = zt_jdoc_parse_value(buf, len, len, pool, &why);
    if (doc == NULL) {
        /* "invalid JSON at byte 12: duplicate member name" */
        apr_cpystrn(f->found, why ? why : "invalid JSON", sizeof(f->found));
        apr_cpystrn(f->expected, "one strict JSON value (RFC 8259, UTF-8, "
                    "no duplicate names, nested at most 64 deep)",
                    sizeof(f->expected));
        return -1;
    }
    memset(&v, 0, sizeof(v));
    v.f = f;
    return zt_jsv_value(&v, schema ? schema->root : NULL, doc->node);
}
