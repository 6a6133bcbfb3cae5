/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Pattern -> syntax tree, the first stage of zt_dfa_compile (zt_dfa.h
 * says what a pattern may hold).  A recursive descent over bytes: an
 * alternation of sequences of quantified atoms.  Every construct an
 * automaton cannot express, and every malformed one, is an error naming
 * it with its byte offset and length, for zpc's caret.  Group nesting is
 * bounded, so is the recursion; the tree lives in the parser's pool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "zt_ascii.h"
#include "zt_dfa.h"        /* ZT_DFA_MAX_REPEAT */
#include "zt_re.h"
#include "zt_utf8.h"

#define ZT_RE_MAX_DEPTH   64            /* nested groups */

void *zt_re_fail(zt_re_parser_t *ps, size_t off, size_t n,
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

void zt_set_range(zt_re_set_t *s, unsigned lo, unsigned hi)
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
        h1 = at + 2 < ps->len ? zt_hexval(ps->p[at + 2]) : -1;
        h2 = at + 3 < ps->len ? zt_hexval(ps->p[at + 3]) : -1;
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
    if (ps->pos < ps->len && ps->p[ps->pos] != '\0'
        && strchr("*+?{", ps->p[ps->pos]) != NULL) {
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
        while (ps->pos < ps->len && ps->p[ps->pos] != '\0'
               && strchr("*+?{", ps->p[ps->pos]) != NULL) {
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

zt_re_t *zt_re_parse(zt_re_parser_t *ps)
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
