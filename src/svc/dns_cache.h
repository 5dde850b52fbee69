/* SPDX-License-Identifier: MIT */
/*
 * dns_cache.h - a bounded cache of upstream DNS answers, keyed by the
 * question (lowercased name, type, class), for the forwarder.
 *
 * Theory of operation. An entry keeps the upstream answer as wire bytes
 * (what the forwarder sent its clients, without the OPT record), the time
 * it was stored and its deadline. A hit copies the bytes out and rewrites
 * every record's TTL to its remaining life: clamped as below, then less the
 * entry's age in whole seconds, so a client never sees a TTL that outlives
 * the entry (RFC 1035 section 7.3, RFC 2308 section 5).
 *
 * What is stored, and for how long (dns_cache_put()):
 *  - positive: NOERROR with answers; the smallest answer TTL clamped to
 *    [min_ttl, max_ttl]; served TTLs are clamped the same way;
 *  - negative (RFC 2308): NXDOMAIN, or NOERROR without answers (NODATA),
 *    with an SOA in the authority section; min(SOA TTL, SOA MINIMUM), at
 *    most neg_max_ttl (and at most the answers' TTLs, for an NXDOMAIN at
 *    the end of a CNAME chain); without an SOA a negative answer is not
 *    cached (RFC 2308 section 5);
 *  - nothing else: other rcodes, TC set, a life of 0 seconds.
 *
 * Memory, all allocated in dns_cache_create(): an entry table of
 * max_entries (about 64 bytes each), a chained hash index on SipHash-1-3
 * with a secret key (names are chosen by outsiders), and an arena of
 * max_bytes cut into DNS_CACHE_BLOCK-byte blocks. A message takes a chain
 * of blocks (no fragmentation: any free block will do). The two bounds are
 * hard: before an insert, least recently used entries are evicted until
 * both the entry and the blocks it needs are free. Expired entries are
 * dropped when a lookup meets them and by dns_cache_tick(), which ages a
 * bounded slice of the table per call.
 *
 * Single-threaded, like the forwarder that owns it.
 */
#ifndef ARCNAT_SVC_DNS_CACHE_H
#define ARCNAT_SVC_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "svc/dns_msg.h"

#define DNS_CACHE_BLOCK		128	/* arena allocation unit, bytes */
#define DNS_CACHE_DEFAULT_ENTRIES 4096
#define DNS_CACHE_DEFAULT_BYTES	(4u << 20)
#define DNS_CACHE_MAX_ENTRIES	(1u << 20)
#define DNS_CACHE_MAX_BYTES	(1u << 30)
#define DNS_CACHE_DEFAULT_MAX_TTL 86400
#define DNS_CACHE_DEFAULT_NEG_TTL 900	/* RFC 2308 section 5 caps at 1-3 h */
#define DNS_CACHE_GC_SLICE	64	/* entries aged per dns_cache_tick() */

struct dns_cache;

/**
 * struct dns_cache_cfg - parameters of a cache, copied by dns_cache_create().
 * @max_entries: most entries (0 = DNS_CACHE_DEFAULT_ENTRIES)
 * @max_bytes:   arena size in bytes, rounded down to whole blocks
 *               (0 = DNS_CACHE_DEFAULT_BYTES; at least DNS_CACHE_BLOCK)
 * @min_ttl:     positive answers live at least this long, seconds
 * @max_ttl:     and at most this long (0 = DNS_CACHE_DEFAULT_MAX_TTL)
 * @neg_max_ttl: negative answers live at most this long
 *               (0 = DNS_CACHE_DEFAULT_NEG_TTL)
 * @key:         SipHash key, or NULL for a random one
 */
struct dns_cache_cfg {
	uint32_t max_entries;
	uint32_t max_bytes;
	uint32_t min_ttl;
	uint32_t max_ttl;
	uint32_t neg_max_ttl;
	const struct siphash_key *key;
};

/**
 * struct dns_cache_stats - counters and occupancy of a cache.
 * @hits:        lookups answered
 * @misses:      lookups not answered (absent or expired)
 * @inserts:     entries stored
 * @negative:    of those, negative answers
 * @replaced:    entries dropped because the same question was stored again
 * @evicted:     live entries dropped to make room (LRU)
 * @expired:     entries dropped because their time was up
 * @uncacheable: answers dns_cache_put() refused by the rules above
 * @too_big:     answers larger than the arena
 * @entries:     entries now
 * @bytes:       message bytes now
 * @blocks:      arena blocks now in use (each DNS_CACHE_BLOCK bytes)
 */
struct dns_cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t negative;
	uint64_t replaced;
	uint64_t evicted;
	uint64_t expired;
	uint64_t uncacheable;
	uint64_t too_big;
	uint32_t entries;
	uint32_t blocks;
	uint64_t bytes;
};

/**
 * dns_cache_create() - make a cache; everything it will use is allocated
 * here.
 * @out: the cache, or NULL on failure
 * @cfg: parameters (copied)
 *
 * Return: 0, -EINVAL (a size out of range, @min_ttl > @max_ttl), -ENOMEM,
 * or the error of the random key source.
 */
int dns_cache_create(struct dns_cache **out, const struct dns_cache_cfg *cfg);

/**
 * dns_cache_destroy() - free a cache.
 * @c: cache, or NULL
 */
void dns_cache_destroy(struct dns_cache *c);

/**
 * dns_cache_put() - store an upstream answer, if the rules allow.
 * @c:   cache
 * @msg: the answer (borrowed; copied), without an OPT record
 * @len: its length
 * @m:   @msg as dns_msg_parse() described it
 * @now: current time, ns
 *
 * An entry for the same question is replaced. Least recently used entries
 * are evicted until the new one fits both bounds.
 *
 * Return: 0 if stored; -EINVAL if the answer must not be cached (counted
 * in @uncacheable); -E2BIG if it is larger than the arena (@too_big).
 */
int dns_cache_put(struct dns_cache *c, const uint8_t *msg, size_t len,
		  const struct dns_msg *m, uint64_t now);

/**
 * dns_cache_get() - look a question up and copy its answer out.
 * @c:   cache
 * @q:   the question (name lowercased, as struct dns_msg has it)
 * @now: current time, ns
 * @out: where the answer goes; its ID and question name are the ones
 *       stored (the caller puts its client's back), its TTLs the remaining
 *       ones
 * @cap: size of @out
 *
 * A hit makes the entry the most recently used. An expired entry is
 * dropped and is a miss.
 *
 * Return: the answer's length; -ENOENT on a miss; -ENOSPC if @cap is too
 * small (counted as a miss, the entry stays).
 */
int dns_cache_get(struct dns_cache *c, const struct dns_question *q,
		  uint64_t now, uint8_t *out, size_t cap);

/**
 * dns_cache_tick() - drop expired entries, DNS_CACHE_GC_SLICE slots at a
 * time.
 * @c:   cache
 * @now: current time, ns
 */
void dns_cache_tick(struct dns_cache *c, uint64_t now);

/**
 * struct dns_cache_info - one entry as the control socket lists it.
 * @qtype:    the question's type
 * @qclass:   its class
 * @ttl_left: whole seconds until the entry expires
 * @negative: an NXDOMAIN or NODATA answer (RFC 2308)
 * @len:      the answer's length
 */
struct dns_cache_info {
	uint16_t qtype;
	uint16_t qclass;
	uint32_t ttl_left;
	bool negative;
	uint32_t len;
};

/**
 * dns_cache_next() - the next live entry at or after slot *@pos, its
 * answer copied out as dns_cache_get() would serve it (TTLs aged), without
 * making it recently used or counting a hit: what `dns-cache` lists.
 * @c:    cache
 * @pos:  the slot to start at; set past the entry found (entries never
 *        move, so it pages through the table)
 * @now:  current time, ns
 * @info: filled
 * @out:  the answer (its question's name lowercased)
 * @cap:  size of @out
 *
 * Return: the answer's length; -ENOENT when no entry is left; -ENOSPC if
 * @cap is too small (*@pos is left at the entry).
 */
int dns_cache_next(const struct dns_cache *c, uint32_t *pos, uint64_t now,
		   struct dns_cache_info *info, uint8_t *out, size_t cap);

/**
 * dns_cache_flush() - drop every entry (`dns-flush`); the counters go on.
 * @c: cache
 *
 * Return: the number of entries dropped.
 */
uint32_t dns_cache_flush(struct dns_cache *c);

/**
 * dns_cache_verify() - check the cache's internal structure (tests and
 * fuzzers): every block is on exactly one chain or the free list, the LRU
 * list and the hash index hold exactly the live entries, the counters
 * match, both bounds hold.
 * @c: cache
 *
 * Walks everything: O(entries + blocks). Not for the data path.
 *
 * Return: 0, or -EUCLEAN if something does not add up.
 */
int dns_cache_verify(const struct dns_cache *c);

/**
 * dns_cache_get_stats() - the cache's counters and occupancy.
 * @c: cache
 *
 * Return: a pointer valid until dns_cache_destroy().
 */
const struct dns_cache_stats *dns_cache_get_stats(const struct dns_cache *c);

/**
 * dns_cache_limits() - the bounds the cache was made with.
 * @c:           cache
 * @max_entries: filled with the entry bound
 * @max_blocks:  filled with the number of arena blocks
 */
void dns_cache_limits(const struct dns_cache *c, uint32_t *max_entries,
		      uint32_t *max_blocks);

#endif /* ARCNAT_SVC_DNS_CACHE_H */
