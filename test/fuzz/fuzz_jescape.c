/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for JSON string escaping (zt_json_escape), which
 * writes request data (paths, claims, certificate subjects) into the
 * audit record: the input is one text, any bytes.  Besides "no crash, no
 * sanitizer report", it aborts when the escape differs from the plain
 * reference of jescape_ref.h, holds a byte outside printable ASCII, or
 * does not read back through jansson as the text (or, when the text is
 * not UTF-8, as its \xHH spelling).
 *
 * The seed corpus (test/fuzz/corpus/jescape/) holds plain text around the
 * 8-byte word, each kind of escape, UTF-8 of every length, invalid and
 * cut-short UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jescape_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    const char *wrong = zt_jescape_wrong(data, size, why, sizeof(why));

    if (wrong != NULL) {
        fprintf(stderr, "fuzz_jescape: %s\n", wrong);
        abort();
    }
    return 0;
}
