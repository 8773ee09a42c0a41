/* ows key gen FILE: write a new Ed25519 private key, print its public key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/ows.h"

int ows_cmd_key(struct ows_cli *cli)
{
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_key *k;

	if (cli->argc != 2 || strcmp(cli->argv[0], "gen") != 0)
		return ows_cli_die("usage: ows key gen FILE");
	if (access(cli->argv[1], F_OK) == 0)
		return ows_cli_die("'%s' exists; refusing to overwrite a key",
				   cli->argv[1]);
	if (ows_key_generate(&k) != 0 || ows_key_save(k, cli->argv[1]) != 0)
		return ows_cli_die("cannot write '%s'", cli->argv[1]);
	ows_key_public(k, pub);
	ows_key_free(k);
	if (cli->json)
		printf("{\"file\": \"%s\", \"public_key\": \"%s\"}\n",
		       cli->argv[1], pub);
	else
		puts(pub);
	return 0;
}
