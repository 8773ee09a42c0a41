/*
 * DynamoDB's numbers as exact decimals: parsing of the wire text, the
 * canonical text DynamoDB returns, comparison, and addition and
 * subtraction (UpdateItem's SET a = a + :v and ADD). A number is at most
 * 38 significant digits times a power of ten, in the range 1E-130 ..
 * 9.99..E+125 (developer guide, "Data types", Number); nothing here goes
 * through a double, so that 0.1 + 0.2 is 0.3 on every node.
 */
#include <stdio.h>
#include <string.h>

#include "ddb/ddb_value.h"

/* 0.d * 10^exp: 1E-130 is 0.1E-129, 9.99..E+125 is 0.999..E+126. */
#define EXP_MIN (-129)
#define EXP_MAX 126

static int too_many_digits(struct ows_err *err)
{
	if (err)
		ows_err_printf(err, "Attempting to store more than 38 "
				    "significant digits in a Number");
	return OWS_EINVAL;
}

static int range_check(const struct ows_ddb_num *n, struct ows_err *err)
{
	if (n->sign == 0)
		return 0;
	if (n->exp > EXP_MAX) {
		if (err)
			ows_err_printf(err, "Number overflow. Attempting to "
					    "store a number with magnitude "
					    "larger than supported range");
		return OWS_EINVAL;
	}
	if (n->exp < EXP_MIN) {
		if (err)
			ows_err_printf(err, "Number underflow. Attempting to "
					    "store a number with magnitude "
					    "smaller than supported range");
		return OWS_EINVAL;
	}
	return 0;
}

static int not_numeric(const char *s, size_t len, struct ows_err *err)
{
	if (err) {
		/* The message quotes the text; keep it within the buffer. */
		int shown = len > 160 ? 160 : (int)len;

		ows_err_printf(err, "The parameter cannot be converted to a "
				    "numeric value: %.*s", shown, s);
	}
	return OWS_EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read an exponent's digits, saturating far beyond any valid number's
 * exponent so that "1E99999999999" neither overflows nor passes.
 */
static long read_exp(const char *s, size_t len, size_t *i, bool *ok)
{
	long v = 0;
	int sign = 1;

	*ok = false;
	if (*i < len && (s[*i] == '+' || s[*i] == '-')) {
		if (s[*i] == '-')
			sign = -1;
		(*i)++;
	}
	while (*i < len && is_digit(s[*i])) {
		if (v < 100000000)
			v = v * 10 + (s[*i] - '0');
		(*i)++;
		*ok = true;
	}
	return sign * v;
}

int ows_ddb_num_parse(const char *s, size_t len, struct ows_ddb_num *out,
		      struct ows_err *err)
{
	size_t i = 0, ndig = 0;
	long point = -1, first = -1, last = -1, e = 0, pos = 0;
	int sign = 1;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (i < len && (s[i] == '+' || s[i] == '-'))
		sign = s[i++] == '-' ? -1 : 1;
	/* First pass: shape, position of the point and of the nonzero digits. */
	for (; i < len; i++) {
		if (is_digit(s[i])) {
			if (s[i] != '0') {
				if (first < 0)
					first = pos;
				last = pos;
			}
			pos++;
			ndig++;
		} else if (s[i] == '.' && point < 0) {
			point = pos;
		} else {
			break;
		}
	}
	if (ndig == 0)
		return not_numeric(s, len, err);
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		e = read_exp(s, len, &i, &ok);
		if (!ok)
			return not_numeric(s, len, err);
	}
	if (i != len)
		return not_numeric(s, len, err);
	if (first < 0)
		return 0; /* zero, of any sign and exponent */
	if (point < 0)
		point = pos;
	if (last - first + 1 > OWS_DDB_NUM_DIGITS)
		return too_many_digits(err);
	/* Second pass: the significant digits. */
	pos = 0;
	for (i = (s[0] == '+' || s[0] == '-') ? 1 : 0; i < len; i++) {
		if (s[i] == '.')
			continue;
		if (!is_digit(s[i]))
			break;
		if (pos >= first && pos <= last)
			out->d[out->n++] = (uint8_t)(s[i] - '0');
		pos++;
	}
	out->sign = sign;
	out->exp = (int)(point - first + e);
	return range_check(out, err);
}

size_t ows_ddb_num_format(const struct ows_ddb_num *n, char *out, size_t cap)
{
	char tmp[320];
	size_t k = 0;
	int i;

	if (n->sign == 0 || n->n == 0) {
		tmp[k++] = '0';
	} else {
		if (n->sign < 0)
			tmp[k++] = '-';
		if (n->exp <= 0) {
			tmp[k++] = '0';
			tmp[k++] = '.';
			for (i = n->exp; i < 0 && k < 200; i++)
				tmp[k++] = '0';
			for (i = 0; i < (int)n->n; i++)
				tmp[k++] = (char)('0' + n->d[i]);
		} else {
			for (i = 0; i < (int)n->n || i < n->exp; i++) {
				if (i == n->exp)
					tmp[k++] = '.';
				tmp[k++] = (char)('0' + (i < (int)n->n ? n->d[i] : 0));
				if (k > 300)
					break;
			}
		}
	}
	if (cap > 0) {
		size_t c = k < cap - 1 ? k : cap - 1;

		memcpy(out, tmp, c);
		out[c] = '\0';
	}
	return k;
}

int ows_ddb_num_cmp(const struct ows_ddb_num *a, const struct ows_ddb_num *b)
{
	int mag = 0;
	unsigned i;

	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	if (a->sign == 0)
		return 0;
	if (a->exp != b->exp) {
		mag = a->exp < b->exp ? -1 : 1;
	} else {
		for (i = 0; i < a->n && i < b->n && mag == 0; i++)
			if (a->d[i] != b->d[i])
				mag = a->d[i] < b->d[i] ? -1 : 1;
		if (mag == 0 && a->n != b->n)
			mag = a->n < b->n ? -1 : 1;
	}
	return a->sign > 0 ? mag : -mag;
}

/*
 * A scratch decimal wide enough to hold two numbers of any exponents
 * aligned: w[0] is the most significant place, 10^top.
 */
#define WIDE (EXP_MAX - EXP_MIN + 2 * OWS_DDB_NUM_DIGITS + 8)

struct wide {
	int top; /* the power of ten of w[0] */
	uint8_t w[WIDE];
};

static void place(struct wide *x, const struct ows_ddb_num *n)
{
	/* d[i] stands for 10^(exp - 1 - i). */
	for (unsigned i = 0; i < n->n; i++)
		x->w[x->top - (n->exp - 1 - (int)i)] = n->d[i];
}

/* Round x (nonzero somewhere) to a normalized number, half to even. */
static int normalize(const struct wide *x, int sign, struct ows_ddb_num *out,
		     struct ows_err *err)
{
	int f = 0, l = WIDE - 1, i, k;
	uint8_t dig[WIDE + 1];
	int exp;

	while (f < WIDE && x->w[f] == 0)
		f++;
	if (f == WIDE) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	while (x->w[l] == 0)
		l--;
	/* dig[0] is a spare place for the carry of rounding. */
	dig[0] = 0;
	for (i = f; i <= l; i++)
		dig[i - f + 1] = x->w[i];
	k = l - f + 1;
	exp = x->top - f + 1;
	if (k > OWS_DDB_NUM_DIGITS) {
		int keep = OWS_DDB_NUM_DIGITS, rest_nonzero = 0, up;

		for (i = keep + 2; i <= k; i++)
			rest_nonzero |= dig[i];
		up = dig[keep + 1] > 5 ||
		     (dig[keep + 1] == 5 && (rest_nonzero || dig[keep] % 2));
		k = keep;
		for (i = keep; up && i >= 0; i--) {
			if (++dig[i] < 10)
				up = 0;
			else
				dig[i] = 0;
		}
	}
	i = dig[0] ? 0 : 1;
	if (dig[0])
		exp++;
	memset(out, 0, sizeof(*out));
	out->sign = sign;
	out->exp = exp;
	for (; i <= k && out->n < OWS_DDB_NUM_DIGITS; i++)
		out->d[out->n++] = dig[i];
	while (out->n > 0 && out->d[out->n - 1] == 0)
		out->n--;
	return range_check(out, err);
}

static int add_signed(const struct ows_ddb_num *a, const struct ows_ddb_num *b,
		      int bsign, struct ows_err *err, struct ows_ddb_num *out)
{
	struct ows_ddb_num bb = *b, aa = *a;
	struct wide x, y;
	int i, carry = 0, sign, c;

	bb.sign = bsign;
	if (bb.sign == 0 || bb.n == 0) {
		*out = aa;
		return 0;
	}
	if (aa.sign == 0 || aa.n == 0) {
		*out = bb;
		return 0;
	}
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	/* One spare place on top for the carry. */
	x.top = y.top = (aa.exp > bb.exp ? aa.exp : bb.exp);
	place(&x, &aa);
	place(&y, &bb);
	if (aa.sign == bb.sign) {
		for (i = WIDE - 1; i >= 1; i--) {
			int s = x.w[i] + y.w[i] + carry;

			x.w[i] = (uint8_t)(s % 10);
			carry = s / 10;
		}
		x.w[0] = (uint8_t)(x.w[0] + carry);
		sign = aa.sign;
	} else {
		struct ows_ddb_num ma = aa, mb = bb;
		struct wide *big = &x, *small = &y;

		ma.sign = mb.sign = 1;
		c = ows_ddb_num_cmp(&ma, &mb);
		if (c == 0) {
			memset(out, 0, sizeof(*out));
			return 0;
		}
		if (c < 0) {
			big = &y;
			small = &x;
		}
		sign = c > 0 ? aa.sign : bb.sign;
		for (i = WIDE - 1; i >= 0; i--) {
			int s = big->w[i] - small->w[i] - carry;

			carry = s < 0;
			big->w[i] = (uint8_t)(s < 0 ? s + 10 : s);
		}
		if (big != &x)
			x = *big;
	}
	return normalize(&x, sign, out, err);
}

int ows_ddb_num_add(const struct ows_ddb_num *a, const struct ows_ddb_num *b,
		    struct ows_ddb_num *out, struct ows_err *err)
{
	return add_signed(a, b, b->sign, err, out);
}

int ows_ddb_num_sub(const struct ows_ddb_num *a, const struct ows_ddb_num *b,
		    struct ows_ddb_num *out, struct ows_err *err)
{
	return add_signed(a, b, -b->sign, err, out);
}
