/*
 * Error codes and the fixed error buffer.
 *
 * Functions return 0 on success or a negative code: -errno for system
 * failures, or one of the OWS_E* codes below for domain failures. Context for
 * a human travels up in a struct ows_err (raft's ErrMsg pattern), a fixed
 * buffer, so that error paths never allocate.
 */
#ifndef OWS_COMMON_ERR_H
#define OWS_COMMON_ERR_H

#include <stddef.h>

enum {
	OWS_EPARSE = -1000, /* malformed input */
	OWS_EAUTH,          /* not authenticated: bad or missing signature */
	OWS_EDENIED,        /* authenticated, but not allowed */
	OWS_ENOTFOUND,      /* no such resource */
	OWS_ECONFLICT,      /* conflicts with current state (replay, owner) */
	OWS_ENOTLEADER,     /* this node cannot accept writes now */
	OWS_ETOOBIG,        /* input larger than the limit */
	OWS_EINVAL,         /* well-formed but invalid */
	OWS_EIO,            /* storage failure */
};

#define OWS_ERR_MSG_SIZE 256

struct ows_err {
	char msg[OWS_ERR_MSG_SIZE];
};

/* Replace the message. */
void ows_err_printf(struct ows_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message: "<new>: <old>". */
void ows_err_wrapf(struct ows_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short static name for a code ("parse error", strerror for -errno). */
const char *ows_strerror(int code);

#endif
