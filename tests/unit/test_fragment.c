// SPDX-License-Identifier: MIT
/*
 * Unit tests for pkt/fragment: exact bytes of the fragments of a packet with
 * a copied and a non-copied option (headers written out by hand, checksums
 * computed independently), a 1400-byte datagram cut for a 576-byte MTU and
 * put back together, an already-fragmented packet cut again (offset base
 * and MF kept), and every error return.
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
#include "prot/ip4.h"

#define SRC htonl(0x0a000202)	/* 10.0.2.2 */
#define DST htonl(0xc6336401)	/* 198.51.100.1 */

static uint8_t pkt[IP4_MAX_LEN];
static uint8_t out[IP4_MAX_LEN];
static uint8_t payload[IP4_MAX_LEN];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 3 + 1);
}

/* An L3 packet of protocol 253 (experiments) with raw payload. */
static int build(const void *opts, size_t opts_len, uint16_t frag,
		 size_t plen)
{
	struct pkt_spec s = {
		.no_eth = true,
		.src4 = SRC,
		.dst4 = DST,
		.ip_id = 0x1234,
		.ip4_frag = frag,
		.ip4_opts = opts,
		.ip4_opts_len = opts_len,
		.proto = 253,
		.l4_raw = true,
		.payload = payload,
		.payload_len = plen,
	};
	int n = pkt_build(&s, pkt, sizeof(pkt));

	assert_true(n > 0);
	return n;
}

/* Record route (7, not copied) and router alert (0x94, copied): the later
 * fragments keep only the router alert. Expected bytes from an independent
 * implementation (Python struct and the RFC 1071 sum). */
static void test_options_exact(void **state)
{
	static const uint8_t opts[12] = { 7, 7, 4, 0, 0, 0, 0,
					  0x94, 4, 0, 0, IP4_OPT_EOL };
	static const uint8_t orig[32] = {
		0x48, 0x00, 0x00, 0x48, 0x12, 0x34, 0x00, 0x00,
		0x40, 0xfd, 0x1e, 0xb4, 0x0a, 0x00, 0x02, 0x02,
		0xc6, 0x33, 0x64, 0x01, 0x07, 0x07, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00, 0x00,
	};
	/* 32-byte header + 24 data bytes (56 - 32 rounded down to 8), MF */
	static const uint8_t first[32] = {
		0x48, 0x00, 0x00, 0x38, 0x12, 0x34, 0x20, 0x00,
		0x40, 0xfd, 0xfe, 0xc3, 0x0a, 0x00, 0x02, 0x02,
		0xc6, 0x33, 0x64, 0x01, 0x07, 0x07, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00, 0x00,
	};
	/* 24-byte header (router alert only), the last 16 bytes at offset 3 */
	static const uint8_t second[24] = {
		0x46, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x03,
		0x40, 0xfd, 0x9c, 0x67, 0x0a, 0x00, 0x02, 0x02,
		0xc6, 0x33, 0x64, 0x01, 0x94, 0x04, 0x00, 0x00,
	};
	struct pkt_frag f;
	int n;

	(void)state;
	n = build(opts, sizeof(opts), 0, 40);
	assert_int_equal(n, 72);
	assert_memory_equal(pkt, orig, sizeof(orig));
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 56), 0);

	assert_int_equal(pkt_frag_next(&f, out, sizeof(out)), 56);
	assert_memory_equal(out, first, sizeof(first));
	assert_memory_equal(out + 32, payload, 24);

	assert_int_equal(pkt_frag_next(&f, out, sizeof(out)), 40);
	assert_memory_equal(out, second, sizeof(second));
	assert_memory_equal(out + 24, payload + 24, 16);

	assert_int_equal(pkt_frag_next(&f, out, sizeof(out)), 0);
	assert_int_equal(pkt_frag_next(&f, out, sizeof(out)), 0);
}

/* A 1400-byte UDP datagram for a 576-byte MTU: 552 + 552 + 276 data bytes;
 * each fragment parses, its header checksum holds, the pieces line up and
 * the data put back together is the original's. */
static void test_reassembles(void **state)
{
	struct pkt_spec s = {
		.no_eth = true,
		.src4 = SRC,
		.dst4 = DST,
		.ip_id = 0xbeef,
		.proto = 17,
		.sport = 4000,
		.dport = 5000,
		.payload = payload,
		.payload_len = 1372,
	};
	static const unsigned int want[] = { 552, 552, 276 };
	static uint8_t joined[IP4_MAX_LEN];
	struct pkt_frag f;
	unsigned int at = 0;
	int n = pkt_build(&s, pkt, sizeof(pkt));

	(void)state;
	assert_int_equal(n, 1400);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 576), 0);
	for (unsigned int k = 0; k < ARRAY_SIZE(want); k++) {
		const struct ip4_hdr *h = (const struct ip4_hdr *)out;
		struct pkt_meta m;
		uint16_t fo;

		n = pkt_frag_next(&f, out, sizeof(out));
		fo = ntohs(h->frag_off);
		assert_int_equal(n, 20 + want[k]);
		assert_int_equal(ntohs(h->tot_len), n);
		assert_int_equal(csum_ip4_header(out, 20), 0);
		assert_int_equal(ntohs(h->id), 0xbeef);
		assert_memory_equal(out + 12, pkt + 12, 8);	/* addresses */
		assert_int_equal((fo & IP4_OFFSET_MASK) * 8u, at);
		assert_int_equal(!!(fo & IP4_FLAG_MF), k < 2);
		assert_int_equal(fo & IP4_FLAG_DF, 0);
		assert_int_equal(pkt_parse(out, (size_t)n, PKT_PARSE_L3, &m),
				 PKT_DROP_OK);
		assert_true(m.flags & PKT_F_FRAG);
		memcpy(joined + at, out + 20, want[k]);
		at += want[k];
	}
	assert_int_equal(pkt_frag_next(&f, out, sizeof(out)), 0);
	assert_int_equal(at, 1380);
	assert_memory_equal(joined, pkt + 20, 1380);
}

/* A fragment at offset 800 cut again: the pieces count from 800; with MF
 * the last piece keeps MF, without it the last piece has none. */
static void test_refragment(void **state)
{
	struct pkt_frag f;

	(void)state;
	for (int mf = 0; mf <= 1; mf++) {
		uint16_t flags = (uint16_t)(100 | (mf ? IP4_FLAG_MF : 0));
		unsigned int at = 800, k = 0;
		int n = build(NULL, 0, flags, 100);
		assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), 0);
		while ((n = pkt_frag_next(&f, out, sizeof(out))) > 0) {
			uint16_t fo = ntohs(((const struct ip4_hdr *)out)->frag_off);
			bool last = n - 20 < 40;

			assert_int_equal((fo & IP4_OFFSET_MASK) * 8u, at);
			assert_int_equal(!!(fo & IP4_FLAG_MF), last ? mf : 1);
			assert_int_equal(csum_ip4_header(out, 20), 0);
			assert_memory_equal(out + 20, payload + (at - 800),
					    (size_t)n - 20);
			at += (unsigned int)n - 20;
			k++;
		}
		assert_int_equal(k, 3);	/* 40 + 40 + 20 */
		assert_int_equal(at, 900);
	}
}

static void test_errors(void **state)
{
	static const uint8_t bad_opt[4] = { 0x94, 1, 0, 0 };	/* length 1 */
	static const uint8_t long_opt[4] = { 0x94, 9, 0, 0 };	/* past the area */
	struct pkt_frag f;
	int n;

	(void)state;
	n = build(NULL, 0, 0, 100);
	/* an MTU below a header and 8 bytes */
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 27), -EMSGSIZE);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 28), 0);
	/* the length given is not the total length */
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n - 1, 60), -EINVAL);
	assert_int_equal(pkt_frag_init(&f, pkt, 10, 60), -EINVAL);
	/* not IPv4 */
	pkt[0] = 0x65;
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), -EINVAL);
	/* malformed options */
	n = build(bad_opt, sizeof(bad_opt), 0, 100);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), -EINVAL);
	n = build(long_opt, sizeof(long_opt), 0, 100);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), -EINVAL);
	/* fragments that would end past 65535 */
	n = build(NULL, 0, IP4_OFFSET_MASK, 100);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), -EINVAL);
	/* no room: nothing consumed, the next call with room goes on */
	n = build(NULL, 0, 0, 100);
	assert_int_equal(pkt_frag_init(&f, pkt, (size_t)n, 60), 0);
	assert_int_equal(pkt_frag_next(&f, out, 59), -ENOSPC);
	assert_int_equal(pkt_frag_next(&f, out, 60), 60);
	assert_memory_equal(out + 20, payload, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_exact),
		cmocka_unit_test(test_reassembles),
		cmocka_unit_test(test_refragment),
		cmocka_unit_test(test_errors),
	};

	fill();
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
