/*
 * The DynamoDB service's data model: the resource kind "tables", the
 * state-machine tables that hold items and their index entries, and the
 * Raft entry that changes items. Every file of src/ddb/ works from this
 * page; it changes only by agreement.
 *
 * A table is a resource of kind "tables" (state/kinds.h: the generic row
 * resources(kind, name, stack, spec)) whose spec is the stack-file form,
 * the same whether a stack file or CreateTable made it:
 *
 *   {"partition_key": "id:S",            NAME:TYPE, TYPE one of S N B
 *    "sort_key": "ts:N" | absent,
 *    "indexes": {"by-email": {"partition_key": "email:S",
 *                             "sort_key": "ts:N" | absent,
 *                             "projection": "ALL" | "KEYS_ONLY" |
 *                                           ["a", "b"] (INCLUDE),
 *                             "local": true | absent (an LSI: same
 *                                      partition key as the table),
 *                             "provisioned": {"read": N, "write": N}
 *                                            | absent}} | absent,
 *    "ttl_attribute": "expires" | absent,  TTL on, with that attribute
 *    "billing_mode": "PAY_PER_REQUEST" | "PROVISIONED" | absent (the
 *                    first),
 *    "provisioned": {"read": N, "write": N} | absent,
 *    "tags": {"k": "v"} | absent,
 *    "force_delete": true | absent}       stack files: a delete may drop
 *                                          the items with it
 *
 * What apply assigns lives in side tables, not in the spec (the spec is
 * what a stack file compares with): the table's id, its creation time,
 * each index's id and status. A table id (tid) is height * 1000 + n,
 * height the ledger height of the entry that created the table and n the
 * tables that entry made before it (a stack file makes several in one
 * change set), so it is never reused: an item write that names a tid
 * whose table was deleted (and perhaps made again) finds no table. An
 * index id (iid) is 1.. for the indexes a table was created with (in
 * name order), and height * 1000 + n of the entry that added it for a
 * GSI added later; iid 0 is the table itself.
 *
 * Rows (ddb_items): one per item in the table (iid 0) and one per item
 * in each index that has the index's key attributes (sparse indexes):
 *   h    ows_ddb_key_hash of pk: Scan order and parallel-scan segments
 *   pk   ows_ddb_key_encode of the (table's or index's) partition key
 *   sk   iid 0: the sort key's encoding, or empty when the table has
 *        none; an index: its sort key's encoding (empty when none)
 *        followed by the table's pk and sk encodings, so that index rows
 *        are unique and still sort by the index's sort key (encodings
 *        are self-delimiting)
 *   rid  the row of ddb_data that holds the item: ows_ddb_item_encode
 *        of it (index rows: projected to the index's projection, always
 *        with the table's and index's keys); each row of ddb_items has
 *        its own, written and deleted with it
 *   expires  the TTL attribute's value as whole seconds when TTL is on
 *        and the item has a number there, else NULL; reads skip rows
 *        whose expires <= now (expired items disappear at once) and the
 *        leader deletes them through the log (op "expire")
 * A Query is one range scan of (tid, iid, h, pk, sk), each row's item
 * then read by its rid; an item's write changes its table row and its
 * index rows in the same transaction, so indexes are strongly consistent.
 *
 * Why items live apart from their keys: a WITHOUT ROWID table keeps whole
 * rows in its interior pages too, and SQLite advises rows under a
 * twentieth of a page there. With 1 KB items in ddb_items itself a leaf
 * held ~6 items, the interior pages ~3 MB of them for 20,000 items, and a
 * point read walked ~6 levels of large records; a table larger than the
 * page cache (64 MB) then sent most GetItems to pread(2). Keys alone make
 * ddb_items a few levels deep and small enough to stay cached; ddb_data,
 * a rowid table, keeps only rowids in its interior pages, and items
 * written together sit together. Databases of the older layout (the item
 * in ddb_items) are brought to this one when they open or are installed
 * from a snapshot (tables_upgrade, tables.c).
 */
#ifndef OWS_DDB_MODEL_H
#define OWS_DDB_MODEL_H

/* Rows with their items, for a SELECT's FROM: every read of items. */
#define OWS_DDB_ITEMS_JOIN "ddb_items CROSS JOIN ddb_data USING(rid)"

#define OWS_DDB_SCHEMA \
	"CREATE TABLE IF NOT EXISTS ddb_tables(" \
	"  name TEXT PRIMARY KEY, tid INTEGER NOT NULL UNIQUE," \
	"  created INTEGER NOT NULL," \
	"  items INTEGER NOT NULL DEFAULT 0," \
	"  bytes INTEGER NOT NULL DEFAULT 0);" \
	"CREATE TABLE IF NOT EXISTS ddb_indexes(" \
	"  tid INTEGER NOT NULL, name TEXT NOT NULL, iid INTEGER NOT NULL," \
	"  status TEXT NOT NULL," \
	"  items INTEGER NOT NULL DEFAULT 0," \
	"  bytes INTEGER NOT NULL DEFAULT 0," \
	"  PRIMARY KEY(tid, name));" \
	"CREATE TABLE IF NOT EXISTS ddb_items(" \
	"  tid INTEGER NOT NULL, iid INTEGER NOT NULL," \
	"  h INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL," \
	"  rid INTEGER NOT NULL, expires INTEGER," \
	"  PRIMARY KEY(tid, iid, h, pk, sk)) WITHOUT ROWID;" \
	"CREATE TABLE IF NOT EXISTS ddb_data(rid INTEGER PRIMARY KEY," \
	"  item BLOB NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS ddb_items_expires" \
	"  ON ddb_items(tid, expires) WHERE expires IS NOT NULL AND iid = 0;" \
	"CREATE TABLE IF NOT EXISTS ddb_tokens(" \
	"  token TEXT PRIMARY KEY, digest TEXT NOT NULL," \
	"  result TEXT NOT NULL, time INTEGER NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS ddb_tokens_time ON ddb_tokens(time);"

/* ClientRequestToken idempotency window (TransactWriteItems). */
#define OWS_DDB_TOKEN_KEEP_MS (10 * 60 * 1000)

/*
 * The Raft entry of item writes: type "ddb" (aws/service.h, entries),
 * body:
 *
 *   {"op": "write",
 *    "atomic": true | absent,   all writes or none (TransactWriteItems);
 *                               absent: each on its own (BatchWriteItem,
 *                               PutItem, ...)
 *    "token": "..." | absent,   ClientRequestToken
 *    "digest": "sha256hex" | absent, of the request, for the token
 *    "writes": [{
 *       "kind": "put" | "update" | "delete" | "check",
 *       "table": NAME, "tid": N,
 *       "item": ITEM (put) | "key": KEY (the others),
 *       and the request's own members, verbatim, as DynamoDB names them:
 *       "ConditionExpression", "UpdateExpression",
 *       "ExpressionAttributeNames", "ExpressionAttributeValues",
 *       "Expected", "ConditionalOperator", "AttributeUpdates",
 *       "ReturnValues", "ReturnValuesOnConditionCheckFailure"
 *    }, ...]}
 *
 *   {"op": "expire", "table": NAME, "tid": N, "now": SECONDS,
 *    "keys": [KEY, ...]}         TTL: delete each item still expired at now
 *
 * apply re-parses the expressions with the same code the proposing node
 * validated them with, evaluates conditions on the state it applies to
 * (so that two nodes never both win), and adds to the entry's result:
 *
 *   "writes": [{"status": "ok", "old": ITEM | absent, "new": ITEM | absent,
 *               "wcu": units}
 *            | {"status": "failed", "code": "ConditionalCheckFailed",
 *               "item": ITEM | absent}      (ALL_OLD on failure)
 *            | {"status": "failed", "code": "ValidationError",
 *               "message": "..."}           (found only at apply)
 *            | {"status": "none"}  ...], one per write, in order
 *   "cancelled": true | absent    atomic: nothing was written
 *   "replayed": true | absent     the token's first result, again
 *   "conflict": true | absent     the token was used with another request
 *                                 (IdempotentParameterMismatchException)
 *
 * "old" and "new" hold the whole items; the proposing node projects them
 * for ReturnValues.
 */

#endif
