/*
 * Unit tests of DynamoDB's expressions (src/ddb/expr_*.c): parsing of
 * every form, DynamoDB's messages for every refusal, the truth tables of
 * conditions, updates on nested documents, projections, key conditions
 * and the legacy parameters.
 */
#include <jansson.h>
#include <string.h>

#include "ddb/ddb_expr.h"
#include "../lib/unit.h"

#define ITEM                                                              \
	"{\"pk\":{\"S\":\"a\"},\"s\":{\"S\":\"hello\"},\"n\":{\"N\":\"10\"}," \
	"\"t\":{\"BOOL\":true},\"nul\":{\"NULL\":true},"                  \
	"\"l\":{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"},"                       \
	"{\"M\":{\"k\":{\"S\":\"v\"}}}]},"                                 \
	"\"m\":{\"M\":{\"a\":{\"S\":\"1\"},\"b\":{\"M\":{\"c\":{\"N\":\"3\"}}}}}," \
	"\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},"  \
	"\"b\":{\"B\":\"AQID\"},\"bs\":{\"BS\":[\"AQ==\"]}}"

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j;

	if (s == NULL)
		return NULL;
	j = json_loads(s, JSON_DECODE_ANY, &je);
	if (j == NULL) {
		fprintf(stderr, "bad JSON in test: %s (%s)\n", s, je.text);
		exit(1);
	}
	return j;
}

/* a equals the JSON text want */
static bool jeq(const json_t *a, const char *want)
{
	json_t *w = J(want);
	bool r = json_equal(a, w);

	json_decref(w);
	return r;
}

static char msg[OWS_ERR_MSG_SIZE];
static bool check_unused = true; /* ows_ddb_subst_check after parsing */

/* Parse text with names and values (JSON or NULL): rc, message in msg. */
static int parse(enum ows_ddb_expr_kind kind, const char *text,
		 const char *names, const char *values,
		 struct ows_ddb_expr **e)
{
	struct ows_err err = {""};
	struct ows_ddb_subst s;
	json_t *n = J(names), *v = J(values);
	int rc;

	ows_ddb_subst_init(&s, n, v);
	rc = ows_ddb_expr_parse(kind, text, &s, e, &err);
	if (rc == 0 && check_unused)
		rc = ows_ddb_subst_check(&s, &err);
	ows_ddb_subst_close(&s);
	json_decref(n);
	json_decref(v);
	snprintf(msg, sizeof(msg), "%s", err.msg);
	if (rc != 0 && *e != NULL) {
		ows_ddb_expr_free(*e);
		*e = NULL;
	}
	return rc;
}

static const char *perr(enum ows_ddb_expr_kind kind, const char *text,
			const char *names, const char *values)
{
	struct ows_ddb_expr *e = NULL;

	OWS_CHECK(parse(kind, text, names, values, &e) == OWS_EINVAL);
	OWS_CHECK(e == NULL);
	return msg;
}

#define CERR(text, names, values) \
	perr(OWS_DDB_EXPR_CONDITION, text, names, values)

/* The truth of condition text on ITEM. */
static bool cond(const char *text, const char *names, const char *values)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_t *item = J(ITEM);
	bool out = false;

	if (parse(OWS_DDB_EXPR_CONDITION, text, names, values, &e) != 0) {
		fprintf(stderr, "parse '%s': %s\n", text, msg);
		exit(1);
	}
	if (ows_ddb_cond_eval(e, item, &out, &err) != 0) {
		fprintf(stderr, "eval '%s': %s\n", text, err.msg);
		exit(1);
	}
	ows_ddb_expr_free(e);
	json_decref(item);
	return out;
}

/* ITEM updated by text: a new item, or NULL with the message in msg. */
static json_t *update(const char *text, const char *names, const char *values)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_t *item = J(ITEM);

	if (parse(OWS_DDB_EXPR_UPDATE, text, names, values, &e) != 0) {
		fprintf(stderr, "parse '%s': %s\n", text, msg);
		exit(1);
	}
	if (ows_ddb_update_apply(e, item, &err) != 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		json_decref(item);
		item = NULL;
	}
	ows_ddb_expr_free(e);
	return item;
}

/* The attribute name of ITEM after update text, as compact JSON. */
static bool updated(const char *text, const char *values, const char *name,
		    const char *want)
{
	json_t *item = update(text, NULL, values), *w = J(want);
	bool ok;

	if (item == NULL) {
		fprintf(stderr, "update '%s': %s\n", text, msg);
		exit(1);
	}
	ok = want ? json_equal(json_object_get(item, name), w) :
		    json_object_get(item, name) == NULL;
	if (!ok) {
		char *got = json_dumps(json_object_get(item, name), JSON_COMPACT);

		fprintf(stderr, "update '%s': %s is %s\n", text, name,
			got ? got : "missing");
		free(got);
	}
	json_decref(item);
	json_decref(w);
	return ok;
}

static const char *update_err(const char *text, const char *values)
{
	json_t *item = update(text, NULL, values);

	OWS_CHECK(item == NULL);
	return msg;
}

#define V1(k, av) "{\"" k "\":" av "}"
#define S(x) "{\"S\":\"" x "\"}"
#define N(x) "{\"N\":\"" x "\"}"

/* ---- parsing ---- */

OWS_TEST(ddb_expr_parse_forms)
{
	static const char *const conds[] = {
		"s = :v", "s <> :v", "n < :v", "n <= :v", "n > :v",
		"n >= :v", "n BETWEEN :v AND :v", "s IN (:v)",
		"s IN (:v, :v, :v)", "attribute_exists(s)",
		"attribute_not_exists(m.b.c)", "begins_with(s, m.a)",
		"contains(l, :v)", "size(l) > :v", "size(m.a) = :v",
		"NOT s = :v", "s = :v AND n = :v OR t = :v",
		"(s = :v OR n = :v) AND NOT (t = :v)",
		"l[2].k = :v", "m.b.c = :v", "  s=:v  ", "s = :v and n = :v",
		"not attribute_exists(s)", "l[0] = :v OR l[1] = :v",
		"contains(#a, :v)", "s between :v and :v",
	};
	static const char *const updates[] = {
		"SET s = :v", "SET s = :v, n = :v", "SET n = n + :v",
		"SET n = :v - n", "SET l = list_append(l, :l)",
		"SET l = list_append(:l, l)", "SET q = if_not_exists(q, :v)",
		"SET q = if_not_exists(q, :v) + :v", "REMOVE s",
		"REMOVE s, l[0]", "ADD n :v", "DELETE ss :ss",
		"SET s = :v REMOVE t ADD n :v DELETE ss :ss",
		"remove s set n = :v", "SET m.b.c = :v, l[1] = :v",
		"SET #a = :v",
	};
	const char *values = "{\":v\":{\"N\":\"1\"},\":l\":{\"L\":[]},"
			     "\":ss\":{\"SS\":[\"a\"]}}";
	struct ows_ddb_expr *e = NULL;
	size_t i;

	for (i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		const char *v = strstr(conds[i], ":v") ?
			"{\":v\":{\"N\":\"1\"}}" : NULL;
		const char *names = strstr(conds[i], "#a") ?
			"{\"#a\":\"s\"}" : NULL;

		if (parse(OWS_DDB_EXPR_CONDITION, conds[i], names, v, &e) != 0) {
			fprintf(stderr, "'%s': %s\n", conds[i], msg);
			OWS_CHECK(0);
		}
		ows_ddb_expr_free(e);
		OWS_CHECK(parse(OWS_DDB_EXPR_FILTER, conds[i], names, v, &e) == 0);
		ows_ddb_expr_free(e);
	}
	for (i = 0; i < sizeof(updates) / sizeof(updates[0]); i++) {
		struct ows_err err = {""};
		struct ows_ddb_subst s;
		json_t *vals = J(values), *names = J("{\"#a\":\"x\"}");

		ows_ddb_subst_init(&s, names, vals);
		if (ows_ddb_expr_parse(OWS_DDB_EXPR_UPDATE, updates[i], &s, &e,
				       &err) != 0) {
			fprintf(stderr, "'%s': %s\n", updates[i], err.msg);
			OWS_CHECK(0);
		}
		ows_ddb_expr_free(e);
		ows_ddb_subst_close(&s);
		json_decref(vals);
		json_decref(names);
	}
	OWS_CHECK(parse(OWS_DDB_EXPR_PROJECTION, "s, m.b.c, l[2].k, #a",
			"{\"#a\":\"x\"}", NULL, &e) == 0);
	OWS_CHECK(ows_ddb_expr_names_top(e, "m"));
	OWS_CHECK(ows_ddb_expr_names_top(e, "x"));
	OWS_CHECK(!ows_ddb_expr_names_top(e, "b"));
	ows_ddb_expr_free(e);
}

OWS_TEST(ddb_expr_syntax_errors)
{
	const char *v = V1(":v", N("1"));

	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "ADD hits : incr", NULL,
			   V1(":incr", N("1"))),
		      "Invalid UpdateExpression: Syntax error; token: \":\", "
		      "near: \"hits : incr\"");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "INVALID SYNTAX HERE", NULL, v),
		      "Invalid UpdateExpression: Syntax error; token: "
		      "\"INVALID\", near: \"INVALID SYNTAX\"");
	OWS_CHECK_STR(CERR("s = ", NULL, NULL),
		      "Invalid ConditionExpression: Syntax error; token: "
		      "\"<EOF>\", near: \"= \"");
	OWS_CHECK_STR(CERR("s == :v", NULL, v),
		      "Invalid ConditionExpression: Syntax error; token: \"=\", "
		      "near: \"== :v\"");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_FILTER, "s = :v :v", NULL, v),
		      "Invalid FilterExpression: Syntax error; token: \":v\", "
		      "near: \":v :v\"");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_PROJECTION, "a, #", NULL, NULL),
		      "Invalid ProjectionExpression: Syntax error; token: \"#\", "
		      "near: \", #\"");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_PROJECTION, "a[x]", NULL, NULL),
		      "Invalid ProjectionExpression: Syntax error; token: \"x\", "
		      "near: \"[x]\"");
	OWS_CHECK(strstr(CERR("s = 1", NULL, NULL), "token: \"1\"") != NULL);
	OWS_CHECK(strstr(CERR("s", NULL, NULL), "<EOF>") != NULL);
	OWS_CHECK(strstr(CERR("s = :v @", NULL, v), "token: \"@\"") != NULL);
	OWS_CHECK(strstr(perr(OWS_DDB_EXPR_UPDATE, "SET s :v", NULL, v),
			 "Syntax error") != NULL);
	OWS_CHECK(strstr(perr(OWS_DDB_EXPR_UPDATE, "FOO s = :v", NULL, v),
			 "Syntax error; token: \"FOO\"") != NULL);
	OWS_CHECK(strstr(perr(OWS_DDB_EXPR_UPDATE, "SET s = :v,", NULL, v),
			 "<EOF>") != NULL);
	OWS_CHECK(strstr(CERR("s = :v AND", NULL, v), "<EOF>") != NULL);
	OWS_CHECK(strstr(CERR("(s = :v", NULL, v), "<EOF>") != NULL);
	OWS_CHECK(strstr(CERR("s IN :v", NULL, v), "Syntax error") != NULL);
	OWS_CHECK(strstr(CERR("size(s)", NULL, NULL), "<EOF>") != NULL);
}

OWS_TEST(ddb_expr_parse_errors)
{
	const char *v = V1(":v", N("1"));

	OWS_CHECK_STR(CERR("", NULL, NULL),
		      "Invalid ConditionExpression: The expression can not be "
		      "empty;");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "  ", NULL, NULL),
		      "Invalid UpdateExpression: The expression can not be "
		      "empty;");
	OWS_CHECK_STR(CERR("name = :v", NULL, v),
		      "Invalid ConditionExpression: Attribute name is a "
		      "reserved keyword; reserved keyword: name");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_PROJECTION, "a, Status", NULL, NULL),
		      "Invalid ProjectionExpression: Attribute name is a "
		      "reserved keyword; reserved keyword: Status");
	OWS_CHECK_STR(CERR("#x = :v", NULL, v),
		      "Invalid ConditionExpression: An expression attribute "
		      "name used in the document path is not defined; "
		      "attribute name: #x");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET #x = :v",
			   "{\"#y\":\"a\"}", v),
		      "Invalid UpdateExpression: An expression attribute name "
		      "used in the document path is not defined; attribute "
		      "name: #x");
	OWS_CHECK_STR(CERR("s = :w", NULL, v),
		      "Invalid ConditionExpression: An expression attribute "
		      "value used in expression is not defined; attribute "
		      "value: :w");
	OWS_CHECK_STR(CERR("foo(s)", NULL, NULL),
		      "Invalid ConditionExpression: Invalid function name; "
		      "function: foo");
	OWS_CHECK_STR(CERR("attribute_exists(s, n)", NULL, NULL),
		      "Invalid ConditionExpression: Incorrect number of "
		      "operands for operator or function; operator or "
		      "function: attribute_exists, number of operands: 2");
	OWS_CHECK_STR(CERR("attribute_exists(:v)", NULL, v),
		      "Invalid ConditionExpression: Operator or function "
		      "requires a document path; operator or function: "
		      "attribute_exists");
	OWS_CHECK_STR(CERR("((s = :v))", NULL, v),
		      "Invalid ConditionExpression: The expression has "
		      "redundant parentheses;");
	OWS_CHECK_STR(CERR("n = n", NULL, NULL),
		      "Invalid ConditionExpression: The first operand must be "
		      "distinct from the remaining operands for this operator "
		      "or function; operator: =, first operand: [n]");
	OWS_CHECK_STR(CERR("n BETWEEN :a AND :b", NULL,
			   "{\":a\":" N("5") ",\":b\":" N("1") "}"),
		      "Invalid ConditionExpression: The BETWEEN operator "
		      "requires upper bound to be greater than or equal to "
		      "lower bound; lower bound operand: AttributeValue: "
		      "{N:5}, upper bound operand: AttributeValue: {N:1}");
	OWS_CHECK_STR(CERR("n BETWEEN :a AND :b", NULL,
			   "{\":a\":" N("5") ",\":b\":" S("x") "}"),
		      "Invalid ConditionExpression: The BETWEEN operator "
		      "requires same data type for lower and upper bounds; "
		      "lower bound operand: AttributeValue: {N:5}, upper bound "
		      "operand: AttributeValue: {S:x}");
	OWS_CHECK_STR(CERR("n < :b", NULL, V1(":b", "{\"BOOL\":true}")),
		      "Invalid ConditionExpression: Incorrect operand type for "
		      "operator or function; operator or function: <, operand "
		      "type: BOOL");
	OWS_CHECK_STR(CERR("begins_with(s, :v)", NULL, v),
		      "Invalid ConditionExpression: Incorrect operand type for "
		      "operator or function; operator or function: "
		      "begins_with, operand type: N");
	OWS_CHECK(strstr(CERR("attribute_type(s, :t)", NULL, V1(":t", S("X"))),
			 "Invalid attribute type name found; type: X") != NULL);
	OWS_CHECK_STR(CERR("list_append(a, b) = :v", NULL, v),
		      "Invalid ConditionExpression: The function is not "
		      "allowed in a condition expression; function: "
		      "list_append");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET a = size(b)", NULL, NULL),
		      "Invalid UpdateExpression: The function is not allowed in "
		      "an update expression; function: size");
	OWS_CHECK(strstr(CERR("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x."
			      "y.z.a.b.c.d.e.f.g = :v", NULL, v),
			 "too many nesting levels; nesting levels: 33") != NULL);
}

OWS_TEST(ddb_expr_limits)
{
	char text[5000], *p = text;
	struct ows_ddb_expr *e = NULL;
	int i;

	/* IN takes up to 100 operands after the first */
	p += sprintf(p, "s IN (:v");
	for (i = 1; i < 100; i++)
		p += sprintf(p, ", :v");
	sprintf(p, ")");
	OWS_CHECK(parse(OWS_DDB_EXPR_CONDITION, text, NULL, V1(":v", N("1")),
			&e) == 0);
	ows_ddb_expr_free(e);
	strcpy(p, ", :v)");
	OWS_CHECK_STR(CERR(text, NULL, V1(":v", N("1"))),
		      "Invalid ConditionExpression: The IN operator is provided "
		      "with too many operands; number of operands: 101");
	memset(text, ' ', 4097);
	memcpy(text, "s = :v", 6);
	text[4097] = '\0';
	OWS_CHECK(strstr(CERR(text, NULL, V1(":v", N("1"))),
			 "Expression size has exceeded the maximum allowed "
			 "size") != NULL);
	/* too many operators */
	p = text;
	p += sprintf(p, "s = :v");
	for (i = 0; i < 200; i++)
		p += sprintf(p, " OR s = :v");
	OWS_CHECK(strstr(CERR(text, NULL, V1(":v", N("1"))),
			 "too many operators") != NULL);
	/* deep parentheses and NOT chains stop, not crash */
	memset(text, '(', 2000);
	text[2000] = '\0';
	OWS_CHECK(strstr(CERR(text, NULL, NULL), "Syntax error") != NULL);
	p = text;
	for (i = 0; i < 600; i++)
		p += sprintf(p, "NOT ");
	sprintf(p, "s = :v");
	OWS_CHECK(strstr(CERR(text, NULL, V1(":v", N("1"))),
			 "too many operators") != NULL);
}

OWS_TEST(ddb_expr_substitutions)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	struct ows_ddb_subst s;
	json_t *names, *values;

	OWS_CHECK(parse(OWS_DDB_EXPR_CONDITION, "s = :v", "{\"#a\":\"s\"}",
			"{\":v\":" S("x") ",\":w\":" S("y") "}", &e) != 0);
	OWS_CHECK_STR(msg, "Value provided in ExpressionAttributeNames unused "
		      "in expressions: keys: {#a}");
	OWS_CHECK(parse(OWS_DDB_EXPR_CONDITION, "s = :v", NULL,
			"{\":v\":" S("x") ",\":w\":" S("y") ",\":z\":" S("z")
			"}", &e) != 0);
	OWS_CHECK_STR(msg, "Value provided in ExpressionAttributeValues unused "
		      "in expressions: keys: {:w, :z}");
	OWS_CHECK_STR(CERR("s = :v", "{}", V1(":v", N("1"))),
		      "ExpressionAttributeNames must not be empty");
	OWS_CHECK_STR(CERR("s = :v", NULL, "{}"),
		      "ExpressionAttributeValues must not be empty");
	OWS_CHECK_STR(CERR("s = :v", "{\"a\":\"s\"}", V1(":v", N("1"))),
		      "ExpressionAttributeNames contains invalid key: Syntax "
		      "error; key: \"a\"");
	OWS_CHECK_STR(CERR("s = :v", NULL, "{\"v\":" N("1") "}"),
		      "ExpressionAttributeValues contains invalid key: Syntax "
		      "error; key: \"v\"");
	OWS_CHECK(strncmp(CERR("s = :v", NULL, V1(":v", "{}")),
			  "ExpressionAttributeValues contains invalid value: ",
			  50) == 0);
	OWS_CHECK(strstr(msg, "for key :v") != NULL);
	/* substitutions without any expression */
	names = J("{\"#a\":\"s\"}");
	ows_ddb_subst_init(&s, names, NULL);
	OWS_CHECK(ows_ddb_subst_check(&s, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "ExpressionAttributeNames can only be specified "
		      "when using expressions");
	ows_ddb_subst_close(&s);
	values = J(V1(":v", N("1")));
	ows_ddb_subst_init(&s, NULL, values);
	OWS_CHECK(ows_ddb_subst_check(&s, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "ExpressionAttributeValues can only be "
		      "specified when using expressions");
	ows_ddb_subst_close(&s);
	/* one subst across the expressions of a request */
	ows_ddb_subst_init(&s, names, values);
	OWS_CHECK(ows_ddb_expr_parse(OWS_DDB_EXPR_PROJECTION, "#a", &s, &e,
				     &err) == 0);
	ows_ddb_expr_free(e);
	OWS_CHECK(ows_ddb_subst_check(&s, &err) == OWS_EINVAL);
	OWS_CHECK(ows_ddb_expr_parse(OWS_DDB_EXPR_CONDITION, "n = :v", &s, &e,
				     &err) == 0);
	ows_ddb_expr_free(e);
	OWS_CHECK(ows_ddb_subst_check(&s, &err) == 0);
	ows_ddb_subst_close(&s);
	json_decref(names);
	json_decref(values);
	/* a reserved word through a name is fine */
	OWS_CHECK(cond("#s = :v", "{\"#s\":\"s\"}", V1(":v", S("hello"))));
}

/* ---- evaluation ---- */

OWS_TEST(ddb_expr_comparisons)
{
	OWS_CHECK(cond("s = :v", NULL, V1(":v", S("hello"))));
	OWS_CHECK(cond("n = :v", NULL, V1(":v", N("10.0"))));
	OWS_CHECK(cond("n = :v", NULL, V1(":v", N("1E1"))));
	OWS_CHECK(!cond("s = :v", NULL, V1(":v", N("1"))));
	OWS_CHECK(cond("s <> :v", NULL, V1(":v", N("1"))));
	OWS_CHECK(!cond("s < :v", NULL, V1(":v", N("1"))));
	OWS_CHECK(!cond("s > :v", NULL, V1(":v", N("1"))));
	OWS_CHECK(cond("n < :v", NULL, V1(":v", N("10.000001"))));
	OWS_CHECK(!cond("n < :v", NULL, V1(":v", N("10"))));
	OWS_CHECK(cond("n <= :v", NULL, V1(":v", N("10"))));
	OWS_CHECK(cond("n > :v", NULL, V1(":v", N("-11"))));
	OWS_CHECK(cond("n >= :v", NULL, V1(":v", N("10"))));
	OWS_CHECK(!cond("n >= :v", NULL, V1(":v", N("99999999999999999999"))));
	OWS_CHECK(cond("s > :v", NULL, V1(":v", S("hell"))));
	OWS_CHECK(cond("s < :v", NULL, V1(":v", S("hellp"))));
	OWS_CHECK(cond("b > :v", NULL, V1(":v", "{\"B\":\"AQI=\"}")));
	OWS_CHECK(cond("t = :v", NULL, V1(":v", "{\"BOOL\":true}")));
	OWS_CHECK(cond("t <> :v", NULL, V1(":v", "{\"BOOL\":false}")));
	OWS_CHECK(cond("nul = :v", NULL, V1(":v", "{\"NULL\":true}")));
	OWS_CHECK(cond("ss = :v", NULL, V1(":v", "{\"SS\":[\"b\",\"a\"]}")));
	OWS_CHECK(cond("ns = :v", NULL, V1(":v", "{\"NS\":[\"2.50\",\"1\"]}")));
	OWS_CHECK(cond("m.b = :v", NULL, V1(":v", "{\"M\":{\"c\":" N("3") "}}")));
	OWS_CHECK(cond("l[1] = :v", NULL, V1(":v", N("2"))));
	OWS_CHECK(cond("l[2].k = :v", NULL, V1(":v", S("v"))));
	OWS_CHECK(cond("m.b.c = :v", NULL, V1(":v", N("3"))));
	OWS_CHECK(cond("#p.#q = :v", "{\"#p\":\"m\",\"#q\":\"a\"}",
		       V1(":v", S("1"))));
	/* missing attributes: equal to nothing, different from all */
	OWS_CHECK(!cond("nothere = :v", NULL, V1(":v", S("x"))));
	OWS_CHECK(cond("nothere <> :v", NULL, V1(":v", S("x"))));
	OWS_CHECK(!cond("nothere < :v", NULL, V1(":v", S("x"))));
	OWS_CHECK(!cond("l[7] = :v", NULL, V1(":v", S("x"))));
	OWS_CHECK(!cond("s.x = :v", NULL, V1(":v", S("x"))));
	OWS_CHECK(!cond("m[0] = :v", NULL, V1(":v", S("x"))));
	/* comparisons of two paths */
	OWS_CHECK(cond("m.a <> s", NULL, NULL));
	OWS_CHECK(cond("l[1] < n", NULL, NULL));
}

OWS_TEST(ddb_expr_between_in)
{
	OWS_CHECK(cond("n BETWEEN :a AND :b", NULL,
		       "{\":a\":" N("5") ",\":b\":" N("10") "}"));
	OWS_CHECK(cond("n BETWEEN :b AND :b", NULL, V1(":b", N("10"))));
	OWS_CHECK(!cond("n BETWEEN :c AND :d", NULL,
			"{\":c\":" N("11") ",\":d\":" N("20") "}"));
	OWS_CHECK(!cond("s BETWEEN :a AND :b", NULL,
			"{\":a\":" N("5") ",\":b\":" N("10") "}"));
	OWS_CHECK(cond("s BETWEEN :a AND :b", NULL,
		       "{\":a\":" S("h") ",\":b\":" S("i") "}"));
	OWS_CHECK(!cond("nothere BETWEEN :a AND :b", NULL,
			"{\":a\":" N("5") ",\":b\":" N("10") "}"));
	OWS_CHECK(cond("n IN (:a, :b, :c)", NULL,
		       "{\":a\":" N("5") ",\":b\":" N("10") ",\":c\":" N("11")
		       "}"));
	OWS_CHECK(!cond("n IN (:a, :c)", NULL,
			"{\":a\":" N("5") ",\":c\":" N("11") "}"));
	OWS_CHECK(cond("s IN (:a, :s)", NULL,
		       "{\":a\":" N("5") ",\":s\":" S("hello") "}"));
	OWS_CHECK(!cond("nothere IN (:s)", NULL, V1(":s", S("hello"))));
}

OWS_TEST(ddb_expr_functions)
{
	OWS_CHECK(cond("attribute_exists(m.b.c) AND attribute_not_exists(zz)",
		       NULL, NULL));
	OWS_CHECK(!cond("attribute_exists(l[3])", NULL, NULL));
	OWS_CHECK(cond("attribute_exists(l[2].k)", NULL, NULL));
	OWS_CHECK(cond("attribute_not_exists(s.x)", NULL, NULL));
	OWS_CHECK(cond("attribute_type(s, :t) AND attribute_type(l, :l) AND "
		       "attribute_type(ns, :ns)", NULL,
		       "{\":t\":" S("S") ",\":l\":" S("L") ",\":ns\":" S("NS")
		       "}"));
	OWS_CHECK(!cond("attribute_type(s, :t)", NULL, V1(":t", S("N"))));
	OWS_CHECK(!cond("attribute_type(zz, :t)", NULL, V1(":t", S("N"))));
	OWS_CHECK(cond("begins_with(s, :p)", NULL, V1(":p", S("he"))));
	OWS_CHECK(cond("begins_with(s, :p)", NULL, V1(":p", S(""))));
	OWS_CHECK(!cond("begins_with(s, :p)", NULL, V1(":p", S("hello!"))));
	OWS_CHECK(cond("begins_with(b, :p)", NULL, V1(":p", "{\"B\":\"AQI=\"}")));
	OWS_CHECK(!cond("begins_with(b, :p)", NULL, V1(":p", "{\"B\":\"Ag==\"}")));
	OWS_CHECK(!cond("begins_with(n, :p)", NULL, V1(":p", S("1"))));
	OWS_CHECK(cond("contains(s, :p)", NULL, V1(":p", S("ell"))));
	OWS_CHECK(!cond("contains(s, :p)", NULL, V1(":p", S("elo"))));
	OWS_CHECK(cond("contains(ss, :p)", NULL, V1(":p", S("a"))));
	OWS_CHECK(!cond("contains(ss, :p)", NULL, V1(":p", S("c"))));
	OWS_CHECK(cond("contains(ns, :p)", NULL, V1(":p", N("2.50"))));
	OWS_CHECK(!cond("contains(ns, :p)", NULL, V1(":p", S("1"))));
	OWS_CHECK(cond("contains(bs, :p)", NULL, V1(":p", "{\"B\":\"AQ==\"}")));
	OWS_CHECK(cond("contains(l, :p)", NULL, V1(":p", N("2"))));
	OWS_CHECK(cond("contains(l, :p)", NULL,
		       V1(":p", "{\"M\":{\"k\":" S("v") "}}")));
	OWS_CHECK(!cond("contains(l, :p)", NULL, V1(":p", S("2"))));
	OWS_CHECK(!cond("contains(n, :p)", NULL, V1(":p", N("1"))));
	OWS_CHECK(cond("contains(s, m.a) OR contains(l, l[0])", NULL, NULL));
	OWS_CHECK(cond("size(s) = :five AND size(l) = :three AND size(ss) = :two"
		       " AND size(m) = :two AND size(b) = :three", NULL,
		       "{\":five\":" N("5") ",\":three\":" N("3") ",\":two\":"
		       N("2") "}"));
	OWS_CHECK(cond("size(m.b) < :two", NULL, V1(":two", N("2"))));
	OWS_CHECK(!cond("size(zz) = :z", NULL, V1(":z", N("0"))));
	OWS_CHECK(cond("size(zz) <> :z", NULL, V1(":z", N("0"))));
}

OWS_TEST(ddb_expr_size_of_number)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_t *item = J(ITEM);
	bool out;

	OWS_CHECK(parse(OWS_DDB_EXPR_FILTER, "size(n) > :v", NULL,
			V1(":v", N("1")), &e) == 0);
	OWS_CHECK(ows_ddb_cond_eval(e, item, &out, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "Invalid FilterExpression: Incorrect operand "
		      "type for operator or function; operator or function: "
		      "size, operand type: N");
	/* no item at all: every attribute is missing */
	ows_ddb_expr_free(e);
	OWS_CHECK(parse(OWS_DDB_EXPR_CONDITION, "attribute_not_exists(pk)",
			NULL, NULL, &e) == 0);
	OWS_CHECK(ows_ddb_cond_eval(e, NULL, &out, &err) == 0 && out);
	ows_ddb_expr_free(e);
	json_decref(item);
}

OWS_TEST(ddb_expr_logic)
{
	const char *v = "{\":t\":{\"BOOL\":true},\":f\":{\"BOOL\":false}}";

	check_unused = false;
	/* truth tables of AND, OR, NOT */
	OWS_CHECK(cond("t = :t AND t = :t", NULL, v));
	OWS_CHECK(!cond("t = :t AND t = :f", NULL, v));
	OWS_CHECK(!cond("t = :f AND t = :t", NULL, v));
	OWS_CHECK(!cond("t = :f AND t = :f", NULL, v));
	OWS_CHECK(cond("t = :t OR t = :t", NULL, v));
	OWS_CHECK(cond("t = :t OR t = :f", NULL, v));
	OWS_CHECK(cond("t = :f OR t = :t", NULL, v));
	OWS_CHECK(!cond("t = :f OR t = :f", NULL, v));
	OWS_CHECK(!cond("NOT t = :t", NULL, v));
	OWS_CHECK(cond("NOT t = :f", NULL, v));
	OWS_CHECK(cond("NOT NOT t = :t", NULL, v));
	/* precedence: NOT > AND > OR */
	OWS_CHECK(cond("t = :t OR t = :f AND t = :f", NULL, v));
	OWS_CHECK(!cond("(t = :t OR t = :f) AND t = :f", NULL, v));
	OWS_CHECK(cond("t = :f AND t = :f OR t = :t", NULL, v));
	OWS_CHECK(!cond("NOT t = :t AND t = :t", NULL, v));
	OWS_CHECK(cond("NOT (t = :t AND t = :f)", NULL, v));
	OWS_CHECK(cond("NOT t = :f OR t = :f", NULL, v));
	OWS_CHECK(cond("t = :t and t = :t or t = :f", NULL, v));
	OWS_CHECK(cond("nothere = :t OR NOT nothere = :t", NULL, v));
}

/* ---- updates ---- */

OWS_TEST(ddb_expr_update_set)
{
	OWS_CHECK(updated("SET n = n + :v", V1(":v", N("5")), "n", N("15")));
	OWS_CHECK(updated("SET n = n - :v", V1(":v", N("0.1")), "n", N("9.9")));
	OWS_CHECK(updated("SET q = :a + :b",
			  "{\":a\":" N("0.1") ",\":b\":" N("0.2") "}", "q",
			  N("0.3")));
	OWS_CHECK(updated("SET q = :a - :b",
			  "{\":a\":" N("1") ",\":b\":" N("1") "}", "q", N("0")));
	OWS_CHECK(updated("SET q = if_not_exists(q, :z) + :o",
			  "{\":z\":" N("0") ",\":o\":" N("1") "}", "q", N("1")));
	OWS_CHECK(updated("SET n = if_not_exists(n, :z)", V1(":z", N("99")),
			  "n", N("10")));
	OWS_CHECK(updated("SET l = list_append(l, :x)",
			  V1(":x", "{\"L\":[" S("z") "]}"), "l",
			  "{\"L\":[" S("x") "," N("2") ",{\"M\":{\"k\":" S("v")
			  "}}," S("z") "]}"));
	OWS_CHECK(updated("SET l = list_append(:x, l)",
			  V1(":x", "{\"L\":[" S("z") "]}"), "l",
			  "{\"L\":[" S("z") "," S("x") "," N("2") ",{\"M\":{\"k\":"
			  S("v") "}}]}"));
	OWS_CHECK(updated("SET q = list_append(if_not_exists(q, :e), :x)",
			  "{\":e\":{\"L\":[]},\":x\":{\"L\":[" S("z") "]}}", "q",
			  "{\"L\":[" S("z") "]}"));
	OWS_CHECK(updated("SET m.b.c = :v", V1(":v", N("4")), "m",
			  "{\"M\":{\"a\":" S("1") ",\"b\":{\"M\":{\"c\":" N("4")
			  "}}}}"));
	OWS_CHECK(updated("SET m.b.d = :v", V1(":v", N("4")), "m",
			  "{\"M\":{\"a\":" S("1") ",\"b\":{\"M\":{\"c\":" N("3")
			  ",\"d\":" N("4") "}}}}"));
	OWS_CHECK(updated("SET l[0] = :y", V1(":y", S("Y")), "l",
			  "{\"L\":[" S("Y") "," N("2") ",{\"M\":{\"k\":" S("v")
			  "}}]}"));
	OWS_CHECK(updated("SET l[2].k = :y", V1(":y", S("Y")), "l",
			  "{\"L\":[" S("x") "," N("2") ",{\"M\":{\"k\":" S("Y")
			  "}}]}"));
	/* an index past the end appends */
	OWS_CHECK(updated("SET l[10] = :y", V1(":y", S("Y")), "l",
			  "{\"L\":[" S("x") "," N("2") ",{\"M\":{\"k\":" S("v")
			  "}}," S("Y") "]}"));
	/* every value from the item as it was: a swap */
	OWS_CHECK(updated("SET s = n, n = s", NULL, "s", N("10")));
	OWS_CHECK(updated("SET s = n, n = s", NULL, "n", S("hello")));
}

OWS_TEST(ddb_expr_update_remove_add_delete)
{
	OWS_CHECK(updated("REMOVE s", NULL, "s", NULL));
	OWS_CHECK(updated("REMOVE zz", NULL, "zz", NULL));
	OWS_CHECK(updated("REMOVE m.b.c", NULL, "m",
			  "{\"M\":{\"a\":" S("1") ",\"b\":{\"M\":{}}}}"));
	/* several list elements: the original positions */
	OWS_CHECK(updated("REMOVE l[0], l[1]", NULL, "l",
			  "{\"L\":[{\"M\":{\"k\":" S("v") "}}]}"));
	OWS_CHECK(updated("REMOVE l[1], l[0]", NULL, "l",
			  "{\"L\":[{\"M\":{\"k\":" S("v") "}}]}"));
	OWS_CHECK(updated("REMOVE l[0], l[2].k", NULL, "l",
			  "{\"L\":[" N("2") ",{\"M\":{}}]}"));
	OWS_CHECK(updated("REMOVE l[9]", NULL, "l",
			  "{\"L\":[" S("x") "," N("2") ",{\"M\":{\"k\":" S("v")
			  "}}]}"));
	OWS_CHECK(updated("ADD n :v", V1(":v", N("5")), "n", N("15")));
	OWS_CHECK(updated("ADD n :v", V1(":v", N("-10")), "n", N("0")));
	OWS_CHECK(updated("ADD q :v", V1(":v", N("5")), "q", N("5")));
	OWS_CHECK(updated("ADD ss :v", V1(":v", "{\"SS\":[\"c\",\"a\"]}"), "ss",
			  "{\"SS\":[\"a\",\"b\",\"c\"]}"));
	OWS_CHECK(updated("ADD qs :v", V1(":v", "{\"NS\":[\"1\"]}"), "qs",
			  "{\"NS\":[\"1\"]}"));
	OWS_CHECK(updated("ADD m.b.c :v", V1(":v", N("1")), "m",
			  "{\"M\":{\"a\":" S("1") ",\"b\":{\"M\":{\"c\":" N("4")
			  "}}}}"));
	OWS_CHECK(updated("DELETE ss :v", V1(":v", "{\"SS\":[\"a\",\"z\"]}"),
			  "ss", "{\"SS\":[\"b\"]}"));
	OWS_CHECK(updated("DELETE ss :v", V1(":v", "{\"SS\":[\"a\",\"b\"]}"),
			  "ss", NULL));
	OWS_CHECK(updated("DELETE zz :v", V1(":v", "{\"SS\":[\"a\"]}"), "zz",
			  NULL));
	OWS_CHECK(updated("DELETE ns :v", V1(":v", "{\"NS\":[\"2.5\"]}"), "ns",
			  "{\"NS\":[\"1\"]}"));
	OWS_CHECK(updated("SET s = :v REMOVE t ADD n :d DELETE ss :x",
			  "{\":v\":" S("a") ",\":d\":" N("1") ",\":x\":{\"SS\":"
			  "[\"a\"]}}", "t", NULL));
}

OWS_TEST(ddb_expr_update_errors)
{
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET s = :v SET n = :v", NULL,
			   V1(":v", S("x"))),
		      "Invalid UpdateExpression: The \"SET\" section can only "
		      "be used once in an update expression;");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET a = :v REMOVE a", NULL,
			   V1(":v", S("x"))),
		      "Invalid UpdateExpression: Two document paths overlap "
		      "with each other; must remove or rewrite one of these "
		      "paths; path one: [a], path two: [a]");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET a = :v, a.b = :v", NULL,
			   V1(":v", S("x"))),
		      "Invalid UpdateExpression: Two document paths overlap "
		      "with each other; must remove or rewrite one of these "
		      "paths; path one: [a], path two: [a, b]");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET m.a = :v, m[0] = :v", NULL,
			   V1(":v", S("x"))),
		      "Invalid UpdateExpression: Two document paths conflict "
		      "with each other; must remove or rewrite one of these "
		      "paths; path one: [m, a], path two: [m, [0]]");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "ADD s :v", NULL,
			   V1(":v", S("x"))),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator: ADD, operand type: "
		      "STRING, typeSet: ALLOWED_FOR_ADD_OPERAND");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "DELETE s :v", NULL,
			   V1(":v", N("1"))),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator: DELETE, operand type: "
		      "NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET a = :v + :w", NULL,
			   "{\":v\":" S("x") ",\":w\":" N("1") "}"),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator or function: +, operand "
		      "type: S");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_UPDATE, "SET a = list_append(a, :w)",
			   NULL, V1(":w", N("1"))),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator or function: "
		      "list_append, operand type: N");
	OWS_CHECK_STR(perr(OWS_DDB_EXPR_PROJECTION, "m, m.a", NULL, NULL),
		      "Invalid ProjectionExpression: Two document paths overlap "
		      "with each other; must remove or rewrite one of these "
		      "paths; path one: [m], path two: [m, a]");
	/* what only the item can tell */
	OWS_CHECK_STR(update_err("SET nope.x = :v", V1(":v", S("x"))),
		      "The document path provided in the update expression is "
		      "invalid for update");
	OWS_CHECK_STR(update_err("SET s[0] = :v", V1(":v", S("x"))),
		      "The document path provided in the update expression is "
		      "invalid for update");
	OWS_CHECK_STR(update_err("REMOVE nope.x", NULL),
		      "The document path provided in the update expression is "
		      "invalid for update");
	/* DELETE from a set under a missing map or list: as SET and REMOVE
	 * (found by differential testing against moto_server) */
	OWS_CHECK_STR(update_err("DELETE nope.x :v",
				 V1(":v", "{\"SS\":[\"a\"]}")),
		      "The document path provided in the update expression is "
		      "invalid for update");
	OWS_CHECK_STR(update_err("DELETE nope[0] :v",
				 V1(":v", "{\"SS\":[\"a\"]}")),
		      "The document path provided in the update expression is "
		      "invalid for update");
	OWS_CHECK(updated("DELETE m.zz :v", V1(":v", "{\"SS\":[\"a\"]}"),
			  "m", "{\"M\":{\"a\":" S("1") ",\"b\":{\"M\":"
			  "{\"c\":" N("3") "}}}}"));
	OWS_CHECK_STR(update_err("SET q = zz", NULL),
		      "The provided expression refers to an attribute that does "
		      "not exist in the item");
	OWS_CHECK_STR(update_err("SET n = s + :v", V1(":v", N("1"))),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator or function: +, operand "
		      "type: S");
	OWS_CHECK_STR(update_err("SET q = list_append(s, :v)",
				 V1(":v", "{\"L\":[]}")),
		      "Invalid UpdateExpression: Incorrect operand type for "
		      "operator or function; operator or function: "
		      "list_append, operand type: S");
	OWS_CHECK_STR(update_err("ADD ss :v", V1(":v", "{\"NS\":[\"1\"]}")),
		      "An operand in the update expression has an incorrect "
		      "data type");
	OWS_CHECK_STR(update_err("ADD s :v", V1(":v", N("1"))),
		      "An operand in the update expression has an incorrect "
		      "data type");
	OWS_CHECK_STR(update_err("DELETE ss :v", V1(":v", "{\"NS\":[\"1\"]}")),
		      "An operand in the update expression has an incorrect "
		      "data type");
	OWS_CHECK(strstr(update_err("SET n = :v + :v",
				    V1(":v", N("9.9999999999999999999999999999"
					       "999999999E+125"))),
			 "Number overflow") != NULL);
}

OWS_TEST(ddb_expr_update_project)
{
	struct ows_ddb_expr *e = NULL;
	json_t *item = J(ITEM), *out, *want;

	OWS_CHECK(parse(OWS_DDB_EXPR_UPDATE,
			"SET m.a = :v, l[1] = :v REMOVE zz ADD n :n", NULL,
			"{\":v\":" S("new") ",\":n\":" N("1") "}", &e) == 0);
	out = ows_ddb_update_project(e, item);
	want = J("{\"m\":{\"M\":{\"a\":" S("1") "}},\"l\":{\"L\":[" N("2")
		 "]},\"n\":" N("10") "}");
	OWS_CHECK(json_equal(out, want));
	json_decref(out);
	json_decref(want);
	ows_ddb_expr_free(e);
	json_decref(item);
}

/* ---- projections ---- */

OWS_TEST(ddb_expr_projection)
{
	struct ows_ddb_expr *e = NULL;
	json_t *item = J(ITEM), *out, *want;

	OWS_CHECK(parse(OWS_DDB_EXPR_PROJECTION,
			"#x, m.b.c, l[2].k, l[0], nothere, m.zz",
			"{\"#x\":\"s\"}", NULL, &e) == 0);
	out = ows_ddb_project(e, item);
	want = J("{\"s\":" S("hello") ",\"m\":{\"M\":{\"b\":{\"M\":{\"c\":"
		 N("3") "}}}},\"l\":{\"L\":[" S("x") ",{\"M\":{\"k\":" S("v")
		 "}}]}}");
	OWS_CHECK(json_equal(out, want));
	json_decref(out);
	json_decref(want);
	ows_ddb_expr_free(e);
	/* nothing matched: an empty object */
	OWS_CHECK(parse(OWS_DDB_EXPR_PROJECTION, "zz, s.x, l[5]", NULL, NULL,
			&e) == 0);
	out = ows_ddb_project(e, item);
	OWS_CHECK(json_object_size(out) == 0);
	json_decref(out);
	ows_ddb_expr_free(e);
	json_decref(item);
}

/* ---- key conditions ---- */

static int keycond(const char *text, const char *values,
		   struct ows_ddb_keycond *kc, struct ows_ddb_expr **e)
{
	struct ows_err err = {""};
	int rc;

	rc = parse(OWS_DDB_EXPR_KEY, text, NULL, values, e);
	if (rc != 0)
		return rc;
	rc = ows_ddb_keycond_resolve(*e, "pk", OWS_DDB_S, "sk", OWS_DDB_N, kc,
				     &err);
	snprintf(msg, sizeof(msg), "%s", err.msg);
	return rc;
}

OWS_TEST(ddb_expr_keycond)
{
	const char *v = "{\":p\":" S("a") ",\":a\":" N("1") ",\":b\":" N("2")
			"}";
	struct ows_ddb_keycond kc;
	struct ows_ddb_expr *e = NULL;

	OWS_CHECK(keycond("pk = :p", V1(":p", S("a")), &kc, &e) == 0);
	OWS_CHECK(kc.op == OWS_DDB_KEY_NONE && kc.pk != NULL);
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("pk = :p AND sk BETWEEN :a AND :b", v, &kc, &e) == 0);
	OWS_CHECK(kc.op == OWS_DDB_KEY_BETWEEN && kc.v1 && kc.v2);
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("sk <= :a AND pk = :p",
			  "{\":p\":" S("a") ",\":a\":" N("1") "}", &kc, &e) == 0);
	OWS_CHECK(kc.op == OWS_DDB_KEY_LE);
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond(":a < sk AND pk = :p",
			  "{\":p\":" S("a") ",\":a\":" N("1") "}", &kc, &e) == 0);
	OWS_CHECK(kc.op == OWS_DDB_KEY_GT);
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("sk = :a", V1(":a", N("1")), &kc, &e) == OWS_EINVAL);
	OWS_CHECK_STR(msg, "Query condition missed key schema element: pk");
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("pk > :p", V1(":p", S("a")), &kc, &e) == OWS_EINVAL);
	OWS_CHECK_STR(msg, "Query key condition not supported");
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("pk = :a", V1(":a", N("1")), &kc, &e) == OWS_EINVAL);
	OWS_CHECK_STR(msg, "One or more parameter values were invalid: "
		      "Condition parameter type does not match schema type");
	ows_ddb_expr_free(e);
	OWS_CHECK(keycond("pk = :p AND begins_with(sk, :s)",
			  "{\":p\":" S("a") ",\":s\":" S("1") "}", &kc, &e) ==
		  OWS_EINVAL);
	OWS_CHECK_STR(msg, "Invalid KeyConditionExpression: Incorrect operand "
		      "type for operator or function; operator or function: "
		      "begins_with, operand type: N");
	ows_ddb_expr_free(e);
	e = NULL;
	OWS_CHECK(keycond("pk = :p OR sk = :a",
			  "{\":p\":" S("a") ",\":a\":" N("1") "}", &kc, &e) ==
		  OWS_EINVAL);
	OWS_CHECK_STR(msg, "Invalid KeyConditionExpression: Invalid operator "
		      "used in KeyConditionExpression: OR");
	OWS_CHECK(keycond("pk = :p AND oth = :a",
			  "{\":p\":" S("a") ",\":a\":" N("1") "}", &kc, &e) ==
		  OWS_EINVAL);
	OWS_CHECK_STR(msg, "Query condition missed key schema element: sk");
	ows_ddb_expr_free(e);
}

/* ---- legacy parameters ---- */

static bool legacy(enum ows_ddb_expr_kind kind, const char *conds,
		   const char *op)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_t *c = J(conds), *item = J(ITEM);
	bool out = false;

	if (ows_ddb_legacy_conditions(kind, c, op, &e, &err) != 0) {
		fprintf(stderr, "legacy %s: %s\n", conds, err.msg);
		exit(1);
	}
	OWS_CHECK(ows_ddb_cond_eval(e, item, &out, &err) == 0);
	ows_ddb_expr_free(e);
	json_decref(c);
	json_decref(item);
	return out;
}

static const char *legacy_err(const char *conds)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_t *c = J(conds);

	OWS_CHECK(ows_ddb_legacy_conditions(OWS_DDB_EXPR_CONDITION, c, NULL, &e,
					    &err) == OWS_EINVAL);
	json_decref(c);
	snprintf(msg, sizeof(msg), "%s", err.msg);
	return msg;
}

#define CO(name, op, list) \
	"{\"" name "\":{\"ComparisonOperator\":\"" op "\"," \
	"\"AttributeValueList\":[" list "]}}"

OWS_TEST(ddb_expr_legacy_expected)
{
	const enum ows_ddb_expr_kind C = OWS_DDB_EXPR_CONDITION;

	OWS_CHECK(legacy(C, "{\"s\":{\"Value\":" S("hello") "}}", NULL));
	OWS_CHECK(legacy(C, "{\"s\":{\"Exists\":true,\"Value\":" S("hello")
			 "}}", NULL));
	OWS_CHECK(!legacy(C, "{\"s\":{\"Value\":" S("bye") "}}", NULL));
	OWS_CHECK(legacy(C, "{\"zz\":{\"Exists\":false}}", NULL));
	OWS_CHECK(!legacy(C, "{\"s\":{\"Exists\":false}}", NULL));
	OWS_CHECK(legacy(C, "{}", NULL));
	OWS_CHECK(legacy(C, CO("n", "EQ", N("10")), NULL));
	OWS_CHECK(legacy(C, CO("n", "NE", N("11")), NULL));
	OWS_CHECK(legacy(C, CO("zz", "NE", N("11")), NULL));
	OWS_CHECK(legacy(C, CO("n", "LE", N("10")), NULL));
	OWS_CHECK(!legacy(C, CO("n", "LT", N("10")), NULL));
	OWS_CHECK(legacy(C, CO("n", "GE", N("10")), NULL));
	OWS_CHECK(legacy(C, CO("n", "GT", N("9")), NULL));
	OWS_CHECK(legacy(C, CO("n", "NOT_NULL", ""), NULL));
	OWS_CHECK(legacy(C, CO("zz", "NULL", ""), NULL));
	OWS_CHECK(legacy(C, CO("s", "CONTAINS", S("ell")), NULL));
	OWS_CHECK(legacy(C, CO("ss", "CONTAINS", S("a")), NULL));
	OWS_CHECK(legacy(C, CO("ss", "NOT_CONTAINS", S("z")), NULL));
	OWS_CHECK(!legacy(C, CO("s", "NOT_CONTAINS", S("h")), NULL));
	OWS_CHECK(legacy(C, CO("s", "BEGINS_WITH", S("he")), NULL));
	OWS_CHECK(legacy(C, CO("n", "IN", N("1") "," N("10")), NULL));
	OWS_CHECK(legacy(C, CO("n", "BETWEEN", N("1") "," N("10")), NULL));
	OWS_CHECK(!legacy(C, CO("n", "BETWEEN", N("11") "," N("12")), NULL));
	OWS_CHECK(legacy(OWS_DDB_EXPR_FILTER, CO("s", "EQ", S("hello")), NULL));
	/* AND and OR */
	OWS_CHECK(!legacy(C, "{\"s\":{\"Value\":" S("hello") "},\"n\":{\"Value\":"
			  N("1") "}}", "AND"));
	OWS_CHECK(legacy(C, "{\"s\":{\"Value\":" S("hello") "},\"n\":{\"Value\":"
			 N("1") "}}", "OR"));
	OWS_CHECK(!legacy(C, "{\"s\":{\"Value\":" S("hello") "},\"n\":{\"Value\":"
			  N("1") "}}", NULL));
	/* the legacy messages */
	OWS_CHECK_STR(legacy_err("{\"s\":{\"Exists\":false,\"Value\":" S("x")
				 "}}"),
		      "One or more parameter values were invalid: Value cannot "
		      "be used when Exists is false for Attribute: s");
	OWS_CHECK_STR(legacy_err("{\"s\":{\"Exists\":true}}"),
		      "One or more parameter values were invalid: Value must be "
		      "provided when Exists is true for Attribute: s");
	OWS_CHECK_STR(legacy_err(CO("s", "EQ", "")),
		      "One or more parameter values were invalid: Invalid "
		      "number of argument(s) for the EQ ComparisonOperator");
	OWS_CHECK_STR(legacy_err(CO("s", "BETWEEN", N("1"))),
		      "One or more parameter values were invalid: Invalid "
		      "number of argument(s) for the BETWEEN ComparisonOperator");
	OWS_CHECK_STR(legacy_err(CO("s", "LT", "{\"BOOL\":true}")),
		      "One or more parameter values were invalid: "
		      "ComparisonOperator LT is not valid for BOOL "
		      "AttributeValue type");
	OWS_CHECK(strstr(legacy_err(CO("s", "LIKE", S("x"))),
			 "Member must satisfy enum value set") != NULL);
}

OWS_TEST(ddb_expr_legacy_updates_projection_keys)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	struct ows_ddb_keycond kc;
	json_t *u, *item = J(ITEM), *out, *want;

	u = J("{\"s\":{\"Action\":\"PUT\",\"Value\":" S("new") "},"
	      "\"t\":{\"Action\":\"DELETE\"},"
	      "\"n\":{\"Action\":\"ADD\",\"Value\":" N("5") "},"
	      "\"ss\":{\"Action\":\"DELETE\",\"Value\":{\"SS\":[\"a\"]}},"
	      "\"l\":{\"Action\":\"ADD\",\"Value\":{\"L\":[" S("z") "]}},"
	      "\"q\":{\"Value\":" N("1") "}}");
	OWS_CHECK(ows_ddb_legacy_updates(u, &e, &err) == 0);
	OWS_CHECK(ows_ddb_update_apply(e, item, &err) == 0);
	OWS_CHECK(jeq(json_object_get(item, "s"), S("new")));
	OWS_CHECK(json_object_get(item, "t") == NULL);
	OWS_CHECK(jeq(json_object_get(item, "n"), N("15")));
	OWS_CHECK(jeq(json_object_get(item, "ss"), "{\"SS\":[\"b\"]}"));
	OWS_CHECK(json_array_size(json_object_get(json_object_get(item, "l"),
						  "L")) == 4);
	OWS_CHECK(jeq(json_object_get(item, "q"), N("1")));
	ows_ddb_expr_free(e);
	json_decref(u);
	u = J("{\"s\":{\"Action\":\"PUT\"}}");
	OWS_CHECK(ows_ddb_legacy_updates(u, &e, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "One or more parameter values were invalid: Only "
		      "DELETE action is allowed when no attribute value is "
		      "specified");
	json_decref(u);
	u = J("{\"s\":{\"Action\":\"ADD\",\"Value\":" S("x") "}}");
	OWS_CHECK(ows_ddb_legacy_updates(u, &e, &err) == OWS_EINVAL);
	json_decref(u);

	u = J("[\"s\", \"n\", \"zz\"]");
	OWS_CHECK(ows_ddb_legacy_projection(u, &e, &err) == 0);
	out = ows_ddb_project(e, item);
	want = J("{\"s\":" S("new") ",\"n\":" N("15") "}");
	OWS_CHECK(json_equal(out, want));
	json_decref(out);
	json_decref(want);
	ows_ddb_expr_free(e);
	json_decref(u);
	u = J("[\"s\", \"s\"]");
	OWS_CHECK(ows_ddb_legacy_projection(u, &e, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "One or more parameter values were invalid: "
		      "Duplicate value in attribute name: s");
	json_decref(u);

	u = J("{\"pk\":{\"ComparisonOperator\":\"EQ\",\"AttributeValueList\":["
	      S("a") "]},\"sk\":{\"ComparisonOperator\":\"BEGINS_WITH\","
	      "\"AttributeValueList\":[" S("x") "]}}");
	OWS_CHECK(ows_ddb_legacy_keyconditions(u, &e, &err) == 0);
	OWS_CHECK(ows_ddb_keycond_resolve(e, "pk", OWS_DDB_S, "sk", OWS_DDB_S,
					  &kc, &err) == 0);
	OWS_CHECK(kc.op == OWS_DDB_KEY_BEGINS_WITH);
	ows_ddb_expr_free(e);
	json_decref(u);
	u = J("{\"pk\":{\"ComparisonOperator\":\"NE\",\"AttributeValueList\":["
	      S("a") "]}}");
	OWS_CHECK(ows_ddb_legacy_keyconditions(u, &e, &err) == OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "Attempted conditional constraint is not an "
		      "indexable operation");
	json_decref(u);
	json_decref(item);
}

OWS_TEST(ddb_expr_reserved_words)
{
	static const char *const words[] = {"ABORT", "zone", "Status", "name",
					    "size", "Data", "ttl", "INNTER"};
	static const char *const fine[] = {"id", "contains", "email", "foo_bar",
					   "attribute_exists", "zones"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char text[64];

		snprintf(text, sizeof(text), "%s", words[i]);
		OWS_CHECK(strstr(perr(OWS_DDB_EXPR_PROJECTION, text, NULL, NULL),
				 "reserved keyword") != NULL);
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct ows_ddb_expr *e = NULL;

		OWS_CHECK(parse(OWS_DDB_EXPR_PROJECTION, fine[i], NULL, NULL,
				&e) == 0);
		ows_ddb_expr_free(e);
	}
}
