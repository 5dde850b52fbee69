// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/ratelimit.h"

static void ratelimit_burst_then_refuse(void **state)
{
	struct ratelimit rl;
	uint64_t t = 100 * NSEC_PER_SEC;

	(void)state;
	ratelimit_init(&rl, 3, NSEC_PER_SEC);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_allow(&rl, t + (uint64_t)i));
	for (int i = 0; i < 5; i++)
		assert_false(ratelimit_allow(&rl, t + 10 + (uint64_t)i));
	assert_int_equal(ratelimit_take_missed(&rl), 5);
	assert_int_equal(ratelimit_take_missed(&rl), 0);
}

static void ratelimit_new_window_after_interval(void **state)
{
	struct ratelimit rl;
	uint64_t t = 100 * NSEC_PER_SEC;

	(void)state;
	ratelimit_init(&rl, 1, NSEC_PER_SEC);
	assert_true(ratelimit_allow(&rl, t));
	assert_false(ratelimit_allow(&rl, t + NSEC_PER_SEC - 1));
	assert_true(ratelimit_allow(&rl, t + NSEC_PER_SEC));
	assert_false(ratelimit_allow(&rl, t + NSEC_PER_SEC + 1));
}

static void ratelimit_zero_burst_allows_nothing(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 0, NSEC_PER_SEC);
	assert_false(ratelimit_allow(&rl, 1));
	assert_false(ratelimit_allow(&rl, 10 * NSEC_PER_SEC));
	assert_int_equal(ratelimit_take_missed(&rl), 2);
}

/* Time going backwards (a caller bug) must not lock the limiter shut. */
static void ratelimit_time_backwards_reopens(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 1, NSEC_PER_SEC);
	assert_true(ratelimit_allow(&rl, 50 * NSEC_PER_SEC));
	assert_true(ratelimit_allow(&rl, 10 * NSEC_PER_SEC));
	assert_false(ratelimit_allow(&rl, 10 * NSEC_PER_SEC + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ratelimit_burst_then_refuse),
		cmocka_unit_test(ratelimit_new_window_after_interval),
		cmocka_unit_test(ratelimit_zero_burst_allows_nothing),
		cmocka_unit_test(ratelimit_time_backwards_reopens),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
