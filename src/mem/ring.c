// SPDX-License-Identifier: MIT
/*
 * ring.c - single-producer single-consumer ring of pointers.
 *
 * Theory of operation (see also ring.h): three regions, each starting on
 * its own cache line so that the two threads never write the same line
 * except for the slots themselves:
 *
 *   line 0: producer: head (shared, written by the producer only),
 *           tail_cache (private), mask (read-only copy)
 *   line 1: consumer: tail (shared, written by the consumer only),
 *           head_cache (private), mask (read-only copy)
 *   line 2..: slots[size]
 *
 * The memory ordering is two release/acquire pairs, nothing stronger:
 *   - producer writes slots, then release-stores head; the consumer
 *     acquire-loads head, then reads the slots: it sees what was written;
 *   - consumer reads slots, then release-stores tail; the producer
 *     acquire-loads tail, then overwrites the slots: the reads are done.
 * A thread's own index is loaded relaxed: nobody else writes it.
 */
#include "mem/ring.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

/**
 * struct ring - SPSC ring (private).
 * @prod:            written by the producer only
 * @prod.head:       free-running index of the next slot to fill
 * @prod.tail_cache: the producer's last view of @cons.tail
 * @prod.mask:       size - 1, copied here so the producer stays on its line
 * @cons:            written by the consumer only
 * @cons.tail:       free-running index of the next slot to drain
 * @cons.head_cache: the consumer's last view of @prod.head
 * @cons.mask:       size - 1, the consumer's copy
 * @slots:           size object pointers
 */
struct ring {
	struct {
		_Atomic uint32_t head;
		uint32_t tail_cache;
		uint32_t mask;
	} prod __cacheline_aligned;
	struct {
		_Atomic uint32_t tail;
		uint32_t head_cache;
		uint32_t mask;
	} cons __cacheline_aligned;
	void *slots[] __cacheline_aligned;
};

static_assert(offsetof(struct ring, prod) == 0, "producer fields on line 0");
static_assert(offsetof(struct ring, cons) == CACHE_LINE_SIZE,
	      "consumer fields on their own cache line");
static_assert(offsetof(struct ring, slots) == 2 * (size_t)CACHE_LINE_SIZE,
	      "slots start on a line of their own");
static_assert(ATOMIC_INT_LOCK_FREE == 2 && sizeof(uint32_t) == sizeof(int),
	      "32-bit indices are lock-free atomics");
/* head - tail must tell full (size) from empty (0) without ambiguity. */
static_assert(RING_MAX_SIZE <= (1u << 31), "size fits the index arithmetic");

int ring_create_spsc_at(struct ring **out, uint32_t size, uint32_t start)
{
	struct ring *r;
	size_t len;

	if (!IS_POWER_OF_2(size) || size > RING_MAX_SIZE)
		return -EINVAL;
	/* aligned_alloc() wants a multiple of the alignment. */
	len = ALIGN_UP(sizeof(*r) + (size_t)size * sizeof(r->slots[0]),
		       (size_t)CACHE_LINE_SIZE);
	r = aligned_alloc(CACHE_LINE_SIZE, len);
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	atomic_init(&r->prod.head, start);
	r->prod.tail_cache = start;
	r->prod.mask = size - 1;
	atomic_init(&r->cons.tail, start);
	r->cons.head_cache = start;
	r->cons.mask = size - 1;
	*out = r;
	return 0;
}

int ring_create_spsc(struct ring **out, uint32_t size)
{
	return ring_create_spsc_at(out, size, 0);
}

void ring_destroy(struct ring *r)
{
	free(r);
}

uint32_t ring_enqueue_burst_spsc(struct ring *r, void *const *objs, uint32_t n)
{
	uint32_t head =
		atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint32_t size = r->prod.mask + 1;
	uint32_t idx, first;

	if (size - (head - r->prod.tail_cache) < n) {
		/*
		 * Acquire: pairs with the release store of tail in
		 * ring_dequeue_burst_spsc(); the consumer's reads of the slots
		 * it gave back are finished before we overwrite them below.
		 */
		r->prod.tail_cache = atomic_load_explicit(&r->cons.tail,
							  memory_order_acquire);
		n = MIN(n, size - (head - r->prod.tail_cache));
		if (n == 0)
			return 0;
	}
	idx = head & r->prod.mask;
	first = MIN(n, size - idx);
	memcpy(&r->slots[idx], objs, (size_t)first * sizeof(*objs));
	memcpy(&r->slots[0], objs + first, (size_t)(n - first) * sizeof(*objs));
	/*
	 * Release: publishes the slots written above; pairs with the acquire
	 * load of head in ring_dequeue_burst_spsc().
	 */
	atomic_store_explicit(&r->prod.head, head + n, memory_order_release);
	return n;
}

uint32_t ring_dequeue_burst_spsc(struct ring *r, void **objs, uint32_t n)
{
	uint32_t tail =
		atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
	uint32_t size = r->cons.mask + 1;
	uint32_t idx, first;

	if (r->cons.head_cache - tail < n) {
		/*
		 * Acquire: pairs with the release store of head in
		 * ring_enqueue_burst_spsc(); the producer's writes of the slots
		 * it published are visible to the reads below.
		 */
		r->cons.head_cache = atomic_load_explicit(&r->prod.head,
							  memory_order_acquire);
		n = MIN(n, r->cons.head_cache - tail);
		if (n == 0)
			return 0;
	}
	idx = tail & r->cons.mask;
	first = MIN(n, size - idx);
	memcpy(objs, &r->slots[idx], (size_t)first * sizeof(*objs));
	memcpy(objs + first, &r->slots[0], (size_t)(n - first) * sizeof(*objs));
	/*
	 * Release: hands the slots read above back to the producer; pairs
	 * with the acquire load of tail in ring_enqueue_burst_spsc().
	 */
	atomic_store_explicit(&r->cons.tail, tail + n, memory_order_release);
	return n;
}

uint32_t ring_count(const struct ring *r)
{
	/*
	 * Acquire: pairs with the release store of tail in
	 * ring_dequeue_burst_spsc(). The consumer had seen a head at least
	 * this far before storing tail, so the head loaded next is too, and
	 * head - tail cannot come out "negative". Relaxed for head: nothing
	 * is read through it.
	 */
	uint32_t tail =
		atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	uint32_t head =
		atomic_load_explicit(&r->prod.head, memory_order_relaxed);

	/* A third thread may see an old tail with a newer head: clamp. */
	return MIN(head - tail, r->prod.mask + 1);
}

uint32_t ring_free_count(const struct ring *r)
{
	return r->prod.mask + 1 - ring_count(r);
}

uint32_t ring_capacity(const struct ring *r)
{
	return r->prod.mask + 1;
}
