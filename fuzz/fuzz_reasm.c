// SPDX-License-Identifier: MIT
/*
 * fuzz_reasm.c - libFuzzer harness for pkt/reasm: arbitrary fragment
 * streams, described and raw.
 *
 * Input: records. A record's first byte says what it is:
 *   bit 7 clear: a described fragment, 6 bytes: byte 0 bits 0-1 the
 *     datagram's identification (one of 4), bit 2 its ctx (one of 2),
 *     bits 3-4 its header length (20, 24, 44 or 60), bit 5 MF, bit 6 the
 *     other data pattern; bytes 1-2 the offset in 8-byte units (13 bits),
 *     bytes 3-4 the data length, byte 5 the time that passes first, in
 *     quarters of a second (up to 63 s: the 15 s timeout is reached).
 *     They go to a reassembler of 4 slots, so that eviction happens.
 *   bit 7 set: a raw packet: bytes 1-2 its length, then its bytes, to a
 *     second reassembler (the default 16 slots), for arbitrary headers.
 *
 * Checks: a completed datagram is well formed (version, header length,
 * total length equal to its length and at most 65535, MF and offset
 * clear, a sound header checksum), and in the described stream it is the
 * datagram a model expects: the model follows each datagram from the
 * reassembler's verdicts, its own timeouts and its own choice of the
 * oldest datagram to evict (the reassembler's eviction counter must agree),
 * and a completed datagram's length is its first header plus the sum of
 * the parts the model saw accepted, with the bytes of the data pattern at
 * every place (when one pattern was used), the right identification and
 * ctx. State stays bounded: active datagrams never more than the slots.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/reasm.h"
#include "prot/ip4.h"

#define FZ_SLOTS	4u
#define FZ_KEYS		8u	/* 4 identifications x 2 ctx */
#define FZ_SRC		htonl(0xc6120001)
#define FZ_DST		htonl(0xcb007101)
#define FZ_QUARTER	250000000ull

/* What the model knows of one datagram. */
struct fz_dg {
	uint64_t seq;
	uint64_t deadline;
	uint32_t sum;		/* data bytes accepted */
	bool active;
	bool mixed;		/* parts of both patterns accepted */
	uint8_t alt;		/* the pattern of its first part */
	uint8_t hlen;		/* the first fragment's, 0 until it came */
};

static struct reasm *R1, *R2;
static struct fz_dg M[FZ_KEYS];
static uint64_t seq;
static uint8_t pkt[IP4_MAX_LEN + IP4_HLEN_MAX];

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_reasm: %s\n", what);
	abort();
}

static uint8_t fz_pat(unsigned int k, uint32_t pos, unsigned int alt)
{
	return (uint8_t)(pos * 13u + (pos >> 8) + k * 101u + alt * 7u);
}

static struct reasm_stats fz_stats(const struct reasm *r)
{
	struct reasm_stats s;

	reasm_get_stats(r, &s);
	if (s.active > reasm_slots(r))
		fz_die("more datagrams than slots");
	return s;
}

/* Any completed datagram: a sound IPv4 packet, not a fragment. */
static void fz_whole(const struct reasm_out *o)
{
	const struct ip4_hdr *h = (const struct ip4_hdr *)o->pkt;

	if (o->len < IP4_HLEN_MIN || o->len > IP4_MAX_LEN)
		fz_die("length");
	if (ip4_version(h) != 4 || ip4_hlen(h) < IP4_HLEN_MIN ||
	    ip4_hlen(h) > o->len)
		fz_die("header");
	if (ntohs(h->tot_len) != o->len)
		fz_die("total length");
	if (ntohs(h->frag_off) & (IP4_FLAG_MF | IP4_OFFSET_MASK))
		fz_die("still a fragment");
	if (csum_ip4_header(o->pkt, ip4_hlen(h)) != 0)
		fz_die("header checksum");
}

/* A datagram that lives on in the model: started, not expired. */
static bool fz_live(unsigned int k, uint64_t now)
{
	return M[k].active && now < M[k].deadline;
}

/* The model's new datagram @k: a free slot, else the oldest evicted. */
static void fz_start(unsigned int k, uint64_t now, unsigned int *evicted)
{
	unsigned int live = 0, old = FZ_KEYS;

	for (unsigned int j = 0; j < FZ_KEYS; j++) {
		if (!fz_live(j, now))
			continue;
		live++;
		if (old == FZ_KEYS || M[j].seq < M[old].seq)
			old = j;
	}
	if (live == FZ_SLOTS) {
		M[old].active = false;
		(*evicted)++;
	}
	M[k] = (struct fz_dg){ .active = true, .seq = seq,
			       .deadline = now + REASM_TIMEOUT_DEFAULT_NS };
	seq++;
}

static void fz_described(const uint8_t *r, uint64_t now)
{
	unsigned int k, id = r[0] & 3u;
	unsigned int ctx = (r[0] >> 2) & 1u, alt = (r[0] >> 6) & 1u;
	static const uint8_t hl[4] = { 20, 24, 44, 60 };
	unsigned int hlen = hl[(r[0] >> 3) & 3u];
	bool mf = r[0] & 0x20u;
	uint32_t off = ((uint32_t)(r[1] << 8 | r[2]) & IP4_OFFSET_MASK) * 8u;
	uint32_t dlen = (uint32_t)(r[3] << 8 | r[4]);
	struct ip4_hdr *h = (struct ip4_hdr *)pkt;
	struct reasm_stats a, b;
	struct reasm_out o;
	enum reasm_verdict v;
	unsigned int evicted = 0;
	bool live;

	k = id | ctx << 2;
	if (dlen > IP4_MAX_LEN - hlen)
		dlen = IP4_MAX_LEN - hlen;
	memset(pkt, IP4_OPT_NOP, hlen);
	*h = (struct ip4_hdr){
		.ver_ihl = (uint8_t)(0x40 | hlen / 4),
		.tot_len = htons((uint16_t)(hlen + dlen)),
		.id = htons((uint16_t)(0x100 + id)),
		.frag_off = htons((uint16_t)((mf ? IP4_FLAG_MF : 0) | off / 8)),
		.ttl = 64,
		.protocol = 17,
		.saddr = FZ_SRC,
		.daddr = FZ_DST,
	};
	h->check = csum_ip4_header(pkt, hlen);
	for (uint32_t i = 0; i < dlen; i++)
		pkt[hlen + i] = fz_pat(k, off + i, alt);

	a = fz_stats(R1);
	v = reasm_add(R1, pkt, hlen + dlen, ctx, now, &o);
	b = fz_stats(R1);
	if (b.fragments != a.fragments + (off || mf))
		fz_die("fragments counted wrong");
	if (!off && !mf) {
		if (v != REASM_NOT_FRAG)
			fz_die("not a fragment, taken");
		return;
	}
	if (b.bad != a.bad) {
		if (v != REASM_DROP || (mf && dlen && dlen % 8 == 0))
			fz_die("bad, wrongly");
		return;		/* before any slot is looked at */
	}
	live = fz_live(k, now);
	if (!live && off + dlen <= REASM_DATA_MAX)
		fz_start(k, now, &evicted);
	if (b.evicted - a.evicted != evicted)
		fz_die("evicted another datagram than the oldest");
	if (b.overlap != a.overlap || b.too_big != a.too_big ||
	    b.bad_end != a.bad_end) {
		if (v != REASM_DROP)
			fz_die("a drop that is no drop");
		M[k].active = false;
		return;
	}
	if (b.dup != a.dup) {
		if (v != REASM_HELD)
			fz_die("a duplicate not held");
		return;
	}
	if (v != REASM_HELD && v != REASM_DONE)
		fz_die("verdict");
	if (M[k].sum && M[k].alt != alt)
		M[k].mixed = true;
	if (!M[k].sum)
		M[k].alt = (uint8_t)alt;
	M[k].sum += dlen;
	if (!off)
		M[k].hlen = (uint8_t)hlen;
	if (v == REASM_HELD)
		return;
	fz_whole(&o);
	if (o.ctx != ctx || ((const struct ip4_hdr *)o.pkt)->id != h->id)
		fz_die("another datagram's");
	if (ip4_hlen((const struct ip4_hdr *)o.pkt) != M[k].hlen ||
	    o.len != M[k].hlen + M[k].sum)
		fz_die("length is not the sum of the parts");
	if (!M[k].mixed)
		for (uint32_t i = 0; i < M[k].sum; i++)
			if (o.pkt[M[k].hlen + i] != fz_pat(k, i, M[k].alt))
				fz_die("data out of place");
	M[k].active = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1;

	/* Made once: what an input leaves is dropped by the expiry below. */
	if (!R1 && (reasm_create(&R1, &(struct reasm_cfg){ .slots = FZ_SLOTS }) ||
		    reasm_create(&R2, NULL)))
		fz_die("create");
	memset(M, 0, sizeof(M));
	while (size >= 6) {
		if (data[0] & 0x80) {
			size_t n = (size_t)(data[1] << 8 | data[2]);
			struct reasm_out o;

			data += 3;
			size -= 3;
			if (n > size)
				n = size;
			if (reasm_add(R2, data, n, 0, now, &o) == REASM_DONE)
				fz_whole(&o);
			(void)fz_stats(R2);
			data += n;
			size -= n;
			continue;
		}
		now += data[5] * FZ_QUARTER;
		fz_described(data, now);
		data += 6;
		size -= 6;
	}
	reasm_expire(R1, now + REASM_TIMEOUT_DEFAULT_NS);
	reasm_expire(R2, now + REASM_TIMEOUT_DEFAULT_NS);
	if (fz_stats(R1).active || fz_stats(R2).active)
		fz_die("datagrams outlive their timeout");
	return 0;
}
