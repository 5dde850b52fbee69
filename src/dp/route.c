// SPDX-License-Identifier: MIT
/*
 * route.c - the gateway's last hop into the guest segment (route.h).
 */
#include "dp/route.h"

#include <string.h>

#include "pkt/csum.h"
#include "pkt/vnet.h"
#include "prot/ip4.h"
#include "svc/arp.h"

void dp_route_eth(const struct dp_route *r, uint8_t *frame,
		  const uint8_t dst[ETH_ALEN])
{
	memcpy(frame, dst, ETH_ALEN);
	memcpy(frame + ETH_ALEN, r->gw_mac, ETH_ALEN);
	frame[12] = ETH_P_IPV4 >> 8;
	frame[13] = ETH_P_IPV4 & 0xff;
}

void dp_route_hold(struct dp_route *r, uint32_t dst, const uint8_t *pkt,
		   size_t len, const struct pkt_vnet *vnet, uint64_t now)
{
	if (arp_hold(r->arp, dst, pkt, len, vnet, now) == 0)
		r->st->held++;
	else
		r->st->drops[DP_DROP_NO_NEIGH]++;
}

bool dp_route_to_guest(struct dp_route *r, struct dp_buf *b,
		       const struct pkt_meta *m, uint64_t now)
{
	unsigned int l3_off = m->l3_off;
	uint32_t l3_len = m->l3_len;
	uint32_t dst = pkt_ip4_daddr(b->data, m);
	uint8_t mac[ETH_ALEN];
	struct pkt_vnet v;

	if (!dp_route_on_segment(r, dst)) {
		r->st->drops[DP_DROP_NO_ROUTE]++;
		return false;
	}
	if (arp_lookup(r->arp, dst, now, mac) != 0) {
		v = b->vnet;
		pkt_vnet_shift(&v, -(int)l3_off);
		dp_route_hold(r, dst, b->data + l3_off, l3_len, &v, now);
		return false;
	}
	if (l3_off < ETH_HLEN) {
		b->data -= ETH_HLEN - l3_off;
		pkt_vnet_shift(&b->vnet, (int)(ETH_HLEN - l3_off));
	}
	b->len = ETH_HLEN + l3_len;
	dp_route_eth(r, b->data, mac);
	return true;
}

bool dp_route_inside(struct dp_route *r, struct dp_buf *b,
		     const struct pkt_meta *m, uint64_t now)
{
	struct ip4_hdr *ip = (struct ip4_hdr *)(b->data + m->l3_off);
	uint16_t before, after;

	if (r->isolate) {
		r->st->drops[DP_DROP_ISOLATED]++;
		return false;
	}
	if (ip->ttl <= 1) {
		r->st->drops[DP_DROP_TTL]++;
		return false;
	}
	memcpy(&before, &ip->ttl, sizeof(before));	/* TTL and protocol */
	ip->ttl--;
	memcpy(&after, &ip->ttl, sizeof(after));
	ip->check = csum_replace2(ip->check, before, after);
	return dp_route_to_guest(r, b, m, now);
}
