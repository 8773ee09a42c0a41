/* Growable buffers; see buf.h. */
#include "common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ows_buf_init(struct ows_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void ows_buf_free(struct ows_buf *b)
{
	free(b->data);
	ows_buf_init(b);
}

int ows_buf_grow(struct ows_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->len - 1)
		return -ENOMEM;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int ows_buf_append(struct ows_buf *b, const void *data, size_t len)
{
	int rv = ows_buf_grow(b, len);

	if (rv != 0)
		return rv;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int ows_buf_puts(struct ows_buf *b, const char *s)
{
	return ows_buf_append(b, s, strlen(s));
}

int ows_buf_printf(struct ows_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rv;

	/* Straight into the room there is; formatted again only when the
	 * text did not fit. */
	if (b->cap > b->len) {
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->data[b->len] = '\0';
			return -EINVAL;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		b->data[b->len] = '\0';
	} else {
		va_start(ap, fmt);
		n = vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
	}
	rv = ows_buf_grow(b, (size_t)n);
	if (rv != 0)
		return rv;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int ows_buf_header(struct ows_buf *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	int rv = ows_buf_grow(b, nl + vl + 4);
	char *p;

	if (rv != 0)
		return rv;
	p = b->data + b->len;
	memcpy(p, name, nl);
	memcpy(p + nl, ": ", 2);
	memcpy(p + nl + 2, value, vl);
	memcpy(p + nl + 2 + vl, "\r\n", 3); /* with the NUL */
	b->len += nl + vl + 4;
	return 0;
}

void ows_buf_reset(struct ows_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *ows_buf_detach(struct ows_buf *b, size_t *len)
{
	char *p = b->data;

	if (len != NULL)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	ows_buf_init(b);
	return p;
}

void ows_buf_xml_escape(struct ows_buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		const char *e = ch == '<'    ? "&lt;"
				: ch == '>'  ? "&gt;"
				: ch == '&'  ? "&amp;"
				: ch == '"'  ? "&quot;"
				: ch == '\'' ? "&apos;"
					     : NULL;

		if (e != NULL)
			ows_buf_puts(b, e);
		else if (ch < 0x20 && ch != '\t' && ch != '\n')
			ows_buf_printf(b, "&#x%X;", ch);
		else
			ows_buf_append(b, s, 1);
	}
}
