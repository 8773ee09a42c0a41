/*
 * The tokenizer of DynamoDB's expressions and the reserved words.
 *
 * One pass over the text gives every token with its place, so that the
 * parser can quote a syntax error's token and the text around it as
 * DynamoDB does ("Syntax error; token: \":\", near: \"hits : incr\"").
 * The reserved words are the developer guide's list ("Reserved words in
 * DynamoDB"), which may not be used as bare attribute names; the table is
 * sorted (C locale) and searched with bsearch.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ddb/expr_priv.h"

static const char *const reserved[] = {
	"ABORT", "ABSOLUTE", "ACTION", "ADD", "AFTER", "AGENT", "AGGREGATE",
	"ALL", "ALLOCATE", "ALTER", "ANALYZE", "AND", "ANY", "ARCHIVE", "ARE",
	"ARRAY", "AS", "ASC", "ASCII", "ASENSITIVE", "ASSERTION",
	"ASYMMETRIC", "AT", "ATOMIC", "ATTACH", "ATTRIBUTE", "AUTH",
	"AUTHORIZATION", "AUTHORIZE", "AUTO", "AVG", "BACK", "BACKUP", "BASE",
	"BATCH", "BEFORE", "BEGIN", "BETWEEN", "BIGINT", "BINARY", "BIT",
	"BLOB", "BLOCK", "BOOLEAN", "BOTH", "BREADTH", "BUCKET", "BULK", "BY",
	"BYTE", "CALL", "CALLED", "CALLING", "CAPACITY", "CASCADE",
	"CASCADED", "CASE", "CAST", "CATALOG", "CHAR", "CHARACTER", "CHECK",
	"CLASS", "CLOB", "CLOSE", "CLUSTER", "CLUSTERED", "CLUSTERING",
	"CLUSTERS", "COALESCE", "COLLATE", "COLLATION", "COLLECTION",
	"COLUMN", "COLUMNS", "COMBINE", "COMMENT", "COMMIT", "COMPACT",
	"COMPILE", "COMPRESS", "CONDITION", "CONFLICT", "CONNECT",
	"CONNECTION", "CONSISTENCY", "CONSISTENT", "CONSTRAINT",
	"CONSTRAINTS", "CONSTRUCTOR", "CONSUMED", "CONTINUE", "CONVERT",
	"COPY", "CORRESPONDING", "COUNT", "COUNTER", "CREATE", "CROSS",
	"CUBE", "CURRENT", "CURSOR", "CYCLE", "DATA", "DATABASE", "DATE",
	"DATETIME", "DAY", "DEALLOCATE", "DEC", "DECIMAL", "DECLARE",
	"DEFAULT", "DEFERRABLE", "DEFERRED", "DEFINE", "DEFINED",
	"DEFINITION", "DELETE", "DELIMITED", "DEPTH", "DEREF", "DESC",
	"DESCRIBE", "DESCRIPTOR", "DETACH", "DETERMINISTIC", "DIAGNOSTICS",
	"DIRECTORIES", "DISABLE", "DISCONNECT", "DISTINCT", "DISTRIBUTE",
	"DO", "DOMAIN", "DOUBLE", "DROP", "DUMP", "DURATION", "DYNAMIC",
	"EACH", "ELEMENT", "ELSE", "ELSEIF", "EMPTY", "ENABLE", "END",
	"EQUAL", "EQUALS", "ERROR", "ESCAPE", "ESCAPED", "EVAL", "EVALUATE",
	"EXCEEDED", "EXCEPT", "EXCEPTION", "EXCEPTIONS", "EXCLUSIVE", "EXEC",
	"EXECUTE", "EXISTS", "EXIT", "EXPLAIN", "EXPLODE", "EXPORT",
	"EXPRESSION", "EXTENDED", "EXTERNAL", "EXTRACT", "FAIL", "FALSE",
	"FAMILY", "FETCH", "FIELDS", "FILE", "FILTER", "FILTERING", "FINAL",
	"FINISH", "FIRST", "FIXED", "FLATTERN", "FLOAT", "FOR", "FORCE",
	"FOREIGN", "FORMAT", "FORWARD", "FOUND", "FREE", "FROM", "FULL",
	"FUNCTION", "FUNCTIONS", "GENERAL", "GENERATE", "GET", "GLOB",
	"GLOBAL", "GO", "GOTO", "GRANT", "GREATER", "GROUP", "GROUPING",
	"HANDLER", "HASH", "HAVE", "HAVING", "HEAP", "HIDDEN", "HOLD", "HOUR",
	"IDENTIFIED", "IDENTITY", "IF", "IGNORE", "IMMEDIATE", "IMPORT", "IN",
	"INCLUDING", "INCLUSIVE", "INCREMENT", "INCREMENTAL", "INDEX",
	"INDEXED", "INDEXES", "INDICATOR", "INFINITE", "INITIALLY", "INLINE",
	"INNER", "INNTER", "INOUT", "INPUT", "INSENSITIVE", "INSERT",
	"INSTEAD", "INT", "INTEGER", "INTERSECT", "INTERVAL", "INTO",
	"INVALIDATE", "IS", "ISOLATION", "ITEM", "ITEMS", "ITERATE", "JOIN",
	"KEY", "KEYS", "LAG", "LANGUAGE", "LARGE", "LAST", "LATERAL", "LEAD",
	"LEADING", "LEAVE", "LEFT", "LENGTH", "LESS", "LEVEL", "LIKE",
	"LIMIT", "LIMITED", "LINES", "LIST", "LOAD", "LOCAL", "LOCALTIME",
	"LOCALTIMESTAMP", "LOCATION", "LOCATOR", "LOCK", "LOCKS", "LOG",
	"LOGED", "LONG", "LOOP", "LOWER", "MAP", "MATCH", "MATERIALIZED",
	"MAX", "MAXLEN", "MEMBER", "MERGE", "METHOD", "METRICS", "MIN",
	"MINUS", "MINUTE", "MISSING", "MOD", "MODE", "MODIFIES", "MODIFY",
	"MODULE", "MONTH", "MULTI", "MULTISET", "NAME", "NAMES", "NATIONAL",
	"NATURAL", "NCHAR", "NCLOB", "NEW", "NEXT", "NO", "NONE", "NOT",
	"NULL", "NULLIF", "NUMBER", "NUMERIC", "OBJECT", "OF", "OFFLINE",
	"OFFSET", "OLD", "ON", "ONLINE", "ONLY", "OPAQUE", "OPEN", "OPERATOR",
	"OPTION", "OR", "ORDER", "ORDINALITY", "OTHER", "OTHERS", "OUT",
	"OUTER", "OUTPUT", "OVER", "OVERLAPS", "OVERRIDE", "OWNER", "PAD",
	"PARALLEL", "PARAMETER", "PARAMETERS", "PARTIAL", "PARTITION",
	"PARTITIONED", "PARTITIONS", "PATH", "PERCENT", "PERCENTILE",
	"PERMISSION", "PERMISSIONS", "PIPE", "PIPELINED", "PLAN", "POOL",
	"POSITION", "PRECISION", "PREPARE", "PRESERVE", "PRIMARY", "PRIOR",
	"PRIVATE", "PRIVILEGES", "PROCEDURE", "PROCESSED", "PROJECT",
	"PROJECTION", "PROPERTY", "PROVISIONING", "PUBLIC", "PUT", "QUERY",
	"QUIT", "QUORUM", "RAISE", "RANDOM", "RANGE", "RANK", "RAW", "READ",
	"READS", "REAL", "REBUILD", "RECORD", "RECURSIVE", "REDUCE", "REF",
	"REFERENCE", "REFERENCES", "REFERENCING", "REGEXP", "REGION",
	"REINDEX", "RELATIVE", "RELEASE", "REMAINDER", "RENAME", "REPEAT",
	"REPLACE", "REQUEST", "RESET", "RESIGNAL", "RESOURCE", "RESPONSE",
	"RESTORE", "RESTRICT", "RESULT", "RETURN", "RETURNING", "RETURNS",
	"REVERSE", "REVOKE", "RIGHT", "ROLE", "ROLES", "ROLLBACK", "ROLLUP",
	"ROUTINE", "ROW", "ROWS", "RULE", "RULES", "SAMPLE", "SATISFIES",
	"SAVE", "SAVEPOINT", "SCAN", "SCHEMA", "SCOPE", "SCROLL", "SEARCH",
	"SECOND", "SECTION", "SEGMENT", "SEGMENTS", "SELECT", "SELF", "SEMI",
	"SENSITIVE", "SEPARATE", "SEQUENCE", "SERIALIZABLE", "SESSION", "SET",
	"SETS", "SHARD", "SHARE", "SHARED", "SHORT", "SHOW", "SIGNAL",
	"SIMILAR", "SIZE", "SKEWED", "SMALLINT", "SNAPSHOT", "SOME", "SOURCE",
	"SPACE", "SPACES", "SPARSE", "SPECIFIC", "SPECIFICTYPE", "SPLIT",
	"SQL", "SQLCODE", "SQLERROR", "SQLEXCEPTION", "SQLSTATE",
	"SQLWARNING", "START", "STATE", "STATIC", "STATUS", "STORAGE",
	"STORE", "STORED", "STREAM", "STRING", "STRUCT", "STYLE", "SUB",
	"SUBMULTISET", "SUBPARTITION", "SUBSTRING", "SUBTYPE", "SUM", "SUPER",
	"SYMMETRIC", "SYNONYM", "SYSTEM", "TABLE", "TABLESAMPLE", "TEMP",
	"TEMPORARY", "TERMINATED", "TEXT", "THAN", "THEN", "THROUGHPUT",
	"TIME", "TIMESTAMP", "TIMEZONE", "TINYINT", "TO", "TOKEN", "TOTAL",
	"TOUCH", "TRAILING", "TRANSACTION", "TRANSFORM", "TRANSLATE",
	"TRANSLATION", "TREAT", "TRIGGER", "TRIM", "TRUE", "TRUNCATE", "TTL",
	"TUPLE", "TYPE", "UNDER", "UNDO", "UNION", "UNIQUE", "UNIT",
	"UNKNOWN", "UNLOGGED", "UNNEST", "UNPROCESSED", "UNSIGNED", "UNTIL",
	"UPDATE", "UPPER", "URL", "USAGE", "USE", "USER", "USERS", "USING",
	"UUID", "VACUUM", "VALUE", "VALUED", "VALUES", "VARCHAR", "VARIABLE",
	"VARIANCE", "VARINT", "VARYING", "VIEW", "VIEWS", "VIRTUAL", "VOID",
	"WAIT", "WHEN", "WHENEVER", "WHERE", "WHILE", "WINDOW", "WITH",
	"WITHIN", "WITHOUT", "WORK", "WRAPPED", "WRITE", "YEAR", "ZONE"
};

static int word_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool ows__ddb_reserved(const char *word, size_t n)
{
	char up[32];
	size_t i;

	if (n == 0 || n >= sizeof(up))
		return false;
	for (i = 0; i < n; i++)
		up[i] = (char)toupper((unsigned char)word[i]);
	up[n] = '\0';
	return bsearch(up, reserved, sizeof(reserved) / sizeof(reserved[0]),
		       sizeof(reserved[0]), word_cmp) != NULL;
}

bool ows__ddb_tok_is(const char *text, const struct ows__ddb_token *t,
		     const char *kw)
{
	return t->type == OWS__T_NAME && strlen(kw) == t->len &&
	       strncasecmp(text + t->off, kw, t->len) == 0;
}

static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* The bytes of one UTF-8 character starting with c (1 when malformed). */
static unsigned utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* The token at text[i] (not a space): its type and length. */
static enum ows__ddb_tok lex_one(const char *text, size_t len, size_t i,
				 unsigned *tl)
{
	unsigned char c = (unsigned char)text[i];
	unsigned char d = i + 1 < len ? (unsigned char)text[i + 1] : 0;
	size_t j = i + 1;

	*tl = 1;
	if (isalpha(c) || c == '_' || c == '#' || c == ':' || isdigit(c)) {
		enum ows__ddb_tok t = c == '#' ? OWS__T_HASH :
				      c == ':' ? OWS__T_COLON :
				      isdigit(c) ? OWS__T_NUM : OWS__T_NAME;

		if (t == OWS__T_NUM) {
			while (j < len && isdigit((unsigned char)text[j]))
				j++;
		} else {
			while (j < len && is_word((unsigned char)text[j]))
				j++;
		}
		*tl = (unsigned)(j - i);
		/* "#" or ":" alone is no name */
		return *tl == 1 && (c == '#' || c == ':') ? OWS__T_BAD : t;
	}
	switch (c) {
	case '(': return OWS__T_LP;
	case ')': return OWS__T_RP;
	case '[': return OWS__T_LB;
	case ']': return OWS__T_RB;
	case ',': return OWS__T_COMMA;
	case '.': return OWS__T_DOT;
	case '=': return OWS__T_EQ;
	case '+': return OWS__T_PLUS;
	case '-': return OWS__T_MINUS;
	case '<':
		if (d == '=' || d == '>')
			*tl = 2;
		return d == '=' ? OWS__T_LE : d == '>' ? OWS__T_NE : OWS__T_LT;
	case '>':
		if (d == '=')
			*tl = 2;
		return d == '=' ? OWS__T_GE : OWS__T_GT;
	default:
		*tl = utf8_len(c);
		if (i + *tl > len)
			*tl = (unsigned)(len - i);
		return OWS__T_BAD;
	}
}

int ows__ddb_lex(const char *text, size_t len, struct ows__ddb_token **out,
		 unsigned *n)
{
	struct ows__ddb_token *t;
	unsigned k = 0, tl;
	size_t i = 0;

	/* a token takes at least one byte: len + 1 always suffice */
	t = malloc((len + 1) * sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (;;) {
		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i >= len)
			break;
		t[k].type = lex_one(text, len, i, &tl);
		t[k].off = (unsigned)i;
		t[k].len = tl;
		k++;
		i += tl;
	}
	t[k].type = OWS__T_EOF;
	t[k].off = (unsigned)len;
	t[k].len = 0;
	*out = t;
	*n = k + 1;
	return 0;
}
