/*
 * Items in the compact encoding the state machine stores: smaller than
 * the wire JSON and quicker to read back (binaries raw, not base64).
 *
 *   item   := varint(count) (varint(len) name value)*
 *   value  := tag body, tag the enum ows_ddb_type
 *     S, N := varint(len) bytes (N in canonical text)
 *     B    := varint(len) raw bytes
 *     BOOL := 0x00 | 0x01          NULL := (nothing)
 *     M    := an item              L    := varint(count) value*
 *     SS, NS, BS := varint(count) (varint(len) bytes)*
 *
 * The bytes come from the database, but decode treats them as untrusted:
 * every length is checked against what is left, nesting is bounded, text
 * must be UTF-8 and numbers valid, and anything else gives NULL. Sets
 * are not checked for duplicate members (reads stay cheap; every write
 * went through ows_ddb_item_check).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "ddb/ddb_value.h"

static int put_varint(struct ows_buf *out, uint64_t v)
{
	uint8_t b[10];
	size_t k = 0;

	do {
		b[k] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[k] |= 0x80;
		k++;
	} while (v);
	return ows_buf_append(out, b, k) ? -ENOMEM : 0;
}

static int put_bytes(struct ows_buf *out, const void *p, size_t len)
{
	if (put_varint(out, len) != 0 || ows_buf_append(out, p, len) != 0)
		return -ENOMEM;
	return 0;
}

static int put_str(struct ows_buf *out, const json_t *s)
{
	if (!json_is_string(s))
		return OWS_EINVAL;
	return put_bytes(out, json_string_value(s), json_string_length(s));
}

static int put_b64(struct ows_buf *out, const json_t *s)
{
	struct ows_buf raw = OWS_BUF_INIT;
	int rc = ows_ddb_b64_bytes(s, &raw);

	if (rc == 0)
		rc = put_bytes(out, raw.data ? raw.data : "", raw.len);
	ows_buf_free(&raw);
	return rc;
}

static int put_value(struct ows_buf *out, const json_t *av, int depth);

static int put_map(struct ows_buf *out, const json_t *obj, int depth)
{
	const char *k;
	json_t *v;
	int rc;

	if (depth > OWS_DDB_DEPTH_MAX + 1)
		return OWS_EINVAL;
	rc = put_varint(out, json_object_size(obj));
	json_object_foreach((json_t *)obj, k, v) {
		if (rc == 0)
			rc = put_bytes(out, k, strlen(k));
		if (rc == 0)
			rc = put_value(out, v, depth);
		if (rc != 0)
			return rc;
	}
	return rc;
}

static int put_value(struct ows_buf *out, const json_t *av, int depth)
{
	enum ows_ddb_type t = ows_ddb_type_of(av);
	const json_t *v, *m;
	uint8_t tag = (uint8_t)t;
	size_t i;
	int rc;

	if (t == OWS_DDB_NONE)
		return OWS_EINVAL;
	v = json_object_iter_value(json_object_iter((json_t *)av));
	if (ows_buf_append(out, &tag, 1) != 0)
		return -ENOMEM;
	switch (t) {
	case OWS_DDB_S:
	case OWS_DDB_N:
		return put_str(out, v);
	case OWS_DDB_B:
		return put_b64(out, v);
	case OWS_DDB_BOOL:
		tag = json_is_true(v);
		return ows_buf_append(out, &tag, 1) ? -ENOMEM : 0;
	case OWS_DDB_NULL:
		return 0;
	case OWS_DDB_M:
		return put_map(out, v, depth + 1);
	default:
		break;
	}
	if (t == OWS_DDB_L && depth > OWS_DDB_DEPTH_MAX)
		return OWS_EINVAL;
	rc = put_varint(out, json_array_size(v));
	json_array_foreach(v, i, m) {
		if (rc != 0)
			break;
		if (t == OWS_DDB_L)
			rc = put_value(out, m, depth + 1);
		else if (t == OWS_DDB_BS)
			rc = put_b64(out, m);
		else
			rc = put_str(out, m);
	}
	return rc;
}

int ows_ddb_item_encode(const json_t *item, struct ows_buf *out)
{
	size_t mark = out->len;
	int rc;

	if (!json_is_object(item))
		return OWS_EINVAL;
	rc = put_map(out, item, 0);
	if (rc != 0) {
		/* Leave out as it was. */
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
	}
	return rc;
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static bool get_varint(struct rd *r, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (r->pos < r->len && shift < 64) {
		uint8_t b = r->p[r->pos++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* A length-prefixed run of bytes, in bounds. */
static bool get_bytes(struct rd *r, const uint8_t **p, size_t *len)
{
	uint64_t n;

	if (!get_varint(r, &n) || n > r->len - r->pos)
		return false;
	*p = r->p + r->pos;
	*len = (size_t)n;
	r->pos += (size_t)n;
	return true;
}

/* A string member: S text (UTF-8), N text (a valid number), B raw. */
static json_t *get_scalar(struct rd *r, enum ows_ddb_type t)
{
	const uint8_t *p;
	size_t len;
	struct ows_ddb_num n;
	char *text;
	json_t *s;

	if (!get_bytes(r, &p, &len))
		return NULL;
	/* json_stringn's own UTF-8 check goes a byte at a time */
	if (t == OWS_DDB_S || t == OWS_DDB_SS)
		return ows_utf8_valid(p, len)
			   ? json_stringn_nocheck((const char *)p, len)
			   : NULL;
	if (t == OWS_DDB_N || t == OWS_DDB_NS) {
		if (ows_ddb_num_parse((const char *)p, len, &n, NULL) != 0)
			return NULL;
		/* a valid number is ASCII */
		return json_stringn_nocheck((const char *)p, len);
	}
	text = malloc(OWS_B64_LEN(len));
	if (text == NULL)
		return NULL;
	ows_b64_encode(len ? p : (const uint8_t *)"", len, text);
	s = json_string(text);
	free(text);
	return s;
}

static json_t *get_value(struct rd *r, int depth);

/* L (values) or a set (strings): the count is bounded by the bytes left. */
static json_t *get_list(struct rd *r, enum ows_ddb_type t, int depth)
{
	uint64_t n, i;
	json_t *arr, *m;

	if (!get_varint(r, &n) || n > r->len - r->pos)
		return NULL;
	if (t != OWS_DDB_L && n == 0)
		return NULL; /* sets are never empty */
	arr = json_array();
	for (i = 0; arr && i < n; i++) {
		m = t == OWS_DDB_L ? get_value(r, depth + 1) : get_scalar(r, t);
		if (m == NULL || json_array_append_new(arr, m) != 0) {
			json_decref(m);
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* A map: names are UTF-8 without NUL (jansson's keys are C strings). */
static json_t *get_map(struct rd *r, int depth)
{
	uint64_t n, i;
	const uint8_t *p;
	size_t len;
	json_t *obj, *v;

	if (depth > OWS_DDB_DEPTH_MAX + 1 || !get_varint(r, &n) ||
	    n > r->len - r->pos)
		return NULL;
	obj = json_object();
	for (i = 0; obj && i < n; i++) {
		/* An item's names are never empty; a map's may be. */
		if (!get_bytes(r, &p, &len) || memchr(p, 0, len) != NULL ||
		    (depth == 0 && len == 0))
			goto fail;
		if (!ows_utf8_valid(p, len))
			goto fail;
		v = get_value(r, depth);
		if (v == NULL || json_object_setn_new_nocheck(
					 obj, (const char *)p, len, v) != 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* {name: v}, v taken (json_pack parses its format at every call). */
static json_t *wrap(const char *name, json_t *v)
{
	json_t *o = json_object();

	if (o == NULL || json_object_set_new_nocheck(o, name, v) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *get_value(struct rd *r, int depth)
{
	enum ows_ddb_type t;
	json_t *v = NULL;

	if (r->pos >= r->len || depth > OWS_DDB_DEPTH_MAX + 1)
		return NULL;
	t = (enum ows_ddb_type)r->p[r->pos++];
	switch (t) {
	case OWS_DDB_S:
	case OWS_DDB_N:
	case OWS_DDB_B:
		v = get_scalar(r, t);
		break;
	case OWS_DDB_BOOL:
		if (r->pos < r->len && r->p[r->pos] <= 1)
			v = json_boolean(r->p[r->pos++]);
		break;
	case OWS_DDB_NULL:
		v = json_true();
		break;
	case OWS_DDB_M:
		v = get_map(r, depth + 1);
		break;
	case OWS_DDB_L:
	case OWS_DDB_SS:
	case OWS_DDB_NS:
	case OWS_DDB_BS:
		v = get_list(r, t, depth);
		break;
	default:
		return NULL;
	}
	if (v == NULL)
		return NULL;
	return wrap(ows_ddb_type_name(t), v);
}

json_t *ows_ddb_item_decode(const void *p, size_t len)
{
	struct rd r = {p, len, 0};
	json_t *item = get_map(&r, 0);

	if (item != NULL && r.pos != len) {
		json_decref(item);
		return NULL;
	}
	return item;
}
