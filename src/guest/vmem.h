/* SPDX-License-Identifier: MIT */
/*
 * vmem.h - a vhost-user guest's memory, as the frontend shares it.
 *
 * Theory of operation: a vhost-user frontend (QEMU) sends its guest RAM as up
 * to VMEM_MAX_REGIONS regions, each a file descriptor (a memfd) with the
 * region's guest physical address, its size, the address QEMU itself maps it
 * at (the "user address" that SET_VRING_ADDR speaks in) and the offset of the
 * region inside the file. arcnat maps each region once, read-write and
 * shared, and translates every address the guest or the frontend hands over
 * through this table. A translation succeeds only when the whole range
 * [addr, addr + len) lies inside one region: a range that crosses a region's
 * end, even into an adjacent region, or whose end overflows, is refused, so a
 * caller that got a pointer may touch exactly len bytes behind it.
 */
#ifndef ARCNAT_GUEST_VMEM_H
#define ARCNAT_GUEST_VMEM_H

#include <stddef.h>
#include <stdint.h>

/* VHOST_MEMORY_BASELINE_NREGIONS: the frontend never sends more. */
#define VMEM_MAX_REGIONS 8

/**
 * struct vmem_region - one mapped region.
 * @gpa:      guest physical address of its first byte
 * @size:     bytes
 * @uva:      the frontend's user address of its first byte
 * @host:     our address of its first byte (@map + the mmap offset)
 * @map:      what mmap() returned
 * @map_len:  bytes mapped (size + mmap offset)
 */
struct vmem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint8_t *host;
	void *map;
	size_t map_len;
};

/**
 * struct vmem - a guest memory table.
 * @n:      regions in use
 * @region: the regions, [0, n)
 */
struct vmem {
	unsigned int n;
	struct vmem_region region[VMEM_MAX_REGIONS];
};

/**
 * struct vmem_desc - one region as the frontend describes it.
 * @gpa:         guest physical address
 * @size:        bytes
 * @uva:         the frontend's user address
 * @mmap_offset: where the region starts in the file
 * @fd:          the file (borrowed: vmem_map() does not close it)
 */
struct vmem_desc {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	int fd;
};

/**
 * vmem_map() - map a memory table.
 * @m:    out, left empty on failure
 * @desc: the regions
 * @n:    how many, at most VMEM_MAX_REGIONS
 *
 * Nothing is applied partly: on failure every region mapped so far is
 * unmapped again. The file descriptors stay the caller's (a mapping outlives
 * its descriptor).
 *
 * A region must lie inside its file as it is now (a mapping beyond the end
 * would fault on access), and the file must be sealed against shrinking
 * (F_SEAL_SHRINK, as QEMU's memory-backend-memfd seals it by default): a
 * frontend that could shrink it afterwards could make an access fault, a
 * SIGBUS that would kill arcnat.
 *
 * Return: 0; -EINVAL a zero or overflowing size, overlapping guest ranges, too
 * many regions, a region beyond its file's end; -EPERM a file not sealed
 * against shrinking; -errno from fstat()/mmap().
 */
int vmem_map(struct vmem *m, const struct vmem_desc *desc, unsigned int n);

/**
 * vmem_unmap() - unmap every region and empty the table.
 * @m: the table (NULL is fine)
 */
void vmem_unmap(struct vmem *m);

/**
 * vmem_gpa() - translate a guest physical range.
 * @m:   the table
 * @gpa: start
 * @len: bytes; 0 asks only that @gpa lies inside a region
 *
 * Return: our pointer to @gpa, or NULL when [gpa, gpa + len) is not inside
 * exactly one region.
 */
void *vmem_gpa(const struct vmem *m, uint64_t gpa, uint64_t len);

/**
 * vmem_uva() - translate a range of the frontend's user addresses.
 * @m:   the table
 * @uva: start
 * @len: bytes; 0 asks only that @uva lies inside a region
 *
 * Return: our pointer to @uva, or NULL when the range is not inside one
 * region.
 */
void *vmem_uva(const struct vmem *m, uint64_t uva, uint64_t len);

#endif /* ARCNAT_GUEST_VMEM_H */
