// SPDX-License-Identifier: MIT
/*
 * test_nat.c - one test per rule of docs/nat.md (RFC 4787, 5382, 5508).
 *
 * Frames are made by pkt_build(), parsed, run through nat_process() and
 * read back through pkt_parse(). Every forwarded frame has its IPv4 header
 * checksum and full L4 checksum verified (ICMP errors: the quote's IPv4
 * header too); every dropped frame must be untouched and counted under its
 * reason. Time is advanced by hand; advance() runs the collector to the
 * end. tc_done() ends each test: nat_verify() passes, and once every flow
 * has expired the table and the mappings are back to the static forwards.
 * Addresses (RFC 5737): inside 10.0.2.x, remotes 198.51.100.x, external
 * 203.0.113.1 and .2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "ct/table.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"

#define IP4(a, b, c, d) htonl((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			      (uint32_t)(c) << 8 | (uint32_t)(d))
#define IN(x)	IP4(10, 0, 2, x)
#define RMT(x)	IP4(198, 51, 100, x)
#define EXT1	IP4(203, 0, 113, 1)
#define EXT2	IP4(203, 0, 113, 2)
#define IN1	IN(15)
#define IN2	IN(16)
#define SRV	IN(80)
#define R1	RMT(1)
#define R2	RMT(2)
#define ROUTER	RMT(254)
#define UDP	IPPROTO_NUM_UDP
#define TCP	IPPROTO_NUM_TCP
#define ICMP	IPPROTO_NUM_ICMP

#define SEC(s)	 ((uint64_t)(s) * NSEC_PER_SEC)
#define BUF_CAP	 1600
#define GC_LOOPS 100000

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};
static const uint8_t hello[] = "hello, world";

/* An endpoint: address in network order, port (or ICMP id) in host order. */
struct ep {
	uint32_t addr;
	uint16_t port;
};

/* One NAT under test and the last frame it processed. */
struct tc {
	struct nat *nat;
	uint64_t now;		/* ns */
	unsigned int statics;	/* static forwards: mappings that stay */
	uint8_t buf[BUF_CAP];	/* rewritten in place when forwarded */
	size_t len;
	struct pkt_meta m;	/* re-parse of a forwarded frame */
	uint32_t flow;		/* nat_pkt.flow of the last frame */
};

static void cfg_default(struct nat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ext_addrs[0] = EXT1;
	cfg->ext_addrs[1] = EXT2;
	cfg->n_ext_addrs = 1;
	cfg->max_flows = 1024;
	cfg->seed = 42;
	cfg->key = &test_key;
}

static void tc_init(struct tc *c, const struct nat_config *cfg)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(nat_create(&c->nat, cfg), 0);
	c->now = SEC(1000);
}

static void tc_init_mode(struct tc *c, enum nat_filtering mode, unsigned int n_ext)
{
	struct nat_config cfg;

	cfg_default(&cfg);
	cfg.filtering = mode;
	cfg.n_ext_addrs = n_ext;
	tc_init(c, &cfg);
}

static void check_verify(const struct tc *c)
{
	char why[256] = "";

	if (nat_verify(c->nat, why, sizeof(why)) != 0)
		fail_msg("nat_verify: %s", why);
}

static const struct nat_stats *stats(const struct tc *c)
{
	return nat_get_stats(c->nat);
}

static struct ct_table *ct(const struct tc *c)
{
	return nat_ct(c->nat);
}

/* Move time on and run the collector until nothing elapsed is left. */
static void advance(struct tc *c, uint64_t ns)
{
	c->now += ns;
	for (unsigned int i = 0; i < GC_LOOPS && nat_tick_pending(c->nat, c->now); i++)
		nat_tick(c->nat, c->now, 1u << 16);
	assert_false(nat_tick_pending(c->nat, c->now));
}

/* The end of every test: invariants hold, everything expires, all is free. */
static void tc_done(struct tc *c)
{
	check_verify(c);
	advance(c, SEC(CT_TO_MAX) + SEC(1));
	assert_int_equal(ct_count(ct(c)), 0);
	assert_int_equal(ct_in_use(ct(c)), 0);
	assert_int_equal(stats(c)->mappings, c->statics);
	check_verify(c);
	nat_destroy(c->nat);
	c->nat = NULL;
}

/* ---- frames ---- */

static struct pkt_spec spec(uint8_t proto, uint32_t src, uint16_t sport,
			    uint32_t dst, uint16_t dport)
{
	struct pkt_spec s = { .src4 = src, .dst4 = dst, .proto = proto,
			      .sport = sport, .dport = dport };

	s.payload = hello;
	s.payload_len = proto == TCP ? 0 : sizeof(hello);
	return s;
}

static struct pkt_spec udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	return spec(UDP, src, sport, dst, dport);
}

static struct pkt_spec tcp(uint32_t src, uint16_t sport, uint32_t dst,
			   uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pkt_spec s = spec(TCP, src, sport, dst, dport);

	s.tcp_flags = flags;
	s.seq = seq;
	s.ack = ack;
	return s;
}

static struct pkt_spec icmp(uint32_t src, uint32_t dst, uint8_t type, uint16_t id)
{
	struct pkt_spec s = spec(ICMP, src, 0, dst, 0);

	s.icmp_type = type;
	s.icmp_id = id;
	s.icmp_seq = 1;
	return s;
}

/* An ICMP error quoting @qlen bytes of the IPv4 packet @q. */
static struct pkt_spec icmp_err(uint32_t src, uint32_t dst, uint8_t type,
				uint8_t code, const uint8_t *q, size_t qlen)
{
	struct pkt_spec s = icmp(src, dst, type, 0);

	s.icmp_code = code;
	s.icmp_seq = 0;
	s.payload = q;
	s.payload_len = qlen;
	return s;
}

/* @s as a first fragment (MF, id @id) with @len bytes of payload. */
static struct pkt_spec first_frag(struct pkt_spec s, uint16_t id, size_t len)
{
	static const uint8_t head[16] = "first fragment!";

	s.ip_id = id;
	s.ip4_frag = IP4_FLAG_MF;
	s.payload = head;
	s.payload_len = len;
	return s;
}

/* A non-first fragment at byte @off carrying @data. */
static struct pkt_spec frag(uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
			    uint16_t off, const uint8_t *data, size_t len)
{
	struct pkt_spec s = spec(proto, src, 0, dst, 0);

	s.l4_raw = true;
	s.ip_id = id;
	s.ip4_frag = (uint16_t)(off / 8);
	s.payload = data;
	s.payload_len = len;
	return s;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The header length of the IPv4 header at @ip, from its IHL. */
static size_t ip_hlen(const uint8_t *ip)
{
	return (size_t)(ip[0] & 0xfu) * 4;
}

/* The TCP/UDP checksum of the segment at @l4 is right for @saddr/@daddr. */
static bool l4_csum_ok(const uint8_t *l4, size_t len, uint32_t saddr,
		       uint32_t daddr, uint8_t proto)
{
	uint32_t sum = csum_pseudo_ip4(saddr, daddr, proto, (uint16_t)len);

	return csum_finish(csum_partial(l4, len, sum)) == 0;
}

/*
 * Every checksum of a forwarded frame: IPv4 header, TCP/UDP over the
 * pseudo-header (a UDP 0 means none), ICMP over the whole message and, for
 * an error, the quoted IPv4 header. Non-first fragments have no L4 header;
 * CHECKSUM_PARTIAL frames are checked by their test.
 */
static void check_csums(const uint8_t *f, const struct pkt_meta *m, bool partial)
{
	const uint8_t *ip = f + m->l3_off, *l4 = f + m->l4_off;
	const uint8_t *q = f + m->inner.l3_off;

	assert_int_equal(csum_ip4_header(ip, ip_hlen(ip)), 0);
	if (!(m->flags & PKT_F_L4) || partial)
		return;
	if (m->l4_proto == ICMP) {
		assert_int_equal(csum_finish(csum_partial(l4, m->l4_len, 0)), 0);
		if (m->flags & PKT_F_ICMP_ERROR)
			assert_int_equal(csum_ip4_header(q, ip_hlen(q)), 0);
	} else if (m->l4_proto == TCP ||
		   ld16(l4 + offsetof(struct udp_hdr, check)) != 0) {
		assert_true(l4_csum_ok(l4, m->l4_len, ld32(ip + 12), ld32(ip + 16),
				       m->l4_proto));
	}
}

/*
 * Process the frame in c->buf from @from and check the verdict and, for a
 * drop, the reason and its counter, and that the frame is untouched.
 * Forwarded frames are re-parsed into c->m and all checksums checked.
 */
static void send_raw(struct tc *c, enum nat_side from, uint32_t flags,
		     uint8_t want, uint8_t why, int line)
{
	uint64_t drops = stats(c)->drops[why];
	struct nat_pkt p = { .frame = c->buf, .flags = flags };
	uint8_t copy[BUF_CAP];
	unsigned int passed;

	assert_int_equal(pkt_parse(c->buf, c->len, 0, &p.meta), PKT_DROP_OK);
	memcpy(copy, c->buf, c->len);
	passed = nat_process(c->nat, &p, 1, from, c->now);
	c->flow = p.flow;
	if (p.verdict != want || (want == NAT_V_DROP && p.reason != why))
		fail_msg("line %d: verdict %u (%s), want %u (%s)", line, p.verdict,
			 nat_drop_name((enum nat_drop)p.reason), want,
			 nat_drop_name((enum nat_drop)why));
	assert_int_equal(passed, want != NAT_V_DROP);
	if (want == NAT_V_DROP || want == NAT_V_LOCAL) {
		assert_memory_equal(copy, c->buf, c->len);
		if (want == NAT_V_DROP)
			assert_int_equal(stats(c)->drops[why], drops + 1);
		return;
	}
	assert_int_equal(pkt_parse(c->buf, c->len, 0, &c->m), PKT_DROP_OK);
	check_csums(c->buf, &c->m, flags & NAT_PKT_CSUM_PARTIAL);
}

static void send_check(struct tc *c, struct pkt_spec s, enum nat_side from,
		       uint8_t want, uint8_t why, int line)
{
	int n = pkt_build(&s, c->buf, sizeof(c->buf));

	assert_true(n > 0);
	c->len = (size_t)n;
	send_raw(c, from, 0, want, why, line);
}

/*
 * SEND(c, spec, INSIDE, TO_OUTSIDE); DROP(c, spec, OUTSIDE, FILTERED);
 * XLATE(c, spec, OUTSIDE, TO_INSIDE, sa, sp, da, dp) also checks where the
 * packet went (CHECK_OUT below).
 */
#define SEND(c, s, from, v) \
	send_check((c), (s), NAT_##from, NAT_V_##v, NAT_DROP_NONE, __LINE__)
#define DROP(c, s, from, why) \
	send_check((c), (s), NAT_##from, NAT_V_DROP, NAT_DROP_##why, __LINE__)

static struct ep out_src(const struct tc *c)
{
	struct ep e = { pkt_ip4_saddr(c->buf, &c->m), ntohs(c->m.sport) };

	return e;
}

static struct ep out_dst(const struct tc *c)
{
	struct ep e = { pkt_ip4_daddr(c->buf, &c->m), ntohs(c->m.dport) };

	return e;
}

/* The last forwarded packet went from @sa:@sp to @da:@dp. */
#define CHECK_OUT(c, sa, sp, da, dp) check_out((c), (sa), (sp), (da), (dp), __LINE__)
#define XLATE(c, s, from, v, sa, sp, da, dp) \
	do {                                  \
		SEND(c, s, from, v);          \
		CHECK_OUT(c, sa, sp, da, dp); \
	} while (0)

static void check_out(const struct tc *c, uint32_t sa, uint16_t sp, uint32_t da,
		      uint16_t dp, int line)
{
	struct ep s = out_src(c), d = out_dst(c);

	if (s.addr != sa || s.port != sp || d.addr != da || d.port != dp)
		fail_msg("line %d: %08x:%u -> %08x:%u, want %08x:%u -> %08x:%u", line,
			 ntohl(s.addr), s.port, ntohl(d.addr), d.port, ntohl(sa), sp,
			 ntohl(da), dp);
}

/* A UDP flow from inside; returns its external endpoint. */
#define OPEN(c, src, sp, dst, dp) open_udp((c), (src), (sp), (dst), (dp), __LINE__)

static struct ep open_udp(struct tc *c, uint32_t src, uint16_t sport,
			  uint32_t dst, uint16_t dport, int line)
{
	send_check(c, udp(src, sport, dst, dport), NAT_INSIDE, NAT_V_TO_OUTSIDE,
		   NAT_DROP_NONE, line);
	assert_int_equal(out_dst(c).addr, dst);
	assert_int_equal(out_dst(c).port, dport);
	return out_src(c);
}

/* A reply from @r:@rp to external endpoint @e reaches @in:@ip. */
#define REPLY(c, r, rp, e, in, ip) reply_udp((c), (r), (rp), (e), (in), (ip), __LINE__)

static void reply_udp(struct tc *c, uint32_t r, uint16_t rp, struct ep e,
		      uint32_t in, uint16_t ip, int line)
{
	send_check(c, udp(r, rp, e.addr, e.port), NAT_OUTSIDE, NAT_V_TO_INSIDE,
		   NAT_DROP_NONE, line);
	check_out(c, r, rp, in, ip, line);
}

static struct ct_entry *find_flow(const struct tc *c, uint32_t saddr, uint16_t sport,
				  uint32_t daddr, uint16_t dport, uint8_t proto)
{
	struct ct_tuple t = { .saddr = saddr, .daddr = daddr, .proto = proto };
	enum ct_dir d;

	t.sport = htons(sport);
	t.dport = htons(dport);
	return ct_find(ct(c), &t, &d);
}

/* A TCP connection in:iport <-> r:rport through the NAT. */
struct conn {
	uint32_t in;
	uint16_t iport;
	uint32_t r;
	uint16_t rport;
	struct ep ext;		/* its external endpoint */
	uint32_t iseq, rseq;	/* next sequence number of each side */
};

static uint8_t conn_state(const struct tc *c, const struct conn *k)
{
	const struct ct_entry *e = find_flow(c, k->in, k->iport, k->r, k->rport, TCP);

	assert_non_null(e);
	return e->tcp.state;
}

/* SYN, SYN-ACK, ACK: the connection is ESTABLISHED. */
static void tcp_establish(struct tc *c, struct conn *k)
{
	k->iseq = 1000;
	k->rseq = 5000;
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_SYN, k->iseq++, 0),
	     INSIDE, TO_OUTSIDE);
	k->ext = out_src(c);
	XLATE(c, tcp(k->r, k->rport, k->ext.addr, k->ext.port,
	      TCP_SYN | TCP_ACK, k->rseq++, k->iseq), OUTSIDE, TO_INSIDE, k->r,
	      k->rport, k->in, k->iport);
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_ACK, k->iseq, k->rseq),
	     INSIDE, TO_OUTSIDE);
	CHECK_OUT(c, k->ext.addr, k->ext.port, k->r, k->rport);
	assert_int_equal(conn_state(c, k), CT_TCP_ESTABLISHED);
}

/* The first inside host (10.0.2.2 on) paired with external address @idx. */
static uint32_t host_for_ext(unsigned int idx, unsigned int n_ext)
{
	for (unsigned int i = 2; i < 255; i++) {
		if (nat_ext_index(IN(i), n_ext) == idx)
			return IN(i);
	}
	fail_msg("no host for external address %u", idx);
	return 0;
}

/* ---- RFC 4787 ---- */

static void rfc4787_eim(void **state __maybe_unused)
{
	struct ep e1, e2, e3, e4;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e1 = OPEN(&c, IN1, 5000, R1, 53);
	e2 = OPEN(&c, IN1, 5000, R2, 80);
	e3 = OPEN(&c, IN1, 5000, R1, 123);
	assert_int_equal(e1.addr, e2.addr);
	assert_int_equal(e1.port, e2.port);
	assert_int_equal(e1.port, e3.port);
	e4 = OPEN(&c, IN1, 5001, R1, 53);	/* another endpoint, another mapping */
	assert_int_not_equal(e4.port, e1.port);
	REPLY(&c, R2, 80, e1, IN1, 5000);
	REPLY(&c, R1, 123, e1, IN1, 5000);
	assert_int_equal(stats(&c)->mappings, 2);
	assert_int_equal(stats(&c)->flows_out, 4);
	tc_done(&c);
}

static void rfc4787_paired_pooling(void **state __maybe_unused)
{
	bool seen[2] = { false, false };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 2);
	for (unsigned int h = 0; h < 16; h++) {
		uint32_t host = IN(20 + h);
		unsigned int idx = nat_ext_index(host, 2);
		uint32_t want = idx ? EXT2 : EXT1;

		seen[idx] = true;
		for (uint16_t j = 0; j < 3; j++) {
			struct ep e = OPEN(&c, host, 4000 + j, RMT(1 + j), 53);

			assert_int_equal(e.addr, want);
			SEND(&c, tcp(host, 4000 + j, RMT(1 + j), 80, TCP_SYN, 1, 0),
			     INSIDE, TO_OUTSIDE);
			assert_int_equal(out_src(&c).addr, want);
			SEND(&c, icmp(host, RMT(1 + j), ICMP_ECHO, 77 + j), INSIDE,
			     TO_OUTSIDE);
			assert_int_equal(out_src(&c).addr, want);
		}
	}
	assert_true(seen[0] && seen[1]);	/* both addresses were in play */
	tc_done(&c);
}

static void rfc4787_port_preservation(void **state __maybe_unused)
{
	static const uint16_t kept[] = { 50000, 50001, 49152, 65535 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(kept); i++) {
		struct ep e = OPEN(&c, IN1, kept[i], R1, 53);

		assert_int_equal(e.addr, EXT1);
		assert_int_equal(e.port, kept[i]);
	}
	/* Ports are per protocol: 50000 is still free for TCP and ICMP. */
	SEND(&c, tcp(IN2, 50000, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	assert_int_equal(out_src(&c).port, 50000);
	SEND(&c, icmp(IN2, R1, ICMP_ECHO, 50000), INSIDE, TO_OUTSIDE);
	assert_int_equal(out_src(&c).port, 50000);
	/* Outside the range it cannot be kept. */
	assert_true(OPEN(&c, IN1, 40000, R1, 53).port >= NAT_DEFAULT_PORT_MIN);
	tc_done(&c);
}

static void rfc4787_no_port_overloading(void **state __maybe_unused)
{
	struct ep e[40];
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++) {
		e[i] = OPEN(&c, IN(10 + i), 6000, R1, 53);
		for (unsigned int j = 0; j < i; j++)
			assert_int_not_equal(e[i].port, e[j].port);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++)
		REPLY(&c, R1, 53, e[i], IN(10 + i), 6000);
	/* A preserved port is not handed to a second host. */
	assert_int_equal(OPEN(&c, IN1, 50000, R1, 53).port, 50000);
	e[0] = OPEN(&c, IN2, 50000, R1, 53);
	assert_int_not_equal(e[0].port, 50000);
	assert_int_equal(e[0].port % 2, 0);
	check_verify(&c);	/* each taken port belongs to exactly one mapping */
	tc_done(&c);
}

static void rfc4787_udp_timeout_min(void **state __maybe_unused)
{
	struct nat_config cfg;
	struct nat *n = NULL;
	struct ep a, b;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	a = OPEN(&c, IN1, 5000, R1, 53);
	b = OPEN(&c, IN2, 5001, R2, 53);
	advance(&c, SEC(119));
	REPLY(&c, R1, 53, a, IN1, 5000);	/* 119 s idle: still mapped */
	assert_int_equal(ct_count(ct(&c)), 2);
	advance(&c, SEC(1));	/* 120 s unreplied: gone with its mapping */
	DROP(&c, udp(R2, 53, b.addr, b.port), OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 1);
	advance(&c, SEC(298));	/* replied: 300 s from the last packet */
	REPLY(&c, R1, 53, a, IN1, 5000);
	advance(&c, SEC(300));
	DROP(&c, udp(R1, 53, a.addr, a.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);

	/* REQ-5: nothing below 120 s without the test-only switch. */
	cfg_default(&cfg);
	ct_timeouts_default(&cfg.timeouts);
	cfg.timeouts.sec[CT_TO_UDP_UNREPLIED] = 60;
	assert_int_equal(nat_create(&n, &cfg), -EINVAL);
	assert_null(n);
	cfg.allow_short_udp = true;
	assert_int_equal(nat_create(&n, &cfg), 0);
	nat_destroy(n);
}

static void rfc4787_outbound_refresh(void **state __maybe_unused)
{
	struct ep a, ctl;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	a = OPEN(&c, IN1, 5000, R1, 53);
	ctl = OPEN(&c, IN2, 5000, R1, 53);	/* the control: never refreshed */
	for (unsigned int i = 1; i <= 10; i++) {
		struct ep e;

		advance(&c, SEC(100));
		e = OPEN(&c, IN1, 5000, R1, 53);
		assert_int_equal(e.addr, a.addr);
		assert_int_equal(e.port, a.port);
		if (i == 2)
			DROP(&c, udp(R1, 53, ctl.addr, ctl.port), OUTSIDE, UNSOLICITED);
	}
	advance(&c, SEC(119));	/* 1119 s old, 119 s idle */
	REPLY(&c, R1, 53, a, IN1, 5000);
	tc_done(&c);
}

static void rfc4787_filtering_modes(void **state __maybe_unused)
{
	static const struct {
		enum nat_filtering mode;
		bool other_port;	/* same remote address, another port */
		bool other_addr;	/* an address the host never sent to */
		bool sent_addr;		/* an address it sent to, another port */
	} modes[] = {
		{ NAT_FILTER_EIF, true, true, true },
		{ NAT_FILTER_ADF, true, false, true },
		{ NAT_FILTER_APDF, false, false, false },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(modes); i++) {
		uint64_t filtered = 0;
		struct tc c;
		struct ep e;

		tc_init_mode(&c, modes[i].mode, 1);
		e = OPEN(&c, IN1, 5000, R1, 53);
		REPLY(&c, R1, 53, e, IN1, 5000);
		if (modes[i].other_port)
			REPLY(&c, R1, 9999, e, IN1, 5000);
		else
			DROP(&c, udp(R1, 9999, e.addr, e.port), OUTSIDE, FILTERED);
		if (modes[i].other_addr)
			REPLY(&c, R2, 53, e, IN1, 5000);
		else
			DROP(&c, udp(R2, 53, e.addr, e.port), OUTSIDE, FILTERED);
		OPEN(&c, IN1, 5000, R2, 7);
		if (modes[i].sent_addr)
			REPLY(&c, R2, 53, e, IN1, 5000);
		else
			DROP(&c, udp(R2, 53, e.addr, e.port), OUTSIDE, FILTERED);
		filtered = !modes[i].other_port + !modes[i].other_addr +
			   !modes[i].sent_addr;
		assert_int_equal(stats(&c)->drops[NAT_DROP_FILTERED], filtered);
		/* No mapping at all is another reason. */
		DROP(&c, udp(R1, 53, EXT1, e.port ^ 1), OUTSIDE, UNSOLICITED);
		tc_done(&c);
	}
}

static void rfc4787_hairpin(void **state __maybe_unused)
{
	struct nat_forward fwd = { .proto = UDP, .ext_addr = EXT1, .ext_port = 8053,
				   .int_port = 53 };
	uint32_t a = host_for_ext(0, 2), b = host_for_ext(1, 2);
	struct ep ea, eb, e;
	struct tc c;

	/* EIF; A and B are paired with different external addresses. */
	tc_init_mode(&c, NAT_FILTER_EIF, 2);
	ea = OPEN(&c, a, 5000, R1, 53);
	eb = OPEN(&c, b, 6000, R2, 53);
	assert_int_not_equal(ea.addr, eb.addr);
	XLATE(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, TO_INSIDE, eb.addr,
	      eb.port, a, 5000);
	XLATE(&c, udp(a, 5000, eb.addr, eb.port), INSIDE, TO_INSIDE, ea.addr,
	      ea.port, b, 6000);
	XLATE(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, TO_INSIDE, eb.addr,
	      eb.port, a, 5000);
	assert_int_equal(stats(&c)->hairpin, 1);
	/* A source without a mapping gets the one it will use outside. */
	SEND(&c, udp(b, 6001, ea.addr, ea.port), INSIDE, TO_INSIDE);
	e = out_src(&c);
	assert_int_equal(e.addr, eb.addr);
	assert_int_equal(OPEN(&c, b, 6001, R1, 53).port, e.port);
	SEND(&c, icmp(b, ea.addr, ICMP_ECHO, 9), INSIDE, LOCAL);
	tc_done(&c);

	/* APDF: a dynamic mapping cannot be hairpinned to; nothing is left. */
	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	ea = OPEN(&c, a, 5000, R1, 53);
	DROP(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, FILTERED);
	assert_int_equal(stats(&c)->mappings, 1);
	assert_int_equal(ct_in_use(ct(&c)), 1);
	check_verify(&c);
	/* ... but a static forward can. */
	fwd.int_addr = a;
	assert_int_equal(nat_add_forward(c.nat, &fwd), 0);
	c.statics = 1;
	eb = OPEN(&c, b, 6000, R2, 53);
	XLATE(&c, udp(b, 6000, EXT1, 8053), INSIDE, TO_INSIDE, eb.addr, eb.port,
	      a, 53);
	XLATE(&c, udp(a, 53, eb.addr, eb.port), INSIDE, TO_INSIDE, EXT1, 8053,
	      b, 6000);
	tc_done(&c);
}

/*
 * RFC 4787 REQ-9 with the sender's own mapping (a STUN client's hairpin
 * check): the packet comes back to its sender from its own external
 * endpoint, whatever the filtering; one flow, its own reply. TCP to one's
 * own mapping is refused by name.
 */
static void rfc4787_hairpin_self(void **state __maybe_unused)
{
	static const enum nat_filtering modes[] = { NAT_FILTER_APDF,
						    NAT_FILTER_ADF,
						    NAT_FILTER_EIF };
	struct conn k = { .in = IN2, .iport = 7000, .r = R2, .rport = 80 };
	struct tc c;

	for (unsigned int i = 0; i < ARRAY_SIZE(modes); i++) {
		const struct ct_entry *f;
		struct ep e, et;

		tc_init_mode(&c, modes[i], 1);
		e = OPEN(&c, IN1, 5000, R1, 3478);
		XLATE(&c, udp(IN1, 5000, e.addr, e.port), INSIDE, TO_INSIDE, e.addr,
		      e.port, IN1, 5000);
		assert_int_equal(stats(&c)->hairpin, 1);
		f = find_flow(&c, IN1, 5000, e.addr, e.port, UDP);
		assert_non_null(f);
		assert_true(ct_entry_is_self(f));
		assert_true(f->flags & CT_F_HAIRPIN);
		/* Again: the same flow carries it, nothing new is made. */
		XLATE(&c, udp(IN1, 5000, e.addr, e.port), INSIDE, TO_INSIDE, e.addr,
		      e.port, IN1, 5000);
		assert_int_equal(stats(&c)->hairpin, 1);
		assert_int_equal(ct_count(ct(&c)), 2);
		assert_int_equal(stats(&c)->mappings, 1);
		/* The mapping still works outside. */
		REPLY(&c, R1, 3478, e, IN1, 5000);
		check_verify(&c);

		/* A TCP connection with itself cannot be tracked: refused,
		 * nothing made. */
		tcp_establish(&c, &k);
		et = k.ext;
		DROP(&c, tcp(IN2, 7000, et.addr, et.port, TCP_SYN, 1, 0), INSIDE,
		     HAIRPIN_SELF_TCP);
		assert_int_equal(ct_count(ct(&c)), 3);
		assert_int_equal(stats(&c)->hairpin, 1);
		tc_done(&c);
	}
}

/* ---- RFC 5382 ---- */

static void rfc5382_simultaneous_open(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, tcp(IN1, 5000, R1, 80, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE);
	k.ext = out_src(&c);
	XLATE(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_SYN, 5000, 0),
	      OUTSIDE, TO_INSIDE, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_SENT2);
	XLATE(&c, tcp(IN1, 5000, R1, 80, TCP_SYN | TCP_ACK, 1000, 5001), INSIDE,
	      TO_OUTSIDE, k.ext.addr, k.ext.port, R1, 80);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_RECV);
	SEND(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_SYN | TCP_ACK, 5000, 1001),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_ESTABLISHED);
	assert_int_equal(find_flow(&c, IN1, 5000, R1, 80, TCP)->tclass,
			 CT_TO_TCP_ESTABLISHED);
	SEND(&c, tcp(IN1, 5000, R1, 80, TCP_ACK, 1001, 5001), INSIDE, TO_OUTSIDE);
	tc_done(&c);
}

static void rfc5382_established_timeout(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	tcp_establish(&c, &k);
	advance(&c, SEC(7439));
	SEND(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_ACK, k.rseq, k.iseq),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	c.now += SEC(7441);	/* no collector: the lookup must see the deadline */
	assert_int_equal(ct_count(ct(&c)), 1);
	DROP(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_ACK, k.rseq, k.iseq),
	     OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 0);
	tc_done(&c);
}

static void rfc5382_unsolicited_syn_hold(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 50000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* Silently: a DROP verdict, nothing to send, the frame untouched. */
	DROP(&c, tcp(R1, 80, EXT1, 50000, TCP_SYN, 5000, 0), OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 0);
	advance(&c, SEC(3));
	XLATE(&c, tcp(IN1, 50000, R1, 80, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE,
	      EXT1, 50000, R1, 80);
	advance(&c, SEC(2));
	/* The peer's retransmitted SYN now makes a simultaneous open. */
	XLATE(&c, tcp(R1, 80, EXT1, 50000, TCP_SYN, 5000, 0), OUTSIDE,
	      TO_INSIDE, R1, 80, IN1, 50000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_SENT2);
	tc_done(&c);
}

/* ---- RFC 5508 ---- */

/* Copy the IP packet of the last forwarded frame: what the remote got. */
static size_t save_ip(const struct tc *c, uint8_t *dst, size_t cap)
{
	assert_true(c->m.l3_len <= cap);
	memcpy(dst, c->buf + c->m.l3_off, c->m.l3_len);
	return c->m.l3_len;
}

/* The quote of the last forwarded ICMP error is @sa:@sp -> @da:@dp. */
static const uint8_t *check_quote(const struct tc *c, uint32_t sa, uint16_t sp,
				  uint32_t da, uint16_t dp)
{
	const uint8_t *q = c->buf + c->m.inner.l3_off;
	const uint8_t *l4 = c->buf + c->m.inner.l4_off;

	assert_true(c->m.flags & PKT_F_ICMP_ERROR);
	assert_int_equal(ld32(q + 12), sa);
	assert_int_equal(ld32(q + 16), da);
	if (c->m.inner.proto == ICMP) {
		assert_int_equal(ntohs(ld16(l4 + 4)), sp);	/* echo id */
	} else {
		assert_int_equal(ntohs(ld16(l4)), sp);
		assert_int_equal(ntohs(ld16(l4 + 2)), dp);
	}
	return l4;
}

/* ---- what an uplink learns: nat_pkt.flow, nat_config.on_flow_gone ---- */

struct gone_log {
	unsigned int n;
	uint32_t flow[8];
	bool last[8];
	uint16_t ext_port[8];	/* the mapping's external port, host order */
};

static void log_gone(void *ctx, uint32_t flow, const struct ct_entry *e,
		     bool mapping_gone)
{
	struct gone_log *g = ctx;

	assert_true(g->n < 8);
	g->flow[g->n] = flow;
	g->last[g->n] = mapping_gone;
	g->ext_port[g->n] = ntohs(e->tuple[CT_DIR_REPLY].dport);
	g->n++;
}

static void flow_index_and_gone_hook(void **state __maybe_unused)
{
	struct gone_log g = { 0 };
	struct nat_config cfg;
	uint32_t f1, f2, fe;
	struct ep e1, e2;
	uint8_t q[256];
	struct tc c;
	size_t n;

	cfg_default(&cfg);
	cfg.on_flow_gone = log_gone;
	cfg.flow_gone_ctx = &g;
	tc_init(&c, &cfg);
	e1 = OPEN(&c, IN1, 5000, R1, 53);
	f1 = c.flow;
	assert_ptr_equal(ct_entry_at(ct(&c), f1),
			 find_flow(&c, IN1, 5000, R1, 53, UDP));
	n = save_ip(&c, q, sizeof(q));
	e2 = OPEN(&c, IN1, 5000, R2, 53);	/* same mapping, another flow */
	f2 = c.flow;
	assert_int_not_equal(f1, f2);
	assert_int_equal(e1.port, e2.port);
	REPLY(&c, R1, 53, e1, IN1, 5000);
	assert_int_equal(c.flow, f1);
	OPEN(&c, IN1, 5000, R1, 53);
	assert_int_equal(c.flow, f1);
	/* Dropped before a flow: none reported. */
	DROP(&c, udp(R2, 99, e1.addr, e1.port), OUTSIDE, FILTERED);
	assert_int_equal(c.flow, CT_NONE);
	/* An ICMP error is reported with the flow it quotes. */
	SEND(&c, icmp_err(ROUTER, e1.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	     OUTSIDE, TO_INSIDE);
	assert_int_equal(c.flow, f1);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 7), INSIDE, TO_OUTSIDE);
	fe = c.flow;
	assert_true(fe != CT_NONE && fe != f1 && fe != f2);
	assert_int_equal(g.n, 0);

	/* The echo flow (60 s) and the unreplied f2 (120 s) go first; f2's
	 * mapping stays with f1 (replied: 300 s), which takes it along. */
	advance(&c, SEC(130));
	assert_int_equal(g.n, 2);
	for (unsigned int i = 0; i < 2; i++) {
		assert_true(g.flow[i] == fe || g.flow[i] == f2);
		assert_int_equal(g.last[i], g.flow[i] == fe);
	}
	advance(&c, SEC(200));
	assert_int_equal(g.n, 3);
	assert_int_equal(g.flow[2], f1);
	assert_true(g.last[2]);
	assert_int_equal(g.ext_port[2], e1.port);
	tc_done(&c);
}

static void rfc5508_error_translation(void **state __maybe_unused)
{
	const uint8_t *l4;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* UDP, the whole datagram quoted, from the remote itself. */
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	SEND(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 5000, R1, 53);
	assert_int_not_equal(ld16(l4 + offsetof(struct udp_hdr, check)), 0);
	assert_true(l4_csum_ok(l4, ntohs(ld16(l4 + 4)), IN1, R1, UDP));

	/* From a router on the way: its address stays. */
	XLATE(&c, icmp_err(ROUTER, e.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	      OUTSIDE, TO_INSIDE, ROUTER, 0, IN1, 0);
	check_quote(&c, IN1, 5000, R1, 53);

	/* TCP with only 8 bytes quoted: ports and sequence number. */
	SEND(&c, tcp(IN1, 5001, R1, 80, TCP_SYN, 0x11223344, 0), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_true(save_ip(&c, q, sizeof(q)) > IP4_HLEN_MIN + 8);
	XLATE(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, q,
	      IP4_HLEN_MIN + 8), OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	assert_int_equal(c.m.inner.l4_avail, 8);
	l4 = check_quote(&c, IN1, 5001, R1, 80);
	assert_int_equal(ntohl(ld32(l4 + 4)), 0x11223344);

	/* About an echo request: the internal id, the echo checksum right. */
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 0x1234), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(ROUTER, e.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	      OUTSIDE, TO_INSIDE, ROUTER, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 0x1234, R1, 0);
	assert_int_equal(csum_finish(csum_partial(l4, c.m.inner.l4_avail, 0)), 0);
	assert_int_equal(stats(&c)->icmp_errors, 4);

	/* About a datagram no flow ever sent. */
	n = (size_t)pkt_build(&(struct pkt_spec){ .no_eth = true, .src4 = EXT1,
			      .dst4 = R2, .proto = UDP, .sport = 4444, .dport = 53 },
			      q, sizeof(q));
	DROP(&c, icmp_err(R2, EXT1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_NO_FLOW);
	tc_done(&c);
}

/*
 * docs/nat.md section 7: an error must be addressed to the flow's endpoint
 * (else anyone outside could reach any inside host by quoting a live flow),
 * and an error leaving to the outside never carries an inside address.
 */
static void rfc5508_error_addresses(void **state __maybe_unused)
{
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	/* From outside, quoting IN1's flow but sent to another inside host. */
	DROP(&c, icmp_err(R1, IN2, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_ADDR);

	/* From an inside router, about the reply it was forwarding to IN1. */
	REPLY(&c, R1, 53, e, IN1, 5000);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(IN(254), R1, ICMP_TIME_EXCEEDED, 0, q, n),
	      INSIDE, TO_OUTSIDE, EXT1, 0, R1, 0);
	check_quote(&c, R1, 53, e.addr, e.port);
	/* The same error addressed to someone else is not ours to send. */
	DROP(&c, icmp_err(IN(254), R2, ICMP_TIME_EXCEEDED, 0, q, n),
	     INSIDE, ICMP_ERR_ADDR);
	tc_done(&c);
}

static void rfc5508_error_does_not_refresh(void **state __maybe_unused)
{
	const struct ct_entry *f;
	struct nat_config cfg;
	uint64_t deadline;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	cfg_default(&cfg);
	ct_timeouts_default(&cfg.timeouts);
	cfg.timeouts.sec[CT_TO_UDP_UNREPLIED] = 10;
	cfg.timeouts.sec[CT_TO_UDP_ASSURED] = 10;
	cfg.allow_short_udp = true;
	tc_init(&c, &cfg);
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	f = find_flow(&c, IN1, 5000, R1, 53, UDP);
	assert_non_null(f);
	deadline = f->deadline;
	assert_true(deadline == c.now + SEC(10));
	for (unsigned int i = 0; i < 4; i++) {
		advance(&c, SEC(2));
		SEND(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
		     OUTSIDE, TO_INSIDE);
		assert_true(f->deadline == deadline);
	}
	advance(&c, SEC(2));	/* 10 s after the only packet */
	DROP(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_NO_FLOW);
	DROP(&c, udp(R1, 53, e.addr, e.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);
}

static void rfc5508_icmp_query_timeout(void **state __maybe_unused)
{
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 7), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	advance(&c, SEC(59));
	XLATE(&c, icmp(R1, e.addr, ICMP_ECHOREPLY, e.port), OUTSIDE, TO_INSIDE,
	      R1, 7, IN1, 0);
	advance(&c, SEC(61));
	DROP(&c, icmp(R1, e.addr, ICMP_ECHOREPLY, e.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);
}

/* ---- port choice, table limits ---- */

static void port_parity_and_range(void **state __maybe_unused)
{
	static const struct {
		uint16_t sport, lo, hi;	/* where its new port must be */
	} cases[] = {
		{ 1050, 1024, 1099 }, { 1001, 1000, 1023 }, { 80, 1000, 1023 },
		{ 53, 1000, 1023 },   { 5000, 1024, 1099 }, { 5001, 1024, 1099 },
	};
	struct nat_config cfg;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	cfg.port_min = 1000;
	cfg.port_max = 1099;
	tc_init(&c, &cfg);
	/* Take 1050 and 1001 (kept), so that later hosts must search. */
	assert_int_equal(OPEN(&c, IN(2), 1050, R1, 53).port, 1050);
	assert_int_equal(OPEN(&c, IN(2), 1001, R1, 53).port, 1001);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		for (unsigned int h = 0; h < 4; h++) {
			e = OPEN(&c, IN(10 + h), cases[i].sport, R1, 53);
			if (e.port % 2 != cases[i].sport % 2 || e.port < cases[i].lo ||
			    e.port > cases[i].hi || e.port == cases[i].sport)
				fail_msg("port %u got %u, want [%u, %u] same parity",
					 cases[i].sport, e.port, cases[i].lo,
					 cases[i].hi);
		}
	}
	tc_done(&c);

	/* No port below 1024 in the range: the whole range, same parity. */
	cfg.port_min = 2000;
	cfg.port_max = 2099;
	tc_init(&c, &cfg);
	e = OPEN(&c, IN1, 80, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2099 && e.port % 2 == 0);
	e = OPEN(&c, IN1, 53, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2099 && e.port % 2 == 1);
	tc_done(&c);
}

static void port_exhaustion(void **state __maybe_unused)
{
	struct nat_config cfg;
	unsigned int seen = 0;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	cfg.port_min = 2000;
	cfg.port_max = 2007;
	tc_init(&c, &cfg);
	for (uint16_t i = 0; i < 8; i++) {
		e = OPEN(&c, IN1, 6000 + i, R1, 53);
		assert_true(e.port >= 2000 && e.port <= 2007 && e.port % 2 == i % 2);
		seen |= 1u << (e.port - 2000);
	}
	assert_int_equal(seen, 0xff);
	DROP(&c, udp(IN1, 6008, R1, 53), INSIDE, PORT_EXHAUSTED);
	DROP(&c, udp(IN2, 6009, R1, 53), INSIDE, PORT_EXHAUSTED);
	/* Nothing leaked: no entry, no mapping, no flow dropped for room. */
	assert_int_equal(ct_in_use(ct(&c)), 8);
	assert_int_equal(ct_count(ct(&c)), 8);
	assert_int_equal(stats(&c)->mappings, 8);
	assert_int_equal(ct_get_stats(ct(&c))->early_drops, 0);
	check_verify(&c);
	/* Existing mappings still work; TCP has its own ports. */
	OPEN(&c, IN1, 6000, R2, 53);
	SEND(&c, tcp(IN1, 6008, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	/* Once the flows have expired the ports are free again. */
	advance(&c, SEC(241));
	assert_int_equal(stats(&c)->mappings, 0);
	e = OPEN(&c, IN1, 6008, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2007);
	tc_done(&c);
}

/* All the same parity (Linux connect() picks even ports): once that parity
 * is full, the other one is used rather than refusing the flow; the search
 * is exhaustive, not limited to the random probes. */
static void port_parity_full_falls_back(void **state __maybe_unused)
{
	struct nat_config cfg;
	struct tc c;

	cfg_default(&cfg);
	cfg.port_min = 3000;
	cfg.port_max = 3299;	/* 150 even ports: more than NAT_PORT_PROBES */
	tc_init(&c, &cfg);
	for (uint16_t i = 0; i < 300; i++) {
		struct ep e = OPEN(&c, IN1, (uint16_t)(6000 + 2 * i), R1, 53);
		assert_true(e.port >= 3000 && e.port <= 3299);
		assert_int_equal(e.port % 2, i < 150 ? 0 : 1);
	}
	DROP(&c, udp(IN1, 7000, R1, 53), INSIDE, PORT_EXHAUSTED);
	assert_int_equal(stats(&c)->mappings, 300);
	check_verify(&c);
	tc_done(&c);
}

/* Close @k from inside: FIN, ACK, FIN, ACK; the NAT sees TIME_WAIT. */
static void tcp_close(struct tc *c, struct conn *k)
{
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_FIN | TCP_ACK,
		    k->iseq++, k->rseq), INSIDE, TO_OUTSIDE);
	SEND(c, tcp(k->r, k->rport, k->ext.addr, k->ext.port, TCP_ACK,
		    k->rseq, k->iseq), OUTSIDE, TO_INSIDE);
	SEND(c, tcp(k->r, k->rport, k->ext.addr, k->ext.port, TCP_FIN | TCP_ACK,
		    k->rseq++, k->iseq), OUTSIDE, TO_INSIDE);
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_ACK, k->iseq,
		    k->rseq), INSIDE, TO_OUTSIDE);
	assert_int_equal(conn_state(c, k), CT_TCP_TIME_WAIT);
}

/* Short connections keep their mappings through TIME_WAIT (120 s): with
 * the ports all held by closed connections, a new one takes the port of
 * the connection that closed longest ago; an open one is never touched. */
static void closed_connections_give_ports_back(void **state __maybe_unused)
{
	struct conn k[4] = {
		{ .in = IN1, .iport = 7000, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7002, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7004, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7006, .r = R1, .rport = 80 },
	};
	struct conn n = { .in = IN1, .iport = 7008, .r = R1, .rport = 80 };
	struct nat_config cfg;
	struct tc c;

	cfg_default(&cfg);
	cfg.port_min = 2000;
	cfg.port_max = 2003;
	tc_init(&c, &cfg);
	for (unsigned int i = 0; i < 4; i++)
		tcp_establish(&c, &k[i]);
	/* All four ports open: nothing can be reclaimed. */
	DROP(&c, tcp(IN1, 7008, R1, 80, TCP_SYN, 1, 0), INSIDE, PORT_EXHAUSTED);
	tcp_close(&c, &k[2]);
	tcp_close(&c, &k[0]);
	tcp_establish(&c, &n);
	assert_int_equal(n.ext.port, k[2].ext.port);	/* closed first */
	assert_null(find_flow(&c, IN1, 7004, R1, 80, TCP));
	assert_non_null(find_flow(&c, IN1, 7000, R1, 80, TCP));
	assert_int_equal(ct_get_stats(ct(&c))->reclaimed, 1);
	/* A reopened connection (SYN in TIME_WAIT) is no longer closing. */
	k[0].iseq += 100000;
	SEND(&c, tcp(IN1, 7000, R1, 80, TCP_SYN, k[0].iseq++, 0), INSIDE,
	     TO_OUTSIDE);
	DROP(&c, tcp(IN1, 7010, R1, 80, TCP_SYN, 1, 0), INSIDE, PORT_EXHAUSTED);
	assert_int_equal(ct_get_stats(ct(&c))->reclaimed, 1);
	check_verify(&c);
	tc_done(&c);
}

/* An echo reply translated back to id 0, seq 0, without data: every word
 * of it is zero and its checksum must be 0xffff, which an incremental
 * update alone gets wrong (found by fuzz_nat). send_check() verifies the
 * checksum of what comes out. */
static void echo_all_zero_checksum(void **state __maybe_unused)
{
	struct pkt_spec s;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s = icmp(IN1, R1, ICMP_ECHO, 0);
	s.icmp_seq = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 0);	/* the id was translated */
	s = icmp(R1, e.addr, ICMP_ECHOREPLY, e.port);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	assert_int_equal(ld16(c.buf + c.m.l4_off + 2), 0xffff);
	tc_done(&c);
}

/* The same inside an ICMP error: the quoted echo reply translated back to
 * id 0, seq 0, no data needs 0xffff too (found by fuzz_nat). */
static void echo_all_zero_checksum_quoted(void **state __maybe_unused)
{
	const uint8_t *l4;
	struct pkt_spec s;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s = icmp(IN1, R1, ICMP_ECHO, 0);
	s.icmp_seq = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	s = icmp(R1, e.addr, ICMP_ECHO, e.port);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	s = icmp(IN1, R1, ICMP_ECHOREPLY, 0);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	      OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 0, R1, 0);
	assert_int_equal(c.m.inner.l4_avail, 8);
	assert_int_equal(ld16(l4 + 2), 0xffff);
	assert_int_equal(csum_finish(csum_partial(l4, 8, 0)), 0);
	tc_done(&c);
}

/* ---- redirects: DNS over TCP to the gateway goes to the upstream server ---- */

#define GW	IN(1)
#define UP	R2

static void add_dns_redirect(struct tc *c)
{
	const struct nat_redirect rd = { .proto = TCP, .addr = GW, .port = 53,
					 .to_addr = UP, .to_port = 53 };

	assert_int_equal(nat_add_redirect(c->nat, &rd), 0);
	assert_true(nat_redirects(c->nat, TCP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, UDP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, TCP, GW, htons(54)));
	assert_false(nat_redirects(c->nat, TCP, UP, htons(53)));
}

/*
 * SYN, SYN-ACK, ACK of IN1:@port -> GW:53, redirected to UP:53. Returns
 * the connection's external endpoint; *@iseq and *@rseq are the next
 * sequence numbers of the guest and of the server.
 */
static struct ep redirect_open(struct tc *c, uint16_t port, uint32_t *iseq,
			       uint32_t *rseq)
{
	uint64_t flows = ct_count(ct(c)), redirects = stats(c)->redirects;
	struct ep e;

	*iseq = 1000;
	*rseq = 5000;
	SEND(c, tcp(IN1, port, GW, 53, TCP_SYN, (*iseq)++, 0), INSIDE, TO_OUTSIDE);
	e = out_src(c);
	CHECK_OUT(c, EXT1, e.port, UP, 53);	/* DNAT and SNAT at once */
	assert_int_equal(ct_count(ct(c)), flows + 1);	/* one flow */
	assert_int_equal(stats(c)->redirects, redirects + 1);
	/* Replies get the gateway's address and port back. */
	XLATE(c, tcp(UP, 53, e.addr, e.port, TCP_SYN | TCP_ACK, (*rseq)++, *iseq),
	      OUTSIDE, TO_INSIDE, GW, 53, IN1, port);
	XLATE(c, tcp(IN1, port, GW, 53, TCP_ACK, *iseq, *rseq), INSIDE,
	      TO_OUTSIDE, EXT1, e.port, UP, 53);
	XLATE(c, tcp(UP, 53, e.addr, e.port, TCP_ACK, *rseq, *iseq), OUTSIDE,
	      TO_INSIDE, GW, 53, IN1, port);
	assert_int_equal(ct_count(ct(c)), flows + 1);
	return e;
}

static uint8_t redirect_state(const struct tc *c, uint16_t port)
{
	const struct ct_entry *e = find_flow(c, IN1, port, GW, 53, TCP);

	assert_non_null(e);
	return e->tcp.state;
}

/* One flow holds the redirection; its reply tuple maps back to the
 * gateway; it is tracked like any TCP connection; nothing else is
 * redirected (other ports, UDP, other destinations). */
static void redirect_one_flow(void **state __maybe_unused)
{
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	assert_int_equal(redirect_state(&c, 40000), CT_TCP_ESTABLISHED);
	assert_non_null(find_flow(&c, UP, 53, EXT1, e.port, TCP));
	/* The same source port keeps its mapping (endpoint independent). */
	XLATE(&c, tcp(IN1, 40000, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE,
	      EXT1, e.port, R1, 80);
	/* Not redirected: UDP to the gateway, TCP to another port of it. */
	SEND(&c, udp(IN1, 40002, GW, 53), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, GW, 53);
	SEND(&c, tcp(IN1, 40004, GW, 54, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, GW, 54);
	/* A guest's own connection to the server is its own flow. */
	SEND(&c, tcp(IN2, 40000, UP, 53, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, UP, 53);
	assert_int_not_equal(out_src(&c).port, e.port);
	assert_int_equal(stats(&c)->redirects, 1);
	assert_int_equal(stats(&c)->flows_out, 5);
	check_verify(&c);
	tc_done(&c);
}

/* The redirection ends with the connection: FIN both ways, TIME_WAIT for
 * its timeout, then no flow and no mapping; a late segment is not
 * redirected any more (not a SYN). An RST closes it the same way. */
static void redirect_ends_with_tcp(void **state __maybe_unused)
{
	struct nat_config cfg;
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	tc_init(&c, &cfg);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	SEND(&c, tcp(IN1, 40000, GW, 53, TCP_FIN | TCP_ACK, iseq++, rseq),
	     INSIDE, TO_OUTSIDE);
	XLATE(&c, tcp(UP, 53, e.addr, e.port, TCP_FIN | TCP_ACK, rseq++, iseq),
	      OUTSIDE, TO_INSIDE, GW, 53, IN1, 40000);
	SEND(&c, tcp(IN1, 40000, GW, 53, TCP_ACK, iseq, rseq), INSIDE, TO_OUTSIDE);
	assert_int_equal(redirect_state(&c, 40000), CT_TCP_TIME_WAIT);
	advance(&c, SEC(CT_TO_DEFAULT_TCP_TIME_WAIT) - SEC(1));
	assert_int_equal(ct_count(ct(&c)), 1);
	advance(&c, SEC(2));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 0);
	DROP(&c, tcp(IN1, 40000, GW, 53, TCP_ACK, iseq, rseq), INSIDE, TCP_NOT_SYN);
	DROP(&c, tcp(UP, 53, e.addr, e.port, TCP_ACK, rseq, iseq), OUTSIDE,
	     UNSOLICITED);

	e = redirect_open(&c, 40002, &iseq, &rseq);
	XLATE(&c, tcp(UP, 53, e.addr, e.port, TCP_RST, rseq, 0), OUTSIDE,
	      TO_INSIDE, GW, 53, IN1, 40002);
	assert_int_equal(redirect_state(&c, 40002), CT_TCP_CLOSE);
	advance(&c, SEC(CT_TO_DEFAULT_TCP_CLOSE) + SEC(1));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->redirects, 2);
	tc_done(&c);
}

/* Packets from outside never match a redirect: without a flow, the server
 * and the rule's address are strangers like any other; with one, only the
 * server's endpoint gets through (APDF), and with ADF the permission is
 * for the server the flow really reaches, not for the gateway address. */
static void redirect_not_from_outside(void **state __maybe_unused)
{
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	add_dns_redirect(&c);
	DROP(&c, tcp(UP, 53, EXT1, 53, TCP_SYN, 1, 0), OUTSIDE, UNSOLICITED);
	DROP(&c, tcp(UP, 53, EXT1, 40000, TCP_SYN | TCP_ACK, 1, 1), OUTSIDE,
	     UNSOLICITED);
	DROP(&c, tcp(R1, 1234, GW, 53, TCP_SYN, 1, 0), OUTSIDE, NOT_OURS);
	assert_int_equal(ct_count(ct(&c)), 0);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	DROP(&c, tcp(UP, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	DROP(&c, tcp(R1, 53, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	assert_int_equal(ct_count(ct(&c)), 1);
	tc_done(&c);

	tc_init_mode(&c, NAT_FILTER_ADF, 1);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	XLATE(&c, tcp(UP, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, TO_INSIDE,
	      UP, 54, IN1, 40000);
	DROP(&c, tcp(GW, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	check_verify(&c);
	tc_done(&c);
}

static void redirect_rejects_bad_rules(void **state __maybe_unused)
{
	const struct nat_redirect bad[] = {
		{ .proto = ICMP, .addr = GW, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = 0, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = GW, .port = 53, .to_addr = 0, .to_port = 53 },
		{ .proto = TCP, .addr = EXT1, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = GW, .port = 53, .to_addr = EXT1, .to_port = 53 },
	};
	struct nat_redirect rd = { .proto = UDP, .addr = GW, .port = 1,
				   .to_addr = UP, .to_port = 53 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(nat_add_redirect(c.nat, &bad[i]), -EINVAL);
	add_dns_redirect(&c);
	rd.proto = TCP;
	rd.port = 53;
	rd.to_addr = R1;
	assert_int_equal(nat_add_redirect(c.nat, &rd), -EADDRINUSE);
	/* A wildcard is a rule of its own: one per address and protocol. */
	rd.port = 0;
	rd.to_port = 0;
	assert_int_equal(nat_add_redirect(c.nat, &rd), 0);
	assert_int_equal(nat_add_redirect(c.nat, &rd), -EADDRINUSE);
	rd.proto = UDP;
	rd.to_port = 53;
	for (unsigned int i = 2; i < NAT_MAX_REDIRECTS; i++) {
		rd.port = (uint16_t)i;
		assert_int_equal(nat_add_redirect(c.nat, &rd), 0);
	}
	rd.port = NAT_MAX_REDIRECTS;
	assert_int_equal(nat_add_redirect(c.nat, &rd), -ENOSPC);
	tc_done(&c);
}

/* ---- the socket uplink's loopback image (uplink/sock_defs.h) ---- */

#define SOCK_EXT	IP4(198, 18, 0, 1)
#define LO1		IP4(198, 19, 0, 1)

/* Every TCP and UDP port of the gateway to the same port of LO1, which
 * the wildcard TCP rule takes after the exact DNS one, in that order on
 * purpose: the exact rule must win whatever the order. */
static void add_lo_redirects(struct tc *c)
{
	const struct nat_redirect any_tcp = { .proto = TCP, .addr = GW,
					      .to_addr = LO1 };
	const struct nat_redirect any_udp = { .proto = UDP, .addr = GW,
					      .to_addr = LO1 };

	const struct nat_redirect dns = { .proto = TCP, .addr = GW, .port = 53,
					  .to_addr = UP, .to_port = 53 };

	assert_int_equal(nat_add_redirect(c->nat, &any_tcp), 0);
	assert_int_equal(nat_add_redirect(c->nat, &any_udp), 0);
	assert_int_equal(nat_add_redirect(c->nat, &dns), 0);
	assert_true(nat_redirects(c->nat, TCP, GW, htons(8080)));
	assert_true(nat_redirects(c->nat, UDP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, TCP, IN2, htons(8080)));
	assert_false(nat_redirects(c->nat, ICMP, GW, 0));
}

/*
 * A wildcard redirect: a new flow to any port of the gateway goes to that
 * port of LO1, replies come back from the gateway's port, and an ICMP
 * error about the flow reaches the guest about its own packet to the
 * gateway. The exact rule for TCP port 53 is not overridden.
 */
static void redirect_wildcard(void **state __maybe_unused)
{
	struct nat_config cfg;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	cfg_default(&cfg);
	cfg.ext_addrs[0] = SOCK_EXT;
	tc_init(&c, &cfg);
	add_lo_redirects(&c);
	SEND(&c, tcp(IN1, 40000, GW, 8080, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	CHECK_OUT(&c, SOCK_EXT, e.port, LO1, 8080);
	XLATE(&c, tcp(LO1, 8080, e.addr, e.port, TCP_SYN | TCP_ACK, 5000, 1001),
	      OUTSIDE, TO_INSIDE, GW, 8080, IN1, 40000);
	XLATE(&c, tcp(IN1, 40000, GW, 8080, TCP_ACK, 1001, 5001), INSIDE,
	      TO_OUTSIDE, SOCK_EXT, e.port, LO1, 8080);
	/* Not from LO1's other ports, nor from the gateway's address. */
	DROP(&c, tcp(LO1, 8081, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);

	/* DNS over TCP still goes upstream (the exact rule). */
	SEND(&c, tcp(IN1, 40002, GW, 53, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, SOCK_EXT, out_src(&c).port, UP, 53);

	/* UDP, and the host's port unreachable about it: to the guest from
	 * the gateway, quoting the guest's own datagram to the gateway. */
	SEND(&c, udp(IN1, 5000, GW, 9999), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	CHECK_OUT(&c, SOCK_EXT, e.port, LO1, 9999);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(LO1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			   q, n), OUTSIDE, TO_INSIDE, GW, 0, IN1, 0);
	check_quote(&c, IN1, 5000, GW, 9999);
	/* The DNS server's port of the gateway is redirected like any other
	 * here (the gateway's services take it before the NAT sees it). */
	SEND(&c, udp(IN1, 5002, GW, 53), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, SOCK_EXT, out_src(&c).port, LO1, 53);
	assert_int_equal(stats(&c)->redirects, 4);
	tc_done(&c);
}

/*
 * The inbound alias: a forward's client on the host's loopback (LO1)
 * reaches the guest from the gateway's address, the guest's replies to
 * the gateway go back to the client, and nat_has_flow() tells those
 * replies from other packets to the gateway. Other clients keep their
 * address; an ICMP error from the guest about the flow is translated.
 */
/* nat_config.flow_stats: each flow's packets and IP bytes per direction
 * and its creation time, at its index; none kept without it. */
static void flow_stats_counted(void **state __maybe_unused)
{
	struct nat_config cfg;
	const struct ct_flow_stats *fs;
	const struct ct_entry *e;
	struct pkt_meta m;
	uint64_t t0;
	struct ep e1;
	struct tc c;
	uint32_t idx;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	assert_null(ct_flow_stats(nat_ct(c.nat)));
	nat_destroy(c.nat);

	cfg_default(&cfg);
	cfg.flow_stats = true;
	tc_init(&c, &cfg);
	t0 = c.now;
	e1 = OPEN(&c, IN(2), 5000, R1, 53);
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	c.now += SEC(3);
	REPLY(&c, R1, 53, e1, IN(2), 5000);
	REPLY(&c, R1, 53, e1, IN(2), 5000);
	e = find_flow(&c, IN(2), 5000, R1, 53, UDP);
	assert_non_null(e);
	idx = ct_index(nat_ct(c.nat), e);
	fs = ct_flow_stats(nat_ct(c.nat));
	assert_non_null(fs);
	assert_int_equal(fs[idx].created, t0);
	assert_int_equal(fs[idx].packets[CT_DIR_ORIG], 1);
	assert_int_equal(fs[idx].packets[CT_DIR_REPLY], 2);
	assert_int_equal(fs[idx].bytes[CT_DIR_ORIG], m.l3_len);
	assert_int_equal(fs[idx].bytes[CT_DIR_REPLY], 2 * m.l3_len);
	nat_destroy(c.nat);
}

static void inbound_alias(void **state __maybe_unused)
{
	const struct nat_forward fwd_tcp = { TCP, 0, 8080, IN(2), 80 };
	const struct nat_forward fwd_udp = { UDP, 0, 8053, IN(2), 53 };
	struct nat_config cfg;
	struct pkt_meta m;
	uint8_t q[256];
	struct tc c;
	size_t n;

	cfg_default(&cfg);
	cfg.ext_addrs[0] = SOCK_EXT;
	cfg.inbound_alias = (struct nat_alias){ IP4(198, 19, 0, 0),
						IP4(255, 255, 0, 0), GW };
	tc_init(&c, &cfg);
	assert_int_equal(nat_add_forward(c.nat, &fwd_tcp), 0);
	assert_int_equal(nat_add_forward(c.nat, &fwd_udp), 0);
	c.statics = 2;
	add_lo_redirects(&c);

	XLATE(&c, tcp(LO1, 40000, SOCK_EXT, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, GW, 40000, IN(2), 80);
	/* The guest's SYN-ACK to the gateway belongs to the flow. */
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2),
				  .dst4 = GW, .proto = TCP, .sport = 80,
				  .dport = 40000, .tcp_flags = TCP_SYN | TCP_ACK,
				  .seq = 700, .ack = 101 }, c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_true(nat_has_flow(c.nat, c.buf, &m, c.now));
	XLATE(&c, tcp(IN(2), 80, GW, 40000, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, SOCK_EXT, 8080, LO1, 40000);
	SEND(&c, tcp(LO1, 40000, SOCK_EXT, 8080, TCP_ACK, 101, 701), OUTSIDE,
	     TO_INSIDE);
	assert_int_equal(find_flow(&c, LO1, 40000, SOCK_EXT, 8080, TCP)->tcp.state,
			 CT_TCP_ESTABLISHED);
	/* Another port of the gateway: no flow (a new one is a redirect). */
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2),
				  .dst4 = GW, .proto = TCP, .sport = 80,
				  .dport = 40001, .tcp_flags = TCP_ACK },
				  c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_false(nat_has_flow(c.nat, c.buf, &m, c.now));

	/* A client elsewhere keeps its address. */
	XLATE(&c, tcp(R1, 40000, SOCK_EXT, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40000, IN(2), 80);

	/* UDP, and the guest's port unreachable about the datagram it got. */
	XLATE(&c, udp(IP4(198, 19, 0, 53), 41000, SOCK_EXT, 8053), OUTSIDE,
	      TO_INSIDE, GW, 41000, IN(2), 53);
	n = save_ip(&c, q, sizeof(q));
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2), .dst4 = GW,
				  .proto = ICMP, .icmp_type = ICMP_DEST_UNREACH,
				  .icmp_code = ICMP_PORT_UNREACH, .payload = q,
				  .payload_len = n }, c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_true(nat_has_flow(c.nat, c.buf, &m, c.now));
	XLATE(&c, icmp_err(IN(2), GW, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	      INSIDE, TO_OUTSIDE, SOCK_EXT, 0, IP4(198, 19, 0, 53), 0);
	check_quote(&c, IP4(198, 19, 0, 53), 41000, SOCK_EXT, 8053);
	assert_int_equal(stats(&c)->flows_in, 3);
	tc_done(&c);

	/* The alias's subnet must be one. */
	cfg.inbound_alias.mask = IP4(255, 0, 255, 0);
	assert_int_equal(nat_create(&c.nat, &cfg), -EINVAL);
	cfg.inbound_alias.mask = IP4(255, 255, 255, 0);
	cfg.inbound_alias.addr = IP4(198, 19, 0, 1);
	assert_int_equal(nat_create(&c.nat, &cfg), -EINVAL);
}

static void table_full_early_drop(void **state __maybe_unused)
{
	const struct ct_stats *cs;
	struct nat_config cfg;
	struct ep a[7];
	struct tc c;

	cfg_default(&cfg);
	cfg.max_flows = 4;
	tc_init(&c, &cfg);
	cs = ct_get_stats(ct(&c));
	for (uint16_t i = 0; i < 4; i++) {
		a[i] = OPEN(&c, IN1, 7000 + i, R1, 53);
		advance(&c, SEC(1));
	}
	/* Full of unreplied flows: the oldest goes ... */
	a[4] = OPEN(&c, IN1, 7004, R1, 53);
	assert_int_equal(cs->early_drops, 1);
	DROP(&c, udp(R1, 53, a[0].addr, a[0].port), OUTSIDE, UNSOLICITED);
	/* ... then the next oldest, not the young one in the freed entry ... */
	a[5] = OPEN(&c, IN1, 7005, R1, 53);
	assert_int_equal(cs->early_drops, 2);
	DROP(&c, udp(R1, 53, a[1].addr, a[1].port), OUTSIDE, UNSOLICITED);
	/* ... and never one that has seen a reply. */
	REPLY(&c, R1, 53, a[2], IN1, 7002);
	a[6] = OPEN(&c, IN1, 7006, R1, 53);
	assert_int_equal(cs->early_drops, 3);
	DROP(&c, udp(R1, 53, a[3].addr, a[3].port), OUTSIDE, UNSOLICITED);
	for (uint16_t i = 4; i < 7; i++)
		REPLY(&c, R1, 53, a[i], IN1, 7000 + i);
	REPLY(&c, R1, 53, a[2], IN1, 7002);
	/* All replied: the new flow is refused. */
	DROP(&c, udp(IN1, 7007, R1, 53), INSIDE, TABLE_FULL);
	assert_int_equal(cs->table_full, 1);
	assert_int_equal(cs->early_drops, 3);
	assert_int_equal(ct_in_use(ct(&c)), 4);
	assert_int_equal(stats(&c)->mappings, 4);
	tc_done(&c);

	/*
	 * Inbound (EIF) to a mapping held only by the flow that the entry
	 * for the new one early-drops: the new flow keeps the mapping (the
	 * NAT holds it across ct_alloc(), docs/nat.md section 6).
	 */
	cfg.max_flows = 1;
	cfg.filtering = NAT_FILTER_EIF;
	tc_init(&c, &cfg);
	a[0] = OPEN(&c, IN1, 5000, R1, 53);
	REPLY(&c, R2, 53, a[0], IN1, 5000);
	assert_int_equal(ct_get_stats(ct(&c))->early_drops, 1);
	assert_int_equal(stats(&c)->mappings, 1);
	REPLY(&c, R2, 53, a[0], IN1, 5000);
	tc_done(&c);
}

/* ---- TCP, fragments, checksums ---- */

static void rst_out_of_window(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	tcp_establish(&c, &k);
	DROP(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_RST, k.rseq + 0x10000000u, 0),
	     OUTSIDE, TCP_RST_WINDOW);
	DROP(&c, tcp(IN1, 5000, R1, 80, TCP_RST, k.iseq - 0x200000u, 0), INSIDE,
	     TCP_RST_WINDOW);
	assert_int_equal(conn_state(&c, &k), CT_TCP_ESTABLISHED);
	XLATE(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_RST, k.rseq, 0),
	      OUTSIDE, TO_INSIDE, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_CLOSE);
	tc_done(&c);
}

/* The last forwarded frame is a later fragment still carrying @data. */
static void check_frag_data(const struct tc *c, const uint8_t *data, size_t len)
{
	assert_true(c->m.flags & PKT_F_FRAG_LATER);
	assert_int_equal(c->m.l4_len, len);
	assert_memory_equal(c->buf + c->m.l4_off, data, len);
}

static void non_first_fragment(void **state __maybe_unused)
{
	/* Bytes that read as ports 5000 -> 53, 5002 -> 80 (TCP, SYN). */
	static const uint8_t as_udp[16] = { 0x13, 0x88, 0x00, 0x35, 0, 16, 0xab, 0xcd };
	static const uint8_t as_tcp[20] = { 0x13, 0x8a, 0x00, 0x50, 0, 0, 0, 1,
					    0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff };
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, first_frag(udp(IN1, 5000, R1, 53), 0x4242, 16), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 5000);
	XLATE(&c, frag(IN1, R1, UDP, 0x4242, 24, as_udp, sizeof(as_udp)),
	      INSIDE, TO_OUTSIDE, e.addr, 0, R1, 0);
	check_frag_data(&c, as_udp, sizeof(as_udp));
	DROP(&c, frag(IN1, R1, UDP, 0x4242, 24, as_udp, sizeof(as_udp)), OUTSIDE,
	     WRONG_SIDE);
	DROP(&c, frag(IN1, R1, UDP, 0x9999, 24, as_udp, sizeof(as_udp)), INSIDE,
	     FRAG_NO_FLOW);

	/* Inbound: a fragmented reply. */
	XLATE(&c, first_frag(udp(R1, 53, e.addr, e.port), 0x5151, 16), OUTSIDE,
	      TO_INSIDE, R1, 53, IN1, 5000);
	XLATE(&c, frag(R1, e.addr, UDP, 0x5151, 24, as_udp, sizeof(as_udp)),
	      OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	check_frag_data(&c, as_udp, sizeof(as_udp));

	/* A fragmented TCP SYN; the later data reads as a TCP header. */
	SEND(&c, first_frag(tcp(IN1, 5002, R1, 80, TCP_SYN, 1, 0), 0x6000, 4), INSIDE,
	     TO_OUTSIDE);
	e = out_src(&c);
	XLATE(&c, frag(IN1, R1, TCP, 0x6000, 24, as_tcp, sizeof(as_tcp)),
	      INSIDE, TO_OUTSIDE, e.addr, 0, R1, 0);
	check_frag_data(&c, as_tcp, sizeof(as_tcp));
	assert_int_equal(stats(&c)->fragments, 3);
	tc_done(&c);
}

static uint16_t l4_field(const struct tc *c, unsigned int off)
{
	return ld16(c->buf + c->m.l4_off + off);
}

static void udp_zero_checksum(void **state __maybe_unused)
{
	const unsigned int coff = offsetof(struct udp_hdr, check);
	uint8_t pl[8] = { 0, 0, 'z', 'e', 'r', 'o', '!', '!' };
	uint16_t hdr[4], w;
	struct pkt_spec s;
	uint32_t sum;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* 0 means "no checksum" and stays 0, both ways. */
	s = udp(IN1, 5000, R1, 53);
	s.udp_no_csum = true;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_equal(l4_field(&c, coff), 0);
	s = udp(R1, 53, e.addr, e.port);
	s.udp_no_csum = true;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	assert_int_equal(l4_field(&c, coff), 0);

	/*
	 * The first payload word makes the datagram as it leaves (e -> R1:53)
	 * sum to 0xffff: its checksum computes to 0 and must go out as 0xffff.
	 */
	hdr[0] = htons(e.port);
	hdr[1] = htons(53);
	hdr[2] = htons(UDP_HLEN + sizeof(pl));
	hdr[3] = 0;
	sum = csum_pseudo_ip4(e.addr, R1, UDP, UDP_HLEN + sizeof(pl));
	sum = csum_partial(pl, sizeof(pl), csum_partial(hdr, sizeof(hdr), sum));
	w = (uint16_t)~csum_fold(sum);
	memcpy(pl, &w, 2);
	s = udp(IN1, 5000, R1, 53);
	s.payload = pl;
	s.payload_len = sizeof(pl);
	XLATE(&c, s, INSIDE, TO_OUTSIDE, e.addr, e.port, R1, 53);
	assert_int_equal(l4_field(&c, coff), 0xffff);
	tc_done(&c);
}

/* Send @s with its TCP checksum field holding the pseudo-header sum. */
static void send_partial(struct tc *c, struct pkt_spec s, enum nat_side from,
			 uint8_t want)
{
	int n = pkt_build(&s, c->buf, sizeof(c->buf));
	struct pkt_meta m;
	uint16_t ph;

	assert_true(n > 0);
	c->len = (size_t)n;
	assert_int_equal(pkt_parse(c->buf, c->len, 0, &m), PKT_DROP_OK);
	ph = csum_fold(csum_pseudo_ip4(s.src4, s.dst4, s.proto, (uint16_t)m.l4_len));
	memcpy(c->buf + m.l4_off + offsetof(struct tcp_hdr, check), &ph, 2);
	send_raw(c, from, NAT_PKT_CSUM_PARTIAL, want, NAT_DROP_NONE, __LINE__);
}

static void partial_checksum(void **state __maybe_unused)
{
	const unsigned int coff = offsetof(struct tcp_hdr, check);
	uint16_t want;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	send_partial(&c, tcp(IN1, 5000, R1, 80, TCP_SYN, 1, 0), NAT_INSIDE,
		     NAT_V_TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 5000);	/* the port changed too */
	want = csum_fold(csum_pseudo_ip4(e.addr, R1, TCP, (uint16_t)c.m.l4_len));
	assert_int_equal(l4_field(&c, coff), want);
	send_partial(&c, tcp(R1, 80, e.addr, e.port, TCP_SYN | TCP_ACK, 9, 2),
		     NAT_OUTSIDE, NAT_V_TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	want = csum_fold(csum_pseudo_ip4(R1, IN1, TCP, (uint16_t)c.m.l4_len));
	assert_int_equal(l4_field(&c, coff), want);
	tc_done(&c);
}

/* ---- forwards, sides, drops ---- */

static void port_forward(void **state __maybe_unused)
{
	const struct nat_forward fwds[] = {
		{ UDP, EXT1, 8053, SRV, 53 },
		{ TCP, 0, 8080, SRV, 80 },
		{ UDP, EXT1, 50000, SRV, 5000 },	/* inside the dynamic range */
	};
	const struct {
		struct nat_forward f;
		int err;
	} bad[] = {
		{ { UDP, EXT1, 8053, IN1, 53 }, -EADDRINUSE },	/* port taken */
		{ { UDP, EXT1, 8054, SRV, 53 }, -EADDRINUSE },	/* mapped already */
		{ { ICMP, EXT1, 8055, SRV, 55 }, -EINVAL },
		{ { UDP, EXT2, 8056, SRV, 56 }, -EINVAL },	/* not configured */
		{ { UDP, EXT1, 0, SRV, 57 }, -EINVAL },
		{ { UDP, EXT1, 8058, SRV, 0 }, -EINVAL },
	};
	const struct nat_forward tcp8053 = { TCP, EXT1, 8053, SRV, 8053 };
	const struct ct_entry *f;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(fwds); i++)
		assert_int_equal(nat_add_forward(c.nat, &fwds[i]), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(nat_add_forward(c.nat, &bad[i].f), bad[i].err);
	assert_int_equal(nat_add_forward(c.nat, &tcp8053), 0);	/* other protocol */
	c.statics = ARRAY_SIZE(fwds) + 1;
	assert_int_equal(stats(&c)->mappings, c.statics);

	/* The server sees the real client and answers from the forward. */
	XLATE(&c, udp(R1, 40000, EXT1, 8053), OUTSIDE, TO_INSIDE, R1, 40000,
	      SRV, 53);
	XLATE(&c, udp(SRV, 53, R1, 40000), INSIDE, TO_OUTSIDE, EXT1, 8053, R1,
	      40000);
	/* Its own outgoing flows use the forward's port too. */
	XLATE(&c, udp(SRV, 53, R2, 53), INSIDE, TO_OUTSIDE, EXT1, 8053, R2, 53);
	/* TCP through a forward, to ESTABLISHED. */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	SEND(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK, 101, 701), OUTSIDE, TO_INSIDE);
	f = find_flow(&c, R1, 40001, EXT1, 8080, TCP);
	assert_non_null(f);
	assert_int_equal(f->tcp.state, CT_TCP_ESTABLISHED);
	/* A forwarded port inside the dynamic range is never handed out. */
	assert_int_not_equal(OPEN(&c, IN1, 50000, R1, 53).port, 50000);
	tc_done(&c);
}

/*
 * nat_remove_forward(): new connections no longer reach the target, the
 * flows of the forward go on (their mapping demoted, released with the last
 * one: nat_verify() checks every reference), the port stays taken until
 * then, and the same forward added again makes the mapping static again.
 */
static void forward_remove(void **state __maybe_unused)
{
	const struct nat_forward t80 = { TCP, 0, 8080, SRV, 80 };
	const struct nat_forward u53 = { UDP, EXT1, 8053, SRV, 53 };
	const struct nat_forward other = { TCP, 0, 8080, IN1, 80 };
	const struct nat_forward by_port = { TCP, 0, 8080, 0, 0 };
	const struct nat_forward wrong = { TCP, 0, 8080, SRV, 81 };
	const struct nat_forward ext2 = { TCP, EXT2, 8080, 0, 0 };
	const struct nat_forward bad_proto = { ICMP, 0, 8080, 0, 0 };
	struct nat_forward list[4];
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	assert_int_equal(nat_add_forward(c.nat, &t80), 0);
	assert_int_equal(nat_add_forward(c.nat, &u53), 0);
	assert_int_equal(nat_list_forwards(c.nat, list, 4), 2);
	assert_int_equal(nat_list_forwards(c.nat, list, 1), 2);	/* one written */
	assert_int_equal(list[0].ext_addr, EXT1);
	/* Nothing removed on a mismatch. */
	assert_int_equal(nat_remove_forward(c.nat, &wrong), -ENOENT);
	assert_int_equal(nat_remove_forward(c.nat, &ext2), -EINVAL);
	assert_int_equal(nat_remove_forward(c.nat, &bad_proto), -EINVAL);
	assert_int_equal(stats(&c)->mappings, 2);

	/* A connection through the forward, then the forward goes. */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	SEND(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK, 101, 701), OUTSIDE, TO_INSIDE);
	assert_int_equal(nat_remove_forward(c.nat, &by_port), 0);
	assert_int_equal(nat_remove_forward(c.nat, &by_port), -ENOENT);
	assert_int_equal(nat_list_forwards(c.nat, list, 4), 1);
	assert_int_equal(list[0].proto, UDP);
	check_verify(&c);
	/* The established connection goes on, both ways ... */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK | TCP_PSH, 101, 701),
	      OUTSIDE, TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_ACK, 701, 102), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	/* ... a new one is filtered like any dynamic mapping's ... */
	DROP(&c, tcp(R2, 40002, EXT1, 8080, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	/* ... and the port is still taken, by that mapping only. */
	assert_int_equal(nat_add_forward(c.nat, &other), -EADDRINUSE);
	assert_int_equal(stats(&c)->mappings, 2);
	/* The same forward again: static again, open to anyone. */
	assert_int_equal(nat_add_forward(c.nat, &t80), 0);
	XLATE(&c, tcp(R2, 40002, EXT1, 8080, TCP_SYN, 1, 0), OUTSIDE,
	      TO_INSIDE, R2, 40002, SRV, 80);
	assert_int_equal(nat_remove_forward(c.nat, &t80), 0);
	check_verify(&c);
	/* Its flows expire: the mapping and its port go with them. */
	advance(&c, SEC(CT_TO_MAX) + SEC(1));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 1);
	check_verify(&c);
	assert_int_equal(nat_add_forward(c.nat, &other), 0);
	/* Removed with no flow: released at once. */
	assert_int_equal(nat_remove_forward(c.nat, &u53), 0);
	assert_int_equal(stats(&c)->mappings, 1);
	c.statics = 1;
	tc_done(&c);
}

static void wrong_side(void **state __maybe_unused)
{
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e = OPEN(&c, IN1, 5000, R1, 53);
	/* The reply tuple from inside, the original tuple from outside. */
	DROP(&c, udp(R1, 53, e.addr, e.port), INSIDE, WRONG_SIDE);
	DROP(&c, udp(IN1, 5000, R1, 53), OUTSIDE, WRONG_SIDE);
	assert_int_equal(stats(&c)->drops[NAT_DROP_WRONG_SIDE], 2);
	REPLY(&c, R1, 53, e, IN1, 5000);
	tc_done(&c);
}

static void not_ours(void **state __maybe_unused)
{
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_EIF, 1);
	OPEN(&c, IN1, 5000, R1, 53);
	DROP(&c, udp(R1, 53, RMT(99), 5000), OUTSIDE, NOT_OURS);
	DROP(&c, udp(R1, 53, IN1, 5000), OUTSIDE, NOT_OURS);
	DROP(&c, tcp(R1, 80, RMT(98), 80, TCP_SYN, 1, 0), OUTSIDE, NOT_OURS);
	assert_int_equal(ct_count(ct(&c)), 1);
	tc_done(&c);
}

static void not_ipv4(void **state __maybe_unused)
{
	static const uint8_t mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t gre[8] = { 0, 0, 0x08, 0 };
	struct pkt_spec s = udp(0, 5000, 0, 53);
	struct tc c;
	int n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s.ip6 = true;
	memset(s.src6, 0xfd, sizeof(s.src6));
	memset(s.dst6, 0x20, sizeof(s.dst6));
	DROP(&c, s, INSIDE, NOT_IPV4);
	n = pkt_build_arp(c.buf, sizeof(c.buf), ARP_OP_REQUEST, mac, mac, IN1, mac, EXT1);
	assert_true(n > 0);
	c.len = (size_t)n;
	send_raw(&c, NAT_OUTSIDE, 0, NAT_V_DROP, NAT_DROP_NOT_IPV4, __LINE__);
	/* IPv4, but neither TCP, UDP nor ICMP. */
	DROP(&c, frag(IN1, R1, 47, 0, 0, gre, sizeof(gre)), INSIDE, PROTO);
	assert_int_equal(ct_count(ct(&c)), 0);
	tc_done(&c);
}

static void icmp_type(void **state __maybe_unused)
{
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	DROP(&c, icmp(IN1, R1, ICMP_TIMESTAMP, 1), INSIDE, ICMP_TYPE);
	DROP(&c, icmp(IN1, R1, ICMP_ECHOREPLY, 1), INSIDE, ICMP_TYPE);
	DROP(&c, icmp(R1, EXT1, ICMP_TIMESTAMP, 1), OUTSIDE, ICMP_TYPE);
	SEND(&c, icmp(R1, EXT1, ICMP_ECHO, 1), OUTSIDE, LOCAL);
	assert_int_equal(stats(&c)->local, 1);
	assert_int_equal(ct_count(ct(&c)), 0);
	tc_done(&c);
}

static void nat_verify_clean(void **state __maybe_unused)
{
	struct conn k = { .in = IN2, .iport = 4000, .r = R2, .rport = 443 };
	char why[128] = "";
	struct ct_entry *f;
	uint32_t owner;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_ADF, 2);
	check_verify(&c);
	e = OPEN(&c, IN1, 5000, R1, 53);
	REPLY(&c, R1, 99, e, IN1, 5000);
	tcp_establish(&c, &k);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 3), INSIDE, TO_OUTSIDE);
	check_verify(&c);
	/* It does look: a flow that lost its mapping is reported. */
	f = find_flow(&c, IN1, 5000, R1, 53, UDP);
	assert_non_null(f);
	owner = f->owner;
	f->owner = CT_NONE;
	assert_int_equal(nat_verify(c.nat, why, sizeof(why)), -EUCLEAN);
	assert_true(why[0] != '\0');
	f->owner = owner;
	tc_done(&c);
}

static void nat_create_rejects_bad_config(void **state __maybe_unused)
{
	static const struct {
		unsigned int n_ext;
		uint32_t ext0;
		uint16_t port_min, port_max;
		unsigned int filtering;
		int to_class;		/* -1: default timeouts */
		uint32_t to_sec;
		uint32_t max_flows;
	} bad[] = {
		{ 0, 1, 0, 0, 0, -1, 0, 64 },			/* no address */
		{ NAT_MAX_EXT_ADDRS + 1, 1, 0, 0, 0, -1, 0, 64 },
		{ 1, 0, 0, 0, 0, -1, 0, 64 },			/* address 0 */
		{ 1, 1, 2000, 1999, 0, -1, 0, 64 },		/* min > max */
		{ 1, 1, 0, 2000, 0, -1, 0, 64 },		/* min 0, max set */
		{ 1, 1, 0, 0, NAT_FILTER_EIF + 1, -1, 0, 64 },	/* filtering */
		{ 1, 1, 0, 0, 0, CT_TO_ICMP, 0, 64 },		/* timeout 0 */
		{ 1, 1, 0, 0, 0, CT_TO_TCP_ESTABLISHED, CT_TO_MAX + 1, 64 },
		{ 1, 1, 0, 0, 0, CT_TO_UDP_UNREPLIED, 119, 64 },
		{ 1, 1, 0, 0, 0, CT_TO_UDP_ASSURED, 60, 64 },
		{ 1, 1, 0, 0, 0, -1, 0, CT_MAX_FLOWS + 1 },
	};
	struct nat_config cfg;
	struct nat *n;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg_default(&cfg);
		cfg.n_ext_addrs = bad[i].n_ext;
		cfg.ext_addrs[0] = bad[i].ext0 ? EXT1 : 0;
		cfg.port_min = bad[i].port_min;
		cfg.port_max = bad[i].port_max;
		cfg.filtering = (enum nat_filtering)bad[i].filtering;
		cfg.max_flows = bad[i].max_flows;
		if (bad[i].to_class >= 0) {
			ct_timeouts_default(&cfg.timeouts);
			cfg.timeouts.sec[bad[i].to_class] = bad[i].to_sec;
		}
		n = NULL;
		if (nat_create(&n, &cfg) != -EINVAL || n)
			fail_msg("bad config %u accepted", i);
	}
	/* The base is fine, and so is a one-port range. */
	cfg_default(&cfg);
	cfg.port_min = 1000;
	cfg.port_max = 1000;
	assert_int_equal(nat_create(&n, &cfg), 0);
	nat_destroy(n);
	nat_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flow_index_and_gone_hook),
		cmocka_unit_test(rfc4787_eim),
		cmocka_unit_test(rfc4787_paired_pooling),
		cmocka_unit_test(rfc4787_port_preservation),
		cmocka_unit_test(rfc4787_no_port_overloading),
		cmocka_unit_test(rfc4787_udp_timeout_min),
		cmocka_unit_test(rfc4787_outbound_refresh),
		cmocka_unit_test(rfc4787_filtering_modes),
		cmocka_unit_test(rfc4787_hairpin),
		cmocka_unit_test(rfc4787_hairpin_self),
		cmocka_unit_test(rfc5382_simultaneous_open),
		cmocka_unit_test(rfc5382_established_timeout),
		cmocka_unit_test(rfc5382_unsolicited_syn_hold),
		cmocka_unit_test(rfc5508_error_translation),
		cmocka_unit_test(rfc5508_error_addresses),
		cmocka_unit_test(rfc5508_error_does_not_refresh),
		cmocka_unit_test(rfc5508_icmp_query_timeout),
		cmocka_unit_test(port_parity_and_range),
		cmocka_unit_test(port_exhaustion),
		cmocka_unit_test(port_parity_full_falls_back),
		cmocka_unit_test(closed_connections_give_ports_back),
		cmocka_unit_test(echo_all_zero_checksum),
		cmocka_unit_test(echo_all_zero_checksum_quoted),
		cmocka_unit_test(table_full_early_drop),
		cmocka_unit_test(rst_out_of_window),
		cmocka_unit_test(non_first_fragment),
		cmocka_unit_test(udp_zero_checksum),
		cmocka_unit_test(partial_checksum),
		cmocka_unit_test(port_forward),
		cmocka_unit_test(forward_remove),
		cmocka_unit_test(wrong_side),
		cmocka_unit_test(not_ours),
		cmocka_unit_test(not_ipv4),
		cmocka_unit_test(icmp_type),
		cmocka_unit_test(nat_verify_clean),
		cmocka_unit_test(nat_create_rejects_bad_config),
		cmocka_unit_test(redirect_one_flow),
		cmocka_unit_test(redirect_ends_with_tcp),
		cmocka_unit_test(redirect_not_from_outside),
		cmocka_unit_test(redirect_rejects_bad_rules),
		cmocka_unit_test(redirect_wildcard),
		cmocka_unit_test(inbound_alias),
		cmocka_unit_test(flow_stats_counted),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
