/* SPDX-License-Identifier: MIT */
/*
 * worker_cfg.h - what a worker is made from (dp_worker_create(),
 * dp/worker.h): its ports, NAT, addresses and services.
 */
#ifndef ARCNAT_DP_WORKER_CFG_H
#define ARCNAT_DP_WORKER_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/pcap.h"
#include "dp/persist.h"
#include "dp/port.h"
#include "nat/nat.h"
#include "svc/dhcp.h"
#include "svc/dns.h"

/**
 * struct dp_config - what a worker forwards between.
 * @inside:         the first guest port (Ethernet frames); borrowed; its
 *                  MTU is the guest segment's
 * @outside:        uplink (DP_PORT_L3); borrowed
 * @nat:            the NAT; borrowed, used only by this worker
 * @gw_addr:        the gateway's inside address, network order
 * @gw_plen:        inside prefix length
 * @gw_mac:         the gateway's MAC on the inside
 * @pcap:           capture of both ports, or NULL; borrowed
 * @stats_interval: seconds between summary lines, 0 for none
 * @stats_out:      where statistics go (stderr when NULL)
 * @dhcp:           DHCP server parameters, NULL for none (dp/services.h)
 * @dns:            DNS forwarder parameters, NULL for none
 * @ext_addr:       the external address (source of upstream DNS queries)
 * @ext_plen:       its prefix length on the uplink (0: none known); the
 *                  broadcast address of that subnet is no destination
 * @no_dst_addr:    a subnet the uplink keeps for itself, which no guest may
 *                  address (a counted martian, dst_uplink_range): the
 *                  socket uplink's 198.18.0.0/15
 * @no_dst_plen:    its prefix length (0: none)
 * @leases:         the lease file's writer, or NULL (dp/services.h)
 * @isolate:        guests reach only the gateway, never each other: no
 *                  frame between guest ports (dp/switch.h), no packet
 *                  routed from one guest to another
 * @no_gro:         never join guests' TCP segments into super-frames
 *                  (pkt/gro.h; joining needs an uplink with DP_PORT_VNET)
 * @busy_poll_ns:   after a port's event, poll (epoll_wait() without
 *                  sleeping, yielding the CPU between polls) for this
 *                  long before sleeping again; 0: always sleep. A
 *                  request's answer is often a few tens of microseconds
 *                  away, less than a sleeping thread takes to be woken
 *                  on a virtual CPU (docs/performance.md)
 */
struct dp_config {
	struct dp_port *inside;
	struct dp_port *outside;
	struct nat *nat;
	uint32_t gw_addr;
	unsigned int gw_plen;
	uint8_t gw_mac[6];
	struct dp_pcap *pcap;
	unsigned int stats_interval;
	FILE *stats_out;
	const struct dhcp_cfg *dhcp;
	const struct dns_cfg *dns;
	uint32_t ext_addr;
	unsigned int ext_plen;
	uint32_t no_dst_addr;
	unsigned int no_dst_plen;
	struct dp_persist *leases;
	bool isolate;
	bool no_gro;
	uint64_t busy_poll_ns;
};

#endif /* ARCNAT_DP_WORKER_CFG_H */
