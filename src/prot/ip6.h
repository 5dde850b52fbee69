/* SPDX-License-Identifier: MIT */
/*
 * ip6.h - the IPv6 header (RFC 8200) and the extension headers arcnat walks.
 */
#ifndef ARCNAT_PROT_IP6_H
#define ARCNAT_PROT_IP6_H

#include <stdint.h>

#include "core/compiler.h"
#include "prot/ip4.h"	/* IPPROTO_NUM_* values are shared */

#define IP6_HLEN	40
#define IP6_ALEN	16

struct ip6_hdr {
	uint32_t ver_tc_flow;	/* version(4) traffic class(8) flow label(20) */
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	uint8_t saddr[IP6_ALEN];
	uint8_t daddr[IP6_ALEN];
} __packed;

static_assert(sizeof(struct ip6_hdr) == IP6_HLEN, "IPv6 header is 40 bytes");

/*
 * Hop-by-hop, routing and destination options share this prefix; their
 * length is (hdrlen + 1) * 8 bytes (RFC 8200 sections 4.3, 4.4, 4.6).
 */
struct ip6_ext_hdr {
	uint8_t nexthdr;
	uint8_t hdrlen;
} __packed;

static_assert(sizeof(struct ip6_ext_hdr) == 2, "IPv6 extension prefix is 2 bytes");

/* Fragment header (RFC 8200 section 4.5): always 8 bytes. */
struct ip6_frag_hdr {
	uint8_t nexthdr;
	uint8_t reserved;
	uint16_t frag_off;	/* offset(13) res(2) M(1) */
	uint32_t id;
} __packed;

#define IP6_FRAG_HLEN		8
#define IP6_FRAG_MF		0x0001
#define IP6_FRAG_OFFSET_MASK	0xfff8	/* offset in bytes, low 3 bits clear */
static_assert(sizeof(struct ip6_frag_hdr) == IP6_FRAG_HLEN, "IPv6 fragment header is 8 bytes");

/* AH length is (hdrlen + 2) * 4 bytes (RFC 4302 section 2.2). */
#define IP6_EXT_UNIT	8

static inline unsigned int ip6_version(const struct ip6_hdr *ip)
{
	return ((const uint8_t *)ip)[0] >> 4;
}

#endif /* ARCNAT_PROT_IP6_H */
