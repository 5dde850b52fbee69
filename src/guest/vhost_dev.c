// SPDX-License-Identifier: MIT
/*
 * vhost_dev.c - applying vhost-user messages to a vhost-user-net device.
 */
#include "guest/vhost_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

static void ring_init(struct vhost_dev_ring *r)
{
	memset(r, 0, sizeof(*r));
	r->kick_fd = -1;
	r->call_fd = -1;
	r->err_fd = -1;
}

void vhost_dev_init(struct vhost_dev *d)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < VHOST_DEV_NRINGS; i++)
		ring_init(&d->ring[i]);
}

static void ring_destroy(struct vhost_dev_ring *r)
{
	close_fd(&r->kick_fd);
	close_fd(&r->call_fd);
	close_fd(&r->err_fd);
	ring_init(r);
}

void vhost_dev_destroy(struct vhost_dev *d)
{
	unsigned int i;

	if (!d)
		return;
	for (i = 0; i < VHOST_DEV_NRINGS; i++)
		ring_destroy(&d->ring[i]);
	vmem_unmap(&d->mem);
	d->features = 0;
	d->owner = false;
}

bool vhost_dev_ring_ready(const struct vhost_dev *d, unsigned int idx)
{
	const struct vhost_dev_ring *r;

	if (idx >= VHOST_DEV_NRINGS)
		return false;
	r = &d->ring[idx];
	if (!r->started || r->vr.broken)
		return false;
	/* Without protocol features a started ring is enabled (vhost-user.rst). */
	return r->enabled || !(d->features & VHOST_F_PROTOCOL_FEATURES);
}

/* The three areas of a ring of r->num entries, translated through mem. */
static int ring_translate(const struct vhost_dev_ring *r, const struct vmem *mem,
			  void **desc, void **avail, void **used)
{
	*desc = vmem_uva(mem, r->desc, 16ull * r->num);
	/* flags, idx, ring[num], used_event */
	*avail = vmem_uva(mem, r->avail, 6ull + 2ull * r->num);
	/* flags, idx, ring[num] of 8 bytes, avail_event */
	*used = vmem_uva(mem, r->used, 6ull + 8ull * r->num);
	if (!*desc || !*avail || !*used)
		return -EFAULT;
	/*
	 * Aligned frontend addresses are not enough: a region whose mmap
	 * offset is not aligned like its user address shifts them here, and
	 * the rings are accessed with atomics of their natural size.
	 */
	if (((uintptr_t)*desc & 15) || ((uintptr_t)*avail & 1) ||
	    ((uintptr_t)*used & 3))
		return -EFAULT;
	return 0;
}

static void ring_start(struct vhost_dev *d, struct vhost_dev_ring *r,
		       void *desc, void *avail, void *used)
{
	struct vring *vr = &r->vr;

	vring_setup(vr, &d->mem, r->num, desc, avail, used, r->base);
	vr->indirect = !!(d->features & VHOST_F_RING_INDIRECT_DESC);
	vr->mrg_rxbuf = !!(d->features & VHOST_F_NET_MRG_RXBUF);
	vr->hdr_len = (d->features &
		       (VHOST_F_VERSION_1 | VHOST_F_NET_MRG_RXBUF)) ? 12 : 10;
	r->started = true;
}

/* Stop a ring: its position becomes the base a restart continues from. */
static void ring_stop(struct vhost_dev_ring *r)
{
	if (r->started)
		r->base = r->vr.last_avail;
	r->started = false;
	close_fd(&r->kick_fd);
}

static enum vhost_err set_mem_table(struct vhost_dev *d, struct vhost_msg *m)
{
	struct vmem_desc desc[VMEM_MAX_REGIONS];
	void *ptr[VHOST_DEV_NRINGS][3] = { { NULL } };
	struct vmem fresh;
	unsigned int i;

	if (m->mem.nregions == 0)
		return VHOST_ERR_BAD_MEM;
	for (i = 0; i < m->mem.nregions; i++) {
		desc[i].gpa = m->mem.region[i].gpa;
		desc[i].size = m->mem.region[i].size;
		desc[i].uva = m->mem.region[i].uva;
		desc[i].mmap_offset = m->mem.region[i].mmap_offset;
		desc[i].fd = m->fds[i];
	}
	if (vmem_map(&fresh, desc, m->mem.nregions))
		return VHOST_ERR_BAD_MEM;
	/* Rings already placed must still be inside the new table. */
	for (i = 0; i < VHOST_DEV_NRINGS; i++) {
		const struct vhost_dev_ring *r = &d->ring[i];

		if (r->has_addr && ring_translate(r, &fresh, &ptr[i][0],
						  &ptr[i][1], &ptr[i][2])) {
			vmem_unmap(&fresh);
			return VHOST_ERR_BAD_ADDR;
		}
	}
	vmem_unmap(&d->mem);
	d->mem = fresh;
	for (i = 0; i < VHOST_DEV_NRINGS; i++) {
		struct vhost_dev_ring *r = &d->ring[i];

		/* A started ring has its addresses (a kick needs them). */
		if (r->started && r->has_addr) {
			r->vr.desc = ptr[i][0];
			r->vr.avail = ptr[i][1];
			r->vr.used = ptr[i][2];
		}
	}
	/* The mappings outlive the descriptors. */
	vhost_msg_close_fds(m);
	return VHOST_ERR_NONE;
}

static enum vhost_err set_vring_addr(struct vhost_dev *d,
				     const struct vhost_msg *m)
{
	struct vhost_dev_ring *r = &d->ring[m->addr.index];
	struct vhost_dev_ring probe;
	void *desc, *avail, *used;

	if (r->started || r->num == 0)
		return VHOST_ERR_BAD_STATE;
	/* Bit 0 asks for dirty logging, which is not offered. */
	if (m->addr.flags)
		return VHOST_ERR_BAD_ADDR;
	if (vring_layout_check(r->num, m->addr.desc, m->addr.avail,
			       m->addr.used))
		return VHOST_ERR_BAD_ADDR;
	probe = *r;
	probe.desc = m->addr.desc;
	probe.avail = m->addr.avail;
	probe.used = m->addr.used;
	if (ring_translate(&probe, &d->mem, &desc, &avail, &used))
		return VHOST_ERR_BAD_ADDR;
	r->desc = m->addr.desc;
	r->avail = m->addr.avail;
	r->used = m->addr.used;
	r->has_addr = true;
	return VHOST_ERR_NONE;
}

/*
 * A kick, call or error descriptor must be a non-blocking eventfd (an
 * anonymous inode: no file type bits), as QEMU's are: the worker reads and
 * writes it, and a pipe, a socket or a blocking eventfd whose counter the
 * frontend filled would block the worker, and every guest with it.
 */
static bool ring_fd_ok(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) || (st.st_mode & S_IFMT))
		return false;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

static enum vhost_err set_vring_fd(struct vhost_dev *d, struct vhost_msg *m)
{
	struct vhost_dev_ring *r;
	void *desc, *avail, *used;
	int fd;

	if (m->u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK |
				  VHOST_USER_VRING_NOFD))
		return VHOST_ERR_BAD_RING;
	if ((m->u64 & VHOST_USER_VRING_IDX_MASK) >= VHOST_DEV_NRINGS)
		return VHOST_ERR_BAD_RING;
	r = &d->ring[m->u64 & VHOST_USER_VRING_IDX_MASK];
	if (m->nfds && !ring_fd_ok(m->fds[0]))
		return VHOST_ERR_BAD_FD;
	if (m->request == VHOST_USER_SET_VRING_KICK) {
		/* A kick starts the ring: everything must be in place. */
		if (!r->has_addr || r->num == 0)
			return VHOST_ERR_BAD_STATE;
		if (ring_translate(r, &d->mem, &desc, &avail, &used))
			return VHOST_ERR_BAD_ADDR;
		fd = vhost_msg_take_fd(m);
		close_fd(&r->kick_fd);
		r->kick_fd = fd;
		ring_start(d, r, desc, avail, used);
		return VHOST_ERR_NONE;
	}
	fd = vhost_msg_take_fd(m);
	if (m->request == VHOST_USER_SET_VRING_CALL) {
		close_fd(&r->call_fd);
		r->call_fd = fd;
	} else {
		close_fd(&r->err_fd);
		r->err_fd = fd;
	}
	return VHOST_ERR_NONE;
}

/*
 * RESET_OWNER: forget rings, memory and features. The owner, the protocol
 * features and the counters stay: the connection is the same, and QEMU does
 * not negotiate protocol features again (libvhost-user behaves alike).
 */
static void reset(struct vhost_dev *d)
{
	uint64_t handled = d->handled;
	uint64_t pf = d->protocol_features;
	uint64_t errors[VHOST_ERR__MAX];

	memcpy(errors, d->errors, sizeof(errors));
	vhost_dev_destroy(d);
	vhost_dev_init(d);
	d->owner = true;
	d->protocol_features = pf;
	d->handled = handled;
	memcpy(d->errors, errors, sizeof(errors));
}

/* Does this request name a ring in its state/address payload? */
static bool ring_state_req(uint32_t req)
{
	return req == VHOST_USER_SET_VRING_NUM ||
	       req == VHOST_USER_SET_VRING_BASE ||
	       req == VHOST_USER_GET_VRING_BASE ||
	       req == VHOST_USER_SET_VRING_ENABLE;
}

/* Apply m; a GET's reply goes to reply. Return VHOST_ERR_NONE or why not. */
static enum vhost_err apply(struct vhost_dev *d, struct vhost_msg *m,
			    uint8_t *reply, size_t *reply_len)
{
	struct vhost_dev_ring *r = NULL;

	if (ring_state_req(m->request)) {
		if (m->state.index >= VHOST_DEV_NRINGS)
			return VHOST_ERR_BAD_RING;
		r = &d->ring[m->state.index];
	}
	if (m->request == VHOST_USER_SET_VRING_ADDR &&
	    m->addr.index >= VHOST_DEV_NRINGS)
		return VHOST_ERR_BAD_RING;
	/* QEMU sets the owner before it touches memory or rings. */
	if (!d->owner && (m->request == VHOST_USER_SET_MEM_TABLE || r ||
			  (m->request >= VHOST_USER_SET_VRING_ADDR &&
			   m->request <= VHOST_USER_SET_VRING_ERR)))
		return VHOST_ERR_BAD_STATE;

	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
		*reply_len = vhost_msg_build_u64(reply, m->request,
						 VHOST_DEV_FEATURES);
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_FEATURES:
		if (m->u64 & ~VHOST_DEV_FEATURES)
			return VHOST_ERR_BAD_FEATURES;
		/* Rings take the header layout when they start. */
		if (d->ring[0].started || d->ring[1].started)
			return VHOST_ERR_BAD_STATE;
		d->features = m->u64;
		return VHOST_ERR_NONE;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		*reply_len = vhost_msg_build_u64(reply, m->request,
						 VHOST_DEV_PROTOCOL_FEATURES);
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (m->u64 & ~VHOST_DEV_PROTOCOL_FEATURES)
			return VHOST_ERR_BAD_FEATURES;
		d->protocol_features = m->u64;
		return VHOST_ERR_NONE;
	case VHOST_USER_GET_QUEUE_NUM:
		/* One queue pair: what MQ lets the frontend ask. */
		*reply_len = vhost_msg_build_u64(reply, m->request, 1);
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_OWNER:
		d->owner = true;
		return VHOST_ERR_NONE;
	case VHOST_USER_RESET_OWNER:
		reset(d);
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(d, m);
	case VHOST_USER_SET_VRING_NUM:
		if (r->started)
			return VHOST_ERR_BAD_STATE;
		if (m->state.num == 0 || m->state.num > VRING_MAX_NUM ||
		    (m->state.num & (m->state.num - 1)))
			return VHOST_ERR_BAD_NUM;
		r->num = m->state.num;
		/* Addresses were checked for the old size. */
		r->has_addr = false;
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_VRING_ADDR:
		return set_vring_addr(d, m);
	case VHOST_USER_SET_VRING_BASE:
		if (r->started)
			return VHOST_ERR_BAD_STATE;
		if (m->state.num > UINT16_MAX)
			return VHOST_ERR_BAD_NUM;
		r->base = (uint16_t)m->state.num;
		return VHOST_ERR_NONE;
	case VHOST_USER_GET_VRING_BASE:
		ring_stop(r);
		*reply_len = vhost_msg_build_state(reply, m->request,
						   m->state.index, r->base);
		return VHOST_ERR_NONE;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return set_vring_fd(d, m);
	case VHOST_USER_SET_VRING_ENABLE:
		/*
		 * Accepted before SET_FEATURES too: QEMU sends it as soon as
		 * GET_FEATURES offered VHOST_USER_F_PROTOCOL_FEATURES (its
		 * virtio-net attaches queues when the guest driver sets its
		 * features, before the vhost device starts).
		 */
		if (m->state.num > 1)
			return VHOST_ERR_BAD_NUM;
		r->enabled = m->state.num == 1;
		return VHOST_ERR_NONE;
	default:
		/* Dirty logging, RARP, MTU: parsed, but never offered. */
		return VHOST_ERR_UNKNOWN_REQ;
	}
}

static bool replies_itself(uint32_t req)
{
	return req == VHOST_USER_GET_FEATURES ||
	       req == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       req == VHOST_USER_GET_QUEUE_NUM ||
	       req == VHOST_USER_GET_VRING_BASE;
}

void vhost_dev_refused(struct vhost_dev *d, enum vhost_err e)
{
	if ((unsigned int)e < VHOST_ERR__MAX)
		d->errors[e]++;
}

int vhost_dev_handle(struct vhost_dev *d, struct vhost_msg *m, uint8_t *reply,
		     size_t *reply_len)
{
	enum vhost_err e;

	*reply_len = 0;
	e = apply(d, m, reply, reply_len);
	/* What the handler did not take is not needed: never leak it. */
	vhost_msg_close_fds(m);
	if (e)
		vhost_dev_refused(d, e);
	else
		d->handled++;
	if ((m->flags & VHOST_USER_NEED_REPLY) &&
	    (d->protocol_features & VHOST_PF_REPLY_ACK) &&
	    !replies_itself(m->request))
		*reply_len = vhost_msg_build_u64(reply, m->request, e ? 1 : 0);
	switch (e) {
	case VHOST_ERR_NONE:
		return 0;
	case VHOST_ERR_UNKNOWN_REQ:
		return -ENOTSUP;
	case VHOST_ERR_BAD_STATE:
		return -EBUSY;
	case VHOST_ERR_BAD_ADDR:
		return -EFAULT;
	default:
		return -EINVAL;
	}
}

int vhost_dev_serve(struct vhost_dev *d, int sock)
{
	uint8_t buf[VHOST_MSG_MAX_SIZE];
	uint8_t reply[VHOST_MSG_MAX_SIZE];
	int fds[VHOST_MSG_MAX_FDS];
	struct vhost_msg m;
	unsigned int nfds;
	size_t len, rlen;
	enum vhost_err e;
	int rc;

	rc = vhost_msg_recv(sock, buf, &len, fds, &nfds);
	if (rc) {
		if (rc != -EPIPE)
			vhost_dev_refused(d, VHOST_ERR_IO);
		return rc;
	}
	e = vhost_msg_parse(&m, buf, len, fds, nfds);
	if (e) {
		vhost_dev_refused(d, e);
		return -EINVAL;
	}
	rc = vhost_dev_handle(d, &m, reply, &rlen);
	if (rlen) {
		ssize_t w = send(sock, reply, rlen, MSG_NOSIGNAL);

		if (w != (ssize_t)rlen) {
			vhost_dev_refused(d, VHOST_ERR_IO);
			return w < 0 ? -errno : -EPROTO;
		}
	}
	return rc;
}
