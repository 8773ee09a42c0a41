/*
 * What the files of DynamoDB's expression language share (ddb_expr.h is
 * the contract): the tokens of expr_lex.c, the tree that expr_parse.c and
 * expr_legacy.c build, and the helpers that expr_eval.c and expr_update.c
 * evaluate it with.
 *
 * A tree is one struct ows_ddb_expr: a condition node tree (CONDITION,
 * FILTER, KEY), a list of update actions (UPDATE) or a list of paths
 * (PROJECTION). Every node owns its children, its path and its value.
 */
#ifndef OWS_DDB_EXPR_PRIV_H
#define OWS_DDB_EXPR_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "ddb/ddb_expr.h"
#include "ddb/ddb_value.h"

#define OWS__DDB_EXPR_MAX 4096   /* an expression's bytes */
#define OWS__DDB_PATH_DEPTH 32   /* the elements of one document path */
#define OWS__DDB_IN_MAX 100      /* the operands of IN after the first */
#define OWS__DDB_OPS_MAX 300     /* operators and functions in one expression */

/* ---- tokens (expr_lex.c) ---- */

enum ows__ddb_tok {
	OWS__T_EOF,
	OWS__T_NAME,  /* a bare identifier or keyword */
	OWS__T_HASH,  /* #name */
	OWS__T_COLON, /* :value */
	OWS__T_NUM,   /* digits (list indexes) */
	OWS__T_LP, OWS__T_RP, OWS__T_LB, OWS__T_RB,
	OWS__T_COMMA, OWS__T_DOT,
	OWS__T_EQ, OWS__T_NE, OWS__T_LT, OWS__T_LE, OWS__T_GT, OWS__T_GE,
	OWS__T_PLUS, OWS__T_MINUS,
	OWS__T_BAD, /* anything else: refused by the parser where it stands */
};

struct ows__ddb_token {
	enum ows__ddb_tok type;
	unsigned off, len;
};

/*
 * Split text (len bytes, at most OWS__DDB_EXPR_MAX) into tokens ending
 * with one OWS__T_EOF: 0 and *out (free()), or -ENOMEM. Never fails on
 * content: what is no token becomes OWS__T_BAD.
 */
int ows__ddb_lex(const char *text, size_t len, struct ows__ddb_token **out,
		 unsigned *n);
/* True when the n bytes at word are one of DynamoDB's reserved words. */
bool ows__ddb_reserved(const char *word, size_t n);
/* True when the token's text is kw, ignoring case. */
bool ows__ddb_tok_is(const char *text, const struct ows__ddb_token *t,
		     const char *kw);

/* ---- the tree ---- */

/* One element of a document path: a name, or a list index (name NULL). */
struct ows__ddb_pel {
	char *name;
	unsigned long index;
};

struct ows__ddb_path {
	unsigned n;
	struct ows__ddb_pel *el;
};

enum ows__ddb_nk {
	OWS__EN_PATH,          /* path */
	OWS__EN_VALUE,         /* value */
	OWS__EN_SIZE,          /* kid[0] a path */
	OWS__EN_IF_NOT_EXISTS, /* kid[0] a path, kid[1] */
	OWS__EN_LIST_APPEND,   /* kid[0], kid[1] */
	OWS__EN_PLUS,          /* kid[0] + kid[1] */
	OWS__EN_MINUS,         /* kid[0] - kid[1] */
	OWS__EN_CMP,           /* kid[0] op kid[1] */
	OWS__EN_BETWEEN,       /* kid[0] BETWEEN kid[1] AND kid[2] */
	OWS__EN_IN,            /* kid[0] IN (kid[1..n-1]) */
	OWS__EN_AND,
	OWS__EN_OR,
	OWS__EN_NOT,
	OWS__EN_EXISTS,        /* attribute_exists(kid[0]) */
	OWS__EN_NOT_EXISTS,    /* attribute_not_exists(kid[0]) */
	OWS__EN_TYPE,          /* attribute_type(kid[0], kid[1]) */
	OWS__EN_BEGINS,        /* begins_with(kid[0], kid[1]) */
	OWS__EN_CONTAINS,      /* contains(kid[0], kid[1]) */
};

enum ows__ddb_cmp {
	OWS__EC_EQ, OWS__EC_NE, OWS__EC_LT, OWS__EC_LE, OWS__EC_GT, OWS__EC_GE,
};

struct ows__ddb_node {
	enum ows__ddb_nk kind;
	enum ows__ddb_cmp op;
	bool paren; /* written in parentheses (to find redundant ones) */
	struct ows__ddb_path path;
	json_t *value; /* owned */
	unsigned n;
	struct ows__ddb_node **kid;
};

enum ows__ddb_ak {
	OWS__EA_SET, OWS__EA_REMOVE, OWS__EA_ADD, OWS__EA_DELETE,
	OWS__EA_APPEND, /* AttributeUpdates' ADD of a list: appended */
};

struct ows__ddb_action {
	enum ows__ddb_ak kind;
	struct ows__ddb_path path;
	struct ows__ddb_node *val; /* SET, ADD, DELETE */
};

struct ows_ddb_expr {
	enum ows_ddb_expr_kind kind;
	struct ows__ddb_node *cond;     /* CONDITION, FILTER, KEY */
	struct ows__ddb_action *act;    /* UPDATE */
	unsigned nact;
	struct ows__ddb_path *paths;    /* PROJECTION */
	unsigned npaths;
};

/* "ConditionExpression", ... as DynamoDB names the parameter. */
const char *ows__ddb_expr_what(enum ows_ddb_expr_kind kind);

struct ows__ddb_node *ows__ddb_node_new(enum ows__ddb_nk kind, unsigned n);
void ows__ddb_node_free(struct ows__ddb_node *node);
void ows__ddb_path_close(struct ows__ddb_path *p);
/* A copy of p into out: 0 or -ENOMEM. */
int ows__ddb_path_copy(struct ows__ddb_path *out, const struct ows__ddb_path *p);
/* A one-element path of name: 0 or -ENOMEM. */
int ows__ddb_path_name(struct ows__ddb_path *out, const char *name);
/* "[a, b, [2]]", DynamoDB's way of printing a path in its messages. */
void ows__ddb_path_print(const struct ows__ddb_path *p, char *out, size_t cap);
/*
 * The paths of two update actions or projected attributes in one request
 * may not overlap (one a prefix of the other) or conflict (one a name,
 * the other an index at the same place): 0, or OWS_EINVAL with
 * DynamoDB's message prefixed by "Invalid <what>: ".
 */
int ows__ddb_paths_disjoint(const struct ows__ddb_path *a,
			    const struct ows__ddb_path *b, const char *what,
			    struct ows_err *err);
/*
 * The checks that a parsed condition's constant operands allow already
 * (comparisons and BETWEEN of S, N or B, its bounds in order,
 * attribute_type's type name, begins_with's operand): 0 or OWS_EINVAL.
 */
int ows__ddb_cond_check(const struct ows__ddb_node *node, const char *what,
			struct ows_err *err);

/* ---- substitutions (expr_subst.c) ---- */

/* The maps of s checked (keys, empty maps, values): 0 or OWS_EINVAL. */
int ows__ddb_subst_validate(const struct ows_ddb_subst *s,
			    struct ows_err *err);
/*
 * A checked copy (numbers canonical) of av, the value of key in
 * ExpressionAttributeValues: 0 and *out, OWS_EINVAL with DynamoDB's
 * message naming key, or -ENOMEM.
 */
int ows__ddb_value_copy(const json_t *av, const char *key, json_t **out,
			struct ows_err *err);

/* ---- evaluation (expr_eval.c) ---- */

/*
 * The value at path p in item (borrowed from it), or NULL when some
 * element is missing or of the wrong type.
 */
const json_t *ows__ddb_path_get(const json_t *item,
				const struct ows__ddb_path *p);
/*
 * A projection of item to paths (n of them): a new object, NULL on
 * -ENOMEM.
 */
json_t *ows__ddb_project_paths(const json_t *item,
			       const struct ows__ddb_path *const *paths,
			       unsigned n);
/* "STRING", "NUMBER", ... as the update messages name the types. */
const char *ows__ddb_type_long(enum ows_ddb_type t);

#endif
