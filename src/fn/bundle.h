/*
 * Function bundles: zip files, as on Lambda. `ows apply` zips a code
 * directory deterministically (sorted entries, fixed times and owners,
 * modes reduced to 0644/0755) so that the same code always gives the same
 * SHA-256 and is uploaded once; a node unpacks a bundle into its own
 * directory, refusing entries that would land outside it.
 */
#ifndef OWS_FN_BUNDLE_H
#define OWS_FN_BUNDLE_H

#include "common/buf.h"
#include "common/err.h"

#define OWS_BUNDLE_MAX_FILES 20000
#define OWS_BUNDLE_MAX_BYTES ((long long)250 * 1024 * 1024) /* unzipped */

/*
 * Zip the regular files and directories under dir into out (memory). Symbolic
 * links are refused (they could point outside the bundle). OWS_EINVAL or
 * -errno with the reason in err.
 */
int ows_bundle_zip_dir(const char *dir, struct ows_buf *out,
		       struct ows_err *err);

/*
 * Unpack the zip at path into dest (created; must not exist), with every
 * file readable by all and executables kept executable. Refuses absolute
 * paths, "..", links, devices, and more than OWS_BUNDLE_MAX_FILES entries or
 * OWS_BUNDLE_MAX_BYTES bytes. Blocking: run it on the thread pool.
 */
int ows_bundle_extract(const char *path, const char *dest,
		       struct ows_err *err);

#endif
