// SPDX-License-Identifier: MIT
/*
 * test_vring.c - unit tests for src/guest/vring (and the translator of
 * src/guest/vmem) over a memfd "guest memory" of two adjacent regions, with
 * descriptors written by hand as a guest driver would.
 *
 * Good chains: a simple transmit, a chained one whose header spans two
 * buffers, an indirect one; receive into one chain, and with MRG_RXBUF across
 * three chains with num_buffers = 3; not enough buffers gives them all back.
 * Hostile chains, each a counted drop of its own reason, handed back empty,
 * and never a read outside the regions (ASan build): head and next out of
 * range, a loop, too many buffers, a buffer outside memory, one straddling
 * the boundary of two adjacent regions, a length that overflows, an indirect
 * table too large or misplaced, nested indirect, a writable buffer where only
 * readable ones belong and the reverse, readable after writable, a chain over
 * the length limit; a runaway available index and too many bad chains break
 * the ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>

#include "test_exit.h"
#include "unit/vhost_frontend.h"
#include "guest/vmem.h"
#include "guest/vring.h"

#define REG     0x10000ull	/* each region: 64 KiB, adjacent */
#define NUM     128u
#define DESC    0x0000u
#define AVAIL   0x1000u
#define USED    0x2000u
#define ITAB    0x3000u	/* indirect tables */
#define BUF     0x4000u	/* buffers */

/* Guest physical address == file offset: G(gpa) is the guest's view. */
static struct {
	int fd;
	uint8_t *map;
	struct vmem mem;
	struct vring vr;
	uint16_t avail_idx;
} g;

#define G(gpa) (g.map + (gpa))

static int setup(void **state)
{
	struct vmem_desc d[2] = {
		{ .gpa = 0, .size = REG, .uva = 0x1000000, .mmap_offset = 0 },
		{ .gpa = REG, .size = REG, .uva = 0x2000000,
		  .mmap_offset = REG },
	};
	(void)state;

	memset(&g, 0, sizeof(g));
	g.fd = fe_memfd(2 * REG, &g.map);
	if (g.fd < 0)
		return -1;
	d[0].fd = g.fd;
	d[1].fd = g.fd;
	if (vmem_map(&g.mem, d, 2))
		return -1;
	vring_setup(&g.vr, &g.mem, NUM, vmem_gpa(&g.mem, DESC, 16ull * NUM),
		    vmem_gpa(&g.mem, AVAIL, 6 + 2 * NUM),
		    vmem_gpa(&g.mem, USED, 6 + 8 * NUM), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vmem_unmap(&g.mem);
	munmap(g.map, 2 * REG);
	close(g.fd);
	return 0;
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc_le d = { htole64(addr), htole32(len), htole16(flags),
				   htole16(next) };

	memcpy(G(table + 16ull * i), &d, sizeof(d));
}

/* The driver offers a chain: ring entry, then (release) the index. */
static void offer(uint16_t head)
{
	struct vring_avail_le *a = (struct vring_avail_le *)G(AVAIL);

	a->ring[g.avail_idx % NUM] = htole16(head);
	g.avail_idx++;
	__atomic_store_n(&a->idx, htole16(g.avail_idx), __ATOMIC_RELEASE);
}

static uint16_t used_idx(void)
{
	const struct vring_used_le *u = (const struct vring_used_le *)G(USED);

	return le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
}

static void used_elem(uint16_t k, uint32_t *id, uint32_t *len)
{
	const struct vring_used_le *u = (const struct vring_used_le *)G(USED);

	*id = le32toh(u->ring[k % NUM].id);
	*len = le32toh(u->ring[k % NUM].len);
}

static void put_hdr(uint64_t gpa, uint16_t csum_start)
{
	struct virtio_net_hdr_mrg_rxbuf h;

	memset(&h, 0, sizeof(h));
	h.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.hdr.csum_start = htole16(csum_start);
	h.hdr.csum_offset = htole16(16);
	memcpy(G(gpa), &h, sizeof(h));
}

static void fill(uint64_t gpa, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		*G(gpa + i) = (uint8_t)(seed + i);
}

static void test_tx_simple(void **state)
{
	uint8_t buf[2048];
	struct pkt_vnet v;
	size_t len = 0;
	uint32_t id, ulen;
	size_t i;
	(void)state;

	put_hdr(BUF, 34);
	fill(BUF + 12, 60, 1);
	put_desc(DESC, 0, BUF, 72, 0, 0);
	offer(0);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 60);
	assert_int_equal(v.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(v.csum_start, 34);
	assert_int_equal(v.csum_offset, 16);
	for (i = 0; i < 60; i++)
		assert_int_equal(buf[i], (uint8_t)(1 + i));
	assert_int_equal(used_idx(), 1);
	used_elem(0, &id, &ulen);
	assert_int_equal(id, 0);
	assert_int_equal(ulen, 0);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len),
			 -EAGAIN);
	assert_true(vring_need_call(&g.vr));
	((struct vring_avail_le *)G(AVAIL))->flags =
		htole16(VRING_AVAIL_F_NO_INTERRUPT);
	assert_false(vring_need_call(&g.vr));
}

static void test_tx_chained_indirect(void **state)
{
	uint8_t buf[2048];
	struct pkt_vnet v;
	size_t len = 0;
	size_t i;
	(void)state;

	/* Header split 8 + 4 over two buffers, frame over two more. */
	put_hdr(BUF, 14);
	memmove(G(BUF + 0x100), G(BUF + 8), 4);
	fill(BUF + 0x104, 20, 7);
	fill(REG + 0x100, 30, 27);	/* in region 1 */
	put_desc(DESC, 3, BUF, 8, VRING_DESC_F_NEXT, 9);
	put_desc(DESC, 9, BUF + 0x100, 24, VRING_DESC_F_NEXT, 5);
	put_desc(DESC, 5, REG + 0x100, 30, 0, 0);
	offer(3);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 50);
	assert_int_equal(v.csum_start, 14);
	for (i = 0; i < 50; i++)
		assert_int_equal(buf[i], (uint8_t)(7 + i));

	/* The same chain, through an indirect table. */
	put_desc(ITAB, 0, BUF, 8, VRING_DESC_F_NEXT, 2);
	put_desc(ITAB, 2, BUF + 0x100, 24, VRING_DESC_F_NEXT, 1);
	put_desc(ITAB, 1, REG + 0x100, 30, 0, 0);
	put_desc(DESC, 4, ITAB, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	/* Not negotiated: refused. */
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len),
			 -EBADMSG);
	assert_int_equal(g.vr.drops[VRING_DROP_INDIRECT_BAD], 1);
	g.vr.indirect = true;
	offer(4);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(buf[i], (uint8_t)(7 + i));
	assert_int_equal(used_idx(), 3);
	/* Too big for the caller: a counted drop, not the guest's fault. */
	offer(3);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, 49, &len), -EBADMSG);
	assert_int_equal(g.vr.drops[VRING_DROP_TX_BIG], 1);
	assert_int_equal(g.vr.bad, 1);
}

static void test_rx_one_and_mrg(void **state)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	struct pkt_vnet v = { .flags = VNET_F_DATA_VALID };
	uint8_t frame[150];
	uint32_t id, len;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(3 * i);
	/* Without MRG_RXBUF: one chain takes all, num_buffers is 1. */
	put_desc(DESC, 6, BUF, 2048, VRING_DESC_F_WRITE, 0);
	offer(6);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 100), 0);
	used_elem(0, &id, &len);
	assert_int_equal(id, 6);
	assert_int_equal(len, 112);
	memcpy(&h, G(BUF), 12);
	assert_int_equal(h.hdr.flags, VNET_F_DATA_VALID);
	assert_int_equal(le16toh(h.num_buffers), 1);
	assert_memory_equal(G(BUF + 12), frame, 100);
	/* A chain too small for this frame: kept for later, counted. */
	put_desc(DESC, 6, BUF, 64, VRING_DESC_F_WRITE, 0);
	offer(6);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 100), -EMSGSIZE);
	assert_int_equal(g.vr.drops[VRING_DROP_RX_SHORT], 1);
	assert_int_equal(g.vr.bad, 0);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 40), 0);
	assert_int_equal(used_idx(), 2);

	/* MRG_RXBUF: 162 bytes over three 64-byte buffers, one at a time. */
	g.vr.mrg_rxbuf = true;
	put_desc(DESC, 10, BUF + 0x1000, 64, VRING_DESC_F_WRITE, 0);
	put_desc(DESC, 11, BUF + 0x2000, 64, VRING_DESC_F_WRITE, 0);
	put_desc(DESC, 12, REG + 0x2000, 64, VRING_DESC_F_WRITE, 0);
	offer(10);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 150), -ENOBUFS);
	offer(11);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 150), -ENOBUFS);
	assert_int_equal(used_idx(), 2);	/* nothing handed over yet */
	offer(12);
	assert_int_equal(vring_net_rx(&g.vr, &v, frame, 150), 0);
	assert_int_equal(used_idx(), 5);
	used_elem(2, &id, &len);
	assert_int_equal(id, 10);
	assert_int_equal(len, 64);
	used_elem(3, &id, &len);
	assert_int_equal(id, 11);
	assert_int_equal(len, 64);
	used_elem(4, &id, &len);
	assert_int_equal(id, 12);
	assert_int_equal(len, 34);
	memcpy(&h, G(BUF + 0x1000), 12);
	assert_int_equal(le16toh(h.num_buffers), 3);
	assert_memory_equal(G(BUF + 0x1000 + 12), frame, 52);
	assert_memory_equal(G(BUF + 0x2000), frame + 52, 64);
	assert_memory_equal(G(REG + 0x2000), frame + 116, 34);
	assert_int_equal(g.vr.bad, 0);
}

/* Offer head, expect vring_pop() to drop it for why, handed back empty. */
static void expect_drop(uint16_t head, enum vring_drop why)
{
	struct vring_chain c;
	uint16_t before = used_idx();
	uint64_t n = g.vr.drops[why];
	uint32_t id, len;

	offer(head);
	print_message("case: %s\n", vring_drop_name(why));
	assert_int_equal(vring_pop(&g.vr, &c), -EBADMSG);
	assert_int_equal(g.vr.drops[why], n + 1);
	if (head < NUM) {
		assert_int_equal(used_idx(), (uint16_t)(before + 1));
		used_elem(before, &id, &len);
		assert_int_equal(id, head);
		assert_int_equal(len, 0);
	} else {
		assert_int_equal(used_idx(), before);
	}
}

static void test_hostile_chains(void **state)
{
	uint8_t buf[256];
	struct pkt_vnet v;
	size_t len;
	uint16_t i;
	(void)state;

	g.vr.indirect = true;
	expect_drop(NUM, VRING_DROP_HEAD_RANGE);
	expect_drop(0xffff, VRING_DROP_HEAD_RANGE);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, NUM);
	expect_drop(0, VRING_DROP_NEXT_RANGE);
	/*
	 * A loop: 0 -> 1 -> 2 -> 0 (one buffer in three, so that it runs
	 * into the queue size before the buffer limit).
	 */
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 0, VRING_DESC_F_NEXT, 2);
	put_desc(DESC, 2, BUF, 0, VRING_DESC_F_NEXT, 0);
	expect_drop(0, VRING_DROP_CHAIN_LOOP);
	/* A self loop of zero-length descriptors: no buffers, still bounded. */
	put_desc(DESC, 3, BUF, 0, VRING_DESC_F_NEXT, 3);
	expect_drop(3, VRING_DROP_CHAIN_LOOP);
	/* More buffers than a chain may have (all distinct, no loop). */
	for (i = 0; i < VRING_MAX_SEGS + 1; i++)
		put_desc(DESC, i, BUF, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(DESC, VRING_MAX_SEGS, BUF, 1, 0, 0);
	expect_drop(0, VRING_DROP_TOO_MANY_SEGS);
	/* Over the byte limit, the same 64 KiB seventeen times. */
	for (i = 0; i < 17; i++)
		put_desc(DESC, i, 0, REG, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(DESC, 17, BUF, 1, 0, 0);
	expect_drop(0, VRING_DROP_CHAIN_LEN);
	/* Addresses: beyond memory, across the two regions, wrapping. */
	put_desc(DESC, 0, 2 * REG, 1, 0, 0);
	expect_drop(0, VRING_DROP_BUF_ADDR);
	put_desc(DESC, 0, REG - 16, 32, 0, 0);
	expect_drop(0, VRING_DROP_BUF_ADDR);
	put_desc(DESC, 0, 0xffffffffffffff00ull, 0x200, 0, 0);
	expect_drop(0, VRING_DROP_BUF_ADDR);
	put_desc(DESC, 0, 2 * REG - 1, 0xffffffffu, 0, 0);
	expect_drop(0, VRING_DROP_BUF_ADDR);
	/* Indirect: nested, too many entries, odd size, misplaced, chained. */
	put_desc(ITAB, 0, ITAB + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(DESC, 0, ITAB, 16, VRING_DESC_F_INDIRECT, 0);
	expect_drop(0, VRING_DROP_INDIRECT_NESTED);
	put_desc(DESC, 0, ITAB, 16 * (NUM + 1), VRING_DESC_F_INDIRECT, 0);
	expect_drop(0, VRING_DROP_INDIRECT_BAD);
	put_desc(DESC, 0, ITAB, 24, VRING_DESC_F_INDIRECT, 0);
	expect_drop(0, VRING_DROP_INDIRECT_BAD);
	put_desc(DESC, 0, REG - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_drop(0, VRING_DROP_INDIRECT_BAD);
	put_desc(DESC, 0, ITAB, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
		 1);
	expect_drop(0, VRING_DROP_INDIRECT_BAD);
	/* An indirect loop ends at the table's size. */
	put_desc(ITAB, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	put_desc(ITAB, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	put_desc(DESC, 0, ITAB, 32, VRING_DESC_F_INDIRECT, 0);
	expect_drop(0, VRING_DROP_CHAIN_LOOP);
	put_desc(ITAB, 1, BUF, 8, VRING_DESC_F_NEXT, 2);
	expect_drop(0, VRING_DROP_NEXT_RANGE);
	/* Readable after writable. */
	put_desc(DESC, 0, BUF, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	put_desc(DESC, 1, BUF, 8, 0, 0);
	expect_drop(0, VRING_DROP_ORDER);
	assert_int_equal(g.vr.bad, 19);
	assert_false(g.vr.broken);

	/* Transmit with a writable buffer; a chain shorter than the header. */
	put_desc(DESC, 0, BUF, 64, VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len),
			 -EBADMSG);
	assert_int_equal(g.vr.drops[VRING_DROP_TX_WRITABLE], 1);
	put_desc(DESC, 0, BUF, 11, 0, 0);
	offer(0);
	assert_int_equal(vring_net_tx(&g.vr, &v, buf, sizeof(buf), &len),
			 -EBADMSG);
	assert_int_equal(g.vr.drops[VRING_DROP_TX_SHORT], 1);
	/* Receive into a readable buffer: dropped, handed back empty. */
	put_desc(DESC, 0, BUF, 64, 0, 0);
	offer(0);
	assert_int_equal(vring_net_rx(&g.vr, &v, buf, 20), -EBADMSG);
	assert_int_equal(g.vr.drops[VRING_DROP_RX_READABLE], 1);
	assert_int_equal(g.vr.bad, 22);
	assert_int_equal(used_idx(), g.avail_idx - 2);	/* two heads >= NUM */
}

static void test_broken(void **state)
{
	struct vring_chain c;
	struct vring_avail_le *a = (struct vring_avail_le *)G(AVAIL);
	uint32_t i;
	(void)state;

	/* Bad chains up to the threshold break the ring. */
	put_desc(DESC, 0, 2 * REG, 1, 0, 0);
	for (i = 0; i < VRING_BROKEN_AFTER - 1; i++) {
		offer(0);
		assert_int_equal(vring_pop(&g.vr, &c), -EBADMSG);
	}
	assert_false(g.vr.broken);
	offer(0);
	assert_int_equal(vring_pop(&g.vr, &c), -EBADMSG);
	assert_true(g.vr.broken);
	put_desc(DESC, 0, BUF, 16, 0, 0);
	offer(0);
	assert_int_equal(vring_pop(&g.vr, &c), -EPIPE);
	assert_int_equal(vring_net_rx(&g.vr, &(struct pkt_vnet){ 0 },
				      (const uint8_t *)"x", 1), -EPIPE);

	/* A fresh ring; an available index more than NUM ahead breaks it. */
	vring_setup(&g.vr, &g.mem, NUM, G(DESC), G(AVAIL), G(USED),
		    g.avail_idx);
	assert_int_equal(vring_pop(&g.vr, &c), -EAGAIN);
	a->idx = htole16((uint16_t)(g.avail_idx + NUM + 1));
	assert_int_equal(vring_pop(&g.vr, &c), -EPIPE);
	assert_int_equal(g.vr.drops[VRING_DROP_AVAIL_IDX], 1);
	assert_true(g.vr.broken);

	/* Free-running indices wrap: a base just below 65536 works. */
	vring_setup(&g.vr, &g.mem, NUM, G(DESC), G(AVAIL), G(USED), 0xfffe);
	g.avail_idx = 0xfffe;
	a->idx = htole16(0xfffe);
	for (i = 0; i < 4; i++) {
		offer(0);
		assert_int_equal(vring_pop(&g.vr, &c), 0);
		assert_int_equal(c.head, 0);
		assert_int_equal(c.rlen, 16);
		vring_push(&g.vr, c.head, 0);
	}
	assert_int_equal(g.vr.last_avail, 2);
}

static void test_vmem_translate(void **state)
{
	(void)state;

	assert_ptr_equal(vmem_gpa(&g.mem, 0, REG), g.mem.region[0].host);
	assert_ptr_equal(vmem_gpa(&g.mem, REG, REG), g.mem.region[1].host);
	assert_null(vmem_gpa(&g.mem, 1, REG));		/* crosses into 1 */
	assert_null(vmem_gpa(&g.mem, REG, REG + 1));
	assert_null(vmem_gpa(&g.mem, 2 * REG, 0));
	assert_non_null(vmem_gpa(&g.mem, 2 * REG - 1, 0));
	assert_null(vmem_gpa(&g.mem, UINT64_MAX, 2));
	assert_null(vmem_gpa(&g.mem, REG - 1, UINT64_MAX));
	assert_ptr_equal(vmem_uva(&g.mem, 0x2000010, 16),
			 g.mem.region[1].host + 16);
	assert_null(vmem_uva(&g.mem, 0x1000000 + REG - 8, 16));
	assert_null(vmem_uva(&g.mem, 0x10, 1));
	assert_string_equal(vring_drop_name(VRING_DROP_CHAIN_LOOP),
			    "chain_loop");
	assert_string_equal(vring_drop_name(VRING_DROP__MAX), "invalid");
	assert_int_equal(vring_layout_check(256, 0x10, 0x2, 0x4), 0);
	assert_int_equal(vring_layout_check(255, 0, 0, 0), -EINVAL);
	assert_int_equal(vring_layout_check(65536, 0, 0, 0), -EINVAL);
	assert_int_equal(vring_layout_check(256, 0x8, 0, 0), -EINVAL);
	assert_int_equal(vring_layout_check(256, 0, 1, 0), -EINVAL);
	assert_int_equal(vring_layout_check(256, 0, 0, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_simple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_chained_indirect, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_one_and_mrg, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_chains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmem_translate, setup,
						teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
