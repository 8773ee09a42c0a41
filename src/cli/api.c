/* Talking to a node: signed requests, retries, change-set submission. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/reqsig.h"
#include "cli/ows.h"
#include "common/json.h"
#include "http/http.h"
#include "ledger/changeset.h"

#define RETRIES 40
#define RETRY_US (250 * 1000)

int ows__cli_die(const char *fmt, ...)
{
	va_list ap;

	fputs("ows: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

void ows__cli_print_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (text != NULL)
		puts(text);
	free(text);
}

static int load_key(struct ows_cli *cli)
{
	struct ows_err err = {{0}};

	if (cli->key != NULL)
		return 0;
	if (cli->key_path == NULL)
		return ows__cli_die("no key: set OWS_KEY or pass --key FILE");
	if (ows_key_load(cli->key_path, &cli->key, &err) != 0)
		return ows__cli_die("%s", err.msg);
	return 0;
}

static int once(struct ows_cli *cli, const char *method, const char *target,
		const char *body, size_t len, struct ows_http_response *resp)
{
	char auth[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header hs[2] = {
		{"Content-Type", "application/json"},
		{"Authorization", auth},
	};
	int rv;

	rv = ows_reqsig_sign(cli->key, method, target, body, len,
			     (int64_t)time(NULL), auth);
	if (rv != 0)
		return rv;
	return ows_http_client_sync(cli->endpoint, method, target, hs, 2, body,
				    len, NULL, resp);
}

/*
 * Send, and again while the answer is 503 (no leader yet, not committed).
 * With resend, also when the exchange broke: the request may have been
 * taken and its answer lost, which only a request that is idempotent may
 * risk (a change set: the node answers a resend with the first result).
 * A first attempt refused at connect sent nothing and is not retried.
 */
static int exchange(struct ows_cli *cli, const char *method,
		    const char *target, const char *text, size_t len,
		    bool resend, json_t **out)
{
	struct ows_http_response resp;
	int rv, status = 0;

	*out = NULL;
	if (load_key(cli) != 0)
		return -EINVAL;
	for (int i = 0; i < RETRIES; i++) {
		if (i > 0)
			usleep(RETRY_US);
		rv = once(cli, method, target, text, len, &resp);
		if (rv != 0 && resend && i + 1 < RETRIES &&
		    !(i == 0 && rv == -ECONNREFUSED))
			continue;
		if (rv != 0) {
			ows__cli_die("cannot reach '%s': %s", cli->endpoint,
				     ows_strerror(rv));
			json_decref(*out);
			*out = NULL;
			return rv;
		}
		status = resp.status;
		json_decref(*out);
		*out = json_loadb(resp.body, resp.body_len, 0, NULL);
		ows_http_response_close(&resp);
		if (status != 503)
			break;
	}
	return status;
}

int ows__cli_call(struct ows_cli *cli, const char *method, const char *target,
		  const json_t *body, json_t **out)
{
	char *text = NULL;
	int status;

	*out = NULL;
	if (body != NULL && (text = ows_json_dump(body)) == NULL)
		return -ENOMEM;
	status = ows__cli_call_raw(cli, method, target, text,
				   text ? strlen(text) : 0, out);
	free(text);
	return status;
}

int ows__cli_call_raw(struct ows_cli *cli, const char *method,
		      const char *target, const char *text, size_t len,
		      json_t **out)
{
	return exchange(cli, method, target, text, len, false, out);
}

int ows__cli_fail(const char *what, int status, const json_t *reply)
{
	const char *msg = ows_json_str(reply, "message");
	const char *code = ows_json_str(reply, "code");

	if (status < 0)
		return 1;
	return ows__cli_die("%s: %s (%s, HTTP %d)", what,
			    msg ? msg : "no message", code ? code : "error",
			    status);
}

int ows__cli_health(struct ows_cli *cli, json_t **out)
{
	struct ows_http_response resp;
	json_t *v;
	int rv;

	rv = ows_http_client_sync(cli->endpoint, "GET", "/_ows/v1/health",
				  NULL, 0, NULL, 0, NULL, &resp);
	if (rv != 0)
		return ows__cli_die("cannot reach '%s': %s", cli->endpoint,
				    ows_strerror(rv));
	v = json_loadb(resp.body, resp.body_len, 0, NULL);
	ows_http_response_close(&resp);
	if (ows_json_str(v, "cluster") == NULL ||
	    ows_json_str(v, "box_key") == NULL) {
		json_decref(v);
		return ows__cli_die("'%s' is not an OWS node", cli->endpoint);
	}
	*out = v;
	return 0;
}

int ows_cli_cluster(struct ows_cli *cli, char out[65])
{
	json_t *v;

	if (ows__cli_health(cli, &v) != 0)
		return 1;
	snprintf(out, 65, "%s", ows_json_str(v, "cluster"));
	json_decref(v);
	return 0;
}

int ows__cli_submit(struct ows_cli *cli, const char *stack, json_t *actions,
		    json_t **out)
{
	char cluster[65], *text;
	json_t *env;
	int status, rv;

	*out = NULL;
	if (load_key(cli) != 0 || ows_cli_cluster(cli, cluster) != 0) {
		json_decref(actions);
		return 1;
	}
	env = ows_envelope_new(cluster, stack, actions, (int64_t)time(NULL));
	rv = env == NULL ? -ENOMEM : ows_envelope_sign(env, cli->key);
	if (rv != 0) {
		json_decref(env);
		if (rv == -EINVAL)
			return ows__cli_die("the change set holds a number with a "
					    "fraction or exponent; change sets "
					    "take integers only (write it as a "
					    "string)");
		return ows__cli_die("cannot sign the change set: %s",
				    ows_strerror(rv));
	}
	text = ows_json_dump(env);
	json_decref(env);
	if (text == NULL)
		return ows__cli_die("cannot sign the change set: %s",
				    ows_strerror(-ENOMEM));
	/* The same bytes each time: a resend is known by its digest. */
	status = exchange(cli, "POST", "/_ows/v1/changesets", text,
			  strlen(text), true, out);
	free(text);
	if (status == 200)
		return 0;
	ows__cli_fail("change set rejected", status, *out);
	return 1;
}
