/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp_ooo.h - the TCP relay's store of a guest's out-of-order bytes:
 * what arrives beyond a hole is kept (bounded) instead of dropped, and
 * announced with SACK, so that the guest resends only the hole.
 *
 * Theory of operation: the bytes live in one pool of fixed chunks shared by
 * every connection, allocated at start (nothing per packet). A connection
 * has up to STCP_OOO_RANGES ranges, sorted, neither overlapping nor
 * touching; a range is a list of chunks holding its bytes back to back
 * from an offset in its first chunk. A segment is cut into the pieces no
 * range covers yet; a piece that starts where a range ends is appended to
 * it (and a range that then reaches the next one swallows it), any other
 * becomes a range of its own while there are free ones. When the hole
 * before the first range is filled, the relay writes that range from
 * stcp_ooo_front() and drops what the socket took with stcp_ooo_consume().
 * A full pool, or a connection at its share, keeps less: those bytes are
 * simply dropped as before, and never announced.
 */
#ifndef ARCNAT_UPLINK_SOCK_TCP_OOO_H
#define ARCNAT_UPLINK_SOCK_TCP_OOO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define STCP_OOO_CHUNK		4096u
#define STCP_OOO_RANGES		4u	/* also the SACK blocks announced */
#define STCP_OOO_NONE		UINT32_MAX

/**
 * struct stcp_ooo_pool - the chunks.
 * @mem:    @n chunks of STCP_OOO_CHUNK bytes
 * @next:   a chunk's successor in its range or in the free list
 * @free:   first free chunk (STCP_OOO_NONE: none)
 * @n:      chunks
 * @nfree:  free chunks
 * @share:  chunks one connection may hold, at most
 */
struct stcp_ooo_pool {
	uint8_t *mem;
	uint32_t *next;
	uint32_t free;
	uint32_t n;
	uint32_t nfree;
	uint32_t share;
};

/**
 * struct stcp_ooo_range - bytes [@seq, @seq + @len) of the guest's stream.
 * @seq:  first byte's sequence number
 * @len:  bytes
 * @head: first chunk
 * @tail: last chunk
 * @off:  offset of the first byte in @head
 * @used: bytes used in @tail
 */
struct stcp_ooo_range {
	uint32_t seq;
	uint32_t len;
	uint32_t head;
	uint32_t tail;
	uint32_t off;
	uint32_t used;
};

/**
 * struct stcp_ooo - one connection's out-of-order bytes.
 * @r:      ranges, sorted by sequence number
 * @n:      ranges in use
 * @recent: a byte of the latest kept (its range is the first SACK block)
 * @chunks: chunks held
 */
struct stcp_ooo {
	struct stcp_ooo_range r[STCP_OOO_RANGES];
	uint32_t n;
	uint32_t recent;
	uint32_t chunks;
};

/**
 * stcp_ooo_pool_init() - allocate @bytes of chunks (rounded up).
 * @p:      pool
 * @bytes:  total
 * @share:  bytes one connection may hold
 * Return: 0 or -ENOMEM.
 */
int stcp_ooo_pool_init(struct stcp_ooo_pool *p, uint32_t bytes, uint32_t share);

/** stcp_ooo_pool_fini() - free the pool; a zeroed one is fine. @p: pool */
void stcp_ooo_pool_fini(struct stcp_ooo_pool *p);

/**
 * stcp_ooo_insert() - keep what a segment beyond @rcv_nxt brings.
 * @p:       pool
 * @o:       the connection's store
 * @rcv_nxt: the next byte the relay expects
 * @limit:   bytes beyond @rcv_nxt worth keeping (the window announced)
 * @seq:     the segment's first byte
 * @data:    its bytes
 * @len:     how many
 * Return: bytes newly kept.
 */
uint32_t stcp_ooo_insert(struct stcp_ooo_pool *p, struct stcp_ooo *o,
			 uint32_t rcv_nxt, uint32_t limit, uint32_t seq,
			 const uint8_t *data, uint32_t len);

/**
 * stcp_ooo_front() - the kept bytes that now follow @rcv_nxt, as an iovec;
 * bytes before @rcv_nxt are dropped first.
 * @p:       pool
 * @o:       store
 * @rcv_nxt: the next byte the relay expects
 * @iov:     filled
 * @max:     entries of @iov
 * Return: entries filled (0: the first range does not start at @rcv_nxt).
 */
unsigned int stcp_ooo_front(struct stcp_ooo_pool *p, struct stcp_ooo *o,
			    uint32_t rcv_nxt, struct iovec *iov,
			    unsigned int max);

/**
 * stcp_ooo_consume() - drop @n bytes from the front of the first range.
 * @p: pool. @o: store. @n: bytes (at most the range's)
 */
void stcp_ooo_consume(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t n);

/**
 * stcp_ooo_sack() - the SACK blocks to announce (RFC 2018), the most recent
 * range first.
 * @o:     store
 * @edges: filled with left and right edges, host order
 * Return: blocks (0..STCP_OOO_RANGES).
 */
unsigned int stcp_ooo_sack(const struct stcp_ooo *o,
			   uint32_t edges[2 * STCP_OOO_RANGES]);

/** stcp_ooo_clear() - give every chunk back. @p: pool. @o: store */
void stcp_ooo_clear(struct stcp_ooo_pool *p, struct stcp_ooo *o);

#endif /* ARCNAT_UPLINK_SOCK_TCP_OOO_H */
