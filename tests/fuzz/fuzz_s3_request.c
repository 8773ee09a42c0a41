/*
 * Fuzz target for S3's request routing (src/s3/s3.c, ows__s3_route): the
 * bucket and key of a request (path style and virtual-host style), the
 * percent-decoding and checks of the key, the query's sub-resources and
 * the operation they select. The input is the request's parts, one per
 * line:
 *
 *   METHOD \n PATH \n QUERY \n HOST \n CONTENT-TYPE \n COPY-SOURCE \n DOMAIN
 *   \n RANGE \n DATE \n CHECKSUM-ALGORITHM \n CHECKSUM-VALUE
 *
 * (a part that is missing is absent: NULL host, content type and copy
 * source; an empty domain is the default s3.localhost). The last four are
 * the headers GetObject and PutObject parse themselves: a Range against
 * objects of a few sizes (a satisfiable range lies inside the object), an
 * HTTP date as If-Modified-Since carries it (one that parses, written back
 * as S3 writes dates, parses to the same second), and a checksum header
 * (x-amz-checksum-algorithm and the value's form). Besides not
 * crashing it checks what s3_priv.h promises of every routed request: the
 * operation is one of the table's, the key is valid UTF-8 without NUL and
 * at most 1024 bytes, the bucket at most 64 bytes (longer names are cut
 * to be refused as InvalidBucketName later); and of every refusal: an S3
 * error code and a message. Query parameters are then read back as the
 * handlers read them, into buffers of several sizes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "s3/s3.h"
#include "s3/s3_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARTS 11

static const char *const params[] = {
	"prefix", "delimiter", "max-keys", "continuation-token", "start-after",
	"marker", "encoding-type", "uploadId", "partNumber", "list-type",
	"response-content-type", "X-Amz-Signature", "", NULL,
};

static void read_query(const struct ows__s3_req *r)
{
	static const size_t caps[] = {0, 1, 2, 8, OWS_S3_KEY_MAX + 1};
	char out[OWS_S3_KEY_MAX + 1];

	for (size_t i = 0; params[i] != NULL; i++) {
		bool has = ows__s3_query_has(r, params[i]);

		for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
			if (ows__s3_query(r, params[i], out, caps[k]) != has)
				abort();
			if (has && caps[k] > 0 && strlen(out) >= caps[k])
				abort();
		}
	}
}

static void check_routed(const struct ows__s3_req *r)
{
	size_t klen;

	if ((unsigned)r->id >= OWS_S3_OP_COUNT || r->op != &ows__s3_ops[r->id] ||
	    r->op->name == NULL || r->op->handle == NULL)
		abort();
	if (r->key == NULL || r->query == NULL)
		abort();
	if (strnlen(r->bucket, sizeof(r->bucket)) > OWS_S3_BUCKET_MAX + 1)
		abort();
	klen = strlen(r->key);
	if (klen > OWS_S3_KEY_MAX ||
	    (klen > 0 && ows__s3_key_check(r->key, klen) != 0))
		abort();
	/* An operation on an object names it; one on a bucket does not. */
	if (r->id == OWS_S3_GET_OBJECT || r->id == OWS_S3_PUT_OBJECT ||
	    r->id == OWS_S3_HEAD_OBJECT || r->id == OWS_S3_DELETE_OBJECT)
		if (klen == 0)
			abort();
	if (r->id == OWS_S3_CREATE_BUCKET || r->id == OWS_S3_LIST_OBJECTS ||
	    r->id == OWS_S3_LIST_OBJECTS_V2 || r->id == OWS_S3_DELETE_BUCKET)
		if (klen != 0 || r->bucket[0] == '\0')
			abort();
}

static void headers(const char *range, const char *date, const char *alg,
		    const char *value)
{
	static const uint64_t sizes[] = {0, 1, 4096, 5ULL << 30, UINT64_MAX};
	enum ows__s3_ck_alg ck;
	char back[32];
	int64_t ms, again;

	for (size_t i = 0; range && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t a = 0, b = 0;

		if (ows__s3_parse_range(range, sizes[i], &a, &b) == 1 &&
		    !(a < b && b <= sizes[i]))
			abort();
	}
	/* Up to the year 9999: the dates HTTP's forms can write. */
	if (date != NULL && ows__s3_parse_http_date(date, &ms) == 0 &&
	    ms >= 0 && ms < 253402300800000LL) {
		ows__s3_http_date(ms, back);
		if (ows__s3_parse_http_date(back, &again) != 0 ||
		    again / 1000 != ms / 1000)
			abort();
	}
	if (alg != NULL) {
		ck = ows__s3_ck_parse(alg);
		if (ck != OWS_S3_CK_NONE && (ows__s3_ck_name(ck) == NULL ||
					     ows__s3_ck_header(ck) == NULL))
			abort();
		if (value != NULL)
			(void)ows__s3_ck_value_valid(ck, value);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[PARTS] = {NULL};
	struct ows_arena arena;
	struct ows_err err = {{0}};
	struct ows__s3_req r;
	const char *code = NULL, *domain;
	char *text, *p;
	int n = 0, rv;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size) { /* HTTP parsers stop at a NUL */
		free(text);
		return 0;
	}
	for (p = text; n < PARTS && p != NULL; n++) {
		part[n] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	if (part[1] == NULL) {
		free(text);
		return 0;
	}
	domain = part[6] != NULL && part[6][0] ? part[6]
						: OWS_S3_DOMAIN_DEFAULT;
	(void)ows_s3_host_is_ours(part[3], domain);
	ows_arena_init(&arena);
	memset(&r, 0, sizeof(r));
	rv = ows__s3_route(part[0], part[1], part[2], part[3], part[4],
			   part[5], domain, &arena, &r, &code, &err);
	if (rv == 0) {
		check_routed(&r);
		read_query(&r);
	} else if (rv != -ENOMEM &&
		   (code == NULL || code[0] == '\0' || err.msg[0] == '\0')) {
		abort();
	}
	ows_arena_close(&arena);
	headers(part[7], part[8], part[9], part[10]);
	free(text);
	return 0;
}
