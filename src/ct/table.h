/* SPDX-License-Identifier: MIT */
/*
 * table.h - the connection table: every flow, both directions, one owner.
 *
 * Theory of operation. A connection is one preallocated struct ct_entry
 * holding both directional tuples: tuple[CT_DIR_ORIG] as the initiator sent
 * it, tuple[CT_DIR_REPLY] as the reply arrives (for NAT, the reply tuple is
 * the mapping, netfilter's model). Each tuple is indexed in a cuckoo hash
 * (ct/hash.h) whose value is (entry index << 1 | direction), so that a
 * lookup from either side finds the entry and tells the direction.
 *
 * Lifecycle: ct_alloc() hands out an unconfirmed entry (not yet findable);
 * the caller fills the original tuple, lets NAT choose the reply tuple, and
 * ct_confirm() inserts both directions at once. A clash (either tuple
 * already present) fails the confirm and is counted; nothing is ever
 * overwritten. ct_free_unconfirmed() gives an entry back that could not be
 * confirmed.
 *
 * A flow whose two tuples are equal is its own reply: a host that sends to
 * its own NAT mapping (a STUN client's hairpin check) gets its packet back
 * from that mapping, so the packet's tuple is the reply's too. Such an
 * entry (ct_entry_is_self()) is indexed once, as CT_DIR_ORIG; a lookup
 * finds it in that direction whichever way the packet travels, and
 * removal deletes the one index entry.
 *
 * Expiry: each entry has an absolute deadline (nanoseconds). A lookup that
 * finds an entry past its deadline deletes it and reports a miss, so a
 * dead flow never forwards a packet however late the garbage collector is.
 * Memory is reclaimed by a timer wheel of CT_WHEEL_SLOTS one-tick slots
 * (a tick is 2^30 ns, about 1.07 s): ct_expire() visits only the slots of
 * elapsed ticks, with a budget per call; an entry whose deadline moved
 * later since it was filed is simply re-filed (refreshing a flow on every
 * packet only writes its deadline). No operation scans the table.
 *
 * When every entry is in use, ct_alloc() early-drops the oldest connection
 * that has never seen a reply (a FIFO of unreplied entries makes that O(1));
 * if there is none the new connection is refused and counted.
 *
 * Single-threaded: a table belongs to one worker.
 */
#ifndef ARCNAT_CT_TABLE_H
#define ARCNAT_CT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "ct/hash.h"
#include "ct/tcp.h"
#include "ct/timeouts.h"
#include "ct/tuple.h"

#define CT_DEFAULT_MAX_FLOWS	262144
#define CT_MAX_FLOWS		(1u << 25)	/* 32 M; values must fit hash values */
#define CT_WHEEL_SLOTS		8192		/* ~2.4 h of ticks */
#define CT_TICK_SHIFT		30		/* tick = 2^30 ns ~ 1.07 s */
#define CT_NONE			UINT32_MAX

/* ct_entry.flags */
#define CT_F_CONFIRMED	(1u << 0)	/* both tuples are in the hash */
#define CT_F_REPLIED	(1u << 1)	/* a packet has travelled REPLY */
#define CT_F_UNREP	(1u << 2)	/* on the unreplied FIFO */
#define CT_F_INBOUND	(1u << 3)	/* created by a packet from outside */
#define CT_F_HAIRPIN	(1u << 4)	/* both ends are inside */
#define CT_F_CLOSING	(1u << 5)	/* on the closing FIFO */

/**
 * struct ct_entry - one connection.
 * @tuple:      [CT_DIR_ORIG] as sent by the initiator, [CT_DIR_REPLY] as the
 *              reply arrives
 * @deadline:   absolute expiry time, nanoseconds
 * @wheel_next: next entry in the same wheel slot (CT_NONE ends)
 * @wheel_prev: previous entry in the slot (CT_NONE: this is the head)
 * @unrep_next: next (younger) entry on the unreplied FIFO
 * @unrep_prev: previous (older) entry on the unreplied FIFO
 * @owner:      the NAT's handle for this flow's mapping (CT_NONE: none)
 * @user:       an uplink's per-flow handle (CT_NONE: none)
 * @wheel_slot: the wheel slot the entry is filed in
 * @flags:      CT_F_*
 * @tclass:     enum ct_timeout_class currently applied
 * @tcp:        TCP tracking state (TCP flows only)
 */
struct ct_entry {
	struct ct_tuple tuple[2];
	uint64_t deadline;
	uint32_t wheel_next;
	uint32_t wheel_prev;
	uint32_t unrep_next;
	uint32_t unrep_prev;
	uint32_t owner;
	uint32_t user;
	uint16_t wheel_slot;
	uint8_t flags;
	uint8_t tclass;
	struct ct_tcp tcp;
};

/**
 * ct_entry_is_self() - is @e its own reply (both tuples equal)?
 * @e: an entry with both tuples set
 *
 * Return: true if so; such an entry has one index entry, CT_DIR_ORIG.
 */
static inline bool ct_entry_is_self(const struct ct_entry *e)
{
	return ct_tuple_eq(&e->tuple[CT_DIR_ORIG], &e->tuple[CT_DIR_REPLY]);
}

/**
 * typedef ct_delete_fn - called when a confirmed entry leaves the table.
 * @ctx:    from struct ct_config
 * @e:      the entry, still intact; it is freed when the callback returns
 * @reason: why (enum ct_gone)
 */
enum ct_gone { CT_GONE_EXPIRED, CT_GONE_EARLY_DROP, CT_GONE_DELETED };
typedef void (*ct_delete_fn)(void *ctx, struct ct_entry *e, enum ct_gone reason);

/**
 * struct ct_config - table parameters, fixed at creation.
 * @max_flows: connections (default CT_DEFAULT_MAX_FLOWS, at most CT_MAX_FLOWS)
 * @timeouts:  idle timeouts
 * @key:       SipHash key, or NULL for a random one
 * @seed:      seed for the cuckoo victim choice (tests fix it)
 * @on_delete: called for every confirmed entry that leaves; may be NULL
 * @ctx:       passed to @on_delete
 * @flow_stats: keep a struct ct_flow_stats per entry (40 bytes more per
 *             flow, in an array of their own: the entry stays within the
 *             128-byte budget of table state per flow)
 */
struct ct_config {
	uint32_t max_flows;
	struct ct_timeouts timeouts;
	const struct siphash_key *key;
	uint64_t seed;
	ct_delete_fn on_delete;
	void *ctx;
	bool flow_stats;
};

/**
 * struct ct_flow_stats - what a flow has carried (ct_config.flow_stats),
 * at the entry's index in ct_flow_stats(). Reset when the entry is
 * allocated; counted by the table's user (the NAT, per packet it
 * translates).
 * @created: when the entry was allocated, nanoseconds (the flow's age)
 * @packets: packets per direction (enum ct_dir; a GSO super-frame is one)
 * @bytes:   their IP bytes per direction
 */
struct ct_flow_stats {
	uint64_t created;
	uint64_t packets[2];
	uint64_t bytes[2];
};

enum ct_proto_idx { CT_P_TCP, CT_P_UDP, CT_P_ICMP, CT_P_OTHER, CT_P__MAX };

/**
 * struct ct_stats - counters; never reset by the table.
 * @lookups:     ct_lookup() calls
 * @hits:        lookups that found a live entry
 * @inserts:     confirmed connections
 * @deletes:     ct_delete() calls
 * @expired:     entries expired (lazily or by the wheel), per protocol
 * @early_drops: unreplied entries dropped to make room
 * @reclaimed:   closed connections (TIME_WAIT, CLOSE) dropped to make room
 *               or to free their mapping's port
 * @table_full:  allocations refused: full and nothing to early-drop
 * @clashes:     confirms refused because a tuple was already present
 * @hash_full:   confirms refused because the hash found no slot
 * @wheel_refile: entries re-filed by the wheel because their deadline moved
 */
struct ct_stats {
	uint64_t lookups;
	uint64_t hits;
	uint64_t inserts;
	uint64_t deletes;
	uint64_t expired[CT_P__MAX];
	uint64_t early_drops;
	uint64_t reclaimed;
	uint64_t table_full;
	uint64_t clashes;
	uint64_t hash_full;
	uint64_t wheel_refile;
};

struct ct_table;

/**
 * ct_create() - allocate a table and all its entries.
 * @out: the table
 * @cfg: parameters (copied)
 *
 * Return: 0, -EINVAL (bad size or timeouts), -ENOMEM, or -errno.
 */
int ct_create(struct ct_table **out, const struct ct_config *cfg);

/**
 * ct_destroy() - free a table; NULL is fine. Does not call on_delete.
 * @t: table
 */
void ct_destroy(struct ct_table *t);

/**
 * ct_tuple_hash() - the hash of a tuple, for ct_prefetch() and ct_lookup().
 * @t:   table
 * @tup: tuple (padding must be zero)
 *
 * Return: the hash.
 */
uint64_t ct_tuple_hash(const struct ct_table *t, const struct ct_tuple *tup);

/**
 * ct_prefetch() - start loading the hash bucket of @hv.
 * @t:  table
 * @hv: hash from ct_tuple_hash()
 */
void ct_prefetch(const struct ct_table *t, uint64_t hv);

/**
 * ct_lookup() - find the live connection one of whose tuples is @tup.
 * @t:   table
 * @tup: tuple
 * @hv:  ct_tuple_hash(@tup)
 * @now: current time, ns
 * @dir: set to the direction @tup matched
 *
 * An entry past its deadline is deleted (on_delete, CT_GONE_EXPIRED) and
 * the lookup misses. A hit does not refresh the entry: the caller decides
 * (an ICMP error must not refresh a flow, RFC 5508 REQ-?).
 *
 * Return: the entry, or NULL.
 */
struct ct_entry *ct_lookup(struct ct_table *t, const struct ct_tuple *tup,
			   uint64_t hv, uint64_t now, enum ct_dir *dir);

/**
 * ct_find() - find the entry holding @tup, live or not, without side effects
 * (no removal, no counters). For invariant checks and diagnostics.
 * @t:   table
 * @tup: tuple
 * @dir: set to the direction @tup matched
 *
 * Return: the entry, or NULL.
 */
struct ct_entry *ct_find(const struct ct_table *t, const struct ct_tuple *tup,
			 enum ct_dir *dir);

/**
 * ct_alloc() - take an unconfirmed entry for a new connection.
 * @t:   table
 * @now: current time (an early-dropped victim is reported at this time)
 *
 * The entry is zeroed but for owner = user = CT_NONE. When none is free,
 * the oldest unreplied connection is dropped to make room.
 *
 * Return: the entry, or NULL when the table is full of replied
 * connections (counted in table_full).
 */
struct ct_entry *ct_alloc(struct ct_table *t, uint64_t now);

/**
 * ct_free_unconfirmed() - give back an entry ct_confirm() never accepted.
 * @t: table
 * @e: entry from ct_alloc()
 */
void ct_free_unconfirmed(struct ct_table *t, struct ct_entry *e);

/**
 * ct_confirm() - make a filled entry findable from both directions.
 * @t:      table
 * @e:      entry from ct_alloc() with both tuples and the protocol state set
 * @tclass: the timeout class to start with
 * @now:    current time
 *
 * On failure the entry stays unconfirmed and the caller frees it.
 *
 * Both tuples may be equal (ct_entry_is_self()): the entry is then indexed
 * once.
 *
 * Return: 0; -EEXIST if either tuple is already live (counted in clashes);
 * -ENOSPC if the hash found no slot (counted in hash_full).
 */
int ct_confirm(struct ct_table *t, struct ct_entry *e,
	       enum ct_timeout_class tclass, uint64_t now);

/**
 * ct_refresh() - push the deadline to now + timeout of @tclass.
 * @t:      table
 * @e:      a confirmed entry
 * @tclass: timeout class now in force (a state change may shorten it)
 * @now:    current time
 */
void ct_refresh(struct ct_table *t, struct ct_entry *e,
		enum ct_timeout_class tclass, uint64_t now);

/**
 * ct_mark_replied() - note that a packet travelled REPLY; the entry leaves
 * the early-drop candidates.
 * @t: table
 * @e: a confirmed entry
 */
void ct_mark_replied(struct ct_table *t, struct ct_entry *e);

/**
 * ct_delete() - remove a confirmed entry now (on_delete, CT_GONE_DELETED).
 * @t: table
 * @e: entry
 */
void ct_delete(struct ct_table *t, struct ct_entry *e);

/**
 * ct_reclaim_closing() - drop the connection that closed longest ago.
 * @t: table
 *
 * A replied TCP connection in TIME_WAIT or CLOSE waits out its timer only
 * to catch stray segments; when a new connection needs its room or its
 * mapping's port, it goes first, oldest first (the closing FIFO, kept in
 * the order connections entered those states; the owner learns of it as
 * CT_GONE_EARLY_DROP). O(1).
 *
 * Return: true if one was dropped, false if none is closing.
 */
bool ct_reclaim_closing(struct ct_table *t);

/**
 * ct_expire() - one garbage-collection slice.
 * @t:      table
 * @now:    current time
 * @budget: at most this many wheel slots plus entries are visited
 *
 * Return: entries expired in this call.
 */
unsigned int ct_expire(struct ct_table *t, uint64_t now, unsigned int budget);

/**
 * ct_expire_pending() - whether elapsed ticks remain to be collected.
 * @t:   table
 * @now: current time
 *
 * Return: true if a further ct_expire() call has work to do.
 */
bool ct_expire_pending(const struct ct_table *t, uint64_t now);

/** ct_count() - confirmed connections. @t: table. Return: the count. */
uint32_t ct_count(const struct ct_table *t);

/** ct_capacity() - maximum connections. @t: table. Return: max_flows. */
uint32_t ct_capacity(const struct ct_table *t);

/** ct_in_use() - entries allocated (confirmed or not). @t: table. Return: count. */
uint32_t ct_in_use(const struct ct_table *t);

/** ct_index() - the index of @e, stable for its lifetime. Return: index. */
uint32_t ct_index(const struct ct_table *t, const struct ct_entry *e);

/**
 * ct_flow_stats() - the per-flow counters, indexed like the entries.
 * @t: table
 * Return: the array (capacity entries), or NULL without
 * ct_config.flow_stats.
 */
struct ct_flow_stats *ct_flow_stats(const struct ct_table *t);

/** ct_entry_at() - the entry at @idx (< capacity). Return: the entry. */
struct ct_entry *ct_entry_at(const struct ct_table *t, uint32_t idx);

/** ct_timeouts() - the table's timeouts. Return: pointer into the table. */
const struct ct_timeouts *ct_get_timeouts(const struct ct_table *t);

/** ct_get_stats() - the counters. Return: pointer into the table. */
const struct ct_stats *ct_get_stats(const struct ct_table *t);

/**
 * ct_memory() - bytes the table holds (entries + hash + wheel).
 * @t: table
 *
 * Return: bytes.
 */
size_t ct_memory(const struct ct_table *t);

/** ct_proto_idx() - counter index of an IP protocol. Return: enum ct_proto_idx. */
enum ct_proto_idx ct_proto_idx(uint8_t proto);

#endif /* ARCNAT_CT_TABLE_H */
