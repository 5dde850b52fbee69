// SPDX-License-Identifier: MIT
/*
 * test_switch.c - the guest segment's learning switch (dp/switch.h):
 * learning, moves, aging (lazy and by tick), flooding, the gateway's own
 * MAC, bad sources, a full bucket, a port that leaves (flush and
 * generation), isolation, and the parameter checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "dp/switch.h"
#include "prot/eth.h"

#define AGE	(300 * NSEC_PER_SEC)
#define T0	(1000 * NSEC_PER_SEC)

static const uint8_t gw[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t zero[6];
static const uint8_t a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t c[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0c };

static struct dp_switch *sw_new(unsigned int entries, bool isolate)
{
	static const struct siphash_key key = { { 1, 2 } };
	struct dp_switch_cfg cfg = {
		.entries = entries,
		.age_ns = AGE,
		.isolate = isolate,
		.key = &key,
	};
	struct dp_switch *sw = NULL;

	memcpy(cfg.gw_mac, gw, sizeof(gw));
	assert_int_equal(dp_switch_create(&sw, &cfg), 0);
	/* Ports 1, 2, 3 (0 is the uplink's slot in a worker). */
	for (unsigned int p = 1; p <= 3; p++)
		dp_switch_port_add(sw, p);
	return sw;
}

/* A frame from @src to @dst (only the header is read). */
static uint8_t *frame(uint8_t f[ETH_HLEN], const uint8_t *dst,
		      const uint8_t *src)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = 0x08;
	f[13] = 0x00;
	return f;
}

static struct dp_sw_dest in(struct dp_switch *sw, unsigned int port,
			    const uint8_t *dst, const uint8_t *src, uint64_t now)
{
	uint8_t f[ETH_HLEN];

	return dp_switch_from_guest(sw, port, frame(f, dst, src), ETH_HLEN, now);
}

static uint64_t from_gw(struct dp_switch *sw, const uint8_t *dst, uint64_t now)
{
	uint8_t f[ETH_HLEN];

	return dp_switch_from_gateway(sw, frame(f, dst, gw), ETH_HLEN, now);
}

#define BIT(p) ((uint64_t)1 << (p))
#define ALL (BIT(1) | BIT(2) | BIT(3))

static void switch_learns_and_forwards(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;

	(void)state;
	/* a on 1 asks for b: unknown, flooded to 2 and 3, not the engine. */
	d = in(sw, 1, b, a, T0);
	assert_int_equal(d.ports, BIT(2) | BIT(3));
	assert_false(d.engine);
	assert_int_equal(st->unknown, 1);
	assert_int_equal(st->flooded, 1);
	assert_int_equal(dp_switch_lookup(sw, a, T0), 1);
	/* b answers from 2: a is known, one port. */
	d = in(sw, 2, a, b, T0 + 1);
	assert_int_equal(d.ports, BIT(1));
	assert_false(d.engine);
	assert_int_equal(st->forwarded, 1);
	d = in(sw, 1, b, a, T0 + 2);
	assert_int_equal(d.ports, BIT(2));
	assert_int_equal(st->learned, 2);
	assert_int_equal(st->entries, 2);
	/* The gateway reaches a on its port; c is unknown: every port. */
	assert_int_equal(from_gw(sw, a, T0 + 3), BIT(1));
	assert_int_equal(from_gw(sw, c, T0 + 3), ALL);
	assert_int_equal(from_gw(sw, bcast, T0 + 3), ALL);
	assert_int_equal(dp_switch_drops(sw), 0);
	dp_switch_destroy(sw);
}

static void switch_gateway_broadcast_multicast(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;
	uint8_t f[ETH_HLEN];

	(void)state;
	d = in(sw, 1, gw, a, T0);		/* for the gateway: engine only */
	assert_int_equal(d.ports, 0);
	assert_true(d.engine);
	d = in(sw, 1, bcast, a, T0);		/* ARP request, DHCP discover */
	assert_int_equal(d.ports, BIT(2) | BIT(3));
	assert_true(d.engine);
	d = in(sw, 2, mcast, b, T0);
	assert_int_equal(d.ports, BIT(1) | BIT(3));
	assert_true(d.engine);
	assert_int_equal(st->flooded, 2);
	/* A runt goes to the engine, whose parser counts it; nothing learned. */
	d = dp_switch_from_guest(sw, 3, frame(f, b, c), ETH_HLEN - 1, T0);
	assert_true(d.engine);
	assert_int_equal(d.ports, 0);
	assert_int_equal(dp_switch_lookup(sw, c, T0), -ENOENT);
	assert_int_equal(from_gw(sw, c, T0), ALL);
	assert_int_equal(dp_switch_from_gateway(sw, f, 3, T0), 0);
	dp_switch_destroy(sw);
}

static void switch_bad_sources_are_dropped(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;

	(void)state;
	d = in(sw, 1, b, mcast, T0);
	assert_int_equal(d.ports, 0);
	assert_false(d.engine);
	d = in(sw, 1, bcast, zero, T0);
	assert_false(d.engine);
	d = in(sw, 1, b, bcast, T0);
	assert_false(d.engine);
	/* A guest speaking for the gateway reaches no one, and the gateway's
	 * MAC is never learned on a port. */
	d = in(sw, 2, a, gw, T0);
	assert_int_equal(d.ports, 0);
	assert_false(d.engine);
	assert_int_equal(dp_switch_lookup(sw, gw, T0), -ENOENT);
	assert_int_equal(st->bad_source, 4);
	assert_int_equal(st->learned, 0);
	assert_int_equal(st->entries, 0);
	assert_int_equal(dp_switch_drops(sw), 4);
	dp_switch_destroy(sw);
}

static void switch_moves_and_same_port(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;

	(void)state;
	in(sw, 1, gw, a, T0);
	in(sw, 2, gw, b, T0);
	/* a shows up on 3: re-learned there, counted. */
	in(sw, 3, gw, a, T0 + 1);
	assert_int_equal(st->moved, 1);
	assert_int_equal(st->learned, 2);
	assert_int_equal(dp_switch_lookup(sw, a, T0 + 1), 3);
	assert_int_equal(from_gw(sw, a, T0 + 1), BIT(3));
	d = in(sw, 2, a, b, T0 + 2);
	assert_int_equal(d.ports, BIT(3));
	/* c behind port 2 with b (a bridge behind one port): not reflected. */
	in(sw, 2, gw, c, T0 + 2);
	d = in(sw, 2, c, b, T0 + 3);
	assert_int_equal(d.ports, 0);
	assert_false(d.engine);
	assert_int_equal(st->same_port, 1);
	assert_int_equal(dp_switch_drops(sw), 1);
	dp_switch_destroy(sw);
}

static void switch_entries_age(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);

	(void)state;
	in(sw, 1, gw, a, T0);
	in(sw, 2, gw, b, T0);
	/* Refreshed by its frames: a stays. */
	in(sw, 1, gw, a, T0 + AGE - 1);
	assert_int_equal(dp_switch_lookup(sw, a, T0 + AGE), 1);
	/* b was not: found gone by the lookup, counted once. */
	assert_int_equal(dp_switch_lookup(sw, b, T0 + AGE), -ENOENT);
	assert_int_equal(st->aged, 1);
	assert_int_equal(st->entries, 1);
	assert_int_equal(from_gw(sw, b, T0 + AGE), ALL);
	/* The tick finds a gone without a lookup, within one lap. */
	for (unsigned int i = 0; i < 1024 / DP_SW_TICK_BUDGET; i++)
		dp_switch_tick(sw, T0 + 2 * AGE, DP_SW_TICK_BUDGET);
	assert_int_equal(st->aged, 2);
	assert_int_equal(st->entries, 0);
	/* A budget beyond the table is one lap, no more. */
	dp_switch_tick(sw, T0 + 2 * AGE, 1u << 30);
	assert_int_equal(st->aged, 2);
	/* A clock that went back does not age anything. */
	in(sw, 1, gw, a, T0 + 3 * AGE);
	assert_int_equal(dp_switch_lookup(sw, a, T0), 1);
	dp_switch_destroy(sw);
}

/*
 * The table is buckets of DP_SW_WAYS: with exactly one bucket, the
 * (DP_SW_WAYS + 1)th MAC is a counted refusal, and its frames still get
 * through (flooded); once an entry ages, the slot is taken again.
 */
static void switch_table_full_floods(void **state)
{
	struct dp_switch *sw = sw_new(DP_SW_WAYS, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x01, 0x00, 0x00 };
	struct dp_sw_dest d;

	(void)state;
	for (unsigned int i = 0; i < DP_SW_WAYS; i++) {
		mac[5] = (uint8_t)i;
		in(sw, 1, gw, mac, T0);
	}
	assert_int_equal(st->entries, DP_SW_WAYS);
	d = in(sw, 2, bcast, b, T0);
	assert_int_equal(st->table_full, 1);
	assert_true(d.engine);
	assert_int_equal(d.ports, BIT(1) | BIT(3));
	assert_int_equal(dp_switch_lookup(sw, b, T0), -ENOENT);
	assert_int_equal(from_gw(sw, b, T0), ALL);	/* still delivered */
	/* Every MAC of the table is still found; a refresh is no refusal. */
	mac[5] = 3;
	in(sw, 1, gw, mac, T0 + AGE / 2);
	assert_int_equal(dp_switch_lookup(sw, mac, T0 + AGE / 2), 1);
	assert_int_equal(st->table_full, 1);
	/* The others age; b gets a slot. */
	in(sw, 2, gw, b, T0 + AGE);
	assert_int_equal(dp_switch_lookup(sw, b, T0 + AGE), 2);
	assert_int_equal(st->table_full, 1);
	dp_switch_destroy(sw);
}

/* A port that leaves takes its entries; a new port in the same slot
 * starts empty, and an old entry never matches it. */
static void switch_port_removal_flushes(void **state)
{
	struct dp_switch *sw = sw_new(1024, false);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;

	(void)state;
	in(sw, 1, gw, a, T0);
	in(sw, 2, gw, b, T0);
	in(sw, 2, gw, c, T0);
	dp_switch_port_remove(sw, 2);
	assert_int_equal(st->flushed, 2);
	assert_int_equal(st->entries, 1);
	assert_int_equal(dp_switch_lookup(sw, b, T0), -ENOENT);
	/* Gone from the floods too. */
	assert_int_equal(from_gw(sw, bcast, T0), BIT(1) | BIT(3));
	d = in(sw, 1, b, a, T0);
	assert_int_equal(d.ports, BIT(3));
	/* Twice, or a port never added: nothing. */
	dp_switch_port_remove(sw, 2);
	dp_switch_port_remove(sw, 9);
	dp_switch_port_remove(sw, DP_SW_PORTS);
	assert_int_equal(st->flushed, 2);
	/* The slot again: a new port, empty. */
	dp_switch_port_add(sw, 2);
	assert_int_equal(dp_switch_lookup(sw, b, T0), -ENOENT);
	assert_int_equal(from_gw(sw, bcast, T0), ALL);
	in(sw, 2, gw, b, T0 + 1);
	assert_int_equal(dp_switch_lookup(sw, b, T0 + 1), 2);
	dp_switch_destroy(sw);
}

/*
 * Isolation: nothing from one guest port to another (known, unknown,
 * broadcast), counted; a broadcast still reaches the engine, and the
 * gateway still reaches every guest.
 */
static void switch_isolate(void **state)
{
	struct dp_switch *sw = sw_new(1024, true);
	const struct dp_switch_stats *st = dp_switch_get_stats(sw);
	struct dp_sw_dest d;

	(void)state;
	d = in(sw, 1, bcast, a, T0);
	assert_int_equal(d.ports, 0);
	assert_true(d.engine);
	d = in(sw, 2, gw, b, T0);
	assert_true(d.engine);
	d = in(sw, 1, b, a, T0);		/* known, on another port */
	assert_int_equal(d.ports, 0);
	assert_false(d.engine);
	d = in(sw, 1, c, a, T0);		/* unknown */
	assert_int_equal(d.ports, 0);
	assert_false(d.engine);
	assert_int_equal(st->isolated, 3);
	assert_int_equal(st->forwarded + st->flooded, 0);
	assert_int_equal(dp_switch_drops(sw), 3);
	assert_int_equal(from_gw(sw, a, T0), BIT(1));
	assert_int_equal(from_gw(sw, b, T0), BIT(2));
	assert_int_equal(from_gw(sw, bcast, T0), ALL);
	dp_switch_destroy(sw);
}

static void switch_print_and_bad_config(void **state)
{
	struct dp_switch_cfg cfg = { .entries = 1024, .age_ns = AGE };
	struct dp_switch *sw = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	cfg.entries = 1000;
	assert_int_equal(dp_switch_create(&sw, &cfg), -EINVAL);
	cfg.entries = DP_SW_WAYS / 2;
	assert_int_equal(dp_switch_create(&sw, &cfg), -EINVAL);
	cfg.entries = DP_SW_ENTRIES_MAX * 2;
	assert_int_equal(dp_switch_create(&sw, &cfg), -EINVAL);
	cfg.entries = 1024;
	cfg.age_ns = 0;
	assert_int_equal(dp_switch_create(&sw, &cfg), -EINVAL);
	cfg.age_ns = AGE;
	assert_int_equal(dp_switch_create(&sw, &cfg), 0);	/* random key */
	dp_switch_port_add(sw, 1);
	dp_switch_port_add(sw, DP_SW_PORTS);	/* ignored */
	in(sw, 1, gw, a, T0);
	assert_int_equal(dp_switch_lookup(sw, a, T0), 1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	dp_switch_print_stats(sw, f);
	fclose(f);
	assert_non_null(strstr(buf, "stat switch.isolate 0\n"));
	assert_non_null(strstr(buf, "stat switch.learned 1\n"));
	assert_non_null(strstr(buf, "stat switch.entries 1\n"));
	free(buf);
	dp_switch_destroy(sw);
	dp_switch_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(switch_learns_and_forwards),
		cmocka_unit_test(switch_gateway_broadcast_multicast),
		cmocka_unit_test(switch_bad_sources_are_dropped),
		cmocka_unit_test(switch_moves_and_same_port),
		cmocka_unit_test(switch_entries_age),
		cmocka_unit_test(switch_table_full_floods),
		cmocka_unit_test(switch_port_removal_flushes),
		cmocka_unit_test(switch_isolate),
		cmocka_unit_test(switch_print_and_bad_config),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
