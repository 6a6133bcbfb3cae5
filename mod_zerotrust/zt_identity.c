/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Identity to the backend: ZeroTrustClaimHeader copies a verified token's
 * claims into request headers after an allow.  Incoming headers of the
 * configured names are always removed first, so the backend can trust them.
 */
#include "mod_zerotrust.h"

#include <string.h>

#include <apr_strings.h>

#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "zt_jdoc.h"

APLOG_USE_MODULE(zerotrust);

static int zt_identity_names(const zt_dir_conf_t *conf, const char *name)
{
    const zt_claim_header_t *h;
    int i;

    if (!conf || !conf->claim_headers) {
        return 0;
    }
    h = (const zt_claim_header_t *)conf->claim_headers->elts;
    for (i = 0; i < conf->claim_headers->nelts; i++) {
        if (!strcasecmp(h[i].header, name)) {
            return 1;
        }
    }
    return 0;
}

/* Remove the headers @a conf names from the request, except those @a keep
 * (a previous request's configuration, or NULL) names too. */
static void zt_identity_unset(request_rec *r, const zt_dir_conf_t *conf,
                              const zt_dir_conf_t *keep)
{
    const zt_claim_header_t *h;
    int i;

    if (!conf->claim_headers) {
        return;
    }
    h = (const zt_claim_header_t *)conf->claim_headers->elts;
    for (i = 0; i < conf->claim_headers->nelts; i++) {
        if (!zt_identity_names(keep, h[i].header)) {
            apr_table_unset(r->headers_in, h[i].header);
        }
    }
}

/*
** Before a decision (zt_req_get).  The header_parser hook below has
** removed every configured name from a request that is neither a
** subrequest (which skips that hook) nor an internal redirect (where it
** kept what the request before had set): only those two are stripped
** here, before they are decided anew.  A subrequest's environment is a
** copy of its main request's, which mod_include (SSI) fills from the
** main request's headers, forged ones included where its section names
** no claim header: an included CGI would read them there, so the
** variables go too (the decision's headers make them again).
*/
void zt_identity_strip(request_rec *r, const zt_dir_conf_t *conf)
{
    const zt_claim_header_t *h;

    if (r->main == NULL && r->prev == NULL) {
        return;
    }
    zt_identity_unset(r, conf, NULL);
    if (r->main == NULL || !conf->claim_headers) {
        return;
    }
    h = (const zt_claim_header_t *)conf->claim_headers->elts;
    for (int i = 0; i < conf->claim_headers->nelts; i++) {
        if (h[i].env != NULL) {
            apr_table_unset(r->subprocess_env, h[i].env);
        }
    }
}

/*
** header_parser, every main request whoever guards its section: remove
** the incoming headers a ZeroTrustClaimHeader names before any module
** reads them, so a section without AuthType ZeroTrust (Require all
** granted under the API) cannot pass forged ones on.  An internal
** redirect shares headers_in with the request before it: a name that
** request configured too was removed there, and any value it has now is
** ours (httpd skips authn when the configuration is the same, so it would
** not be set again).  Subrequests skip this hook; zt_req_get strips.
*/
static int zt_identity_header_parser(request_rec *r)
{
    const zt_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                     &zerotrust_module);
    const zt_dir_conf_t *prev = r->prev ? ap_get_module_config(
        r->prev->per_dir_config, &zerotrust_module) : NULL;

    zt_identity_unset(r, conf, prev);
    return DECLINED;
}

void zt_identity_register_hooks(apr_pool_t *p)
{
    ap_hook_header_parser(zt_identity_header_parser, NULL, NULL,
                          APR_HOOK_FIRST);
}

/* Header values carry no control bytes: no CR/LF splitting, no NUL cut. */
static int zt_header_safe(const char *s, apr_size_t len)
{
    for (apr_size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* A scalar claim as header text; NULL for other types. */
static const char *zt_val_text(apr_pool_t *p, const zt_val_t *v)
{
    switch (v->type) {
    case ZT_V_STR:
        return apr_pstrmemdup(p, v->s, v->len);
    case ZT_V_INT:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v->i);
    case ZT_V_BOOL:
        return v->i ? "true" : "false";
    default:
        return NULL;
    }
}

/* An array of strings joined by ", "; NULL if any element is not one.
 * *unsafe is set when an element has control bytes.  Two passes (measure,
 * then copy), so a long array costs its length, not its square. */
static const char *zt_array_text(apr_pool_t *p, const zt_val_t *v,
                                 int *unsafe)
{
    const zt_jnode_t *j = v->ref, *e;
    apr_size_t len = 0;
    uint32_t k;
    char *out, *o;

    if (j == NULL || j->type != ZT_J_ARRAY) {
        return NULL;
    }
    for (k = 0, e = zt_jnode_first(j); k < j->u.n; k++, e = zt_jnode_next(e)) {
        if (e->type != ZT_J_STR) {
            return NULL;
        }
        if (!zt_header_safe(zt_jnode_str(e), e->u.s.len)) {
            *unsafe = 1;
            return NULL;
        }
        len += (k ? 2 : 0) + e->u.s.len;
    }
    o = out = apr_palloc(p, len + 1);
    for (k = 0, e = zt_jnode_first(j); k < j->u.n; k++, e = zt_jnode_next(e)) {
        if (k) {
            memcpy(o, ", ", 2);
            o += 2;
        }
        memcpy(o, zt_jnode_str(e), e->u.s.len);
        o += e->u.s.len;
    }
    *o = '\0';
    return out;
}

void zt_identity_set(request_rec *r, const zt_dir_conf_t *conf,
                     const zt_claims_t *claims)
{
    const zt_claim_header_t *h;
    int i;

    if (!conf->claim_headers || !claims) {
        return;
    }
    h = (const zt_claim_header_t *)conf->claim_headers->elts;
    for (i = 0; i < conf->claim_headers->nelts; i++) {
        zt_val_t v;
        const char *text;
        int unsafe = 0;

        zt_claims_get(claims, h[i].path, h[i].nparts, &v);
        if (v.type == ZT_V_OTHER) {
            text = zt_array_text(r->pool, &v, &unsafe);
        }
        else {
            /* The claim's own length, not strlen: an embedded NUL counts. */
            unsafe = v.type == ZT_V_STR && !zt_header_safe(v.s, v.len);
            text = unsafe ? NULL : zt_val_text(r->pool, &v);
        }
        if (unsafe) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00036)
                          "%s: claim for header %s has control characters; "
                          "header not set", r->uri, h[i].header);
            continue;
        }
        if (text != NULL) {
            apr_table_set(r->headers_in, h[i].header, text);
        }
    }
}
