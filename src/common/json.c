/*
 * JSON helpers; see json.h.
 *
 * The parser and the compact dumper here replace jansson's json_loadb and
 * json_dumps on the hot paths (every request body, every Raft entry, every
 * reply): jansson reads its input one character at a time through a UTF-8
 * checking stream and escapes strings one character at a time, which cost
 * close to half of a PutItem's instructions. These scan runs of plain bytes
 * sixteen (SSE2) or eight at a time and validate UTF-8 only where a byte
 * >= 0x80 appears, but they build the same jansson trees and write the
 * same bytes: what json_loadb refuses they refuse, what it accepts they
 * accept as the same tree (tests/unit/test_json.c and
 * tests/fuzz/fuzz_json.c compare the two).
 */
#include "common/json.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared: which bytes are plain, UTF-8 sequences ---- */

/*
 * A byte that a string can hold as it is, in JSON text and in jansson's
 * output alike: not a control character, '"', '\\', nor the start or part
 * of a multi-byte sequence (those are validated on their own).
 */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* OWS_JSON_NO_SSE2 builds the portable scan (the fuzzer tries both). */
#if defined(__SSE2__) && !defined(OWS_JSON_NO_SSE2)
#include <emmintrin.h>

/* The first byte at or after p that is not plain, or end. */
static inline const unsigned char *plain_run(const unsigned char *p,
					     const unsigned char *end)
{
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	/*
	 * Sixteen bytes at a time: a signed compare with 0x20 catches the
	 * control characters and, as negative, every byte >= 0x80.
	 */
	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)p);
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, quote),
				     _mm_cmpeq_epi8(x, backslash)),
			_mm_cmplt_epi8(x, space));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
	while (p < end && plain(*p))
		p++;
	return p;
}
#else
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The first byte at or after p that is not plain, or end. */
static inline const unsigned char *plain_run(const unsigned char *p,
					     const unsigned char *end)
{
	/*
	 * Eight bytes at a time (the classic "has a zero byte" test): a lane
	 * below 0x20, equal to '"' or '\\', or with its high bit set stops
	 * the run; the byte loop below then finds which one.
	 */
	while (end - p >= 8) {
		uint64_t w, q, b;

		memcpy(&w, p, 8);
		q = w ^ (ONES * '"');
		b = w ^ (ONES * '\\');
		if ((w | ((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
		     ((b - ONES) & ~b)) & HIGHS)
			break;
		p += 8;
	}
	while (p < end && plain(*p))
		p++;
	return p;
}
#endif

/*
 * Length (2 to 4) of the well-formed UTF-8 sequence at p, or 0: jansson's
 * rules (utf8_check_first / utf8_check_full): no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence.
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n, i;
	uint32_t v;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
	    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

/* ---- the parser ---- */

struct parser {
	const unsigned char *start, *p, *end;
	size_t flags;
	const char *why;              /* the first error, jansson's words */
	const unsigned char *where;   /* and where it was found */
	char *scratch;                /* decoded strings that held escapes */
	size_t scratch_cap;
	size_t values;                /* made so far */
	size_t max_values;            /* more fail the parse */
};

static json_t *fail(struct parser *ps, const char *why)
{
	if (ps->why == NULL) {
		ps->why = why;
		ps->where = ps->p;
	}
	return NULL;
}

static inline void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
				   *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/*
 * jansson's stream pushes back the byte that ends a number or a literal,
 * and a pushed-back NUL byte is lost (its one-character buffer reads as
 * empty): json_loadb accepts "1\0" and "[true\0]" as 1 and [true]. Kept,
 * so that the same bodies are accepted as before.
 */
static inline void skip_pushed_back_nul(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\0')
		ps->p++;
}

static int scratch_room(struct parser *ps, size_t len, size_t extra)
{
	size_t cap = ps->scratch_cap ? ps->scratch_cap : 256;
	char *n;

	if (len + extra <= ps->scratch_cap)
		return 0;
	while (cap < len + extra)
		cap *= 2;
	n = realloc(ps->scratch, cap);
	if (n == NULL)
		return -ENOMEM;
	ps->scratch = n;
	ps->scratch_cap = cap;
	return 0;
}

static int hex4(const unsigned char *p, const unsigned char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t utf8_put(uint32_t v, char *out)
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xC0 | (v >> 6));
		out[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xE0 | (v >> 12));
		out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
		out[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (v >> 18));
	out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
	out[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/*
 * A \u escape at ps->p (on the 'u'), with its low surrogate if it opens a
 * pair; appends its UTF-8 to the scratch at *len. jansson refuses \u0000
 * (no JSON_ALLOW_NUL) and any surrogate that is not half of a pair.
 */
static int unicode_escape(struct parser *ps, size_t *len)
{
	int v = hex4(ps->p + 1, ps->end), lo;

	if (v < 0)
		return fail(ps, "invalid escape"), -1;
	ps->p += 5;
	if (v >= 0xDC00 && v <= 0xDFFF)
		return fail(ps, "invalid Unicode escape"), -1;
	if (v >= 0xD800 && v <= 0xDBFF) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
			return fail(ps, "invalid Unicode escape"), -1;
		lo = hex4(ps->p + 2, ps->end);
		if (lo < 0)
			return fail(ps, "invalid escape"), -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(ps, "invalid Unicode escape"), -1;
		ps->p += 6;
		v = ((v - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
	}
	if (v == 0)
		return fail(ps, "\\u0000 is not allowed without JSON_ALLOW_NUL"),
		       -1;
	*len += utf8_put((uint32_t)v, ps->scratch + *len);
	return 0;
}

/* The escape at ps->p (on the backslash), decoded into the scratch. */
static int escape(struct parser *ps, size_t *len)
{
	static const char simple[128] = {
		['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
		['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
	};
	unsigned char c;

	if (scratch_room(ps, *len, 4) != 0)
		return fail(ps, "out of memory"), -1;
	ps->p++;
	if (ps->p == ps->end)
		return fail(ps, "premature end of input"), -1;
	c = *ps->p;
	if (c == 'u')
		return unicode_escape(ps, len);
	if (c >= 128 || simple[c] == 0)
		return fail(ps, "invalid escape"), -1;
	ps->scratch[(*len)++] = simple[c];
	ps->p++;
	return 0;
}

/*
 * The string whose opening quote is at ps->p. On success *out points
 * either into the input (no escapes: the common case, nothing copied) or
 * into the scratch, which the next string reuses.
 */
static int scan_string(struct parser *ps, const char **out, size_t *outlen)
{
	const unsigned char *run = ++ps->p;
	bool escaped = false;
	size_t len = 0, n;

	for (;;) {
		ps->p = plain_run(ps->p, ps->end);
		if (ps->p == ps->end)
			return fail(ps, "premature end of input"), -1;
		if (*ps->p >= 0x80) {
			if ((n = utf8_seq(ps->p, ps->end)) == 0)
				return fail(ps, "unable to decode byte"), -1;
			ps->p += n;
			continue;
		}
		if (*ps->p < 0x20)
			return fail(ps, "control character in string"), -1;
		if (escaped || *ps->p == '\\') {
			n = (size_t)(ps->p - run);
			if (n > 0 && scratch_room(ps, len, n) != 0)
				return fail(ps, "out of memory"), -1;
			if (n > 0)
				memcpy(ps->scratch + len, run, n);
			len += n;
			escaped = true;
		}
		if (*ps->p == '"')
			break;
		if (escape(ps, &len) != 0)
			return -1;
		run = ps->p;
	}
	if (escaped) {
		*out = ps->scratch;
		*outlen = len;
	} else {
		*out = (const char *)run;
		*outlen = (size_t)(ps->p - run);
	}
	ps->p++;
	return 0;
}

/*
 * The common reals ("1.0", "0.25": no exponent, at most 2^53 in digits, at
 * most 22 after the point) without strtod: the digits and the power of ten
 * are both exact doubles, so their one IEEE division is the correctly
 * rounded value that strtod returns (Clinger's fast path). Needs doubles
 * evaluated as doubles (SSE2, not x87).
 */
static bool real_exact(const unsigned char *s, const unsigned char *e,
		       double *out)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
		1e22,
	};
	const uint64_t max = (uint64_t)1 << 53;
	bool neg = *s == '-', fraction = false;
	uint64_t m = 0;
	unsigned k = 0, d;
	double v;

	if (FLT_EVAL_METHOD != 0)
		return false;
	for (s += neg; s < e; s++) {
		if (*s == '.') {
			fraction = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		d = *s - '0';
		if (m > (max - d) / 10 || (fraction && ++k > 22))
			return false;
		m = m * 10 + d;
	}
	v = (double)m / pow10[k];
	*out = neg ? -v : v;
	return true;
}

/*
 * A real: strtod over a NUL-terminated copy (the input is not terminated).
 * OWS never calls setlocale, so the decimal point is '.', as jansson's
 * to_locale() would arrange. Underflow is accepted (strtod's nearest
 * value), overflow refused: jansson's jsonp_strtod.
 */
static json_t *real(struct parser *ps, const unsigned char *s)
{
	size_t n = (size_t)(ps->p - s);
	char local[64], *text = local;
	double v;

	if (real_exact(s, ps->p, &v)) {
		skip_pushed_back_nul(ps);
		return json_real(v);
	}
	if (n >= sizeof(local) && (text = malloc(n + 1)) == NULL)
		return fail(ps, "out of memory");
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	v = strtod(text, NULL);
	if (text != local)
		free(text);
	if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
		return fail(ps, "real number overflow");
	skip_pushed_back_nul(ps);
	return json_real(v);
}

static inline bool digit(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/*
 * A number, as jansson's lex_scan_number reads it: no leading zeros, a
 * fraction or an exponent makes a real, anything else is a json_int_t
 * ("-0" is the integer 0) or, out of range, refused.
 */
static json_t *number(struct parser *ps)
{
	const unsigned char *s = ps->p;
	unsigned long long v = 0, limit = LLONG_MAX;
	bool neg = *ps->p == '-';

	if (neg) {
		ps->p++;
		limit = (unsigned long long)LLONG_MAX + 1;
	}
	if (!digit(ps))
		return fail(ps, "invalid token");
	if (*ps->p == '0') {
		ps->p++;
		if (digit(ps))
			return fail(ps, "invalid token");
	} else {
		while (digit(ps)) {
			unsigned d = *ps->p++ - '0';

			if (v > (limit - d) / 10) {
				while (digit(ps))
					ps->p++;
				if (ps->p < ps->end && (*ps->p == '.' ||
				    *ps->p == 'e' || *ps->p == 'E'))
					goto fraction;
				return fail(ps, neg ? "too big negative integer"
						    : "too big integer");
			}
			v = v * 10 + d;
		}
	}
	if (ps->p == ps->end ||
	    (*ps->p != '.' && *ps->p != 'e' && *ps->p != 'E')) {
		skip_pushed_back_nul(ps);
		return json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
	}
fraction:
	if (*ps->p == '.') {
		ps->p++;
		if (!digit(ps))
			return fail(ps, "invalid token");
		while (digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!digit(ps))
			return fail(ps, "invalid token");
		while (digit(ps))
			ps->p++;
	}
	return real(ps, s);
}

/* true, false, null: jansson reads the whole run of letters first. */
static json_t *literal(struct parser *ps)
{
	const unsigned char *s = ps->p;
	size_t n;

	while (ps->p < ps->end && ((*ps->p | 0x20) >= 'a' &&
				   (*ps->p | 0x20) <= 'z'))
		ps->p++;
	n = (size_t)(ps->p - s);
	skip_pushed_back_nul(ps);
	if (n == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (n == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (n == 4 && memcmp(s, "null", 4) == 0)
		return json_null();
	ps->p = s;
	return fail(ps, "invalid token");
}

static json_t *value(struct parser *ps, unsigned depth);

/* One "key": value of object o, the key's quote at ps->p; 0 or -1. */
static int member(struct parser *ps, json_t *o, unsigned depth)
{
	const char *key;
	char *copy = NULL;
	size_t len, size;
	json_t *v;
	int rv = -1;

	if (scan_string(ps, &key, &len) != 0)
		return -1;
	/* The value's own strings reuse the scratch. */
	if (key == ps->scratch) {
		if ((copy = malloc(len + 1)) == NULL)
			return fail(ps, "out of memory"), -1;
		key = memcpy(copy, key, len);
	}
	skip_space(ps);
	if (ps->p == ps->end || *ps->p != ':') {
		fail(ps, "':' expected");
		goto out;
	}
	ps->p++;
	skip_space(ps);
	if ((v = value(ps, depth + 1)) == NULL)
		goto out;
	/*
	 * A key already there leaves the size as it was: the one hash
	 * lookup of the insertion tells a duplicate. Without
	 * JSON_REJECT_DUPLICATES the last one wins, in the first one's
	 * place, as with jansson (the same call).
	 */
	size = json_object_size(o);
	if (json_object_setn_new_nocheck(o, key, len, v) != 0)
		fail(ps, "out of memory");
	else if ((ps->flags & JSON_REJECT_DUPLICATES) &&
		 json_object_size(o) == size)
		fail(ps, "duplicate object key");
	else
		rv = 0;
out:
	free(copy);
	return rv;
}

static json_t *object(struct parser *ps, unsigned depth)
{
	json_t *o = json_object();

	if (o == NULL)
		return fail(ps, "out of memory");
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return o;
	}
	for (;;) {
		if (ps->p == ps->end || *ps->p != '"') {
			fail(ps, "string or '}' expected");
			goto err;
		}
		if (member(ps, o, depth) != 0)
			goto err;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_space(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}')
			break;
		fail(ps, "'}' expected");
		goto err;
	}
	ps->p++;
	return o;
err:
	json_decref(o);
	return NULL;
}

static json_t *array(struct parser *ps, unsigned depth)
{
	json_t *a = json_array(), *v;

	if (a == NULL)
		return fail(ps, "out of memory");
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return a;
	}
	for (;;) {
		if ((v = value(ps, depth + 1)) == NULL)
			goto err;
		if (json_array_append_new(a, v) != 0) {
			fail(ps, "out of memory");
			goto err;
		}
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_space(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			break;
		fail(ps, "']' expected");
		goto err;
	}
	ps->p++;
	return a;
err:
	json_decref(a);
	return NULL;
}

/*
 * The value at ps->p (white space skipped). Every value counts toward
 * jansson's depth limit, scalars too: parse_value() counts it before it
 * looks at the token.
 */
static json_t *value(struct parser *ps, unsigned depth)
{
	const char *s;
	size_t len;

	if (depth > JSON_PARSER_MAX_DEPTH)
		return fail(ps, "maximum parsing depth reached");
	if (ps->p == ps->end)
		return fail(ps, "unexpected end of input");
	if (++ps->values > ps->max_values)
		return fail(ps, "too many values");
	switch (*ps->p) {
	case '{':
		return object(ps, depth);
	case '[':
		return array(ps, depth);
	case '"':
		if (scan_string(ps, &s, &len) != 0)
			return NULL;
		return json_stringn_nocheck(s, len);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return number(ps);
		if ((*ps->p | 0x20) >= 'a' && (*ps->p | 0x20) <= 'z')
			return literal(ps);
		return fail(ps, "unexpected token");
	}
}

/* Line and column (in characters, jansson's way) of an error. */
static void locate(const struct parser *ps, int *line, int *column)
{
	const unsigned char *q;

	*line = 1;
	*column = 0;
	for (q = ps->start; q < ps->where && q < ps->end; q++) {
		if (*q == '\n') {
			(*line)++;
			*column = 0;
		} else if ((*q & 0xC0) != 0x80) {
			(*column)++;
		}
	}
	(*column)++;
}

static json_t *load(const char *text, size_t len, size_t flags,
		    size_t max_values, size_t *values, struct ows_err *err)
{
	struct parser ps = {
		.start = (const unsigned char *)text,
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.flags = flags,
		.max_values = max_values,
	};
	json_error_t je;
	json_t *v = NULL;
	int line, column;

	if (flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)) {
		v = json_loadb(text, len, flags, &je);
		if (v == NULL)
			ows_err_printf(err, "invalid JSON at line %d column "
				       "%d: %s", je.line, je.column, je.text);
		return v;
	}
	if (text == NULL) {
		ows_err_printf(err, "invalid JSON: no text");
		return NULL;
	}
	skip_space(&ps);
	if (!(flags & JSON_DECODE_ANY) &&
	    (ps.p == ps.end || (*ps.p != '{' && *ps.p != '[')))
		fail(&ps, "'[' or '{' expected");
	else if ((v = value(&ps, 1)) != NULL) {
		skip_space(&ps);
		if (ps.p != ps.end) {
			fail(&ps, "end of file expected");
			json_decref(v);
			v = NULL;
		}
	}
	free(ps.scratch);
	if (v == NULL) {
		if (ps.why == NULL)
			fail(&ps, "out of memory");
		locate(&ps, &line, &column);
		ows_err_printf(err, "invalid JSON at line %d column %d: %s",
			       line, column, ps.why);
	}
	if (values != NULL)
		*values = ps.values;
	return v;
}

json_t *ows_json_loadb(const char *text, size_t len, size_t flags,
		       struct ows_err *err)
{
	return load(text, len, flags, SIZE_MAX, NULL, err);
}

json_t *ows_json_loads(const char *text, size_t flags, struct ows_err *err)
{
	if (text == NULL) {
		ows_err_printf(err, "invalid JSON: no text");
		return NULL;
	}
	return ows_json_loadb(text, strlen(text), flags, err);
}

json_t *ows_json_parse(const char *text, size_t len, struct ows_err *err)
{
	return load(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		    SIZE_MAX, NULL, err);
}

json_t *ows_json_parse_counted(const char *text, size_t len,
			       size_t max_values, size_t *values,
			       struct ows_err *err)
{
	*values = 0;
	return load(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		    max_values, values, err);
}

/* ---- the compact dumper ---- */

struct dump {
	char *data;
	size_t len, cap;
};

/* Dumps deeper than this are handed to jansson, which finds cycles. */
#define DUMP_MAX_DEPTH 4096

enum { DUMP_OK, DUMP_FAIL, DUMP_JANSSON, DUMP_NOT_UTF8 };

static int room(struct dump *d, size_t n)
{
	size_t cap = d->cap ? d->cap : 256;
	char *p;

	if (n <= d->cap - d->len)
		return 0;
	while (cap - d->len < n) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if ((p = realloc(d->data, cap)) == NULL)
		return -ENOMEM;
	d->data = p;
	d->cap = cap;
	return 0;
}

static inline int put(struct dump *d, const void *s, size_t n)
{
	if (n == 0)
		return 0;
	if (room(d, n) != 0)
		return -ENOMEM;
	memcpy(d->data + d->len, s, n);
	d->len += n;
	return 0;
}

static inline int putc1(struct dump *d, char c)
{
	if (d->len == d->cap && room(d, 1) != 0)
		return -ENOMEM;
	d->data[d->len++] = c;
	return 0;
}

/* jansson's escape of a byte that is not plain and not UTF-8. */
static int put_escape(struct dump *d, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[6] = {'\\', 0, '0', '0', hex[c >> 4], hex[c & 15]};

	switch (c) {
	case '"':  e[1] = '"'; break;
	case '\\': e[1] = '\\'; break;
	case '\b': e[1] = 'b'; break;
	case '\f': e[1] = 'f'; break;
	case '\n': e[1] = 'n'; break;
	case '\r': e[1] = 'r'; break;
	case '\t': e[1] = 't'; break;
	default:
		e[1] = 'u';
		return put(d, e, 6);
	}
	return put(d, e, 2);
}

/*
 * A string as jansson's dump_string writes it without flags: '"', '\\'
 * and control characters escaped ("\u001F", upper-case), '/' and every
 * other character as they are. Text that is not valid UTF-8 (a
 * json_stringn_nocheck string may hold any bytes) stops it where jansson
 * stops, the bytes since the last escape left out: DUMP_NOT_UTF8.
 */
static int dump_string(struct dump *d, const char *str, size_t len)
{
	const unsigned char *p = (const unsigned char *)str, *run = p;
	const unsigned char *end = p + len;
	size_t n;

	if (putc1(d, '"') != 0)
		return DUMP_FAIL;
	for (;;) {
		p = plain_run(p, end);
		if (p < end && *p >= 0x80) {
			if ((n = utf8_seq(p, end)) == 0)
				return DUMP_NOT_UTF8;
			p += n;
			continue;
		}
		if (put(d, run, (size_t)(p - run)) != 0)
			return DUMP_FAIL;
		if (p == end)
			break;
		if (put_escape(d, *p) != 0)
			return DUMP_FAIL;
		run = ++p;
	}
	return putc1(d, '"') == 0 ? DUMP_OK : DUMP_FAIL;
}

static int dump_integer(struct dump *d, json_int_t i)
{
	char tmp[24], *q = tmp + sizeof(tmp);
	unsigned long long u = i < 0 ? 0 - (unsigned long long)i
				     : (unsigned long long)i;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (i < 0)
		*--q = '-';
	return put(d, q, (size_t)(tmp + sizeof(tmp) - q)) == 0 ? DUMP_OK
							       : DUMP_FAIL;
}

/*
 * Reals other than small integral ones are rare in OWS's documents
 * (DynamoDB numbers travel as strings): jansson formats them itself, so
 * that the digits are its own whatever its version ("%.17g" and the ".0"
 * of 2.14, the shortest round-trip form later).
 */
static int dump_real(struct dump *d, const json_t *v)
{
	double x = json_real_value(v), a = signbit(x) ? -x : x;
	char *t;
	int rv;

	/*
	 * Integral values below 1e15 (a write's capacity units, 1.0) are
	 * their digits and ".0" in every jansson: "%.17g" prints them
	 * without an exponent, and so does the shortest form of later ones.
	 */
	if (a < 1e15 && a == (double)(uint64_t)a) {
		if (signbit(x) && putc1(d, '-') != 0)
			return DUMP_FAIL;
		if (dump_integer(d, (json_int_t)a) != DUMP_OK)
			return DUMP_FAIL;
		return put(d, ".0", 2) == 0 ? DUMP_OK : DUMP_FAIL;
	}
	t = json_dumps(v, JSON_ENCODE_ANY);

	if (t == NULL)
		return DUMP_FAIL;
	rv = put(d, t, strlen(t)) == 0 ? DUMP_OK : DUMP_FAIL;
	free(t);
	return rv;
}

static int dump_value(struct dump *d, const json_t *v, unsigned depth);

static int dump_object(struct dump *d, const json_t *v, unsigned depth)
{
	void *it = json_object_iter((json_t *)v);
	bool first = true;
	int rv;

	if (putc1(d, '{') != 0)
		return DUMP_FAIL;
	for (; it != NULL; it = json_object_iter_next((json_t *)v, it)) {
		if (!first && putc1(d, ',') != 0)
			return DUMP_FAIL;
		first = false;
		rv = dump_string(d, json_object_iter_key(it),
				 json_object_iter_key_len(it));
		/*
		 * jansson ignores the failure of a key's dump_string(): a key
		 * that is not UTF-8 is written cut short, unterminated, and
		 * the dump goes on. Same bytes here.
		 */
		if (rv == DUMP_NOT_UTF8)
			rv = DUMP_OK;
		if (rv == DUMP_OK && putc1(d, ':') != 0)
			rv = DUMP_FAIL;
		if (rv == DUMP_OK)
			rv = dump_value(d, json_object_iter_value(it),
					depth + 1);
		if (rv != DUMP_OK)
			return rv;
	}
	return putc1(d, '}') == 0 ? DUMP_OK : DUMP_FAIL;
}

static int dump_array(struct dump *d, const json_t *v, unsigned depth)
{
	size_t n = json_array_size(v);
	int rv;

	if (putc1(d, '[') != 0)
		return DUMP_FAIL;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && putc1(d, ',') != 0)
			return DUMP_FAIL;
		rv = dump_value(d, json_array_get(v, i), depth + 1);
		if (rv != DUMP_OK)
			return rv;
	}
	return putc1(d, ']') == 0 ? DUMP_OK : DUMP_FAIL;
}

static int dump_value(struct dump *d, const json_t *v, unsigned depth)
{
	int rv;

	if (depth > DUMP_MAX_DEPTH)
		return DUMP_JANSSON;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return dump_object(d, v, depth);
	case JSON_ARRAY:
		return dump_array(d, v, depth);
	case JSON_STRING:
		rv = dump_string(d, json_string_value(v),
				 json_string_length(v));
		return rv == DUMP_NOT_UTF8 ? DUMP_FAIL : rv;
	case JSON_INTEGER:
		return dump_integer(d, json_integer_value(v));
	case JSON_REAL:
		return dump_real(d, v);
	case JSON_TRUE:
		return put(d, "true", 4) == 0 ? DUMP_OK : DUMP_FAIL;
	case JSON_FALSE:
		return put(d, "false", 5) == 0 ? DUMP_OK : DUMP_FAIL;
	case JSON_NULL:
		return put(d, "null", 4) == 0 ? DUMP_OK : DUMP_FAIL;
	}
	return DUMP_FAIL;
}

char *ows_json_dumps(const json_t *v, size_t flags)
{
	struct dump d = {NULL, 0, 0};
	int rv;

	if ((flags & ~(size_t)(JSON_COMPACT | JSON_ENCODE_ANY)) ||
	    !(flags & JSON_COMPACT))
		return json_dumps(v, flags);
	if (v == NULL ||
	    (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) &&
	     !json_is_array(v)))
		return NULL;
	rv = dump_value(&d, v, 1);
	if (rv == DUMP_OK && putc1(&d, '\0') == 0)
		return d.data;
	free(d.data);
	return rv == DUMP_JANSSON ? json_dumps(v, flags) : NULL;
}

char *ows_json_dump(const json_t *v)
{
	return ows_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int ows_json_put_string(struct ows_buf *out, const char *s, size_t len)
{
	struct dump d = {out->data, out->len, out->cap};
	int rv = dump_string(&d, s, len);

	/* room() grows by realloc, as ows_buf does: the buffer stays out's */
	if (rv == DUMP_OK && d.len == d.cap && room(&d, 1) != 0)
		rv = DUMP_FAIL;
	out->data = d.data;
	out->cap = d.cap;
	if (rv != DUMP_OK) {
		if (out->data != NULL)
			out->data[out->len] = '\0';
		return rv == DUMP_NOT_UTF8 ? -EINVAL : -ENOMEM;
	}
	out->len = d.len;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- canonical form and small helpers ---- */

static int has_real(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return 1;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, item)
			if (has_real(item))
				return 1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
			if (has_real(item))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* json_dump_callback()'s callback: 0, or -1 (jansson's contract) to stop. */
static int dump_cb(const char *buffer, size_t size, void *data)
{
	return ows_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

int ows_json_canonical(const json_t *v, struct ows_buf *out)
{
	if (has_real(v))
		return -EINVAL;
	/*
	 * jansson sorts keys with strcmp (byte order) under JSON_SORT_KEYS and
	 * emits "," and ":" without spaces under JSON_COMPACT.
	 */
	if (json_dump_callback(v, dump_cb, out,
			       JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0)
		return -ENOMEM;
	return 0;
}

const char *ows_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
