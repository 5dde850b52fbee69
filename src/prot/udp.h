/* SPDX-License-Identifier: MIT */
/*
 * udp.h - the UDP header (RFC 768).
 */
#ifndef ARCNAT_PROT_UDP_H
#define ARCNAT_PROT_UDP_H

#include <stdint.h>

#include "core/compiler.h"

#define UDP_HLEN 8

struct udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;	/* header + payload */
	uint16_t check;	/* 0 = none (IPv4 only) */
} __packed;

static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "UDP header is 8 bytes");

#endif /* ARCNAT_PROT_UDP_H */
