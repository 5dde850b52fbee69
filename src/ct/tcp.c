// SPDX-License-Identifier: MIT
/*
 * tcp.c - TCP connection tracking: the state machine behind ct/tcp.h.
 *
 * Theory of operation
 *
 * The NAT sees both directions of a connection, so it can follow the
 * handshake and the close the way netfilter's conntrack does, with the same
 * state names. ct_tcp_track() sorts a segment into one of three kinds and
 * hands it to the matching function for the current state:
 *
 *  - RST: accepted (-> CLOSE) only when it would be accepted by the
 *    receiver, loosened by one window (RFC 5961 section 3): in SYN_SENT a
 *    RST from REPLY must acknowledge ORIG's SYN (RFC 9293 3.10.7.3), in
 *    every other state its sequence number must lie within the receiver's
 *    largest window of the sender's end.
 *  - SYN or SYN-ACK: drives the handshake, including simultaneous open
 *    (RFC 5382 REQ-2), which goes SYN_SENT -> SYN_SENT2 -> SYN_RECV and is
 *    complete when the second SYN-ACK (RFC 9293 figure 8) or an ACK of the
 *    first SYN-ACK is seen. A SYN from ORIG in TIME_WAIT or CLOSE reopens.
 *  - anything else (every such valid segment carries ACK): completes the
 *    handshake in SYN_RECV, then only feeds the close bookkeeping.
 *
 * The close is not a table: each side remembers whether it sent a FIN and
 * whether the other side acknowledged it, and the state is computed from
 * those four bits (close_state()). As the bits are only ever set, the
 * close states can only move forward, whatever order the FINs and ACKs
 * arrive in.
 *
 * Decisions are taken on a copy of the tracked state that is written back
 * only when the segment is accepted: a rejected segment leaves the caller's
 * struct byte for byte as it was, without every path having to remember to
 * check before it writes.
 *
 * Window scaling (RFC 7323) applies only when both SYNs offered it, and
 * never to a segment carrying SYN. Until the SYN-ACK is seen a side's
 * wscale holds its offer; wscale_settle() clears both when the handshake
 * leaves SYN_SENT/SYN_SENT2 without both offers, and only segments
 * accounted from SYN_RECV on are scaled.
 *
 * Sequence numbers are compared modulo 2^32 through seq_before(). The only
 * loop runs over the two directions.
 */
#include "ct/tcp.h"

#include <string.h>

#include "core/compiler.h"
#include "prot/tcp.h"

/*
 * RFC 7323 caps windows at 2^30 bytes. wscale is clamped to 14 when it is
 * recorded, so a scaled 16-bit window stays below that by construction.
 */
#define CT_TCP_MAXWIN_CAP (1u << 30)
static_assert(0xffffu << TCP_WSCALE_MAX <= CT_TCP_MAXWIN_CAP,
	      "a scaled window fits the 2^30 cap");

/* The flags the tracker looks at; PSH, URG, ECE and CWR are ignored. */
#define CT_TCP_FLAG_MASK (TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK)

static_assert(CT_TCP__MAX <= UINT8_MAX, "state fits struct ct_tcp.state");

static const char *const ct_tcp_state_names[CT_TCP__MAX] = {
	[CT_TCP_NONE] = "NONE",
	[CT_TCP_SYN_SENT] = "SYN_SENT",
	[CT_TCP_SYN_SENT2] = "SYN_SENT2",
	[CT_TCP_SYN_RECV] = "SYN_RECV",
	[CT_TCP_ESTABLISHED] = "ESTABLISHED",
	[CT_TCP_FIN_WAIT] = "FIN_WAIT",
	[CT_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[CT_TCP_LAST_ACK] = "LAST_ACK",
	[CT_TCP_TIME_WAIT] = "TIME_WAIT",
	[CT_TCP_CLOSE] = "CLOSE",
};

/* a comes before b in sequence space (RFC 9293 section 3.4, modulo 2^32). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* lo <= a <= hi in sequence space; [lo, hi] must span less than 2^31. */
static bool seq_between(uint32_t a, uint32_t lo, uint32_t hi)
{
	return !seq_before(a, lo) && !seq_before(hi, a);
}

/*
 * A side's initial sequence number lives in fin_seq until it sends a FIN:
 * the ISN is only needed to recognise SYN retransmissions, which stop
 * being acceptable once the side has closed, and this keeps the
 * per-direction state at 16 bytes.
 */
static uint32_t peer_isn(const struct ct_tcp_peer *p)
{
	return p->fin_seq;
}

/* Sequence number after the segment: SYN and FIN each take one. */
static uint32_t seg_end(const struct ct_tcp_seg *s)
{
	return s->seq + s->len + !!(s->flags & TCP_SYN) +
	       !!(s->flags & TCP_FIN);
}

static bool seg_has(const struct ct_tcp_seg *s, uint8_t flag)
{
	return (s->flags & flag) != 0;
}

/*
 * The segment's ACK acknowledges the SYN of @o: ISN < ack <= end, which is
 * RFC 9293's acceptable-ACK test in SYN-SENT. Equality with end alone
 * would refuse a SYN-ACK that acknowledges only the SYN of a SYN that
 * carried data (TCP Fast Open fallback, RFC 7413 section 4.2).
 */
static bool acks_syn(const struct ct_tcp_peer *o, const struct ct_tcp_seg *s)
{
	return seg_has(s, TCP_ACK) &&
	       seq_between(s->ack, peer_isn(o) + 1, o->end);
}

/* Record a side from its SYN (or SYN-ACK): everything else starts at 0. */
static void peer_init_syn(struct ct_tcp_peer *p, const struct ct_tcp_seg *s)
{
	memset(p, 0, sizeof(*p));
	p->end = seg_end(s);
	p->fin_seq = s->seq; /* the ISN, see peer_isn() */
	p->maxwin = s->win;  /* SYN windows are never scaled */
	p->flags = CT_TCP_PF_SEEN;
	if (s->has_wscale) {
		p->flags |= CT_TCP_PF_WSCALE;
		p->wscale = MIN(s->wscale, TCP_WSCALE_MAX);
	}
	if (s->sack_perm)
		p->flags |= CT_TCP_PF_SACK_PERM;
}

/* Start over from ORIG's SYN: what ct_tcp_new() and a reopen do. */
static void ct_tcp_init(struct ct_tcp *t, const struct ct_tcp_seg *s)
{
	memset(t, 0, sizeof(*t));
	peer_init_syn(&t->peer[CT_DIR_ORIG], s);
	t->state = CT_TCP_SYN_SENT;
}

/*
 * The handshake is leaving SYN_SENT/SYN_SENT2: scaling is in effect only
 * if both SYNs offered it (RFC 7323 section 2.2), otherwise neither side
 * scales.
 */
static void wscale_settle(struct ct_tcp *n)
{
	if (n->peer[0].flags & n->peer[1].flags & CT_TCP_PF_WSCALE)
		return;
	n->peer[0].wscale = 0;
	n->peer[1].wscale = 0;
}

/*
 * Account an accepted segment to its sender: end only moves forward (a
 * retransmission or reordered segment must not pull it back) and maxwin
 * keeps the largest scaled window, which the RST check uses.
 */
static void peer_account(struct ct_tcp *n, enum ct_dir dir,
			 const struct ct_tcp_seg *s)
{
	struct ct_tcp_peer *p = &n->peer[dir];
	uint32_t end = seg_end(s);
	uint32_t win = s->win;

	if (!(p->flags & CT_TCP_PF_SEEN) || seq_before(p->end, end))
		p->end = end;
	/* Before SYN_RECV wscale is only an offer; SYN windows never scale. */
	if (!seg_has(s, TCP_SYN) && n->state >= CT_TCP_SYN_RECV)
		win <<= p->wscale; /* <= 14: below CT_TCP_MAXWIN_CAP */
	p->maxwin = MAX(p->maxwin, win);
	p->flags |= CT_TCP_PF_SEEN;
}

/*
 * Account a segment of the data phase and its FIN bookkeeping: its own FIN
 * (the first one counts; a retransmission repeats it) and whether its ACK
 * covers the other side's FIN.
 */
static void data_account(struct ct_tcp *n, enum ct_dir dir,
			 const struct ct_tcp_seg *s)
{
	struct ct_tcp_peer *p = &n->peer[dir];
	struct ct_tcp_peer *o = &n->peer[!dir];

	peer_account(n, dir, s);
	if (seg_has(s, TCP_FIN) && !(p->flags & CT_TCP_PF_FIN)) {
		p->flags |= CT_TCP_PF_FIN;
		p->fin_seq = s->seq + s->len;
	}
	if ((o->flags & CT_TCP_PF_FIN) && !(o->flags & CT_TCP_PF_FIN_ACKED) &&
	    seg_has(s, TCP_ACK) && !seq_before(s->ack, o->fin_seq + 1))
		o->flags |= CT_TCP_PF_FIN_ACKED;
}

/* The state of a synchronized connection, from the FIN bits alone. */
static uint8_t close_state(const struct ct_tcp *n)
{
	unsigned int fins = 0, acked = 0, i;

	for (i = 0; i < 2; i++) {
		fins += !!(n->peer[i].flags & CT_TCP_PF_FIN);
		acked += !!(n->peer[i].flags & CT_TCP_PF_FIN_ACKED);
	}
	if (fins == 0)
		return CT_TCP_ESTABLISHED;
	if (fins == 1)
		return acked ? CT_TCP_CLOSE_WAIT : CT_TCP_FIN_WAIT;
	return acked == 2 ? CT_TCP_TIME_WAIT : CT_TCP_LAST_ACK;
}

/*
 * RFC 5961 section 3 accepts a RST whose sequence number is inside the
 * receiver's window. The middlebox may have forwarded data the receiver
 * has not yet acknowledged, and it does not track the receiver's ACK
 * point, so it accepts one receiver window either side of the sender's
 * end. A receiver that never advertised anything still allows +-1.
 */
static bool rst_in_window(const struct ct_tcp *n, enum ct_dir dir,
			  const struct ct_tcp_seg *s)
{
	int64_t w = MAX(n->peer[!dir].maxwin, 1u);
	int64_t d = (int32_t)(s->seq - n->peer[dir].end);

	return d >= -w && d <= w;
}

static enum ct_tcp_verdict track_rst(struct ct_tcp *n, enum ct_dir dir,
				     const struct ct_tcp_seg *s)
{
	if (n->state == CT_TCP_SYN_SENT && dir == CT_DIR_REPLY) {
		/*
		 * REPLY has not sent a sequence number yet; RFC 9293
		 * 3.10.7.3 accepts a RST in SYN-SENT only if its ACK
		 * acknowledges the SYN.
		 */
		if (!acks_syn(&n->peer[CT_DIR_ORIG], s))
			return CT_TCP_RST_OUT_OF_WINDOW;
	} else if (!rst_in_window(n, dir, s)) {
		return CT_TCP_RST_OUT_OF_WINDOW;
	}
	peer_account(n, dir, s);
	if (n->state < CT_TCP_SYN_RECV)
		wscale_settle(n); /* later segments see final scales */
	n->state = CT_TCP_CLOSE;
	return CT_TCP_OK;
}

/* SYN or SYN-ACK while ORIG's SYN is unanswered. */
static enum ct_tcp_verdict syn_in_syn_sent(struct ct_tcp *n, enum ct_dir dir,
					   const struct ct_tcp_seg *s)
{
	struct ct_tcp_peer *p = &n->peer[dir];

	if (dir == CT_DIR_ORIG) {
		if (seg_has(s, TCP_ACK))
			return CT_TCP_UNEXPECTED;
		/*
		 * A retransmission, or a new attempt with another ISN or
		 * other options (stacks drop options on late retries):
		 * REPLY has sent nothing, so start over from this SYN.
		 */
		ct_tcp_init(n, s);
		return CT_TCP_OK;
	}
	if (!seg_has(s, TCP_ACK)) {
		/* Both sides sent a SYN: simultaneous open. */
		peer_init_syn(p, s);
		n->state = CT_TCP_SYN_SENT2;
		return CT_TCP_OK;
	}
	if (!acks_syn(&n->peer[CT_DIR_ORIG], s))
		return CT_TCP_BAD_SYNACK;
	peer_init_syn(p, s);
	p->flags |= CT_TCP_PF_SYNACK;
	n->state = CT_TCP_SYN_RECV;
	wscale_settle(n);
	return CT_TCP_OK;
}

/*
 * Simultaneous open, both SYNs seen. Each side now repeats its SYN with an
 * ACK of the other's; its sequence number must be the ISN already seen.
 * Scaling was settled by the two bare SYNs, which is what the endpoints
 * acted on, so the SYN-ACK's options are not read.
 */
static enum ct_tcp_verdict syn_in_syn_sent2(struct ct_tcp *n, enum ct_dir dir,
					    const struct ct_tcp_seg *s)
{
	struct ct_tcp_peer *p = &n->peer[dir];

	if (s->seq != peer_isn(p))
		return CT_TCP_UNEXPECTED;
	if (!seg_has(s, TCP_ACK)) {
		peer_account(n, dir, s); /* retransmitted SYN */
		return CT_TCP_OK;
	}
	if (!acks_syn(&n->peer[!dir], s))
		return CT_TCP_BAD_SYNACK;
	peer_account(n, dir, s);
	p->flags |= CT_TCP_PF_SYNACK;
	n->state = CT_TCP_SYN_RECV;
	wscale_settle(n);
	return CT_TCP_OK;
}

static enum ct_tcp_verdict syn_in_syn_recv(struct ct_tcp *n, enum ct_dir dir,
					   const struct ct_tcp_seg *s)
{
	struct ct_tcp_peer *p = &n->peer[dir];

	if (!seg_has(s, TCP_ACK)) {
		/* A retransmitted SYN: the SYN-ACK may have been lost. */
		if (s->seq != peer_isn(p))
			return CT_TCP_UNEXPECTED;
		peer_account(n, dir, s);
		return CT_TCP_OK;
	}
	if (!acks_syn(&n->peer[!dir], s))
		return CT_TCP_BAD_SYNACK;
	if (p->flags & CT_TCP_PF_SYNACK) {
		if (s->seq != peer_isn(p)) {
			/*
			 * A responder that keeps no state (SYN cookies)
			 * answers a retransmitted SYN with a new ISN. The
			 * other side has acknowledged nothing yet, so the
			 * new SYN-ACK replaces the old one.
			 */
			p->end = seg_end(s);
			p->fin_seq = s->seq;
		}
		peer_account(n, dir, s);
		return CT_TCP_OK;
	}
	/*
	 * The other side of a simultaneous open sends its SYN-ACK, which
	 * acknowledges the first one's SYN: both ends are now established
	 * (RFC 9293 figure 8), no further ACK need follow.
	 */
	if (s->seq != peer_isn(p))
		return CT_TCP_UNEXPECTED;
	peer_account(n, dir, s);
	p->flags |= CT_TCP_PF_SYNACK;
	n->state = CT_TCP_ESTABLISHED;
	return CT_TCP_OK;
}

static enum ct_tcp_verdict track_syn(struct ct_tcp *n, enum ct_dir dir,
				     const struct ct_tcp_seg *s)
{
	switch (n->state) {
	case CT_TCP_SYN_SENT:
		return syn_in_syn_sent(n, dir, s);
	case CT_TCP_SYN_SENT2:
		return syn_in_syn_sent2(n, dir, s);
	case CT_TCP_SYN_RECV:
		return syn_in_syn_recv(n, dir, s);
	case CT_TCP_ESTABLISHED:
		/* A late duplicate of ORIG's SYN is harmless; pass it on. */
		if (dir == CT_DIR_ORIG && !seg_has(s, TCP_ACK) &&
		    s->seq == peer_isn(&n->peer[dir])) {
			peer_account(n, dir, s);
			return CT_TCP_OK;
		}
		return CT_TCP_UNEXPECTED;
	case CT_TCP_TIME_WAIT:
	case CT_TCP_CLOSE:
		if (dir == CT_DIR_ORIG && !seg_has(s, TCP_ACK)) {
			ct_tcp_init(n, s); /* a new connection, same tuple */
			return CT_TCP_OK;
		}
		return CT_TCP_UNEXPECTED;
	default:
		/* Closing: nobody may (re)synchronize now. */
		return CT_TCP_UNEXPECTED;
	}
}

/* A segment without SYN or RST; it carries ACK (ct_tcp_flags_valid()). */
static enum ct_tcp_verdict track_ack(struct ct_tcp *n, enum ct_dir dir,
				     const struct ct_tcp_seg *s)
{
	switch (n->state) {
	case CT_TCP_SYN_SENT:
	case CT_TCP_SYN_SENT2:
		/* Nothing can be acknowledged before a SYN-ACK. */
		return CT_TCP_UNEXPECTED;
	case CT_TCP_SYN_RECV:
		if (n->peer[dir].flags & CT_TCP_PF_SYNACK) {
			/*
			 * The SYN-ACK's sender may send before the final
			 * ACK (Fast Open data, an early FIN).
			 */
			data_account(n, dir, s);
			if (n->peer[dir].flags & CT_TCP_PF_FIN)
				n->state = close_state(n);
			return CT_TCP_OK;
		}
		/*
		 * The side the SYN-ACK went to completes the handshake with
		 * any segment acknowledging it, the final ACK or, if that
		 * was lost, its first data or FIN.
		 */
		if (!acks_syn(&n->peer[!dir], s))
			return CT_TCP_UNEXPECTED;
		data_account(n, dir, s);
		n->state = close_state(n);
		return CT_TCP_OK;
	case CT_TCP_TIME_WAIT:
	case CT_TCP_CLOSE:
		/* Late ACKs and retransmissions: no way back. */
		data_account(n, dir, s);
		return CT_TCP_OK;
	default:
		data_account(n, dir, s);
		n->state = close_state(n);
		return CT_TCP_OK;
	}
}

bool ct_tcp_flags_valid(uint8_t flags)
{
	uint8_t f = flags & CT_TCP_FLAG_MASK;

	if (!(f & (TCP_SYN | TCP_RST | TCP_ACK)))
		return false;
	if ((f & TCP_SYN) && (f & (TCP_FIN | TCP_RST)))
		return false;
	/*
	 * FIN without ACK needs no test of its own: alone it has none of
	 * SYN, RST, ACK, and with SYN or RST it is refused above or here.
	 */
	return !((f & TCP_FIN) && (f & TCP_RST));
}

enum ct_tcp_verdict ct_tcp_new(struct ct_tcp *t, const struct ct_tcp_seg *s)
{
	if (!ct_tcp_flags_valid(s->flags))
		return CT_TCP_BAD_FLAGS;
	if ((s->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return CT_TCP_NOT_SYN;
	ct_tcp_init(t, s);
	return CT_TCP_OK;
}

enum ct_tcp_verdict ct_tcp_track(struct ct_tcp *t, enum ct_dir dir,
				 const struct ct_tcp_seg *s)
{
	enum ct_tcp_verdict v;
	struct ct_tcp n;

	if (!ct_tcp_flags_valid(s->flags))
		return CT_TCP_BAD_FLAGS;
	/* Both come from the caller, not the packet: refuse, never index. */
	if ((unsigned int)dir > CT_DIR_REPLY || t->state == CT_TCP_NONE ||
	    t->state >= CT_TCP__MAX) {
		if (dir == CT_DIR_ORIG && t->state == CT_TCP_NONE)
			return ct_tcp_new(t, s);
		return CT_TCP_UNEXPECTED;
	}

	/* memcpy, not assignment: padding too stays as the caller had it. */
	memcpy(&n, t, sizeof(n));
	if (seg_has(s, TCP_RST))
		v = track_rst(&n, dir, s);
	else if (seg_has(s, TCP_SYN))
		v = track_syn(&n, dir, s);
	else
		v = track_ack(&n, dir, s);
	if (v == CT_TCP_OK)
		memcpy(t, &n, sizeof(n));
	return v;
}

enum ct_timeout_class ct_tcp_timeout_class(enum ct_tcp_state state)
{
	switch (state) {
	case CT_TCP_ESTABLISHED:
		return CT_TO_TCP_ESTABLISHED;
	case CT_TCP_TIME_WAIT:
		return CT_TO_TCP_TIME_WAIT;
	case CT_TCP_CLOSE:
		return CT_TO_TCP_CLOSE;
	default:
		return CT_TO_TCP_TRANSITORY;
	}
}

const char *ct_tcp_state_name(enum ct_tcp_state state)
{
	if ((unsigned int)state >= CT_TCP__MAX)
		return "INVALID";
	return ct_tcp_state_names[state];
}
