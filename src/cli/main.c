/*
 * ows, the client. Global options (anywhere on the line):
 *   --endpoint HOST:PORT | http://HOST:PORT   (OWS_ENDPOINT)
 *   --key FILE                                (OWS_KEY)
 *   --json   machine-readable output on read commands
 *   --yes    do not ask before applying
 * Subcommands are listed in commands[] below, one file each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ows.h"

struct command {
	const char *name;
	int (*fn)(struct ows_cli *cli);
	const char *help;
};

static const struct command commands[] = {
	{"key", ows__cmd_key, "key gen FILE        make a key pair, print the public key\n"
	 "  key access create USER | ls [USER] | rm ID\n"
	 "                      AWS-style access keys (the secret is shown once)"},
	{"status", ows__cmd_status, "status              cluster, nodes, leader, ledger"},
	{"plan", ows__cmd_plan, "plan STACK          show what apply would change"},
	{"apply", ows__cmd_apply, "apply STACK [--yes] apply a stack file as one change set"},
	{"ledger", ows__cmd_ledger, "ledger log|verify   show or verify the ledger"},
	{"node", ows__cmd_node, "node token|ls|rm ID manage the cluster's nodes"},
	{"invoke", ows__cmd_invoke, "invoke FN [--payload JSON]  run a function once"},
	{"logs", ows__cmd_logs, "logs FN [--follow]  a function's logs, from every node"},
};

static void usage(FILE *f)
{
	fputs("usage: ows [--endpoint HOST:PORT] [--key FILE] [--json] "
	      "COMMAND ...\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fputs("\nenvironment: OWS_ENDPOINT (default 127.0.0.1:4566), OWS_KEY\n",
	      f);
}

static void set_endpoint(struct ows_cli *cli, const char *v)
{
	if (strncmp(v, "http://", 7) == 0)
		v += 7;
	snprintf(cli->endpoint, sizeof(cli->endpoint), "%s", v);
	/* "host:port/" from a pasted URL */
	cli->endpoint[strcspn(cli->endpoint, "/")] = '\0';
}

/* Take the global options out of argv; what remains is positional. */
static int parse(struct ows_cli *cli, int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			cli->json = true;
		} else if (strcmp(argv[i], "--yes") == 0 ||
			   strcmp(argv[i], "-y") == 0) {
			cli->yes = true;
		} else if (strcmp(argv[i], "--endpoint") == 0 ||
			   strcmp(argv[i], "--key") == 0) {
			if (i + 1 >= argc)
				return ows__cli_die("%s needs a value", argv[i]);
			if (argv[i][2] == 'e')
				set_endpoint(cli, argv[i + 1]);
			else
				cli->key_path = argv[i + 1];
			i++;
		} else {
			/* Command options (node token --ttl) stay positional. */
			argv[n++] = argv[i];
		}
	}
	cli->argc = n;
	cli->argv = argv;
	return 0;
}

int main(int argc, char **argv)
{
	struct ows_cli cli = {0};
	const char *env;
	int rv;

	set_endpoint(&cli, (env = getenv("OWS_ENDPOINT")) ? env : "127.0.0.1:4566");
	cli.key_path = getenv("OWS_KEY");
	if (parse(&cli, argc, argv) != 0)
		return 2;
	if (cli.argc == 0 || strcmp(cli.argv[0], "help") == 0 ||
	    strcmp(cli.argv[0], "--help") == 0) {
		usage(cli.argc == 0 ? stderr : stdout);
		return cli.argc == 0 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cli.argv[0]) != 0)
			continue;
		cli.argc--;
		cli.argv++;
		rv = commands[i].fn(&cli);
		ows_key_free(cli.key);
		return rv;
	}
	ows__cli_die("'%s' is not an ows command; see 'ows help'", cli.argv[0]);
	return 2;
}
