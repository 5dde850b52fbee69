// SPDX-License-Identifier: MIT
/*
 * nbench - small network load tool for bench/net/gateway_vs_kernel.sh.
 *
 *   nbench server [-b ADDR] [-p PORT] [-L SECS]
 *	TCP echo server and UDP counting sink on the same port (epoll, one
 *	thread). Exits by itself after SECS seconds (default 900). On
 *	request it also floods a client with datagrams (NB_UDP_BLAST, see
 *	nbench_proto.h: sbench's receiving direction).
 *   nbench rr  -H ADDR [-p PORT] [-t SECS] [-n MAX]
 *	TCP_RR: one connection, 1-byte request, 1-byte response, repeated.
 *   nbench crr -H ADDR [-p PORT] [-t SECS] [-n MAX]
 *	TCP_CRR: connect, 1-byte request, 1-byte response, close; repeated.
 *   nbench udp -H ADDR [-p PORT] [-t SECS] [-n MAX] [-s SIZE]
 *	UDP flood of SIZE-byte datagrams (default 64) as fast as sendmmsg()
 *	goes; then asks the server how many of them it received.
 *   nbench get|put -H ADDR [-p PORT] [-t SECS] [-n BYTES]
 *	Bulk TCP against another server (vm_vs_peers.sh's, in a guest): get
 *	reads until the server closes, put writes BYTES and waits for the
 *	server's close.
 *
 * Every client loop stops after SECS (default 5, at most 120) or MAX
 * iterations, whichever comes first; every blocking socket call has a
 * timeout. The client prints one line of key=value pairs:
 *
 *   mode=rr count=51234 secs=5.000 rate=10246.8 p50_us=95 p99_us=180 errors=0
 *   mode=udp sent=912345 received=801234 secs=3.000 rate=267078.0 \
 *	sent_pps=304115.0 loss_pct=12.2 errors=0
 *
 * rate is transactions (rr), connections (crr) or datagrams received by
 * the server (udp) per second of the client's loop. IPv4 only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECS	120.0		/* hard cap on any client loop */
#define HIST_US		100000		/* latency histogram: 1 us buckets */
#define BATCH		32
#define MAX_ERRORS	1000

#include "nbench_proto.h"

static uint32_t hist[HIST_US + 1];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "nbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void hist_add(double secs)
{
	long us = (long)(secs * 1e6);

	hist[us < 0 ? 0 : us > HIST_US ? HIST_US : us]++;
}

static long hist_pct(long n, double p)
{
	long want = (long)(p * (double)n), seen = 0, i;

	for (i = 0; i <= HIST_US; i++) {
		seen += hist[i];
		if (seen > want)
			return i;
	}
	return HIST_US;
}

static void report_rr(const char *mode, long n, double secs, long errors)
{
	printf("mode=%s count=%ld secs=%.3f rate=%.1f p50_us=%ld p99_us=%ld errors=%ld\n",
	       mode, n, secs, secs > 0 ? (double)n / secs : 0.0,
	       n ? hist_pct(n, 0.50) : 0, n ? hist_pct(n, 0.99) : 0, errors);
}

/* ------------------------------------------------------------ server */

/*
 * NB_UDP_BLAST: @req->received datagrams of @req->size bytes to @to, as
 * fast as sendmmsg() goes, bounded by NB_BLAST_MAX and NB_BLAST_SECS (the
 * server serves nothing else meanwhile). A full socket buffer (EAGAIN) is
 * retried until the deadline; other errors stop the blast after
 * MAX_ERRORS. The load for the receiving direction of sbench.
 */
static void blast(int ufd, const struct nbench_udp_hdr *req, const struct sockaddr_in *to)
{
	static char bufs[BATCH][NB_BLAST_SIZE_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct nbench_udp_hdr h = { NB_UDP_MAGIC, NB_UDP_DATA, req->session, 0, 0 };
	uint64_t want = req->received, sent = 0;
	size_t size = req->size;
	double end = now() + NB_BLAST_SECS;
	long errors = 0, iter = 0;
	int i;

	if (want > NB_BLAST_MAX)
		want = NB_BLAST_MAX;
	if (size < NB_BLAST_SIZE_MIN)
		size = NB_BLAST_SIZE_MIN;
	if (size > NB_BLAST_SIZE_MAX)
		size = NB_BLAST_SIZE_MAX;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		memcpy(bufs[i], &h, sizeof(h));
		iov[i] = (struct iovec){ bufs[i], size };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = (void *)to;
		msgs[i].msg_hdr.msg_namelen = sizeof(*to);
	}
	while (sent < want && errors < MAX_ERRORS) {
		unsigned int n = want - sent < BATCH ? (unsigned int)(want - sent) : BATCH;
		int r = sendmmsg(ufd, msgs, n, MSG_DONTWAIT);

		if (r > 0)
			sent += (uint64_t)r;
		else if (errno != EAGAIN && errno != ENOBUFS)
			errors++;
		if ((++iter & 63) == 0 && now() > end)	/* a clock read per 64 calls */
			break;
	}
}

static void serve_udp(int ufd, struct nbench_udp_hdr *cur)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	int i, n;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	n = recvmmsg(ufd, msgs, BATCH, MSG_DONTWAIT, NULL);
	for (i = 0; i < n; i++) {
		struct nbench_udp_hdr h;

		if (msgs[i].msg_len < sizeof(h))
			continue;
		memcpy(&h, bufs[i], sizeof(h));
		if (h.magic != NB_UDP_MAGIC)
			continue;
		if (h.session != cur->session) {	/* new client run */
			cur->session = h.session;
			cur->received = 0;
		}
		if (h.type == NB_UDP_DATA) {
			cur->received++;
		} else if (h.type == NB_UDP_QUERY) {
			h.type = NB_UDP_REPLY;
			h.received = cur->received;
			sendto(ufd, &h, sizeof(h), MSG_DONTWAIT, (void *)&from[i],
			       msgs[i].msg_hdr.msg_namelen);
		} else if (h.type == NB_UDP_BLAST) {
			blast(ufd, &h, &from[i]);
		}
	}
}

static void server(const struct sockaddr_in *sa, int lifetime)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	struct nbench_udp_hdr cur = { 0 };
	double deadline = now() + lifetime;
	int lfd, ufd, ep, one = 1, rcvbuf = 8 << 20;
	char buf[4096];

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	if (lfd < 0 || ufd < 0 || ep < 0)
		fail("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* FORCE works as root; the plain option is the fallback. */
	if (setsockopt(ufd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(lfd, (const void *)sa, sizeof(*sa)) || listen(lfd, 1024))
		fail("bind/listen tcp");
	if (bind(ufd, (const void *)sa, sizeof(*sa)))
		fail("bind udp");
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = ufd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &ev);
	fprintf(stderr, "nbench: server on %s:%d for %d s\n",
		inet_ntoa(sa->sin_addr), ntohs(sa->sin_port), lifetime);

	while (now() < deadline) {
		int n = epoll_wait(ep, evs, 64, 500), i;

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c, k, r;

			if (fd == ufd) {
				serve_udp(ufd, &cur);
			} else if (fd == lfd) {
				for (k = 0; k < 64; k++) {
					c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
					if (c < 0)
						break;
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
			} else {
				r = (int)read(fd, buf, sizeof(buf));
				/* 1-byte messages: a short write cannot happen
				 * on an empty send buffer; treat it as an error */
				if (r > 0 && write(fd, buf, (size_t)r) != r)
					r = -1;
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
				}
			}
		}
	}
	fprintf(stderr, "nbench: server lifetime reached\n");
}

/* ------------------------------------------------------------ clients */

static int tcp_connect(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd, 1000);		/* SO_SNDTIMEO also bounds connect() */
	if (connect(fd, (const void *)sa, sizeof(*sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ping(int fd)
{
	char c = 'x';

	return write(fd, &c, 1) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

static void client_rr(const struct sockaddr_in *sa, double secs, long max)
{
	double t0 = now(), end = t0 + secs, t;
	long n = 0, errors = 0;
	int fd = tcp_connect(sa);

	if (fd < 0)
		fail("connect");
	while (n < max && (t = now()) < end) {
		if (ping(fd)) {
			errors++;
			break;
		}
		hist_add(now() - t);
		n++;
	}
	close(fd);
	report_rr("rr", n, now() - t0, errors);
}

static void client_crr(const struct sockaddr_in *sa, double secs, long max)
{
	double t0 = now(), end = t0 + secs, t;
	long n = 0, errors = 0;

	while (n < max && errors < MAX_ERRORS && (t = now()) < end) {
		int fd = tcp_connect(sa);

		if (fd < 0 || ping(fd)) {
			errors++;
		} else {
			hist_add(now() - t);
			n++;
		}
		if (fd >= 0)
			close(fd);
	}
	report_rr("crr", n, now() - t0, errors);
}

/* Ask the server how many datagrams of this session it got: -1 if no answer. */
static long udp_query(int fd, uint32_t session)
{
	struct nbench_udp_hdr q = { NB_UDP_MAGIC, NB_UDP_QUERY, session, 0, 0 }, r;
	int tries, k;

	set_timeouts(fd, 300);
	for (tries = 0; tries < 10; tries++) {
		if (send(fd, &q, sizeof(q), 0) != (ssize_t)sizeof(q))
			continue;
		for (k = 0; k < 64 && recv(fd, &r, sizeof(r), 0) == (ssize_t)sizeof(r); k++) {
			if (r.magic == NB_UDP_MAGIC && r.type == NB_UDP_REPLY &&
			    r.session == session)
				return (long)r.received;
		}
	}
	return -1;
}

static void client_udp(const struct sockaddr_in *sa, double secs, long max, int size)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct nbench_udp_hdr h = { NB_UDP_MAGIC, NB_UDP_DATA, 0, 0, 0 };
	double t0, end, sent_secs;
	long sent = 0, errors = 0, rx;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, k;

	if (fd < 0 || connect(fd, (const void *)sa, sizeof(*sa)))
		fail("udp socket");
	set_timeouts(fd, 100);
	h.session = (uint32_t)getpid() ^ (uint32_t)(now() * 1e6);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], (size_t)size };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < BATCH; i++)	/* the server only counts them */
		memcpy(bufs[i], &h, sizeof(h));
	t0 = now();
	end = t0 + secs;
	while (sent < max && errors < MAX_ERRORS && now() < end) {
		for (k = 0; k < 8 && sent < max; k++) {	/* sends per clock read */
			int want = max - sent < BATCH ? (int)(max - sent) : BATCH;
			int r = sendmmsg(fd, msgs, (unsigned int)want, 0);

			if (r > 0)
				sent += r;
			else
				errors++;
		}
	}
	sent_secs = now() - t0;
	usleep(200000);			/* let queues drain into the server */
	rx = udp_query(fd, h.session);
	close(fd);
	if (rx < 0) {
		fprintf(stderr, "nbench: udp: no answer from the server to the count query\n");
		exit(1);
	}
	printf("mode=udp sent=%ld received=%ld secs=%.3f rate=%.1f sent_pps=%.1f loss_pct=%.1f errors=%ld\n",
	       sent, rx, sent_secs, (double)rx / sent_secs, (double)sent / sent_secs,
	       sent ? 100.0 * (double)(sent - rx) / (double)sent : 0.0, errors);
}

/*
 * Bulk TCP, for a guest (vm_vs_peers.sh runs this binary inside the VM):
 * get reads until the server closes, put writes @max bytes, shuts its
 * side down and waits for the server's close. Large reads and writes, so
 * that the transport is measured rather than a tool's small buffers.
 * Bounded by @secs; the server times the transfer as well.
 */
static void client_bulk(const struct sockaddr_in *sa, double secs, long max, int put)
{
	static char buf[256 * 1024];
	double t0 = now(), end = t0 + secs;
	long bytes = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t r;

	if (fd < 0)
		fail("socket");
	set_timeouts(fd, 5000);
	if (connect(fd, (const void *)sa, sizeof(*sa)))
		fail("connect");
	while (put && bytes < max && now() < end) {
		size_t want = (size_t)(max - bytes) < sizeof(buf) ? (size_t)(max - bytes) : sizeof(buf);

		r = write(fd, buf, want);
		if (r <= 0)
			fail("write");
		bytes += r;
	}
	if (put)
		shutdown(fd, SHUT_WR);
	while (now() < end) {		/* get: the data; put: the server's close */
		r = read(fd, buf, sizeof(buf));
		if (r == 0)
			break;
		if (r < 0)
			fail("read");
		if (!put)
			bytes += r;
	}
	close(fd);
	if (now() >= end) {
		fprintf(stderr, "nbench: %s: %.0f s passed with %ld bytes\n", put ? "put" : "get", secs, bytes);
		exit(1);
	}
	printf("mode=%s bytes=%ld secs=%.3f mbps=%.1f\n", put ? "put" : "get", bytes, now() - t0,
	       (double)bytes * 8 / (now() - t0) / 1e6);
}

static int usage(void)
{
	fprintf(stderr, "usage: nbench server [-b ADDR] [-p PORT] [-L SECS]\n"
			"       nbench rr|crr|udp -H ADDR [-p PORT] [-t SECS] [-n MAX] [-s SIZE]\n"
			"       nbench get|put -H ADDR [-p PORT] [-t SECS] [-n BYTES]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *host = NULL, *mode;
	int port = 7777, size = 64, lifetime = 900, opt;
	double secs = 5;
	long max = 0;

	if (argc < 2)
		return usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "H:b:p:t:n:s:L:")) != -1) {
		switch (opt) {
		case 'H': case 'b': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'n': max = atol(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'L': lifetime = atoi(optarg); break;
		default: return usage();
		}
	}
	if (secs <= 0 || secs > MAX_SECS)
		secs = MAX_SECS;
	if (size < (int)sizeof(struct nbench_udp_hdr) || size > 2048) {
		fprintf(stderr, "nbench: -s must be %zu..2048\n", sizeof(struct nbench_udp_hdr));
		return 2;
	}
	if (max <= 0)
		max = 100000000;
	if (port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, host ? host : "0.0.0.0", &sa.sin_addr) != 1)
		return usage();
	sa.sin_port = htons((uint16_t)port);
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(mode, "server"))
		server(&sa, lifetime > 0 ? lifetime : 900);
	else if (!host)
		return usage();
	else if (!strcmp(mode, "rr"))
		client_rr(&sa, secs, max);
	else if (!strcmp(mode, "crr"))
		client_crr(&sa, secs, max);
	else if (!strcmp(mode, "udp"))
		client_udp(&sa, secs, max, size);
	else if (!strcmp(mode, "get") || !strcmp(mode, "put"))
		client_bulk(&sa, secs, max, mode[0] == 'p');
	else
		return usage();
	return 0;
}
