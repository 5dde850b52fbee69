/* SPDX-License-Identifier: MIT */
/*
 * services.h - the gateway's own services on the datapath: DHCP and the DNS
 * forwarder (svc/dhcp, svc/dns), wired to the ports.
 *
 * Theory of operation: the worker offers each IPv4 packet from the guests
 * to dp_svc_inside() before NAT. DHCP (UDP to port 67, any destination) and
 * DNS over UDP to the gateway address are answered here, the reply frame
 * built in a scratch buffer and sent at once. The forwarder's upstream
 * queries leave through the uplink as UDP packets that arcnat originates
 * from the external address and a reserved source port (DP_SVC_DNS_PORT,
 * outside the NAT's port range, so no mapping can take it); their answers
 * are picked out of the uplink's traffic by dp_svc_outside() before NAT.
 * (The original plan had them as a conntrack flow, docs/architecture.md
 * "Departures": a reserved port needs no flow, no expiry and no mapping,
 * and cannot clash with one.)
 *
 * DNS over TCP from a guest is not terminated here: the connection to the
 * gateway's port 53 is redirected (DNAT) to the first upstream server and
 * translated by the NAT like any other; dp_svc_to_guest() gives its replies
 * the gateway's address back. A small table remembers which guest
 * connections were redirected, so that a guest's own connection to that
 * server is left alone.
 */
#ifndef ARCNAT_DP_SERVICES_H
#define ARCNAT_DP_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/persist.h"
#include "pkt/meta.h"
#include "svc/arp.h"
#include "svc/dhcp.h"
#include "svc/dns.h"

#define DP_SVC_DNS_PORT		49151	/* below the NAT's default 49152-65535 */
#define DP_SVC_DNAT_MAX		256	/* guest DNS-over-TCP connections at once */

/**
 * struct dp_svc_cfg - which services, and how to reach the ports.
 * @dhcp:       DHCP server parameters, NULL for none
 * @dns:        DNS forwarder parameters, NULL for none (callbacks and ctx
 *              are filled in here)
 * @gw_addr:    the gateway address, network order
 * @gw_mac:     its MAC
 * @ext_addr:   the external address (source of upstream queries)
 * @arp:        the inside ARP endpoint (guest MACs for late DNS replies)
 * @tx_inside:  send a complete Ethernet frame to the guests
 * @tx_outside: send an IP packet to the uplink
 * @ctx:        for the two
 * @leases:     writer of the lease file (started, borrowed), or NULL: each
 *              tick hands it the lease table when it changed
 */
struct dp_svc_cfg {
	const struct dhcp_cfg *dhcp;
	const struct dns_cfg *dns;
	uint32_t gw_addr;
	uint8_t gw_mac[6];
	uint32_t ext_addr;
	struct arp *arp;
	void (*tx_inside)(void *ctx, uint8_t *frame, size_t len);
	void (*tx_outside)(void *ctx, uint8_t *pkt, size_t len);
	void *ctx;
	struct dp_persist *leases;
};

struct dp_svc;

/**
 * dp_svc_create() - start the configured services.
 * @out: the services
 * @cfg: configuration (copied)
 * @now: current time, ns
 *
 * Return: 0, or the error of dhcp_create() / dns_create(), -ENOMEM.
 */
int dp_svc_create(struct dp_svc **out, const struct dp_svc_cfg *cfg,
		  uint64_t now);

/** dp_svc_destroy() - stop and free; NULL is fine. @s: services */
void dp_svc_destroy(struct dp_svc *s);

/**
 * dp_svc_inside() - offer an IPv4 frame from the guests to the services.
 * @s:     services
 * @frame: the frame (borrowed; a DNS-over-TCP packet is redirected in place)
 * @m:     its parse result
 * @csum_partial: the L4 checksum holds a pseudo-header sum (virtio)
 * @now:   time
 *
 * Return: true if a service took it (answered or counted it); false if it
 * goes on to NAT (possibly redirected to the upstream DNS server).
 */
bool dp_svc_inside(struct dp_svc *s, uint8_t *frame, const struct pkt_meta *m,
		   bool csum_partial, uint64_t now);

/**
 * dp_svc_outside() - offer an IP packet from the uplink: upstream DNS
 * answers to DP_SVC_DNS_PORT are taken.
 * @s:   services
 * @pkt: the packet (borrowed)
 * @m:   its parse result (PKT_PARSE_L3)
 * @now: time
 *
 * Return: true if taken.
 */
bool dp_svc_outside(struct dp_svc *s, const uint8_t *pkt,
		    const struct pkt_meta *m, uint64_t now);

/**
 * dp_svc_to_guest() - undo the DNS-over-TCP redirection on a translated
 * packet going to a guest (source upstream:53 becomes the gateway:53).
 * @s:     services
 * @frame: the packet's buffer (modified in place)
 * @m:     its parse result (offsets from @frame)
 * @csum_partial: as for dp_svc_inside()
 */
void dp_svc_to_guest(struct dp_svc *s, uint8_t *frame, const struct pkt_meta *m,
		     bool csum_partial);

/**
 * dp_svc_tick() - timers of the services (leases, lease file, DNS retries).
 * @s:        services
 * @now:      time
 * @wall_sec: wall-clock seconds since the epoch
 */
void dp_svc_tick(struct dp_svc *s, uint64_t now, int64_t wall_sec);

/**
 * dp_svc_drops() - messages the services refused (malformed, unexpected).
 * @s: services
 *
 * Return: the count, part of drops.total.
 */
uint64_t dp_svc_drops(const struct dp_svc *s);

/**
 * dp_svc_print_stats() - `stat dhcp.*` and `stat dns.*` lines.
 * @s: services
 * @f: stream
 */
void dp_svc_print_stats(const struct dp_svc *s, FILE *f);

#endif /* ARCNAT_DP_SERVICES_H */
