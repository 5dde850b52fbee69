/* SPDX-License-Identifier: MIT */
/*
 * dhcp_lease.h - the DHCP server's lease table and its lease file. Used by
 * svc/dhcp only.
 *
 * Theory of operation. The table is one array allocated at start: slot i <
 * n_pool is pool address pool_first + i, the slots after it are the static
 * hosts in configuration order. A pool slot whose address is the server's
 * or a static host's is RESERVED and never changes. Every other slot is
 * FREE, OFFERED, BOUND or DECLINED (quarantined); the last three carry an
 * absolute deadline (`expires`, monotonic ns) that is checked lazily when
 * the slot is looked at and by a bounded garbage-collection slice.
 *
 * A slot remembers the client it was last given to (its key: client
 * identifier, MAC, or for static slots the configured MAC) after the lease
 * ends, so that the client finds its address again. Free dynamic slots are
 * on a doubly linked list in the order they became free; a new client gets
 * the head, the address free the longest (never-used addresses first, in
 * address order), and the slot forgets its previous client then.
 *
 * Two open-addressing indexes (linear probing, at most half full, deletion
 * by backward shift, so no tombstones) find a slot by key and by host name;
 * the hashes are SipHash-1-3 with a random key, because clients choose both
 * keys and names. Each slot caches its two hashes for the backward shift.
 *
 * Lease file: text, one bound dynamic lease per line, in dnsmasq's order:
 *   EXPIRY MAC IP NAME CLIENT-ID
 * EXPIRY is the wall-clock end (seconds since the epoch), NAME and
 * CLIENT-ID are "*" when absent, CLIENT-ID is hex. Lines starting with '#'
 * are comments. The table only formats the text (dhcp_lease_format());
 * dp/persist writes it whole to a temporary file in the same directory,
 * fsyncs it and renames it over the old one, from a thread of its own, so
 * a crash leaves the old file or the new one, never a mix.
 */
#ifndef ARCNAT_SVC_DHCP_LEASE_H
#define ARCNAT_SVC_DHCP_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "prot/eth.h"
#include "svc/dhcp_defs.h"

#define DHCP_CLIENT_ID_MAX	64	/* longer ids: the client is known by MAC */
#define DHCP_LEASE_NIL		UINT32_MAX

enum dhcp_key_kind {
	DHCP_KEY_NONE = 0,
	DHCP_KEY_CLIENT_ID,	/* option 61 bytes */
	DHCP_KEY_MAC,		/* chaddr of a client without option 61 */
	DHCP_KEY_STATIC,	/* a static host's configured MAC */
};

enum dhcp_lease_state {
	DHCP_LS_FREE = 0,
	DHCP_LS_OFFERED,
	DHCP_LS_BOUND,
	DHCP_LS_DECLINED,	/* quarantined until expires */
	DHCP_LS_RESERVED,	/* server or static host address in the pool */
};

/**
 * struct dhcp_key - who a lease belongs to.
 * @kind: enum dhcp_key_kind
 * @len:  bytes used in @b
 * @b:    client identifier or MAC
 */
struct dhcp_key {
	uint8_t kind;
	uint8_t len;
	uint8_t b[DHCP_CLIENT_ID_MAX];
};

/**
 * struct dhcp_lease - one slot of the table.
 * @expires:    deadline of OFFERED, BOUND and DECLINED (monotonic ns)
 * @ip:         the slot's address, network order
 * @prev:       free list links (slot indexes, DHCP_LEASE_NIL at the ends)
 * @next:       see @prev
 * @key_hash:   hash of @key, while @key is indexed
 * @name_hash:  hash of @name, while @name is indexed
 * @state:      enum dhcp_lease_state
 * @is_static:  a static host's slot (never on the free list)
 * @in_free:    on the free list
 * @name_fixed: @name is configured (static host), never replaced
 * @warned:     a conflict (the address in use by another MAC) was logged
 *              for this binding; cleared when the slot changes state or
 *              client, so each conflict is logged once
 * @mac:        the client's MAC (reply destination, lease file)
 * @key:        the client, or kind DHCP_KEY_NONE
 * @name:       host name, "" for none
 */
struct dhcp_lease {
	uint64_t expires;
	uint32_t ip;
	uint32_t prev, next;
	uint32_t key_hash, name_hash;
	uint8_t state;
	bool is_static;
	bool in_free;
	bool name_fixed;
	bool warned;
	uint8_t mac[ETH_ALEN];
	struct dhcp_key key;
	char name[DHCP_NAME_MAX + 1];
};

/**
 * struct dhcp_idx - an open-addressing index of slot numbers.
 * @ent:  slot index + 1 per bucket, 0 = empty
 * @mask: buckets - 1
 */
struct dhcp_idx {
	uint32_t *ent;
	uint32_t mask;
};

/**
 * struct dhcp_leases - the table. Fields are read by svc/dhcp; only the
 * functions below change them.
 * @l:              the slots
 * @n:              slots: @n_pool + static hosts
 * @n_pool:         pool slots
 * @pool_first:     address of slot 0, host order
 * @free_head:      free list, oldest first
 * @free_tail:      newest
 * @gc_pos:         next slot dhcp_lease_gc() looks at
 * @n_offered:      slots OFFERED
 * @n_bound:        slots BOUND
 * @n_declined:     slots DECLINED
 * @offers_expired: see struct dhcp_stats
 * @leases_expired: see struct dhcp_stats
 * @dirty:          a bound dynamic lease changed since the last save
 * @by_key:         index by key
 * @by_name:        index by name
 * @hkey:           SipHash key of both indexes
 */
struct dhcp_leases {
	struct dhcp_lease *l;
	uint32_t n;
	uint32_t n_pool;
	uint32_t pool_first;
	uint32_t free_head, free_tail;
	uint32_t gc_pos;
	uint32_t n_offered, n_bound, n_declined;
	uint64_t offers_expired, leases_expired;
	bool dirty;
	struct dhcp_idx by_key, by_name;
	struct siphash_key hkey;
};

/**
 * dhcp_name_valid() - whether @s is one RFC 1123 label: 1..63 letters,
 * digits and hyphens, not starting or ending with a hyphen.
 * @s:   bytes (need not be NUL-terminated)
 * @len: their count
 *
 * Return: true if valid.
 */
bool dhcp_name_valid(const char *s, size_t len);

/**
 * dhcp_mac_parse() - parse "52:54:00:12:34:56" (or with '-' separators).
 * @s:   the text (need not be NUL-terminated)
 * @len: its length (must be 17)
 * @mac: filled on success
 *
 * Return: 0, or -EINVAL (also for a multicast or all-zero MAC).
 */
int dhcp_mac_parse(const char *s, size_t len, uint8_t mac[ETH_ALEN]);

/**
 * dhcp_leases_init() - allocate and fill the table.
 * @t:          table (zeroed by the caller)
 * @pool_first: first pool address, network order
 * @pool_last:  last pool address, network order (>= @pool_first)
 * @server:     the server's address (RESERVED if inside the pool)
 * @hosts:      static hosts, already validated (distinct MACs, addresses
 *              and names)
 * @n_hosts:    their count
 *
 * Return: 0, -ENOMEM, or the error of the random key source. On failure
 * dhcp_leases_fini() must still be called.
 */
int dhcp_leases_init(struct dhcp_leases *t, uint32_t pool_first,
		     uint32_t pool_last, uint32_t server,
		     const struct dhcp_host *hosts, unsigned int n_hosts);

/**
 * dhcp_leases_fini() - free the table (also a half-built one).
 * @t: table
 */
void dhcp_leases_fini(struct dhcp_leases *t);

/**
 * dhcp_lease_find() - the slot that belongs to a client.
 * @t: table
 * @k: the client's key
 *
 * Return: the slot, or NULL. It may be FREE (a remembered binding).
 */
struct dhcp_lease *dhcp_lease_find(const struct dhcp_leases *t,
				   const struct dhcp_key *k);

/**
 * dhcp_lease_by_ip() - the slot of an address.
 * @t:  table
 * @ip: address, network order
 *
 * Return: the pool slot (not a RESERVED one) or the static slot for @ip,
 * or NULL when no slot has it.
 */
struct dhcp_lease *dhcp_lease_by_ip(const struct dhcp_leases *t, uint32_t ip);

/**
 * dhcp_lease_by_name() - the slot holding a host name.
 * @t:    table
 * @name: the name (case-insensitive)
 * @len:  its length
 *
 * Return: the slot, or NULL.
 */
struct dhcp_lease *dhcp_lease_by_name(const struct dhcp_leases *t,
				      const char *name, size_t len);

/**
 * dhcp_lease_expire() - end @l's offer, lease or quarantine if it is due.
 * @t:   table
 * @l:   slot
 * @now: current time, ns
 *
 * An expired offer or lease becomes FREE and keeps its client; an ended
 * quarantine becomes FREE for anyone.
 */
void dhcp_lease_expire(struct dhcp_leases *t, struct dhcp_lease *l,
		       uint64_t now);

/**
 * dhcp_lease_gc() - dhcp_lease_expire() over the next @budget slots.
 * @t:      table
 * @now:    current time, ns
 * @budget: slots to look at (at most the table size are)
 */
void dhcp_lease_gc(struct dhcp_leases *t, uint64_t now, uint32_t budget);

/**
 * dhcp_lease_alloc() - the free dynamic slot free the longest.
 * @t:   table
 * @now: current time, ns
 *
 * When none is free, first runs one garbage-collection slice.
 *
 * Return: a FREE slot (still on the free list), or NULL.
 */
struct dhcp_lease *dhcp_lease_alloc(struct dhcp_leases *t, uint64_t now);

/**
 * dhcp_lease_bind_key() - make @l the slot of client @k.
 * @t:   table
 * @l:   a dynamic slot
 * @k:   the client
 * @mac: its MAC
 *
 * The slot forgets its previous client; a slot @k had before is released
 * (one address per client).
 */
void dhcp_lease_bind_key(struct dhcp_leases *t, struct dhcp_lease *l,
			 const struct dhcp_key *k, const uint8_t mac[ETH_ALEN]);

/**
 * dhcp_lease_set_state() - move a slot to FREE, OFFERED or BOUND.
 * @t:       table
 * @l:       slot (not RESERVED)
 * @state:   DHCP_LS_FREE, DHCP_LS_OFFERED or DHCP_LS_BOUND
 * @expires: deadline for OFFERED and BOUND, ns
 *
 * Keeps the free list and counters right; a slot leaving BOUND loses its
 * learned name; a dynamic slot entering or leaving BOUND marks the table
 * dirty.
 */
void dhcp_lease_set_state(struct dhcp_leases *t, struct dhcp_lease *l,
			  enum dhcp_lease_state state, uint64_t expires);

/**
 * dhcp_lease_decline() - quarantine @l's address until @until.
 * @t:     table
 * @l:     slot (not RESERVED)
 * @until: end of the quarantine, ns
 *
 * A dynamic slot forgets its client, who will get another address.
 */
void dhcp_lease_decline(struct dhcp_leases *t, struct dhcp_lease *l,
			uint64_t until);

/**
 * dhcp_lease_forget() - end @l's offer or lease now and forget its client
 * (`lease-delete` on the control socket): a dynamic address goes back to
 * the pool for anyone, at the free list's newest end; a static host's
 * reservation stays, only its binding ends.
 * @t: table
 * @l: slot (not RESERVED)
 */
void dhcp_lease_forget(struct dhcp_leases *t, struct dhcp_lease *l);

/**
 * dhcp_lease_set_name() - give @l a host name, or take it away.
 * @t:    table
 * @l:    slot
 * @name: a valid label (see dhcp_name_valid()), or NULL for none
 * @len:  its length
 *
 * A name held by another dynamic slot moves to @l. A slot with a
 * configured name keeps it.
 *
 * Return: 0; -EEXIST if a static host has the name configured (nothing
 * changes); -EPERM if @l's name is configured.
 */
int dhcp_lease_set_name(struct dhcp_leases *t, struct dhcp_lease *l,
			const char *name, size_t len);

/**
 * dhcp_lease_load() - read a lease file into a fresh table.
 * @t:         table, as dhcp_leases_init() left it
 * @path:      the file
 * @now:       current time, ns
 * @wall_sec:  current wall-clock time, seconds
 * @max_sec:   a lease further than this in the future is corrupt
 * @bad_lines: incremented for each line ignored
 *
 * Expired lines are skipped. Lines that are malformed, too long, for an
 * address not free in the pool, for a client already read, or for a
 * static host's MAC are counted, logged (the first few) and ignored; the
 * rest become BOUND leases. The table is left dirty (to be rewritten) if
 * any line was bad.
 *
 * Return: the number of leases read; 0 if the file does not exist;
 * -errno if it cannot be opened or read (logged).
 */
int dhcp_lease_load(struct dhcp_leases *t, const char *path, uint64_t now,
		    int64_t wall_sec, uint32_t max_sec, uint64_t *bad_lines);

/**
 * dhcp_lease_format() - the lease file's content: every bound dynamic lease.
 * @t:        table
 * @now:      current time, ns
 * @wall_sec: current wall-clock time, seconds
 * @buf:      where the text goes (not NUL-terminated)
 * @cap:      its size; DHCP_FILE_MAX always suffices
 *
 * Clears @t->dirty on success. Writing the text to the file is the
 * caller's business (off the packet thread: dp/persist).
 *
 * Return: the length of the text, or -ENOSPC.
 */
int dhcp_lease_format(struct dhcp_leases *t, uint64_t now, int64_t wall_sec,
		      char *buf, size_t cap);

#endif /* ARCNAT_SVC_DHCP_LEASE_H */
