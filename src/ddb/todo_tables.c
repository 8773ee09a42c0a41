/* Placeholders until the table operations lands: the operations answer that they are not served yet. Deleted by the helper that implements them. */
#include "ddb/ddb_priv.h"

void ows__ddb_create_table(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_delete_table(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_describe_table(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_list_tables(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_update_table(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_tag_resource(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_untag_resource(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_list_tags(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_update_ttl(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_describe_ttl(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_describe_limits(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

void ows__ddb_describe_endpoints(struct ows__ddb_req *r)
{
	ows__ddb_error(r, 400, "UnknownOperationException", "not served yet");
}

const struct ows_kind ows__ddb_tables_kind = {
	.name = "tables", .arn_service = "dynamodb", .arn_type = "table",
	.rank = 75, .in_stacks = true, .schema = OWS_DDB_SCHEMA,
};
