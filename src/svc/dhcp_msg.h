/* SPDX-License-Identifier: MIT */
/*
 * dhcp_msg.h - the DHCP server's wire side: read a client's message into
 * struct dhcp_req, write a reply frame from struct dhcp_reply. Used by
 * svc/dhcp only; the state rules are there.
 *
 * Theory of operation. Parsing copies the fixed BOOTP header out through a
 * pkt_cursor over the UDP payload, checks op, hardware type and magic
 * cookie, then walks the option fields: 'options', then 'file' and 'sname'
 * when option 52 says so (RFC 2131 section 4.1). Every option length is
 * checked against its field before its value is looked at; the options the
 * server needs are recorded by position, the rest skipped. Option 52 is
 * honoured only in 'options', so overloading cannot recurse.
 *
 * Replies are laid out in a stack buffer: header, cookie, options in order
 * of importance (each is left out if it does not fit the size the client
 * accepts), END, zero padding to BOOTP_MIN_LEN; then pkt_build() wraps it in
 * UDP, IPv4 and Ethernet with checksums.
 */
#ifndef ARCNAT_SVC_DHCP_MSG_H
#define ARCNAT_SVC_DHCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/meta.h"
#include "prot/dhcp.h"
#include "prot/eth.h"
#include "svc/dhcp_defs.h"
#include "svc/dhcp_lease.h"

/**
 * struct dhcp_env - what every reply says about the network.
 * @server:     our address (source, options 54 and 3), network order
 * @mask:       subnet mask, network order (option 1)
 * @server_mac: Ethernet source
 * @lease_sec:  option 51; T1 (58) and T2 (59) are 1/2 and 7/8 of it
 * @mtu:        option 26, 0 = none
 * @dns:        option 6, network order
 * @n_dns:      entries in @dns (1..DHCP_DNS_MAX)
 * @domain:     option 15, NUL-terminated, @domain_len bytes
 * @domain_len: see @domain
 * @search:     option 119: @domain as an RFC 1035 name (RFC 3397)
 * @search_len: bytes in @search
 */
struct dhcp_env {
	uint32_t server;
	uint32_t mask;
	uint8_t server_mac[ETH_ALEN];
	uint32_t lease_sec;
	uint16_t mtu;
	uint32_t dns[DHCP_DNS_MAX];
	unsigned int n_dns;
	char domain[DHCP_DOMAIN_MAX + 1];
	size_t domain_len;
	uint8_t search[DHCP_DOMAIN_MAX + 2];
	size_t search_len;
};

/**
 * struct dhcp_req - a client's message as the server needs it.
 * @h:             the fixed BOOTP header (a copy)
 * @type:          option 53 (UINT8_MAX for a value 0)
 * @overload:      option 52
 * @has_req_ip:    option 50 present
 * @has_server_id: option 54 present
 * @req_ip:        option 50, network order
 * @server_id:     option 54, network order
 * @ip_src:        the IPv4 source address, network order
 * @max_size:      option 57 (0 = absent)
 * @client_id:     option 61 value, or NULL
 * @client_id_len: its length (>= 2)
 * @host_name:     option 12 value, or NULL
 * @host_name_len: its length (>= 1)
 * @key:           who the client is (filled by svc/dhcp)
 *
 * @client_id and @host_name point into the frame, or into @h for options
 * carried in 'file' or 'sname': they live as long as both do.
 */
struct dhcp_req {
	struct bootp_hdr h;
	uint8_t type;
	uint8_t overload;
	bool has_req_ip;
	bool has_server_id;
	uint32_t req_ip;
	uint32_t server_id;
	uint32_t ip_src;
	uint16_t max_size;
	const uint8_t *client_id;
	uint8_t client_id_len;
	const uint8_t *host_name;
	uint8_t host_name_len;
	struct dhcp_key key;
};

/**
 * struct dhcp_reply - what to answer.
 * @type:    DHCP_OFFER, DHCP_ACK or DHCP_NAK
 * @yiaddr:  the address given (0 for INFORM and NAK)
 * @ciaddr:  the request's ciaddr for ACKs, else 0
 * @unicast: address to answer at whatever the request says (INFORM), or 0
 * @lease:   include options 51, 58 and 59
 * @name:    option 12, or NULL
 */
struct dhcp_reply {
	uint8_t type;
	uint32_t yiaddr;
	uint32_t ciaddr;
	uint32_t unicast;
	bool lease;
	const char *name;
};

/**
 * dhcp_msg_parse() - read a client message.
 * @frame: the frame (borrowed)
 * @m:     its pkt_parse() metadata; the payload is read through a cursor
 *         bounded by it and by @m->len
 * @r:     filled on success (all but @r->key)
 * @why:   the reason on failure
 *
 * Accepts only BOOTREQUESTs from Ethernet clients with a unicast chaddr, a
 * magic cookie, well-formed options and a message type a client may send
 * (DISCOVER, REQUEST, DECLINE, RELEASE, INFORM).
 *
 * Return: true, or false with @why set.
 */
bool dhcp_msg_parse(const uint8_t *frame, const struct pkt_meta *m,
		    struct dhcp_req *r, enum dhcp_drop *why);

/**
 * dhcp_msg_reply() - write the reply frame.
 * @env: the server's options
 * @m:   metadata of the request (its 802.1Q tag is copied)
 * @r:   the request
 * @rep: what to say
 * @out: output buffer
 * @cap: its size
 *
 * Destination per RFC 2131 section 4.1 with giaddr 0: a NAK is broadcast;
 * else @rep->unicast or ciaddr if set, unicast to it at chaddr; else the
 * broadcast flag asks for broadcast; else unicast to yiaddr at chaddr.
 *
 * Return: the frame length, or -ENOSPC if @cap cannot hold a minimal
 * reply.
 */
int dhcp_msg_reply(const struct dhcp_env *env, const struct pkt_meta *m,
		   const struct dhcp_req *r, const struct dhcp_reply *rep,
		   uint8_t *out, size_t cap);

/**
 * dhcp_env_set_domain() - fill @env's options 15 and 119 from a name.
 * @env: environment
 * @dom: a domain of RFC 1123 labels, at most DHCP_DOMAIN_MAX bytes (one
 *       final dot allowed)
 *
 * Return: 0, or -EINVAL.
 */
int dhcp_env_set_domain(struct dhcp_env *env, const char *dom);

#endif /* ARCNAT_SVC_DHCP_MSG_H */
