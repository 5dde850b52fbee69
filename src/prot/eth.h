/* SPDX-License-Identifier: MIT */
/*
 * eth.h - Ethernet II and IEEE 802.1Q wire formats.
 *
 * All wire structs in src/prot are packed (alignment 1): a frame buffer can
 * start anywhere and the IP header after a 14-byte Ethernet header is only
 * 2-byte aligned. Multi-byte fields are in network byte order.
 */
#ifndef ARCNAT_PROT_ETH_H
#define ARCNAT_PROT_ETH_H

#include <stdint.h>

#include "core/compiler.h"

#define ETH_ALEN	6
#define ETH_HLEN	14	/* dst, src, ethertype */
#define ETH_VLAN_HLEN	4	/* one 802.1Q tag: TPID 0x8100 + TCI */
#define ETH_MIN_FRAME	60	/* without FCS; shorter frames are padded */

/* A MAC address in a format: printf("to " ETH_MAC_FMT, ETH_MAC_ARG(mac)). */
#define ETH_MAC_FMT	"%02x:%02x:%02x:%02x:%02x:%02x"
#define ETH_MAC_ARG(m)	(m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

/* EtherTypes (host order; compare with ntohs of the wire field). */
#define ETH_P_IPV4	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ETH_P_IPV6	0x86DD

/* 802.1Q tag control information. */
#define VLAN_VID_MASK	0x0fff
#define VLAN_PCP_SHIFT	13

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
} __packed;

/* The 4 bytes that follow the source address in a tagged frame. */
struct vlan_tag {
	uint16_t tci;	/* PCP(3) DEI(1) VID(12) */
	uint16_t type;	/* the encapsulated EtherType */
} __packed;

static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet header is 14 bytes");
static_assert(sizeof(struct vlan_tag) == ETH_VLAN_HLEN, "802.1Q tag is 4 bytes");

#endif /* ARCNAT_PROT_ETH_H */
