/*
 * Unit tests: stack files and plans. The diff knows no resource kind; only
 * the order of kinds (dependencies first for puts, reversed for deletes).
 */
#include "../lib/unit.h"

#include "common/json.h"
#include "ledger/stack.h"

#include <unistd.h>

static json_t *j(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	OWS_CHECK(v != NULL);
	return v;
}

/* The plan as "op kind name" lines joined by ';'. */
static char *summary(const json_t *plan)
{
	struct ows_buf b = OWS_BUF_INIT;
	const json_t *p;
	size_t i;

	json_array_foreach(plan, i, p)
		ows_buf_printf(&b, "%s%s %s %s", i ? ";" : "", ows_json_str(p, "op"),
			       ows_json_str(p, "kind"), ows_json_str(p, "name"));
	return ows_buf_detach(&b, NULL);
}

OWS_TEST(stack_plan_create_change_delete_in_order)
{
	json_t *stack = j("{\"stack\":\"s\","
			  "\"routes\":{\"GET /a\":{\"function\":\"f\"}},"
			  "\"functions\":{\"f\":{\"runtime\":\"python3\"}},"
			  "\"users\":{\"u\":{\"policies\":[\"p\"]}},"
			  "\"policies\":{\"p\":{\"Statement\":[]}},"
			  "\"widgets\":{\"w\":{}}}");
	json_t *current = j("[{\"kind\":\"users\",\"name\":\"u\",\"spec\":{\"policies\":[]}},"
			    "{\"kind\":\"functions\",\"name\":\"f\",\"spec\":{\"runtime\":\"python3\"}},"
			    "{\"kind\":\"routes\",\"name\":\"GET /old\",\"spec\":{}},"
			    "{\"kind\":\"functions\",\"name\":\"gone\",\"spec\":{}},"
			    "{\"kind\":\"policies\",\"name\":\"old\",\"spec\":{}}]");
	json_t *plan = ows_stack_plan(stack, current), *actions;
	char *s = summary(plan);

	/* Puts: policies, users, functions, routes, then unknown kinds; the
	 * unchanged function is left alone. Deletes: routes, functions, then
	 * users' dependencies (policies) last. */
	OWS_CHECK_STR(s, "+ policies p;~ users u;+ routes GET /a;+ widgets w;"
			 "- routes GET /old;- functions gone;- policies old");
	actions = ows_stack_actions(plan);
	OWS_CHECK_INT(json_array_size(actions), 7);
	OWS_CHECK_STR(ows_json_str(json_array_get(actions, 1), "action"), "users.put");
	OWS_CHECK(json_object_get(json_array_get(actions, 1), "spec") != NULL);
	OWS_CHECK_STR(ows_json_str(json_array_get(actions, 6), "action"), "policies.delete");
	OWS_CHECK(json_object_get(json_array_get(actions, 6), "spec") == NULL);
	free(s);
	json_decref(actions);
	json_decref(plan);
	json_decref(stack);
	json_decref(current);
}

OWS_TEST(stack_plan_equal_specs_ignore_key_order)
{
	json_t *stack = j("{\"stack\":\"s\",\"users\":{\"u\":{\"a\":1,\"b\":[1,{\"y\":1,\"x\":2}]}}}");
	json_t *current = j("[{\"kind\":\"users\",\"name\":\"u\",\"spec\":{\"b\":[1,{\"x\":2,\"y\":1}],\"a\":1}}]");
	json_t *plan = ows_stack_plan(stack, current);

	OWS_CHECK_INT(json_array_size(plan), 0);
	json_decref(plan);
	json_decref(stack);
	json_decref(current);
}

OWS_TEST(stack_load_refuses_bad_files)
{
	static const char *const bad[] = {
		"{\"users\":{}}",                      /* no stack name */
		"{\"stack\":\"\",\"users\":{}}",       /* empty name */
		"{\"stack\":\"s\",\"users\":[]}",      /* section not an object */
		"{\"stack\":\"s\",\"users\":{\"u\":1}}", /* spec not an object */
		"{\"stack\":\"s\",\"stack\":\"t\"}",   /* duplicate key */
		"{\"stack\":\"s\"",                    /* truncated */
		"{\"stack\":\"s\",\"widgets\":{}}",    /* no such kind */
		"{\"stack\":\"s\",\"nodes\":{}}",      /* not in stack files */
	};
	char path[] = "/tmp/ows-stack-XXXXXX";
	struct ows_err err = {{0}};
	json_t *v;
	int fd;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = mkstemp(path);
		OWS_CHECK(fd >= 0);
		OWS_CHECK(write(fd, bad[i], strlen(bad[i])) == (ssize_t)strlen(bad[i]));
		close(fd);
		v = ows_stack_load(path, &err);
		OWS_CHECK(v == NULL);
		OWS_CHECK(err.msg[0] != '\0');
		unlink(path);
		strcpy(path, "/tmp/ows-stack-XXXXXX");
	}
	OWS_CHECK(ows_stack_load("/nonexistent/stack.json", &err) == NULL);
	OWS_CHECK(strstr(err.msg, "cannot read") != NULL);
}

/*
 * A resource of no stack (made through the API) or of another stack is
 * never the stack's to change or delete, even when the node's list holds
 * it: naming it is a "+" (the node refuses it as a conflict), leaving it
 * out deletes nothing.
 */
OWS_TEST(stack_plan_leaves_other_owners_alone)
{
	json_t *stack = j("{\"stack\":\"s\","
			  "\"functions\":{\"f\":{\"runtime\":\"python3\"}}}");
	json_t *current = j("[{\"kind\":\"functions\",\"name\":\"f\",\"stack\":\"\","
			    "\"spec\":{\"runtime\":\"python3\"}},"
			    "{\"kind\":\"functions\",\"name\":\"api\",\"stack\":\"\","
			    "\"spec\":{}},"
			    "{\"kind\":\"functions\",\"name\":\"other\",\"stack\":\"t\","
			    "\"spec\":{}},"
			    "{\"kind\":\"functions\",\"name\":\"mine\",\"stack\":\"s\","
			    "\"spec\":{}}]");
	json_t *plan = ows_stack_plan(stack, current);
	char *s = summary(plan);

	OWS_CHECK_STR(s, "+ functions f;- functions mine");
	free(s);
	json_decref(plan);
	json_decref(stack);
	json_decref(current);
}
