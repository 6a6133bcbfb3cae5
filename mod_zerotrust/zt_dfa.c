/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Regular expression -> minimal DFA image, its verifier and its matcher.
 *
 *   parse     pattern -> syntax tree; every construct an automaton cannot
 *             express is an error naming it, with its place
 *   nfa       tree -> Thompson NFA over byte sets, built back to front so
 *             sequences and alternations need no patch lists
 *   classes   the bytes split into classes no NFA edge tells apart
 *   subsets   NFA -> DFA by subset construction, at most ZT_DFA_MAX_STATES
 *   minimise  Hopcroft's partition refinement, then classes and states put
 *             in a canonical order (dead 0, start 1) and written as an
 *             image: equal languages give equal images
 *
 * All scratch memory is a subpool of the caller's pool, destroyed before
 * returning; the image itself is allocated in the caller's pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_strings.h>

#include "zt_dfa.h"
#include "zt_utf8.h"

_Static_assert(sizeof(zt_dfa_hdr_t) == 272, "zt_dfa_hdr_t layout");

#define ZT_RE_MAX_DEPTH   64            /* nested groups */
#define ZT_DFA_MAX_WORK   (1u << 27)    /* NFA states visited while building */
#define ZT_NFA_NONE       UINT32_MAX

/* ------------------------------------------------------------------ */
/* Syntax tree                                                         */

/* One character of a class, '.', \d ...: ASCII (or, for a literal UTF-8
 * byte, any) bytes, plus with utf8 every valid non-ASCII character. */
typedef struct {
    uint8_t bits[32];
    int utf8;
} zt_re_set_t;

enum { ZT_RE_EMPTY, ZT_RE_SET, ZT_RE_SEQ, ZT_RE_ALT, ZT_RE_REP };

typedef struct zt_re_s zt_re_t;
struct zt_re_s {
    int kind;
    zt_re_set_t set;                /* SET */
    apr_array_header_t *subs;       /* SEQ, ALT: of zt_re_t *; REP: one */
    int min, max;                   /* REP: max -1 is unbounded */
};

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int depth;
    apr_pool_t *pool;
    char *err;
    size_t errlen, err_off, err_len;
    int failed;
} zt_re_parser_t;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void *zt_re_fail(zt_re_parser_t *ps, size_t off, size_t n,
                        const char *fmt, ...)
{
    va_list ap;

    if (!ps->failed) {
        ps->failed = 1;
        ps->err_off = off;
        ps->err_len = n > 0 ? n : 1;
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

/* The end of every message about a construct that needs backtracking or
 * look-around (zpc's golden tests hold it). */
#define ZT_RE_NO_DFA "cannot be matched without backtracking; patterns " \
                     "compile to automata, which match in linear time"

static zt_re_t *zt_re_node(zt_re_parser_t *ps, int kind)
{
    zt_re_t *n = apr_pcalloc(ps->pool, sizeof(*n));

    n->kind = kind;
    if (kind == ZT_RE_SEQ || kind == ZT_RE_ALT || kind == ZT_RE_REP) {
        n->subs = apr_array_make(ps->pool, 4, sizeof(zt_re_t *));
    }
    return n;
}

static void zt_set_add(zt_re_set_t *s, unsigned c)
{
    s->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static void zt_set_range(zt_re_set_t *s, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++) {
        zt_set_add(s, c);
    }
}

/* ASCII complement; non-ASCII characters flip with utf8. */
static void zt_set_negate(zt_re_set_t *s)
{
    for (unsigned c = 0; c < 128; c++) {
        s->bits[c >> 3] ^= (uint8_t)(1u << (c & 7));
    }
    s->utf8 = !s->utf8;
}

static void zt_set_union(zt_re_set_t *s, const zt_re_set_t *o)
{
    for (int i = 0; i < 32; i++) {
        s->bits[i] |= o->bits[i];
    }
    s->utf8 |= o->utf8;
}

/* \d \w \s and their complements into @a s; 0 if @a c names none. */
static int zt_re_class_escape(unsigned char c, zt_re_set_t *s)
{
    memset(s, 0, sizeof(*s));
    switch (c | 0x20) {
    case 'd':
        zt_set_range(s, '0', '9');
        break;
    case 'w':
        zt_set_range(s, '0', '9');
        zt_set_range(s, 'A', 'Z');
        zt_set_range(s, 'a', 'z');
        zt_set_add(s, '_');
        break;
    case 's':
        zt_set_range(s, '\t', '\r');    /* \t \n \v \f \r, as PCRE2 */
        zt_set_add(s, ' ');
        break;
    default:
        return 0;
    }
    if (c >= 'A' && c <= 'Z') {
        zt_set_negate(s);
    }
    return 1;
}

static int zt_hex(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
}

/*
 * The escape at ps->pos (the '\\'): a single byte into *ch (return 1), a
 * set into *set (return 2), or an error (return 0).  Shared by classes and
 * the rest, which differ only in what a back-reference looks like.
 */
static int zt_re_escape(zt_re_parser_t *ps, int in_class, unsigned *ch,
                        zt_re_set_t *set)
{
    size_t at = ps->pos;
    unsigned char c;
    int h1, h2;

    if (at + 1 >= ps->len) {
        zt_re_fail(ps, at, 1, "a '\\' at the end escapes nothing");
        return 0;
    }
    c = ps->p[at + 1];
    ps->pos = at + 2;
    if (zt_re_class_escape(c, set)) {
        return 2;
    }
    switch (c) {
    case 'n': *ch = '\n'; return 1;
    case 'r': *ch = '\r'; return 1;
    case 't': *ch = '\t'; return 1;
    case 'f': *ch = '\f'; return 1;
    case 'x':
        h1 = at + 2 < ps->len ? zt_hex(ps->p[at + 2]) : -1;
        h2 = at + 3 < ps->len ? zt_hex(ps->p[at + 3]) : -1;
        if (h1 < 0 || h2 < 0) {
            zt_re_fail(ps, at, 2, "'\\x' needs two hexadecimal digits, as in \\x2f");
            return 0;
        }
        if (h1 >= 8) {
            zt_re_fail(ps, at, 4, "'%.4s': a byte above \\x7f is not a character "
                       "(write the UTF-8 character itself)", ps->p + at);
            return 0;
        }
        ps->pos = at + 4;
        *ch = (unsigned)(h1 * 16 + h2);
        return 1;
    default:
        break;
    }
    if (!in_class && c == 'k' && at + 2 < ps->len && ps->p[at + 2] == '<') {
        zt_re_fail(ps, at, 3, "the named back-reference '\\k<' " ZT_RE_NO_DFA);
    }
    else if (!in_class && ((c >= '1' && c <= '9') || c == 'k' || c == 'g')) {
        zt_re_fail(ps, at, 2, "the back-reference '\\%c' " ZT_RE_NO_DFA, c);
    }
    else if (!in_class && strchr("bBAzZG", c) != NULL) {
        zt_re_fail(ps, at, 2, "the assertion '\\%c' is not supported (a "
                   "pattern is anchored at both ends)", c);
    }
    else if (c == 'p' || c == 'P') {
        zt_re_fail(ps, at, 2, "the Unicode property '\\%c' is not supported", c);
    }
    else if (c == 'Q' || c == 'E') {
        zt_re_fail(ps, at, 2, "quoting with '\\Q...\\E' is not supported "
                   "(escape each character)");
    }
    else if (c >= 0x80) {
        zt_re_fail(ps, at, 2, "'\\' before a non-ASCII byte escapes nothing "
                   "(write the character itself)");
    }
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
             || (c >= '0' && c <= '9')) {
        zt_re_fail(ps, at, 2, "unknown escape '\\%c'", c);
    }
    else {
        *ch = c;                    /* \. \- \/ \\ ...: the character */
        return 1;
    }
    return 0;
}

/* A character class, ps->pos at the '['. */
static zt_re_t *zt_re_class(zt_re_parser_t *ps)
{
    size_t open = ps->pos;
    zt_re_t *n = zt_re_node(ps, ZT_RE_SET);
    int negate = 0, first = 1;

    ps->pos++;
    if (ps->pos < ps->len && ps->p[ps->pos] == '^') {
        negate = 1;
        ps->pos++;
    }
    for (;;) {
        size_t at = ps->pos;
        unsigned lo = 0, hi;
        zt_re_set_t s;
        int k;

        if (at >= ps->len) {
            return zt_re_fail(ps, open, 1, "unterminated class: no ']' closes "
                              "this '['");
        }
        if (ps->p[at] == ']' && !first) {
            ps->pos++;
            break;
        }
        first = 0;
        if (ps->p[at] == '[' && at + 1 < ps->len && ps->p[at + 1] == ':') {
            return zt_re_fail(ps, at, 2, "the POSIX class '[:' is not "
                              "supported (write ranges, as in [a-zA-Z])");
        }
        if (ps->p[at] >= 0x80) {
            return zt_re_fail(ps, at, 1, "a non-ASCII character in a class is "
                              "not supported (classes hold ASCII; write "
                              "(x|y) for others)");
        }
        if (ps->p[at] == '\\') {
            if ((k = zt_re_escape(ps, 1, &lo, &s)) == 0) {
                return NULL;
            }
            if (k == 2) {
                zt_set_union(&n->set, &s);
                if (ps->pos + 1 < ps->len && ps->p[ps->pos] == '-'
                    && ps->p[ps->pos + 1] != ']') {
                    return zt_re_fail(ps, at, ps->pos + 1 - at, "bad range "
                                      "'%.*s': a class escape cannot bound a "
                                      "range", (int)(ps->pos + 1 - at), ps->p + at);
                }
                continue;
            }
        }
        else {
            lo = ps->p[ps->pos++];
        }
        hi = lo;
        if (ps->pos + 1 < ps->len && ps->p[ps->pos] == '-'
            && ps->p[ps->pos + 1] != ']') {
            ps->pos++;
            if (ps->p[ps->pos] >= 0x80) {
                return zt_re_fail(ps, ps->pos, 1, "a non-ASCII character in a "
                                  "class is not supported");
            }
            if (ps->p[ps->pos] == '\\') {
                if ((k = zt_re_escape(ps, 1, &hi, &s)) == 0) {
                    return NULL;
                }
                if (k == 2) {
                    return zt_re_fail(ps, at, ps->pos - at, "bad range '%.*s': "
                                      "a class escape cannot bound a range",
                                      (int)(ps->pos - at), ps->p + at);
                }
            }
            else {
                hi = ps->p[ps->pos++];
            }
            if (lo > hi) {
                return zt_re_fail(ps, at, ps->pos - at, "bad range '%.*s': "
                                  "the first character is greater than the last",
                                  (int)(ps->pos - at), ps->p + at);
            }
        }
        zt_set_range(&n->set, lo, hi);
    }
    if (negate) {
        zt_set_negate(&n->set);
    }
    return n;
}

static zt_re_t *zt_re_alt(zt_re_parser_t *ps);

/* A group, ps->pos at the '('. */
static zt_re_t *zt_re_group(zt_re_parser_t *ps)
{
    size_t open = ps->pos;
    const unsigned char *q = ps->p + open;
    size_t left = ps->len - open;
    zt_re_t *n;

    if (++ps->depth > ZT_RE_MAX_DEPTH) {
        return zt_re_fail(ps, open, 1, "groups nested deeper than %d",
                          ZT_RE_MAX_DEPTH);
    }
    ps->pos++;
    if (left >= 2 && q[1] == '?') {
        unsigned char c = left >= 3 ? q[2] : 0;
        unsigned char d = left >= 4 ? q[3] : 0;

        if (c == ':') {
            ps->pos += 2;
        }
        else if (c == '=' || c == '!') {
            return zt_re_fail(ps, open, 3, "the look-ahead '(?%c' " ZT_RE_NO_DFA, c);
        }
        else if (c == '<' && (d == '=' || d == '!')) {
            return zt_re_fail(ps, open, 4, "the look-behind '(?<%c' " ZT_RE_NO_DFA, d);
        }
        else if (c == '<' || (c == 'P' && d == '<')) {
            size_t i = open + (c == '<' ? 3 : 4);
            size_t name = i;

            while (i < ps->len && (ps->p[i] == '_' || (ps->p[i] >= '0' && ps->p[i] <= '9')
                                   || ((ps->p[i] | 0x20) >= 'a' && (ps->p[i] | 0x20) <= 'z'))) {
                i++;
            }
            if (i == name || i >= ps->len || ps->p[i] != '>') {
                return zt_re_fail(ps, open, i - open, "bad group name: write "
                                  "(?<name>...)");
            }
            ps->pos = i + 1;
        }
        else if (c == 'P' && (d == '=' || d == '>')) {
            return zt_re_fail(ps, open, 4, "the back-reference '(?P%c' " ZT_RE_NO_DFA, d);
        }
        else if (c == '>') {
            return zt_re_fail(ps, open, 3, "the atomic group '(?>' " ZT_RE_NO_DFA);
        }
        else if (c == '(') {
            return zt_re_fail(ps, open, 3, "the conditional group '(?(' " ZT_RE_NO_DFA);
        }
        else if (c == 'R' || c == '&' || (c >= '0' && c <= '9') || c == '+'
                 || c == '-') {
            return zt_re_fail(ps, open, 3, "the recursion '(?%c' " ZT_RE_NO_DFA, c);
        }
        else if (c == '#') {
            return zt_re_fail(ps, open, 3, "comments '(?#' are not supported");
        }
        else if (c == '|') {
            return zt_re_fail(ps, open, 3, "the branch reset group '(?|' is not "
                              "supported (write (?:...))");
        }
        else if ((c >= 'a' && c <= 'z') || c == '^') {
            return zt_re_fail(ps, open, 3, "inline flags '(?%c' are not supported",
                              c);
        }
        else {
            return zt_re_fail(ps, open, 2, "unknown group '(?%c'", c ? c : '?');
        }
    }
    else if (left >= 2 && q[1] == '*') {
        return zt_re_fail(ps, open, 2, "the verb '(*' is not supported");
    }
    n = zt_re_alt(ps);
    if (n == NULL) {
        return NULL;
    }
    if (ps->pos >= ps->len || ps->p[ps->pos] != ')') {
        return zt_re_fail(ps, open, 1, "unbalanced '(': no ')' closes it");
    }
    ps->pos++;
    ps->depth--;
    return n;
}

/* A count at ps->pos (the '{'): 1 with *min, *max set, 0 if not one. */
static int zt_re_count(zt_re_parser_t *ps, int *min, int *max)
{
    size_t i = ps->pos + 1, open = ps->pos;
    long v[2] = { -1, -1 };
    int comma = 0;

    for (int k = 0; k < 2; k++) {
        size_t d = i;

        while (i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9') {
            if (v[k] < 0) {
                v[k] = 0;
            }
            if (v[k] <= ZT_DFA_MAX_REPEAT) {
                v[k] = v[k] * 10 + (ps->p[i] - '0');
            }
            i++;
        }
        if (k == 0 && i == d) {
            break;
        }
        if (k == 0 && i < ps->len && ps->p[i] == ',') {
            comma = 1;
            i++;
            continue;
        }
        break;
    }
    if (v[0] < 0 || i >= ps->len || ps->p[i] != '}') {
        zt_re_fail(ps, open, 1, "'{' starts no count {m}, {m,} or {m,n} "
                   "(write \\{ for the character)");
        return 0;
    }
    ps->pos = i + 1;
    *min = (int)(v[0] > ZT_DFA_MAX_REPEAT ? ZT_DFA_MAX_REPEAT + 1 : v[0]);
    *max = !comma ? *min : v[1] < 0 ? -1
           : (int)(v[1] > ZT_DFA_MAX_REPEAT ? ZT_DFA_MAX_REPEAT + 1 : v[1]);
    if (*min > ZT_DFA_MAX_REPEAT || *max > ZT_DFA_MAX_REPEAT) {
        zt_re_fail(ps, open, ps->pos - open, "count '%.*s' is above the limit "
                   "of %d", (int)(ps->pos - open), ps->p + open, ZT_DFA_MAX_REPEAT);
        return 0;
    }
    if (*max >= 0 && *min > *max) {
        zt_re_fail(ps, open, ps->pos - open, "count '%.*s': the first number "
                   "is greater than the second", (int)(ps->pos - open),
                   ps->p + open);
        return 0;
    }
    return 1;
}

/* A quantifier after an atom, ps->pos at it: wraps @a atom. */
static zt_re_t *zt_re_quant(zt_re_parser_t *ps, zt_re_t *atom)
{
    size_t at = ps->pos;
    unsigned char c = ps->p[at];
    zt_re_t *n;
    int min, max;

    if (c == '{') {
        if (!zt_re_count(ps, &min, &max)) {
            return NULL;
        }
    }
    else {
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : -1;
        ps->pos++;
    }
    if (ps->pos < ps->len && ps->p[ps->pos] == '+') {
        return zt_re_fail(ps, at, ps->pos + 1 - at, "the possessive quantifier "
                          "'%.*s' " ZT_RE_NO_DFA, (int)(ps->pos + 1 - at),
                          ps->p + at);
    }
    if (ps->pos < ps->len && ps->p[ps->pos] == '?') {
        ps->pos++;                  /* lazy: the same whole-string match */
    }
    if (ps->pos < ps->len && strchr("*+?{", ps->p[ps->pos]) != NULL) {
        return zt_re_fail(ps, ps->pos, 1, "a quantifier '%c' after a "
                          "quantifier (put the first in a group)",
                          ps->p[ps->pos]);
    }
    n = zt_re_node(ps, ZT_RE_REP);
    n->min = min;
    n->max = max;
    APR_ARRAY_PUSH(n->subs, zt_re_t *) = atom;
    return n;
}

/* One atom at ps->pos (not '|', ')' or the end). */
static zt_re_t *zt_re_atom(zt_re_parser_t *ps)
{
    size_t at = ps->pos;
    unsigned char c = ps->p[at];
    zt_re_t *n;
    unsigned ch = 0;
    size_t k;

    switch (c) {
    case '(':
        return zt_re_group(ps);
    case '[':
        return zt_re_class(ps);
    case '*': case '+': case '?': case '{':
        return zt_re_fail(ps, at, 1, "nothing to repeat before '%c'", c);
    case '^':
        return zt_re_fail(ps, at, 1, "'^' is only allowed at the start (a "
                          "pattern is anchored at both ends)");
    case '$':
        return zt_re_fail(ps, at, 1, "'$' is only allowed at the end (a "
                          "pattern is anchored at both ends)");
    case '.':
        n = zt_re_node(ps, ZT_RE_SET);
        zt_set_range(&n->set, 0, 127);
        n->set.bits['\n' >> 3] &= (uint8_t)~(1u << ('\n' & 7));
        n->set.utf8 = 1;
        ps->pos++;
        return n;
    case '\\':
        n = zt_re_node(ps, ZT_RE_SET);
        switch (zt_re_escape(ps, 0, &ch, &n->set)) {
        case 0:
            return NULL;
        case 1:
            zt_set_add(&n->set, ch);
            break;
        default:
            break;
        }
        return n;
    default:
        break;
    }
    if (c < 0x80) {
        n = zt_re_node(ps, ZT_RE_SET);
        zt_set_add(&n->set, c);
        ps->pos++;
        return n;
    }
    /* A non-ASCII character: its bytes in sequence, one atom. */
    if ((k = zt_utf8_seq(ps->p + at, ps->len - at)) == 0) {
        return zt_re_fail(ps, at, 1, "the pattern is not valid UTF-8 (byte "
                          "0x%02x)", c);
    }
    n = zt_re_node(ps, ZT_RE_SEQ);
    for (size_t i = 0; i < k; i++) {
        zt_re_t *b = zt_re_node(ps, ZT_RE_SET);
        zt_set_add(&b->set, ps->p[at + i]);
        APR_ARRAY_PUSH(n->subs, zt_re_t *) = b;
    }
    ps->pos += k;
    return n;
}

/* A sequence, up to '|', ')' or the end; a final '$' ends the pattern. */
static zt_re_t *zt_re_seq(zt_re_parser_t *ps)
{
    zt_re_t *seq = zt_re_node(ps, ZT_RE_SEQ);

    while (ps->pos < ps->len && ps->p[ps->pos] != '|' && ps->p[ps->pos] != ')') {
        zt_re_t *a;

        if (ps->p[ps->pos] == '$' && ps->pos + 1 == ps->len && ps->depth == 0) {
            ps->pos++;              /* the anchor all patterns have */
            break;
        }
        if ((a = zt_re_atom(ps)) == NULL) {
            return NULL;
        }
        while (ps->pos < ps->len && strchr("*+?{", ps->p[ps->pos]) != NULL) {
            if ((a = zt_re_quant(ps, a)) == NULL) {
                return NULL;
            }
        }
        APR_ARRAY_PUSH(seq->subs, zt_re_t *) = a;
    }
    return seq;
}

static zt_re_t *zt_re_alt(zt_re_parser_t *ps)
{
    zt_re_t *alt = zt_re_node(ps, ZT_RE_ALT);

    for (;;) {
        zt_re_t *s = zt_re_seq(ps);

        if (s == NULL) {
            return NULL;
        }
        APR_ARRAY_PUSH(alt->subs, zt_re_t *) = s;
        if (ps->pos >= ps->len || ps->p[ps->pos] != '|') {
            break;
        }
        ps->pos++;
    }
    return alt->subs->nelts == 1 ? APR_ARRAY_IDX(alt->subs, 0, zt_re_t *) : alt;
}

static zt_re_t *zt_re_parse(zt_re_parser_t *ps)
{
    zt_re_t *re;

    if (ps->len > 0 && ps->p[0] == '^') {
        ps->pos = 1;                /* the anchor all patterns have */
    }
    if ((re = zt_re_alt(ps)) == NULL) {
        return NULL;
    }
    if (ps->pos < ps->len) {        /* only a ')' stops zt_re_alt early */
        return zt_re_fail(ps, ps->pos, 1, "unbalanced ')': no '(' opens it");
    }
    return re;
}

/* ------------------------------------------------------------------ */
/* Thompson NFA                                                        */

enum { ZT_NFA_SPLIT, ZT_NFA_SET, ZT_NFA_MATCH };

typedef struct {
    uint32_t kind;
    uint32_t out, out2;         /* SPLIT: both; SET: out */
    uint32_t set;               /* SET: index into the distinct sets */
} zt_nfa_state_t;

typedef struct {
    zt_re_parser_t *ps;         /* for errors */
    apr_pool_t *pool;
    zt_nfa_state_t *st;
    uint32_t n, cap;
    apr_array_header_t *sets;   /* of uint8_t[32]: distinct byte sets */
    apr_hash_t *set_ids;        /* 32 bytes -> uint32_t * index */
} zt_nfa_t;

static uint32_t zt_nfa_add(zt_nfa_t *nfa, uint32_t kind, uint32_t out,
                           uint32_t out2, uint32_t set)
{
    zt_nfa_state_t *s;

    if (nfa->ps->failed) {
        return ZT_NFA_NONE;
    }
    if (nfa->n == ZT_DFA_MAX_NFA) {
        zt_re_fail(nfa->ps, 0, nfa->ps->len, "the pattern is too large: its "
                   "automaton needs more than %d NFA states (nested counts?)",
                   ZT_DFA_MAX_NFA);
        return ZT_NFA_NONE;
    }
    if (nfa->n == nfa->cap) {
        zt_nfa_state_t *grown = apr_palloc(nfa->pool, 2 * nfa->cap * sizeof(*grown));
        memcpy(grown, nfa->st, nfa->n * sizeof(*grown));
        nfa->st = grown;
        nfa->cap *= 2;
    }
    s = &nfa->st[nfa->n];
    s->kind = kind;
    s->out = out;
    s->out2 = out2;
    s->set = set;
    return nfa->n++;
}

static uint32_t zt_nfa_set(zt_nfa_t *nfa, const uint8_t bits[32], uint32_t out)
{
    uint32_t *id = apr_hash_get(nfa->set_ids, bits, 32);

    if (id == NULL) {
        uint8_t *slot = apr_array_push(nfa->sets);

        memcpy(slot, bits, 32);
        id = apr_palloc(nfa->pool, sizeof(*id));
        *id = (uint32_t)nfa->sets->nelts - 1;
        apr_hash_set(nfa->set_ids, apr_pmemdup(nfa->pool, bits, 32), 32, id);
    }
    return zt_nfa_add(nfa, ZT_NFA_SET, out, 0, *id);
}

/* A chain of byte ranges ending at @a next. */
static uint32_t zt_nfa_ranges(zt_nfa_t *nfa, const uint8_t (*r)[2], int n,
                              uint32_t next)
{
    for (int i = n; i-- > 0 && next != ZT_NFA_NONE;) {
        zt_re_set_t s;

        memset(&s, 0, sizeof(s));
        zt_set_range(&s, r[i][0], r[i][1]);
        next = zt_nfa_set(nfa, s.bits, next);
    }
    return next;
}

/* Any valid non-ASCII UTF-8 character (RFC 3629 table), then @a next. */
static uint32_t zt_nfa_utf8(zt_nfa_t *nfa, uint32_t next)
{
    static const uint8_t seq[8][4][2] = {
        { {0xc2, 0xdf}, {0x80, 0xbf} },
        { {0xe0, 0xe0}, {0xa0, 0xbf}, {0x80, 0xbf} },
        { {0xe1, 0xec}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xed, 0xed}, {0x80, 0x9f}, {0x80, 0xbf} },
        { {0xee, 0xef}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf0, 0xf0}, {0x90, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf1, 0xf3}, {0x80, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf4, 0xf4}, {0x80, 0x8f}, {0x80, 0xbf}, {0x80, 0xbf} },
    };
    static const int nseq[8] = { 2, 3, 3, 3, 3, 4, 4, 4 };
    uint32_t start = ZT_NFA_NONE;

    for (int i = 0; i < 8; i++) {
        uint32_t s = zt_nfa_ranges(nfa, seq[i], nseq[i], next);
        start = i == 0 ? s : zt_nfa_add(nfa, ZT_NFA_SPLIT, s, start, 0);
    }
    return start;
}

/* The NFA of @a re followed by state @a next; returns its start. */
static uint32_t zt_nfa_build(zt_nfa_t *nfa, const zt_re_t *re, uint32_t next)
{
    zt_re_t **sub = re->subs ? (zt_re_t **)re->subs->elts : NULL;
    uint32_t s, loop;

    if (next == ZT_NFA_NONE) {
        return next;
    }
    switch (re->kind) {
    case ZT_RE_SET: {
        static const uint8_t none[32];
        int bytes = memcmp(re->set.bits, none, 32) != 0;

        s = bytes ? zt_nfa_set(nfa, re->set.bits, next) : ZT_NFA_NONE;
        if (re->set.utf8) {
            uint32_t u = zt_nfa_utf8(nfa, next);
            s = bytes ? zt_nfa_add(nfa, ZT_NFA_SPLIT, s, u, 0) : u;
        }
        else if (!bytes) {
            /* [^\x00-\x7f\D]-like: matches nothing; a set edge nothing takes */
            s = zt_nfa_set(nfa, none, next);
        }
        return s;
    }
    case ZT_RE_SEQ:
        for (int i = re->subs->nelts; i-- > 0;) {
            next = zt_nfa_build(nfa, sub[i], next);
        }
        return next;
    case ZT_RE_ALT:
        s = zt_nfa_build(nfa, sub[0], next);
        for (int i = 1; i < re->subs->nelts; i++) {
            s = zt_nfa_add(nfa, ZT_NFA_SPLIT, zt_nfa_build(nfa, sub[i], next), s, 0);
        }
        return s;
    case ZT_RE_REP:
        if (re->max < 0) {
            /* x{m,} = x...x x*, the star a loop through one split */
            if ((loop = zt_nfa_add(nfa, ZT_NFA_SPLIT, ZT_NFA_NONE, next, 0))
                == ZT_NFA_NONE) {
                return loop;
            }
            s = zt_nfa_build(nfa, sub[0], loop);
            if (s == ZT_NFA_NONE) {
                return s;
            }
            nfa->st[loop].out = s;
            next = loop;
        }
        else {
            /* x{m,n} = x...x (x(x(x)?)?)?: nested, so never ambiguous */
            for (int i = 0; i < re->max - re->min; i++) {
                next = zt_nfa_add(nfa, ZT_NFA_SPLIT,
                                  zt_nfa_build(nfa, sub[0], next), next, 0);
            }
        }
        for (int i = 0; i < re->min; i++) {
            next = zt_nfa_build(nfa, sub[0], next);
        }
        return next;
    default:
        return next;
    }
}

/* ------------------------------------------------------------------ */
/* Subset construction                                                 */

typedef struct {
    zt_nfa_t *nfa;
    apr_pool_t *pool;
    uint32_t ncls;
    uint8_t cls[256];           /* byte -> class */
    uint8_t *set_cls;           /* per distinct set: bitmap of its classes */
    uint32_t *mark, gen;        /* per NFA state: visited in closure gen */
    uint32_t *stack, *buf, *seeds;
    uint64_t work;
    /* the DFA so far: state 0 dead, 1 start */
    uint32_t n, cap;
    uint32_t **keys, *nkeys;    /* sorted NFA states of each DFA state */
    uint32_t *next;             /* [cap * ncls] */
    uint8_t *accept;
    apr_hash_t *ids;            /* key bytes -> uint32_t * state */
    uint32_t match;             /* the NFA's one MATCH state */
} zt_dfa_build_t;

/*
 * Split the 256 bytes into classes that every distinct set of the NFA
 * holds whole or not at all; then the DFA needs one edge per class.
 */
static void zt_dfa_classes(zt_dfa_build_t *b)
{
    const zt_nfa_t *nfa = b->nfa;

    memset(b->cls, 0, sizeof(b->cls));
    b->ncls = 1;
    for (int i = 0; i < nfa->sets->nelts; i++) {
        const uint8_t *bits = (const uint8_t *)nfa->sets->elts + 32 * i;
        int map[512];
        uint32_t k = 0;

        memset(map, 0xff, sizeof(map));
        for (unsigned c = 0; c < 256; c++) {
            unsigned key = b->cls[c] * 2u + ((bits[c >> 3] >> (c & 7)) & 1u);
            if (map[key] < 0) {
                map[key] = (int)k++;
            }
            b->cls[c] = (uint8_t)map[key];
        }
        b->ncls = k;
    }
    b->set_cls = apr_pcalloc(b->pool, 32 * (size_t)(nfa->sets->nelts + 1));
    for (int i = 0; i < nfa->sets->nelts; i++) {
        const uint8_t *bits = (const uint8_t *)nfa->sets->elts + 32 * i;
        uint8_t *mask = b->set_cls + 32 * i;

        for (unsigned c = 0; c < 256; c++) {
            if ((bits[c >> 3] >> (c & 7)) & 1u) {
                mask[b->cls[c] >> 3] |= (uint8_t)(1u << (b->cls[c] & 7));
            }
        }
    }
}

static int zt_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The sorted SET and MATCH states reachable from @a seeds by splits,
 * into b->buf; returns how many. */
static uint32_t zt_dfa_closure(zt_dfa_build_t *b, const uint32_t *seeds,
                               uint32_t nseeds)
{
    const zt_nfa_state_t *st = b->nfa->st;
    uint32_t sp = 0, n = 0;

    b->gen++;
    for (uint32_t i = 0; i < nseeds; i++) {
        if (b->mark[seeds[i]] != b->gen) {
            b->mark[seeds[i]] = b->gen;
            b->stack[sp++] = seeds[i];
        }
    }
    while (sp > 0) {
        uint32_t s = b->stack[--sp];

        b->work++;
        if (st[s].kind != ZT_NFA_SPLIT) {
            b->buf[n++] = s;
            continue;
        }
        if (b->mark[st[s].out] != b->gen) {
            b->mark[st[s].out] = b->gen;
            b->stack[sp++] = st[s].out;
        }
        if (b->mark[st[s].out2] != b->gen) {
            b->mark[st[s].out2] = b->gen;
            b->stack[sp++] = st[s].out2;
        }
    }
    qsort(b->buf, n, sizeof(uint32_t), zt_u32_cmp);
    return n;
}

/* The DFA state of the closure in b->buf[0..n), added if new; or
 * ZT_NFA_NONE past the state limit. */
static uint32_t zt_dfa_state(zt_dfa_build_t *b, uint32_t n)
{
    uint32_t *id;

    if (n == 0) {
        return 0;
    }
    if ((id = apr_hash_get(b->ids, b->buf, n * sizeof(uint32_t))) != NULL) {
        return *id;
    }
    if (b->n == ZT_DFA_MAX_STATES) {
        return ZT_NFA_NONE;
    }
    if (b->n == b->cap) {
        uint32_t cap = 2 * b->cap;
        uint32_t **keys = apr_palloc(b->pool, cap * sizeof(*keys));
        uint32_t *nkeys = apr_palloc(b->pool, cap * sizeof(*nkeys));
        uint32_t *next = apr_palloc(b->pool, (size_t)cap * b->ncls * sizeof(*next));
        uint8_t *accept = apr_palloc(b->pool, cap);

        memcpy(keys, b->keys, b->n * sizeof(*keys));
        memcpy(nkeys, b->nkeys, b->n * sizeof(*nkeys));
        memcpy(next, b->next, (size_t)b->n * b->ncls * sizeof(*next));
        memcpy(accept, b->accept, b->n);
        b->keys = keys;
        b->nkeys = nkeys;
        b->next = next;
        b->accept = accept;
        b->cap = cap;
    }
    b->keys[b->n] = apr_pmemdup(b->pool, b->buf, n * sizeof(uint32_t));
    b->nkeys[b->n] = n;
    b->accept[b->n] = 0;
    for (uint32_t i = 0; i < n; i++) {
        b->accept[b->n] |= b->buf[i] == b->match;
    }
    id = apr_palloc(b->pool, sizeof(*id));
    *id = b->n;
    apr_hash_set(b->ids, b->keys[b->n], n * sizeof(uint32_t), id);
    return b->n++;
}

static int zt_dfa_subsets(zt_dfa_build_t *b, uint32_t start)
{
    const zt_nfa_state_t *st = b->nfa->st;
    uint32_t nfa_n = b->nfa->n;

    b->mark = apr_pcalloc(b->pool, nfa_n * sizeof(uint32_t));
    b->stack = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->buf = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->seeds = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->ids = apr_hash_make(b->pool);
    b->cap = 16;
    b->keys = apr_palloc(b->pool, b->cap * sizeof(*b->keys));
    b->nkeys = apr_palloc(b->pool, b->cap * sizeof(*b->nkeys));
    b->next = apr_palloc(b->pool, (size_t)b->cap * b->ncls * sizeof(*b->next));
    b->accept = apr_palloc(b->pool, b->cap);
    b->keys[0] = NULL;
    b->nkeys[0] = 0;
    b->accept[0] = 0;
    b->n = 1;
    for (uint32_t c = 0; c < b->ncls; c++) {
        b->next[c] = 0;
    }
    /* never empty: every split leads on to the MATCH state */
    if (zt_dfa_state(b, zt_dfa_closure(b, &start, 1)) != 1) {
        zt_re_fail(b->nfa->ps, 0, 0, "internal error: empty start state");
        return -1;
    }
    for (uint32_t d = 1; d < b->n; d++) {
        for (uint32_t c = 0; c < b->ncls; c++) {
            uint32_t nseeds = 0, to;

            for (uint32_t k = 0; k < b->nkeys[d]; k++) {
                const zt_nfa_state_t *s = &st[b->keys[d][k]];
                if (s->kind == ZT_NFA_SET
                    && ((b->set_cls[32 * s->set + (c >> 3)] >> (c & 7)) & 1u)) {
                    b->seeds[nseeds++] = s->out;
                }
            }
            b->work += b->nkeys[d];
            to = zt_dfa_state(b, zt_dfa_closure(b, b->seeds, nseeds));
            if (to == ZT_NFA_NONE) {
                zt_re_fail(b->nfa->ps, 0, b->nfa->ps->len, "the pattern needs "
                           "more than %d automaton states (the limit)",
                           ZT_DFA_MAX_STATES);
                return -1;
            }
            if (b->work > ZT_DFA_MAX_WORK) {
                zt_re_fail(b->nfa->ps, 0, b->nfa->ps->len, "the pattern is too "
                           "complex to compile (more than %u steps)",
                           ZT_DFA_MAX_WORK);
                return -1;
            }
            b->next[(size_t)d * b->ncls + c] = to;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Minimisation and the image                                          */

/*
 * Hopcroft's partition refinement, O(k n log n) for n states and k
 * classes: states start split by acceptance; a splitter (block B, class
 * c) splits every block whose states lead on c partly into B, and of the
 * two halves only the smaller need be a splitter again.  Returns the
 * number of blocks; blk[s] is the block of state s.
 */
static uint32_t zt_dfa_minimise(zt_dfa_build_t *b, uint32_t *blk)
{
    uint32_t n = b->n, k = b->ncls, nblk = 0, nwl = 0, nacc = 0;
    size_t cells = (size_t)n * k;
    uint32_t *poff = apr_pcalloc(b->pool, (cells + 1) * sizeof(uint32_t));
    uint32_t *pred = apr_palloc(b->pool, cells * sizeof(uint32_t));
    uint32_t *elems = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *loc = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *first = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *end = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *marked = apr_pcalloc(b->pool, n * sizeof(uint32_t));
    uint32_t *touched = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *x = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *wl = apr_palloc(b->pool, cells * sizeof(uint32_t));
    uint8_t *inwl = apr_pcalloc(b->pool, cells);
    uint8_t *mark = apr_pcalloc(b->pool, n);

    /* predecessors of (class c, state t) at pred[poff[c*n+t] .. poff[c*n+t+1]) */
    for (uint32_t s = 0; s < n; s++) {
        for (uint32_t c = 0; c < k; c++) {
            poff[(size_t)c * n + b->next[(size_t)s * k + c] + 1]++;
        }
    }
    for (size_t i = 0; i < cells; i++) {
        poff[i + 1] += poff[i];
    }
    {
        uint32_t *cur = apr_palloc(b->pool, cells * sizeof(uint32_t));

        memcpy(cur, poff, cells * sizeof(uint32_t));
        for (uint32_t s = 0; s < n; s++) {
            for (uint32_t c = 0; c < k; c++) {
                pred[cur[(size_t)c * n + b->next[(size_t)s * k + c]]++] = s;
            }
        }
    }
    /* blocks: the rejecting states (the dead state among them), then the
     * accepting ones */
    for (uint32_t s = 0; s < n; s++) {
        nacc += b->accept[s];
    }
    for (uint32_t s = 0, lo = 0, hi = n - nacc; s < n; s++) {
        uint32_t pos = b->accept[s] ? hi++ : lo++;
        elems[pos] = s;
        loc[s] = pos;
        blk[s] = b->accept[s];
    }
    first[0] = 0;
    end[0] = n - nacc;
    nblk = 1;
    if (nacc > 0 && nacc < n) {
        uint32_t small = nacc <= n - nacc ? 1 : 0;

        first[1] = n - nacc;
        end[1] = n;
        nblk = 2;
        for (uint32_t c = 0; c < k; c++) {
            wl[nwl++] = small * k + c;
            inwl[(size_t)small * k + c] = 1;
        }
    }
    while (nwl > 0) {
        uint32_t split = wl[--nwl], B = split / k, c = split % k;
        uint32_t nx = 0, ntouched = 0;

        inwl[split] = 0;
        /* the states that lead into B on c, collected before any split */
        for (uint32_t i = first[B]; i < end[B]; i++) {
            size_t key = (size_t)c * n + elems[i];
            for (uint32_t q = poff[key]; q < poff[key + 1]; q++) {
                if (!mark[pred[q]]) {
                    mark[pred[q]] = 1;
                    x[nx++] = pred[q];
                }
            }
        }
        /* move them to the front of their blocks */
        for (uint32_t i = 0; i < nx; i++) {
            uint32_t p = x[i], Y = blk[p], dst, other;

            if (marked[Y] == 0) {
                touched[ntouched++] = Y;
            }
            dst = first[Y] + marked[Y]++;
            other = elems[dst];
            elems[loc[p]] = other;
            loc[other] = loc[p];
            elems[dst] = p;
            loc[p] = dst;
        }
        for (uint32_t i = 0; i < ntouched; i++) {
            uint32_t Y = touched[i], Z;

            if (marked[Y] < end[Y] - first[Y]) {
                Z = nblk++;
                first[Z] = first[Y];
                end[Z] = first[Y] + marked[Y];
                first[Y] = end[Z];
                for (uint32_t e = first[Z]; e < end[Z]; e++) {
                    blk[elems[e]] = Z;
                }
                for (uint32_t d = 0; d < k; d++) {
                    uint32_t add = inwl[(size_t)Y * k + d]
                                   || end[Z] - first[Z] <= end[Y] - first[Y] ? Z : Y;
                    wl[nwl++] = add * k + d;
                    inwl[(size_t)add * k + d] = 1;
                }
            }
            marked[Y] = 0;
        }
        for (uint32_t i = 0; i < nx; i++) {
            mark[x[i]] = 0;
        }
    }
    return nblk;
}

/*
 * Write the minimal DFA in canonical form, so equal languages give equal
 * images: classes whose columns (the next block from every block) are
 * equal are merged and numbered in the order of their smallest byte; the
 * blocks are numbered breadth-first from the start over those classes,
 * the dead block 0 and the start 1.
 */
static void *zt_dfa_image(zt_dfa_build_t *b, const uint32_t *blk,
                          uint32_t nblk, apr_pool_t *pool, size_t *image_len)
{
    uint32_t *brep = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t *num = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t *order = apr_palloc(b->pool, (nblk + 1) * sizeof(uint32_t));
    uint32_t *vec = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t merged[256], canon[256], crep[256], n = 2, nc = 0, nmerged = 0;
    apr_hash_t *cols = apr_hash_make(b->pool);
    zt_dfa_hdr_t *h;
    uint32_t *next;
    uint8_t *accept;
    size_t len;

#define ZT_NEXT(state, c) blk[b->next[(size_t)(state) * b->ncls + (c)]]
    for (uint32_t k = 0; k < nblk; k++) {
        brep[k] = num[k] = ZT_NFA_NONE;
    }
    for (uint32_t s = 0; s < b->n; s++) {
        if (brep[blk[s]] == ZT_NFA_NONE) {
            brep[blk[s]] = s;
        }
    }
    for (uint32_t c = 0; c < b->ncls; c++) {
        uint32_t *id;

        for (uint32_t k = 0; k < nblk; k++) {
            vec[k] = ZT_NEXT(brep[k], c);
        }
        if ((id = apr_hash_get(cols, vec, nblk * sizeof(uint32_t))) == NULL) {
            id = apr_palloc(b->pool, sizeof(*id));
            *id = nmerged++;
            apr_hash_set(cols, apr_pmemdup(b->pool, vec, nblk * sizeof(uint32_t)),
                         nblk * sizeof(uint32_t), id);
        }
        merged[c] = *id;
        canon[c] = ZT_NFA_NONE;
    }
    for (unsigned c = 0; c < 256; c++) {
        uint32_t m = merged[b->cls[c]];

        if (canon[m] == ZT_NFA_NONE) {
            canon[m] = nc;
            crep[nc++] = b->cls[c];
        }
    }
    num[blk[0]] = 0;
    order[0] = blk[0];
    order[1] = blk[0];              /* matches nothing: the start is dead too */
    if (blk[1] != blk[0]) {
        num[blk[1]] = 1;
        order[1] = blk[1];
        for (uint32_t q = 1; q < n; q++) {
            for (uint32_t k = 0; k < nc; k++) {
                uint32_t to = ZT_NEXT(brep[order[q]], crep[k]);
                if (num[to] == ZT_NFA_NONE) {
                    num[to] = n;
                    order[n++] = to;
                }
            }
        }
    }
    len = (sizeof(zt_dfa_hdr_t) + 4 * (size_t)n * nc + n + 7) & ~(size_t)7;
    h = apr_pcalloc(pool, len);
    h->magic = ZT_DFA_MAGIC;
    h->len = (uint32_t)len;
    h->nstates = n;
    h->nclasses = nc;
    next = (uint32_t *)(h + 1);
    accept = (uint8_t *)(next + (size_t)n * nc);
    for (unsigned c = 0; c < 256; c++) {
        h->cls[c] = (uint8_t)canon[merged[b->cls[c]]];
    }
    for (uint32_t q = 0; q < n; q++) {
        for (uint32_t k = 0; k < nc; k++) {
            next[(size_t)q * nc + k] = num[ZT_NEXT(brep[order[q]], crep[k])] * nc;
        }
        accept[q] = b->accept[brep[order[q]]];
    }
#undef ZT_NEXT
    *image_len = len;
    return h;
}

/* ------------------------------------------------------------------ */
/* The public face                                                     */

int zt_dfa_compile_at(const char *re, size_t len, apr_pool_t *pool,
                      const void **image, size_t *image_len,
                      char *err, size_t errlen,
                      size_t *err_off, size_t *err_len)
{
    char own[8];
    zt_re_parser_t ps;
    zt_nfa_t nfa;
    zt_dfa_build_t b;
    apr_pool_t *tmp = NULL;
    zt_re_t *tree;
    uint32_t start, nblk, *blk;
    void *img = NULL;
    size_t img_len = 0;

    memset(&ps, 0, sizeof(ps));
    ps.p = (const unsigned char *)re;
    ps.len = re != NULL ? len : 0;
    ps.err = err != NULL && errlen > 0 ? err : own;
    ps.errlen = err != NULL && errlen > 0 ? errlen : sizeof(own);
    ps.err[0] = '\0';
    *image = NULL;
    *image_len = 0;
    if (apr_pool_create(&tmp, pool) != APR_SUCCESS) {
        zt_re_fail(&ps, 0, 0, "out of memory");
        goto done;
    }
    ps.pool = tmp;
    if ((tree = zt_re_parse(&ps)) == NULL) {
        goto done;
    }
    memset(&nfa, 0, sizeof(nfa));
    nfa.ps = &ps;
    nfa.pool = tmp;
    nfa.cap = 64;
    nfa.st = apr_palloc(tmp, nfa.cap * sizeof(*nfa.st));
    nfa.sets = apr_array_make(tmp, 16, 32);
    nfa.set_ids = apr_hash_make(tmp);
    memset(&b, 0, sizeof(b));
    b.nfa = &nfa;
    b.pool = tmp;
    b.match = zt_nfa_add(&nfa, ZT_NFA_MATCH, 0, 0, 0);
    start = zt_nfa_build(&nfa, tree, b.match);
    if (ps.failed) {
        goto done;
    }
    zt_dfa_classes(&b);
    if (zt_dfa_subsets(&b, start) < 0) {
        goto done;
    }
    blk = apr_palloc(tmp, b.n * sizeof(uint32_t));
    if ((nblk = zt_dfa_minimise(&b, blk)) == 0) {
        zt_re_fail(&ps, 0, 0, "out of memory");
        goto done;
    }
    img = zt_dfa_image(&b, blk, nblk, pool, &img_len);
done:
    if (tmp != NULL) {
        apr_pool_destroy(tmp);
    }
    if (ps.failed) {
        if (err_off != NULL) {
            *err_off = ps.err_off;
        }
        if (err_len != NULL) {
            *err_len = ps.err_len;
        }
        return -1;
    }
    *image = img;
    *image_len = img_len;
    return 0;
}

int zt_dfa_compile(const char *re, size_t len, apr_pool_t *pool,
                   const void **image, size_t *image_len,
                   char *err, size_t errlen)
{
    size_t off = 0, n = 0, used;

    if (zt_dfa_compile_at(re, len, pool, image, image_len, err, errlen,
                          &off, &n) == 0) {
        return 0;
    }
    if (err != NULL && errlen > 0 && (used = strlen(err)) < errlen) {
        snprintf(err + used, errlen - used, ", at column %zu", off + 1);
    }
    return -1;
}

const char *zt_dfa_problem(const void *image, size_t len)
{
    const zt_dfa_hdr_t *h = image;
    const uint32_t *next;
    const uint8_t *accept, *end;
    size_t cells, need;

    if (image == NULL || ((uintptr_t)image & 7) != 0) {
        return "the image is not 8-aligned";
    }
    if (len < sizeof(*h)) {
        return "the image is shorter than its head";
    }
    if (h->magic != ZT_DFA_MAGIC) {
        return "bad magic, not an automaton";
    }
    if (h->len != len || len % 8 != 0) {
        return "the image length disagrees with its head or is not a multiple of 8";
    }
    if (h->nstates < 2 || h->nstates > ZT_DFA_MAX_STATES) {
        return "the state count is outside 2..ZT_DFA_MAX_STATES";
    }
    if (h->nclasses < 1 || h->nclasses > 256) {
        return "the class count is outside 1..256";
    }
    cells = (size_t)h->nstates * h->nclasses;
    need = (sizeof(*h) + 4 * cells + h->nstates + 7) & ~(size_t)7;
    if (need != len) {
        return "the image length does not fit its state and class counts";
    }
    for (unsigned c = 0; c < 256; c++) {
        if (h->cls[c] >= h->nclasses) {
            return "a byte maps to a class past the class count";
        }
    }
    next = (const uint32_t *)(h + 1);
    accept = (const uint8_t *)(next + cells);
    for (size_t i = 0; i < cells; i++) {
        if (next[i] >= cells || next[i] % h->nclasses != 0) {
            return "an edge leads past the last state or inside a row";
        }
        if (i < h->nclasses && next[i] != 0) {
            return "the dead state 0 has an edge out";
        }
    }
    for (uint32_t s = 0; s < h->nstates; s++) {
        if (accept[s] > 1 || (s == 0 && accept[s] != 0)) {
            return "an accept flag is not 0 or 1, or the dead state accepts";
        }
    }
    end = (const uint8_t *)image + len;
    for (const uint8_t *p = accept + h->nstates; p < end; p++) {
        if (*p != 0) {
            return "the padding is not 0";
        }
    }
    return NULL;
}

int zt_dfa_verify(const void *image, size_t len)
{
    return zt_dfa_problem(image, len) == NULL;
}

int zt_dfa_match(const void *image, const char *s, size_t n)
{
    const zt_dfa_hdr_t *h = image;
    const uint32_t *next = (const uint32_t *)(h + 1);
    const uint8_t *accept = (const uint8_t *)(next + (size_t)h->nstates * h->nclasses);
    uint32_t q = h->nclasses;       /* the row of the start state, 1 */

    /* edges hold row offsets, so a step is two loads and an add */
    for (size_t i = 0; i < n; i++) {
        q = next[q + h->cls[(unsigned char)s[i]]];
        if (q == 0) {
            return 0;
        }
    }
    return accept[q / h->nclasses];
}

uint32_t zt_dfa_nstates(const void *image)
{
    return ((const zt_dfa_hdr_t *)image)->nstates;
}
