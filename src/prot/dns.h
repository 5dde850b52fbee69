/* SPDX-License-Identifier: MIT */
/*
 * dns.h - the DNS message format (RFC 1035 section 4, EDNS0 RFC 6891).
 *
 * A message is a 12-byte header and four sections: question, answer,
 * authority, additional. Names are sequences of labels (a length byte
 * 1..63, then the bytes) ended by a zero byte, at most 255 bytes in all;
 * a length byte with the top two bits set is instead the first byte of a
 * 14-bit compression pointer to an earlier offset in the message. Every
 * resource record is a name, then struct dns_rr_fixed, then rdlength bytes
 * of data. All multi-byte fields are big-endian.
 */
#ifndef ARCNAT_PROT_DNS_H
#define ARCNAT_PROT_DNS_H

#include <stdint.h>

#include "core/compiler.h"

#define DNS_PORT	53
#define DNS_HLEN	12
#define DNS_UDP_MIN	512	/* classic limit; smaller EDNS0 sizes mean it */
#define DNS_EDNS_MAX	4096	/* the largest UDP answer we ask for and give */
#define DNS_MSG_MAX	65535	/* TCP length prefix is 16 bits */

#define DNS_NAME_MAX	255	/* wire form, including the root's zero byte */
#define DNS_LABEL_MAX	63
#define DNS_PTR_MASK	0xc0	/* both top bits: compression pointer */
#define DNS_PTR_OFF_MASK 0x3fff

/* struct dns_hdr - the header; flags as below, counts of each section. */
struct dns_hdr {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;
} __packed;

static_assert(sizeof(struct dns_hdr) == DNS_HLEN, "DNS header is 12 bytes");

/* Header flags (host order of the 16-bit field). */
#define DNS_F_QR	  0x8000	/* a response */
#define DNS_F_OPCODE_MASK 0x7800
#define DNS_F_OPCODE_SHIFT 11
#define DNS_F_AA	  0x0400	/* authoritative answer */
#define DNS_F_TC	  0x0200	/* truncated */
#define DNS_F_RD	  0x0100	/* recursion desired */
#define DNS_F_RA	  0x0080	/* recursion available */
#define DNS_F_Z		  0x0040	/* reserved, zero */
#define DNS_F_AD	  0x0020	/* authentic data (RFC 4035) */
#define DNS_F_CD	  0x0010	/* checking disabled (RFC 4035) */
#define DNS_F_RCODE_MASK  0x000f

#define DNS_OPCODE_QUERY  0
#define DNS_OPCODE_IQUERY 1
#define DNS_OPCODE_STATUS 2
#define DNS_OPCODE_NOTIFY 4
#define DNS_OPCODE_UPDATE 5

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP   4
#define DNS_RCODE_REFUSED  5
#define DNS_RCODE_BADVERS  16	/* extended (EDNS0): 12 bits, upper 8 in OPT */

#define DNS_TYPE_A	1
#define DNS_TYPE_NS	2
#define DNS_TYPE_CNAME	5
#define DNS_TYPE_SOA	6
#define DNS_TYPE_PTR	12
#define DNS_TYPE_MX	15
#define DNS_TYPE_TXT	16
#define DNS_TYPE_AAAA	28
#define DNS_TYPE_OPT	41
#define DNS_TYPE_ANY	255

#define DNS_CLASS_IN	1
#define DNS_CLASS_CH	3
#define DNS_CLASS_ANY	255

/*
 * struct dns_rr_fixed - what follows a record's owner name. For OPT
 * (RFC 6891 section 6.1.2) @class is the sender's UDP payload size and
 * @ttl holds the extended rcode (8 bits), the version (8 bits), the DO bit
 * and zeros.
 */
struct dns_rr_fixed {
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	uint16_t rdlength;
} __packed;

#define DNS_RR_FIXED_LEN 10
static_assert(sizeof(struct dns_rr_fixed) == DNS_RR_FIXED_LEN,
	      "RR fixed part is 10 bytes");

/* struct dns_q_fixed - what follows the question's name. */
struct dns_q_fixed {
	uint16_t qtype;
	uint16_t qclass;
} __packed;

#define DNS_Q_FIXED_LEN 4
static_assert(sizeof(struct dns_q_fixed) == DNS_Q_FIXED_LEN,
	      "question fixed part is 4 bytes");

/* An OPT record with no options: root name, fixed part, empty rdata. */
#define DNS_OPT_LEN	(1 + DNS_RR_FIXED_LEN)
#define DNS_OPT_DO	0x8000	/* DNSSEC OK, in the low 16 bits of the TTL */

/* RFC 2181 section 8: a TTL with the top bit set is read as zero. */
#define DNS_TTL_MAX	0x7fffffffu

/* SOA rdata after its two names: serial, refresh, retry, expire, minimum. */
#define DNS_SOA_FIXED_LEN 20

#endif /* ARCNAT_PROT_DNS_H */
