/*
 * Fuzz target for DynamoDB's values (src/ddb/ddb_value.h). The bytes are
 * read three ways:
 *   - as JSON: an object is checked as an item (ows_ddb_item_check); a
 *     valid one must encode, decode to the same JSON, re-encode to the same
 *     bytes, equal itself, and each S, N or B attribute must key-encode and
 *     decode to an equal value; an array of strings is read as numbers,
 *     whose order (ows_ddb_num_cmp) must agree with their key encodings
 *     and whose sums must stay valid;
 *   - as a stored item encoding (ows_ddb_item_decode), untrusted;
 *   - as a key encoding (ows_ddb_key_decode).
 * Besides not crashing, every promise above aborts when broken.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/ddb_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int bufcmp(const struct ows_buf *a, const struct ows_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void key_round_trip(const json_t *av)
{
	struct ows_buf k = OWS_BUF_INIT;
	json_t *back = NULL;
	size_t used = 0;

	if (ows_ddb_key_encode(av, &k) != 0)
		return;
	if (ows_ddb_key_decode(k.data, k.len, &back, &used) != 0 ||
	    used != k.len || !ows_ddb_value_equal(av, back))
		abort();
	json_decref(back);
	ows_buf_free(&k);
}

static void item_round_trip(json_t *item)
{
	struct ows_buf a = OWS_BUF_INIT, b = OWS_BUF_INIT;
	struct ows_err err = {""};
	const char *k;
	json_t *v, *back;

	if (ows_ddb_item_check(item, &err) != 0)
		return;
	if (ows_ddb_item_size(item) > OWS_DDB_ITEM_MAX)
		abort();
	if (ows_ddb_item_encode(item, &a) != 0)
		abort();
	back = ows_ddb_item_decode(a.data, a.len);
	if (back == NULL || !json_equal(item, back))
		abort();
	if (ows_ddb_item_encode(back, &b) != 0 || bufcmp(&a, &b) != 0)
		abort();
	json_object_foreach(item, k, v) {
		if (!ows_ddb_value_equal(v, json_object_get(back, k)))
			abort();
		key_round_trip(v);
	}
	json_decref(back);
	ows_buf_free(&a);
	ows_buf_free(&b);
}

static void numbers(const json_t *arr)
{
	struct ows_ddb_num n[2], r;
	struct ows_buf k[2] = {OWS_BUF_INIT, OWS_BUF_INIT};
	size_t i, got = 0;

	for (i = 0; i < json_array_size(arr) && got < 2; i++) {
		const json_t *s = json_array_get(arr, i);
		json_t *av;

		if (!json_is_string(s) ||
		    ows_ddb_num_parse(json_string_value(s), json_string_length(s),
				      &n[got], NULL) != 0)
			continue;
		av = ows_ddb_value_from_num(&n[got]);
		if (av == NULL || ows_ddb_key_encode(av, &k[got]) != 0)
			abort();
		json_decref(av);
		got++;
	}
	if (got == 2) {
		int c = ows_ddb_num_cmp(&n[0], &n[1]), kc = bufcmp(&k[0], &k[1]);

		if ((c < 0) != (kc < 0) || (c == 0) != (kc == 0) ||
		    ows_ddb_num_cmp(&n[1], &n[0]) != -c)
			abort();
		/* a + b - b is a when nothing was rounded away: check the range. */
		if (ows_ddb_num_add(&n[0], &n[1], &r, NULL) == 0) {
			char text[256];
			struct ows_ddb_num again;
			size_t len = ows_ddb_num_format(&r, text, sizeof(text));

			if (ows_ddb_num_parse(text, len, &again, NULL) != 0 ||
			    ows_ddb_num_cmp(&again, &r) != 0)
				abort();
		}
		(void)ows_ddb_num_sub(&n[0], &n[1], &r, NULL);
	}
	ows_buf_free(&k[0]);
	ows_buf_free(&k[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc, *v;
	size_t used;

	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (json_is_object(doc))
		item_round_trip(doc);
	else if (json_is_array(doc))
		numbers(doc);
	json_decref(doc);
	v = ows_ddb_item_decode(data, size);
	json_decref(v);
	if (ows_ddb_key_decode(data, size, &v, &used) == 0) {
		if (used > size)
			abort();
		json_decref(v);
	}
	return 0;
}
