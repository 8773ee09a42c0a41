/*
 * DynamoDB on the edge port (JSON 1.0, X-Amz-Target DynamoDB_20120810.*):
 * tables, items, expressions, queries, scans, batches, transactions and
 * TTL, replicated by Raft. docs/dynamodb.md says what is served.
 */
#ifndef OWS_DDB_DDB_H
#define OWS_DDB_DDB_H

#include "aws/service.h"

extern const struct ows_aws_service ows_ddb_service;

#endif
