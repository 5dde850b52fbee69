/* SPDX-License-Identifier: MIT */
/*
 * vhost_guest.h - a vhost-user frontend and its guest in one, for tests and
 * the test frontend (tests/tools/vhost_fe.c): connects to a vhost-user
 * socket, shares a memfd as guest memory, brings the device up as QEMU 7.2
 * does, and drives both virtqueues as a virtio-net driver would (transmit
 * frames, offer receive buffers, read what arrives).
 *
 * Layout of the guest memory (VG_MEM bytes, guest-physical 0 is the start
 * of the memfd; the frontend's "user address" is where this process maps
 * it): ring r's descriptor table at r * 64 KiB, its available ring 16 KiB
 * after, its used ring 32 KiB after; receive buffers (VG_RXBUF bytes each)
 * from 1 MiB, transmit buffers (VG_TXBUF each) from 2 MiB. Slot i of a
 * ring always uses descriptor i and buffer i.
 *
 * Functions are static: each program gets its own copy. They return 0 or
 * -1 and never abort, so that a tool can use them too.
 */
#ifndef ARCNAT_TESTS_VHOST_GUEST_H
#define ARCNAT_TESTS_VHOST_GUEST_H

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <time.h>

#include "guest/vring.h"
#include "vhost_frontend.h"

#define VG_NUM		256u
#define VG_MEM		(8u << 20)
#define VG_RXBUF	2048u
#define VG_TXBUF	4096u
#define VG_HDR		12u	/* virtio_net_hdr_v1 (VERSION_1) */

#define VG_F_VERSION_1	(1ull << 32)
#define VG_F_MRG_RXBUF	(1ull << 15)
#define VG_F_PROTOCOL	(1ull << 30)
#define VG_PF_REPLY_ACK	(1ull << 3)

struct vg {
	int sock;
	int memfd;
	uint8_t *mem;
	int kick[2], call[2];
	uint16_t avail[2];	/* next avail index we publish */
	uint16_t used[2];	/* used entries we have read */
};

static inline uint64_t vg_desc_off(unsigned int r)
{
	return (uint64_t)r * 0x10000;
}

static inline uint64_t vg_avail_off(unsigned int r)
{
	return vg_desc_off(r) + 0x4000;
}

static inline uint64_t vg_used_off(unsigned int r)
{
	return vg_desc_off(r) + 0x8000;
}

static inline uint64_t vg_buf_off(unsigned int r, unsigned int slot)
{
	return r == 0 ? 0x100000 + (uint64_t)slot * VG_RXBUF :
			0x200000 + (uint64_t)slot * VG_TXBUF;
}

static inline struct vring_desc_le *vg_desc(struct vg *g, unsigned int r)
{
	return (struct vring_desc_le *)(g->mem + vg_desc_off(r));
}

static inline struct vring_avail_le *vg_avail(struct vg *g, unsigned int r)
{
	return (struct vring_avail_le *)(g->mem + vg_avail_off(r));
}

static inline struct vring_used_le *vg_used(struct vg *g, unsigned int r)
{
	return (struct vring_used_le *)(g->mem + vg_used_off(r));
}

/* Send a message and, with need-reply, read its ack. Return: 0 or -1. */
static inline int vg_msg(struct vg *g, uint32_t req, const void *pl,
			 uint32_t size, const int *fds, unsigned int nfds)
{
	if (fe_send(g->sock, req, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY,
		    pl, size, fds, nfds))
		return -1;
	return fe_reply_u64(g->sock, req) == 0 ? 0 : -1;
}

static inline int vg_state(struct vg *g, uint32_t req, uint32_t idx,
			   uint32_t num)
{
	struct vhost_msg_state st = { idx, num };

	return vg_msg(g, req, &st, sizeof(st), NULL, 0);
}

/* Connect to @path. Return: 0 or -1. */
static inline int vg_connect(struct vg *g, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(g, 0, sizeof(*g));
	g->memfd = g->kick[0] = g->kick[1] = g->call[0] = g->call[1] = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	g->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->sock < 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		if (connect(g->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return -1;
}

/* The messages QEMU 7.2 sends, rings last. Return: 0 or -1. */
static inline int vg_up(struct vg *g)
{
	uint64_t f, pf = VG_PF_REPLY_ACK;
	struct vhost_msg_region reg = { 0 };
	uint8_t mem[8 + sizeof(reg)];
	uint32_t n = 1;

	if (fe_send(g->sock, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, NULL,
		    0, NULL, 0))
		return -1;
	f = fe_reply_u64(g->sock, VHOST_USER_GET_FEATURES);
	if (f == ~0ull || !(f & VG_F_PROTOCOL))
		return -1;
	if (fe_send(g->sock, VHOST_USER_SET_PROTOCOL_FEATURES,
		    VHOST_USER_VERSION, &pf, 8, NULL, 0))
		return -1;
	if (vg_msg(g, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0))
		return -1;
	f = VG_F_VERSION_1 | VG_F_MRG_RXBUF | VG_F_PROTOCOL;
	if (vg_msg(g, VHOST_USER_SET_FEATURES, &f, 8, NULL, 0))
		return -1;
	g->memfd = fe_memfd(VG_MEM, &g->mem);
	if (g->memfd < 0)
		return -1;
	reg.gpa = 0;
	reg.size = VG_MEM;
	reg.uva = (uint64_t)(uintptr_t)g->mem;
	reg.mmap_offset = 0;
	memcpy(mem, &n, 4);
	memset(mem + 4, 0, 4);
	memcpy(mem + 8, &reg, sizeof(reg));
	if (vg_msg(g, VHOST_USER_SET_MEM_TABLE, mem, sizeof(mem), &g->memfd, 1))
		return -1;
	for (unsigned int r = 0; r < 2; r++) {
		struct vhost_msg_addr a = {
			.index = r,
			.desc = (uint64_t)(uintptr_t)(g->mem + vg_desc_off(r)),
			.used = (uint64_t)(uintptr_t)(g->mem + vg_used_off(r)),
			.avail = (uint64_t)(uintptr_t)(g->mem + vg_avail_off(r)),
		};
		uint64_t u = r;

		g->kick[r] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		g->call[r] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (g->kick[r] < 0 || g->call[r] < 0 ||
		    vg_state(g, VHOST_USER_SET_VRING_NUM, r, VG_NUM) ||
		    vg_state(g, VHOST_USER_SET_VRING_BASE, r, 0) ||
		    vg_msg(g, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) ||
		    vg_msg(g, VHOST_USER_SET_VRING_CALL, &u, 8, &g->call[r], 1) ||
		    vg_msg(g, VHOST_USER_SET_VRING_KICK, &u, 8, &g->kick[r], 1) ||
		    vg_state(g, VHOST_USER_SET_VRING_ENABLE, r, 1))
			return -1;
	}
	return 0;
}

static inline void vg_kick(struct vg *g, unsigned int r)
{
	uint64_t one = 1;

	if (write(g->kick[r], &one, sizeof(one)) < 0)
		return;	/* a counter: cannot overflow in a test */
}

/* Publish descriptor @slot (already written) on ring @r. */
static inline void vg_publish(struct vg *g, unsigned int r, uint16_t slot)
{
	struct vring_avail_le *av = vg_avail(g, r);

	av->ring[g->avail[r] % VG_NUM] = slot;
	g->avail[r]++;
	/* Pairs with the device's acquire of avail->idx. */
	__atomic_store_n(&av->idx, g->avail[r], __ATOMIC_RELEASE);
}

/* Offer receive buffers in slots 0 .. @n - 1 (at most VG_NUM), and kick. */
static inline void vg_rx_offer(struct vg *g, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct vring_desc_le *d = &vg_desc(g, 0)[i];

		d->addr = vg_buf_off(0, i);
		d->len = VG_RXBUF;
		d->flags = VRING_DESC_F_WRITE;
		d->next = 0;
		vg_publish(g, 0, i);
	}
	vg_kick(g, 0);
}

/* Offer every receive buffer. */
static inline void vg_rx_fill(struct vg *g)
{
	vg_rx_offer(g, VG_NUM);
}

/* Transmit slots in flight (published, not yet used). */
static inline uint16_t vg_tx_inflight(struct vg *g)
{
	/* Pairs with the device's release of used->idx. */
	g->used[1] = __atomic_load_n(&vg_used(g, 1)->idx, __ATOMIC_ACQUIRE);
	return (uint16_t)(g->avail[1] - g->used[1]);
}

/*
 * Transmit @frame (without its virtio-net header: a zero one is written in
 * front). @kick: kick the device now (else the caller batches). Return: 0,
 * or -1 when every slot is in flight.
 */
static inline int vg_send(struct vg *g, const uint8_t *frame, size_t len,
			  bool kick)
{
	uint16_t slot = g->avail[1] % VG_NUM;
	struct vring_desc_le *d = &vg_desc(g, 1)[slot];

	if (len + VG_HDR > VG_TXBUF || vg_tx_inflight(g) >= VG_NUM)
		return -1;
	memset(g->mem + vg_buf_off(1, slot), 0, VG_HDR);
	memcpy(g->mem + vg_buf_off(1, slot) + VG_HDR, frame, len);
	d->addr = vg_buf_off(1, slot);
	d->len = (uint32_t)(VG_HDR + len);
	d->flags = 0;
	d->next = 0;
	vg_publish(g, 1, slot);
	if (kick)
		vg_kick(g, 1);
	return 0;
}

/*
 * The next frame the device gave the guest, within @ms milliseconds; its
 * buffer is offered again. Return: its length (header stripped), or -1.
 */
static inline int vg_recv(struct vg *g, uint8_t *out, size_t cap, int ms)
{
	struct vring_used_le *u = vg_used(g, 0);

	for (int t = 0; t <= ms; t++) {
		/* Pairs with the device's release of used->idx. */
		uint16_t idx = __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);

		if (idx != g->used[0]) {
			struct vring_used_elem_le e = u->ring[g->used[0] % VG_NUM];
			uint32_t len = e.len;
			int n;

			g->used[0]++;
			if (e.id >= VG_NUM || len < VG_HDR || len > VG_RXBUF)
				return -1;
			n = (int)(len - VG_HDR);
			if ((size_t)n > cap)
				n = (int)cap;
			memcpy(out, g->mem + vg_buf_off(0, e.id) + VG_HDR,
			       (size_t)n);
			vg_publish(g, 0, (uint16_t)e.id);
			vg_kick(g, 0);
			return n;
		}
		if (t < ms)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return -1;
}

/* Is the connection closed by the device (EOF within @ms)? */
static inline bool vg_closed(struct vg *g, int ms)
{
	struct pollfd p = { .fd = g->sock, .events = POLLIN };
	uint8_t b[64];

	while (poll(&p, 1, ms) == 1) {
		ssize_t r = recv(g->sock, b, sizeof(b), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN))
			return true;
		if (r < 0)
			return false;
	}
	return false;
}

static inline void vg_close(struct vg *g)
{
	if (g->sock >= 0)
		close(g->sock);
	for (unsigned int r = 0; r < 2; r++) {
		if (g->kick[r] >= 0)
			close(g->kick[r]);
		if (g->call[r] >= 0)
			close(g->call[r]);
	}
	if (g->mem)
		munmap(g->mem, VG_MEM);
	if (g->memfd >= 0)
		close(g->memfd);
	memset(g, 0, sizeof(*g));
	g->sock = g->memfd = -1;
	g->kick[0] = g->kick[1] = g->call[0] = g->call[1] = -1;
}

#endif /* ARCNAT_TESTS_VHOST_GUEST_H */
