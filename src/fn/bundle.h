/*
 * Function bundles: zip files, as on Lambda. `ows apply` zips a code
 * directory deterministically (sorted entries, fixed times and owners,
 * modes reduced to 0644/0755) so that the same code always gives the same
 * SHA-256 and is uploaded once; a node unpacks a bundle into its own
 * directory, refusing entries that would land outside it. Symbolic links
 * are kept when they stay inside the bundle, followed as the kernel follows
 * them (through the bundle's other links too); a link that is absolute or
 * climbs above the bundle's root is refused, on both sides.
 */
#ifndef OWS_FN_BUNDLE_H
#define OWS_FN_BUNDLE_H

#include "common/buf.h"
#include "common/err.h"

#define OWS_BUNDLE_MAX_FILES 20000
#define OWS_BUNDLE_MAX_BYTES ((long long)250 * 1024 * 1024) /* unzipped */
#define OWS_BUNDLE_MAX_ZIP_BYTES ((long long)50 * 1024 * 1024) /* zipped */

/*
 * Zip the regular files, directories and links under dir into out
 * (memory). Links are stored as links, and refused when they leave the
 * bundle; other file types are refused, and so is a tree of more than
 * OWS_BUNDLE_MAX_FILES entries, OWS_BUNDLE_MAX_BYTES bytes or a zip over
 * OWS_BUNDLE_MAX_ZIP_BYTES. OWS_EINVAL or -errno with the reason in err.
 */
int ows_bundle_zip_dir(const char *dir, struct ows_buf *out,
		       struct ows_err *err);

/*
 * Check a zip (borrowed, in memory) as ows_bundle_extract would, without
 * writing anything: 0 or OWS_EINVAL with the reason in err.
 */
int ows_bundle_check(const void *zip, size_t len, struct ows_err *err);

/*
 * Unpack the zip at path into dest (created; must not exist), with every
 * file readable by all and executables kept executable, and links that stay
 * inside the bundle made as links once every file is out. Refuses absolute
 * paths, "..", links that leave the bundle or sit below another link, hard
 * links, devices, zips over OWS_BUNDLE_MAX_ZIP_BYTES, and more than
 * OWS_BUNDLE_MAX_FILES entries or OWS_BUNDLE_MAX_BYTES bytes. Blocking: run
 * it on the thread pool.
 */
int ows_bundle_extract(const char *path, const char *dest,
		       struct ows_err *err);

#endif
