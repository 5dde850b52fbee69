// SPDX-License-Identifier: MIT
/*
 * test_ct_table.c - unit tests for src/ct/table (the connection table).
 *
 * Each test builds a table with a fixed SipHash key and cuckoo seed, fills
 * it with flows whose tuples are made from an index (flow(i): 10.x.y.z ->
 * 198.51.100.1, reply 198.51.100.1 -> 100.64.x.y), and checks the
 * lifecycle, lazy expiry, the timer wheel, early drop and the counters
 * against docs/conntrack.md. Time is a number advanced by hand. The
 * on_delete callback counts every removal by reason, so that a test can say
 * exactly which flows left and why. Every test ends in tt_done(): after
 * every deadline has passed the collector empties the table completely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "ct/table.h"
#include "prot/ip4.h"

#define SEC(s)	  ((uint64_t)(s) * NSEC_PER_SEC)
#define T0	  SEC(1000)
#define TICK_NS	  (1ULL << CT_TICK_SHIFT)
#define R1	  htonl(0xc6336401u)	/* 198.51.100.1 */
#define MAX_LOOPS 10000000u

static_assert(sizeof(struct ct_entry) <= 104, "a flow entry is at most 104 bytes");

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

/**
 * struct tt - a table under test.
 * @t:     the table
 * @now:   current time, ns
 * @gone:  on_delete calls per enum ct_gone
 * @last:  tuple[ORIG] of the last entry reported gone
 */
struct tt {
	struct ct_table *t;
	uint64_t now;
	unsigned int gone[3];
	struct ct_tuple last;
};

static void on_delete(void *ctx, struct ct_entry *e, enum ct_gone why)
{
	struct tt *x = ctx;

	assert_true(e->flags & CT_F_CONFIRMED);
	assert_true((unsigned int)why < ARRAY_SIZE(x->gone));
	x->gone[why]++;
	x->last = e->tuple[CT_DIR_ORIG];
}

static void tt_init(struct tt *x, uint32_t max_flows, const struct ct_timeouts *to)
{
	struct ct_config cfg = { .max_flows = max_flows, .key = &test_key,
				 .seed = 0x1234, .on_delete = on_delete, .ctx = x };

	memset(x, 0, sizeof(*x));
	if (to)
		cfg.timeouts = *to;
	else
		ct_timeouts_default(&cfg.timeouts);
	assert_int_equal(ct_create(&x->t, &cfg), 0);
	x->now = T0;
}

static const struct ct_stats *st(const struct tt *x)
{
	return ct_get_stats(x->t);
}

/* Collect until nothing elapsed is left; returns the entries expired. */
static unsigned int expire_all(struct tt *x, unsigned int budget)
{
	unsigned int n = 0, loops = 0;

	while (ct_expire_pending(x->t, x->now)) {
		n += ct_expire(x->t, x->now, budget);
		if (++loops > MAX_LOOPS)
			fail_msg("ct_expire(budget %u) makes no progress", budget);
	}
	return n;
}

/* Let every deadline pass; the table must end empty, all entries free. */
static void tt_done(struct tt *x)
{
	const struct ct_timeouts *to = ct_get_timeouts(x->t);
	uint32_t longest = 0;

	for (unsigned int i = 0; i < CT_TO__MAX; i++)
		longest = MAX(longest, to->sec[i]);
	x->now += SEC(longest) + SEC(2);
	expire_all(x, 1u << 20);
	assert_int_equal(ct_count(x->t), 0);
	assert_int_equal(ct_in_use(x->t), 0);
	ct_destroy(x->t);
	x->t = NULL;
}

/* The tuples of flow @i: distinct for every i < 2^24. */
static struct ct_tuple flow_tuple(uint32_t i, enum ct_dir d, uint8_t proto)
{
	struct ct_tuple t = { .proto = proto };

	if (d == CT_DIR_ORIG) {
		t.saddr = htonl(0x0a000000u | i);
		t.daddr = R1;
		t.sport = htons(1000);
		t.dport = htons(53);
	} else {
		t.saddr = R1;
		t.daddr = htonl(0x64400000u | i);
		t.sport = htons(53);
		t.dport = htons(1000);
	}
	return t;
}

static struct ct_entry *lookup(struct tt *x, uint32_t i, enum ct_dir d,
			       uint8_t proto, enum ct_dir *got)
{
	struct ct_tuple t = flow_tuple(i, d, proto);

	return ct_lookup(x->t, &t, ct_tuple_hash(x->t, &t), x->now, got);
}

/* Allocate, fill and confirm flow @i with timeout class @tc. */
static struct ct_entry *add(struct tt *x, uint32_t i, uint8_t proto,
			    enum ct_timeout_class tc)
{
	struct ct_entry *e = ct_alloc(x->t, x->now);

	assert_non_null(e);
	assert_int_equal(e->owner, CT_NONE);
	assert_int_equal(e->flags, 0);
	e->tuple[CT_DIR_ORIG] = flow_tuple(i, CT_DIR_ORIG, proto);
	e->tuple[CT_DIR_REPLY] = flow_tuple(i, CT_DIR_REPLY, proto);
	assert_int_equal(ct_confirm(x->t, e, tc, x->now), 0);
	return e;
}

static uint64_t ticks_since(uint64_t then, uint64_t now)
{
	return (now >> CT_TICK_SHIFT) - (then >> CT_TICK_SHIFT);
}

/* ---- lifecycle ---- */

static void alloc_confirm_lookup(void **state __maybe_unused)
{
	struct ct_entry *e, *u;
	struct ct_tuple t;
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 64, NULL);
	e = add(&x, 1, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	assert_int_equal(ct_count(x.t), 1);
	assert_int_equal(ct_in_use(x.t), 1);
	assert_true(e->flags & CT_F_CONFIRMED);
	assert_true(e->flags & CT_F_UNREP);
	assert_int_equal(e->tclass, CT_TO_UDP_UNREPLIED);
	assert_true(e->deadline == x.now + SEC(120));
	assert_ptr_equal(ct_entry_at(x.t, ct_index(x.t, e)), e);

	assert_ptr_equal(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d), e);
	assert_int_equal(d, CT_DIR_ORIG);
	assert_ptr_equal(lookup(&x, 1, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d), e);
	assert_int_equal(d, CT_DIR_REPLY);
	assert_null(lookup(&x, 2, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	assert_null(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_TCP, &d));
	assert_int_equal(st(&x)->lookups, 4);
	assert_int_equal(st(&x)->hits, 2);
	assert_int_equal(st(&x)->inserts, 1);

	/* An unconfirmed entry is not findable, and leaves without a trace. */
	u = ct_alloc(x.t, x.now);
	assert_non_null(u);
	assert_ptr_not_equal(u, e);
	u->tuple[CT_DIR_ORIG] = flow_tuple(2, CT_DIR_ORIG, IPPROTO_NUM_UDP);
	u->tuple[CT_DIR_REPLY] = flow_tuple(2, CT_DIR_REPLY, IPPROTO_NUM_UDP);
	assert_int_equal(ct_in_use(x.t), 2);
	assert_int_equal(ct_count(x.t), 1);
	assert_null(lookup(&x, 2, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	ct_free_unconfirmed(x.t, u);
	assert_int_equal(ct_in_use(x.t), 1);
	assert_int_equal(x.gone[CT_GONE_DELETED] + x.gone[CT_GONE_EXPIRED], 0);

	/* ct_delete: both directions gone, reported once. */
	t = flow_tuple(1, CT_DIR_REPLY, IPPROTO_NUM_UDP);
	ct_delete(x.t, e);
	assert_int_equal(x.gone[CT_GONE_DELETED], 1);
	assert_int_equal(st(&x)->deletes, 1);
	assert_null(ct_find(x.t, &t, &d));
	assert_null(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	assert_int_equal(ct_count(x.t), 0);
	assert_int_equal(ct_in_use(x.t), 0);
	tt_done(&x);
}

/*
 * A flow whose two tuples are equal (a host hairpinning to its own NAT
 * mapping) is its own reply: indexed once, found as ORIG from either side,
 * removed cleanly by ct_delete() and by expiry, and its tuple clashes with
 * any other flow that wants it.
 */
static void self_flow(void **state __maybe_unused)
{
	struct ct_tuple t = flow_tuple(7, CT_DIR_ORIG, IPPROTO_NUM_UDP);
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 64, NULL);
	for (unsigned int round = 0; round < 2; round++) {
		struct ct_entry *e = ct_alloc(x.t, x.now), *b;

		assert_non_null(e);
		e->tuple[CT_DIR_ORIG] = t;
		e->tuple[CT_DIR_REPLY] = t;
		assert_true(ct_entry_is_self(e));
		assert_int_equal(ct_confirm(x.t, e, CT_TO_UDP_UNREPLIED, x.now), 0);
		assert_int_equal(ct_count(x.t), 1);
		assert_ptr_equal(ct_lookup(x.t, &t, ct_tuple_hash(x.t, &t), x.now, &d), e);
		assert_int_equal(d, CT_DIR_ORIG);
		assert_ptr_equal(ct_find(x.t, &e->tuple[CT_DIR_REPLY], &d), e);
		assert_int_equal(d, CT_DIR_ORIG);

		/* Its tuple is taken, in either place of another flow. */
		b = ct_alloc(x.t, x.now);
		assert_non_null(b);
		b->tuple[CT_DIR_ORIG] = flow_tuple(8, CT_DIR_ORIG, IPPROTO_NUM_UDP);
		b->tuple[CT_DIR_REPLY] = t;
		assert_int_equal(ct_confirm(x.t, b, CT_TO_UDP_UNREPLIED, x.now),
				 -EEXIST);
		b->tuple[CT_DIR_ORIG] = t;
		b->tuple[CT_DIR_REPLY] = t;
		assert_int_equal(ct_confirm(x.t, b, CT_TO_UDP_UNREPLIED, x.now),
				 -EEXIST);
		ct_free_unconfirmed(x.t, b);

		if (round == 0) {
			ct_delete(x.t, e);		/* the one index entry goes */
			assert_int_equal(x.gone[CT_GONE_DELETED], 1);
		} else {
			x.now += SEC(ct_get_timeouts(x.t)->sec[CT_TO_UDP_UNREPLIED]) +
				 SEC(2);
			expire_all(&x, 1u << 20);	/* and by expiry */
			assert_int_equal(x.gone[CT_GONE_EXPIRED], 1);
		}
		assert_null(ct_find(x.t, &t, &d));
		assert_int_equal(ct_count(x.t), 0);
		assert_int_equal(ct_in_use(x.t), 0);
	}
	/* Nothing of it is left in the index: ordinary flows fill the table. */
	for (uint32_t i = 0; i < 64; i++)
		add(&x, 100 + i, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	assert_int_equal(ct_count(x.t), 64);
	tt_done(&x);
}

static void confirm_clash(void **state __maybe_unused)
{
	struct ct_entry *a, *b;
	uint64_t deadline;
	enum ct_dir d;
	struct tt x;
	const struct {
		uint32_t orig, reply;	/* flow whose tuple is used, per direction */
		enum ct_dir orig_dir, reply_dir;
	} clash[] = {
		{ 1, 9, CT_DIR_ORIG, CT_DIR_REPLY },	/* same original tuple */
		{ 9, 1, CT_DIR_ORIG, CT_DIR_REPLY },	/* same reply tuple */
		{ 9, 1, CT_DIR_ORIG, CT_DIR_ORIG },	/* A's original as reply */
		{ 1, 9, CT_DIR_REPLY, CT_DIR_REPLY },	/* A's reply as original */
		{ 1, 1, CT_DIR_ORIG, CT_DIR_ORIG },	/* its own reply, taken */
	};

	tt_init(&x, 64, NULL);
	a = add(&x, 1, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	deadline = a->deadline;
	x.now += SEC(1);
	for (unsigned int i = 0; i < ARRAY_SIZE(clash); i++) {
		b = ct_alloc(x.t, x.now);
		assert_non_null(b);
		b->tuple[CT_DIR_ORIG] = flow_tuple(clash[i].orig, clash[i].orig_dir,
						   IPPROTO_NUM_UDP);
		b->tuple[CT_DIR_REPLY] = flow_tuple(clash[i].reply, clash[i].reply_dir,
						    IPPROTO_NUM_UDP);
		assert_int_equal(ct_confirm(x.t, b, CT_TO_UDP_UNREPLIED, x.now), -EEXIST);
		assert_int_equal(st(&x)->clashes, i + 1);
		ct_free_unconfirmed(x.t, b);
		/* Nothing overwritten, nothing half-inserted. */
		assert_ptr_equal(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d), a);
		assert_int_equal(d, CT_DIR_ORIG);
		assert_ptr_equal(lookup(&x, 1, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d), a);
		assert_int_equal(d, CT_DIR_REPLY);
		assert_null(lookup(&x, 9, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
		assert_null(lookup(&x, 9, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d));
		assert_true(a->deadline == deadline);
	}
	assert_int_equal(ct_count(x.t), 1);
	assert_int_equal(ct_in_use(x.t), 1);
	assert_int_equal(st(&x)->inserts, 1);

	/* An expired holder is no clash: it is removed on the way. */
	x.now = deadline;
	b = add(&x, 1, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 1);
	assert_int_equal(st(&x)->clashes, ARRAY_SIZE(clash));
	assert_ptr_equal(lookup(&x, 1, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d), b);
	assert_int_equal(ct_count(x.t), 1);
	tt_done(&x);
}

static void free_unconfirmed_reuse(void **state __maybe_unused)
{
	struct ct_entry *e[4];
	struct tt x;

	tt_init(&x, 4, NULL);
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < 4; i++) {
			e[i] = ct_alloc(x.t, x.now);
			assert_non_null(e[i]);
		}
		assert_int_equal(ct_in_use(x.t), 4);
		for (unsigned int i = 0; i < 4; i++)
			ct_free_unconfirmed(x.t, e[i]);
		assert_int_equal(ct_in_use(x.t), 0);
	}
	assert_int_equal(st(&x)->early_drops + st(&x)->table_full, 0);
	assert_int_equal(x.gone[0] + x.gone[1] + x.gone[2], 0);
	tt_done(&x);
}

/* ---- expiry ---- */

static void lazy_expiry(void **state __maybe_unused)
{
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 64, NULL);
	add(&x, 1, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	x.now = T0 + SEC(120) - 1;
	assert_non_null(lookup(&x, 1, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d));
	x.now = T0 + SEC(120);	/* the deadline itself: dead */
	assert_null(lookup(&x, 1, CT_DIR_REPLY, IPPROTO_NUM_UDP, &d));
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 1);
	assert_int_equal(st(&x)->expired[CT_P_UDP], 1);
	assert_int_equal(ct_count(x.t), 0);
	assert_int_equal(ct_in_use(x.t), 0);
	/* Both directions are gone, once. */
	assert_null(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 1);
	/* The wheel has nothing left to do with it. */
	assert_int_equal(expire_all(&x, 1000), 0);
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 1);
	tt_done(&x);
}

/*
 * 100,000 long flows and 10 short ones: collecting the short ones visits
 * the elapsed ticks and those 10 entries, never the others.
 */
static void expiry_without_scan(void **state __maybe_unused)
{
	const uint32_t n_long = 100000, n_short = 10;
	unsigned int budget;
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 131072, NULL);
	for (uint32_t i = 0; i < n_long; i++)
		add(&x, i, IPPROTO_NUM_TCP, CT_TO_TCP_ESTABLISHED);
	for (uint32_t i = 0; i < n_short; i++)
		add(&x, n_long + i, IPPROTO_NUM_ICMP, CT_TO_ICMP);
	x.now += SEC(61);
	budget = (unsigned int)ticks_since(T0, x.now) + n_short + 2;
	assert_int_equal(ct_expire(x.t, x.now, budget), n_short);
	assert_false(ct_expire_pending(x.t, x.now));
	assert_int_equal(st(&x)->expired[CT_P_ICMP], n_short);
	assert_int_equal(st(&x)->expired[CT_P_TCP], 0);
	assert_int_equal(st(&x)->wheel_refile, 0);
	assert_int_equal(x.gone[CT_GONE_EXPIRED], n_short);
	assert_int_equal(ct_count(x.t), n_long);
	assert_non_null(lookup(&x, 0, CT_DIR_REPLY, IPPROTO_NUM_TCP, &d));
	/* And the long ones go at their time, each visited once. */
	x.now = T0 + SEC(7440) + TICK_NS;
	assert_int_equal(expire_all(&x, 1u << 20), n_long);
	assert_int_equal(st(&x)->wheel_refile, 0);
	assert_int_equal(ct_count(x.t), 0);
	tt_done(&x);
}

/* A state change to a shorter timeout re-files the entry at once. */
static void refresh_shorter(void **state __maybe_unused)
{
	static const struct {
		enum ct_timeout_class to;
		uint32_t sec;
	} cases[] = { { CT_TO_TCP_TIME_WAIT, 120 }, { CT_TO_TCP_CLOSE, 10 } };
	struct tt x;

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ct_entry *e;
		unsigned int budget;

		tt_init(&x, 64, NULL);
		add(&x, 1, IPPROTO_NUM_TCP, CT_TO_TCP_ESTABLISHED);	/* control */
		e = add(&x, 2, IPPROTO_NUM_TCP, CT_TO_TCP_ESTABLISHED);
		x.now += SEC(10);
		ct_refresh(x.t, e, cases[i].to, x.now);
		assert_true(e->deadline == x.now + SEC(cases[i].sec));
		assert_int_equal(e->tclass, cases[i].to);
		x.now += SEC(cases[i].sec) + TICK_NS;
		/* No lookup: only the wheel can find it. */
		budget = (unsigned int)ticks_since(T0, x.now) + 1 + 2;
		assert_int_equal(ct_expire(x.t, x.now, budget), 1);
		assert_false(ct_expire_pending(x.t, x.now));
		assert_int_equal(x.last.saddr, flow_tuple(2, CT_DIR_ORIG, 0).saddr);
		assert_int_equal(ct_count(x.t), 1);
		assert_int_equal(st(&x)->wheel_refile, 0);
		tt_done(&x);
	}
}

/* A later deadline is honoured by re-filing, not by expiring. */
static void refresh_later_refiled(void **state __maybe_unused)
{
	struct ct_entry *e;
	uint64_t deadline;
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 64, NULL);
	e = add(&x, 1, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);	/* T0 + 120 */
	x.now += SEC(100);
	ct_mark_replied(x.t, e);
	ct_refresh(x.t, e, CT_TO_UDP_ASSURED, x.now);		/* T0 + 400 */
	x.now = T0 + SEC(150);
	assert_int_equal(expire_all(&x, 1000), 0);
	assert_int_equal(st(&x)->wheel_refile, 1);
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 0);
	x.now = T0 + SEC(399);
	assert_int_equal(expire_all(&x, 1000), 0);
	assert_ptr_equal(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d), e);
	x.now = T0 + SEC(400) + TICK_NS;
	assert_int_equal(expire_all(&x, 1000), 1);
	assert_int_equal(st(&x)->wheel_refile, 1);
	assert_int_equal(st(&x)->expired[CT_P_UDP], 1);

	/* Moved one second on, into the next tick: still there in it. */
	e = add(&x, 2, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	deadline = e->deadline;
	x.now += SEC(1);
	ct_refresh(x.t, e, CT_TO_UDP_UNREPLIED, x.now);
	assert_true(deadline >> CT_TICK_SHIFT < e->deadline >> CT_TICK_SHIFT);
	x.now = e->deadline >> CT_TICK_SHIFT << CT_TICK_SHIFT;	/* its tick */
	assert_int_equal(expire_all(&x, 1000), 0);
	assert_int_equal(st(&x)->wheel_refile, 2);
	x.now = e->deadline;
	assert_null(lookup(&x, 2, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	tt_done(&x);
}

/* Budget 1 per call still gets through, and pending says when done. */
static void expire_budget_one(void **state __maybe_unused)
{
	const unsigned int n = 50;
	unsigned int total = 0, calls = 0, bound;
	struct tt x;

	tt_init(&x, 64, NULL);
	for (unsigned int i = 0; i < n; i++) {
		add(&x, i, IPPROTO_NUM_ICMP, CT_TO_ICMP);
		x.now += SEC(1) / 2;
	}
	x.now = T0 + SEC(200);
	bound = (unsigned int)ticks_since(T0, x.now) + 2 * n + 10;
	while (ct_expire_pending(x.t, x.now) && calls < bound) {
		unsigned int got = ct_expire(x.t, x.now, 1);

		assert_true(got <= 1);
		total += got;
		calls++;
	}
	if (total != n || ct_expire_pending(x.t, x.now)) {
		bool pending = ct_expire_pending(x.t, x.now);

		ct_destroy(x.t);	/* no leak report on top of the failure */
		fail_msg("budget 1: %u of %u expired after %u calls, pending %d",
			 total, n, calls, pending);
	}
	assert_int_equal(ct_count(x.t), 0);
	tt_done(&x);
}

/* After everything expired, the whole capacity is available again. */
static void reuse_after_expiry(void **state __maybe_unused)
{
	const uint32_t cap = 256;
	struct tt x;

	tt_init(&x, cap, NULL);
	for (unsigned int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < cap; i++)
			add(&x, round * cap + i, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
		assert_int_equal(ct_count(x.t), cap);
		x.now += SEC(121);
		assert_int_equal(expire_all(&x, 1000), cap);
		assert_int_equal(ct_count(x.t), 0);
		assert_int_equal(ct_in_use(x.t), 0);
	}
	assert_int_equal(st(&x)->early_drops, 0);
	assert_int_equal(st(&x)->table_full, 0);
	assert_int_equal(st(&x)->expired[CT_P_UDP], 3 * cap);
	tt_done(&x);
}

/* ---- early drop ---- */

static void early_drop_oldest_unreplied(void **state __maybe_unused)
{
	struct ct_entry *e[6];
	enum ct_dir d;
	struct tt x;

	tt_init(&x, 4, NULL);
	for (uint32_t i = 0; i < 4; i++) {
		e[i] = add(&x, i, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
		x.now += SEC(1);
	}
	ct_mark_replied(x.t, e[0]);
	assert_true(e[0]->flags & CT_F_REPLIED);
	assert_false(e[0]->flags & CT_F_UNREP);
	/* Full: flow 1 is the oldest unreplied one (0 has been replied). */
	e[4] = add(&x, 4, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	assert_int_equal(x.gone[CT_GONE_EARLY_DROP], 1);
	assert_int_equal(x.last.saddr, flow_tuple(1, CT_DIR_ORIG, 0).saddr);
	assert_null(lookup(&x, 1, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	/* Then flow 2, not flow 4 which took flow 1's entry. */
	e[5] = add(&x, 5, IPPROTO_NUM_UDP, CT_TO_UDP_UNREPLIED);
	assert_int_equal(x.gone[CT_GONE_EARLY_DROP], 2);
	assert_int_equal(x.last.saddr, flow_tuple(2, CT_DIR_ORIG, 0).saddr);
	assert_int_equal(st(&x)->early_drops, 2);
	/* All replied: nothing to drop, refused and counted. */
	e[2] = e[4];
	e[1] = e[5];
	for (unsigned int i = 0; i < 4; i++)
		ct_mark_replied(x.t, e[i]);
	assert_null(ct_alloc(x.t, x.now));
	assert_int_equal(st(&x)->table_full, 1);
	assert_int_equal(st(&x)->early_drops, 2);
	assert_int_equal(ct_in_use(x.t), 4);
	assert_int_equal(ct_count(x.t), 4);
	tt_done(&x);
}

/* ---- the wheel across long gaps ---- */

static void time_jump_hours(void **state __maybe_unused)
{
	static const enum ct_timeout_class tcs[] = {
		CT_TO_ICMP, CT_TO_UDP_UNREPLIED, CT_TO_TCP_TRANSITORY,
		CT_TO_TCP_ESTABLISHED,
	};
	struct ct_timeouts to;
	enum ct_dir d;
	struct tt x;

	ct_timeouts_default(&to);
	to.sec[CT_TO_TCP_ESTABLISHED] = 5 * 24 * 3600;	/* far past the horizon */
	tt_init(&x, 256, &to);
	for (uint32_t i = 0; i < 64; i++)
		add(&x, i, IPPROTO_NUM_UDP, tcs[i % ARRAY_SIZE(tcs)]);
	/* 10 h later, nothing collected meanwhile; a new short flow. */
	x.now += SEC(10 * 3600);
	assert_null(lookup(&x, 0, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));	/* lazily */
	add(&x, 100, IPPROTO_NUM_UDP, CT_TO_ICMP);
	assert_int_equal(expire_all(&x, 1000), 64 - 16 - 1);
	assert_int_equal(ct_count(x.t), 16 + 1);
	assert_non_null(lookup(&x, 3, CT_DIR_ORIG, IPPROTO_NUM_UDP, &d));
	x.now += SEC(61);
	assert_int_equal(expire_all(&x, 1000), 1);
	assert_int_equal(ct_count(x.t), 16);
	/* The 5-day flows go 5 days after they started, not before. */
	x.now = T0 + SEC(5 * 24 * 3600) - SEC(2);
	assert_int_equal(expire_all(&x, 1000), 0);
	x.now = T0 + SEC(5 * 24 * 3600) + TICK_NS;
	assert_int_equal(expire_all(&x, 1000), 16);
	assert_int_equal(ct_count(x.t), 0);
	assert_int_equal(x.gone[CT_GONE_EXPIRED], 64 + 1);
	tt_done(&x);
}

/* ---- sizing ---- */

static size_t memory_of(uint32_t max_flows)
{
	struct ct_config cfg = { .max_flows = max_flows, .key = &test_key };
	struct ct_table *t;
	size_t mem;

	ct_timeouts_default(&cfg.timeouts);
	assert_int_equal(ct_create(&t, &cfg), 0);
	assert_int_equal(ct_capacity(t), max_flows ? max_flows : CT_DEFAULT_MAX_FLOWS);
	mem = ct_memory(t);
	assert_true(mem >= (size_t)ct_capacity(t) * sizeof(struct ct_entry));
	ct_destroy(t);
	return mem;
}

static void memory_and_capacity(void **state __maybe_unused)
{
	const uint32_t n = CT_DEFAULT_MAX_FLOWS;
	struct ct_config cfg = { .max_flows = 16 };
	struct ct_table *t = NULL;
	size_t m1, m2, per_flow_x10, fixed;

	/*
	 * memory = fixed + n * per_flow. Entries are mapped in 2 MiB units;
	 * at these sizes both entry arrays are whole units, so two sizes
	 * give both terms.
	 */
	m1 = memory_of(0);
	m2 = memory_of(2 * n);
	fixed = 2 * m1 - m2;
	per_flow_x10 = (m1 - fixed) * 10 / n;
	print_message("ct: %zu.%zu bytes per flow (entry %zu + index), %zu fixed, "
		      "%zu bytes for %u flows\n", per_flow_x10 / 10, per_flow_x10 % 10,
		      sizeof(struct ct_entry), fixed, m1, n);
	assert_true(per_flow_x10 >= 10 * sizeof(struct ct_entry));
	assert_true(per_flow_x10 <= 1280);	/* <= 128 bytes: docs/architecture.md */
	assert_true(sizeof(struct ct_entry) <= 104);

	assert_int_equal(ct_create(&t, &cfg), -EINVAL);	/* zero timeouts */
	ct_timeouts_default(&cfg.timeouts);
	cfg.max_flows = CT_MAX_FLOWS + 1;
	assert_int_equal(ct_create(&t, &cfg), -EINVAL);
	assert_null(t);
	ct_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alloc_confirm_lookup),
		cmocka_unit_test(confirm_clash),
		cmocka_unit_test(self_flow),
		cmocka_unit_test(free_unconfirmed_reuse),
		cmocka_unit_test(lazy_expiry),
		cmocka_unit_test(expiry_without_scan),
		cmocka_unit_test(refresh_shorter),
		cmocka_unit_test(refresh_later_refiled),
		cmocka_unit_test(expire_budget_one),
		cmocka_unit_test(reuse_after_expiry),
		cmocka_unit_test(early_drop_oldest_unreplied),
		cmocka_unit_test(time_jump_hours),
		cmocka_unit_test(memory_and_capacity),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
