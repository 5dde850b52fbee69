/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - the TCP header (RFC 9293) and the options arcnat reads.
 */
#ifndef ARCNAT_PROT_TCP_H
#define ARCNAT_PROT_TCP_H

#include <stdint.h>

#include "core/compiler.h"

#define TCP_HLEN_MIN	20
#define TCP_HLEN_MAX	60

/* Flags in the low byte of doff_flags (host order). */
#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10
#define TCP_URG	0x20
#define TCP_ECE	0x40
#define TCP_CWR	0x80

/* Option kinds (IANA) and their fixed lengths. */
#define TCP_OPT_EOL		0
#define TCP_OPT_NOP		1
#define TCP_OPT_MSS		2
#define TCP_OPT_WSCALE		3
#define TCP_OPT_SACK_PERM	4
#define TCP_OPT_SACK		5
#define TCP_OPT_TIMESTAMP	8
#define TCP_OLEN_MSS		4
#define TCP_OLEN_WSCALE		3
#define TCP_OLEN_SACK_PERM	2
#define TCP_OLEN_TIMESTAMP	10
#define TCP_WSCALE_MAX		14	/* RFC 7323 section 2.3 */

struct tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack_seq;
	uint8_t doff_res;	/* data offset(4) reserved(3) AE(1) */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg_ptr;
	/* options follow when data offset > 5 */
} __packed;

static_assert(sizeof(struct tcp_hdr) == TCP_HLEN_MIN, "TCP header is 20 bytes");

/* Header length in bytes, from the data offset. */
static inline unsigned int tcp_hlen(const struct tcp_hdr *th)
{
	return (th->doff_res >> 4) * 4u;
}

#endif /* ARCNAT_PROT_TCP_H */
