// SPDX-License-Identifier: MIT
/*
 * stats.c - names of datapath drop reasons, the martian rule's reasons
 * among them, batch histogram buckets.
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

static const enum dp_drop dp_martian_drops[PKT_MARTIAN__MAX] = {
#define DP_MARTIAN_DROP(sym, name, desc) [PKT_MARTIAN_##sym] = DP_DROP_##sym,
	PKT_MARTIAN_LIST(DP_MARTIAN_DROP)
#undef DP_MARTIAN_DROP
};

enum dp_drop dp_drop_of_martian(enum pkt_martian m)
{
	if ((unsigned int)m >= PKT_MARTIAN__MAX)
		return DP_DROP_NONE;
	return dp_martian_drops[m];
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
