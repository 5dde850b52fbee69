// SPDX-License-Identifier: MIT
/*
 * test_dns_cache.c - unit tests for src/svc/dns_cache (the DNS answer
 * cache): what is stored and for how long (TTL clamps, RFC 2308 negative
 * caching), TTLs aged on the way out, case-insensitive keys, LRU eviction
 * under the entry bound and the byte bound, expiry by lookup and by tick.
 * dns_cache_verify() checks the internal structure after every step, and
 * every test empties its cache at the end (occupancy back to zero).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "svc/dns_cache.h"
#include "svc/dns_msg.h"
#include "unit/dns_wire.h"

#define SEC(s) ((uint64_t)(s) * NSEC_PER_SEC)
#define T0     SEC(1000)

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

static struct dns_cache *mk(uint32_t entries, uint32_t bytes, uint32_t min_ttl,
			    uint32_t max_ttl, uint32_t neg_max)
{
	struct dns_cache_cfg cfg = { .max_entries = entries, .max_bytes = bytes,
				     .min_ttl = min_ttl, .max_ttl = max_ttl,
				     .neg_max_ttl = neg_max, .key = &test_key };
	struct dns_cache *c;

	assert_int_equal(dns_cache_create(&c, &cfg), 0);
	assert_int_equal(dns_cache_verify(c), 0);
	return c;
}

/* A positive answer for @name with one A record of @ttl, padded with a
 * TXT record of @pad bytes in the additional section if @pad. */
static void mk_pos(struct wire *w, const char *name, uint32_t ttl, size_t pad)
{
	w_reset(w);
	w_hdr(w, 0x1111, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 1, 0, pad ? 1 : 0);
	w_question(w, name, DNS_TYPE_A, DNS_CLASS_IN);
	w_rr_a(w, ttl, 0x0a000001);
	if (pad) {
		uint8_t xs[127];
		size_t left;

		memset(xs, 'x', sizeof(xs));
		w_ptr(w, DNS_HLEN);
		w_rr_fixed(w, DNS_TYPE_TXT, DNS_CLASS_IN, ttl, (unsigned int)pad);
		/* Strings of at most 1 + 127 bytes, @pad bytes in all. */
		for (left = pad; left; ) {
			size_t k = MIN(left, sizeof(xs) + 1);

			w_u8(w, (unsigned int)(k - 1));
			w_bytes(w, xs, k - 1);
			left -= k;
		}
	}
}

/* A negative answer: NXDOMAIN or NODATA, with or without an SOA. */
static void mk_neg(struct wire *w, const char *name, unsigned int rcode,
		   bool soa, uint32_t soa_ttl, uint32_t minimum)
{
	w_reset(w);
	w_hdr(w, 0x2222, DNS_F_QR | DNS_F_RD | DNS_F_RA | rcode, 1, 0,
	      soa ? 1 : 0, 0);
	w_question(w, name, DNS_TYPE_A, DNS_CLASS_IN);
	if (soa)
		w_rr_soa(w, "example.com", soa_ttl, minimum);
}

static int put(struct dns_cache *c, const struct wire *w, uint64_t now)
{
	struct dns_msg m;
	int r;

	assert_int_equal(dns_msg_parse(w->b, w->n, &m), 0);
	r = dns_cache_put(c, w->b, w->n, &m, now);
	assert_int_equal(dns_cache_verify(c), 0);
	return r;
}

/* Look @name (any case) up; on a hit, parse the copy into @m. */
static int get(struct dns_cache *c, const char *name, uint16_t type,
	       uint64_t now, uint8_t *out, struct dns_msg *m)
{
	struct dns_question q = { .qtype = type, .qclass = DNS_CLASS_IN };
	int n;

	memset(m, 0, sizeof(*m));
	n = dns_name_from_str(name, q.name);
	assert_true(n > 0);
	q.name_len = (uint8_t)n;
	n = dns_cache_get(c, &q, now, out, 65536);
	assert_int_equal(dns_cache_verify(c), 0);
	if (n > 0)
		assert_int_equal(dns_msg_parse(out, (size_t)n, m), 0);
	return n;
}

/* Expire everything and check the cache is empty again. */
static void drain(struct dns_cache *c)
{
	unsigned int i;

	for (i = 0; i < DNS_CACHE_MAX_ENTRIES / DNS_CACHE_GC_SLICE + 1; i++) {
		dns_cache_tick(c, UINT64_MAX);
		if (!dns_cache_get_stats(c)->entries)
			break;
	}
	assert_int_equal(dns_cache_verify(c), 0);
	assert_int_equal(dns_cache_get_stats(c)->entries, 0);
	assert_int_equal(dns_cache_get_stats(c)->bytes, 0);
	assert_int_equal(dns_cache_get_stats(c)->blocks, 0);
	dns_cache_destroy(c);
}

static uint8_t out[65536];

static void test_hit_ages_ttl(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 0);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	struct dns_msg m;
	struct wire w;
	int n;

	(void)state;
	mk_pos(&w, "WWW.Example.com", 300, 0);
	assert_int_equal(put(c, &w, T0), 0);
	assert_int_equal(s->entries, 1);
	assert_int_equal(s->bytes, w.n);
	assert_int_equal(s->blocks, 1);

	n = get(c, "www.example.COM", DNS_TYPE_A, T0, out, &m);
	assert_int_equal(n, (int)w.n);
	assert_int_equal(m.an_min_ttl, 300);
	/* Stored with the lowercased key as the question's name. */
	assert_memory_equal(out + DNS_HLEN, "\3www\7example\3com", 17);
	assert_int_equal(m.id, 0x1111);

	n = get(c, "www.example.com", DNS_TYPE_A, T0 + SEC(10) + 999999999, out,
		&m);
	assert_int_equal(n, (int)w.n);
	assert_int_equal(m.an_min_ttl, 290);	/* whole seconds */
	assert_true(get(c, "www.example.com", DNS_TYPE_A, T0 + SEC(299), out,
			&m) > 0);
	assert_int_equal(m.an_min_ttl, 1);
	assert_int_equal(get(c, "www.example.com", DNS_TYPE_A, T0 + SEC(300),
			     out, &m), -ENOENT);
	assert_int_equal(s->hits, 3);
	assert_int_equal(s->misses, 1);
	assert_int_equal(s->expired, 1);
	assert_int_equal(s->entries, 0);

	/* Other type or class: not the same key. */
	assert_int_equal(put(c, &w, T0), 0);
	assert_int_equal(get(c, "www.example.com", DNS_TYPE_AAAA, T0, out, &m),
			 -ENOENT);
	drain(c);
}

static void test_ttl_clamps(void **state)
{
	struct dns_cache *c = mk(0, 0, 60, 3600, 0);
	struct dns_msg m;
	struct wire w;

	(void)state;
	/* TTL 5 lives 60 s and is served as 60 - age. */
	mk_pos(&w, "short.test", 5, 0);
	assert_int_equal(put(c, &w, T0), 0);
	assert_true(get(c, "short.test", DNS_TYPE_A, T0 + SEC(10), out, &m) > 0);
	assert_int_equal(m.an_min_ttl, 50);
	assert_true(get(c, "short.test", DNS_TYPE_A, T0 + SEC(59), out, &m) > 0);
	assert_int_equal(get(c, "short.test", DNS_TYPE_A, T0 + SEC(60), out, &m),
			 -ENOENT);

	/* A week is served as an hour, and lives an hour. */
	mk_pos(&w, "long.test", 604800, 0);
	assert_int_equal(put(c, &w, T0), 0);
	assert_true(get(c, "long.test", DNS_TYPE_A, T0, out, &m) > 0);
	assert_int_equal(m.an_min_ttl, 3600);
	assert_int_equal(get(c, "long.test", DNS_TYPE_A, T0 + SEC(3600), out, &m),
			 -ENOENT);

	/* TTL 0 with a minimum of 60: cached. */
	mk_pos(&w, "zero.test", 0, 0);
	assert_int_equal(put(c, &w, T0), 0);
	drain(c);

	/* Without a minimum, TTL 0 means do not cache. */
	c = mk(0, 0, 0, 0, 0);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	assert_int_equal(dns_cache_get_stats(c)->uncacheable, 1);
	drain(c);
}

static void test_negative_nxdomain(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 900);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	struct dns_msg m;
	struct wire w;

	(void)state;
	/* min(SOA TTL 3600, MINIMUM 300) = 300. */
	mk_neg(&w, "nope.example.com", DNS_RCODE_NXDOMAIN, true, 3600, 300);
	assert_int_equal(put(c, &w, T0), 0);
	assert_int_equal(s->negative, 1);
	assert_true(get(c, "nope.example.com", DNS_TYPE_A, T0 + SEC(100), out,
			&m) > 0);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_NXDOMAIN);
	assert_int_equal(m.soa_ttl, 200);	/* 300 - 100 */
	assert_int_equal(m.soa_minimum, 300);
	assert_int_equal(get(c, "nope.example.com", DNS_TYPE_A, T0 + SEC(300),
			     out, &m), -ENOENT);

	/* min(SOA TTL 30, MINIMUM 86400) = 30. */
	mk_neg(&w, "nope2.example.com", DNS_RCODE_NXDOMAIN, true, 30, 86400);
	assert_int_equal(put(c, &w, T0), 0);
	assert_true(get(c, "nope2.example.com", DNS_TYPE_A, T0 + SEC(29), out,
			&m) > 0);
	assert_int_equal(get(c, "nope2.example.com", DNS_TYPE_A, T0 + SEC(30),
			     out, &m), -ENOENT);

	/* Capped by neg_max_ttl (900). */
	mk_neg(&w, "nope3.example.com", DNS_RCODE_NXDOMAIN, true, 86400, 86400);
	assert_int_equal(put(c, &w, T0), 0);
	assert_true(get(c, "nope3.example.com", DNS_TYPE_A, T0, out, &m) > 0);
	assert_int_equal(m.soa_ttl, 900);
	assert_true(get(c, "nope3.example.com", DNS_TYPE_A, T0 + SEC(899), out,
			&m) > 0);
	assert_int_equal(get(c, "nope3.example.com", DNS_TYPE_A, T0 + SEC(900),
			     out, &m), -ENOENT);

	/* No SOA: not cached (RFC 2308 section 5). */
	mk_neg(&w, "nosoa.example.com", DNS_RCODE_NXDOMAIN, false, 0, 0);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	drain(c);
}

static void test_negative_nodata(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 0);
	struct dns_msg m;
	struct wire w;

	(void)state;
	mk_neg(&w, "v4only.example.com", DNS_RCODE_NOERROR, true, 600, 120);
	assert_int_equal(put(c, &w, T0), 0);
	assert_true(get(c, "v4only.example.com", DNS_TYPE_A, T0 + SEC(20), out,
			&m) > 0);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	assert_int_equal(m.ancount, 0);
	assert_int_equal(m.soa_ttl, 100);
	assert_int_equal(get(c, "v4only.example.com", DNS_TYPE_A, T0 + SEC(120),
			     out, &m), -ENOENT);
	mk_neg(&w, "v4only.example.com", DNS_RCODE_NOERROR, false, 0, 0);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	drain(c);
}

static void test_uncacheable(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 0);
	struct dns_msg m;
	struct wire w;

	(void)state;
	mk_neg(&w, "x.test", DNS_RCODE_SERVFAIL, true, 60, 60);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	mk_neg(&w, "x.test", DNS_RCODE_REFUSED, true, 60, 60);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	mk_pos(&w, "x.test", 60, 0);
	w_set16(&w, 2, DNS_F_QR | DNS_F_TC);
	assert_int_equal(put(c, &w, T0), -EINVAL);
	mk_pos(&w, "x.test", 60, 0);
	w_set16(&w, 2, 0);	/* a query */
	assert_int_equal(put(c, &w, T0), -EINVAL);
	mk_pos(&w, "x.test", 60, 0);
	w_set16(&w, 10, 1);
	w_opt(&w, 1232, 0);	/* OPT must be stripped first */
	assert_int_equal(put(c, &w, T0), -EINVAL);
	assert_int_equal(dns_cache_get_stats(c)->uncacheable, 5);
	assert_int_equal(get(c, "x.test", DNS_TYPE_A, T0, out, &m), -ENOENT);
	drain(c);
}

static void test_replace(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 0);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	struct dns_msg m;
	struct wire w;

	(void)state;
	mk_pos(&w, "r.test", 100, 0);
	assert_int_equal(put(c, &w, T0), 0);
	mk_pos(&w, "R.TEST", 500, 300);
	assert_int_equal(put(c, &w, T0 + SEC(50)), 0);
	assert_int_equal(s->entries, 1);
	assert_int_equal(s->replaced, 1);
	assert_int_equal(s->bytes, w.n);
	assert_int_equal(get(c, "r.test", DNS_TYPE_A, T0 + SEC(60), out, &m),
			 (int)w.n);
	assert_int_equal(m.an_min_ttl, 490);
	drain(c);
}

static void test_evict_by_entries(void **state)
{
	struct dns_cache *c = mk(4, 0, 0, 0, 0);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	struct dns_msg m;
	struct wire w;
	char name[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%u.test", i);
		mk_pos(&w, name, 100, 0);
		assert_int_equal(put(c, &w, T0 + i), 0);
	}
	/* Touch n0: n1 is now the least recently used. */
	assert_true(get(c, "n0.test", DNS_TYPE_A, T0 + 10, out, &m) > 0);
	mk_pos(&w, "n4.test", 100, 0);
	assert_int_equal(put(c, &w, T0 + 20), 0);
	assert_int_equal(s->entries, 4);
	assert_int_equal(s->evicted, 1);
	assert_int_equal(get(c, "n1.test", DNS_TYPE_A, T0 + 30, out, &m), -ENOENT);
	assert_true(get(c, "n0.test", DNS_TYPE_A, T0 + 30, out, &m) > 0);
	assert_true(get(c, "n4.test", DNS_TYPE_A, T0 + 30, out, &m) > 0);
	drain(c);
}

static void test_evict_by_bytes(void **state)
{
	/* 8 blocks of 128 bytes; each answer takes 3 blocks (~300 bytes). */
	struct dns_cache *c = mk(100, 8 * DNS_CACHE_BLOCK + 5, 0, 0, 0);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	uint32_t max_e, max_b;
	struct dns_msg m;
	struct wire w;
	char name[32];
	unsigned int i;

	(void)state;
	dns_cache_limits(c, &max_e, &max_b);
	assert_int_equal(max_e, 100);
	assert_int_equal(max_b, 8);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "b%u.test", i);
		mk_pos(&w, name, 100, 260);
		assert_true(w.n > 2 * (size_t)DNS_CACHE_BLOCK &&
			    w.n <= 3 * (size_t)DNS_CACHE_BLOCK);
		assert_int_equal(put(c, &w, T0 + i), 0);
		assert_true(s->blocks <= 8);
		assert_true(s->entries <= 2);
	}
	assert_int_equal(s->entries, 2);
	assert_int_equal(s->evicted, 8);
	assert_int_equal(get(c, "b7.test", DNS_TYPE_A, T0 + 20, out, &m), -ENOENT);
	assert_true(get(c, "b8.test", DNS_TYPE_A, T0 + 20, out, &m) > 0);
	assert_true(get(c, "b9.test", DNS_TYPE_A, T0 + 20, out, &m) > 0);
	assert_int_equal(m.arcount, 1);	/* the chain read back whole */

	/* Larger than the whole arena: refused, nothing evicted. */
	mk_pos(&w, "huge.test", 100, 2000);
	assert_int_equal(put(c, &w, T0), -E2BIG);
	assert_int_equal(s->too_big, 1);
	assert_int_equal(s->entries, 2);

	/* A small entry fits beside them without an eviction: 3+3+1 <= 8. */
	mk_pos(&w, "small.test", 100, 0);
	assert_int_equal(put(c, &w, T0 + 30), 0);
	assert_int_equal(s->entries, 3);
	assert_int_equal(s->blocks, 7);
	drain(c);
}

static void test_small_out_buffer(void **state)
{
	struct dns_cache *c = mk(0, 0, 0, 0, 0);
	struct dns_question q = { .qtype = DNS_TYPE_A, .qclass = DNS_CLASS_IN };
	struct wire w;

	(void)state;
	mk_pos(&w, "s.test", 100, 0);
	assert_int_equal(put(c, &w, T0), 0);
	q.name_len = (uint8_t)dns_name_from_str("s.test", q.name);
	assert_int_equal(dns_cache_get(c, &q, T0, out, w.n - 1), -ENOSPC);
	assert_int_equal(dns_cache_get(c, &q, T0, out, w.n), (int)w.n);
	drain(c);
}

static void test_tick_expires(void **state)
{
	struct dns_cache *c = mk(256, 0, 0, 0, 0);
	const struct dns_cache_stats *s = dns_cache_get_stats(c);
	struct wire w;
	char name[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "t%u.test", i);
		mk_pos(&w, name, i % 2 ? 10 : 1000, 0);	/* spread out */
		assert_int_equal(put(c, &w, T0), 0);
	}
	/* One tick ages DNS_CACHE_GC_SLICE slots; 256 / 64 = 4 ticks. */
	dns_cache_tick(c, T0 + SEC(20));
	assert_true(s->entries > 50);
	for (i = 0; i < 3; i++)
		dns_cache_tick(c, T0 + SEC(20));
	assert_int_equal(dns_cache_verify(c), 0);
	assert_int_equal(s->entries, 50);
	assert_int_equal(s->expired, 50);
	drain(c);
}

static void test_create_rejects(void **state)
{
	struct dns_cache_cfg cfg = { .key = &test_key };
	struct dns_cache *c;

	(void)state;
	cfg.max_entries = DNS_CACHE_MAX_ENTRIES + 1;
	assert_int_equal(dns_cache_create(&c, &cfg), -EINVAL);
	assert_null(c);
	cfg.max_entries = 0;
	cfg.max_bytes = DNS_CACHE_BLOCK - 1;
	assert_int_equal(dns_cache_create(&c, &cfg), -EINVAL);
	cfg.max_bytes = 0;
	cfg.min_ttl = 100;
	cfg.max_ttl = 50;
	assert_int_equal(dns_cache_create(&c, &cfg), -EINVAL);
	cfg.min_ttl = 0;
	cfg.max_ttl = 0;
	cfg.key = NULL;		/* random key */
	assert_int_equal(dns_cache_create(&c, &cfg), 0);
	dns_cache_destroy(c);
	dns_cache_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_ages_ttl),
		cmocka_unit_test(test_ttl_clamps),
		cmocka_unit_test(test_negative_nxdomain),
		cmocka_unit_test(test_negative_nodata),
		cmocka_unit_test(test_uncacheable),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_evict_by_entries),
		cmocka_unit_test(test_evict_by_bytes),
		cmocka_unit_test(test_small_out_buffer),
		cmocka_unit_test(test_tick_expires),
		cmocka_unit_test(test_create_rejects),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
