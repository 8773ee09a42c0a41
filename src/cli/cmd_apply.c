/*
 * ows plan STACK / ows apply STACK [--yes]: compare a stack file with what
 * its stack owns in the cluster, print the plan, and (apply) submit it as
 * one signed change set.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ows.h"
#include "ledger/stack.h"
#include "common/json.h"

/* The plan for the stack file argv[0]; NULL after printing why. */
static json_t *make_plan(struct ows_cli *cli, json_t **stack)
{
	struct ows_err err = {{0}};
	char target[1024], enc[3 * 256 + 1];
	json_t *r, *plan;
	const char *name;
	size_t n = 0;
	int status;

	if (cli->argc != 1) {
		ows_cli_die("usage: ows plan|apply STACK_FILE");
		return NULL;
	}
	*stack = ows_stack_load(cli->argv[0], &err);
	if (*stack == NULL) {
		ows_cli_die("%s", err.msg);
		return NULL;
	}
	name = ows_json_str(*stack, "stack");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		n += (size_t)sprintf(enc + n, isalnum(*p) || strchr("-_.~", *p)
					      ? "%c" : "%%%02X", *p);
	snprintf(target, sizeof(target), "/_ows/v1/resources?stack=%s", enc);
	status = ows_cli_call(cli, "GET", target, NULL, &r);
	if (status != 200) {
		ows_cli_fail("cannot read the stack's resources", status, r);
		json_decref(r);
		json_decref(*stack);
		return NULL;
	}
	plan = ows_stack_plan(*stack, json_object_get(r, "resources"));
	json_decref(r);
	return plan;
}

static void print_plan(const char *stack, const json_t *plan)
{
	int counts[3] = {0, 0, 0};
	const json_t *p;
	size_t i;

	json_array_foreach(plan, i, p) {
		const char *op = ows_json_str(p, "op");

		counts[op[0] == '+' ? 0 : op[0] == '~' ? 1 : 2]++;
	}
	printf("stack '%s': %d to create, %d to change, %d to delete\n", stack,
	       counts[0], counts[1], counts[2]);
	json_array_foreach(plan, i, p)
		printf("  %s %s '%s'\n", ows_json_str(p, "op"),
		       ows_json_str(p, "kind"), ows_json_str(p, "name"));
}

int ows_cmd_plan(struct ows_cli *cli)
{
	json_t *stack = NULL, *plan = make_plan(cli, &stack);

	if (plan == NULL)
		return 1;
	if (cli->json) {
		json_t *v = json_pack("{s:s, s:O}", "stack",
				      ows_json_str(stack, "stack"), "changes", plan);
		ows_cli_print_json(v);
		json_decref(v);
	} else {
		print_plan(ows_json_str(stack, "stack"), plan);
	}
	json_decref(plan);
	json_decref(stack);
	return 0;
}

static bool confirm(void)
{
	char line[16];

	fputs("apply these changes? [y/N] ", stdout);
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) != NULL &&
	       (line[0] == 'y' || line[0] == 'Y');
}

int ows_cmd_apply(struct ows_cli *cli)
{
	json_t *stack = NULL, *plan = make_plan(cli, &stack), *r = NULL;
	const char *name;
	int rv = 0;

	if (plan == NULL)
		return 1;
	name = ows_json_str(stack, "stack");
	if (!cli->json)
		print_plan(name, plan);
	if (json_array_size(plan) == 0) {
		if (cli->json)
			puts("{\"changes\": 0}");
		else
			puts("nothing to do");
		goto out;
	}
	if (!cli->yes && (!isatty(0) || !confirm())) {
		rv = ows_cli_die(isatty(0) ? "not applied"
					   : "not applied: pass --yes to apply "
					     "without a terminal");
		goto out;
	}
	rv = ows_cli_submit(cli, name, ows_stack_actions(plan), &r);
	if (rv == 0 && cli->json) {
		json_object_set(r, "changes", json_integer((json_int_t)json_array_size(plan)));
		ows_cli_print_json(r);
	} else if (rv == 0) {
		printf("applied: ledger height %lld, head %s\n",
		       (long long)json_integer_value(json_object_get(r, "height")),
		       ows_json_str(r, "hash"));
	}
out:
	json_decref(r);
	json_decref(plan);
	json_decref(stack);
	return rv;
}
