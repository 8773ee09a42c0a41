/* Unit tests: deterministic bundle zips and safe extraction. */
#include "../lib/unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/enc.h"
#include "common/fs.h"
#include "fn/bundle.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	OWS_CHECK_INT(ows_file_write(path, text, strlen(text), mode), 0);
}

static void make_tree(char *dir)
{
	char sub[512];

	strcpy(dir, "/tmp/ows-bundle-XXXXXX");
	OWS_CHECK(mkdtemp(dir) != NULL);
	put(dir, "app.py", "def handler(e, c):\n    return e\n", 0600);
	put(dir, "bootstrap", "#!/bin/sh\necho hi\n", 0700);
	snprintf(sub, sizeof(sub), "%s/pkg", dir);
	OWS_CHECK(mkdir(sub, 0700) == 0);
	put(sub, "mod.py", "X = 1\n", 0600);
}

OWS_TEST(bundle_zip_is_deterministic_and_round_trips)
{
	struct ows_buf a = OWS_BUF_INIT, b = OWS_BUF_INIT, back = OWS_BUF_INIT;
	char dir[64], zip[600], dest[600], path[700], ha[65], hb[65];
	struct ows_err err = {{0}};
	struct stat st;

	make_tree(dir);
	OWS_CHECK_INT(ows_bundle_zip_dir(dir, &a, &err), 0);
	/* The same tree, touched: the same bytes. */
	sleep(1);
	put(dir, "app.py", "def handler(e, c):\n    return e\n", 0600);
	OWS_CHECK_INT(ows_bundle_zip_dir(dir, &b, &err), 0);
	ows_sha256_hex(a.data, a.len, ha);
	ows_sha256_hex(b.data, b.len, hb);
	OWS_CHECK_STR(ha, hb);
	snprintf(zip, sizeof(zip), "%s.zip", dir);
	OWS_CHECK_INT(ows_file_write(zip, a.data, a.len, 0600), 0);
	snprintf(dest, sizeof(dest), "%s.out", dir);
	OWS_CHECK_INT(ows_bundle_extract(zip, dest, &err), 0);
	snprintf(path, sizeof(path), "%s/pkg/mod.py", dest);
	OWS_CHECK_INT(ows_file_read(path, 1024, &back), 0);
	OWS_CHECK_STR(back.data, "X = 1\n");
	OWS_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	snprintf(path, sizeof(path), "%s/bootstrap", dest);
	OWS_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0755);
	/* dest exists now: a second extraction does not overwrite it. */
	OWS_CHECK(ows_bundle_extract(zip, dest, &err) != 0);
	ows_rm_rf(dir);
	ows_rm_rf(dest);
	unlink(zip);
	ows_buf_free(&a);
	ows_buf_free(&b);
	ows_buf_free(&back);
}

OWS_TEST(bundle_refuses_links_and_escaping_entries)
{
	struct ows_buf z = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	char dir[64], link[600], zip[] = "/tmp/ows-evil-XXXXXX", dest[64];
	struct archive *a;
	struct archive_entry *e;
	int fd;

	make_tree(dir);
	snprintf(link, sizeof(link), "%s/shadow", dir);
	OWS_CHECK(symlink("/etc/shadow", link) == 0);
	OWS_CHECK(ows_bundle_zip_dir(dir, &z, &err) != 0);
	OWS_CHECK(strstr(err.msg, "links") != NULL);
	ows_rm_rf(dir);
	/* A zip made elsewhere with "../escape": refused, nothing written. */
	fd = mkstemp(zip);
	OWS_CHECK(fd >= 0);
	close(fd);
	a = archive_write_new();
	archive_write_set_format_zip(a);
	OWS_CHECK(archive_write_open_filename(a, zip) == ARCHIVE_OK);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "../escape");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	archive_write_header(a, e);
	archive_write_data(a, "hi", 2);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	strcpy(dest, "/tmp/ows-evil-out-XXXXXX");
	OWS_CHECK(mkdtemp(dest) != NULL);
	rmdir(dest);
	OWS_CHECK(ows_bundle_extract(zip, dest, &err) == OWS_EINVAL);
	OWS_CHECK(access(dest, F_OK) != 0);
	OWS_CHECK(access("/tmp/escape", F_OK) != 0);
	unlink(zip);
	ows_buf_free(&z);
}
