/*
 * Fuzz target for the S3 access parsers of outside input (src/s3/
 * access.h): the bytes as a CORSConfiguration XML body (expat), as a
 * multipart/form-data body fed in uneven pieces (form.c), as a bucket
 * policy (policy.c) and, base64-encoded, as a POST policy document
 * checked against a fixed form (post_policy.c). Besides not crashing it
 * checks that rules the CORS reader accepts pass the JSON check and read
 * back the same from the XML written of them.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "s3/access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int part(void *ud, const char *name, const char *filename,
		const char *type)
{
	(void)ud, (void)filename, (void)type;
	return name[0] == '\0' ? -1 : 0;
}

static int bytes(void *ud, const char *d, size_t len)
{
	(void)d;
	*(size_t *)ud += len;
	return 0;
}

static int end(void *ud)
{
	(void)ud;
	return 0;
}

static void cors(const char *text, size_t size)
{
	struct ows_err err;
	const char *code;
	json_t *rules = NULL, *again = NULL;
	char *xml;

	if (ows__s3_cors_parse(text, size, &rules, &code, &err) != 0)
		return;
	if (ows__s3_cors_check(rules, &code, &err) != 0)
		abort();
	xml = ows__s3_cors_xml(rules);
	if (xml == NULL ||
	    ows__s3_cors_parse(xml, strlen(xml), &again, &code, &err) != 0 ||
	    !json_equal(rules, again))
		abort();
	(void)ows__s3_cors_match(rules, "https://a.example.com", "PUT",
				 "content-type, x-amz-meta-a");
	free(xml);
	json_decref(again);
	json_decref(rules);
}

static void form(const char *text, size_t size)
{
	size_t seen = 0, step = size % 7 + 1;
	struct ows_s3_form_cb cb = {part, bytes, end, &seen};
	struct ows_s3_form *f = malloc(sizeof(*f));
	int rv;

	if (f == NULL)
		abort();
	rv = ows__s3_form_init(f, "multipart/form-data; boundary=fz", &cb);
	for (size_t i = 0; rv == 0 && i < size; i += step)
		rv = ows__s3_form_feed(f, text + i,
				       size - i < step ? size - i : step);
	if (rv == 0)
		(void)ows__s3_form_finish(f);
	if (seen > size)
		abort();
	free(f);
}

static void policies(const char *text, size_t size)
{
	struct ows_err err;
	const char *code;
	json_t *doc = NULL, *fields;
	uint64_t min, max;
	char *b64 = malloc(OWS_B64_LEN(size));

	if (ows__s3_policy_parse(text, size, "pics", &doc, &code, &err) == 0)
		json_decref(doc);
	if (b64 == NULL)
		abort();
	ows_b64_encode(text, size, b64);
	fields = json_pack("{s:s, s:s, s:s}", "key", "up/a.txt", "content-type",
			   "text/plain", "x-amz-date", "20260101T000000Z");
	if (ows__s3_post_policy_read(b64, &doc, &code, &err) == 0) {
		(void)ows__s3_post_policy_check(doc, fields, "pics", 1767225600,
						&min, &max, &code, &err);
		json_decref(doc);
	}
	json_decref(fields);
	free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	cors(text, size);
	form(text, size);
	policies(text, size);
	return 0;
}
