/*
 * AttributeValues in their wire JSON: their types, the deep check that
 * DynamoDB makes of each one in a request (with its messages), the
 * rewriting of numbers and binaries to the canonical text DynamoDB
 * returns, equality and order as DynamoDB defines them, and sizes as
 * DynamoDB counts them ("Item sizes and formats" in the developer guide).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "ddb/ddb_value.h"

static const char *const type_names[] = {
	[OWS_DDB_NONE] = "", [OWS_DDB_S] = "S",     [OWS_DDB_N] = "N",
	[OWS_DDB_B] = "B",   [OWS_DDB_BOOL] = "BOOL", [OWS_DDB_NULL] = "NULL",
	[OWS_DDB_M] = "M",   [OWS_DDB_L] = "L",     [OWS_DDB_SS] = "SS",
	[OWS_DDB_NS] = "NS", [OWS_DDB_BS] = "BS",
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *ows_ddb_type_name(enum ows_ddb_type t)
{
	return (unsigned)t < NTYPES ? type_names[t] : "";
}

enum ows_ddb_type ows_ddb_type_parse(const char *name)
{
	/* one letter: most values (every key) are S, N or B */
	if (name != NULL && name[0] != '\0' && name[1] == '\0') {
		switch (name[0]) {
		case 'S': return OWS_DDB_S;
		case 'N': return OWS_DDB_N;
		case 'B': return OWS_DDB_B;
		case 'M': return OWS_DDB_M;
		case 'L': return OWS_DDB_L;
		default: return OWS_DDB_NONE;
		}
	}
	for (unsigned t = 1; name && t < NTYPES; t++)
		if (strcmp(name, type_names[t]) == 0)
			return (enum ows_ddb_type)t;
	return OWS_DDB_NONE;
}

/* Whether v has the JSON shape that type t holds. */
static bool shape_ok(enum ows_ddb_type t, const json_t *v)
{
	switch (t) {
	case OWS_DDB_S:
	case OWS_DDB_N:
	case OWS_DDB_B:
		return json_is_string(v);
	case OWS_DDB_BOOL:
	case OWS_DDB_NULL:
		return json_is_boolean(v);
	case OWS_DDB_M:
		return json_is_object(v);
	default:
		return json_is_array(v);
	}
}

enum ows_ddb_type ows_ddb_type_of(const json_t *av)
{
	const char *k;
	json_t *v;
	enum ows_ddb_type t;

	if (!json_is_object(av) || json_object_size(av) != 1)
		return OWS_DDB_NONE;
	json_object_foreach((json_t *)av, k, v) {
		t = ows_ddb_type_parse(k);
		if (t != OWS_DDB_NONE && shape_ok(t, v))
			return t;
	}
	return OWS_DDB_NONE;
}

/* The single member's value of an AttributeValue of a known type. */
static json_t *inner(const json_t *av)
{
	void *it = json_object_iter((json_t *)av);

	return it ? json_object_iter_value(it) : NULL;
}

int ows_ddb_b64_bytes(const json_t *s, struct ows_buf *out)
{
	size_t len;
	long n;

	if (!json_is_string(s))
		return OWS_EINVAL;
	len = json_string_length(s);
	if (ows_buf_grow(out, len / 4 * 3 + 3) != 0)
		return -ENOMEM;
	n = ows_b64_decode_n(json_string_value(s), len, out->data + out->len,
			     out->cap - out->len - 1);
	if (n < 0)
		return OWS_EINVAL;
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return 0;
}

/*
 * The normalized bytes of a scalar or set member: S as is, N as its
 * canonical text (so equal decimals give equal bytes), B decoded.
 */
static int norm_bytes(enum ows_ddb_type t, const json_t *s, struct ows_buf *out)
{
	struct ows_ddb_num n;
	char text[200];
	size_t len;

	if (!json_is_string(s))
		return OWS_EINVAL;
	if (t == OWS_DDB_B || t == OWS_DDB_BS)
		return ows_ddb_b64_bytes(s, out);
	if (t == OWS_DDB_N || t == OWS_DDB_NS) {
		if (ows_ddb_num_parse(json_string_value(s), json_string_length(s),
				      &n, NULL) != 0)
			return OWS_EINVAL;
		len = ows_ddb_num_format(&n, text, sizeof(text));
		return ows_buf_append(out, text, len);
	}
	return ows_buf_append(out, json_string_value(s), json_string_length(s));
}

struct member {
	const char *p;
	size_t len;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * The sorted normalized members of a set (arr, of set type t): *mem points
 * into buf, which the caller frees with the array.
 */
static int set_members(enum ows_ddb_type t, const json_t *arr,
		       struct ows_buf *buf, struct member **mem)
{
	size_t n = json_array_size(arr), i, *off;
	int rc = 0;

	*mem = calloc(n ? n : 1, sizeof(**mem));
	off = calloc(n ? n : 1, sizeof(*off));
	if (*mem == NULL || off == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		off[i] = buf->len;
		rc = norm_bytes(t, json_array_get(arr, i), buf);
		if (rc != 0)
			goto out;
		(*mem)[i].len = buf->len - off[i];
	}
	/* Pointers only once the buffer stops moving. */
	for (i = 0; i < n; i++)
		(*mem)[i].p = buf->data ? buf->data + off[i] : "";
	qsort(*mem, n, sizeof(**mem), member_cmp);
out:
	free(off);
	return rc;
}

/* "Input collection [a, b, a] contains duplicates." within the buffer. */
static void duplicates_msg(const json_t *arr, struct ows_err *err)
{
	char list[160];
	size_t k = 0, i;

	for (i = 0; i < json_array_size(arr) && k < sizeof(list) - 8; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		int w = snprintf(list + k, sizeof(list) - k, "%s%s",
				 i ? ", " : "", s ? s : "");

		if (w < 0 || (size_t)w >= sizeof(list) - k) {
			k = sizeof(list) - 1;
			break;
		}
		k += (size_t)w;
	}
	list[k] = '\0';
	ows_err_printf(err, "One or more parameter values were invalid: "
			    "Input collection [%s] contains duplicates.", list);
}

static int check_set(enum ows_ddb_type t, json_t *arr, struct ows_err *err)
{
	struct ows_buf buf = OWS_BUF_INIT;
	struct member *mem = NULL;
	size_t i, n = json_array_size(arr);
	int rc;

	if (n == 0) {
		ows_err_printf(err, "One or more parameter values were invalid: %s",
			       t == OWS_DDB_SS ? "An string set  may not be empty"
			       : t == OWS_DDB_NS ? "An number set  may not be empty"
						 : "Binary sets should not be empty");
		return OWS_EINVAL;
	}
	for (i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);
		struct ows_ddb_num num;

		if (!json_is_string(s)) {
			ows_err_printf(err, "Invalid attribute value type");
			return OWS_EINVAL;
		}
		if (t == OWS_DDB_NS &&
		    ows_ddb_num_parse(json_string_value(s), json_string_length(s),
				      &num, err) != 0)
			return OWS_EINVAL;
	}
	rc = set_members(t, arr, &buf, &mem);
	if (rc == OWS_EINVAL)
		ows_err_printf(err, "Invalid attribute value type");
	for (i = 1; rc == 0 && i < n; i++) {
		if (member_cmp(&mem[i - 1], &mem[i]) == 0) {
			duplicates_msg(arr, err);
			rc = OWS_EINVAL;
		}
	}
	free(mem);
	ows_buf_free(&buf);
	return rc;
}

/* Rewrite an N (or NS member) string to canonical text; its text checked. */
static int canon_num(json_t *s, struct ows_err *err)
{
	struct ows_ddb_num n;
	char text[200];
	size_t len;

	if (ows_ddb_num_parse(json_string_value(s), json_string_length(s), &n,
			      err) != 0)
		return OWS_EINVAL;
	len = ows_ddb_num_format(&n, text, sizeof(text));
	if (len != json_string_length(s) ||
	    memcmp(text, json_string_value(s), len) != 0)
		return json_string_setn(s, text, len) == 0 ? 0 : -ENOMEM;
	return 0;
}

/* Rewrite a B (or BS member) string to canonical base64 (with padding). */
static int canon_b64(json_t *s, struct ows_err *err)
{
	struct ows_buf raw = OWS_BUF_INIT;
	char *text = NULL;
	int rc = 0;

	if (ows_ddb_b64_bytes(s, &raw) != 0) {
		ows_err_printf(err, "One or more parameter values were invalid: "
				    "Invalid binary value (not base64)");
		rc = OWS_EINVAL;
		goto out;
	}
	/* Missing padding, or stray bits in the last character ("AB=="). */
	text = malloc(OWS_B64_LEN(raw.len));
	if (text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ows_b64_encode(raw.data ? raw.data : "", raw.len, text);
	if (strcmp(text, json_string_value(s)) != 0)
		rc = json_string_set(s, text) == 0 ? 0 : -ENOMEM;
out:
	free(text);
	ows_buf_free(&raw);
	return rc;
}

static int check_value(json_t *av, int depth, struct ows_err *err);

static int check_container(enum ows_ddb_type t, json_t *v, int depth,
			   struct ows_err *err)
{
	const char *k;
	json_t *m;
	size_t i;
	int rc;

	if (t == OWS_DDB_M) {
		json_object_foreach(v, k, m) {
			rc = check_value(m, depth + 1, err);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	json_array_foreach(v, i, m) {
		rc = check_value(m, depth + 1, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Members whose value is JSON null count as unset, as DynamoDB's JSON
 * reader takes them; any other member must name a type.
 */
static int check_shape(json_t *av, enum ows_ddb_type *type, json_t **val,
		       struct ows_err *err)
{
	const char *k;
	json_t *v;
	size_t set = 0;

	*type = OWS_DDB_NONE;
	json_object_foreach(av, k, v) {
		if (json_is_null(v))
			continue;
		set++;
		*type = ows_ddb_type_parse(k);
		*val = v;
	}
	if (set == 0 || (set == 1 && *type == OWS_DDB_NONE)) {
		ows_err_printf(err, "Supplied AttributeValue is empty, must "
				    "contain exactly one of the supported datatypes");
		return OWS_EINVAL;
	}
	if (set > 1) {
		ows_err_printf(err, "Supplied AttributeValue has more than one "
				    "datatypes set, must contain exactly one of "
				    "the supported datatypes");
		return OWS_EINVAL;
	}
	if (!shape_ok(*type, *val)) {
		ows_err_printf(err, "Invalid attribute value type");
		return OWS_EINVAL;
	}
	return 0;
}

static int check_value(json_t *av, int depth, struct ows_err *err)
{
	enum ows_ddb_type t;
	json_t *v = NULL, *m;
	size_t i;
	int rc;

	if (depth > OWS_DDB_DEPTH_MAX) {
		ows_err_printf(err, "Nesting Levels have exceeded supported "
				    "limits: Attributes in the item have nested "
				    "levels beyond supported limit");
		return OWS_EINVAL;
	}
	if (!json_is_object(av)) {
		ows_err_printf(err, "Invalid attribute value type");
		return OWS_EINVAL;
	}
	rc = check_shape(av, &t, &v, err);
	if (rc != 0)
		return rc;
	/* Drop the null members, so that the value has the one member. */
	if (json_object_size(av) != 1) {
		json_incref(v);
		json_object_clear(av);
		rc = json_object_set_new(av, ows_ddb_type_name(t), v);
		if (rc != 0)
			return -ENOMEM;
	}
	switch (t) {
	case OWS_DDB_N:
		return canon_num(v, err);
	case OWS_DDB_B:
		return canon_b64(v, err);
	case OWS_DDB_NULL:
		if (!json_is_true(v)) {
			ows_err_printf(err, "One or more parameter values were "
					    "invalid: Null attribute value types "
					    "must have the value of true");
			return OWS_EINVAL;
		}
		return 0;
	case OWS_DDB_M:
	case OWS_DDB_L:
		return check_container(t, v, depth, err);
	case OWS_DDB_SS:
	case OWS_DDB_NS:
	case OWS_DDB_BS:
		rc = check_set(t, v, err);
		json_array_foreach(v, i, m) {
			if (rc != 0)
				break;
			if (t == OWS_DDB_NS)
				rc = canon_num(m, err);
			else if (t == OWS_DDB_BS)
				rc = canon_b64(m, err);
		}
		return rc;
	default:
		return 0;
	}
}

int ows_ddb_value_check(json_t *av, struct ows_err *err)
{
	return check_value(av, 1, err);
}

int ows_ddb_item_check(json_t *item, struct ows_err *err)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(item)) {
		ows_err_printf(err, "Invalid attribute value type");
		return OWS_EINVAL;
	}
	json_object_foreach(item, k, v) {
		size_t klen = strlen(k);

		if (klen == 0) {
			ows_err_printf(err, "One or more parameter values were "
					    "invalid: An attribute name cannot "
					    "be empty");
			return OWS_EINVAL;
		}
		if (klen > OWS_DDB_NAME_MAX) {
			ows_err_printf(err, "One or more parameter values were "
					    "invalid: Attribute name is too long");
			return OWS_EINVAL;
		}
		rc = check_value(v, 1, err);
		if (rc != 0)
			return rc;
	}
	if (ows_ddb_item_size(item) > OWS_DDB_ITEM_MAX) {
		ows_err_printf(err, "Item size has exceeded the maximum allowed "
				    "size");
		return OWS_EINVAL;
	}
	return 0;
}

static bool sets_equal(enum ows_ddb_type t, const json_t *a, const json_t *b)
{
	struct ows_buf ba = OWS_BUF_INIT, bb = OWS_BUF_INIT;
	struct member *ma = NULL, *mb = NULL;
	size_t n = json_array_size(a), i;
	bool eq = n == json_array_size(b);

	if (eq && (set_members(t, a, &ba, &ma) != 0 ||
		   set_members(t, b, &bb, &mb) != 0))
		eq = false;
	for (i = 0; eq && i < n; i++)
		eq = member_cmp(&ma[i], &mb[i]) == 0;
	free(ma);
	free(mb);
	ows_buf_free(&ba);
	ows_buf_free(&bb);
	return eq;
}

bool ows_ddb_value_equal(const json_t *a, const json_t *b)
{
	enum ows_ddb_type t = ows_ddb_type_of(a);
	const json_t *va, *vb, *m;
	const char *k;
	size_t i;
	int c;

	if (t == OWS_DDB_NONE || t != ows_ddb_type_of(b))
		return false;
	va = inner(a);
	vb = inner(b);
	switch (t) {
	case OWS_DDB_S:
	case OWS_DDB_N:
	case OWS_DDB_B:
		return ows_ddb_value_cmp(a, b, &c) == 0 && c == 0;
	case OWS_DDB_BOOL:
	case OWS_DDB_NULL:
		return json_is_true(va) == json_is_true(vb);
	case OWS_DDB_M:
		if (json_object_size(va) != json_object_size(vb))
			return false;
		json_object_foreach((json_t *)va, k, m) {
			const json_t *o = json_object_get(vb, k);

			if (o == NULL || !ows_ddb_value_equal(m, o))
				return false;
		}
		return true;
	case OWS_DDB_L:
		if (json_array_size(va) != json_array_size(vb))
			return false;
		json_array_foreach(va, i, m)
			if (!ows_ddb_value_equal(m, json_array_get(vb, i)))
				return false;
		return true;
	default:
		return sets_equal(t, va, vb);
	}
}

int ows_ddb_value_cmp(const json_t *a, const json_t *b, int *out)
{
	enum ows_ddb_type t = ows_ddb_type_of(a);
	struct ows_buf x = OWS_BUF_INIT, y = OWS_BUF_INIT;
	struct ows_ddb_num na, nb;
	struct member ma, mb;
	int rc = 0;

	if (t != ows_ddb_type_of(b) ||
	    (t != OWS_DDB_S && t != OWS_DDB_N && t != OWS_DDB_B))
		return OWS_EINVAL;
	if (t == OWS_DDB_N) {
		if (ows_ddb_value_num(a, &na, NULL) != 0 ||
		    ows_ddb_value_num(b, &nb, NULL) != 0)
			return OWS_EINVAL;
		*out = ows_ddb_num_cmp(&na, &nb);
		return 0;
	}
	if (norm_bytes(t, inner(a), &x) != 0 || norm_bytes(t, inner(b), &y) != 0) {
		rc = OWS_EINVAL;
		goto out;
	}
	ma = (struct member){x.data ? x.data : "", x.len};
	mb = (struct member){y.data ? y.data : "", y.len};
	*out = member_cmp(&ma, &mb);
out:
	ows_buf_free(&x);
	ows_buf_free(&y);
	return rc;
}

int ows_ddb_value_num(const json_t *av, struct ows_ddb_num *out,
		      struct ows_err *err)
{
	const json_t *s;

	if (ows_ddb_type_of(av) != OWS_DDB_N) {
		if (err)
			ows_err_printf(err, "Invalid attribute value type");
		return OWS_EINVAL;
	}
	s = inner(av);
	return ows_ddb_num_parse(json_string_value(s), json_string_length(s),
				 out, err);
}

json_t *ows_ddb_value_from_num(const struct ows_ddb_num *n)
{
	char text[200];
	size_t len = ows_ddb_num_format(n, text, sizeof(text));
	json_t *s = json_stringn(text, len), *av;

	if (s == NULL)
		return NULL;
	av = json_object();
	if (av == NULL || json_object_set_new(av, "N", s) != 0) {
		json_decref(av);
		return NULL;
	}
	return av;
}

/* Decoded length of base64 text without decoding it. */
static size_t b64_raw_len(const json_t *s)
{
	const char *p = json_string_value(s);
	size_t len = json_string_length(s);

	while (len > 0 && p[len - 1] == '=')
		len--;
	return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

/* A number's size: 1 byte per two significant digits, plus 1. */
static size_t num_size(const json_t *s)
{
	struct ows_ddb_num n;

	if (ows_ddb_num_parse(json_string_value(s), json_string_length(s), &n,
			      NULL) != 0)
		return json_string_length(s);
	return (n.n + 1) / 2 + 1;
}

size_t ows_ddb_value_size(const json_t *av)
{
	enum ows_ddb_type t = ows_ddb_type_of(av);
	const json_t *v = inner(av), *m;
	const char *k;
	size_t i, sz = 0;

	switch (t) {
	case OWS_DDB_S:
		return json_string_length(v);
	case OWS_DDB_N:
		return num_size(v);
	case OWS_DDB_B:
		return b64_raw_len(v);
	case OWS_DDB_BOOL:
	case OWS_DDB_NULL:
		return 1;
	case OWS_DDB_M:
		json_object_foreach((json_t *)v, k, m)
			sz += strlen(k) + ows_ddb_value_size(m) + 1;
		return sz + 3;
	case OWS_DDB_L:
		json_array_foreach(v, i, m)
			sz += ows_ddb_value_size(m) + 1;
		return sz + 3;
	case OWS_DDB_SS:
	case OWS_DDB_NS:
	case OWS_DDB_BS:
		json_array_foreach(v, i, m)
			sz += t == OWS_DDB_SS ? json_string_length(m)
			      : t == OWS_DDB_NS ? num_size(m) : b64_raw_len(m);
		return sz;
	default:
		return 0;
	}
}

size_t ows_ddb_item_size(const json_t *item)
{
	const char *k;
	json_t *v;
	size_t sz = 0;

	json_object_foreach((json_t *)item, k, v)
		sz += strlen(k) + ows_ddb_value_size(v);
	return sz;
}
