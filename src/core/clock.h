/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the time source: read once per batch, passed down as `now`.
 *
 * Theory of operation: a worker calls clock_read() once when it wakes and
 * hands the value (nanoseconds, CLOCK_MONOTONIC) to everything it calls for
 * that batch. Nothing below the worker reads the clock itself, so expiry,
 * rate limits and timeouts are pure functions of `now` and can be tested
 * deterministically with a manual clock that the test advances by hand.
 */
#ifndef ARCNAT_CORE_CLOCK_H
#define ARCNAT_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

/**
 * struct clock - a monotonic or a manual (test) clock.
 * @now_ns: the value returned by the last clock_read() (or set by hand)
 * @manual: true for a test clock that only clock_advance()/clock_set() move
 */
struct clock {
	uint64_t now_ns;
	bool manual;
};

/**
 * clock_init_monotonic() - a clock backed by CLOCK_MONOTONIC.
 * @c: clock to initialise; it is read once so that clock_now() is valid
 */
void clock_init_monotonic(struct clock *c);

/**
 * clock_init_manual() - a test clock that moves only when told to.
 * @c:        clock to initialise
 * @start_ns: its first value; tests usually start well above 0 so that
 *            "deadline 0 = none" conventions cannot hide bugs
 */
void clock_init_manual(struct clock *c, uint64_t start_ns);

/**
 * clock_read() - read the time source once and remember the value.
 * @c: clock
 *
 * Return: nanoseconds on the monotonic scale (manual clocks: the set value).
 * Call this once per batch; use clock_now() or the returned value after.
 */
uint64_t clock_read(struct clock *c);

/**
 * clock_advance() - move a manual clock forward.
 * @c:     a manual clock (asserts otherwise: moving real time is a bug)
 * @delta: nanoseconds to add
 */
void clock_advance(struct clock *c, uint64_t delta);

/**
 * clock_now() - the value of the last clock_read(), without a syscall.
 * @c: clock
 *
 * Return: nanoseconds.
 */
static inline uint64_t clock_now(const struct clock *c)
{
	return c->now_ns;
}

#endif /* ARCNAT_CORE_CLOCK_H */
