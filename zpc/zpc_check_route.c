/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Checks of routes: path patterns (literals, typed captures, '*', '**'),
 * methods, the types of captures and parameters (with their patterns,
 * compiled to automata), the route's block (query and header parameters,
 * the body and its schema, read here and embedded), and routes of equal
 * rank.  What it finds is kept on the route for zpc_lower.c.
 */

#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zpc_check.h"
#include "zt_alg.h"
#include "zt_body.h"
#include "zt_dfa.h"

/* ------------------------------------------------------------------ */
/* types                                                               */

/*
** A pattern must become a DFA (SPEC section 2): it is compiled here, as
** the emitter will, and a construct an automaton cannot express (a
** back-reference, look-around, ...) or a limit it passes is an error at
** the construct.
*/
static int zpc_check_regex(zpc_check_t *c, const zpc_ast_type_t *t)
{
    const char *re = t->regex;
    const void *img;
    size_t len, off = 0, n = 0;
    char err[256];
    zpc_loc_t at;

    if (re[0] == '\0') {
        zpc_diag_error(c->d, &t->regex_loc, "empty regular expression "
                       "(leave it out to accept any string)");
        return 0;
    }
    if (zt_dfa_compile_at(re, strlen(re), c->pool, &img, &len, err, sizeof(err),
                          &off, &n) == 0) {
        return 1;
    }
    at = zpc_loc_sub(&t->regex_loc, 1 + off, n);    /* +1: the opening slash */
    zpc_diag_error(c->d, &at, "%s", err);
    return 0;
}

static const char zpc_type_names[] =
    "int A..B, number, bool, uuid, string [A..B] [/regex/] or enum(\"a\", ...)";

/* Judge a type as written and build its IR in c->pool (t->ir). */
static int zpc_check_type(zpc_check_t *c, zpc_ast_type_t *t)
{
    static const struct { const char *name; uint32_t kind; } kinds[] = {
        { "string", ZT_TYPE_STRING }, { "int", ZT_TYPE_INT },
        { "number", ZT_TYPE_NUMBER }, { "bool", ZT_TYPE_BOOL },
        { "uuid", ZT_TYPE_UUID }, { "enum", ZT_TYPE_ENUM },
    };
    zpc_ir_type_t *ir = apr_pcalloc(c->pool, sizeof(*ir));
    int found = 0, ok = 1;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].name, t->name) == 0) {
            ir->kind = kinds[i].kind;
            found = 1;
        }
    }
    if (!found) {
        zpc_diag_error(c->d, &t->name_loc, "unknown type '%s' (a type is %s)",
                       t->name, zpc_type_names);
        return 0;
    }
    if (t->values != NULL && ir->kind != ZT_TYPE_ENUM) {
        zpc_diag_error(c->d, &t->loc, "only enum takes a list of values");
        return 0;
    }
    if (t->ranges > 0 && ir->kind != ZT_TYPE_INT && ir->kind != ZT_TYPE_STRING) {
        zpc_diag_error(c->d, &t->range_loc, "%s takes no range (int A..B is a "
                       "range of values, string A..B of lengths)", t->name);
        ok = 0;
    }
    if (t->ranges > 1 || t->regexes > 1) {
        zpc_diag_error(c->d, &t->loc, "a type has at most one %s",
                       t->ranges > 1 ? "range" : "regular expression");
        ok = 0;
    }
    if (t->regexes > 0 && ir->kind != ZT_TYPE_STRING) {
        zpc_diag_error(c->d, &t->regex_loc, "only string takes a regular "
                       "expression");
        ok = 0;
    }
    switch (ir->kind) {
    case ZT_TYPE_INT:
        ir->min = t->ranges > 0 ? t->min : INT64_MIN;
        ir->max = t->ranges > 0 ? t->max : INT64_MAX;
        break;
    case ZT_TYPE_STRING:
        ir->min = t->ranges > 0 ? t->min : 0;
        ir->max = t->ranges > 0 ? t->max : ZPC_MAX_STRING;
        if (t->ranges > 0 && t->min < 0) {
            zpc_diag_error(c->d, &t->range_loc, "a string length cannot be "
                           "negative");
            ok = 0;
        }
        if (t->regexes > 0 && ok) {
            ok = zpc_check_regex(c, t);
            ir->regex = t->regex;
        }
        break;
    case ZT_TYPE_ENUM:
        if (t->values == NULL || t->values->nelts == 0) {
            zpc_diag_error(c->d, &t->loc, "enum needs its values: "
                           "enum(\"a\", \"b\")");
            return 0;
        }
        ir->values = apr_array_make(c->pool, t->values->nelts, sizeof(const char *));
        for (int i = 0; i < t->values->nelts; i++) {
            const zpc_ast_opnd_t *v = APR_ARRAY_IDX(t->values, i, zpc_ast_opnd_t *);
            if (v->kind != ZPC_OPND_STR) {
                zpc_diag_error(c->d, &v->loc, "enum values are strings in quotes");
                ok = 0;
                continue;
            }
            for (int j = 0; j < ir->values->nelts; j++) {
                if (strcmp(APR_ARRAY_IDX(ir->values, j, const char *), v->str) == 0) {
                    zpc_diag_error(c->d, &v->loc, "enum value %s is listed twice",
                                   zpc_check_quote(c, v->str));
                    ok = 0;
                }
            }
            APR_ARRAY_PUSH(ir->values, const char *) = v->str;
        }
        if (ir->values->nelts > ZT_MAX_LIST) {
            zpc_diag_error(c->d, &t->loc, "enum of %d values (the limit is %d)",
                           ir->values->nelts, ZT_MAX_LIST);
            ok = 0;
        }
        break;
    default:
        break;
    }
    if (t->ranges > 0 && t->min > t->max) {
        zpc_diag_error(c->d, &t->range_loc, "empty range %lld..%lld (write the "
                       "smaller bound first)", (long long)t->min, (long long)t->max);
        ok = 0;
    }
    t->ir = ok ? ir : NULL;
    return ok;
}

/* ------------------------------------------------------------------ */
/* paths and routes                                                    */

/* The length of the segment at @a s: up to the next '/' outside braces
 * (a capture's regex may hold a '/', and braces one level deep). */
static size_t zpc_seg_len(const char *s)
{
    int depth = 0;
    size_t i;

    for (i = 0; s[i] != '\0' && (depth > 0 || s[i] != '/'); i++) {
        depth += s[i] == '{' ? 1 : s[i] == '}' && depth > 0 ? -1 : 0;
    }
    return i;
}

/* The '}' that closes the capture opened at s[0], or NULL. */
static const char *zpc_capture_close(const char *s, size_t n)
{
    int depth = 0;

    for (size_t i = 0; i < n; i++) {
        depth += s[i] == '{' ? 1 : s[i] == '}' ? -1 : 0;
        if (depth == 0) {
            return s + i;
        }
    }
    return NULL;
}

/*
** A capture segment, "{name}" or "{name: TYPE}" (@a n bytes at @a s, at
** @a sl); a route's TYPE is parsed, a target's ignored (targets name
** routes by shape).  Returns 0 after reporting.
*/
static int zpc_check_capture(zpc_check_t *c, const char *s, size_t n,
                             const zpc_loc_t *sl, int target, zpc_ast_seg_t *seg)
{
    const char *close = zpc_capture_close(s, n);
    const char *colon;
    char *name;
    size_t nlen;

    if (close == NULL || (size_t)(close - s) != n - 1) {
        zpc_diag_error(c->d, sl, close == NULL
                       ? "unterminated capture (write {name})"
                       : "a capture must be a whole segment: /{name}/");
        return 0;
    }
    colon = memchr(s, ':', n);
    nlen = (size_t)((colon != NULL ? colon : close) - s) - 1;
    while (nlen > 0 && s[nlen] == ' ') {
        nlen--;
    }
    name = apr_pstrmemdup(c->pool, s + 1, nlen);
    if (!zpc_is_ident(name)) {
        zpc_diag_error(c->d, sl, name[0] == '\0'
                       ? "empty capture name (write {name})"
                       : "capture name '%s' is not an identifier", name);
        return 0;
    }
    seg->kind = ZPC_SEG_CAP;
    seg->text = name;
    seg->loc = *sl;
    seg->type = NULL;
    if (colon != NULL && !target) {
        size_t off = (size_t)(colon - s) + 1;
        const char *text = apr_pstrmemdup(c->pool, colon + 1, (size_t)(close - colon) - 1);
        zpc_loc_t at = zpc_loc_sub(sl, off, 1);

        if (strspn(text, " ") == strlen(text)) {
            zpc_diag_error(c->d, &at, "a type after ':' (write {%s: uuid}, or "
                           "{%s} for any string)", name, name);
            return 0;
        }
        seg->type = zpc_parse_type(c->ps, text, &at);
        if (seg->type == NULL || !zpc_check_type(c, seg->type)) {
            return 0;
        }
    }
    return 1;
}

/*
** Split a route or target path into segments.  Returns NULL (after
** reporting) if any segment is invalid.  Both may use '*' (one segment)
** and a final '**' (any number of segments, none included); a route's
** captures may be typed.
*/
apr_array_header_t *zpc_check_path(zpc_check_t *c, const char *path,
                                          const zpc_loc_t *loc, int target)
{
    apr_array_header_t *segs = apr_array_make(c->pool, 4, sizeof(zpc_ast_seg_t));
    size_t len = strlen(path), pos = 1;
    int ok = 1;

    if (len == 1) {
        return segs;                    /* "/" */
    }
    while (pos <= len) {
        const char *s = path + pos;
        size_t n = zpc_seg_len(s);
        zpc_loc_t sl = zpc_loc_sub(loc, pos, n);
        char *text = apr_pstrmemdup(c->pool, s, n);
        zpc_ast_seg_t seg;
        int bad = 0;

        memset(&seg, 0, sizeof(seg));
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (ch < 0x20 || ch == 0x7f) {
                bad = 1;
            }
        }
        if (n == 0) {
            zpc_diag_error(c->d, &sl, "empty path segment (%s)",
                           pos == len ? "remove the trailing '/'" : "'//'");
            ok = 0;
        }
        else if (bad) {
            zpc_diag_error(c->d, &sl, "control character in path segment");
            ok = 0;
        }
        else if (strcmp(text, ".") == 0 || strcmp(text, "..") == 0) {
            zpc_diag_error(c->d, &sl, "'%s' segment: requests are matched after "
                           "Apache resolves '.' and '..', so this never matches",
                           text);
            ok = 0;
        }
        else if (text[0] == '{') {
            if (!zpc_check_capture(c, s, n, &sl, target, &seg)) {
                ok = 0;
            }
        }
        else if (strchr(text, '{') != NULL || strchr(text, '}') != NULL) {
            zpc_diag_error(c->d, &sl, "a capture must be a whole segment: "
                           "/{name}/");
            ok = 0;
        }
        else if (strchr(text, '?') != NULL) {
            zpc_loc_t q = zpc_loc_sub(&sl, (size_t)(strchr(text, '?') - text), 1);
            zpc_diag_error(c->d, &q, target
                           ? "a rule target names routes, without a query"
                           : "a route's path has no query; declare query "
                             "parameters in its block: { query NAME TYPE }");
            ok = 0;
        }
        else if (strcmp(text, "*") == 0 || strcmp(text, "**") == 0) {
            if (text[1] == '*' && pos + n < len) {
                zpc_diag_error(c->d, &sl, "'**' must be the last segment");
                ok = 0;
            }
            seg.kind = text[1] == '*' ? ZPC_SEG_GLOB : ZPC_SEG_STAR;
            seg.text = text;
            seg.loc = sl;
        }
        else if (strchr(text, '*') != NULL) {
            zpc_diag_error(c->d, &sl, "'*' must be a whole segment");
            ok = 0;
        }
        else {
            seg.kind = ZPC_SEG_LIT;
            seg.text = text;
            seg.loc = sl;
        }
        if (ok) {
            APR_ARRAY_PUSH(segs, zpc_ast_seg_t) = seg;
        }
        pos += n + 1;
    }
    if (ok && segs->nelts > ZT_MAX_SEGMENTS
        && !(target && segs->nelts == ZT_MAX_SEGMENTS + 1
             && APR_ARRAY_IDX(segs, ZT_MAX_SEGMENTS, zpc_ast_seg_t).kind == ZPC_SEG_GLOB)) {
        zpc_diag_error(c->d, loc, "%d path segments (the limit is %d)",
                       segs->nelts, ZT_MAX_SEGMENTS);
        ok = 0;
    }
    return ok ? segs : NULL;
}

uint32_t zpc_check_method(zpc_check_t *c, const char *m,
                                 const zpc_loc_t *loc, const char *path,
                                 int target)
{
    size_t len = strlen(m);
    uint32_t bit;

    if (strcmp(m, "*") == 0) {
        if (target) {
            return ZT_M_ALL;
        }
        zpc_diag_error(c->d, loc, "a route has exactly one method ('*' is for "
                       "rule targets)");
        return 0;
    }
    if (strcmp(m, "HEAD") == 0) {
        zpc_diag_error(c->d, loc, "HEAD is served by GET routes; write: %sGET %s",
                       target ? "" : "route ", path);
        return 0;
    }
    if ((bit = zt_method_from_name(m, len)) != 0) {
        return bit;
    }
    for (uint32_t b = 1; b & ZT_M_ALL; b <<= 1) {
        if (strcasecmp(zt_method_name(b), m) == 0) {
            zpc_diag_error(c->d, loc, "methods are written in upper case: %s",
                           zt_method_name(b));
            return 0;
        }
    }
    if (strcasecmp(m, "head") == 0) {
        zpc_diag_error(c->d, loc, "HEAD is served by GET routes; write GET");
        return 0;
    }
    zpc_diag_error(c->d, loc, "unknown method '%s' (expected GET, POST, PUT, "
                   "PATCH, DELETE or OPTIONS%s)", m, target ? ", or * for any" : "");
    return 0;
}

/* "GET /a" for messages. */
const char *zpc_check_route_text(zpc_check_t *c, const zpc_ast_route_t *r)
{
    return apr_pstrcat(c->pool, r->method, " ", r->path, NULL);
}

/* "file:line" of a location, for messages that name two places. */
const char *zpc_where(zpc_check_t *c, const zpc_loc_t *loc)
{
    return apr_psprintf(c->pool, "%s:%d", zpc_diag_file_name(c->d, loc->file),
                        loc->first_line);
}

/* Two routes with the same method and this key can match the same request
 * with equal rank: literals equal, captures (whatever their names and
 * types), '*' and '**' in the same places. */
static const char *zpc_route_shape(zpc_check_t *c, const zpc_ast_route_t *r)
{
    static const char *const kind[] = { "/\x02", "/\x01", "/\x03", "/\x04" };
    const char *key = apr_psprintf(c->pool, "%u", (unsigned)r->methods);

    for (int i = 0; i < r->segs->nelts; i++) {
        const zpc_ast_seg_t *s = &APR_ARRAY_IDX(r->segs, i, zpc_ast_seg_t);
        key = apr_pstrcat(c->pool, key, kind[s->kind],
                          s->kind == ZPC_SEG_LIT ? s->text : "", NULL);
    }
    return key;
}

/* A flag word after a parameter's type: optional, list. */
static uint32_t zpc_check_flags(zpc_check_t *c, const zpc_ast_param_t *p)
{
    uint32_t flags = 0;

    for (int i = 0; p->flags != NULL && i < p->flags->nelts; i++) {
        const zpc_ast_word_t *w = APR_ARRAY_IDX(p->flags, i, zpc_ast_word_t *);
        uint32_t f = strcmp(w->text, "optional") == 0 ? ZT_PARAM_OPTIONAL : ZT_PARAM_LIST;

        if (flags & f) {
            zpc_diag_error(c->d, &w->loc, "'%s' is written twice", w->text);
        }
        else if (f == ZT_PARAM_LIST && p->kind == ZPC_PARAM_HEADER) {
            zpc_diag_error(c->d, &w->loc, "'list' applies to query parameters "
                           "(a header is read once)");
        }
        flags |= f;
    }
    return flags;
}

/* A route's schema file: read, and not empty. */
static const char *zpc_check_schema_file(zpc_check_t *c, const zpc_ast_attr_t *a,
                                         apr_size_t *len)
{
    const char *buf = zpc_check_read(c, &a->val_loc, a->str, "schema",
                                     ZPC_MAX_SCHEMA, len);

    if (buf != NULL && *len == 0) {
        zpc_diag_error(c->d, &a->val_loc, "schema %s is empty",
                       zpc_check_quote(c, a->str));
        return NULL;
    }
    return buf;
}

/*
** A schema compiles here exactly as the module will compile it at load
** (zt_body.h): an unknown keyword, a bad value or a broken XSD is an error
** naming the file and, for JSON, the pointer into it.
*/
static int zpc_check_schema(zpc_check_t *c, const zpc_ast_attr_t *a,
                            const zpc_ir_body_t *b)
{
    const char *why = NULL;
    zt_bschema_t compiled;

    if (zt_body_schema_compile(b->kind, b->schema, b->schema_len, c->pool,
                               &compiled, &why) != 0) {
        zpc_diag_error(c->d, &a->val_loc, "schema %s: %s",
                       zpc_check_quote(c, a->str), why);
        return 0;
    }
    return 1;
}

static zpc_ir_body_t *zpc_check_body(zpc_check_t *c, const zpc_ast_param_t *p)
{
    zpc_ir_body_t *b = apr_pcalloc(c->pool, sizeof(*b));
    const zpc_ast_attr_t *seen[3] = { NULL, NULL, NULL };
    int ok = 1;

    if (strcmp(p->name, "json") == 0) {
        b->kind = ZT_BODY_JSON;
    }
    else if (strcmp(p->name, "xml") == 0) {
        b->kind = ZT_BODY_XML;
    }
    else {
        zpc_diag_error(c->d, &p->name_loc, "unknown body kind '%s' (write body "
                       "json ... or body xml ...)", p->name);
        return NULL;
    }
    for (int i = 0; i < p->opts->nelts; i++) {
        const zpc_ast_attr_t *a = APR_ARRAY_IDX(p->opts, i, zpc_ast_attr_t *);
        int k = a->kind - ZPC_ATTR_MAX;

        if (seen[k] != NULL) {
            zpc_diag_error(c->d, &a->loc, "'%s' is written twice in this body",
                           a->name);
            ok = 0;
            continue;
        }
        seen[k] = a;
        switch (a->kind) {
        case ZPC_ATTR_MAX:
            if (a->num < 0) {
                ok = 0;         /* a bad size, reported */
            }
            else if (a->num == 0 || a->num > (int64_t)UINT32_MAX) {
                zpc_diag_error(c->d, &a->val_loc, "a body's max is 1 byte to "
                               "4 GiB - 1");
                ok = 0;
            }
            b->max = (uint32_t)a->num;
            break;
        case ZPC_ATTR_SCHEMA:
            b->schema_name = a->str;
            if ((b->schema = zpc_check_schema_file(c, a, &b->schema_len)) == NULL
                || !zpc_check_schema(c, a, b)) {
                ok = 0;
            }
            break;
        default:        /* ROOT */
            if (b->kind != ZT_BODY_XML) {
                zpc_diag_error(c->d, &a->loc, "'root' names the root element "
                               "of an XML body; this body is json");
                ok = 0;
            }
            else if (a->str[0] == '\0' || strpbrk(a->str, " <>&\"'/") != NULL) {
                zpc_diag_error(c->d, &a->val_loc, "%s is not an element name",
                               zpc_check_quote(c, a->str));
                ok = 0;
            }
            b->root = a->str;
            break;
        }
    }
    if (seen[0] == NULL) {
        zpc_diag_error(c->d, &p->loc, "a body needs its largest size: body %s "
                       "max 16k", p->name);
        ok = 0;
    }
    return ok ? b : NULL;
}

/* The route's block: query and header parameters, the body. */
static int zpc_check_params(zpc_check_t *c, zpc_ast_route_t *r)
{
    const zpc_ast_param_t *body = NULL, *any = NULL;
    int ok = 1;

    r->iparams = apr_array_make(c->pool, r->params->nelts, sizeof(zpc_ir_param_t));
    for (int i = 0; i < r->params->nelts; i++) {
        const zpc_ast_param_t *p = APR_ARRAY_IDX(r->params, i, zpc_ast_param_t *);
        zpc_ir_param_t *ip;
        const char *name;
        int cc;

        switch (p->kind) {
        case ZPC_PARAM_BODY:
            if (body != NULL) {
                zpc_diag_error(c->d, &p->loc, "a route has at most one body");
                zpc_diag_note(c->d, &body->loc, "the first one is here");
                ok = 0;
                continue;
            }
            body = p;
            if ((r->body = zpc_check_body(c, p)) == NULL) {
                ok = 0;
            }
            continue;
        case ZPC_PARAM_QUERY_ANY:
            if (any != NULL) {
                zpc_diag_error(c->d, &p->loc, "'query * any' is written twice");
                ok = 0;
            }
            any = p;
            r->flags |= ZT_ROUTE_QUERY_ANY;
            continue;
        default:
            break;
        }
        name = p->name;
        if (name[0] == '\0') {
            zpc_diag_error(c->d, &p->name_loc, "an empty %s name",
                           p->kind == ZPC_PARAM_QUERY ? "query parameter" : "header");
            ok = 0;
            continue;
        }
        if (p->kind == ZPC_PARAM_HEADER) {
            if (!zpc_is_token(name)) {
                zpc_diag_error(c->d, &p->name_loc, "%s is not a header name "
                               "(letters, digits and !#$%%&'*+-.^_`|~)",
                               zpc_check_quote(c, name));
                ok = 0;
                continue;
            }
            name = apr_pstrdup(c->pool, name);
            for (char *s = (char *)name; *s != '\0'; s++) {
                *s = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
            }
        }
        else if ((cc = zpc_control_char(name)) != 0) {
            zpc_diag_error(c->d, &p->name_loc, "control character 0x%02x in a "
                           "query parameter name", cc);
            ok = 0;
            continue;
        }
        for (int j = 0; j < r->iparams->nelts; j++) {
            const zpc_ir_param_t *q = &APR_ARRAY_IDX(r->iparams, j, zpc_ir_param_t);
            if (q->where == (p->kind == ZPC_PARAM_HEADER ? ZT_PARAM_HEADER : ZT_PARAM_QUERY)
                && strcmp(q->name, name) == 0) {
                zpc_diag_error(c->d, &p->name_loc, "%s %s is declared twice in "
                               "this route", p->kind == ZPC_PARAM_HEADER
                               ? "header" : "query parameter",
                               zpc_check_quote(c, p->name));
                ok = 0;
            }
        }
        if (!zpc_check_type(c, p->type)) {
            ok = 0;
            continue;
        }
        if (r->iparams->nelts == ZT_MAX_PARAMS) {
            zpc_diag_error(c->d, &p->loc, "too many parameters in one route "
                           "(the limit is %d)", ZT_MAX_PARAMS);
            return 0;
        }
        ip = apr_array_push(r->iparams);
        ip->where = p->kind == ZPC_PARAM_HEADER ? ZT_PARAM_HEADER : ZT_PARAM_QUERY;
        ip->name = name;
        ip->type = p->type->ir;
        ip->flags = zpc_check_flags(c, p);
    }
    return ok;
}

void zpc_check_routes(zpc_check_t *c)
{
    apr_hash_t *shapes = apr_hash_make(c->pool);
    apr_array_header_t *routes = c->ast->routes;

    for (int i = 0; i < routes->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_ast_route_t *r = APR_ARRAY_IDX(routes, i, zpc_ast_route_t *);
        zpc_ast_route_t *prev;
        const char *key;
        int dup = 0;

        r->limits = apr_array_make(c->pool, 1, sizeof(uint32_t));
        if (i == ZT_MAX_ROUTES) {
            zpc_diag_error(c->d, &r->loc, "too many routes (the limit is %d)",
                           ZT_MAX_ROUTES);
        }
        r->methods = zpc_check_method(c, r->method, &r->method_loc, r->path, 0);
        r->segs = zpc_check_path(c, r->path, &r->path_loc, 0);
        if (!zpc_check_params(c, r)) {
            dup = 1;
        }
        if (r->segs == NULL) {
            c->bad_routes = 1;  /* targets may have meant it: no second error */
            continue;
        }
        for (int j = 0; j < r->segs->nelts && !dup; j++) {
            const zpc_ast_seg_t *a = &APR_ARRAY_IDX(r->segs, j, zpc_ast_seg_t);
            for (int k = 0; k < j && a->kind == ZPC_SEG_CAP; k++) {
                const zpc_ast_seg_t *b = &APR_ARRAY_IDX(r->segs, k, zpc_ast_seg_t);
                if (b->kind == ZPC_SEG_CAP && strcmp(a->text, b->text) == 0) {
                    zpc_diag_error(c->d, &a->loc, "capture {%s} appears twice in "
                                   "this route (path.%s would be ambiguous)",
                                   a->text, a->text);
                    zpc_diag_note(c->d, &b->loc, "the first {%s} is here", b->text);
                    dup = 1;
                    break;
                }
            }
        }
        if (dup || r->methods == 0) {
            continue;
        }
        key = zpc_route_shape(c, r);
        if ((prev = apr_hash_get(shapes, key, APR_HASH_KEY_STRING)) != NULL) {
            if (strcmp(prev->path, r->path) == 0) {
                zpc_diag_error(c->d, &r->loc, "route %s is declared twice",
                               zpc_check_route_text(c, r));
                zpc_diag_note(c->d, &prev->loc, "the first declaration is here");
            }
            else {
                zpc_diag_error(c->d, &r->loc, "routes %s (%s) and %s (%s) can "
                               "match the same request with equal rank",
                               zpc_check_route_text(c, prev), zpc_where(c, &prev->loc),
                               zpc_check_route_text(c, r), zpc_where(c, &r->loc));
                zpc_diag_note(c->d, &prev->loc, "the other route is declared here");
            }
            continue;
        }
        apr_hash_set(shapes, key, APR_HASH_KEY_STRING, r);
        r->ok = 1;
    }
}
