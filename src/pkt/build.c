// SPDX-License-Identifier: MIT
#include "pkt/build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "pkt/csum.h"
#include "prot/arp.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"

#define PKT_TCP_OPTS_MAX (TCP_HLEN_MAX - TCP_HLEN_MIN)

static size_t build_eth(const struct pkt_spec *s, uint8_t *p, uint16_t type)
{
	struct eth_hdr eh;
	struct vlan_tag tag;

	if (s->no_eth)
		return 0;
	memcpy(eh.dst, s->eth_dst, ETH_ALEN);
	memcpy(eh.src, s->eth_src, ETH_ALEN);
	if (!s->vlan) {
		eh.type = htons(type);
		memcpy(p, &eh, sizeof(eh));
		return sizeof(eh);
	}
	eh.type = htons(ETH_P_8021Q);
	tag.tci = htons(s->vlan_tci);
	tag.type = htons(type);
	memcpy(p, &eh, sizeof(eh));
	memcpy(p + sizeof(eh), &tag, sizeof(tag));
	return sizeof(eh) + sizeof(tag);
}

/* TCP options in the usual SYN order; returns their padded length. */
static size_t build_tcp_opts(const struct pkt_spec *s, uint8_t *o)
{
	size_t n = 0;

	if (s->mss) {
		o[n++] = TCP_OPT_MSS;
		o[n++] = TCP_OLEN_MSS;
		o[n++] = (uint8_t)(s->mss >> 8);
		o[n++] = (uint8_t)s->mss;
	}
	if (s->sack_perm) {
		o[n++] = TCP_OPT_SACK_PERM;
		o[n++] = TCP_OLEN_SACK_PERM;
	}
	if (s->has_ts) {
		uint32_t v[2] = { htonl(s->tsval), htonl(s->tsecr) };

		o[n++] = TCP_OPT_TIMESTAMP;
		o[n++] = TCP_OLEN_TIMESTAMP;
		memcpy(o + n, v, sizeof(v));
		n += sizeof(v);
	}
	if (s->has_wscale) {
		o[n++] = TCP_OPT_NOP;
		o[n++] = TCP_OPT_WSCALE;
		o[n++] = TCP_OLEN_WSCALE;
		o[n++] = s->wscale;
	}
	while (n % 4)
		o[n++] = TCP_OPT_NOP;
	return n;
}

static size_t l4_hdr_len(const struct pkt_spec *s, uint8_t *tcp_opts,
			 size_t *tcp_opts_len)
{
	*tcp_opts_len = 0;
	if (s->l4_raw)
		return 0;
	switch (s->proto) {
	case IPPROTO_NUM_TCP:
		*tcp_opts_len = build_tcp_opts(s, tcp_opts);
		return TCP_HLEN_MIN + *tcp_opts_len;
	case IPPROTO_NUM_UDP:
		return UDP_HLEN;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		return ICMP_HLEN;
	default:
		return 0;
	}
}

static uint32_t l4_pseudo(const struct pkt_spec *s, size_t l4_len)
{
	if (s->ip6)
		return csum_pseudo_ip6(s->src6, s->dst6, s->proto,
				       (uint32_t)l4_len);
	return csum_pseudo_ip4(s->src4, s->dst4, s->proto, (uint16_t)l4_len);
}

/* Write the L4 header at @l4 (payload already in place) with its checksum. */
static void build_l4(const struct pkt_spec *s, uint8_t *l4, size_t l4_len,
		     const uint8_t *tcp_opts, size_t tcp_opts_len)
{
	uint16_t c;

	switch (s->proto) {
	case IPPROTO_NUM_TCP: {
		struct tcp_hdr th = {
			.sport = htons(s->sport),
			.dport = htons(s->dport),
			.seq = htonl(s->seq),
			.ack_seq = htonl(s->ack),
			.doff_res = (uint8_t)(((TCP_HLEN_MIN + tcp_opts_len) / 4) << 4),
			.flags = s->tcp_flags,
			.window = htons(s->window ? s->window : 65535),
		};

		memcpy(l4, &th, sizeof(th));
		memcpy(l4 + sizeof(th), tcp_opts, tcp_opts_len);
		c = csum_finish(csum_partial(l4, l4_len, l4_pseudo(s, l4_len)));
		memcpy(l4 + offsetof(struct tcp_hdr, check), &c, 2);
		break;
	}
	case IPPROTO_NUM_UDP: {
		struct udp_hdr uh = {
			.sport = htons(s->sport),
			.dport = htons(s->dport),
			.len = htons((uint16_t)l4_len),
		};

		memcpy(l4, &uh, sizeof(uh));
		if (s->udp_no_csum && !s->ip6)
			break;
		c = csum_finish(csum_partial(l4, l4_len, l4_pseudo(s, l4_len)));
		c = csum_udp_nonzero(c);
		memcpy(l4 + offsetof(struct udp_hdr, check), &c, 2);
		break;
	}
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6: {
		struct icmp_hdr ih = {
			.type = s->icmp_type,
			.code = s->icmp_code,
			.un.echo.id = htons(s->icmp_id),
			.un.echo.seq = htons(s->icmp_seq),
		};
		/* ICMPv6 covers a pseudo-header (RFC 4443 2.3); ICMPv4 does not. */
		uint32_t sum = s->proto == IPPROTO_NUM_ICMPV6 ? l4_pseudo(s, l4_len) : 0;

		memcpy(l4, &ih, sizeof(ih));
		c = csum_finish(csum_partial(l4, l4_len, sum));
		memcpy(l4 + offsetof(struct icmp_hdr, check), &c, 2);
		break;
	}
	default:
		break;
	}
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	uint8_t tcp_opts[PKT_TCP_OPTS_MAX];
	size_t tcp_opts_len, l2, l3h, l4h, l4_len, total;
	uint8_t *l3, *l4;

	if (s->ip4_opts_len % 4 || s->ip4_opts_len > IP4_HLEN_MAX - IP4_HLEN_MIN)
		return -EINVAL;
	if (s->ip6_ext_len % 8)
		return -EINVAL;
	l2 = s->no_eth ? 0 : ETH_HLEN + (s->vlan ? ETH_VLAN_HLEN : 0);
	l3h = s->ip6 ? IP6_HLEN + s->ip6_ext_len : IP4_HLEN_MIN + s->ip4_opts_len;
	l4h = l4_hdr_len(s, tcp_opts, &tcp_opts_len);
	if (s->payload_len > IP4_MAX_LEN)
		return -EINVAL;
	l4_len = l4h + s->payload_len;
	/* IPv4 total length and IPv6 payload length are both 16 bits. */
	if ((s->ip6 ? l4_len + s->ip6_ext_len : l3h + l4_len) > IP4_MAX_LEN)
		return -EINVAL;
	total = l2 + l3h + l4_len;
	if (total > cap)
		return -ENOSPC;

	build_eth(s, buf, s->ip6 ? ETH_P_IPV6 : ETH_P_IPV4);
	l3 = buf + l2;
	l4 = l3 + l3h;
	if (s->payload_len)
		memcpy(l4 + l4h, s->payload, s->payload_len);

	if (s->ip6) {
		struct ip6_hdr ip = {
			.ver_tc_flow = htonl(6u << 28 | (uint32_t)s->tos << 20),
			.payload_len = htons((uint16_t)(s->ip6_ext_len + l4_len)),
			.nexthdr = s->ip6_ext_len ? s->ip6_ext_first : s->proto,
			.hop_limit = s->ttl ? s->ttl : 64,
		};

		memcpy(ip.saddr, s->src6, IP6_ALEN);
		memcpy(ip.daddr, s->dst6, IP6_ALEN);
		memcpy(l3, &ip, sizeof(ip));
		if (s->ip6_ext_len)
			memcpy(l3 + IP6_HLEN, s->ip6_ext, s->ip6_ext_len);
	} else {
		struct ip4_hdr ip = {
			.ver_ihl = (uint8_t)(4u << 4 | (l3h / 4)),
			.tos = s->tos,
			.tot_len = htons((uint16_t)(l3h + l4_len)),
			.id = htons(s->ip_id),
			.frag_off = htons(s->ip4_frag),
			.ttl = s->ttl ? s->ttl : 64,
			.protocol = s->proto,
			.saddr = s->src4,
			.daddr = s->dst4,
		};
		uint16_t c;

		memcpy(l3, &ip, sizeof(ip));
		if (s->ip4_opts_len)
			memcpy(l3 + IP4_HLEN_MIN, s->ip4_opts, s->ip4_opts_len);
		c = csum_ip4_header(l3, l3h);
		memcpy(l3 + offsetof(struct ip4_hdr, check), &c, 2);
	}
	if (l4h)
		build_l4(s, l4, l4_len, tcp_opts, tcp_opts_len);
	return (int)total;
}

int pkt_build_arp(uint8_t *buf, size_t cap, uint16_t op,
		  const uint8_t eth_dst[ETH_ALEN], const uint8_t sha[ETH_ALEN],
		  uint32_t spa, const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	struct pkt_spec s = { 0 };
	struct arp_eth_ip4 arp = {
		.htype = htons(ARP_HTYPE_ETHER),
		.ptype = htons(ETH_P_IPV4),
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = htons(op),
		.spa = spa,
		.tpa = tpa,
	};
	size_t l2;

	if (cap < ETH_HLEN + sizeof(arp))
		return -ENOSPC;
	memcpy(s.eth_dst, eth_dst, ETH_ALEN);
	memcpy(s.eth_src, sha, ETH_ALEN);
	memcpy(arp.sha, sha, ETH_ALEN);
	memcpy(arp.tha, tha, ETH_ALEN);
	l2 = build_eth(&s, buf, ETH_P_ARP);
	memcpy(buf + l2, &arp, sizeof(arp));
	return (int)(l2 + sizeof(arp));
}

int pkt_build_icmp4_error(const struct pkt_icmp4_err *e, uint8_t *buf,
			  size_t cap)
{
	struct pkt_spec s = {
		.no_eth = e->no_eth,
		.src4 = e->src4,
		.dst4 = e->dst4,
		.tos = 0xc0,
		.ip_id = e->ip_id,
		.proto = IPPROTO_NUM_ICMP,
		.icmp_type = e->type,
		.icmp_code = e->code,
		.icmp_seq = e->mtu,
		.payload = e->quote,
		.payload_len = e->quote_len,
	};

	if (e->quote_len < IP4_HLEN_MIN + 8)
		return -EINVAL;
	if (s.payload_len > PKT_ICMP4_QUOTE_MAX)
		s.payload_len = PKT_ICMP4_QUOTE_MAX;
	memcpy(s.eth_dst, e->eth_dst, ETH_ALEN);
	memcpy(s.eth_src, e->eth_src, ETH_ALEN);
	return pkt_build(&s, buf, cap);
}
