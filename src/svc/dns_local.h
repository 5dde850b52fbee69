/* SPDX-License-Identifier: MIT */
/*
 * dns_local.h - the names the forwarder answers itself: the local domain
 * (default arcnat.internal) and the reverse names of its addresses.
 *
 * Theory of operation. Every name under the local domain is ours and never
 * goes upstream (it would leak guest host names and could be answered by
 * someone else):
 *  - gateway.<domain> is the gateway address, host.<domain> the host's
 *    (when configured), NAME.<domain> whatever local_addr() says (the DHCP
 *    server's leases), one label deep;
 *  - A (or ANY) questions in class IN or ANY get the address; other types
 *    and classes get NODATA (NOERROR, no answer);
 *  - <domain> itself exists (NODATA for every type); any other name under
 *    it is NXDOMAIN.
 * A reverse name d.c.b.a.in-addr.arpa is ours only when the address is one
 * of the above (gateway, host, or local_name() knows it): PTR (or ANY) gets
 * the name, other types NODATA. Reverse names of other addresses go
 * upstream like any other question.
 * Answers carry DNS_LOCAL_TTL and the AA flag; negative ones have no SOA,
 * so clients do not cache them for long.
 */
#ifndef ARCNAT_SVC_DNS_LOCAL_H
#define ARCNAT_SVC_DNS_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/dns_msg.h"

#define DNS_DEFAULT_DOMAIN	"arcnat.internal"
#define DNS_LOCAL_TTL		60	/* seconds, local answers */

/**
 * struct dns_local - the local names' configuration.
 * @domain:       the local domain, lowercased wire form
 * @domain_len:   its length
 * @gateway_addr: gateway.<domain>, network order (0: none)
 * @host_addr:    host.<domain>, network order (0: none)
 * @local_addr:   NAME.<domain> lookup (see struct dns_cfg), or NULL
 * @local_name:   reverse lookup (see struct dns_cfg), or NULL
 * @ctx:          passed to both
 */
struct dns_local {
	uint8_t domain[DNS_NAME_MAX];
	size_t domain_len;
	uint32_t gateway_addr;
	uint32_t host_addr;
	int (*local_addr)(void *ctx, const char *name, uint32_t *ip);
	const char *(*local_name)(void *ctx, uint32_t ip);
	void *ctx;
};

/**
 * struct dns_local_answer - what dns_local_lookup() decided.
 * @rcode:   DNS_RCODE_NOERROR or DNS_RCODE_NXDOMAIN
 * @an_type: 0 (no answer record), DNS_TYPE_A or DNS_TYPE_PTR
 * @addr:    the A record's address, network order
 * @ptr:     the PTR record's target, wire form
 * @ptr_len: its length
 */
struct dns_local_answer {
	uint16_t rcode;
	uint16_t an_type;
	uint32_t addr;
	uint8_t ptr[DNS_NAME_MAX];
	size_t ptr_len;
};

/**
 * dns_local_init() - set the domain of a struct dns_local.
 * @l:      to fill (the other fields are the caller's)
 * @domain: dotted name, NULL for DNS_DEFAULT_DOMAIN; not the root
 *
 * Return: 0, or -EINVAL for a malformed domain, the root, or one too long
 * to leave room for a 63-byte label in front of it.
 */
int dns_local_init(struct dns_local *l, const char *domain);

/**
 * dns_local_lookup() - answer a question from local names, if it is ours.
 * @l: configuration
 * @q: the question (name lowercased)
 * @a: filled when the question is ours
 *
 * May call local_addr() or local_name() once each.
 *
 * Return: true if the question is ours (@a says the answer), false if it
 * should go to the cache and upstream.
 */
bool dns_local_lookup(const struct dns_local *l, const struct dns_question *q,
		      struct dns_local_answer *a);

#endif /* ARCNAT_SVC_DNS_LOCAL_H */
