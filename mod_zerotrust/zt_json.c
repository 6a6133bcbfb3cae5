/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <string.h>
#include <apr_strings.h>

#include "zt_json.h"

/*
** Depth of @a v, counting containers; stops early once past @a limit, so
** the recursion never goes deeper than limit + 1 frames.
*/
static int zt_json_too_deep(const json_t *v, int depth, int limit)
{
    size_t i;
    const char *key;
    json_t *child;

    if (!json_is_object(v) && !json_is_array(v)) {
        return 0;
    }
    if (depth > limit) {
        return 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            if (zt_json_too_deep(child, depth + 1, limit)) {
                return 1;
            }
        }
        return 0;
    }
    json_object_foreach((json_t *)v, key, child) {
        if (zt_json_too_deep(child, depth + 1, limit)) {
            return 1;
        }
    }
    return 0;
}

json_t *zt_json_parse(const char *buf, size_t len, size_t max_len,
                      apr_pool_t *pool, const char **err)
{
    json_error_t jerr;
    json_t *json;

    if (buf == NULL || len == 0) {
        *err = "empty document";
        return NULL;
    }
    if (len > max_len) {
        *err = apr_psprintf(pool, "document too large (%" APR_SIZE_T_FMT
                            " bytes, limit %" APR_SIZE_T_FMT ")",
                            (apr_size_t)len, (apr_size_t)max_len);
        return NULL;
    }
    /* jansson refuses NUL too (without JSON_ALLOW_NUL), but say it plainly
     * and do not depend on that. */
    if (memchr(buf, '\0', len) != NULL) {
        *err = "NUL byte in document";
        return NULL;
    }
    /* No JSON_DECODE_ANY, JSON_DISABLE_EOF_CHECK or JSON_ALLOW_NUL. */
    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL) {
        /* jansson quotes the input near the fault: keep it printable. */
        for (char *c = jerr.text; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
                *c = '?';
            }
        }
        *err = apr_psprintf(pool, "invalid JSON at byte %d: %s",
                            jerr.position, jerr.text);
        return NULL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        *err = "top level is not a JSON object";
        return NULL;
    }
    if (zt_json_too_deep(json, 1, ZT_JSON_MAX_DEPTH)) {
        json_decref(json);
        *err = apr_psprintf(pool, "nested deeper than %d levels",
                            ZT_JSON_MAX_DEPTH);
        return NULL;
    }
    return json;
}

static apr_status_t zt_json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

void zt_json_pool_own(apr_pool_t *pool, json_t *json)
{
    if (json != NULL) {
        apr_pool_cleanup_register(pool, json, zt_json_cleanup,
                                  apr_pool_cleanup_null);
    }
}
