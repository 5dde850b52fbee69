// SPDX-License-Identifier: MIT
/*
 * gen_corpus - write the seed corpora of the fuzzers from the frame builders,
 * so that the seeds stay valid when the builders change.
 *
 *   usage: gen_corpus DIR      (writes DIR/pkt/<name> and DIR/nat/<name>)
 *
 * fuzz_pkt inputs are one flag byte (see fuzz/fuzz_pkt.c) and a frame.
 * fuzz_nat inputs are a 4-byte configuration header and records, each a
 * raw frame or a compact template (the format is at the top of
 * fuzz/fuzz_nat.c; the constants below mirror it): realistic streams
 * through one NAT, from which the fuzzer explores.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

#define FRAME_MAX 2048

static const char *out_dir;
static int failures;

static void put(const char *name, unsigned int flags, const uint8_t *frame,
		int len)
{
	char path[512];
	struct pkt_meta m;
	uint8_t fl = (uint8_t)flags;
	FILE *f;

	if (len < 0) {
		fprintf(stderr, "gen_corpus: %s: build failed (%d)\n", name, len);
		failures++;
		return;
	}
	/* Every seed is a frame the parser accepts: seeds explore from valid. */
	if (pkt_parse(frame, (size_t)len, flags, &m) != PKT_DROP_OK) {
		fprintf(stderr, "gen_corpus: %s: parser rejects the seed\n", name);
		failures++;
		return;
	}
	snprintf(path, sizeof(path), "%s/pkt/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&fl, 1, 1, f) != 1 ||
	    fwrite(frame, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		failures++;
	}
}

static struct pkt_spec base4(uint8_t proto)
{
	struct pkt_spec s = {
		.eth_dst = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 },
		.eth_src = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.src4 = htonl(0x0a00020f),	/* 10.0.2.15 */
		.dst4 = htonl(0xc6336407),	/* 198.51.100.7 */
		.proto = proto,
		.sport = 40000,
		.dport = 443,
		.ip_id = 0x1234,
	};
	return s;
}

static struct pkt_spec base6(uint8_t proto)
{
	struct pkt_spec s = base4(proto);
	/* 2001:db8::15 -> 2001:db8:1::7 (documentation prefix) */
	const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x15 };
	const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x07 };

	s.ip6 = true;
	memcpy(s.src6, src, 16);
	memcpy(s.dst6, dst, 16);
	return s;
}

static int nat_seeds(void);

int main(int argc, char **argv)
{
	uint8_t f[FRAME_MAX], inner[256];
	const uint8_t payload[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t zero[6] = { 0 };
	const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
	const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	/* hop-by-hop (PadN), routing type 0 with 0 segments left, dst opts */
	const uint8_t ext6[24] = {
		IPPROTO_NUM_ROUTING, 0, 1, 4, 0, 0, 0, 0,
		IPPROTO_NUM_DSTOPTS, 0, 0, 0, 0, 0, 0, 0,
		IPPROTO_NUM_TCP, 0, 1, 4, 0, 0, 0, 0,
	};
	const uint8_t opts4[8] = { 0x94, 0x04, 0, 0, IP4_OPT_NOP, IP4_OPT_NOP,
				   IP4_OPT_NOP, IP4_OPT_EOL }; /* router alert */
	struct pkt_spec s;
	char dir[512];
	int n, in;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	out_dir = argv[1];
	snprintf(dir, sizeof(dir), "%s/pkt", out_dir);
	mkdir(out_dir, 0755);
	mkdir(dir, 0755);

	s = base4(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_SYN;
	s.mss = 1460;
	s.sack_perm = true;
	s.has_ts = true;
	s.tsval = 1;
	s.has_wscale = true;
	s.wscale = 7;
	put("ip4_tcp_syn", 0, f, pkt_build(&s, f, sizeof(f)));
	s.vlan = true;
	s.vlan_tci = 100;
	put("ip4_tcp_syn_vlan", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_ACK | TCP_PSH;
	s.payload = payload;
	s.payload_len = sizeof(payload) - 1;
	put("ip4_tcp_data", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip4_opts = opts4;
	s.ip4_opts_len = sizeof(opts4);
	put("ip4_opts_tcp", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_UDP);
	s.dport = 53;
	s.payload = payload;
	s.payload_len = 12;
	put("ip4_udp", 0, f, pkt_build(&s, f, sizeof(f)));
	s.udp_no_csum = true;
	put("ip4_udp_nocsum", 2, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_ICMP);
	s.icmp_type = ICMP_ECHO;
	s.icmp_id = 0x4242;
	s.icmp_seq = 1;
	s.payload = payload;
	s.payload_len = 16;
	put("ip4_icmp_echo", 0, f, pkt_build(&s, f, sizeof(f)));

	/* Port unreachable quoting a UDP datagram, from the outside. */
	s = base4(IPPROTO_NUM_UDP);
	s.no_eth = true;
	s.payload = payload;
	s.payload_len = 8;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base4(IPPROTO_NUM_ICMP);
	s.src4 = htonl(0xc6336407);
	s.dst4 = htonl(0x0a00020f);
	s.icmp_type = ICMP_DEST_UNREACH;
	s.icmp_code = ICMP_PORT_UNREACH;
	s.payload = inner;
	s.payload_len = in > 0 ? (size_t)in : 0;
	put("ip4_icmp_port_unreach", 0, f, pkt_build(&s, f, sizeof(f)));

	/* Fragmentation needed quoting 8 bytes of a TCP segment. */
	s = base4(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_ACK;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base4(IPPROTO_NUM_ICMP);
	s.icmp_type = ICMP_DEST_UNREACH;
	s.icmp_code = ICMP_FRAG_NEEDED;
	s.icmp_seq = 1400;
	s.payload = inner;
	s.payload_len = in > 28 ? 28 : 0;
	put("ip4_icmp_frag_needed", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_UDP);
	s.ip4_frag = IP4_FLAG_MF;
	s.payload = payload;
	s.payload_len = 24;
	put("ip4_frag_first", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip4_frag = 4;	/* offset 32 bytes, last */
	s.l4_raw = true;
	put("ip4_frag_later", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_SYN | TCP_ACK;
	s.mss = 1440;
	s.has_wscale = true;
	s.wscale = 9;
	put("ip6_tcp_synack", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip6_ext = ext6;
	s.ip6_ext_len = sizeof(ext6);
	s.ip6_ext_first = IPPROTO_NUM_HOPOPTS;
	put("ip6_ext_tcp", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_UDP);
	s.payload = payload;
	s.payload_len = 20;
	put("ip6_udp", 0, f, pkt_build(&s, f, sizeof(f)));
	{
		const uint8_t frag_first[8] = { IPPROTO_NUM_UDP, 0, 0, 1, 0, 0, 0, 7 };
		const uint8_t frag_later[8] = { IPPROTO_NUM_UDP, 0, 0, 32, 0, 0, 0, 7 };

		s.ip6_ext = frag_first;
		s.ip6_ext_len = 8;
		s.ip6_ext_first = IPPROTO_NUM_FRAGMENT;
		put("ip6_frag_first", 0, f, pkt_build(&s, f, sizeof(f)));
		s.ip6_ext = frag_later;
		s.l4_raw = true;
		put("ip6_frag_later", 0, f, pkt_build(&s, f, sizeof(f)));
	}

	s = base6(IPPROTO_NUM_ICMPV6);
	s.icmp_type = ICMP6_ECHO_REQUEST;
	s.icmp_id = 7;
	s.payload = payload;
	s.payload_len = 8;
	put("ip6_icmp6_echo", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_ACK;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base6(IPPROTO_NUM_ICMPV6);
	s.icmp_type = ICMP6_PACKET_TOO_BIG;
	s.icmp_seq = 1280;
	s.payload = inner;
	s.payload_len = in > 0 ? (size_t)in : 0;
	put("ip6_icmp6_too_big", 0, f, pkt_build(&s, f, sizeof(f)));

	n = pkt_build_arp(f, sizeof(f), ARP_OP_REQUEST, bcast, guest_mac,
			  htonl(0x0a00020f), zero, htonl(0x0a000201));
	put("arp_request", 0, f, n);
	n = pkt_build_arp(f, sizeof(f), ARP_OP_REPLY, guest_mac, gw_mac,
			  htonl(0x0a000201), guest_mac, htonl(0x0a00020f));
	put("arp_reply", 0, f, n);

	s = base4(IPPROTO_NUM_UDP);
	s.no_eth = true;
	s.payload = payload;
	s.payload_len = 4;
	put("l3_ip4_udp", 1, f, pkt_build(&s, f, sizeof(f)));
	s = base6(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_RST;
	put("l3_ip6_tcp", 1, f, pkt_build(&s, f, sizeof(f)));

	/* An EtherType the parser passes through (LLDP). */
	memset(f, 0, 64);
	memcpy(f, bcast, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x88;
	f[13] = 0xcc;
	put("other_ethertype", 0, f, 64);

	nat_seeds();
	return failures ? 1 : 0;
}

/* ---- fuzz_nat seeds ---- */

/* Header bits (fuzz/fuzz_nat.c). */
#define H0_ADF		0x01
#define H0_EIF		0x02
#define H0_TWO_EXT	0x04
#define H0_IP_CSUM	0x08	/* verify IPv4 header checksums */
#define H0_FWD_TCP	0x10	/* ext1:8080 -> 10.0.0.2:80 */
#define H0_FWD_UDP	0x20	/* ext2:5353 -> 10.0.0.3:53 */
#define H0_L3		0x40
/* h1: max_flows 8 << f, port_min pool index p, width pool index w */
#define H1(f, p, w)	((uint8_t)((f) | (p) << 2 | (w) << 5))
#define H1_DEFAULT	H1(2, 5, 7)	/* 32 flows, ports 49152-49452 */
#define H2_DEFAULT_TO	0x80	/* the default (RFC) timeouts */
/* Record control bits. */
#define R_OUT		0x01	/* from outside (kinds 3, 5: flip the natural side) */
#define R_STEP(n)	((uint8_t)((n) << 1)) /* 1 ms, 250 ms, 1.1 s, 4 s, 20 s, 150 s, 4 h */
#define R_JOIN		0x10
#define R_PARTIAL	0x20
#define R_RAW		0x40
#define R_BIGTICK	0x80
/* Template kinds, and pool indices of the harness. */
enum { K_TCP, K_UDP, K_ECHO, K_ERR_RECENT, K_FRAG, K_REPLY, K_OTHER, K_ERR_CUT };
enum { A_IN1, A_IN2, A_IN3, A_IN4, A_REM1, A_REM2, A_REM3, A_RTR, A_EXT1, A_EXT2 };
enum { P_MIN, P_MIN1, P_MAX, P_80, P_53, P_443, P_1023, P_1024, P_40000,
       P_40001, P_8080, P_5353, P_0, P_65535, P_LEARNT_EXT = 14, P_LEARNT_INT };
#define T0(kind, k, v)	((uint8_t)((kind) | (k) << 3 | (v) << 5))
#define PAIR(lo, hi)	((uint8_t)((lo) | (hi) << 4))

#define IN1	0x0a000001u
#define IN2	0x0a000002u
#define IN3	0x0a000003u
#define REM1	0xc6336401u
#define REM2	0xc6336402u
#define REM3	0xc6336403u
#define RTR	0xc00002feu
#define EXT1	0xcb007101u
#define EXT2	0xcb007102u

struct stream {
	uint8_t b[8192];
	size_t len;
	bool l3;
	unsigned int pflags;
};

static void st_start(struct stream *st, uint8_t h0, uint8_t h1, uint8_t h2,
		     uint8_t h3)
{
	st->b[0] = h0;
	st->b[1] = h1;
	st->b[2] = h2;
	st->b[3] = h3;
	st->len = 4;
	st->l3 = h0 & H0_L3;
	st->pflags = (h0 & H0_IP_CSUM ? 0 : PKT_PARSE_NO_IP4_CSUM) |
		     (st->l3 ? PKT_PARSE_L3 : 0);
}

static void st_rec(struct stream *st, uint8_t ctl, const void *body, size_t n)
{
	if (st->len + 3 + n > sizeof(st->b)) {
		fprintf(stderr, "gen_corpus: nat stream too long\n");
		failures++;
		return;
	}
	st->b[st->len] = ctl;
	st->b[st->len + 1] = (uint8_t)n;
	st->b[st->len + 2] = (uint8_t)(n >> 8);
	memcpy(st->b + st->len + 3, body, n);
	st->len += 3 + n;
}

/* A raw frame; it must be one the parser accepts. */
static void st_raw(struct stream *st, uint8_t ctl, struct pkt_spec *s)
{
	uint8_t f[FRAME_MAX];
	struct pkt_meta m;
	int n;

	s->no_eth = st->l3;
	n = pkt_build(s, f, sizeof(f));
	if (n < 0 || pkt_parse(f, (size_t)n, st->pflags, &m) != PKT_DROP_OK) {
		fprintf(stderr, "gen_corpus: nat seed frame rejected (%d)\n", n);
		failures++;
		return;
	}
	st_rec(st, (uint8_t)(ctl | R_RAW), f, (size_t)n);
}

/* A template: t0 kind, t1 addresses, t2 ports, t3 flags/type, t4 seq,
 * t5 ack, t6 payload, t7 options (fuzz/fuzz_nat.c). */
static void st_tpl(struct stream *st, uint8_t ctl, uint8_t t0, uint8_t t1,
		   uint8_t t2, uint8_t t3, uint8_t t4, uint8_t t5, uint8_t t6,
		   uint8_t t7)
{
	const uint8_t t[11] = { t0, t1, t2, t3, t4, t5, t6, t7, 0x34, 0x12, 0xf7 };

	st_rec(st, ctl, t, sizeof(t));
}

static void st_write(const struct stream *st, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nat/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(st->b, 1, st->len, f) != st->len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		failures++;
	}
}

/* An IPv4 packet between two endpoints (host-order addresses and ports). */
static struct pkt_spec ep(uint8_t proto, uint32_t src, uint16_t sport,
			  uint32_t dst, uint16_t dport)
{
	struct pkt_spec s = base4(proto);

	s.src4 = htonl(src);
	s.dst4 = htonl(dst);
	s.sport = sport;
	s.dport = dport;
	s.icmp_id = sport;
	return s;
}

static struct pkt_spec tcp(uint32_t src, uint16_t sport, uint32_t dst,
			   uint16_t dport, uint8_t flags, uint32_t seq,
			   uint32_t ack, size_t len)
{
	static const uint8_t data[512];
	struct pkt_spec s = ep(IPPROTO_NUM_TCP, src, sport, dst, dport);

	s.tcp_flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.payload = data;
	s.payload_len = len;
	if (flags & TCP_SYN) {
		s.mss = 1460;
		s.sack_perm = true;
		s.has_wscale = true;
		s.wscale = 7;
	}
	return s;
}

static struct pkt_spec udp(uint32_t src, uint16_t sport, uint32_t dst,
			   uint16_t dport, size_t len)
{
	static const uint8_t data[512] = "arcnat";
	struct pkt_spec s = ep(IPPROTO_NUM_UDP, src, sport, dst, dport);

	s.payload = data;
	s.payload_len = len;
	return s;
}

/* An ICMP error from @src to @dst quoting the first @qlen bytes of @q. */
static struct pkt_spec icmp_err(uint32_t src, uint32_t dst, uint8_t type,
				uint8_t code, struct pkt_spec q, size_t qlen,
				uint8_t *buf, size_t cap)
{
	struct pkt_spec s = ep(IPPROTO_NUM_ICMP, src, 0, dst, 0);
	int n;

	q.no_eth = true;
	n = pkt_build(&q, buf, cap);
	s.icmp_type = type;
	s.icmp_code = code;
	s.icmp_seq = type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED ? 1400 : 0;
	s.payload = buf;
	s.payload_len = n < 0 ? 0 : MIN((size_t)n, qlen);
	return s;
}

static void seeds_raw(void)
{
	struct stream st;
	struct pkt_spec s;
	uint8_t q[FRAME_MAX];

	/* Outbound UDP (port preserved), replies, a refused and an expired one. */
	st_start(&st, H0_IP_CSUM, H1_DEFAULT, 0, 1);
	s = udp(IN1, 49160, REM1, 53, 20);
	st_raw(&st, 0, &s);
	s = udp(REM1, 53, EXT1, 49160, 60);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = udp(IN1, 49160, REM1, 53, 20);
	st_raw(&st, R_STEP(3), &s);
	s = udp(REM2, 53, EXT1, 49160, 60);
	st_raw(&st, R_OUT, &s);			/* APDF: filtered */
	s = udp(REM1, 53, EXT1, 49160, 60);
	st_raw(&st, R_OUT | R_STEP(6) | R_BIGTICK, &s); /* expired */
	st_write(&st, "udp_reply");

	/* TCP: handshake, data both ways, FIN both ways. */
	st_start(&st, H0_IP_CSUM, H1_DEFAULT, 0, 2);
	s = tcp(IN1, 49161, REM1, 443, TCP_SYN, 1000, 0, 0);
	st_raw(&st, 0, &s);
	s = tcp(REM1, 443, EXT1, 49161, TCP_SYN | TCP_ACK, 5000, 1001, 0);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = tcp(IN1, 49161, REM1, 443, TCP_ACK, 1001, 5001, 0);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(IN1, 49161, REM1, 443, TCP_ACK | TCP_PSH, 1001, 5001, 33);
	st_raw(&st, R_JOIN, &s);
	s = tcp(REM1, 443, EXT1, 49161, TCP_ACK | TCP_PSH, 5001, 1034, 200);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = tcp(IN1, 49161, REM1, 443, TCP_FIN | TCP_ACK, 1034, 5201, 0);
	st_raw(&st, R_STEP(2), &s);
	s = tcp(REM1, 443, EXT1, 49161, TCP_FIN | TCP_ACK, 5201, 1035, 0);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = tcp(IN1, 49161, REM1, 443, TCP_ACK, 1035, 5202, 0);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(REM1, 443, EXT1, 49161, TCP_ACK, 5202, 1035, 0);
	st_raw(&st, R_OUT | R_STEP(5), &s);	/* after TIME_WAIT */
	st_write(&st, "tcp_session");

	/* ICMP echo and reply; pings to the NAT itself. */
	st_start(&st, 0, H1_DEFAULT, 0, 3);
	s = ep(IPPROTO_NUM_ICMP, IN1, 49200, REM1, 0);
	s.icmp_type = ICMP_ECHO;
	s.icmp_seq = 1;
	st_raw(&st, 0, &s);
	s = ep(IPPROTO_NUM_ICMP, REM1, 49200, EXT1, 0);
	s.icmp_type = ICMP_ECHOREPLY;
	s.icmp_seq = 1;
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = ep(IPPROTO_NUM_ICMP, IN2, 7, EXT1, 0);
	s.icmp_type = ICMP_ECHO;
	st_raw(&st, R_STEP(1), &s);		/* local */
	s = ep(IPPROTO_NUM_ICMP, REM2, 8, EXT1, 0);
	s.icmp_type = ICMP_ECHO;
	st_raw(&st, R_OUT, &s);			/* local */
	s = ep(IPPROTO_NUM_ICMP, IN1, 9, REM1, 0);
	s.icmp_type = ICMP_ECHOREPLY;
	st_raw(&st, 0, &s);			/* not a starter */
	st_write(&st, "icmp_echo");

	/* ICMP errors quoting translated packets: from the peer, a router. */
	st_start(&st, H0_IP_CSUM, H1_DEFAULT, 0, 4);
	s = udp(IN1, 49162, REM1, 33434, 12);
	st_raw(&st, 0, &s);
	s = icmp_err(REM1, EXT1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
		     udp(EXT1, 49162, REM1, 33434, 12), 28, q, sizeof(q));
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = icmp_err(RTR, EXT1, ICMP_TIME_EXCEEDED, 0,
		     udp(EXT1, 49162, REM1, 33434, 12), 40, q, sizeof(q));
	st_raw(&st, R_OUT | R_JOIN, &s);
	s = tcp(IN1, 49163, REM1, 80, TCP_SYN, 77, 0, 0);
	st_raw(&st, R_STEP(1), &s);
	s = icmp_err(RTR, EXT1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
		     tcp(EXT1, 49163, REM1, 80, TCP_SYN, 77, 0, 0), 28, q, sizeof(q));
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = icmp_err(IN1, REM1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
		     udp(REM1, 33434, IN1, 49162, 12), 28, q, sizeof(q));
	st_raw(&st, R_STEP(1), &s);		/* from inside about a reply */
	st_write(&st, "icmp_error");

	/* Fragments: first (with the UDP header), later, both directions. */
	st_start(&st, 0, H1_DEFAULT, 0, 5);
	s = udp(IN1, 49164, REM1, 5000, 24);
	s.ip_id = 0x4242;
	s.ip4_frag = IP4_FLAG_MF;
	st_raw(&st, 0, &s);
	s.l4_raw = true;
	s.payload_len = 16;
	s.ip4_frag = 4;
	st_raw(&st, R_STEP(1), &s);
	s = udp(REM1, 5000, EXT1, 49164, 24);
	s.ip_id = 0x99;
	s.ip4_frag = IP4_FLAG_MF;
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s.l4_raw = true;
	s.ip4_frag = 4;
	st_raw(&st, R_OUT | R_JOIN, &s);
	s.ip_id = 0x98;				/* no first fragment */
	st_raw(&st, R_OUT | R_JOIN, &s);
	st_write(&st, "fragments");

	/* Hairpin: B reaches A through A's external endpoint, A answers. */
	st_start(&st, H0_EIF | H0_FWD_TCP, H1_DEFAULT, 0, 6);
	s = udp(IN1, 49170, REM1, 3478, 20);
	st_raw(&st, 0, &s);
	s = udp(IN2, 49180, EXT1, 49170, 20);
	st_raw(&st, R_STEP(1), &s);
	s = udp(IN1, 49170, EXT1, 49180, 20);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(IN3, 49181, EXT1, 8080, TCP_SYN, 9, 0, 0);
	st_raw(&st, R_STEP(1), &s);		/* to a forward */
	s = tcp(IN2, 80, EXT1, 49181, TCP_SYN | TCP_ACK, 300, 10, 0);
	st_raw(&st, R_STEP(1), &s);
	st_write(&st, "hairpin");

	/* Port forwards: inbound TCP and UDP, and the server's own flow. */
	st_start(&st, H0_IP_CSUM | H0_FWD_TCP | H0_FWD_UDP | H0_TWO_EXT,
		 H1_DEFAULT, 0, 7);
	s = tcp(REM1, 50000, EXT1, 8080, TCP_SYN, 7000, 0, 0);
	st_raw(&st, R_OUT, &s);
	s = tcp(IN2, 80, REM1, 50000, TCP_SYN | TCP_ACK, 100, 7001, 0);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(REM1, 50000, EXT1, 8080, TCP_ACK | TCP_PSH, 7001, 101, 64);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = udp(REM2, 40000, EXT2, 5353, 30);
	st_raw(&st, R_OUT | R_JOIN, &s);
	s = udp(IN3, 53, REM2, 40000, 90);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(IN2, 80, REM3, 443, TCP_SYN, 55, 0, 0);
	st_raw(&st, R_JOIN, &s);
	st_write(&st, "port_forward");

	/* Unsolicited inbound, then a simultaneous open; strangers. */
	st_start(&st, 0, H1_DEFAULT, 0, 8);
	s = udp(REM1, 53, EXT1, 49999, 20);
	st_raw(&st, R_OUT, &s);
	s = tcp(REM1, 40000, EXT1, 49190, TCP_SYN, 1, 0, 0);
	st_raw(&st, R_OUT | R_JOIN, &s);
	s = tcp(IN1, 49190, REM1, 40000, TCP_SYN, 500, 0, 0);
	st_raw(&st, R_STEP(1), &s);
	s = tcp(REM1, 40000, EXT1, 49190, TCP_SYN, 1, 0, 0);
	st_raw(&st, R_OUT | R_STEP(1), &s);
	s = udp(REM1, 53, 0xc6336409u, 49999, 20);
	st_raw(&st, R_OUT | R_STEP(1), &s);	/* not ours */
	s = ep(47, REM1, 0, EXT1, 0);
	s.l4_raw = true;
	st_raw(&st, R_OUT | R_JOIN, &s);	/* GRE */
	st_write(&st, "unsolicited");
}

static void seeds_templates(void)
{
	struct stream st;
	unsigned int i;

	/* TCP from the pools; each answer follows the latest output. */
	st_start(&st, 0, H1_DEFAULT, 0, 9);
	st_tpl(&st, 0, T0(K_TCP, 0, 0), PAIR(A_IN1, A_REM1), PAIR(P_40000, P_443),
	       TCP_SYN, 0x00, 0, 0, 0x1c);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_SYN | TCP_ACK, 0x40, 0, 0, 0x1c);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_ACK, 0, 0, 0, 0);
	st_tpl(&st, R_JOIN, T0(K_TCP, 0, 0), PAIR(A_IN1, A_REM1), PAIR(P_40000, P_443),
	       TCP_ACK | TCP_PSH, 0x01, 0x41, 40, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_ACK, 0, 0, 100, 0);
	st_tpl(&st, R_STEP(1), T0(K_ERR_RECENT, 1, 0), 0, 0, 1, 0, 0, 0, 0);
	st_tpl(&st, R_STEP(2), T0(K_TCP, 0, 0), PAIR(A_IN1, A_REM1), PAIR(P_40000, P_443),
	       TCP_FIN | TCP_ACK, 0x29, 0x41 + 36, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_FIN | TCP_ACK, 0, 0, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_ACK, 0, 0, 0, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_TCP, 0, 0), PAIR(A_REM1, A_EXT1),
	       PAIR(P_443, P_LEARNT_EXT), TCP_RST, 0x50, 0, 0, 0);
	st_write(&st, "tpl_tcp");

	/* UDP, ICMP and errors from the pools, with CHECKSUM_PARTIAL. */
	st_start(&st, H0_ADF | H0_TWO_EXT, H1_DEFAULT, 0, 10);
	st_tpl(&st, R_PARTIAL, T0(K_UDP, 0, 0), PAIR(A_IN2, A_REM2), PAIR(P_1024, P_53),
	       0, 0, 0, 30, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 0), 0, 0, 0, 0, 0, 50, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_REM2, A_EXT1),
	       PAIR(P_443, P_LEARNT_EXT), 0, 0, 0, 8, 0);	/* ADF: allowed */
	st_tpl(&st, R_STEP(1) | R_PARTIAL, T0(K_ECHO, 0, 0), PAIR(A_IN3, A_REM3),
	       PAIR(P_1023, 0), 0, 0, 0, 16, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 0), 0, 0, 0, 0, 0, 16, 0);
	st_tpl(&st, R_STEP(1), T0(K_ERR_RECENT, 1, 2), 0, 0, 3, 0, 0, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_ERR_CUT, 2, 0), 0, 0, 0, 0, 0, 6, 0);
	st_tpl(&st, R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_IN2, A_REM2), PAIR(P_1024, P_53),
	       0, 0, 0, 24, 0x01);
	st_tpl(&st, R_JOIN, T0(K_FRAG, 0, 1), PAIR(A_IN2, A_REM2), 0, 0, 4, 0, 16, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_OTHER, 0, 1), PAIR(A_REM1, A_EXT2), 0,
	       ICMP_TIMESTAMP, 0, 0, 12, 0);
	st_write(&st, "tpl_udp_icmp");

	/* Exhaustion: 8 flows, 2 ports, many sources; then expiry. */
	st_start(&st, H0_EIF, H1(0, 5, 1), 0, 11);
	for (i = 0; i < 12; i++)
		st_tpl(&st, i % 3 ? R_JOIN : R_STEP(1), T0(K_UDP, 0, 0),
		       PAIR(i % 4, A_REM1 + i % 3), PAIR(P_40000 + (i & 1), P_53),
		       0, 0, 0, 4, 0);
	st_tpl(&st, R_STEP(6) | R_BIGTICK, T0(K_UDP, 0, 0), PAIR(A_IN1, A_REM1),
	       PAIR(P_40000, P_53), 0, 0, 0, 4, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_REM3, A_EXT1),
	       PAIR(P_53, P_MIN), 0, 0, 0, 4, 0);
	st_write(&st, "tpl_exhaust");

	/* A table of 8 flows, all answered: the next new flow finds it full. */
	st_start(&st, H0_EIF, H1(0, 5, 7), 0, 13);
	for (i = 0; i < 8; i++) {
		st_tpl(&st, R_STEP(1), T0(K_UDP, 0, 0), PAIR(i % 4, A_REM1),
		       PAIR(P_40000 + i / 4, P_53), 0, 0, 0, 4, 0);
		st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 0), 0, 0, 0, 0, 0, 4, 0);
	}
	st_tpl(&st, R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_IN1, A_REM2),
	       PAIR(P_1024, P_53), 0, 0, 0, 4, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_REM3, A_EXT1),
	       PAIR(P_53, P_LEARNT_EXT), 0, 0, 0, 4, 0);
	st_write(&st, "tpl_table_full");

	/* A later fragment after its flow expired, within the fragment timeout. */
	st_start(&st, 0, H1_DEFAULT, 0x38, 14);
	st_tpl(&st, 0, T0(K_UDP, 0, 0), PAIR(A_IN1, A_REM1), PAIR(P_40000, P_53),
	       0, 0, 0, 16, 0x01);
	st_tpl(&st, R_STEP(4), T0(K_FRAG, 0, 1), PAIR(A_IN1, A_REM1), 0, 0, 3, 0, 8, 0);
	st_write(&st, "tpl_frag_stale");

	/* TUN frames, default timeouts, a jump beyond the timer wheel. */
	st_start(&st, H0_L3 | H0_FWD_UDP, H1(3, 1, 6), H2_DEFAULT_TO, 12);
	st_tpl(&st, 0, T0(K_TCP, 0, 0), PAIR(A_IN4, A_REM3), PAIR(P_1023, P_80),
	       TCP_SYN, 0, 0, 0, 0x24);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_SYN | TCP_ACK, 0x80, 0, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 1), 0, 0, TCP_ACK, 0, 0, 0, 0);
	st_tpl(&st, R_OUT | R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_REM1, A_EXT1),
	       PAIR(P_40001, P_5353), 0, 0, 0, 20, 0);
	st_tpl(&st, R_STEP(7) | R_BIGTICK, T0(K_REPLY, 1, 1), 0, 0, TCP_ACK, 0, 0, 10, 0);
	st_tpl(&st, R_STEP(7) | R_BIGTICK, T0(K_REPLY, 0, 0), 0, 0, 0, 0, 0, 10, 0);
	st_write(&st, "tpl_l3_wheel");

	/* A hairpin to the sender's own mapping (a STUN client's check): a
	 * flow that is its own reply, answered, quoted by an error, and the
	 * TCP one refused (hairpin_self_tcp). */
	st_start(&st, H0_EIF, H1(0, 4, 7), H2_DEFAULT_TO, 15);
	st_tpl(&st, 0, T0(K_UDP, 0, 0), PAIR(A_IN1, A_REM1), PAIR(P_MIN, P_80),
	       0, 0, 0, 8, 0);
	st_tpl(&st, R_STEP(1), T0(K_UDP, 0, 0), PAIR(A_IN1, A_EXT1),
	       PAIR(P_MIN, P_LEARNT_EXT), 0, 0, 0, 8, 0);
	st_tpl(&st, R_STEP(1), T0(K_REPLY, 0, 0), 0, 0, 0, 0, 0, 8, 0);
	st_tpl(&st, R_STEP(1), T0(K_ERR_RECENT, 0, 1), 0, 0, 3, 0, 0, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_TCP, 0, 0), PAIR(A_IN1, A_REM1),
	       PAIR(P_MIN1, P_80), TCP_SYN, 0, 0, 0, 0);
	st_tpl(&st, R_STEP(1), T0(K_TCP, 0, 0), PAIR(A_IN1, A_EXT1),
	       PAIR(P_MIN1, P_LEARNT_EXT), TCP_SYN, 0, 0, 0, 0);
	st_write(&st, "tpl_hairpin_self");
}

static int nat_seeds(void)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/nat", out_dir);
	mkdir(dir, 0755);
	seeds_raw();
	seeds_templates();
	return 0;
}
