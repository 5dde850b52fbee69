/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP connection tracking: state machine and window checks.
 *
 * Theory of operation: a middlebox sees both directions of a connection
 * and follows it through the states below (the conntrack view, not either
 * endpoint's). Each direction remembers how far it has sent (end), the
 * largest window it has advertised (scaled) and its window scale, which is
 * enough to accept a RST only when its sequence number is inside the
 * receiver's window (RFC 5961 section 3, loosened by one window because the
 * middlebox may have seen data the receiver has not) and to check that a
 * SYN-ACK acknowledges the SYN. Everything is a pure function of the
 * tracked state and the segment: no clock, no I/O.
 *
 * Directions: CT_DIR_ORIG is the side that sent the first SYN, CT_DIR_REPLY
 * the other side.
 */
#ifndef ARCNAT_CT_TCP_H
#define ARCNAT_CT_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h" /* static_assert */
#include "ct/timeouts.h"

enum ct_dir {
	CT_DIR_ORIG = 0,
	CT_DIR_REPLY = 1,
};

enum ct_tcp_state {
	CT_TCP_NONE = 0,
	CT_TCP_SYN_SENT,	/* SYN seen from ORIG */
	CT_TCP_SYN_SENT2,	/* SYN seen from both sides: simultaneous open */
	CT_TCP_SYN_RECV,	/* SYN-ACK seen */
	CT_TCP_ESTABLISHED,	/* the handshake's final ACK seen */
	CT_TCP_FIN_WAIT,	/* FIN seen from one side */
	CT_TCP_CLOSE_WAIT,	/* that FIN acknowledged */
	CT_TCP_LAST_ACK,	/* FIN seen from both sides */
	CT_TCP_TIME_WAIT,	/* last FIN acknowledged */
	CT_TCP_CLOSE,		/* in-window RST seen */
	CT_TCP__MAX
};

/* ct_tcp_peer.flags */
#define CT_TCP_PF_SEEN		(1u << 0)	/* this side has sent a segment */
#define CT_TCP_PF_WSCALE	(1u << 1)	/* its SYN carried window scale */
#define CT_TCP_PF_FIN		(1u << 2)	/* it has sent a FIN */
#define CT_TCP_PF_FIN_ACKED	(1u << 3)	/* the other side acked that FIN */
#define CT_TCP_PF_SACK_PERM	(1u << 4)	/* its SYN carried SACK-permitted */
#define CT_TCP_PF_SYNACK	(1u << 5)	/* it has sent a SYN-ACK */

/**
 * struct ct_tcp_peer - what one direction has sent.
 * @end:    sequence number after the last byte (SYN and FIN count one) it sent
 * @fin_seq: sequence number of its FIN (with CT_TCP_PF_FIN); until then
 *          its initial sequence number, to recognise a retransmitted SYN
 * @maxwin: the largest window it advertised, scaled
 * @wscale: its window scale (0 unless both SYNs carried the option; before
 *          the SYN-ACK is seen, the value its SYN offered)
 * @flags:  CT_TCP_PF_*
 */
struct ct_tcp_peer {
	uint32_t end;
	uint32_t fin_seq;
	uint32_t maxwin;
	uint8_t wscale;
	uint8_t flags;
	uint16_t reserved;
};

static_assert(sizeof(struct ct_tcp_peer) == 16, "per-direction TCP state is 16 bytes");

/**
 * struct ct_tcp - tracked TCP state of one connection.
 * @peer:  per direction, indexed by enum ct_dir
 * @state: enum ct_tcp_state
 */
struct ct_tcp {
	struct ct_tcp_peer peer[2];
	uint8_t state;
};

/**
 * struct ct_tcp_seg - the fields of a segment the tracker needs.
 * @seq:        sequence number (host order)
 * @ack:        acknowledgment number (host order)
 * @len:        payload bytes (not counting SYN/FIN)
 * @win:        raw window field (host order)
 * @flags:      TCP flags byte
 * @has_wscale: the segment carried the window scale option
 * @wscale:     its value (already clamped to 14)
 * @sack_perm:  the segment carried SACK-permitted
 */
struct ct_tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;
	uint16_t win;
	uint8_t flags;
	bool has_wscale;
	uint8_t wscale;
	bool sack_perm;
};

enum ct_tcp_verdict {
	CT_TCP_OK = 0,
	CT_TCP_BAD_FLAGS,	/* an impossible flag combination */
	CT_TCP_NOT_SYN,		/* a new connection must start with a SYN */
	CT_TCP_RST_OUT_OF_WINDOW,
	CT_TCP_BAD_SYNACK,	/* SYN-ACK that does not acknowledge the SYN */
	CT_TCP_UNEXPECTED,	/* a segment that does not fit the state (e.g. SYN from REPLY once established) */
	CT_TCP_VERDICT__MAX
};

/**
 * ct_tcp_flags_valid() - reject impossible flag combinations.
 * @flags: TCP flags byte
 *
 * Only FIN, SYN, RST and ACK are looked at (PSH, URG, ECE and CWR may come
 * with anything). Invalid: SYN with FIN or RST, FIN with RST, FIN without
 * ACK, and anything with neither SYN, RST nor ACK (which includes no flags
 * at all). That leaves exactly six valid combinations: SYN, SYN|ACK, RST,
 * RST|ACK, ACK and FIN|ACK.
 *
 * Return: true if the combination can occur in a legitimate connection.
 */
bool ct_tcp_flags_valid(uint8_t flags);

/**
 * ct_tcp_new() - start tracking with the first segment (from ORIG).
 * @t: state to initialise
 * @s: the segment
 *
 * Return: CT_TCP_OK with @t in SYN_SENT if @s is a valid SYN (no ACK);
 * CT_TCP_BAD_FLAGS or CT_TCP_NOT_SYN otherwise (@t is then unspecified and
 * no connection must be created).
 */
enum ct_tcp_verdict ct_tcp_new(struct ct_tcp *t, const struct ct_tcp_seg *s);

/**
 * ct_tcp_track() - account a segment of a tracked connection.
 * @t:   tracked state, updated when the segment is accepted
 * @dir: direction the segment travels
 * @s:   the segment
 *
 * A SYN from ORIG in TIME_WAIT or CLOSE reopens the connection (a new
 * connection on the same tuple) and resets @t as ct_tcp_new() would; so
 * does a SYN from ORIG when @t is in CT_TCP_NONE. Rejected segments leave
 * @t unchanged.
 *
 * Return: CT_TCP_OK to forward the segment, or why it must be dropped.
 */
enum ct_tcp_verdict ct_tcp_track(struct ct_tcp *t, enum ct_dir dir,
				 const struct ct_tcp_seg *s);

/**
 * ct_tcp_timeout_class() - which idle timeout applies in @state.
 * @state: enum ct_tcp_state
 *
 * Return: CT_TO_TCP_ESTABLISHED for ESTABLISHED, CT_TO_TCP_TIME_WAIT for
 * TIME_WAIT, CT_TO_TCP_CLOSE for CLOSE, CT_TO_TCP_TRANSITORY otherwise.
 */
enum ct_timeout_class ct_tcp_timeout_class(enum ct_tcp_state state);

/**
 * ct_tcp_state_name() - "ESTABLISHED", ... for logs and the control socket.
 * @state: state
 *
 * Return: a static string, "INVALID" when out of range.
 */
const char *ct_tcp_state_name(enum ct_tcp_state state);

#endif /* ARCNAT_CT_TCP_H */
