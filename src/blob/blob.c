/* The content-addressed blob store on disk; see blob.h (peers: peer.c). */
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

#include "common/enc.h"
#include "common/fs.h"

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
		if (strncmp(d->d_name, ".tmp-", 5) == 0) {
			/* left by a crash mid-write (an upload, a collection):
			   no live writer leaves its file untouched for a day,
			   the body timeout cuts stalled uploads long before */
			snprintf(path, sizeof(path), "%s/%s", s->dir, d->d_name);
			if (stat(path, &st) == 0 &&
			    now - st.st_mtime >= OWS_BLOB_TMP_STALE_S)
				(void)unlink(path);
			continue;
		}
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

int ows_blob_collect(const struct ows_blob_store *s, const char *hash,
		     int64_t grace_s)
{
	char path[PATH_MAX], aside[PATH_MAX], suffix[17];
	struct stat st;

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	if (ows_random_hex(8, suffix) != 0)
		return -EIO;
	ows_blob_path(s, hash, path, sizeof(path));
	snprintf(aside, sizeof(aside), "%s/.tmp-gc-%s", s->dir, suffix);
	/*
	 * The scan saw the blob old, but an upload of the same bytes may
	 * have committed since (its rename leaves a young file at the same
	 * name, which an entry is about to name). Set aside atomically,
	 * whatever is there is judged by its own age: a young one goes
	 * back (a copy committed meanwhile has the same bytes).
	 */
	if (rename(path, aside) != 0)
		return -errno;
	if (stat(aside, &st) == 0 && time(NULL) - st.st_mtime < grace_s) {
		if (rename(aside, path) != 0) {
			int rv = -errno;

			(void)unlink(aside);
			return rv;
		}
		return -EBUSY;
	}
	return unlink(aside) == 0 ? 0 : -errno;
}

int ows_blob_remove(const struct ows_blob_store *s, const char *hash)
{
	char path[PATH_MAX];

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	ows_blob_path(s, hash, path, sizeof(path));
	return unlink(path) == 0 ? 0 : -errno;
}
