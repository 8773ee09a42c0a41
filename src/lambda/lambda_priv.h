/*
 * The Lambda management API's parts, shared by the files of src/lambda/
 * (docs/lambda.md lists every operation and its status). Each operation
 * answers its call exactly once; ows__lambda_route picks the operation
 * from the method and the path. Writes are proposed to the cluster as
 * change-set actions on the kinds of kinds.c; reads come from the host's
 * state.
 *
 * Where things live:
 *   functions          NAME          the spec OWS runs (state/kinds.c)
 *   function_meta      NAME          what Lambda shows and OWS does not
 *                                    run: Lambda's runtime name, role,
 *                                    description, tags, revision id,
 *                                    last modified, code size, resource
 *                                    policy, event-invoke configs,
 *                                    reserved concurrency, version counter
 *   function_versions  NAME:N        a published version: frozen spec and
 *                                    meta (the host's invoke runs it)
 *   aliases            NAME:ALIAS    {"version", "description",
 *                                    "weights": {"N": w}, "revision_id"}
 */
#ifndef OWS_LAMBDA_LAMBDA_PRIV_H
#define OWS_LAMBDA_LAMBDA_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/call.h"
#include "aws/service.h"
#include "state/kinds.h"

#define OWS_LAMBDA_NAME_MAX 65  /* Lambda: 64 characters */
#define OWS_LAMBDA_QUAL_MAX 129 /* "$LATEST", a version or an alias */
/* An alias's weights are kept in millionths: 1.0 is this. */
#define OWS_LAMBDA_WEIGHT_ONE 1000000

/* The kinds the Lambda API adds (NULL-terminated). */
extern const struct ows_kind *const ows_lambda_kinds[];

/* Answer the call when method and path name a management operation. */
bool ows__lambda_route(struct ows_aws_call *c);

/* ---- names and qualifiers (resolve.c) ---- */

/*
 * A function reference resolved: its name, the qualifier it carries (""
 * for none), and the version it runs ("$LATEST", "N"); for an alias with
 * weights, version is the alias's main version (see ows__lambda_pick).
 */
struct ows_lambda_ref {
	char name[OWS_LAMBDA_NAME_MAX];
	char qualifier[OWS_LAMBDA_QUAL_MAX];
	char version[24];
	bool alias;
};

/*
 * Parse ref ("NAME", "NAME:QUAL", "ACCOUNT:function:NAME[:QUAL]", the full
 * ARN "arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUAL]" or
 * "arn:ows:lambda::function/NAME[:QUAL]") and the ?Qualifier= value (may
 * be NULL) into out. 0; OWS_ENOTFOUND (another account's or region's
 * ARN); OWS_EINVAL with the reason in msg (malformed, or two qualifiers
 * that differ).
 */
int ows__lambda_parse_ref(const struct ows_aws_call *c, const char *ref,
			  const char *qualifier, struct ows_lambda_ref *out,
			  char *msg, size_t cap);
/*
 * Resolve out->qualifier against the state: sets out->version and
 * out->alias. 0, or OWS_ENOTFOUND (no such function, version or alias).
 */
int ows__lambda_resolve(struct ows_state *s, struct ows_lambda_ref *r);
/*
 * The version an invocation through alias spec runs, given a uniform
 * random number in [0, 1): the alias's version, or one of its weighted
 * additional versions. The string is borrowed from spec.
 */
const char *ows__lambda_pick(const json_t *alias, double u);
/*
 * Resolve ref and qualifier for Invoke: the version to run, with weighted
 * routing applied, into version (cap bytes). 0, OWS_ENOTFOUND, OWS_EINVAL.
 */
int ows__lambda_invoke_target(struct ows_aws_call *c, const char *ref,
			      const char *qualifier, char *name, size_t ncap,
			      char *version, size_t vcap);
/*
 * Whether the function version spec may be invoked through the Lambda
 * API: false for the http runtime, with Lambda's error to send in code
 * and msg (400 InvalidRuntimeException).
 */
bool ows__lambda_invokable(const json_t *spec, const char **code,
			   char *msg, size_t cap);
/*
 * The resource policy of function name as an IAM policy document (new
 * reference), or NULL when it has none: the host's authorize_resource
 * judges it together with the caller's identity policies (docs/lambda.md).
 */
json_t *ows__lambda_resource_policy(struct ows_state *s, const char *name);

/* ---- runtimes (runtimes.c) ---- */

/*
 * OWS's runtime for a Lambda runtime name ("python3.12" -> "python3"),
 * or NULL when it is not one OWS runs. The http runtime is OWS's own and
 * is accepted under its own name.
 */
const char *ows__lambda_runtime(const char *lambda_name);

/* ---- common helpers (common.c) ---- */

void ows__lambda_arn(const struct ows_aws_call *c, const char *name,
		     const char *qualifier, char *out, size_t cap);
/*
 * Authorize action on function name (qualifier may be NULL or ""), both
 * ARN forms; on refusal answers the call (403 AccessDeniedException) and
 * returns false.
 */
bool ows__lambda_allow(struct ows_aws_call *c, const char *action,
		       const char *name, const char *qualifier);
/* 404 ResourceNotFoundException "Function not found: ARN". */
/*
 * ref (with ?Qualifier= when qualified) parsed and resolved into r:
 * false with the call answered (400 for a malformed reference, 404 for
 * an unknown function or qualifier).
 */
bool ows__lambda_ref_of(struct ows_aws_call *c, const char *ref,
			bool qualified, struct ows_lambda_ref *r);
void ows__lambda_not_found(struct ows_aws_call *c, const char *name,
			   const char *qualifier);
/* 400 InvalidParameterValueException. */
void ows__lambda_invalid(struct ows_aws_call *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The request's JSON body: an object (new reference), or answers 400. */
json_t *ows__lambda_body(struct ows_aws_call *c);
/* Query parameter key into out; false when absent. */
bool ows__lambda_query(const struct ows_aws_call *c, const char *key,
		       char *out, size_t cap);
/* Lambda's LastModified: "2024-01-01T00:00:00.000+0000". */
void ows__lambda_time(int64_t ms, char *out, size_t cap);
/* CodeSha256 as Lambda gives it: base64 of the hash's bytes. */
void ows__lambda_sha_b64(const char *hex, char *out, size_t cap);

/*
 * FunctionConfiguration of name at version ("$LATEST" or "N"), or NULL
 * when it does not exist.
 */
json_t *ows__lambda_config(struct ows_aws_call *c, const char *name,
			   const char *version);

/*
 * Propose actions (taken) for the call; then, once applied and this
 * node has caught up, done(c, result, ud) runs (result: the entry's
 * result object, borrowed). Refusals and failures are answered here in
 * Lambda's shape and done is not called.
 */
typedef void (*ows_lambda_done_fn)(struct ows_aws_call *c,
				   const json_t *result, void *ud);
void ows__lambda_propose(struct ows_aws_call *c, json_t *actions,
			 ows_lambda_done_fn done, void *ud);
/* Action {"action": "KIND.VERB", "name", "spec"} (spec taken; may be NULL). */
json_t *ows__lambda_action(const char *action, const char *name, json_t *spec);

/* ---- operations ---- */

/* functions_api.c */
void ows__lambda_create_function(struct ows_aws_call *c);
void ows__lambda_get_function(struct ows_aws_call *c, const char *ref);
void ows__lambda_get_configuration(struct ows_aws_call *c, const char *ref);
void ows__lambda_list_functions(struct ows_aws_call *c);
void ows__lambda_update_code(struct ows_aws_call *c, const char *ref);
void ows__lambda_update_configuration(struct ows_aws_call *c,
				      const char *ref);
void ows__lambda_delete_function(struct ows_aws_call *c, const char *ref);

/* versions.c */
void ows__lambda_publish_version(struct ows_aws_call *c, const char *ref);
void ows__lambda_list_versions(struct ows_aws_call *c, const char *ref);

/* aliases.c */
void ows__lambda_create_alias(struct ows_aws_call *c, const char *ref);
void ows__lambda_get_alias(struct ows_aws_call *c, const char *ref,
			   const char *alias);
void ows__lambda_update_alias(struct ows_aws_call *c, const char *ref,
			      const char *alias);
void ows__lambda_delete_alias(struct ows_aws_call *c, const char *ref,
			      const char *alias);
void ows__lambda_list_aliases(struct ows_aws_call *c, const char *ref);

/* settings.c */
void ows__lambda_list_tags(struct ows_aws_call *c, const char *arn);
void ows__lambda_tag_resource(struct ows_aws_call *c, const char *arn);
void ows__lambda_untag_resource(struct ows_aws_call *c, const char *arn);
void ows__lambda_account_settings(struct ows_aws_call *c);
void ows__lambda_put_concurrency(struct ows_aws_call *c, const char *ref);
void ows__lambda_get_concurrency(struct ows_aws_call *c, const char *ref);
void ows__lambda_delete_concurrency(struct ows_aws_call *c, const char *ref);
void ows__lambda_put_event_config(struct ows_aws_call *c, const char *ref,
				  bool update);
void ows__lambda_get_event_config(struct ows_aws_call *c, const char *ref);
void ows__lambda_delete_event_config(struct ows_aws_call *c,
				     const char *ref);
void ows__lambda_list_event_configs(struct ows_aws_call *c, const char *ref);
/* None: OWS has no code signing (deploy tools read it after a create). */
void ows__lambda_get_code_signing(struct ows_aws_call *c, const char *ref);

/* policy.c */
void ows__lambda_add_permission(struct ows_aws_call *c, const char *ref);
void ows__lambda_remove_permission(struct ows_aws_call *c, const char *ref,
				   const char *sid);
void ows__lambda_get_policy(struct ows_aws_call *c, const char *ref);

#endif
