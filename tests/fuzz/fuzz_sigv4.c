/*
 * Fuzz target for SigV4 (src/auth/sigv4*.c). The input is a request as
 * text: "METHOD TARGET" on the first line, "name:value" header lines, an
 * empty line, then the body. It is parsed and verified as received, then
 * signed with our signer and verified again, which must never fail on the
 * signature: the signer and the verifier build one canonical request. The
 * body also goes through the aws-chunked decoder in every mode, split in
 * two at a point taken from the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "common/enc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 40
#define SECRET "fuzz-secret"

struct freq {
	struct ows_sigv4_header h[MAX_HEADERS + 1];
	struct ows_sigv4_request req;
	char *path;
};

/* Split the head (NUL-terminated, modified in place) into a request. */
static int split_head(char *head, struct freq *f)
{
	char *save = NULL, *line = strtok_r(head, "\n", &save), *sp, *q;

	memset(&f->req, 0, sizeof(f->req));
	if (line == NULL || (sp = strchr(line, ' ')) == NULL)
		return -1;
	*sp = '\0';
	f->req.method = line;
	f->path = sp + 1;
	q = strchr(f->path, '?');
	if (q != NULL)
		*q++ = '\0';
	f->req.path = f->path;
	f->req.query = q != NULL ? q : "";
	while ((line = strtok_r(NULL, "\n", &save)) != NULL &&
	       f->req.n_headers < MAX_HEADERS) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		f->h[f->req.n_headers].name = line;
		f->h[f->req.n_headers].value = colon + 1;
		f->req.n_headers++;
	}
	f->req.headers = f->h;
	return 0;
}

static void verify_as_received(const struct freq *f, const char *body_hash)
{
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	const char *code;
	int rv;

	rv = ows_sigv4_parse(&f->req, &a, &err);
	if (rv == 0) {
		rv = ows_sigv4_verify(&f->req, &a, SECRET, a.time, body_hash,
				      &err);
		ows_sigv4_verify(&f->req, &a, SECRET, a.time, NULL, &err);
		ows_sigv4_payload_check(&a, body_hash, &err);
	}
	ows_sigv4_error(rv, a.s3, &code, NULL);
}

/* Sign with every header, then the verifier must agree. */
static void sign_then_verify(struct freq *f, const char *body_hash, bool s3)
{
	char authz[4096], payload[80];
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	int rv;

	/* The payload line is the first x-amz-content-sha256, trimmed. */
	snprintf(payload, sizeof(payload), "%s", body_hash);
	for (size_t i = 0; i < f->req.n_headers; i++) {
		const char *v = f->h[i].value;
		size_t n;

		if (strcasecmp(f->h[i].name, "x-amz-content-sha256") != 0)
			continue;
		v += strspn(v, " \t");
		n = strlen(v);
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		snprintf(payload, sizeof(payload), "%.*s",
			 (int)(n < 79 ? n : 79), v);
		break;
	}
	if (ows_sigv4_sign_header(&f->req, "AKFUZZ", SECRET, "us-east-1",
				  s3 ? "s3" : "svc", payload, authz,
				  sizeof(authz)) != 0)
		return;
	f->h[f->req.n_headers].name = "Authorization";
	f->h[f->req.n_headers].value = authz;
	f->req.n_headers++;
	if (ows_sigv4_parse(&f->req, &a, &err) != 0)
		return;
	rv = ows_sigv4_verify(&f->req, &a, SECRET, a.time, body_hash, &err);
	if (rv == OWS_ESIG_SIGNATURE) {
		fprintf(stderr, "signer and verifier disagree: %s\n", err.msg);
		abort();
	}
}

static int drop_data(void *ud, const char *d, size_t len)
{
	(void)ud;
	(void)d;
	(void)len;
	return 0;
}

static int drop_trailer(void *ud, const char *name, const char *value)
{
	(void)ud;
	return name[0] == '\0' || value == NULL ? -1 : 0;
}

static void decode_body(const char *body, size_t len, size_t cut)
{
	static const enum ows_sigv4_payload modes[] = {
	    OWS_SIGV4_PAYLOAD_STREAMING, OWS_SIGV4_PAYLOAD_STREAMING_TRAILER,
	    OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER};
	struct ows_sigv4_chunked_cb cb = {drop_data, drop_trailer, NULL};
	struct ows_err err = {{0}};
	uint8_t key[32];

	ows_sigv4_signing_key(SECRET, "20130524", "us-east-1", "s3", key);
	for (int m = 0; m < 3; m++) {
		struct ows_sigv4_chunked d;

		if (ows_sigv4_chunked_init(&d, modes[m], key,
					   "20130524T000000Z",
					   "20130524/us-east-1/s3/aws4_request",
					   "4f232c4386841ef735655705268965c44a0"
					   "e4690baa4adea153f7db9fa80a0a9",
					   m == 2 ? -1 : (int64_t)len) == 0 &&
		    ows_sigv4_chunked_feed(&d, body, cut, &cb, &err) == 0 &&
		    ows_sigv4_chunked_feed(&d, body + cut, len - cut, &cb,
					   &err) == 0)
			ows_sigv4_chunked_finish(&d, &err);
		ows_sigv4_chunked_close(&d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *sep, *body, hash[65];
	size_t blen, hlen;
	struct freq f;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	sep = strstr(copy, "\n\n");
	hlen = sep != NULL ? (size_t)(sep - copy) : size;
	body = copy + hlen + (sep != NULL ? 2 : 0);
	blen = size - (size_t)(body - copy);
	ows_sha256_hex(body, blen, hash);
	decode_body(body, blen, size > 0 ? data[0] % (blen + 1) : 0);
	copy[hlen] = '\0';
	if (split_head(copy, &f) == 0) {
		verify_as_received(&f, hash);
		sign_then_verify(&f, hash, size > 1 && (data[1] & 1));
	}
	free(copy);
	return 0;
}
