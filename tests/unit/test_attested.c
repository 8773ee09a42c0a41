/*
 * Unit tests: attested entries (ledger/attest.h), API-made changes signed
 * by the node that authenticated them. The state machine checks the node's
 * membership and signature, judges the caller again against the policies
 * at its height, applies the actions all or nothing, keeps a resend from
 * applying twice, and the ledger verifier checks the same over the chain.
 */
#include "../lib/unit.h"

#include <unistd.h>

#include "auth/key.h"
#include "common/json.h"
#include "ledger/attest.h"
#include "ledger/chain.h"
#include "ledger/changeset.h"
#include "state/state.h"

#define T0 1700000000000LL
#define CODE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fixture {
	struct ows_state s;
	struct ows_key *root, *node, *dev;
	char dir[32];
	uint64_t index;
};

static json_t *apply(struct fixture *f, const char *type, json_t *body,
		     int64_t t)
{
	json_t *e = json_pack("{s:s, s:I, s:o}", "type", type, "time",
			      (json_int_t)t, "body", body);
	char *text = ows_json_dump(e), *result = NULL;
	json_t *r;

	OWS_CHECK_INT(ows_state_apply(&f->s, f->index++, text, strlen(text),
				      &result), 0);
	free(text);
	json_decref(e);
	OWS_CHECK(result != NULL);
	r = json_loads(result, 0, NULL);
	free(result);
	return r;
}

static const char *code_of(json_t *r)
{
	static char code[64];

	snprintf(code, sizeof(code), "%s", json_is_true(json_object_get(r, "ok"))
		 ? "ok" : ows_json_str(r, "code") ? ows_json_str(r, "code") : "?");
	json_decref(r);
	return code;
}

/*
 * Genesis (node 1 has its own key), then dev with a policy allowing
 * lambda:CreateFunction on functions named ok* (in the aws partition's
 * ARN form) and ows:stacks.put on stack "api" only.
 */
static void setup(struct fixture *f)
{
	char path[128], root_pub[OWS_PUBKEY_B64_LEN], node_pub[OWS_PUBKEY_B64_LEN];
	char dev_pub[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};
	json_t *env;

	memset(f, 0, sizeof(*f));
	f->index = 1;
	strcpy(f->dir, "/tmp/ows-attest-XXXXXX");
	OWS_CHECK(mkdtemp(f->dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", f->dir);
	OWS_CHECK_INT(ows_state_open(&f->s, path, &err), 0);
	ows_key_generate(&f->root);
	ows_key_generate(&f->node);
	ows_key_generate(&f->dev);
	ows_key_public(f->root, root_pub);
	ows_key_public(f->node, node_pub);
	ows_key_public(f->dev, dev_pub);
	OWS_CHECK_STR(code_of(apply(f, "genesis", json_pack(
		"{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "cluster", "c1",
		"root_key", root_pub, "node", "raft", "127.0.0.1:1", "edge",
		"127.0.0.1:2", "gateway", "127.0.0.1:3", "key", node_pub), T0)),
		"ok");
	env = ows_envelope_new("c1", NULL, json_pack(
		"[{s:s, s:s, s:{s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}},"
		" {s:s, s:s, s:{s:[s], s:[s]}}]",
		"action", "policies.put", "name", "create", "spec", "Statement",
		"Effect", "Allow", "Action", "lambda:CreateFunction", "Resource",
		"arn:aws:lambda:*:*:function:ok*",
		"Effect", "Allow", "Action", "ows:stacks.put", "Resource",
		"arn:ows:ows::stack/api",
		"action", "users.put", "name", "dev", "spec", "public_keys",
		dev_pub, "policies", "create"), T0 / 1000);
	OWS_CHECK_INT(ows_envelope_sign(env, f->root), 0);
	OWS_CHECK_STR(code_of(apply(f, "changeset", env, T0)), "ok");
}

static void teardown(struct fixture *f)
{
	char cmd[64];

	ows_state_close(&f->s);
	ows_key_free(f->root);
	ows_key_free(f->node);
	ows_key_free(f->dev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	OWS_CHECK(system(cmd) == 0);
}

/* functions.put of name, as CreateFunction would make it. */
static json_t *fn_put(const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "action",
			 "functions.put", "name", name, "spec", "runtime",
			 "python3", "handler", "app.main", "code_sha256", CODE);
}

/*
 * An attestation by node id with key k for caller user, creating function
 * fn (actions taken), judged as lambda:CreateFunction on fn.
 */
static json_t *attestation(struct ows_key *k, const char *node,
			   const char *request_id, const char *user,
			   const char *fn, const char *stack, json_t *actions)
{
	char pub[OWS_PUBKEY_B64_LEN], arn_ows[300], arn_aws[300];

	ows_key_public(k, pub);
	snprintf(arn_ows, sizeof(arn_ows), "arn:ows:lambda::function/%s", fn);
	snprintf(arn_aws, sizeof(arn_aws),
		 "arn:aws:lambda:us-east-1:000000000000:function:%s", fn);
	return json_pack(
		"{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:b},"
		" s:{s:s, s:s, s:s}, s:[{s:s, s:[s, s], s:n}], s:s, s:o, s:I}",
		"cluster", "c1", "node", node, "node_key", pub, "request_id",
		request_id, "caller", "kind", "users", "name", user, "user", user,
		"access_key", "AKIAEXAMPLEEXAMPLE00", "session", 0,
		"context", "aws:SourceIp", "127.0.0.1", "aws:SecureTransport",
		"false", "aws:RequestedRegion", "us-east-1",
		"authorized", "action", "lambda:CreateFunction", "arns", arn_ows,
		arn_aws, "extra", "stack", stack, "actions", actions, "time",
		(json_int_t)T0);
}

static json_t *create(struct fixture *f, const char *request_id,
		      const char *fn)
{
	return ows_attest_body(attestation(f->node, "1", request_id, "dev", fn,
					   "", json_pack("[o]", fn_put(fn))),
			       f->node);
}

OWS_TEST(attested_accepted_belongs_to_no_stack)
{
	struct fixture f;
	json_t *r, *list;

	setup(&f);
	r = apply(&f, "attested", create(&f, "req-1", "ok1"), T0 + 1000);
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "height")), 3);
	OWS_CHECK_STR(ows_json_str(r, "request_id"), "req-1");
	json_decref(r);
	list = ows_state_resources(&f.s, "functions", NULL);
	OWS_CHECK_INT(json_array_size(list), 1);
	OWS_CHECK_STR(ows_json_str(json_array_get(list, 0), "name"), "ok1");
	OWS_CHECK_STR(ows_json_str(json_array_get(list, 0), "stack"), "");
	json_decref(list);
	/* The ledger holds it as an "attested" entry. */
	list = ows_state_ledger(&f.s, 3, 1);
	OWS_CHECK_STR(ows_json_str(json_object_get(json_array_get(list, 0),
						   "entry"), "type"), "attested");
	json_decref(list);
	/* A stack the caller may put is honoured; another is refused. */
	r = apply(&f, "attested", ows_attest_body(attestation(
		f.node, "1", "req-2", "dev", "ok2", "api",
		json_pack("[o]", fn_put("ok2"))), f.node), T0);
	OWS_CHECK_STR(code_of(r), "ok");
	list = ows_state_resources(&f.s, "functions", "api");
	OWS_CHECK_STR(ows_json_str(json_array_get(list, 0), "name"), "ok2");
	json_decref(list);
	r = apply(&f, "attested", ows_attest_body(attestation(
		f.node, "1", "req-3", "dev", "ok3", "prod",
		json_pack("[o]", fn_put("ok3"))), f.node), T0);
	OWS_CHECK_STR(code_of(r), "AccessDenied");
	teardown(&f);
}

OWS_TEST(attested_bad_signature_and_foreign_keys_refused)
{
	struct fixture f;
	struct ows_key *other;
	json_t *body;
	uint64_t height;

	setup(&f);
	height = f.s.height;
	/* Changed after signing: the signature no longer verifies. */
	body = create(&f, "req-1", "ok1");
	json_object_set_new(json_object_get(json_object_get(body, "attestation"),
					    "caller"), "name", json_string("root"));
	OWS_CHECK_STR(code_of(apply(&f, "attested", body, T0)), "InvalidSignature");
	/* A garbage signature. */
	body = create(&f, "req-1", "ok1");
	json_object_set_new(body, "signature", json_string("AAAA"));
	OWS_CHECK_STR(code_of(apply(&f, "attested", body, T0)), "InvalidSignature");
	/* Signed by a key that is no member node's. */
	ows_key_generate(&other);
	body = ows_attest_body(attestation(other, "1", "req-1", "dev", "ok1", "",
					   json_pack("[o]", fn_put("ok1"))), other);
	OWS_CHECK_STR(code_of(apply(&f, "attested", body, T0)), "UnknownNode");
	/* The member's key under another node's id. */
	body = ows_attest_body(attestation(f.node, "2", "req-1", "dev", "ok1", "",
					   json_pack("[o]", fn_put("ok1"))), f.node);
	OWS_CHECK_STR(code_of(apply(&f, "attested", body, T0)), "UnknownNode");
	/* Another cluster; too far from the cluster's clock; malformed. */
	body = attestation(f.node, "1", "req-1", "dev", "ok1", "",
			   json_pack("[o]", fn_put("ok1")));
	json_object_set_new(body, "cluster", json_string("c2"));
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "WrongCluster");
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-1", "ok1"),
				    T0 + 16 * 60 * 1000)), "RequestTimeTooSkewed");
	body = attestation(f.node, "1", "req-1", "dev", "ok1", "", json_array());
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "MalformedAttestation");
	body = attestation(f.node, "1", "req-1", "dev", "ok1", "",
			   json_pack("[o]", fn_put("ok1")));
	json_object_set_new(body, "authorized", json_array());
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "MalformedAttestation");
	OWS_CHECK_INT(f.s.height, height);
	OWS_CHECK_INT(ows_state_resource_exists(&f.s, "functions", "ok1"), 0);
	ows_key_free(other);
	teardown(&f);
}

OWS_TEST(attested_caller_judged_again)
{
	struct fixture f;
	json_t *body;

	setup(&f);
	/* dev may create ok*, not other names, whatever the node said. */
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-1", "nope"),
				    T0)), "AccessDenied");
	/* A user that does not exist, a role that does not exist. */
	body = attestation(f.node, "1", "req-2", "ghost", "ok1", "",
			   json_pack("[o]", fn_put("ok1")));
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "AccessDenied");
	body = attestation(f.node, "1", "req-3", "dev", "ok1", "",
			   json_pack("[o]", fn_put("ok1")));
	json_object_set_new(json_object_get(body, "caller"), "kind",
			    json_string("roles"));
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "AccessDenied");
	/* The root user may do all. */
	body = attestation(f.node, "1", "req-4", "root", "anything", "",
			   json_pack("[o]", fn_put("anything")));
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(body, f.node),
				    T0)), "ok");
	OWS_CHECK_INT(ows_state_resource_exists(&f.s, "functions", "nope"), 0);
	teardown(&f);
}

OWS_TEST(attested_resend_applies_once)
{
	struct fixture f;
	json_t *body, *r1, *r2;
	char *prior = NULL;

	setup(&f);
	body = create(&f, "req-1", "ok1");
	OWS_CHECK_INT(ows_state_attested_result(&f.s, body, &prior), 0);
	r1 = apply(&f, "attested", json_deep_copy(body), T0);
	OWS_CHECK(json_is_true(json_object_get(r1, "ok")));
	/* The same entry again (the host resent it after a timeout). */
	r2 = apply(&f, "attested", json_deep_copy(body), T0 + 5000);
	OWS_CHECK(json_is_true(json_object_get(r2, "ok")));
	OWS_CHECK(json_equal(json_object_get(r1, "height"),
			     json_object_get(r2, "height")));
	OWS_CHECK_STR(ows_json_str(r1, "hash"), ows_json_str(r2, "hash"));
	OWS_CHECK_INT(f.s.height, 3);
	OWS_CHECK_INT(ows_state_attested_result(&f.s, body, &prior), 1);
	OWS_CHECK(strstr(prior, ows_json_str(r1, "hash")) != NULL);
	free(prior);
	json_decref(r1);
	json_decref(r2);
	json_decref(body);
	/* Other content under the same request id is not applied. */
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-1", "ok2"),
				    T0)), "RequestIdReused");
	OWS_CHECK_INT(ows_state_resource_exists(&f.s, "functions", "ok2"), 0);
	OWS_CHECK_INT(f.s.height, 3);
	teardown(&f);
}

OWS_TEST(attested_actions_all_or_nothing)
{
	struct fixture f;
	json_t *actions, *r;

	setup(&f);
	/* The second action fails: the first is undone with it. */
	actions = json_pack("[o, {s:s, s:s, s:{s:s}}]", fn_put("ok1"), "action",
			    "routes.put", "name", "GET /x", "spec", "function",
			    "nosuch");
	r = apply(&f, "attested", ows_attest_body(attestation(
		f.node, "1", "req-1", "dev", "ok1", "", actions), f.node), T0);
	OWS_CHECK_STR(ows_json_str(r, "code"), "InvalidAction");
	OWS_CHECK(strstr(ows_json_str(r, "message"), "actions[1]") != NULL);
	json_decref(r);
	OWS_CHECK_INT(ows_state_resource_exists(&f.s, "functions", "ok1"), 0);
	/* A name a stack owns is a conflict for an API-made change. */
	OWS_CHECK_STR(code_of(apply(&f, "attested", ows_attest_body(attestation(
		f.node, "1", "req-2", "dev", "ok1", "api",
		json_pack("[o]", fn_put("ok1"))), f.node), T0)), "ok");
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-3", "ok1"),
				    T0)), "Conflict");
	/* A rejected request id is not taken: it may come again, fixed. */
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-1", "ok4"),
				    T0)), "ok");
	teardown(&f);
}

/* Feed the state's whole ledger to a verifier: 0 or its error. */
static int verify_all(struct fixture *f, struct ows_err *err)
{
	struct ows_ledger_verifier v;
	json_t *rows = ows_state_ledger(&f->s, 1, 1000), *row;
	size_t i;
	int rv = 0;

	OWS_CHECK_INT(ows_ledger_verifier_init(&v), 0);
	json_array_foreach(rows, i, row) {
		rv = ows_ledger_verifier_feed(&v, json_object_get(row, "entry"),
					      ows_json_str(row, "hash"), err);
		if (rv != 0)
			break;
	}
	if (rv == 0)
		OWS_CHECK_INT(v.height, f->s.height);
	ows_ledger_verifier_close(&v);
	json_decref(rows);
	return rv;
}

/* Replace entry height h's stored text (what a tampering disk would do). */
static void store_entry(struct fixture *f, uint64_t h, json_t *entry,
			bool rehash)
{
	char hash[65], sql[128], *text = ows_json_dump(entry);
	sqlite3_stmt *st;

	OWS_CHECK_INT(ows_ledger_entry_hash(entry, hash), 0);
	snprintf(sql, sizeof(sql), "UPDATE ledger SET entry=?%s WHERE "
		 "height=%llu", rehash ? ", hash=?" : "", (unsigned long long)h);
	OWS_CHECK_INT(ows_state_prepare(&f->s, sql, &st), 0);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	if (rehash)
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
	OWS_CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	free(text);
}

OWS_TEST(attested_ledger_verify)
{
	struct ows_err err = {{0}};
	struct fixture f;
	struct ows_key *other;
	json_t *rows, *entry, *orig;

	setup(&f);
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-1", "ok1"),
				    T0)), "ok");
	OWS_CHECK_STR(code_of(apply(&f, "attested", create(&f, "req-2", "ok2"),
				    T0)), "ok");
	OWS_CHECK_INT(verify_all(&f, &err), 0);
	rows = ows_state_ledger(&f.s, 3, 1);
	orig = json_deep_copy(json_object_get(json_array_get(rows, 0), "entry"));
	json_decref(rows);

	/* Tampered: the entry no longer matches its hash. */
	entry = json_deep_copy(orig);
	json_object_set_new(json_array_get(json_object_get(json_object_get(
		json_object_get(entry, "body"), "attestation"), "actions"), 0),
		"name", json_string("evil"));
	store_entry(&f, 3, entry, false);
	OWS_CHECK(verify_all(&f, &err) != 0);
	OWS_CHECK(strstr(err.msg, "entry 3") != NULL);
	/* Re-hashed too: the node's signature does not verify. */
	store_entry(&f, 3, entry, true);
	OWS_CHECK(verify_all(&f, &err) != 0);
	OWS_CHECK(strstr(err.msg, "signature") != NULL);
	json_decref(entry);
	/* Signed anew by a key that is no member node's. */
	ows_key_generate(&other);
	entry = json_deep_copy(orig);
	json_object_set_new(entry, "body", ows_attest_body(attestation(
		other, "1", "req-1", "dev", "ok1", "",
		json_pack("[o]", fn_put("ok1"))), other));
	store_entry(&f, 3, entry, true);
	OWS_CHECK(verify_all(&f, &err) != 0);
	OWS_CHECK(strstr(err.msg, "member node") != NULL);
	json_decref(entry);
	/* Signed by the member node, but for what dev may not do. */
	entry = json_deep_copy(orig);
	json_object_set_new(entry, "body", create(&f, "req-1", "nope"));
	store_entry(&f, 3, entry, true);
	OWS_CHECK(verify_all(&f, &err) != 0);
	OWS_CHECK(strstr(err.msg, "not allowed") != NULL);
	json_decref(entry);
	/* Put back: verifies again. */
	store_entry(&f, 3, orig, true);
	OWS_CHECK_INT(verify_all(&f, &err), 0);
	json_decref(orig);
	ows_key_free(other);
	teardown(&f);
}
