/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp_fx.h - what the TCP relay's unit tests share (test_sock_tcp.c,
 * test_sock_tcp_fwd.c): a fake environment (its own epoll set), a guest TCP
 * modelled here (segments built with pkt/build, the relay's parsed with
 * pkt/parse, every checksum checked), active (it sends the SYN) or passive
 * (the relay opens towards it, sock_tcp_accept()), and the remote's or
 * client's side on 127.0.0.1. Functions are static: each test program gets
 * its own copy.
 */
#ifndef ARCNAT_TESTS_SOCK_TCP_FX_H
#define ARCNAT_TESTS_SOCK_TCP_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "uplink/sock_tcp.h"
#include "uplink/sock_tcp_conn.h"

#define EXT	htonl(0xc6120001u)	/* 198.18.0.1 */
#define LO	htonl(INADDR_LOOPBACK)
#define NBUF	32u
#define BUFSZ	(DP_BUF_HEADROOM + DP_BUF_DATA_MAX)

/* --- the environment: an epoll set -------------------------------------- */

struct env {
	int ep;
	int watched;
};

static inline int env_watch(void *ctx, int fd, uint32_t id, uint32_t events)
{
	struct env *e = ctx;
	struct epoll_event ev = { .events = events, .data.u32 = id };

	if (epoll_ctl(e->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	if (epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	e->watched++;
	return 0;
}

static inline void env_unwatch(void *ctx, int fd)
{
	struct env *e = ctx;

	assert_int_equal(epoll_ctl(e->ep, EPOLL_CTL_DEL, fd, NULL), 0);
	e->watched--;
}

/* --- the guest ------------------------------------------------------------ */

/* What a passive guest does with the relay's SYN. */
enum g_on_syn {
	G_ANSWER = 0,		/* SYN-ACK */
	G_SILENT,		/* nothing (lost, or a guest that is down) */
	G_REFUSE,		/* RST|ACK: nothing listens there */
	G_BAD_ACK,		/* a SYN-ACK acknowledging another number */
};

struct guest {
	uint32_t flow;
	uint16_t eport;		/* host order */
	uint16_t rport;
	uint32_t raddr;		/* the remote or client, network order */
	bool passive;		/* the relay opens (sock_tcp_accept()) */
	enum g_on_syn on_syn;
	bool syn_owed;		/* a SYN of the relay's waits for an answer */
	unsigned int syns_seen;
	uint32_t rel_iss;	/* the relay's SYN: its sequence number ... */
	uint16_t syn_mss;	/* ... and its options */
	bool syn_wscale;
	uint32_t iss;
	uint32_t snd_una;	/* of the guest's stream */
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t peer_wnd;	/* the relay's window, scaled */
	uint8_t peer_wscale;
	uint8_t wscale;
	uint16_t mss;
	uint32_t win;		/* the guest's window, bytes */
	bool synack, rst, fin, no_ack;
	bool offer_sack;	/* offer SACK */
	bool sack_ok;		/* the relay's SYN-ACK allowed it */
	unsigned int nsack;	/* SACK blocks of the last ACK */
	uint32_t sack[8];
	unsigned int drop;	/* data segments to drop (loss) */
	uint64_t drop_mask;	/* of the next 64 data segments, these are lost */
	unsigned int rxseg;
	unsigned int dup_owed;	/* out-of-order segments: a duplicate ACK each */
	size_t or_s[16], or_e[16]; /* out-of-order ranges kept, rx offsets */
	unsigned int nor;
	unsigned int lose_every; /* of the guest's own segments, lose one in */
	unsigned int txcount;
	unsigned int dropped;
	uint32_t last_ack_seen, dupacks_seen;
	uint32_t probes_seen;
	uint32_t zero_wnd_seen;
	/* the guest's outgoing stream */
	const uint8_t *tx;
	size_t tx_len;
	bool tx_fin;
	/* what it received */
	uint8_t *rx;
	size_t rx_len;
	size_t rx_cap;
};

struct fx {
	struct env env;
	struct sock_tcp *t;
	struct sock_tcp_config cfg;
	uint64_t skew;		/* added to the clock: timers without sleeping */
	struct dp_buf bufs[NBUF];
	uint8_t *mem;
	uint8_t seg[70000];
};

static inline uint64_t fx_now(const struct fx *f)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
	       f->skew;
}

static inline void fx_init(struct fx *f, uint32_t max_conns, bool no_peek_off,
		    bool gso)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->env.ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->env.ep >= 0);
	f->cfg.max_conns = max_conns;
	f->cfg.max_flows = 4096;
	f->cfg.ext_addr = EXT;
	f->cfg.mtu = 1500;
	f->cfg.no_peek_off = no_peek_off;
	f->cfg.gso = gso;
	f->cfg.env = (struct sock_tcp_env){ &f->env, env_watch, env_unwatch };
	f->mem = malloc((size_t)NBUF * BUFSZ);
	assert_non_null(f->mem);
	for (i = 0; i < NBUF; i++) {
		f->bufs[i].head = f->mem + (size_t)i * BUFSZ;
		f->bufs[i].cap = BUFSZ;
	}
}

static inline void fx_start(struct fx *f)
{
	assert_int_equal(sock_tcp_create(&f->t, &f->cfg), 0);
}

static inline void fx_fini(struct fx *f)
{
	sock_tcp_destroy(f->t);
	assert_int_equal(f->env.watched, 0);
	close(f->env.ep);
	free(f->mem);
}

static inline struct sock_tcp_stats fx_stats(const struct fx *f)
{
	struct sock_tcp_stats st;

	sock_tcp_get_stats(f->t, &st);
	return st;
}

/* A guest segment into the relay. */
static inline void g_send(struct fx *f, const struct guest *g, uint8_t flags,
		   uint32_t seq, uint32_t ack, const void *data, size_t len,
		   bool syn_opts)
{
	struct pkt_spec s = {
		.no_eth = true,
		.src4 = EXT,
		.dst4 = g->raddr,
		.proto = IPPROTO_NUM_TCP,
		.sport = g->eport,
		.dport = g->rport,
		.seq = seq,
		.ack = ack,
		.tcp_flags = flags,
		.payload = data,
		.payload_len = len,
	};
	struct pkt_meta m;
	uint32_t w = g->win >> (syn_opts ? 0 : g->wscale);
	int n;

	s.window = (uint16_t)(w > 0xffff ? 0xffff : w);
	if (!s.window)
		s.window = 0; /* pkt_build: 0 means 65535; fixed below */
	if (syn_opts) {
		s.mss = g->mss;
		s.has_wscale = true;
		s.wscale = g->wscale;
		s.sack_perm = g->offer_sack;
	}
	n = pkt_build(&s, f->seg, sizeof(f->seg));
	assert_true(n > 0);
	if (!w) {
		/* a real zero window: patch the field and the checksum */
		struct tcp_hdr *th = (struct tcp_hdr *)(f->seg + 20);

		th->check = csum_replace2(th->check, th->window, 0);
		th->window = 0;
	}
	assert_int_equal(pkt_parse(f->seg, (size_t)n, PKT_PARSE_L3, &m), 0);
	sock_tcp_input(f->t, g->flow, f->seg, (uint32_t)n, &m, NULL, fx_now(f));
}

static inline void g_syn(struct fx *f, struct guest *g)
{
	g_send(f, g, TCP_SYN, g->iss, 0, NULL, 0, true);
}

static inline void g_ack(struct fx *f, const struct guest *g)
{
	g_send(f, g, TCP_ACK, g->snd_nxt, g->rcv_nxt, NULL, 0, false);
}

/* A passive guest answers the relay's SYN as @g->on_syn says. */
static inline void g_answer_syn(struct fx *f, struct guest *g)
{
	g->syn_owed = false;
	switch (g->on_syn) {
	case G_ANSWER:
		g->rcv_nxt = g->rel_iss + 1;
		g->snd_una = g->snd_nxt = g->iss + 1;
		g->synack = true;
		g_send(f, g, TCP_SYN | TCP_ACK, g->iss, g->rcv_nxt, NULL, 0, true);
		break;
	case G_REFUSE:
		g_send(f, g, TCP_RST | TCP_ACK, 0, g->rel_iss + 1, NULL, 0, false);
		break;
	case G_BAD_ACK:
		g_send(f, g, TCP_SYN | TCP_ACK, g->iss, g->rel_iss + 1000, NULL, 0,
		       true);
		break;
	default:
		break;
	}
}

/* One of the relay's segments reaches the guest. Return: it had news. */
static inline bool g_recv(struct guest *g, const struct dp_buf *b)
{
	struct pkt_meta m;
	const struct tcp_hdr *th;
	const struct ip4_hdr *ip = (const struct ip4_hdr *)b->data;
	uint32_t seq, ack, plen, sum;
	const uint8_t *p;

	assert_int_equal(pkt_parse(b->data, b->len, PKT_PARSE_L3, &m), 0);
	assert_int_equal(m.l4_proto, IPPROTO_NUM_TCP);
	assert_int_equal(ip->daddr, EXT);
	assert_int_equal(ip->saddr, g->raddr);
	assert_int_equal(ntohs(m.dport), g->eport);
	assert_int_equal(ntohs(m.sport), g->rport);
	th = (const struct tcp_hdr *)(b->data + m.l4_off);
	sum = csum_pseudo_ip4(ip->saddr, ip->daddr, IPPROTO_NUM_TCP,
			      (uint16_t)m.l4_len);
	if (b->flags & DP_BUF_VNET) {
		assert_true(b->vnet.flags & VNET_F_NEEDS_CSUM);
		assert_int_equal(th->check, csum_fold(sum));
		if (b->vnet.gso_type)
			assert_int_equal(b->vnet.gso_size, g->mss);
	} else {
		assert_int_equal(csum_finish(csum_partial(th, m.l4_len, sum)), 0);
	}
	seq = ntohl(th->seq);
	ack = ntohl(th->ack_seq);
	plen = pkt_payload_len(&m);
	p = b->data + m.payload_off;
	if (m.tcp_flags & TCP_RST) {
		g->rst = true;
		return false;
	}
	if ((m.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		/* The relay opens towards a passive guest. */
		assert_true(g->passive);
		assert_int_equal(plen, 0);
		assert_true(m.flags & PKT_F_TCP_MSS);
		g->syns_seen++;
		g->syn_owed = true;
		g->rel_iss = seq;
		g->syn_mss = m.tcp_mss;
		g->syn_wscale = m.flags & PKT_F_TCP_WSCALE;
		g->peer_wscale = g->syn_wscale ? m.tcp_wscale : 0;
		g->peer_wnd = ntohs(th->window);
		g->sack_ok = m.flags & PKT_F_TCP_SACK_PERM;
		return false;
	}
	if (m.tcp_flags & TCP_SYN) {
		assert_true(m.tcp_flags & TCP_ACK);
		assert_int_equal(ack, g->iss + 1);
		assert_true(m.flags & PKT_F_TCP_MSS);
		g->synack = true;
		g->rcv_nxt = seq + 1;
		g->peer_wscale = (m.flags & PKT_F_TCP_WSCALE) ? m.tcp_wscale : 0;
		g->peer_wnd = ntohs(th->window);
		g->snd_una = g->snd_nxt = g->iss + 1;
		g->sack_ok = m.flags & PKT_F_TCP_SACK_PERM;
		return true;
	}
	g->nsack = 0;
	for (unsigned int o = 20; o + 1 < tcp_hlen(th);) {
		const uint8_t *op = (const uint8_t *)th + o;

		if (op[0] == TCP_OPT_NOP) {
			o++;
			continue;
		}
		if (op[0] == TCP_OPT_SACK) {
			g->nsack = (op[1] - 2u) / 8u;
			for (unsigned int i = 0; i < 2 * g->nsack && i < 8; i++) {
				uint32_t v;

				memcpy(&v, op + 2 + (size_t)4 * i, 4);
				g->sack[i] = ntohl(v);
			}
		}
		if (op[0] == TCP_OPT_EOL || op[1] < 2)
			break;
		o += op[1];
	}
	g->peer_wnd = (uint32_t)ntohs(th->window) << g->peer_wscale;
	if (!g->peer_wnd)
		g->zero_wnd_seen++;
	if ((int32_t)(ack - g->snd_una) > 0)
		g->snd_una = ack;
	else if (!plen && ack == g->snd_una)
		g->dupacks_seen++;
	if (seq == g->rcv_nxt - 1 && !plen && !(m.tcp_flags & TCP_FIN))
		g->probes_seen++;
	if (plen) {
		if (g->rxseg < 64 && (g->drop_mask & (1ull << g->rxseg++))) {
			g->dropped++;
			return true;
		}
		if (g->drop) {
			g->drop--;
			g->dropped++;
			return true; /* lost on the way */
		}
		/* kept at its place, in order or not, as a real TCP does */
		uint32_t base = g->rcv_nxt - (uint32_t)g->rx_len;
		size_t at = seq - base;
		bool progress = true;

		if (seq != g->rcv_nxt)
			g->dup_owed++;
		if ((int32_t)(seq - g->rcv_nxt) >= 0 && at + plen <= g->rx_cap) {
			unsigned int i;

			for (i = 0; i < g->nor && g->or_e[i] != at; i++)
				;
			if (seq == g->rcv_nxt) {
				memcpy(g->rx + at, p, plen);
				g->rx_len += plen;
			} else if (i < g->nor) {
				memcpy(g->rx + at, p, plen);
				g->or_e[i] += plen;
			} else if (g->nor < 16) {
				memcpy(g->rx + at, p, plen);
				g->or_s[g->nor] = at;
				g->or_e[g->nor++] = at + plen;
			}
		}
		while (progress) {
			progress = false;
			for (unsigned int i = 0; i < g->nor; i++) {
				if (g->or_s[i] > g->rx_len)
					continue;
				if (g->or_e[i] > g->rx_len)
					g->rx_len = g->or_e[i];
				g->or_s[i] = g->or_s[--g->nor];
				g->or_e[i] = g->or_e[g->nor];
				progress = true;
				break;
			}
		}
		g->rcv_nxt = base + (uint32_t)g->rx_len;
	}
	if ((m.tcp_flags & TCP_FIN) && seq + pkt_payload_len(&m) == g->rcv_nxt) {
		g->rcv_nxt++;
		g->fin = true;
	}
	return plen || (m.tcp_flags & TCP_FIN);
}

/* The guest sends what its stream and the relay's window allow, from its
 * oldest unacknowledged byte (so whatever a short write left is resent). */
static inline void g_push(struct fx *f, struct guest *g)
{
	size_t off = g->snd_una - (g->iss + 1);
	uint32_t sent = 0;

	if (!g->synack || g->rst)
		return;
	g->snd_nxt = g->snd_una;
	while (off < g->tx_len && sent < g->peer_wnd) {
		size_t l = g->tx_len - off;

		if (l > g->mss)
			l = g->mss;
		if (l > g->peer_wnd - sent)
			l = g->peer_wnd - sent;
		if (!g->lose_every || ++g->txcount % g->lose_every)
			g_send(f, g, TCP_ACK | TCP_PSH, g->snd_nxt, g->rcv_nxt,
			       g->tx + off, l, false);
		g->snd_nxt += (uint32_t)l;
		off += l;
		sent += (uint32_t)l;
		if (g->rst)
			return;
	}
	/* the FIN, again while unacknowledged */
	if (off == g->tx_len && g->tx_fin &&
	    g->snd_una != g->iss + 2 + (uint32_t)g->tx_len)
		g_send(f, g, TCP_ACK | TCP_FIN, g->snd_nxt, g->rcv_nxt, NULL, 0,
		       false);
}

/* Deliver the relay's events and output to the guests for up to @ms (or
 * until @done says so). */
static inline void fx_pump(struct fx *f, struct guest *gs, unsigned int ng, int ms,
		    bool (*done)(struct fx *, void *), void *arg)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct epoll_event ev[64];
		int n, i;
		unsigned int k, j, rounds = 0;
		bool news[8] = { false };

		n = epoll_wait(f->env.ep, ev, 64, 1);
		for (i = 0; i < n; i++)
			sock_tcp_event(f->t, ev[i].data.u32, ev[i].events,
				       fx_now(f));
		sock_tcp_tick(f->t, fx_now(f));
		while (sock_tcp_pending(f->t) && rounds++ < 64) {
			struct dp_buf *bp[NBUF];

			for (k = 0; k < NBUF; k++) {
				dp_buf_reset(&f->bufs[k]);
				bp[k] = &f->bufs[k];
			}
			k = sock_tcp_output(f->t, bp, NBUF, fx_now(f));
			for (j = 0; j < k; j++) {
				uint16_t sport, dport;

				/* by both ports: a forward's clients share
				 * the external one */
				memcpy(&sport, bp[j]->data + 20, 2);
				memcpy(&dport, bp[j]->data + 22, 2);
				for (i = 0; i < (int)ng; i++)
					if (ntohs(dport) == gs[i].eport &&
					    ntohs(sport) == gs[i].rport)
						news[i] |= g_recv(&gs[i], bp[j]);
			}
			if (!k)
				break;
		}
		for (i = 0; i < (int)ng; i++) {
			if (gs[i].syn_owed)
				g_answer_syn(f, &gs[i]);
			if (news[i] && !gs[i].no_ack && !gs[i].rst)
				g_ack(f, &gs[i]);
			for (; gs[i].dup_owed; gs[i].dup_owed--)
				if (!gs[i].no_ack && !gs[i].rst)
					g_ack(f, &gs[i]);
			g_push(f, &gs[i]);
		}
		if (done && done(f, arg))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return;
	}
}

/* What the guests receive: static, one area per guest of a test. */
static uint8_t rx_pool[3][16u << 20];

static inline void g_init(struct guest *g, uint32_t flow, uint16_t eport,
		   uint16_t rport)
{
	static unsigned int next;

	memset(g, 0, sizeof(*g));
	g->flow = flow;
	g->eport = eport;
	g->rport = rport;
	g->raddr = LO;
	g->iss = 1000000u * flow + 12345u;
	g->mss = 1460;
	g->wscale = 7;
	g->win = 4u << 20;
	g->rx_cap = sizeof(rx_pool[0]);
	g->rx = rx_pool[next++ % 3];
}

/* --- the remote --------------------------------------------------------- */

static inline int listener(uint16_t *port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = LO };
	socklen_t sl = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static inline int accept_nb(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline bool g_synack_or_rst(struct fx *f, void *arg)
{
	const struct guest *g = arg;

	(void)f;
	return g->synack || g->rst;
}

/* Open guest @g to the remote behind @lfd: returns the remote's socket. */
static inline int g_open(struct fx *f, struct guest *g, int lfd)
{
	int fd;

	g_syn(f, g);
	/* No SYN-ACK before the remote has accepted: nothing is owed yet. */
	fx_pump(f, g, 1, 2000, g_synack_or_rst, g);
	assert_true(g->synack);
	fd = accept_nb(lfd);
	assert_true(fd >= 0);
	g_ack(f, g);
	return fd;
}

static inline unsigned int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static inline void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static inline bool g_fin_seen(struct fx *f, void *arg)
{
	(void)f;
	return ((struct guest *)arg)->fin;
}

static inline bool relay_empty(struct fx *f, void *arg)
{
	(void)arg;
	return fx_stats(f).active == 0;
}

#endif /* ARCNAT_TESTS_SOCK_TCP_FX_H */
