/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * SetHandler zerotrust-metadata: OAuth 2.0 Protected Resource Metadata
 * (RFC 9728), meant for /.well-known/oauth-protected-resource.  The
 * document is derived from the section's table (zt_resource.h, described
 * once at config time) and ZeroTrustResource; nothing in it comes from the
 * request.  Read-only: GET and HEAD.
 */
#include "mod_zerotrust.h"

#include <jansson.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "zt_alg.h"


APLOG_USE_MODULE(zerotrust);

/* A JSON array of @a n strings, or NULL when @a n is 0: RFC 9728 members
 * are optional, and an empty list would claim something (no scopes at
 * all) that the table does not say. */
static json_t *zt_metadata_list(const char *const *v, uint32_t n)
{
    json_t *a;

    if (n == 0 || (a = json_array()) == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        json_array_append_new(a, json_string(v[i]));
    }
    return a;
}

/* The algorithms of a ZT_ALG_* set as a JSON array, or NULL if none. */
static json_t *zt_metadata_algs(uint32_t algs)
{
    json_t *a;

    if (algs == 0 || (a = json_array()) == NULL) {
        return NULL;
    }
    for (uint32_t bit = 1; bit <= ZT_ALG_ALL; bit <<= 1) {
        if ((algs & bit) && zt_alg_name(bit) != NULL) {
            json_array_append_new(a, json_string(zt_alg_name(bit)));
        }
    }
    return a;
}

/* The document, members in RFC 9728 section 2's order; NULL when out of
 * memory. */
static char *zt_metadata_text(const zt_dir_conf_t *conf)
{
    const zt_resource_t *res = conf->resource;
    json_t *doc = json_object();
    json_t *v;
    char *text;

    if (doc == NULL) {
        return NULL;
    }
    json_object_set_new(doc, "resource", json_string(conf->resource_id));
    if ((v = zt_metadata_list(res->issuers, res->nissuers)) != NULL) {
        json_object_set_new(doc, "authorization_servers", v);
    }
    if ((v = zt_metadata_list(res->scopes, res->nscopes)) != NULL) {
        json_object_set_new(doc, "scopes_supported", v);
    }
    /* RFC 6750 2.1 only: the module reads no form body and no query. */
    json_object_set_new(doc, "bearer_methods_supported",
                        json_pack("[s]", "header"));
    /* Any issuer's token may be DPoP-bound (cnf.jkt): the proof algorithms
     * are the server's (ZeroTrustDPoPAlgorithms), not the table's. */
    if ((v = zt_metadata_algs(zt_bind_alg_mask())) != NULL) {
        json_object_set_new(doc, "dpop_signing_alg_values_supported", v);
    }
    text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    return text;
}

static int zt_metadata_handler(request_rec *r)
{
    const zt_dir_conf_t *conf;
    char *text;
    int rv;

    if (r->handler == NULL || strcmp(r->handler, ZT_METADATA_HANDLER)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &zerotrust_module);
    /* Transport first, as for the API: ZeroTrustRequireTLS. */
    if (!zt_transport_ok(r, conf)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00038)
                      "%s %s: plain HTTP refused for the resource metadata "
                      "(ZeroTrustRequireTLS is on)", r->method,
                      ap_escape_logitem(r->pool, r->uri));
        return zt_answer_handler_problem(r, HTTP_FORBIDDEN, ZT_DETAIL_TLS);
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        if ((rv = ap_discard_request_body(r)) != OK) {
            return rv;
        }
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return zt_answer_handler_problem(r, HTTP_METHOD_NOT_ALLOWED,
                                         "The resource metadata is "
                                         "read-only: use GET.");
    }
    if (conf->resource == NULL || conf->resource_id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00039)
                      "%s: SetHandler " ZT_METADATA_HANDLER " needs %s "
                      "for this location; answering 404",
                      ap_escape_logitem(r->pool, r->uri),
                      conf->resource == NULL
                      ? (conf->resource_id == NULL
                         ? "ZeroTrustPolicy and ZeroTrustResource"
                         : "ZeroTrustPolicy")
                      : "ZeroTrustResource");
        return zt_answer_handler_problem(r, HTTP_NOT_FOUND,
                                         "No protected resource metadata "
                                         "is published here.");
    }
    if ((text = zt_metadata_text(conf)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00040)
                      "cannot build the resource metadata document");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, "application/json");
    ap_rputs(text, r);
    ap_rputs("\n", r);
    free(text);
    return OK;
}

void zt_metadata_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(zt_metadata_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
