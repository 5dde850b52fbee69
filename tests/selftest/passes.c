// SPDX-License-Identifier: MIT
/*
 * passes.c - a fixture of tests/selftest/run.sh, not a test of arcnat: a
 * cmocka program whose one test passes, so exit status 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_exit.h"

static void passes(void **state)
{
	(void)state;
	assert_int_equal(2 + 2, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passes),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
