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
#include "common/json.h"
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

/* ---- straight to the wire JSON ---- */

/*
 * The writer below answers what decode and then ows_json_dump would, with
 * no tree in between: it reads the bytes with decode's checks, in
 * decode's order, and writes each value as the dumper writes the tree
 * (members in stored order, strings through the dumper's own escaping).
 * The one thing it does not reproduce is a map that names a member twice,
 * which jansson collapses into one (the last value, in the first one's
 * place): it reports TREE, and ows_ddb_item_json takes the tree's path.
 * No write stores such a map (encode walks an object), so that path is
 * for damaged rows only.
 */
#define TREE 1

struct name {
	const uint8_t *p;
	size_t len;
};

static int name_cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/* Whether two of the n names are the same (v may be reordered). */
static bool names_repeat(struct name *v, size_t n)
{
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (name_cmp(&v[i], &v[j]) == 0)
					return true;
		return false;
	}
	qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 1; i < n; i++)
		if (name_cmp(&v[i], &v[i - 1]) == 0)
			return true;
	return false;
}

/* ows_buf_append, inline: the writer's many small pieces. */
static inline int put_json(struct ows_buf *out, const char *s, size_t len)
{
	if (out->cap - out->len <= len && ows_buf_grow(out, len) != 0)
		return -ENOMEM;
	memcpy(out->data + out->len, s, len);
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/* A JSON string of text; its failure as the writer's (bad UTF-8: EINVAL). */
static int put_json_string(struct ows_buf *out, const uint8_t *p, size_t len)
{
	int rv = ows_json_put_string(out, (const char *)p, len);

	return rv == -EINVAL ? OWS_EINVAL : rv;
}

/* get_scalar's checks; ows_ddb_value_size's share into *size. */
static int json_scalar(struct rd *r, enum ows_ddb_type t, struct ows_buf *out,
		       size_t *size)
{
	const uint8_t *p;
	size_t len;
	struct ows_ddb_num n;

	if (!get_bytes(r, &p, &len))
		return OWS_EINVAL;
	if (t == OWS_DDB_S || t == OWS_DDB_SS) {
		*size += len;
		return put_json_string(out, p, len);
	}
	if (t == OWS_DDB_N || t == OWS_DDB_NS) {
		if (ows_ddb_num_parse((const char *)p, len, &n, NULL) != 0)
			return OWS_EINVAL;
		*size += (n.n + 1) / 2 + 1;
		/* a valid number is digits, '.', 'e', 'E', '+', '-': no escape */
		if (ows_buf_grow(out, len + 2) != 0)
			return -ENOMEM;
		out->data[out->len++] = '"';
		memcpy(out->data + out->len, p, len);
		out->len += len;
		out->data[out->len++] = '"';
		out->data[out->len] = '\0';
		return 0;
	}
	*size += len;
	if (ows_buf_grow(out, OWS_B64_LEN(len) + 2) != 0)
		return -ENOMEM;
	out->data[out->len++] = '"';
	/* base64 needs no escape either */
	ows_b64_encode(len ? p : (const uint8_t *)"", len,
		       out->data + out->len);
	out->len += OWS_B64_LEN(len) - 1;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
	return 0;
}

static int json_value(struct rd *r, struct ows_buf *out, int depth,
		      size_t *size);

/* get_list's checks. */
static int json_list(struct rd *r, enum ows_ddb_type t, struct ows_buf *out,
		     int depth, size_t *size)
{
	uint64_t n, i;
	size_t sz = 0;
	int rv = 0;

	if (!get_varint(r, &n) || n > r->len - r->pos)
		return OWS_EINVAL;
	if (t != OWS_DDB_L && n == 0)
		return OWS_EINVAL;
	if (put_json(out, "[", 1) != 0)
		return -ENOMEM;
	for (i = 0; rv == 0 && i < n; i++) {
		if (i > 0 && put_json(out, ",", 1) != 0)
			return -ENOMEM;
		if (t == OWS_DDB_L) {
			rv = json_value(r, out, depth + 1, &sz);
			sz++;
		} else {
			rv = json_scalar(r, t, out, &sz);
		}
	}
	if (rv != 0)
		return rv;
	*size += t == OWS_DDB_L ? sz + 3 : sz;
	return put_json(out, "]", 1);
}

/* get_map's checks; item: the top, whose size is counted without extras. */
static int json_map(struct rd *r, struct ows_buf *out, int depth, size_t *size)
{
	struct name small[16], *names = small;
	uint64_t n, i;
	size_t sz = 0, len;
	const uint8_t *p;
	int rv = 0;

	if (depth > OWS_DDB_DEPTH_MAX + 1 || !get_varint(r, &n) ||
	    n > r->len - r->pos)
		return OWS_EINVAL;
	if (n > 16 && (names = malloc(n * sizeof(*names))) == NULL)
		return -ENOMEM;
	if (put_json(out, "{", 1) != 0)
		rv = -ENOMEM;
	for (i = 0; rv == 0 && i < n; i++) {
		if (!get_bytes(r, &p, &len) || memchr(p, 0, len) != NULL ||
		    (depth == 0 && len == 0)) {
			rv = OWS_EINVAL;
			break;
		}
		names[i] = (struct name){p, len};
		if ((i > 0 && put_json(out, ",", 1) != 0) ||
		    (rv = put_json_string(out, p, len)) != 0 ||
		    put_json(out, ":", 1) != 0) {
			rv = rv ? rv : -ENOMEM;
			break;
		}
		sz += len + (depth > 0);
		rv = json_value(r, out, depth, &sz);
	}
	if (rv == 0 && n > 1 && names_repeat(names, n))
		rv = TREE;
	if (names != small)
		free(names);
	if (rv != 0)
		return rv;
	*size += depth > 0 ? sz + 3 : sz;
	return put_json(out, "}", 1);
}

/* get_value's checks: {"T":v}. */
static int json_value(struct rd *r, struct ows_buf *out, int depth,
		      size_t *size)
{
	/* {"T": for each tag, ows_ddb_type_name's names */
	static const struct {
		const char *text;
		size_t len;
	} open[] = {
		[OWS_DDB_S] = {"{\"S\":", 5},     [OWS_DDB_N] = {"{\"N\":", 5},
		[OWS_DDB_B] = {"{\"B\":", 5},     [OWS_DDB_BOOL] = {"{\"BOOL\":", 8},
		[OWS_DDB_NULL] = {"{\"NULL\":", 8}, [OWS_DDB_M] = {"{\"M\":", 5},
		[OWS_DDB_L] = {"{\"L\":", 5},     [OWS_DDB_SS] = {"{\"SS\":", 6},
		[OWS_DDB_NS] = {"{\"NS\":", 6},   [OWS_DDB_BS] = {"{\"BS\":", 6},
	};
	enum ows_ddb_type t;
	int rv;

	if (r->pos >= r->len || depth > OWS_DDB_DEPTH_MAX + 1)
		return OWS_EINVAL;
	t = (enum ows_ddb_type)r->p[r->pos++];
	if (t <= OWS_DDB_NONE || t > OWS_DDB_BS)
		return OWS_EINVAL;
	if (put_json(out, open[t].text, open[t].len) != 0)
		return -ENOMEM;
	switch (t) {
	case OWS_DDB_S:
	case OWS_DDB_N:
	case OWS_DDB_B:
		rv = json_scalar(r, t, out, size);
		break;
	case OWS_DDB_BOOL:
		if (r->pos >= r->len || r->p[r->pos] > 1)
			return OWS_EINVAL;
		*size += 1;
		rv = r->p[r->pos++] ? put_json(out, "true", 4)
				    : put_json(out, "false", 5);
		break;
	case OWS_DDB_NULL:
		*size += 1;
		rv = put_json(out, "true", 4);
		break;
	case OWS_DDB_M:
		rv = json_map(r, out, depth + 1, size);
		break;
	default:
		rv = json_list(r, t, out, depth, size);
		break;
	}
	if (rv != 0)
		return rv;
	return put_json(out, "}", 1);
}

int ows_ddb_item_json(const void *p, size_t len, struct ows_buf *out,
		      size_t *size)
{
	struct rd r = {p, len, 0};
	size_t mark = out->len, sz = 0;
	json_t *item;
	char *text;
	int rv;

	/* the text is about as long as the bytes: grow once, mostly */
	if (ows_buf_grow(out, len + len / 4 + 64) != 0)
		return -ENOMEM;
	rv = json_map(&r, out, 0, &sz);

	if (rv == 0 && r.pos != len)
		rv = OWS_EINVAL;
	if (rv == 0) {
		*size = sz;
		return 0;
	}
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	if (rv != TREE)
		return rv;
	item = ows_ddb_item_decode(p, len);
	if (item == NULL)
		return OWS_EINVAL;
	text = ows_json_dump(item);
	*size = ows_ddb_item_size(item);
	json_decref(item);
	if (text == NULL)
		return -ENOMEM;
	rv = ows_buf_puts(out, text) != 0 ? -ENOMEM : 0;
	free(text);
	return rv;
}
