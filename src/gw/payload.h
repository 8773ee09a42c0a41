/*
 * API gateway payloads: the HTTP API payload format version 2.0 event that a
 * routed request becomes, the mapping of a function's result back to an
 * HTTP response, and CORS headers. Pure functions: no I/O, no logging.
 *
 * Behaviour follows "Create AWS Lambda proxy integrations for HTTP APIs in
 * API Gateway" and "Configure CORS for HTTP APIs in API Gateway"; each
 * function below quotes the statements it implements.
 */
#ifndef OWS_GW_PAYLOAD_H
#define OWS_GW_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "gw/route.h"
#include "http/http.h"

/* A header list whose names and values are owned (malloc'd). */
struct ows_gw_header {
	char *name;
	char *value;
};

struct ows_gw_headers {
	struct ows_gw_header *v;
	size_t n;
	size_t cap;
};

void ows_gw_headers_init(struct ows_gw_headers *h);
void ows_gw_headers_close(struct ows_gw_headers *h);
/* Append copies of name and value. 0 or -ENOMEM. */
int ows_gw_headers_add(struct ows_gw_headers *h, const char *name,
		       const char *value);
/* First value of name (case-insensitive), or NULL. */
const char *ows_gw_headers_get(const struct ows_gw_headers *h,
			       const char *name);

/* What the event needs beyond the request. All strings borrowed. */
struct ows_gw_ctx {
	const char *account_id;
	const char *api_id;
	const char *domain; /* "abc.example.com": domainName */
	const char *request_id;
	const char *source_ip; /* NULL: taken from req->peer */
	const char *protocol;  /* NULL: "HTTP/1.1" */
	const char *scheme; /* "http"/"https" for x-forwarded-proto, or NULL */
	unsigned port;	    /* for x-forwarded-port, or 0 */
	int64_t time_ms;    /* when the request arrived, Unix ms */
};

/*
 * Append the payload format 2.0 event for req to out (JSON, compact, keys
 * in AWS's order): version, routeKey, rawPath, rawQueryString, cookies,
 * headers, queryStringParameters, requestContext, body, pathParameters,
 * isBase64Encoded. body is the complete request body (len bytes), or NULL
 * when the request had none. req, body, m and ctx are borrowed.
 *
 * Statements implemented:
 * - "Duplicate headers are combined with commas and included in the headers
 *   field. Duplicate query strings are combined with commas and included in
 *   the queryStringParameters field." "All header names are lowercase."
 * - "Format 2.0 includes a new cookies field. All cookie headers in the
 *   request are combined with commas and added to the cookies field": the
 *   Cookie headers are split at ";" into that array and left out of
 *   headers.
 * - "API Gateway decodes URL-encoded request parameters": query names and
 *   values are decoded (form decoding, "+" is a space), path parameters
 *   come decoded from the match.
 * - queryStringParameters, pathParameters and cookies are left out when
 *   empty, and "body" when there is no body, as AWS's events show.
 * - The body is sent as text when its content type is textual (any text type,
 *   application/json, application/xml, application/javascript,
 *   application/x-www-form-urlencoded, any +json or +xml) and it is valid
 *   UTF-8; otherwise base64 with "isBase64Encoded": true.
 * - requestContext.time is "12/Mar/2020:19:03:58 +0000" (UTC, English
 *   month names), timeEpoch the milliseconds, stage "$default".
 * - x-forwarded-for gets the source address appended; x-forwarded-proto and
 *   x-forwarded-port are set from ctx when given.
 * Bytes that are not UTF-8 in header values or decoded parameters are
 * replaced with U+FFFD, since a JSON string cannot carry them.
 * Returns 0, -ENOMEM, or -EMSGSIZE for a binary body over 1 GiB; out may
 * then hold part of the event.
 */
int ows_gw_event(const struct ows_http_req *req, const char *body, size_t len,
		 const struct ows_gw_match *m, const struct ows_gw_ctx *ctx,
		 struct ows_buf *out);

/* An HTTP response to send; everything owned. */
struct ows_gw_response {
	int status;
	struct ows_gw_headers headers; /* cookies included as Set-Cookie */
	char *body;		       /* NUL-terminated, body_len bytes */
	size_t body_len;
};

void ows_gw_response_init(struct ows_gw_response *r);
void ows_gw_response_close(struct ows_gw_response *r);

/*
 * Map a function's result (len bytes of JSON as the function returned it)
 * to *out, which the caller has initialised.
 *
 * - An object with "statusCode": "statusCode" must be an integer from 100
 *   to 599; "headers" an object of strings (numbers and booleans are
 *   written out); "multiValueHeaders" an object of arrays ("If you specify
 *   values for both headers and multiValueHeaders, API Gateway merges them
 *   into a single list. If the same key-value pair is specified in both,
 *   only the values from multiValueHeaders will appear"); "cookies" an
 *   array of strings ("In the response to the client, each cookie becomes a
 *   set-cookie header"); "body" a string; "isBase64Encoded" a boolean, the
 *   body then being base64 that is decoded.
 * - Anything else that is valid JSON: "API Gateway can infer the response
 *   format for you. API Gateway makes the following assumptions if your
 *   Lambda function returns valid JSON and doesn't return a statusCode:
 *   isBase64Encoded is false. statusCode is 200. content-type is
 *   application/json. body is the function's response." As in AWS's
 *   examples, a JSON string ("Hello from Lambda!") becomes its text as the
 *   body, any other value ({"message": "Hello from Lambda!"}) its JSON text
 *   as the function returned it.
 * - Invalid JSON or a malformed response (statusCode not an integer,
 *   headers that are not strings, a header name that is not a token or a
 *   value with CR, LF or NUL, bad base64) returns OWS_EINVAL with the
 *   reason in err, and *out is set to the 500 {"message":"Internal Server
 *   Error"} that AWS answers.
 * Headers the HTTP server owns (content-length, transfer-encoding,
 * connection, keep-alive, upgrade, te, trailer, date) are dropped.
 * Returns 0, OWS_EINVAL or -ENOMEM.
 */
int ows_gw_response(const char *fn_result, size_t len,
		    struct ows_gw_response *out, struct ows_err *err);

/*
 * Fill *out (initialised) with AWS's answer when the function failed
 * (error, timeout, crash): 500 {"message":"Internal Server Error"},
 * content-type application/json. Returns 0 or -ENOMEM.
 */
int ows_gw_response_error(struct ows_gw_response *out);

/* 404 {"message":"Not Found"}: no route matched. 0 or -ENOMEM. */
int ows_gw_response_not_found(struct ows_gw_response *out);

/*
 * CORS headers for a route whose spec has "cors": {"allow_origins": [...],
 * "allow_methods": [...], "allow_headers": [...], "expose_headers": [...],
 * "max_age": N, "allow_credentials": bool}, appended to out.
 *
 * "To return CORS headers, your request must contain an origin header. For
 * the OPTIONS method, your request must contain an origin header and an
 * Access-Control-Request-Method header." "If you configure CORS for an API,
 * API Gateway automatically sends a response to preflight OPTIONS requests,
 * even if there isn't an OPTIONS route configured for your API. For a CORS
 * request, API Gateway adds the configured CORS headers to the response
 * from an integration."
 *
 * origin is the request's Origin (NULL: nothing is added). Origins match an
 * "allow_origins" entry exactly (case-insensitively), "*" matches any, and
 * an entry ending in "*" matches by prefix (AWS's example admits every
 * https origin that way). The allowed origin is echoed (with "Vary:
 * Origin"), or "*" when it matched "*" and credentials are not allowed.
 *
 * preflight: method is the Access-Control-Request-Method; it must be in
 * "allow_methods" (or that holds "*"), else nothing is added. The caller
 * answers 204 with Access-Control-Allow-Origin, -Allow-Methods,
 * -Allow-Headers, -Max-Age and -Allow-Credentials as configured. For
 * per-route CORS the caller finds the route with ows_gw_match(requested
 * method, path) and answers the preflight itself without calling the
 * function.
 * Actual responses (preflight false, method unused): Allow-Origin,
 * Expose-Headers and Allow-Credentials.
 * Returns the number of headers added (0 when the request is not an
 * allowed CORS request) or -ENOMEM.
 */
int ows_gw_cors_headers(const json_t *cors, const char *origin,
			const char *method, bool preflight,
			struct ows_gw_headers *out);

/*
 * For an actual response on a route with CORS: "If you configure CORS for
 * an API, API Gateway ignores CORS headers returned from your backend
 * integration", so remove every Access-Control-* header from resp, then
 * add the configured ones for origin. 0 or -ENOMEM.
 */
int ows_gw_cors_apply(const json_t *cors, const char *origin,
		      struct ows_gw_response *resp);

#endif
