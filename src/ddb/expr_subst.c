/*
 * The substitutions of one request (ExpressionAttributeNames and
 * ExpressionAttributeValues): their checks as DynamoDB makes them, and
 * the refusal of those that no expression used.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ddb/expr_priv.h"

/* ---- substitutions ---- */

void ows_ddb_subst_init(struct ows_ddb_subst *s, const json_t *names,
			const json_t *values)
{
	s->names = names;
	s->values = values;
	s->used = NULL;
}

void ows_ddb_subst_close(struct ows_ddb_subst *s)
{
	json_decref(s->used);
	s->used = NULL;
}

static bool key_ok(const char *k, char first)
{
	size_t i;

	if (k[0] != first || k[1] == '\0')
		return false;
	for (i = 1; k[i] != '\0'; i++)
		if (!(k[i] == '_' || (k[i] >= '0' && k[i] <= '9') ||
		      (k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= 'A' && k[i] <= 'Z')))
			return false;
	return true;
}

int ows__ddb_value_copy(const json_t *av, const char *key, json_t **out,
		      struct ows_err *err)
{
	json_t *copy = json_deep_copy(av);
	int rc;

	if (copy == NULL)
		return -ENOMEM;
	rc = ows_ddb_value_check(copy, err);
	if (rc != 0) {
		json_decref(copy);
		ows_err_wrapf(err, "ExpressionAttributeValues contains invalid "
			      "value");
		/* DynamoDB names the key after the value's own message */
		if (strlen(err->msg) + strlen(key) + 10 < sizeof(err->msg)) {
			strcat(err->msg, " for key ");
			strcat(err->msg, key);
		}
		return OWS_EINVAL;
	}
	*out = copy;
	return 0;
}

int ows__ddb_subst_validate(const struct ows_ddb_subst *s,
			    struct ows_err *err)
{
	const char *key;
	json_t *v, *copy;
	int rc;

	if (json_is_object(s->names)) {
		if (json_object_size(s->names) == 0) {
			ows_err_printf(err, "ExpressionAttributeNames must not "
				       "be empty");
			return OWS_EINVAL;
		}
		json_object_foreach((json_t *)s->names, key, v) {
			if (!key_ok(key, '#')) {
				ows_err_printf(err, "ExpressionAttributeNames "
					       "contains invalid key: Syntax "
					       "error; key: \"%s\"", key);
				return OWS_EINVAL;
			}
			if (!json_is_string(v) || json_string_length(v) == 0) {
				ows_err_printf(err, "ExpressionAttributeNames "
					       "contains invalid value: Empty "
					       "attribute name for key %s", key);
				return OWS_EINVAL;
			}
		}
	}
	if (!json_is_object(s->values))
		return 0;
	if (json_object_size(s->values) == 0) {
		ows_err_printf(err, "ExpressionAttributeValues must not be "
			       "empty");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)s->values, key, v) {
		if (!key_ok(key, ':')) {
			ows_err_printf(err, "ExpressionAttributeValues contains "
				       "invalid key: Syntax error; key: \"%s\"",
				       key);
			return OWS_EINVAL;
		}
		rc = ows__ddb_value_copy(v, key, &copy, err);
		if (rc != 0)
			return rc;
		json_decref(copy);
	}
	return 0;
}

/* "{#a, #b}" of the keys of map that used has not. */
static size_t unused_keys(const json_t *map, const json_t *used, char *out,
			  size_t cap)
{
	const char *key;
	json_t *v;
	size_t n = 0, k = 1;

	snprintf(out, cap, "{");
	json_object_foreach((json_t *)map, key, v) {
		if (json_object_get(used, key) != NULL)
			continue;
		if (k < cap)
			k += (size_t)snprintf(out + k, cap - k, "%s%s",
					      n ? ", " : "", key);
		n++;
	}
	if (k < cap)
		snprintf(out + k, cap - k, "}");
	return n;
}

int ows_ddb_subst_check(const struct ows_ddb_subst *s, struct ows_err *err)
{
	char keys[200];
	int rc = ows__ddb_subst_validate(s, err);

	if (rc != 0)
		return rc;
	if (s->used == NULL) {
		if (s->names != NULL || s->values != NULL) {
			ows_err_printf(err, "Expression%s can only be "
				       "specified when using expressions",
				       s->names ? "AttributeNames" :
				       "AttributeValues");
			return OWS_EINVAL;
		}
		return 0;
	}
	if (json_is_object(s->names) &&
	    unused_keys(s->names, s->used, keys, sizeof(keys)) > 0) {
		ows_err_printf(err, "Value provided in ExpressionAttributeNames "
			       "unused in expressions: keys: %s", keys);
		return OWS_EINVAL;
	}
	if (json_is_object(s->values) &&
	    unused_keys(s->values, s->used, keys, sizeof(keys)) > 0) {
		ows_err_printf(err, "Value provided in ExpressionAttributeValues "
			       "unused in expressions: keys: %s", keys);
		return OWS_EINVAL;
	}
	return 0;
}
