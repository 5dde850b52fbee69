/* SPDX-License-Identifier: MIT */
/*
 * ring.h - single-producer single-consumer ring of pointers.
 *
 * Theory of operation: a power-of-two array of slots and two free-running
 * 32-bit indices. The producer owns head (the next slot to fill), the
 * consumer owns tail (the next slot to drain); each only reads the other's
 * index. The fill level is head - tail in unsigned arithmetic, which stays
 * right when the indices wrap past UINT32_MAX, so all `size` slots are
 * usable (no slot is sacrificed to tell full from empty). The producer
 * publishes slots with a release store of head, the consumer gives them
 * back with a release store of tail; each side reads the other's index with
 * an acquire load. Each side also keeps a private copy of the other's index
 * and re-reads the shared one only when the copy says the ring is full
 * (producer) or empty (consumer), so in steady state neither side touches
 * the other's cache line.
 *
 * Concurrency: exactly one producer thread may call
 * ring_enqueue_burst_spsc() and exactly one consumer thread may call
 * ring_dequeue_burst_spsc() at a time (the "_spsc" in the names). The ring
 * moves pointers, not buffers: it neither borrows nor frees what they point
 * to. Ownership of each enqueued object passes to whoever dequeues it.
 */
#ifndef ARCNAT_MEM_RING_H
#define ARCNAT_MEM_RING_H

#include <stdint.h>

/* Largest size ring_create_spsc() accepts. */
#define RING_MAX_SIZE (1u << 28)

struct ring;

/**
 * ring_create_spsc() - allocate an empty single-producer single-consumer ring.
 * @out:  where to store the new ring; untouched on error
 * @size: number of slots, a power of two, 1 .. RING_MAX_SIZE; all of them
 *        usable
 *
 * Return: 0; -EINVAL if @size is out of range or not a power of two;
 * -ENOMEM.
 */
int ring_create_spsc(struct ring **out, uint32_t size);

/**
 * ring_create_spsc_at() - ring_create_spsc() with both indices at @start.
 * @out:   where to store the new ring; untouched on error
 * @size:  as for ring_create_spsc()
 * @start: initial value of the free-running head and tail indices
 *
 * For tests: starting near UINT32_MAX exercises the wrap-around of the
 * indices without pushing four billion objects first. Production code uses
 * ring_create_spsc() (which starts at 0); the ring behaves the same either
 * way.
 *
 * Return: as ring_create_spsc().
 */
int ring_create_spsc_at(struct ring **out, uint32_t size, uint32_t start);

/**
 * ring_destroy() - free a ring.
 * @r: ring, or NULL (nothing happens)
 *
 * Objects still in the ring are not touched; the caller drains it first if
 * they own something.
 */
void ring_destroy(struct ring *r);

/**
 * ring_enqueue_burst_spsc() - append up to @n objects (producer only).
 * @r:    ring
 * @objs: objects to append, in order; ownership of each one appended passes
 *        to the ring's consumer
 * @n:    number of objects in @objs
 *
 * Appends as many as fit, from @objs[0] on; the rest stay with the caller.
 *
 * Return: the number appended, 0 .. @n (0 when the ring is full).
 */
uint32_t ring_enqueue_burst_spsc(struct ring *r, void *const *objs, uint32_t n);

/**
 * ring_dequeue_burst_spsc() - take up to @n objects (consumer only).
 * @r:    ring
 * @objs: receives the objects, oldest first; the caller owns them
 * @n:    room in @objs
 *
 * Return: the number stored in @objs, 0 .. @n (0 when the ring is empty).
 */
uint32_t ring_dequeue_burst_spsc(struct ring *r, void **objs, uint32_t n);

/**
 * ring_count() - number of objects in the ring.
 * @r: ring
 *
 * Exact when neither side is running; from the producer it may
 * overestimate and from the consumer underestimate (the other side moves on
 * meanwhile), which is the safe direction for each. Any thread may call it.
 *
 * Return: 0 .. ring_capacity().
 */
uint32_t ring_count(const struct ring *r);

/**
 * ring_free_count() - number of free slots.
 * @r: ring
 *
 * Return: ring_capacity() - ring_count().
 */
uint32_t ring_free_count(const struct ring *r);

/**
 * ring_capacity() - number of slots.
 * @r: ring
 *
 * Return: @size as given at creation.
 */
uint32_t ring_capacity(const struct ring *r);

#endif /* ARCNAT_MEM_RING_H */
