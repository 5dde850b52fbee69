/* SPDX-License-Identifier: MIT */
/*
 * route.h - the gateway's last hop into the guest segment.
 *
 * Theory of operation: a packet the gateway forwards to a guest (translated
 * by the NAT, an echo reply, a guest's packet routed back in) is an IP
 * packet for an address of the guest subnet. Its next hop is that address
 * itself: the guest's MAC comes from the ARP endpoint, and the packet gets
 * an Ethernet header from the gateway's MAC to it. A guest whose MAC is not
 * known yet gets the packet later: it waits in ARP's hold queue (svc/arp.h)
 * while ARP asks, and the hold's deliver() callback writes the header. An
 * address outside the subnet has no route (the gateway has one interface
 * inside). A guest's packet for another guest's address, sent to the
 * gateway's MAC, is routed back in as a router would (TTL one less, no ICMP
 * redirect), or dropped with --isolate.
 *
 * The worker's drops and "held" are counted in its dp_stats. One per
 * worker, no locking.
 */
#ifndef ARCNAT_DP_ROUTE_H
#define ARCNAT_DP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/port.h"
#include "dp/stats.h"
#include "pkt/meta.h"
#include "prot/eth.h"

struct arp;

/**
 * struct dp_route - what the last hop needs.
 * @arp:     the inside ARP endpoint (borrowed)
 * @st:      the worker's counters (borrowed)
 * @gw_addr: the gateway's inside address, network order
 * @gw_mask: its subnet's mask, network order
 * @gw_mac:  the gateway's inside MAC: every header's source
 * @isolate: guests may not reach each other (dp_config.isolate)
 */
struct dp_route {
	struct arp *arp;
	struct dp_stats *st;
	uint32_t gw_addr;
	uint32_t gw_mask;
	uint8_t gw_mac[ETH_ALEN];
	bool isolate;
};

/**
 * dp_route_on_segment() - whether @addr is in the guest subnet.
 * @r:    route
 * @addr: IPv4 address, network order
 *
 * Return: true for any address of the subnet, the gateway's included.
 */
static inline bool dp_route_on_segment(const struct dp_route *r, uint32_t addr)
{
	return (addr & r->gw_mask) == (r->gw_addr & r->gw_mask);
}

/**
 * dp_route_eth() - write an IPv4 frame's Ethernet header from the gateway.
 * @r:     route
 * @frame: ETH_HLEN writable bytes
 * @dst:   the guest's MAC
 */
void dp_route_eth(const struct dp_route *r, uint8_t *frame,
		  const uint8_t dst[ETH_ALEN]);

/**
 * dp_route_hold() - keep an IP packet in ARP's hold queue until its guest
 * answers; counted in @r->st as held, or as a no_neigh drop.
 * @r:    route
 * @dst:  the guest's address, network order
 * @pkt:  the IP packet (copied: borrowed for the call)
 * @len:  its length
 * @vnet: its offload metadata relative to @pkt, or NULL
 * @now:  time
 */
void dp_route_hold(struct dp_route *r, uint32_t dst, const uint8_t *pkt,
		   size_t len, const struct pkt_vnet *vnet, uint64_t now);

/**
 * dp_route_to_guest() - give a packet for a guest its Ethernet header.
 * @r:   route
 * @b:   the buffer (borrowed)
 * @m:   its parse result: l3_off is ETH_HLEN for a frame from the inside,
 *       0 for a packet from an L3 uplink (the header then goes into the
 *       headroom)
 * @now: time
 *
 * Return: true if @b is ready to send; false if it was held for ARP (the
 * ARP endpoint copied it) or dropped (counted).
 */
bool dp_route_to_guest(struct dp_route *r, struct dp_buf *b,
		       const struct pkt_meta *m, uint64_t now);

/**
 * dp_route_inside() - route a guest's packet for another guest back in.
 * @r:   route
 * @b:   the frame, sent to the gateway's MAC (borrowed)
 * @m:   its parse result; the destination is on the segment and is not
 *       the gateway's address
 * @now: time
 *
 * It is never NATed nor sent out of the uplink: with isolate a counted
 * drop; else it goes to that guest as a router would send it (TTL one
 * less, the guest's MAC from ARP; no ICMP redirect, TTL 1 a counted drop).
 *
 * Return: as dp_route_to_guest().
 */
bool dp_route_inside(struct dp_route *r, struct dp_buf *b,
		     const struct pkt_meta *m, uint64_t now);

#endif /* ARCNAT_DP_ROUTE_H */
