/* SPDX-License-Identifier: MIT */
/*
 * stats.h - per-worker datapath counters and their printed form.
 *
 * Theory of operation: each worker owns its counters and is the only one to
 * write them, so they are plain integers. Nobody reads them from another
 * thread: the worker prints them itself when asked (dp_worker_request_stats())
 * and at exit, so no counter is ever read torn. Drops are counted where they
 * happen, by the layer that decided them: the parser (enum pkt_drop), the NAT
 * (enum nat_drop, in struct nat_stats), the datapath itself (enum dp_drop
 * below) and the devices (struct dp_port_stats tx_dropped and tx_lost);
 * the total is their sum.
 */
#ifndef ARCNAT_DP_STATS_H
#define ARCNAT_DP_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "pkt/drop.h"
#include "pkt/martian.h"

/* X(enum suffix, name, what it means); the martian rule's reasons
 * (pkt/martian.h) are the worker's drops too, under their own names. */
#define DP_DROP_LIST(X)                                                        \
	X(NONE, "none", "not dropped")                                         \
	X(IPV6, "ipv6", "IPv6: the gateway translates IPv4 only")              \
	X(ETHERTYPE, "ethertype", "neither IPv4, IPv6 nor ARP")                \
	X(VLAN, "vlan", "802.1Q-tagged frame on an untagged port")             \
	X(TO_GATEWAY, "to_gateway", "for the gateway address, no service for it") \
	X(ECHO_LIMIT, "echo_limit", "echo request over the reply rate limit")   \
	X(NO_ROUTE, "no_route", "translated to an address off the inside subnet") \
	X(NO_NEIGH, "no_neigh", "guest MAC unknown and the packet not holdable (queue full, over 9216 bytes)") \
	X(NEIGH_TIMEOUT, "neigh_timeout", "held for a guest that never answered ARP") \
	X(TOO_BIG, "too_big", "over the egress MTU with DF set (answered with ICMP fragmentation needed unless rate-limited, an ICMP error or a later fragment)") \
	X(ISOLATED, "isolated", "--isolate: a guest's packet for another guest's address, sent to the gateway") \
	X(TTL, "ttl", "routed from one guest to another with TTL 1 or 0 (no ICMP time exceeded)") \
	X(CANNOT_FRAGMENT, "cannot_fragment", "over the egress MTU without DF and cannot be cut (a USO super-frame, an MTU below its header + 8, offsets past 64 KiB)") \
	PKT_MARTIAN_LIST(X)

enum dp_drop {
#define DP_DROP_ENUM(sym, name, desc) DP_DROP_##sym,
	DP_DROP_LIST(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP__MAX
};

/* Batch-size histogram buckets: 1, 2-3, 4-7, ..., 32-63, 64 (DP_BURST_MAX). */
#define DP_HIST_BUCKETS 7

/**
 * struct dp_stats - one worker's counters.
 * @drops:      datapath drops per enum dp_drop (neigh_timeout is not kept
 *              here: the ARP endpoint counts it, as hold_expired)
 * @pkt_drops:  parser drops per enum pkt_drop
 * @batch_hist: receive bursts by size, log2 buckets
 * @wakeups:    epoll wakeups
 * @busy_polled: of those, the ones whose port events busy polling found
 *              (the worker did not sleep for them; dp_config.busy_poll_ns)
 * @arp_in:     ARP frames handed to the inside ARP endpoint
 * @echo:       echo requests answered
 * @held:       packets held waiting for a guest's MAC
 * @gro_joined: TCP segments from guests joined to the one before them
 *              (pkt/gro.h)
 * @gro_frames: super-frames so made
 */
struct dp_stats {
	uint64_t drops[DP_DROP__MAX];
	uint64_t pkt_drops[PKT_DROP__MAX];
	uint64_t batch_hist[DP_HIST_BUCKETS];
	uint64_t wakeups;
	uint64_t busy_polled;
	uint64_t arp_in;
	uint64_t echo;
	uint64_t held;
	uint64_t gro_joined;
	uint64_t gro_frames;
};

/**
 * dp_drop_name() - stable short name of a datapath drop reason.
 * @reason: reason; out of range gives "invalid"
 *
 * Return: a static string.
 */
const char *dp_drop_name(enum dp_drop reason);

/**
 * dp_drop_of_martian() - the drop reason that counts a martian.
 * @m: a reason of pkt_martian(), not PKT_MARTIAN_NONE
 *
 * Return: DP_DROP_<the same name>.
 */
enum dp_drop dp_drop_of_martian(enum pkt_martian m);

/**
 * dp_stats_hist_bucket() - histogram bucket of a burst of @n packets.
 * @n: burst size, at least 1
 *
 * Return: the bucket index, below DP_HIST_BUCKETS.
 */
unsigned int dp_stats_hist_bucket(unsigned int n);

struct nat;
struct arp;
struct dp_ports;
struct dp_svc;
struct dp_mtu;
struct dp_switch;

/**
 * struct dp_stats_view - what one worker's statistics are read from (all
 * borrowed, read only).
 * @st:    the worker's own counters
 * @nat:   its NAT (and connection table)
 * @arp:   its inside ARP endpoint
 * @ports: its ports
 * @svc:   its services
 * @mtu:   its MTU handling
 * @sw:    its switch
 */
struct dp_stats_view {
	const struct dp_stats *st;
	struct nat *nat;
	const struct arp *arp;
	const struct dp_ports *ports;
	const struct dp_svc *svc;
	const struct dp_mtu *mtu;
	const struct dp_switch *sw;
};

/**
 * dp_stats_total_drops() - every drop of a worker, summed: the datapath's,
 * the parser's, the NAT's, the services', the switch's and the ports'.
 * @v: what to read
 *
 * Return: the sum (drops.total).
 */
uint64_t dp_stats_total_drops(const struct dp_stats_view *v);

/**
 * dp_stats_print_summary() - the one-line summary (--stats-interval).
 * @v: what to read
 * @f: stream
 */
void dp_stats_print_summary(const struct dp_stats_view *v, FILE *f);

/**
 * dp_stats_print() - the statistics block: `stat NAME VALUE` lines between
 * "arcnat: statistics" and "arcnat: end of statistics".
 * @v: what to read
 * @f: stream
 */
void dp_stats_print(const struct dp_stats_view *v, FILE *f);

#endif /* ARCNAT_DP_STATS_H */
