/* Unit tests: deterministic bundle zips, links, and safe extraction. */
#include "../lib/unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
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
	OWS_CHECK(strstr(err.msg, "leaves the bundle") != NULL);
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

/* Make path/name a link to target (parents must exist). */
static void put_link(const char *dir, const char *name, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	OWS_CHECK_INT(symlink(target, path), 0);
}

static void put_dir(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	OWS_CHECK_INT(ows_mkdir_p(path, 0755), 0);
}

/* What `npm install` leaves: node_modules/.bin/NAME -> ../PKG/bin/x.js. */
static void make_npm_tree(char *dir)
{
	make_tree(dir);
	put_dir(dir, "node_modules/.bin");
	put_dir(dir, "node_modules/cowsay/bin");
	put(dir, "node_modules/cowsay/bin/cowsay.js", "moo\n", 0755);
	put_link(dir, "node_modules/.bin/cowsay", "../cowsay/bin/cowsay.js");
	/* A link to a directory, one through another link, and to the root. */
	put_link(dir, "lib", "node_modules/cowsay");
	put_link(dir, "moo.js", "lib/bin/cowsay.js");
	put_link(dir, "pkg/root", "..");
}

static void check_link(const char *dest, const char *name, const char *target,
		       const char *content)
{
	struct ows_buf back = OWS_BUF_INIT;
	char path[700], got[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dest, name);
	OWS_CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	n = readlink(path, got, sizeof(got) - 1);
	OWS_CHECK(n > 0);
	got[n] = '\0';
	OWS_CHECK_STR(got, target);
	if (content != NULL) {
		OWS_CHECK_INT(ows_file_read(path, 1024, &back), 0);
		OWS_CHECK_STR(back.data, content);
	}
	ows_buf_free(&back);
}

OWS_TEST(bundle_keeps_links_that_stay_inside)
{
	struct ows_buf a = OWS_BUF_INIT, b = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	char dir[64], zip[600], dest[600], path[700], ha[65], hb[65];
	struct stat st;

	make_npm_tree(dir);
	OWS_CHECK_INT(ows_bundle_zip_dir(dir, &a, &err), 0);
	OWS_CHECK_INT(ows_bundle_zip_dir(dir, &b, &err), 0);
	ows_sha256_hex(a.data, a.len, ha);
	ows_sha256_hex(b.data, b.len, hb);
	OWS_CHECK_STR(ha, hb);
	OWS_CHECK_INT(ows_bundle_check(a.data, a.len, &err), 0);
	snprintf(zip, sizeof(zip), "%s.zip", dir);
	OWS_CHECK_INT(ows_file_write(zip, a.data, a.len, 0600), 0);
	snprintf(dest, sizeof(dest), "%s.out", dir);
	OWS_CHECK_INT(ows_bundle_extract(zip, dest, &err), 0);
	check_link(dest, "node_modules/.bin/cowsay", "../cowsay/bin/cowsay.js",
		   "moo\n");
	check_link(dest, "lib", "node_modules/cowsay", NULL);
	check_link(dest, "moo.js", "lib/bin/cowsay.js", "moo\n");
	check_link(dest, "pkg/root", "..", NULL);
	snprintf(path, sizeof(path), "%s/pkg/root/pkg/mod.py", dest);
	OWS_CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
	/* The link's target is not copied in its place. */
	snprintf(path, sizeof(path), "%s/lib/bin", dest);
	OWS_CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	ows_rm_rf(dir);
	ows_rm_rf(dest);
	unlink(zip);
	ows_buf_free(&a);
	ows_buf_free(&b);
}

/* One tree per case: the zip is refused, naming the link. */
static void zip_refused(const char *name, const char *target,
			const char *other, const char *other_target,
			const char *why)
{
	struct ows_buf z = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	char dir[64];

	make_tree(dir);
	put_dir(dir, "d/e/f");
	if (other != NULL)
		put_link(dir, other, other_target);
	put_link(dir, name, target);
	OWS_CHECK(ows_bundle_zip_dir(dir, &z, &err) != 0);
	fprintf(stderr, "%s -> %s: %s\n", name, target, err.msg);
	OWS_CHECK(strstr(err.msg, why) != NULL);
	OWS_CHECK(strstr(err.msg, name) != NULL);
	ows_rm_rf(dir);
	ows_buf_free(&z);
}

OWS_TEST(bundle_zip_refuses_links_that_leave)
{
	zip_refused("abs", "/etc/passwd", NULL, NULL, "leaves the bundle");
	zip_refused("up", "..", NULL, NULL, "leaves the bundle");
	zip_refused("d/e/up", "../../../x", NULL, NULL, "leaves the bundle");
	zip_refused("pkg/up", "../pkg/../../x", NULL, NULL, "leaves the bundle");
	/* Each link alone stays inside; followed as the kernel does, no. */
	zip_refused("esc", "d/e/f/l/..", "d/e/f/l", "../../..",
		    "leaves the bundle");
	zip_refused("esc", "hop/x", "hop", "/tmp", "absolute");
	zip_refused("d/esc", "../pkg/r/x", "pkg/r", "../..",
		    "leaves the bundle");
	zip_refused("loop", "loop2", "loop2", "loop", "too many links");
}

/* A zip written by hand: entries "f:NAME" (file), "d:NAME/", "l:NAME>TARGET". */
static void write_zip(const char *zip, const char *const *entries)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	char buf[256], *gt;

	archive_write_set_format_zip(a);
	OWS_CHECK(archive_write_open_filename(a, zip) == ARCHIVE_OK);
	for (; *entries != NULL; entries++) {
		snprintf(buf, sizeof(buf), "%s", *entries + 2);
		e = archive_entry_new();
		archive_entry_set_perm(e, 0644);
		if ((*entries)[0] == 'l') {
			gt = strchr(buf, '>');
			*gt = '\0';
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, gt + 1);
		} else if ((*entries)[0] == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, 2);
		}
		archive_entry_set_pathname(e, buf);
		OWS_CHECK(archive_write_header(a, e) == ARCHIVE_OK);
		if ((*entries)[0] == 'f')
			archive_write_data(a, "hi", 2);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* Extract a hand-made zip: 0 and the tree, or refused with nothing left. */
static int extract_entries_of(const char *const *entries, char *dest,
			      struct ows_err *err)
{
	char zip[] = "/tmp/ows-links-XXXXXX";
	struct ows_buf z = OWS_BUF_INIT;
	int fd = mkstemp(zip), rv, check;

	OWS_CHECK(fd >= 0);
	close(fd);
	write_zip(zip, entries);
	OWS_CHECK_INT(ows_file_read(zip, 1 << 20, &z), 0);
	check = ows_bundle_check(z.data, z.len, err);
	strcpy(dest, "/tmp/ows-links-out-XXXXXX");
	OWS_CHECK(mkdtemp(dest) != NULL);
	rmdir(dest);
	rv = ows_bundle_extract(zip, dest, err);
	/* The check alone says what extraction says. */
	OWS_CHECK_INT(check == 0, rv == 0);
	if (rv != 0)
		OWS_CHECK(access(dest, F_OK) != 0);
	unlink(zip);
	ows_buf_free(&z);
	return rv;
}

static void extract_refused(const char *const *entries, const char *why)
{
	struct ows_err err = {{0}};
	char dest[64];

	OWS_CHECK(extract_entries_of(entries, dest, &err) != 0);
	fprintf(stderr, "refused: %s\n", err.msg);
	OWS_CHECK(strstr(err.msg, why) != NULL);
}

OWS_TEST(bundle_extract_keeps_links_that_stay_inside)
{
	/* The link comes before its target, and its directory has no entry. */
	static const char *const ok[] = {
		"l:node_modules/.bin/tool>../tool/cli.js",
		"f:node_modules/tool/cli.js", "l:lib>node_modules/tool",
		"l:via>lib/cli.js", "d:pkg/", "l:pkg/root>..", NULL};
	struct ows_err err = {{0}};
	char dest[64];

	OWS_CHECK_INT(extract_entries_of(ok, dest, &err), 0);
	check_link(dest, "node_modules/.bin/tool", "../tool/cli.js", "hi");
	check_link(dest, "via", "lib/cli.js", "hi");
	check_link(dest, "pkg/root", "..", NULL);
	ows_rm_rf(dest);
}

OWS_TEST(bundle_extract_refuses_links_that_leave)
{
	static const char *const abs[] = {"f:a", "l:shadow>/etc/shadow", NULL};
	static const char *const up[] = {"d:x/", "l:x/up>../../tmp", NULL};
	static const char *const through[] = {
		"l:d/e/f/l>../../..", "l:esc>d/e/f/l/..", NULL};
	static const char *const hop[] = {"l:hop>/tmp", "l:esc>hop/x", NULL};
	static const char *const below[] = {
		"f:sub/a", "l:d>sub", "l:d/x>a", NULL};
	static const char *const file_through[] = {
		"d:sub/", "l:d>sub", "f:d/f", NULL};
	static const char *const twice[] = {"l:a>b", "l:a>c", NULL};
	static const char *const same[] = {"f:a", "l:a>b", NULL};
	static const char *const dotted[] = {"l:./up>..", NULL};
	static const char *const dotted2[] = {"l:.//a/./up>../..", NULL};
	static const char *const loop[] = {"l:a>b", "l:b>a", NULL};

	extract_refused(abs, "leaves the bundle");
	extract_refused(up, "leaves the bundle");
	extract_refused(through, "leaves the bundle");
	extract_refused(hop, "absolute");
	extract_refused(below, "below the link");
	extract_refused(file_through, "below the link 'd'");
	extract_refused(same, "also the link 'a'");
	extract_refused(dotted, "leaves the bundle");
	extract_refused(dotted2, "leaves the bundle");
	extract_refused(twice, "appears twice");
	extract_refused(loop, "too many links");
}
