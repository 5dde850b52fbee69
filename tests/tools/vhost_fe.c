// SPDX-License-Identifier: MIT
/*
 * vhost_fe.c - a vhost-user frontend and guest for tests and benchmarks:
 * connects to arcnat's --inside vhost-user:PATH without QEMU, shares memfd
 * guest memory, brings the device up as QEMU 7.2 does and drives both
 * virtqueues (tests/unit/vhost_guest.h).
 *
 *   vhost_fe PATH echo N        N echo requests to the gateway (10.0.2.1),
 *                               each reply checked; exit 0 if all came
 *   vhost_fe PATH flood N LEN DST [PORT]
 *                               N UDP frames of LEN bytes (Ethernet) to DST
 *                               port PORT (default 9; give a port something
 *                               listens on, or the far kernel answers each
 *                               frame with an ICMP error that arcnat then
 *                               carries back) through the gateway, as fast
 *                               as the ring takes them; prints frames,
 *                               seconds, frames per second and Gbit/s of
 *                               what arcnat took
 *   vhost_fe PATH sink SECONDS  count the frames arcnat gives the guest for
 *                               SECONDS (a sender outside reaches it through
 *                               a port forward to 10.0.2.50); answers ARP
 *                               for 10.0.2.50; prints frames, frames per
 *                               second and Gbit/s received
 *   vhost_fe PATH hostile       bad messages and bad descriptors, the ring
 *                               still answering in between; then an
 *                               available index from nowhere: exit 0 if
 *                               arcnat closed the connection
 *
 * The guest's address is 10.0.2.50 (MAC 52:54:00:00:00:50): no DHCP.
 * Every wait is bounded (2 s per reply, 20 s per flood).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkt/build.h"
#include "pkt/parse.h"
#include "unit/vhost_guest.h"

#define FE_FRAME 2048

static const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t fe_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x50 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The flood's destination port (host order). */
static uint16_t fe_udp_dport = 9;

static size_t fe_frame(uint8_t *f, uint8_t proto, uint32_t dst, uint16_t seq,
		       size_t len)
{
	static const uint8_t zeros[FE_FRAME] = { 0 };
	struct pkt_spec s = {
		.src4 = htonl(0x0a000232),
		.dst4 = dst,
		.ttl = 64,
		.proto = proto,
		.icmp_type = 8,
		.icmp_id = 50,
		.icmp_seq = seq,
		.sport = 40000,
		.dport = fe_udp_dport,
		.payload = zeros,
		.payload_len = 4,
	};
	int n;

	if (proto == IPPROTO_UDP && len > 42)
		s.payload_len = len - 42;
	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, fe_mac, 6);
	n = pkt_build(&s, f, FE_FRAME);
	return n > 0 ? (size_t)n : 0;
}

/* Echo request @seq, and its reply. Return: 0 or -1. */
static int fe_echo(struct vg *g, uint16_t seq)
{
	uint8_t f[FE_FRAME];
	struct pkt_meta m;
	size_t len = fe_frame(f, IPPROTO_ICMP, htonl(0x0a000201), seq, 0);
	uint16_t got;
	int n;

	if (!len || vg_send(g, f, len, true))
		return -1;
	n = vg_recv(g, f, sizeof(f), 2000);
	if (n <= 0 || pkt_parse(f, (uint32_t)n, 0, &m) != PKT_DROP_OK ||
	    m.icmp_type != 0)
		return -1;
	memcpy(&got, f + m.l4_off + 6, sizeof(got));
	return ntohs(got) == seq ? 0 : -1;
}

static int mode_echo(struct vg *g, unsigned int n)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += fe_echo(g, (uint16_t)(i + 1)) == 0;
	printf("echo: %u of %u answered\n", ok, n);
	return ok == n ? 0 : 1;
}

static int mode_flood(struct vg *g, unsigned long n, size_t len, uint32_t dst)
{
	uint8_t f[FE_FRAME];
	size_t flen = fe_frame(f, IPPROTO_UDP, dst, 0, len);
	double t0, t;
	unsigned long sent = 0;

	if (!flen) {
		fprintf(stderr, "vhost_fe: cannot build a %zu-byte frame\n", len);
		return 2;
	}
	t0 = now_s();
	while (sent < n && now_s() - t0 < 20) {
		unsigned int batch = 0;

		while (sent < n && batch < 32 && !vg_send(g, f, flen, false)) {
			sent++;
			batch++;
		}
		if (batch)
			vg_kick(g, 1);
		else
			sched_yield();
	}
	while (vg_tx_inflight(g) && now_s() - t0 < 20)
		sched_yield();
	t = now_s() - t0;
	sent -= vg_tx_inflight(g);
	printf("flood: frames %lu bytes %zu seconds %.3f pps %.0f gbit %.3f\n",
	       sent, flen, t, (double)sent / t,
	       (double)sent * (double)flen * 8 / t / 1e9);
	return sent == n ? 0 : 1;
}

/* An ARP frame from the guest: @op 1 request, 2 reply, to @tha/@tip. */
static void fe_arp(struct vg *g, uint16_t op, const uint8_t *tha, uint32_t tip)
{
	uint8_t f[42] = { 0 };
	uint32_t sip = htonl(0x0a000232);

	memcpy(f, op == 1 ? (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff,
						0xff } : tha, 6);
	memcpy(f + 6, fe_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;	/* Ethernet */
	f[16] = 0x08;	/* IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[21] = (uint8_t)op;
	memcpy(f + 22, fe_mac, 6);
	memcpy(f + 28, &sip, 4);
	if (op == 2)
		memcpy(f + 32, tha, 6);
	memcpy(f + 38, &tip, 4);
	(void)vg_send(g, f, sizeof(f), true);
}

/*
 * One pass over what the device has used on the receive ring: each frame
 * counted (an ARP request for us answered after the pass), each buffer
 * given back, and one kick for the whole pass, as a virtio-net driver
 * refills its ring in batches. Return: frames seen (ARP included).
 */
static unsigned int sink_drain(struct vg *g, unsigned long *frames,
			       unsigned long *bytes, uint8_t *arp)
{
	struct vring_used_le *u = vg_used(g, 0);
	/* Pairs with the device's release of used->idx. */
	uint16_t idx = __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (g->used[0] != idx && n < VG_NUM) {
		struct vring_used_elem_le e = u->ring[g->used[0] % VG_NUM];
		const uint8_t *f;

		g->used[0]++;
		n++;
		if (e.id >= VG_NUM || e.len < VG_HDR || e.len > VG_RXBUF)
			continue;
		f = g->mem + vg_buf_off(0, e.id) + VG_HDR;
		if (e.len - VG_HDR >= 42 && f[12] == 0x08 && f[13] == 0x06 &&
		    f[21] == 1)
			memcpy(arp, f, 42);
		else {
			(*frames)++;
			*bytes += e.len - VG_HDR;
		}
		vg_publish(g, 0, (uint16_t)e.id);
	}
	if (n)
		vg_kick(g, 0);
	return n;
}

static int mode_sink(struct vg *g, double secs)
{
	uint8_t arp[42];
	unsigned long frames = 0, bytes = 0, seen = 0;
	double t0 = now_s(), first = 0, last = 0;

	fe_arp(g, 1, NULL, htonl(0x0a000201));	/* the gateway learns us */
	while (now_s() - t0 < secs) {
		arp[12] = 0;
		if (!sink_drain(g, &frames, &bytes, arp)) {
			/* Empty: 50 us, a fifth of the ring at 1 Mpps. */
			nanosleep(&(struct timespec){ 0, 50000 }, NULL);
			continue;
		}
		if (arp[12] == 0x08) {
			uint32_t tip, spa;

			memcpy(&tip, arp + 38, 4);
			memcpy(&spa, arp + 28, 4);
			if (tip == htonl(0x0a000232))
				fe_arp(g, 2, arp + 22, spa);
		}
		if (frames != seen) {
			if (!seen)
				first = now_s();
			last = now_s();
			seen = frames;
		}
	}
	if (frames > 1 && last > first)
		printf("sink: frames %lu bytes %lu seconds %.3f pps %.0f gbit %.3f\n",
		       frames, bytes, last - first,
		       (double)(frames - 1) / (last - first),
		       (double)bytes * 8 / (last - first) / 1e9);
	else
		printf("sink: frames %lu bytes %lu\n", frames, bytes);
	return frames ? 0 : 1;
}

static int mode_hostile(struct vg *g)
{
	struct vhost_msg_addr a = { .index = 0, .desc = 16, .used = 64,
				    .avail = 32 };
	uint64_t v = 0;
	uint16_t slot;
	int answered = 0;

	vg_rx_fill(g);
	/* an unknown request, answered with a failed ack */
	if (fe_send(g->sock, 99, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY, &v,
		    8, NULL, 0) || fe_reply_u64(g->sock, 99) != 1)
		return 1;
	/* a ring address outside the memory table */
	if (vg_msg(g, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) == 0)
		return 1;
	/* a descriptor outside guest memory */
	slot = g->avail[1] % VG_NUM;
	vg_desc(g, 1)[slot] = (struct vring_desc_le){ .addr = VG_MEM + 4096,
						      .len = 100 };
	vg_publish(g, 1, slot);
	/* a chain that loops on itself */
	slot = g->avail[1] % VG_NUM;
	vg_desc(g, 1)[slot] = (struct vring_desc_le){
		.addr = vg_buf_off(1, slot), .len = 64,
		.flags = VRING_DESC_F_NEXT, .next = slot };
	vg_publish(g, 1, slot);
	vg_kick(g, 1);
	answered = fe_echo(g, 7) == 0;
	printf("hostile: bad message, ring outside memory, descriptor outside "
	       "memory, a loop; echo after them %s\n",
	       answered ? "answered" : "NOT answered");
	/* an available index far ahead: the ring breaks */
	__atomic_store_n(&vg_avail(g, 1)->idx, (uint16_t)(g->avail[1] + 1000),
			 __ATOMIC_RELEASE);
	vg_kick(g, 1);
	if (!vg_closed(g, 5000)) {
		printf("hostile: connection NOT closed after a broken ring\n");
		return 1;
	}
	printf("hostile: connection closed after a broken ring\n");
	return answered ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct vg g;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: vhost_fe PATH echo N | flood N LEN DST [PORT] | "
				"sink SECONDS | hostile\n");
		return 2;
	}
	if (vg_connect(&g, argv[1]) || vg_up(&g)) {
		fprintf(stderr, "vhost_fe: %s: cannot bring the device up\n",
			argv[1]);
		vg_close(&g);
		return 1;
	}
	if (!strcmp(argv[2], "echo") && argc == 4) {
		vg_rx_fill(&g);
		rc = mode_echo(&g, (unsigned int)strtoul(argv[3], NULL, 10));
	} else if (!strcmp(argv[2], "flood") && (argc == 6 || argc == 7)) {
		struct in_addr d;
		unsigned long port = argc == 7 ? strtoul(argv[6], NULL, 10) : 9;

		if (port == 0 || port > 65535) {
			fprintf(stderr, "vhost_fe: bad port %s\n", argv[6]);
			rc = 2;
		} else if (inet_pton(AF_INET, argv[5], &d) != 1) {
			fprintf(stderr, "vhost_fe: bad address %s\n", argv[5]);
			rc = 2;
		} else {
			fe_udp_dport = (uint16_t)port;
			vg_rx_fill(&g);
			rc = mode_flood(&g, strtoul(argv[3], NULL, 10),
					(size_t)strtoul(argv[4], NULL, 10),
					d.s_addr);
		}
	} else if (!strcmp(argv[2], "sink") && argc == 4) {
		vg_rx_fill(&g);
		rc = mode_sink(&g, strtod(argv[3], NULL));
	} else if (!strcmp(argv[2], "hostile")) {
		rc = mode_hostile(&g);
	} else {
		fprintf(stderr, "vhost_fe: unknown mode %s\n", argv[2]);
		rc = 2;
	}
	vg_close(&g);
	return rc;
}
