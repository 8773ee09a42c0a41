/*
 * The bucket operations (S3 API Reference): CreateBucket, DeleteBucket,
 * HeadBucket, ListBuckets, GetBucketLocation, and the read-only answers
 * OWS gives for versioning (never enabled) and ACLs (the owner's full
 * control: OWS judges access with policies, as S3's "bucket owner
 * enforced" buckets do).
 *
 * A bucket made here is an attested entry buckets.put of stack "", its
 * spec {"region"}; the apply (kinds.c) refuses one that exists, and a
 * delete while objects or uploads remain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "s3/s3_priv.h"
#include "state/state.h"

/* The bucket's region: its spec's, or the node's. */
static const char *region_of(const struct ows__s3_req *r, const json_t *spec)
{
	const char *v = ows_json_str(spec, "region");

	return v != NULL && v[0] ? v : r->c->host->region;
}

/* The owner every listing shows: the cluster's account. */
static void owner_xml(struct ows__s3_req *r, struct ows_buf *b)
{
	char id[65];

	ows_sha256_hex(r->c->host->account, strlen(r->c->host->account), id);
	ows_buf_puts(b, "<Owner>");
	ows__s3_xml_elem(b, "ID", id);
	ows__s3_xml_elem(b, "DisplayName", "ows");
	ows_buf_puts(b, "</Owner>");
}

/* ---- ListBuckets ---- */

void ows__s3_list_buckets(struct ows__s3_req *r)
{
	json_t *rows = ows_state_resources(r->c->host->state, "buckets", NULL);
	struct ows_buf b = OWS_BUF_INIT;
	const json_t *row;
	char date[32];
	size_t i;

	if (rows == NULL) {
		ows__s3_internal(r, -EIO);
		return;
	}
	ows__s3_xml_open(&b, "ListAllMyBucketsResult");
	owner_xml(r, &b);
	ows_buf_puts(&b, "<Buckets>");
	json_array_foreach(rows, i, row) {
		const json_t *spec = json_object_get(row, "spec");

		ows__s3_iso_date(json_integer_value(json_object_get(spec,
								    "created")),
				 date);
		ows_buf_puts(&b, "<Bucket>");
		ows__s3_xml_elem(&b, "Name", ows_json_str(row, "name"));
		ows__s3_xml_elem(&b, "CreationDate", date);
		ows__s3_xml_elem(&b, "BucketRegion", region_of(r, spec));
		ows_buf_puts(&b, "</Bucket>");
	}
	ows_buf_puts(&b, "</Buckets></ListAllMyBucketsResult>");
	json_decref(rows);
	ows__s3_reply_xml(r, &b);
}

/* ---- CreateBucket ---- */

static void created(struct ows__s3_req *r, const json_t *result)
{
	struct ows_http_header h = {
		"Location", ows_arena_printf(r->c->arena, "/%s", r->bucket)};

	(void)result;
	ows__s3_reply(r, 200, &h, h.value ? 1 : 0, NULL, 0);
}

/*
 * The LocationConstraint against the node's region, as S3 judges it on
 * a regional endpoint: false once answered.
 */
static bool location_ok(struct ows__s3_req *r, const char *lc)
{
	const char *region = r->c->host->region;
	bool east = strcmp(region, "us-east-1") == 0;

	if (lc == NULL || lc[0] == '\0') {
		if (east)
			return true;
		ows__s3_error(r, 400, "IllegalLocationConstraintException",
			      "The unspecified location constraint is "
			      "incompatible for the region specific endpoint "
			      "this request was sent to.");
		return false;
	}
	if (strcmp(lc, region) == 0 && !east)
		return true;
	if (strlen(lc) > 32 || strspn(lc, "abcdefghijklmnopqrstuvwxyz0123456789"
				       "-") != strlen(lc) ||
	    (east && strcmp(lc, "us-east-1") == 0) || strcmp(lc, "EU") == 0) {
		ows__s3_error(r, 400, "InvalidLocationConstraint", "The "
			      "specified location-constraint is not valid");
		return false;
	}
	ows__s3_error(r, 400, "IllegalLocationConstraintException", "The %s "
		      "location constraint is incompatible for the region "
		      "specific endpoint this request was sent to.", lc);
	return false;
}

static void create_body(struct ows__s3_req *r, const json_t *tree)
{
	const char *lc = NULL;
	json_t *spec;

	if (tree != NULL) {
		const char *root = ows_json_str(tree, "name");

		if (root == NULL ||
		    strcmp(root, "CreateBucketConfiguration") != 0) {
			ows__s3_malformed_xml(r);
			return;
		}
		lc = ows__s3_xml_text(tree, "LocationConstraint");
	}
	if (!location_ok(r, lc))
		return;
	spec = json_pack("{s:s}", "region", r->c->host->region);
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("buckets.put",
							   r->bucket, spec)),
			created, NULL);
}

void ows__s3_create_bucket(struct ows__s3_req *r)
{
	if (!ows__s3_bucket_name_valid(r->bucket)) {
		ows__s3_error(r, 400, "InvalidBucketName", "The specified "
			      "bucket is not valid.");
		return;
	}
	if (ows_state_resource_exists(r->c->host->state, "buckets",
				      r->bucket)) {
		ows__s3_error(r, 409, "BucketAlreadyOwnedByYou", "Your previous "
			      "request to create the named bucket succeeded "
			      "and you already own it.");
		return;
	}
	ows__s3_read_xml(r, OWS_S3_XML_LIMIT, true, create_body);
}

/* ---- DeleteBucket ---- */

static void deleted(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 204, NULL, 0, NULL, 0);
}

void ows__s3_delete_bucket(struct ows__s3_req *r)
{
	if (ows__s3_bucket_has_content(r->c->host->state, r->bucket)) {
		ows__s3_error(r, 409, "BucketNotEmpty", "The bucket you tried "
			      "to delete is not empty");
		return;
	}
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("buckets.delete",
							   r->bucket, NULL)),
			deleted, NULL);
}

/* ---- HeadBucket, GetBucketLocation, versioning, ACLs ---- */

void ows__s3_head_bucket(struct ows__s3_req *r)
{
	json_t *spec = ows__s3_bucket_get(r->c->host, r->bucket);
	struct ows_http_header h[2] = {
		{"x-amz-bucket-region",
		 ows_arena_strdup(r->c->arena, region_of(r, spec))},
		{"x-amz-access-point-alias", "false"},
	};

	json_decref(spec);
	ows__s3_reply(r, 200, h, h[0].value ? 2 : 1, NULL, 0);
}

void ows__s3_get_bucket_location(struct ows__s3_req *r)
{
	json_t *spec = ows__s3_bucket_get(r->c->host, r->bucket);
	const char *region = region_of(r, spec);
	struct ows_buf b = OWS_BUF_INIT;

	ows_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<LocationConstraint xmlns=\"http://s3.amazonaws.com/"
		     "doc/2006-03-01/\">");
	/* us-east-1 is the empty constraint, as S3 answers */
	if (strcmp(region, "us-east-1") != 0)
		ows__s3_xml_esc(&b, region);
	ows_buf_puts(&b, "</LocationConstraint>");
	json_decref(spec);
	ows__s3_reply_xml(r, &b);
}

void ows__s3_get_bucket_versioning(struct ows__s3_req *r)
{
	struct ows_buf b = OWS_BUF_INIT;

	ows__s3_xml_open(&b, "VersioningConfiguration");
	ows_buf_puts(&b, "</VersioningConfiguration>");
	ows__s3_reply_xml(r, &b);
}

void ows__s3_get_acl(struct ows__s3_req *r)
{
	struct ows_buf b = OWS_BUF_INIT;
	char id[65];

	if (r->id == OWS_S3_GET_OBJECT_ACL) {
		char etag[80];

		if (!ows__s3_object_etag(r->c->host, r->bucket, r->key, etag)) {
			ows__s3_no_such_key(r);
			return;
		}
	}
	ows_sha256_hex(r->c->host->account, strlen(r->c->host->account), id);
	ows__s3_xml_open(&b, "AccessControlPolicy");
	owner_xml(r, &b);
	ows_buf_puts(&b, "<AccessControlList><Grant><Grantee xmlns:xsi=\"http:"
		     "//www.w3.org/2001/XMLSchema-instance\" xsi:type="
		     "\"CanonicalUser\">");
	ows__s3_xml_elem(&b, "ID", id);
	ows__s3_xml_elem(&b, "DisplayName", "ows");
	ows_buf_puts(&b, "</Grantee><Permission>FULL_CONTROL</Permission>"
		     "</Grant></AccessControlList></AccessControlPolicy>");
	ows__s3_reply_xml(r, &b);
}
