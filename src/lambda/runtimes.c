/*
 * Lambda's runtime names and the runtime OWS runs for each: the host's
 * interpreter (/usr/bin/python3, /usr/bin/node) or the bundle's own
 * bootstrap. A function keeps the name it was given (GetFunction shows
 * it, so deploy tools see no drift); docs/lambda.md says which host
 * runtime runs each name.
 */
#include <stddef.h>
#include <string.h>

#include "lambda/lambda_priv.h"

static const struct {
	const char *lambda;
	const char *ows;
} runtimes[] = {
	{"python3.8", "python3"},     {"python3.9", "python3"},
	{"python3.10", "python3"},    {"python3.11", "python3"},
	{"python3.12", "python3"},    {"python3.13", "python3"},
	{"nodejs18.x", "nodejs"},     {"nodejs20.x", "nodejs"},
	{"nodejs22.x", "nodejs"},     {"provided", "provided"},
	{"provided.al2", "provided"}, {"provided.al2023", "provided"},
	/* OWS's own names, as stack files spell them */
	{"python3", "python3"},       {"nodejs", "nodejs"},
	{"http", "http"},
};

const char *ows__lambda_runtime(const char *lambda_name)
{
	if (lambda_name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strcmp(runtimes[i].lambda, lambda_name) == 0)
			return runtimes[i].ows;
	return NULL;
}
