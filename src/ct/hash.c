// SPDX-License-Identifier: MIT
/*
 * hash.c - the cuckoo hash index of ct/hash.h: setup, insert, delete.
 *
 * Theory of operation: lookups are inline in hash.h; this file holds what
 * changes the index. The bucket array is allocated once at init and never
 * resized, so nothing here allocates after ct_hash_init().
 *
 * Sizing: nbuckets = ceil(max_values / (slots per bucket * 75%)), at least
 * two (a signature needs two distinct buckets). At that load a bucketised
 * two-choice cuckoo table rarely needs more than a few moves: filling 1 K
 * to 4 M value indexes to 75%, 43 M inserts in all, never failed once,
 * nor did 1 M-value indexes filled to 96% (bench and test runs).
 *
 * Insert: a free slot in bucket1, else in bucket2; bucket1 first so that
 * most hits are found in the bucket ct_hash_prefetch() loads. When both
 * are full, a random walk: carry the new entry into a random slot of one
 * of its buckets, pick up the entry that was there (the victim), and go to
 * the victim's other bucket, which its stored signature alone names. Stop
 * at the first free slot, or after CT_HASH_MAX_KICKS swaps. Each swap is
 * logged (bucket, slot); a swap is its own inverse, so replaying the log
 * backwards restores every slot bit for bit and leaves the carried entry
 * as the one we started with. Nothing is lost on failure, which is what
 * lets the caller treat -ENOSPC as a plain drop.
 *
 * Memory: a large index is mmap()ed, huge pages first (the index is a
 * random-access target for every packet; TLB misses on 4 KiB pages would
 * add a page walk to each lookup), else normal pages with a THP hint. The
 * mapping length is a whole number of huge pages in both cases, so
 * destroy can recompute it from nbuckets without remembering which one
 * we got. A small index comes from aligned_alloc().
 */
#include "ct/hash.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/assert.h"
#include "core/compiler.h"

/* From this size on the bucket array is mmap()ed (one huge page). */
#define CT_HASH_HUGE_SIZE ((size_t)2 * 1024 * 1024)

static_assert(CT_HASH_BUCKET_SLOTS <= UINT8_MAX,
	      "a slot index fits in the kick log's uint8_t");
static_assert(CT_HASH_LOAD_MAX_PCT > 0 && CT_HASH_LOAD_MAX_PCT <= 100,
	      "load factor is a percentage");
static_assert((uint64_t)CT_HASH_MAX_VALUES * 100 <= UINT64_MAX / 2,
	      "bucket count computation cannot overflow 64 bits");
static_assert((uint64_t)CT_HASH_MAX_VALUES * 100 /
			      ((uint64_t)CT_HASH_LOAD_MAX_PCT *
			       CT_HASH_BUCKET_SLOTS) +
		      1 <
	      UINT32_MAX,
	      "nbuckets fits in uint32_t");

/**
 * struct ct_hash_kick - one logged swap of an insertion's cuckoo path.
 * @bucket: bucket index
 * @slot:   slot within it
 */
struct ct_hash_kick {
	uint32_t bucket;
	uint8_t slot;
};

/*
 * splitmix64: any seed, zero included, gives a full-period sequence, and
 * one step is a handful of cycles. Victim choice needs no more than that;
 * it only has to avoid walking the same cycle every time.
 */
static uint64_t ct_hash_rand(struct ct_hash *h)
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t ct_hash_alloc_len(size_t size)
{
	return size >= CT_HASH_HUGE_SIZE ? ALIGN_UP(size, CT_HASH_HUGE_SIZE) :
					   size;
}

static struct ct_hash_bucket *ct_hash_alloc(size_t size)
{
	size_t len = ct_hash_alloc_len(size);
	void *m;

	if (size < CT_HASH_HUGE_SIZE)
		return aligned_alloc(CACHE_LINE_SIZE, size);
#ifdef MAP_HUGETLB
	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m != MAP_FAILED)
		return m;
#endif
	/* No huge pages reserved (the usual case): normal pages. */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* Only a hint (THP may be off); it must come before the first touch. */
	(void)madvise(m, len, MADV_HUGEPAGE);
#endif
	return m;
}

static void ct_hash_free(struct ct_hash_bucket *b, size_t size)
{
	if (size < CT_HASH_HUGE_SIZE)
		free(b);
	else
		(void)munmap(b, ct_hash_alloc_len(size));
}

int ct_hash_init(struct ct_hash *h, uint32_t max_values,
		 const struct siphash_key *key, uint64_t seed)
{
	const uint64_t per_bucket =
		(uint64_t)CT_HASH_LOAD_MAX_PCT * CT_HASH_BUCKET_SLOTS;
	uint64_t nb;
	size_t size;
	uint32_t i, s;

	memset(h, 0, sizeof(*h));
	if (max_values == 0 || max_values > CT_HASH_MAX_VALUES)
		return -EINVAL;
	/* Cannot overflow: max_values <= 2^26 (static_asserts above). */
	nb = ((uint64_t)max_values * 100 + per_bucket - 1) / per_bucket;
	if (nb < 2)
		nb = 2;
	/* 64-bit size_t cannot overflow here; a 32-bit one can. */
	if (__builtin_mul_overflow((size_t)nb, sizeof(struct ct_hash_bucket),
				   &size) ||
	    size > SIZE_MAX - CT_HASH_HUGE_SIZE)
		return -ENOMEM;

	if (key) {
		h->key = *key;
	} else {
		int err = siphash_key_random(&h->key);

		if (err)
			return err;
	}

	h->buckets = ct_hash_alloc(size);
	if (!h->buckets)
		return -ENOMEM;
	h->nbuckets = (uint32_t)nb;
	for (i = 0; i < h->nbuckets; i++) {
		for (s = 0; s < CT_HASH_BUCKET_SLOTS; s++) {
			h->buckets[i].sig[s] = 0;
			h->buckets[i].val[s] = CT_HASH_EMPTY;
		}
	}
	h->rng = seed;
	return 0;
}

void ct_hash_destroy(struct ct_hash *h)
{
	if (!h || !h->buckets)
		return;
	ct_hash_free(h->buckets,
		     (size_t)h->nbuckets * sizeof(struct ct_hash_bucket));
	h->buckets = NULL;
	h->nbuckets = 0;
	h->count = 0;
}

/* Return: a free slot of @b, or -1 if it is full. */
static int ct_hash_free_slot(const struct ct_hash_bucket *b)
{
	for (int i = 0; i < CT_HASH_BUCKET_SLOTS; i++) {
		if (b->val[i] == CT_HASH_EMPTY)
			return i;
	}
	return -1;
}

static void ct_hash_put(struct ct_hash_bucket *b, int slot, uint32_t sig,
			uint32_t val)
{
	b->sig[slot] = sig;
	b->val[slot] = val;
}

/* Exchange (*sig, *val) with slot @slot of @b; applying it twice is a no-op. */
static void ct_hash_swap(struct ct_hash_bucket *b, unsigned int slot,
			 uint32_t *sig, uint32_t *val)
{
	uint32_t s = b->sig[slot], v = b->val[slot];

	b->sig[slot] = *sig;
	b->val[slot] = *val;
	*sig = s;
	*val = v;
}

/*
 * The random walk, entered with both buckets of @sig full. On failure the
 * log is replayed backwards, which puts every victim back where it was and
 * leaves (sig, val) as the entry we were asked to insert (checked).
 */
static int ct_hash_cuckoo(struct ct_hash *h, uint32_t sig, uint32_t val)
{
	struct ct_hash_kick log[CT_HASH_MAX_KICKS];
	const uint32_t sig0 = sig, val0 = val;
	uint64_t r = ct_hash_rand(h);
	uint32_t cur;
	int n;

	/* Start in either bucket: both halves of the path space get used. */
	cur = (r & 1) ? ct_hash_bucket2(h, sig) : ct_hash_bucket1(h, sig);
	for (n = 0; n < CT_HASH_MAX_KICKS; n++) {
		int slot = (int)(ct_hash_rand(h) % CT_HASH_BUCKET_SLOTS);
		uint32_t b1;

		log[n].bucket = cur;
		log[n].slot = (uint8_t)slot;
		ct_hash_swap(&h->buckets[cur], (unsigned int)slot, &sig, &val);

		/* The carried victim lived in cur: go to its other bucket. */
		b1 = ct_hash_bucket1(h, sig);
		cur = b1 == cur ? ct_hash_bucket2(h, sig) : b1;
		slot = ct_hash_free_slot(&h->buckets[cur]);
		if (slot >= 0) {
			ct_hash_put(&h->buckets[cur], slot, sig, val);
			return 0;
		}
	}

	while (n-- > 0)
		ct_hash_swap(&h->buckets[log[n].bucket], log[n].slot, &sig,
			     &val);
	ARC_ASSERT(sig == sig0 && val == val0);
	h->kick_fail++;
	return -ENOSPC;
}

int ct_hash_insert(struct ct_hash *h, uint64_t hv, uint32_t val)
{
	uint32_t sig = ct_hash_sig(hv);
	struct ct_hash_bucket *b;
	int slot;

	ARC_ASSERT(val != CT_HASH_EMPTY);
	b = &h->buckets[ct_hash_bucket1(h, sig)];
	slot = ct_hash_free_slot(b);
	if (slot < 0) {
		b = &h->buckets[ct_hash_bucket2(h, sig)];
		slot = ct_hash_free_slot(b);
	}
	if (slot >= 0) {
		ct_hash_put(b, slot, sig, val);
	} else {
		int err = ct_hash_cuckoo(h, sig, val);

		if (err)
			return err;
	}
	h->count++;
	return 0;
}

/*
 * Return: the slot of @b holding (@sig, @val), or -1.
 *
 * Branch-free over the slots (& not &&, a mask, then its lowest bit): a
 * loop that stops at the entry mispredicts on where it is, and when the
 * bucket is still on its way from memory that mispredict throws away the
 * loads that following deletes had started. On a 4 M index this doubles
 * the delete rate (bench_ct_hash), at ~5 ns more per delete when in cache.
 */
static int ct_hash_find_slot(const struct ct_hash_bucket *b, uint32_t sig,
			     uint32_t val)
{
	unsigned int m = 0;

	for (unsigned int i = 0; i < CT_HASH_BUCKET_SLOTS; i++)
		m |= (unsigned int)((b->val[i] == val) & (b->sig[i] == sig))
		     << i;
	return m ? __builtin_ctz(m) : -1;
}

int ct_hash_delete(struct ct_hash *h, uint64_t hv, uint32_t val)
{
	uint32_t sig = ct_hash_sig(hv);
	struct ct_hash_bucket *b;
	int slot;

	/* EMPTY would "match" a free slot whose stale sig equals @sig. */
	if (val == CT_HASH_EMPTY)
		return -ENOENT;
	b = &h->buckets[ct_hash_bucket1(h, sig)];
	slot = ct_hash_find_slot(b, sig, val);
	if (slot < 0) {
		b = &h->buckets[ct_hash_bucket2(h, sig)];
		slot = ct_hash_find_slot(b, sig, val);
		if (slot < 0)
			return -ENOENT;
	}
	/* A zero sig too, so a free slot looks the same however it got free. */
	ct_hash_put(b, slot, 0, CT_HASH_EMPTY);
	h->count--;
	return 0;
}

size_t ct_hash_memory(const struct ct_hash *h)
{
	return (size_t)h->nbuckets * sizeof(struct ct_hash_bucket);
}
