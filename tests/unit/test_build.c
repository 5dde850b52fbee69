// SPDX-License-Identifier: MIT
/*
 * Unit tests for pkt/build: every kind of frame pkt_build() writes is
 * checked field by field against its struct pkt_spec, re-read by
 * pkt_parse(), and its checksums are verified twice: with pkt/csum and with
 * the naive reference in tests/ref (over a pseudo-header laid out by hand).
 * Then the UDP zero-checksum rule, the error returns with a guard area
 * after the buffer, and ARP byte by byte.
 *
 * Each row of variants[] is a named cmocka test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <cmocka.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/eth.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/ip6.h"
#include "prot/tcp.h"
#include "prot/udp.h"
#include "ref/csum_ref.h"

#define BUF_CAP		2048
#define GUARD		64
#define GUARD_BYTE	0xa5
#define BIG_CAP		(ETH_HLEN + ETH_VLAN_HLEN + IP4_MAX_LEN + GUARD)

static const uint8_t mac_d[ETH_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t mac_s[ETH_ALEN] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };
static const uint8_t ip6_s[IP6_ALEN] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0, 0x02 };
static const uint8_t ip6_d[IP6_ALEN] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee,
					 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };

#define NOP4 IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP
static const uint8_t opts4[4] = { IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP,
				  IP4_OPT_EOL };
/* Router alert (RFC 2113) and NOPs: a full 40-byte option area. */
static const uint8_t opts40[40] = { 0x94, 0x04, 0, 0, NOP4, NOP4, NOP4, NOP4,
				    NOP4, NOP4, NOP4, NOP4, NOP4 };

static uint8_t payload_bytes[IP4_MAX_LEN];
static uint8_t big[BIG_CAP];

static void fill_payload(void)
{
	size_t i;

	for (i = 0; i < sizeof(payload_bytes); i++)
		payload_bytes[i] = (uint8_t)(i * 7 + 3);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Hop-by-hop and destination options headers (8 bytes each, PadN) ending
 * in @proto, for ip6_ext.
 */
static void make_ext(uint8_t ext[16], uint8_t proto)
{
	static const uint8_t hbh[8] = { IPPROTO_NUM_DSTOPTS, 0, 1, 4 };

	memcpy(ext, hbh, 8);
	memcpy(ext + 8, hbh, 8);
	ext[8] = proto;
}

/* Addresses, MACs, ports and payload; the template keeps what it sets. */
static void spec_fill(struct pkt_spec *s, size_t payload_len)
{
	memcpy(s->eth_dst, mac_d, ETH_ALEN);
	memcpy(s->eth_src, mac_s, ETH_ALEN);
	s->src4 = htonl(0x0a000002);
	s->dst4 = htonl(0xc6336407);
	memcpy(s->src6, ip6_s, IP6_ALEN);
	memcpy(s->dst6, ip6_d, IP6_ALEN);
	if (!s->sport)
		s->sport = 49152;
	if (!s->dport)
		s->dport = 443;
	s->payload = payload_bytes;
	s->payload_len = payload_len;
}

/* Length of the TCP options @s asks for, padded to 4 bytes. */
static size_t tcp_opts_len(const struct pkt_spec *s)
{
	size_t n = (s->mss ? 4 : 0) + (s->sack_perm ? 2 : 0) +
		   (s->has_ts ? 10 : 0) + (s->has_wscale ? 4 : 0);

	return (n + 3) & ~(size_t)3;
}

static size_t l4_hlen(const struct pkt_spec *s)
{
	if (s->l4_raw)
		return 0;
	switch (s->proto) {
	case IPPROTO_NUM_TCP:
		return TCP_HLEN_MIN + tcp_opts_len(s);
	case IPPROTO_NUM_UDP:
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

/*
 * Verify the L4 checksum of @l4 (@len bytes) two ways: pkt/csum over the
 * pseudo-header sum, and the naive reference over a pseudo-header laid out
 * by hand (RFC 768, RFC 8200 section 8.1) followed by the segment.
 */
static void check_l4_csum(const struct pkt_spec *s, const uint8_t *l4, size_t len)
{
	static uint8_t tmp[40 + IP4_MAX_LEN];
	uint32_t sum = 0;
	size_t ph;

	if (s->proto == IPPROTO_NUM_ICMP) {
		assert_int_equal(csum_finish(csum_partial(l4, len, 0)), 0);
		assert_int_equal(csum_ref(l4, len), 0);
		return;
	}
	if (s->ip6) {
		sum = csum_pseudo_ip6(s->src6, s->dst6, s->proto, (uint32_t)len);
		memcpy(tmp, s->src6, 16);
		memcpy(tmp + 16, s->dst6, 16);
		tmp[32] = (uint8_t)(len >> 24);
		tmp[33] = (uint8_t)(len >> 16);
		tmp[34] = (uint8_t)(len >> 8);
		tmp[35] = (uint8_t)len;
		memset(tmp + 36, 0, 3);
		tmp[39] = s->proto;
		ph = 40;
	} else {
		sum = csum_pseudo_ip4(s->src4, s->dst4, s->proto, (uint16_t)len);
		memcpy(tmp, &s->src4, 4);
		memcpy(tmp + 4, &s->dst4, 4);
		tmp[8] = 0;
		tmp[9] = s->proto;
		tmp[10] = (uint8_t)(len >> 8);
		tmp[11] = (uint8_t)len;
		ph = 12;
	}
	memcpy(tmp + ph, l4, len);
	assert_int_equal(csum_finish(csum_partial(l4, len, sum)), 0);
	assert_int_equal(csum_ref(tmp, ph + len), 0);
}

/* Options well formed (RFC 9293 section 3.1): after an EOL only zeros. */
static void check_tcp_opts(const uint8_t *o, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (o[i] == TCP_OPT_EOL) {
			for (; i < len; i++)
				assert_int_equal(o[i], 0);
			return;
		}
		if (o[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		assert_true(len - i >= 2 && o[i + 1] >= 2 && o[i + 1] <= len - i);
		i += o[i + 1];
	}
}

static void check_l4(const struct pkt_spec *s, const uint8_t *l4, size_t len)
{
	switch (s->proto) {
	case IPPROTO_NUM_TCP:
		assert_int_equal(rd16(l4), s->sport);
		assert_int_equal(rd16(l4 + 2), s->dport);
		assert_int_equal(rd32(l4 + 4), s->seq);
		assert_int_equal(rd32(l4 + 8), s->ack);
		assert_int_equal(l4[12], (l4_hlen(s) / 4) << 4);
		assert_int_equal(l4[13], s->tcp_flags);
		assert_int_equal(rd16(l4 + 14), s->window ? s->window : 65535);
		assert_int_equal(rd16(l4 + 18), 0);
		check_tcp_opts(l4 + TCP_HLEN_MIN, l4_hlen(s) - TCP_HLEN_MIN);
		break;
	case IPPROTO_NUM_UDP:
		assert_int_equal(rd16(l4), s->sport);
		assert_int_equal(rd16(l4 + 2), s->dport);
		assert_int_equal(rd16(l4 + 4), len);
		if (s->udp_no_csum && !s->ip6) {
			assert_int_equal(rd16(l4 + 6), 0);
			return;
		}
		assert_int_not_equal(rd16(l4 + 6), 0);
		break;
	default:	/* ICMP, ICMPv6 */
		assert_int_equal(l4[0], s->icmp_type);
		assert_int_equal(l4[1], s->icmp_code);
		assert_int_equal(rd16(l4 + 4), s->icmp_id);
		assert_int_equal(rd16(l4 + 6), s->icmp_seq);
		break;
	}
	check_l4_csum(s, l4, len);
}

/* What pkt_parse() must make of the frame. */
static void check_parse(const struct pkt_spec *s, const uint8_t *f, size_t n,
			size_t l2, size_t l3h, size_t l4h)
{
	struct pkt_meta m;

	assert_string_equal(pkt_drop_name(pkt_parse(f, n, s->no_eth ? PKT_PARSE_L3 : 0, &m)),
			    "ok");
	assert_int_equal(m.len, n);
	assert_int_equal(m.l3, s->ip6 ? PKT_L3_IPV6 : PKT_L3_IPV4);
	assert_int_equal(m.l3_off, l2);
	assert_int_equal(m.l3_len, n - l2);
	assert_int_equal(m.l4_proto, s->proto);
	assert_int_equal(!!(m.flags & PKT_F_VLAN), s->vlan);
	assert_int_equal(m.vlan_tci, s->vlan ? s->vlan_tci : 0);
	assert_int_equal(!!(m.flags & PKT_F_IP4_OPTS), s->ip4_opts_len != 0);
	if (s->ip4_frag & IP4_OFFSET_MASK) {
		assert_int_equal(m.flags & (PKT_F_L4 | PKT_F_FRAG_LATER),
				 PKT_F_FRAG_LATER);
		return;
	}
	assert_int_equal(!!(m.flags & PKT_F_L4), l4h != 0);
	if (!l4h)
		return;
	assert_int_equal(m.l4_off, l2 + l3h);
	assert_int_equal(m.payload_off, l2 + l3h + l4h);
	assert_int_equal(m.l4_len, n - l2 - l3h);
	if (s->proto == IPPROTO_NUM_TCP || s->proto == IPPROTO_NUM_UDP) {
		assert_int_equal(m.sport, htons(s->sport));
		assert_int_equal(m.dport, htons(s->dport));
	}
	if (s->proto == IPPROTO_NUM_ICMP || s->proto == IPPROTO_NUM_ICMPV6) {
		assert_int_equal(m.icmp_type, s->icmp_type);
		if (m.flags & PKT_F_ICMP_ECHO)
			assert_int_equal(m.sport, htons(s->icmp_id));
	}
	if (s->proto != IPPROTO_NUM_TCP)
		return;
	assert_int_equal(m.tcp_mss, s->mss);
	assert_int_equal(!!(m.flags & PKT_F_TCP_MSS), s->mss != 0);
	assert_int_equal(!!(m.flags & PKT_F_TCP_SACK_PERM), s->sack_perm);
	assert_int_equal(!!(m.flags & PKT_F_TCP_TS), s->has_ts);
	assert_int_equal(!!(m.flags & PKT_F_TCP_WSCALE), s->has_wscale);
	assert_int_equal(m.tcp_wscale, s->has_wscale ? MIN(s->wscale, 14) : 0);
	assert_int_equal(m.tcp_tsval, s->has_ts ? s->tsval : 0);
	assert_int_equal(m.tcp_tsecr, s->has_ts ? s->tsecr : 0);
}

/* Check every byte pkt_build() wrote for @s: @n bytes at @f. */
static void check_frame(const struct pkt_spec *s, const uint8_t *f, int ret)
{
	size_t l2 = s->no_eth ? 0 : ETH_HLEN + (s->vlan ? ETH_VLAN_HLEN : 0);
	size_t l3h = s->ip6 ? IP6_HLEN + s->ip6_ext_len :
			      IP4_HLEN_MIN + s->ip4_opts_len;
	size_t l4h = l4_hlen(s), n = l2 + l3h + l4h + s->payload_len;
	uint16_t type = s->ip6 ? ETH_P_IPV6 : ETH_P_IPV4;
	const uint8_t *l3 = f + l2, *l4 = l3 + l3h;

	assert_int_equal(ret, n);
	if (!s->no_eth) {
		assert_memory_equal(f, s->eth_dst, ETH_ALEN);
		assert_memory_equal(f + 6, s->eth_src, ETH_ALEN);
		assert_int_equal(rd16(f + 12), s->vlan ? ETH_P_8021Q : type);
		if (s->vlan) {
			assert_int_equal(rd16(f + 14), s->vlan_tci);
			assert_int_equal(rd16(f + 16), type);
		}
	}
	if (s->ip6) {
		assert_int_equal(rd32(l3), 6u << 28 | (uint32_t)s->tos << 20);
		assert_int_equal(rd16(l3 + 4), n - l2 - IP6_HLEN);
		assert_int_equal(l3[6], s->ip6_ext_len ? s->ip6_ext_first : s->proto);
		assert_int_equal(l3[7], s->ttl ? s->ttl : 64);
		assert_memory_equal(l3 + 8, s->src6, IP6_ALEN);
		assert_memory_equal(l3 + 24, s->dst6, IP6_ALEN);
		if (s->ip6_ext_len)
			assert_memory_equal(l3 + IP6_HLEN, s->ip6_ext, s->ip6_ext_len);
	} else {
		assert_int_equal(l3[0], 0x40 | l3h / 4);
		assert_int_equal(l3[1], s->tos);
		assert_int_equal(rd16(l3 + 2), n - l2);
		assert_int_equal(rd16(l3 + 4), s->ip_id);
		assert_int_equal(rd16(l3 + 6), s->ip4_frag);
		assert_int_equal(l3[8], s->ttl ? s->ttl : 64);
		assert_int_equal(l3[9], s->proto);
		assert_memory_equal(l3 + 12, &s->src4, 4);
		assert_memory_equal(l3 + 16, &s->dst4, 4);
		if (s->ip4_opts_len)
			assert_memory_equal(l3 + 20, s->ip4_opts, s->ip4_opts_len);
		assert_int_equal(csum_ip4_header(l3, l3h), 0);
		assert_int_equal(csum_ref(l3, l3h), 0);
	}
	if (s->payload_len)
		assert_memory_equal(l4 + l4h, s->payload, s->payload_len);
	if (l4h)
		check_l4(s, l4, l4h + s->payload_len);
	check_parse(s, f, n, l2, l3h, l4h);
}

/* ---- one named test per kind of frame ---- */

struct variant {
	const char *name;
	struct pkt_spec t;	/* the template; spec_fill() adds the rest */
	size_t payload_len;
	bool ext6;		/* hop-by-hop + destination options */
};

#define TCP .proto = IPPROTO_NUM_TCP
#define UDP .proto = IPPROTO_NUM_UDP
#define V6 .ip6 = true

static struct variant variants[] = {
	{ "build_tcp4", { TCP, .tcp_flags = TCP_ACK | TCP_PSH, .seq = 0x11223344,
			  .ack = 0x55667788, .window = 1000 }, 20 },
	{ "build_tcp4_syn_all_options", { TCP, .tcp_flags = TCP_SYN, .mss = 1460,
					  .sack_perm = true, .has_ts = true,
					  .tsval = 0xdeadbeef, .tsecr = 7,
					  .has_wscale = true, .wscale = 9 }, 0 },
	{ "build_tcp4_mss", { TCP, .tcp_flags = TCP_SYN, .mss = 536 }, 0 },
	{ "build_tcp4_sack_perm", { TCP, .sack_perm = true }, 0 },
	{ "build_tcp4_timestamps", { TCP, .has_ts = true, .tsval = 1, .tsecr = 2 }, 5 },
	{ "build_tcp4_wscale", { TCP, .has_wscale = true, .wscale = 14 }, 0 },
	{ "build_tcp4_odd_payload", { TCP, .tcp_flags = TCP_FIN | TCP_ACK }, 21 },
	{ "build_tcp4_ttl_tos_id_df", { TCP, .ttl = 1, .tos = 0xb8, .ip_id = 0xabcd,
					.ip4_frag = IP4_FLAG_DF }, 3 },
	{ "build_udp4", { UDP }, 20 },
	{ "build_udp4_empty", { UDP }, 0 },
	{ "build_udp4_no_csum", { UDP, .udp_no_csum = true }, 13 },
	{ "build_icmp4_echo", { .proto = IPPROTO_NUM_ICMP, .icmp_type = ICMP_ECHO,
				.icmp_id = 0x1234, .icmp_seq = 9 }, 56 },
	{ "build_icmp4_echo_reply_odd", { .proto = IPPROTO_NUM_ICMP, .icmp_id = 1,
					  .icmp_seq = 0xffff }, 7 },
	{ "build_tcp6", { V6, TCP, .tcp_flags = TCP_SYN, .mss = 1440,
			  .has_wscale = true, .wscale = 7 }, 0 },
	{ "build_tcp6_ttl_tclass", { V6, TCP, .ttl = 255, .tos = 0xb8 }, 100 },
	{ "build_udp6", { V6, UDP }, 33 },
	{ "build_udp6_no_csum_ignored", { V6, UDP, .udp_no_csum = true }, 8 },
	{ "build_icmp6_echo", { V6, .proto = IPPROTO_NUM_ICMPV6,
				.icmp_type = ICMP6_ECHO_REQUEST, .icmp_id = 77,
				.icmp_seq = 1 }, 32 },
	{ "build_icmp6_neigh_solicit", { V6, .proto = IPPROTO_NUM_ICMPV6,
					  .icmp_type = ICMP6_NEIGH_SOLICIT,
					  .icmp_seq = 1280 }, 24 },
	{ "build_vlan_tcp4", { TCP, .vlan = true, .vlan_tci = 0xe00a }, 10 },
	{ "build_vlan_udp6", { V6, UDP, .vlan = true, .vlan_tci = 0x0fff }, 10 },
	{ "build_no_eth_tcp4", { TCP, .no_eth = true }, 10 },
	{ "build_no_eth_udp6", { V6, UDP, .no_eth = true }, 10 },
	{ "build_ip4_opts4_udp", { UDP, .ip4_opts = opts4, .ip4_opts_len = 4 }, 10 },
	{ "build_ip4_opts40_tcp", { TCP, .ip4_opts = opts40, .ip4_opts_len = 40,
				    .mss = 1400 }, 10 },
	{ "build_ip6_ext_tcp", { V6, TCP, .has_ts = true, .tsval = 5 }, 10, true },
	{ "build_ip6_ext_udp", { V6, UDP }, 11, true },
	{ "build_ip6_ext_icmp6", { V6, .proto = IPPROTO_NUM_ICMPV6,
				   .icmp_type = ICMP6_ECHO_REPLY }, 12, true },
	{ "build_l4_raw_ip4", { .proto = 47, .l4_raw = true }, 30 },
	{ "build_l4_raw_ip4_fragment", { TCP, .l4_raw = true, .ip_id = 99,
					 .ip4_frag = IP4_FLAG_MF | 100 }, 40 },
	{ "build_l4_raw_ip6", { V6, .proto = 47, .l4_raw = true }, 30 },
	{ "build_other_proto_ip4", { .proto = 47 }, 9 },
};

/* @v's spec, completed; @ext holds its extension headers. */
static struct pkt_spec variant_spec(const struct variant *v, uint8_t ext[16])
{
	struct pkt_spec s = v->t;

	spec_fill(&s, v->payload_len);
	if (v->ext6) {
		make_ext(ext, s.proto);
		s.ip6_ext = ext;
		s.ip6_ext_len = 16;
		s.ip6_ext_first = IPPROTO_NUM_HOPOPTS;
	}
	return s;
}

static void run_variant(void **state)
{
	const struct variant *v = *state;
	uint8_t ext[16], buf[BUF_CAP];
	struct pkt_spec s = variant_spec(v, ext);

	memset(buf, GUARD_BYTE, sizeof(buf));
	check_frame(&s, buf, pkt_build(&s, buf, sizeof(buf)));
}

/* True if @n bytes at @p are all GUARD_BYTE. */
static bool untouched(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != GUARD_BYTE)
			return false;
	return true;
}

/* One byte short: -ENOSPC and nothing past cap; exact fit: nothing past. */
static void test_enospc_every_variant(void **state)
{
	uint8_t ext[16], buf[BUF_CAP];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		struct pkt_spec s = variant_spec(&variants[i], ext);
		int n = pkt_build(&s, buf, sizeof(buf));

		assert_true(n > 0);
		memset(buf, GUARD_BYTE, sizeof(buf));
		assert_int_equal(pkt_build(&s, buf, (size_t)n - 1), -ENOSPC);
		assert_true(untouched(buf + n - 1, GUARD + 1));
		assert_int_equal(pkt_build(&s, buf, 0), -ENOSPC);
		assert_int_equal(pkt_build(&s, buf, (size_t)n), n);
		assert_true(untouched(buf + n, GUARD));
		check_frame(&s, buf, n);
	}
}

/* A UDP checksum that computes to 0 is sent as 0xFFFF (RFC 768). */
static void test_udp_csum_zero_is_ffff(void **state)
{
	uint8_t buf[BUF_CAP], p[2];
	struct pkt_spec s;
	uint32_t w;
	int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		size_t l4 = v6 ? ETH_HLEN + IP6_HLEN : ETH_HLEN + IP4_HLEN_MIN;
		int found = 0;

		memset(&s, 0, sizeof(s));
		s.ip6 = v6;
		s.proto = IPPROTO_NUM_UDP;
		spec_fill(&s, 0);
		s.payload = p;
		s.payload_len = sizeof(p);
		for (w = 0; w <= 0xffff; w++) {
			p[0] = (uint8_t)(w >> 8);
			p[1] = (uint8_t)w;
			assert_int_equal(pkt_build(&s, buf, sizeof(buf)), l4 + 10);
			assert_int_not_equal(rd16(buf + l4 + 6), 0);
			if (rd16(buf + l4 + 6) != 0xffff)
				continue;
			found++;
			check_frame(&s, buf, (int)l4 + 10);
			/* With the field zero, the data sums to "checksum 0". */
			buf[l4 + 6] = 0;
			buf[l4 + 7] = 0;
			assert_int_equal(csum_finish(csum_partial(buf + l4, 10, v6 ?
				csum_pseudo_ip6(s.src6, s.dst6, 17, 10) :
				csum_pseudo_ip4(s.src4, s.dst4, 17, 10))), 0);
		}
		/* One residue mod 0xffff does it: one word, or both 0 and 0xffff. */
		assert_true(found == 1 || found == 2);
	}
}

static void test_einval(void **state)
{
	static const struct {
		size_t opts, ext, payload;	/* lengths in bytes */
		int want;			/* pkt_build() result */
		bool v6;
		uint8_t proto;
	} c[] = {
		{ 3, 0, 0, -EINVAL, false, IPPROTO_NUM_TCP },
		{ 2, 0, 0, -EINVAL, false, IPPROTO_NUM_TCP },
		{ 41, 0, 0, -EINVAL, false, IPPROTO_NUM_TCP },
		{ 44, 0, 0, -EINVAL, false, IPPROTO_NUM_TCP },
		{ 0, 4, 0, -EINVAL, true, IPPROTO_NUM_UDP },
		/* IPv4 total length: 20 + 20 + 65495 = 65535 fits. */
		{ 0, 0, 65495, 65535 + ETH_HLEN, false, IPPROTO_NUM_TCP },
		{ 0, 0, 65496, -EINVAL, false, IPPROTO_NUM_TCP },
		{ 40, 0, 65467, 65535 + ETH_HLEN, false, IPPROTO_NUM_UDP },
		{ 40, 0, 65468, -EINVAL, false, IPPROTO_NUM_UDP },
		/* IPv6 payload length: 8 + 65527 = 65535 fits. */
		{ 0, 0, 65527, 65575 + ETH_HLEN, true, IPPROTO_NUM_UDP },
		{ 0, 0, 65528, -EINVAL, true, IPPROTO_NUM_UDP },
		{ 0, 16, 65511, 65575 + ETH_HLEN, true, IPPROTO_NUM_ICMPV6 },
		{ 0, 16, 65512, -EINVAL, true, IPPROTO_NUM_ICMPV6 },
		{ 0, 0, 65516, -EINVAL, false, 47 },
		{ 0, 0, (size_t)-1, -EINVAL, false, IPPROTO_NUM_UDP },
	};
	uint8_t ext[16];
	struct pkt_spec s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		int n;

		memset(&s, 0, sizeof(s));
		s.ip6 = c[i].v6;
		s.proto = c[i].proto;
		s.icmp_type = ICMP6_ECHO_REQUEST;
		spec_fill(&s, c[i].payload);
		s.ip4_opts = opts40;
		s.ip4_opts_len = c[i].opts;
		make_ext(ext, s.proto);
		s.ip6_ext = ext;
		s.ip6_ext_len = c[i].ext;
		s.ip6_ext_first = IPPROTO_NUM_HOPOPTS;
		memset(big, GUARD_BYTE, sizeof(big));
		n = pkt_build(&s, big, sizeof(big));
		if (n != c[i].want)
			fail_msg("case %zu: got %d, want %d", i, n, c[i].want);
		if (n < 0)
			assert_true(untouched(big, sizeof(big)));
		else
			check_frame(&s, big, n);
	}
}

static void test_build_arp(void **state)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[ETH_ALEN];
	static const uint8_t request[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* Ethernet destination */
		0x02, 0x66, 0x77, 0x88, 0x99, 0xaa,	/* Ethernet source */
		0x08, 0x06,				/* EtherType ARP */
		0x00, 0x01,				/* htype Ethernet */
		0x08, 0x00,				/* ptype IPv4 */
		6, 4,					/* hlen, plen */
		0x00, 0x01,				/* op request */
		0x02, 0x66, 0x77, 0x88, 0x99, 0xaa,	/* sha */
		10, 0, 0, 2,				/* spa */
		0, 0, 0, 0, 0, 0,			/* tha */
		10, 0, 0, 1,				/* tpa */
	};
	uint8_t buf[BUF_CAP], reply[42];
	struct pkt_meta m;

	(void)state;
	memset(buf, GUARD_BYTE, sizeof(buf));
	assert_int_equal(pkt_build_arp(buf, sizeof(buf), ARP_OP_REQUEST, bcast,
				       mac_s, htonl(0x0a000002), zero,
				       htonl(0x0a000001)), 42);
	assert_memory_equal(buf, request, sizeof(request));
	assert_true(untouched(buf + 42, GUARD));
	assert_string_equal(pkt_drop_name(pkt_parse(buf, 42, 0, &m)), "ok");
	assert_int_equal(m.l3, PKT_L3_ARP);
	assert_int_equal(m.len, 42);

	/* The reply: to the requester, from us, addresses swapped. */
	memcpy(reply, request, sizeof(reply));
	memcpy(reply, mac_s, ETH_ALEN);
	memcpy(reply + 6, mac_d, ETH_ALEN);
	reply[21] = ARP_OP_REPLY;
	memcpy(reply + 22, mac_d, ETH_ALEN);
	memcpy(reply + 28, request + 38, 4);
	memcpy(reply + 32, mac_s, ETH_ALEN);
	memcpy(reply + 38, request + 28, 4);
	assert_int_equal(pkt_build_arp(buf, sizeof(buf), ARP_OP_REPLY, mac_s,
				       mac_d, htonl(0x0a000001), mac_s,
				       htonl(0x0a000002)), 42);
	assert_memory_equal(buf, reply, sizeof(reply));

	memset(buf, GUARD_BYTE, sizeof(buf));
	assert_int_equal(pkt_build_arp(buf, 41, ARP_OP_REQUEST, bcast, mac_s, 1,
				       zero, 2), -ENOSPC);
	assert_true(untouched(buf + 41, GUARD));
	assert_int_equal(pkt_build_arp(buf, 0, ARP_OP_REQUEST, bcast, mac_s, 1,
				       zero, 2), -ENOSPC);
}

/* ICMP "fragmentation needed": a 600-byte offending packet is quoted to
 * 548 bytes, so that the message is 576; every header byte and both
 * checksums as computed independently (Python struct and the RFC 1071
 * sum). With an Ethernet header the L3 bytes are the same. */
static void test_icmp4_error(void **state)
{
	static const uint8_t ip_hdr[20] = {
		0x45, 0xc0, 0x02, 0x40, 0x00, 0x07, 0x00, 0x00,
		0x40, 0x01, 0x5f, 0xf4, 0x0a, 0x00, 0x02, 0x01,
		0x0a, 0x00, 0x02, 0x02,
	};
	static const uint8_t icmp_hdr[8] = { 3, 4, 0x65, 0x33, 0, 0, 0x05, 0xdc };
	static uint8_t quote[600];
	uint8_t buf[700];
	struct pkt_icmp4_err e = {
		.no_eth = true,
		.src4 = htonl(0x0a000201),
		.dst4 = htonl(0x0a000202),
		.ip_id = 7,
		.type = ICMP_DEST_UNREACH,
		.code = ICMP_FRAG_NEEDED,
		.mtu = 1500,
		.quote = quote,
		.quote_len = sizeof(quote),
	};
	struct pkt_meta m;

	(void)state;
	for (size_t i = 0; i < sizeof(quote); i++)
		quote[i] = (uint8_t)(i * 5 + 1);
	assert_int_equal(pkt_build_icmp4_error(&e, buf, sizeof(buf)), 576);
	assert_memory_equal(buf, ip_hdr, sizeof(ip_hdr));
	assert_memory_equal(buf + 20, icmp_hdr, sizeof(icmp_hdr));
	assert_memory_equal(buf + 28, quote, 548);

	e.no_eth = false;
	memcpy(e.eth_dst, mac_d, ETH_ALEN);
	memcpy(e.eth_src, mac_s, ETH_ALEN);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pkt_build_icmp4_error(&e, buf, sizeof(buf)),
			 ETH_HLEN + 576);
	assert_memory_equal(buf, mac_d, ETH_ALEN);
	assert_memory_equal(buf + ETH_ALEN, mac_s, ETH_ALEN);
	assert_memory_equal(buf + ETH_HLEN, ip_hdr, sizeof(ip_hdr));
	assert_memory_equal(buf + ETH_HLEN + 20, icmp_hdr, sizeof(icmp_hdr));

	/* a short quote is quoted whole: a UDP header's worth of a datagram */
	struct pkt_spec q = {
		.no_eth = true,
		.src4 = e.dst4,
		.dst4 = htonl(0xc6336401),
		.proto = IPPROTO_NUM_UDP,
		.sport = 1000,
		.dport = 2000,
		.payload = payload_bytes,
		.payload_len = 500,
	};

	assert_int_equal(pkt_build(&q, quote, 600), 528);
	e.quote_len = 28;
	assert_int_equal(pkt_build_icmp4_error(&e, buf, sizeof(buf)),
			 ETH_HLEN + 56);
	assert_int_equal(pkt_parse(buf, ETH_HLEN + 56, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(m.icmp_code, ICMP_FRAG_NEEDED);
	assert_true(m.flags & PKT_F_ICMP_ERROR);
	assert_int_equal(m.inner.sport, htons(1000));
	assert_int_equal(m.inner.dport, htons(2000));
	/* less than a header and 8 bytes: refused; no room: -ENOSPC */
	e.quote_len = 27;
	assert_int_equal(pkt_build_icmp4_error(&e, buf, sizeof(buf)), -EINVAL);
	e.quote_len = 28;
	assert_int_equal(pkt_build_icmp4_error(&e, buf, ETH_HLEN + 55), -ENOSPC);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_enospc_every_variant),
		cmocka_unit_test(test_udp_csum_zero_is_ffff),
		cmocka_unit_test(test_einval),
		cmocka_unit_test(test_build_arp),
		cmocka_unit_test(test_icmp4_error),
	};
	struct CMUnitTest tests[ARRAY_SIZE(variants) + ARRAY_SIZE(fixed)];
	size_t i, n = 0;

	fill_payload();
	for (i = 0; i < ARRAY_SIZE(variants); i++) {
		tests[n++] = (struct CMUnitTest){
			.name = variants[i].name,
			.test_func = run_variant,
			.initial_state = &variants[i],
		};
	}
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
