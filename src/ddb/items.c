/*
 * PutItem, UpdateItem and DeleteItem: one write each, validated here
 * (write_check.c), authorised with the item's partition key as
 * dynamodb:LeadingKeys, proposed as a "ddb" entry of one write, and
 * answered from its result: the old or new item as ReturnValues asks
 * (UPDATED_* projected to the paths the update named), the consumed
 * write units, or ConditionalCheckFailedException with the old item
 * when ReturnValuesOnConditionCheckFailure is ALL_OLD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/writes.h"

struct single {
	struct ows__ddb_tables set;
	struct ows_ddb_table *t;
	json_t *w;                  /* the write, as proposed */
};

static void single_free(struct single *sg)
{
	ows__ddb_tables_free(&sg->set);
	json_decref(sg->w);
	free(sg);
}

/* The Attributes member that ReturnValues asks for, or NULL. */
static json_t *attributes(const json_t *w, const json_t *res)
{
	const char *rv = ows_json_str(w, "ReturnValues");
	const json_t *old = json_object_get(res, "old");
	const json_t *item = ows__ddb_result_new(w, res);
	struct ows_ddb_expr *upd = NULL;
	struct ows_err err;
	json_t *out = NULL;

	if (rv == NULL || strcmp(rv, "NONE") == 0)
		return NULL;
	if (strcmp(rv, "ALL_OLD") == 0)
		return old ? json_deep_copy(old) : NULL;
	if (strcmp(rv, "ALL_NEW") == 0)
		return item ? json_deep_copy(item) : NULL;
	if (ows__ddb_write_parse(w, NULL, &upd, &err) != 0 || upd == NULL)
		return NULL;
	if (strcmp(rv, "UPDATED_OLD") == 0 && old != NULL)
		out = ows_ddb_update_project(upd, old);
	else if (strcmp(rv, "UPDATED_NEW") == 0 && item != NULL)
		out = ows_ddb_update_project(upd, item);
	ows_ddb_expr_free(upd);
	if (out != NULL && json_object_size(out) == 0) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

/*
 * Answer a write's failure (res: a "failed" result of the entry):
 * ConditionalCheckFailedException (with the old item when asked),
 * ResourceNotFoundException, or ValidationException.
 */
static void write_failed(struct ows__ddb_req *r, const json_t *res)
{
	const char *code = ows_json_str(res, "code");
	const json_t *item = json_object_get(res, "item");

	if (code != NULL && strcmp(code, "ConditionalCheckFailed") == 0)
		ows__ddb_error_with(r, 400, "ConditionalCheckFailedException",
				    item ? json_pack("{s:O}", "Item", item)
				    : NULL, "The conditional request failed");
	else if (code != NULL && strcmp(code, "ResourceNotFound") == 0)
		ows__ddb_not_found(r);
	else
		ows__ddb_invalidf(r, "%s", ows_json_str(res, "message") ?
				  ows_json_str(res, "message") : "invalid");
}

static void single_applied(struct ows__ddb_req *r, void *data,
			   const json_t *result)
{
	struct single *sg = data;
	const json_t *res = json_array_get(json_object_get(result, "writes"),
					   0);
	const char *rcc, *icm;
	json_t *out, *v, *consumed;

	if (result == NULL) {
		single_free(sg);
		return;
	}
	rcc = ows__ddb_str(r, "ReturnConsumedCapacity");
	icm = ows__ddb_str(r, "ReturnItemCollectionMetrics");
	if (!json_is_object(res) || strcmp(ows_json_str(res, "status") ?
	    ows_json_str(res, "status") : "", "ok") != 0) {
		if (res == NULL)
			ows__ddb_error(r, 500, "InternalServerError",
				       "the write has no result");
		else
			write_failed(r, res);
		single_free(sg);
		return;
	}
	out = json_object();
	if ((v = attributes(sg->w, res)) != NULL)
		json_object_set_new(out, "Attributes", v);
	if (rcc != NULL && strcmp(rcc, "NONE") != 0) {
		consumed = json_object();
		ows__ddb_capacity_add(consumed, sg->t, sg->w, res, false);
		json_object_set_new(out, "ConsumedCapacity",
				    ows__ddb_capacity_out(json_object_get(
					consumed, sg->t->name), rcc));
		json_decref(consumed);
	}
	if (icm != NULL && strcmp(icm, "SIZE") == 0 &&
	    (v = ows__ddb_collection_metrics(sg->t, json_object_get(
			sg->w, "item") ? json_object_get(sg->w, "item") :
			json_object_get(sg->w, "key"))) != NULL)
		json_object_set_new(out, "ItemCollectionMetrics", v);
	single_free(sg);
	ows__ddb_reply(r, out);
}

static void single_write(struct ows__ddb_req *r, enum ows__ddb_wkind kind,
			 const char *action, void (*again)(struct ows__ddb_req *r))
{
	/* malloc'd: it outlives the answer, which frees the call's arena */
	struct single *sg = calloc(1, sizeof(*sg));
	struct ows_err err = {{0}};
	bool retried;
	json_t *lk, *attrs;
	int rv;

	if (sg == NULL) {
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		return;
	}
	retried = r->data == &ows__ddb_caught_up;
	r->data = sg;
	if ((rv = ows__ddb_return_check(r->body, &err)) != 0) {
		ows__ddb_check_failed(r, rv, &err);
		goto out;
	}
	rv = ows__ddb_write_check(r->c->host->state, &sg->set, kind, r->body,
				  false, "", &sg->w, &sg->t, &err);
	/* a caller who may not write there learns nothing of the table:
	 * neither that it is missing nor its key schema */
	if (rv != 0 && ows__ddb_str(r, "TableName") != NULL &&
	    ows__ddb_authorize(r, action, ows__ddb_str(r, "TableName"), NULL,
			       NULL, NULL) != 0)
		goto out;
	if (rv == OWS_ENOTFOUND && !retried &&
	    ows__ddb_catch_up(r, again) == 0)
		goto out;
	if (rv != 0) {
		ows__ddb_check_failed(r, rv, &err);
		goto out;
	}
	lk = json_pack("[s]", ows__ddb_leading_key(sg->t, json_object_get(
			sg->w, kind == OWS__DDB_PUT ? "item" : "key")));
	attrs = json_object();
	if (lk == NULL || attrs == NULL ||
	    ows__ddb_write_attributes(sg->w, attrs) != 0 ||
	    (attrs = ows__ddb_names_array(attrs)) == NULL) {
		json_decref(lk);
		json_decref(attrs);
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		goto out;
	}
	rv = ows__ddb_authorize(r, action, sg->t->name, NULL, lk, attrs);
	json_decref(lk);
	json_decref(attrs);
	if (rv != 0)
		goto out;
	ows__ddb_propose(r, json_pack("{s:s, s:[O]}", "op", "write", "writes",
				      sg->w), single_applied);
	return;
out:
	single_free(sg);
}

void ows__ddb_put_item(struct ows__ddb_req *r)
{
	single_write(r, OWS__DDB_PUT, "dynamodb:PutItem", ows__ddb_put_item);
}

void ows__ddb_update_item(struct ows__ddb_req *r)
{
	single_write(r, OWS__DDB_UPDATE, "dynamodb:UpdateItem",
		     ows__ddb_update_item);
}

void ows__ddb_delete_item(struct ows__ddb_req *r)
{
	single_write(r, OWS__DDB_DELETE, "dynamodb:DeleteItem",
		     ows__ddb_delete_item);
}
