/*
 * GetObjectAttributes (S3 API Reference): GET /BUCKET/KEY?attributes
 * with x-amz-object-attributes naming any of ETag, Checksum,
 * ObjectParts, StorageClass, ObjectSize; answered from the object's row
 * without reading its data. ObjectParts lists a multipart object's parts
 * (its blobs, one per part) from x-amz-part-number-marker, at most
 * x-amz-max-parts (default and cap 1000) at a time; an object of one PUT
 * has none, as on S3. The ETag comes without quotes here, as S3 gives it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "s3/s3_priv.h"

#define PARTS_MAX 1000

enum {
	A_ETAG = 1,
	A_CHECKSUM = 2,
	A_PARTS = 4,
	A_CLASS = 8,
	A_SIZE = 16,
};

/* x-amz-object-attributes into a mask: > 0, or -1 for an unknown name. */
static int attributes_of(const char *v)
{
	static const struct {
		const char *name;
		int bit;
	} names[] = {
		{"ETag", A_ETAG}, {"Checksum", A_CHECKSUM},
		{"ObjectParts", A_PARTS}, {"StorageClass", A_CLASS},
		{"ObjectSize", A_SIZE},
	};
	int mask = 0;

	while (v != NULL && *v) {
		size_t n;
		int bit = -1;

		v += strspn(v, " ,");
		n = strcspn(v, " ,");
		if (n == 0)
			break;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n &&
			    strncmp(v, names[i].name, n) == 0)
				bit = names[i].bit;
		if (bit < 0)
			return -1;
		mask |= bit;
		v += n;
	}
	return mask;
}

/* A non-negative integer header (absent: def): 0, or -1 when malformed. */
static int int_header(struct ows__s3_req *r, const char *name, long def,
		      long *out)
{
	const char *v = ows_aws_header(r->c, name);
	char *end;

	*out = def;
	if (v == NULL)
		return 0;
	*out = strtol(v, &end, 10);
	return v[0] >= '0' && v[0] <= '9' && *end == '\0' && *out >= 0 &&
		       *out <= 100000 ? 0 : -1;
}

static void checksum_xml(struct ows_buf *b, const json_t *ck)
{
	char name[40];

	if (ows_json_str(ck, "algorithm") == NULL ||
	    ows_json_str(ck, "value") == NULL)
		return;
	snprintf(name, sizeof(name), "Checksum%s",
		 ows_json_str(ck, "algorithm"));
	ows_buf_puts(b, "<Checksum>");
	ows__s3_xml_elem(b, name, ows_json_str(ck, "value"));
	ows__s3_xml_elem(b, "ChecksumType", ows_json_str(ck, "type")
			 ? ows_json_str(ck, "type") : "FULL_OBJECT");
	ows_buf_puts(b, "</Checksum>");
}

static void parts_xml(struct ows_buf *b, const struct ows__s3_object *o,
		      const char *alg, long marker, long max)
{
	long last = marker, listed = 0;
	char name[40];

	snprintf(name, sizeof(name), "Checksum%s", alg ? alg : "");
	ows_buf_printf(b, "<ObjectParts><TotalPartsCount>%u</TotalPartsCount>"
		       "<PartNumberMarker>%ld</PartNumberMarker>", o->parts,
		       marker);
	for (size_t i = (size_t)marker; i < o->n_blobs && listed < max; i++) {
		const struct ows__s3_blob *p = &o->blobs[i];

		ows_buf_printf(b, "<Part><PartNumber>%zu</PartNumber>"
			       "<Size>%llu</Size>", i + 1,
			       (unsigned long long)p->size);
		if (alg != NULL && p->checksum != NULL)
			ows__s3_xml_elem(b, name, p->checksum);
		ows_buf_puts(b, "</Part>");
		last = (long)i + 1;
		listed++;
	}
	ows_buf_printf(b, "<NextPartNumberMarker>%ld</NextPartNumberMarker>"
		       "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>"
		       "</ObjectParts>", last, max,
		       (size_t)last < o->n_blobs ? "true" : "false");
}

static void answer(struct ows__s3_req *r, const struct ows__s3_object *o,
		   int mask, long marker, long max)
{
	const json_t *ck = json_object_get(o->meta, "checksum");
	struct ows_http_header h[4];
	struct ows_buf b = OWS_BUF_INIT;
	size_t n = 0;

	ows__s3_object_headers(r, o, h, 4, &n);
	ows__s3_xml_open(&b, "GetObjectAttributesResponse");
	if (mask & A_ETAG)
		ows__s3_xml_elem(&b, "ETag", o->etag);
	if (mask & A_CHECKSUM)
		checksum_xml(&b, ck);
	if ((mask & A_PARTS) && o->parts > 0)
		parts_xml(&b, o, ows_json_str(ck, "algorithm"), marker, max);
	if (mask & A_CLASS)
		ows__s3_xml_elem(&b, "StorageClass", "STANDARD");
	if (mask & A_SIZE)
		ows_buf_printf(&b, "<ObjectSize>%llu</ObjectSize>",
			       (unsigned long long)o->size);
	ows_buf_puts(&b, "</GetObjectAttributesResponse>");
	if (b.data == NULL) {
		ows_buf_free(&b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, h, n, b.data, b.len);
	ows_buf_free(&b);
}

void ows__s3_get_object_attributes(struct ows__s3_req *r)
{
	const char *names = ows_aws_header(r->c, "x-amz-object-attributes");
	int mask = attributes_of(names);
	long marker, max;
	char v[64];
	struct ows__s3_object o;

	if (ows__s3_query(r, "versionId", v, sizeof(v)) &&
	    strcmp(v, "null") != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid version id "
			      "specified");
		return;
	}
	if (mask == 0) {
		ows__s3_error(r, 400, "InvalidRequest", "The "
			      "x-amz-object-attributes header specifying the "
			      "attributes to be retrieved is either missing "
			      "or empty");
		return;
	}
	if (mask < 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid attribute "
			      "name specified.");
		return;
	}
	if (int_header(r, "x-amz-max-parts", PARTS_MAX, &max) != 0 ||
	    int_header(r, "x-amz-part-number-marker", 0, &marker) != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Part number must be "
			      "an integer between 1 and 10000, inclusive");
		return;
	}
	if (max > PARTS_MAX)
		max = PARTS_MAX;
	if (ows__s3_object_load(r, &o) != 0)
		return;
	answer(r, &o, mask, marker, max);
	ows__s3_object_release(&o);
}
