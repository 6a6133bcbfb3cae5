/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_b64.h
 * @brief Strict base64url (RFC 7515 section 2, RFC 4648 section 5).
 *
 * The decoder accepts exactly one spelling of each byte string: alphabet
 * A-Z a-z 0-9 - _ only, no padding, no whitespace, no line breaks, a length
 * that is not 1 modulo 4, and zero bits in the unused low bits of the last
 * character.  Anything else (standard alphabet, "=", a flipped trailing
 * bit) is refused, so a token has no second encoding that verifies.
 */
#ifndef ZT_B64_H
#define ZT_B64_H

#include <stddef.h>
#include <apr_pools.h>

/** Upper bound of the bytes decoded from @a n characters. */
#define ZT_B64_DECODED_MAX(n)  (((n) / 4) * 3 + 2)
/** Characters (no padding, no NUL) that encode @a n bytes. */
#define ZT_B64_ENCODED_LEN(n)  (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/** Non-zero if @a c belongs to the base64url alphabet. */
int zt_b64url_is_char(unsigned char c);

/**
 * Decode @a len characters of @a in into @a out (capacity @a outcap).
 * Returns 0 and the decoded size in *outlen, or -1 when the input is not
 * canonical base64url or does not fit.
 */
int zt_b64url_decode(unsigned char *out, size_t outcap, size_t *outlen,
                     const char *in, size_t len);

/**
 * Decode into memory from @a pool.  The result is followed by a NUL byte
 * (not counted in *outlen).  NULL when the input is not canonical.
 */
unsigned char *zt_b64url_decode_pool(apr_pool_t *pool, const char *in,
                                     size_t len, size_t *outlen);

/**
 * Encode @a len bytes into @a out, which must hold
 * ZT_B64_ENCODED_LEN(len) + 1 bytes.  Returns the length (NUL excluded).
 */
size_t zt_b64url_encode(char *out, const unsigned char *in, size_t len);

/** Encode into a NUL-terminated string from @a pool. */
char *zt_b64url_encode_pool(apr_pool_t *pool, const unsigned char *in,
                            size_t len);

#endif /* ZT_B64_H */
