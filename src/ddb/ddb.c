/*
 * The DynamoDB service on the seam (aws/service.h): the operation table,
 * the decoding of each request's JSON body, and the replies, errors and
 * authorisation every handler shares (ddb_priv.h).
 *
 * A request is routed here by its X-Amz-Target, "DynamoDB_20120810.OP",
 * or by the SigV4 scope "dynamodb". Its body arrives whole and is parsed
 * once here; the handler named by the operation answers. A body may be
 * 1 MB (an item is at most 400 KB), a BatchWriteItem's or
 * TransactWriteItems' 16 MB (DynamoDB's cap on a request); those larger
 * bodies count against OWS_AWS_LARGE_BODIES.
 */
#include "ddb/ddb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/ddb_priv.h"

#define OWS_DDB_BODY_LIMIT (1024 * 1024)
#define OWS_DDB_BATCH_BODY_LIMIT (16 * 1024 * 1024)
/*
 * The JSON values that the requests not yet answered may hold parsed,
 * node-wide. A request's tree lives until its answer, through the wait
 * for the log, and costs some 140 bytes a value: a 1 MB PutItem of
 * {"NULL":true} elements held 33 MB with a copy of its item, and 32 of
 * them at once over 1 GB.
 * Past it a request waits for room (ows_aws_call_wait), its parse
 * stopped there, and is throttled only when too many wait; one alone
 * always goes.
 */
#define OWS_DDB_VALUES_HELD (1u << 20)
#define TARGET_PREFIX "DynamoDB_20120810."

struct op {
	const char *name;
	void (*handle)(struct ows__ddb_req *r);
};

/* Sorted by name: bsearch. */
static const struct op ops[] = {
	{"BatchGetItem", ows__ddb_batch_get},
	{"BatchWriteItem", ows__ddb_batch_write},
	{"CreateTable", ows__ddb_create_table},
	{"DeleteItem", ows__ddb_delete_item},
	{"DeleteTable", ows__ddb_delete_table},
	{"DescribeEndpoints", ows__ddb_describe_endpoints},
	{"DescribeLimits", ows__ddb_describe_limits},
	{"DescribeTable", ows__ddb_describe_table},
	{"DescribeTimeToLive", ows__ddb_describe_ttl},
	{"GetItem", ows__ddb_get_item},
	{"ListTables", ows__ddb_list_tables},
	{"ListTagsOfResource", ows__ddb_list_tags},
	{"PutItem", ows__ddb_put_item},
	{"Query", ows__ddb_query},
	{"Scan", ows__ddb_scan},
	{"TagResource", ows__ddb_tag_resource},
	{"TransactGetItems", ows__ddb_transact_get},
	{"TransactWriteItems", ows__ddb_transact_write},
	{"UntagResource", ows__ddb_untag_resource},
	{"UpdateItem", ows__ddb_update_item},
	{"UpdateTable", ows__ddb_update_table},
	{"UpdateTimeToLive", ows__ddb_update_ttl},
};

static int op_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct op *)elem)->name);
}

/* ---- replies ---- */

/* The request's body goes with its answer. */
static void done(struct ows__ddb_req *r)
{
	json_decref(r->body);
	r->body = NULL;
}

void ows__ddb_reply(struct ows__ddb_req *r, json_t *v)
{
	done(r);
	ows_aws_reply_json(r->c, 200, v);
}

void ows__ddb_reply_text(struct ows__ddb_req *r, const char *text,
			 size_t len)
{
	done(r);
	ows_aws_reply_json_text(r->c, 200, text, len);
}

static void error_v(struct ows__ddb_req *r, int status, const char *code,
		    const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	done(r);
	ows_aws_error(r->c, status, code, "%s", msg);
}

void ows__ddb_error(struct ows__ddb_req *r, int status, const char *code,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(r, status, code, fmt, ap);
	va_end(ap);
}

void ows__ddb_invalid(struct ows__ddb_req *r, const struct ows_err *err)
{
	ows__ddb_error(r, 400, "ValidationException", "%s", err->msg);
}

void ows__ddb_invalidf(struct ows__ddb_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(r, 400, "ValidationException", fmt, ap);
	va_end(ap);
}

void ows__ddb_not_found(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "ResourceNotFoundException",
		       "Requested resource not found");
}

void ows__ddb_propose_failed(struct ows__ddb_req *r, int status)
{
	if (status == OWS_ENOTLEADER)
		ows__ddb_error(r, 503, "ServiceUnavailable", "no leader is "
			       "known to this node now; retry");
	else
		ows__ddb_error(r, 500, "InternalServerError", "the write "
			       "could not be committed (%s); retry",
			       ows_strerror(status));
}

const char *ows__ddb_str(const struct ows__ddb_req *r, const char *name)
{
	return json_string_value(json_object_get(r->body, name));
}

/* ---- authorisation ---- */

/*
 * snprintf(out, cap, "%s%s...", parts...) without printf (every call is
 * authorised): the NULL-terminated parts end to end, cut at cap - 1.
 */
static void arn_join(char *out, size_t cap, const char *const *parts)
{
	size_t len = 0, n;

	for (; *parts != NULL; parts++) {
		n = strlen(*parts);
		if (n > cap - 1 - len)
			n = cap - 1 - len;
		memcpy(out + len, *parts, n);
		len += n;
	}
	out[len] = '\0';
}

int ows__ddb_authorize(struct ows__ddb_req *r, const char *action,
		       const char *table, const char *index,
		       const json_t *leading_keys, const json_t *attributes)
{
	struct ows_aws_call *c = r->c;
	const char *region = c->region[0] ? c->region : c->host->region;
	char aws[700], ows[700];
	const char *arns[] = {aws, ows, NULL};
	json_t *extra = NULL;
	int rv;

	arn_join(aws, sizeof(aws), (const char *const[]){
		"arn:aws:dynamodb:", region, ":", c->host->account, ":table/",
		table, index ? "/index/" : "", index ? index : "", NULL});
	/* the same ARN in the other partition: "aws" and "ows" are alike long */
	memcpy(ows, aws, strlen(aws) + 1);
	memcpy(ows + 4, "ows", 3);
	if (leading_keys != NULL || attributes != NULL) {
		extra = json_object();
		if (leading_keys != NULL)
			json_object_set(extra, "dynamodb:LeadingKeys",
					(json_t *)leading_keys);
		if (attributes != NULL)
			json_object_set(extra, "dynamodb:Attributes",
					(json_t *)attributes);
	}
	rv = c->host->authorize(c, action, arns, extra);
	json_decref(extra);
	if (rv == 0)
		return 0;
	ows__ddb_error(r, 400, "AccessDeniedException", "User: %s is not "
		       "authorized to perform: %s on resource: %s",
		       c->caller.name[0] ? c->caller.name : "anonymous",
		       action, aws);
	return OWS_EDENIED;
}

json_t *ows__ddb_names_array(json_t *set)
{
	json_t *out = set ? json_array() : NULL, *v;
	const char *name;

	json_object_foreach(set, name, v)
		if (out != NULL && json_array_append_new(out, json_string(
				name)) != 0) {
			json_decref(out);
			out = NULL;
		}
	json_decref(set);
	return out;
}

json_t *ows__ddb_read_attributes(const struct ows_ddb_expr *projection,
				 const struct ows_ddb_expr *filter,
				 const struct ows_ddb_expr *keycond,
				 bool count)
{
	json_t *set;

	/* a plain read: every attribute (GetItem's and Query's usual) */
	if (projection == NULL && filter == NULL && keycond == NULL) {
		set = json_array();
		if (set != NULL && !count &&
		    json_array_append_new(set, json_string("")) != 0) {
			json_decref(set);
			return NULL;
		}
		return set;
	}
	set = json_object();
	if (set == NULL)
		return NULL;
	if ((projection == NULL && !count &&
	     json_object_set_new(set, "", json_true()) != 0) ||
	    ows_ddb_expr_tops(projection, set) != 0 ||
	    ows_ddb_expr_tops(filter, set) != 0 ||
	    ows_ddb_expr_tops(keycond, set) != 0) {
		json_decref(set);
		return NULL;
	}
	return ows__ddb_names_array(set);
}

/* ---- the call ---- */

static void body_limit_for(const struct ows_http_req *req,
			   struct ows_aws_body_limit *out)
{
	const char *t = ows_http_req_header(req, "X-Amz-Target");

	if (t != NULL && (strcmp(t, TARGET_PREFIX "BatchWriteItem") == 0 ||
			  strcmp(t, TARGET_PREFIX "TransactWriteItems") == 0))
		*out = (struct ows_aws_body_limit){
			OWS_DDB_BATCH_BODY_LIMIT, "ValidationException",
			t + strlen(TARGET_PREFIX)};
}

static void throttled(struct ows_aws_call *c)
{
	ows_aws_error(c, 400, "ThrottlingException", "Throughput exceeds the "
		      "current capacity of this node: the requests in "
		      "progress hold too much; retry");
}

/*
 * Parse c's body within the room the budget has, and hand it to its
 * operation; a body that does not fit waits for room (its turn comes
 * once enough of what the calls before it hold is answered: with none,
 * any body fits), and only when too many wait already is it throttled.
 */
static void admit(struct ows_aws_call *c)
{
	struct ows__ddb_req *r = c->data;
	struct ows_err err = {{0}};
	size_t room, values;

	room = ows_aws_call_room(OWS_DDB_VALUES_HELD);
	r->body = ows_json_parse_counted(c->body ? c->body : "",
					 c->body ? c->len : 0, room, &values,
					 &err);
	if (values > room ||
	    !ows_aws_call_reserve(c, values, OWS_DDB_VALUES_HELD)) {
		json_decref(r->body);
		r->body = NULL;
		if (ows_aws_call_wait(c, values, OWS_DDB_VALUES_HELD,
				      admit) != 0)
			throttled(c);
		return;
	}
	if (!json_is_object(r->body)) {
		json_decref(r->body);
		r->body = NULL;
		ows_aws_error(c, 400, "SerializationException", "%s",
			      err.msg[0] ? err.msg : "Start of structure or "
			      "map found where not expected");
		return;
	}
	r->handle(r);
}

static void ddb_handle(struct ows_aws_call *c)
{
	const char *target = ows_aws_header(c, "X-Amz-Target");
	struct ows__ddb_req *r;
	const struct op *op = NULL;

	r = ows_arena_alloc(c->arena, sizeof(*r));
	if (r == NULL) {
		ows_aws_error(c, 500, "InternalServerError", "out of memory");
		return;
	}
	*r = (struct ows__ddb_req){.c = c};
	if (target != NULL && strncmp(target, TARGET_PREFIX,
				      strlen(TARGET_PREFIX)) == 0)
		op = bsearch(target + strlen(TARGET_PREFIX), ops,
			     sizeof(ops) / sizeof(ops[0]), sizeof(ops[0]),
			     op_cmp);
	if (op == NULL) {
		ows_aws_error(c, 400, "UnknownOperationException", "%s",
			      target ? "" : "Missing X-Amz-Target");
		return;
	}
	r->op = op->name;
	r->handle = op->handle;
	c->data = r;
	/* behind the calls that wait already: in their order */
	if (ows_aws_calls_waiting() > 0) {
		if (ows_aws_call_wait(c, 1, OWS_DDB_VALUES_HELD, admit) != 0)
			throttled(c);
		return;
	}
	admit(c);
}

static const struct ows_kind *const ddb_kinds[] = {
	&ows__ddb_tables_kind,
	NULL,
};

static const struct ows_aws_entry_type *const ddb_entries[] = {
	&ows__ddb_entry,
	NULL,
};

const struct ows_aws_service ows_ddb_service = {
	.name = "dynamodb",
	.target_prefix = "DynamoDB_20120810.",
	.path_prefix = NULL,
	.protocol = OWS_AWS_JSON_1_0,
	.body_mode = OWS_AWS_BODY_WHOLE,
	.body_limit = OWS_DDB_BODY_LIMIT,
	.body_limit_for = body_limit_for,
	.handle = ddb_handle,
	.close = NULL,
	.kinds = ddb_kinds,
	.anonymous = false,
	.blob_refs = NULL,
	.blob_list = NULL,
	.entries = ddb_entries,
	.leader_tick = ows__ddb_leader_tick,
};
