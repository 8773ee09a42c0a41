/* Change-set authorization; see authz.h. */
#include "ledger/authz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/policy.h"

#define MAX_DOCS 256

static int collect(const struct ows_directory *dir, const char *const *users,
		   size_t n, json_t *docs, bool *root)
{
	*root = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(users[i], OWS_ROOT_USER) == 0)
			*root = true;
		else if (dir->user_policies(dir->ud, users[i], docs) != 0)
			return -ENOMEM;
	}
	return 0;
}

static bool allowed(json_t *docs, const char *action, const char *arn)
{
	const json_t *list[MAX_DOCS];
	size_t n = json_array_size(docs);
	struct ows_policy_request req = {action, arn, NULL, 0};

	if (n > MAX_DOCS)
		n = MAX_DOCS;
	for (size_t i = 0; i < n; i++)
		list[i] = json_array_get(docs, i);
	return ows_policy_eval(list, n, &req) == OWS_POLICY_ALLOW;
}

int ows_user_authorize(const struct ows_directory *dir, const char *user,
		       const char *action, const char *resource)
{
	json_t *docs;
	bool root;
	int rv;

	docs = json_array();
	if (docs == NULL)
		return -ENOMEM;
	rv = collect(dir, &user, 1, docs, &root);
	if (rv == 0 && !root && !allowed(docs, action, resource))
		rv = OWS_EDENIED;
	json_decref(docs);
	return rv;
}

int ows_user_authorize_resource(const struct ows_directory *dir,
				const char *user, const char *action,
				const char *kind, const char *name)
{
	char arn[2 * OWS_NAME_MAX];

	ows_action_arn(kind, name, arn, sizeof(arn));
	return ows_user_authorize(dir, user, action, arn);
}

int ows_changeset_authorize(const struct ows_changeset_info *info,
			    const struct ows_directory *dir,
			    struct ows_err *err)
{
	char users[OWS_MAX_SIGNERS][OWS_NAME_MAX];
	const char *names[OWS_MAX_SIGNERS];
	char kind[OWS_NAME_MAX], arn[2 * OWS_NAME_MAX], act[OWS_NAME_MAX + 8];
	const char *verb;
	json_t *docs, *a;
	bool root;
	size_t i;
	int rv;

	for (i = 0; i < info->n_signers; i++) {
		if (dir->user_of_key(dir->ud, info->signers[i], users[i],
				     sizeof(users[i])) != 0) {
			ows_err_printf(err, "unknown signer: key '%s' belongs "
				       "to no user", info->signers[i]);
			return OWS_EAUTH;
		}
		names[i] = users[i];
	}
	docs = json_array();
	if (docs == NULL)
		return -ENOMEM;
	rv = collect(dir, names, info->n_signers, docs, &root);
	json_array_foreach(info->actions, i, a) {
		const char *action = json_string_value(json_object_get(a, "action"));
		const char *name = json_string_value(json_object_get(a, "name"));

		if (rv != 0 || root)
			break;
		ows_action_split(action, kind, &verb);
		ows_action_arn(kind, name, arn, sizeof(arn));
		snprintf(act, sizeof(act), "ows:%s", action);
		if (!allowed(docs, act, arn)) {
			ows_err_printf(err, "user '%s' is not allowed '%s' on "
				       "'%s'", names[0], act, arn);
			rv = OWS_EDENIED;
		}
	}
	json_decref(docs);
	return rv;
}
