/* SPDX-License-Identifier: MIT */
/*
 * icmp.h - ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) headers and types.
 *
 * Both share the 8-byte layout: type, code, checksum, then 4 bytes whose
 * meaning depends on the type (identifier and sequence for echo; unused, MTU
 * or pointer for errors). Error messages carry as much of the offending
 * packet as fits after those 8 bytes.
 */
#ifndef ARCNAT_PROT_ICMP_H
#define ARCNAT_PROT_ICMP_H

#include <stdint.h>

#include "core/compiler.h"

#define ICMP_HLEN 8

/* ICMPv4 types. */
#define ICMP_ECHOREPLY		0
#define ICMP_DEST_UNREACH	3
#define ICMP_SOURCE_QUENCH	4	/* deprecated (RFC 6633), still an error */
#define ICMP_REDIRECT		5
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12
#define ICMP_TIMESTAMP		13
#define ICMP_TIMESTAMPREPLY	14

/* ICMPv4 destination-unreachable codes arcnat emits or translates. */
#define ICMP_NET_UNREACH	0
#define ICMP_HOST_UNREACH	1
#define ICMP_PROT_UNREACH	2
#define ICMP_PORT_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMP_ADMIN_PROHIBITED	13

/* ICMPv6 types. Errors are 0..127, informational 128..255. */
#define ICMP6_DEST_UNREACH	1
#define ICMP6_PACKET_TOO_BIG	2
#define ICMP6_TIME_EXCEEDED	3
#define ICMP6_PARAMPROB		4
#define ICMP6_ECHO_REQUEST	128
#define ICMP6_ECHO_REPLY	129
#define ICMP6_ROUTER_SOLICIT	133
#define ICMP6_ROUTER_ADVERT	134
#define ICMP6_NEIGH_SOLICIT	135
#define ICMP6_NEIGH_ADVERT	136
#define ICMP6_REDIRECT		137

struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	union {
		struct {
			uint16_t id;
			uint16_t seq;
		} echo;
		uint32_t unused;
		struct {
			uint16_t unused;
			uint16_t mtu;
		} frag;		/* ICMPv4 "fragmentation needed" (RFC 1191) */
		uint32_t mtu6;	/* ICMPv6 "packet too big" */
		uint32_t pointer;
	} un;
} __packed;

static_assert(sizeof(struct icmp_hdr) == ICMP_HLEN, "ICMP header is 8 bytes");

#endif /* ARCNAT_PROT_ICMP_H */
