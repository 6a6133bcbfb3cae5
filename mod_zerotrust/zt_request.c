/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * What the evaluator may know about an httpd request (zt_request_t):
 * the decoded query, the request headers, the client address, the TLS
 * version and the verified client certificate, and the request's time.
 * Everything is read from httpd and mod_ssl here, into r->pool, so the
 * core never sees httpd.
 *
 * The certificate's names come from the connection's record of it
 * (zt_cert.c).
 */

#include "mod_zerotrust.h"

#include <arpa/inet.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_ssl.h"


APLOG_USE_MODULE(zerotrust);

unsigned int zt_request_feeds(const zt_table_t *t)
{
    unsigned int feeds = 0;
    uint32_t i;

    for (i = 0; i < t->nopnds; i++) {
        switch (t->opnds[i].kind) {
        case ZT_OPND_CERT_SUBJECT:
        case ZT_OPND_CERT_SAN:
            feeds |= ZT_FEED_CERT_NAMES | ZT_FEED_TLS;
            break;
        case ZT_OPND_CERT:
        case ZT_OPND_TLS_VERSION:
            feeds |= ZT_FEED_TLS;
            break;
        case ZT_OPND_CLIENT_IP:
            feeds |= ZT_FEED_CLIENT_IP;
            break;
        default:
            break;
        }
    }
    return feeds;
}

/* Header lookup for the evaluator: names arrive in lower case, and
 * apr_table_get compares case-insensitively anyway. */
static const char *zt_request_header(void *ctx, const char *lname)
{
    return apr_table_get(((request_rec *)ctx)->headers_in, lname);
}

/*
** The client's address as mod_remoteip (or the connection) says.  An
** IPv4-mapped IPv6 address is the IPv4 address it carries; anything
** unparsable (a scoped address) stays unknown, which no CIDR contains.
*/
static void zt_request_ip(const char *ip, zt_request_t *f)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          0xff, 0xff };
    unsigned char buf[16];

    f->ip_family = 0;
    if (ip == NULL) {
        return;
    }
    if (inet_pton(AF_INET, ip, buf) == 1) {
        f->ip_family = 4;
        memcpy(f->ip, buf, 4);
    }
    else if (inet_pton(AF_INET6, ip, buf) == 1) {
        if (memcmp(buf, v4mapped, sizeof(v4mapped)) == 0) {
            f->ip_family = 4;
            memcpy(f->ip, buf + 12, 4);
        }
        else {
            f->ip_family = 6;
            memcpy(f->ip, buf, 16);
        }
    }
}

/* Queries up to this long take room for (len + 1) / 2 parameters rather
 * than a count of their '&': at most 1 KiB, no second pass. */
#define ZT_QUERY_SHORT 64

/*
** Split and decode r->args into r->pool: the parameters, then the buffer
** for decoded parts, in one block.  The parameter count is bounded by the
** request line's length (LimitRequestLine), so no other cap.
*/
static const char *zt_request_query(request_rec *r, zt_request_t *f)
{
    const char *err = NULL, *p;
    apr_size_t len, max;
    zt_qparam_t *params;
    int n;

    if (r->args == NULL || *r->args == '\0') {
        return NULL;
    }
    len = strlen(r->args);
    if (len <= ZT_QUERY_SHORT) {
        /* each pair takes a byte at least, and an '&' after all but the
         * last: no more pairs than this */
        max = (len + 1) / 2;
    }
    else {
        max = 1;
        for (p = strchr(r->args, '&'); p != NULL; p = strchr(p + 1, '&')) {
            max++;              /* pairs are separated by '&' only */
        }
    }
    params = apr_palloc(r->pool, max * sizeof(*params) + len + 1);
    n = zt_query_parse_len(r->args, len, (char *)(params + max), params,
                           (uint32_t)max, &err);
    if (n < 0) {
        return err ? err : "the query string is malformed";
    }
    f->query = params;
    f->nquery = (uint32_t)n;
    return NULL;
}

/*
** TLS facts, only on a TLS connection.  A client certificate counts only
** when mod_ssl verified it; its names are read (zt_cert.c) only when the
** table asks for them.
*/
static void zt_request_tls(request_rec *r, unsigned int feeds,
                           zt_request_t *f)
{
    const zt_cert_t *cert;

    if (!ap_ssl_conn_is_ssl(r->connection)) {
        return;
    }
    f->tls_version = ap_ssl_var_lookup(r->pool, r->server, r->connection, r,
                                       "SSL_PROTOCOL");
    if (!zt_cert_verified(r)) {
        return;
    }
    f->cert = 1;
    if ((feeds & ZT_FEED_CERT_NAMES) && (cert = zt_cert_get(r)) != NULL) {
        f->cert_subject = cert->subject;
        f->cert_san = cert->san;
        f->ncert_san = cert->nsan;
    }
}

const char *zt_request_build(request_rec *r, zt_req_t *rq)
{
    zt_request_t *f = &rq->facts;

    if (rq->built) {
        return rq->input_problem;
    }
    rq->built = 1;
    /* rq comes zeroed (zt_req_get), and nothing writes its facts before
     * this: only what is known is set. */
    f->match = &rq->match;
    f->header = zt_request_header;
    f->header_ctx = r;
    f->now = (int64_t)apr_time_sec(r->request_time);
    if (rq->feeds & ZT_FEED_CLIENT_IP) {
        zt_request_ip(r->useragent_ip, f);
    }
    if (rq->feeds & ZT_FEED_TLS) {
        zt_request_tls(r, rq->feeds, f);
    }
    rq->input_problem = zt_request_query(r, f);
    return rq->input_problem;
}
