// SPDX-License-Identifier: MIT
/*
 * Unit tests for pkt/reasm: datagrams built by pkt_build(), cut by
 * pkt/fragment and put back together in order, in reverse, shuffled, with
 * duplicates and interleaved with others; the result compared byte for
 * byte with the datagram before it was cut (so its header, total length
 * and checksum too, also with options) and parsed again. And every drop:
 * an overlap (partial, and the same range with other bytes), the timeout
 * (by reasm_expire() and lazily), eviction of the oldest when full, a
 * fragment past 65535 and a first header that makes the datagram pass it,
 * a last fragment that disagrees, empty and unaligned inner fragments, a
 * packet that is not a fragment left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <cmocka.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/fragment.h"
#include "pkt/parse.h"
#include "pkt/reasm.h"
#include "prot/ip4.h"

#define SRC htonl(0xc6120001)	/* 198.18.0.1, the socket uplink's EXT */
#define DST htonl(0xcb007101)	/* 203.0.113.1 */
#define SEC 1000000000ull
#define FRAGS_MAX 256

/* A datagram and its fragments. */
struct dg {
	uint8_t pkt[IP4_MAX_LEN];
	size_t len;
	uint8_t frag[FRAGS_MAX][1500];
	size_t flen[FRAGS_MAX];
	unsigned int n;
};

static struct dg D[3];
static uint8_t payload[IP4_MAX_LEN];
static struct reasm *R;

static void fill(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
}

/* @d: a UDP datagram of @plen bytes of payload, id @id, options @opts,
 * cut for @mtu. */
static void mk(struct dg *d, uint16_t id, size_t plen, unsigned int mtu,
	       const uint8_t *opts, size_t opts_len)
{
	struct pkt_spec s = {
		.no_eth = true,
		.src4 = SRC,
		.dst4 = DST,
		.ip_id = id,
		.ip4_opts = opts,
		.ip4_opts_len = opts_len,
		.proto = IPPROTO_NUM_UDP,
		.sport = 50000,
		.dport = 7,
		.payload = payload + id % 64,
		.payload_len = plen,
	};
	struct pkt_frag f;
	int n;

	n = pkt_build(&s, d->pkt, sizeof(d->pkt));
	assert_true(n > 0);
	d->len = (size_t)n;
	assert_int_equal(pkt_frag_init(&f, d->pkt, d->len, mtu), 0);
	d->n = 0;
	while ((n = pkt_frag_next(&f, d->frag[d->n], sizeof(d->frag[0]))) > 0) {
		d->flen[d->n++] = (size_t)n;
		assert_true(d->n < FRAGS_MAX);
	}
	assert_int_equal(n, 0);
	assert_true(d->n > 1);
}

static struct reasm_stats st(void)
{
	struct reasm_stats s;

	reasm_get_stats(R, &s);
	return s;
}

static enum reasm_verdict add(const struct dg *d, unsigned int i, uint32_t ctx,
			      uint64_t now, struct reasm_out *o)
{
	return reasm_add(R, d->frag[i], d->flen[i], ctx, now, o);
}

/* @o is @d, whole: the same bytes, a sound header, parsed as one packet. */
static void same(const struct reasm_out *o, const struct dg *d)
{
	struct pkt_meta m;

	assert_int_equal(o->len, d->len);
	assert_memory_equal(o->pkt, d->pkt, d->len);
	assert_int_equal(csum_ip4_header(o->pkt, ip4_hlen((const void *)o->pkt)), 0);
	assert_int_equal(pkt_parse(o->pkt, o->len, PKT_PARSE_L3, &m), PKT_DROP_OK);
	assert_false(m.flags & PKT_F_FRAG);
	assert_true(m.flags & PKT_F_L4);
	assert_int_equal(pkt_payload_len(&m), d->len - ip4_hlen((const void *)d->pkt) - 8);
}

/* Feed @d's fragments in the order @ord; only the last one completes. */
static void feed(const struct dg *d, const unsigned int *ord, uint32_t ctx)
{
	struct reasm_out o = { 0 };

	assert_true(d->n > 1);
	if (d->n < 2)
		return;		/* (for the analyser: cmocka's asserts return) */
	for (unsigned int k = 0; k < d->n; k++) {
		enum reasm_verdict v = add(d, ord[k], ctx, 0, &o);

		assert_int_equal(v, k + 1 < d->n ? REASM_HELD : REASM_DONE);
	}
	assert_int_equal(o.ctx, ctx);
	same(&o, d);
}

static int setup(void **state)
{
	(void)state;
	return reasm_create(&R, NULL);
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(st().active, 0);
	reasm_destroy(R);
	R = NULL;
	return 0;
}

static void test_in_order(void **state)
{
	unsigned int ord[FRAGS_MAX] = { 0 };

	(void)state;
	mk(&D[0], 1, 4000, 1500, NULL, 0);
	assert_int_equal(D[0].n, 3);
	for (unsigned int i = 0; i < D[0].n; i++)
		ord[i] = i;
	feed(&D[0], ord, 7);
	assert_int_equal(st().reassembled, 1);
	assert_int_equal(st().fragments, 3);
	assert_int_equal(reasm_slots(R), REASM_SLOTS_DEFAULT);
}

static void test_reverse(void **state)
{
	unsigned int ord[FRAGS_MAX] = { 0 };

	(void)state;
	mk(&D[0], 2, 4000, 1500, NULL, 0);
	for (unsigned int i = 0; i < D[0].n; i++)
		ord[i] = D[0].n - 1 - i;
	feed(&D[0], ord, 7);
}

/* The largest UDP datagram (65507 bytes of payload, 65535 in all) in 119
 * fragments of 576 bytes, in an order shuffled by a fixed generator. */
static void test_shuffled_largest(void **state)
{
	unsigned int ord[FRAGS_MAX] = { 0 };
	uint32_t x = 12345;

	(void)state;
	mk(&D[0], 3, 65507, 576, NULL, 0);
	assert_int_equal(D[0].len, IP4_MAX_LEN);
	assert_int_equal(D[0].n, 119);
	for (unsigned int i = 0; i < D[0].n; i++)
		ord[i] = i;
	for (unsigned int i = D[0].n; i-- > 1;) {
		unsigned int j, t;

		x = x * 1103515245u + 12345u;
		j = (x >> 8) % (i + 1);
		t = ord[i];
		ord[i] = ord[j];
		ord[j] = t;
	}
	feed(&D[0], ord, 7);
}

/* Options in the first fragment (one copied, one not): the datagram gets
 * the first fragment's whole header back. */
static void test_options(void **state)
{
	static const uint8_t opts[8] = {
		0x94, 0x04, 0x00, 0x00,	/* router alert, copied */
		0x07, 0x03, 0x04, 0x00,	/* record route, not copied; EOL */
	};
	unsigned int ord[FRAGS_MAX] = { 0 };

	(void)state;
	mk(&D[0], 4, 3000, 1000, opts, sizeof(opts));
	for (unsigned int i = 0; i < D[0].n; i++)
		ord[i] = D[0].n - 1 - i;
	feed(&D[0], ord, 7);
}

/* Every fragment twice (and the first three times): the copies are
 * ignored, the datagram completes once. */
static void test_duplicates(void **state)
{
	struct reasm_out o;
	struct dg *d = &D[0];

	(void)state;
	mk(d, 5, 4000, 1500, NULL, 0);
	assert_int_equal(add(d, 0, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 0, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 1, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 1, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 0, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 2, 7, 0, &o), REASM_DONE);
	same(&o, d);
	assert_int_equal(st().dup, 3);
	assert_int_equal(st().reassembled, 1);
}

/* A fragment overlapping one held drops the whole datagram, as does the
 * same range with other bytes; the rest then never completes it. */
static void test_overlap(void **state)
{
	uint8_t x[1500];
	struct reasm_out o;
	struct dg *d = &D[0];
	struct ip4_hdr *h = (struct ip4_hdr *)x;

	(void)state;
	mk(d, 6, 4000, 1500, NULL, 0);
	assert_int_equal(add(d, 0, 7, 0, &o), REASM_HELD);
	/* fragment 1 moved 8 bytes back: over the first one's last block */
	memcpy(x, d->frag[1], d->flen[1]);
	h->frag_off = htons((uint16_t)(ntohs(h->frag_off) - 1));
	assert_int_equal(reasm_add(R, x, d->flen[1], 7, 0, &o), REASM_DROP);
	assert_int_equal(st().overlap, 1);
	assert_int_equal(st().active, 0);
	/* what follows starts again and cannot complete without the first */
	assert_int_equal(add(d, 1, 7, 0, &o), REASM_HELD);
	assert_int_equal(add(d, 2, 7, 0, &o), REASM_HELD);
	/* the same range as fragment 1 with one byte changed: an overlap */
	memcpy(x, d->frag[1], d->flen[1]);
	x[100] ^= 1;
	assert_int_equal(reasm_add(R, x, d->flen[1], 7, 0, &o), REASM_DROP);
	assert_int_equal(st().overlap, 2);
	assert_int_equal(st().active, 0);
	assert_int_equal(st().reassembled, 0);
}

/* A partial datagram goes 15 s after its first fragment: by
 * reasm_expire(), or lazily when another fragment comes. */
static void test_timeout(void **state)
{
	struct reasm_out o;
	struct dg *d = &D[0];

	(void)state;
	mk(d, 7, 4000, 1500, NULL, 0);
	assert_int_equal(add(d, 0, 7, 1 * SEC, &o), REASM_HELD);
	assert_int_equal(add(d, 1, 7, 10 * SEC, &o), REASM_HELD);
	reasm_expire(R, 16 * SEC - 1);
	assert_int_equal(st().active, 1);
	reasm_expire(R, 16 * SEC);
	assert_int_equal(st().timeout, 1);
	assert_int_equal(st().active, 0);
	/* the last fragment alone does not complete it */
	assert_int_equal(add(d, 2, 7, 16 * SEC, &o), REASM_HELD);
	/* lazily: the next fragment after the deadline finds it gone */
	assert_int_equal(add(d, 0, 7, 31 * SEC, &o), REASM_HELD);
	assert_int_equal(st().timeout, 2);
	assert_int_equal(add(d, 1, 7, 31 * SEC, &o), REASM_HELD);
	assert_int_equal(add(d, 2, 7, 31 * SEC, &o), REASM_DONE);
	same(&o, d);
	assert_int_equal(st().reassembled, 1);
}

/* Full: a new datagram evicts the oldest partial one, not the newest. */
static void test_evict_oldest(void **state)
{
	struct reasm_cfg cfg = { .slots = 4 };
	struct reasm_out o;
	static struct dg e[5];

	(void)state;
	reasm_destroy(R);
	assert_int_equal(reasm_create(&R, &cfg), 0);
	assert_int_equal(reasm_slots(R), 4);
	for (unsigned int i = 0; i < 5; i++) {
		mk(&e[i], (uint16_t)(100 + i), 2000, 1500, NULL, 0);
		assert_int_equal(reasm_add(R, e[i].frag[0], e[i].flen[0], 0,
					   i, &o), REASM_HELD);
	}
	assert_int_equal(st().evicted, 1);
	assert_int_equal(st().active, 4);
	/* 101 to 104 complete; 100 (the oldest) was evicted */
	for (unsigned int i = 1; i < 5; i++) {
		assert_int_equal(reasm_add(R, e[i].frag[1], e[i].flen[1], 0,
					   10, &o), REASM_DONE);
		same(&o, &e[i]);
	}
	assert_int_equal(reasm_add(R, e[0].frag[1], e[0].flen[1], 0, 10, &o),
			 REASM_HELD);
	reasm_expire(R, 100 * SEC);
	assert_int_equal(st().timeout, 1);
	assert_int_equal(st().reassembled, 4);
	assert_int_equal(reasm_create(&(struct reasm *){ NULL },
				      &(struct reasm_cfg){ .slots = REASM_SLOTS_MAX + 1 }),
			 -EINVAL);
}

/* Three datagrams interleaved, one with the same identification as
 * another but another ctx (another flow behind the NAT): each complete,
 * each its own. */
static void test_interleaved(void **state)
{
	static const uint32_t ctx[3] = { 1, 2, 1 };
	struct reasm_out o;
	unsigned int done = 0;

	(void)state;
	mk(&D[0], 9, 5000, 1500, NULL, 0);
	mk(&D[1], 9, 3500, 1500, NULL, 0);	/* same id, ctx 2 */
	mk(&D[2], 10, 2000, 1500, NULL, 0);
	for (unsigned int k = 0; k < 4; k++)
		for (unsigned int j = 0; j < 3; j++) {
			enum reasm_verdict v;

			if (k >= D[j].n)
				continue;
			v = add(&D[j], D[j].n - 1 - k, ctx[j], 0, &o);
			if (k + 1 < D[j].n) {
				assert_int_equal(v, REASM_HELD);
				continue;
			}
			assert_int_equal(v, REASM_DONE);
			assert_int_equal(o.ctx, ctx[j]);
			same(&o, &D[j]);
			done++;
		}
	assert_int_equal(done, 3);
	assert_int_equal(st().reassembled, 3);
}

/* A fragment of a hand-made datagram: @data_len bytes at @off, MF @mf,
 * header of @hlen bytes (options of NOPs). */
static size_t raw(uint8_t *buf, uint16_t id, unsigned int hlen, uint32_t off,
		  size_t data_len, bool mf)
{
	struct ip4_hdr *h = (struct ip4_hdr *)buf;

	memset(buf, 0, hlen);
	memset(buf + IP4_HLEN_MIN, 1, hlen - IP4_HLEN_MIN);
	h->ver_ihl = (uint8_t)(0x40 | hlen / 4);
	h->tot_len = htons((uint16_t)(hlen + data_len));
	h->id = htons(id);
	h->frag_off = htons((uint16_t)((mf ? IP4_FLAG_MF : 0) | off / 8));
	h->ttl = 64;
	h->protocol = IPPROTO_NUM_UDP;
	h->saddr = SRC;
	h->daddr = DST;
	h->check = csum_ip4_header(buf, hlen);
	memcpy(buf + hlen, payload, data_len);
	return hlen + data_len;
}

/* "Ping of death": data past 65535 bytes; and a first fragment whose
 * 60-byte header makes the datagram 65575 bytes. Neither is kept. */
static void test_too_big(void **state)
{
	static uint8_t b[IP4_MAX_LEN];
	struct reasm_out o;
	size_t n;

	(void)state;
	n = raw(b, 20, 20, 0, 8, true);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 20, 20, 65512, 8, false);	/* ends at 65520 > 65515 */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().too_big, 1);
	assert_int_equal(st().active, 0);
	/* the maximum offset and 100 bytes: past it, kept nowhere */
	n = raw(b, 21, 20, IP4_OFFSET_MASK * 8u, 100, false);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().too_big, 2);
	assert_int_equal(st().active, 0);
	/* 60-byte first header, data up to 65515: 65575 bytes in all */
	n = raw(b, 22, 60, 0, 8, true);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 22, 20, 8, 65496, true);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 22, 20, 65504, 11, false);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().too_big, 3);
	assert_int_equal(st().active, 0);
	/* the same with a 20-byte first header: exactly 65535, complete */
	n = raw(b, 23, 20, 0, 8, true);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 23, 20, 8, 65496, true);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 23, 20, 65504, 11, false);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DONE);
	assert_int_equal(o.len, IP4_MAX_LEN);
	assert_int_equal(csum_ip4_header(o.pkt, IP4_HLEN_MIN), 0);
	assert_memory_equal(o.pkt + 20, payload, 8);
	assert_memory_equal(o.pkt + 28, payload, 65496);
	assert_memory_equal(o.pkt + 65524, payload, 11);
}

/* Last fragments that disagree, data past a known end: the datagram goes. */
static void test_bad_end(void **state)
{
	uint8_t b[1600];
	struct reasm_out o;
	size_t n;

	(void)state;
	n = raw(b, 30, 20, 1480, 100, false);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 30, 20, 1480, 108, false);	/* another end */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().bad_end, 1);
	assert_int_equal(st().active, 0);
	n = raw(b, 31, 20, 1480, 100, false);	/* end 1580 */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 31, 20, 1576, 8, true);	/* past it */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().bad_end, 2);
	n = raw(b, 32, 20, 1480, 8, true);	/* data to 1488 */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_HELD);
	n = raw(b, 32, 20, 800, 80, false);	/* an end before it */
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_DROP);
	assert_int_equal(st().bad_end, 3);
	assert_int_equal(st().active, 0);
}

/* Empty or unaligned inner fragments are dropped alone: the datagram
 * still completes. */
static void test_malformed_alone(void **state)
{
	uint8_t b[1600];
	struct reasm_out o;
	struct dg *d = &D[0];
	size_t n;

	(void)state;
	mk(d, 40, 2500, 1500, NULL, 0);
	assert_int_equal(add(d, 0, 7, 0, &o), REASM_HELD);
	n = raw(b, 40, 20, 1480, 0, true);	/* empty, MF */
	assert_int_equal(reasm_add(R, b, n, 7, 0, &o), REASM_DROP);
	n = raw(b, 40, 20, 1480, 13, true);	/* unaligned, MF */
	assert_int_equal(reasm_add(R, b, n, 7, 0, &o), REASM_DROP);
	assert_int_equal(st().bad, 2);
	/* truncated and not IPv4 at all */
	assert_int_equal(reasm_add(R, b, 19, 7, 0, &o), REASM_DROP);
	b[0] = 0x65;
	assert_int_equal(reasm_add(R, b, n, 7, 0, &o), REASM_DROP);
	assert_int_equal(st().bad, 4);
	assert_int_equal(add(d, 1, 7, 0, &o), REASM_DONE);
	same(&o, d);
}

/* MF clear and offset 0: not a fragment, the caller's as it is. */
static void test_not_a_fragment(void **state)
{
	uint8_t b[200];
	struct reasm_out o;
	size_t n;

	(void)state;
	n = raw(b, 50, 20, 0, 100, false);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_NOT_FRAG);
	n = raw(b, 51, 20, 0, 100, false);
	((struct ip4_hdr *)b)->frag_off = htons(IP4_FLAG_DF);
	((struct ip4_hdr *)b)->check = 0;
	((struct ip4_hdr *)b)->check = csum_ip4_header(b, IP4_HLEN_MIN);
	assert_int_equal(reasm_add(R, b, n, 0, 0, &o), REASM_NOT_FRAG);
	assert_int_equal(st().fragments, 0);
	assert_int_equal(st().active, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shuffled_largest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_fragment, setup, teardown),
	};

	fill();
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
