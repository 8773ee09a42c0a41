/*
 * JSON helpers over jansson's trees: a parser and a compact dumper that give
 * jansson's results (duplicate keys refused, depth bounded as jansson
 * bounds it) several times faster, and the canonical encoding that change
 * sets are signed and hashed in: object keys sorted by byte value, no
 * insignificant white space, UTF-8 left as it is, integers only (reals are
 * refused, because their text form is not canonical across encoders).
 */
#ifndef OWS_COMMON_JSON_H
#define OWS_COMMON_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * Parse len bytes of JSON text (any value at the top, duplicate object keys
 * refused): the tree json_loadb(text, len, JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY) builds, and the same refusals, only faster. Returns a
 * new reference, or NULL with the reason in err (may be NULL):
 * "invalid JSON at line 1 column 5: ...".
 */
json_t *ows_json_parse(const char *text, size_t len, struct ows_err *err);

/*
 * ows_json_parse, and in *values how many values the tree holds (objects,
 * arrays and scalars: what its memory grows with, beyond the text's own
 * bytes), or, when it fails, how many it had made. A text of more than
 * max_values values fails ("too many values") with *values past
 * max_values, once it has made max_values + 1.
 */
json_t *ows_json_parse_counted(const char *text, size_t len,
			       size_t max_values, size_t *values,
			       struct ows_err *err);

/*
 * json_loadb(text, len, flags) with the message of ows_json_parse in err.
 * JSON_REJECT_DUPLICATES and JSON_DECODE_ANY are served by OWS's parser
 * (without the first, the last of duplicate keys wins, in the first one's
 * place; without the second, the top must be an object or an array); any
 * other flag hands the text to jansson.
 */
json_t *ows_json_loadb(const char *text, size_t len, size_t flags,
		       struct ows_err *err);

/*
 * json_loads(text, flags): ows_json_loadb over the NUL-terminated text;
 * NULL text is refused (NULL), as jansson refuses it.
 */
json_t *ows_json_loads(const char *text, size_t flags, struct ows_err *err);

/*
 * Append the canonical encoding of v to out. Returns 0, -EINVAL when v holds
 * a real number, or -ENOMEM.
 */
int ows_json_canonical(const json_t *v, struct ows_buf *out);

/*
 * Compact (not canonical) dump into a malloc'd string: byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) returns (members in
 * insertion order, '/' not escaped). NULL on failure, as jansson's (no
 * memory, a string that is not UTF-8, a cycle).
 */
char *ows_json_dump(const json_t *v);

/*
 * json_dumps(v, flags): JSON_COMPACT with or without JSON_ENCODE_ANY is
 * written by ows_json_dump's code, any other flags by jansson.
 */
char *ows_json_dumps(const json_t *v, size_t flags);

/*
 * Append len bytes of s to out as a JSON string, byte for byte as
 * ows_json_dump writes a string value (quotes, escapes of '"', '\\' and
 * control characters; UTF-8 as it is). 0; -EINVAL when s is not UTF-8 as
 * jansson checks it, -ENOMEM; on failure out's length is as it was.
 */
int ows_json_put_string(struct ows_buf *out, const char *s, size_t len);

/* Borrowed string member or NULL when absent or not a string. */
const char *ows_json_str(const json_t *obj, const char *key);

#endif
