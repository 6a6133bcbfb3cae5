/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Semantic checks of a parsed policy.  Every rule of the language that the
 * grammar cannot express is enforced here, and every violation is reported
 * (up to the error limit) rather than only the first: policy, issuers,
 * lets, routes (zpc_check_route.c), rules, step-ups, limits and tests
 * (zpc_check_test.c) are checked in that order, each in source order, then
 * the whole file, which is where the warnings come from.  On the way the
 * checker resolves names (let references, token claims, path captures,
 * query parameters), types the operands of every comparison, parses path
 * patterns into segments and computes which routes each rule, step-up and
 * limit covers, which zpc_lower.c then relies on.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zpc_check.h"
#include "zt_alg.h"
#include "zt_table.h"

#define ZPC_SAT_MAX (UINT64_C(1) << 62)

/* What checking a condition found out. */
typedef struct {
    unsigned depth;
    uint64_t size;
    apr_array_header_t *paths;  /* zpc_ast_pathref_t, one per capture name */
    zpc_ast_pathref_t token;    /* the first token.* read, if any */
} zpc_cinfo_t;

static uint64_t zpc_sat_add(uint64_t a, uint64_t b)
{
    return a + b > ZPC_SAT_MAX ? ZPC_SAT_MAX : a + b;
}

const char *zpc_check_quote(zpc_check_t *c, const char *s)
{
    return zpc_diag_quote(c->pool, s, strlen(s), 60);
}

/* A location spanning from @a a to @a b. */
zpc_loc_t zpc_loc_span(const zpc_loc_t *a, const zpc_loc_t *b)
{
    zpc_loc_t l = *a;

    l.last_line = b->last_line;
    l.last_column = b->last_column;
    return l;
}

/* The location of bytes [off, off + len) of a one-line token. */
zpc_loc_t zpc_loc_sub(const zpc_loc_t *tok, size_t off, size_t len)
{
    zpc_loc_t l = *tok;

    l.first_column += (int)off;
    l.last_line = l.first_line;
    l.last_column = l.first_column + (len > 0 ? (int)len - 1 : 0);
    return l;
}

/*
** A file a policy names (a route's schema, a test's body), read now,
** relative to the file that names it, so a missing one is a compile
** error.  @a what names it in messages ("schema", "body").
*/
const char *zpc_check_read(zpc_check_t *c, const zpc_loc_t *loc,
                           const char *name, const char *what,
                           apr_size_t max, apr_size_t *len)
{
    const char *path, *buf, *why = NULL;

    if (name[0] == '\0') {
        zpc_diag_error(c->d, loc, "the %s file name is empty", what);
        return NULL;
    }
    path = zpc_relative(c->pool, zpc_diag_file_name(c->d, loc->file), name);
    buf = zpc_read_file(c->pool, path, max, len, &why);
    if (buf == NULL) {
        zpc_diag_error(c->d, loc, "cannot read %s file %s: %s", what,
                       zpc_check_quote(c, path), why);
    }
    return buf;
}

static const char *const zpc_reserved[] = {
    "token", "path", "client", "query", "header", "tls", "time", NULL
};

static int zpc_is_reserved(const char *name)
{
    for (int i = 0; zpc_reserved[i] != NULL; i++) {
        if (strcmp(name, zpc_reserved[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int zpc_is_ident(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) {
        return 0;
    }
    for (s++; *s != '\0'; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* policy                                                              */

static void zpc_check_policy(zpc_check_t *c)
{
    apr_array_header_t *p = c->ast->policies;

    for (int i = 0; i < p->nelts; i++) {
        zpc_ast_policy_t *pol = APR_ARRAY_IDX(p, i, zpc_ast_policy_t *);
        if (i > 0) {
            zpc_ast_policy_t *first = APR_ARRAY_IDX(p, 0, zpc_ast_policy_t *);
            zpc_diag_error(c->d, &pol->loc, "more than one policy declaration "
                           "(a file declares exactly one policy)");
            zpc_diag_note(c->d, &first->loc, "the first one is here");
        }
        else if (pol->name[0] == '\0') {
            zpc_diag_error(c->d, &pol->name_loc, "the policy name is empty");
        }
    }
}

/* ------------------------------------------------------------------ */
/* issuers                                                             */

static void zpc_check_algorithms(zpc_check_t *c, zpc_ast_issuer_t *is,
                                 const zpc_ast_attr_t *a)
{
    for (int i = 0; i < a->words->nelts; i++) {
        const zpc_ast_word_t *w = APR_ARRAY_IDX(a->words, i, zpc_ast_word_t *);
        size_t len = strlen(w->text);
        uint32_t bit = zt_alg_from_name(w->text, len);
        uint32_t ci = 0;

        if (bit != 0) {
            if (is->ir.algs & bit) {
                zpc_diag_warning(c->d, &w->loc, "algorithm '%s' is listed twice",
                                 w->text);
            }
            is->ir.algs |= bit;
            continue;
        }
        if (strcasecmp(w->text, "none") == 0) {
            zpc_diag_error(c->d, &w->loc, "algorithm 'none' is refused: an "
                           "unsigned token proves nothing");
            continue;
        }
        for (uint32_t b = 1; b & ZT_ALG_ALL; b <<= 1) {
            if (strcasecmp(zt_alg_name(b), w->text) == 0) {
                ci = b;
            }
        }
        if (ci != 0) {
            zpc_diag_error(c->d, &w->loc, "unknown algorithm '%s' (algorithm "
                           "names are case-sensitive: write %s)", w->text,
                           zt_alg_name(ci));
        }
        else {
            char *valid = "";
            for (uint32_t b = 1; b & ZT_ALG_ALL; b <<= 1) {
                valid = apr_pstrcat(c->pool, valid, b == 1 ? "" : " ",
                                    zt_alg_name(b), NULL);
            }
            zpc_diag_error(c->d, &w->loc, "unknown algorithm '%s' (valid: %s)",
                           w->text, valid);
        }
    }
}

static void zpc_check_seconds(zpc_check_t *c, const zpc_ast_attr_t *a,
                              uint32_t *out)
{
    if (a->num < 0) {
        zpc_diag_error(c->d, &a->val_loc, "%s cannot be negative", a->name);
    }
    else if (a->num > (int64_t)UINT32_MAX) {
        zpc_diag_error(c->d, &a->val_loc, "%s is too long (%lld seconds; the "
                       "limit is %lu)", a->name, (long long)a->num,
                       (unsigned long)UINT32_MAX);
    }
    else {
        *out = (uint32_t)a->num;
    }
}

/* refresh, refetch_min: an interval, so 0 is refused too. */
static void zpc_check_interval(zpc_check_t *c, const zpc_ast_attr_t *a,
                               uint32_t *out)
{
    if (a->num == 0) {
        zpc_diag_error(c->d, &a->val_loc, "%s must be at least 1 second",
                       a->name);
        return;
    }
    zpc_check_seconds(c, a, out);
}

/* The first control character of @a s, or NUL (the scanner lets only
 * \n and \t through, as escapes). */
int zpc_control_char(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return (unsigned char)*s;
        }
    }
    return 0;
}


static const char zpc_key_sources[] =
    "jwks file \"PATH\", jwks url \"URL\" or jwks discover";

static void zpc_check_jwks(zpc_check_t *c, zpc_ast_issuer_t *is,
                           const zpc_ast_attr_t *a)
{
    const char *why;

    if (a->source == NULL) {
        int url = strncmp(a->str, "https://", 8) == 0 || strncmp(a->str, "http://", 7) == 0;
        zpc_diag_error(c->d, &a->loc, "jwks needs the kind of its source: write "
                       "jwks %s %s (the kinds are file, url and discover)",
                       url ? "url" : "file", zpc_check_quote(c, a->str));
        return;
    }
    if (strcmp(a->source, "discover") == 0) {
        is->ir.jwks_kind = ZT_JWKS_DISCOVER;
        if (a->str != NULL) {
            zpc_diag_error(c->d, &a->val_loc, "jwks discover takes no URL: the "
                           "key set is found from the issuer's iss (ISS%s); "
                           "for a URL of your own write jwks url \"URL\"",
                           "/.well-known/openid-configuration");
        }
        else if (is->iss[0] != '\0'
                 && (why = zt_table_url_problem(is->iss, 1)) != NULL) {
            zpc_diag_error(c->d, &a->source_loc, "jwks discover needs an https "
                           "iss, and the iss of issuer '%s' %s", is->name, why);
            zpc_diag_note(c->d, &is->iss_loc, "the iss is here; discovery "
                          "fetches ISS/.well-known/openid-configuration");
        }
        return;
    }
    if (strcmp(a->source, "file") == 0) {
        is->ir.jwks_kind = ZT_JWKS_FILE;
    }
    else if (strcmp(a->source, "url") == 0) {
        is->ir.jwks_kind = ZT_JWKS_URL;
    }
    else {
        zpc_diag_error(c->d, &a->source_loc, "unknown key source '%s' (write: "
                       "%s)", a->source, zpc_key_sources);
        return;
    }
    if (a->str == NULL) {
        zpc_diag_error(c->d, &a->source_loc, "jwks %s needs a %s in quotes: "
                       "jwks %s \"%s\"", a->source,
                       is->ir.jwks_kind == ZT_JWKS_FILE ? "file name" : "URL",
                       a->source, is->ir.jwks_kind == ZT_JWKS_FILE ? "PATH" : "URL");
        return;
    }
    is->ir.jwks = a->str;
    if (a->str[0] == '\0') {
        zpc_diag_error(c->d, &a->val_loc, "the jwks %s is empty",
                       is->ir.jwks_kind == ZT_JWKS_FILE ? "file name" : "URL");
    }
    else if (is->ir.jwks_kind == ZT_JWKS_URL
             && (why = zt_table_url_problem(a->str, 0)) != NULL) {
        zpc_diag_error(c->d, &a->val_loc, "the jwks URL %s", why);
    }
}

static void zpc_check_secret(zpc_check_t *c, zpc_ast_issuer_t *is,
                             const zpc_ast_attr_t *a)
{
    if (a->source == NULL) {
        zpc_diag_error(c->d, &a->loc, "secret needs the kind of its source: "
                       "write secret file %s", zpc_check_quote(c, a->str));
        return;
    }
    if (strcmp(a->source, "file") != 0) {
        zpc_diag_error(c->d, &a->source_loc, "unknown secret source '%s' (write: "
                       "secret file \"PATH\", a file holding the HS256/384/512 "
                       "shared secret)", a->source);
        return;
    }
    if (a->str == NULL) {
        zpc_diag_error(c->d, &a->source_loc, "secret file needs a file name in "
                       "quotes: secret file \"PATH\"");
        return;
    }
    if (a->str[0] == '\0') {
        zpc_diag_error(c->d, &a->val_loc, "the secret file name is empty");
        return;
    }
    is->ir.secret = a->str;
}

/* A claim name of `required`: one top-level claim, named plainly. */
static void zpc_check_required(zpc_check_t *c, zpc_ast_issuer_t *is,
                               const zpc_ast_attr_t *a)
{
    apr_hash_t *seen = apr_hash_make(c->pool);
    int cc;

    is->ir.required = apr_array_make(c->pool, a->names->nelts, sizeof(const char *));
    for (int i = 0; i < a->names->nelts; i++) {
        const zpc_ast_opnd_t *o = APR_ARRAY_IDX(a->names, i, zpc_ast_opnd_t *);
        const char *name;

        if (o->kind == ZPC_OPND_NAME) {
            name = zpc_ast_name_text(c->pool, o);
            if (o->parts->nelts > 1) {
                zpc_diag_error(c->d, &o->loc, "'%s' is a nested claim; required "
                               "names top-level claims only (a claim whose "
                               "name holds a dot is written in quotes: "
                               "\"%s\")", name, name);
                continue;
            }
        }
        else {
            name = o->str;
            if (name[0] == '\0') {
                zpc_diag_error(c->d, &o->loc, "an empty claim name");
                continue;
            }
            if ((cc = zpc_control_char(name)) != 0) {
                zpc_diag_error(c->d, &o->loc, "control character 0x%02x in a "
                               "claim name", cc);
                continue;
            }
        }
        /* "required sub\n  typp \"at+jwt\"": a misspelled attribute
         * after the list reads as two more claim names. */
        if (o->kind == ZPC_OPND_NAME && i > 0 && i + 1 < a->names->nelts) {
            const zpc_ast_opnd_t *prev = APR_ARRAY_IDX(a->names, i - 1, zpc_ast_opnd_t *);
            const zpc_ast_opnd_t *next = APR_ARRAY_IDX(a->names, i + 1, zpc_ast_opnd_t *);
            if (o->loc.first_line > prev->loc.last_line && next->kind == ZPC_OPND_STR
                && next->loc.first_line == o->loc.last_line) {
                zpc_diag_warning(c->d, &o->loc, "'%s' %s on a new line reads "
                                 "like an attribute, but is taken as one more "
                                 "required claim (if it is an attribute, its "
                                 "name is misspelled)", name,
                                 zpc_check_quote(c, next->str));
            }
        }
        if (apr_hash_get(seen, name, APR_HASH_KEY_STRING) != NULL) {
            zpc_diag_warning(c->d, &o->loc, "claim '%s' is listed twice", name);
            continue;
        }
        apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
        if (is->ir.required->nelts == ZT_MAX_REQUIRED) {
            zpc_diag_error(c->d, &o->loc, "too many required claims (the limit "
                           "is %d)", ZT_MAX_REQUIRED);
            return;
        }
        APR_ARRAY_PUSH(is->ir.required, const char *) = name;
    }
}

/* The first word of the algorithms list whose bit is in @a mask. */
static const zpc_ast_word_t *zpc_first_alg(const zpc_ast_attr_t *a, uint32_t mask)
{
    for (int i = 0; a != NULL && i < a->words->nelts; i++) {
        const zpc_ast_word_t *w = APR_ARRAY_IDX(a->words, i, zpc_ast_word_t *);
        if (zt_alg_from_name(w->text, strlen(w->text)) & mask) {
            return w;
        }
    }
    return NULL;
}

/*
** Every algorithm needs its key source and every key source an algorithm
** that uses it: HS* verify with the secret and only with it, the others
** with the key set (jwks) and only with it.  The loader holds tables to
** the same rule.
*/
static void zpc_check_key_sources(zpc_check_t *c, zpc_ast_issuer_t *is,
                                  const zpc_ast_attr_t *const *seen)
{
    const zpc_ast_attr_t *algs = seen[ZPC_ATTR_ALGORITHMS];
    const zpc_ast_attr_t *jwks = seen[ZPC_ATTR_JWKS], *secret = seen[ZPC_ATTR_SECRET];
    const zpc_ast_word_t *w;
    uint32_t hs = is->ir.algs & ZT_ALG_HS_ALL, asym = is->ir.algs & ~ZT_ALG_HS_ALL;

    if (jwks == NULL && secret == NULL) {
        zpc_diag_error(c->d, &is->name_loc, "issuer '%s' has no key source "
                       "(add: %s; or, for HS256/384/512, secret file \"PATH\")",
                       is->name, zpc_key_sources);
        return;
    }
    if (algs == NULL || is->ir.algs == 0) {
        return;     /* reported already */
    }
    if (hs != 0 && secret == NULL && (w = zpc_first_alg(algs, ZT_ALG_HS_ALL)) != NULL) {
        zpc_diag_error(c->d, &w->loc, "algorithm %s needs a shared secret (add: "
                       "secret file \"PATH\")", w->text);
    }
    if (asym != 0 && jwks == NULL && (w = zpc_first_alg(algs, ~ZT_ALG_HS_ALL)) != NULL) {
        zpc_diag_error(c->d, &w->loc, "algorithm %s needs a key set (add: %s)",
                       w->text, zpc_key_sources);
    }
    if (secret != NULL && hs == 0) {
        zpc_diag_error(c->d, &secret->loc, "a secret verifies only HS256, HS384 "
                       "or HS512, and the algorithms of issuer '%s' list none",
                       is->name);
    }
    if (jwks != NULL && asym == 0) {
        zpc_diag_error(c->d, &jwks->loc, "the key set of issuer '%s' would never "
                       "be used: its algorithms are all HS256/384/512, which "
                       "verify with the secret", is->name);
    }
}

/* binding mtls | dpop | any: how the issuer's tokens must be bound. */
static void zpc_check_binding(zpc_check_t *c, const zpc_ast_attr_t *a,
                              uint32_t *out)
{
    if ((*out = zt_binding_from_name(a->source, strlen(a->source))) != 0) {
        return;
    }
    zpc_diag_error(c->d, &a->source_loc, "unknown binding '%s' (expected "
                   "mtls, dpop or any)", a->source);
}

static void zpc_check_issuer(zpc_check_t *c, zpc_ast_issuer_t *is,
                             apr_hash_t *names, apr_hash_t *isses)
{
    const zpc_ast_attr_t *seen[ZPC_ATTR__COUNT] = { NULL };
    zpc_ast_issuer_t *prev;
    int cc;

    if ((prev = apr_hash_get(names, is->name, APR_HASH_KEY_STRING)) != NULL) {
        zpc_diag_error(c->d, &is->name_loc, "issuer '%s' is declared twice",
                       is->name);
        zpc_diag_note(c->d, &prev->name_loc, "the first declaration is here");
    }
    else {
        apr_hash_set(names, is->name, APR_HASH_KEY_STRING, is);
    }
    if (prev != NULL) {
        /* one error per duplicate issuer is enough */
    }
    else if (is->iss[0] == '\0') {
        zpc_diag_error(c->d, &is->iss_loc, "the iss of issuer '%s' is empty "
                       "(write the exact \"iss\" its tokens carry)", is->name);
    }
    else if ((prev = apr_hash_get(isses, is->iss, APR_HASH_KEY_STRING)) != NULL) {
        zpc_diag_error(c->d, &is->iss_loc, "issuers '%s' and '%s' have the same "
                       "iss %s", prev->name, is->name, zpc_check_quote(c, is->iss));
        zpc_diag_note(c->d, &prev->iss_loc, "issuer '%s' is declared here",
                      prev->name);
    }
    else {
        apr_hash_set(isses, is->iss, APR_HASH_KEY_STRING, is);
    }

    is->ir.name = is->name;
    is->ir.iss = is->iss;
    is->ir.jwks_kind = ZT_JWKS_NONE;
    is->ir.line = (uint32_t)is->loc.first_line;
    for (int i = 0; i < is->attrs->nelts; i++) {
        const zpc_ast_attr_t *a = APR_ARRAY_IDX(is->attrs, i, zpc_ast_attr_t *);

        if (a->kind == ZPC_ATTR_UNKNOWN) {
            zpc_diag_error(c->d, &a->loc, "unknown issuer attribute '%s' "
                           "(expected audience, algorithms, jwks, secret, typ, "
                           "required, max_lifetime, leeway, refresh, "
                           "refetch_min or binding)", a->name);
            continue;
        }
        if (seen[a->kind] != NULL) {
            zpc_diag_error(c->d, &a->loc, "duplicate attribute '%s' in issuer "
                           "'%s'", a->name, is->name);
            zpc_diag_note(c->d, &seen[a->kind]->loc, "the first one is here");
            continue;
        }
        seen[a->kind] = a;
        switch (a->kind) {
        case ZPC_ATTR_AUDIENCE:
            if (a->str[0] == '\0') {
                zpc_diag_error(c->d, &a->val_loc, "the audience is empty");
            }
            is->ir.audience = a->str;
            break;
        case ZPC_ATTR_ALGORITHMS:
            zpc_check_algorithms(c, is, a);
            break;
        case ZPC_ATTR_JWKS:
            zpc_check_jwks(c, is, a);
            break;
        case ZPC_ATTR_SECRET:
            zpc_check_secret(c, is, a);
            break;
        case ZPC_ATTR_TYP:
            if (a->str[0] == '\0') {
                zpc_diag_error(c->d, &a->val_loc, "the typ is empty (leave typ "
                               "out to accept \"JWT\", \"at+jwt\" or none)");
            }
            else if ((cc = zpc_control_char(a->str)) != 0) {
                zpc_diag_error(c->d, &a->val_loc, "control character 0x%02x in "
                               "the typ", cc);
            }
            else {
                is->ir.typ = a->str;
            }
            break;
        case ZPC_ATTR_REQUIRED:
            zpc_check_required(c, is, a);
            break;
        case ZPC_ATTR_MAX_LIFETIME:
            zpc_check_seconds(c, a, &is->ir.max_lifetime);
            break;
        case ZPC_ATTR_LEEWAY:
            zpc_check_seconds(c, a, &is->ir.leeway);
            break;
        case ZPC_ATTR_REFRESH:
            zpc_check_interval(c, a, &is->ir.refresh);
            break;
        case ZPC_ATTR_REFETCH_MIN:
            zpc_check_interval(c, a, &is->ir.refetch_min);
            break;
        case ZPC_ATTR_BINDING:
            zpc_check_binding(c, a, &is->ir.binding);
            break;
        default:
            break;
        }
    }
    if (seen[ZPC_ATTR_AUDIENCE] == NULL) {
        zpc_diag_error(c->d, &is->name_loc, "issuer '%s' has no audience (add: "
                       "audience \"API-NAME\")", is->name);
    }
    if (seen[ZPC_ATTR_ALGORITHMS] == NULL) {
        zpc_diag_error(c->d, &is->name_loc, "issuer '%s' has no algorithms "
                       "(add, for example: algorithms ES256 RS256)", is->name);
    }
    zpc_check_key_sources(c, is, seen);

    /* Intervals belong to key sets the module fetches. */
    if (is->ir.jwks_kind == ZT_JWKS_URL || is->ir.jwks_kind == ZT_JWKS_DISCOVER) {
        if (seen[ZPC_ATTR_REFRESH] == NULL) {
            is->ir.refresh = ZT_REFRESH_DEFAULT;
        }
        if (seen[ZPC_ATTR_REFETCH_MIN] == NULL) {
            is->ir.refetch_min = ZT_REFETCH_MIN_DEFAULT;
        }
    }
    else {
        for (int k = ZPC_ATTR_REFRESH; k <= ZPC_ATTR_REFETCH_MIN; k++) {
            if (seen[k] == NULL) {
                continue;
            }
            if (seen[ZPC_ATTR_JWKS] == NULL) {
                zpc_diag_error(c->d, &seen[k]->loc, "%s applies to jwks url and "
                               "jwks discover, and issuer '%s' has no key set",
                               seen[k]->name, is->name);
            }
            else if (is->ir.jwks_kind == ZT_JWKS_FILE) {
                zpc_diag_error(c->d, &seen[k]->loc, "%s applies to jwks url and "
                               "jwks discover (a jwks file is re-read when it "
                               "changes)", seen[k]->name);
            }
        }
        is->ir.refresh = is->ir.refetch_min = 0;
    }
}

static void zpc_check_issuers(zpc_check_t *c)
{
    apr_hash_t *names = apr_hash_make(c->pool), *isses = apr_hash_make(c->pool);
    apr_array_header_t *iss = c->ast->issuers;

    for (int i = 0; i < iss->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_ast_issuer_t *is = APR_ARRAY_IDX(iss, i, zpc_ast_issuer_t *);
        if (i == ZT_MAX_ISSUERS) {
            zpc_diag_error(c->d, &is->name_loc, "too many issuers (the limit is "
                           "%d)", ZT_MAX_ISSUERS);
        }
        zpc_check_issuer(c, is, names, isses);
    }
}

/* ------------------------------------------------------------------ */
/* conditions                                                          */

/*
** Record a path.NAME or query.NAME use, once per name.  No route has more
** than ZT_MAX_SEGMENTS captures and ZT_MAX_PARAMS parameters, so a
** condition naming more distinct ones can never be satisfied by any route
** it covers: refuse it, which also keeps this list (and the search in it)
** short.
*/
static void zpc_add_path(zpc_check_t *c, apr_array_header_t *paths,
                         const zpc_ast_opnd_t *o, const zpc_ast_let_t *via)
{
    const char *name = APR_ARRAY_IDX(o->parts, 1, const char *);
    zpc_ast_pathref_t *p;

    for (int i = 0; i < paths->nelts; i++) {
        p = &APR_ARRAY_IDX(paths, i, zpc_ast_pathref_t);
        if (p->opnd->zt_kind == o->zt_kind
            && strcmp(APR_ARRAY_IDX(p->opnd->parts, 1, const char *), name) == 0) {
            return;
        }
    }
    if (paths->nelts == ZT_MAX_SEGMENTS + ZT_MAX_PARAMS) {
        if (c->capped == paths) {
            return;     /* reported once per condition */
        }
        c->capped = paths;
        zpc_diag_error(c->d, &o->loc, "%s.%s: more than %d different "
                       "captures and query parameters in one condition (no "
                       "route has that many)", APR_ARRAY_IDX(o->parts, 0, const char *),
                       name, ZT_MAX_SEGMENTS + ZT_MAX_PARAMS);
        return;
    }
    p = apr_array_push(paths);
    p->opnd = o;
    p->via = via;
}

/* a.b.c for a message, cut short if it is very long */
static const char *zpc_name_msg(zpc_check_t *c, const zpc_ast_opnd_t *o)
{
    const char *text = zpc_ast_name_text(c->pool, o);

    if (o->str != NULL) {
        text = apr_pstrcat(c->pool, text, "[", zpc_check_quote(c, o->str), "]", NULL);
    }
    if (strlen(text) > 80) {
        text = apr_pstrcat(c->pool, apr_pstrndup(c->pool, text, 72), "...", NULL);
    }
    return text;
}

/* RFC 9110 token characters: what a header name is made of. */
int zpc_is_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch) != NULL)) {
            return 0;
        }
    }
    return 1;
}

/* The request operands that are not token.* or path.*: NAME, kind. */
static const struct {
    const char *name;
    uint32_t kind;
} zpc_request_names[] = {
    { "client.ip", ZT_OPND_CLIENT_IP }, { "client.cert", ZT_OPND_CERT },
    { "client.cert.subject", ZT_OPND_CERT_SUBJECT },
    { "client.cert.san", ZT_OPND_CERT_SAN },
    { "tls.version", ZT_OPND_TLS_VERSION },
    { "time.hour", ZT_OPND_TIME_HOUR }, { "time.weekday", ZT_OPND_TIME_WEEKDAY },
};

/*
** Resolve an operand used as a value.  Returns 1 if it is usable; a NAME
** becomes a token claim, a path capture, a query parameter, a header or
** one of zpc_request_names (o->zt_kind), and a capture or query parameter
** is recorded in @a info->paths.
*/
static int zpc_check_value(zpc_check_t *c, zpc_ast_opnd_t *o,
                           zpc_cinfo_t *info)
{
    const char *first, *text;
    int n;

    switch (o->kind) {
    case ZPC_OPND_STR:  o->zt_kind = ZT_OPND_STR;  return 1;
    case ZPC_OPND_INT:  o->zt_kind = ZT_OPND_INT;  return 1;
    case ZPC_OPND_BOOL: o->zt_kind = ZT_OPND_BOOL; return 1;
    case ZPC_OPND_ADDR:
        zpc_diag_error(c->d, &o->loc, "an address is matched only by "
                       "client.ip in [...]: client.ip in [%s]", o->str);
        return 0;
    default: break;
    }
    first = APR_ARRAY_IDX(o->parts, 0, const char *);
    n = o->parts->nelts - 1;
    text = zpc_name_msg(c, o);
    if (o->str != NULL || (strcmp(first, "header") == 0 && n == 0)) {
        if (strcmp(first, "header") != 0 || n != 0 || o->str == NULL) {
            zpc_diag_error(c->d, &o->loc, "%s: only header takes [\"Name\"]; "
                           "write header[\"X-Name\"]", text);
            return 0;
        }
        if (!zpc_is_token(o->str)) {
            zpc_diag_error(c->d, &o->loc, "%s is not a header name (letters, "
                           "digits and !#$%%&'*+-.^_`|~)",
                           zpc_check_quote(c, o->str));
            return 0;
        }
        o->zt_kind = ZT_OPND_HEADER;
        return 1;
    }
    if (strcmp(first, "token") == 0) {
        if (n == 0) {
            zpc_diag_error(c->d, &o->loc, "'token' needs a claim name: "
                           "token.NAME, e.g. token.sub");
            return 0;
        }
        if (n > ZT_MAX_CLAIM_DEPTH) {
            zpc_diag_error(c->d, &o->loc, "claim path %s has %d parts (the "
                           "limit is %d)", text, n, ZT_MAX_CLAIM_DEPTH);
            return 0;
        }
        o->zt_kind = ZT_OPND_TOKEN;
        if (info->token.opnd == NULL) {
            info->token.opnd = o;
        }
        return 1;
    }
    if (strcmp(first, "path") == 0 || strcmp(first, "query") == 0) {
        int path = first[0] == 'p';
        if (n != 1) {
            zpc_diag_error(c->d, &o->loc, path
                           ? "%s: write path.NAME, where {NAME} is a capture of the route"
                           : "%s: write query.NAME, where NAME is a query parameter "
                             "of the route", text);
            return 0;
        }
        o->zt_kind = path ? ZT_OPND_PATH : ZT_OPND_QUERY;
        zpc_add_path(c, info->paths, o, NULL);
        return 1;
    }
    for (size_t i = 0; i < sizeof(zpc_request_names) / sizeof(zpc_request_names[0]); i++) {
        if (strcmp(text, zpc_request_names[i].name) == 0) {
            o->zt_kind = zpc_request_names[i].kind;
            return 1;
        }
    }
    if (zpc_is_reserved(first)) {
        zpc_diag_error(c->d, &o->loc, "unknown name '%s' (the request offers "
                       "token.NAME, path.NAME, query.NAME, header[\"Name\"], "
                       "client.ip, client.cert, client.cert.subject, "
                       "client.cert.san, tls.version, time.hour and "
                       "time.weekday)", text);
        return 0;
    }
    if (n == 0 && apr_hash_get(c->lets, first, APR_HASH_KEY_STRING) != NULL) {
        zpc_diag_error(c->d, &o->loc, "'%s' is a condition, not a value: use "
                       "it on its own (when %s and ...)", first, first);
        return 0;
    }
    zpc_diag_error(c->d, &o->loc, "unknown name '%s' (a value is token.NAME, "
                   "path.NAME, query.NAME, header[\"Name\"], client.*, tls.*, "
                   "time.* or a literal)", text);
    return 0;
}

static int zpc_is_literal(const zpc_ast_opnd_t *o)
{
    return o->kind != ZPC_OPND_NAME;
}

const char *const zpc_tls_versions[] = {
    "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL
};
static const char *const zpc_weekdays[] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL
};

int zpc_word_index(const char *const *words, const char *s)
{
    for (int i = 0; words[i] != NULL; i++) {
        if (strcmp(words[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

/* The request values that are strings, whatever the request holds. */
static int zpc_is_string_kind(uint32_t k)
{
    return k == ZT_OPND_PATH || k == ZT_OPND_QUERY || k == ZT_OPND_HEADER
           || k == ZT_OPND_CERT_SUBJECT || k == ZT_OPND_TLS_VERSION
           || k == ZT_OPND_TIME_WEEKDAY;
}

/*
** Can request value @a v ever equal literal @a lit?  A string never equals
** a number; time.hour is 0..23; tls.version and time.weekday take a few
** words; client.cert is true or false.  Reports and returns 0 if not.
*/
static int zpc_check_literal_for(zpc_check_t *c, const zpc_ast_opnd_t *v,
                                 const zpc_ast_opnd_t *lit)
{
    uint32_t k = v->zt_kind;
    const char *name = zpc_name_msg(c, v);

    if (lit->kind == ZPC_OPND_ADDR) {
        return 1;           /* reported by zpc_check_value */
    }
    if (zpc_is_string_kind(k) && lit->kind != ZPC_OPND_STR) {
        zpc_diag_error(c->d, &lit->loc, "%s is a string and never equals a "
                       "%s; write the value in quotes", name,
                       lit->kind == ZPC_OPND_INT ? "number" : "boolean");
        return 0;
    }
    if (k == ZT_OPND_TLS_VERSION && zpc_word_index(zpc_tls_versions, lit->str) < 0) {
        zpc_diag_error(c->d, &lit->loc, "tls.version is one of \"TLSv1\", "
                       "\"TLSv1.1\", \"TLSv1.2\" or \"TLSv1.3\", never %s",
                       zpc_check_quote(c, lit->str));
        return 0;
    }
    if (k == ZT_OPND_TIME_WEEKDAY && zpc_word_index(zpc_weekdays, lit->str) < 0) {
        zpc_diag_error(c->d, &lit->loc, "time.weekday is one of \"mon\", \"tue\", "
                       "\"wed\", \"thu\", \"fri\", \"sat\" or \"sun\", never %s",
                       zpc_check_quote(c, lit->str));
        return 0;
    }
    if (k == ZT_OPND_TIME_HOUR && (lit->kind != ZPC_OPND_INT || lit->num < 0
                                   || lit->num > 23)) {
        zpc_diag_error(c->d, &lit->loc, "time.hour is an integer from 0 to 23 "
                       "(UTC)");
        return 0;
    }
    if (k == ZT_OPND_CERT && lit->kind != ZPC_OPND_BOOL) {
        zpc_diag_error(c->d, &lit->loc, "client.cert is true or false (a "
                       "verified client certificate was shown, or not)");
        return 0;
    }
    return 1;
}

/* client.ip and client.cert.san have their own forms; say which. */
static int zpc_check_special(zpc_check_t *c, const zpc_ast_opnd_t *o)
{
    if (o->kind != ZPC_OPND_NAME) {
        return 1;
    }
    if (o->zt_kind == ZT_OPND_CLIENT_IP) {
        zpc_diag_error(c->d, &o->loc, "client.ip is matched only against "
                       "addresses: client.ip in [10.0.0.0/8, 2001:db8::/32]");
        return 0;
    }
    if (o->zt_kind == ZT_OPND_CERT_SAN) {
        zpc_diag_error(c->d, &o->loc, "client.cert.san is a set of names: "
                       "write \"NAME\" in client.cert.san, or client.cert.san "
                       "in [\"NAME\", ...]");
        return 0;
    }
    return 1;
}

/*
** An ordering.  Integers only: one side is an integer literal and the
** other a token claim or time.hour; or tls.version against a version
** literal, which becomes the list of the versions that satisfy it.
*/
static void zpc_check_order(zpc_check_t *c, zpc_ast_expr_t *e)
{
    zpc_ast_opnd_t *l = e->lhs, *r = e->rhs;
    zpc_ast_opnd_t *v = zpc_is_literal(l) ? r : l, *lit = zpc_is_literal(l) ? l : r;
    static const char *const ops[] = { "<", "<=", ">", ">=" };
    const char *op = ops[e->kind - ZPC_EXPR_LT];

    if (!zpc_check_special(c, v)) {
        return;
    }
    switch (v->zt_kind) {
    case ZT_OPND_TLS_VERSION: {
        int want;
        if (lit->kind != ZPC_OPND_STR || !zpc_check_literal_for(c, v, lit)) {
            if (lit->kind != ZPC_OPND_STR) {
                zpc_diag_error(c->d, &e->loc, "tls.version is ordered only "
                               "against a version: tls.version >= \"TLSv1.2\"");
            }
            return;
        }
        want = zpc_word_index(zpc_tls_versions, lit->str);
        e->versions = apr_array_make(c->pool, 4, sizeof(const char *));
        for (int i = 0; zpc_tls_versions[i] != NULL; i++) {
            int a = v == l ? i : want, b = v == l ? want : i;
            int ok = e->kind == ZPC_EXPR_LT ? a < b : e->kind == ZPC_EXPR_LE ? a <= b
                     : e->kind == ZPC_EXPR_GT ? a > b : a >= b;
            if (ok) {
                APR_ARRAY_PUSH(e->versions, const char *) = zpc_tls_versions[i];
            }
        }
        if (e->versions->nelts == 0) {
            zpc_diag_error(c->d, &e->loc, "no TLS version is %s %s: the "
                           "condition can never be true", op, lit->str);
        }
        e->lowered_op = ZT_OP_IN_LIST;
        return;
    }
    case ZT_OPND_TIME_WEEKDAY:
        zpc_diag_error(c->d, &e->loc, "time.weekday cannot be ordered (the "
                       "week wraps around); list the days: time.weekday in "
                       "[\"mon\", \"tue\"]");
        return;
    case ZT_OPND_CERT:
        zpc_diag_error(c->d, &e->loc, "client.cert is true or false and "
                       "cannot be ordered");
        return;
    default:
        break;
    }
    if (zpc_is_string_kind(v->zt_kind)) {
        zpc_diag_error(c->d, &e->loc, "%s is a string; '%s' compares integers",
                       zpc_name_msg(c, v), op);
    }
    else if (!zpc_is_literal(l) && !zpc_is_literal(r)) {
        zpc_diag_error(c->d, &e->loc, "'%s' needs an integer literal on one "
                       "side (token.level %s 2)", op, op);
    }
    else if (lit->kind != ZPC_OPND_INT) {
        zpc_diag_error(c->d, &lit->loc, "'%s' compares integers, and this is "
                       "a %s", op, lit->kind == ZPC_OPND_STR ? "string" : "boolean");
    }
    else {
        zpc_check_literal_for(c, v, lit);
    }
}

/* An address or a block: 10.0.0.0/8, 2001:db8::/32, 10.1.2.3 (/32). */
static int zpc_parse_cidr(zpc_check_t *c, const zpc_ast_opnd_t *o,
                          zpc_ir_cidr_t *out)
{
    const char *slash = strchr(o->str, '/');
    char addr[64];
    size_t alen = slash != NULL ? (size_t)(slash - o->str) : strlen(o->str);
    unsigned long prefix;
    unsigned bits;

    memset(out, 0, sizeof(*out));
    if (alen >= sizeof(addr)) {
        alen = sizeof(addr) - 1;
    }
    memcpy(addr, o->str, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = 4;
        bits = 32;
    }
    else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        out->family = 6;
        bits = 128;
    }
    else {
        zpc_diag_error(c->d, &o->loc, "'%s' is not an IPv4 or IPv6 address",
                       addr);
        return 0;
    }
    prefix = bits;
    if (slash != NULL) {
        char *end;
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || prefix > bits) {
            zpc_diag_error(c->d, &o->loc, "bad prefix length in '%s' (an IPv%u "
                           "prefix is 0..%u)", o->str, out->family, bits);
            return 0;
        }
    }
    out->prefix = (uint8_t)prefix;
    for (unsigned i = (unsigned)prefix; i < bits; i++) {
        if (out->addr[i / 8] & (0x80 >> (i % 8))) {
            char net[64];
            zpc_ir_cidr_t z = *out;
            for (unsigned j = (unsigned)prefix; j < bits; j++) {
                z.addr[j / 8] &= (uint8_t)~(0x80 >> (j % 8));
            }
            inet_ntop(out->family == 4 ? AF_INET : AF_INET6, z.addr, net, sizeof(net));
            zpc_diag_error(c->d, &o->loc, "'%s' has host bits set after its "
                           "/%lu prefix (the block is %s/%lu)", o->str, prefix,
                           net, prefix);
            return 0;
        }
    }
    return 1;
}

/* client.ip in [...]: every member an address or a block. */
static void zpc_check_cidrs(zpc_check_t *c, zpc_ast_expr_t *e)
{
    e->cidrs = apr_array_make(c->pool, e->list->nelts, sizeof(zpc_ir_cidr_t));
    for (int i = 0; i < e->list->nelts; i++) {
        const zpc_ast_opnd_t *o = APR_ARRAY_IDX(e->list, i, zpc_ast_opnd_t *);
        zpc_ir_cidr_t cidr;

        if (o->kind != ZPC_OPND_ADDR) {
            zpc_diag_error(c->d, &o->loc, "client.ip is matched against "
                           "addresses and blocks written bare: 10.0.0.0/8, "
                           "192.168.1.7, 2001:db8::/32");
            continue;
        }
        if (zpc_parse_cidr(c, o, &cidr)) {
            APR_ARRAY_PUSH(e->cidrs, zpc_ir_cidr_t) = cidr;
        }
    }
    e->lowered_op = ZT_OP_IN_CIDR;
}

static void zpc_check_ref(zpc_check_t *c, zpc_ast_expr_t *e, unsigned seq,
                          const zpc_ast_let_t *self, zpc_cinfo_t *info)
{
    zpc_ast_opnd_t *o = e->lhs;
    const char *first = APR_ARRAY_IDX(o->parts, 0, const char *);
    zpc_ast_let_t *l;

    if (o->parts->nelts > 1) {
        const char *text = zpc_name_msg(c, o);
        if (strcmp(text, "client.cert") == 0) {
            /* a boolean of the request: client.cert == true */
            e->kind = ZPC_EXPR_EQ;
            o->zt_kind = ZT_OPND_CERT;
            e->rhs = zpc_ast_bool(c->ps, 1, &o->loc);
            e->rhs->zt_kind = ZT_OPND_BOOL;
            return;
        }
        if (strcmp(first, "token") == 0 || strcmp(first, "path") == 0
            || zpc_is_reserved(first)) {
            zpc_diag_error(c->d, &o->loc, "%s is a value, not a condition: "
                           "compare it (%s == \"...\")", text, text);
        }
        else {
            zpc_diag_error(c->d, &o->loc, "unknown name '%s' (a condition is a "
                           "let, a comparison, or 'x' in token.CLAIM)", text);
        }
        return;
    }
    l = apr_hash_get(c->lets, first, APR_HASH_KEY_STRING);
    if (l == NULL) {
        if (zpc_is_reserved(first)) {
            zpc_diag_error(c->d, &o->loc, "'%s' is not a condition (write, for "
                           "example, \"x\" in token.scope)", first);
        }
        else {
            zpc_diag_error(c->d, &o->loc, "unknown name '%s' (no let defines "
                           "it)", first);
        }
        return;
    }
    l->used = 1;
    if (l == self) {
        zpc_diag_error(c->d, &o->loc, "let '%s' refers to itself", first);
        return;
    }
    if (l->seq >= seq) {
        zpc_diag_error(c->d, &o->loc, "'%s' is used before its definition "
                       "(move the let above its first use)", first);
        zpc_diag_note(c->d, &l->name_loc, "'%s' is defined here", first);
        return;
    }
    e->let = l;
    info->depth = l->depth;
    info->size = l->size;
    if (info->token.opnd == NULL && l->token.opnd != NULL) {
        info->token.opnd = l->token.opnd;
        info->token.via = l;    /* the let this condition names */
    }
    for (int i = 0; l->paths != NULL && i < l->paths->nelts; i++) {
        const zpc_ast_pathref_t *p = &APR_ARRAY_IDX(l->paths, i, zpc_ast_pathref_t);
        zpc_add_path(c, info->paths, p->opnd, p->via != NULL ? p->via : l);
    }
}

/*
** Check condition @a e, used by statement number @a seq (@a self: the let
** being defined, if any).  Sets @a info->depth and ->size as if every let
** were expanded in place, as zpc_lower will do; a let's own numbers were
** computed when it was checked, so nothing here recurses through lets.
*/
static void zpc_check_expr(zpc_check_t *c, zpc_ast_expr_t *e, unsigned seq,
                           const zpc_ast_let_t *self, zpc_cinfo_t *info)
{
    zpc_cinfo_t a = { 1, 1, info->paths, { NULL, NULL } };
    zpc_cinfo_t b = { 1, 1, info->paths, { NULL, NULL } };
    int lok, rok;

    info->depth = 1;
    info->size = 1;
    e->lowered_op = -1;
    switch (e->kind) {
    case ZPC_EXPR_AND:
    case ZPC_EXPR_OR:
        zpc_check_expr(c, e->a, seq, self, &a);
        zpc_check_expr(c, e->b, seq, self, &b);
        info->depth = 1 + (a.depth > b.depth ? a.depth : b.depth);
        info->size = zpc_sat_add(1, zpc_sat_add(a.size, b.size));
        info->token = a.token.opnd != NULL ? a.token : b.token;
        break;
    case ZPC_EXPR_NOT:
        zpc_check_expr(c, e->a, seq, self, &a);
        info->depth = 1 + a.depth;
        info->size = zpc_sat_add(1, a.size);
        info->token = a.token;
        break;
    case ZPC_EXPR_EQ:
    case ZPC_EXPR_NE:
    case ZPC_EXPR_LT: case ZPC_EXPR_LE: case ZPC_EXPR_GT: case ZPC_EXPR_GE:
        lok = zpc_check_value(c, e->lhs, info);
        rok = zpc_check_value(c, e->rhs, info);
        if (zpc_is_literal(e->lhs) && zpc_is_literal(e->rhs)) {
            zpc_diag_error(c->d, &e->loc, "comparing two literals: the result "
                           "never depends on the request");
        }
        else if (!lok || !rok) {
            break;
        }
        else if (e->kind >= ZPC_EXPR_LT) {
            zpc_check_order(c, e);
        }
        else if (zpc_check_special(c, e->lhs) && zpc_check_special(c, e->rhs)) {
            if (zpc_is_literal(e->rhs)) {
                zpc_check_literal_for(c, e->lhs, e->rhs);
            }
            else if (zpc_is_literal(e->lhs)) {
                zpc_check_literal_for(c, e->rhs, e->lhs);
            }
        }
        break;
    case ZPC_EXPR_IN:
        lok = zpc_check_value(c, e->lhs, info);
        if (e->rhs->kind != ZPC_OPND_NAME
            || (strcmp(APR_ARRAY_IDX(e->rhs->parts, 0, const char *), "token") != 0
                && strcmp(zpc_name_msg(c, e->rhs), "client.cert.san") != 0)
            || e->rhs->str != NULL) {
            zpc_diag_error(c->d, &e->rhs->loc, "the right side of 'in' must be "
                           "a token claim (token.NAME), client.cert.san or a "
                           "list [\"a\", \"b\"]");
        }
        else if (zpc_check_value(c, e->rhs, info) && lok
                 && (e->lhs->zt_kind == ZT_OPND_CLIENT_IP
                     || e->lhs->zt_kind == ZT_OPND_CERT_SAN)) {
            zpc_check_special(c, e->lhs);
        }
        break;
    case ZPC_EXPR_IN_LIST:
        lok = zpc_check_value(c, e->lhs, info);
        if (zpc_is_literal(e->lhs)) {
            zpc_diag_error(c->d, &e->lhs->loc, "a literal on the left of 'in "
                           "[...]': the result never depends on the request");
        }
        if (e->list->nelts == 0) {
            zpc_diag_error(c->d, &e->loc, "empty list: the condition can never "
                           "be true");
        }
        if (lok && e->lhs->zt_kind == ZT_OPND_CLIENT_IP) {
            zpc_check_cidrs(c, e);
            break;
        }
        if (lok && e->lhs->zt_kind == ZT_OPND_CERT) {
            zpc_diag_error(c->d, &e->lhs->loc, "client.cert is true or false: "
                           "write client.cert, or not client.cert");
            break;
        }
        for (int i = 0; i < e->list->nelts; i++) {
            zpc_ast_opnd_t *o = APR_ARRAY_IDX(e->list, i, zpc_ast_opnd_t *);
            if (zpc_check_value(c, o, info) && lok && !zpc_is_literal(e->lhs)) {
                zpc_check_literal_for(c, e->lhs, o);
            }
        }
        break;
    case ZPC_EXPR_REF:
        zpc_check_ref(c, e, seq, self, info);
        break;
    default:    /* BAD: already reported */
        break;
    }
}

static void zpc_check_lets(zpc_check_t *c)
{
    apr_array_header_t *lets = c->ast->lets;

    for (int i = 0; i < lets->nelts; i++) {
        zpc_ast_let_t *l = APR_ARRAY_IDX(lets, i, zpc_ast_let_t *);
        if (apr_hash_get(c->lets, l->name, APR_HASH_KEY_STRING) == NULL) {
            apr_hash_set(c->lets, l->name, APR_HASH_KEY_STRING, l);
        }
    }
    for (int i = 0; i < lets->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_ast_let_t *l = APR_ARRAY_IDX(lets, i, zpc_ast_let_t *);
        zpc_ast_let_t *first = apr_hash_get(c->lets, l->name, APR_HASH_KEY_STRING);
        zpc_cinfo_t info = { 1, 1, NULL, { NULL, NULL } };
        int before = zpc_diag_errors(c->d);

        if (zpc_is_reserved(l->name)) {
            zpc_diag_error(c->d, &l->name_loc, "'%s' is a reserved name; choose "
                           "another name for this let", l->name);
            l->used = 1;    /* one error is enough */
        }
        else if (first != l) {
            zpc_diag_error(c->d, &l->name_loc, "let '%s' is defined twice",
                           l->name);
            zpc_diag_note(c->d, &first->name_loc, "the first definition is here");
            l->used = 1;    /* one error is enough */
        }
        info.paths = apr_array_make(c->pool, 1, sizeof(zpc_ast_pathref_t));
        zpc_check_expr(c, l->expr, l->seq, l, &info);
        l->depth = info.depth;
        l->size = info.size;
        l->paths = info.paths;
        l->token = info.token;
        if (info.depth > ZPC_MAX_DEPTH) {
            zpc_diag_error(c->d, &l->name_loc, "let '%s' nests too deeply once "
                           "the lets it uses are expanded (%u levels; the limit "
                           "is %d)", l->name, info.depth, ZPC_MAX_DEPTH);
            l->depth = 1;   /* reported here, not again at each use */
        }
        l->ok = zpc_diag_errors(c->d) == before;
    }
}

/* ------------------------------------------------------------------ */
/* targets: which routes a rule, stepup or limit covers                */

static int zpc_work_exceeded(zpc_check_t *c, const zpc_loc_t *loc)
{
    if (c->work <= ZPC_MAX_MATCH_WORK) {
        return 0;
    }
    if (!c->work_reported) {
        c->work_reported = 1;
        zpc_diag_error(c->d, loc, "too much work matching rule targets against "
                       "routes (more than %u steps through the routes); the "
                       "policy is too large to compile", ZPC_MAX_MATCH_WORK);
    }
    return 1;
}

/* The routes @a t covers whose methods meet @a methods (0: any), in
 * c->matched; 0 when the work limit is passed. */
static int zpc_match(zpc_check_t *c, const zpc_ast_target_t *t, uint32_t methods)
{
    if (c->tree == NULL) {
        c->tree = zpc_route_tree(c->pool, c->ast->routes);
        c->matched = apr_array_make(c->pool, 64, sizeof(uint32_t));
    }
    apr_array_clear(c->matched);
    return zpc_route_tree_match(c->tree, t, methods, c->matched, &c->work,
                                ZPC_MAX_MATCH_WORK);
}

/* A target that covers nothing: point at the route the author probably
 * meant, if one differs only by method (the first declared). */
static void zpc_target_hint(zpc_check_t *c, const zpc_ast_target_t *t)
{
    const zpc_ast_route_t *r;
    uint32_t first = UINT32_MAX;

    if (!zpc_match(c, t, 0)) {
        return;
    }
    for (int i = 0; i < c->matched->nelts; i++) {
        if (APR_ARRAY_IDX(c->matched, i, uint32_t) < first) {
            first = APR_ARRAY_IDX(c->matched, i, uint32_t);
        }
    }
    if (first != UINT32_MAX) {
        r = APR_ARRAY_IDX(c->ast->routes, first, zpc_ast_route_t *);
        zpc_diag_note(c->d, &r->loc, "route %s is declared here, with "
                      "another method", zpc_check_route_text(c, r));
    }
}

/* Rules name the same paths again and again: each is split once.  Only a
 * path that splits cleanly is kept, so an error is still reported where it
 * is written; the kept segments carry the first occurrence's locations,
 * which nothing reads once the targets are matched. */
static apr_array_header_t *zpc_target_segs(zpc_check_t *c, const zpc_ast_target_t *t)
{
    apr_array_header_t *segs;

    if (c->target_paths == NULL) {
        c->target_paths = apr_hash_make(c->pool);
    }
    segs = apr_hash_get(c->target_paths, t->path, APR_HASH_KEY_STRING);
    if (segs == NULL) {
        segs = zpc_check_path(c, t->path, &t->path_loc, 1);
        if (segs != NULL) {
            apr_hash_set(c->target_paths, t->path, APR_HASH_KEY_STRING, segs);
        }
    }
    return segs;
}

static int zpc_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/*
** The routes @a targets cover, ascending, each once (the statement's
** @a mark tells a route already taken).  A target that covers nothing is
** an error: it is almost always a typo.
*/
static apr_array_header_t *zpc_check_targets(zpc_check_t *c,
                                             apr_array_header_t *targets,
                                             uint32_t mark)
{
    apr_array_header_t *routes = c->ast->routes;
    apr_array_header_t *covers = apr_array_make(c->pool, 4, sizeof(uint32_t));

    for (int i = 0; i < targets->nelts; i++) {
        zpc_ast_target_t *t = APR_ARRAY_IDX(targets, i, zpc_ast_target_t *);
        zpc_loc_t tl = zpc_loc_span(&t->method_loc, &t->path_loc);
        int found = 0;

        t->methods = zpc_check_method(c, t->method, &t->method_loc, t->path, 1);
        t->segs = zpc_target_segs(c, t);
        if (t->methods == 0 || t->segs == NULL) {
            continue;
        }
        if (!zpc_match(c, t, t->methods)) {
            zpc_work_exceeded(c, &tl);
            return covers;
        }
        for (int j = 0; j < c->matched->nelts; j++) {
            uint32_t k = APR_ARRAY_IDX(c->matched, j, uint32_t);
            zpc_ast_route_t *r = APR_ARRAY_IDX(routes, k, zpc_ast_route_t *);

            found = 1;
            if (r->mark != mark) {
                r->mark = mark;
                APR_ARRAY_PUSH(covers, uint32_t) = k;
            }
        }
        if (!found && !c->bad_routes) {
            zpc_diag_error(c->d, &tl, "%s %s matches no declared route (a target "
                           "that covers no route is always a mistake)",
                           t->method, t->path);
            zpc_target_hint(c, t);
        }
    }
    /* targets may cover routes out of order; the IR wants them ascending */
    for (int i = 1; i < covers->nelts; i++) {
        if (APR_ARRAY_IDX(covers, i - 1, uint32_t) > APR_ARRAY_IDX(covers, i, uint32_t)) {
            qsort(covers->elts, (size_t)covers->nelts, sizeof(uint32_t), zpc_u32_cmp);
            break;
        }
    }
    return covers;
}

#define ZPC_ROUTE(c, covers, j) \
    APR_ARRAY_IDX((c)->ast->routes, APR_ARRAY_IDX((covers), (j), uint32_t), zpc_ast_route_t *)

static int zpc_route_has(const zpc_ast_route_t *r, const zpc_ast_opnd_t *o)
{
    const char *name = APR_ARRAY_IDX(o->parts, 1, const char *);

    if (o->zt_kind == ZT_OPND_QUERY) {
        for (int i = 0; r->iparams != NULL && i < r->iparams->nelts; i++) {
            const zpc_ir_param_t *p = &APR_ARRAY_IDX(r->iparams, i, zpc_ir_param_t);
            if (p->where == ZT_PARAM_QUERY && strcmp(p->name, name) == 0) {
                return 1;
            }
        }
        return (r->flags & ZT_ROUTE_QUERY_ANY) != 0;
    }
    for (int i = 0; i < r->segs->nelts; i++) {
        const zpc_ast_seg_t *s = &APR_ARRAY_IDX(r->segs, i, zpc_ast_seg_t);
        if (s->kind == ZPC_SEG_CAP && strcmp(s->text, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
** A public rule is also decided for requests without a token, where every
** token.* operand is missing: its comparisons are false, so `when` does
** not hold and `unless` does.  Reading a claim there is probably a mistake.
*/
static void zpc_warn_public_token(zpc_check_t *c, const zpc_ast_tail_t *tail,
                                  const zpc_ast_pathref_t *token)
{
    const char *name;

    if (token->opnd == NULL) {
        return;
    }
    name = zpc_name_msg(c, token->opnd);
    if (token->via == NULL) {
        zpc_diag_warning(c->d, &token->opnd->loc, "condition of a public rule "
                         "reads %s, which is missing when no token is sent", name);
    }
    else {
        zpc_diag_warning(c->d, &tail->loc, "condition of a public rule reads "
                         "%s (through let '%s'), which is missing when no "
                         "token is sent", name, token->via->name);
        zpc_diag_note(c->d, &token->opnd->loc, "%s is read here", name);
    }
    zpc_diag_note(c->d, NULL, "without a token a comparison on a claim is "
                  "false; drop 'public' if the rule needs a token, or give "
                  "token holders an allow of their own");
}

static void zpc_check_rule(zpc_check_t *c, zpc_ast_rule_t *rule, uint32_t index)
{
    zpc_ast_tail_t *tail = rule->tail;
    zpc_cinfo_t info = { 0, 0, NULL, { NULL, NULL } };

    if (index == ZT_MAX_RULES) {
        zpc_diag_error(c->d, &rule->loc, "too many rules (the limit is %d)",
                       ZT_MAX_RULES);
    }
    rule->covers = zpc_check_targets(c, rule->targets, ++c->mark);
    if (tail->public && rule->effect == ZT_EFFECT_DENY) {
        zpc_diag_error(c->d, &tail->public_loc, "a deny rule cannot be public (public "
                       "means: allow without a token)");
    }
    if (tail->kind == ZPC_TAIL_WHEN || tail->kind == ZPC_TAIL_UNLESS) {
        unsigned extra = tail->kind == ZPC_TAIL_UNLESS;

        info.paths = apr_array_make(c->pool, 1, sizeof(zpc_ast_pathref_t));
        zpc_check_expr(c, tail->cond, rule->seq, NULL, &info);
        if (info.depth + extra > ZPC_MAX_DEPTH) {
            zpc_diag_error(c->d, &tail->loc, "condition nests too deeply once "
                           "lets are expanded (%u levels; the limit is %d)",
                           info.depth + extra, ZPC_MAX_DEPTH);
        }
        if (tail->public && rule->effect == ZT_EFFECT_ALLOW) {
            zpc_warn_public_token(c, tail, &info.token);
        }
        c->nodes = zpc_sat_add(c->nodes, zpc_sat_add(info.size, extra));
        if (c->nodes > ZT_MAX_NODES && !c->nodes_reported) {
            c->nodes_reported = 1;
            zpc_diag_error(c->d, &tail->loc, "too many condition nodes once "
                           "lets are expanded (the limit is %d)", ZT_MAX_NODES);
        }
    }
    /* A deny needs no token: every deny is decided without one too. */
    if (!tail->public && rule->effect == ZT_EFFECT_ALLOW
        && c->ast->issuers->nelts == 0 && !c->issuer_reported) {
        c->issuer_reported = 1;
        zpc_diag_error(c->d, &rule->loc, "this rule needs a verified token, but "
                       "no issuer is declared");
        zpc_diag_note(c->d, NULL, "declare one: issuer NAME \"https://...\" "
                      "{ audience ... algorithms ... jwks file ... }, or make "
                      "the rule public");
    }

    /* Every capture and query parameter the condition names must exist in
     * every covered route. */
    for (int i = 0; info.paths != NULL && i < info.paths->nelts; i++) {
        const zpc_ast_pathref_t *p = &APR_ARRAY_IDX(info.paths, i, zpc_ast_pathref_t);
        const char *name = APR_ARRAY_IDX(p->opnd->parts, 1, const char *);
        const char *kind = APR_ARRAY_IDX(p->opnd->parts, 0, const char *);

        for (int j = 0; j < rule->covers->nelts; j++) {
            const zpc_ast_route_t *r = ZPC_ROUTE(c, rule->covers, j);
            if (zpc_route_has(r, p->opnd)) {
                continue;
            }
            zpc_diag_error(c->d, &p->opnd->loc, "%s.%s is not a %s of route %s, "
                           "which this rule covers", kind, name,
                           p->opnd->zt_kind == ZT_OPND_PATH ? "capture"
                           : "declared query parameter", zpc_check_route_text(c, r));
            zpc_diag_note(c->d, &r->loc, "route %s is declared here",
                          zpc_check_route_text(c, r));
            if (p->via != NULL) {
                zpc_diag_note(c->d, &tail->loc, "%s.%s comes from let '%s', "
                              "used by this rule", kind, name, p->via->name);
            }
            break;
        }
    }

    for (int j = 0; j < rule->covers->nelts; j++) {
        zpc_ast_route_t *r = ZPC_ROUTE(c, rule->covers, j);
        if (rule->effect == ZT_EFFECT_ALLOW) {
            r->allowed = 1;
        }
        else if (tail->kind == ZPC_TAIL_NONE && r->udeny == NULL) {
            r->udeny = rule;
        }
    }
    c->rrefs += (uint64_t)rule->covers->nelts;
    if (c->rrefs > ZPC_MAX_RREFS && !c->rrefs_reported) {
        c->rrefs_reported = 1;
        zpc_diag_error(c->d, &rule->loc, "rules cover routes too many times "
                       "(more than %u route-rule links in all)", ZPC_MAX_RREFS);
    }
}

static void zpc_check_rules(zpc_check_t *c)
{
    apr_array_header_t *rules = c->ast->rules;

    for (int i = 0; i < rules->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_check_rule(c, APR_ARRAY_IDX(rules, i, zpc_ast_rule_t *), (uint32_t)i);
    }
}

/* ------------------------------------------------------------------ */
/* stepup, limit                                                       */

static void zpc_check_stepup(zpc_check_t *c, zpc_ast_stepup_t *st, int index)
{
    const zpc_ast_attr_t *acr = NULL, *age = NULL;
    int cc;

    st->covers = zpc_check_targets(c, st->targets, ++c->mark);
    st->ir.acr = apr_array_make(c->pool, 2, sizeof(const char *));
    st->ir.file = zpc_diag_file_name(c->d, st->loc.file);
    st->ir.line = (uint32_t)st->loc.first_line;
    for (int i = 0; i < st->opts->nelts; i++) {
        const zpc_ast_attr_t *a = APR_ARRAY_IDX(st->opts, i, zpc_ast_attr_t *);
        const char *want = a->kind == ZPC_ATTR_ACR ? "acr" : "max_age";
        const zpc_ast_attr_t **seen = a->kind == ZPC_ATTR_ACR ? &acr : &age;

        if (strcmp(a->name, want) != 0) {
            zpc_diag_error(c->d, &a->loc, "unknown stepup option '%s' (write "
                           "acr \"VALUE\" ... and/or max_age DURATION)", a->name);
            continue;
        }
        if (*seen != NULL) {
            zpc_diag_error(c->d, &a->loc, "'%s' is written twice in this stepup",
                           a->name);
            continue;
        }
        *seen = a;
        if (a->kind == ZPC_ATTR_MAX_AGE) {
            if (a->num <= 0 || a->num > (int64_t)UINT32_MAX) {
                zpc_diag_error(c->d, &a->val_loc, "max_age is 1 second to about "
                               "136 years (leave it out for no limit)");
            }
            st->ir.max_age = (uint32_t)a->num;
            continue;
        }
        for (int k = 0; k < a->names->nelts; k++) {
            const zpc_ast_opnd_t *o = APR_ARRAY_IDX(a->names, k, zpc_ast_opnd_t *);
            if (o->str[0] == '\0' || (cc = zpc_control_char(o->str)) != 0) {
                zpc_diag_error(c->d, &o->loc, "an acr value is a non-empty "
                               "string without control characters");
                continue;
            }
            APR_ARRAY_PUSH(st->ir.acr, const char *) = o->str;
        }
    }
    if (acr == NULL && age == NULL && st->opts->nelts == 0) {
        zpc_diag_error(c->d, &st->loc, "a stepup says what it requires: acr "
                       "\"VALUE\" ..., max_age DURATION, or both");
    }
    for (int j = 0; j < st->covers->nelts; j++) {
        zpc_ast_route_t *r = ZPC_ROUTE(c, st->covers, j);
        const zpc_ast_stepup_t *other = r->stepup;
        if (other != NULL) {
            zpc_diag_error(c->d, &st->loc, "route %s already has a stepup (%s); "
                           "a route has at most one", zpc_check_route_text(c, r),
                           zpc_where(c, &other->loc));
            zpc_diag_note(c->d, &other->loc, "the other stepup is here");
            continue;
        }
        r->stepup = st;
        r->stepup_index = index;
    }
}

static void zpc_check_limit(zpc_check_t *c, zpc_ast_limit_t *l, uint32_t index)
{
    const char *slash = strchr(l->rate, '/'), *key;
    uint64_t n = 0;
    int ok = 1;

    l->covers = zpc_check_targets(c, l->targets, ++c->mark);
    l->ir.file = zpc_diag_file_name(c->d, l->loc.file);
    l->ir.line = (uint32_t)l->loc.first_line;
    for (const char *p = l->rate; p < slash; p++) {
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > UINT32_MAX) {
            break;
        }
    }
    if (n == 0 || n > UINT32_MAX) {
        zpc_diag_error(c->d, &l->rate_loc, "a limit counts 1 to %lu requests "
                       "per period", (unsigned long)UINT32_MAX);
        ok = 0;
    }
    l->ir.count = (uint32_t)n;
    l->ir.period = strcmp(slash, "/s") == 0 ? 1 : strcmp(slash, "/min") == 0 ? 60
                   : strcmp(slash, "/hour") == 0 ? 3600 : 0;
    if (l->ir.period == 0) {
        zpc_diag_error(c->d, &l->rate_loc, "unknown period '%s' (write N/s, "
                       "N/min or N/hour)", slash + 1);
        ok = 0;
    }
    if (strcmp(l->per, "per") != 0) {
        zpc_diag_error(c->d, &l->per_loc, "expected 'per' after the rate: "
                       "limit ... %s per token.sub", l->rate);
        return;
    }
    key = zpc_name_msg(c, l->key);
    if (strcmp(key, "token.sub") == 0) {
        l->ir.key = ZT_LIMIT_SUB;
    }
    else if (strcmp(key, "token.azp") == 0) {
        l->ir.key = ZT_LIMIT_AZP;
    }
    else if (strcmp(key, "client.ip") == 0) {
        l->ir.key = ZT_LIMIT_IP;
    }
    else {
        zpc_diag_error(c->d, &l->key->loc, "a limit counts per token.sub, "
                       "token.azp or client.ip, not per %s", key);
        return;
    }
    for (int j = 0; ok && j < l->covers->nelts; j++) {
        zpc_ast_route_t *r = ZPC_ROUTE(c, l->covers, j);
        if (r->limits->nelts == ZT_MAX_LIMITS) {
            zpc_diag_error(c->d, &l->loc, "route %s has more than %d limits",
                           zpc_check_route_text(c, r), ZT_MAX_LIMITS);
            return;
        }
        APR_ARRAY_PUSH(r->limits, uint32_t) = index;
    }
}

static void zpc_check_later(zpc_check_t *c)
{
    for (int i = 0; i < c->ast->stepups->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_check_stepup(c, APR_ARRAY_IDX(c->ast->stepups, i, zpc_ast_stepup_t *), i);
    }
    for (int i = 0; i < c->ast->limits->nelts && !zpc_diag_stopped(c->d); i++) {
        zpc_check_limit(c, APR_ARRAY_IDX(c->ast->limits, i, zpc_ast_limit_t *),
                        (uint32_t)i);
    }
    zpc_check_tests(c);
}

/* ------------------------------------------------------------------ */
/* the whole file                                                      */

/* An allow of every method and path without a condition: the API is open
 * to every token. */
static void zpc_warn_broad(zpc_check_t *c, const zpc_ast_rule_t *rule)
{
    if (rule->effect != ZT_EFFECT_ALLOW || rule->tail->kind != ZPC_TAIL_NONE) {
        return;
    }
    for (int i = 0; i < rule->targets->nelts; i++) {
        const zpc_ast_target_t *t = APR_ARRAY_IDX(rule->targets, i, zpc_ast_target_t *);
        if (t->methods == ZT_M_ALL && t->segs != NULL && t->segs->nelts == 1
            && APR_ARRAY_IDX(t->segs, 0, zpc_ast_seg_t).kind == ZPC_SEG_GLOB) {
            zpc_loc_t tl = zpc_loc_span(&t->method_loc, &t->path_loc);
            zpc_diag_warning(c->d, &tl, rule->tail->public
                             ? "'allow * /** public' opens every route to "
                               "anyone, without a token"
                             : "'allow * /**' without a condition opens every "
                               "route to any caller with a valid token");
            return;
        }
    }
}

/* An allow whose every route is denied unconditionally never applies. */
static void zpc_warn_shadowed(zpc_check_t *c, const zpc_ast_rule_t *rule)
{
    const zpc_ast_rule_t *deny = NULL;

    if (rule->effect != ZT_EFFECT_ALLOW || rule->covers->nelts == 0) {
        return;
    }
    for (int j = 0; j < rule->covers->nelts; j++) {
        const zpc_ast_route_t *r = ZPC_ROUTE(c, rule->covers, j);
        if (r->udeny == NULL) {
            return;
        }
        deny = r->udeny;
    }
    zpc_diag_warning(c->d, &rule->loc, "this allow never applies: a deny "
                     "without a condition covers every route it covers");
    zpc_diag_note(c->d, &deny->loc, "a deny that covers %s is here",
                  rule->covers->nelts == 1 ? "it" : "them");
}

static void zpc_check_file(zpc_check_t *c)
{
    zpc_ast_t *ast = c->ast;
    int errors = zpc_diag_errors(c->d);

    if (ast->policies->nelts == 0) {
        zpc_diag_error(c->d, NULL, "no policy declaration (begin the file with: "
                       "policy \"NAME\")");
    }
    if (ast->routes->nelts == 0) {
        zpc_diag_error(c->d, NULL, "no routes: every request would be refused "
                       "(declare one: route GET /PATH)");
    }
    for (int i = 0; i < ast->lets->nelts; i++) {
        zpc_ast_let_t *l = APR_ARRAY_IDX(ast->lets, i, zpc_ast_let_t *);
        if (!l->used) {
            zpc_diag_warning(c->d, &l->name_loc, "let '%s' is never used",
                             l->name);
        }
    }
    if (errors > 0) {
        return;     /* coverage warnings would only repeat the errors */
    }
    for (int i = 0; i < ast->rules->nelts; i++) {
        const zpc_ast_rule_t *rule = APR_ARRAY_IDX(ast->rules, i, zpc_ast_rule_t *);
        zpc_warn_broad(c, rule);
        zpc_warn_shadowed(c, rule);
    }
    for (int i = 0; i < ast->routes->nelts; i++) {
        zpc_ast_route_t *r = APR_ARRAY_IDX(ast->routes, i, zpc_ast_route_t *);
        if (r->ok && !r->allowed) {
            zpc_diag_warning(c->d, &r->loc, "no allow rule covers route %s: "
                             "every request to it is refused",
                             zpc_check_route_text(c, r));
        }
    }
    /* Without an issuer, conditions can still tell callers apart (a client
     * certificate, an address): only a policy without any is open to all. */
    if (ast->issuers->nelts > 0 || ast->rules->nelts == 0) {
        return;
    }
    for (int i = 0; i < ast->rules->nelts; i++) {
        if (APR_ARRAY_IDX(ast->rules, i, zpc_ast_rule_t *)->tail->kind != ZPC_TAIL_NONE) {
            return;
        }
    }
    zpc_diag_warning(c->d, NULL, "no issuer is declared: every rule is public "
                     "and no request is authenticated");
}

void zpc_check(zpc_parser_t *ps)
{
    zpc_check_t c;

    memset(&c, 0, sizeof(c));
    c.ps = ps;
    c.d = ps->diag;
    c.pool = ps->pool;
    c.ast = ps->ast;
    c.lets = apr_hash_make(ps->pool);

    zpc_check_policy(&c);
    zpc_check_issuers(&c);
    zpc_check_lets(&c);
    zpc_check_routes(&c);
    zpc_check_rules(&c);
    zpc_check_later(&c);
    ps->tests = c.tests;
    if (!zpc_diag_stopped(c.d)) {
        zpc_check_file(&c);
    }
}
