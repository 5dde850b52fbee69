// SPDX-License-Identifier: MIT
#include "ct/timeouts.h"

#include <errno.h>

#include "core/compiler.h"

static const char *const ct_timeout_names[CT_TO__MAX] = {
	[CT_TO_TCP_ESTABLISHED] = "tcp_established",
	[CT_TO_TCP_TRANSITORY] = "tcp_transitory",
	[CT_TO_TCP_TIME_WAIT] = "tcp_time_wait",
	[CT_TO_TCP_CLOSE] = "tcp_close",
	[CT_TO_UDP_UNREPLIED] = "udp_unreplied",
	[CT_TO_UDP_ASSURED] = "udp_assured",
	[CT_TO_ICMP] = "icmp",
};

void ct_timeouts_default(struct ct_timeouts *t)
{
	t->sec[CT_TO_TCP_ESTABLISHED] = CT_TO_DEFAULT_TCP_ESTABLISHED;
	t->sec[CT_TO_TCP_TRANSITORY] = CT_TO_DEFAULT_TCP_TRANSITORY;
	t->sec[CT_TO_TCP_TIME_WAIT] = CT_TO_DEFAULT_TCP_TIME_WAIT;
	t->sec[CT_TO_TCP_CLOSE] = CT_TO_DEFAULT_TCP_CLOSE;
	t->sec[CT_TO_UDP_UNREPLIED] = CT_TO_DEFAULT_UDP_UNREPLIED;
	t->sec[CT_TO_UDP_ASSURED] = CT_TO_DEFAULT_UDP_ASSURED;
	t->sec[CT_TO_ICMP] = CT_TO_DEFAULT_ICMP;
}

int ct_timeouts_validate(const struct ct_timeouts *t, bool allow_short_udp)
{
	for (unsigned int i = 0; i < CT_TO__MAX; i++) {
		if (t->sec[i] == 0 || t->sec[i] > CT_TO_MAX)
			return -EINVAL;
	}
	if (!allow_short_udp && (t->sec[CT_TO_UDP_UNREPLIED] < CT_TO_UDP_MIN ||
				 t->sec[CT_TO_UDP_ASSURED] < CT_TO_UDP_MIN))
		return -EINVAL;
	return 0;
}

const char *ct_timeout_name(enum ct_timeout_class c)
{
	if ((unsigned int)c >= CT_TO__MAX)
		return "invalid";
	return ct_timeout_names[c];
}
