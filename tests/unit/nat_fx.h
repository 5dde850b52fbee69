/* SPDX-License-Identifier: MIT */
/*
 * nat_fx.h - what the NAT's unit tests share (test_nat.c, test_nat_fwd.c,
 * test_nat_icmp.c): one NAT under test (struct tc: tc_init() and
 * tc_done(), time moved by advance()), frames made by pkt_build() and sent
 * through nat_process() with their verdict, drop counter and every
 * checksum checked (SEND, DROP, XLATE, CHECK_OUT), UDP flows (OPEN,
 * REPLY), TCP connections (tcp_establish()) and ICMP error quotes
 * (save_ip(), check_quote()). Functions are static: each test program
 * gets its own copy; not inline: as in one file, the compiler inlines what
 * is worth it (an inline SEND everywhere made the three take twice the
 * build time).
 */
#ifndef ARCNAT_TESTS_NAT_FX_H
#define ARCNAT_TESTS_NAT_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

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

static __maybe_unused void cfg_default(struct nat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ext_addrs[0] = EXT1;
	cfg->ext_addrs[1] = EXT2;
	cfg->n_ext_addrs = 1;
	cfg->max_flows = 1024;
	cfg->seed = 42;
	cfg->key = &test_key;
}

static __maybe_unused void tc_init(struct tc *c, const struct nat_config *cfg)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(nat_create(&c->nat, cfg), 0);
	c->now = SEC(1000);
}

static __maybe_unused void tc_init_mode(struct tc *c, enum nat_filtering mode,
					unsigned int n_ext)
{
	struct nat_config cfg;

	cfg_default(&cfg);
	cfg.filtering = mode;
	cfg.n_ext_addrs = n_ext;
	tc_init(c, &cfg);
}

static __maybe_unused void check_verify(const struct tc *c)
{
	char why[256] = "";

	if (nat_verify(c->nat, why, sizeof(why)) != 0)
		fail_msg("nat_verify: %s", why);
}

static __maybe_unused const struct nat_stats *stats(const struct tc *c)
{
	return nat_get_stats(c->nat);
}

static __maybe_unused struct ct_table *ct(const struct tc *c)
{
	return nat_ct(c->nat);
}

/* Move time on and run the collector until nothing elapsed is left. */
static __maybe_unused void advance(struct tc *c, uint64_t ns)
{
	c->now += ns;
	for (unsigned int i = 0; i < GC_LOOPS && nat_tick_pending(c->nat, c->now); i++)
		nat_tick(c->nat, c->now, 1u << 16);
	assert_false(nat_tick_pending(c->nat, c->now));
}

/* The end of every test: invariants hold, everything expires, all is free. */
static __maybe_unused void tc_done(struct tc *c)
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

static __maybe_unused struct pkt_spec
spec(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct pkt_spec s = { .src4 = src, .dst4 = dst, .proto = proto,
			      .sport = sport, .dport = dport };

	s.payload = hello;
	s.payload_len = proto == TCP ? 0 : sizeof(hello);
	return s;
}

static __maybe_unused struct pkt_spec udp(uint32_t src, uint16_t sport,
					  uint32_t dst, uint16_t dport)
{
	return spec(UDP, src, sport, dst, dport);
}

static __maybe_unused struct pkt_spec tcp(uint32_t src, uint16_t sport,
					  uint32_t dst, uint16_t dport,
					  uint8_t flags, uint32_t seq,
					  uint32_t ack)
{
	struct pkt_spec s = spec(TCP, src, sport, dst, dport);

	s.tcp_flags = flags;
	s.seq = seq;
	s.ack = ack;
	return s;
}

static __maybe_unused struct pkt_spec icmp(uint32_t src, uint32_t dst,
					   uint8_t type, uint16_t id)
{
	struct pkt_spec s = spec(ICMP, src, 0, dst, 0);

	s.icmp_type = type;
	s.icmp_id = id;
	s.icmp_seq = 1;
	return s;
}

/* An ICMP error quoting @qlen bytes of the IPv4 packet @q. */
static __maybe_unused struct pkt_spec icmp_err(uint32_t src, uint32_t dst,
					       uint8_t type, uint8_t code,
					       const uint8_t *q, size_t qlen)
{
	struct pkt_spec s = icmp(src, dst, type, 0);

	s.icmp_code = code;
	s.icmp_seq = 0;
	s.payload = q;
	s.payload_len = qlen;
	return s;
}

/* @s as a first fragment (MF, id @id) with @len bytes of payload. */
static __maybe_unused struct pkt_spec first_frag(struct pkt_spec s, uint16_t id,
						 size_t len)
{
	static const uint8_t head[16] = "first fragment!";

	s.ip_id = id;
	s.ip4_frag = IP4_FLAG_MF;
	s.payload = head;
	s.payload_len = len;
	return s;
}

/* A non-first fragment at byte @off carrying @data. */
static __maybe_unused struct pkt_spec frag(uint32_t src, uint32_t dst,
					   uint8_t proto, uint16_t id,
					   uint16_t off, const uint8_t *data,
					   size_t len)
{
	struct pkt_spec s = spec(proto, src, 0, dst, 0);

	s.l4_raw = true;
	s.ip_id = id;
	s.ip4_frag = (uint16_t)(off / 8);
	s.payload = data;
	s.payload_len = len;
	return s;
}

static __maybe_unused uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static __maybe_unused uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The header length of the IPv4 header at @ip, from its IHL. */
static __maybe_unused size_t ip_hlen(const uint8_t *ip)
{
	return (size_t)(ip[0] & 0xfu) * 4;
}

/* The TCP/UDP checksum of the segment at @l4 is right for @saddr/@daddr. */
static __maybe_unused bool l4_csum_ok(const uint8_t *l4, size_t len,
				      uint32_t saddr, uint32_t daddr,
				      uint8_t proto)
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
static __maybe_unused void check_csums(const uint8_t *f,
				       const struct pkt_meta *m, bool partial)
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
static __maybe_unused void send_raw(struct tc *c, enum nat_side from,
				    uint32_t flags, uint8_t want, uint8_t why,
				    int line)
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

static __maybe_unused void send_check(struct tc *c, struct pkt_spec s,
				      enum nat_side from, uint8_t want,
				      uint8_t why, int line)
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

static __maybe_unused struct ep out_src(const struct tc *c)
{
	struct ep e = { pkt_ip4_saddr(c->buf, &c->m), ntohs(c->m.sport) };

	return e;
}

static __maybe_unused struct ep out_dst(const struct tc *c)
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

static __maybe_unused void check_out(const struct tc *c, uint32_t sa,
				     uint16_t sp, uint32_t da, uint16_t dp,
				     int line)
{
	struct ep s = out_src(c), d = out_dst(c);

	if (s.addr != sa || s.port != sp || d.addr != da || d.port != dp)
		fail_msg("line %d: %08x:%u -> %08x:%u, want %08x:%u -> %08x:%u", line,
			 ntohl(s.addr), s.port, ntohl(d.addr), d.port, ntohl(sa), sp,
			 ntohl(da), dp);
}

/* A UDP flow from inside; returns its external endpoint. */
#define OPEN(c, src, sp, dst, dp) open_udp((c), (src), (sp), (dst), (dp), __LINE__)

static __maybe_unused struct ep open_udp(struct tc *c, uint32_t src,
					 uint16_t sport, uint32_t dst,
					 uint16_t dport, int line)
{
	send_check(c, udp(src, sport, dst, dport), NAT_INSIDE, NAT_V_TO_OUTSIDE,
		   NAT_DROP_NONE, line);
	assert_int_equal(out_dst(c).addr, dst);
	assert_int_equal(out_dst(c).port, dport);
	return out_src(c);
}

/* A reply from @r:@rp to external endpoint @e reaches @in:@ip. */
#define REPLY(c, r, rp, e, in, ip) reply_udp((c), (r), (rp), (e), (in), (ip), __LINE__)

static __maybe_unused void reply_udp(struct tc *c, uint32_t r, uint16_t rp,
				     struct ep e, uint32_t in, uint16_t ip,
				     int line)
{
	send_check(c, udp(r, rp, e.addr, e.port), NAT_OUTSIDE, NAT_V_TO_INSIDE,
		   NAT_DROP_NONE, line);
	check_out(c, r, rp, in, ip, line);
}

static __maybe_unused struct ct_entry *find_flow(const struct tc *c,
						 uint32_t saddr, uint16_t sport,
						 uint32_t daddr, uint16_t dport,
						 uint8_t proto)
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

static __maybe_unused uint8_t conn_state(const struct tc *c,
					 const struct conn *k)
{
	const struct ct_entry *e = find_flow(c, k->in, k->iport, k->r, k->rport, TCP);

	assert_non_null(e);
	return e->tcp.state;
}

/* SYN, SYN-ACK, ACK: the connection is ESTABLISHED. */
static __maybe_unused void tcp_establish(struct tc *c, struct conn *k)
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

/* ---- ICMP errors ---- */

/* Copy the IP packet of the last forwarded frame: what the remote got. */
static __maybe_unused size_t save_ip(const struct tc *c, uint8_t *dst,
				     size_t cap)
{
	assert_true(c->m.l3_len <= cap);
	memcpy(dst, c->buf + c->m.l3_off, c->m.l3_len);
	return c->m.l3_len;
}

/* The quote of the last forwarded ICMP error is @sa:@sp -> @da:@dp. */
static __maybe_unused const uint8_t *check_quote(const struct tc *c,
						 uint32_t sa, uint16_t sp,
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

#endif /* ARCNAT_TESTS_NAT_FX_H */
