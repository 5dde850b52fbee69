// SPDX-License-Identifier: MIT
/*
 * tun.c - the TUN uplink: a TUN device with offloads and a route, on dp/fdio.
 */
#include "uplink/tun.h"

#include <arpa/inet.h>
#include <errno.h>

#include "dp/fdio.h"
#include "prot/ip4.h"

int tun_uplink_open(struct dp_port **out, const struct tun_uplink_cfg *cfg)
{
	struct dp_fdio_dev d = {
		.ifname = cfg->ifname,
		.netns = cfg->netns,
		.mtu = cfg->mtu,
		.route_plen = cfg->ext_plen ? cfg->ext_plen : 32,
	};

	if (!cfg->ifname || !cfg->ifname[0] || cfg->ext_plen > 32)
		return -EINVAL;
	d.route_dst = cfg->ext_addr & ip4_prefix_mask(d.route_plen);
	return dp_fdio_open(out, &d);
}
