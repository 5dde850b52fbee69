/* SPDX-License-Identifier: MIT */
/*
 * packet.h - the AF_PACKET uplink: arcnat owns an external IPv4 address on
 * an existing Ethernet interface and speaks for it itself.
 *
 * Theory of operation. One raw AF_PACKET socket (ETH_P_ALL, bound to the
 * interface, PACKET_VNET_HDR so that GSO super-frames and checksum offload
 * cross it whole) carries every frame. A classic BPF filter in the kernel
 * keeps only what can be ours: frames to our MAC or broadcast, without a
 * VLAN tag, that are ARP or IPv4 to the external address; rx_burst() checks
 * the same again in C, so the filter is only an optimisation.
 *
 * The pipeline never sees the link layer (DP_PORT_L3): received IPv4
 * frames lose their Ethernet header (the offload metadata is shifted to
 * match), and ARP frames are consumed by the port's own ARP endpoint
 * (svc/arp.h), which answers for the external address with the interface's
 * MAC. On transmit, the next hop is the destination itself when it is
 * inside ext_addr/ext_plen, else next_hop; its MAC comes from the ARP
 * endpoint, and the Ethernet header is written into the buffer's headroom
 * so that a whole burst goes out in one sendmmsg() without a copy. A packet
 * whose next hop is not resolved yet is copied into the endpoint's hold
 * queue and sent from the deliver callback when the reply arrives (during
 * a later rx_burst()); arp_tick() repeats requests and expires what waits
 * too long.
 *
 * The kernel of the namespace that holds the interface must not own the
 * external address (nor answer ARP for it), or both would reply; its own
 * address on the interface, if any, is not used. Frames the kernel itself
 * sends on the interface are not seen (PACKET_IGNORE_OUTGOING).
 */
#ifndef ARCNAT_UPLINK_PACKET_H
#define ARCNAT_UPLINK_PACKET_H

#include <stdint.h>

#include "dp/port.h"
#include "svc/arp.h"

/* Neighbour table of the uplink's ARP endpoint. */
#define PACKET_UPLINK_NEIGH	1024
/* Socket buffers asked for (SO_RCVBUFFORCE, else SO_RCVBUF up to the limit). */
#define PACKET_UPLINK_SOCKBUF	(4 << 20)

/**
 * struct packet_uplink_cfg - the AF_PACKET uplink.
 * @ifname:    existing Ethernet interface; its own kernel address, if any,
 *             is not used
 * @netns:     NULL = the current namespace; else (a name under /run/netns
 *             or a path) entered to open the socket, then left again
 * @ext_addr:  the external IPv4 address arcnat owns on that link, network
 *             order
 * @ext_plen:  its prefix length, 1..32 (0 means 32): destinations inside
 *             are on-link
 * @next_hop:  router for everything else, network order; 0 = none
 *             (off-link destinations are a counted drop)
 */
struct packet_uplink_cfg {
	const char *ifname;
	const char *netns;
	uint32_t ext_addr;
	unsigned int ext_plen;
	uint32_t next_hop;
};

/**
 * struct packet_uplink_stats - the port's own counters, beside the
 * struct dp_port_stats ones (rx_errors: truncated or unreadable frames;
 * tx_dropped: every packet not sent or held).
 * @rx_arp:       ARP frames handed to the ARP endpoint
 * @rx_foreign:   frames for another host (multicast, other MAC)
 * @rx_not_ours:  frames of other kinds: IPv6, other EtherTypes, VLAN-tagged,
 *                IPv4 to an address that is not ours
 * @tx_held:      packets given to the ARP hold queue
 * @tx_no_route:  off-link packets without a next hop, packets to our own
 *                address, and martians (pkt/martian.h: the worker drops
 *                those first), never sent
 * @tx_released:  held packets sent once their next hop was resolved
 * @tx_arp_errors: ARP frames the socket refused
 */
struct packet_uplink_stats {
	uint64_t rx_arp;
	uint64_t rx_foreign;
	uint64_t rx_not_ours;
	uint64_t tx_held;
	uint64_t tx_no_route;
	uint64_t tx_released;
	uint64_t tx_arp_errors;
};

/**
 * packet_uplink_open() - open the AF_PACKET uplink on an interface.
 * @out: the port (DP_PORT_L3 | DP_PORT_VNET); NULL on failure
 * @cfg: configuration (not kept)
 *
 * Reads the interface's index, MAC and MTU over netlink, opens and binds
 * the socket (inside cfg->netns if given) and makes the ARP endpoint. The
 * interface is used as it is: it is not brought up, and a warning is
 * logged if it is down.
 *
 * Return: 0; -EINVAL (no name, no address, a prefix above 32, an interface
 * without an Ethernet address); -ENODEV no such interface; -EPERM (no
 * CAP_NET_RAW, or not allowed into the namespace); -ENOMEM; -errno.
 */
int packet_uplink_open(struct dp_port **out, const struct packet_uplink_cfg *cfg);

/**
 * packet_uplink_arp_stats() - the counters of the uplink's ARP endpoint.
 * @p: a port made by packet_uplink_open()
 *
 * Return: a pointer valid until the port is destroyed.
 */
const struct arp_stats *packet_uplink_arp_stats(const struct dp_port *p);

/**
 * packet_uplink_stats() - the uplink's own counters.
 * @p: a port made by packet_uplink_open()
 *
 * Return: a pointer valid until the port is destroyed.
 */
const struct packet_uplink_stats *packet_uplink_stats(const struct dp_port *p);

#endif /* ARCNAT_UPLINK_PACKET_H */
