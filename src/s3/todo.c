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
STUB(ows__s3_bucket_policy_get)
STUB(ows__s3_bucket_policy_put)
STUB(ows__s3_bucket_policy_delete)
STUB(ows__s3_bucket_cors_get)
STUB(ows__s3_bucket_cors_put)
STUB(ows__s3_bucket_cors_delete)
STUB(ows__s3_preflight)
STUB(ows__s3_post_object)
