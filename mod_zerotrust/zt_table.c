/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Load and verify a .ztb table (zt_format.h), once and completely.
 *
 * The order is: header, SHA-256 trailer, section table, then the records
 * from the leaves up (strings, operands, lists, address blocks, types and
 * their automata, nodes, rules, segments, parameters, bodies, step-ups, limits, routes,
 * issuers, meta), so each check may rely on what it refers to having been
 * checked already.  Every failure names the file and the
 * numbers at fault.  After zt_table_load() returns APR_SUCCESS, readers
 * index the arrays without bounds checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "zt_ascii.h"
#include "zt_dfa.h"
#include "zt_table.h"
#include "zt_body.h"
#include "zt_validate.h"

/* The table is read in place: the host must share its byte order and the
 * compiler its record layout. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mod_zerotrust reads its little-endian table in place: little-endian hosts only"
#endif
_Static_assert(sizeof(zt_hdr_t) == 24, "zt_hdr_t layout");
_Static_assert(sizeof(zt_sect_t) == 12, "zt_sect_t layout");
_Static_assert(sizeof(zt_meta_rec_t) == 8, "zt_meta_rec_t layout");
_Static_assert(sizeof(zt_issuer_rec_t) == 64, "zt_issuer_rec_t layout");
_Static_assert(sizeof(zt_route_rec_t) == 64, "zt_route_rec_t layout");
_Static_assert(sizeof(zt_seg_rec_t) == 12, "zt_seg_rec_t layout");
_Static_assert(sizeof(zt_rule_rec_t) == 24, "zt_rule_rec_t layout");
_Static_assert(sizeof(zt_node_rec_t) == 16, "zt_node_rec_t layout");
_Static_assert(sizeof(zt_opnd_rec_t) == 24 && offsetof(zt_opnd_rec_t, num) == 16,
               "zt_opnd_rec_t layout");
_Static_assert(sizeof(zt_cidr_rec_t) == 20 && offsetof(zt_cidr_rec_t, addr) == 4,
               "zt_cidr_rec_t layout");
_Static_assert(sizeof(zt_type_rec_t) == 40 && offsetof(zt_type_rec_t, min) == 24,
               "zt_type_rec_t layout");
_Static_assert(sizeof(zt_param_rec_t) == 16, "zt_param_rec_t layout");
_Static_assert(sizeof(zt_body_rec_t) == 24, "zt_body_rec_t layout");
_Static_assert(sizeof(zt_stepup_rec_t) == 24, "zt_stepup_rec_t layout");
_Static_assert(sizeof(zt_limit_rec_t) == 24, "zt_limit_rec_t layout");

#define ZT_MIN_FILE_LEN  (sizeof(zt_hdr_t) + ZT_HASH_LEN)

typedef struct {
    const char *name;
    apr_pool_t *pool;
    const char **err;
    zt_table_t *t;
} zt_loader_t;

/* The known sections, in the order the loader fills them. */
enum {
    ZT_S_STRS, ZT_S_META, ZT_S_ISSR, ZT_S_ROUT, ZT_S_SEGS, ZT_S_RULE,
    ZT_S_RREF, ZT_S_NODE, ZT_S_OPND, ZT_S_LIST, ZT_S_CIDR, ZT_S_TYPE,
    ZT_S_PARM, ZT_S_BODY, ZT_S_BLOB, ZT_S_STEP, ZT_S_LIMT, ZT_S_LREF,
    ZT_S_DFAS, ZT_S__COUNT
};

static const struct {
    uint32_t tag;
    uint32_t recsize;       /* 1 for the byte-sized string pool */
} zt_known_sections[ZT_S__COUNT] = {
    [ZT_S_STRS] = { ZT_TAG_STRS, 1 },
    [ZT_S_META] = { ZT_TAG_META, sizeof(zt_meta_rec_t) },
    [ZT_S_ISSR] = { ZT_TAG_ISSR, sizeof(zt_issuer_rec_t) },
    [ZT_S_ROUT] = { ZT_TAG_ROUT, sizeof(zt_route_rec_t) },
    [ZT_S_SEGS] = { ZT_TAG_SEGS, sizeof(zt_seg_rec_t) },
    [ZT_S_RULE] = { ZT_TAG_RULE, sizeof(zt_rule_rec_t) },
    [ZT_S_RREF] = { ZT_TAG_RREF, sizeof(uint32_t) },
    [ZT_S_NODE] = { ZT_TAG_NODE, sizeof(zt_node_rec_t) },
    [ZT_S_OPND] = { ZT_TAG_OPND, sizeof(zt_opnd_rec_t) },
    [ZT_S_LIST] = { ZT_TAG_LIST, sizeof(uint32_t) },
    [ZT_S_CIDR] = { ZT_TAG_CIDR, sizeof(zt_cidr_rec_t) },
    [ZT_S_TYPE] = { ZT_TAG_TYPE, sizeof(zt_type_rec_t) },
    [ZT_S_PARM] = { ZT_TAG_PARM, sizeof(zt_param_rec_t) },
    [ZT_S_BODY] = { ZT_TAG_BODY, sizeof(zt_body_rec_t) },
    [ZT_S_BLOB] = { ZT_TAG_BLOB, 8 },   /* schemas, each padded to 8 bytes */
    [ZT_S_STEP] = { ZT_TAG_STEP, sizeof(zt_stepup_rec_t) },
    [ZT_S_LIMT] = { ZT_TAG_LIMT, sizeof(zt_limit_rec_t) },
    [ZT_S_LREF] = { ZT_TAG_LREF, sizeof(uint32_t) },
    [ZT_S_DFAS] = { ZT_TAG_DFAS, 8 },   /* automata, each a multiple of 8 bytes */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static apr_status_t zt_bad(zt_loader_t *ld, const char *fmt, ...)
{
    va_list ap;
    char *detail;

    va_start(ap, fmt);
    detail = apr_pvsprintf(ld->pool, fmt, ap);
    va_end(ap);
    *ld->err = apr_psprintf(ld->pool, "%s: bad table (%s)", ld->name, detail);
    return APR_EINVAL;
}

/* A tag as text for messages: its four bytes if printable, else hex. */
static const char *zt_tag_text(apr_pool_t *pool, uint32_t tag)
{
    char s[5];

    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        if (c < 0x21 || c > 0x7e || c == '\'') {
            return apr_psprintf(pool, "0x%08x", tag);
        }
        s[i] = (char)c;
    }
    s[4] = '\0';
    return apr_psprintf(pool, "'%s'", s);
}

static int zt_all_zero(const unsigned char *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static int zt_has_upper(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            return 1;
        }
    }
    return 0;
}

/* NULL if @a off is the start of a string in the (verified) pool. */
static const char *zt_str_problem(const zt_table_t *t, uint32_t off)
{
    if (off >= t->strs_len) {
        return "is past the end of the string pool";
    }
    if (off > 0 && t->strs[off - 1] != '\0') {
        return "is not at the start of a string";
    }
    return NULL;
}

#define ZT_CHECK_STR(ld, what, idx, field, off)                              \
    do {                                                                     \
        const char *p_ = zt_str_problem((ld)->t, (off));                     \
        if (p_ != NULL) {                                                    \
            return zt_bad((ld), "%s %u: %s: string offset %u %s (%u bytes)", \
                          (what), (idx), (field), (off), p_,                 \
                          (ld)->t->strs_len);                                \
        }                                                                    \
    } while (0)

#define ZT_CHECK_NONEMPTY(ld, what, idx, field, off)                         \
    do {                                                                     \
        ZT_CHECK_STR(ld, what, idx, field, off);                             \
        if ((ld)->t->strs[(off)] == '\0') {                                  \
            return zt_bad((ld), "%s %u: %s is empty", (what), (idx), (field)); \
        }                                                                    \
    } while (0)

/* ------------------------------------------------------------------ */
/* Header, trailer and section table                                   */
/* ------------------------------------------------------------------ */

static apr_status_t zt_load_header(zt_loader_t *ld, const unsigned char *base,
                                   apr_size_t len, const zt_hdr_t **hdrp)
{
    const zt_hdr_t *h = (const zt_hdr_t *)base;
    uint32_t need;

    if (len < ZT_MIN_FILE_LEN) {
        return zt_bad(ld, "file is %" APR_SIZE_T_FMT " bytes, the minimum is %u",
                      len, (unsigned)ZT_MIN_FILE_LEN);
    }
    if (len > ZT_MAX_FILE_LEN) {
        return zt_bad(ld, "file is %" APR_SIZE_T_FMT " bytes, the limit is %u",
                      len, (unsigned)ZT_MAX_FILE_LEN);
    }
    if (memcmp(h->magic, ZT_MAGIC, ZT_MAGIC_LEN) != 0) {
        return zt_bad(ld, "bad magic %02x %02x %02x %02x, not a .ztb file",
                      h->magic[0], h->magic[1], h->magic[2], h->magic[3]);
    }
    if (h->version >= 1 && h->version < ZT_FORMAT_VERSION) {
        return zt_bad(ld, "format version %u; recompile with this zpc, which "
                      "writes version %u", (unsigned)h->version,
                      (unsigned)ZT_FORMAT_VERSION);
    }
    if (h->version != ZT_FORMAT_VERSION) {
        return zt_bad(ld, "format version %u, this reader knows %u",
                      (unsigned)h->version, (unsigned)ZT_FORMAT_VERSION);
    }
    if (h->flags != 0 || h->reserved != 0) {
        return zt_bad(ld, "header flags 0x%x reserved 0x%x, both must be 0",
                      (unsigned)h->flags, h->reserved);
    }
    if (h->file_len != len) {
        return zt_bad(ld, "header says %u bytes, file has %" APR_SIZE_T_FMT,
                      h->file_len, len);
    }
    if (h->nsect == 0 || h->nsect > ZT_MAX_SECTIONS) {
        return zt_bad(ld, "%u sections, must be 1..%u", h->nsect,
                      (unsigned)ZT_MAX_SECTIONS);
    }
    need = (uint32_t)(sizeof(zt_hdr_t) + h->nsect * sizeof(zt_sect_t) + 7) & ~7u;
    if (h->hdr_len % 8 != 0 || h->hdr_len < need
        || h->hdr_len > h->file_len - ZT_HASH_LEN) {
        return zt_bad(ld, "hdr_len %u, must be 8-aligned and in %u..%u",
                      h->hdr_len, need, h->file_len - ZT_HASH_LEN);
    }
    {
        uint32_t tab_end = (uint32_t)(sizeof(zt_hdr_t) + h->nsect * sizeof(zt_sect_t));
        if (!zt_all_zero(base + tab_end, h->hdr_len - tab_end)) {
            return zt_bad(ld, "header padding %u..%u is not zero",
                          tab_end, h->hdr_len);
        }
    }
    *hdrp = h;
    return APR_SUCCESS;
}

static apr_status_t zt_load_trailer(zt_loader_t *ld, const unsigned char *base,
                                    uint32_t len)
{
    zt_table_t *t = ld->t;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    if (EVP_Digest(base, len - ZT_HASH_LEN, md, &mdlen, EVP_sha256(), NULL) != 1
        || mdlen != ZT_HASH_LEN) {
        *ld->err = apr_psprintf(ld->pool, "%s: cannot compute SHA-256", ld->name);
        return APR_EGENERAL;
    }
    if (memcmp(md, base + len - ZT_HASH_LEN, ZT_HASH_LEN) != 0) {
        return zt_bad(ld, "SHA-256 of bytes 0..%u does not match the trailer: "
                      "the file is corrupt or was modified", len - ZT_HASH_LEN);
    }
    memcpy(t->sha256, md, ZT_HASH_LEN);
    for (int i = 0; i < ZT_HASH_LEN; i++) {
        t->hash_hex[2 * i] = hex[md[i] >> 4];
        t->hash_hex[2 * i + 1] = hex[md[i] & 0xf];
    }
    t->hash_hex[2 * ZT_HASH_LEN] = '\0';
    return APR_SUCCESS;
}

/*
 * Bounds, alignment, overlap, duplicates and tags of every section; the
 * bytes no section covers must be zero, so a table has no hidden content.
 * On success found[k] is the section table entry of known section k.
 */
static apr_status_t zt_load_sections(zt_loader_t *ld, const unsigned char *base,
                                     const zt_hdr_t *h,
                                     const zt_sect_t *found[ZT_S__COUNT])
{
    const zt_sect_t *sect = (const zt_sect_t *)(base + sizeof(zt_hdr_t));
    const unsigned char *payload = base + h->hdr_len;
    uint32_t psize = h->file_len - ZT_HASH_LEN - h->hdr_len;
    uint32_t order[ZT_MAX_SECTIONS], norder = 0, pos;

    for (int k = 0; k < ZT_S__COUNT; k++) {
        found[k] = NULL;
    }
    for (uint32_t i = 0; i < h->nsect; i++) {
        const zt_sect_t *s = &sect[i];
        int k;

        if (s->off % 8 != 0) {
            return zt_bad(ld, "section %u %s: offset %u is not 8-aligned",
                          i, zt_tag_text(ld->pool, s->tag), s->off);
        }
        if (s->off > psize || s->len > psize - s->off) {
            return zt_bad(ld, "section %u %s: offset %u length %u exceeds the "
                          "%u-byte payload", i, zt_tag_text(ld->pool, s->tag),
                          s->off, s->len, psize);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (sect[j].tag == s->tag) {
                return zt_bad(ld, "section %u %s: duplicate of section %u",
                              i, zt_tag_text(ld->pool, s->tag), j);
            }
        }
        for (k = 0; k < ZT_S__COUNT; k++) {
            if (zt_known_sections[k].tag == s->tag) {
                found[k] = s;
                break;
            }
        }
        if (k == ZT_S__COUNT && !ZT_TAG_OPTIONAL(s->tag)) {
            return zt_bad(ld, "section %u: unknown required section %s",
                          i, zt_tag_text(ld->pool, s->tag));
        }
        if (s->len > 0) {
            /* insertion sort by offset; at most ZT_MAX_SECTIONS entries */
            uint32_t j = norder++;
            while (j > 0 && sect[order[j - 1]].off > s->off) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
    }
    pos = 0;
    for (uint32_t j = 0; j < norder; j++) {
        const zt_sect_t *s = &sect[order[j]];
        if (s->off < pos) {
            return zt_bad(ld, "section %u %s: offset %u overlaps the section "
                          "ending at %u", order[j], zt_tag_text(ld->pool, s->tag),
                          s->off, pos);
        }
        if (!zt_all_zero(payload + pos, s->off - pos)) {
            return zt_bad(ld, "padding at payload offset %u..%u is not zero",
                          pos, s->off);
        }
        pos = s->off + s->len;
    }
    if (!zt_all_zero(payload + pos, psize - pos)) {
        return zt_bad(ld, "padding at payload offset %u..%u is not zero",
                      pos, psize);
    }
    for (int k = 0; k < ZT_S__COUNT; k++) {
        if (found[k] == NULL) {
            return zt_bad(ld, "missing required section %s",
                          zt_tag_text(ld->pool, zt_known_sections[k].tag));
        }
        if (found[k]->len % zt_known_sections[k].recsize != 0) {
            return zt_bad(ld, "section %s: length %u is not a multiple of the "
                          "%u-byte record", zt_tag_text(ld->pool, found[k]->tag),
                          found[k]->len, zt_known_sections[k].recsize);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_check_count(zt_loader_t *ld, const char *what,
                                   uint32_t n, uint32_t limit)
{
    if (n > limit) {
        return zt_bad(ld, "%u %s, the limit is %u", n, what, limit);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

static apr_status_t zt_load_strings(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    if (t->strs_len == 0) {
        return zt_bad(ld, "string pool is empty, it must start and end with NUL");
    }
    if (t->strs[0] != '\0') {
        return zt_bad(ld, "string pool does not start with NUL");
    }
    if (t->strs[t->strs_len - 1] != '\0') {
        return zt_bad(ld, "string pool (%u bytes) does not end with NUL",
                      t->strs_len);
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_opnds(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nopnds; i++) {
        const zt_opnd_rec_t *o = &t->opnds[i];

        if (o->kind >= ZT_OPND__COUNT) {
            return zt_bad(ld, "operand %u: unknown kind %u", i, o->kind);
        }
        if (o->reserved != 0) {
            return zt_bad(ld, "operand %u: reserved field is %u, must be 0",
                          i, o->reserved);
        }
        switch (o->kind) {
        case ZT_OPND_TOKEN: {
            uint32_t pos = o->str;
            if (o->n == 0 || o->n > ZT_MAX_CLAIM_DEPTH) {
                return zt_bad(ld, "operand %u: claim path of %u parts, must be "
                              "1..%u", i, o->n, (unsigned)ZT_MAX_CLAIM_DEPTH);
            }
            ZT_CHECK_STR(ld, "operand", i, "claim path", o->str);
            for (uint32_t k = 0; k < o->n; k++) {
                if (pos >= t->strs_len) {
                    return zt_bad(ld, "operand %u: claim part %u starts at %u, "
                                  "past the string pool (%u bytes)",
                                  i, k, pos, t->strs_len);
                }
                if (t->strs[pos] == '\0') {
                    return zt_bad(ld, "operand %u: claim part %u is empty", i, k);
                }
                /* the pool ends with NUL, so strlen stays inside it */
                pos += (uint32_t)strlen(t->strs + pos) + 1;
            }
            if (o->num != 0) {
                return zt_bad(ld, "operand %u: token claim with num %"
                              APR_INT64_T_FMT ", must be 0", i, (apr_int64_t)o->num);
            }
            break;
        }
        case ZT_OPND_PATH:
        case ZT_OPND_STR:
            if (o->kind == ZT_OPND_PATH) {
                ZT_CHECK_NONEMPTY(ld, "operand", i, "capture name", o->str);
            }
            else {
                ZT_CHECK_STR(ld, "operand", i, "string", o->str);
            }
            if (o->n != 0 || o->num != 0) {
                return zt_bad(ld, "operand %u: n %u num %" APR_INT64_T_FMT
                              ", both must be 0", i, o->n, (apr_int64_t)o->num);
            }
            break;
        case ZT_OPND_QUERY:
        case ZT_OPND_HEADER:
            ZT_CHECK_NONEMPTY(ld, "operand", i, "parameter name", o->str);
            if (o->kind == ZT_OPND_HEADER && zt_has_upper(t->strs + o->str)) {
                return zt_bad(ld, "operand %u: header name is not lower case", i);
            }
            if (o->n != 0 || o->num != 0) {
                return zt_bad(ld, "operand %u: n %u num %" APR_INT64_T_FMT
                              ", both must be 0", i, o->n, (apr_int64_t)o->num);
            }
            break;
        case ZT_OPND_INT:
        case ZT_OPND_BOOL:
            if (o->str != 0 || o->n != 0) {
                return zt_bad(ld, "operand %u: str %u n %u, both must be 0",
                              i, o->str, o->n);
            }
            if (o->kind == ZT_OPND_BOOL && o->num != 0 && o->num != 1) {
                return zt_bad(ld, "operand %u: boolean %" APR_INT64_T_FMT
                              ", must be 0 or 1", i, (apr_int64_t)o->num);
            }
            break;
        default:
            /* a value of the request itself: nothing to store */
            if (o->str != 0 || o->n != 0 || o->num != 0) {
                return zt_bad(ld, "operand %u: kind %u with str %u n %u num %"
                              APR_INT64_T_FMT ", all must be 0", i, o->kind,
                              o->str, o->n, (apr_int64_t)o->num);
            }
            break;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_lists(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nlists; i++) {
        if (t->lists[i] >= t->nopnds) {
            return zt_bad(ld, "list entry %u: operand %u >= count %u",
                          i, t->lists[i], t->nopnds);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_node_child(zt_loader_t *ld, uint32_t i, uint32_t c)
{
    if (c >= ld->t->nnodes) {
        return zt_bad(ld, "node %u: child %u >= count %u", i, c, ld->t->nnodes);
    }
    if (c <= i) {
        return zt_bad(ld, "node %u: child %u is not after it (backward edge)",
                      i, c);
    }
    return APR_SUCCESS;
}

static apr_status_t zt_node_opnd(zt_loader_t *ld, uint32_t i, uint32_t o)
{
    if (o >= ld->t->nopnds) {
        return zt_bad(ld, "node %u: operand %u >= count %u", i, o, ld->t->nopnds);
    }
    return APR_SUCCESS;
}

/*
 * Operand @a o of comparison @a op: in range, and of a kind the comparison
 * can use.  The client address is only ever tested by IN_CIDR; an ordering
 * compares integers, so an operand that never is one is a hostile table.
 */
static apr_status_t zt_node_value(zt_loader_t *ld, uint32_t i, uint32_t op,
                                  uint32_t o)
{
    apr_status_t rv;
    uint32_t kind;

    if ((rv = zt_node_opnd(ld, i, o)) != APR_SUCCESS) {
        return rv;
    }
    kind = ld->t->opnds[o].kind;
    if (kind == ZT_OPND_CLIENT_IP) {
        return zt_bad(ld, "node %u: operand %u is the client address, which "
                      "only in_cidr tests", i, o);
    }
    if (op >= ZT_OP_LT && op <= ZT_OP_GE && kind != ZT_OPND_TOKEN
        && kind != ZT_OPND_INT && kind != ZT_OPND_TIME_HOUR) {
        return zt_bad(ld, "node %u: ordering operand %u is of kind %u, never "
                      "an integer", i, o, kind);
    }
    return APR_SUCCESS;
}

/* A run of @a count entries at @a first inside a section of @a n. */
static apr_status_t zt_node_run(zt_loader_t *ld, uint32_t i, uint32_t first,
                                uint32_t count, uint32_t n, const char *what)
{
    if (count > ZT_MAX_LIST) {
        return zt_bad(ld, "node %u: %u members, the limit is %u", i, count,
                      (unsigned)ZT_MAX_LIST);
    }
    if (first > n || count > n - first) {
        return zt_bad(ld, "node %u: %s %u count %u exceeds the %u %s entries",
                      i, what, first, count, n, what);
    }
    return APR_SUCCESS;
}

static apr_status_t zt_node_zero(zt_loader_t *ld, uint32_t i, const char *f,
                                 uint32_t v)
{
    if (v != 0) {
        return zt_bad(ld, "node %u: unused field %s is %u, must be 0", i, f, v);
    }
    return APR_SUCCESS;
}

/*
 * Opcode and fields of every node; then, walking from the last node back
 * (children come after parents, so they are done first), the depth and
 * the tree size of the condition rooted at each node.  The evaluator
 * recurses, and these two limits are what make that safe.
 */
static apr_status_t zt_load_nodes(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *tmp;
    uint32_t *depth, *size;

    for (uint32_t i = 0; i < t->nnodes && rv == APR_SUCCESS; i++) {
        const zt_node_rec_t *n = &t->nodes[i];

        switch (n->op) {
        case ZT_OP_TRUE:
            if ((rv = zt_node_zero(ld, i, "a", n->a)) == APR_SUCCESS
                && (rv = zt_node_zero(ld, i, "b", n->b)) == APR_SUCCESS) {
                rv = zt_node_zero(ld, i, "c", n->c);
            }
            break;
        case ZT_OP_AND:
        case ZT_OP_OR:
            if ((rv = zt_node_child(ld, i, n->a)) == APR_SUCCESS
                && (rv = zt_node_child(ld, i, n->b)) == APR_SUCCESS) {
                rv = zt_node_zero(ld, i, "c", n->c);
            }
            break;
        case ZT_OP_NOT:
            if ((rv = zt_node_child(ld, i, n->a)) == APR_SUCCESS
                && (rv = zt_node_zero(ld, i, "b", n->b)) == APR_SUCCESS) {
                rv = zt_node_zero(ld, i, "c", n->c);
            }
            break;
        case ZT_OP_EQ:
        case ZT_OP_NE:
        case ZT_OP_IN_CLAIM:
        case ZT_OP_LT:
        case ZT_OP_LE:
        case ZT_OP_GT:
        case ZT_OP_GE:
            if ((rv = zt_node_value(ld, i, n->op, n->a)) == APR_SUCCESS
                && (rv = zt_node_value(ld, i, n->op, n->b)) == APR_SUCCESS) {
                rv = zt_node_zero(ld, i, "c", n->c);
            }
            if (rv == APR_SUCCESS && n->op == ZT_OP_IN_CLAIM
                && t->opnds[n->b].kind != ZT_OPND_TOKEN
                && t->opnds[n->b].kind != ZT_OPND_CERT_SAN) {
                rv = zt_bad(ld, "node %u: in_claim set, operand %u, is not a "
                            "token claim or the certificate's SANs", i, n->b);
            }
            break;
        case ZT_OP_IN_LIST:
            if ((rv = zt_node_value(ld, i, n->op, n->a)) == APR_SUCCESS
                && (rv = zt_node_run(ld, i, n->b, n->c, t->nlists,
                                     "list")) == APR_SUCCESS) {
                for (uint32_t k = 0; k < n->c; k++) {
                    uint32_t kind = t->opnds[t->lists[n->b + k]].kind;
                    if (kind != ZT_OPND_STR && kind != ZT_OPND_INT
                        && kind != ZT_OPND_BOOL) {
                        rv = zt_bad(ld, "node %u: list member %u, operand %u, "
                                    "is of kind %u, not a literal", i, k,
                                    t->lists[n->b + k], kind);
                        break;
                    }
                }
            }
            break;
        case ZT_OP_IN_CIDR:
            if ((rv = zt_node_opnd(ld, i, n->a)) == APR_SUCCESS
                && t->opnds[n->a].kind != ZT_OPND_CLIENT_IP) {
                rv = zt_bad(ld, "node %u: in_cidr operand %u is of kind %u, "
                            "not the client address", i, n->a,
                            t->opnds[n->a].kind);
            }
            if (rv == APR_SUCCESS) {
                rv = zt_node_run(ld, i, n->b, n->c, t->ncidrs, "cidr");
            }
            break;
        default:
            rv = zt_bad(ld, "node %u: unknown op %u", i, n->op);
            break;
        }
    }
    if (rv != APR_SUCCESS || t->nnodes == 0) {
        return rv;
    }

    if ((rv = apr_pool_create(&tmp, ld->pool)) != APR_SUCCESS) {
        *ld->err = apr_psprintf(ld->pool, "%s: out of memory", ld->name);
        return rv;
    }
    depth = apr_palloc(tmp, sizeof(uint32_t) * t->nnodes);
    size = apr_palloc(tmp, sizeof(uint32_t) * t->nnodes);
    for (uint32_t i = t->nnodes; i-- > 0;) {
        const zt_node_rec_t *n = &t->nodes[i];
        uint32_t d = 1, s = 1;

        if (n->op == ZT_OP_AND || n->op == ZT_OP_OR || n->op == ZT_OP_NOT) {
            d = depth[n->a] + 1;
            s = size[n->a] + 1;
            if (n->op != ZT_OP_NOT) {
                if (depth[n->b] + 1 > d) {
                    d = depth[n->b] + 1;
                }
                s += size[n->b];
            }
        }
        /* saturate: sizes can grow exponentially with depth */
        depth[i] = d;
        size[i] = s > ZT_MAX_COND_NODES ? ZT_MAX_COND_NODES + 1 : s;
        if (d > ZT_MAX_COND_DEPTH) {
            rv = zt_bad(ld, "node %u: condition depth %u, the limit is %u",
                        i, d, (unsigned)ZT_MAX_COND_DEPTH);
            break;
        }
        if (s > ZT_MAX_COND_NODES) {
            rv = zt_bad(ld, "node %u: condition of more than %u nodes counted "
                        "as a tree, the limit", i, (unsigned)ZT_MAX_COND_NODES);
            break;
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

static apr_status_t zt_load_rules(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nrules; i++) {
        const zt_rule_rec_t *r = &t->rules[i];

        if (r->effect != ZT_EFFECT_ALLOW && r->effect != ZT_EFFECT_DENY) {
            return zt_bad(ld, "rule %u: unknown effect %u", i, r->effect);
        }
        if ((r->flags & ~(uint32_t)ZT_RULE_PUBLIC) != 0) {
            return zt_bad(ld, "rule %u: unknown flags 0x%x", i, r->flags);
        }
        if (r->cond != ZT_NONE && r->cond >= t->nnodes) {
            return zt_bad(ld, "rule %u: condition node %u >= count %u",
                          i, r->cond, t->nnodes);
        }
        ZT_CHECK_STR(ld, "rule", i, "file", r->file);
        ZT_CHECK_STR(ld, "rule", i, "text", r->text);
    }
    return APR_SUCCESS;
}

/* A run of @a count STR operands in LIST at @a first (enum values, acr). */
static apr_status_t zt_str_run(zt_loader_t *ld, const char *what, uint32_t i,
                               uint32_t first, uint32_t count)
{
    const zt_table_t *t = ld->t;

    if (count > ZT_MAX_LIST) {
        return zt_bad(ld, "%s %u: %u values, the limit is %u", what, i, count,
                      (unsigned)ZT_MAX_LIST);
    }
    if (count == 0 && first != 0) {
        return zt_bad(ld, "%s %u: no values but first is %u, must be 0",
                      what, i, first);
    }
    if (first > t->nlists || count > t->nlists - first) {
        return zt_bad(ld, "%s %u: list %u count %u exceeds the %u list entries",
                      what, i, first, count, t->nlists);
    }
    for (uint32_t k = 0; k < count; k++) {
        uint32_t o = t->lists[first + k];
        if (t->opnds[o].kind != ZT_OPND_STR) {
            return zt_bad(ld, "%s %u: value %u, operand %u, is not a string",
                          what, i, k, o);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_cidrs(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->ncidrs; i++) {
        const zt_cidr_rec_t *c = &t->cidrs[i];
        uint32_t bits = c->family == 4 ? 32 : 128;

        if (c->family != 4 && c->family != 6) {
            return zt_bad(ld, "cidr %u: family %u, must be 4 or 6", i, c->family);
        }
        if (c->prefix > bits) {
            return zt_bad(ld, "cidr %u: prefix %u, the limit for IPv%u is %u",
                          i, c->prefix, c->family, bits);
        }
        if (c->reserved[0] != 0 || c->reserved[1] != 0) {
            return zt_bad(ld, "cidr %u: reserved bytes are not 0", i);
        }
        /* host bits, and the bytes an IPv4 address leaves unused, are 0 */
        for (uint32_t bit = c->prefix; bit < 128; bit++) {
            if (c->addr[bit / 8] & (0x80u >> (bit % 8))) {
                return zt_bad(ld, "cidr %u: address bit %u is set past the "
                              "/%u prefix", i, bit, c->prefix);
            }
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_types(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv;

    for (uint32_t i = 0; i < t->ntypes; i++) {
        const zt_type_rec_t *y = &t->types[i];
        int ranged = y->kind == ZT_TYPE_STRING || y->kind == ZT_TYPE_INT;

        if (y->kind >= ZT_TYPE__COUNT) {
            return zt_bad(ld, "type %u: unknown kind %u", i, y->kind);
        }
        if (y->reserved != 0) {
            return zt_bad(ld, "type %u: reserved field is %u, must be 0",
                          i, y->reserved);
        }
        if (y->kind == ZT_TYPE_STRING) {
            ZT_CHECK_STR(ld, "type", i, "regex", y->str);
        }
        else if (y->str != 0) {
            return zt_bad(ld, "type %u: kind %u with a regex (str %u), must be 0",
                          i, y->kind, y->str);
        }
        if (ranged && (y->min > y->max
                       || (y->kind == ZT_TYPE_STRING && y->min < 0))) {
            return zt_bad(ld, "type %u: range %" APR_INT64_T_FMT "..%"
                          APR_INT64_T_FMT " is empty or a negative length",
                          i, (apr_int64_t)y->min, (apr_int64_t)y->max);
        }
        if (!ranged && (y->min != 0 || y->max != 0)) {
            return zt_bad(ld, "type %u: kind %u with a range, min and max must "
                          "be 0", i, y->kind);
        }
        if (y->kind == ZT_TYPE_ENUM) {
            if (y->count == 0) {
                return zt_bad(ld, "type %u: enum without values", i);
            }
            if ((rv = zt_str_run(ld, "type", i, y->first, y->count)) != APR_SUCCESS) {
                return rv;
            }
        }
        else if (y->first != 0 || y->count != 0) {
            return zt_bad(ld, "type %u: kind %u with values (list %u count %u), "
                          "both must be 0", i, y->kind, y->first, y->count);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_segs(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nsegs; i++) {
        const zt_seg_rec_t *s = &t->segs[i];

        switch (s->kind) {
        case ZT_SEG_LITERAL:
        case ZT_SEG_CAPTURE:
            ZT_CHECK_NONEMPTY(ld, "segment", i, "text", s->str);
            if (s->kind == ZT_SEG_LITERAL && s->type != ZT_NONE) {
                return zt_bad(ld, "segment %u: a literal with type %u, must be "
                              "%u", i, s->type, ZT_NONE);
            }
            if (s->kind == ZT_SEG_CAPTURE && s->type >= t->ntypes) {
                return zt_bad(ld, "segment %u: capture type %u >= count %u",
                              i, s->type, t->ntypes);
            }
            break;
        case ZT_SEG_STAR:
        case ZT_SEG_GLOBSTAR:
            if (s->str != 0 || s->type != ZT_NONE) {
                return zt_bad(ld, "segment %u: kind %u with str %u type %u, "
                              "must be 0 and %u", i, s->kind, s->str, s->type,
                              ZT_NONE);
            }
            break;
        default:
            return zt_bad(ld, "segment %u: unknown kind %u", i, s->kind);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_params(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nparams; i++) {
        const zt_param_rec_t *p = &t->params[i];

        if (p->where != ZT_PARAM_QUERY && p->where != ZT_PARAM_HEADER) {
            return zt_bad(ld, "param %u: unknown where %u", i, p->where);
        }
        ZT_CHECK_NONEMPTY(ld, "param", i, "name", p->name);
        if (p->where == ZT_PARAM_HEADER && zt_has_upper(t->strs + p->name)) {
            return zt_bad(ld, "param %u: header name is not lower case", i);
        }
        if (p->type >= t->ntypes) {
            return zt_bad(ld, "param %u: type %u >= count %u", i, p->type,
                          t->ntypes);
        }
        if ((p->flags & ~(uint32_t)(ZT_PARAM_OPTIONAL | ZT_PARAM_LIST)) != 0
            || ((p->flags & ZT_PARAM_LIST) && p->where != ZT_PARAM_QUERY)) {
            return zt_bad(ld, "param %u: flags 0x%x (list is for query "
                          "parameters only)", i, p->flags);
        }
    }
    return APR_SUCCESS;
}

/*
 * The automata of the types' patterns.  A STRING type with a regex has
 * one, every other type none.  Each image is verified once (types may
 * share one) by zt_dfa_verify, which checks every edge, class and flag,
 * so zt_dfa_match never reads outside it; images may not overlap, and
 * any byte of DFAS no image covers is 0.
 */
static apr_status_t zt_load_dfas(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv = APR_SUCCESS;
    unsigned char *covered;     /* 0 free, 1 inside an image, 2 an image's start */
    apr_pool_t *tmp;

    if ((rv = apr_pool_create(&tmp, ld->pool)) != APR_SUCCESS) {
        *ld->err = apr_psprintf(ld->pool, "%s: out of memory", ld->name);
        return rv;
    }
    covered = apr_pcalloc(tmp, t->dfas_len + 1);
    for (uint32_t i = 0; i < t->ntypes && rv == APR_SUCCESS; i++) {
        const zt_type_rec_t *y = &t->types[i];
        int has_regex = y->kind == ZT_TYPE_STRING && t->strs[y->str] != '\0';
        const zt_dfa_hdr_t *h;
        const char *why;

        if (!has_regex || y->dfa == ZT_NONE) {
            if (has_regex || y->dfa != ZT_NONE) {
                rv = zt_bad(ld, "type %u: %s (dfa %u)", i, has_regex
                            ? "a pattern without an automaton"
                            : "an automaton without a pattern", y->dfa);
            }
            continue;
        }
        if (y->dfa % 8 != 0 || y->dfa > t->dfas_len
            || t->dfas_len - y->dfa < sizeof(zt_dfa_hdr_t)) {
            rv = zt_bad(ld, "type %u: dfa at %u, must be 8-aligned and leave "
                        "room for an image in the %u-byte DFAS", i, y->dfa,
                        t->dfas_len);
            continue;
        }
        if (covered[y->dfa] == 2) {
            continue;           /* shared, verified already */
        }
        h = (const zt_dfa_hdr_t *)(t->dfas + y->dfa);
        if (covered[y->dfa] != 0 || h->len > t->dfas_len - y->dfa) {
            rv = zt_bad(ld, "type %u: dfa at %u length %u overlaps another "
                        "image or passes the %u-byte DFAS", i, y->dfa, h->len,
                        t->dfas_len);
        }
        else if ((why = zt_dfa_problem(h, h->len)) != NULL) {
            rv = zt_bad(ld, "type %u: dfa at %u: %s", i, y->dfa, why);
        }
        else {
            for (uint32_t k = 0; k < h->len; k++) {
                if (covered[y->dfa + k] != 0) {
                    rv = zt_bad(ld, "type %u: dfa at %u overlaps the image at "
                                "byte %u", i, y->dfa, y->dfa + k);
                    break;
                }
                covered[y->dfa + k] = 1;
            }
            covered[y->dfa] = 2;
        }
    }
    for (uint32_t k = 0; k < t->dfas_len && rv == APR_SUCCESS; k++) {
        if (!covered[k] && t->dfas[k] != 0) {
            rv = zt_bad(ld, "DFAS byte %u is in no automaton and is not 0", k);
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

/*
 * Bodies and the schemas they embed.  BLOB holds the schemas, each at an
 * 8-aligned offset; any byte no schema covers is 0, so BLOB has no hidden
 * content either.
 */
static apr_status_t zt_load_bodies(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv = APR_SUCCESS;
    unsigned char *covered;
    apr_pool_t *tmp;

    if ((rv = apr_pool_create(&tmp, ld->pool)) != APR_SUCCESS) {
        *ld->err = apr_psprintf(ld->pool, "%s: out of memory", ld->name);
        return rv;
    }
    covered = apr_pcalloc(tmp, t->blob_len + 1);
    for (uint32_t i = 0; i < t->nbodies && rv == APR_SUCCESS; i++) {
        const zt_body_rec_t *b = &t->bodies[i];
        const char *p;

        if (b->kind != ZT_BODY_JSON && b->kind != ZT_BODY_XML) {
            rv = zt_bad(ld, "body %u: unknown kind %u", i, b->kind);
        }
        else if (b->max == 0) {
            rv = zt_bad(ld, "body %u: max is 0, must be > 0", i);
        }
        else if (b->schema_len == 0 && b->schema_off != 0) {
            rv = zt_bad(ld, "body %u: no schema but offset %u, must be 0",
                        i, b->schema_off);
        }
        else if (b->schema_off % 8 != 0 || b->schema_off > t->blob_len
                 || b->schema_len > t->blob_len - b->schema_off) {
            rv = zt_bad(ld, "body %u: schema at %u length %u, must be 8-aligned "
                        "and inside the %u-byte blob", i, b->schema_off,
                        b->schema_len, t->blob_len);
        }
        else if ((p = zt_str_problem(t, b->schema_name)) != NULL
                 || (p = zt_str_problem(t, b->root)) != NULL) {
            rv = zt_bad(ld, "body %u: schema name %u or root %u %s (%u bytes)",
                        i, b->schema_name, b->root, p, t->strs_len);
        }
        else if (b->kind == ZT_BODY_JSON && b->root != 0) {
            rv = zt_bad(ld, "body %u: a JSON body with an XML root (%u)",
                        i, b->root);
        }
        else {
            memset(covered + b->schema_off, 1, b->schema_len);
        }
    }
    for (uint32_t k = 0; k < t->blob_len && rv == APR_SUCCESS; k++) {
        if (!covered[k] && t->blob[k] != 0) {
            rv = zt_bad(ld, "blob byte %u is in no schema and is not 0", k);
        }
    }
    apr_pool_destroy(tmp);
    return rv;
}

static apr_status_t zt_load_stepups(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv;

    for (uint32_t i = 0; i < t->nstepups; i++) {
        const zt_stepup_rec_t *s = &t->stepups[i];

        ZT_CHECK_STR(ld, "stepup", i, "file", s->file);
        if (s->reserved != 0) {
            return zt_bad(ld, "stepup %u: reserved field is %u, must be 0",
                          i, s->reserved);
        }
        if (s->acr_count == 0 && s->max_age == 0) {
            return zt_bad(ld, "stepup %u: neither acr values nor max_age", i);
        }
        if ((rv = zt_str_run(ld, "stepup", i, s->acr_first, s->acr_count))
            != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_limits(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    for (uint32_t i = 0; i < t->nlimits; i++) {
        const zt_limit_rec_t *l = &t->limits[i];

        ZT_CHECK_STR(ld, "limit", i, "file", l->file);
        if (l->count == 0) {
            return zt_bad(ld, "limit %u: count is 0, must be > 0", i);
        }
        if (l->period != 1 && l->period != 60 && l->period != 3600) {
            return zt_bad(ld, "limit %u: period %u, must be 1, 60 or 3600",
                          i, l->period);
        }
        if (l->key != ZT_LIMIT_SUB && l->key != ZT_LIMIT_AZP
            && l->key != ZT_LIMIT_IP) {
            return zt_bad(ld, "limit %u: unknown key %u", i, l->key);
        }
        if (l->reserved != 0) {
            return zt_bad(ld, "limit %u: reserved field is %u, must be 0",
                          i, l->reserved);
        }
    }
    return APR_SUCCESS;
}

/* A run [first, first + count) of a section of @a n, right after @a next. */
static apr_status_t zt_route_run(zt_loader_t *ld, uint32_t i, const char *what,
                                 uint32_t first, uint32_t count, uint32_t n,
                                 uint32_t limit, uint32_t *next)
{
    if (count > limit) {
        return zt_bad(ld, "route %u: %u %s, the limit is %u", i, count, what,
                      limit);
    }
    if (first > n || count > n - first) {
        return zt_bad(ld, "route %u: %s %u count %u exceed the %u %s",
                      i, what, first, count, n, what);
    }
    if (first != *next) {
        return zt_bad(ld, "route %u: %s at %u, expected %u (runs follow "
                      "route order)", i, what, first, *next);
    }
    *next += count;
    return APR_SUCCESS;
}

/* The path: GLOBSTAR only last, capture names distinct. */
static apr_status_t zt_route_segs(zt_loader_t *ld, uint32_t i,
                                  const zt_route_rec_t *r)
{
    const zt_table_t *t = ld->t;
    const zt_seg_rec_t *seg = &t->segs[r->seg_first];

    for (uint32_t k = 0; k < r->seg_count; k++) {
        if (seg[k].kind == ZT_SEG_GLOBSTAR && k + 1 != r->seg_count) {
            return zt_bad(ld, "route %u: ** is segment %u of %u, it may only "
                          "be the last", i, k, r->seg_count);
        }
        for (uint32_t j = 0; seg[k].kind == ZT_SEG_CAPTURE && j < k; j++) {
            if (seg[j].kind == ZT_SEG_CAPTURE
                && strcmp(t->strs + seg[j].str, t->strs + seg[k].str) == 0) {
                return zt_bad(ld, "route %u: captures %u and %u have the same "
                              "name", i, j, k);
            }
        }
    }
    return APR_SUCCESS;
}

/* Parameters: each (where, name) once. */
static apr_status_t zt_route_params(zt_loader_t *ld, uint32_t i,
                                    const zt_route_rec_t *r)
{
    const zt_table_t *t = ld->t;
    const zt_param_rec_t *p = &t->params[r->param_first];

    for (uint32_t k = 0; k < r->param_count; k++) {
        for (uint32_t j = 0; j < k; j++) {
            if (p[j].where == p[k].where
                && strcmp(t->strs + p[j].name, t->strs + p[k].name) == 0) {
                return zt_bad(ld, "route %u: parameters %u and %u have the "
                              "same name", i, r->param_first + j,
                              r->param_first + k);
            }
        }
    }
    return APR_SUCCESS;
}

/* Ascending references in @a refs[first..first+count) below @a n. */
static apr_status_t zt_route_refs(zt_loader_t *ld, uint32_t i, const char *what,
                                  const uint32_t *refs, uint32_t first,
                                  uint32_t count, uint32_t n)
{
    for (uint32_t k = 0; k < count; k++) {
        uint32_t ref = refs[first + k];
        if (ref >= n) {
            return zt_bad(ld, "route %u: %s %u >= count %u", i, what, ref, n);
        }
        if (k > 0 && ref <= refs[first + k - 1]) {
            return zt_bad(ld, "route %u: %s %u after %s %u, refs must ascend",
                          i, what, ref, what, refs[first + k - 1]);
        }
    }
    return APR_SUCCESS;
}

/*
 * Each route owns its runs of SEGS, RREF, PARM and LREF: the runs follow
 * each other in route order and cover each section exactly, so no route
 * shares or skips a segment, a rule reference, a parameter or a limit
 * reference.
 */
static apr_status_t zt_load_routes(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    uint32_t next_seg = 0, next_rref = 0, next_param = 0, next_lref = 0;
    apr_status_t rv;

    for (uint32_t i = 0; i < t->nroutes; i++) {
        const zt_route_rec_t *r = &t->routes[i];

        if (r->methods == 0 || (r->methods & ~(uint32_t)ZT_M_ALL) != 0
            || (r->methods & (r->methods - 1)) != 0) {
            return zt_bad(ld, "route %u: methods 0x%x, must be exactly one "
                          "known method", i, r->methods);
        }
        ZT_CHECK_STR(ld, "route", i, "pattern", r->pattern);
        ZT_CHECK_STR(ld, "route", i, "file", r->file);
        if ((r->flags & ~(uint32_t)ZT_ROUTE_QUERY_ANY) != 0) {
            return zt_bad(ld, "route %u: unknown flags 0x%x", i, r->flags);
        }
        if (r->reserved != 0) {
            return zt_bad(ld, "route %u: reserved field is %u, must be 0",
                          i, r->reserved);
        }
        if (r->body != ZT_NONE && r->body >= t->nbodies) {
            return zt_bad(ld, "route %u: body %u >= count %u", i, r->body,
                          t->nbodies);
        }
        if (r->stepup != ZT_NONE && r->stepup >= t->nstepups) {
            return zt_bad(ld, "route %u: stepup %u >= count %u", i, r->stepup,
                          t->nstepups);
        }
        if ((rv = zt_route_run(ld, i, "segments", r->seg_first, r->seg_count,
                               t->nsegs, ZT_MAX_SEGMENTS, &next_seg))
            || (rv = zt_route_run(ld, i, "rule refs", r->rref_first,
                                  r->rref_count, t->nrrefs, UINT32_MAX,
                                  &next_rref))
            || (rv = zt_route_run(ld, i, "params", r->param_first,
                                  r->param_count, t->nparams, ZT_MAX_PARAMS,
                                  &next_param))
            || (rv = zt_route_run(ld, i, "limit refs", r->lref_first,
                                  r->lref_count, t->nlrefs, ZT_MAX_LIMITS,
                                  &next_lref))
            || (rv = zt_route_refs(ld, i, "rule", t->rrefs, r->rref_first,
                                   r->rref_count, t->nrules))
            || (rv = zt_route_refs(ld, i, "limit", t->lrefs, r->lref_first,
                                   r->lref_count, t->nlimits))
            || (rv = zt_route_segs(ld, i, r))
            || (rv = zt_route_params(ld, i, r))) {
            return rv;
        }
    }
    if (next_seg != t->nsegs || next_rref != t->nrrefs
        || next_param != t->nparams || next_lref != t->nlrefs) {
        return zt_bad(ld, "routes use %u segments, %u rule refs, %u params and "
                      "%u limit refs; the table has %u, %u, %u and %u",
                      next_seg, next_rref, next_param, next_lref,
                      t->nsegs, t->nrrefs, t->nparams, t->nlrefs);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* URLs of key sources                                                 */
/* ------------------------------------------------------------------ */

/* "127.a.b.c": four decimal parts 0..255 without leading zeros. */
static int zt_url_is_127(const char *h, size_t n)
{
    unsigned parts = 0;
    size_t i = 0;

    while (i < n) {
        unsigned v = 0;
        size_t start = i;

        while (i < n && h[i] >= '0' && h[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned)(h[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (h[start] == '0' && i - start > 1)
            || (parts == 0 && v != 127)) {
            return 0;
        }
        parts++;
        if (i < n) {
            if (h[i] != '.' || parts == 4) {
                return 0;
            }
            i++;
            if (i == n) {
                return 0;
            }
        }
    }
    return parts == 4;
}

static int zt_url_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int zt_url_is_loopback(const char *h, size_t n)
{
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0)
           || (n == 5 && memcmp(h, "[::1]", 5) == 0)
           || zt_url_is_127(h, n);
}

/*
** The one rule for every URL a key source names (the module fetches it):
** https://HOST[:PORT][/PATH][?QUERY], or http:// to a loopback host.  No
** user information, no fragment, nothing outside RFC 3986's characters.
*/
const char *zt_table_url_problem(const char *url, int no_query)
{
    const char *p, *host, *end;
    int https;
    size_t hlen;

    if (strncmp(url, "https://", 8) == 0) {
        https = 1;
        host = url + 8;
    }
    else if (strncmp(url, "http://", 7) == 0) {
        https = 0;
        host = url + 7;
    }
    else {
        return "is not an https:// URL";
    }
    /* credentials first: the worst thing a URL here can hold */
    end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (size_t)(end - host)) != NULL) {
        return "holds user information ('@'); credentials do not belong in a URL";
    }
    for (p = url; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL) {
            return "has a character that a URL cannot hold (write it %-encoded)";
        }
        if (c == '#') {
            return "has a fragment ('#')";
        }
        if (c == '?' && no_query) {
            return "has a query ('?'), which an OpenID issuer cannot have";
        }
    }
    end = host + strcspn(host, "/?");
    if (*host == '[') {
        p = host + 1;
        while (p < end && (zt_hexval((unsigned char)*p) >= 0 || *p == ':'
                           || *p == '.')) {
            p++;
        }
        if (p == host + 1 || p == end || *p != ']') {
            return "has a bad IPv6 address (write it as [::1])";
        }
        p++;
    }
    else {
        p = host;
        while (p < end && (zt_url_alnum(*p) || *p == '.' || *p == '-' || *p == '_')) {
            p++;
        }
        if (p == host) {
            return "has no host";
        }
    }
    hlen = (size_t)(p - host);
    if (p < end) {
        unsigned long port = 0;
        const char *d = p + 1;

        if (*p != ':' || d == end || end - d > 5) {
            return "has a bad host or port";
        }
        for (; d < end; d++) {
            if (*d < '0' || *d > '9') {
                return "has a bad host or port";
            }
            port = port * 10 + (unsigned long)(*d - '0');
        }
        if (port == 0 || port > 65535) {
            return "has a port outside 1..65535";
        }
    }
    if (!https && !zt_url_is_loopback(host, hlen)) {
        return "uses http to a host that is not loopback (http is allowed only "
               "to 127.0.0.0/8, [::1] or localhost; use https)";
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Issuers                                                             */
/* ------------------------------------------------------------------ */


static apr_status_t zt_load_required(zt_loader_t *ld, uint32_t i,
                                     const zt_issuer_rec_t *s)
{
    const zt_table_t *t = ld->t;
    uint32_t pos = s->required;

    if (s->nrequired > ZT_MAX_REQUIRED) {
        return zt_bad(ld, "issuer %u: %u required claims, the limit is %u",
                      i, s->nrequired, (unsigned)ZT_MAX_REQUIRED);
    }
    if (s->nrequired == 0) {
        if (s->required != 0) {
            return zt_bad(ld, "issuer %u: no required claims but required is "
                          "%u, must be 0", i, s->required);
        }
        return APR_SUCCESS;
    }
    ZT_CHECK_STR(ld, "issuer", i, "required", s->required);
    for (uint32_t k = 0; k < s->nrequired; k++) {
        if (pos >= t->strs_len) {
            return zt_bad(ld, "issuer %u: required claim %u starts at %u, past "
                          "the string pool (%u bytes)", i, k, pos, t->strs_len);
        }
        if (t->strs[pos] == '\0') {
            return zt_bad(ld, "issuer %u: required claim %u is empty", i, k);
        }
        /* the pool ends with NUL, so strlen stays inside it */
        pos += (uint32_t)strlen(t->strs + pos) + 1;
    }
    return APR_SUCCESS;
}

/*
 * Each issuer has a usable key source for every algorithm it allows, and
 * no key source it can never use: HS* algorithms verify with the secret
 * and only with it, the others with the key set (jwks) and only with it.
 */
static apr_status_t zt_load_issuer_keys(zt_loader_t *ld, uint32_t i,
                                        const zt_issuer_rec_t *s)
{
    const zt_table_t *t = ld->t;
    const char *jwks = t->strs + s->jwks, *why;
    int secret = t->strs[s->secret] != '\0', fetched = 0;
    uint32_t hs = s->algs & ZT_ALG_HS_ALL, asym = s->algs & ~ZT_ALG_HS_ALL;

    switch (s->jwks_kind) {
    case ZT_JWKS_FILE:
        if (*jwks == '\0') {
            return zt_bad(ld, "issuer %u: jwks is empty (kind file)", i);
        }
        break;
    case ZT_JWKS_URL:
        if ((why = zt_table_url_problem(jwks, 0)) != NULL) {
            return zt_bad(ld, "issuer %u: jwks URL %s", i, why);
        }
        fetched = 1;
        break;
    case ZT_JWKS_DISCOVER:
    case ZT_JWKS_NONE:
        if (*jwks != '\0') {
            return zt_bad(ld, "issuer %u: jwks must be empty for kind %s", i,
                          s->jwks_kind == ZT_JWKS_NONE ? "none" : "discover");
        }
        if (s->jwks_kind == ZT_JWKS_DISCOVER) {
            if ((why = zt_table_url_problem(t->strs + s->iss, 1)) != NULL) {
                return zt_bad(ld, "issuer %u: jwks discover needs an https iss, "
                              "and iss %s", i, why);
            }
            fetched = 1;
        }
        break;
    default:
        return zt_bad(ld, "issuer %u: unknown jwks kind %u", i, s->jwks_kind);
    }
    if (hs != 0 && !secret) {
        return zt_bad(ld, "issuer %u: algorithms 0x%x include HS* but there is "
                      "no secret", i, s->algs);
    }
    if (secret && hs == 0) {
        return zt_bad(ld, "issuer %u: a secret but no HS* algorithm (algorithms "
                      "0x%x)", i, s->algs);
    }
    if (s->jwks_kind == ZT_JWKS_NONE && asym != 0) {
        return zt_bad(ld, "issuer %u: algorithms 0x%x need a key set, but jwks "
                      "kind is none", i, s->algs);
    }
    if (s->jwks_kind != ZT_JWKS_NONE && asym == 0) {
        return zt_bad(ld, "issuer %u: a key set (jwks kind %u) but only HS* "
                      "algorithms (0x%x)", i, s->jwks_kind, s->algs);
    }
    if (fetched && (s->refresh == 0 || s->refetch_min == 0)) {
        return zt_bad(ld, "issuer %u: refresh %u refetch_min %u, both must be "
                      "> 0 for a fetched key set", i, s->refresh, s->refetch_min);
    }
    if (!fetched && (s->refresh != 0 || s->refetch_min != 0)) {
        return zt_bad(ld, "issuer %u: refresh %u refetch_min %u, both must be "
                      "0 unless the key set is fetched (url, discover)",
                      i, s->refresh, s->refetch_min);
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_issuers(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;
    apr_status_t rv;

    for (uint32_t i = 0; i < t->nissuers; i++) {
        const zt_issuer_rec_t *s = &t->issuers[i];

        ZT_CHECK_NONEMPTY(ld, "issuer", i, "name", s->name);
        ZT_CHECK_NONEMPTY(ld, "issuer", i, "iss", s->iss);
        ZT_CHECK_STR(ld, "issuer", i, "audience", s->audience);
        ZT_CHECK_STR(ld, "issuer", i, "jwks", s->jwks);
        ZT_CHECK_STR(ld, "issuer", i, "typ", s->typ);
        ZT_CHECK_STR(ld, "issuer", i, "secret", s->secret);
        if (s->algs == 0 || (s->algs & ~(uint32_t)ZT_ALG_ALL) != 0) {
            return zt_bad(ld, "issuer %u: algorithms 0x%x, must be a non-empty "
                          "subset of 0x%x", i, s->algs, (unsigned)ZT_ALG_ALL);
        }
        if (s->binding > ZT_BIND_ANY) {
            return zt_bad(ld, "issuer %u: binding %u, must be 0 to %u",
                          i, s->binding, (unsigned)ZT_BIND_ANY);
        }
        if ((rv = zt_load_issuer_keys(ld, i, s)) != APR_SUCCESS
            || (rv = zt_load_required(ld, i, s)) != APR_SUCCESS) {
            return rv;
        }
        /* The token verifier picks the issuer by "iss": it must be unique. */
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(t->strs + t->issuers[j].iss, t->strs + s->iss) == 0) {
                return zt_bad(ld, "issuer %u: iss is the same as issuer %u's",
                              i, j);
            }
        }
    }
    return APR_SUCCESS;
}

static apr_status_t zt_load_meta(zt_loader_t *ld)
{
    const zt_table_t *t = ld->t;

    ZT_CHECK_STR(ld, "meta", 0u, "name", t->meta->name);
    ZT_CHECK_STR(ld, "meta", 0u, "source", t->meta->source);
    return APR_SUCCESS;
}


/* Every embedded schema compiles (zt_body.h): the module validates with
 * the compiled forms, and a table whose schema zpc would refuse is bad. */
static apr_status_t zt_load_schemas(zt_loader_t *ld)
{
    const char *why = NULL;

    if (zt_body_prepare(ld->t, ld->pool, &why) != APR_SUCCESS) {
        return zt_bad(ld, "%s", why);
    }
    return APR_SUCCESS;
}

/* The route trie (zt_route.c): a refusal there is a bad table too. */
static apr_status_t zt_load_trie(zt_loader_t *ld)
{
    const char *why = NULL;
    apr_status_t rv = zt_route_trie_build(ld->t, ld->pool, &why);

    if (rv == APR_ENOMEM) {
        *ld->err = apr_psprintf(ld->pool, "%s: %s", ld->name, why);
    }
    else if (rv != APR_SUCCESS) {
        return zt_bad(ld, "%s", why != NULL ? why : "the route trie cannot be built");
    }
    return rv;
}

apr_status_t zt_table_load(zt_table_t **table, const void *buf,
                           apr_size_t len, const char *name,
                           apr_pool_t *pool, const char **err)
{
    static const char *dummy_err;
    zt_loader_t ld;
    const zt_hdr_t *h = NULL;
    const zt_sect_t *found[ZT_S__COUNT];
    const unsigned char *base = buf;
    const unsigned char *payload;
    zt_table_t *t;
    apr_status_t rv;

    *table = NULL;
    ld.name = name != NULL ? name : "(table)";
    ld.pool = pool;
    ld.err = err != NULL ? err : &dummy_err;
    ld.t = t = apr_pcalloc(pool, sizeof(*t));

    if (buf == NULL || ((uintptr_t)buf & 7) != 0) {
        return zt_bad(&ld, "buffer at %p is not 8-aligned", buf);
    }
    if ((rv = zt_load_header(&ld, base, len, &h)) != APR_SUCCESS
        || (rv = zt_load_trailer(&ld, base, (uint32_t)len)) != APR_SUCCESS
        || (rv = zt_load_sections(&ld, base, h, found)) != APR_SUCCESS) {
        return rv;
    }

    t->name = apr_pstrdup(pool, ld.name);
    t->base = base;
    t->size = (uint32_t)len;
    payload = base + h->hdr_len;
#define ZT_SECT(k, type) ((const type *)(payload + found[k]->off))
#define ZT_COUNT(k) (found[k]->len / zt_known_sections[k].recsize)
    t->strs = ZT_SECT(ZT_S_STRS, char);         t->strs_len = ZT_COUNT(ZT_S_STRS);
    t->meta = ZT_SECT(ZT_S_META, zt_meta_rec_t);
    t->issuers = ZT_SECT(ZT_S_ISSR, zt_issuer_rec_t); t->nissuers = ZT_COUNT(ZT_S_ISSR);
    t->routes = ZT_SECT(ZT_S_ROUT, zt_route_rec_t);   t->nroutes = ZT_COUNT(ZT_S_ROUT);
    t->segs = ZT_SECT(ZT_S_SEGS, zt_seg_rec_t);       t->nsegs = ZT_COUNT(ZT_S_SEGS);
    t->rules = ZT_SECT(ZT_S_RULE, zt_rule_rec_t);     t->nrules = ZT_COUNT(ZT_S_RULE);
    t->rrefs = ZT_SECT(ZT_S_RREF, uint32_t);          t->nrrefs = ZT_COUNT(ZT_S_RREF);
    t->nodes = ZT_SECT(ZT_S_NODE, zt_node_rec_t);     t->nnodes = ZT_COUNT(ZT_S_NODE);
    t->opnds = ZT_SECT(ZT_S_OPND, zt_opnd_rec_t);     t->nopnds = ZT_COUNT(ZT_S_OPND);
    t->lists = ZT_SECT(ZT_S_LIST, uint32_t);          t->nlists = ZT_COUNT(ZT_S_LIST);
    t->cidrs = ZT_SECT(ZT_S_CIDR, zt_cidr_rec_t);     t->ncidrs = ZT_COUNT(ZT_S_CIDR);
    t->types = ZT_SECT(ZT_S_TYPE, zt_type_rec_t);     t->ntypes = ZT_COUNT(ZT_S_TYPE);
    t->params = ZT_SECT(ZT_S_PARM, zt_param_rec_t);   t->nparams = ZT_COUNT(ZT_S_PARM);
    t->bodies = ZT_SECT(ZT_S_BODY, zt_body_rec_t);    t->nbodies = ZT_COUNT(ZT_S_BODY);
    t->blob = ZT_SECT(ZT_S_BLOB, unsigned char);      t->blob_len = found[ZT_S_BLOB]->len;
    t->stepups = ZT_SECT(ZT_S_STEP, zt_stepup_rec_t); t->nstepups = ZT_COUNT(ZT_S_STEP);
    t->limits = ZT_SECT(ZT_S_LIMT, zt_limit_rec_t);   t->nlimits = ZT_COUNT(ZT_S_LIMT);
    t->lrefs = ZT_SECT(ZT_S_LREF, uint32_t);          t->nlrefs = ZT_COUNT(ZT_S_LREF);
    t->dfas = ZT_SECT(ZT_S_DFAS, unsigned char);      t->dfas_len = found[ZT_S_DFAS]->len;
#undef ZT_SECT
#undef ZT_COUNT

    if (found[ZT_S_META]->len != sizeof(zt_meta_rec_t)) {
        return zt_bad(&ld, "section 'META' holds %u bytes, must be one "
                      "%u-byte record", found[ZT_S_META]->len,
                      (unsigned)sizeof(zt_meta_rec_t));
    }
    if ((rv = zt_check_count(&ld, "issuers", t->nissuers, ZT_MAX_ISSUERS))
        || (rv = zt_check_count(&ld, "routes", t->nroutes, ZT_MAX_ROUTES))
        || (rv = zt_check_count(&ld, "rules", t->nrules, ZT_MAX_RULES))
        || (rv = zt_check_count(&ld, "nodes", t->nnodes, ZT_MAX_NODES))
        || (rv = zt_load_strings(&ld))
        || (rv = zt_load_opnds(&ld))
        || (rv = zt_load_lists(&ld))
        || (rv = zt_load_cidrs(&ld))
        || (rv = zt_load_types(&ld))
        || (rv = zt_load_dfas(&ld))
        || (rv = zt_load_nodes(&ld))
        || (rv = zt_load_rules(&ld))
        || (rv = zt_load_segs(&ld))
        || (rv = zt_load_params(&ld))
        || (rv = zt_load_bodies(&ld))
        || (rv = zt_load_stepups(&ld))
        || (rv = zt_load_limits(&ld))
        || (rv = zt_load_routes(&ld))
        || (rv = zt_load_issuers(&ld))
        || (rv = zt_load_meta(&ld))
        || (rv = zt_load_trie(&ld))
        || (rv = zt_load_schemas(&ld))) {
        return rv;
    }
    zt_eval_prepare(t, pool);
    zt_validate_prepare(t, pool);
    *table = t;
    return APR_SUCCESS;
}

/*
 * Read the whole file into memory of @a pool and verify it.  The table is
 * deliberately not mapped: a mapping shows every later change to the file
 * (an operator rewriting it in place, a truncation raising SIGBUS), and
 * what was verified must stay exactly what is evaluated.  Apache reads
 * the table once, in the parent, and its children share those pages
 * through fork() until the next restart.  The buffer lives in a subpool,
 * freed at once if the table is refused.
 */
apr_status_t zt_table_open(zt_table_t **table, const char *path,
                           apr_pool_t *pool, const char **err)
{
    static const char *dummy_err;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_pool_t *bufpool;
    apr_size_t want, got = 0;
    unsigned char *buf;
    apr_status_t rv;
    char ebuf[256];

    *table = NULL;
    if (err == NULL) {
        err = &dummy_err;
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: cannot stat: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_file_close(f);
        return rv;
    }
    if (fi.filetype != APR_REG) {
        *err = apr_psprintf(pool, "%s: not a regular file", path);
        apr_file_close(f);
        return APR_EINVAL;
    }
    if (fi.size < (apr_off_t)ZT_MIN_FILE_LEN || fi.size > (apr_off_t)ZT_MAX_FILE_LEN) {
        *err = apr_psprintf(pool, "%s: bad table (file is %" APR_OFF_T_FMT
                            " bytes, must be %u..%u)", path, fi.size,
                            (unsigned)ZT_MIN_FILE_LEN, (unsigned)ZT_MAX_FILE_LEN);
        apr_file_close(f);
        return APR_EINVAL;
    }
    if ((rv = apr_pool_create(&bufpool, pool)) != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: out of memory", path);
        apr_file_close(f);
        return rv;
    }
    /* One byte more than the size: a file that grew since the stat shows. */
    want = (apr_size_t)fi.size;
    buf = apr_palloc(bufpool, want + 1);    /* APR allocations are 8-aligned */
    rv = apr_file_read_full(f, buf, want + 1, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(pool, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        apr_pool_destroy(bufpool);
        return rv;
    }
    if (got != want) {
        *err = apr_psprintf(pool, "%s: the file changed while it was read "
                            "(%" APR_SIZE_T_FMT " bytes, then %s%" APR_SIZE_T_FMT
                            "); replace tables with rename(), as zpc does",
                            path, want, got > want ? "more than " : "",
                            got > want ? want : got);
        apr_pool_destroy(bufpool);
        return APR_EINVAL;
    }
    rv = zt_table_load(table, buf, want, path, pool, err);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(bufpool);
    }
    return rv;
}
