/* Deterministic zips and safe extraction with libarchive; see bundle.h. */
#include "fn/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

/* 1980-01-01, the earliest time a zip can hold: the same for every file. */
#define ZIP_EPOCH 315532800

static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf,
			   size_t n)
{
	(void)a;
	return ows_buf_append(ud, buf, n) == 0 ? (la_ssize_t)n : -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir (malloc'd array of malloc'd strings). */
static char **sorted_names(const char *dir, size_t *n)
{
	struct dirent *de;
	char **names = NULL, **p;
	size_t cap = 0;
	DIR *d = opendir(dir);

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			p = realloc(names, cap * sizeof(*names));
			if (p == NULL)
				break;
			names = p;
		}
		names[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (names != NULL)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names;
}

static int add_file(struct archive *a, const char *path, const char *name,
		    const struct stat *st, struct ows_err *err)
{
	struct archive_entry *e = archive_entry_new();
	struct ows_buf data = OWS_BUF_INIT;
	int rv = 0;

	if (S_ISREG(st->st_mode)) {
		rv = ows_file_read(path, (size_t)OWS_BUNDLE_MAX_BYTES, &data);
		if (rv != 0)
			ows_err_printf(err, "cannot read '%s': %s", path,
				       ows_strerror(rv));
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_mtime(e, ZIP_EPOCH, 0);
	archive_entry_set_filetype(e, S_ISDIR(st->st_mode) ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, S_ISDIR(st->st_mode) || (st->st_mode & 0111)
				       ? 0755 : 0644);
	archive_entry_set_size(e, S_ISREG(st->st_mode) ? (la_int64_t)data.len : 0);
	if (rv == 0 && (archive_write_header(a, e) != ARCHIVE_OK ||
			(data.len > 0 && archive_write_data(a, data.data, data.len) !=
						 (la_ssize_t)data.len))) {
		ows_err_printf(err, "cannot zip '%s': %s", path,
			       archive_error_string(a));
		rv = OWS_EINVAL;
	}
	ows_buf_free(&data);
	archive_entry_free(e);
	return rv;
}

static int add_dir(struct archive *a, const char *dir, const char *prefix,
		   unsigned *count, struct ows_err *err)
{
	char path[PATH_MAX], name[PATH_MAX];
	struct stat st;
	size_t n;
	char **names = sorted_names(dir, &n);
	int rv = names == NULL && n > 0 ? -ENOMEM : 0;

	for (size_t i = 0; i < n && rv == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if (lstat(path, &st) != 0 || ++*count > OWS_BUNDLE_MAX_FILES) {
			ows_err_printf(err, "cannot zip '%s': %s", path,
				       *count > OWS_BUNDLE_MAX_FILES
					       ? "too many files" : strerror(errno));
			rv = OWS_EINVAL;
		} else if (S_ISLNK(st.st_mode) || !(S_ISREG(st.st_mode) ||
						     S_ISDIR(st.st_mode))) {
			ows_err_printf(err, "'%s' is not a regular file or "
				       "directory (links are not bundled)", path);
			rv = OWS_EINVAL;
		} else if (S_ISDIR(st.st_mode)) {
			strncat(name, "/", sizeof(name) - strlen(name) - 1);
			rv = add_file(a, path, name, &st, err);
			if (rv == 0)
				rv = add_dir(a, path, name, count, err);
		} else {
			rv = add_file(a, path, name, &st, err);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rv;
}

int ows_bundle_zip_dir(const char *dir, struct ows_buf *out,
		       struct ows_err *err)
{
	struct archive *a = archive_write_new();
	unsigned count = 0;
	int rv;

	if (a == NULL)
		return -ENOMEM;
	/* No extra time fields: only the fixed DOS time, so bytes repeat. */
	archive_write_set_format_zip(a);
	archive_write_set_options(a, "zip:compression=deflate");
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, out, NULL, write_cb, NULL) != ARCHIVE_OK) {
		ows_err_printf(err, "cannot start a zip: %s",
			       archive_error_string(a));
		archive_write_free(a);
		return OWS_EINVAL;
	}
	rv = add_dir(a, dir, "", &count, err);
	if (archive_write_close(a) != ARCHIVE_OK && rv == 0) {
		ows_err_printf(err, "cannot finish the zip: %s",
			       archive_error_string(a));
		rv = OWS_EINVAL;
	}
	archive_write_free(a);
	return rv;
}

/* A relative path with no "..", no empty or absolute start. */
static bool safe_name(const char *name)
{
	const char *p = name;

	if (name[0] == '\0' || name[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

static int extract_entries(struct archive *a, struct archive *disk,
			   const char *dest, struct ows_err *err)
{
	struct archive_entry *e;
	char path[PATH_MAX];
	long long total = 0;
	unsigned count = 0;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);

		if (name == NULL || !safe_name(name) ||
		    (type != AE_IFREG && type != AE_IFDIR)) {
			ows_err_printf(err, "bundle entry '%s' is not a plain "
				       "file or directory inside the bundle",
				       name ? name : "");
			return OWS_EINVAL;
		}
		total += archive_entry_size(e);
		if (++count > OWS_BUNDLE_MAX_FILES || total > OWS_BUNDLE_MAX_BYTES) {
			ows_err_printf(err, "bundle is larger than 250 MB or "
				       "%d files unzipped", OWS_BUNDLE_MAX_FILES);
			return OWS_EINVAL;
		}
		if (strlen(dest) + strlen(name) + 2 > sizeof(path)) {
			ows_err_printf(err, "bundle entry name is too long");
			return OWS_EINVAL;
		}
		memcpy(path, dest, strlen(dest));
		path[strlen(dest)] = '/';
		memcpy(path + strlen(dest) + 1, name, strlen(name) + 1);
		archive_entry_set_pathname(e, path);
		/* Readable by the sandbox's unprivileged user; nothing more. */
		archive_entry_set_perm(e, type == AE_IFDIR ||
					       (archive_entry_perm(e) & 0111)
					       ? 0755 : 0644);
		if (archive_write_header(disk, e) != ARCHIVE_OK ||
		    copy_data(a, disk) != 0 ||
		    archive_write_finish_entry(disk) != ARCHIVE_OK) {
			ows_err_printf(err, "cannot write '%s': %s", path,
				       archive_error_string(disk));
			return OWS_EIO;
		}
	}
	if (r != ARCHIVE_EOF) {
		ows_err_printf(err, "bundle is not a valid zip: %s",
			       archive_error_string(a));
		return OWS_EINVAL;
	}
	return 0;
}

int ows_bundle_extract(const char *path, const char *dest,
		       struct ows_err *err)
{
	struct archive *a = archive_read_new(), *disk = archive_write_disk_new();
	char tmp[PATH_MAX];
	int rv = -ENOMEM;

	if (a == NULL || disk == NULL)
		goto out;
	/* Unpack beside dest and rename: a half-unpacked bundle never shows. */
	if (strlen(dest) + 32 > sizeof(tmp)) {
		rv = -ENAMETOOLONG;
		goto out;
	}
	memcpy(tmp, dest, strlen(dest));
	snprintf(tmp + strlen(dest), 32, ".tmp-%d", (int)getpid());
	archive_read_support_format_zip(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM |
					     ARCHIVE_EXTRACT_SECURE_NODOTDOT |
					     ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		ows_err_printf(err, "cannot open bundle '%s': %s", path,
			       archive_error_string(a));
		rv = OWS_EINVAL;
		goto out;
	}
	if (mkdir(tmp, 0755) != 0) {
		rv = -errno;
		ows_err_printf(err, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	chmod(tmp, 0755);
	rv = extract_entries(a, disk, tmp, err);
	if (rv == 0 && rename(tmp, dest) != 0) {
		rv = -errno;
		ows_err_printf(err, "cannot rename to '%s': %s", dest,
			       strerror(errno));
	}
	if (rv != 0)
		ows_rm_rf(tmp);
out:
	archive_read_free(a);
	archive_write_free(disk);
	return rv;
}
