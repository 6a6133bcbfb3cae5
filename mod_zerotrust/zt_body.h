/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_body.h
 * @brief Request bodies against their route's `body` declaration (SPEC
 *        section 2): media type, JSON Schema subset, XML with an optional
 *        root element and XSD.
 *
 * Core code, no httpd: the module (zt_body_filter.c) reads the bytes and
 * asks here; zpc compiles the same schemas with the same code, so a schema
 * zpc accepts is one the module can load.  Schemas are compiled once, when
 * the table is loaded (zt_body_prepare), never per request.
 */
#ifndef ZT_BODY_H
#define ZT_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "zt_table.h"

/* Limits on every JSON body, with or without a schema (a schema's own
 * maxLength / maxItems can only be tighter where it applies).  Nesting is
 * bounded by the reader (ZT_JSON_MAX_DEPTH, 64). */
#define ZT_BODY_MAX_STRING   65536      /**< bytes of one string or name */
#define ZT_BODY_MAX_MEMBERS  10000      /**< members of an object, items of an array */
/* XML bodies. */
#define ZT_XML_MAX_DEPTH     64         /**< nested elements */

/** Why a body was refused, in words fit for a client and a log (printable
 *  ASCII; client bytes outside it are written \\xNN). */
typedef struct {
    /** JSON: the JSON pointer (RFC 6901) of the value at fault, "" for the
     *  whole document.  XML: the element's path ("/order/item[2]"), or "". */
    char where[160];
    /** What was found: "0", "a string of 70000 bytes", "missing". */
    char found[128];
    /** What was expected: "an integer >= 1", "a UUID". */
    char expected[200];
    long line;                  /**< XML: line of the fault, or 0 */
} zt_body_fault_t;

/** A compiled JSON Schema (subset) or XSD; opaque. */
typedef struct zt_jschema_s zt_jschema_t;
typedef struct zt_xsd_s zt_xsd_t;

/** What the loader derives from one BODY record. */
typedef struct zt_bschema_s {
    const zt_jschema_t *json;   /**< JSON body with a schema, or NULL */
    const zt_xsd_t *xsd;        /**< XML body with a schema, or NULL */
} zt_bschema_t;

/**
 * Compile the schema of a body of @a kind from @a len bytes: a JSON Schema
 * for ZT_BODY_JSON into out->json, an XSD for ZT_BODY_XML into out->xsd.
 * The one place that choice is made: the loader and zpc both call it.
 * 0, or -1 with *err from @a pool ("/properties/a/$ref: unknown or
 * unsupported keyword").
 */
int zt_body_schema_compile(uint32_t kind, const char *buf, size_t len,
                           apr_pool_t *pool, zt_bschema_t *out,
                           const char **err);

/**
 * Compile every schema of a verified table into t->schemas (one per BODY
 * record; from @a pool).  A schema that does not compile makes the table
 * bad: APR_EINVAL with *err "body 2 (schema order.schema.json): ...".
 */
apr_status_t zt_body_prepare(zt_table_t *t, apr_pool_t *pool, const char **err);

/**
 * Is @a content_type (a Content-Type field value, or NULL) one body @a kind
 * (ZT_BODY_*) accepts?  JSON: application/json and any type/subtype+json;
 * XML: application/xml, text/xml and any +xml.  Case-insensitive;
 * parameters (charset...) are allowed, but a charset other than UTF-8
 * is refused (the validators read UTF-8 only).  Returns 1 or 0.
 */
int zt_body_type_ok(uint32_t kind, const char *content_type);

/** "application/json (or any +json type)" / "application/xml, text/xml
 *  (or any +xml type)", for answers. */
const char *zt_body_type_expected(uint32_t kind);

/** What a request's headers alone say about its body (zt_body_precheck). */
typedef enum {
    ZT_BODY_GO = 0,             /**< read it (or there is none to read) */
    ZT_BODY_MISSING,            /**< 400: declared, and the request has none */
    ZT_BODY_MEDIA_TYPE,         /**< 415: not a media type of its kind */
    ZT_BODY_TOO_LARGE,          /**< 413: Content-Length above max */
    ZT_BODY_UNDECLARED          /**< 413: a length on a route with no body */
} zt_body_head_e;

/**
 * The checks made before a byte of the body is read, in the module's
 * order: @a b is the route's BODY record, or NULL when it declares none;
 * @a has_body whether the request carries a body (RFC 9112 section 6.3);
 * @a length its Content-Length, or -1 when it has none (chunked: counted
 * while read); @a content_type the field, or NULL.  With @a b NULL only
 * @a length is read.  The module answers each refusal with its status;
 * zpc test decides test bodies with it.
 */
static inline zt_body_head_e zt_body_precheck(const zt_body_rec_t *b,
                                              int has_body, int64_t length,
                                              const char *content_type)
{
    /* Inline: the module asks on every request, most often with b NULL. */
    if (b == NULL) {
        /* A chunked body on such a route is counted when read, max 0. */
        return length > 0 ? ZT_BODY_UNDECLARED : ZT_BODY_GO;
    }
    if (!has_body) {
        return ZT_BODY_MISSING;
    }
    if (!zt_body_type_ok(b->kind, content_type)) {
        return ZT_BODY_MEDIA_TYPE;
    }
    return length > (int64_t)b->max ? ZT_BODY_TOO_LARGE : ZT_BODY_GO;
}

/**
 * Check @a len bytes of @a buf against BODY record @a body of @a t (a
 * table from zt_table_load/open).  Scratch memory comes from @a pool.
 * Returns 0 when the body is acceptable, -1 with @a f filled otherwise.
 */
int zt_body_check(const zt_table_t *t, uint32_t body, const char *buf,
                  size_t len, apr_pool_t *pool, zt_body_fault_t *f);

/** The fault in one line: "body/items/0/quantity: found 0, expected an
 *  integer >= 1"; always NUL-terminated, cut to @a size.  Returns @a buf. */
const char *zt_body_fault_text(const zt_body_fault_t *f, char *buf,
                               size_t size);

/* zt_jschema.c */

/**
 * Compile a JSON Schema of the subset of SPEC section 2 from @a len bytes.
 * NULL on failure with *err "/properties/sku/minLength: must be an integer
 * 0..4294967295" (the JSON pointer into the schema, then why), from
 * @a pool.  A pattern is compiled to an automaton (zt_dfa.h) here.
 */
zt_jschema_t *zt_jschema_compile(const char *buf, size_t len,
                                 apr_pool_t *pool, const char **err);

/**
 * A JSON body: strict JSON (zt_jdoc.h rules: UTF-8, no NUL, no duplicate
 * names, depth 64, int64 integers, finite reals), the limits above, then
 * @a schema when not NULL.  0 or -1 with @a f filled.
 */
int zt_jschema_check(const zt_jschema_t *schema, const char *buf, size_t len,
                     apr_pool_t *pool, zt_body_fault_t *f);

/* zt_xml.c */

/** Once per process, before any other call of zt_xml_* (libxml2's
 *  global initialisation; not thread-safe itself). */
void zt_xml_init(void);

/**
 * Compile an XSD from @a len bytes (no DOCTYPE, no xs:include, xs:import
 * or xs:redefine: nothing is ever loaded from elsewhere).  Freed with
 * @a pool.  NULL on failure with *err from @a pool.
 */
zt_xsd_t *zt_xml_schema_compile(const char *buf, size_t len, apr_pool_t *pool,
                                const char **err);

/**
 * An XML body: well-formed, UTF-8, no DOCTYPE at all (so no entities and
 * no external subset), no processing of anything outside @a buf, at most
 * ZT_XML_MAX_DEPTH deep; its root element named @a root when that is not
 * NULL or ""; valid against @a xsd when not NULL.  0 or -1 with @a f.
 */
int zt_xml_check(const zt_xsd_t *xsd, const char *root, const char *buf,
                 size_t len, zt_body_fault_t *f);

#endif /* ZT_BODY_H */
