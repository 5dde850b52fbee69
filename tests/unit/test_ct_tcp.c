// SPDX-License-Identifier: MIT
/*
 * test_ct_tcp.c - unit tests for src/ct/tcp (the TCP conntrack machine).
 *
 * One test per rule of the state machine: each drives a tracker through
 * ct_tcp_new()/ct_tcp_track() with hand-built segments and checks the
 * verdict, the state after every step, and that a rejected segment left
 * the struct byte for byte unchanged. The last test throws a million random
 * segments (valid and invalid flags, sequence numbers near the tracked ones
 * and anywhere) at trackers started from random handshakes and checks the
 * machine's invariants after each; its seed is fixed and printed with any
 * failure so that it can be replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "ct/tcp.h"
#include "prot/tcp.h"

#define NO_WS	   (-1) /* mkseg_syn(): no window scale option */
#define WIN_SYN	   512	/* window in every handshake SYN */
#define WIN_ACK	   1000 /* window in the handshake's final ACK */
#define CT_TCP_OOW CT_TCP_RST_OUT_OF_WINDOW /* TRK(..., OOW, ...) */

static struct ct_tcp_seg mkseg(uint8_t flags, uint32_t seq, uint32_t ack,
			       uint32_t len, uint16_t win)
{
	struct ct_tcp_seg s = {.seq = seq, .ack = ack, .len = len};

	s.win = win;
	s.flags = flags;
	return s;
}

/* "SA" -> TCP_SYN | TCP_ACK: one letter per flag, in wire bit order. */
static uint8_t fl(const char *f)
{
	static const char names[] = "FSRPAUEC";
	uint8_t flags = 0;

	for (; *f; f++) {
		const char *c = strchr(names, *f);

		assert_non_null(c);
		flags |= (uint8_t)(1u << (c - names));
	}
	return flags;
}

/* A SYN or SYN-ACK with WIN_SYN, SACK-permitted and window scale @ws. */
static struct ct_tcp_seg mkseg_syn(uint8_t flags, uint32_t seq, uint32_t ack,
				   int ws)
{
	struct ct_tcp_seg s = mkseg(flags, seq, ack, 0, WIN_SYN);

	s.sack_perm = true;
	if (ws != NO_WS) {
		s.has_wscale = true;
		s.wscale = (uint8_t)ws;
	}
	return s;
}

/*
 * The property under test is byte identity, padding included: the caller
 * may hash or copy the whole struct. Through void pointers, because a
 * member-wise comparison would not see a stray write to padding.
 */
static bool same_bytes(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n) == 0;
}

/*
 * Track @s and check the verdict and the state after it; a rejected
 * segment must leave every byte of @t as it was. Reports the caller's line.
 */
#define TRACK(t, dir, s, v, st)                                                \
	track_check((t), (dir), (s), (v), (st), __LINE__)

static void track_check(struct ct_tcp *t, enum ct_dir dir, struct ct_tcp_seg s,
			enum ct_tcp_verdict want, enum ct_tcp_state want_state,
			int line)
{
	struct ct_tcp before;
	enum ct_tcp_verdict v;

	memcpy(&before, t, sizeof(before));
	v = ct_tcp_track(t, dir, &s);
	if (v != want || t->state != want_state ||
	    (v != CT_TCP_OK && !same_bytes(&before, t, sizeof(before)))) {
		print_message(
			"line %d: verdict %d (want %d), %s -> %s (want %s)%s\n",
			line, v, want, ct_tcp_state_name(before.state),
			ct_tcp_state_name(t->state),
			ct_tcp_state_name(want_state),
			v != CT_TCP_OK ? ", rejected but changed?" : "");
		fail();
	}
}

/*
 * TRK(&t, ORIG, "FA", seq, ack, len, win, OK, FIN_WAIT) tracks a segment
 * whose flags are spelled by letter (F S R P A U E C, see fl()) and checks
 * the verdict and state; TRK_SYN() does the same for a SYN or SYN-ACK
 * with options, window scale @ws.
 */
#define TRK(t, d, f, seq, ack, len, win, v, st)                                \
	track_check((t), CT_DIR_##d, mkseg(fl(f), (seq), (ack), (len), (win)), \
		    CT_TCP_##v, CT_TCP_##st, __LINE__)
#define TRK_SYN(t, d, f, seq, ack, ws, v, st)                                  \
	track_check((t), CT_DIR_##d, mkseg_syn(fl(f), (seq), (ack), (ws)),     \
		    CT_TCP_##v, CT_TCP_##st, __LINE__)

/* One side's end, largest window and window scale. */
static void peer_check(const struct ct_tcp_peer *p, uint32_t end,
		       uint32_t maxwin, uint8_t wscale)
{
	assert_int_equal(p->end, end);
	assert_int_equal(p->maxwin, maxwin);
	assert_int_equal(p->wscale, wscale);
}

/* A new connection from ORIG's SYN (window scale @ws): SYN_SENT. */
static void syn_sent(struct ct_tcp *t, uint32_t isn, int ws)
{
	struct ct_tcp_seg s = mkseg_syn(TCP_SYN, isn, 0, ws);

	memset(t, 0, sizeof(*t));
	assert_int_equal(ct_tcp_new(t, &s), CT_TCP_OK);
	assert_int_equal(t->state, CT_TCP_SYN_SENT);
}

/* ORIG's SYN (window scale @ws_o) and REPLY's SYN-ACK: SYN_RECV. */
static void syn_recv(struct ct_tcp *t, uint32_t isn_o, uint32_t isn_r, int ws_o,
		     int ws_r)
{
	syn_sent(t, isn_o, ws_o);
	TRK_SYN(t, REPLY, "SA", isn_r, isn_o + 1, ws_r, OK, SYN_RECV);
}

/* A full three-way handshake; the final ACK advertises WIN_ACK. */
static void establish(struct ct_tcp *t, uint32_t isn_o, uint32_t isn_r,
		      int ws_o, int ws_r)
{
	syn_recv(t, isn_o, isn_r, ws_o, ws_r);
	TRK(t, ORIG, "A", isn_o + 1, isn_r + 1, 0, WIN_ACK, OK, ESTABLISHED);
}

static void tcp_three_way_handshake(void **state)
{
	struct ct_tcp_seg s = mkseg_syn(TCP_SYN, 1000, 0, 7);
	struct ct_tcp t;

	(void)state;
	memset(&t, 0xa5, sizeof(t)); /* ct_tcp_new() must set everything */
	assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_OK);
	assert_int_equal(t.state, CT_TCP_SYN_SENT);
	peer_check(&t.peer[CT_DIR_ORIG], 1001, WIN_SYN, 7);
	assert_int_equal(t.peer[CT_DIR_ORIG].flags,
			 CT_TCP_PF_SEEN | CT_TCP_PF_WSCALE |
				 CT_TCP_PF_SACK_PERM);
	assert_int_equal(t.peer[CT_DIR_REPLY].flags, 0);
	assert_int_equal(t.peer[CT_DIR_REPLY].end, 0);

	/* A SYN with data (Fast Open) ends after its payload. */
	s.len = 10;
	assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_OK);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 1011);
	s.len = 0;
	assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_OK);

	TRK_SYN(&t, REPLY, "SA", 5000, 1001, 3, OK, SYN_RECV);
	peer_check(&t.peer[CT_DIR_REPLY], 5001, WIN_SYN, 3);
	assert_int_equal(t.peer[CT_DIR_REPLY].flags,
			 CT_TCP_PF_SEEN | CT_TCP_PF_SACK_PERM |
				 CT_TCP_PF_WSCALE | CT_TCP_PF_SYNACK);
	assert_int_equal(t.peer[CT_DIR_ORIG].wscale, 7);

	/* The final ACK is the first scaled segment. */
	TRK(&t, ORIG, "A", 1001, 5001, 0, WIN_ACK, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_ORIG].maxwin, WIN_ACK << 7);

	TRK(&t, ORIG, "AP", 1001, 5001, 100, 10, OK, ESTABLISHED);
	peer_check(&t.peer[CT_DIR_ORIG], 1101, WIN_ACK << 7, 7);
	TRK(&t, REPLY, "A", 5001, 1101, 0, 2, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, WIN_SYN); /* 2 << 3 */
}

/* Only the side the SYN-ACK went to completes the handshake, by acking it. */
static void tcp_syn_recv_final_ack(void **state)
{
	struct ct_tcp t, saved;

	(void)state;
	syn_recv(&t, 100, 900, NO_WS, NO_WS);
	memcpy(&saved, &t, sizeof(t));
	/* The SYN-ACK's sender may send data (Fast Open): not a final ACK. */
	TRK(&t, REPLY, "A", 901, 101, 50, 100, OK, SYN_RECV);
	TRK(&t, ORIG, "A", 101, 900, 0, 100, UNEXPECTED, SYN_RECV);
	TRK(&t, ORIG, "A", 101, 952, 0, 100, UNEXPECTED, SYN_RECV);
	TRK_SYN(&t, REPLY, "SA", 900, 101, NO_WS, OK, SYN_RECV);
	TRK_SYN(&t, REPLY, "SA", 900, 102, NO_WS, BAD_SYNACK, SYN_RECV);
	/* Acking the SYN only, not the data after it, is enough. */
	TRK(&t, ORIG, "A", 101, 901, 0, 100, OK, ESTABLISHED);

	/* Final ACK lost: ORIG's first FIN completes the handshake. */
	memcpy(&t, &saved, sizeof(t));
	TRK(&t, ORIG, "FA", 101, 901, 0, 100, OK, FIN_WAIT);
	assert_int_equal(t.peer[CT_DIR_ORIG].fin_seq, 101);

	/* A stateless responder (SYN cookies) re-answers with a new ISN. */
	memcpy(&t, &saved, sizeof(t));
	TRK_SYN(&t, REPLY, "SA", 7000, 101, NO_WS, OK, SYN_RECV);
	assert_int_equal(t.peer[CT_DIR_REPLY].end, 7001);
	TRK(&t, ORIG, "A", 101, 901, 0, 100, UNEXPECTED, SYN_RECV);
	TRK(&t, ORIG, "A", 101, 7001, 0, 100, OK, ESTABLISHED);
}

/* RFC 5382 REQ-2: a NAT must support simultaneous open. */
static void tcp_simultaneous_open(void **state)
{
	struct ct_tcp t, sent2;

	(void)state;
	syn_sent(&t, 100, 2);
	TRK_SYN(&t, REPLY, "S", 800, 0, 5, OK, SYN_SENT2);
	assert_int_equal(t.peer[CT_DIR_REPLY].end, 801);
	memcpy(&sent2, &t, sizeof(t));
	/* Retransmitted SYNs are fine; nothing can be acked yet. */
	TRK_SYN(&t, ORIG, "S", 100, 0, 2, OK, SYN_SENT2);
	TRK_SYN(&t, REPLY, "S", 800, 0, 5, OK, SYN_SENT2);
	TRK_SYN(&t, ORIG, "S", 150, 0, 2, UNEXPECTED, SYN_SENT2);
	TRK(&t, ORIG, "A", 101, 801, 0, 100, UNEXPECTED, SYN_SENT2);
	TRK_SYN(&t, REPLY, "SA", 800, 100, 5, BAD_SYNACK, SYN_SENT2);

	/* RFC 9293 figure 8: two SYN-ACKs and both ends are established. */
	TRK_SYN(&t, REPLY, "SA", 800, 101, 5, OK, SYN_RECV);
	assert_int_equal(t.peer[CT_DIR_ORIG].wscale, 2);
	assert_int_equal(t.peer[CT_DIR_REPLY].wscale, 5);
	TRK_SYN(&t, REPLY, "SA", 800, 101, 5, OK, SYN_RECV);
	TRK_SYN(&t, ORIG, "SA", 100, 800, 2, BAD_SYNACK, SYN_RECV);
	TRK_SYN(&t, ORIG, "SA", 100, 801, 2, OK, ESTABLISHED);
	TRK(&t, ORIG, "A", 101, 801, 0, WIN_ACK, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_ORIG].maxwin, WIN_ACK << 2);

	/* ORIG's SYN-ACK first, then REPLY completes with a plain ACK. */
	memcpy(&t, &sent2, sizeof(t));
	TRK_SYN(&t, ORIG, "SA", 100, 801, 2, OK, SYN_RECV);
	TRK(&t, ORIG, "A", 101, 801, 0, 10, OK, SYN_RECV);
	TRK(&t, REPLY, "A", 801, 101, 0, 10, OK, ESTABLISHED);
}

static void tcp_syn_retransmit(void **state)
{
	struct ct_tcp t, first;

	(void)state;
	syn_sent(&t, 1000, NO_WS);
	memcpy(&first, &t, sizeof(t));
	TRK_SYN(&t, ORIG, "S", 1000, 0, NO_WS, OK, SYN_SENT);
	assert_memory_equal(&t, &first, sizeof(t));
	/* A new attempt with another ISN replaces the old one. */
	TRK_SYN(&t, ORIG, "S", 3000, 0, NO_WS, OK, SYN_SENT);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 3001);
	TRK_SYN(&t, REPLY, "SA", 9, 1001, NO_WS, BAD_SYNACK, SYN_SENT);
	TRK_SYN(&t, REPLY, "SA", 9, 3001, NO_WS, OK, SYN_RECV);
	/* The SYN-ACK may have been lost: the same SYN again is forwarded. */
	TRK_SYN(&t, ORIG, "S", 3000, 0, NO_WS, OK, SYN_RECV);
	TRK_SYN(&t, ORIG, "S", 3001, 0, NO_WS, UNEXPECTED, SYN_RECV);
	TRK(&t, ORIG, "A", 3001, 10, 0, WIN_ACK, OK, ESTABLISHED);
	/* A late duplicate once established, and a SYN that is not one. */
	TRK_SYN(&t, ORIG, "S", 3000, 0, NO_WS, OK, ESTABLISHED);
	TRK_SYN(&t, ORIG, "S", 2999, 0, NO_WS, UNEXPECTED, ESTABLISHED);
	TRK_SYN(&t, ORIG, "SA", 3000, 10, NO_WS, UNEXPECTED, ESTABLISHED);
}

static void tcp_synack_bad_ack(void **state)
{
	static const uint32_t bad_acks[] = {0, 1000, 1002, 2000, 0x80000000u};
	struct ct_tcp t;
	unsigned int i;

	(void)state;
	syn_sent(&t, 1000, NO_WS);
	for (i = 0; i < ARRAY_SIZE(bad_acks); i++)
		TRK_SYN(&t, REPLY, "SA", 50, bad_acks[i], NO_WS, BAD_SYNACK,
			SYN_SENT);
	/* The ack number does not count without the ACK flag. */
	TRK_SYN(&t, ORIG, "SA", 50, 1001, NO_WS, UNEXPECTED, SYN_SENT);
	TRK_SYN(&t, REPLY, "SA", 50, 1001, NO_WS, OK, SYN_RECV);
}

static void tcp_not_syn_first(void **state)
{
	static const uint8_t not_syn[] = {
		TCP_ACK,	   TCP_SYN | TCP_ACK, TCP_RST,
		TCP_RST | TCP_ACK, TCP_FIN | TCP_ACK, TCP_ACK | TCP_PSH,
	};
	struct ct_tcp_seg s;
	struct ct_tcp t;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(not_syn); i++) {
		s = mkseg(not_syn[i], 1, 2, 0, 100);
		assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_NOT_SYN);
	}
	s = mkseg(TCP_SYN | TCP_ECE | TCP_CWR, 1, 0, 0, 100);
	assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_OK);
	assert_int_equal(t.state, CT_TCP_SYN_SENT);
}

/* ct_tcp_track() on a zeroed (NONE) tracker acts as ct_tcp_new() for ORIG. */
static void tcp_track_from_none(void **state)
{
	struct ct_tcp t;

	(void)state;
	memset(&t, 0, sizeof(t));
	TRK_SYN(&t, REPLY, "S", 1, 0, NO_WS, UNEXPECTED, NONE);
	TRK(&t, ORIG, "A", 1, 0, 0, 1, NOT_SYN, NONE);
	TRK_SYN(&t, ORIG, "S", 1, 0, NO_WS, OK, SYN_SENT);
	t.state = CT_TCP__MAX;
	TRK_SYN(&t, ORIG, "S", 1, 0, NO_WS, UNEXPECTED, _MAX);
}

static void tcp_bad_flag_combos(void **state)
{
	/* Every kind of invalid combination, and valid ones with extras. */
	static const char *const bad[] = {
		"",   "F",   "P",  "PUEC", "FP",   "SF",       "SFA",
		"SR", "SRA", "FR", "FRA",  "SFRA", "FSRPAUEC",
	};
	static const char *const good[] = {
		"S", "SA", "R", "RA", "A", "FA", "APU", "SEC", "FAPU",
	};
	struct ct_tcp conns[4], t;
	struct ct_tcp_seg s;
	unsigned int i, c, n_valid = 0;

	(void)state;
	/* Exactly SYN, SYN|ACK, RST, RST|ACK, ACK, FIN|ACK, whatever else. */
	for (i = 0; i < 256; i++)
		n_valid += ct_tcp_flags_valid((uint8_t)i);
	assert_int_equal(n_valid, 6 * 16);
	for (i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(ct_tcp_flags_valid(fl(good[i])));

	syn_sent(&conns[0], 10, NO_WS);
	syn_recv(&conns[1], 10, 20, NO_WS, NO_WS);
	establish(&conns[2], 10, 20, NO_WS, NO_WS);
	memcpy(&conns[3], &conns[2], sizeof(t));
	TRK(&conns[3], ORIG, "FA", 11, 21, 0, 9, OK, FIN_WAIT);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(ct_tcp_flags_valid(fl(bad[i])));
		/* Sequence numbers that would otherwise be accepted. */
		s = mkseg(fl(bad[i]), 10, 0, 0, 100);
		assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_BAD_FLAGS);
		for (c = 0; c < ARRAY_SIZE(conns); c++) {
			memcpy(&t, &conns[c], sizeof(t));
			TRACK(&t, CT_DIR_ORIG, mkseg(fl(bad[i]), 11, 21, 0, 9),
			      CT_TCP_BAD_FLAGS, conns[c].state);
			TRACK(&t, CT_DIR_REPLY, mkseg(fl(bad[i]), 21, 11, 0, 9),
			      CT_TCP_BAD_FLAGS, conns[c].state);
		}
	}
}

static void tcp_fin_close_orig_first(void **state)
{
	struct ct_tcp t;

	(void)state;
	establish(&t, 100, 500, NO_WS, NO_WS);
	TRK(&t, ORIG, "FA", 101, 501, 20, 9, OK, FIN_WAIT);
	assert_true(t.peer[CT_DIR_ORIG].flags & CT_TCP_PF_FIN);
	assert_int_equal(t.peer[CT_DIR_ORIG].fin_seq, 121);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 122);
	/* Acking the data but not the FIN changes nothing. */
	TRK(&t, REPLY, "A", 501, 121, 0, 9, OK, FIN_WAIT);
	TRK(&t, ORIG, "FA", 121, 501, 0, 9, OK, FIN_WAIT); /* again */
	TRK(&t, REPLY, "A", 501, 122, 0, 9, OK, CLOSE_WAIT);
	assert_true(t.peer[CT_DIR_ORIG].flags & CT_TCP_PF_FIN_ACKED);
	/* The half-open side still sends; then it closes too. */
	TRK(&t, REPLY, "A", 501, 122, 300, 9, OK, CLOSE_WAIT);
	TRK(&t, ORIG, "A", 122, 801, 0, 9, OK, CLOSE_WAIT);
	TRK(&t, REPLY, "FA", 801, 122, 0, 9, OK, LAST_ACK);
	TRK(&t, ORIG, "A", 122, 801, 0, 9, OK, LAST_ACK);
	TRK(&t, ORIG, "A", 122, 802, 0, 9, OK, TIME_WAIT);
}

static void tcp_fin_close_reply_first(void **state)
{
	struct ct_tcp t;

	(void)state;
	establish(&t, 100, 500, NO_WS, NO_WS);
	TRK(&t, REPLY, "FA", 501, 101, 0, 9, OK, FIN_WAIT);
	assert_int_equal(t.peer[CT_DIR_REPLY].fin_seq, 501);
	assert_false(t.peer[CT_DIR_ORIG].flags & CT_TCP_PF_FIN);
	/* The usual way: the second FIN acknowledges the first. */
	TRK(&t, ORIG, "FA", 101, 502, 0, 9, OK, LAST_ACK);
	assert_true(t.peer[CT_DIR_REPLY].flags & CT_TCP_PF_FIN_ACKED);
	TRK(&t, REPLY, "A", 502, 102, 0, 9, OK, TIME_WAIT);
	/* Late retransmissions are forwarded, nothing moves back. */
	TRK(&t, ORIG, "FA", 101, 502, 0, 9, OK, TIME_WAIT);
}

static void tcp_simultaneous_close(void **state)
{
	struct ct_tcp t;

	(void)state;
	establish(&t, 100, 500, NO_WS, NO_WS);
	/* The FINs cross: neither acknowledges the other. */
	TRK(&t, ORIG, "FA", 101, 501, 0, 9, OK, FIN_WAIT);
	TRK(&t, REPLY, "FA", 501, 101, 0, 9, OK, LAST_ACK);
	TRK(&t, ORIG, "A", 102, 502, 0, 9, OK, LAST_ACK);
	TRK(&t, REPLY, "A", 502, 102, 0, 9, OK, TIME_WAIT);
}

static void tcp_time_wait_reopen(void **state)
{
	struct ct_tcp_seg syn = mkseg_syn(TCP_SYN, 90000, 0, 4);
	struct ct_tcp t, fresh, tw;

	(void)state;
	establish(&t, 100, 500, 1, 1);
	TRK(&t, ORIG, "FA", 101, 501, 0, 9, OK, FIN_WAIT);
	TRK(&t, REPLY, "FA", 501, 102, 0, 9, OK, LAST_ACK);
	TRK(&t, ORIG, "A", 102, 502, 0, 9, OK, TIME_WAIT);
	TRK(&t, ORIG, "A", 102, 502, 0, 9, OK, TIME_WAIT);
	TRK_SYN(&t, REPLY, "S", 7, 0, NO_WS, UNEXPECTED, TIME_WAIT);
	TRK_SYN(&t, REPLY, "SA", 7, 90001, NO_WS, UNEXPECTED, TIME_WAIT);
	memcpy(&tw, &t, sizeof(t));

	/* The reopened state is exactly what ct_tcp_new() makes. */
	memset(&fresh, 0, sizeof(fresh));
	assert_int_equal(ct_tcp_new(&fresh, &syn), CT_TCP_OK);
	TRACK(&t, CT_DIR_ORIG, syn, CT_TCP_OK, CT_TCP_SYN_SENT);
	assert_memory_equal(&t, &fresh, sizeof(t));
	TRK_SYN(&t, REPLY, "SA", 7, 90001, NO_WS, OK, SYN_RECV);
	TRK(&t, ORIG, "A", 90001, 8, 0, 9, OK, ESTABLISHED);

	/* From CLOSE too. */
	memcpy(&t, &tw, sizeof(t));
	TRK(&t, REPLY, "R", 502, 0, 0, 0, OK, CLOSE);
	TRK(&t, ORIG, "A", 102, 502, 0, 9, OK, CLOSE);
	TRK_SYN(&t, REPLY, "S", 7, 0, NO_WS, UNEXPECTED, CLOSE);
	TRACK(&t, CT_DIR_ORIG, syn, CT_TCP_OK, CT_TCP_SYN_SENT);
	assert_memory_equal(&t, &fresh, sizeof(t));
}

/*
 * RSTs at each of @offs from the sender's end, both ways, in ESTABLISHED,
 * FIN_WAIT, TIME_WAIT and CLOSE; every receiver advertised WIN_ACK.
 */
static void rst_sweep(const int32_t *offs, size_t n, bool in_window)
{
	struct ct_tcp c[4], t;
	struct ct_tcp_seg s;
	size_t i, k, d;

	establish(&c[0], 100, 500, NO_WS, NO_WS);
	TRK(&c[0], REPLY, "A", 501, 101, 0, WIN_ACK, OK, ESTABLISHED);
	memcpy(&c[1], &c[0], sizeof(t));
	TRK(&c[1], REPLY, "FA", 501, 101, 0, 9, OK, FIN_WAIT);
	memcpy(&c[2], &c[1], sizeof(t));
	TRK(&c[2], ORIG, "FA", 101, 502, 0, 9, OK, LAST_ACK);
	TRK(&c[2], REPLY, "A", 502, 102, 0, 9, OK, TIME_WAIT);
	memcpy(&c[3], &c[0], sizeof(t));
	TRK(&c[3], ORIG, "R", 101, 0, 0, 0, OK, CLOSE);

	for (k = 0; k < ARRAY_SIZE(c); k++) {
		for (i = 0; i < n * 2; i++) {
			d = i & 1;
			memcpy(&t, &c[k], sizeof(t));
			s = mkseg(d ? TCP_RST | TCP_ACK : TCP_RST,
				  t.peer[d].end + (uint32_t)offs[i / 2], 0, 0,
				  0);
			track_check(&t, (enum ct_dir)d, s,
				    in_window ? CT_TCP_OK : CT_TCP_OOW,
				    in_window ? CT_TCP_CLOSE : c[k].state,
				    __LINE__);
		}
	}
}

static void tcp_rst_in_window(void **state)
{
	static const int32_t offs[] = {0, 1, -1, WIN_ACK, -WIN_ACK, 300};
	struct ct_tcp t, sr;

	(void)state;
	rst_sweep(offs, ARRAY_SIZE(offs), true);
	/* SYN_RECV: the receiver's window is what its SYN advertised. */
	syn_recv(&sr, 100, 500, NO_WS, NO_WS);
	memcpy(&t, &sr, sizeof(t));
	TRK(&t, ORIG, "R", 101 + WIN_SYN, 0, 0, 0, OK, CLOSE);
	memcpy(&t, &sr, sizeof(t));
	TRK(&t, REPLY, "R", 501 - WIN_SYN, 0, 0, 0, OK, CLOSE);
}

/* The issue's rst_out_of_window rule: blind RSTs change nothing. */
static void tcp_rst_out_of_window(void **state)
{
	static const int32_t offs[] = {
		WIN_ACK + 1, -WIN_ACK - 1, 100000,
		-100000,     INT32_MIN,	   INT32_MAX,
	};
	struct ct_tcp t;

	(void)state;
	rst_sweep(offs, ARRAY_SIZE(offs), false);
	syn_recv(&t, 100, 500, NO_WS, NO_WS);
	TRK(&t, ORIG, "R", 101 + WIN_SYN + 1, 0, 0, 0, OOW, SYN_RECV);
	TRK(&t, REPLY, "R", 501 - WIN_SYN - 1, 0, 0, 0, OOW, SYN_RECV);
}

static void tcp_rst_in_syn_sent(void **state)
{
	struct ct_tcp t, ss;
	uint32_t i;

	(void)state;
	syn_sent(&ss, 1000, NO_WS);
	memcpy(&t, &ss, sizeof(t));
	/* RFC 9293 3.10.7.3: only a RST whose ACK acks the SYN counts. */
	TRK(&t, REPLY, "R", 0, 1001, 0, 0, OOW, SYN_SENT);
	TRK(&t, REPLY, "RA", 0, 1000, 0, 0, OOW, SYN_SENT);
	TRK(&t, REPLY, "RA", 0, 1002, 0, 0, OOW, SYN_SENT);
	TRK(&t, REPLY, "RA", 0, 1001, 0, 0, OK, CLOSE);
	/*
	 * The originator aborting its own SYN: REPLY advertised nothing yet,
	 * so the window around ORIG's end is the minimum, +-1.
	 */
	memcpy(&t, &ss, sizeof(t));
	TRK(&t, ORIG, "R", 1003, 0, 0, 0, OOW, SYN_SENT);
	TRK(&t, ORIG, "R", 999, 0, 0, 0, OOW, SYN_SENT);
	for (i = 1000; i <= 1002; i++) {
		memcpy(&t, &ss, sizeof(t));
		TRK(&t, ORIG, "R", i, 0, 0, 0, OK, CLOSE);
	}
	/* Nothing else from REPLY before its SYN. */
	memcpy(&t, &ss, sizeof(t));
	TRK(&t, REPLY, "A", 0, 1001, 0, 9, UNEXPECTED, SYN_SENT);
	TRK(&t, REPLY, "FA", 0, 1001, 0, 9, UNEXPECTED, SYN_SENT);
	TRK(&t, ORIG, "A", 1001, 0, 0, 9, UNEXPECTED, SYN_SENT);
}

static void tcp_window_scale_applied_after_handshake(void **state)
{
	const uint32_t scaled = WIN_ACK << 7;
	struct ct_tcp_seg s;
	struct ct_tcp t;

	(void)state;
	/* Both SYNs offered scaling: REPLY's window counts << 7. */
	syn_recv(&t, 100, 500, 7, 7);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, WIN_SYN); /* unscaled */
	TRK(&t, ORIG, "A", 101, 501, 0, 1, OK, ESTABLISHED);
	TRK(&t, REPLY, "A", 501, 101, 0, WIN_ACK, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, scaled);
	TRK(&t, ORIG, "R", 101 + scaled + 1, 0, 0, 0, OOW, ESTABLISHED);
	TRK(&t, ORIG, "R", 101 + scaled, 0, 0, 0, OK, CLOSE);

	/* The SYN-ACK came without the option: nobody scales. */
	syn_recv(&t, 100, 500, 7, NO_WS);
	assert_int_equal(t.peer[CT_DIR_ORIG].wscale, 0);
	assert_int_equal(t.peer[CT_DIR_REPLY].wscale, 0);
	TRK(&t, ORIG, "A", 101, 501, 0, 1, OK, ESTABLISHED);
	TRK(&t, REPLY, "A", 501, 101, 0, WIN_ACK, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, WIN_ACK);
	TRK(&t, ORIG, "R", 101 + scaled, 0, 0, 0, OOW, ESTABLISHED);
	TRK(&t, ORIG, "R", 101 + WIN_ACK, 0, 0, 0, OK, CLOSE);

	/* Only ORIG's SYN lacked it: the same, from the other side. */
	syn_recv(&t, 100, 500, NO_WS, 7);
	assert_int_equal(t.peer[CT_DIR_REPLY].wscale, 0);

	/* A retransmitted SYN-ACK's window is not scaled either. */
	syn_recv(&t, 100, 500, 7, 7);
	s = mkseg_syn(TCP_SYN | TCP_ACK, 500, 101, 7);
	s.win = WIN_ACK;
	TRACK(&t, CT_DIR_REPLY, s, CT_TCP_OK, CT_TCP_SYN_RECV);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, WIN_ACK);

	/* Before the SYN-ACK the offer is not in effect: no scaling ... */
	syn_sent(&t, 100, 7);
	TRK(&t, ORIG, "RA", 101, 0, 0, WIN_ACK, OK, CLOSE);
	assert_int_equal(t.peer[CT_DIR_ORIG].maxwin, WIN_ACK);
	/* ... and refused by the peer's RST, it never will be. */
	syn_sent(&t, 100, 7);
	TRK(&t, REPLY, "RA", 0, 101, 0, 0, OK, CLOSE);
	assert_int_equal(t.peer[CT_DIR_ORIG].wscale, 0);
	TRK(&t, ORIG, "A", 101, 0, 0, WIN_ACK, OK, CLOSE);
	assert_int_equal(t.peer[CT_DIR_ORIG].maxwin, WIN_ACK);

	/* A scale above RFC 7323's 14 counts as 14. */
	s = mkseg_syn(TCP_SYN, 100, 0, 0);
	s.wscale = 200;
	assert_int_equal(ct_tcp_new(&t, &s), CT_TCP_OK);
	assert_int_equal(t.peer[CT_DIR_ORIG].wscale, TCP_WSCALE_MAX);

	/* The largest shift on the largest window stays under 2^30. */
	establish(&t, 100, 500, 14, 14);
	TRK(&t, REPLY, "A", 501, 101, 0, 0xffff, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].maxwin, 0xffffu << 14);
}

static void tcp_seq_wraparound(void **state)
{
	struct ct_tcp t;

	(void)state;
	/* ORIG's SYN is the last sequence number before the wrap. */
	establish(&t, 0xffffffffu, 0xfffffff0u, NO_WS, NO_WS);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 0);
	TRK(&t, ORIG, "A", 0, 0xfffffff1u, 100, WIN_ACK, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 100);
	TRK(&t, REPLY, "A", 0xfffffff1u, 100, 0x20, 9, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].end, 0x11);
	/* A retransmission from before the wrap must not pull end back. */
	TRK(&t, REPLY, "A", 0xfffffff1u, 100, 8, 9, OK, ESTABLISHED);
	assert_int_equal(t.peer[CT_DIR_REPLY].end, 0x11);
	/* RST window [0x11 - WIN_ACK, 0x11 + WIN_ACK] straddles the wrap. */
	TRK(&t, REPLY, "R", 0x11 - WIN_ACK - 1, 0, 0, 0, OOW, ESTABLISHED);
	TRK(&t, REPLY, "R", 0x11 + WIN_ACK + 1, 0, 0, 0, OOW, ESTABLISHED);
	TRK(&t, REPLY, "R", 0x11 - WIN_ACK, 0, 0, 0, OK, CLOSE);

	/* A FIN at 0xffffffff is acknowledged by ack 0, not by 0xffffffff. */
	establish(&t, 0xfffffffdu, 7, NO_WS, NO_WS);
	TRK(&t, ORIG, "FA", 0xfffffffeu, 8, 1, 9, OK, FIN_WAIT);
	assert_int_equal(t.peer[CT_DIR_ORIG].fin_seq, 0xffffffffu);
	assert_int_equal(t.peer[CT_DIR_ORIG].end, 0);
	TRK(&t, REPLY, "A", 8, 0xffffffffu, 0, 9, OK, FIN_WAIT);
	TRK(&t, REPLY, "A", 8, 0, 0, 9, OK, CLOSE_WAIT);

	/* The SYN-ACK's check across the wrap: ack 0 acks SYN 0xffffffff. */
	syn_recv(&t, 0xffffffffu, 0xffffffffu, NO_WS, NO_WS);
	TRK(&t, ORIG, "A", 0, 0xffffffffu, 0, 9, UNEXPECTED, SYN_RECV);
	TRK(&t, ORIG, "A", 0, 0, 0, 9, OK, ESTABLISHED);
}

static void tcp_unexpected_syn_from_reply(void **state)
{
	struct ct_tcp t;

	(void)state;
	establish(&t, 100, 500, NO_WS, NO_WS);
	TRK_SYN(&t, REPLY, "S", 500, 0, NO_WS, UNEXPECTED, ESTABLISHED);
	TRK_SYN(&t, REPLY, "SA", 500, 101, NO_WS, UNEXPECTED, ESTABLISHED);
	TRK_SYN(&t, REPLY, "S", 12345, 0, NO_WS, UNEXPECTED, ESTABLISHED);
	/* Nor while closing, from either side. */
	TRK(&t, ORIG, "FA", 101, 501, 0, 9, OK, FIN_WAIT);
	TRK_SYN(&t, REPLY, "S", 500, 0, NO_WS, UNEXPECTED, FIN_WAIT);
	TRK_SYN(&t, ORIG, "S", 100, 0, NO_WS, UNEXPECTED, FIN_WAIT);
}

static void tcp_timeout_classes(void **state)
{
	static const enum ct_timeout_class want[CT_TCP__MAX] = {
		[CT_TCP_NONE] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_SYN_SENT] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_SYN_SENT2] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_SYN_RECV] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_ESTABLISHED] = CT_TO_TCP_ESTABLISHED,
		[CT_TCP_FIN_WAIT] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_CLOSE_WAIT] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_LAST_ACK] = CT_TO_TCP_TRANSITORY,
		[CT_TCP_TIME_WAIT] = CT_TO_TCP_TIME_WAIT,
		[CT_TCP_CLOSE] = CT_TO_TCP_CLOSE,
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < CT_TCP__MAX; i++)
		assert_int_equal(ct_tcp_timeout_class((enum ct_tcp_state)i),
				 want[i]);
	assert_int_equal(ct_tcp_timeout_class(CT_TCP__MAX),
			 CT_TO_TCP_TRANSITORY);
}

static void tcp_state_names(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < CT_TCP__MAX; i++) {
		const char *a = ct_tcp_state_name((enum ct_tcp_state)i);

		assert_non_null(a);
		assert_string_not_equal(a, "INVALID");
		for (j = 0; j < i; j++)
			assert_string_not_equal(
				a, ct_tcp_state_name((enum ct_tcp_state)j));
	}
	assert_string_equal(ct_tcp_state_name(CT_TCP_ESTABLISHED),
			    "ESTABLISHED");
	assert_string_equal(ct_tcp_state_name(CT_TCP_SYN_SENT2), "SYN_SENT2");
	assert_string_equal(ct_tcp_state_name(CT_TCP__MAX), "INVALID");
	assert_string_equal(ct_tcp_state_name((enum ct_tcp_state)255),
			    "INVALID");
}

/* ---- random robustness ---- */

#define RND_SEED  0x9e3779b97f4a7c15ull
#define RND_STEPS 1000000u

static uint32_t rnd32(uint64_t *s)
{
	uint64_t x = *s; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* An ISN anywhere, or within 16 of the wrap. */
static uint32_t rnd_isn(uint64_t *r)
{
	return rnd32(r) % 4 ? rnd32(r) : 0xffffffffu - rnd32(r) % 16;
}

/* A random valid start: SYN_SENT, SYN_RECV, or established either way. */
static void rnd_handshake(struct ct_tcp *t, uint64_t *r)
{
	uint32_t io = rnd_isn(r), ir = rnd_isn(r);
	int wo = rnd32(r) % 3 ? (int)(rnd32(r) % 15) : NO_WS;
	int wr = rnd32(r) % 3 ? (int)(rnd32(r) % 15) : NO_WS;

	syn_sent(t, io, wo);
	switch (rnd32(r) % 4) {
	case 0:
		break;
	case 1:
		TRK_SYN(t, REPLY, "SA", ir, io + 1, wr, OK, SYN_RECV);
		break;
	case 2:
		TRK_SYN(t, REPLY, "SA", ir, io + 1, wr, OK, SYN_RECV);
		TRK(t, ORIG, "A", io + 1, ir + 1, 0, 9, OK, ESTABLISHED);
		break;
	default:
		TRK_SYN(t, REPLY, "S", ir, 0, wr, OK, SYN_SENT2);
		TRK_SYN(t, ORIG, "SA", io, ir + 1, wo, OK, SYN_RECV);
		TRK_SYN(t, REPLY, "SA", ir, io + 1, wr, OK, ESTABLISHED);
		break;
	}
}

/* Mostly plausible segments near what the tracker knows, some garbage. */
static void rnd_seg(uint64_t *r, const struct ct_tcp *t, enum ct_dir dir,
		    struct ct_tcp_seg *s)
{
	/* Weighted so that the walk spends time in every state. */
	static const uint8_t combos[] = {
		TCP_ACK,	   TCP_ACK,	      TCP_ACK,
		TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_FIN | TCP_ACK,
		TCP_SYN,	   TCP_SYN | TCP_ACK,
	};
	const struct ct_tcp_peer *p = &t->peer[dir], *o = &t->peer[!dir];
	uint32_t x = rnd32(r), small = rnd32(r) % 9 - 4;
	uint32_t w = o->maxwin + rnd32(r) % 3 - 1;
	uint32_t y = rnd32(r);
	/* The ISN or FIN (fin_seq), the edges of the RST window, anything. */
	const uint32_t seqs[] = {p->end,     p->end + small, p->fin_seq, y,
				 p->end + w, p->end - w,     y + 1};
	const uint32_t acks[] = {o->end, o->end + small, o->fin_seq + 1, ~y};

	memset(s, 0, sizeof(*s));
	if (x % 8 == 0)
		s->flags = (uint8_t)(x >> 16); /* anything, valid or not */
	else if (x % 64 < 3)
		s->flags = x & 64 ? TCP_RST : TCP_RST | TCP_ACK;
	else
		s->flags = combos[(x >> 3) % ARRAY_SIZE(combos)];
	s->seq = seqs[rnd32(r) % ARRAY_SIZE(seqs)];
	s->ack = acks[rnd32(r) % ARRAY_SIZE(acks)];
	s->len = rnd32(r) % 4 ? 0 : rnd32(r) % 1500;
	s->win = (uint16_t)rnd32(r);
	x = rnd32(r);
	s->has_wscale = x & 1;
	s->wscale = (uint8_t)(x >> 1); /* also above 14: tcp.c clamps */
	s->sack_perm = (x >> 8) & 1;
}

#define RND_CHECK(cond)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                 \
			print_message("seed %#llx step %lu: %s -> %s dir %d "  \
				      "flags %#x seq %#x ack %#x: %d: %s\n",   \
				      (unsigned long long)RND_SEED, step,      \
				      ct_tcp_state_name(before.state),         \
				      ct_tcp_state_name(t.state), dir,         \
				      s.flags, s.seq, s.ack, v, #cond);        \
			fail();                                                \
		}                                                              \
	} while (0)

static void tcp_random_robustness(void **state)
{
	unsigned int seen_state[CT_TCP__MAX] = {0};
	unsigned int seen_verdict[CT_TCP_VERDICT__MAX] = {0};
	uint64_t r = RND_SEED;
	struct ct_tcp t;
	unsigned long step;
	unsigned int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	rnd_handshake(&t, &r);
	for (step = 0; step < RND_STEPS; step++) {
		enum ct_dir dir = rnd32(&r) & 1 ? CT_DIR_REPLY : CT_DIR_ORIG;
		struct ct_tcp before;
		struct ct_tcp_seg s;
		enum ct_tcp_verdict v;

		if (rnd32(&r) % 100 == 0)
			rnd_handshake(&t, &r);
		rnd_seg(&r, &t, dir, &s);
		memcpy(&before, &t, sizeof(t));
		v = ct_tcp_track(&t, dir, &s);

		RND_CHECK((unsigned int)v < CT_TCP_VERDICT__MAX);
		RND_CHECK(t.state > CT_TCP_NONE && t.state < CT_TCP__MAX);
		RND_CHECK((v == CT_TCP_BAD_FLAGS) ==
			  !ct_tcp_flags_valid(s.flags));
		RND_CHECK(v == CT_TCP_OK || same_bytes(&before, &t, sizeof(t)));
		RND_CHECK(t.state != CT_TCP_CLOSE ||
			  before.state == CT_TCP_CLOSE || (s.flags & TCP_RST));
		RND_CHECK(t.state != CT_TCP_ESTABLISHED ||
			  before.state == CT_TCP_ESTABLISHED ||
			  before.state == CT_TCP_SYN_RECV);
		RND_CHECK(v != CT_TCP_OK || !(s.flags & TCP_RST) ||
			  t.state == CT_TCP_CLOSE);
		for (i = 0; i < 2; i++) {
			RND_CHECK(t.peer[i].maxwin <= 1u << 30);
			RND_CHECK(t.peer[i].wscale <= TCP_WSCALE_MAX);
		}
		seen_state[t.state]++;
		seen_verdict[v]++;
	}
	/* The walk must have reached every state and every verdict. */
	for (i = CT_TCP_SYN_SENT; i < CT_TCP__MAX; i++) {
		if (!seen_state[i])
			print_message("seed %#llx: never in %s\n",
				      (unsigned long long)RND_SEED,
				      ct_tcp_state_name((enum ct_tcp_state)i));
		assert_true(seen_state[i] > 0);
	}
	for (i = 0; i < CT_TCP_VERDICT__MAX; i++)
		assert_true(i == CT_TCP_NOT_SYN || seen_verdict[i] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_three_way_handshake),
		cmocka_unit_test(tcp_syn_recv_final_ack),
		cmocka_unit_test(tcp_simultaneous_open),
		cmocka_unit_test(tcp_syn_retransmit),
		cmocka_unit_test(tcp_synack_bad_ack),
		cmocka_unit_test(tcp_not_syn_first),
		cmocka_unit_test(tcp_track_from_none),
		cmocka_unit_test(tcp_bad_flag_combos),
		cmocka_unit_test(tcp_fin_close_orig_first),
		cmocka_unit_test(tcp_fin_close_reply_first),
		cmocka_unit_test(tcp_simultaneous_close),
		cmocka_unit_test(tcp_time_wait_reopen),
		cmocka_unit_test(tcp_rst_in_window),
		cmocka_unit_test(tcp_rst_out_of_window),
		cmocka_unit_test(tcp_rst_in_syn_sent),
		cmocka_unit_test(tcp_window_scale_applied_after_handshake),
		cmocka_unit_test(tcp_seq_wraparound),
		cmocka_unit_test(tcp_unexpected_syn_from_reply),
		cmocka_unit_test(tcp_timeout_classes),
		cmocka_unit_test(tcp_state_names),
		cmocka_unit_test(tcp_random_robustness),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
