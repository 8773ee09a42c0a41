/* ows status: the cluster as the node at the endpoint sees it. */
#include <stdio.h>

#include "cli/ows.h"
#include "common/json.h"

void ows__cli_print_nodes(const json_t *nodes, const char *indent)
{
	const json_t *n;
	size_t i;

	printf("%s%-4s %-9s %-8s %-7s %-22s %-22s %s\n", indent, "ID", "ROLE",
	       "MEMBER", "HEALTH", "EDGE", "GATEWAY", "RAFT");
	json_array_foreach(nodes, i, n) {
		printf("%s%-4lld %-9s %-8s %-7s %-22s %-22s %s\n", indent,
		       (long long)json_integer_value(json_object_get(n, "id")),
		       ows_json_str(n, "role"), ows_json_str(n, "member"),
		       ows_json_str(n, "health"), ows_json_str(n, "edge"),
		       ows_json_str(n, "gateway"), ows_json_str(n, "raft"));
	}
}

int ows__cmd_status(struct ows_cli *cli)
{
	json_t *r, *leader, *ledger;
	int status;

	if (cli->argc != 0)
		return ows__cli_die("usage: ows status [--json]");
	status = ows__cli_call(cli, "GET", "/_ows/v1/status", NULL, &r);
	if (status != 200) {
		ows__cli_fail("status", status, r);
		json_decref(r);
		return 1;
	}
	if (cli->json) {
		ows__cli_print_json(r);
		json_decref(r);
		return 0;
	}
	leader = json_object_get(r, "leader");
	ledger = json_object_get(r, "ledger");
	printf("cluster: %s\n", ows_json_str(r, "cluster"));
	printf("node:    %lld (%s), term %lld\n",
	       (long long)json_integer_value(json_object_get(json_object_get(r, "node"), "id")),
	       ows_json_str(json_object_get(r, "node"), "role"),
	       (long long)json_integer_value(json_object_get(r, "term")));
	if (json_is_object(leader))
		printf("leader:  node %lld (%s)\n",
		       (long long)json_integer_value(json_object_get(leader, "id")),
		       ows_json_str(leader, "raft"));
	else
		printf("leader:  none\n");
	printf("ledger:  height %lld, head %s\n",
	       (long long)json_integer_value(json_object_get(ledger, "height")),
	       ows_json_str(ledger, "head"));
	printf("nodes:\n");
	ows__cli_print_nodes(json_object_get(r, "nodes"), "  ");
	json_decref(r);
	return 0;
}
