/*
 * What the table operations' files share (table_api.c, table_create.c,
 * table_describe.c): the request's table name, the attested entry that
 * changes a table, and the TableDescription DynamoDB answers with.
 */
#ifndef OWS_DDB_TABLE_API_H
#define OWS_DDB_TABLE_API_H

#include <jansson.h>

#include "ddb/ddb_priv.h"

/*
 * The request's TableName, checked as DynamoDB checks it; NULL after
 * answering the ValidationException.
 */
const char *ows__ddb_table_name(struct ows__ddb_req *r);

/* Called with the entry's result once the local state has applied it. */
typedef void (*ows__ddb_table_done)(struct ows__ddb_req *r,
				    const json_t *result);

/*
 * Propose the action "tables.VERB" on name with spec (taken) as an
 * attested entry of no stack; done once it applied, or the refusal
 * answered as DynamoDB would (the code that the kind's message starts
 * with: ResourceInUseException, ResourceNotFoundException, ...).
 * r->data, when set, is a json_t that done takes; it is released when
 * the change fails instead.
 */
void ows__ddb_table_propose(struct ows__ddb_req *r, const char *verb,
			    const char *name, json_t *spec,
			    ows__ddb_table_done done);

/*
 * Table name's TableDescription as the state holds it now, status
 * (NULL: "ACTIVE"); NULL when there is no such table.
 */
json_t *ows__ddb_table_describe(struct ows__ddb_req *r, const char *name,
				const char *status);

/* Answer with {member: TableDescription of name} (after a change). */
void ows__ddb_reply_description(struct ows__ddb_req *r, const char *member,
				const char *name);

/* The ARN of table name: arn:aws:dynamodb:REGION:ACCOUNT:table/NAME. */
char *ows__ddb_table_arn(struct ows__ddb_req *r, const char *name);

/* ResourceNotFoundException for table name. */
void ows__ddb_table_not_found(struct ows__ddb_req *r, const char *name);

/*
 * Parse CreateTable's request into a spec (ddb_model.h): 0 and *out, or
 * OWS_EINVAL after answering DynamoDB's ValidationException.
 */
int ows__ddb_create_spec(struct ows__ddb_req *r, json_t **out);

/*
 * One index of a request (LocalSecondaryIndexes or
 * GlobalSecondaryIndexUpdates' Create) into its spec; defs the
 * AttributeDefinitions by name. NULL after answering.
 */
json_t *ows__ddb_index_spec(struct ows__ddb_req *r, const json_t *ix,
			    const json_t *defs, bool local, bool provisioned,
			    const char *where);

/* AttributeDefinitions into {name: type}; NULL after answering. */
json_t *ows__ddb_attr_defs(struct ows__ddb_req *r, const json_t *v);

/* A ProvisionedThroughput into {"read", "write"}; NULL after answering. */
json_t *ows__ddb_throughput(struct ows__ddb_req *r, const json_t *v,
			    const char *where);

#endif
