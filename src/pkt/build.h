/* SPDX-License-Identifier: MIT */
/*
 * build.h - write whole frames: Ethernet (+802.1Q) + IPv4/IPv6 + TCP, UDP,
 * ICMP, ICMPv6 or raw payload; and ARP. For services (which answer guests)
 * and for tests and fuzz corpora.
 *
 * Theory of operation: the caller describes the frame in a struct pkt_spec
 * (zero means "the usual default" for every field where that makes sense)
 * and pkt_build() lays it out into a caller-owned buffer, filling every
 * length and checksum. Checksums are computed in full: builders are not on
 * the forwarding path. Malformed frames for tests are made by building a
 * good one and changing bytes afterwards.
 */
#ifndef ARCNAT_PKT_BUILD_H
#define ARCNAT_PKT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prot/eth.h"
#include "prot/ip6.h"

/**
 * struct pkt_spec - what pkt_build() should write.
 * @no_eth:      write an L3 packet (for TUN), no Ethernet header
 * @eth_dst:     Ethernet destination
 * @eth_src:     Ethernet source
 * @vlan:        add one 802.1Q tag carrying @vlan_tci
 * @vlan_tci:    TCI (host order)
 * @ip6:         IPv6 instead of IPv4
 * @src4:        IPv4 source, network order
 * @dst4:        IPv4 destination, network order
 * @src6:        IPv6 source
 * @dst6:        IPv6 destination
 * @ttl:         TTL / hop limit; 0 means 64
 * @tos:         IPv4 TOS / IPv6 traffic class
 * @ip_id:       IPv4 identification (host order)
 * @ip4_frag:    IPv4 flags and fragment offset field (host order, e.g.
 *               IP4_FLAG_DF, or IP4_FLAG_MF | offset_in_8_byte_units)
 * @ip4_opts:    IPv4 options, @ip4_opts_len bytes, a multiple of 4, <= 40
 * @ip6_ext:     IPv6 extension headers written as given between the IPv6
 *               header and L4, @ip6_ext_len bytes; the IPv6 next header is
 *               then @ip6_ext_first and the chain must end in @proto
 * @proto:       IPPROTO_NUM_TCP, _UDP, _ICMP, _ICMPV6, or anything with @l4_raw
 * @l4_raw:      no L4 header: @payload follows the L3 headers directly
 *               (fragments, other protocols, hand-made L4)
 * @sport:       source port (host order)
 * @dport:       destination port (host order)
 * @seq:         TCP sequence number (host order)
 * @ack:         TCP acknowledgment number (host order)
 * @tcp_flags:   TCP flags (TCP_SYN | ...)
 * @window:      TCP window; 0 means 65535
 * @mss:         TCP MSS option; 0 means none
 * @has_wscale:  add the window scale option with @wscale
 * @sack_perm:   add the SACK-permitted option
 * @has_ts:      add the timestamp option with @tsval and @tsecr
 * @udp_no_csum: IPv4 UDP with checksum 0 ("none", RFC 768)
 * @icmp_type:   ICMP(v6) type
 * @icmp_code:   ICMP(v6) code
 * @icmp_id:     echo identifier (host order); bytes 4-5 of the ICMP header
 * @icmp_seq:    echo sequence, or the MTU of "fragmentation needed" (host
 *               order); bytes 6-7 of the ICMP header
 * @payload:     L4 payload (for ICMP errors: the quoted packet)
 * @payload_len: its length
 */
struct pkt_spec {
	bool no_eth;
	uint8_t eth_dst[ETH_ALEN];
	uint8_t eth_src[ETH_ALEN];
	bool vlan;
	uint16_t vlan_tci;

	bool ip6;
	uint32_t src4;
	uint32_t dst4;
	uint8_t src6[IP6_ALEN];
	uint8_t dst6[IP6_ALEN];
	uint8_t ttl;
	uint8_t tos;
	uint16_t ip_id;
	uint16_t ip4_frag;
	const void *ip4_opts;
	size_t ip4_opts_len;
	const void *ip6_ext;
	size_t ip6_ext_len;
	uint8_t ip6_ext_first;

	uint8_t proto;
	bool l4_raw;
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t tcp_flags;
	uint16_t window;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;
	bool sack_perm;
	bool has_ts;
	uint32_t tsval;
	uint32_t tsecr;
	bool udp_no_csum;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;
	uint16_t icmp_seq;

	const void *payload;
	size_t payload_len;
};

/**
 * pkt_build() - write the frame described by @s.
 * @s:   description
 * @buf: output buffer (caller-owned)
 * @cap: its size
 *
 * Return: the frame length, -ENOSPC if it does not fit in @cap, or -EINVAL
 * if @s is inconsistent (options too long or not a multiple of 4, an IP
 * packet over 65535 bytes).
 */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/**
 * pkt_build_arp() - write an Ethernet ARP packet (RFC 826).
 * @buf:     output buffer
 * @cap:     its size
 * @op:      ARP_OP_REQUEST or ARP_OP_REPLY
 * @eth_dst: Ethernet destination (broadcast for requests)
 * @sha:     sender hardware address (also the Ethernet source)
 * @spa:     sender IPv4 address, network order
 * @tha:     target hardware address (zero in requests)
 * @tpa:     target IPv4 address, network order
 *
 * Return: the frame length (42, unpadded), or -ENOSPC.
 */
int pkt_build_arp(uint8_t *buf, size_t cap, uint16_t op,
		  const uint8_t eth_dst[ETH_ALEN], const uint8_t sha[ETH_ALEN],
		  uint32_t spa, const uint8_t tha[ETH_ALEN], uint32_t tpa);

/* An ICMPv4 error is at most 576 bytes (RFC 1812 section 4.3.2.3): the
 * quote takes what is left after the IPv4 and ICMP headers. */
#define PKT_ICMP4_ERR_MAX	576u
#define PKT_ICMP4_QUOTE_MAX	(PKT_ICMP4_ERR_MAX - 20u - 8u)

/**
 * struct pkt_icmp4_err - an ICMPv4 error message about a packet.
 * @no_eth:    write an L3 packet, no Ethernet header
 * @eth_dst:   Ethernet destination (unless @no_eth)
 * @eth_src:   Ethernet source (unless @no_eth)
 * @src4:      source address of the error (the reporting router), network order
 * @dst4:      destination (the offending packet's source), network order
 * @ip_id:     IPv4 identification (host order)
 * @type:      ICMP type (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED...)
 * @code:      ICMP code
 * @mtu:       next-hop MTU (host order) for ICMP_FRAG_NEEDED (RFC 1191),
 *             written in bytes 6-7 of the ICMP header; 0 otherwise
 * @quote:     the offending packet from its IPv4 header on, as its sender
 *             sent it
 * @quote_len: bytes at @quote; at most PKT_ICMP4_QUOTE_MAX are used
 */
struct pkt_icmp4_err {
	bool no_eth;
	uint8_t eth_dst[ETH_ALEN];
	uint8_t eth_src[ETH_ALEN];
	uint32_t src4;
	uint32_t dst4;
	uint16_t ip_id;
	uint8_t type;
	uint8_t code;
	uint16_t mtu;
	const void *quote;
	size_t quote_len;
};

/**
 * pkt_build_icmp4_error() - write an ICMPv4 error message.
 * @e:   what to write
 * @buf: output buffer
 * @cap: its size
 *
 * The message gets TOS 0xc0 (precedence "internetwork control", RFC 1812
 * section 4.3.2.5), TTL 64, no DF, and as much of the quote as keeps it
 * within 576 bytes (RFC 1812 section 4.3.2.3; RFC 792 asks for at least the
 * IP header and 8 bytes).
 *
 * Return: the frame length, -EINVAL if the quote is shorter than an IPv4
 * header and 8 bytes, or -ENOSPC.
 */
int pkt_build_icmp4_error(const struct pkt_icmp4_err *e, uint8_t *buf,
			  size_t cap);

#endif /* ARCNAT_PKT_BUILD_H */
