// SPDX-License-Identifier: MIT
/*
 * sock_tcp_ooo.c - a guest's out-of-order bytes, kept for the TCP relay in
 * a pool of chunks; see sock_tcp_ooo.h for the design.
 */
#include "uplink/sock_tcp_ooo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b)	((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)	((int32_t)((a) - (b)) > 0)

int stcp_ooo_pool_init(struct stcp_ooo_pool *p, uint32_t bytes, uint32_t share)
{
	uint32_t i;

	memset(p, 0, sizeof(*p));
	p->n = (bytes + STCP_OOO_CHUNK - 1) / STCP_OOO_CHUNK;
	p->free = STCP_OOO_NONE;
	if (!p->n)
		return 0;
	p->mem = malloc((size_t)p->n * STCP_OOO_CHUNK);
	p->next = malloc((size_t)p->n * sizeof(*p->next));
	if (!p->mem || !p->next) {
		stcp_ooo_pool_fini(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->n; i++)
		p->next[i] = i + 1 < p->n ? i + 1 : STCP_OOO_NONE;
	p->free = 0;
	p->nfree = p->n;
	p->share = (share + STCP_OOO_CHUNK - 1) / STCP_OOO_CHUNK;
	return 0;
}

void stcp_ooo_pool_fini(struct stcp_ooo_pool *p)
{
	free(p->mem);
	free(p->next);
	memset(p, 0, sizeof(*p));
	p->free = STCP_OOO_NONE;
}

static uint32_t chunk_get(struct stcp_ooo_pool *p, struct stcp_ooo *o)
{
	uint32_t c = p->free;

	if (c == STCP_OOO_NONE || o->chunks >= p->share)
		return STCP_OOO_NONE;
	p->free = p->next[c];
	p->next[c] = STCP_OOO_NONE;
	p->nfree--;
	o->chunks++;
	return c;
}

static void chunk_put(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t c)
{
	p->next[c] = p->free;
	p->free = c;
	p->nfree++;
	o->chunks--;
}

static uint8_t *chunk_at(const struct stcp_ooo_pool *p, uint32_t c)
{
	return p->mem + (size_t)c * STCP_OOO_CHUNK;
}

/* Drop range @i and its chunks. */
static void range_drop(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t i)
{
	uint32_t c = o->r[i].head;

	while (c != STCP_OOO_NONE) {
		uint32_t nx = p->next[c];

		chunk_put(p, o, c);
		c = nx;
	}
	memmove(&o->r[i], &o->r[i + 1], (o->n - i - 1) * sizeof(o->r[0]));
	o->n--;
}

/* Append @len bytes to range @r. Return: bytes appended (fewer when the
 * pool or the connection's share runs out). */
static uint32_t range_append(struct stcp_ooo_pool *p, struct stcp_ooo *o,
			     struct stcp_ooo_range *r, const uint8_t *data,
			     uint32_t len)
{
	uint32_t done = 0;

	while (done < len) {
		uint32_t k;

		if (r->used == STCP_OOO_CHUNK) {
			uint32_t c = chunk_get(p, o);

			if (c == STCP_OOO_NONE)
				break;
			p->next[r->tail] = c;
			r->tail = c;
			r->used = 0;
		}
		k = STCP_OOO_CHUNK - r->used;
		if (k > len - done)
			k = len - done;
		memcpy(chunk_at(p, r->tail) + r->used, data + done, k);
		r->used += k;
		done += k;
	}
	r->len += done;
	return done;
}

/* Drop @n bytes from the front of range @i (at most its length). */
static void range_cut(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t i,
		      uint32_t n)
{
	struct stcp_ooo_range *r = &o->r[i];

	if (n >= r->len) {
		range_drop(p, o, i);
		return;
	}
	r->seq += n;
	r->len -= n;
	r->off += n;
	while (r->off >= STCP_OOO_CHUNK && r->head != r->tail) {
		uint32_t nx = p->next[r->head];

		chunk_put(p, o, r->head);
		r->head = nx;
		r->off -= STCP_OOO_CHUNK;
	}
}

/* Range @i touches the next: move the next one's bytes into it. */
static void range_merge(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t i)
{
	while (i + 1 < o->n && o->r[i].seq + o->r[i].len == o->r[i + 1].seq) {
		struct stcp_ooo_range *nx = &o->r[i + 1];
		uint32_t c = nx->head, off = nx->off, left = nx->len, moved = 0;

		while (left && c != STCP_OOO_NONE) {
			uint32_t k = STCP_OOO_CHUNK - off, a;

			if (k > left)
				k = left;
			a = range_append(p, o, &o->r[i], chunk_at(p, c) + off, k);
			moved += a;
			left -= a;
			if (a < k)
				break;
			c = p->next[c];
			off = 0;
		}
		/* What moved is no longer the next range's: cut it there
		 * (all of it: the range goes). */
		range_cut(p, o, i + 1, moved);
		if (left)
			return;
	}
}

uint32_t stcp_ooo_insert(struct stcp_ooo_pool *p, struct stcp_ooo *o,
			 uint32_t rcv_nxt, uint32_t limit, uint32_t seq,
			 const uint8_t *data, uint32_t len)
{
	uint32_t end = seq + len, cur = seq, kept = 0;
	unsigned int rounds;

	if (!p->n)
		return 0;
	if (SEQ_LE(seq, rcv_nxt))
		return 0;
	if (SEQ_GT(end, rcv_nxt + limit))
		end = rcv_nxt + limit;
	/* Each round skips a range or keeps one piece: bounded by the
	 * ranges there can be, twice, and one. */
	for (rounds = 0; SEQ_LT(cur, end) && rounds < 2 * STCP_OOO_RANGES + 2;
	     rounds++) {
		uint32_t j, pend, a, want;
		struct stcp_ooo_range *r;

		for (j = 0; j < o->n; j++)
			if (SEQ_GT(o->r[j].seq + o->r[j].len, cur))
				break;
		if (j < o->n && SEQ_LE(o->r[j].seq, cur)) {
			cur = o->r[j].seq + o->r[j].len; /* covered */
			continue;
		}
		pend = (j < o->n && SEQ_LT(o->r[j].seq, end)) ? o->r[j].seq : end;
		want = pend - cur;
		if (j > 0 && o->r[j - 1].seq + o->r[j - 1].len == cur) {
			j--;
		} else {
			uint32_t c;

			if (o->n == STCP_OOO_RANGES)
				break;
			c = chunk_get(p, o);
			if (c == STCP_OOO_NONE)
				break;
			memmove(&o->r[j + 1], &o->r[j], (o->n - j) * sizeof(o->r[0]));
			o->n++;
			o->r[j] = (struct stcp_ooo_range){ .seq = cur, .head = c,
							   .tail = c };
		}
		r = &o->r[j];
		a = range_append(p, o, r, data + (cur - seq), want);
		if (!r->len) {
			range_drop(p, o, j);
			break;
		}
		kept += a;
		o->recent = cur;
		cur += a;
		range_merge(p, o, j);
		if (a < want)
			break;
	}
	return kept;
}

unsigned int stcp_ooo_front(struct stcp_ooo_pool *p, struct stcp_ooo *o,
			    uint32_t rcv_nxt, struct iovec *iov,
			    unsigned int max)
{
	const struct stcp_ooo_range *r;
	uint32_t c, off, left;
	unsigned int k = 0;

	while (o->n && SEQ_LT(o->r[0].seq, rcv_nxt))
		range_cut(p, o, 0, rcv_nxt - o->r[0].seq);
	if (!o->n || o->r[0].seq != rcv_nxt)
		return 0;
	r = &o->r[0];
	c = r->head;
	off = r->off;
	left = r->len;
	while (left && k < max && c != STCP_OOO_NONE) {
		uint32_t l = STCP_OOO_CHUNK - off;

		if (l > left)
			l = left;
		iov[k++] = (struct iovec){ chunk_at(p, c) + off, l };
		left -= l;
		off = 0;
		c = p->next[c];
	}
	return k;
}

void stcp_ooo_consume(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t n)
{
	if (o->n && n)
		range_cut(p, o, 0, n);
}

unsigned int stcp_ooo_sack(const struct stcp_ooo *o,
			   uint32_t edges[2 * STCP_OOO_RANGES])
{
	unsigned int k = 0, first = STCP_OOO_RANGES, i;

	for (i = 0; i < o->n; i++)
		if (SEQ_LE(o->r[i].seq, o->recent) &&
		    SEQ_LT(o->recent, o->r[i].seq + o->r[i].len))
			first = i;
	if (first < o->n) {
		edges[k++] = o->r[first].seq;
		edges[k++] = o->r[first].seq + o->r[first].len;
	}
	for (i = 0; i < o->n; i++) {
		if (i == first)
			continue;
		edges[k++] = o->r[i].seq;
		edges[k++] = o->r[i].seq + o->r[i].len;
	}
	return k / 2;
}

void stcp_ooo_clear(struct stcp_ooo_pool *p, struct stcp_ooo *o)
{
	while (o->n)
		range_drop(p, o, o->n - 1);
	o->recent = 0;
}
