/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_jescape.h
 * @brief The characters of a JSON string the module writes (the audit
 *        record), strictly escaped, so that the text is printable ASCII
 *        whatever the bytes were.
 *
 * `"` and `\` are escaped, control characters (DEL too) are `\b`, `\f`,
 * `\n`, `\r`, `\t` or `\u00XX`, and any character above ASCII is
 * `\uXXXX` (a UTF-16 pair above U+FFFF).  Bytes that are not valid UTF-8
 * (zt_utf8.h's rule: no overlong forms, surrogates, nothing above
 * U+10FFFF, no sequence cut short) cannot be characters: a text holding
 * any is written with each byte above 0x7F as the four characters `\xHH`
 * (JSON "\\xHH"), so the text stays valid JSON and keeps every byte.
 */
#ifndef ZT_JESCAPE_H
#define ZT_JESCAPE_H

#include <stddef.h>

/**
 * The room zt_json_escape needs for @a n bytes: 6 out per byte in at most
 * (a control byte: \\u00XX), and 8 more, as text is copied a word at a
 * time.
 */
#define ZT_JSON_ESCAPE_ROOM(n) (6 * (n) + 8)

/**
 * The @a n bytes at @a s (any bytes, NUL too), escaped, at @a out, which
 * has room for ZT_JSON_ESCAPE_ROOM(@a n) bytes.  No quotes around them.
 * Returns the end of the text; the bytes after it, within that room, may
 * have been written too.
 */
char *zt_json_escape(char *out, const char *s, size_t n);

/**
 * 1 when no byte of the @a n at @a s but NUL would be escaped by
 * zt_json_escape: every string of a pool of NUL-terminated strings (a
 * table's) is then written as it is.  A byte loop, for load time.
 */
int zt_json_plain_strings(const char *s, size_t n);

#endif /* ZT_JESCAPE_H */
