/*
 * Unit tests for the API gateway: route priority and path parameters,
 * payload 2.0 events, response mapping and CORS headers.
 */
#include "../lib/unit.h"

#include <errno.h>

#include "common/json.h"
#include "gw/payload.h"
#include "gw/route.h"

/* A table from "KEY=function" pairs. */
static struct ows_gw_table *table_of(const char *const *keys, size_t n)
{
	struct ows_err err = {{0}};
	struct ows_gw_table *t = NULL;
	json_t *routes = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(routes, json_pack("{s:s, s:{s:s}}",
							"name", keys[i], "spec",
							"function", keys[i]));
	if (ows_gw_routes_build(routes, &t, &err) != 0)
		fprintf(stderr, "build: %s\n", err.msg);
	json_decref(routes);
	OWS_CHECK(t != NULL);
	return t;
}

/* The route key that serves method + path, or "404". */
static const char *route_for(const struct ows_gw_table *t, const char *method,
			     const char *path)
{
	static char key[256];
	struct ows_gw_match m;
	int rv = ows_gw_match(t, method, path, &m);

	if (rv == OWS_ENOTFOUND)
		return "404";
	OWS_CHECK_INT(rv, 0);
	snprintf(key, sizeof(key), "%s", m.route_key);
	ows_gw_match_close(&m);
	return key;
}

static const char *const pets[] = {
    "GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}",
    "ANY /{proxy+}",   "ANY /pets/dog/1",    "$default",
};

OWS_TEST(gw_priority_exact_var_greedy_default)
{
	struct ows_gw_table *t = table_of(pets, 6);

	OWS_CHECK_STR(route_for(t, "GET", "/pets/dog/1"), "GET /pets/dog/1");
	OWS_CHECK_STR(route_for(t, "GET", "/pets/dog/2"), "GET /pets/dog/{id}");
	OWS_CHECK_STR(route_for(t, "GET", "/pets/cat/1"), "GET /pets/{proxy+}");
	OWS_CHECK_STR(route_for(t, "POST", "/pets/dog/1"), "ANY /pets/dog/1");
	OWS_CHECK_STR(route_for(t, "POST", "/pets/dog/2"), "ANY /{proxy+}");
	OWS_CHECK_STR(route_for(t, "GET", "/"), "$default");
	ows_gw_table_free(t);
}

OWS_TEST(gw_priority_method_before_any_and_no_405)
{
	static const char *const keys[] = {
	    "ANY /users/{id}",
	    "GET /users/{id}",
	    "POST /users",
	};
	struct ows_gw_table *t = table_of(keys, 3);

	OWS_CHECK_STR(route_for(t, "GET", "/users/7"), "GET /users/{id}");
	OWS_CHECK_STR(route_for(t, "DELETE", "/users/7"), "ANY /users/{id}");
	/* HTTP APIs have no 405: a route for another method does not match. */
	OWS_CHECK_STR(route_for(t, "GET", "/users"), "404");
	/* HEAD is its own method: only ANY catches it. */
	OWS_CHECK_STR(route_for(t, "HEAD", "/users/7"), "ANY /users/{id}");
	OWS_CHECK_STR(route_for(t, "HEAD", "/users"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/nope"), "404");
	ows_gw_table_free(t);
}

OWS_TEST(gw_priority_leftmost_literal_wins)
{
	static const char *const keys[] = {
	    "GET /{a}/b",
	    "GET /a/{b}",
	    "GET /{x}/{y}",
	};
	struct ows_gw_table *t = table_of(keys, 3);

	OWS_CHECK_STR(route_for(t, "GET", "/a/b"), "GET /a/{b}");
	OWS_CHECK_STR(route_for(t, "GET", "/z/b"), "GET /{a}/b");
	OWS_CHECK_STR(route_for(t, "GET", "/z/q"), "GET /{x}/{y}");
	OWS_CHECK_STR(route_for(t, "GET", "/z"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/z/q/r"), "404");
	ows_gw_table_free(t);
}

OWS_TEST(gw_path_parameters_are_decoded)
{
	static const char *const keys[] = {"GET /users/{id}/files/{name}"};
	struct ows_gw_table *t = table_of(keys, 1);
	struct ows_gw_match m;

	OWS_CHECK_INT(
	    ows_gw_match(t, "GET", "/users/a%20b/files/x%2Fy+z%zz", &m), 0);
	OWS_CHECK_STR(m.function, "GET /users/{id}/files/{name}");
	OWS_CHECK_INT(m.n_params, 2);
	OWS_CHECK_STR(ows_gw_match_param(&m, "id"), "a b");
	OWS_CHECK_STR(ows_gw_match_param(&m, "name"), "x/y+z%zz");
	OWS_CHECK(m.auth == OWS_GW_AUTH_NONE);
	OWS_CHECK(m.cors == NULL);
	ows_gw_match_close(&m);
	/* Literals compare after decoding; "%00" is never decoded. */
	OWS_CHECK_STR(route_for(t, "GET", "/us%65rs/1/files/%00"),
		      "GET /users/{id}/files/{name}");
	ows_gw_table_free(t);
}

OWS_TEST(gw_greedy_captures_rest_with_slashes)
{
	static const char *const keys[] = {"ANY /api/{proxy+}", "GET /api"};
	struct ows_gw_table *t = table_of(keys, 2);
	struct ows_gw_match m;

	OWS_CHECK_INT(ows_gw_match(t, "PUT", "/api/a/b%20c/d.txt", &m), 0);
	OWS_CHECK_STR(m.route_key, "ANY /api/{proxy+}");
	OWS_CHECK_STR(ows_gw_match_param(&m, "proxy"), "a/b c/d.txt");
	ows_gw_match_close(&m);
	OWS_CHECK_INT(ows_gw_match(t, "GET", "/api/x/", &m), 0);
	OWS_CHECK_STR(ows_gw_match_param(&m, "proxy"), "x/");
	ows_gw_match_close(&m);
	/* {proxy+} needs a child resource; a trailing slash is ignored. */
	OWS_CHECK_STR(route_for(t, "GET", "/api"), "GET /api");
	OWS_CHECK_STR(route_for(t, "GET", "/api/"), "GET /api");
	OWS_CHECK_STR(route_for(t, "POST", "/api/"), "404");
	OWS_CHECK_STR(route_for(t, "POST", "/api"), "404");
	ows_gw_table_free(t);
}

OWS_TEST(gw_empty_segments_and_trailing_slash)
{
	static const char *const keys[] = {"GET /r/{name}", "GET /a/b",
					   "GET /"};
	struct ows_gw_table *t = table_of(keys, 3);

	OWS_CHECK_STR(route_for(t, "GET", "/r/bob/"), "GET /r/{name}");
	OWS_CHECK_STR(route_for(t, "GET", "/r/"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/r//"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/a//b"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/a/b//"), "404");
	OWS_CHECK_STR(route_for(t, "GET", "/"), "GET /");
	OWS_CHECK_STR(route_for(t, "GET", ""), "404");
	OWS_CHECK_STR(route_for(t, "GET", "a/b"), "404");
	ows_gw_table_free(t);
}

static int build_err(const char *json, char *msg, size_t cap)
{
	struct ows_err err = {{0}};
	struct ows_gw_table *t = NULL;
	json_t *routes = ows_json_parse(json, strlen(json), NULL);
	int rv;

	OWS_CHECK(routes != NULL);
	rv = ows_gw_routes_build(routes, &t, &err);
	snprintf(msg, cap, "%s", err.msg);
	json_decref(routes);
	ows_gw_table_free(t);
	return rv;
}

OWS_TEST(gw_build_refuses_bad_routes)
{
	static const char *const bad[] = {
	    "[{\"name\":\"GET /a/{p+}/b\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"FETCH /a\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"GET a\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"GET /a/\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"GET /a//b\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"GET /{x}/{x}\",\"spec\":{\"function\":\"f\"}}]",
	    "[{\"name\":\"GET /a\",\"spec\":{}}]",
	    "[{\"name\":\"GET "
	    "/a\",\"spec\":{\"function\":\"f\",\"auth\":\"x\"}}]",
	    "[{\"name\":\"GET /{a}\",\"spec\":{\"function\":\"f\"}},"
	    " {\"name\":\"GET /{b}\",\"spec\":{\"function\":\"g\"}}]",
	    "[{\"name\":\"$default\",\"spec\":{\"function\":\"f\"}},"
	    " {\"name\":\"$default\",\"spec\":{\"function\":\"g\"}}]",
	    "{}",
	};
	char msg[OWS_ERR_MSG_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		OWS_CHECK_INT(build_err(bad[i], msg, sizeof(msg)), OWS_EINVAL);
		OWS_CHECK(msg[0] != '\0');
	}
	OWS_CHECK_INT(
	    build_err("[{\"name\":\"GET /{a}\",\"spec\":{\"function\":"
		      "\"f\",\"auth\":\"iam\",\"cors\":{}}},"
		      "{\"name\":\"ANY /{a}\",\"spec\":{\"function\":"
		      "\"f\"}}]",
		      msg, sizeof(msg)),
	    0);
}

OWS_TEST(gw_match_keeps_table_alive)
{
	struct ows_err err = {{0}};
	struct ows_gw_table *t = NULL;
	struct ows_gw_match m;
	json_t *routes = json_pack("[{s:s, s:{s:s, s:s, s:{s:[s]}}}]", "name",
				   "GET /x/{id}", "spec", "function", "fx",
				   "auth", "iam", "cors", "allow_origins", "*");

	OWS_CHECK_INT(ows_gw_routes_build(routes, &t, &err), 0);
	json_decref(routes);
	OWS_CHECK_INT(ows_gw_table_size(t), 1);
	OWS_CHECK_INT(ows_gw_match(t, "GET", "/x/1", &m), 0);
	/* The node swaps tables; the request in flight keeps its own. */
	ows_gw_table_free(t);
	OWS_CHECK_STR(m.function, "fx");
	OWS_CHECK(m.auth == OWS_GW_AUTH_IAM);
	OWS_CHECK(json_is_object(m.cors));
	ows_gw_match_close(&m);
	ows_gw_match_close(&m); /* harmless twice */
}

/* Events. */

static json_t *event_for(struct ows_http_header *h, size_t nh,
			 const char *method, const char *path,
			 const char *query, const char *body, size_t len,
			 const char *route)
{
	static const char *keys[1];
	struct ows_gw_ctx ctx = {
	    .account_id = "000000000000",
	    .api_id = "api1",
	    .domain = "api1.example.com",
	    .request_id = "req-1",
	    .time_ms = 1584039838123LL,
	    .scheme = "https",
	    .port = 443,
	};
	struct ows_http_req req;
	struct ows_buf out = OWS_BUF_INIT;
	struct ows_gw_table *t;
	struct ows_gw_match m;
	json_t *ev;

	keys[0] = route;
	t = table_of(keys, 1);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.headers = h;
	req.n_headers = nh;
	snprintf(req.peer, sizeof(req.peer), "%s", "10.0.0.9:51000");
	OWS_CHECK_INT(ows_gw_match(t, method, path, &m), 0);
	OWS_CHECK_INT(ows_gw_event(&req, body, len, &m, &ctx, &out), 0);
	ows_gw_match_close(&m);
	ows_gw_table_free(t);
	ev = ows_json_parse(out.data, out.len, NULL);
	OWS_CHECK(ev != NULL);
	ows_buf_free(&out);
	return ev;
}

static const char *sget(const json_t *ev, const char *path)
{
	json_t *v = json_object_get(ev, path);

	return json_string_value(v);
}

OWS_TEST(gw_event_get_with_query_cookies_and_headers)
{
	struct ows_http_header h[] = {
	    {"Host", "api1.example.com"},
	    {"User-Agent", "curl/8"},
	    {"X-Multi", "a"},
	    {"x-multi", "b"},
	    {"Cookie", "s=1; t=2"},
	    {"cookie", "u=3"},
	    {"X-Forwarded-For", "1.1.1.1"},
	};
	json_t *ev =
	    event_for(h, 7, "GET", "/users/a%20b", "a=1&a=2&b=x+y%21&c&=z",
		      NULL, 0, "GET /users/{id}");
	json_t *hd = json_object_get(ev, "headers");
	json_t *q = json_object_get(ev, "queryStringParameters");
	json_t *rc = json_object_get(ev, "requestContext");
	json_t *http = json_object_get(rc, "http");
	json_t *ck = json_object_get(ev, "cookies");
	char *dump = ows_json_dump(ev);
	const char *order[] = {
	    "{\"version\":\"2.0\",\"routeKey\":\"GET /users/{id}\",\"rawPath\"",
	    "\"rawQueryString\"",
	    "\"cookies\"",
	    "\"headers\"",
	    "\"queryStringParameters\"",
	    "\"requestContext\"",
	    "\"pathParameters\"",
	    "\"isBase64Encoded\"",
	};
	const char *at = dump;

	/* AWS's key order. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		OWS_CHECK((at = strstr(at, order[i])) != NULL);
		at++;
	}
	free(dump);
	OWS_CHECK_STR(sget(ev, "rawQueryString"), "a=1&a=2&b=x+y%21&c&=z");
	OWS_CHECK_STR(sget(hd, "x-multi"), "a,b");
	OWS_CHECK_STR(sget(hd, "host"), "api1.example.com");
	OWS_CHECK_STR(sget(hd, "x-forwarded-for"), "1.1.1.1, 10.0.0.9");
	OWS_CHECK_STR(sget(hd, "x-forwarded-proto"), "https");
	OWS_CHECK_STR(sget(hd, "x-forwarded-port"), "443");
	OWS_CHECK(json_object_get(hd, "cookie") == NULL);
	OWS_CHECK(json_object_get(hd, "User-Agent") == NULL);
	OWS_CHECK_INT(json_array_size(ck), 3);
	OWS_CHECK_STR(json_string_value(json_array_get(ck, 0)), "s=1");
	OWS_CHECK_STR(json_string_value(json_array_get(ck, 1)), "t=2");
	OWS_CHECK_STR(json_string_value(json_array_get(ck, 2)), "u=3");
	OWS_CHECK_STR(sget(q, "a"), "1,2");
	OWS_CHECK_STR(sget(q, "b"), "x y!");
	OWS_CHECK_STR(sget(q, "c"), "");
	OWS_CHECK_INT(json_object_size(q), 3);
	OWS_CHECK_STR(sget(json_object_get(ev, "pathParameters"), "id"), "a b");
	OWS_CHECK(json_object_get(ev, "body") == NULL);
	OWS_CHECK(json_is_false(json_object_get(ev, "isBase64Encoded")));
	OWS_CHECK_STR(sget(rc, "accountId"), "000000000000");
	OWS_CHECK_STR(sget(rc, "apiId"), "api1");
	OWS_CHECK_STR(sget(rc, "domainName"), "api1.example.com");
	OWS_CHECK_STR(sget(rc, "domainPrefix"), "api1");
	OWS_CHECK_STR(sget(rc, "requestId"), "req-1");
	OWS_CHECK_STR(sget(rc, "routeKey"), "GET /users/{id}");
	OWS_CHECK_STR(sget(rc, "stage"), "$default");
	OWS_CHECK_STR(sget(rc, "time"), "12/Mar/2020:19:03:58 +0000");
	OWS_CHECK_INT(json_integer_value(json_object_get(rc, "timeEpoch")),
		      1584039838123LL);
	OWS_CHECK_STR(sget(http, "method"), "GET");
	OWS_CHECK_STR(sget(http, "path"), "/users/a%20b");
	OWS_CHECK_STR(sget(http, "protocol"), "HTTP/1.1");
	OWS_CHECK_STR(sget(http, "sourceIp"), "10.0.0.9");
	OWS_CHECK_STR(sget(http, "userAgent"), "curl/8");
	json_decref(ev);
}

OWS_TEST(gw_event_omits_empty_fields)
{
	json_t *ev = event_for(NULL, 0, "GET", "/", "", NULL, 0, "$default");

	OWS_CHECK(json_object_get(ev, "cookies") == NULL);
	OWS_CHECK(json_object_get(ev, "queryStringParameters") == NULL);
	OWS_CHECK(json_object_get(ev, "pathParameters") == NULL);
	OWS_CHECK(json_object_get(ev, "body") == NULL);
	OWS_CHECK(json_is_object(json_object_get(ev, "headers")));
	OWS_CHECK_STR(sget(ev, "routeKey"), "$default");
	OWS_CHECK_STR(sget(ev, "rawQueryString"), "");
	json_decref(ev);
}

OWS_TEST(gw_event_binary_body_is_base64)
{
	struct ows_http_header h[] = {
	    {"Content-Type", "application/octet-stream"}};
	static const char bin[] = {'\x00', '\xff', 'a', '\x80'};
	json_t *ev = event_for(h, 1, "POST", "/up", "", bin, 4, "POST /up");

	OWS_CHECK_STR(sget(ev, "body"), "AP9hgA==");
	OWS_CHECK(json_is_true(json_object_get(ev, "isBase64Encoded")));
	json_decref(ev);
	/* Text type but not UTF-8: base64 as well. */
	h[0].value = "text/plain; charset=latin1";
	ev = event_for(h, 1, "POST", "/up", "", "caf\xe9", 4, "POST /up");
	OWS_CHECK_STR(sget(ev, "body"), "Y2Fm6Q==");
	OWS_CHECK(json_is_true(json_object_get(ev, "isBase64Encoded")));
	json_decref(ev);
	/* No content type: binary. */
	ev = event_for(NULL, 0, "POST", "/up", "", "hi", 2, "POST /up");
	OWS_CHECK_STR(sget(ev, "body"), "aGk=");
	json_decref(ev);
}

OWS_TEST(gw_event_json_body_is_text)
{
	struct ows_http_header h[] = {
	    {"content-type", "application/json; charset=utf-8"}};
	const char *body = "{\"name\":\"caf\xc3\xa9\"}";
	json_t *ev =
	    event_for(h, 1, "POST", "/up", "", body, strlen(body), "POST /up");

	OWS_CHECK_STR(sget(ev, "body"), body);
	OWS_CHECK(json_is_false(json_object_get(ev, "isBase64Encoded")));
	json_decref(ev);
	h[0].value = "application/vnd.api+json";
	ev = event_for(h, 1, "POST", "/up", "", "[1]", 3, "POST /up");
	OWS_CHECK_STR(sget(ev, "body"), "[1]");
	json_decref(ev);
	h[0].value = "TEXT/HTML";
	ev = event_for(h, 1, "POST", "/up", "", "<p>", 3, "POST /up");
	OWS_CHECK_STR(sget(ev, "body"), "<p>");
	json_decref(ev);
}

OWS_TEST(gw_event_non_utf8_header_is_replaced)
{
	struct ows_http_header h[] = {{"X-Bin", "a\xff"
						"b"}};
	json_t *ev = event_for(h, 1, "GET", "/x", "k%FF=v", NULL, 0, "GET /x");

	OWS_CHECK_STR(sget(json_object_get(ev, "headers"), "x-bin"),
		      "a\xef\xbf\xbd"
		      "b");
	OWS_CHECK_STR(
	    sget(json_object_get(ev, "queryStringParameters"), "k\xef\xbf\xbd"),
	    "v");
	json_decref(ev);
}

/* Responses. */

static int map(const char *result, struct ows_gw_response *r)
{
	struct ows_err err = {{0}};

	ows_gw_response_init(r);
	return ows_gw_response(result, strlen(result), r, &err);
}

static size_t count_headers(const struct ows_gw_response *r, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < r->headers.n; i++)
		n += strcasecmp(r->headers.v[i].name, name) == 0;
	return n;
}

OWS_TEST(gw_response_full_object)
{
	struct ows_gw_response r;

	OWS_CHECK_INT(
	    map("{\"statusCode\":201,\"headers\":{\"Content-Type\":"
		"\"text/plain\",\"X-N\":5,\"X-B\":true,\"X-M\":\"one\","
		"\"Content-Length\":\"99\"},\"multiValueHeaders\":"
		"{\"x-m\":[\"m1\",\"m2\"]},\"cookies\":[\"a=1; Path=/\","
		"\"b=2\"],\"body\":\"hello\",\"isBase64Encoded\":false}",
		&r),
	    0);
	OWS_CHECK_INT(r.status, 201);
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "content-type"),
		      "text/plain");
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "x-n"), "5");
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "x-b"), "true");
	/* multiValueHeaders wins over headers for the same name. */
	OWS_CHECK_INT(count_headers(&r, "x-m"), 2);
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "x-m"), "m1");
	OWS_CHECK_INT(count_headers(&r, "set-cookie"), 2);
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "set-cookie"),
		      "a=1; Path=/");
	/* The server owns framing. */
	OWS_CHECK(ows_gw_headers_get(&r.headers, "content-length") == NULL);
	OWS_CHECK_INT(r.body_len, 5);
	OWS_CHECK_STR(r.body, "hello");
	ows_gw_response_close(&r);
}

OWS_TEST(gw_response_base64_body)
{
	struct ows_gw_response r;

	OWS_CHECK_INT(map("{\"statusCode\":200,\"body\":\"AP9hgA==\","
			  "\"isBase64Encoded\":true}",
			  &r),
		      0);
	OWS_CHECK_INT(r.body_len, 4);
	OWS_CHECK(memcmp(r.body,
			 "\x00\xff"
			 "a\x80",
			 4) == 0);
	OWS_CHECK_INT(r.headers.n, 0);
	ows_gw_response_close(&r);
	OWS_CHECK_INT(map("{\"statusCode\":200,\"body\":\"A*==\","
			  "\"isBase64Encoded\":true}",
			  &r),
		      OWS_EINVAL);
	OWS_CHECK_INT(r.status, 500);
	ows_gw_response_close(&r);
	OWS_CHECK_INT(map("{\"statusCode\":204}", &r), 0);
	OWS_CHECK_INT(r.status, 204);
	OWS_CHECK_INT(r.body_len, 0);
	ows_gw_response_close(&r);
}

OWS_TEST(gw_response_inferred_object_and_string)
{
	struct ows_gw_response r;

	OWS_CHECK_INT(map("{\"message\": \"Hello from Lambda!\"}", &r), 0);
	OWS_CHECK_INT(r.status, 200);
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "content-type"),
		      "application/json");
	OWS_CHECK_STR(r.body, "{\"message\": \"Hello from Lambda!\"}");
	ows_gw_response_close(&r);
	OWS_CHECK_INT(map("\"Hello from Lambda!\"", &r), 0);
	OWS_CHECK_INT(r.status, 200);
	OWS_CHECK_STR(r.body, "Hello from Lambda!");
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "content-type"),
		      "application/json");
	ows_gw_response_close(&r);
	OWS_CHECK_INT(map("[1,2]", &r), 0);
	OWS_CHECK_STR(r.body, "[1,2]");
	ows_gw_response_close(&r);
	OWS_CHECK_INT(map("null", &r), 0);
	OWS_CHECK_INT(r.status, 200);
	OWS_CHECK_STR(r.body, "null");
	ows_gw_response_close(&r);
}

OWS_TEST(gw_response_invalid_is_500)
{
	static const char *const bad[] = {
	    "{\"statusCode\":\"200\"}",
	    "{\"statusCode\":200.5}",
	    "{\"statusCode\":null}",
	    "{\"statusCode\":99}",
	    "{\"statusCode\":200,\"headers\":{\"X\":\"a\\r\\nSet-Cookie: x\"}}",
	    "{\"statusCode\":200,\"headers\":{\"X Y\":\"a\"}}",
	    "{\"statusCode\":200,\"headers\":{\"X\":[\"a\"]}}",
	    "{\"statusCode\":200,\"headers\":[]}",
	    "{\"statusCode\":200,\"cookies\":[1]}",
	    "{\"statusCode\":200,\"cookies\":[\"a\\nb\"]}",
	    "{\"statusCode\":200,\"body\":{}}",
	    "{\"statusCode\":200,\"isBase64Encoded\":\"yes\"}",
	    "not json",
	    "",
	};
	struct ows_gw_response r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		OWS_CHECK_INT(map(bad[i], &r), OWS_EINVAL);
		OWS_CHECK_INT(r.status, 500);
		OWS_CHECK_INT(r.headers.n, 1);
		OWS_CHECK_STR(r.body,
			      "{\"message\":\"Internal Server Error\"}");
		ows_gw_response_close(&r);
	}
	ows_gw_response_init(&r);
	OWS_CHECK_INT(ows_gw_response_error(&r), 0);
	OWS_CHECK_INT(r.status, 500);
	OWS_CHECK_INT(ows_gw_response_not_found(&r), 0);
	OWS_CHECK_INT(r.status, 404);
	OWS_CHECK_STR(r.body, "{\"message\":\"Not Found\"}");
	ows_gw_response_close(&r);
}

/* CORS. */

static json_t *cors_cfg(void)
{
	const char *text =
	    "{\"allow_origins\":[\"https://app.example.com\",\"http://*\"],"
	    "\"allow_methods\":[\"GET\",\"POST\"],"
	    "\"allow_headers\":[\"authorization\",\"content-type\"],"
	    "\"expose_headers\":[\"x-request-id\"],\"max_age\":300,"
	    "\"allow_credentials\":true}";

	return ows_json_parse(text, strlen(text), NULL);
}

OWS_TEST(gw_cors_preflight)
{
	json_t *cors = cors_cfg();
	struct ows_gw_headers h;

	ows_gw_headers_init(&h);
	OWS_CHECK_INT(ows_gw_cors_headers(cors, "https://app.example.com",
					  "POST", true, &h),
		      6);
	OWS_CHECK_STR(ows_gw_headers_get(&h, "access-control-allow-origin"),
		      "https://app.example.com");
	OWS_CHECK_STR(ows_gw_headers_get(&h, "vary"), "Origin");
	OWS_CHECK_STR(ows_gw_headers_get(&h, "access-control-allow-methods"),
		      "GET,POST");
	OWS_CHECK_STR(ows_gw_headers_get(&h, "access-control-allow-headers"),
		      "authorization,content-type");
	OWS_CHECK_STR(ows_gw_headers_get(&h, "access-control-max-age"), "300");
	OWS_CHECK_STR(
	    ows_gw_headers_get(&h, "access-control-allow-credentials"), "true");
	OWS_CHECK(ows_gw_headers_get(&h, "access-control-expose-headers") ==
		  NULL);
	ows_gw_headers_close(&h);
	/* Prefix origin, a method not allowed, an origin not allowed. */
	OWS_CHECK(ows_gw_cors_headers(cors, "http://localhost:3000", "GET",
				      true, &h) > 0);
	ows_gw_headers_close(&h);
	OWS_CHECK_INT(ows_gw_cors_headers(cors, "https://app.example.com",
					  "DELETE", true, &h),
		      0);
	OWS_CHECK_INT(
	    ows_gw_cors_headers(cors, "https://evil.example", "GET", true, &h),
	    0);
	OWS_CHECK_INT(ows_gw_cors_headers(cors, NULL, "GET", true, &h), 0);
	OWS_CHECK_INT(h.n, 0);
	json_decref(cors);
}

OWS_TEST(gw_cors_actual_response)
{
	json_t *cors = cors_cfg();
	json_t *star = json_pack("{s:[s], s:[s]}", "allow_origins", "*",
				 "allow_methods", "*");
	struct ows_gw_response r;

	OWS_CHECK_INT(map("{\"statusCode\":200,\"headers\":{"
			  "\"Access-Control-Allow-Origin\":\"*\",\"X\":\"1\"}}",
			  &r),
		      0);
	OWS_CHECK_INT(ows_gw_cors_apply(cors, "https://app.example.com", &r),
		      0);
	OWS_CHECK_INT(count_headers(&r, "access-control-allow-origin"), 1);
	OWS_CHECK_STR(
	    ows_gw_headers_get(&r.headers, "access-control-allow-origin"),
	    "https://app.example.com");
	OWS_CHECK_STR(
	    ows_gw_headers_get(&r.headers, "access-control-expose-headers"),
	    "x-request-id");
	OWS_CHECK(ows_gw_headers_get(&r.headers, "access-control-max-age") ==
		  NULL);
	OWS_CHECK_STR(ows_gw_headers_get(&r.headers, "x"), "1");
	ows_gw_response_close(&r);
	/* "*" without credentials answers "*"; any method preflights. */
	ows_gw_headers_init(&r.headers);
	OWS_CHECK_INT(
	    ows_gw_cors_headers(star, "https://a.b", "PATCH", true, &r.headers),
	    2);
	OWS_CHECK_STR(
	    ows_gw_headers_get(&r.headers, "access-control-allow-origin"), "*");
	ows_gw_headers_close(&r.headers);
	json_decref(star);
	json_decref(cors);
}

OWS_TEST(gw_empty_table_matches_nothing)
{
	struct ows_gw_table *t = NULL;
	struct ows_gw_match m;
	struct ows_err err = {{0}};
	json_t *none = json_array();

	OWS_CHECK_INT(ows_gw_routes_build(none, &t, &err), 0);
	OWS_CHECK(ows_gw_match(t, "GET", "/", &m) == OWS_ENOTFOUND);
	ows_gw_table_free(t);
	json_decref(none);
}
