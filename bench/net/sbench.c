// SPDX-License-Identifier: MIT
/*
 * sbench - a guest without a VM on a QEMU stream socket, for
 * bench/net/vm_vs_peers.sh: what a stream transport costs by itself.
 *
 *   sbench up|down [-D] -S SOCK -a GUEST_IP -g ARP_IP -H SERVER [-p PORT]
 *                  [-s SIZE] [-n COUNT] [-t SECS] [-m MAC]
 *
 * sbench connects to SOCK (a UNIX stream socket: arcnat's --inside
 * stream:PATH, or passt's -s PATH) and speaks QEMU's -netdev stream
 * framing, a 4-byte big-endian length and an Ethernet frame, as guest
 * GUEST_IP with MAC (default 52:54:00:5b:00:01). With -D, SOCK is a UNIX
 * datagram socket (arcnat's --inside dgram:PATH, QEMU's -netdev dgram):
 * one datagram is one frame, and sbench binds SOCK.sbench (mode 0666, so
 * that arcnat, user nobody after start, can answer; unlinked at exit). It resolves ARP_IP (the
 * gateway, or SERVER itself when the transport answers ARP for every
 * address, as passt does) and answers ARP requests for GUEST_IP. The other
 * end is an `nbench server` at SERVER:PORT (default 7777) beyond the
 * transport:
 *
 *   up    COUNT (default 1000000) UDP datagrams of SIZE payload bytes
 *         (default 64; 24..1472) written into the socket as fast as it
 *         takes them (frames batched into large writes), for at most SECS
 *         seconds (default 5, at most 60); then the server is asked how
 *         many of them it received.
 *   down  the server is asked (NB_UDP_BLAST, nbench_proto.h) to send
 *         COUNT datagrams of SIZE bytes back; sbench counts what the
 *         transport delivers until COUNT arrived, nothing came for 1 s, or
 *         SECS + 2 s passed.
 *
 * One line of key=value pairs on stdout:
 *
 *   mode=up size=64 frame=106 sent=1000000 received=998000 secs=2.100
 *   pps=475238 gbps=0.403 sent_pps=476190 loss_pct=0.2
 *
 * pps: datagrams received by the far end (up: the server's count over
 * sbench's sending time; down: sbench's count over the time from the
 * first to the last one). gbps: the same in Ethernet frame bits (the
 * 4-byte length prefix not counted). IPv4 only; every wait is bounded.
 * Exit 0, 1 on a failure (said on stderr), 2 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nbench_proto.h"

#define MAX_SECS	60.0
#define MAX_COUNT	100000000L
#define FRAME_MAX	1514u			/* SIZE 1472 + UDP + IPv4 + Ethernet */
#define HDRS		(14u + 20u + 8u)
#define PREFIX		4u
#define TX_FRAMES	256u			/* frames per write() */
#define RX_BUF		(256u * 1024u)
#define ETH_ARP		0x0806
#define ETH_IP4		0x0800

static uint8_t my_mac[6] = { 0x52, 0x54, 0x00, 0x5b, 0x00, 0x01 };
static uint8_t peer_mac[6];
static int have_peer;
static uint32_t my_ip, arp_ip, srv_ip;		/* network byte order */
static uint16_t my_port, srv_port;		/* network byte order */
static uint32_t session;
static int sock = -1;
static int dgram;				/* -D: a datagram socket */
static char local_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* receive side: reassembly of the byte stream into frames */
static uint8_t rxbuf[RX_BUF];
static size_t rx_len;
static uint64_t rx_data, rx_data_bytes;		/* our session's NB_UDP_DATA */
static double rx_first, rx_last;
static int got_reply;
static uint64_t reply_count;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "sbench: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Write all of @len bytes, waiting (bounded by @deadline) when the socket is full. */
static int write_all(const uint8_t *p, size_t len, double deadline)
{
	while (len) {
		ssize_t w = write(sock, p, len);

		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (now() > deadline)
			return -1;
		struct pollfd pfd = { sock, POLLOUT, 0 };

		poll(&pfd, 1, 100);
	}
	return 0;
}

/*
 * Send @len bytes of prefixed frames: on a stream socket as they are; on a
 * datagram socket (-D) one datagram per frame, without the prefix, in
 * sendmmsg() runs. Waits for room, bounded by @deadline.
 */
static int tx(const uint8_t *p, size_t len, double deadline)
{
	struct mmsghdr msgs[TX_FRAMES];
	struct iovec iov[TX_FRAMES];
	unsigned int n = 0, done = 0;
	size_t off = 0;

	if (!dgram)
		return write_all(p, len, deadline);
	memset(msgs, 0, sizeof(msgs));
	while (off + PREFIX <= len && n < TX_FRAMES) {
		size_t flen = get16(p + off + 2);

		iov[n] = (struct iovec){ (void *)(p + off + PREFIX), flen };
		msgs[n].msg_hdr.msg_iov = &iov[n];
		msgs[n].msg_hdr.msg_iovlen = 1;
		n++;
		off += PREFIX + flen;
	}
	while (done < n) {
		int r = sendmmsg(sock, msgs + done, n - done, 0);

		if (r > 0) {
			done += (unsigned int)r;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (now() > deadline)
			return -1;
		struct pollfd pfd = { sock, POLLOUT, 0 };

		poll(&pfd, 1, 100);
	}
	return off == len ? 0 : -1;
}

/* One frame with its length prefix into @out; returns the bytes written. */
static size_t frame_prefix(uint8_t *out, size_t flen)
{
	out[0] = out[1] = 0;
	put16(out + 2, (unsigned int)flen);
	return PREFIX;
}

static void eth_hdr(uint8_t *f, const uint8_t *dst, unsigned int type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
}

/* An ARP request (op 1) for @tip or a reply (op 2) to @tmac/@tip. */
static int send_arp(unsigned int op, const uint8_t *tmac, uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];
	uint8_t b[PREFIX + 60] = { 0 }, *f = b + PREFIX;

	frame_prefix(b, 60);
	eth_hdr(f, op == 1 ? bcast : tmac, ETH_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_IP4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, my_mac, 6);
	memcpy(f + 28, &my_ip, 4);
	memcpy(f + 32, op == 1 ? zero : tmac, 6);
	memcpy(f + 38, &tip, 4);
	return tx(b, sizeof(b), now() + 2);
}

/* An IPv4/UDP frame to the server carrying @payload (@size bytes) into @f. */
static size_t build_udp(uint8_t *f, const void *payload, size_t size)
{
	size_t ip_len = 20 + 8 + size;
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint8_t pseudo[12];
	uint32_t sum = 0;
	uint16_t c;
	size_t i;

	eth_hdr(f, peer_mac, ETH_IP4);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned int)ip_len);
	put16(ip + 6, 0x4000);			/* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &my_ip, 4);
	memcpy(ip + 16, &srv_ip, 4);
	put16(ip + 10, csum(ip, 20, 0));
	memcpy(udp, &my_port, 2);
	memcpy(udp + 2, &srv_port, 2);
	put16(udp + 4, (unsigned int)(8 + size));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, size);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put16(pseudo + 10, (unsigned int)(8 + size));
	for (i = 0; i < 12; i += 2)
		sum += get16(pseudo + i);
	c = csum(udp, 8 + size, sum);
	put16(udp + 6, c ? c : 0xffffu);	/* 0 would mean "no checksum" */
	return 14 + ip_len;
}

static int send_msg(uint32_t type, uint64_t count, uint32_t size)
{
	struct nbench_udp_hdr h = { NB_UDP_MAGIC, type, session, size, count };
	uint8_t b[PREFIX + 128] = { 0 };
	size_t flen = build_udp(b + PREFIX, &h, sizeof(h));

	if (flen < 60)				/* Ethernet minimum, zero padding */
		flen = 60;
	frame_prefix(b, flen);
	return tx(b, PREFIX + flen, now() + 2);
}

/* One received frame: answer ARP, note ARP replies, count our UDP. */
static void rx_frame(const uint8_t *f, size_t n, double t)
{
	unsigned int type;

	if (n < 14)
		return;
	type = get16(f + 12);
	if (type == ETH_ARP && n >= 42 && get16(f + 14) == 1 && get16(f + 16) == ETH_IP4) {
		uint32_t sip, tip;

		memcpy(&sip, f + 28, 4);
		memcpy(&tip, f + 38, 4);
		if (get16(f + 20) == 1 && tip == my_ip)
			send_arp(2, f + 22, sip);
		else if (get16(f + 20) == 2 && sip == arp_ip && !have_peer) {
			memcpy(peer_mac, f + 22, 6);
			have_peer = 1;
		}
		return;
	}
	if (type != ETH_IP4 || n < HDRS + sizeof(struct nbench_udp_hdr))
		return;
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	struct nbench_udp_hdr h;
	uint32_t dst;

	memcpy(&dst, ip + 16, 4);
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || dst != my_ip ||
	    n < 14 + ihl + 8 + sizeof(h) || (get16(ip + 6) & 0x3fff))
		return;
	if (memcmp(ip + ihl + 2, &my_port, 2) != 0)
		return;
	memcpy(&h, ip + ihl + 8, sizeof(h));
	if (h.magic != NB_UDP_MAGIC || h.session != session)
		return;
	if (h.type == NB_UDP_DATA) {
		if (!rx_data)
			rx_first = t;
		rx_last = t;
		rx_data++;
		rx_data_bytes += n;
	} else if (h.type == NB_UDP_REPLY) {
		got_reply = 1;
		reply_count = h.received;
	}
}

/* Read what is there (waiting up to @ms), hand whole frames to rx_frame(). */
static int rx_poll(int ms)
{
	struct pollfd pfd = { sock, POLLIN, 0 };
	size_t off = 0;
	ssize_t r;
	double t;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if (dgram) {				/* one datagram, one frame */
		int k;

		for (k = 0; k < 64; k++) {
			r = recv(sock, rxbuf, sizeof(rxbuf), MSG_DONTWAIT | MSG_TRUNC);
			if (r < 0)
				break;
			if ((size_t)r <= sizeof(rxbuf))
				rx_frame(rxbuf, (size_t)r, now());
		}
		return 1;
	}
	r = read(sock, rxbuf + rx_len, sizeof(rxbuf) - rx_len);
	if (r == 0) {
		errno = 0;
		die("the transport closed the connection");
	}
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			die("read");
		return 0;
	}
	rx_len += (size_t)r;
	t = now();
	while (rx_len - off >= PREFIX) {
		uint32_t flen = (uint32_t)rxbuf[off] << 24 | (uint32_t)rxbuf[off + 1] << 16 |
				(uint32_t)get16(rxbuf + off + 2);

		if (flen > sizeof(rxbuf) - PREFIX) {
			errno = 0;
			die("a frame length beyond the receive buffer: not a stream transport?");
		}
		if (rx_len - off < PREFIX + flen)
			break;
		rx_frame(rxbuf + off + PREFIX, flen, t);
		off += PREFIX + flen;
	}
	memmove(rxbuf, rxbuf + off, rx_len - off);
	rx_len -= off;
	return 1;
}

static void resolve(void)
{
	double end = now() + 5, next = 0;

	while (!have_peer) {
		if (now() > end) {
			errno = 0;
			die("no ARP reply for the next hop within 5 s");
		}
		if (now() >= next) {
			if (send_arp(1, NULL, arp_ip))
				die("send ARP request");
			next = now() + 0.5;
		}
		rx_poll(50);
	}
}

/* NB_UDP_QUERY until NB_UDP_REPLY: the server's count, or -1 after 10 tries. */
static long query(void)
{
	int tries;

	got_reply = 0;
	for (tries = 0; tries < 10 && !got_reply; tries++) {
		double end = now() + 0.3;

		if (send_msg(NB_UDP_QUERY, 0, 0))
			die("send query");
		while (!got_reply && now() < end)
			rx_poll(20);
	}
	return got_reply ? (long)reply_count : -1;
}

static void report(const char *mode, unsigned int size, long sent, long received,
		   double secs, double sent_secs)
{
	size_t frame = HDRS + size < 60 ? 60 : HDRS + size;
	double pps = secs > 0 ? (double)received / secs : 0;

	printf("mode=%s size=%u frame=%zu sent=%ld received=%ld secs=%.3f pps=%.0f gbps=%.3f "
	       "sent_pps=%.0f loss_pct=%.1f\n", mode, size, frame, sent, received, secs, pps,
	       pps * (double)frame * 8 / 1e9, sent_secs > 0 ? (double)sent / sent_secs : 0,
	       sent > 0 ? 100.0 * (double)(sent - received) / (double)sent : 0.0);
}

static void run_up(unsigned int size, long count, double secs)
{
	static uint8_t batch[TX_FRAMES * (PREFIX + FRAME_MAX)];
	struct nbench_udp_hdr h = { NB_UDP_MAGIC, NB_UDP_DATA, session, 0, 0 };
	uint8_t payload[NB_BLAST_SIZE_MAX] = { 0 };
	size_t flen, one, i;
	long sent = 0, rx;
	double t0, end, dt;

	if (query() < 0) {			/* the path works, the session is the server's */
		errno = 0;
		die("no answer from the server before the run");
	}
	memcpy(payload, &h, sizeof(h));
	flen = build_udp(batch + PREFIX, payload, size);
	frame_prefix(batch, flen);
	one = PREFIX + flen;
	for (i = 1; i < TX_FRAMES; i++)		/* every frame is the same */
		memcpy(batch + i * one, batch, one);
	t0 = now();
	end = t0 + secs;
	while (sent < count && now() < end) {
		long n = count - sent < (long)TX_FRAMES ? count - sent : (long)TX_FRAMES;

		if (tx(batch, (size_t)n * one, end + 2))
			die("write");
		sent += n;
		while (rx_poll(0) > 0)		/* ARP from the transport */
			;
	}
	dt = now() - t0;
	usleep(300000);				/* let queues drain into the server */
	rx = query();
	if (rx < 0) {
		errno = 0;
		die("no answer from the server to the count query");
	}
	report("up", size, sent, rx, dt, dt);
}

static void run_down(unsigned int size, long count, double secs)
{
	double t0, end;

	if (query() < 0) {
		errno = 0;
		die("no answer from the server before the run");
	}
	if (send_msg(NB_UDP_BLAST, (uint64_t)count, size))
		die("send blast request");
	t0 = now();
	end = t0 + secs + 2;
	while ((long)rx_data < count && now() < end) {
		double idle_since = rx_data ? rx_last : t0;

		if (now() - idle_since > 1.0)
			break;
		rx_poll(50);
	}
	report("down", size, count, (long)rx_data,
	       rx_data > 1 ? rx_last - rx_first : 0, rx_data > 1 ? rx_last - rx_first : 0);
}

static void unlink_local(void)
{
	if (local_path[0])
		unlink(local_path);
}

static int usage(void)
{
	fprintf(stderr, "usage: sbench up|down [-D] -S SOCK -a GUEST_IP -g ARP_IP -H SERVER [-p PORT]\n"
			"              [-s SIZE] [-n COUNT] [-t SECS] [-m MAC]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = NULL, *gip = NULL, *aip = NULL, *sip = NULL, *mode;
	unsigned int size = 64;
	long count = 1000000;
	double secs = 5;
	int port = 7777, opt;

	if (argc < 2)
		return usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "DS:a:g:H:p:s:n:t:m:")) != -1) {
		switch (opt) {
		case 'D': dgram = 1; break;
		case 'S': path = optarg; break;
		case 'a': gip = optarg; break;
		case 'g': aip = optarg; break;
		case 'H': sip = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'n': count = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'm':
			if (sscanf(optarg, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &my_mac[0], &my_mac[1],
				   &my_mac[2], &my_mac[3], &my_mac[4], &my_mac[5]) != 6)
				return usage();
			break;
		default: return usage();
		}
	}
	if (strcmp(mode, "up") != 0 && strcmp(mode, "down") != 0)
		return usage();
	if (!path || !gip || !aip || !sip || strlen(path) >= sizeof(sa.sun_path) ||
	    inet_pton(AF_INET, gip, &my_ip) != 1 || inet_pton(AF_INET, aip, &arp_ip) != 1 ||
	    inet_pton(AF_INET, sip, &srv_ip) != 1 || port <= 0 || port > 65535)
		return usage();
	if (size < NB_BLAST_SIZE_MIN || size > NB_BLAST_SIZE_MAX) {
		fprintf(stderr, "sbench: -s must be %u..%u\n", NB_BLAST_SIZE_MIN, NB_BLAST_SIZE_MAX);
		return 2;
	}
	if (count <= 0 || count > MAX_COUNT)
		count = MAX_COUNT;
	if (secs <= 0 || secs > MAX_SECS)
		secs = MAX_SECS;
	srv_port = htons((uint16_t)port);
	my_port = htons((uint16_t)(40000 + getpid() % 20000));
	session = (uint32_t)getpid() ^ (uint32_t)(now() * 1e6);
	signal(SIGPIPE, SIG_IGN);

	memcpy(sa.sun_path, path, strlen(path) + 1);	/* its length checked above */
	sock = socket(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
	if (sock < 0)
		die("socket");
	if (dgram) {
		/* our own address, for the transport's answers: PATH.sbench,
		 * writable by all (arcnat answers as user nobody) */
		struct sockaddr_un la = { .sun_family = AF_UNIX };

		if (snprintf(local_path, sizeof(local_path), "%s.sbench", path) >= (int)sizeof(local_path)) {
			errno = ENAMETOOLONG;
			die(path);
		}
		unlink(local_path);
		memcpy(la.sun_path, local_path, strlen(local_path) + 1);
		if (bind(sock, (const void *)&la, sizeof(la)) || chmod(local_path, 0666))
			die(local_path);
		atexit(unlink_local);
	}
	if (connect(sock, (const void *)&sa, sizeof(sa)))
		die(path);
	resolve();
	if (!strcmp(mode, "up"))
		run_up(size, count, secs);
	else
		run_down(size, count, secs);
	close(sock);
	return 0;
}
