/*
 * SigV4: finding the credentials of a request, in the Authorization header
 * or a presigned query, and checking their form (see sigv4.h), plus the
 * table from result codes to AWS errors. sigv4.c builds and checks the
 * signature itself.
 */
#include "auth/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4_int.h"
#include "common/enc.h"

/* ---- error table ---- */

struct error_entry {
	int rc, status;
	const char *code, *s3_code, *message;
};

static const struct error_entry errors[] = {
    {OWS_ESIG_MISSING, 403, "MissingAuthenticationToken", "AccessDenied",
     "Request is missing Authentication Token"},
    {OWS_ESIG_MALFORMED, 400, "IncompleteSignature",
     "AuthorizationHeaderMalformed", "The authorization header is malformed"},
    {OWS_ESIG_QUERY, 400, "AuthorizationQueryParametersError", NULL,
     "Error parsing the X-Amz-Credential parameter"},
    {OWS_ESIG_ACCESS_KEY, 403, "InvalidAccessKeyId", NULL,
     "The AWS Access Key Id you provided does not exist in our records."},
    {OWS_ESIG_SIGNATURE, 403, "SignatureDoesNotMatch", NULL,
     "The request signature we calculated does not match the signature "
     "you provided."},
    {OWS_ESIG_SKEW, 403, "RequestTimeTooSkewed", NULL,
     "The difference between the request time and the current time is "
     "too large."},
    {OWS_ESIG_EXPIRED, 403, "ExpiredToken", "AccessDenied",
     "Request has expired"},
    {OWS_ESIG_NOT_YET, 403, "AccessDenied", NULL, "Request is not valid yet"},
    {OWS_ESIG_UNSIGNED, 403, "AccessDenied", NULL,
     "There were headers present in the request which were not signed"},
    {OWS_ESIG_SHA256, 400, "XAmzContentSHA256Mismatch", NULL,
     "The provided 'x-amz-content-sha256' header does not match what was "
     "computed."},
    {OWS_ESIG_ARGUMENT, 400, "InvalidArgument", NULL, "Invalid argument"},
    {OWS_ESIG_REQUEST, 400, "InvalidRequest", NULL,
     "Missing required header for this request: x-amz-content-sha256"},
    {OWS_ESIG_BODY, 400, "IncompleteBody", NULL,
     "The request body terminated unexpectedly"},
    {OWS_ESIG_CHUNK_SIZE, 400, "InvalidChunkSizeError", NULL,
     "Only the last chunk is allowed to have a size less than 8192 bytes"},
    {OWS_ESIG_SCOPE, 403, "SignatureDoesNotMatch",
     "AuthorizationHeaderMalformed",
     "Credential should be scoped to a valid region."},
};

int ows_sigv4_error(int rc, bool s3, const char **code, const char **message)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const struct error_entry *e = &errors[i];

		if (e->rc != rc)
			continue;
		*code = s3 && e->s3_code != NULL ? e->s3_code : e->code;
		if (message != NULL)
			*message = e->message;
		return e->status;
	}
	*code = "InternalError";
	if (message != NULL)
		*message =
		    "We encountered an internal error. Please try again.";
	return 500;
}

/* ---- small text helpers ---- */

/* Stable: re-encoding a decoding always gives the same text back. */
int ows__sigv4_pct_decode(struct ows_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int rv;

		if (c == '%' && i + 2 < n && ows_hex_digit(s[i + 1]) >= 0 &&
		    ows_hex_digit(s[i + 2]) >= 0) {
			c = (char)(ows_hex_digit(s[i + 1]) << 4 |
				   ows_hex_digit(s[i + 2]));
			i += 2;
		}
		rv = ows_buf_append(b, &c, 1);
		if (rv != 0)
			return rv;
	}
	return 0;
}

const char *ows__sigv4_header_get(const struct ows_sigv4_request *req,
				  const char *name, int *count)
{
	const char *v = NULL;
	int n = 0;

	for (size_t i = 0; i < req->n_headers; i++) {
		if (strcasecmp(req->headers[i].name, name) != 0)
			continue;
		if (n++ == 0)
			v = req->headers[i].value;
	}
	if (count != NULL)
		*count = n;
	return v;
}

int ows__sigv4_copy_trimmed(const char *v, char *out, size_t cap)
{
	size_t n;

	while (ows_sigv4_is_space(*v))
		v++;
	n = strlen(v);
	while (n > 0 && ows_sigv4_is_space(v[n - 1]))
		n--;
	if (n >= cap)
		return -ENOSPC;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ows_hex_digit(s[i]) < 0)
			return false;
	return s[n] == '\0';
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The value of n decimal digits, or -1 (not an error code) for a non-digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Strict "YYYYMMDDTHHMMSSZ" to Unix seconds. */
int ows__sigv4_parse_amz_date(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, sec;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return OWS_EPARSE;
	y = digits(s, 4);
	mo = digits(s + 4, 2);
	d = digits(s + 6, 2);
	h = digits(s + 9, 2);
	mi = digits(s + 11, 2);
	sec = digits(s + 13, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return OWS_EPARSE;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

/*
 * An RFC 1123 Date header, the fallback when x-amz-date is absent: 0 or
 * OWS_EPARSE.
 */
static int parse_http_date(const char *s, char out[17], int64_t *t)
{
	struct tm tm;
	const char *end;
	char tmp[80];

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return OWS_EPARSE;
	snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	if (strlen(tmp) != 16)
		return OWS_EPARSE;
	memcpy(out, tmp, 17);
	return ows__sigv4_parse_amz_date(out, t);
}

/* ---- parsing the credentials ---- */

/* "AKID/DATE/REGION/SERVICE/aws4_request" into a: 0 or OWS_EPARSE. */
static int parse_credential(const char *c, struct ows_sigv4_auth *a)
{
	const char *parts[5], *p = c;
	size_t lens[5];
	char *fields[4] = {a->access_key, a->date, a->region, a->service};
	size_t caps[4] = {sizeof(a->access_key), sizeof(a->date),
			  sizeof(a->region), sizeof(a->service)};

	for (int i = 0; i < 5; i++) {
		const char *slash = strchr(p, '/');

		if ((slash == NULL) != (i == 4))
			return OWS_EPARSE;
		parts[i] = p;
		lens[i] = slash != NULL ? (size_t)(slash - p) : strlen(p);
		p = slash != NULL ? slash + 1 : p;
	}
	if (lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
		return OWS_EPARSE;
	for (int i = 0; i < 4; i++) {
		if (lens[i] == 0 || lens[i] >= caps[i])
			return OWS_EPARSE;
		memcpy(fields[i], parts[i], lens[i]);
		fields[i][lens[i]] = '\0';
	}
	if (strlen(a->date) != 8 || digits(a->date, 8) < 0)
		return OWS_EPARSE;
	a->s3 = strcmp(a->service, "s3") == 0;
	return 0;
}

/*
 * Lowercase names, ascending, no empties, and host among them: 0,
 * OWS_EPARSE, or OWS_EINVAL when host is missing.
 */
static int check_signed_headers(const char *s)
{
	const char *prev = NULL, *p = s;
	size_t prev_len = 0;
	bool host = false;

	for (;;) {
		size_t n = strcspn(p, ";");

		if (n == 0)
			return OWS_EPARSE;
		for (size_t i = 0; i < n; i++)
			if (isupper((unsigned char)p[i]) || p[i] <= ' ' ||
			    p[i] == ':' || (unsigned char)p[i] >= 127)
				return OWS_EPARSE;
		if (prev != NULL) {
			int c = memcmp(prev, p, prev_len < n ? prev_len : n);

			if (c > 0 || (c == 0 && prev_len >= n))
				return OWS_EPARSE;
		}
		host |= n == 4 && memcmp(p, "host", 4) == 0;
		prev = p;
		prev_len = n;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return host ? 0 : OWS_EINVAL;
}

/*
 * Split "k=v" at a ',' boundary out of the Authorization parameters: 0,
 * OWS_ENOTFOUND, or -ENOSPC when the value is empty or does not fit.
 */
static int auth_param(const char *params, const char *key, char *out,
		      size_t cap)
{
	size_t klen = strlen(key);
	const char *p = params;

	while (*p != '\0') {
		size_t n;

		while (ows_sigv4_is_space(*p) || *p == ',')
			p++;
		n = strcspn(p, ",");
		if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = n - klen - 1;

			while (vlen > 0 &&
			       ows_sigv4_is_space(p[klen + 1 + vlen - 1]))
				vlen--;
			if (vlen == 0 || vlen >= cap)
				return -ENOSPC;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p += n;
	}
	return OWS_ENOTFOUND;
}

static int set_signature(struct ows_sigv4_auth *a, const char *sig)
{
	if (strlen(sig) != 64 || !all_hex(sig, 64))
		return OWS_EPARSE;
	for (int i = 0; i < 64; i++)
		a->signature[i] = (char)tolower((unsigned char)sig[i]);
	a->signature[64] = '\0';
	return 0;
}

static int parse_header_auth(const struct ows_sigv4_request *req, const char *h,
			     struct ows_sigv4_auth *a, struct ows_err *err)
{
	char cred[OWS_SIGV4_KEY_MAX + 160], sig[80];
	const char *date;
	int rv;

	while (ows_sigv4_is_space(*h))
		h++;
	if (strncmp(h, OWS_SIGV4_ALGORITHM, strlen(OWS_SIGV4_ALGORITHM)) != 0 ||
	    !(ows_sigv4_is_space(h[strlen(OWS_SIGV4_ALGORITHM)]) ||
	      h[strlen(OWS_SIGV4_ALGORITHM)] == '\0')) {
		ows_err_printf(err, "unsupported authorization type");
		return OWS_ESIG_ARGUMENT;
	}
	h += strlen(OWS_SIGV4_ALGORITHM);
	if (auth_param(h, "Credential", cred, sizeof(cred)) != 0 ||
	    auth_param(h, "SignedHeaders", a->signed_headers,
		       sizeof(a->signed_headers)) != 0 ||
	    auth_param(h, "Signature", sig, sizeof(sig)) != 0) {
		ows_err_printf(err, "Authorization header requires "
				    "Credential, SignedHeaders and Signature");
		return OWS_ESIG_MALFORMED;
	}
	if (parse_credential(cred, a) != 0 || set_signature(a, sig) != 0) {
		ows_err_printf(err, "malformed Credential or Signature");
		return OWS_ESIG_MALFORMED;
	}
	rv = check_signed_headers(a->signed_headers);
	if (rv != 0) {
		ows_err_printf(err, rv == OWS_EINVAL
					    ? "host header must be signed"
					    : "malformed SignedHeaders");
		return OWS_ESIG_MALFORMED;
	}
	date = ows__sigv4_header_get(req, "x-amz-date", NULL);
	if (date != NULL
		? ows__sigv4_copy_trimmed(date, a->amz_date, 17) != 0 ||
		      ows__sigv4_parse_amz_date(a->amz_date, &a->time) != 0
		: (date = ows__sigv4_header_get(req, "date", NULL)) == NULL ||
		      parse_http_date(date, a->amz_date, &a->time) != 0) {
		ows_err_printf(err, "missing or malformed x-amz-date");
		return OWS_ESIG_MALFORMED;
	}
	return 0;
}

/*
 * The decoded value of query parameter key (exact, case-sensitive, as AWS
 * compares it) into out. 1 when found, 0 when absent, OWS_EPARSE when it
 * does not fit, is repeated or does not decode.
 */
static int query_param(const char *q, const char *key, char *out, size_t cap)
{
	struct ows_buf k = OWS_BUF_INIT, v = OWS_BUF_INIT;
	int found = 0;

	while (q != NULL && *q != '\0' && found >= 0) {
		size_t n = strcspn(q, "&"), kn = strcspn(q, "=");

		kn = kn < n ? kn : n;
		ows_buf_reset(&k);
		ows_buf_reset(&v);
		if (ows__sigv4_pct_decode(&k, q, kn) != 0 ||
		    (kn < n &&
		     ows__sigv4_pct_decode(&v, q + kn + 1, n - kn - 1) != 0)) {
			found = OWS_EPARSE;
		} else if (k.data != NULL && strcmp(k.data, key) == 0) {
			if (found++ || v.len >= cap)
				found = OWS_EPARSE;
			else
				memcpy(out, v.data != NULL ? v.data : "",
				       v.len + 1);
		}
		q += n + (q[n] == '&');
	}
	ows_buf_free(&k);
	ows_buf_free(&v);
	return found;
}

static int query_error(struct ows_err *err, const char *why)
{
	ows_err_printf(err, "%s", why);
	return OWS_ESIG_QUERY;
}

static int parse_query_auth(const struct ows_sigv4_request *req,
			    struct ows_sigv4_auth *a, struct ows_err *err)
{
	char alg[32], cred[OWS_SIGV4_KEY_MAX + 160], sig[80], exp[16];
	const char *q = req->query;
	char *end;
	int rv;

	if (query_param(q, "X-Amz-Algorithm", alg, sizeof(alg)) != 1 ||
	    strcmp(alg, OWS_SIGV4_ALGORITHM) != 0)
		return query_error(err, "X-Amz-Algorithm only supports "
					"\"AWS4-HMAC-SHA256\"");
	if (query_param(q, "X-Amz-Credential", cred, sizeof(cred)) != 1 ||
	    parse_credential(cred, a) != 0)
		return query_error(err, "error parsing the X-Amz-Credential "
					"parameter");
	if (query_param(q, "X-Amz-Date", a->amz_date, 17) != 1 ||
	    ows__sigv4_parse_amz_date(a->amz_date, &a->time) != 0)
		return query_error(err, "X-Amz-Date must be in the ISO8601 "
					"Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
	if (query_param(q, "X-Amz-Expires", exp, sizeof(exp)) != 1 ||
	    !isdigit((unsigned char)exp[0]))
		return query_error(err, "X-Amz-Expires must be a number");
	a->expires = strtoll(exp, &end, 10);
	if (*end != '\0' || a->expires < 1 ||
	    a->expires > OWS_SIGV4_EXPIRES_MAX)
		return query_error(err, "X-Amz-Expires must be between 1 and "
					"604800 seconds");
	if (query_param(q, "X-Amz-SignedHeaders", a->signed_headers,
			sizeof(a->signed_headers)) != 1)
		return query_error(err, "X-Amz-SignedHeaders is missing");
	rv = check_signed_headers(a->signed_headers);
	if (rv != 0)
		return query_error(err, rv == OWS_EINVAL
					    ? "host header must be signed"
					    : "malformed X-Amz-SignedHeaders");
	if (query_param(q, "X-Amz-Signature", sig, sizeof(sig)) != 1 ||
	    set_signature(a, sig) != 0)
		return query_error(err, "X-Amz-Signature is missing or "
					"malformed");
	a->presigned = true;
	return 0;
}

/* Read x-amz-content-sha256 into a->payload. */
static int parse_payload(const struct ows_sigv4_request *req,
			 struct ows_sigv4_auth *a, struct ows_err *err)
{
	static const struct {
		const char *name;
		enum ows_sigv4_payload mode;
	} modes[] = {
	    {"UNSIGNED-PAYLOAD", OWS_SIGV4_PAYLOAD_UNSIGNED},
	    {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", OWS_SIGV4_PAYLOAD_STREAMING},
	    {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	     OWS_SIGV4_PAYLOAD_STREAMING_TRAILER},
	    {"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	     OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
	};
	const char *v = ows__sigv4_header_get(req, "x-amz-content-sha256", NULL);
	char val[72];

	if (v == NULL) {
		/* Presigned S3 URLs never cover the body. */
		a->payload = a->s3 && a->presigned ? OWS_SIGV4_PAYLOAD_UNSIGNED
						   : OWS_SIGV4_PAYLOAD_BODY;
		return 0;
	}
	if (ows__sigv4_copy_trimmed(v, val, sizeof(val)) == 0) {
		if (strlen(val) == 64 && all_hex(val, 64)) {
			a->payload = OWS_SIGV4_PAYLOAD_HASH;
			memcpy(a->payload_hash, val, 65);
			return 0;
		}
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (strcmp(val, modes[i].name) != 0)
				continue;
			a->payload = modes[i].mode;
			if (!a->presigned || i == 0)
				return 0;
		}
	}
	ows_err_printf(err, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
			    "STREAMING-..., or a valid sha256 value");
	return OWS_ESIG_ARGUMENT;
}

int ows_sigv4_parse(const struct ows_sigv4_request *req,
		    struct ows_sigv4_auth *out, struct ows_err *err)
{
	char probe[8];
	int n, rv, inq = 0;
	const char *h;

	memset(out, 0, sizeof(*out));
	h = ows__sigv4_header_get(req, "authorization", &n);
	if (req->query != NULL)
		inq =
		    query_param(req->query, "X-Amz-Algorithm", probe, 1) != 0 ||
		    query_param(req->query, "X-Amz-Credential", probe, 1) !=
			0 ||
		    query_param(req->query, "X-Amz-Signature", probe, 1) != 0;
	if (h == NULL && !inq) {
		ows_err_printf(err, "request carries no credentials");
		return OWS_ESIG_MISSING;
	}
	if (h != NULL && inq) {
		ows_err_printf(err, "only one auth mechanism allowed");
		return OWS_ESIG_ARGUMENT;
	}
	if (n > 1) {
		ows_err_printf(err, "more than one Authorization header");
		return OWS_ESIG_MALFORMED;
	}
	rv = h != NULL ? parse_header_auth(req, h, out, err)
		       : parse_query_auth(req, out, err);
	if (rv == 0 && strncmp(out->date, out->amz_date, 8) != 0) {
		ows_err_printf(err,
			       "credential date '%s' is not the date of "
			       "the request",
			       out->date);
		rv = h != NULL ? OWS_ESIG_MALFORMED : OWS_ESIG_QUERY;
	}
	if (rv == 0)
		rv = parse_payload(req, out, err);
	out->has_security_token =
	    ows__sigv4_header_get(req, "x-amz-security-token", NULL) != NULL ||
	    (req->query != NULL &&
	     query_param(req->query, "X-Amz-Security-Token", probe, 1) != 0);
	return rv;
}

int ows_sigv4_check_scope(const struct ows_sigv4_auth *a, const char *region,
			  const char *service, struct ows_err *err)
{
	if (strcmp(a->region, region) != 0) {
		ows_err_printf(err, "Credential should be scoped to a valid "
			       "region.");
		return OWS_ESIG_SCOPE;
	}
	if (service != NULL && strcmp(a->service, service) != 0) {
		ows_err_printf(err, "Credential should be scoped to correct "
			       "service: '%s'.", service);
		return OWS_ESIG_SCOPE;
	}
	if (!a->s3 && a->payload != OWS_SIGV4_PAYLOAD_HASH &&
	    a->payload != OWS_SIGV4_PAYLOAD_BODY) {
		ows_err_printf(err, "only S3 accepts a payload the signature "
			       "does not cover (x-amz-content-sha256: "
			       "UNSIGNED-PAYLOAD or STREAMING-...)");
		return OWS_ESIG_SIGNATURE;
	}
	return 0;
}
