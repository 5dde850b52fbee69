// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "test_exit.h"
#include "core/clock.h"

static void clock_manual_moves_only_by_hand(void **state)
{
	struct clock c;

	(void)state;
	clock_init_manual(&c, 5 * NSEC_PER_SEC);
	assert_int_equal(clock_read(&c), 5 * NSEC_PER_SEC);
	assert_int_equal(clock_read(&c), 5 * NSEC_PER_SEC);
	clock_advance(&c, 250 * NSEC_PER_MSEC);
	assert_int_equal(clock_now(&c), 5 * NSEC_PER_SEC + 250 * NSEC_PER_MSEC);
	assert_int_equal(clock_read(&c), clock_now(&c));
}

static void clock_monotonic_tracks_clock_gettime(void **state)
{
	struct clock c;
	struct timespec ts;
	uint64_t before, after, t1, t2;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	clock_init_monotonic(&c);
	t1 = clock_now(&c);
	t2 = clock_read(&c);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	after = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;

	assert_true(before <= t1);
	assert_true(t1 <= t2);
	assert_true(t2 <= after);
	/* clock_now() does not read the clock: it returns the last reading. */
	assert_int_equal(clock_now(&c), t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clock_manual_moves_only_by_hand),
		cmocka_unit_test(clock_monotonic_tracks_clock_gettime),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
