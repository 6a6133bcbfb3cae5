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
 * The certificate's names come from the certificate itself: mod_ssl 2.4
 * exports DNS and e-mail SANs as variables but no URI SANs (SPIFFE IDs
 * are URIs), so the PEM it exports is parsed with OpenSSL (once per
 * connection and certificate), and the subject is printed from it with
 * mod_ssl's own default flags (the string SSL_CLIENT_S_DN holds unless
 * SSLOptions +LegacyDNStringFormat).
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

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>


APLOG_USE_MODULE(zerotrust);

unsigned int zt_request_feeds(const zt_table_t *t)
{
    unsigned int feeds = 0;
    uint32_t i;

    for (i = 0; i < t->nopnds; i++) {
        if (t->opnds[i].kind == ZT_OPND_CERT_SUBJECT
            || t->opnds[i].kind == ZT_OPND_CERT_SAN) {
            feeds |= ZT_FEED_CERT_NAMES;
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

/*
** Split and decode r->args into r->pool.  The parameter count is bounded
** by the request line's length (LimitRequestLine), so no other cap.
*/
static const char *zt_request_query(request_rec *r, zt_request_t *f)
{
    const char *err = NULL, *p;
    uint32_t max = 1;
    zt_qparam_t *params;
    char *buf;
    int n;

    f->query = NULL;
    f->nquery = 0;
    if (r->args == NULL || *r->args == '\0') {
        return NULL;
    }
    for (p = r->args; *p; p++) {
        max += (*p == '&' || *p == ';');
    }
    buf = apr_palloc(r->pool, strlen(r->args) + 1);
    params = apr_palloc(r->pool, max * sizeof(*params));
    n = zt_query_parse(r->args, buf, params, max, &err);
    if (n < 0) {
        return err ? err : "the query string is malformed";
    }
    f->query = params;
    f->nquery = (uint32_t)n;
    return NULL;
}

/* The subject as mod_ssl prints SSL_CLIENT_S_DN by default: RFC 2253,
 * UTF-8 left as is. */
static const char *zt_request_dn(apr_pool_t *p, const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *out = NULL;
    char *data;
    long n;

    if (bio == NULL) {
        return NULL;
    }
    if (X509_NAME_print_ex(bio, name, 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(bio, &data);
        out = apr_pstrmemdup(p, data, n > 0 ? (apr_size_t)n : 0);
    }
    BIO_free(bio);
    return out;
}

/* A SAN value usable as a string: no NUL (the "a.com\0.b.com" trick) and
 * nothing outside printable ASCII, which IA5String SANs never need. */
static const char *zt_request_san_value(apr_pool_t *p, const ASN1_STRING *s)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int i, n = ASN1_STRING_length(s);

    for (i = 0; i < n; i++) {
        if (d[i] < 0x20 || d[i] > 0x7e) {
            return NULL;
        }
    }
    return apr_pstrmemdup(p, (const char *)d, (apr_size_t)n);
}

/*
** The names of a connection's verified client certificate, kept in
** c->pool: parsing a certificate (d2i_X509) costs OpenSSL 3.0 some
** hundred microseconds, and a kept-alive connection presents the same one
** on every request.  The PEM is compared, so a renegotiated certificate is
** parsed again.
*/
typedef struct {
    const char *pem;
    const char *subject;            /* RFC 2253, or NULL */
    const char *const *san;         /* DNS, URI, e-mail */
    uint32_t nsan;
} zt_cert_names_t;

/* DNS, URI and e-mail SANs of @a x, in the certificate's order. */
static void zt_request_sans(request_rec *r, apr_pool_t *p, X509 *x,
                            zt_cert_names_t *cn)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
                                           NULL);
    apr_array_header_t *out;
    int i, n;

    if (gens == NULL) {
        return;
    }
    n = sk_GENERAL_NAME_num(gens);
    out = apr_array_make(p, n > 0 ? n : 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        const char *v;

        switch (g->type) {
        case GEN_DNS:   s = g->d.dNSName; break;
        case GEN_URI:   s = g->d.uniformResourceIdentifier; break;
        case GEN_EMAIL: s = g->d.rfc822Name; break;
        default:        continue;
        }
        v = zt_request_san_value(p, s);
        if (v == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00029)
                          "client certificate SAN %d holds a NUL or a byte "
                          "outside printable ASCII; it matches nothing", i);
            continue;
        }
        APR_ARRAY_PUSH(out, const char *) = v;
    }
    GENERAL_NAMES_free(gens);
    cn->san = (const char *const *)out->elts;
    cn->nsan = (uint32_t)out->nelts;
}

/*
** Subject and SANs of the verified client certificate, from the PEM that
** mod_ssl exports, once per connection and certificate.  If it cannot be
** read the certificate keeps counting as present, but with no names:
** conditions on them are false.
*/
static void zt_request_cert_names(request_rec *r, zt_request_t *f)
{
    conn_rec *c = r->connection;
    zt_cert_names_t *cn = ap_get_module_config(c->conn_config,
                                               &zerotrust_module);
    const char *pem = ap_ssl_var_lookup(r->pool, r->server, c, r,
                                        "SSL_CLIENT_CERT");
    BIO *bio;
    X509 *x = NULL;

    if (pem == NULL || cn == NULL || strcmp(cn->pem, pem) != 0) {
        if (pem && (bio = BIO_new_mem_buf(pem, -1)) != NULL) {
            x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
            BIO_free(bio);
        }
        if (x == NULL) {
            /* Leave nothing in this thread's error queue for mod_ssl. */
            ERR_clear_error();
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ZTLOGNO(00030)
                          "the verified client certificate cannot be read "
                          "from SSL_CLIENT_CERT; client.cert.subject and "
                          "client.cert.san are missing for this request");
            return;
        }
        cn = apr_pcalloc(c->pool, sizeof(*cn));
        cn->pem = apr_pstrdup(c->pool, pem);
        cn->subject = zt_request_dn(c->pool, X509_get_subject_name(x));
        zt_request_sans(r, c->pool, x, cn);
        X509_free(x);
        ERR_clear_error();
        ap_set_module_config(c->conn_config, &zerotrust_module, cn);
    }
    f->cert_subject = cn->subject;
    f->cert_san = cn->san;
    f->ncert_san = cn->nsan;
}

/*
** TLS facts, only on a TLS connection.  A client certificate counts only
** when mod_ssl verified it (SSL_CLIENT_VERIFY "SUCCESS"): with
** SSLVerifyClient optional_no_ca it says "GENEROUS", and such a
** certificate's names are the client's own claims.
*/
static void zt_request_tls(request_rec *r, unsigned int feeds,
                           zt_request_t *f)
{
    conn_rec *c = r->connection;
    const char *verify;

    if (!ap_ssl_conn_is_ssl(c)) {
        return;
    }
    f->tls_version = ap_ssl_var_lookup(r->pool, r->server, c, r,
                                       "SSL_PROTOCOL");
    verify = ap_ssl_var_lookup(r->pool, r->server, c, r, "SSL_CLIENT_VERIFY");
    if (verify == NULL || strcmp(verify, "SUCCESS") != 0) {
        return;
    }
    f->cert = 1;
    if (feeds & ZT_FEED_CERT_NAMES) {
        zt_request_cert_names(r, f);
    }
}

const char *zt_request_build(request_rec *r, zt_req_t *rq)
{
    zt_request_t *f = &rq->facts;

    if (rq->built) {
        return rq->input_problem;
    }
    rq->built = 1;
    memset(f, 0, sizeof(*f));
    f->match = &rq->match;
    f->header = zt_request_header;
    f->header_ctx = r;
    f->now = (int64_t)apr_time_sec(r->request_time);
    zt_request_ip(r->useragent_ip, f);
    zt_request_tls(r, rq->feeds, f);
    rq->input_problem = zt_request_query(r, f);
    return rq->input_problem;
}
