/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_json.h
 * @brief Strict JSON for hostile input, through jansson: discovery
 * documents, `zpc decode`.  Token headers and payloads, DPoP proofs and
 * key sets are read by zt_jdoc.h instead (faster, one allocation), under
 * the same rules;
 * test_jdoc and fuzz_jdoc hold the two to agreeing on every document.
 *
 * On top of RFC 8259 as jansson reads it, a document is refused when it is
 * longer than the caller's bound, holds a NUL byte anywhere (raw or as
 * \\u0000), invalid UTF-8 (overlong forms, surrogates, > U+10FFFF), a
 * duplicate member name, anything but whitespace after the value, a top
 * level that is not an object, or containers nested deeper than
 * ZT_JSON_MAX_DEPTH.  Integers that do not fit 64 bits and reals that
 * overflow a double are refused too (jansson).
 */
#ifndef ZT_JSON_H
#define ZT_JSON_H

#include <stddef.h>
#include <apr_pools.h>
#include <jansson.h>

#include "zt_jdoc.h"            /* ZT_JSON_MAX_DEPTH */

/**
 * Parse @a len bytes of @a buf (at most @a max_len) as one JSON object.
 * Returns a new reference the caller releases (json_decref, or
 * zt_json_pool_own), or NULL with a short message from @a pool in *err.
 */
json_t *zt_json_parse(const char *buf, size_t len, size_t max_len,
                      apr_pool_t *pool, const char **err);

/** Hand @a json to @a pool: json_decref runs when the pool is cleared. */
void zt_json_pool_own(apr_pool_t *pool, json_t *json);

#endif /* ZT_JSON_H */
