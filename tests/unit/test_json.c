/*
 * Unit tests of OWS's JSON parser and compact dumper (src/common/json.c)
 * against jansson's own: every case is parsed by both, and must be refused
 * by both or accepted by both as the same tree (json_equal, the same types,
 * the same dump bytes, member order included); every tree dumped by both
 * must give the same bytes. The expected verdict written next to each case
 * is checked too, so a case documents what jansson does.
 */
#include "../lib/unit.h"

#include "common/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct json_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	bool ok;    /* accepted by json_loadb(REJECT_DUPLICATES|DECODE_ANY) */
};

#define OK(t) {t, sizeof(t) - 1, true}
#define NO(t) {t, sizeof(t) - 1, false}

static const struct json_case cases[] = {
	/* scalars at the top, white space everywhere */
	OK("0"), OK("-0"), OK("1"), OK("-1"), OK("true"), OK("false"),
	OK("null"), OK("\"\""), OK(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] } \r\n"),
	OK("[]"), OK("{}"), OK("[[],{},[{}]]"), OK("\"a/b\""),
	/* integers at and past json_int_t's range */
	OK("9223372036854775807"), OK("-9223372036854775808"),
	NO("9223372036854775808"), NO("-9223372036854775809"),
	NO("99999999999999999999999"), OK("99999999999999999999999.0"),
	OK("99999999999999999999999e0"), NO("[00.5e1]"),
	/* reals: '.', 'e', 'E' make a real; overflow refused, underflow not */
	OK("1.5"), OK("-0.0"), OK("1e5"), OK("1E5"), OK("1e+5"), OK("1e-5"),
	OK("0.1"), OK("1.7976931348623157e308"), NO("1e400"), NO("-1e400"),
	NO("1.8e308"), OK("1e-400"), OK("4.9e-324"), OK("123456789.123456789"),
	/* bad numbers */
	NO("01"), NO("-01"), NO("00"), NO("-"), NO("+1"), NO(".5"), NO("1."),
	NO("1.e5"), NO("1e"), NO("1e+"), NO("1E-"), NO("0x10"), NO("1.5.3"),
	NO("Infinity"), NO("NaN"), NO("-Infinity"), NO("[1 2]"),
	/* literals */
	NO("tru"), NO("truex"), NO("True"), NO("nul"), NO("[true1]"),
	NO("nullnull"),
	/* strings: escapes, surrogate pairs, UTF-8 */
	OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), OK("\"\\u0041\\u00e9\\u20AC\""),
	OK("\"\\ud83d\\ude00\""), OK("\"\\uD83D\\uDE00x\""),
	OK("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""), OK("\"\x7f\""),
	OK("\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""), OK("\"\\u0001\\u001f\""),
	OK("{\"\\u00e9\":\"\\n\",\"k\\\"ey\":[\"\\\\\"]}"),
	NO("\"\\u0000\""), NO("{\"a\\u0000\":1}"), NO("\"\\ud800\""),
	NO("\"\\udc00\""), NO("\"\\ud800\\u0041\""), NO("\"\\ud800x\""),
	NO("\"\\ud800\\ud800\""), NO("\"\\u12\""), NO("\"\\u12g4\""),
	NO("\"\\x41\""), NO("\"\\a\""), NO("\"\\'\""), NO("\"\\"), NO("\"abc"),
	NO("\"\x01\""), NO("\"\x1f\""), NO("\"a\nb\""), NO("\"\t\""),
	NO("\"\x80\""), NO("\"\xc0\x80\""), NO("\"\xc1\xbf\""),
	NO("\"\xe0\x80\x80\""), NO("\"\xed\xa0\x80\""), NO("\"\xf4\x90\x80\x80\""),
	NO("\"\xf5\x80\x80\x80\""), NO("\"\xff\""), NO("\"\xc3\""),
	NO("\"\xe2\x82\""), NO("\"\xc3\x28\""), NO("\"\xf0\x9f\x98\""),
	NO("\xc3\xa9"), NO("[\"a\"]\xc3\xa9"), NO("\xef\xbb\xbf{}"),
	/* NUL bytes: in strings never; one right after a number or a literal
	   is swallowed by jansson's push-back and accepted */
	NO("\"a\0b\""), NO("\0"), NO("[\0]"), NO("{}\0"), NO("[1]\0"),
	NO("\"a\"\0"), OK("1\0"), OK("[1\0,2]"), OK("true\0"), OK("[null\0]"),
	OK("1.5\0"), OK("{\"a\":0\0}"), NO("1\0\0"), NO("[1,\0 2]"),
	/* structure */
	NO(""), NO(" "), NO("\n\t"), NO("["), NO("]"), NO("{"), NO("[1,]"),
	NO("[,1]"), NO("{\"a\":1,}"), NO("{,}"), NO("{\"a\"}"), NO("{\"a\":}"),
	NO("{\"a\" 1}"), NO("{1:2}"), NO("{a:1}"), NO("[1]]"), NO("{}}"),
	NO("[1] x"), NO("1 2"), NO("\"a\" \"b\""), NO("[1;2]"), NO("//"),
	NO("/*x*/1"), NO("[1\x0b]"), NO("[1\x0c]"),
	/* duplicate keys, at every level */
	NO("{\"a\":1,\"a\":2}"), NO("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}"),
	NO("{\"\\u0061\":1,\"a\":2}"), OK("{\"a\":{\"a\":{\"a\":1}}}"),
	OK("{\"a\":1,\"A\":2,\"a \":3}"),
};

/* Same tree: json_equal, and the same dump (types, order, -0.0). */
static void check_same_tree(const json_t *a, const json_t *b)
{
	char *da, *db;

	OWS_CHECK(json_equal(a, b));
	da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
	db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
	OWS_CHECK(da != NULL && db != NULL);
	OWS_CHECK_STR(da, db);
	free(da);
	free(db);
}

/* ows_json_dump and json_dumps give the same bytes (or both fail). */
static void check_same_dump(const json_t *v)
{
	char *ours = ows_json_dump(v);
	char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	OWS_CHECK((ours == NULL) == (theirs == NULL));
	if (ours != NULL)
		OWS_CHECK_STR(ours, theirs);
	free(ours);
	free(theirs);
	ours = ows_json_dumps(v, JSON_COMPACT);
	theirs = json_dumps(v, JSON_COMPACT);
	OWS_CHECK((ours == NULL) == (theirs == NULL));
	if (ours != NULL)
		OWS_CHECK_STR(ours, theirs);
	free(ours);
	free(theirs);
}

/* Both parsers agree on text under flags; returns whether they accepted. */
static bool check_agree(const char *text, size_t len, size_t flags)
{
	struct ows_err err = {""};
	json_t *ours = ows_json_loadb(text, len, flags, &err);
	json_t *theirs = json_loadb(text, len, flags, NULL);

	if ((ours == NULL) != (theirs == NULL))
		fprintf(stderr, "disagree on '%.*s' (flags %zx): ours %s, "
			"jansson %s\n", (int)len, text, flags,
			ours ? "accepts" : err.msg,
			theirs ? "accepts" : "refuses");
	OWS_CHECK((ours == NULL) == (theirs == NULL));
	if (ours == NULL) {
		OWS_CHECK(strncmp(err.msg, "invalid JSON at line ", 21) == 0);
		return false;
	}
	check_same_tree(ours, theirs);
	check_same_dump(ours);
	json_decref(ours);
	json_decref(theirs);
	return true;
}

OWS_TEST(json_parse_agrees_with_jansson)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct json_case *c = &cases[i];
		bool ok = check_agree(c->text, c->len, JSON_REJECT_DUPLICATES |
				      JSON_DECODE_ANY);

		if (ok != c->ok)
			fprintf(stderr, "case %zu '%s': expected %s\n", i,
				c->text, c->ok ? "accept" : "refuse");
		OWS_CHECK(ok == c->ok);
		check_agree(c->text, c->len, 0);
		check_agree(c->text, c->len, JSON_DECODE_ANY);
		check_agree(c->text, c->len, JSON_REJECT_DUPLICATES);
	}
}

OWS_TEST(json_parse_types_integers_and_reals)
{
	json_t *v = ows_json_parse("[-0,0.0,-0.0,1e2,7,-9223372036854775808]",
				   40, NULL);

	OWS_CHECK(v != NULL);
	OWS_CHECK(json_is_integer(json_array_get(v, 0)));
	OWS_CHECK_INT(json_integer_value(json_array_get(v, 0)), 0);
	OWS_CHECK(json_is_real(json_array_get(v, 1)));
	OWS_CHECK(json_is_real(json_array_get(v, 2)));
	OWS_CHECK(json_is_real(json_array_get(v, 3)));
	OWS_CHECK(json_real_value(json_array_get(v, 3)) == 100.0);
	OWS_CHECK(json_is_integer(json_array_get(v, 4)));
	OWS_CHECK(json_integer_value(json_array_get(v, 5)) == INT64_MIN);
	json_decref(v);
}

OWS_TEST(json_parse_duplicates_last_wins_without_the_flag)
{
	const char *t = "{\"a\":1,\"b\":2,\"a\":3}";
	struct ows_err err = {""};
	json_t *v = ows_json_loadb(t, strlen(t), 0, &err);
	char *d;

	OWS_CHECK(v != NULL);
	d = ows_json_dump(v);
	OWS_CHECK_STR(d, "{\"a\":3,\"b\":2}");
	free(d);
	json_decref(v);
	OWS_CHECK(ows_json_parse(t, strlen(t), &err) == NULL);
	OWS_CHECK(strstr(err.msg, "duplicate object key") != NULL);
	/* ows_json_loads: json_loads's reading, up to the NUL; NULL refused */
	v = ows_json_loads("{\"a\":1,\"a\":2}", 0, &err);
	OWS_CHECK(json_integer_value(json_object_get(v, "a")) == 2);
	json_decref(v);
	OWS_CHECK(ows_json_loads(NULL, 0, &err) == NULL);
	OWS_CHECK(ows_json_loads("", 0, &err) == NULL);
	v = ows_json_loads("1", JSON_DECODE_ANY, &err);
	OWS_CHECK(json_integer_value(v) == 1);
	json_decref(v);
	/* flags 0: the top must be an object or an array */
	OWS_CHECK(ows_json_loadb("1", 1, 0, &err) == NULL);
	OWS_CHECK(ows_json_loadb("\"a\"", 3, JSON_REJECT_DUPLICATES, &err) ==
		  NULL);
}

/* depth levels of '[' around inner, then as many ']'. */
static char *nested(int depth, const char *inner, size_t *len)
{
	size_t n = strlen(inner);
	char *t = malloc(2 * (size_t)depth + n + 1);

	memset(t, '[', (size_t)depth);
	memcpy(t + depth, inner, n);
	memset(t + depth + n, ']', (size_t)depth);
	*len = 2 * (size_t)depth + n;
	t[*len] = '\0';
	return t;
}

OWS_TEST(json_parse_depth_limit_as_jansson)
{
	/* jansson counts every value, scalars too, against 2048 */
	static const struct {
		int depth;
		const char *inner;
		bool ok;
	} d[] = {
		{2048, "", true},      {2049, "", false},
		{2047, "1", true},     {2048, "1", false},
		{2047, "{}", true},    {2048, "{}", false},
		{2046, "{\"a\":1}", true}, {2047, "{\"a\":1}", false},
		{100000, "", false},
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		size_t len;
		char *t = nested(d[i].depth, d[i].inner, &len);
		bool ok = check_agree(t, len, JSON_REJECT_DUPLICATES |
				      JSON_DECODE_ANY);

		OWS_CHECK(ok == d[i].ok);
		free(t);
	}
}

OWS_TEST(json_parse_error_message_form)
{
	struct ows_err err = {""};

	OWS_CHECK(ows_json_parse("{\"a\":\n  tru}", 12, &err) == NULL);
	OWS_CHECK_STR(err.msg, "invalid JSON at line 2 column 3: invalid token");
	OWS_CHECK(ows_json_parse("", 0, &err) == NULL);
	OWS_CHECK(strncmp(err.msg, "invalid JSON at line 1 column 1: ", 33) ==
		  0);
	OWS_CHECK(ows_json_parse("[1e999]", 7, &err) == NULL);
	OWS_CHECK(strstr(err.msg, "real number overflow") != NULL);
	OWS_CHECK(ows_json_parse("99999999999999999999", 20, &err) == NULL);
	OWS_CHECK(strstr(err.msg, "too big integer") != NULL);
}

/* Long strings cross the eight-byte scans at every offset and escape. */
OWS_TEST(json_long_strings_every_offset)
{
	static const char *const specials[] = {
		"\\n", "\\\"", "\\\\", "\\u0007", "\xc3\xa9", "\xf0\x9f\x98\x80",
		"\\ud83d\\ude00", "/", "\x7f", "\\/",
	};
	char text[256];

	for (size_t s = 0; s < sizeof(specials) / sizeof(specials[0]); s++)
		for (int pre = 0; pre < 20; pre++)
			for (int post = 0; post < 12; post += 3) {
				int n = snprintf(text, sizeof(text),
						 "{\"k%.*s\":\"%.*s%s%.*s\"}",
						 pre, "abcdefghijklmnopqrstu",
						 pre, "ABCDEFGHIJKLMNOPQRSTU",
						 specials[s], post,
						 "0123456789abc");

				OWS_CHECK(check_agree(text, (size_t)n,
						      JSON_REJECT_DUPLICATES |
						      JSON_DECODE_ANY));
			}
}

OWS_TEST(json_dump_matches_jansson)
{
	json_t *o = json_object(), *a = json_array();
	char bytes[300];
	size_t n = 0;

	/* every byte value that a string can hold, as jansson escapes it */
	for (int c = 1; c < 0x80; c++)
		bytes[n++] = (char)c;
	json_object_set_new(o, "ascii", json_stringn(bytes, n));
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	json_object_set_new(o, "z", json_integer(INT64_MIN));
	json_object_set_new(o, "a", json_integer(INT64_MAX));
	json_object_set_new(o, "m", a);
	json_object_set_new(o, "/\"\\\x1f", json_true());
	for (int i = -3; i < 3; i++)
		json_array_append_new(a, json_integer(i));
	json_array_append_new(a, json_real(0.1));
	json_array_append_new(a, json_real(-0.0));
	json_array_append_new(a, json_real(1e300));
	json_array_append_new(a, json_real(1e-7));
	json_array_append_new(a, json_real(100.0));
	json_array_append_new(a, json_real(5e-324));
	json_array_append_new(a, json_null());
	json_array_append_new(a, json_false());
	json_array_append_new(a, json_object());
	json_array_append_new(a, json_array());
	json_array_append_new(a, json_string("\xe2\x80\xa8\xf4\x8f\xbf\xbf"));
	/* the last of a replaced key keeps the first one's place */
	json_object_set_new(o, "z", json_string("again"));
	check_same_dump(o);
	check_same_dump(a);
	check_same_dump(json_array_get(a, 0));
	check_same_dump(json_array_get(a, 6));
	json_decref(o);
}

OWS_TEST(json_dump_refuses_what_jansson_refuses)
{
	json_t *bad = json_stringn_nocheck("ok\xc3", 3);
	json_t *o = json_object(), *a = json_array(), *b = json_array();
	char *t;

	/* not UTF-8, as a value (refused) and as a key (jansson writes the
	   key cut short after its last escape, unterminated, and goes on) */
	check_same_dump(bad);
	OWS_CHECK(ows_json_dump(bad) == NULL);
	json_object_set_new_nocheck(o, "\xff", json_true());
	json_object_set_new_nocheck(o, "a\nb\"c\xc3", json_false());
	json_object_set_new_nocheck(o, "d", json_null());
	t = ows_json_dump(o);
	OWS_CHECK_STR(t, "{\":true,\"a\\nb\\\":false,\"d\":null}");
	free(t);
	check_same_dump(o);
	/* a cycle: jansson's own check, through the depth fallback */
	json_array_append(a, b);
	json_array_append(b, a);
	OWS_CHECK(ows_json_dump(a) == NULL);
	json_array_clear(b);
	/* NULL, and scalars without JSON_ENCODE_ANY */
	OWS_CHECK(ows_json_dump(NULL) == NULL);
	OWS_CHECK(ows_json_dumps(bad, JSON_COMPACT) == NULL);
	t = ows_json_dumps(json_true(), JSON_COMPACT);
	OWS_CHECK(t == NULL);
	json_decref(a);
	json_decref(b);
	json_decref(o);
	json_decref(bad);
}

OWS_TEST(json_dump_deep_trees_as_jansson)
{
	size_t len;
	char *t = nested(2048, "", &len);
	json_t *v = ows_json_parse(t, len, NULL), *deep = json_array();

	OWS_CHECK(v != NULL);
	check_same_dump(v);
	/* deeper than the parser allows, and than the dumper's own limit */
	for (int i = 0; i < 6000; i++) {
		json_t *up = json_array();

		json_array_append_new(up, deep);
		deep = up;
	}
	check_same_dump(deep);
	json_decref(deep);
	json_decref(v);
	free(t);
}

/*
 * Reals: the parser's exact fast path and the dumper's integral one must
 * give strtod's values and jansson's digits, at their edges and over many
 * pseudo-random decimals (a fixed seed: the same cases each run).
 */
OWS_TEST(json_reals_as_jansson)
{
	static const char *const edge[] = {
		"1.0", "-0.0", "0.0", "-5.0", "0.1", "0.25", "3.14159",
		"9007199254740992.0", "9007199254740993.0", "9007199254740991.5",
		"0.0000000000000000000001", "0.00000000000000000000001",
		"1.00000000000000000000001", "123456789012345.0",
		"999999999999999.0", "1000000000000000.0", "1e15", "1e16",
		"123456789012345680.0", "-1.5e-7", "2.5E+3", "0.30000000000000004",
	};
	uint64_t x = 88172645463325252ULL;
	char text[64];

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		OWS_CHECK(check_agree(edge[i], strlen(edge[i]),
				      JSON_DECODE_ANY));
	for (int i = 0; i < 20000; i++) {
		int n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = snprintf(text, sizeof(text), "%s%llu.%0*llu",
			     (x & 1) ? "-" : "", (unsigned long long)(x >> 40),
			     (int)(x >> 8 & 15) + 1,
			     (unsigned long long)((x >> 12) % 100000000000ULL));
		OWS_CHECK(check_agree(text, (size_t)n, JSON_DECODE_ANY));
	}
	for (int i = -40; i < 40; i++) {
		json_t *r = json_real((double)i * 1234567.0);

		check_same_dump(r);
		json_decref(r);
	}
}

/* ows_json_parse_counted counts every value of the tree, the top, the
   containers and the scalars, makes the same tree as ows_json_parse, and
   stops past max_values (here exactly the count: each case passes). */
OWS_TEST(json_parse_counted_counts_every_value)
{
	static const struct {
		const char *text;
		size_t values;
	} c[] = {
		{"1", 1}, {"{}", 1}, {"[]", 1}, {"\"a\"", 1},
		{"{\"a\":[1,2,{\"b\":null}]}", 6},
		{"[{\"NULL\":true},{\"NULL\":true}]", 5},
		{" [ [ [ ] ] , \"x,y:[z]\" ] ", 4},
	};
	struct ows_err err = {{0}};
	size_t values;
	json_t *a, *b;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		a = ows_json_parse_counted(c[i].text, strlen(c[i].text),
					   c[i].values, &values, &err);
		b = ows_json_parse(c[i].text, strlen(c[i].text), NULL);
		OWS_CHECK(a != NULL && json_equal(a, b));
		OWS_CHECK(values == c[i].values);
		json_decref(a);
		json_decref(b);
	}
	OWS_CHECK(ows_json_parse_counted("[1,2,", 5, SIZE_MAX, &values,
					 &err) == NULL);
	OWS_CHECK(values == 3 && strstr(err.msg, "invalid JSON") != NULL);
	/* one value past max_values stops the parse there */
	OWS_CHECK(ows_json_parse_counted("[1,2,[3]]", 9, 4, &values,
					 &err) == NULL);
	OWS_CHECK(values == 5 && strstr(err.msg, "too many values") != NULL);
	a = ows_json_parse_counted("[1,2,[3]]", 9, 5, &values, &err);
	OWS_CHECK(a != NULL && values == 5);
	json_decref(a);
}
