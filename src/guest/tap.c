// SPDX-License-Identifier: MIT
/*
 * tap.c - the TAP guest port: a TAP device with offloads, on dp/fdio.
 */
#include "guest/tap.h"

#include <errno.h>

#include "dp/fdio.h"

int tap_open(struct dp_port **out, const struct tap_cfg *cfg)
{
	const struct dp_fdio_dev d = {
		.ifname = cfg->ifname,
		.netns = cfg->netns,
		.tap = true,
		.multi_queue = cfg->multi_queue,
		.mtu = cfg->mtu,
	};

	if (!cfg->ifname || !cfg->ifname[0])
		return -EINVAL;
	return dp_fdio_open(out, &d);
}
