/* SPDX-License-Identifier: MIT */
/*
 * fdio.h - burst I/O of struct dp_buf on a TUN/TAP file descriptor.
 *
 * Theory of operation: a TUN or TAP fd (with IFF_VNET_HDR) moves one packet
 * per read() or write(), preceded by a virtio-net header. There is no batched
 * system call for it, so a burst is a bounded loop of readv()/writev() that
 * stops at EAGAIN. The TAP guest port and the TUN uplink share this code:
 * only whether the packet starts with an Ethernet header differs, and that
 * does not matter here.
 */
#ifndef ARCNAT_DP_FDIO_H
#define ARCNAT_DP_FDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/port.h"

/**
 * dp_fdio_rx_burst() - read up to @n packets from @fd into @bufs.
 * @p:       the port (its stats are updated)
 * @fd:      non-blocking TUN/TAP fd
 * @vnet_len: size of the virtio-net header in front of each packet, 0 if none
 * @bufs:    buffers to fill (reset by this function)
 * @n:       how many
 *
 * Return: packets read; -errno when the device is gone (EBADFD, EIO...).
 */
int dp_fdio_rx_burst(struct dp_port *p, int fd, size_t vnet_len,
		     struct dp_buf **bufs, unsigned int n);

/**
 * dp_fdio_tx_burst() - write @n packets to @fd; borrows the buffers.
 * @p:        the port (its stats are updated)
 * @fd:       non-blocking TUN/TAP fd
 * @vnet_len: size of the virtio-net header, 0 if none
 * @bufs:     packets
 * @n:        how many
 *
 * A packet the device refuses (bad offload metadata, an error) is counted
 * in tx_dropped; the burst goes on with the next one. A full kernel queue
 * (EAGAIN, ENOBUFS) stops the burst: that packet and the rest are the
 * caller's to queue (dp/port.h, back-pressure).
 *
 * Return: packets consumed (written or counted as refused).
 */
unsigned int dp_fdio_tx_burst(struct dp_port *p, int fd, size_t vnet_len,
			      struct dp_buf **bufs, unsigned int n);

/**
 * dp_fdio_port_create() - a struct dp_port over a TUN/TAP fd, using the
 * two functions above; for the TAP guest port and the TUN uplink.
 * @out:      the port
 * @fd:       the device fd; the port owns it from here on, even on failure
 * @flags:    DP_PORT_*
 * @vnet_len: virtio-net header size, 0 if none (then DP_PORT_VNET is ignored)
 * @mtu:      the device's MTU
 * @name:     for logs
 *
 * Return: 0 or -ENOMEM.
 */
int dp_fdio_port_create(struct dp_port **out, int fd, uint32_t flags,
			size_t vnet_len, unsigned int mtu, const char *name);

/**
 * struct dp_fdio_dev - a TUN/TAP device to open and set up.
 * @ifname:     device name (created if absent)
 * @netns:      namespace to open it in (name or path), NULL = ours
 * @tap:        TAP (Ethernet) rather than TUN (IP)
 * @multi_queue: IFF_MULTI_QUEUE
 * @mtu:        MTU to set, 0 to keep
 * @route_plen: with @route_dst, add the route @route_dst/@route_plen via
 *              the device (0 = no route)
 * @route_dst:  network order
 */
struct dp_fdio_dev {
	const char *ifname;
	const char *netns;
	bool tap;
	bool multi_queue;
	unsigned int mtu;
	unsigned int route_plen;
	uint32_t route_dst;
};

/**
 * dp_fdio_open() - open a TUN/TAP device with IFF_VNET_HDR and offloads in
 * its namespace, set its MTU, bring it up and add its route (netlink), and
 * wrap it in a port.
 * @out: the port (DP_PORT_VNET, plus DP_PORT_L3 for a TUN)
 * @d:   the device
 *
 * Return: 0 or -errno (see tuntap_open(), netns_enter(), nl_*()); a message
 * saying which step failed is logged.
 */
int dp_fdio_open(struct dp_port **out, const struct dp_fdio_dev *d);

#endif /* ARCNAT_DP_FDIO_H */
