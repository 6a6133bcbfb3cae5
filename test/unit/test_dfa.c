/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* Patterns as automata (zt_dfa.c): what they match, the error each
 * unsupported construct gives and where, hostile images refused by the
 * verifier, and a comparison with PCRE2 over generated patterns and
 * strings, which must agree on every one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "zt_test.h"
#include "zt_dfa.h"

#ifdef ZT_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

ZT_TEST_POOL_FIXTURE

static const void *compile_ok(const char *re, size_t *len)
{
    char err[256];
    const void *img = NULL;
    size_t n = 0;

    ck_assert_msg(zt_dfa_compile(re, strlen(re), pool, &img, &n, err,
                                 sizeof(err)) == 0, "/%s/: %s", re, err);
    ck_assert_msg(zt_dfa_verify(img, n), "/%s/: %s", re, zt_dfa_problem(img, n));
    if (len != NULL) {
        *len = n;
    }
    return img;
}

static int matches(const void *img, const char *s)
{
    return zt_dfa_match(img, s, strlen(s));
}

/* ------------------------------------------------------------------ */

static const struct {
    const char *re, *s;
    int want;
} match_cases[] = {
    { "^[A-Za-z0-9_-]+$", "order_42-x", 1 },
    { "^[A-Za-z0-9_-]+$", "", 0 },
    { "^[A-Za-z0-9_-]+$", "a b", 0 },
    { "^[A-Za-z0-9_-]+$", "a\n", 0 },           /* '$' is the end, not before \n */
    { "[A-Za-z0-9_-]+", "abc", 1 },             /* anchored without ^ $ too */
    { "[A-Za-z0-9_-]+", "abc!", 0 },
    { "b", "abc", 0 },                          /* no search: whole string */
    { "a|b", "a", 1 },
    { "a|b", "ab", 0 },
    { "^a|b$", "b", 1 },
    { "(ab)*", "", 1 },
    { "(ab)*", "abab", 1 },
    { "(ab)*", "aba", 0 },
    { "(?:ab)+c?", "abc", 1 },
    { "(?<word>[a-z]+)-\\d{2,4}", "ab-123", 1 },
    { "(?<word>[a-z]+)-\\d{2,4}", "ab-12345", 0 },
    { "a{3}", "aaa", 1 },
    { "a{3}", "aa", 0 },
    { "a{2,}", "aaaaaaa", 1 },
    { "a{2,}", "a", 0 },
    { "a{0,2}", "", 1 },
    { "a{0}", "", 1 },
    { "a{0}", "a", 0 },
    { "x*?y+?z??", "xyyz", 1 },                 /* lazy: same whole-string match */
    { "\\d+\\.\\d+", "3.14", 1 },
    { "\\d+\\.\\d+", "3x14", 0 },
    { "\\w\\s\\W\\S", "a !b", 1 },
    { "\\w\\s\\W\\S", "a\t\xc3\xa9\xc3\xa9", 1 },  /* \W \S: a whole UTF-8 character */
    { "[^a]", "\xc3\xa9", 1 },
    { "[^a]", "\xc3", 0 },                      /* a stray byte is no character */
    { "[^a]", "\xff", 0 },
    { ".", "\n", 0 },
    { ".", "\r", 1 },
    { ".", "\xe2\x82\xac", 1 },                 /* euro sign, 3 bytes */
    { ".", "\xed\xa0\x80", 0 },                 /* a surrogate is not UTF-8 */
    { ".", "\xc0\x80", 0 },                     /* overlong */
    { "\xc3\xa9+", "\xc3\xa9\xc3\xa9", 1 },     /* the quantifier repeats the character */
    { "\xc3\xa9+", "\xc3\xa9\xa9", 0 },
    { "[]a]+", "]a]", 1 },                      /* ']' first is a member */
    { "[a-]+", "-a", 1 },
    { "[\\]\\\\]", "\\", 1 },
    { "\\/\\.\\-", "/.-", 1 },
    { "\\x41\\t", "A\t", 1 },
    { "a}]", "a}]", 1 },                        /* lone } ] are characters */
    { "[^\\s\\S]", "a", 0 },                    /* matches nothing at all */
    { "[^\\s\\S]", "", 0 },
    { "", "", 1 },
    { "", "a", 0 },
    { "(|a)b", "b", 1 },
    { "((((a))))", "a", 1 },
};

START_TEST(test_match_cases)
{
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const void *img = compile_ok(match_cases[i].re, NULL);
        ck_assert_msg(matches(img, match_cases[i].s) == match_cases[i].want,
                      "/%s/ on \"%s\": want %d", match_cases[i].re,
                      match_cases[i].s, match_cases[i].want);
    }
}
END_TEST

/* A NUL inside the subject is a byte like any other: lengths, not C strings. */
START_TEST(test_match_nul)
{
    const void *img = compile_ok("a.b", NULL);

    ck_assert_int_eq(zt_dfa_match(img, "a\0b", 3), 1);
    ck_assert_int_eq(zt_dfa_match(img, "a\0", 2), 0);
}
END_TEST

/* A NUL inside the pattern (the API takes a length) is never read as a
 * quantifier: "a\0" must not become a*. */
START_TEST(test_pattern_nul)
{
    const void *img;
    size_t len;
    char err[256];

    if (zt_dfa_compile("a\0", 2, pool, &img, &len, err, sizeof(err)) == 0) {
        ck_assert_int_eq(zt_dfa_match(img, "", 0), 0);
        ck_assert_int_eq(zt_dfa_match(img, "aaaa", 4), 0);
        ck_assert_int_eq(zt_dfa_match(img, "a\0", 2), 1);
    }
    else {
        ck_assert_msg(err[0] != '\0', "a refusal says why");
    }
}
END_TEST

/* Equal languages make equal images: the DFA is minimal. */
START_TEST(test_minimal)
{
    size_t n1, n2;
    const void *a = compile_ok("(a|b)*abb", &n1);
    const void *b = compile_ok("[ab]*a(bb)", &n2);

    ck_assert_uint_eq(zt_dfa_nstates(a), 5);    /* 4 of the textbook + dead */
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(a, b, n1) == 0);
    ck_assert_uint_eq(zt_dfa_nstates(compile_ok("[a-z]{1,64}", NULL)), 66);
    /* canonical: the same language always gives the same bytes */
    static const char *const same[][3] = {
        { "[a-c]+", "(a|b|c)(?:[cba])*", "^[abc]{1,}$" },
        { "x?", "(x|)", "x{0,1}?" },
        { "\\d{2}|\\d\\d", "[0-9][0-9]", "(?:[0-4]|[5-9]){2}" },
        { "[^\\s\\S]", "[^\\w\\W]", "[^\\d\\D]+" },
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        size_t na, nb;
        const void *x = compile_ok(same[i][0], &na);

        for (int k = 1; k < 3; k++) {
            const void *y = compile_ok(same[i][k], &nb);
            ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "/%s/ and /%s/ "
                          "differ", same[i][0], same[i][k]);
        }
    }
}
END_TEST

/* Linear: a subject that makes backtrackers explode, matched at once. */
START_TEST(test_no_backtracking)
{
    const void *img = compile_ok("(a|aa)*(a|b)*c", NULL);
    char *s = apr_palloc(pool, 1 << 20);

    memset(s, 'a', 1 << 20);
    ck_assert_int_eq(zt_dfa_match(img, s, 1 << 20), 0);
    s[(1 << 20) - 1] = 'c';
    ck_assert_int_eq(zt_dfa_match(img, s, 1 << 20), 1);
}
END_TEST

/* ------------------------------------------------------------------ */

static const struct {
    const char *re;
    const char *msg;        /* a part of the message */
    size_t off, len;        /* where the construct is */
} error_cases[] = {
    { "(a)\\1", "the back-reference '\\1' cannot be matched without backtracking", 3, 2 },
    { "(?<n>a)\\k<n>", "the named back-reference '\\k<'", 7, 3 },
    { "a\\g1", "the back-reference '\\g'", 1, 2 },
    { "a(?=b)", "the look-ahead '(?='", 1, 3 },
    { "a(?!b)", "the look-ahead '(?!'", 1, 3 },
    { "(?<=a)b", "the look-behind '(?<='", 0, 4 },
    { "(?<!a)b", "the look-behind '(?<!'", 0, 4 },
    { "(?>a+)b", "the atomic group '(?>'", 0, 3 },
    { "a++", "the possessive quantifier '++'", 1, 2 },
    { "a{2}+", "the possessive quantifier '{2}+'", 1, 4 },
    { "(?i)abc", "inline flags '(?i'", 0, 3 },
    { "(?(1)a|b)", "the conditional group '(?('", 0, 3 },
    { "(?R)", "the recursion '(?R'", 0, 3 },
    { "a\\b", "the assertion '\\b'", 1, 2 },
    { "\\Aa", "the assertion '\\A'", 0, 2 },
    { "\\p{L}", "the Unicode property '\\p'", 0, 2 },
    { "[[:alpha:]]", "the POSIX class '[:'", 1, 2 },
    { "\\q", "unknown escape '\\q'", 0, 2 },
    { "a\\", "a '\\' at the end", 1, 1 },
    { "\\x8f", "a byte above \\x7f", 0, 4 },
    { "\\xz", "'\\x' needs two hexadecimal digits", 0, 2 },
    { "(ab", "unbalanced '(': no ')' closes it", 0, 1 },
    { "a(b(c)", "unbalanced '('", 1, 1 },
    { "ab)", "unbalanced ')': no '(' opens it", 2, 1 },
    { "[abc", "unterminated class: no ']' closes this '['", 0, 1 },
    { "[z-a]", "bad range 'z-a'", 1, 3 },
    { "[\\d-z]", "bad range '\\d-'", 1, 3 },
    { "[a-\\w]", "bad range 'a-\\w'", 1, 4 },
    { "[\xc3\xa9]", "a non-ASCII character in a class", 1, 1 },
    { "a{3,2}", "count '{3,2}': the first number is greater", 1, 5 },
    { "a{1001}", "count '{1001}' is above the limit of 1000", 1, 6 },
    { "a{99999999999999999999}", "above the limit of 1000", 1, 22 },
    { "a{,3}", "'{' starts no count", 1, 1 },
    { "a{x}", "'{' starts no count", 1, 1 },
    { "*a", "nothing to repeat before '*'", 0, 1 },
    { "a|+", "nothing to repeat before '+'", 2, 1 },
    { "(?:)?{2}", "a quantifier '{' after a quantifier", 5, 1 },
    { "a**", "a quantifier '*' after a quantifier", 2, 1 },
    { "a^b", "'^' is only allowed at the start", 1, 1 },
    { "a$b", "'$' is only allowed at the end", 1, 1 },
    { "(a$)", "'$' is only allowed at the end", 2, 1 },
    { "a\xff", "not valid UTF-8", 1, 1 },
    { "a\xc3(", "not valid UTF-8", 1, 1 },
    { "(?x", "inline flags '(?x'", 0, 3 },
    { "(?", "unknown group", 0, 2 },
    { "(a{1000}){100}", "more than 65536 NFA states", 0, 14 },
    { "[ab]*a[ab]{20}", "needs more than 4096 automaton states", 0, 14 },
    { "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a"
      "))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
      "groups nested deeper than 64", 64, 1 },
};

START_TEST(test_errors)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const char *re = error_cases[i].re;
        char err[256];
        const void *img = (const void *)1;
        size_t n = 1, off = 99, len = 99;

        ck_assert_msg(zt_dfa_compile_at(re, strlen(re), pool, &img, &n, err,
                                        sizeof(err), &off, &len) == -1,
                      "/%s/ compiled", re);
        ck_assert_msg(img == NULL && n == 0, "/%s/: image left set", re);
        ck_assert_msg(strstr(err, error_cases[i].msg) != NULL,
                      "/%s/: \"%s\" lacks \"%s\"", re, err, error_cases[i].msg);
        ck_assert_msg(off == error_cases[i].off && len == error_cases[i].len,
                      "/%s/: at %zu+%zu, want %zu+%zu (%s)", re, off, len,
                      error_cases[i].off, error_cases[i].len, err);
    }
}
END_TEST

/* zt_dfa_compile puts the column in the message; a tiny buffer is cut. */
START_TEST(test_error_text)
{
    char err[256], tiny[8];
    const void *img;
    size_t n;

    ck_assert_int_eq(zt_dfa_compile("ab(?=c)", 7, pool, &img, &n, err,
                                     sizeof(err)), -1);
    ck_assert_str_eq(err, "the look-ahead '(?=' cannot be matched without "
                     "backtracking; patterns compile to automata, which "
                     "match in linear time, at column 3");
    ck_assert_int_eq(zt_dfa_compile("\\1", 2, pool, &img, &n, tiny,
                                     sizeof(tiny)), -1);
    ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
    ck_assert_int_eq(zt_dfa_compile("\\1", 2, pool, &img, &n, NULL, 0), -1);
}
END_TEST

/* ------------------------------------------------------------------ */

/* An aligned, writable copy of a compiled image. */
static uint8_t *image_copy(const char *re, size_t *len)
{
    const void *img = compile_ok(re, len);
    uint8_t *c = apr_palloc(pool, *len + 8);

    memcpy(c, img, *len);
    return c;
}

START_TEST(test_verify_hostile)
{
    size_t n;
    uint8_t *img = image_copy("[a-c]+x{2}", &n);
    zt_dfa_hdr_t *h = (zt_dfa_hdr_t *)img;
    uint32_t *next = (uint32_t *)(h + 1);
    uint8_t *accept = (uint8_t *)(next + h->nstates * h->nclasses);

    ck_assert(zt_dfa_verify(img, n));
    ck_assert(!zt_dfa_verify(NULL, n));
    ck_assert(!zt_dfa_verify(img + 1, n - 8));      /* misaligned */
    for (size_t k = 0; k < n; k += 8) {
        ck_assert_msg(!zt_dfa_verify(img, k), "truncated to %zu", k);
    }
#define HOSTILE(stmt, why)                                                    \
    do {                                                                      \
        uint8_t *save = apr_pmemdup(pool, img, n);                            \
        stmt;                                                                 \
        ck_assert_msg(zt_dfa_problem(img, n) != NULL                          \
                      && strstr(zt_dfa_problem(img, n), why) != NULL,         \
                      "%s: %s", #stmt, zt_dfa_problem(img, n));               \
        memcpy(img, save, n);                                                 \
    } while (0)
    HOSTILE(h->magic ^= 1, "magic");
    HOSTILE(h->len += 8, "length");
    HOSTILE(h->nstates = 1, "state count");
    HOSTILE(h->nstates = ZT_DFA_MAX_STATES + 1, "state count is outside 2..4096");
    HOSTILE(h->nstates += 1, "does not fit");
    HOSTILE(h->nclasses = 0, "class count");
    HOSTILE(h->nclasses = 257, "class count");
    HOSTILE(h->cls['a'] = (uint8_t)h->nclasses, "class past");
    HOSTILE(next[h->nclasses] = h->nstates * h->nclasses, "past the last state");
    HOSTILE(next[h->nstates * h->nclasses - 1] = 0xffffffff, "past the last state");
    HOSTILE(next[h->nclasses] = 1, "inside a row");
    HOSTILE(next[0] = h->nclasses, "dead state 0 has an edge");
    HOSTILE(accept[0] = 1, "dead state accepts");
    HOSTILE(accept[1] = 2, "not 0 or 1");
    HOSTILE(img[n - 1] = 1, "padding");
#undef HOSTILE
    ck_assert(zt_dfa_verify(img, n));
}
END_TEST

/* Every single bit flipped: the verifier refuses it, or it still matches
 * without reading outside the image (ASan builds check that). */
START_TEST(test_verify_flips)
{
    size_t n;
    uint8_t *img = image_copy("(?:[a-z]{2,5}-\\d+|\xc3\xa9.)+", &n);
    static const char *subjects[] = { "ab-1", "\xc3\xa9x", "zz-9abc-0", "", "-" };

    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            img[i] ^= (uint8_t)(1u << bit);
            if (zt_dfa_verify(img, n)) {
                for (size_t k = 0; k < sizeof(subjects) / sizeof(subjects[0]); k++) {
                    (void)zt_dfa_match(img, subjects[k], strlen(subjects[k]));
                }
            }
            img[i] ^= (uint8_t)(1u << bit);
        }
    }
    ck_assert(zt_dfa_verify(img, n));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Against PCRE2                                                       */

/* A tiny deterministic generator (xorshift), so a failure repeats. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const char *s)
{
    size_t n = strlen(s);

    if (b->len + n + 1 > b->cap) {
        return;                     /* generated text is small; cut if not */
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static const char *const atoms[] = {
    "a", "b", "c", "-", "\xc3\xa9", "\xe2\x82\xac", ".", "\\d", "\\w", "\\s",
    "\\D", "\\W", "\\S", "[ab]", "[^a]", "[a-c]", "[^\\d\\s]", "[-a]", "[\\w-]",
    "\\.", "\\x41", "[^\\x00-\\x60]", "\\t",
};

static void gen_re(buf_t *b, int depth)
{
    int n = 1 + (int)rnd(3);

    for (int i = 0; i < n; i++) {
        uint32_t k = rnd(10);

        if (depth < 3 && k < 2) {
            put(b, rnd(2) ? "(" : "(?:");
            gen_re(b, depth + 1);
            if (rnd(3) == 0) {
                put(b, "|");
                gen_re(b, depth + 1);
            }
            put(b, ")");
        }
        else {
            put(b, atoms[rnd(sizeof(atoms) / sizeof(atoms[0]))]);
        }
        switch (rnd(12)) {
        case 0: put(b, "*"); break;
        case 1: put(b, "+"); break;
        case 2: put(b, "?"); break;
        case 3: put(b, "{2}"); break;
        case 4: put(b, "{1,3}"); break;
        case 5: put(b, "{0,}"); break;
        case 6: put(b, rnd(2) ? "*?" : "{2,}"); break;
        default: break;
        }
    }
    if (depth == 0 && rnd(6) == 0) {
        put(b, "|");
        gen_re(b, 1);
    }
}

static const char *const pieces[] = {
    "a", "b", "c", "-", "A", "1", "_", " ", "\t", "\n", "\xc3\xa9",
    "\xe2\x82\xac", "\xc3", "\xff", "\xed\xa0\x80", ".", "\x7f", "",
};

static void gen_subject(buf_t *b)
{
    int n = (int)rnd(9);

    for (int i = 0; i < n; i++) {
        put(b, pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
    }
}

START_TEST(test_pcre2_agrees)
{
#ifdef ZT_HAVE_PCRE2
    enum { NRE = 3000, NSUBJ = 60 };
    char re_text[512], subj_text[128];
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    long compared = 0, positive = 0, mismatches = 0, too_big = 0;

    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    rng_state = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < NRE; i++) {
        buf_t r = { re_text, 0, sizeof(re_text) };
        const void *img;
        size_t n, eoff;
        char err[256];
        int ecode;
        pcre2_code *code;

        re_text[0] = '\0';
        if (rnd(8) == 0) {
            put(&r, "^");
        }
        gen_re(&r, 0);
        if (rnd(8) == 0 && r.len > 0 && re_text[r.len - 1] != '\\') {
            put(&r, "$");
        }
        if (zt_dfa_compile(re_text, r.len, pool, &img, &n, err, sizeof(err)) < 0) {
            /* only the state limit may refuse a generated pattern */
            ck_assert_msg(strstr(err, "automaton states") != NULL, "/%s/: %s",
                          re_text, err);
            too_big++;
            continue;
        }
        code = pcre2_compile((PCRE2_SPTR)re_text, r.len,
                             PCRE2_UTF | PCRE2_ANCHORED
                             | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY,
                             &ecode, &eoff, cc);
        ck_assert_msg(code != NULL, "PCRE2 refuses /%s/ (%d at %zu)", re_text,
                      ecode, eoff);
        for (int j = 0; j < NSUBJ; j++) {
            buf_t s = { subj_text, 0, sizeof(subj_text) };
            int mine, theirs;

            subj_text[0] = '\0';
            gen_subject(&s);
            mine = zt_dfa_match(img, subj_text, s.len);
            /* invalid UTF-8 is an error to PCRE2, no match to the DFA */
            theirs = pcre2_match(code, (PCRE2_SPTR)subj_text, s.len, 0, 0, md,
                                 NULL) >= 0;
            if (theirs) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                ck_assert_msg(ov[0] == 0 && ov[1] == s.len, "PCRE2 matched "
                              "part of \"%s\" with /%s/", subj_text, re_text);
            }
            compared++;
            positive += theirs;
            if (mine != theirs && mismatches++ < 10) {
                fprintf(stderr, "mismatch: /%s/ on \"%s\": dfa %d, pcre2 %d\n",
                        re_text, subj_text, mine, theirs);
            }
        }
        pcre2_code_free(code);
    }
    pcre2_match_data_free(md);
    pcre2_compile_context_free(cc);
    fprintf(stderr, "# pcre2: %ld compared, %ld matched, %ld over the limit\n", compared, positive, too_big);
    ck_assert_msg(mismatches == 0, "%ld of %ld comparisons differ", mismatches,
                  compared);
    ck_assert_msg(too_big < NRE / 100, "%ld of %d patterns over the state "
                  "limit", too_big, NRE);
    ck_assert_int_eq(compared, (long)(NRE - too_big) * NSUBJ);
    /* the generator must exercise both answers */
    ck_assert_msg(positive > compared / 50, "only %ld of %ld matched", positive,
                  compared);
#endif
}
END_TEST

static Suite *dfa_suite(void)
{
    Suite *s = suite_create("dfa");
    TCase *tc = tcase_create("dfa");

    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, test_match_cases);
    tcase_add_test(tc, test_match_nul);
    tcase_add_test(tc, test_pattern_nul);
    tcase_add_test(tc, test_minimal);
    tcase_add_test(tc, test_no_backtracking);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_error_text);
    tcase_add_test(tc, test_verify_hostile);
    tcase_add_test(tc, test_verify_flips);
#ifdef ZT_HAVE_PCRE2
    tcase_add_test(tc, test_pcre2_agrees);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(dfa_suite());
}
