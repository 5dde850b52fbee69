/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.h - "at most N events per interval", driven by a passed-in `now`.
 *
 * Used by the logger (a flood of bad packets must not become a flood of log
 * lines) and later by services that answer at a bounded rate (ICMP echo for
 * the gateway). Fixed windows, as the kernel's ___ratelimit(): cheap, no
 * floating point, and the count of suppressed events is kept so that it can
 * be reported when the next window opens.
 */
#ifndef ARCNAT_CORE_RATELIMIT_H
#define ARCNAT_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/**
 * struct ratelimit - state of one limiter.
 * @interval_ns:  window length
 * @burst:        events allowed per window (0 allows none)
 * @window_start: start of the current window; 0 = no window yet
 * @used:         events allowed in the current window
 * @missed:       events refused since ratelimit_take_missed() last ran
 */
struct ratelimit {
	uint64_t interval_ns;
	uint64_t window_start;
	uint64_t missed;
	uint32_t burst;
	uint32_t used;
};

/**
 * ratelimit_init() - set up a limiter.
 * @rl:          limiter
 * @burst:       events allowed per window
 * @interval_ns: window length in nanoseconds (> 0)
 */
void ratelimit_init(struct ratelimit *rl, uint32_t burst, uint64_t interval_ns);

/**
 * ratelimit_allow() - account one event.
 * @rl:  limiter
 * @now: current time (nanoseconds, monotonic)
 *
 * Return: true if the event may happen; false if it is over the limit, in
 * which case it is counted in @rl->missed.
 */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now);

/**
 * ratelimit_take_missed() - read and reset the count of refused events.
 * @rl: limiter
 *
 * Return: events refused since the last call.
 */
uint64_t ratelimit_take_missed(struct ratelimit *rl);

#endif /* ARCNAT_CORE_RATELIMIT_H */
