/* Placeholders until the item writes lands: the operations answer that they are not served yet. Deleted by the helper that implements them. */
#include "ddb/ddb_priv.h"

void ows__ddb_put_item(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_update_item(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_delete_item(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_batch_write(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_transact_write(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

static int entry_apply(const struct ows_aws_entry_ctx *c, const json_t *body,
		       json_t *result, struct ows_err *err)
{
	(void)c; (void)body; (void)result;
	ows_err_printf(err, "not served yet");
	return OWS_EINVAL;
}

const struct ows_aws_entry_type ows__ddb_entry = {"ddb", entry_apply};

void ows__ddb_leader_tick(const struct ows_aws_host *h)
{
	(void)h;
}
