/* Attested entries: signing, checking and judging them; see attest.h. */
#include "ledger/attest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "ledger/changeset.h"

int ows_attest_sign(const struct ows_key *k, const json_t *attestation,
		    char sig[OWS_SIG_B64_LEN])
{
	struct ows_buf canon = OWS_BUF_INIT;
	int rv = ows_json_canonical(attestation, &canon);

	if (rv != 0) {
		ows_buf_free(&canon);
		return OWS_EPARSE;
	}
	rv = ows_key_sign(k, canon.data, canon.len, sig);
	ows_buf_free(&canon);
	return rv;
}

json_t *ows_attest_body(json_t *attestation, const struct ows_key *k)
{
	char sig[OWS_SIG_B64_LEN];

	if (attestation == NULL || ows_attest_sign(k, attestation, sig) != 0) {
		json_decref(attestation);
		return NULL;
	}
	return json_pack("{s:o, s:s}", "attestation", attestation, "signature",
			 sig);
}

/* A node id as A carries it: a decimal string, 1 or more, no sign. */
static int node_id(const char *text, uint64_t *out)
{
	size_t n = text ? strlen(text) : 0;

	if (n == 0 || n > 19 || strspn(text, "0123456789") != n ||
	    text[0] == '0')
		return OWS_EPARSE;
	*out = strtoull(text, NULL, 10);
	return 0;
}

/* A request id: 1 to 64 letters, digits and '-' (a UUID). */
static bool request_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n >= 1 && n <= 64 &&
	       strspn(id, "0123456789abcdefABCDEF"
			  "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ-") == n;
}

static int check_authorized(const json_t *list, struct ows_err *err)
{
	const json_t *item, *arns, *v;
	size_t i, k;

	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > OWS_ATTEST_MAX_AUTHORIZED) {
		ows_err_printf(err, "'authorized' must list 1 to %d checks",
			       OWS_ATTEST_MAX_AUTHORIZED);
		return OWS_EPARSE;
	}
	json_array_foreach(list, i, item) {
		const json_t *extra = json_object_get(item, "extra");
		const json_t *rp = json_object_get(item, "resource_policy");

		arns = json_object_get(item, "arns");
		if (ows_json_str(item, "action") == NULL || !json_is_array(arns) ||
		    json_array_size(arns) == 0 ||
		    json_array_size(arns) > OWS_ATTEST_MAX_ARNS ||
		    (extra != NULL && !json_is_null(extra) &&
		     !json_is_object(extra)) ||
		    (rp != NULL && !json_is_object(rp))) {
			ows_err_printf(err, "authorized[%zu] needs 'action', "
				       "'arns' (1 to %d), 'extra' (an object "
				       "or null) and 'resource_policy' (an "
				       "object, or none)", i,
				       OWS_ATTEST_MAX_ARNS);
			return OWS_EPARSE;
		}
		json_array_foreach(arns, k, v) {
			if (!json_is_string(v)) {
				ows_err_printf(err, "authorized[%zu].arns[%zu] "
					       "is not a string", i, k);
				return OWS_EPARSE;
			}
		}
	}
	return 0;
}

static int check_shape(const json_t *body, struct ows_attest_info *info,
		       struct ows_err *err)
{
	const json_t *a = json_object_get(body, "attestation");
	const json_t *caller = json_object_get(a, "caller");
	const json_t *t = json_object_get(a, "time");
	const char *kind = ows_json_str(caller, "kind");

	if (!json_is_object(a) || ows_json_str(body, "signature") == NULL) {
		ows_err_printf(err, "expected {\"attestation\": {...}, "
			       "\"signature\": SIG}");
		return OWS_EPARSE;
	}
	info->attestation = a;
	info->cluster = ows_json_str(a, "cluster");
	info->node_key = ows_json_str(a, "node_key");
	info->request_id = ows_json_str(a, "request_id");
	info->context = json_object_get(a, "context");
	info->authorized = json_object_get(a, "authorized");
	info->stack = ows_json_str(a, "stack");
	info->actions = json_object_get(a, "actions");
	info->caller.kind = kind;
	info->caller.name = ows_json_str(caller, "name");
	if (info->cluster == NULL || node_id(ows_json_str(a, "node"),
					     &info->node) != 0 ||
	    !ows_pubkey_valid(info->node_key) ||
	    !request_id_valid(info->request_id) || !json_is_integer(t)) {
		ows_err_printf(err, "attestation needs 'cluster', 'node' (a "
			       "decimal id), 'node_key', 'request_id' and an "
			       "integer 'time'");
		return OWS_EPARSE;
	}
	info->time = json_integer_value(t);
	if (kind == NULL || info->caller.name == NULL ||
	    (strcmp(kind, "users") && strcmp(kind, "roles") &&
	     strcmp(kind, "functions"))) {
		ows_err_printf(err, "'caller' needs 'kind' (users, roles or "
			       "functions) and 'name'");
		return OWS_EPARSE;
	}
	if (info->context != NULL && !json_is_object(info->context)) {
		ows_err_printf(err, "'context' must be an object");
		return OWS_EPARSE;
	}
	if (info->stack == NULL ||
	    (info->stack[0] != '\0' && !ows_name_valid(info->stack))) {
		ows_err_printf(err, "'stack' must be \"\" or a name");
		return OWS_EPARSE;
	}
	if (check_authorized(info->authorized, err) != 0)
		return OWS_EPARSE;
	return ows__actions_check(info->actions, err);
}

int ows_attest_check(const json_t *body, struct ows_attest_info *info,
		     struct ows_err *err)
{
	struct ows_buf canon = OWS_BUF_INIT;
	int rv;

	memset(info, 0, sizeof(*info));
	rv = check_shape(body, info, err);
	if (rv != 0)
		return rv;
	if (ows_json_canonical(info->attestation, &canon) != 0) {
		ows_buf_free(&canon);
		ows_err_printf(err, "attestation holds a non-integer number");
		return OWS_EPARSE;
	}
	if (!ows_sig_verify(info->node_key, canon.data, canon.len,
			    ows_json_str(body, "signature"))) {
		ows_err_printf(err, "the node's signature does not verify");
		rv = OWS_EAUTH;
	}
	ows_buf_free(&canon);
	return rv;
}

void ows_attest_ctx(const struct ows_attest_info *info,
		    struct ows_authz_ctx *out)
{
	const json_t *st = json_object_get(info->context, "aws:SecureTransport");

	out->source_ip = ows_json_str(info->context, "aws:SourceIp");
	out->secure_transport = json_is_true(st) ||
		(json_is_string(st) && strcmp(json_string_value(st), "true") == 0);
	out->region = ows_json_str(info->context, "aws:RequestedRegion");
	out->time_ms = info->time;
}

static int judge(const struct ows_attest_info *info,
		 const struct ows_directory *dir,
		 const struct ows_authz_ctx *rc, const char *action,
		 const char *const *arns, const json_t *extra,
		 const json_t *resource_policy, struct ows_err *err)
{
	char account[13];
	int rv;

	ows_authz_account(info->cluster, account);
	rv = ows_principal_authorize_rp(dir, &info->caller, action, arns,
					extra, resource_policy, account, rc);

	if (rv == OWS_EDENIED)
		ows_err_printf(err, "%s '%s' is not allowed '%s' on '%s'",
			       strcmp(info->caller.kind, "users") == 0 ? "user"
			       : strcmp(info->caller.kind, "roles") == 0 ? "role"
			       : "function", info->caller.name, action,
			       arns[0]);
	return rv;
}

int ows_attest_authorize(const struct ows_attest_info *info,
			 const struct ows_directory *dir, struct ows_err *err)
{
	const char *arns[OWS_ATTEST_MAX_ARNS + 1];
	char stack_arn[OWS_NAME_MAX + 32];
	struct ows_authz_ctx rc;
	const json_t *item, *v;
	size_t i, k;
	int rv = 0;

	ows_attest_ctx(info, &rc);
	json_array_foreach(info->authorized, i, item) {
		json_array_foreach(json_object_get(item, "arns"), k, v)
			arns[k] = json_string_value(v);
		arns[k] = NULL;
		rv = judge(info, dir, &rc, ows_json_str(item, "action"), arns,
			   json_object_get(item, "extra"),
			   json_object_get(item, "resource_policy"), err);
		if (rv != 0)
			return rv;
	}
	if (info->stack[0] != '\0') {
		snprintf(stack_arn, sizeof(stack_arn), "arn:ows:ows::stack/%s",
			 info->stack);
		arns[0] = stack_arn;
		arns[1] = NULL;
		rv = judge(info, dir, &rc, "ows:stacks.put", arns, NULL, NULL,
			   err);
	}
	return rv;
}

int ows_attest_digest(const struct ows_attest_info *info, char out[65])
{
	struct ows_buf canon = OWS_BUF_INIT;
	int rv = ows_json_canonical(info->attestation, &canon);

	if (rv == 0)
		ows_sha256_hex(canon.data, canon.len, out);
	ows_buf_free(&canon);
	return rv == 0 ? 0 : OWS_EPARSE;
}
