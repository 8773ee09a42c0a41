/*
 * JSON helpers over jansson: strict parsing (duplicate keys refused, a size
 * limit, depth bounded by jansson) and the canonical encoding that change
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
 * Parse len bytes of JSON text. Returns a new reference, or NULL with the
 * reason in err ("line 1 column 5: ...").
 */
json_t *ows_json_parse(const char *text, size_t len, struct ows_err *err);

/*
 * Append the canonical encoding of v to out. Returns 0, -EINVAL when v holds
 * a real number, or -ENOMEM.
 */
int ows_json_canonical(const json_t *v, struct ows_buf *out);

/* Compact (not canonical) dump into a malloc'd string; NULL on failure. */
char *ows_json_dump(const json_t *v);

/* Borrowed string member or NULL when absent or not a string. */
const char *ows_json_str(const json_t *obj, const char *key);

#endif
