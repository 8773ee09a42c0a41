/* The content-addressed blob store; see blob.h. */
#include "blob/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <openssl/evp.h>

#include "auth/reqsig.h"
#include "common/enc.h"
#include "common/fs.h"
#include "http/http.h"

#define FETCH_TIMEOUT_MS 30000
#define FETCH_MAX_BODY ((size_t)64 * 1024 * 1024)
#define PUSH_TIMEOUT_MS 30000

void ows_blob_store_init(struct ows_blob_store *s, const char *node_dir)
{
	snprintf(s->dir, sizeof(s->dir), "%s/blobs", node_dir);
}

bool ows_blob_name_valid(const char *hash)
{
	return hash != NULL && strlen(hash) == 64 &&
	       strspn(hash, "0123456789abcdef") == 64;
}

void ows_blob_path(const struct ows_blob_store *s, const char *hash, char *out,
		   size_t cap)
{
	snprintf(out, cap, "%s/%s", s->dir, hash);
}

int ows_blob_size(const struct ows_blob_store *s, const char *hash,
		  uint64_t *size)
{
	char path[PATH_MAX];
	struct stat st;

	if (!ows_blob_name_valid(hash))
		return -ENOENT;
	ows_blob_path(s, hash, path, sizeof(path));
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	*size = (uint64_t)st.st_size;
	return 0;
}

void ows_blob_touch(const struct ows_blob_store *s, const char *hash)
{
	char path[PATH_MAX];

	if (!ows_blob_name_valid(hash))
		return;
	ows_blob_path(s, hash, path, sizeof(path));
	(void)utime(path, NULL);
}

/* ---- writing: temporary file, fsync, digest check, rename ---- */

static int writer_open(struct ows_blob_writer *w,
		       const struct ows_blob_store *s, const char *hash)
{
	char suffix[17];
	int rv;

	*w = (struct ows_blob_writer){.s = s, .fd = -1};
	if (hash != NULL && !ows_blob_name_valid(hash))
		return -EINVAL;
	if (hash != NULL)
		memcpy(w->hash, hash, 65);
	rv = ows_mkdir_p(s->dir, 0700);
	if (rv != 0)
		return rv;
	if (ows_random_hex(8, suffix) != 0)
		return -EIO;
	snprintf(w->tmp, sizeof(w->tmp), "%s/.tmp-%s", s->dir, suffix);
	w->md = EVP_MD_CTX_new();
	if (w->md == NULL ||
	    EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
		ows_blob_writer_abort(w);
		return -ENOMEM;
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rv = -errno;
		w->tmp[0] = '\0';
		ows_blob_writer_abort(w);
		return rv;
	}
	return 0;
}

int ows_blob_writer_open(struct ows_blob_writer *w,
			 const struct ows_blob_store *s, const char *hash)
{
	return writer_open(w, s, hash);
}

int ows_blob_writer_open_new(struct ows_blob_writer *w,
			     const struct ows_blob_store *s)
{
	return writer_open(w, s, NULL);
}

int ows_blob_writer_write(struct ows_blob_writer *w, const void *data,
			  size_t len)
{
	const char *p = data;
	size_t off = 0;

	if (w->fd < 0)
		return -EBADF;
	EVP_DigestUpdate(w->md, data, len);
	while (off < len) {
		ssize_t k = write(w->fd, p + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		off += (size_t)k;
	}
	w->size += len;
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int ows_blob_writer_commit(struct ows_blob_writer *w)
{
	unsigned char md[32];
	char hex[65], path[PATH_MAX];
	int rv;

	if (w->fd < 0)
		return -EBADF;
	if (EVP_DigestFinal_ex(w->md, md, NULL) != 1)
		return -ENOMEM;
	ows_hex_encode(md, 32, hex);
	if (w->hash[0] == '\0')
		memcpy(w->hash, hex, 65); /* named by its bytes */
	else if (strcmp(hex, w->hash) != 0)
		return -EBADMSG;
	if (fsync(w->fd) != 0)
		return -errno;
	rv = close(w->fd);
	w->fd = -1;
	if (rv != 0)
		return -errno;
	ows_blob_path(w->s, w->hash, path, sizeof(path));
	if (rename(w->tmp, path) != 0)
		return -errno;
	w->tmp[0] = '\0'; /* nothing left to remove */
	fsync_dir(w->s->dir);
	return 0;
}

void ows_blob_writer_abort(struct ows_blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0] != '\0')
		(void)unlink(w->tmp);
	w->tmp[0] = '\0';
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
}

int ows_blob_write(const struct ows_blob_store *s, const char *hash,
		   const void *data, size_t len)
{
	struct ows_blob_writer w;
	int rv = ows_blob_writer_open(&w, s, hash);

	if (rv == 0)
		rv = ows_blob_writer_write(&w, data, len);
	if (rv == 0)
		rv = ows_blob_writer_commit(&w);
	ows_blob_writer_abort(&w);
	return rv;
}

/* ---- collection ---- */

int ows_blob_gc_scan(const struct ows_blob_store *s,
		     bool (*named)(void *ud, const char *hash), void *ud,
		     int64_t grace_s, json_t *victims)
{
	char path[PATH_MAX + 80];
	time_t now = time(NULL);
	struct dirent *d;
	struct stat st;
	DIR *dir = opendir(s->dir);

	if (dir == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dir)) != NULL) {
		if (!ows_blob_name_valid(d->d_name) || named(ud, d->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->dir, d->d_name);
		if (stat(path, &st) == 0 && now - st.st_mtime >= grace_s &&
		    json_array_append_new(victims, json_string(d->d_name)) != 0) {
			closedir(dir);
			return -ENOMEM;
		}
	}
	closedir(dir);
	return 0;
}

int ows_blob_remove(const struct ows_blob_store *s, const char *hash)
{
	char path[PATH_MAX];

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	ows_blob_path(s, hash, path, sizeof(path));
	return unlink(path) == 0 ? 0 : -errno;
}

/* ---- peers: fetch and replicate ---- */

/* Peers' edge addresses, copied. */
static char **peers_copy(const char *const *peers, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(peers[i]);
		if (out[i] == NULL) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void peers_free(char **peers)
{
	for (size_t i = 0; peers != NULL && peers[i] != NULL; i++)
		free(peers[i]);
	free(peers);
}

struct fetch {
	const struct ows_blob_store *s;
	uv_loop_t *loop;
	const struct ows_key *key;
	char **peers;
	size_t next;
	char hash[65];
	ows_blob_done_cb cb;
	void *ud;
};

static void fetch_end(struct fetch *f, int status)
{
	f->cb(f->ud, status);
	peers_free(f->peers);
	free(f);
}

static int fetch_next(struct fetch *f);

static void fetch_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct fetch *f = ud;

	/*
	 * Written on the loop thread: bundles are at most 50 MB and this
	 * happens once per node; the thread pool would need a copy of the
	 * body, which the client lends.
	 */
	if (status == 0 && r->status == 200 &&
	    ows_blob_write(f->s, f->hash, r->body, r->body_len) == 0) {
		fetch_end(f, 0);
		return;
	}
	if (fetch_next(f) != 0)
		fetch_end(f, -ENOENT);
}

/* Ask the next peer: 0 when a request is out, else -ENOENT. */
static int fetch_next(struct fetch *f)
{
	struct ows_http_client_opts opts = {FETCH_TIMEOUT_MS, FETCH_MAX_BODY};
	char target[128], auth[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h = {"Authorization", auth};

	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", f->hash);
	while (f->peers[f->next] != NULL) {
		const char *addr = f->peers[f->next++];

		if (ows_reqsig_sign(f->key, "GET", target, NULL, 0,
				    (int64_t)time(NULL), auth) != 0)
			continue;
		if (ows_http_client_request(f->loop, addr, "GET", target, &h, 1,
					    NULL, 0, &opts, fetch_cb, f) == 0)
			return 0;
	}
	return -ENOENT;
}

int ows_blob_fetch(const struct ows_blob_store *s, uv_loop_t *loop,
		   const struct ows_key *key, const char *const *peers,
		   size_t n_peers, const char *hash, ows_blob_done_cb cb,
		   void *ud)
{
	struct fetch *f;
	int rv;

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->peers = peers_copy(peers, n_peers)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->s = s;
	f->loop = loop;
	f->key = key;
	memcpy(f->hash, hash, 65);
	f->cb = cb;
	f->ud = ud;
	rv = fetch_next(f);
	if (rv != 0) {
		peers_free(f->peers);
		free(f);
	}
	return rv;
}

struct push {
	uv_loop_t *loop;
	const struct ows_key *key;
	char **peers;
	size_t next;
	char hash[65];
	const void *data;
	size_t len;
	unsigned want, have;
	ows_blob_done_cb cb;
	void *ud;
};

static int push_next(struct push *p);

static void push_end(struct push *p)
{
	p->cb(p->ud, p->have >= p->want ? 0 : -EIO);
	peers_free(p->peers);
	free(p);
}

static void pushed_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct push *p = ud;

	if (status == 0 && r->status / 100 == 2)
		p->have++;
	if (push_next(p) != 0)
		push_end(p);
}

/* The next PUT: 0 when one is out, else -1 (done or out of peers). */
static int push_next(struct push *p)
{
	struct ows_http_client_opts opts = {PUSH_TIMEOUT_MS, 0};
	char target[128], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h = {"Authorization", sig};

	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", p->hash);
	while (p->have < p->want && p->peers[p->next] != NULL) {
		const char *addr = p->peers[p->next++];

		if (ows_reqsig_sign(p->key, "PUT", target, p->data, p->len,
				    (int64_t)time(NULL), sig) != 0)
			continue;
		if (ows_http_client_request(p->loop, addr, "PUT", target, &h, 1,
					    p->data, p->len, &opts, pushed_cb,
					    p) == 0)
			return 0;
	}
	return -1;
}

int ows_blob_replicate(uv_loop_t *loop, const struct ows_key *key,
		       const char *const *peers, size_t n_peers,
		       const char *hash, const void *data, size_t len,
		       unsigned want, ows_blob_done_cb cb, void *ud)
{
	struct push *p;

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->peers = peers_copy(peers, n_peers)) == NULL) {
		free(p);
		return -ENOMEM;
	}
	*p = (struct push){loop, key, p->peers, 0, "", data, len, want, 0, cb,
			   ud};
	memcpy(p->hash, hash, 65);
	if (push_next(p) != 0)
		push_end(p); /* want reached (0) or no peer to ask */
	return 0;
}
