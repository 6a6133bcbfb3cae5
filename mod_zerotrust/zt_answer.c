/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The HTTP answers of SPEC section 6: RFC 9457 problem+json bodies and
 * RFC 6750 Bearer challenges.
 *
 * httpd writes error bodies itself (ap_send_error_response) and forces
 * "text/html" just before it does.  So the body is registered with
 * ap_custom_response() (a text, not a URL, is sent verbatim), and
 * an error filter, inserted only for our own answers, corrects the
 * content type on its way out.
 */

#include "mod_zerotrust.h"

#include <apr_strings.h>
#include <jansson.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"


APLOG_USE_MODULE(zerotrust);

#define ZT_PROBLEM_FILTER   "ZEROTRUST_PROBLEM"
#define ZT_PROBLEM_TYPE     "application/problem+json"
#define ZT_QUOTED_MAX       256

static ap_filter_rec_t *zt_problem_filter_handle;

/*
** Make @a s fit in an RFC 6750 quoted-string without escapes
** (%x20-21 / %x23-5B / %x5D-7E): quotes become apostrophes, backslashes
** slashes, anything else outside printable ASCII a '?'.  Long text is cut.
*/
static const char *zt_answer_quotable(apr_pool_t *p, const char *s)
{
    apr_size_t i, n = strlen(s);
    char *out;

    if (n > ZT_QUOTED_MAX) {
        n = ZT_QUOTED_MAX;
    }
    out = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"') {
            c = '\'';
        }
        else if (c == '\\') {
            c = '/';
        }
        else if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
        out[i] = (char)c;
    }
    out[n] = '\0';
    return out;
}

static const char *zt_answer_realm(request_rec *r, const zt_req_t *rq)
{
    const char *realm = ap_auth_name(r);

    if (!realm && rq && rq->policy) {
        const zt_table_t *t = rq->policy->table;

        realm = zt_table_str(t, t->meta->name);
    }
    if (!realm || !*realm) {
        realm = "zerotrust";
    }
    return realm;
}

/* RFC 9728 section 5.1: where the client finds the resource's metadata
 * (the URL was checked at config time: it needs no quoting). */
static const char *zt_answer_metadata_param(request_rec *r,
                                            const char *value)
{
    const zt_dir_conf_t *conf = ap_get_module_config(r->per_dir_config,
                                                     &zerotrust_module);

    if (!conf || !conf->resource_metadata) {
        return value;
    }
    return apr_pstrcat(r->pool, value, ", resource_metadata=\"",
                       conf->resource_metadata, "\"", NULL);
}

/*
** A request without credentials (none, or not in a scheme of ours) is
** offered both schemes, since every token may be DPoP-bound (cnf.jkt)
** and the DPoP scheme is always read: RFC 9449 section 7.2, figure 17,
** "Bearer, DPoP algs=...", in one field, neither with an error (RFC 6750
** section 3.1).  @a bearer is the Bearer challenge as made.
*/
static const char *zt_answer_both_schemes(request_rec *r, const char *realm,
                                          const char *bearer)
{
    const char *dpop = apr_psprintf(r->pool, "DPoP realm=\"%s\", algs=\"%s\"",
                                    realm, zt_bind_algs());

    return apr_pstrcat(r->pool, bearer, ", ",
                       zt_answer_metadata_param(r, dpop), NULL);
}

void zt_answer_challenge(request_rec *r, const zt_req_t *rq,
                         const char *error, const char *description)
{
    const char *realm = zt_answer_quotable(r->pool, zt_answer_realm(r, rq));
    /* A request that used DPoP is answered in its scheme (RFC 9449 7.1). */
    const char *scheme = rq && rq->dpop ? "DPoP" : "Bearer";
    const char *value;

    if (error) {
        value = apr_psprintf(r->pool, "%s realm=\"%s\", error=\"%s\", "
                             "error_description=\"%s\"", scheme, realm,
                             zt_answer_quotable(r->pool, error),
                             zt_answer_quotable(r->pool, description
                                                ? description : error));
    }
    else {
        value = apr_psprintf(r->pool, "%s realm=\"%s\"", scheme, realm);
    }
    if (rq && rq->dpop) {
        value = apr_pstrcat(r->pool, value, ", algs=\"",
                            zt_bind_algs(), "\"", NULL);
    }
    value = zt_answer_metadata_param(r, value);
    if (!error && !(rq && rq->dpop)) {
        value = zt_answer_both_schemes(r, realm, value);
    }
    /* err_headers_out: ap_send_error_response keeps only these. */
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", value);
}

void zt_answer_stepup(request_rec *r, const zt_req_t *rq, uint32_t stepup,
                      const char *description)
{
    const zt_table_t *t = rq->policy->table;
    const zt_stepup_rec_t *st = &t->stepups[stepup];
    const char *value, *acr = NULL;
    uint32_t i;

    value = apr_psprintf(r->pool, "Bearer realm=\"%s\", "
                         "error=\"insufficient_user_authentication\", "
                         "error_description=\"%s\"",
                         zt_answer_quotable(r->pool, zt_answer_realm(r, rq)),
                         zt_answer_quotable(r->pool, description));
    /* acr_values: space-separated, in the policy's order of preference. */
    for (i = 0; i < st->acr_count; i++) {
        const char *v = zt_stepup_acr(t, st, i);

        acr = acr ? apr_pstrcat(r->pool, acr, " ", v, NULL) : v;
    }
    if (acr) {
        value = apr_pstrcat(r->pool, value, ", acr_values=\"",
                            zt_answer_quotable(r->pool, acr), "\"", NULL);
    }
    if (st->max_age > 0) {
        value = apr_psprintf(r->pool, "%s, max_age=\"%u\"", value,
                             (unsigned int)st->max_age);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   zt_answer_metadata_param(r, value));
}

/* The problem+json text of answer @a status, from r->pool; @a extra
 * (taken) holds extension members, or is NULL.  NULL when out of memory. */
static const char *zt_answer_json(request_rec *r, int status,
                                  const char *detail, json_t *extra)
{
    const char *line = ap_get_status_line(status);
    const char *out;
    json_t *obj;
    char *text;

    /* "403 Forbidden" -> "Forbidden" */
    line = (line && strlen(line) > 4) ? line + 4 : "Error";
    obj = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank",
                    "title", line, "status", status,
                    "detail", detail ? detail : line);
    if (obj && extra && json_object_update(obj, extra) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    json_decref(extra);
    text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00014)
                      "cannot build the problem+json body of a %d answer",
                      status);
        return NULL;
    }
    out = apr_pstrdup(r->pool, text);
    free(text);
    return out;
}

static int zt_answer_body(request_rec *r, zt_req_t *rq, int status,
                          const char *detail, json_t *extra)
{
    const char *text = zt_answer_json(r, status, detail, extra);

    if (!text) {
        /* Out of memory: httpd's own page is still a refusal. */
        return status;
    }
    /* ap_custom_response() marks text (not a URL, not "/...") with a
     * leading '"' itself; the JSON starts with '{'. */
    ap_custom_response(r, status, text);
    if (rq) {
        rq->problem_status = status;
    }
    return status;
}

int zt_answer_handler_problem(request_rec *r, int status, const char *detail)
{
    const char *text = zt_answer_json(r, status, detail, NULL);

    if (!text) {
        return status;
    }
    r->status = status;
    ap_set_content_type(r, ZT_PROBLEM_TYPE);
    ap_rputs(text, r);
    return OK;
}

int zt_answer_problem(request_rec *r, zt_req_t *rq, int status,
                      const char *detail)
{
    return zt_answer_body(r, rq, status, detail, NULL);
}

int zt_answer_invalid(request_rec *r, zt_req_t *rq, const char *detail,
                      const char *name, const char *reason)
{
    /* RFC 9457 section 3's own example of an extension member. */
    json_t *extra = json_pack("{s:[{s:s, s:s}]}", "invalid-params",
                              "name", name, "reason", reason);

    /* Out of memory (extra NULL): the answer goes without the member. */
    return zt_answer_body(r, rq, HTTP_BAD_REQUEST, detail, extra);
}

int zt_answer_body_refusal(request_rec *r, zt_req_t *rq,
                           const zt_body_refusal_t *x)
{
    json_t *param = json_pack("{s:s, s:s}", "name", x->name, "reason", x->why);
    json_t *extra = NULL;

    if (param && x->line > 0) {
        /* XML: the line, and the element's path when known. */
        if (x->pointer && x->pointer[0]) {
            json_object_set_new(param, "element", json_string(x->pointer));
        }
        json_object_set_new(param, "line", json_integer(x->line));
    }
    else if (param && x->pointer) {
        /* JSON: RFC 6901 pointer, "" for the whole document. */
        json_object_set_new(param, "pointer", json_string(x->pointer));
    }
    if (param) {
        extra = json_pack("{s:[o]}", "invalid-params", param);
    }
    return zt_answer_body(r, rq, x->status, x->detail, extra);
}

static apr_status_t zt_problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, ZT_PROBLEM_TYPE);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static void zt_insert_error_filter(request_rec *r)
{
    const zt_req_t *rq = ap_get_module_config(r->request_config,
                                              &zerotrust_module);

    /* Only the error whose body we wrote: a later 500 from a handler keeps
     * httpd's page and its content type. */
    if (rq && rq->problem_status && rq->problem_status == r->status) {
        ap_add_output_filter_handle(zt_problem_filter_handle, NULL, r,
                                    r->connection);
    }
}

void zt_answer_register_hooks(apr_pool_t *p)
{
    zt_problem_filter_handle =
        ap_register_output_filter(ZT_PROBLEM_FILTER, zt_problem_filter, NULL,
                                  AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(zt_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
