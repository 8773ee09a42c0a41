/*
 * What the files of src/ddb/ share and nobody else sees: the request of
 * one call, its replies and errors, authorisation, the table as apply and
 * the handlers read it, and the rows of items and index entries
 * (ddb_model.h says what is stored).
 *
 * Handlers: void ows__ddb_OPERATION(struct ows__ddb_req *r), one per
 * DynamoDB operation, listed in the table of ddb.c. Each answers exactly
 * once (ows__ddb_reply, ows__ddb_error and friends), now or later from
 * the loop; r lives until then (its memory is the call's arena, its
 * body is freed with the call).
 */
#ifndef OWS_DDB_PRIV_H
#define OWS_DDB_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/call.h"
#include "common/buf.h"
#include "common/err.h"
#include "ddb/ddb_expr.h"
#include "ddb/ddb_model.h"
#include "ddb/ddb_value.h"
#include "state/kinds.h"
#include "state/state.h"

/* ---- the call ---- */

struct ows__ddb_req {
	struct ows_aws_call *c;
	const char *op;     /* "PutItem": the X-Amz-Target's operation */
	json_t *body;       /* the request, a JSON object (the req's) */
	void *data;         /* the handler's */
	/* the operation's handler, called once the body is parsed */
	void (*handle)(struct ows__ddb_req *r);
};

/* Answer 200 with v (taken). */
void ows__ddb_reply(struct ows__ddb_req *r, json_t *v);
/* Answer 200 with the JSON text of len bytes (copied). */
void ows__ddb_reply_text(struct ows__ddb_req *r, const char *text,
			 size_t len);
/* Answer an error: 400 unless status says otherwise; code without prefix. */
void ows__ddb_error(struct ows__ddb_req *r, int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 400 ValidationException with the message (err's or printf-style). */
void ows__ddb_invalid(struct ows__ddb_req *r, const struct ows_err *err);
void ows__ddb_invalidf(struct ows__ddb_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 400 ResourceNotFoundException, "Requested resource not found". */
void ows__ddb_not_found(struct ows__ddb_req *r);
/*
 * The answer for a failed propose/propose_entry (status < 0): 500
 * InternalServerError, or 503 ServiceUnavailable when no leader is known
 * (clients retry both).
 */
void ows__ddb_propose_failed(struct ows__ddb_req *r, int status);

/*
 * Judge action ("dynamodb:PutItem") on table (and index, or NULL) for the
 * caller: the table's ARN arn:aws:dynamodb:REGION:ACCOUNT:table/NAME (and
 * .../index/INDEX), in the aws and ows partitions. leading_keys: the
 * partition key values the request touches (an array of strings, for the
 * dynamodb:LeadingKeys condition key; borrowed; NULL: none), attributes:
 * the attribute names it reads or writes (dynamodb:Attributes; NULL:
 * none). 0 when allowed; otherwise answers 400 AccessDeniedException
 * ("User: NAME is not authorized to perform: ACTION on resource: ARN")
 * and returns OWS_EDENIED.
 */
int ows__ddb_authorize(struct ows__ddb_req *r, const char *action,
		       const char *table, const char *index,
		       const json_t *leading_keys, const json_t *attributes);

/*
 * The names of set (an object used as a set of attribute names; taken) as
 * a new array, for dynamodb:Attributes; NULL when out of memory.
 */
json_t *ows__ddb_names_array(json_t *set);

/*
 * The dynamodb:Attributes of a read: the top-level names its projection,
 * filter and key condition (each NULL: none) name; a read of whole items
 * (no projection, and not count) is [""], a name no attribute has, so
 * that a policy of names (ForAllValues:StringEquals) does not allow it.
 * A new array, or NULL when out of memory.
 */
json_t *ows__ddb_read_attributes(const struct ows_ddb_expr *projection,
				 const struct ows_ddb_expr *filter,
				 const struct ows_ddb_expr *keycond,
				 bool count);

/* The request member name as a string, or NULL (absent or not a string). */
const char *ows__ddb_str(const struct ows__ddb_req *r, const char *name);

/* ---- tables ---- */

struct ows_ddb_keydef {
	char name[256];         /* "" when the schema has no such key */
	enum ows_ddb_type type; /* S, N or B */
};

enum ows_ddb_projection {
	OWS_DDB_PROJ_ALL,
	OWS_DDB_PROJ_KEYS_ONLY,
	OWS_DDB_PROJ_INCLUDE,
};

struct ows_ddb_index {
	char name[256];
	int64_t iid;
	bool local;                      /* an LSI */
	bool active;                     /* false while CREATING */
	struct ows_ddb_keydef pk, sk;
	enum ows_ddb_projection projection;
	const json_t *include;           /* INCLUDE's names (the table's spec) */
};

#define OWS_DDB_LSI_MAX 5
#define OWS_DDB_GSI_MAX 20
#define OWS_DDB_INDEXES_MAX (OWS_DDB_LSI_MAX + OWS_DDB_GSI_MAX)

struct ows_ddb_table {
	char name[256];
	int64_t tid;
	int64_t created_ms;
	struct ows_ddb_keydef pk, sk;
	size_t n_indexes;
	struct ows_ddb_index indexes[OWS_DDB_INDEXES_MAX];
	char ttl[256];                   /* the TTL attribute, "" when off */
	int64_t items, bytes;            /* ddb_tables' counters, as loaded */
	json_t *spec;                    /* the resource's spec, owned */
	unsigned refs;                   /* the cache's and its holders'
					    references (ows__ddb_table_get) */
};

/*
 * Load table name from s afresh: 0 and *out (a table of its own, with
 * one reference: release it with ows__ddb_table_free), -ENOENT when
 * there is no such table, -EIO, -ENOMEM.
 */
int ows__ddb_table_load(struct ows_state *s, const char *name,
			struct ows_ddb_table **out);
/*
 * Table name of s through the tables cache, shared by the reads, the
 * checks of writes on the proposing node and apply: 0 and *out, a new
 * reference (release it with ows__ddb_table_free; the table is never
 * changed, and stays valid for as long as it is held, whatever the
 * state does meanwhile); errors as ows__ddb_table_load's.
 *
 * A table changes only through a ledger entry (the kind "tables"),
 * which moves the height on, so the cache keeps what it loaded while
 * the state's (gen, height) stays (state.h: gen changes when a
 * rollback or a restore takes the state back or replaces it). Its
 * items and bytes counters change with every write and may be stale:
 * what reports them (DescribeTable) loads the table afresh.
 */
int ows__ddb_table_get(struct ows_state *s, const char *name,
		       struct ows_ddb_table **out);
/* Release a reference to t (may be NULL): the last one frees it. */
void ows__ddb_table_free(struct ows_ddb_table *t);
/* The index named name, or NULL. */
const struct ows_ddb_index *ows__ddb_table_index(const struct ows_ddb_table *t,
						 const char *name);
/* "NAME:TYPE" into a keydef: 0 or OWS_EINVAL. */
int ows__ddb_keydef_parse(const char *text, struct ows_ddb_keydef *out);

/* ---- keys and rows (rows.c) ---- */

/*
 * Check that key (a request's Key) has exactly t's key attributes with
 * their types: 0, or OWS_EINVAL with DynamoDB's message ("The provided
 * key element does not match the schema"). Numbers are canonicalised.
 */
int ows__ddb_key_check(const struct ows_ddb_table *t, json_t *key,
		       struct ows_err *err);
/*
 * Check that item (a PutItem's Item, already ows_ddb_item_check'ed) has
 * t's key attributes with their types and sizes, and the right types for
 * every index key it holds: 0, or OWS_EINVAL ("One or more parameter
 * values were invalid: Missing the key id in the item", "... Type
 * mismatch for key id expected: S actual: N", "One or more parameter
 * values were invalid: Type mismatch for Index Key email Expected: S
 * Actual: N IndexName: by-email", empty key strings, key size limits).
 */
int ows__ddb_item_keys_check(const struct ows_ddb_table *t, const json_t *item,
			     struct ows_err *err);
/* A new object of item's key attributes for t (table keys only). */
json_t *ows__ddb_key_of(const struct ows_ddb_table *t, const json_t *item);

/*
 * A row's key for item in the table (ix NULL) or in index ix: *h, pk and
 * sk (appended) as ddb_model.h lays them out. 1 when the item belongs
 * there, 0 when it lacks an index key (sparse index), OWS_EINVAL when it
 * lacks a table key.
 */
int ows__ddb_row_key(const struct ows_ddb_table *t,
		     const struct ows_ddb_index *ix, const json_t *item,
		     uint32_t *h, struct ows_buf *pk, struct ows_buf *sk);
/* item projected for index ix (its keys and the table's always kept). */
json_t *ows__ddb_index_project(const struct ows_ddb_table *t,
			       const struct ows_ddb_index *ix,
			       const json_t *item);

/*
 * The item of t with key (a checked Key, or an item: only its key
 * attributes are read), as stored: 0 and *out (a new object, or NULL
 * when there is none or it expired before now_s; now_s 0: never
 * expired), or -EIO.
 */
int ows__ddb_item_get(struct ows_state *s, const struct ows_ddb_table *t,
		      const json_t *key, int64_t now_s, json_t **out);
/*
 * ows__ddb_item_get with the item written as wire JSON onto out
 * (ows_ddb_item_json): 1 and its size (ows_ddb_item_size) in *size, 0
 * when there is none, or -EIO; out as it was unless 1.
 */
int ows__ddb_item_get_json(struct ows_state *s, const struct ows_ddb_table *t,
			   const json_t *key, int64_t now_s,
			   struct ows_buf *out, size_t *size);
/*
 * Inside apply: make item (NULL: none) the stored item for its key,
 * where old (NULL: none) was: the table row, every index row, the
 * counters of ddb_tables and ddb_indexes. 0 or -EIO.
 */
int ows__ddb_item_store(struct ows_state *s, const struct ows_ddb_table *t,
			const json_t *old, const json_t *item);
/*
 * Inside apply: write index ix's row for item (backfill of an index
 * added later), over the row the item already has there if any (a new
 * index has none: its iid is new; the search for one is the price of
 * counting right if it did). 0 or -EIO.
 */
int ows__ddb_index_fill(struct ows_state *s, const struct ows_ddb_table *t,
			const struct ows_ddb_index *ix, const json_t *item);
/* Inside apply: drop the rows of index iid of table tid (iid 0: the
   table's own rows), or every row of the table (iid < 0). */
int ows__ddb_rows_drop(struct ows_state *s, int64_t tid, int64_t iid);

/* The TTL expiry of item for t in seconds, or 0 (none). */
int64_t ows__ddb_item_expires(const struct ows_ddb_table *t,
			      const json_t *item);

/*
 * Capacity units as DynamoDB counts them: reads in 4 KB steps (halved
 * when eventually consistent), writes in 1 KB steps; transactional ones
 * doubled.
 */
double ows__ddb_rcu(size_t bytes, bool consistent);
double ows__ddb_wcu(size_t bytes);

/* ---- the Raft entry (apply.c) ---- */

extern const struct ows_aws_entry_type ows__ddb_entry;

/* ---- handlers ---- */

void ows__ddb_create_table(struct ows__ddb_req *r);
void ows__ddb_delete_table(struct ows__ddb_req *r);
void ows__ddb_describe_table(struct ows__ddb_req *r);
void ows__ddb_list_tables(struct ows__ddb_req *r);
void ows__ddb_update_table(struct ows__ddb_req *r);
void ows__ddb_tag_resource(struct ows__ddb_req *r);
void ows__ddb_untag_resource(struct ows__ddb_req *r);
void ows__ddb_list_tags(struct ows__ddb_req *r);
void ows__ddb_update_ttl(struct ows__ddb_req *r);
void ows__ddb_describe_ttl(struct ows__ddb_req *r);
void ows__ddb_describe_limits(struct ows__ddb_req *r);
void ows__ddb_describe_endpoints(struct ows__ddb_req *r);

void ows__ddb_put_item(struct ows__ddb_req *r);
void ows__ddb_update_item(struct ows__ddb_req *r);
void ows__ddb_delete_item(struct ows__ddb_req *r);
void ows__ddb_batch_write(struct ows__ddb_req *r);
void ows__ddb_transact_write(struct ows__ddb_req *r);

void ows__ddb_get_item(struct ows__ddb_req *r);
void ows__ddb_query(struct ows__ddb_req *r);
void ows__ddb_scan(struct ows__ddb_req *r);
void ows__ddb_batch_get(struct ows__ddb_req *r);
void ows__ddb_transact_get(struct ows__ddb_req *r);

/* The "tables" kind (tables.c) and the TTL sweep (ttl.c). */
extern const struct ows_kind ows__ddb_tables_kind;
void ows__ddb_leader_tick(const struct ows_aws_host *h);

#endif
