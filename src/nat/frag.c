// SPDX-License-Identifier: MIT
#include "nat/frag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"

static bool frag_match(const void *ctx, uint32_t val, const void *key)
{
	const struct nat_frags *f = ctx;

	return memcmp(&f->ring[val].key, key, sizeof(struct nat_frag_key)) == 0;
}

static uint64_t frag_hash(const struct nat_frags *f, const struct nat_frag_key *k)
{
	return ct_hash_key(&f->hash, k, sizeof(*k));
}

static struct nat_frag *lookup(const struct nat_frags *f,
			       const struct nat_frag_key *key)
{
	uint32_t v = ct_hash_lookup(&f->hash, frag_hash(f, key), key,
				    frag_match, f);

	return v == CT_HASH_EMPTY ? NULL : &f->ring[v];
}

void nat_frag_remember(struct nat_frags *f, const struct nat_frag_key *key,
		       const struct ct_tuple tuple[2], uint32_t flow,
		       uint8_t dir, uint64_t deadline, uint64_t now)
{
	struct nat_frag *e = lookup(f, key);
	ARC_ASSERT(f->ring);	/* initialised by nat_frags_init() */
	if (!e) {
		uint32_t slot = f->next;

		f->next = f->next + 1 == f->cap ? 0 : f->next + 1;
		e = &f->ring[slot];
		if (e->used) {
			if (e->deadline > now)
				f->evicted++;
			ARC_ASSERT(ct_hash_delete(&f->hash, frag_hash(f, &e->key),
						  slot) == 0);
		}
		e->key = *key;
		/* Capacity is cap values at most: this insert always fits
		 * unless the cuckoo path fails; then the entry stays unhashed. */
		e->used = ct_hash_insert(&f->hash, frag_hash(f, key), slot) == 0;
	}
	e->tuple[0] = tuple[0];
	e->tuple[1] = tuple[1];
	e->flow = flow;
	e->dir = dir;
	e->deadline = deadline;
}

const struct nat_frag *nat_frag_find(const struct nat_frags *f,
				     const struct nat_frag_key *key, uint64_t now)
{
	const struct nat_frag *e = lookup(f, key);

	return e && e->deadline > now ? e : NULL;
}

int nat_frags_init(struct nat_frags *f, uint32_t cap, const struct siphash_key *key)
{
	int err;

	memset(f, 0, sizeof(*f));
	if (cap == 0 || cap > (1u << 20))
		return -EINVAL;
	f->ring = calloc(cap, sizeof(*f->ring));
	if (!f->ring)
		return -ENOMEM;
	err = ct_hash_init(&f->hash, cap, key, 0x9e3779b97f4a7c15ULL);
	if (err) {
		free(f->ring);
		f->ring = NULL;
		return err;
	}
	f->cap = cap;
	return 0;
}

void nat_frags_destroy(struct nat_frags *f)
{
	ct_hash_destroy(&f->hash);
	free(f->ring);
	memset(f, 0, sizeof(*f));
}
