/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The emitter: lowered IR -> a .ztb table (zt_format.h), and the atomic
 * write of that table to disk.
 *
 * Two passes.  The first interns every string into one deduplicated pool
 * and fills the records in host form (offsets instead of pointers); the
 * second lays out header, section table, 8-aligned sections and the
 * SHA-256 trailer and writes every field byte by byte in little-endian
 * order, so the output does not depend on the host.  Every limit of
 * zt_format.h is checked here and reported naming the limit; zpc then
 * runs the module's own verifier over the result (zpc.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "zpc_ast.h"        /* ZPC_MAX_STRING: an untyped capture's length */
#include "zpc_back.h"
#include "zt_dfa.h"

/* zpc_emit_layout writes every record field by field: these counts must
 * follow the records of zt_format.h. */
_Static_assert(sizeof(zt_issuer_rec_t) == 16 * 4, "issuer record: 16 u32 fields");
_Static_assert(sizeof(zt_route_rec_t) == 16 * 4, "route record: 16 u32 fields");
_Static_assert(sizeof(zt_seg_rec_t) == 3 * 4, "segment record: 3 u32 fields");
_Static_assert(sizeof(zt_rule_rec_t) == 6 * 4, "rule record: 6 u32 fields");
_Static_assert(sizeof(zt_type_rec_t) == 6 * 4 + 2 * 8, "type record: 6 u32, 2 i64");
_Static_assert(sizeof(zt_param_rec_t) == 4 * 4, "param record: 4 u32 fields");
_Static_assert(sizeof(zt_body_rec_t) == 6 * 4, "body record: 6 u32 fields");
_Static_assert(sizeof(zt_stepup_rec_t) == 6 * 4, "stepup record: 6 u32 fields");
_Static_assert(sizeof(zt_limit_rec_t) == 6 * 4, "limit record: 6 u32 fields");
_Static_assert(sizeof(zt_cidr_rec_t) == 20, "cidr record: 4 + 16 bytes");

/* The string pool under construction: bytes, and bytes -> offset. */
typedef struct {
    apr_pool_t *pool;
    apr_hash_t *seen;       /* key: the bytes with their NUL(s); value: offset + 1 */
    char *buf;
    apr_size_t len, cap;
} zpc_strs_t;

typedef struct {
    const zpc_ir_t *ir;
    apr_pool_t *pool;
    const char **err;
    zpc_strs_t strs;

    zt_meta_rec_t meta;
    zt_issuer_rec_t *issuers;   uint32_t nissuers;
    zt_route_rec_t *routes;     uint32_t nroutes;
    zt_seg_rec_t *segs;         uint32_t nsegs;
    zt_rule_rec_t *rules;       uint32_t nrules;
    uint32_t *rrefs;            uint32_t nrrefs;
    zt_node_rec_t *nodes;       uint32_t nnodes;
    /* Operands and list entries: the IR's first, at their IR indices, then
     * the STR operands and LIST runs of enum types and acr lists. */
    apr_array_header_t *opnds;  /* zt_opnd_rec_t */
    apr_array_header_t *lists;  /* uint32_t */
    apr_array_header_t *cidrs;  /* zt_cidr_rec_t */
    apr_array_header_t *types;  /* zt_type_rec_t */
    apr_hash_t *type_seen;      /* type key -> index + 1 */
    apr_array_header_t *params; /* zt_param_rec_t */
    apr_array_header_t *bodies; /* zt_body_rec_t */
    apr_hash_t *body_seen;      /* zpc_ir_body_t * -> index + 1 */
    apr_array_header_t *blob;   /* bytes */
    apr_hash_t *blob_seen;      /* schema bytes -> offset + 1 */
    apr_array_header_t *stepups;    /* zt_stepup_rec_t */
    apr_array_header_t *limits;     /* zt_limit_rec_t */
    apr_array_header_t *lrefs;      /* uint32_t */
    apr_array_header_t *dfas;       /* bytes: DFA images, each 8-aligned */
    apr_hash_t *dfa_seen;           /* pattern -> offset + 1 */
} zpc_emitter_t;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static apr_status_t zpc_emit_error(zpc_emitter_t *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    *e->err = apr_pvsprintf(e->pool, fmt, ap);
    va_end(ap);
    return APR_EINVAL;
}

static uint32_t zpc_nelts(const apr_array_header_t *a)
{
    return a != NULL && a->nelts > 0 ? (uint32_t)a->nelts : 0;
}

/* ------------------------------------------------------------------ */
/* String pool                                                          */
/* ------------------------------------------------------------------ */

/* Intern @a n bytes (the string's own NUL included) at *off. */
static apr_status_t zpc_intern_bytes(zpc_emitter_t *e, const char *bytes,
                                     apr_size_t n, uint32_t *off)
{
    zpc_strs_t *sp = &e->strs;
    void *v = apr_hash_get(sp->seen, bytes, (apr_ssize_t)n);
    char *key;

    if (v != NULL) {
        *off = (uint32_t)((uintptr_t)v - 1);
        return APR_SUCCESS;
    }
    if (n > ZT_MAX_FILE_LEN - sp->len) {
        return zpc_emit_error(e, "string pool too large (more than %u bytes; "
                              "the limit is the file limit)",
                              (unsigned)ZT_MAX_FILE_LEN);
    }
    if (sp->len + n > sp->cap) {
        apr_size_t cap = sp->cap * 2;
        char *nb;
        while (cap < sp->len + n) {
            cap *= 2;
        }
        nb = apr_palloc(sp->pool, cap);
        memcpy(nb, sp->buf, sp->len);
        sp->buf = nb;
        sp->cap = cap;
    }
    memcpy(sp->buf + sp->len, bytes, n);
    /* a key of its own: the pool buffer moves when it grows */
    key = apr_pmemdup(sp->pool, bytes, n);
    *off = (uint32_t)sp->len;
    apr_hash_set(sp->seen, key, (apr_ssize_t)n, (void *)(uintptr_t)(sp->len + 1));
    sp->len += n;
    return APR_SUCCESS;
}

static apr_status_t zpc_intern(zpc_emitter_t *e, const char *s, uint32_t *off)
{
    if (s == NULL) {
        s = "";
    }
    return zpc_intern_bytes(e, s, strlen(s) + 1, off);
}

static apr_status_t zpc_strs_init(zpc_emitter_t *e)
{
    uint32_t off;

    e->strs.pool = e->pool;
    e->strs.seen = apr_hash_make(e->pool);
    e->strs.cap = 4096;
    e->strs.buf = apr_palloc(e->pool, e->strs.cap);
    e->strs.len = 0;
    return zpc_intern(e, "", &off);     /* the pool starts with NUL: "" is 0 */
}

/* ------------------------------------------------------------------ */
/* Pass 1: records in host form                                        */
/* ------------------------------------------------------------------ */

/* Names joined by NUL into one pool entry, like a claim path. */
static apr_status_t zpc_emit_required(zpc_emitter_t *e,
                                      const zpc_ir_issuer_t *s,
                                      zt_issuer_rec_t *r)
{
    uint32_t n = zpc_nelts(s->required);
    apr_size_t total = 0, pos = 0;
    char *blob;

    if (n > ZT_MAX_REQUIRED) {
        return zpc_emit_error(e, "issuer %s: too many required claims (%u; the "
                              "limit is %u)", s->name ? s->name : "?", n,
                              (unsigned)ZT_MAX_REQUIRED);
    }
    for (uint32_t k = 0; k < n; k++) {
        const char *p = APR_ARRAY_IDX(s->required, k, const char *);
        if (p == NULL || *p == '\0') {
            return zpc_emit_error(e, "issuer %s: required claim %u is empty",
                                  s->name ? s->name : "?", k);
        }
        total += strlen(p) + 1;
    }
    r->nrequired = n;
    r->required = 0;
    if (n == 0) {
        return APR_SUCCESS;
    }
    blob = apr_palloc(e->pool, total);
    for (uint32_t k = 0; k < n; k++) {
        const char *p = APR_ARRAY_IDX(s->required, k, const char *);
        apr_size_t l = strlen(p) + 1;
        memcpy(blob + pos, p, l);
        pos += l;
    }
    return zpc_intern_bytes(e, blob, total, &r->required);
}

static apr_status_t zpc_emit_issuers(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->issuers;
    apr_status_t rv;

    e->nissuers = zpc_nelts(a);
    if (e->nissuers > ZT_MAX_ISSUERS) {
        return zpc_emit_error(e, "too many issuers (%u; the limit is %u)",
                              e->nissuers, (unsigned)ZT_MAX_ISSUERS);
    }
    e->issuers = apr_pcalloc(e->pool, sizeof(*e->issuers) * (e->nissuers + 1));
    for (uint32_t i = 0; i < e->nissuers; i++) {
        const zpc_ir_issuer_t *s = &APR_ARRAY_IDX(a, i, zpc_ir_issuer_t);
        zt_issuer_rec_t *r = &e->issuers[i];

        if ((rv = zpc_intern(e, s->name, &r->name)) != APR_SUCCESS
            || (rv = zpc_intern(e, s->iss, &r->iss)) != APR_SUCCESS
            || (rv = zpc_intern(e, s->audience, &r->audience)) != APR_SUCCESS
            || (rv = zpc_intern(e, s->jwks, &r->jwks)) != APR_SUCCESS
            || (rv = zpc_intern(e, s->typ, &r->typ)) != APR_SUCCESS
            || (rv = zpc_intern(e, s->secret, &r->secret)) != APR_SUCCESS
            || (rv = zpc_emit_required(e, s, r)) != APR_SUCCESS) {
            return rv;
        }
        r->algs = s->algs;
        r->jwks_kind = s->jwks_kind;
        r->max_lifetime = s->max_lifetime;
        r->leeway = s->leeway;
        r->line = s->line;
        r->refresh = s->refresh;
        r->refetch_min = s->refetch_min;
    }
    return APR_SUCCESS;
}

/* Append @a values as STR operands with a LIST run over them (enum values,
 * acr lists); an empty list is the run 0, 0. */
static apr_status_t zpc_emit_strlist(zpc_emitter_t *e, const char *what,
                                     const apr_array_header_t *values,
                                     uint32_t *first, uint32_t *count)
{
    uint32_t n = zpc_nelts(values);
    apr_status_t rv;

    if (n > ZT_MAX_LIST) {
        return zpc_emit_error(e, "%s: %u values (the limit is %u)", what, n,
                              (unsigned)ZT_MAX_LIST);
    }
    *first = n > 0 ? (uint32_t)e->lists->nelts : 0;
    *count = n;
    for (uint32_t k = 0; k < n; k++) {
        zt_opnd_rec_t *o = apr_array_push(e->opnds);
        memset(o, 0, sizeof(*o));
        o->kind = ZT_OPND_STR;
        if ((rv = zpc_intern(e, APR_ARRAY_IDX(values, k, const char *),
                             &o->str)) != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(e->lists, uint32_t) = (uint32_t)e->opnds->nelts - 1;
    }
    return APR_SUCCESS;
}

/* The automaton of @a regex into DFAS, once per pattern; its offset in
 * *off.  zpc check has compiled it already, so an error here is zpc's. */
static apr_status_t zpc_emit_dfa(zpc_emitter_t *e, const char *regex,
                                 const char *where, uint32_t *off)
{
    void *seen = apr_hash_get(e->dfa_seen, regex, APR_HASH_KEY_STRING);
    const void *img;
    size_t len;
    char err[256];

    if (seen != NULL) {
        *off = (uint32_t)((uintptr_t)seen - 1);
        return APR_SUCCESS;
    }
    if (zt_dfa_compile(regex, strlen(regex), e->pool, &img, &len, err,
                       sizeof(err)) < 0) {
        return zpc_emit_error(e, "%s: pattern /%s/: %s", where, regex, err);
    }
    if (len > ZT_MAX_FILE_LEN - (apr_size_t)e->dfas->nelts) {
        return zpc_emit_error(e, "patterns too large (more than %u bytes of "
                              "automata)", (unsigned)ZT_MAX_FILE_LEN);
    }
    *off = (uint32_t)e->dfas->nelts;
    for (size_t i = 0; i < len; i++) {     /* len is a multiple of 8 */
        APR_ARRAY_PUSH(e->dfas, unsigned char) = ((const unsigned char *)img)[i];
    }
    apr_hash_set(e->dfa_seen, regex, APR_HASH_KEY_STRING,
                 (void *)(uintptr_t)(*off + 1));
    return APR_SUCCESS;
}

/*
 * The TYPE index of @a ty (NULL: a string of 0..ZPC_MAX_STRING bytes).
 * Equal types share one record.  Only the fields the kind uses are
 * written, as zt_format.h lays them out.
 */
static apr_status_t zpc_emit_type(zpc_emitter_t *e, const zpc_ir_type_t *ty,
                                  const char *where, uint32_t *idx)
{
    static const zpc_ir_type_t untyped = { ZT_TYPE_STRING, 0, ZPC_MAX_STRING,
                                           NULL, NULL };
    apr_array_header_t *key;
    const char *k, *regex;
    zt_type_rec_t *r;
    void *seen;
    apr_status_t rv;
    int ranged, enumerated;

    if (ty == NULL) {
        ty = &untyped;
    }
    ranged = ty->kind == ZT_TYPE_STRING || ty->kind == ZT_TYPE_INT;
    enumerated = ty->kind == ZT_TYPE_ENUM;
    regex = ty->kind == ZT_TYPE_STRING && ty->regex != NULL ? ty->regex : "";
    /* the key: every field the record keeps, each length-prefixed */
    key = apr_array_make(e->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(key, const char *) = apr_psprintf(
        e->pool, "%u %" APR_INT64_T_FMT " %" APR_INT64_T_FMT " %" APR_SIZE_T_FMT
        ":%s", ty->kind, ranged ? (apr_int64_t)ty->min : 0,
        ranged ? (apr_int64_t)ty->max : 0, strlen(regex), regex);
    for (uint32_t i = 0; enumerated && i < zpc_nelts(ty->values); i++) {
        const char *v = APR_ARRAY_IDX(ty->values, i, const char *);
        APR_ARRAY_PUSH(key, const char *) = apr_psprintf(
            e->pool, " %" APR_SIZE_T_FMT ":%s", strlen(v), v);
    }
    k = apr_array_pstrcat(e->pool, key, 0);
    if ((seen = apr_hash_get(e->type_seen, k, APR_HASH_KEY_STRING)) != NULL) {
        *idx = (uint32_t)((uintptr_t)seen - 1);
        return APR_SUCCESS;
    }
    r = apr_array_push(e->types);
    memset(r, 0, sizeof(*r));
    r->kind = ty->kind;
    r->dfa = ZT_NONE;
    if (ranged) {
        r->min = ty->min;
        r->max = ty->max;
    }
    if ((rv = zpc_intern(e, regex, &r->str)) != APR_SUCCESS
        || (regex[0] != '\0'
            && (rv = zpc_emit_dfa(e, regex, where, &r->dfa)) != APR_SUCCESS)) {
        return rv;
    }
    if (enumerated) {
        uint32_t first, count;
        if ((rv = zpc_emit_strlist(e, apr_psprintf(e->pool, "%s: enum", where),
                                   ty->values, &first, &count)) != APR_SUCCESS) {
            return rv;
        }
        r->first = first;
        r->count = count;
    }
    *idx = (uint32_t)e->types->nelts - 1;
    apr_hash_set(e->type_seen, k, APR_HASH_KEY_STRING, (void *)(uintptr_t)(*idx + 1));
    return APR_SUCCESS;
}

/* Schema bytes into BLOB, 8-aligned; the same schema is stored once. */
static apr_status_t zpc_emit_schema(zpc_emitter_t *e, const zpc_ir_body_t *b,
                                    zt_body_rec_t *r)
{
    void *seen;
    apr_size_t off;

    if (b->schema == NULL || b->schema_len == 0) {
        return APR_SUCCESS;
    }
    if (b->schema_len > ZT_MAX_FILE_LEN) {
        return zpc_emit_error(e, "schema %s: %" APR_SIZE_T_FMT " bytes (the "
                              "limit is the file limit, %u)",
                              b->schema_name ? b->schema_name : "?",
                              b->schema_len, (unsigned)ZT_MAX_FILE_LEN);
    }
    seen = apr_hash_get(e->blob_seen, b->schema, (apr_ssize_t)b->schema_len);
    if (seen != NULL) {
        off = (apr_size_t)((uintptr_t)seen - 1);
    }
    else {
        off = (apr_size_t)e->blob->nelts;
        if (off + b->schema_len > ZT_MAX_FILE_LEN) {
            return zpc_emit_error(e, "schemas too large (more than %u bytes)",
                                  (unsigned)ZT_MAX_FILE_LEN);
        }
        for (apr_size_t i = 0; i < b->schema_len; i++) {
            APR_ARRAY_PUSH(e->blob, char) = b->schema[i];
        }
        while (e->blob->nelts % 8 != 0) {
            APR_ARRAY_PUSH(e->blob, char) = 0;
        }
        apr_hash_set(e->blob_seen, b->schema, (apr_ssize_t)b->schema_len,
                     (void *)(uintptr_t)(off + 1));
    }
    r->schema_off = (uint32_t)off;
    r->schema_len = (uint32_t)b->schema_len;
    return APR_SUCCESS;
}

/* The BODY index of @a b; a body shared by several routes is stored once. */
static apr_status_t zpc_emit_body(zpc_emitter_t *e, const zpc_ir_body_t *b,
                                  uint32_t *idx)
{
    void *seen = apr_hash_get(e->body_seen, &b, sizeof(b));
    zt_body_rec_t r;
    apr_status_t rv;

    if (seen != NULL) {
        *idx = (uint32_t)((uintptr_t)seen - 1);
        return APR_SUCCESS;
    }
    memset(&r, 0, sizeof(r));
    r.kind = b->kind;
    r.max = b->max;
    if ((rv = zpc_emit_schema(e, b, &r)) != APR_SUCCESS
        || (rv = zpc_intern(e, b->schema_name, &r.schema_name)) != APR_SUCCESS
        || (rv = zpc_intern(e, b->root, &r.root)) != APR_SUCCESS) {
        return rv;
    }
    APR_ARRAY_PUSH(e->bodies, zt_body_rec_t) = r;
    *idx = (uint32_t)e->bodies->nelts - 1;
    apr_hash_set(e->body_seen, apr_pmemdup(e->pool, &b, sizeof(b)), sizeof(b),
                 (void *)(uintptr_t)(*idx + 1));
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_segs(zpc_emitter_t *e, const zpc_ir_route_t *r,
                                  zt_route_rec_t *o)
{
    apr_status_t rv;

    o->seg_first = e->nsegs;
    o->seg_count = zpc_nelts(r->segs);
    for (uint32_t k = 0; k < o->seg_count; k++) {
        const zpc_ir_seg_t *s = &APR_ARRAY_IDX(r->segs, k, zpc_ir_seg_t);
        zt_seg_rec_t *so = &e->segs[e->nsegs++];

        so->kind = s->kind;
        so->str = 0;
        so->type = ZT_NONE;
        if (s->kind == ZT_SEG_LITERAL || s->kind == ZT_SEG_CAPTURE) {
            if ((rv = zpc_intern(e, s->text, &so->str)) != APR_SUCCESS) {
                return rv;
            }
        }
        if (s->kind == ZT_SEG_CAPTURE
            && (rv = zpc_emit_type(e, s->type, apr_psprintf(e->pool,
                        "route %s: capture %s", r->pattern ? r->pattern : "?",
                        s->text ? s->text : "?"), &so->type)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_params(zpc_emitter_t *e, const zpc_ir_route_t *r,
                                    zt_route_rec_t *o)
{
    const char *pattern = r->pattern ? r->pattern : "?";
    apr_status_t rv;

    o->param_first = (uint32_t)e->params->nelts;
    o->param_count = zpc_nelts(r->params);
    if (o->param_count > ZT_MAX_PARAMS) {
        return zpc_emit_error(e, "route %s: too many query and header "
                              "parameters (%u; the limit is %u)", pattern,
                              o->param_count, (unsigned)ZT_MAX_PARAMS);
    }
    for (uint32_t k = 0; k < o->param_count; k++) {
        const zpc_ir_param_t *p = &APR_ARRAY_IDX(r->params, k, zpc_ir_param_t);
        zt_param_rec_t po;

        po.where = p->where;
        po.flags = p->flags;
        if ((rv = zpc_intern(e, p->name, &po.name)) != APR_SUCCESS
            || (rv = zpc_emit_type(e, p->type, apr_psprintf(e->pool,
                        "route %s: parameter %s", pattern, p->name ? p->name : "?"),
                        &po.type)) != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(e->params, zt_param_rec_t) = po;
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_lrefs(zpc_emitter_t *e, const zpc_ir_route_t *r,
                                   zt_route_rec_t *o)
{
    o->lref_first = (uint32_t)e->lrefs->nelts;
    o->lref_count = zpc_nelts(r->limits);
    if (o->lref_count > ZT_MAX_LIMITS) {
        return zpc_emit_error(e, "route %s: too many rate limits (%u; the "
                              "limit is %u)", r->pattern ? r->pattern : "?",
                              o->lref_count, (unsigned)ZT_MAX_LIMITS);
    }
    for (uint32_t k = 0; k < o->lref_count; k++) {
        APR_ARRAY_PUSH(e->lrefs, uint32_t) = APR_ARRAY_IDX(r->limits, k, uint32_t);
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_routes(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->routes;
    uint64_t nsegs = 0, nrrefs = 0;
    apr_status_t rv;

    e->nroutes = zpc_nelts(a);
    if (e->nroutes > ZT_MAX_ROUTES) {
        return zpc_emit_error(e, "too many routes (%u; the limit is %u)",
                              e->nroutes, (unsigned)ZT_MAX_ROUTES);
    }
    for (uint32_t i = 0; i < e->nroutes; i++) {
        const zpc_ir_route_t *r = &APR_ARRAY_IDX(a, i, zpc_ir_route_t);
        uint32_t n = zpc_nelts(r->segs);

        if (n > ZT_MAX_SEGMENTS) {
            return zpc_emit_error(e, "route %s: too many path segments (%u; "
                                  "the limit is %u)", r->pattern ? r->pattern : "?",
                                  n, (unsigned)ZT_MAX_SEGMENTS);
        }
        nsegs += n;
        nrrefs += zpc_nelts(r->rules);
    }
    if (nsegs > ZT_MAX_FILE_LEN / sizeof(zt_seg_rec_t)
        || nrrefs > ZT_MAX_FILE_LEN / sizeof(uint32_t)) {
        return zpc_emit_error(e, "table too large (more than %u bytes)",
                              (unsigned)ZT_MAX_FILE_LEN);
    }
    e->routes = apr_pcalloc(e->pool, sizeof(*e->routes) * (e->nroutes + 1));
    e->segs = apr_pcalloc(e->pool, sizeof(*e->segs) * (size_t)(nsegs + 1));
    e->rrefs = apr_pcalloc(e->pool, sizeof(*e->rrefs) * (size_t)(nrrefs + 1));
    e->nsegs = e->nrrefs = 0;
    for (uint32_t i = 0; i < e->nroutes; i++) {
        const zpc_ir_route_t *r = &APR_ARRAY_IDX(a, i, zpc_ir_route_t);
        zt_route_rec_t *o = &e->routes[i];

        o->methods = r->methods;
        o->line = r->line;
        o->flags = r->flags;
        /* -1, "no step-up", is ZT_NONE */
        o->stepup = r->stepup < 0 ? ZT_NONE : (uint32_t)r->stepup;
        o->body = ZT_NONE;
        if ((rv = zpc_intern(e, r->pattern, &o->pattern)) != APR_SUCCESS
            || (rv = zpc_intern(e, r->file, &o->file)) != APR_SUCCESS
            || (rv = zpc_emit_segs(e, r, o)) != APR_SUCCESS
            || (rv = zpc_emit_params(e, r, o)) != APR_SUCCESS
            || (rv = zpc_emit_lrefs(e, r, o)) != APR_SUCCESS
            || (r->body != NULL
                && (rv = zpc_emit_body(e, r->body, &o->body)) != APR_SUCCESS)) {
            return rv;
        }
        o->rref_first = e->nrrefs;
        o->rref_count = zpc_nelts(r->rules);
        for (uint32_t k = 0; k < o->rref_count; k++) {
            e->rrefs[e->nrrefs++] = APR_ARRAY_IDX(r->rules, k, uint32_t);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_stepups(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->stepups;
    apr_status_t rv;

    for (uint32_t i = 0; i < zpc_nelts(a); i++) {
        const zpc_ir_stepup_t *s = &APR_ARRAY_IDX(a, i, zpc_ir_stepup_t);
        zt_stepup_rec_t r;

        memset(&r, 0, sizeof(r));
        r.max_age = s->max_age;
        r.line = s->line;
        if ((rv = zpc_intern(e, s->file, &r.file)) != APR_SUCCESS
            || (rv = zpc_emit_strlist(e, apr_psprintf(e->pool, "stepup at %s:%u: "
                                      "acr", s->file ? s->file : "?", s->line),
                                      s->acr, &r.acr_first, &r.acr_count))
               != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(e->stepups, zt_stepup_rec_t) = r;
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_limits(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->limits;
    apr_status_t rv;

    for (uint32_t i = 0; i < zpc_nelts(a); i++) {
        const zpc_ir_limit_t *l = &APR_ARRAY_IDX(a, i, zpc_ir_limit_t);
        zt_limit_rec_t r;

        memset(&r, 0, sizeof(r));
        r.count = l->count;
        r.period = l->period;
        r.key = l->key;
        r.line = l->line;
        if ((rv = zpc_intern(e, l->file, &r.file)) != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(e->limits, zt_limit_rec_t) = r;
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_cidrs(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->cidrs;

    for (uint32_t i = 0; i < zpc_nelts(a); i++) {
        const zpc_ir_cidr_t *c = &APR_ARRAY_IDX(a, i, zpc_ir_cidr_t);
        zt_cidr_rec_t r;

        memset(&r, 0, sizeof(r));
        r.family = c->family;
        r.prefix = c->prefix;
        memcpy(r.addr, c->addr, sizeof(r.addr));
        APR_ARRAY_PUSH(e->cidrs, zt_cidr_rec_t) = r;
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_rules(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->rules;
    apr_status_t rv;

    e->nrules = zpc_nelts(a);
    if (e->nrules > ZT_MAX_RULES) {
        return zpc_emit_error(e, "too many rules (%u; the limit is %u)",
                              e->nrules, (unsigned)ZT_MAX_RULES);
    }
    e->rules = apr_pcalloc(e->pool, sizeof(*e->rules) * (e->nrules + 1));
    for (uint32_t i = 0; i < e->nrules; i++) {
        const zpc_ir_rule_t *r = &APR_ARRAY_IDX(a, i, zpc_ir_rule_t);
        zt_rule_rec_t *o = &e->rules[i];

        o->effect = r->effect;
        o->flags = r->flags;
        o->cond = r->cond;
        o->line = r->line;
        if ((rv = zpc_intern(e, r->file, &o->file)) != APR_SUCCESS
            || (rv = zpc_intern(e, r->text, &o->text)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Where a rule was written, for messages. */
static const char *zpc_rule_where(zpc_emitter_t *e, uint32_t i)
{
    const zpc_ir_rule_t *r = &APR_ARRAY_IDX(e->ir->rules, i, zpc_ir_rule_t);

    return apr_psprintf(e->pool, "%s:%u", r->file ? r->file : "?", r->line);
}

/*
 * Nodes, and the two condition limits.  The front end orders nodes so
 * children come after parents; depth and tree size are then computed from
 * the last node back.  Exceeding a limit is reported at the rule whose
 * condition it is, else (a node no rule reaches) at the node.
 */
static apr_status_t zpc_emit_nodes(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->nodes;
    uint32_t *depth, *size;

    e->nnodes = zpc_nelts(a);
    if (e->nnodes > ZT_MAX_NODES) {
        return zpc_emit_error(e, "too many condition nodes (%u; the limit is %u)",
                              e->nnodes, (unsigned)ZT_MAX_NODES);
    }
    e->nodes = apr_pcalloc(e->pool, sizeof(*e->nodes) * (e->nnodes + 1));
    depth = apr_pcalloc(e->pool, sizeof(uint32_t) * (e->nnodes + 1));
    size = apr_pcalloc(e->pool, sizeof(uint32_t) * (e->nnodes + 1));
    for (uint32_t i = e->nnodes; i-- > 0;) {
        const zpc_ir_node_t *n = &APR_ARRAY_IDX(a, i, zpc_ir_node_t);
        uint32_t d = 1, s = 1;

        e->nodes[i].op = n->op;
        e->nodes[i].a = n->a;
        e->nodes[i].b = n->b;
        e->nodes[i].c = n->c;
        if ((n->op == ZT_OP_IN_LIST || n->op == ZT_OP_IN_CIDR)
            && n->c > ZT_MAX_LIST) {
            return zpc_emit_error(e, "condition node %u: a list of %u members "
                                  "(the limit is %u)", i, n->c,
                                  (unsigned)ZT_MAX_LIST);
        }
        if (n->op == ZT_OP_AND || n->op == ZT_OP_OR || n->op == ZT_OP_NOT) {
            uint32_t nk = n->op == ZT_OP_NOT ? 1 : 2;
            for (uint32_t k = 0; k < nk; k++) {
                uint32_t c = k == 0 ? n->a : n->b;
                if (c <= i || c >= e->nnodes) {
                    return zpc_emit_error(e, "internal error: node %u: child %u "
                                          "is not in %u..%u", i, c, i + 1,
                                          e->nnodes - 1);
                }
                if (depth[c] + 1 > d) {
                    d = depth[c] + 1;
                }
                s += size[c];
            }
        }
        depth[i] = d;
        size[i] = s > ZT_MAX_COND_NODES ? ZT_MAX_COND_NODES + 1 : s;
    }
    for (uint32_t i = 0; i < e->nrules; i++) {
        uint32_t c = e->rules[i].cond;
        if (c == ZT_NONE || c >= e->nnodes) {
            continue;       /* a bad index is the verifier's to report */
        }
        if (depth[c] > ZT_MAX_COND_DEPTH) {
            return zpc_emit_error(e, "the condition of the rule at %s is nested "
                                  "too deeply (depth %u; the limit is %u)",
                                  zpc_rule_where(e, i),
                                  depth[c], (unsigned)ZT_MAX_COND_DEPTH);
        }
        if (size[c] > ZT_MAX_COND_NODES) {
            return zpc_emit_error(e, "the condition of the rule at %s is too "
                                  "large once shared parts are counted at each "
                                  "use (more than %u nodes; the limit is %u)",
                                  zpc_rule_where(e, i),
                                  (unsigned)ZT_MAX_COND_NODES,
                                  (unsigned)ZT_MAX_COND_NODES);
        }
    }
    for (uint32_t i = 0; i < e->nnodes; i++) {
        if (depth[i] > ZT_MAX_COND_DEPTH || size[i] > ZT_MAX_COND_NODES) {
            return zpc_emit_error(e, "condition node %u exceeds the depth limit "
                                  "%u or the size limit %u", i,
                                  (unsigned)ZT_MAX_COND_DEPTH,
                                  (unsigned)ZT_MAX_COND_NODES);
        }
    }
    return APR_SUCCESS;
}

/* A claim path as written, for messages: token.a.b */
static const char *zpc_claim_text(zpc_emitter_t *e, const apr_array_header_t *parts)
{
    const char *s = "token";

    for (uint32_t k = 0; k < zpc_nelts(parts); k++) {
        const char *p = APR_ARRAY_IDX(parts, k, const char *);
        s = apr_pstrcat(e->pool, s, ".", p ? p : "", NULL);
    }
    return s;
}

static apr_status_t zpc_emit_opnds(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->opnds;
    uint32_t nopnds = zpc_nelts(a);
    apr_status_t rv;

    if (nopnds > ZT_MAX_FILE_LEN / sizeof(zt_opnd_rec_t)) {
        return zpc_emit_error(e, "table too large (more than %u bytes)",
                              (unsigned)ZT_MAX_FILE_LEN);
    }
    for (uint32_t i = 0; i < nopnds; i++) {
        const zpc_ir_opnd_t *o = &APR_ARRAY_IDX(a, i, zpc_ir_opnd_t);
        zt_opnd_rec_t *r = apr_array_push(e->opnds);

        memset(r, 0, sizeof(*r));
        r->kind = o->kind;
        switch (o->kind) {
        case ZT_OPND_TOKEN: {
            uint32_t n = zpc_nelts(o->parts);
            apr_size_t total = 0, pos = 0;
            char *blob;

            if (n == 0 || n > ZT_MAX_CLAIM_DEPTH) {
                return zpc_emit_error(e, "claim path %s has %u parts (the limit "
                                      "is 1..%u)", zpc_claim_text(e, o->parts), n,
                                      (unsigned)ZT_MAX_CLAIM_DEPTH);
            }
            for (uint32_t k = 0; k < n; k++) {
                const char *p = APR_ARRAY_IDX(o->parts, k, const char *);
                if (p == NULL || *p == '\0') {
                    return zpc_emit_error(e, "claim path %s has an empty part",
                                          zpc_claim_text(e, o->parts));
                }
                total += strlen(p) + 1;
            }
            /* the parts, consecutive and each NUL-terminated */
            blob = apr_palloc(e->pool, total);
            for (uint32_t k = 0; k < n; k++) {
                const char *p = APR_ARRAY_IDX(o->parts, k, const char *);
                apr_size_t l = strlen(p) + 1;
                memcpy(blob + pos, p, l);
                pos += l;
            }
            if ((rv = zpc_intern_bytes(e, blob, total, &r->str)) != APR_SUCCESS) {
                return rv;
            }
            r->n = n;
            break;
        }
        case ZT_OPND_PATH:
        case ZT_OPND_STR:
        case ZT_OPND_QUERY:
        case ZT_OPND_HEADER:
            if ((rv = zpc_intern(e, o->str, &r->str)) != APR_SUCCESS) {
                return rv;
            }
            break;
        case ZT_OPND_INT:
        case ZT_OPND_BOOL:
            r->num = o->num;
            break;
        default:
            break;              /* the request's own values: no field */
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zpc_emit_lists(zpc_emitter_t *e)
{
    const apr_array_header_t *a = e->ir->lists;
    uint32_t n = zpc_nelts(a);

    if (n > ZT_MAX_FILE_LEN / sizeof(uint32_t)) {
        return zpc_emit_error(e, "table too large (more than %u bytes)",
                              (unsigned)ZT_MAX_FILE_LEN);
    }
    for (uint32_t i = 0; i < n; i++) {
        APR_ARRAY_PUSH(e->lists, uint32_t) = APR_ARRAY_IDX(a, i, uint32_t);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Pass 2: little-endian layout                                        */
/* ------------------------------------------------------------------ */

static void zpc_put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void zpc_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void zpc_put_i64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;

    zpc_put_u32(p, (uint32_t)u);
    zpc_put_u32(p + 4, (uint32_t)(u >> 32));
}

/* Write @a n u32 fields from @a f at @a p; returns the end. */
static unsigned char *zpc_put_u32s(unsigned char *p, const uint32_t *f, int n)
{
    for (int i = 0; i < n; i++) {
        zpc_put_u32(p, f[i]);
        p += 4;
    }
    return p;
}

/* Sections in file order; the string pool last, as it is the largest. */
enum {
    ZPC_S_META, ZPC_S_ISSR, ZPC_S_ROUT, ZPC_S_SEGS, ZPC_S_RULE, ZPC_S_RREF,
    ZPC_S_NODE, ZPC_S_OPND, ZPC_S_LIST, ZPC_S_CIDR, ZPC_S_TYPE, ZPC_S_PARM,
    ZPC_S_BODY, ZPC_S_BLOB, ZPC_S_STEP, ZPC_S_LIMT, ZPC_S_LREF, ZPC_S_DFAS,
    ZPC_S_STRS, ZPC_S__COUNT
};

static uint32_t zpc_arr_n(const apr_array_header_t *a)
{
    return (uint32_t)a->nelts;
}

#define ZPC_AT(a, i, type) (&APR_ARRAY_IDX((a), (i), type))

static void zpc_emit_records(zpc_emitter_t *e, unsigned char *buf,
                             const uint64_t *off)
{
    unsigned char *p;

    p = buf + off[ZPC_S_META];
    zpc_put_u32(p, e->meta.name);
    zpc_put_u32(p + 4, e->meta.source);

    p = buf + off[ZPC_S_ISSR];
    for (uint32_t i = 0; i < e->nissuers; i++) {
        const zt_issuer_rec_t *r = &e->issuers[i];
        const uint32_t f[] = { r->name, r->iss, r->audience, r->algs, r->jwks_kind,
                               r->jwks, r->max_lifetime, r->leeway, r->line,
                               r->typ, r->required, r->nrequired, r->secret,
                               r->refresh, r->refetch_min, 0 };
        p = zpc_put_u32s(p, f, 16);
    }
    p = buf + off[ZPC_S_ROUT];
    for (uint32_t i = 0; i < e->nroutes; i++) {
        const zt_route_rec_t *r = &e->routes[i];
        const uint32_t f[] = { r->methods, r->pattern, r->seg_first, r->seg_count,
                               r->rref_first, r->rref_count, r->line, r->file,
                               r->flags, r->param_first, r->param_count, r->body,
                               r->stepup, r->lref_first, r->lref_count, 0 };
        p = zpc_put_u32s(p, f, 16);
    }
    p = buf + off[ZPC_S_SEGS];
    for (uint32_t i = 0; i < e->nsegs; i++) {
        const uint32_t f[] = { e->segs[i].kind, e->segs[i].str, e->segs[i].type };
        p = zpc_put_u32s(p, f, 3);
    }
    p = buf + off[ZPC_S_RULE];
    for (uint32_t i = 0; i < e->nrules; i++) {
        const zt_rule_rec_t *r = &e->rules[i];
        const uint32_t f[] = { r->effect, r->flags, r->cond, r->file, r->line,
                               r->text };
        p = zpc_put_u32s(p, f, 6);
    }
    zpc_put_u32s(buf + off[ZPC_S_RREF], e->rrefs, (int)e->nrrefs);
    p = buf + off[ZPC_S_NODE];
    for (uint32_t i = 0; i < e->nnodes; i++) {
        const zt_node_rec_t *n = &e->nodes[i];
        const uint32_t f[] = { n->op, n->a, n->b, n->c };
        p = zpc_put_u32s(p, f, 4);
    }
    p = buf + off[ZPC_S_OPND];
    for (uint32_t i = 0; i < zpc_arr_n(e->opnds); i++) {
        const zt_opnd_rec_t *o = ZPC_AT(e->opnds, i, zt_opnd_rec_t);
        const uint32_t f[] = { o->kind, o->str, o->n, 0 };
        p = zpc_put_u32s(p, f, 4);
        zpc_put_i64(p, o->num);
        p += 8;
    }
    zpc_put_u32s(buf + off[ZPC_S_LIST], (const uint32_t *)e->lists->elts,
                 e->lists->nelts);
    p = buf + off[ZPC_S_CIDR];
    for (uint32_t i = 0; i < zpc_arr_n(e->cidrs); i++) {
        const zt_cidr_rec_t *c = ZPC_AT(e->cidrs, i, zt_cidr_rec_t);
        p[0] = c->family;
        p[1] = c->prefix;
        memcpy(p + 4, c->addr, sizeof(c->addr));    /* bytes 2, 3: reserved */
        p += sizeof(*c);
    }
    p = buf + off[ZPC_S_TYPE];
    for (uint32_t i = 0; i < zpc_arr_n(e->types); i++) {
        const zt_type_rec_t *r = ZPC_AT(e->types, i, zt_type_rec_t);
        const uint32_t f[] = { r->kind, r->str, r->first, r->count, r->dfa, 0 };
        p = zpc_put_u32s(p, f, 6);
        zpc_put_i64(p, r->min);
        zpc_put_i64(p + 8, r->max);
        p += 16;
    }
    p = buf + off[ZPC_S_PARM];
    for (uint32_t i = 0; i < zpc_arr_n(e->params); i++) {
        const zt_param_rec_t *r = ZPC_AT(e->params, i, zt_param_rec_t);
        const uint32_t f[] = { r->where, r->name, r->type, r->flags };
        p = zpc_put_u32s(p, f, 4);
    }
    p = buf + off[ZPC_S_BODY];
    for (uint32_t i = 0; i < zpc_arr_n(e->bodies); i++) {
        const zt_body_rec_t *r = ZPC_AT(e->bodies, i, zt_body_rec_t);
        const uint32_t f[] = { r->kind, r->max, r->schema_off, r->schema_len,
                               r->schema_name, r->root };
        p = zpc_put_u32s(p, f, 6);
    }
    memcpy(buf + off[ZPC_S_BLOB], e->blob->elts, (size_t)e->blob->nelts);
    p = buf + off[ZPC_S_STEP];
    for (uint32_t i = 0; i < zpc_arr_n(e->stepups); i++) {
        const zt_stepup_rec_t *r = ZPC_AT(e->stepups, i, zt_stepup_rec_t);
        const uint32_t f[] = { r->acr_first, r->acr_count, r->max_age, r->file,
                               r->line, 0 };
        p = zpc_put_u32s(p, f, 6);
    }
    p = buf + off[ZPC_S_LIMT];
    for (uint32_t i = 0; i < zpc_arr_n(e->limits); i++) {
        const zt_limit_rec_t *r = ZPC_AT(e->limits, i, zt_limit_rec_t);
        const uint32_t f[] = { r->count, r->period, r->key, r->file, r->line, 0 };
        p = zpc_put_u32s(p, f, 6);
    }
    zpc_put_u32s(buf + off[ZPC_S_LREF], (const uint32_t *)e->lrefs->elts,
                 e->lrefs->nelts);
    /* images are in zt_dfa.h's little-endian layout already (the loader
     * and zpc run only on little-endian hosts, see zt_table.c) */
    memcpy(buf + off[ZPC_S_DFAS], e->dfas->elts, (size_t)e->dfas->nelts);
    memcpy(buf + off[ZPC_S_STRS], e->strs.buf, e->strs.len);
}

static apr_status_t zpc_emit_layout(zpc_emitter_t *e, void **bufp,
                                    apr_size_t *lenp)
{
    static const uint32_t tags[ZPC_S__COUNT] = {
        ZT_TAG_META, ZT_TAG_ISSR, ZT_TAG_ROUT, ZT_TAG_SEGS, ZT_TAG_RULE,
        ZT_TAG_RREF, ZT_TAG_NODE, ZT_TAG_OPND, ZT_TAG_LIST, ZT_TAG_CIDR,
        ZT_TAG_TYPE, ZT_TAG_PARM, ZT_TAG_BODY, ZT_TAG_BLOB, ZT_TAG_STEP,
        ZT_TAG_LIMT, ZT_TAG_LREF, ZT_TAG_DFAS, ZT_TAG_STRS
    };
    uint64_t len[ZPC_S__COUNT], off[ZPC_S__COUNT], pos = 0, hdr_len, file_len;
    unsigned char *buf;
    unsigned int mdlen = 0;

    len[ZPC_S_META] = sizeof(zt_meta_rec_t);
    len[ZPC_S_ISSR] = (uint64_t)e->nissuers * sizeof(zt_issuer_rec_t);
    len[ZPC_S_ROUT] = (uint64_t)e->nroutes * sizeof(zt_route_rec_t);
    len[ZPC_S_SEGS] = (uint64_t)e->nsegs * sizeof(zt_seg_rec_t);
    len[ZPC_S_RULE] = (uint64_t)e->nrules * sizeof(zt_rule_rec_t);
    len[ZPC_S_RREF] = (uint64_t)e->nrrefs * sizeof(uint32_t);
    len[ZPC_S_NODE] = (uint64_t)e->nnodes * sizeof(zt_node_rec_t);
    len[ZPC_S_OPND] = (uint64_t)zpc_arr_n(e->opnds) * sizeof(zt_opnd_rec_t);
    len[ZPC_S_LIST] = (uint64_t)zpc_arr_n(e->lists) * sizeof(uint32_t);
    len[ZPC_S_CIDR] = (uint64_t)zpc_arr_n(e->cidrs) * sizeof(zt_cidr_rec_t);
    len[ZPC_S_TYPE] = (uint64_t)zpc_arr_n(e->types) * sizeof(zt_type_rec_t);
    len[ZPC_S_PARM] = (uint64_t)zpc_arr_n(e->params) * sizeof(zt_param_rec_t);
    len[ZPC_S_BODY] = (uint64_t)zpc_arr_n(e->bodies) * sizeof(zt_body_rec_t);
    len[ZPC_S_BLOB] = (uint64_t)zpc_arr_n(e->blob);
    len[ZPC_S_STEP] = (uint64_t)zpc_arr_n(e->stepups) * sizeof(zt_stepup_rec_t);
    len[ZPC_S_LIMT] = (uint64_t)zpc_arr_n(e->limits) * sizeof(zt_limit_rec_t);
    len[ZPC_S_LREF] = (uint64_t)zpc_arr_n(e->lrefs) * sizeof(uint32_t);
    len[ZPC_S_DFAS] = (uint64_t)zpc_arr_n(e->dfas);
    len[ZPC_S_STRS] = e->strs.len;
    hdr_len = (sizeof(zt_hdr_t) + ZPC_S__COUNT * sizeof(zt_sect_t) + 7) & ~(uint64_t)7;
    for (int k = 0; k < ZPC_S__COUNT; k++) {
        off[k] = pos;
        pos += (len[k] + 7) & ~(uint64_t)7;
    }
    file_len = hdr_len + pos + ZT_HASH_LEN;
    if (file_len > ZT_MAX_FILE_LEN) {
        return zpc_emit_error(e, "table too large (%llu bytes; the limit is %u)",
                              (unsigned long long)file_len,
                              (unsigned)ZT_MAX_FILE_LEN);
    }

    buf = apr_pcalloc(e->pool, (apr_size_t)file_len);   /* padding stays 0 */
    memcpy(buf, ZT_MAGIC, ZT_MAGIC_LEN);
    zpc_put_u16(buf + 4, ZT_FORMAT_VERSION);
    zpc_put_u16(buf + 6, 0);
    zpc_put_u32(buf + 8, (uint32_t)hdr_len);
    zpc_put_u32(buf + 12, (uint32_t)file_len);
    zpc_put_u32(buf + 16, ZPC_S__COUNT);
    zpc_put_u32(buf + 20, 0);
    for (int k = 0; k < ZPC_S__COUNT; k++) {
        unsigned char *s = buf + sizeof(zt_hdr_t) + k * sizeof(zt_sect_t);
        zpc_put_u32(s, tags[k]);
        zpc_put_u32(s + 4, (uint32_t)off[k]);
        zpc_put_u32(s + 8, (uint32_t)len[k]);
    }
    zpc_emit_records(e, buf + hdr_len, off);

    if (EVP_Digest(buf, (size_t)(file_len - ZT_HASH_LEN),
                   buf + file_len - ZT_HASH_LEN, &mdlen, EVP_sha256(), NULL) != 1
        || mdlen != ZT_HASH_LEN) {
        return zpc_emit_error(e, "cannot compute SHA-256");
    }
    *bufp = buf;
    *lenp = (apr_size_t)file_len;
    return APR_SUCCESS;
}

apr_status_t zpc_emit(const zpc_ir_t *ir, apr_pool_t *pool,
                      void **buf, apr_size_t *len, const char **err)
{
    zpc_emitter_t e;
    apr_status_t rv;

    memset(&e, 0, sizeof(e));
    e.ir = ir;
    e.pool = pool;
    e.err = err;
    e.opnds = apr_array_make(pool, 16, sizeof(zt_opnd_rec_t));
    e.lists = apr_array_make(pool, 16, sizeof(uint32_t));
    e.cidrs = apr_array_make(pool, 4, sizeof(zt_cidr_rec_t));
    e.types = apr_array_make(pool, 8, sizeof(zt_type_rec_t));
    e.type_seen = apr_hash_make(pool);
    e.params = apr_array_make(pool, 8, sizeof(zt_param_rec_t));
    e.bodies = apr_array_make(pool, 4, sizeof(zt_body_rec_t));
    e.body_seen = apr_hash_make(pool);
    e.blob = apr_array_make(pool, 64, 1);
    e.blob_seen = apr_hash_make(pool);
    e.stepups = apr_array_make(pool, 4, sizeof(zt_stepup_rec_t));
    e.limits = apr_array_make(pool, 4, sizeof(zt_limit_rec_t));
    e.lrefs = apr_array_make(pool, 4, sizeof(uint32_t));
    e.dfas = apr_array_make(pool, 1024, 1);
    e.dfa_seen = apr_hash_make(pool);
    *buf = NULL;
    *len = 0;
    if (ir == NULL) {
        return zpc_emit_error(&e, "internal error: no policy to emit");
    }
    if ((rv = zpc_strs_init(&e)) != APR_SUCCESS
        || (rv = zpc_intern(&e, ir->name, &e.meta.name)) != APR_SUCCESS
        || (rv = zpc_intern(&e, ir->source, &e.meta.source)) != APR_SUCCESS
        || (rv = zpc_emit_issuers(&e)) != APR_SUCCESS
        || (rv = zpc_emit_opnds(&e)) != APR_SUCCESS
        || (rv = zpc_emit_lists(&e)) != APR_SUCCESS
        || (rv = zpc_emit_rules(&e)) != APR_SUCCESS
        || (rv = zpc_emit_nodes(&e)) != APR_SUCCESS
        || (rv = zpc_emit_cidrs(&e)) != APR_SUCCESS
        || (rv = zpc_emit_stepups(&e)) != APR_SUCCESS
        || (rv = zpc_emit_limits(&e)) != APR_SUCCESS
        || (rv = zpc_emit_routes(&e)) != APR_SUCCESS) {
        return rv;
    }
    return zpc_emit_layout(&e, buf, len);
}

/* ------------------------------------------------------------------ */
/* Atomic write                                                        */
/* ------------------------------------------------------------------ */

static apr_status_t zpc_write_fail(apr_pool_t *pool, const char **err,
                                   const char *what, const char *path, int errnum)
{
    *err = apr_psprintf(pool, "cannot %s %s: %s", what, path, strerror(errnum));
    return APR_FROM_OS_ERROR(errnum);
}

/*
 * A temporary file beside @a path (so rename() stays within one file
 * system and is atomic), written in full, fsync'ed, renamed over @a path,
 * then the directory fsync'ed so the rename itself is durable.  A reader
 * sees the old table or the new one, never a part.  On failure before the
 * rename the temporary file is removed.
 */
apr_status_t zpc_write_atomic(const char *path, const void *buf,
                              apr_size_t len, apr_pool_t *pool,
                              const char **err)
{
    const char *slash = strrchr(path, '/');
    const char *dir;
    char *tmp = apr_pstrcat(pool, path, ".tmp.XXXXXX", NULL);
    const unsigned char *p = buf;
    apr_size_t left = len;
    int fd, dfd, e;

    if (slash == NULL) {
        dir = ".";
    }
    else if (slash == path) {
        dir = "/";
    }
    else {
        dir = apr_pstrndup(pool, path, (apr_size_t)(slash - path));
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        return zpc_write_fail(pool, err, "create a temporary file for", path, errno);
    }
    /* a table holds no secret; Apache reads it as whatever user it runs */
    if (fchmod(fd, 0644) != 0) {
        e = errno;
        goto fail_open;
    }
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            e = errno;
            goto fail_open;
        }
        p += n;
        left -= (apr_size_t)n;
    }
    if (fsync(fd) != 0) {
        e = errno;
        goto fail_open;
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        return zpc_write_fail(pool, err, "write", tmp, e);
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return zpc_write_fail(pool, err, "rename the new table to", path, e);
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        e = errno;
        if (dfd >= 0) {
            close(dfd);
        }
        return zpc_write_fail(pool, err, "sync the directory of", path, e);
    }
    close(dfd);
    return APR_SUCCESS;

fail_open:
    close(fd);
    unlink(tmp);
    return zpc_write_fail(pool, err, "write", tmp, e);
}
