/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_arec.h
 * @brief Pieces of the audit record that need no httpd: its time and the
 *        request id as httpd's core spells it, each written as the
 *        record's writer (zt_audit.c) wrote it with APR and httpd's
 *        helpers, byte for byte, at a fraction of the cost.
 */
#ifndef ZT_AREC_H
#define ZT_AREC_H

#include <stddef.h>
#include <stdint.h>

/** Bytes zt_arec_time writes for a year in 0000..9999: the time,
 *  quoted. */
#define ZT_AREC_TIME_LEN 26

/** Bytes zt_arec_time writes at the most: a year of a sign and 6
 *  digits. */
#define ZT_AREC_TIME_MAX 29

/**
 * @a t (microseconds since the epoch, UTC, any int64) as the record's
 * time, quoted: "2026-11-29T01:02:03.456Z", the milliseconds floored,
 * the proleptic Gregorian calendar with a year 0.  A year outside
 * 0000..9999 (a clock set far wrong) is written as ECMAScript's
 * toISOString writes it, a sign and six digits (ISO 8601 expanded):
 * "-000001-12-31T23:59:59.999Z", "+010000-01-01T00:00:00.000Z".
 * Returns the end: ZT_AREC_TIME_LEN bytes, or ZT_AREC_TIME_MAX; printable
 * ASCII that needs no JSON escape.  Each thread keeps the text of the
 * last second it wrote, so most calls only copy it and write the
 * milliseconds.
 */
char *zt_arec_time(char *o, int64_t t);

/** Characters of zt_arec_id's text. */
#define ZT_AREC_ID_LEN 11

/**
 * The 8 bytes of @a id, in memory order, in base64 (RFC 4648 alphabet,
 * as apr_base64_encode), the padding dropped: ZT_AREC_ID_LEN characters
 * at @a o, no NUL.  httpd's core log id (the error log's %L).
 */
void zt_arec_id(char *o, uint64_t id);

/** Bytes zt_arec_ids writes for a string @a s of @a n bytes: quoted, or
 *  "null". */
static inline size_t zt_arec_str_len(const char *s, size_t n)
{
    return s != NULL ? n + 2 : 4;
}

/** Bytes zt_arec_ids writes: its keys, and each string (zt_arec_str_len). */
#define ZT_AREC_IDS_LEN(sub, sub_n, iss, iss_n, azp, azp_n) \
    (sizeof(",\"sub\":,\"iss\":,\"azp\":") - 1 \
     + zt_arec_str_len((sub), (sub_n)) + zt_arec_str_len((iss), (iss_n)) \
     + zt_arec_str_len((azp), (azp_n)))

/**
 * The record's `,"sub":"…","iss":"…","azp":"…"` at @a o, each string
 * quoted, or null when NULL: strings that need no JSON escape
 * (zt_json_plain_strings), of @a sub_n, @a iss_n and @a azp_n bytes
 * (0 when NULL).  Writes exactly ZT_AREC_IDS_LEN bytes, no NUL; returns
 * the end.  What the token cache keeps per token, so that a record of a
 * token it answers for copies the three fields whole.
 */
char *zt_arec_ids(char *o, const char *sub, size_t sub_n, const char *iss,
                  size_t iss_n, const char *azp, size_t azp_n);

#endif /* ZT_AREC_H */
