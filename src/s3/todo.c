/*
 * Operations of s3_priv.h that other files build, answered 501
 * NotImplemented until they exist: each file that implements one
 * deletes its stub here.
 */
#include "s3/s3_priv.h"

#define STUB(fn) \
	void fn(struct ows__s3_req *r) { ows__s3_not_implemented(r); }

STUB(ows__s3_list_objects)
STUB(ows__s3_delete_objects)
STUB(ows__s3_copy_object)
STUB(ows__s3_get_object_attributes)
STUB(ows__s3_object_tagging_get)
STUB(ows__s3_object_tagging_put)
STUB(ows__s3_object_tagging_delete)
STUB(ows__s3_bucket_tagging_get)
STUB(ows__s3_bucket_tagging_put)
STUB(ows__s3_bucket_tagging_delete)
STUB(ows__s3_mpu_create)
STUB(ows__s3_mpu_upload_part)
STUB(ows__s3_mpu_upload_part_copy)
STUB(ows__s3_mpu_complete)
STUB(ows__s3_mpu_abort)
STUB(ows__s3_mpu_list_parts)
STUB(ows__s3_mpu_list_uploads)
STUB(ows__s3_bucket_policy_get)
STUB(ows__s3_bucket_policy_put)
STUB(ows__s3_bucket_policy_delete)
STUB(ows__s3_bucket_cors_get)
STUB(ows__s3_bucket_cors_put)
STUB(ows__s3_bucket_cors_delete)
STUB(ows__s3_preflight)
STUB(ows__s3_post_object)

int ows__s3_uploads_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err)
{
	(void)c, (void)name, (void)spec, (void)result;
	ows_err_printf(err, "NotImplemented: uploads.%s is not implemented",
		       verb);
	return OWS_EINVAL;
}
