// SPDX-License-Identifier: MIT
/*
 * test_dhcp_lease.c - unit tests for src/svc/dhcp_lease: the lease table
 * (free list order, expiry, one slot per client, names) held against a
 * naive model (a linear scan of the slots), and the lease file: a direct
 * save/load round trip, then the whole server through a restart (same
 * addresses, corrupt lines ignored and counted, atomic writes that leave
 * no temporary file, failed writes logged once and retried).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "prot/dhcp.h"
#include "svc/dhcp.h"
#include "svc/dhcp_lease.h"
#include "unit/dhcp_client.h"

#define POOL_FIRST	G(2)
#define POOL_LAST	G(254)
#define N_POOL		253

/* Two static hosts: 10.0.2.50 "db" (inside the pool), 10.0.2.200. */
static struct dhcp_host hosts[2] = {
	{ { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 }, 0, "db" },
	{ { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x02 }, 0, "" },
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void table_init(struct dhcp_leases *t)
{
	hosts[0].ip = G(50);
	hosts[1].ip = G(200);
	memset(t, 0, sizeof(*t));
	assert_int_equal(dhcp_leases_init(t, POOL_FIRST, POOL_LAST, G(1), hosts,
					  2), 0);
}

static void key_of(struct dhcp_key *k, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->kind = (id & 1) ? DHCP_KEY_MAC : DHCP_KEY_CLIENT_ID;
	k->len = (id & 1) ? ETH_ALEN : (uint8_t)(2 + id % 40);
	memset(k->b, 0x5a, k->len);
	memcpy(k->b, &id, sizeof(id));
}

/*
 * The naive model: whatever the slots say, found by linear scan, must be
 * what the indexes, the free list and the counters say.
 */
static void check_table(const struct dhcp_leases *t)
{
	uint32_t i, n_free = 0, walked = 0, prev = DHCP_LEASE_NIL, s;
	uint32_t n_off = 0, n_bound = 0, n_decl = 0;

	for (i = 0; i < t->n; i++) {
		const struct dhcp_lease *l = &t->l[i];

		n_off += l->state == DHCP_LS_OFFERED;
		n_bound += l->state == DHCP_LS_BOUND;
		n_decl += l->state == DHCP_LS_DECLINED;
		assert_int_equal(l->in_free,
				 !l->is_static && l->state == DHCP_LS_FREE);
		n_free += l->in_free;
		if (l->key.kind != DHCP_KEY_NONE)
			assert_ptr_equal(dhcp_lease_find(t, &l->key), l);
		if (l->state == DHCP_LS_DECLINED || l->state == DHCP_LS_RESERVED)
			assert_int_equal(l->key.kind, DHCP_KEY_NONE);
		if (l->name[0])
			assert_ptr_equal(dhcp_lease_by_name(t, l->name,
							    strlen(l->name)), l);
		if (l->state != DHCP_LS_RESERVED)
			assert_ptr_equal(dhcp_lease_by_ip(t, l->ip), l);
	}
	assert_int_equal(n_off, t->n_offered);
	assert_int_equal(n_bound, t->n_bound);
	assert_int_equal(n_decl, t->n_declined);
	for (s = t->free_head; s != DHCP_LEASE_NIL && walked <= t->n;
	     s = t->l[s].next) {
		assert_true(t->l[s].in_free);
		assert_int_equal(t->l[s].prev, prev);
		prev = s;
		walked++;
	}
	assert_int_equal(walked, n_free);
	assert_int_equal(t->free_tail, prev);
}

static void free_list_order(void **state)
{
	struct dhcp_leases t;
	struct dhcp_key k;
	struct dhcp_lease *l;
	uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0, 0, 0, 1 };
	uint32_t i;

	(void)state;
	table_init(&t);
	assert_int_equal(t.n, N_POOL + 2);
	/* .50 is a static host's: reserved in the pool; .200 is outside. */
	assert_int_equal(t.l[48].state, DHCP_LS_RESERVED);
	assert_null(dhcp_lease_by_ip(&t, G(1)));
	assert_null(dhcp_lease_by_ip(&t, G(255)));
	assert_true(dhcp_lease_by_ip(&t, G(50))->is_static);
	assert_true(dhcp_lease_by_ip(&t, G(200))->is_static);
	assert_string_equal(dhcp_lease_by_ip(&t, G(50))->name, "db");
	check_table(&t);
	/* Never-used addresses first, in order; freed ones go to the back. */
	for (i = 0; i < 3; i++) {
		l = dhcp_lease_alloc(&t, T0);
		assert_int_equal(l->ip, G(2 + i));
		key_of(&k, i);
		dhcp_lease_bind_key(&t, l, &k, mac);
		dhcp_lease_set_state(&t, l, DHCP_LS_OFFERED, T0 + SEC(60));
	}
	dhcp_lease_set_state(&t, dhcp_lease_by_ip(&t, G(3)), DHCP_LS_FREE, 0);
	l = dhcp_lease_alloc(&t, T0);
	assert_int_equal(l->ip, G(5));
	assert_int_equal(t.l[t.free_tail].ip, G(3));
	/* .3 still remembers client 1. */
	key_of(&k, 1);
	assert_int_equal(dhcp_lease_find(&t, &k)->ip, G(3));
	check_table(&t);
	/* One slot per client: binding client 0 to .5 releases .2. */
	key_of(&k, 0);
	dhcp_lease_bind_key(&t, l, &k, mac);
	assert_int_equal(dhcp_lease_find(&t, &k)->ip, G(5));
	assert_int_equal(dhcp_lease_by_ip(&t, G(2))->state, DHCP_LS_FREE);
	assert_int_equal(dhcp_lease_by_ip(&t, G(2))->key.kind, DHCP_KEY_NONE);
	assert_int_equal(t.n_offered, 1);
	check_table(&t);
	dhcp_leases_fini(&t);
}

static void expiry(void **state)
{
	struct dhcp_leases t;
	struct dhcp_key k;
	struct dhcp_lease *a, *b;
	uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0, 0, 0, 1 };

	(void)state;
	table_init(&t);
	a = dhcp_lease_alloc(&t, T0);
	key_of(&k, 7);
	dhcp_lease_bind_key(&t, a, &k, mac);
	dhcp_lease_set_state(&t, a, DHCP_LS_BOUND, T0 + SEC(10));
	assert_int_equal(dhcp_lease_set_name(&t, a, "web", 3), 0);
	assert_true(t.dirty);
	b = dhcp_lease_alloc(&t, T0);
	dhcp_lease_decline(&t, b, T0 + SEC(20));
	assert_int_equal(t.n_declined, 1);
	dhcp_lease_gc(&t, T0 + SEC(10) - 1, t.n);
	assert_int_equal(a->state, DHCP_LS_BOUND);
	dhcp_lease_gc(&t, T0 + SEC(10), t.n);
	/* Expired: free, the client remembered, the name gone. */
	assert_int_equal(a->state, DHCP_LS_FREE);
	assert_int_equal(t.leases_expired, 1);
	assert_ptr_equal(dhcp_lease_find(&t, &k), a);
	assert_null(dhcp_lease_by_name(&t, "web", 3));
	assert_int_equal(b->state, DHCP_LS_DECLINED);
	dhcp_lease_expire(&t, b, T0 + SEC(20));
	assert_int_equal(b->state, DHCP_LS_FREE);
	assert_int_equal(t.n_declined, 0);
	check_table(&t);
	/* With nothing free, alloc runs a GC slice first. */
	dhcp_leases_fini(&t);
	memset(&t, 0, sizeof(t));
	assert_int_equal(dhcp_leases_init(&t, G(2), G(2), G(1), NULL, 0), 0);
	a = dhcp_lease_alloc(&t, T0);
	dhcp_lease_set_state(&t, a, DHCP_LS_OFFERED, T0 + SEC(1));
	assert_null(dhcp_lease_alloc(&t, T0));
	assert_ptr_equal(dhcp_lease_alloc(&t, T0 + SEC(1)), a);
	assert_int_equal(t.offers_expired, 1);
	dhcp_leases_fini(&t);
}

static void name_index(void **state)
{
	struct dhcp_leases t;
	struct dhcp_lease *a, *b, *s;

	(void)state;
	table_init(&t);
	s = dhcp_lease_by_ip(&t, G(50));
	a = dhcp_lease_by_ip(&t, G(2));
	b = dhcp_lease_by_ip(&t, G(3));
	assert_int_equal(dhcp_lease_set_name(&t, a, "DB", 2), -EEXIST);
	assert_int_equal(dhcp_lease_set_name(&t, s, "x", 1), -EPERM);
	assert_int_equal(dhcp_lease_set_name(&t, a, "web", 3), 0);
	assert_int_equal(dhcp_lease_set_name(&t, b, "WEB", 3), 0);
	assert_string_equal(b->name, "WEB");
	assert_string_equal(a->name, "");
	assert_ptr_equal(dhcp_lease_by_name(&t, "web", 3), b);
	assert_null(dhcp_lease_by_name(&t, "we", 2));
	assert_null(dhcp_lease_by_name(&t, "", 0));
	assert_int_equal(dhcp_lease_set_name(&t, b, NULL, 0), 0);
	assert_null(dhcp_lease_by_name(&t, "web", 3));
	check_table(&t);

	assert_true(dhcp_name_valid("a", 1));
	assert_true(dhcp_name_valid("a-1-B", 5));
	assert_true(dhcp_name_valid("0", 1));
	assert_false(dhcp_name_valid("", 0));
	assert_false(dhcp_name_valid("-a", 2));
	assert_false(dhcp_name_valid("a-", 2));
	assert_false(dhcp_name_valid("a.b", 3));
	assert_false(dhcp_name_valid("a_b", 3));
	assert_false(dhcp_name_valid("a\0b", 3));
	assert_false(dhcp_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				     64));
	dhcp_leases_fini(&t);
}

/* Random operations; after each, the table agrees with the naive model. */
static void churn_vs_model(void **state)
{
	static const char *const nm[] = { "a", "b", "c", "d", "e", "f" };
	struct dhcp_leases t;
	uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0, 0, 0, 1 };
	uint64_t now = T0;
	unsigned int step;

	(void)state;
	table_init(&t);
	for (step = 0; step < 20000; step++) {
		struct dhcp_key k;
		struct dhcp_lease *l;
		uint32_t op = rnd(8), id = rnd(300);

		key_of(&k, id);
		now += rnd(3) * NSEC_PER_SEC;
		switch (op) {
		case 0:
		case 1:		/* a client takes a new address */
			l = dhcp_lease_alloc(&t, now);
			if (!l)
				break;
			dhcp_lease_bind_key(&t, l, &k, mac);
			dhcp_lease_set_state(&t, l, op ? DHCP_LS_BOUND
						       : DHCP_LS_OFFERED,
					     now + rnd(100) * NSEC_PER_SEC);
			break;
		case 2:		/* a known client is freed */
			l = dhcp_lease_find(&t, &k);
			if (l && l->state != DHCP_LS_DECLINED)
				dhcp_lease_set_state(&t, l, DHCP_LS_FREE, 0);
			break;
		case 3:		/* or declines */
			l = dhcp_lease_find(&t, &k);
			if (l)
				dhcp_lease_decline(&t, l, now + rnd(50) * NSEC_PER_SEC);
			break;
		case 4:		/* names */
			l = &t.l[rnd(t.n)];
			if (l->state != DHCP_LS_RESERVED && !l->name_fixed)
				(void)dhcp_lease_set_name(&t, l, nm[id % 6], 1);
			break;
		case 5:
			dhcp_lease_gc(&t, now, 1 + rnd(40));
			break;
		case 6:		/* a free address by number */
			l = dhcp_lease_by_ip(&t, htonl(ntohl(POOL_FIRST) + rnd(N_POOL)));
			if (l && !l->is_static) {
				dhcp_lease_expire(&t, l, now);
				if (l->state == DHCP_LS_FREE)
					dhcp_lease_bind_key(&t, l, &k, mac);
			}
			break;
		default:	/* lookups of keys nobody has */
			key_of(&k, 1000 + id);
			assert_null(dhcp_lease_find(&t, &k));
			break;
		}
		if (step % 16 == 0)
			check_table(&t);
	}
	check_table(&t);
	dhcp_leases_fini(&t);
}

static void mac_parse(void **state)
{
	uint8_t m[ETH_ALEN];

	(void)state;
	assert_int_equal(dhcp_mac_parse("52:54:00:Ab:cD:ef", 17, m), 0);
	assert_int_equal(m[3], 0xab);
	assert_int_equal(m[5], 0xef);
	assert_int_equal(dhcp_mac_parse("52-54-00-ab-cd-ef", 17, m), 0);
	assert_int_equal(dhcp_mac_parse("52:54:00:ab:cd:e", 16, m), -EINVAL);
	assert_int_equal(dhcp_mac_parse("52:54:00:ab:cd:eg", 17, m), -EINVAL);
	assert_int_equal(dhcp_mac_parse("52:54:00.ab:cd:ef", 17, m), -EINVAL);
	assert_int_equal(dhcp_mac_parse("53:54:00:ab:cd:ef", 17, m), -EINVAL);
	assert_int_equal(dhcp_mac_parse("00:00:00:00:00:00", 17, m), -EINVAL);
	assert_int_equal(dhcp_mac_parse("ff:ff:ff:ff:ff:ff", 17, m), -EINVAL);
}

/* Write @len bytes of @buf to @path (what dp/persist does, atomically). */
static void write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Save one table, load it into a fresh one: the same bound leases. */
static void save_load_direct(void **state)
{
	char dir[] = "/tmp/test_dhcp_lease.XXXXXX", path[128];
	struct dhcp_leases t, u;
	struct dhcp_key k;
	struct dhcp_lease *l;
	uint8_t mac[ETH_ALEN] = { 0x52, 0x54, 0, 0, 0, 1 };
	uint64_t bad = 0;
	static char text[8192];
	uint32_t i;
	int n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases", dir);
	table_init(&t);
	for (i = 0; i < 10; i++) {
		l = dhcp_lease_alloc(&t, T0);
		mac[5] = (uint8_t)i;
		key_of(&k, i);
		if (k.kind == DHCP_KEY_MAC)	/* what the file keeps: the MAC */
			memcpy(k.b, mac, ETH_ALEN);
		dhcp_lease_bind_key(&t, l, &k, mac);
		dhcp_lease_set_state(&t, l, i < 8 ? DHCP_LS_BOUND : DHCP_LS_OFFERED,
				     T0 + SEC(100 + i));
		if (i == 3)
			assert_int_equal(dhcp_lease_set_name(&t, l, "three", 5), 0);
	}
	assert_true(t.dirty);
	/* Too small a buffer: an error, and the change is kept. */
	assert_int_equal(dhcp_lease_format(&t, T0, WALL0, text, 100), -ENOSPC);
	assert_true(t.dirty);
	n = dhcp_lease_format(&t, T0, WALL0, text, sizeof(text));
	assert_true(n > 0);
	assert_false(t.dirty);
	write_file(path, text, (size_t)n);
	/* Loaded 50 s later on the wall clock, from another monotonic base. */
	table_init(&u);
	assert_int_equal(dhcp_lease_load(&u, path, SEC(7), WALL0 + 50,
					 DHCP_LEASE_SEC_MAX, &bad), 8);
	assert_int_equal(bad, 0);
	assert_false(u.dirty);
	for (i = 0; i < 10; i++) {
		mac[5] = (uint8_t)i;
		key_of(&k, i);
		if (k.kind == DHCP_KEY_MAC)
			memcpy(k.b, mac, ETH_ALEN);
		l = dhcp_lease_find(&u, &k);
		if (i >= 8) {
			assert_null(l);
			continue;
		}
		assert_non_null(l);
		assert_int_equal(l->ip, t.l[i].ip);
		assert_int_equal(l->state, DHCP_LS_BOUND);
		assert_memory_equal(l->mac, t.l[i].mac, ETH_ALEN);
		assert_int_equal(l->expires, SEC(7) + SEC(50 + i));
		assert_string_equal(l->name, i == 3 ? "three" : "");
	}
	check_table(&u);
	dhcp_leases_fini(&u);
	/* No file: nothing loaded, no error. */
	table_init(&u);
	unlink(path);
	assert_int_equal(dhcp_lease_load(&u, path, T0, WALL0, 100, &bad), 0);
	dhcp_leases_fini(&u);
	dhcp_leases_fini(&t);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- the server through restarts ---- */

/* What the datapath does each tick: a snapshot, if anything changed,
 * written to @path. Return: dhcp_snapshot()'s result. */
static int snapshot(struct td *t, const char *path)
{
	static char text[16384];
	int n = dhcp_snapshot(t->d, t->now, t->wall, text, sizeof(text));

	if (n > 0)
		write_file(path, text, (size_t)n);
	return n;
}

static void lease_file_round_trip(void **state)
{
	char dir[] = "/tmp/test_dhcp.XXXXXX", path[128];
	struct td t;
	struct client a, b, c;
	uint32_t ia, ib, ip;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases", dir);
	td_cfg_default(&t);
	t.cfg.lease_file = path;
	td_start(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, false);
	client_init(&c, 3, true);
	a.name = "alpha";
	ia = lease(&t, &a);
	ib = lease(&t, &b);
	assert_true(discover(&t, &c) > 0);	/* an offer is not saved */
	dhcp_tick(t.d, t.now);
	assert_true(snapshot(&t, path) > 0);
	/* Nothing changed: no new snapshot. */
	dhcp_tick(t.d, t.now);
	assert_int_equal(snapshot(&t, path), 0);
	td_fini(&t);

	/* Add damage: each of these lines is ignored. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage\n", f);
	fprintf(f, "%d 52:54:00:12:34:99 10.0.2.40 * *\n", WALL0 + 5000);
	fprintf(f, "%d 52:54:00:zz:34:98 10.0.2.41 * *\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:97 10.0.9.41 * *\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:96 10.0.2.2 * *\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:95 10.0.2.42 bad_name *\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:94 10.0.2.43 * 0\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:93 10.0.2.44 * * extra\n", WALL0 + 100);
	fprintf(f, "x%d 52:54:00:12:34:92 10.0.2.45 * *\n", WALL0 + 100);
	fprintf(f, "%d 52:54:00:12:34:91 10.0.2.46 %0600d *\n", WALL0 + 100, 0);
	fprintf(f, "%d 52:54:00:12:34:90 10.0.2.47 * *\n", WALL0 - 5);
	fprintf(f, "%lld 52:54:00:12:34:8f 10.0.2.48 * *\n",
		(long long)WALL0 + 999999999);
	fputs("# a comment\n\n", f);
	fclose(f);
	/* A restart ten seconds later. */
	td_cfg_default(&t);
	t.now = SEC(5);				/* monotonic time restarted */
	t.wall = WALL0 + 10;
	t.cfg.lease_file = path;
	log_set_sink(quiet_sink, NULL);
	td_start(&t);
	/* 10.0.2.40 is valid (a client we did not know). */
	assert_int_equal(st(&t)->file_loaded, 3);
	assert_int_equal(st(&t)->file_bad_lines, 10);
	assert_int_equal(st(&t)->leases_active, 3);
	assert_string_equal(dhcp_name_of(t.d, ia), "alpha");
	assert_int_equal(dhcp_addr_of(t.d, "alpha", &ip), 0);
	assert_int_equal(ip, ia);
	/* Same clients, same addresses; the offered one is free again. */
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.h.yiaddr, ia);
	assert_true(discover(&t, &b) > 0);
	assert_int_equal(t.r.h.yiaddr, ib);
	assert_true(request_renew(&t, &b, ib) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	/* The file is rewritten clean at the next tick. */
	dhcp_tick(t.d, t.now);
	assert_true(snapshot(&t, path) > 0);
	td_fini(&t);

	td_cfg_default(&t);
	t.wall = WALL0 + 20;
	t.cfg.lease_file = path;
	td_start(&t);
	assert_int_equal(st(&t)->file_loaded, 3);
	assert_int_equal(st(&t)->file_bad_lines, 0);
	/* a's lease ends when it did before the restarts: 3600 s after. */
	advance(&t, 3600 - 20 - 1);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->leases_active, 3);
	advance(&t, 2);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->leases_expired, 1);	/* a; b renewed */
	td_fini(&t);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(free_list_order),
		cmocka_unit_test(expiry),
		cmocka_unit_test(name_index),
		cmocka_unit_test(churn_vs_model),
		cmocka_unit_test(mac_parse),
		cmocka_unit_test(save_load_direct),
		cmocka_unit_test(lease_file_round_trip),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
