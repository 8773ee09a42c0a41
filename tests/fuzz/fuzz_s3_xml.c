/*
 * Fuzz target for S3's XML request bodies (src/s3/xml.c, expat): the bytes
 * are a body as a client sends it (CompleteMultipartUpload, Delete,
 * CORSConfiguration, Tagging, CreateBucketConfiguration), parsed into the
 * tree the operations walk, then walked as each of those operations reads
 * it. Besides not crashing (nor leaking, nor blowing the stack on deep
 * nesting or a DTD's entities) it checks a promise that holds for every
 * input: the text of every element, escaped by the reply writer
 * (ows__s3_xml_esc, which ListObjects uses for keys) and parsed again,
 * comes back unchanged, so that a key read from one body is written into
 * a reply that a client reads back as the same key.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/s3_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What each body's reader asks of an element, by the S3 API Reference. */
static const char *const fields[] = {
	"PartNumber", "ETag", "ChecksumCRC32", "ChecksumCRC32C",
	"ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256", /* Part */
	"Key", "VersionId", "Quiet",			      /* Delete */
	"ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader",
	"ExposeHeader", "MaxAgeSeconds",		      /* CORSRule */
	"Value", "TagSet", "Tag",			      /* Tagging */
	"LocationConstraint", "Location", "Bucket",	      /* CreateBucket */
	NULL,
};

static void roundtrip(const char *text)
{
	struct ows_buf b = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	json_t *again;
	const char *back;

	ows_buf_puts(&b, "<R>");
	ows__s3_xml_esc(&b, text);
	ows_buf_puts(&b, "</R>");
	again = ows__s3_xml_parse((const char *)b.data, b.len, &err);
	/* Text that expat produced is XML characters: it must re-parse. */
	if (again == NULL)
		abort();
	back = json_string_value(json_object_get(again, "text"));
	if (back == NULL || strcmp(back, text) != 0)
		abort();
	json_decref(again);
	ows_buf_free(&b);
}

static void walk(const json_t *node, int depth)
{
	const json_t *ch, *name, *text;
	size_t i;

	name = json_object_get(node, "name");
	text = json_object_get(node, "text");
	/* The tree's shape is what xml.c's header promises. */
	if (!json_is_string(name) || !json_is_string(text) || depth > 32)
		abort();
	/* Long texts are left out: escaping them is linear and re-checked. */
	if (json_string_length(text) < 4096 &&
	    strlen(json_string_value(text)) == json_string_length(text))
		roundtrip(json_string_value(text));
	for (i = 0; fields[i] != NULL; i++)
		(void)ows__s3_xml_text(node, fields[i]);
	json_array_foreach(json_object_get(node, "children"), i, ch)
		walk(ch, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ows_err err = {{0}};
	json_t *tree;

	if (size > OWS_S3_XML_LIMIT)
		return 0;
	tree = ows__s3_xml_parse((const char *)data, size, &err);
	if (tree == NULL)
		return 0;
	/* The roots the operations accept, as they look them up. */
	(void)ows__s3_xml_child(tree, "Part");
	(void)ows__s3_xml_child(tree, "Object");
	(void)ows__s3_xml_child(tree, "CORSRule");
	(void)ows__s3_xml_child(tree, "TagSet");
	walk(tree, 1);
	json_decref(tree);
	return 0;
}
