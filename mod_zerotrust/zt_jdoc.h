/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_jdoc.h
 * @brief A strict JSON reader for token headers and payloads, DPoP
 *        proofs (whose "jwk" header becomes the key, zt_jwk_from_jnode)
 *        and JWK Sets.
 *
 * One pass over the text builds a flat array of nodes in document order
 * (jsmn-like), with every string decoded and NUL-terminated after the
 * nodes, all in ONE block from the caller's pool:
 *
 * ```
 *   +--------------------+-----------------------+------------------------+
 *   | zt_jdoc_t (8 B)    | nnodes x zt_jnode_t   | strings, decoded, NULs |
 *   +--------------------+-----------------------+------------------------+
 *   node[0] is the top-level object.  A container's children follow it;
 *   an object's are name, value, name, value...; the node after a value's
 *   whole subtree is v + v->size.  A string's bytes are at (char *)v +
 *   v->u.s.off.  Nothing in the block is an address, so a copy of its
 *   zt_jdoc_size() bytes anywhere (8-aligned) is the same document.
 * ```
 *
 * The rules are zt_json.h's, so a document one accepts the other accepts
 * (test_jdoc checks this on every case, the fuzz target on every input):
 * RFC 8259 and nothing else (no comments, no trailing commas, no NaN, no
 * BOM, no single quotes), and on top of it refused: more than @a max_len
 * bytes, a NUL byte anywhere (raw or \\u0000), invalid UTF-8 (overlong
 * forms, surrogates, above U+10FFFF, truncated), an unpaired surrogate
 * escape, a raw control character in a string, a duplicate member name
 * (compared decoded, in every object), anything but whitespace after the
 * value, a top level that is not an object, containers nested deeper
 * than ZT_JSON_MAX_DEPTH, an integer outside int64_t and a real that
 * overflows a double.
 */
#ifndef ZT_JDOC_H
#define ZT_JDOC_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "zt_claims.h"

/** Deepest nesting of objects and arrays (the top-level object is 1). */
#define ZT_JSON_MAX_DEPTH 64

typedef enum {
    ZT_J_NULL = 0, ZT_J_FALSE, ZT_J_TRUE, ZT_J_INT, ZT_J_REAL, ZT_J_STR,
    ZT_J_ARRAY, ZT_J_OBJECT
} zt_jtype_e;

/** One value (or member name) of a document. */
typedef struct {
    uint8_t type;               /**< zt_jtype_e */
    uint8_t unused[3];
    uint32_t size;              /**< nodes in this subtree, itself included */
    union {
        int64_t i;              /**< ZT_J_INT */
        double d;               /**< ZT_J_REAL: finite */
        struct {
            uint32_t off;       /**< bytes from this node to the text */
            uint32_t len;       /**< without the NUL that follows */
        } s;                    /**< ZT_J_STR */
        uint32_t n;             /**< ZT_J_ARRAY: elements, ZT_J_OBJECT: members */
    } u;
} zt_jnode_t;

/** A parsed document: the token's payload is one (zt_claims.h), and so
 *  is its header. */
typedef struct zt_claims zt_jdoc_t;

struct zt_claims {
    uint32_t nnodes;
    uint32_t size;              /**< bytes of the whole block */
    zt_jnode_t node[];          /**< nnodes, then the text */
};

/**
 * Parse @a len bytes of @a buf (at most @a max_len) as one JSON object,
 * into one block from @a pool.  NULL on failure, with a short message
 * from @a pool in *err ("invalid JSON at byte 12: duplicate member name").
 */
zt_jdoc_t *zt_jdoc_parse(const char *buf, size_t len, size_t max_len,
                         apr_pool_t *pool, const char **err);

/**
 * zt_jdoc_parse, but any JSON value may be at the top (a request body:
 * an array, a string...); node[0] is that value.  The same rules else.
 */
zt_jdoc_t *zt_jdoc_parse_value(const char *buf, size_t len, size_t max_len,
                               apr_pool_t *pool, const char **err);

/** The member @a name (@a len bytes) of object @a obj, or NULL when it has
 *  none or @a obj is not an object. */
const zt_jnode_t *zt_jnode_member(const zt_jnode_t *obj, const char *name,
                                  size_t len);

/** The member @a name (NUL-terminated) of object @a obj, or NULL when it
 *  has none or @a obj is NULL or not an object. */
const zt_jnode_t *zt_jnode_get(const zt_jnode_t *obj, const char *name);

/** The string member @a name of object @a obj, or NULL when it is absent
 *  or not a string. */
const char *zt_jnode_get_str(const zt_jnode_t *obj, const char *name);

/** The member @a name of the top-level object, or NULL. */
const zt_jnode_t *zt_jdoc_get(const zt_jdoc_t *d, const char *name);

/** The string member @a name of the top-level object, or NULL when it is
 *  absent or not a string. */
const char *zt_jdoc_get_str(const zt_jdoc_t *d, const char *name);

/** Bytes of the block: memcpy that many to copy the document. */
static inline size_t zt_jdoc_size(const zt_jdoc_t *d)
{
    return d->size;
}

/** A string's bytes, NUL-terminated (a string never holds a NUL). */
static inline const char *zt_jnode_str(const zt_jnode_t *v)
{
    return (const char *)v + v->u.s.off;
}

/** The first child of a container (check u.n first), and the node after
 *  @a v's subtree: its next sibling when there is one. */
static inline const zt_jnode_t *zt_jnode_first(const zt_jnode_t *v)
{
    return v + 1;
}

static inline const zt_jnode_t *zt_jnode_next(const zt_jnode_t *v)
{
    return v + v->size;
}

/** 1 and the value in *out when @a v is a number (integer or real). */
static inline int zt_jnode_number(const zt_jnode_t *v, double *out)
{
    if (v == NULL || (v->type != ZT_J_INT && v->type != ZT_J_REAL)) {
        return 0;
    }
    *out = v->type == ZT_J_INT ? (double)v->u.i : v->u.d;
    return 1;
}

#endif /* ZT_JDOC_H */
