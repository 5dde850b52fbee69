// SPDX-License-Identifier: MIT
/*
 * vring.c - split virtqueue access over hostile guest memory: the chain
 * walker, the used ring, and the virtio-net transmit gather and receive
 * scatter.
 */
#include "guest/vring.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

static const char *const drop_names[] = {
#define VRING_DROP_NAME(sym, name, desc) [VRING_DROP_##sym] = (name),
	VRING_DROP_LIST(VRING_DROP_NAME)
#undef VRING_DROP_NAME
};

const char *vring_drop_name(enum vring_drop r)
{
	if ((unsigned int)r >= VRING_DROP__MAX)
		return "invalid";
	return drop_names[r];
}

int vring_layout_check(uint32_t num, uint64_t desc, uint64_t avail,
		       uint64_t used)
{
	if (num == 0 || num > VRING_MAX_NUM || (num & (num - 1)))
		return -EINVAL;
	/* virtio 1.x 2.7: descriptor table 16, available 2, used 4. */
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	return 0;
}

void vring_setup(struct vring *vr, const struct vmem *mem, uint32_t num,
		 void *desc, void *avail, void *used, uint16_t last_avail)
{
	memset(vr, 0, sizeof(*vr));
	vr->mem = mem;
	vr->num = num;
	vr->desc = desc;
	vr->avail = avail;
	vr->used = used;
	vr->last_avail = last_avail;
	/*
	 * The used index continues from where the guest's view of it is: on a
	 * fresh ring both are the base the frontend set.
	 */
	vr->used_idx = le16toh(__atomic_load_n(&vr->used->idx,
					       __ATOMIC_RELAXED));
	vr->hdr_len = 12;
}

/*
 * Read a descriptor once. The guest may rewrite it concurrently; the
 * compiler barrier keeps the compiler from reading guest memory again
 * instead of the local copy, so the values checked are the values used.
 * memcpy() because an indirect table need not be 8-byte aligned.
 */
static void desc_read(const struct vring_desc_le *src, struct vring_desc_le *d)
{
	memcpy(d, src, sizeof(*d));
	__asm__ volatile("" ::: "memory");
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static enum vring_drop walk(const struct vring *vr, uint16_t head,
			    struct vring_chain *c)
{
	const struct vring_desc_le *table = vr->desc;
	uint32_t tnum = vr->num;
	uint32_t steps = 0;
	uint64_t total = 0;
	uint16_t idx = head;
	bool in_indirect = false;
	bool seen_write = false;

	c->head = head;
	c->nseg = 0;
	c->nread = 0;
	c->rlen = 0;
	c->wlen = 0;
	if (head >= vr->num)
		return VRING_DROP_HEAD_RANGE;
	for (;;) {
		struct vring_desc_le d;

		/* Each table is walked at most once per entry: a loop ends here. */
		if (steps++ >= tnum)
			return VRING_DROP_CHAIN_LOOP;
		desc_read(&table[idx], &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (in_indirect)
				return VRING_DROP_INDIRECT_NESTED;
			/* Not negotiated, chained on, or a bad size. */
			if (!vr->indirect || (d.flags & VRING_DESC_F_NEXT) ||
			    d.len == 0 || d.len % sizeof(d) ||
			    d.len / sizeof(d) > vr->num)
				return VRING_DROP_INDIRECT_BAD;
			table = vmem_gpa(vr->mem, d.addr, d.len);
			if (!table)
				return VRING_DROP_INDIRECT_BAD;
			tnum = d.len / (uint32_t)sizeof(d);
			idx = 0;
			steps = 0;
			in_indirect = true;
			continue;
		}
		if (d.flags & VRING_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return VRING_DROP_ORDER;
		if (d.len) {
			void *p = vmem_gpa(vr->mem, d.addr, d.len);

			if (!p)
				return VRING_DROP_BUF_ADDR;
			total += d.len;
			if (total > VRING_MAX_CHAIN_BYTES)
				return VRING_DROP_CHAIN_LEN;
			if (c->nseg == VRING_MAX_SEGS)
				return VRING_DROP_TOO_MANY_SEGS;
			c->seg[c->nseg].p = p;
			c->seg[c->nseg].len = d.len;
			c->nseg++;
			if (seen_write) {
				c->wlen += d.len;
			} else {
				c->nread++;
				c->rlen += d.len;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VRING_DROP_OK;
		idx = d.next;
		if (idx >= tnum)
			return VRING_DROP_NEXT_RANGE;
	}
}

/* Write a used element without publishing it (used_publish()). */
static void used_put(struct vring *vr, uint16_t head, uint32_t len)
{
	struct vring_used_elem_le *e =
		&vr->used->ring[vr->used_idx & (vr->num - 1)];

	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	vr->used_idx++;
}

static void used_publish(struct vring *vr)
{
	/*
	 * Release: the buffers' contents and the used elements are visible
	 * before the index that hands them over. Pairs with the driver's read
	 * barrier after it reads used->idx (virtio_rmb() in Linux's
	 * virtqueue_get_buf()).
	 */
	__atomic_store_n(&vr->used->idx, htole16(vr->used_idx),
			 __ATOMIC_RELEASE);
}

void vring_push(struct vring *vr, uint16_t head, uint32_t len)
{
	used_put(vr, head, len);
	used_publish(vr);
}

void vring_unpop(struct vring *vr, uint16_t n)
{
	vr->last_avail = (uint16_t)(vr->last_avail - n);
}

bool vring_need_call(const struct vring *vr)
{
	uint16_t flags;

	if (vr->num == 0)
		return false;
	/*
	 * Full fence: our used->idx store must be visible before we read the
	 * guest's flag, or a guest that just re-enabled interrupts and then
	 * re-checked used->idx could miss both. Pairs with the driver's full
	 * barrier between clearing VRING_AVAIL_F_NO_INTERRUPT and re-reading
	 * used->idx (virtio_mb() in Linux's virtqueue_enable_cb_prepare()).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = le16toh(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED));
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Count a bad chain; break the ring past the threshold. */
static void count_bad(struct vring *vr, enum vring_drop why)
{
	vr->drops[why]++;
	if (++vr->bad >= VRING_BROKEN_AFTER)
		vr->broken = true;
}

/*
 * Take the next available head and walk it. Return: 0 with *why set
 * (VRING_DROP_OK or the defect, the entry consumed either way), -EAGAIN,
 * -EPIPE.
 */
static int pop_raw(struct vring *vr, struct vring_chain *c,
		   enum vring_drop *why)
{
	uint16_t avail_idx, pending, head;

	if (vr->broken || vr->num == 0)
		return -EPIPE;
	/*
	 * Acquire: the ring entry and the descriptors it names are read after
	 * the index that published them. Pairs with the driver's write
	 * barrier before it stores avail->idx (virtio_wmb() in Linux's
	 * virtqueue_add_split()).
	 */
	avail_idx = le16toh(__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE));
	pending = (uint16_t)(avail_idx - vr->last_avail);
	if (pending == 0)
		return -EAGAIN;
	if (pending > vr->num) {
		/* No honest driver gets more than num ahead: stop trusting it. */
		vr->drops[VRING_DROP_AVAIL_IDX]++;
		vr->broken = true;
		return -EPIPE;
	}
	head = le16toh(__atomic_load_n(
		&vr->avail->ring[vr->last_avail & (vr->num - 1)],
		__ATOMIC_RELAXED));
	vr->last_avail++;
	*why = walk(vr, head, c);
	return 0;
}

int vring_pop(struct vring *vr, struct vring_chain *c)
{
	enum vring_drop why;
	int rc = pop_raw(vr, c, &why);

	if (rc)
		return rc;
	if (why == VRING_DROP_OK)
		return 0;
	count_bad(vr, why);
	if (c->head < vr->num)
		vring_push(vr, c->head, 0);
	return -EBADMSG;
}

/* Copy n readable bytes of the chain, from byte off of its readable part. */
static void chain_read(const struct vring_chain *c, uint32_t off, uint8_t *dst,
		       uint32_t n)
{
	uint16_t i;

	for (i = 0; i < c->nread && n; i++) {
		const struct vring_seg *s = &c->seg[i];
		uint32_t k;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off < n ? s->len - off : n;
		memcpy(dst, s->p + off, k);
		dst += k;
		n -= k;
		off = 0;
	}
}

/* Copy n bytes into the chain's writable part, from its byte off. */
static void chain_write(const struct vring_chain *c, uint32_t off,
			const uint8_t *src, uint32_t n)
{
	uint16_t i;

	for (i = c->nread; i < c->nseg && n; i++) {
		const struct vring_seg *s = &c->seg[i];
		uint32_t k;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off < n ? s->len - off : n;
		memcpy(s->p + off, src, k);
		src += k;
		n -= k;
		off = 0;
	}
}

int vring_net_tx(struct vring *vr, struct pkt_vnet *vnet, uint8_t *buf,
		 size_t cap, size_t *len)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct vring_chain c;
	int rc;

	rc = vring_pop(vr, &c);
	if (rc)
		return rc;
	if (c.nread != c.nseg) {
		count_bad(vr, VRING_DROP_TX_WRITABLE);
		rc = -EBADMSG;
	} else if (c.rlen < vr->hdr_len) {
		count_bad(vr, VRING_DROP_TX_SHORT);
		rc = -EBADMSG;
	} else if (c.rlen - vr->hdr_len > cap) {
		/* Too big for us, not a defect of the guest's. */
		vr->drops[VRING_DROP_TX_BIG]++;
		rc = -EBADMSG;
	}
	if (!rc) {
		uint32_t flen;

		memset(&hdr, 0, sizeof(hdr));
		chain_read(&c, 0, (uint8_t *)&hdr, vr->hdr_len);
		flen = c.rlen - vr->hdr_len;
		chain_read(&c, vr->hdr_len, buf, flen);
		pkt_vnet_from_wire(vnet, &hdr.hdr);
		*len = flen;
	}
	vring_push(vr, c.head, 0);
	return rc;
}

/* Hand back every chain of a refused receive, empty, and publish. */
static void rx_abort(struct vring *vr, uint16_t used_start, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct vring_used_elem_le *e =
			&vr->used->ring[(uint16_t)(used_start + i) &
					(vr->num - 1)];

		__atomic_store_n(&e->len, 0, __ATOMIC_RELAXED);
	}
	used_publish(vr);
}

int vring_net_rx(struct vring *vr, const struct pkt_vnet *vnet,
		 const uint8_t *frame, size_t len)
{
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct vring_chain first, c;
	const uint16_t used_start = vr->used_idx;
	uint64_t need = (uint64_t)vr->hdr_len + len;
	uint32_t off = 0;	/* frame bytes placed */
	uint16_t nbuf = 0;
	enum vring_drop why;

	if (vr->broken || vr->num == 0)
		return -EPIPE;
	if (need > VRING_MAX_CHAIN_BYTES)
		return -EMSGSIZE;
	while (nbuf == 0 || off < len) {
		struct vring_chain *cur = nbuf == 0 ? &first : &c;
		uint32_t skip = nbuf == 0 ? vr->hdr_len : 0;
		uint32_t room, k;
		int rc;

		if (nbuf == vr->num) {
			/* The whole ring could not hold it: never will. */
			vring_unpop(vr, nbuf);
			vr->used_idx = used_start;
			vr->drops[VRING_DROP_RX_SHORT]++;
			return -EMSGSIZE;
		}
		rc = pop_raw(vr, cur, &why);
		if (rc == -EAGAIN) {
			/* Not enough buffers: give back what we took. */
			vring_unpop(vr, nbuf);
			vr->used_idx = used_start;
			return -ENOBUFS;
		}
		if (rc)
			return rc;	/* broken: nothing was published */
		if (why == VRING_DROP_OK && cur->nread)
			why = VRING_DROP_RX_READABLE;
		if (why == VRING_DROP_OK && cur->wlen <= skip &&
		    (vr->mrg_rxbuf || len))
			why = VRING_DROP_RX_SHORT;
		if (why != VRING_DROP_OK) {
			count_bad(vr, why);
			if (cur->head < vr->num)
				used_put(vr, cur->head, 0);
			rx_abort(vr, used_start, (uint16_t)(vr->used_idx -
							    used_start));
			return -EBADMSG;
		}
		if (!vr->mrg_rxbuf && cur->wlen < need) {
			/* This guest's buffers are too small for this frame. */
			vring_unpop(vr, 1);
			vr->drops[VRING_DROP_RX_SHORT]++;
			return -EMSGSIZE;
		}
		room = cur->wlen - skip;
		k = room < len - off ? room : (uint32_t)(len - off);
		chain_write(cur, skip, frame + off, k);
		off += k;
		used_put(vr, cur->head, skip + k);
		nbuf++;
	}
	memset(&hdr, 0, sizeof(hdr));
	pkt_vnet_to_wire(&hdr.hdr, vnet);
	hdr.num_buffers = htole16(nbuf);
	chain_write(&first, 0, (const uint8_t *)&hdr, vr->hdr_len);
	used_publish(vr);
	return 0;
}
