/* SPDX-License-Identifier: MIT */
/*
 * drop.h - why the parser refused a frame, one reason per distinct defect.
 *
 * Every rejection is a counted drop: the data path adds one to
 * pkt_drop_stats.count[reason] and may log it through a rate limiter. The
 * reasons and their names come from one X-macro list so that the enum and
 * the name table cannot drift apart.
 */
#ifndef ARCNAT_PKT_DROP_H
#define ARCNAT_PKT_DROP_H

#include <stdint.h>

#include "core/compiler.h"

/* X(enum suffix, name, what it means) */
#define PKT_DROP_LIST(X)                                                          \
	X(OK, "ok", "not dropped")                                                \
	X(ETH_TRUNCATED, "eth_truncated", "frame shorter than an Ethernet header") \
	X(VLAN_TRUNCATED, "vlan_truncated", "802.1Q tag cut short")               \
	X(VLAN_STACKED, "vlan_stacked", "more than one VLAN tag")                 \
	X(L3_UNKNOWN, "l3_unknown", "L3-only packet that is neither IPv4 nor IPv6") \
	X(ARP_TRUNCATED, "arp_truncated", "ARP packet cut short")                 \
	X(ARP_UNSUPPORTED, "arp_unsupported", "ARP not for Ethernet and IPv4")    \
	X(IP4_TRUNCATED, "ip4_truncated", "IPv4 header cut short")                \
	X(IP4_BAD_VERSION, "ip4_bad_version", "IPv4 EtherType, other IP version") \
	X(IP4_BAD_IHL, "ip4_bad_ihl", "IPv4 IHL below 5")                         \
	X(IP4_TOTLEN_BEYOND, "ip4_totlen_beyond", "IPv4 total length beyond the frame") \
	X(IP4_TOTLEN_SHORT, "ip4_totlen_short", "IPv4 total length below the header") \
	X(IP4_BAD_CSUM, "ip4_bad_csum", "IPv4 header checksum wrong")             \
	X(IP4_BAD_OPTION, "ip4_bad_option", "IPv4 option length malformed")       \
	X(IP4_FRAG_OVERSIZE, "ip4_frag_oversize", "IPv4 fragment ends past 65535") \
	X(IP6_TRUNCATED, "ip6_truncated", "IPv6 header cut short")                \
	X(IP6_BAD_VERSION, "ip6_bad_version", "IPv6 EtherType, other IP version") \
	X(IP6_PAYLOAD_BEYOND, "ip6_payload_beyond", "IPv6 payload length beyond the frame") \
	X(IP6_EXT_TRUNCATED, "ip6_ext_truncated", "IPv6 extension header cut short") \
	X(IP6_EXT_TOO_MANY, "ip6_ext_too_many", "more IPv6 extension headers than allowed") \
	X(IP6_EXT_ORDER, "ip6_ext_order", "hop-by-hop not first, or two fragment headers") \
	X(IP6_FRAG_OVERSIZE, "ip6_frag_oversize", "IPv6 fragment ends past 65535") \
	X(FRAG_TINY, "frag_tiny", "first fragment too short for its L4 header")   \
	X(FRAG_OVERLAP_L4, "frag_overlap_l4", "fragment at offset 8 overlapping the TCP header") \
	X(TCP_TRUNCATED, "tcp_truncated", "TCP header cut short")                 \
	X(TCP_BAD_DOFF, "tcp_bad_doff", "TCP data offset below 5")                \
	X(TCP_DOFF_BEYOND, "tcp_doff_beyond", "TCP data offset beyond the segment") \
	X(UDP_TRUNCATED, "udp_truncated", "UDP header cut short")                 \
	X(UDP_BAD_LEN, "udp_bad_len", "UDP length below 8 or beyond the datagram") \
	X(ICMP_TRUNCATED, "icmp_truncated", "ICMP header cut short")              \
	X(ICMP_INNER_TRUNCATED, "icmp_inner_truncated", "ICMP error without a whole embedded IP header") \
	X(ICMP_INNER_BAD, "icmp_inner_bad", "ICMP error embedding a malformed IP header") \
	X(ICMP_NESTED_ERROR, "icmp_nested_error", "ICMP error about an ICMP error (RFC 1122 3.2.2)")

enum pkt_drop {
#define PKT_DROP_ENUM(sym, name, desc) PKT_DROP_##sym,
	PKT_DROP_LIST(PKT_DROP_ENUM)
#undef PKT_DROP_ENUM
	PKT_DROP__MAX
};

/* PKT_DROP_OK is 0 so that `if (reason)` reads as "was dropped". */
static_assert(PKT_DROP_OK == 0, "PKT_DROP_OK must be 0");

/**
 * struct pkt_drop_stats - one counter per reason (index PKT_DROP_OK unused).
 * @count: drops per reason
 */
struct pkt_drop_stats {
	uint64_t count[PKT_DROP__MAX];
};

/**
 * pkt_drop_name() - short stable name ("ip4_bad_ihl") for counters and logs.
 * @reason: a reason; out-of-range values give "invalid"
 *
 * Return: a static string.
 */
const char *pkt_drop_name(enum pkt_drop reason);

/**
 * pkt_drop_desc() - one-line human description of a reason.
 * @reason: a reason; out-of-range values give "invalid"
 *
 * Return: a static string.
 */
const char *pkt_drop_desc(enum pkt_drop reason);

/* Count one drop. @reason must come from pkt_parse() (always in range). */
static inline void pkt_drop_count(struct pkt_drop_stats *s, enum pkt_drop reason)
{
	s->count[reason]++;
}

#endif /* ARCNAT_PKT_DROP_H */
