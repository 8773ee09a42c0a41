/*
 * ows node token [--ttl SECONDS]: mint a single-use join token. The token is
 * made here; only its SHA-256 goes into the ledger (nodes.token action).
 * ows node ls: the nodes, their roles and health.
 * ows node rm ID: remove a node (nodes.delete); the leader then takes it
 * out of the Raft configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ows.h"
#include "common/enc.h"
#include "common/json.h"

static int token(struct ows_cli *cli)
{
	char tok[65], hash[65];
	json_t *actions, *r = NULL;
	long ttl = 3600;
	int rv;

	char *end = NULL;

	if (cli->argc == 3 && strcmp(cli->argv[1], "--ttl") == 0)
		ttl = strtol(cli->argv[2], &end, 10);
	if ((cli->argc == 3 && (end == NULL || *end != '\0' || ttl <= 0)) ||
	    (cli->argc != 1 && cli->argc != 3))
		return ows__cli_die("usage: ows node token [--ttl SECONDS]");
	if (ows_random_hex(32, tok) != 0)
		return ows__cli_die("no randomness");
	ows_sha256_hex(tok, strlen(tok), hash);
	actions = json_pack("[{s:s, s:s, s:{s:I}}]", "action", "nodes.token",
			    "name", hash, "spec", "ttl_s", (json_int_t)ttl);
	rv = ows__cli_submit(cli, NULL, actions, &r);
	json_decref(r);
	if (rv != 0)
		return rv;
	if (cli->json)
		printf("{\"token\": \"%s\", \"ttl_s\": %ld}\n", tok, ttl);
	else
		printf("%s\n", tok);
	return 0;
}

static int rm(struct ows_cli *cli)
{
	json_t *actions, *r = NULL;
	int rv;

	if (cli->argc != 2 || strspn(cli->argv[1], "0123456789") !=
				      strlen(cli->argv[1]))
		return ows__cli_die("usage: ows node rm ID");
	actions = json_pack("[{s:s, s:s}]", "action", "nodes.delete", "name",
			    cli->argv[1]);
	rv = ows__cli_submit(cli, NULL, actions, &r);
	if (rv == 0 && cli->json)
		ows__cli_print_json(r);
	else if (rv == 0)
		printf("node %s removed\n", cli->argv[1]);
	json_decref(r);
	return rv;
}

static int ls(struct ows_cli *cli)
{
	json_t *r;
	int status;

	if (cli->argc != 1)
		return ows__cli_die("usage: ows node ls [--json]");
	status = ows__cli_call(cli, "GET", "/_ows/v1/status", NULL, &r);

	if (status != 200) {
		ows__cli_fail("cannot list nodes", status, r);
		json_decref(r);
		return 1;
	}
	if (cli->json) {
		ows__cli_print_json(json_object_get(r, "nodes"));
	} else {
		ows__cli_print_nodes(json_object_get(r, "nodes"), "");
	}
	json_decref(r);
	return 0;
}

int ows__cmd_node(struct ows_cli *cli)
{
	const char *sub = cli->argc > 0 ? cli->argv[0] : "";

	if (strcmp(sub, "token") == 0)
		return token(cli);
	if (strcmp(sub, "ls") == 0)
		return ls(cli);
	if (strcmp(sub, "rm") == 0)
		return rm(cli);
	return ows__cli_die("usage: ows node token|ls|rm ID");
}
