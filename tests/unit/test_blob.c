/* Unit tests: the content-addressed blob store (blob/blob.h). */
#include "../lib/unit.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "blob/blob.h"
#include "common/enc.h"
#include "common/fs.h"

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
	json_decref(victims);

	/* a store never written to has nothing to collect */
	ows_blob_store_init(&s, "/nonexistent-ows-node");
	victims = json_array();
	OWS_CHECK_INT(ows_blob_gc_scan(&s, named_a, a, 0, victims), 0);
	OWS_CHECK_INT(json_array_size(victims), 0);
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
	char hash[65];
	uv_loop_t loop;

	ows_sha256_hex("x", 1, hash);
	OWS_CHECK_INT(uv_loop_init(&loop), 0);
	/* no copy wanted elsewhere: done at once */
	OWS_CHECK_INT(ows_blob_replicate(&loop, NULL, NULL, 0, hash, "x", 1, 0,
					 done_cb, NULL), 0);
	OWS_CHECK_INT(done_status, 0);
	/* copies wanted but no peer: -EIO */
	done_status = 1;
	OWS_CHECK_INT(ows_blob_replicate(&loop, NULL, NULL, 0, hash, "x", 1, 2,
					 done_cb, NULL), 0);
	OWS_CHECK_INT(done_status, -EIO);
	OWS_CHECK_INT(ows_blob_replicate(&loop, NULL, NULL, 0, "bad", "x", 1, 0,
					 done_cb, NULL), -EINVAL);
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
