/* owsd's subcommands: shared options and entry points. */
#ifndef OWS_DAEMON_OWSD_H
#define OWS_DAEMON_OWSD_H

#include <limits.h>
#include <stdbool.h>

#include "auth/key.h"

struct owsd_opts {
	const char *dir;
	const char *edge;
	const char *gateway;
	const char *raft;
	const char *root_key;
	const char *peer;
	const char *token;
	unsigned segment_mb; /* --segment-mb; 0: libraft's default */
	const char *s3_domain; /* --s3-domain; NULL: s3.localhost */
};

/*
 * A new node's directory is built under a temporary name and moved into
 * place once complete, so that a failed (or killed) init or join leaves no
 * directory that 'owsd run' would serve. Without DIR, the files go to a
 * sibling '.NAME.new-XXXXXX' renamed to DIR; an existing DIR (a mount
 * point, say) must be empty, and the files go to 'DIR/.new-XXXXXX' and are
 * moved up one by one, node.json last.
 */
#define OWSD_DIR_MAX (PATH_MAX - 64) /* room for the node's file names */

struct owsd_stage {
	char final[OWSD_DIR_MAX]; /* DIR */
	char dir[OWSD_DIR_MAX];   /* where the files are written meanwhile */
	bool inside;          /* dir is inside final */
};


/* Print "owsd: <message>" to stderr; returns 1 (the exit status). */
int owsd_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Check that the node's three addresses can be listened on, make the stage
 * for a new node in dir (0700) and the node's key in it. Refuses an
 * existing node. Prints why and returns 1 on failure (nothing left behind).
 */
int owsd_prepare_dir(const struct owsd_opts *o, struct owsd_stage *st,
		     struct ows_key **node_key);
/* Move the stage into place: 0, or prints why and returns 1. */
int owsd_stage_commit(struct owsd_stage *st);
/* Remove the stage and everything in it. */
void owsd_stage_abort(struct owsd_stage *st);

/* owsd init (init.c) */
int owsd_init(const struct owsd_opts *o);

#endif
