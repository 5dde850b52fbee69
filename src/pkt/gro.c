// SPDX-License-Identifier: MIT
/*
 * gro.c - consecutive TCP segments joined into one super-frame (gro.h).
 */
#include "pkt/gro.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/gso.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

/* Flags that end or forbid joining; PSH is allowed on the last segment. */
#define GRO_TCP_NEVER	(TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)

static uint16_t gro_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t gro_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void gro_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

bool pkt_gro_candidate(const uint8_t *f, const struct pkt_meta *m,
		       const struct pkt_vnet *v)
{
	const uint8_t *ip = f + m->l3_off, *tcp = f + m->l4_off;
	uint32_t s, d;

	if (m->l3 != PKT_L3_IPV4 || m->l4_proto != IPPROTO_TCP ||
	    !(m->flags & PKT_F_L4) ||
	    (m->flags & (PKT_F_FRAG | PKT_F_IP4_OPTS | PKT_F_TRIMMED |
			 PKT_F_VLAN)))
		return false;
	if (!(m->tcp_flags & TCP_ACK) || (m->tcp_flags & GRO_TCP_NEVER) ||
	    pkt_payload_len(m) == 0)
		return false;
	if (v->gso_type != VNET_GSO_NONE || (v->flags & VNET_F_NEEDS_CSUM))
		return false;
	if (m->l3_off + m->l3_len != m->len)	/* the parser trims padding */
		return false;
	if (v->flags & VNET_F_DATA_VALID)
		return true;
	memcpy(&s, ip + offsetof(struct ip4_hdr, saddr), 4);
	memcpy(&d, ip + offsetof(struct ip4_hdr, daddr), 4);
	return csum_finish(csum_partial(tcp, m->l4_len,
					csum_pseudo_ip4(s, d, IPPROTO_TCP,
							(uint16_t)m->l4_len))) == 0;
}

/* Does @b continue @a? Both candidates; @mss 0 while @a is one segment. */
static bool gro_continues(const uint8_t *a, const struct pkt_meta *ma,
			  uint16_t mss, const uint8_t *b,
			  const struct pkt_meta *mb)
{
	const uint8_t *ia = a + ma->l3_off, *ib = b + mb->l3_off;
	const uint8_t *ta = a + ma->l4_off, *tb = b + mb->l4_off;
	uint32_t pa = pkt_payload_len(ma), pb = pkt_payload_len(mb);
	uint32_t thl = (uint32_t)(ma->payload_off - ma->l4_off);
	uint16_t frag = gro_get16(ia + offsetof(struct ip4_hdr, frag_off));
	uint32_t segs;

	if (mb->l3_off != ma->l3_off || mb->l4_off != ma->l4_off ||
	    mb->payload_off != ma->payload_off ||
	    memcmp(a, b, ma->l3_off) != 0)	/* Ethernet header */
		return false;
	if (ia[1] != ib[1] ||	/* TOS */
	    memcmp(ia + offsetof(struct ip4_hdr, frag_off),
		   ib + offsetof(struct ip4_hdr, frag_off), 4) != 0 ||	/* DF, TTL, proto */
	    memcmp(ia + offsetof(struct ip4_hdr, saddr),
		   ib + offsetof(struct ip4_hdr, saddr), 8) != 0)
		return false;
	if (memcmp(ta, tb, 4) != 0 ||	/* ports */
	    memcmp(ta + 8, tb + 8, 4) != 0 ||	/* acknowledgement */
	    ta[12] != tb[12] ||	/* data offset */
	    memcmp(ta + 14, tb + 14, 2) != 0 ||	/* window */
	    memcmp(ta + 18, tb + 18, 2) != 0 ||	/* urgent pointer, unused */
	    memcmp(ta + TCP_HLEN_MIN, tb + TCP_HLEN_MIN,
		   thl - TCP_HLEN_MIN) != 0)	/* options */
		return false;
	if (ta[13] & TCP_PSH)	/* the last segment of @a ended a push */
		return false;
	if (mss == 0)
		mss = (uint16_t)pa;
	if (pa % mss != 0 || pb > mss)	/* only the last may be short */
		return false;
	segs = pa / mss;
	if (segs + 1 > PKT_GSO_SEGS_MAX ||
	    ma->l3_len + pb > IP4_MAX_LEN)
		return false;
	if (gro_get32(tb + 4) != gro_get32(ta + 4) + pa)	/* in sequence */
		return false;
	/* Without DF the IDs must be what cutting would give them. */
	if (!(frag & IP4_FLAG_DF) &&
	    gro_get16(ib + offsetof(struct ip4_hdr, id)) !=
		    (uint16_t)(gro_get16(ia + offsetof(struct ip4_hdr, id)) + segs))
		return false;
	return true;
}

bool pkt_gro_append(uint8_t *a, uint32_t cap, struct pkt_meta *ma,
		    struct pkt_vnet *va, const uint8_t *b,
		    const struct pkt_meta *mb)
{
	uint16_t mss = va->gso_type == VNET_GSO_TCPV4 ? va->gso_size : 0;
	uint32_t pb = pkt_payload_len(mb);
	uint8_t *ip = a + ma->l3_off, *tcp = a + ma->l4_off;
	uint32_t s, d, first = pkt_payload_len(ma);
	uint16_t sum;

	if (va->gso_type != VNET_GSO_NONE && va->gso_type != VNET_GSO_TCPV4)
		return false;
	if (ma->len + pb > cap || !gro_continues(a, ma, mss, b, mb))
		return false;
	memcpy(a + ma->len, b + mb->payload_off, pb);
	ma->len += pb;
	ma->l3_len += pb;
	ma->l4_len += pb;
	gro_put16(ip + offsetof(struct ip4_hdr, tot_len), (uint16_t)ma->l3_len);
	memset(ip + offsetof(struct ip4_hdr, check), 0, 2);
	sum = csum_ip4_header(ip, IP4_HLEN_MIN);
	memcpy(ip + offsetof(struct ip4_hdr, check), &sum, 2);
	tcp[13] |= (uint8_t)(mb->tcp_flags & TCP_PSH);
	ma->tcp_flags |= (uint8_t)(mb->tcp_flags & TCP_PSH);
	/* A pending checksum holds the pseudo-header's sum (virtio-net). */
	memcpy(&s, ip + offsetof(struct ip4_hdr, saddr), 4);
	memcpy(&d, ip + offsetof(struct ip4_hdr, daddr), 4);
	sum = csum_fold(csum_pseudo_ip4(s, d, IPPROTO_TCP, (uint16_t)ma->l4_len));
	memcpy(tcp + offsetof(struct tcp_hdr, check), &sum, 2);
	if (!mss) {
		va->flags = VNET_F_NEEDS_CSUM;
		va->gso_type = VNET_GSO_TCPV4;
		va->gso_size = (uint16_t)first;
		va->csum_start = ma->l4_off;
		va->csum_offset = offsetof(struct tcp_hdr, check);
		va->hdr_len = ma->payload_off;
	}
	return true;
}
