/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * JSON string escaping (zt_jescape.h), as the audit record uses it: every
 * byte value at every position of a text (the word and the short-tail
 * paths), long runs, UTF-8 characters of each length, invalid and cut
 * short UTF-8, and random texts, against the reference of jescape_ref.h
 * (which fuzz_jescape holds it to as well), jansson reading every result
 * back.  Texts are malloc'd to their size and the output to exactly
 * ZT_JSON_ESCAPE_ROOM, so a sanitizer build catches a read or write past
 * either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zt_test.h"
#include "../fuzz/jescape_ref.h"

/* ------------------------------------------------------------------ */
/* Running one text                                                    */

static void check_text(const unsigned char *s, size_t n)
{
    char why[512];
    const char *wrong = zt_jescape_wrong(s, n, why, sizeof(why));

    ck_assert_msg(wrong == NULL, "%s", wrong);
}

/* zt_json_escape of @a s (a C string) is exactly @a want. */
static void expect(const char *s, size_t n, const char *want)
{
    char *out = malloc(ZT_JSON_ESCAPE_ROOM(n));
    size_t len;

    ck_assert_ptr_nonnull(out);
    len = (size_t)(zt_json_escape(out, s, n) - out);
    ck_assert_msg(len == strlen(want) && memcmp(out, want, len) == 0,
                  "got \"%.*s\", want \"%s\"", (int)len, out, want);
    free(out);
    check_text((const unsigned char *)s, n);
}

#define EXPECT(lit, want) expect((lit), sizeof(lit) - 1, (want))

/* ------------------------------------------------------------------ */
/* Tests                                                               */

START_TEST(every_byte_alone)
{
    for (int c = 0; c < 256; c++) {
        unsigned char b = (unsigned char)c;
        char want[8];

        if (c == '"' || c == '\\') {
            snprintf(want, sizeof(want), "\\%c", c);
        }
        else if (c == '\n') {
            strcpy(want, "\\n");
        }
        else if (c == '\t') {
            strcpy(want, "\\t");
        }
        else if (c == '\r') {
            strcpy(want, "\\r");
        }
        else if (c == '\b') {
            strcpy(want, "\\b");
        }
        else if (c == '\f') {
            strcpy(want, "\\f");
        }
        else if (c < 0x20 || c == 0x7f) {
            snprintf(want, sizeof(want), "\\u%04X", c);
        }
        else if (c < 0x80) {
            want[0] = (char)c;
            want[1] = '\0';
        }
        else {
            /* no byte above 0x7F is UTF-8 on its own */
            snprintf(want, sizeof(want), "\\\\x%02X", c);
        }
        expect((const char *)&b, 1, want);
    }
}
END_TEST

/* Each byte value at each position of plain texts of 1 to 40 bytes: in a
 * text under 8 bytes, in either word of one under 16 (SSE2) and in a
 * whole step or the last (overlapping) one of a longer text, for steps
 * of 8 (words) and 16 (SSE2) bytes. */
START_TEST(every_byte_everywhere)
{
    unsigned char s[40];

    for (size_t n = 1; n <= sizeof(s); n++) {
        for (size_t at = 0; at < n; at++) {
            for (int c = 0; c < 256; c++) {
                for (size_t i = 0; i < n; i++) {
                    s[i] = (unsigned char)('a' + i % 26);
                }
                s[at] = (unsigned char)c;
                check_text(s, n);
            }
        }
    }
}
END_TEST

START_TEST(plain_and_short)
{
    EXPECT("", "");
    EXPECT("a", "a");
    EXPECT("GET", "GET");
    EXPECT("127.0.0.1", "127.0.0.1");
    EXPECT("/orders/42?x=1&y=~", "/orders/42?x=1&y=~");
    EXPECT(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~",
           " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~");
    EXPECT("a\"b\\c", "a\\\"b\\\\c");
    EXPECT("\"\"\"\"\"\"\"\"\"", "\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"");
    EXPECT("line\nnext\r\n\ttab", "line\\nnext\\r\\n\\ttab");
    EXPECT("nul\0in", "nul\\u0000in");
    EXPECT("\x1f\x7f\x01", "\\u001F\\u007F\\u0001");
}
END_TEST

START_TEST(utf8_characters)
{
    EXPECT("caf\xc3\xa9", "caf\\u00E9");                   /* U+00E9 */
    EXPECT("\xc2\x80", "\\u0080");                          /* lowest 2 */
    EXPECT("\xdf\xbf", "\\u07FF");
    EXPECT("\xe0\xa0\x80", "\\u0800");                      /* lowest 3 */
    EXPECT("\xe2\x82\xac 5", "\\u20AC 5");                  /* euro */
    EXPECT("\xed\x9f\xbf", "\\uD7FF");                      /* below the
                                                             * surrogates */
    EXPECT("\xee\x80\x80", "\\uE000");
    EXPECT("\xef\xbf\xbf", "\\uFFFF");
    EXPECT("\xf0\x90\x80\x80", "\\uD800\\uDC00");           /* U+10000 */
    EXPECT("\xf0\x9f\x98\x80!", "\\uD83D\\uDE00!");         /* U+1F600 */
    EXPECT("\xf4\x8f\xbf\xbf", "\\uDBFF\\uDFFF");           /* U+10FFFF */
    EXPECT("a\"\xc3\xa9\n\xe2\x82\xac\\", "a\\\"\\u00E9\\n\\u20AC\\\\");
}
END_TEST

/* One invalid sequence anywhere makes every byte above 0x7F \xHH,
 * before it and after it too. */
START_TEST(invalid_utf8)
{
    EXPECT("\xc0\xaf", "\\\\xC0\\\\xAF");                   /* overlong / */
    EXPECT("\xc1\xbf", "\\\\xC1\\\\xBF");
    EXPECT("\xe0\x80\xaf", "\\\\xE0\\\\x80\\\\xAF");        /* overlong 3 */
    EXPECT("\xf0\x80\x80\xaf", "\\\\xF0\\\\x80\\\\x80\\\\xAF");
    EXPECT("\xed\xa0\x80", "\\\\xED\\\\xA0\\\\x80");        /* surrogate */
    EXPECT("\xed\xbf\xbf", "\\\\xED\\\\xBF\\\\xBF");
    EXPECT("\xf4\x90\x80\x80", "\\\\xF4\\\\x90\\\\x80\\\\x80"); /* > 10FFFF */
    EXPECT("\xf5\x80\x80\x80", "\\\\xF5\\\\x80\\\\x80\\\\x80");
    EXPECT("\x80", "\\\\x80");                              /* lone */
    EXPECT("a\xbf" "b", "a\\\\xBFb");
    EXPECT("\xc3\xa9\xff", "\\\\xC3\\\\xA9\\\\xFF");        /* valid first */
    EXPECT("\xff\xc3\xa9", "\\\\xFF\\\\xC3\\\\xA9");        /* valid after */
    EXPECT("\xc3\xa9 \"\x01\xfe", "\\\\xC3\\\\xA9 \\\"\\u0001\\\\xFE");
    EXPECT("\xc3" "a", "\\\\xC3a");                         /* cut by ASCII */
}
END_TEST

/* A character cut short by the end of the text, at every length. */
START_TEST(truncated_at_the_end)
{
    static const char *chars[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"
    };
    unsigned char s[64];

    for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
        size_t len = strlen(chars[c]);

        for (size_t prefix = 0; prefix < 20; prefix++) {
            for (size_t cut = 1; cut < len; cut++) {
                char want[128], *o = want;

                memset(s, 'p', prefix);
                memcpy(s + prefix, chars[c], cut);
                o += sprintf(o, "%.*s", (int)prefix, (const char *)s);
                for (size_t i = 0; i < cut; i++) {
                    o += sprintf(o, "\\\\x%02X", s[prefix + i]);
                }
                expect((const char *)s, prefix + cut, want);
                /* the whole character there is one \u escape */
                memcpy(s + prefix, chars[c], len);
                check_text(s, prefix + len);
            }
        }
    }
}
END_TEST

START_TEST(long_runs)
{
    size_t n = 100000;
    unsigned char *s = malloc(n);

    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++) {
        s[i] = (unsigned char)(' ' + i % 95);
        if (s[i] == '"' || s[i] == '\\') {
            s[i] = 'x';
        }
    }
    check_text(s, n);                   /* one plain run */
    s[n - 1] = '"';
    check_text(s, n);                   /* the last byte only */
    s[0] = '\\';
    check_text(s, n);                   /* the first and the last */
    memset(s, 0x01, n);
    check_text(s, n);                   /* every byte the longest escape */
    memset(s, 0xff, n);
    check_text(s, n);                   /* every byte \xFF */
    for (size_t i = 0; i + 4 <= n; i += 4) {
        memcpy(s + i, "\xf0\x9f\x98\x80", 4);
    }
    check_text(s, n);                   /* 25000 surrogate pairs */
    s[n - 1] = 'a';
    check_text(s, n);                   /* ... but the last cut short */
    free(s);
}
END_TEST

/* Random texts, biased to the bytes that matter, against the reference:
 * reproducible (a fixed xorshift seed). */
START_TEST(random_texts)
{
    static const char *pieces[] = {
        "a", "Z", "/", " ", "~", "\"", "\\", "\n", "\x01", "\x1f", "\x7f",
        "\x80", "\xbf", "\xc0", "\xff", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "abcdefgh",
        "\xe2\x82", "\0"
    };
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned char s[256];

    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        int ascii_only = round % 3 == 0;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (int k = (int)(x % 40); k > 0; k--) {
            const char *p;
            size_t len;

            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p = pieces[x % (ascii_only ? 11 : npieces)];
            len = *p ? strlen(p) : 1;
            if (n + len > sizeof(s)) {
                break;
            }
            memcpy(s + n, p, len);
            n += len;
        }
        check_text(s, n);
    }
}
END_TEST

/* Nothing is written past the room the header promises, however the
 * text ends. */
START_TEST(stays_in_its_room)
{
    unsigned char s[24];

    for (size_t n = 0; n <= sizeof(s); n++) {
        for (int fill = 0; fill < 3; fill++) {
            size_t room = ZT_JSON_ESCAPE_ROOM(n);
            char *out = malloc(room + 16);

            ck_assert_ptr_nonnull(out);
            memset(s, fill == 0 ? 'a' : fill == 1 ? 0x01 : 0xff, n);
            memset(out, '#', room + 16);
            zt_json_escape(out, (const char *)s, n);
            for (size_t i = room; i < room + 16; i++) {
                ck_assert_msg(out[i] == '#', "%zu bytes: wrote at %zu of %zu",
                              n, i, room);
            }
            free(out);
        }
    }
}
END_TEST

/* zt_json_plain_strings agrees with the escaper on every byte: plain
 * exactly when zt_json_escape writes it as it is; NULs part strings. */
START_TEST(plain_strings)
{
    for (int c = 1; c < 256; c++) {
        char in[4] = { 'a', (char)c, '\0', 'b' };
        char out[ZT_JSON_ESCAPE_ROOM(1)];
        int same = zt_json_escape(out, in + 1, 1) == out + 1
                   && out[0] == (char)c;

        ck_assert_int_eq(zt_json_plain_strings(in, sizeof(in)), same);
        ck_assert_int_eq(zt_json_plain_strings(in + 1, 1), same);
    }
    ck_assert_int_eq(zt_json_plain_strings("", 0), 1);
    ck_assert_int_eq(zt_json_plain_strings("\0/orders\0api.ztp:12\0", 19), 1);
    ck_assert_int_eq(zt_json_plain_strings("\0/orders\0caf\xc3\xa9\0", 15), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jescape");
    TCase *tc = tcase_create("escape");

    tcase_add_test(tc, every_byte_alone);
    tcase_add_test(tc, every_byte_everywhere);
    tcase_add_test(tc, plain_and_short);
    tcase_add_test(tc, utf8_characters);
    tcase_add_test(tc, invalid_utf8);
    tcase_add_test(tc, truncated_at_the_end);
    tcase_add_test(tc, long_runs);
    tcase_add_test(tc, random_texts);
    tcase_add_test(tc, stays_in_its_room);
    tcase_add_test(tc, plain_strings);
    zt_test_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
