// SPDX-License-Identifier: MIT
/*
 * sock_tcp_open.c - the TCP relay's connections towards the guest while
 * they open.
 *
 * Theory of operation. A port forward (`-t 8080:80`) listens on the host;
 * the port accept()s a client and hands its socket to the relay
 * (sock_tcp_accept()) with the 4-tuple as the NAT sees it: the client
 * peer:peer_port, the forward's EXT:ext_port. The relay is then the active
 * opener towards the guest, the mirror of a guest's own connection:
 *
 * - STCP_SYN_SENT: a SYN peer:peer_port -> EXT:ext_port (MSS from the
 *   guest path's MTU, window scale and SACK offered, the window the
 *   client's socket has room for) leaves through sock_tcp_output(); the
 *   NAT's forward creates the flow as it translates it. There is no flow
 *   index yet, so the connection is found by its 4-tuple in a chained
 *   hash table over the slots (struct stcp_opening), keyed with a secret
 *   because the client picks its port; at most max_opening connections
 *   wait there, so that a storm of clients to a guest that does not
 *   answer neither fills every slot nor makes a lookup long. The client's
 *   bytes are not read meanwhile: its socket's receive buffer is the
 *   backlog, and the socket is watched for errors only.
 * - The guest's SYN-ACK arrives as any guest segment does (sock_tcp_input(),
 *   EXT:ext_port -> peer:peer_port and the flow's index): found by the
 *   tuple, it binds the connection to the flow and makes it
 *   STCP_ESTABLISHED, an ACK owed; from there on it is an ordinary
 *   connection (sock_tcp_conn), the client's socket in the remote's place.
 * - The SYN is resent at the RTO (1 s, doubled) and given up after
 *   STCP_FWD_SYN_RETRIES: the client is reset (SO_LINGER 0). The guest's
 *   RST (nothing listens there), an ICMP destination unreachable quoting
 *   the SYN, or the client resetting first end it as well, each counted.
 *   A segment acknowledging anything but our SYN gets an RST (RFC 9293
 *   3.10.7.3) and binds nothing.
 *
 * Invariant: a connection in STCP_SYN_SENT is in the table, and leaves it
 * (stcp_opening_end() or the bind) before its slot is freed; the generic
 * paths never see one (sock_tcp.c routes its timers, events and output
 * here, and it is in no flow_map entry).
 */
#include "uplink/sock_tcp_open.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/assert.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

/* --- the table ---------------------------------------------------------- */

static uint32_t stcp_ohash(const struct stcp_opening *o, uint32_t raddr,
			   uint16_t rport, uint16_t eport)
{
	uint8_t k[8];

	memcpy(k, &raddr, 4);
	memcpy(k + 4, &rport, 2);
	memcpy(k + 6, &eport, 2);
	return (uint32_t)siphash13(&o->key, k, sizeof(k)) & o->mask;
}

/* The opening connection of a 4-tuple (STCP_NONE: none). A chain holds at
 * most o->n slots, and a keyed hash keeps it short. */
static uint32_t stcp_ofind(const struct sock_tcp *t, uint32_t raddr,
			   uint16_t rport, uint16_t eport)
{
	const struct stcp_opening *o = &t->opening;
	uint32_t i, k;

	if (!o->n)
		return STCP_NONE;
	i = o->bucket[stcp_ohash(o, raddr, rport, eport)];
	for (k = 0; i != STCP_NONE && k < o->n; i = o->next[i], k++) {
		const struct stcp_conn *c = &t->conns[i];

		if (c->raddr == raddr && c->rport == rport && c->eport == eport)
			return i;
	}
	return STCP_NONE;
}

static void stcp_oinsert(struct sock_tcp *t, uint32_t slot)
{
	struct stcp_opening *o = &t->opening;
	const struct stcp_conn *c = &t->conns[slot];
	uint32_t h = stcp_ohash(o, c->raddr, c->rport, c->eport);

	o->next[slot] = o->bucket[h];
	o->bucket[h] = slot;
	o->n++;
}

static void stcp_oremove(struct sock_tcp *t, uint32_t slot)
{
	struct stcp_opening *o = &t->opening;
	const struct stcp_conn *c = &t->conns[slot];
	uint32_t *p = &o->bucket[stcp_ohash(o, c->raddr, c->rport, c->eport)];
	uint32_t k;

	for (k = 0; *p != STCP_NONE && k < o->n; p = &o->next[*p], k++) {
		if (*p == slot) {
			*p = o->next[slot];
			o->next[slot] = STCP_NONE;
			o->n--;
			return;
		}
	}
	/* Every STCP_SYN_SENT slot is in the table (the invariant above). */
	ARC_ASSERT(0);
}

int stcp_opening_init(struct sock_tcp *t)
{
	struct stcp_opening *o = &t->opening;
	uint32_t max = t->cfg.max_opening ? t->cfg.max_opening :
					    SOCK_TCP_OPENING_DEF;
	uint32_t nb = 2, i;

	if (max > t->cfg.max_conns)
		max = t->cfg.max_conns;
	while (nb < 2 * max)
		nb <<= 1;
	o->max = max;
	o->mask = nb - 1;
	o->n = 0;
	o->bucket = malloc((size_t)nb * sizeof(*o->bucket));
	o->next = malloc((size_t)t->cfg.max_conns * sizeof(*o->next));
	if (!o->bucket || !o->next)
		return -ENOMEM;
	for (i = 0; i < nb; i++)
		o->bucket[i] = STCP_NONE;
	for (i = 0; i < t->cfg.max_conns; i++)
		o->next[i] = STCP_NONE;
	if (siphash_key_random(&o->key)) {
		o->key.k[0] = t->rng;
		o->key.k[1] = t->rng * 0x9e3779b97f4a7c15ull;
	}
	return 0;
}

void stcp_opening_fini(struct sock_tcp *t)
{
	free(t->opening.bucket);
	free(t->opening.next);
	t->opening.bucket = t->opening.next = NULL;
}

/* --- opening ------------------------------------------------------------ */

void stcp_sockopts(const struct sock_tcp *t, int fd)
{
	int one = 1, idle = (int)(t->keepalive_ns / 1000000000ull), v;

	/* The guest already coalesces (Nagle, TSO): no second delay here. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (idle > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	if (t->cfg.sndbuf) {
		v = (int)t->cfg.sndbuf;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	if (t->cfg.rcvbuf) {
		v = (int)t->cfg.rcvbuf;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
}

/* A client refused: an RST, not an orderly close that would tell it the
 * guest took the connection and ended it. */
static void stcp_close_rst(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

bool stcp_can_accept(const struct sock_tcp *t)
{
	return t->nfree && t->opening.n < t->opening.max;
}

int stcp_accept(struct sock_tcp *t, int fd, uint32_t peer, uint16_t peer_port,
		uint16_t ext_port, uint64_t now)
{
	struct stcp_conn *c;
	uint32_t slot;
	int err;

	t->now = now;
	if (fd < 0)
		return -EBADF;
	if (!peer || !peer_port || !ext_port) {
		err = -EINVAL;
		goto refuse;
	}
	if (stcp_ofind(t, peer, peer_port, ext_port) != STCP_NONE) {
		t->st.fwd_exists++;
		err = -EEXIST;
		goto refuse;
	}
	if (!stcp_can_accept(t)) {
		t->st.fwd_no_slot++;
		err = t->nfree ? -EBUSY : -ENOSPC;
		goto refuse;
	}
	stcp_sockopts(t, fd);
	slot = t->free_slots[--t->nfree];
	c = &t->conns[slot];
	if (slot >= t->hiwater)
		t->hiwater = slot + 1;
	t->st.active++;
	c->fd = fd;
	c->flow = STCP_NONE;
	c->state = STCP_SYN_SENT;
	c->flags = STCP_F_FWD | STCP_F_SYN;
	c->raddr = peer;
	c->rport = peer_port;
	c->eport = ext_port;
	c->iss = t->cfg.iss ? t->cfg.iss : stcp_rand(t);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->mss = (uint16_t)t->mss;
	c->rto_us = STCP_RTO_INIT_US;
	c->last_rx = now;
	stcp_peek_init(t, c, fd);
	/* Errors only (EPOLLERR and EPOLLHUP come unasked): the client's
	 * bytes wait in its socket until the guest has answered. */
	c->events = EPOLLET;
	err = t->cfg.env.watch(t->cfg.env.ctx, fd, stcp_id(c, slot), c->events);
	if (err) {
		t->st.socket_failed++;
		stcp_free(t, c); /* closes the client with an RST */
		return err;
	}
	stcp_oinsert(t, slot);
	t->st.fwd_accepted++;
	c->rtt_seq = c->iss + 1;
	c->rtt_at = now;
	stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
	stcp_queue(t, c);
	return 0;
refuse:
	stcp_close_rst(fd);
	return err;
}

/* @c leaves the table and its slot is freed: the client reset, and the
 * guest too if @rst_guest (it may hold our SYN in SYN-RECEIVED: an RST at
 * the sequence number after it, RFC 9293 3.10.7.4). */
static void stcp_opening_end(struct sock_tcp *t, struct stcp_conn *c,
			     bool rst_guest)
{
	stcp_oremove(t, stcp_slot(t, c));
	if (rst_guest)
		stcp_rst(t, c->raddr, c->rport, c->eport, c->iss + 1, 0, TCP_RST);
	stcp_free(t, c);
}

/* The guest's SYN-ACK @s for @c: bound to @flow, established, ACK owed. */
static void stcp_bind(struct sock_tcp *t, struct stcp_conn *c, uint32_t flow,
		      const struct stcp_seg *s, const struct pkt_meta *m,
		      uint64_t now)
{
	uint32_t slot = stcp_slot(t, c), old = t->flow_map[flow];

	stcp_oremove(t, slot);
	if (old != STCP_NONE) {
		/* The NAT gave the flow to this connection: whatever held
		 * its index lingered (TIME_WAIT on the same ports) or is
		 * stale. */
		struct stcp_conn *o = &t->conns[old];

		if (o->state == STCP_TIME_WAIT) {
			stcp_free(t, o);
		} else {
			t->st.aborted++;
			stcp_abort(t, o, false);
		}
	}
	c->flow = flow;
	t->flow_map[flow] = slot;
	c->state = STCP_ESTABLISHED;
	t->st.fwd_established++;
	c->guest_isn = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv += c->rcv_nxt; /* our SYN's window, from here */
	c->snd_una = c->iss + 1;
	c->snd_wnd = s->win; /* a SYN-ACK's window is never scaled */
	c->mss = (m->flags & PKT_F_TCP_MSS) ? m->tcp_mss : 536;
	if (c->mss > t->mss)
		c->mss = (uint16_t)t->mss;
	if (c->mss < STCP_MSS_MIN)
		c->mss = STCP_MSS_MIN;
	if (m->flags & PKT_F_TCP_WSCALE) {
		c->flags |= STCP_F_WSCALE;
		c->snd_wscale = m->tcp_wscale;
		c->rcv_wscale = STCP_RCV_WSCALE;
	}
	if ((m->flags & PKT_F_TCP_SACK_PERM) && !t->cfg.no_sack &&
	    !t->cfg.no_ooo)
		c->flags |= STCP_F_SACK;
	/* Karn: a round trip only from a SYN sent once. */
	if (c->rtt_at && !c->backoff)
		stcp_rtt_sample(c, now);
	c->rtt_at = 0;
	c->backoff = 0;
	c->last_rx = now;
	stcp_timer(t, c, &c->rto_at, 0);
	stcp_timer(t, c, &c->life_at, now + t->keepalive_ns);
	/* Now the client's bytes are wanted: EPOLLIN (edge-triggered; the
	 * re-arm reports what already waits) and its EOF. */
	if (stcp_watch(t, c, STCP_EV_BASE)) {
		t->st.aborted++;
		stcp_abort(t, c, true);
		return;
	}
	stcp_ack_now(t, c);
}

bool stcp_opening_input(struct sock_tcp *t, uint32_t flow,
			const struct stcp_seg *s, const struct pkt_meta *m,
			uint64_t now)
{
	uint32_t slot = stcp_ofind(t, s->raddr, s->rport, s->eport);
	struct stcp_conn *c;

	if (slot == STCP_NONE)
		return false;
	c = &t->conns[slot];
	if (s->flags & TCP_RST) {
		/* Acceptable only acknowledging our SYN (RFC 9293 3.10.7.3):
		 * nothing listens on that port of the guest's. */
		if ((s->flags & TCP_ACK) && s->ack == c->iss + 1) {
			t->st.fwd_refused++;
			stcp_opening_end(t, c, false);
		}
		return true;
	}
	if (!(s->flags & TCP_ACK)) {
		/* A SYN of the guest's to the same ports (a simultaneous
		 * open) or nothing at all: not taken. */
		t->st.bad_segment++;
		return true;
	}
	if (s->ack != c->iss + 1) {
		/* Acknowledges something else: RST <SEQ=SEG.ACK>, and our
		 * SYN stays owed to its timer. */
		stcp_rst(t, s->raddr, s->rport, s->eport, s->ack, 0, TCP_RST);
		return true;
	}
	if (!(s->flags & TCP_SYN)) {
		t->st.bad_segment++;
		return true;
	}
	stcp_bind(t, c, flow, s, m, now);
	return true;
}

void stcp_opening_rto(struct sock_tcp *t, struct stcp_conn *c, uint64_t now)
{
	if (++c->backoff > STCP_FWD_SYN_RETRIES) {
		t->st.fwd_syn_timeout++;
		stcp_opening_end(t, c, true);
		return;
	}
	c->rtt_at = 0;
	c->flags |= STCP_F_SYN;
	stcp_queue(t, c);
	stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
}

void stcp_opening_event(struct sock_tcp *t, struct stcp_conn *c,
			uint32_t events)
{
	if (!(events & (EPOLLERR | EPOLLHUP)))
		return;
	t->st.fwd_client_gone++;
	stcp_opening_end(t, c, true);
}

unsigned int stcp_opening_out(struct sock_tcp *t, struct stcp_conn *c,
			      struct dp_buf *b)
{
	uint8_t opt[12];
	uint32_t optlen = 0, room;
	uint16_t mss = (uint16_t)t->mss, win;

	if (!(c->flags & STCP_F_SYN))
		return 0;
	opt[optlen++] = TCP_OPT_MSS;
	opt[optlen++] = TCP_OLEN_MSS;
	opt[optlen++] = (uint8_t)(mss >> 8);
	opt[optlen++] = (uint8_t)mss;
	opt[optlen++] = TCP_OPT_NOP;
	opt[optlen++] = TCP_OPT_WSCALE;
	opt[optlen++] = TCP_OLEN_WSCALE;
	opt[optlen++] = STCP_RCV_WSCALE;
	if (!t->cfg.no_sack && !t->cfg.no_ooo) {
		opt[optlen++] = TCP_OPT_NOP;
		opt[optlen++] = TCP_OPT_NOP;
		opt[optlen++] = TCP_OPT_SACK_PERM;
		opt[optlen++] = TCP_OLEN_SACK_PERM;
	}
	/* A SYN's window is never scaled (RFC 7323 2.2). Kept relative
	 * until the SYN-ACK tells where the guest's stream starts. */
	room = stcp_room(c);
	win = room > 0xffffu ? 0xffffu : (uint16_t)room;
	c->rcv_adv = win;
	stcp_write(t, b, c->raddr, c->rport, c->eport, c->iss, 0, TCP_SYN, win,
		   opt, optlen, 0, 0);
	c->flags &= ~STCP_F_SYN;
	return 1;
}

void stcp_opening_icmp(struct sock_tcp *t, const uint8_t *ip, uint32_t len,
		       const struct pkt_meta *m)
{
	const struct pkt_inner *in = &m->inner;
	uint32_t saddr, seq, slot;

	if (!t->opening.n || m->l3 != PKT_L3_IPV4 ||
	    !(m->flags & PKT_F_ICMP_ERROR) ||
	    m->icmp_type != ICMP_DEST_UNREACH ||
	    m->icmp_code == ICMP_FRAG_NEEDED || in->l3 != PKT_L3_IPV4 ||
	    in->proto != IPPROTO_NUM_TCP || !(in->flags & PKT_INNER_PORTS) ||
	    (in->flags & PKT_INNER_FRAG_LATER) || in->l4_avail < 8 ||
	    (uint32_t)in->l3_off + IP4_HLEN_MIN > len ||
	    (uint32_t)in->l4_off + 8 > len)
		return;
	memcpy(&saddr, ip + in->l3_off + offsetof(struct ip4_hdr, saddr), 4);
	memcpy(&seq, ip + in->l4_off + offsetof(struct tcp_hdr, seq), 4);
	slot = stcp_ofind(t, saddr, in->sport, in->dport);
	/* The quote must be our SYN: a guess of the port alone ends
	 * nothing. */
	if (slot == STCP_NONE || ntohl(seq) != t->conns[slot].iss)
		return;
	t->st.fwd_unreachable++;
	stcp_opening_end(t, &t->conns[slot], false);
}
