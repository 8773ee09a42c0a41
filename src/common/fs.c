/* File helpers; see fs.h. */
#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ows_file_read(const char *path, size_t max, struct ows_buf *out)
{
	char tmp[8192];
	ssize_t n;
	int fd, rv = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			rv = -EFBIG;
			break;
		}
		rv = ows_buf_append(out, tmp, (size_t)n);
		if (rv != 0)
			break;
	}
	close(fd);
	return rv;
}

int ows_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, rv = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	fchmod(fd, mode);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = -errno;
			goto err_after_open;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		rv = -errno;
		goto err_after_open;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rv = -errno;
		unlink(tmp);
	}
	return rv;

err_after_open:
	close(fd);
	unlink(tmp);
	return rv;
}

int ows_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Append the components of rest to out (absolute), lexically. */
static int append_lexical(char *out, const char *rest)
{
	size_t len = strlen(out), n;
	const char *p = rest, *end;

	while (*p != '\0') {
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 1 && out[len - 1] != '/')
				len--;
			if (len > 1)
				len--;
			out[len] = '\0';
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (len + 1 + n >= PATH_MAX)
				return -ENAMETOOLONG;
			if (len > 1)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p = *end == '/' ? end + 1 : end;
	}
	return 0;
}

int ows_path_absolute(const char *path, char *out)
{
	char full[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(path), plen;

	if (len == 0)
		return -ENOENT;
	if (path[0] == '/') {
		if (len >= sizeof(full))
			return -ENAMETOOLONG;
		memcpy(full, path, len + 1);
	} else {
		if (getcwd(full, sizeof(full)) == NULL)
			return -errno;
		if (strlen(full) + 1 + len >= sizeof(full))
			return -ENAMETOOLONG;
		strcat(full, "/");
		strcat(full, path);
	}
	/* The longest prefix, cut at a '/', that exists; "/" always does. */
	plen = strlen(full);
	for (;;) {
		memcpy(tmp, full, plen);
		tmp[plen] = '\0';
		if (realpath(plen > 0 ? tmp : "/", out) != NULL)
			return append_lexical(out, full + plen);
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		while (plen > 0 && full[plen - 1] != '/')
			plen--;
		if (plen > 0)
			plen--;
	}
}

/* nftw()'s callback: 0 to go on, -1 (errno set) to stop. */
static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int ows_rm_rf(const char *path)
{
	/* Depth first, not crossing into links or other file systems. */
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0
		       ? 0
		       : -errno;
}
