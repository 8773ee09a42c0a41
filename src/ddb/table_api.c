/*
 * The table operations that change a table (DynamoDB API Reference):
 * CreateTable, DeleteTable, UpdateTable, UpdateTimeToLive, TagResource,
 * UntagResource, and ListTagsOfResource beside them. Each is authorised
 * with its dynamodb: action on the table's ARN, then proposed as an
 * attested ledger entry (tables.create, .drop, .update: tables.c) that
 * every node applies; the apply decides what depends on the state at
 * that point (the table exists, TTL is already on), and its refusal is
 * answered with DynamoDB's code. A change is answered once this node's
 * state holds it, so that a DescribeTable that follows sees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/table_api.h"
#include "ddb/tables.h"

const char *ows__ddb_table_name(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_str(r, "TableName");
	size_t n = name ? strlen(name) : 0;

	if (name == NULL)
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'tableName' failed to satisfy constraint: "
				  "Member must not be null");
	else if (n < 3 || n > 255)
		ows__ddb_invalidf(r, "1 validation error detected: Value '%s' at "
				  "'tableName' failed to satisfy constraint: "
				  "Member must have length %s", name, n < 3
				  ? "greater than or equal to 3"
				  : "less than or equal to 255");
	else if (!ows__ddb_name_valid(name))
		ows__ddb_invalidf(r, "1 validation error detected: Value '%s' at "
				  "'tableName' failed to satisfy constraint: "
				  "Member must satisfy regular expression "
				  "pattern: [a-zA-Z0-9_.-]+", name);
	else
		return name;
	return NULL;
}

/* ---- the attested entry ---- */

struct proposal {
	struct ows__ddb_req *r;
	ows__ddb_table_done done;
	json_t *result;
};

static void caught_up(void *ud, int status)
{
	struct proposal *p = ud;
	json_t *result = p->result; /* p goes with the call's arena */

	(void)status; /* the local state has the entry, or is past it */
	p->done(p->r, result);
	json_decref(result);
}

/*
 * The refusal's code: the kind's message after the "actions[i] ACTION
 * 'NAME': " prefix starts with "Code: " (tables.c); otherwise one by
 * status.
 */
static void refused(struct ows__ddb_req *r, const json_t *result)
{
	const char *msg = ows_json_str(result, "message");
	const char *p = msg ? strstr(msg, "': ") : NULL;
	int st = (int)json_integer_value(json_object_get(result, "status"));
	size_t n;

	if (p != NULL) {
		p += 3;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		if (n > 0 && n < 64 && p[n] == ':' && p[n + 1] == ' ') {
			ows__ddb_error(r, 400, ows_arena_strndup(r->c->arena, p,
								 n),
				       "%s", p + n + 2);
			return;
		}
	}
	if (st == 403)
		ows__ddb_error(r, 400, "AccessDeniedException", "%s",
			       msg ? msg : "access denied");
	else if (st == 409)
		ows__ddb_error(r, 400, "ResourceInUseException", "%s",
			       p ? p : msg ? msg : "in use");
	else if (st == 404)
		ows__ddb_error(r, 400, "ResourceNotFoundException", "Requested "
			       "resource not found");
	else if (st == 400)
		ows__ddb_invalidf(r, "%s", p ? p : msg ? msg : "invalid");
	else
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       msg ? msg : "the change failed");
}

static void proposed(void *ud, int status, const json_t *result)
{
	struct proposal *p = ud;

	if (status < 0 || !json_is_true(json_object_get(result, "ok"))) {
		/* what done would have answered with goes unused */
		json_decref(p->r->data);
		p->r->data = NULL;
	}
	if (status < 0) {
		ows__ddb_propose_failed(p->r, status);
		return;
	}
	if (!json_is_true(json_object_get(result, "ok"))) {
		refused(p->r, result);
		return;
	}
	p->result = json_deep_copy(result);
	if (p->r->c->host->read_barrier(p->r->c, caught_up, p) != 0)
		caught_up(p, 0);
}

void ows__ddb_table_propose(struct ows__ddb_req *r, const char *verb,
			    const char *name, json_t *spec,
			    ows__ddb_table_done done)
{
	struct proposal *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	char action[32];
	json_t *actions;
	int rv;

	snprintf(action, sizeof(action), "tables.%s", verb);
	actions = json_pack("[{s:s, s:s, s:o*}]", "action", action, "name",
			    name, "spec", spec);
	if (p == NULL || actions == NULL) {
		json_decref(actions);
		json_decref(r->data);
		r->data = NULL;
		ows__ddb_propose_failed(r, -ENOMEM);
		return;
	}
	*p = (struct proposal){r, done, NULL};
	rv = r->c->host->propose(r->c, actions, "", proposed, p);
	json_decref(actions);
	if (rv != 0) {
		json_decref(r->data);
		r->data = NULL;
		ows__ddb_propose_failed(r, rv);
	}
}

/* ---- CreateTable ---- */

static void created(struct ows__ddb_req *r, const json_t *result)
{
	(void)result;
	ows__ddb_reply_description(r, "TableDescription",
				   ows__ddb_str(r, "TableName"));
}

void ows__ddb_create_table(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);
	json_t *spec = NULL;

	if (name == NULL || ows__ddb_create_spec(r, &spec) != 0)
		return;
	if (ows__ddb_authorize(r, "dynamodb:CreateTable", name, NULL, NULL,
			       NULL) != 0) {
		json_decref(spec);
		return;
	}
	if (json_is_true(json_object_get(r->body, "DeletionProtectionEnabled"))) {
		json_decref(spec);
		ows__ddb_invalidf(r, "DeletionProtectionEnabled is not "
				  "supported by OWS: a table made by a stack "
				  "file is kept by its stack instead");
		return;
	}
	ows__ddb_table_propose(r, "create", name, spec, created);
}

/* ---- DeleteTable ---- */

static void dropped(struct ows__ddb_req *r, const json_t *result)
{
	json_t *d = r->data; /* r goes with the reply */

	(void)result;
	ows__ddb_reply(r, json_pack("{s:o}", "TableDescription", d));
}

void ows__ddb_delete_table(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);
	json_t *d;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:DeleteTable", name,
					       NULL, NULL, NULL) != 0)
		return;
	d = ows__ddb_table_describe(r, name, "DELETING");
	if (d == NULL) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	r->data = d;
	ows__ddb_table_propose(r, "drop", name, NULL, dropped);
}

/* ---- UpdateTable ---- */

static void updated(struct ows__ddb_req *r, const json_t *result)
{
	(void)result;
	ows__ddb_reply_description(r, "TableDescription",
				   ows__ddb_str(r, "TableName"));
}

/* One GlobalSecondaryIndexUpdates element into delta; 0 or answered. */
static int gsi_update(struct ows__ddb_req *r, const json_t *u,
		      const json_t *defs, bool provisioned, json_t *delta)
{
	const json_t *cr = json_object_get(u, "Create");
	const json_t *de = json_object_get(u, "Delete");
	const json_t *up = json_object_get(u, "Update");
	json_t *ixs = json_object_get(delta, "indexes"), *spec;
	const char *name;

	if ((cr != NULL) + (de != NULL) + (up != NULL) != 1) {
		ows__ddb_invalidf(r, "One or more parameter values were "
				  "invalid: One of GlobalSecondaryIndexUpdate"
				  ".Update, GlobalSecondaryIndexUpdate.Create, "
				  "GlobalSecondaryIndexUpdate.Delete must not be "
				  "null");
		return OWS_EINVAL;
	}
	name = ows_json_str(cr ? cr : de ? de : up, "IndexName");
	if (name == NULL) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'globalSecondaryIndexUpdates.1.member."
				  "indexName' failed to satisfy constraint: "
				  "Member must not be null");
		return OWS_EINVAL;
	}
	if (de != NULL) {
		json_object_set_new(ixs, name, json_null());
		return 0;
	}
	if (up != NULL) {
		json_t *tp = ows__ddb_throughput(r, json_object_get(
			up, "ProvisionedThroughput"), "");

		if (tp == NULL)
			return OWS_EINVAL;
		json_object_set_new(json_object_get(delta, "index_provisioned"),
				    name, tp);
		return 0;
	}
	if (defs == NULL) {
		ows__ddb_invalidf(r, "One or more parameter values were "
				  "invalid: AttributeDefinitions must be "
				  "provided when creating a new index");
		return OWS_EINVAL;
	}
	spec = ows__ddb_index_spec(r, cr, defs, false, provisioned,
				   "globalSecondaryIndexUpdates.1.member."
				   "create");
	if (spec == NULL)
		return OWS_EINVAL;
	json_object_set_new(ixs, name, spec);
	return 0;
}

static int billing_update(struct ows__ddb_req *r, const json_t *cur,
			  json_t *delta, bool *provisioned)
{
	const char *bm = ows__ddb_str(r, "BillingMode");
	const json_t *pt = json_object_get(r->body, "ProvisionedThroughput");
	const char *now = ows_json_str(cur, "billing_mode");

	if (bm != NULL && strcmp(bm, "PROVISIONED") &&
	    strcmp(bm, "PAY_PER_REQUEST")) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%.64s' "
				  "at 'billingMode' failed to satisfy "
				  "constraint: Member must satisfy enum value "
				  "set: [PROVISIONED, PAY_PER_REQUEST]", bm);
		return OWS_EINVAL;
	}
	if (bm == NULL)
		bm = now ? now : "PAY_PER_REQUEST";
	*provisioned = strcmp(bm, "PROVISIONED") == 0;
	json_object_set_new(delta, "billing_mode", json_string(bm));
	if (!*provisioned) {
		if (pt != NULL) {
			ows__ddb_invalidf(r, "One or more parameter values were "
					  "invalid: Neither ReadCapacityUnits "
					  "nor WriteCapacityUnits can be "
					  "specified when BillingMode is "
					  "PAY_PER_REQUEST");
			return OWS_EINVAL;
		}
		json_object_set_new(delta, "provisioned", json_null());
		return 0;
	}
	if (pt == NULL && json_object_get(cur, "provisioned") == NULL) {
		ows__ddb_invalidf(r, "One or more parameter values were invalid: "
				  "ProvisionedThroughput must be specified when "
				  "BillingMode is PROVISIONED");
		return OWS_EINVAL;
	}
	if (pt != NULL) {
		json_t *tp = ows__ddb_throughput(r, pt, "");

		if (tp == NULL)
			return OWS_EINVAL;
		json_object_set_new(delta, "provisioned", tp);
	}
	return 0;
}

void ows__ddb_update_table(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);
	const json_t *ups = json_object_get(r->body,
					    "GlobalSecondaryIndexUpdates"), *u;
	json_t *cur, *defs = NULL, *delta;
	bool prov = false;
	size_t i;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:UpdateTable", name,
					       NULL, NULL, NULL) != 0)
		return;
	cur = ows_state_resource(r->c->host->state, "tables", name);
	if (cur == NULL) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	delta = json_pack("{s:{}, s:{}}", "indexes", "index_provisioned");
	if (json_object_get(r->body, "AttributeDefinitions") != NULL &&
	    (defs = ows__ddb_attr_defs(r, json_object_get(
		     r->body, "AttributeDefinitions"))) == NULL)
		goto out;
	if (billing_update(r, cur, delta, &prov) != 0)
		goto out;
	if (ups != NULL && (!json_is_array(ups) || json_array_size(ups) == 0)) {
		ows__ddb_invalidf(r, "One or more parameter values were invalid: "
				  "GlobalSecondaryIndexUpdates is empty");
		goto out;
	}
	json_array_foreach(ups, i, u)
		if (gsi_update(r, u, defs, prov, delta) != 0)
			goto out;
	if (json_object_size(json_object_get(delta, "indexes")) > 1) {
		ows__ddb_error(r, 400, "LimitExceededException", "Subscriber "
			       "limit exceeded: Only 1 online index can be "
			       "created or deleted simultaneously per table");
		goto out;
	}
	json_decref(cur);
	json_decref(defs);
	ows__ddb_table_propose(r, "update", name, delta, updated);
	return;
out:
	json_decref(cur);
	json_decref(defs);
	json_decref(delta);
}

/* ---- UpdateTimeToLive ---- */

static void ttl_updated(struct ows__ddb_req *r, const json_t *result)
{
	(void)result;
	ows__ddb_reply(r, json_pack("{s:O}", "TimeToLiveSpecification",
				    json_object_get(r->body,
						    "TimeToLiveSpecification")));
}

void ows__ddb_update_ttl(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_table_name(r);
	const json_t *s = json_object_get(r->body, "TimeToLiveSpecification");
	const char *attr = ows_json_str(s, "AttributeName");
	const json_t *en = json_object_get(s, "Enabled");

	if (name == NULL)
		return;
	if (!json_is_object(s) || !json_is_boolean(en) || attr == NULL ||
	    strlen(attr) < 1 || strlen(attr) > 255) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null at "
				  "'timeToLiveSpecification%s' failed to satisfy "
				  "constraint: Member must not be null",
				  !json_is_object(s) ? "" : !json_is_boolean(en)
				  ? ".enabled" : ".attributeName");
		return;
	}
	if (ows__ddb_authorize(r, "dynamodb:UpdateTimeToLive", name, NULL,
			       NULL, NULL) != 0)
		return;
	if (!ows_state_resource_exists(r->c->host->state, "tables", name)) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	ows__ddb_table_propose(r, "update", name, json_pack(
		"{s:{s:O, s:s}}", "ttl", "enabled", en, "attribute", attr),
		ttl_updated);
}

/* ---- tags ---- */

/*
 * The table a ResourceArn names (arn:aws:... or arn:ows:..., this
 * region and account), or NULL after answering.
 */
static const char *arn_table(struct ows__ddb_req *r)
{
	const char *arn = ows__ddb_str(r, "ResourceArn");
	const char *region = r->c->region[0] ? r->c->region : r->c->host->region;
	char want[400];
	size_t n;

	if (arn == NULL) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null at "
				  "'resourceArn' failed to satisfy constraint: "
				  "Member must not be null");
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		n = (size_t)snprintf(want, sizeof(want),
				     "arn:%s:dynamodb:%s:%s:table/",
				     i ? "ows" : "aws", region,
				     r->c->host->account);
		if (strncmp(arn, want, n) == 0 && ows__ddb_name_valid(arn + n))
			return arn + n;
	}
	ows__ddb_invalidf(r, "Invalid TableArn: Invalid ResourceArn provided "
			  "as input %s", arn);
	return NULL;
}

static void tags_done(struct ows__ddb_req *r, const json_t *result)
{
	(void)result;
	ows__ddb_reply(r, json_object());
}

void ows__ddb_tag_resource(struct ows__ddb_req *r)
{
	const char *name = arn_table(r);
	const json_t *list = json_object_get(r->body, "Tags"), *e;
	json_t *tags;
	size_t i;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:TagResource", name,
					       NULL, NULL, NULL) != 0)
		return;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null at "
				  "'tags' failed to satisfy constraint: Member "
				  "must not be null");
		return;
	}
	tags = json_object();
	json_array_foreach(list, i, e) {
		const char *k = ows_json_str(e, "Key"), *v = ows_json_str(e,
									 "Value");

		if (k == NULL || v == NULL || strlen(k) < 1 || strlen(k) > 128 ||
		    strlen(v) > 256) {
			json_decref(tags);
			ows__ddb_invalidf(r, "1 validation error detected: Value "
					  "at 'tags.%zu.member' failed to "
					  "satisfy constraint: Key must have "
					  "length 1 to 128, Value at most 256",
					  i + 1);
			return;
		}
		json_object_set_new(tags, k, json_string(v));
	}
	if (!ows_state_resource_exists(r->c->host->state, "tables", name)) {
		json_decref(tags);
		ows__ddb_table_not_found(r, name);
		return;
	}
	ows__ddb_table_propose(r, "update", name, json_pack("{s:o}", "tags",
							    tags), tags_done);
}

void ows__ddb_untag_resource(struct ows__ddb_req *r)
{
	const char *name = arn_table(r);
	const json_t *keys = json_object_get(r->body, "TagKeys"), *k;
	size_t i;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:UntagResource",
					       name, NULL, NULL, NULL) != 0)
		return;
	if (!json_is_array(keys)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null at "
				  "'tagKeys' failed to satisfy constraint: "
				  "Member must not be null");
		return;
	}
	json_array_foreach(keys, i, k)
		if (!json_is_string(k)) {
			ows__ddb_invalidf(r, "1 validation error detected: "
					  "tagKeys.%zu is not a string", i + 1);
			return;
		}
	if (!ows_state_resource_exists(r->c->host->state, "tables", name)) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	ows__ddb_table_propose(r, "update", name, json_pack("{s:O}", "untag",
							    keys), tags_done);
}

void ows__ddb_list_tags(struct ows__ddb_req *r)
{
	const char *name = arn_table(r);
	json_t *spec, *out;
	const char *k;
	json_t *v;

	if (name == NULL || ows__ddb_authorize(r, "dynamodb:ListTagsOfResource",
					       name, NULL, NULL, NULL) != 0)
		return;
	spec = ows_state_resource(r->c->host->state, "tables", name);
	if (spec == NULL) {
		ows__ddb_table_not_found(r, name);
		return;
	}
	out = json_array();
	json_object_foreach(json_object_get(spec, "tags"), k, v)
		json_array_append_new(out, json_pack("{s:s, s:O}", "Key", k,
						     "Value", v));
	json_decref(spec);
	ows__ddb_reply(r, json_pack("{s:o}", "Tags", out));
}
