/*
 * A push reader of multipart/form-data bodies (access.h), for S3's
 * browser form uploads (POST Object): RFC 7578 over RFC 2046's framing,
 *
 *   preamble CRLF? "--" boundary CRLF headers CRLF CRLF data
 *   CRLF "--" boundary CRLF headers ... data CRLF "--" boundary "--" ...
 *
 * The delimiter "CRLF--boundary" is looked for byte by byte (quickly,
 * with memchr, while nothing of it is matched); since a boundary holds no
 * CR (RFC 2046's bchars), a mismatch never needs to look back more than
 * the bytes matched, which are the delimiter's own: nothing of the data
 * is held but a small buffer that batches the callbacks.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3/access.h"

enum { S_DATA, S_AFTER, S_AFTER_DASH, S_PAD, S_HEAD, S_END };

/* RFC 2046 bcharsnospace, plus space inside */
static bool bchar(char c)
{
	return isalnum((unsigned char)c) || strchr("'()+_,-./:=? ", c) != NULL;
}

/* The value of parameter name in a header value ("a; name=\"v\""). */
static bool param(const char *v, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), k = 0;
	const char *p = v;

	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, n) != 0 || p[n] != '=')
			continue;
		p += n + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (k + 1 < cap)
					out[k++] = *p;
			}
		} else {
			for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++)
				if (k + 1 < cap)
					out[k++] = *p;
		}
		out[k] = '\0';
		return true;
	}
	return false;
}

int ows__s3_form_init(struct ows_s3_form *f, const char *content_type,
		      const struct ows_s3_form_cb *cb)
{
	char b[OWS_S3_FORM_BOUNDARY_MAX + 2];
	size_t n;

	memset(f, 0, sizeof(*f));
	f->cb = *cb;
	if (content_type == NULL ||
	    strncasecmp(content_type, "multipart/form-data", 19) != 0 ||
	    !param(content_type, "boundary", b, sizeof(b)))
		return OWS_EPARSE;
	n = strlen(b);
	if (n == 0 || n > OWS_S3_FORM_BOUNDARY_MAX || b[n - 1] == ' ')
		return OWS_EPARSE;
	for (size_t i = 0; i < n; i++)
		if (!bchar(b[i]))
			return OWS_EPARSE;
	f->dlen = (size_t)snprintf(f->delim, sizeof(f->delim), "\r\n--%s", b);
	/* the body may open with the delimiter, without its CRLF */
	f->m = 2;
	f->state = S_DATA;
	return 0;
}

static int flush(struct ows_s3_form *f)
{
	int rv = 0;

	if (f->out_len > 0 && f->in_part)
		rv = f->cb.data(f->cb.ud, f->out, f->out_len);
	f->out_len = 0;
	return rv;
}

/* Data of the current part (dropped in the preamble), batched. */
static int emit(struct ows_s3_form *f, const char *p, size_t n)
{
	int rv;

	if (!f->in_part)
		return 0;
	if (f->out_len + n > sizeof(f->out)) {
		if ((rv = flush(f)) != 0)
			return rv;
		if (n > sizeof(f->out))
			return f->cb.data(f->cb.ud, p, n);
	}
	memcpy(f->out + f->out_len, p, n);
	f->out_len += n;
	return 0;
}

/* The part's headers are read: tell cb. */
static int part_begin(struct ows_s3_form *f)
{
	char name[256] = "", file[1024], type[256];
	const char *disp = NULL, *ctype = NULL;
	bool has_name, has_file;
	char *line, *save = NULL;

	f->head[f->head_len] = '\0';
	for (line = strtok_r(f->head, "\r\n", &save); line != NULL;
	     line = strtok_r(NULL, "\r\n", &save)) {
		if (strncasecmp(line, "Content-Disposition:", 20) == 0)
			disp = line + 20;
		else if (strncasecmp(line, "Content-Type:", 13) == 0)
			ctype = line + 13;
	}
	while (disp != NULL && (*disp == ' ' || *disp == '\t'))
		disp++;
	if (disp == NULL || strncasecmp(disp, "form-data", 9) != 0)
		return OWS_EPARSE;
	has_name = param(disp, "name", name, sizeof(name));
	has_file = param(disp, "filename", file, sizeof(file));
	if (!has_name)
		return OWS_EPARSE;
	if (ctype != NULL) {
		while (*ctype == ' ' || *ctype == '\t')
			ctype++;
		snprintf(type, sizeof(type), "%s", ctype);
	}
	f->in_part = true;
	return f->cb.part(f->cb.ud, name, has_file ? file : NULL,
			  ctype != NULL ? type : NULL);
}

/* Bytes of headers until the blank line. */
static int head_byte(struct ows_s3_form *f, char c)
{
	if (f->head_len >= OWS_S3_FORM_HEADERS_MAX)
		return OWS_EPARSE;
	f->head[f->head_len++] = c;
	if (f->head_len == 2 && memcmp(f->head, "\r\n", 2) == 0) {
		f->head_len = 0; /* no headers at all */
		return OWS_EPARSE;
	}
	if (f->head_len >= 4 &&
	    memcmp(f->head + f->head_len - 4, "\r\n\r\n", 4) == 0) {
		f->head_len -= 4;
		f->state = S_DATA;
		f->m = 0;
		return part_begin(f);
	}
	return 0;
}

/* The delimiter is complete: the part (if any) ends. */
static int delimited(struct ows_s3_form *f)
{
	int rv = flush(f);

	if (rv == 0 && f->in_part) {
		f->in_part = false;
		rv = f->cb.end(f->cb.ud);
	}
	f->m = 0;
	f->state = S_AFTER;
	return rv;
}

static int data_bytes(struct ows_s3_form *f, const char *p, size_t len,
		      size_t *used)
{
	size_t i = 0;
	int rv;

	while (i < len) {
		if (f->m == 0) {
			const char *cr = memchr(p + i, '\r', len - i);
			size_t run = cr ? (size_t)(cr - (p + i)) : len - i;

			if ((rv = emit(f, p + i, run)) != 0)
				return rv;
			i += run;
			if (i == len)
				break;
		}
		if (p[i] == f->delim[f->m]) {
			i++;
			if (++f->m == f->dlen) {
				*used = i;
				return delimited(f);
			}
			continue;
		}
		/* what matched was data; p[i] is looked at again */
		if ((rv = emit(f, f->delim, f->m)) != 0)
			return rv;
		f->m = 0;
	}
	*used = len;
	return 0;
}

static int feed(struct ows_s3_form *f, const char *p, size_t len)
{
	size_t i = 0, used;
	int rv = 0;

	while (rv == 0 && i < len) {
		char c = p[i];

		switch (f->state) {
		case S_DATA:
			rv = data_bytes(f, p + i, len - i, &used);
			i += used;
			continue;
		case S_AFTER:
			f->state = c == '-' ? S_AFTER_DASH : S_PAD;
			if (c == '-')
				break;
			continue; /* c looked at as padding */
		case S_AFTER_DASH:
			if (c != '-')
				return OWS_EPARSE;
			f->state = S_END;
			break;
		case S_PAD:
			if (c == '\n') {
				f->state = S_HEAD;
				f->head_len = 0;
			} else if (c != ' ' && c != '\t' && c != '\r') {
				return OWS_EPARSE;
			}
			break;
		case S_HEAD:
			rv = head_byte(f, c);
			break;
		default: /* S_END: the epilogue is ignored */
			return 0;
		}
		i++;
	}
	return rv;
}

int ows__s3_form_feed(struct ows_s3_form *f, const char *data, size_t len)
{
	if (f->rc != 0)
		return f->rc;
	f->rc = feed(f, data, len);
	if (f->rc == 0)
		f->rc = flush(f);
	return f->rc;
}

int ows__s3_form_finish(struct ows_s3_form *f)
{
	if (f->rc != 0)
		return f->rc;
	return f->state == S_END ? 0 : OWS_EPARSE;
}
