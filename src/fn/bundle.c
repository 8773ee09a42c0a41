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

/* libarchive's write callback: the bytes taken, or -1 (its contract). */
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

/*
 * Links. A bundle may hold symbolic links that stay inside it (npm's
 * links in node_modules/.bin are the usual ones): the target is followed, as the
 * kernel will follow it under /var/task, component by component from the
 * link's own directory, through the bundle's other links, and must never
 * climb above the bundle's root nor name an absolute path. Components that
 * do not exist count as directories: in a read-only bundle they never will.
 */
#define MAX_LINK_HOPS 40 /* the kernel's own limit on links in a lookup */

/* The target of the link at rel (relative to the bundle root), or NULL. */
typedef const char *(*link_of_fn)(void *ud, const char *rel, char *buf,
				  size_t cap);

static int link_refuse(struct ows_err *err, const char *name,
		       const char *target, const char *why)
{
	ows_err_printf(err, "link '%s' -> '%s' %s", name, target, why);
	return OWS_EINVAL;
}

/* out (PATH_MAX) = a sep b[0..blen); -ENAMETOOLONG when it does not fit. */
static int join(char *out, const char *a, const char *sep, const char *b,
		size_t blen)
{
	size_t alen = strlen(a), slen = strlen(sep);

	if (alen + slen + blen >= PATH_MAX)
		return -ENAMETOOLONG;
	memmove(out, a, alen);
	memcpy(out + alen, sep, slen);
	memmove(out + alen + slen, b, blen);
	out[alen + slen + blen] = '\0';
	return 0;
}

static int link_check(const char *name, const char *target, link_of_fn link_of,
		      void *ud, struct ows_err *err)
{
	char cur[PATH_MAX], rest[PATH_MAX], next[PATH_MAX], buf[PATH_MAX];
	const char *slash = strrchr(name, '/'), *p, *after, *t;
	size_t n = slash != NULL ? (size_t)(slash - name) : 0, len;
	unsigned hops = 0;

	if (target[0] == '\0' || strlen(target) >= sizeof(rest) ||
	    n >= sizeof(cur))
		return link_refuse(err, name, target, "is empty or too long");
	memcpy(cur, name, n);
	cur[n] = '\0';
	memcpy(rest, target, strlen(target) + 1);
	if (rest[0] == '/')
		return link_refuse(err, name, target, "leaves the bundle "
				   "(absolute target)");
	p = rest;
	while (*p != '\0') {
		len = strcspn(p, "/");
		after = p + len + (p[len] == '/');
		if (len == 0 || (len == 1 && p[0] == '.')) {
			p = after;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (cur[0] == '\0')
				return link_refuse(err, name, target,
						   "leaves the bundle");
			slash = strrchr(cur, '/');
			cur[slash != NULL ? (size_t)(slash - cur) : 0] = '\0';
			p = after;
			continue;
		}
		if (join(next, cur, cur[0] ? "/" : "", p, len) != 0)
			return link_refuse(err, name, target, "is too long");
		t = link_of(ud, next, buf, sizeof(buf));
		if (t == NULL) {
			memcpy(cur, next, strlen(next) + 1);
			p = after;
			continue;
		}
		/* Through another link: its target, then what was left. */
		if (++hops > MAX_LINK_HOPS)
			return link_refuse(err, name, target,
					   "goes through too many links");
		if (t[0] == '/')
			return link_refuse(err, name, target, "leaves the "
					   "bundle (through an absolute link)");
		if (join(next, t, "/", after, strlen(after)) != 0)
			return link_refuse(err, name, target, "is too long");
		memcpy(rest, next, strlen(next) + 1);
		p = rest;
	}
	return 0;
}

/* link_of on a directory tree: ud is the root directory's path. */
static const char *disk_link_of(void *ud, const char *rel, char *buf,
				size_t cap)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", (const char *)ud,
			     rel) >= sizeof(path) ||
	    lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return NULL;
	n = readlink(path, buf, cap - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

struct zip_walk {
	struct archive *a;
	const char *root;
	unsigned count;
	long long bytes;
	struct ows_err *err;
};

static int add_link(struct zip_walk *w, const char *path, const char *name)
{
	struct archive_entry *e;
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	int rv;

	if (n < 0) {
		ows_err_printf(w->err, "cannot read link '%s': %s", path,
			       strerror(errno));
		return -errno;
	}
	target[n] = '\0';
	rv = link_check(name, target, disk_link_of, (void *)w->root, w->err);
	if (rv != 0)
		return rv;
	e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mtime(e, ZIP_EPOCH, 0);
	archive_entry_set_filetype(e, AE_IFLNK);
	archive_entry_set_perm(e, 0777);
	archive_entry_set_symlink(e, target);
	if (archive_write_header(w->a, e) != ARCHIVE_OK) {
		ows_err_printf(w->err, "cannot zip '%s': %s", path,
			       archive_error_string(w->a));
		rv = OWS_EINVAL;
	}
	archive_entry_free(e);
	return rv;
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

static int add_dir(struct zip_walk *w, const char *dir, const char *prefix)
{
	char path[PATH_MAX], name[PATH_MAX];
	struct stat st;
	size_t n;
	char **names = sorted_names(dir, &n);
	int rv = names == NULL && n > 0 ? -ENOMEM : 0;

	for (size_t i = 0; i < n && rv == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if (lstat(path, &st) != 0) {
			ows_err_printf(w->err, "cannot zip '%s': %s", path,
				       strerror(errno));
			rv = OWS_EINVAL;
		} else if (++w->count > OWS_BUNDLE_MAX_FILES) {
			ows_err_printf(w->err, "cannot zip '%s': more than %d "
				       "files", w->root, OWS_BUNDLE_MAX_FILES);
			rv = OWS_EINVAL;
		} else if (S_ISREG(st.st_mode) &&
			   (w->bytes += st.st_size) > OWS_BUNDLE_MAX_BYTES) {
			ows_err_printf(w->err, "cannot zip '%s': more than "
				       "250 MB unzipped", w->root);
			rv = OWS_EINVAL;
		} else if (S_ISLNK(st.st_mode)) {
			rv = add_link(w, path, name);
		} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			ows_err_printf(w->err, "'%s' is not a regular file, "
				       "directory or link", path);
			rv = OWS_EINVAL;
		} else if (S_ISDIR(st.st_mode)) {
			strncat(name, "/", sizeof(name) - strlen(name) - 1);
			rv = add_file(w->a, path, name, &st, w->err);
			if (rv == 0)
				rv = add_dir(w, path, name);
		} else {
			rv = add_file(w->a, path, name, &st, w->err);
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
	struct zip_walk w = {a, dir, 0, 0, err};
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
	rv = add_dir(&w, dir, "");
	if (archive_write_close(a) != ARCHIVE_OK && rv == 0) {
		ows_err_printf(err, "cannot finish the zip: %s",
			       archive_error_string(a));
		rv = OWS_EINVAL;
	}
	if (rv == 0 && out->len > OWS_BUNDLE_MAX_ZIP_BYTES) {
		ows_err_printf(err, "'%s' zips to %.1f MB, more than the 50 MB "
			       "a bundle may have", dir,
			       (double)out->len / (1024 * 1024));
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

/* The current entry's data from in to out: 0 or OWS_EIO. */
static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
			return OWS_EIO;
	return r == ARCHIVE_EOF ? 0 : OWS_EIO;
}

/*
 * The links of a zip, kept until every file is out (sorted by name), and
 * the names of its other entries, to check none is below a link.
 */
struct link_set {
	char **names;
	char **targets;
	size_t n, cap;
	char **plain;
	size_t n_plain, cap_plain;
};

static void link_set_free(struct link_set *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->names[i]);
		free(ls->targets[i]);
	}
	for (size_t i = 0; i < ls->n_plain; i++)
		free(ls->plain[i]);
	free(ls->names);
	free(ls->targets);
	free(ls->plain);
}

static int plain_add(struct link_set *ls, const char *name)
{
	char **p;

	if (ls->n_plain == ls->cap_plain) {
		ls->cap_plain = ls->cap_plain ? ls->cap_plain * 2 : 64;
		p = realloc(ls->plain, ls->cap_plain * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		ls->plain = p;
	}
	ls->plain[ls->n_plain] = strdup(name);
	return ls->plain[ls->n_plain++] != NULL ? 0 : -ENOMEM;
}

/*
 * name without "." and empty components ("./a//b/" is "a/b"), into out
 * (PATH_MAX): the form in which links are compared and followed.
 */
static int clean_name(const char *name, char *out)
{
	const char *p = name;
	size_t n = 0, len;

	while (*p != '\0') {
		len = strcspn(p, "/");
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + len + 2 > PATH_MAX)
				return -ENAMETOOLONG;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len + (p[len] == '/');
	}
	out[n] = '\0';
	return n > 0 ? 0 : -EINVAL;
}

/* The nearest link at or above name (cut at each '/'), or NULL. */
static const char *link_above(struct link_set *ls, const char *name,
			      bool self, char path[PATH_MAX]);

static int link_set_add(struct link_set *ls, const char *name,
			const char *target)
{
	char **n2, **t2;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 16;
		n2 = realloc(ls->names, ls->cap * sizeof(*n2));
		if (n2 != NULL)
			ls->names = n2;
		t2 = realloc(ls->targets, ls->cap * sizeof(*t2));
		if (t2 != NULL)
			ls->targets = t2;
		if (n2 == NULL || t2 == NULL)
			return -ENOMEM;
	}
	ls->names[ls->n] = strdup(name);
	ls->targets[ls->n] = strdup(target);
	if (ls->names[ls->n] == NULL || ls->targets[ls->n] == NULL) {
		free(ls->names[ls->n]);
		free(ls->targets[ls->n]);
		return -ENOMEM;
	}
	ls->n++;
	return 0;
}

static int cmp_index(const void *a, const void *b, void *ud)
{
	char **names = ud;

	return strcmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

/* Sort both arrays by name, through an index. */
static int link_set_sort(struct link_set *ls)
{
	size_t *idx = malloc((ls->n + 1) * sizeof(*idx));
	char **n2 = malloc((ls->n + 1) * sizeof(*n2));
	char **t2 = malloc((ls->n + 1) * sizeof(*t2));

	if (idx == NULL || n2 == NULL || t2 == NULL) {
		free(idx);
		free(n2);
		free(t2);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ls->n; i++)
		idx[i] = i;
	qsort_r(idx, ls->n, sizeof(*idx), cmp_index, ls->names);
	for (size_t i = 0; i < ls->n; i++) {
		n2[i] = ls->names[idx[i]];
		t2[i] = ls->targets[idx[i]];
	}
	free(ls->names);
	free(ls->targets);
	free(idx);
	ls->names = n2;
	ls->targets = t2;
	ls->cap = ls->n + 1;
	return 0;
}

static const char *set_link_of(void *ud, const char *rel, char *buf,
			       size_t cap)
{
	struct link_set *ls = ud;
	char **hit;

	(void)buf;
	(void)cap;
	hit = ls->n ? bsearch(&rel, ls->names, ls->n, sizeof(*ls->names),
			      cmp_names) : NULL;
	return hit != NULL ? ls->targets[hit - ls->names] : NULL;
}

/*
 * Check every link against all the others. A link may not sit below
 * another (writing it would go through that one); one that shares its name
 * with a file or a directory fails later, in symlink().
 */
static int links_check(struct link_set *ls, struct ows_err *err)
{
	char path[PATH_MAX];
	int rv = link_set_sort(ls);

	if (rv != 0)
		return rv;
	for (size_t i = 0; i < ls->n; i++) {
		if (i > 0 && strcmp(ls->names[i - 1], ls->names[i]) == 0) {
			ows_err_printf(err, "bundle entry '%s' appears twice",
				       ls->names[i]);
			return OWS_EINVAL;
		}
		if (link_above(ls, ls->names[i], false, path) != NULL) {
			ows_err_printf(err, "bundle entry '%s' is below the "
				       "link '%s'", ls->names[i], path);
			return OWS_EINVAL;
		}
		rv = link_check(ls->names[i], ls->targets[i], set_link_of, ls,
				err);
		if (rv != 0)
			return rv;
	}
	for (size_t i = 0; ls->n > 0 && i < ls->n_plain; i++) {
		if (link_above(ls, ls->plain[i], true, path) != NULL) {
			ows_err_printf(err, "bundle entry '%s' is %s the link "
				       "'%s'", ls->plain[i],
				       strcmp(path, ls->plain[i]) == 0
					       ? "also" : "below", path);
			return OWS_EINVAL;
		}
	}
	return 0;
}

static const char *link_above(struct link_set *ls, const char *name,
			      bool self, char path[PATH_MAX])
{
	char *slash;

	snprintf(path, PATH_MAX, "%s", name);
	if (self && set_link_of(ls, path, NULL, 0) != NULL)
		return path;
	while ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (set_link_of(ls, path, NULL, 0) != NULL)
			return path;
	}
	return NULL;
}

/* Make the (checked) links under dest, after every file is out. */
static int links_make(struct link_set *ls, const char *dest,
		      struct ows_err *err)
{
	char path[PATH_MAX], *slash;
	int rv;

	for (size_t i = 0; i < ls->n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dest,
				     ls->names[i]) >= sizeof(path))
			return OWS_EINVAL;
		slash = strrchr(path, '/');
		*slash = '\0';
		rv = ows_mkdir_p(path, 0755);
		*slash = '/';
		if (rv != 0 || symlink(ls->targets[i], path) != 0) {
			ows_err_printf(err, "cannot make the link '%s': %s",
				       ls->names[i], rv != 0 ? ows_strerror(rv)
				       : errno == EEXIST ? "the bundle has "
				       "another entry of that name"
				       : strerror(errno));
			return OWS_EINVAL;
		}
	}
	return 0;
}

/*
 * Every entry of a: checked, and written under dest through disk unless
 * disk is NULL (then only checked). Links wait in links until the end.
 */
static int extract_entries(struct archive *a, struct archive *disk,
			   const char *dest, struct link_set *links,
			   struct ows_err *err)
{
	struct archive_entry *e;
	char path[PATH_MAX], clean[PATH_MAX];
	size_t dlen = dest != NULL ? strlen(dest) : 0;
	long long total = 0;
	unsigned count = 0;
	int r;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);

		if (name == NULL || !safe_name(name) ||
		    archive_entry_hardlink(e) != NULL ||
		    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
			ows_err_printf(err, "bundle entry '%s' is not a plain "
				       "file, directory or link inside the "
				       "bundle", name ? name : "");
			return OWS_EINVAL;
		}
		total += archive_entry_size(e);
		if (++count > OWS_BUNDLE_MAX_FILES || total > OWS_BUNDLE_MAX_BYTES) {
			ows_err_printf(err, "bundle is larger than 250 MB or "
				       "%d files unzipped", OWS_BUNDLE_MAX_FILES);
			return OWS_EINVAL;
		}
		if (dlen + strlen(name) + 2 > sizeof(path)) {
			ows_err_printf(err, "bundle entry name is too long");
			return OWS_EINVAL;
		}
		if (clean_name(name, clean) != 0 ||
		    (type == AE_IFLNK
			     ? link_set_add(links, clean,
					    archive_entry_symlink(e) != NULL
						    ? archive_entry_symlink(e)
						    : "")
			     : plain_add(links, clean)) != 0) {
			ows_err_printf(err, "bundle entry '%s': no name, or out "
				       "of memory", name);
			return OWS_EINVAL;
		}
		if (type == AE_IFLNK)
			continue;
		if (disk == NULL)
			continue;
		memcpy(path, dest, dlen);
		path[dlen] = '/';
		memcpy(path + dlen + 1, name, strlen(name) + 1);
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

int ows_bundle_check(const void *zip, size_t len, struct ows_err *err)
{
	struct archive *a = archive_read_new();
	struct link_set links = {0};
	int rv;

	if (a == NULL)
		return -ENOMEM;
	if (len > OWS_BUNDLE_MAX_ZIP_BYTES) {
		ows_err_printf(err, "bundle is %.1f MB, more than the 50 MB a "
			       "bundle may have", (double)len / (1024 * 1024));
		archive_read_free(a);
		return OWS_EINVAL;
	}
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, zip, len) != ARCHIVE_OK) {
		ows_err_printf(err, "bundle is not a valid zip: %s",
			       archive_error_string(a));
		rv = OWS_EINVAL;
	} else {
		rv = extract_entries(a, NULL, NULL, &links, err);
	}
	if (rv == 0)
		rv = links_check(&links, err);
	link_set_free(&links);
	archive_read_free(a);
	return rv;
}

int ows_bundle_extract(const char *path, const char *dest,
		       struct ows_err *err)
{
	struct archive *a = archive_read_new(), *disk = archive_write_disk_new();
	struct link_set links = {0};
	char tmp[PATH_MAX];
	struct stat st;
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
	if (stat(path, &st) == 0 && st.st_size > OWS_BUNDLE_MAX_ZIP_BYTES) {
		ows_err_printf(err, "bundle is %.1f MB, more than the 50 MB a "
			       "bundle may have",
			       (double)st.st_size / (1024 * 1024));
		rv = OWS_EINVAL;
		goto out;
	}
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
	rv = extract_entries(a, disk, tmp, &links, err);
	if (rv == 0)
		rv = links_check(&links, err);
	if (rv == 0)
		rv = links_make(&links, tmp, err);
	if (rv == 0 && rename(tmp, dest) != 0) {
		rv = -errno;
		ows_err_printf(err, "cannot rename to '%s': %s", dest,
			       strerror(errno));
	}
	if (rv != 0)
		ows_rm_rf(tmp);
out:
	link_set_free(&links);
	archive_read_free(a);
	archive_write_free(disk);
	return rv;
}
