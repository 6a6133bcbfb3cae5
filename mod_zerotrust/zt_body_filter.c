/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Request bodies, the httpd side (the checks themselves are zt_body.h).
 *
 * Two steps, at two places of the pipeline:
 *
 *   zt_body_head   with the other input checks, before any token: what
 *                  the headers alone tell.  A declared body must be there
 *                  (400), of the declared media type (415), and a
 *                  Content-Length must not exceed its max (413); a route
 *                  that declares no body takes none (413).  Nothing is read.
 *   zt_body_read   only once the policy has allowed the request: read the
 *                  body while counting (413 as soon as max is passed, also
 *                  for chunked bodies), validate it (400), then hand
 *                  exactly those bytes to whoever reads the body next
 *                  (mod_proxy, a CGI, a handler) through the ZEROTRUST_BODY
 *                  input filter, as mod_request's KEEP_BODY does.
 *
 * Why read only after the decision: reading means holding up to `max`
 * bytes for as long as the client takes to send them.  A client without
 * a valid token, or one the policy refuses, must not be able to make us
 * do that; it gets its 401 / 403 without a byte of the body being read.
 */

#include "mod_zerotrust.h"

#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "zt_body.h"

APLOG_USE_MODULE(zerotrust);

#define ZT_BODY_FILTER "ZEROTRUST_BODY"
#define ZT_READ_CHUNK  (64 * 1024)
/* The detail of every 413 for a body over a limit (zt_too_large). */
#define ZT_DETAIL_TOO_LARGE \
    "The request body is larger than this resource accepts."

static ap_filter_rec_t *zt_body_filter_handle;

struct zt_body_state_s {
    int head_done;
    const zt_body_refusal_t *head;  /* zt_body_head's answer */
    int read_done;
    const zt_body_refusal_t *read;  /* zt_body_read's answer */
    const char *buf;                /* the body read, when it passed */
    apr_size_t len;
};

/* The bytes the ZEROTRUST_BODY filter gives back, and how far it got. */
typedef struct {
    const char *buf;
    apr_size_t len, off;
} zt_replay_t;

static struct zt_body_state_s *zt_body_state(request_rec *r, zt_req_t *rq)
{
    if (rq->body == NULL) {
        rq->body = apr_pcalloc(r->pool, sizeof(*rq->body));
    }
    return rq->body;
}

static const zt_body_rec_t *zt_route_body(const zt_req_t *rq)
{
    const zt_table_t *t = rq->policy->table;
    uint32_t b = t->routes[rq->match.route].body;

    return b == ZT_NONE ? NULL : &t->bodies[b];
}

static zt_body_refusal_t *zt_refusal(request_rec *r, int status,
                                     const char *name, const char *found,
                                     const char *expected, const char *detail)
{
    zt_body_refusal_t *x = apr_pcalloc(r->pool, sizeof(*x));

    /* The body is refused unread (or half read): do not let httpd read
     * the rest to keep the connection. */
    r->connection->keepalive = AP_CONN_CLOSE;
    x->status = status;
    x->name = name;
    x->why = apr_psprintf(r->pool, "found %s, expected %s", found, expected);
    x->reason = apr_pstrcat(r->pool, name, ": ", x->why, NULL);
    x->detail = detail;
    return x;
}

/*
** 413: a body of @a found, where the route takes at most @a max bytes (0:
** it declares no body).  One wording, wherever the size is found out.
*/
static zt_body_refusal_t *zt_too_large(request_rec *r, const char *found,
                                       apr_size_t max)
{
    if (max == 0) {
        return zt_refusal(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "body", found,
                          "no body (this route declares none)",
                          "This resource takes no request body.");
    }
    return zt_refusal(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "body", found,
                      apr_psprintf(r->pool, "at most %" APR_SIZE_T_FMT
                                   " bytes", max),
                      ZT_DETAIL_TOO_LARGE);
}

static const char *zt_content_length_field(request_rec *r)
{
    return apr_table_get(r->headers_in, "Content-Length");
}

/* The length @a cl (the Content-Length field, or NULL) declares, -1 when
 * there is none (chunked, or no body) or it is not a length. */
static apr_off_t zt_content_length(const char *cl)
{
    apr_off_t n;
    char *end;

    if (cl == NULL || apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS
        || *end != '\0' || n < 0) {
        return -1;
    }
    return n;
}

/* Does the request carry a body at all?  (RFC 9112 section 6.3) */
static int zt_has_body(request_rec *r, const char *cl)
{
    return apr_table_get(r->headers_in, "Transfer-Encoding") != NULL
           || (cl != NULL && zt_content_length(cl) != 0);
}

/* zt_body_head's checks for route body @a b (or NULL) and the
 * Content-Length @a field (or NULL). */
static __attribute__((noinline))
const zt_body_refusal_t *zt_body_head_check(request_rec *r,
                                            const zt_body_rec_t *b,
                                            const char *field)
{
    apr_off_t cl = zt_content_length(field);
    /* A route that declares no body is decided by the length alone: its
     * other headers are not read. */
    const char *ct = b ? apr_table_get(r->headers_in, "Content-Type") : NULL;

    switch (zt_body_precheck(b, b && zt_has_body(r, field), (int64_t)cl,
                             ct)) {
    case ZT_BODY_UNDECLARED:
    case ZT_BODY_TOO_LARGE:
        return zt_too_large(r, apr_psprintf(r->pool, "%" APR_OFF_T_FMT
                                            " bytes", cl), b ? b->max : 0);
    case ZT_BODY_MISSING:
        return zt_refusal(r, HTTP_BAD_REQUEST, "body", "no body",
                          b->kind == ZT_BODY_JSON ? "a JSON body"
                                                  : "an XML body",
                          "The request body is missing.");
    case ZT_BODY_MEDIA_TYPE:
        return zt_refusal(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "header.content-type",
                          ct ? apr_psprintf(r->pool, "\"%s\"",
                                            ap_escape_logitem(r->pool, ct))
                             : "missing",
                          zt_body_type_expected(b->kind),
                          "The request body is not of a media type this "
                          "resource accepts.");
    default:
        return NULL;
    }
}

/*
** A refusal is kept, so that the request is answered once, with one
** record; the common answer, none, is not (no state is allocated for it):
** asked again, the same headers give it again.
*/
const zt_body_refusal_t *zt_body_head(request_rec *r, zt_req_t *rq)
{
    const zt_body_rec_t *b;
    const zt_body_refusal_t *x;
    const char *field;
    struct zt_body_state_s *st;

    if (rq->body != NULL && rq->body->head_done) {
        return rq->body->head;
    }
    /* A subrequest carries its main request's headers, not a body. */
    if (r->main != NULL) {
        return NULL;
    }
    b = zt_route_body(rq);
    field = zt_content_length_field(r);
    if (b == NULL && field == NULL) {
        return NULL;            /* the common case: zt_body_precheck's GO */
    }
    if ((x = zt_body_head_check(r, b, field)) == NULL) {
        return NULL;
    }
    st = zt_body_state(r, rq);
    st->head_done = 1;
    st->head = x;
    return x;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

static zt_body_refusal_t *zt_read_failed(request_rec *r, apr_status_t rv,
                                         int status)
{
    char msg[120];

    if (status == HTTP_REQUEST_TIME_OUT) {
        return zt_refusal(r, status, "body", "no more data within the "
                          "server's timeout", "the whole body",
                          "The request body did not arrive in time.");
    }
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        /* httpd's own limit (LimitRequestBody, a chunk size), which the
         * route's max may not know of. */
        return zt_refusal(r, status, "body", "more than the server accepts",
                          "a smaller body", ZT_DETAIL_TOO_LARGE);
    }
    return zt_refusal(r, HTTP_BAD_REQUEST, "body",
                      rv == AP_FILTER_ERROR
                      ? "a body the server could not read"
                      : apr_psprintf(r->pool, "a body that could not be "
                                     "read (%s)",
                                     apr_strerror(rv, msg, sizeof(msg))),
                      "a body framed as its headers say",
                      "The request body could not be read.");
}

/*
** An input filter refused the body and answered the request itself:
** HTTP_IN, past LimitRequestBody (413) or on a bad chunk (400), passes an
** error bucket down the output filters, which send httpd's error page
** (ap_die) and set r->status, and the read returns AP_FILTER_ERROR.  The
** refusal says what was sent; no answer of ours may follow it (a second
** response on the connection).  An answer that is not an error (no filter
** of httpd's does that) is taken for a 500, which ap_die then sends.
*/
static zt_body_refusal_t *zt_read_answered(request_rec *r)
{
    int sent = ap_is_HTTP_ERROR(r->status) ? r->status
                                           : HTTP_INTERNAL_SERVER_ERROR;
    zt_body_refusal_t *x = zt_read_failed(r, AP_FILTER_ERROR, sent);

    x->status = sent;
    x->answered = 1;
    return x;
}

/*
** Read the whole body into one buffer from r->pool, refusing it as soon
** as it passes @a max bytes.  NULL and the bytes in *buf, *len, or the
** refusal.
*/
static const zt_body_refusal_t *zt_read_all(request_rec *r, apr_size_t max,
                                            const char **buf, apr_size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    apr_off_t cl = zt_content_length(zt_content_length_field(r));
    apr_size_t cap = cl > 0 ? (apr_size_t)cl : (max < 8192 ? max : 8192);
    apr_size_t n = 0;
    char *out = apr_palloc(r->pool, cap + 1);
    int eos = 0;

    while (!eos) {
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         ZT_READ_CHUNK);
        apr_bucket *e;

        if (rv != APR_SUCCESS) {
            apr_brigade_destroy(bb);
            if (rv == AP_FILTER_ERROR) {
                return zt_read_answered(r);
            }
            return zt_read_failed(r, rv, ap_map_http_request_error(
                                             rv, HTTP_BAD_REQUEST));
        }
        for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t dlen;

            if (APR_BUCKET_IS_EOS(e)) {
                eos = 1;
                break;
            }
            if (AP_BUCKET_IS_ERROR(e)) {
                int status = ((ap_bucket_error *)e->data)->status;

                apr_brigade_destroy(bb);
                return zt_read_failed(r, APR_EGENERAL, status);
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            rv = apr_bucket_read(e, &data, &dlen, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                apr_brigade_destroy(bb);
                return zt_read_failed(r, rv, HTTP_BAD_REQUEST);
            }
            if (dlen > max - n) {
                apr_brigade_destroy(bb);
                return zt_too_large(r, apr_psprintf(r->pool, "more than %"
                                                    APR_SIZE_T_FMT " bytes",
                                                    max), max);
            }
            if (n + dlen > cap) {
                char *bigger;

                cap = cap * 2 < n + dlen ? n + dlen : cap * 2;
                cap = cap > max ? max : cap;
                bigger = apr_palloc(r->pool, cap + 1);
                memcpy(bigger, out, n);
                out = bigger;
            }
            memcpy(out + n, data, dlen);
            n += dlen;
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    out[n] = '\0';
    *buf = out;
    *len = n;
    return NULL;
}

static const zt_body_refusal_t *zt_body_validate(request_rec *r, zt_req_t *rq,
                                                 const char *buf,
                                                 apr_size_t len)
{
    const zt_table_t *t = rq->policy->table;
    uint32_t b = t->routes[rq->match.route].body;
    zt_body_fault_t f;
    zt_body_refusal_t *x;
    char text[512];

    if (zt_body_check(t, b, buf, len, r->pool, &f) == 0) {
        return NULL;
    }
    x = apr_pcalloc(r->pool, sizeof(*x));
    x->status = HTTP_BAD_REQUEST;
    x->reason = apr_pstrdup(r->pool, zt_body_fault_text(&f, text, sizeof(text)));
    x->name = "body";
    x->why = apr_psprintf(r->pool, "found %s, expected %s", f.found,
                          f.expected);
    x->pointer = apr_pstrdup(r->pool, f.where);
    x->line = f.line;
    x->detail = apr_pstrcat(r->pool, "The request body does not match the "
                            "API contract: ", x->reason, ".", NULL);
    return x;
}

/* After an internal redirect the body was read by an earlier request of
 * the chain, if it passed there: the same bytes, or NULL. */
static const struct zt_body_state_s *zt_body_earlier(request_rec *r)
{
    for (request_rec *prev = r->prev; prev != NULL; prev = prev->prev) {
        const zt_req_t *pq = ap_get_module_config(prev->request_config,
                                                  &zerotrust_module);

        if (pq != NULL && pq->body != NULL && pq->body->buf != NULL) {
            return pq->body;
        }
    }
    return NULL;
}

const zt_body_refusal_t *zt_body_read(request_rec *r, zt_req_t *rq)
{
    struct zt_body_state_s *st;
    const struct zt_body_state_s *earlier;
    const zt_body_rec_t *b;
    zt_replay_t *replay;
    const char *buf = NULL;
    apr_size_t len = 0;

    if (rq->body != NULL && rq->body->read_done) {
        return rq->body->read;
    }
    /* A subrequest has no body of its own; nor does a request that
     * declares none (and, its headers said, sends none).  Nothing was
     * read: asked again, the same headers say so again, and no state is
     * allocated for it. */
    if (r->main != NULL || !zt_has_body(r, zt_content_length_field(r))) {
        return NULL;
    }
    st = zt_body_state(r, rq);
    st->read_done = 1;
    b = zt_route_body(rq);
    if ((earlier = zt_body_earlier(r)) != NULL) {
        buf = earlier->buf;
        len = earlier->len;
        if (len > (b ? b->max : 0)) {
            st->read = zt_too_large(r, apr_psprintf(r->pool, "%"
                                                    APR_SIZE_T_FMT " bytes",
                                                    len), b ? b->max : 0);
        }
    }
    else {
        st->read = zt_read_all(r, b ? b->max : 0, &buf, &len);
    }
    if (st->read == NULL && b != NULL) {
        st->read = zt_body_validate(r, rq, buf, len);
    }
    if (st->read == NULL) {
        st->buf = buf;
        st->len = len;
        replay = apr_pcalloc(r->pool, sizeof(*replay));
        replay->buf = buf;
        replay->len = len;
        ap_add_input_filter_handle(zt_body_filter_handle, replay, r,
                                   r->connection);
    }
    return st->read;
}

/*
** httpd reads the body of a request it answers with an error, to keep the
** connection (ap_discard_request_body): up to LimitRequestBody, 1 GiB by
** default, from a client the module has just refused, which is what
** reading only once allowed is meant to spare; and past that limit it
** answers 413 in place of the refusal, which the record would not say.
** With the connection marked to close it reads nothing, as after a
** refused body (zt_refusal).
*/
void zt_body_unread(request_rec *r, const zt_req_t *rq)
{
    if (r->main == NULL && (rq->body == NULL || !rq->body->read_done)
        && zt_has_body(r, zt_content_length_field(r))) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
}

/* ------------------------------------------------------------------ */
/* The replay filter                                                   */

/*
** Give back the bytes zt_body_read took, then EOS; the filters below
** (HTTP_IN) have nothing left.  READBYTES and SPECULATIVE hand out up to
** @a readbytes, EXHAUSTIVE all, GETLINE up to a newline.
*/
static apr_status_t zt_body_replay(ap_filter_t *f, apr_bucket_brigade *bb,
                                   ap_input_mode_t mode, apr_read_type_e block,
                                   apr_off_t readbytes)
{
    zt_replay_t *rp = f->ctx;
    apr_size_t left = rp->len - rp->off, n;

    if (mode != AP_MODE_READBYTES && mode != AP_MODE_SPECULATIVE
        && mode != AP_MODE_EXHAUSTIVE && mode != AP_MODE_GETLINE) {
        return mode == AP_MODE_INIT || mode == AP_MODE_EATCRLF
               ? APR_SUCCESS : APR_ENOTIMPL;
    }
    if (left == 0) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
        return APR_SUCCESS;
    }
    n = left;
    if (mode == AP_MODE_GETLINE) {
        const char *nl = memchr(rp->buf + rp->off, '\n', left);

        n = nl ? (apr_size_t)(nl - (rp->buf + rp->off)) + 1 : left;
    }
    else if (mode != AP_MODE_EXHAUSTIVE && readbytes > 0
             && (apr_off_t)n > readbytes) {
        n = (apr_size_t)readbytes;
    }
    /* A pool bucket: it becomes a heap copy should the request's pool go
     * first (a backend connection keeping it). */
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(rp->buf + rp->off, n,
                                                       f->r->pool,
                                                       bb->bucket_alloc));
    if (mode != AP_MODE_SPECULATIVE) {
        rp->off += n;
    }
    return APR_SUCCESS;
}

void zt_body_register_hooks(apr_pool_t *p)
{
    zt_xml_init();
    zt_body_filter_handle =
        ap_register_input_filter(ZT_BODY_FILTER, zt_body_replay, NULL,
                                 AP_FTYPE_RESOURCE);
}
