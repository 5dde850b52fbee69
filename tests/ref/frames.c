// SPDX-License-Identifier: MIT
/*
 * frames.c - test frames from tuples (see frames.h). Everything is handed
 * to pkt_build(), which computes every length and checksum in full.
 */
#include "ref/frames.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "pkt/build.h"
#include "pkt/csum.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"

static const uint8_t frame_mac_a[ETH_ALEN] = { 0x02, 0, 0, 0, 0xa0, 0x01 };
static const uint8_t frame_mac_b[ETH_ALEN] = { 0x02, 0, 0, 0, 0xa0, 0x02 };

static bool is_echo(uint8_t type)
{
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
}

void frame_desc_from_tuple(struct frame_desc *d, const struct ct_tuple *t)
{
	memset(d, 0, sizeof(*d));
	d->saddr = t->saddr;
	d->daddr = t->daddr;
	d->sport = t->sport;
	d->dport = t->dport;
	d->proto = t->proto;
}

int frame_build(const struct frame_desc *d, bool no_eth, uint8_t *buf,
		size_t cap)
{
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	s.no_eth = no_eth;
	memcpy(s.eth_dst, frame_mac_a, ETH_ALEN);
	memcpy(s.eth_src, frame_mac_b, ETH_ALEN);
	s.src4 = d->saddr;
	s.dst4 = d->daddr;
	s.ip_id = d->ip_id;
	s.ip4_frag = d->ip4_frag;
	s.ip4_opts = d->ip4_opts;
	s.ip4_opts_len = d->ip4_opts_len;
	s.proto = d->proto;
	s.l4_raw = d->l4_raw;
	s.sport = ntohs(d->sport);
	s.dport = ntohs(d->dport);
	s.seq = d->seq;
	s.ack = d->ack;
	s.tcp_flags = d->tcp_flags;
	s.window = d->window;
	s.mss = d->mss;
	s.has_wscale = d->has_wscale;
	s.wscale = d->wscale;
	s.sack_perm = d->sack_perm;
	s.udp_no_csum = d->udp_no_csum;
	s.icmp_type = d->icmp_type;
	s.icmp_code = d->icmp_code;
	if (is_echo(d->icmp_type)) {
		s.icmp_id = ntohs(d->sport);
		s.icmp_seq = d->icmp_seq;
	} else {
		s.icmp_id = (uint16_t)(d->icmp_rest >> 16);
		s.icmp_seq = (uint16_t)d->icmp_rest;
	}
	s.payload = d->payload;
	s.payload_len = d->payload_len;
	return pkt_build(&s, buf, cap);
}

int frame_icmp_error(uint32_t saddr, uint32_t daddr, uint8_t type, uint8_t code,
		     uint32_t rest, const void *quote, size_t quote_len,
		     uint8_t *buf, size_t cap)
{
	struct frame_desc d;

	memset(&d, 0, sizeof(d));
	d.saddr = saddr;
	d.daddr = daddr;
	d.proto = IPPROTO_NUM_ICMP;
	d.icmp_type = type;
	d.icmp_code = code;
	d.icmp_rest = rest;
	d.payload = quote;
	d.payload_len = quote_len;
	return frame_build(&d, false, buf, cap);
}

size_t frame_l4_csum_off(const struct pkt_meta *m)
{
	if (!(m->flags & PKT_F_L4))
		return 0;
	switch (m->l4_proto) {
	case IPPROTO_NUM_TCP:
		return m->l4_off + offsetof(struct tcp_hdr, check);
	case IPPROTO_NUM_UDP:
		return m->l4_off + offsetof(struct udp_hdr, check);
	case IPPROTO_NUM_ICMP:
		return m->l4_off + offsetof(struct icmp_hdr, check);
	default:
		return 0;
	}
}

void frame_set_csum_partial(uint8_t *frame, const struct pkt_meta *m)
{
	size_t off = frame_l4_csum_off(m);
	uint16_t len, c = 0;

	if (!off)
		return;
	if (m->l4_proto != IPPROTO_NUM_ICMP) {
		/* UDP: the datagram's own length; TCP: the IP payload. */
		if (m->l4_proto == IPPROTO_NUM_UDP) {
			memcpy(&len, frame + m->l4_off + offsetof(struct udp_hdr, len), 2);
			len = ntohs(len);
		} else {
			len = (uint16_t)m->l4_len;
		}
		c = csum_fold(csum_pseudo_ip4(pkt_ip4_saddr(frame, m),
					      pkt_ip4_daddr(frame, m),
					      m->l4_proto, len));
	}
	memcpy(frame + off, &c, 2);
}

bool frame_csums_ok(const uint8_t *frame, const struct pkt_meta *m,
		    bool partial)
{
	const uint8_t *ip = frame + m->l3_off, *l4 = frame + m->l4_off;
	uint32_t sum = 0;
	uint16_t c, len = (uint16_t)m->l4_len;

	if (csum_ip4_header(ip, (size_t)(ip[0] & 0x0fu) * 4u) != 0)
		return false;
	if ((m->flags & PKT_F_ICMP_ERROR) &&
	    csum_ip4_header(frame + m->inner.l3_off,
			    (size_t)(frame[m->inner.l3_off] & 0x0fu) * 4u) != 0)
		return false;
	if ((m->flags & PKT_F_FRAG) || !(m->flags & PKT_F_L4))
		return true;
	if (m->l4_proto == IPPROTO_NUM_ICMP)
		return partial || csum_finish(csum_partial(l4, len, 0)) == 0;
	memcpy(&c, frame + frame_l4_csum_off(m), 2);
	if (m->l4_proto == IPPROTO_NUM_UDP && c == 0 && !partial)
		return true;
	sum = csum_pseudo_ip4(pkt_ip4_saddr(frame, m), pkt_ip4_daddr(frame, m),
			      m->l4_proto, len);
	if (partial)
		return c == csum_fold(sum);
	return csum_finish(csum_partial(l4, len, sum)) == 0;
}

void frame_fix_ip4_csum(uint8_t *frame, size_t l3_off)
{
	uint8_t *ip = frame + l3_off;
	size_t hlen = (size_t)(ip[0] & 0x0fu) * 4u;
	uint16_t c = 0;

	memcpy(ip + offsetof(struct ip4_hdr, check), &c, 2);
	c = csum_ip4_header(ip, hlen);
	memcpy(ip + offsetof(struct ip4_hdr, check), &c, 2);
}

void frame_hexdump(const char *label, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes)\n", label, len);
	for (size_t i = 0; i < len; i += 16) {
		fprintf(stderr, "  %04zx:", i);
		for (size_t j = i; j < i + 16 && j < len; j++)
			fprintf(stderr, " %02x", p[j]);
		fputc('\n', stderr);
	}
}
