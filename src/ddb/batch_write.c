/*
 * BatchWriteItem: up to 25 PutRequests and DeleteRequests over one or
 * more tables, each its own write (no conditions, no atomicity), all in
 * one "ddb" entry. DynamoDB refuses the whole batch when a table is
 * missing, a key does not match its schema, or two requests name one
 * item; so does this, before anything is proposed. Every write of the
 * entry is applied, so UnprocessedItems is always empty: a client's
 * retry loop ends at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/writes.h"

#define BATCH_MAX 25

struct batch {
	struct ows__ddb_tables set;
	json_t *writes;             /* the entry's writes */
	struct ows_ddb_table *t[BATCH_MAX];
};

static void batch_free(struct batch *b)
{
	ows__ddb_tables_free(&b->set);
	json_decref(b->writes);
	free(b);
}

int ows__ddb_seen_once(json_t *seen, const struct ows_ddb_table *t,
		       const json_t *item)
{
	struct ows_buf pk, sk, id;
	uint32_t h;
	size_t i;
	int rv;

	ows_buf_init(&pk);
	ows_buf_init(&sk);
	ows_buf_init(&id);
	rv = ows__ddb_row_key(t, NULL, item, &h, &pk, &sk);
	if (rv != 1) {
		rv = rv < 0 && rv != OWS_EINVAL ? rv : OWS_EINVAL;
		goto done;
	}
	ows_buf_printf(&id, "%lld:", (long long)t->tid);
	for (i = 0; i < pk.len; i++)
		ows_buf_printf(&id, "%02x", pk.data[i]);
	ows_buf_puts(&id, ":");
	for (i = 0; i < sk.len; i++)
		ows_buf_printf(&id, "%02x", sk.data[i]);
	if (json_object_get(seen, (const char *)id.data) != NULL) {
		rv = OWS_EINVAL;
		goto done;
	}
	json_object_set_new(seen, (const char *)id.data, json_true());
	rv = 0;
done:
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	ows_buf_free(&id);
	return rv;
}

static void batch_applied(struct ows__ddb_req *r, void *data,
			  const json_t *result)
{
	struct batch *b = data;
	const json_t *writes = json_object_get(result, "writes");
	const char *rcc, *icm;
	json_t *out, *consumed, *v;
	size_t i;

	if (result == NULL) {
		batch_free(b);
		return;
	}
	rcc = ows__ddb_str(r, "ReturnConsumedCapacity");
	icm = ows__ddb_str(r, "ReturnItemCollectionMetrics");
	consumed = json_object();
	for (i = 0; i < json_array_size(b->writes); i++) {
		const json_t *res = json_array_get(writes, i);
		const char *code = ows_json_str(res, "code");

		if (code != NULL && strcmp(code, "ResourceNotFound") == 0) {
			json_decref(consumed);
			batch_free(b);
			ows__ddb_not_found(r);
			return;
		}
		if (strcmp(ows_json_str(res, "status") ?
			   ows_json_str(res, "status") : "", "ok") == 0)
			ows__ddb_capacity_add(consumed, b->t[i],
					      json_array_get(b->writes, i),
					      res, false);
	}
	out = json_pack("{s:{}}", "UnprocessedItems");
	if ((v = ows__ddb_capacity_list(consumed, rcc)) != NULL)
		json_object_set_new(out, "ConsumedCapacity", v);
	if (icm != NULL && strcmp(icm, "SIZE") == 0)
		json_object_set_new(out, "ItemCollectionMetrics",
				    json_object());
	json_decref(consumed);
	batch_free(b);
	ows__ddb_reply(r, out);
}

/* One element of a table's list: its kind and its request members. */
static int request_of(const json_t *el, const char *table, json_t **rq,
		      enum ows__ddb_wkind *kind, struct ows_err *err)
{
	const json_t *put = json_object_get(el, "PutRequest");
	const json_t *del = json_object_get(el, "DeleteRequest");

	if (!json_is_object(el) || (put != NULL && !json_is_object(put)) ||
	    (del != NULL && !json_is_object(del))) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	if ((put == NULL) == (del == NULL)) {
		ows_err_printf(err, "%s", put == NULL ? "1 validation error "
			       "detected: Value null at 'requestItems' failed "
			       "to satisfy constraint: Member must not be null"
			       : "A WriteRequest must contain exactly one of "
			       "PutRequest or DeleteRequest");
		return OWS_EINVAL;
	}
	*kind = put ? OWS__DDB_PUT : OWS__DDB_DELETE;
	*rq = put ? json_pack("{s:s, s:O}", "TableName", table, "Item",
			      json_object_get(put, "Item") ?
			      json_object_get(put, "Item") : json_null())
		  : json_pack("{s:s, s:O}", "TableName", table, "Key",
			      json_object_get(del, "Key") ?
			      json_object_get(del, "Key") : json_null());
	if (*rq != NULL && json_is_null(json_object_get(*rq, put ? "Item"
							       : "Key")))
		json_object_del(*rq, put ? "Item" : "Key");
	return *rq ? 0 : -ENOMEM;
}

/* Check every request of the batch into b; the leading keys by table. */
static int batch_check(struct ows__ddb_req *r, struct batch *b,
		       json_t *lks, struct ows_err *err)
{
	const json_t *items = json_object_get(r->body, "RequestItems");
	const char *table;
	json_t *list, *seen = json_object(), *rq, *w, *el;
	enum ows__ddb_wkind kind;
	size_t i, n = 0;
	int rv = 0;

	json_object_foreach((json_t *)items, table, list) {
		if (!json_is_array(list)) {
			ows_err_printf(err, "Unexpected value type in payload");
			rv = OWS_EPARSE;
			goto done;
		}
		json_array_foreach(list, i, el) {
			if (n == BATCH_MAX) {
				ows_err_printf(err, "Too many items requested "
					       "for the BatchWriteItem call");
				rv = OWS_EINVAL;
				goto done;
			}
			if ((rv = request_of(el, table, &rq, &kind, err)) != 0)
				goto done;
			rv = ows__ddb_write_check(r->c->host->state, &b->set,
						  kind, rq, false, "", &w,
						  &b->t[n], err);
			json_decref(rq);
			if (rv != 0)
				goto done;
			json_array_append_new(b->writes, w);
			el = json_object_get(w, kind == OWS__DDB_PUT ? "item"
					     : "key");
			if ((rv = ows__ddb_seen_once(seen, b->t[n], el)) != 0) {
				ows_err_printf(err, "Provided list of item "
					       "keys contains duplicates");
				goto done;
			}
			if (json_object_get(lks, table) == NULL)
				json_object_set_new(lks, table, json_pack(
					"{s:[], s:{}}", "keys", "attributes"));
			json_array_append_new(json_object_get(json_object_get(
				lks, table), "keys"), json_string(
				ows__ddb_leading_key(b->t[n], el)));
			if ((rv = ows__ddb_write_attributes(w, json_object_get(
				json_object_get(lks, table), "attributes")))
			    != 0)
				goto done;
			n++;
		}
	}
done:
	json_decref(seen);
	return rv;
}

static int items_shape(const json_t *items, struct ows_err *err)
{
	const char *table;
	json_t *list;

	if (items != NULL && !json_is_object(items)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	if (items == NULL || json_object_size(items) == 0) {
		ows_err_printf(err, "1 validation error detected: Value %s at "
			       "'requestItems' failed to satisfy constraint: "
			       "%s", items ? "'{}'" : "null", items ?
			       "Member must have length greater than or equal"
			       " to 1" : "Member must not be null");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)items, table, list) {
		if (json_is_array(list) && json_array_size(list) == 0) {
			ows_err_printf(err, "1 validation error detected: "
				       "Value '{%.200s=[]}' at 'requestItems' "
				       "failed to satisfy constraint: Map value"
				       " must satisfy constraint: [Member must "
				       "have length less than or equal to 25, "
				       "Member must have length greater than or"
				       " equal to 1]", table);
			return OWS_EINVAL;
		}
	}
	return 0;
}

void ows__ddb_batch_write(struct ows__ddb_req *r)
{
	/* malloc'd: it outlives the answer, which frees the call's arena */
	struct batch *b = calloc(1, sizeof(*b));
	struct ows_err err = {{0}};
	const char *table;
	json_t *lks = json_object(), *list;
	bool retried;
	int rv;

	if (b == NULL || lks == NULL) {
		free(b);
		json_decref(lks);
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		return;
	}
	b->writes = json_array();
	retried = r->data == &ows__ddb_caught_up;
	r->data = b;
	if ((rv = ows__ddb_return_check(r->body, &err)) != 0 ||
	    (rv = items_shape(json_object_get(r->body, "RequestItems"),
			      &err)) != 0 ||
	    (rv = batch_check(r, b, lks, &err)) != 0) {
		goto denied_first;
	}
	json_object_foreach(lks, table, list) {
		json_t *attrs = ows__ddb_names_array(json_incref(
			json_object_get(list, "attributes")));

		rv = attrs == NULL ? -ENOMEM : ows__ddb_authorize(
			r, "dynamodb:BatchWriteItem", table, NULL,
			json_object_get(list, "keys"), attrs);
		json_decref(attrs);
		if (rv == -ENOMEM)
			ows__ddb_error(r, 500, "InternalServerError",
				       "out of memory");
		if (rv != 0)
			goto out;
	}
	json_decref(lks);
	ows__ddb_propose(r, json_pack("{s:s, s:O}", "op", "write", "writes",
				      b->writes), batch_applied);
	return;
denied_first:
	/* a missing table or a request that does not fit its schema: the
	 * caller's right on the batch's tables first (a caller who may not
	 * write there learns nothing of them) */
	json_object_foreach(json_object_get(r->body, "RequestItems"), table,
			    list)
		if (ows__ddb_authorize(r, "dynamodb:BatchWriteItem", table,
				       NULL, NULL, NULL) != 0)
			goto out;
	if (rv != OWS_ENOTFOUND || retried ||
	    ows__ddb_catch_up(r, ows__ddb_batch_write) != 0)
		ows__ddb_check_failed(r, rv, &err);
out:
	json_decref(lks);
	batch_free(b);
}
