/* Error buffer helpers; see err.h. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ows_err_printf(struct ows_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void ows_err_wrapf(struct ows_err *e, const char *fmt, ...)
{
	char old[OWS_ERR_MSG_SIZE];
	va_list ap;
	size_t n;

	if (e == NULL)
		return;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 3);
		n += 2;
		old[sizeof(old) - 1 - n] = '\0';
		memcpy(e->msg + n, old, strlen(old) + 1);
	}
}

const char *ows_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case OWS_EPARSE: return "malformed input";
	case OWS_EAUTH: return "not authenticated";
	case OWS_EDENIED: return "access denied";
	case OWS_ENOTFOUND: return "not found";
	case OWS_ECONFLICT: return "conflict";
	case OWS_ENOTLEADER: return "not the leader";
	case OWS_ETOOBIG: return "too big";
	case OWS_EINVAL: return "invalid";
	case OWS_EIO: return "i/o error";
	default: break;
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
