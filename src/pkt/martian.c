// SPDX-License-Identifier: MIT
/*
 * martian.c - the one rule for IPv4 addresses that never travel through
 * the gateway (theory in martian.h).
 */
#include "pkt/martian.h"

#include <arpa/inet.h>

/* The address classes an address can fall in. */
enum martian_class { MC_HOST, MC_ZERONET, MC_LOOPBACK, MC_MULTICAST,
		     MC_RESERVED, MC_BROADCAST, MC__MAX };

static const enum pkt_martian dst_reason[MC__MAX] = {
	[MC_ZERONET] = PKT_MARTIAN_DST_ZERONET,
	[MC_LOOPBACK] = PKT_MARTIAN_DST_LOOPBACK,
	[MC_MULTICAST] = PKT_MARTIAN_DST_MULTICAST,
	[MC_RESERVED] = PKT_MARTIAN_DST_RESERVED,
	[MC_BROADCAST] = PKT_MARTIAN_DST_BROADCAST,
};

static const enum pkt_martian src_reason[MC__MAX] = {
	[MC_ZERONET] = PKT_MARTIAN_SRC_ZERONET,
	[MC_LOOPBACK] = PKT_MARTIAN_SRC_LOOPBACK,
	[MC_MULTICAST] = PKT_MARTIAN_SRC_MULTICAST,
	[MC_RESERVED] = PKT_MARTIAN_SRC_RESERVED,
	[MC_BROADCAST] = PKT_MARTIAN_SRC_BROADCAST,
};

static enum martian_class martian_class(uint32_t a_be)
{
	uint32_t a = ntohl(a_be);

	if (a >> 24 == 0)
		return MC_ZERONET;
	if (a >> 24 == 127)
		return MC_LOOPBACK;
	if (a >> 28 == 0xe)
		return MC_MULTICAST;
	if (a == 0xffffffffu)
		return MC_BROADCAST;
	if (a >> 28 == 0xf)
		return MC_RESERVED;
	return MC_HOST;
}

bool pkt_ip4_host(uint32_t a)
{
	return martian_class(a) == MC_HOST;
}

/* Is @a the directed broadcast address of @n? */
static bool subnet_bcast(const struct pkt_subnet *n, uint32_t a)
{
	/* A /31 (RFC 3021) or /32 has no broadcast address. */
	if (!n->mask || ntohl(~n->mask) < 3)
		return false;
	return a == (n->addr | ~n->mask);
}

enum pkt_martian pkt_martian(const struct pkt_martian_rule *r, uint32_t saddr,
			     uint32_t daddr)
{
	enum martian_class c = martian_class(daddr);

	if (c != MC_HOST)
		return dst_reason[c];
	if (subnet_bcast(&r->bcast[0], daddr) || subnet_bcast(&r->bcast[1], daddr))
		return PKT_MARTIAN_DST_SUBNET_BROADCAST;
	if (r->no_dst.mask &&
	    (daddr & r->no_dst.mask) == (r->no_dst.addr & r->no_dst.mask))
		return PKT_MARTIAN_DST_UPLINK_RANGE;
	c = martian_class(saddr);
	if (c != MC_HOST)
		return src_reason[c];
	if (r->src.mask && (saddr & r->src.mask) != (r->src.addr & r->src.mask))
		return PKT_MARTIAN_SRC_NOT_INSIDE;
	if (subnet_bcast(&r->src, saddr))
		return PKT_MARTIAN_SRC_BROADCAST;
	return PKT_MARTIAN_NONE;
}
