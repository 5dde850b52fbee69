/* SPDX-License-Identifier: MIT */
/*
 * ip4.h - the IPv4 header (RFC 791) and its constants.
 */
#ifndef ARCNAT_PROT_IP4_H
#define ARCNAT_PROT_IP4_H

#include <arpa/inet.h>
#include <stdint.h>

#include "core/compiler.h"

#define IP4_HLEN_MIN	20
#define IP4_HLEN_MAX	60	/* IHL is 4 bits of 32-bit words */
#define IP4_MAX_LEN	65535

/* frag_off field (host order after ntohs). */
#define IP4_FLAG_RF	0x8000	/* reserved, must be zero */
#define IP4_FLAG_DF	0x4000	/* don't fragment */
#define IP4_FLAG_MF	0x2000	/* more fragments */
#define IP4_OFFSET_MASK	0x1fff	/* fragment offset in 8-byte units */

/* Options (RFC 791 section 3.1). Kinds 0 and 1 are single bytes. */
#define IP4_OPT_EOL	0
#define IP4_OPT_NOP	1

/* Protocol numbers (IANA), shared with IPv6 next-header values. */
#define IPPROTO_NUM_HOPOPTS	0
#define IPPROTO_NUM_ICMP	1
#define IPPROTO_NUM_TCP		6
#define IPPROTO_NUM_UDP		17
#define IPPROTO_NUM_ROUTING	43
#define IPPROTO_NUM_FRAGMENT	44
#define IPPROTO_NUM_ESP		50
#define IPPROTO_NUM_AH		51
#define IPPROTO_NUM_ICMPV6	58
#define IPPROTO_NUM_NONE	59
#define IPPROTO_NUM_DSTOPTS	60

struct ip4_hdr {
	uint8_t ver_ihl;	/* version(4) IHL(4) */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;	/* flags(3) offset(13) */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
	/* options follow when IHL > 5 */
} __packed;

static_assert(sizeof(struct ip4_hdr) == IP4_HLEN_MIN, "IPv4 header is 20 bytes");

/* ip4_prefix_mask() - netmask of a prefix length 0..32, network order.
 * Shifted in 64 bits so that 0 and 32 need no special case. */
static inline uint32_t ip4_prefix_mask(unsigned int plen)
{
	return htonl((uint32_t)(0xffffffff00000000ULL >> (plen > 32 ? 32 : plen)));
}

static inline unsigned int ip4_version(const struct ip4_hdr *ip)
{
	return ip->ver_ihl >> 4;
}

/* Header length in bytes, from IHL. */
static inline unsigned int ip4_hlen(const struct ip4_hdr *ip)
{
	return (ip->ver_ihl & 0x0fu) * 4u;
}

#endif /* ARCNAT_PROT_IP4_H */
