// SPDX-License-Identifier: MIT
/*
 * test_ct_hash.c - unit tests for src/ct/hash (the cuckoo index).
 *
 * Keys are 16-byte objects in an array and a key's value is its index in
 * that array, as the flow table will use the index; key_match() compares
 * the object behind a value with the key looked up.
 *
 * Besides the round trip and capacity tests, two tests aim at the parts
 * that random keys rarely reach: hand-chosen hashes that all land on the
 * same two buckets, so that the cuckoo walk must fail and undo itself
 * (checked bit for bit against a copy of the bucket array), and a
 * differential test of a million random operations against a plain list
 * of present keys. Randomised tests use fixed seeds, printed on failure.
 * Every test leaves its index empty before destroying it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "ct/hash.h"

#define TEST_SEED      0x6a09e667f3bcc908ULL
#define TEST_HASH_SEED 0x3c6ef372fe94f82bULL

struct tkey {
	uint64_t k[2];
};

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

/* xorshift64*: tiny, deterministic; the state must not be zero. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

static bool key_match(const void *ctx, uint32_t val, const void *key)
{
	const struct tkey *keys = ctx;

	return memcmp(&keys[val], key, sizeof(struct tkey)) == 0;
}

/* @n distinct random keys (distinct so that values are unambiguous). */
static struct tkey *make_keys(uint32_t n, uint64_t *rng)
{
	struct tkey *keys = calloc(n ? n : 1, sizeof(*keys));
	uint32_t i;

	assert_non_null(keys);
	for (i = 0; i < n; i++) {
		keys[i].k[0] = rng_next(rng);
		/* The index in the top bits makes every key distinct. */
		keys[i].k[1] = (rng_next(rng) & 0xffffffffULL) |
			       ((uint64_t)i << 32);
	}
	return keys;
}

static uint64_t hash_of(const struct ct_hash *h, const struct tkey *k)
{
	return ct_hash_key(h, k, sizeof(*k));
}

static uint32_t lookup(const struct ct_hash *h, uint64_t hv,
		       const struct tkey *keys, const struct tkey *k)
{
	return ct_hash_lookup(h, hv, k, key_match, keys);
}

static void assert_all_empty(const struct ct_hash *h)
{
	uint32_t b, s;

	assert_int_equal(h->count, 0);
	for (b = 0; b < h->nbuckets; b++) {
		for (s = 0; s < CT_HASH_BUCKET_SLOTS; s++) {
			if (h->buckets[b].val[s] != CT_HASH_EMPTY ||
			    h->buckets[b].sig[s] != 0)
				fail_msg("bucket %u slot %u not empty: sig %#x val %u",
					 b, s, h->buckets[b].sig[s],
					 h->buckets[b].val[s]);
		}
	}
}

/* Number of slots in use, counted from the buckets themselves. */
static uint32_t used_slots(const struct ct_hash *h)
{
	uint32_t b, s, n = 0;

	for (b = 0; b < h->nbuckets; b++)
		for (s = 0; s < CT_HASH_BUCKET_SLOTS; s++)
			n += h->buckets[b].val[s] != CT_HASH_EMPTY;
	return n;
}

static void *snapshot(const struct ct_hash *h)
{
	void *copy = malloc(ct_hash_memory(h));

	assert_non_null(copy);
	memcpy(copy, h->buckets, ct_hash_memory(h));
	return copy;
}

static void test_round_trip(void **state)
{
	struct ct_hash h;
	uint64_t rng = TEST_SEED, hv[64];
	struct tkey *keys = make_keys(128, &rng);
	uint32_t i;

	(void)state;
	assert_int_equal(ct_hash_init(&h, 100, &test_key, TEST_HASH_SEED), 0);
	assert_int_equal(h.count, 0);
	assert_all_empty(&h);
	for (i = 0; i < 64; i++) {
		hv[i] = hash_of(&h, &keys[i]);
		assert_int_equal(lookup(&h, hv[i], keys, &keys[i]),
				 CT_HASH_EMPTY);
		assert_int_equal(ct_hash_insert(&h, hv[i], i), 0);
		assert_int_equal(h.count, i + 1);
		assert_int_equal(lookup(&h, hv[i], keys, &keys[i]), i);
	}
	/* Keys 64..127 were never inserted. */
	for (i = 64; i < 128; i++) {
		uint64_t v = hash_of(&h, &keys[i]);

		assert_int_equal(lookup(&h, v, keys, &keys[i]), CT_HASH_EMPTY);
		assert_int_equal(ct_hash_delete(&h, v, i), -ENOENT);
	}
	/* Right hash, wrong value; and the reserved value itself. */
	assert_int_equal(ct_hash_delete(&h, hv[3], 4), -ENOENT);
	assert_int_equal(ct_hash_delete(&h, hv[3], CT_HASH_EMPTY), -ENOENT);
	assert_int_equal(h.count, 64);

	for (i = 0; i < 64; i += 2) {
		assert_int_equal(ct_hash_delete(&h, hv[i], i), 0);
		assert_int_equal(ct_hash_delete(&h, hv[i], i), -ENOENT);
	}
	assert_int_equal(h.count, 32);
	for (i = 0; i < 64; i++)
		assert_int_equal(lookup(&h, hv[i], keys, &keys[i]),
				 i % 2 ? i : CT_HASH_EMPTY);
	for (i = 1; i < 64; i += 2)
		assert_int_equal(ct_hash_delete(&h, hv[i], i), 0);
	assert_all_empty(&h);
	assert_int_equal(ct_hash_memory(&h),
			 (size_t)h.nbuckets * sizeof(struct ct_hash_bucket));
	ct_hash_destroy(&h);
	free(keys);
}

/* Many keys under one hash: only match() tells them apart. */
static void test_same_signature(void **state)
{
	const uint64_t hv = 0x123456789abcdef0ULL;
	struct ct_hash h;
	uint64_t rng = TEST_SEED ^ 1;
	struct tkey *keys = make_keys(12, &rng);
	uint32_t i;

	(void)state;
	assert_int_equal(ct_hash_init(&h, 1000, &test_key, TEST_HASH_SEED), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(ct_hash_insert(&h, hv, i), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(lookup(&h, hv, keys, &keys[i]), i);
	assert_int_equal(lookup(&h, hv, keys, &keys[11]), CT_HASH_EMPTY);
	assert_int_equal(ct_hash_delete(&h, hv, 5), 0);
	assert_int_equal(ct_hash_delete(&h, hv, 5), -ENOENT);
	for (i = 0; i < 10; i++)
		assert_int_equal(lookup(&h, hv, keys, &keys[i]),
				 i == 5 ? CT_HASH_EMPTY : i);
	for (i = 0; i < 10; i++)
		if (i != 5)
			assert_int_equal(ct_hash_delete(&h, hv, i), 0);
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	free(keys);
}

/* Fill to exactly max_values with random keys, find all, delete all. */
static void fill_to_capacity(uint32_t max_values, uint64_t seed)
{
	struct ct_hash h;
	uint64_t rng = seed;
	/* One extra set of keys, never inserted, for negative lookups. */
	struct tkey *keys = make_keys(2 * max_values, &rng);
	uint64_t *hv = calloc(2 * (size_t)max_values, sizeof(*hv));
	uint32_t i;

	assert_non_null(hv);
	assert_int_equal(ct_hash_init(&h, max_values, &test_key, seed), 0);
	/* Capacity never exceeds CT_HASH_LOAD_MAX_PCT percent of the slots. */
	assert_true((uint64_t)max_values * 100 <=
		    (uint64_t)h.nbuckets * CT_HASH_BUCKET_SLOTS *
			    CT_HASH_LOAD_MAX_PCT);
	for (i = 0; i < 2 * max_values; i++)
		hv[i] = hash_of(&h, &keys[i]);
	for (i = 0; i < max_values; i++) {
		int err = ct_hash_insert(&h, hv[i], i);

		if (err)
			fail_msg("max_values %u seed %#llx: insert %u failed: %d",
				 max_values, (unsigned long long)seed, i, err);
	}
	assert_int_equal(h.kick_fail, 0);
	assert_int_equal(h.count, max_values);
	assert_int_equal(used_slots(&h), max_values);
	for (i = 0; i < max_values; i++) {
		if (lookup(&h, hv[i], keys, &keys[i]) != i)
			fail_msg("max_values %u seed %#llx: key %u lost",
				 max_values, (unsigned long long)seed, i);
	}
	for (i = max_values; i < 2 * max_values; i++)
		assert_int_equal(lookup(&h, hv[i], keys, &keys[i]),
				 CT_HASH_EMPTY);
	for (i = 0; i < max_values; i++)
		assert_int_equal(ct_hash_delete(&h, hv[i], i), 0);
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	free(hv);
	free(keys);
}

static void test_fill_to_capacity(void **state)
{
	/* 300000 makes a 3.2 MiB index: the mmap() path. */
	static const uint32_t sizes[] = { 1, 2, 7, 13, 1000, 100000, 300000 };
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		fill_to_capacity(sizes[i], TEST_SEED + i);
}

/*
 * Beyond the rated load: keep inserting random keys until one fails (or
 * 97% of the slots are used). Long cuckoo paths are common up there, so
 * this checks that the walk moves entries without losing any, and that a
 * failing insert restores the buckets exactly.
 */
static void test_overfill(void **state)
{
	struct ct_hash h;
	uint64_t rng = TEST_SEED ^ 2;
	uint32_t nslots, n, i, failures = 0;
	struct tkey *keys;
	uint64_t *hv;

	(void)state;
	assert_int_equal(ct_hash_init(&h, 1000, &test_key, TEST_HASH_SEED), 0);
	nslots = h.nbuckets * CT_HASH_BUCKET_SLOTS;
	keys = make_keys(nslots, &rng);
	hv = calloc(nslots, sizeof(*hv));
	assert_non_null(hv);
	for (n = 0; n < nslots * 97 / 100; n++) {
		void *before;
		int err;

		hv[n] = hash_of(&h, &keys[n]);
		before = snapshot(&h);
		err = ct_hash_insert(&h, hv[n], n);
		if (err) {
			assert_int_equal(err, -ENOSPC);
			assert_memory_equal(before, h.buckets,
					    ct_hash_memory(&h));
			assert_int_equal(h.count, n);
			failures++;
			free(before);
			break;
		}
		free(before);
		assert_int_equal(h.count, n + 1);
	}
	assert_int_equal(h.kick_fail, failures);
	/* (2, 8) cuckoo tables hold well past 90%. */
	assert_true(n >= nslots * 90 / 100);
	for (i = 0; i < n; i++) {
		if (lookup(&h, hv[i], keys, &keys[i]) != i)
			fail_msg("key %u of %u lost", i, n);
	}
	assert_int_equal(used_slots(&h), n);
	for (i = 0; i < n; i++)
		assert_int_equal(ct_hash_delete(&h, hv[i], i), 0);
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	free(hv);
	free(keys);
}

/*
 * @n signatures (as hashes) whose two buckets are both those of @sig0:
 * found by scanning, since bucket1 is a range of consecutive signatures.
 */
static void colliding_hashes(const struct ct_hash *h, uint32_t sig0,
			     uint64_t *out, uint32_t n)
{
	uint32_t b1 = ct_hash_bucket1(h, sig0), b2 = ct_hash_bucket2(h, sig0);
	uint32_t found = 0;
	uint64_t s;

	/* Start at the first signature whose bucket1 is b1. */
	s = (((uint64_t)b1 << 32) + h->nbuckets - 1) / h->nbuckets;
	for (; s <= UINT32_MAX && found < n; s++) {
		if (ct_hash_bucket1(h, (uint32_t)s) != b1 ||
		    ct_hash_bucket2(h, (uint32_t)s) != b2)
			continue;
		/* Upper bits vary too: they must not matter. */
		out[found] = s | ((uint64_t)found << 40);
		found++;
	}
	assert_int_equal(found, n);
}

#define NCOLL (2 * CT_HASH_BUCKET_SLOTS + 8)

/*
 * More than 2 * CT_HASH_BUCKET_SLOTS entries aimed at one pair of buckets:
 * with @background random keys around them. Once the two buckets hold
 * only colliders, every further insert must fail and leave the index bit
 * for bit as it was, and nothing inserted before may be lost.
 */
static void forced_collision(uint32_t max_values, uint32_t background,
			     uint64_t seed)
{
	struct ct_hash h;
	uint64_t rng = seed | 1, coll[NCOLL] = { 0 }, *bg_hv;
	struct tkey *keys;
	uint32_t i, ok = 0, nfail = 0, stuck = 0, pb1, pb2;

	assert_int_equal(ct_hash_init(&h, max_values, &test_key, seed), 0);
	keys = make_keys(background + NCOLL, &rng);
	bg_hv = calloc(background + 1, sizeof(*bg_hv));
	assert_non_null(bg_hv);
	for (i = 0; i < background; i++) {
		bg_hv[i] = hash_of(&h, &keys[i]);
		assert_int_equal(ct_hash_insert(&h, bg_hv[i], i), 0);
	}
	colliding_hashes(&h, (uint32_t)rng_next(&rng), coll, NCOLL);
	/*
	 * A random key whose two buckets are the same pair (in either order)
	 * is a collider too; with 6000 keys on 1000 buckets that happens
	 * about once in a hundred seeds.
	 */
	pb1 = ct_hash_bucket1(&h, (uint32_t)coll[0]);
	pb2 = ct_hash_bucket2(&h, (uint32_t)coll[0]);
	for (i = 0; i < background; i++) {
		uint32_t x1 = ct_hash_bucket1(&h, ct_hash_sig(bg_hv[i]));
		uint32_t x2 = ct_hash_bucket2(&h, ct_hash_sig(bg_hv[i]));

		stuck += (x1 == pb1 && x2 == pb2) || (x1 == pb2 && x2 == pb1);
	}

	for (i = 0; i < NCOLL; i++) {
		uint32_t val = background + i;
		uint64_t kf = h.kick_fail;
		void *before = snapshot(&h);
		int err = ct_hash_insert(&h, coll[i], val);

		if (err == 0) {
			/* After a failure the pair holds only colliders. */
			assert_int_equal(nfail, 0);
			ok++;
		} else {
			assert_int_equal(err, -ENOSPC);
			assert_memory_equal(before, h.buckets,
					    ct_hash_memory(&h));
			assert_int_equal(h.kick_fail, kf + 1);
			nfail++;
		}
		free(before);
		assert_int_equal(h.count, background + ok);
	}
	/* Exactly the two buckets' worth of colliders fit, whatever else. */
	assert_int_equal(ok + stuck, 2 * CT_HASH_BUCKET_SLOTS);
	assert_int_equal(nfail, NCOLL - ok);

	for (i = 0; i < background; i++)
		assert_int_equal(lookup(&h, bg_hv[i], keys, &keys[i]), i);
	for (i = 0; i < NCOLL; i++)
		assert_int_equal(lookup(&h, coll[i], keys,
					&keys[background + i]),
				 i < ok ? background + i : CT_HASH_EMPTY);

	/* Freeing one slot makes room for exactly one more. */
	assert_int_equal(ct_hash_delete(&h, coll[3], background + 3), 0);
	assert_int_equal(ct_hash_insert(&h, coll[ok], background + ok), 0);
	assert_int_equal(ct_hash_insert(&h, coll[ok + 1], background + ok + 1),
			 -ENOSPC);
	assert_int_equal(lookup(&h, coll[ok], keys, &keys[background + ok]),
			 background + ok);

	for (i = 0; i <= ok; i++)
		if (i != 3)
			assert_int_equal(ct_hash_delete(&h, coll[i],
							background + i),
					 0);
	for (i = 0; i < background; i++)
		assert_int_equal(ct_hash_delete(&h, bg_hv[i], i), 0);
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	free(bg_hv);
	free(keys);
}

static void test_forced_collision(void **state)
{
	(void)state;
	/* Two buckets in all: every signature collides; zero rng seed. */
	forced_collision(1, 0, 0);
	forced_collision(6000, 0, TEST_SEED);
	/* Random neighbours in the pair get pushed out to make room. */
	forced_collision(6000, 4000, TEST_SEED + 1);
	forced_collision(6000, 6000 - NCOLL, TEST_SEED + 2);
}

/*
 * Reference model: the set of present keys as a list plus each key's
 * position in it (UINT32_MAX when absent), so add and remove are O(1).
 */
struct ref {
	uint32_t *list;
	uint32_t *pos;
	uint32_t n;
};

static void ref_add(struct ref *r, uint32_t k)
{
	r->pos[k] = r->n;
	r->list[r->n++] = k;
}

static void ref_del(struct ref *r, uint32_t k)
{
	uint32_t p = r->pos[k], last = r->list[--r->n];

	r->list[p] = last;
	r->pos[last] = p;
	r->pos[k] = UINT32_MAX;
}

#define DIFF_CAP   10000
#define DIFF_KEYS  30000u

static_assert(DIFF_KEYS == 3 * DIFF_CAP, "a third of the keys fit at once");
#define DIFF_OPS   1000000
#define DIFF_PHASE 100000

static void test_random_ops_differential(void **state)
{
	const uint64_t seed = TEST_SEED ^ 3;
	uint64_t rng = seed, *hv;
	struct ct_hash h;
	struct tkey *keys = make_keys(DIFF_KEYS, &rng);
	struct ref r;
	uint32_t op, k, max_seen = 0;

	(void)state;
	r.list = calloc(DIFF_KEYS, sizeof(*r.list));
	r.pos = malloc(DIFF_KEYS * sizeof(*r.pos));
	hv = calloc(DIFF_KEYS, sizeof(*hv));
	assert_non_null(r.list);
	assert_non_null(r.pos);
	assert_non_null(hv);
	memset(r.pos, 0xff, DIFF_KEYS * sizeof(*r.pos));
	r.n = 0;
	assert_int_equal(ct_hash_init(&h, DIFF_CAP, &test_key, seed), 0);
	for (k = 0; k < DIFF_KEYS; k++)
		hv[k] = hash_of(&h, &keys[k]);

	for (op = 0; op < DIFF_OPS; op++) {
		/* Alternate filling and draining phases. */
		bool filling = (op / DIFF_PHASE) % 2 == 0;
		uint32_t dice = rng_below(&rng, 100);
		int err;

		k = rng_below(&rng, DIFF_KEYS);
		if (dice < 20) {
			uint32_t got = lookup(&h, hv[k], keys, &keys[k]);
			if (got != (r.pos[k] != UINT32_MAX ? k : CT_HASH_EMPTY))
				fail_msg("seed %#llx op %u: lookup %u gave %u",
					 (unsigned long long)seed, op, k, got);
		} else if (dice < (filling ? 75u : 45u)) {
			/* Insert: an absent key, the way callers do it. */
			if (r.n == DIFF_CAP || r.pos[k] != UINT32_MAX)
				continue;
			err = ct_hash_insert(&h, hv[k], k);
			if (err)
				fail_msg("seed %#llx op %u: insert %u at %u/%u: %d",
					 (unsigned long long)seed, op, k, r.n,
					 DIFF_CAP, err);
			ref_add(&r, k);
		} else {
			/* Delete: mostly present keys, some absent ones. */
			if (r.n && rng_below(&rng, 8))
				k = r.list[rng_below(&rng, r.n)];
			err = ct_hash_delete(&h, hv[k], k);
			if (err != (r.pos[k] != UINT32_MAX ? 0 : -ENOENT))
				fail_msg("seed %#llx op %u: delete %u gave %d",
					 (unsigned long long)seed, op, k, err);
			if (!err)
				ref_del(&r, k);
		}
		if (h.count != r.n)
			fail_msg("seed %#llx op %u: count %u, model %u",
				 (unsigned long long)seed, op, h.count, r.n);
		max_seen = MAX(max_seen, r.n);
	}
	/* The test reached the rated load (75% of the slots). */
	assert_int_equal(max_seen, DIFF_CAP);
	assert_int_equal(h.kick_fail, 0);
	for (k = 0; k < DIFF_KEYS; k++)
		assert_int_equal(lookup(&h, hv[k], keys, &keys[k]),
				 r.pos[k] != UINT32_MAX ? k : CT_HASH_EMPTY);
	while (r.n) {
		k = r.list[r.n - 1];
		assert_int_equal(ct_hash_delete(&h, hv[k], k), 0);
		ref_del(&r, k);
	}
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	free(hv);
	free(r.pos);
	free(r.list);
	free(keys);
}

static void check_buckets(const struct ct_hash *h, uint32_t sig)
{
	uint32_t b1 = ct_hash_bucket1(h, sig), b2 = ct_hash_bucket2(h, sig);

	if (b1 == b2 || b1 >= h->nbuckets || b2 >= h->nbuckets)
		fail_msg("nbuckets %u sig %#x: buckets %u %u", h->nbuckets, sig,
			 b1, b2);
}

static void test_bucket_choice(void **state)
{
	/* max_values -> expected nbuckets = ceil(max * 100 / 600), >= 2. */
	static const struct {
		uint32_t max_values, nbuckets;
	} cases[] = {
		{ 1, 2 }, { 12, 2 }, { 13, 3 }, { 18, 3 }, { 19, 4 },
		{ 6000, 1000 }, { 6001, 1001 }, { 100000, 16667 },
	};
	uint64_t rng = TEST_SEED ^ 4;
	unsigned int c;
	uint32_t i;

	(void)state;
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ct_hash h;

		assert_int_equal(ct_hash_init(&h, cases[c].max_values,
					      &test_key, 0),
				 0);
		assert_int_equal(h.nbuckets, cases[c].nbuckets);
		assert_int_equal(ct_hash_memory(&h),
				 (size_t)cases[c].nbuckets * 64);
		for (i = 0; i < 32; i++) {
			check_buckets(&h, i);
			check_buckets(&h, UINT32_MAX - i);
			check_buckets(&h, 0x80000000u + i);
			check_buckets(&h, 0x7fffffffu - i);
		}
		for (i = 0; i < 1000000; i++)
			check_buckets(&h, (uint32_t)rng_next(&rng));
		/* And each bucket boundary of bucket1, on both sides. */
		for (i = 1; i < MIN(h.nbuckets, 2000u); i++) {
			uint32_t s = (uint32_t)((((uint64_t)i << 32) +
						 h.nbuckets - 1) /
						h.nbuckets);

			assert_int_equal(ct_hash_bucket1(&h, s), i);
			assert_int_equal(ct_hash_bucket1(&h, s - 1), i - 1);
			check_buckets(&h, s);
			check_buckets(&h, s - 1);
		}
		assert_all_empty(&h);
		ct_hash_destroy(&h);
	}
}

static void test_init_errors(void **state)
{
	struct ct_hash h, h2;

	(void)state;
	memset(&h, 0, sizeof(h));
	ct_hash_destroy(&h);
	ct_hash_destroy(&h);
	ct_hash_destroy(NULL);

	assert_int_equal(ct_hash_init(&h, 0, NULL, 1), -EINVAL);
	assert_null(h.buckets);
	ct_hash_destroy(&h);
	assert_int_equal(ct_hash_init(&h, CT_HASH_MAX_VALUES + 1, NULL, 1),
			 -EINVAL);
	assert_int_equal(ct_hash_init(&h, UINT32_MAX, NULL, 1), -EINVAL);
	ct_hash_destroy(&h);

	/* A random key: two indexes hash the same input differently. */
	assert_int_equal(ct_hash_init(&h, 10, NULL, 0), 0);
	assert_int_equal(ct_hash_init(&h2, 10, NULL, 0), 0);
	assert_true(h.key.k[0] != h2.key.k[0] || h.key.k[1] != h2.key.k[1]);
	assert_true(ct_hash_key(&h, "flow", 4) != ct_hash_key(&h2, "flow", 4));
	assert_int_equal((uintptr_t)h.buckets % CACHE_LINE_SIZE, 0);
	ct_hash_destroy(&h2);
	ct_hash_destroy(&h);
	assert_null(h.buckets);
	ct_hash_destroy(&h);

	/* A given key is used as is. */
	assert_int_equal(ct_hash_init(&h, 10, &test_key, 0), 0);
	assert_memory_equal(&h.key, &test_key, sizeof(test_key));
	ct_hash_destroy(&h);

	/* Large (mmap()ed) index: aligned, all empty, freed twice safely. */
	assert_int_equal(ct_hash_init(&h, 1u << 20, &test_key, 0), 0);
	assert_true(ct_hash_memory(&h) >= (size_t)2 * 1024 * 1024);
	assert_int_equal((uintptr_t)h.buckets % CACHE_LINE_SIZE, 0);
	assert_all_empty(&h);
	ct_hash_destroy(&h);
	ct_hash_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_same_signature),
		cmocka_unit_test(test_fill_to_capacity),
		cmocka_unit_test(test_overfill),
		cmocka_unit_test(test_forced_collision),
		cmocka_unit_test(test_random_ops_differential),
		cmocka_unit_test(test_bucket_choice),
		cmocka_unit_test(test_init_errors),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
