// SPDX-License-Identifier: MIT
/*
 * gso.c - segmentation and checksums in software (pkt/gso.h).
 */
#include "pkt/gso.h"

#include <errno.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/cursor.h"

#define GSO_ETH_HLEN	14u
#define GSO_TCP_FIN	0x01u
#define GSO_TCP_PSH	0x08u
#define GSO_TCP_CWR	0x80u

static void gso_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t gso_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP and L4 headers: where, which protocol. Return: 0 or -EINVAL. */
static int gso_headers(struct pkt_gso *g, const struct pkt_vnet *v)
{
	struct pkt_cursor c;
	const uint8_t *ip;
	uint16_t type;

	pkt_cursor_init(&c, g->frame, g->len);
	if (!pkt_cursor_skip(&c, 12) || !pkt_cursor_be16(&c, &type))
		return -EINVAL;
	g->l3 = GSO_ETH_HLEN;
	if (type == 0x0800) {
		ip = pkt_cursor_peek(&c, 20);
		if (!ip || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
			return -EINVAL;
		g->l4 = g->l3 + (size_t)(ip[0] & 0xf) * 4;
		g->proto = ip[9];
	} else if (type == 0x86dd) {
		ip = pkt_cursor_peek(&c, 40);
		if (!ip || (ip[0] >> 4) != 6)
			return -EINVAL;
		g->ip6 = true;
		g->l4 = g->l3 + 40;
		g->proto = ip[6];
	} else {
		return -EINVAL;
	}
	if (g->proto != 6 && g->proto != 17)
		return -EINVAL;
	if ((v->flags & VNET_F_NEEDS_CSUM) && v->csum_start != g->l4)
		return -EINVAL;
	if (g->proto == 17) {
		g->hdr = g->l4 + 8;
	} else {
		const uint8_t *doff = pkt_cursor_at(&c, g->l4 + 12, 1);

		if (!doff || (*doff >> 4) < 5)
			return -EINVAL;
		g->hdr = g->l4 + (size_t)(*doff >> 4) * 4;
	}
	return g->hdr <= g->len ? 0 : -EINVAL;
}

int pkt_gso_init(struct pkt_gso *g, const uint8_t *frame, size_t len,
		 const struct pkt_vnet *v)
{
	uint8_t type = v->gso_type & (uint8_t)~VNET_GSO_ECN;
	int err;

	*g = (struct pkt_gso){ .frame = frame, .len = len };
	if (type == VNET_GSO_UDP)
		return -EOPNOTSUPP;
	err = gso_headers(g, v);
	if (err)
		return err;
	if (type == VNET_GSO_NONE) {
		/* One frame: Ethernet padding is not the datagram's. */
		size_t ip_len = gso_get16(frame + g->l3 + (g->ip6 ? 4 : 2)) +
				(g->ip6 ? 40u : 0u);

		if (g->l3 + ip_len < len && g->l3 + ip_len >= g->hdr)
			g->len = g->l3 + ip_len;
		g->seg = g->len - g->hdr;
		return 0;
	}
	if ((type == VNET_GSO_TCPV4 && (g->ip6 || g->proto != 6)) ||
	    (type == VNET_GSO_TCPV6 && (!g->ip6 || g->proto != 6)) ||
	    (type == VNET_GSO_UDP_L4 && g->proto != 17) ||
	    (type != VNET_GSO_TCPV4 && type != VNET_GSO_TCPV6 &&
	     type != VNET_GSO_UDP_L4) || v->gso_size == 0)
		return -EINVAL;
	g->gso = true;
	g->seg = v->gso_size;
	if ((len - g->hdr + g->seg - 1) / g->seg > PKT_GSO_SEGS_MAX)
		return -E2BIG;
	return 0;
}

int pkt_gso_next(struct pkt_gso *g, uint8_t *out, size_t cap)
{
	size_t pay = g->len - g->hdr - g->off, l4len, total;
	bool first = g->n == 0, last;
	uint8_t *ip = out + g->l3, *l4 = out + g->l4;
	uint16_t sum;
	uint32_t ps;

	if (g->n && pay == 0)
		return 0;
	if (pay > g->seg)
		pay = g->seg;
	last = g->hdr + g->off + pay == g->len;
	total = g->hdr + pay;
	if (total > cap)
		return -ENOSPC;
	memcpy(out, g->frame, g->hdr);
	memcpy(out + g->hdr, g->frame + g->hdr + g->off, pay);
	l4len = total - g->l4;
	if (g->ip6) {
		gso_put16(ip + 4, (uint16_t)l4len);
		ps = csum_pseudo_ip6(ip + 8, ip + 24, g->proto, (uint32_t)l4len);
	} else {
		uint32_t s, d;

		gso_put16(ip + 2, (uint16_t)(total - g->l3));
		if (g->gso)
			gso_put16(ip + 4, (uint16_t)(gso_get16(ip + 4) + g->n));
		memset(ip + 10, 0, 2);
		sum = csum_ip4_header(ip, g->l4 - g->l3);
		memcpy(ip + 10, &sum, 2);
		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		ps = csum_pseudo_ip4(s, d, g->proto, (uint16_t)l4len);
	}
	if (g->proto == 6) {
		uint32_t seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 |
			       (uint32_t)l4[6] << 8 | l4[7];

		seq += (uint32_t)g->off;
		l4[4] = (uint8_t)(seq >> 24);
		l4[5] = (uint8_t)(seq >> 16);
		l4[6] = (uint8_t)(seq >> 8);
		l4[7] = (uint8_t)seq;
		if (!last)
			l4[13] &= (uint8_t)~(GSO_TCP_FIN | GSO_TCP_PSH);
		if (!first)
			l4[13] &= (uint8_t)~GSO_TCP_CWR;
		memset(l4 + 16, 0, 2);
		sum = csum_finish(csum_partial(l4, l4len, ps));
		memcpy(l4 + 16, &sum, 2);
	} else {
		gso_put16(l4 + 4, (uint16_t)l4len);
		memset(l4 + 6, 0, 2);
		sum = csum_udp_nonzero(csum_finish(csum_partial(l4, l4len, ps)));
		memcpy(l4 + 6, &sum, 2);
	}
	g->off += pay;
	g->n++;
	return (int)total;
}

int pkt_gso_cut(const uint8_t *frame, size_t len, const struct pkt_vnet *v,
		uint8_t *out, size_t cap, uint32_t off[PKT_GSO_SEGS_MAX],
		uint32_t flen[PKT_GSO_SEGS_MAX])
{
	struct pkt_gso g;
	size_t at = 0;
	unsigned int k = 0;
	int r = pkt_gso_init(&g, frame, len, v);

	while (!r && k < PKT_GSO_SEGS_MAX) {
		r = pkt_gso_next(&g, out + at, cap - at);
		if (r <= 0)
			break;
		off[k] = (uint32_t)at;
		flen[k++] = (uint32_t)r;
		at += (size_t)r;
		r = 0;
	}
	if (r < 0)
		return r;
	return k ? (int)k : -EINVAL;
}
