// SPDX-License-Identifier: MIT
/*
 * vmem.c - mapping and translating a vhost-user guest's memory table.
 */
#include "guest/vmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* [a, a + alen) and [b, b + blen) overlap (both lengths known not to wrap). */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The one check both translations share: [addr, addr + len) in [base, base + size). */
static bool range_inside(uint64_t base, uint64_t size, uint64_t addr,
			 uint64_t len)
{
	if (addr < base)
		return false;
	/* Written as differences so that neither side can overflow. */
	if (addr - base > size)
		return false;
	if (len == 0)
		return addr - base < size;
	return len <= size - (addr - base);
}

static int desc_check(const struct vmem_desc *desc, unsigned int n)
{
	unsigned int i, j;

	if (n > VMEM_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct vmem_desc *d = &desc[i];

		if (d->size == 0 || d->fd < 0)
			return -EINVAL;
		/* Every end must be representable, in all three spaces. */
		if (d->gpa + d->size < d->gpa || d->uva + d->size < d->uva ||
		    d->mmap_offset + d->size < d->mmap_offset ||
		    d->mmap_offset + d->size > (uint64_t)SIZE_MAX)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (ranges_overlap(d->gpa, d->size, desc[j].gpa,
					   desc[j].size))
				return -EINVAL;
		}
	}
	return 0;
}

int vmem_map(struct vmem *m, const struct vmem_desc *desc, unsigned int n)
{
	unsigned int i;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = desc_check(desc, n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		const struct vmem_desc *d = &desc[i];
		struct vmem_region *r = &m->region[i];
		size_t len = (size_t)(d->mmap_offset + d->size);
		struct stat st;
		int seals;
		void *p;

		/*
		 * A mapping past the file's end maps, but touching it raises
		 * SIGBUS: a frontend must not be able to kill us that way.
		 */
		if (fstat(d->fd, &st)) {
			rc = -errno;
			goto fail;
		}
		if (st.st_size < 0 || (uint64_t)st.st_size < len) {
			rc = -EINVAL;
			goto fail;
		}
		/* ... and must stay so: a file that can shrink is refused. */
		seals = fcntl(d->fd, F_GET_SEALS);
		if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
			rc = -EPERM;
			goto fail;
		}

		/*
		 * Map from file offset 0 and step over mmap_offset ourselves:
		 * the frontend does not promise that the offset is page
		 * aligned, which mmap() requires.
		 */
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
			 0);
		if (p == MAP_FAILED) {
			rc = -errno;
			goto fail;
		}
		r->map = p;
		r->map_len = len;
		r->host = (uint8_t *)p + d->mmap_offset;
		r->gpa = d->gpa;
		r->size = d->size;
		r->uva = d->uva;
		m->n = i + 1;
	}
	return 0;
fail:
	vmem_unmap(m);
	return rc;
}

void vmem_unmap(struct vmem *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < m->n && i < VMEM_MAX_REGIONS; i++) {
		if (m->region[i].map)
			(void)munmap(m->region[i].map, m->region[i].map_len);
	}
	memset(m, 0, sizeof(*m));
}

void *vmem_gpa(const struct vmem *m, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		const struct vmem_region *r = &m->region[i];

		if (range_inside(r->gpa, r->size, gpa, len))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *vmem_uva(const struct vmem *m, uint64_t uva, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		const struct vmem_region *r = &m->region[i];

		if (range_inside(r->uva, r->size, uva, len))
			return r->host + (uva - r->uva);
	}
	return NULL;
}
