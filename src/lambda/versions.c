/*
 * PublishVersion and ListVersionsByFunction. A version's number is given
 * by the state machine when the entry applies (function_versions.publish
 * in kinds.c), so two nodes publishing at once get two numbers, in log
 * order; publishing with nothing changed since the last version answers
 * that version again, as Lambda does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

struct publish {
	char name[OWS_LAMBDA_NAME_MAX];
};

static void published(struct ows_aws_call *c, const json_t *result, void *ud)
{
	struct publish *p = ud;
	const char *ver = ows_json_str(result, "version");
	json_t *cfg = ver ? ows__lambda_config(c, p->name, ver) : NULL;

	if (cfg == NULL) {
		ows__lambda_not_found(c, p->name, ver);
		return;
	}
	ows_aws_reply_json(c, 201, cfg);
}

void ows__lambda_publish_version(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c), *meta, *spec, *actions;
	struct ows_lambda_ref r;
	struct publish *p;
	char msg[300];
	const char *sha, *rev;
	int rv;

	if (body == NULL)
		return;
	rv = ows__lambda_parse_ref(c, ref, NULL, &r, msg, sizeof(msg));
	if (rv == OWS_EINVAL) {
		ows__lambda_invalid(c, "%s", msg);
		goto cleanup;
	}
	if (rv != 0 || r.qualifier[0] != '\0' ||
	    !ows_state_resource_exists(c->host->state, "functions", r.name)) {
		ows__lambda_not_found(c, r.name[0] ? r.name : ref, NULL);
		goto cleanup;
	}
	if (!ows__lambda_allow(c, "lambda:PublishVersion", r.name, NULL))
		goto cleanup;
	meta = ows_state_resource(c->host->state, "function_meta", r.name);
	rev = ows_json_str(body, "RevisionId");
	if (rev != NULL && (ows_json_str(meta, "revision_id") == NULL ||
			    strcmp(rev, ows_json_str(meta, "revision_id")))) {
		json_decref(meta);
		ows_aws_error(c, 412, "PreconditionFailedException", "The "
			      "Revision Id provided does not match the latest "
			      "Revision Id. Call the GetFunction/GetAlias API "
			      "to retrieve the latest Revision Id");
		goto cleanup;
	}
	json_decref(meta);
	spec = json_object();
	/* CodeSha256 as Lambda gives it (base64): the state checks hex */
	sha = ows_json_str(body, "CodeSha256");
	if (sha != NULL) {
		json_t *cur = ows_state_resource(c->host->state, "functions",
						 r.name);
		char b64[64];

		ows__lambda_sha_b64(ows_json_str(cur, "code_sha256"), b64,
				    sizeof(b64));
		json_object_set_new(spec, "code_sha256",
				    json_string(strcmp(b64, sha) == 0
						? ows_json_str(cur,
							       "code_sha256")
						: sha));
		json_decref(cur);
	}
	if (rev != NULL) /* judged again at apply (kinds.c) */
		json_object_set_new(spec, "if_revision", json_string(rev));
	if (ows_json_str(body, "Description") != NULL)
		json_object_set(spec, "description",
				json_object_get(body, "Description"));
	p = ows_arena_alloc(c->arena, sizeof(*p));
	if (p == NULL) {
		json_decref(spec);
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		goto cleanup;
	}
	snprintf(p->name, sizeof(p->name), "%s", r.name);
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action(
		"function_versions.publish", r.name, spec));
	ows__lambda_propose(c, actions, published, p);
cleanup:
	json_decref(body);
}

void ows__lambda_list_versions(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *rows, *row, *list, *cfg;
	char msg[300];
	size_t i, n;
	int rv;

	rv = ows__lambda_parse_ref(c, ref, NULL, &r, msg, sizeof(msg));
	if (rv == OWS_EINVAL) {
		ows__lambda_invalid(c, "%s", msg);
		return;
	}
	if (rv != 0 ||
	    !ows_state_resource_exists(c->host->state, "functions", r.name)) {
		ows__lambda_not_found(c, r.name[0] ? r.name : ref, NULL);
		return;
	}
	if (!ows__lambda_allow(c, "lambda:ListVersionsByFunction", r.name,
			       NULL))
		return;
	list = json_array();
	cfg = ows__lambda_config(c, r.name, "$LATEST");
	if (cfg != NULL)
		json_array_append_new(list, cfg);
	rows = ows_state_resources(c->host->state, "function_versions", NULL);
	n = strlen(r.name);
	/* numeric order: 2 before 10 */
	for (long want = 1, found = 1; found; want++) {
		char key[200];

		found = 0;
		snprintf(key, sizeof(key), "%s:%ld", r.name, want);
		json_array_foreach(rows, i, row) {
			const char *k = ows_json_str(row, "name");

			if (strncmp(k, r.name, n) != 0 || k[n] != ':' ||
			    atol(k + n + 1) < want)
				continue;
			found = 1; /* some version at or past want remains */
			if (strcmp(k, key) == 0) {
				cfg = ows__lambda_config(c, r.name, k + n + 1);
				if (cfg != NULL)
					json_array_append_new(list, cfg);
			}
		}
	}
	json_decref(rows);
	ows_aws_reply_json(c, 200, json_pack("{s:o}", "Versions", list));
}
