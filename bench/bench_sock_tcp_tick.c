// SPDX-License-Identifier: MIT
/*
 * bench_sock_tcp_tick - what sock_tcp_tick() costs with 10,000 connections.
 *
 * tick() runs the timer wheel's buckets of the ticks (1 ms) gone by; it
 * walked every used slot whenever the earliest deadline was due before
 * (30 us a walk here, 31 % of a CPU in the staggered case below). The
 * bench opens 10,000 relay connections (guest SYNs
 * towards a loopback listener that never accepts: they stay in
 * STCP_CONNECTING, which is enough, every slot is in use) and measures:
 * - a tick with nothing due (every connection's deadline, the connect
 *   timeout, 30 s away);
 * - the staggered case: each connection's window poll due 100 us after the
 *   previous one's, the clock advanced 100 us a call, so every millisecond
 *   about ten timers are due (as 10,000 connections with independent RTO,
 *   persist or window-poll timers make).
 * It reaches into the relay's state (uplink/sock_tcp_conn.h) to set the
 * deadlines. Needs 10,000 descriptors (RLIMIT_NOFILE); prints figures only,
 * never fails on speed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/tcp.h"
#include "uplink/sock_tcp.h"
#include "uplink/sock_tcp_conn.h"

#define NCONN	10000u
#define WALKS	2000u	/* ticks with nothing due */
#define STEP_NS	100000ull

static int ep = -1;

static int env_watch(void *ctx, int fd, uint32_t id, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = id };

	(void)ctx;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void env_unwatch(void *ctx, int fd)
{
	(void)ctx;
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sock_tcp_config cfg = { 0 };
	struct sock_tcp_stats st;
	struct rlimit rl;
	struct sock_tcp *t;
	socklen_t sl = sizeof(sa);
	uint8_t seg[128];
	uint64_t t0, t1, base;
	uint32_t i;
	int lfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NCONN + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < NCONN + 64) {
		printf("bench_sock_tcp_tick: needs %u descriptors, skipped\n",
		       NCONN + 64);
		return 0;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ep < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 16) || getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
		perror("bench_sock_tcp_tick: set-up");
		return 1;
	}
	cfg.max_conns = NCONN;
	cfg.max_flows = NCONN;
	cfg.ext_addr = htonl(0xc6120001u);
	cfg.env = (struct sock_tcp_env){ NULL, env_watch, env_unwatch };
	if (sock_tcp_create(&t, &cfg)) {
		fprintf(stderr, "bench_sock_tcp_tick: create failed\n");
		return 1;
	}
	for (i = 0; i < NCONN; i++) {
		struct pkt_spec s = {
			.no_eth = true,
			.src4 = cfg.ext_addr,
			.dst4 = sa.sin_addr.s_addr,
			.proto = IPPROTO_NUM_TCP,
			.sport = (uint16_t)(20000 + i),
			.dport = ntohs(sa.sin_port),
			.seq = 1000u * i,
			.tcp_flags = TCP_SYN,
			.mss = 1460,
		};
		struct pkt_meta m;
		int n = pkt_build(&s, seg, sizeof(seg));

		if (n <= 0 || pkt_parse(seg, (size_t)n, PKT_PARSE_L3, &m)) {
			fprintf(stderr, "bench_sock_tcp_tick: bad SYN\n");
			return 1;
		}
		sock_tcp_input(t, i, seg, (uint32_t)n, &m, NULL, now_ns());
	}
	sock_tcp_get_stats(t, &st);
	printf("sock_tcp tick: %lu connections open (%lu refused)\n",
	       (unsigned long)st.active,
	       (unsigned long)(st.socket_failed + st.table_full));

	/* Ticks with nothing due, one wheel tick apart. */
	base = now_ns();
	sock_tcp_tick(t, base);
	t0 = now_ns();
	for (i = 1; i <= WALKS; i++)
		sock_tcp_tick(t, base + ((uint64_t)i << STCP_TW_SHIFT));
	t1 = now_ns();
	printf("  tick with nothing due, %u connections: %.3f us\n", NCONN,
	       (double)(t1 - t0) / WALKS / 1e3);

	/* Staggered deadlines: one due each tick, each tick walks them all. */
	base += ((uint64_t)(WALKS + 1) << STCP_TW_SHIFT) + STEP_NS;
	for (i = 0; i < NCONN; i++)
		if (t->conns[i].state != STCP_FREE)
			stcp_timer(t, &t->conns[i], &t->conns[i].wnd_at,
				   base + i * STEP_NS);
	t0 = now_ns();
	for (i = 0; i < NCONN; i++)
		sock_tcp_tick(t, base + i * STEP_NS);
	t1 = now_ns();
	printf("  %u staggered deadlines 100 us apart (1 s of them), %u "
	       "ticks: %.1f ms of CPU, %.2f us a tick\n",
	       NCONN, NCONN, (double)(t1 - t0) / 1e6,
	       (double)(t1 - t0) / NCONN / 1e3);
	sock_tcp_destroy(t);
	close(lfd);
	close(ep);
	return 0;
}
