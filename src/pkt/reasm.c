// SPDX-License-Identifier: MIT
/*
 * reasm.c - bounded IPv4 reassembly (theory of operation and policies in
 * reasm.h).
 *
 * A slot's storage is REASM_SLOT_BYTES: the data at IP4_HLEN_MAX, so that
 * the first fragment's header (whatever its length) is copied right in
 * front of it and the result is one contiguous packet without a move.
 * Since overlapping fragments are refused, every byte is counted once:
 * the datagram is complete when the bytes held equal the end the last
 * fragment set and the first fragment's header is there.
 */
#include "pkt/reasm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/compiler.h"
#include "pkt/csum.h"
#include "pkt/cursor.h"

/* 8-byte blocks of the largest datagram's data, rounded up to 64 bits. */
#define RA_BLOCKS	((REASM_DATA_MAX + 7u) / 8u)
#define RA_WORDS	((RA_BLOCKS + 63u) / 64u)

/**
 * struct ra_slot - one datagram in reassembly.
 * @deadline: dropped from this time on (ns)
 * @seq:      when it was started, in slot allocations (the oldest: least)
 * @saddr:    key: source (network order)
 * @daddr:    key: destination (network order)
 * @ctx:      key: the caller's value
 * @id:       key: identification (network order)
 * @proto:    key: protocol
 * @used:     holds a partial datagram
 * @has_end:  the last fragment arrived: @end is known
 * @hlen:     the first fragment's header length; 0 until it arrives
 * @end:      data bytes of the datagram (with @has_end)
 * @max_end:  the furthest data byte held, + 1
 * @got:      data bytes held (each once: overlaps are refused)
 * @buf:      REASM_SLOT_BYTES of storage, data at IP4_HLEN_MAX
 * @bits:     8-byte blocks held
 */
struct ra_slot {
	uint64_t deadline;
	uint64_t seq;
	uint32_t saddr;
	uint32_t daddr;
	uint32_t ctx;
	uint16_t id;
	uint8_t proto;
	uint8_t used;
	uint8_t has_end;
	uint8_t hlen;
	uint32_t end;
	uint32_t max_end;
	uint32_t got;
	uint8_t *buf;
	uint64_t bits[RA_WORDS];
};

struct reasm {
	struct reasm_cfg cfg;
	struct reasm_stats st;
	uint64_t seq;
	struct ra_slot *slot;
	uint8_t *mem;		/* every slot's storage */
};

/* The bits of word @w that fall in blocks [@b0, @b1). */
static uint64_t ra_word_mask(uint32_t w, uint32_t b0, uint32_t b1)
{
	uint32_t lo = w * 64u, hi = lo + 64u;
	uint64_t m = ~0ull;

	if (b0 > lo)
		m &= ~0ull << (b0 - lo);
	if (b1 < hi)
		m &= ~0ull >> (hi - b1);
	return m;
}

/* Blocks held in [@b0, @b1): a word at a time (up to 128 words). */
static uint32_t ra_count(const struct ra_slot *s, uint32_t b0, uint32_t b1)
{
	uint32_t n = 0;

	if (b0 >= b1)
		return 0;
	for (uint32_t w = b0 / 64u; w <= (b1 - 1u) / 64u; w++)
		n += (uint32_t)__builtin_popcountll(s->bits[w] &
						    ra_word_mask(w, b0, b1));
	return n;
}

static void ra_mark(struct ra_slot *s, uint32_t b0, uint32_t b1)
{
	if (b0 >= b1)
		return;
	for (uint32_t w = b0 / 64u; w <= (b1 - 1u) / 64u; w++)
		s->bits[w] |= ra_word_mask(w, b0, b1);
}

static void ra_free(struct reasm *r, struct ra_slot *s)
{
	s->used = 0;
	r->st.active--;
}

/* Start a datagram in @s (free, or evicted by the caller). */
static void ra_start(struct reasm *r, struct ra_slot *s,
		     const struct ip4_hdr *h, uint32_t ctx, uint64_t now)
{
	uint8_t *buf = s->buf;

	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->deadline = now + r->cfg.timeout_ns;
	s->seq = r->seq++;
	s->saddr = h->saddr;
	s->daddr = h->daddr;
	s->ctx = ctx;
	s->id = h->id;
	s->proto = h->protocol;
	s->used = 1;
	r->st.active++;
}

/*
 * The slot of @h's datagram, or NULL. Expired slots met on the way are
 * dropped (counted); @spare is a free slot, else the oldest partial.
 */
static struct ra_slot *ra_find(struct reasm *r, const struct ip4_hdr *h,
			       uint32_t ctx, uint64_t now,
			       struct ra_slot **spare)
{
	struct ra_slot *free_s = NULL, *old = NULL;

	for (unsigned int i = 0; i < r->cfg.slots; i++) {
		struct ra_slot *s = &r->slot[i];

		if (s->used && now >= s->deadline) {
			r->st.timeout++;
			ra_free(r, s);
		}
		if (!s->used) {
			if (!free_s)
				free_s = s;
			continue;
		}
		if (s->id == h->id && s->saddr == h->saddr &&
		    s->daddr == h->daddr && s->proto == h->protocol &&
		    s->ctx == ctx)
			return s;
		if (!old || s->seq < old->seq)
			old = s;
	}
	*spare = free_s ? free_s : old;
	return NULL;
}

/* A new datagram in @s: a free slot, or the oldest partial evicted. */
static struct ra_slot *ra_new(struct reasm *r, struct ra_slot *s,
			      const struct ip4_hdr *h, uint32_t ctx,
			      uint64_t now)
{
	ARC_ASSERT(s != NULL);		/* slots >= 1: a free one or the oldest */
	if (s->used) {
		r->st.evicted++;
		ra_free(r, s);
	}
	ra_start(r, s, h, ctx, now);
	return s;
}

/* Drop @s's datagram for the reason @ctr counts. */
static enum reasm_verdict ra_kill(struct reasm *r, struct ra_slot *s,
				  uint64_t *ctr)
{
	(*ctr)++;
	ra_free(r, s);
	return REASM_DROP;
}

/* The complete datagram of @s into @res; the slot is free again. */
static enum reasm_verdict ra_done(struct reasm *r, struct ra_slot *s,
				  struct reasm_out *res)
{
	uint8_t *pkt = s->buf + IP4_HLEN_MAX - s->hlen;
	struct ip4_hdr *h = (struct ip4_hdr *)pkt;
	uint32_t len = s->hlen + s->end;

	if (len > IP4_MAX_LEN)
		return ra_kill(r, s, &r->st.too_big);
	h->tot_len = htons((uint16_t)len);
	h->frag_off &= htons((uint16_t)~(IP4_FLAG_MF | IP4_OFFSET_MASK));
	h->check = 0;
	h->check = csum_ip4_header(pkt, s->hlen);
	*res = (struct reasm_out){ .pkt = pkt, .len = len, .ctx = s->ctx };
	r->st.reassembled++;
	ra_free(r, s);
	return REASM_DONE;
}

enum reasm_verdict reasm_add(struct reasm *r, const uint8_t *ip, size_t len,
			     uint32_t ctx, uint64_t now, struct reasm_out *res)
{
	const struct ip4_hdr *h;
	struct pkt_cursor c;
	struct ra_slot *s, *spare = NULL;
	uint32_t hlen, tot, off, dlen, b0, b1, held;
	uint16_t frag;
	bool mf;

	pkt_cursor_init(&c, ip, len);
	h = pkt_cursor_peek(&c, sizeof(*h));
	if (!h || ip4_version(h) != 4 || ip4_hlen(h) < IP4_HLEN_MIN ||
	    !pkt_cursor_peek(&c, ip4_hlen(h))) {
		r->st.bad++;
		return REASM_DROP;
	}
	hlen = ip4_hlen(h);
	tot = ntohs(h->tot_len);
	if (tot < hlen || tot > len) {
		r->st.bad++;
		return REASM_DROP;
	}
	frag = ntohs(h->frag_off);
	if (!(frag & (IP4_FLAG_MF | IP4_OFFSET_MASK)))
		return REASM_NOT_FRAG;
	r->st.fragments++;
	mf = frag & IP4_FLAG_MF;
	off = (frag & IP4_OFFSET_MASK) * 8u;
	dlen = tot - hlen;
	/* Every fragment but the last carries a multiple of 8 bytes, and
	 * at least 8 (RFC 791). Alone: its datagram may still complete. */
	if (mf && (dlen == 0 || dlen % 8u)) {
		r->st.bad++;
		return REASM_DROP;
	}
	s = ra_find(r, h, ctx, now, &spare);
	if (off + dlen > REASM_DATA_MAX) {
		/* "Ping of death": nothing of it is worth keeping. */
		r->st.too_big++;
		if (s)
			ra_free(r, s);
		return REASM_DROP;
	}
	if (!s)
		s = ra_new(r, spare, h, ctx, now);
	if (!mf) {
		/* The last one: it sets the end, once, before any data. */
		if ((s->has_end && s->end != off + dlen) || s->max_end > off + dlen)
			return ra_kill(r, s, &r->st.bad_end);
		s->has_end = 1;
		s->end = off + dlen;
	} else if (s->has_end && off + dlen > s->end) {
		return ra_kill(r, s, &r->st.bad_end);
	}
	b0 = off / 8u;
	b1 = (off + dlen + 7u) / 8u;
	held = ra_count(s, b0, b1);
	if (held && held == b1 - b0 &&
	    memcmp(s->buf + IP4_HLEN_MAX + off, ip + hlen, dlen) == 0) {
		r->st.dup++;
		return REASM_HELD;
	}
	if (held)
		return ra_kill(r, s, &r->st.overlap);
	memcpy(s->buf + IP4_HLEN_MAX + off, ip + hlen, dlen);
	ra_mark(s, b0, b1);
	s->got += dlen;
	if (off + dlen > s->max_end)
		s->max_end = off + dlen;
	if (!off) {
		/* RFC 791: the first fragment's header is the datagram's. */
		s->hlen = (uint8_t)hlen;
		memcpy(s->buf + IP4_HLEN_MAX - hlen, ip, hlen);
	}
	if (s->has_end && s->hlen && s->got == s->end)
		return ra_done(r, s, res);
	return REASM_HELD;
}

void reasm_expire(struct reasm *r, uint64_t now)
{
	for (unsigned int i = 0; i < r->cfg.slots; i++) {
		struct ra_slot *s = &r->slot[i];

		if (s->used && now >= s->deadline) {
			r->st.timeout++;
			ra_free(r, s);
		}
	}
}

void reasm_get_stats(const struct reasm *r, struct reasm_stats *out)
{
	*out = r->st;
}

unsigned int reasm_slots(const struct reasm *r)
{
	return r->cfg.slots;
}

int reasm_create(struct reasm **out, const struct reasm_cfg *cfg)
{
	struct reasm *r;

	if (cfg && cfg->slots > REASM_SLOTS_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.slots)
		r->cfg.slots = REASM_SLOTS_DEFAULT;
	if (!r->cfg.timeout_ns)
		r->cfg.timeout_ns = REASM_TIMEOUT_DEFAULT_NS;
	r->slot = calloc(r->cfg.slots, sizeof(*r->slot));
	r->mem = calloc(r->cfg.slots, REASM_SLOT_BYTES);
	if (!r->slot || !r->mem) {
		reasm_destroy(r);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < r->cfg.slots; i++)
		r->slot[i].buf = r->mem + (size_t)i * REASM_SLOT_BYTES;
	*out = r;
	return 0;
}

void reasm_destroy(struct reasm *r)
{
	if (!r)
		return;
	free(r->mem);
	free(r->slot);
	free(r);
}
