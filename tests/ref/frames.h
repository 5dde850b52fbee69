/* SPDX-License-Identifier: MIT */
/*
 * frames.h - test frames from tuples: a thin layer over pkt_build() for
 * tests that think in connection-table terms (addresses and ports in
 * network order, an ICMP echo's identifier in the source port).
 *
 * Every function writes a complete, valid Ethernet + IPv4 frame (or a bare
 * IPv4 packet, for quoting inside ICMP errors) with correct lengths and
 * checksums; tests that need a broken frame change bytes afterwards and
 * call frame_fix_ip4_csum() if the IPv4 header must stay valid.
 */
#ifndef ARCNAT_REF_FRAMES_H
#define ARCNAT_REF_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct/tuple.h"
#include "pkt/meta.h"

/**
 * struct frame_desc - one IPv4 packet.
 * @saddr:       source address, network order
 * @daddr:       destination address, network order
 * @sport:       source port, or the ICMP echo identifier (network order)
 * @dport:       destination port (network order; unused for ICMP)
 * @proto:       IPPROTO_NUM_TCP, _UDP, _ICMP or anything with @l4_raw
 * @l4_raw:      no L4 header: the payload follows the IPv4 header (a
 *               non-first fragment, another protocol)
 * @tcp_flags:   TCP flags
 * @seq:         TCP sequence number (host order)
 * @ack:         TCP acknowledgment number (host order)
 * @window:      TCP window (host order; 0 means 65535)
 * @has_wscale:  add the window scale option with @wscale
 * @wscale:      its value
 * @sack_perm:   add the SACK-permitted option
 * @mss:         MSS option (0: none)
 * @udp_no_csum: UDP checksum 0 ("none")
 * @icmp_type:   ICMP type
 * @icmp_code:   ICMP code
 * @icmp_rest:   bytes 4-7 of the ICMP header (host order) for non-echo types
 * @icmp_seq:    echo sequence number (host order)
 * @ip_id:       IPv4 identification (host order)
 * @ip4_frag:    IPv4 flags and fragment offset field (host order)
 * @ip4_opts:    IPv4 options (a multiple of 4 bytes, at most 40) or NULL
 * @ip4_opts_len: their length
 * @payload:     payload bytes (may be NULL with @payload_len 0)
 * @payload_len: payload length
 */
struct frame_desc {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	bool l4_raw;
	uint8_t tcp_flags;
	uint32_t seq;
	uint32_t ack;
	uint16_t window;
	bool has_wscale;
	uint8_t wscale;
	bool sack_perm;
	uint16_t mss;
	bool udp_no_csum;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint32_t icmp_rest;
	uint16_t icmp_seq;
	uint16_t ip_id;
	uint16_t ip4_frag;
	const void *ip4_opts;
	size_t ip4_opts_len;
	const void *payload;
	size_t payload_len;
};

/**
 * frame_desc_from_tuple() - start a description from a tuple.
 * @d: zeroed, then given @t's addresses, ports and protocol
 * @t: the tuple the packet must carry (ICMP echo: the id in @t->sport)
 */
void frame_desc_from_tuple(struct frame_desc *d, const struct ct_tuple *t);

/**
 * frame_build() - write the packet @d describes.
 * @d:      description
 * @no_eth: write a bare IPv4 packet (no Ethernet header)
 * @buf:    output
 * @cap:    its size
 *
 * Return: the length written, or -errno from pkt_build().
 */
int frame_build(const struct frame_desc *d, bool no_eth, uint8_t *buf,
		size_t cap);

/**
 * frame_icmp_error() - an Ethernet + IPv4 ICMP error quoting @quote.
 * @saddr:     source, network order
 * @daddr:     destination, network order
 * @type:      ICMP type (3, 4, 5, 11, 12)
 * @code:      ICMP code
 * @rest:      bytes 4-7 of the ICMP header, host order (MTU, gateway...)
 * @quote:     the quoted bytes (an IPv4 header and what follows it)
 * @quote_len: how many
 * @buf:       output
 * @cap:       its size
 *
 * Return: the frame length, or -errno.
 */
int frame_icmp_error(uint32_t saddr, uint32_t daddr, uint8_t type, uint8_t code,
		     uint32_t rest, const void *quote, size_t quote_len,
		     uint8_t *buf, size_t cap);

/**
 * frame_set_csum_partial() - turn a parsed TCP or UDP frame into a
 * CHECKSUM_PARTIAL one: the L4 checksum field gets the folded, not
 * inverted, pseudo-header sum, as a guest's virtio-net NEEDS_CSUM packet
 * carries it. ICMP (no pseudo-header) gets 0 there.
 * @frame: the frame
 * @m:     its pkt_parse() result
 */
void frame_set_csum_partial(uint8_t *frame, const struct pkt_meta *m);

/**
 * frame_l4_csum_off() - offset of the L4 checksum field in a parsed frame.
 * @m: pkt_parse() result (TCP, UDP or ICMP with PKT_F_L4)
 *
 * Return: the offset from the frame start, or 0 if there is none.
 */
size_t frame_l4_csum_off(const struct pkt_meta *m);

/**
 * frame_csums_ok() - check every checksum of a parsed IPv4 frame that can
 * be checked: the IPv4 header; the TCP, UDP (unless 0) or ICMP checksum
 * over the whole datagram unless the frame is a fragment; with @partial,
 * instead, that a TCP or UDP field holds the pseudo-header sum; for an
 * ICMP error, also the quoted IPv4 header.
 * @frame:   the frame
 * @m:       its pkt_parse() result
 * @partial: the frame is CHECKSUM_PARTIAL
 *
 * Return: true if all of them hold.
 */
bool frame_csums_ok(const uint8_t *frame, const struct pkt_meta *m,
		    bool partial);

/**
 * frame_fix_ip4_csum() - recompute the IPv4 header checksum of a frame.
 * @frame:  the frame
 * @l3_off: offset of its IPv4 header
 */
void frame_fix_ip4_csum(uint8_t *frame, size_t l3_off);

/**
 * frame_hexdump() - print @len bytes to stderr, 16 a line, after @label.
 * @label: a title line
 * @p:     bytes
 * @len:   count
 */
void frame_hexdump(const char *label, const uint8_t *p, size_t len);

#endif /* ARCNAT_REF_FRAMES_H */
