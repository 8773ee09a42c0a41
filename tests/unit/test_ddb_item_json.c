/*
 * Unit tests of ows_ddb_item_json (src/ddb/codec.c), the writer GetItem
 * answers with: for any bytes, stored or not, it must give exactly what
 * ows_ddb_item_decode and then ows_json_dump give (the text byte for
 * byte, the item's ows_ddb_item_size), or refuse what decode refuses and
 * leave the buffer as it was. Compared over hand-made items of every
 * type (nesting, unicode, escapes, binaries), thousands of random items,
 * mutations of their encodings, and encodings no write makes (names
 * repeated, bad UTF-8, nesting past the limit).
 */
#include "../lib/unit.h"

#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "ddb/ddb_value.h"

#include <stdlib.h>

#define PREFIX "{\"Item\":"

/* ows_ddb_item_json(p, len) agrees with decode + dump: true when it does. */
static bool agrees(const void *p, size_t len, bool *valid)
{
	struct ows_buf out = OWS_BUF_INIT;
	json_t *item = ows_ddb_item_decode(p, len);
	char *want = item ? ows_json_dump(item) : NULL;
	size_t size = 12345;
	bool ok;
	int rv;

	ows_buf_puts(&out, PREFIX);
	rv = ows_ddb_item_json(p, len, &out, &size);
	if (item == NULL) {
		ok = rv == OWS_EINVAL && out.len == strlen(PREFIX) &&
		     strcmp(out.data, PREFIX) == 0 && size == 12345;
	} else {
		ok = rv == 0 && want != NULL &&
		     out.len == strlen(PREFIX) + strlen(want) &&
		     strcmp(out.data + strlen(PREFIX), want) == 0 &&
		     size == ows_ddb_item_size(item);
		if (!ok)
			fprintf(stderr, "want %s (%zu)\ngot  %s (%zu, rv %d)\n",
				want, ows_ddb_item_size(item),
				out.data + strlen(PREFIX), size, rv);
	}
	if (valid != NULL)
		*valid = item != NULL;
	free(want);
	json_decref(item);
	ows_buf_free(&out);
	return ok;
}

/* Encode the item's JSON text and compare; the item must encode. */
static void agrees_item(const char *text)
{
	json_t *item = json_loads(text, 0, NULL);
	struct ows_buf b = OWS_BUF_INIT;
	bool valid = false;

	OWS_CHECK(item != NULL);
	OWS_CHECK_INT(ows_ddb_item_encode(item, &b), 0);
	OWS_CHECK(agrees(b.data, b.len, &valid));
	OWS_CHECK(valid);
	json_decref(item);
	ows_buf_free(&b);
}

OWS_TEST(ddb_item_json_every_type)
{
	agrees_item("{\"pk\": {\"S\": \"user#1\"}, \"n\": {\"N\": \"-12.5\"}, "
		    "\"b\": {\"B\": \"AAEC/w==\"}, \"t\": {\"BOOL\": true}, "
		    "\"f\": {\"BOOL\": false}, \"z\": {\"NULL\": true}, "
		    "\"ss\": {\"SS\": [\"x\", \"y\"]}, \"ns\": {\"NS\": [\"1\", "
		    "\"0.001\", \"-1E+125\"]}, \"bs\": {\"BS\": [\"AA==\", \"\", "
		    "\"AAE=\", \"AAEC\"]}, \"m\": {\"M\": {\"l\": {\"L\": [{\"S\": "
		    "\"\"}, {\"M\": {}}, {\"L\": []}, {\"N\": \"0\"}, {\"M\": "
		    "{\"deep\": {\"SS\": [\"\\u00e9\"]}, \"\": {\"NULL\": true}}}]}}}, "
		    "\"e\": {\"S\": \"\"}, \"eb\": {\"B\": \"\"}}");
	/* Unicode, escapes and what is not escaped, in values and names. */
	agrees_item("{\"k\\u00e9\\u65e5\": {\"S\": \"caf\\u00e9 \\u65e5\\u672c "
		    "\\ud83d\\ude00 \\\" \\\\ / \\n\\r\\t\\b\\f \\u0001\\u001f "
		    "\\u007f \\u2028\"}, \"q\\\"\\\\/\\n\\u0002\": {\"SS\": "
		    "[\"x\", \"\\t\", \"\\ud800\\udc00\"]}, \"m\": {\"M\": "
		    "{\"\\u00ff\\n\": {\"S\": \"\\\"\\\"\"}}}}");
	agrees_item("{\"only\": {\"N\": \"1.50\"}}");
	agrees_item("{\"x\": {\"NS\": [\"+.5\", \"1e3\", \"-0\", \"00012\"]}}");
}

OWS_TEST(ddb_item_json_long_strings_and_many_members)
{
	struct ows_buf t = OWS_BUF_INIT;

	/* Over the dumper's 16-byte runs, escapes at every offset. */
	ows_buf_puts(&t, "{\"s\": {\"S\": \"");
	for (int i = 0; i < 300; i++)
		ows_buf_puts(&t, i % 17 == 0 ? "\\n" : i % 13 == 0 ? "\\u00e9"
			     : i % 11 == 0 ? "\\\"" : "abc");
	ows_buf_puts(&t, "\"}");
	/* More members than the names kept on the stack (17..40). */
	for (int i = 0; i < 40; i++)
		ows_buf_printf(&t, ", \"a%d\": {\"M\": {\"x%d\": {\"N\": \"%d\"}}}",
			       i, i, i * 7);
	ows_buf_puts(&t, "}");
	agrees_item(t.data);
	ows_buf_free(&t);
}

/* ---- random items ---- */

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const char *const pieces[] = {
	"a", "Z", "0", " ", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80",
	"\"", "\\", "/", "\n", "\x01", "\x1f", "\x7f", "\t", "\xe2\x80\xa8",
	"abcdefghijklmnopq",
};
static const char *const numbers[] = {
	"0", "1", "-1", "12.5", "0.001", "1E+125", "-9.9E-130", "1.50",
	"123456789012345678901234567890.12345678", "+7", "5e-3",
};

static json_t *rand_string(uint64_t *x, bool allow_empty)
{
	char s[256];
	size_t len = 0, n = next(x) % 12 + !allow_empty;

	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next(x) % (sizeof(pieces) /
						  sizeof(pieces[0]))];

		if (len + strlen(p) >= sizeof(s))
			break;
		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	return json_stringn(s, len);
}

static json_t *rand_b64(uint64_t *x)
{
	uint8_t raw[40];
	char text[OWS_B64_LEN(sizeof(raw))];
	size_t len = next(x) % sizeof(raw);

	for (size_t i = 0; i < len; i++)
		raw[i] = (uint8_t)next(x);
	ows_b64_encode(raw, len, text);
	return json_string(text);
}

static json_t *rand_value(uint64_t *x, int depth);

static json_t *rand_map(uint64_t *x, int depth, bool item)
{
	json_t *m = json_object();
	size_t n = next(x) % (item ? 20 : 5) + item;

	for (size_t i = 0; i < n; i++) {
		json_t *k = rand_string(x, !item);

		json_object_set_new(m, json_string_value(k),
				    rand_value(x, depth + 1));
		json_decref(k);
	}
	return m;
}

static json_t *rand_value(uint64_t *x, int depth)
{
	static const char *const types[] = {"S", "N", "B", "BOOL", "NULL",
					    "M", "L", "SS", "NS", "BS"};
	size_t t = next(x) % (depth > 6 ? 5 : 10), n;
	json_t *v = NULL, *av = json_object();

	switch (t) {
	case 0: v = rand_string(x, true); break;
	case 1: v = json_string(numbers[next(x) % 11]); break;
	case 2: v = rand_b64(x); break;
	case 3: v = json_boolean(next(x) & 1); break;
	case 4: v = json_true(); break;
	case 5: v = rand_map(x, depth, false); break;
	default:
		v = json_array();
		n = next(x) % 4 + (t != 6);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(v, t == 6 ? rand_value(x, depth + 1)
					      : t == 7 ? rand_string(x, true)
					      : t == 8 ? json_string(numbers[
							next(x) % 11])
					      : rand_b64(x));
		break;
	}
	json_object_set_new(av, types[t], v);
	return av;
}

OWS_TEST(ddb_item_json_random_items_and_mutations)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t valid_mutants = 0;

	for (int round = 0; round < 3000; round++) {
		json_t *item = rand_map(&x, 0, true);
		struct ows_buf b = OWS_BUF_INIT;
		bool valid;

		OWS_CHECK_INT(ows_ddb_item_encode(item, &b), 0);
		OWS_CHECK(agrees(b.data, b.len, &valid));
		OWS_CHECK(valid);
		/* Mutants and cuts: both refuse, or both give the same. */
		for (int k = 0; k < 8 && b.len > 0; k++) {
			uint8_t *p = malloc(b.len);
			size_t len = b.len;

			memcpy(p, b.data, b.len);
			p[next(&x) % b.len] ^= (uint8_t)(next(&x) | 1);
			if (k & 1)
				p[next(&x) % b.len] = (uint8_t)(next(&x) % 12);
			if (k == 7)
				len = next(&x) % b.len;
			OWS_CHECK(agrees(p, len, &valid));
			valid_mutants += valid;
			free(p);
		}
		json_decref(item);
		ows_buf_free(&b);
	}
	/* the mutations reach past the first byte */
	OWS_CHECK(valid_mutants > 100);
}

/* ---- encodings no write makes ---- */

static void put(struct ows_buf *b, const char *bytes, size_t len)
{
	ows_buf_append(b, bytes, len);
}

/* varint(len) name, as codec.c writes a name or a string. */
static void put_lstr(struct ows_buf *b, const char *s)
{
	uint8_t n = (uint8_t)strlen(s);

	put(b, (const char *)&n, 1);
	put(b, s, strlen(s));
}

OWS_TEST(ddb_item_json_repeated_names_take_the_tree)
{
	struct ows_buf b = OWS_BUF_INIT;
	bool valid;

	/* {a: S "1", b: S "2", a: S "3"}: jansson keeps a once, "3" first */
	put(&b, "\x03", 1);
	put_lstr(&b, "a"), put(&b, "\x01", 1), put_lstr(&b, "1");
	put_lstr(&b, "b"), put(&b, "\x01", 1), put_lstr(&b, "2");
	put_lstr(&b, "a"), put(&b, "\x01", 1), put_lstr(&b, "3");
	OWS_CHECK(agrees(b.data, b.len, &valid));
	OWS_CHECK(valid);
	/* the same inside a map, among more names than the stack holds */
	ows_buf_reset(&b);
	put(&b, "\x01", 1);
	put_lstr(&b, "m"), put(&b, "\x06", 1), put(&b, "\x14", 1);
	for (int i = 0; i < 20; i++) {
		char name[8];

		snprintf(name, sizeof(name), "n%d", i == 19 ? 3 : i);
		put_lstr(&b, name), put(&b, "\x04\x01", 2);
	}
	OWS_CHECK(agrees(b.data, b.len, &valid));
	OWS_CHECK(valid);
	/* and the repeat inside a bad item is refused */
	put(&b, "\x00", 1);
	OWS_CHECK(agrees(b.data, b.len, &valid));
	OWS_CHECK(!valid);
	ows_buf_free(&b);
}

OWS_TEST(ddb_item_json_refuses_what_decode_refuses)
{
	static const struct {
		const char *p;
		size_t len;
	} bad[] = {
		{"\x01\x01" "a" "\x01\x02\xc0\x80", 8},     /* overlong */
		{"\x01\x01" "a" "\x01\x03\xed\xa0\x80", 9}, /* surrogate */
		{"\x01\x01" "a" "\x01\x01\xff", 6},         /* not UTF-8 */
		{"\x01\x02\xc3" "a" "\x05", 5},             /* bad name */
		{"\x01\x02" "a\0" "\x05", 5},               /* NUL in name */
		{"\x01\x00\x05", 3},                        /* empty name */
		{"\x01\x01" "a" "\x02\x02" "1x", 7},        /* not a number */
		{"\x01\x01" "a" "\x04\x02", 5},             /* BOOL 2 */
		{"\x01\x01" "a" "\x08\x00", 5},             /* empty set */
		{"\x01\x01" "a" "\x0b", 4},                 /* no such tag */
		{"\x01\x01" "a" "\x00", 4},                 /* NONE */
		{"\x02\x01" "a" "\x05", 4},                 /* count too big */
		{"\x01\x01" "a" "\x05" "x", 5},             /* trailing byte */
		{"", 0},                                    /* nothing */
	};
	struct ows_buf deep = OWS_BUF_INIT;
	bool valid = true;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		OWS_CHECK(agrees(bad[i].p, bad[i].len, &valid));
		OWS_CHECK(!valid);
	}
	/* The empty item is one, and a NUL in a value is text. */
	OWS_CHECK(agrees("\x00", 1, &valid));
	OWS_CHECK(valid);
	OWS_CHECK(agrees("\x01\x01" "a" "\x01\x02" "\0b", 7, &valid));
	OWS_CHECK(valid);
	/* Nesting: up to the limit decodes, one more is refused. */
	for (int levels = 30; levels <= 36; levels++) {
		ows_buf_reset(&deep);
		put(&deep, "\x01", 1);
		put_lstr(&deep, "a");
		for (int i = 0; i < levels; i++)
			put(&deep, i % 2 ? "\x06\x01\x01x" : "\x07\x01", i % 2
			    ? 4 : 2);
		put(&deep, "\x05", 1);
		OWS_CHECK(agrees(deep.data, deep.len, &valid));
	}
	ows_buf_free(&deep);
}
