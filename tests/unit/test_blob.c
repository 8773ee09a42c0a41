/* Unit tests: the content-addressed blob store (blob/blob.h). */
#include "../lib/unit.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "auth/key.h"
#include "auth/reqsig.h"
#include "blob/blob.h"
#include "common/buf.h"
#include "common/enc.h"
#include "common/fs.h"
#include "http/http.h"

static void store_in_tmp(struct ows_blob_store *s, char dir[64])
{
	strcpy(dir, "/tmp/ows-blob-XXXXXX");
	OWS_CHECK(mkdtemp(dir) != NULL);
	ows_blob_store_init(s, dir);
}

/* Files in the store's directory (blobs and temporaries). */
static int files_in(const struct ows_blob_store *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".tmp-", 5) == 0;
	closedir(d);
	return n;
}

OWS_TEST(blob_write_names_by_sha256_and_reads_back)
{
	struct ows_blob_store s;
	struct ows_buf back = OWS_BUF_INIT;
	char dir[64], hash[65], path[PATH_MAX];
	const char *text = "hello, blobs";
	uint64_t size = 0;

	store_in_tmp(&s, dir);
	ows_sha256_hex(text, strlen(text), hash);
	OWS_CHECK(ows_blob_name_valid(hash));
	OWS_CHECK(!ows_blob_name_valid("ABC"));
	OWS_CHECK(!ows_blob_name_valid("../../etc/passwd"));
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), -ENOENT);
	OWS_CHECK_INT(ows_blob_write(&s, hash, text, strlen(text)), 0);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), 0);
	OWS_CHECK_INT(size, strlen(text));
	ows_blob_path(&s, hash, path, sizeof(path));
	OWS_CHECK_INT(ows_file_read(path, 1024, &back), 0);
	OWS_CHECK_INT(back.len, strlen(text));
	OWS_CHECK(memcmp(back.data, text, back.len) == 0);
	OWS_CHECK_INT(files_in(&s), 1); /* no temporary left */
	/* the same blob again is harmless */
	OWS_CHECK_INT(ows_blob_write(&s, hash, text, strlen(text)), 0);
	OWS_CHECK_INT(files_in(&s), 1);
	ows_buf_free(&back);
	OWS_CHECK_INT(ows_blob_remove(&s, hash), 0);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), -ENOENT);
}

OWS_TEST(blob_with_other_bytes_than_its_name_is_refused)
{
	struct ows_blob_store s;
	char dir[64], hash[65];
	uint64_t size;

	store_in_tmp(&s, dir);
	ows_sha256_hex("one", 3, hash);
	OWS_CHECK_INT(ows_blob_write(&s, hash, "two", 3), -EBADMSG);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), -ENOENT);
	OWS_CHECK_INT(files_in(&s), 0);
	OWS_CHECK_INT(ows_blob_write(&s, "not-a-name", "x", 1), -EINVAL);
}

OWS_TEST(blob_writer_streams_pieces_and_checks_the_digest)
{
	struct ows_blob_store s;
	struct ows_blob_writer w;
	char dir[64], hash[65];
	uint64_t size = 0;

	store_in_tmp(&s, dir);
	ows_sha256_hex("abcdef", 6, hash);
	OWS_CHECK_INT(ows_blob_writer_open(&w, &s, hash), 0);
	OWS_CHECK_INT(ows_blob_writer_write(&w, "abc", 3), 0);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), -ENOENT); /* not yet */
	OWS_CHECK_INT(ows_blob_writer_write(&w, "def", 3), 0);
	OWS_CHECK_INT(w.size, 6);
	OWS_CHECK_INT(ows_blob_writer_commit(&w), 0);
	ows_blob_writer_abort(&w); /* after commit: keeps the blob */
	ows_blob_writer_abort(&w);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), 0);
	OWS_CHECK_INT(size, 6);

	/* a short upload: refused, and its temporary removed by abort */
	OWS_CHECK_INT(ows_blob_remove(&s, hash), 0);
	OWS_CHECK_INT(ows_blob_writer_open(&w, &s, hash), 0);
	OWS_CHECK_INT(ows_blob_writer_write(&w, "abc", 3), 0);
	OWS_CHECK_INT(files_in(&s), 1);
	OWS_CHECK_INT(ows_blob_writer_commit(&w), -EBADMSG);
	ows_blob_writer_abort(&w);
	OWS_CHECK_INT(files_in(&s), 0);
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), -ENOENT);
}

static bool named_a(void *ud, const char *hash)
{
	return strcmp(hash, ud) == 0;
}

static void age(const struct ows_blob_store *s, const char *hash, time_t secs)
{
	char path[PATH_MAX];
	struct utimbuf t = {time(NULL) - secs, time(NULL) - secs};

	ows_blob_path(s, hash, path, sizeof(path));
	OWS_CHECK_INT(utime(path, &t), 0);
}

OWS_TEST(blob_gc_scan_lists_old_unnamed_blobs_only)
{
	struct ows_blob_store s;
	char dir[64], a[65], b[65], c[65], junk[PATH_MAX];
	json_t *victims = json_array();

	store_in_tmp(&s, dir);
	ows_sha256_hex("a", 1, a);
	ows_sha256_hex("b", 1, b);
	ows_sha256_hex("c", 1, c);
	OWS_CHECK_INT(ows_blob_write(&s, a, "a", 1), 0);
	OWS_CHECK_INT(ows_blob_write(&s, b, "b", 1), 0);
	OWS_CHECK_INT(ows_blob_write(&s, c, "c", 1), 0);
	age(&s, a, 7200); /* old, but named */
	age(&s, b, 7200); /* old and unnamed: the only victim */
	ows_blob_touch(&s, c); /* young */
	snprintf(junk, sizeof(junk), "%s/README", s.dir);
	OWS_CHECK_INT(ows_file_write(junk, "x", 1, 0600), 0);
	OWS_CHECK_INT(ows_blob_gc_scan(&s, named_a, a, 3600, victims), 0);
	OWS_CHECK_INT(json_array_size(victims), 1);
	OWS_CHECK_STR(json_string_value(json_array_get(victims, 0)), b);

	/* temporary files a crash left a day ago go; a live one stays */
	{
		char old[PATH_MAX], live[PATH_MAX];
		struct utimbuf t = {time(NULL) - 2 * 86400,
				    time(NULL) - 2 * 86400};

		snprintf(old, sizeof(old), "%s/.tmp-crashed", s.dir);
		snprintf(live, sizeof(live), "%s/.tmp-writing", s.dir);
		OWS_CHECK_INT(ows_file_write(old, "x", 1, 0600), 0);
		OWS_CHECK_INT(ows_file_write(live, "x", 1, 0600), 0);
		OWS_CHECK_INT(utime(old, &t), 0);
		json_array_clear(victims);
		OWS_CHECK_INT(ows_blob_gc_scan(&s, named_a, a, 3600, victims),
			      0);
		OWS_CHECK(access(old, F_OK) != 0);
		OWS_CHECK_INT(access(live, F_OK), 0);
	}
	json_decref(victims);

	/* a store never written to has nothing to collect */
	ows_blob_store_init(&s, "/nonexistent-ows-node");
	victims = json_array();
	OWS_CHECK_INT(ows_blob_gc_scan(&s, named_a, a, 0, victims), 0);
	OWS_CHECK_INT(json_array_size(victims), 0);
	json_decref(victims);
}

OWS_TEST(blob_collect_keeps_a_blob_uploaded_again_since_the_scan)
{
	struct ows_blob_store s;
	char dir[64], b[65];
	json_t *victims = json_array();
	struct dirent *e;
	uint64_t size;
	DIR *d;

	store_in_tmp(&s, dir);
	ows_sha256_hex("b", 1, b);
	OWS_CHECK_INT(ows_blob_write(&s, b, "b", 1), 0);
	age(&s, b, 7200);
	OWS_CHECK_INT(ows_blob_gc_scan(&s, named_a, "none", 3600, victims),
		      0);
	OWS_CHECK_INT(json_array_size(victims), 1);
	/* between the scan and the removal, a PUT of the same bytes commits
	   (its entry will name the blob): the blob stays */
	OWS_CHECK_INT(ows_blob_write(&s, b, "b", 1), 0);
	OWS_CHECK_INT(ows_blob_collect(&s, b, 3600), -EBUSY);
	OWS_CHECK_INT(ows_blob_size(&s, b, &size), 0);
	OWS_CHECK_INT((int)size, 1);
	/* old again and named by nothing: collected, nothing left aside */
	age(&s, b, 7200);
	OWS_CHECK_INT(ows_blob_collect(&s, b, 3600), 0);
	OWS_CHECK(ows_blob_size(&s, b, &size) != 0);
	OWS_CHECK_INT(ows_blob_collect(&s, b, 3600), -ENOENT);
	d = opendir(s.dir);
	OWS_CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		OWS_CHECK(e->d_name[0] == '.' && strncmp(e->d_name, ".tmp", 4)
			  != 0);
	closedir(d);
	json_decref(victims);
}

static int done_status = 1;

static void done_cb(void *ud, int status)
{
	(void)ud;
	done_status = status;
}

OWS_TEST(blob_replicate_to_none_or_without_peers)
{
	struct ows_blob_store s;
	char hash[65], dir[64];
	uv_loop_t loop;

	store_in_tmp(&s, dir);
	ows_sha256_hex("x", 1, hash);
	OWS_CHECK_INT(uv_loop_init(&loop), 0);
	/* no local copy: nothing to push */
	OWS_CHECK_INT(ows_blob_replicate(&s, &loop, NULL, NULL, 0, hash, 0, 0,
					 0, done_cb, NULL), -ENOENT);
	OWS_CHECK_INT(ows_blob_write(&s, hash, "x", 1), 0);
	/* no copy wanted elsewhere: done at once */
	OWS_CHECK_INT(ows_blob_replicate(&s, &loop, NULL, NULL, 0, hash, 0, 0,
					 0, done_cb, NULL), 0);
	OWS_CHECK_INT(done_status, 0);
	/* copies wanted but no peer: -EIO */
	done_status = 1;
	OWS_CHECK_INT(ows_blob_replicate(&s, &loop, NULL, NULL, 0, hash, 2, 2,
					 0, done_cb, NULL), 0);
	OWS_CHECK_INT(done_status, -EIO);
	/* ... unless fewer are enough (members down) */
	done_status = 1;
	OWS_CHECK_INT(ows_blob_replicate(&s, &loop, NULL, NULL, 0, hash, 2, 0,
					 0, done_cb, NULL), 0);
	OWS_CHECK_INT(done_status, 0);
	OWS_CHECK_INT(ows_blob_replicate(&s, &loop, NULL, NULL, 0, "bad", 0, 0,
					 0, done_cb, NULL), -ENOENT);
	uv_run(&loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&loop), 0);
}

OWS_TEST(blob_writer_named_by_its_bytes_at_commit)
{
	struct ows_blob_store s;
	struct ows_blob_writer w;
	char dir[64], hash[65];
	uint64_t size = 0;

	store_in_tmp(&s, dir);
	OWS_CHECK_INT(ows_blob_writer_open_new(&w, &s), 0);
	OWS_CHECK_INT(ows_blob_writer_write(&w, "hello, ", 7), 0);
	OWS_CHECK_INT(ows_blob_writer_write(&w, "world", 5), 0);
	OWS_CHECK_INT(ows_blob_writer_commit(&w), 0);
	ows_sha256_hex("hello, world", 12, hash);
	OWS_CHECK_STR(w.hash, hash);
	ows_blob_writer_abort(&w); /* after commit: harmless */
	OWS_CHECK_INT(ows_blob_size(&s, hash, &size), 0);
	OWS_CHECK_INT(size, 12);
	OWS_CHECK_INT(files_in(&s), 1);
	/* an aborted one leaves nothing */
	OWS_CHECK_INT(ows_blob_writer_open_new(&w, &s), 0);
	OWS_CHECK_INT(ows_blob_writer_write(&w, "x", 1), 0);
	ows_blob_writer_abort(&w);
	OWS_CHECK_INT(files_in(&s), 1);
}

/* ---- placement ---- */

static bool in_first(const uint64_t *ids, size_t r, uint64_t id)
{
	for (size_t i = 0; i < r; i++)
		if (ids[i] == id)
			return true;
	return false;
}

OWS_TEST(blob_place_is_deterministic_and_moves_little)
{
	unsigned first[6] = {0};
	unsigned moved = 0;

	for (int b = 0; b < 3000; b++) {
		uint64_t a[5] = {1, 2, 3, 4, 5}, c[5] = {5, 3, 1, 4, 2};
		uint64_t d[4] = {1, 2, 4, 5}; /* 3 removed */
		char hash[65], in[16];

		snprintf(in, sizeof(in), "%d", b);
		ows_sha256_hex(in, strlen(in), hash);
		ows_blob_place(hash, a, 5);
		ows_blob_place(hash, c, 5);
		/* the order does not depend on the members' order */
		OWS_CHECK(memcmp(a, c, sizeof(a)) == 0);
		first[a[0]]++;
		ows_blob_place(hash, d, 4);
		/* removing 3 moves only the blobs 3 held (r = 2) */
		if (!in_first(a, 2, 3)) {
			OWS_CHECK(d[0] == a[0] && d[1] == a[1]);
		} else {
			moved++;
			OWS_CHECK(in_first(d, 2, a[0] == 3 ? a[1] : a[0]));
		}
	}
	/* spread: each of 5 nodes heads about a fifth of 3000 blobs */
	for (int i = 1; i <= 5; i++)
		OWS_CHECK(first[i] > 450 && first[i] < 750);
	OWS_CHECK(moved > 900 && moved < 1500); /* about 2/5 */
}

/* ---- streaming between nodes, against the module's own server ---- */

/*
 * A peer: GET /_ows/v1/blobs/H serves `serve` (serve_len bytes) in pieces;
 * HEAD says 404; PUT streams the body into the peer's own store, as
 * daemon/blobs.c does (writer, digest checked at commit).
 */
struct peer {
	uv_loop_t loop;
	struct ows_http_server srv;
	struct ows_blob_store store;
	char dir[64];
	const char *serve;
	size_t serve_len, served;
	struct ows_blob_writer w;
	int put_status;
	uint64_t put_bytes;
	size_t max_piece;        /* the largest piece a client sink got */
};

static void peer_closed(struct ows_http_server *s)
{
	(void)s;
}

static void peer_chunk_cb(struct ows_http_req *req, int status,
			  const char *data, size_t len, bool last)
{
	struct peer *p = req->data;

	if (status != 0) {
		ows_blob_writer_abort(&p->w);
		p->put_status = status;
		return;
	}
	OWS_CHECK_INT(ows_blob_writer_write(&p->w, data, len), 0);
	p->put_bytes += len;
	if (!last)
		return;
	p->put_status = ows_blob_writer_commit(&p->w);
	ows_blob_writer_abort(&p->w);
	ows_http_respond(req, p->put_status == 0 ? 200 : 400, NULL, 0, "{}",
			 2);
}

static void peer_written(void *ud, int status);

static void peer_serve_next(struct ows_http_req *req)
{
	struct peer *p = req->data;
	size_t n = p->serve_len - p->served;

	if (n == 0) {
		ows_http_respond_end(req);
		return;
	}
	n = n > 100000 ? 100000 : n;
	p->served += n;
	if (ows_http_respond_write(req, p->serve + p->served - n, n,
				   peer_written, req) != 0)
		ows_http_respond_end(req);
}

static void peer_written(void *ud, int status)
{
	if (status == 0)
		peer_serve_next(ud);
	else
		ows_http_respond_end(ud);
}

static void peer_handler(struct ows_http_req *req, void *ud)
{
	struct peer *p = ud;
	const char *hash = req->path + strlen("/_ows/v1/blobs/");

	req->data = p;
	if (strcmp(req->method, "HEAD") == 0) {
		ows_http_respond(req, 404, NULL, 0, NULL, 0);
	} else if (strcmp(req->method, "PUT") == 0) {
		OWS_CHECK_INT(ows_blob_writer_open(&p->w, &p->store, hash), 0);
		OWS_CHECK_INT(ows_http_req_stream_body(req, OWS_BLOB_MAX,
						       peer_chunk_cb), 0);
	} else {
		p->served = 0;
		ows_http_respond_start(req, 200, NULL, 0,
				       (int64_t)p->serve_len);
		peer_serve_next(req);
	}
}

static void peer_start(struct peer *p)
{
	struct ows_http_server_config cfg;

	memset(p, 0, sizeof(*p));
	OWS_CHECK_INT(uv_loop_init(&p->loop), 0);
	store_in_tmp(&p->store, p->dir);
	ows_http_server_config_default(&cfg);
	OWS_CHECK_INT(ows_http_server_init(&p->srv, &p->loop, &cfg,
					   peer_handler, p), 0);
	OWS_CHECK_INT(ows_http_server_listen(&p->srv, "127.0.0.1:0"), 0);
}

static void peer_end(struct peer *p)
{
	ows_http_server_close(&p->srv, peer_closed);
	ows_http_client_close_idle(&p->loop);
	uv_run(&p->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&p->loop), 0);
}

static void run_until_done(uv_loop_t *loop)
{
	while (done_status == 1)
		OWS_CHECK(uv_run(loop, UV_RUN_ONCE) != 0 || done_status != 1);
}

/* 9 MiB + 17 of a pattern, and its name. */
static char *pattern(size_t *len, char hash[65])
{
	char *d;

	*len = 9 * 1024 * 1024 + 17;
	d = malloc(*len);
	OWS_CHECK(d != NULL);
	for (size_t i = 0; i < *len; i++)
		d[i] = (char)(i * 131 + i / 4093);
	ows_sha256_hex(d, *len, hash);
	return d;
}

OWS_TEST(blob_fetch_streams_to_disk_and_refuses_wrong_bytes)
{
	struct ows_blob_store s;
	struct ows_key *key;
	struct peer p;
	char hash[65], dir[64], other[65];
	const char *peers[1];
	size_t len;
	char *data = pattern(&len, hash);
	struct ows_buf got = OWS_BUF_INIT;
	char path[PATH_MAX];

	OWS_CHECK_INT(ows_key_generate(&key), 0);
	peer_start(&p);
	peers[0] = p.srv.bound;
	store_in_tmp(&s, dir);
	p.serve = data;
	p.serve_len = len;
	done_status = 1;
	OWS_CHECK_INT(ows_blob_fetch(&s, &p.loop, key, peers, 1, hash,
				     done_cb, NULL), 0);
	run_until_done(&p.loop);
	OWS_CHECK_INT(done_status, 0);
	ows_blob_path(&s, hash, path, sizeof(path));
	OWS_CHECK_INT(ows_file_read(path, SIZE_MAX, &got), 0);
	OWS_CHECK(got.len == len && memcmp(got.data, data, len) == 0);
	ows_buf_free(&got);
	/* a peer sending other bytes than the name: nothing kept */
	ows_sha256_hex("not these", 9, other);
	done_status = 1;
	OWS_CHECK_INT(ows_blob_fetch(&s, &p.loop, key, peers, 1, other,
				     done_cb, NULL), 0);
	run_until_done(&p.loop);
	OWS_CHECK_INT(done_status, -ENOENT);
	OWS_CHECK_INT(files_in(&s), 1);
	peer_end(&p);
	ows_key_free(key);
	free(data);
}

OWS_TEST(blob_replicate_streams_the_file_to_a_peer)
{
	struct ows_blob_store s;
	struct ows_key *key;
	struct peer p;
	char hash[65], dir[64];
	const char *peers[2];
	size_t len;
	char *data = pattern(&len, hash);
	uint64_t size;

	OWS_CHECK_INT(ows_key_generate(&key), 0);
	peer_start(&p);
	store_in_tmp(&s, dir);
	OWS_CHECK_INT(ows_blob_write(&s, hash, data, len), 0);
	/* the first peer refuses connections; the second takes it */
	peers[0] = "127.0.0.1:1";
	peers[1] = p.srv.bound;
	done_status = 1;
	OWS_CHECK_INT(ows_blob_replicate(&s, &p.loop, key, peers, 2, hash, 1,
					 1, 0, done_cb, NULL), 0);
	run_until_done(&p.loop);
	OWS_CHECK_INT(done_status, 0);
	OWS_CHECK_INT(p.put_status, 0);
	OWS_CHECK(p.put_bytes == len);
	OWS_CHECK_INT(ows_blob_size(&p.store, hash, &size), 0);
	OWS_CHECK(size == len);
	peer_end(&p);
	ows_key_free(key);
	free(data);
}

/* A sink that takes its time: each piece is done on the next loop turn. */
struct slow_sink {
	uv_timer_t t;
	void *token;
	size_t total, max_piece;
	int status, code;
	bool done;
};

static void slow_timer_cb(uv_timer_t *t)
{
	struct slow_sink *k = t->data;

	ows_http_client_sink_done(k->token, 0);
}

static void slow_sink(void *ud, const char *data, size_t len, void *token)
{
	struct slow_sink *k = ud;

	(void)data;
	k->total += len;
	if (len > k->max_piece)
		k->max_piece = len;
	k->token = token;
	uv_timer_start(&k->t, slow_timer_cb, 1, 0);
}

static void slow_done_cb(void *ud, int status,
			 const struct ows_http_response *r)
{
	struct slow_sink *k = ud;

	k->status = status;
	k->code = r != NULL ? r->status : 0;
	OWS_CHECK(r == NULL || r->body_len == 0); /* all went to the sink */
	k->done = true;
}

OWS_TEST(http_client_stream_sink_takes_bounded_pieces)
{
	struct ows_http_client_body body = {.sink = slow_sink};
	struct slow_sink k = {0};
	struct peer p;
	char hash[65];
	size_t len;
	char *data = pattern(&len, hash);

	peer_start(&p);
	p.serve = data;
	p.serve_len = len;
	OWS_CHECK_INT(uv_timer_init(&p.loop, &k.t), 0);
	k.t.data = &k;
	body.sink_ud = &k;
	OWS_CHECK_INT(ows_http_client_stream(&p.loop, p.srv.bound, "GET",
					     "/_ows/v1/blobs/x", NULL, 0, &body,
					     NULL, slow_done_cb, &k), 0);
	while (!k.done)
		OWS_CHECK(uv_run(&p.loop, UV_RUN_ONCE) != 0 || k.done);
	OWS_CHECK_INT(k.status, 0);
	OWS_CHECK_INT(k.code, 200);
	OWS_CHECK(k.total == len);
	/* never more than a piece (1 MiB) and one read (64 KiB) at once */
	OWS_CHECK(k.max_piece <= 1024 * 1024 + 64 * 1024);
	uv_close((uv_handle_t *)&k.t, NULL);
	peer_end(&p);
	free(data);
}

/* A server that answers a PUT at once, without reading its body. */
static void early_handler(struct ows_http_req *req, void *ud)
{
	(void)ud;
	ows_http_respond(req, 403, NULL, 0, "{\"code\":\"AccessDenied\"}", 23);
}

struct early {
	int status, code;
	bool done;
};

static void early_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct early *e = ud;

	e->status = status;
	e->code = r != NULL ? r->status : 0;
	e->done = true;
}

OWS_TEST(http_client_stream_file_body_answered_early)
{
	struct ows_http_server_config cfg;
	struct ows_http_server srv;
	struct ows_blob_store s;
	struct ows_http_client_body body = {0};
	struct early e = {0};
	char hash[65], dir[64], path[PATH_MAX];
	uv_loop_t loop;
	size_t len;
	char *data = pattern(&len, hash);

	store_in_tmp(&s, dir);
	OWS_CHECK_INT(ows_blob_write(&s, hash, data, len), 0);
	ows_blob_path(&s, hash, path, sizeof(path));
	OWS_CHECK_INT(uv_loop_init(&loop), 0);
	ows_http_server_config_default(&cfg);
	OWS_CHECK_INT(ows_http_server_init(&srv, &loop, &cfg, early_handler,
					   NULL), 0);
	OWS_CHECK_INT(ows_http_server_listen(&srv, "127.0.0.1:0"), 0);
	/* refused before the body: the answer, or the connection's end */
	body.body_path = path;
	body.body_len = len;
	OWS_CHECK_INT(ows_http_client_stream(&loop, srv.bound, "PUT", "/x",
					     NULL, 0, &body, NULL, early_cb,
					     &e), 0);
	while (!e.done)
		OWS_CHECK(uv_run(&loop, UV_RUN_ONCE) != 0 || e.done);
	OWS_CHECK(e.status != 0 || e.code == 403);
	/* no such file: refused at once, cb never called */
	body.body_path = "/nonexistent-ows-file";
	OWS_CHECK_INT(ows_http_client_stream(&loop, srv.bound, "PUT", "/x",
					     NULL, 0, &body, NULL, early_cb,
					     &e), -ENOENT);
	ows_http_server_close(&srv, peer_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&loop), 0);
	free(data);
}

OWS_TEST(blob_put_signature_covers_the_name)
{
	struct ows_key *key;
	char hash[65], other[65], auth[OWS_REQSIG_HEADER_MAX];
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};
	int64_t now = 1700000000;

	OWS_CHECK_INT(ows_key_generate(&key), 0);
	ows_sha256_hex("blob bytes", 10, hash);
	ows_sha256_hex("other bytes", 11, other);
	OWS_CHECK_INT(ows_reqsig_sign_hash(key, "PUT", "/_ows/v1/blobs/h",
					   hash, now, auth), 0);
	/* what the receiver checks before the body: the name as its hash */
	OWS_CHECK_INT(ows_reqsig_verify_hash(auth, "PUT", "/_ows/v1/blobs/h",
					     hash, now, pub, &err), 0);
	/* the same as signing the bytes themselves */
	OWS_CHECK_INT(ows_reqsig_verify(auth, "PUT", "/_ows/v1/blobs/h",
					"blob bytes", 10, now, pub, &err), 0);
	OWS_CHECK(ows_reqsig_verify_hash(auth, "PUT", "/_ows/v1/blobs/h",
					 other, now, pub, &err) != 0);
	ows_key_free(key);
}

OWS_TEST(http_client_stream_file_shorter_than_said_fails)
{
	struct ows_http_client_body body = {0};
	struct ows_blob_store s;
	struct early e = {0};
	struct peer p;
	char hash[65], dir[64], path[PATH_MAX], target[128];
	size_t len;
	char *data = pattern(&len, hash);

	store_in_tmp(&s, dir);
	OWS_CHECK_INT(ows_blob_write(&s, hash, data, len), 0);
	ows_blob_path(&s, hash, path, sizeof(path));
	peer_start(&p);
	body.body_path = path;
	body.body_len = len + 1000;
	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", hash);
	OWS_CHECK_INT(ows_http_client_stream(&p.loop, p.srv.bound, "PUT",
					     target, NULL, 0, &body, NULL,
					     early_cb, &e), 0);
	while (!e.done)
		OWS_CHECK(uv_run(&p.loop, UV_RUN_ONCE) != 0 || e.done);
	OWS_CHECK_INT(e.status, -EIO);
	/* the peer kept nothing of it */
	OWS_CHECK_INT(ows_blob_size(&p.store, hash, &(uint64_t){0}), -ENOENT);
	peer_end(&p);
	free(data);
}

/*
 * The repair's pace: a body moves at rate_bps at most. The bound is a
 * floor the pacing guarantees (each piece waits for its time), not a
 * speed the machine must reach.
 */
OWS_TEST(blob_paced_fetch_and_push_keep_their_rate)
{
	struct ows_blob_store s;
	struct ows_key *key;
	struct peer p;
	char hash[65], dir[64];
	const char *peers[1];
	size_t len;
	char *data = pattern(&len, hash);
	uint64_t rate = 4 << 20, t0, floor_ms;

	/* the last piece (1 MiB and a read, or 256 KiB) waits for nothing */
	floor_ms = (len - (1088 << 10)) * 1000 / rate;
	OWS_CHECK_INT(ows_key_generate(&key), 0);
	peer_start(&p);
	peers[0] = p.srv.bound;
	store_in_tmp(&s, dir);
	p.serve = data;
	p.serve_len = len;
	done_status = 1;
	uv_update_time(&p.loop);
	t0 = uv_now(&p.loop);
	OWS_CHECK_INT(ows_blob_fetch_paced(&s, &p.loop, key, peers, 1, hash,
					   rate, done_cb, NULL), 0);
	run_until_done(&p.loop);
	OWS_CHECK_INT(done_status, 0);
	uv_update_time(&p.loop);
	OWS_CHECK(uv_now(&p.loop) - t0 >= floor_ms);
	/* and back: pushed to the peer's store at the same pace */
	done_status = 1;
	t0 = uv_now(&p.loop);
	OWS_CHECK_INT(ows_blob_replicate(&s, &p.loop, key, peers, 1, hash, 1,
					 1, rate, done_cb, NULL), 0);
	run_until_done(&p.loop);
	OWS_CHECK_INT(done_status, 0);
	OWS_CHECK_INT(p.put_status, 0);
	uv_update_time(&p.loop);
	OWS_CHECK(uv_now(&p.loop) - t0 >= floor_ms);
	peer_end(&p);
	ows_key_free(key);
	free(data);
}
