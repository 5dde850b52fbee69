// SPDX-License-Identifier: MIT
/*
 * test_mtu.c - the worker with ports of different MTUs (dp/mtu): ICMP
 * "fragmentation needed" both ways with the exact quote of the packet as
 * its sender sent it, fragments of a packet without DF (translated, put
 * back together, checksum completed), GSO super-frames judged by their
 * segments, the rate limit, and no error for what may not get one.
 *
 * Packets go in with dp_worker_input() on the test's own thread; the
 * ports record what the worker hands them, and every assertion runs here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "dp/mtu.h"
#include "dp/worker.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/eth.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"

#define MEMPORT_IN_MAX	2	/* unused: frames come in through dp_worker_input() */
#define MEMPORT_OUT_MAX	64
#define MEMPORT_FRAME	(IP4_MAX_LEN + ETH_HLEN)
#include "memport.h"

#define GW	htonl(0x0a000201)	/* 10.0.2.1 */
#define GUEST	htonl(0x0a000202)	/* 10.0.2.2 */
#define EXT	htonl(0xcb007102)	/* 203.0.113.2 */
#define PEER	htonl(0xc6336401)	/* 198.51.100.1 */

static const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t guest2_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x99 };

struct env {
	struct memport in, out;
	struct nat *nat;
	struct dp_worker *w;
	uint64_t now;
};

static uint8_t payload[IP4_MAX_LEN];
static uint8_t frame[IP4_MAX_LEN + 64];


/* Guests at MTU @in_mtu, uplink at @out_mtu; UDP forwards EXT:5000 ->
 * GUEST:5000 and EXT:5001 -> 10.0.2.3:5001; GUEST's MAC known (it asked
 * for the gateway's), 10.0.2.3's not. */
static struct env *env_new(uint32_t in_mtu, uint32_t out_mtu)
{
	struct env *e = calloc(1, sizeof(*e));
	struct nat_config nc = { 0 };
	struct nat_forward fwd = {
		.proto = IPPROTO_NUM_UDP,
		.ext_port = 5000,
		.int_addr = GUEST,
		.int_port = 5000,
	};
	struct dp_config dc = { 0 };
	static const uint8_t zero[6];
	uint8_t arp[64];
	int n;

	assert_non_null(e);
	assert_int_equal(memport_init(&e->in, 0, in_mtu), 0);
	assert_int_equal(memport_init(&e->out, DP_PORT_L3 | DP_PORT_VNET, out_mtu), 0);
	nc.ext_addrs[0] = EXT;
	nc.n_ext_addrs = 1;
	nc.max_flows = 1024;
	nc.seed = 1;
	ct_timeouts_default(&nc.timeouts);
	assert_int_equal(nat_create(&e->nat, &nc), 0);
	assert_int_equal(nat_add_forward(e->nat, &fwd), 0);
	fwd.ext_port = fwd.int_port = 5001;
	fwd.int_addr = htonl(0x0a000203);
	assert_int_equal(nat_add_forward(e->nat, &fwd), 0);
	dc.inside = &e->in.port;
	dc.outside = &e->out.port;
	dc.nat = e->nat;
	dc.gw_addr = GW;
	dc.gw_plen = 24;
	memcpy(dc.gw_mac, gw_mac, 6);
	assert_int_equal(dp_worker_create(&e->w, &dc), 0);
	e->now = 1000 * NSEC_PER_SEC;
	n = pkt_build_arp(arp, sizeof(arp), ARP_OP_REQUEST,
			  (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			  guest_mac, GUEST, zero, GW);
	assert_true(n > 0);
	dp_worker_input(e->w, true, arp, (size_t)n, NULL, e->now);
	e->in.n_out = 0;	/* the ARP reply */
	return e;
}

static void env_free(struct env *e)
{
	dp_worker_destroy(e->w);
	nat_destroy(e->nat);
	memport_fini(&e->in);
	memport_fini(&e->out);
	free(e);
}

/* The value of `stat NAME` in a fresh statistics block (-1: absent). */
static long long env_stat(struct env *e, const char *name)
{
	char *buf = NULL, *at;
	size_t len = 0, nl = strlen(name);
	FILE *f = open_memstream(&buf, &len);
	long long v = -1;

	assert_non_null(f);
	dp_worker_print_stats(e->w, f);
	fclose(f);
	for (at = buf; (at = strstr(at, "stat ")); at++) {
		if (!strncmp(at + 5, name, nl) && at[5 + nl] == ' ') {
			v = atoll(at + 6 + nl);
			break;
		}
	}
	free(buf);
	return v;
}

/* A UDP packet of @plen payload bytes; Ethernet from the guest, else L3. */
static size_t udp(bool from_guest, uint32_t src, uint16_t sport, uint32_t dst,
		  uint16_t dport, size_t plen, uint16_t frag)
{
	struct pkt_spec s = {
		.no_eth = !from_guest,
		.src4 = src,
		.dst4 = dst,
		.ip_id = 0x4242,
		.ip4_frag = frag,
		.proto = IPPROTO_NUM_UDP,
		.sport = sport,
		.dport = dport,
		.payload = payload,
		.payload_len = plen,
	};
	int n;

	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = pkt_build(&s, frame, sizeof(frame));
	assert_true(n > 0);
	return (size_t)n;
}

/* Check an ICMP "fragmentation needed" at @ip: from @src to @dst, MTU
 * @mtu, quoting exactly @quote_len bytes of @orig, both checksums sound. */
static void check_icmp(const uint8_t *ip, size_t len, uint32_t src,
		       uint32_t dst, unsigned int mtu, const uint8_t *orig,
		       size_t quote_len)
{
	const struct ip4_hdr *h = (const struct ip4_hdr *)ip;
	const struct icmp_hdr *ic = (const struct icmp_hdr *)(ip + 20);

	assert_int_equal(len, 28 + quote_len);
	assert_int_equal(h->saddr, src);
	assert_int_equal(h->daddr, dst);
	assert_int_equal(h->protocol, IPPROTO_NUM_ICMP);
	assert_int_equal(csum_ip4_header(ip, 20), 0);
	assert_int_equal(ic->type, ICMP_DEST_UNREACH);
	assert_int_equal(ic->code, ICMP_FRAG_NEEDED);
	assert_int_equal(ntohs(ic->un.frag.mtu), mtu);
	assert_int_equal(ic->un.frag.unused, 0);
	assert_int_equal(csum_finish(csum_partial(ip + 20, len - 20, 0)), 0);
	assert_memory_equal(ip + 28, orig, quote_len);
}

/* Guest (MTU 9000) to uplink (1500), DF: the guest gets the error from
 * the gateway address, quoting its packet before translation; nothing
 * goes out; counted. */
static void test_df_guest_to_uplink(void **state)
{
	struct env *e = env_new(9000, 1500);
	static uint8_t orig[2100];
	size_t n = udp(true, GUEST, 4000, PEER, 7000, 2000, IP4_FLAG_DF);
	struct pkt_meta m;

	(void)state;
	memcpy(orig, frame, n);
	dp_worker_input(e->w, true, frame, n, NULL, e->now);
	assert_int_equal(e->out.n_out, 0);
	assert_int_equal(e->in.n_out, 1);
	assert_int_equal(e->in.out[0].len, ETH_HLEN + 576);
	assert_memory_equal(e->in.out[0].data, guest_mac, 6);
	assert_memory_equal(e->in.out[0].data + 6, gw_mac, 6);
	assert_int_equal(pkt_parse(e->in.out[0].data, e->in.out[0].len, 0, &m),
			 PKT_DROP_OK);
	check_icmp(e->in.out[0].data + ETH_HLEN, 576, GW, GUEST, 1500,
		   orig + ETH_HLEN, 548);
	assert_int_equal(env_stat(e, "drop.dp.too_big"), 1);
	assert_int_equal(env_stat(e, "drops.total"), 1);
	assert_int_equal(env_stat(e, "mtu.icmp_frag_needed"), 1);
	/* the flow exists: the NAT forwarded it, the MTU refused it */
	assert_int_equal(env_stat(e, "nat.flows"), 1);
	/* a packet that fits goes through */
	n = udp(true, GUEST, 4000, PEER, 7000, 1472, IP4_FLAG_DF);
	dp_worker_input(e->w, true, frame, n, NULL, e->now);
	assert_int_equal(e->out.n_out, 1);
	assert_int_equal(e->out.out[0].len, 1500);
	env_free(e);
}

/* The guest's offloaded checksum (NEEDS_CSUM: the field holds the
 * pseudo-header sum) is quoted complete, as the wire would carry it. */
static void test_df_quote_completes_csum(void **state)
{
	struct env *e = env_new(9000, 1500);
	static uint8_t orig[2100];
	size_t n = udp(true, GUEST, 4000, PEER, 7000, 2000, IP4_FLAG_DF);
	struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM,
		.csum_start = ETH_HLEN + 20,
		.csum_offset = offsetof(struct udp_hdr, check),
	};
	uint16_t ps = csum_fold(csum_pseudo_ip4(GUEST, PEER, IPPROTO_NUM_UDP,
						(uint16_t)(8 + 2000)));

	(void)state;
	memcpy(orig, frame, n);
	memcpy(frame + v.csum_start + v.csum_offset, &ps, 2);
	dp_worker_input(e->w, true, frame, n, &v, e->now);
	assert_int_equal(e->in.n_out, 1);
	check_icmp(e->in.out[0].data + ETH_HLEN, 576, GW, GUEST, 1500,
		   orig + ETH_HLEN, 548);
	env_free(e);
}

/* Uplink (9000) to guest (1500) through the forward, DF: the outside
 * sender gets the error from the external address it used. */
static void test_df_uplink_to_guest(void **state)
{
	struct env *e = env_new(1500, 9000);
	static uint8_t orig[9000];
	size_t n = udp(false, PEER, 6000, EXT, 5000, 4000, IP4_FLAG_DF);

	(void)state;
	memcpy(orig, frame, n);
	dp_worker_input(e->w, false, frame, n, NULL, e->now);
	assert_int_equal(e->in.n_out, 0);
	assert_int_equal(e->out.n_out, 1);
	check_icmp(e->out.out[0].data, e->out.out[0].len, EXT, PEER, 1500,
		   orig, 548);
	/* a packet the NAT drops (no flow, filtered) gets no error */
	n = udp(false, PEER, 6000, EXT, 5002, 4000, IP4_FLAG_DF);
	dp_worker_input(e->w, false, frame, n, NULL, e->now);
	assert_int_equal(e->out.n_out, 1);
	assert_int_equal(env_stat(e, "mtu.icmp_frag_needed"), 1);
	assert_int_equal(env_stat(e, "drop.dp.too_big"), 1);
	env_free(e);
}

/* Without DF: fragments, translated, at 1500, reassembling to the
 * original datagram with a sound UDP checksum (completed from NEEDS_CSUM). */
static void test_fragments(void **state)
{
	struct env *e = env_new(9000, 1500);
	size_t n = udp(true, GUEST, 4000, PEER, 7000, 4000, 0);
	static uint8_t joined[IP4_MAX_LEN];
	struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM,
		.csum_start = ETH_HLEN + 20,
		.csum_offset = offsetof(struct udp_hdr, check),
	};
	uint16_t ps = csum_fold(csum_pseudo_ip4(GUEST, PEER, IPPROTO_NUM_UDP,
						(uint16_t)(8 + 4000)));
	unsigned int at = 0;
	uint16_t sport;

	(void)state;
	memcpy(frame + v.csum_start + v.csum_offset, &ps, 2);
	dp_worker_input(e->w, true, frame, n, &v, e->now);
	assert_int_equal(e->in.n_out, 0);
	assert_int_equal(e->out.n_out, 3);	/* 1480 + 1480 + 1048 */
	for (unsigned int i = 0; i < 3; i++) {
		const uint8_t *ip = e->out.out[i].data;
		const struct ip4_hdr *h = (const struct ip4_hdr *)ip;
		uint16_t fo = ntohs(h->frag_off);

		assert_int_equal(e->out.out[i].len, i < 2 ? 1500 : 20 + 1048);
		assert_int_equal(e->out.out[i].vnet.flags, 0);
		assert_int_equal(h->saddr, EXT);
		assert_int_equal(h->daddr, PEER);
		assert_int_equal(ntohs(h->id), 0x4242);
		assert_int_equal((fo & IP4_OFFSET_MASK) * 8u, at);
		assert_int_equal(!!(fo & IP4_FLAG_MF), i < 2);
		assert_int_equal(csum_ip4_header(ip, 20), 0);
		memcpy(joined + at, ip + 20, e->out.out[i].len - 20);
		at += e->out.out[i].len - 20;
	}
	assert_int_equal(at, 8 + 4000);
	assert_memory_equal(joined + 8, payload, 4000);
	memcpy(&sport, joined, 2);
	assert_int_not_equal(sport, htons(4000));	/* translated */
	assert_int_equal(csum_finish(csum_partial(joined, at,
			 csum_pseudo_ip4(EXT, PEER, IPPROTO_NUM_UDP,
					 (uint16_t)at))), 0);
	assert_int_equal(env_stat(e, "mtu.fragmented"), 1);
	assert_int_equal(env_stat(e, "mtu.fragments"), 3);
	assert_int_equal(env_stat(e, "drops.total"), 0);

	/* the other way, to the guest: fragments get the guest's Ethernet
	 * header, and the packet sent before them stays first */
	env_free(e);
	e = env_new(1500, 9000);
	n = udp(false, PEER, 6000, EXT, 5000, 3000, 0);
	dp_worker_input(e->w, false, frame, n, NULL, e->now);
	assert_int_equal(e->in.n_out, 3);
	for (unsigned int i = 0; i < 3; i++) {
		struct pkt_meta m;

		assert_memory_equal(e->in.out[i].data, guest_mac, 6);
		assert_memory_equal(e->in.out[i].data + 6, gw_mac, 6);
		assert_int_equal(pkt_parse(e->in.out[i].data, e->in.out[i].len,
					   0, &m), PKT_DROP_OK);
		assert_true(m.l3_len <= 1500);
		assert_int_equal(pkt_ip4_daddr(e->in.out[i].data, &m), GUEST);
	}
	env_free(e);
}

/* Fragments for a guest whose MAC is not known yet are held, each one,
 * while the gateway asks, and go out when the guest answers. */
static void test_fragments_held_for_arp(void **state)
{
	struct env *e = env_new(1500, 9000);
	size_t n = udp(false, PEER, 6000, EXT, 5001, 3000, 0);
	static uint8_t joined[4000];
	unsigned int at = 0;
	uint8_t arp[64];
	int k;

	(void)state;
	dp_worker_input(e->w, false, frame, n, NULL, e->now);
	assert_int_equal(e->in.n_out, 1);	/* the ARP request, nothing else */
	assert_int_equal(e->in.out[0].data[12] << 8 | e->in.out[0].data[13],
			 ETH_P_ARP);
	assert_int_equal(env_stat(e, "gw.held"), 3);
	k = pkt_build_arp(arp, sizeof(arp), ARP_OP_REPLY, gw_mac, guest2_mac,
			  htonl(0x0a000203), gw_mac, GW);
	assert_true(k > 0);
	dp_worker_input(e->w, true, arp, (size_t)k, NULL, e->now);
	assert_int_equal(e->in.n_out, 4);
	for (unsigned int i = 1; i < 4; i++) {
		const struct mframe *r = &e->in.out[i];
		struct pkt_meta m;
		uint16_t fo;

		assert_memory_equal(r->data, guest2_mac, 6);
		assert_memory_equal(r->data + 6, gw_mac, 6);
		assert_int_equal(pkt_parse(r->data, r->len, 0, &m), PKT_DROP_OK);
		assert_true(m.l3_len <= 1500);
		memcpy(&fo, r->data + ETH_HLEN + 6, 2);
		assert_int_equal((ntohs(fo) & IP4_OFFSET_MASK) * 8u, at);
		memcpy(joined + at, r->data + ETH_HLEN + 20, m.l3_len - 20);
		at += m.l3_len - 20;
	}
	assert_int_equal(at, 8 + 3000);
	assert_memory_equal(joined + 8, payload, 3000);
	assert_int_equal(env_stat(e, "drops.total"), 0);
	env_free(e);
}

/* No error about an ICMP error, and a limit of DP_MTU_ICMP_PER_SEC a
 * second: the rest are counted drops. */
static void test_no_error_and_rate_limit(void **state)
{
	struct env *e = env_new(9000, 1500);
	size_t n;

	(void)state;
	for (unsigned int i = 0; i < DP_MTU_ICMP_PER_SEC + 20; i++) {
		n = udp(true, GUEST, 4000, PEER, 7000, 2000, IP4_FLAG_DF);
		dp_worker_input(e->w, true, frame, n, NULL, e->now);
	}
	/* The port records the first 64 errors and refuses the rest. */
	assert_int_equal(e->in.n_out, MEMPORT_OUT_MAX);
	assert_int_equal(e->in.n_full, DP_MTU_ICMP_PER_SEC - MEMPORT_OUT_MAX);
	assert_int_equal(env_stat(e, "mtu.icmp_frag_needed"), DP_MTU_ICMP_PER_SEC);
	assert_int_equal(env_stat(e, "mtu.icmp_rate_limited"), 20);
	assert_int_equal(env_stat(e, "drop.dp.too_big"), DP_MTU_ICMP_PER_SEC + 20);
	/* a second later, answered again */
	e->now += NSEC_PER_SEC;
	e->in.n_out = 0;
	dp_worker_input(e->w, true, frame, n, NULL, e->now);
	assert_int_equal(e->in.n_out, 1);

	/* The guest's answer to a forwarded datagram: a port unreachable
	 * with DF quoting 1978 bytes. The NAT translates it; too big, it is
	 * dropped without an error about it (RFC 1122 3.2.2). */
	static uint8_t inner[2000];
	size_t ni;

	n = udp(false, PEER, 6000, EXT, 5000, 10, 0);
	dp_worker_input(e->w, false, frame, n, NULL, e->now);
	assert_int_equal(e->in.n_out, 2);
	ni = udp(false, PEER, 6000, GUEST, 5000, 1950, 0);
	memcpy(inner, frame, ni);
	struct pkt_spec s = {
		.src4 = GUEST,
		.dst4 = PEER,
		.ip4_frag = IP4_FLAG_DF,
		.proto = IPPROTO_NUM_ICMP,
		.icmp_type = ICMP_DEST_UNREACH,
		.icmp_code = ICMP_PORT_UNREACH,
		.payload = inner,
		.payload_len = ni,
	};

	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = (size_t)pkt_build(&s, frame, sizeof(frame));
	dp_worker_input(e->w, true, frame, n, NULL, e->now);
	assert_int_equal(env_stat(e, "nat.icmp_errors"), 1);
	assert_int_equal(e->out.n_out, 0);	/* the error did not go out */
	assert_int_equal(e->in.n_out, 2);
	assert_int_equal(env_stat(e, "mtu.icmp_frag_needed"), DP_MTU_ICMP_PER_SEC + 1);
	assert_int_equal(env_stat(e, "drop.dp.too_big"), DP_MTU_ICMP_PER_SEC + 22);
	env_free(e);
}

/* A TCP GSO super-frame from the guest (TSO sets DF): segments of 8000
 * bytes get the error a segment would, quoting the first segment; 1400-
 * byte segments pass as they are; without DF the segment size shrinks. */
static void test_gso(void **state)
{
	struct env *e = env_new(9000, 1500);
	struct pkt_spec s = {
		.src4 = GUEST,
		.dst4 = PEER,
		.ip4_frag = IP4_FLAG_DF,
		.proto = IPPROTO_NUM_TCP,
		.sport = 4000,
		.dport = 80,
		.tcp_flags = TCP_SYN,
		.payload = payload,
		.payload_len = 0,
	};
	struct pkt_vnet v = {
		.gso_type = VNET_GSO_TCPV4,
		.hdr_len = ETH_HLEN + 40,
		.gso_size = 8000,
	};
	static uint8_t quote[548];
	int n;

	(void)state;
	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	/* open the connection (a SYN, and the answer) so data may flow */
	n = pkt_build(&s, frame, sizeof(frame));
	dp_worker_input(e->w, true, frame, (size_t)n, NULL, e->now);
	assert_int_equal(e->out.n_out, 1);
	struct pkt_spec r = {
		.no_eth = true,
		.src4 = PEER,
		.dst4 = EXT,
		.proto = IPPROTO_NUM_TCP,
		.sport = 80,
		.dport = ntohs(((const struct tcp_hdr *)(e->out.out[0].data + 20))->sport),
		.ack = 1,
		.tcp_flags = TCP_SYN | TCP_ACK,
	};

	n = pkt_build(&r, frame, sizeof(frame));
	dp_worker_input(e->w, false, frame, (size_t)n, NULL, e->now);
	assert_int_equal(e->in.n_out, 1);
	e->in.n_out = 0;
	s.tcp_flags = TCP_ACK;
	s.seq = 1;
	s.ack = 1;
	s.payload_len = 30000;
	n = pkt_build(&s, frame, sizeof(frame));
	memcpy(quote, frame + ETH_HLEN, sizeof(quote));
	/* the first segment: 40 + 8000 bytes, header checksum to match */
	quote[2] = (8040 >> 8) & 0xff;
	quote[3] = 8040 & 0xff;
	memset(quote + 10, 0, 2);
	uint16_t c = csum_ip4_header(quote, 20);

	memcpy(quote + 10, &c, 2);
	dp_worker_input(e->w, true, frame, (size_t)n, &v, e->now);
	assert_int_equal(e->out.n_out, 1);
	assert_int_equal(e->in.n_out, 1);
	check_icmp(e->in.out[0].data + ETH_HLEN, 576, GW, GUEST, 1500, quote,
		   548);

	v.gso_size = 1400;
	dp_worker_input(e->w, true, frame, (size_t)n, &v, e->now);
	assert_int_equal(e->out.n_out, 2);
	assert_int_equal(e->out.out[1].len, 30040);
	assert_int_equal(e->out.out[1].vnet.gso_size, 1400);

	s.ip4_frag = 0;
	n = pkt_build(&s, frame, sizeof(frame));
	v.gso_size = 8000;
	dp_worker_input(e->w, true, frame, (size_t)n, &v, e->now);
	assert_int_equal(e->out.n_out, 3);
	assert_int_equal(e->out.out[2].vnet.gso_size, 1460);
	assert_int_equal(env_stat(e, "mtu.gso_resized"), 1);
	/* UDP segmentation (USO) without DF cannot be cut: a counted drop */
	n = (int)udp(true, GUEST, 4000, PEER, 7000, 30000, 0);
	v.gso_type = VNET_GSO_UDP_L4;
	dp_worker_input(e->w, true, frame, (size_t)n, &v, e->now);
	assert_int_equal(e->out.n_out, 3);
	assert_int_equal(env_stat(e, "drop.dp.cannot_fragment"), 1);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_df_guest_to_uplink),
		cmocka_unit_test(test_df_quote_completes_csum),
		cmocka_unit_test(test_df_uplink_to_guest),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_fragments_held_for_arp),
		cmocka_unit_test(test_no_error_and_rate_limit),
		cmocka_unit_test(test_gso),
	};

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
