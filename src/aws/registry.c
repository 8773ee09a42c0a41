/*
 * The table of services and the walk over their kinds; see registry.h.
 * A new service adds its table here (and nowhere else).
 */
#include "aws/registry.h"

#include <string.h>

#include "ddb/ddb.h"
#include "lambda/lambda.h"
#include "s3/s3.h"
#include "sts/sts.h"

const struct ows_aws_service *const ows_aws_services[] = {
	&ows_sts_service,
	&ows_lambda_service,
	&ows_s3_service,
	&ows_ddb_service,
	NULL,
};

const struct ows_kind *ows_aws_kind_find(const char *name)
{
	const struct ows_kind *const *k;

	for (size_t i = 0; ows_aws_services[i] != NULL; i++)
		for (k = ows_aws_services[i]->kinds; k != NULL && *k != NULL; k++)
			if (strcmp((*k)->name, name) == 0)
				return *k;
	return NULL;
}

int ows_aws_kinds_each(int (*fn)(const struct ows_kind *k, void *ud),
		       void *ud)
{
	const struct ows_kind *const *k;
	int rv;

	for (size_t i = 0; ows_aws_services[i] != NULL; i++)
		for (k = ows_aws_services[i]->kinds; k != NULL && *k != NULL; k++)
			if ((rv = fn(*k, ud)) != 0)
				return rv;
	return 0;
}

/* Unit tests' entry types (ows__aws_entry_types_extra); NULL in owsd. */
static const struct ows_aws_entry_type *const *extra_entries;

void ows__aws_entry_types_extra(const struct ows_aws_entry_type *const *extra)
{
	extra_entries = extra;
}

const struct ows_aws_entry_type *ows_aws_entry_type_find(const char *name)
{
	const struct ows_aws_entry_type *const *t;

	for (size_t i = 0; ows_aws_services[i] != NULL; i++)
		for (t = ows_aws_services[i]->entries; t != NULL && *t != NULL;
		     t++)
			if (strcmp((*t)->name, name) == 0)
				return *t;
	for (t = extra_entries; t != NULL && *t != NULL; t++)
		if (strcmp((*t)->name, name) == 0)
			return *t;
	return NULL;
}
