/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * XML bodies with libxml2 (zt_body.h).
 *
 * The parser never reaches outside the bytes it is given: no network
 * (XML_PARSE_NONET), no external DTD (no XML_PARSE_DTDLOAD), no entity
 * substitution (no XML_PARSE_NOENT), no XInclude.  More than that, a
 * document type declaration of any kind stops the parse at once, before
 * its internal subset is read: entity declarations (billion laughs,
 * external entities such as file:///etc/passwd) are never even parsed.
 * An API body has no use for a DTD.  Depth is limited by counting
 * elements as the parser opens them.  An XSD is read the same way and
 * must be self-contained (no include, import, redefine or override).
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "zt_body.h"

#define ZT_XSD_NS         "http://www.w3.org/2001/XMLSchema"
#define ZT_XSD_MAX_DEPTH  256
#define ZT_XML_STR_(x)    #x
#define ZT_XML_NESTED(n)  "elements nested at most " ZT_XML_STR_(n) " deep"

#define ZT_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING \
                        | XML_PARSE_NOCDATA)

/* What the SAX hooks saw, in ctxt->_private. */
typedef struct {
    int depth, max_depth;
    const char *refused;        /* why the parse was stopped, or NULL */
    const char *expected;       /* ... and what was expected instead */
    long line;
} zt_xml_state_t;

struct zt_xsd_s {
    xmlSchemaPtr schema;
    xmlDocPtr doc;
};

void zt_xml_init(void)
{
    xmlInitParser();
}

static void zt_xml_quiet(void *ctx, const char *msg, ...)
{
}

/*
** Some of libxml2's messages (encoding conversion) bypass the parser
** context and go to its generic handler, stderr by default: the error log,
** with client text in it.  The handler is per thread; ours says nothing
** (every fault we report comes from the context or our own hooks).
*/
static void zt_xml_silence(void)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, zt_xml_quiet);
}

static void zt_xml_doctype(void *ctx, const xmlChar *name,
                           const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    zt_xml_state_t *st = ctxt->_private;

    st->refused = "a document type declaration (DOCTYPE: no DTD, no "
                  "entities)";
    st->expected = "a document without DOCTYPE";
    st->line = xmlSAX2GetLineNumber(ctx);
    xmlStopParser(ctxt);
}

static void zt_xml_start(void *ctx, const xmlChar *localname,
                         const xmlChar *prefix, const xmlChar *uri,
                         int nb_namespaces, const xmlChar **namespaces,
                         int nb_attributes, int nb_defaulted,
                         const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    zt_xml_state_t *st = ctxt->_private;

    if (++st->depth > st->max_depth) {
        st->refused = "elements nested too deep";
        st->expected = st->max_depth == ZT_XSD_MAX_DEPTH
                       ? ZT_XML_NESTED(ZT_XSD_MAX_DEPTH)
                       : ZT_XML_NESTED(ZT_XML_MAX_DEPTH);
        st->line = xmlSAX2GetLineNumber(ctx);
        xmlStopParser(ctxt);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
                          namespaces, nb_attributes, nb_defaulted, attributes);
}

static void zt_xml_end(void *ctx, const xmlChar *localname,
                       const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    zt_xml_state_t *st = ctxt->_private;

    st->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* libxml2's message as one printable ASCII line. */
static void zt_xml_copy(char *out, size_t size, const char *msg)
{
    size_t n = 0;

    for (; msg && *msg && n + 1 < size; msg++) {
        unsigned char c = (unsigned char)*msg;

        if (c == '\n' || c == '\r') {
            continue;
        }
        out[n++] = c < 0x20 || c > 0x7e ? '?' : (char)c;
    }
    out[n] = '\0';
}

/*
** Parse @a len bytes safely (see the top of the file).  NULL on failure
** with @a f filled (found: the fault, expected: well-formed XML...).
*/
static xmlDocPtr zt_xml_parse(const char *buf, size_t len, int max_depth,
                              zt_body_fault_t *f)
{
    zt_xml_state_t st = { 0, max_depth, NULL, NULL, 0 };
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc = NULL;
    const char *enc;

    if (len == 0 || len > INT32_MAX) {
        apr_cpystrn(f->found, len ? "a document too large" : "an empty body",
                    sizeof(f->found));
        apr_cpystrn(f->expected, "one XML document", sizeof(f->expected));
        return NULL;
    }
    zt_xml_silence();
    ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (ctxt == NULL) {
        apr_cpystrn(f->found, "no memory to parse it", sizeof(f->found));
        apr_cpystrn(f->expected, "one XML document", sizeof(f->expected));
        return NULL;
    }
    xmlCtxtUseOptions(ctxt, ZT_XML_OPTIONS);
    ctxt->_private = &st;
    ctxt->sax->internalSubset = zt_xml_doctype;
    ctxt->sax->startElementNs = zt_xml_start;
    ctxt->sax->endElementNs = zt_xml_end;
    ctxt->sax->warning = NULL;
    ctxt->sax->error = NULL;
    ctxt->sax->serror = NULL;
    xmlParseDocument(ctxt);
    if (st.refused != NULL) {
        apr_cpystrn(f->found, st.refused, sizeof(f->found));
        apr_cpystrn(f->expected, st.expected, sizeof(f->expected));
        f->line = st.line;
    }
    else if (!ctxt->wellFormed || ctxt->myDoc == NULL) {
        const xmlError *e = &ctxt->lastError;

        zt_xml_copy(f->found, sizeof(f->found),
                    e->message ? e->message : "not well-formed");
        apr_cpystrn(f->expected, "well-formed XML (UTF-8)", sizeof(f->expected));
        f->line = e->line;
    }
    else if (ctxt->myDoc->intSubset != NULL || ctxt->myDoc->extSubset != NULL) {
        /* Not reached (the hook stops the parse); kept as a backstop. */
        apr_cpystrn(f->found, "a document type declaration", sizeof(f->found));
        apr_cpystrn(f->expected, "a document without DOCTYPE",
                    sizeof(f->expected));
    }
    else if ((enc = (const char *)ctxt->myDoc->encoding) != NULL
             && strcasecmp(enc, "UTF-8") != 0) {
        snprintf(f->found, sizeof(f->found), "a document in another "
                 "encoding");
        apr_cpystrn(f->expected, "UTF-8", sizeof(f->expected));
    }
    else {
        doc = ctxt->myDoc;
        ctxt->myDoc = NULL;
    }
    if (ctxt->myDoc != NULL) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* The first XSD element that would load another document, or NULL. */
static xmlNodePtr zt_xsd_outside(xmlNodePtr n)
{
    for (; n != NULL; n = n->next) {
        xmlNodePtr hit;

        if (n->type != XML_ELEMENT_NODE) {
            continue;
        }
        if (n->ns && n->ns->href
            && strcmp((const char *)n->ns->href, ZT_XSD_NS) == 0
            && (xmlStrEqual(n->name, BAD_CAST "include")
                || xmlStrEqual(n->name, BAD_CAST "import")
                || xmlStrEqual(n->name, BAD_CAST "redefine")
                || xmlStrEqual(n->name, BAD_CAST "override"))) {
            return n;
        }
        if ((hit = zt_xsd_outside(n->children)) != NULL) {
            return hit;
        }
    }
    return NULL;
}

/* The first schema error, kept. */
typedef struct {
    char msg[200];
    long line;
    char where[160];
    int seen;
} zt_xml_err_t;

static void zt_xml_error(void *data, xmlErrorPtr e)
{
    zt_xml_err_t *err = data;

    if (e == NULL || e->level < XML_ERR_ERROR || err->seen++) {
        return;
    }
    zt_xml_copy(err->msg, sizeof(err->msg), e->message);
    err->line = e->line;
    if (e->node != NULL && ((xmlNodePtr)e->node)->type == XML_ELEMENT_NODE) {
        xmlChar *path = xmlGetNodePath((xmlNodePtr)e->node);

        if (path != NULL) {
            zt_xml_copy(err->where, sizeof(err->where), (const char *)path);
            xmlFree(path);
        }
    }
}

static apr_status_t zt_xsd_free(void *data)
{
    zt_xsd_t *x = data;

    xmlSchemaFree(x->schema);
    xmlFreeDoc(x->doc);
    return APR_SUCCESS;
}

zt_xsd_t *zt_xml_schema_compile(const char *buf, size_t len, apr_pool_t *pool,
                                const char **err)
{
    zt_body_fault_t f;
    zt_xml_err_t e;
    xmlSchemaParserCtxtPtr pctxt;
    xmlNodePtr outside;
    zt_xsd_t *x;

    memset(&f, 0, sizeof(f));
    memset(&e, 0, sizeof(e));
    zt_xml_init();
    x = apr_pcalloc(pool, sizeof(*x));
    if ((x->doc = zt_xml_parse(buf, len, ZT_XSD_MAX_DEPTH, &f)) == NULL) {
        *err = apr_psprintf(pool, "line %ld: %s", f.line, f.found);
        return NULL;
    }
    if ((outside = zt_xsd_outside(xmlDocGetRootElement(x->doc))) != NULL) {
        *err = apr_psprintf(pool, "line %ld: xs:%s is not supported: the "
                            "schema must be self-contained",
                            (long)xmlGetLineNo(outside),
                            (const char *)outside->name);
        xmlFreeDoc(x->doc);
        return NULL;
    }
    pctxt = xmlSchemaNewDocParserCtxt(x->doc);
    if (pctxt == NULL) {
        *err = "out of memory";
        xmlFreeDoc(x->doc);
        return NULL;
    }
    xmlSchemaSetParserStructuredErrors(pctxt, zt_xml_error, &e);
    x->schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
    if (x->schema == NULL || e.seen) {
        *err = apr_psprintf(pool, "line %ld: %s", e.line,
                            e.seen ? e.msg : "not an XML Schema");
        xmlSchemaFree(x->schema);
        xmlFreeDoc(x->doc);
        return NULL;
    }
    apr_pool_cleanup_register(pool, x, zt_xsd_free, apr_pool_cleanup_null);
    return x;
}

static int zt_xml_root(xmlDocPtr doc, const char *root, zt_body_fault_t *f)
{
    xmlNodePtr el = xmlDocGetRootElement(doc);

    if (root == NULL || root[0] == '\0'
        || (el != NULL && strcmp((const char *)el->name, root) == 0)) {
        return 0;
    }
    f->where[0] = '\0';
    snprintf(f->found, sizeof(f->found), "the root element <");
    zt_xml_copy(f->found + strlen(f->found), 48,
                el ? (const char *)el->name : "?");
    apr_cpystrn(f->found + strlen(f->found), ">",
                sizeof(f->found) - strlen(f->found));
    snprintf(f->expected, sizeof(f->expected), "the root element <%s>", root);
    f->line = el ? xmlGetLineNo(el) : 0;
    return -1;
}

int zt_xml_check(const zt_xsd_t *xsd, const char *root, const char *buf,
                 size_t len, zt_body_fault_t *f)
{
    xmlDocPtr doc;
    int rc = 0;

    memset(f, 0, sizeof(*f));
    if ((doc = zt_xml_parse(buf, len, ZT_XML_MAX_DEPTH, f)) == NULL) {
        return -1;
    }
    if (zt_xml_root(doc, root, f) != 0) {
        rc = -1;
    }
    else if (xsd != NULL) {
        xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(xsd->schema);
        zt_xml_err_t e;

        memset(&e, 0, sizeof(e));
        if (v == NULL) {
            apr_cpystrn(f->found, "no memory to validate it", sizeof(f->found));
            rc = -1;
        }
        else {
            xmlSchemaSetValidStructuredErrors(v, zt_xml_error, &e);
            if (xmlSchemaValidateDoc(v, doc) != 0) {
                rc = -1;
                apr_cpystrn(f->where, e.where, sizeof(f->where));
                apr_cpystrn(f->found, e.seen ? e.msg : "a document the schema "
                            "refuses", sizeof(f->found));
                f->line = e.line;
            }
            xmlSchemaFreeValidCtxt(v);
        }
        if (rc != 0) {
            apr_cpystrn(f->expected, "a document valid against the schema",
                        sizeof(f->expected));
        }
    }
    xmlFreeDoc(doc);
    return rc;
}
