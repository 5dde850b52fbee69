/* SPDX-License-Identifier: MIT */
/*
 * dhcp.h - DHCPv4 wire format: the BOOTP header (RFC 951, RFC 2131 section
 * 2), the magic cookie, option codes (RFC 2132, RFC 3397, RFC 4361) and
 * message types.
 *
 * A DHCP message is a BOOTP message whose 'vend' field starts with the
 * magic cookie 99.130.83.99 and continues with options: a code byte, a
 * length byte and that many bytes of value; PAD (0) and END (255) are single
 * bytes. Option 52 ("overload") lets the 'file' and 'sname' fields carry
 * more options.
 */
#ifndef ARCNAT_PROT_DHCP_H
#define ARCNAT_PROT_DHCP_H

#include <stdint.h>

#include "core/compiler.h"

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68

/* bootp_hdr.op */
#define BOOTP_REQUEST		1
#define BOOTP_REPLY		2

#define BOOTP_HTYPE_ETHER	1
#define BOOTP_FLAG_BROADCAST	0x8000	/* bootp_hdr.flags, host order */

#define BOOTP_CHADDR_LEN	16
#define BOOTP_SNAME_LEN		64
#define BOOTP_FILE_LEN		128
#define BOOTP_HDR_LEN		236	/* everything before 'vend' */
/* The smallest BOOTP message: a 64-byte 'vend' field (RFC 951, RFC 1542 2.1). */
#define BOOTP_MIN_LEN		300

#define DHCP_MAGIC_LEN		4
#define DHCP_OPTS_OFF		(BOOTP_HDR_LEN + DHCP_MAGIC_LEN)	/* 240 */
/* Every client takes an IP datagram of 576 bytes (RFC 2131 section 2). */
#define DHCP_MIN_MAX_MSG	576

/* The magic cookie, as bytes on the wire (RFC 2131 section 3). */
#define DHCP_MAGIC_0		99
#define DHCP_MAGIC_1		130
#define DHCP_MAGIC_2		83
#define DHCP_MAGIC_3		99

/**
 * struct bootp_hdr - the fixed part of a BOOTP/DHCP message.
 * @op:     BOOTP_REQUEST or BOOTP_REPLY
 * @htype:  hardware address type (1 = Ethernet)
 * @hlen:   hardware address length (6 for Ethernet)
 * @hops:   relay hops
 * @xid:    transaction id chosen by the client
 * @secs:   seconds since the client began
 * @flags:  BOOTP_FLAG_BROADCAST (network order on the wire)
 * @ciaddr: client address, when it has one (BOUND, RENEWING, REBINDING)
 * @yiaddr: "your" address: what the server gives
 * @siaddr: next server (boot)
 * @giaddr: relay agent address
 * @chaddr: client hardware address, @hlen bytes used
 * @sname:  server host name, or options when overloaded
 * @file:   boot file name, or options when overloaded
 */
struct bootp_hdr {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;
	uint8_t hops;
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	uint32_t ciaddr;
	uint32_t yiaddr;
	uint32_t siaddr;
	uint32_t giaddr;
	uint8_t chaddr[BOOTP_CHADDR_LEN];
	uint8_t sname[BOOTP_SNAME_LEN];
	uint8_t file[BOOTP_FILE_LEN];
} __packed;

static_assert(sizeof(struct bootp_hdr) == BOOTP_HDR_LEN, "BOOTP header is 236 bytes");

/* Option codes (RFC 2132 unless noted). */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOST_NAME = 12,
	DHCP_OPT_DOMAIN_NAME = 15,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_MSG_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_DOMAIN_SEARCH = 119,	/* RFC 3397 */
	DHCP_OPT_END = 255,
};

/* Option 52 values: which BOOTP fields also carry options. */
#define DHCP_OVERLOAD_FILE	1
#define DHCP_OVERLOAD_SNAME	2
#define DHCP_OVERLOAD_BOTH	3

/* Option 53 values (RFC 2131 section 3, RFC 2132 section 9.6). */
enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

#define DHCP_MSG_TYPE_MAX	DHCP_INFORM

#endif /* ARCNAT_PROT_DHCP_H */
