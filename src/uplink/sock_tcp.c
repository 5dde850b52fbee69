// SPDX-License-Identifier: MIT
/*
 * sock_tcp.c - the TCP relay of the socket uplink.
 *
 * Theory of operation. The relay terminates the guest's TCP connection and
 * carries its bytes over an ordinary host socket connected to the remote,
 * the design passt made known (its tcp.c explains it); the relay keeps no
 * copy of the remote's bytes:
 *
 * - Open: a guest SYN makes a non-blocking connect() to the remote. Only
 *   when the remote accepts does the guest get its SYN-ACK (MSS from the
 *   guest's path MTU, window scaling when the guest offers it); a refusal,
 *   another error or no answer within the connect timeout gives the guest
 *   an RST. SYNs repeated meanwhile are absorbed.
 * - Guest to remote: a segment at rcv_nxt is written to the socket and only
 *   what send() accepted is acknowledged; the guest retransmits the rest. A
 *   segment beyond rcv_nxt is dropped with a duplicate ACK. The window the
 *   relay announces is the room left in the socket's send buffer (SO_SNDBUF
 *   less SIOCOUTQ), scaled, never shrunk. A TSO super-frame is one send().
 * - Remote to guest: the socket's receive buffer is the retransmission
 *   queue. The relay reads with MSG_PEEK from the first byte not yet sent
 *   (snd_nxt - snd_una bytes in): with SO_PEEK_OFF (TCP since Linux 6.9)
 *   the kernel keeps that offset, moving it forward on each peek and back
 *   as acknowledged bytes are discarded (recv() with MSG_TRUNC); without
 *   it, each peek reads the bytes in flight again into a scratch buffer
 *   (bounded: at most SOCK_TCP_DISCARD bytes in flight on that path).
 *   Segments are at most the guest's MSS, or super-frames with a vnet
 *   header when the guest takes them; one recvmsg() fills a burst.
 * - Retransmission: RTO from measured RTT (RFC 6298, Karn's rule), doubled
 *   on each expiry, which rewinds snd_nxt to snd_una (go-back-N); three
 *   duplicate ACKs resend the first segment at once. A zero window from the
 *   guest is probed (persist timer); a zero window of ours is the guest's
 *   to probe, and the relay answers each probe and sends a window update
 *   when the socket has room again (EPOLLOUT).
 * - Close: the guest's FIN, once all its data is written, becomes
 *   shutdown(SHUT_WR); the remote's EOF becomes a FIN after all its data.
 *   The side that closed first lingers (the relay in TIME_WAIT, bounded).
 *   An RST from the guest closes the socket with SO_LINGER 0 (an RST to the
 *   remote); an error or RST from the remote is an RST to the guest. When
 *   the conntrack flow goes, so does the connection.
 *
 * - Out of order: what the guest sends beyond a hole is kept, bounded
 *   (sock_tcp_ooo), and announced with SACK; it goes to the socket when
 *   the hole fills. Only then is it acknowledged.
 * - Towards the guest: a port forward's client, accepted by the port
 *   (sock_tcp_accept()), makes the relay the active opener: a SYN to the
 *   guest, the connection found by its 4-tuple until the guest's SYN-ACK
 *   binds it to its flow, then an ordinary connection with the client's
 *   socket in the remote's place (sock_tcp_open.c).
 *
 * Calls on the datapath (the sandbox allows them for --outside sock):
 * socket(AF_INET, SOCK_STREAM), connect, setsockopt (TCP_NODELAY,
 * SO_KEEPALIVE, TCP_KEEPIDLE, SO_PEEK_OFF, SO_LINGER, and SO_SNDBUF,
 * SO_RCVBUF when configured), getsockopt (SO_ERROR, SO_SNDBUF), ioctl
 * (SIOCOUTQ, FIONREAD), recvmsg (MSG_PEEK), recvfrom (MSG_TRUNC), sendmsg,
 * shutdown, close.
 *
 * Events: sockets are watched edge-triggered (EPOLLET): data stays in the
 * receive buffer until the guest acknowledges it, so a level-triggered
 * EPOLLIN would fire for ever; new data, an ACK that opens the guest's
 * window and a retransmission each queue the connection for output
 * instead. EPOLLOUT is armed only while a write was short.
 *
 * State: connections are preallocated (max_conns); a flow index finds its
 * connection through an array of max_flows entries; the id given to
 * watch() is the slot with 8 bits of generation, so an event of a slot
 * freed since is told apart. Timers are two deadlines per connection
 * (retransmission or persist; connect, TIME_WAIT or keepalive) and the
 * window poll; a timer wheel of 1 ms buckets holds each connection at its
 * earliest, so tick() looks only at the buckets of the ticks gone by, not
 * at every connection (bench_sock_tcp_tick: 10,000 connections).
 */
#include "uplink/sock_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/compiler.h"
#include "pkt/csum.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "uplink/sock_defs.h"
#include "uplink/sock_tcp_conn.h"
#include "uplink/sock_tcp_open.h"

/* --- opening ------------------------------------------------------------ */

static int stcp_socket(struct sock_tcp *t, const struct stcp_conn *c)
{
	/* 198.19.b.c is the host's 127.0.b.c (sock_defs.h). */
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = c->rport,
		.sin_addr.s_addr = sock_addr_to_host(c->raddr),
	};
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	stcp_sockopts(t, fd);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		int v = -errno;

		(void)close(fd);
		return v;
	}
	return fd;
}

static void stcp_refuse(struct sock_tcp *t, const struct stcp_seg *s)
{
	stcp_rst(t, s->raddr, s->rport, s->eport, 0, s->seq + 1,
		 TCP_RST | TCP_ACK);
}

static void stcp_open(struct sock_tcp *t, uint32_t flow,
		      const struct stcp_seg *s, const struct pkt_meta *m,
		      uint64_t now)
{
	struct stcp_conn *c;
	uint32_t slot;
	int fd, err;

	if (!t->nfree) {
		t->st.table_full++;
		stcp_refuse(t, s);
		return;
	}
	fd = stcp_socket(t, &(struct stcp_conn){ .raddr = s->raddr,
						 .rport = s->rport });
	if (fd < 0) {
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS ||
		    fd == -ENOMEM)
			t->st.socket_failed++;
		else if (fd == -ECONNREFUSED)
			t->st.refused++;
		else
			t->st.unreachable++;
		stcp_refuse(t, s);
		return;
	}
	slot = t->free_slots[--t->nfree];
	c = &t->conns[slot];
	if (slot >= t->hiwater)
		t->hiwater = slot + 1;
	t->st.active++;
	t->st.opened++;
	c->fd = fd;
	c->flow = flow;
	c->state = STCP_CONNECTING;
	c->raddr = s->raddr;
	c->rport = s->rport;
	c->eport = s->eport;
	c->guest_isn = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->iss = t->cfg.iss ? t->cfg.iss : stcp_rand(t);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->snd_wnd = s->win;
	c->mss = (m->flags & PKT_F_TCP_MSS) ? m->tcp_mss : 536;
	if (c->mss > t->mss)
		c->mss = t->mss;
	if (c->mss < STCP_MSS_MIN)
		c->mss = STCP_MSS_MIN;
	if ((m->flags & PKT_F_TCP_SACK_PERM) && !t->cfg.no_sack &&
	    !t->cfg.no_ooo)
		c->flags |= STCP_F_SACK;
	if (m->flags & PKT_F_TCP_WSCALE) {
		c->flags |= STCP_F_WSCALE;
		c->snd_wscale = m->tcp_wscale;
		c->rcv_wscale = STCP_RCV_WSCALE;
	}
	c->rto_us = STCP_RTO_INIT_US;
	c->last_rx = now;
	stcp_peek_init(t, c, fd);
	t->flow_map[flow] = slot;
	c->events = EPOLLOUT;
	err = t->cfg.env.watch(t->cfg.env.ctx, fd, stcp_id(c, slot), c->events);
	if (err) {
		t->st.socket_failed++;
		stcp_abort(t, c, true);
		return;
	}
	stcp_timer(t, c, &c->life_at, now + t->connect_timeout_ns);
}

/* The connect() finished: SYN-ACK owed, or an RST. */
static void stcp_connected(struct sock_tcp *t, struct stcp_conn *c,
			   uint64_t now)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err) {
		if (err == ECONNREFUSED)
			t->st.refused++;
		else
			t->st.unreachable++;
		stcp_abort(t, c, true);
		return;
	}
	if (stcp_watch(t, c, STCP_EV_BASE)) {
		stcp_abort(t, c, true);
		return;
	}
	t->st.established++;
	c->state = STCP_SYN_RCVD;
	c->flags |= STCP_F_SYNACK;
	c->rtt_seq = c->iss + 1;
	c->rtt_at = now;
	stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
	stcp_timer(t, c, &c->life_at, 0);
	stcp_queue(t, c);
}

/* --- input ---------------------------------------------------------------- */

/* Reset-generation for a segment without a connection (RFC 9293 3.10.7.1). */
static void stcp_no_conn(struct sock_tcp *t, const struct stcp_seg *s)
{
	t->st.no_conn++;
	if (s->flags & TCP_ACK)
		stcp_rst(t, s->raddr, s->rport, s->eport, s->ack, 0, TCP_RST);
	else
		stcp_rst(t, s->raddr, s->rport, s->eport, 0,
			 s->seq + s->plen + !!(s->flags & TCP_SYN) +
				 !!(s->flags & TCP_FIN),
			 TCP_RST | TCP_ACK);
}

/* The nearest left edge of the segment's SACK blocks above its ACK: where
 * the hole the guest misses ends. Options were bounded by the parser. */
static void stcp_sack_edge(const struct tcp_hdr *th, uint32_t hlen,
			   struct stcp_seg *s)
{
	const uint8_t *o = (const uint8_t *)th + TCP_HLEN_MIN;
	uint32_t n = hlen - TCP_HLEN_MIN, i = 0;

	s->has_sack = false;
	while (i < n && o[i] != TCP_OPT_EOL) {
		uint32_t l, b;

		if (o[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return;
		l = o[i + 1];
		for (b = 0; o[i] == TCP_OPT_SACK && 2 + 8 * (b + 1) <= l; b++) {
			uint32_t left;

			memcpy(&left, o + i + 2 + (size_t)8 * b, 4);
			left = ntohl(left);
			if ((int32_t)(left - s->ack) > 0 &&
			    (!s->has_sack ||
			     (int32_t)(left - s->sack_left) < 0)) {
				s->sack_left = left;
				s->has_sack = true;
			}
		}
		i += l;
	}
}

void sock_tcp_input(struct sock_tcp *t, uint32_t flow, const uint8_t *ip,
		    uint32_t len, const struct pkt_meta *m,
		    const struct pkt_vnet *vnet, uint64_t now)
{
	const struct tcp_hdr *th;
	struct stcp_conn *c = NULL;
	struct stcp_seg s;
	uint32_t slot;

	(void)vnet; /* a super-frame's payload is taken whole, as one write */
	if (m->l3 != PKT_L3_IPV4 || m->l4_proto != IPPROTO_NUM_TCP ||
	    !(m->flags & PKT_F_L4) || (m->flags & PKT_F_FRAG) ||
	    flow >= t->cfg.max_flows || m->payload_off > len ||
	    (uint32_t)m->l4_off + TCP_HLEN_MIN > len ||
	    m->payload_off + pkt_payload_len(m) > len ||
	    (m->tcp_flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) ||
	    (m->tcp_flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN)) {
		t->st.bad_segment++;
		return;
	}
	t->now = now;
	t->st.segs_in++;
	th = (const struct tcp_hdr *)(ip + m->l4_off);
	s.raddr = pkt_ip4_daddr(ip, m);
	s.rport = m->dport;
	s.eport = m->sport;
	s.seq = ntohl(th->seq);
	s.ack = ntohl(th->ack_seq);
	s.flags = m->tcp_flags;
	s.win = ntohs(th->window);
	s.payload = ip + m->payload_off;
	s.plen = pkt_payload_len(m);
	s.has_sack = false;
	if (m->payload_off - m->l4_off > TCP_HLEN_MIN)
		stcp_sack_edge(th, (uint32_t)(m->payload_off - m->l4_off), &s);

	slot = t->flow_map[flow];
	if (slot != STCP_NONE) {
		c = &t->conns[slot];
		if (c->raddr != s.raddr || c->rport != s.rport ||
		    c->eport != s.eport) {
			/* The flow index was reused without flow_gone: the
			 * old connection is stale. */
			t->st.aborted++;
			stcp_abort(t, c, false);
			c = NULL;
		} else if (c->state == STCP_TIME_WAIT &&
			   ((s.flags & (TCP_SYN | TCP_ACK)) ==
				    (TCP_SYN | TCP_ACK) ||
			    (s.flags & TCP_RST)) &&
			   stcp_opening_input(t, flow, &s, m, now)) {
			/* A forward's new client on the same ports: the
			 * guest answered our SYN (the lingering one is
			 * gone with a bind). */
			return;
		} else if (c->state == STCP_TIME_WAIT &&
			   (s.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
			/* A new connection on the same ports ends the
			 * lingering one, as TIME_WAIT allows. */
			stcp_free(t, c);
			c = NULL;
		}
	}
	if (!c) {
		/* No connection has the flow: the guest's answer to a SYN
		 * of ours (sock_tcp_accept()), found by its ports? */
		if (stcp_opening_input(t, flow, &s, m, now))
			return;
		if (s.flags & TCP_RST)
			return;
		if ((s.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			stcp_open(t, flow, &s, m, now);
		else
			stcp_no_conn(t, &s);
		return;
	}
	stcp_segment(t, c, &s, now);
}

/* --- events, flows, timers -------------------------------------------- */

void sock_tcp_event(struct sock_tcp *t, uint32_t id, uint32_t events,
		    uint64_t now)
{
	uint32_t slot = id & (SOCK_TCP_CONNS_MAX - 1);
	struct stcp_conn *c;

	t->now = now;
	if (slot >= t->cfg.max_conns)
		return;
	c = &t->conns[slot];
	if (c->state == STCP_FREE || c->fd < 0 || stcp_id(c, slot) != id)
		return;
	if (c->state == STCP_CONNECTING) {
		stcp_connected(t, c, now);
		return;
	}
	if (c->state == STCP_SYN_SENT) {
		stcp_opening_event(t, c, events);
		return;
	}
	if (events & EPOLLERR) {
		int err = 0;
		socklen_t sl = sizeof(err);

		(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			if (err == ECONNRESET || err == EPIPE)
				t->st.rst_from_remote++;
			else
				t->st.aborted++;
			stcp_abort(t, c, true);
			return;
		}
	}
	if (events & (EPOLLRDHUP | EPOLLHUP))
		c->flags |= STCP_F_RDHUP;
	if ((events & EPOLLOUT) && (c->events & EPOLLOUT)) {
		if (stcp_room(c) >= stcp_wnd_min(t, c)) {
			/* Room again: a window update, and no more EPOLLOUT
			 * (kept while there is none: the next wakeup will
			 * tell). */
			if (stcp_reopened(t, c)) {
				t->st.aborted++;
				stcp_abort(t, c, true);
				return;
			}
		} else if (c->wnd_at && c->wnd_polls) {
			/* The remote reads again: look soon. */
			c->wnd_polls = 0;
			stcp_timer(t, c, &c->wnd_at, now + STCP_WND_POLL_NS);
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		stcp_queue(t, c);
}

void sock_tcp_flow_gone(struct sock_tcp *t, uint32_t flow)
{
	uint32_t slot;

	if (flow >= t->cfg.max_flows || t->flow_map[flow] == STCP_NONE)
		return;
	slot = t->flow_map[flow];
	t->st.flow_gone++;
	stcp_abort(t, &t->conns[slot], false);
}

/* A connection's timers, @now past one of them. */
static void stcp_timers(struct sock_tcp *t, struct stcp_conn *c, uint64_t now)
{
	if (c->rto_at && now >= c->rto_at) {
		c->rto_at = 0;
		if (c->state == STCP_SYN_SENT)
			stcp_opening_rto(t, c, now);
		else
			stcp_rto(t, c, now);
		if (c->state == STCP_FREE)
			return;
	}
	if (c->wnd_at && now >= c->wnd_at) {
		c->wnd_at = 0;
		t->st.wnd_polls++;
		if (c->state == STCP_ESTABLISHED &&
		    stcp_room(c) >= stcp_wnd_min(t, c)) {
			if (stcp_reopened(t, c)) {
				t->st.aborted++;
				stcp_abort(t, c, true);
				return;
			}
		} else if (c->state == STCP_ESTABLISHED) {
			c->wnd_polls += c->wnd_polls < STCP_WND_POLL_BACKOFF;
			stcp_timer(t, c, &c->wnd_at,
				   now + (STCP_WND_POLL_NS << c->wnd_polls));
		}
	}
	if (!c->life_at || now < c->life_at)
		return;
	c->life_at = 0;
	switch (c->state) {
	case STCP_CONNECTING:
		t->st.unreachable++;
		stcp_abort(t, c, true);
		return;
	case STCP_TIME_WAIT:
		stcp_free(t, c);
		return;
	case STCP_ESTABLISHED:
		if (now - c->last_rx < t->keepalive_ns) {
			stcp_timer(t, c, &c->life_at, c->last_rx + t->keepalive_ns);
			return;
		}
		if (c->ka_probes >= STCP_KA_PROBES) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return;
		}
		c->ka_probes++;
		c->flags |= STCP_F_PROBE;
		stcp_queue(t, c);
		stcp_timer(t, c, &c->life_at, now + STCP_KA_INTVL_NS);
		return;
	default:
		return;
	}
}

/* Run the connections of wheel bucket @b: those due get their timers,
 * every one goes back to the wheel at its earliest deadline (if any). The
 * bucket is moved aside first, so that a connection put back into it is
 * not run twice. */
static void stcp_tw_run(struct sock_tcp *t, uint32_t b, uint64_t now)
{
	uint32_t i;

	t->wheel[STCP_TW_RUN] = t->wheel[b];
	t->wheel[b] = STCP_NONE;
	for (i = t->wheel[STCP_TW_RUN]; i != STCP_NONE; i = t->conns[i].tw_next)
		t->conns[i].tw_bucket = STCP_TW_RUN;
	while ((i = t->wheel[STCP_TW_RUN]) != STCP_NONE) {
		struct stcp_conn *c = &t->conns[i];
		bool due = c->tw_at <= now;

		stcp_tw_unlink(t, c);
		if (due)
			stcp_timers(t, c, now);
		if (c->state != STCP_FREE)
			stcp_tw_arm(t, c);
	}
}

void sock_tcp_tick(struct sock_tcp *t, uint64_t now)
{
	uint64_t cur = now >> STCP_TW_SHIFT, k, n;

	t->now = now;
	if (cur <= t->tw_last)
		return;
	/* The ticks since the last call, each bucket once at most (a
	 * bucket holds every turn's deadlines). The current tick is not
	 * complete: its bucket is run again next time. */
	n = cur - t->tw_last;
	if (n > STCP_TW_SLOTS)
		n = STCP_TW_SLOTS;
	for (k = cur - n + 1; k <= cur; k++)
		stcp_tw_run(t, (uint32_t)(k & (STCP_TW_SLOTS - 1)), now);
	t->tw_last = cur - 1;
}

unsigned int sock_tcp_output(struct sock_tcp *t, struct dp_buf **bufs,
			     unsigned int n, uint64_t now)
{
	/* Each round sends an RST, or serves (and pops or rotates) the
	 * connection at the head of the queue: the bound covers every RST
	 * and every queued slot once, and n rotations. */
	uint32_t rounds = SOCK_TCP_RSTQ + (t->pend_tail - t->pend_head) + n;
	unsigned int k = 0;

	t->now = now;
	while (k < n && rounds--) {
		struct stcp_conn *c;
		bool more = false;
		uint32_t slot;

		if (t->rst_head != t->rst_tail) {
			dp_buf_reset(bufs[k]);
			stcp_out_rst(t, bufs[k++]);
			continue;
		}
		if (t->pend_head == t->pend_tail)
			break;
		slot = t->pend[t->pend_head % t->cfg.max_conns];
		t->pend_head++;
		c = &t->conns[slot];
		c->queued = false;
		if (c->state == STCP_FREE)
			continue;
		if (c->state == STCP_SYN_SENT)
			k += stcp_opening_out(t, c, bufs[k]);
		else
			k += stcp_out_conn(t, c, bufs + k, n - k, now, &more);
		if (more && c->state != STCP_FREE)
			stcp_queue(t, c); /* to the back: the others' turn */
	}
	return k;
}

int sock_tcp_accept(struct sock_tcp *t, int fd, uint32_t peer,
		    uint16_t peer_port, uint16_t ext_port, uint64_t now)
{
	return stcp_accept(t, fd, peer, peer_port, ext_port, now);
}

bool sock_tcp_can_accept(const struct sock_tcp *t)
{
	return stcp_can_accept(t);
}

void sock_tcp_icmp(struct sock_tcp *t, const uint8_t *ip, uint32_t len,
		   const struct pkt_meta *m, uint64_t now)
{
	t->now = now;
	stcp_opening_icmp(t, ip, len, m);
}

bool sock_tcp_pending(const struct sock_tcp *t)
{
	return t->rst_head != t->rst_tail || t->pend_head != t->pend_tail;
}

void sock_tcp_get_stats(const struct sock_tcp *t, struct sock_tcp_stats *out)
{
	*out = t->st;
}

/* --- life ------------------------------------------------------------- */

int sock_tcp_create(struct sock_tcp **out, const struct sock_tcp_config *cfg)
{
	struct sock_tcp *t;
	uint32_t i;

	*out = NULL;
	if (!cfg->max_conns || cfg->max_conns > SOCK_TCP_CONNS_MAX ||
	    !cfg->max_flows || cfg->max_flows > STCP_FLOWS_MAX ||
	    !cfg->env.watch || !cfg->env.unwatch ||
	    (cfg->mtu && (cfg->mtu < 576 || cfg->mtu > 65535)))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->conns = calloc(cfg->max_conns, sizeof(*t->conns));
	t->free_slots = calloc(cfg->max_conns, sizeof(*t->free_slots));
	t->pend = calloc(cfg->max_conns, sizeof(*t->pend));
	t->flow_map = malloc((size_t)cfg->max_flows * sizeof(*t->flow_map));
	t->wheel = malloc((STCP_TW_SLOTS + 1) * sizeof(*t->wheel));
	t->discard = cfg->no_peek_off || !stcp_peek_off_works() ?
			     malloc(SOCK_TCP_DISCARD) : NULL;
	if (!t->conns || !t->free_slots || !t->pend || !t->flow_map || !t->wheel ||
	    (!t->discard && (cfg->no_peek_off || !stcp_peek_off_works()))) {
		sock_tcp_destroy(t);
		return -ENOMEM;
	}
	if (!stcp_peek_off_works())
		t->cfg.no_peek_off = true;
	if (!cfg->no_ooo) {
		uint32_t bytes = cfg->ooo_bytes ? cfg->ooo_bytes : 4u << 20;

		if (stcp_ooo_pool_init(&t->ooo, bytes, bytes / 4)) {
			sock_tcp_destroy(t);
			return -ENOMEM;
		}
	}
	for (i = 0; i < cfg->max_flows; i++)
		t->flow_map[i] = STCP_NONE;
	for (i = 0; i <= STCP_TW_SLOTS; i++)
		t->wheel[i] = STCP_NONE;
	for (i = 0; i < cfg->max_conns; i++) {
		t->conns[i].fd = -1;
		t->conns[i].tw_bucket = STCP_NONE;
		t->conns[i].tw_next = t->conns[i].tw_prev = STCP_NONE;
		/* LIFO from slot 0 up: the used slots stay low. */
		t->free_slots[i] = cfg->max_conns - 1 - i;
	}
	t->nfree = cfg->max_conns;
	t->hiwater = 0;
	t->mss = (cfg->mtu ? cfg->mtu : 1500) - 40;
	t->connect_timeout_ns = cfg->connect_timeout_ns ?
					cfg->connect_timeout_ns :
					30ull * 1000000000ull;
	t->time_wait_ns = cfg->time_wait_ns ? cfg->time_wait_ns :
					      2ull * 1000000000ull;
	t->keepalive_ns = cfg->keepalive_ns ? cfg->keepalive_ns :
					      7200ull * 1000000000ull;
	t->persist_max_ns = cfg->persist_max_ns ? cfg->persist_max_ns :
						  3600ull * 1000000000ull;
	if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng))
		t->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)t;
	t->rng |= 1;
	if (stcp_opening_init(t)) {
		sock_tcp_destroy(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void sock_tcp_destroy(struct sock_tcp *t)
{
	if (!t)
		return;
	if (t->conns && t->free_slots && t->flow_map && t->wheel)
		for (uint32_t i = 0; i < t->cfg.max_conns; i++)
			if (t->conns[i].state != STCP_FREE)
				stcp_free(t, &t->conns[i]);
	stcp_ooo_pool_fini(&t->ooo);
	stcp_opening_fini(t);
	free(t->discard);
	free(t->flow_map);
	free(t->wheel);
	free(t->pend);
	free(t->free_slots);
	free(t->conns);
	free(t);
}
