/*
 * Unit tests of DynamoDB's values (src/ddb/ddb_value.h): numbers (parse,
 * canonical text, order, exact sums at 38 digits, range and messages),
 * the AttributeValue and item checks with DynamoDB's messages, equality,
 * sizes, the order-preserving key encoding and the item codec.
 *
 * ddb_numbers_file is also the helper of tests/integration/
 * test_ddb_numbers.py: with OWS_DDB_NUMS naming a file of numbers (one a
 * line) it writes to OWS_DDB_NUMS_OUT, per line, "ok CANONICAL HEXKEY" or
 * "err MESSAGE", which Python compares with its decimal module.
 */
#include "../lib/unit.h"

#include "common/buf.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "ddb/ddb_value.h"

#include <stdlib.h>

static char *canon_num(const char *text)
{
	static char out[256];
	struct ows_ddb_num n;
	struct ows_err err = {""};

	if (ows_ddb_num_parse(text, strlen(text), &n, &err) != 0) {
		snprintf(out, sizeof(out), "ERR %s", err.msg);
		return out;
	}
	ows_ddb_num_format(&n, out, sizeof(out));
	return out;
}

static const char *num_err(const char *text)
{
	static struct ows_err err;
	struct ows_ddb_num n;

	err.msg[0] = '\0';
	OWS_CHECK_INT(ows_ddb_num_parse(text, strlen(text), &n, &err), OWS_EINVAL);
	return err.msg;
}

OWS_TEST(ddb_num_canonical_text)
{
	static const char *cases[][2] = {
		{"1.50", "1.5"},       {"-0", "0"},          {"0", "0"},
		{"+0.000", "0"},       {"0e999999", "0"},    {"1E2", "100"},
		{"1e+2", "100"},       {"15E-1", "1.5"},     {"0.000123", "0.000123"},
		{"-12.50", "-12.5"},   {"+.5", "0.5"},       {"5.", "5"},
		{"007", "7"},          {"100", "100"},       {"-1E-3", "-0.001"},
		{"123.456e1", "1234.56"},
		{"9.9999999999999999999999999999999999999E+125",
		 "999999999999999999999999999999999999990000000000000000000000"
		 "000000000000000000000000000000000000000000000000000000000000"
		 "000000"},
		{"12345678901234567890123456789012345678",
		 "12345678901234567890123456789012345678"},
		{"0.00000000000000000000000000000000000000000000000001000",
		 "0.00000000000000000000000000000000000000000000000001"},
		{"1000000000000000000000000000000000000000000000000000",
		 "1000000000000000000000000000000000000000000000000000"},
	};

	char tiny[200] = "0.";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OWS_CHECK_STR(canon_num(cases[i][0]), cases[i][1]);
	/* 1E-130: 129 zeros after the point, then the 1. */
	memset(tiny + 2, '0', 129);
	strcpy(tiny + 131, "1");
	OWS_CHECK_STR(canon_num("1E-130"), tiny);
	tiny[0] = '-';
	memmove(tiny + 1, tiny, strlen(tiny) + 1);
	tiny[0] = '-';
	tiny[1] = '0';
	OWS_CHECK_STR(canon_num("-0.1e-129"), tiny);
}

OWS_TEST(ddb_num_parse_errors_have_dynamodb_messages)
{
	static const char *bad[] = {"", "abc", " 7", "7 ", "1e", "1e+", "--1",
				    ".", "-", "1.2.3", "0x10", "NaN", "Infinity",
				    "1,5", "1e2.5", "+-1"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want), "The parameter cannot be converted "
			 "to a numeric value: %s", bad[i]);
		OWS_CHECK_STR(num_err(bad[i]), want);
	}
	OWS_CHECK_STR(num_err("123456789012345678901234567890123456789"),
		      "Attempting to store more than 38 significant digits in "
		      "a Number");
	OWS_CHECK_STR(num_err("1.00000000000000000000000000000000000001"),
		      "Attempting to store more than 38 significant digits in "
		      "a Number");
	OWS_CHECK_STR(num_err("1E126"), "Number overflow. Attempting to store "
		      "a number with magnitude larger than supported range");
	OWS_CHECK_STR(num_err("-1E126"), "Number overflow. Attempting to store "
		      "a number with magnitude larger than supported range");
	OWS_CHECK_STR(num_err("1E99999999999999"), "Number overflow. Attempting "
		      "to store a number with magnitude larger than supported "
		      "range");
	OWS_CHECK_STR(num_err("9.9E-131"), "Number underflow. Attempting to "
		      "store a number with magnitude smaller than supported "
		      "range");
	OWS_CHECK_STR(num_err("-1E-131"), "Number underflow. Attempting to "
		      "store a number with magnitude smaller than supported "
		      "range");
	/* Trailing zeros are not significant digits. */
	OWS_CHECK(strncmp(canon_num("1234567890123456789012345678901234567800000"),
			  "ERR", 3) != 0);
}

static struct ows_ddb_num num(const char *s)
{
	struct ows_ddb_num n;

	OWS_CHECK_INT(ows_ddb_num_parse(s, strlen(s), &n, NULL), 0);
	return n;
}

OWS_TEST(ddb_num_cmp_is_decimal_order)
{
	static const char *asc[] = {
		"-9.9999999999999999999999999999999999999E+125", "-1E100", "-100",
		"-10", "-9.99", "-1.5", "-1", "-0.1", "-1E-130", "0", "1E-130",
		"0.000123", "0.1", "0.10000000000000000000000000000000000001",
		"1", "1.5", "9.99", "10", "10.5", "100", "1E100",
		"9.9999999999999999999999999999999999999E+125"};
	size_t n = sizeof(asc) / sizeof(asc[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			struct ows_ddb_num a = num(asc[i]), b = num(asc[j]);
			int c = ows_ddb_num_cmp(&a, &b);

			OWS_CHECK(i < j ? c < 0 : i > j ? c > 0 : c == 0);
		}
	struct ows_ddb_num x = num("1.0"), y = num("1");

	OWS_CHECK_INT(ows_ddb_num_cmp(&x, &y), 0);
}

static const char *sum(const char *a, const char *b, bool sub)
{
	static char out[256];
	struct ows_ddb_num x = num(a), y = num(b), r;
	struct ows_err err = {""};
	int rc = sub ? ows_ddb_num_sub(&x, &y, &r, &err)
		     : ows_ddb_num_add(&x, &y, &r, &err);

	if (rc != 0)
		snprintf(out, sizeof(out), "ERR %s", err.msg);
	else
		ows_ddb_num_format(&r, out, sizeof(out));
	return out;
}

OWS_TEST(ddb_num_add_sub_exact)
{
	OWS_CHECK_STR(sum("0.1", "0.2", false), "0.3");
	OWS_CHECK_STR(sum("1", "-1", false), "0");
	OWS_CHECK_STR(sum("5", "7", true), "-2");
	OWS_CHECK_STR(sum("-5", "-7", false), "-12");
	OWS_CHECK_STR(sum("0", "-3.25", true), "3.25");
	OWS_CHECK_STR(sum("99", "1", false), "100");
	OWS_CHECK_STR(sum("1000", "0.001", true), "999.999");
	/* 38 digits exactly, and the carry into a 38th place. */
	OWS_CHECK_STR(sum("12345678901234567890123456789012345678", "1", false),
		      "12345678901234567890123456789012345679");
	OWS_CHECK_STR(sum("9999999999999999999999999999999999999", "1", false),
		      "10000000000000000000000000000000000000");
	OWS_CHECK_STR(sum("0.1234567890123456789012345678901234567",
			  "0.0000000000000000000000000000000000001", false),
		      "0.1234567890123456789012345678901234568");
	/* Past 38 digits: rounded to 38, half to even. */
	OWS_CHECK_STR(sum("1E37", "0.5", false),
		      "10000000000000000000000000000000000000");
	OWS_CHECK_STR(sum("1E37", "1.5", false),
		      "10000000000000000000000000000000000002");
	OWS_CHECK_STR(sum("1E37", "0.50001", false),
		      "10000000000000000000000000000000000001");
	OWS_CHECK_STR(sum("99999999999999999999999999999999999999", "0.5", false),
		      "100000000000000000000000000000000000000");
	/* Far apart exponents. */
	OWS_CHECK_STR(sum("1E125", "1E-130", true), sum("1E125", "0", false));
	OWS_CHECK_STR(sum("1E-130", "1E-130", false),
		      canon_num("2E-130"));
	/* Out of range. */
	OWS_CHECK_STR(sum("9.9999999999999999999999999999999999999E+125",
			  "1E+125", false),
		      "ERR Number overflow. Attempting to store a number with "
		      "magnitude larger than supported range");
	OWS_CHECK_STR(sum("1.1E-130", "1E-130", true),
		      "ERR Number underflow. Attempting to store a number with "
		      "magnitude smaller than supported range");
	/* out may alias an operand. */
	struct ows_ddb_num a = num("2.5"), b = num("0.5");

	OWS_CHECK_INT(ows_ddb_num_add(&a, &b, &a, NULL), 0);
	OWS_CHECK_STR(canon_num("3"), "3");
	b = num("3");
	OWS_CHECK_INT(ows_ddb_num_cmp(&a, &b), 0);
}

static json_t *J(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

	OWS_CHECK(v != NULL);
	return v;
}

/* The message of checking text as an AttributeValue ("" when valid). */
static const char *check_msg(const char *text, bool item, char **after)
{
	static struct ows_err err;
	json_t *v = J(text);
	int rc;

	err.msg[0] = '\0';
	rc = item ? ows_ddb_item_check(v, &err) : ows_ddb_value_check(v, &err);
	OWS_CHECK(rc == 0 || rc == OWS_EINVAL);
	OWS_CHECK((rc == 0) == (err.msg[0] == '\0'));
	if (after)
		*after = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	return err.msg;
}

OWS_TEST(ddb_value_check_messages)
{
	static const char *cases[][2] = {
		{"{}", "Supplied AttributeValue is empty, must contain exactly one "
		       "of the supported datatypes"},
		{"{\"S\": null}", "Supplied AttributeValue is empty, must contain "
				  "exactly one of the supported datatypes"},
		{"{\"X\": \"a\"}", "Supplied AttributeValue is empty, must contain "
				   "exactly one of the supported datatypes"},
		{"{\"S\": \"a\", \"N\": \"1\"}",
		 "Supplied AttributeValue has more than one datatypes set, must "
		 "contain exactly one of the supported datatypes"},
		{"{\"SS\": []}", "One or more parameter values were invalid: An "
				 "string set  may not be empty"},
		{"{\"NS\": []}", "One or more parameter values were invalid: An "
				 "number set  may not be empty"},
		{"{\"BS\": []}", "One or more parameter values were invalid: "
				 "Binary sets should not be empty"},
		{"{\"NULL\": false}", "One or more parameter values were invalid: "
				      "Null attribute value types must have the "
				      "value of true"},
		{"{\"N\": \"x1\"}", "The parameter cannot be converted to a numeric "
				    "value: x1"},
		{"{\"M\": {\"a\": {\"N\": \"1E200\"}}}",
		 "Number overflow. Attempting to store a number with magnitude "
		 "larger than supported range"},
		{"{\"S\": 5}", "Invalid attribute value type"},
		{"{\"L\": [5]}", "Invalid attribute value type"},
		{"{\"SS\": [\"a\", 1]}", "Invalid attribute value type"},
		{"{\"B\": \"!!\"}", "One or more parameter values were invalid: "
				    "Invalid binary value (not base64)"},
		{"{\"S\": \"\"}", ""},
		{"{\"L\": []}", ""},
		{"{\"M\": {}}", ""},
		{"{\"BOOL\": false}", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OWS_CHECK_STR(check_msg(cases[i][0], false, NULL), cases[i][1]);
}

OWS_TEST(ddb_value_check_rewrites_canonical)
{
	char *after;

	OWS_CHECK_STR(check_msg("{\"M\": {\"a\": {\"N\": \"1.50\"}, \"b\": {\"L\": "
				"[{\"N\": \"-0\"}, {\"NS\": [\"1E2\", \"0.5\"]}]}, "
				"\"c\": {\"B\": \"AR\"}, \"d\": {\"S\": \"x\", "
				"\"N\": null}}}", false, &after), "");
	OWS_CHECK_STR(after, "{\"M\":{\"a\":{\"N\":\"1.5\"},\"b\":{\"L\":[{\"N\":"
			     "\"0\"},{\"NS\":[\"100\",\"0.5\"]}]},\"c\":{\"B\":"
			     "\"AQ==\"},\"d\":{\"S\":\"x\"}}}");
	free(after);
}

OWS_TEST(ddb_value_set_duplicates)
{
	OWS_CHECK_STR(check_msg("{\"SS\": [\"a\", \"b\", \"a\"]}", false, NULL),
		      "One or more parameter values were invalid: Input "
		      "collection [a, b, a] contains duplicates.");
	OWS_CHECK_STR(check_msg("{\"NS\": [\"1\", \"1.0\"]}", false, NULL),
		      "One or more parameter values were invalid: Input "
		      "collection [1, 1.0] contains duplicates.");
	OWS_CHECK_STR(check_msg("{\"NS\": [\"-0\", \"0E5\"]}", false, NULL),
		      "One or more parameter values were invalid: Input "
		      "collection [-0, 0E5] contains duplicates.");
	/* The same bytes in two base64 spellings. */
	OWS_CHECK_STR(check_msg("{\"BS\": [\"AQ==\", \"AQ\"]}", false, NULL),
		      "One or more parameter values were invalid: Input "
		      "collection [AQ==, AQ] contains duplicates.");
	OWS_CHECK_STR(check_msg("{\"SS\": [\"a\", \"A\", \"a \"]}", false, NULL), "");
	OWS_CHECK_STR(check_msg("{\"NS\": [\"1\", \"1.00000001\", \"10\"]}", false,
				NULL), "");
	/* A long list is cut to fit the message, never overflowing it. */
	struct ows_buf b = OWS_BUF_INIT;

	ows_buf_puts(&b, "{\"SS\": [");
	for (int i = 0; i < 200; i++)
		ows_buf_printf(&b, "\"%s%d\",", "member-", i);
	ows_buf_puts(&b, "\"member-7\"]}");
	OWS_CHECK(strstr(check_msg(b.data, false, NULL), "contains duplicates.")
		  != NULL);
	ows_buf_free(&b);
}

OWS_TEST(ddb_value_nesting_limit)
{
	struct ows_buf b = OWS_BUF_INIT;
	int wraps;

	/* 31 map wraps around a scalar pass; 32 do not (as DynamoDB). */
	for (wraps = 31; wraps <= 32; wraps++) {
		ows_buf_reset(&b);
		for (int i = 0; i < wraps; i++)
			ows_buf_puts(&b, i % 2 ? "{\"L\": [" : "{\"M\": {\"k\": ");
		ows_buf_puts(&b, "{\"S\": \"x\"}");
		for (int i = wraps - 1; i >= 0; i--)
			ows_buf_puts(&b, i % 2 ? "]}" : "}}");
		OWS_CHECK_STR(check_msg(b.data, false, NULL),
			      wraps == 31 ? "" : "Nesting Levels have exceeded "
			      "supported limits: Attributes in the item have "
			      "nested levels beyond supported limit");
	}
	ows_buf_free(&b);
}

OWS_TEST(ddb_item_check_names_and_size)
{
	struct ows_buf b = OWS_BUF_INIT;
	json_t *item;
	struct ows_err err = {""};

	OWS_CHECK_STR(check_msg("{\"\": {\"S\": \"x\"}}", true, NULL),
		      "One or more parameter values were invalid: An attribute "
		      "name cannot be empty");
	OWS_CHECK_STR(check_msg("[]", true, NULL), "Invalid attribute value type");
	OWS_CHECK_STR(check_msg("{\"a\": \"x\"}", true, NULL),
		      "Invalid attribute value type");
	/* 400 KB exactly passes, one byte more does not. */
	item = json_object();
	json_object_set_new(item, "pk", json_pack("{ss}", "S", "k"));
	for (size_t i = 0; i < OWS_DDB_ITEM_MAX - 2 - 1 - 4; i++)
		ows_buf_append(&b, "x", 1);
	json_object_set_new(item, "data", json_pack("{ss}", "S", b.data));
	OWS_CHECK_INT(ows_ddb_item_size(item), OWS_DDB_ITEM_MAX);
	OWS_CHECK_INT(ows_ddb_item_check(item, &err), 0);
	ows_buf_append(&b, "x", 1);
	json_object_set_new(item, "data", json_pack("{ss}", "S", b.data));
	OWS_CHECK_INT(ows_ddb_item_check(item, &err), OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "Item size has exceeded the maximum allowed size");
	json_decref(item);
	ows_buf_free(&b);
}

static size_t item_size(const char *text)
{
	json_t *v = J(text);
	size_t n = ows_ddb_item_size(v);

	json_decref(v);
	return n;
}

OWS_TEST(ddb_item_size_follows_the_developer_guide)
{
	/* name + UTF-8 bytes */
	OWS_CHECK_INT(item_size("{\"ab\": {\"S\": \"h\\u00e9\"}}"), 2 + 3);
	/* name + 1 per two significant digits + 1 */
	OWS_CHECK_INT(item_size("{\"n\": {\"N\": \"12345\"}}"), 1 + 3 + 1);
	OWS_CHECK_INT(item_size("{\"n\": {\"N\": \"1200\"}}"), 1 + 1 + 1);
	OWS_CHECK_INT(item_size("{\"n\": {\"N\": \"0\"}}"), 1 + 1);
	/* raw bytes, not base64 */
	OWS_CHECK_INT(item_size("{\"b\": {\"B\": \"AQID\"}}"), 1 + 3);
	OWS_CHECK_INT(item_size("{\"b\": {\"B\": \"AQ==\"}}"), 1 + 1);
	OWS_CHECK_INT(item_size("{\"t\": {\"BOOL\": true}, \"u\": {\"NULL\": true}}"),
		      2 + 2);
	/* 3 per M or L, 1 per element, names inside maps */
	OWS_CHECK_INT(item_size("{\"m\": {\"M\": {}}}"), 1 + 3);
	OWS_CHECK_INT(item_size("{\"l\": {\"L\": [{\"S\": \"ab\"}, {\"BOOL\": "
				"false}]}}"), 1 + 3 + (2 + 1) + (1 + 1));
	OWS_CHECK_INT(item_size("{\"m\": {\"M\": {\"xy\": {\"S\": \"ab\"}}}}"),
		      1 + 3 + 2 + 2 + 1);
	/* sets: the sum of their members */
	OWS_CHECK_INT(item_size("{\"s\": {\"SS\": [\"ab\", \"c\"]}, \"n\": {\"NS\": "
				"[\"1\", \"123\"]}}"), 1 + 3 + 1 + 2 + 3);
}

OWS_TEST(ddb_value_equal_and_cmp)
{
	static const char *eq[][2] = {
		{"{\"N\": \"1\"}", "{\"N\": \"1.00\"}"},
		{"{\"NS\": [\"1\", \"2\"]}", "{\"NS\": [\"2.0\", \"1E0\"]}"},
		{"{\"SS\": [\"a\", \"b\"]}", "{\"SS\": [\"b\", \"a\"]}"},
		{"{\"BS\": [\"AQ==\", \"Ag==\"]}", "{\"BS\": [\"Ag\", \"AQ\"]}"},
		{"{\"M\": {\"a\": {\"N\": \"1\"}, \"b\": {\"L\": [{\"S\": \"x\"}]}}}",
		 "{\"M\": {\"b\": {\"L\": [{\"S\": \"x\"}]}, \"a\": {\"N\": \"1.0\"}}}"},
		{"{\"NULL\": true}", "{\"NULL\": true}"},
	};
	static const char *ne[][2] = {
		{"{\"N\": \"1\"}", "{\"S\": \"1\"}"},
		{"{\"NS\": [\"1\", \"2\"]}", "{\"NS\": [\"1\"]}"},
		{"{\"NS\": [\"1\", \"2\"]}", "{\"NS\": [\"1\", \"3\"]}"},
		{"{\"L\": [{\"S\": \"a\"}, {\"S\": \"b\"}]}",
		 "{\"L\": [{\"S\": \"b\"}, {\"S\": \"a\"}]}"},
		{"{\"M\": {\"a\": {\"N\": \"1\"}}}", "{\"M\": {\"b\": {\"N\": \"1\"}}}"},
		{"{\"BOOL\": true}", "{\"BOOL\": false}"},
	};
	int c;

	for (size_t i = 0; i < sizeof(eq) / sizeof(eq[0]); i++) {
		json_t *a = J(eq[i][0]), *b = J(eq[i][1]);

		OWS_CHECK(ows_ddb_value_equal(a, b) && ows_ddb_value_equal(b, a));
		json_decref(a);
		json_decref(b);
	}
	for (size_t i = 0; i < sizeof(ne) / sizeof(ne[0]); i++) {
		json_t *a = J(ne[i][0]), *b = J(ne[i][1]);

		OWS_CHECK(!ows_ddb_value_equal(a, b) && !ows_ddb_value_equal(b, a));
		json_decref(a);
		json_decref(b);
	}
	json_t *a = J("{\"S\": \"a\"}"), *b = J("{\"S\": \"\\u00e9\"}"),
	       *n1 = J("{\"N\": \"10\"}"), *n2 = J("{\"N\": \"9\"}"),
	       *b1 = J("{\"B\": \"/w==\"}"), *b2 = J("{\"B\": \"AQ==\"}");

	OWS_CHECK_INT(ows_ddb_value_cmp(a, b, &c), 0);
	OWS_CHECK(c < 0); /* UTF-8 bytes, unsigned */
	OWS_CHECK_INT(ows_ddb_value_cmp(n1, n2, &c), 0);
	OWS_CHECK(c > 0); /* decimals, not text */
	OWS_CHECK_INT(ows_ddb_value_cmp(b1, b2, &c), 0);
	OWS_CHECK(c > 0); /* 0xff > 0x01 */
	OWS_CHECK_INT(ows_ddb_value_cmp(a, n1, &c), OWS_EINVAL);
	json_decref(a);
	json_decref(b);
	json_decref(n1);
	json_decref(n2);
	json_decref(b1);
	json_decref(b2);
}

static void key_enc(const char *text, struct ows_buf *out)
{
	json_t *v = J(text);

	ows_buf_reset(out);
	OWS_CHECK_INT(ows_ddb_key_encode(v, out), 0);
	json_decref(v);
}

static int bufcmp(const struct ows_buf *a, const struct ows_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

OWS_TEST(ddb_key_encoding_order_and_round_trip)
{
	static const char *asc[] = {
		"{\"N\": \"-1E125\"}", "{\"N\": \"-100\"}", "{\"N\": \"-99.5\"}",
		"{\"N\": \"-10\"}", "{\"N\": \"-1.25\"}", "{\"N\": \"-1.2\"}",
		"{\"N\": \"-1\"}", "{\"N\": \"-1E-130\"}", "{\"N\": \"0\"}",
		"{\"N\": \"1E-130\"}", "{\"N\": \"0.5\"}", "{\"N\": \"1\"}",
		"{\"N\": \"1.2\"}", "{\"N\": \"1.25\"}", "{\"N\": \"1.3\"}",
		"{\"N\": \"10\"}", "{\"N\": \"12345678901234567890123456789012345678\"}",
		"{\"N\": \"9.9999999999999999999999999999999999999E+125\"}",
		"{\"S\": \"\"}", "{\"S\": \"\\u0000\"}", "{\"S\": \"\\u0000\\u0000\"}",
		"{\"S\": \"\\u0000a\"}", "{\"S\": \"\\u0001\"}", "{\"S\": \"a\"}",
		"{\"S\": \"a\\u0000\"}", "{\"S\": \"ab\"}", "{\"S\": \"b\"}",
		"{\"S\": \"\\u00e9\"}",
		"{\"B\": \"\"}", "{\"B\": \"AA==\"}", "{\"B\": \"AAA=\"}",
		"{\"B\": \"AP8=\"}", "{\"B\": \"AQ==\"}", "{\"B\": \"/w==\"}",
		"{\"B\": \"//8=\"}"};
	size_t n = sizeof(asc) / sizeof(asc[0]);
	struct ows_buf a = OWS_BUF_INIT, b = OWS_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		json_t *orig = json_loads(asc[i], JSON_ALLOW_NUL, NULL), *back;
		size_t used;

		OWS_CHECK(orig != NULL);
		ows_buf_reset(&a);
		OWS_CHECK_INT(ows_ddb_key_encode(orig, &a), 0);
		/* Self-delimiting: decoding stops at its end with more after. */
		ows_buf_append(&a, "\x20zz", 3);
		OWS_CHECK_INT(ows_ddb_key_decode(a.data, a.len, &back, &used), 0);
		OWS_CHECK_INT(used, a.len - 3);
		OWS_CHECK(ows_ddb_value_equal(orig, back));
		json_decref(back);
		a.len -= 3;
		for (size_t j = 0; j + 1 < n && i > 0; j++) {
			if (j != i - 1)
				continue;
			json_t *prev = json_loads(asc[j], JSON_ALLOW_NUL, NULL);

			ows_buf_reset(&b);
			OWS_CHECK_INT(ows_ddb_key_encode(prev, &b), 0);
			if (ows_ddb_type_of(prev) == ows_ddb_type_of(orig))
				OWS_CHECK(bufcmp(&b, &a) < 0);
			json_decref(prev);
		}
		json_decref(orig);
	}
	/* Equal decimals encode alike. */
	key_enc("{\"N\": \"1.50\"}", &a);
	key_enc("{\"N\": \"15E-1\"}", &b);
	OWS_CHECK(bufcmp(&a, &b) == 0);
	/* Concatenated keys sort by (first, second). */
	struct ows_buf k1 = OWS_BUF_INIT, k2 = OWS_BUF_INIT;

	key_enc("{\"S\": \"a\"}", &k1);
	key_enc("{\"N\": \"5\"}", &a);
	ows_buf_append(&k1, a.data, a.len);
	key_enc("{\"S\": \"a\\u0001\"}", &k2);
	key_enc("{\"N\": \"-5\"}", &a);
	ows_buf_append(&k2, a.data, a.len);
	OWS_CHECK(bufcmp(&k1, &k2) < 0);
	/* Not keys. */
	json_t *bad = J("{\"BOOL\": true}");

	OWS_CHECK_INT(ows_ddb_key_encode(bad, &a), OWS_EINVAL);
	json_decref(bad);
	bad = J("{\"N\": \"abc\"}");
	OWS_CHECK_INT(ows_ddb_key_encode(bad, &a), OWS_EINVAL);
	json_decref(bad);
	/* The hash is FNV-1a: fixed forever. */
	OWS_CHECK_INT(ows_ddb_key_hash("", 0), 2166136261u);
	OWS_CHECK_INT(ows_ddb_key_hash("a", 1), 0xe40c292cu);
	ows_buf_free(&a);
	ows_buf_free(&b);
	ows_buf_free(&k1);
	ows_buf_free(&k2);
}

OWS_TEST(ddb_key_decode_refuses_malformed)
{
	static const struct {
		const char *p;
		size_t len;
	} bad[] = {
		{"", 0},          {"\x20", 1},       {"\x20" "ab", 3},
		{"\x20" "a\0", 3}, {"\x20" "a\0\x02", 4}, {"\x10", 1},
		{"\x10\x03", 2},  {"\x10\x03\x81", 3}, {"\x10\x03\x81\x65", 4},
		{"\x10\x03\x81\x01\x00", 5}, /* ends in a zero digit */
		{"\x10\x03\xff\x02\x00", 5}, /* exponent past the range */
		{"\x10\x07", 2},  {"\x77", 1},
		{"\x20\xff\xfe\0\x01", 5},   /* not UTF-8 */
	};
	json_t *v;
	size_t used;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		OWS_CHECK_INT(ows_ddb_key_decode(bad[i].p, bad[i].len, &v, &used),
			      OWS_EINVAL);
		OWS_CHECK(v == NULL);
	}
}

static const char *nested =
	"{\"pk\": {\"S\": \"user#1\"}, \"n\": {\"N\": \"-12.5\"}, \"b\": {\"B\": "
	"\"AAEC/w==\"}, \"t\": {\"BOOL\": true}, \"f\": {\"BOOL\": false}, \"z\": "
	"{\"NULL\": true}, \"ss\": {\"SS\": [\"x\", \"y\"]}, \"ns\": {\"NS\": "
	"[\"1\", \"0.001\"]}, \"bs\": {\"BS\": [\"AA==\", \"\"]}, \"m\": {\"M\": "
	"{\"l\": {\"L\": [{\"S\": \"\"}, {\"M\": {}}, {\"L\": []}, {\"N\": \"0\"}, "
	"{\"M\": {\"deep\": {\"SS\": [\"\\u00e9\"]}}}]}}}, \"e\": {\"S\": \"\"}}";

OWS_TEST(ddb_codec_round_trip_nested)
{
	struct ows_buf b = OWS_BUF_INIT;
	struct ows_err err = {""};
	json_t *item = J(nested), *back;

	OWS_CHECK_INT(ows_ddb_item_check(item, &err), 0);
	OWS_CHECK_INT(ows_ddb_item_encode(item, &b), 0);
	back = ows_ddb_item_decode(b.data, b.len);
	OWS_CHECK(back != NULL);
	OWS_CHECK(json_equal(item, back));
	json_decref(back);
	/* Every strict prefix, and any trailing byte, is refused. */
	for (size_t cut = 0; cut < b.len; cut++)
		OWS_CHECK(ows_ddb_item_decode(b.data, cut) == NULL);
	ows_buf_append(&b, "", 1);
	OWS_CHECK(ows_ddb_item_decode(b.data, b.len) == NULL);
	/* Not an item. */
	json_t *bad = J("{\"a\": {\"Q\": 1}}");

	OWS_CHECK_INT(ows_ddb_item_encode(bad, &b), OWS_EINVAL);
	json_decref(bad);
	json_decref(item);
	ows_buf_free(&b);
}

OWS_TEST(ddb_codec_decode_random_bytes)
{
	struct ows_buf b = OWS_BUF_INIT;
	json_t *item = J(nested);
	uint64_t x = 88172645463325252ull;
	uint8_t *p;

	OWS_CHECK_INT(ows_ddb_item_check(item, &(struct ows_err){""}), 0);
	OWS_CHECK_INT(ows_ddb_item_encode(item, &b), 0);
	p = malloc(b.len);
	OWS_CHECK(p != NULL);
	for (int round = 0; round < 20000; round++) {
		json_t *v;
		size_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = x % (b.len + 1);
		if (round % 2) {
			/* Mutations of a valid encoding reach deep. */
			memcpy(p, b.data, b.len);
			p[x % b.len] ^= (uint8_t)(x >> 24);
			p[(x >> 32) % b.len] = (uint8_t)(x >> 40);
			len = b.len;
		} else {
			for (size_t i = 0; i < len; i++)
				p[i] = (uint8_t)((x >> (8 * (i % 8))) + i);
		}
		v = ows_ddb_item_decode(p, len);
		if (v != NULL) {
			/* Whatever decodes is a valid item that re-encodes. */
			struct ows_buf again = OWS_BUF_INIT;

			struct ows_err err = {""};

			/*
			 * Valid, but for duplicate set members: decode leaves
			 * those to the check of what is written (cheap reads).
			 */
			if (ows_ddb_item_check(v, &err) != 0)
				OWS_CHECK(strstr(err.msg, "contains duplicates."));
			OWS_CHECK_INT(ows_ddb_item_encode(v, &again), 0);
			ows_buf_free(&again);
			json_decref(v);
		}
	}
	free(p);
	json_decref(item);
	ows_buf_free(&b);
}

/* One line of the numbers file: "ok CANONICAL HEXKEY" or "err MESSAGE". */
static void number_line(const char *s, size_t len, struct ows_buf *out)
{
	struct ows_ddb_num n;
	struct ows_err err = {""};
	struct ows_buf key = OWS_BUF_INIT;
	char text[256], *hex;
	json_t *av;

	if (ows_ddb_num_parse(s, len, &n, &err) != 0) {
		ows_buf_printf(out, "err %s\n", err.msg);
		return;
	}
	ows_ddb_num_format(&n, text, sizeof(text));
	av = ows_ddb_value_from_num(&n);
	OWS_CHECK_INT(ows_ddb_key_encode(av, &key), 0);
	hex = malloc(2 * key.len + 1);
	OWS_CHECK(hex != NULL);
	ows_hex_encode(key.data, key.len, hex);
	ows_buf_printf(out, "ok %s %s\n", text, hex);
	free(hex);
	json_decref(av);
	ows_buf_free(&key);
}

OWS_TEST(ddb_numbers_file)
{
	const char *in = getenv("OWS_DDB_NUMS"), *outp = getenv("OWS_DDB_NUMS_OUT");
	struct ows_buf text = OWS_BUF_INIT, out = OWS_BUF_INIT;
	size_t i = 0;

	if (in == NULL || outp == NULL) {
		/* Alone, a fixed sample in the same format. */
		number_line("1.50", 4, &out);
		number_line("x", 1, &out);
		OWS_CHECK_STR(out.data, "ok 1.5 1003821000\nerr The parameter "
			      "cannot be converted to a numeric value: x\n");
		ows_buf_free(&out);
		return;
	}
	OWS_CHECK_INT(ows_file_read(in, 64 << 20, &text), 0);
	while (i < text.len) {
		char *nl = memchr(text.data + i, '\n', text.len - i);
		size_t end = nl ? (size_t)(nl - text.data) : text.len;

		number_line(text.data + i, end - i, &out);
		i = end + 1;
	}
	OWS_CHECK_INT(ows_file_write(outp, out.data ? out.data : "", out.len, 0644), 0);
	ows_buf_free(&text);
	ows_buf_free(&out);
}
