/*
 * S3 on the seam (aws/service.h): its service table. The edge routes to
 * it by the SigV4 scope "s3", by a Host under the node's S3 domain
 * (virtual-host style BUCKET.s3.localhost), and takes the requests that
 * carry no credentials and name no other service.
 */
#ifndef OWS_S3_S3_H
#define OWS_S3_S3_H

#include <stdbool.h>

#include "aws/service.h"

extern const struct ows_aws_service ows_s3_service;

/*
 * Whether host (a Host header, port allowed) is domain itself or a
 * name under it ("b.s3.localhost" under "s3.localhost"): the edge sends
 * such requests to S3 whatever they carry.
 */
bool ows_s3_host_is_ours(const char *host, const char *domain);

/*
 * Whether host names a bucket under domain (virtual-host style,
 * "b.s3.localhost"; not the domain itself nor "s3.DOMAIN"): every path of
 * such a request is an object key, "/metrics" and "/_ows/..." too.
 */
bool ows_s3_host_names_bucket(const char *host, const char *domain);

#endif
