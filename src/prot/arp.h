/* SPDX-License-Identifier: MIT */
/*
 * arp.h - ARP for IPv4 over Ethernet (RFC 826), the only kind arcnat speaks.
 */
#ifndef ARCNAT_PROT_ARP_H
#define ARCNAT_PROT_ARP_H

#include <stdint.h>

#include "core/compiler.h"
#include "prot/eth.h"

#define ARP_HTYPE_ETHER	1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2

/* struct arp_eth_ip4 - an ARP packet for Ethernet hardware and IPv4. */
struct arp_eth_ip4 {
	uint16_t htype;		/* ARP_HTYPE_ETHER */
	uint16_t ptype;		/* ETH_P_IPV4 */
	uint8_t hlen;		/* ETH_ALEN */
	uint8_t plen;		/* 4 */
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
} __packed;

#define ARP_ETH_IP4_LEN 28
static_assert(sizeof(struct arp_eth_ip4) == ARP_ETH_IP4_LEN, "ARP/Ethernet/IPv4 is 28 bytes");

#endif /* ARCNAT_PROT_ARP_H */
