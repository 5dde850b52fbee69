// SPDX-License-Identifier: MIT
/*
 * table.c - connection table: entry lifecycle, lazy expiry, timer wheel,
 * unreplied FIFO for early drop. Theory of operation in table.h.
 */
#include "ct/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/assert.h"
#include "core/clock.h"
#include "prot/ip4.h"

#define CT_WHEEL_MASK (CT_WHEEL_SLOTS - 1)
static_assert(IS_POWER_OF_2(CT_WHEEL_SLOTS), "wheel size is a power of two");
static_assert(CT_WHEEL_SLOTS <= UINT16_MAX + 1, "slot fits ct_entry.wheel_slot");
/* Hash values are (index << 1 | dir) and must stay below CT_HASH_EMPTY. */
static_assert((uint64_t)CT_MAX_FLOWS * 2 < CT_HASH_EMPTY, "values fit the hash");
static_assert(CT_MAX_FLOWS * 2ull <= CT_HASH_MAX_VALUES, "hash can index every tuple");

struct ct_table {
	struct ct_entry *entries;
	size_t entries_bytes;
	struct ct_flow_stats *fstats;	/* NULL: not kept */
	size_t fstats_bytes;
	uint32_t capacity;
	uint32_t in_use;
	uint32_t count;
	uint32_t free_head;	/* free entries, linked through wheel_next */
	uint32_t unrep_head;	/* oldest unreplied */
	uint32_t unrep_tail;	/* youngest unreplied */
	uint32_t close_head;	/* closed longest ago (replied, TIME_WAIT/CLOSE) */
	uint32_t close_tail;
	uint64_t wheel_tick;	/* next tick to collect; all earlier are done */
	bool wheel_started;
	uint32_t wheel[CT_WHEEL_SLOTS];
	struct ct_hash hash;
	struct ct_timeouts timeouts;
	uint64_t timeout_ns[CT_TO__MAX];
	ct_delete_fn on_delete;
	void *ctx;
	struct ct_stats stats;
};

enum ct_proto_idx ct_proto_idx(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return CT_P_TCP;
	case IPPROTO_NUM_UDP:
		return CT_P_UDP;
	case IPPROTO_NUM_ICMP:
		return CT_P_ICMP;
	default:
		return CT_P_OTHER;
	}
}

static bool ct_match(const void *ctx, uint32_t val, const void *key)
{
	const struct ct_table *t = ctx;

	return ct_tuple_eq(&t->entries[val >> 1].tuple[val & 1], key);
}

uint64_t ct_tuple_hash(const struct ct_table *t, const struct ct_tuple *tup)
{
	return ct_hash_key(&t->hash, tup, sizeof(*tup));
}

void ct_prefetch(const struct ct_table *t, uint64_t hv)
{
	ct_hash_prefetch(&t->hash, hv);
}

uint32_t ct_index(const struct ct_table *t, const struct ct_entry *e)
{
	return (uint32_t)(e - t->entries);
}

struct ct_entry *ct_entry_at(const struct ct_table *t, uint32_t idx)
{
	ARC_ASSERT(idx < t->capacity);
	return &t->entries[idx];
}

/* ---- timer wheel ---- */

static uint16_t wheel_slot_for(const struct ct_table *t, uint64_t deadline)
{
	int64_t d = (int64_t)((deadline >> CT_TICK_SHIFT) - t->wheel_tick);

	/* Past deadlines go to the next slot collected; far ones to the last. */
	if (d < 0)
		d = 0;
	if (d > CT_WHEEL_SLOTS - 1)
		d = CT_WHEEL_SLOTS - 1;
	return (uint16_t)((t->wheel_tick + (uint64_t)d) & CT_WHEEL_MASK);
}

static void wheel_file(struct ct_table *t, struct ct_entry *e, uint32_t idx)
{
	uint16_t slot = wheel_slot_for(t, e->deadline);
	uint32_t head = t->wheel[slot];

	e->wheel_slot = slot;
	e->wheel_prev = CT_NONE;
	e->wheel_next = head;
	if (head != CT_NONE)
		t->entries[head].wheel_prev = idx;
	t->wheel[slot] = idx;
}

static void wheel_unlink(struct ct_table *t, struct ct_entry *e)
{
	if (e->wheel_prev != CT_NONE)
		t->entries[e->wheel_prev].wheel_next = e->wheel_next;
	else
		t->wheel[e->wheel_slot] = e->wheel_next;
	if (e->wheel_next != CT_NONE)
		t->entries[e->wheel_next].wheel_prev = e->wheel_prev;
}

/* ---- unreplied FIFO ---- */

static void unrep_append(struct ct_table *t, struct ct_entry *e, uint32_t idx)
{
	e->unrep_next = CT_NONE;
	e->unrep_prev = t->unrep_tail;
	if (t->unrep_tail != CT_NONE)
		t->entries[t->unrep_tail].unrep_next = idx;
	else
		t->unrep_head = idx;
	t->unrep_tail = idx;
	e->flags |= CT_F_UNREP;
}

static void unrep_unlink(struct ct_table *t, struct ct_entry *e)
{
	if (!(e->flags & CT_F_UNREP))
		return;
	if (e->unrep_prev != CT_NONE)
		t->entries[e->unrep_prev].unrep_next = e->unrep_next;
	else
		t->unrep_head = e->unrep_next;
	if (e->unrep_next != CT_NONE)
		t->entries[e->unrep_next].unrep_prev = e->unrep_prev;
	else
		t->unrep_tail = e->unrep_prev;
	e->flags &= (uint8_t)~CT_F_UNREP;
}

/* ---- closing FIFO: the same links, never both lists at once ---- */

static void close_append(struct ct_table *t, struct ct_entry *e, uint32_t idx)
{
	e->unrep_next = CT_NONE;
	e->unrep_prev = t->close_tail;
	if (t->close_tail != CT_NONE)
		t->entries[t->close_tail].unrep_next = idx;
	else
		t->close_head = idx;
	t->close_tail = idx;
	e->flags |= CT_F_CLOSING;
}

static void close_unlink(struct ct_table *t, struct ct_entry *e)
{
	if (!(e->flags & CT_F_CLOSING))
		return;
	if (e->unrep_prev != CT_NONE)
		t->entries[e->unrep_prev].unrep_next = e->unrep_next;
	else
		t->close_head = e->unrep_next;
	if (e->unrep_next != CT_NONE)
		t->entries[e->unrep_next].unrep_prev = e->unrep_prev;
	else
		t->close_tail = e->unrep_prev;
	e->flags &= (uint8_t)~CT_F_CLOSING;
}

static bool tclass_closed(enum ct_timeout_class tclass)
{
	return tclass == CT_TO_TCP_TIME_WAIT || tclass == CT_TO_TCP_CLOSE;
}

/* ---- lifecycle ---- */

static void free_entry(struct ct_table *t, struct ct_entry *e, uint32_t idx)
{
	e->flags = 0;
	e->wheel_next = t->free_head;
	t->free_head = idx;
	t->in_use--;
}

/* Take a confirmed entry out of every structure, tell the owner, free it. */
static void ct_remove(struct ct_table *t, struct ct_entry *e, enum ct_gone why)
{
	uint32_t idx = ct_index(t, e);
	int r0, r1 = 0;

	ARC_ASSERT(e->flags & CT_F_CONFIRMED);
	r0 = ct_hash_delete(&t->hash, ct_tuple_hash(t, &e->tuple[0]), idx << 1);
	if (!ct_entry_is_self(e))
		r1 = ct_hash_delete(&t->hash, ct_tuple_hash(t, &e->tuple[1]),
				    idx << 1 | 1);
	ARC_ASSERT(r0 == 0 && r1 == 0);
	wheel_unlink(t, e);
	unrep_unlink(t, e);
	close_unlink(t, e);
	if (why == CT_GONE_EXPIRED)
		t->stats.expired[ct_proto_idx(e->tuple[0].proto)]++;
	if (t->on_delete)
		t->on_delete(t->ctx, e, why);
	t->count--;
	free_entry(t, e, idx);
}

struct ct_entry *ct_lookup(struct ct_table *t, const struct ct_tuple *tup,
			   uint64_t hv, uint64_t now, enum ct_dir *dir)
{
	struct ct_entry *e;
	uint32_t v;

	t->stats.lookups++;
	v = ct_hash_lookup(&t->hash, hv, tup, ct_match, t);
	if (v == CT_HASH_EMPTY)
		return NULL;
	e = &t->entries[v >> 1];
	if (unlikely(e->deadline <= now)) {
		ct_remove(t, e, CT_GONE_EXPIRED);
		return NULL;
	}
	t->stats.hits++;
	*dir = (enum ct_dir)(v & 1);
	return e;
}

struct ct_entry *ct_find(const struct ct_table *t, const struct ct_tuple *tup,
			 enum ct_dir *dir)
{
	uint32_t v = ct_hash_lookup(&t->hash, ct_tuple_hash(t, tup), tup,
				    ct_match, t);

	if (v == CT_HASH_EMPTY)
		return NULL;
	*dir = (enum ct_dir)(v & 1);
	return &t->entries[v >> 1];
}

struct ct_entry *ct_alloc(struct ct_table *t, uint64_t now)
{
	struct ct_entry *e;
	uint32_t idx;

	if (t->free_head == CT_NONE) {
		if (t->unrep_head != CT_NONE) {
			t->stats.early_drops++;
			ct_remove(t, &t->entries[t->unrep_head],
				  CT_GONE_EARLY_DROP);
		} else if (!ct_reclaim_closing(t)) {
			t->stats.table_full++;
			return NULL;
		}
	}
	idx = t->free_head;
	e = &t->entries[idx];
	t->free_head = e->wheel_next;
	t->in_use++;
	memset(e, 0, sizeof(*e));
	if (t->fstats)
		t->fstats[idx] = (struct ct_flow_stats){ .created = now };
	e->owner = CT_NONE;
	e->user = CT_NONE;
	e->wheel_next = e->wheel_prev = CT_NONE;
	e->unrep_next = e->unrep_prev = CT_NONE;
	return e;
}

void ct_free_unconfirmed(struct ct_table *t, struct ct_entry *e)
{
	ARC_ASSERT(!(e->flags & CT_F_CONFIRMED));
	free_entry(t, e, ct_index(t, e));
}

/* Is @tup the live key of some entry? Expired holders are removed. */
static bool tuple_live(struct ct_table *t, const struct ct_tuple *tup,
		       uint64_t hv, uint64_t now)
{
	uint32_t v = ct_hash_lookup(&t->hash, hv, tup, ct_match, t);
	struct ct_entry *e;

	if (v == CT_HASH_EMPTY)
		return false;
	e = &t->entries[v >> 1];
	if (e->deadline <= now) {
		ct_remove(t, e, CT_GONE_EXPIRED);
		return false;
	}
	return true;
}

static void wheel_start(struct ct_table *t, uint64_t now)
{
	if (!t->wheel_started) {
		t->wheel_tick = now >> CT_TICK_SHIFT;
		t->wheel_started = true;
	}
}

int ct_confirm(struct ct_table *t, struct ct_entry *e,
	       enum ct_timeout_class tclass, uint64_t now)
{
	uint32_t idx = ct_index(t, e);
	bool self = ct_entry_is_self(e);
	uint64_t hv0 = ct_tuple_hash(t, &e->tuple[0]);
	uint64_t hv1 = ct_tuple_hash(t, &e->tuple[1]);

	ARC_ASSERT(!(e->flags & CT_F_CONFIRMED) && (unsigned int)tclass < CT_TO__MAX);
	if (tuple_live(t, &e->tuple[0], hv0, now) ||
	    (!self && tuple_live(t, &e->tuple[1], hv1, now))) {
		t->stats.clashes++;
		return -EEXIST;
	}
	if (ct_hash_insert(&t->hash, hv0, idx << 1) < 0) {
		t->stats.hash_full++;
		return -ENOSPC;
	}
	/* A flow that is its own reply: one tuple, indexed once. */
	if (!self && ct_hash_insert(&t->hash, hv1, idx << 1 | 1) < 0) {
		ARC_ASSERT(ct_hash_delete(&t->hash, hv0, idx << 1) == 0);
		t->stats.hash_full++;
		return -ENOSPC;
	}
	wheel_start(t, now);
	e->flags |= CT_F_CONFIRMED;
	e->tclass = (uint8_t)tclass;
	e->deadline = now + t->timeout_ns[tclass];
	wheel_file(t, e, idx);
	unrep_append(t, e, idx);
	t->count++;
	t->stats.inserts++;
	return 0;
}

bool ct_reclaim_closing(struct ct_table *t)
{
	if (t->close_head == CT_NONE)
		return false;
	t->stats.reclaimed++;
	ct_remove(t, &t->entries[t->close_head], CT_GONE_EARLY_DROP);
	return true;
}

void ct_refresh(struct ct_table *t, struct ct_entry *e,
		enum ct_timeout_class tclass, uint64_t now)
{
	uint64_t deadline = now + t->timeout_ns[tclass];
	uint16_t slot;

	/* Replied and now closed: joins the closing FIFO (once, on entering
	 * those states); reopened: leaves it. Unreplied ones stay where
	 * early drop finds them. */
	if (tclass_closed(tclass) && !(e->flags & (CT_F_UNREP | CT_F_CLOSING)))
		close_append(t, e, ct_index(t, e));
	else if (!tclass_closed(tclass))
		close_unlink(t, e);
	e->tclass = (uint8_t)tclass;
	if (deadline >= e->deadline) {
		/* Later: the wheel re-files it lazily when its slot comes up. */
		e->deadline = deadline;
		return;
	}
	/* Earlier (a state change shortened the timeout): re-file now if the
	 * new slot comes before the one the entry sits in. */
	e->deadline = deadline;
	slot = wheel_slot_for(t, deadline);
	if (((slot - t->wheel_tick) & CT_WHEEL_MASK) <
	    ((e->wheel_slot - t->wheel_tick) & CT_WHEEL_MASK)) {
		wheel_unlink(t, e);
		wheel_file(t, e, ct_index(t, e));
	}
}

void ct_mark_replied(struct ct_table *t, struct ct_entry *e)
{
	unrep_unlink(t, e);
	e->flags |= CT_F_REPLIED;
}

void ct_delete(struct ct_table *t, struct ct_entry *e)
{
	t->stats.deletes++;
	ct_remove(t, e, CT_GONE_DELETED);
}

bool ct_expire_pending(const struct ct_table *t, uint64_t now)
{
	return t->wheel_started && t->count && t->wheel_tick < (now >> CT_TICK_SHIFT);
}

unsigned int ct_expire(struct ct_table *t, uint64_t now, unsigned int budget)
{
	uint64_t now_tick = now >> CT_TICK_SHIFT;
	unsigned int expired = 0;

	wheel_start(t, now);
	/*
	 * Only fully elapsed ticks are collected, and a visit to tick T
	 * expires exactly the entries whose deadline lies in a tick <= T:
	 * they are dead (T < now's tick). Every other entry in the slot has had
	 * its deadline moved later and is re-filed into the slot of its new
	 * deadline's tick, so the slot drains. Entries are filed no later than
	 * their deadline's tick, so once every tick before now's is collected,
	 * the table holds exactly the entries whose deadline is in now's tick
	 * or later (and lookups treat those at or before now as gone). This
	 * rule makes the set of present entries a function of time alone, which
	 * the differential test's reference model relies on.
	 */
	while (budget && t->wheel_tick < now_tick) {
		uint32_t slot = (uint32_t)(t->wheel_tick & CT_WHEEL_MASK);
		uint64_t tick_end = (t->wheel_tick + 1) << CT_TICK_SHIFT;
		uint32_t idx;

		if (t->count == 0) {
			t->wheel_tick = now_tick;	/* nothing to visit */
			break;
		}
		while (budget && (idx = t->wheel[slot]) != CT_NONE) {
			struct ct_entry *e = &t->entries[idx];

			budget--;
			if (e->deadline < tick_end) {
				ct_remove(t, e, CT_GONE_EXPIRED);
				expired++;
			} else {
				wheel_unlink(t, e);
				wheel_file(t, e, idx);
				t->stats.wheel_refile++;
			}
		}
		if (t->wheel[slot] != CT_NONE)
			break;	/* out of budget in this slot: resume here */
		/*
		 * The slot is drained: move on, and charge the visit. Charging
		 * after the drain (and not at all when the entries used the
		 * last unit) guarantees progress even with a budget of 1.
		 */
		t->wheel_tick++;
		if (budget)
			budget--;
	}
	return expired;
}

uint32_t ct_count(const struct ct_table *t)
{
	return t->count;
}

uint32_t ct_capacity(const struct ct_table *t)
{
	return t->capacity;
}

uint32_t ct_in_use(const struct ct_table *t)
{
	return t->in_use;
}

const struct ct_timeouts *ct_get_timeouts(const struct ct_table *t)
{
	return &t->timeouts;
}

const struct ct_stats *ct_get_stats(const struct ct_table *t)
{
	return &t->stats;
}

size_t ct_memory(const struct ct_table *t)
{
	return sizeof(*t) + t->entries_bytes + t->fstats_bytes +
	       ct_hash_memory(&t->hash);
}

struct ct_flow_stats *ct_flow_stats(const struct ct_table *t)
{
	return t->fstats;
}

static void *map_entries(size_t bytes)
{
	void *p = MAP_FAILED;

	if (bytes >= (2u << 20))
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		(void)madvise(p, bytes, MADV_HUGEPAGE);
	}
	return p;
}

int ct_create(struct ct_table **out, const struct ct_config *cfg)
{
	uint32_t max = cfg->max_flows ? cfg->max_flows : CT_DEFAULT_MAX_FLOWS;
	struct ct_table *t;
	int err;

	if (max > CT_MAX_FLOWS || ct_timeouts_validate(&cfg->timeouts, true))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->capacity = max;
	t->entries_bytes = ALIGN_UP((size_t)max * sizeof(struct ct_entry),
				    (size_t)(2u << 20));
	t->entries = map_entries(t->entries_bytes);
	if (!t->entries) {
		err = -ENOMEM;
		goto err_free;
	}
	if (cfg->flow_stats) {
		t->fstats_bytes = ALIGN_UP((size_t)max * sizeof(*t->fstats),
					   (size_t)(2u << 20));
		t->fstats = map_entries(t->fstats_bytes);
		if (!t->fstats) {
			err = -ENOMEM;
			goto err_unmap;
		}
	}
	err = ct_hash_init(&t->hash, max * 2, cfg->key, cfg->seed);
	if (err)
		goto err_unmap;

	t->timeouts = cfg->timeouts;
	for (unsigned int i = 0; i < CT_TO__MAX; i++)
		t->timeout_ns[i] = (uint64_t)cfg->timeouts.sec[i] * NSEC_PER_SEC;
	t->on_delete = cfg->on_delete;
	t->ctx = cfg->ctx;
	t->unrep_head = t->unrep_tail = CT_NONE;
	t->close_head = t->close_tail = CT_NONE;
	for (unsigned int i = 0; i < CT_WHEEL_SLOTS; i++)
		t->wheel[i] = CT_NONE;
	/* Building the free list touches every entry page now, not on the
	 * packet path. Lowest index first, so allocation is sequential. */
	for (uint32_t i = 0; i < max; i++)
		t->entries[i].wheel_next = i + 1 < max ? i + 1 : CT_NONE;
	t->free_head = 0;
	*out = t;
	return 0;

err_unmap:
	if (t->fstats)
		munmap(t->fstats, t->fstats_bytes);
	munmap(t->entries, t->entries_bytes);
err_free:
	free(t);
	return err;
}

void ct_destroy(struct ct_table *t)
{
	if (!t)
		return;
	ct_hash_destroy(&t->hash);
	if (t->entries)
		munmap(t->entries, t->entries_bytes);
	if (t->fstats)
		munmap(t->fstats, t->fstats_bytes);
	free(t);
}
