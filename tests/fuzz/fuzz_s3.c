/*
 * Fuzz target for S3's parsers of outside input (src/s3/): the first byte
 * picks what the rest is fed to: the router (method, path, query and Host
 * of a request: bucket, key and operation), a Range header, or an XML
 * body (expat, s3_priv.h's reader). Besides not crashing it checks what
 * holds for every input: a routed key is valid UTF-8 of at most 1024
 * bytes, a routed bucket fits its buffer, a range lies inside the object.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/json.h"
#include "s3/s3_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {"GET", "PUT", "POST", "DELETE",
				      "HEAD", "OPTIONS"};

/* "PATH\nQUERY\nHOST": the three parts of a request line and its Host. */
static void route(const char *text)
{
	char *copy = strdup(text), *path = copy, *query = "", *host = NULL;
	char *nl = strchr(copy, '\n');
	struct ows_arena arena;
	struct ows__s3_req r;
	struct ows_err err = {""};
	const char *code = NULL;

	if (nl != NULL) {
		*nl = '\0';
		query = nl + 1;
		if ((nl = strchr(query, '\n')) != NULL) {
			*nl = '\0';
			host = nl + 1;
		}
	}
	ows_arena_init(&arena);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		memset(&r, 0, sizeof(r));
		if (ows__s3_route(methods[i], path, query, host, NULL, NULL,
				  "s3.localhost", &arena, &r, &code,
				  &err) != 0)
			continue;
		if (r.op == NULL || r.key == NULL ||
		    strlen(r.bucket) >= sizeof(r.bucket) ||
		    (r.key[0] && ows__s3_key_check(r.key, strlen(r.key))))
			abort();
	}
	ows_arena_close(&arena);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	uint64_t a = 0, b = 0;
	struct ows_err err = {""};
	json_t *t;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		route(text);
		break;
	case 1:
		for (uint64_t len = 0; len < 3000; len = len * 7 + 1)
			if (ows__s3_parse_range(text, len, &a, &b) == 1 &&
			    !(a < b && b <= len))
				abort();
		break;
	default:
		t = ows__s3_xml_parse(text, size - 1, &err);
		if (t != NULL && ows_json_str(t, "name") == NULL)
			abort();
		json_decref(t);
		break;
	}
	free(text);
	return 0;
}
