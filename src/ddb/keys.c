/*
 * Keys in an order-preserving byte encoding: the unsigned byte order of
 * two encodings is DynamoDB's order of the two values (S and B by their
 * bytes, N as decimals), and no encoding is a prefix of another, so that
 * a partition key and a sort key concatenated still sort by (pk, sk) and
 * a Query is one range scan of the SQLite index.
 *
 *   S, B:  tag, the bytes with 0x00 written 0x00 0xFF, then 0x00 0x01
 *   N:     tag, then 0x02 for zero; or 0x03 (positive) / 0x01 (negative),
 *          the exponent byte (exp - EXP_MIN), the digits two a byte as
 *          1 + 10*d1 + d2 (a lone last digit as d1 0) and a 0x00; for a
 *          negative number every byte after 0x01 complemented, so that
 *          larger magnitudes sort lower.
 *
 * The hash (FNV-1a, 32 bits) is written out here: it orders Scan and
 * splits parallel scans, so it must never change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "ddb/ddb_value.h"

#define TAG_N 0x10
#define TAG_S 0x20
#define TAG_B 0x30

#define N_NEG 0x01
#define N_ZERO 0x02
#define N_POS 0x03
#define EXP_MIN (-129)
#define EXP_MAX 126

static int put_escaped(struct ows_buf *out, uint8_t tag, const uint8_t *p,
		       size_t len)
{
	static const uint8_t esc[2] = {0x00, 0xff}, end[2] = {0x00, 0x01};
	size_t i, run = 0;

	if (ows_buf_append(out, &tag, 1) != 0)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			continue;
		if (ows_buf_append(out, p + run, i - run) != 0 ||
		    ows_buf_append(out, esc, 2) != 0)
			return -ENOMEM;
		run = i + 1;
	}
	if (ows_buf_append(out, p + run, len - run) != 0 ||
	    ows_buf_append(out, end, 2) != 0)
		return -ENOMEM;
	return 0;
}

static int put_num(struct ows_buf *out, const struct ows_ddb_num *n)
{
	uint8_t b[2 + 2 + OWS_DDB_NUM_DIGITS / 2 + 2];
	size_t k = 0, i;
	bool neg = n->sign < 0;

	b[k++] = TAG_N;
	if (n->sign == 0 || n->n == 0) {
		b[k++] = N_ZERO;
		return ows_buf_append(out, b, k) ? -ENOMEM : 0;
	}
	b[k++] = neg ? N_NEG : N_POS;
	b[k++] = (uint8_t)(n->exp - EXP_MIN);
	for (i = 0; i < n->n; i += 2)
		b[k++] = (uint8_t)(1 + 10 * n->d[i] +
				   (i + 1 < n->n ? n->d[i + 1] : 0));
	b[k++] = 0;
	for (i = 2; neg && i < k; i++)
		b[i] = (uint8_t)(0xff - b[i]);
	return ows_buf_append(out, b, k) ? -ENOMEM : 0;
}

int ows_ddb_key_encode(const json_t *av, struct ows_buf *out)
{
	enum ows_ddb_type t = ows_ddb_type_of(av);
	const json_t *s = json_object_iter_value(json_object_iter((json_t *)av));
	struct ows_buf raw = OWS_BUF_INIT;
	struct ows_ddb_num n;
	int rc;

	switch (t) {
	case OWS_DDB_S:
		return put_escaped(out, TAG_S,
				   (const uint8_t *)json_string_value(s),
				   json_string_length(s));
	case OWS_DDB_N:
		if (ows_ddb_value_num(av, &n, NULL) != 0)
			return OWS_EINVAL;
		return put_num(out, &n);
	case OWS_DDB_B:
		rc = ows_ddb_b64_bytes(s, &raw);
		if (rc == 0)
			rc = put_escaped(out, TAG_B, (const uint8_t *)raw.data,
					 raw.len);
		ows_buf_free(&raw);
		return rc;
	default:
		return OWS_EINVAL;
	}
}

/* Undo put_escaped's body into raw; *used counts the terminator too. */
static int get_escaped(const uint8_t *p, size_t len, struct ows_buf *raw,
		       size_t *used)
{
	size_t i = 0, run = 0;

	for (;;) {
		if (i + 1 >= len)
			return OWS_EINVAL;
		if (p[i] != 0) {
			i++;
			continue;
		}
		if (ows_buf_append(raw, p + run, i - run) != 0)
			return -ENOMEM;
		if (p[i + 1] == 0x01) {
			*used = i + 2;
			return 0;
		}
		if (p[i + 1] != 0xff)
			return OWS_EINVAL;
		if (ows_buf_append(raw, "", 1) != 0)
			return -ENOMEM;
		i += 2;
		run = i;
	}
}

static int get_num(const uint8_t *p, size_t len, struct ows_ddb_num *n,
		   size_t *used)
{
	bool neg;
	size_t i;
	uint8_t b, x;

	memset(n, 0, sizeof(*n));
	if (len < 1)
		return OWS_EINVAL;
	if (p[0] == N_ZERO) {
		*used = 1;
		return 0;
	}
	if ((p[0] != N_POS && p[0] != N_NEG) || len < 3)
		return OWS_EINVAL;
	neg = p[0] == N_NEG;
	n->sign = neg ? -1 : 1;
	x = neg ? 0xff : 0;
	n->exp = (int)(uint8_t)(p[1] ^ x) + EXP_MIN;
	if (n->exp > EXP_MAX)
		return OWS_EINVAL;
	for (i = 2; i < len; i++) {
		b = p[i] ^ x;
		if (b == 0)
			break;
		if (b > 100 || n->n >= OWS_DDB_NUM_DIGITS)
			return OWS_EINVAL;
		n->d[n->n++] = (uint8_t)((b - 1) / 10);
		n->d[n->n++] = (uint8_t)((b - 1) % 10);
	}
	if (i == len || n->n == 0)
		return OWS_EINVAL;
	/* A lone last digit was written as (d, 0); no other zero may end. */
	if (n->d[n->n - 1] == 0)
		n->n--;
	if (n->d[0] == 0 || n->d[n->n - 1] == 0)
		return OWS_EINVAL;
	*used = i + 1;
	return 0;
}

static json_t *wrap(const char *type, json_t *s)
{
	json_t *av;

	if (s == NULL)
		return NULL;
	av = json_object();
	if (av == NULL || json_object_set_new(av, type, s) != 0) {
		json_decref(av);
		return NULL;
	}
	return av;
}

int ows_ddb_key_decode(const void *p, size_t len, json_t **out, size_t *used)
{
	const uint8_t *b = p;
	struct ows_buf raw = OWS_BUF_INIT;
	struct ows_ddb_num n;
	char *text = NULL;
	size_t u = 0;
	int rc;

	*out = NULL;
	if (len < 1)
		return OWS_EINVAL;
	if (b[0] == TAG_N) {
		rc = get_num(b + 1, len - 1, &n, &u);
		if (rc == 0) {
			*out = ows_ddb_value_from_num(&n);
			rc = *out ? 0 : -ENOMEM;
		}
		goto out;
	}
	if (b[0] != TAG_S && b[0] != TAG_B)
		return OWS_EINVAL;
	rc = get_escaped(b + 1, len - 1, &raw, &u);
	if (rc != 0)
		goto out;
	if (b[0] == TAG_S) {
		/* jansson refuses invalid UTF-8, and so do we. */
		*out = wrap("S", json_stringn(raw.data ? raw.data : "", raw.len));
		rc = *out ? 0 : OWS_EINVAL;
		goto out;
	}
	text = malloc(OWS_B64_LEN(raw.len));
	if (text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ows_b64_encode(raw.data ? raw.data : "", raw.len, text);
	*out = wrap("B", json_string(text));
	rc = *out ? 0 : -ENOMEM;
out:
	free(text);
	ows_buf_free(&raw);
	if (rc == 0)
		*used = u + 1;
	return rc;
}

uint32_t ows_ddb_key_hash(const void *enc, size_t len)
{
	const uint8_t *p = enc;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}
