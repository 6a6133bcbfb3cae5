/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The small shared rules (zt_ascii.h, zt_word.h): a hexadecimal digit's
 * value for every byte, the UUID shape, and the short-word loads, which
 * must agree with each other and read no byte past their text (a
 * sanitizer build checks that: the texts are malloc'd to their size).
 */
#include <stdlib.h>
#include <string.h>

#include "zt_test.h"
#include "zt_ascii.h"
#include "zt_word.h"

START_TEST(hexval_every_byte)
{
    static const char digits[] = "0123456789abcdef";

    for (int c = 0; c < 256; c++) {
        const char *lo = c != 0 ? strchr(digits, c) : NULL;
        const char *up = c >= 'A' && c <= 'F' ? strchr(digits, c | 0x20) : NULL;
        int want = lo ? (int)(lo - digits) : up ? (int)(up - digits) : -1;

        ck_assert_msg(zt_hexval(c) == want, "byte 0x%02x: %d, want %d", c,
                      zt_hexval(c), want);
    }
    /* a signed char's negative value is no digit */
    ck_assert_int_eq(zt_hexval(-1), -1);
    ck_assert_int_eq(zt_hexval((char)0xc6), -1);
}
END_TEST

static int uuid(const char *s)
{
    return zt_uuid_shape(s, strlen(s));
}

START_TEST(uuid_shape)
{
    ck_assert_int_eq(uuid("9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"), 1);
    ck_assert_int_eq(uuid("9B2F0A3C-1F0E-4C1A-9A0B-2B3C4D5E6F70"), 1);
    ck_assert_int_eq(uuid("00000000-0000-0000-0000-000000000000"), 1);
    ck_assert_int_eq(uuid(""), 0);
    ck_assert_int_eq(uuid("9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7"), 0);
    ck_assert_int_eq(uuid("9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f700"), 0);
    ck_assert_int_eq(uuid("{9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7}"), 0);
    ck_assert_int_eq(uuid("9b2f0a3c1f0e-4c1a-9a0b-2b3c4d5e6f70-"), 0);
    ck_assert_int_eq(uuid("9b2f0a3g-1f0e-4c1a-9a0b-2b3c4d5e6f70"), 0);
    ck_assert_int_eq(uuid("9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7 "), 0);
    ck_assert_int_eq(uuid("urn:uuid:9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"), 0);
    /* a NUL inside is not a digit, even with the length right */
    ck_assert_int_eq(zt_uuid_shape("9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7\0", 36), 0);
    /* every dash is checked, not just the count */
    for (int i = 0; i < 36; i++) {
        char s[37] = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70";

        s[i] = s[i] == '-' ? 'a' : '-';
        ck_assert_msg(uuid(s) == 0, "accepted %s", s);
    }
}
END_TEST

START_TEST(short_loads)
{
    static const char text[] = "abcdefghijklmnop";

    for (size_t n = 0; n <= 8; n++) {
        char *own = malloc(n ? n : 1);          /* exactly its bytes */
        uint64_t want = 0;

        ck_assert_ptr_nonnull(own);
        memcpy(own, text, n);
        for (size_t k = 0; k < n; k++) {
            want |= (uint64_t)(unsigned char)text[k] << (8 * k);
        }
        ck_assert_uint_eq(zt_load_n(own, n), want);
        if (n == 8) {
            ck_assert_uint_eq(zt_load8(own), want);
        }
        if (n > 0) {
            /* the same n bytes, as the tail of a longer text */
            char *buf = malloc(8 + n);

            ck_assert_ptr_nonnull(buf);
            memset(buf, 0xff, 8);
            memcpy(buf + 8, text, n);
            ck_assert_uint_eq(zt_load_tail(buf + 8 + n, n), want);
            free(buf);
        }
        free(own);
    }
    /* bytes >= 0x80 are not sign-extended into the word */
    ck_assert_uint_eq(zt_load_n("\xff\x01", 2), 0x01ffu);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ascii");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, hexval_every_byte);
    tcase_add_test(tc, uuid_shape);
    tcase_add_test(tc, short_loads);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
