/*
 * The unit-test runner (libuv's style): tests register themselves with
 * OWS_TEST and each runs in a forked child, so that a crash, a leak of state
 * or a namespace change stays contained. A test fails by failing an
 * OWS_CHECK, by crashing, or by running past its time limit; OWS_SKIP skips.
 */
#ifndef OWS_TESTS_UNIT_H
#define OWS_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ows_test_fn)(void);

void ows_test_register(const char *name, const char *file, ows_test_fn fn);

#define OWS_TEST(name)                                                  \
	static void test_##name(void);                                  \
	__attribute__((constructor)) static void register_##name(void) \
	{                                                               \
		ows_test_register(#name, __FILE__, test_##name);        \
	}                                                               \
	static void test_##name(void)

#define OWS_CHECK(cond)                                                     \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                 \
			exit(1);                                            \
		}                                                           \
	} while (0)

#define OWS_CHECK_INT(a, b)                                                 \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_) {                                             \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);        \
			exit(1);                                            \
		}                                                           \
	} while (0)

#define OWS_CHECK_STR(a, b)                                                 \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {      \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b,                 \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");    \
			exit(1);                                            \
		}                                                           \
	} while (0)

#define OWS_SKIP_EXIT 77
#define OWS_SKIP(why)                                  \
	do {                                           \
		fprintf(stderr, "skip: %s\n", (why)); \
		exit(OWS_SKIP_EXIT);                   \
	} while (0)

#endif
