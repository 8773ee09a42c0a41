/*
 * The operations on who may do what with a bucket (s3_priv.h): its
 * policy (Put/Get/DeleteBucketPolicy), its CORS configuration
 * (Put/Get/DeleteBucketCors), the preflight OPTIONS a browser sends
 * before a cross-origin request, and the CORS headers of the actual
 * responses (ows__s3_cors_response, which the replies of common.c add).
 * The checks of the documents themselves are in policy.c and cors.c
 * (access.h); the entries are buckets.policy and buckets.cors
 * (s3_model.h), applied in kinds.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "s3/access.h"
#include "s3/s3_priv.h"

/* A bucket policy's body: read whole up to this; past 20 KB refused. */
#define POLICY_READ_MAX (64 * 1024)

/* 204 No Content: the answer of the deletes and of PutBucketPolicy. */
static void no_content(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 204, NULL, 0, NULL, 0);
}

static void ok_empty(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 200, NULL, 0, NULL, 0);
}

/* Propose buckets.VERB {member: v} (v taken; NULL drops it), then done. */
static void set_member(struct ows__s3_req *r, const char *verb,
		       const char *member, json_t *v, ows__s3_done_cb done)
{
	char action[32];
	json_t *spec = json_pack("{s:o}", member, v ? v : json_null());
	json_t *actions;

	snprintf(action, sizeof(action), "buckets.%s", verb);
	actions =
	    spec ? json_pack("[o]", ows__s3_action(action, r->bucket, spec))
		 : NULL;
	if (actions == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_propose(r, actions, done, NULL);
}

/* The member of the bucket's spec (new reference), or NULL. */
static json_t *member_of(struct ows__s3_req *r, const char *member)
{
	json_t *spec = ows__s3_bucket_get(r->c->host, r->bucket);
	json_t *v = json_incref(json_object_get(spec, member));

	json_decref(spec);
	if (json_is_null(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- bucket policies ---- */

static void policy_body(struct ows__s3_req *r, const char *body, size_t len)
{
	struct ows_err err = {{0}};
	const char *code;
	json_t *doc;

	if (ows__s3_policy_parse(body, len, r->bucket, &doc, &code, &err) !=
	    0) {
		ows__s3_error(r, 400, code, "%s", err.msg);
		return;
	}
	set_member(r, "policy", "policy", doc, no_content);
}

void ows__s3_bucket_policy_put(struct ows__s3_req *r)
{
	ows__s3_read_body(r, POLICY_READ_MAX, policy_body);
}

void ows__s3_bucket_policy_get(struct ows__s3_req *r)
{
	struct ows_http_header h = {"Content-Type", "application/json"};
	json_t *doc = member_of(r, "policy");
	char *text;

	if (doc == NULL) {
		ows__s3_error(r, 404, "NoSuchBucketPolicy",
			      "The bucket policy "
			      "does not exist");
		return;
	}
	text = ows_json_dump(doc);
	json_decref(doc);
	if (text == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, &h, 1, text, strlen(text));
	free(text);
}

void ows__s3_bucket_policy_delete(struct ows__s3_req *r)
{
	set_member(r, "policy", "policy", NULL, no_content);
}

/* ---- CORS configurations ---- */

static void cors_body(struct ows__s3_req *r, const char *body, size_t len)
{
	struct ows_err err = {{0}};
	const char *code;
	json_t *rules;

	if (ows__s3_cors_parse(body, len, &rules, &code, &err) != 0) {
		ows__s3_error(r, 400, code, "%s", err.msg);
		return;
	}
	set_member(r, "cors", "cors", rules, ok_empty);
}

void ows__s3_bucket_cors_put(struct ows__s3_req *r)
{
	ows__s3_read_body(r, OWS_S3_XML_LIMIT, cors_body);
}

void ows__s3_bucket_cors_get(struct ows__s3_req *r)
{
	json_t *rules = member_of(r, "cors");
	struct ows_buf b = OWS_BUF_INIT;
	char *xml;

	if (rules == NULL) {
		ows__s3_error(r, 404, "NoSuchCORSConfiguration",
			      "The CORS "
			      "configuration does not exist");
		return;
	}
	xml = ows__s3_cors_xml(rules);
	json_decref(rules);
	if (xml == NULL || ows_buf_puts(&b, xml) != 0) {
		free(xml);
		ows_buf_free(&b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	free(xml);
	ows__s3_reply_xml(r, &b);
}

void ows__s3_bucket_cors_delete(struct ows__s3_req *r)
{
	set_member(r, "cors", "cors", NULL, no_content);
}

/* ---- the preflight ---- */

/* 403 AccessForbidden with <Method> and <ResourceType>, as S3 answers. */
static void forbidden(struct ows__s3_req *r, const char *method,
		      const char *msg)
{
	json_t *extra =
	    json_pack("{s:s, s:s}", "Method", method ? method : "",
		      "ResourceType", r->key[0] ? "OBJECT" : "BUCKET");

	ows_aws_error_with(r->c, 403, "AccessForbidden", extra, "%s", msg);
	json_decref(extra);
}

/*
 * OPTIONS /bucket[/key]: "Amazon S3 returns the Access-Control-Allow-*
 * headers" of the first rule that matches the Origin, the
 * Access-Control-Request-Method and every Access-Control-Request-Headers
 * (S3 API Reference, OPTIONS object). No authentication: a preflight
 * carries no credentials, and tells nothing but the CORS rules.
 */
void ows__s3_preflight(struct ows__s3_req *r)
{
	const char *origin = ows_aws_header(r->c, "Origin");
	const char *method =
	    ows_aws_header(r->c, "Access-Control-Request-Method");
	const char *asked =
	    ows_aws_header(r->c, "Access-Control-Request-Headers");
	struct ows_http_header h[OWS_S3_CORS_HEADERS];
	const json_t *rule;
	json_t *rules;
	char *mem = NULL;
	size_t n;

	if (origin == NULL) {
		ows__s3_error(r, 400, "BadRequest",
			      "Insufficient information. "
			      "Origin request header needed.");
		return;
	}
	if (method == NULL) {
		ows__s3_error(r, 400, "BadRequest",
			      "Invalid "
			      "Access-Control-Request-Method: null");
		return;
	}
	if (r->bucket[0] == '\0' ||
	    !ows_state_resource_exists(r->c->host->state, "buckets",
				       r->bucket)) {
		forbidden(r, method, "CORSResponse: Bucket not found");
		return;
	}
	rules = member_of(r, "cors");
	if (rules == NULL) {
		forbidden(r, method,
			  "CORSResponse: CORS is not enabled for "
			  "this bucket.");
		return;
	}
	rule = ows__s3_cors_match(rules, origin, method, asked);
	if (rule == NULL) {
		json_decref(rules);
		forbidden(r, method,
			  "CORSResponse: This CORS request is not "
			  "allowed. This is usually because the evalution of "
			  "Origin, request method / Access-Control-Request-"
			  "Method or Access-Control-Request-Headers are not "
			  "whitelisted by the resource's CORS spec.");
		return;
	}
	n = ows__s3_cors_headers(rule, origin, asked, true, h, &mem);
	json_decref(rules);
	if (n == 0) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, h, n, NULL, 0);
	free(mem);
}

/* ---- CORS headers of the actual responses ---- */

size_t ows__s3_cors_response(struct ows__s3_req *r, struct ows_http_header *h,
			     size_t cap)
{
	const char *origin = ows_aws_header(r->c, "Origin");
	struct ows_http_header mine[OWS_S3_CORS_HEADERS];
	const json_t *rule;
	json_t *rules;
	char *mem = NULL;
	size_t n, k = 0;

	if (origin == NULL || r->bucket[0] == '\0' || r->id == OWS_S3_PREFLIGHT)
		return 0;
	rules = member_of(r, "cors");
	rule = rules
		   ? ows__s3_cors_match(rules, origin, r->c->req->method, NULL)
		   : NULL;
	n = rule ? ows__s3_cors_headers(rule, origin, NULL, false, mine, &mem)
		 : 0;
	json_decref(rules);
	/* the values live in the call's arena, as the reply's headers do */
	for (size_t i = 0; i < n && k < cap; i++) {
		char *v = ows_arena_strdup(r->c->arena, mine[i].value);

		if (v != NULL)
			h[k++] = (struct ows_http_header){mine[i].name, v};
	}
	free(mem);
	return k;
}
