/* SPDX-License-Identifier: MIT */
/*
 * meta.h - struct pkt_meta: what pkt_parse() learned about one frame.
 *
 * Theory of operation: the parser validates a frame once and records offsets
 * and a few decoded fields; everything after it (classifier, conntrack, NAT,
 * services) trusts these offsets instead of re-reading length fields. The
 * struct holds no pointer into the frame: the frame has one owner, and the
 * metadata is only a description of it (offsets are from the frame start).
 *
 * Ports, ICMP identifiers and addresses stay in network byte order, as the
 * conntrack tuple wants them (docs/architecture.md "Conventions", rule
 * 5); TCP option
 * values, lengths and offsets are in host order.
 */
#ifndef ARCNAT_PKT_META_H
#define ARCNAT_PKT_META_H

#include <stdint.h>
#include <string.h>

#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/ip6.h"

enum pkt_l3 {
	PKT_L3_NONE = 0,	/* nothing parsed */
	PKT_L3_ARP,
	PKT_L3_IPV4,
	PKT_L3_IPV6,
	PKT_L3_OTHER,		/* an EtherType arcnat does not parse */
};

/* pkt_meta.flags */
#define PKT_F_VLAN		(1u << 0)	/* one 802.1Q tag was present */
#define PKT_F_L4		(1u << 1)	/* the L4 header was parsed */
#define PKT_F_FRAG		(1u << 2)	/* a fragment (MF set or offset > 0) */
#define PKT_F_FRAG_LATER	(1u << 3)	/* a non-first fragment: no L4 header */
#define PKT_F_IP4_OPTS		(1u << 4)	/* IPv4 header has options */
#define PKT_F_TCP_MSS		(1u << 5)
#define PKT_F_TCP_WSCALE	(1u << 6)
#define PKT_F_TCP_SACK_PERM	(1u << 7)
#define PKT_F_TCP_TS		(1u << 8)
#define PKT_F_ICMP_ERROR	(1u << 9)	/* ICMP(v6) error: `inner` is valid */
#define PKT_F_ICMP_ECHO		(1u << 10)	/* echo request/reply: icmp_id valid */
#define PKT_F_TRIMMED		(1u << 11)	/* bytes after the IP packet ignored */

/* pkt_inner.flags */
#define PKT_INNER_PORTS		(1u << 0)	/* sport/dport (or echo id) present */
#define PKT_INNER_FRAG_LATER	(1u << 1)	/* inner is a non-first fragment */
#define PKT_INNER_ECHO		(1u << 2)	/* inner is an ICMP echo: id in sport */

/* Bound on IPv6 extension headers walked per packet: every loop driven by
 * packets has a bound (docs/architecture.md "Conventions", rule 6). */
#define PKT_IP6_EXT_MAX 8

/**
 * struct pkt_inner - the packet embedded in an ICMP error, as far as present.
 * @l3_off:   offset of the embedded IP header
 * @l4_off:   offset of the embedded L4 header, 0 when not reached
 * @l4_avail: bytes of embedded L4 data present in the frame (often just 8)
 * @l3:       PKT_L3_IPV4 or PKT_L3_IPV6 (same family as the outer packet)
 * @proto:    embedded L4 protocol
 * @flags:    PKT_INNER_*
 * @sport:    embedded source port (or echo identifier), network order
 * @dport:    embedded destination port, network order
 */
struct pkt_inner {
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t l4_avail;
	uint8_t l3;
	uint8_t proto;
	uint8_t flags;
	uint16_t sport;
	uint16_t dport;
};

/**
 * struct pkt_meta - validated description of one frame.
 * @len:         bytes of the frame that belong to it (Ethernet padding and
 *               other bytes after the IP packet excluded; see PKT_F_TRIMMED)
 * @l3_len:      IP packet length (IPv4 total length, IPv6 40 + payload)
 * @l4_len:      bytes from @l4_off to the end of the IP packet
 * @flags:       PKT_F_*
 * @l3_off:      offset of the L3 header (ARP or IP)
 * @l4_off:      offset of the L4 header; valid with PKT_F_L4
 * @payload_off: offset of the L4 payload; valid with PKT_F_L4
 * @ethertype:   EtherType after any VLAN tag (host order)
 * @vlan_tci:    the tag's TCI (host order); valid with PKT_F_VLAN
 * @l3:          enum pkt_l3
 * @l4_proto:    IP protocol / final IPv6 next header (also for fragments)
 * @frag_off:    fragment offset in bytes
 * @frag_id:     fragment identification (IPv4: 16 bits), host order
 * @sport:       L4 source port, or echo identifier for ICMP echo (network order)
 * @dport:       L4 destination port (network order); 0 for ICMP
 * @tcp_flags:   TCP flags byte
 * @tcp_wscale:  window scale option, clamped to 14 (RFC 7323 section 2.3)
 * @tcp_mss:     MSS option (host order)
 * @tcp_tsval:   timestamp value (host order)
 * @tcp_tsecr:   timestamp echo reply (host order)
 * @icmp_type:   ICMP or ICMPv6 type
 * @icmp_code:   ICMP or ICMPv6 code
 * @inner:       embedded packet of an ICMP error (PKT_F_ICMP_ERROR)
 */
struct pkt_meta {
	uint32_t len;
	uint32_t l3_len;
	uint32_t l4_len;
	uint32_t flags;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;
	uint16_t ethertype;
	uint16_t vlan_tci;
	uint8_t l3;
	uint8_t l4_proto;
	uint16_t frag_off;
	uint32_t frag_id;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;
	uint8_t tcp_wscale;
	uint16_t tcp_mss;
	uint32_t tcp_tsval;
	uint32_t tcp_tsecr;
	uint8_t icmp_type;
	uint8_t icmp_code;
	struct pkt_inner inner;
};

/* Source IPv4 address (network order) of a parsed IPv4 frame. */
static inline uint32_t pkt_ip4_saddr(const uint8_t *frame, const struct pkt_meta *m)
{
	uint32_t a;

	memcpy(&a, frame + m->l3_off + offsetof(struct ip4_hdr, saddr), 4);
	return a;
}

/* Destination IPv4 address (network order) of a parsed IPv4 frame. */
static inline uint32_t pkt_ip4_daddr(const uint8_t *frame, const struct pkt_meta *m)
{
	uint32_t a;

	memcpy(&a, frame + m->l3_off + offsetof(struct ip4_hdr, daddr), 4);
	return a;
}

/* Length of the L4 payload; valid with PKT_F_L4. */
static inline uint32_t pkt_payload_len(const struct pkt_meta *m)
{
	return m->l4_len - (uint32_t)(m->payload_off - m->l4_off);
}

#endif /* ARCNAT_PKT_META_H */
