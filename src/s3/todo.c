/*
 * Operations of s3_priv.h that other files build, answered 501
 * NotImplemented until they exist: each file that implements one
 * deletes its stub here.
 */
#include "s3/s3_priv.h"

#define STUB(fn) \
	void fn(struct ows__s3_req *r) { ows__s3_not_implemented(r); }

STUB(ows__s3_mpu_create)
STUB(ows__s3_mpu_upload_part)
STUB(ows__s3_mpu_upload_part_copy)
STUB(ows__s3_mpu_complete)
STUB(ows__s3_mpu_abort)
STUB(ows__s3_mpu_list_parts)
STUB(ows__s3_mpu_list_uploads)

int ows__s3_uploads_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err)
{
	(void)c, (void)name, (void)spec, (void)result;
	ows_err_printf(err, "NotImplemented: uploads.%s is not implemented",
		       verb);
	return OWS_EINVAL;
}
