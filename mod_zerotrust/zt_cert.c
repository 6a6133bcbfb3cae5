/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The client certificate mod_ssl verified on a connection, read once: its
 * subject and SANs (client.cert.*, zt_request.c), its RFC 8705 thumbprint
 * (cnf.x5t#S256, zt_bind.c) and the audit record's cert_subject all come
 * from one record (zt_cert_t).
 *
 * mod_ssl 2.4 exports DNS and e-mail SANs as variables but no URI SANs
 * (SPIFFE IDs are URIs), and no DER, so the PEM it exports is parsed with
 * OpenSSL.  Parsing costs OpenSSL 3.0 some hundred microseconds, and a
 * kept-alive connection presents the same certificate on every request,
 * so the record lives in c->pool (the connection's zt_conn_t), and
 * is made again only when the PEM differs (a renegotiated certificate).
 * The subject is printed with mod_ssl's own default flags: the string
 * SSL_CLIENT_S_DN holds unless SSLOptions +LegacyDNStringFormat.
 *
 * Whether the certificate is verified is asked on every request (mod_ssl
 * can renegotiate per directory): only "SUCCESS" counts; with
 * SSLVerifyClient optional_no_ca mod_ssl says "GENEROUS", and such a
 * certificate's names are the client's own claims.
 */

#include "mod_zerotrust.h"

#include <string.h>

#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_ssl.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "zt_dpop.h"


APLOG_USE_MODULE(zerotrust);

/* The subject as mod_ssl prints SSL_CLIENT_S_DN by default: RFC 2253,
 * UTF-8 left as is. */
static const char *zt_cert_dn(apr_pool_t *p, const X509_NAME *name)
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
static const char *zt_cert_san_value(apr_pool_t *p, const ASN1_STRING *s)
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

/* DNS, URI and e-mail SANs of @a x, in the certificate's order. */
static void zt_cert_sans(request_rec *r, apr_pool_t *p, X509 *x,
                         zt_cert_t *cert)
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
        v = zt_cert_san_value(p, s);
        if (v == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZTLOGNO(00029)
                          "client certificate SAN %d holds a NUL or a byte "
                          "outside printable ASCII; it matches nothing", i);
            continue;
        }
        APR_ARRAY_PUSH(out, const char *) = v;
    }
    GENERAL_NAMES_free(gens);
    cert->san = (const char *const *)out->elts;
    cert->nsan = (uint32_t)out->nelts;
}

/* base64url(SHA-256(DER)) of @a x, into @a p; NULL if it has no DER. */
static const char *zt_cert_thumb(apr_pool_t *p, X509 *x)
{
    unsigned char *der = NULL;
    char *thumb = NULL;
    int n = i2d_X509(x, &der);

    if (n > 0) {
        thumb = apr_palloc(p, ZT_THUMB_SIZE);
        zt_dpop_cert_thumb(der, (size_t)n, thumb);
    }
    OPENSSL_free(der);
    return thumb;
}

/*
** The record of the certificate whose PEM is @a pem, made in c->pool.  A
** PEM that cannot be read makes a record too, with no names and no
** thumbprint (conditions on them are false, a certificate-bound token is
** refused), so the warning is logged once per connection, not per request.
*/
static zt_cert_t *zt_cert_read(request_rec *r, const char *pem)
{
    apr_pool_t *p = r->connection->pool;
    zt_cert_t *cert = apr_pcalloc(p, sizeof(*cert));
    X509 *x = NULL;
    BIO *bio;

    cert->pem = apr_pstrdup(p, pem);
    if ((bio = BIO_new_mem_buf(pem, -1)) != NULL) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (x == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, ZTLOGNO(00030)
                      "the verified client certificate cannot be read "
                      "from SSL_CLIENT_CERT; client.cert.subject, "
                      "client.cert.san and its thumbprint (cnf.x5t#S256) "
                      "are missing on this connection");
    }
    else {
        cert->subject = zt_cert_dn(p, X509_get_subject_name(x));
        zt_cert_sans(r, p, x, cert);
        cert->thumb = zt_cert_thumb(p, x);
        X509_free(x);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, ZTLOGNO(00067)
                      "read the verified client certificate of this "
                      "connection (x5t#S256 %s)",
                      cert->thumb ? cert->thumb : "unknown");
    }
    /* Leave nothing in this thread's error queue for mod_ssl. */
    ERR_clear_error();
    return cert;
}

int zt_cert_verified(request_rec *r)
{
    conn_rec *c = r->connection;
    const char *verify;

    if (!ap_ssl_conn_is_ssl(c)) {
        return 0;
    }
    verify = ap_ssl_var_lookup(r->pool, r->server, c, r, "SSL_CLIENT_VERIFY");
    return verify != NULL && strcmp(verify, "SUCCESS") == 0;
}

static const zt_cert_t *zt_cert_lookup(request_rec *r)
{
    conn_rec *c = r->connection;
    zt_conn_t *zc = zt_conn_get(c);
    const zt_cert_t *cert = zc->cert;
    const char *pem;

    if (!zt_cert_verified(r)) {
        return NULL;
    }
    pem = ap_ssl_var_lookup(r->pool, r->server, c, r, "SSL_CLIENT_CERT");
    if (pem == NULL) {
        pem = "";           /* verified but not exported: an unread record */
    }
    if (cert == NULL || strcmp(cert->pem, pem) != 0) {
        cert = zc->cert = zt_cert_read(r, pem);
    }
    return cert;
}

const zt_cert_t *zt_cert_get(request_rec *r)
{
    zt_req_t *rq = ap_get_module_config(r->request_config, &zerotrust_module);

    if (rq == NULL) {
        return zt_cert_lookup(r);
    }
    if (!rq->cert_known) {
        rq->cert = zt_cert_lookup(r);
        rq->cert_known = 1;
    }
    return rq->cert;
}
