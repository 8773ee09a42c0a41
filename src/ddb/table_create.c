/*
 * CreateTable's request into a table's spec (ddb_model.h), with the
 * checks and the messages DynamoDB gives for a bad schema: the key
 * schema's shape, attribute definitions that are missing or unused, the
 * rules of local and global secondary indexes, projections, billing and
 * throughput. UpdateTable's index creation shares the index part.
 */
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "ddb/table_api.h"
#include "ddb/tables.h"

#define PREFIX "One or more parameter values were invalid: "

/* "[a, b]" of names (at most cap bytes). */
static void list_names(const json_t *names, char *out, size_t cap)
{
	size_t i, n = 0;
	json_t *v;

	n += (size_t)snprintf(out, cap, "[");
	json_array_foreach(names, i, v)
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%s",
					      i ? ", " : "",
					      json_string_value(v));
	if (n < cap)
		snprintf(out + n, cap - n, "]");
}

json_t *ows__ddb_attr_defs(struct ows__ddb_req *r, const json_t *v)
{
	json_t *defs, *d;
	size_t i;

	if (!json_is_array(v)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'attributeDefinitions' failed to "
				  "satisfy constraint: Member must not be "
				  "null");
		return NULL;
	}
	defs = json_object();
	json_array_foreach(v, i, d) {
		const char *name = ows_json_str(d, "AttributeName");
		const char *type = ows_json_str(d, "AttributeType");

		if (name == NULL || strlen(name) < 1 || strlen(name) > 255) {
			ows__ddb_invalidf(r, "1 validation error detected: "
					  "Value null at 'attributeDefinitions."
					  "%zu.member.attributeName' failed to "
					  "satisfy constraint: Member must not "
					  "be null", i + 1);
			goto bad;
		}
		if (type == NULL || (strcmp(type, "S") && strcmp(type, "N") &&
				     strcmp(type, "B"))) {
			ows__ddb_invalidf(r, "1 validation error detected: "
					  "Value '%.64s' at 'attributeDefinitions"
					  ".%zu.member.attributeType' failed to "
					  "satisfy constraint: Member must "
					  "satisfy enum value set: [B, N, S]",
					  type ? type : "null", i + 1);
			goto bad;
		}
		if (json_object_get(defs, name) != NULL) {
			ows__ddb_invalidf(r, "Cannot have two attributes with "
					  "the same name");
			goto bad;
		}
		json_object_set_new(defs, name, json_string(type));
	}
	return defs;
bad:
	json_decref(defs);
	return NULL;
}

/*
 * A KeySchema into keys[2] ("NAME:TYPE", [1] "" when none), its names
 * appended to used; where: "" for the table, "index: X" for an index.
 * 0, or OWS_EINVAL after answering.
 */
static int key_schema(struct ows__ddb_req *r, const json_t *ks,
		      const json_t *defs, json_t *used, const char *member,
		      char keys[2][300])
{
	json_t *missing = json_array(), *e;
	char a[1024], b[1024];
	size_t i;

	keys[0][0] = keys[1][0] = '\0';
	if (!json_is_array(ks) || json_array_size(ks) < 1 ||
	    json_array_size(ks) > 2) {
		json_decref(missing);
		if (!json_is_array(ks))
			ows__ddb_invalidf(r, "1 validation error detected: Value "
					  "null at '%s' failed to satisfy "
					  "constraint: Member must not be null",
					  member);
		else
			ows__ddb_invalidf(r, "1 validation error detected: Value "
					  "'%zu elements' at '%s' failed to "
					  "satisfy constraint: Member must have "
					  "length %s", json_array_size(ks),
					  member, json_array_size(ks) < 1
					  ? "greater than or equal to 1"
					  : "less than or equal to 2");
		return OWS_EINVAL;
	}
	json_array_foreach(ks, i, e) {
		const char *name = ows_json_str(e, "AttributeName");
		const char *kt = ows_json_str(e, "KeyType");

		if (name == NULL || kt == NULL || (strcmp(kt, "HASH") &&
						   strcmp(kt, "RANGE"))) {
			json_decref(missing);
			ows__ddb_invalidf(r, "1 validation error detected: Value "
					  "'%.64s' at '%s.%zu.member.keyType' "
					  "failed to satisfy constraint: Member "
					  "must satisfy enum value set: [HASH, "
					  "RANGE]", kt ? kt : "null", member,
					  i + 1);
			return OWS_EINVAL;
		}
		if (strcmp(kt, i == 0 ? "HASH" : "RANGE") != 0) {
			json_decref(missing);
			ows__ddb_invalidf(r, "Invalid KeySchema: The %s "
					  "KeySchemaElement is not a %s key type",
					  i == 0 ? "first" : "second",
					  i == 0 ? "HASH" : "RANGE");
			return OWS_EINVAL;
		}
		if (json_object_get(defs, name) == NULL)
			json_array_append_new(missing, json_string(name));
		else
			snprintf(keys[i], 300, "%.250s:%s", name,
				 ows_json_str(defs, name));
		json_array_append_new(used, json_string(name));
	}
	if (json_array_size(missing) > 0) {
		json_t *names = json_array();
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)defs, k, v)
			json_array_append_new(names, json_string(k));
		list_names(missing, a, sizeof(a));
		list_names(names, b, sizeof(b));
		json_decref(names);
		json_decref(missing);
		ows__ddb_invalidf(r, PREFIX "Some index key attributes are not "
				  "defined in AttributeDefinitions. Keys: %s, "
				  "AttributeDefinitions: %s", a, b);
		return OWS_EINVAL;
	}
	json_decref(missing);
	if (json_array_size(ks) == 2 &&
	    strcmp(ows_json_str(json_array_get(ks, 0), "AttributeName"),
		   ows_json_str(json_array_get(ks, 1), "AttributeName")) == 0) {
		ows__ddb_invalidf(r, "Both the Hash Key and the Range Key "
				  "element in the KeySchema have the same name");
		return OWS_EINVAL;
	}
	return 0;
}

json_t *ows__ddb_throughput(struct ows__ddb_req *r, const json_t *v,
			    const char *where)
{
	const json_t *rc = json_object_get(v, "ReadCapacityUnits");
	const json_t *wc = json_object_get(v, "WriteCapacityUnits");

	if (!json_is_integer(rc) || !json_is_integer(wc)) {
		ows__ddb_invalidf(r, PREFIX "ReadCapacityUnits and "
				  "WriteCapacityUnits must both be specified%s",
				  where);
		return NULL;
	}
	if (json_integer_value(rc) < 1 || json_integer_value(wc) < 1) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%lld'"
				  " at 'provisionedThroughput.%sCapacityUnits' "
				  "failed to satisfy constraint: Member must "
				  "have value greater than or equal to 1",
				  (long long)(json_integer_value(rc) < 1
					      ? json_integer_value(rc)
					      : json_integer_value(wc)),
				  json_integer_value(rc) < 1 ? "read"
							     : "write");
		return NULL;
	}
	if (json_integer_value(rc) > 40000 || json_integer_value(wc) > 40000) {
		ows__ddb_error(r, 400, "LimitExceededException", "Subscriber "
			       "limit exceeded: Provisioned throughput can be "
			       "at most 40000 units per table or index");
		return NULL;
	}
	return json_pack("{s:I, s:I}", "read", json_integer_value(rc), "write",
			 json_integer_value(wc));
}

static int projection(struct ows__ddb_req *r, const json_t *p, json_t *out)
{
	const char *t = ows_json_str(p, "ProjectionType");
	const json_t *nk = json_object_get(p, "NonKeyAttributes");

	if (!json_is_object(p)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'projection' failed to satisfy "
				  "constraint: Member must not be null");
		return OWS_EINVAL;
	}
	if (t == NULL)
		t = nk ? "INCLUDE" : "ALL"; /* the API's default */
	if (strcmp(t, "ALL") && strcmp(t, "KEYS_ONLY") && strcmp(t, "INCLUDE")) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%.64s' "
				  "at 'projection.projectionType' failed to "
				  "satisfy constraint: Member must satisfy enum "
				  "value set: [ALL, INCLUDE, KEYS_ONLY]", t);
		return OWS_EINVAL;
	}
	if (strcmp(t, "INCLUDE") != 0) {
		if (nk != NULL) {
			ows__ddb_invalidf(r, PREFIX "ProjectionType is %s, but "
					  "NonKeyAttributes is specified", t);
			return OWS_EINVAL;
		}
		json_object_set_new(out, "projection", json_string(t));
		return 0;
	}
	if (!json_is_array(nk) || json_array_size(nk) == 0 ||
	    json_array_size(nk) > 100) {
		ows__ddb_invalidf(r, PREFIX "NonKeyAttributes must be specified "
				  "and hold at most 100 names when "
				  "ProjectionType is INCLUDE");
		return OWS_EINVAL;
	}
	json_object_set(out, "projection", (json_t *)nk);
	return 0;
}

json_t *ows__ddb_index_spec(struct ows__ddb_req *r, const json_t *ix,
			    const json_t *defs, bool local, bool provisioned,
			    const char *where)
{
	const char *name = ows_json_str(ix, "IndexName");
	json_t *spec = json_object(), *used = json_array(), *tp;
	char keys[2][300], member[64];

	snprintf(member, sizeof(member), "%s.member.keySchema", where);
	if (!ows__ddb_name_valid(name)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value "
				  "'%.255s' at '%s.member.indexName' failed to "
				  "satisfy constraint: Member must satisfy "
				  "regular expression pattern: [a-zA-Z0-9_.-]+ "
				  "and have length from 3 to 255",
				  name ? name : "null", where);
		goto bad;
	}
	if (key_schema(r, json_object_get(ix, "KeySchema"), defs, used,
		       member, keys) != 0 ||
	    projection(r, json_object_get(ix, "Projection"), spec) != 0)
		goto bad;
	json_object_set_new(spec, "partition_key", json_string(keys[0]));
	if (keys[1][0])
		json_object_set_new(spec, "sort_key", json_string(keys[1]));
	if (local) {
		json_object_set_new(spec, "local", json_true());
	} else if (provisioned) {
		char w[300];

		snprintf(w, sizeof(w), " for index: %.255s", name);
		if (json_object_get(ix, "ProvisionedThroughput") == NULL) {
			ows__ddb_invalidf(r, PREFIX "ProvisionedThroughput must "
					  "be specified for index: %s", name);
			goto bad;
		}
		tp = ows__ddb_throughput(r, json_object_get(
			ix, "ProvisionedThroughput"), w);
		if (tp == NULL)
			goto bad;
		json_object_set_new(spec, "provisioned", tp);
	} else if (json_object_get(ix, "ProvisionedThroughput") != NULL) {
		ows__ddb_invalidf(r, PREFIX "ProvisionedThroughput should not be "
				  "specified for index: %s when BillingMode is "
				  "PAY_PER_REQUEST", name);
		goto bad;
	}
	json_decref(used);
	return spec;
bad:
	json_decref(used);
	json_decref(spec);
	return NULL;
}

/* Local or global indexes of the request into spec's "indexes". */
static int indexes(struct ows__ddb_req *r, const char *member, bool local,
		   bool provisioned, const json_t *defs, char keys[2][300],
		   json_t *out)
{
	const json_t *list = json_object_get(r->body, member), *ix;
	const char *where = local ? "localSecondaryIndexes"
				  : "globalSecondaryIndexes";
	size_t i, cap = local ? OWS_DDB_LSI_MAX : OWS_DDB_GSI_MAX;

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		ows__ddb_invalidf(r, PREFIX "List of %s is empty", member);
		return OWS_EINVAL;
	}
	if (local && keys[1][0] == '\0') {
		ows__ddb_invalidf(r, PREFIX "Table KeySchema does not have a "
				  "range key, which is required when specifying "
				  "a LocalSecondaryIndex");
		return OWS_EINVAL;
	}
	if (json_array_size(list) > cap) {
		ows__ddb_error(r, 400, local ? "ValidationException"
			       : "LimitExceededException", local
			       ? PREFIX "Number of LocalSecondaryIndexes exceeds "
				 "per-table limit of 5"
			       : "Subscriber limit exceeded: GlobalSecondary"
				 "Index count exceeds the per-table limit of 20");
		return OWS_EINVAL;
	}
	json_array_foreach(list, i, ix) {
		json_t *spec = ows__ddb_index_spec(r, ix, defs, local,
						   provisioned, where);
		const char *name = ows_json_str(ix, "IndexName");
		const char *pk;

		if (spec == NULL)
			return OWS_EINVAL;
		if (json_object_get(out, name) != NULL) {
			json_decref(spec);
			ows__ddb_invalidf(r, PREFIX "Duplicate index name: %s",
					  name);
			return OWS_EINVAL;
		}
		pk = ows_json_str(spec, "partition_key");
		if (local && strcmp(pk, keys[0]) != 0) {
			ows__ddb_invalidf(r, PREFIX "Index KeySchema does not "
					  "have the same leading hash key as "
					  "table KeySchema for index: %s. index "
					  "hash key: %.*s, table hash key: %.*s",
					  name, (int)(strrchr(pk, ':') - pk), pk,
					  (int)(strrchr(keys[0], ':') - keys[0]),
					  keys[0]);
			json_decref(spec);
			return OWS_EINVAL;
		}
		if (local && ows_json_str(spec, "sort_key") == NULL) {
			json_decref(spec);
			ows__ddb_invalidf(r, PREFIX "Index KeySchema does not "
					  "have a range key for index: %s",
					  name);
			return OWS_EINVAL;
		}
		json_object_set_new(out, name, spec);
	}
	return 0;
}

/* Every definition is some key's: DynamoDB refuses unused ones. */
static int defs_used(struct ows__ddb_req *r, const json_t *defs,
		     const json_t *spec, bool any_index)
{
	json_t *used = json_array(), *all = json_array(), *ix;
	const char *k, *key;
	char a[1024], b[1024];
	json_t *v;
	int rv = 0;

	json_object_foreach((json_t *)json_object_get(spec, "indexes"), k, ix)
		for (int i = 0; i < 2; i++)
			if ((key = ows_json_str(ix, i ? "sort_key"
						      : "partition_key")))
				json_array_append_new(used, json_stringn(
					key, (size_t)(strrchr(key, ':') - key)));
	for (int i = 0; i < 2; i++)
		if ((key = ows_json_str(spec, i ? "sort_key" : "partition_key")))
			json_array_append_new(used, json_stringn(
				key, (size_t)(strrchr(key, ':') - key)));
	json_object_foreach((json_t *)defs, k, v) {
		size_t i;
		json_t *u;

		json_array_append_new(all, json_string(k));
		json_array_foreach(used, i, u)
			if (strcmp(json_string_value(u), k) == 0)
				break;
		if (i == json_array_size(used))
			rv = OWS_EINVAL;
	}
	if (rv != 0 && !any_index) {
		ows__ddb_invalidf(r, PREFIX "Number of attributes in KeySchema "
				  "does not exactly match number of attributes "
				  "defined in AttributeDefinitions");
	} else if (rv != 0) {
		list_names(all, a, sizeof(a));
		list_names(used, b, sizeof(b));
		ows__ddb_invalidf(r, PREFIX "Some AttributeDefinitions are not "
				  "used. AttributeDefinitions: %s, keys used: "
				  "%s", a, b);
	}
	json_decref(used);
	json_decref(all);
	return rv;
}

static int billing(struct ows__ddb_req *r, json_t *spec, bool *provisioned)
{
	const char *bm = ows__ddb_str(r, "BillingMode");
	const json_t *pt = json_object_get(r->body, "ProvisionedThroughput");
	json_t *tp;

	if (bm != NULL && strcmp(bm, "PROVISIONED") &&
	    strcmp(bm, "PAY_PER_REQUEST")) {
		ows__ddb_invalidf(r, "1 validation error detected: Value '%.64s' "
				  "at 'billingMode' failed to satisfy "
				  "constraint: Member must satisfy enum value "
				  "set: [PROVISIONED, PAY_PER_REQUEST]", bm);
		return OWS_EINVAL;
	}
	*provisioned = bm == NULL || strcmp(bm, "PROVISIONED") == 0;
	if (!*provisioned) {
		if (pt != NULL) {
			ows__ddb_invalidf(r, PREFIX "Neither ReadCapacityUnits "
					  "nor WriteCapacityUnits can be "
					  "specified when BillingMode is "
					  "PAY_PER_REQUEST");
			return OWS_EINVAL;
		}
		json_object_set_new(spec, "billing_mode",
				    json_string("PAY_PER_REQUEST"));
		return 0;
	}
	if (pt == NULL) {
		ows__ddb_invalidf(r, bm ? PREFIX "ReadCapacityUnits and "
				  "WriteCapacityUnits must both be specified "
				  "when BillingMode is PROVISIONED"
				  : "No provisioned throughput specified for "
				    "the table");
		return OWS_EINVAL;
	}
	tp = ows__ddb_throughput(r, pt, " when BillingMode is PROVISIONED");
	if (tp == NULL)
		return OWS_EINVAL;
	json_object_set_new(spec, "billing_mode", json_string("PROVISIONED"));
	json_object_set_new(spec, "provisioned", tp);
	return 0;
}

static int tags(struct ows__ddb_req *r, const json_t *list, json_t *spec)
{
	json_t *t = json_object(), *e;
	size_t i;

	if (list == NULL) {
		json_decref(t);
		return 0;
	}
	json_array_foreach(list, i, e) {
		const char *k = ows_json_str(e, "Key");
		const char *v = ows_json_str(e, "Value");

		if (k == NULL || v == NULL || strlen(k) < 1 || strlen(k) > 128 ||
		    strlen(v) > 256) {
			json_decref(t);
			ows__ddb_invalidf(r, "1 validation error detected: Value "
					  "at 'tags.%zu.member' failed to "
					  "satisfy constraint: Key must have "
					  "length 1 to 128, Value at most 256",
					  i + 1);
			return OWS_EINVAL;
		}
		json_object_set_new(t, k, json_string(v));
	}
	if (!json_is_array(list) || json_object_size(t) > 50) {
		json_decref(t);
		ows__ddb_invalidf(r, "One or more parameter values were invalid: "
				  "at most 50 tags");
		return OWS_EINVAL;
	}
	if (json_object_size(t) > 0)
		json_object_set_new(spec, "tags", t);
	else
		json_decref(t);
	return 0;
}

int ows__ddb_create_spec(struct ows__ddb_req *r, json_t **out)
{
	json_t *defs = ows__ddb_attr_defs(r, json_object_get(r->body,
							     "AttributeDefinitions"));
	json_t *spec = json_object(), *used = json_array(), *ixs = json_object();
	char keys[2][300];
	bool prov = false;
	int rv = OWS_EINVAL;

	if (defs == NULL)
		goto out;
	if (key_schema(r, json_object_get(r->body, "KeySchema"), defs, used,
		       "keySchema", keys) != 0 ||
	    billing(r, spec, &prov) != 0 ||
	    indexes(r, "LocalSecondaryIndexes", true, prov, defs, keys,
		    ixs) != 0 ||
	    indexes(r, "GlobalSecondaryIndexes", false, prov, defs, keys,
		    ixs) != 0)
		goto out;
	json_object_set_new(spec, "partition_key", json_string(keys[0]));
	if (keys[1][0])
		json_object_set_new(spec, "sort_key", json_string(keys[1]));
	if (json_object_size(ixs) > 0)
		json_object_set(spec, "indexes", ixs);
	if (defs_used(r, defs, spec, json_object_size(ixs) > 0) != 0 ||
	    tags(r, json_object_get(r->body, "Tags"), spec) != 0)
		goto out;
	*out = spec;
	spec = NULL;
	rv = 0;
out:
	json_decref(defs);
	json_decref(used);
	json_decref(ixs);
	json_decref(spec);
	return rv;
}
