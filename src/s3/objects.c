/* Objects: PutObject, GetObject/HeadObject, DeleteObject (in progress). */
#include "s3/s3_priv.h"

void ows__s3_put_object(struct ows__s3_req *r)
{
	ows__s3_not_implemented(r);
}

void ows__s3_get_object(struct ows__s3_req *r)
{
	ows__s3_not_implemented(r);
}

void ows__s3_delete_object(struct ows__s3_req *r)
{
	ows__s3_not_implemented(r);
}
