// SPDX-License-Identifier: MIT
/*
 * fuzz_vhost_msg.c - libFuzzer harness for the vhost-user message parser
 * (src/guest/vhost_msg) and the device state it drives (src/guest/vhost_dev).
 *
 * Input: records, at most MAX_RECORDS, each
 *   ctl   bits 0-3: descriptors that "arrived" with the message (0-15, each a
 *         fresh 64 KiB memfd, so a memory table can really be mapped);
 *         bit 4: parse only, do not apply; bit 5: the descriptors are
 *         non-blocking eventfds instead (what a ring's kick and call are)
 *   len   2 bytes little-endian, clamped to what is left
 *   bytes the message as received (header and payload)
 * One vhost_dev lives through all records of an input, as one connection.
 *
 * Checks: a refused message has closed every descriptor that came with it;
 * an applied one leaves the message owning none; a reply is a well-formed
 * reply header with an 8-byte payload; every descriptor the device keeps is
 * open; started rings lie inside the memory table; and at the end, after
 * vhost_dev_destroy(), no descriptor has leaked (the lowest free descriptor
 * is the one free at the start). FUZZ_VHOST_TRACE=1 prints the device's
 * counters at the end of each input.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest/vhost_dev.h"
#include "guest/vhost_msg.h"

#define MAX_RECORDS 48
#define MEMFD_SIZE  65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_vhost_msg: %s\n", what);
	abort();
}

static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/null");
	close(fd);
	return fd;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int make_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die("eventfd");
	return fd;
}

static int make_memfd(void)
{
	int fd = memfd_create("fuzz-vhost", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	/* Sealed against shrinking, as QEMU's are (vmem refuses others). */
	if (fd < 0 || ftruncate(fd, MEMFD_SIZE) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		die("memfd");
	return fd;
}

static void check_dev(const struct vhost_dev *d)
{
	unsigned int i;

	for (i = 0; i < VHOST_DEV_NRINGS; i++) {
		const struct vhost_dev_ring *r = &d->ring[i];

		if ((r->kick_fd >= 0 && !fd_open(r->kick_fd)) ||
		    (r->call_fd >= 0 && !fd_open(r->call_fd)) ||
		    (r->err_fd >= 0 && !fd_open(r->err_fd)))
			die("device holds a closed descriptor");
		if (r->started &&
		    (!vmem_uva(&d->mem, r->desc, 16ull * r->num) ||
		     !vmem_uva(&d->mem, r->used, 6ull + 8ull * r->num) ||
		     !vmem_uva(&d->mem, r->avail, 6ull + 2ull * r->num)))
			die("started ring outside memory");
	}
	if (d->mem.n > VMEM_MAX_REGIONS)
		die("memory table overflow");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t reply[VHOST_MSG_MAX_SIZE];
	struct vhost_dev dev;
	size_t off = 0;
	unsigned int rec;
	int base = lowest_free_fd();

	vhost_dev_init(&dev);
	for (rec = 0; rec < MAX_RECORDS && off + 3 <= size; rec++) {
		int fds[16], copy[16];
		unsigned int nfds = data[off] & 15, i;
		bool apply = !(data[off] & 16);
		bool events = data[off] & 32;
		size_t len = data[off + 1] | (size_t)data[off + 2] << 8;
		struct vhost_msg m;
		enum vhost_err e;

		off += 3;
		if (len > size - off)
			len = size - off;
		for (i = 0; i < nfds; i++)
			fds[i] = copy[i] = events ? make_eventfd() : make_memfd();
		e = vhost_msg_parse(&m, data + off, len, fds, nfds);
		off += len;
		if (e) {
			for (i = 0; i < nfds; i++) {
				if (fd_open(copy[i]))
					die("refused message leaked an fd");
			}
			if (m.nfds)
				die("refused message owns fds");
			continue;
		}
		if (m.nfds != nfds)
			die("accepted message lost fds");
		if (!apply) {
			vhost_msg_close_fds(&m);
			continue;
		}
		{
			size_t rlen;

			(void)vhost_dev_handle(&dev, &m, reply, &rlen);
			if (m.nfds)
				die("handled message still owns fds");
			if (rlen) {
				uint32_t h[3];

				memcpy(h, reply, sizeof(h));
				if (rlen != VHOST_MSG_HDR_SIZE + 8 ||
				    le32toh(h[0]) != m.request ||
				    le32toh(h[1]) != (VHOST_USER_VERSION |
						      VHOST_USER_REPLY) ||
				    le32toh(h[2]) != 8)
					die("malformed reply");
			}
		}
		check_dev(&dev);
	}
	if (getenv("FUZZ_VHOST_TRACE")) {
		fprintf(stderr, "handled %llu, started %d %d, regions %u\n",
			(unsigned long long)dev.handled, dev.ring[0].started,
			dev.ring[1].started, dev.mem.n);
		for (rec = 1; rec < VHOST_ERR__MAX; rec++) {
			if (dev.errors[rec])
				fprintf(stderr, "  %s %llu\n",
					vhost_err_name((enum vhost_err)rec),
					(unsigned long long)dev.errors[rec]);
		}
	}
	vhost_dev_destroy(&dev);
	if (lowest_free_fd() != base)
		die("descriptor leak");
	return 0;
}
