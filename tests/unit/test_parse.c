// SPDX-License-Identifier: MIT
/*
 * Unit tests for pkt/parse: one test per rule of the parser.
 *
 * Frames are made with pkt_build() and then changed byte by byte; a change
 * to an IPv4 header is followed by a fresh header checksum unless the test
 * is about the checksum, so that every rejection is the one being tested.
 * Every parse runs on an exact-size heap copy of the frame, so that the
 * sanitizer build catches any read past the end.
 *
 * Most rules are rows of one table (cases[]), each row a named cmocka test:
 * a base frame, the bytes to change, an optional truncation or padding, and
 * the exact outcome: the enum pkt_drop, and for accepted frames every field
 * of struct pkt_meta. Frames that patches cannot make have their own tests.
 * The last test checks that every reason in drop.h was produced somewhere.
 *
 * The randomised test uses a fixed-seed xorshift generator; a failure prints
 * the seed and the frame number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
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

#define BUF_CAP		2048
#define SPORT		40000
#define DPORT		80
#define INNER_SPORT	5353
#define INNER_DPORT	53
#define ECHO_ID		0x1234
#define IP4_A		0x0a000002u	/* 10.0.0.2 */
#define IP4_B		0xc0000207u	/* 192.0.2.7 */
#define FUZZ_SEED	0x7a4e3c2b1d0f9e85ULL
#define FUZZ_FRAMES	200000

#define HBH	IPPROTO_NUM_HOPOPTS
#define RTG	IPPROTO_NUM_ROUTING
#define FRG	IPPROTO_NUM_FRAGMENT
#define DST	IPPROTO_NUM_DSTOPTS

static const uint8_t mac_a[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t ip6_a[IP6_ALEN] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t ip6_b[IP6_ALEN] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 7 };
static const uint8_t payload8[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };

/* Reasons some test has seen pkt_parse() return (test_all_reasons_covered). */
static bool drop_seen[PKT_DROP__MAX];

#define assert_drop(got, want) \
	assert_string_equal(pkt_drop_name(got), pkt_drop_name(want))

#define expect_drop(f, len, flags, want)                               \
	do {                                                           \
		struct pkt_meta m_;                                    \
		enum pkt_drop r_ = parse((f), (len), (flags), &m_);    \
		assert_drop(r_, (want));                               \
		drop_seen[r_] = true;                                  \
	} while (0)

static uint64_t rng_state;

/* xorshift64*: tiny, deterministic, good enough for test data. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

/* Parse a heap copy of exactly @len bytes: an over-read is an ASan error. */
static enum pkt_drop parse(const uint8_t *f, size_t len, unsigned int flags,
			   struct pkt_meta *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum pkt_drop r;

	assert_non_null(copy);
	if (len)
		memcpy(copy, f, len);
	r = pkt_parse(copy, len, flags, m);
	free(copy);
	return r;
}

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

/* Recompute the checksum of the IPv4 header at @ip (IHL below 5 read as 5). */
static void ip4_fix(uint8_t *ip)
{
	size_t hlen = MAX((ip[0] & 0x0fu) * 4u, (unsigned int)IP4_HLEN_MIN);
	uint16_t c;

	memset(ip + offsetof(struct ip4_hdr, check), 0, 2);
	c = csum_ip4_header(ip, hlen);
	memcpy(ip + offsetof(struct ip4_hdr, check), &c, 2);
}

static void spec_init(struct pkt_spec *s, bool v6, uint8_t proto)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->eth_dst, mac_a, ETH_ALEN);
	memcpy(s->eth_src, mac_b, ETH_ALEN);
	s->ip6 = v6;
	s->src4 = htonl(IP4_A);
	s->dst4 = htonl(IP4_B);
	memcpy(s->src6, ip6_a, IP6_ALEN);
	memcpy(s->dst6, ip6_b, IP6_ALEN);
	s->proto = proto;
	s->sport = SPORT;
	s->dport = DPORT;
	s->seq = 0x01020304;
	s->tcp_flags = TCP_SYN;
	s->icmp_type = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	s->icmp_id = ECHO_ID;
	s->icmp_seq = 7;
	s->payload = payload8;
	s->payload_len = sizeof(payload8);
}

static size_t build(const struct pkt_spec *s, uint8_t *buf)
{
	int n = pkt_build(s, buf, BUF_CAP);

	assert_true(n > 0);
	return (size_t)n;
}

/*
 * Build @s as IPv6 with the 8-byte extension headers @chain (hop-by-hop,
 * routing, destination options, fragment) between the IPv6 header and L4.
 */
static size_t build_chain(const struct pkt_spec *s, const uint8_t *chain,
			  size_t n, uint8_t *buf)
{
	uint8_t ext[16 * 8];
	struct pkt_spec t = *s;
	size_t i;

	assert_true(n > 0 && n <= 16);
	memset(ext, 0, sizeof(ext));
	for (i = 0; i < n; i++) {
		uint8_t *e = ext + 8 * i;

		e[0] = i + 1 < n ? chain[i + 1] : s->proto;
		if (chain[i] == HBH || chain[i] == DST) {
			e[2] = 1;	/* PadN over the 4 remaining bytes */
			e[3] = 4;
		}
	}
	t.ip6 = true;
	t.ip6_ext = ext;
	t.ip6_ext_len = 8 * n;
	t.ip6_ext_first = chain[0];
	return build(&t, buf);
}

/* Set the fields of the IPv6 fragment header at @fh. */
static void set_frag6(uint8_t *fh, uint16_t off, bool mf, uint32_t id)
{
	put16(fh + 2, (uint16_t)(off | (mf ? IP6_FRAG_MF : 0)));
	id = htonl(id);
	memcpy(fh + 4, &id, 4);
}

/* The L3 packet an ICMP error quotes: ours, to a DNS server; IPv6 @chain. */
static size_t build_inner(uint8_t *buf, bool v6, uint8_t proto,
			  const uint8_t *chain, size_t n)
{
	struct pkt_spec s;

	spec_init(&s, v6, proto);
	s.no_eth = true;
	s.sport = INNER_SPORT;
	s.dport = INNER_DPORT;
	return chain ? build_chain(&s, chain, n, buf) : build(&s, buf);
}

static size_t build_icmp_err(uint8_t *buf, bool v6, uint8_t type, uint8_t code,
			     const uint8_t *quote, size_t qlen)
{
	struct pkt_spec s;

	spec_init(&s, v6, v6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP);
	s.icmp_type = type;
	s.icmp_code = code;
	s.icmp_id = 0;
	s.icmp_seq = v6 && type == ICMP6_PACKET_TOO_BIG ? 1280 : 0;
	s.payload = quote;
	s.payload_len = qlen;
	return build(&s, buf);
}

/* The frames the tests start from. */
enum base {
	B_TCP4,		/* 62: eth, ip4 @14, tcp @34 (20), 8 bytes */
	B_VLAN_TCP4,	/* 66: tag @14, ip4 @18, tcp @38 */
	B_TCP4_L3,	/* 48: ip4 @0, tcp @20 */
	B_OPTS_TCP4,	/* 66: ip4 @14 with 4 option bytes @34, tcp @38 */
	B_SYN4,		/* 82: tcp @34 with MSS, SACK-perm, TS, wscale */
	B_UDP4,		/* 50: udp @34, length @38 */
	B_ICMP4_ECHO,	/* 50: icmp @34 */
	B_FRAG4_LATER,	/* 62: offset 1480, MF, TCP-looking data @34 */
	B_GRE4,		/* 42: protocol 47 */
	B_TCP6,		/* 82: ip6 @14, tcp @54 */
	B_TCP6_L3,	/* 68: ip6 @0, tcp @40 */
	B_VLAN_UDP6,	/* 74: ip6 @18, udp @58 */
	B_ICMP6_ECHO,	/* 70: icmp6 @54 */
	B_EXT6,		/* 106: hbh @54, routing @62, dstopts @70, tcp @78 */
	B_FRAG6_FIRST,	/* 90: frag @54 (M=1), tcp @62 */
	B_FRAG6_LATER,	/* 90: frag @54 (offset 1448), data @62 */
	B_ARP,		/* 42: arp @14 */
	B_OTHER,	/* 62: EtherType 0x88cc */
	B_ICMP4_ERR,	/* 70: icmp @34, inner ip4 @42 (proto @51), udp @62 */
	B_ICMP6_ERR,	/* 110: icmp6 @54, inner ip6 @62 (nh @68), udp @102 */
	B_ICMP6_PTB,	/* 146: packet too big quoting ip6+hbh+dst+tcp */
	B__COUNT
};

struct frame {
	uint8_t b[BUF_CAP];
	size_t len;
	size_t l3;		/* offset of the L3 header */
	unsigned int pflags;	/* pkt_parse() flags the frame needs */
	bool ip4;		/* outer IPv4: ip4_fix() applies */
};

static void base_frame(enum base b, struct frame *fr)
{
	static const uint8_t opts4[4] = { IP4_OPT_NOP, IP4_OPT_NOP,
					  IP4_OPT_NOP, IP4_OPT_EOL };
	static const uint8_t ext6[] = { HBH, RTG, DST }, ext2[] = { HBH, DST };
	static const uint8_t frag6[] = { FRG };
	uint8_t in[BUF_CAP];
	struct pkt_spec s;
	bool v6 = b >= B_TCP6 && b <= B_FRAG6_LATER;

	memset(fr, 0, sizeof(*fr));
	fr->l3 = ETH_HLEN;
	fr->ip4 = !v6 && b != B_ARP && b != B_OTHER && b != B_ICMP6_ERR &&
		  b != B_ICMP6_PTB;
	spec_init(&s, v6, IPPROTO_NUM_TCP);
	switch (b) {
	case B_VLAN_TCP4:
	case B_VLAN_UDP6:
		s.vlan = true;
		s.vlan_tci = 0x2064;
		fr->l3 = ETH_HLEN + ETH_VLAN_HLEN;
		if (b == B_VLAN_UDP6)
			s.proto = IPPROTO_NUM_UDP;
		break;
	case B_TCP4_L3:
	case B_TCP6_L3:
		s.no_eth = true;
		fr->l3 = 0;
		fr->pflags = PKT_PARSE_L3;
		break;
	case B_OPTS_TCP4:
		s.ip4_opts = opts4;
		s.ip4_opts_len = sizeof(opts4);
		break;
	case B_SYN4:
		s.mss = 1460;
		s.sack_perm = true;
		s.has_ts = true;
		s.tsval = 0x11223344;
		s.tsecr = 0xa0b0c0d0;
		s.has_wscale = true;
		s.wscale = 7;
		break;
	case B_UDP4:
	case B_ICMP4_ECHO:
	case B_ICMP6_ECHO:
		s.proto = b == B_UDP4 ? IPPROTO_NUM_UDP :
			  v6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP;
		break;
	case B_GRE4:
		s.proto = 47;
		s.l4_raw = true;
		break;
	case B_EXT6:
		fr->len = build_chain(&s, ext6, sizeof(ext6), fr->b);
		return;
	case B_FRAG4_LATER:
	case B_FRAG6_LATER:
	case B_FRAG6_FIRST:
		if (b != B_FRAG6_FIRST) {	/* data: a TCP header and payload */
			build(&s, in);
			s.l4_raw = true;
			s.payload = in + ETH_HLEN + (v6 ? IP6_HLEN : IP4_HLEN_MIN);
			s.payload_len = TCP_HLEN_MIN + sizeof(payload8);
			s.ip4_frag = IP4_FLAG_MF | 185;
			s.ip_id = 0xbeef;
		}
		if (!v6)
			break;
		fr->len = build_chain(&s, frag6, 1, fr->b);
		set_frag6(fr->b + 54, b == B_FRAG6_LATER ? 1448 : 0, true,
			  0xdeadbeef);
		return;
	case B_ARP:
		fr->len = (size_t)pkt_build_arp(fr->b, BUF_CAP, ARP_OP_REQUEST,
						mac_a, mac_b, htonl(IP4_A),
						mac_a, htonl(IP4_B));
		return;
	case B_OTHER:
		fr->len = build(&s, fr->b);
		put16(fr->b + 12, 0x88cc);
		return;
	case B_ICMP4_ERR:
		build_inner(in, false, IPPROTO_NUM_UDP, NULL, 0);
		fr->len = build_icmp_err(fr->b, false, ICMP_DEST_UNREACH,
					 ICMP_PORT_UNREACH, in, 28);
		return;
	case B_ICMP6_ERR:
		build_inner(in, true, IPPROTO_NUM_UDP, NULL, 0);
		fr->len = build_icmp_err(fr->b, true, ICMP6_DEST_UNREACH, 4,
					 in, 48);
		return;
	case B_ICMP6_PTB:
		fr->len = build_icmp_err(fr->b, true, ICMP6_PACKET_TOO_BIG, 0, in,
					 build_inner(in, true, IPPROTO_NUM_TCP,
						     ext2, 2));
		return;
	default:
		break;
	}
	fr->len = build(&s, fr->b);
}

/* Parse @fr, which must be accepted. */
static void parse_ok(const struct frame *fr, struct pkt_meta *m)
{
	assert_drop(parse(fr->b, fr->len, fr->pflags, m), PKT_DROP_OK);
}

/* ---- expected metadata ---- */

#define META_FIELDS(X)                                                      \
	X(len) X(l3_len) X(l4_len) X(flags) X(l3_off) X(l4_off)               \
	X(payload_off) X(ethertype) X(vlan_tci) X(l3) X(l4_proto) X(frag_off) \
	X(frag_id) X(sport) X(dport) X(tcp_flags) X(tcp_wscale) X(tcp_mss)    \
	X(tcp_tsval) X(tcp_tsecr) X(icmp_type) X(icmp_code) X(inner.l3_off)   \
	X(inner.l4_off) X(inner.l4_avail) X(inner.l3) X(inner.proto)          \
	X(inner.flags) X(inner.sport) X(inner.dport)

/* The first field in which @a and @b differ, or NULL. */
static const char *meta_diff(const struct pkt_meta *a, const struct pkt_meta *b)
{
#define META_CMP(f)             \
	if (a->f != b->f)       \
		return #f;
	META_FIELDS(META_CMP)
#undef META_CMP
	return NULL;
}

/* Every field of @got must be as in @want. */
static void assert_meta(const struct pkt_meta *got, const struct pkt_meta *want)
{
#define META_ASSERT(f)                                                     \
	if (got->f != want->f)                                             \
		fail_msg("meta." #f " is %#lx, want %#lx",                  \
			 (unsigned long)got->f, (unsigned long)want->f);
	META_FIELDS(META_ASSERT)
#undef META_ASSERT
}

static void expect_meta(const uint8_t *f, size_t len, unsigned int flags,
			const struct pkt_meta *want)
{
	struct pkt_meta m;

	assert_drop(parse(f, len, flags, &m), PKT_DROP_OK);
	assert_meta(&m, want);
}

/* A host-order constant in network order, as a constant expression. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define N16(x) ((uint16_t)(x))
#else
#define N16(x) ((uint16_t)((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#endif

#define F(x) PKT_F_##x
#define IP4(off, l3len) .l3 = PKT_L3_IPV4, .ethertype = ETH_P_IPV4, \
	.l3_off = (off), .l3_len = (l3len), .len = (off) + (l3len)
#define IP6(off, l3len) .l3 = PKT_L3_IPV6, .ethertype = ETH_P_IPV6, \
	.l3_off = (off), .l3_len = (l3len), .len = (off) + (l3len)
#define L4(proto, off, poff, l4len) .l4_proto = (proto), .l4_off = (off), \
	.payload_off = (poff), .l4_len = (l4len)
#define PORTS .sport = N16(SPORT), .dport = N16(DPORT)
#define SYN PORTS, .tcp_flags = TCP_SYN
#define TCP4 IP4(14, 48), L4(6, 34, 54, 28), SYN
#define SYN4 IP4(14, 68), L4(6, 34, 74, 48), SYN, .tcp_tsval = 0x11223344, \
	.tcp_tsecr = 0xa0b0c0d0
#define SYN4_ALL(ws) SYN4, .flags = F(L4) | F(TCP_MSS) | F(TCP_WSCALE) | \
	F(TCP_SACK_PERM) | F(TCP_TS), .tcp_mss = 1460, .tcp_wscale = (ws)
#define INNER(...) .inner = { __VA_ARGS__ }
#define QUOTE(pr, l3, l4, avail) .l3_off = (l3), .l4_off = (l4), \
	.l4_avail = (avail), .proto = (pr), .flags = PKT_INNER_PORTS, \
	.sport = N16(INNER_SPORT), .dport = N16(INNER_DPORT)

/* ---- the table: a base frame, changes, and the exact outcome ---- */

struct patch {
	uint16_t off;
	uint16_t val;
	uint8_t size;	/* 1 or 2 bytes (big-endian); 0: unused */
};

struct pcase {
	const char *name;
	enum base base;
	enum pkt_drop want;
	unsigned int flags;	/* added to the frame's parse flags */
	bool raw_csum;		/* keep the IPv4 checksum as it is */
	bool cut;		/* truncate to len */
	uint16_t len;
	uint8_t pad;		/* zero bytes appended (Ethernet padding) */
	struct patch p[4];
	bool has_m;		/* compare every field of the metadata with m */
	struct pkt_meta m;
};

#define P8(o, v) { (o), (v), 1 }
#define P16(o, v) { (o), (v), 2 }
#define PT(...) .p = { __VA_ARGS__ }
#define CUT(n) .cut = true, .len = (n)
#define D(x) PKT_DROP_##x
#define OK(...) PKT_DROP_OK, .has_m = true, .m = { __VA_ARGS__ }

static struct pcase cases[] = {
	/* Accepted frames, every field checked. */
	{ "ok_tcp4_options", B_SYN4, OK(SYN4_ALL(7)) },
	{ "ok_tcp_wscale_14", B_SYN4, OK(SYN4_ALL(14)), PT(P8(73, 14)) },
	{ "ok_tcp_wscale_15_clamped", B_SYN4, OK(SYN4_ALL(14)), PT(P8(73, 15)) },
	{ "ok_tcp_wscale_20_clamped", B_SYN4, OK(SYN4_ALL(14)), PT(P8(73, 20)) },
	{ "ok_tcp_wscale_255_clamped", B_SYN4, OK(SYN4_ALL(14)), PT(P8(73, 255)) },
	{ "ok_tcp_opt_unknown_kind", B_SYN4, OK(SYN4, .flags = F(L4) | F(TCP_SACK_PERM) |
	  F(TCP_TS) | F(TCP_WSCALE), .tcp_wscale = 7), PT(P8(54, 0x1e)) },
	{ "ok_tcp_opt_eol_first", B_SYN4, OK(IP4(14, 68), L4(6, 34, 74, 48), SYN,
	  .flags = F(L4)), PT(P8(54, TCP_OPT_EOL)) },
	{ "ok_tcp_opt_len_beyond", B_SYN4, OK(IP4(14, 68), L4(6, 34, 74, 48), SYN,
	  .flags = F(L4)), PT(P8(55, 40)) },
	{ "ok_tcp_opt_len_zero", B_SYN4, OK(IP4(14, 68), L4(6, 34, 74, 48), SYN,
	  .flags = F(L4)), PT(P8(55, 0)) },
	{ "ok_tcp_opt_sack_perm_len3", B_SYN4, OK(IP4(14, 68), L4(6, 34, 74, 48), SYN,
	  .flags = F(L4) | F(TCP_MSS), .tcp_mss = 1460), PT(P8(59, 3)) },
	{ "ok_tcp_opt_ts_len9", B_SYN4, OK(IP4(14, 68), L4(6, 34, 74, 48), SYN,
	  .flags = F(L4) | F(TCP_MSS) | F(TCP_SACK_PERM), .tcp_mss = 1460), PT(P8(61, 9)) },
	{ "ok_tcp4_vlan", B_VLAN_TCP4, OK(IP4(18, 48), L4(6, 38, 58, 28), SYN,
	  .flags = F(L4) | F(VLAN), .vlan_tci = 0x2064) },
	{ "ok_tcp4_vlan_8021ad", B_VLAN_TCP4, OK(IP4(18, 48), L4(6, 38, 58, 28), SYN,
	  .flags = F(L4) | F(VLAN), .vlan_tci = 0x2064), PT(P16(12, 0x88a8)) },
	{ "ok_udp4", B_UDP4, OK(IP4(14, 36), L4(17, 34, 42, 16), PORTS, .flags = F(L4)) },
	{ "ok_udp4_bytes_after_datagram", B_UDP4, OK(IP4(14, 36), L4(17, 34, 42, 12), PORTS,
	  .flags = F(L4)), PT(P16(38, 12)) },
	{ "ok_udp4_eth_padding_trimmed", B_UDP4, OK(IP4(14, 36), L4(17, 34, 42, 16), PORTS,
	  .flags = F(L4) | F(TRIMMED)), .pad = 10 },
	{ "ok_ip4_options", B_OPTS_TCP4, OK(IP4(14, 52), L4(6, 38, 58, 28), SYN,
	  .flags = F(L4) | F(IP4_OPTS)) },
	{ "ok_ip4_option_after_eol_ignored", B_OPTS_TCP4, OK(IP4(14, 52), L4(6, 38, 58, 28), SYN,
	  .flags = F(L4) | F(IP4_OPTS)), PT(P8(34, IP4_OPT_EOL), P8(35, 7), P8(36, 0)) },
	{ "ok_ip4_bad_csum_not_checked", B_TCP4, OK(TCP4, .flags = F(L4)),
	  .flags = PKT_PARSE_NO_IP4_CSUM, .raw_csum = true, PT(P8(22, 1)) },
	{ "ok_icmp4_echo", B_ICMP4_ECHO, OK(IP4(14, 36), L4(1, 34, 42, 16),
	  .sport = N16(ECHO_ID), .icmp_type = ICMP_ECHO, .flags = F(L4) | F(ICMP_ECHO)) },
	{ "ok_icmp4_echo_reply", B_ICMP4_ECHO, OK(IP4(14, 36), L4(1, 34, 42, 16),
	  .sport = N16(ECHO_ID), .flags = F(L4) | F(ICMP_ECHO)), PT(P8(34, 0)) },
	{ "ok_icmp4_timestamp", B_ICMP4_ECHO, OK(IP4(14, 36), L4(1, 34, 42, 16),
	  .icmp_type = ICMP_TIMESTAMP, .flags = F(L4)), PT(P8(34, ICMP_TIMESTAMP)) },
	{ "ok_tcp6", B_TCP6, OK(IP6(14, 68), L4(6, 54, 74, 28), SYN, .flags = F(L4)) },
	{ "ok_udp6_vlan", B_VLAN_UDP6, OK(IP6(18, 56), L4(17, 58, 66, 16), PORTS,
	  .flags = F(L4) | F(VLAN), .vlan_tci = 0x2064) },
	{ "ok_icmp6_echo", B_ICMP6_ECHO, OK(IP6(14, 56), L4(58, 54, 62, 16),
	  .sport = N16(ECHO_ID), .icmp_type = 128, .flags = F(L4) | F(ICMP_ECHO)) },
	{ "ok_icmp6_echo_reply", B_ICMP6_ECHO, OK(IP6(14, 56), L4(58, 54, 62, 16),
	  .sport = N16(ECHO_ID), .icmp_type = 129, .flags = F(L4) | F(ICMP_ECHO)),
	  PT(P8(54, 129)) },
	{ "ok_icmp6_neigh_solicit", B_ICMP6_ECHO, OK(IP6(14, 56), L4(58, 54, 62, 16),
	  .icmp_type = 135, .flags = F(L4)), PT(P8(54, 135)) },
	{ "ok_ip6_ext_headers", B_EXT6, OK(IP6(14, 92), L4(6, 78, 98, 28), SYN, .flags = F(L4)) },
	{ "ok_arp", B_ARP, OK(.l3 = PKT_L3_ARP, .ethertype = ETH_P_ARP, .l3_off = 14,
	  .l3_len = 28, .len = 42) },
	{ "ok_arp_padded_trimmed", B_ARP, OK(.l3 = PKT_L3_ARP, .ethertype = ETH_P_ARP,
	  .l3_off = 14, .l3_len = 28, .len = 42, .flags = F(TRIMMED)), .pad = 18 },
	{ "ok_other_ethertype", B_OTHER, OK(.l3 = PKT_L3_OTHER, .ethertype = 0x88cc,
	  .l3_off = 14, .len = 62) },
	{ "ok_other_ethertype_header_only", B_OTHER, OK(.l3 = PKT_L3_OTHER,
	  .ethertype = 0x88cc, .l3_off = 14, .len = 14), CUT(14) },
	{ "ok_l3_mode_ip4", B_TCP4_L3, OK(IP4(0, 48), L4(6, 20, 40, 28), SYN, .flags = F(L4)) },
	{ "ok_l3_mode_ip6", B_TCP6_L3, OK(IP6(0, 68), L4(6, 40, 60, 28), SYN, .flags = F(L4)) },
	{ "ok_unknown_ip_proto", B_GRE4, OK(IP4(14, 28), L4(47, 34, 0, 8)) },
	/* Fragments: L4 only from a first fragment. */
	{ "ok_ip4_frag_later", B_FRAG4_LATER, OK(IP4(14, 48), L4(6, 34, 0, 28),
	  .frag_off = 1480, .frag_id = 0xbeef, .flags = F(FRAG) | F(FRAG_LATER)) },
	{ "ok_ip4_frag_last", B_FRAG4_LATER, OK(IP4(14, 48), L4(6, 34, 0, 28),
	  .frag_off = 1480, .frag_id = 0xbeef, .flags = F(FRAG) | F(FRAG_LATER)), PT(P8(20, 0)) },
	{ "ok_ip4_frag_offset16_tcp", B_TCP4, OK(IP4(14, 48), L4(6, 34, 0, 28),
	  .frag_off = 16, .flags = F(FRAG) | F(FRAG_LATER)), PT(P8(21, 2)) },
	{ "ok_ip4_frag_offset8_udp", B_UDP4, OK(IP4(14, 36), L4(17, 34, 0, 16),
	  .frag_off = 8, .flags = F(FRAG) | F(FRAG_LATER)), PT(P8(21, 1)) },
	{ "ok_ip4_frag_first", B_TCP4, OK(TCP4, .flags = F(L4) | F(FRAG)), PT(P8(20, 0x20)) },
	{ "ok_udp4_frag_first_long_datagram", B_UDP4, OK(IP4(14, 36), L4(17, 34, 42, 16),
	  PORTS, .flags = F(L4) | F(FRAG)), PT(P8(20, 0x20), P16(38, 1000)) },
	{ "ok_ip6_frag_later", B_FRAG6_LATER, OK(IP6(14, 76), L4(6, 62, 0, 28),
	  .frag_off = 1448, .frag_id = 0xdeadbeef, .flags = F(FRAG) | F(FRAG_LATER)) },
	{ "ok_ip6_frag_first", B_FRAG6_FIRST, OK(IP6(14, 76), L4(6, 62, 82, 28), SYN,
	  .frag_id = 0xdeadbeef, .flags = F(FRAG) | F(L4)) },
	{ "ok_ip6_frag_atomic", B_FRAG6_FIRST, OK(IP6(14, 76), L4(6, 62, 82, 28), SYN,
	  .flags = F(L4)), PT(P8(57, 0)) },
	/* ICMP errors and the packet they quote. */
	{ "ok_icmp4_error_udp", B_ICMP4_ERR, OK(IP4(14, 56), L4(1, 34, 42, 36),
	  .icmp_type = 3, .icmp_code = 3, .flags = F(L4) | F(ICMP_ERROR),
	  INNER(QUOTE(IPPROTO_NUM_UDP, 42, 62, 8), .l3 = PKT_L3_IPV4)) },
	{ "ok_icmp4_error_inner_first_frag", B_ICMP4_ERR, OK(IP4(14, 56), L4(1, 34, 42, 36),
	  .icmp_type = 3, .icmp_code = 3, .flags = F(L4) | F(ICMP_ERROR),
	  INNER(QUOTE(IPPROTO_NUM_UDP, 42, 62, 8), .l3 = PKT_L3_IPV4)), PT(P8(48, 0x20)) },
	{ "ok_icmp4_error_inner_frag_later", B_ICMP4_ERR, OK(IP4(14, 56), L4(1, 34, 42, 36),
	  .icmp_type = 3, .icmp_code = 3, .flags = F(L4) | F(ICMP_ERROR),
	  INNER(.l3_off = 42, .l3 = PKT_L3_IPV4, .proto = IPPROTO_NUM_UDP,
		.flags = PKT_INNER_FRAG_LATER)), PT(P16(48, 0x2064)) },
	{ "ok_icmp6_error_udp", B_ICMP6_ERR, OK(IP6(14, 96), L4(58, 54, 62, 56),
	  .icmp_type = 1, .icmp_code = 4, .flags = F(L4) | F(ICMP_ERROR),
	  INNER(QUOTE(IPPROTO_NUM_UDP, 62, 102, 8), .l3 = PKT_L3_IPV6)) },
	{ "ok_icmp6_error_quote_past_payload_len", B_ICMP6_ERR,
	  OK(IP6(14, 96), L4(58, 54, 62, 56), .icmp_type = 1, .icmp_code = 4,
	  .flags = F(L4) | F(ICMP_ERROR),
	  INNER(QUOTE(IPPROTO_NUM_UDP, 62, 102, 4), .l3 = PKT_L3_IPV6)), PT(P16(66, 4)) },
	{ "ok_icmp6_too_big_inner_ext", B_ICMP6_PTB, OK(IP6(14, 132), L4(58, 54, 62, 92),
	  .icmp_type = 2, .flags = F(L4) | F(ICMP_ERROR),
	  INNER(QUOTE(IPPROTO_NUM_TCP, 62, 118, 28), .l3 = PKT_L3_IPV6)) },

	/* Rejections, one per rule, each with its exact reason. */
	{ "eth_truncated_13", B_TCP4, D(ETH_TRUNCATED), CUT(13) },
	{ "eth_truncated_empty", B_TCP4, D(ETH_TRUNCATED), CUT(0) },
	{ "vlan_truncated", B_VLAN_TCP4, D(VLAN_TRUNCATED), CUT(17) },
	{ "vlan_truncated_tpid_only", B_TCP4, D(VLAN_TRUNCATED), CUT(14), PT(P16(12, 0x8100)) },
	{ "vlan_stacked_8021q", B_VLAN_TCP4, D(VLAN_STACKED), PT(P16(16, 0x8100)) },
	{ "vlan_stacked_qinq", B_VLAN_TCP4, D(VLAN_STACKED), PT(P16(12, 0x88a8), P16(16, 0x8100)) },
	{ "l3_unknown_version5", B_TCP4_L3, D(L3_UNKNOWN), PT(P8(0, 0x55)) },
	{ "l3_unknown_empty", B_TCP4_L3, D(L3_UNKNOWN), CUT(0) },
	{ "l3_unknown_ethernet_frame", B_TCP4, D(L3_UNKNOWN), PKT_PARSE_L3 },
	{ "arp_truncated", B_ARP, D(ARP_TRUNCATED), CUT(41) },
	{ "arp_truncated_no_body", B_ARP, D(ARP_TRUNCATED), CUT(14) },
	{ "arp_unsupported_htype", B_ARP, D(ARP_UNSUPPORTED), PT(P8(15, 6)) },
	{ "arp_unsupported_ptype", B_ARP, D(ARP_UNSUPPORTED), PT(P16(16, 0x86dd)) },
	{ "arp_unsupported_hlen", B_ARP, D(ARP_UNSUPPORTED), PT(P8(18, 8)) },
	{ "arp_unsupported_plen", B_ARP, D(ARP_UNSUPPORTED), PT(P8(19, 16)) },
	{ "ip4_truncated_header", B_TCP4, D(IP4_TRUNCATED), CUT(33) },
	{ "ip4_truncated_ihl_beyond_buffer", B_TCP4_L3, D(IP4_TRUNCATED), CUT(20),
	  PT(P8(0, 0x46)) },
	{ "ip4_truncated_ihl15", B_TCP4, D(IP4_TRUNCATED), PT(P8(14, 0x4f)) },
	{ "ip4_bad_version_6", B_TCP4, D(IP4_BAD_VERSION), PT(P8(14, 0x65)) },
	{ "ip4_bad_version_0", B_TCP4, D(IP4_BAD_VERSION), PT(P8(14, 0x05)) },
	{ "ip4_bad_ihl_4", B_TCP4, D(IP4_BAD_IHL), PT(P8(14, 0x44)) },
	{ "ip4_bad_ihl_0", B_TCP4, D(IP4_BAD_IHL), PT(P8(14, 0x40)) },
	{ "ip4_totlen_beyond", B_TCP4, D(IP4_TOTLEN_BEYOND), PT(P16(16, 49)) },
	{ "ip4_totlen_beyond_max", B_TCP4, D(IP4_TOTLEN_BEYOND), PT(P16(16, 0xffff)) },
	{ "ip4_totlen_beyond_l3", B_TCP4_L3, D(IP4_TOTLEN_BEYOND), PT(P16(2, 49)) },
	{ "ip4_totlen_short", B_TCP4, D(IP4_TOTLEN_SHORT), PT(P16(16, 19)) },
	{ "ip4_totlen_short_zero", B_TCP4, D(IP4_TOTLEN_SHORT), PT(P16(16, 0)) },
	{ "ip4_totlen_short_options", B_OPTS_TCP4, D(IP4_TOTLEN_SHORT), PT(P16(16, 23)) },
	{ "ip4_bad_csum", B_TCP4, D(IP4_BAD_CSUM), .raw_csum = true, PT(P8(22, 1)) },
	{ "ip4_bad_csum_zero", B_TCP4, D(IP4_BAD_CSUM), .raw_csum = true, PT(P16(24, 0)) },
	{ "ip4_bad_option_len0", B_OPTS_TCP4, D(IP4_BAD_OPTION), PT(P8(34, 7), P8(35, 0)) },
	{ "ip4_bad_option_len1", B_OPTS_TCP4, D(IP4_BAD_OPTION), PT(P8(34, 7), P8(35, 1)) },
	{ "ip4_bad_option_beyond_header", B_OPTS_TCP4, D(IP4_BAD_OPTION),
	  PT(P8(34, 7), P8(35, 5)) },
	{ "ip4_bad_option_no_len_byte", B_OPTS_TCP4, D(IP4_BAD_OPTION), PT(P8(37, 7)) },
	{ "ip4_frag_oversize_last_unit", B_TCP4, D(IP4_FRAG_OVERSIZE), PT(P16(20, 0x1fff)) },
	{ "ip6_truncated", B_TCP6, D(IP6_TRUNCATED), CUT(53) },
	{ "ip6_truncated_l3", B_TCP6_L3, D(IP6_TRUNCATED), CUT(39) },
	{ "ip6_bad_version_4", B_TCP6, D(IP6_BAD_VERSION), PT(P8(14, 0x40)) },
	{ "ip6_bad_version_7", B_TCP6, D(IP6_BAD_VERSION), PT(P8(14, 0x70)) },
	{ "ip6_payload_beyond", B_TCP6, D(IP6_PAYLOAD_BEYOND), PT(P16(18, 29)) },
	{ "ip6_payload_beyond_max", B_TCP6, D(IP6_PAYLOAD_BEYOND), PT(P16(18, 0xffff)) },
	{ "ip6_ext_truncated_hdrlen", B_EXT6, D(IP6_EXT_TRUNCATED), PT(P8(55, 10)) },
	{ "ip6_ext_truncated_by_payload_len", B_EXT6, D(IP6_EXT_TRUNCATED), PT(P16(18, 12)) },
	{ "ip6_ext_truncated_no_prefix", B_EXT6, D(IP6_EXT_TRUNCATED), PT(P16(18, 8)) },
	{ "ip6_ext_order_hbh_third", B_EXT6, D(IP6_EXT_ORDER), PT(P8(62, 0)) },
	{ "tcp_truncated", B_TCP4, D(TCP_TRUNCATED), PT(P16(16, 39)) },
	{ "tcp_truncated_not_frag", B_TCP4, D(TCP_TRUNCATED), PT(P16(16, 30)) },
	{ "tcp_truncated_ip6", B_TCP6, D(TCP_TRUNCATED), PT(P16(18, 19)) },
	{ "tcp_bad_doff_4", B_TCP4, D(TCP_BAD_DOFF), PT(P8(46, 0x40)) },
	{ "tcp_bad_doff_0", B_TCP4, D(TCP_BAD_DOFF), PT(P8(46, 0)) },
	{ "tcp_bad_doff_ip6", B_TCP6, D(TCP_BAD_DOFF), PT(P8(66, 0x40)) },
	{ "tcp_bad_doff_first_frag", B_TCP4, D(TCP_BAD_DOFF), PT(P8(20, 0x20), P8(46, 0x40)) },
	{ "tcp_doff_beyond", B_TCP4, D(TCP_DOFF_BEYOND), PT(P8(46, 0x80)) },
	{ "tcp_doff_beyond_15", B_TCP4, D(TCP_DOFF_BEYOND), PT(P8(46, 0xf0)) },
	{ "udp_truncated", B_UDP4, D(UDP_TRUNCATED), PT(P16(16, 27)) },
	{ "udp_bad_len_7", B_UDP4, D(UDP_BAD_LEN), PT(P16(38, 7)) },
	{ "udp_bad_len_0", B_UDP4, D(UDP_BAD_LEN), PT(P16(38, 0)) },
	{ "udp_bad_len_beyond", B_UDP4, D(UDP_BAD_LEN), PT(P16(38, 17)) },
	{ "udp_bad_len_beyond_totlen", B_UDP4, D(UDP_BAD_LEN), PT(P16(16, 35)) },
	{ "udp_bad_len_first_frag", B_UDP4, D(UDP_BAD_LEN),
	  PT(P8(20, 0x20), P16(38, 7)) },
	{ "frag_tiny_ip4_tcp10", B_TCP4, D(FRAG_TINY), PT(P16(16, 30), P8(20, 0x20)) },
	{ "frag_tiny_ip4_tcp_options", B_TCP4, D(FRAG_TINY), PT(P8(20, 0x20), P8(46, 0x80)) },
	{ "frag_tiny_ip4_udp4", B_UDP4, D(FRAG_TINY), PT(P16(16, 24), P8(20, 0x20)) },
	{ "frag_tiny_ip4_icmp4", B_ICMP4_ERR, D(FRAG_TINY), PT(P16(16, 24), P8(20, 0x20)) },
	{ "frag_overlap_l4", B_TCP4, D(FRAG_OVERLAP_L4), PT(P8(21, 1)) },
	{ "frag_overlap_l4_mf", B_TCP4, D(FRAG_OVERLAP_L4), PT(P16(20, 0x2001)) },
	{ "icmp_truncated", B_ICMP4_ERR, D(ICMP_TRUNCATED), PT(P16(16, 27)) },
	{ "icmp6_truncated", B_ICMP6_ERR, D(ICMP_TRUNCATED), PT(P16(18, 7)) },
	{ "icmp_inner_truncated", B_ICMP4_ERR, D(ICMP_INNER_TRUNCATED), PT(P16(16, 47)) },
	{ "icmp_inner_truncated_empty", B_ICMP4_ERR, D(ICMP_INNER_TRUNCATED), PT(P16(16, 28)) },
	{ "icmp_inner_truncated_ihl", B_ICMP4_ERR, D(ICMP_INNER_TRUNCATED),
	  PT(P16(16, 51), P8(42, 0x46)) },
	{ "icmp6_inner_truncated", B_ICMP6_ERR, D(ICMP_INNER_TRUNCATED), PT(P16(18, 47)) },
	{ "icmp_inner_bad_version6", B_ICMP4_ERR, D(ICMP_INNER_BAD), PT(P8(42, 0x65)) },
	{ "icmp_inner_bad_ihl3", B_ICMP4_ERR, D(ICMP_INNER_BAD), PT(P8(42, 0x43)) },
	{ "icmp_inner_bad_totlen", B_ICMP4_ERR, D(ICMP_INNER_BAD), PT(P16(44, 19)) },
	{ "icmp6_inner_bad_version4", B_ICMP6_ERR, D(ICMP_INNER_BAD), PT(P8(62, 0x45)) },
	{ "icmp_nested_error_unreach", B_ICMP4_ERR, D(ICMP_NESTED_ERROR),
	  PT(P8(51, 1), P8(62, 3)) },
	{ "icmp_nested_error_quench", B_ICMP4_ERR, D(ICMP_NESTED_ERROR), PT(P8(51, 1), P8(62, 4)) },
	{ "icmp_nested_error_redirect", B_ICMP4_ERR, D(ICMP_NESTED_ERROR),
	  PT(P8(51, 1), P8(62, 5)) },
	{ "icmp_nested_error_time", B_ICMP4_ERR, D(ICMP_NESTED_ERROR), PT(P8(51, 1), P8(62, 11)) },
	{ "icmp_nested_error_param", B_ICMP4_ERR, D(ICMP_NESTED_ERROR), PT(P8(51, 1), P8(62, 12)) },
	{ "icmp_quoting_echo_ok", B_ICMP4_ERR, D(OK), PT(P8(51, 1), P8(62, 8)) },
	{ "icmp_quoting_icmp6_opaque", B_ICMP4_ERR, D(OK), PT(P8(51, 58), P8(62, 1)) },
	{ "icmp6_nested_error", B_ICMP6_ERR, D(ICMP_NESTED_ERROR), PT(P8(68, 58), P8(102, 1)) },
	{ "icmp6_nested_error_127", B_ICMP6_ERR, D(ICMP_NESTED_ERROR),
	  PT(P8(68, 58), P8(102, 127)) },
	{ "icmp6_quoting_echo_ok", B_ICMP6_ERR, D(OK), PT(P8(68, 58), P8(102, 128)) },
	{ "icmp6_quoting_icmp4_opaque", B_ICMP6_ERR, D(OK), PT(P8(68, 1), P8(102, 3)) },
};

static void run_case(void **state)
{
	const struct pcase *c = *state;
	struct frame fr;
	size_t i;

	base_frame(c->base, &fr);
	for (i = 0; i < ARRAY_SIZE(c->p) && c->p[i].size; i++) {
		if (c->p[i].size == 2)
			put16(fr.b + c->p[i].off, c->p[i].val);
		else
			fr.b[c->p[i].off] = (uint8_t)c->p[i].val;
	}
	if (fr.ip4 && !c->raw_csum)
		ip4_fix(fr.b + fr.l3);
	if (c->cut)
		fr.len = c->len;
	memset(fr.b + fr.len, 0, c->pad);
	fr.len += c->pad;
	if (c->has_m)
		expect_meta(fr.b, fr.len, fr.pflags | c->flags, &c->m);
	else
		expect_drop(fr.b, fr.len, fr.pflags | c->flags, c->want);
}

/* ---- cases that need their own frames ---- */

/* Hop-by-hop, routing, AH (hdrlen 4: 24 bytes), dstopts (hdrlen 1: 16). */
static void test_ip6_ext_lengths(void **state)
{
	uint8_t ext[56] = { 0 }, b[BUF_CAP], chain[PKT_IP6_EXT_MAX + 1];
	struct pkt_meta want = { IP6(14, 124), L4(6, 110, 130, 28), SYN, .flags = F(L4) };
	struct pkt_spec s;

	(void)state;
	ext[0] = RTG;
	ext[8] = IPPROTO_NUM_AH;
	ext[16] = DST;
	ext[17] = 4;
	ext[40] = IPPROTO_NUM_TCP;
	ext[41] = 1;
	spec_init(&s, true, IPPROTO_NUM_TCP);
	s.ip6_ext = ext;
	s.ip6_ext_len = sizeof(ext);
	s.ip6_ext_first = HBH;
	expect_meta(b, build(&s, b), 0, &want);

	/* At most PKT_IP6_EXT_MAX headers, a fragment header included. */
	memset(chain, DST, sizeof(chain));
	spec_init(&s, true, IPPROTO_NUM_TCP);
	want.l3_len = 40 + 64 + 28;
	want.len = 14 + want.l3_len;
	want.l4_off = 118;
	want.payload_off = 138;
	expect_meta(b, build_chain(&s, chain, PKT_IP6_EXT_MAX, b), 0, &want);
	expect_drop(b, build_chain(&s, chain, PKT_IP6_EXT_MAX + 1, b), 0,
		    PKT_DROP_IP6_EXT_TOO_MANY);
	chain[PKT_IP6_EXT_MAX] = FRG;
	expect_drop(b, build_chain(&s, chain, PKT_IP6_EXT_MAX + 1, b), 0,
		    PKT_DROP_IP6_EXT_TOO_MANY);
}

static void test_unknown_ip_proto(void **state)
{
	static const struct {
		bool v6;
		uint8_t proto;
	} c[] = {
		{ false, 47 }, { true, 47 }, { true, IPPROTO_NUM_NONE },
		{ true, IPPROTO_NUM_ESP }, { true, IPPROTO_NUM_ICMP },
		{ false, IPPROTO_NUM_ICMPV6 },
	};
	uint8_t b[BUF_CAP];
	struct pkt_spec s;
	struct pkt_meta m;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		size_t n;

		spec_init(&s, c[i].v6, c[i].proto);
		s.l4_raw = true;
		n = build(&s, b);
		assert_drop(parse(b, n, 0, &m), PKT_DROP_OK);
		assert_int_equal(m.flags, 0);
		assert_int_equal(m.l4_proto, c[i].proto);
		assert_int_equal(m.sport, 0);
		assert_int_equal(m.len, n);
		assert_int_equal(m.l4_off, c[i].v6 ? 54 : 34);
	}
}

/* A raw fragment of @len bytes of @proto data at byte offset @off. */
struct fcase {
	uint16_t off, len;
	bool v6, hbh, mf;	/* IPv6; a hop-by-hop header before it; MF */
	uint8_t proto;
	enum pkt_drop want;
};

#define V4 false, false
#define V6 true, false
#define V6_HBH true, true

static void run_frag_cases(const struct fcase *c, size_t n)
{
	static const uint8_t data[256], c1[] = { FRG }, c2[] = { HBH, FRG };
	uint8_t b[BUF_CAP];
	struct pkt_spec s;
	struct pkt_meta m;
	size_t i, len;

	for (i = 0; i < n; i++) {
		enum pkt_drop r;

		spec_init(&s, c[i].v6, c[i].proto);
		s.l4_raw = true;
		s.payload = data;
		s.payload_len = c[i].len;
		s.ip4_frag = (uint16_t)(c[i].off / 8 | (c[i].mf ? IP4_FLAG_MF : 0));
		if (!c[i].v6) {
			len = build(&s, b);
		} else {
			len = build_chain(&s, c[i].hbh ? c2 : c1, 1 + c[i].hbh, b);
			set_frag6(b + 54 + (size_t)8 * c[i].hbh, c[i].off, c[i].mf, 9);
		}
		r = parse(b, len, 0, &m);
		drop_seen[r] = true;
		if (r != c[i].want)
			fail_msg("case %zu: got %s, want %s", i, pkt_drop_name(r),
				 pkt_drop_name(c[i].want));
	}
}

static void test_fragment_rules(void **state)
{
	static const struct fcase c[] = {
		/* Reassembly past 65535 ("ping of death"); 8184 * 8 = 65472. */
		{ 65472, 64, V4, false, IPPROTO_NUM_UDP, D(IP4_FRAG_OVERSIZE) },
		{ 65528, 8, V4, true, IPPROTO_NUM_TCP, D(IP4_FRAG_OVERSIZE) },
		{ 65472, 16, V4, true, IPPROTO_NUM_UDP, D(OK) },
		{ 65528, 8, V6, false, IPPROTO_NUM_UDP, D(IP6_FRAG_OVERSIZE) },
		{ 65520, 16, V6, true, IPPROTO_NUM_TCP, D(IP6_FRAG_OVERSIZE) },
		{ 65520, 15, V6, false, IPPROTO_NUM_UDP, D(OK) },
		/* First fragments too short for the L4 header (RFC 1858, 7112). */
		{ 0, 10, V4, true, IPPROTO_NUM_TCP, D(FRAG_TINY) },
		{ 0, 10, V6, true, IPPROTO_NUM_TCP, D(FRAG_TINY) },
		{ 0, 19, V6, true, IPPROTO_NUM_TCP, D(FRAG_TINY) },
		{ 0, 4, V6, true, IPPROTO_NUM_UDP, D(FRAG_TINY) },
		{ 0, 4, V6, true, IPPROTO_NUM_ICMPV6, D(FRAG_TINY) },
		/* The same bytes in an atomic fragment are merely truncated. */
		{ 0, 10, V6, false, IPPROTO_NUM_TCP, D(TCP_TRUNCATED) },
		{ 0, 4, V6, false, IPPROTO_NUM_UDP, D(UDP_TRUNCATED) },
		{ 0, 4, V6, false, IPPROTO_NUM_ICMPV6, D(ICMP_TRUNCATED) },
		/* Offset 8 could rewrite the TCP flags (RFC 1858 section 4). */
		{ 8, 16, V6, true, IPPROTO_NUM_TCP, D(FRAG_OVERLAP_L4) },
		{ 16, 16, V6, true, IPPROTO_NUM_TCP, D(OK) },
		{ 8, 16, V6, true, IPPROTO_NUM_UDP, D(OK) },
	};

	(void)state;
	run_frag_cases(c, ARRAY_SIZE(c));
}

/*
 * The reassembled datagram is the first fragment's header (at least 20
 * bytes) plus the data up to this fragment's end: 20 + 65472 + 44 = 65536
 * bytes cannot be an IPv4 datagram ("ping of death").
 */
static void test_ip4_frag_oversize_counts_header(void **state)
{
	static const struct fcase c[] = {
		{ 65472, 43, V4, false, IPPROTO_NUM_UDP, D(OK) },
		{ 65472, 44, V4, false, IPPROTO_NUM_UDP, D(IP4_FRAG_OVERSIZE) },
		{ 65472, 63, V4, false, IPPROTO_NUM_UDP, D(IP4_FRAG_OVERSIZE) },
	};

	(void)state;
	run_frag_cases(c, ARRAY_SIZE(c));
}

/*
 * RFC 8200 section 4.5: the reassembled Payload Length includes the
 * unfragmentable headers: 8 (hop-by-hop) + 65520 + 8 = 65536.
 */
static void test_ip6_frag_oversize_counts_unfragmentable(void **state)
{
	static const struct fcase c[] = {
		{ 65520, 7, V6_HBH, false, IPPROTO_NUM_UDP, D(OK) },
		{ 65520, 8, V6_HBH, false, IPPROTO_NUM_UDP, D(IP6_FRAG_OVERSIZE) },
	};

	(void)state;
	run_frag_cases(c, ARRAY_SIZE(c));
}

static void test_ip6_ext_order(void **state)
{
	static const uint8_t bad[][3] = {
		{ DST, HBH, DST }, { HBH, HBH, DST }, { FRG, FRG, DST },
		{ FRG, DST, FRG },
	};
	static const uint8_t good[] = { HBH, FRG, DST };
	struct pkt_meta want = { IP6(14, 40 + 24 + 16), L4(17, 78, 86, 16), PORTS,
				 .flags = F(L4) };
	uint8_t b[BUF_CAP];
	struct pkt_spec s;
	size_t i;

	(void)state;
	spec_init(&s, true, IPPROTO_NUM_UDP);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expect_drop(b, build_chain(&s, bad[i], 3, b), 0,
			    PKT_DROP_IP6_EXT_ORDER);
	expect_meta(b, build_chain(&s, good, 3, b), 0, &want);
}

/* Quotes of 36 bytes of UDP/IPv4 and less (and more than the packet). */
static void test_icmp4_error_quote_lengths(void **state)
{
	static const struct {
		size_t quote, extra;
		uint16_t avail;
	} c[] = {
		{ 36, 0, 16 }, { 28, 0, 8 }, { 24, 0, 4 }, { 22, 0, 2 },
		{ 20, 0, 0 }, { 36, 8, 16 },
	};
	uint8_t in[BUF_CAP], b[BUF_CAP];
	size_t i;

	(void)state;
	assert_int_equal(build_inner(in, false, IPPROTO_NUM_UDP, NULL, 0), 36);
	memset(in + 36, 0xee, 8);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		size_t n = build_icmp_err(b, false, ICMP_DEST_UNREACH,
					  ICMP_PORT_UNREACH, in,
					  c[i].quote + c[i].extra);
		struct pkt_meta w = { IP4(14, n - 14), L4(1, 34, 42, n - 34),
				       .icmp_type = 3, .icmp_code = 3,
				       .flags = F(L4) | F(ICMP_ERROR),
				       INNER(QUOTE(IPPROTO_NUM_UDP, 42, 62, c[i].avail),
					     .l3 = PKT_L3_IPV4) };

		if (c[i].avail < 4) {	/* no ports without 4 bytes */
			w.inner.flags = 0;
			w.inner.sport = 0;
			w.inner.dport = 0;
		}
		expect_meta(b, n, 0, &w);
	}
}

static void test_icmp4_error_types(void **state)
{
	static const uint8_t err[] = { ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH,
				       ICMP_REDIRECT, ICMP_TIME_EXCEEDED,
				       ICMP_PARAMETERPROB };
	static const uint8_t info[] = { ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY,
					9, 10, 17 };
	struct frame fr;
	struct pkt_meta m;
	size_t i;

	(void)state;
	base_frame(B_ICMP4_ERR, &fr);
	for (i = 0; i < ARRAY_SIZE(err) + ARRAY_SIZE(info); i++) {
		bool is_err = i < ARRAY_SIZE(err);

		fr.b[34] = is_err ? err[i] : info[i - ARRAY_SIZE(err)];
		parse_ok(&fr, &m);
		assert_int_equal(m.flags, PKT_F_L4 | (is_err ? PKT_F_ICMP_ERROR : 0));
		assert_int_equal(m.inner.dport, is_err ? htons(INNER_DPORT) : 0);
		assert_int_equal(m.inner.l3_off, is_err ? 42 : 0);
	}
}

static void test_icmp4_error_inner_echo(void **state)
{
	uint8_t in[BUF_CAP], b[BUF_CAP];
	struct pkt_meta w = { IP4(14, 56), L4(1, 34, 42, 36), .icmp_type = 11,
			      .flags = F(L4) | F(ICMP_ERROR),
			      INNER(.l3_off = 42, .l4_off = 62, .l4_avail = 8,
				    .l3 = PKT_L3_IPV4, .proto = IPPROTO_NUM_ICMP,
				    .flags = PKT_INNER_PORTS | PKT_INNER_ECHO,
				    .sport = N16(ECHO_ID)) };

	(void)state;
	build_inner(in, false, IPPROTO_NUM_ICMP, NULL, 0);
	expect_meta(b, build_icmp_err(b, false, ICMP_TIME_EXCEEDED, 0, in, 28), 0, &w);
	/* 4 bytes of the echo header: no identifier. */
	w.len -= 4;
	w.l3_len -= 4;
	w.l4_len -= 4;
	w.inner.l4_avail = 4;
	w.inner.flags = 0;
	w.inner.sport = 0;
	expect_meta(b, build_icmp_err(b, false, ICMP_TIME_EXCEEDED, 0, in, 24), 0, &w);
}

static void test_icmp6_error_inner(void **state)
{
	static const uint8_t c1[] = { FRG };
	static const uint8_t bad[] = { DST, HBH };
	uint8_t in[BUF_CAP], b[BUF_CAP];
	struct frame fr;
	struct pkt_meta m;
	size_t n, qn;

	(void)state;
	/* Quotes that stop before or inside the quoted extension headers. */
	base_frame(B_ICMP6_PTB, &fr);
	for (n = 0; n < 16; n++) {
		fr.len = 62 + 40 + n;
		put16(fr.b + 18, (uint16_t)(fr.len - 54));
		parse_ok(&fr, &m);
		assert_int_equal(m.flags, PKT_F_L4 | PKT_F_ICMP_ERROR);
		assert_true(m.inner.l3 == PKT_L3_IPV6 && m.inner.l3_off == 62);
		assert_true(!m.inner.flags && !m.inner.l4_off && !m.inner.sport);
	}

	qn = build_inner(in, true, IPPROTO_NUM_UDP, c1, 1);
	set_frag6(in + IP6_HLEN, 1448, true, 9);	/* a later fragment */
	n = build_icmp_err(b, true, ICMP6_TIME_EXCEEDED, 1, in, qn);
	assert_drop(parse(b, n, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.inner.flags, PKT_INNER_FRAG_LATER);
	assert_int_equal(m.inner.l4_off, 0);
	assert_int_equal(m.inner.sport, 0);

	build_inner(in, true, IPPROTO_NUM_ICMPV6, NULL, 0);
	n = build_icmp_err(b, true, ICMP6_DEST_UNREACH, 0, in, 48);
	assert_drop(parse(b, n, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.inner.proto, IPPROTO_NUM_ICMPV6);
	assert_int_equal(m.inner.flags, PKT_INNER_PORTS | PKT_INNER_ECHO);
	assert_int_equal(m.inner.sport, htons(ECHO_ID));
	assert_int_equal(m.inner.l4_off, 102);

	qn = build_inner(in, true, IPPROTO_NUM_UDP, bad, 2);
	expect_drop(b, build_icmp_err(b, true, ICMP6_DEST_UNREACH, 0, in, qn), 0,
		    PKT_DROP_ICMP_INNER_BAD);
}

/* ---- truncation sweep ---- */

/* What a prefix of @len bytes of the valid frame @fr must give. */
static enum pkt_drop prefix_reason(const struct frame *fr,
				   const struct pkt_meta *full, size_t len)
{
	size_t l3 = full->l3_off;

	if (fr->pflags & PKT_PARSE_L3) {
		if (len == 0)
			return PKT_DROP_L3_UNKNOWN;
	} else if (len < ETH_HLEN) {
		return PKT_DROP_ETH_TRUNCATED;
	} else if (len < l3) {
		return PKT_DROP_VLAN_TRUNCATED;
	}
	switch (full->l3) {
	case PKT_L3_ARP:
		return PKT_DROP_ARP_TRUNCATED;
	case PKT_L3_IPV4:
		return len < l3 + (size_t)(fr->b[l3] & 0x0fu) * 4 ?
			PKT_DROP_IP4_TRUNCATED : PKT_DROP_IP4_TOTLEN_BEYOND;
	case PKT_L3_IPV6:
		return len < l3 + IP6_HLEN ? PKT_DROP_IP6_TRUNCATED :
					     PKT_DROP_IP6_PAYLOAD_BEYOND;
	default:
		return PKT_DROP_OK;
	}
}

static void test_truncation_sweep(void **state)
{
	struct pkt_meta full, m;
	struct frame fr;
	const char *f;
	int b;
	size_t len;

	(void)state;
	for (b = 0; b < B__COUNT; b++) {
		base_frame((enum base)b, &fr);
		parse_ok(&fr, &full);
		if (full.l3 != PKT_L3_OTHER)
			assert_int_equal(full.len, fr.len);
		for (len = 0; len < fr.len; len++) {
			enum pkt_drop want = prefix_reason(&fr, &full, len);
			enum pkt_drop got = parse(fr.b, len, fr.pflags, &m);

			if (got != want)
				fail_msg("base %d prefix %zu: got %s, want %s", b,
					 len, pkt_drop_name(got),
					 pkt_drop_name(want));
			if (got == PKT_DROP_OK)
				assert_int_equal(m.len, len);
		}
		/* Bytes after the IP packet change nothing but the flag. */
		if (full.l3 == PKT_L3_OTHER)
			continue;
		for (len = fr.len + 1; len < fr.len + 24; len++) {
			fr.b[len - 1] = (uint8_t)len;
			assert_drop(parse(fr.b, len, fr.pflags, &m), PKT_DROP_OK);
			assert_true(m.flags & PKT_F_TRIMMED);
			m.flags &= ~PKT_F_TRIMMED;
			f = meta_diff(&m, &full);
			if (f)
				fail_msg("base %d padded to %zu: %s differs", b, len, f);
		}
	}
}

/* ---- randomised robustness ---- */

#define INV(cond) do { if (!(cond)) return #cond; } while (0)

/* The invariants of an accepted frame: NULL, or the one that is broken. */
static const char *meta_broken(const struct pkt_meta *m, size_t len)
{
	const struct pkt_inner *in = &m->inner;
	size_t end = m->len;
	size_t l4h = m->l4_proto == IPPROTO_NUM_TCP ? TCP_HLEN_MIN : UDP_HLEN;
	bool ip = m->l3 == PKT_L3_IPV4 || m->l3 == PKT_L3_IPV6;

	INV(end <= len);
	INV(!!(m->flags & PKT_F_TRIMMED) == (end < len));
	INV(m->l3_off <= end);
	INV(m->l3 != PKT_L3_NONE);
	INV(!ip || m->l3_off + m->l3_len == end);
	INV(m->l3 != PKT_L3_ARP || m->l3_off + (size_t)ARP_ETH_IP4_LEN == end);
	INV(!(m->flags & PKT_F_FRAG_LATER) || (m->flags & PKT_F_FRAG));
	INV(!((m->flags & PKT_F_FRAG_LATER) && (m->flags & PKT_F_L4)));
	INV(!(m->flags & PKT_F_FRAG_LATER) || (m->sport == 0 && m->dport == 0));
	INV(m->tcp_wscale <= TCP_WSCALE_MAX);
	if (m->flags & (PKT_F_L4 | PKT_F_FRAG_LATER)) {
		INV(ip);
		INV(m->l4_off >= m->l3_off + IP4_HLEN_MIN);
		INV(m->l4_off + m->l4_len <= end);
	}
	if (m->flags & PKT_F_L4) {
		INV(m->l4_off + l4h <= end);	/* UDP and ICMP: 8 */
		INV(m->l4_off + l4h <= m->payload_off);
		INV(m->payload_off <= end);
		INV(m->payload_off <= m->l4_off + m->l4_len);
	}
	if (!(m->flags & PKT_F_ICMP_ERROR)) {
		INV(in->l3 == 0 && in->flags == 0 && in->l3_off == 0);
		return NULL;
	}
	INV(m->flags & PKT_F_L4);
	INV(in->l3 == m->l3);
	INV(in->l3_off == m->payload_off);
	INV(in->l3_off + (size_t)(in->l3 == PKT_L3_IPV4 ? IP4_HLEN_MIN : IP6_HLEN) <= end);
	INV(in->l4_off == 0 || in->l4_off >= in->l3_off + IP4_HLEN_MIN);
	INV(in->l4_off == 0 || in->l4_off + (size_t)in->l4_avail <= end);
	INV(!(in->flags & PKT_INNER_PORTS) || (in->l4_off && in->l4_off + 4u <= end));
	INV(!(in->flags & PKT_INNER_ECHO) || in->l4_off + 6u <= end);
	INV(!((in->flags & PKT_INNER_FRAG_LATER) && (in->flags & PKT_INNER_PORTS)));
	return NULL;
}

static void fuzz_one(const uint8_t *f, size_t len, unsigned int flags,
		     unsigned long frame)
{
	struct pkt_meta m1, m2;
	enum pkt_drop r1 = parse(f, len, flags, &m1);
	enum pkt_drop r2 = parse(f, len, flags | PKT_PARSE_NO_IP4_CSUM, &m2);
	const char *bad;

	if (r1 >= PKT_DROP__MAX || r2 >= PKT_DROP__MAX || r2 == PKT_DROP_IP4_BAD_CSUM)
		fail_msg("seed %#llx frame %lu: reasons %d %d",
			 (unsigned long long)FUZZ_SEED, frame, r1, r2);
	if (r1 != r2 && r1 != PKT_DROP_IP4_BAD_CSUM)
		fail_msg("seed %#llx frame %lu: %s with checksum, %s without",
			 (unsigned long long)FUZZ_SEED, frame,
			 pkt_drop_name(r1), pkt_drop_name(r2));
	if (r1 == PKT_DROP_OK && meta_diff(&m1, &m2))
		fail_msg("seed %#llx frame %lu: meta depends on the checksum flag",
			 (unsigned long long)FUZZ_SEED, frame);
	if (r2 != PKT_DROP_OK)
		return;
	bad = meta_broken(&m2, len);
	if (bad)
		fail_msg("seed %#llx frame %lu (%zu bytes): broken: %s",
			 (unsigned long long)FUZZ_SEED, frame, len, bad);
}

static void test_random_robustness(void **state)
{
	static struct frame base[B__COUNT];
	uint8_t buf[BUF_CAP];
	unsigned long frame;
	int b;

	(void)state;
	for (b = 0; b < B__COUNT; b++)
		base_frame((enum base)b, &base[b]);
	rng_state = FUZZ_SEED;
	for (frame = 0; frame < FUZZ_FRAMES; frame++) {
		const struct frame *fr = &base[rng_below(B__COUNT)];
		unsigned int kind = rng_below(4), flags = fr->pflags, i, n;
		size_t len = fr->len;

		memcpy(buf, fr->b, len);
		if (kind == 0 || kind == 3) {
			n = 1 + rng_below(4);
			for (i = 0; i < n; i++) {
				/* Mostly in the headers, where it matters. */
				size_t span = rng_below(4) ? MIN(len, 80u) : len;

				buf[rng_below((uint32_t)span)] ^=
					(uint8_t)(1 + rng_below(255));
			}
		}
		if (kind == 1 || kind == 3)
			len = rng_below((uint32_t)len + 1);
		if (kind == 2) {
			n = 1 + rng_below(64);
			for (i = 0; i < n; i++)
				buf[len++] = (uint8_t)rng_next();
		}
		if (fr->ip4 && rng_below(2))
			ip4_fix(buf + fr->l3);
		if (rng_below(16) == 0)
			flags ^= PKT_PARSE_L3;
		fuzz_one(buf, len, flags, frame);
	}
}

/* ---- reason names ---- */

static void test_drop_names(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < PKT_DROP__MAX; i++) {
		const char *name = pkt_drop_name((enum pkt_drop)i);
		const char *desc = pkt_drop_desc((enum pkt_drop)i);

		assert_true(name && name[0] && desc && desc[0]);
		assert_string_not_equal(name, "invalid");
		assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_"),
				 strlen(name));
		for (j = 0; j < i; j++)
			assert_string_not_equal(name, pkt_drop_name((enum pkt_drop)j));
	}
	assert_string_equal(pkt_drop_name(PKT_DROP_OK), "ok");
	assert_string_equal(pkt_drop_name(PKT_DROP_IP4_BAD_IHL), "ip4_bad_ihl");
	assert_string_equal(pkt_drop_name(PKT_DROP_ICMP_NESTED_ERROR),
			    "icmp_nested_error");
	assert_string_equal(pkt_drop_name(PKT_DROP__MAX), "invalid");
	assert_string_equal(pkt_drop_desc(PKT_DROP__MAX), "invalid");
	assert_string_equal(pkt_drop_name((enum pkt_drop)(PKT_DROP__MAX + 100)),
			    "invalid");
	assert_string_equal(pkt_drop_desc((enum pkt_drop)0x7fffffff), "invalid");
}

/* Runs last: every reason in drop.h was produced by some test above. */
static void test_all_reasons_covered(void **state)
{
	unsigned int r;

	(void)state;
	for (r = 1; r < PKT_DROP__MAX; r++)
		if (!drop_seen[r])
			fail_msg("no test produced %s",
				 pkt_drop_name((enum pkt_drop)r));
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_ip6_ext_lengths),
		cmocka_unit_test(test_unknown_ip_proto),
		cmocka_unit_test(test_fragment_rules),
		cmocka_unit_test(test_ip4_frag_oversize_counts_header),
		cmocka_unit_test(test_ip6_frag_oversize_counts_unfragmentable),
		cmocka_unit_test(test_ip6_ext_order),
		cmocka_unit_test(test_icmp4_error_quote_lengths),
		cmocka_unit_test(test_icmp4_error_types),
		cmocka_unit_test(test_icmp4_error_inner_echo),
		cmocka_unit_test(test_icmp6_error_inner),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_random_robustness),
		cmocka_unit_test(test_drop_names),
	};
	struct CMUnitTest tests[ARRAY_SIZE(cases) + ARRAY_SIZE(fixed) + 1];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = &cases[i],
		};
	}
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	tests[n] = (struct CMUnitTest)cmocka_unit_test(test_all_reasons_covered);
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
