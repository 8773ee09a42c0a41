/* Hash chain and its verifier; see chain.h. */
#include "ledger/chain.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "ledger/attest.h"
#include "ledger/authz.h"
#include "ledger/changeset.h"

json_t *ows_ledger_entry_new(uint64_t height, const char *prev, int64_t time_ms,
			     const char *type, json_t *body)
{
	return json_pack("{s:I, s:s, s:I, s:s, s:o}", "height",
			 (json_int_t)height, "prev", prev, "time",
			 (json_int_t)time_ms, "type", type, "body", body);
}

int ows_ledger_entry_hash(const json_t *entry, char out[65])
{
	struct ows_buf canon = OWS_BUF_INIT;
	int rv = ows_json_canonical(entry, &canon);

	if (rv == 0)
		ows_sha256_hex(canon.data, canon.len, out);
	ows_buf_free(&canon);
	return rv;
}

int ows_ledger_verifier_init(struct ows_ledger_verifier *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->head, OWS_HASH_ZERO, 65);
	v->users = json_object();
	v->policies = json_object();
	v->tokens = json_object();
	v->keys = json_object();
	v->roles = json_object();
	v->functions = json_object();
	v->nodes = json_object();
	if (v->users == NULL || v->policies == NULL || v->tokens == NULL ||
	    v->keys == NULL || v->roles == NULL || v->functions == NULL ||
	    v->nodes == NULL) {
		ows_ledger_verifier_close(v);
		return -ENOMEM;
	}
	return 0;
}

void ows_ledger_verifier_close(struct ows_ledger_verifier *v)
{
	json_decref(v->users);
	json_decref(v->policies);
	json_decref(v->tokens);
	json_decref(v->keys);
	json_decref(v->roles);
	json_decref(v->functions);
	json_decref(v->nodes);
	v->users = v->policies = v->tokens = v->keys = NULL;
	v->roles = v->functions = v->nodes = NULL;
}

static int dir_user_of_key(void *ud, const char *pub, char *user, size_t cap)
{
	struct ows_ledger_verifier *v = ud;
	const char *name;
	json_t *spec, *k;
	size_t i;

	json_object_foreach(v->users, name, spec) {
		json_array_foreach(json_object_get(spec, "public_keys"), i, k) {
			if (json_is_string(k) &&
			    strcmp(json_string_value(k), pub) == 0) {
				snprintf(user, cap, "%s", name);
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* The replayed specs of kind; NULL for a kind that names no policies. */
static json_t *specs_of(struct ows_ledger_verifier *v, const char *kind)
{
	if (strcmp(kind, "users") == 0)
		return v->users;
	if (strcmp(kind, "roles") == 0)
		return v->roles;
	if (strcmp(kind, "functions") == 0)
		return v->functions;
	return NULL;
}

static int dir_principal_policies(void *ud, const char *kind, const char *name,
				  json_t *out)
{
	struct ows_ledger_verifier *v = ud;
	json_t *spec = json_object_get(specs_of(v, kind), name), *p, *doc;
	json_t *role;
	size_t i;

	if (spec == NULL)
		return -ENOENT;
	json_array_foreach(json_object_get(spec, "policies"), i, p) {
		doc = json_object_get(v->policies, json_string_value(p));
		if (doc != NULL && json_array_append(out, doc) != 0)
			return -ENOMEM;
	}
	/* a function's role: its policies as they are now */
	role = strcmp(kind, "functions") == 0
		       ? json_object_get(v->roles, ows_json_str(spec, "role")
							   ? ows_json_str(spec, "role")
							   : "")
		       : NULL;
	json_array_foreach(json_object_get(role, "policies"), i, p) {
		doc = json_object_get(v->policies, json_string_value(p));
		if (doc != NULL && json_array_append(out, doc) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int dir_user_policies(void *ud, const char *user, json_t *out)
{
	int rv = dir_principal_policies(ud, "users", user, out);

	return rv == -ENOENT ? 0 : rv;
}

static int dir_spec_names(void *ud, const char *kind, const char *name,
			  const char *field, json_t *out)
{
	struct ows_ledger_verifier *v = ud;
	json_t *spec = json_object_get(specs_of(v, kind), name), *p;
	size_t i;

	json_array_foreach(json_object_get(spec, field), i, p)
		if (json_is_string(p) && json_array_append(out, p) != 0)
			return -ENOMEM;
	return 0;
}

static int dir_user_policy_names(void *ud, const char *user, json_t *out)
{
	return dir_spec_names(ud, "users", user, "policies", out);
}

/* The names of the specs of specs whose list field holds value. */
static int specs_listing(const json_t *specs, const char *field,
			 const char *value, json_t *out)
{
	const char *name;
	json_t *spec, *u;
	size_t i;

	json_object_foreach((json_t *)specs, name, spec) {
		json_array_foreach(json_object_get(spec, field), i, u) {
			if (json_is_string(u) &&
			    strcmp(json_string_value(u), value) == 0) {
				if (json_array_append_new(out, json_string(name)) != 0)
					return -ENOMEM;
				break;
			}
		}
	}
	return 0;
}

static int dir_roles_trusting(void *ud, const char *user, json_t *out)
{
	struct ows_ledger_verifier *v = ud;

	return specs_listing(v->roles, "trusted_users", user, out);
}

static int dir_functions_naming(void *ud, const char *policy, json_t *out)
{
	struct ows_ledger_verifier *v = ud;
	const char *name;
	json_t *spec, *role, *p;
	size_t i;
	int rv = specs_listing(v->functions, "policies", policy, out);

	/* and those whose role names it */
	json_object_foreach(v->functions, name, spec) {
		role = json_object_get(v->roles, ows_json_str(spec, "role")
							 ? ows_json_str(spec, "role")
							 : "");
		json_array_foreach(json_object_get(role, "policies"), i, p) {
			if (rv == 0 && json_is_string(p) &&
			    strcmp(json_string_value(p), policy) == 0) {
				rv = json_array_append_new(out, json_string(name))
					     ? -ENOMEM : 0;
				break;
			}
		}
	}
	return rv;
}

static int dir_access_key_user(void *ud, const char *id, char *user,
			       size_t cap)
{
	struct ows_ledger_verifier *v = ud;
	const char *u = json_string_value(json_object_get(v->keys, id));

	if (u == NULL)
		return -ENOENT;
	snprintf(user, cap, "%s", u);
	return 0;
}

/*
 * Track what authorization depends on: users, policies, roles, functions
 * (the policies they name), join tokens, the users of access keys.
 */
static void replay_action(struct ows_ledger_verifier *v, const json_t *a)
{
	const char *action = ows_json_str(a, "action");
	const char *name = ows_json_str(a, "name");
	json_t *spec = json_object_get(a, "spec");

	if (strcmp(action, "roles.put") == 0)
		json_object_set(v->roles, name, spec);
	else if (strcmp(action, "roles.delete") == 0)
		json_object_del(v->roles, name);
	else if (strcmp(action, "functions.put") == 0)
		json_object_set(v->functions, name, spec);
	else if (strcmp(action, "functions.delete") == 0)
		json_object_del(v->functions, name);
	else if (strcmp(action, "users.put") == 0)
		json_object_set(v->users, name, spec);
	else if (strcmp(action, "users.delete") == 0)
		json_object_del(v->users, name);
	else if (strcmp(action, "access_keys.put") == 0 &&
		 ows_json_str(spec, "user") != NULL)
		json_object_set_new(v->keys, name,
				    json_string(ows_json_str(spec, "user")));
	else if (strcmp(action, "access_keys.delete") == 0)
		json_object_del(v->keys, name);
	else if (strcmp(action, "policies.put") == 0)
		json_object_set(v->policies, name, spec);
	else if (strcmp(action, "policies.delete") == 0)
		json_object_del(v->policies, name);
	else if (strcmp(action, "nodes.token") == 0)
		json_object_set_new(v->tokens, name, json_true());
	else if (strcmp(action, "nodes.delete") == 0)
		json_object_del(v->nodes, name);
}

static void directory(struct ows_ledger_verifier *v, struct ows_directory *out)
{
	*out = (struct ows_directory){
		.ud = v,
		.user_of_key = dir_user_of_key,
		.user_policies = dir_user_policies,
		.user_policy_names = dir_user_policy_names,
		.access_key_user = dir_access_key_user,
		.principal_policies = dir_principal_policies,
		.spec_names = dir_spec_names,
		.roles_trusting = dir_roles_trusting,
		.functions_naming = dir_functions_naming,
	};
}

static int feed_changeset(struct ows_ledger_verifier *v, const json_t *body,
			  int64_t time_ms, struct ows_err *err)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	struct ows_changeset_info info;
	json_t *a;
	size_t i;
	int rv;

	directory(v, &dir);
	rv = ows_envelope_check(body, &info, err);
	if (rv == 0 && strcmp(info.cluster, v->cluster) != 0) {
		ows_err_printf(err, "change set for another cluster");
		rv = OWS_EINVAL;
	}
	ows_authz_ctx_from_envelope(body, time_ms, &rc);
	if (rv == 0)
		rv = ows_changeset_authorize(&info, &dir, &rc, err);
	if (rv != 0)
		return OWS_EINVAL;
	json_array_foreach(info.actions, i, a)
		replay_action(v, a);
	return 0;
}

/*
 * An attested entry: signed by a member node's key, for this cluster, and
 * its caller allowed what the node checked, at this point of the chain.
 */
static int feed_attested(struct ows_ledger_verifier *v, const json_t *body,
			 struct ows_err *err)
{
	struct ows_attest_info info;
	struct ows_directory dir;
	const char *key;
	char id[24];
	json_t *a;
	size_t i;
	int rv;

	directory(v, &dir);
	rv = ows_attest_check(body, &info, err);
	if (rv == 0) {
		snprintf(id, sizeof(id), "%llu", (unsigned long long)info.node);
		key = json_string_value(json_object_get(v->nodes, id));
		if (key == NULL || strcmp(key, info.node_key) != 0) {
			ows_err_printf(err, "attested by key '%s', not the key "
				       "of member node %s", info.node_key, id);
			rv = OWS_EINVAL;
		}
	}
	if (rv == 0 && strcmp(info.cluster, v->cluster) != 0) {
		ows_err_printf(err, "attestation for another cluster");
		rv = OWS_EINVAL;
	}
	if (rv == 0)
		rv = ows_attest_authorize(&info, &dir, err);
	if (rv != 0)
		return OWS_EINVAL;
	json_array_foreach(info.actions, i, a)
		replay_action(v, a);
	return 0;
}

/* Remember node id's key (genesis and join add members). */
static void add_node(struct ows_ledger_verifier *v, json_int_t id,
		     const char *key)
{
	char name[24];

	if (key == NULL)
		return;
	snprintf(name, sizeof(name), "%lld", (long long)id);
	json_object_set_new(v->nodes, name, json_string(key));
}

static int feed_genesis(struct ows_ledger_verifier *v, const json_t *body,
			struct ows_err *err)
{
	const char *cluster = ows_json_str(body, "cluster");
	const char *root = ows_json_str(body, "root_key");

	if (v->height != 0 || cluster == NULL || strlen(cluster) > 64 ||
	    root == NULL || !ows_pubkey_valid(root)) {
		ows_err_printf(err, "malformed genesis");
		return OWS_EINVAL;
	}
	snprintf(v->cluster, sizeof(v->cluster), "%s", cluster);
	add_node(v, 1, ows_json_str(json_object_get(body, "node"), "key"));
	json_object_set_new(v->users, OWS_ROOT_USER,
			    json_pack("{s:[s], s:[]}", "public_keys", root,
				      "policies"));
	if (ows_json_str(json_object_get(body, "access_key"), "id") != NULL)
		json_object_set_new(v->keys, ows_json_str(json_object_get(
			body, "access_key"), "id"), json_string(OWS_ROOT_USER));
	return 0;
}

static int feed_join(struct ows_ledger_verifier *v, const json_t *body,
		     struct ows_err *err)
{
	const char *token = ows_json_str(body, "token_hash");

	if (token == NULL || json_object_get(v->tokens, token) == NULL) {
		ows_err_printf(err, "join with a token that was never issued "
			       "or was used already");
		return OWS_EINVAL;
	}
	json_object_del(v->tokens, token);
	add_node(v, json_integer_value(json_object_get(json_object_get(body,
		 "node"), "id")), ows_json_str(json_object_get(body, "node"),
					       "key"));
	return 0;
}

int ows_ledger_verifier_feed(struct ows_ledger_verifier *v,
			     const json_t *entry, const char *claimed,
			     struct ows_err *err)
{
	const char *type = ows_json_str(entry, "type");
	const char *prev = ows_json_str(entry, "prev");
	const json_t *body = json_object_get(entry, "body");
	json_int_t height = json_integer_value(json_object_get(entry, "height"));
	char hash[65];

	if (type == NULL || prev == NULL || !json_is_object(body) ||
	    (uint64_t)height != v->height + 1) {
		ows_err_printf(err, "entry %" PRIu64 " is malformed or out of "
			       "order", v->height + 1);
		return OWS_EINVAL;
	}
	if (strcmp(prev, v->head) != 0) {
		ows_err_printf(err, "entry %" PRIu64 " does not link to the "
			       "previous entry's hash", v->height + 1);
		return OWS_EINVAL;
	}
	if (ows_ledger_entry_hash(entry, hash) != 0 || claimed == NULL ||
	    strcmp(hash, claimed) != 0) {
		ows_err_printf(err, "entry %" PRIu64 " does not match its hash",
			       v->height + 1);
		return OWS_EINVAL;
	}
	if ((strcmp(type, "genesis") == 0) != (height == 1)) {
		ows_err_printf(err, "genesis must be entry 1, and only it");
		return OWS_EINVAL;
	}
	if ((strcmp(type, "genesis") == 0 && feed_genesis(v, body, err) != 0) ||
	    (strcmp(type, "changeset") == 0 && feed_changeset(v, body, json_integer_value(
			json_object_get(entry, "time")), err) != 0) ||
	    (strcmp(type, "join") == 0 && feed_join(v, body, err) != 0) ||
	    (strcmp(type, "attested") == 0 && feed_attested(v, body, err) != 0)) {
		ows_err_wrapf(err, "entry %" PRIu64, v->height + 1);
		return OWS_EINVAL;
	}
	if (strcmp(type, "genesis") != 0 && strcmp(type, "changeset") != 0 &&
	    strcmp(type, "join") != 0 && strcmp(type, "attested") != 0) {
		ows_err_printf(err, "entry %" PRIu64 " has unknown type '%s'",
			       v->height + 1, type);
		return OWS_EINVAL;
	}
	v->height++;
	memcpy(v->head, hash, 65);
	return 0;
}
