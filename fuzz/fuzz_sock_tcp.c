// SPDX-License-Identifier: MIT
/*
 * fuzz_sock_tcp.c - libFuzzer harness for the TCP relay of the socket
 * uplink (src/uplink/sock_tcp): hostile guest segments (any sequence and
 * acknowledgment numbers, zero windows, SYN floods, RSTs in and out of the
 * window, data after FIN) against real loopback remotes, one listener per
 * guest flow.
 *
 * Input: a config byte (bit 0: no SO_PEEK_OFF; bit 1: GSO towards the
 * guest; bit 2: no out-of-order store; bit 3: the guest offers no SACK;
 * bit 4: flows 3-6 are a port forward's, the relay opening towards the
 * guest for clients on 127.0.0.1, sock_tcp_accept()), then records of 6
 * bytes: op, a, b, c, d, e.
 *   op bits 0-2: the flow (0..7; flow 7 talks to a port nobody listens on)
 *   op bits 3-6: what happens
 *     0  SYN (a new initial sequence number from a..d); on a forward's
 *        flow the SYN-ACK to the relay's SYN, acknowledging it + e when
 *        e is odd (a wrong number)
 *     1  ACK: seq = the guest's next + (int8)a, ack = the relay's next as
 *        the guest saw it + (int16)(b,c), window d << 8, and when e is
 *        not 0 a SACK block from e * 97 bytes beyond the ACK
 *     2  data: e * 17 bytes at the guest's next + (int8)a, window d << 8
 *     3  FIN at the guest's next + (int8)a
 *     4  RST at the guest's next + (int16)(a,b)
 *     5  time passes (a * 20 ms), then events, remotes and output
 *     6  the remote writes a * 61 bytes, reads up to b * 251
 *     7  the flow goes (flow_gone)
 *     8  the remote closes (SO_LINGER 0 when a is odd), or shuts its
 *        writing side when a & 2
 *     9  a forward's flow: a new client connects (its socket is the
 *        flow's remote from here); when a is odd, another client with
 *        the current one's port instead (the relay refuses a 4-tuple
 *        already opening)
 *     10 a forward's flow: an ICMP port unreachable quoting the relay's
 *        SYN, its sequence number + (int8)a
 *     else: a segment of any flags (a) at the guest's next, e bytes, a
 *        SACK block when b is odd
 *   Every op is followed by output to the guest.
 *
 * Checks: every segment the relay makes parses, has valid checksums, and
 * goes to the external address of a flow it has (on a forward's flow from
 * its client's port); its payload is, byte for
 * byte, the remote's stream at its sequence number; what the remote reads
 * is, byte for byte, the guest's stream at its offset; no more than
 * max_conns connections; at the end, after the remotes drained, each
 * remote has read every byte the relay acknowledged to its guest unless
 * its connection was reset; destroy leaves no descriptor and no watch.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "uplink/sock_tcp.h"

#define NFLOW	8u
#define NBUF	8u
#define EXT	htonl(0xc6120001u)
#define LO	htonl(INADDR_LOOPBACK)
#define CHECK_MAX	32768u	/* acknowledged bytes checked, at most */

struct gflow {
	uint64_t up_got;	/* bytes of the guest's stream the remote read */
	uint64_t down_sent;	/* bytes of the remote's stream written */
	int rfd;		/* the remote's accepted socket */
	uint32_t isn;		/* the guest's */
	uint32_t snd_nxt;	/* the guest's next sequence number */
	uint32_t riss;		/* the relay's */
	uint32_t rcv_nxt;	/* next byte of the relay's stream */
	uint32_t acked;		/* bytes of the guest's stream acknowledged */
	uint32_t rel_isn;	/* the guest's ISN as the relay's SYN-ACK says */
	unsigned int synacks;	/* SYN-ACKs seen, remote sockets accepted: */
	unsigned int accepts;	/* one each, and the remote's view is known */
	bool open;		/* a SYN-ACK was seen */
	bool frozen;		/* an RST either way, or flow_gone: what was
				 * acknowledged until then must still arrive */
	bool nocheck;		/* the remote closed with bytes unread */
	uint16_t cport;		/* a forward's: the client's port (network
				 * order); rfd is the client's socket */
	bool confused;		/* a forward's: two relay connections with
				 * one 4-tuple; its segments go unchecked */
};

static int ep = -1;
static int lfd[NFLOW];
static uint16_t lport[NFLOW];
static int watched;
static struct gflow gf[NFLOW];
static uint8_t store[NBUF][DP_BUF_HEADROOM + DP_BUF_DATA_MAX];
static uint8_t seg[70000];
static uint8_t io[1 << 16];
static bool offer_sack;
static bool fwd_mode;		/* flows 3-6 are a forward's */
static int fwd_lfd = -1;	/* the forward's listener */
static uint16_t fwd_lport;

/* 198.19.0.1: a client on 127.0.0.1 as the NAT sees it. */
#define PEER	htonl(0xc6130001u)

static bool is_fwd(unsigned int f)
{
	return fwd_mode && f >= 3 && f <= 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The guest's stream: a byte is a function of its sequence number. */
static uint8_t up_byte(unsigned int f, uint32_t seq)
{
	return (uint8_t)(seq * 7u + f * 13u + (seq >> 8));
}

static uint8_t down_byte(unsigned int f, uint64_t off)
{
	return (uint8_t)(off * 11u + (uint64_t)f * 5u + (off >> 9) + 1u);
}

static int w_watch(void *ctx, int fd, uint32_t id, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = id };

	(void)ctx;
	if (id >= SOCK_TCP_ID_LIMIT)
		abort();
	if (!epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev))
		return 0;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	watched++;
	return 0;
}

static void w_unwatch(void *ctx, int fd)
{
	(void)ctx;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL))
		abort();
	watched--;
}

static void setup(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = LO };
	socklen_t sl = sizeof(sa);
	int rb = 262144;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		abort();
	for (unsigned int i = 0; i < NFLOW; i++) {
		lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		sa.sin_port = 0;
		if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(lfd[i], (struct sockaddr *)&sa, &sl))
			abort();
		lport[i] = ntohs(sa.sin_port);
		(void)setsockopt(lfd[i], SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
		/* the last flow's port has no listener: refused */
		if (i < NFLOW - 1 && listen(lfd[i], 64))
			abort();
	}
	fwd_lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa.sin_port = 0;
	if (fwd_lfd < 0 || bind(fwd_lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fwd_lfd, (struct sockaddr *)&sa, &sl) ||
	    listen(fwd_lfd, 64))
		abort();
	fwd_lport = ntohs(sa.sin_port);
}

static unsigned int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void send_seg(struct sock_tcp *t, unsigned int f, uint8_t flags,
		     uint32_t seq, uint32_t ack, uint16_t win, size_t len,
		     uint64_t now, uint32_t sack_left)
{
	struct pkt_spec s = {
		.no_eth = true, .src4 = EXT, .dst4 = is_fwd(f) ? PEER : LO,
		.proto = IPPROTO_NUM_TCP, .sport = (uint16_t)(40000 + f),
		.dport = is_fwd(f) ? ntohs(gf[f].cport) : lport[f], .seq = seq, .ack = ack, .tcp_flags = flags,
		.window = win ? win : 1,
		.mss = (flags & TCP_SYN) ? 1460 : 0,
		.has_wscale = flags & TCP_SYN, .wscale = 7,
		.sack_perm = (flags & TCP_SYN) && offer_sack,
		.payload = io, .payload_len = len,
		/* room for a SACK block, written over the timestamps */
		.has_ts = sack_left != 0,
	};
	struct pkt_meta m;
	int n;

	for (size_t i = 0; i < len; i++)
		io[i] = up_byte(f, seq + (uint32_t)i);
	n = pkt_build(&s, seg, sizeof(seg));
	if (n < 0)
		return;
	if (sack_left && !(flags & TCP_SYN)) {
		uint8_t *o = seg + 20 + 20;
		uint32_t l = htonl(sack_left), r = htonl(sack_left + 1000);

		o[0] = TCP_OPT_NOP;
		o[1] = TCP_OPT_NOP;
		o[2] = TCP_OPT_SACK;
		o[3] = 10;
		memcpy(o + 4, &l, 4);
		memcpy(o + 8, &r, 4);
	}
	if (pkt_parse(seg, (size_t)n, PKT_PARSE_L3, &m))
		return;
	sock_tcp_input(t, f, seg, (uint32_t)n, &m, NULL, now);
}

/* The relay's segments to the guests, checked. */
static void output(struct sock_tcp *t, uint64_t now)
{
	struct dp_buf bufs[NBUF], *vec[NBUF];
	unsigned int rounds = 0;

	while (sock_tcp_pending(t) && rounds++ < 32) {
		unsigned int n;

		for (unsigned int k = 0; k < NBUF; k++) {
			bufs[k].head = store[k];
			bufs[k].cap = sizeof(store[k]);
			dp_buf_reset(&bufs[k]);
			vec[k] = &bufs[k];
		}
		n = sock_tcp_output(t, vec, NBUF, now);
		if (!n)
			break;
		for (unsigned int k = 0; k < n; k++) {
			const struct dp_buf *b = vec[k];
			const struct ip4_hdr *ip = (const void *)b->data;
			const struct tcp_hdr *th;
			struct pkt_meta m;
			unsigned int f;
			uint32_t sum, seq, plen;
			struct gflow *g;

			if (pkt_parse(b->data, b->len, PKT_PARSE_L3, &m) ||
			    m.l4_proto != IPPROTO_NUM_TCP || ip->daddr != EXT)
				abort();
			f = ntohs(m.dport) - 40000u;
			if (f >= NFLOW)
				abort();
			if (is_fwd(f) ? ip->saddr != PEER :
					ntohs(m.sport) != lport[f])
				abort();
			g = &gf[f];
			th = (const void *)(b->data + m.l4_off);
			sum = csum_pseudo_ip4(ip->saddr, ip->daddr,
					      IPPROTO_NUM_TCP, (uint16_t)m.l4_len);
			if (b->flags & DP_BUF_VNET) {
				if (th->check != csum_fold(sum))
					abort();
			} else if (csum_finish(csum_partial(th, m.l4_len, sum))) {
				abort();
			}
			seq = ntohl(th->seq);
			plen = pkt_payload_len(&m);
			/* a forward's earlier client: not the flow's now */
			if (is_fwd(f) && (m.sport != g->cport || g->confused))
				continue;
			if (m.tcp_flags & TCP_RST) {
				g->frozen = true;
				continue;
			}
			if ((m.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
				/* the relay opens towards the guest: open once
				 * its ACK tells the guest's number it took */
				if (!is_fwd(f) || plen)
					abort();
				if (!g->synacks || seq != g->riss)
					g->synacks++;
				g->open = false;
				g->riss = seq;
				g->rcv_nxt = seq + 1;
				g->acked = 0;
				continue;
			}
			if (is_fwd(f) && !g->open && !g->frozen && g->synacks &&
			    (m.tcp_flags & TCP_ACK) &&
			    ntohl(th->ack_seq) == g->isn + 1) {
				g->open = true;
				g->rel_isn = g->isn;
				g->acked = 0;
			}
			if (m.tcp_flags & TCP_SYN) {
				if (is_fwd(f))
					abort(); /* no SYN-ACK on a forward's */
				g->open = true;
				g->synacks++;
				g->riss = seq;
				g->rcv_nxt = seq + 1;
				g->rel_isn = ntohl(th->ack_seq) - 1;
				g->acked = 0;
			} else if (g->open && !g->frozen && (m.tcp_flags & TCP_ACK)) {
				uint32_t a = ntohl(th->ack_seq) - (g->rel_isn + 1);

				if ((int32_t)a > (int32_t)g->acked)
					g->acked = a;
			}
			if (plen && g->open) {
				uint32_t off = seq - (g->riss + 1);

				for (uint32_t i = 0; i < plen; i++)
					if (b->data[m.payload_off + i] !=
					    down_byte(f, (uint64_t)off + i))
						abort();
				if (seq == g->rcv_nxt)
					g->rcv_nxt += plen;
			}
		}
	}
}

/* A remote reads what is there, checking it against the guest's stream. */
static void remote_read(unsigned int f, size_t max)
{
	struct gflow *g = &gf[f];

	while (g->rfd >= 0 && max) {
		ssize_t r = recv(g->rfd, io, max < sizeof(io) ? max : sizeof(io),
				 MSG_DONTWAIT);

		if (r <= 0) {
			if (r < 0 && errno == ECONNRESET)
				g->frozen = true;
			return;
		}
		/* Which connection a socket belongs to is known when there
		 * was only one. */
		for (ssize_t i = 0; g->synacks == 1 && g->accepts == 1 && i < r; i++)
			if (io[i] != up_byte(f, g->rel_isn + 1 +
						       (uint32_t)g->up_got + (uint32_t)i))
				abort();
		g->up_got += (uint64_t)r;
		max -= (size_t)r;
	}
}

static void remotes(void)
{
	for (unsigned int f = 0; f < NFLOW - 1; f++) {
		int fd;

		if (is_fwd(f))
			continue; /* its remote is its client */
		/* The queue is in connect order: the last is the relay's
		 * connection of now, the others are gone already. */
		while ((fd = accept4(lfd[f], NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (gf[f].rfd >= 0)
				close(gf[f].rfd);
			gf[f].rfd = fd;
			gf[f].up_got = 0;
			gf[f].down_sent = 0;
			gf[f].accepts++;
		}
	}
}

/* A new client of forward flow @f (@dup: one with the current client's
 * port instead, which the relay must refuse while that one opens). */
static void fwd_connect(struct sock_tcp *t, unsigned int f, bool dup,
			uint64_t now)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(fwd_lport),
				  .sin_addr.s_addr = LO };
	socklen_t sl = sizeof(sa);
	struct gflow *g = &gf[f];
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a, r;

	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(c, (struct sockaddr *)&sa, &sl))
		abort();
	a = accept4(fwd_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (a < 0 || fcntl(c, F_SETFL, O_NONBLOCK))
		abort();
	if (dup && g->cport) {
		r = sock_tcp_accept(t, a, PEER, g->cport, htons(40000 + f), now);
		if (r && r != -EEXIST && r != -EBUSY && r != -ENOSPC)
			abort();
		/* Taken when the first is no longer opening (or was
		 * refused): two connections of one 4-tuple, which a real
		 * host never makes, and which the checks cannot tell apart. */
		if (!r) {
			g->confused = true;
			g->synacks += 2;
		}
		close(c);
		return;
	}
	if (g->rfd >= 0)
		close(g->rfd);
	*g = (struct gflow){ .rfd = c, .cport = sa.sin_port,
			     .accepts = g->accepts + 1,
			     .synacks = g->synacks };
	r = sock_tcp_accept(t, a, PEER, g->cport, htons(40000 + f), now);
	if (r && r != -EBUSY && r != -ENOSPC)
		abort();
}

/* An ICMP port unreachable quoting forward flow @f's SYN, its sequence
 * number moved by @d. */
static void fwd_icmp(struct sock_tcp *t, unsigned int f, int8_t d,
		     uint64_t now)
{
	struct pkt_spec q = {
		.no_eth = true, .src4 = PEER, .dst4 = EXT,
		.proto = IPPROTO_NUM_TCP, .sport = ntohs(gf[f].cport),
		.dport = (uint16_t)(40000 + f), .seq = gf[f].riss + (uint32_t)d,
		.tcp_flags = TCP_SYN, .window = 65535,
	};
	struct pkt_icmp4_err e = {
		.no_eth = true, .src4 = htonl(0x0a000202u), .dst4 = PEER,
		.type = ICMP_DEST_UNREACH, .code = ICMP_PORT_UNREACH,
		.quote = io,
	};
	struct pkt_meta m;
	int n = pkt_build(&q, io, sizeof(io));

	if (n <= 0)
		abort();
	e.quote_len = (size_t)n;
	n = pkt_build_icmp4_error(&e, seg, sizeof(seg));
	if (n <= 0 || pkt_parse(seg, (size_t)n, PKT_PARSE_L3, &m))
		abort();
	sock_tcp_icmp(t, seg, (uint32_t)n, &m, now);
}

static void events(struct sock_tcp *t, uint64_t now)
{
	struct epoll_event ev[32];
	int n = epoll_wait(ep, ev, 32, 0);

	for (int i = 0; i < n; i++)
		sock_tcp_event(t, ev[i].data.u32, ev[i].events, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sock_tcp_config cfg = {
		.max_conns = 4, .max_flows = NFLOW, .ext_addr = EXT, .mtu = 1500,
		.sndbuf = 16384, .rcvbuf = 16384,
		.ooo_bytes = 16 * 4096, /* small: a full pool is reached too */
		.max_opening = 2, /* and a full table of opening clients */
		.env = { NULL, w_watch, w_unwatch },
	};
	struct sock_tcp_stats st;
	struct sock_tcp *t;
	uint64_t now = 1000000000000ull;
	unsigned int fds0;

	if (ep < 0)
		setup();
	if (!size)
		return 0;
	fds0 = count_fds();
	cfg.no_peek_off = data[0] & 1;
	cfg.gso = data[0] & 2;
	cfg.no_ooo = data[0] & 4;
	offer_sack = !(data[0] & 8);
	fwd_mode = data[0] & 16;
	if (sock_tcp_create(&t, &cfg))
		abort();
	for (unsigned int f = 0; f < NFLOW; f++)
		gf[f] = (struct gflow){ .rfd = -1 };
	for (size_t i = 1; i + 6 <= size; i += 6) {
		const uint8_t *r = data + i;
		unsigned int f = r[0] & 7u, op = (r[0] >> 3) & 15u;
		struct gflow *g = &gf[f];
		uint32_t ack = g->rcv_nxt + (uint32_t)(int16_t)(r[2] << 8 | r[3]);
		uint16_t win = (uint16_t)(r[4] << 8);

		/* the guest goes on from what the relay took */
		if (g->open && !g->frozen)
			g->snd_nxt = g->rel_isn + 1 + g->acked;
		switch (op) {
		case 0: {
			uint32_t isn = (uint32_t)r[1] << 24 | (uint32_t)r[2] << 16 |
				       (uint32_t)r[3] << 8 | r[4];

			if (is_fwd(f)) {
				/* the guest's SYN-ACK to the relay's SYN */
				if (!g->open) {
					g->frozen = false;
					g->isn = isn;
					g->snd_nxt = isn + 1;
				}
				send_seg(t, f, TCP_SYN | TCP_ACK, isn,
					 g->riss + 1 + (r[5] & 1 ? r[5] : 0),
					 65535, 0, now, 0);
				break;
			}
			if (!g->open || g->frozen) {
				/* a new connection as far as the guest knows */
				g->open = false;
				g->frozen = false;
				g->isn = isn;
				g->snd_nxt = isn + 1;
			}
			send_seg(t, f, TCP_SYN, isn, 0, 65535, 0, now, 0);
			break;
		}
		case 1:
			/* e: a SACK block e * 97 bytes beyond the ACK */
			send_seg(t, f, TCP_ACK, g->snd_nxt + (uint32_t)(int8_t)r[1],
				 ack, win, 0, now,
				 r[5] ? ack + (uint32_t)r[5] * 97u : 0);
			break;
		case 2: {
			uint32_t s = g->snd_nxt + (uint32_t)(int8_t)r[1];
			size_t len = (size_t)r[5] * 17u;

			send_seg(t, f, TCP_ACK | TCP_PSH, s, g->rcv_nxt, win, len,
				 now, 0);
			break;
		}
		case 3:
			send_seg(t, f, TCP_ACK | TCP_FIN,
				 g->snd_nxt + (uint32_t)(int8_t)r[1], g->rcv_nxt,
				 65535, 0, now, 0);
			break;
		case 4: {
			uint32_t s = g->snd_nxt + (uint32_t)(int16_t)(r[1] << 8 | r[2]);

			g->frozen = true;
			send_seg(t, f, TCP_RST, s, 0, 0, 0, now, 0);
			break;
		}
		case 5:
			now += (uint64_t)r[1] * 20000000ull;
			events(t, now);
			remotes();
			sock_tcp_tick(t, now);
			break;
		case 6:
			if (g->rfd >= 0 && r[1]) {
				size_t len = (size_t)r[1] * 61u;
				ssize_t w;

				for (size_t k = 0; k < len; k++)
					io[k] = down_byte(f, g->down_sent + k);
				w = send(g->rfd, io, len, MSG_DONTWAIT | MSG_NOSIGNAL);
				if (w > 0)
					g->down_sent += (uint64_t)w;
			}
			remote_read(f, (size_t)r[2] * 251u);
			break;
		case 7:
			g->frozen = true;
			sock_tcp_flow_gone(t, f);
			break;
		case 8:
			if (g->rfd >= 0 && (r[1] & 2)) {
				shutdown(g->rfd, SHUT_WR);
			} else if (g->rfd >= 0) {
				struct linger l = { 1, 0 };

				if (r[1] & 1)
					setsockopt(g->rfd, SOL_SOCKET, SO_LINGER, &l,
						   sizeof(l));
				remote_read(f, SIZE_MAX);
				close(g->rfd);
				g->rfd = -1;
				/* what it did not read is lost by its choice */
				g->nocheck = true;
			}
			break;
		case 9:
			if (is_fwd(f))
				fwd_connect(t, f, r[1] & 1, now);
			break;
		case 10:
			if (is_fwd(f) && g->cport)
				fwd_icmp(t, f, (int8_t)r[1], now);
			break;
		default:
			send_seg(t, f, r[1], g->snd_nxt, g->rcv_nxt, win, r[5], now,
				 r[2] & 1 ? g->rcv_nxt + r[3] : 0);
			break;
		}
		output(t, now);
		sock_tcp_get_stats(t, &st);
		if (st.active > cfg.max_conns || watched > (int)cfg.max_conns)
			abort();
	}
	/* Drain: each remote must have read every byte acknowledged to its
	 * guest before any reset, as long as those fit in its receive buffer
	 * (beyond, a reset legitimately drops what the relay's socket still
	 * held) and the remote's socket is known to be the acknowledged one
	 * (one connection). */
	events(t, now);
	remotes();
	for (unsigned int f = 0; f < NFLOW; f++) {
		struct gflow *g = &gf[f];

		bool check = g->open && !g->nocheck && g->rfd >= 0 &&
			     g->synacks == 1 && g->accepts == 1 &&
			     g->acked <= CHECK_MAX;

		for (unsigned int k = 0; k < 20; k++) {
			remote_read(f, SIZE_MAX);
			if (!check || g->up_got + 1 >= g->acked)
				break;
			usleep(1000);
		}
		if (getenv("FUZZ_DEBUG") && g->synacks)
			fprintf(stderr, "flow %u: frozen %d nocheck %d synacks %u accepts %u acked %u read %lu\n",
				f, g->frozen, g->nocheck, g->synacks, g->accepts,
				g->acked, (unsigned long)g->up_got);
		if (check && g->up_got + 1 < g->acked)
			abort(); /* acknowledged (beyond a FIN) and lost */
	}
	if (getenv("FUZZ_DEBUG")) {
		sock_tcp_get_stats(t, &st);
		fprintf(stderr, "fwd: accepted %lu established %lu no_slot %lu exists %lu syn_timeout %lu refused %lu unreachable %lu client_gone %lu; rst_sent %lu\n",
			(unsigned long)st.fwd_accepted, (unsigned long)st.fwd_established,
			(unsigned long)st.fwd_no_slot, (unsigned long)st.fwd_exists,
			(unsigned long)st.fwd_syn_timeout, (unsigned long)st.fwd_refused,
			(unsigned long)st.fwd_unreachable, (unsigned long)st.fwd_client_gone,
			(unsigned long)st.rst_sent);
	}
	sock_tcp_destroy(t);
	for (unsigned int f = 0; f < NFLOW; f++)
		if (gf[f].rfd >= 0)
			close(gf[f].rfd);
	for (unsigned int f = 0; f < NFLOW; f++)
		gf[f].rfd = -1;
	remotes(); /* connections made since the drain */
	for (unsigned int f = 0; f < NFLOW; f++)
		if (gf[f].rfd >= 0)
			close(gf[f].rfd);
	if (watched || count_fds() != fds0)
		abort();
	return 0;
}
