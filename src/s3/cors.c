/*
 * CORS configurations of buckets (access.h): S3's CORSConfiguration XML
 * read with expat into the JSON rules a bucket's spec keeps, written back
 * for GetBucketCors, and matched against a browser's request, as the S3
 * User Guide's "How Amazon S3 evaluates the CORS configuration on a
 * bucket" says: "Amazon S3 ... uses the first CORSRule rule that matches
 * the incoming browser request to enable a cross-origin request. For a
 * rule to match, the following conditions must be met: The request's
 * Origin header must match AllowedOrigin elements. The request method
 * (for example, GET, PUT, HEAD, and so on) or the
 * Access-Control-Request-Method header in case of a pre-flight OPTIONS
 * request must be one of the AllowedMethod elements. Every header
 * specified in the Access-Control-Request-Headers request header of a
 * pre-flight request must match an AllowedHeader element."
 */
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "http/http.h"
#include "s3/access.h"

#define CORS_XML_MAX (64 * 1024)
#define CORS_VALUE_MAX 1024

static const char *const methods[] = {"GET", "PUT", "HEAD", "POST", "DELETE"};

/* ---- checking the JSON rules ---- */

int ows__s3_refuse(const char **code, const char *c, struct ows_err *err,
		   const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*code = c;
	ows_err_printf(err, "%s", msg);
	return OWS_EINVAL;
}

static size_t stars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '*';
	return n;
}

/* A list of strings under name, non-empty when required. */
static int check_list(const json_t *rule, const char *name, bool required,
		      const char **code, struct ows_err *err)
{
	const json_t *list = json_object_get(rule, name), *v;
	size_t i;

	if (list == NULL && !required)
		return 0;
	if (!json_is_array(list) || (required && json_array_size(list) == 0))
		return ows__s3_refuse(code, "MalformedXML", err,
				      "The XML you provided "
				      "was not well-formed or did not validate "
				      "against our published schema (%s)",
				      name);
	json_array_foreach (list, i, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > CORS_VALUE_MAX)
			return ows__s3_refuse(
			    code, "MalformedXML", err,
			    "The XML you "
			    "provided was not well-formed or did not "
			    "validate against our published schema "
			    "(%s)",
			    name);
	}
	return 0;
}

static int check_rule(const json_t *rule, const char **code,
		      struct ows_err *err)
{
	const json_t *v, *age = json_object_get(rule, "MaxAgeSeconds");
	const json_t *id = json_object_get(rule, "ID");
	size_t i, k;
	int rv;

	if (!json_is_object(rule))
		return ows__s3_refuse(code, "MalformedXML", err, "%s",
				      "a CORSRule "
				      "must be an object");
	if ((rv = check_list(rule, "AllowedOrigins", true, code, err)) ||
	    (rv = check_list(rule, "AllowedMethods", true, code, err)) ||
	    (rv = check_list(rule, "AllowedHeaders", false, code, err)) ||
	    (rv = check_list(rule, "ExposeHeaders", false, code, err)))
		return rv;
	if (age != NULL &&
	    (!json_is_integer(age) || json_integer_value(age) < 0 ||
	     json_integer_value(age) > INT32_MAX))
		return ows__s3_refuse(code, "MalformedXML", err, "%s",
				      "MaxAgeSeconds "
				      "must be a whole number of seconds");
	if (id != NULL && (!json_is_string(id) || json_string_length(id) > 255))
		return ows__s3_refuse(
		    code, "InvalidArgument", err, "%s",
		    "The ID of a "
		    "CORSRule is a string of at most 255 characters");
	json_array_foreach (json_object_get(rule, "AllowedMethods"), i, v) {
		for (k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
			if (strcmp(json_string_value(v), methods[k]) == 0)
				break;
		if (k == sizeof(methods) / sizeof(methods[0]))
			return ows__s3_refuse(
			    code, "InvalidRequest", err,
			    "Found "
			    "unsupported HTTP method in CORS config. "
			    "Unsupported method is %.80s",
			    json_string_value(v));
	}
	json_array_foreach (json_object_get(rule, "AllowedOrigins"), i, v)
		if (stars(json_string_value(v)) > 1)
			return ows__s3_refuse(
			    code, "InvalidRequest", err,
			    "AllowedOrigin "
			    "\"%.200s\" can not have more than one "
			    "wildcard.",
			    json_string_value(v));
	json_array_foreach (json_object_get(rule, "AllowedHeaders"), i, v)
		if (stars(json_string_value(v)) > 1)
			return ows__s3_refuse(
			    code, "InvalidRequest", err,
			    "AllowedHeader "
			    "\"%.200s\" can not have more than one "
			    "wildcard.",
			    json_string_value(v));
	json_array_foreach (json_object_get(rule, "ExposeHeaders"), i, v)
		if (stars(json_string_value(v)) > 0)
			return ows__s3_refuse(
			    code, "InvalidRequest", err,
			    "ExposeHeader "
			    "\"%.200s\" contains wildcard. We currently "
			    "do not support wildcard for ExposeHeader.",
			    json_string_value(v));
	return 0;
}

int ows__s3_cors_check(const json_t *rules, const char **code,
		       struct ows_err *err)
{
	const json_t *rule;
	size_t i;
	int rv;

	if (!json_is_array(rules) || json_array_size(rules) == 0)
		return ows__s3_refuse(
		    code, "MalformedXML", err, "%s",
		    "The XML you "
		    "provided was not well-formed or did not validate "
		    "against our published schema (no CORSRule)");
	if (json_array_size(rules) > OWS_S3_CORS_RULES_MAX)
		return ows__s3_refuse(
		    code, "InvalidRequest", err, "%s",
		    "The CORS "
		    "configuration may hold at most 100 rules");
	json_array_foreach (rules, i, rule)
		if ((rv = check_rule(rule, code, err)) != 0)
			return rv;
	return 0;
}

/* ---- the XML ---- */

/*
 * The reader's state: depth 1 is CORSConfiguration, 2 a CORSRule, 3 one
 * of its fields (text gathered in text).
 */
struct reader {
	XML_Parser p;
	int depth;
	bool bad;
	char why[128];
	json_t *rules, *rule;
	char field[32];
	struct ows_buf text;
};

/* An element's local name: "ns:Name" or "Name" (namespaces ignored). */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

static void fail(struct reader *r, const char *why)
{
	if (!r->bad)
		snprintf(r->why, sizeof(r->why), "%s", why);
	r->bad = true;
	XML_StopParser(r->p, XML_FALSE);
}

static void start_cb(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct reader *r = ud;
	const char *n = local(name);

	(void)attrs;
	r->depth++;
	if (r->depth == 1 && strcmp(n, "CORSConfiguration") != 0)
		fail(r, "the root element must be CORSConfiguration");
	else if (r->depth == 2 && strcmp(n, "CORSRule") != 0)
		fail(r, "unexpected element in CORSConfiguration");
	else if (r->depth == 2) {
		r->rule = json_object();
		if (r->rule == NULL ||
		    json_array_append_new(r->rules, r->rule) != 0)
			fail(r, "out of memory");
	} else if (r->depth == 3) {
		snprintf(r->field, sizeof(r->field), "%.31s", n);
		ows_buf_reset(&r->text);
	} else if (r->depth > 3) {
		fail(r, "unexpected element in CORSRule");
	}
}

static int add_to_list(json_t *rule, const char *list, const char *v)
{
	json_t *a = json_object_get(rule, list);

	if (a == NULL) {
		a = json_array();
		if (a == NULL || json_object_set_new(rule, list, a) != 0)
			return -ENOMEM;
	}
	return json_array_append_new(a, json_string(v));
}

/* One field of a CORSRule, its text trimmed. */
static void field_end(struct reader *r)
{
	static const char *const lists[][2] = {
	    {"AllowedOrigin", "AllowedOrigins"},
	    {"AllowedMethod", "AllowedMethods"},
	    {"AllowedHeader", "AllowedHeaders"},
	    {"ExposeHeader", "ExposeHeaders"},
	};
	char *t = r->text.data ? (char *)r->text.data : "", *e;
	json_t *utf8;
	char *end;
	long age;

	while (isspace((unsigned char)*t))
		t++;
	for (e = t + strlen(t); e > t && isspace((unsigned char)e[-1]); e--)
		*(e - 1) = '\0';
	utf8 = json_string(t);
	if (strlen(t) > CORS_VALUE_MAX || utf8 == NULL) {
		json_decref(utf8);
		fail(r, "a value is too long or not UTF-8");
		return;
	}
	json_decref(utf8);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(r->field, lists[i][0]) == 0) {
			if (add_to_list(r->rule, lists[i][1], t) != 0)
				fail(r, "out of memory");
			return;
		}
	if (strcmp(r->field, "ID") == 0) {
		json_object_set_new(r->rule, "ID", json_string(t));
	} else if (strcmp(r->field, "MaxAgeSeconds") == 0) {
		age = strtol(t, &end, 10);
		if (*t == '\0' || *end != '\0' || age < 0 || age > INT32_MAX)
			fail(r, "MaxAgeSeconds must be a number of seconds");
		else
			json_object_set_new(r->rule, "MaxAgeSeconds",
					    json_integer(age));
	} else {
		fail(r, "unexpected element in CORSRule");
	}
}

static void end_cb(void *ud, const XML_Char *name)
{
	struct reader *r = ud;

	(void)name;
	if (r->depth == 3 && !r->bad)
		field_end(r);
	r->depth--;
}

static void text_cb(void *ud, const XML_Char *s, int len)
{
	struct reader *r = ud;

	if (r->depth == 3 && ows_buf_append(&r->text, s, (size_t)len) != 0)
		fail(r, "out of memory");
	if (r->text.len > CORS_VALUE_MAX + 64)
		fail(r, "a value is too long");
}

/* No DTD, no entities of the document's own (billion laughs). */
static void doctype_cb(void *ud, const XML_Char *name, const XML_Char *sysid,
		       const XML_Char *pubid, int internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	fail(ud, "a DOCTYPE is not allowed");
}

int ows__s3_cors_parse(const char *xml, size_t len, json_t **rules,
		       const char **code, struct ows_err *err)
{
	struct reader r = {0};
	int rv = 0;

	*rules = NULL;
	if (len > CORS_XML_MAX)
		return ows__s3_refuse(
		    code, "MalformedXML", err, "%s",
		    "The XML you "
		    "provided was not well-formed or did not validate "
		    "against our published schema (too large)");
	r.p = XML_ParserCreate("UTF-8");
	r.rules = json_array();
	if (r.p == NULL || r.rules == NULL) {
		rv = -ENOMEM;
		goto cleanup;
	}
	XML_SetUserData(r.p, &r);
	XML_SetElementHandler(r.p, start_cb, end_cb);
	XML_SetCharacterDataHandler(r.p, text_cb);
	XML_SetStartDoctypeDeclHandler(r.p, doctype_cb);
	if (XML_Parse(r.p, xml, (int)len, XML_TRUE) != XML_STATUS_OK || r.bad) {
		rv = ows__s3_refuse(
		    code, "MalformedXML", err,
		    "The XML you provided "
		    "was not well-formed or did not validate against "
		    "our published schema (%s)",
		    r.bad ? r.why : XML_ErrorString(XML_GetErrorCode(r.p)));
		goto cleanup;
	}
	rv = ows__s3_cors_check(r.rules, code, err);
	if (rv == 0) {
		*rules = r.rules;
		r.rules = NULL;
	}
cleanup:
	if (r.p != NULL)
		XML_ParserFree(r.p);
	ows_buf_free(&r.text);
	json_decref(r.rules);
	return rv;
}

static void xml_text(struct ows_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			ows_buf_puts(b, "&lt;");
			break;
		case '>':
			ows_buf_puts(b, "&gt;");
			break;
		case '&':
			ows_buf_puts(b, "&amp;");
			break;
		case '"':
			ows_buf_puts(b, "&quot;");
			break;
		/* as references, so that a reader keeps them as they are */
		case '\r':
			ows_buf_puts(b, "&#13;");
			break;
		case '\n':
			ows_buf_puts(b, "&#10;");
			break;
		case '\t':
			ows_buf_puts(b, "&#9;");
			break;
		default:
			ows_buf_append(b, s, 1);
		}
	}
}

static void xml_list(struct ows_buf *b, const json_t *rule, const char *list,
		     const char *elem)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(rule, list), i, v) {
		ows_buf_printf(b, "<%s>", elem);
		xml_text(b, json_string_value(v));
		ows_buf_printf(b, "</%s>", elem);
	}
}

char *ows__s3_cors_xml(const json_t *rules)
{
	struct ows_buf b = OWS_BUF_INIT;
	const json_t *rule, *v;
	size_t i;

	ows_buf_puts(&b,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
		     "2006-03-01/\">");
	json_array_foreach (rules, i, rule) {
		ows_buf_puts(&b, "<CORSRule>");
		if ((v = json_object_get(rule, "ID")) != NULL &&
		    json_is_string(v)) {
			ows_buf_puts(&b, "<ID>");
			xml_text(&b, json_string_value(v));
			ows_buf_puts(&b, "</ID>");
		}
		xml_list(&b, rule, "AllowedHeaders", "AllowedHeader");
		xml_list(&b, rule, "AllowedMethods", "AllowedMethod");
		xml_list(&b, rule, "AllowedOrigins", "AllowedOrigin");
		xml_list(&b, rule, "ExposeHeaders", "ExposeHeader");
		if ((v = json_object_get(rule, "MaxAgeSeconds")) != NULL)
			ows_buf_printf(&b,
				       "<MaxAgeSeconds>%" JSON_INTEGER_FORMAT
				       "</MaxAgeSeconds>",
				       json_integer_value(v));
		ows_buf_puts(&b, "</CORSRule>");
	}
	ows_buf_puts(&b, "</CORSConfiguration>");
	return ows_buf_detach(&b, NULL);
}

/* ---- matching ---- */

/* pattern with at most one '*' (any run) against s. */
static bool one_star(const char *pattern, const char *s, size_t slen,
		     bool nocase)
{
	const char *star = strchr(pattern, '*');
	size_t plen = strlen(pattern), head, tail;
	int (*cmp)(const char *, const char *, size_t) =
	    nocase ? strncasecmp : strncmp;

	if (star == NULL)
		return plen == slen && cmp(pattern, s, slen) == 0;
	head = (size_t)(star - pattern);
	tail = plen - head - 1;
	return slen >= head + tail && cmp(pattern, s, head) == 0 &&
	       cmp(star + 1, s + slen - tail, tail) == 0;
}

static bool in_list(const json_t *list, const char *s, size_t len, bool nocase)
{
	const json_t *v;
	size_t i;

	json_array_foreach (list, i, v)
		if (one_star(json_string_value(v), s, len, nocase))
			return true;
	return false;
}

/* Every header of the comma list matches an AllowedHeader. */
static bool headers_allowed(const json_t *rule, const char *list)
{
	const json_t *allowed = json_object_get(rule, "AllowedHeaders");
	const char *p = list;

	while (p != NULL && *p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0 && !in_list(allowed, p, n, true))
			return false;
		p += strcspn(p, ",");
	}
	return true;
}

const json_t *ows__s3_cors_match(const json_t *rules, const char *origin,
				 const char *method, const char *req_headers)
{
	const json_t *rule;
	size_t i;

	if (origin == NULL || method == NULL)
		return NULL;
	json_array_foreach (rules, i, rule) {
		if (!in_list(json_object_get(rule, "AllowedOrigins"), origin,
			     strlen(origin), false))
			continue;
		if (!in_list(json_object_get(rule, "AllowedMethods"), method,
			     strlen(method), false))
			continue;
		if (!headers_allowed(rule, req_headers))
			continue;
		return rule;
	}
	return NULL;
}

/* The strings of list joined with ", " into b. */
static void join(struct ows_buf *b, const json_t *list)
{
	const json_t *v;
	size_t i;

	json_array_foreach (list, i, v)
		ows_buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
}

size_t ows__s3_cors_headers(const json_t *rule, const char *origin,
			    const char *req_headers, bool preflight,
			    struct ows_http_header *out, char **mem)
{
	const json_t *origins = json_object_get(rule, "AllowedOrigins");
	const json_t *age = json_object_get(rule, "MaxAgeSeconds");
	const json_t *expose = json_object_get(rule, "ExposeHeaders");
	/* a rule open to every origin answers "*", as S3 does */
	bool any = in_list(origins, "*", 1, false);
	struct ows_buf b = OWS_BUF_INIT;
	size_t off[OWS_S3_CORS_HEADERS], n = 0;
	const char *names[OWS_S3_CORS_HEADERS];

	/* values are NUL-separated in one block; offsets first, since the
	   block may move while it grows */
#define ADD(name_, ...)                                                        \
	do {                                                                   \
		off[n] = b.len;                                                \
		names[n++] = (name_);                                          \
		ows_buf_printf(&b, __VA_ARGS__);                               \
		ows_buf_append(&b, "", 1);                                     \
	} while (0)
	ADD("Access-Control-Allow-Origin", "%s", any ? "*" : origin);
	off[n] = b.len;
	names[n++] = "Access-Control-Allow-Methods";
	join(&b, json_object_get(rule, "AllowedMethods"));
	ows_buf_append(&b, "", 1);
	if (preflight && req_headers != NULL && *req_headers != '\0')
		ADD("Access-Control-Allow-Headers", "%s", req_headers);
	if (age != NULL)
		ADD("Access-Control-Max-Age", "%" JSON_INTEGER_FORMAT,
		    json_integer_value(age));
	if (json_array_size(expose) > 0) {
		off[n] = b.len;
		names[n++] = "Access-Control-Expose-Headers";
		join(&b, expose);
		ows_buf_append(&b, "", 1);
	}
	if (!any)
		ADD("Access-Control-Allow-Credentials", "%s", "true");
	ADD("Vary", "%s",
	    "Origin, Access-Control-Request-Headers, "
	    "Access-Control-Request-Method");
#undef ADD
	if (b.data == NULL) {
		ows_buf_free(&b);
		*mem = NULL;
		return 0;
	}
	*mem = ows_buf_detach(&b, NULL);
	for (size_t i = 0; i < n; i++)
		out[i] = (struct ows_http_header){names[i], *mem + off[i]};
	return n;
}
