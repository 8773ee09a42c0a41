/* Placeholders until the item reads lands: the operations answer that they are not served yet. Deleted by the helper that implements them. */
#include "ddb/ddb_priv.h"

void ows__ddb_get_item(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_query(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_scan(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_batch_get(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_transact_get(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

