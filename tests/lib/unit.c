/*
 * Unit-test runner: bin/unit-tests [SUBSTRING...] runs every registered test
 * whose name or file contains one of the substrings (all when none), each in
 * a forked child with a time limit, and ends with the line
 * "N passed, N failed, N skipped".
 */
#include "unit.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 2048
#define TIME_LIMIT_S 60

struct test {
	const char *name;
	const char *file;
	ows_test_fn fn;
};

static struct test tests[MAX_TESTS];
static size_t n_tests;

void ows_test_register(const char *name, const char *file, ows_test_fn fn)
{
	if (n_tests < MAX_TESTS)
		tests[n_tests++] = (struct test){name, file, fn};
}

static int selected(const struct test *t, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(t->name, argv[i]) || strstr(t->file, argv[i]))
			return 1;
	return 0;
}

static int run_one(const struct test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(TIME_LIMIT_S);
		t->fn();
		exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
		WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
	return -1;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n_tests; i++) {
		const struct test *t = &tests[i];
		int rv;

		if (!selected(t, argc, argv))
			continue;
		rv = run_one(t);
		if (rv == 0) {
			passed++;
			printf("ok   %s\n", t->name);
		} else if (rv == OWS_SKIP_EXIT) {
			skipped++;
			printf("skip %s\n", t->name);
		} else {
			failed++;
			printf("FAIL %s (%s)\n", t->name, t->file);
		}
	}
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
