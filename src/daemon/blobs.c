/*
 * The blob store's endpoints: the content-addressed files of blob/blob.h,
 * named by the SHA-256 of their bytes (DESIGN.md, "Storage"). Function bundles
 * travel this way: `ows apply` asks HEAD and uploads with PUT only what the
 * node lacks; a node lacking a blob fetches it from a peer with GET.
 *
 *   HEAD /_ows/v1/blobs/HASH   200 with Content-Length, or 404
 *   PUT  /_ows/v1/blobs/HASH   the body, streamed to disk; 400 BadDigest
 *                              when its SHA-256 is not HASH
 *   GET  /_ows/v1/blobs/HASH   the bytes
 *
 * Requests are signed (auth/reqsig.h) by a user or by a node of the
 * cluster. For PUT the signed body hash is HASH itself, so the signature is
 * checked before the body arrives and the digest once it has. Disk work
 * runs on libuv's thread pool; the socket is paused while a write is out,
 * so a large upload never sits in memory.
 *
 * A user needs the permissions of the functions a blob serves
 * (docs/security.md): GET needs ows:functions.read on some function whose
 * code_sha256 is HASH, or on "*" for a bundle or a blob nothing names
 * yet (a blob another service names, an S3 object's, is read through that
 * service); PUT and HEAD need ows:functions.put on the function
 * named by "?function=NAME" (ows apply sends it), or, without it, on
 * the function named "*" (a policy on "*" allows it). Nodes may do all.
 *
 * Blobs nothing names (no function bundle, no service's blob_refs) are
 * collected once they are older than a grace period (OWS_BLOB_GRACE_S,
 * default one hour), time for the entry that names an upload to arrive;
 * HEAD and PUT of a blob renew its time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/reqsig.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "aws/registry.h"
#include "aws/service.h"
#include "daemon/blobs.h"
#include "daemon/reply.h"

#define CHUNK (256 * 1024)
#define GRACE_DEFAULT_S 3600
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct blob_op {
	struct ows_blobs *b;
	struct ows_core *n;
	struct ows_http_req *req;
	char hash[65];
	char path[PATH_MAX];
	struct ows_blob_writer w;   /* PUT */
	bool writing;               /* w is open */
	uv_work_t work;
	int work_rv;
	uv_fs_t fs;                 /* GET */
	uv_file fd;
	char *buf;
	size_t len, cap;
	uint64_t size;
	bool last;
	int error;
};

void ows_blobs_init(struct ows_blobs *b, struct ows_core *core)
{
	*b = (struct ows_blobs){.core = core};
	ows_blob_store_init(&b->store, core->dir);
}

void ows_blobs_close(struct ows_blobs *b)
{
	json_decref(b->batch);
	b->batch = NULL;
}

/*
 * Who signed the request: into user, the user; "" for a node of the
 * cluster. -1 when neither (or the signature is bad).
 */
static int signer(struct ows_core *n, struct ows_http_req *req,
		  const char *body_hash, char user[OWS_NAME_MAX])
{
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_directory dir;
	struct ows_err err = {{0}};

	/* The signature covers the body by its hash: pass it pre-computed. */
	if (ows_reqsig_verify_hash(ows_http_req_header(req, "Authorization"),
				   req->method, req->target, body_hash,
				   ows_now_ms() / 1000, pub, &err) != 0)
		return -1;
	ows_state_directory(&n->state, &dir);
	if (dir.user_of_key(dir.ud, pub, user, OWS_NAME_MAX) == 0)
		return 0;
	user[0] = '\0';
	return ows_core_key_is_member(n, pub) ? 0 : -1;
}

/* Function bundles: the code of every function and of every version. */
#define BUNDLE_REFS                                                        \
	"SELECT 1 FROM resources WHERE kind IN ('functions', "             \
	"'function_versions') AND json_extract(spec, '$.code_sha256')=?1 " \
	"LIMIT 1"

/* Is hash a function bundle (of a function or of a version)? */
static bool is_bundle(struct ows_core *n, const char *hash)
{
	sqlite3_stmt *st;
	bool yes;

	if (ows_state_prepare(&n->state, BUNDLE_REFS, &st) != 0)
		return false;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

static bool named_by_service(struct ows_core *n, const char *hash);

/* May user read the blob: functions.read on a function that names it? */
static bool may_read(struct ows_core *n, struct ows_http_req *req,
		     const char *user, const char *hash)
{
	json_t *fns = ows_state_resources(&n->state, "functions", NULL), *f;
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	char ip[64];
	bool ok = false;
	size_t i;

	ows_state_directory(&n->state, &dir);
	ows_reply_request_ctx(req, NULL, ip, &rc);
	/*
	 * A reader of every function ("*", root) may read any bundle, and
	 * uploads not named yet; what another service names (S3's objects)
	 * is read through that service, with its permissions.
	 */
	if (ows_user_authorize_resource(&dir, user, "ows:functions.read",
					"functions", "*", &rc) == 0) {
		ok = is_bundle(n, hash) || !ows_blobs_named(n, hash);
		json_decref(fns);
		return ok;
	}
	json_array_foreach(fns, i, f) {
		const char *sha = ows_json_str(json_object_get(f, "spec"),
					       "code_sha256");

		if (sha != NULL && strcmp(sha, hash) == 0 &&
		    ows_user_authorize_resource(&dir, user,
						"ows:functions.read",
						"functions",
						ows_json_str(f, "name"),
						&rc) == 0) {
			ok = true;
			break;
		}
	}
	json_decref(fns);
	return ok;
}

/* May user upload: functions.put on ?function=NAME, else on any ("*"). */
static bool may_write(struct ows_core *n, struct ows_http_req *req,
		      const char *user)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	char ip[64], fn[OWS_NAME_MAX];

	if (!ows_query_get(req->query, "function", fn, sizeof(fn)) ||
	    !ows_name_valid(fn))
		snprintf(fn, sizeof(fn), "*");
	ows_state_directory(&n->state, &dir);
	ows_reply_request_ctx(req, NULL, ip, &rc);
	return ows_user_authorize_resource(&dir, user, "ows:functions.put",
					   "functions", fn, &rc) == 0;
}

/*
 * op lives in the request's arena: answering frees it. What it holds
 * outside (the writer's file, the buffer) is let go first.
 */
static void op_release(struct blob_op *op)
{
	if (op->writing)
		ows_blob_writer_abort(&op->w);
	op->writing = false;
	free(op->buf);
	op->buf = NULL;
}

static void reply_done(struct blob_op *op, int status, const char *code,
		       const char *msg)
{
	struct ows_http_req *req = op->req;

	op_release(op);
	if (status == 200) {
		json_t *v = json_pack("{s:s, s:I}", "blob", op->hash, "size",
				      (json_int_t)op->size);

		ows_reply_json(req, 200, v);
		json_decref(v);
	} else {
		ows_reply_error(req, status, code, "%s", msg);
	}
}

/* GET reads; PUT writes; HEAD is either's first step. */
static bool user_may(struct ows_core *n, struct ows_http_req *req,
		     const char *user, const char *hash)
{
	if (strcmp(req->method, "GET") == 0)
		return may_read(n, req, user, hash);
	if (strcmp(req->method, "PUT") == 0)
		return may_write(n, req, user);
	return may_write(n, req, user) || may_read(n, req, user, hash);
}

/* ---- PUT: body -> temporary file -> check digest, fsync -> rename ---- */

/*
 * The store's calls block: each runs on libuv's thread pool, and the
 * socket is paused while a piece is being written.
 */
static void put_fail(struct blob_op *op, int status, const char *code,
		     const char *msg)
{
	if (status != 0)
		reply_done(op, status, code, msg);
	else
		op_release(op); /* the server answered already (413 or gone) */
}

static void commit_work(uv_work_t *w)
{
	struct blob_op *op = w->data;

	op->work_rv = ows_blob_writer_commit(&op->w);
}

static void commit_done(uv_work_t *w, int status)
{
	struct blob_op *op = w->data;
	int rv = status != 0 ? status : op->work_rv;

	if (rv == -EBADMSG) {
		put_fail(op, 400, "BadDigest", "the body's SHA-256 is not the "
			 "blob's name");
	} else if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "blob", "cannot store %.16s...: %s",
			op->hash, ows_strerror(rv));
		put_fail(op, 500, "InternalError", "cannot store the blob");
	} else {
		reply_done(op, 200, NULL, NULL);
	}
}

static void put_finish(struct blob_op *op)
{
	op->work.data = op;
	if (uv_queue_work(op->n->loop, &op->work, commit_work,
			  commit_done) != 0)
		put_fail(op, 500, "InternalError", "cannot store the blob");
}

static void write_work(uv_work_t *w)
{
	struct blob_op *op = w->data;

	op->work_rv = ows_blob_writer_write(&op->w, op->buf, op->len);
}

static void write_done(uv_work_t *w, int status)
{
	struct blob_op *op = w->data;
	int rv = status != 0 ? status : op->work_rv;

	op->len = 0;
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "blob", "cannot write '%s': %s",
			op->w.tmp, ows_strerror(rv));
		put_fail(op, 500, "InternalError", "cannot store the blob");
	} else if (op->last) {
		put_finish(op);
	} else {
		ows_http_req_resume(op->req);
	}
}

static void chunk_cb(struct ows_http_req *req, int status, const char *data,
		     size_t len, bool last)
{
	struct blob_op *op = req->data;

	if (status != 0) {
		put_fail(op, 0, NULL, NULL);
		return;
	}
	op->size += len;
	op->last = last;
	if (len == 0) {
		if (last)
			put_finish(op);
		return;
	}
	/* data is borrowed: copy it, and stop reading until it is written. */
	if (len > op->cap) {
		char *p = realloc(op->buf, len);

		if (p == NULL) {
			put_fail(op, 500, "InternalError", "out of memory");
			return;
		}
		op->buf = p;
		op->cap = len;
	}
	memcpy(op->buf, data, len);
	op->len = len;
	ows_http_req_pause(req);
	op->work.data = op;
	if (uv_queue_work(op->n->loop, &op->work, write_work, write_done) != 0)
		put_fail(op, 500, "InternalError", "cannot store the blob");
}

static void put(struct blob_op *op)
{
	int rv;

	op->cap = CHUNK;
	op->buf = malloc(op->cap);
	rv = op->buf != NULL
		     ? ows_blob_writer_open(&op->w, &op->b->store, op->hash)
		     : -ENOMEM;
	if (rv != 0) {
		reply_done(op, 500, "InternalError", "cannot store the blob");
		return;
	}
	op->writing = true;
	op->req->data = op;
	if (ows_http_req_stream_body(op->req, OWS_BLOB_MAX, chunk_cb) != 0)
		put_fail(op, 500, "InternalError", "cannot read the body");
}

/* ---- GET: the file, read on the thread pool, written as it comes ---- */

static void read_cb(uv_fs_t *fs);

static void read_next(struct blob_op *op)
{
	uv_buf_t b = uv_buf_init(op->buf, CHUNK);

	op->fs.data = op;
	if (uv_fs_read(op->n->loop, &op->fs, op->fd, &b, 1, -1, read_cb) != 0)
		op->error = -EIO;
}

static void get_end(struct blob_op *op)
{
	uv_fs_t fs;

	uv_fs_close(op->n->loop, &fs, op->fd, NULL);
	uv_fs_req_cleanup(&fs);
	op_release(op);
	ows_http_respond_end(op->req);
}

static void written_cb(void *ud, int status)
{
	struct blob_op *op = ud;

	if (status != 0)
		get_end(op);
	else
		read_next(op);
}

static void read_cb(uv_fs_t *fs)
{
	struct blob_op *op = fs->data;
	ssize_t n = fs->result;

	uv_fs_req_cleanup(fs);
	if (n <= 0 || ows_http_respond_write(op->req, op->buf, (size_t)n,
					     written_cb, op) != 0)
		get_end(op);
}

static void get(struct blob_op *op, uint64_t size)
{
	struct ows_http_header h = {"Content-Type", "application/octet-stream"};
	uv_fs_t fs;

	op->buf = malloc(CHUNK);
	op->fd = uv_fs_open(op->n->loop, &fs, op->path, O_RDONLY | O_CLOEXEC, 0,
			    NULL);
	uv_fs_req_cleanup(&fs);
	if (op->buf == NULL || op->fd < 0) {
		if (op->fd >= 0) {
			uv_fs_close(op->n->loop, &fs, op->fd, NULL);
			uv_fs_req_cleanup(&fs);
		}
		reply_done(op, 500, "InternalError", "cannot read the blob");
		return;
	}
	ows_http_respond_start(op->req, 200, &h, 1, (int64_t)size);
	if (size == 0)
		get_end(op);
	else
		read_next(op);
}

void ows_blobs_handle(struct ows_blobs *b, struct ows_http_req *req)
{
	struct ows_core *n = b->core;
	const char *hash = req->path + strlen("/_ows/v1/blobs/");
	bool is_put = strcmp(req->method, "PUT") == 0;
	char user[OWS_NAME_MAX];
	struct blob_op *op;
	uint64_t size;

	if (!ows_blob_name_valid(hash)) {
		ows_reply_error(req, 400, "InvalidBlobName", "a blob is "
				      "named by the SHA-256 of its bytes, in "
				      "lowercase hex");
		return;
	}
	if (!is_put && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		ows_reply_error(req, 405, "MethodNotAllowed", "blobs "
				      "take HEAD, GET and PUT");
		return;
	}
	if (signer(n, req, is_put ? hash : EMPTY_SHA256, user) != 0) {
		ows_reply_error(req, 401, "Unauthenticated", "blob "
				      "requests are signed by a user or a node");
		return;
	}
	if (user[0] != '\0' && !user_may(n, req, user, hash)) {
		ows_reply_error(req, 403, "AccessDenied", "user '%s' may "
				      "not %s this blob: %s needs %s", user,
				      is_put ? "upload" : "read", req->method,
				      strcmp(req->method, "GET") == 0
					      ? "ows:functions.read on a "
						"function that names it"
					      : "ows:functions.put on the "
						"function (?function=NAME)");
		return;
	}
	if (user[0] != '\0' && !is_put && named_by_service(n, hash)) {
		if (strcmp(req->method, "GET") == 0)
			ows_reply_error(req, 403, "AccessDenied", "user '%s' "
					"may not read this blob: another "
					"service's data is read through that "
					"service", user);
		else
			ows_reply_error(req, 404, "NoSuchBlob", "this node "
					"has no such blob");
		return;
	}
	op = ows_arena_alloc(&req->arena, sizeof(*op));
	if (op == NULL) {
		ows_reply_error(req, 503, "OutOfMemory", "try again");
		return;
	}
	*op = (struct blob_op){.b = b, .n = n, .req = req, .fd = -1};
	memcpy(op->hash, hash, 65);
	ows_blob_path(&b->store, hash, op->path, sizeof(op->path));
	if (is_put) {
		put(op);
	} else if (ows_blob_size(&b->store, hash, &size) != 0) {
		reply_done(op, 404, "NoSuchBlob", "this node has no such blob");
	} else if (strcmp(req->method, "HEAD") == 0) {
		/* an upload about to be named again: renew its grace */
		ows_blob_touch(&b->store, hash);
		op->size = size;
		reply_done(op, 200, NULL, NULL);
	} else {
		get(op, size);
	}
}

/* ---- what the state names, and how many copies ---- */

/* The statements naming blobs: the bundles', then each service's. */
static size_t refs_sql(const char **out, size_t cap)
{
	const struct ows_aws_service *const *sv;
	size_t k = 0;

	out[k++] = BUNDLE_REFS;
	for (sv = ows_aws_services; *sv != NULL && k < cap; sv++)
		if ((*sv)->blob_refs != NULL)
			out[k++] = (*sv)->blob_refs;
	return k;
}

/*
 * Does one of stmts (prepared refs_sql) name hash? A statement that fails
 * counts as naming it: a blob is never removed on a doubt.
 */
static bool named_by(sqlite3_stmt **stmts, size_t n, const char *hash)
{
	bool named = false;

	for (size_t i = 0; i < n && !named; i++) {
		int rc;

		if (stmts[i] == NULL)
			return true;
		sqlite3_reset(stmts[i]);
		sqlite3_bind_text(stmts[i], 1, hash, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmts[i]);
		named = rc != SQLITE_DONE;
	}
	return named;
}

static size_t prepare_refs(sqlite3 *db, sqlite3_stmt **stmts, size_t cap)
{
	const char *sql[16];
	size_t n = refs_sql(sql, cap < 16 ? cap : 16);

	for (size_t i = 0; i < n; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &stmts[i], NULL) !=
		    SQLITE_OK)
			stmts[i] = NULL;
	return n;
}

static void finalize_refs(sqlite3_stmt **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(stmts[i]);
}

/*
 * Is hash named by a service (an S3 object's data)? Such bytes are read
 * through that service, with its permissions: a user learns nothing of
 * them here, not even that they exist, whatever function names them (a
 * function's spec may name any hash without holding its bytes).
 */
static bool named_by_service(struct ows_core *n, const char *hash)
{
	sqlite3_stmt *stmts[16];
	size_t k = prepare_refs(n->state.db, stmts, 16);
	bool named = k > 1 && named_by(stmts + 1, k - 1, hash);

	finalize_refs(stmts, k);
	return named;
}

bool ows_blobs_named(struct ows_core *n, const char *hash)
{
	sqlite3_stmt *stmts[16];
	size_t k = prepare_refs(n->state.db, stmts, 16);
	bool named = named_by(stmts, k, hash);

	finalize_refs(stmts, k);
	return named;
}

unsigned ows_blobs_replicas(struct ows_core *n, size_t *members)
{
	json_t *nodes = ows_state_nodes(&n->state);
	json_t *set = ows_state_resource(&n->state, "settings", "cluster");
	size_t count = json_array_size(nodes);
	json_int_t r = json_integer_value(json_object_get(set,
							  "blob_replicas"));

	if (r <= 0)
		r = 3;
	if ((size_t)r > count)
		r = (json_int_t)count;
	json_decref(nodes);
	json_decref(set);
	if (members != NULL)
		*members = count;
	return r > 0 ? (unsigned)r : 1;
}

bool ows_blobs_down(const struct ows_blobs *b, uint64_t id)
{
	for (size_t i = 0; i < b->n_peers; i++)
		if (b->peers[i].id == id)
			return b->peers[i].failed >= 2;
	return false;
}

/* The edge address of member id in nodes (borrowed), or NULL. */
static const char *edge_of(json_t *nodes, uint64_t id)
{
	json_t *row;
	size_t i;

	json_array_foreach(nodes, i, row)
		if ((uint64_t)json_integer_value(json_object_get(row, "id")) ==
		    id)
			return ows_json_str(row, "edge");
	return NULL;
}

size_t ows_blobs_placed(struct ows_core *n, json_t *nodes, const char *hash,
			unsigned replicas, const struct ows_blobs *live,
			const char **peers, bool *self_holds,
			unsigned *holders)
{
	uint64_t ids[OWS_BLOBS_PEERS_MAX];
	size_t i, k = 0, np = 0;
	json_t *row;

	*self_holds = false;
	*holders = 0;
	json_array_foreach(nodes, i, row) {
		uint64_t id = (uint64_t)json_integer_value(
			json_object_get(row, "id"));

		if (k < OWS_BLOBS_PEERS_MAX &&
		    (live == NULL || id == n->cfg.id ||
		     !ows_blobs_down(live, id)))
			ids[k++] = id;
	}
	ows_blob_place(hash, ids, k);
	for (i = 0; i < k; i++) {
		const char *edge = edge_of(nodes, ids[i]);

		if (ids[i] == n->cfg.id) {
			*self_holds = i < replicas;
		} else if (edge != NULL) {
			*holders += i < replicas;
			peers[np++] = edge;
		}
	}
	return np;
}

void ows_blobs_want(unsigned replicas, size_t members, unsigned *want,
		    unsigned *need)
{
	unsigned majority = (unsigned)(members / 2 + 1);

	*want = replicas > 1 ? replicas - 1 : 0;
	*need = (majority < replicas ? majority : replicas);
	*need = *need > 1 ? *need - 1 : 0;
}

int64_t ows_blobs_grace_s(void)
{
	const char *e = getenv("OWS_BLOB_GRACE_S");
	long long v = e != NULL ? atoll(e) : 0;

	return v > 0 ? (int64_t)v : GRACE_DEFAULT_S;
}

/* ---- collection of blobs nothing names ---- */

/*
 * The scan runs on the thread pool with a read-only connection of its own
 * to the state (WAL: readers do not wait for the writer), so that naming
 * checks of a large store never hold the loop; the loop checks the few
 * victims again on the node's own connection before removing them (an
 * entry naming one may have been applied meanwhile).
 */
struct gc_work {
	uv_work_t w;
	struct ows_blobs *b;
	char db[PATH_MAX];
	sqlite3 *ro;
	sqlite3_stmt *stmts[16];
	size_t n_stmts;
	json_t *victims; /* old enough and named by none */
	int64_t grace_s;
};

static bool gc_named(void *ud, const char *hash)
{
	struct gc_work *g = ud;

	return named_by(g->stmts, g->n_stmts, hash);
}

/* Thread pool: list blobs older than the grace and named by nothing. */
static void gc_scan(uv_work_t *w)
{
	struct gc_work *g = w->data;

	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;

	if (sqlite3_open_v2(g->db, &g->ro, flags, NULL) != SQLITE_OK) {
		sqlite3_close(g->ro); /* a handle even on failure */
		g->ro = NULL;
		return;
	}
	sqlite3_busy_timeout(g->ro, 1000);
	g->n_stmts = prepare_refs(g->ro, g->stmts, 16);
	(void)ows_blob_gc_scan(&g->b->store, gc_named, g, g->grace_s,
			       g->victims);
	finalize_refs(g->stmts, g->n_stmts);
	sqlite3_close(g->ro);
}

/* Loop thread: delete what is still named by none, at this height. */
static void gc_done(uv_work_t *w, int status)
{
	struct gc_work *g = w->data;
	struct ows_core *n = g->b->core;
	json_t *v;
	size_t i;

	json_array_foreach(g->victims, i, v) {
		const char *hash = json_string_value(v);

		if (status != 0 || n->stopping || ows_blobs_named(n, hash))
			continue;
		if (ows_blob_collect(&g->b->store, hash, g->grace_s) == 0)
			ows_log(OWS_LOG_INFO, "blob", "collected %.16s..., "
				"named by nothing for %lld s", hash,
				(long long)g->grace_s);
	}
	g->b->gc_busy = false;
	json_decref(g->victims);
	free(g);
}

void ows_blobs_gc(struct ows_blobs *b)
{
	struct ows_core *n = b->core;
	int64_t now = ows_now_ms(), grace = ows_blobs_grace_s();
	int64_t every = (grace < 60 ? grace : 60) * 1000;
	struct gc_work *g;

	if (b->gc_busy || now - b->gc_at < every)
		return;
	b->gc_at = now;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return;
	g->b = b;
	g->grace_s = grace;
	snprintf(g->db, sizeof(g->db), "%s/state.db", n->dir);
	g->victims = json_array();
	g->w.data = g;
	if (g->victims == NULL ||
	    uv_queue_work(n->loop, &g->w, gc_scan, gc_done) != 0) {
		json_decref(g->victims);
		free(g);
		return;
	}
	b->gc_busy = true;
}
