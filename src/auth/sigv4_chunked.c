/*
 * The aws-chunked body decoder (see sigv4.h): a push parser that takes the
 * body in whatever pieces the HTTP layer reads, hands the payload on as it
 * arrives, hashes each chunk incrementally and checks the chain of chunk
 * signatures and the trailer signature. Its memory is the fixed struct; no
 * chunk is ever buffered.
 */
#include "auth/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/enc.h"

#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIG_PREFIX "chunk-signature="
#define TRAILER_SIG "x-amz-trailer-signature"
/* Far above any real chunk, low enough that sizes never overflow. */
#define CHUNK_SIZE_MAX ((uint64_t)1 << 40)

enum state {
	S_SIZE,	   /* reading a chunk header line */
	S_DATA,	   /* passing chunk data through */
	S_DATA_CR, /* the CRLF after chunk data */
	S_DATA_LF,
	S_TRAILER, /* reading trailer lines up to an empty one */
	S_END,	   /* the empty line after the final chunk (no trailers) */
	S_DONE,
};

static bool is_signed(const struct ows_sigv4_chunked *d)
{
	return d->mode != OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
}

static bool has_trailer(const struct ows_sigv4_chunked *d)
{
	return d->mode != OWS_SIGV4_PAYLOAD_STREAMING;
}

int ows_sigv4_chunked_init(struct ows_sigv4_chunked *d,
			   enum ows_sigv4_payload mode, const uint8_t key[32],
			   const char *amz_date, const char *scope,
			   const char *seed_signature, int64_t decoded_length)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->decoded_length = decoded_length;
	if (mode != OWS_SIGV4_PAYLOAD_STREAMING &&
	    mode != OWS_SIGV4_PAYLOAD_STREAMING_TRAILER &&
	    mode != OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER)
		return -EINVAL;
	if (!is_signed(d))
		return 0;
	if (key == NULL || amz_date == NULL || scope == NULL ||
	    seed_signature == NULL || strlen(amz_date) != 16 ||
	    strlen(scope) >= sizeof(d->scope) || strlen(seed_signature) != 64)
		return -EINVAL;
	memcpy(d->key, key, 32);
	memcpy(d->amz_date, amz_date, 17);
	memcpy(d->scope, scope, strlen(scope) + 1);
	memcpy(d->prev_sig, seed_signature, 65);
	d->sha = EVP_MD_CTX_new();
	if (d->sha == NULL ||
	    EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	return 0;
}

int ows_sigv4_chunked_init_auth(struct ows_sigv4_chunked *d,
				const struct ows_sigv4_auth *a,
				const char *secret, int64_t decoded_length)
{
	char scope[3 * OWS_SIGV4_SCOPE_PART_MAX];
	uint8_t key[32];
	int rv;

	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date,
		 a->region, a->service);
	ows_sigv4_signing_key(secret, a->date, a->region, a->service, key);
	rv = ows_sigv4_chunked_init(d, a->payload, key, a->amz_date, scope,
				    a->signature, decoded_length);
	OPENSSL_cleanse(key, sizeof(key));
	return rv;
}

void ows_sigv4_chunked_close(struct ows_sigv4_chunked *d)
{
	EVP_MD_CTX_free(d->sha);
	d->sha = NULL;
	OPENSSL_cleanse(d->key, sizeof(d->key));
}

static int fail(struct ows_sigv4_chunked *d, struct ows_err *err, int rc,
		const char *why)
{
	ows_err_printf(err, "aws-chunked body: %s", why);
	d->rc = rc;
	return rc;
}

/* HMAC over "<kind>\n<date>\n<scope>\n<prev>\n<rest>" into hex out. */
static void chain_sig(const struct ows_sigv4_chunked *d, const char *kind,
		      const char *rest, char out[65])
{
	char sts[64 + 17 + sizeof(d->scope) + 65 + 130];
	uint8_t mac[32];
	unsigned int mlen = 32;
	int n;

	n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s", kind, d->amz_date,
		     d->scope, d->prev_sig, rest);
	HMAC(EVP_sha256(), d->key, 32, (const uint8_t *)sts, (size_t)n, mac,
	     &mlen);
	ows_hex_encode(mac, 32, out);
}

/* The chunk just ended (data hashed so far): check its signature. */
static int check_chunk(struct ows_sigv4_chunked *d, struct ows_err *err)
{
	char rest[130], want[65];
	uint8_t hash[32];
	unsigned int hlen = 32;

	if (!is_signed(d))
		return 0;
	if (EVP_DigestFinal_ex(d->sha, hash, &hlen) != 1 ||
	    EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1)
		return fail(d, err, -ENOMEM, "hash failure");
	memcpy(rest, EMPTY_SHA256 "\n", 65);
	ows_hex_encode(hash, 32, rest + 65);
	chain_sig(d, "AWS4-HMAC-SHA256-PAYLOAD", rest, want);
	if (!ows_ct_equal(want, d->chunk_sig, 64))
		return fail(d, err, OWS_ESIG_SIGNATURE,
			    "chunk signature does not match");
	memcpy(d->prev_sig, d->chunk_sig, 65);
	return 0;
}

/*
 * Collect bytes of a CRLF-terminated line. Returns the bytes consumed and
 * sets *done when the line (without CRLF, NUL-terminated) is in d->line;
 * OWS_EPARSE on a line too long or a bare LF.
 */
static long take_line(struct ows_sigv4_chunked *d, const char *p, size_t n,
		      bool *done)
{
	size_t i;

	*done = false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\n') {
			if (d->line_len == 0 ||
			    d->line[d->line_len - 1] != '\r')
				return OWS_EPARSE;
			d->line[--d->line_len] = '\0';
			*done = true;
			return (long)i + 1;
		}
		if (d->line_len + 2 > sizeof(d->line))
			return OWS_EPARSE;
		d->line[d->line_len++] = c;
	}
	return (long)i;
}

/* Hex size, then ";chunk-signature=<64 hex>" when signed: 0 or OWS_EPARSE. */
static int parse_size_line(struct ows_sigv4_chunked *d, uint64_t *size)
{
	const char *p = d->line;
	uint64_t v = 0;
	int nd = 0;

	for (; isxdigit((unsigned char)*p); p++, nd++) {
		if (nd == 16)
			return OWS_EPARSE;
		v = v << 4 |
		    (uint64_t)(isdigit((unsigned char)*p)
				   ? *p - '0'
				   : tolower((unsigned char)*p) - 'a' + 10);
	}
	if (nd == 0)
		return OWS_EPARSE;
	*size = v;
	if (!is_signed(d))
		return *p == '\0' || *p == ';' ? 0 : OWS_EPARSE;
	if (*p != ';' || strncmp(p + 1, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		return OWS_EPARSE;
	p += 1 + strlen(SIG_PREFIX);
	if (strlen(p) != 64)
		return OWS_EPARSE;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)p[i]))
			return OWS_EPARSE;
		else
			d->chunk_sig[i] = (char)tolower((unsigned char)p[i]);
	d->chunk_sig[64] = '\0';
	return 0;
}

/* A chunk header line is complete. */
static int on_size_line(struct ows_sigv4_chunked *d, struct ows_err *err)
{
	uint64_t size;

	if (parse_size_line(d, &size) != 0)
		return fail(d, err, OWS_ESIG_BODY, "malformed chunk header");
	if (size >= CHUNK_SIZE_MAX)
		return fail(d, err, OWS_ESIG_CHUNK_SIZE, "chunk too large");
	if (is_signed(d) && size > 0 && d->last_size > 0 &&
	    d->last_size < OWS_SIGV4_CHUNK_MIN)
		return fail(d, err, OWS_ESIG_CHUNK_SIZE,
			    "only the last chunk may be below 8192 bytes");
	if (d->decoded_length >= 0 &&
	    d->total + size > (uint64_t)d->decoded_length)
		return fail(d, err, OWS_ESIG_BODY,
			    "more data than x-amz-decoded-content-length");
	if (size > 0) {
		d->remaining = size;
		d->last_size = size;
		d->state = S_DATA;
		return 0;
	}
	if (d->decoded_length >= 0 && d->total != (uint64_t)d->decoded_length)
		return fail(d, err, OWS_ESIG_BODY,
			    "less data than x-amz-decoded-content-length");
	if (check_chunk(d, err) != 0)
		return d->rc;
	d->state = has_trailer(d) ? S_TRAILER : S_END;
	return 0;
}

/* One "name:value" trailer line: kept in canonical form for the hash. */
static int on_trailer(struct ows_sigv4_chunked *d, struct ows_err *err)
{
	char *colon = strchr(d->line, ':'), *name = d->line, *v;
	size_t nlen, vlen;
	int n;

	if (colon == NULL)
		return fail(d, err, OWS_ESIG_BODY, "malformed trailer");
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	vlen = strlen(v);
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		v[--vlen] = '\0';
	for (nlen = 0; name[nlen] != '\0'; nlen++)
		name[nlen] = (char)tolower((unsigned char)name[nlen]);
	if (nlen == 0 || strpbrk(name, " \t") != NULL || d->trailer_sig[0])
		return fail(d, err, OWS_ESIG_BODY, "malformed trailer");
	if (is_signed(d) && strcmp(name, TRAILER_SIG) == 0) {
		if (vlen != 64 || strspn(v, "0123456789abcdef") != 64)
			return fail(d, err, OWS_ESIG_BODY,
				    "malformed trailer signature");
		memcpy(d->trailer_sig, v, 65);
		return 0;
	}
	n = snprintf(d->trailers + d->trailers_len,
		     sizeof(d->trailers) - d->trailers_len, "%s:%s\n", name, v);
	if (n < 0 || (size_t)n >= sizeof(d->trailers) - d->trailers_len)
		return fail(d, err, OWS_ESIG_BODY, "trailers too large");
	d->trailers_len += (size_t)n;
	return 0;
}

/* The empty line after the trailers: check their signature, hand them on. */
static int end_trailers(struct ows_sigv4_chunked *d,
			const struct ows_sigv4_chunked_cb *cb,
			struct ows_err *err)
{
	char hash[65], want[65], *p = d->trailers;

	if (is_signed(d)) {
		if (d->trailer_sig[0] == '\0')
			return fail(d, err, OWS_ESIG_SIGNATURE,
				    "missing x-amz-trailer-signature");
		ows_sha256_hex(d->trailers, d->trailers_len, hash);
		chain_sig(d, "AWS4-HMAC-SHA256-TRAILER", hash, want);
		if (!ows_ct_equal(want, d->trailer_sig, 64))
			return fail(d, err, OWS_ESIG_SIGNATURE,
				    "trailer signature does not match");
	}
	d->state = S_DONE;
	while (cb != NULL && cb->trailer_cb != NULL && *p != '\0') {
		char *nl = strchr(p, '\n'), *colon = strchr(p, ':');
		int rv;

		*nl = '\0';
		*colon = '\0';
		rv = cb->trailer_cb(cb->ud, p, colon + 1);
		if (rv != 0) {
			d->rc = rv < 0 ? rv : -ECANCELED;
			return d->rc;
		}
		p = nl + 1;
	}
	return 0;
}

static int on_line(struct ows_sigv4_chunked *d,
		   const struct ows_sigv4_chunked_cb *cb, struct ows_err *err)
{
	d->line_len = 0;
	switch (d->state) {
	case S_SIZE:
		return on_size_line(d, err);
	case S_TRAILER:
		return d->line[0] == '\0' ? end_trailers(d, cb, err)
					  : on_trailer(d, err);
	default: /* S_END */
		if (d->line[0] != '\0')
			return fail(d, err, OWS_ESIG_BODY,
				    "data after the final chunk");
		d->state = S_DONE;
		return 0;
	}
}

/* Pass chunk data through and into the chunk's hash. */
static long on_data(struct ows_sigv4_chunked *d, const char *p, size_t n,
		    const struct ows_sigv4_chunked_cb *cb, struct ows_err *err)
{
	size_t take = n < d->remaining ? n : (size_t)d->remaining;
	int rv;

	if (is_signed(d) && EVP_DigestUpdate(d->sha, p, take) != 1)
		return fail(d, err, -ENOMEM, "hash failure");
	if (cb != NULL && cb->data_cb != NULL) {
		rv = cb->data_cb(cb->ud, p, take);
		if (rv != 0) {
			/* A positive code would read as bytes consumed. */
			d->rc = rv < 0 ? rv : -ECANCELED;
			return d->rc;
		}
	}
	d->remaining -= take;
	d->total += take;
	if (d->remaining == 0)
		d->state = S_DATA_CR;
	return (long)take;
}

/* Consume some of p in the current state; the bytes used, or an error. */
static long step(struct ows_sigv4_chunked *d, const char *p, size_t n,
		 const struct ows_sigv4_chunked_cb *cb, struct ows_err *err)
{
	bool done;
	long used;
	int rv;

	switch (d->state) {
	case S_DATA:
		return on_data(d, p, n, cb, err);
	case S_DATA_CR:
	case S_DATA_LF:
		if (*p != (d->state == S_DATA_CR ? '\r' : '\n'))
			return fail(d, err, OWS_ESIG_BODY,
				    "chunk data longer than its size");
		if (d->state == S_DATA_CR) {
			d->state = S_DATA_LF;
			return 1;
		}
		d->state = S_SIZE;
		rv = check_chunk(d, err);
		return rv != 0 ? rv : 1;
	case S_DONE:
		return fail(d, err, OWS_ESIG_BODY,
			    "data after the end of the body");
	default:
		used = take_line(d, p, n, &done);
		if (used < 0)
			return fail(d, err, OWS_ESIG_BODY,
				    "chunk header line too long or malformed");
		if (done) {
			rv = on_line(d, cb, err);
			if (rv != 0)
				return rv;
		}
		return used;
	}
}

int ows_sigv4_chunked_feed(struct ows_sigv4_chunked *d, const void *data,
			   size_t len, const struct ows_sigv4_chunked_cb *cb,
			   struct ows_err *err)
{
	const char *p = data;

	if (d->rc != 0)
		return d->rc;
	while (len > 0) {
		long used = step(d, p, len, cb, err);

		if (used < 0)
			return (int)used;
		p += used;
		len -= (size_t)used;
	}
	return 0;
}

int ows_sigv4_chunked_finish(struct ows_sigv4_chunked *d, struct ows_err *err)
{
	if (d->rc != 0)
		return d->rc;
	if (d->state != S_DONE)
		return fail(d, err, OWS_ESIG_BODY,
			    "the body ended before its final chunk");
	return 0;
}
