/* Change sets and their envelopes; see changeset.h. */
#include "ledger/changeset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "state/kinds.h"

json_t *ows_envelope_new(const char *cluster, const char *stack,
			 json_t *actions, int64_t now)
{
	char nonce[33];
	json_t *cs, *env;

	if (ows_random_hex(16, nonce) != 0) {
		json_decref(actions);
		return NULL;
	}
	cs = json_pack("{s:s, s:s, s:I, s:o}", "cluster", cluster, "nonce",
		       nonce, "time", (json_int_t)now, "actions", actions);
	if (cs == NULL)
		return NULL;
	if (stack != NULL && json_object_set_new(cs, "stack",
						 json_string(stack)) != 0) {
		json_decref(cs);
		return NULL;
	}
	env = json_pack("{s:o, s:[]}", "changeset", cs, "signatures");
	return env;
}

int ows_envelope_sign(json_t *envelope, const struct ows_key *k)
{
	struct ows_buf canon = OWS_BUF_INIT;
	char pub[OWS_PUBKEY_B64_LEN], sig[OWS_SIG_B64_LEN];
	json_t *sigs = json_object_get(envelope, "signatures");
	int rv;

	if (!json_is_array(sigs))
		return -EINVAL;
	rv = ows_json_canonical(json_object_get(envelope, "changeset"), &canon);
	if (rv == 0)
		rv = ows_key_sign(k, canon.data, canon.len, sig);
	ows_buf_free(&canon);
	if (rv != 0)
		return rv;
	ows_key_public(k, pub);
	return json_array_append_new(sigs, json_pack("{s:s, s:s}", "key", pub,
						     "sig", sig)) == 0 ? 0 : -ENOMEM;
}

bool ows_name_valid(const char *name)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return n >= 1 && n <= OWS_NAME_MAX;
}

int ows_action_split(const char *action, char *kind, const char **verb)
{
	const char *dot = strchr(action, '.');
	size_t n;

	if (dot == NULL || dot == action || dot[1] == '\0')
		return -EINVAL;
	n = (size_t)(dot - action);
	if (n >= OWS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(action[i] >= 'a' && action[i] <= 'z') && action[i] != '_')
			return -EINVAL;
	memcpy(kind, action, n);
	kind[n] = '\0';
	*verb = dot + 1;
	return 0;
}

void ows_action_arn(const char *kind, const char *name, char *out, size_t cap)
{
	const struct ows_kind *k = ows_kind_find(kind);

	if (k != NULL && k->arn_service != NULL && k->arn_type != NULL &&
	    k->arn_type[0] == '\0') /* S3's: arn:ows:s3:::BUCKET */
		snprintf(out, cap, "arn:ows:%s:::%s", k->arn_service, name);
	else if (k != NULL && k->arn_service != NULL && k->arn_type != NULL)
		snprintf(out, cap, "arn:ows:%s::%s/%s", k->arn_service,
			 k->arn_type, name);
	else
		snprintf(out, cap, "arn:ows:ows::%s/%s", kind, name);
}

int ows__actions_check(const json_t *actions, struct ows_err *err)
{
	char kind[OWS_NAME_MAX];
	const char *verb, *action, *name;
	json_t *a;
	size_t i;

	if (!json_is_array(actions) || json_array_size(actions) == 0 ||
	    json_array_size(actions) > OWS_MAX_ACTIONS) {
		ows_err_printf(err, "'actions' must be a list of 1 to %d actions",
			       OWS_MAX_ACTIONS);
		return OWS_EPARSE;
	}
	json_array_foreach(actions, i, a) {
		action = ows_json_str(a, "action");
		name = ows_json_str(a, "name");
		if (action == NULL || ows_action_split(action, kind, &verb) != 0) {
			ows_err_printf(err, "actions[%zu]: missing or malformed "
				       "'action'", i);
			return OWS_EPARSE;
		}
		if (name == NULL || !ows_name_valid(name)) {
			ows_err_printf(err, "actions[%zu]: missing or invalid "
				       "'name'", i);
			return OWS_EPARSE;
		}
		if (json_object_get(a, "spec") != NULL &&
		    !json_is_object(json_object_get(a, "spec"))) {
			ows_err_printf(err, "actions[%zu]: 'spec' must be an "
				       "object", i);
			return OWS_EPARSE;
		}
	}
	return 0;
}

static int check_shape(const json_t *env, struct ows_changeset_info *info,
		       struct ows_err *err)
{
	const json_t *cs = json_object_get(env, "changeset");
	const json_t *t = json_object_get(cs, "time");
	const json_t *st = json_object_get(cs, "stack");

	if (!json_is_object(env) || !json_is_object(cs)) {
		ows_err_printf(err, "expected {\"changeset\": {...}, "
			       "\"signatures\": [...]}");
		return OWS_EPARSE;
	}
	info->changeset = cs;
	info->cluster = ows_json_str(cs, "cluster");
	info->nonce = ows_json_str(cs, "nonce");
	info->actions = json_object_get(cs, "actions");
	if (info->cluster == NULL || info->nonce == NULL ||
	    strlen(info->nonce) < 16 || strlen(info->nonce) > 64 ||
	    !json_is_integer(t)) {
		ows_err_printf(err, "change set needs 'cluster', 'nonce' (16 to "
			       "64 characters) and an integer 'time'");
		return OWS_EPARSE;
	}
	info->time = json_integer_value(t);
	if (st != NULL && (!json_is_string(st) ||
			   !ows_name_valid(json_string_value(st)))) {
		ows_err_printf(err, "'stack' must be a name");
		return OWS_EPARSE;
	}
	info->stack = st ? json_string_value(st) : NULL;
	return ows__actions_check(info->actions, err);
}

int ows_envelope_check(const json_t *env, struct ows_changeset_info *info,
		       struct ows_err *err)
{
	struct ows_buf canon = OWS_BUF_INIT;
	const json_t *sigs, *s;
	size_t i;
	int rv;

	memset(info, 0, sizeof(*info));
	rv = check_shape(env, info, err);
	if (rv != 0)
		return rv;
	sigs = json_object_get(env, "signatures");
	if (!json_is_array(sigs) || json_array_size(sigs) == 0 ||
	    json_array_size(sigs) > OWS_MAX_SIGNERS) {
		ows_err_printf(err, "'signatures' must list 1 to %d signatures",
			       OWS_MAX_SIGNERS);
		return OWS_EPARSE;
	}
	rv = ows_json_canonical(info->changeset, &canon);
	if (rv != 0) {
		ows_buf_free(&canon);
		ows_err_printf(err, "change set holds a non-integer number");
		return OWS_EPARSE;
	}
	json_array_foreach(sigs, i, s) {
		const char *key = ows_json_str(s, "key");
		const char *sig = ows_json_str(s, "sig");

		if (key == NULL || sig == NULL ||
		    !ows_sig_verify(key, canon.data, canon.len, sig)) {
			ows_err_printf(err, "signature %zu does not verify", i);
			rv = OWS_EAUTH;
			break;
		}
		for (size_t j = 0; j < info->n_signers && key != NULL; j++)
			if (strcmp(info->signers[j], key) == 0)
				key = NULL; /* the same signer twice counts once */
		if (key != NULL)
			info->signers[info->n_signers++] = key;
	}
	ows_buf_free(&canon);
	return rv;
}
