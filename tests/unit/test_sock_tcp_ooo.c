// SPDX-License-Identifier: MIT
/*
 * test_sock_tcp_ooo.c - the TCP relay's out-of-order store: pieces kept,
 * merged and handed back in order, SACK blocks, the pool's bounds, and a
 * differential run against a byte map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "test_exit.h"
#include "uplink/sock_tcp_ooo.h"

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)(seq * 31u + (seq >> 8));
}

static void put(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t rcv,
		uint32_t seq, uint32_t len, uint32_t want)
{
	static uint8_t buf[1 << 17];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = pat(seq + i);
	assert_int_equal(stcp_ooo_insert(p, o, rcv, 1u << 20, seq, buf, len),
			 want);
}

/* Take what follows @rcv, check it, return the new rcv. */
static uint32_t take(struct stcp_ooo_pool *p, struct stcp_ooo *o, uint32_t rcv)
{
	struct iovec iov[64];
	unsigned int k = stcp_ooo_front(p, o, rcv, iov, 64);
	uint32_t n = 0;

	for (unsigned int i = 0; i < k; i++)
		for (size_t j = 0; j < iov[i].iov_len; j++, n++)
			assert_int_equal(((uint8_t *)iov[i].iov_base)[j],
					 pat(rcv + n));
	stcp_ooo_consume(p, o, n);
	return rcv + n;
}

static void ooo_pieces_merge_and_come_back_in_order(void **state)
{
	struct stcp_ooo_pool p;
	struct stcp_ooo o = { 0 };
	uint32_t e[8], rcv = 0xfffff000u; /* across the wrap */

	(void)state;
	assert_int_equal(stcp_ooo_pool_init(&p, 1u << 20, 1u << 20), 0);
	put(&p, &o, rcv, rcv + 3000, 1000, 1000);
	put(&p, &o, rcv, rcv + 6000, 5000, 5000);
	assert_int_equal(o.n, 2);
	/* the latest first, then the others */
	assert_int_equal(stcp_ooo_sack(&o, e), 2);
	assert_int_equal(e[0], rcv + 6000);
	assert_int_equal(e[1], rcv + 11000);
	assert_int_equal(e[2], rcv + 3000);
	assert_int_equal(e[3], rcv + 4000);
	/* a piece over both and the gap: only the gap is new; one range */
	put(&p, &o, rcv, rcv + 3500, 4000, 2000);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.r[0].seq, rcv + 3000);
	assert_int_equal(o.r[0].len, 8000);
	/* already there, or at or before rcv: nothing */
	put(&p, &o, rcv, rcv + 3000, 100, 0);
	put(&p, &o, rcv, rcv, 100, 0);
	/* nothing follows rcv yet */
	assert_int_equal(take(&p, &o, rcv), rcv);
	/* the hole filled (by the caller, directly): all of it comes back */
	rcv += 3000;
	assert_int_equal(take(&p, &o, rcv), rcv + 8000);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.chunks, 0);
	assert_int_equal(p.nfree, p.n);
	stcp_ooo_pool_fini(&p);
}

static void ooo_bounded(void **state)
{
	struct stcp_ooo_pool p;
	struct stcp_ooo a = { 0 }, b = { 0 };

	(void)state;
	/* 8 chunks, 4 per connection */
	assert_int_equal(stcp_ooo_pool_init(&p, 8 * STCP_OOO_CHUNK,
					    4 * STCP_OOO_CHUNK), 0);
	put(&p, &a, 0, 100, 6 * STCP_OOO_CHUNK, 4 * STCP_OOO_CHUNK);
	assert_int_equal(a.chunks, 4);
	put(&p, &b, 0, 100, STCP_OOO_CHUNK - 100, STCP_OOO_CHUNK - 100);
	/* at most STCP_OOO_RANGES ranges */
	put(&p, &b, 0, 100000, 10, 10);
	put(&p, &b, 0, 200000, 10, 10);
	put(&p, &b, 0, 300000, 10, 10);
	put(&p, &b, 0, 400000, 10, 0);
	assert_int_equal(b.n, STCP_OOO_RANGES);
	/* beyond the limit (the window) nothing is kept */
	assert_int_equal(stcp_ooo_insert(&p, &b, 0, 50, 60, (const uint8_t *)"x",
					 1), 0);
	stcp_ooo_clear(&p, &a);
	stcp_ooo_clear(&p, &b);
	assert_int_equal(p.nfree, p.n);
	stcp_ooo_pool_fini(&p);
}

/* Random pieces against a byte map: what comes back is exactly the bytes
 * kept, in order, and the pool is whole again at the end. */
static void ooo_differential(void **state)
{
	enum { SPAN = 200000 };
	static bool have[SPAN];
	struct stcp_ooo_pool p;
	struct stcp_ooo o = { 0 };
	uint32_t rcv = 0x7fff0000u, seed = 7;

	(void)state;
	assert_int_equal(stcp_ooo_pool_init(&p, 64 * STCP_OOO_CHUNK,
					    64 * STCP_OOO_CHUNK), 0);
	for (int round = 0; round < 20000; round++) {
		uint32_t off, len, kept;
		static uint8_t buf[8192];

		seed = seed * 1103515245u + 12345u;
		off = 1 + (seed >> 8) % 60000;
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % 6000;
		for (uint32_t i = 0; i < len; i++)
			buf[i] = pat(rcv + off + i);
		kept = stcp_ooo_insert(&p, &o, rcv, 1u << 20, rcv + off, buf, len);
		(void)kept;
		/* the model: ranges say what is kept */
		memset(have, 0, sizeof(have));
		for (unsigned int r = 0; r < o.n; r++) {
			assert_true(o.r[r].len > 0);
			if (r)
				assert_true((int32_t)(o.r[r].seq -
						      (o.r[r - 1].seq + o.r[r - 1].len)) > 0);
			for (uint32_t i = 0; i < o.r[r].len; i++)
				have[o.r[r].seq - rcv + i] = true;
		}
		if (round % 7 == 0 && o.n) {
			/* the hole before the first range is filled */
			uint32_t start = o.r[0].seq, end = start + o.r[0].len;

			assert_int_equal(take(&p, &o, start), end);
			rcv = end;
		}
	}
	stcp_ooo_clear(&p, &o);
	assert_int_equal(p.nfree, p.n);
	stcp_ooo_pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ooo_pieces_merge_and_come_back_in_order),
		cmocka_unit_test(ooo_bounded),
		cmocka_unit_test(ooo_differential),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
