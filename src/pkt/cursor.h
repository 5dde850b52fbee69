/* SPDX-License-Identifier: MIT */
/*
 * cursor.h - the bounds-checked reader every parser of untrusted bytes uses.
 *
 * Theory of operation: a cursor is a window [0, len) over a buffer plus a
 * read offset. Every read names how many bytes it needs and gets either a
 * pointer to them or NULL; no read ever looks past `len`. Parsers narrow the
 * window when a length field says the data ends earlier (an IP total length,
 * a UDP length), so later reads are bounded by the protocol as well as by
 * the buffer. Comparisons are written as `n > len - off` so that they cannot
 * overflow. Wire structs are packed (alignment 1), so the returned pointer
 * may be cast to them.
 */
#ifndef ARCNAT_PKT_CURSOR_H
#define ARCNAT_PKT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/compiler.h"

/**
 * struct pkt_cursor - a read window over untrusted bytes.
 * @data: start of the buffer
 * @len:  bytes that may be read (off never exceeds it)
 * @off:  next byte to read
 */
struct pkt_cursor {
	const uint8_t *data;
	size_t len;
	size_t off;
};

static inline void pkt_cursor_init(struct pkt_cursor *c, const void *data,
				   size_t len)
{
	c->data = data;
	c->len = len;
	c->off = 0;
}

/* Bytes left between the offset and the end of the window. */
static inline size_t pkt_cursor_remaining(const struct pkt_cursor *c)
{
	return c->len - c->off;
}

/* A pointer to @n bytes at @at (absolute), or NULL if they are not all there. */
static inline const void *pkt_cursor_at(const struct pkt_cursor *c, size_t at,
					size_t n)
{
	if (at > c->len || n > c->len - at)
		return NULL;
	return c->data + at;
}

/* A pointer to the next @n bytes without consuming them, or NULL. */
static inline const void *pkt_cursor_peek(const struct pkt_cursor *c, size_t n)
{
	return pkt_cursor_at(c, c->off, n);
}

/* Consume @n bytes; return a pointer to them, or NULL (offset unchanged). */
static inline const void *pkt_cursor_pull(struct pkt_cursor *c, size_t n)
{
	const void *p = pkt_cursor_peek(c, n);

	if (p)
		c->off += n;
	return p;
}

/* Skip @n bytes. Return: false (offset unchanged) if fewer remain. */
static inline bool pkt_cursor_skip(struct pkt_cursor *c, size_t n)
{
	return pkt_cursor_pull(c, n) != NULL;
}

/*
 * Shrink the window to end @n bytes after the offset (a length field said
 * so). Return: false if that is beyond the current window.
 */
static inline bool pkt_cursor_limit(struct pkt_cursor *c, size_t n)
{
	if (n > pkt_cursor_remaining(c))
		return false;
	c->len = c->off + n;
	return true;
}

static inline bool pkt_cursor_u8(struct pkt_cursor *c, uint8_t *v)
{
	const uint8_t *p = pkt_cursor_pull(c, 1);

	if (!p)
		return false;
	*v = *p;
	return true;
}

/* Read a big-endian 16-bit value into host order. */
static inline bool pkt_cursor_be16(struct pkt_cursor *c, uint16_t *v)
{
	const uint8_t *p = pkt_cursor_pull(c, 2);

	if (!p)
		return false;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return true;
}

/* Read a big-endian 32-bit value into host order. */
static inline bool pkt_cursor_be32(struct pkt_cursor *c, uint32_t *v)
{
	const uint8_t *p = pkt_cursor_pull(c, 4);

	if (!p)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	     (uint32_t)p[2] << 8 | p[3];
	return true;
}

/* Copy @n bytes out and consume them. Return: false if fewer remain. */
static inline bool pkt_cursor_copy(struct pkt_cursor *c, void *dst, size_t n)
{
	const void *p = pkt_cursor_pull(c, n);

	if (!p)
		return false;
	memcpy(dst, p, n);
	return true;
}

#endif /* ARCNAT_PKT_CURSOR_H */
