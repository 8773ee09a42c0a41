/*
 * Payload format 2.0 events, response mapping and CORS headers; see
 * payload.h for the AWS statements each part follows.
 *
 * Events are built as jansson values (which keep insertion order, so the
 * keys come out in AWS's order) and dumped compactly. Everything that comes
 * from the client and goes into a JSON string is first made valid UTF-8,
 * because jansson refuses anything else. Response mapping treats the
 * function's output as untrusted: every header is checked for injection
 * before it can reach the wire.
 */
#include "gw/payload.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/enc.h"

#define MAX_B64_BODY ((size_t)1 << 30)

/* Header lists. */

void ows_gw_headers_init(struct ows_gw_headers *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

void ows_gw_headers_close(struct ows_gw_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	ows_gw_headers_init(h);
}

int ows_gw_headers_add(struct ows_gw_headers *h, const char *name,
		       const char *value)
{
	struct ows_gw_header *v;
	char *n, *val;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;

		v = realloc(h->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	n = strdup(name);
	val = strdup(value);
	if (n == NULL || val == NULL) {
		free(n);
		free(val);
		return -ENOMEM;
	}
	h->v[h->n].name = n;
	h->v[h->n++].value = val;
	return 0;
}

const char *ows_gw_headers_get(const struct ows_gw_headers *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

/* UTF-8. */

/* Length of the valid UTF-8 sequence at s (of len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* A JSON string of s, with bytes that are not UTF-8 replaced by U+FFFD. */
static json_t *jstr(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct ows_buf b = OWS_BUF_INIT;
	size_t i = 0, n;
	json_t *v;

	if (utf8_valid(s, len))
		return json_stringn(s, len);
	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (ows_buf_append(&b, n ? s + i : "\xef\xbf\xbd", n ? n : 3))
			break;
		i += n ? n : 1;
	}
	v = i == len ? json_stringn(b.data, b.len) : NULL;
	ows_buf_free(&b);
	return v;
}

/* Set key (any bytes: made UTF-8 like values) in obj; steals v. */
static int set(json_t *obj, const char *key, json_t *v)
{
	json_t *k;
	int rv;

	if (v == NULL)
		return -ENOMEM;
	if (utf8_valid(key, strlen(key)))
		return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
	k = jstr(key, strlen(key));
	rv = k ? json_object_set_new(obj, json_string_value(k), v) : -1;
	if (k == NULL)
		json_decref(v);
	json_decref(k);
	return rv == 0 ? 0 : -ENOMEM;
}

/* Append ",value" to the string at key, or set it ("a,b" for repeats). */
static int set_join(json_t *obj, const char *key, const char *value, size_t len,
		    const char *sep)
{
	const json_t *old = json_object_get(obj, key);
	struct ows_buf b = OWS_BUF_INIT;
	int rv;

	if (old == NULL)
		return set(obj, key, jstr(value, len));
	if (ows_buf_append(&b, json_string_value(old),
			   json_string_length(old)) ||
	    ows_buf_puts(&b, sep) || ows_buf_append(&b, value, len)) {
		ows_buf_free(&b);
		return -ENOMEM;
	}
	rv = set(obj, key, jstr(b.data, b.len));
	ows_buf_free(&b);
	return rv;
}

/* The event. */

/*
 * First value of a request header, ignoring case. (Not
 * ows_http_req_header: this module stays free of the HTTP server's code.)
 */
static const char *req_header(const struct ows_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* "a=1; b=2" into cookies[] ("a=1", "b=2"). */
static int add_cookies(json_t *cookies, const char *value)
{
	const char *p = value;

	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		const char *e = semi ? semi : p + strlen(p);
		const char *s = p;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s &&
		    json_array_append_new(cookies, jstr(s, (size_t)(e - s))))
			return -ENOMEM;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return 0;
}

static int event_headers(const struct ows_http_req *req, json_t *headers,
			 json_t *cookies)
{
	char name[256];
	int rv;

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *n = req->headers[i].name,
			   *v = req->headers[i].value;
		size_t len = strlen(n), j;

		if (len == 0 || len >= sizeof(name))
			continue;
		for (j = 0; j <= len; j++)
			name[j] = (char)tolower((unsigned char)n[j]);
		if (strcmp(name, "cookie") == 0)
			rv = add_cookies(cookies, v);
		else
			rv = set_join(headers, name, v, strlen(v), ",");
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* The address part of "1.2.3.4:5678" or "[::1]:5678". */
static void peer_ip(const char *peer, char *out, size_t cap)
{
	const char *e;

	if (peer[0] == '[' && (e = strchr(peer, ']')) != NULL)
		snprintf(out, cap, "%.*s", (int)(e - peer - 1), peer + 1);
	else if ((e = strrchr(peer, ':')) != NULL)
		snprintf(out, cap, "%.*s", (int)(e - peer), peer);
	else
		snprintf(out, cap, "%s", peer);
}

static int forwarded_headers(json_t *headers, const struct ows_gw_ctx *ctx,
			     const char *ip)
{
	char port[16];
	int rv = 0;

	if (ip[0] != '\0')
		rv = set_join(headers, "x-forwarded-for", ip, strlen(ip), ", ");
	if (rv == 0 && ctx->scheme != NULL)
		rv = set(headers, "x-forwarded-proto",
			 jstr(ctx->scheme, strlen(ctx->scheme)));
	if (rv == 0 && ctx->port != 0) {
		snprintf(port, sizeof(port), "%u", ctx->port);
		rv = set(headers, "x-forwarded-port", json_string(port));
	}
	return rv;
}

/* "a=1&a=2&b" into {"a": "1,2", "b": ""}, decoded. */
static int event_query(const char *query, json_t *params)
{
	const char *p = query;
	int rv = 0;

	while (*p != '\0' && rv == 0) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p), klen, vlen;
		const char *eq = memchr(p, '=', len);
		size_t rawk = eq ? (size_t)(eq - p) : len;
		char *k = ows_url_decode(p, rawk, true, &klen);
		char *v =
		    eq ? ows_url_decode(eq + 1, len - rawk - 1, true, &vlen)
		       : strdup("");

		if (k == NULL || v == NULL)
			rv = -ENOMEM;
		else if (klen > 0)
			rv = set_join(params, k, v, eq ? vlen : 0, ",");
		free(k);
		free(v);
		p += len + (amp ? 1 : 0);
	}
	return rv;
}

/* "12/Mar/2020:19:03:58 +0000" */
static void clf_time(int64_t ms, char *out, size_t cap)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, cap, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}

/* A JSON string of a context field: "" when NULL, made UTF-8. */
static json_t *text(const char *s)
{
	return s ? jstr(s, strlen(s)) : json_string("");
}

static json_t *event_context(const struct ows_http_req *req,
			     const struct ows_gw_match *m,
			     const struct ows_gw_ctx *ctx, const char *ip)
{
	const char *domain = ctx->domain ? ctx->domain : "", *ua;
	const char *dot = strchr(domain, '.');
	char when[64];
	json_t *http, *rc;

	ua = req_header(req, "user-agent");
	clf_time(ctx->time_ms, when, sizeof(when));
	http = json_object();
	rc = json_object();
	if (http == NULL || rc == NULL ||
	    set(http, "method", jstr(req->method, strlen(req->method))) ||
	    set(http, "path", jstr(req->path, strlen(req->path))) ||
	    set(http, "protocol",
		text(ctx->protocol ? ctx->protocol : "HTTP/1.1")) ||
	    set(http, "sourceIp", jstr(ip, strlen(ip))) ||
	    set(http, "userAgent", text(ua)) ||
	    set(rc, "accountId", text(ctx->account_id)) ||
	    set(rc, "apiId", text(ctx->api_id)) ||
	    set(rc, "domainName", text(domain)) ||
	    set(rc, "domainPrefix",
		jstr(domain, dot ? (size_t)(dot - domain) : strlen(domain))) ||
	    set(rc, "http", json_incref(http)) ||
	    set(rc, "requestId", text(ctx->request_id)) ||
	    set(rc, "routeKey", text(m->route_key)) ||
	    set(rc, "stage", json_string("$default")) ||
	    set(rc, "time", json_string(when)) ||
	    set(rc, "timeEpoch", json_integer(ctx->time_ms))) {
		json_decref(rc);
		rc = NULL;
	}
	json_decref(http);
	return rc;
}

/* Is the media type one whose body API Gateway passes as text? */
static bool text_type(const char *ct)
{
	static const char *const types[] = {
	    "application/json",
	    "application/xml",
	    "application/javascript",
	    "application/x-www-form-urlencoded",
	};
	size_t len;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	len = strcspn(ct, "; \t");
	if (len >= 5 && strncasecmp(ct, "text/", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len == strlen(types[i]) &&
		    strncasecmp(ct, types[i], len) == 0)
			return true;
	return (len > 5 && strncasecmp(ct + len - 5, "+json", 5) == 0) ||
	       (len > 4 && strncasecmp(ct + len - 4, "+xml", 4) == 0);
}

static int event_body(json_t *ev, const struct ows_http_req *req,
		      const char *body, size_t len, bool *b64)
{
	char *enc;
	int rv;

	*b64 = false;
	if (body == NULL || len == 0)
		return 0;
	if (text_type(req_header(req, "content-type")) && utf8_valid(body, len))
		return set(ev, "body", json_stringn(body, len));
	if (len > MAX_B64_BODY)
		return -EMSGSIZE;
	enc = malloc(OWS_B64_LEN(len));
	if (enc == NULL)
		return -ENOMEM;
	ows_b64_encode(body, len, enc);
	rv = set(ev, "body", json_string(enc));
	free(enc);
	*b64 = true;
	return rv;
}

/* json_dump_callback()'s callback: 0, or -1 (jansson's contract) to stop. */
static int dump_cb(const char *buffer, size_t size, void *data)
{
	return ows_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

static int event_params(json_t *ev, const struct ows_gw_match *m)
{
	json_t *pp;

	if (m->n_params == 0)
		return 0;
	pp = json_object();
	if (pp == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_params; i++)
		if (set(pp, m->params[i].name,
			jstr(m->params[i].value, strlen(m->params[i].value)))) {
			json_decref(pp);
			return -ENOMEM;
		}
	return set(ev, "pathParameters", pp);
}

/* Add obj as key unless it is empty (AWS leaves such fields out). */
static int set_nonempty(json_t *ev, const char *key, json_t *obj)
{
	if (json_is_object(obj) ? json_object_size(obj) == 0
				: json_array_size(obj) == 0) {
		json_decref(obj);
		return 0;
	}
	return set(ev, key, obj);
}

int ows_gw_event(const struct ows_http_req *req, const char *body, size_t len,
		 const struct ows_gw_match *m, const struct ows_gw_ctx *ctx,
		 struct ows_buf *out)
{
	json_t *ev = json_object(), *headers = json_object();
	json_t *cookies = json_array(), *query = json_object();
	char ip[64];
	bool b64 = false;
	int rv = -ENOMEM;

	if (ctx->source_ip != NULL)
		snprintf(ip, sizeof(ip), "%s", ctx->source_ip);
	else
		peer_ip(req->peer, ip, sizeof(ip));
	if (ev == NULL || headers == NULL || cookies == NULL || query == NULL)
		goto err_after_alloc;
	if ((rv = event_headers(req, headers, cookies)) != 0 ||
	    (rv = forwarded_headers(headers, ctx, ip)) != 0 ||
	    (rv = event_query(req->query, query)) != 0)
		goto err_after_alloc;
	if ((rv = set(ev, "version", json_string("2.0"))) ||
	    (rv = set(ev, "routeKey", text(m->route_key))) ||
	    (rv = set(ev, "rawPath", jstr(req->path, strlen(req->path)))) ||
	    (rv = set(ev, "rawQueryString",
		      jstr(req->query, strlen(req->query)))) ||
	    (rv = set_nonempty(ev, "cookies", json_incref(cookies))) ||
	    (rv = set(ev, "headers", json_incref(headers))) ||
	    (rv = set_nonempty(ev, "queryStringParameters",
			       json_incref(query))) ||
	    (rv = set(ev, "requestContext", event_context(req, m, ctx, ip))) ||
	    (rv = event_body(ev, req, body, len, &b64)) ||
	    (rv = event_params(ev, m)) ||
	    (rv = set(ev, "isBase64Encoded", json_boolean(b64))))
		goto err_after_alloc;
	if (json_dump_callback(ev, dump_cb, out, JSON_COMPACT) != 0)
		rv = -ENOMEM;
err_after_alloc:
	json_decref(query);
	json_decref(cookies);
	json_decref(headers);
	json_decref(ev);
	return rv;
}

/* Responses. */

void ows_gw_response_init(struct ows_gw_response *r)
{
	r->status = 0;
	ows_gw_headers_init(&r->headers);
	r->body = NULL;
	r->body_len = 0;
}

void ows_gw_response_close(struct ows_gw_response *r)
{
	ows_gw_headers_close(&r->headers);
	free(r->body);
	ows_gw_response_init(r);
}

static int set_body(struct ows_gw_response *r, const char *body, size_t len)
{
	char *b = malloc(len + 1);

	if (b == NULL)
		return -ENOMEM;
	memcpy(b, body, len);
	b[len] = '\0';
	free(r->body);
	r->body = b;
	r->body_len = len;
	return 0;
}

static int canned(struct ows_gw_response *out, int status, const char *body)
{
	ows_gw_response_close(out);
	out->status = status;
	if (ows_gw_headers_add(&out->headers, "content-type",
			       "application/json") ||
	    set_body(out, body, strlen(body))) {
		ows_gw_response_close(out);
		return -ENOMEM;
	}
	return 0;
}

int ows_gw_response_error(struct ows_gw_response *out)
{
	return canned(out, 500, "{\"message\":\"Internal Server Error\"}");
}

int ows_gw_response_not_found(struct ows_gw_response *out)
{
	return canned(out, 404, "{\"message\":\"Not Found\"}");
}

/* RFC 9110 token characters. */
static bool valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* Field values: no control characters but tab (no CR/LF injection). */
static bool valid_value(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Headers the HTTP server writes itself; a function cannot set them. */
static bool server_owned(const char *name)
{
	static const char *const owned[] = {
	    "content-length", "transfer-encoding",
	    "connection",     "keep-alive",
	    "upgrade",	      "te",
	    "trailer",	      "date",
	};

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strcasecmp(name, owned[i]) == 0)
			return true;
	return false;
}

/* Add name: v (a string, number or boolean); OWS_EINVAL otherwise. */
static int add_value(struct ows_gw_response *r, const char *name,
		     const json_t *v, struct ows_err *err)
{
	char num[64];
	const char *text = num;
	size_t len;

	if (json_is_string(v))
		text = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		text = json_is_true(v) ? "true" : "false";
	else {
		ows_err_printf(err, "header '%s' is not a string", name);
		return OWS_EINVAL;
	}
	len = json_is_string(v) ? json_string_length(v) : strlen(text);
	if (!valid_name(name) || !valid_value(text, len)) {
		ows_err_printf(err, "invalid header '%.64s'", name);
		return OWS_EINVAL;
	}
	if (server_owned(name))
		return 0;
	return ows_gw_headers_add(&r->headers, name, text);
}

/* The key of obj equal to name ignoring case, or NULL. */
static const json_t *get_nocase(const json_t *obj, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)obj, k, v)
		if (strcasecmp(k, name) == 0)
			return v;
	return NULL;
}

static int map_headers(const json_t *res, struct ows_gw_response *r,
		       struct ows_err *err)
{
	const json_t *h = json_object_get(res, "headers");
	const json_t *mv = json_object_get(res, "multiValueHeaders");
	const char *k;
	json_t *v, *item;
	size_t i;
	int rv;

	if ((h && !json_is_object(h) && !json_is_null(h)) ||
	    (mv && !json_is_object(mv) && !json_is_null(mv))) {
		ows_err_printf(err, "headers must be an object");
		return OWS_EINVAL;
	}
	json_object_foreach ((json_t *)h, k, v) {
		if (mv != NULL && get_nocase(mv, k) != NULL)
			continue; /* multiValueHeaders wins */
		if (!json_is_null(v) && (rv = add_value(r, k, v, err)) != 0)
			return rv;
	}
	json_object_foreach ((json_t *)mv, k, v) {
		if (!json_is_array(v)) {
			ows_err_printf(err,
				       "multiValueHeaders '%.64s' is not "
				       "an array",
				       k);
			return OWS_EINVAL;
		}
		json_array_foreach (v, i, item)
			if ((rv = add_value(r, k, item, err)) != 0)
				return rv;
	}
	return 0;
}

static int map_cookies(const json_t *res, struct ows_gw_response *r,
		       struct ows_err *err)
{
	const json_t *c = json_object_get(res, "cookies"), *item;
	size_t i;
	int rv;

	if (c == NULL || json_is_null(c))
		return 0;
	if (!json_is_array(c)) {
		ows_err_printf(err, "cookies must be an array");
		return OWS_EINVAL;
	}
	json_array_foreach (c, i, item) {
		if (!json_is_string(item)) {
			ows_err_printf(err, "cookies must be strings");
			return OWS_EINVAL;
		}
		if ((rv = add_value(r, "Set-Cookie", item, err)) != 0)
			return rv;
	}
	return 0;
}

static int map_body(const json_t *res, struct ows_gw_response *r,
		    struct ows_err *err)
{
	const json_t *body = json_object_get(res, "body");
	const json_t *b64 = json_object_get(res, "isBase64Encoded");
	long n;
	int rv;

	if ((body && !json_is_string(body) && !json_is_null(body)) ||
	    (b64 && !json_is_boolean(b64) && !json_is_null(b64))) {
		ows_err_printf(err, "body must be a string and "
				    "isBase64Encoded a boolean");
		return OWS_EINVAL;
	}
	rv = set_body(r, json_is_string(body) ? json_string_value(body) : "",
		      json_is_string(body) ? json_string_length(body) : 0);
	if (rv != 0 || !json_is_true(b64))
		return rv;
	n = ows_b64_decode_n(r->body, r->body_len, r->body, r->body_len);
	if (n < 0) {
		ows_err_printf(err, "body is not valid base64");
		return OWS_EINVAL;
	}
	r->body_len = (size_t)n;
	r->body[n] = '\0';
	return 0;
}

static int map_full(const json_t *res, struct ows_gw_response *r,
		    struct ows_err *err)
{
	const json_t *sc = json_object_get(res, "statusCode");
	int rv;

	if (!json_is_integer(sc) || json_integer_value(sc) < 100 ||
	    json_integer_value(sc) > 599) {
		ows_err_printf(err, "statusCode must be an integer from 100 "
				    "to 599");
		return OWS_EINVAL;
	}
	r->status = (int)json_integer_value(sc);
	if ((rv = map_headers(res, r, err)) != 0 ||
	    (rv = map_cookies(res, r, err)) != 0)
		return rv;
	return map_body(res, r, err);
}

/* "API Gateway can infer the response format for you" (see payload.h). */
static int map_inferred(const json_t *res, const char *raw, size_t len,
			struct ows_gw_response *r)
{
	r->status = 200;
	if (ows_gw_headers_add(&r->headers, "content-type", "application/json"))
		return -ENOMEM;
	if (json_is_string(res))
		return set_body(r, json_string_value(res),
				json_string_length(res));
	return set_body(r, raw, len);
}

int ows_gw_response(const char *fn_result, size_t len,
		    struct ows_gw_response *out, struct ows_err *err)
{
	json_error_t je;
	json_t *res;
	int rv;

	ows_gw_response_close(out);
	res = json_loadb(fn_result, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (res == NULL) {
		ows_err_printf(err, "function result is not valid JSON: %s",
			       je.text);
		rv = OWS_EINVAL;
	} else if (json_is_object(res) &&
		   json_object_get(res, "statusCode") != NULL) {
		rv = map_full(res, out, err);
	} else {
		rv = map_inferred(res, fn_result, len, out);
	}
	json_decref(res);
	if (rv == OWS_EINVAL && ows_gw_response_error(out) != 0)
		return -ENOMEM;
	if (rv == -ENOMEM)
		ows_gw_response_close(out);
	return rv;
}

/* CORS. */

/* Is s in the string array at key (case-insensitively, "*" matching all)? */
static bool list_has(const json_t *cors, const char *key, const char *s)
{
	const json_t *item;
	size_t i;

	json_array_foreach (json_object_get(cors, key), i, item) {
		const char *v = json_string_value(item);

		if (v != NULL && (strcmp(v, "*") == 0 || strcasecmp(v, s) == 0))
			return true;
	}
	return false;
}

/* 0: not allowed, 1: allowed by name or prefix, 2: allowed by "*". */
static int origin_allowed(const json_t *cors, const char *origin)
{
	const json_t *item;
	size_t i;
	int best = 0;

	json_array_foreach (json_object_get(cors, "allow_origins"), i, item) {
		const char *v = json_string_value(item);
		size_t len = v ? strlen(v) : 0;

		if (v == NULL || len == 0)
			continue;
		if (strcmp(v, "*") == 0)
			best = best ? best : 2;
		else if (v[len - 1] == '*' &&
			 strncasecmp(v, origin, len - 1) == 0)
			best = 1;
		else if (strcasecmp(v, origin) == 0)
			best = 1;
	}
	return best;
}

/* The strings at key joined with ","; NULL when none; -ENOMEM via *rv. */
static char *list_join(const json_t *cors, const char *key, int *rv)
{
	struct ows_buf b = OWS_BUF_INIT;
	const json_t *item;
	size_t i;

	json_array_foreach (json_object_get(cors, key), i, item) {
		const char *v = json_string_value(item);

		if (v == NULL || !valid_value(v, strlen(v)))
			continue;
		if ((b.len && ows_buf_puts(&b, ",")) || ows_buf_puts(&b, v)) {
			ows_buf_free(&b);
			*rv = -ENOMEM;
			return NULL;
		}
	}
	return b.data;
}

/* Add name: the joined list at key, when the list is not empty. */
static int add_list(struct ows_gw_headers *out, const char *name,
		    const json_t *cors, const char *key, int *count)
{
	int rv = 0;
	char *v = list_join(cors, key, &rv);

	if (v != NULL) {
		rv = ows_gw_headers_add(out, name, v);
		*count += rv == 0;
	}
	free(v);
	return rv;
}

static int add_one(struct ows_gw_headers *out, const char *name,
		   const char *value, int *count)
{
	int rv = ows_gw_headers_add(out, name, value);

	*count += rv == 0;
	return rv;
}

int ows_gw_cors_headers(const json_t *cors, const char *origin,
			const char *method, bool preflight,
			struct ows_gw_headers *out)
{
	bool creds = json_is_true(json_object_get(cors, "allow_credentials"));
	const json_t *max_age = json_object_get(cors, "max_age");
	int how, count = 0, rv;
	char num[32];

	if (!json_is_object(cors) || origin == NULL || origin[0] == '\0' ||
	    !valid_value(origin, strlen(origin)))
		return 0;
	how = origin_allowed(cors, origin);
	if (how == 0 ||
	    (preflight &&
	     (method == NULL || !list_has(cors, "allow_methods", method))))
		return 0;
	if (how == 2 && !creds)
		rv = add_one(out, "Access-Control-Allow-Origin", "*", &count);
	else if ((rv = add_one(out, "Access-Control-Allow-Origin", origin,
			       &count)) == 0)
		rv = add_one(out, "Vary", "Origin", &count);
	if (rv == 0 && creds)
		rv = add_one(out, "Access-Control-Allow-Credentials", "true",
			     &count);
	if (rv == 0 && !preflight)
		rv = add_list(out, "Access-Control-Expose-Headers", cors,
			      "expose_headers", &count);
	if (rv == 0 && preflight)
		rv = add_list(out, "Access-Control-Allow-Methods", cors,
			      "allow_methods", &count);
	if (rv == 0 && preflight)
		rv = add_list(out, "Access-Control-Allow-Headers", cors,
			      "allow_headers", &count);
	if (rv == 0 && preflight && json_is_integer(max_age) &&
	    json_integer_value(max_age) >= 0) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(max_age));
		rv = add_one(out, "Access-Control-Max-Age", num, &count);
	}
	return rv != 0 ? rv : count;
}

int ows_gw_cors_apply(const json_t *cors, const char *origin,
		      struct ows_gw_response *resp)
{
	struct ows_gw_headers *h = &resp->headers;
	size_t j = 0;
	int rv;

	for (size_t i = 0; i < h->n; i++) {
		if (strncasecmp(h->v[i].name, "access-control-", 15) == 0) {
			free(h->v[i].name);
			free(h->v[i].value);
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	rv = ows_gw_cors_headers(cors, origin, NULL, false, h);
	return rv < 0 ? rv : 0;
}
