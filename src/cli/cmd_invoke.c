/*
 * ows invoke FUNCTION [--payload JSON]: run a function once and print its
 * result (exit 1 when the function failed, with its error on stderr).
 * ows logs FUNCTION [--follow]: the function's recent invocation logs from
 * every node of the cluster, merged by time by the node at the endpoint;
 * --follow keeps polling for new ones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ows.h"
#include "common/json.h"

int ows__cmd_invoke(struct ows_cli *cli)
{
	const char *payload = "{}";
	char target[600];
	json_t *r;
	int status;

	if (cli->argc == 3 && strcmp(cli->argv[1], "--payload") == 0)
		payload = cli->argv[2];
	else if (cli->argc != 1)
		return ows__cli_die("usage: ows invoke FUNCTION [--payload JSON]");
	snprintf(target, sizeof(target), "/_ows/v1/functions/%s/invoke",
		 cli->argv[0]);
	status = ows__cli_call_raw(cli, "POST", target, payload, strlen(payload),
				   &r);
	if (status != 200) {
		ows__cli_fail("invoke", status, r);
		json_decref(r);
		return 1;
	}
	if (cli->json) {
		ows__cli_print_json(r);
	} else {
		char *text = json_dumps(json_object_get(r, "payload"),
					JSON_ENCODE_ANY | JSON_INDENT(2));

		puts(text ? text : "");
		free(text);
	}
	status = strcmp(ows_json_str(r, "status"), "ok") == 0 ? 0 : 1;
	if (status != 0)
		fprintf(stderr, "ows: function '%s' failed: %s\n", cli->argv[0],
			ows_json_str(r, "function_error"));
	json_decref(r);
	return status;
}

/*
 * One round: the records after cursor (every node's, merged by time by
 * the node asked), printed; cursor moves on. Nodes that did not answer
 * are named once per round on stderr.
 */
static int print_logs(struct ows_cli *cli, const char *fn, char *cursor,
		      size_t cap)
{
	char target[4700];
	const json_t *rec, *id;
	json_t *r;
	size_t i;
	int status;

	snprintf(target, sizeof(target), "/_ows/v1/functions/%s/logs?since=%s",
		 fn, cursor);
	status = ows__cli_call(cli, "GET", target, NULL, &r);
	if (status != 200) {
		ows__cli_fail("logs", status, r);
		json_decref(r);
		return 1;
	}
	json_array_foreach(json_object_get(r, "records"), i, rec) {
		if (cli->json) {
			char *t = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);

			puts(t ? t : "");
			free(t);
		} else {
			fputs(ows_json_str(rec, "text"), stdout);
		}
	}
	fflush(stdout);
	json_array_foreach(json_object_get(r, "unreachable"), i, id)
		fprintf(stderr, "ows: node %lld did not answer: its logs are "
			"missing here\n", (long long)json_integer_value(id));
	if (json_is_string(json_object_get(r, "last")))
		snprintf(cursor, cap, "%s", ows_json_str(r, "last"));
	json_decref(r);
	return 0;
}

int ows__cmd_logs(struct ows_cli *cli)
{
	bool follow = cli->argc == 2 && strcmp(cli->argv[1], "--follow") == 0;
	char cursor[4096] = "";

	if (cli->argc != 1 && !follow)
		return ows__cli_die("usage: ows logs FUNCTION [--follow]");
	do {
		if (print_logs(cli, cli->argv[0], cursor, sizeof(cursor)) != 0)
			return 1;
		if (follow)
			sleep(1);
	} while (follow);
	return 0;
}
