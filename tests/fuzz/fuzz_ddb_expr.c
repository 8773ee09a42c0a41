/*
 * Fuzz target for DynamoDB's expressions (src/ddb/ddb_expr.h). The bytes
 * (up to the first NUL) are parsed as each kind of expression with fixed
 * ExpressionAttributeNames and Values; what parses is evaluated on a
 * fixed item and on no item (conditions), applied to a copy of the item
 * (updates), projected (projections and the update's paths) and resolved
 * against a key schema (key conditions). The same bytes read as JSON go
 * to the legacy parameters. Besides not crashing, every refusal must
 * carry a message, and an update must leave an object behind.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/ddb_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char names_json[] =
	"{\"#a\":\"a\",\"#b\":\"b\",\"#n\":\"n\",\"#l\":\"l\",\"#m\":\"m\","
	"\"#s\":\"status\"}";
static const char values_json[] =
	"{\":s\":{\"S\":\"he\"},\":n\":{\"N\":\"1.5\"},\":z\":{\"N\":\"-0\"},"
	"\":big\":{\"N\":\"9.9E+125\"},\":l\":{\"L\":[{\"S\":\"x\"}]},"
	"\":ss\":{\"SS\":[\"a\",\"c\"]},\":ns\":{\"NS\":[\"1\"]},"
	"\":b\":{\"B\":\"AQ==\"},\":t\":{\"S\":\"N\"},\":bool\":{\"BOOL\":true},"
	"\":m\":{\"M\":{\"k\":{\"NULL\":true}}}}";
static const char item_json[] =
	"{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"},\"s\":{\"S\":\"hello\"},"
	"\"n\":{\"N\":\"10\"},\"status\":{\"BOOL\":false},"
	"\"l\":{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"},{\"M\":{\"k\":{\"S\":\"v\"}}},"
	"{\"L\":[{\"NULL\":true}]}]},"
	"\"m\":{\"M\":{\"a\":{\"S\":\"1\"},\"b\":{\"M\":{\"c\":{\"N\":\"3\"}}}}},"
	"\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},"
	"\"b\":{\"B\":\"AQID\"},\"bs\":{\"BS\":[\"AQ==\"]}}";

static void must_say(int rc, const struct ows_err *err)
{
	if (rc == OWS_EINVAL && err->msg[0] == '\0')
		abort();
}

static void use(struct ows_ddb_expr *e, enum ows_ddb_expr_kind kind,
		const json_t *item)
{
	struct ows_err err = {""};
	struct ows_ddb_keycond kc;
	json_t *copy, *out;
	bool holds;
	int rc;

	switch (kind) {
	case OWS_DDB_EXPR_CONDITION:
	case OWS_DDB_EXPR_FILTER:
		must_say(ows_ddb_cond_eval(e, item, &holds, &err), &err);
		err.msg[0] = '\0';
		must_say(ows_ddb_cond_eval(e, NULL, &holds, &err), &err);
		break;
	case OWS_DDB_EXPR_KEY:
		must_say(ows_ddb_keycond_resolve(e, "pk", OWS_DDB_S, "sk",
						 OWS_DDB_N, &kc, &err), &err);
		err.msg[0] = '\0';
		must_say(ows_ddb_keycond_resolve(e, "pk", OWS_DDB_S, NULL,
						 OWS_DDB_NONE, &kc, &err), &err);
		break;
	case OWS_DDB_EXPR_UPDATE:
		copy = json_deep_copy(item);
		if (copy == NULL)
			abort();
		rc = ows_ddb_update_apply(e, copy, &err);
		must_say(rc, &err);
		if (!json_is_object(copy))
			abort();
		out = ows_ddb_update_project(e, copy);
		json_decref(out);
		json_decref(copy);
		break;
	case OWS_DDB_EXPR_PROJECTION:
		out = ows_ddb_project(e, item);
		if (out != NULL && !json_is_object(out))
			abort();
		json_decref(out);
		break;
	}
	(void)ows_ddb_expr_names_top(e, "pk");
}

static void legacy(const uint8_t *data, size_t size, const json_t *item)
{
	struct ows_ddb_expr *e = NULL;
	struct ows_err err = {""};
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, 0, &je);
	int rc;

	if (doc == NULL)
		return;
	rc = ows_ddb_legacy_conditions(OWS_DDB_EXPR_CONDITION, doc, "OR", &e,
				       &err);
	must_say(rc, &err);
	if (rc == 0)
		use(e, OWS_DDB_EXPR_CONDITION, item);
	ows_ddb_expr_free(e);
	e = NULL;
	rc = ows_ddb_legacy_keyconditions(doc, &e, &err);
	if (rc == 0)
		use(e, OWS_DDB_EXPR_KEY, item);
	ows_ddb_expr_free(e);
	e = NULL;
	rc = ows_ddb_legacy_updates(doc, &e, &err);
	if (rc == 0)
		use(e, OWS_DDB_EXPR_UPDATE, item);
	ows_ddb_expr_free(e);
	e = NULL;
	rc = ows_ddb_legacy_projection(doc, &e, &err);
	if (rc == 0)
		use(e, OWS_DDB_EXPR_PROJECTION, item);
	ows_ddb_expr_free(e);
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *names = json_loads(names_json, 0, NULL);
	json_t *values = json_loads(values_json, 0, NULL);
	json_t *item = json_loads(item_json, 0, NULL);
	char *text;
	int kind, rc;

	if (names == NULL || values == NULL || item == NULL)
		abort();
	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (kind = OWS_DDB_EXPR_CONDITION; kind <= OWS_DDB_EXPR_PROJECTION;
	     kind++) {
		struct ows_ddb_expr *e = NULL;
		struct ows_err err = {""};
		struct ows_ddb_subst s;

		ows_ddb_subst_init(&s, names, values);
		rc = ows_ddb_expr_parse(kind, text, &s, &e, &err);
		must_say(rc, &err);
		if (rc == 0) {
			use(e, kind, item);
			err.msg[0] = '\0';
			must_say(ows_ddb_subst_check(&s, &err), &err);
		} else if (e != NULL) {
			abort();
		}
		ows_ddb_expr_free(e);
		ows_ddb_subst_close(&s);
	}
	legacy(data, size, item);
	free(text);
	json_decref(names);
	json_decref(values);
	json_decref(item);
	return 0;
}
