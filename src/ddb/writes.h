/*
 * What the item writes share (items.c, batch_write.c, transact_write.c,
 * write_check.c, apply.c, ttl.c) and nobody else sees: the validation of
 * one write on the proposing node, the parse of its expressions (the
 * same code on the proposing node and in apply, so that what was
 * validated is what is applied), the proposal of a "ddb" entry and the
 * consumed capacity of its result.
 *
 * A write, as the "ddb" entry carries it (ddb_model.h): {"kind": "put" |
 * "update" | "delete" | "check", "table", "tid", "item" | "key", and the
 * request's own members verbatim}.
 */
#ifndef OWS_DDB_WRITES_H
#define OWS_DDB_WRITES_H

#include <jansson.h>
#include <stdbool.h>

#include "ddb/ddb_priv.h"

/*
 * Parse w's condition (ConditionExpression, or the legacy Expected with
 * ConditionalOperator) and update (UpdateExpression, or the legacy
 * AttributeUpdates) with one subst, then check the subst (unused names
 * and values). cond and upd may be NULL (that part is not wanted, but
 * still parsed for the subst check); *cond and *upd are NULL when the
 * write has none. Refuses a mix of expression and non-expression
 * parameters with DynamoDB's message. 0, or OWS_EINVAL with the message
 * in err (nothing to free then).
 */
int ows__ddb_write_parse(const json_t *w, struct ows_ddb_expr **cond,
			 struct ows_ddb_expr **upd, struct ows_err *err);

/* The tables of one request, each loaded once (at most 100 names). */
struct ows__ddb_tables {
	size_t n;
	struct ows_ddb_table *t[100];
};
/*
 * Table name of set (taken from the tables cache of s on first use,
 * ddb_priv.h: ows__ddb_table_get): 0 and *out (held by set until
 * ows__ddb_tables_free), -ENOENT (no such table), -E2BIG (more tables
 * than the set holds), -EIO.
 */
int ows__ddb_tables_get(struct ows__ddb_tables *set, struct ows_state *s,
			const char *name, struct ows_ddb_table **out);
void ows__ddb_tables_free(struct ows__ddb_tables *set);

/* The request's members a write may carry, and which kinds take them. */
enum ows__ddb_wkind {
	OWS__DDB_PUT,
	OWS__DDB_UPDATE,
	OWS__DDB_DELETE,
	OWS__DDB_CHECK,
};

/*
 * Validate one write of a request on the proposing node: rq (borrowed;
 * the members of a PutItem, of a transaction's Put, ...: TableName, Item
 * or Key, the expressions) for kind, in_txn when it comes from
 * TransactWriteItems (no legacy parameters nor ReturnValues there),
 * where (the prefix of DynamoDB's "1 validation error" member paths:
 * "" for a single write, "transactItems.1.member.put." ...). Loads the
 * table through set. 0 and *out, the write for the entry (its numbers
 * canonical), and *t; OWS_ENOTFOUND (no such table: answer
 * ResourceNotFoundException), OWS_EPARSE (a member of the wrong JSON
 * type: SerializationException), OWS_EINVAL (ValidationException), all
 * with the message in err; -EIO.
 */
int ows__ddb_write_check(struct ows_state *s, struct ows__ddb_tables *set,
			 enum ows__ddb_wkind kind, const json_t *rq,
			 bool in_txn, const char *where, json_t **out,
			 struct ows_ddb_table **t, struct ows_err *err);

/*
 * Add to set (an object used as a set of names) the dynamodb:Attributes
 * of w (a write as write_check made it): its item's top-level names (or
 * its key's), and every name its condition and update name, read or
 * written; "" when it returns a whole item (ReturnValues ALL_OLD or
 * ALL_NEW, ReturnValuesOnConditionCheckFailure ALL_OLD), as a read of
 * whole items. 0, or -ENOMEM / the parse's error.
 */
int ows__ddb_write_attributes(const json_t *w, json_t *set);

/* The partition key value of item (or key) for t as a string (S as is,
   N its text, B its base64), for dynamodb:LeadingKeys; "" when none. */
const char *ows__ddb_leading_key(const struct ows_ddb_table *t,
				 const json_t *item);

/*
 * Answer a failed check (rv one of ows__ddb_write_check's codes) of the
 * request r: ResourceNotFoundException, SerializationException,
 * ValidationException or InternalServerError.
 */
void ows__ddb_check_failed(struct ows__ddb_req *r, int rv,
			   const struct ows_err *err);

/*
 * Propose body (taken) as a "ddb" entry for r: cb gets r, r->data as it
 * was when proposed, and the entry's result object when it was applied
 * ({"ok": true, "writes": [...], ...}), and answers r. A failure to
 * propose or commit, and a refusal of the entry, are answered here, and
 * cb is called with r and result NULL (the call is gone: release data
 * only). cb is called exactly once, perhaps before this returns.
 */
typedef void (*ows__ddb_applied_cb)(struct ows__ddb_req *r, void *data,
				    const json_t *result);
void ows__ddb_propose(struct ows__ddb_req *r, json_t *body,
		      ows__ddb_applied_cb cb);

/*
 * Add one ok write's capacity (w the write as proposed, res its result)
 * to consumed (an object of table name ->
 * {"TableName", "CapacityUnits", "Table", "GlobalSecondaryIndexes",
 * "LocalSecondaryIndexes"}): the table's units from the result's "wcu",
 * each index's from the projected old and new items (an index row
 * changed in place costs its size, a row moved costs both).
 * txn doubles the index units as the table's were.
 */
void ows__ddb_capacity_add(json_t *consumed, const struct ows_ddb_table *t,
			   const json_t *w, const json_t *res, bool txn);
/*
 * The item after write w (as proposed, borrowed) whose result in the
 * entry's result is res (borrowed): res's "new", or for an ok put the
 * write's own item (apply does not send a put's item back); NULL when
 * there is none. A result carries the old and new items only where the
 * proposer needs them: for the index units of a table with indexes, and
 * for w's ReturnValues (ALL_OLD and UPDATED_OLD the old one, ALL_NEW and
 * UPDATED_NEW the new one).
 */
const json_t *ows__ddb_result_new(const json_t *w, const json_t *res);
/*
 * The ConsumedCapacity of one table as ReturnConsumedCapacity mode
 * ("TOTAL" or "INDEXES") wants it, from an entry of consumed (borrowed):
 * a new object.
 */
json_t *ows__ddb_capacity_out(const json_t *entry, const char *mode);

/*
 * Check the request members every write operation shares:
 * ReturnConsumedCapacity (INDEXES, TOTAL, NONE) and
 * ReturnItemCollectionMetrics (SIZE, NONE). 0 or OWS_EINVAL.
 */
int ows__ddb_return_check(const json_t *body, struct ows_err *err);
/*
 * The ItemCollectionMetrics of a write of item (or key) in t: tables
 * with a local secondary index only (DynamoDB's rule), else NULL.
 */
json_t *ows__ddb_collection_metrics(const struct ows_ddb_table *t,
				    const json_t *item);
/*
 * The ConsumedCapacity member for mode (the request's
 * ReturnConsumedCapacity) from consumed (ows__ddb_capacity_add's): a
 * list of tables, or NULL when mode is absent or NONE.
 */
json_t *ows__ddb_capacity_list(const json_t *consumed, const char *mode);

/*
 * Add item's (or a key's) identity in t to seen (an object): 0, or
 * OWS_EINVAL when seen had it already (two requests on one item).
 */
int ows__ddb_seen_once(json_t *seen, const struct ows_ddb_table *t,
		       const json_t *item);

/*
 * A table named by the request is missing from this node's state: it may
 * have been made through another node a moment ago. Once this node has
 * caught up with the leader (a read barrier), run again(r) once more,
 * with r->data set to ows__ddb_caught_up (a handler that finds it there
 * does not call this again). 0 when that is under way (the caller
 * releases its own state and returns); nonzero when the barrier could
 * not start (answer ResourceNotFoundException then).
 */
extern char ows__ddb_caught_up;
int ows__ddb_catch_up(struct ows__ddb_req *r,
		      void (*again)(struct ows__ddb_req *r));

/* Answer r with an error carrying extra members (taken; may be NULL). */
void ows__ddb_error_with(struct ows__ddb_req *r, int status, const char *code,
			 json_t *extra, const char *msg);

/* ---- apply (apply.c) and the TTL sweep (ttl.c) ---- */

/* At most this many keys in one "expire" entry. */
#define OWS__DDB_EXPIRE_BATCH 100

#endif
