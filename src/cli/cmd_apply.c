/*
 * ows plan STACK / ows apply STACK [--yes]: compare a stack file with what
 * its stack owns in the cluster, print the plan, and (apply) submit it as
 * one signed change set. Sections and their specs are checked with the
 * kinds' tables (state/kinds.h) before anything is sent.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ows.h"
#include "ledger/stack.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "fn/bundle.h"
#include "state/kinds.h"

/* The bytes of a function's code: a directory zipped here, or a .zip. */
static int bundle_bytes(const char *code, struct ows_buf *out,
			struct ows_err *err)
{
	struct stat st;
	int rv;

	if (stat(code, &st) != 0) {
		ows_err_printf(err, "cannot read code '%s': %s", code,
			       strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode))
		return ows_bundle_zip_dir(code, out, err);
	/* A zip made elsewhere: the node would refuse what this refuses. */
	rv = ows_file_read(code, (size_t)OWS_BUNDLE_MAX_ZIP_BYTES, out);
	if (rv == -EFBIG)
		ows_err_printf(err, "code '%s' is more than the 50 MB a bundle "
			       "may have", code);
	else if (rv != 0)
		ows_err_printf(err, "cannot read code '%s': %s", code,
			       ows_strerror(rv));
	else if ((rv = ows_bundle_check(out->data, out->len, err)) != 0)
		ows_err_wrapf(err, "code '%s'", code);
	return rv;
}

/*
 * Upload a bundle unless the node has it (HEAD first). The function is
 * named: uploading needs ows:functions.put on it.
 */
static int upload(struct ows_cli *cli, const char *fn, const char *hash,
		  const struct ows_buf *zip)
{
	char target[128 + 3 * 256], enc[3 * 256 + 1];
	json_t *r = NULL;
	size_t n = 0;
	int st;

	for (const unsigned char *p = (const unsigned char *)fn;
	     *p && n < sizeof(enc) - 4; p++)
		n += (size_t)sprintf(enc + n, isalnum(*p) || strchr("-_.~", *p)
					      ? "%c" : "%%%02X", *p);
	enc[n] = '\0';
	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s?function=%s", hash,
		 enc);
	st = ows__cli_call_raw(cli, "HEAD", target, NULL, 0, &r);
	json_decref(r);
	if (st == 200)
		return 0;
	if (!cli->json)
		printf("uploading the bundle of function '%s' (%.1f KB)...\n", fn,
		       (double)zip->len / 1024);
	st = ows__cli_call_raw(cli, "PUT", target, zip->data, zip->len, &r);
	if (st != 200) {
		ows__cli_fail("cannot upload the bundle", st, r);
		json_decref(r);
		return 1;
	}
	json_decref(r);
	return 0;
}

/*
 * Turn each function's "code" (a path relative to the stack file) into
 * "code_sha256", the name of its bundle's blob, so that the plan sees code
 * changes; apply also uploads the bundles the node lacks.
 */
static int prepare_functions(struct ows_cli *cli, json_t *stack,
			     const char *stack_path, bool send)
{
	struct ows_err err = {{0}};
	char path[PATH_MAX], dir[PATH_MAX], code[PATH_MAX * 2], hash[65];
	const char *name, *c;
	json_t *spec;
	int rv = 0;

	/* dirname() may return a pointer into its argument: copy out. */
	snprintf(path, sizeof(path), "%s", stack_path);
	snprintf(dir, sizeof(dir), "%s", dirname(path));
	json_object_foreach(json_object_get(stack, "functions"), name, spec) {
		struct ows_buf zip = OWS_BUF_INIT;

		c = ows_json_str(spec, "code");
		if (c == NULL) {
			if (ows_json_str(spec, "code_sha256") != NULL)
				continue;
			return ows__cli_die("function '%s' needs 'code', a "
					    "directory or a .zip", name);
		}
		snprintf(code, sizeof(code), "%s%s%s", c[0] == '/' ? "" : dir,
			 c[0] == '/' ? "" : "/", c);
		rv = bundle_bytes(code, &zip, &err);
		if (rv != 0) {
			ows_buf_free(&zip);
			return ows__cli_die("function '%s': %s", name, err.msg);
		}
		ows_sha256_hex(zip.data, zip.len, hash);
		if (send)
			rv = upload(cli, name, hash, &zip);
		ows_buf_free(&zip);
		if (rv != 0)
			return rv;
		json_object_del(spec, "code");
		json_object_set_new(spec, "code_sha256", json_string(hash));
	}
	return 0;
}

/*
 * Each spec as its kind checks it without the cluster (state/kinds.h);
 * the node would refuse the same with InvalidAction. 0, or 1 (printed).
 */
static int check_specs(const json_t *stack)
{
	struct ows_err err = {{0}};
	const struct ows_kind *k;
	const char *kind, *name;
	json_t *sec, *spec;

	json_object_foreach((json_t *)stack, kind, sec) {
		if (strcmp(kind, "stack") == 0)
			continue;
		k = ows_kind_find(kind);
		json_object_foreach(sec, name, spec) {
			if (k != NULL && k->check != NULL &&
			    k->check(name, spec, &err) != 0)
				return ows__cli_die("%s '%s': %s (InvalidAction)",
						    kind, name, err.msg);
		}
	}
	return 0;
}

/* The plan for the stack file argv[0]; NULL after printing why. */
static json_t *make_plan(struct ows_cli *cli, json_t **stack, bool send)
{
	struct ows_err err = {{0}};
	char target[1024], enc[3 * 256 + 1];
	json_t *r, *plan;
	const char *name;
	size_t n = 0;
	int status;

	if (cli->argc != 1) {
		ows__cli_die("usage: ows plan|apply STACK_FILE");
		return NULL;
	}
	*stack = ows_stack_load(cli->argv[0], &err);
	if (*stack == NULL) {
		ows__cli_die("%s", err.msg);
		return NULL;
	}
	if (prepare_functions(cli, *stack, cli->argv[0], send) != 0 ||
	    check_specs(*stack) != 0) {
		json_decref(*stack);
		return NULL;
	}
	name = ows_json_str(*stack, "stack");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		n += (size_t)sprintf(enc + n, isalnum(*p) || strchr("-_.~", *p)
					      ? "%c" : "%%%02X", *p);
	snprintf(target, sizeof(target), "/_ows/v1/resources?stack=%s", enc);
	status = ows__cli_call(cli, "GET", target, NULL, &r);
	if (status != 200) {
		ows__cli_fail("cannot read the stack's resources", status, r);
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

int ows__cmd_plan(struct ows_cli *cli)
{
	json_t *stack = NULL, *plan = make_plan(cli, &stack, false);

	if (plan == NULL)
		return 1;
	if (cli->json) {
		json_t *v = json_pack("{s:s, s:O}", "stack",
				      ows_json_str(stack, "stack"), "changes", plan);
		ows__cli_print_json(v);
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

int ows__cmd_apply(struct ows_cli *cli)
{
	json_t *stack = NULL, *plan = make_plan(cli, &stack, true), *r = NULL;
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
		rv = ows__cli_die(isatty(0) ? "not applied"
					   : "not applied: pass --yes to apply "
					     "without a terminal");
		goto out;
	}
	rv = ows__cli_submit(cli, name, ows_stack_actions(plan), &r);
	if (rv == 0 && cli->json) {
		json_object_set(r, "changes", json_integer((json_int_t)json_array_size(plan)));
		ows__cli_print_json(r);
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
