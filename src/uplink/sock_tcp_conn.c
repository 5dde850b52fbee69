// SPDX-License-Identifier: MIT
/*
 * sock_tcp_conn.c - the TCP relay's per-connection machinery: a guest
 * segment against its connection (ACKs, data into the socket, FIN, RST),
 * the segments owed to the guest (peeked from the socket), retransmission.
 * The design is at the top of sock_tcp.c.
 */
#include "uplink/sock_tcp_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pkt/csum.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

#define SEQ_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b)	((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)	((int32_t)((a) - (b)) > 0)
#define SEQ_GE(a, b)	((int32_t)((a) - (b)) >= 0)

#define STCP_HDR	(IP4_HLEN_MIN + TCP_HLEN_MIN)

static_assert((0xffu << STCP_SLOT_BITS) < SOCK_TCP_ID_LIMIT, "ids < 2^28");

/* --- small helpers ------------------------------------------------------ */

uint32_t stcp_id(const struct stcp_conn *c, uint32_t slot)
{
	return ((uint32_t)c->gen << STCP_SLOT_BITS) | slot;
}

void stcp_tw_unlink(struct sock_tcp *t, struct stcp_conn *c)
{
	uint32_t b = c->tw_bucket;

	if (b == STCP_NONE)
		return;
	if (c->tw_prev != STCP_NONE)
		t->conns[c->tw_prev].tw_next = c->tw_next;
	else
		t->wheel[b] = c->tw_next;
	if (c->tw_next != STCP_NONE)
		t->conns[c->tw_next].tw_prev = c->tw_prev;
	c->tw_bucket = STCP_NONE;
	c->tw_next = c->tw_prev = STCP_NONE;
}

static uint64_t stcp_earliest(const struct stcp_conn *c)
{
	uint64_t at = c->rto_at;

	if (c->life_at && (!at || c->life_at < at))
		at = c->life_at;
	if (c->wnd_at && (!at || c->wnd_at < at))
		at = c->wnd_at;
	return at;
}

void stcp_tw_arm(struct sock_tcp *t, struct stcp_conn *c)
{
	uint64_t at = stcp_earliest(c), tick;
	uint32_t b, slot = stcp_slot(t, c);

	/* Already there in time: a later deadline is found when that one
	 * comes (an ACK pushes rto_at back on every segment). */
	if (!at || (c->tw_bucket != STCP_NONE && c->tw_at <= at))
		return;
	stcp_tw_unlink(t, c);
	/* A deadline in a tick already run goes into the next one. */
	tick = at >> STCP_TW_SHIFT;
	if (tick <= t->tw_last)
		tick = t->tw_last + 1;
	b = (uint32_t)(tick & (STCP_TW_SLOTS - 1));
	c->tw_at = at;
	c->tw_bucket = b;
	c->tw_prev = STCP_NONE;
	c->tw_next = t->wheel[b];
	if (c->tw_next != STCP_NONE)
		t->conns[c->tw_next].tw_prev = slot;
	t->wheel[b] = slot;
}

void stcp_timer(struct sock_tcp *t, struct stcp_conn *c, uint64_t *field,
		uint64_t at)
{
	*field = at;
	if (at)
		stcp_tw_arm(t, c);
}

void stcp_queue(struct sock_tcp *t, struct stcp_conn *c)
{
	if (c->queued)
		return;
	c->queued = true;
	t->pend[t->pend_tail % t->cfg.max_conns] = stcp_slot(t, c);
	t->pend_tail++;
}

void stcp_ack_now(struct sock_tcp *t, struct stcp_conn *c)
{
	c->flags |= STCP_F_ACK_NOW;
	stcp_queue(t, c);
}

void stcp_rst(struct sock_tcp *t, uint32_t raddr, uint16_t rport,
	      uint16_t eport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct stcp_rst *r;

	if (t->rst_tail - t->rst_head >= SOCK_TCP_RSTQ) {
		t->st.rst_dropped++;
		return;
	}
	r = &t->rstq[t->rst_tail % SOCK_TCP_RSTQ];
	r->raddr = raddr;
	r->rport = rport;
	r->eport = eport;
	r->seq = seq;
	r->ack = ack;
	r->flags = flags;
	t->rst_tail++;
}

static void stcp_close_fd(struct sock_tcp *t, struct stcp_conn *c, bool rst)
{
	if (c->fd < 0)
		return;
	if (rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	t->cfg.env.unwatch(t->cfg.env.ctx, c->fd);
	(void)close(c->fd);
	c->fd = -1;
	c->events = 0;
}

void stcp_free(struct sock_tcp *t, struct stcp_conn *c)
{
	/* The queued mark stays: the slot's old entry in the output queue
	 * is skipped when reached, and a new user does not queue it twice. */
	bool queued = c->queued;
	uint8_t gen = c->gen;

	stcp_close_fd(t, c, true);
	stcp_tw_unlink(t, c);
	stcp_ooo_clear(&t->ooo, &c->ooo);
	if (c->flow < t->cfg.max_flows &&
	    t->flow_map[c->flow] == stcp_slot(t, c))
		t->flow_map[c->flow] = STCP_NONE;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->queued = queued;
	c->gen = (uint8_t)(gen + 1);
	c->state = STCP_FREE;
	c->tw_bucket = c->tw_next = c->tw_prev = STCP_NONE;
	t->free_slots[t->nfree++] = stcp_slot(t, c);
	t->st.active--;
}

void stcp_abort(struct sock_tcp *t, struct stcp_conn *c, bool rst_guest)
{
	if (rst_guest) {
		/* Before the SYN-ACK the guest knows no sequence number of
		 * ours: RST|ACK acknowledging its SYN, seq 0. */
		uint32_t seq = c->state == STCP_CONNECTING ? 0 : c->snd_nxt;

		stcp_rst(t, c->raddr, c->rport, c->eport, seq, c->rcv_nxt,
			 TCP_RST | TCP_ACK);
	}
	stcp_free(t, c);
}

int stcp_watch(struct sock_tcp *t, struct stcp_conn *c, uint32_t events)
{
	if (c->fd < 0 || c->events == events)
		return 0;
	c->events = events;
	return t->cfg.env.watch(t->cfg.env.ctx, c->fd,
				stcp_id(c, stcp_slot(t, c)), events);
}

static bool stcp_ooo_flush(struct sock_tcp *t, struct stcp_conn *c);

int stcp_reopened(struct sock_tcp *t, struct stcp_conn *c)
{
	c->wnd_at = 0;
	c->wnd_polls = 0;
	/* Kept bytes a short write left behind: the guest has them SACKed
	 * and will not resend them. */
	if (c->ooo.n && !stcp_ooo_flush(t, c))
		return 0;
	if (c->flags & STCP_F_SHORT)
		c->reopen_acks = STCP_REOPEN_ACKS - 1;
	c->flags &= ~STCP_F_SHORT;
	stcp_ack_now(t, c);
	return stcp_watch(t, c, STCP_EV_BASE);
}

uint64_t stcp_rto_ns(const struct stcp_conn *c)
{
	uint64_t us = (uint64_t)c->rto_us << (c->backoff < 16 ? c->backoff : 16);

	if (us > STCP_RTO_MAX_US)
		us = STCP_RTO_MAX_US;
	return us * 1000u;
}

bool stcp_peek_off_works(void)
{
	static int works = -1;
	int fd, zero = 0;

	if (works >= 0)
		return works;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	works = !setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
	(void)close(fd);
	return works;
}

/* Our FIN is out: sent and not rewound by a go-back-N. */
static bool stcp_fin_out(const struct stcp_conn *c)
{
	return (c->flags & STCP_F_FIN_SEQ) && SEQ_GT(c->snd_nxt, c->fin_seq);
}

/* Bytes of the socket's receive queue sent to the guest and not yet
 * acknowledged: snd_nxt - snd_una less our FIN when it is among them. */
static uint32_t stcp_infl(const struct stcp_conn *c)
{
	uint32_t n = c->snd_nxt - c->snd_una;

	if (stcp_fin_out(c) && SEQ_LE(c->snd_una, c->fin_seq))
		n--;
	return n;
}

static void stcp_set_peek_off(struct stcp_conn *c, uint32_t off)
{
	int v = (int)off;

	if (c->peek_off)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v));
}

/* Both FINs through: done, or TIME_WAIT when we closed first. */
static void stcp_check_done(struct sock_tcp *t, struct stcp_conn *c,
			    uint64_t now)
{
	if (c->state != STCP_ESTABLISHED ||
	    (c->flags & (STCP_F_GUEST_FIN | STCP_F_FIN_ACKED)) !=
		    (STCP_F_GUEST_FIN | STCP_F_FIN_ACKED))
		return;
	t->st.closed++;
	if (!(c->flags & STCP_F_ACTIVE_CLOSE)) {
		/* The guest closed first and lingers itself. */
		stcp_close_fd(t, c, false);
		stcp_free(t, c);
		return;
	}
	/* Everything is through both ways: a plain close() sends nothing
	 * more. The slot lingers to acknowledge a repeated FIN. */
	stcp_close_fd(t, c, false);
	c->state = STCP_TIME_WAIT;
	c->rto_at = 0;
	stcp_timer(t, c, &c->life_at, now + t->time_wait_ns);
}

/* --- the guest's segments ------------------------------------------------ */

/* RFC 6298 2.2-2.3. */
void stcp_rtt_sample(struct stcp_conn *c, uint64_t now)
{
	uint64_t r64 = (now - c->rtt_at) / 1000u;
	uint32_t r = r64 > STCP_RTO_MAX_US ? STCP_RTO_MAX_US : (uint32_t)r64;
	uint32_t rto;

	if (!c->srtt_us) {
		c->srtt_us = r ? r : 1;
		c->rttvar_us = r / 2;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
		if (!c->srtt_us)
			c->srtt_us = 1;
	}
	rto = c->srtt_us + (4 * c->rttvar_us > 1000 ? 4 * c->rttvar_us : 1000);
	if (rto < STCP_RTO_MIN_US)
		rto = STCP_RTO_MIN_US;
	if (rto > STCP_RTO_MAX_US)
		rto = STCP_RTO_MAX_US;
	c->rto_us = rto;
	c->rtt_at = 0;
}

/* Drop @n acknowledged bytes from the socket. Return: 0 or -errno. */
static int stcp_discard(struct stcp_conn *c, uint32_t n)
{
	unsigned int i;

	for (i = 0; n && i < 4; i++) {
		ssize_t r = recv(c->fd, NULL, n, MSG_TRUNC | MSG_DONTWAIT);

		if (r < 0)
			return errno == EINTR ? 0 : -errno;
		if (r == 0)
			break;
		n -= (uint32_t)r;
	}
	/* The bytes were peeked, so they are there; anything else is a
	 * socket that lost them under us. */
	return n ? -EIO : 0;
}

/* The ACK part of a segment. Return: false to drop the rest. */
static bool stcp_ack(struct sock_tcp *t, struct stcp_conn *c,
		     const struct stcp_seg *s, uint64_t now)
{
	uint32_t wnd = (uint32_t)s->win << c->snd_wscale;

	if (SEQ_GT(s->ack, c->snd_max)) {
		/* Acknowledges what was never sent (RFC 9293 3.10.7.4). */
		stcp_ack_now(t, c);
		return false;
	}
	if (SEQ_LT(s->ack, c->snd_una))
		return true; /* old: no window news from it either */
	if (s->has_sack) {
		c->hole_end = s->sack_left;
		c->flags |= STCP_F_HOLE;
	} else {
		c->flags &= ~STCP_F_HOLE;
	}
	if (SEQ_GT(s->ack, c->snd_una)) {
		uint32_t acked = s->ack - c->snd_una, data = acked;

		if ((c->flags & STCP_F_FIN_SEQ) && SEQ_GT(s->ack, c->fin_seq) &&
		    SEQ_LE(c->snd_una, c->fin_seq)) {
			data--;
			c->flags |= STCP_F_FIN_ACKED;
		}
		if (data && c->fd >= 0) {
			int err = stcp_discard(c, data);

			if (err) {
				t->st.aborted++;
				stcp_abort(t, c, true);
				return false;
			}
		}
		t->st.to_guest_bytes += data;
		c->snd_una = s->ack;
		if (SEQ_LT(c->snd_nxt, s->ack))
			c->snd_nxt = s->ack;
		if (c->rtt_at && SEQ_GE(s->ack, c->rtt_seq))
			stcp_rtt_sample(c, now);
		c->backoff = 0;
		c->dupacks = 0;
		c->flags &= ~STCP_F_PERSIST;
		if (c->flags & STCP_F_RECOVERY) {
			/* NewReno (RFC 6582): a partial ACK shows the next
			 * hole, resent at once; a full one ends recovery. */
			if (SEQ_LT(s->ack, c->recover)) {
				t->st.fast_retransmits++;
				c->flags |= STCP_F_RETX_ONE;
			} else {
				c->flags &= ~STCP_F_RECOVERY;
			}
		}
		stcp_timer(t, c, &c->rto_at,
			   c->snd_una == c->snd_max ? 0 : now + stcp_rto_ns(c));
		stcp_queue(t, c);
	} else if (!s->plen && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		   wnd == c->snd_wnd && c->snd_max != c->snd_una) {
		if (++c->dupacks == 3 && !(c->flags & STCP_F_RECOVERY)) {
			t->st.fast_retransmits++;
			c->flags |= STCP_F_RETX_ONE | STCP_F_RECOVERY;
			c->recover = c->snd_max;
			c->rtt_at = 0;
			stcp_queue(t, c);
		}
	}
	if (wnd > c->snd_wnd) {
		if (c->flags & STCP_F_PERSIST) {
			c->flags &= ~STCP_F_PERSIST;
			c->backoff = 0;
			stcp_timer(t, c, &c->rto_at, 0);
		}
		stcp_queue(t, c);
	}
	c->snd_wnd = wnd;
	return true;
}

/* Write to the socket; only what it took counts. Return: bytes taken, or
 * -1 when the connection was aborted. */
static ssize_t stcp_write_sock(struct sock_tcp *t, struct stcp_conn *c,
			       const struct iovec *iov, unsigned int n,
			       uint32_t len)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
	ssize_t w = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		/* The remote is gone (reset, shut for reading). */
		t->st.rst_from_remote++;
		stcp_abort(t, c, true);
		return -1;
	}
	if (w < 0)
		w = 0;
	c->rcv_nxt += (uint32_t)w;
	t->st.to_remote_bytes += (uint64_t)w;
	if ((uint32_t)w < len) {
		/* Only what the socket took is acknowledged; the guest
		 * resends the rest once EPOLLOUT reopens the window. */
		int outq = 0;

		t->st.short_writes++;
		c->flags |= STCP_F_SHORT;
		if (!ioctl(c->fd, SIOCOUTQ, &outq) && outq > 0)
			c->sndcap = (uint32_t)outq;
		if (stcp_watch(t, c, STCP_EV_BASE | EPOLLOUT)) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return -1;
		}
	}
	return w;
}

/* The guest's FIN at rcv_nxt: the remote gets our EOF. */
static void stcp_guest_fin(struct stcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= STCP_F_GUEST_FIN;
	c->flags &= ~STCP_F_GFIN_OOO;
	(void)shutdown(c->fd, SHUT_WR);
}

/* Kept bytes that now follow rcv_nxt go to the socket (bounded: each round
 * writes a whole range or stops). Return: false when @c was aborted. */
static bool stcp_ooo_flush(struct sock_tcp *t, struct stcp_conn *c)
{
	struct iovec iov[64];
	unsigned int i, r;

	for (r = 0; r < 2 * STCP_OOO_RANGES && c->ooo.n; r++) {
		uint32_t len = 0;
		unsigned int k;
		ssize_t w;

		k = stcp_ooo_front(&t->ooo, &c->ooo, c->rcv_nxt, iov, 64);
		if (!k)
			break;
		for (i = 0; i < k; i++)
			len += (uint32_t)iov[i].iov_len;
		w = stcp_write_sock(t, c, iov, k, len);
		if (w < 0)
			return false;
		t->st.ooo_written += (uint64_t)w;
		stcp_ooo_consume(&t->ooo, &c->ooo, (uint32_t)w);
		if ((uint32_t)w < len)
			break;
	}
	if ((c->flags & STCP_F_GFIN_OOO) && c->rcv_nxt == c->gfin_seq &&
	    !c->ooo.n)
		stcp_guest_fin(c);
	return true;
}

/* The data and FIN part of a segment. */
static void stcp_data(struct sock_tcp *t, struct stcp_conn *c,
		      const struct stcp_seg *s)
{
	bool fin = s->flags & TCP_FIN;
	uint32_t off = 0, len;
	ssize_t n = 0;

	if (!s->plen && !fin) {
		/* A bare segment below rcv_nxt is the guest probing a window
		 * it believes shut (RFC 9293 3.8.6.1, seq = rcv_nxt - 1), or
		 * a stray: it is not acceptable, and the answer is an ACK
		 * (3.10.7.4), which carries the window. Without it a guest
		 * that lost the window update waits for good. */
		if (SEQ_LT(s->seq, c->rcv_nxt))
			stcp_ack_now(t, c);
		return;
	}
	if (c->state == STCP_TIME_WAIT || (c->flags & STCP_F_GUEST_FIN)) {
		stcp_ack_now(t, c); /* a repeat: acknowledge again */
		return;
	}
	if (SEQ_GT(s->seq, c->rcv_nxt)) {
		/* A hole before it: kept while there is room, and a
		 * duplicate ACK (with SACK blocks) tells the guest. */
		uint32_t lim = c->rcv_adv - c->rcv_nxt;

		t->st.ooo++;
		if (!t->cfg.no_ooo && s->plen)
			t->st.ooo_kept += stcp_ooo_insert(
				&t->ooo, &c->ooo, c->rcv_nxt,
				lim ? lim : STCP_OOO_CHUNK, s->seq, s->payload,
				s->plen);
		if (fin && !t->cfg.no_ooo) {
			c->gfin_seq = s->seq + s->plen;
			c->flags |= STCP_F_GFIN_OOO;
		}
		stcp_ack_now(t, c);
		return;
	}
	if (SEQ_LT(s->seq, c->rcv_nxt)) {
		off = c->rcv_nxt - s->seq;
		if (off > s->plen || (off == s->plen && !fin)) {
			stcp_ack_now(t, c); /* all old */
			return;
		}
	}
	len = s->plen - off;
	if (len) {
		struct iovec iov = { (void *)(s->payload + off), len };

		n = stcp_write_sock(t, c, &iov, 1, len);
		if (n < 0)
			return;
	}
	if ((uint32_t)n == len && c->ooo.n && !stcp_ooo_flush(t, c))
		return;
	if (fin && (uint32_t)n == len && !c->ooo.n &&
	    !(c->flags & STCP_F_GUEST_FIN))
		stcp_guest_fin(c);
	stcp_ack_now(t, c);
}

void stcp_segment(struct sock_tcp *t, struct stcp_conn *c,
		  const struct stcp_seg *s, uint64_t now)
{
	c->last_rx = now;
	c->ka_probes = 0;
	if (c->state == STCP_CONNECTING) {
		/* Until the remote answers only a reset matters; a repeated
		 * SYN is absorbed. */
		if ((s->flags & TCP_RST) && s->seq == c->rcv_nxt) {
			t->st.rst_from_guest++;
			stcp_abort(t, c, false);
		}
		return;
	}
	if (s->flags & TCP_RST) {
		/* RFC 5961 3.2: exactly rcv_nxt resets, elsewhere in the
		 * window gets a challenge ACK, outside is ignored. */
		uint32_t wnd = c->rcv_adv - c->rcv_nxt;

		if (s->seq == c->rcv_nxt) {
			t->st.rst_from_guest++;
			stcp_abort(t, c, false);
		} else if (SEQ_GT(s->seq, c->rcv_nxt) &&
			   SEQ_LT(s->seq, c->rcv_nxt + (wnd ? wnd : 1))) {
			stcp_ack_now(t, c);
		}
		return;
	}
	if (s->flags & TCP_SYN) {
		if (c->state == STCP_SYN_RCVD && !(s->flags & TCP_ACK) &&
		    s->seq == c->guest_isn) {
			c->flags |= STCP_F_SYNACK; /* ours was lost */
			stcp_queue(t, c);
		} else {
			stcp_ack_now(t, c); /* RFC 5961 4.2: challenge ACK */
		}
		return;
	}
	if (!(s->flags & TCP_ACK)) {
		t->st.bad_segment++;
		return;
	}
	if (c->state == STCP_SYN_RCVD) {
		if (s->ack != c->iss + 1) {
			stcp_rst(t, c->raddr, c->rport, c->eport, s->ack, 0,
				 TCP_RST);
			return;
		}
		c->state = STCP_ESTABLISHED;
		c->snd_una = c->iss + 1;
		c->flags &= ~STCP_F_SYNACK;
		if (c->rtt_at && !c->backoff)
			stcp_rtt_sample(c, now);
		c->rtt_at = 0;
		c->backoff = 0;
		stcp_timer(t, c, &c->rto_at, 0);
		stcp_timer(t, c, &c->life_at, now + t->keepalive_ns);
		c->snd_wnd = (uint32_t)s->win << c->snd_wscale;
		stcp_queue(t, c); /* the remote may have spoken first */
	} else if (!stcp_ack(t, c, s, now)) {
		return;
	}
	if (c->state == STCP_FREE)
		return;
	stcp_data(t, c, s);
	if (c->state != STCP_FREE)
		stcp_check_done(t, c, now);
}

void stcp_rto(struct sock_tcp *t, struct stcp_conn *c, uint64_t now)
{
	if (c->state == STCP_SYN_RCVD) {
		if (++c->backoff > STCP_SYN_RETRIES) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return;
		}
		c->rtt_at = 0;
		c->flags |= STCP_F_SYNACK;
		stcp_queue(t, c);
		stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
		return;
	}
	if (c->state != STCP_ESTABLISHED)
		return;
	if (c->snd_max != c->snd_una) {
		/* Go-back-N: everything after snd_una again. */
		if (++c->backoff > STCP_RETRIES) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return;
		}
		t->st.retransmits++;
		c->snd_nxt = c->snd_una;
		c->flags &= ~(STCP_F_RETX_ONE | STCP_F_RECOVERY);
		c->rtt_at = 0;
		c->dupacks = 0;
		stcp_set_peek_off(c, 0);
		stcp_queue(t, c);
		stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
		return;
	}
	if (c->flags & STCP_F_PERSIST) {
		/* The guest's window is still shut: probe it again, unless
		 * the remote's bytes have waited too long (it answers, never
		 * reads). With nothing waiting the clock starts again. */
		int avail = 0;

		if (ioctl(c->fd, FIONREAD, &avail) < 0 || avail < 0 ||
		    (uint32_t)avail <= stcp_infl(c)) {
			c->persist_since = now;
		} else if (now - c->persist_since >= t->persist_max_ns) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return;
		}
		if (c->backoff < 16)
			c->backoff++;
		t->st.probes++;
		c->flags |= STCP_F_PROBE;
		stcp_queue(t, c);
		stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
	}
}

/* --- segments to the guest ---------------------------------------------- */

/* Room in the socket's send buffer: the window we announce. */
uint32_t stcp_wnd_min(const struct sock_tcp *t, const struct stcp_conn *c)
{
	uint32_t min = t->mss < c->mss ? t->mss : c->mss;
	uint32_t half = (c->sndcap ? c->sndcap : c->sndbuf) / 2;

	/* RFC 9293 3.8.6.2.2: min(RCV.BUFF / 2, Eff.snd.MSS). With a 64 KiB
	 * MSS (MTU 65520) and a send buffer the kernel keeps small, a whole
	 * segment of room may never come, and the window would stay shut
	 * but for the poll. */
	if (half && half < min)
		min = half;
	return min > (1u << c->rcv_wscale) ? min : (1u << c->rcv_wscale);
}

void stcp_peek_init(const struct sock_tcp *t, struct stcp_conn *c, int fd)
{
	int zero = 0;

	c->peek_off = !t->cfg.no_peek_off &&
		      !setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
}

uint32_t stcp_room(struct stcp_conn *c)
{
	int outq = 0, sb = 0;
	socklen_t sl = sizeof(sb);
	int64_t room;

	if (c->fd < 0)
		return 0;
	/* Autotuning may grow the buffer: SO_SNDBUF is read each time, and
	 * the capacity learnt from a short write scales with it (the
	 * kernel's overhead per byte stays about the same). */
	if (!getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sb, &sl) && sb > 0 &&
	    (uint32_t)sb != c->sndbuf) {
		if (c->sndcap && c->sndbuf)
			c->sndcap = (uint32_t)((uint64_t)c->sndcap * (uint32_t)sb /
					       c->sndbuf);
		c->sndbuf = (uint32_t)sb;
	}
	if (ioctl(c->fd, SIOCOUTQ, &outq) < 0)
		outq = 0;
	room = (int64_t)(c->sndcap ? c->sndcap : c->sndbuf) - outq;
	return room > 0 ? (uint32_t)room : 0;
}

/* The window field of our next segment; it never moves the right edge
 * back (RFC 9293 3.8.6.2.2). */
static uint16_t stcp_window(struct sock_tcp *t, struct stcp_conn *c)
{
	uint32_t wnd = stcp_room(c), max = 0xffffu << c->rcv_wscale;

	if (c->state == STCP_TIME_WAIT || (c->flags & STCP_F_GUEST_FIN)) {
		wnd = 0;
	} else if (wnd < stcp_wnd_min(t, c)) {
		/* Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2):
		 * less than a segment is announced as nothing. A shut window
		 * is reopened by a window update when the socket drains:
		 * EPOLLOUT if a write failed, else the poll. */
		wnd = 0;
		if (!c->wnd_at) {
			(void)stcp_watch(t, c, STCP_EV_BASE | EPOLLOUT);
			c->wnd_polls = 0;
			stcp_timer(t, c, &c->wnd_at, t->now + STCP_WND_POLL_NS);
		}
	}
	if (SEQ_LT(c->rcv_nxt + wnd, c->rcv_adv))
		wnd = c->rcv_adv - c->rcv_nxt;
	if (wnd > max)
		wnd = max;
	wnd >>= c->rcv_wscale;
	c->rcv_adv = c->rcv_nxt + (wnd << c->rcv_wscale);
	return (uint16_t)wnd;
}

void stcp_write(struct sock_tcp *t, struct dp_buf *b, uint32_t raddr,
		uint16_t rport, uint16_t eport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t win, const uint8_t *opt,
		uint32_t optlen, uint32_t plen, uint16_t mss)
{
	struct ip4_hdr *ip = (struct ip4_hdr *)b->data;
	struct tcp_hdr *th = (struct tcp_hdr *)(b->data + IP4_HLEN_MIN);
	uint32_t l4 = TCP_HLEN_MIN + optlen + plen;
	uint32_t sum;

	b->flags &= ~DP_BUF_VNET;
	b->vnet = (struct pkt_vnet){ 0 };
	ip->ver_ihl = 0x45;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)(IP4_HLEN_MIN + l4));
	ip->id = htons(t->ip_id++);
	ip->frag_off = htons(IP4_FLAG_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_NUM_TCP;
	ip->check = 0;
	ip->saddr = raddr;
	ip->daddr = t->cfg.ext_addr;
	ip->check = csum_ip4_header(ip, IP4_HLEN_MIN);
	th->sport = rport;
	th->dport = eport;
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff_res = (uint8_t)(((TCP_HLEN_MIN + optlen) / 4) << 4);
	th->flags = flags;
	th->window = htons(win);
	th->check = 0;
	th->urg_ptr = 0;
	if (optlen)
		memcpy(th + 1, opt, optlen);
	b->len = IP4_HLEN_MIN + l4;
	sum = csum_pseudo_ip4(raddr, t->cfg.ext_addr, IPPROTO_NUM_TCP,
			      (uint16_t)l4);
	if (plen && (t->cfg.gso || t->cfg.csum_offload)) {
		/* CHECKSUM_PARTIAL: the pseudo-header sum in the field. */
		th->check = csum_fold(sum);
		b->flags |= DP_BUF_VNET;
		b->vnet.flags = VNET_F_NEEDS_CSUM;
		b->vnet.csum_start = IP4_HLEN_MIN;
		b->vnet.csum_offset = offsetof(struct tcp_hdr, check);
		if (mss && plen > mss) {
			b->vnet.gso_type = VNET_GSO_TCPV4;
			b->vnet.gso_size = mss;
			b->vnet.hdr_len = STCP_HDR;
		}
	} else {
		th->check = csum_finish(csum_partial(th, l4, sum));
	}
	t->st.segs_out++;
}

void stcp_out_rst(struct sock_tcp *t, struct dp_buf *b)
{
	const struct stcp_rst *r = &t->rstq[t->rst_head % SOCK_TCP_RSTQ];

	stcp_write(t, b, r->raddr, r->rport, r->eport, r->seq, r->ack,
		   r->flags, 0, NULL, 0, 0, 0);
	t->rst_head++;
	t->st.rst_sent++;
}

static void stcp_ctl(struct sock_tcp *t, struct stcp_conn *c,
		     struct dp_buf *b, uint32_t seq, uint8_t flags)
{
	uint8_t opt[4 + 8 * STCP_OOO_RANGES];
	uint32_t optlen = 0;

	if ((c->flags & STCP_F_SACK) && c->ooo.n && flags == TCP_ACK) {
		/* RFC 2018: the blocks of what is kept beyond the hole, the
		 * latest first. */
		uint32_t e[2 * STCP_OOO_RANGES];
		unsigned int nb = stcp_ooo_sack(&c->ooo, e), i;

		opt[0] = TCP_OPT_NOP;
		opt[1] = TCP_OPT_NOP;
		opt[2] = TCP_OPT_SACK;
		opt[3] = (uint8_t)(2 + 8 * nb);
		for (i = 0; i < 2 * nb; i++) {
			uint32_t v = htonl(e[i]);

			memcpy(opt + 4 + (size_t)4 * i, &v, 4);
		}
		optlen = nb ? 4 + 8 * nb : 0;
	}
	stcp_write(t, b, c->raddr, c->rport, c->eport, seq, c->rcv_nxt, flags,
		   stcp_window(t, c), opt, optlen, 0, 0);
	c->flags &= ~STCP_F_ACK_NOW;
}

static void stcp_synack(struct sock_tcp *t, struct stcp_conn *c,
			struct dp_buf *b)
{
	uint8_t opt[12];
	uint32_t optlen = 4;
	uint16_t mss = (uint16_t)t->mss, win;
	uint32_t room = stcp_room(c);

	opt[0] = TCP_OPT_MSS;
	opt[1] = TCP_OLEN_MSS;
	opt[2] = (uint8_t)(mss >> 8);
	opt[3] = (uint8_t)mss;
	if (c->flags & STCP_F_WSCALE) {
		opt[4] = TCP_OPT_NOP;
		opt[5] = TCP_OPT_WSCALE;
		opt[6] = TCP_OLEN_WSCALE;
		opt[7] = (uint8_t)c->rcv_wscale;
		optlen = 8;
	}
	if (c->flags & STCP_F_SACK) {
		opt[optlen++] = TCP_OPT_NOP;
		opt[optlen++] = TCP_OPT_NOP;
		opt[optlen++] = TCP_OPT_SACK_PERM;
		opt[optlen++] = TCP_OLEN_SACK_PERM;
	}
	/* A SYN-ACK's window is never scaled (RFC 7323 2.2). */
	win = room > 0xffffu ? 0xffffu : (uint16_t)room;
	c->rcv_adv = c->rcv_nxt + win;
	stcp_write(t, b, c->raddr, c->rport, c->eport, c->iss, c->rcv_nxt,
		   TCP_SYN | TCP_ACK, win, opt, optlen, 0, 0);
	c->flags &= ~STCP_F_SYNACK;
}

/* Payload bytes one buffer carries. */
static uint32_t stcp_seg_max(const struct sock_tcp *t,
			     const struct stcp_conn *c, const struct dp_buf *b)
{
	uint32_t room = dp_buf_room(b) - STCP_HDR, seg = c->mss;

	if (t->cfg.gso) {
		uint32_t n = (IP4_MAX_LEN - STCP_HDR) / c->mss;

		if (n > STCP_GSO_SEGS)
			n = STCP_GSO_SEGS;
		seg = n * c->mss;
	}
	if (seg > room)
		seg = room - room % c->mss;
	return seg;
}

/*
 * Peek new data from the socket into @bufs and make segments of it. Return
 * the buffers filled; *more when the buffers ran out first. An error of the
 * socket aborts @c.
 */
static unsigned int stcp_send_data(struct sock_tcp *t, struct stcp_conn *c,
				   struct dp_buf **bufs, unsigned int n,
				   uint64_t now, bool *more)
{
	struct iovec iov[DP_BURST_MAX + 1];
	struct msghdr msg = { .msg_iov = iov };
	uint32_t infl = stcp_infl(c), used = c->snd_nxt - c->snd_una;
	uint32_t avail, want = 0, got, off;
	unsigned int i, base = 0;
	uint16_t win;
	ssize_t r;

	*more = false;
	if (c->fd < 0 || stcp_fin_out(c))
		return 0;
	avail = c->snd_wnd > used ? c->snd_wnd - used : 0;
	if (!c->peek_off) {
		/* No SO_PEEK_OFF: the bytes in flight are read again, into
		 * the scratch buffer, which bounds them. */
		uint32_t cap = infl < SOCK_TCP_DISCARD ? SOCK_TCP_DISCARD - infl : 0;

		if (avail > cap)
			avail = cap;
		if (infl)
			iov[base++] = (struct iovec){ t->discard, infl };
	}
	if (!avail) {
		if (!c->snd_wnd && c->snd_max == c->snd_una &&
		    !(c->flags & STCP_F_PERSIST)) {
			/* Zero window, nothing in flight: the persist timer
			 * probes until the guest opens it. */
			c->flags |= STCP_F_PERSIST;
			c->persist_since = now;
			c->backoff = 0;
			stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
		}
		return 0;
	}
	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX;
	for (i = 0; i < n && want < avail; i++) {
		uint32_t seg = stcp_seg_max(t, c, bufs[i]);

		if (seg > avail - want)
			seg = avail - want;
		iov[base + i] = (struct iovec){ bufs[i]->data + STCP_HDR, seg };
		want += seg;
	}
	msg.msg_iovlen = base + i;
	r = recvmsg(c->fd, &msg, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		t->st.aborted++;
		stcp_abort(t, c, true);
		return 0;
	}
	if (base) {
		if ((uint32_t)r < infl) {
			t->st.aborted++;
			stcp_abort(t, c, true);
			return 0;
		}
		r -= infl;
	}
	if (r == 0)
		return 0;
	got = (uint32_t)r;
	win = stcp_window(t, c);
	for (i = 0, off = 0; off < got; i++) {
		uint32_t l = (uint32_t)iov[base + i].iov_len;

		if (l > got - off)
			l = got - off;
		stcp_write(t, bufs[i], c->raddr, c->rport, c->eport,
			   c->snd_nxt + off, c->rcv_nxt,
			   TCP_ACK | (off + l == got ? TCP_PSH : 0), win, NULL,
			   0, l, c->mss);
		off += l;
	}
	/* The segments carry the ACK; SACK blocks go in a pure ACK. */
	if (!c->ooo.n || !(c->flags & STCP_F_SACK))
		c->flags &= ~STCP_F_ACK_NOW;
	c->snd_nxt += got;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (!c->rto_at || (c->flags & STCP_F_PERSIST)) {
		c->flags &= ~STCP_F_PERSIST;
		stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
	}
	if (!c->rtt_at && c->snd_nxt == c->snd_max) {
		c->rtt_seq = c->snd_nxt;
		c->rtt_at = now;
	}
	*more = got == want && i == n && want < avail;
	return i;
}

/* All the remote's data is sent and its EOF queued: our FIN is due (again,
 * after a go-back-N rewind to it). */
static bool stcp_fin_due(const struct stcp_conn *c)
{
	int avail = 0;

	if (!(c->flags & STCP_F_RDHUP) || c->fd < 0 || stcp_fin_out(c))
		return false;
	if (c->flags & STCP_F_FIN_SEQ)
		return c->snd_nxt == c->fin_seq;
	if (SEQ_LT(c->snd_nxt, c->snd_max))
		return false;
	/* Everything in the receive queue has been peeked: its unread
	 * bytes (SIOCINQ, the FIN not counted) are the ones in flight. */
	if (ioctl(c->fd, FIONREAD, &avail) < 0 || avail < 0)
		return false;
	return (uint32_t)avail == stcp_infl(c);
}

static void stcp_send_fin(struct sock_tcp *t, struct stcp_conn *c,
			  struct dp_buf *b, uint64_t now)
{
	if (!(c->flags & STCP_F_FIN_SEQ)) {
		c->fin_seq = c->snd_nxt;
		c->flags |= STCP_F_FIN_SEQ;
		if (!(c->flags & STCP_F_GUEST_FIN))
			c->flags |= STCP_F_ACTIVE_CLOSE;
	}
	stcp_ctl(t, c, b, c->fin_seq, TCP_FIN | TCP_ACK);
	c->snd_nxt = c->fin_seq + 1;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (!c->rto_at || (c->flags & STCP_F_PERSIST)) {
		c->flags &= ~STCP_F_PERSIST;
		stcp_timer(t, c, &c->rto_at, now + stcp_rto_ns(c));
	}
}

/* The fast retransmit at snd_una, snd_nxt unchanged: the hole the guest's
 * SACK blocks show (a lost super-frame is many segments), else one
 * segment or super-frame. */
static unsigned int stcp_retx_one(struct sock_tcp *t, struct stcp_conn *c,
				  struct dp_buf *b)
{
	uint32_t infl = stcp_infl(c);
	struct iovec iov = { b->data + STCP_HDR, stcp_seg_max(t, c, b) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	c->flags &= ~STCP_F_RETX_ONE;
	if (c->fd < 0 || !infl)
		return 0;
	if ((c->flags & STCP_F_HOLE) && SEQ_GT(c->hole_end, c->snd_una) &&
	    c->hole_end - c->snd_una < iov.iov_len)
		iov.iov_len = c->hole_end - c->snd_una;
	if (iov.iov_len > infl)
		iov.iov_len = infl;
	stcp_set_peek_off(c, 0);
	r = recvmsg(c->fd, &msg, MSG_PEEK | MSG_DONTWAIT);
	stcp_set_peek_off(c, infl);
	if (r <= 0)
		return 0;
	stcp_write(t, b, c->raddr, c->rport, c->eport, c->snd_una, c->rcv_nxt,
		   TCP_ACK, stcp_window(t, c), NULL, 0, (uint32_t)r, c->mss);
	c->flags &= ~STCP_F_ACK_NOW;
	return 1;
}

unsigned int stcp_out_conn(struct sock_tcp *t, struct stcp_conn *c,
			   struct dp_buf **bufs, unsigned int n, uint64_t now,
			   bool *more)
{
	unsigned int k = 0;

	*more = false;
	if (c->state == STCP_CONNECTING)
		return 0;
	if (c->state == STCP_SYN_RCVD) {
		if (c->flags & STCP_F_SYNACK)
			stcp_synack(t, c, bufs[k++]);
		return k;
	}
	if (c->state == STCP_ESTABLISHED) {
		if (c->flags & STCP_F_RETX_ONE)
			k += stcp_retx_one(t, c, bufs[k]);
		if (k == n) {
			*more = true;
			return k;
		}
		k += stcp_send_data(t, c, bufs + k, n - k, now, more);
		if (c->state == STCP_FREE || *more)
			return k;
		if (stcp_fin_due(c)) {
			if (k == n) {
				*more = true;
				return k;
			}
			stcp_send_fin(t, c, bufs[k++], now);
		}
	}
	if (c->flags & STCP_F_PROBE) {
		if (k == n) {
			*more = true;
			return k;
		}
		c->flags &= ~STCP_F_PROBE;
		stcp_ctl(t, c, bufs[k++], c->snd_una - 1, TCP_ACK);
	}
	if (c->flags & STCP_F_ACK_NOW) {
		if (k == n) {
			*more = true;
			return k;
		}
		stcp_ctl(t, c, bufs[k++], c->snd_nxt, TCP_ACK);
	}
	while (c->reopen_acks && c->state == STCP_ESTABLISHED) {
		if (k == n) {
			*more = true;
			return k;
		}
		c->reopen_acks--;
		stcp_ctl(t, c, bufs[k++], c->snd_nxt, TCP_ACK);
	}
	return k;
}
