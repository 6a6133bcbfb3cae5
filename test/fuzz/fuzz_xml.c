/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for XML bodies and XSDs (zt_body.h): the input is
 * checked as a body against a fixed XSD with a root element, and without
 * either; then compiled as an XSD.  Besides "no crash, no leak, no
 * sanitizer report", it aborts when
 *  - a fault's text is not printable ASCII;
 *  - a body accepted with the schema is refused without one.
 * (zt_xml.c itself refuses any document that ends up with a DTD.)
 *
 * Seeds (test/fuzz/corpus/xml/): valid documents, billion laughs,
 * external entities, deep nesting, bad UTF-8, truncated documents, an
 * element name over libxml2's limit, XSDs with include/import.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FZ_XSD[] =
    "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
    " <xs:element name=\"doc\"><xs:complexType><xs:sequence>"
    "  <xs:element name=\"title\" type=\"xs:string\"/>"
    "  <xs:element name=\"n\" type=\"xs:int\" maxOccurs=\"3\"/>"
    " </xs:sequence><xs:attribute name=\"id\" type=\"xs:ID\"/>"
    " </xs:complexType></xs:element>"
    "</xs:schema>";

static const zt_xsd_t *fz_xsd;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const char *buf = (const char *)data, *err = NULL;
    zt_body_fault_t f;
    apr_pool_t *p;
    int with, without;

    if (!ready) {
        fz_start();
        zt_xml_init();
        fz_xsd = zt_xml_schema_compile(FZ_XSD, strlen(FZ_XSD), fz_pool, &err);
        if (fz_xsd == NULL) {
            abort();
        }
        ready = 1;
    }
    apr_pool_create(&p, fz_pool);
    with = zt_xml_check(fz_xsd, "doc", buf, size, &f);
    if (with != 0) {
        fz_printable(&f);
    }
    without = zt_xml_check(NULL, NULL, buf, size, &f);
    if (without != 0) {
        fz_printable(&f);
        if (with == 0) {
            abort();
        }
    }
    zt_xml_schema_compile(buf, size, p, &err);
    apr_pool_destroy(p);
    return 0;
}
