/*
 * The content-addressed blob store (DESIGN.md, "Storage"): files in
 * DIR/blobs/, each named by the SHA-256 of its bytes in lowercase hex.
 * Function bundles (and, later, S3 objects) live here.
 *
 * A blob is written to a temporary file in the same directory, fsynced,
 * checked against its name and renamed into place, then the directory is
 * fsynced: a blob that exists is whole and durable. A node that lacks a
 * blob fetches it from a peer (GET /_ows/v1/blobs/HASH, signed with the
 * node's key, auth/reqsig.h); a new blob is pushed to peers (PUT) until
 * enough nodes hold it; both stream, never holding a blob in memory
 * (peer.c). Blobs nothing names are collected after a grace period: the
 * caller says which are named (gc_scan).
 *
 * The disk calls (write, writer_*, gc_scan) block: the daemon runs them on
 * libuv's thread pool. fetch and replicate run on the loop (their disk
 * work goes to the thread pool). Errors are
 * -errno: -ENOENT (no such blob), -EBADMSG (the bytes are not the blob
 * named), -ENOMEM, or the failing system call's.
 */
#ifndef OWS_BLOB_BLOB_H
#define OWS_BLOB_BLOB_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/key.h"

struct ows_blob_store {
	char dir[PATH_MAX - 80]; /* DIR/blobs */
};

/* The store of the node in node_dir (borrowed; copied). Makes no files. */
void ows_blob_store_init(struct ows_blob_store *s, const char *node_dir);

/* Is hash a blob's name: 64 lowercase hex digits? */
bool ows_blob_name_valid(const char *hash);

/* The path of blob hash into out (whether or not it exists). */
void ows_blob_path(const struct ows_blob_store *s, const char *hash, char *out,
		   size_t cap);

/* 0 and its size when blob hash is here, else -ENOENT. */
int ows_blob_size(const struct ows_blob_store *s, const char *hash,
		  uint64_t *size);

/* Renew blob hash's time (an upload about to be named: its grace). */
void ows_blob_touch(const struct ows_blob_store *s, const char *hash);

/*
 * Store data (borrowed) as the blob named hash: -EBADMSG when its SHA-256
 * is not hash (nothing stored). 0 once durable. Blocks.
 */
int ows_blob_write(const struct ows_blob_store *s, const char *hash,
		   const void *data, size_t len);

/*
 * A blob written piece by piece (an upload streamed from a socket): open,
 * write the pieces, then commit (digest checked, fsync, rename) or abort.
 * abort after commit, or twice, is harmless; every writer that opened is
 * aborted at its end. Each call blocks.
 */
struct ows_blob_writer {
	const struct ows_blob_store *s;
	char hash[65];
	char tmp[PATH_MAX];
	int fd;
	void *md;       /* EVP_MD_CTX */
	uint64_t size;  /* bytes written so far */
};

/* 0, or -EINVAL (hash is no blob name), -ENOMEM, -errno. */
int ows_blob_writer_open(struct ows_blob_writer *w,
			 const struct ows_blob_store *s, const char *hash);
/*
 * A writer whose name is not known before its bytes are (an S3 PUT: the
 * name is the SHA-256 of the body): commit names the blob by what was
 * written and leaves that name in w->hash. 0, -ENOMEM, -errno.
 */
int ows_blob_writer_open_new(struct ows_blob_writer *w,
			     const struct ows_blob_store *s);
int ows_blob_writer_write(struct ows_blob_writer *w, const void *data,
			  size_t len);
/* 0 once the blob is in place; -EBADMSG when the bytes are not hash
   (a writer opened with a name). */
int ows_blob_writer_commit(struct ows_blob_writer *w);
void ows_blob_writer_abort(struct ows_blob_writer *w);

/* A temporary file this old is a crash's leftover: the scan removes it. */
#define OWS_BLOB_TMP_STALE_S (24 * 3600)

/*
 * Collection: append to victims (a JSON array) the names of the blobs older
 * than grace_s seconds for which named(ud, hash) is false. Blocks; the
 * caller checks again on the loop before ows_blob_remove (a change set may
 * have named one meanwhile).
 */
int ows_blob_gc_scan(const struct ows_blob_store *s,
		     bool (*named)(void *ud, const char *hash), void *ud,
		     int64_t grace_s, json_t *victims);
/*
 * Collect blob hash that a scan found older than grace_s: removed (0)
 * unless it is young again, an upload of the same bytes having
 * committed or touched it since the scan (-EBUSY, kept); -errno.
 */
int ows_blob_collect(const struct ows_blob_store *s, const char *hash,
		     int64_t grace_s);
/* Remove blob hash: 0 or -errno. */
int ows_blob_remove(const struct ows_blob_store *s, const char *hash);

/*
 * The largest blob: an S3 object of one PUT or one part, 5 GiB (the S3
 * API reference, "PutObject" and "UploadPart").
 */
#define OWS_BLOB_MAX ((uint64_t)5 << 30)

/*
 * Placement (peer.c): which nodes should hold blob hash. Rendezvous
 * (highest random weight) hashing: each node id gets the weight of the
 * first 8 bytes of SHA-256("HASH:ID"), and ids (n of them, reordered in
 * place) are sorted by weight, heaviest first; the first `replicas` hold
 * the blob. Every node computes the same order from the same members, and
 * a member joining or leaving moves only the blobs whose holders it is
 * or becomes.
 */
void ows_blob_place(const char *hash, uint64_t *ids, size_t n);

/* fetch and replicate (peer.c): status 0 or < 0. */
typedef void (*ows_blob_done_cb)(void *ud, int status);

/*
 * Fetch blob hash from the first of peers (edge addresses "host:port",
 * copied) that has it, signing each GET with key (borrowed until cb),
 * and store it: the body streams to a writer (ows_blob_writer_*, each
 * piece written on libuv's thread pool with the socket paused meanwhile),
 * never whole in memory, and its SHA-256 is checked at commit. cb(ud, 0)
 * once stored, or -ENOENT when no peer had it (or none sent its bytes).
 * 0, or < 0 without calling cb.
 */
int ows_blob_fetch(const struct ows_blob_store *s, uv_loop_t *loop,
		   const struct ows_key *key, const char *const *peers,
		   size_t n_peers, const char *hash, ows_blob_done_cb cb,
		   void *ud);

/* The same at rate_bps bytes per second at most (0: unbounded). */
int ows_blob_fetch_paced(const struct ows_blob_store *s, uv_loop_t *loop,
			 const struct ows_key *key, const char *const *peers,
			 size_t n_peers, const char *hash, uint64_t rate_bps,
			 ows_blob_done_cb cb, void *ud);

/*
 * Make the local blob hash (in s) durable on want of peers (copied),
 * asked in turn: a HEAD signed by key (borrowed until cb) tells whether
 * the peer holds it already; if not, a PUT streams the file from disk
 * (pieces read on the thread pool, never the whole blob in memory),
 * signed over the blob's name (auth/reqsig.h, ows_reqsig_sign_hash).
 * cb(ud, 0) once want peers hold it, or, when the peers ran out first,
 * at least need of them (need <= want: fewer copies accepted while peers
 * are down); -EIO otherwise. want 0 calls cb(ud, 0) at once. Each PUT
 * goes at rate_bps bytes per second at most (0: unbounded). 0, or < 0
 * (-ENOENT: no such local blob) without calling cb.
 */
int ows_blob_replicate(const struct ows_blob_store *s, uv_loop_t *loop,
		       const struct ows_key *key, const char *const *peers,
		       size_t n_peers, const char *hash, unsigned want,
		       unsigned need, uint64_t rate_bps, ows_blob_done_cb cb,
		       void *ud);

#endif
