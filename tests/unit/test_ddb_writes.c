/*
 * Unit tests: DynamoDB's item writes (ddb/items.c, batch_write.c,
 * transact_write.c), the "ddb" entry's apply (ddb/apply.c) and the TTL
 * sweep (ddb/ttl.c), on the fake host with a real SQLite state. The
 * handlers are called with the operation named by the request's path;
 * propose_entry here applies the entry at once through ows__ddb_entry
 * in one transaction, as the state machine does, and answers from the
 * loop.
 */
#include "../lib/unit.h"

#include <errno.h>
#include <time.h>

#include "common/json.h"
#include "ddb/ddb.h"
#include "ddb/ddb_priv.h"
#include "fake_host.h"

static struct fake_host *g_fh;
static int64_t g_now_ms;
static uint64_t g_index;
static unsigned g_entries;

struct later {
	uv_timer_t t;
	ows_aws_proposed_cb cb;
	void *ud;
	json_t *result;
};

static void later_closed(uv_handle_t *h)
{
	struct later *l = h->data;

	json_decref(l->result);
	free(l);
}

static void later_cb(uv_timer_t *t)
{
	struct later *l = t->data;

	l->cb(l->ud, 0, l->result);
	uv_close((uv_handle_t *)&l->t, later_closed);
}

static int g_fail_status;

static void later_failed_cb(uv_timer_t *t)
{
	struct later *l = t->data;

	l->cb(l->ud, g_fail_status, NULL);
	uv_close((uv_handle_t *)&l->t, later_closed);
}

/* The result of the last entry applied (a reference kept). */
static json_t *g_last_result;

/* Apply body now, in one transaction; the callback from the loop. */
static json_t *apply_entry(const json_t *body)
{
	struct ows_aws_entry_ctx ctx = {&g_fh->state, ++g_index, g_now_ms};
	json_t *result = json_pack("{s:b}", "ok", 1);
	struct ows_err err = {{0}};
	int rv;

	g_entries++;
	OWS_CHECK(ows__state_exec(&g_fh->state, "BEGIN IMMEDIATE") == 0);
	rv = ows__ddb_entry.apply(&ctx, body, result, &err);
	if (rv != 0) {
		OWS_CHECK(rv == OWS_EINVAL);
		OWS_CHECK(ows__state_exec(&g_fh->state, "ROLLBACK") == 0);
		json_decref(result);
		return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "status",
				 400, "code", "MalformedEntry", "message",
				 err.msg);
	}
	OWS_CHECK(ows__state_exec(&g_fh->state, "COMMIT") == 0);
	json_decref(g_last_result);
	g_last_result = json_incref(result);
	return result;
}

/* apply_entry of a body made for it (taken). */
static json_t *apply_new(json_t *body)
{
	json_t *r = apply_entry(body);

	json_decref(body);
	return r;
}

static int propose_entry(const struct ows_aws_host *h, const char *type,
			 const json_t *body, ows_aws_proposed_cb cb, void *ud)
{
	struct later *l = calloc(1, sizeof(*l));

	(void)h;
	OWS_CHECK(strcmp(type, "ddb") == 0);
	l->cb = cb;
	l->ud = ud;
	l->result = apply_entry(body);
	l->t.data = l;
	uv_timer_init(&g_fh->loop, &l->t);
	uv_timer_start(&l->t, later_cb, 0, 0);
	return 0;
}

static const struct {
	const char *name;
	void (*fn)(struct ows__ddb_req *r);
} ops[] = {
	{"PutItem", ows__ddb_put_item},
	{"UpdateItem", ows__ddb_update_item},
	{"DeleteItem", ows__ddb_delete_item},
	{"BatchWriteItem", ows__ddb_batch_write},
	{"TransactWriteItems", ows__ddb_transact_write},
};

static void handle(struct ows_aws_call *c)
{
	struct ows__ddb_req *r = ows_arena_alloc(c->arena, sizeof(*r));
	size_t i;

	*r = (struct ows__ddb_req){.c = c, .op = c->req->path + 1};
	r->body = json_loadb(c->body, c->len, 0, NULL);
	OWS_CHECK(json_is_object(r->body));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].name, r->op) == 0) {
			ops[i].fn(r); /* r is gone once answered */
			return;
		}
	}
}

#define TABLE_SPEC \
	"{\"partition_key\": \"id:S\", \"sort_key\": \"n:N\"," \
	" \"indexes\": {\"by-email\": {\"partition_key\": \"email:S\"," \
	"                            \"projection\": \"ALL\"}}," \
	" \"ttl_attribute\": \"exp\"}"

static void setup(struct fake_host *fh)
{
	g_fh = fh;
	g_now_ms = (int64_t)time(NULL) * 1000;
	fake_host_init(fh, &ows_ddb_service, handle);
	fh->host.propose_entry = propose_entry;
	OWS_CHECK(ows__state_exec(&fh->state,
		"INSERT INTO resources(kind, name, spec) VALUES('tables', "
		"'tbl', '" TABLE_SPEC "');"
		"INSERT INTO ddb_tables(name, tid, created) VALUES('tbl', 7, 0);"
		"INSERT INTO ddb_indexes(tid, name, iid, status) "
		"VALUES(7, 'by-email', 1, 'ACTIVE');") == 0);
}

/* One request; its reply's body (owned by out). */
static json_t *call(struct fake_host *fh, const char *op, const char *body,
		    struct fake_reply *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/%s", op);
	fake_host_request(fh, "POST", path, body, out);
	return out->body;
}

static void check_error(struct fake_host *fh, const char *op,
			const char *body, const char *code, const char *msg)
{
	struct fake_reply rep;
	json_t *b = call(fh, op, body, &rep);
	const char *type = json_string_value(json_object_get(b, "__type"));

	if (rep.status != 400 || type == NULL || strstr(type, code) == NULL ||
	    (msg != NULL && strcmp(json_string_value(json_object_get(
					b, "message")), msg) != 0))
		fprintf(stderr, "%s %s: %d %s\n", op, body, rep.status,
			rep.raw);
	OWS_CHECK_INT(rep.status, 400);
	OWS_CHECK(type != NULL && strstr(type, code) != NULL);
	if (msg != NULL)
		OWS_CHECK_STR(json_string_value(json_object_get(b, "message")),
			      msg);
	fake_reply_free(&rep);
}

/* The stored item of key (JSON text), or NULL. */
static json_t *stored(const char *key)
{
	struct ows_ddb_table *t;
	json_t *k = json_loads(key, 0, NULL), *item = NULL;

	OWS_CHECK(ows__ddb_table_load(&g_fh->state, "tbl", &t) == 0);
	OWS_CHECK(ows__ddb_item_get(&g_fh->state, t, k, 0, &item) == 0);
	ows__ddb_table_free(t);
	json_decref(k);
	return item;
}

static bool present(const char *key)
{
	json_t *item = stored(key);

	json_decref(item);
	return item != NULL;
}

static void ok(struct fake_host *fh, const char *op, const char *body,
	       struct fake_reply *rep)
{
	call(fh, op, body, rep);
	if (rep->status != 200)
		fprintf(stderr, "%s %s: %d %s\n", op, body, rep->status,
			rep->raw);
	OWS_CHECK_INT(rep->status, 200);
}

OWS_TEST(ddb_put_item_conditions_and_return_values)
{
	struct fake_host fh;
	struct fake_reply rep;
	json_t *item;

	setup(&fh);
	ok(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": {\"id\": "
	   "{\"S\": \"a\"}, \"n\": {\"N\": \"1.50\"}, \"v\": {\"S\": \"x\"}},"
	   " \"ReturnValues\": \"ALL_OLD\", \"ReturnConsumedCapacity\": "
	   "\"TOTAL\"}", &rep);
	/* nothing before: no Attributes; one write unit */
	OWS_CHECK(json_object_get(rep.body, "Attributes") == NULL);
	OWS_CHECK(json_number_value(json_object_get(json_object_get(
		rep.body, "ConsumedCapacity"), "CapacityUnits")) == 1.0);
	fake_reply_free(&rep);
	item = stored("{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1.5\"}}");
	OWS_CHECK(item != NULL);
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		item, "n"), "N")), "1.5");
	json_decref(item);

	/* the condition fails: the old item comes with the error */
	check_error(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1.5\"}}, "
		    "\"ConditionExpression\": \"attribute_not_exists(id)\"}",
		    "ConditionalCheckFailedException",
		    "The conditional request failed");
	call(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
	     "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1.5\"}}, "
	     "\"ConditionExpression\": \"attribute_not_exists(id)\", "
	     "\"ReturnValuesOnConditionCheckFailure\": \"ALL_OLD\"}", &rep);
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(rep.body, "Item"), "v"), "S")), "x");
	fake_reply_free(&rep);

	/* it holds: replaced, the old item returned; the index pays too */
	ok(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": {\"id\": "
	   "{\"S\": \"a\"}, \"n\": {\"N\": \"1.5\"}, \"email\": {\"S\": "
	   "\"a@x\"}}, \"ConditionExpression\": \"v = :x\", "
	   "\"ExpressionAttributeValues\": {\":x\": {\"S\": \"x\"}}, "
	   "\"ReturnValues\": \"ALL_OLD\", \"ReturnConsumedCapacity\": "
	   "\"INDEXES\"}", &rep);
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(rep.body, "Attributes"), "v"), "S")), "x");
	OWS_CHECK(json_number_value(json_object_get(json_object_get(
		rep.body, "ConsumedCapacity"), "CapacityUnits")) == 2.0);
	OWS_CHECK(json_object_get(json_object_get(json_object_get(
		rep.body, "ConsumedCapacity"), "GlobalSecondaryIndexes"),
		"by-email") != NULL);
	fake_reply_free(&rep);

	check_error(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}, "
		    "\"ReturnValues\": \"ALL_NEW\"}", "ValidationException",
		    "Return values set to invalid value");
	fake_host_close(&fh);
}

OWS_TEST(ddb_update_item_actions_and_return_values)
{
	struct fake_host fh;
	struct fake_reply rep;
	json_t *attrs, *item;

	setup(&fh);
	ok(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": {\"id\": "
	   "{\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, \"UpdateExpression\": "
	   "\"SET a = :a, m = :m ADD c :one\", \"ExpressionAttributeValues\":"
	   " {\":a\": {\"S\": \"A\"}, \":one\": {\"N\": \"1\"}, \":m\": "
	   "{\"M\": {\"k\": {\"L\": []}}}}, \"ReturnValues\": \"ALL_NEW\"}",
	   &rep);
	attrs = json_object_get(rep.body, "Attributes");
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		attrs, "c"), "N")), "1");
	OWS_CHECK(json_object_get(attrs, "id") != NULL);
	fake_reply_free(&rep);
	/* ADD stays exact at 38 digits; UPDATED_OLD has only what changed */
	ok(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": {\"id\": "
	   "{\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, \"UpdateExpression\": "
	   "\"ADD c :big SET m.k = list_append(m.k, :l)\", "
	   "\"ExpressionAttributeValues\": {\":big\": {\"N\": "
	   "\"1234567890123456789012345678901234567\"}, \":l\": {\"L\": "
	   "[{\"N\": \"5\"}]}}, \"ReturnValues\": \"UPDATED_OLD\"}", &rep);
	attrs = json_object_get(rep.body, "Attributes");
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		attrs, "c"), "N")), "1");
	OWS_CHECK(json_object_get(attrs, "a") == NULL);
	fake_reply_free(&rep);
	item = stored("{\"id\": {\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}");
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		item, "c"), "N")), "1234567890123456789012345678901234568");
	OWS_CHECK_INT(json_array_size(json_object_get(json_object_get(
		json_object_get(json_object_get(item, "m"), "M"), "k"), "L")),
		1);
	json_decref(item);

	check_error(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": "
		    "{\"id\": {\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, "
		    "\"UpdateExpression\": \"SET id = :a\", "
		    "\"ExpressionAttributeValues\": {\":a\": {\"S\": \"B\"}}}",
		    "ValidationException", "One or more parameter values were "
		    "invalid: Cannot update attribute id. This attribute is "
		    "part of the key");
	/* found at apply: ADD of a number to a string */
	check_error(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": "
		    "{\"id\": {\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, "
		    "\"UpdateExpression\": \"ADD a :one\", "
		    "\"ExpressionAttributeValues\": {\":one\": {\"N\": \"1\"}}}",
		    "ValidationException", NULL);
	check_error(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": "
		    "{\"id\": {\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, "
		    "\"UpdateExpression\": \"SET a = :a\", \"Expected\": "
		    "{\"a\": {\"Exists\": false}}, \"ExpressionAttributeValues\""
		    ": {\":a\": {\"S\": \"B\"}}}", "ValidationException",
		    "Can not use both expression and non-expression parameters"
		    " in the same request: Non-expression parameters: "
		    "{Expected} Expression parameters: "
		    "{ExpressionAttributeValues, UpdateExpression}");
	/* legacy AttributeUpdates with Expected */
	ok(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": {\"id\": "
	   "{\"S\": \"u\"}, \"n\": {\"N\": \"2\"}}, \"AttributeUpdates\": "
	   "{\"a\": {\"Action\": \"PUT\", \"Value\": {\"S\": \"Z\"}}}, "
	   "\"Expected\": {\"a\": {\"Value\": {\"S\": \"A\"}}}, "
	   "\"ReturnValues\": \"UPDATED_NEW\"}", &rep);
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(rep.body, "Attributes"), "a"), "S")), "Z");
	fake_reply_free(&rep);
	fake_host_close(&fh);
}

OWS_TEST(ddb_write_validation_before_the_log)
{
	struct fake_host fh;

	setup(&fh);
	check_error(&fh, "PutItem", "{\"TableName\": \"nope\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}}}", "ResourceNotFoundException",
		    "Requested resource not found");
	check_error(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}}}", "ValidationException", NULL);
	check_error(&fh, "DeleteItem", "{\"TableName\": \"tbl\", \"Key\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}, "
		    "\"ConditionExpression\": \"a = :a\", "
		    "\"ExpressionAttributeValues\": {\":a\": {\"S\": \"x\"}, "
		    "\":b\": {\"S\": \"y\"}}}", "ValidationException",
		    "Value provided in ExpressionAttributeValues unused in "
		    "expressions: keys: {:b}");
	check_error(&fh, "DeleteItem", "{\"TableName\": \"tbl\", \"Key\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}, "
		    "\"ReturnValues\": \"ALL\"}", "ValidationException", NULL);
	check_error(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}, "
		    "\"ReturnConsumedCapacity\": \"ALL\"}",
		    "ValidationException", NULL);
	check_error(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}, "
		    "\"ConditionExpression\": \"a = \"}",
		    "ValidationException", NULL);
	/* nothing reached the log */
	OWS_CHECK_INT(g_entries, 0);
	fake_host_close(&fh);
}

OWS_TEST(ddb_batch_write_item)
{
	struct fake_host fh;
	struct fake_reply rep;
	char body[8192];
	size_t len;
	int i;

	setup(&fh);
	check_error(&fh, "BatchWriteItem", "{\"RequestItems\": {\"tbl\": ["
		    "{\"PutRequest\": {\"Item\": {\"id\": {\"S\": \"a\"}, "
		    "\"n\": {\"N\": \"1\"}}}}, {\"DeleteRequest\": {\"Key\": "
		    "{\"id\": {\"S\": \"a\"}, \"n\": {\"N\": \"1.0\"}}}}]}}",
		    "ValidationException", "Provided list of item keys "
		    "contains duplicates");
	len = (size_t)snprintf(body, sizeof(body),
			       "{\"RequestItems\": {\"tbl\": [");
	for (i = 0; i < 26; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
					"%s{\"PutRequest\": {\"Item\": {\"id\":"
					" {\"S\": \"b\"}, \"n\": {\"N\": "
					"\"%d\"}}}}", i ? ", " : "", i);
	snprintf(body + len, sizeof(body) - len, "]}}");
	check_error(&fh, "BatchWriteItem", body, "ValidationException",
		    "Too many items requested for the BatchWriteItem call");
	OWS_CHECK_INT(g_entries, 0);
	/* 25 pass, in one entry */
	len = (size_t)snprintf(body, sizeof(body),
			       "{\"ReturnConsumedCapacity\": \"TOTAL\", "
			       "\"RequestItems\": {\"tbl\": [");
	for (i = 0; i < 25; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
					"%s{\"PutRequest\": {\"Item\": {\"id\":"
					" {\"S\": \"b\"}, \"n\": {\"N\": "
					"\"%d\"}}}}", i ? ", " : "", i);
	snprintf(body + len, sizeof(body) - len, "]}}");
	ok(&fh, "BatchWriteItem", body, &rep);
	OWS_CHECK_INT(g_entries, 1);
	OWS_CHECK_INT(json_object_size(json_object_get(rep.body,
						       "UnprocessedItems")), 0);
	OWS_CHECK(json_number_value(json_object_get(json_array_get(
		json_object_get(rep.body, "ConsumedCapacity"), 0),
		"CapacityUnits")) == 25.0);
	fake_reply_free(&rep);
	OWS_CHECK(present("{\"id\": {\"S\": \"b\"}, \"n\": {\"N\": "
			  "\"24\"}}"));
	ok(&fh, "BatchWriteItem", "{\"RequestItems\": {\"tbl\": ["
	   "{\"DeleteRequest\": {\"Key\": {\"id\": {\"S\": \"b\"}, \"n\": "
	   "{\"N\": \"24\"}}}}]}}", &rep);
	fake_reply_free(&rep);
	OWS_CHECK(stored("{\"id\": {\"S\": \"b\"}, \"n\": {\"N\": \"24\"}}")
		  == NULL);
	fake_host_close(&fh);
}

#define TXN_PUT(id, cond) \
	"{\"Put\": {\"TableName\": \"tbl\", \"Item\": {\"id\": {\"S\": \"" id \
	"\"}, \"n\": {\"N\": \"1\"}}" cond "}}"

OWS_TEST(ddb_transact_write_all_or_nothing)
{
	struct fake_host fh;
	struct fake_reply rep;
	const json_t *reasons;

	setup(&fh);
	ok(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": {\"id\": "
	   "{\"S\": \"old\"}, \"n\": {\"N\": \"1\"}, \"v\": {\"N\": \"3\"}}}",
	   &rep);
	fake_reply_free(&rep);
	call(&fh, "TransactWriteItems", "{\"TransactItems\": ["
	     TXN_PUT("new", "") ", {\"ConditionCheck\": {\"TableName\": "
	     "\"tbl\", \"Key\": {\"id\": {\"S\": \"old\"}, \"n\": {\"N\": "
	     "\"1\"}}, \"ConditionExpression\": \"v > :v\", "
	     "\"ExpressionAttributeValues\": {\":v\": {\"N\": \"5\"}}, "
	     "\"ReturnValuesOnConditionCheckFailure\": \"ALL_OLD\"}}]}",
	     &rep);
	OWS_CHECK_INT(rep.status, 400);
	OWS_CHECK(strstr(json_string_value(json_object_get(rep.body,
			"__type")), "TransactionCanceledException") != NULL);
	OWS_CHECK_STR(json_string_value(json_object_get(rep.body, "message")),
		      "Transaction cancelled, please refer cancellation "
		      "reasons for specific reasons [None, "
		      "ConditionalCheckFailed]");
	reasons = json_object_get(rep.body, "CancellationReasons");
	OWS_CHECK_STR(ows_json_str(json_array_get(reasons, 0), "Code"),
		      "None");
	OWS_CHECK_STR(ows_json_str(json_array_get(reasons, 1), "Message"),
		      "The conditional request failed");
	OWS_CHECK(json_object_get(json_object_get(json_array_get(reasons, 1),
						  "Item"), "v") != NULL);
	fake_reply_free(&rep);
	OWS_CHECK(stored("{\"id\": {\"S\": \"new\"}, \"n\": {\"N\": \"1\"}}")
		  == NULL);

	check_error(&fh, "TransactWriteItems", "{\"TransactItems\": ["
		    TXN_PUT("x", "") ", {\"Delete\": {\"TableName\": \"tbl\", "
		    "\"Key\": {\"id\": {\"S\": \"x\"}, \"n\": {\"N\": \"1\"}}}}"
		    "]}", "ValidationException", "Transaction request cannot "
		    "include multiple operations on one item");
	check_error(&fh, "TransactWriteItems", "{\"TransactItems\": []}",
		    "ValidationException", NULL);
	fake_host_close(&fh);
}

#define TXN_ADD(token, by) \
	"{\"ClientRequestToken\": \"" token "\", \"TransactItems\": [" \
	"{\"Update\": {\"TableName\": \"tbl\", \"Key\": {\"id\": {\"S\": " \
	"\"c\"}, \"n\": {\"N\": \"1\"}}, \"UpdateExpression\": \"ADD k :one\"" \
	", \"ExpressionAttributeValues\": {\":one\": {\"N\": \"" by "\"}}}}]}"

OWS_TEST(ddb_transact_write_client_request_token)
{
	struct fake_host fh;
	struct fake_reply rep;
	json_t *item;

	setup(&fh);
	ok(&fh, "TransactWriteItems", TXN_ADD("tok-1", "1"), &rep);
	fake_reply_free(&rep);
	ok(&fh, "TransactWriteItems", TXN_ADD("tok-1", "1"), &rep);
	fake_reply_free(&rep);
	item = stored("{\"id\": {\"S\": \"c\"}, \"n\": {\"N\": \"1\"}}");
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		item, "k"), "N")), "1");
	json_decref(item);
	check_error(&fh, "TransactWriteItems", TXN_ADD("tok-1", "2"),
		    "IdempotentParameterMismatchException", NULL);
	/* ten minutes later the token is free again */
	g_now_ms += OWS_DDB_TOKEN_KEEP_MS + 1000;
	ok(&fh, "TransactWriteItems", TXN_ADD("tok-1", "2"), &rep);
	fake_reply_free(&rep);
	item = stored("{\"id\": {\"S\": \"c\"}, \"n\": {\"N\": \"1\"}}");
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		item, "k"), "N")), "3");
	json_decref(item);
	fake_host_close(&fh);
}

OWS_TEST(ddb_entry_write_of_a_table_made_again_finds_none)
{
	struct fake_host fh;
	json_t *r;

	setup(&fh);
	r = apply_new(json_pack("{s:s, s:[{s:s, s:s, s:i, s:{s:{s:s}, "
				  "s:{s:s}}}]}", "op", "write", "writes",
				  "kind", "put", "table", "tbl", "tid", 6,
				  "item", "id", "S", "a", "n", "N", "1"));
	OWS_CHECK_STR(ows_json_str(json_array_get(json_object_get(r,
			"writes"), 0), "code"), "ResourceNotFound");
	json_decref(r);
	r = apply_new(json_pack("{s:s}", "op", "nothing"));
	OWS_CHECK(!json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	fake_host_close(&fh);
}

static void put_exp(struct fake_host *fh, const char *id, int64_t exp)
{
	struct fake_reply rep;
	char body[256];

	snprintf(body, sizeof(body), "{\"TableName\": \"tbl\", \"Item\": "
		 "{\"id\": {\"S\": \"%s\"}, \"n\": {\"N\": \"1\"}, \"exp\": "
		 "{\"N\": \"%lld\"}}}", id, (long long)exp);
	ok(fh, "PutItem", body, &rep);
	fake_reply_free(&rep);
}

OWS_TEST(ddb_ttl_sweep_deletes_expired_items_through_the_log)
{
	struct fake_host fh;
	int64_t now;
	char key[128];
	unsigned before;
	int i;

	setup(&fh);
	now = g_now_ms / 1000;
	for (i = 0; i < 150; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		put_exp(&fh, key, now - 10);
	}
	put_exp(&fh, "fresh", now + 3600);
	before = g_entries;
	ows__ddb_leader_tick(&fh.host);
	/* 150 keys: two entries, one of 100 */
	OWS_CHECK_INT(g_entries - before, 2);
	/* a second tick while they are in flight proposes nothing */
	ows__ddb_leader_tick(&fh.host);
	OWS_CHECK_INT(g_entries - before, 2);
	uv_run(&fh.loop, UV_RUN_NOWAIT);
	OWS_CHECK(stored("{\"id\": {\"S\": \"old0\"}, \"n\": {\"N\": \"1\"}}")
		  == NULL);
	OWS_CHECK(stored("{\"id\": {\"S\": \"old149\"}, \"n\": {\"N\": "
			 "\"1\"}}") == NULL);
	json_t *fresh = stored("{\"id\": {\"S\": \"fresh\"}, \"n\": "
			       "{\"N\": \"1\"}}");
	OWS_CHECK(fresh != NULL);
	json_decref(fresh);
	/* nothing left to sweep */
	ows__ddb_leader_tick(&fh.host);
	OWS_CHECK_INT(g_entries - before, 2);
	fake_host_close(&fh);
}

OWS_TEST(ddb_expire_entry_spares_items_written_since)
{
	struct fake_host fh;
	json_t *r, *item;
	int64_t now;

	setup(&fh);
	now = g_now_ms / 1000;
	put_exp(&fh, "moved", now + 3600);
	r = apply_new(json_pack("{s:s, s:s, s:i, s:I, s:[{s:{s:s}, "
				  "s:{s:s}}]}", "op", "expire", "table", "tbl",
				  "tid", 7, "now", (json_int_t)now, "keys",
				  "id", "S", "moved", "n", "N", "1"));
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "deleted")), 0);
	json_decref(r);
	item = stored("{\"id\": {\"S\": \"moved\"}, \"n\": {\"N\": \"1\"}}");
	OWS_CHECK(item != NULL);
	json_decref(item);
	fake_host_close(&fh);
}

static int64_t table_items(void)
{
	sqlite3_stmt *st;
	int64_t n;

	OWS_CHECK(ows_state_prepare(&g_fh->state, "SELECT items FROM "
				    "ddb_tables WHERE tid = 7", &st) == 0);
	OWS_CHECK(sqlite3_step(st) == SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

OWS_TEST(ddb_expired_item_is_no_item_for_writes)
{
	struct fake_host fh;
	struct fake_reply rep;
	json_t *item;

	setup(&fh);
	put_exp(&fh, "gone", g_now_ms / 1000 - 5);
	OWS_CHECK_INT(table_items(), 1);
	/* the condition sees no item; the expired row is replaced, once */
	ok(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": {\"id\": "
	   "{\"S\": \"gone\"}, \"n\": {\"N\": \"1\"}}, \"UpdateExpression\": "
	   "\"ADD c :one\", \"ConditionExpression\": "
	   "\"attribute_not_exists(id)\", \"ExpressionAttributeValues\": "
	   "{\":one\": {\"N\": \"1\"}}, \"ReturnValues\": \"ALL_OLD\"}", &rep);
	OWS_CHECK(json_object_get(rep.body, "Attributes") == NULL);
	fake_reply_free(&rep);
	OWS_CHECK_INT(table_items(), 1);
	item = stored("{\"id\": {\"S\": \"gone\"}, \"n\": {\"N\": \"1\"}}");
	OWS_CHECK(json_object_get(item, "exp") == NULL);
	OWS_CHECK_STR(json_string_value(json_object_get(json_object_get(
		item, "c"), "N")), "1");
	json_decref(item);
	fake_host_close(&fh);
}

/* A propose_entry whose entries are never committed: status later. */
static int propose_failing(const struct ows_aws_host *h, const char *type,
			   const json_t *body, ows_aws_proposed_cb cb,
			   void *ud)
{
	struct later *l;

	(void)h;
	(void)type;
	(void)body;
	if (g_fail_status == -EIO)
		return -EIO; /* refused at once: cb never called */
	l = calloc(1, sizeof(*l));
	l->cb = cb;
	l->ud = ud;
	l->t.data = l;
	uv_timer_init(&g_fh->loop, &l->t);
	uv_timer_start(&l->t, later_failed_cb, 0, 0);
	return 0;
}

OWS_TEST(ddb_writes_answer_a_failed_proposal)
{
	static const char *const bodies[][2] = {
		{"PutItem", "{\"TableName\": \"tbl\", \"Item\": {\"id\": "
		 "{\"S\": \"a\"}, \"n\": {\"N\": \"1\"}}}"},
		{"BatchWriteItem", "{\"RequestItems\": {\"tbl\": ["
		 "{\"PutRequest\": {\"Item\": {\"id\": {\"S\": \"a\"}, \"n\": "
		 "{\"N\": \"1\"}}}}]}}"},
		{"TransactWriteItems", "{\"TransactItems\": [" TXN_PUT("a", "")
		 "]}"},
	};
	struct fake_host fh;
	struct fake_reply rep;
	size_t i;
	int k;

	setup(&fh);
	fh.host.propose_entry = propose_failing;
	for (k = 0; k < 2; k++) {
		g_fail_status = k ? -EIO : OWS_ENOTLEADER;
		for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			call(&fh, bodies[i][0], bodies[i][1], &rep);
			OWS_CHECK_INT(rep.status, k ? 500 : 503);
			fake_reply_free(&rep);
		}
	}
	fake_host_close(&fh);
}

/*
 * Hostile "ddb" entries (a node's POST /_ows/v1/entry is trusted, but an
 * entry is applied by every node forever after: it must never crash apply
 * or fail it with anything but a refusal, and a refused entry changes
 * nothing): writes that no handler would propose.
 */
OWS_TEST(ddb_entry_hostile_bodies_are_refused_or_harmless)
{
	static const char *const bodies[] = {
		"{\"op\":\"write\",\"writes\":[1]}",
		"{\"op\":\"write\",\"writes\":{}}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\"}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":5}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"S\":\"a\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"N\":\"1\"},"
		"\"n\":{\"N\":\"1\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"S\":\"a\"},"
		"\"n\":{\"N\":\"abc\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"S\":\"a\"},"
		"\"n\":{\"N\":\"1\"},\"email\":{\"N\":\"5\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"S\":\"a\"},"
		"\"n\":{\"N\":\"1\"},\"x\":{\"S\":5},\"y\":[1],\"z\":{}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"put\",\"table\":"
		"\"tbl\",\"tid\":7,\"item\":{\"id\":{\"S\":\"\"},"
		"\"n\":{\"N\":\"1\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"update\",\"table\":"
		"\"tbl\",\"tid\":7,\"key\":{\"id\":{\"S\":\"a\"},"
		"\"n\":{\"N\":\"1\"}},\"UpdateExpression\":\"ADD v :v\","
		"\"ExpressionAttributeValues\":{\":v\":{\"N\":\"x\"}}}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"update\",\"table\":"
		"\"tbl\",\"tid\":7,\"key\":{\"id\":{\"S\":\"a\"},"
		"\"n\":{\"N\":\"1\"}},\"UpdateExpression\":\"SET (((\"}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"update\",\"table\":"
		"\"tbl\",\"tid\":7,\"key\":[]}]}",
		"{\"op\":\"write\",\"writes\":[{\"kind\":\"delete\",\"table\":"
		"\"tbl\",\"tid\":7,\"key\":{\"id\":{\"S\":\"a\"}},"
		"\"ConditionExpression\":5}]}",
		"{\"op\":\"write\",\"atomic\":true,\"token\":\"t\","
		"\"writes\":[{\"kind\":\"check\",\"table\":\"tbl\",\"tid\":7,"
		"\"key\":{\"id\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}}}]}",
		"{\"op\":\"expire\",\"table\":\"tbl\",\"tid\":7,"
		"\"keys\":[1,[],{\"id\":5}],\"now\":99999999999999}",
		"{\"op\":\"expire\",\"table\":\"tbl\",\"tid\":7,\"keys\":{}}",
		"{\"op\":5}",
		"{}",
	};
	struct fake_host fh;
	size_t i;

	setup(&fh);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		json_t *b = json_loads(bodies[i], 0, NULL);
		json_t *r;

		OWS_CHECK(b != NULL);
		r = apply_new(b); /* checks: 0 or OWS_EINVAL, never a crash */
		json_decref(r);
		/* nothing that is not an item of the table got stored */
		OWS_CHECK(!present("{\"id\":{\"S\":\"\"},\"n\":{\"N\":\"1\"}}"));
	}
	OWS_CHECK_INT(table_items(), 0);
	fake_host_close(&fh);
}

/* The result of the last write applied. */
static const json_t *last_write(void)
{
	return json_array_get(json_object_get(g_last_result, "writes"), 0);
}

static const char *attr_s(const json_t *body, const char *name)
{
	return json_string_value(json_object_get(json_object_get(
		json_object_get(body, "Attributes"), name), "S"));
}

OWS_TEST(ddb_results_carry_items_only_where_the_proposer_needs_them)
{
	struct fake_host fh;
	struct fake_reply rep;

	setup(&fh);
	/* a table without indexes: no index units to count */
	OWS_CHECK(ows__state_exec(&fh.state,
		"INSERT INTO resources(kind, name, spec) VALUES('tables', "
		"'plain', '{\"partition_key\": \"id:S\"}');"
		"INSERT INTO ddb_tables(name, tid, created) "
		"VALUES('plain', 8, 0);") == 0);
	ok(&fh, "PutItem", "{\"TableName\": \"plain\", \"Item\": {\"id\": "
	   "{\"S\": \"a\"}, \"v\": {\"S\": \"1\"}}}", &rep);
	fake_reply_free(&rep);
	/* an overwrite that asks for nothing: no item comes back */
	ok(&fh, "PutItem", "{\"TableName\": \"plain\", \"Item\": {\"id\": "
	   "{\"S\": \"a\"}, \"v\": {\"S\": \"2\"}}, \"ReturnConsumedCapacity\""
	   ": \"INDEXES\"}", &rep);
	OWS_CHECK(json_object_get(rep.body, "Attributes") == NULL);
	OWS_CHECK(json_number_value(json_object_get(json_object_get(
		rep.body, "ConsumedCapacity"), "CapacityUnits")) == 1.0);
	OWS_CHECK(json_object_get(last_write(), "old") == NULL);
	OWS_CHECK(json_object_get(last_write(), "new") == NULL);
	fake_reply_free(&rep);
	/* ALL_OLD: the old item, and only it */
	ok(&fh, "PutItem", "{\"TableName\": \"plain\", \"Item\": {\"id\": "
	   "{\"S\": \"a\"}, \"v\": {\"S\": \"3\"}}, \"ReturnValues\": "
	   "\"ALL_OLD\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "v"), "2");
	OWS_CHECK(json_object_get(last_write(), "old") != NULL);
	OWS_CHECK(json_object_get(last_write(), "new") == NULL);
	fake_reply_free(&rep);
	/* an update: each ReturnValues gets its item */
	ok(&fh, "UpdateItem", "{\"TableName\": \"plain\", \"Key\": {\"id\": "
	   "{\"S\": \"a\"}}, \"UpdateExpression\": \"SET v = :v\", "
	   "\"ExpressionAttributeValues\": {\":v\": {\"S\": \"4\"}}, "
	   "\"ReturnValues\": \"UPDATED_NEW\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "v"), "4");
	OWS_CHECK(json_object_get(last_write(), "old") == NULL);
	fake_reply_free(&rep);
	ok(&fh, "UpdateItem", "{\"TableName\": \"plain\", \"Key\": {\"id\": "
	   "{\"S\": \"a\"}}, \"UpdateExpression\": \"SET v = :v\", "
	   "\"ExpressionAttributeValues\": {\":v\": {\"S\": \"5\"}}, "
	   "\"ReturnValues\": \"UPDATED_OLD\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "v"), "4");
	OWS_CHECK(json_object_get(last_write(), "new") == NULL);
	fake_reply_free(&rep);
	ok(&fh, "UpdateItem", "{\"TableName\": \"plain\", \"Key\": {\"id\": "
	   "{\"S\": \"a\"}}, \"UpdateExpression\": \"SET w = :v\", "
	   "\"ExpressionAttributeValues\": {\":v\": {\"S\": \"6\"}}, "
	   "\"ReturnValues\": \"ALL_NEW\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "v"), "5");
	OWS_CHECK_STR(attr_s(rep.body, "w"), "6");
	fake_reply_free(&rep);
	ok(&fh, "UpdateItem", "{\"TableName\": \"plain\", \"Key\": {\"id\": "
	   "{\"S\": \"a\"}}, \"UpdateExpression\": \"SET w = :v\", "
	   "\"ExpressionAttributeValues\": {\":v\": {\"S\": \"7\"}}, "
	   "\"ReturnValues\": \"ALL_OLD\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "w"), "6");
	fake_reply_free(&rep);
	ok(&fh, "DeleteItem", "{\"TableName\": \"plain\", \"Key\": {\"id\": "
	   "{\"S\": \"a\"}}, \"ReturnValues\": \"ALL_OLD\"}", &rep);
	OWS_CHECK_STR(attr_s(rep.body, "w"), "7");
	fake_reply_free(&rep);
	/* a table with an index: both items, for the index units */
	ok(&fh, "PutItem", "{\"TableName\": \"tbl\", \"Item\": {\"id\": "
	   "{\"S\": \"b\"}, \"n\": {\"N\": \"1\"}}}", &rep);
	fake_reply_free(&rep);
	ok(&fh, "UpdateItem", "{\"TableName\": \"tbl\", \"Key\": {\"id\": "
	   "{\"S\": \"b\"}, \"n\": {\"N\": \"1\"}}, \"UpdateExpression\": "
	   "\"SET email = :e\", \"ExpressionAttributeValues\": {\":e\": "
	   "{\"S\": \"b@x\"}}, \"ReturnConsumedCapacity\": \"INDEXES\"}",
	   &rep);
	OWS_CHECK(json_object_get(last_write(), "old") != NULL);
	OWS_CHECK(json_object_get(last_write(), "new") != NULL);
	OWS_CHECK(json_object_get(json_object_get(json_object_get(
		rep.body, "ConsumedCapacity"), "GlobalSecondaryIndexes"),
		"by-email") != NULL);
	fake_reply_free(&rep);
	fake_host_close(&fh);
}
