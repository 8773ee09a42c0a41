/*
 * The kinds the Lambda API adds to the state machine (state/kinds.h):
 *
 *   function_meta.put       NAME    what Lambda shows of a function and
 *                                   OWS does not run; with "stamp": true
 *                                   the apply stamps last_modified and a
 *                                   new revision_id (from the entry's time
 *                                   and height: deterministic)
 *   function_meta.delete    NAME
 *   function_versions.publish NAME  freezes the function's spec as
 *                                   function_versions/NAME:N (the spec
 *                                   itself: the node runs it as it runs a
 *                                   function) and its meta as
 *                                   function_version_meta/NAME:N, N = the
 *                                   last one + 1 (or answers the last one
 *                                   when nothing changed, as Lambda does);
 *                                   the result gets "version": "N"
 *   function_versions.delete NAME:N both rows; refused while an alias
 *                                   routes to it
 *   function_version_meta           written only by the two above
 *   aliases.put / .delete   NAME:ALIAS  {"version", "description",
 *                                   "weights": {"N": w}}, w in millionths
 *                                   (entries hold no real numbers: their
 *                                   canonical form has none)
 *
 * None of them is in stack files: they are made through the Lambda API.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

/* A revision id (UUID-shaped) for name at this entry. */
static void revision(const struct ows_apply_ctx *c, const char *kind,
		     const char *name, char out[37])
{
	char text[512], hex[65];

	snprintf(text, sizeof(text), "%s|%s|%" PRIu64 "|%" PRId64, kind, name,
		 c->height, c->time_ms);
	ows_sha256_hex(text, strlen(text), hex);
	snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
}

/* The function part of "NAME:QUAL" into fn. */
static void fn_of(const char *name, char *fn, size_t cap)
{
	snprintf(fn, cap, "%.*s", (int)strcspn(name, ":"), name);
}

/* ---- function_meta ---- */

static int meta_check(const char *name, const json_t *spec,
		      struct ows_err *err)
{
	(void)name;
	if (!json_is_object(spec)) {
		ows_err_printf(err, "function_meta is an object");
		return OWS_EINVAL;
	}
	if (json_object_get(spec, "tags") != NULL &&
	    !json_is_object(json_object_get(spec, "tags"))) {
		ows_err_printf(err, "'tags' is an object");
		return OWS_EINVAL;
	}
	if (json_object_get(spec, "policy") != NULL &&
	    !json_is_array(json_object_get(spec, "policy"))) {
		ows_err_printf(err, "'policy' is a list of statements");
		return OWS_EINVAL;
	}
	return 0;
}

/*
 * A write's preconditions, judged at the entry's height, not only by the
 * node that proposed it (two writers checked against the same state must
 * not both pass): "create" (CreateFunction: the function must be new)
 * and "if_revision" (the caller's RevisionId). OWS_ECONFLICT when unmet.
 */
static int meta_preconditions(const json_t *old, const json_t *spec,
			      struct ows_err *err)
{
	const char *want = ows_json_str(spec, "if_revision");
	const char *have = ows_json_str(old, "revision_id");

	if (json_is_true(json_object_get(spec, "create")) && old != NULL) {
		ows_err_printf(err, "Function already exist");
		return OWS_ECONFLICT;
	}
	if (want != NULL && (have == NULL || strcmp(want, have) != 0)) {
		ows_err_printf(err, "The Revision Id provided does not match "
			       "the latest Revision Id");
		return OWS_ECONFLICT;
	}
	return 0;
}

static int meta_apply(const struct ows_apply_ctx *c, const char *verb,
		      const char *name, const json_t *spec, json_t *result,
		      struct ows_err *err)
{
	json_t *old, *row;
	char rev[37];
	int rv;

	(void)result;
	if (strcmp(verb, "delete") == 0)
		return ows_kind_delete(c, "function_meta", name, err);
	if (strcmp(verb, "put") != 0) {
		ows_err_printf(err, "unknown action 'function_meta.%s'", verb);
		return OWS_EINVAL;
	}
	if ((rv = meta_check(name, spec, err)) != 0)
		return rv;
	if (!ows_state_resource_exists(c->s, "functions", name)) {
		ows_err_printf(err, "Function not found: %s", name);
		return OWS_ENOTFOUND;
	}
	old = ows_state_resource(c->s, "function_meta", name);
	if ((rv = meta_preconditions(old, spec, err)) != 0) {
		json_decref(old);
		return rv;
	}
	row = json_deep_copy(spec);
	if (row == NULL) {
		json_decref(old);
		return -ENOMEM;
	}
	/* the version counter is the state's, never the proposer's */
	json_object_set_new(row, "last_version", json_integer(
		json_integer_value(json_object_get(old, "last_version"))));
	if (json_is_true(json_object_get(spec, "stamp")) ||
	    json_object_get(old, "revision_id") == NULL) {
		revision(c, "function_meta", name, rev);
		json_object_set_new(row, "last_modified",
				    json_integer(c->time_ms));
		json_object_set_new(row, "revision_id", json_string(rev));
	} else {
		json_object_set(row, "last_modified",
				json_object_get(old, "last_modified"));
		json_object_set(row, "revision_id",
				json_object_get(old, "revision_id"));
	}
	json_object_del(row, "stamp");
	json_object_del(row, "create");
	json_object_del(row, "if_revision");
	rv = ows_kind_put(c, "function_meta", name, row, err);
	json_decref(row);
	json_decref(old);
	return rv;
}

/* ---- function_versions ---- */

/* Aliases of function fn that route to version ver: a list, or NULL. */
static int aliases_using(struct ows_state *s, const char *fn, const char *ver,
			 char *out, size_t cap)
{
	json_t *all = ows_state_resources(s, "aliases", NULL), *row;
	size_t i, n = strlen(fn), used = 0;
	int count = 0;

	out[0] = '\0';
	json_array_foreach(all, i, row) {
		const char *key = ows_json_str(row, "name");
		json_t *spec = json_object_get(row, "spec");

		if (key == NULL || strncmp(key, fn, n) != 0 || key[n] != ':')
			continue;
		if (strcmp(ows_json_str(spec, "version") ?
			   ows_json_str(spec, "version") : "", ver) != 0 &&
		    json_object_get(json_object_get(spec, "weights"), ver) ==
			    NULL)
			continue;
		used += (size_t)snprintf(out + used, used < cap ? cap - used : 0,
					 "%s%s", count ? ", " : "", key + n + 1);
		count++;
		if (used >= cap)
			used = cap - 1;
	}
	json_decref(all);
	return count;
}

static int publish(const struct ows_apply_ctx *c, const char *name,
		   const json_t *spec, json_t *result, struct ows_err *err)
{
	json_t *fn = ows_state_resource(c->s, "functions", name);
	json_t *meta = ows_state_resource(c->s, "function_meta", name);
	json_t *last = NULL, *fmeta = NULL;
	json_int_t n = json_integer_value(json_object_get(meta, "last_version"));
	const char *want = ows_json_str(spec, "code_sha256");
	const char *desc = ows_json_str(spec, "description");
	char key[200], rev[37];
	int rv = 0;

	if (fn == NULL) {
		ows_err_printf(err, "Function not found: %s", name);
		rv = OWS_ENOTFOUND;
		goto cleanup;
	}
	if ((rv = meta_preconditions(meta, spec, err)) != 0)
		goto cleanup;
	if (want != NULL && want[0] != '\0' &&
	    strcmp(want, ows_json_str(fn, "code_sha256")) != 0) {
		ows_err_printf(err, "CodeSHA256 (%s) is different from current "
			       "CodeSHA256 in $LATEST. Please try again with "
			       "the current CodeSHA256.", want);
		rv = OWS_EINVAL;
		goto cleanup;
	}
	if (n > 0) {
		snprintf(key, sizeof(key), "%s:%" JSON_INTEGER_FORMAT, name, n);
		last = ows_state_resource(c->s, "function_versions", key);
		if (last != NULL && json_equal(last, fn)) {
			/* nothing changed since: Lambda answers that one */
			json_object_set_new(result, "version",
					    json_sprintf("%" JSON_INTEGER_FORMAT,
							 n));
			goto cleanup;
		}
	}
	n++;
	fmeta = meta ? json_deep_copy(meta) : json_object();
	json_object_del(fmeta, "last_version");
	json_object_del(fmeta, "policy");
	json_object_del(fmeta, "event_invoke");
	json_object_del(fmeta, "tags");
	if (desc != NULL)
		json_object_set_new(fmeta, "description", json_string(desc));
	revision(c, "function_versions", name, rev);
	json_object_set_new(fmeta, "revision_id", json_string(rev));
	snprintf(key, sizeof(key), "%s:%" JSON_INTEGER_FORMAT, name, n);
	rv = ows_kind_put(c, "function_versions", key, fn, err);
	if (rv == 0)
		rv = ows_kind_put(c, "function_version_meta", key, fmeta, err);
	if (rv == 0) {
		if (meta == NULL)
			meta = json_object();
		json_object_set_new(meta, "last_version", json_integer(n));
		rv = ows_kind_put(c, "function_meta", name, meta, err);
	}
	if (rv == 0)
		json_object_set_new(result, "version",
				    json_sprintf("%" JSON_INTEGER_FORMAT, n));
cleanup:
	json_decref(fn);
	json_decref(meta);
	json_decref(last);
	json_decref(fmeta);
	return rv;
}

static int versions_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err)
{
	char fn[OWS_LAMBDA_NAME_MAX], users[512];
	const char *ver = strchr(name, ':');

	if (strcmp(verb, "publish") == 0)
		return publish(c, name, spec, result, err);
	if (strcmp(verb, "delete") != 0) {
		ows_err_printf(err, "unknown action 'function_versions.%s'",
			       verb);
		return OWS_EINVAL;
	}
	if (ver == NULL) {
		ows_err_printf(err, "a version is named NAME:N");
		return OWS_EINVAL;
	}
	fn_of(name, fn, sizeof(fn));
	if (aliases_using(c->s, fn, ver + 1, users, sizeof(users)) > 0) {
		ows_err_printf(err, "Unable to delete version because the "
			       "following aliases reference it: [%s]", users);
		return OWS_ECONFLICT;
	}
	if (ows_state_resource_exists(c->s, "function_version_meta", name)) {
		int rv = ows_kind_delete(c, "function_version_meta", name, err);

		if (rv != 0)
			return rv;
	}
	return ows_kind_delete(c, "function_versions", name, err);
}

static int version_meta_apply(const struct ows_apply_ctx *c, const char *verb,
			      const char *name, const json_t *spec,
			      json_t *result, struct ows_err *err)
{
	(void)c;
	(void)verb;
	(void)spec;
	(void)result;
	ows_err_printf(err, "function_version_meta '%s' is written by "
		       "function_versions.publish and .delete only", name);
	return OWS_EINVAL;
}

/* ---- aliases ---- */

static int alias_check(const char *name, const json_t *spec,
		       struct ows_err *err)
{
	const json_t *w = json_object_get(spec, "weights"), *v;
	const char *k;
	json_int_t sum = 0;

	if (strchr(name, ':') == NULL) {
		ows_err_printf(err, "an alias is named FUNCTION:ALIAS");
		return OWS_EINVAL;
	}
	if (ows_json_str(spec, "version") == NULL) {
		ows_err_printf(err, "an alias names its 'version'");
		return OWS_EINVAL;
	}
	if (w != NULL && !json_is_object(w)) {
		ows_err_printf(err, "'weights' is an object of version: weight");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)w, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > OWS_LAMBDA_WEIGHT_ONE) {
			ows_err_printf(err, "weight of version %s must be "
				       "from 0.0 to 1.0", k);
			return OWS_EINVAL;
		}
		sum += json_integer_value(v);
	}
	if (sum > OWS_LAMBDA_WEIGHT_ONE) {
		ows_err_printf(err, "The sum of the weights must be at most "
			       "1.0");
		return OWS_EINVAL;
	}
	return 0;
}

static bool version_exists(struct ows_state *s, const char *fn,
			   const char *ver)
{
	char key[200];

	if (strcmp(ver, "$LATEST") == 0)
		return ows_state_resource_exists(s, "functions", fn);
	snprintf(key, sizeof(key), "%s:%s", fn, ver);
	return ows_state_resource_exists(s, "function_versions", key);
}

static int aliases_apply(const struct ows_apply_ctx *c, const char *verb,
			 const char *name, const json_t *spec,
			 json_t *result, struct ows_err *err)
{
	char fn[OWS_LAMBDA_NAME_MAX], rev[37];
	const char *k, *ver;
	json_t *v, *row;
	int rv;

	(void)result;
	if (strcmp(verb, "delete") == 0)
		return ows_kind_delete(c, "aliases", name, err);
	if (strcmp(verb, "put") != 0) {
		ows_err_printf(err, "unknown action 'aliases.%s'", verb);
		return OWS_EINVAL;
	}
	if ((rv = alias_check(name, spec, err)) != 0)
		return rv;
	fn_of(name, fn, sizeof(fn));
	ver = ows_json_str(spec, "version");
	if (!version_exists(c->s, fn, ver)) {
		ows_err_printf(err, "Function not found: %s:%s", fn, ver);
		return OWS_ENOTFOUND;
	}
	json_object_foreach((json_t *)json_object_get(spec, "weights"), k, v) {
		if (strcmp(k, "$LATEST") == 0 ||
		    strcmp(ver, "$LATEST") == 0 || strcmp(k, ver) == 0) {
			ows_err_printf(err, "RoutingConfig: weighted routing "
				       "is between two published versions");
			return OWS_EINVAL;
		}
		if (!version_exists(c->s, fn, k)) {
			ows_err_printf(err, "Function not found: %s:%s", fn, k);
			return OWS_ENOTFOUND;
		}
	}
	row = json_deep_copy(spec);
	if (row == NULL)
		return -ENOMEM;
	revision(c, "aliases", name, rev);
	json_object_set_new(row, "revision_id", json_string(rev));
	rv = ows_kind_put(c, "aliases", name, row, err);
	json_decref(row);
	return rv;
}

static const struct ows_kind kind_meta = {
	.name = "function_meta", .arn_service = "lambda",
	.arn_type = "function", .rank = 60, .in_stacks = false,
	.check = meta_check, .apply = meta_apply,
};
static const struct ows_kind kind_versions = {
	.name = "function_versions", .arn_service = "lambda",
	.arn_type = "function", .rank = 61, .in_stacks = false,
	.apply = versions_apply,
};
static const struct ows_kind kind_version_meta = {
	.name = "function_version_meta", .arn_service = "lambda",
	.arn_type = "function", .rank = 61, .in_stacks = false,
	.apply = version_meta_apply,
};
static const struct ows_kind kind_aliases = {
	.name = "aliases", .arn_service = "lambda", .arn_type = "function",
	.rank = 62, .in_stacks = false, .check = alias_check,
	.apply = aliases_apply,
};

const struct ows_kind *const ows_lambda_kinds[] = {
	&kind_meta, &kind_versions, &kind_version_meta, &kind_aliases, NULL,
};
