/* SPDX-License-Identifier: MIT */
/*
 * bufmem.h - storage for a worker's own packet buffers: each buffer
 * between two inaccessible guard pages, so that a write in front of a
 * buffer's head or past its cap faults at once instead of corrupting its
 * neighbour (docs/architecture.md, "Data flow").
 */
#ifndef ARCNAT_DP_BUFMEM_H
#define ARCNAT_DP_BUFMEM_H

#include <stddef.h>
#include <stdint.h>

#include "dp/port.h"

/**
 * struct dp_bufmem - one mapping holding several buffers.
 * @mem: the mapping, NULL when none
 * @len: its length
 */
struct dp_bufmem {
	uint8_t *mem;
	size_t len;
};

/**
 * dp_bufmem_map() - map storage for @n buffers of DP_BUF_HEADROOM +
 * DP_BUF_DATA_MAX bytes (rounded up to pages), each between guard pages,
 * and point each buffer at its own (reset, cap set).
 * @m:    the mapping (unmap it with dp_bufmem_unmap(), also on error)
 * @bufs: the buffers
 * @n:    how many
 *
 * Return: 0, -ENOMEM, -errno of mprotect().
 */
int dp_bufmem_map(struct dp_bufmem *m, struct dp_buf *const *bufs,
		  unsigned int n);

/**
 * dp_bufmem_unmap() - unmap; an unmapped @m is fine.
 * @m: the mapping
 */
void dp_bufmem_unmap(struct dp_bufmem *m);

#endif /* ARCNAT_DP_BUFMEM_H */
