/* SPDX-License-Identifier: MIT */
/*
 * parse.h - validate one frame and describe it in struct pkt_meta.
 */
#ifndef ARCNAT_PKT_PARSE_H
#define ARCNAT_PKT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt/drop.h"
#include "pkt/meta.h"

/* pkt_parse() flags */
#define PKT_PARSE_L3		(1u << 0)	/* buffer starts at the IP header (TUN) */
#define PKT_PARSE_NO_IP4_CSUM	(1u << 1)	/* do not verify IPv4 header checksums */

/**
 * pkt_parse() - parse and validate one frame.
 * @frame: the bytes (borrowed; not modified, not kept)
 * @len:   bytes in @frame
 * @flags: PKT_PARSE_*
 * @m:     filled on success; contents unspecified on a drop
 *
 * Parses L2 (Ethernet, at most one 802.1Q tag), L3 (ARP; IPv4 with options
 * and fragments; IPv6 with up to PKT_IP6_EXT_MAX hop-by-hop, routing,
 * fragment, destination-options and AH headers) and L4 (TCP with MSS, window
 * scale, SACK-permitted and timestamp options; UDP; ICMP and ICMPv6,
 * including the embedded packet of error messages as far as it is present).
 * L4 is never read from a non-first fragment. Frames of other EtherTypes
 * succeed with m->l3 == PKT_L3_OTHER so that the caller decides. L4
 * checksums are not verified: the NAT rewrites them incrementally and the
 * endpoints check them.
 *
 * Return: PKT_DROP_OK, or the reason the frame must be dropped.
 */
enum pkt_drop pkt_parse(const uint8_t *frame, size_t len, unsigned int flags,
			struct pkt_meta *m);

#endif /* ARCNAT_PKT_PARSE_H */
