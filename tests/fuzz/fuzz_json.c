/*
 * Differential fuzz target for OWS's JSON parser and dumper
 * (src/common/json.c) against jansson's: for every input, under each set of
 * decoding flags OWS serves itself, ows_json_loadb and json_loadb must both
 * refuse it or both accept it as the same tree (json_equal and the same
 * dump bytes, member order and integer/real types included), and
 * ows_json_dump of the tree must give json_dumps's bytes. Any difference
 * aborts. The first byte of the input picks the flags.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const char *what, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
		fprintf(stderr, "fuzz_json: %s differ:\n ours   %s\n jansson %s\n",
			what, a ? a : "(null)", b ? b : "(null)");
		abort();
	}
}

static void dumps_agree(const json_t *v)
{
	static const size_t flags[] = {JSON_COMPACT | JSON_ENCODE_ANY,
				       JSON_COMPACT};

	for (size_t i = 0; i < 2; i++) {
		char *ours = ows_json_dumps(v, flags[i]);
		char *theirs = json_dumps(v, flags[i]);

		same_or_abort("dumps", ours, theirs);
		free(ours);
		free(theirs);
	}
}

static void parses_agree(const char *text, size_t len, size_t flags)
{
	json_t *ours = ows_json_loadb(text, len, flags, NULL);
	json_t *theirs = json_loadb(text, len, flags, NULL);
	char *a, *b;

	if ((ours == NULL) != (theirs == NULL)) {
		fprintf(stderr, "fuzz_json: flags %zx: ours %s, jansson %s\n",
			flags, ours ? "accepts" : "refuses",
			theirs ? "accepts" : "refuses");
		abort();
	}
	if (ours == NULL)
		return;
	if (!json_equal(ours, theirs)) {
		fprintf(stderr, "fuzz_json: trees differ\n");
		abort();
	}
	a = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(theirs, JSON_COMPACT | JSON_ENCODE_ANY);
	same_or_abort("trees", a, b);
	free(a);
	free(b);
	dumps_agree(ours);
	json_decref(ours);
	json_decref(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t flags[] = {
		JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		0,
		JSON_DECODE_ANY,
		JSON_REJECT_DUPLICATES,
	};
	size_t f = 0;

	/* Mostly the flags of ows_json_parse; a leading byte picks others. */
	if (size > 0 && data[0] >= 0xF8) {
		f = data[0] & 3;
		data++;
		size--;
	}
	parses_agree((const char *)data, size, flags[f]);
	/* Strings the parser would refuse still reach the dumper here. */
	if (size < 4096) {
		json_t *s = json_stringn_nocheck((const char *)data, size);
		json_t *o = json_object();

		dumps_agree(s);
		json_object_setn_new_nocheck(o, (const char *)data, size,
					     json_incref(s));
		dumps_agree(o);
		json_decref(o);
		json_decref(s);
	}
	return 0;
}
