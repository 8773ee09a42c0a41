/*
 * Fuzz target for the decoding of DynamoDB's read requests (src/ddb/
 * read_opts.c, ows__ddb_read_parse): the input is a request body, parsed
 * as JSON and validated as a GetItem, a Query and a Scan against a table
 * with a sort key, a KEYS_ONLY global index and an INCLUDE local index
 * (made here, no node), and its RequestItems as a BatchGetItem's. Besides
 * not crashing it checks what reads.h promises: a refusal is OWS_EINVAL
 * with a message; an accepted Query has a partition key encoding, a
 * range whose bounds are ordered (or flagged empty), and for an index
 * the index's own; an accepted Scan a segment inside the hash space that
 * holds its start row.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void make_table(struct ows_ddb_table *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->name, "t");
	t->tid = 7;
	ows__ddb_keydef_parse("id:S", &t->pk);
	ows__ddb_keydef_parse("ts:N", &t->sk);
	t->n_indexes = 2;
	strcpy(t->indexes[0].name, "by-email");
	t->indexes[0].iid = 1;
	t->indexes[0].active = true;
	ows__ddb_keydef_parse("email:S", &t->indexes[0].pk);
	ows__ddb_keydef_parse("ts:N", &t->indexes[0].sk);
	t->indexes[0].projection = OWS_DDB_PROJ_KEYS_ONLY;
	strcpy(t->indexes[1].name, "by-score");
	t->indexes[1].iid = 2;
	t->indexes[1].local = true;
	t->indexes[1].active = true;
	ows__ddb_keydef_parse("id:S", &t->indexes[1].pk);
	ows__ddb_keydef_parse("score:B", &t->indexes[1].sk);
	t->indexes[1].projection = OWS_DDB_PROJ_INCLUDE;
}

static int bytes_cmp(const struct ows_buf *a, const struct ows_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void check_read(const struct ows__ddb_read *rd,
		       enum ows__ddb_read_kind kind)
{
	if (kind == OWS__DDB_READ_QUERY) {
		if (rd->pk.len == 0 || rd->keycond == NULL)
			abort();
		/* BETWEEN refuses lo > hi, a start key outside the range is
		 * refused: the bounds are ordered */
		if (rd->has_hi && bytes_cmp(&rd->lo, &rd->hi) > 0)
			abort();
		if (json_array_size(rd->leading) != 1)
			abort();
	}
	if (kind == OWS__DDB_READ_SCAN) {
		if (rd->h_lo > rd->h_hi || rd->start_h < rd->h_lo ||
		    rd->start_h > rd->h_hi)
			abort();
		if (rd->leading != NULL)
			abort();
	}
	if (rd->ix != NULL && rd->ix != &rd->t->indexes[0] &&
	    rd->ix != &rd->t->indexes[1])
		abort();
	if (rd->select == OWS__DDB_SELECT_SPECIFIC && rd->projection == NULL)
		abort();
	if (rd->fetch_table && (rd->ix == NULL || !rd->ix->local))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ows__ddb_read_kind kinds[] = {
		OWS__DDB_READ_GET, OWS__DDB_READ_QUERY, OWS__DDB_READ_SCAN};
	struct ows_ddb_table t;
	struct ows_err err;
	json_t *body;

	if (size > 64 * 1024)
		return 0;
	make_table(&t);
	body = ows_json_parse((const char *)data, size, &err);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_t *copy = json_deep_copy(body);
		struct ows__ddb_read rd;
		int rv;

		memset(&err, 0, sizeof(err));
		ows__ddb_read_init(&rd);
		rv = ows__ddb_read_parse(copy, kinds[k], &t, &rd, &err);
		if (rv != 0 && (rv != OWS_EINVAL || err.msg[0] == '\0'))
			abort();
		if (rv == 0)
			check_read(&rd, kinds[k]);
		ows__ddb_read_close(&rd);
		json_decref(copy);
	}
	memset(&err, 0, sizeof(err));
	if (ows__ddb_batch_get_shape(json_object_get(body, "RequestItems"),
				     &err) != 0 && err.msg[0] == '\0')
		abort();
	json_decref(body);
	return 0;
}
