/*
 * Apply of each Raft entry type (genesis, changeset, join, attested; the
 * table entry_types below, then the services' own types found through
 * aws/registry.h); see state.h.
 * One SQLite transaction holds each entry's change, ledger entry,
 * rejection record and new last-applied index, so a crash between entries
 * leaves either all of an entry or none of it. In batch mode (state.h,
 * ows_state_commit) the transaction holds several consecutive entries,
 * and a crash before the COMMIT leaves none of them: the last-applied
 * index is written just before the COMMIT, in the same transaction, so
 * the Raft log applies them again. The statements every entry runs
 * (BEGIN, the service savepoint, meta) are prepared once (ows_state_stmt).
 */
#include "state/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
#include "aws/registry.h"
#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "ledger/attest.h"
#include "ledger/authz.h"
#include "ledger/chain.h"
#include "ledger/changeset.h"
#include "state/kinds.h"

/* Change sets whose time is further than this from the leader's are refused. */
#define MAX_SKEW_MS (15 * 60 * 1000)

struct outcome {
	int status;          /* 0 accepted, else the HTTP status */
	const char *code;    /* AWS-style error code */
	struct ows_err err;
	json_t *extra;       /* accepted: fields added to the result */
	bool resent;         /* accepted before: extra is the recorded result */
};

static void reject(struct outcome *o, int status, const char *code)
{
	o->status = status;
	o->code = code;
}

/* Append an accepted entry to the chain; body is borrowed. */
static int ledger_append(struct ows_state *s, int64_t time_ms,
			 const char *type, const json_t *body,
			 struct outcome *o)
{
	json_t *entry;
	char hash[65], *text = NULL;
	sqlite3_stmt *st;
	int rv = -EIO;

	entry = ows_ledger_entry_new(s->height + 1, s->head, time_ms, type,
				     json_deep_copy(body));
	if (entry == NULL || ows_ledger_entry_hash(entry, hash) != 0 ||
	    (text = ows_json_dump(entry)) == NULL)
		goto out;
	if (ows_state_prepare(s, "INSERT INTO ledger(height, hash, entry) "
			      "VALUES(?,?,?)", &st) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->height + 1);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rv == 0)
		rv = ows__state_meta_set(s, "height",
					 (sqlite3_int64)s->height + 1, NULL);
	if (rv == 0)
		rv = ows__state_meta_set(s, "head", 0, hash);
	if (rv == 0) {
		s->height++;
		memcpy(s->head, hash, 65);
		json_object_set_new(o->extra, "height", json_integer((json_int_t)s->height));
		json_object_set_new(o->extra, "hash", json_string(hash));
	}
out:
	free(text);
	json_decref(entry);
	return rv;
}

static int insert_node(struct ows_state *s, uint64_t id, const json_t *node,
		       int64_t time_ms)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "INSERT INTO nodes(id, raft, edge, gateway, "
			      "key, joined) VALUES(?,?,?,?,?,?)", &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, ows_json_str(node, "raft"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ows_json_str(node, "edge"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ows_json_str(node, "gateway"), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ows_json_str(node, "key"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, time_ms);
	rv = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rv == SQLITE_CONSTRAINT)
		return OWS_ECONFLICT;
	return rv == SQLITE_DONE ? 0 : -EIO;
}

static bool node_valid(const json_t *node)
{
	return ows_json_str(node, "raft") && ows_json_str(node, "edge") &&
	       ows_json_str(node, "gateway") &&
	       ows_pubkey_valid(ows_json_str(node, "key"));
}

static int apply_genesis(struct ows_state *s, int64_t time_ms,
			 const json_t *body, struct outcome *o)
{
	const char *cluster = ows_json_str(body, "cluster");
	const char *root = ows_json_str(body, "root_key");
	const json_t *node = json_object_get(body, "node");
	const json_t *ak = json_object_get(body, "access_key");
	char spec[128];
	int rv;

	if (s->height != 0 || cluster == NULL || strlen(cluster) > 64 ||
	    !ows_pubkey_valid(root) || !node_valid(node)) {
		reject(o, 400, "InvalidGenesis");
		ows_err_printf(&o->err, "genesis is malformed or comes late");
		return 0;
	}
	snprintf(spec, sizeof(spec), "{\"policies\":[],\"public_keys\":[\"%s\"]}",
		 root);
	rv = ows__state_meta_set(s, "cluster", 0, cluster);
	if (rv == 0)
		rv = insert_node(s, 1, node, time_ms);
	if (rv == 0) {
		sqlite3_stmt *st;

		rv = ows_state_prepare(s, "INSERT INTO resources(kind, name, "
				       "stack, spec, height) VALUES('users',?,"
				       "'',?,1)", &st);
		if (rv == 0) {
			sqlite3_bind_text(st, 1, OWS_ROOT_USER, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
			rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
			sqlite3_finalize(st);
		}
	}
	if (rv == 0 && ows__state_exec(s, "DELETE FROM user_keys") == 0) {
		sqlite3_stmt *st;

		rv = ows_state_prepare(s, "INSERT INTO user_keys(key, user) "
				       "VALUES(?,?)", &st);
		if (rv == 0) {
			sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, OWS_ROOT_USER, -1, SQLITE_STATIC);
			rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
			sqlite3_finalize(st);
		}
	}
	if (rv == 0 && ak != NULL)
		rv = ows__state_access_key_insert(s, ows_json_str(ak, "id"),
						  OWS_ROOT_USER, ak, time_ms);
	if (rv == OWS_EINVAL || rv == OWS_ECONFLICT) {
		ows_err_printf(&o->err, "genesis has a malformed access key");
		return reject(o, 400, "InvalidGenesis"), 0;
	}
	if (rv != 0)
		return rv;
	snprintf(s->cluster, sizeof(s->cluster), "%s", cluster);
	json_object_set_new(o->extra, "cluster", json_string(cluster));
	return ledger_append(s, time_ms, "genesis", body, o);
}

static int nonce_used(struct ows_state *s, const char *nonce)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "SELECT 1 FROM nonces WHERE nonce=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return rv;
}

int ows_state_envelope_digest(const json_t *envelope, char out[65])
{
	struct ows_buf canon = OWS_BUF_INIT;
	json_t *signed_part;
	int rv;

	signed_part = json_pack("{s:O, s:O}", "changeset",
				json_object_get(envelope, "changeset"),
				"signatures",
				json_object_get(envelope, "signatures"));
	if (signed_part == NULL)
		return OWS_EPARSE;
	rv = ows_json_canonical(signed_part, &canon);
	json_decref(signed_part);
	if (rv == 0)
		ows_sha256_hex(canon.data, canon.len, out);
	ows_buf_free(&canon);
	return rv == 0 ? 0 : OWS_EPARSE;
}

/*
 * The recorded result under nonce and digest: 1 and *result, or 0. An
 * attested entry's is kept under "request:REQUEST_ID" (a change set's
 * nonce is hex: the two never meet).
 */
static int result_of(struct ows_state *s, const char *nonce,
		     const char *digest, char **result)
{
	sqlite3_stmt *st;
	int rv = 0;

	*result = NULL;
	if (ows_state_prepare(s, "SELECT result FROM results WHERE nonce=? "
			      "AND digest=?", &st) != 0)
		return 0;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		*result = strdup((const char *)sqlite3_column_text(st, 0));
		rv = *result != NULL;
	}
	sqlite3_finalize(st);
	return rv;
}

int ows_state_result(struct ows_state *s, const json_t *envelope,
		     char **result)
{
	const char *nonce = ows_json_str(json_object_get(envelope, "changeset"),
					 "nonce");
	char digest[65];

	*result = NULL;
	if (nonce == NULL || ows_state_envelope_digest(envelope, digest) != 0)
		return 0;
	return result_of(s, nonce, digest, result);
}

/* The results-table key of an attested entry's request id. */
static void request_key(const char *request_id, char *out, size_t cap)
{
	snprintf(out, cap, "request:%s", request_id);
}

int ows_state_attested_result(struct ows_state *s, const json_t *body,
			      char **result)
{
	struct ows_attest_info info;
	struct ows_err err;
	char key[128], digest[65];

	*result = NULL;
	if (ows_attest_check(body, &info, &err) != 0 ||
	    ows_attest_digest(&info, digest) != 0)
		return 0;
	request_key(info.request_id, key, sizeof(key));
	return result_of(s, key, digest, result);
}

/*
 * A taken nonce: the same envelope sent again gets its recorded result
 * (o->resent), anything else is a replay.
 */
static int nonce_taken(struct ows_state *s, const char *digest,
		       const char *nonce, struct outcome *o)
{
	char *prior = NULL;
	json_t *r;

	if (result_of(s, nonce, digest, &prior) == 1) {
		r = ows_json_loads(prior, 0, NULL);
		free(prior);
		if (r == NULL)
			return -EIO;
		json_decref(o->extra);
		o->extra = r;
		o->resent = true;
		return 0;
	}
	ows_err_printf(&o->err, "nonce '%s' was used before: the change set "
		       "is a replay", nonce);
	return reject(o, 409, "NonceReused"), 0;
}

/* Keep the result of an accepted entry; drop those past keeping. */
static int record_result(struct ows_state *s, int64_t time_ms,
			 const char *digest, const char *nonce,
			 struct outcome *o)
{
	char *text = NULL;
	sqlite3_stmt *st;
	json_t *r;
	int rv = -EIO;

	r = json_deep_copy(o->extra);
	if (r == NULL || json_object_set_new(r, "ok", json_true()) != 0 ||
	    (text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	if (ows_state_prepare(s, "INSERT INTO results(nonce, digest, result, "
			      "time) VALUES(?,?,?,?)", &st) != 0)
		goto out;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, time_ms);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rv != 0 || ows_state_prepare(s, "DELETE FROM results WHERE time<?",
					 &st) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, time_ms - OWS_STATE_RESULT_KEEP_MS);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
out:
	free(text);
	json_decref(r);
	return rv;
}

/* Checks before any action runs; a failure is a rejection, not an error. */
static int precheck(struct ows_state *s, int64_t time_ms, const json_t *body,
		    struct ows_changeset_info *info, const char *digest,
		    struct outcome *o)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	int rv;

	rv = ows_envelope_check(body, info, &o->err);
	if (rv == OWS_EPARSE)
		return reject(o, 400, "MalformedChangeSet"), 0;
	if (rv != 0)
		return reject(o, 403, "InvalidSignature"), 0;
	if (strcmp(info->cluster, s->cluster) != 0) {
		ows_err_printf(&o->err, "change set is for cluster '%s', this "
			       "is '%s'", info->cluster, s->cluster);
		return reject(o, 400, "WrongCluster"), 0;
	}
	if (llabs(info->time * 1000 - time_ms) > MAX_SKEW_MS) {
		ows_err_printf(&o->err, "change set time is more than 15 "
			       "minutes from the cluster's clock");
		return reject(o, 400, "ChangeSetTimeTooSkewed"), 0;
	}
	rv = nonce_used(s, info->nonce);
	if (rv < 0)
		return rv;
	if (rv)
		return nonce_taken(s, digest, info->nonce, o);
	ows_state_directory(s, &dir);
	/* Recorded by the node that took the request; time is the entry's. */
	ows_authz_ctx_from_envelope(body, time_ms, &rc);
	rv = ows_changeset_authorize(info, &dir, &rc, &o->err);
	if (rv == OWS_EAUTH)
		return reject(o, 403, "UnknownSigner"), 0;
	if (rv == OWS_EDENIED)
		return reject(o, 403, "AccessDenied"), 0;
	return rv;
}

/* The actions of an entry, all or nothing, for stack ("" for none). */
static int run_actions(struct ows_state *s, int64_t time_ms,
		       const json_t *actions, const char *stack,
		       struct outcome *o)
{
	struct ows_apply_ctx c = {s, stack ? stack : "", time_ms,
				  s->height + 1};
	const json_t *a;
	size_t i;
	int rv = 0;

	if (ows__state_exec(s, "SAVEPOINT actions") != 0)
		return -EIO;
	json_array_foreach(actions, i, a) {
		rv = ows__kind_apply(&c, a, o->extra, &o->err);
		if (rv != 0) {
			ows_err_wrapf(&o->err, "actions[%zu] %s '%s'", i,
				      ows_json_str(a, "action"),
				      ows_json_str(a, "name"));
			break;
		}
	}
	if (rv != 0 && ows__state_exec(s, "ROLLBACK TO actions") != 0)
		return -EIO;
	if (ows__state_exec(s, "RELEASE actions") != 0)
		return -EIO;
	if (rv == OWS_ECONFLICT)
		return reject(o, 409, "Conflict"), 0;
	if (rv == OWS_ENOTFOUND)
		return reject(o, 404, "NotFound"), 0;
	if (rv == OWS_EINVAL)
		return reject(o, 400, "InvalidAction"), 0;
	if (rv == OWS_EPRECOND)
		return reject(o, 412, "PreconditionFailed"), 0;
	return rv;
}

static int take_nonce(struct ows_state *s, const char *nonce)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "INSERT INTO nonces(nonce, height) VALUES(?,?)",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->height + 1);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rv;
}

static int apply_changeset(struct ows_state *s, int64_t time_ms,
			   const json_t *body, struct outcome *o)
{
	struct ows_changeset_info info;
	char digest[65] = "";
	int rv;

	/* A malformed envelope has no digest: precheck rejects it. */
	ows_state_envelope_digest(body, digest);
	rv = precheck(s, time_ms, body, &info, digest, o);
	if (rv != 0 || o->status != 0 || o->resent)
		return rv;
	rv = run_actions(s, time_ms, info.actions, info.stack, o);
	if (rv != 0 || o->status != 0)
		return rv;
	rv = take_nonce(s, info.nonce);
	if (rv == 0)
		rv = ledger_append(s, time_ms, "changeset", body, o);
	return rv == 0 ? record_result(s, time_ms, digest, info.nonce, o) : rv;
}

/* Is key node id's key, and the node a member? 1, 0, or -EIO. */
static int node_member(struct ows_state *s, uint64_t id, const char *key)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "SELECT count(*) FROM nodes WHERE id=? AND "
			      "key=?", &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) > 0
					    : -EIO;
	sqlite3_finalize(st);
	return rv;
}

/* An attested entry's checks before its actions (see ledger/attest.h). */
static int attested_precheck(struct ows_state *s, int64_t time_ms,
			     const json_t *body, struct ows_attest_info *info,
			     char *key, size_t cap, char digest[65],
			     struct outcome *o)
{
	struct ows_directory dir;
	int rv;

	rv = ows_attest_check(body, info, &o->err);
	if (rv == OWS_EPARSE)
		return reject(o, 400, "MalformedAttestation"), 0;
	if (rv != 0)
		return reject(o, 403, "InvalidSignature"), 0;
	rv = node_member(s, info->node, info->node_key);
	if (rv < 0)
		return rv;
	if (rv == 0) {
		ows_err_printf(&o->err, "key '%s' is not the key of member "
			       "node %llu", info->node_key,
			       (unsigned long long)info->node);
		return reject(o, 403, "UnknownNode"), 0;
	}
	if (strcmp(info->cluster, s->cluster) != 0) {
		ows_err_printf(&o->err, "attestation is for cluster '%s', this "
			       "is '%s'", info->cluster, s->cluster);
		return reject(o, 400, "WrongCluster"), 0;
	}
	if (llabs(info->time - time_ms) > MAX_SKEW_MS) {
		ows_err_printf(&o->err, "attestation time is more than 15 "
			       "minutes from the cluster's clock");
		return reject(o, 400, "RequestTimeTooSkewed"), 0;
	}
	if (ows_attest_digest(info, digest) != 0)
		return -EIO;
	request_key(info->request_id, key, cap);
	rv = nonce_used(s, key);
	if (rv < 0)
		return rv;
	if (rv) {
		rv = nonce_taken(s, digest, key, o);
		if (rv == 0 && o->status != 0) {
			ows_err_printf(&o->err, "request '%s' was applied "
				       "before with other content",
				       info->request_id);
			reject(o, 409, "RequestIdReused");
		}
		return rv;
	}
	ows_state_directory(s, &dir);
	rv = ows_attest_authorize(info, &dir, &o->err);
	if (rv == OWS_EDENIED)
		return reject(o, 403, "AccessDenied"), 0;
	return rv;
}

/*
 * An API-made change, attested by the node that authenticated it: judged
 * again here, then applied as a change set's actions would be.
 */
static int apply_attested(struct ows_state *s, int64_t time_ms,
			  const json_t *body, struct outcome *o)
{
	struct ows_attest_info info;
	char key[128], digest[65];
	int rv;

	rv = attested_precheck(s, time_ms, body, &info, key, sizeof(key),
			       digest, o);
	if (rv != 0 || o->status != 0 || o->resent)
		return rv;
	rv = run_actions(s, time_ms, info.actions, info.stack, o);
	if (rv != 0 || o->status != 0)
		return rv;
	rv = take_nonce(s, key);
	if (rv == 0)
		rv = ledger_append(s, time_ms, "attested", body, o);
	if (rv == 0)
		json_object_set_new(o->extra, "request_id",
				    json_string(info.request_id));
	return rv == 0 ? record_result(s, time_ms, digest, key, o) : rv;
}

/* Consume the token; 1 when it was valid. */
static int take_token(struct ows_state *s, const char *hash, int64_t time_ms)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "UPDATE tokens SET used=1 WHERE hash=? AND "
			      "used=0 AND expires>=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, time_ms);
	rv = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : -EIO;
	sqlite3_finalize(st);
	return rv;
}

static int apply_join(struct ows_state *s, int64_t time_ms,
		      const json_t *body, struct outcome *o)
{
	const char *hash = ows_json_str(body, "token_hash");
	json_t *node = json_object_get(body, "node"), *rec;
	sqlite3_stmt *st;
	uint64_t id = 1;
	int rv;

	if (hash == NULL || !node_valid(node)) {
		ows_err_printf(&o->err, "join needs a token and the node's "
			       "raft, edge and gateway addresses and key");
		return reject(o, 400, "MalformedJoin"), 0;
	}
	/* A refused join must not use up its token: check the node first. */
	if (ows_state_prepare(s, "SELECT count(*) FROM nodes WHERE raft=?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, ows_json_str(node, "raft"), -1, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
	sqlite3_finalize(st);
	if (rv < 0)
		return rv;
	if (rv > 0) {
		ows_err_printf(&o->err, "raft address '%s' is taken by another "
			       "node", ows_json_str(node, "raft"));
		return reject(o, 409, "Conflict"), 0;
	}
	rv = take_token(s, hash, time_ms);
	if (rv < 0)
		return rv;
	if (rv == 0) {
		ows_err_printf(&o->err, "the join token is unknown, used or "
			       "expired");
		return reject(o, 403, "InvalidToken"), 0;
	}
	/*
	 * Ids are never reused: a removed node's id may still sit in some
	 * Raft log or peer's memory.
	 */
	if (ows_state_prepare(s, "SELECT max(coalesce((SELECT max(id) FROM "
			      "nodes), 0), coalesce((SELECT v FROM meta WHERE "
			      "k='last_node'), 0)) + 1", &st) != 0)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	rv = insert_node(s, id, node, time_ms);
	if (rv == 0)
		rv = ows__state_meta_set(s, "last_node", (sqlite3_int64)id,
					 NULL);
	if (rv != 0)
		return rv == OWS_ECONFLICT ? -EIO : rv;
	rec = json_pack("{s:s, s:O}", "token_hash", hash, "node", node);
	json_object_set_new(json_object_get(rec, "node"), "id",
			    json_integer((json_int_t)id));
	json_object_set_new(o->extra, "node_id", json_integer((json_int_t)id));
	json_object_set_new(o->extra, "cluster", json_string(s->cluster));
	rv = ledger_append(s, time_ms, "join", rec, o);
	json_decref(rec);
	return rv;
}

static int record_rejection(struct ows_state *s, uint64_t index,
			    int64_t time_ms, const struct outcome *o,
			    const void *data, size_t len)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, "INSERT INTO rejections(raft_index, time, "
			      "code, message, entry) VALUES(?,?,?,?,?)",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	sqlite3_bind_int64(st, 2, time_ms);
	sqlite3_bind_text(st, 3, o->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->err.msg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, data, (int)len, SQLITE_STATIC);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rv == 0)
		rv = ows__state_meta_set(s, "rejected",
					 (sqlite3_int64)s->rejected + 1, NULL);
	return rv;
}

/* A genesis refused half-way must leave nothing behind. */
static int apply_genesis_whole(struct ows_state *s, int64_t time_ms,
			       const json_t *body, struct outcome *o)
{
	int rv = ows__state_exec(s, "SAVEPOINT genesis");

	if (rv == 0)
		rv = apply_genesis(s, time_ms, body, o);
	if (rv == 0 && o->status != 0)
		rv = ows__state_exec(s, "ROLLBACK TO genesis");
	if (rv == 0)
		rv = ows__state_exec(s, "RELEASE genesis");
	return rv;
}

/*
 * The entry types. Each apply returns 0 with o->status set when it
 * refuses the entry (recorded as a rejection), or -EIO.
 */
static const struct entry_type {
	const char *name;
	bool first; /* the one type applied before genesis */
	int (*apply)(struct ows_state *s, int64_t time_ms, const json_t *body,
		     struct outcome *o);
} entry_types[] = {
	{"genesis", true, apply_genesis_whole},
	{"changeset", false, apply_changeset},
	{"join", false, apply_join},
	{"attested", false, apply_attested},
};

static const struct entry_type *entry_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(entry_types) / sizeof(entry_types[0]); i++)
		if (strcmp(entry_types[i].name, name) == 0)
			return &entry_types[i];
	return NULL;
}

/*
 * A service's own entry (aws/service.h, struct ows_aws_entry_type): no
 * ledger entry, no height. A refused one changes nothing: what its apply
 * wrote before it refused is rolled back.
 */
static const char service_begin_sql[] = "SAVEPOINT service";
static const char service_undo_sql[] = "ROLLBACK TO service";
static const char service_end_sql[] = "RELEASE service";

static int apply_service(struct ows_state *s,
			 const struct ows_aws_entry_type *t, uint64_t index,
			 int64_t time_ms, const json_t *body, struct outcome *o)
{
	struct ows_aws_entry_ctx c = {s, index, time_ms};
	int rv;

	if (ows__state_run(s, service_begin_sql) != 0)
		return -EIO;
	rv = t->apply(&c, body, o->extra, &o->err);
	if (rv == OWS_EINVAL) {
		reject(o, 400, "MalformedEntry");
		if (o->err.msg[0] == '\0')
			ows_err_printf(&o->err, "malformed '%s' entry",
				       t->name);
		rv = ows__state_run(s, service_undo_sql);
	} else if (rv != 0) {
		return -EIO; /* the whole transaction goes, this with it */
	}
	if (rv == 0)
		rv = ows__state_run(s, service_end_sql);
	return rv;
}

static int dispatch(struct ows_state *s, uint64_t index, const void *data,
		    size_t len, int64_t *time_ms, struct outcome *o)
{
	json_t *entry = ows_json_parse(data, len, &o->err);
	const char *type = ows_json_str(entry, "type");
	const json_t *body = json_object_get(entry, "body");
	const struct entry_type *t = type ? entry_type_find(type) : NULL;
	const struct ows_aws_entry_type *st = NULL;
	int rv = 0;

	if (type != NULL && t == NULL)
		st = ows_aws_entry_type_find(type);
	*time_ms = json_integer_value(json_object_get(entry, "time"));
	if (type == NULL || !json_is_object(body)) {
		reject(o, 400, "MalformedEntry");
		if (entry != NULL)
			ows_err_printf(&o->err, "entry needs type and body");
	} else if ((t == NULL || !t->first) && s->cluster[0] == '\0') {
		reject(o, 400, "NoGenesis");
		ows_err_printf(&o->err, "the cluster has no genesis yet");
	} else if (st != NULL) {
		rv = apply_service(s, st, index, *time_ms, body, o);
	} else if (t == NULL) {
		reject(o, 400, "MalformedEntry");
		ows_err_printf(&o->err, "unknown entry type '%s'", type);
	} else {
		rv = t->apply(s, *time_ms, body, o);
	}
	json_decref(entry);
	return rv;
}

static char *result_text(struct outcome *o)
{
	char *text;

	if (o->status == 0) {
		json_object_set_new(o->extra, "ok", json_true());
	} else {
		json_object_clear(o->extra);
		json_object_set_new(o->extra, "ok", json_false());
		json_object_set_new(o->extra, "status", json_integer(o->status));
		json_object_set_new(o->extra, "code", json_string(o->code));
		json_object_set_new(o->extra, "message", json_string(o->err.msg));
	}
	text = ows_json_dump(o->extra);
	json_decref(o->extra);
	return text;
}

/*
 * Open the batch's transaction when none is open. An entry needs no
 * savepoint of its own: a failure rolls back the whole transaction
 * (ows__state_rollback), and each refusal undoes its own part (the
 * savepoints of run_actions, apply_genesis_whole and apply_service).
 */
static const char begin_sql[] = "BEGIN IMMEDIATE";

static int entry_begin(struct ows_state *s)
{
	ows_state_read_release(s);
	if (sqlite3_get_autocommit(s->db)) {
		if (ows__state_run(s, begin_sql) != 0)
			return -EIO;
		s->uncommitted = 0;
	}
	return 0;
}

int ows_state_apply(struct ows_state *s, uint64_t index, const void *data,
		    size_t len, char **result)
{
	struct outcome o = {0};
	int64_t time_ms = 0;
	int rv;

	if (result != NULL)
		*result = NULL;
	if (index <= s->applied)
		return 0;
	o.extra = json_object();
	if (o.extra == NULL || entry_begin(s) != 0) {
		json_decref(o.extra);
		ows__state_rollback(s);
		return -EIO;
	}
	rv = dispatch(s, index, data, len, &time_ms, &o);
	if (rv == 0 && o.status != 0)
		rv = record_rejection(s, index, time_ms, &o, data, len);
	if (rv == 0) {
		/* written to meta by ows_state_commit, in this transaction */
		s->applied = index;
		s->uncommitted++;
		if (o.status != 0)
			s->rejected++;
		if (!s->batch)
			rv = ows_state_commit(s);
	}
	if (rv != 0) {
		/* the whole batch goes: state.h, ows_state_commit */
		ows__state_rollback(s);
		json_decref(o.extra);
		return -EIO;
	}
	if (result != NULL)
		*result = result_text(&o);
	else
		json_decref(o.extra);
	return 0;
}
