// SPDX-License-Identifier: MIT
/*
 * test_arp.c - unit tests for src/svc/arp (the ARP endpoint).
 *
 * The endpoint under test is the inside gateway: 10.0.2.1 (and 10.0.2.3 as
 * a second own address) with MAC 02:ab:cd:00:00:01. Frames are built with
 * pkt_build_arp(), parsed with pkt_parse() as the datapath would, and fed
 * to arp_input() with a manual clock. The send() and deliver() callbacks
 * record what the endpoint put out, so each test says exactly which frames
 * and packets it expects. Replies and requests are checked field by field
 * against RFC 826; malformed frames are made by changing bytes of a good
 * one after it was parsed.
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
#include "core/log.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/ip4.h"
#include "svc/arp.h"

#define SEC(s)	((uint64_t)(s) * NSEC_PER_SEC)
#define MS(s)	((uint64_t)(s) * NSEC_PER_MSEC)
#define T0	SEC(1000)
#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define GW	IP(10, 0, 2, 1)
#define GW2	IP(10, 0, 2, 3)
#define GUEST	IP(10, 0, 2, 15)
#define GUEST2	IP(10, 0, 2, 16)
#define MAX_OUT 32

static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t g_mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t g_mac2[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[ETH_ALEN];
static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

/* An endpoint under test, the time, and what it sent and delivered. */
struct ta {
	struct arp *a;
	uint64_t now;
	uint8_t frame[MAX_OUT][ETH_MIN_FRAME];
	size_t frame_len[MAX_OUT];
	unsigned int n_frames;
	uint8_t pkt[MAX_OUT][128];
	size_t pkt_len[MAX_OUT];
	struct pkt_vnet vnet[MAX_OUT];
	uint8_t mac[MAX_OUT][ETH_ALEN];
	unsigned int n_pkts;
};

static void on_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct ta *t = ctx;

	assert_true(t->n_frames < MAX_OUT);
	assert_true(len <= ETH_MIN_FRAME);
	memcpy(t->frame[t->n_frames], frame, len);
	t->frame_len[t->n_frames++] = len;
}

static void on_deliver(void *ctx, uint8_t *pkt, size_t len,
		       const struct pkt_vnet *vnet, const uint8_t mac[ETH_ALEN])
{
	struct ta *t = ctx;

	assert_true(t->n_pkts < MAX_OUT);
	assert_true(len <= sizeof(t->pkt[0]));
	memcpy(t->pkt[t->n_pkts], pkt, len);
	t->pkt_len[t->n_pkts] = len;
	t->vnet[t->n_pkts] = *vnet;
	memcpy(t->mac[t->n_pkts++], mac, ETH_ALEN);
	/* The promised headroom is there and writable (ASan checks). */
	memset(pkt - ARP_HOLD_HEADROOM, 0xee, ARP_HOLD_HEADROOM);
}

static void quiet_sink(void *ctx, enum log_level level, const char *msg)
{
	unsigned int *n = ctx;

	(void)level;
	assert_non_null(strstr(msg, "claims our address 10.0.2.1"));
	(*n)++;
}

static void ta_init_cfg(struct ta *t, uint32_t max_neigh, uint32_t reach)
{
	struct arp_cfg cfg = { .own = { GW, GW2 }, .n_own = 2,
			       .max_neigh = max_neigh, .reachable_sec = reach,
			       .send = on_send, .deliver = on_deliver, .ctx = t,
			       .key = &test_key };

	memset(t, 0, sizeof(*t));
	memcpy(cfg.mac, gw_mac, ETH_ALEN);
	assert_int_equal(arp_create(&t->a, &cfg), 0);
	t->now = T0;
}

#define ta_init(t) ta_init_cfg((t), 64, 60)

static const struct arp_stats *st(const struct ta *t)
{
	return arp_get_stats(t->a);
}

/* Build an ARP frame, parse it as the datapath would, feed it. */
static void feed(struct ta *t, uint16_t op, const uint8_t eth_dst[ETH_ALEN],
		 const uint8_t sha[ETH_ALEN], uint32_t spa,
		 const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	uint8_t f[64];
	struct pkt_meta m;
	int n = pkt_build_arp(f, sizeof(f), op, eth_dst, sha, spa, tha, tpa);

	assert_int_equal(n, ETH_HLEN + ARP_ETH_IP4_LEN);
	assert_int_equal(pkt_parse(f, (size_t)n, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.l3, PKT_L3_ARP);
	arp_input(t->a, f, &m, t->now);
}

static void request(struct ta *t, const uint8_t sha[ETH_ALEN], uint32_t spa,
		    uint32_t tpa)
{
	feed(t, ARP_OP_REQUEST, bcast, sha, spa, zero_mac, tpa);
}

static void reply(struct ta *t, const uint8_t sha[ETH_ALEN], uint32_t spa,
		  uint32_t tpa)
{
	feed(t, ARP_OP_REPLY, gw_mac, sha, spa, gw_mac, tpa);
}

static bool known(struct ta *t, uint32_t ip, const uint8_t want[ETH_ALEN])
{
	uint8_t mac[ETH_ALEN];

	if (arp_lookup(t->a, ip, t->now, mac) != 0)
		return false;
	if (want)
		assert_memory_equal(mac, want, ETH_ALEN);
	return true;
}

/* Check frame @i field by field (RFC 826, Ethernet/IPv4 only). */
static void check_arp(const struct ta *t, unsigned int i, uint16_t op,
		      const uint8_t eth_dst[ETH_ALEN], uint32_t spa,
		      const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	const uint8_t *f = t->frame[i];
	struct arp_eth_ip4 h;
	struct eth_hdr e;
	size_t k;

	assert_true(i < t->n_frames);
	/* Padded to the Ethernet minimum with zeros. */
	assert_int_equal(t->frame_len[i], ETH_MIN_FRAME);
	for (k = ETH_HLEN + ARP_ETH_IP4_LEN; k < ETH_MIN_FRAME; k++)
		assert_int_equal(f[k], 0);
	memcpy(&e, f, sizeof(e));
	memcpy(&h, f + ETH_HLEN, sizeof(h));
	assert_memory_equal(e.dst, eth_dst, ETH_ALEN);
	assert_memory_equal(e.src, gw_mac, ETH_ALEN);
	assert_int_equal(ntohs(e.type), ETH_P_ARP);
	assert_int_equal(ntohs(h.htype), ARP_HTYPE_ETHER);
	assert_int_equal(ntohs(h.ptype), ETH_P_IPV4);
	assert_int_equal(h.hlen, ETH_ALEN);
	assert_int_equal(h.plen, 4);
	assert_int_equal(ntohs(h.op), op);
	assert_memory_equal(h.sha, gw_mac, ETH_ALEN);
	assert_int_equal(h.spa, spa);
	assert_memory_equal(h.tha, tha, ETH_ALEN);
	assert_int_equal(h.tpa, tpa);
}

static void reply_to_request(void **state)
{
	struct ta t;

	(void)state;
	ta_init(&t);
	request(&t, g_mac, GUEST, GW);
	assert_int_equal(t.n_frames, 1);
	check_arp(&t, 0, ARP_OP_REPLY, g_mac, GW, g_mac, GUEST);
	/* The second own address is answered with itself as sender. */
	request(&t, g_mac, GUEST, GW2);
	assert_int_equal(t.n_frames, 2);
	check_arp(&t, 1, ARP_OP_REPLY, g_mac, GW2, g_mac, GUEST);
	/* A probe (RFC 5227, spa 0) is answered, the prober not learned. */
	request(&t, g_mac2, 0, GW);
	assert_int_equal(t.n_frames, 3);
	check_arp(&t, 2, ARP_OP_REPLY, g_mac2, GW, g_mac2, 0);
	assert_int_equal(st(&t)->requests_in, 3);
	assert_int_equal(st(&t)->replies_out, 3);
	assert_int_equal(st(&t)->learned, 1);
	assert_int_equal(st(&t)->updated, 1);
	assert_true(known(&t, GUEST, g_mac));
	assert_false(known(&t, 0, NULL));
	arp_destroy(t.a);
}

static void no_reply_foreign(void **state)
{
	struct ta t;

	(void)state;
	ta_init(&t);
	request(&t, g_mac, GUEST, GW);		/* GUEST is learned */
	t.n_frames = 0;
	request(&t, g_mac2, GUEST2, IP(10, 0, 2, 99));	/* nobody's */
	request(&t, g_mac2, GUEST2, GUEST);	/* a guest's address */
	request(&t, g_mac2, GUEST2, IP(8, 8, 8, 8));
	assert_int_equal(t.n_frames, 0);
	assert_int_equal(st(&t)->replies_out, 1);
	/* Chatter about third parties teaches nothing. */
	assert_false(known(&t, GUEST2, NULL));
	assert_int_equal(st(&t)->learned, 1);
	/* Replies to someone else neither answer nor teach. */
	feed(&t, ARP_OP_REPLY, g_mac, g_mac2, GUEST2, g_mac, GUEST);
	assert_int_equal(t.n_frames, 0);
	assert_false(known(&t, GUEST2, NULL));
	/* A known sender is refreshed by any of its packets (RFC 826 merge). */
	request(&t, g_mac2, GUEST, IP(10, 0, 2, 99));
	assert_true(known(&t, GUEST, g_mac2));
	arp_destroy(t.a);
}

static void learn_lookup_expiry(void **state)
{
	struct ta t;

	(void)state;
	ta_init_cfg(&t, 64, 60);
	assert_false(known(&t, GUEST, NULL));
	reply(&t, g_mac, GUEST, GW);
	assert_int_equal(st(&t)->replies_in, 1);
	assert_int_equal(st(&t)->learned, 1);
	assert_int_equal(t.n_frames, 0);	/* replies are not answered */
	t.now += SEC(60) - 1;
	assert_true(known(&t, GUEST, g_mac));
	assert_int_equal(t.n_frames, 0);
	/* Stale: still used for ARP_STALE_SEC, its owner asked once a second. */
	t.now += 1;
	assert_true(known(&t, GUEST, g_mac));
	assert_int_equal(t.n_frames, 1);
	assert_int_equal(st(&t)->refreshes, 1);
	t.now += SEC(1) - 1;
	assert_true(known(&t, GUEST, g_mac));
	assert_int_equal(t.n_frames, 1);
	t.now += 1;
	assert_true(known(&t, GUEST, g_mac));
	assert_int_equal(t.n_frames, 2);
	t.now += SEC(ARP_STALE_SEC - 1) - 1;
	assert_true(known(&t, GUEST, g_mac));
	t.now += 1;
	assert_false(known(&t, GUEST, NULL));
	/* A new reply brings it back for another 60 s. */
	reply(&t, g_mac, GUEST, GW);
	assert_int_equal(st(&t)->updated, 1);
	t.now += SEC(59);
	assert_true(known(&t, GUEST, g_mac));
	arp_destroy(t.a);

	/* reachable_sec 0 means 300 s. */
	ta_init_cfg(&t, 0, 0);
	reply(&t, g_mac, GUEST, GW);
	t.now += SEC(299);
	assert_true(known(&t, GUEST, g_mac));
	t.now += SEC(1 + ARP_STALE_SEC);
	assert_false(known(&t, GUEST, NULL));
	arp_destroy(t.a);

	/* arp_tick() clears stale slots: a gratuitous ARP finds nothing. */
	ta_init_cfg(&t, 4, 10);
	reply(&t, g_mac, GUEST, GW);
	t.now += SEC(10 + ARP_STALE_SEC);	/* past reachable and stale */
	arp_tick(t.a, t.now);			/* 4 slots: one slice */
	feed(&t, ARP_OP_REQUEST, bcast, g_mac2, GUEST, zero_mac, GUEST);
	assert_int_equal(st(&t)->updated, 0);
	assert_false(known(&t, GUEST, NULL));
	arp_destroy(t.a);
}

static void gratuitous_update(void **state)
{
	struct ta t;

	(void)state;
	ta_init(&t);
	request(&t, g_mac, GUEST, GW);
	t.n_frames = 0;
	t.now += SEC(1);
	/* Announcement as a request and as a reply: MAC changes. */
	feed(&t, ARP_OP_REQUEST, bcast, g_mac2, GUEST, zero_mac, GUEST);
	assert_true(known(&t, GUEST, g_mac2));
	feed(&t, ARP_OP_REPLY, bcast, g_mac, GUEST, g_mac, GUEST);
	assert_true(known(&t, GUEST, g_mac));
	assert_int_equal(st(&t)->gratuitous, 2);
	assert_int_equal(st(&t)->updated, 2);
	/* An unknown address is not created by a gratuitous ARP. */
	feed(&t, ARP_OP_REQUEST, bcast, g_mac2, GUEST2, zero_mac, GUEST2);
	assert_false(known(&t, GUEST2, NULL));
	assert_int_equal(st(&t)->gratuitous, 3);
	assert_int_equal(st(&t)->learned, 1);
	assert_int_equal(t.n_frames, 0);
	arp_destroy(t.a);
}

static void conflict_counted(void **state)
{
	unsigned int logged = 0;
	struct ta t;

	(void)state;
	log_set_sink(quiet_sink, &logged);
	ta_init(&t);
	/* Someone else claims our address: request, announcement, reply. */
	request(&t, g_mac, GW, GUEST);
	feed(&t, ARP_OP_REQUEST, bcast, g_mac, GW, zero_mac, GW);
	reply(&t, g_mac, GW, GW2);
	log_set_sink(NULL, NULL);
	assert_int_equal(st(&t)->conflicts, 3);
	assert_int_equal(logged, 3);
	assert_int_equal(t.n_frames, 0);
	assert_int_equal(st(&t)->learned, 0);
	assert_false(known(&t, GW, NULL));
	/* Our own frame looped back is not a conflict, just ignored. */
	request(&t, gw_mac, GW, GUEST);
	assert_int_equal(st(&t)->conflicts, 3);
	assert_int_equal(st(&t)->ignored, 1);
	arp_destroy(t.a);
}

static void build_l3(uint8_t *buf, size_t cap, uint16_t sport, int *len)
{
	static const uint8_t payload[] = "held packet";
	struct pkt_spec s = { .no_eth = true, .src4 = GW, .dst4 = GUEST,
			      .proto = IPPROTO_NUM_UDP, .sport = sport,
			      .dport = 53, .payload = payload,
			      .payload_len = sizeof(payload) };

	*len = pkt_build(&s, buf, cap);
	assert_true(*len > 0);
}

/* Hold a small packet for @ip at time @at. */
static int hold(struct ta *t, uint32_t ip, uint64_t at)
{
	uint8_t p[128];
	int l;

	build_l3(p, sizeof(p), 1, &l);
	return arp_hold(t->a, ip, p, (size_t)l, NULL, at);
}

static void hold_and_release(void **state)
{
	const struct pkt_vnet v = { .flags = VNET_F_NEEDS_CSUM, .hdr_len = 28,
				    .csum_start = 20, .csum_offset = 6 };
	uint8_t p1[128], p2[128];
	struct ta t;
	int l1, l2;

	(void)state;
	ta_init(&t);
	build_l3(p1, sizeof(p1), 1000, &l1);
	build_l3(p2, sizeof(p2), 1001, &l2);
	assert_int_equal(arp_hold(t.a, GUEST, p1, (size_t)l1, &v, t.now), 0);
	assert_int_equal(t.n_frames, 1);
	check_arp(&t, 0, ARP_OP_REQUEST, bcast, GW, zero_mac, GUEST);
	assert_int_equal(arp_hold(t.a, GUEST, p2, (size_t)l2, NULL,
				  t.now + MS(10)), 0);
	assert_int_equal(t.n_frames, 1);	/* rate limited */
	/* Overwrite the caller's copies: the endpoint must have its own. */
	memset(p1 + 28, 0, 4);
	t.now += MS(200);
	arp_tick(t.a, t.now);
	assert_int_equal(t.n_pkts, 0);
	/* A reply for someone else's question does not release anything. */
	feed(&t, ARP_OP_REPLY, g_mac, g_mac2, GUEST2, g_mac, GUEST);
	assert_int_equal(t.n_pkts, 0);
	reply(&t, g_mac, GUEST, GW);
	assert_int_equal(t.n_pkts, 2);
	assert_int_equal(st(&t)->learned, 1);
	/* Oldest first, bytes, metadata and MAC intact. */
	build_l3(p1, sizeof(p1), 1000, &l1);
	assert_int_equal(t.pkt_len[0], l1);
	assert_memory_equal(t.pkt[0], p1, (size_t)l1);
	assert_memory_equal(&t.vnet[0], &v, sizeof(v));
	assert_memory_equal(t.mac[0], g_mac, ETH_ALEN);
	assert_int_equal(t.pkt_len[1], l2);
	assert_memory_equal(t.pkt[1], p2, (size_t)l2);
	assert_memory_equal(&t.vnet[1], &(struct pkt_vnet){ 0 }, sizeof(v));
	assert_memory_equal(t.mac[1], g_mac, ETH_ALEN);
	assert_int_equal(st(&t)->held, 2);
	assert_int_equal(st(&t)->released, 2);
	/* Nothing left: another reply delivers nothing, ticks retry nothing. */
	reply(&t, g_mac, GUEST, GW);
	t.now += SEC(5);
	arp_tick(t.a, t.now);
	assert_int_equal(t.n_pkts, 2);
	assert_int_equal(t.n_frames, 1);
	assert_int_equal(st(&t)->hold_expired, 0);
	arp_destroy(t.a);
}

static void request_rate_limit(void **state)
{
	struct ta t;
	unsigned int i;

	(void)state;
	ta_init(&t);
	assert_int_equal(hold(&t, GUEST, t.now), 0);
	assert_int_equal(hold(&t, GUEST, t.now + MS(999)), 0);
	assert_int_equal(t.n_frames, 1);
	/* Another address gets its own request at once. */
	assert_int_equal(hold(&t, GUEST2, t.now + MS(999)), 0);
	assert_int_equal(t.n_frames, 2);
	check_arp(&t, 1, ARP_OP_REQUEST, bcast, GW, zero_mac, GUEST2);
	/* Ticks every 100 ms: one retry per second per address. */
	for (i = 1; i <= 25; i++)
		arp_tick(t.a, t.now + i * MS(100));
	/* GUEST: t0 + 1.0, 2.0; GUEST2: t0 + 2.0 (0.999 + 1 s, tick at 2.0) */
	assert_int_equal(t.n_frames, 5);
	/* A packet held at 2.5 keeps GUEST resolving; still one per second. */
	assert_int_equal(hold(&t, GUEST, t.now + MS(2500)), 0);
	assert_int_equal(t.n_frames, 5);
	for (i = 26; i <= 54; i++)
		arp_tick(t.a, t.now + i * MS(100));
	/*
	 * GUEST retries at 3.0 (its third and last), GUEST2 at 3.0 and then
	 * nothing: its packet expires in the tick at 4.0, as do GUEST's first
	 * two. GUEST's packet of 2.5 is still held, but its retries are spent.
	 */
	assert_int_equal(t.n_frames, 7);
	for (i = 0; i < t.n_frames; i++)
		assert_int_equal(t.frame[i][ETH_HLEN + 7], ARP_OP_REQUEST);
	assert_int_equal(st(&t)->requests_out, 7);
	assert_int_equal(st(&t)->hold_expired, 3);
	arp_tick(t.a, t.now + MS(5500));
	assert_int_equal(st(&t)->hold_expired, 4);
	arp_destroy(t.a);
}

static void hold_expiry(void **state)
{
	struct ta t;

	(void)state;
	ta_init(&t);
	assert_int_equal(hold(&t, GUEST, t.now), 0);
	arp_tick(t.a, t.now + SEC(3) - 1);
	assert_int_equal(st(&t)->hold_expired, 0);
	arp_tick(t.a, t.now + SEC(3));
	assert_int_equal(st(&t)->hold_expired, 1);
	t.now += SEC(3);
	reply(&t, g_mac, GUEST, GW);
	assert_int_equal(t.n_pkts, 0);
	assert_int_equal(st(&t)->released, 0);
	assert_true(known(&t, GUEST, g_mac));
	arp_destroy(t.a);
}

static void hold_full(void **state)
{
	static uint8_t big[ARP_HOLD_BYTES + 1];
	struct ta t;
	unsigned int i;

	(void)state;
	ta_init(&t);
	for (i = 0; i < ARP_HOLD_MAX; i++)
		assert_int_equal(hold(&t, IP(10, 0, 2, 100 + i % 4), t.now), 0);
	assert_int_equal(hold(&t, GUEST, t.now), -ENOSPC);
	assert_int_equal(st(&t)->hold_dropped, 1);
	assert_int_equal(t.n_frames, 4);
	/* Releasing one address makes room again. */
	reply(&t, g_mac, IP(10, 0, 2, 100), GW);
	assert_int_equal(t.n_pkts, ARP_HOLD_MAX / 4);
	assert_int_equal(hold(&t, GUEST, t.now), 0);
	/* Too big: refused whatever the room. */
	assert_int_equal(arp_hold(t.a, GUEST, big, sizeof(big), NULL, t.now),
			 -ENOSPC);
	assert_int_equal(arp_hold(t.a, GUEST, big, ARP_HOLD_BYTES, NULL, t.now), 0);
	/* Not a unicast next hop, or our own address. */
	assert_int_equal(hold(&t, IP(224, 0, 0, 1), t.now), -EINVAL);
	assert_int_equal(hold(&t, GW2, t.now), -EINVAL);
	assert_int_equal(st(&t)->hold_dropped, 4);
	assert_int_equal(st(&t)->held, ARP_HOLD_MAX + 2);
	arp_destroy(t.a);
}

static void table_full_eviction(void **state)
{
	struct ta t;
	uint32_t i;

	(void)state;
	ta_init_cfg(&t, 3, 60);		/* rounded up to 4 slots */
	for (i = 0; i < 4; i++) {
		request(&t, g_mac, IP(10, 0, 2, 10 + i), GW);
		t.now += SEC(1);
	}
	assert_int_equal(st(&t)->learned, 4);
	assert_int_equal(st(&t)->evicted, 0);
	/* Refresh .10: now .11 is the oldest. */
	request(&t, g_mac, IP(10, 0, 2, 10), GW);
	t.now += SEC(1);
	request(&t, g_mac, IP(10, 0, 2, 20), GW);
	assert_int_equal(st(&t)->evicted, 1);
	for (i = 10; i <= 20; i++)
		assert_int_equal(known(&t, IP(10, 0, 2, i), g_mac),
				 i == 10 || i == 12 || i == 13 || i == 20);
	/* A dead entry (past reachable and the stale grace) is reused without
	 * counting an eviction. */
	t.now += SEC(60 + ARP_STALE_SEC) - SEC(3);	/* .12 (T0+2) is dead */
	request(&t, g_mac, IP(10, 0, 2, 21), GW);
	assert_int_equal(st(&t)->evicted, 1);
	assert_true(known(&t, IP(10, 0, 2, 21), g_mac));
	arp_destroy(t.a);
}

static void malformed_ignored(void **state)
{
	static const uint8_t bad[6][2] = { { 7, 3 }, { 6, 1 }, { 4, 7 },
					   { 5, 16 }, { 1, 6 }, { 2, 0x86 } };
	uint8_t f[64], g[64];
	unsigned int i;
	struct pkt_meta m, mm;
	struct ta t;
	int n;

	(void)state;
	ta_init(&t);
	n = pkt_build_arp(f, sizeof(f), ARP_OP_REQUEST, bcast, g_mac, GUEST,
			  zero_mac, GW);
	assert_int_equal(pkt_parse(f, (size_t)n, 0, &m), PKT_DROP_OK);

	/* op 3 (RARP), op 0x0101, hardware and protocol lengths and types */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(g, f, sizeof(f));
		g[ETH_HLEN + bad[i][0]] = bad[i][1];
		arp_input(t.a, g, &m, t.now);
	}
	/* Metadata: truncated, ARP running past the end, not ARP at all. */
	for (i = 0; i < 3; i++) {
		mm = m;
		mm.len -= i == 0;
		mm.l3_off = i == 1 ? 40 : m.l3_off;
		mm.l3 = i == 2 ? PKT_L3_IPV4 : m.l3;
		arp_input(t.a, f, &mm, t.now);
	}
	assert_int_equal(st(&t)->ignored, 9);
	assert_int_equal(st(&t)->requests_in + st(&t)->replies_in, 0);

	/* Senders that cannot be learned. */
	request(&t, bcast, GUEST, GW);
	request(&t, zero_mac, GUEST, GW);
	request(&t, g_mac, IP(224, 0, 0, 1), GW);
	request(&t, g_mac, IP(127, 0, 0, 1), GW);
	request(&t, g_mac, IP(255, 255, 255, 255), GW);
	assert_int_equal(st(&t)->ignored, 14);
	assert_int_equal(t.n_frames, 0);
	assert_int_equal(st(&t)->learned, 0);

	/* The original frame is still fine. */
	arp_input(t.a, f, &m, t.now);
	assert_int_equal(t.n_frames, 1);
	arp_destroy(t.a);
}

static void create_errors(void **state)
{
	struct arp_cfg cfg = { .own = { GW }, .n_own = 1, .send = on_send };
	struct arp *a = (struct arp *)&cfg;
	unsigned int i;

	(void)state;
	memcpy(cfg.mac, gw_mac, ETH_ALEN);
	cfg.n_own = 0;
	assert_int_equal(arp_create(&a, &cfg), -EINVAL);
	assert_null(a);
	for (i = 0; i < 5; i++) {
		cfg.n_own = i == 0 ? ARP_OWN_MAX + 1 : i == 1 ? 2 : 1; /* own[1] 0 */
		cfg.max_neigh = i == 2 ? ARP_MAX_NEIGH + 1 : 0;
		cfg.send = i == 3 ? NULL : on_send;
		cfg.mac[0] = i == 4 ? 0x01 : gw_mac[0];	/* multicast MAC */
		assert_int_equal(arp_create(&a, &cfg), -EINVAL);
	}
	cfg.mac[0] = gw_mac[0];
	cfg.max_neigh = 1000;			/* rounded up to 1024 */
	assert_int_equal(arp_create(&a, &cfg), 0);
	assert_non_null(a);
	/* Without deliver() nothing can be held. */
	assert_int_equal(arp_hold(a, GUEST, gw_mac, 6, NULL, T0), -EINVAL);
	arp_destroy(a);
	arp_destroy(NULL);
}

/* What the learned() callback heard (peek_solicit_learned). */
static unsigned int n_learned;
static uint32_t learned_ip;
static uint8_t learned_mac[ETH_ALEN];

static void on_learned(void *ctx, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	(void)ctx;
	n_learned++;
	learned_ip = ip;
	memcpy(learned_mac, mac, ETH_ALEN);
}

/* The DHCP server's questions: arp_peek() sends nothing, arp_solicit()
 * sends a bounded number of requests whose replies are learned, and
 * learned() hears of new entries and moved MACs, not of refreshes. */
static void peek_solicit_learned(void **state)
{
	struct ta t;
	struct arp_cfg cfg = { .own = { GW }, .n_own = 1, .max_neigh = 64,
			       .reachable_sec = 60, .send = on_send,
			       .deliver = on_deliver, .learned = on_learned,
			       .ctx = &t, .key = &test_key };
	uint8_t mac[ETH_ALEN];
	unsigned int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	n_learned = 0;
	memcpy(cfg.mac, gw_mac, ETH_ALEN);
	assert_int_equal(arp_create(&t.a, &cfg), 0);
	t.now = T0;
	assert_int_equal(arp_peek(t.a, GUEST, t.now, mac), -ENOENT);
	/* A probe: one broadcast request from our address, no entry yet. */
	assert_int_equal(arp_solicit(t.a, GUEST, t.now), 0);
	assert_int_equal(t.n_frames, 1);
	check_arp(&t, 0, ARP_OP_REQUEST, bcast, GW, zero_mac, GUEST);
	assert_int_equal(st(&t)->solicits, 1);
	assert_int_equal(st(&t)->requests_out, 1);
	assert_int_equal(n_learned, 0);
	/* Its answer is learned and reported. */
	reply(&t, g_mac, GUEST, GW);
	assert_int_equal(n_learned, 1);
	assert_int_equal(learned_ip, GUEST);
	assert_memory_equal(learned_mac, g_mac, ETH_ALEN);
	assert_int_equal(arp_peek(t.a, GUEST, t.now, mac), 0);
	assert_memory_equal(mac, g_mac, ETH_ALEN);
	/* A refresh with the same MAC is not reported; a new MAC is. */
	request(&t, g_mac, GUEST, GW);
	assert_int_equal(n_learned, 1);
	request(&t, g_mac2, GUEST, GW);
	assert_int_equal(n_learned, 2);
	assert_memory_equal(learned_mac, g_mac2, ETH_ALEN);
	assert_int_equal(st(&t)->moved, 1);
	/* Stale: peek answers while the entry is usable and asks nobody. */
	t.n_frames = 0;
	t.now += SEC(60);
	assert_int_equal(arp_peek(t.a, GUEST, t.now, mac), 0);
	assert_int_equal(t.n_frames, 0);
	assert_int_equal(st(&t)->refreshes, 0);
	t.now += SEC(ARP_STALE_SEC);
	assert_int_equal(arp_peek(t.a, GUEST, t.now, mac), -ENOENT);
	/* Bounded: ARP_SOLICIT_BURST a second; never for our own address. */
	assert_int_equal(arp_solicit(t.a, GW, t.now), -EINVAL);
	assert_int_equal(arp_solicit(t.a, IP(255, 255, 255, 255), t.now), -EINVAL);
	for (i = 0; i < ARP_SOLICIT_BURST; i++)
		assert_int_equal(arp_solicit(t.a, GUEST2, t.now), 0);
	assert_int_equal(arp_solicit(t.a, GUEST2, t.now), -EBUSY);
	assert_int_equal(st(&t)->solicit_limited, 1);
	assert_int_equal(t.n_frames, ARP_SOLICIT_BURST);
	t.now += SEC(1);
	assert_int_equal(arp_solicit(t.a, GUEST2, t.now), 0);
	arp_destroy(t.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_to_request),
		cmocka_unit_test(no_reply_foreign),
		cmocka_unit_test(learn_lookup_expiry),
		cmocka_unit_test(gratuitous_update),
		cmocka_unit_test(conflict_counted),
		cmocka_unit_test(hold_and_release),
		cmocka_unit_test(request_rate_limit),
		cmocka_unit_test(hold_expiry),
		cmocka_unit_test(hold_full),
		cmocka_unit_test(table_full_eviction),
		cmocka_unit_test(malformed_ignored),
		cmocka_unit_test(create_errors),
		cmocka_unit_test(peek_solicit_learned),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
