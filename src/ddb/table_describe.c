/*
 * The read side of tables (DynamoDB API Reference): DescribeTable's
 * TableDescription, which CreateTable, UpdateTable and DeleteTable also
 * answer with, ListTables, ListTagsOfResource, DescribeTimeToLive,
 * DescribeLimits and DescribeEndpoints. Everything comes from this
 * node's state (an eventually consistent answer, as DynamoDB's control
 * plane gives); after a change the handlers wait for the local state to
 * hold it before describing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "ddb/table_api.h"
#include "ddb/tables.h"

char *ows__ddb_table_arn(struct ows__ddb_req *r, const char *name)
{
	struct ows_aws_call *c = r->c;

	return ows_arena_printf(c->arena, "arn:aws:dynamodb:%s:%s:table/%s",
				c->region[0] ? c->region : c->host->region,
				c->host->account, name);
}

void ows__ddb_table_not_found(struct ows__ddb_req *r, const char *name)
{
	ows__ddb_error(r, 400, "ResourceNotFoundException", "Requested "
		       "resource not found: Table: %s not found", name);
}

static json_t *key_schema(const struct ows_ddb_keydef *pk,
			  const struct ows_ddb_keydef *sk)
{
	json_t *ks = json_pack("[{s:s, s:s}]", "AttributeName", pk->name,
			       "KeyType", "HASH");

	if (sk->name[0])
		json_array_append_new(ks, json_pack("{s:s, s:s}",
						    "AttributeName", sk->name,
						    "KeyType", "RANGE"));
	return ks;
}

/* Add key k to the AttributeDefinitions defs, once. */
static void def_add(json_t *defs, json_t *seen, const struct ows_ddb_keydef *k)
{
	if (k->name[0] == '\0' || json_object_get(seen, k->name) != NULL)
		return;
	json_object_set_new(seen, k->name, json_true());
	json_array_append_new(defs, json_pack("{s:s, s:s}", "AttributeName",
					      k->name, "AttributeType",
					      ows_ddb_type_name(k->type)));
}

static json_t *throughput(const json_t *prov)
{
	return json_pack("{s:i, s:I, s:I}", "NumberOfDecreasesToday", 0,
			 "ReadCapacityUnits",
			 json_integer_value(json_object_get(prov, "read")),
			 "WriteCapacityUnits",
			 json_integer_value(json_object_get(prov, "write")));
}

static json_t *projection(const struct ows_ddb_index *ix)
{
	if (ix->projection == OWS_DDB_PROJ_INCLUDE)
		return json_pack("{s:s, s:O}", "ProjectionType", "INCLUDE",
				 "NonKeyAttributes", ix->include);
	return json_pack("{s:s}", "ProjectionType",
			 ix->projection == OWS_DDB_PROJ_ALL ? "ALL"
							    : "KEYS_ONLY");
}

static json_t *index_describe(struct ows__ddb_req *r,
			      const struct ows_ddb_table *t,
			      const struct ows_ddb_index *ix)
{
	const json_t *spec = json_object_get(json_object_get(t->spec,
							     "indexes"),
					     ix->name);
	json_int_t items = 0, bytes = 0;
	sqlite3_stmt *st;
	json_t *d;

	if (ows_state_prepare(r->c->host->state, "SELECT items, bytes FROM "
			      "ddb_indexes WHERE tid=? AND name=?", &st) == 0) {
		sqlite3_bind_int64(st, 1, t->tid);
		sqlite3_bind_text(st, 2, ix->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			items = sqlite3_column_int64(st, 0);
			bytes = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	d = json_pack("{s:s, s:o, s:o, s:I, s:I, s:s}", "IndexName", ix->name,
		      "KeySchema", key_schema(&ix->pk, &ix->sk), "Projection",
		      projection(ix), "ItemCount", items, "IndexSizeBytes",
		      bytes, "IndexArn",
		      ows_arena_printf(r->c->arena, "%s/index/%s",
				       ows__ddb_table_arn(r, t->name),
				       ix->name));
	if (!ix->local) {
		json_object_set_new(d, "IndexStatus", json_string(
			ix->active ? "ACTIVE" : "CREATING"));
		json_object_set_new(d, "ProvisionedThroughput", throughput(
			json_object_get(spec, "provisioned")));
		if (!ix->active)
			json_object_set_new(d, "Backfilling", json_true());
	}
	return d;
}

/* A stable UUID-shaped TableId from the account, name and tid. */
static void table_id(struct ows__ddb_req *r, const struct ows_ddb_table *t,
		     char out[37])
{
	char text[600], h[65];

	snprintf(text, sizeof(text), "%s/%s/%lld", r->c->host->account,
		 t->name, (long long)t->tid);
	ows_sha256_hex(text, strlen(text), h);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
		 h + 16, h + 20);
}

static json_t *describe(struct ows__ddb_req *r, const struct ows_ddb_table *t,
			const char *status)
{
	const char *bm = ows_json_str(t->spec, "billing_mode");
	json_t *defs = json_array(), *seen = json_object();
	json_t *lsi = json_array(), *gsi = json_array(), *d;
	char id[37];

	def_add(defs, seen, &t->pk);
	def_add(defs, seen, &t->sk);
	for (size_t i = 0; i < t->n_indexes; i++) {
		const struct ows_ddb_index *ix = &t->indexes[i];

		def_add(defs, seen, &ix->pk);
		def_add(defs, seen, &ix->sk);
		json_array_append_new(ix->local ? lsi : gsi,
				      index_describe(r, t, ix));
	}
	json_decref(seen);
	table_id(r, t, id);
	d = json_pack("{s:s, s:s, s:f, s:o, s:o, s:I, s:I, s:s, s:s, "
		      "s:{s:s}, s:o, s:b}",
		      "TableName", t->name, "TableStatus",
		      status ? status : "ACTIVE", "CreationDateTime",
		      (double)t->created_ms / 1000.0, "KeySchema",
		      key_schema(&t->pk, &t->sk), "AttributeDefinitions", defs,
		      "ItemCount", (json_int_t)t->items, "TableSizeBytes",
		      (json_int_t)t->bytes, "TableArn",
		      ows__ddb_table_arn(r, t->name), "TableId", id,
		      "BillingModeSummary", "BillingMode",
		      bm ? bm : "PAY_PER_REQUEST", "ProvisionedThroughput",
		      throughput(json_object_get(t->spec, "provisioned")),
		      "DeletionProtectionEnabled", 0);
	if (json_array_size(lsi) > 0)
		json_object_set(d, "LocalSecondaryIndexes", lsi);
	if (json_array_size(gsi) > 0)
		json_object_set(d, "GlobalSecondaryIndexes", gsi);
	json_decref(lsi);
	json_decref(gsi);
	return d;
}

json_t *ows__ddb_table_describe(struct ows__ddb_req *r, const char *name,
				const char *status)
{
	struct ows_ddb_table *t = NULL;
	json_t *d;

	if (ows__ddb_table_load(r->c->host->state, name, &t) != 0)
		return NULL;
	d = describe(r, t, status);
	ows__ddb_table_free(t);
	return d;
}

void ows__ddb_reply_description(struct ows__ddb_req *r, const char *member,
				const char *name)
{
	json_t *d = ows__ddb_table_describe(r, name, NULL);

	if (d == NULL) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	ows__ddb_reply(r, json_pack("{s:o}", member, d));
}

void ows__ddb_describe_table(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:DescribeTable",
					       name, NULL, NULL, NULL) != 0)
		return;
	ows__ddb_reply_description(r, "Table", name);
}

/* ---- ListTables ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The page of names after start (NULL: from the first), sorted. */
static json_t *list_page(json_t *rows, const char *start, json_int_t limit)
{
	size_t n = json_array_size(rows), i, k = 0;
	const char **v = calloc(n + 1, sizeof(*v));
	json_t *out = json_object(), *names = json_array();
	json_t *row;

	if (v == NULL || out == NULL || names == NULL) {
		free(v);
		json_decref(out);
		json_decref(names);
		return NULL;
	}
	json_array_foreach(rows, i, row)
		v[k++] = ows_json_str(row, "name");
	qsort(v, k, sizeof(*v), str_cmp);
	for (i = 0; i < k && (json_int_t)json_array_size(names) < limit; i++)
		if (start == NULL || strcmp(v[i], start) > 0)
			json_array_append_new(names, json_string(v[i]));
	json_object_set_new(out, "TableNames", names);
	/* more after this page: where the next one starts */
	for (; i < k; i++)
		if (start == NULL || strcmp(v[i], start) > 0) {
			json_object_set_new(out, "LastEvaluatedTableName",
					    json_copy(json_array_get(
						    names, json_array_size(names) - 1)));
			break;
		}
	free(v);
	return out;
}

void ows__ddb_list_tables(struct ows__ddb_req *r)
{
	const json_t *lim = json_object_get(r->body, "Limit");
	const char *start = ows__ddb_str(r, "ExclusiveStartTableName");
	json_int_t limit = lim ? json_integer_value(lim) : 100;
	json_t *rows, *out;

	if (lim != NULL && (!json_is_integer(lim) || limit < 1 || limit > 100)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%lld' "
				  "at 'limit' failed to satisfy constraint: "
				  "Member must have value %s", (long long)limit,
				  limit < 1 ? "greater than or equal to 1"
					    : "less than or equal to 100");
		return;
	}
	if (start != NULL && (strlen(start) < 3 || strlen(start) > 255)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%s' "
				  "at 'exclusiveStartTableName' failed to "
				  "satisfy constraint: Member must have length "
				  "between 3 and 255", start);
		return;
	}
	if (ows__ddb_authorize(r, "dynamodb:ListTables", "*", NULL, NULL,
			       NULL) != 0)
		return;
	rows = ows_state_resources(r->c->host->state, "tables", NULL);
	out = rows ? list_page(rows, start, limit) : NULL;
	json_decref(rows);
	if (out == NULL) {
		ows__ddb_error(r, 500, "InternalServerError", "the state could "
			       "not be read");
		return;
	}
	ows__ddb_reply(r, out);
}

/* ---- TTL, limits, endpoints ---- */

void ows__ddb_describe_ttl(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);
	json_t *spec, *d;
	const char *attr;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:DescribeTimeToLive",
					       name, NULL, NULL, NULL) != 0)
		return;
	spec = ows_state_resource(r->c->host->state, "tables", name);
	if (spec == NULL) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	attr = ows_json_str(spec, "ttl_attribute");
	d = attr ? json_pack("{s:s, s:s}", "TimeToLiveStatus", "ENABLED",
			     "AttributeName", attr)
		 : json_pack("{s:s}", "TimeToLiveStatus", "DISABLED");
	json_decref(spec);
	ows__ddb_reply(r, json_pack("{s:o}", "TimeToLiveDescription", d));
}

void ows__ddb_describe_limits(struct ows__ddb_req *r)
{
	if (ows__ddb_authorize(r, "dynamodb:DescribeLimits", "*", NULL, NULL,
			       NULL) != 0)
		return;
	ows__ddb_reply(r, json_pack("{s:i, s:i, s:i, s:i}",
				    "AccountMaxReadCapacityUnits", 80000,
				    "AccountMaxWriteCapacityUnits", 80000,
				    "TableMaxReadCapacityUnits", 40000,
				    "TableMaxWriteCapacityUnits", 40000));
}

/*
 * DescribeEndpoints: the address this node was reached at (the request's
 * Host), for clients that discover endpoints. It needs no permission, as
 * on DynamoDB.
 */
void ows__ddb_describe_endpoints(struct ows__ddb_req *r)
{
	const char *host = ows_aws_header(r->c, "Host");

	ows__ddb_reply(r, json_pack("{s:[{s:s, s:i}]}", "Endpoints", "Address",
				    host && host[0] ? host : "localhost",
				    "CachePeriodInMinutes", 1440));
}
