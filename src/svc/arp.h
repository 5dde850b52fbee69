/* SPDX-License-Identifier: MIT */
/*
 * arp.h - an ARP endpoint (RFC 826) for IPv4 over Ethernet: it answers for
 * its own addresses, keeps a bounded neighbour table, and holds a few
 * packets while their next hop is being resolved.
 *
 * Theory of operation. The same endpoint serves two places: the datapath's
 * gateway on the inside (10.0.2.1 talking to guests) and the AF_PACKET
 * uplink on the outside (the external address). It never owns a socket:
 * frames come in through arp_input() and go out through the cfg->send()
 * callback, and time is always the caller's `now` (nanoseconds, monotonic).
 *
 * Neighbour table: fixed-size open addressing, allocated in arp_create().
 * An address hashes (SipHash-1-3, random key: the addresses are chosen by
 * outsiders) to a slot, and an entry lives somewhere in the ARP_PROBE_MAX
 * slots from there. Lookups always look at the whole window, so removing an
 * entry is just clearing its slot (no tombstones). When the window has no
 * free or stale slot, the entry refreshed longest ago is evicted (counted).
 * An entry is used for reachable_sec after it was last confirmed by an ARP
 * packet from its owner. Then it is stale: for ARP_STALE_SEC more it is
 * still used, and lookups ask its owner again (a request at most once a
 * second), so that a busy flow keeps going while the entry is confirmed
 * (Linux's STALE/PROBE states do the same); an answer refreshes it. After
 * that lookups miss, the caller holds the packet and a new request goes
 * out. arp_tick() clears stale slots a
 * bounded slice at a time, so nothing ever scans the whole table.
 *
 * Learning follows RFC 826's "merge" rule: any valid ARP packet refreshes
 * an existing entry for its sender, but a new entry is made only when the
 * packet is addressed to one of our addresses (or answers a request we
 * sent), so that a guest cannot fill the table by chattering about third
 * parties. A sender claiming one of our own addresses is a conflict: it is
 * counted and logged, never learned. Gratuitous ARP (spa == tpa) updates an
 * entry that exists and creates none.
 *
 * Hold queue: up to ARP_HOLD_MAX packets of at most ARP_HOLD_BYTES each,
 * copied into storage allocated in arp_create() with ARP_HOLD_HEADROOM
 * bytes in front, so that the caller can prepend a link header in place
 * when cfg->deliver() hands the packet back. A request goes out when a
 * packet is held (at most one per address per second), arp_tick() repeats
 * it once a second up to ARP_RETRY_MAX times, and a packet not released
 * within ARP_HOLD_SEC is dropped and counted.
 *
 * Single-threaded: an endpoint belongs to one worker. The callbacks must not
 * call back into the same endpoint.
 */
#ifndef ARCNAT_SVC_ARP_H
#define ARCNAT_SVC_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "pkt/meta.h"
#include "pkt/vnet.h"
#include "prot/eth.h"

#define ARP_OWN_MAX		8
#define ARP_HOLD_MAX		16	/* packets waiting for resolution */
#define ARP_HOLD_BYTES		9216	/* larger packets are not held */
#define ARP_HOLD_HEADROOM	(ETH_HLEN + ETH_VLAN_HLEN)
#define ARP_HOLD_SEC		3	/* a held packet is dropped after this */
#define ARP_RETRY_MAX		3	/* requests repeated per held address */
#define ARP_PROBE_MAX		8	/* neighbour slots looked at per lookup */
#define ARP_STALE_SEC		3	/* a stale entry stays usable this long while re-asked */
#define ARP_GC_SLICE		64	/* neighbour slots aged per arp_tick() */
#define ARP_DEFAULT_NEIGH	256
#define ARP_MAX_NEIGH		(1u << 20)
#define ARP_DEFAULT_REACHABLE	300	/* seconds */
#define ARP_SOLICIT_BURST	16	/* arp_solicit() requests per second */

struct arp;

/**
 * struct arp_cfg - parameters of an endpoint, copied by arp_create().
 * @mac:           our MAC: source of replies and requests
 * @own:           addresses we answer for, network order; own[0] is also
 *                 the sender address of our requests
 * @n_own:         entries in @own (1..ARP_OWN_MAX)
 * @max_neigh:     neighbour table size (rounded up to a power of two;
 *                 0 = ARP_DEFAULT_NEIGH, at most ARP_MAX_NEIGH)
 * @reachable_sec: a learned entry is used this long after it was last
 *                 confirmed (0 = ARP_DEFAULT_REACHABLE)
 * @send:          output: a complete Ethernet frame (reply or request) to
 *                 put on the wire; borrowed for the duration of the call
 * @deliver:       a held L3 packet whose next hop is now known. @pkt is
 *                 writable, has ARP_HOLD_HEADROOM bytes of headroom in
 *                 front, and is borrowed for the duration of the call;
 *                 @vnet is the metadata given to arp_hold() (all zero if
 *                 none), @mac the next hop's MAC
 * @learned:       optional: a neighbour entry was made for @ip, or its MAC
 *                 changed to @mac (not called for a refresh that keeps
 *                 the MAC). The DHCP server hears of addresses in use
 *                 this way (svc/dhcp.h, dhcp_addr_seen()); rare, never
 *                 per IP packet. Must not call back into the endpoint.
 * @ctx:           passed to @send, @deliver and @learned
 * @key:           SipHash key for the table, or NULL for a random one
 *                 (tests and fuzzers fix it to be reproducible)
 */
struct arp_cfg {
	uint8_t mac[ETH_ALEN];
	uint32_t own[ARP_OWN_MAX];
	unsigned int n_own;
	uint32_t max_neigh;
	uint32_t reachable_sec;
	void (*send)(void *ctx, const uint8_t *frame, size_t len);
	void (*deliver)(void *ctx, uint8_t *pkt, size_t len,
			const struct pkt_vnet *vnet, const uint8_t mac[ETH_ALEN]);
	void (*learned)(void *ctx, uint32_t ip, const uint8_t mac[ETH_ALEN]);
	void *ctx;
	const struct siphash_key *key;
};

/**
 * struct arp_stats - counters of one endpoint.
 * @requests_in:  valid requests received
 * @replies_in:   valid replies received
 * @replies_out:  replies sent (requests for our addresses)
 * @requests_out: requests sent (first ones and retries)
 * @learned:      neighbour entries created
 * @updated:      neighbour entries refreshed (MAC changed or not)
 * @gratuitous:   gratuitous ARP packets (spa == tpa) received
 * @conflicts:    packets from someone else claiming one of our addresses
 * @ignored:      malformed packets (bad op, lengths, types, truncated) and
 *                senders that cannot be learned (multicast MAC, our own
 *                MAC looped back, multicast/broadcast address)
 * @held:         packets accepted by arp_hold()
 * @released:     held packets handed to deliver()
 * @hold_dropped: packets refused by arp_hold() (hold full, too big)
 * @hold_expired: held packets dropped after ARP_HOLD_SEC
 * @evicted:      live neighbour entries replaced because the table was full
 * @refreshes:    requests sent to re-confirm a stale entry still in use
 * @solicits:     requests sent by arp_solicit() (also in @requests_out)
 * @solicit_limited: arp_solicit() calls over ARP_SOLICIT_BURST a second,
 *                not sent
 * @moved:        existing entries whose MAC changed (two hosts claiming
 *                one address, or a NIC replaced)
 */
struct arp_stats {
	uint64_t requests_in;
	uint64_t replies_in;
	uint64_t replies_out;
	uint64_t requests_out;
	uint64_t learned;
	uint64_t updated;
	uint64_t gratuitous;
	uint64_t conflicts;
	uint64_t ignored;
	uint64_t held;
	uint64_t released;
	uint64_t hold_dropped;
	uint64_t hold_expired;
	uint64_t evicted;
	uint64_t refreshes;
	uint64_t solicits;
	uint64_t solicit_limited;
	uint64_t moved;
};

/**
 * arp_create() - make an endpoint.
 * @out: the endpoint, or NULL on failure
 * @cfg: parameters (copied)
 *
 * Allocates the neighbour table and the hold storage; nothing is allocated
 * later.
 *
 * Return: 0, -EINVAL (no own address, an address 0, a table too large, no
 * send callback), -ENOMEM, or the error of the random key source.
 */
int arp_create(struct arp **out, const struct arp_cfg *cfg);

/**
 * arp_destroy() - free an endpoint; held packets are dropped silently.
 * @a: endpoint, or NULL
 */
void arp_destroy(struct arp *a);

/**
 * arp_input() - process one received ARP frame.
 * @a:     endpoint
 * @frame: the Ethernet frame (borrowed, not modified)
 * @m:     its metadata from pkt_parse() (m->l3 == PKT_L3_ARP); the ARP
 *         header is re-checked through a bounded cursor all the same
 * @now:   current time, ns
 *
 * Learns or refreshes the sender (see the theory of operation), answers a
 * request for one of our addresses through send(), then delivers the
 * packets held for the sender. Never answers for addresses we do not own.
 * Anything malformed is counted in @ignored and otherwise ignored.
 */
void arp_input(struct arp *a, const uint8_t *frame, const struct pkt_meta *m,
	       uint64_t now);

/**
 * arp_lookup() - the MAC of a neighbour, if known and fresh.
 * @a:   endpoint
 * @ip:  IPv4 address, network order
 * @now: current time, ns
 * @mac: filled on success
 *
 * Per-packet path: one hash, at most ARP_PROBE_MAX slots, no allocation.
 *
 * Return: 0, or -ENOENT.
 */
int arp_lookup(struct arp *a, uint32_t ip, uint64_t now,
	       uint8_t mac[ETH_ALEN]);

/**
 * arp_peek() - the MAC of a neighbour, without side effects.
 * @a:   endpoint
 * @ip:  IPv4 address, network order
 * @now: current time, ns
 * @mac: filled on success
 *
 * Like arp_lookup() (fresh or still usable while stale), but a stale entry
 * is not re-asked: the DHCP server asks "does someone use this address?"
 * for addresses no packet is going to, and that question must not put
 * requests on the wire by itself (arp_solicit() does, bounded).
 *
 * Return: 0, or -ENOENT.
 */
int arp_peek(const struct arp *a, uint32_t ip, uint64_t now,
	     uint8_t mac[ETH_ALEN]);

/**
 * arp_solicit() - ask who has @ip now, holding nothing.
 * @a:   endpoint
 * @ip:  IPv4 address, network order
 * @now: current time, ns
 *
 * One broadcast request from own[0] (the DHCP server's probe of an address
 * it is about to offer, RFC 2131 section 2.2). A reply is addressed to one
 * of our addresses, so it is learned like any (and reported through
 * cfg->learned). At most ARP_SOLICIT_BURST a second: clients choose how
 * often we are asked (a DISCOVER flood), and a probe is worth less than
 * the broadcast it costs every guest.
 *
 * Return: 0 if sent; -EINVAL if @ip cannot be a neighbour (as arp_hold());
 * -EBUSY over the rate (counted in @solicit_limited).
 */
int arp_solicit(struct arp *a, uint32_t ip, uint64_t now);

/**
 * arp_hold() - keep a copy of an L3 packet until @ip is resolved.
 * @a:    endpoint
 * @ip:   the next hop, network order
 * @pkt:  the packet (borrowed: it is copied)
 * @len:  its length
 * @vnet: its offload metadata (offsets relative to @pkt), or NULL for none
 * @now:  current time, ns
 *
 * Sends a request for @ip through send() unless one went out for it less
 * than a second ago.
 *
 * Return: 0 if held; -ENOSPC if the hold queue is full or the packet is
 * larger than ARP_HOLD_BYTES; -EINVAL if @ip cannot be a neighbour (0,
 * loopback, multicast, broadcast, one of our own) or there is no deliver()
 * callback. Every refusal is counted in @hold_dropped.
 */
int arp_hold(struct arp *a, uint32_t ip, const uint8_t *pkt, size_t len,
	     const struct pkt_vnet *vnet, uint64_t now);

/**
 * arp_tick() - periodic work, about every 100 ms.
 * @a:   endpoint
 * @now: current time, ns
 *
 * Repeats requests for addresses with held packets (once a second, at most
 * ARP_RETRY_MAX times), drops packets held longer than ARP_HOLD_SEC
 * (counted), and clears up to ARP_GC_SLICE stale neighbour slots.
 */
void arp_tick(struct arp *a, uint64_t now);

/**
 * arp_get_stats() - the endpoint's counters.
 * @a: endpoint
 *
 * Return: a pointer valid until arp_destroy().
 */
const struct arp_stats *arp_get_stats(const struct arp *a);

#endif /* ARCNAT_SVC_ARP_H */
