/* Small file helpers: whole-file read, atomic write, mkdir -p. */
#ifndef OWS_COMMON_FS_H
#define OWS_COMMON_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

/* Read a whole file (at most max bytes) into out. -errno or -EFBIG. */
int ows_file_read(const char *path, size_t max, struct ows_buf *out);
/* Write via a temporary file, fsync and rename, with the given mode. */
int ows_file_write(const char *path, const void *data, size_t len, mode_t mode);
/* rm -r: remove path and everything below it (no links followed). */
int ows_rm_rf(const char *path);
/* mkdir -p with mode for each created directory. */
int ows_mkdir_p(const char *path, mode_t mode);
/*
 * The absolute, canonical form of path, which need not exist yet: the part
 * that exists is resolved with realpath() (links followed), the rest is
 * appended with "." and empty components dropped and ".." taking one off.
 * out holds PATH_MAX bytes. Returns 0, -ENAMETOOLONG or -errno.
 */
int ows_path_absolute(const char *path, char *out);

#endif
