/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp_conn.h - the TCP relay's state and its per-connection machinery:
 * a guest segment against a connection, the segments owed to the guest,
 * retransmission. Internal to the relay (uplink/sock_tcp.c is its only
 * user); the prefix is stcp_. See the top of sock_tcp.c for the design.
 */
#ifndef ARCNAT_UPLINK_SOCK_TCP_CONN_H
#define ARCNAT_UPLINK_SOCK_TCP_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "core/siphash.h"
#include "dp/port.h"
#include "uplink/sock_tcp_defs.h"
#include "uplink/sock_tcp_ooo.h"

#define STCP_NONE		UINT32_MAX
#define STCP_SLOT_BITS		20u
#define STCP_FLOWS_MAX		(1u << 26)
#define STCP_MSS_MIN		64u	/* a guest's smaller MSS is raised */
#define STCP_RCV_WSCALE		8u	/* our window scale: up to 16 MiB */
#define STCP_RTO_INIT_US	1000000u	/* RFC 6298 2.1 */
#define STCP_RTO_MIN_US		200000u	/* Linux's, not RFC 6298's 1 s */
#define STCP_RTO_MAX_US		60000000u
#define STCP_RETRIES		12u	/* RTO expiries before giving up */
#define STCP_SYN_RETRIES	6u
/* Our SYNs towards the guest (a forward's client) resent before giving up:
 * 1 + 2 + 4 + 8 + 16 + 32 s, about the minute a client's own connect()
 * waits. */
#define STCP_FWD_SYN_RETRIES	5u
#define STCP_KA_PROBES		9u
#define STCP_KA_INTVL_NS	(75ull * 1000000000ull)
#define STCP_GSO_SEGS		64u	/* segments per super-frame, at most */
/* The timer wheel: STCP_TW_SLOTS buckets of 2^STCP_TW_SHIFT ns (1 ms),
 * about a second around; a later deadline waits in its bucket, looked at
 * once a turn. Bucket STCP_TW_SLOTS is the one tick() is running. */
#define STCP_TW_SHIFT		20u
#define STCP_TW_SLOTS		1024u
#define STCP_TW_RUN		STCP_TW_SLOTS
/* A shut window of ours is looked at again after this: TCP raises EPOLLOUT
 * only after a write failed, and the window may shut without one. Each
 * look that finds no room doubles the wait, up to STCP_WND_POLL_NS <<
 * STCP_WND_POLL_BACKOFF (160 ms, below the first zero-window probe a
 * guest's own persist timer sends), so that a remote that stops reading
 * for good costs a few looks a second, not a hundred; an EPOLLOUT (the
 * remote reads again) brings the wait back to the first. */
#define STCP_WND_POLL_NS	(10ull * 1000000ull)
#define STCP_WND_POLL_BACKOFF	4u
/* ACKs sent when the window reopens after a short write: the first a
 * window update, the next three duplicates that make the guest resend
 * what the socket refused at once (fast retransmit) rather than at its
 * retransmission timeout. */
#define STCP_REOPEN_ACKS	4u
/* Events of an open connection's socket: edge-triggered (see sock_tcp.c). */
#define STCP_EV_BASE		(EPOLLIN | EPOLLRDHUP | EPOLLET)

enum stcp_state {
	STCP_FREE = 0,
	STCP_CONNECTING,	/* guest SYN seen, connect() in progress */
	STCP_SYN_RCVD,		/* remote accepted, SYN-ACK owed or sent */
	STCP_ESTABLISHED,	/* and closing: see the STCP_F_ flags */
	STCP_TIME_WAIT,		/* ended, socket closed, lingering */
	STCP_SYN_SENT,		/* a forward's client accepted, our SYN sent
				 * to the guest, no flow yet (sock_tcp_open) */
};

/* stcp_conn.flags */
#define STCP_F_WSCALE		(1u << 0)	/* window scaling both ways */
#define STCP_F_SYNACK		(1u << 1)	/* SYN-ACK owed */
#define STCP_F_ACK_NOW		(1u << 2)	/* an ACK owed */
#define STCP_F_PROBE		(1u << 3)	/* a probe (seq snd_una - 1) owed */
#define STCP_F_RETX_ONE		(1u << 4)	/* fast retransmit owed */
#define STCP_F_GUEST_FIN	(1u << 5)	/* guest's FIN taken, SHUT_WR done */
#define STCP_F_RDHUP		(1u << 6)	/* the remote's EOF is queued */
#define STCP_F_FIN_SEQ		(1u << 7)	/* our FIN has a fin_seq */
#define STCP_F_FIN_ACKED	(1u << 8)
#define STCP_F_ACTIVE_CLOSE	(1u << 9)	/* our FIN went before the guest's */
#define STCP_F_PERSIST		(1u << 10)	/* rto_at is the persist timer */
#define STCP_F_SHORT		(1u << 11)	/* a write came up short */
#define STCP_F_SACK		(1u << 12)	/* SACK negotiated */
#define STCP_F_GFIN_OOO		(1u << 13)	/* guest's FIN seen at gfin_seq,
						 * beyond a hole */
#define STCP_F_RECOVERY		(1u << 14)	/* fast recovery until @recover */
#define STCP_F_HOLE		(1u << 15)	/* @hole_end is known */
#define STCP_F_SYN		(1u << 16)	/* our SYN owed (STCP_SYN_SENT) */
#define STCP_F_FWD		(1u << 17)	/* opened towards the guest */

/**
 * struct stcp_conn - one relayed connection.
 * @fd:        host socket, -1 once closed
 * @flow:      conntrack flow index
 * @flags:     STCP_F_*
 * @events:    what the socket is watched for now
 * @state:     enum stcp_state
 * @gen:       generation, in the watch id
 * @queued:    in the output queue (kept across free and reuse)
 * @peek_off:  SO_PEEK_OFF is on for this socket
 * @snd_wscale: the guest's window scale
 * @rcv_wscale: ours
 * @backoff:   RTO doublings since the last new ACK
 * @dupacks:   duplicate ACKs in a row
 * @ka_probes: keepalive probes unanswered
 * @reopen_acks: ACKs still owed for a reopened window (STCP_REOPEN_ACKS)
 * @wnd_polls: looks at our shut window in a row that found no room (the
 *             next waits STCP_WND_POLL_NS << this)
 * @raddr:     remote address (network order)
 * @rport:     remote port (network order)
 * @eport:     the guest's port as translated (network order)
 * @mss:       segment size towards the guest
 * @guest_isn: the guest's initial sequence number
 * @rcv_nxt:   next byte expected from the guest
 * @rcv_adv:   right edge of the window we announced (in STCP_SYN_SENT:
 *             the window our SYN announced, rcv_nxt being unknown)
 * @iss:       our initial sequence number
 * @snd_una:   oldest byte the guest has not acknowledged
 * @snd_nxt:   next byte to send
 * @snd_max:   highest snd_nxt so far (before a go-back-N rewind)
 * @snd_wnd:   the guest's window, scaled
 * @fin_seq:   sequence number of our FIN (STCP_F_FIN_SEQ)
 * @sndbuf:    the socket's SO_SNDBUF, last read
 * @sndcap:    payload bytes its send queue held when a write came up short
 *             (0: none yet), scaled as @sndbuf changes: SO_SNDBUF counts
 *             the kernel's overhead too, so this is the truer capacity
 * @rtt_seq:   an ACK beyond this ends the RTT measurement ...
 * @rtt_at:    ... started then (0: none running)
 * @srtt_us:   smoothed RTT (0: no sample yet)
 * @rttvar_us: RTT variation
 * @rto_us:    retransmission timeout, before backoff
 * @rto_at:    retransmission, SYN-ACK or persist deadline (0: none)
 * @life_at:   connect, TIME_WAIT or keepalive deadline (0: none)
 * @wnd_at:    when to look at a shut window of ours again (0: not shut)
 * @last_rx:   last segment from the guest
 * @persist_since: when the guest's window shut with bytes waiting
 *             (STCP_F_PERSIST)
 * @gfin_seq:  the guest's FIN seen beyond a hole (STCP_F_GFIN_OOO)
 * @recover:   snd_max when fast recovery began (RFC 6582)
 * @hole_end:  where the hole at snd_una ends, as the guest's SACK blocks
 *             say (STCP_F_HOLE)
 * @tw_at:     the deadline the connection is in the timer wheel for (at
 *             or before its earliest of @rto_at, @life_at, @wnd_at)
 * @tw_bucket: its bucket (STCP_NONE: not in the wheel)
 * @tw_next:   the bucket's doubly linked list of slots (STCP_NONE ends)
 * @tw_prev:
 * @ooo:       the guest's out-of-order bytes
 */
struct stcp_conn {
	int fd;
	uint32_t flow;
	uint32_t flags;
	uint32_t events;
	uint8_t state;
	uint8_t gen;
	bool queued;
	bool peek_off;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t backoff;
	uint8_t dupacks;
	uint8_t ka_probes;
	uint8_t reopen_acks;
	uint8_t wnd_polls;
	uint32_t raddr;
	uint16_t rport;
	uint16_t eport;
	uint16_t mss;
	uint32_t guest_isn;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;
	uint32_t snd_wnd;
	uint32_t fin_seq;
	uint32_t sndbuf;
	uint32_t sndcap;
	uint32_t rtt_seq;
	uint64_t rtt_at;
	uint32_t srtt_us;
	uint32_t rttvar_us;
	uint32_t rto_us;
	uint64_t rto_at;
	uint64_t life_at;
	uint64_t wnd_at;
	uint64_t last_rx;
	uint64_t persist_since;
	uint32_t gfin_seq;
	uint32_t recover;
	uint32_t hole_end;
	uint64_t tw_at;
	uint32_t tw_bucket;
	uint32_t tw_next;
	uint32_t tw_prev;
	struct stcp_ooo ooo;
};

/* An RST owed to the guest for a segment without a connection. */
struct stcp_rst {
	uint32_t raddr;
	uint16_t rport;
	uint16_t eport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
};

/* A guest segment, decoded. Ports and address in network order. */
struct stcp_seg {
	uint32_t raddr;
	uint16_t rport;
	uint16_t eport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *payload;
	uint32_t plen;
	uint32_t sack_left;	/* nearest SACK left edge above ack ... */
	bool has_sack;		/* ... when the segment has one */
};

/**
 * struct stcp_opening - the connections towards the guest waiting for its
 * SYN-ACK, found by their 4-tuple (no flow index yet): a chained hash
 * table, keyed (an outsider picks the client's port), over the slots.
 * uplink/sock_tcp_open.c has its functions.
 * @bucket: @mask + 1 heads (slots, STCP_NONE: empty), at least twice @max
 * @next:   max_conns chain links, by slot
 * @mask:   buckets - 1
 * @n:      connections in the table
 * @max:    at most (config max_opening)
 * @key:    the hash's secret
 */
struct stcp_opening {
	uint32_t *bucket;
	uint32_t *next;
	uint32_t mask;
	uint32_t n;
	uint32_t max;
	struct siphash_key key;
};

/**
 * struct sock_tcp - the relay.
 * @cfg:      settings
 * @st:       counters
 * @conns:    max_conns connections
 * @free_slots: free slot indices (a stack)
 * @nfree:    how many
 * @hiwater:  slots below this have been used
 * @flow_map: flow index -> slot (STCP_NONE)
 * @pend:     output queue of slots (a ring of max_conns)
 * @pend_head: free-running indices
 * @pend_tail:
 * @rstq:     RSTs for segments without a connection
 * @rst_head: free-running indices
 * @rst_tail:
 * @discard:  scratch for the peek without SO_PEEK_OFF (SOCK_TCP_DISCARD)
 * @ooo:      chunks for the guests' out-of-order bytes
 * @wheel:    STCP_TW_SLOTS + 1 bucket heads (slots, STCP_NONE: empty)
 * @tw_last:  the last wheel tick run completely (clock >> STCP_TW_SHIFT)
 * @now:      the clock at the last call into the relay
 * @rng:      for initial sequence numbers
 * @opening:  the connections in STCP_SYN_SENT, by 4-tuple (sock_tcp_open)
 * @ip_id:    IPv4 identification of the next segment
 * @mss:      the MSS we announce (MTU - 40)
 * @connect_timeout_ns: @cfg's, defaults applied
 * @time_wait_ns:
 * @keepalive_ns:
 * @persist_max_ns:
 */
struct sock_tcp {
	struct sock_tcp_config cfg;
	struct sock_tcp_stats st;
	struct stcp_conn *conns;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t hiwater;
	uint32_t *flow_map;
	uint32_t *pend;
	uint32_t pend_head;
	uint32_t pend_tail;
	struct stcp_rst rstq[SOCK_TCP_RSTQ];
	uint32_t rst_head;
	uint32_t rst_tail;
	uint8_t *discard;
	struct stcp_ooo_pool ooo;
	uint32_t *wheel;
	uint64_t tw_last;
	uint64_t now;
	uint64_t rng;
	struct stcp_opening opening;
	uint16_t ip_id;
	uint32_t mss;
	uint64_t connect_timeout_ns;
	uint64_t time_wait_ns;
	uint64_t keepalive_ns;
	uint64_t persist_max_ns;
};

/**
 * stcp_rand() - an initial sequence number. @t: relay. Return: it.
 *
 * xorshift64*: initial sequence numbers need only be unpredictable enough
 * that a stale segment does not fit (the NAT's flow is the real guard);
 * seeded from getrandom() at create.
 */
static inline uint32_t stcp_rand(struct sock_tcp *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (uint32_t)((t->rng * 0x2545f4914f6cdd1dull) >> 32);
}

/** stcp_id() - the watch id of @c in @slot. Return: it. */
uint32_t stcp_id(const struct stcp_conn *c, uint32_t slot);

/** stcp_slot() - @c's slot in @t. Return: it. */
static inline uint32_t stcp_slot(const struct sock_tcp *t,
				 const struct stcp_conn *c)
{
	return (uint32_t)(c - t->conns);
}

/**
 * stcp_timer() - set a deadline of a connection; the timer wheel holds the
 * connection at its earliest (a later or cleared one is found lazily).
 * @t:     relay
 * @c:     connection
 * @field: the connection's deadline
 * @at:    when (0: none)
 */
void stcp_timer(struct sock_tcp *t, struct stcp_conn *c, uint64_t *field,
		uint64_t at);

/** stcp_tw_arm() - (re)place @c in the wheel at its earliest deadline. */
void stcp_tw_arm(struct sock_tcp *t, struct stcp_conn *c);

/** stcp_tw_unlink() - take @c out of the wheel. @t: relay. @c: connection */
void stcp_tw_unlink(struct sock_tcp *t, struct stcp_conn *c);

/** stcp_queue() - queue @c for output (once). @t: relay. @c: connection */
void stcp_queue(struct sock_tcp *t, struct stcp_conn *c);

/** stcp_ack_now() - owe the guest an ACK. @t: relay. @c: connection */
void stcp_ack_now(struct sock_tcp *t, struct stcp_conn *c);

/**
 * stcp_rst() - queue an RST to the guest (counted drop when full).
 * @t:     relay
 * @raddr: remote address, network order (the RST's source)
 * @rport: remote port, network order
 * @eport: the guest's translated port, network order
 * @seq:   sequence number (host order)
 * @ack:   acknowledgment number (host order)
 * @flags: TCP_RST, with TCP_ACK or not
 */
void stcp_rst(struct sock_tcp *t, uint32_t raddr, uint16_t rport,
	      uint16_t eport, uint32_t seq, uint32_t ack, uint8_t flags);

/**
 * stcp_free() - close @c's socket (an RST to the remote if it is still
 * open) and give its slot back. @t: relay. @c: connection
 */
void stcp_free(struct sock_tcp *t, struct stcp_conn *c);

/**
 * stcp_abort() - reset @c: an RST to the remote, one to the guest if
 * @rst_guest, and the slot given back.
 * @t:         relay
 * @c:         connection
 * @rst_guest: tell the guest
 */
void stcp_abort(struct sock_tcp *t, struct stcp_conn *c, bool rst_guest);

/**
 * stcp_watch() - watch @c's socket for @events (no call when unchanged).
 * @t: relay. @c: connection. @events: EPOLL*
 * Return: 0 or the environment's -errno.
 */
int stcp_watch(struct sock_tcp *t, struct stcp_conn *c, uint32_t events);

/**
 * stcp_peek_init() - the receive buffer read at SO_PEEK_OFF when the kernel
 * takes it for TCP (Linux 6.9), else the fallback; for a new connection of
 * either direction.
 * @t:  relay
 * @c:  the connection
 * @fd: its socket
 */
void stcp_peek_init(const struct sock_tcp *t, struct stcp_conn *c, int fd);

/**
 * stcp_room() - room in @c's send buffer, the window the relay announces.
 * @c: connection. Return: bytes.
 */
uint32_t stcp_room(struct stcp_conn *c);

/**
 * stcp_wnd_min() - the least window worth announcing: a segment or half
 * the send buffer, whichever is less (RFC 9293's receiver-side silly
 * window avoidance), and never below one unit of our window scale.
 * @t: relay. @c: connection. Return: bytes.
 */
uint32_t stcp_wnd_min(const struct sock_tcp *t, const struct stcp_conn *c);

/**
 * stcp_reopened() - the socket has room again after our window shut: a
 * window update (and duplicate ACKs after a short write).
 * @t: relay. @c: connection. Return: 0 or the environment's -errno.
 */
int stcp_reopened(struct sock_tcp *t, struct stcp_conn *c);

/**
 * stcp_write() - headers of a segment towards the guest at @b->data, its
 * payload already in place after them.
 * @t: relay. @b: buffer. @raddr, @rport, @eport: the connection.
 * @seq, @ack, @flags, @win: TCP fields. @opt, @optlen: options (SYN, SYN-ACK).
 * @plen: payload bytes. @mss: for a super-frame (0: a single segment).
 */
void stcp_write(struct sock_tcp *t, struct dp_buf *b, uint32_t raddr,
		uint16_t rport, uint16_t eport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t win, const uint8_t *opt,
		uint32_t optlen, uint32_t plen, uint16_t mss);

/**
 * stcp_rtt_sample() - a round trip measured since @c->rtt_at ended @now:
 * smoothed RTT and RTO (RFC 6298 2.2-2.3). @c: connection. @now: clock, ns
 */
void stcp_rtt_sample(struct stcp_conn *c, uint64_t now);

/** stcp_rto_ns() - @c's retransmission timeout with backoff, ns. Return: it. */
uint64_t stcp_rto_ns(const struct stcp_conn *c);

/**
 * stcp_segment() - a guest segment for the established (or opening,
 * closing) connection @c. @c may be freed.
 * @t: relay. @c: connection. @s: segment. @now: clock, ns
 */
void stcp_segment(struct sock_tcp *t, struct stcp_conn *c,
		  const struct stcp_seg *s, uint64_t now);

/**
 * stcp_rto() - @c's retransmission (or persist, or SYN-ACK) timer expired.
 * @c may be freed. @t: relay. @c: connection. @now: clock, ns
 */
void stcp_rto(struct sock_tcp *t, struct stcp_conn *c, uint64_t now);

/**
 * stcp_out_rst() - write the oldest queued RST into @b.
 * @t: relay. @b: buffer
 */
void stcp_out_rst(struct sock_tcp *t, struct dp_buf *b);

/**
 * stcp_out_conn() - write what @c owes the guest into @bufs.
 * @t:    relay
 * @c:    connection (may be freed: an error reading its socket)
 * @bufs: buffers
 * @n:    how many (at least 1)
 * @now:  clock, ns
 * @more: set when the buffers ran out before @c had nothing left
 *
 * Return: buffers filled.
 */
unsigned int stcp_out_conn(struct sock_tcp *t, struct stcp_conn *c,
			   struct dp_buf **bufs, unsigned int n, uint64_t now,
			   bool *more);

/**
 * stcp_peek_off_works() - the kernel has SO_PEEK_OFF for TCP (probed once).
 * Return: true if so.
 */
bool stcp_peek_off_works(void);

#endif /* ARCNAT_UPLINK_SOCK_TCP_CONN_H */
