/*
 * ows key gen FILE: write a new Ed25519 private key, print its public key.
 * ows key access create USER | ls [USER] | rm ID: AWS-style access keys.
 *
 * An access key is made here: the id and the secret are random, and the
 * secret goes into the change set sealed to the cluster's box key (from
 * /_ows/v1/health), so it never appears in clear in the ledger, the Raft
 * log, the nodes' logs or any reply. It is printed once, here.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/seal.h"
#include "cli/ows.h"
#include "common/enc.h"
#include "common/json.h"

static int gen(struct ows_cli *cli)
{
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_key *k;

	if (cli->argc != 2)
		return ows__cli_die("usage: ows key gen FILE");
	if (access(cli->argv[1], F_OK) == 0)
		return ows__cli_die("'%s' exists; refusing to overwrite a key",
				    cli->argv[1]);
	if (ows_key_generate(&k) != 0 || ows_key_save(k, cli->argv[1]) != 0)
		return ows__cli_die("cannot write '%s'", cli->argv[1]);
	ows_key_public(k, pub);
	ows_key_free(k);
	if (cli->json)
		printf("{\"file\": \"%s\", \"public_key\": \"%s\"}\n",
		       cli->argv[1], pub);
	else
		puts(pub);
	return 0;
}

static int create(struct ows_cli *cli, const char *user)
{
	struct ows_buf sealed = OWS_BUF_INIT;
	char id[21], secret[41], sender[45];
	json_t *health = NULL, *actions, *r = NULL;
	int rv;

	if (ows__cli_health(cli, &health) != 0)
		return 1;
	if (ows_access_key_make(id, secret) != 0 ||
	    ows_box_seal(ows_json_str(health, "box_key"), secret, strlen(secret),
			 &sealed, sender) != 0) {
		json_decref(health);
		return ows__cli_die("cannot make the access key");
	}
	json_decref(health);
	actions = json_pack("[{s:s, s:s, s:{s:s, s:s, s:s}}]", "action",
			    "access_keys.put", "name", id, "spec", "user", user,
			    "sealed", sealed.data, "sender", sender);
	ows_buf_free(&sealed);
	rv = ows__cli_submit(cli, NULL, actions, &r);
	json_decref(r);
	if (rv == 0 && cli->json)
		printf("{\"access_key_id\": \"%s\", \"secret_access_key\": "
		       "\"%s\", \"user\": \"%s\"}\n", id, secret, user);
	else if (rv == 0)
		printf("access key for user '%s' (the secret is shown only "
		       "now):\naws_access_key_id = %s\naws_secret_access_key = "
		       "%s\n", user, id, secret);
	memset(secret, 0, sizeof(secret));
	return rv;
}

static int list(struct ows_cli *cli, const char *user)
{
	char target[512];
	const json_t *k;
	json_t *r;
	size_t i;
	int status;

	snprintf(target, sizeof(target), "/_ows/v1/access-keys%s%s",
		 user ? "?user=" : "", user ? user : "");
	status = ows__cli_call(cli, "GET", target, NULL, &r);
	if (status != 200) {
		ows__cli_fail("cannot list access keys", status, r);
		json_decref(r);
		return 1;
	}
	if (cli->json) {
		ows__cli_print_json(json_object_get(r, "access_keys"));
	} else {
		printf("%-22s %s\n", "ACCESS KEY ID", "USER");
		json_array_foreach(json_object_get(r, "access_keys"), i, k)
			printf("%-22s %s\n", ows_json_str(k, "id"),
			       ows_json_str(k, "user"));
	}
	json_decref(r);
	return 0;
}

static int rm(struct ows_cli *cli, const char *id)
{
	json_t *r = NULL;
	int rv = ows__cli_submit(cli, NULL, json_pack("[{s:s, s:s}]", "action",
						      "access_keys.delete",
						      "name", id), &r);

	json_decref(r);
	if (rv == 0)
		printf("access key '%s' deleted\n", id);
	return rv;
}

static int access_cmd(struct ows_cli *cli)
{
	const char *sub = cli->argc > 1 ? cli->argv[1] : "";

	if (strcmp(sub, "create") == 0 && cli->argc == 3)
		return create(cli, cli->argv[2]);
	if (strcmp(sub, "ls") == 0 && cli->argc <= 3)
		return list(cli, cli->argc == 3 ? cli->argv[2] : NULL);
	if (strcmp(sub, "rm") == 0 && cli->argc == 3)
		return rm(cli, cli->argv[2]);
	return ows__cli_die("usage: ows key access create USER | ls [USER] | "
			    "rm ID");
}

int ows__cmd_key(struct ows_cli *cli)
{
	const char *sub = cli->argc > 0 ? cli->argv[0] : "";

	if (strcmp(sub, "gen") == 0)
		return gen(cli);
	if (strcmp(sub, "access") == 0)
		return access_cmd(cli);
	return ows__cli_die("usage: ows key gen FILE | ows key access ...");
}
