/*
 * Stack files and plans. A stack file names its stack and, per resource
 * kind, the resources it wants: {"stack": "demo", "users": {...},
 * "policies": {...}, ...}. The plan compares that with what the cluster says
 * the stack owns, kind by kind and name by name, without knowing what any
 * kind means: + create, ~ change (the spec differs), - delete.
 */
#ifndef OWS_LEDGER_STACK_H
#define OWS_LEDGER_STACK_H

#include <jansson.h>

#include "common/err.h"

/*
 * Load and check a stack file: every section must name a kind kept in
 * stack files (state/kinds.h, in_stacks). A new reference or NULL with
 * err set.
 */
json_t *ows_stack_load(const char *path, struct ows_err *err);

/*
 * The plan: an array of {"op": "+"|"~"|"-", "kind", "name", "spec"} in the
 * order the actions must run (puts by kind dependency order, then deletes
 * in reverse order). current is the node's /resources list for the stack;
 * rows of it owned by another stack, or by none ("stack": ""), are never
 * changed or deleted (putting such a name is a "+" the node refuses).
 */
json_t *ows_stack_plan(const json_t *stack, const json_t *current);

/* The plan's change-set actions. */
json_t *ows_stack_actions(const json_t *plan);

#endif
