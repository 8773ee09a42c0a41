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
	case OWS_EPRECOND: return "precondition failed";
	case OWS_ESIG_MISSING: return "no request signature";
	case OWS_ESIG_MALFORMED: return "malformed authorization header";
	case OWS_ESIG_QUERY: return "malformed presigned query";
	case OWS_ESIG_ACCESS_KEY: return "unknown access key";
	case OWS_ESIG_SIGNATURE: return "signature does not match";
	case OWS_ESIG_SKEW: return "request time too skewed";
	case OWS_ESIG_EXPIRED: return "presigned request expired";
	case OWS_ESIG_NOT_YET: return "presigned request not yet valid";
	case OWS_ESIG_UNSIGNED: return "header not signed";
	case OWS_ESIG_SHA256: return "payload hash does not match";
	case OWS_ESIG_ARGUMENT: return "invalid signature argument";
	case OWS_ESIG_REQUEST: return "payload hash missing";
	case OWS_ESIG_BODY: return "incomplete signed body";
	case OWS_ESIG_CHUNK_SIZE: return "invalid chunk size";
	case OWS_ESIG_SCOPE: return "credential scope mismatch";
	default: break;
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
