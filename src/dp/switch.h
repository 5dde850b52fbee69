/* SPDX-License-Identifier: MIT */
/*
 * switch.h - the learning switch of the guest segment: which guest port a
 * MAC address is behind, so that a frame goes to one port instead of all.
 *
 * Theory of operation: the guest ports of a worker form one Ethernet
 * segment, and the gateway (the engine: ARP, DHCP, DNS, echo, NAT) is one
 * more station on it, reached by its own MAC. The switch learns from the
 * source MAC of every frame a guest port receives, in a table of
 * (MAC -> port, port generation, last seen) entries sized at creation:
 * a power of two, in buckets of DP_SW_WAYS entries chosen by a keyed
 * SipHash of the MAC, so a lookup or a learn reads one bucket and never
 * more (a guest inventing MACs cannot make a lookup slower, and can fill
 * at most its buckets: a full bucket is a counted refusal, the frame is
 * still delivered, by flooding). Entries age: one not refreshed for
 * age_ns is gone, found so lazily by the lookups and by a bounded slice
 * per tick (dp_switch_tick()); nothing reads the clock here, the worker
 * passes its `now`.
 *
 * Decisions (dp_switch_from_guest(), dp_switch_from_gateway()): a frame
 * for the gateway's MAC goes to the engine only; broadcast and multicast go
 * to the engine and flood to every other guest port; a known unicast MAC
 * goes to its port; an unknown one floods to the other guest ports (never
 * to the engine, which answers only its own MAC). A frame never goes back
 * out of the port it came in by (counted). A guest frame whose source is
 * not a station's address (multicast, zero) or is the gateway's own MAC is
 * dropped, as the Linux bridge drops invalid sources: no guest speaks for
 * the gateway. With isolate, guests reach only the gateway: nothing is
 * forwarded or flooded from one guest port to another (counted), like the
 * Linux bridge's isolated ports; the gateway still reaches every guest.
 *
 * A port that leaves (dp_switch_port_remove()) takes its entries with it,
 * and its generation is bumped, so an entry of an earlier port in the same
 * slot never matches. Ports are the worker's slot indices, below
 * DP_SW_PORTS; port masks are bit i for port i.
 *
 * No allocation after dp_switch_create(); one worker's thread only.
 */
#ifndef ARCNAT_DP_SWITCH_H
#define ARCNAT_DP_SWITCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/siphash.h"

#define DP_SW_PORTS		64u	/* port indices 0..63: one mask bit each */
#define DP_SW_WAYS		8u	/* entries per bucket */
#define DP_SW_ENTRIES_MAX	65536u
#define DP_SW_ENTRIES_DEFAULT	1024u
#define DP_SW_AGE_DEFAULT_S	300u	/* as the Linux bridge's ageing time */
#define DP_SW_TICK_BUDGET	128u	/* entries one tick looks at */

/**
 * struct dp_switch_cfg - a switch's parameters.
 * @entries: table size: a power of two, DP_SW_WAYS to DP_SW_ENTRIES_MAX
 * @age_ns:  an entry not refreshed for this long is gone (> 0)
 * @isolate: no frame from one guest port to another
 * @gw_mac:  the gateway's MAC: frames to it go to the engine
 * @key:     hash key, or NULL for a random one
 */
struct dp_switch_cfg {
	unsigned int entries;
	uint64_t age_ns;
	bool isolate;
	uint8_t gw_mac[6];
	const struct siphash_key *key;
};

/**
 * struct dp_switch_stats - counters (all but @entries only grow).
 * @learned:    MACs learned (new entries)
 * @moved:      a known MAC seen on another port, re-learned there
 * @aged:       entries gone after age_ns without a frame
 * @flushed:    entries gone with their port
 * @table_full: a MAC not learned: its bucket was full (the frame flooded)
 * @bad_source: guest frames dropped: multicast, zero or the gateway's MAC
 *              as source
 * @forwarded:  guest frames sent to the one port of their destination
 * @flooded:    frames flooded to the other guest ports (broadcast,
 *              multicast, unknown unicast), from guests or the gateway
 * @unknown:    unicast frames whose destination was not known
 * @same_port:  guest frames dropped: the destination is behind the port
 *              they came in by
 * @isolated:   guest frames not forwarded or flooded to another guest
 *              (isolate); a broadcast still reaches the engine
 * @entries:    entries in the table now (learned and not yet found gone)
 */
struct dp_switch_stats {
	uint64_t learned;
	uint64_t moved;
	uint64_t aged;
	uint64_t flushed;
	uint64_t table_full;
	uint64_t bad_source;
	uint64_t forwarded;
	uint64_t flooded;
	uint64_t unknown;
	uint64_t same_port;
	uint64_t isolated;
	uint64_t entries;
};

/**
 * struct dp_sw_dest - where a guest's frame goes.
 * @ports:  guest ports to send it to (mask)
 * @engine: the gateway's pipeline too (ARP, services, NAT)
 */
struct dp_sw_dest {
	uint64_t ports;
	bool engine;
};

struct dp_switch;

/**
 * dp_switch_create() - allocate a switch and its table (the only
 * allocation it makes).
 * @out: the switch
 * @cfg: parameters (copied)
 *
 * Return: 0; -EINVAL bad parameters; -ENOMEM; -errno of the random key.
 */
int dp_switch_create(struct dp_switch **out, const struct dp_switch_cfg *cfg);

/**
 * dp_switch_destroy() - free a switch; NULL is fine.
 * @sw: switch
 */
void dp_switch_destroy(struct dp_switch *sw);

/**
 * dp_switch_port_add() - a guest port joins the segment (it gets floods).
 * @sw:   switch
 * @port: its index, below DP_SW_PORTS (ignored otherwise)
 */
void dp_switch_port_add(struct dp_switch *sw, unsigned int port);

/**
 * dp_switch_port_remove() - a guest port leaves: its entries are flushed
 * (counted) and its generation bumped, so nothing learned on it matches a
 * later port in the same slot.
 * @sw:   switch
 * @port: its index (ignored if not in the segment)
 */
void dp_switch_port_remove(struct dp_switch *sw, unsigned int port);

/**
 * dp_switch_from_guest() - learn from a frame guest port @port received and
 * say where it goes.
 * @sw:    switch
 * @port:  the port it came in by
 * @frame: the frame (borrowed; only the two MACs are read)
 * @len:   its length; below an Ethernet header it goes to the engine,
 *         whose parser drops it, counted
 * @now:   time, ns
 *
 * Return: the destination; { 0, false } for a dropped frame (counted).
 */
struct dp_sw_dest dp_switch_from_guest(struct dp_switch *sw, unsigned int port,
				       const uint8_t *frame, uint32_t len,
				       uint64_t now);

/**
 * dp_switch_from_gateway() - the guest ports a frame the gateway sends
 * goes to: the port its destination MAC was learned on, else (broadcast,
 * multicast, unknown) every guest port.
 * @sw:    switch
 * @frame: an Ethernet frame (borrowed)
 * @len:   its length
 * @now:   time, ns
 *
 * Return: a port mask (0 with no guest port).
 */
uint64_t dp_switch_from_gateway(struct dp_switch *sw, const uint8_t *frame,
				uint32_t len, uint64_t now);

/**
 * dp_switch_lookup() - the port a MAC is behind.
 * @sw:  switch
 * @mac: the MAC
 * @now: time, ns
 *
 * Return: its port index, or -ENOENT (unknown, aged or flushed).
 */
int dp_switch_lookup(struct dp_switch *sw, const uint8_t mac[6], uint64_t now);

/**
 * dp_switch_tick() - age out up to @budget entries' worth of the table,
 * resuming where the last tick stopped.
 * @sw:     switch
 * @now:    time, ns
 * @budget: entries to look at
 */
void dp_switch_tick(struct dp_switch *sw, uint64_t now, unsigned int budget);

/**
 * dp_switch_get_stats() - the counters.
 * @sw: switch
 *
 * Return: them (valid as long as @sw).
 */
const struct dp_switch_stats *dp_switch_get_stats(const struct dp_switch *sw);

/**
 * dp_switch_drops() - frames the switch dropped (bad_source, same_port,
 * isolated), for the worker's total.
 * @sw: switch
 *
 * Return: their sum.
 */
uint64_t dp_switch_drops(const struct dp_switch *sw);

/**
 * dp_switch_print_stats() - `stat switch.NAME VALUE` lines.
 * @sw: switch
 * @f:  stream
 */
void dp_switch_print_stats(const struct dp_switch *sw, FILE *f);

#endif /* ARCNAT_DP_SWITCH_H */
