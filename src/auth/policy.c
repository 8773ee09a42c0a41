/*
 * IAM policy evaluation; see policy.h.
 *
 * Two walks share one set of rules. ows_policy_validate() reports the first
 * thing AWS would refuse with "MalformedPolicyDocument". ows_policy_eval()
 * runs the same checks on each statement (with no error text) before
 * judging it, so that "malformed" means the same thing in both places, and
 * then fails closed: a malformed statement whose Effect is "Allow" is
 * skipped; any other malformed statement, or a document we cannot read at
 * all, counts as an applicable Deny, since it might have been one.
 *
 * Matching is three-valued (YES, NO, ERR). ERR is what a statement gets when
 * a value cannot be judged at evaluation time (a context value that is not a
 * number for a Numeric operator, say); it propagates like a malformed
 * statement: it never allows and always denies.
 *
 * Identity-based policies only: Principal and NotPrincipal are refused, as
 * IAM refuses them in identity policies. Policy variables ("${aws:username}")
 * are not substituted; in a "2012-10-17" document, where AWS would
 * substitute them, validate refuses them and eval treats the statement as
 * malformed, rather than matching the text literally (which would let a Deny
 * written with a variable quietly never match).
 *
 * Nothing here allocates: numbers and addresses are parsed from bounded
 * copies on the stack.
 */
#include "auth/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tri { NO = 0, YES = 1, ERR = -1 };

/* ------------------------------------------------------------------ */
/* Wildcards                                                           */

static bool char_eq(char a, char b, bool nocase)
{
	if (nocase)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

/* One character on: '?' stands for a character, not a UTF-8 byte. */
static const char *next_char(const char *s)
{
	s++;
	while (((unsigned char)*s & 0xc0) == 0x80)
		s++;
	return s;
}

/*
 * Greedy match remembering only the last '*': when a later literal fails we
 * let that star swallow one more character and retry. An earlier star never
 * needs revisiting because the last one can absorb anything it could, so
 * the worst case is O(len(pattern) * len(s)), not exponential.
 */
bool ows_policy_match(const char *pattern, const char *s, bool nocase)
{
	const char *p = pattern, *star = NULL, *retry = NULL;

	if (pattern == NULL || s == NULL)
		return false;
	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p == '?') {
			p++;
			s = next_char(s);
		} else if (*p != '\0' && char_eq(*p, *s, nocase)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = retry = next_char(retry);
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* ------------------------------------------------------------------ */
/* Condition operators                                                 */

enum op_kind {
	OP_STR_EQ,
	OP_STR_EQ_NOCASE,
	OP_STR_LIKE,
	OP_NUM_EQ,
	OP_NUM_LT,
	OP_NUM_LE,
	OP_NUM_GT,
	OP_NUM_GE,
	OP_BOOL,
	OP_IP,
	OP_NULL,
	OP_DATE_EQ,
	OP_DATE_LT,
	OP_DATE_LE,
	OP_DATE_GT,
	OP_DATE_GE,
	OP_ARN,
};

enum op_set { SET_NONE, SET_ANY, SET_ALL };

struct op_def {
	const char *name;
	enum op_kind kind;
	bool negated; /* true when the key must match none of the values */
};

static const struct op_def op_defs[] = {
	{"StringEquals", OP_STR_EQ, false},
	{"StringNotEquals", OP_STR_EQ, true},
	{"StringEqualsIgnoreCase", OP_STR_EQ_NOCASE, false},
	{"StringNotEqualsIgnoreCase", OP_STR_EQ_NOCASE, true},
	{"StringLike", OP_STR_LIKE, false},
	{"StringNotLike", OP_STR_LIKE, true},
	{"NumericEquals", OP_NUM_EQ, false},
	{"NumericNotEquals", OP_NUM_EQ, true},
	{"NumericLessThan", OP_NUM_LT, false},
	{"NumericLessThanEquals", OP_NUM_LE, false},
	{"NumericGreaterThan", OP_NUM_GT, false},
	{"NumericGreaterThanEquals", OP_NUM_GE, false},
	{"Bool", OP_BOOL, false},
	{"IpAddress", OP_IP, false},
	{"NotIpAddress", OP_IP, true},
	{"Null", OP_NULL, false},
	{"DateEquals", OP_DATE_EQ, false},
	{"DateNotEquals", OP_DATE_EQ, true},
	{"DateLessThan", OP_DATE_LT, false},
	{"DateLessThanEquals", OP_DATE_LE, false},
	{"DateGreaterThan", OP_DATE_GT, false},
	{"DateGreaterThanEquals", OP_DATE_GE, false},
	{"ArnEquals", OP_ARN, false},
	{"ArnNotEquals", OP_ARN, true},
	{"ArnLike", OP_ARN, false},
	{"ArnNotLike", OP_ARN, true},
};

struct op {
	const struct op_def *def;
	enum op_set set;
	bool if_exists;
};

#define PREFIX_ANY "ForAnyValue:"
#define PREFIX_ALL "ForAllValues:"
#define SUFFIX_IF_EXISTS "IfExists"

/*
 * Split "ForAnyValue:StringLikeIfExists" into its parts. Null takes neither
 * qualifier: it already is the test for existence. Returns 0 or OWS_EPARSE.
 */
static int parse_op(const char *name, struct op *op)
{
	char base[64];
	size_t len, i, sl = strlen(SUFFIX_IF_EXISTS);

	op->set = SET_NONE;
	op->if_exists = false;
	if (strncmp(name, PREFIX_ANY, strlen(PREFIX_ANY)) == 0) {
		op->set = SET_ANY;
		name += strlen(PREFIX_ANY);
	} else if (strncmp(name, PREFIX_ALL, strlen(PREFIX_ALL)) == 0) {
		op->set = SET_ALL;
		name += strlen(PREFIX_ALL);
	}
	len = strlen(name);
	if (len >= sizeof(base))
		return OWS_EPARSE;
	memcpy(base, name, len + 1);
	if (len > sl && strcmp(base + len - sl, SUFFIX_IF_EXISTS) == 0) {
		op->if_exists = true;
		base[len - sl] = '\0';
	}
	for (i = 0; i < sizeof(op_defs) / sizeof(op_defs[0]); i++) {
		if (strcmp(base, op_defs[i].name) != 0)
			continue;
		op->def = &op_defs[i];
		if (op->def->kind == OP_NULL &&
		    (op->set != SET_NONE || op->if_exists))
			return OWS_EPARSE;
		return 0;
	}
	return OWS_EPARSE;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/*
 * The text of a policy value for the string operators: AWS compares
 * numbers and booleans written in JSON by their text. buf holds the text
 * when it is not a JSON string already. NULL for other types.
 */
static const char *value_text(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return buf;
	case JSON_REAL:
		/* the shortest text that reads back as the same double */
		snprintf(buf, size, "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			snprintf(buf, size, "%.17g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return NULL;
	}
}

/*
 * A decimal number: [-+]digits[.digits]. Stricter than strtod, which would
 * also take "0x10", "inf", "nan" and leading blanks. Returns 0 or OWS_EPARSE.
 */
static int parse_number_text(const char *s, double *out)
{
	char buf[64];
	const char *p = s;
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(buf))
		return OWS_EPARSE;
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return OWS_EPARSE;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return OWS_EPARSE;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return OWS_EPARSE;
	memcpy(buf, s, len + 1);
	*out = strtod(buf, NULL);
	return isfinite(*out) ? 0 : OWS_EPARSE;
}

static int parse_number(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isfinite(*out) ? 0 : OWS_EPARSE;
	}
	if (json_is_string(v))
		return parse_number_text(json_string_value(v), out);
	return OWS_EPARSE;
}

/* "true" or "false", any case, as JSON booleans or strings. */
static int parse_bool(const json_t *v, const char *s, bool *out)
{
	if (v != NULL && json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (v != NULL)
		s = json_is_string(v) ? json_string_value(v) : NULL;
	if (s != NULL && strcasecmp(s, "true") == 0)
		*out = true;
	else if (s != NULL && strcasecmp(s, "false") == 0)
		*out = false;
	else
		return OWS_EPARSE;
	return 0;
}

/* ::ffff:0:0/96, the IPv4-mapped IPv6 addresses (RFC 4291 2.5.5.2). */
static const unsigned char v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

struct ip_net {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

static int parse_prefix_len(const char *s, unsigned max, unsigned *out)
{
	unsigned n = 0;

	if (*s == '\0' || strlen(s) > 3)
		return OWS_EPARSE;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return OWS_EPARSE;
		n = n * 10 + (unsigned)(*s - '0');
	}
	if (n > max)
		return OWS_EPARSE;
	*out = n;
	return 0;
}

/*
 * "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128 net).
 * With allow_cidr false only a bare address is taken. An IPv4-mapped IPv6
 * address becomes IPv4, so that "::ffff:10.0.0.1" cannot slip past a Deny on
 * 10.0.0.0/8. Returns 0 or OWS_EPARSE.
 */
static int parse_ip(const char *s, bool allow_cidr, struct ip_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return OWS_EPARSE;
	memcpy(buf, s, len + 1);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		if (!allow_cidr)
			return OWS_EPARSE;
		*slash++ = '\0';
	}
	net->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(net->family, buf, net->addr) != 1)
		return OWS_EPARSE;
	net->bits = net->family == AF_INET6 ? 128 : 32;
	if (slash != NULL &&
	    parse_prefix_len(slash, net->bits, &net->bits) != 0)
		return OWS_EPARSE;
	if (net->family == AF_INET6 && !allow_cidr &&
	    memcmp(net->addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		net->family = AF_INET;
		net->bits = 32;
	}
	return 0;
}

static bool ip_in_net(const struct ip_net *ip, const struct ip_net *net)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (ip->family != net->family)
		return false;
	if (memcmp(ip->addr, net->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (ip->addr[full] & mask) == (net->addr[full] & mask);
}


/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that no libc time zone state is involved.
 */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* n decimal digits at s into *out; OWS_EPARSE when they are not there. */
static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return OWS_EPARSE;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * A date as IAM takes it: epoch seconds ("1700000000"), or ISO 8601 in the
 * forms "2024-05-01", "2024-05-01T12:00:00Z", with optional fractions of a
 * second and a "+hh:mm"/"-hh:mm" offset instead of "Z". Seconds since the
 * epoch into *out; OWS_EPARSE when s is none of these.
 */
static int parse_date_text(const char *s, double *out)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	double frac = 0, t;
	const char *p;

	if (parse_number_text(s, out) == 0)
		return 0;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return OWS_EPARSE;
	p = s + 10;
	t = (double)days_from_civil((long)y, mo, d) * 86400;
	if (*p == '\0') {
		*out = t;
		return 0;
	}
	if (*p != 'T' || digits(p + 1, 2, &h) || p[3] != ':' ||
	    digits(p + 4, 2, &mi) || p[6] != ':' || digits(p + 7, 2, &sec) ||
	    h > 23 || mi > 59 || sec > 60)
		return OWS_EPARSE;
	p += 9;
	if (*p == '.') {
		double scale = 0.1;

		if (!isdigit((unsigned char)p[1]))
			return OWS_EPARSE;
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	t += h * 3600.0 + mi * 60.0 + sec + frac;
	if (strcmp(p, "Z") == 0) {
		*out = t;
		return 0;
	}
	if ((*p != '+' && *p != '-') || digits(p + 1, 2, &oh) || p[3] != ':' ||
	    digits(p + 4, 2, &om) || p[6] != '\0' || oh > 23 || om > 59)
		return OWS_EPARSE;
	*out = t - (*p == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
	return 0;
}

static int parse_date(const json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return parse_date_text(json_string_value(v), out);
	return OWS_EPARSE;
}

/*
 * ArnLike/ArnEquals: the ARN's colon-separated parts (six: arn, partition,
 * service, region, account, resource; five in OWS's own "arn:ows:" ARNs,
 * which have no account) are matched one by one, with wildcards, so that a
 * '*' in one part never swallows a ':'. Pattern and ARN must have as many
 * parts; the last part, the resource, may hold colons.
 */
#define ARN_PARTS 6

static size_t arn_split(char *s, size_t max, char *parts[ARN_PARTS])
{
	size_t n = 0;

	parts[n++] = s;
	while (n < max && (s = strchr(s, ':')) != NULL) {
		*s++ = '\0';
		parts[n++] = s;
	}
	return n;
}

static bool arn_match(const char *pattern, const char *arn)
{
	char pbuf[1024], abuf[1024], *pp[ARN_PARTS], *ap[ARN_PARTS];
	size_t n, max = strncmp(arn, "arn:ows:", 8) == 0 ? 5 : ARN_PARTS;

	if (strlen(pattern) >= sizeof(pbuf) || strlen(arn) >= sizeof(abuf))
		return false;
	memcpy(pbuf, pattern, strlen(pattern) + 1);
	memcpy(abuf, arn, strlen(arn) + 1);
	n = arn_split(pbuf, max, pp);
	if (arn_split(abuf, max, ap) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ows_policy_match(pp[i], ap[i], false))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Matching one context value against one policy value                 */

static enum tri compare_numbers(enum op_kind kind, double c, double p)
{
	switch (kind) {
	case OP_NUM_EQ: return c == p ? YES : NO;
	case OP_NUM_LT: return c < p ? YES : NO;
	case OP_NUM_LE: return c <= p ? YES : NO;
	case OP_NUM_GT: return c > p ? YES : NO;
	case OP_NUM_GE: return c >= p ? YES : NO;
	default: return ERR;
	}
}

/* Does ctxv satisfy the un-negated operator for policy value pv? */
static enum tri value_match(enum op_kind kind, const char *ctxv,
			    const json_t *pv)
{
	char tmp[32];
	const char *text;
	double c, p;
	bool cb, pb;
	struct ip_net ip, net;

	switch (kind) {
	case OP_STR_EQ:
	case OP_STR_EQ_NOCASE:
	case OP_STR_LIKE:
		text = value_text(pv, tmp, sizeof(tmp));
		if (text == NULL)
			return ERR;
		if (kind == OP_STR_LIKE)
			return ows_policy_match(text, ctxv, false) ? YES : NO;
		if (kind == OP_STR_EQ_NOCASE)
			return strcasecmp(text, ctxv) == 0 ? YES : NO;
		return strcmp(text, ctxv) == 0 ? YES : NO;
	case OP_BOOL:
		if (parse_bool(NULL, ctxv, &cb) != 0 ||
		    parse_bool(pv, NULL, &pb) != 0)
			return ERR;
		return cb == pb ? YES : NO;
	case OP_IP:
		if (!json_is_string(pv) || parse_ip(ctxv, false, &ip) != 0 ||
		    parse_ip(json_string_value(pv), true, &net) != 0)
			return ERR;
		return ip_in_net(&ip, &net) ? YES : NO;
	case OP_NULL:
		return ERR;
	case OP_DATE_EQ:
	case OP_DATE_LT:
	case OP_DATE_LE:
	case OP_DATE_GT:
	case OP_DATE_GE:
		if (parse_date_text(ctxv, &c) != 0 || parse_date(pv, &p) != 0)
			return ERR;
		return compare_numbers((enum op_kind)(kind - OP_DATE_EQ + OP_NUM_EQ),
				       c, p);
	case OP_ARN:
		if (!json_is_string(pv))
			return ERR;
		return arn_match(json_string_value(pv), ctxv) ? YES : NO;
	default:
		if (parse_number_text(ctxv, &c) != 0 ||
		    parse_number(pv, &p) != 0)
			return ERR;
		return compare_numbers(kind, c, p);
	}
}

/*
 * One context value against the key's policy values: any value may match
 * (OR); a negated operator holds when none does. ERR wins over NO so that a
 * value we cannot judge never turns into a match of the negation.
 */
static enum tri one_value(const struct op_def *def, const char *ctxv,
			  const json_t *values)
{
	enum tri r = NO, t;
	const json_t *v;
	size_t i;

	if (!json_is_array(values)) {
		r = value_match(def->kind, ctxv, values);
	} else {
		json_array_foreach(values, i, v) {
			t = value_match(def->kind, ctxv, v);
			if (t == YES) {
				r = YES;
				break;
			}
			if (t == ERR)
				r = ERR;
		}
	}
	if (r == ERR || !def->negated)
		return r;
	return r == YES ? NO : YES;
}

/* ------------------------------------------------------------------ */
/* Condition blocks                                                    */

static const struct ows_policy_ctx_entry *
ctx_find(const struct ows_policy_request *req, const char *key, size_t from)
{
	size_t i;

	for (i = from; i < req->n_ctx; i++)
		if (strcasecmp(req->ctx[i].key, key) == 0)
			return &req->ctx[i];
	return NULL;
}

/*
 * Null: {"key": "true"} holds when the key is absent, "false" when it is
 * present; with several values any may hold.
 */
static enum tri null_match(const struct ows_policy_request *req,
			   const char *key, const json_t *values)
{
	bool present = ctx_find(req, key, 0) != NULL, want_absent;
	const json_t *v;
	size_t i;

	if (!json_is_array(values))
		return parse_bool(values, NULL, &want_absent) != 0 ? ERR
		       : want_absent != present ? YES : NO;
	json_array_foreach(values, i, v) {
		if (parse_bool(v, NULL, &want_absent) != 0)
			return ERR;
		if (want_absent != present)
			return YES;
	}
	return NO;
}

/*
 * What a key that is absent from the request context yields. AWS: "If the
 * key that you specify in a policy condition is not present in the request
 * context, the values do not match and the condition is false. If the policy
 * condition requires that the key is not matched, such as StringNotLike
 * [...] the condition is true. This logic applies to all condition operators
 * except ...IfExists and Null check." ForAllValues over an empty set is
 * true; ForAnyValue over an empty set is false.
 */
static enum tri missing_key(const struct op *op)
{
	if (op->if_exists || op->set == SET_ALL)
		return YES;
	if (op->set == SET_ANY)
		return NO;
	return op->def->negated ? YES : NO;
}

/*
 * One key of one operator. A key repeated in the request context is a
 * multi-valued key: the set qualifiers range over its entries; without one
 * the first entry is used.
 */
static enum tri key_match(const struct op *op,
			  const struct ows_policy_request *req,
			  const char *key, const json_t *values)
{
	const struct ows_policy_ctx_entry *e;
	enum tri r, t;

	if (op->def->kind == OP_NULL)
		return null_match(req, key, values);
	e = ctx_find(req, key, 0);
	if (e == NULL)
		return missing_key(op);
	if (op->set == SET_NONE)
		return one_value(op->def, e->value, values);
	r = op->set == SET_ALL ? YES : NO;
	for (; e != NULL; e = ctx_find(req, key, (size_t)(e - req->ctx) + 1)) {
		t = one_value(op->def, e->value, values);
		if (t == ERR)
			r = ERR;
		else if (op->set == SET_ANY && t == YES)
			return YES;
		else if (op->set == SET_ALL && t == NO)
			return NO;
	}
	return r;
}

/* Combine an AND: any ERR makes the whole ERR (fail closed), then any NO. */
static enum tri and_tri(enum tri a, enum tri b)
{
	if (a == ERR || b == ERR)
		return ERR;
	return a == YES && b == YES ? YES : NO;
}

/* Every operator, and within it every key, must hold. */
static enum tri condition_match(const json_t *cond,
				const struct ows_policy_request *req)
{
	const char *name, *key;
	const json_t *keys, *values;
	enum tri r = YES;
	struct op op;

	if (cond == NULL)
		return YES;
	json_object_foreach((json_t *)cond, name, keys) {
		if (parse_op(name, &op) != 0)
			return ERR;
		json_object_foreach((json_t *)keys, key, values)
			r = and_tri(r, key_match(&op, req, key, values));
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static const char *const stmt_keys[] = {
	"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
	"Condition",
};

/* A condition value: string, number or boolean. */
static bool is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* Check one value against what its operator can compare. */
static int check_cond_value(const struct op *op, const json_t *v,
			    bool vars, struct ows_err *err, size_t idx,
			    const char *name, const char *key)
{
	struct ip_net net;
	double d;
	bool b;
	const char *what = NULL;

	if (!is_scalar(v))
		what = "must be a string, number or boolean";
	else if (op->def->kind >= OP_NUM_EQ && op->def->kind <= OP_NUM_GE &&
		 parse_number(v, &d) != 0)
		what = "must be a number";
	else if ((op->def->kind == OP_BOOL || op->def->kind == OP_NULL) &&
		 parse_bool(v, NULL, &b) != 0)
		what = "must be \"true\" or \"false\"";
	else if (op->def->kind >= OP_DATE_EQ && op->def->kind <= OP_DATE_GE &&
		 parse_date(v, &d) != 0)
		what = "must be a date (ISO 8601 or epoch seconds)";
	else if (op->def->kind == OP_ARN && !json_is_string(v))
		what = "must be an ARN";
	else if (op->def->kind == OP_IP &&
		 (!json_is_string(v) ||
		  parse_ip(json_string_value(v), true, &net) != 0))
		what = "must be an IP address or CIDR block";
	else if (vars && json_is_string(v) &&
		 strstr(json_string_value(v), "${") != NULL)
		what = "uses a policy variable, which is not supported";
	if (what == NULL)
		return 0;
	ows_err_printf(err, "Statement[%zu]: Condition %.40s '%.80s': value %s",
		       idx, name, key, what);
	return OWS_EINVAL;
}

static int check_cond_op(const char *name, const json_t *keys, bool vars,
			 struct ows_err *err, size_t idx)
{
	const char *key;
	const json_t *values, *v;
	struct op op;
	size_t i;
	int rc;

	if (parse_op(name, &op) != 0) {
		ows_err_printf(err, "Statement[%zu]: unknown Condition "
			       "operator '%.80s'", idx, name);
		return OWS_EINVAL;
	}
	if (!json_is_object(keys) || json_object_size(keys) == 0) {
		ows_err_printf(err, "Statement[%zu]: Condition %.80s must be "
			       "a non-empty object", idx, name);
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)keys, key, values) {
		if (json_is_array(values) && json_array_size(values) == 0) {
			ows_err_printf(err, "Statement[%zu]: Condition %.40s "
				       "'%.80s': empty value list", idx, name,
				       key);
			return OWS_EINVAL;
		}
		if (!json_is_array(values)) {
			rc = check_cond_value(&op, values, vars, err, idx,
					      name, key);
			if (rc != 0)
				return rc;
			continue;
		}
		json_array_foreach(values, i, v) {
			rc = check_cond_value(&op, v, vars, err, idx, name,
					      key);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int check_condition(const json_t *cond, bool vars, struct ows_err *err,
			   size_t idx)
{
	const char *name;
	const json_t *keys;
	int rc;

	if (!json_is_object(cond)) {
		ows_err_printf(err, "Statement[%zu]: Condition must be an "
			       "object", idx);
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)cond, name, keys) {
		rc = check_cond_op(name, keys, vars, err, idx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* "*" or "service:action"; AWS refuses an action without a service. */
static int check_pattern(const char *field, const char *s, bool vars,
			 struct ows_err *err, size_t idx)
{
	const char *colon = strchr(s, ':');
	bool action = strstr(field, "Action") != NULL;

	if (action && strcmp(s, "*") != 0 && (colon == NULL || colon == s)) {
		ows_err_printf(err, "Statement[%zu]: %s '%.80s' must be '*' "
			       "or 'service:action'", idx, field, s);
		return OWS_EINVAL;
	}
	if (!action && *s == '\0') {
		ows_err_printf(err, "Statement[%zu]: %s is an empty string",
			       idx, field);
		return OWS_EINVAL;
	}
	if (!action && vars && strstr(s, "${") != NULL) {
		ows_err_printf(err, "Statement[%zu]: %s '%.80s' uses a policy "
			       "variable, which is not supported", idx, field, s);
		return OWS_EINVAL;
	}
	return 0;
}

/* Action, NotAction, Resource or NotResource: a string or strings. */
static int check_patterns(const char *field, const json_t *v, bool vars,
			  struct ows_err *err, size_t idx)
{
	const json_t *item;
	size_t i;
	int rc;

	if (json_is_string(v))
		return check_pattern(field, json_string_value(v), vars, err,
				     idx);
	if (!json_is_array(v) || json_array_size(v) == 0) {
		ows_err_printf(err, "Statement[%zu]: %s must be a string or a "
			       "non-empty array of strings", idx, field);
		return OWS_EINVAL;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			ows_err_printf(err, "Statement[%zu]: %s[%zu] must be "
				       "a string", idx, field, i);
			return OWS_EINVAL;
		}
		rc = check_pattern(field, json_string_value(item), vars, err,
				   idx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Exactly one of name and "Not"+name, and a well-formed one. */
static int check_pair(const json_t *st, const char *name,
		      const char *not_name, bool vars, struct ows_err *err,
		      size_t idx)
{
	const json_t *a = json_object_get(st, name);
	const json_t *b = json_object_get(st, not_name);

	if (a != NULL && b != NULL) {
		ows_err_printf(err, "Statement[%zu]: has both %s and %s", idx,
			       name, not_name);
		return OWS_EINVAL;
	}
	if (a == NULL && b == NULL) {
		ows_err_printf(err, "Statement[%zu]: needs %s or %s", idx,
			       name, not_name);
		return OWS_EINVAL;
	}
	return a != NULL ? check_patterns(name, a, vars, err, idx)
			 : check_patterns(not_name, b, vars, err, idx);
}

static int check_keys(const json_t *st, struct ows_err *err, size_t idx)
{
	const char *key;
	const json_t *v;
	size_t i, n = sizeof(stmt_keys) / sizeof(stmt_keys[0]);

	json_object_foreach((json_t *)st, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, stmt_keys[i]) == 0)
				break;
		if (i < n)
			continue;
		if (strcmp(key, "Principal") == 0 ||
		    strcmp(key, "NotPrincipal") == 0)
			ows_err_printf(err, "Statement[%zu]: %s is not allowed "
				       "in an identity-based policy", idx, key);
		else
			ows_err_printf(err, "Statement[%zu]: unknown key "
				       "'%.80s'", idx, key);
		return OWS_EINVAL;
	}
	return 0;
}

static int check_effect(const json_t *st, struct ows_err *err, size_t idx)
{
	const json_t *v = json_object_get(st, "Effect");
	const char *s;

	if (v == NULL) {
		ows_err_printf(err, "Statement[%zu]: Effect is missing", idx);
		return OWS_EINVAL;
	}
	if (!json_is_string(v)) {
		ows_err_printf(err, "Statement[%zu]: Effect must be a string",
			       idx);
		return OWS_EINVAL;
	}
	s = json_string_value(v);
	if (strcmp(s, "Allow") != 0 && strcmp(s, "Deny") != 0) {
		ows_err_printf(err, "Statement[%zu]: unknown Effect '%.80s'",
			       idx, s);
		return OWS_EINVAL;
	}
	return 0;
}

/* vars: the document is "2012-10-17", where "${...}" is a variable. */
static int check_statement(const json_t *st, bool vars, struct ows_err *err,
			   size_t idx)
{
	const json_t *v;
	int rc;

	if (!json_is_object(st)) {
		ows_err_printf(err, "Statement[%zu]: must be an object", idx);
		return OWS_EINVAL;
	}
	rc = check_keys(st, err, idx);
	if (rc == 0)
		rc = check_effect(st, err, idx);
	v = json_object_get(st, "Sid");
	if (rc == 0 && v != NULL && !json_is_string(v)) {
		ows_err_printf(err, "Statement[%zu]: Sid must be a string",
			       idx);
		rc = OWS_EINVAL;
	}
	if (rc == 0)
		rc = check_pair(st, "Action", "NotAction", vars, err, idx);
	if (rc == 0)
		rc = check_pair(st, "Resource", "NotResource", vars, err, idx);
	v = json_object_get(st, "Condition");
	if (rc == 0 && v != NULL)
		rc = check_condition(v, vars, err, idx);
	return rc;
}

/*
 * The document around the statements. Sets *vars for a "2012-10-17"
 * document; a missing Version means "2008-10-17", as in AWS.
 */
static int check_top(const json_t *doc, bool *vars, struct ows_err *err)
{
	const char *key, *ver;
	const json_t *v, *st;

	if (!json_is_object(doc)) {
		ows_err_printf(err, "policy must be a JSON object");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)doc, key, v) {
		if (strcmp(key, "Version") != 0 && strcmp(key, "Id") != 0 &&
		    strcmp(key, "Statement") != 0) {
			ows_err_printf(err, "unknown top-level key '%.80s'",
				       key);
			return OWS_EINVAL;
		}
	}
	v = json_object_get(doc, "Version");
	ver = json_is_string(v) ? json_string_value(v) : NULL;
	if (v != NULL && (ver == NULL || (strcmp(ver, "2012-10-17") != 0 &&
					  strcmp(ver, "2008-10-17") != 0))) {
		ows_err_printf(err, "Version must be \"2012-10-17\" or "
			       "\"2008-10-17\"");
		return OWS_EINVAL;
	}
	*vars = ver != NULL && strcmp(ver, "2012-10-17") == 0;
	v = json_object_get(doc, "Id");
	if (v != NULL && !json_is_string(v)) {
		ows_err_printf(err, "Id must be a string");
		return OWS_EINVAL;
	}
	st = json_object_get(doc, "Statement");
	if (st == NULL) {
		ows_err_printf(err, "Statement is missing");
		return OWS_EINVAL;
	}
	if (!json_is_object(st) &&
	    !(json_is_array(st) && json_array_size(st) > 0)) {
		ows_err_printf(err, "Statement must be an object or a "
			       "non-empty array");
		return OWS_EINVAL;
	}
	return 0;
}

int ows_policy_validate(const json_t *doc, struct ows_err *err)
{
	const json_t *st, *item;
	bool vars;
	size_t i;
	int rc;

	rc = check_top(doc, &vars, err);
	if (rc != 0)
		return rc;
	st = json_object_get(doc, "Statement");
	if (json_is_object(st))
		return check_statement(st, vars, err, 0);
	json_array_foreach(st, i, item) {
		rc = check_statement(item, vars, err, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_stmt_keys(const json_t *st, const char *const *keys,
			   size_t n, struct ows_err *err, size_t idx)
{
	const char *op, *key;
	const json_t *ks, *v;
	size_t i;

	json_object_foreach((json_t *)json_object_get(st, "Condition"), op, ks) {
		json_object_foreach((json_t *)ks, key, v) {
			for (i = 0; i < n; i++)
				if (strcasecmp(key, keys[i]) == 0)
					break;
			if (i == n) {
				ows_err_printf(err, "Statement[%zu]: unknown "
					       "Condition key '%.80s'", idx, key);
				return OWS_EINVAL;
			}
		}
	}
	return 0;
}

int ows_policy_check_keys(const json_t *doc, const char *const *keys,
			  size_t n, struct ows_err *err)
{
	const json_t *st = json_object_get(doc, "Statement"), *item;
	size_t i;
	int rc;

	if (json_is_object(st))
		return check_stmt_keys(st, keys, n, err, 0);
	json_array_foreach(st, i, item) {
		rc = check_stmt_keys(item, keys, n, err, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

/* Any pattern of a validated Action/Resource value matches s. */
static bool any_pattern(const json_t *v, const char *s, bool nocase)
{
	const json_t *item;
	size_t i;

	if (json_is_string(v))
		return ows_policy_match(json_string_value(v), s, nocase);
	json_array_foreach(v, i, item)
		if (ows_policy_match(json_string_value(item), s, nocase))
			return true;
	return false;
}

/* Action or NotAction (NotX: s matches none of the patterns). */
static enum tri pair_match(const json_t *st, const char *name,
			   const char *not_name, const char *s, bool nocase)
{
	const json_t *v = json_object_get(st, name);

	if (v != NULL)
		return any_pattern(v, s, nocase) ? YES : NO;
	v = json_object_get(st, not_name);
	return any_pattern(v, s, nocase) ? NO : YES;
}

/*
 * The decision one statement contributes. A malformed statement, or one
 * that cannot be judged, is a Deny unless it says Allow (see the top).
 */
static enum ows_policy_decision eval_statement(
	const json_t *st, bool vars, const struct ows_policy_request *req)
{
	const char *effect = json_string_value(json_object_get(st, "Effect"));
	bool deny = effect == NULL || strcmp(effect, "Allow") != 0;
	enum tri r;

	if (check_statement(st, vars, NULL, 0) != 0)
		return deny ? OWS_POLICY_EXPLICIT_DENY
			    : OWS_POLICY_DEFAULT_DENY;
	r = pair_match(st, "Action", "NotAction", req->action, true);
	r = and_tri(r, pair_match(st, "Resource", "NotResource",
				  req->resource, false));
	r = and_tri(r, condition_match(json_object_get(st, "Condition"), req));
	if (r == NO)
		return OWS_POLICY_DEFAULT_DENY;
	if (deny)
		return OWS_POLICY_EXPLICIT_DENY;
	return r == YES ? OWS_POLICY_ALLOW : OWS_POLICY_DEFAULT_DENY;
}

static enum ows_policy_decision eval_doc(const json_t *doc,
					 const struct ows_policy_request *req)
{
	enum ows_policy_decision d, best = OWS_POLICY_DEFAULT_DENY;
	const json_t *st, *item;
	bool vars;
	size_t i;

	if (doc == NULL || check_top(doc, &vars, NULL) != 0)
		return OWS_POLICY_EXPLICIT_DENY;
	st = json_object_get(doc, "Statement");
	if (json_is_object(st))
		return eval_statement(st, vars, req);
	json_array_foreach(st, i, item) {
		d = eval_statement(item, vars, req);
		if (d == OWS_POLICY_EXPLICIT_DENY)
			return d;
		if (d == OWS_POLICY_ALLOW)
			best = d;
	}
	return best;
}

/* A request we cannot read is refused outright. */
static bool request_ok(const struct ows_policy_request *req)
{
	size_t i;

	if (req == NULL || req->action == NULL || req->resource == NULL)
		return false;
	if (req->n_ctx > 0 && req->ctx == NULL)
		return false;
	for (i = 0; i < req->n_ctx; i++)
		if (req->ctx[i].key == NULL || req->ctx[i].value == NULL)
			return false;
	return true;
}

enum ows_policy_decision ows_policy_eval(const json_t *const *docs, size_t n,
					 const struct ows_policy_request *req)
{
	enum ows_policy_decision d, best = OWS_POLICY_DEFAULT_DENY;
	size_t i;

	if (!request_ok(req) || (n > 0 && docs == NULL))
		return OWS_POLICY_EXPLICIT_DENY;
	for (i = 0; i < n; i++) {
		d = eval_doc(docs[i], req);
		if (d == OWS_POLICY_EXPLICIT_DENY)
			return d;
		if (d == OWS_POLICY_ALLOW)
			best = d;
	}
	return best;
}
