/* SPDX-License-Identifier: MIT */
/*
 * tuple.h - the identity of one direction of a connection.
 *
 * {source address, destination address, source port, destination port,
 * protocol}, all in network byte order (docs/architecture.md
 * "Conventions", rule 5). For
 * ICMP echo both ports hold the echo identifier, so that inverting a tuple
 * gives the tuple of the reply, as for TCP and UDP. The struct is exactly
 * 16 bytes with zeroed padding so that it is hashed and compared as bytes.
 */
#ifndef ARCNAT_CT_TUPLE_H
#define ARCNAT_CT_TUPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/compiler.h"

/**
 * struct ct_tuple - one direction of a flow.
 * @saddr: source IPv4 address, network order
 * @daddr: destination IPv4 address, network order
 * @sport: source port, or ICMP echo identifier (network order)
 * @dport: destination port, or ICMP echo identifier (network order)
 * @proto: IPPROTO_NUM_TCP, _UDP or _ICMP
 * @pad:   always zero
 */
struct ct_tuple {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

static_assert(sizeof(struct ct_tuple) == 16, "tuples are hashed as 16 bytes");

static inline bool ct_tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* The tuple a packet travelling the other way would carry. */
static inline struct ct_tuple ct_tuple_invert(const struct ct_tuple *t)
{
	struct ct_tuple r = {
		.saddr = t->daddr,
		.daddr = t->saddr,
		.sport = t->dport,
		.dport = t->sport,
		.proto = t->proto,
	};
	return r;
}

#endif /* ARCNAT_CT_TUPLE_H */
