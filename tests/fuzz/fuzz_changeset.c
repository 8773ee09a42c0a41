/*
 * Fuzz target: change-set envelopes as a node receives them (JSON parse,
 * shape and signature checks, canonical encoding) and the admin request
 * signature header parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/reqsig.h"
#include "common/json.h"
#include "ledger/changeset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ows_changeset_info info;
	struct ows_err err = {{0}};
	struct ows_buf canon = OWS_BUF_INIT;
	char pub[OWS_PUBKEY_B64_LEN], *hdr;
	json_t *v;

	v = ows_json_parse((const char *)data, size, &err);
	if (v != NULL) {
		ows_envelope_check(v, &info, &err);
		ows_json_canonical(v, &canon);
		json_decref(v);
	}
	ows_buf_free(&canon);
	hdr = malloc(size + 1);
	if (hdr == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	ows_reqsig_verify(hdr, "POST", "/_ows/v1/changesets", data, size,
			  1700000000, pub, &err);
	free(hdr);
	return 0;
}
