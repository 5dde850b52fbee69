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
 * DNS over TCP from a guest is not terminated here: dp_svc_create() gives
 * the NAT a redirect (nat_add_redirect()) that sends a guest's connection
 * to the gateway's port 53 to the first upstream server. The flow itself
 * holds the redirection (its reply tuple is the server's), so its replies
 * come back from the gateway's address and it ends with the connection's
 * TCP state, like any NAT flow; a guest's own connection to that server is
 * a flow of its own.
 */
#ifndef ARCNAT_DP_SERVICES_H
#define ARCNAT_DP_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/persist.h"
#include "nat/nat.h"
#include "pkt/meta.h"
#include "svc/arp.h"
#include "svc/dhcp.h"
#include "svc/dns.h"

#define DP_SVC_DNS_PORT		49151	/* below the NAT's default 49152-65535 */

/**
 * struct dp_svc_cfg - which services, and how to reach the ports.
 * @dhcp:       DHCP server parameters, NULL for none
 * @dns:        DNS forwarder parameters, NULL for none (callbacks and ctx
 *              are filled in here)
 * @gw_addr:    the gateway address, network order
 * @gw_mac:     its MAC
 * @ext_addr:   the external address (source of upstream queries)
 * @arp:        the inside ARP endpoint (guest MACs for late DNS replies;
 *              for DHCP, who uses an address and the probe of one about
 *              to be offered, svc/dhcp.h "Addresses in use by other hosts")
 * @nat:        the NAT that gets the DNS-over-TCP redirect, NULL for none
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
	struct nat *nat;
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
 * Return: 0, or the error of dhcp_create() / dns_create() /
 * nat_add_redirect(), -ENOMEM.
 */
int dp_svc_create(struct dp_svc **out, const struct dp_svc_cfg *cfg,
		  uint64_t now);

/** dp_svc_destroy() - stop and free; NULL is fine. @s: services */
void dp_svc_destroy(struct dp_svc *s);

/**
 * dp_svc_inside() - offer an IPv4 frame from the guests to the services.
 * @s:     services
 * @frame: the frame (borrowed)
 * @m:     its parse result
 * @now:   time
 *
 * Return: true if a service took it (answered or counted it); false if it
 * goes on (DNS over TCP to the gateway goes to the NAT's redirect).
 */
bool dp_svc_inside(struct dp_svc *s, const uint8_t *frame,
		   const struct pkt_meta *m, uint64_t now);

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
 * dp_svc_addr_seen() - the inside ARP endpoint learned @mac for @ip (its
 * cfg->learned): the DHCP server hears of it (dhcp_addr_seen()), at the
 * services' latest time.
 * @s:   services
 * @ip:  the address, network order
 * @mac: the MAC that uses it
 */
void dp_svc_addr_seen(struct dp_svc *s, uint32_t ip, const uint8_t mac[6]);

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
 * dp_svc_dhcp() - the DHCP server, on the worker's thread only: read by
 * the control socket's `leases`, changed by its `lease-delete`.
 * @s: services
 *
 * Return: the server, or NULL without one (--no-dhcp).
 */
struct dhcp *dp_svc_dhcp(const struct dp_svc *s);

/**
 * dp_svc_dns_cache() - the DNS forwarder's cache, for `dns-cache` and
 * `dns-flush` (on the worker's thread only).
 * @s: services
 *
 * Return: the cache, or NULL when the forwarder is off.
 */
struct dns_cache *dp_svc_dns_cache(const struct dp_svc *s);

/**
 * dp_svc_print_stats() - `stat dhcp.*` and `stat dns.*` lines.
 * @s: services
 * @f: stream
 */
void dp_svc_print_stats(const struct dp_svc *s, FILE *f);

#endif /* ARCNAT_DP_SERVICES_H */
