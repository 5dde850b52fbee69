// SPDX-License-Identifier: MIT
/*
 * Unit tests for pkt/csum: RFC worked examples, differential tests against
 * the naive reference in tests/ref/csum_ref.c, and the properties NAT relies
 * on (incremental update == full recomputation, partial-checksum fields).
 *
 * Randomised tests use a fixed-seed xorshift generator so that a failure is
 * reproducible; the seed and the case are printed when one fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "test_exit.h"
#include "pkt/csum.h"
#include "ref/csum_ref.h"

#define TEST_SEED 0x0a4c0c5e3d1f2b77ULL

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* xorshift64*: tiny, deterministic, good enough for test data. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

/* A random even offset in [0, max]. */
static size_t rng_even(size_t max)
{
	return 2 * (size_t)rng_below((uint32_t)(max / 2) + 1);
}

static void rng_fill(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(rng_next() >> 56);
}

/* A 16-bit field as its two wire bytes (packet representation). */
static uint16_t wire16(uint8_t hi, uint8_t lo)
{
	const uint8_t b[2] = { hi, lo };
	uint16_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static uint16_t get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void test_rfc1071_example(void **state)
{
	static const unsigned char data[8] = { 0x00, 0x01, 0xf2, 0x03,
					       0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t sum = csum_fold(csum_partial(data, sizeof(data), 0));
	uint16_t ck = csum_finish(csum_partial(data, sizeof(data), 0));
	unsigned char out[2];

	(void)state;
	memcpy(out, &sum, 2);
	assert_int_equal(out[0], 0xdd);
	assert_int_equal(out[1], 0xf2);
	memcpy(out, &ck, 2);
	assert_int_equal(out[0], 0x22);
	assert_int_equal(out[1], 0x0d);
	assert_int_equal(csum_ref_sum(data, sizeof(data), 0), 0xddf2);
	assert_int_equal(csum_ref(data, sizeof(data)), ck);
}

/* RFC 1624 sections 4-5: HC 0xDD2F, m 0x5555 -> m' 0x3285 gives 0x0000. */
static void test_rfc1624_example(void **state)
{
	uint16_t hc = wire16(0xdd, 0x2f);
	uint16_t m = wire16(0x55, 0x55);
	uint16_t m2 = wire16(0x32, 0x85);

	(void)state;
	assert_int_equal(csum_replace2(hc, m, m2), 0x0000);
	/* The same field change seen as half of a 32-bit field. */
	assert_int_equal(csum_replace4(hc, (uint32_t)m << 16 | 0x1234,
				       (uint32_t)m2 << 16 | 0x1234),
			 0x0000);
}

static void test_fold_edges(void **state)
{
	(void)state;
	assert_int_equal(csum_fold(0), 0);
	assert_int_equal(csum_fold(0xffff), 0xffff);
	assert_int_equal(csum_fold(0x10000), 1);
	assert_int_equal(csum_fold(0xffffffffu), 0xffff);
	assert_int_equal(csum_fold(0x0001fffeu), 0xffff);
	assert_int_equal(csum_finish(0), 0xffff);
	assert_int_equal(csum_finish(0xffffffffu), 0);
	assert_int_equal(csum_fold64(0xffffffffffffffffULL), 0xffffffffu);
	assert_int_equal(csum_fold64(0x100000000ULL), 1);
	assert_int_equal(csum_fold(csum_fold64(0xffff0000ffff0000ULL)),
			 0xffff);
}

#define MAX_LEN 2048
#define BIG_LEN 65535

static unsigned char big[BIG_LEN + 16];

/* fast == ref for one buffer, from zero and from a random initial sum. */
static void check_vs_ref(const unsigned char *p, size_t len, uint32_t init)
{
	uint16_t fast = csum_finish(csum_partial(p, len, 0));
	uint16_t ref = csum_ref(p, len);
	uint16_t fast_sum, ref_sum;

	if (fast != ref)
		fail_msg("len %zu offset %zu: fast %#06x ref %#06x", len,
			 (size_t)(p - big), fast, ref);
	fast_sum = ntohs(csum_fold(csum_partial(p, len, init)));
	ref_sum = csum_ref_sum(p, len, ntohs(csum_fold(init)));
	if (fast_sum != ref_sum)
		fail_msg("len %zu init %#x: fast sum %#06x ref sum %#06x", len,
			 init, fast_sum, ref_sum);
}

static void test_partial_vs_ref_all_lengths(void **state)
{
	unsigned char *buf = big;
	size_t align, len;

	(void)state;
	rng_seed(TEST_SEED);
	rng_fill(buf, MAX_LEN + 16);
	for (align = 0; align < 8; align++)
		for (len = 0; len <= MAX_LEN; len++)
			check_vs_ref(buf + align, len, (uint32_t)rng_next());
}

static void test_partial_vs_ref_64k(void **state)
{
	size_t align;

	(void)state;
	rng_seed(TEST_SEED + 1);
	rng_fill(big, sizeof(big));
	for (align = 0; align < 8; align++)
		check_vs_ref(big + align, BIG_LEN, (uint32_t)rng_next());
}

/*
 * All ones carries out of every add; a small initial sum then leaves the
 * accumulators just below 2^64 with carries pending, so the final
 * end-around carry matters. All zeros must stay +0.
 */
static void test_partial_carry_edges(void **state)
{
	static const uint32_t inits[] = { 0, 1, 2, 3, 0xffff, 0x10000,
					  0xfffffffeu, 0xffffffffu };
	size_t len, i;

	(void)state;
	memset(big, 0xff, sizeof(big));
	for (len = 0; len <= MAX_LEN; len++) {
		for (i = 0; i < sizeof(inits) / sizeof(inits[0]); i++)
			check_vs_ref(big + (len & 7), len, inits[i]);
		/* Every word is 0xffff = -0; an odd tail adds 0xff00. */
		if (len >= 2 && !(len & 1))
			assert_int_equal(csum_finish(csum_partial(big, len, 0)),
					 0);
	}
	check_vs_ref(big, BIG_LEN, 0xffffffffu);
	check_vs_ref(big + 1, BIG_LEN, 0xffff0000u);

	memset(big, 0, sizeof(big));
	for (len = 0; len <= MAX_LEN; len++) {
		assert_int_equal(csum_fold(csum_partial(big + (len & 7), len,
							0)),
				 0);
		check_vs_ref(big, len, 0);
	}
	assert_int_equal(csum_finish(csum_partial(big, BIG_LEN, 0)), 0xffff);
}

/* Splitting at an even offset and chaining the partial sums changes nothing. */
static void test_partial_chaining(void **state)
{
	int i;

	(void)state;
	rng_seed(TEST_SEED + 2);
	rng_fill(big, MAX_LEN + 16);
	for (i = 0; i < 20000; i++) {
		size_t len = rng_below(MAX_LEN + 1);
		size_t split = rng_even(len);
		const unsigned char *p = big + rng_below(8);
		uint32_t whole = csum_partial(p, len, 0);
		uint32_t first = csum_partial(p, split, 0);
		uint32_t both = csum_partial(p + split, len - split, first);

		if (csum_fold(whole) != csum_fold(both))
			fail_msg("len %zu split %zu: %#06x != %#06x", len,
				 split, csum_fold(whole), csum_fold(both));
	}
}

/* The textbook header 45 00 00 73 ... c0 a8 00 c7 has checksum b861. */
static void test_ip4_header_known(void **state)
{
	unsigned char h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
				0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
				0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t ck = csum_ip4_header(h, sizeof(h));

	(void)state;
	assert_int_equal(ck, wire16(0xb8, 0x61));
	assert_int_equal(ck, csum_ref(h, sizeof(h)));
	put16(h + 10, ck);
	assert_int_equal(csum_ip4_header(h, sizeof(h)), 0);
	h[15] ^= 0x04;
	assert_int_not_equal(csum_ip4_header(h, sizeof(h)), 0);
}

/* Build saddr daddr 0 proto len | l4 explicitly and sum it naively. */
static uint16_t ref_l4_4(const unsigned char *s4, const unsigned char *d4,
			 uint8_t proto, const unsigned char *l4, size_t l4_len)
{
	unsigned char buf[12 + 256];

	assert_true(l4_len <= 256);
	memcpy(buf, s4, 4);
	memcpy(buf + 4, d4, 4);
	buf[8] = 0;
	buf[9] = proto;
	buf[10] = (unsigned char)(l4_len >> 8);
	buf[11] = (unsigned char)l4_len;
	memcpy(buf + 12, l4, l4_len);
	return csum_ref(buf, 12 + l4_len);
}

/* src(16) dst(16) length(32) zero(24) next-header(8) | l4 */
static uint16_t ref_l4_6(const unsigned char *s16, const unsigned char *d16,
			 uint8_t proto, const unsigned char *l4, size_t l4_len)
{
	unsigned char buf[40 + 256];

	assert_true(l4_len <= 256);
	memcpy(buf, s16, 16);
	memcpy(buf + 16, d16, 16);
	buf[32] = (unsigned char)(l4_len >> 24);
	buf[33] = (unsigned char)(l4_len >> 16);
	buf[34] = (unsigned char)(l4_len >> 8);
	buf[35] = (unsigned char)l4_len;
	buf[36] = buf[37] = buf[38] = 0;
	buf[39] = proto;
	memcpy(buf + 40, l4, l4_len);
	return csum_ref(buf, 40 + l4_len);
}

/* 192.168.0.1:1234 -> 192.168.0.199:53, 13 payload bytes (odd length). */
static void test_pseudo_ip4_udp(void **state)
{
	static const unsigned char s4[4] = { 192, 168, 0, 1 };
	static const unsigned char d4[4] = { 192, 168, 0, 199 };
	unsigned char udp[21] = { 0x04, 0xd2, 0x00, 0x35, 0x00, 21, 0, 0,
				  'h',  'e',  'l',  'l',  'o',  ',', ' ',
				  'c',  'h',  'e',  'c',  'k',  '!' };
	uint32_t ph = csum_pseudo_ip4(get32(s4), get32(d4), 17, sizeof(udp));
	uint16_t ck = csum_finish(csum_partial(udp, sizeof(udp), ph));

	(void)state;
	assert_int_equal(ck, ref_l4_4(s4, d4, 17, udp, sizeof(udp)));
	put16(udp + 6, ck);
	assert_int_equal(csum_finish(csum_partial(udp, sizeof(udp), ph)), 0);
	assert_int_equal(ref_l4_4(s4, d4, 17, udp, sizeof(udp)), 0);
}

static void test_pseudo_ip6_udp(void **state)
{
	static const unsigned char s16[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0,
					       0,    0,    0,    0,    0, 0,
					       0,    0,    0,    1 };
	static const unsigned char d16[16] = { 0xfd, 0x00, 0xab, 0xcd, 0x12,
					       0x34, 0,    0,    0xde, 0xad,
					       0xbe, 0xef, 0xff, 0xff, 0xfe,
					       0x99 };
	unsigned char udp[27] = { 0xc3, 0x50, 0x00, 0x35, 0x00, 27, 0, 0 };
	uint32_t ph;
	uint16_t ck;

	(void)state;
	memcpy(udp + 8, "arcnat says hello v6", 19);
	ph = csum_pseudo_ip6(s16, d16, 17, sizeof(udp));
	ck = csum_finish(csum_partial(udp, sizeof(udp), ph));
	assert_int_equal(ck, ref_l4_6(s16, d16, 17, udp, sizeof(udp)));
	put16(udp + 6, ck);
	assert_int_equal(csum_finish(csum_partial(udp, sizeof(udp), ph)), 0);
	assert_int_equal(ref_l4_6(s16, d16, 17, udp, sizeof(udp)), 0);
}

/* Random addresses and lengths: the pseudo sum alone matches the ref. */
static void test_pseudo_random(void **state)
{
	unsigned char b4[12], b6[40];
	int i;

	(void)state;
	rng_seed(TEST_SEED + 3);
	for (i = 0; i < 10000; i++) {
		uint16_t len = (uint16_t)rng_next();
		uint8_t proto = (uint8_t)rng_next();
		uint32_t len6 = (uint32_t)rng_next();

		rng_fill(b4, 8);
		b4[8] = 0;
		b4[9] = proto;
		b4[10] = (unsigned char)(len >> 8);
		b4[11] = (unsigned char)len;
		assert_int_equal(ntohs(csum_fold(csum_pseudo_ip4(get32(b4),
						get32(b4 + 4), proto, len))),
				 csum_ref_sum(b4, sizeof(b4), 0));

		rng_fill(b6, 32);
		b6[32] = (unsigned char)(len6 >> 24);
		b6[33] = (unsigned char)(len6 >> 16);
		b6[34] = (unsigned char)(len6 >> 8);
		b6[35] = (unsigned char)len6;
		b6[36] = b6[37] = b6[38] = 0;
		b6[39] = proto;
		assert_int_equal(ntohs(csum_fold(csum_pseudo_ip6(b6, b6 + 16,
						proto, len6))),
				 csum_ref_sum(b6, sizeof(b6), 0));
	}
}

/* Full recomputation of the checksum at @coff, by the reference. */
static uint16_t recompute(unsigned char *pkt, size_t len, size_t coff)
{
	uint16_t saved = get16(pkt + coff);
	uint16_t ck;

	put16(pkt + coff, 0);
	ck = csum_ref(pkt, len);
	put16(pkt + coff, saved);
	return ck;
}

#define INC_PACKETS 100000L
#define INC_MAX_LEN 600

static void test_incremental_random(void **state)
{
	static unsigned char pkt[INC_MAX_LEN];
	static const size_t sizes[3] = { 2, 4, 16 };
	long changes = 0;
	int n;

	(void)state;
	rng_seed(TEST_SEED + 4);
	for (n = 0; n < INC_PACKETS; n++) {
		size_t len = 20 + rng_below(INC_MAX_LEN - 20 + 1);
		size_t coff = rng_even(len - 2);
		int k, nchg = 1 + (int)rng_below(4);

		rng_fill(pkt, len);
		put16(pkt + coff, recompute(pkt, len, coff));
		for (k = 0; k < nchg; k++) {
			size_t size = sizes[rng_below(3)];
			unsigned char old[16], new[16];
			size_t off;
			uint16_t ck = get16(pkt + coff);
			uint16_t want;
			int tries = 0;

			/* An even offset not overlapping the checksum. */
			do {
				off = rng_even(len - size);
			} while (off < coff + 2 && coff < off + size &&
				 ++tries < 100);
			if (tries >= 100)
				continue;
			memcpy(old, pkt + off, size);
			rng_fill(new, size);
			memcpy(pkt + off, new, size);
			if (size == 2)
				ck = csum_replace2(ck, get16(old), get16(new));
			else if (size == 4)
				ck = csum_replace4(ck, get32(old), get32(new));
			else
				ck = csum_replace16(ck, old, new);
			put16(pkt + coff, ck);
			want = recompute(pkt, len, coff);
			changes++;
			if (ck != want)
				fail_msg("seed %#llx packet %d change %d (%zu bytes at %zu, csum at %zu, len %zu): incremental %#06x full %#06x",
					 (unsigned long long)TEST_SEED + 4, n,
					 k, size, off, coff, len, ck, want);
			if (csum_ref(pkt, len) != 0)
				fail_msg("seed %#llx packet %d change %d: does not verify",
					 (unsigned long long)TEST_SEED + 4, n,
					 k);
		}
	}
	assert_true(changes > 2 * INC_PACKETS);
}

/* A UDP datagram whose checksum computes to 0 goes out as 0xFFFF. */
static void test_udp_zero_rule(void **state)
{
	static const unsigned char s4[4] = { 10, 0, 2, 15 };
	static const unsigned char d4[4] = { 1, 1, 1, 1 };
	static const unsigned char snat[4] = { 203, 0, 113, 7 };
	unsigned char udp[24] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 24, 0, 0,
				  'z',  'e',  'r',  'o',  '?',  0,  0 };
	uint32_t ph = csum_pseudo_ip4(get32(s4), get32(d4), 17, sizeof(udp));
	uint32_t v;
	uint16_t ck;

	(void)state;
	assert_int_equal(csum_udp_nonzero(0), 0xffff);
	for (v = 1; v <= 0xffff; v++)
		assert_int_equal(csum_udp_nonzero((uint16_t)v), v);

	/* Pick the filler word at offset 14 that makes the sum 0xffff. */
	put16(udp + 14, (uint16_t)~csum_fold(csum_partial(udp, sizeof(udp),
							   ph)));
	ck = csum_finish(csum_partial(udp, sizeof(udp), ph));
	assert_int_equal(ck, 0);
	assert_int_equal(ref_l4_4(s4, d4, 17, udp, sizeof(udp)), 0);

	put16(udp + 6, csum_udp_nonzero(ck));
	assert_int_equal(udp[6], 0xff);
	assert_int_equal(udp[7], 0xff);
	assert_int_equal(csum_finish(csum_partial(udp, sizeof(udp), ph)), 0);
	assert_int_equal(ref_l4_4(s4, d4, 17, udp, sizeof(udp)), 0);

	/* SNAT of a datagram carrying 0xFFFF: updates like any checksum. */
	ck = csum_replace4(get16(udp + 6), get32(s4), get32(snat));
	put16(udp + 6, 0);
	assert_int_equal(csum_udp_nonzero(ck),
			 csum_udp_nonzero(ref_l4_4(snat, d4, 17, udp,
						   sizeof(udp))));
}

#define PARTIAL_PACKETS 10000

/*
 * CHECKSUM_PARTIAL: the field holds the folded pseudo sum; NAT changes both
 * addresses and a port; the NIC then sums from csum_start (field included)
 * and inverts. That must equal a full recomputation with the new addresses.
 */
static void test_partial_csum_update_ip4(void **state)
{
	unsigned char l4[20 + 200];
	int n;

	(void)state;
	rng_seed(TEST_SEED + 5);
	for (n = 0; n < PARTIAL_PACKETS; n++) {
		size_t len = 20 + rng_below(201);
		unsigned char s[4], d[4], s2[4], d2[4];
		uint16_t field, nic;

		rng_fill(s, 4);
		rng_fill(d, 4);
		rng_fill(s2, 4);
		rng_fill(d2, 4);
		rng_fill(l4, len);
		/* TCP: checksum at csum_offset 16 from csum_start. */
		field = csum_fold(csum_pseudo_ip4(get32(s), get32(d), 6,
						  (uint16_t)len));
		put16(l4 + 16, field);

		field = csum_replace4_pseudo(field, get32(s), get32(s2));
		field = csum_replace4_pseudo(field, get32(d), get32(d2));
		put16(l4 + 16, field);
		rng_fill(l4, 2); /* new source port: no field update */

		nic = csum_ref(l4, len);
		put16(l4 + 16, 0);
		if (nic != ref_l4_4(s2, d2, 6, l4, len))
			fail_msg("seed %#llx packet %d: NIC result %#06x wrong",
				 (unsigned long long)TEST_SEED + 5, n, nic);
	}
}

static void test_partial_csum_update_ip6(void **state)
{
	unsigned char l4[8 + 200];
	int n;

	(void)state;
	rng_seed(TEST_SEED + 6);
	for (n = 0; n < PARTIAL_PACKETS; n++) {
		size_t len = 8 + rng_below(201);
		unsigned char s[16], d[16], s2[16], d2[16];
		uint16_t field, nic;

		rng_fill(s, 16);
		rng_fill(d, 16);
		rng_fill(s2, 16);
		rng_fill(d2, 16);
		rng_fill(l4, len);
		/* UDP: checksum at csum_offset 6. */
		field = csum_fold(csum_pseudo_ip6(s, d, 17, (uint32_t)len));
		field = csum_replace16_pseudo(field, s, s2);
		field = csum_replace16_pseudo(field, d, d2);
		put16(l4 + 6, field);
		rng_fill(l4 + 2, 2); /* new destination port */

		nic = csum_ref(l4, len);
		put16(l4 + 6, 0);
		if (nic != ref_l4_6(s2, d2, 17, l4, len))
			fail_msg("seed %#llx packet %d: NIC result %#06x wrong",
				 (unsigned long long)TEST_SEED + 6, n, nic);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_fold_edges),
		cmocka_unit_test(test_partial_vs_ref_all_lengths),
		cmocka_unit_test(test_partial_vs_ref_64k),
		cmocka_unit_test(test_partial_carry_edges),
		cmocka_unit_test(test_partial_chaining),
		cmocka_unit_test(test_ip4_header_known),
		cmocka_unit_test(test_pseudo_ip4_udp),
		cmocka_unit_test(test_pseudo_ip6_udp),
		cmocka_unit_test(test_pseudo_random),
		cmocka_unit_test(test_incremental_random),
		cmocka_unit_test(test_udp_zero_rule),
		cmocka_unit_test(test_partial_csum_update_ip4),
		cmocka_unit_test(test_partial_csum_update_ip6),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
