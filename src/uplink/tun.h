/* SPDX-License-Identifier: MIT */
/*
 * tun.h - the L3 TUN uplink: translated packets go to the host kernel.
 *
 * Theory of operation: arcnat creates a TUN device (IFF_VNET_HDR with the
 * same offloads as the TAP, so GSO super-frames cross it whole) in the
 * namespace whose kernel routes for it, brings it up and adds a route for
 * the external prefix through it, so that the kernel sends replies to the
 * external address back into the TUN. That kernel must forward
 * (net.ipv4.ip_forward=1) between the TUN and its real interfaces and must
 * not own the external address itself. This is the Linux counterpart of the
 * macOS utun uplink (uplink/utun.h).
 */
#ifndef ARCNAT_UPLINK_TUN_H
#define ARCNAT_UPLINK_TUN_H

#include <stdint.h>

#include "dp/port.h"

/**
 * struct tun_uplink_cfg - the TUN uplink.
 * @ifname:   TUN device name (created if absent)
 * @netns:    namespace for it, NULL = ours
 * @mtu:      its MTU, 0 to keep the default
 * @ext_addr: external address, network order
 * @ext_plen: prefix routed into the TUN (32 for just the address)
 */
struct tun_uplink_cfg {
	const char *ifname;
	const char *netns;
	unsigned int mtu;
	uint32_t ext_addr;
	unsigned int ext_plen;
};

/**
 * tun_uplink_open() - create or attach the TUN and set it up.
 * @out: the port (DP_PORT_L3 | DP_PORT_VNET)
 * @cfg: configuration
 *
 * Return: 0, -EINVAL (no name, prefix length above 32), or -errno.
 */
int tun_uplink_open(struct dp_port **out, const struct tun_uplink_cfg *cfg);

#endif /* ARCNAT_UPLINK_TUN_H */
