/*
 * DynamoDB's values: AttributeValues in their wire form, numbers as exact
 * decimals, keys in an order-preserving byte encoding and items in the
 * compact encoding the state machine stores.
 *
 * An AttributeValue is kept as jansson holds the wire JSON: an object with
 * exactly one member named by its type ({"S": "x"}, {"N": "1.5"},
 * {"B": "<base64>"}, {"BOOL": true}, {"NULL": true}, {"M": {...}},
 * {"L": [...]}, {"SS": [...]}, {"NS": [...]}, {"BS": [...]}). An item is
 * an object of attribute name -> AttributeValue. The whole service works
 * on that form, so that what a client sent is what it gets back.
 *
 * Numbers follow the DynamoDB developer guide ("Data types", Number): up
 * to 38 significant digits, magnitudes from 1E-130 to 9.9999999999999999
 * 999999999999999999999E+125 (positive and negative) and zero; they are
 * compared and added as decimals, never as doubles. Stored and returned
 * in canonical form (no leading or trailing zeros, no exponent: "1.50"
 * and "15E-1" are both "1.5"), as DynamoDB returns them.
 *
 * Validation errors carry DynamoDB's own ValidationException messages in
 * err (clients match on them); every function here is deterministic (the
 * state machine calls them in apply) and allocates with malloc (jansson).
 */
#ifndef OWS_DDB_VALUE_H
#define OWS_DDB_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define OWS_DDB_ITEM_MAX (400 * 1024)   /* an item's size, DynamoDB's way */
#define OWS_DDB_PK_MAX 2048             /* a partition key value's bytes */
#define OWS_DDB_SK_MAX 1024             /* a sort key value's bytes */
#define OWS_DDB_NAME_MAX 65535          /* an attribute name's bytes */
#define OWS_DDB_DEPTH_MAX 32            /* nesting of M and L */
#define OWS_DDB_NUM_DIGITS 38

enum ows_ddb_type {
	OWS_DDB_NONE = 0, /* not an AttributeValue */
	OWS_DDB_S,
	OWS_DDB_N,
	OWS_DDB_B,
	OWS_DDB_BOOL,
	OWS_DDB_NULL,
	OWS_DDB_M,
	OWS_DDB_L,
	OWS_DDB_SS,
	OWS_DDB_NS,
	OWS_DDB_BS,
};

/* ---- numbers ---- */

/*
 * A number: value = sign * 0.d[0]d[1]...d[n-1] * 10^exp, d[0] != 0 and
 * d[n-1] != 0 (normalized); zero is sign 0, n 0, exp 0.
 */
struct ows_ddb_num {
	int sign;   /* -1, 0, 1 */
	int exp;
	unsigned n; /* 0..38 */
	uint8_t d[OWS_DDB_NUM_DIGITS];
};

/*
 * Parse a number's text (len bytes; "-12.50", "1e3", "+.5", " 7" is not
 * one). 0, or OWS_EINVAL with DynamoDB's message:
 *   "The parameter cannot be converted to a numeric value: TEXT"
 *   "Attempting to store more than 38 significant digits in a Number"
 *   "Number overflow. Attempting to store a number with magnitude larger
 *    than supported range"
 *   "Number underflow. Attempting to store a number with magnitude smaller
 *    than supported range"
 */
int ows_ddb_num_parse(const char *s, size_t len, struct ows_ddb_num *out,
		      struct ows_err *err);
/* The canonical text of n into out (cap >= 200 always suffices); its length. */
size_t ows_ddb_num_format(const struct ows_ddb_num *n, char *out, size_t cap);
/* <0, 0, >0 as a is less than, equal to, greater than b. */
int ows_ddb_num_cmp(const struct ows_ddb_num *a, const struct ows_ddb_num *b);
/*
 * out = a + b, or a - b, exactly when the result fits 38 digits (else
 * rounded as DynamoDB does, to 38 significant digits); OWS_EINVAL with
 * the overflow/underflow message when out of range. out may alias a or b.
 */
int ows_ddb_num_add(const struct ows_ddb_num *a, const struct ows_ddb_num *b,
		    struct ows_ddb_num *out, struct ows_err *err);
int ows_ddb_num_sub(const struct ows_ddb_num *a, const struct ows_ddb_num *b,
		    struct ows_ddb_num *out, struct ows_err *err);

/* ---- AttributeValues ---- */

/* The type of av, or OWS_DDB_NONE when av has not the shape of one. */
enum ows_ddb_type ows_ddb_type_of(const json_t *av);
/* "S", "N", ... ("" for NONE). */
const char *ows_ddb_type_name(enum ows_ddb_type t);
/* The type named name ("SS"), or OWS_DDB_NONE. */
enum ows_ddb_type ows_ddb_type_parse(const char *name);

/*
 * Check av deeply as DynamoDB checks an AttributeValue in a request, and
 * rewrite its numbers (N, NS, nested) to canonical text in place. 0, or
 * OWS_EINVAL with DynamoDB's message, among them:
 *   "Supplied AttributeValue is empty, must contain exactly one of the
 *    supported datatypes"
 *   "Supplied AttributeValue has more than one datatypes set, must contain
 *    exactly one of the supported datatypes"
 *   "One or more parameter values were invalid: An string set  may not be
 *    empty" (and the number / binary set forms)
 *   "Input collection [...] contains duplicates."  (a set)
 *   "Invalid attribute value type", the number messages above,
 *   nesting deeper than OWS_DDB_DEPTH_MAX, B not base64.
 */
int ows_ddb_value_check(json_t *av, struct ows_err *err);
/*
 * Check an item (an object of name -> AttributeValue) the same way, names
 * included (non-empty, at most OWS_DDB_NAME_MAX bytes), and its size
 * against OWS_DDB_ITEM_MAX ("Item size has exceeded the maximum allowed
 * size"). Numbers are rewritten to canonical text in place.
 */
int ows_ddb_item_check(json_t *item, struct ows_err *err);

/*
 * DynamoDB's equality: same type and same value; numbers as decimals;
 * sets as sets (order does not matter); M and L deeply.
 */
bool ows_ddb_value_equal(const json_t *a, const json_t *b);
/*
 * Order of two scalars of one type (S: UTF-8 bytes, unsigned; N: decimal;
 * B: bytes, unsigned) into *out (<0, 0, >0): 0, or OWS_EINVAL when they
 * are not both S, both N or both B.
 */
int ows_ddb_value_cmp(const json_t *a, const json_t *b, int *out);
/*
 * The number of av (type N) into out: 0 or OWS_EINVAL (not an N, or its
 * text is not a valid number).
 */
int ows_ddb_value_num(const json_t *av, struct ows_ddb_num *out,
		      struct ows_err *err);
/* A new {"N": text} of n. */
json_t *ows_ddb_value_from_num(const struct ows_ddb_num *n);
/*
 * The decoded bytes of a B value (or a BS member's base64 string, for
 * which pass the string itself) into out (appended): 0 or OWS_EINVAL.
 */
int ows_ddb_b64_bytes(const json_t *b64_string, struct ows_buf *out);

/*
 * Sizes as DynamoDB counts them ("Item sizes and formats"): S its UTF-8
 * bytes, N about 1 byte per two significant digits plus 1, B its raw
 * bytes, BOOL and NULL 1, M and L 3 plus their members (plus 1 per
 * member), sets the sum of their members; an item is the sum over its
 * attributes of name length + value size.
 */
size_t ows_ddb_value_size(const json_t *av);
size_t ows_ddb_item_size(const json_t *item);

/* ---- keys ---- */

/*
 * Append the key encoding of av (S, N or B; checked) to out: unsigned
 * byte order of encodings is DynamoDB's order of the values, and the
 * encoding is self-delimiting (no encoding is a prefix of another), so
 * that several keys may be concatenated and still compare in order.
 * 0, or OWS_EINVAL when av is not an S, N or B with a valid value.
 */
int ows_ddb_key_encode(const json_t *av, struct ows_buf *out);
/*
 * Decode one key encoding from p (len bytes): *out a new AttributeValue,
 * *used the bytes it took. 0, or OWS_EINVAL when malformed.
 */
int ows_ddb_key_decode(const void *p, size_t len, json_t **out, size_t *used);
/*
 * A stable 32-bit hash of a partition key's encoding: the order of Scan
 * and the split of parallel scans into segments (the same on every node,
 * in every version: stored in the state).
 */
uint32_t ows_ddb_key_hash(const void *enc, size_t len);

/* ---- items in storage ---- */

/*
 * Append the compact encoding of item (checked before) to out: type tags
 * and varint lengths, numbers in their canonical text or a packed form,
 * binaries raw (not base64). 0, -ENOMEM, or OWS_EINVAL for a value that
 * is not an AttributeValue.
 */
int ows_ddb_item_encode(const json_t *item, struct ows_buf *out);
/* The item encoded in p (len bytes), a new object; NULL when malformed. */
json_t *ows_ddb_item_decode(const void *p, size_t len);
/*
 * The item stored as (p, len) in wire JSON, appended to out: byte for
 * byte ows_json_dump(ows_ddb_item_decode(p, len)), written without the
 * tree; and that item's ows_ddb_item_size into *size. 0; OWS_EINVAL when
 * decode would refuse the bytes, -ENOMEM; on failure out is as it was.
 */
int ows_ddb_item_json(const void *p, size_t len, struct ows_buf *out,
		      size_t *size);

#endif
