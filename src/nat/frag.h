/* SPDX-License-Identifier: MIT */
/*
 * frag.h - which flow the later fragments of a datagram belong to.
 *
 * Theory of operation: only a first fragment carries the L4 header, so the
 * NAT remembers, per (source, destination, IP id, protocol) of a translated
 * first fragment, the flow and direction it belonged to; later fragments
 * are found by the same key and get the same address translation
 * (docs/architecture.md "Connection tracking and NAT rules"; RFC 4787
 * REQ-14). The table is a fixed ring of entries in
 * insertion order with a hash over their keys: inserting into a full table
 * evicts the oldest entry, so the state is bounded whatever arrives.
 * Entries remember both tuples of their flow, and a later fragment is
 * translated only if the flow slot still holds that very flow.
 */
#ifndef ARCNAT_NAT_FRAG_H
#define ARCNAT_NAT_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/siphash.h"
#include "ct/hash.h"
#include "ct/tuple.h"

/**
 * struct nat_frag_key - identity of a fragmented datagram (network order).
 * @saddr: source address
 * @daddr: destination address
 * @id:    IP identification
 * @proto: protocol
 * @pad:   zero
 */
struct nat_frag_key {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t id;
	uint8_t proto;
	uint8_t pad[5];
};

static_assert(sizeof(struct nat_frag_key) == 16, "fragment keys hash as 16 bytes");

/**
 * struct nat_frag - one remembered first fragment.
 * @key:      its key
 * @tuple:    both tuples of the flow at the time
 * @deadline: forget after this time (ns)
 * @flow:     connection-table index of the flow
 * @dir:      the first fragment's direction in the flow
 * @used:     slot holds an entry
 */
struct nat_frag {
	struct nat_frag_key key;
	struct ct_tuple tuple[2];
	uint64_t deadline;
	uint32_t flow;
	uint8_t dir;
	bool used;
};

/**
 * struct nat_frags - the table.
 * @ring:     entries, @cap of them
 * @cap:      capacity
 * @next:     slot the next new entry takes (the oldest when full)
 * @hash:     key -> slot
 * @evicted:  unexpired entries evicted to make room
 */
struct nat_frags {
	struct nat_frag *ring;
	uint32_t cap;
	uint32_t next;
	struct ct_hash hash;
	uint64_t evicted;
};

/**
 * nat_frags_init() - allocate.
 * @f:   table
 * @cap: entries (>= 1)
 * @key: SipHash key or NULL
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int nat_frags_init(struct nat_frags *f, uint32_t cap, const struct siphash_key *key);

/** nat_frags_destroy() - free; safe on zeroed state. @f: table */
void nat_frags_destroy(struct nat_frags *f);

/**
 * nat_frag_remember() - note a translated first fragment.
 * @f:        table
 * @key:      its key (before translation)
 * @tuple:    the flow's two tuples
 * @flow:     the flow's index
 * @dir:      the fragment's direction
 * @deadline: when to forget it
 * @now:      current time (to tell whether an evicted entry was still live)
 */
void nat_frag_remember(struct nat_frags *f, const struct nat_frag_key *key,
		       const struct ct_tuple tuple[2], uint32_t flow,
		       uint8_t dir, uint64_t deadline, uint64_t now);

/**
 * nat_frag_find() - the unexpired entry for @key.
 * @f:   table
 * @key: key of a later fragment
 * @now: current time
 *
 * Return: the entry or NULL.
 */
const struct nat_frag *nat_frag_find(const struct nat_frags *f,
				     const struct nat_frag_key *key, uint64_t now);

#endif /* ARCNAT_NAT_FRAG_H */
