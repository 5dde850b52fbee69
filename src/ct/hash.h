/* SPDX-License-Identifier: MIT */
/*
 * hash.h - a fixed-size cuckoo hash index: 64-bit hash -> 32-bit value.
 *
 * Theory of operation: the index stores no keys, only (signature, value)
 * pairs in buckets of CT_HASH_BUCKET_SLOTS slots, one cache line per bucket.
 * Each key hashes (keyed SipHash-1-3 under a random per-index secret,
 * computed by the caller with ct_hash_key(); 1-3 rather than 2-4 because
 * hashing was a third of the NAT's per-packet instructions, and 1-3 is
 * what hash tables use against hash flooding) to a 32-bit signature; the signature alone determines the
 * key's two candidate buckets, so that an entry can be moved to its other
 * bucket without knowing its key. A lookup compares signatures in at most
 * two buckets and asks the caller, through a match callback, whether the
 * value under a matching signature really holds the key (the caller owns
 * the objects the values refer to). So a hit costs the bucket line plus the
 * object's line: the two cache misses that docs/architecture.md
 * "Performance targets" allows.
 *
 * Insertion that finds both buckets full displaces entries along a random
 * cuckoo path of at most CT_HASH_MAX_KICKS moves; if that fails every move
 * is undone and the insert reports -ENOSPC, so nothing is ever lost. The
 * index is sized at init for a maximum number of values at a load factor of
 * at most CT_HASH_LOAD_MAX_PCT percent, where such failures are rare (the
 * caller counts them as drops).
 *
 * Single-threaded: one index belongs to one worker.
 */
#ifndef ARCNAT_CT_HASH_H
#define ARCNAT_CT_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/siphash.h"

#define CT_HASH_BUCKET_SLOTS	8
#define CT_HASH_LOAD_MAX_PCT	75	/* values / slots at full capacity */
#define CT_HASH_MAX_KICKS	128	/* bound on one insertion's cuckoo path */
#define CT_HASH_MAX_VALUES	(1u << 26)
#define CT_HASH_EMPTY		UINT32_MAX	/* not a valid value */

/**
 * struct ct_hash_bucket - one cache line: 8 signatures, 8 values.
 * @sig: signatures; a slot is empty when its value is CT_HASH_EMPTY
 * @val: values
 */
struct ct_hash_bucket {
	uint32_t sig[CT_HASH_BUCKET_SLOTS];
	uint32_t val[CT_HASH_BUCKET_SLOTS];
} __cacheline_aligned;

static_assert(sizeof(struct ct_hash_bucket) == CACHE_LINE_SIZE,
	      "a bucket is one cache line");

/**
 * struct ct_hash - the index.
 * @buckets:   bucket array (one allocation, cache-line aligned)
 * @nbuckets:  number of buckets (not necessarily a power of two)
 * @count:     values stored
 * @key:       SipHash key, random per index
 * @rng:       state of the generator that picks cuckoo victims
 * @kick_fail: inserts that failed after CT_HASH_MAX_KICKS moves
 */
struct ct_hash {
	struct ct_hash_bucket *buckets;
	uint32_t nbuckets;
	uint32_t count;
	struct siphash_key key;
	uint64_t rng;
	uint64_t kick_fail;
};

/**
 * typedef ct_hash_match_fn - does @val hold @key?
 * @ctx: the caller's context
 * @val: a value whose signature matched
 * @key: the key looked up
 *
 * Return: true if the object behind @val has this key.
 */
typedef bool (*ct_hash_match_fn)(const void *ctx, uint32_t val, const void *key);

/**
 * ct_hash_init() - allocate an index for up to @max_values values.
 * @h:          index to initialise
 * @max_values: 1 .. CT_HASH_MAX_VALUES
 * @key:        SipHash key, or NULL to draw a random one
 * @seed:       seed of the victim-choice generator (any value; tests fix it)
 *
 * Return: 0, -EINVAL for a bad size, -ENOMEM, or -errno from getrandom.
 */
int ct_hash_init(struct ct_hash *h, uint32_t max_values,
		 const struct siphash_key *key, uint64_t seed);

/**
 * ct_hash_destroy() - free the index; safe on a zeroed or destroyed one.
 * @h: index
 */
void ct_hash_destroy(struct ct_hash *h);

/**
 * ct_hash_key() - hash @len bytes of key with the index's secret.
 * @h:   index
 * @key: key bytes
 * @len: key length
 *
 * Return: the hash to pass to the other calls.
 */
static inline uint64_t ct_hash_key(const struct ct_hash *h, const void *key,
				   size_t len)
{
	return siphash13(&h->key, key, len);
}

/* Signature and candidate buckets; a signature decides both buckets. */
static inline uint32_t ct_hash_sig(uint64_t hv)
{
	return (uint32_t)hv;
}

static inline uint32_t ct_hash_range(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

static inline uint32_t ct_hash_bucket1(const struct ct_hash *h, uint32_t sig)
{
	return ct_hash_range(sig, h->nbuckets);
}

static inline uint32_t ct_hash_bucket2(const struct ct_hash *h, uint32_t sig)
{
	/* A fixed odd multiplier scrambles the signature for the 2nd choice. */
	uint32_t b1 = ct_hash_bucket1(h, sig);
	uint32_t b2 = ct_hash_range(sig * 0x9e3779b1u + 0x7f4a7c15u, h->nbuckets);

	if (b2 == b1)
		b2 = b1 + 1 == h->nbuckets ? 0 : b1 + 1;
	return b2;
}

/* Start loading the primary bucket of @hv (batch lookups prefetch ahead). */
static inline void ct_hash_prefetch(const struct ct_hash *h, uint64_t hv)
{
	prefetch(&h->buckets[ct_hash_bucket1(h, ct_hash_sig(hv))]);
}

static inline uint32_t ct_hash_find_in(const struct ct_hash_bucket *b,
				       uint32_t sig, const void *key,
				       ct_hash_match_fn match, const void *ctx)
{
	for (unsigned int i = 0; i < CT_HASH_BUCKET_SLOTS; i++) {
		if (b->sig[i] == sig && b->val[i] != CT_HASH_EMPTY &&
		    match(ctx, b->val[i], key))
			return b->val[i];
	}
	return CT_HASH_EMPTY;
}

/**
 * ct_hash_lookup() - find the value holding @key.
 * @h:     index
 * @hv:    ct_hash_key() of @key
 * @key:   the key, passed to @match
 * @match: callback deciding whether a candidate value holds @key
 * @ctx:   passed to @match
 *
 * Inline so that a constant @match is inlined too.
 *
 * Return: the value, or CT_HASH_EMPTY.
 */
static inline uint32_t ct_hash_lookup(const struct ct_hash *h, uint64_t hv,
				      const void *key, ct_hash_match_fn match,
				      const void *ctx)
{
	uint32_t sig = ct_hash_sig(hv);
	uint32_t v;

	v = ct_hash_find_in(&h->buckets[ct_hash_bucket1(h, sig)], sig, key,
			    match, ctx);
	if (v != CT_HASH_EMPTY)
		return v;
	return ct_hash_find_in(&h->buckets[ct_hash_bucket2(h, sig)], sig, key,
			       match, ctx);
}

/**
 * ct_hash_insert() - add @val under hash @hv.
 * @h:   index
 * @hv:  hash of the value's key
 * @val: value (not CT_HASH_EMPTY); the caller guarantees it is not
 *       already present (look up first)
 *
 * Return: 0, or -ENOSPC when no cuckoo path of at most CT_HASH_MAX_KICKS
 * moves frees a slot (the index is then exactly as before the call).
 */
int ct_hash_insert(struct ct_hash *h, uint64_t hv, uint32_t val);

/**
 * ct_hash_delete() - remove @val, stored under hash @hv.
 * @h:   index
 * @hv:  hash it was inserted with
 * @val: value
 *
 * Return: 0, or -ENOENT if it is not there.
 */
int ct_hash_delete(struct ct_hash *h, uint64_t hv, uint32_t val);

/**
 * ct_hash_memory() - bytes of memory the index holds.
 * @h: index
 *
 * Return: the size of the bucket array.
 */
size_t ct_hash_memory(const struct ct_hash *h);

#endif /* ARCNAT_CT_HASH_H */
