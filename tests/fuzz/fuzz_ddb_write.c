/*
 * Fuzz target for the decoding of DynamoDB's write requests (src/ddb/
 * write_check.c, ows__ddb_write_check): the input is a request body,
 * parsed as JSON (its TableName forced to the table made here, so that no
 * node is needed) and validated as a Put, an Update, a Delete and a
 * ConditionCheck, alone and as a transaction's action, against a table
 * with a sort key and a global index. What is accepted then goes through
 * what apply does with it (ddb/apply.c): its expressions parsed again
 * from the write alone, the condition evaluated on a stored item and on
 * none, the update applied to a copy. Besides not crashing it checks
 * what writes.h promises: a refusal carries a message; an accepted write
 * has its kind, table, tid and an item or key of the table's schema, and
 * its expressions parse again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/writes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char stored_json[] =
	"{\"id\":{\"S\":\"a\"},\"ts\":{\"N\":\"2\"},\"email\":{\"S\":\"x@y\"},"
	"\"n\":{\"N\":\"10\"},\"l\":{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"}]},"
	"\"m\":{\"M\":{\"a\":{\"S\":\"1\"}}},\"ss\":{\"SS\":[\"a\",\"b\"]}}";

static struct ows_ddb_table *make_table(void)
{
	struct ows_ddb_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	t->refs = 1; /* the one holder: ows__ddb_tables_free */
	strcpy(t->name, "tbl");
	t->tid = 7;
	ows__ddb_keydef_parse("id:S", &t->pk);
	ows__ddb_keydef_parse("ts:N", &t->sk);
	t->n_indexes = 1;
	strcpy(t->indexes[0].name, "by-email");
	t->indexes[0].iid = 1;
	t->indexes[0].active = true;
	ows__ddb_keydef_parse("email:S", &t->indexes[0].pk);
	t->indexes[0].projection = OWS_DDB_PROJ_ALL;
	return t;
}

/* What apply does with an accepted write, on a copy of stored. */
static void as_apply(const json_t *w, const json_t *stored)
{
	struct ows_ddb_expr *cond = NULL, *upd = NULL;
	struct ows_err err = {""};
	json_t *item;
	bool holds;

	/* validated once, it parses again from the write alone */
	if (ows__ddb_write_parse(w, &cond, &upd, &err) != 0)
		abort();
	if (cond != NULL) {
		if (ows_ddb_cond_eval(cond, stored, &holds, &err) != 0 &&
		    err.msg[0] == '\0')
			abort();
		err.msg[0] = '\0';
		if (ows_ddb_cond_eval(cond, NULL, &holds, &err) != 0 &&
		    err.msg[0] == '\0')
			abort();
	}
	if (upd != NULL) {
		item = json_deep_copy(stored);
		err.msg[0] = '\0';
		if (ows_ddb_update_apply(upd, item, &err) != 0 &&
		    err.msg[0] == '\0')
			abort();
		if (!json_is_object(item))
			abort();
		json_decref(item);
	}
	ows_ddb_expr_free(cond);
	ows_ddb_expr_free(upd);
}

static void check_one(json_t *rq, enum ows__ddb_wkind kind, bool in_txn,
		      const json_t *stored)
{
	struct ows__ddb_tables set = {0};
	struct ows_ddb_table *t = NULL;
	struct ows_err err = {""};
	json_t *w = NULL, *key;
	int rc;

	set.t[set.n++] = make_table();
	rc = ows__ddb_write_check(NULL, &set, kind, rq, in_txn,
				  in_txn ? "transactItems.1.member.put." : "",
				  &w, &t, &err);
	if (rc != 0) {
		if ((rc == OWS_EINVAL || rc == OWS_EPARSE) && err.msg[0] == '\0')
			abort();
		if (rc != OWS_EINVAL && rc != OWS_EPARSE && rc != -ENOMEM)
			abort();
		goto done;
	}
	if (t != set.t[0] || ows_json_str(w, "kind") == NULL ||
	    json_integer_value(json_object_get(w, "tid")) != 7)
		abort();
	key = json_object_get(w, kind == OWS__DDB_PUT ? "item" : "key");
	if (!json_is_object(key))
		abort();
	key = ows__ddb_key_of(t, key);
	if (ows__ddb_key_check(t, key, &err) != 0)
		abort();
	json_decref(key);
	as_apply(w, stored);
done:
	json_decref(w);
	ows__ddb_tables_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rq = json_loadb((const char *)data, size, 0, NULL);
	json_t *stored = json_loads(stored_json, 0, NULL);
	enum ows__ddb_wkind k;

	if (json_is_object(rq)) {
		/* no node here: the one table there is */
		json_object_set_new(rq, "TableName", json_string("tbl"));
		for (k = OWS__DDB_PUT; k <= OWS__DDB_CHECK; k++) {
			check_one(rq, k, false, stored);
			check_one(rq, k, true, stored);
		}
	}
	json_decref(stored);
	json_decref(rq);
	return 0;
}
