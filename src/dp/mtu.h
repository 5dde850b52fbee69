/* SPDX-License-Identifier: MIT */
/*
 * mtu.h - what the worker does with a packet too big for its egress port:
 * ICMP "fragmentation needed" to its sender (DF set, RFC 1191), fragments
 * (DF clear, RFC 791), or a smaller TCP segment size for a GSO super-frame.
 *
 * Theory of operation: the error must quote the packet as its sender sent
 * it, before the NAT rewrote it, and only for packets the gateway would
 * have forwarded. So the worker calls dp_mtu_note() for every packet it
 * hands to nat_process(): a packet (or GSO segment) that is not larger than
 * the smallest port MTU, which is nearly all of them, costs a comparison;
 * a larger one gets its first bytes copied (at most 548: an ICMP error is
 * at most 576 bytes). After the NAT, dp_mtu_check() compares each forwarded
 * packet with its egress port's MTU. Too big with DF: the buffer is rebuilt
 * as the ICMP error from the copy (rate-limited; never about an ICMP error,
 * a later fragment or a source that is not one host, RFC 1122 3.2.2), from
 * the gateway address towards a guest or from the address the outside
 * sender used (the external one) towards the outside, and the worker sends
 * it back through the port the packet came from. Too big without DF: the
 * worker calls dp_mtu_fragment(), which cuts the translated packet into
 * fragments in the module's spare buffers and hands them out in bursts.
 *
 * A GSO super-frame is judged by its segments (headers + gso_size): if they
 * fit, it goes as it is; if not, DF gets the ICMP its segments would get,
 * and without DF a TCP super-frame gets a gso_size that fits (any segment
 * size carries the same byte stream), a UFO one (one datagram) is
 * fragmented, and a USO one (many datagrams) cannot be and is dropped.
 *
 * One per worker, no locking; the ICMP identification is a counter.
 */
#ifndef ARCNAT_DP_MTU_H
#define ARCNAT_DP_MTU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/port.h"
#include "pkt/meta.h"

#define DP_MTU_SPARE		16u	/* fragment buffers, sent in bursts of this many */
#define DP_MTU_ICMP_PER_SEC	100u	/* "fragmentation needed" messages per second */

enum dp_mtu_verdict {
	DP_MTU_FITS = 0,	/* send it as it is (maybe with a smaller gso_size) */
	DP_MTU_FRAGMENT,	/* too big, DF clear: dp_mtu_fragment() */
	DP_MTU_ICMP,		/* too big, DF set: the buffer holds the ICMP error */
	DP_MTU_TOO_BIG,		/* too big, DF set, no ICMP allowed: drop */
	DP_MTU_NO_FRAGMENT,	/* too big, DF clear, cannot be cut: drop */
};

/**
 * struct dp_mtu_cfg - parameters of the ICMP errors and buffers.
 * @gw_addr: the gateway's inside address (source of errors to guests),
 *           network order
 * @gw_mac:  the gateway's inside MAC
 * @mtu_min: smallest MTU of the ports (0: no port has one)
 * @mtu_max: largest MTU of the ports: the fragment buffers' size
 */
struct dp_mtu_cfg {
	uint32_t gw_addr;
	uint8_t gw_mac[6];
	unsigned int mtu_min;
	unsigned int mtu_max;
};

/**
 * struct dp_mtu_stats - counters.
 * @icmp_sent:    "fragmentation needed" errors built
 * @icmp_limited: errors not sent because of the rate limit
 * @fragmented:   packets cut into fragments
 * @fragments:    fragments made
 * @gso_resized:  TCP super-frames (DF clear) given a smaller gso_size
 */
struct dp_mtu_stats {
	uint64_t icmp_sent;
	uint64_t icmp_limited;
	uint64_t fragmented;
	uint64_t fragments;
	uint64_t gso_resized;
};

struct dp_mtu;

/**
 * dp_mtu_create() - allocate the quote slots and the fragment buffers.
 * @out: the state
 * @cfg: parameters (copied)
 *
 * Return: 0 or -ENOMEM.
 */
int dp_mtu_create(struct dp_mtu **out, const struct dp_mtu_cfg *cfg);

/**
 * dp_mtu_destroy() - free; NULL is fine.
 * @mt: state
 */
void dp_mtu_destroy(struct dp_mtu *mt);

/**
 * dp_mtu_note() - before the NAT: remember the leading bytes of a packet
 * that may be too big for a port, as its sender sent it.
 * @mt:   state
 * @slot: its index in the NAT batch (below DP_BURST_MAX)
 * @b:    the buffer as received
 * @m:    its parse result (IPv4)
 */
void dp_mtu_note(struct dp_mtu *mt, unsigned int slot, const struct dp_buf *b,
		 const struct pkt_meta *m);

/**
 * dp_mtu_check() - after the NAT: does the translated packet fit its egress?
 * @mt:          state
 * @slot:        its index in the NAT batch, as given to dp_mtu_note()
 * @b:           the buffer (for DP_MTU_ICMP rewritten as the error: an
 *               Ethernet frame if @from_inside, else an IP packet)
 * @l3:          offset of the IP header in @b
 * @m:           the parse result
 * @mtu:         the egress port's MTU (0: no limit)
 * @from_inside: the packet came from a guest (else from the uplink)
 * @now:         time, for the rate limit
 *
 * Return: enum dp_mtu_verdict.
 */
enum dp_mtu_verdict dp_mtu_check(struct dp_mtu *mt, unsigned int slot,
				 struct dp_buf *b, unsigned int l3,
				 const struct pkt_meta *m, unsigned int mtu,
				 bool from_inside, uint64_t now);

/**
 * dp_mtu_fragment() - send a translated packet as fragments.
 * @mt:  state
 * @b:   the packet; a partial L4 checksum is completed in it first
 * @l3:  offset of its IP header in @b; the bytes in front (the link
 *       header) are copied in front of every fragment
 * @mtu: the egress MTU (at most the configured mtu_max)
 * @tx:  sends @n fragments; the buffers are lent for the call
 * @ctx: its first argument
 *
 * Return: the number of fragments sent, or -EINVAL (not a sound packet,
 * offsets past 64 KiB) or -EMSGSIZE (@mtu below its header + 8): then
 * nothing was sent.
 */
int dp_mtu_fragment(struct dp_mtu *mt, struct dp_buf *b, unsigned int l3,
		    unsigned int mtu,
		    void (*tx)(void *ctx, struct dp_buf **bufs, unsigned int n),
		    void *ctx);

/**
 * dp_mtu_get_stats() - the counters.
 * @mt: state
 *
 * Return: pointer into @mt.
 */
const struct dp_mtu_stats *dp_mtu_get_stats(const struct dp_mtu *mt);

/**
 * dp_mtu_print_stats() - `stat mtu.*` lines.
 * @mt: state
 * @f:  stream
 */
void dp_mtu_print_stats(const struct dp_mtu *mt, FILE *f);

#endif /* ARCNAT_DP_MTU_H */
