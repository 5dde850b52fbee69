// SPDX-License-Identifier: MIT
/*
 * bufmem.c - guarded storage for a worker's buffers (bufmem.h).
 */
#include "dp/bufmem.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/compiler.h"

int dp_bufmem_map(struct dp_bufmem *m, struct dp_buf *const *bufs,
		  unsigned int n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = ALIGN_UP((size_t)(DP_BUF_HEADROOM + DP_BUF_DATA_MAX), page);

	m->len = page + (size_t)n * (span + page);
	m->mem = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (m->mem == MAP_FAILED) {
		m->mem = NULL;
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct dp_buf *b = bufs[i];

		b->head = m->mem + page + i * (span + page);
		b->cap = (uint32_t)span;
		if (mprotect(b->head, span, PROT_READ | PROT_WRITE) < 0)
			return -errno;
		dp_buf_reset(b);
	}
	return 0;
}

void dp_bufmem_unmap(struct dp_bufmem *m)
{
	if (m->mem)
		munmap(m->mem, m->len);
	m->mem = NULL;
}
