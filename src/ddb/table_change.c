/*
 * The change an entry "tables.update" carries (tables.c), applied to the
 * stored spec inside apply: UpdateTable's index creations, deletions and
 * throughput, UpdateTimeToLive, TagResource and UntagResource. Deciding
 * here, on the state the entry applies to, keeps two calls at once from
 * undoing each other and gives DynamoDB's answers for a change that no
 * longer fits ("TimeToLive is already enabled").
 */
#include <string.h>

#include "common/json.h"
#include "ddb/ddb_priv.h"
#include "ddb/tables.h"

static int indexes_change(json_t *spec, const json_t *changes,
			  struct ows_err *err)
{
	json_t *ixs = json_object_get(spec, "indexes");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)changes, k, v) {
		json_t *cur = json_object_get(ixs, k);

		if (json_is_null(v) && cur == NULL) {
			ows_err_printf(err, "ResourceNotFoundException: "
				       "Requested resource not found: Index: "
				       "%.128s not found", k);
			return OWS_ENOTFOUND;
		}
		if (json_is_null(v) && json_is_true(json_object_get(cur,
								    "local"))) {
			ows_err_printf(err, "ValidationException: a local "
				       "secondary index cannot be deleted: "
				       "%.128s", k);
			return OWS_EINVAL;
		}
		if (!json_is_null(v) && cur != NULL) {
			ows_err_printf(err, "ValidationException: Attempting to "
				       "create an index which already exists");
			return OWS_EINVAL;
		}
		if (ixs == NULL) {
			json_object_set_new(spec, "indexes", json_object());
			ixs = json_object_get(spec, "indexes");
		}
		if (json_is_null(v))
			json_object_del(ixs, k);
		else
			json_object_set(ixs, k, v);
	}
	if (ixs != NULL && json_object_size(ixs) == 0)
		json_object_del(spec, "indexes");
	return 0;
}

static int index_throughput(json_t *spec, const json_t *changes,
			    struct ows_err *err)
{
	json_t *ixs = json_object_get(spec, "indexes");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)changes, k, v) {
		json_t *cur = json_object_get(ixs, k);

		if (cur == NULL || json_is_true(json_object_get(cur,
								"local"))) {
			ows_err_printf(err, "ResourceNotFoundException: "
				       "Requested resource not found: Index: "
				       "%.128s not found", k);
			return OWS_ENOTFOUND;
		}
		if (json_is_null(v))
			json_object_del(cur, "provisioned");
		else
			json_object_set(cur, "provisioned", v);
	}
	return 0;
}

static int ttl_change(json_t *spec, const json_t *ttl, struct ows_err *err)
{
	const char *cur = ows_json_str(spec, "ttl_attribute");
	const char *attr = ows_json_str(ttl, "attribute");
	bool on = json_is_true(json_object_get(ttl, "enabled"));

	if (attr == NULL) {
		ows_err_printf(err, "ValidationException: the TTL change names "
			       "no attribute");
		return OWS_EINVAL;
	}
	if (on && cur != NULL) {
		ows_err_printf(err, "ValidationException: TimeToLive is already "
			       "enabled");
		return OWS_EINVAL;
	}
	if (!on && cur == NULL) {
		ows_err_printf(err, "ValidationException: TimeToLive is already "
			       "disabled");
		return OWS_EINVAL;
	}
	if (!on && strcmp(cur, attr) != 0) {
		ows_err_printf(err, "ValidationException: TimeToLive is active "
			       "on a different AttributeName: current "
			       "AttributeName is %.128s", cur);
		return OWS_EINVAL;
	}
	if (on)
		json_object_set_new(spec, "ttl_attribute", json_string(attr));
	else
		json_object_del(spec, "ttl_attribute");
	return 0;
}

static void tags_change(json_t *spec, const json_t *set, const json_t *unset)
{
	json_t *tags = json_object_get(spec, "tags"), *v;
	const char *k;
	size_t i;

	if (tags == NULL && json_object_size(set) > 0) {
		json_object_set_new(spec, "tags", json_object());
		tags = json_object_get(spec, "tags");
	}
	json_object_foreach((json_t *)set, k, v)
		json_object_set(tags, k, v);
	json_array_foreach(unset, i, v)
		if (json_is_string(v))
			json_object_del(tags, json_string_value(v));
	if (tags != NULL && json_object_size(tags) == 0)
		json_object_del(spec, "tags");
}

int ows__ddb_spec_change(json_t *spec, const json_t *delta,
			 struct ows_err *err)
{
	const json_t *v;
	int rv;

	if (!json_is_object(delta)) {
		ows_err_printf(err, "ValidationException: tables.update needs "
			       "a change");
		return OWS_EINVAL;
	}
	if (json_is_object(v = json_object_get(delta, "indexes")) &&
	    (rv = indexes_change(spec, v, err)) != 0)
		return rv;
	if (json_is_object(v = json_object_get(delta, "index_provisioned")) &&
	    (rv = index_throughput(spec, v, err)) != 0)
		return rv;
	if (json_is_object(v = json_object_get(delta, "ttl")) &&
	    (rv = ttl_change(spec, v, err)) != 0)
		return rv;
	tags_change(spec, json_object_get(delta, "tags"),
		    json_object_get(delta, "untag"));
	if ((v = json_object_get(delta, "billing_mode")) != NULL)
		json_object_set(spec, "billing_mode", (json_t *)v);
	if ((v = json_object_get(delta, "provisioned")) != NULL) {
		if (json_is_null(v))
			json_object_del(spec, "provisioned");
		else
			json_object_set(spec, "provisioned", (json_t *)v);
	}
	return 0;
}
