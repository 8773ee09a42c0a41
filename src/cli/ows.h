/*
 * The ows client: shared state of one invocation and the helpers each
 * subcommand (one file each, git's builtin/ layout) uses to talk to a node.
 * Private to src/cli/, hence the ows__ names.
 */
#ifndef OWS_CLI_OWS_H
#define OWS_CLI_OWS_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/key.h"

struct ows_cli {
	char endpoint[128];   /* "127.0.0.1:4566" */
	const char *key_path; /* OWS_KEY or --key */
	struct ows_key *key;  /* loaded on first use */
	bool json;            /* --json */
	bool yes;             /* --yes */
	int argc;             /* positional arguments after the command */
	char **argv;
};

/* Print "ows: <message>" to stderr and return 1. */
int ows__cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A signed request to the node; body (borrowed) may be NULL. On return
 * *out holds the parsed JSON reply (or NULL) and the result is the HTTP
 * status, or < 0 when the node could not be reached (a message was printed).
 * Retries while the cluster has no leader.
 */
int ows__cli_call(struct ows_cli *cli, const char *method, const char *target,
		  const json_t *body, json_t **out);

/* The same with a raw body (text of len bytes, may be binary). */
int ows__cli_call_raw(struct ows_cli *cli, const char *method,
		      const char *target, const char *text, size_t len,
		      json_t **out);

/* Print the error of a failed call ("ows: <what>: <message> (<code>)"). */
int ows__cli_fail(const char *what, int status, const json_t *reply);

/* The node's /_ows/v1/health reply (cluster, box_key, ...); 0 or 1. */
int ows__cli_health(struct ows_cli *cli, json_t **out);

/* The cluster id (from /_ows/v1/health) into out[65]. */
int ows_cli_cluster(struct ows_cli *cli, char out[65]);

/*
 * Sign actions (taken) as a change set for stack (may be NULL) and submit
 * it, the same bytes again while the answer is 503 or lost (a resend of an
 * accepted change set gets its first reply). On 0, *out holds the node's
 * reply ({"height", "hash"}).
 */
int ows__cli_submit(struct ows_cli *cli, const char *stack, json_t *actions,
		    json_t **out);

/* The nodes table of ows status and ows node ls. */
void ows__cli_print_nodes(const json_t *nodes, const char *indent);

/* Print v as indented JSON on stdout. */
void ows__cli_print_json(const json_t *v);

int ows__cmd_key(struct ows_cli *cli);
int ows__cmd_status(struct ows_cli *cli);
int ows__cmd_plan(struct ows_cli *cli);
int ows__cmd_apply(struct ows_cli *cli);
int ows__cmd_ledger(struct ows_cli *cli);
int ows__cmd_node(struct ows_cli *cli);
int ows__cmd_invoke(struct ows_cli *cli);
int ows__cmd_logs(struct ows_cli *cli);

#endif
