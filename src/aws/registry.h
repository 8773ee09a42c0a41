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

#endif
