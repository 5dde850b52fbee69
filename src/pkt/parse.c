// SPDX-License-Identifier: MIT
/*
 * parse.c - one pass over a frame: L2, L3, L4, and the packet embedded in
 * an ICMP error.
 *
 * Theory of operation: a struct pkt_cursor walks the frame; each layer
 * checks its own header and length fields against the window, then narrows
 * the window to what its length field claims (IPv4 total length, IPv6
 * payload length), so that the next layer is bounded by both the buffer and
 * the protocol. Every way a frame can be malformed maps to one distinct
 * enum pkt_drop value. Loops (IPv4 options, TCP options, IPv6 extension
 * headers) advance by at least one byte or one header per step and have an
 * explicit bound.
 *
 * Fragments: only a first fragment (offset 0) is parsed past L3. A first
 * fragment too short for its L4 header is dropped (RFC 1858 section 3, the
 * "tiny fragment" attack; RFC 7112 for IPv6), as is a TCP fragment at
 * offset 8 that could overwrite the TCP flags (RFC 1858 section 4).
 */
#include "pkt/parse.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/cursor.h"
#include "prot/arp.h"
#include "prot/eth.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/ip6.h"
#include "prot/tcp.h"
#include "prot/udp.h"

/* No frame is this long; it keeps every length in 32 bits. */
#define PKT_LEN_MAX (1u << 20)

static enum pkt_drop parse_eth(struct pkt_cursor *c, struct pkt_meta *m)
{
	const struct eth_hdr *eh = pkt_cursor_pull(c, sizeof(*eh));
	uint16_t type;

	if (!eh)
		return PKT_DROP_ETH_TRUNCATED;
	type = ntohs(eh->type);
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		const struct vlan_tag *tag = pkt_cursor_pull(c, sizeof(*tag));
		if (!tag)
			return PKT_DROP_VLAN_TRUNCATED;
		m->flags |= PKT_F_VLAN;
		m->vlan_tci = ntohs(tag->tci);
		type = ntohs(tag->type);
		if (type == ETH_P_8021Q || type == ETH_P_8021AD)
			return PKT_DROP_VLAN_STACKED;
	}
	m->ethertype = type;
	return PKT_DROP_OK;
}

static enum pkt_drop parse_arp(struct pkt_cursor *c, struct pkt_meta *m)
{
	const struct arp_eth_ip4 *arp = pkt_cursor_peek(c, sizeof(*arp));

	if (!arp)
		return PKT_DROP_ARP_TRUNCATED;
	if (ntohs(arp->htype) != ARP_HTYPE_ETHER ||
	    ntohs(arp->ptype) != ETH_P_IPV4 || arp->hlen != ETH_ALEN ||
	    arp->plen != 4)
		return PKT_DROP_ARP_UNSUPPORTED;
	m->l3 = PKT_L3_ARP;
	m->l3_len = sizeof(*arp);
	pkt_cursor_limit(c, sizeof(*arp));
	return PKT_DROP_OK;
}

/* Short TCP-option and IPv4-option walker result: false = malformed. */
static bool ip4_options_valid(const uint8_t *o, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == IP4_OPT_EOL)
			return true;
		if (kind == IP4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return false;
		olen = o[i + 1];
		if (olen < 2 || olen > len - i)
			return false;
		i += olen;
	}
	return true;
}

/*
 * TCP options are read leniently: a malformed option ends the walk but does
 * not drop the segment, as a receiving host does (RFC 9293 section
 * 3.1, robustness); the NAT forwards options it does not understand.
 */
static void tcp_options(const uint8_t *o, size_t len, struct pkt_meta *m)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			break;
		olen = o[i + 1];
		if (olen < 2 || olen > len - i)
			break;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen == TCP_OLEN_MSS) {
				m->tcp_mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
				m->flags |= PKT_F_TCP_MSS;
			}
			break;
		case TCP_OPT_WSCALE:
			if (olen == TCP_OLEN_WSCALE) {
				m->tcp_wscale = MIN(o[i + 2], TCP_WSCALE_MAX);
				m->flags |= PKT_F_TCP_WSCALE;
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (olen == TCP_OLEN_SACK_PERM)
				m->flags |= PKT_F_TCP_SACK_PERM;
			break;
		case TCP_OPT_TIMESTAMP:
			if (olen == TCP_OLEN_TIMESTAMP) {
				uint32_t v[2];

				memcpy(v, o + i + 2, sizeof(v));
				m->tcp_tsval = ntohl(v[0]);
				m->tcp_tsecr = ntohl(v[1]);
				m->flags |= PKT_F_TCP_TS;
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

static enum pkt_drop parse_tcp(struct pkt_cursor *c, struct pkt_meta *m,
			       bool first_frag)
{
	const struct tcp_hdr *th = pkt_cursor_peek(c, sizeof(*th));
	unsigned int hlen;

	if (!th)
		return first_frag ? PKT_DROP_FRAG_TINY : PKT_DROP_TCP_TRUNCATED;
	hlen = tcp_hlen(th);
	if (hlen < TCP_HLEN_MIN)
		return PKT_DROP_TCP_BAD_DOFF;
	if (hlen > pkt_cursor_remaining(c))
		return first_frag ? PKT_DROP_FRAG_TINY : PKT_DROP_TCP_DOFF_BEYOND;
	m->sport = th->sport;
	m->dport = th->dport;
	m->tcp_flags = th->flags;
	tcp_options((const uint8_t *)(th + 1), hlen - TCP_HLEN_MIN, m);
	m->payload_off = (uint16_t)(c->off + hlen);
	m->flags |= PKT_F_L4;
	return PKT_DROP_OK;
}

static enum pkt_drop parse_udp(struct pkt_cursor *c, struct pkt_meta *m,
			       bool first_frag)
{
	const struct udp_hdr *uh = pkt_cursor_peek(c, sizeof(*uh));
	uint16_t ulen;

	if (!uh)
		return first_frag ? PKT_DROP_FRAG_TINY : PKT_DROP_UDP_TRUNCATED;
	ulen = ntohs(uh->len);
	if (ulen < UDP_HLEN)
		return PKT_DROP_UDP_BAD_LEN;
	/*
	 * A first fragment holds only part of the datagram, so its UDP length
	 * may exceed what is here; otherwise the length must fit, and bytes
	 * past it (inside the IP packet) are not part of the datagram.
	 */
	if (!first_frag) {
		if (ulen > pkt_cursor_remaining(c))
			return PKT_DROP_UDP_BAD_LEN;
		m->l4_len = ulen;
	}
	m->sport = uh->sport;
	m->dport = uh->dport;
	m->payload_off = (uint16_t)(c->off + UDP_HLEN);
	m->flags |= PKT_F_L4;
	return PKT_DROP_OK;
}

static bool icmp4_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return true;
	default:
		return false;
	}
}

static bool icmp6_is_error(uint8_t type)
{
	return type < 128;	/* RFC 4443 section 2.1 */
}

static bool icmp_is_echo(bool v6, uint8_t type)
{
	if (v6)
		return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
}

/* Inner L4 of an ICMP error: ports or echo id, as far as they are present. */
static enum pkt_drop parse_inner_l4(const struct pkt_cursor *ic, bool v6,
				    struct pkt_inner *in)
{
	const uint8_t *p;

	in->l4_off = (uint16_t)ic->off;
	in->l4_avail = (uint16_t)pkt_cursor_remaining(ic);

	switch (in->proto) {
	case IPPROTO_NUM_TCP:
	case IPPROTO_NUM_UDP:
		p = pkt_cursor_peek(ic, 4);
		if (p) {
			memcpy(&in->sport, p, 2);
			memcpy(&in->dport, p + 2, 2);
			in->flags |= PKT_INNER_PORTS;
		}
		return PKT_DROP_OK;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		if ((in->proto == IPPROTO_NUM_ICMPV6) != v6)
			return PKT_DROP_OK;	/* foreign ICMP: opaque */
		p = pkt_cursor_peek(ic, 1);
		if (!p)
			return PKT_DROP_OK;
		if (v6 ? icmp6_is_error(p[0]) : icmp4_is_error(p[0]))
			return PKT_DROP_ICMP_NESTED_ERROR;
		p = pkt_cursor_peek(ic, 6);
		if (p && icmp_is_echo(v6, p[0])) {
			memcpy(&in->sport, p + 4, 2);
			in->flags |= PKT_INNER_PORTS | PKT_INNER_ECHO;
		}
		return PKT_DROP_OK;
	default:
		return PKT_DROP_OK;
	}
}

static enum pkt_drop parse_inner_ip4(struct pkt_cursor *ic, struct pkt_inner *in)
{
	const struct ip4_hdr *ip = pkt_cursor_peek(ic, sizeof(*ip));
	unsigned int hlen, tot;

	if (!ip)
		return PKT_DROP_ICMP_INNER_TRUNCATED;
	hlen = ip4_hlen(ip);
	if (ip4_version(ip) != 4 || hlen < IP4_HLEN_MIN)
		return PKT_DROP_ICMP_INNER_BAD;
	if (!pkt_cursor_peek(ic, hlen))
		return PKT_DROP_ICMP_INNER_TRUNCATED;
	tot = ntohs(ip->tot_len);
	if (tot < hlen)
		return PKT_DROP_ICMP_INNER_BAD;
	in->l3 = PKT_L3_IPV4;
	in->l3_off = (uint16_t)ic->off;
	in->proto = ip->protocol;
	if (ntohs(ip->frag_off) & IP4_OFFSET_MASK) {
		in->flags |= PKT_INNER_FRAG_LATER;
		return PKT_DROP_OK;
	}
	pkt_cursor_skip(ic, hlen);
	/* The original may be longer than what the error quotes, not shorter. */
	if (tot - hlen < pkt_cursor_remaining(ic))
		pkt_cursor_limit(ic, tot - hlen);
	return parse_inner_l4(ic, false, in);
}

struct ip6_frag_info {
	bool present;
	bool mf;
	uint16_t off;
	uint32_t id;
	size_t hdr_off;		/* where the fragment header starts */
	size_t data_len;	/* bytes after the fragment header */
};

/*
 * Walk IPv6 extension headers from the cursor. On PKT_DROP_OK, *nh is the
 * first header that is not an extension (or the next header of a non-first
 * fragment, which is not parsed further) and the cursor sits on it.
 */
static enum pkt_drop ip6_walk_ext(struct pkt_cursor *c, uint8_t *nh,
				  struct ip6_frag_info *fi)
{
	const struct ip6_ext_hdr *e;
	const struct ip6_frag_hdr *f;
	unsigned int n = 0;
	size_t elen;

	for (;;) {
		switch (*nh) {
		case IPPROTO_NUM_HOPOPTS:
			/* RFC 8200 section 4.1: only right after the IPv6 header. */
			if (n != 0)
				return PKT_DROP_IP6_EXT_ORDER;
			/* fall through */
		case IPPROTO_NUM_ROUTING:
		case IPPROTO_NUM_DSTOPTS:
		case IPPROTO_NUM_AH:
			if (++n > PKT_IP6_EXT_MAX)
				return PKT_DROP_IP6_EXT_TOO_MANY;
			e = pkt_cursor_peek(c, sizeof(*e));
			if (!e)
				return PKT_DROP_IP6_EXT_TRUNCATED;
			elen = *nh == IPPROTO_NUM_AH ? (e->hdrlen + 2u) * 4u
						     : (e->hdrlen + 1u) * 8u;
			*nh = e->nexthdr;
			if (!pkt_cursor_skip(c, elen))
				return PKT_DROP_IP6_EXT_TRUNCATED;
			break;
		case IPPROTO_NUM_FRAGMENT:
			if (++n > PKT_IP6_EXT_MAX)
				return PKT_DROP_IP6_EXT_TOO_MANY;
			if (fi->present)
				return PKT_DROP_IP6_EXT_ORDER;
			fi->hdr_off = c->off;
			f = pkt_cursor_pull(c, sizeof(*f));
			if (!f)
				return PKT_DROP_IP6_EXT_TRUNCATED;
			fi->present = true;
			fi->off = ntohs(f->frag_off) & IP6_FRAG_OFFSET_MASK;
			fi->mf = ntohs(f->frag_off) & IP6_FRAG_MF;
			fi->id = ntohl(f->id);
			fi->data_len = pkt_cursor_remaining(c);
			*nh = f->nexthdr;
			if (fi->off)
				return PKT_DROP_OK;	/* the rest is data */
			break;
		default:
			return PKT_DROP_OK;
		}
	}
}

static enum pkt_drop parse_inner_ip6(struct pkt_cursor *ic, struct pkt_inner *in)
{
	const struct ip6_hdr *ip = pkt_cursor_peek(ic, sizeof(*ip));
	struct ip6_frag_info fi = { 0 };
	enum pkt_drop r;
	uint8_t nh;
	uint16_t plen;

	if (!ip)
		return PKT_DROP_ICMP_INNER_TRUNCATED;
	if (ip6_version(ip) != 6)
		return PKT_DROP_ICMP_INNER_BAD;
	in->l3 = PKT_L3_IPV6;
	in->l3_off = (uint16_t)ic->off;
	nh = ip->nexthdr;
	plen = ntohs(ip->payload_len);
	pkt_cursor_skip(ic, sizeof(*ip));
	if (plen < pkt_cursor_remaining(ic))
		pkt_cursor_limit(ic, plen);

	r = ip6_walk_ext(ic, &nh, &fi);
	in->proto = nh;
	/* A quoted packet may stop inside its extension headers: no ports. */
	if (r == PKT_DROP_IP6_EXT_TRUNCATED)
		return PKT_DROP_OK;
	if (r != PKT_DROP_OK)
		return PKT_DROP_ICMP_INNER_BAD;
	if (fi.off) {
		in->flags |= PKT_INNER_FRAG_LATER;
		return PKT_DROP_OK;
	}
	return parse_inner_l4(ic, true, in);
}

static enum pkt_drop parse_icmp(struct pkt_cursor *c, struct pkt_meta *m,
				bool first_frag)
{
	const struct icmp_hdr *ih = pkt_cursor_peek(c, sizeof(*ih));
	bool v6 = m->l3 == PKT_L3_IPV6;
	struct pkt_cursor ic;
	enum pkt_drop r;

	if (!ih)
		return first_frag ? PKT_DROP_FRAG_TINY : PKT_DROP_ICMP_TRUNCATED;
	m->icmp_type = ih->type;
	m->icmp_code = ih->code;
	m->payload_off = (uint16_t)(c->off + ICMP_HLEN);
	m->flags |= PKT_F_L4;

	if (icmp_is_echo(v6, ih->type)) {
		m->sport = ih->un.echo.id;
		m->flags |= PKT_F_ICMP_ECHO;
		return PKT_DROP_OK;
	}
	if (!(v6 ? icmp6_is_error(ih->type) : icmp4_is_error(ih->type)))
		return PKT_DROP_OK;

	ic = *c;
	pkt_cursor_skip(&ic, ICMP_HLEN);
	r = v6 ? parse_inner_ip6(&ic, &m->inner) : parse_inner_ip4(&ic, &m->inner);
	if (r == PKT_DROP_OK)
		m->flags |= PKT_F_ICMP_ERROR;
	return r;
}

static enum pkt_drop parse_l4(struct pkt_cursor *c, struct pkt_meta *m,
			      bool first_frag)
{
	m->l4_off = (uint16_t)c->off;
	m->l4_len = (uint32_t)pkt_cursor_remaining(c);

	switch (m->l4_proto) {
	case IPPROTO_NUM_TCP:
		return parse_tcp(c, m, first_frag);
	case IPPROTO_NUM_UDP:
		return parse_udp(c, m, first_frag);
	case IPPROTO_NUM_ICMP:
		return m->l3 == PKT_L3_IPV4 ? parse_icmp(c, m, first_frag)
					    : PKT_DROP_OK;
	case IPPROTO_NUM_ICMPV6:
		return m->l3 == PKT_L3_IPV6 ? parse_icmp(c, m, first_frag)
					    : PKT_DROP_OK;
	default:
		return PKT_DROP_OK;	/* other protocols: L3 only */
	}
}

/* A non-first fragment: no L4 header here, only the RFC 1858 check. */
static enum pkt_drop parse_later_fragment(struct pkt_cursor *c,
					  struct pkt_meta *m)
{
	m->l4_off = (uint16_t)c->off;
	m->l4_len = (uint32_t)pkt_cursor_remaining(c);
	m->flags |= PKT_F_FRAG_LATER;
	if (m->l4_proto == IPPROTO_NUM_TCP && m->frag_off == 8)
		return PKT_DROP_FRAG_OVERLAP_L4;
	return PKT_DROP_OK;
}

static enum pkt_drop parse_ip4(struct pkt_cursor *c, unsigned int flags,
			       struct pkt_meta *m)
{
	const struct ip4_hdr *ip = pkt_cursor_peek(c, sizeof(*ip));
	unsigned int hlen, tot, frag;

	if (!ip)
		return PKT_DROP_IP4_TRUNCATED;
	if (ip4_version(ip) != 4)
		return PKT_DROP_IP4_BAD_VERSION;
	hlen = ip4_hlen(ip);
	if (hlen < IP4_HLEN_MIN)
		return PKT_DROP_IP4_BAD_IHL;
	if (!pkt_cursor_peek(c, hlen))
		return PKT_DROP_IP4_TRUNCATED;
	tot = ntohs(ip->tot_len);
	if (tot < hlen)
		return PKT_DROP_IP4_TOTLEN_SHORT;
	if (tot > pkt_cursor_remaining(c))
		return PKT_DROP_IP4_TOTLEN_BEYOND;
	if (!(flags & PKT_PARSE_NO_IP4_CSUM) && csum_ip4_header(ip, hlen) != 0)
		return PKT_DROP_IP4_BAD_CSUM;
	if (hlen > IP4_HLEN_MIN) {
		if (!ip4_options_valid((const uint8_t *)(ip + 1),
				       hlen - IP4_HLEN_MIN))
			return PKT_DROP_IP4_BAD_OPTION;
		m->flags |= PKT_F_IP4_OPTS;
	}

	frag = ntohs(ip->frag_off);
	m->l3 = PKT_L3_IPV4;
	m->l3_len = tot;
	m->l4_proto = ip->protocol;
	m->frag_id = ntohs(ip->id);
	if (frag & (IP4_FLAG_MF | IP4_OFFSET_MASK)) {
		m->flags |= PKT_F_FRAG;
		m->frag_off = (uint16_t)((frag & IP4_OFFSET_MASK) * 8u);
		/*
		 * "Ping of death": the reassembled datagram (this header, the
		 * data before this fragment, and this fragment's data) would
		 * pass 64 KiB.
		 */
		if (hlen + m->frag_off + (tot - hlen) > IP4_MAX_LEN)
			return PKT_DROP_IP4_FRAG_OVERSIZE;
	}
	pkt_cursor_limit(c, tot);
	pkt_cursor_skip(c, hlen);
	if (m->frag_off)
		return parse_later_fragment(c, m);
	return parse_l4(c, m, frag & IP4_FLAG_MF);
}

static enum pkt_drop parse_ip6(struct pkt_cursor *c, struct pkt_meta *m)
{
	const struct ip6_hdr *ip = pkt_cursor_peek(c, sizeof(*ip));
	struct ip6_frag_info fi = { 0 };
	enum pkt_drop r;
	uint8_t nh;
	uint16_t plen;

	if (!ip)
		return PKT_DROP_IP6_TRUNCATED;
	if (ip6_version(ip) != 6)
		return PKT_DROP_IP6_BAD_VERSION;
	plen = ntohs(ip->payload_len);
	if (plen > pkt_cursor_remaining(c) - sizeof(*ip))
		return PKT_DROP_IP6_PAYLOAD_BEYOND;
	pkt_cursor_limit(c, sizeof(*ip) + plen);
	pkt_cursor_skip(c, sizeof(*ip));
	m->l3 = PKT_L3_IPV6;
	m->l3_len = (uint32_t)sizeof(*ip) + plen;

	nh = ip->nexthdr;
	r = ip6_walk_ext(c, &nh, &fi);
	if (r)
		return r;
	m->l4_proto = nh;
	if (fi.present && (fi.mf || fi.off)) {
		m->flags |= PKT_F_FRAG;
		m->frag_off = fi.off;
		m->frag_id = fi.id;
		/*
		 * The reassembled payload (RFC 8200 section 4.5) is the
		 * unfragmentable headers between the IPv6 header and the
		 * fragment header, plus the fragmentable part up to the end
		 * of this fragment; its length field has 16 bits.
		 */
		if ((fi.hdr_off - (m->l3_off + sizeof(*ip))) + fi.off +
		    fi.data_len > IP4_MAX_LEN)
			return PKT_DROP_IP6_FRAG_OVERSIZE;
	}
	if (fi.off)
		return parse_later_fragment(c, m);
	if (nh == IPPROTO_NUM_NONE || nh == IPPROTO_NUM_ESP) {
		m->l4_off = (uint16_t)c->off;
		m->l4_len = (uint32_t)pkt_cursor_remaining(c);
		return PKT_DROP_OK;
	}
	return parse_l4(c, m, fi.mf);
}

enum pkt_drop pkt_parse(const uint8_t *frame, size_t len, unsigned int flags,
			struct pkt_meta *m)
{
	struct pkt_cursor c;
	enum pkt_drop r;

	memset(m, 0, sizeof(*m));
	pkt_cursor_init(&c, frame, MIN(len, (size_t)PKT_LEN_MAX));

	if (flags & PKT_PARSE_L3) {
		const uint8_t *v = pkt_cursor_peek(&c, 1);

		if (!v)
			return PKT_DROP_L3_UNKNOWN;
		if (*v >> 4 == 4)
			m->ethertype = ETH_P_IPV4;
		else if (*v >> 4 == 6)
			m->ethertype = ETH_P_IPV6;
		else
			return PKT_DROP_L3_UNKNOWN;
	} else {
		r = parse_eth(&c, m);
		if (r)
			return r;
	}
	m->l3_off = (uint16_t)c.off;

	switch (m->ethertype) {
	case ETH_P_ARP:
		r = parse_arp(&c, m);
		break;
	case ETH_P_IPV4:
		r = parse_ip4(&c, flags, m);
		break;
	case ETH_P_IPV6:
		r = parse_ip6(&c, m);
		break;
	default:
		m->l3 = PKT_L3_OTHER;
		r = PKT_DROP_OK;
		break;
	}
	if (r)
		return r;
	/* The IP (or ARP) layer narrowed the window to its own length. */
	m->len = (uint32_t)c.len;
	if (c.len < len)
		m->flags |= PKT_F_TRIMMED;
	return PKT_DROP_OK;
}
