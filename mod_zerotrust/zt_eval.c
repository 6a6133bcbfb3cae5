/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The decision: the matched route's rules, their conditions over what the
 * request carries (token claims, captures, query, headers, client address
 * and certificate, TLS, time), then the route's step-up requirement.
 * Deny overrides allow; nothing matching means deny.  Reads only a
 * verified table (zt_table_load), so indices are used without bounds
 * checks, and allocates nothing.  Claims are read only through
 * zt_claims.h.  String lengths of the operands are computed once, at
 * load (zt_eval_prepare).
 *
 * A route normally has a block (zt_prog.h): one branch program over
 * resolved operands that runs its denies' conditions, then its allows',
 * and ends at the rule that decides.  Programs read claims through the
 * request's claim view (without a token: the view of no claims).  A
 * route without a block (over the loader's limits), and a request with
 * claims but no view, are decided from the table's rules and node
 * trees, claims then read by name or through the view; both ways share
 * the comparisons below or make the same ones on the claims' decoded
 * values, so their answers are the same (test_eval checks, on random
 * policies too).
 *
 * Without a token, allow rules that are not public are skipped (only a
 * token could satisfy them), but every deny is still evaluated, with its
 * token operands missing: a deny on the client address must hold on a
 * public route too.  A deny that matches then answers ZT_NEED_TOKEN
 * (naming the deny), the answer a request without a token gets anyway
 * when nothing allows it; a public deny answers ZT_DENY.
 */
#include <string.h>

#include "zt_eval.h"
#include "zt_prog.h"
#include "zt_word.h"

typedef struct {
    const zt_table_t *t;
    const zt_request_t *rq;
    const unsigned char *code;      /* the programs (zt_prog.h) */
    const uint32_t *view;           /* the claims' view, the view of no
                                       claims, or NULL: read by name */
} zt_eval_ctx_t;

/* An operand's value.  A set is either a TOKEN claim that is not a scalar
 * (v.type ZT_V_OTHER, v.ref its node: only an array has elements) or the
 * client certificate's SANs (san set). */
typedef struct {
    zt_val_t v;
    int san;
} zt_opval_t;

/* ------------------------------------------------------------------ */
/* Operands                                                            */
/* ------------------------------------------------------------------ */

static void zt_val_str(zt_val_t *v, const char *s, size_t len)
{
    v->type = ZT_V_STR;
    v->s = s;
    v->len = len;
}

static void zt_val_int(zt_val_t *v, zt_vtype_e type, int64_t i)
{
    v->type = type;
    v->i = i;
}

/* Days since 1970-01-01 and the second of that day (UTC), for any @a now. */
static void zt_utc_day(int64_t now, int64_t *day, int64_t *sec)
{
    *sec = now % 86400;
    *day = now / 86400;
    if (*sec < 0) {
        *sec += 86400;
        (*day)--;
    }
}

static const char *zt_query_first(const zt_request_t *rq, const char *name,
                                  size_t n, size_t *len)
{
    for (uint32_t k = 0; k < rq->nquery; k++) {
        const zt_qparam_t *q = &rq->query[k];
        if (q->name.len == n && memcmp(q->name.ptr, name, n) == 0) {
            *len = q->value.len;
            return q->value.ptr;
        }
    }
    return NULL;
}

static void zt_operand(const zt_eval_ctx_t *cx, uint32_t idx, zt_opval_t *ov)
{
    const zt_table_t *t = cx->t;
    const zt_request_t *rq = cx->rq;
    const zt_opnd_rec_t *o = &t->opnds[idx];
    zt_val_t *v = &ov->v;
    int64_t day, sec;

    v->type = ZT_V_MISSING;
    v->ref = NULL;
    ov->san = 0;
    switch (o->kind) {
    case ZT_OPND_TOKEN:
        if (rq->claim_view != NULL && t->prog != NULL && t->prog->opnd_slot[idx] != ZT_NONE) {
            zt_claims_get_slot(rq->claims, rq->claim_view, t->prog->opnd_slot[idx], v);
            break;
        }
        zt_claims_get_len(rq->claims, zt_table_str(t, o->str), t->opnd_len[idx],
                          o->n, v);
        break;
    case ZT_OPND_PATH: {
        const zt_span_t *sp = zt_route_capture(t, rq->match, zt_table_str(t, o->str));
        if (sp != NULL) {
            zt_val_str(v, sp->ptr, sp->len);
        }
        break;
    }
    case ZT_OPND_STR:
        zt_val_str(v, zt_table_str(t, o->str), t->opnd_len[idx]);
        break;
    case ZT_OPND_INT:
        zt_val_int(v, ZT_V_INT, o->num);
        break;
    case ZT_OPND_BOOL:
        zt_val_int(v, ZT_V_BOOL, o->num);
        break;
    case ZT_OPND_QUERY: {
        size_t len;
        const char *s = zt_query_first(rq, zt_table_str(t, o->str),
                                       t->opnd_len[idx], &len);
        if (s != NULL) {
            zt_val_str(v, s, len);
        }
        break;
    }
    case ZT_OPND_HEADER: {
        const char *s = rq->header != NULL
                        ? rq->header(rq->header_ctx, zt_table_str(t, o->str)) : NULL;
        if (s != NULL) {
            zt_val_str(v, s, strlen(s));
        }
        break;
    }
    case ZT_OPND_CERT:
        zt_val_int(v, ZT_V_BOOL, rq->cert != 0);
        break;
    case ZT_OPND_CERT_SUBJECT:
        if (rq->cert && rq->cert_subject != NULL) {
            zt_val_str(v, rq->cert_subject, strlen(rq->cert_subject));
        }
        break;
    case ZT_OPND_CERT_SAN:
        if (rq->cert) {
            v->type = ZT_V_OTHER;
            ov->san = 1;
        }
        break;
    case ZT_OPND_TLS_VERSION:
        if (rq->tls_version != NULL) {
            zt_val_str(v, rq->tls_version, strlen(rq->tls_version));
        }
        break;
    case ZT_OPND_TIME_HOUR:
        zt_utc_day(rq->now, &day, &sec);
        zt_val_int(v, ZT_V_INT, sec / 3600);
        break;
    case ZT_OPND_TIME_WEEKDAY:
        zt_utc_day(rq->now, &day, &sec);
        zt_val_str(v, zt_weekdays[(day % 7 + 7) % 7], 3);
        break;
    default:
        break;      /* CLIENT_IP: only IN_CIDR reads it, from the request */
    }
}

/* ------------------------------------------------------------------ */
/* Sets                                                                */
/* ------------------------------------------------------------------ */

/* @a a is a word of the space-separated string @a b (OAuth "scope").
 * The spaces are found 8 bytes at a time; a word is compared only when
 * its length is @a a's. */
static int zt_val_word_of(const zt_val_t *a, const zt_val_t *b)
{
    const char *p = b->s, *end = b->s + b->len, *word = p;

    if (a->len == 0) {
        return 0;               /* words are not empty */
    }
    for (; p < end; p += 8) {
        size_t r = (size_t)(end - p);
        uint64_t sp;

        if (r >= 8) {
            sp = zt_bytes_equal_to(zt_load8(p), ' ');
        }
        else {                  /* the tail, read as the last word */
            uint64_t w = 0;
            if (b->len >= 8) {
                w = zt_load8(end - 8) >> (8 * (8 - r));
            }
            else {
                for (size_t k = 0; k < r; k++) {
                    w |= (uint64_t)(unsigned char)p[k] << (8 * k);
                }
            }
            sp = zt_bytes_equal_to(w, ' ') & ((UINT64_C(1) << (8 * r)) - 1);
        }
        for (; sp != 0; sp &= sp - 1) {
            const char *q = p + __builtin_ctzll(sp) / 8;
            if ((size_t)(q - word) == a->len && memcmp(word, a->s, a->len) == 0) {
                return 1;
            }
            word = q + 1;
        }
    }
    return (size_t)(end - word) == a->len && memcmp(word, a->s, a->len) == 0;
}

static int zt_san_has(const zt_request_t *rq, const zt_val_t *a)
{
    if (a->type != ZT_V_STR) {
        return 0;
    }
    for (uint32_t k = 0; k < rq->ncert_san; k++) {
        const char *s = rq->cert_san[k];
        if (s != NULL && strlen(s) == a->len && memcmp(s, a->s, a->len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Scalar @a a is a member of set @a b: an element of a TOKEN array, a
 * word of a TOKEN string, or one of the certificate's SANs. */
static int zt_member(const zt_request_t *rq, const zt_val_t *a, const zt_opval_t *b)
{
    if (!zt_val_scalar(a)) {
        return 0;
    }
    if (b->san) {
        return zt_san_has(rq, a);
    }
    if (b->v.type == ZT_V_OTHER) {
        return zt_claims_array_has(&b->v, a);
    }
    return a->type == ZT_V_STR && b->v.type == ZT_V_STR && zt_val_word_of(a, &b->v);
}

/* IN_LIST can hold for @a a: a scalar, or a set of which some element
 * counts. */
static int zt_list_subject(const zt_opval_t *a)
{
    return zt_val_scalar(&a->v) || a->v.type == ZT_V_OTHER;
}

/* List member @a b is @a a (a scalar), or an element of @a a (a set). */
static int zt_list_hit(const zt_request_t *rq, const zt_opval_t *a, const zt_opval_t *b)
{
    if (!zt_val_scalar(&b->v)) {
        return 0;
    }
    return zt_val_scalar(&a->v) ? zt_val_equal(&a->v, &b->v) : zt_member(rq, &b->v, a);
}

/* IN_LIST: @a a equals one of the @a count literal operands listed from
 * LIST index @a first. */
static int zt_in_list(const zt_eval_ctx_t *cx, const zt_opval_t *a,
                      uint32_t first, uint32_t count)
{
    if (!zt_list_subject(a)) {
        return 0;
    }
    for (uint32_t k = 0; k < count; k++) {
        zt_opval_t b;
        zt_operand(cx, cx->t->lists[first + k], &b);
        if (zt_list_hit(cx->rq, a, &b)) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Client address                                                      */
/* ------------------------------------------------------------------ */

static const uint8_t zt_v4_mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

/* The first @a bits bits of @a a and @a b are equal. */
static int zt_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, whole) != 0) {
        return 0;
    }
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

/*
 * The client address is in one of the blocks.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d, and a block
 * inside ::ffff:0:0/96 is the IPv4 block it maps, so a dual-stack socket
 * changes nothing.  Other IPv6 blocks never hold an IPv4 client.
 */
static int zt_in_cidr(const zt_eval_ctx_t *cx, uint32_t first, uint32_t count)
{
    const zt_request_t *rq = cx->rq;
    const uint8_t *ip = rq->ip;
    unsigned family = rq->ip_family;

    if (family == 6 && memcmp(ip, zt_v4_mapped, 12) == 0) {
        family = 4;
        ip += 12;
    }
    if (family != 4 && family != 6) {
        return 0;
    }
    for (uint32_t k = 0; k < count; k++) {
        const zt_cidr_rec_t *c = &cx->t->cidrs[first + k];
        const uint8_t *addr = c->addr;
        unsigned cfam = c->family, prefix = c->prefix;

        if (cfam == 6 && prefix >= 96 && memcmp(addr, zt_v4_mapped, 12) == 0) {
            cfam = 4;
            addr += 12;
            prefix -= 96;
        }
        if (cfam == family && zt_prefix_equal(ip, addr, prefix)) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Conditions                                                          */
/* ------------------------------------------------------------------ */

static int zt_order(uint32_t op, int64_t a, int64_t b)
{
    switch (op) {
    case ZT_OP_LT: return a < b;
    case ZT_OP_LE: return a <= b;
    case ZT_OP_GT: return a > b;
    default:       return a >= b;
    }
}

/* Comparison @a op (EQ, NE, IN_CLAIM or an ordering) of two values. */
static int zt_compare(const zt_eval_ctx_t *cx, uint32_t op, const zt_opval_t *a,
                      const zt_opval_t *b)
{
    switch (op) {
    case ZT_OP_EQ:
    case ZT_OP_NE:
        if (!zt_val_scalar(&a->v) || !zt_val_scalar(&b->v)) {
            return 0;
        }
        return zt_val_equal(&a->v, &b->v) == (op == ZT_OP_EQ);
    case ZT_OP_IN_CLAIM:
        return zt_member(cx->rq, &a->v, b);
    default:
        return a->v.type == ZT_V_INT && b->v.type == ZT_V_INT
               && zt_order(op, a->v.i, b->v.i);
    }
}

/*
 * Evaluate node @a i.  This recurses, which is safe because the loader
 * verified that children come after their parents and that every node's
 * depth is at most ZT_MAX_COND_DEPTH and its tree size at most
 * ZT_MAX_COND_NODES: the stack holds at most 128 small frames and one
 * rule costs at most 4096 node visits.
 */
static int zt_eval_node(const zt_eval_ctx_t *cx, uint32_t i)
{
    const zt_node_rec_t *n = &cx->t->nodes[i];
    zt_opval_t a, b;

    switch (n->op) {
    case ZT_OP_TRUE:
        return 1;
    case ZT_OP_AND:
        return zt_eval_node(cx, n->a) && zt_eval_node(cx, n->b);
    case ZT_OP_OR:
        return zt_eval_node(cx, n->a) || zt_eval_node(cx, n->b);
    case ZT_OP_NOT:
        return !zt_eval_node(cx, n->a);
    case ZT_OP_EQ:
    case ZT_OP_NE:
    case ZT_OP_LT:
    case ZT_OP_LE:
    case ZT_OP_GT:
    case ZT_OP_GE:
    case ZT_OP_IN_CLAIM:
        zt_operand(cx, n->a, &a);
        zt_operand(cx, n->b, &b);
        return zt_compare(cx, n->op, &a, &b);
    case ZT_OP_IN_LIST:
        zt_operand(cx, n->a, &a);
        return zt_in_list(cx, &a, n->b, n->c);
    case ZT_OP_IN_CIDR:
        return cx->t->opnds[n->a].kind == ZT_OPND_CLIENT_IP
               && zt_in_cidr(cx, n->b, n->c);
    }
    return 0;   /* not reached: opcodes are verified at load */
}

/* ------------------------------------------------------------------ */
/* Programs                                                            */
/* ------------------------------------------------------------------ */

/* The value of an operand resolved for the matched route: the common
 * kinds here, the rest as the table has them (zt_operand). */
static void zt_poperand(const zt_eval_ctx_t *cx, const zt_popnd_t *o, zt_opval_t *ov)
{
    const zt_request_t *rq = cx->rq;
    zt_val_t *v = &ov->v;

    ov->san = 0;
    v->ref = NULL;
    switch (o->kind) {
    case ZT_OPND_TOKEN:
        if (o->x == ZT_NONE) {
            break;
        }
        zt_claims_get_slot(rq->claims, cx->view, o->x, v);
        return;
    case ZT_OPND_PATH:
        v->type = ZT_V_MISSING;
        if (o->x < rq->match->nseg) {
            zt_val_str(v, rq->match->seg[o->x].ptr, rq->match->seg[o->x].len);
        }
        return;
    case ZT_OPND_STR:
        zt_val_str(v, (const char *)cx->code + o->y.idx, o->x);
        return;
    case ZT_OPND_INT:
        zt_val_int(v, ZT_V_INT, o->y.num);
        return;
    case ZT_OPND_BOOL:
        zt_val_int(v, ZT_V_BOOL, o->y.num);
        return;
    default:
        break;
    }
    zt_operand(cx, (uint32_t)o->y.idx, ov);
}

/* ZT_PI_GENERIC: instruction @a in, operand by operand from its
 * zt_pside_t (an IN_LIST's members are constants of the code). */
static int zt_pins_generic(const zt_eval_ctx_t *cx, const zt_pins_t *in)
{
    const zt_pside_t *sd = (const zt_pside_t *)(const void *)(cx->code + in->x);
    zt_opval_t a, b;

    zt_poperand(cx, &sd->a, &a);
    if (in->op != ZT_OP_IN_LIST) {
        zt_poperand(cx, &sd->b, &b);
        return zt_compare(cx, in->op, &a, &b);
    }
    if (!zt_list_subject(&a)) {
        return 0;
    }
    for (uint32_t k = 0; k < (uint32_t)sd->b.y.num; k++) {
        zt_poperand(cx, (const zt_popnd_t *)(const void *)(cx->code + sd->b.x) + k, &b);
        if (zt_list_hit(cx->rq, &a, &b)) {
            return 1;
        }
    }
    return 0;
}

/* The @a len bytes at @a s are one of the literals of list @a list
 * (zt_plist); compared by zt_claims_str_eq() when @a words (@a s is a
 * claim's), else by memcmp(). */
static int zt_pin_strs(const unsigned char *code, uint32_t list, const char *s, size_t len,
                       int words)
{
    uint32_t count, at = zt_plist_first(code, list, &count);

    for (uint32_t k = 0; k < count; k++, at = zt_plist_next(code, at)) {
        const char *lit = (const char *)code + at;
        if (zt_plit_len(code, at) == len
            && (words ? zt_claims_str_eq(s, lit, len) : memcmp(s, lit, len) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* ZT_PI_CLAIM_IN_STRS of an array claim: one of its elements is one of
 * the literals listed. */
static int zt_pin_array(const zt_eval_ctx_t *cx, const zt_pins_t *in)
{
    uint32_t count, at = zt_plist_first(cx->code, in->x, &count);
    zt_val_t arr, lit;

    zt_claims_get_slot(cx->rq->claims, cx->view, in->slot, &arr);
    for (uint32_t k = 0; k < count; k++, at = zt_plist_next(cx->code, at)) {
        zt_val_str(&lit, (const char *)cx->code + at, zt_plit_len(cx->code, at));
        if (zt_claims_array_has(&arr, &lit)) {
            return 1;
        }
    }
    return 0;
}

/* ZT_PI_SET_HAS when the index is over its size: the claim itself has
 * literal x. */
static __attribute__((noinline))
int zt_pin_set_scan(const zt_eval_ctx_t *cx, const zt_cset_t *x, const zt_pins_t *in)
{
    zt_opval_t a, set;

    zt_val_str(&a.v, (const char *)cx->code + in->x, zt_plit_len(cx->code, in->x));
    set.san = 0;
    zt_claims_get_slot(cx->rq->claims, cx->view, x->slot, &set.v);
    return zt_member(cx->rq, &a.v, &set);
}

/* ZT_PI_SET_HAS once the filter let literal x through, the index @a x of
 * the claims @a c within its size: a member has its hash, length and
 * bytes. */
static inline int zt_pin_set(const zt_claims_t *c, const unsigned char *code,
                             const zt_cset_t *x, const zt_pins_t *in)
{
    for (uint32_t k = 0; k < x->n; k++) {
        if (x->m[k].hash == in->y) {    /* the literal is read only now */
            uint32_t len = zt_plit_len(code, in->x);
            if (x->m[k].len == len
                && zt_claims_str_eq((const char *)c + x->m[k].off,
                                    (const char *)code + in->x, len)) {
                return 1;
            }
        }
    }
    return 0;
}

/* The claim string @a s (zt_cval_str) is capture @a seg, of the same
 * length; the capture can be read only within its bytes.  Captures are
 * short: byte by byte costs less than the call. */
static inline int zt_capture_eq(const char *s, const zt_span_t *seg)
{
    if (seg->len > 16) {
        return memcmp(s, seg->ptr, seg->len) == 0;
    }
    for (uint32_t k = 0; k < seg->len; k++) {
        if (s[k] != seg->ptr[k]) {
            return 0;
        }
    }
    return 1;
}

/* The bit of the request's weekday (zt_weekdays). */
static uint32_t zt_weekday_bit(int64_t now)
{
    int64_t day, sec;

    if (now >= 0) {         /* the clock: unsigned division is cheaper */
        return 1u << ((uint64_t)now / 86400 % 7);
    }
    zt_utc_day(now, &day, &sec);
    return 1u << ((day % 7 + 7) % 7);
}

/* The index of TLS version @a s in zt_tls_versions, or -1: read byte by
 * byte, so never past its NUL. */
static inline int zt_tls_index(const char *s)
{
    if (s[0] != 'T' || s[1] != 'L' || s[2] != 'S' || s[3] != 'v' || s[4] != '1') {
        return -1;
    }
    if (s[5] == '\0') {
        return 0;
    }
    if (s[5] != '.' || s[6] < '1' || s[6] > '3' || s[7] != '\0') {
        return -1;
    }
    return s[6] - '0';
}

/* ------------------------------------------------------------------ */
/* Decision                                                            */
/* ------------------------------------------------------------------ */

/* The token meets step-up requirement @a s: its "acr" is listed (when a
 * list is given) and its "auth_time" is at most max_age seconds old. */
static int zt_stepup_met(const zt_eval_ctx_t *cx, const zt_stepup_rec_t *s)
{
    const zt_request_t *rq = cx->rq;
    zt_val_t v;

    if (s->acr_count > 0) {
        zt_opval_t acr;
        acr.san = 0;
        zt_claims_get(rq->claims, "acr", 1, &acr.v);
        if (acr.v.type != ZT_V_STR || !zt_in_list(cx, &acr, s->acr_first, s->acr_count)) {
            return 0;
        }
    }
    if (s->max_age > 0) {
        zt_claims_get(rq->claims, "auth_time", 1, &v);
        /* now - max_age cannot overflow for any real clock; guard anyway */
        if (v.type != ZT_V_INT
            || (rq->now >= INT64_MIN + (int64_t)s->max_age
                && v.i < rq->now - (int64_t)s->max_age)) {
            return 0;
        }
    }
    return 1;
}

static inline void zt_decided(zt_decision_t *d, zt_verdict_e verdict, uint32_t rule,
                              uint32_t stepup)
{
    d->verdict = verdict;
    d->rule = rule;
    d->stepup = stepup;
}

/* The verdict once allow rule @a rule holds and no deny does, under the
 * route's step-up requirement @a stepup (ZT_NONE: none); both evaluators
 * end here. */
static inline void zt_allowed_by(zt_eval_ctx_t *cx, uint32_t rule, uint32_t stepup,
                                 int token, zt_decision_t *d)
{
    if (stepup != ZT_NONE && !zt_stepup_met(cx, &cx->t->stepups[stepup])) {
        /* Without a token the requirement cannot be met: ask for one. */
        zt_decided(d, token ? ZT_STEPUP : ZT_NEED_TOKEN, rule, stepup);
        return;
    }
    zt_decided(d, ZT_ALLOW, rule, ZT_NONE);
}

/*
 * Decide from the table's rules and node trees: a route without a block,
 * or claims without a view.
 */
static __attribute__((noinline))
void zt_eval_tree(const zt_table_t *t, const zt_request_t *rq, zt_decision_t *d)
{
    zt_eval_ctx_t cx;
    const zt_route_rec_t *r = &t->routes[rq->match->route];
    uint32_t allow = ZT_NONE;
    int token = rq->claims != NULL;

    d->verdict = ZT_DENY;
    d->rule = ZT_NONE;
    d->stepup = ZT_NONE;
    cx.t = t;
    cx.rq = rq;
    cx.code = t->prog != NULL ? t->prog->code : NULL;
    cx.view = token ? rq->claim_view : t->prog != NULL ? t->prog->no_claims : NULL;
    for (uint32_t k = 0; k < r->rref_count; k++) {
        uint32_t ri = t->rrefs[r->rref_first + k];
        uint32_t effect = t->rules[ri].effect;
        int public = (t->rules[ri].flags & ZT_RULE_PUBLIC) != 0;

        if (effect == ZT_EFFECT_ALLOW
            && (allow != ZT_NONE || (!token && !public))) {
            continue;       /* one allow is enough; or only a token could */
        }
        if (t->rules[ri].cond != ZT_NONE && !zt_eval_node(&cx, t->rules[ri].cond)) {
            continue;
        }
        if (effect == ZT_EFFECT_DENY) {
            d->rule = ri;   /* refs ascend: the first deny in rule order */
            d->verdict = token || public ? ZT_DENY : ZT_NEED_TOKEN;
            return;
        }
        allow = ri;
    }
    if (allow == ZT_NONE) {
        d->verdict = token ? ZT_DENY : ZT_NEED_TOKEN;
        return;
    }
    zt_allowed_by(&cx, allow, r->stepup, token, d);
}

/*
 * A route with a block runs its program (zt_prog.h) here.  The run is
 * threaded (labels as values, as Lua's VM can be built): each
 * instruction's code ends by jumping straight to the next one's, and an
 * end sets the decision and returns, so no loop tests for the end and
 * no switch checks its range (the codes are the loader's own, never
 * read from a file).  It lives in this function because GCC inlines
 * none that takes a label's address.  The common cases make no call,
 * and only the calls fill the context.  Labels as values are GNU C:
 * configure refuses a compiler without them.
 */
void zt_eval_decide(const zt_table_t *t, const zt_request_t *rq,
                    zt_decision_t *d)
{
    static const void *const run[ZT_PI__COUNT] = {
        [ZT_PI_GENERIC] = &&generic,
        [ZT_PI_SET_HAS] = &&set_has,
        [ZT_PI_CLAIM_STR] = &&claim_str,
        [ZT_PI_CLAIM_INT] = &&claim_num,
        [ZT_PI_CLAIM_BOOL] = &&claim_num,
        [ZT_PI_CLAIM_PATH] = &&claim_path,
        [ZT_PI_CLAIM_ORDER] = &&claim_order,
        [ZT_PI_CLAIM_IN_STRS] = &&claim_in_strs,
        [ZT_PI_TLS_IN_STRS] = &&tls_in_strs,
        [ZT_PI_WEEKDAY_IN] = &&weekday_in,
        [ZT_PI_IN_CIDR] = &&in_cidr,
        [ZT_PI_CALL] = &&call,
        [ZT_PI_JUMP] = &&jump,
        [ZT_PI_DENY] = &&deny,
        [ZT_PI_ALLOW] = &&allow,
        [ZT_PI_NONE] = &&none,
        [ZT_PI_YES] = &&yes,
        [ZT_PI_NO] = &&no
    };
    zt_eval_ctx_t cx;
    const zt_claims_t *c;
    const uint32_t *view;
    const char *code;
    const zt_proute_t *pr;
    const zt_pins_t *in, *caller = NULL;
    const zt_pend_t *end;
    const zt_cval_t *v;
    const zt_cset_t *x;
    const zt_span_t *seg;
    uint32_t block, lines;
    int tls;

    if (rq == NULL || rq->match == NULL || rq->match->route >= t->nroutes) {
        zt_decided(d, ZT_DENY, ZT_NONE, ZT_NONE);
        return;             /* no route: nothing can allow */
    }
    c = rq->claims;
    if (t->prog == NULL
        || (view = c != NULL ? rq->claim_view : t->prog->no_claims) == NULL
        || (block = t->prog->route[rq->match->route]) == ZT_NONE) {
        zt_eval_tree(t, rq, d);
        return;
    }
    code = (const char *)t->prog->code;
    in = zt_prog_head((const unsigned char *)code, block)->ins;
    /* Ask for the block's other lines now (ZT_PROG_LINES); the usual two
     * without a test: past a shorter block they are the next one's. */
    __builtin_prefetch((const char *)in + 64);
    __builtin_prefetch((const char *)in + 128);
    for (lines = block & ZT_PROG_LINES; lines > 2; lines--) {
        __builtin_prefetch((const char *)in + 64 * lines);
    }

/* Run the instruction @a ahead 8-byte units after this one next (t or f
 * of an instruction: the one that holds or does not). */
#define ZT_GO(ahead) \
    do { \
        in = (const zt_pins_t *)(const void *)((const char *)in + 8 * (size_t)(ahead)); \
        goto *run[in->code]; \
    } while (0)
#define ZT_IF(cond) do { if (cond) { ZT_GO(in->t); } ZT_GO(in->f); } while (0)
/* The context, for a call. */
#define ZT_CX()     (cx.t = t, cx.rq = rq, cx.code = (const unsigned char *)code, \
                     cx.view = view, &cx)

    goto *run[in->code];

set_has:
    x = zt_cset(view, in->slot);
    if (!zt_cset_may_have(x, in->y)) {
        ZT_GO(in->f);
    }
    if (x->n == ZT_CSET_UNKNOWN) {
        ZT_IF(zt_pin_set_scan(ZT_CX(), x, in));
    }
    ZT_IF(zt_pin_set(c, (const unsigned char *)code, x, in));

claim_str:
    v = zt_cval(view, in->slot);
    ZT_IF(zt_cval_scalar(v)
          && (v->type == ZT_V_STR && v->a == in->y
              && zt_claims_str_eq(zt_cval_str(c, v), code + in->x, v->a))
             != (in->op == ZT_OP_NE));

claim_num:
    v = zt_cval(view, in->slot);
    ZT_IF(zt_cval_scalar(v)
          && (v->type == (in->code == ZT_PI_CLAIM_INT ? ZT_V_INT : ZT_V_BOOL)
              && v->a == in->x && v->b == in->y)
             != (in->op == ZT_OP_NE));

claim_path:
    if (in->x >= rq->match->nseg) {
        ZT_GO(in->f);       /* no capture: missing */
    }
    v = zt_cval(view, in->slot);
    seg = &rq->match->seg[in->x];
    ZT_IF(zt_cval_scalar(v)
          && (v->type == ZT_V_STR && v->a == seg->len
              && zt_capture_eq(zt_cval_str(c, v), seg))
             != (in->op == ZT_OP_NE));

claim_order:
    v = zt_cval(view, in->slot);
    ZT_IF(v->type == ZT_V_INT
          && zt_order(in->op, zt_cval_int(v), (int64_t)((uint64_t)in->y << 32 | in->x)));

claim_in_strs:
    v = zt_cval(view, in->slot);
    if (v->type == ZT_V_STR) {
        ZT_IF(((in->y >> (v->a & 31)) & 1)
              && zt_pin_strs((const unsigned char *)code, in->x, zt_cval_str(c, v), v->a, 1));
    }
    ZT_IF(v->type == ZT_V_OTHER && zt_pin_array(ZT_CX(), in));

tls_in_strs:
    if (rq->tls_version == NULL) {
        ZT_GO(in->f);
    }
    if ((tls = zt_tls_index(rq->tls_version)) >= 0) {
        ZT_IF((in->y >> tls) & 1);
    }
    ZT_IF(zt_pin_strs((const unsigned char *)code, in->x, rq->tls_version,
                      strlen(rq->tls_version), 0));

weekday_in:
    ZT_IF((in->y & zt_weekday_bit(rq->now)) != 0);

in_cidr:
    ZT_IF(zt_in_cidr(ZT_CX(), in->x, in->y));

generic:
    ZT_IF(zt_pins_generic(ZT_CX(), in));

call:                       /* a shared program calls none */
    caller = in;
    in = (const zt_pins_t *)(const void *)(code + in->x + 8 * (size_t)in->slot);
    goto *run[in->code];

jump:
    ZT_GO(in->t);

yes:
    in = caller;
    ZT_GO(in->t);

no:
    in = caller;
    ZT_GO(in->f);

deny:
    end = (const zt_pend_t *)(const void *)in;
    zt_decided(d, c != NULL || (end->flags & ZT_PEND_PUBLIC) ? ZT_DENY : ZT_NEED_TOKEN,
               end->rule, ZT_NONE);
    return;

allow:
    end = (const zt_pend_t *)(const void *)in;
    if (c == NULL || (end->flags & ZT_PEND_STEPUP)) {
        /* The header again: the run keeps none, for these rare cases. */
        pr = zt_prog_head((const unsigned char *)code, block);
        if (c == NULL && !(end->flags & ZT_PEND_PUBLIC)) {  /* only a token could */
            in = (const zt_pins_t *)(const void *)((const char *)pr->ins + 8 * (size_t)end->next);
            goto *run[in->code];
        }
        if (end->flags & ZT_PEND_STEPUP) {
            zt_allowed_by(ZT_CX(), end->rule, pr->stepup, c != NULL, d);
            return;
        }
    }
    zt_decided(d, ZT_ALLOW, end->rule, ZT_NONE);
    return;

none:
    zt_decided(d, c != NULL ? ZT_DENY : ZT_NEED_TOKEN, ZT_NONE, ZT_NONE);
    return;

#undef ZT_CX
#undef ZT_IF
#undef ZT_GO
}
