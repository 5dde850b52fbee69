/* SPDX-License-Identifier: MIT */
/*
 * test_exit.h - the exit status of every test program, as tests/run reads
 * it: 0 all passed, 1 something failed, 77 skipped (the automake
 * convention).
 *
 * cmocka_run_group_tests() returns the number of failed tests. Returned
 * as is from main(), that count is read as an exit status: 77 failures
 * would look skipped and 256 would look passed (exit statuses are 8 bits).
 * TEST_RUN_GROUP folds it to 1. Only a program that cannot run here at all
 * (not root, for a test that needs root) skips, with a printed reason;
 * anything that goes wrong once it could run is a failure.
 */
#ifndef ARCNAT_TEST_EXIT_H
#define ARCNAT_TEST_EXIT_H

#include <stdarg.h>
#include <stdio.h>

#define TEST_EXIT_PASS 0
#define TEST_EXIT_FAIL 1
#define TEST_EXIT_SKIP 77

/* Any number of failures (or a negative cmocka error) is one exit status. */
static inline int test_exit_fold(int failed)
{
	return failed == 0 ? TEST_EXIT_PASS : TEST_EXIT_FAIL;
}

/*
 * TEST_RUN_GROUP(tests, setup, teardown): cmocka_run_group_tests() folded
 * to an exit status; use it as main()'s return value. A macro because
 * cmocka_run_group_tests() is one (it takes the array's size and name).
 */
#define TEST_RUN_GROUP(tests, setup, teardown) \
	test_exit_fold(cmocka_run_group_tests(tests, setup, teardown))

static inline void test_exit_vsay(const char *tag, const char *fmt, va_list ap)
{
	(void)fputs(tag, stdout);
	(void)vprintf(fmt, ap);
	(void)fputc('\n', stdout);
	(void)fflush(stdout);
}

/*
 * test_exit_skip(FMT, ...): print "SKIP: <reason>" (tests/run shows the
 * last line of output as the reason) and return 77 for main() to return.
 */
__attribute__((format(printf, 1, 2))) static inline int
test_exit_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	test_exit_vsay("SKIP: ", fmt, ap);
	va_end(ap);
	return TEST_EXIT_SKIP;
}

/*
 * test_exit_fail(FMT, ...): print "FAIL: <reason>" and return 1 for main()
 * to return: for a setup step that failed where the test should be able to
 * run (as root: a namespace, a device, a veth), which is not a skip.
 */
__attribute__((format(printf, 1, 2))) static inline int
test_exit_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	test_exit_vsay("FAIL: ", fmt, ap);
	va_end(ap);
	return TEST_EXIT_FAIL;
}

#endif /* ARCNAT_TEST_EXIT_H */
