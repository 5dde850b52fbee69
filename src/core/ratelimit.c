// SPDX-License-Identifier: MIT
#include "core/ratelimit.h"

#include "core/assert.h"

void ratelimit_init(struct ratelimit *rl, uint32_t burst, uint64_t interval_ns)
{
	ARC_ASSERT(interval_ns > 0);
	rl->interval_ns = interval_ns;
	rl->burst = burst;
	rl->window_start = 0;
	rl->used = 0;
	rl->missed = 0;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now)
{
	/*
	 * A new window opens when none is open yet or the current one has
	 * ended. `now` below window_start (a caller mixing clocks) also opens
	 * one rather than locking the limiter shut for the wrap-around time.
	 */
	if (rl->window_start == 0 || now < rl->window_start ||
	    now - rl->window_start >= rl->interval_ns) {
		rl->window_start = now ? now : 1;
		rl->used = 0;
	}
	if (rl->used < rl->burst) {
		rl->used++;
		return true;
	}
	rl->missed++;
	return false;
}

uint64_t ratelimit_take_missed(struct ratelimit *rl)
{
	uint64_t m = rl->missed;

	rl->missed = 0;
	return m;
}
