/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Request bodies (zt_body.h): what the table declares, compiled at load;
 * the media type; one entry point that picks the JSON or XML validator.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "zt_body.h"

int zt_body_schema_compile(uint32_t kind, const char *buf, size_t len,
                           apr_pool_t *pool, zt_bschema_t *out,
                           const char **err)
{
    const char *why = NULL;

    memset(out, 0, sizeof(*out));
    if (kind == ZT_BODY_JSON) {
        out->json = zt_jschema_compile(buf, len, pool, &why);
    }
    else {
        out->xsd = zt_xml_schema_compile(buf, len, pool, &why);
    }
    if (out->json == NULL && out->xsd == NULL) {
        *err = why != NULL ? why : "the schema does not compile";
        return -1;
    }
    return 0;
}

apr_status_t zt_body_prepare(zt_table_t *t, apr_pool_t *pool, const char **err)
{
    zt_bschema_t *s = apr_pcalloc(pool, (t->nbodies + 1) * sizeof(*s));

    for (uint32_t i = 0; i < t->nbodies; i++) {
        const zt_body_rec_t *b = &t->bodies[i];
        const char *buf = (const char *)t->blob + b->schema_off, *why = NULL;

        if (b->schema_len == 0) {
            continue;
        }
        if (zt_body_schema_compile(b->kind, buf, b->schema_len, pool, &s[i],
                                   &why) != 0) {
            *err = apr_psprintf(pool, "body %u (schema %s): %s", i,
                                b->schema_name ? zt_table_str(t, b->schema_name)
                                               : "?", why);
            return APR_EINVAL;
        }
    }
    t->schemas = s;
    return APR_SUCCESS;
}

/* The media type's end (before parameters and whitespace). */
static size_t zt_media_len(const char *ct)
{
    size_t n = strcspn(ct, "; \t");

    return n;
}

/* Parameters after the type: only charset=utf-8 (any case, quoted or
 * not) may say anything about the bytes. */
static int zt_params_ok(const char *p)
{
    while (*p) {
        const char *name, *val;
        size_t nlen, vlen;

        p += strspn(p, " \t");
        if (*p != ';') {
            return *p == '\0';
        }
        p++;
        p += strspn(p, " \t");
        name = p;
        nlen = strcspn(p, "=; \t");
        p += nlen;
        if (nlen == 0 && (*p == ';' || *p == '\0')) {
            continue;           /* RFC 9110: a parameter may be empty */
        }
        if (*p != '=' || nlen == 0) {
            return 0;
        }
        val = ++p;
        if (*p == '"') {
            const char *q = strchr(p + 1, '"');

            if (q == NULL) {
                return 0;
            }
            val = p + 1;
            vlen = (size_t)(q - val);
            p = q + 1;
        }
        else {
            vlen = strcspn(p, "; \t");
            p += vlen;
        }
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0
            && !(vlen == 5 && strncasecmp(val, "utf-8", 5) == 0)) {
            return 0;
        }
    }
    return 1;
}

int zt_body_type_ok(uint32_t kind, const char *ct)
{
    const char *slash;
    size_t n, sub;

    if (ct == NULL) {
        return 0;
    }
    ct += strspn(ct, " \t");
    n = zt_media_len(ct);
    slash = memchr(ct, '/', n);
    if (slash == NULL || slash == ct || slash + 1 == ct + n
        || !zt_params_ok(ct + n)) {
        return 0;
    }
    sub = (size_t)(ct + n - (slash + 1));
#define ZT_IS(s) (n == sizeof(s) - 1 && strncasecmp(ct, s, n) == 0)
#define ZT_SUFFIX(s) (sub > sizeof(s) - 1 \
                      && strncasecmp(ct + n - (sizeof(s) - 1), s, sizeof(s) - 1) == 0)
    if (kind == ZT_BODY_JSON) {
        return ZT_IS("application/json") || ZT_SUFFIX("+json");
    }
    return ZT_IS("application/xml") || ZT_IS("text/xml") || ZT_SUFFIX("+xml");
#undef ZT_IS
#undef ZT_SUFFIX
}

const char *zt_body_type_expected(uint32_t kind)
{
    return kind == ZT_BODY_JSON
           ? "application/json (or a +json type), charset utf-8 if any"
           : "application/xml or text/xml (or a +xml type), charset utf-8 "
             "if any";
}

int zt_body_check(const zt_table_t *t, uint32_t body, const char *buf,
                  size_t len, apr_pool_t *pool, zt_body_fault_t *f)
{
    const zt_body_rec_t *b = &t->bodies[body];
    const zt_bschema_t *s = &t->schemas[body];

    if (b->kind == ZT_BODY_JSON) {
        return zt_jschema_check(s->json, buf, len, pool, f);
    }
    return zt_xml_check(s->xsd, b->root ? zt_table_str(t, b->root) : NULL,
                        buf, len, f);
}

const char *zt_body_fault_text(const zt_body_fault_t *f, char *buf,
                               size_t size)
{
    if (f->line > 0) {
        snprintf(buf, size, "body%s (line %ld): found %s, expected %s",
                 f->where, f->line, f->found, f->expected);
    }
    else {
        snprintf(buf, size, "body%s: found %s, expected %s", f->where,
                 f->found, f->expected);
    }
    return buf;
}
