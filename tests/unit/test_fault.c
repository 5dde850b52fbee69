// SPDX-License-Identifier: MIT
/*
 * test_fault.c - the fault-injecting port wrapper: each fault does what it
 * says and nothing more (every frame accounted for: passed, lost, or held
 * and released later), the same seed makes the same choices, a full inner
 * port gets nothing lost or held twice, and bad specifications are
 * refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_exit.h"

#define NFRAMES	48u
#define MS	1000000ull
#include "dp/fault.h"
#define NB NFRAMES
#include "portbufs.h"


/* An inner port: rx hands out numbered frames, tx records their numbers. */
struct tport {
	struct dp_port port;
	unsigned int next_rx, n_rx;	/* frames 0..n_rx-1 to hand out */
	unsigned int sent[4 * NFRAMES];
	unsigned int n_sent;
	unsigned int room;		/* frames tx takes before "not now" */
	bool destroyed;
};

static int tp_rx(struct dp_port *p, struct dp_buf **b, unsigned int n,
		 uint64_t now)
{
	struct tport *t = (struct tport *)p;
	unsigned int k = 0;

	(void)now;
	while (k < n && t->next_rx < t->n_rx) {
		dp_buf_reset(b[k]);
		memset(b[k]->data, 0xab, 60);
		memcpy(b[k]->data, &t->next_rx, sizeof(t->next_rx));
		b[k]->len = 60;
		t->next_rx++;
		k++;
	}
	return (int)k;
}

static unsigned int tp_tx(struct dp_port *p, struct dp_buf **b,
			  unsigned int n, uint64_t now)
{
	struct tport *t = (struct tport *)p;
	unsigned int k;

	(void)now;
	for (k = 0; k < n && t->room; k++, t->room--) {
		dp_buf_check(b[k], 0);
		assert_true(t->n_sent < sizeof(t->sent) / sizeof(t->sent[0]));
		memcpy(&t->sent[t->n_sent++], b[k]->data, sizeof(unsigned));
	}
	return k;
}

static void tp_destroy(struct dp_port *p)
{
	((struct tport *)p)->destroyed = true;
}

static const struct dp_port_ops tp_ops = {
	.rx_burst = tp_rx,
	.tx_burst = tp_tx,
	.destroy = tp_destroy,
};

static int setup(void **state)
{
	(void)state;
	empty_bufs();
	return 0;
}

static struct tport tp;

static struct dp_port *wrap(struct tport *t, const char *spec)
{
	struct dp_fault_cfg cfg;
	struct dp_port *p = NULL;
	char err[256];

	memset(t, 0, sizeof(*t));
	t->port.ops = &tp_ops;
	t->port.fd = -1;
	t->port.mtu = 1500;
	t->room = ~0u;
	assert_int_equal(dp_fault_parse(spec, &cfg, err, sizeof(err)), 0);
	assert_int_equal(dp_fault_wrap(&p, &t->port, &cfg), 0);
	return p;
}

static unsigned int num(const struct dp_buf *b)
{
	unsigned int n;

	memcpy(&n, b->data, sizeof(n));
	return n;
}

/* Receive everything at times @t0, @t0 + step, ...; record frame numbers. */
static unsigned int rx_all(struct dp_port *p, unsigned int *got,
			   unsigned int max, uint64_t t0, uint64_t step,
			   unsigned int rounds)
{
	unsigned int n = 0;

	for (unsigned int r = 0; r < rounds; r++) {
		int k = p->ops->rx_burst(p, vec, 16, t0 + r * step);

		assert_true(k >= 0);
		for (int i = 0; i < k; i++) {
			dp_buf_check(vec[i], 0);
			assert_true(n < max);
			got[n++] = num(vec[i]);
		}
	}
	return n;
}

static void fault_drop_all_and_none(void **state)
{
	struct tport *t = &tp;
	struct dp_fault_stats st;
	unsigned int got[NFRAMES];
	struct dp_port *p = wrap(t, "drop=100%,dir=rx");

	(void)state;
	t->n_rx = NFRAMES;
	assert_int_equal(rx_all(p, got, NFRAMES, 0, MS, 8), 0);
	dp_fault_get_stats(p, &st);
	assert_int_equal(st.dropped[DP_FAULT_RX], NFRAMES);
	dp_port_destroy(p);
	assert_true(t->destroyed);

	/* tx is untouched by dir=rx */
	p = wrap(t, "drop=100%,dir=rx");
	for (unsigned int i = 0; i < 16; i++) {
		dp_buf_reset(vec[i]);
		memcpy(vec[i]->data, &i, sizeof(i));
		vec[i]->len = 60;
	}
	assert_int_equal(p->ops->tx_burst(p, vec, 16, 0), 16);
	assert_int_equal(t->n_sent, 16);
	dp_port_destroy(p);
}

static void fault_duplicates_every_frame(void **state)
{
	struct tport *t = &tp;
	unsigned int got[2 * NFRAMES];
	struct dp_port *p = wrap(t, "dup=100%,dir=rx");
	unsigned int n;

	(void)state;
	t->n_rx = NFRAMES;
	n = rx_all(p, got, 2 * NFRAMES, 0, MS, 16);
	assert_int_equal(n, 2 * NFRAMES);
	/* each frame twice, the copy never before its original */
	for (unsigned int f = 0; f < NFRAMES; f++) {
		unsigned int c = 0, first = ~0u;

		for (unsigned int i = 0; i < n; i++)
			if (got[i] == f) {
				if (first == ~0u)
					first = i;
				c++;
			}
		assert_int_equal(c, 2);
	}
	dp_port_destroy(p);
}

static void fault_reorder_overtaken_then_released(void **state)
{
	struct tport *t = &tp;
	struct dp_fault_stats st;
	unsigned int got[NFRAMES];
	struct dp_port *p = wrap(t, "reorder=30%,dir=rx,seed=7");
	unsigned int n, inversions = 0;
	bool seen[NFRAMES] = { false };

	(void)state;
	t->n_rx = NFRAMES;
	/* the last rounds have no new frames: held ones come when due */
	n = rx_all(p, got, NFRAMES, 0, 2 * MS, 8);
	assert_int_equal(n, NFRAMES);
	for (unsigned int i = 0; i < n; i++) {
		assert_false(seen[got[i]]);
		seen[got[i]] = true;
		if (i && got[i] < got[i - 1])
			inversions++;
	}
	dp_fault_get_stats(p, &st);
	assert_true(st.reordered[DP_FAULT_RX] > 0);
	assert_true(inversions > 0);
	assert_int_equal(st.dropped[DP_FAULT_RX], 0);
	dp_port_destroy(p);
}

static void fault_delay_holds_until_due(void **state)
{
	struct tport *t = &tp;
	unsigned int got[NFRAMES];
	struct dp_port *p = wrap(t, "delay=20ms,dir=rx");
	int k;

	(void)state;
	t->n_rx = 10;
	k = p->ops->rx_burst(p, vec, 16, 100 * MS);
	assert_int_equal(k, 0);		/* all held */
	k = p->ops->rx_burst(p, vec, 16, 119 * MS);
	assert_int_equal(k, 0);		/* not due yet */
	assert_int_equal(rx_all(p, got, NFRAMES, 120 * MS, MS, 1), 10);
	for (unsigned int i = 0; i < 10; i++)
		assert_int_equal(got[i], i);	/* in order */
	/* the timer says "receive" once they are due */
	t->n_rx = 12;
	assert_int_equal(p->ops->rx_burst(p, vec, 16, 200 * MS), 0);
	assert_int_equal(p->ops->fd_event(p, 1, 0, 210 * MS), 0);
	assert_int_equal(p->ops->fd_event(p, 1, 0, 220 * MS), DP_FD_RX);
	dp_port_destroy(p);
}

static void fault_hold_full_passes_frames(void **state)
{
	struct tport *t = &tp;
	struct dp_fault_stats st;
	unsigned int got[4 * NFRAMES];
	struct dp_port *p = wrap(t, "delay=1ms,dir=rx");
	unsigned int n = 0;

	(void)state;
	t->n_rx = DP_FAULT_HOLD + 20;
	for (unsigned int r = 0; r < 12; r++) {
		int k = p->ops->rx_burst(p, vec, 16, 0);

		for (int i = 0; i < k; i++)
			got[n++] = num(vec[i]);
	}
	assert_int_equal(n, 20);	/* past the hold: passed unharmed */
	n += rx_all(p, got + n, 4 * NFRAMES - n, 2 * MS, MS, 8);
	assert_int_equal(n, DP_FAULT_HOLD + 20);
	dp_fault_get_stats(p, &st);
	assert_int_equal(st.hold_full[DP_FAULT_RX], 20);
	dp_port_destroy(p);
}

static void fault_same_seed_same_choices(void **state)
{
	unsigned int a[NFRAMES], b[NFRAMES], na, nb;
	struct tport *t = &tp;
	struct dp_port *p;

	(void)state;
	p = wrap(t, "drop=25%,reorder=10%,seed=42,dir=rx");
	t->n_rx = NFRAMES;
	na = rx_all(p, a, NFRAMES, 0, 2 * MS, 8);
	dp_port_destroy(p);
	p = wrap(t, "drop=25%,reorder=10%,seed=42,dir=rx");
	t->n_rx = NFRAMES;
	nb = rx_all(p, b, NFRAMES, 0, 2 * MS, 8);
	dp_port_destroy(p);
	assert_int_equal(na, nb);
	assert_true(na < NFRAMES);
	assert_memory_equal(a, b, na * sizeof(a[0]));
}

/* tx: a full inner port; what it refuses is offered again, never doubled */
static void fault_tx_back_pressure(void **state)
{
	struct tport *t = &tp;
	struct dp_fault_stats st;
	struct dp_port *p = wrap(t, "reorder=20%,dir=tx,seed=3");
	unsigned int off = 0;
	bool seen[NFRAMES] = { false };

	(void)state;
	for (unsigned int i = 0; i < NFRAMES; i++) {
		dp_buf_reset(vec[i]);
		memcpy(vec[i]->data, &i, sizeof(i));
		vec[i]->len = 60;
	}
	/* the worker re-offers what was not consumed, 5 frames of room a time */
	for (unsigned int r = 0; r < 64 && off < NFRAMES; r++) {
		t->room = 5;
		off += p->ops->tx_burst(p, vec + off, NFRAMES - off, r * MS);
	}
	assert_int_equal(off, NFRAMES);
	for (unsigned int r = 0; r < 8; r++) {	/* release held ones */
		t->room = 64;
		p->ops->fd_event(p, 1, 0, (100 + r) * MS);
	}
	assert_int_equal(t->n_sent, NFRAMES);
	for (unsigned int i = 0; i < t->n_sent; i++) {
		assert_false(seen[t->sent[i]]);
		seen[t->sent[i]] = true;
	}
	dp_fault_get_stats(p, &st);
	assert_true(st.reordered[DP_FAULT_TX] > 0);
	dp_port_destroy(p);
}

static void fault_bad_specs_refused(void **state)
{
	static const char *const bad[] = {
		"", "drop", "drop=", "drop=101%", "drop=5", "drop=-1%",
		"drop=1.23456%", "drop=100.1%", "delay=5", "delay=2000ms",
		"delay=5s", "dir=up,drop=1%", "seed=x,drop=1%", "drop=1%,",
		"jitter=1%", "seed=1", "dir=rx", "drop=0%",
	};
	struct dp_fault_cfg cfg;
	char err[256];

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(dp_fault_parse(bad[i], &cfg, err, sizeof(err)),
				 -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(dp_fault_parse("drop=0.5%,dup=1%,reorder=2.25%,delay=15ms,dir=tx,seed=9",
					&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.drop_ppm, 5000);
	assert_int_equal(cfg.dup_ppm, 10000);
	assert_int_equal(cfg.reorder_ppm, 22500);
	assert_int_equal(cfg.delay_us, 15000);
	assert_int_equal(cfg.dirs, 1u << DP_FAULT_TX);
	assert_int_equal(cfg.seed, 9);
	assert_int_equal(dp_fault_parse("delay=250us", &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.delay_us, 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(fault_drop_all_and_none, setup),
		cmocka_unit_test_setup(fault_duplicates_every_frame, setup),
		cmocka_unit_test_setup(fault_reorder_overtaken_then_released, setup),
		cmocka_unit_test_setup(fault_delay_holds_until_due, setup),
		cmocka_unit_test_setup(fault_hold_full_passes_frames, setup),
		cmocka_unit_test_setup(fault_same_seed_same_choices, setup),
		cmocka_unit_test_setup(fault_tx_back_pressure, setup),
		cmocka_unit_test_setup(fault_bad_specs_refused, setup),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
