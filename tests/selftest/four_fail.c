// SPDX-License-Identifier: MIT
/*
 * four_fail.c - a fixture of tests/selftest/run.sh, not a test of arcnat:
 * a cmocka program in which exactly four tests fail and one passes. Its
 * main() returns like every tests/unit program's, so the self-test sees
 * what tests/run makes of it. Returning cmocka's count as is, it exited 4,
 * which tests/run once counted as skipped.
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

static void fails(void **state)
{
	(void)state;
	fail_msg("this fixture fails on purpose");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passes),
		cmocka_unit_test(fails),
		cmocka_unit_test(fails),
		cmocka_unit_test(fails),
		cmocka_unit_test(fails),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
