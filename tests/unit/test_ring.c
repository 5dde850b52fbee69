// SPDX-License-Identifier: MIT
/*
 * test_ring.c - unit tests for src/mem/ring.
 *
 * Single-thread tests check every return value against a model (a pair of
 * sequence counters): FIFO order, exact partial-burst counts at the full and
 * empty boundaries, and the same with the free-running indices starting just
 * below UINT32_MAX so that they wrap during the test. The two-thread test
 * pushes STRESS_N sequence numbers through a small ring in random bursts and
 * checks that each arrives exactly once and in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "mem/ring.h"

/* Objects are sequence numbers carried in the pointer itself. */
static void *obj(uintptr_t v)
{
	/* Never dereferenced, so the int-to-pointer cast costs nothing. */
	return (void *)v; /* NOLINT(performance-no-int-to-ptr) */
}

static uintptr_t val(const void *p)
{
	return (uintptr_t)p;
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/*
 * Random enqueue/dequeue bursts of 0 .. 2 * size objects on one thread,
 * each result checked against the model: next_in - next_out objects are in
 * the ring, an enqueue takes MIN(n, free), a dequeue gives MIN(n, count)
 * in sequence order.
 */
static void model_run(uint32_t size, uint32_t start, unsigned int rounds,
		      uint32_t seed)
{
	uintptr_t next_in = 1, next_out = 1;
	struct ring *r = NULL;
	uint32_t got, k;
	unsigned int round;
	void **buf;

	assert_int_equal(ring_create_spsc_at(&r, size, start), 0);
	assert_int_equal(ring_capacity(r), size);
	buf = calloc(2 * (size_t)size + 1, sizeof(*buf));
	assert_non_null(buf);

	for (round = 0; round < rounds; round++) {
		uint32_t in_ring = (uint32_t)(next_in - next_out);
		uint32_t n = xorshift32(&seed) % (2 * size + 1);

		for (k = 0; k < n; k++)
			buf[k] = obj(next_in + k);
		got = ring_enqueue_burst_spsc(r, buf, n);
		assert_int_equal(got, MIN(n, size - in_ring));
		next_in += got;
		in_ring += got;
		assert_int_equal(ring_count(r), in_ring);
		assert_int_equal(ring_free_count(r), size - in_ring);

		n = xorshift32(&seed) % (2 * size + 1);
		got = ring_dequeue_burst_spsc(r, buf, n);
		assert_int_equal(got, MIN(n, in_ring));
		for (k = 0; k < got; k++)
			assert_int_equal(val(buf[k]), next_out + k);
		next_out += got;
		in_ring -= got;
		assert_int_equal(ring_count(r), in_ring);
		assert_int_equal(ring_free_count(r), size - in_ring);
	}
	/* Drain: everything still inside comes out in order. */
	got = ring_dequeue_burst_spsc(r, buf, size);
	assert_int_equal(got, (uint32_t)(next_in - next_out));
	for (k = 0; k < got; k++)
		assert_int_equal(val(buf[k]), next_out + k);
	assert_int_equal(ring_count(r), 0);
	free(buf);
	ring_destroy(r);
}

static void test_fifo_order(void **state)
{
	(void)state;
	model_run(16, 0, 20000, 0x1234567u);
	/* Start mid-array, so bursts split at the end of the slot array. */
	model_run(8, 5, 20000, 0x89abcdeu);
	model_run(1, 0, 1000, 0x2468aceu);
}

static void test_wrap_model(void **state)
{
	(void)state;
	/* Indices cross UINT32_MAX -> 0 within the first rounds. */
	model_run(16, UINT32_MAX - 100, 20000, 0x13579bdu);
	model_run(64, UINT32_MAX - 3, 20000, 0xfedcba9u);
	model_run(4, UINT32_MAX, 1000, 0x7777777u);
}

static void test_full_empty(void **state)
{
	void *in[12], *out[12];
	struct ring *r = NULL;
	uint32_t k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(in); k++)
		in[k] = obj(100 + k);
	assert_int_equal(ring_create_spsc(&r, 8), 0);
	assert_int_equal(ring_count(r), 0);
	assert_int_equal(ring_free_count(r), 8);
	assert_int_equal(ring_dequeue_burst_spsc(r, out, 4), 0);

	assert_int_equal(ring_enqueue_burst_spsc(r, in, 5), 5);
	/* Partial: only 3 of 5 fit. */
	assert_int_equal(ring_enqueue_burst_spsc(r, in + 5, 5), 3);
	assert_int_equal(ring_count(r), 8);
	assert_int_equal(ring_free_count(r), 0);
	assert_int_equal(ring_enqueue_burst_spsc(r, in + 8, 1), 0);
	assert_int_equal(ring_enqueue_burst_spsc(r, in + 8, 0), 0);

	assert_int_equal(ring_dequeue_burst_spsc(r, out, 3), 3);
	assert_int_equal(ring_dequeue_burst_spsc(r, out + 3, 0), 0);
	/* Partial: only 5 are left. */
	assert_int_equal(ring_dequeue_burst_spsc(r, out + 3, 9), 5);
	for (k = 0; k < 8; k++)
		assert_ptr_equal(out[k], in[k]);
	assert_int_equal(ring_count(r), 0);
	assert_int_equal(ring_dequeue_burst_spsc(r, out, 1), 0);
	ring_destroy(r);
}

static void test_wrap_boundary(void **state)
{
	void *in[16], *out[16];
	struct ring *r = NULL;
	uint32_t k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(in); k++)
		in[k] = obj(k + 1);
	/* head wraps to 4 while tail is still at UINT32_MAX - 3. */
	assert_int_equal(ring_create_spsc_at(&r, 8, UINT32_MAX - 3), 0);
	assert_int_equal(ring_enqueue_burst_spsc(r, in, 8), 8);
	assert_int_equal(ring_count(r), 8);
	assert_int_equal(ring_free_count(r), 0);
	assert_int_equal(ring_enqueue_burst_spsc(r, in + 8, 1), 0);

	assert_int_equal(ring_dequeue_burst_spsc(r, out, 5), 5);
	assert_int_equal(ring_count(r), 3);
	assert_int_equal(ring_enqueue_burst_spsc(r, in + 8, 8), 5);
	assert_int_equal(ring_dequeue_burst_spsc(r, out + 5, 16), 8);
	for (k = 0; k < 13; k++)
		assert_ptr_equal(out[k], in[k]);
	assert_int_equal(ring_count(r), 0);
	assert_int_equal(ring_free_count(r), 8);
	assert_int_equal(ring_dequeue_burst_spsc(r, out, 1), 0);
	ring_destroy(r);
}

static void test_bad_size(void **state)
{
	static const uint32_t bad[] = {
		0, 3, 6, 1000, RING_MAX_SIZE << 1, UINT32_MAX};
	struct ring *untouched = (struct ring *)&untouched;
	struct ring *r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = untouched;
		assert_int_equal(ring_create_spsc(&r, bad[i]), -EINVAL);
		assert_ptr_equal(r, untouched);
	}
	ring_destroy(NULL);
}

/* ---- two threads ---- */

#define STRESS_N	 5000000u
#define STRESS_SIZE	 64
#define STRESS_MAX_BURST 100 /* > STRESS_SIZE: some bursts must be partial */
#define STRESS_WATCHDOG	 120 /* seconds; a hang guard, not a timing */

struct stress {
	struct ring *r;
	atomic_bool done;
};

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	void *batch[STRESS_MAX_BURST];
	uint32_t seed = 0xc0ffee11u;
	uintptr_t next = 0;

	while (next < STRESS_N) {
		uint32_t want = 1 + xorshift32(&seed) % STRESS_MAX_BURST;
		uint32_t k;

		want = (uint32_t)MIN((uintptr_t)want, STRESS_N - next);
		for (k = 0; k < want; k++)
			batch[k] = obj(next + k);
		k = ring_enqueue_burst_spsc(s->r, batch, want);
		if (!k)
			sched_yield(); /* full: let the consumer run */
		next += k;
	}
	atomic_store_explicit(&s->done, true, memory_order_release);
	return NULL;
}

static void test_stress_two_threads(void **state)
{
	uintptr_t expected = 0, bad_at = 0, bad_val = 0;
	void *batch[STRESS_MAX_BURST];
	uint32_t seed = 0x5eed5eedu;
	unsigned long errors = 0;
	struct stress s;
	pthread_t prod;

	(void)state;
	/* The indices wrap early in the run. */
	assert_int_equal(
		ring_create_spsc_at(&s.r, STRESS_SIZE, UINT32_MAX - 1000), 0);
	atomic_init(&s.done, false);
	alarm(STRESS_WATCHDOG);
	assert_int_equal(pthread_create(&prod, NULL, stress_producer, &s), 0);

	/*
	 * Consume on this thread without cmocka asserts (a failed assert
	 * would leave the producer spinning on a full ring); record, resync
	 * on the value seen and go on until the producer is done and the ring
	 * is empty.
	 */
	for (;;) {
		uint32_t got = ring_dequeue_burst_spsc(
			s.r, batch, 1 + xorshift32(&seed) % STRESS_MAX_BURST);
		uint32_t k;

		if (!got) {
			/* Acquire: pairs with the release store of done. */
			if (!atomic_load_explicit(&s.done,
						  memory_order_acquire)) {
				sched_yield();
				continue;
			}
			/* done is set after the last enqueue: look again. */
			got = ring_dequeue_burst_spsc(s.r, batch,
						      STRESS_MAX_BURST);
			if (!got)
				break;
		}
		for (k = 0; k < got; k++) {
			if (val(batch[k]) != expected && !errors++) {
				bad_at = expected;
				bad_val = val(batch[k]);
			}
			expected = val(batch[k]) + 1;
		}
	}
	assert_int_equal(pthread_join(prod, NULL), 0);
	alarm(0);

	if (errors)
		print_message(
			"%lu out of order; first: expected %lu, got %lu\n",
			errors, (unsigned long)bad_at, (unsigned long)bad_val);
	assert_int_equal(errors, 0);
	assert_int_equal(expected, STRESS_N);
	assert_int_equal(ring_count(s.r), 0);
	ring_destroy(s.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_wrap_model),
		cmocka_unit_test(test_full_empty),
		cmocka_unit_test(test_wrap_boundary),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_stress_two_threads),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
