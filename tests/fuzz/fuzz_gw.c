/*
 * Fuzz target for the API gateway (src/gw/): the first byte picks what the
 * rest is fed to: a route table (JSON) then matched, a request path matched
 * against a fixed table, a function result mapped to a response, request
 * parts turned into a payload 2.0 event, or a CORS configuration. Besides
 * not crashing it checks promises that hold for every input: a mapped
 * response has a status from 100 to 599 and no header with CR or LF (no
 * header injection from a function), and every event is valid JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw/payload.h"
#include "gw/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = {"GET", "POST", "HEAD", "OPTIONS"};
static const char *const paths[] = {
    "/", "/a", "/a/b", "/a/b/", "/pets/1", "/x%2Fy/z", "//", "/api/a/b/c",
};

static struct ows_gw_table *fixed_table(void)
{
	static const char routes[] =
	    "[{\"name\":\"GET /pets/{id}\",\"spec\":{\"function\":\"a\"}},"
	    "{\"name\":\"GET /pets/dog\",\"spec\":{\"function\":\"b\"}},"
	    "{\"name\":\"ANY /api/{proxy+}\",\"spec\":{\"function\":\"c\"}},"
	    "{\"name\":\"POST /{a}/{b}\",\"spec\":{\"function\":\"d\"}},"
	    "{\"name\":\"$default\",\"spec\":{\"function\":\"e\"}}]";
	struct ows_err err = {""};
	struct ows_gw_table *t = NULL;
	json_t *j = json_loads(routes, 0, NULL);

	if (j == NULL || ows_gw_routes_build(j, &t, &err) != 0)
		abort();
	json_decref(j);
	return t;
}

static void match_all(const struct ows_gw_table *t, const char *path)
{
	struct ows_gw_match m;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (ows_gw_match(t, methods[i], path, &m) == 0) {
			if (m.function == NULL || m.route_key == NULL)
				abort();
			for (size_t k = 0; k < m.n_params; k++)
				if (m.params[k].value == NULL)
					abort();
		}
		ows_gw_match_close(&m);
	}
}

static void fuzz_routes(const char *s, size_t len)
{
	struct ows_err err = {""};
	struct ows_gw_table *t = NULL;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY, NULL);

	if (j == NULL)
		return;
	if (ows_gw_routes_build(j, &t, &err) == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			match_all(t, paths[i]);
		ows_gw_table_free(t);
	}
	json_decref(j);
}

static void fuzz_response(const char *s, size_t len)
{
	struct ows_err err = {""};
	struct ows_gw_response r;

	ows_gw_response_init(&r);
	if (ows_gw_response(s, len, &r, &err) != -ENOMEM) {
		if (r.status < 100 || r.status > 599)
			abort();
		for (size_t i = 0; i < r.headers.n; i++)
			if (strpbrk(r.headers.v[i].value, "\r\n") ||
			    strpbrk(r.headers.v[i].name, "\r\n: "))
				abort();
	}
	ows_gw_response_close(&r);
}

/* Split s at '\n' into up to n NUL-terminated parts (s is writable). */
static size_t split(char *s, char **parts, size_t n)
{
	size_t k = 0;

	while (k < n) {
		parts[k++] = s;
		s = strchr(s, '\n');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return k;
}

/* path \n query \n cookie \n content-type \n body */
static void fuzz_event(const struct ows_gw_table *t, char *s, size_t len)
{
	struct ows_gw_ctx ctx = {.time_ms = (int64_t)len * 7919};
	struct ows_http_header h[3];
	struct ows_http_req req;
	struct ows_buf out = OWS_BUF_INIT;
	struct ows_gw_match m;
	char *p[5] = {"/", "", "", "", ""};
	size_t n = split(s, p, 5);
	json_t *ev;

	if (ows_gw_match(t, "GET", p[0], &m) != 0)
		return;
	memset(&req, 0, sizeof(req));
	h[0] = (struct ows_http_header){"Cookie", p[2]};
	h[1] = (struct ows_http_header){"Content-Type", p[3]};
	h[2] = (struct ows_http_header){"X-Thing", p[2]};
	req.method = "GET";
	req.path = p[0];
	req.query = p[1];
	req.headers = h;
	req.n_headers = 3;
	memcpy(req.peer, "[::1]:80", 9);
	if (ows_gw_event(&req, n == 5 ? p[4] : NULL, n == 5 ? strlen(p[4]) : 0,
			 &m, &ctx, &out) == 0) {
		ev = json_loadb(out.data, out.len, 0, NULL);
		if (ev == NULL)
			abort();
		json_decref(ev);
	}
	ows_buf_free(&out);
	ows_gw_match_close(&m);
}

static void fuzz_cors(const char *s, size_t len)
{
	static const char *const origins[] = {
	    "https://a.example",
	    "http://localhost:3000",
	    "null",
	    "",
	};
	struct ows_gw_headers h;
	json_t *cors = json_loadb(s, len, JSON_DECODE_ANY, NULL);

	ows_gw_headers_init(&h);
	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		(void)ows_gw_cors_headers(cors, origins[i], "GET", true, &h);
		(void)ows_gw_cors_headers(cors, origins[i], NULL, false, &h);
	}
	for (size_t i = 0; i < h.n; i++)
		if (strpbrk(h.v[i].value, "\r\n"))
			abort();
	ows_gw_headers_close(&h);
	json_decref(cors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ows_gw_table *t;
	char *s;

	if (size == 0)
		return 0;
	if (t == NULL)
		t = fixed_table();
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	/* "0".."4" pick the mode, so that seeds stay readable. */
	switch ((uint8_t)(data[0] - (uint8_t)'0') % 5) {
	case 0:
		fuzz_routes(s, size - 1);
		break;
	case 1:
		match_all(t, s);
		break;
	case 2:
		fuzz_response(s, size - 1);
		break;
	case 3:
		fuzz_event(t, s, size - 1);
		break;
	default:
		fuzz_cors(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
