/*
 * What the reads of src/ddb/ share (get.c, query.c, read_opts.c, read_rows.c):
 * the options of a GetItem, Query or Scan validated without a node (so
 * that the fuzz target can feed them arbitrary bodies), the range of
 * ddb_items rows a Query or Scan walks, the tables they read (cached
 * per ledger height), and the ConsumedCapacity they answer.
 *
 * A Query is one range scan of ddb_items' primary key: tid, iid, h and
 * pk fixed, sk in [lo, hi) (hi absent: unbounded). The bounds are byte
 * strings computed from the key condition on the key encodings
 * (ddb_value.h: order-preserving and self-delimiting), so that they hold
 * for index rows too, whose sk is the index's sort key's encoding
 * followed by the table's keys. A Scan walks (h, pk, sk) from a start
 * row within [h_lo, h_hi] (its segment). Statements are the state's
 * cached ones (ows_state_stmt), reset as soon as they are stepped.
 */
#ifndef OWS_DDB_READS_H
#define OWS_DDB_READS_H

#include "ddb/ddb_priv.h"

enum ows__ddb_read_kind {
	OWS__DDB_READ_GET,
	OWS__DDB_READ_QUERY,
	OWS__DDB_READ_SCAN,
};

enum ows__ddb_select {
	OWS__DDB_SELECT_ALL,       /* ALL_ATTRIBUTES */
	OWS__DDB_SELECT_PROJECTED, /* ALL_PROJECTED_ATTRIBUTES */
	OWS__DDB_SELECT_SPECIFIC,  /* SPECIFIC_ATTRIBUTES */
	OWS__DDB_SELECT_COUNT,     /* COUNT */
};

enum ows__ddb_capacity {
	OWS__DDB_CAP_NONE,
	OWS__DDB_CAP_TOTAL,
	OWS__DDB_CAP_INDEXES,
};

/* The validated options of one read. */
struct ows__ddb_read {
	enum ows__ddb_read_kind kind;
	const struct ows_ddb_table *t;   /* borrowed */
	const struct ows_ddb_index *ix;  /* IndexName's, or NULL */
	bool consistent;
	bool forward;                    /* ScanIndexForward */
	enum ows__ddb_select select;
	enum ows__ddb_capacity capacity;
	/* An LSI whose projection lacks what is asked: read the table's item. */
	bool fetch_table;
	int64_t limit;                   /* 0: none */
	struct ows_ddb_subst subst;
	struct ows_ddb_expr *keycond, *filter, *projection;
	/* Query: the partition and the range of sk. */
	uint32_t h;
	struct ows_buf pk, lo, hi;
	bool has_hi;
	bool empty;                      /* the range holds no row */
	/* Scan: the segment's h range and the first row's (h, pk, sk). */
	uint32_t h_lo, h_hi;
	uint32_t start_h;
	struct ows_buf start_pk, start_sk;
	/* The partition key values touched, as strings (LeadingKeys). */
	json_t *leading;
};

void ows__ddb_read_init(struct ows__ddb_read *rd);
void ows__ddb_read_close(struct ows__ddb_read *rd);

/*
 * Validate body (a GetItem's, Query's or Scan's request, borrowed; its
 * numbers are canonicalised in place) against table t (borrowed, kept
 * in rd): 0 and rd filled, or OWS_EINVAL with DynamoDB's message in err.
 * Needs no node: the fuzz target calls it with tables it made.
 */
int ows__ddb_read_parse(json_t *body, enum ows__ddb_read_kind kind,
			const struct ows_ddb_table *t,
			struct ows__ddb_read *rd, struct ows_err *err);

/*
 * The projection of a request: ProjectionExpression (parsed with subst)
 * or the legacy AttributesToGet (not both): 0 and *out (NULL when
 * neither), or OWS_EINVAL.
 */
int ows__ddb_projection_parse(const json_t *req, struct ows_ddb_subst *subst,
			      struct ows_ddb_expr **out, struct ows_err *err);
/* ReturnConsumedCapacity of req: 0 and *out, or OWS_EINVAL. */
int ows__ddb_capacity_parse(const json_t *req, enum ows__ddb_capacity *out,
			    struct ows_err *err);

/*
 * The row (h, pk, sk) that an ExclusiveStartKey (key, borrowed) names in
 * t or index ix: 0, or OWS_EINVAL ("The provided starting key is
 * invalid: ...").
 */
int ows__ddb_start_row(const struct ows_ddb_table *t,
		       const struct ows_ddb_index *ix, json_t *key,
		       uint32_t *h, struct ows_buf *pk, struct ows_buf *sk,
		       struct ows_err *err);

/*
 * The smallest byte string greater than every string that begins with
 * b (b with its trailing 0xff bytes dropped and its last byte raised):
 * true, or false when there is none (b empty or all 0xff).
 */
bool ows__ddb_prefix_next(struct ows_buf *b);

/*
 * Table name of s as the reads see it, from the tables cache
 * (ddb_priv.h, ows__ddb_table_get: loaded once per ledger height; the
 * item counters it holds may be stale): 0 and *out (borrowed until the
 * next call of this or of ows__ddb_table_get), -ENOENT, -EIO or
 * -ENOMEM.
 */
int ows__ddb_table_cached(struct ows_state *s, const char *name,
			  const struct ows_ddb_table **out);

/*
 * The ConsumedCapacity member for units read on t (index ix, or NULL):
 * a new object, or NULL when cap is NONE.
 */
json_t *ows__ddb_capacity_json(enum ows__ddb_capacity cap,
			       const struct ows_ddb_table *t,
			       const struct ows_ddb_index *ix, double units);

/*
 * BatchGetItem's RequestItems (borrowed): an object of 1.. tables, each
 * with 1.. Keys, 100 keys at most in all. 0, or OWS_EINVAL ("Too many
 * items requested for the BatchGetItem call").
 */
int ows__ddb_batch_get_shape(const json_t *items, struct ows_err *err);

/*
 * Walk the rows of rd (validated) on s and fill out (a Query's or Scan's
 * answer: Items, Count, ScannedCount, LastEvaluatedKey,
 * ConsumedCapacity): 0, OWS_EINVAL with err (a filter that only
 * evaluation finds wrong), or -EIO.
 */
int ows__ddb_range_walk(struct ows_state *s, const struct ows__ddb_read *rd,
			json_t *out, struct ows_err *err);
/* Query and Scan: validate, authorise, read (after the barrier when
 * ConsistentRead) and answer r. */
void ows__ddb_range_read(struct ows__ddb_req *r);

/* The partition key of key (t's or ix's) as a string, for LeadingKeys. */
json_t *ows__ddb_read_leading(const json_t *av);

#endif
