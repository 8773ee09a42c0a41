/*
 * Unit tests: change-set envelopes, the hash chain and its verifier, and
 * the state machine's apply (deterministic, idempotent, atomic, recorded
 * rejections, snapshot and restore).
 */
#include "../lib/unit.h"

#include <sqlite3.h>
#include <unistd.h>

#include "auth/key.h"
#include "common/json.h"
#include "ledger/authz.h"
#include "ledger/chain.h"
#include "ledger/changeset.h"
#include "state/state.h"

#define T0 1700000000000LL

static json_t *signed_env(struct ows_key *k, const char *cluster, json_t *actions,
			  int64_t t)
{
	json_t *env = ows_envelope_new(cluster, "st", actions, t);

	OWS_CHECK(env != NULL);
	OWS_CHECK_INT(ows_envelope_sign(env, k), 0);
	return env;
}

OWS_TEST(ledger_envelope_check)
{
	struct ows_changeset_info info;
	struct ows_err err = {{0}};
	struct ows_key *k, *k2;
	json_t *env;

	ows_key_generate(&k);
	ows_key_generate(&k2);
	env = signed_env(k, "c1", json_pack("[{s:s, s:s}]", "action", "users.put",
					    "name", "u"), 100);
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), 0);
	OWS_CHECK_STR(info.cluster, "c1");
	OWS_CHECK_INT(info.n_signers, 1);
	OWS_CHECK_INT(info.time, 100);
	/* Two signers; a duplicate signature counts once. */
	ows_envelope_sign(env, k2);
	ows_envelope_sign(env, k);
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), 0);
	OWS_CHECK_INT(info.n_signers, 2);
	/* Any change to the change set breaks the signatures. */
	json_object_set_new(json_object_get(env, "changeset"), "time", json_integer(101));
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), OWS_EAUTH);
	json_decref(env);
	/* Malformed shapes. */
	env = json_pack("{s:{s:s}, s:[]}", "changeset", "cluster", "c1", "signatures");
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), OWS_EPARSE);
	json_decref(env);
	env = signed_env(k, "c1", json_pack("[{s:s, s:s}]", "action", "Users.put",
					    "name", "u"), 1);
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), OWS_EPARSE);
	json_decref(env);
	env = signed_env(k, "c1", json_array(), 1);
	OWS_CHECK_INT(ows_envelope_check(env, &info, &err), OWS_EPARSE);
	json_decref(env);
	ows_key_free(k);
	ows_key_free(k2);
}

OWS_TEST(ledger_action_arn)
{
	char arn[128], kind[OWS_NAME_MAX];
	const char *verb;

	ows_action_arn("users", "dev", arn, sizeof(arn));
	OWS_CHECK_STR(arn, "arn:ows:iam::user/dev");
	ows_action_arn("policies", "p", arn, sizeof(arn));
	OWS_CHECK_STR(arn, "arn:ows:iam::policy/p");
	ows_action_arn("roles", "r", arn, sizeof(arn));
	OWS_CHECK_STR(arn, "arn:ows:iam::role/r");
	ows_action_arn("widgets", "w", arn, sizeof(arn));
	OWS_CHECK_STR(arn, "arn:ows:ows::widgets/w");
	OWS_CHECK_INT(ows_action_split("nodes.token", kind, &verb), 0);
	OWS_CHECK_STR(kind, "nodes");
	OWS_CHECK_STR(verb, "token");
	OWS_CHECK(ows_action_split(".put", kind, &verb) < 0);
	OWS_CHECK(ows_action_split("users.", kind, &verb) < 0);
	OWS_CHECK(ows_action_split("users", kind, &verb) < 0);
	OWS_CHECK(!ows_name_valid(""));
	OWS_CHECK(!ows_name_valid("a\nb"));
	OWS_CHECK(ows_name_valid("GET /users/{id}"));
}

/* A state in a fresh temporary directory. */
static void state_new(struct ows_state *s, char *dir)
{
	char path[128];
	struct ows_err err = {{0}};

	strcpy(dir, "/tmp/ows-state-XXXXXX");
	OWS_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	OWS_CHECK_INT(ows_state_open(s, path, &err), 0);
}

static json_t *apply(struct ows_state *s, uint64_t index, const char *type,
		     json_t *body, int64_t t)
{
	json_t *e = json_pack("{s:s, s:I, s:o}", "type", type, "time", (json_int_t)t,
			      "body", body);
	char *text = ows_json_dump(e), *result = NULL;
	json_t *r;

	OWS_CHECK_INT(ows_state_apply(s, index, text, strlen(text), &result), 0);
	free(text);
	json_decref(e);
	if (result == NULL)
		return NULL;
	r = json_loads(result, 0, NULL);
	free(result);
	return r;
}

static json_t *genesis(struct ows_key *root)
{
	char pub[OWS_PUBKEY_B64_LEN];

	ows_key_public(root, pub);
	return json_pack("{s:s, s:s, s:{s:i, s:s, s:s, s:s, s:s}}", "cluster", "c1",
			 "root_key", pub, "node", "id", 1, "raft", "127.0.0.1:1",
			 "edge", "127.0.0.1:2", "gateway", "127.0.0.1:3", "key", pub);
}

static bool ok(json_t *r)
{
	bool v = json_is_true(json_object_get(r, "ok"));

	json_decref(r);
	return v;
}

static const char *code_of(json_t *r)
{
	static char code[64];

	snprintf(code, sizeof(code), "%s", ows_json_str(r, "code") ? ows_json_str(r, "code") : "");
	json_decref(r);
	return code;
}

/* A user with a policy that allows only ows:functions.* (in any stack). */
static json_t *setup_actions(const char *dev_pub)
{
	return json_pack("[{s:s, s:s, s:{s:[{s:s, s:[s, s], s:s}]}},"
			 " {s:s, s:s, s:{s:[s], s:[s]}}]",
			 "action", "policies.put", "name", "fn", "spec", "Statement",
			 "Effect", "Allow", "Action", "ows:functions.*",
			 "ows:stacks.put", "Resource", "*",
			 "action", "users.put", "name", "dev", "spec", "public_keys",
			 dev_pub, "policies", "fn");
}

OWS_TEST(state_apply_genesis_changesets_rejections)
{
	struct ows_state s;
	struct ows_key *root, *dev;
	char dir[32], dev_pub[OWS_PUBKEY_B64_LEN];
	json_t *env, *r;

	state_new(&s, dir);
	ows_key_generate(&root);
	ows_key_generate(&dev);
	ows_key_public(dev, dev_pub);
	/* Nothing before genesis. */
	env = signed_env(root, "c1", setup_actions(dev_pub), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 1, "changeset", json_deep_copy(env), T0)), "NoGenesis");
	OWS_CHECK(ok(apply(&s, 2, "genesis", genesis(root), T0)));
	OWS_CHECK_INT(s.height, 1);
	OWS_CHECK_STR(code_of(apply(&s, 3, "genesis", genesis(root), T0)), "InvalidGenesis");
	r = apply(&s, 4, "changeset", json_deep_copy(env), T0);
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "height")), 2);
	json_decref(r);
	/* Re-applying an index is a no-op; replaying the nonce is refused. */
	OWS_CHECK(apply(&s, 4, "changeset", json_deep_copy(env), T0) == NULL);
	{
		json_t *other = signed_env(root, "c1", json_pack("[{s:s, s:s}]",
						"action", "users.put", "name", "y"),
					   T0 / 1000);

		json_object_set(json_object_get(other, "changeset"), "nonce",
				json_object_get(json_object_get(env, "changeset"),
						"nonce"));
		json_array_clear(json_object_get(other, "signatures"));
		OWS_CHECK_INT(ows_envelope_sign(other, root), 0);
		OWS_CHECK_STR(code_of(apply(&s, 5, "changeset", other, T0)),
			      "NonceReused");
	}
	json_decref(env);
	/* dev may not put users; an unknown key is an unknown signer. */
	env = signed_env(dev, "c1", json_pack("[{s:s, s:s}]", "action", "users.put",
					      "name", "x"), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 6, "changeset", env, T0)), "AccessDenied");
	env = signed_env(dev, "c1", json_pack("[{s:s, s:s}]", "action", "functions.put",
					      "name", "x"), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 7, "changeset", env, T0)), "InvalidAction");
	/* Deleting a policy still attached is a conflict; the root is protected. */
	env = signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action",
					       "policies.delete", "name", "fn"), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 8, "changeset", env, T0)), "Conflict");
	env = signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action",
					       "users.delete", "name", "root"), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 9, "changeset", env, T0)), "InvalidAction");
	/* Too far from the leader's clock. */
	env = signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action", "users.put",
					       "name", "late"), T0 / 1000 - 3600);
	OWS_CHECK_STR(code_of(apply(&s, 10, "changeset", env, T0)), "ChangeSetTimeTooSkewed");
	OWS_CHECK_STR(code_of(apply(&s, 11, "bogus", json_object(), T0)), "MalformedEntry");
	OWS_CHECK_INT(s.height, 2);
	OWS_CHECK_INT(s.rejected, 9);
	OWS_CHECK_INT(s.applied, 11);
	r = ows_state_rejections(&s, 100);
	OWS_CHECK_INT(json_array_size(r), 9);
	json_decref(r);
	ows_state_close(&s);
	ows_key_free(root);
	ows_key_free(dev);
}

/*
 * The same envelope sent again (its first answer lost) gets the first
 * result and changes nothing, whatever context the node that took it
 * added; results are dropped after OWS_STATE_RESULT_KEEP_MS.
 */
OWS_TEST(state_resent_changeset_gets_its_result)
{
	struct ows_state s;
	struct ows_key *root;
	char dir[32], *prior = NULL;
	json_t *env, *again, *r;

	state_new(&s, dir);
	ows_key_generate(&root);
	OWS_CHECK(ok(apply(&s, 1, "genesis", genesis(root), T0)));
	env = signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action",
					       "users.put", "name", "a"), T0 / 1000);
	OWS_CHECK_INT(ows_state_result(&s, env, &prior), 0);
	OWS_CHECK(prior == NULL);
	r = apply(&s, 2, "changeset", json_deep_copy(env), T0);
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "height")), 2);
	again = json_deep_copy(env);
	json_object_set_new(again, "context", json_pack("{s:s}", "source_ip",
							 "10.9.9.9"));
	OWS_CHECK_INT(ows_state_result(&s, again, &prior), 1);
	OWS_CHECK(prior != NULL && strstr(prior, s.head) != NULL);
	free(prior);
	{
		json_t *r2 = apply(&s, 3, "changeset", again, T0 + 1000);

		OWS_CHECK(json_equal(r, r2));
		json_decref(r2);
	}
	OWS_CHECK_INT(s.height, 2);
	OWS_CHECK_INT(s.rejected, 0);
	OWS_CHECK_INT(s.applied, 3);
	json_decref(r);
	/* Past keeping (another change set's apply drops it): a replay. */
	OWS_CHECK(ok(apply(&s, 4, "changeset",
			   signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action",
							    "users.put", "name", "b"),
				      (T0 + OWS_STATE_RESULT_KEEP_MS + 1000) / 1000),
			   T0 + OWS_STATE_RESULT_KEEP_MS + 1000)));
	OWS_CHECK_INT(ows_state_result(&s, env, &prior), 0);
	OWS_CHECK_STR(code_of(apply(&s, 5, "changeset", json_deep_copy(env), T0)),
		      "NonceReused");
	OWS_CHECK_INT(s.height, 3);
	json_decref(env);
	ows_state_close(&s);
	ows_key_free(root);
}

OWS_TEST(state_atomic_changeset)
{
	struct ows_state s;
	struct ows_key *root;
	char dir[32];
	json_t *env, *list;

	state_new(&s, dir);
	ows_key_generate(&root);
	OWS_CHECK(ok(apply(&s, 1, "genesis", genesis(root), T0)));
	env = signed_env(root, "c1", json_pack("[{s:s, s:s}, {s:s, s:s, s:{s:[s]}}]",
					       "action", "users.put", "name", "a",
					       "action", "users.put", "name", "b", "spec",
					       "policies", "nope"), T0 / 1000);
	OWS_CHECK_STR(code_of(apply(&s, 2, "changeset", env, T0)), "InvalidAction");
	list = ows_state_resources(&s, "users", NULL);
	OWS_CHECK_INT(json_array_size(list), 1); /* root only */
	json_decref(list);
	ows_state_close(&s);
	ows_key_free(root);
}

OWS_TEST(state_deterministic_snapshot_restore_and_chain)
{
	struct ows_state a, b;
	struct ows_ledger_verifier v;
	struct ows_key *root;
	struct ows_err err = {{0}};
	char da[32], db[32], pub[OWS_PUBKEY_B64_LEN];
	json_t *entries, *row;
	void *snap;
	sqlite3_int64 before;
	size_t len, i;

	state_new(&a, da);
	state_new(&b, db);
	ows_key_generate(&root);
	ows_key_public(root, pub);
	OWS_CHECK(ok(apply(&a, 1, "genesis", genesis(root), T0)));
	for (int k = 2; k < 20; k++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", k);
		OWS_CHECK(ok(apply(&a, (uint64_t)k, "changeset",
				   signed_env(root, "c1", json_pack("[{s:s, s:s}]", "action",
								    "users.put", "name", name),
					      T0 / 1000), T0 + k)));
	}
	before = sqlite3_memory_used();
	OWS_CHECK_INT(ows_state_snapshot(&a, &snap, &len), 0);
	/* The image is SQLite's own buffer, not a copy of it: a snapshot
	 * holds one image of the database in memory, not two. */
	OWS_CHECK(sqlite3_memory_used() - before >= (sqlite3_int64)len);
	OWS_CHECK_INT(ows_state_restore(&b, snap, len), 0);
	OWS_CHECK_STR(a.head, b.head);
	OWS_CHECK_INT(b.applied, 19);
	OWS_CHECK_INT(b.height, 19);
	/* A restore of an older image onto a newer state is ignored. */
	OWS_CHECK(ok(apply(&b, 20, "changeset", signed_env(root, "c1", json_pack(
		"[{s:s, s:s}]", "action", "users.put", "name", "late"), T0 / 1000), T0)));
	OWS_CHECK_INT(ows_state_restore(&b, snap, len), 0);
	OWS_CHECK_INT(b.applied, 20);
	ows_state_snapshot_free(snap);
	/* The chain verifies, and tampering is found. */
	entries = ows_state_ledger(&b, 1, 1000);
	OWS_CHECK_INT(json_array_size(entries), 20);
	ows_ledger_verifier_init(&v);
	json_array_foreach(entries, i, row)
		OWS_CHECK_INT(ows_ledger_verifier_feed(&v, json_object_get(row, "entry"),
						       ows_json_str(row, "hash"), &err), 0);
	OWS_CHECK_STR(v.head, b.head);
	ows_ledger_verifier_close(&v);
	row = json_array_get(entries, 5);
	json_object_set_new(json_object_get(row, "entry"), "time", json_integer(1));
	ows_ledger_verifier_init(&v);
	json_array_foreach(entries, i, row) {
		if (ows_ledger_verifier_feed(&v, json_object_get(row, "entry"),
					     ows_json_str(row, "hash"), &err) != 0)
			break;
	}
	OWS_CHECK_INT(i, 5);
	OWS_CHECK(strstr(err.msg, "entry 6") != NULL);
	ows_ledger_verifier_close(&v);
	json_decref(entries);
	ows_state_close(&a);
	ows_state_close(&b);
	ows_key_free(root);
}

OWS_TEST(ledger_verifier_replays_authorization)
{
	struct ows_ledger_verifier v;
	struct ows_key *root, *dev;
	struct ows_err err = {{0}};
	char pub[OWS_PUBKEY_B64_LEN], dpub[OWS_PUBKEY_B64_LEN], hash[65];
	json_t *e;

	ows_key_generate(&root);
	ows_key_generate(&dev);
	ows_key_public(root, pub);
	ows_key_public(dev, dpub);
	ows_ledger_verifier_init(&v);
	e = ows_ledger_entry_new(1, OWS_HASH_ZERO, T0, "genesis", genesis(root));
	ows_ledger_entry_hash(e, hash);
	OWS_CHECK_INT(ows_ledger_verifier_feed(&v, e, hash, &err), 0);
	json_decref(e);
	e = ows_ledger_entry_new(2, v.head, T0, "changeset",
				 signed_env(root, "c1", setup_actions(dpub), 1));
	ows_ledger_entry_hash(e, hash);
	OWS_CHECK_INT(ows_ledger_verifier_feed(&v, e, hash, &err), 0);
	json_decref(e);
	/* A forged entry (correct hash) in which dev does what it may not. */
	e = ows_ledger_entry_new(3, v.head, T0, "changeset",
				 signed_env(dev, "c1", json_pack("[{s:s, s:s}]", "action",
								 "users.put", "name", "x"), 1));
	ows_ledger_entry_hash(e, hash);
	OWS_CHECK(ows_ledger_verifier_feed(&v, e, hash, &err) != 0);
	OWS_CHECK(strstr(err.msg, "not allowed") != NULL);
	json_decref(e);
	/* A join with a token never issued. */
	e = ows_ledger_entry_new(3, v.head, T0, "join",
				 json_pack("{s:s, s:{}}", "token_hash", "ab", "node"));
	ows_ledger_entry_hash(e, hash);
	OWS_CHECK(ows_ledger_verifier_feed(&v, e, hash, &err) != 0);
	json_decref(e);
	OWS_CHECK_INT(v.height, 2);
	ows_ledger_verifier_close(&v);
	ows_key_free(root);
	ows_key_free(dev);
}

/* Apply one change set signed by k; true when it applied. */
static bool root_does(struct ows_state *s, struct ows_key *k, uint64_t *idx,
		      json_t *actions)
{
	json_t *env = signed_env(k, "c1", actions, T0 / 1000);

	return ok(apply(s, (*idx)++, "changeset", env, T0));
}

OWS_TEST(state_principal_authorize_roles_functions)
{
	static const char code[] = "0123456789abcdef0123456789abcdef"
				   "0123456789abcdef0123456789abcdef";
	struct ows_principal role = {"roles", "reader"};
	struct ows_principal fn = {"functions", "f"};
	struct ows_principal gone = {"roles", "nope"};
	struct ows_principal root = {"users", OWS_ROOT_USER};
	struct ows_authz_ctx rc = {NULL, false, T0, NULL};
	struct ows_directory dir;
	struct ows_state s;
	struct ows_key *k;
	uint64_t idx = 2;
	char d[32];

	state_new(&s, d);
	ows_key_generate(&k);
	OWS_CHECK(ok(apply(&s, 1, "genesis", genesis(k), T0)));
	/* rd reads functions; own allows only the role's own ARN as principal. */
	OWS_CHECK(root_does(&s, k, &idx, json_pack(
		"[{s:s, s:s, s:{s:s, s:[{s:s, s:s, s:s}]}},"
		" {s:s, s:s, s:{s:s, s:[{s:s, s:s, s:s, s:{s:{s:s}}}]}},"
		" {s:s, s:s, s:{s:s, s:[{s:s, s:s, s:s, s:{s:{s:s}}}]}}]",
		"action", "policies.put", "name", "rd", "spec", "Version",
		"2012-10-17", "Statement", "Effect", "Allow", "Action",
		"ows:functions.read", "Resource", "*",
		"action", "policies.put", "name", "own", "spec", "Version",
		"2012-10-17", "Statement", "Effect", "Allow", "Action",
		"ows:status.read", "Resource", "*", "Condition", "StringEquals",
		"aws:PrincipalArn", "arn:ows:iam::role/reader",
		"action", "policies.put", "name", "byname", "spec", "Version",
		"2012-10-17", "Statement", "Effect", "Allow", "Action",
		"ows:ledger.read", "Resource", "*", "Condition", "StringEquals",
		"aws:username", "reader")));
	OWS_CHECK(root_does(&s, k, &idx, json_pack(
		"[{s:s, s:s, s:{s:[s], s:[s, s, s], s:i}},"
		" {s:s, s:s, s:{s:s, s:s, s:s, s:[s]}}]",
		"action", "roles.put", "name", "reader", "spec", "trusted_users",
		OWS_ROOT_USER, "policies", "rd", "own", "byname",
		"max_session_s", 900,
		"action", "functions.put", "name", "f", "spec", "runtime",
		"python3", "handler", "a.b", "code_sha256", code, "policies",
		"rd")));
	ows_state_directory(&s, &dir);
	/* Allowed by its policies, denied otherwise. */
	OWS_CHECK_INT(ows_principal_authorize_resource(&dir, &role,
		"ows:functions.read", "functions", "x", &rc), 0);
	OWS_CHECK_INT(ows_principal_authorize_resource(&dir, &role,
		"ows:users.put", "users", "x", &rc), OWS_EDENIED);
	OWS_CHECK_INT(ows_principal_authorize(&dir, &role, "ows:status.read",
		"arn:ows:ows::cluster/c1", &rc), 0);
	/* No aws:username for a role, even one named like a user. */
	OWS_CHECK_INT(ows_principal_authorize(&dir, &role, "ows:ledger.read",
		"arn:ows:ows::cluster/c1", &rc), OWS_EDENIED);
	OWS_CHECK_INT(ows_principal_authorize_resource(&dir, &fn,
		"ows:functions.read", "functions", "x", &rc), 0);
	OWS_CHECK_INT(ows_principal_authorize(&dir, &fn, "ows:status.read",
		"arn:ows:ows::cluster/c1", &rc), OWS_EDENIED);
	OWS_CHECK_INT(ows_principal_authorize(&dir, &gone, "ows:functions.read",
		"*", &rc), OWS_EDENIED);
	/* A user is judged as ows_user_authorize: root may do all. */
	OWS_CHECK_INT(ows_principal_authorize(&dir, &root, "ows:users.put",
		"arn:ows:iam::user/x", &rc), 0);
	/* Deleted: its sessions can do nothing more. */
	OWS_CHECK(root_does(&s, k, &idx, json_pack(
		"[{s:s, s:s}, {s:s, s:s}]", "action", "roles.delete", "name",
		"reader", "action", "functions.delete", "name", "f")));
	OWS_CHECK_INT(ows_principal_authorize_resource(&dir, &role,
		"ows:functions.read", "functions", "x", &rc), OWS_EDENIED);
	OWS_CHECK_INT(ows_principal_authorize_resource(&dir, &fn,
		"ows:functions.read", "functions", "x", &rc), OWS_EDENIED);
	/* Without principal_policies, only users. */
	dir.principal_policies = NULL;
	OWS_CHECK_INT(ows_principal_authorize(&dir, &root, "ows:users.put",
		"arn:ows:iam::user/x", &rc), 0);
	OWS_CHECK_INT(ows_principal_authorize(&dir, &gone, "ows:users.put",
		"arn:ows:iam::user/x", &rc), OWS_EDENIED);
	ows_state_close(&s);
	ows_key_free(k);
}
