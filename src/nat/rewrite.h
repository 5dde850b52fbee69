/* SPDX-License-Identifier: MIT */
/*
 * rewrite.h - change addresses, ports and ICMP ids in place, keeping every
 * checksum valid with RFC 1624 incremental updates (pkt/csum.h).
 */
#ifndef ARCNAT_NAT_REWRITE_H
#define ARCNAT_NAT_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "ct/tuple.h"
#include "pkt/meta.h"

/**
 * nat_rewrite() - give a packet the addresses and ports of @to.
 * @frame:        the frame (modified)
 * @m:            its parse result
 * @to:           target tuple; for ICMP echo the id is @to->sport
 * @csum_partial: the L4 checksum field holds a pseudo-header sum (virtio
 *                NEEDS_CSUM): update only its address part, not inverted
 *
 * Only addresses change in a non-first fragment (no L4 header). A UDP
 * checksum of 0 is left 0; an updated one that comes out 0 becomes 0xFFFF.
 */
void nat_rewrite(uint8_t *frame, const struct pkt_meta *m,
		 const struct ct_tuple *to, bool csum_partial);

/**
 * nat_rewrite_icmp_error() - translate an ICMP error and its quote.
 * @frame:     the frame (modified)
 * @m:         its parse result (PKT_F_ICMP_ERROR with ports in the quote)
 * @inner:     new tuple of the quoted packet
 * @outer_src: new outer source address
 * @outer_dst: new outer destination address
 *
 * Updates the outer IPv4 header checksum, the ICMP checksum, the quoted
 * IPv4 header checksum and the quoted L4 checksum when the quote holds it.
 */
void nat_rewrite_icmp_error(uint8_t *frame, const struct pkt_meta *m,
			    const struct ct_tuple *inner, uint32_t outer_src,
			    uint32_t outer_dst);

#endif /* ARCNAT_NAT_REWRITE_H */
