/* owsd's subcommands: shared options and entry points. */
#ifndef OWS_DAEMON_OWSD_H
#define OWS_DAEMON_OWSD_H

#include "auth/key.h"

struct owsd_opts {
	const char *dir;
	const char *edge;
	const char *gateway;
	const char *raft;
	const char *root_key;
	const char *peer;
	const char *token;
};

/* Print "owsd: <message>" to stderr; returns 1 (the exit status). */
int owsd_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Create dir (0700) for a new node and its key; refuses an existing node. */
int owsd_prepare_dir(const char *dir, struct ows_key **node_key);

/* owsd init (init.c) */
int owsd_init(const struct owsd_opts *o);

#endif
