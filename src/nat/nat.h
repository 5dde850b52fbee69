/* SPDX-License-Identifier: MIT */
/*
 * nat.h - IPv4 NAPT (RFC 4787, 5382, 5508) as a library with no I/O.
 *
 * Frames in, verdicts and rewritten frames out, `now` passed in. The full
 * behaviour is specified in docs/nat.md; the summary:
 *
 * - Endpoint-independent mapping: every flow from one internal (address,
 *   port or ICMP id, protocol) uses one external (address, port). The
 *   external address is chosen by the internal address (paired pooling,
 *   RFC 4787 REQ-2). A mapping lives while at least one flow using it is in
 *   the connection table.
 * - Port choice: the internal port if it is free and inside the configured
 *   range; otherwise a random start among the ports of the same parity and
 *   the same range class (below 1024 / 1024 and up, within the configured
 *   range), then at most NAT_PORT_PROBES candidates in order. No port
 *   overloading: an external port belongs to one mapping at a time.
 * - Filtering of packets from outside that match no flow: endpoint-
 *   independent (EIF), address-dependent (ADF) or address-and-port-
 *   dependent (APDF, default).
 * - Static port forwards; redirects (a new connection from inside to one
 *   destination, or to any port of one address, goes to another, as DNS
 *   over TCP to the gateway goes to the upstream server: a DNAT held by
 *   the flow, so replies come back from the original destination and the
 *   state ends with the flow); an inbound source alias (flows from outside
 *   whose source is in one subnet show the inside another address);
 *   hairpinning with the external address and port as source; ICMP errors translated inside and out (RFC 5508); fragments
 *   matched to their first fragment's flow.
 * - Rewrites update checksums incrementally; a packet whose L4 checksum is
 *   a partial (pseudo-header) sum, as virtio-net NEEDS_CSUM packets carry,
 *   gets only the pseudo-header part updated.
 *
 * Single-threaded: a struct nat belongs to one worker.
 */
#ifndef ARCNAT_NAT_NAT_H
#define ARCNAT_NAT_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "ct/table.h"
#include "nat/drop.h"
#include "nat/map.h"
#include "pkt/meta.h"

#define NAT_MAX_EXT_ADDRS	NAT_MAP_MAX_EXT
#define NAT_MAX_FORWARDS	1024
#define NAT_MAX_REDIRECTS	8
#define NAT_RECLAIM_MAX		8	/* closed connections dropped per port search */
#define NAT_DEFAULT_PORT_MIN	49152
#define NAT_DEFAULT_PORT_MAX	65535
#define NAT_FRAG_DEFAULT_MAX	1024
#define NAT_FRAG_DEFAULT_TIMEOUT 30	/* seconds, RFC 791 reassembly order */
#define NAT_BATCH_MAX		256

enum nat_filtering {
	NAT_FILTER_APDF = 0,	/* address and port dependent (default) */
	NAT_FILTER_ADF,		/* address dependent */
	NAT_FILTER_EIF,		/* endpoint independent */
};

/* Where a packet came from. */
enum nat_side {
	NAT_INSIDE = 0,
	NAT_OUTSIDE = 1,
};

enum nat_verdict {
	NAT_V_DROP = 0,		/* see nat_pkt.reason */
	NAT_V_TO_OUTSIDE,	/* translated; send it out */
	NAT_V_TO_INSIDE,	/* translated; send it in (also hairpinned packets) */
	NAT_V_LOCAL,		/* ICMP echo request to an external address: the host answers */
};

/**
 * struct nat_forward - a static port forward.
 * @proto:    IPPROTO_NUM_TCP or IPPROTO_NUM_UDP
 * @ext_addr: external address (network order); 0 means the first one
 * @ext_port: external port (host order)
 * @int_addr: internal address (network order)
 * @int_port: internal port (host order)
 */
struct nat_forward {
	uint8_t proto;
	uint32_t ext_addr;
	uint16_t ext_port;
	uint32_t int_addr;
	uint16_t int_port;
};

/**
 * struct nat_redirect - a destination rule for new connections from inside.
 * @proto:   IPPROTO_NUM_TCP or IPPROTO_NUM_UDP
 * @addr:    destination address it applies to (network order); not an
 *           external address
 * @port:    destination port it applies to (host order); 0: every port of
 *           @addr (a wildcard), except those an exact rule names
 * @to_addr: where such connections go instead (network order); not an
 *           external address
 * @to_port: and the port (host order); 0: the port the packet was sent to
 */
struct nat_redirect {
	uint8_t proto;
	uint32_t addr;
	uint16_t port;
	uint32_t to_addr;
	uint16_t to_port;
};

/**
 * struct nat_alias - how the sources of one subnet appear to the inside in
 * flows created from outside (nat_config.inbound_alias).
 * @addr: the subnet (network order; no bits outside @mask)
 * @mask: its mask (network order, contiguous)
 * @to:   the address those sources appear as (network order); 0: no alias
 *
 * The socket uplink's use: a client on the host's loopback reaches a port
 * forward from 198.19.b.c (the loopback's image, uplink/sock_defs.h), an
 * address the guest cannot answer (its martian rule keeps it from sending
 * there); with the alias 198.19.0.0/16 -> the gateway address, the guest
 * sees the gateway as the client, and its replies go to the gateway
 * address, back into the NAT and out to the real source.
 */
struct nat_alias {
	uint32_t addr;
	uint32_t mask;
	uint32_t to;
};

/**
 * typedef nat_flow_gone_fn - told when a confirmed flow leaves the table
 * (expiry, early drop, reclaim, lazy removal), after the NAT has released
 * its mapping reference.
 * @ctx:          nat_config.flow_gone_ctx
 * @flow:         the flow's index in the connection table (nat_pkt.flow of
 *                its packets); reused by a later flow once this returns
 * @e:            the entry, tuples still readable; only for this call
 * @mapping_gone: that was the last flow of its (dynamic) mapping: the
 *                external port is free again
 *
 * An uplink that keeps a handle per flow or per mapping (a host socket,
 * uplink/sock) closes it here. Must not call back into the NAT.
 */
typedef void (*nat_flow_gone_fn)(void *ctx, uint32_t flow,
				 const struct ct_entry *e, bool mapping_gone);

/**
 * struct nat_config - NAT parameters, fixed at creation.
 * @ext_addrs:       external addresses (network order)
 * @n_ext_addrs:     how many (1 .. NAT_MAX_EXT_ADDRS)
 * @port_min:        lowest dynamic external port (host order; 0 and 0 for
 *                   both means the default 49152-65535)
 * @port_max:        highest dynamic external port
 * @filtering:       filtering of unsolicited inbound packets
 * @max_flows:       connection table size (0: CT_DEFAULT_MAX_FLOWS)
 * @timeouts:        idle timeouts; all zero means the defaults
 * @allow_short_udp: accept UDP timeouts below 120 s (tests only: RFC 4787
 *                   REQ-5 says a UDP mapping MUST live at least 2 minutes)
 * @frag_max:        fragment-tracking entries (0: NAT_FRAG_DEFAULT_MAX)
 * @frag_timeout:    seconds a first fragment's flow is remembered (0: default)
 * @seed:            seed of the port-choice generator (0: random)
 * @key:             SipHash key for the tables (NULL: random)
 * @on_flow_gone:    called when a flow leaves the table, or NULL
 * @flow_gone_ctx:   its context
 * @inbound_alias:   a flow created from outside whose source is in its
 *                   subnet shows the inside its @to instead (the reply
 *                   tuple's destination); the flow's ORIG tuple keeps the
 *                   real source, so replies go back to it. Flows created
 *                   from inside, hairpin flows and ICMP errors' outer
 *                   sources (routers') are not aliased. Zero: none.
 * @flow_stats:      count each flow's packets and bytes each way and keep
 *                   its age (ct_config.flow_stats: 40 bytes per flow)
 */
struct nat_config {
	uint32_t ext_addrs[NAT_MAX_EXT_ADDRS];
	unsigned int n_ext_addrs;
	uint16_t port_min;
	uint16_t port_max;
	enum nat_filtering filtering;
	uint32_t max_flows;
	struct ct_timeouts timeouts;
	bool allow_short_udp;
	uint32_t frag_max;
	uint32_t frag_timeout;
	uint64_t seed;
	const struct siphash_key *key;
	nat_flow_gone_fn on_flow_gone;
	void *flow_gone_ctx;
	struct nat_alias inbound_alias;
	bool flow_stats;
};

/* nat_pkt.flags */
#define NAT_PKT_CSUM_PARTIAL (1u << 0)	/* L4 checksum field holds the pseudo-header sum */

/**
 * struct nat_pkt - one packet of a batch.
 * @frame:   the frame, rewritten in place (borrowed for the call)
 * @meta:    pkt_parse() result for @frame (must have returned PKT_DROP_OK)
 * @flags:   NAT_PKT_*
 * @verdict: set by nat_process(): enum nat_verdict
 * @reason:  set by nat_process(): enum nat_drop when @verdict is NAT_V_DROP
 * @flow:    set by nat_process(): the connection-table index of the flow the
 *           packet belongs to (an ICMP error: the flow it quotes), CT_NONE
 *           for none (a drop before a flow was found, NAT_V_LOCAL)
 * @key:     scratch: the lookup tuple
 * @hv:      scratch: its hash
 */
struct nat_pkt {
	uint8_t *frame;
	struct pkt_meta meta;
	uint32_t flags;
	uint8_t verdict;
	uint8_t reason;
	uint32_t flow;
	struct ct_tuple key;
	uint64_t hv;
};

/**
 * struct nat_stats - NAT counters (connection-table ones: ct_get_stats()).
 * @packets:        packets processed, per side they came from
 * @translated:     packets forwarded, per side they came from
 * @drops:          drops per enum nat_drop
 * @flows_out:      connections created by a packet from inside
 * @flows_in:       connections created by a packet from outside
 * @hairpin:        connections between two inside hosts via external addresses
 * @redirects:      connections from inside sent elsewhere by a redirect
 *                  (also counted in @flows_out)
 * @icmp_errors:    ICMP errors translated
 * @fragments:      non-first fragments translated
 * @frag_evicted:   fragment-tracking entries evicted to make room
 * @mappings:       mappings currently in use
 * @local:          packets given NAT_V_LOCAL
 */
struct nat_stats {
	uint64_t packets[2];
	uint64_t translated[2];
	uint64_t drops[NAT_DROP__MAX];
	uint64_t flows_out;
	uint64_t flows_in;
	uint64_t hairpin;
	uint64_t redirects;
	uint64_t icmp_errors;
	uint64_t fragments;
	uint64_t frag_evicted;
	uint64_t mappings;
	uint64_t local;
};

struct nat;

/**
 * nat_create() - build a NAT and all its tables.
 * @out: the NAT
 * @cfg: parameters (copied)
 *
 * Return: 0; -EINVAL for a bad parameter (no external address, port_min >
 * port_max, port_min 0 with port_max set, a timeout out of range or a UDP
 * timeout below 120 s without allow_short_udp); -ENOMEM; -errno.
 */
int nat_create(struct nat **out, const struct nat_config *cfg);

/**
 * nat_destroy() - free a NAT; NULL is fine.
 * @nat: NAT
 */
void nat_destroy(struct nat *nat);

/**
 * nat_set_flow_gone() - set (or clear, @fn NULL) the flow-deletion hook of
 * nat_config.on_flow_gone after creation: for its owner made after the NAT
 * (the worker, which passes it on to its uplink).
 * @nat: NAT
 * @fn:  the hook, or NULL
 * @ctx: its context
 */
void nat_set_flow_gone(struct nat *nat, nat_flow_gone_fn fn, void *ctx);

/**
 * nat_add_forward() - add a static port forward.
 * @nat: NAT
 * @fwd: the forward
 *
 * The external port is reserved at once, also inside the dynamic range.
 *
 * Return: 0; -EINVAL (bad protocol, unknown external address, port 0);
 * -EADDRINUSE (that external port is taken); -ENOSPC (too many forwards).
 */
int nat_add_forward(struct nat *nat, const struct nat_forward *fwd);

/**
 * nat_remove_forward() - remove a static port forward (while running: the
 * control socket's `forward delete`).
 * @nat: NAT
 * @fwd: which: @fwd->proto, @fwd->ext_addr (0: the first) and
 *       @fwd->ext_port name it; @fwd->int_addr and @fwd->int_port, when
 *       not 0, must be its target
 *
 * New connections from outside no longer reach the target. Flows that
 * hold the forward's mapping are not disturbed: the mapping becomes an
 * ordinary dynamic one (filtered like one: nat_config.filtering), lives
 * while they do and is released with the last (nat_config.on_flow_gone
 * says so), so no flow is left holding a freed mapping. Until then the
 * external port stays taken; adding the same forward again makes the
 * mapping static again.
 *
 * Return: 0; -ENOENT no such forward; -EINVAL (bad protocol, unknown
 * external address).
 */
int nat_remove_forward(struct nat *nat, const struct nat_forward *fwd);

/**
 * nat_ext_port_taken() - whether an external port of the first external
 * address is mapped (a deleted forward's mapping its flows still hold).
 * @nat:   NAT
 * @proto: IPPROTO_NUM_TCP or IPPROTO_NUM_UDP
 * @port:  the port (host order)
 *
 * Return: true if taken.
 */
bool nat_ext_port_taken(const struct nat *nat, uint8_t proto, uint16_t port);

/**
 * nat_list_forwards() - the static port forwards, in no particular order
 * (ext_addr filled in). A scan of every mapping object: for the control
 * socket, not the packet path.
 * @nat: NAT
 * @out: filled
 * @max: @out's size (NAT_MAX_FORWARDS holds them all)
 *
 * Return: how many there are (more than @max: only @max were written).
 */
unsigned int nat_list_forwards(const struct nat *nat, struct nat_forward *out,
			       unsigned int max);

/**
 * nat_add_redirect() - add a redirect.
 * @nat: NAT
 * @rd:  the rule
 *
 * A packet from inside that would create a flow to (@rd->addr, @rd->port,
 * @rd->proto) creates one to (@rd->to_addr, @rd->to_port) instead, from
 * the source's mapping like any outbound flow (SNAT and DNAT at once). The
 * flow's reply tuple is that of the new destination, so the redirection
 * lives and dies with the flow: replies get the original destination back
 * as their source, and nothing remains once the flow is gone. Existing
 * flows are not affected.
 *
 * A wildcard rule (@rd->port 0) takes every port of @rd->addr that no
 * exact rule for that address and protocol names: an exact rule wins
 * whatever the order they were added in. @rd->to_port 0 keeps the port
 * the packet was sent to.
 *
 * Return: 0; -EINVAL (bad protocol, address 0 or external); -EADDRINUSE
 * (a rule for that destination, or that wildcard, exists); -ENOSPC (more
 * than NAT_MAX_REDIRECTS).
 */
int nat_add_redirect(struct nat *nat, const struct nat_redirect *rd);

/**
 * nat_redirects() - whether a redirect applies to a destination, for a
 * caller that must tell such packets apart from others to the same address
 * (the gateway's own address, say) before handing them to nat_process().
 * @nat:   NAT
 * @proto: IP protocol
 * @addr:  destination address, network order
 * @port:  destination port, network order
 *
 * Return: true if a rule matches, exact or wildcard.
 */
bool nat_redirects(const struct nat *nat, uint8_t proto, uint32_t addr,
		   uint16_t port);

/**
 * nat_has_flow() - whether a packet belongs to a flow in the table, for a
 * caller that must tell such packets apart before handing them to
 * nat_process() (the worker: a guest's reply to the gateway's address for
 * a flow that nat_config.inbound_alias made appear from there).
 * @nat:   NAT
 * @frame: the frame
 * @m:     its pkt_parse() result
 * @now:   current time, ns (monotonic)
 *
 * The lookup nat_process() would do for a TCP, UDP or ICMP echo packet
 * (not a fragment, not an ICMP error): no counter moves and nothing is
 * created; like any lookup, it removes an expired flow it meets. Either
 * direction of the flow matches, whichever side it is expected from.
 *
 * Return: true if a live flow holds the packet's tuple.
 */
bool nat_has_flow(struct nat *nat, const uint8_t *frame,
		  const struct pkt_meta *m, uint64_t now);

/**
 * nat_process() - translate a batch of packets that came from one side.
 * @nat:  NAT
 * @pkts: packets; each gets a verdict, forwarded ones are rewritten
 * @n:    count (any; processed in chunks of NAT_BATCH_MAX)
 * @from: the side they came from
 * @now:  current time, ns (monotonic)
 *
 * Return: the number of packets not dropped.
 */
unsigned int nat_process(struct nat *nat, struct nat_pkt *pkts, unsigned int n,
			 enum nat_side from, uint64_t now);

/**
 * nat_tick() - periodic work: one garbage-collection slice.
 * @nat:    NAT
 * @now:    current time
 * @budget: bound on the work (see ct_expire())
 *
 * Return: connections expired.
 */
unsigned int nat_tick(struct nat *nat, uint64_t now, unsigned int budget);

/**
 * nat_tick_pending() - whether nat_tick() has elapsed work left.
 * @nat: NAT
 * @now: current time
 *
 * Return: true if another nat_tick() call would collect more.
 */
bool nat_tick_pending(const struct nat *nat, uint64_t now);

/**
 * nat_get_stats() - counters, with the derived ones (mappings,
 * frag_evicted) brought up to date. Valid until the next call.
 * @nat: NAT
 *
 * Return: pointer into @nat.
 */
const struct nat_stats *nat_get_stats(struct nat *nat);

/** nat_ct() - the connection table, for statistics and tests. Return: it. */
struct ct_table *nat_ct(const struct nat *nat);

/**
 * nat_verify() - check every internal invariant (tests and fuzzers only:
 * it visits every entry, so it is O(table size)).
 * @nat: NAT
 * @why: filled with the first violation found
 * @len: size of @why
 *
 * Checks: every confirmed flow is found from both of its tuples; its
 * mapping exists and is counted; mapping reference counts equal the flows
 * holding them; each mapping's external port is marked in use and every
 * port marked in use belongs to exactly one mapping; counters agree.
 *
 * Return: 0, or -EUCLEAN with @why set.
 */
int nat_verify(const struct nat *nat, char *why, size_t len);

#endif /* ARCNAT_NAT_NAT_H */
