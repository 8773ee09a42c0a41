/*
 * ows ledger log: the accepted entries, oldest first (an attested entry
 * shows its caller, the node that attested it and the request id).
 * ows ledger verify: fetch the whole chain and replay it here from genesis:
 * links, hashes, every signature and every authorization (ledger/chain.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/ows.h"
#include "common/json.h"
#include "ledger/chain.h"

#define PAGE 1000

/* Call fn for every entry, page by page. Returns 0 or 1 (printed). */
static int each_entry(struct ows_cli *cli,
		      int (*fn)(void *ud, const json_t *row), void *ud,
		      json_t **last_reply)
{
	uint64_t from = 1;
	char target[96];
	const json_t *row;
	json_t *r = NULL;
	size_t i, n;
	int status;

	do {
		json_decref(r);
		snprintf(target, sizeof(target), "/_ows/v1/ledger?from=%" PRIu64
			 "&limit=%d", from, PAGE);
		status = ows__cli_call(cli, "GET", target, NULL, &r);
		if (status != 200) {
			ows__cli_fail("cannot read the ledger", status, r);
			json_decref(r);
			return 1;
		}
		n = json_array_size(json_object_get(r, "entries"));
		json_array_foreach(json_object_get(r, "entries"), i, row) {
			if (fn(ud, row) != 0) {
				json_decref(r);
				return 1;
			}
		}
		from += n;
	} while (n == PAGE);
	*last_reply = r;
	return 0;
}

static int print_entry(void *ud, const json_t *row)
{
	const json_t *e = json_object_get(row, "entry");
	const json_t *body = json_object_get(e, "body"), *a;
	time_t t = (time_t)(json_integer_value(json_object_get(e, "time")) / 1000);
	const char *type = ows_json_str(e, "type");
	char when[32];
	size_t i;

	(void)ud;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("%-5lld %s %.12s %s", (long long)json_integer_value(
		       json_object_get(row, "height")), when,
	       ows_json_str(row, "hash"), type);
	if (strcmp(type, "changeset") == 0) {
		const json_t *cs = json_object_get(body, "changeset");

		if (ows_json_str(cs, "stack"))
			printf(" stack '%s'", ows_json_str(cs, "stack"));
		putchar('\n');
		json_array_foreach(json_object_get(cs, "actions"), i, a)
			printf("        %s '%s'\n", ows_json_str(a, "action"),
			       ows_json_str(a, "name"));
	} else if (strcmp(type, "attested") == 0) {
		const json_t *at = json_object_get(body, "attestation");
		const json_t *caller = json_object_get(at, "caller");
		const char *who = ows_json_str(caller, "kind");

		printf(" %s '%s'", who == NULL ? "?"
		       : strcmp(who, "users") == 0 ? "user"
		       : strcmp(who, "roles") == 0 ? "role" : "function",
		       ows_json_str(caller, "name") ? ows_json_str(caller, "name")
						    : "?");
		printf(" by node %s, request %s",
		       ows_json_str(at, "node") ? ows_json_str(at, "node") : "?",
		       ows_json_str(at, "request_id") ? ows_json_str(at, "request_id")
						      : "?");
		if (ows_json_str(at, "stack") && ows_json_str(at, "stack")[0])
			printf(" stack '%s'", ows_json_str(at, "stack"));
		putchar('\n');
		json_array_foreach(json_object_get(at, "actions"), i, a)
			printf("        %s '%s'\n", ows_json_str(a, "action"),
			       ows_json_str(a, "name"));
	} else if (strcmp(type, "join") == 0) {
		printf(" node %lld at %s\n", (long long)json_integer_value(
			       json_object_get(json_object_get(body, "node"), "id")),
		       ows_json_str(json_object_get(body, "node"), "raft"));
	} else {
		printf(" cluster '%s'\n", ows_json_str(body, "cluster"));
	}
	return 0;
}

static int collect(void *ud, const json_t *row)
{
	return json_array_append((json_t *)ud, (json_t *)row);
}

struct verify {
	struct ows_ledger_verifier v;
	struct ows_err err;
	bool broken;
};

static int verify_entry(void *ud, const json_t *row)
{
	struct verify *x = ud;

	if (!x->broken &&
	    ows_ledger_verifier_feed(&x->v, json_object_get(row, "entry"),
				     ows_json_str(row, "hash"), &x->err) != 0)
		x->broken = true;
	return 0;
}

static int verify(struct ows_cli *cli)
{
	struct verify x = {0};
	json_t *last = NULL, *out;
	int rv;

	ows_ledger_verifier_init(&x.v);
	rv = each_entry(cli, verify_entry, &x, &last);
	if (rv == 0 && !x.broken && x.v.height != (uint64_t)json_integer_value(
			 json_object_get(last, "height"))) {
		ows_err_printf(&x.err, "the node reports height %lld but served "
			       "%" PRIu64 " entries", (long long)json_integer_value(
				       json_object_get(last, "height")), x.v.height);
		x.broken = true;
	}
	json_decref(last);
	if (rv == 0 && cli->json) {
		out = json_pack("{s:b, s:I, s:s}", "ok", !x.broken, "height",
				(json_int_t)x.v.height, "head", x.v.head);
		if (x.broken)
			json_object_set_new(out, "error", json_string(x.err.msg));
		ows__cli_print_json(out);
		json_decref(out);
	} else if (rv == 0 && !x.broken) {
		printf("ledger verified: height %" PRIu64 ", head %s\n",
		       x.v.height, x.v.head);
	} else if (rv == 0) {
		ows__cli_die("ledger does not verify: %s", x.err.msg);
	}
	ows_ledger_verifier_close(&x.v);
	return rv != 0 || x.broken;
}

int ows__cmd_ledger(struct ows_cli *cli)
{
	json_t *last = NULL, *all;
	int rv;

	if (cli->argc == 1 && strcmp(cli->argv[0], "verify") == 0)
		return verify(cli);
	if (cli->argc != 1 || strcmp(cli->argv[0], "log") != 0)
		return ows__cli_die("usage: ows ledger log|verify");
	if (!cli->json) {
		rv = each_entry(cli, print_entry, NULL, &last);
		json_decref(last);
		return rv;
	}
	all = json_array();
	rv = each_entry(cli, collect, all, &last);
	if (rv == 0)
		ows__cli_print_json(all);
	json_decref(all);
	json_decref(last);
	return rv;
}
