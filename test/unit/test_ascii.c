/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The small shared rules (zt_ascii.h, zt_word.h): a hexadecimal digit's
 * value for every byte, the UUID shape, a directive's number (range,
 * suffixes, no wrap-around), the control bytes of a word, and the
 * short-word loads, which must agree with each other and read no byte
 * past their text (a sanitizer build checks that: the texts are malloc'd
 * to their size).
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

/* The shape as a byte loop: what zt_uuid_shape's words must say. */
static int uuid_ref(const char *s, size_t n)
{
    if (n != 36) {
        return 0;
    }
    for (size_t i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                  || (c >= 'A' && c <= 'F');

        if (dash ? c != '-' : !hex) {
            return 0;
        }
    }
    return 1;
}

/* Every byte value at every place of a UUID, alone and beside another
 * odd byte (a borrow or carry between bytes would show there), in a
 * block of exactly 36 bytes (ASan sees a read past it). */
START_TEST(uuid_shape_every_byte)
{
    static const char good[] = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70";
    static const unsigned char odd[] = { 0x00, 0x2f, 0x3a, 0x40, 0x47, 0x60,
                                         0x67, 0x7f, 0x80, 0xb0, 0xc6, 0xff };
    char *s = malloc(36);

    for (int i = 0; i < 36; i++) {
        for (int c = 0; c < 256; c++) {
            memcpy(s, good, 36);
            s[i] = (char)c;
            ck_assert_msg(zt_uuid_shape(s, 36) == uuid_ref(s, 36),
                          "byte 0x%02x at %d", c, i);
            for (size_t k = 0; k < sizeof(odd); k++) {
                int j = (i + 1 + (int)k * 5) % 36;

                s[j] = (char)odd[k];
                ck_assert_msg(zt_uuid_shape(s, 36) == uuid_ref(s, 36),
                              "byte 0x%02x at %d, 0x%02x at %d", c, i,
                              odd[k], j);
                s[j] = good[j];
            }
        }
    }
    free(s);
}
END_TEST

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

/* zt_parse_number's answer, and what it stored (or 777: nothing). */
static uint64_t num(const char *s, int suffixes, uint64_t min, uint64_t max,
                    int *ok)
{
    uint64_t n = 777;

    *ok = zt_parse_number(s, suffixes, min, max, &n);
    ck_assert_msg(*ok || n == 777, "'%s' refused but stored %llu", s,
                  (unsigned long long)n);
    return n;
}

#define NUM_OK(s, suf, min, max, want) do {                            \
        int ok_;                                                        \
        uint64_t got_ = num(s, suf, min, max, &ok_);                    \
        ck_assert_msg(ok_ && got_ == (uint64_t)(want),                  \
                      "'%s': %d %llu, want %llu", s, ok_,               \
                      (unsigned long long)got_,                         \
                      (unsigned long long)(want));                      \
    } while (0)
#define NUM_NO(s, suf, min, max) do {                                  \
        int ok_;                                                        \
        num(s, suf, min, max, &ok_);                                    \
        ck_assert_msg(!ok_, "'%s' accepted", s);                        \
    } while (0)

START_TEST(number_counts)
{
    NUM_OK("0", 0, 0, 300, 0);
    NUM_OK("300", 0, 0, 300, 300);
    NUM_OK("0060", 0, 1, 3600, 60);         /* leading zeros are digits */
    NUM_OK("16", 0, 16, 1000000, 16);
    NUM_NO("15", 0, 16, 1000000);           /* below min */
    NUM_NO("301", 0, 0, 300);               /* above max */
    NUM_NO("", 0, 0, 300);                  /* empty */
    NUM_NO("-1", 0, 0, 300);                /* negative */
    NUM_NO("-0", 0, 0, 300);
    NUM_NO("+5", 0, 0, 300);                /* no sign at all */
    NUM_NO(" 5", 0, 0, 300);                /* no space either side */
    NUM_NO("5 ", 0, 0, 300);
    NUM_NO("5x", 0, 0, 300);                /* trailing junk */
    NUM_NO("5.0", 0, 0, 300);
    NUM_NO("0x10", 0, 0, 300);
    NUM_NO("1e3", 0, 0, 3600);
    NUM_NO("8K", 0, 0, 1000000);            /* a count takes no suffix */
    NUM_NO("1G", 0, 0, UINT64_MAX);
    /* Overflow: past max, past 2^63 and past 2^64, never wrapped. */
    NUM_NO("4294967297", 0, 0, 16777216);
    NUM_NO("9223372036854775808", 0, 0, INT64_MAX);
    NUM_NO("18446744073709551616", 0, 0, UINT64_MAX);
    NUM_NO("99999999999999999999999999999999999999", 0, 0, 5);
    NUM_NO("18446744073709551619", 0, 0, 5);     /* 2^64 + 3: not 3 */
    NUM_NO("99999999999999999999999999999999999999", 0, 0, UINT64_MAX);
    NUM_OK("18446744073709551615", 0, 0, UINT64_MAX, UINT64_MAX);
    NUM_OK("9223372036854775807", 0, 0, INT64_MAX, INT64_MAX);
}
END_TEST

START_TEST(number_sizes)
{
    const uint64_t G = (uint64_t)1 << 30;

    NUM_OK("65536", 1, 65536, G, 65536);
    NUM_OK("64K", 1, 65536, G, 65536);
    NUM_OK("64k", 1, 65536, G, 65536);
    NUM_OK("4M", 1, 65536, G, 4u << 20);
    NUM_OK("1G", 1, 65536, G, G);
    NUM_OK("1g", 1, 65536, G, G);
    NUM_OK("1048576K", 1, 65536, G, G);
    NUM_NO("1025M", 1, 65536, G);           /* above max by the suffix */
    NUM_NO("2G", 1, 65536, G);
    NUM_NO("63K", 1, 65536, G);             /* below min */
    NUM_NO("0K", 1, 1, G);
    NUM_NO("K", 1, 0, G);                   /* a suffix alone */
    NUM_NO("", 1, 0, G);
    NUM_NO("-1K", 1, 0, G);
    NUM_NO("12X", 1, 0, G);
    NUM_NO("1KB", 1, 0, G);                 /* one suffix letter, no more */
    NUM_NO("1KK", 1, 0, G);
    NUM_NO("1 K", 1, 0, G);
    NUM_NO("1.5K", 1, 0, G);
    NUM_NO("1T", 1, 0, UINT64_MAX);
    /* 2^34 G is 2^64: refused, not wrapped to 0. */
    NUM_NO("17179869184G", 1, 0, UINT64_MAX);
    NUM_OK("17179869183G", 1, 0, UINT64_MAX, (((uint64_t)1 << 34) - 1) * G);
    NUM_NO("18446744073709551616", 1, 0, UINT64_MAX);
}
END_TEST

/* zt_put_decimal writes what printf's %lld does, around every power of
 * ten and at the ends of the range. */
START_TEST(decimal_as_printf)
{
    int64_t vals[64];
    int n = 0;
    int64_t p = 1;

    for (int k = 0; k < 19; k++) {
        vals[n++] = p - 1;
        vals[n++] = p;
        vals[n++] = -p;
        if (k < 18) {
            p *= 10;            /* 10^18 is the last power in int64 */
        }
    }
    vals[n++] = INT64_MAX;
    vals[n++] = INT64_MIN;
    vals[n++] = 42;
    for (int i = 0; i < n; i++) {
        char got[32], want[32], *end;

        memset(got, 'x', sizeof(got));
        end = zt_put_decimal(got, vals[i]);
        *end = '\0';
        snprintf(want, sizeof(want), "%lld", (long long)vals[i]);
        ck_assert_str_eq(got, want);
        ck_assert_int_le((int)(end - got), 20);
    }
}
END_TEST

/* Every value below 10^6 and around 10^8 (where zt_put_decimal changes
 * its way of writing), positive and negative, as printf's %lld. */
START_TEST(decimal_ranges_as_printf)
{
    static const int64_t from[] = { 0, 99999000, 999999000 };
    static const int64_t count[] = { 1000001, 2001, 2001 };

    for (int k = 0; k < 3; k++) {
        for (int64_t v = from[k]; v < from[k] + count[k]; v++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                char got[32], want[32], *end;

                end = zt_put_decimal(got, sign * v);
                *end = '\0';
                snprintf(want, sizeof(want), "%lld", (long long)(sign * v));
                if (strcmp(got, want) != 0) {
                    ck_abort_msg("%lld: got %s", (long long)(sign * v), got);
                }
            }
        }
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

/* zt_controls8 marks exactly the control bytes (below 0x20, and DEL) of a
 * word: every pair of byte values side by side at every place, the other
 * bytes each of a few fillers, so that a carry or borrow from one byte
 * into its neighbour would show. */
START_TEST(controls8_every_pair)
{
    static const unsigned char fill[] = { 0x00, 0x1f, 0x20, 'a', 0x7f, 0x80, 0xff };

    for (size_t f = 0; f < sizeof(fill); f++) {
        for (int i = 0; i < 7; i++) {
            for (int a = 0; a < 256; a++) {
                for (int b = 0; b < 256; b++) {
                    unsigned char bytes[8];
                    uint64_t w = 0, want = 0;

                    memset(bytes, fill[f], sizeof(bytes));
                    bytes[i] = (unsigned char)a;
                    bytes[i + 1] = (unsigned char)b;
                    for (int k = 0; k < 8; k++) {
                        w |= (uint64_t)bytes[k] << (8 * k);
                        if (bytes[k] < 0x20 || bytes[k] == 0x7f) {
                            want |= (uint64_t)0x80 << (8 * k);
                        }
                    }
                    if (zt_controls8(w) != want) {
                        ck_abort_msg("0x%02x 0x%02x at %d, fill 0x%02x: "
                                     "%016llx, want %016llx", a, b, i,
                                     fill[f], (unsigned long long)zt_controls8(w),
                                     (unsigned long long)want);
                    }
                }
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ascii");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, hexval_every_byte);
    tcase_add_test(tc, uuid_shape);
    tcase_add_test(tc, uuid_shape_every_byte);
    tcase_add_test(tc, number_counts);
    tcase_add_test(tc, number_sizes);
    tcase_add_test(tc, short_loads);
    tcase_add_test(tc, controls8_every_pair);
    tcase_add_test(tc, decimal_as_printf);
    tcase_add_test(tc, decimal_ranges_as_printf);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
