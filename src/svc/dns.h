/* SPDX-License-Identifier: MIT */
/*
 * dns.h - the DNS forwarder at the gateway address: local names, a cache,
 * and upstream servers, as a library without sockets.
 *
 * Theory of operation. The datapath hands dns_query() each query a guest
 * sent to the gateway (UDP, or one message of a TCP stream), and
 * dns_upstream_input() each UDP message that came back from an upstream
 * server; everything the forwarder says goes out through two callbacks,
 * send_upstream() and send_reply(). Time is always the caller's `now`
 * (nanoseconds, monotonic); dns_tick() does the retries and timeouts.
 *
 * A query is answered, in this order:
 *  1. malformed (FORMERR), another opcode (NOTIMP), EDNS version > 0
 *     (BADVERS); a response (QR set) or a message without a readable
 *     header is not answered at all: replying to responses invites two
 *     servers into an endless exchange;
 *  2. local names (dns_local.h), authoritative, never sent upstream;
 *  3. the cache (dns_cache.h), TTLs aged;
 *  4. upstream: an identical question already in flight is joined (the
 *     client waits for the same answer), else a new query goes to an
 *     upstream server with a fresh random ID (SipHash-2-4 in counter mode
 *     over a secret key: unpredictable, never the client's ID) and an OPT
 *     record asking for DNS_EDNS_MAX bytes. If no slot is free, or there is
 *     no upstream server, the client gets SERVFAIL at once: never silence.
 *
 * Upstream answers are accepted only from a server this query was sent to,
 * with its ID, as a response to the same question (name case-insensitive,
 * type, class); anything else is a counted drop that leaves the query
 * waiting (a spoofed answer must not end a real one). An accepted answer
 * loses its OPT record, goes into the cache if the rules allow, and is sent
 * to every waiting client with the client's own ID, the client's spelling
 * of the name (so 0x20 case randomisation still checks out), RD and CD as
 * the client sent them, an OPT record if the client used EDNS0, and cut to
 * the client's UDP size with TC set (header and question kept; RFC 2181
 * section 9) if it does not fit. TCP clients get the whole answer. An
 * answer with TC set from upstream is passed on as header and question with
 * TC and not cached; the client retries over TCP (which the datapath takes
 * upstream itself: this library only queries upstream over UDP).
 * SERVFAIL, REFUSED, NOTIMP or FORMERR from one server is a reason to try
 * the next, while tries remain; the last one is passed on, not cached.
 *
 * Retries: each try waits timeout_ms, then the next server is asked (the
 * same ID: a late answer from an earlier server is still good). After
 * 2 * n_upstream tries, or when a try times out DNS_QUERY_LIFETIME_MS or
 * more after the first was sent, the waiting clients get SERVFAIL. The
 * first try goes to the server that answered last. Queries in flight sit
 * in a list ordered by deadline (every try has the same timeout, so a try
 * is always appended last), and dns_tick() handles at most DNS_TICK_BUDGET
 * expired ones per call.
 *
 * Memory, all allocated in dns_create(): the cache (cache_entries and
 * cache_bytes), max_inflight query slots (about 330 bytes each) and as
 * many client slots (about 72 bytes), two indexes over the queries (by
 * upstream ID, by question), two 64 KiB message buffers. A client waiting
 * keeps its spelling of the name as a 32-byte upper-case bitmap, not a copy.
 *
 * Single-threaded: a forwarder belongs to one worker. Callbacks must not
 * call back into the same forwarder.
 */
#ifndef ARCNAT_SVC_DNS_H
#define ARCNAT_SVC_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "svc/dns_local.h"
#include "svc/dns_resolv.h"

#define DNS_MAX_UPSTREAM	4
#define DNS_DEFAULT_INFLIGHT	1024
#define DNS_MAX_INFLIGHT	16384	/* well below the 65536 IDs */
#define DNS_MAX_WAITERS		64	/* clients joined to one question */
#define DNS_DEFAULT_TIMEOUT_MS	1000
#define DNS_MAX_TIMEOUT_MS	60000
#define DNS_QUERY_LIFETIME_MS	5000
#define DNS_TICK_BUDGET		256	/* timed-out tries per dns_tick() */
#define DNS_ID_TRIES		16	/* random IDs tried before giving up */

struct dns;

/**
 * struct dns_client - who asked.
 * @addr:     IPv4 address, network order
 * @port:     port, network order
 * @udp_size: on input to dns_query(), a limit the datapath imposes on UDP
 *            replies (0 for none); in send_reply(), the size the reply was
 *            cut to: the client's EDNS0 size (512 without OPT), at most
 *            DNS_EDNS_MAX and at most that limit
 * @tcp:      the query came over TCP: replies are not cut
 * @cookie:   opaque to dns (the datapath's handle for a TCP client)
 */
struct dns_client {
	uint32_t addr;
	uint16_t port;
	uint16_t udp_size;
	bool tcp;
	uint64_t cookie;
};

/**
 * struct dns_cfg - parameters of a forwarder, copied by dns_create().
 * @upstream:      upstream servers, IPv4, network order (port 53)
 * @n_upstream:    entries in @upstream (0..DNS_MAX_UPSTREAM; with 0 every
 *                 non-local, uncached question gets SERVFAIL)
 * @gateway_addr:  answers gateway.<domain> and its PTR (0: not answered)
 * @host_addr:     answers host.<domain> and its PTR (0: not answered)
 * @domain:        the local domain (NULL = DNS_DEFAULT_DOMAIN); copied
 * @local_addr:    the address of NAME.<domain> (e.g. DHCP host names):
 *                 @name is the one label before .<domain>, lowercase,
 *                 NUL-terminated; return 0 and set *@ip (network order),
 *                 or -ENOENT. NULL: none
 * @local_name:    the label whose address is @ip, for PTR (NULL if none);
 *                 the pointer is used before the call returns
 * @send_upstream: a UDP query to @server port 53, @id is its ID; @msg is
 *                 borrowed for the call
 * @send_reply:    a reply that was not ready when dns_query() returned (an
 *                 upstream answer, or SERVFAIL); @msg borrowed for the call
 * @ctx:           passed to the callbacks
 * @cache_entries: cache entry bound (0 = 4096)
 * @cache_bytes:   cache arena size (0 = 4 MiB)
 * @min_ttl:       positive answers are cached at least this long
 * @max_ttl:       and at most this long (0 = 86400 s)
 * @neg_max_ttl:   negative answers at most this long (0 = 900 s)
 * @max_inflight:  queries in flight and clients waiting, each (0 = 1024,
 *                 at most DNS_MAX_INFLIGHT)
 * @timeout_ms:    per try (0 = 1000)
 * @key:           SipHash key for the cache and the question index, or
 *                 NULL for a random one
 * @seed:          seed of the upstream ID generator, or 0 for a random one
 *                 (getrandom); tests and fuzzers fix it
 */
struct dns_cfg {
	uint32_t upstream[DNS_MAX_UPSTREAM];
	unsigned int n_upstream;
	uint32_t gateway_addr;
	uint32_t host_addr;
	const char *domain;
	int (*local_addr)(void *ctx, const char *name, uint32_t *ip);
	const char *(*local_name)(void *ctx, uint32_t ip);
	void (*send_upstream)(void *ctx, uint32_t server, uint16_t id,
			      const uint8_t *msg, size_t len);
	void (*send_reply)(void *ctx, const struct dns_client *c,
			   const uint8_t *msg, size_t len);
	void *ctx;
	uint32_t cache_entries;
	uint32_t cache_bytes;
	uint32_t min_ttl;
	uint32_t max_ttl;
	uint32_t neg_max_ttl;
	uint32_t max_inflight;
	uint32_t timeout_ms;
	const struct siphash_key *key;
	uint64_t seed;
};

/**
 * struct dns_stats - counters of a forwarder.
 * @queries_udp:      messages given to dns_query() from UDP clients
 * @queries_tcp:      and from TCP clients
 * @local:            answered from local names (answers, NODATA, NXDOMAIN)
 * @cache_hits:       answered from the cache
 * @cache_misses:     looked up in the cache and not found
 * @forwarded:        questions that started an upstream query
 * @coalesced:        queries that joined an identical one in flight
 * @duplicates:       retransmissions of a query already waiting (same
 *                    client, same ID): answered once
 * @upstream_sent:    queries sent upstream, retries included
 * @retries:          of those, retries (after a timeout or an error rcode)
 * @upstream_answers: upstream answers accepted
 * @upstream_errors:  accepted answers with an error rcode that made us try
 *                    the next server
 * @servfail:         SERVFAIL replies we made (no upstream, full, timeout)
 * @formerr:          FORMERR replies
 * @notimp:           NOTIMP replies (opcode other than QUERY)
 * @badvers:          BADVERS replies (EDNS version other than 0)
 * @truncated:        replies sent with TC set
 * @bad_answers:      upstream messages dropped: unknown ID, a server not
 *                    asked, another question, malformed
 * @drops:            client messages dropped: no header, or a response
 * @inflight_full:    queries refused (SERVFAIL) for want of a slot
 * @timeouts:         upstream queries given up (their clients: SERVFAIL)
 * @replies:          replies sent through send_reply()
 * @inflight:         queries in flight now
 * @waiting:          clients waiting now
 * @cache_entries:    cache entries now
 * @cache_bytes:      cache message bytes now
 */
struct dns_stats {
	uint64_t queries_udp;
	uint64_t queries_tcp;
	uint64_t local;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t forwarded;
	uint64_t coalesced;
	uint64_t duplicates;
	uint64_t upstream_sent;
	uint64_t retries;
	uint64_t upstream_answers;
	uint64_t upstream_errors;
	uint64_t servfail;
	uint64_t formerr;
	uint64_t notimp;
	uint64_t badvers;
	uint64_t truncated;
	uint64_t bad_answers;
	uint64_t drops;
	uint64_t inflight_full;
	uint64_t timeouts;
	uint64_t replies;
	uint32_t inflight;
	uint32_t waiting;
	uint32_t cache_entries;
	uint64_t cache_bytes;
};

/**
 * dns_create() - make a forwarder.
 * @out: the forwarder, or NULL on failure
 * @cfg: parameters (copied, @domain included)
 *
 * Return: 0; -EINVAL (no send_reply, upstream servers without
 * send_upstream, a server address 0, a bad domain, a size or timeout out of
 * range); -ENOMEM; or the error of the random source.
 */
int dns_create(struct dns **out, const struct dns_cfg *cfg);

/**
 * dns_destroy() - free a forwarder. Clients still waiting get nothing.
 * @d: forwarder, or NULL
 */
void dns_destroy(struct dns *d);

/**
 * dns_query() - a query from a guest.
 * @d:     forwarder
 * @c:     who asked (copied if the query has to wait)
 * @msg:   the DNS message (borrowed; for TCP without the length prefix)
 * @len:   its length
 * @now:   current time, ns
 * @reply: where an immediate reply goes
 * @cap:   its size, at least DNS_UDP_MIN; give TCP clients 65535 (a reply
 *         larger than @cap is cut with TC set even for them)
 *
 * Return: > 0, the length of a reply written to @reply now (local name,
 * cache hit, FORMERR, NOTIMP, BADVERS, SERVFAIL); 0, the query went
 * upstream or joined one in flight, and its reply will come through
 * send_reply(); < 0, not a query at all (counted in @drops, nothing to
 * send), or -EINVAL if @cap is below DNS_UDP_MIN.
 */
int dns_query(struct dns *d, const struct dns_client *c, const uint8_t *msg,
	      size_t len, uint64_t now, uint8_t *reply, size_t cap);

/**
 * dns_upstream_input() - a UDP message from an upstream server.
 * @d:      forwarder
 * @server: its source address, network order (the datapath checked that
 *          it came from port 53 to our port)
 * @msg:    the message (borrowed)
 * @len:    its length
 * @now:    current time, ns
 *
 * Matches it to a query in flight as described in the theory of operation;
 * a mismatch is counted in @bad_answers and ignored. On a match, caches the
 * answer if allowed and sends it to every waiting client via send_reply().
 */
void dns_upstream_input(struct dns *d, uint32_t server, const uint8_t *msg,
			size_t len, uint64_t now);

/**
 * dns_tick() - retries and timeouts; call about every 100 ms.
 * @d:   forwarder
 * @now: current time, ns
 *
 * Handles at most DNS_TICK_BUDGET timed-out tries (retry on the next
 * server, or SERVFAIL to the clients) and ages a slice of the cache.
 */
void dns_tick(struct dns *d, uint64_t now);

/**
 * dns_get_stats() - the forwarder's counters.
 * @d: forwarder
 *
 * Return: a pointer valid until dns_destroy(); the occupancy fields are
 * current as of the last call into the forwarder.
 */
const struct dns_stats *dns_get_stats(const struct dns *d);

/**
 * dns_get_cache() - the forwarder's cache, for tests and statistics.
 * @d: forwarder
 *
 * Return: the cache (owned by @d).
 */
const struct dns_cache *dns_get_cache(const struct dns *d);

/**
 * dns_cache_of() - the forwarder's cache, to list or flush it (the control
 * socket's `dns-cache` and `dns-flush`, on the forwarder's thread).
 * @d: forwarder
 *
 * Return: the cache (owned by @d).
 */
struct dns_cache *dns_cache_of(struct dns *d);

#endif /* ARCNAT_SVC_DNS_H */
