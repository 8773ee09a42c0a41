/*
 * One recursive-descent parser for the five kinds of DynamoDB expression
 * (developer guide, "Using expressions in DynamoDB"), and the bookkeeping
 * of a request's substitutions (ExpressionAttributeNames and Values):
 * what each expression used, so that unused ones are refused as DynamoDB
 * refuses them.
 *
 * (expr_subst.c checks the substitutions themselves.)
 *
 * Conditions bind as DynamoDB's do: NOT tighter than AND, AND tighter
 * than OR; operands are paths, :values and size(path). Update
 * expressions are clauses of actions; projections lists of paths. Every
 * error is DynamoDB's message prefixed by "Invalid <Parameter>: ".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/expr_priv.h"

#define PAREN_DEPTH_MAX 100

struct parser {
	const char *text;
	const struct ows__ddb_token *t;
	unsigned i;
	unsigned depth; /* nested parentheses */
	unsigned ops;   /* operators and functions so far */
	enum ows_ddb_expr_kind kind;
	const char *what;
	struct ows_ddb_subst *s;
	struct ows_err *err;
};

/* ---- errors ---- */

static const struct ows__ddb_token *cur(const struct parser *p)
{
	return &p->t[p->i];
}

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[OWS_ERR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ows_err_printf(p->err, "Invalid %s: %s", p->what, msg);
	return OWS_EINVAL;
}

/*
 * A syntax error at the current token, quoted with the text from the
 * token before it to the token after it, as DynamoDB quotes it.
 */
static int syntax(struct parser *p)
{
	const struct ows__ddb_token *t = cur(p);
	unsigned from = p->i > 0 ? p->t[p->i - 1].off : t->off;
	unsigned to = t->off + t->len;

	if (t->type != OWS__T_EOF && t[1].type != OWS__T_EOF)
		to = t[1].off + t[1].len;
	if (t->type == OWS__T_EOF)
		return perr(p, "Syntax error; token: \"<EOF>\", near: \"%.*s\"",
			    (int)(to - from), p->text + from);
	return perr(p, "Syntax error; token: \"%.*s\", near: \"%.*s\"",
		    (int)t->len, p->text + t->off, (int)(to - from),
		    p->text + from);
}

static bool accept(struct parser *p, enum ows__ddb_tok type)
{
	if (cur(p)->type != type)
		return false;
	p->i++;
	return true;
}

static bool accept_kw(struct parser *p, const char *kw)
{
	if (!ows__ddb_tok_is(p->text, cur(p), kw))
		return false;
	p->i++;
	return true;
}

static int count_op(struct parser *p)
{
	if (++p->ops > OWS__DDB_OPS_MAX)
		return perr(p, "The expression contains too many operators; "
			    "operator count: %u", p->ops);
	return 0;
}

/* ---- names, values, paths ---- */

static int mark_used(struct parser *p, const char *key, size_t len)
{
	char *k = strndup(key, len);
	int rc = 0;

	if (k == NULL)
		return -ENOMEM;
	if (json_object_set_new(p->s->used, k, json_true()) != 0)
		rc = -ENOMEM;
	free(k);
	return rc;
}

/* The attribute name of a bare name or #name token, a new string. */
static int path_name(struct parser *p, char **out)
{
	const struct ows__ddb_token *t = cur(p);
	const char *w = p->text + t->off;
	const json_t *v;
	int rc;

	if (t->type == OWS__T_NAME) {
		if (ows__ddb_reserved(w, t->len))
			return perr(p, "Attribute name is a reserved keyword; "
				    "reserved keyword: %.*s", (int)t->len, w);
		*out = strndup(w, t->len);
	} else if (t->type == OWS__T_HASH) {
		v = json_is_object(p->s->names) ?
			json_object_getn(p->s->names, w, t->len) : NULL;
		if (!json_is_string(v))
			return perr(p, "An expression attribute name used in "
				    "the document path is not defined; "
				    "attribute name: %.*s", (int)t->len, w);
		rc = mark_used(p, w, t->len);
		if (rc != 0)
			return rc;
		*out = strdup(json_string_value(v));
	} else {
		return syntax(p);
	}
	if (*out == NULL)
		return -ENOMEM;
	p->i++;
	return 0;
}

static int path_push(struct ows__ddb_path *path, char *name,
		     unsigned long index)
{
	struct ows__ddb_pel *el;

	el = realloc(path->el, (path->n + 1) * sizeof(*el));
	if (el == NULL) {
		free(name);
		return -ENOMEM;
	}
	path->el = el;
	el[path->n].name = name;
	el[path->n].index = index;
	path->n++;
	return 0;
}

static int list_index(struct parser *p, unsigned long *out)
{
	const struct ows__ddb_token *t = cur(p);
	unsigned long v = 0;
	unsigned i;

	/* beyond 9 digits no item can have the element */
	if (t->type != OWS__T_NUM || t->len > 9)
		return syntax(p);
	for (i = 0; i < t->len; i++)
		v = v * 10 + (unsigned long)(p->text[t->off + i] - '0');
	p->i++;
	*out = v;
	return accept(p, OWS__T_RB) ? 0 : syntax(p);
}

static int parse_path(struct parser *p, struct ows__ddb_path *path)
{
	unsigned long index = 0;
	char *name = NULL;
	int rc;

	path->n = 0;
	path->el = NULL;
	for (;;) {
		rc = path_name(p, &name);
		if (rc == 0)
			rc = path_push(path, name, 0);
		while (rc == 0 && accept(p, OWS__T_LB)) {
			rc = list_index(p, &index);
			if (rc == 0)
				rc = path_push(path, NULL, index);
		}
		if (rc != 0)
			goto err;
		if (path->n > OWS__DDB_PATH_DEPTH) {
			rc = perr(p, "The document path has too many nesting "
				  "levels; nesting levels: %u", path->n);
			goto err;
		}
		if (!accept(p, OWS__T_DOT))
			return 0;
	}
err:
	ows__ddb_path_close(path);
	return rc;
}

static int parse_value(struct parser *p, json_t **out)
{
	const struct ows__ddb_token *t = cur(p);
	const char *w = p->text + t->off;
	const json_t *v;
	char key[OWS__DDB_EXPR_MAX + 1];
	int rc;

	v = json_is_object(p->s->values) ?
		json_object_getn(p->s->values, w, t->len) : NULL;
	if (v == NULL)
		return perr(p, "An expression attribute value used in "
			    "expression is not defined; attribute value: %.*s",
			    (int)t->len, w);
	memcpy(key, w, t->len);
	key[t->len] = '\0';
	rc = ows__ddb_value_copy(v, key, out, p->err);
	if (rc != 0)
		return rc;
	p->i++;
	return mark_used(p, w, t->len);
}

/* ---- operands and functions ---- */

struct fn {
	const char *name;
	enum ows__ddb_nk kind;
	unsigned nargs;
	bool update; /* an update expression's function, else a condition's */
};

static const struct fn fns[] = {
	{"attribute_exists", OWS__EN_EXISTS, 1, false},
	{"attribute_not_exists", OWS__EN_NOT_EXISTS, 1, false},
	{"attribute_type", OWS__EN_TYPE, 2, false},
	{"begins_with", OWS__EN_BEGINS, 2, false},
	{"contains", OWS__EN_CONTAINS, 2, false},
	{"size", OWS__EN_SIZE, 1, false},
	{"if_not_exists", OWS__EN_IF_NOT_EXISTS, 2, true},
	{"list_append", OWS__EN_LIST_APPEND, 2, true},
};

static int parse_operand(struct parser *p, struct ows__ddb_node **out);

static const struct fn *fn_find(struct parser *p)
{
	const struct ows__ddb_token *t = cur(p);
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strlen(fns[i].name) == t->len &&
		    memcmp(fns[i].name, p->text + t->off, t->len) == 0)
			return &fns[i];
	return NULL;
}

static int fn_args(struct parser *p, const struct fn *f,
		   struct ows__ddb_node *node)
{
	struct ows__ddb_node *args[3] = {NULL, NULL, NULL};
	unsigned n = 0, i;
	int rc;

	do {
		if (n == 3) {
			rc = perr(p, "Incorrect number of operands for operator "
				  "or function; operator or function: %s, "
				  "number of operands: %u", f->name, n + 1);
			goto err;
		}
		rc = parse_operand(p, &args[n]);
		if (rc != 0)
			goto err;
		n++;
	} while (accept(p, OWS__T_COMMA));
	if (!accept(p, OWS__T_RP)) {
		rc = syntax(p);
		goto err;
	}
	if (n != f->nargs) {
		rc = perr(p, "Incorrect number of operands for operator or "
			  "function; operator or function: %s, number of "
			  "operands: %u", f->name, n);
		goto err;
	}
	if (f->kind != OWS__EN_LIST_APPEND && args[0]->kind != OWS__EN_PATH) {
		rc = perr(p, "Operator or function requires a document path; "
			  "operator or function: %s", f->name);
		goto err;
	}
	for (i = 0; i < n; i++)
		node->kid[i] = args[i];
	return 0;
err:
	for (i = 0; i < n; i++)
		ows__ddb_node_free(args[i]);
	return rc;
}

static int parse_function(struct parser *p, struct ows__ddb_node **out)
{
	const struct ows__ddb_token *t = cur(p);
	const struct fn *f = fn_find(p);
	bool update = p->kind == OWS_DDB_EXPR_UPDATE;
	struct ows__ddb_node *node;
	int rc;

	if (f == NULL)
		return perr(p, "Invalid function name; function: %.*s",
			    (int)t->len, p->text + t->off);
	if (f->update != update)
		return perr(p, "The function is not allowed in %s expression; "
			    "function: %s", update ? "an update" : "a condition",
			    f->name);
	rc = count_op(p);
	if (rc != 0)
		return rc;
	node = ows__ddb_node_new(f->kind, f->nargs);
	if (node == NULL)
		return -ENOMEM;
	p->i += 2; /* the name and "(" */
	rc = fn_args(p, f, node);
	if (rc != 0) {
		node->n = 0;
		ows__ddb_node_free(node);
		return rc;
	}
	*out = node;
	return 0;
}

/* A path, a :value or a function call. */
static int parse_operand(struct parser *p, struct ows__ddb_node **out)
{
	const struct ows__ddb_token *t = cur(p);
	struct ows__ddb_node *node;
	int rc;

	if (t->type == OWS__T_NAME && t[1].type == OWS__T_LP)
		return parse_function(p, out);
	if (t->type != OWS__T_NAME && t->type != OWS__T_HASH &&
	    t->type != OWS__T_COLON)
		return syntax(p);
	node = ows__ddb_node_new(t->type == OWS__T_COLON ? OWS__EN_VALUE :
				 OWS__EN_PATH, 0);
	if (node == NULL)
		return -ENOMEM;
	if (t->type == OWS__T_COLON)
		rc = parse_value(p, &node->value);
	else
		rc = parse_path(p, &node->path);
	if (rc != 0) {
		ows__ddb_node_free(node);
		return rc;
	}
	*out = node;
	return 0;
}

/* ---- conditions ---- */

static bool is_bool_fn(const struct ows__ddb_node *n)
{
	return n->kind >= OWS__EN_EXISTS;
}

static bool is_cond(const struct ows__ddb_node *n)
{
	return n->kind >= OWS__EN_CMP;
}

/* Free *out and leave it NULL: how a parse function fails. */
static int fail(struct ows__ddb_node **out, int rc)
{
	ows__ddb_node_free(*out);
	*out = NULL;
	return rc;
}

/* A new node of kind over kids a (and b); frees them on failure. */
static int join(enum ows__ddb_nk kind, struct ows__ddb_node **out,
		struct ows__ddb_node *a, struct ows__ddb_node *b)
{
	struct ows__ddb_node *node = ows__ddb_node_new(kind, b ? 2 : 1);

	if (node == NULL) {
		ows__ddb_node_free(a);
		ows__ddb_node_free(b);
		*out = NULL;
		return -ENOMEM;
	}
	node->kid[0] = a;
	if (b != NULL)
		node->kid[1] = b;
	*out = node;
	return 0;
}

static int parse_or(struct parser *p, struct ows__ddb_node **out);

static int cmp_op(enum ows__ddb_tok t, enum ows__ddb_cmp *op)
{
	switch (t) {
	case OWS__T_EQ: *op = OWS__EC_EQ; return 1;
	case OWS__T_NE: *op = OWS__EC_NE; return 1;
	case OWS__T_LT: *op = OWS__EC_LT; return 1;
	case OWS__T_LE: *op = OWS__EC_LE; return 1;
	case OWS__T_GT: *op = OWS__EC_GT; return 1;
	case OWS__T_GE: *op = OWS__EC_GE; return 1;
	default: return 0;
	}
}

static const char *const cmp_sym[] = {"=", "<>", "<", "<=", ">", ">="};

static bool same_path(const struct ows__ddb_node *a,
		      const struct ows__ddb_node *b)
{
	unsigned i;

	if (a->kind != OWS__EN_PATH || b->kind != OWS__EN_PATH ||
	    a->path.n != b->path.n)
		return false;
	for (i = 0; i < a->path.n; i++) {
		const struct ows__ddb_pel *x = &a->path.el[i], *y = &b->path.el[i];

		if ((x->name == NULL) != (y->name == NULL))
			return false;
		if (x->name ? strcmp(x->name, y->name) != 0 :
			      x->index != y->index)
			return false;
	}
	return true;
}

/* One more operand of node (grown by one): frees node on failure. */
static int add_operand(struct parser *p, struct ows__ddb_node **node)
{
	struct ows__ddb_node *n = *node, **kid;
	int rc;

	kid = realloc(n->kid, (n->n + 1) * sizeof(*kid));
	if (kid == NULL)
		return -ENOMEM;
	n->kid = kid;
	rc = parse_operand(p, &kid[n->n]);
	if (rc != 0)
		return rc;
	n->n++;
	if (is_bool_fn(kid[n->n - 1]))
		return syntax(p);
	return 0;
}

/* left BETWEEN a AND b, left IN (a, ...), left op right. */
static int parse_comparison(struct parser *p, struct ows__ddb_node *left,
			    struct ows__ddb_node **out)
{
	enum ows__ddb_nk kind = OWS__EN_CMP;
	struct ows__ddb_node *node;
	enum ows__ddb_cmp op = OWS__EC_EQ;
	int rc;

	if (accept_kw(p, "BETWEEN"))
		kind = OWS__EN_BETWEEN;
	else if (accept_kw(p, "IN"))
		kind = OWS__EN_IN;
	else if (cmp_op(cur(p)->type, &op))
		p->i++;
	else {
		ows__ddb_node_free(left);
		return syntax(p);
	}
	node = ows__ddb_node_new(kind, 1);
	if (node == NULL) {
		ows__ddb_node_free(left);
		return -ENOMEM;
	}
	node->kid[0] = left;
	node->op = op;
	*out = node;
	rc = count_op(p);
	if (rc == 0 && kind == OWS__EN_IN && !accept(p, OWS__T_LP))
		rc = syntax(p);
	if (rc == 0)
		rc = add_operand(p, out);
	if (rc == 0 && kind == OWS__EN_BETWEEN)
		rc = accept_kw(p, "AND") ? add_operand(p, out) : syntax(p);
	while (rc == 0 && kind == OWS__EN_IN && accept(p, OWS__T_COMMA)) {
		rc = add_operand(p, out);
		if (rc == 0 && node->n - 1 > OWS__DDB_IN_MAX)
			rc = perr(p, "The IN operator is provided with too "
				  "many operands; number of operands: %u",
				  node->n - 1);
	}
	if (rc == 0 && kind == OWS__EN_IN && !accept(p, OWS__T_RP))
		rc = syntax(p);
	if (rc == 0 && kind == OWS__EN_CMP && same_path(left, node->kid[1])) {
		char path[128];

		ows__ddb_path_print(&left->path, path, sizeof(path));
		rc = perr(p, "The first operand must be distinct from the "
			  "remaining operands for this operator or function; "
			  "operator: %s, first operand: %s",
			  cmp_sym[op], path);
	}
	return rc != 0 ? fail(out, rc) : 0;
}

static int parse_primary(struct parser *p, struct ows__ddb_node **out)
{
	struct ows__ddb_node *left;
	int rc;

	*out = NULL;
	if (accept(p, OWS__T_LP)) {
		if (++p->depth > PAREN_DEPTH_MAX)
			return syntax(p);
		rc = parse_or(p, out);
		p->depth--;
		if (rc != 0)
			return rc;
		if (!accept(p, OWS__T_RP))
			return fail(out, syntax(p));
		if ((*out)->paren)
			return fail(out, perr(p, "The expression has redundant "
					      "parentheses;"));
		(*out)->paren = true;
		return 0;
	}
	rc = parse_operand(p, &left);
	if (rc != 0)
		return rc;
	if (is_bool_fn(left)) {
		*out = left;
		return 0;
	}
	return parse_comparison(p, left, out);
}

static int parse_not(struct parser *p, struct ows__ddb_node **out)
{
	struct ows__ddb_node *kid = NULL;
	int rc;

	*out = NULL;
	if (!accept_kw(p, "NOT"))
		return parse_primary(p, out);
	rc = count_op(p);
	if (rc == 0)
		rc = parse_not(p, &kid);
	if (rc != 0) {
		ows__ddb_node_free(kid);
		return rc;
	}
	return join(OWS__EN_NOT, out, kid, NULL);
}

static int parse_and(struct parser *p, struct ows__ddb_node **out)
{
	struct ows__ddb_node *right = NULL;
	int rc = parse_not(p, out);

	while (rc == 0 && accept_kw(p, "AND")) {
		rc = count_op(p);
		if (rc == 0)
			rc = parse_not(p, &right);
		if (rc != 0)
			return fail(out, rc);
		rc = join(OWS__EN_AND, out, *out, right);
		right = NULL;
	}
	return rc;
}

static int parse_or(struct parser *p, struct ows__ddb_node **out)
{
	struct ows__ddb_node *right = NULL;
	int rc = parse_and(p, out);

	while (rc == 0 && accept_kw(p, "OR")) {
		rc = count_op(p);
		if (rc == 0)
			rc = parse_and(p, &right);
		if (rc != 0)
			return fail(out, rc);
		rc = join(OWS__EN_OR, out, *out, right);
		right = NULL;
	}
	return rc;
}

/* A key condition: comparisons (not <>), BETWEEN, begins_with, AND. */
static int key_shape(struct parser *p, const struct ows__ddb_node *node)
{
	static const char *const names[] = {
		[OWS__EN_OR] = "OR", [OWS__EN_NOT] = "NOT",
		[OWS__EN_IN] = "IN", [OWS__EN_EXISTS] = "attribute_exists",
		[OWS__EN_NOT_EXISTS] = "attribute_not_exists",
		[OWS__EN_TYPE] = "attribute_type",
		[OWS__EN_CONTAINS] = "contains", [OWS__EN_SIZE] = "size",
	};
	unsigned i;
	int rc;

	switch (node->kind) {
	case OWS__EN_AND:
		for (i = 0; i < node->n; i++) {
			rc = key_shape(p, node->kid[i]);
			if (rc != 0)
				return rc;
		}
		return 0;
	case OWS__EN_CMP:
		if (node->op == OWS__EC_NE)
			return perr(p, "Unsupported operator in "
				    "KeyConditionExpression: <>") ;
		for (i = 0; i < node->n; i++)
			if (node->kid[i]->kind == OWS__EN_SIZE)
				return perr(p, "Invalid operator used in "
					    "KeyConditionExpression: size");
		return 0;
	case OWS__EN_BETWEEN:
	case OWS__EN_BEGINS:
		return 0;
	default:
		return perr(p, "Invalid operator used in KeyConditionExpression:"
			    " %s", names[node->kind] ? names[node->kind] : "?");
	}
}

static int parse_condition(struct parser *p, struct ows_ddb_expr *e)
{
	int rc = parse_or(p, &e->cond);

	if (rc == 0 && cur(p)->type != OWS__T_EOF)
		rc = syntax(p);
	if (rc == 0 && !is_cond(e->cond))
		rc = syntax(p);
	if (rc == 0 && p->kind == OWS_DDB_EXPR_KEY)
		rc = key_shape(p, e->cond);
	if (rc == 0)
		rc = ows__ddb_cond_check(e->cond, p->what, p->err);
	return rc;
}

/* ---- projections ---- */

static int parse_projection(struct parser *p, struct ows_ddb_expr *e)
{
	struct ows__ddb_path *paths;
	unsigned i;
	int rc;

	do {
		paths = realloc(e->paths, (e->npaths + 1) * sizeof(*paths));
		if (paths == NULL)
			return -ENOMEM;
		e->paths = paths;
		rc = parse_path(p, &paths[e->npaths]);
		if (rc != 0)
			return rc;
		e->npaths++;
		for (i = 0; i + 1 < e->npaths; i++) {
			rc = ows__ddb_paths_disjoint(&paths[i],
						     &paths[e->npaths - 1],
						     p->what, p->err);
			if (rc != 0)
				return rc;
		}
	} while (accept(p, OWS__T_COMMA));
	return cur(p)->type == OWS__T_EOF ? 0 : syntax(p);
}

static int parse_update(struct parser *p, struct ows_ddb_expr *e);

/* ---- entry ---- */

int ows_ddb_expr_parse(enum ows_ddb_expr_kind kind, const char *text,
		       struct ows_ddb_subst *s, struct ows_ddb_expr **out,
		       struct ows_err *err)
{
	struct parser p = {.text = text, .kind = kind, .s = s, .err = err};
	struct ows__ddb_token *toks = NULL;
	struct ows_ddb_expr *e;
	size_t len = strlen(text);
	unsigned n, i;
	int rc;

	*out = NULL;
	p.what = ows__ddb_expr_what(kind);
	for (i = 0; i < len && strchr(" \t\r\n\f\v", text[i]); i++)
		;
	if (i == len)
		return perr(&p, "The expression can not be empty;");
	if (len > OWS__DDB_EXPR_MAX)
		return perr(&p, "Expression size has exceeded the maximum "
			    "allowed size; expression size: %zu", len);
	if (s->used == NULL) {
		rc = ows__ddb_subst_validate(s, err);
		if (rc != 0)
			return rc;
		s->used = json_object();
		if (s->used == NULL)
			return -ENOMEM;
	}
	rc = ows__ddb_lex(text, len, &toks, &n);
	if (rc != 0)
		return rc;
	p.t = toks;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		free(toks);
		return -ENOMEM;
	}
	e->kind = kind;
	if (kind == OWS_DDB_EXPR_UPDATE)
		rc = parse_update(&p, e);
	else if (kind == OWS_DDB_EXPR_PROJECTION)
		rc = parse_projection(&p, e);
	else
		rc = parse_condition(&p, e);
	free(toks);
	if (rc != 0) {
		ows_ddb_expr_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* ---- updates ---- */

/*
 * An update's value: an operand (a path, a :value, if_not_exists or
 * list_append), or two of them joined by + or -.
 */
static int parse_set_value(struct parser *p, struct ows__ddb_node **out)
{
	struct ows__ddb_node *left = NULL, *right = NULL;
	enum ows__ddb_nk kind;
	int rc;

	rc = parse_operand(p, &left);
	if (rc != 0)
		return rc;
	if (cur(p)->type != OWS__T_PLUS && cur(p)->type != OWS__T_MINUS) {
		*out = left;
		return 0;
	}
	kind = cur(p)->type == OWS__T_PLUS ? OWS__EN_PLUS : OWS__EN_MINUS;
	p->i++;
	rc = count_op(p);
	if (rc == 0)
		rc = parse_operand(p, &right);
	if (rc != 0) {
		ows__ddb_node_free(left);
		return rc;
	}
	return join(kind, out, left, right);
}

/* Constant operands of + - and list_append of the wrong type. */
static int set_value_check(struct parser *p, const struct ows__ddb_node *v)
{
	enum ows_ddb_type want = OWS_DDB_N, t;
	const char *fn = v->kind == OWS__EN_PLUS ? "+" : "-";
	unsigned i;
	int rc;

	if (v->kind == OWS__EN_LIST_APPEND) {
		want = OWS_DDB_L;
		fn = "list_append";
	} else if (v->kind != OWS__EN_PLUS && v->kind != OWS__EN_MINUS) {
		for (i = 0; i < v->n; i++) {
			rc = set_value_check(p, v->kid[i]);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	for (i = 0; i < v->n; i++) {
		t = ows_ddb_type_of(v->kid[i]->value);
		if (v->kid[i]->kind == OWS__EN_VALUE && t != want)
			return perr(p, "Incorrect operand type for operator or "
				    "function; operator or function: %s, "
				    "operand type: %s", fn, ows_ddb_type_name(t));
		rc = set_value_check(p, v->kid[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int parse_action(struct parser *p, enum ows__ddb_ak kind,
			struct ows__ddb_action *a)
{
	enum ows_ddb_type t;
	int rc;

	a->kind = kind;
	a->val = NULL;
	rc = parse_path(p, &a->path);
	if (rc != 0)
		return rc;
	if (kind == OWS__EA_SET) {
		if (!accept(p, OWS__T_EQ))
			return syntax(p);
		rc = parse_set_value(p, &a->val);
		return rc != 0 ? rc : set_value_check(p, a->val);
	}
	if (kind == OWS__EA_REMOVE)
		return 0;
	if (cur(p)->type != OWS__T_COLON)
		return syntax(p);
	a->val = ows__ddb_node_new(OWS__EN_VALUE, 0);
	if (a->val == NULL)
		return -ENOMEM;
	rc = parse_value(p, &a->val->value);
	if (rc != 0)
		return rc;
	t = ows_ddb_type_of(a->val->value);
	if (t == OWS_DDB_SS || t == OWS_DDB_NS || t == OWS_DDB_BS ||
	    (t == OWS_DDB_N && kind == OWS__EA_ADD))
		return 0;
	return perr(p, "Incorrect operand type for operator or function; "
		    "operator: %s, operand type: %s, typeSet: ALLOWED_FOR_%s_"
		    "OPERAND", kind == OWS__EA_ADD ? "ADD" : "DELETE",
		    ows__ddb_type_long(t), kind == OWS__EA_ADD ? "ADD" :
		    "DELETE");
}

static int parse_clause(struct parser *p, struct ows_ddb_expr *e,
			enum ows__ddb_ak kind)
{
	struct ows__ddb_action *act;
	unsigned i;
	int rc;

	do {
		act = realloc(e->act, (e->nact + 1) * sizeof(*act));
		if (act == NULL)
			return -ENOMEM;
		e->act = act;
		memset(&act[e->nact], 0, sizeof(*act));
		e->nact++;
		rc = parse_action(p, kind, &act[e->nact - 1]);
		if (rc != 0)
			return rc;
		for (i = 0; i + 1 < e->nact; i++) {
			rc = ows__ddb_paths_disjoint(&act[i].path,
						     &act[e->nact - 1].path,
						     p->what, p->err);
			if (rc != 0)
				return rc;
		}
	} while (accept(p, OWS__T_COMMA));
	return 0;
}

static int parse_update(struct parser *p, struct ows_ddb_expr *e)
{
	static const char *const clauses[] = {"SET", "REMOVE", "ADD",
					      "DELETE"};
	bool seen[4] = {false, false, false, false};
	unsigned k;
	int rc;

	while (cur(p)->type != OWS__T_EOF) {
		for (k = 0; k < 4; k++)
			if (ows__ddb_tok_is(p->text, cur(p), clauses[k]))
				break;
		if (k == 4)
			return syntax(p);
		if (seen[k])
			return perr(p, "The \"%s\" section can only be used "
				    "once in an update expression;", clauses[k]);
		seen[k] = true;
		p->i++;
		rc = parse_clause(p, e, (enum ows__ddb_ak)k);
		if (rc != 0)
			return rc;
	}
	return 0;
}
