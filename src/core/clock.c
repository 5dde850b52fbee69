// SPDX-License-Identifier: MIT
#include "core/clock.h"

#include <time.h>

#include "core/assert.h"

static uint64_t clock_monotonic_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
	ARC_ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void clock_init_monotonic(struct clock *c)
{
	c->manual = false;
	c->now_ns = clock_monotonic_ns();
}

void clock_init_manual(struct clock *c, uint64_t start_ns)
{
	c->manual = true;
	c->now_ns = start_ns;
}

uint64_t clock_read(struct clock *c)
{
	if (!c->manual)
		c->now_ns = clock_monotonic_ns();
	return c->now_ns;
}

void clock_advance(struct clock *c, uint64_t delta)
{
	ARC_ASSERT(c->manual);
	ARC_ASSERT(c->now_ns + delta >= c->now_ns);
	c->now_ns += delta;
}
