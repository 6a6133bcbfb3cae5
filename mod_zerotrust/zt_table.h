/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_table.h
 * @brief Map a .ztb decision table and verify it completely, once.
 *
 * After zt_table_open() or zt_table_load() succeeds every offset, index,
 * opcode and string in the table has been checked, so readers (zt_eval,
 * zpc dump) index the arrays below without further bounds checks.
 */
#ifndef ZT_TABLE_H
#define ZT_TABLE_H

#include <apr_pools.h>
#include "zt_format.h"

typedef struct zt_table_s {
    const char *name;               /**< path or label, for messages */
    const unsigned char *base;      /**< the whole file (read in, or the caller's) */
    uint32_t size;
    unsigned char sha256[ZT_HASH_LEN];
    char hash_hex[2 * ZT_HASH_LEN + 1];   /**< the trailer, in hex */

    const char *strs;   uint32_t strs_len;
    const zt_meta_rec_t   *meta;
    const zt_issuer_rec_t *issuers;  uint32_t nissuers;
    const zt_route_rec_t  *routes;   uint32_t nroutes;
    const zt_seg_rec_t    *segs;     uint32_t nsegs;
    const zt_rule_rec_t   *rules;    uint32_t nrules;
    const uint32_t        *rrefs;    uint32_t nrrefs;
    const zt_node_rec_t   *nodes;    uint32_t nnodes;
    const zt_opnd_rec_t   *opnds;    uint32_t nopnds;
    const uint32_t        *lists;    uint32_t nlists;
    const zt_cidr_rec_t   *cidrs;    uint32_t ncidrs;
    const zt_type_rec_t   *types;    uint32_t ntypes;
    const zt_param_rec_t  *params;   uint32_t nparams;
    const zt_body_rec_t   *bodies;   uint32_t nbodies;
    const unsigned char   *blob;     uint32_t blob_len;
    const zt_stepup_rec_t *stepups;  uint32_t nstepups;
    const zt_limit_rec_t  *limits;   uint32_t nlimits;
    const uint32_t        *lrefs;    uint32_t nlrefs;
    const unsigned char   *dfas;     uint32_t dfas_len;   /**< pattern automata */

    /** The route trie, built by the loader from ROUT and SEGS (zt_route.c)
     *  in @a pool; it is derived, so it needs no verification of its own. */
    const struct zt_trie_s *trie;

    /** Per OPND record, the byte length of its string (a TOKEN path's
     *  first name), computed once by the loader (zt_eval_prepare) so a
     *  decision measures no string.  Derived, like the trie. */
    const uint32_t *opnd_len;

    /** Per BODY record, its schema compiled once by the loader
     *  (zt_body_prepare, zt_body.h).  Derived, like the trie. */
    const struct zt_bschema_s *schemas;
    /** Per-route decision programs and claim slots, compiled by the
     *  loader (zt_eval_prepare, zt_prog.h).  Derived, like the trie. */
    const struct zt_prog_s *prog;
    /** Per ROUT record, its contract as input validation reads it (name
     *  lengths, required mask; zt_validate_prepare, zt_validate.h).
     *  Derived, like the trie. */
    const struct zt_vroute_s *vroutes;
} zt_table_t;

/**
 * Build the route trie of a verified table (zt_route.c; called by the
 * loader).  Fails, with a message, when two routes of one method have the
 * same shape (zpc refuses such a policy; a table holding one is hostile).
 */
apr_status_t zt_route_trie_build(zt_table_t *t, apr_pool_t *pool,
                                 const char **err);

/** Compute what the evaluator derives from a verified table (opnd_len,
 *  prog; zt_prog.c; called by the loader). */
void zt_eval_prepare(zt_table_t *t, apr_pool_t *pool);

/**
 * Read @a path into memory of @a pool and verify it.  The file is read,
 * not mapped, so a later change to it (rewritten in place, truncated)
 * never reaches a verified table.
 * @return APR_SUCCESS, or an error with *err set to a message such as
 *   "orders.ztb: bad table (node 17: child 4096 >= count 212)".
 */
apr_status_t zt_table_open(zt_table_t **table, const char *path,
                           apr_pool_t *pool, const char **err);

/**
 * Verify a table already in memory (tests, fuzzers, zpc after emitting).
 * @a buf must outlive the table and be 8-aligned.
 */
apr_status_t zt_table_load(zt_table_t **table, const void *buf,
                           apr_size_t len, const char *name,
                           apr_pool_t *pool, const char **err);

/**
 * NULL if @a url may name a key source the module fetches (jwks url, or
 * the issuer of jwks discover): "https://HOST[:PORT][/PATH][?QUERY]", or
 * "http://" only to a loopback host (127.0.0.0/8, [::1], localhost) for
 * tests and sidecars.  No user information, no fragment, only RFC 3986
 * characters; with @a no_query, no query either (an OpenID issuer has
 * none).  Otherwise a phrase to follow the URL's name in a message:
 * "is not an https:// URL".  zpc and the loader share this one rule.
 */
const char *zt_table_url_problem(const char *url, int no_query);

/** String at pool offset @a off (verified at load). */
static inline const char *zt_table_str(const zt_table_t *t, uint32_t off)
{
    return t->strs + off;
}

#endif /* ZT_TABLE_H */
