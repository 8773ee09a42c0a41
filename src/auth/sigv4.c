/*
 * AWS Signature Version 4 for requests: the canonical request, the string
 * to sign, the verification a server does and the signer a client uses.
 * sigv4_parse.c finds the credentials; sigv4_chunked.c decodes aws-chunked
 * bodies. See sigv4.h for the rules.
 */
#include "auth/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/sigv4_int.h"
#include "common/buf.h"
#include "common/enc.h"

/* ---- URI encoding ---- */

static bool unreserved(unsigned char c)
{
	/* Spelled out: isalnum() would follow the locale. */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* AWS URI encoding: unreserved bytes stay, all others become %XX. */
static int uri_encode(struct ows_buf *b, const char *s, size_t n,
		      bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		int rv;

		if (unreserved(c) || (keep_slash && c == '/'))
			rv = ows_buf_append(b, &s[i], 1);
		else
			rv = ows_buf_append(b, esc, 3);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* ---- the canonical request ---- */

/* S3: decoded and encoded once. Others: dot segments out, encoded again. */
static int canonical_uri(struct ows_buf *b, const char *path, bool s3)
{
	struct ows_buf dec = OWS_BUF_INIT;
	size_t plen = path != NULL ? strlen(path) : 0, mark;
	const char *p = path;
	int rv = 0;

	if (plen == 0)
		return ows_buf_puts(b, "/");
	if (s3) {
		rv = ows__sigv4_pct_decode(&dec, path, plen);
		if (rv == 0)
			rv = uri_encode(b, dec.data, dec.len, true);
		ows_buf_free(&dec);
		return rv;
	}
	mark = b->len;
	while (rv == 0 && *p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && memcmp(p, "..", 2) == 0) {
			/* Drop the last "/segment" already written. */
			while (b->len > mark && b->data[b->len - 1] != '/')
				b->len--;
			if (b->len > mark)
				b->len--;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			rv = ows_buf_puts(b, "/");
			if (rv == 0)
				rv = uri_encode(b, p, n, false);
		}
		p += n + (p[n] == '/');
	}
	if (rv == 0 && (b->len == mark || path[plen - 1] == '/'))
		rv = ows_buf_puts(b, "/");
	if (b->data != NULL)
		b->data[b->len] = '\0';
	return rv;
}

struct qparam {
	const char *key, *value; /* encoded */
};

static int qparam_cmp(const void *x, const void *y)
{
	const struct qparam *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	return c != 0 ? c : strcmp(a->value, b->value);
}

/*
 * Every "k=v" of the raw query, decoded and encoded again, NUL-separated in
 * store, in order. skip_sig leaves out X-Amz-Signature (presigned).
 */
static int query_encode_all(const char *q, bool skip_sig, struct ows_buf *store,
			    size_t *count)
{
	struct ows_buf k = OWS_BUF_INIT, v = OWS_BUF_INIT;
	int rv = 0;

	*count = 0;
	while (rv == 0 && q != NULL && *q != '\0') {
		size_t n = strcspn(q, "&"), kn = strcspn(q, "=");

		kn = kn < n ? kn : n;
		ows_buf_reset(&k);
		ows_buf_reset(&v);
		rv = ows__sigv4_pct_decode(&k, q, kn);
		if (rv == 0 && kn < n)
			rv = ows__sigv4_pct_decode(&v, q + kn + 1, n - kn - 1);
		if (rv == 0 && n > 0 &&
		    !(skip_sig && k.len == 15 &&
		      memcmp(k.data, "X-Amz-Signature", 15) == 0)) {
			rv = uri_encode(store, k.data, k.len, false);
			if (rv == 0)
				rv = ows_buf_append(store, "", 1);
			if (rv == 0)
				rv = uri_encode(store, v.data, v.len, false);
			if (rv == 0)
				rv = ows_buf_append(store, "", 1);
			(*count)++;
		}
		q += n + (q[n] == '&');
	}
	ows_buf_free(&k);
	ows_buf_free(&v);
	return rv;
}

/* Sorted by encoded key, then value; "k=v" joined with '&'. */
static int canonical_query(struct ows_buf *b, const char *q, bool skip_sig)
{
	struct ows_buf store = OWS_BUF_INIT;
	struct qparam *ps = NULL;
	size_t count, off = 0;
	int rv;

	rv = query_encode_all(q, skip_sig, &store, &count);
	if (rv == 0 && count > 0) {
		ps = calloc(count, sizeof(*ps));
		rv = ps == NULL ? -ENOMEM : 0;
	}
	for (size_t i = 0; rv == 0 && i < count; i++) {
		ps[i].key = store.data + off;
		off += strlen(ps[i].key) + 1;
		ps[i].value = store.data + off;
		off += strlen(ps[i].value) + 1;
	}
	if (rv == 0 && count > 0)
		qsort(ps, count, sizeof(*ps), qparam_cmp);
	for (size_t i = 0; rv == 0 && i < count; i++)
		rv = ows_buf_printf(b, "%s%s=%s", i > 0 ? "&" : "", ps[i].key,
				    ps[i].value);
	free(ps);
	ows_buf_free(&store);
	return rv;
}

/* A value trimmed, runs of white space collapsed to one space. */
static int canonical_value(struct ows_buf *b, const char *v)
{
	bool any = false;
	int rv = 0;

	/* runs of non-space bytes, copied whole, one space between them */
	while (rv == 0 && *v != '\0') {
		size_t n = 0;

		while (v[n] != '\0' && !ows_sigv4_is_space(v[n]))
			n++;
		if (n == 0) {
			v++;
			continue;
		}
		if (any)
			rv = ows_buf_append(b, " ", 1);
		if (rv == 0)
			rv = ows_buf_append(b, v, n);
		any = true;
		v += n;
	}
	return rv;
}

/*
 * "name:v1,v2\n" for each signed header, values of repeated headers joined
 * by ',' in the order received. -ENOENT when a signed header is absent.
 */
static int canonical_headers(struct ows_buf *b,
			     const struct ows_sigv4_request *req,
			     const char *signed_headers)
{
	const char *p = signed_headers;
	char name[OWS_SIGV4_SIGNED_MAX];
	int rv = 0;

	while (rv == 0 && *p != '\0') {
		size_t n = strcspn(p, ";");
		int seen = 0;

		memcpy(name, p, n);
		name[n] = '\0';
		rv = ows_buf_append(b, name, n);
		if (rv == 0)
			rv = ows_buf_append(b, ":", 1);
		for (size_t i = 0; rv == 0 && i < req->n_headers; i++) {
			if (strcasecmp(req->headers[i].name, name) != 0)
				continue;
			if (seen++ > 0)
				rv = ows_buf_append(b, ",", 1);
			if (rv == 0)
				rv = canonical_value(b, req->headers[i].value);
		}
		if (rv == 0 && seen == 0)
			rv = -ENOENT;
		if (rv == 0)
			rv = ows_buf_append(b, "\n", 1);
		p += n + (p[n] == ';');
	}
	return rv;
}

/* The strings of parts one after another: hot, so without printf. */
static int append_all(struct ows_buf *b, const char *const *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rv = ows_buf_puts(b, parts[i]);

		if (rv != 0)
			return rv;
	}
	return 0;
}

static int canonical_request(struct ows_buf *b,
			     const struct ows_sigv4_request *req, bool s3,
			     bool presigned, const char *signed_headers,
			     const char *payload_hash)
{
	const char *head[] = {req->method, "\n"};
	const char *tail[] = {"\n", signed_headers, "\n", payload_hash};
	int rv;

	rv = append_all(b, head, 2);
	if (rv == 0)
		rv = canonical_uri(b, req->path, s3);
	if (rv == 0)
		rv = ows_buf_append(b, "\n", 1);
	if (rv == 0)
		rv = canonical_query(b, req->query, presigned);
	if (rv == 0)
		rv = ows_buf_append(b, "\n", 1);
	if (rv == 0)
		rv = canonical_headers(b, req, signed_headers);
	if (rv == 0)
		rv = append_all(b, tail, 4);
	return rv;
}

/* ---- signing ---- */

static void hmac256(const void *key, size_t klen, const void *data, size_t n,
		    uint8_t out[32])
{
	ows_hmac_sha256(key, klen, data, n, out);
}

void ows_sigv4_signing_key(const char *secret, const char *date,
			   const char *region, const char *service,
			   uint8_t key[32])
{
	const char *steps[] = {date, region, service, "aws4_request"};
	size_t slen = strlen(secret);
	char *k0 = malloc(slen + 5);
	uint8_t k[32];

	/* "AWS4" + secret; on allocation failure an unusable all-zero key. */
	if (k0 == NULL) {
		memset(key, 0, 32);
		return;
	}
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, slen + 1);
	hmac256(k0, slen + 4, steps[0], strlen(steps[0]), k);
	OPENSSL_cleanse(k0, slen + 4);
	free(k0);
	for (int i = 1; i < 4; i++)
		hmac256(k, 32, steps[i], strlen(steps[i]), k);
	memcpy(key, k, 32);
	OPENSSL_cleanse(k, sizeof(k));
}

/* Hex HMAC of the string to sign built over canonical request creq. */
static int signature_of(const uint8_t key[32], const char *amz_date,
			const char *date, const char *region,
			const char *service, const struct ows_buf *creq,
			char out[65])
{
	struct ows_buf sts = OWS_BUF_INIT;
	char hash[65];
	const char *parts[] = {OWS_SIGV4_ALGORITHM "\n", amz_date, "\n", date,
			       "/", region, "/", service, "/aws4_request\n",
			       hash};
	uint8_t mac[32];
	int rv;

	ows_sha256_hex(creq->data, creq->len, hash);
	rv = append_all(&sts, parts, sizeof(parts) / sizeof(parts[0]));
	if (rv == 0) {
		hmac256(key, 32, sts.data, sts.len, mac);
		ows_hex_encode(mac, 32, out);
	}
	ows_buf_free(&sts);
	return rv;
}

/* ---- verification ---- */

static int check_time(const struct ows_sigv4_auth *a, int64_t now,
		      struct ows_err *err)
{
	if (!a->presigned) {
		if (a->time > now + OWS_SIGV4_SKEW_S ||
		    a->time < now - OWS_SIGV4_SKEW_S) {
			ows_err_printf(err,
				       "request time %s is more than %d "
				       "seconds from the server time",
				       a->amz_date, OWS_SIGV4_SKEW_S);
			return OWS_ESIG_SKEW;
		}
		return 0;
	}
	if (a->time > now + OWS_SIGV4_SKEW_S) {
		ows_err_printf(err, "request is not valid until %s",
			       a->amz_date);
		return OWS_ESIG_NOT_YET;
	}
	if (now > a->time + a->expires) {
		ows_err_printf(err, "request has expired");
		return OWS_ESIG_EXPIRED;
	}
	return 0;
}

static bool is_signed(const char *list, const char *name)
{
	size_t len = strlen(name);

	while (*list != '\0') {
		size_t n = strcspn(list, ";");

		if (n == len && strncasecmp(list, name, n) == 0)
			return true;
		list += n + (list[n] == ';');
	}
	return false;
}

/* S3 refuses x-amz-* headers that the signature does not cover. */
static int check_unsigned(const struct ows_sigv4_request *req,
			  const struct ows_sigv4_auth *a, struct ows_err *err)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name;

		if (strncasecmp(name, "x-amz-", 6) == 0 &&
		    !is_signed(a->signed_headers, name)) {
			ows_err_printf(err, "header '%.64s' is not signed",
				       name);
			return OWS_ESIG_UNSIGNED;
		}
	}
	return 0;
}

/* The last line of the canonical request. */
static int payload_line(const struct ows_sigv4_auth *a, const char *body_hex,
			const char **out, struct ows_err *err)
{
	static const char *const literal[] = {
	    [OWS_SIGV4_PAYLOAD_UNSIGNED] = "UNSIGNED-PAYLOAD",
	    [OWS_SIGV4_PAYLOAD_STREAMING] =
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	    [OWS_SIGV4_PAYLOAD_STREAMING_TRAILER] =
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	    [OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER] =
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	};

	switch (a->payload) {
	case OWS_SIGV4_PAYLOAD_HASH:
		*out = a->payload_hash;
		return 0;
	case OWS_SIGV4_PAYLOAD_BODY:
		if (a->s3 && !a->presigned) {
			ows_err_printf(err, "missing x-amz-content-sha256");
			return OWS_ESIG_REQUEST;
		}
		if (body_hex == NULL) {
			ows_err_printf(err, "the body hash is needed");
			return -EINVAL;
		}
		*out = body_hex;
		return 0;
	default:
		*out = literal[a->payload];
		return 0;
	}
}

int ows_sigv4_payload_check(const struct ows_sigv4_auth *a,
			    const char *body_sha256_hex, struct ows_err *err)
{
	if (a->payload != OWS_SIGV4_PAYLOAD_HASH)
		return 0;
	if (body_sha256_hex == NULL || strlen(body_sha256_hex) != 64 ||
	    strncasecmp(a->payload_hash, body_sha256_hex, 64) != 0) {
		ows_err_printf(err, "x-amz-content-sha256 does not match the "
				    "body");
		return OWS_ESIG_SHA256;
	}
	return 0;
}

int ows_sigv4_verify(const struct ows_sigv4_request *req,
		     const struct ows_sigv4_auth *a, const char *secret,
		     int64_t now, const char *body_sha256_hex,
		     struct ows_err *err)
{
	uint8_t key[32];
	int rv;

	ows_sigv4_signing_key(secret, a->date, a->region, a->service, key);
	rv = ows_sigv4_verify_key(req, a, key, now, body_sha256_hex, err);
	OPENSSL_cleanse(key, sizeof(key));
	return rv;
}

int ows_sigv4_verify_key(const struct ows_sigv4_request *req,
			 const struct ows_sigv4_auth *a, const uint8_t key[32],
			 int64_t now, const char *body_sha256_hex,
			 struct ows_err *err)
{
	struct ows_buf creq = OWS_BUF_INIT;
	const char *payload;
	char sig[65];
	int rv;

	rv = check_time(a, now, err);
	if (rv == 0 && a->s3)
		rv = check_unsigned(req, a, err);
	if (rv == 0)
		rv = payload_line(a, body_sha256_hex, &payload, err);
	if (rv == 0)
		rv = canonical_request(&creq, req, a->s3, a->presigned,
				       a->signed_headers, payload);
	if (rv == -ENOENT) {
		ows_err_printf(err, "a signed header is missing");
		rv = OWS_ESIG_SIGNATURE;
	}
	if (rv == 0)
		rv = signature_of(key, a->amz_date, a->date, a->region,
				  a->service, &creq, sig);
	ows_buf_free(&creq);
	if (rv == 0 && !ows_ct_equal(sig, a->signature, 64)) {
		ows_err_printf(err, "the request signature we calculated does "
				    "not match the signature you provided");
		rv = OWS_ESIG_SIGNATURE;
	}
	if (rv == 0 && body_sha256_hex != NULL)
		rv = ows_sigv4_payload_check(a, body_sha256_hex, err);
	return rv;
}

/* ---- the signer ---- */

/* An HTTP token (RFC 9110 tchar), as a header name must be. */
static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!unreserved((unsigned char)*s) &&
		    strchr("!#$%&'*+^`|", *s) == NULL)
			return false;
	return true;
}

static int name_cmp(const void *x, const void *y)
{
	return strcasecmp(*(const char *const *)x, *(const char *const *)y);
}

/* Lowercase names of every header but Authorization, sorted, deduplicated. */
static int signed_list(const struct ows_sigv4_request *req, char *out,
		       size_t cap)
{
	const char **names = calloc(req->n_headers + 1, sizeof(*names));
	size_t n = 0, len = 0;

	if (names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_headers; i++) {
		if (!is_token(req->headers[i].name)) {
			free(names);
			return -EINVAL;
		}
		if (strcasecmp(req->headers[i].name, "authorization") != 0)
			names[n++] = req->headers[i].name;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);

		if (i > 0 && strcasecmp(names[i], names[i - 1]) == 0)
			continue;
		if (len + nl + 2 > cap) {
			free(names);
			return -EINVAL;
		}
		if (len > 0)
			out[len++] = ';';
		for (size_t j = 0; j <= nl; j++)
			out[len + j] =
			    (char)tolower((unsigned char)names[i][j]);
		len += nl;
	}
	free(names);
	return 0;
}

int ows_sigv4_sign_header(const struct ows_sigv4_request *req,
			  const char *access_key, const char *secret,
			  const char *region, const char *service,
			  const char *payload_hash, char *out, size_t cap)
{
	struct ows_buf creq = OWS_BUF_INIT;
	char amz[17], date[9], sig[65], list[OWS_SIGV4_SIGNED_MAX];
	const char *v = ows__sigv4_header_get(req, "x-amz-date", NULL);
	uint8_t key[32];
	int64_t t;
	int rv, n;

	if (v == NULL || ows__sigv4_copy_trimmed(v, amz, sizeof(amz)) != 0 ||
	    ows__sigv4_parse_amz_date(amz, &t) != 0 ||
	    ows__sigv4_header_get(req, "host", NULL) == NULL)
		return -EINVAL;
	memcpy(date, amz, 8);
	date[8] = '\0';
	rv = signed_list(req, list, sizeof(list));
	if (rv == 0)
		rv = canonical_request(&creq, req, strcmp(service, "s3") == 0,
				       false, list, payload_hash);
	if (rv == 0) {
		ows_sigv4_signing_key(secret, date, region, service, key);
		rv = signature_of(key, amz, date, region, service, &creq, sig);
		OPENSSL_cleanse(key, sizeof(key));
	}
	ows_buf_free(&creq);
	if (rv != 0)
		return rv;
	n = snprintf(out, cap,
		     OWS_SIGV4_ALGORITHM
		     " Credential=%s/%s/%s/%s/aws4_request, "
		     "SignedHeaders=%s, Signature=%s",
		     access_key, date, region, service, list, sig);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
