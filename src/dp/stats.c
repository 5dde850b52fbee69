// SPDX-License-Identifier: MIT
/*
 * stats.c - names of datapath drop reasons, batch histogram buckets.
 */
#include "dp/stats.h"

static const char *const dp_drop_names[DP_DROP__MAX] = {
#define DP_DROP_NAME(sym, name, desc) [DP_DROP_##sym] = (name),
	DP_DROP_LIST(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *dp_drop_name(enum dp_drop reason)
{
	if ((unsigned int)reason >= DP_DROP__MAX)
		return "invalid";
	return dp_drop_names[reason];
}

unsigned int dp_stats_hist_bucket(unsigned int n)
{
	unsigned int b = 0;

	while (n > 1 && b < DP_HIST_BUCKETS - 1) {
		n >>= 1;
		b++;
	}
	return b;
}
