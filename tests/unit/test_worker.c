// SPDX-License-Identifier: MIT
/*
 * test_worker.c - the datapath worker between two in-memory ports.
 *
 * The ports are test doubles (a queue in, a record out, an eventfd for
 * epoll) that check nothing on the worker's thread: each test stops the
 * worker (env_pause()) before it reads and asserts. What is tested is the
 * worker's classification, the NAT verdict handling, the Ethernet
 * strip/prepend with the virtio-net offsets, ARP resolution of guests with
 * the hold queue, echo replies, the drop counters, and that frames a port
 * refuses are counted as dropped, not as sent. Guest ports come and go
 * while the worker runs; a port over a UNIX datagram socket whose peer
 * does not read says "not now" (EAGAIN) and gets its frames later, in
 * order, from its queue. A port woken by extra fds of its own (a
 * vhost-user port's kicks) is served through the worker's extra-fd API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "dp/portset.h"
#include "dp/worker.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/eth.h"
#include "prot/ip4.h"
#include "prot/udp.h"

#include "memport.h"
#include "worker_env.h"

static void mp_init(struct memport *m, uint32_t flags)
{
	assert_int_equal(memport_init(m, flags, 0), 0);
}

/* Queue a frame for the worker to receive; the test's thread only. */
static void mp_push(struct memport *m, const uint8_t *frame, size_t len,
		    const struct pkt_vnet *v)
{
	/* Fails if the test pushed more than it waited for. */
	assert_int_equal(memport_push(m, frame, len, v), 0);
}

/* mp_until(): poll (1 ms steps, 2 s at most) until @m has recorded @n sent
 * frames (MP_SENT), or @n sent or refused (MP_OFFERED), or the worker has
 * taken every queued one (MP_TAKEN). */

enum mp_what { MP_SENT, MP_TAKEN, MP_OFFERED };

static bool mp_until(struct memport *m, enum mp_what what, unsigned int n)
{
	for (int i = 0; i < 2000; i++) {
		bool done;

		pthread_mutex_lock(&m->lock);
		if (what == MP_SENT)
			done = m->n_out >= n;
		else if (what == MP_OFFERED)	/* sent or refused */
			done = m->n_out + m->n_full >= n;
		else
			done = m->in_head == m->in_tail;
		pthread_mutex_unlock(&m->lock);
		if (done)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

static void mp_wait(struct memport *m, unsigned int n)
{
	if (!mp_until(m, MP_SENT, n))
		fail_msg("port sent fewer than %u frames within 2 s", n);
}

static void mp_wait_taken(struct memport *m)
{
	if (!mp_until(m, MP_TAKEN, 0))
		fail_msg("the worker did not take the queued frames within 2 s");
}

static const uint8_t guest2_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x99 };

/* The worker between fresh ports, running; it busy polls for @busy_poll_ns
 * after traffic (0: never). */
static int env_setup_busy(void **state, uint64_t busy_poll_ns)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	mp_init(&e->in, 0);
	mp_init(&e->out, DP_PORT_L3 | DP_PORT_VNET);
	env_worker_create_polling(e, htonl(0x0a000209),	/* 10.0.2.9 */
				  busy_poll_ns);
	env_resume(e);
	*state = e;
	return 0;
}

static int env_setup(void **state)
{
	return env_setup_busy(state, 0);
}

/* Every test ends with nothing refused unless it counted on it (and then
 * reset the record); a worker that failed shows in run_err. */
static int env_teardown(void **state)
{
	struct env *e = *state;

	env_pause(e);
	assert_int_equal(e->in.n_full + e->out.n_full, 0);
	assert_int_equal(e->in.n_oversize + e->out.n_oversize, 0);
	dp_worker_destroy(e->w);
	nat_destroy(e->nat);
	memport_fini(&e->in);
	memport_fini(&e->out);
	free(e);
	return 0;
}

/* env_stats() once @want is among the statistics (1 ms steps, 2 s at most):
 * for frames that go to a port the test cannot wait on. Paused, as
 * env_stats() leaves it. */
static char *env_stats_until(struct env *e, const char *want)
{
	for (int i = 0; i < 2000; i++) {
		char *stats = env_stats(e);

		if (strstr(stats, want))
			return stats;
		free(stats);
		env_resume(e);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	fail_msg("no \"%s\" in the statistics within 2 s", want);
	return NULL;
}

static size_t arp_frame(uint8_t *buf, uint16_t op, const uint8_t *sha,
			uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int n = pkt_build_arp(buf, MEMPORT_FRAME, op,
			      op == ARP_OP_REQUEST ? bcast : tha, sha, spa,
			      tha, tpa);

	assert_true(n > 0);
	return (size_t)n;
}

static size_t udp_frame(uint8_t *buf, bool eth, const uint8_t *src_mac,
			uint32_t src, uint16_t sport, uint32_t dst,
			uint16_t dport, const char *payload)
{
	struct pkt_spec s = {
		.no_eth = !eth,
		.src4 = src,
		.dst4 = dst,
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = sport,
		.dport = dport,
		.payload = payload,
		.payload_len = strlen(payload),
	};
	int n;

	memcpy(s.eth_dst, gw_mac, 6);
	if (src_mac)
		memcpy(s.eth_src, src_mac, 6);
	n = pkt_build(&s, buf, MEMPORT_FRAME);
	assert_true(n > 0);
	return (size_t)n;
}

/* Teach the gateway a guest's MAC the way a guest does: ARP for it. */
static void learn_guest(struct env *e, const uint8_t *mac, uint32_t ip)
{
	uint8_t f[MEMPORT_FRAME];
	unsigned int before;
	struct arp_eth_ip4 a;

	size_t n = arp_frame(f, ARP_OP_REQUEST, mac, ip, (const uint8_t[6]){ 0 },
			     htonl(0x0a000201));

	env_pause(e);
	before = e->in.n_out;
	env_resume(e);
	mp_push(&e->in, f, n, NULL);
	mp_wait(&e->in, before + 1);
	env_pause(e);
	assert_int_equal(e->in.n_out, before + 1);
	memcpy(&a, e->in.out[before].data + ETH_HLEN, sizeof(a));
	assert_int_equal(ntohs(a.op), ARP_OP_REPLY);
	assert_memory_equal(a.sha, gw_mac, 6);
	assert_int_equal(a.spa, htonl(0x0a000201));
	assert_memory_equal(a.tha, mac, 6);
	assert_memory_equal(e->in.out[before].data, mac, 6);
	env_resume(e);
}

static void worker_outbound_strips_eth_and_keeps_offloads(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM,
		.csum_start = ETH_HLEN + IP4_HLEN_MIN,
		.csum_offset = 6,
		.hdr_len = ETH_HLEN + IP4_HLEN_MIN + 8,
	};
	struct ip4_hdr ip;
	struct pkt_meta m;
	size_t n;

	learn_guest(e, guest_mac, htonl(0x0a000202));
	n = udp_frame(f, true, guest_mac, htonl(0x0a000202), 40000,
		      htonl(0xc6336401), 7, "hello");
	mp_push(&e->in, f, n, &v);
	mp_wait(&e->out, 1);
	env_pause(e);

	/* An L3 packet, translated, offsets moved by the Ethernet header. */
	assert_int_equal(e->out.n_out, 1);
	assert_int_equal(e->out.out[0].len, n - ETH_HLEN);
	assert_int_equal(pkt_parse(e->out.out[0].data, e->out.out[0].len,
				   PKT_PARSE_L3, &m), PKT_DROP_OK);
	memcpy(&ip, e->out.out[0].data, sizeof(ip));
	assert_int_equal(ip.saddr, htonl(0xc6336402));
	assert_int_equal(ip.daddr, htonl(0xc6336401));
	assert_int_equal(e->out.out[0].vnet.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(e->out.out[0].vnet.csum_start, IP4_HLEN_MIN);
	assert_int_equal(e->out.out[0].vnet.csum_offset, 6);
	assert_int_equal(e->out.out[0].vnet.hdr_len, IP4_HLEN_MIN + 8);
	env_resume(e);

	/* The reply comes back as a frame to the guest's MAC. */
	n = udp_frame(f, false, NULL, htonl(0xc6336401), 7,
		      htonl(0xc6336402), ntohs(m.sport), "world");
	v = (struct pkt_vnet){ .flags = VNET_F_NEEDS_CSUM,
			       .csum_start = IP4_HLEN_MIN, .csum_offset = 6 };
	mp_push(&e->out, f, n, &v);
	mp_wait(&e->in, 2);
	env_pause(e);
	assert_int_equal(e->in.n_out, 2);
	assert_int_equal(e->in.out[1].len, n + ETH_HLEN);
	assert_memory_equal(e->in.out[1].data, guest_mac, 6);
	assert_memory_equal(e->in.out[1].data + 6, gw_mac, 6);
	memcpy(&ip, e->in.out[1].data + ETH_HLEN, sizeof(ip));
	assert_int_equal(ip.daddr, htonl(0x0a000202));
	assert_int_equal(e->in.out[1].vnet.csum_start, ETH_HLEN + IP4_HLEN_MIN);
	assert_memory_equal(e->in.out[1].data + ETH_HLEN + IP4_HLEN_MIN + 8,
			    "world", 5);
	/* What the ports counted is what they recorded. */
	assert_int_equal(e->in.port.stats.tx_packets, 2);
	assert_int_equal(e->out.port.stats.tx_packets, 1);
	assert_int_equal(e->in.port.stats.tx_dropped, 0);
	assert_int_equal(e->out.port.stats.tx_dropped, 0);
}

static void worker_forward_arps_for_unknown_guest_then_delivers(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	struct arp_eth_ip4 a;
	struct ip4_hdr ip;
	struct udp_hdr u;
	size_t n;

	n = udp_frame(f, false, NULL, htonl(0xc6336401), 1234,
		      htonl(0xc6336402), 5000, "query");
	mp_push(&e->out, f, n, NULL);
	mp_wait(&e->in, 1);
	env_pause(e);
	/* First an ARP request for the forward's target... */
	assert_int_equal(e->in.n_out, 1);
	memcpy(&a, e->in.out[0].data + ETH_HLEN, sizeof(a));
	assert_int_equal(ntohs(a.op), ARP_OP_REQUEST);
	assert_int_equal(a.tpa, htonl(0x0a000209));
	assert_int_equal(a.spa, htonl(0x0a000201));
	env_resume(e);
	/* ...and after the guest answers, the held packet, DNATed. */
	n = arp_frame(f, ARP_OP_REPLY, guest2_mac, htonl(0x0a000209), gw_mac,
		      htonl(0x0a000201));
	mp_push(&e->in, f, n, NULL);
	mp_wait(&e->in, 2);
	env_pause(e);
	assert_int_equal(e->in.n_out, 2);
	assert_memory_equal(e->in.out[1].data, guest2_mac, 6);
	memcpy(&ip, e->in.out[1].data + ETH_HLEN, sizeof(ip));
	memcpy(&u, e->in.out[1].data + ETH_HLEN + IP4_HLEN_MIN, sizeof(u));
	assert_int_equal(ip.saddr, htonl(0xc6336401));
	assert_int_equal(ip.daddr, htonl(0x0a000209));
	assert_int_equal(u.dport, htons(53));
}

static uint64_t stat_value(const char *stats, const char *name)
{
	const char *p = strstr(stats, name);

	assert_non_null(p);
	return strtoull(p + strlen(name), NULL, 10);
}

/*
 * Two echo requests, the second sent as soon as the first is answered; then
 * 600 ms without traffic. Return: dp.busy_polled, and in @idle_cpu_ns the
 * worker thread's CPU time over the last 300 ms of the quiet.
 */
static uint64_t echo_twice_then_idle(struct env *e, uint64_t *idle_cpu_ns)
{
	uint8_t f[MEMPORT_FRAME];
	struct timespec c0, c1;
	clockid_t cpu;
	uint64_t polled;
	char *stats;

	mp_push(&e->in, f, echo_frame(f, 1), NULL);
	mp_wait(&e->in, 1);
	mp_push(&e->in, f, echo_frame(f, 2), NULL);
	mp_wait(&e->in, 2);
	nanosleep(&(struct timespec){ 0, 300000000 }, NULL);
	assert_int_equal(pthread_getcpuclockid(e->worker_th, &cpu), 0);
	assert_int_equal(clock_gettime(cpu, &c0), 0);
	nanosleep(&(struct timespec){ 0, 300000000 }, NULL);
	assert_int_equal(clock_gettime(cpu, &c1), 0);
	*idle_cpu_ns = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000u +
		       (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
	stats = env_stats(e);
	polled = stat_value(stats, "stat dp.busy_polled ");
	assert_true(polled <= stat_value(stats, "stat dp.wakeups "));
	free(stats);
	env_resume(e);
	return polled;
}

/* Without busy polling every event is a wakeup from sleep. */
static void worker_sleeps_without_busy_poll(void **state)
{
	uint64_t idle;

	assert_int_equal(echo_twice_then_idle(*state, &idle), 0);
	assert_true(idle < 30000000u);
}

/*
 * With busy polling for 200 ms after traffic (dp_config.busy_poll_ns), the
 * second request is found by polling, not by a wakeup; once the window
 * has passed the worker sleeps again: its timer's ticks (every 100 ms) do
 * not open a window (a worker that did would poll for good: 300 ms of CPU
 * in 300 ms, against the 30 ms allowed).
 */
static void worker_busy_polls_after_traffic_only(void **state)
{
	uint64_t idle;

	assert_true(echo_twice_then_idle(*state, &idle) >= 1);
	assert_true(idle < 30000000u);
}

static int env_setup_polling(void **state)
{
	return env_setup_busy(state, 200 * NSEC_PER_MSEC);
}

static void worker_echo_and_counted_drops(void **state)
{
	struct env *e = *state;
	struct pkt_spec s = {
		.src4 = htonl(0x0a000202),
		.dst4 = htonl(0x0a000201),
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.ip6 = true,
		.payload = "ping",
		.payload_len = 4,
	};
	uint8_t f[MEMPORT_FRAME];
	struct pkt_meta m;
	char *stats;
	int n;

	mp_push(&e->in, f, echo_frame(f, 1), NULL);
	mp_wait(&e->in, 1);
	env_pause(e);
	assert_int_equal(e->in.n_out, 1);
	assert_int_equal(pkt_parse(e->in.out[0].data, e->in.out[0].len, 0, &m),
			 PKT_DROP_OK);
	assert_int_equal(m.icmp_type, 0);
	/* pkt_parse() checked the IPv4 header sum; the ICMP sum must be 0. */
	assert_int_equal(csum_fold(csum_partial(e->in.out[0].data + m.l4_off,
						m.l4_len, 0)), 0xffff);
	assert_memory_equal(e->in.out[0].data, guest_mac, 6);
	env_resume(e);

	/* IPv6, a truncated frame, a bad IHL: three counted drops. */
	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = pkt_build(&s, f, sizeof(f));
	assert_true(n > 0);
	mp_push(&e->in, f, (size_t)n, NULL);
	mp_push(&e->in, f, 10, NULL);
	n = (int)echo_frame(f, 2);
	f[ETH_HLEN] = 0x44;
	mp_push(&e->in, f, (size_t)n, NULL);
	mp_wait_taken(&e->in);
	stats = env_stats(e);
	assert_non_null(strstr(stats, "stat drops.total 3\n"));
	assert_non_null(strstr(stats, "stat drop.dp.ipv6 1\n"));
	assert_non_null(strstr(stats, "stat drop.pkt.eth_truncated 1\n"));
	assert_non_null(strstr(stats, "stat drop.pkt.ip4_bad_ihl 1\n"));
	assert_non_null(strstr(stats, "stat gw.echo_replies 1\n"));
	assert_non_null(strstr(stats, "stat inside.rx_packets 4\n"));
	assert_non_null(strstr(stats, "stat inside.tx_packets 1\n"));
	free(stats);
}

/*
 * A port that takes fewer frames than it is given says so: the worker is
 * told the truth and the port's tx_dropped (and so drops.total) counts
 * the rest. 19 echo requests, room for 16 replies.
 */
static void worker_port_refusals_are_counted(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	unsigned int i;
	char *stats;

	for (i = 0; i < MEMPORT_OUT_MAX; i++)
		mp_push(&e->in, f, echo_frame(f, (uint16_t)i), NULL);
	mp_wait(&e->in, MEMPORT_OUT_MAX);
	for (; i < MEMPORT_OUT_MAX + 3; i++)
		mp_push(&e->in, f, echo_frame(f, (uint16_t)i), NULL);
	mp_wait_taken(&e->in);
	stats = env_stats(e);
	assert_int_equal(e->in.n_out, MEMPORT_OUT_MAX);
	assert_int_equal(e->in.n_full, 3);
	assert_int_equal(e->in.port.stats.tx_packets, MEMPORT_OUT_MAX);
	assert_int_equal(e->in.port.stats.tx_dropped, 3);
	assert_non_null(strstr(stats, "stat gw.echo_replies 19\n"));
	assert_non_null(strstr(stats, "stat inside.tx_dropped 3\n"));
	assert_non_null(strstr(stats, "stat drops.total 3\n"));
	free(stats);
	e->in.n_full = 0;	/* counted on: teardown checks nothing else was */
}

/*
 * Martians (pkt/martian.h) are counted drops under their own names before
 * any state: no flow, no mapping. DHCP from 0.0.0.0 to the broadcast
 * address reaches the rule only when there is no DHCP server (this
 * worker has none).
 */
static void worker_martians_leave_no_state(void **state)
{
	static const struct {
		bool inside;
		uint32_t src, dst;	/* host order */
		uint16_t sport, dport;
	} fr[] = {
		{ true, 0x0a000202, 0x00010203, 4000, 9 },	/* dst_zeronet */
		{ true, 0xcb007107, 0xc6336401, 4000, 9 },	/* src_not_inside */
		{ true, 0, 0xffffffffu, 68, 67 },		/* dst_broadcast */
		{ true, 0x0a000202, 0x0a0002ff, 4000, 9 },	/* subnet broadcast */
		{ false, 0x7f000001, 0xc6336402, 53, 5000 },	/* src_loopback */
	};
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	char *stats;

	for (unsigned int i = 0; i < ARRAY_SIZE(fr); i++) {
		size_t n = udp_frame(f, fr[i].inside, fr[i].inside ? guest_mac : NULL,
				     htonl(fr[i].src), fr[i].sport,
				     htonl(fr[i].dst), fr[i].dport, "martian");

		mp_push(fr[i].inside ? &e->in : &e->out, f, n, NULL);
	}
	stats = env_stats(e);
	assert_non_null(strstr(stats, "stat drop.dp.dst_zeronet 1\n"));
	assert_non_null(strstr(stats, "stat drop.dp.src_not_inside 1\n"));
	assert_non_null(strstr(stats, "stat drop.dp.dst_broadcast 1\n"));
	assert_non_null(strstr(stats, "stat drop.dp.dst_subnet_broadcast 1\n"));
	assert_non_null(strstr(stats, "stat drop.dp.src_loopback 1\n"));
	assert_non_null(strstr(stats, "stat drops.total 5\n"));
	assert_non_null(strstr(stats, "stat nat.flows 0\n"));
	/* The static forward only. */
	assert_non_null(strstr(stats, "stat nat.mappings 1\n"));
	free(stats);
}

/* An upstream DNS server the uplink could never reach is refused at
 * creation: the forwarder would wait on queries that never leave. */
static void worker_refuses_martian_dns_server(void **state)
{
	static const struct {
		uint32_t server;	/* host order */
		int want;
	} t[] = {
		{ 0x7f000035, -EINVAL },	/* 127.0.0.53 */
		{ 0xc63364ff, -EINVAL },	/* 198.51.100.255, the uplink's broadcast */
		{ 0xc6336401, 0 },		/* 198.51.100.1 */
	};
	struct env *e = *state;

	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++) {
		struct dns_cfg dns = { .n_upstream = 1,
				       .upstream = { htonl(t[i].server) } };
		struct dp_config dc = {
			.inside = &e->in.port, .outside = &e->out.port,
			.nat = e->nat, .gw_addr = htonl(0x0a000201),
			.gw_plen = 24, .dns = &dns,
			.ext_addr = htonl(0xc6336402), .ext_plen = 24,
		};
		struct dp_worker *w = NULL;

		memcpy(dc.gw_mac, gw_mac, 6);
		assert_int_equal(dp_worker_create(&w, &dc), t[i].want);
		dp_worker_destroy(w);
	}
}

/*
 * A second guest port, added from the test's thread while the worker runs
 * (through its control channel), joins the segment: it is answered, on
 * that port only (the switch learned the guest there). Removed again, it
 * is destroyed on the worker's thread, its switch entry goes with it, it
 * gets nothing more, and the first port goes on (the same guest MAC now
 * answered there); the segment's counters keep what it counted.
 */
static void worker_guest_ports_come_and_go(void **state)
{
	struct env *e = *state;
	struct memport *g = malloc(sizeof(*g));
	uint8_t f[MEMPORT_FRAME];
	char *stats;

	assert_non_null(g);
	mp_init(g, 0);
	snprintf(g->port.name, sizeof(g->port.name), "g2");
	assert_int_equal(dp_worker_add_port(e->w, &g->port), 0);
	mp_push(g, f, echo_frame(f, 1), NULL);
	mp_wait(g, 1);
	stats = env_stats(e);
	assert_int_equal(e->in.n_out, 0);
	assert_int_equal(g->n_out, 1);
	assert_non_null(strstr(stats, "stat ports.guests 2\n"));
	assert_non_null(strstr(stats, "arcnat: port guest2 is g2\n"));
	assert_non_null(strstr(stats, "stat guest2.rx_packets 1\n"));
	assert_non_null(strstr(stats, "stat guest2.tx_packets 1\n"));
	assert_non_null(strstr(stats, "stat guest1.rx_packets 0\n"));
	assert_non_null(strstr(stats, "stat guest1.tx_packets 0\n"));
	assert_non_null(strstr(stats, "stat inside.rx_packets 1\n"));
	assert_non_null(strstr(stats, "stat inside.tx_packets 1\n"));
	assert_non_null(strstr(stats, "stat switch.learned 1\n"));
	free(stats);
	env_resume(e);

	assert_int_equal(dp_worker_remove_port(e->w, &g->port), 0);
	mp_push(&e->in, f, echo_frame(f, 2), NULL);
	mp_wait(&e->in, 1);
	stats = env_stats(e);
	assert_true(g->destroyed);
	assert_true(pthread_equal(g->destroyed_by, e->worker_th));
	assert_int_equal(g->n_out, 1);
	assert_int_equal(e->in.n_out, 1);
	assert_non_null(strstr(stats, "stat ports.guests 1\n"));
	assert_null(strstr(stats, "guest2"));
	assert_non_null(strstr(stats, "stat inside.rx_packets 2\n"));
	assert_non_null(strstr(stats, "stat inside.tx_packets 2\n"));
	assert_non_null(strstr(stats, "stat switch.flushed 1\n"));
	assert_non_null(strstr(stats, "stat switch.learned 2\n"));
	assert_non_null(strstr(stats, "stat drops.total 0\n"));
	free(stats);
	memport_fini(g);
	free(g);
	env_resume(e);
}

/*
 * A listening port, as a stream or vhost-user listener will be: on each
 * kick of its fd, on the worker's thread, it attaches its child port, or
 * detaches it if attached. The results are for the test to read.
 */
struct listener {
	struct dp_port port;
	struct dp_worker *w;
	struct memport *child;
	pthread_mutex_t lock;
	bool attached;
	int add_err, remove_err;
	unsigned int kicks;
};

static int ls_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	struct listener *l = container_of(p, struct listener, port);
	uint64_t v;

	(void)bufs;
	(void)n;
	(void)now;
	if (read(p->fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	pthread_mutex_lock(&l->lock);
	if (!l->attached) {
		l->add_err = dp_worker_add_port(l->w, &l->child->port);
		l->attached = l->add_err == 0;
	} else {
		l->remove_err = dp_worker_remove_port(l->w, &l->child->port);
		l->attached = false;
	}
	l->kicks++;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static unsigned int ls_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	(void)p;
	(void)bufs;
	(void)now;
	return n;	/* a listener carries no frames: all refused, silently */
}

static void ls_destroy(struct dp_port *p)
{
	(void)p;
}

static const struct dp_port_ops ls_ops = {
	.rx_burst = ls_rx,
	.tx_burst = ls_tx,
	.destroy = ls_destroy,
};

static void ls_kick_and_wait(struct listener *l, unsigned int kicks)
{
	uint64_t one = 1;

	assert_int_equal(write(l->port.fd, &one, sizeof(one)), sizeof(one));
	for (int i = 0; i < 2000; i++) {
		bool done;

		pthread_mutex_lock(&l->lock);
		done = l->kicks >= kicks;
		pthread_mutex_unlock(&l->lock);
		if (done)
			return;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	fail_msg("the listener was not kicked within 2 s");
}

/*
 * Ports added and removed by a port, on the worker's thread, in the middle
 * of its own event handling: the child is attached at once, works, and is
 * detached and destroyed at once; the worker goes on.
 */
static void worker_port_attaches_ports_on_the_worker_thread(void **state)
{
	struct env *e = *state;
	struct listener l = { 0 };
	struct memport child;
	uint8_t f[MEMPORT_FRAME];
	char *stats;

	mp_init(&child, 0);
	snprintf(child.port.name, sizeof(child.port.name), "child");
	pthread_mutex_init(&l.lock, NULL);
	l.port.ops = &ls_ops;
	l.port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(l.port.fd >= 0);
	snprintf(l.port.name, sizeof(l.port.name), "listener");
	l.w = e->w;
	l.child = &child;
	assert_int_equal(dp_worker_add_port(e->w, &l.port), 0);

	ls_kick_and_wait(&l, 1);
	assert_int_equal(l.add_err, 0);
	mp_push(&child, f, echo_frame(f, 1), NULL);
	mp_wait(&child, 1);
	ls_kick_and_wait(&l, 2);
	assert_int_equal(l.remove_err, 0);
	mp_push(&e->in, f, echo_frame(f, 2), NULL);
	mp_wait(&e->in, 1);
	stats = env_stats(e);
	assert_true(child.destroyed);
	assert_true(pthread_equal(child.destroyed_by, e->worker_th));
	assert_int_equal(child.n_out, 1);
	assert_non_null(strstr(stats, "stat ports.guests 2\n"));	/* + listener */
	assert_non_null(strstr(stats, "stat inside.rx_packets 2\n"));
	free(stats);
	env_resume(e);
	assert_int_equal(dp_worker_remove_port(e->w, &l.port), 0);
	env_pause(e);
	memport_fini(&child);
	close(l.port.fd);
	pthread_mutex_destroy(&l.lock);
}

/*
 * A guest port over one end of a UNIX datagram socket pair; the test is
 * the peer. Its tx says "not now" when the kernel does (EAGAIN: the peer's
 * receive queue is full) and refuses other errors for good.
 */
struct sockport {
	struct dp_port port;
	int peer;
};

static int sp_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	unsigned int got = 0;

	(void)now;
	while (got < n) {
		struct dp_buf *b = bufs[got];
		ssize_t r;

		dp_buf_reset(b);
		r = recv(p->fd, b->data, dp_buf_room(b), MSG_DONTWAIT);
		if (r < 0)
			break;
		b->len = (uint32_t)r;
		p->stats.rx_packets++;
		p->stats.rx_bytes += b->len;
		got++;
	}
	return (int)got;
}

static unsigned int sp_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	(void)now;
	for (unsigned int i = 0; i < n; i++) {
		dp_buf_check(bufs[i], 0);
		if (send(p->fd, bufs[i]->data, bufs[i]->len, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				return i;
			p->stats.tx_dropped++;
			continue;
		}
		p->stats.tx_packets++;
		p->stats.tx_bytes += bufs[i]->len;
	}
	return n;
}

static void sp_destroy(struct dp_port *p)
{
	(void)p;	/* the test closes the sockets */
}

static const struct dp_port_ops sp_ops = {
	.rx_burst = sp_rx,
	.tx_burst = sp_tx,
	.destroy = sp_destroy,
};

/* Open the pair, fill the port's way out until the kernel says EAGAIN,
 * attach the port. Return: the filler datagrams queued at the peer. */
static unsigned int sp_open_blocked(struct env *e, struct sockport *sp)
{
	int sv[2];
	unsigned int k = 0;

	memset(sp, 0, sizeof(*sp));
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
					     SOCK_CLOEXEC, 0, sv), 0);
	sp->port.ops = &sp_ops;
	sp->port.fd = sv[0];
	sp->peer = sv[1];
	snprintf(sp->port.name, sizeof(sp->port.name), "sock");
	while (send(sv[0], "x", 1, MSG_DONTWAIT) == 1)
		assert_true(++k < 100000);
	assert_int_equal(errno, EAGAIN);
	assert_true(k > 0);
	assert_int_equal(dp_worker_add_port(e->w, &sp->port), 0);
	return k;
}

static void sp_wait(int fd, short ev)
{
	struct pollfd pfd = { .fd = fd, .events = ev };

	if (poll(&pfd, 1, 2000) != 1)
		fail_msg("socket not ready within 2 s");
}

static void sp_send(struct sockport *sp, const uint8_t *f, size_t len)
{
	sp_wait(sp->peer, POLLOUT);
	assert_int_equal(send(sp->peer, f, len, MSG_DONTWAIT), (ssize_t)len);
}

static size_t sp_recv(struct sockport *sp, uint8_t *f)
{
	ssize_t r;

	sp_wait(sp->peer, POLLIN);
	r = recv(sp->peer, f, MEMPORT_FRAME, MSG_DONTWAIT);
	assert_true(r > 0);
	return (size_t)r;
}

/* The peer reads the filler, then @n echo replies: seq @first, +1, ... */
static void sp_expect_replies(struct sockport *sp, unsigned int filler,
			      unsigned int n, uint16_t first)
{
	uint8_t f[MEMPORT_FRAME];
	struct pkt_meta m;
	uint16_t seq;

	for (unsigned int i = 0; i < filler; i++)
		assert_int_equal(sp_recv(sp, f), 1);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = sp_recv(sp, f);

		assert_int_equal(pkt_parse(f, (uint32_t)len, 0, &m), PKT_DROP_OK);
		assert_int_equal(m.icmp_type, 0);
		memcpy(&seq, f + m.l4_off + 6, sizeof(seq));
		assert_int_equal(ntohs(seq), first + i);
	}
}

static void sp_close(struct env *e, struct sockport *sp)
{
	assert_int_equal(dp_worker_remove_port(e->w, &sp->port), 0);
	env_pause(e);	/* the removal is served before the stop */
	close(sp->port.fd);
	close(sp->peer);
}

/*
 * Back-pressure: the port says "not now"; its replies wait in its queue
 * (counted as queued, not dropped) and go out in order once the peer reads
 * and the socket is writable again (EPOLLOUT).
 */
static void worker_blocked_port_gets_its_frames_later_in_order(void **state)
{
	struct env *e = *state;
	struct sockport sp;
	uint8_t f[MEMPORT_FRAME];
	unsigned int filler = sp_open_blocked(e, &sp);
	char *stats;

	for (uint16_t seq = 1; seq <= 5; seq++)
		sp_send(&sp, f, echo_frame(f, seq));
	stats = env_stats_until(e, "stat guest2.tx_queued 5\n");
	assert_non_null(strstr(stats, "stat guest2.rx_packets 5\n"));
	assert_int_equal(e->in.n_out, 0);	/* the guest is not there */
	assert_non_null(strstr(stats, "stat guest2.tx_packets 0\n"));
	free(stats);
	env_resume(e);

	sp_expect_replies(&sp, filler, 5, 1);
	stats = env_stats(e);
	assert_non_null(strstr(stats, "stat guest2.tx_packets 5\n"));
	assert_non_null(strstr(stats, "stat guest2.tx_queue_full 0\n"));
	assert_non_null(strstr(stats, "stat inside.tx_queued 5\n"));
	assert_non_null(strstr(stats, "stat drops.total 0\n"));
	free(stats);
	env_resume(e);
	sp_close(e, &sp);
}

/*
 * The queue is bounded: DP_TXQ_LEN replies wait, the 4 beyond are dropped
 * and counted, per port and in drops.total; the ones kept go out in order.
 */
static void worker_full_queue_drops_are_counted(void **state)
{
	struct env *e = *state;
	struct sockport sp;
	uint8_t f[MEMPORT_FRAME];
	unsigned int filler = sp_open_blocked(e, &sp);
	unsigned int n = DP_TXQ_LEN + 4;
	char *stats, want[64];

	for (unsigned int seq = 0; seq < n; seq++)
		sp_send(&sp, f, echo_frame(f, (uint16_t)seq));
	snprintf(want, sizeof(want), "stat guest2.rx_packets %u\n", n);
	stats = env_stats_until(e, want);
	snprintf(want, sizeof(want), "stat guest2.tx_queued %u\n", DP_TXQ_LEN);
	assert_non_null(strstr(stats, want));
	assert_non_null(strstr(stats, "stat guest2.tx_queue_full 4\n"));
	assert_non_null(strstr(stats, "stat inside.tx_queue_full 4\n"));
	assert_non_null(strstr(stats, "stat drops.total 4\n"));
	free(stats);
	env_resume(e);

	sp_expect_replies(&sp, filler, DP_TXQ_LEN, 0);
	sp_close(e, &sp);
}

/*
 * A port woken by extra fds, as a vhost-user port is: its own fd carries
 * control only; frames from it are announced on one eventfd (its guest's
 * transmit kick, sub-index KP_RX), room for frames to it on another (the
 * receive queue's kick, KP_TX). It takes nothing before its first KP_TX
 * kick ("not now"). It registers the eventfds in its first rx_burst, on
 * the worker's thread (as a vhost-user port does when a ring starts), and
 * unregisters them when it is destroyed.
 */
#define KP_RX	3u
#define KP_TX	4u

struct kickport {
	struct dp_port port;
	struct dp_worker *w;
	int rxk, txk;
	pthread_mutex_t lock;
	bool registered, rx_ready, can_tx;
	int reg_err;
	unsigned int regs, events, n_in, sent;
	uint16_t seq[8];
	uint8_t in[4][128];
	size_t in_len[4];
};

static int kp_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	struct kickport *k = container_of(p, struct kickport, port);
	unsigned int got = 0;
	uint64_t v;

	(void)now;
	if (read(p->fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&k->lock);
	if (!k->registered) {
		k->reg_err = dp_worker_add_fd(k->w, p, k->rxk, KP_RX, EPOLLIN);
		if (!k->reg_err)
			k->reg_err = dp_worker_add_fd(k->w, p, k->txk, KP_TX,
						     EPOLLIN);
		k->registered = true;
		k->regs++;
	}
	for (; k->rx_ready && got < n && got < k->n_in; got++) {
		dp_buf_reset(bufs[got]);
		memcpy(bufs[got]->data, k->in[got], k->in_len[got]);
		bufs[got]->len = (uint32_t)k->in_len[got];
		p->stats.rx_packets++;
	}
	k->rx_ready = false;
	pthread_mutex_unlock(&k->lock);
	return (int)got;
}

static int kp_fd_event(struct dp_port *p, uint32_t sub, uint32_t events,
		       uint64_t now)
{
	struct kickport *k = container_of(p, struct kickport, port);
	int r = 0;
	uint64_t v;

	(void)now;
	assert_true(events & EPOLLIN);
	pthread_mutex_lock(&k->lock);
	k->events++;
	if (sub == KP_RX && read(k->rxk, &v, sizeof(v)) == sizeof(v)) {
		k->rx_ready = true;
		r = DP_FD_RX;
	} else if (sub == KP_TX && read(k->txk, &v, sizeof(v)) == sizeof(v)) {
		k->can_tx = true;
		r = DP_FD_TX;
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

static unsigned int kp_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct kickport *k = container_of(p, struct kickport, port);
	unsigned int i = 0;

	(void)now;
	pthread_mutex_lock(&k->lock);
	for (; k->can_tx && i < n; i++) {
		struct pkt_meta m;
		uint16_t seq;

		dp_buf_check(bufs[i], 0);
		assert_int_equal(pkt_parse(bufs[i]->data, bufs[i]->len, 0, &m),
				 PKT_DROP_OK);
		memcpy(&seq, bufs[i]->data + m.l4_off + 6, sizeof(seq));
		if (k->sent < 8)
			k->seq[k->sent] = ntohs(seq);
		k->sent++;
		p->stats.tx_packets++;
	}
	pthread_mutex_unlock(&k->lock);
	return i;
}

static void kp_destroy(struct dp_port *p)
{
	struct kickport *k = container_of(p, struct kickport, port);

	dp_worker_del_fd(k->w, k->rxk);
	dp_worker_del_fd(k->w, k->txk);
}

static const struct dp_port_ops kp_ops = {
	.rx_burst = kp_rx,
	.tx_burst = kp_tx,
	.fd_event = kp_fd_event,
	.destroy = kp_destroy,
};

/* Poll (1 ms steps, 2 s at most) until *@v (under @k's lock) >= @n. */
static void kp_until(struct kickport *k, const unsigned int *v, unsigned int n)
{
	for (int i = 0; i < 2000; i++) {
		bool done;

		pthread_mutex_lock(&k->lock);
		done = *v >= n;
		pthread_mutex_unlock(&k->lock);
		if (done)
			return;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	fail_msg("the kick port did not get there within 2 s");
}

static void kp_kick(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/*
 * The worker's extra-fd API: a kick on KP_RX makes the worker receive from
 * the port; its replies wait in the port's queue ("not now") without
 * EPOLLOUT; a kick on KP_TX offers them again, in order. Once the port is
 * removed, its kicks wake nothing.
 */
static void worker_extra_fds_wake_their_port(void **state)
{
	struct env *e = *state;
	struct kickport k = { .w = e->w };
	uint64_t wakeups, wakeups0;
	char *stats;

	pthread_mutex_init(&k.lock, NULL);
	k.port.ops = &kp_ops;
	k.port.flags = DP_PORT_KICK;
	snprintf(k.port.name, sizeof(k.port.name), "kick");
	k.port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	k.rxk = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	k.txk = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(k.port.fd >= 0 && k.rxk >= 0 && k.txk >= 0);
	for (uint16_t i = 0; i < 3; i++)
		k.in_len[i] = echo_frame(k.in[i], (uint16_t)(i + 1));
	k.n_in = 3;
	assert_int_equal(dp_worker_add_port(e->w, &k.port), 0);
	kp_kick(k.port.fd);
	kp_until(&k, &k.regs, 1);

	kp_kick(k.rxk);
	/* Answered on that port only (the switch learned the guest there). */
	stats = env_stats_until(e, "stat guest2.tx_queued 3\n");
	wakeups0 = stat_value(stats, "stat dp.wakeups ");
	free(stats);
	env_resume(e);
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	stats = env_stats(e);
	assert_int_equal(e->in.n_out, 0);
	assert_int_equal(k.reg_err, 0);
	assert_int_equal(k.sent, 0);
	assert_non_null(strstr(stats, "stat guest2.rx_packets 3\n"));
	assert_non_null(strstr(stats, "stat guest2.tx_queued 3\n"));
	/* Waiting frames did not make the worker spin on EPOLLOUT. */
	wakeups = stat_value(stats, "stat dp.wakeups ");
	assert_true(wakeups - wakeups0 < 50);
	free(stats);
	env_resume(e);

	kp_kick(k.txk);
	kp_until(&k, &k.sent, 3);
	assert_memory_equal(k.seq, ((const uint16_t[]){ 1, 2, 3 }),
			    3 * sizeof(uint16_t));
	assert_int_equal(dp_worker_remove_port(e->w, &k.port), 0);
	env_pause(e);	/* the removal is served before the stop */
	env_resume(e);
	kp_kick(k.rxk);
	kp_kick(k.txk);
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	stats = env_stats(e);
	assert_int_equal(k.events, 2);
	assert_non_null(strstr(stats, "stat drops.total 0\n"));
	free(stats);
	env_resume(e);
	close(k.port.fd);
	close(k.rxk);
	close(k.txk);
	pthread_mutex_destroy(&k.lock);
}

/*
 * Between guests, the switch: a frame from one guest port to a MAC not
 * known yet floods to the other guest port as it is (no NAT, not the
 * gateway's); the answer goes to the one port the first guest was learned
 * on; a frame for a MAC behind the port it came in by goes nowhere.
 */
static void worker_switches_between_guest_ports(void **state)
{
	struct env *e = *state;
	struct memport *g = malloc(sizeof(*g));
	uint8_t f[MEMPORT_FRAME], f2[MEMPORT_FRAME];
	size_t n, n2;
	char *stats;

	assert_non_null(g);
	mp_init(g, 0);
	snprintf(g->port.name, sizeof(g->port.name), "g2");
	assert_int_equal(dp_worker_add_port(e->w, &g->port), 0);
	n = udp_frame(f, true, guest2_mac, htonl(0x0a000209), 5000,
		      htonl(0x0a000202), 6000, "to guest one");
	memcpy(f, guest_mac, 6);	/* for guest one's MAC, not the gateway's */
	mp_push(g, f, n, NULL);
	mp_wait(&e->in, 1);
	n2 = udp_frame(f2, true, guest_mac, htonl(0x0a000202), 6000,
		       htonl(0x0a000209), 5000, "back to two");
	memcpy(f2, guest2_mac, 6);
	mp_push(&e->in, f2, n2, NULL);
	mp_wait(g, 1);
	mp_push(g, f2, n2, NULL);	/* for guest two, from its own port */
	stats = env_stats(e);
	assert_int_equal(e->in.n_out, 1);
	assert_int_equal(e->in.out[0].len, n);
	assert_memory_equal(e->in.out[0].data, f, n);
	assert_int_equal(g->n_out, 1);
	assert_int_equal(g->out[0].len, n2);
	assert_memory_equal(g->out[0].data, f2, n2);
	assert_non_null(strstr(stats, "stat switch.learned 2\n"));
	assert_non_null(strstr(stats, "stat switch.unknown 1\n"));
	assert_non_null(strstr(stats, "stat switch.flooded 1\n"));
	assert_non_null(strstr(stats, "stat switch.forwarded 1\n"));
	assert_non_null(strstr(stats, "stat nat.flows 0\n"));
	free(stats);
	/* The third frame may still be on its way: wait for its count. */
	env_resume(e);
	stats = env_stats_until(e, "stat switch.same_port 1\n");
	assert_non_null(strstr(stats, "stat drops.total 1\n"));
	assert_int_equal(g->n_out, 1);
	free(stats);
	env_resume(e);
	assert_int_equal(dp_worker_remove_port(e->w, &g->port), 0);
	env_pause(e);
	memport_fini(g);
	free(g);
}

/*
 * A guest's packet for another guest's address, sent to the gateway's MAC,
 * is routed back inside to that guest (TTL one less, a valid header
 * checksum, the gateway's MAC as source), never NATed out of the uplink;
 * with TTL 1 it is a counted drop. (Both guests sit behind the one port
 * here: the switch would not reflect their own frames, the gateway's it
 * sends to whichever port has the MAC.)
 */
static void worker_routes_guest_to_guest_inside(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	struct mframe got;
	struct pkt_meta m;
	struct ip4_hdr ip;
	char *stats;
	size_t n;

	learn_guest(e, guest_mac, htonl(0x0a000202));
	learn_guest(e, guest2_mac, htonl(0x0a000209));
	n = udp_frame(f, true, guest_mac, htonl(0x0a000202), 4000,
		      htonl(0x0a000209), 4001, "routed");
	mp_push(&e->in, f, n, NULL);
	assert_true(memport_wait(&e->in, 3, &got));
	assert_int_equal(got.len, n);
	assert_memory_equal(got.data, guest2_mac, 6);
	assert_memory_equal(got.data + 6, gw_mac, 6);
	assert_int_equal(pkt_parse(got.data, got.len, 0, &m), PKT_DROP_OK);
	memcpy(&ip, got.data + ETH_HLEN, sizeof(ip));
	assert_int_equal(ip.ttl, 63);
	assert_int_equal(ip.saddr, htonl(0x0a000202));
	assert_memory_equal(got.data + ETH_HLEN + IP4_HLEN_MIN + 8, "routed", 6);

	f[ETH_HLEN + offsetof(struct ip4_hdr, ttl)] = 1;
	memcpy(&ip, f + ETH_HLEN, sizeof(ip));
	ip.check = 0;
	memcpy(f + ETH_HLEN, &ip, sizeof(ip));
	ip.check = csum_ip4_header(f + ETH_HLEN, IP4_HLEN_MIN);
	memcpy(f + ETH_HLEN, &ip, sizeof(ip));
	mp_push(&e->in, f, n, NULL);
	stats = env_stats_until(e, "stat drop.dp.ttl 1\n");
	assert_int_equal(e->out.n_out, 0);
	assert_int_equal(e->in.n_out, 3);
	assert_non_null(strstr(stats, "stat nat.flows 0\n"));
	free(stats);
}

/*
 * A flow-level uplink (uplink/sock) gets each packet's conntrack flow in
 * dp_buf.flow, hears of each flow that leaves the table (flow_gone), and
 * has output it made without any fd event polled (rx_pending): here the
 * uplink owes a reply as soon as it sends, queued without a wakeup.
 */
static struct {
	uint32_t flows[8];
	unsigned int n_flows;
	uint32_t gone[8];
	bool last[8];
	unsigned int n_gone;
	bool owe;
} fl;

static unsigned int fl_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct memport *m = container_of(p, struct memport, port);

	for (unsigned int i = 0; i < n; i++)
		fl.flows[fl.n_flows++ % 8] = bufs[i]->flow;
	if (fl.owe && n) {
		struct pkt_meta pm;
		struct mframe *f = &m->in[m->in_tail % MEMPORT_IN_MAX];
		struct pkt_spec s = { .no_eth = true, .proto = IPPROTO_UDP,
				      .payload = "owed", .payload_len = 4 };
		int len;

		assert_int_equal(pkt_parse(bufs[0]->data, bufs[0]->len,
					   PKT_PARSE_L3, &pm), PKT_DROP_OK);
		s.src4 = pkt_ip4_daddr(bufs[0]->data, &pm);
		s.dst4 = pkt_ip4_saddr(bufs[0]->data, &pm);
		s.sport = ntohs(pm.dport);
		s.dport = ntohs(pm.sport);
		len = pkt_build(&s, f->data, sizeof(f->data));
		assert_true(len > 0);
		f->len = (uint32_t)len;
		f->vnet = (struct pkt_vnet){ 0 };
		pthread_mutex_lock(&m->lock);
		m->in_tail++;	/* no eventfd write: no wakeup */
		pthread_mutex_unlock(&m->lock);
		fl.owe = false;
	}
	return memport_ops.tx_burst(p, bufs, n, now);
}

static bool fl_pending(const struct dp_port *p)
{
	const struct memport *m = container_of(p, const struct memport, port);

	return m->in_head != m->in_tail;	/* the worker's thread writes both */
}

static void fl_gone(struct dp_port *p, uint32_t flow, const struct ct_entry *e,
		    bool mapping_gone)
{
	(void)p;
	(void)e;
	fl.gone[fl.n_gone % 8] = flow;
	fl.last[fl.n_gone++ % 8] = mapping_gone;
}

static int fl_setup(void **state)
{
	static struct dp_port_ops ops;
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	memset(&fl, 0, sizeof(fl));
	ops = memport_ops;
	ops.tx_burst = fl_tx;
	ops.rx_pending = fl_pending;
	ops.flow_gone = fl_gone;
	mp_init(&e->in, 0);
	mp_init(&e->out, DP_PORT_L3 | DP_PORT_VNET);
	e->out.port.ops = &ops;
	env_worker_create(e, htonl(0x0a000209));
	env_resume(e);
	*state = e;
	return 0;
}

static void worker_flow_level_uplink(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	struct ct_tuple t = { .saddr = htonl(0x0a000202),
			      .daddr = htonl(0xc6336401),
			      .sport = htons(40000), .dport = htons(7),
			      .proto = IPPROTO_UDP };
	struct timespec ts;
	enum ct_dir d;
	uint32_t flow;
	size_t n;

	learn_guest(e, guest_mac, htonl(0x0a000202));
	env_pause(e);
	fl.owe = true;
	env_resume(e);
	n = udp_frame(f, true, guest_mac, htonl(0x0a000202), 40000,
		      htonl(0xc6336401), 7, "hello");
	mp_push(&e->in, f, n, NULL);
	mp_wait(&e->in, 2);	/* the ARP reply, then the owed reply */
	env_pause(e);
	assert_memory_equal(e->in.out[1].data + ETH_HLEN + IP4_HLEN_MIN + 8,
			    "owed", 4);
	assert_int_equal(fl.n_flows, 1);
	flow = ct_index(nat_ct(e->nat), ct_find(nat_ct(e->nat), &t, &d));
	assert_int_equal(fl.flows[0], flow);
	assert_int_equal(fl.n_gone, 0);

	/* Long after: the lookup finds the flow expired, removes it (the
	 * uplink hears of it with its mapping) and makes a new one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	dp_worker_input(e->w, true, f, n, NULL,
			(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
				8000ull * 1000000000u);
	assert_int_equal(fl.n_gone, 1);
	assert_int_equal(fl.gone[0], flow);
	assert_true(fl.last[0]);
	assert_int_equal(fl.n_flows, 2);
	assert_int_not_equal(fl.flows[1], DP_FLOW_NONE);
	env_resume(e);
}

/*
 * The socket uplink's loopback image (uplink/sock_defs.h) as the worker
 * sees it, with the NAT's inbound alias 198.19.0.0/16 -> the gateway, a
 * wildcard TCP redirect of the gateway to 198.19.0.1 and 198.18.0.0/15 no
 * guest's destination: a loopback client of the UDP forward reaches the
 * guest from the gateway, and the guest's answer to the gateway, which no
 * redirect takes but which belongs to that flow (nat_has_flow()), goes out
 * to the client; a SYN to a port of the gateway goes to 198.19.0.1; a
 * datagram to 198.19.0.1 itself is a martian; one to the gateway of no
 * flow and no redirect is dropped as before (to_gateway).
 */
static int env_setup_lo(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct nat_config nc = gw_fixture_nat(1024);
	const struct nat_forward fwd = {
		.proto = IPPROTO_UDP, .ext_addr = htonl(0xc6336402),
		.ext_port = 5000, .int_addr = htonl(0x0a000209), .int_port = 53,
	};
	const struct nat_redirect rd = {
		.proto = IPPROTO_TCP, .addr = htonl(0x0a000201),
		.to_addr = htonl(0xc6130001),
	};
	struct dp_config dc;

	assert_non_null(e);
	mp_init(&e->in, 0);
	mp_init(&e->out, DP_PORT_L3 | DP_PORT_VNET);
	nc.inbound_alias = (struct nat_alias){ htonl(0xc6130000),
					       htonl(0xffff0000), htonl(0x0a000201) };
	assert_int_equal(nat_create(&e->nat, &nc), 0);
	assert_int_equal(nat_add_forward(e->nat, &fwd), 0);
	assert_int_equal(nat_add_redirect(e->nat, &rd), 0);
	dc = gw_fixture_dp(&e->in.port, &e->out.port, e->nat);
	dc.no_dst_addr = htonl(0xc6120000);
	dc.no_dst_plen = 15;
	assert_int_equal(dp_worker_create(&e->w, &dc), 0);
	env_resume(e);
	*state = e;
	return 0;
}

/* The UDP header of the IPv4 packet at @ip. */
static struct udp_hdr udp_of(const uint8_t *ip)
{
	struct udp_hdr u;

	memcpy(&u, ip + IP4_HLEN_MIN, sizeof(u));
	return u;
}

static void worker_loopback_image(void **state)
{
	struct env *e = *state;
	uint8_t f[MEMPORT_FRAME];
	struct pkt_spec syn = {
		.src4 = htonl(0x0a000209), .dst4 = htonl(0x0a000201), .ttl = 64,
		.proto = IPPROTO_TCP, .sport = 41000, .dport = 7777,
		.tcp_flags = 0x02, .seq = 1,
	};
	struct ip4_hdr ip;
	struct udp_hdr u;
	char *stats;
	size_t n;
	int k;

	learn_guest(e, guest_mac, htonl(0x0a000209));
	/* A client on the host's 127.0.0.1:40000, to the forward. */
	n = udp_frame(f, false, NULL, htonl(0xc6130001), 40000,
		      htonl(0xc6336402), 5000, "query");
	mp_push(&e->out, f, n, NULL);
	mp_wait(&e->in, 2);	/* the ARP reply, then the datagram */
	env_pause(e);
	memcpy(&ip, e->in.out[1].data + ETH_HLEN, sizeof(ip));
	assert_int_equal(ip.saddr, htonl(0x0a000201));
	assert_int_equal(ip.daddr, htonl(0x0a000209));
	u = udp_of(e->in.out[1].data + ETH_HLEN);
	assert_int_equal(ntohs(u.sport), 40000);
	assert_int_equal(ntohs(u.dport), 53);
	env_resume(e);

	/* The guest answers the gateway: out to the client, from the forward. */
	n = udp_frame(f, true, guest_mac, htonl(0x0a000209), 53,
		      htonl(0x0a000201), 40000, "answer");
	mp_push(&e->in, f, n, NULL);
	mp_wait(&e->out, 1);
	/* A SYN to a port of the gateway: the redirect, to 198.19.0.1. */
	memcpy(syn.eth_dst, gw_mac, 6);
	memcpy(syn.eth_src, guest_mac, 6);
	k = pkt_build(&syn, f, sizeof(f));
	assert_true(k > 0);
	mp_push(&e->in, f, (size_t)k, NULL);
	mp_wait(&e->out, 2);
	env_pause(e);
	memcpy(&ip, e->out.out[0].data, sizeof(ip));
	assert_int_equal(ip.saddr, htonl(0xc6336402));
	assert_int_equal(ip.daddr, htonl(0xc6130001));
	u = udp_of(e->out.out[0].data);
	assert_int_equal(ntohs(u.sport), 5000);
	assert_int_equal(ntohs(u.dport), 40000);
	memcpy(&ip, e->out.out[1].data, sizeof(ip));
	assert_int_equal(ip.daddr, htonl(0xc6130001));
	assert_int_equal(ip.protocol, IPPROTO_TCP);
	assert_int_equal(ntohs(udp_of(e->out.out[1].data).dport), 7777);
	env_resume(e);

	/* The image itself, and UDP to the gateway of no flow: dropped. */
	n = udp_frame(f, true, guest_mac, htonl(0x0a000209), 41002,
		      htonl(0xc6130001), 7777, "direct");
	mp_push(&e->in, f, n, NULL);
	n = udp_frame(f, true, guest_mac, htonl(0x0a000209), 53,
		      htonl(0x0a000201), 40001, "nobody");
	mp_push(&e->in, f, n, NULL);
	mp_wait_taken(&e->in);
	stats = env_stats(e);
	assert_int_equal(e->out.n_out, 2);
	assert_non_null(strstr(stats, "stat drop.dp.dst_uplink_range 1\n"));
	assert_non_null(strstr(stats, "stat drop.dp.to_gateway 1\n"));
	assert_non_null(strstr(stats, "stat nat.redirects 1\n"));
	assert_non_null(strstr(stats, "stat nat.flows_in 1\n"));
	free(stats);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			worker_outbound_strips_eth_and_keeps_offloads,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_forward_arps_for_unknown_guest_then_delivers,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(worker_sleeps_without_busy_poll,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_busy_polls_after_traffic_only,
			env_setup_polling, env_teardown),
		cmocka_unit_test_setup_teardown(worker_echo_and_counted_drops,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(worker_port_refusals_are_counted,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(worker_martians_leave_no_state,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(worker_refuses_martian_dns_server,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(worker_guest_ports_come_and_go,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_port_attaches_ports_on_the_worker_thread,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_blocked_port_gets_its_frames_later_in_order,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_full_queue_drops_are_counted, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_extra_fds_wake_their_port, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_switches_between_guest_ports, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(
			worker_routes_guest_to_guest_inside, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(worker_loopback_image,
						env_setup_lo, env_teardown),
		cmocka_unit_test_setup_teardown(worker_flow_level_uplink,
						fl_setup, env_teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
