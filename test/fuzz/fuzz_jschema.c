/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for JSON bodies and schemas (zt_body.h): the input is
 * checked as a body against a fixed schema that uses every keyword of the
 * subset, and without a schema; then compiled as a schema, and when it
 * compiles, the input is checked against itself.  Besides "no crash, no
 * leak, no sanitizer report", it aborts when
 *  - a fault's text is not printable ASCII (it goes into answers and logs);
 *  - a body accepted with the schema is refused without one (the schema
 *    can only add to the limits).
 *
 * Seeds (test/fuzz/corpus/jschema/): valid and invalid orders, hostile
 * documents (depth, duplicates, bad UTF-8, huge numbers, truncated) and
 * schemas.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FZ_SCHEMA[] =
    "{\"type\": \"object\", \"required\": [\"customer\", \"items\"],"
    " \"additionalProperties\": false,"
    " \"properties\": {"
    "  \"customer\": {\"type\": \"string\", \"format\": \"uuid\"},"
    "  \"items\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 5,"
    "    \"items\": {\"type\": \"object\", \"required\": [\"sku\"],"
    "      \"properties\": {\"sku\": {\"type\": \"string\", \"minLength\": 2,"
    "                                 \"maxLength\": 8,"
    "                                 \"pattern\": \"^[A-Za-z0-9-]+$\"},"
    "                       \"n\": {\"type\": \"integer\", \"minimum\": 1,"
    "                               \"maximum\": 9}}}},"
    "  \"mail\": {\"type\": \"string\", \"format\": \"email\"},"
    "  \"at\": {\"type\": [\"string\", \"null\"], \"format\": \"date-time\"},"
    "  \"kind\": {\"enum\": [\"a\", 2, true, null]},"
    "  \"x\": {\"additionalProperties\": {\"type\": \"number\"}}"
    " }}";

static const zt_jschema_t *fz_schema;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const char *buf = (const char *)data, *err = NULL;
    const zt_jschema_t *self;
    zt_body_fault_t f;
    apr_pool_t *p;
    int with;

    if (!ready) {
        fz_start();
        fz_schema = zt_jschema_compile(FZ_SCHEMA, strlen(FZ_SCHEMA), fz_pool,
                                       &err);
        if (fz_schema == NULL) {
            abort();
        }
        ready = 1;
    }
    apr_pool_create(&p, fz_pool);
    with = zt_jschema_check(fz_schema, buf, size, p, &f);
    if (with != 0) {
        fz_printable(&f);
    }
    if (zt_jschema_check(NULL, buf, size, p, &f) != 0) {
        fz_printable(&f);
        if (with == 0) {
            abort();
        }
    }
    self = zt_jschema_compile(buf, size, p, &err);
    if (self != NULL && zt_jschema_check(self, buf, size, p, &f) != 0) {
        fz_printable(&f);
    }
    apr_pool_destroy(p);
    return 0;
}
