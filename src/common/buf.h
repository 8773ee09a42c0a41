/*
 * Growable byte buffers (git's strbuf). The data is always NUL-terminated
 * so that text can be used as a C string; len does not count the NUL.
 */
#ifndef OWS_COMMON_BUF_H
#define OWS_COMMON_BUF_H

#include <stddef.h>

struct ows_buf {
	char *data;
	size_t len;
	size_t cap;
};

#define OWS_BUF_INIT {NULL, 0, 0}

void ows_buf_init(struct ows_buf *b);
void ows_buf_free(struct ows_buf *b);
/* Ensure room for extra more bytes (plus the NUL). -ENOMEM on failure. */
int ows_buf_grow(struct ows_buf *b, size_t extra);
int ows_buf_append(struct ows_buf *b, const void *data, size_t len);
int ows_buf_puts(struct ows_buf *b, const char *s);
/*
 * Append s (NULL: nothing) escaped for XML character data and attribute
 * values: the five entities, and control characters other than tab and
 * newline as character references (&#xN;), which XML 1.0 text cannot
 * hold raw: an S3 key may hold any, and errors and listings reflect keys.
 */
void ows_buf_xml_escape(struct ows_buf *b, const char *s);
int ows_buf_printf(struct ows_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append an HTTP header line "name: value\r\n". */
int ows_buf_header(struct ows_buf *b, const char *name, const char *value);
void ows_buf_reset(struct ows_buf *b);
/* Give the data away: the caller frees it; b is left empty. */
char *ows_buf_detach(struct ows_buf *b, size_t *len);

#endif
