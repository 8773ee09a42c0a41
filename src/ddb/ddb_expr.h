/*
 * DynamoDB's expression language, parsed by one grammar ("Expressions" in
 * the DynamoDB developer guide): condition and filter expressions, key
 * condition expressions, update expressions and projection expressions,
 * with ExpressionAttributeNames (#n) and ExpressionAttributeValues (:v),
 * document paths (a.b[2].c), and the legacy parameters older SDK code
 * still sends (Expected, QueryFilter/ScanFilter, KeyConditions,
 * AttributeUpdates, AttributesToGet), which become the same trees.
 *
 * Grammar (the reference's "Comparison operator and function reference"
 * and "Update expressions"):
 *   condition := operand comparator operand | operand BETWEEN operand AND
 *     operand | operand IN ( operand (, operand)* ) | function |
 *     condition AND condition | condition OR condition | NOT condition |
 *     ( condition )
 *   comparator := = | <> | < | <= | > | >=
 *   function := attribute_exists(path) | attribute_not_exists(path) |
 *     attribute_type(path, :type) | begins_with(path, operand) |
 *     contains(path, operand) | size(path) (an operand)
 *   update := (SET a=v (, ...)* | REMOVE p (, ...)* | ADD p :v (, ...)* |
 *     DELETE p :v (, ...)*)+, each clause at most once;
 *     v := operand | operand + operand | operand - operand,
 *     operand may be if_not_exists(path, v) or list_append(v, v)
 *   projection := path (, path)*
 * Keywords are case-insensitive; DynamoDB's reserved words may not be
 * used as bare attribute names ("Attribute name is a reserved keyword;
 * reserved keyword: status").
 *
 * Every error is a ValidationException whose message is DynamoDB's
 * ("Invalid ConditionExpression: Syntax error; token: \"x\", near: \"a x\"",
 * "Invalid UpdateExpression: An expression attribute value used in
 * expression is not defined; attribute value: :v", "Value provided in
 * ExpressionAttributeValues unused in expressions: keys: {:a}", ...).
 *
 * Parsed trees are malloc'd (apply in the state machine parses them too,
 * without a request arena) and freed with ows_ddb_expr_free. Evaluation is
 * deterministic: numbers are ows_ddb_num decimals.
 */
#ifndef OWS_DDB_EXPR_H
#define OWS_DDB_EXPR_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "ddb/ddb_value.h"

enum ows_ddb_expr_kind {
	OWS_DDB_EXPR_CONDITION,  /* ConditionExpression */
	OWS_DDB_EXPR_FILTER,     /* FilterExpression (same grammar) */
	OWS_DDB_EXPR_KEY,        /* KeyConditionExpression */
	OWS_DDB_EXPR_UPDATE,     /* UpdateExpression */
	OWS_DDB_EXPR_PROJECTION, /* ProjectionExpression */
};

struct ows_ddb_expr; /* opaque */

/*
 * The substitutions of one request (ExpressionAttributeNames and
 * ExpressionAttributeValues, borrowed; either may be NULL) and which of
 * them its expressions used: parse every expression of the request with
 * one subst, then ows_ddb_subst_check, as DynamoDB refuses unused ones.
 */
struct ows_ddb_subst {
	const json_t *names;
	const json_t *values;
	json_t *used; /* private: the names and values used so far */
};
void ows_ddb_subst_init(struct ows_ddb_subst *s, const json_t *names,
			const json_t *values);
void ows_ddb_subst_close(struct ows_ddb_subst *s);
/*
 * After all expressions are parsed: 0, or OWS_EINVAL with
 * "Value provided in ExpressionAttributeNames unused in expressions:
 * keys: {#a, #b}" (or ...Values...), and for a request that has
 * substitutions but no expression at all: "ExpressionAttributeNames can
 * only be specified when using expressions" (and the Values form).
 * Empty maps are refused as DynamoDB does ("ExpressionAttributeValues
 * must not be empty").
 */
int ows_ddb_subst_check(const struct ows_ddb_subst *s, struct ows_err *err);

/*
 * Parse text as an expression of kind, resolving #names and :values
 * through s (the values are checked with ows_ddb_value_check). 0 and *out
 * (free with ows_ddb_expr_free), or OWS_EINVAL with DynamoDB's message
 * (the kind names the parameter in it: "Invalid FilterExpression: ...").
 * An empty text is "Invalid ConditionExpression: The expression can not
 * be empty;".
 */
int ows_ddb_expr_parse(enum ows_ddb_expr_kind kind, const char *text,
		       struct ows_ddb_subst *s, struct ows_ddb_expr **out,
		       struct ows_err *err);
void ows_ddb_expr_free(struct ows_ddb_expr *e);

/*
 * True when some path in e starts at the top-level attribute name (to
 * refuse updates of key attributes: "Cannot update attribute id. This
 * attribute is part of the key", and for projections of keys).
 */
bool ows_ddb_expr_names_top(const struct ows_ddb_expr *e, const char *name);

/*
 * Add to names (an object used as a set: name -> true) the top-level
 * attribute name of every path in e (NULL: none), the paths it only reads
 * included: the dynamodb:Attributes a request touches. 0 or -ENOMEM.
 */
int ows_ddb_expr_tops(const struct ows_ddb_expr *e, json_t *names);

/* ---- conditions and filters ---- */

/*
 * Evaluate a CONDITION or FILTER e on item (NULL: no item, as for a
 * PutItem on a new key): *out true when it holds. Comparisons of
 * different types are false, as DynamoDB's are. 0, or OWS_EINVAL with a
 * message for what only evaluation can find (a size() of a number,
 * "Invalid ConditionExpression: Incorrect operand type for operator or
 * function; operator or function: size, operand type: N").
 */
int ows_ddb_cond_eval(const struct ows_ddb_expr *e, const json_t *item,
		      bool *out, struct ows_err *err);

/* ---- updates ---- */

/*
 * Apply UPDATE e to item in place (an object, possibly holding only the
 * key of a new item). 0, or OWS_EINVAL with DynamoDB's message (ADD of a
 * string, a SET through a path whose parent does not exist: "The document
 * path provided in the update expression is invalid for update", two
 * actions on overlapping paths: "Two document paths overlap with each
 * other; must remove or rewrite one of these paths; path one: [a], path
 * two: [a, b]", list_append of a non-list, a number out of range, ...).
 * On error item may be half-updated: apply works on a copy.
 */
int ows_ddb_update_apply(const struct ows_ddb_expr *e, json_t *item,
			 struct ows_err *err);
/*
 * item (an item, borrowed) projected to the paths that UPDATE e named
 * (its SET, REMOVE, ADD and DELETE targets): what ReturnValues
 * UPDATED_OLD (of the old item) and UPDATED_NEW (of the new one) return.
 * A new object (empty when nothing matched).
 */
json_t *ows_ddb_update_project(const struct ows_ddb_expr *e,
			       const json_t *item);

/* ---- projections ---- */

/*
 * item projected to the paths of PROJECTION e, as GetItem, Query and Scan
 * return it (nested paths keep their parents; list elements keep their
 * order). A new object.
 */
json_t *ows_ddb_project(const struct ows_ddb_expr *e, const json_t *item);

/* ---- key conditions ---- */

enum ows_ddb_key_op {
	OWS_DDB_KEY_NONE,  /* no condition on the sort key */
	OWS_DDB_KEY_EQ,
	OWS_DDB_KEY_LT,
	OWS_DDB_KEY_LE,
	OWS_DDB_KEY_GT,
	OWS_DDB_KEY_GE,
	OWS_DDB_KEY_BETWEEN,
	OWS_DDB_KEY_BEGINS_WITH,
};

/* A key condition resolved against one key schema; values borrowed from e. */
struct ows_ddb_keycond {
	const json_t *pk;          /* the partition key's value */
	enum ows_ddb_key_op op;
	const json_t *v1, *v2;     /* the sort key's operands (v2: BETWEEN) */
};

/*
 * Resolve KEY e against a key schema (pk the partition key attribute's
 * name and type, sk the sort key's or NULL): 0 and *out, or OWS_EINVAL
 * with DynamoDB's message ("Query condition missed key schema element:
 * id", "Query key condition not supported", "One or more parameter values
 * were invalid: Condition parameter type does not match schema type",
 * begins_with on a number: "Invalid KeyConditionExpression: Incorrect
 * operand type for operator or function; operator or function:
 * begins_with, operand type: N").
 */
int ows_ddb_keycond_resolve(const struct ows_ddb_expr *e, const char *pk,
			    enum ows_ddb_type pk_type, const char *sk,
			    enum ows_ddb_type sk_type,
			    struct ows_ddb_keycond *out, struct ows_err *err);

/* ---- legacy parameters, as the same trees ---- */

/*
 * Expected with ConditionalOperator (NULL: AND) as a CONDITION; the
 * QueryFilter / ScanFilter form (ComparisonOperator, AttributeValueList)
 * as a FILTER (kind says which); messages as DynamoDB's for the legacy
 * forms. Mixing a legacy parameter and an expression in one request is
 * refused by the caller ("Can not use both expression and non-expression
 * parameters in the same request: Non-expression parameters: {Expected}
 * Expression parameters: {ConditionExpression}").
 */
int ows_ddb_legacy_conditions(enum ows_ddb_expr_kind kind,
			      const json_t *conditions, const char *op,
			      struct ows_ddb_expr **out, struct ows_err *err);
/* AttributeUpdates ({name: {"Action": PUT|ADD|DELETE, "Value"}}) as an UPDATE. */
int ows_ddb_legacy_updates(const json_t *updates, struct ows_ddb_expr **out,
			   struct ows_err *err);
/* AttributesToGet (an array of names) as a PROJECTION. */
int ows_ddb_legacy_projection(const json_t *names, struct ows_ddb_expr **out,
			      struct ows_err *err);
/* KeyConditions ({name: {ComparisonOperator, AttributeValueList}}) as KEY. */
int ows_ddb_legacy_keyconditions(const json_t *conds,
				 struct ows_ddb_expr **out,
				 struct ows_err *err);

#endif
