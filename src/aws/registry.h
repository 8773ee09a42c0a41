/*
 * The services the node serves (aws/service.h), and the resource kinds
 * they add to the state machine (state/kinds.h). The state's schema and
 * apply, change-set validation, ARNs and the CLI's plan/apply find a
 * service's kinds here (through ows_kind_find and ows_kind_each), never
 * in a list of their own.
 */
#ifndef OWS_AWS_REGISTRY_H
#define OWS_AWS_REGISTRY_H

#include "aws/service.h"
#include "state/kinds.h"

/* Every service, NULL-terminated. */
extern const struct ows_aws_service *const ows_aws_services[];

/* The kind named name that some service adds, or NULL. */
const struct ows_kind *ows_aws_kind_find(const char *name);

/*
 * Call fn for every kind every service adds, service by service in table
 * order; stops at the first nonzero return of fn and returns it.
 */
int ows_aws_kinds_each(int (*fn)(const struct ows_kind *k, void *ud),
		       void *ud);

/*
 * The Raft entry type named name that some service adds (struct
 * ows_aws_service, entries), or NULL. The core's own types ("genesis",
 * "changeset", "join", "attested") are never found here: a service that
 * named one would not be reached (state/apply.c looks at its own first).
 */
const struct ows_aws_entry_type *ows_aws_entry_type_find(const char *name);

/*
 * Unit tests only: entry types found after the services' ones
 * (NULL-terminated, borrowed until replaced; NULL: none), so that the
 * state's dispatch can be tested with a type of the test's own.
 */
void ows__aws_entry_types_extra(const struct ows_aws_entry_type *const *extra);

#endif
