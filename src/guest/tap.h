/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the Linux TAP guest port.
 *
 * Theory of operation: arcnat opens (creating it if needed) a TAP device in
 * the guests' network namespace, with IFF_VNET_HDR and every offload the
 * kernel takes (checksum, TSO4, TSO6, USO), so that the guest kernel hands
 * over 64 KiB GSO super-frames with unfinished checksums and accepts them
 * back: NAT rewrites their headers once and the offload metadata stays valid
 * (pkt/vnet.h). The device is brought up with the configured MTU through
 * netlink. Guests configure their own addresses; arcnat is the wire and the
 * router at its other end. IFF_MULTI_QUEUE is requested when asked, so that
 * later workers can each open a queue of the same device.
 */
#ifndef ARCNAT_GUEST_TAP_H
#define ARCNAT_GUEST_TAP_H

#include <stdbool.h>

#include "dp/port.h"

/**
 * struct tap_cfg - where and how to open the TAP.
 * @ifname:      device name; attached if it exists, created otherwise
 * @netns:       namespace (name under /run/netns or a path), NULL = ours
 * @mtu:         MTU to set, 0 to keep the device's
 * @multi_queue: open with IFF_MULTI_QUEUE
 */
struct tap_cfg {
	const char *ifname;
	const char *netns;
	unsigned int mtu;
	bool multi_queue;
};

/**
 * tap_open() - open the TAP guest port.
 * @out: the port
 * @cfg: configuration
 *
 * Return: 0; -ENOENT no such namespace; -EPERM no CAP_NET_ADMIN; -EBUSY the
 * device exists with other flags or another process holds it; -EINVAL bad
 * name or MTU; -errno.
 */
int tap_open(struct dp_port **out, const struct tap_cfg *cfg);

#endif /* ARCNAT_GUEST_TAP_H */
