/* Resource kinds and their actions; see kinds.h. */
#include "state/kinds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
#include "aws/registry.h"
#include "auth/policy.h"
#include "common/json.h"
#include "ledger/authz.h"
#include "ledger/changeset.h"

#define MAX_TOKEN_TTL_S (7 * 24 * 3600)

/* Owner stack of kind/name into owner; -ENOENT when there is none. */
static int owner(struct ows_state *s, const char *kind, const char *name,
		 char *own, size_t cap)
{
	sqlite3_stmt *st;
	int rv = -ENOENT;

	if (ows_state_prepare(s, "SELECT stack FROM resources WHERE kind=? AND "
			      "name=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(own, cap, "%s", sqlite3_column_text(st, 0));
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

/* Resources owned by another stack are never touched (DESIGN.md). */
static int check_owner(const struct ows_apply_ctx *c, const char *kind,
		       const char *name, bool must_exist, struct ows_err *err)
{
	char own[OWS_NAME_MAX];
	int rv = owner(c->s, kind, name, own, sizeof(own));

	if (rv == -ENOENT && must_exist) {
		ows_err_printf(err, "%s '%s' does not exist", kind, name);
		return OWS_ENOTFOUND;
	}
	if (rv == 0 && strcmp(own, c->stack) != 0) {
		ows_err_printf(err, "%s '%s' belongs to %s%s%s", kind, name,
			       own[0] ? "stack '" : "no stack",
			       own, own[0] ? "'" : "");
		return OWS_ECONFLICT;
	}
	return rv == -EIO ? -EIO : 0;
}

static int res_put(const struct ows_apply_ctx *c, const char *kind,
		   const char *name, const json_t *spec)
{
	char *text = ows_json_dump(spec);
	sqlite3_stmt *st;
	int rv;

	if (text == NULL)
		return -ENOMEM;
	rv = ows_state_prepare(c->s, "INSERT OR REPLACE INTO resources(kind, "
			       "name, stack, spec, height) VALUES(?,?,?,?,?)",
			       &st);
	if (rv == 0) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->stack, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)c->height);
		rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	free(text);
	return rv;
}

/* Run sql with up to two text parameters; -EIO on failure. */
static int run2(struct ows_state *s, const char *sql, const char *a,
		const char *b)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rv;
}

/* Count rows of a query with up to two text parameters. */
static int count2(struct ows_state *s, const char *sql, const char *a,
		  const char *b)
{
	sqlite3_stmt *st;
	int n = 0;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int count(struct ows_state *s, const char *sql, const char *a)
{
	return count2(s, sql, a, NULL);
}

/*
 * A list of names of existing resources of kind (field named as the kind:
 * "policies", "trusted_users"); with unique, no name twice. Users' lists
 * keep accepting duplicates, as change sets in ledgers already did.
 */
static int names_check(struct ows_state *s, const json_t *list,
		       const char *kind, bool unique, struct ows_err *err)
{
	const char *field = strcmp(kind, "users") == 0 ? "trusted_users" : kind;
	const json_t *v;
	size_t i, k;

	if (list != NULL && !json_is_array(list)) {
		ows_err_printf(err, "'%s' is a list of names", field);
		return OWS_EINVAL;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) ||
		    count2(s, "SELECT count(*) FROM resources WHERE kind=? AND "
			   "name=?", kind, json_string_value(v)) != 1) {
			ows_err_printf(err, "%s[%zu]: no such %s", field, i,
				       strcmp(kind, "users") == 0 ? "user"
								  : "policy");
			return OWS_EINVAL;
		}
		for (k = 0; unique && k < i; k++) {
			if (json_equal(v, json_array_get(list, k))) {
				ows_err_printf(err, "%s[%zu]: '%s' is named "
					       "twice", field, i,
					       json_string_value(v));
				return OWS_EINVAL;
			}
		}
	}
	return 0;
}

/* users: the spec alone (kind table's check). */
static int users_check(const char *name, const json_t *spec,
		       struct ows_err *err)
{
	const json_t *keys = json_object_get(spec, "public_keys");
	const json_t *pols = json_object_get(spec, "policies");
	const char *k;
	json_t *v;
	size_t i;

	(void)name;
	json_object_foreach((json_t *)spec, k, v) {
		if (strcmp(k, "public_keys") != 0 && strcmp(k, "policies") != 0) {
			ows_err_printf(err, "unknown field '%s'", k);
			return OWS_EINVAL;
		}
	}
	if ((keys && !json_is_array(keys)) || (pols && !json_is_array(pols))) {
		ows_err_printf(err, "'public_keys' and 'policies' are lists");
		return OWS_EINVAL;
	}
	json_array_foreach(keys, i, v) {
		if (!ows_pubkey_valid(json_string_value(v))) {
			ows_err_printf(err, "public_keys[%zu] is not an Ed25519 "
				       "public key", i);
			return OWS_EINVAL;
		}
	}
	return 0;
}

/* users: what the spec names must exist and be the user's to take. */
static int user_spec_check(struct ows_state *s, const char *name,
			   const json_t *spec, struct ows_err *err)
{
	const json_t *keys = json_object_get(spec, "public_keys");
	const json_t *pols = json_object_get(spec, "policies");
	json_t *v;
	size_t i;

	json_array_foreach(keys, i, v) {
		char other[OWS_NAME_MAX];
		struct ows_directory dir;

		ows_state_directory(s, &dir);
		if (dir.user_of_key(s, json_string_value(v), other,
				    sizeof(other)) == 0 &&
		    strcmp(other, name) != 0) {
			ows_err_printf(err, "public_keys[%zu] already belongs to "
				       "user '%s'", i, other);
			return OWS_ECONFLICT;
		}
	}
	return names_check(s, pols, "policies", false, err);
}

static int users_put(const struct ows_apply_ctx *c, const char *name,
		     const json_t *spec, struct ows_err *err)
{
	json_t *v;
	size_t i;
	int rv;

	if (strcmp(name, OWS_ROOT_USER) == 0) {
		ows_err_printf(err, "the root user cannot be changed");
		return OWS_EINVAL;
	}
	rv = check_owner(c, "users", name, false, err);
	if (rv == 0)
		rv = user_spec_check(c->s, name, spec, err);
	if (rv == 0)
		rv = run2(c->s, "DELETE FROM user_keys WHERE user=?", name, NULL);
	json_array_foreach(json_object_get(spec, "public_keys"), i, v) {
		if (rv == 0)
			rv = run2(c->s, "INSERT OR REPLACE INTO user_keys(key, "
				  "user) VALUES(?,?)", json_string_value(v),
				  name);
	}
	return rv == 0 ? res_put(c, "users", name, spec) : rv;
}

/*
 * As IAM's DeleteConflict: a policy named by users, roles or functions, or
 * a user a role trusts, is detached first. A name is never re-bound to a
 * newcomer: a user made later under a deleted user's name would otherwise
 * inherit the roles that trusted the old one. what is "policy" or "user".
 */
static int still_named(struct ows_state *s, const char *what,
		       const char *name, struct ows_err *err)
{
	static const char *const kinds[] = {"users", "roles", "functions"};
	int n;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = count2(s, strcmp(what, "user") == 0
			   ? "SELECT count(*) FROM resources r, json_each(r.spec, "
			     "'$.trusted_users') j WHERE r.kind=? AND j.value=?"
			   : "SELECT count(*) FROM resources r, json_each(r.spec, "
			     "'$.policies') j WHERE r.kind=? AND j.value=?",
			   kinds[i], name);
		if (n < 0)
			return -EIO;
		if (n == 0)
			continue;
		if (strcmp(what, "user") == 0)
			ows_err_printf(err, "user '%s' is still trusted by %d "
				       "role(s)", name, n);
		else
			ows_err_printf(err, "policy '%s' is still attached to "
				       "%d %s", name, n, i == 0 ? "user(s)"
				       : i == 1 ? "role(s)" : "function(s)");
		return OWS_ECONFLICT;
	}
	return 0;
}

static int users_delete(const struct ows_apply_ctx *c, const char *name,
			struct ows_err *err)
{
	int rv;

	if (strcmp(name, OWS_ROOT_USER) == 0) {
		ows_err_printf(err, "the root user cannot be deleted");
		return OWS_EINVAL;
	}
	rv = check_owner(c, "users", name, true, err);
	if (rv == 0)
		rv = still_named(c->s, "user", name, err);
	if (rv == 0)
		rv = run2(c->s, "DELETE FROM user_keys WHERE user=?", name, NULL);
	if (rv == 0)
		rv = run2(c->s, "DELETE FROM access_keys WHERE user=?", name,
			  NULL);
	if (rv == 0)
		rv = run2(c->s, "DELETE FROM resources WHERE kind='users' AND "
			  "name=?", name, NULL);
	return rv;
}

static int policies_check(const char *name, const json_t *spec,
			  struct ows_err *err)
{
	(void)name;
	return ows_authz_policy_check(spec, err) != 0 ? OWS_EINVAL : 0;
}

static int policies_delete(const struct ows_apply_ctx *c, const char *name,
			   struct ows_err *err)
{
	int rv = check_owner(c, "policies", name, true, err);

	if (rv == 0)
		rv = still_named(c->s, "policy", name, err);
	if (rv != 0)
		return rv;
	return run2(c->s, "DELETE FROM resources WHERE kind='policies' AND "
		    "name=?", name, NULL);
}

/* nodes.token: name is the SHA-256 (hex) of a join token the client made. */
static int nodes_token(const struct ows_apply_ctx *c, const char *name,
		       const json_t *spec, struct ows_err *err)
{
	json_int_t ttl = 3600;
	sqlite3_stmt *st;
	int rv;

	if (json_is_integer(json_object_get(spec, "ttl_s")))
		ttl = json_integer_value(json_object_get(spec, "ttl_s"));
	if (strlen(name) != 64 || strspn(name, "0123456789abcdef") != 64 ||
	    ttl < 1 || ttl > MAX_TOKEN_TTL_S) {
		ows_err_printf(err, "a token is named by its SHA-256 in hex and "
			       "lives 1 s to 7 days");
		return OWS_EINVAL;
	}
	if (ows_state_prepare(c->s, "INSERT OR IGNORE INTO tokens(hash, "
			      "expires) VALUES(?,?)", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->time_ms + ttl * 1000);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rv;
}

static int nodes_delete(const struct ows_apply_ctx *c, const char *name,
			struct ows_err *err)
{
	int n = count(c->s, "SELECT count(*) FROM nodes WHERE id=CAST(? AS "
		      "INTEGER)", name);

	if (n <= 0) {
		ows_err_printf(err, "node '%s' does not exist", name);
		return n < 0 ? -EIO : OWS_ENOTFOUND;
	}
	if (count(c->s, "SELECT count(*) FROM nodes WHERE id != CAST(? AS "
		  "INTEGER)", name) < 1) {
		ows_err_printf(err, "node '%s' is the last node", name);
		return OWS_EINVAL;
	}
	if (run2(c->s, "INSERT OR IGNORE INTO removed_nodes(id) VALUES(CAST(? "
		 "AS INTEGER))", name, NULL) != 0)
		return -EIO;
	return run2(c->s, "DELETE FROM nodes WHERE id=CAST(? AS INTEGER)",
		    name, NULL);
}

/* AWS access key ids: 16 to 128 upper-case letters and digits. */
static bool access_key_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n >= 16 && n <= 128 &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

int ows__state_access_key_insert(struct ows_state *s, const char *id,
				 const char *user, const json_t *spec,
				 int64_t time_ms)
{
	const char *sealed = ows_json_str(spec, "sealed");
	const char *sender = ows_json_str(spec, "sender");
	sqlite3_stmt *st;
	int rv;

	if (!access_key_id_valid(id) || sealed == NULL || strlen(sealed) > 255 ||
	    !ows_pubkey_valid(sender))
		return OWS_EINVAL;
	if (ows_state_prepare(s, "INSERT INTO access_keys(id, user, sealed, "
			      "sender, created) VALUES(?,?,?,?,?)", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sealed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, time_ms);
	rv = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rv == SQLITE_CONSTRAINT)
		return OWS_ECONFLICT;
	return rv == SQLITE_DONE ? 0 : -EIO;
}

/*
 * access_keys.put: name is the key id, spec {"user", "sealed", "sender"}
 * with the secret sealed to the cluster's box key by the client. Keys are
 * never changed, only created and deleted (as IAM's CreateAccessKey).
 */
static int access_keys_put(const struct ows_apply_ctx *c, const char *name,
			   const json_t *spec, struct ows_err *err)
{
	const char *user = ows_json_str(spec, "user");
	int rv;

	if (user == NULL || count(c->s, "SELECT count(*) FROM resources WHERE "
				  "kind='users' AND name=?", user) != 1) {
		ows_err_printf(err, "no such user '%s'", user ? user : "");
		return OWS_EINVAL;
	}
	rv = ows__state_access_key_insert(c->s, name, user, spec, c->time_ms);
	if (rv == OWS_EINVAL)
		ows_err_printf(err, "an access key needs an id of 16 to 128 "
			       "upper-case letters and digits, and its secret "
			       "sealed to the cluster's box key");
	else if (rv == OWS_ECONFLICT)
		ows_err_printf(err, "access key '%s' exists", name);
	return rv;
}

static int access_keys_delete(const struct ows_apply_ctx *c, const char *name,
			      struct ows_err *err)
{
	int n = count(c->s, "SELECT count(*) FROM access_keys WHERE id=?", name);

	if (n <= 0) {
		ows_err_printf(err, "access key '%s' does not exist", name);
		return n < 0 ? -EIO : OWS_ENOTFOUND;
	}
	return run2(c->s, "DELETE FROM access_keys WHERE id=?", name, NULL);
}

/* ---- roles (issue 7, "Role credentials for functions") ---- */

#define ROLE_SESSION_MIN_S 900   /* IAM's MaxSessionDuration range */
#define ROLE_SESSION_MAX_S 43200

static int roles_check(const char *name, const json_t *spec,
		       struct ows_err *err)
{
	const json_t *max = json_object_get(spec, "max_session_s"), *v;
	const char *k;

	(void)name;
	json_object_foreach((json_t *)spec, k, v) {
		if (strcmp(k, "trusted_users") != 0 &&
		    strcmp(k, "policies") != 0 &&
		    strcmp(k, "max_session_s") != 0) {
			ows_err_printf(err, "unknown field '%s'", k);
			return OWS_EINVAL;
		}
	}
	if (max != NULL && (!json_is_integer(max) ||
			    json_integer_value(max) < ROLE_SESSION_MIN_S ||
			    json_integer_value(max) > ROLE_SESSION_MAX_S)) {
		ows_err_printf(err, "'max_session_s' must be an integer from "
			       "%d to %d", ROLE_SESSION_MIN_S,
			       ROLE_SESSION_MAX_S);
		return OWS_EINVAL;
	}
	return 0;
}

static int role_spec_check(struct ows_state *s, const json_t *spec,
			   struct ows_err *err)
{
	int rv;

	rv = names_check(s, json_object_get(spec, "trusted_users"), "users",
			 true, err);
	if (rv == 0)
		rv = names_check(s, json_object_get(spec, "policies"),
				 "policies", true, err);
	return rv;
}

static int roles_put(const struct ows_apply_ctx *c, const char *name,
		     const json_t *spec, struct ows_err *err)
{
	int rv = check_owner(c, "roles", name, false, err);

	if (rv == 0)
		rv = role_spec_check(c->s, spec, err);
	return rv == 0 ? res_put(c, "roles", name, spec) : rv;
}

/* ---- functions and routes (DESIGN.md "Functions", issue 3) ---- */

struct num_field {
	const char *name;
	json_int_t min, max;
};

static const struct num_field fn_numbers[] = {
	{"memory_mb", 128, 10240},   /* Lambda's range */
	{"timeout_s", 1, 900},
	{"concurrency", 0, 1000},    /* 0: every invocation throttled */
	{"idle_s", 1, 86400},
	{"min_instances", 0, 1000},
	{"requests_per_instance", 1, 1000}, /* http only */
};

static int fn_check_numbers(const json_t *spec, struct ows_err *err)
{
	for (size_t i = 0; i < sizeof(fn_numbers) / sizeof(fn_numbers[0]); i++) {
		const json_t *v = json_object_get(spec, fn_numbers[i].name);

		if (v == NULL)
			continue;
		if (!json_is_integer(v) ||
		    json_integer_value(v) < fn_numbers[i].min ||
		    json_integer_value(v) > fn_numbers[i].max) {
			ows_err_printf(err, "'%s' must be an integer from %lld "
				       "to %lld", fn_numbers[i].name,
				       (long long)fn_numbers[i].min,
				       (long long)fn_numbers[i].max);
			return OWS_EINVAL;
		}
	}
	return 0;
}

/*
 * Lambda's rules for environment variables: names start with a letter and
 * hold letters, digits and '_'; all names and values together take at most
 * 4 KB.
 */
#define ENV_MAX_BYTES 4096

static int env_check(const json_t *env, struct ows_err *err)
{
	size_t total = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)env, k, v) {
		size_t n = strlen(k);

		if (!json_is_string(v)) {
			ows_err_printf(err, "env '%.64s' must be a string", k);
			return OWS_EINVAL;
		}
		if (n == 0 || !((k[0] >= 'a' && k[0] <= 'z') ||
				(k[0] >= 'A' && k[0] <= 'Z')) ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
			      "XYZ0123456789_") != n) {
			ows_err_printf(err, "env name '%.64s' must start with a "
				       "letter and hold only letters, digits "
				       "and '_'", k);
			return OWS_EINVAL;
		}
		total += n + json_string_length(v);
	}
	if (total > ENV_MAX_BYTES) {
		ows_err_printf(err, "env takes %zu bytes: at most %d, as on "
			       "Lambda", total, ENV_MAX_BYTES);
		return OWS_EINVAL;
	}
	return 0;
}

static int functions_check(const char *name, const json_t *spec,
			   struct ows_err *err)
{
	static const char *const known[] = {
		"runtime", "handler", "code_sha256", "command", "env",
		"memory_mb", "timeout_s", "concurrency", "idle_s",
		"min_instances", "requests_per_instance", "policies", "role",
	};
	const char *rt = ows_json_str(spec, "runtime");
	const char *handler = ows_json_str(spec, "handler");
	const char *code = ows_json_str(spec, "code_sha256");
	const json_t *env = json_object_get(spec, "env"), *v;
	const char *k;
	size_t i;

	(void)name;
	json_object_foreach((json_t *)spec, k, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			ows_err_printf(err, "unknown field '%s'", k);
			return OWS_EINVAL;
		}
	}
	if (rt == NULL || (strcmp(rt, "python3") && strcmp(rt, "nodejs") &&
			   strcmp(rt, "provided") && strcmp(rt, "http"))) {
		ows_err_printf(err, "'runtime' must be python3, nodejs, "
			       "provided or http");
		return OWS_EINVAL;
	}
	if ((!strcmp(rt, "python3") || !strcmp(rt, "nodejs")) &&
	    (handler == NULL || strchr(handler, '.') == NULL)) {
		ows_err_printf(err, "'handler' must be module.function");
		return OWS_EINVAL;
	}
	if (!strcmp(rt, "http") &&
	    (!json_is_array(json_object_get(spec, "command")) ||
	     json_array_size(json_object_get(spec, "command")) == 0)) {
		ows_err_printf(err, "an http function needs 'command', a list");
		return OWS_EINVAL;
	}
	if (strcmp(rt, "http") != 0 &&
	    json_object_get(spec, "requests_per_instance") != NULL) {
		ows_err_printf(err, "'requests_per_instance' is for the http "
			       "runtime: the others serve one request at a "
			       "time, as on Lambda");
		return OWS_EINVAL;
	}
	if (code == NULL || strlen(code) != 64 ||
	    strspn(code, "0123456789abcdef") != 64) {
		ows_err_printf(err, "'code_sha256' must name the bundle's blob");
		return OWS_EINVAL;
	}
	if (json_object_get(spec, "role") != NULL &&
	    !ows_name_valid(ows_json_str(spec, "role"))) {
		ows_err_printf(err, "'role' must be the name of a role");
		return OWS_EINVAL;
	}
	if (env != NULL && !json_is_object(env)) {
		ows_err_printf(err, "'env' must be an object of strings");
		return OWS_EINVAL;
	}
	if (env_check(env, err) != 0)
		return OWS_EINVAL;
	return fn_check_numbers(spec, err);
}

static int functions_put(const struct ows_apply_ctx *c, const char *name,
			 const json_t *spec, struct ows_err *err)
{
	int rv = check_owner(c, "functions", name, false, err);

	/* Its role: the policies the function's code runs with. */
	if (rv == 0)
		rv = names_check(c->s, json_object_get(spec, "policies"),
				 "policies", true, err);
	/* and its role's, read live (state.c's directory) */
	if (rv == 0 && ows_json_str(spec, "role") != NULL &&
	    count2(c->s, "SELECT count(*) FROM resources WHERE kind='roles' "
		   "AND name=?", ows_json_str(spec, "role"), NULL) != 1) {
		ows_err_printf(err, "role: no such role '%s'",
			       ows_json_str(spec, "role"));
		rv = OWS_EINVAL;
	}
	return rv == 0 ? res_put(c, "functions", name, spec) : rv;
}

static int functions_delete(const struct ows_apply_ctx *c, const char *name,
			    struct ows_err *err)
{
	int rv = check_owner(c, "functions", name, true, err), n;
	char prefix[OWS_NAME_MAX + 2];

	if (rv != 0)
		return rv;
	n = count(c->s, "SELECT count(*) FROM resources WHERE kind='routes' "
		  "AND json_extract(spec, '$.function') = ?", name);
	if (n != 0) {
		ows_err_printf(err, "function '%s' is still the target of %d "
			       "route(s)", name, n);
		return n < 0 ? -EIO : OWS_ECONFLICT;
	}
	rv = run2(c->s, "DELETE FROM resources WHERE kind='functions' AND "
		  "name=?", name, NULL);
	/*
	 * What hangs off the function goes with it, whoever made it (the
	 * Lambda API's meta, versions and aliases of a stack's function):
	 * left behind, a function made later under the name would inherit
	 * the old one's versions, aliases, tags and resource policy.
	 */
	snprintf(prefix, sizeof(prefix), "%s:", name);
	if (rv == 0)
		rv = run2(c->s, "DELETE FROM resources WHERE (kind="
			  "'function_meta' AND name=?1) OR (kind IN "
			  "('function_versions', 'function_version_meta', "
			  "'aliases') AND substr(name, 1, length(?2)) = ?2)",
			  name, prefix);
	return rv;
}

/* "METHOD /path": METHOD one of the HTTP methods or ANY; path from "/". */
static bool route_key_valid(const char *key)
{
	static const char *const methods[] = {
		"ANY ", "GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ",
		"OPTIONS ",
	};
	const char *path = NULL;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strncmp(key, methods[i], strlen(methods[i])) == 0)
			path = key + strlen(methods[i]);
	return path != NULL && path[0] == '/' && strchr(path, ' ') == NULL &&
	       strchr(path, '?') == NULL;
}

static int routes_check(const char *name, const json_t *spec,
			struct ows_err *err)
{
	const char *auth = ows_json_str(spec, "auth");

	if (!route_key_valid(name)) {
		ows_err_printf(err, "a route is named 'METHOD /path' (METHOD "
			       "may be ANY)");
		return OWS_EINVAL;
	}
	if (auth != NULL && strcmp(auth, "none") && strcmp(auth, "iam")) {
		ows_err_printf(err, "'auth' must be none or iam");
		return OWS_EINVAL;
	}
	return 0;
}

static int routes_put(const struct ows_apply_ctx *c, const char *name,
		      const json_t *spec, struct ows_err *err)
{
	const char *fn = ows_json_str(spec, "function");
	int rv = check_owner(c, "routes", name, false, err);

	if (rv != 0)
		return rv;
	if (fn == NULL || count(c->s, "SELECT count(*) FROM resources WHERE "
				"kind='functions' AND name=?", fn) != 1) {
		ows_err_printf(err, "no such function '%s'", fn ? fn : "");
		return OWS_EINVAL;
	}
	return res_put(c, "routes", name, spec);
}


/* ---- the generic row, and the table of core kinds ---- */

int ows_kind_put(const struct ows_apply_ctx *c, const char *kind,
		 const char *name, const json_t *spec, struct ows_err *err)
{
	int rv = check_owner(c, kind, name, false, err);

	return rv == 0 ? res_put(c, kind, name, spec) : rv;
}

int ows_kind_spec_write(const struct ows_apply_ctx *c, const char *kind,
			const char *name, const json_t *spec)
{
	char *text = ows_json_dump(spec);
	sqlite3_stmt *st;
	int rv = -EIO;

	if (text == NULL)
		return -ENOMEM;
	if (ows_state_prepare(c->s, "UPDATE resources SET spec=?, height=? "
			      "WHERE kind=? AND name=?", &st) == 0) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)c->height);
		sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	free(text);
	return rv;
}

int ows_kind_delete(const struct ows_apply_ctx *c, const char *kind,
		    const char *name, struct ows_err *err)
{
	int rv = check_owner(c, kind, name, true, err);

	if (rv != 0)
		return rv;
	return run2(c->s, "DELETE FROM resources WHERE kind=? AND name=?", kind,
		    name);
}

static int unknown_verb(const char *kind, const char *verb,
			struct ows_err *err)
{
	ows_err_printf(err, "unknown action '%s.%s'", kind, verb);
	return OWS_EINVAL;
}

static int users_apply(const struct ows_apply_ctx *c, const char *verb,
		       const char *name, const json_t *spec, json_t *result,
		       struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return users_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return users_delete(c, name, err);
	return unknown_verb("users", verb, err);
}

static int policies_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return ows_kind_put(c, "policies", name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return policies_delete(c, name, err);
	return unknown_verb("policies", verb, err);
}

static int roles_apply(const struct ows_apply_ctx *c, const char *verb,
		       const char *name, const json_t *spec, json_t *result,
		       struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return roles_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0) {
		/* as IAM's DeleteConflict: a role a function runs with */
		int n = count2(c->s, "SELECT count(*) FROM resources WHERE "
			       "kind='functions' AND json_extract(spec, "
			       "'$.role') = ?", name, NULL);

		if (n != 0) {
			ows_err_printf(err, "role '%s' is still the role of "
				       "%d function(s)", name, n);
			return n < 0 ? -EIO : OWS_ECONFLICT;
		}
		return ows_kind_delete(c, "roles", name, err);
	}
	return unknown_verb("roles", verb, err);
}

static int access_keys_apply(const struct ows_apply_ctx *c, const char *verb,
			     const char *name, const json_t *spec,
			     json_t *result, struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return access_keys_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return access_keys_delete(c, name, err);
	return unknown_verb("access_keys", verb, err);
}

static int nodes_apply(const struct ows_apply_ctx *c, const char *verb,
		       const char *name, const json_t *spec, json_t *result,
		       struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "token") == 0)
		return nodes_token(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return nodes_delete(c, name, err);
	return unknown_verb("nodes", verb, err);
}

static int functions_apply(const struct ows_apply_ctx *c, const char *verb,
			   const char *name, const json_t *spec,
			   json_t *result, struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return functions_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return functions_delete(c, name, err);
	return unknown_verb("functions", verb, err);
}

static int routes_apply(const struct ows_apply_ctx *c, const char *verb,
			const char *name, const json_t *spec, json_t *result,
			struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return routes_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return ows_kind_delete(c, "routes", name, err);
	return unknown_verb("routes", verb, err);
}

/*
 * The core kinds. Ranks leave room between them for a service's kinds
 * (a kind may refer to kinds of lower rank: users name policies, roles
 * name users and policies, functions name policies, routes name
 * functions).
 */
static const struct ows_kind kind_policies = {
	.name = "policies", .arn_service = "iam", .arn_type = "policy",
	.rank = 10, .in_stacks = true, .check = policies_check,
	.apply = policies_apply,
};

static const struct ows_kind kind_users = {
	.name = "users", .arn_service = "iam", .arn_type = "user",
	.rank = 20, .in_stacks = true,
	.schema = "CREATE TABLE IF NOT EXISTS user_keys(key TEXT PRIMARY KEY,"
		  "  user TEXT NOT NULL);",
	.check = users_check, .apply = users_apply,
};

static const struct ows_kind kind_roles = {
	.name = "roles", .arn_service = "iam", .arn_type = "role",
	.rank = 30, .in_stacks = true, .check = roles_check,
	.apply = roles_apply,
};

/* Made with `ows key access` (the secret is sealed by the client). */
static const struct ows_kind kind_access_keys = {
	.name = "access_keys", .arn_service = "iam", .arn_type = "access-key",
	.rank = 40, .in_stacks = false,
	.schema = "CREATE TABLE IF NOT EXISTS access_keys(id TEXT PRIMARY KEY,"
		  "  user TEXT NOT NULL, sealed TEXT NOT NULL,"
		  "  sender TEXT NOT NULL, created INTEGER);",
	.apply = access_keys_apply,
};

static const struct ows_kind kind_functions = {
	.name = "functions", .arn_service = "lambda", .arn_type = "function",
	.rank = 50, .in_stacks = true, .check = functions_check,
	.apply = functions_apply,
};

static const struct ows_kind kind_routes = {
	.name = "routes", .arn_service = "apigateway", .arn_type = "route",
	.rank = 60, .in_stacks = true, .check = routes_check,
	.apply = routes_apply,
};

/* Cluster membership: genesis and join add nodes (state/apply.c). */
static const struct ows_kind kind_nodes = {
	.name = "nodes", .arn_service = "ows", .arn_type = "node",
	.rank = 90, .in_stacks = false,
	.schema = "CREATE TABLE IF NOT EXISTS nodes(id INTEGER PRIMARY KEY,"
		  "  raft TEXT NOT NULL UNIQUE, edge TEXT, gateway TEXT,"
		  "  key TEXT, joined INTEGER);"
		  "CREATE TABLE IF NOT EXISTS removed_nodes(id INTEGER PRIMARY"
		  "  KEY, height INTEGER);"
		  "CREATE TABLE IF NOT EXISTS tokens(hash TEXT PRIMARY KEY,"
		  "  expires INTEGER, used INTEGER NOT NULL DEFAULT 0);",
	.apply = nodes_apply,
};

/*
 * Cluster settings: one resource, settings/cluster, changed by a change
 * set ("settings.put"). Its one field today is blob_replicas, the copies
 * of each blob the cluster keeps (daemon/blobs.h; absent: min(3, nodes)).
 */
static int settings_check(const char *name, const json_t *spec,
			  struct ows_err *err)
{
	const char *key;
	json_t *v;

	if (strcmp(name, "cluster") != 0) {
		ows_err_printf(err, "the settings resource is named 'cluster'");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)spec, key, v) {
		if (strcmp(key, "blob_replicas") != 0 ||
		    !json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 16) {
			ows_err_printf(err, "settings take blob_replicas, an "
				       "integer from 1 to 16");
			return OWS_EINVAL;
		}
	}
	return 0;
}

static const struct ows_kind kind_settings = {
	.name = "settings", .arn_service = "ows", .arn_type = "settings",
	.rank = 5, .in_stacks = false, .check = settings_check,
};

static const struct ows_kind *const core_kinds[] = {
	&kind_policies, &kind_users, &kind_roles, &kind_access_keys,
	&kind_functions, &kind_routes, &kind_nodes, &kind_settings, NULL,
};

const struct ows_kind *ows_kind_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; core_kinds[i] != NULL; i++)
		if (strcmp(core_kinds[i]->name, name) == 0)
			return core_kinds[i];
	return ows_aws_kind_find(name);
}

int ows_kind_each(int (*fn)(const struct ows_kind *k, void *ud), void *ud)
{
	int rv;

	for (size_t i = 0; core_kinds[i] != NULL; i++)
		if ((rv = fn(core_kinds[i], ud)) != 0)
			return rv;
	return ows_aws_kinds_each(fn, ud);
}

int ows__kind_apply(const struct ows_apply_ctx *c, const json_t *action,
		    json_t *result, struct ows_err *err)
{
	const char *act = ows_json_str(action, "action");
	const char *name = ows_json_str(action, "name");
	const json_t *spec = json_object_get(action, "spec");
	char kind[OWS_NAME_MAX];
	const struct ows_kind *k = NULL;
	const char *verb = NULL;
	json_t *empty = NULL;
	int rv;

	if (act != NULL && ows_action_split(act, kind, &verb) == 0)
		k = ows_kind_find(kind);
	if (k == NULL || name == NULL) {
		ows_err_printf(err, "unknown action '%s'", act ? act : "");
		return OWS_EINVAL;
	}
	if (spec == NULL) {
		spec = empty = json_object();
		if (empty == NULL)
			return -ENOMEM;
	}
	if (strcmp(verb, "put") == 0 && k->check != NULL &&
	    (rv = k->check(name, spec, err)) != 0)
		goto out;
	if (k->apply != NULL)
		rv = k->apply(c, verb, name, spec, result, err);
	else if (strcmp(verb, "put") == 0)
		rv = ows_kind_put(c, k->name, name, spec, err);
	else if (strcmp(verb, "delete") == 0)
		rv = ows_kind_delete(c, k->name, name, err);
	else
		rv = unknown_verb(k->name, verb, err);
out:
	json_decref(empty);
	return rv;
}
