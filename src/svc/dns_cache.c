// SPDX-License-Identifier: MIT
/*
 * dns_cache.c - DNS answer cache: entry table, hash index, LRU list and a
 * block arena. Theory of operation in dns_cache.h.
 */
#include "svc/dns_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "core/siphash.h"

#define NIL UINT32_MAX

/* One cached answer. Unused entries are chained through @hnext. */
struct dc_entry {
	uint64_t hash;
	uint64_t stored;	/* ns */
	uint64_t expires;	/* ns; a lookup at or after it misses */
	uint32_t hnext;		/* hash chain, or free list */
	uint32_t prev, next;	/* LRU list, most recent first */
	uint32_t first;		/* first arena block */
	uint32_t len;		/* message bytes */
	uint32_t ttl_lo, ttl_hi; /* clamp applied to served TTLs */
	uint16_t qtype, qclass;
	uint8_t name_len;
	bool in_use;
	bool negative;		/* NXDOMAIN or NODATA */
};

struct dns_cache {
	struct dns_cache_cfg cfg;
	struct siphash_key key;
	struct dc_entry *ent;
	uint32_t *bucket;	/* hash index heads */
	uint32_t bmask;
	uint32_t free_ent;	/* free entry list */
	uint32_t lru_head, lru_tail;
	uint8_t *arena;
	uint32_t *bnext;	/* per block: the next of its chain or list */
	uint32_t n_blocks;
	uint32_t free_blk;	/* free block list */
	uint32_t n_free_blk;
	uint32_t gc_pos;
	struct dns_cache_stats stats;
};

static uint32_t blocks_for(size_t len)
{
	return (uint32_t)((len + DNS_CACHE_BLOCK - 1) / DNS_CACHE_BLOCK);
}

static uint64_t key_hash(const struct dns_cache *c, const uint8_t *name,
			 size_t name_len, uint16_t qtype, uint16_t qclass)
{
	uint8_t k[DNS_NAME_MAX + 4];

	memcpy(k, name, name_len);
	k[name_len] = (uint8_t)(qtype >> 8);
	k[name_len + 1] = (uint8_t)qtype;
	k[name_len + 2] = (uint8_t)(qclass >> 8);
	k[name_len + 3] = (uint8_t)qclass;
	return siphash13(&c->key, k, name_len + 4);
}

/* ---- arena: a message is a chain of blocks ---- */

static uint8_t *block(const struct dns_cache *c, uint32_t b)
{
	return c->arena + (size_t)b * DNS_CACHE_BLOCK;
}

/* The block holding byte @off of the chain starting at @b; *off becomes
 * the offset inside it. Bounded by the number of blocks. */
static uint32_t chain_seek(const struct dns_cache *c, uint32_t b, size_t *off)
{
	uint32_t i;

	for (i = 0; *off >= DNS_CACHE_BLOCK && i < c->n_blocks; i++) {
		b = c->bnext[b];
		*off -= DNS_CACHE_BLOCK;
	}
	return b;
}

/* Copy @n bytes at @off of the chain starting at @b out to @dst. */
static void chain_read(const struct dns_cache *c, uint32_t b, size_t off,
		       uint8_t *dst, size_t n)
{
	b = chain_seek(c, b, &off);
	while (n) {
		size_t k = MIN(n, DNS_CACHE_BLOCK - off);

		ARC_ASSERT(b < c->n_blocks);
		memcpy(dst, block(c, b) + off, k);
		dst += k;
		n -= k;
		off = 0;
		b = c->bnext[b];
	}
}

/* Copy @n bytes from @src into the chain starting at @b, at @off. */
static void chain_write(const struct dns_cache *c, uint32_t b, size_t off,
			const uint8_t *src, size_t n)
{
	b = chain_seek(c, b, &off);
	while (n) {
		size_t k = MIN(n, DNS_CACHE_BLOCK - off);

		ARC_ASSERT(b < c->n_blocks);
		memcpy(block(c, b) + off, src, k);
		src += k;
		n -= k;
		off = 0;
		b = c->bnext[b];
	}
}

static bool chain_equal(const struct dns_cache *c, uint32_t b, size_t off,
			const uint8_t *buf, size_t n)
{
	uint8_t tmp[DNS_NAME_MAX];

	ARC_ASSERT(n <= sizeof(tmp));
	chain_read(c, b, off, tmp, n);
	return memcmp(tmp, buf, n) == 0;
}

static uint32_t chain_alloc(struct dns_cache *c, uint32_t n)
{
	uint32_t first = c->free_blk, b = first, i;

	ARC_ASSERT(n >= 1 && n <= c->n_free_blk);
	for (i = 1; i < n; i++)
		b = c->bnext[b];
	c->free_blk = c->bnext[b];
	c->bnext[b] = NIL;
	c->n_free_blk -= n;
	return first;
}

static void chain_free(struct dns_cache *c, uint32_t first, uint32_t n)
{
	uint32_t b = first, i;

	for (i = 1; i < n; i++)
		b = c->bnext[b];
	c->bnext[b] = c->free_blk;
	c->free_blk = first;
	c->n_free_blk += n;
}

/* ---- entries: LRU list and hash index ---- */

static void lru_unlink(struct dns_cache *c, uint32_t i)
{
	struct dc_entry *e = &c->ent[i];

	if (e->prev != NIL)
		c->ent[e->prev].next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NIL)
		c->ent[e->next].prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NIL;
}

static void lru_push_front(struct dns_cache *c, uint32_t i)
{
	struct dc_entry *e = &c->ent[i];

	e->prev = NIL;
	e->next = c->lru_head;
	if (c->lru_head != NIL)
		c->ent[c->lru_head].prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

static void hash_unlink(struct dns_cache *c, uint32_t i)
{
	uint32_t *p = &c->bucket[c->ent[i].hash & c->bmask], n;
	bool found = false;

	/* Chains hold live entries only: bounded by the table size. */
	for (n = 0; *p != NIL && n < c->cfg.max_entries; n++) {
		if (*p == i) {
			*p = c->ent[i].hnext;
			found = true;
			break;
		}
		p = &c->ent[*p].hnext;
	}
	ARC_ASSERT(found);	/* every live entry is in its chain */
}

static void entry_free(struct dns_cache *c, uint32_t i)
{
	struct dc_entry *e = &c->ent[i];

	hash_unlink(c, i);
	lru_unlink(c, i);
	chain_free(c, e->first, blocks_for(e->len));
	c->stats.entries--;
	c->stats.blocks -= blocks_for(e->len);
	c->stats.bytes -= e->len;
	e->in_use = false;
	e->hnext = c->free_ent;
	c->free_ent = i;
}

static uint32_t entry_find(const struct dns_cache *c, uint64_t h,
			   const uint8_t *name, size_t name_len, uint16_t qtype,
			   uint16_t qclass)
{
	uint32_t i = c->bucket[h & c->bmask], n;

	for (n = 0; i != NIL && n < c->cfg.max_entries; n++) {
		const struct dc_entry *e = &c->ent[i];

		/* The stored question's name is the lowercased key. */
		if (e->hash == h && e->qtype == qtype && e->qclass == qclass &&
		    e->name_len == name_len &&
		    chain_equal(c, e->first, DNS_HLEN, name, name_len))
			return i;
		i = e->hnext;
	}
	return NIL;
}

/* ---- the rules: how long an answer may be kept ---- */

static int answer_ttl(const struct dns_cache *c, const struct dns_msg *m,
		      uint32_t *ttl, uint32_t *lo, uint32_t *hi)
{
	unsigned int rcode = dns_msg_rcode(m);
	uint32_t t;

	if (!(m->flags & DNS_F_QR) || (m->flags & DNS_F_TC) || !m->q_ok ||
	    m->has_opt || dns_msg_opcode(m) != DNS_OPCODE_QUERY)
		return -EINVAL;
	if (rcode == DNS_RCODE_NOERROR && m->has_an_ttl) {
		t = MIN(m->an_min_ttl, c->cfg.max_ttl);
		*ttl = MAX(t, c->cfg.min_ttl);
		*lo = c->cfg.min_ttl;
		*hi = c->cfg.max_ttl;
	} else if (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) {
		if (!m->has_soa)
			return -EINVAL;	/* RFC 2308 section 5 */
		t = MIN(m->soa_ttl, m->soa_minimum);
		t = MIN(t, c->cfg.neg_max_ttl);
		if (m->has_an_ttl)	/* NXDOMAIN after a CNAME chain */
			t = MIN(t, m->an_min_ttl);
		*ttl = t;
		*lo = 0;
		*hi = t;
	} else {
		return -EINVAL;
	}
	return *ttl ? 0 : -EINVAL;
}

/* ---- API ---- */

int dns_cache_create(struct dns_cache **out, const struct dns_cache_cfg *cfg)
{
	struct dns_cache *c;
	uint32_t i, nb = 1;
	int r = -ENOMEM;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	if (!c->cfg.max_entries)
		c->cfg.max_entries = DNS_CACHE_DEFAULT_ENTRIES;
	if (!c->cfg.max_bytes)
		c->cfg.max_bytes = DNS_CACHE_DEFAULT_BYTES;
	if (!c->cfg.max_ttl)
		c->cfg.max_ttl = DNS_CACHE_DEFAULT_MAX_TTL;
	if (!c->cfg.neg_max_ttl)
		c->cfg.neg_max_ttl = DNS_CACHE_DEFAULT_NEG_TTL;
	c->cfg.key = NULL;
	if (c->cfg.max_entries > DNS_CACHE_MAX_ENTRIES ||
	    c->cfg.max_bytes > DNS_CACHE_MAX_BYTES ||
	    c->cfg.max_bytes < DNS_CACHE_BLOCK ||
	    c->cfg.min_ttl > c->cfg.max_ttl || c->cfg.max_ttl > DNS_TTL_MAX) {
		r = -EINVAL;
		goto err_free;
	}
	if (cfg->key) {
		c->key = *cfg->key;
	} else {
		r = siphash_key_random(&c->key);
		if (r)
			goto err_free;
		r = -ENOMEM;
	}
	while (nb < c->cfg.max_entries)
		nb <<= 1;
	c->bmask = nb - 1;
	c->n_blocks = c->cfg.max_bytes / DNS_CACHE_BLOCK;
	c->ent = calloc(c->cfg.max_entries, sizeof(*c->ent));
	c->bucket = malloc((size_t)nb * sizeof(*c->bucket));
	c->arena = malloc((size_t)c->n_blocks * DNS_CACHE_BLOCK);
	c->bnext = malloc((size_t)c->n_blocks * sizeof(*c->bnext));
	if (!c->ent || !c->bucket || !c->arena || !c->bnext)
		goto err_free;
	for (i = 0; i < nb; i++)
		c->bucket[i] = NIL;
	for (i = 0; i < c->cfg.max_entries; i++) {
		c->ent[i].hnext = i + 1 < c->cfg.max_entries ? i + 1 : NIL;
		c->ent[i].prev = c->ent[i].next = NIL;
	}
	for (i = 0; i < c->n_blocks; i++)
		c->bnext[i] = i + 1 < c->n_blocks ? i + 1 : NIL;
	c->free_ent = 0;
	c->free_blk = 0;
	c->n_free_blk = c->n_blocks;
	c->lru_head = c->lru_tail = NIL;
	*out = c;
	return 0;

err_free:
	dns_cache_destroy(c);
	return r;
}

void dns_cache_destroy(struct dns_cache *c)
{
	if (!c)
		return;
	free(c->bnext);
	free(c->arena);
	free(c->bucket);
	free(c->ent);
	free(c);
}

int dns_cache_put(struct dns_cache *c, const uint8_t *msg, size_t len,
		  const struct dns_msg *m, uint64_t now)
{
	uint32_t ttl, lo, hi, need, i, n;
	struct dc_entry *e;
	uint64_t h;

	if (answer_ttl(c, m, &ttl, &lo, &hi) || len != m->len) {
		c->stats.uncacheable++;
		return -EINVAL;
	}
	need = blocks_for(len);
	if (len > DNS_MSG_MAX || need > c->n_blocks) {
		c->stats.too_big++;
		return -E2BIG;
	}
	h = key_hash(c, m->q.name, m->q.name_len, m->q.qtype, m->q.qclass);
	i = entry_find(c, h, m->q.name, m->q.name_len, m->q.qtype, m->q.qclass);
	if (i != NIL) {
		entry_free(c, i);
		c->stats.replaced++;
	}
	/* Evict from the cold end until both bounds leave room; each step
	 * frees one entry, so at most max_entries steps. */
	for (n = 0; (c->free_ent == NIL || c->n_free_blk < need) &&
		    n < c->cfg.max_entries; n++) {
		ARC_ASSERT(c->lru_tail != NIL);
		entry_free(c, c->lru_tail);
		c->stats.evicted++;
	}
	ARC_ASSERT(c->free_ent != NIL && c->n_free_blk >= need);

	i = c->free_ent;
	e = &c->ent[i];
	c->free_ent = e->hnext;
	e->hash = h;
	e->stored = now;
	e->expires = now + (uint64_t)ttl * NSEC_PER_SEC;
	e->len = (uint32_t)len;
	e->ttl_lo = lo;
	e->ttl_hi = hi;
	e->qtype = m->q.qtype;
	e->qclass = m->q.qclass;
	e->name_len = m->q.name_len;
	e->in_use = true;
	e->first = chain_alloc(c, need);
	chain_write(c, e->first, 0, msg, len);
	/* The question's name (never compressed, see dns_msg.h) becomes the
	 * lowercased key, which entry_find() compares against. */
	chain_write(c, e->first, DNS_HLEN, m->q.name, m->q.name_len);
	e->hnext = c->bucket[h & c->bmask];
	c->bucket[h & c->bmask] = i;
	lru_push_front(c, i);
	c->stats.entries++;
	c->stats.blocks += need;
	c->stats.bytes += len;
	c->stats.inserts++;
	e->negative = !m->has_an_ttl || dns_msg_rcode(m) != DNS_RCODE_NOERROR;
	if (e->negative)
		c->stats.negative++;
	return 0;
}

int dns_cache_get(struct dns_cache *c, const struct dns_question *q,
		  uint64_t now, uint8_t *out, size_t cap)
{
	uint64_t h = key_hash(c, q->name, q->name_len, q->qtype, q->qclass);
	uint32_t i = entry_find(c, h, q->name, q->name_len, q->qtype,
				q->qclass);
	struct dc_entry *e;
	uint64_t age;
	int r;

	if (i == NIL) {
		c->stats.misses++;
		return -ENOENT;
	}
	e = &c->ent[i];
	if (now >= e->expires) {
		entry_free(c, i);
		c->stats.expired++;
		c->stats.misses++;
		return -ENOENT;
	}
	if (e->len > cap) {
		c->stats.misses++;
		return -ENOSPC;
	}
	chain_read(c, e->first, 0, out, e->len);
	age = now > e->stored ? (now - e->stored) / NSEC_PER_SEC : 0;
	/* It parsed when stored, and the arena is ours: it parses now. */
	r = dns_msg_adjust_ttls(out, e->len, e->ttl_lo, e->ttl_hi,
				(uint32_t)MIN(age, (uint64_t)DNS_TTL_MAX));
	ARC_ASSERT(r == 0);
	lru_unlink(c, i);
	lru_push_front(c, i);
	c->stats.hits++;
	return (int)e->len;
}

void dns_cache_tick(struct dns_cache *c, uint64_t now)
{
	uint32_t n;

	for (n = 0; n < DNS_CACHE_GC_SLICE && n < c->cfg.max_entries; n++) {
		uint32_t i = c->gc_pos;

		c->gc_pos = i + 1 < c->cfg.max_entries ? i + 1 : 0;
		if (c->ent[i].in_use && now >= c->ent[i].expires) {
			entry_free(c, i);
			c->stats.expired++;
		}
	}
}

int dns_cache_next(const struct dns_cache *c, uint32_t *pos, uint64_t now,
		   struct dns_cache_info *info, uint8_t *out, size_t cap)
{
	uint32_t i;
	uint64_t age;
	int r;

	for (i = *pos; i < c->cfg.max_entries; i++) {
		const struct dc_entry *e = &c->ent[i];

		if (!e->in_use || now >= e->expires)
			continue;
		*pos = i;
		if (e->len > cap)
			return -ENOSPC;
		chain_read(c, e->first, 0, out, e->len);
		age = now > e->stored ? (now - e->stored) / NSEC_PER_SEC : 0;
		r = dns_msg_adjust_ttls(out, e->len, e->ttl_lo, e->ttl_hi,
					(uint32_t)MIN(age, (uint64_t)DNS_TTL_MAX));
		ARC_ASSERT(r == 0);	/* it parsed when stored */
		info->qtype = e->qtype;
		info->qclass = e->qclass;
		info->ttl_left = (uint32_t)((e->expires - now) / NSEC_PER_SEC);
		info->negative = e->negative;
		info->len = e->len;
		*pos = i + 1;
		return (int)e->len;
	}
	*pos = c->cfg.max_entries;
	return -ENOENT;
}

uint32_t dns_cache_flush(struct dns_cache *c)
{
	uint32_t n = 0;

	/* Every live entry is on the LRU list: at most max_entries steps. */
	while (c->lru_head != NIL && n < c->cfg.max_entries) {
		entry_free(c, c->lru_head);
		n++;
	}
	return n;
}

/* Mark the blocks of one chain in @seen; false if one was already seen. */
static bool mark_chain(const struct dns_cache *c, uint32_t b, uint32_t n,
		       uint8_t *seen)
{
	uint32_t k;

	for (k = 0; k < n; k++) {
		if (b >= c->n_blocks || seen[b])
			return false;
		seen[b] = 1;
		b = c->bnext[b];
	}
	return true;
}

int dns_cache_verify(const struct dns_cache *c)
{
	uint32_t i, n, b, live = 0, in_use = 0, chained = 0, nfree = 0;
	uint32_t blocks = 0, prev = NIL;
	uint8_t name[DNS_NAME_MAX];
	uint64_t bytes = 0;
	uint8_t *seen;
	int r = -EUCLEAN;

	seen = calloc(c->n_blocks, 1);
	if (!seen)
		return -ENOMEM;
	/* LRU list: every live entry once, links consistent, findable. */
	for (i = c->lru_head; i != NIL; i = c->ent[i].next) {
		const struct dc_entry *e = &c->ent[i];

		if (live >= c->cfg.max_entries || !e->in_use ||
		    e->prev != prev || e->name_len < 1 ||
		    !mark_chain(c, e->first, blocks_for(e->len), seen))
			goto out;
		chain_read(c, e->first, DNS_HLEN, name, e->name_len);
		if (entry_find(c, e->hash, name, e->name_len, e->qtype,
			       e->qclass) != i)
			goto out;
		live++;
		blocks += blocks_for(e->len);
		bytes += e->len;
		prev = i;
	}
	if (prev != c->lru_tail)
		goto out;
	for (i = 0; i < c->cfg.max_entries; i++)
		in_use += c->ent[i].in_use;
	if (in_use != live || live != c->stats.entries ||
	    blocks != c->stats.blocks || bytes != c->stats.bytes ||
	    (uint64_t)blocks * DNS_CACHE_BLOCK > c->cfg.max_bytes)
		goto out;
	/* Hash index: each live entry in its own bucket's chain. */
	for (i = 0; i <= c->bmask; i++) {
		for (b = c->bucket[i], n = 0; b != NIL; b = c->ent[b].hnext) {
			if (++n > live || !c->ent[b].in_use ||
			    (c->ent[b].hash & c->bmask) != i)
				goto out;
			chained++;
		}
	}
	if (chained != live)
		goto out;
	/* Free blocks: all the others, each once. */
	for (b = c->free_blk; b != NIL; b = c->bnext[b]) {
		if (b >= c->n_blocks || seen[b] || ++nfree > c->n_blocks)
			goto out;
		seen[b] = 1;
	}
	if (nfree != c->n_free_blk || nfree + blocks != c->n_blocks)
		goto out;
	r = 0;
out:
	free(seen);
	return r;
}

const struct dns_cache_stats *dns_cache_get_stats(const struct dns_cache *c)
{
	return &c->stats;
}

void dns_cache_limits(const struct dns_cache *c, uint32_t *max_entries,
		      uint32_t *max_blocks)
{
	*max_entries = c->cfg.max_entries;
	*max_blocks = c->n_blocks;
}
