// SPDX-License-Identifier: MIT
/*
 * fuzz_vring.c - libFuzzer harness for the split virtqueue walker
 * (src/guest/vring) over a guest memory image taken from the input.
 *
 * Input:
 *   h0    bits 0-2: queue size 1 << n (1-128); bit 3 indirect negotiated;
 *         bit 4 MRG_RXBUF; bit 5 a 10-byte header (neither VERSION_1 nor
 *         MRG_RXBUF); bits 6-7 avail index start (0, 0xfffe, 0x8000, 7)
 *   h1 h2 the operations, one bit each (LSB first): 0 take a transmitted
 *         frame, 1 give a received frame of (37 * i) % 1600 + 1 bytes
 *   rest  guest memory, zero-padded: two adjacent 4 KiB regions at guest
 *         addresses 0x1000 and 0x2000, each its own allocation, so that a
 *         read across their boundary is an ASan error. Descriptor table at
 *         0x1000, available ring at 0x1800, used ring at 0x2000; buffers
 *         anywhere the descriptors say.
 *
 * Checks (besides ASan and UBSan): a transmitted frame fits the buffer; the
 * used index advances only by chains consumed; a ring with
 * VRING_BROKEN_AFTER bad chains is broken and then does nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/vring.h"

#define REGION 4096ul
#define GPA0   0x1000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_vring: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t starts[4] = { 0, 0xfffe, 0x8000, 7 };
	static uint8_t frame[1600];
	uint8_t out[2048];
	struct vmem mem;
	struct vring vr;
	uint8_t *r0, *r1;
	uint32_t num;
	uint16_t ops, used0;
	size_t img, i;

	if (size < 3)
		return 0;
	num = 1u << (data[0] & 7);
	ops = (uint16_t)(data[1] | data[2] << 8);
	r0 = calloc(1, REGION);
	r1 = calloc(1, REGION);
	if (!r0 || !r1)
		die("calloc");
	img = size - 3 > 2 * REGION ? 2 * REGION : size - 3;
	memcpy(r0, data + 3, img < REGION ? img : REGION);
	if (img > REGION)
		memcpy(r1, data + 3 + REGION, img - REGION);

	memset(&mem, 0, sizeof(mem));
	mem.n = 2;
	mem.region[0] = (struct vmem_region){ .gpa = GPA0, .size = REGION,
					      .uva = GPA0, .host = r0 };
	mem.region[1] = (struct vmem_region){ .gpa = GPA0 + REGION,
					      .size = REGION,
					      .uva = GPA0 + REGION, .host = r1 };
	vring_setup(&vr, &mem, num, vmem_gpa(&mem, GPA0, 16ull * num),
		    vmem_gpa(&mem, GPA0 + 0x800, 6 + 2 * num),
		    vmem_gpa(&mem, GPA0 + REGION, 6 + 8 * num),
		    starts[data[0] >> 6]);
	vr.indirect = data[0] & 8;
	vr.mrg_rxbuf = data[0] & 16;
	if ((data[0] & 32) && !vr.mrg_rxbuf)
		vr.hdr_len = 10;
	used0 = vr.used_idx;

	for (i = 0; i < 16; i++) {
		uint16_t avail_before = vr.last_avail;
		uint16_t used_before = vr.used_idx;
		bool was_broken = vr.broken;
		int rc;

		if (ops & (1u << i)) {
			struct pkt_vnet v = { 0 };
			size_t len = (37 * i) % sizeof(frame) + 1;

			rc = vring_net_rx(&vr, &v, frame, len);
		} else {
			struct pkt_vnet v;
			size_t len = 0;

			rc = vring_net_tx(&vr, &v, out, sizeof(out), &len);
			if (rc == 0 && len > sizeof(out))
				die("frame larger than the buffer");
		}
		if (was_broken && (rc != -EPIPE || vr.used_idx != used_before ||
				   vr.last_avail != avail_before))
			die("a broken ring moved");
		if ((uint16_t)(vr.used_idx - used0) >
		    (uint16_t)(vr.last_avail - starts[data[0] >> 6]))
			die("more used than taken");
		if (vr.bad >= VRING_BROKEN_AFTER && !vr.broken)
			die("over the threshold, not broken");
	}
	free(r0);
	free(r1);
	return 0;
}
