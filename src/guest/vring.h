/* SPDX-License-Identifier: MIT */
/*
 * vring.h - a split virtqueue (virtio 1.x) in a hostile guest's memory.
 *
 * Theory of operation: the guest (the driver) owns three areas of its memory:
 * the descriptor table (num entries of address, length, flags, next), the
 * available ring (the heads of chains it offers, with a free-running u16
 * index) and the used ring (the heads arcnat (the device) hands back, with
 * the bytes written). The guest can rewrite any of it at any time, so every
 * value is read once into a local copy and checked before use: a head or a
 * next index below num, a chain no longer than num descriptors (a loop
 * cannot last longer), an indirect table inside one region, a multiple of 16
 * bytes, no more than num entries and not itself containing an indirect
 * descriptor, every buffer inside one region of the memory table (vmem), the
 * readable descriptors before the writable ones, the total length below
 * VRING_MAX_CHAIN_BYTES. A chain that fails is a counted drop (VRING_DROP_*);
 * it is handed back in the used ring with length 0 when its head is valid, so
 * the guest does not lose the buffer. An available index more than num ahead
 * of the last one consumed cannot come from an honest driver and breaks the
 * ring at once; so do VRING_BROKEN_AFTER bad chains. A broken ring processes
 * nothing more until it is set up again.
 *
 * The network device's side (vring_net_tx()/vring_net_rx()) adds the
 * virtio-net header: 12 bytes (struct virtio_net_hdr_v1) with VERSION_1 or
 * MRG_RXBUF, 10 without, and with MRG_RXBUF one received frame may fill
 * several chains, whose count goes into the first header's num_buffers.
 *
 * EVENT_IDX is not negotiated: the guest's VRING_AVAIL_F_NO_INTERRUPT flag
 * decides whether to signal, and arcnat never asks not to be kicked.
 */
#ifndef ARCNAT_GUEST_VRING_H
#define ARCNAT_GUEST_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/vmem.h"
#include "pkt/vnet.h"

#define VRING_MAX_NUM        32768u	/* the largest queue virtio allows */
#define VRING_MAX_SEGS       64u	/* buffers in one chain arcnat takes */
#define VRING_MAX_CHAIN_BYTES (1u << 20)
#define VRING_BROKEN_AFTER   64u	/* bad chains before the ring breaks */

/* X(enum suffix, name, what it means) */
#define VRING_DROP_LIST(X)                                                    \
	X(OK, "ok", "not dropped")                                            \
	X(AVAIL_IDX, "avail_idx", "available index more than num ahead")       \
	X(HEAD_RANGE, "head_range", "chain head index not below num")          \
	X(NEXT_RANGE, "next_range", "next index not below num")               \
	X(CHAIN_LOOP, "chain_loop", "chain longer than the queue (a loop)")   \
	X(TOO_MANY_SEGS, "too_many_segs", "more buffers than arcnat takes")    \
	X(BUF_ADDR, "buf_addr", "buffer outside or across guest memory regions") \
	X(CHAIN_LEN, "chain_len", "chain length over the limit")              \
	X(INDIRECT_BAD, "indirect_bad", "indirect table misplaced or malformed") \
	X(INDIRECT_NESTED, "indirect_nested", "indirect descriptor in an indirect table") \
	X(ORDER, "order", "readable buffer after a writable one")             \
	X(TX_WRITABLE, "tx_writable", "writable buffer in a transmit chain")  \
	X(TX_SHORT, "tx_short", "transmit chain shorter than the net header")  \
	X(TX_BIG, "tx_big", "transmit frame larger than the caller's buffer") \
	X(RX_READABLE, "rx_readable", "readable buffer in a receive chain")   \
	X(RX_SHORT, "rx_short", "receive chain too small for the header or the frame")

enum vring_drop {
#define VRING_DROP_ENUM(sym, name, desc) VRING_DROP_##sym,
	VRING_DROP_LIST(VRING_DROP_ENUM)
#undef VRING_DROP_ENUM
	VRING_DROP__MAX
};

/**
 * vring_drop_name() - short stable name of a drop reason.
 * @r: reason; out of range gives "invalid"
 *
 * Return: a static string.
 */
const char *vring_drop_name(enum vring_drop r);

/* The guest's layout (virtio 1.x 2.7), little-endian. */
struct vring_desc_le {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VRING_DESC_F_NEXT     1u
#define VRING_DESC_F_WRITE    2u
#define VRING_DESC_F_INDIRECT 4u
#define VRING_AVAIL_F_NO_INTERRUPT 1u

struct vring_avail_le {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem_le {
	uint32_t id;
	uint32_t len;
};

struct vring_used_le {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem_le ring[];
};

/**
 * struct vring_seg - one buffer of a chain, translated.
 * @p:   our pointer into guest memory
 * @len: bytes
 */
struct vring_seg {
	uint8_t *p;
	uint32_t len;
};

/**
 * struct vring_chain - a descriptor chain taken from the available ring.
 * @head:  its head index (what goes back into the used ring)
 * @nseg:  buffers in @seg
 * @nread: the first @nread are readable (device reads), the rest writable
 * @rlen:  readable bytes
 * @wlen:  writable bytes
 * @seg:   the buffers
 */
struct vring_chain {
	uint16_t head;
	uint16_t nseg;
	uint16_t nread;
	uint32_t rlen;
	uint32_t wlen;
	struct vring_seg seg[VRING_MAX_SEGS];
};

/**
 * struct vring - one split virtqueue.
 * @mem:        the guest's memory table (borrowed)
 * @desc:       descriptor table
 * @avail:      available ring
 * @used:       used ring
 * @num:        queue size, a power of two, 0 when not set up
 * @last_avail: next available entry to consume (free running)
 * @used_idx:   our copy of used->idx (free running)
 * @indirect:   VIRTIO_RING_F_INDIRECT_DESC negotiated
 * @mrg_rxbuf:  VIRTIO_NET_F_MRG_RXBUF negotiated
 * @hdr_len:    virtio-net header bytes (10 or 12)
 * @broken:     stop processing (a hostile guest)
 * @bad:        bad chains so far
 * @drops:      counted drops per reason
 */
struct vring {
	const struct vmem *mem;
	struct vring_desc_le *desc;
	struct vring_avail_le *avail;
	struct vring_used_le *used;
	uint32_t num;
	uint16_t last_avail;
	uint16_t used_idx;
	bool indirect;
	bool mrg_rxbuf;
	uint8_t hdr_len;
	bool broken;
	uint32_t bad;
	uint64_t drops[VRING_DROP__MAX];
};

/**
 * vring_layout_check() - are the ring areas valid for a queue of @num?
 * @num:   queue size
 * @desc:  descriptor table guest pointer
 * @avail: available ring
 * @used:  used ring
 *
 * Checks @num (a power of two, at most VRING_MAX_NUM) and the alignments
 * virtio asks for (16, 2, 4).
 *
 * Return: 0 or -EINVAL.
 */
int vring_layout_check(uint32_t num, uint64_t desc, uint64_t avail,
		       uint64_t used);

/**
 * vring_setup() - attach a ring whose areas are already translated.
 * @vr:         the ring (cleared first)
 * @mem:        memory table the descriptors' addresses go through
 * @num:        queue size (vring_layout_check())
 * @desc:       descriptor table, 16 * num bytes
 * @avail:      available ring, 6 + 2 * num bytes
 * @used:       used ring, 6 + 8 * num bytes
 * @last_avail: where to start (SET_VRING_BASE)
 */
void vring_setup(struct vring *vr, const struct vmem *mem, uint32_t num,
		 void *desc, void *avail, void *used, uint16_t last_avail);

/**
 * vring_pop() - take the next chain the guest offers.
 * @vr: the ring
 * @c:  out, the chain
 *
 * A bad chain is consumed, counted in @vr->drops, returned to the guest with
 * length 0 (when its head is valid) and reported with -EBADMSG; the caller
 * simply asks again.
 *
 * Return: 0; -EAGAIN nothing available; -EBADMSG a bad chain was dropped;
 * -EPIPE the ring is broken or not set up.
 */
int vring_pop(struct vring *vr, struct vring_chain *c);

/**
 * vring_unpop() - give back the last @n chains taken, not yet used.
 * @vr: the ring
 * @n:  how many
 */
void vring_unpop(struct vring *vr, uint16_t n);

/**
 * vring_push() - hand a chain back to the guest and publish it.
 * @vr:   the ring
 * @head: the chain's head
 * @len:  bytes written into it
 */
void vring_push(struct vring *vr, uint16_t head, uint32_t len);

/**
 * vring_need_call() - should the guest be signalled after pushes?
 * @vr: the ring
 *
 * Return: false when the guest asked not to be interrupted.
 */
bool vring_need_call(const struct vring *vr);

/**
 * vring_net_tx() - take one frame the guest transmits.
 * @vr:   the transmit ring
 * @vnet: out, its offload metadata
 * @buf:  out, the frame (without the net header)
 * @cap:  bytes @buf holds
 * @len:  out, frame bytes
 *
 * The chain is handed back (used) before returning, in every case.
 *
 * Return: 0; -EAGAIN nothing to take; -EBADMSG a bad chain was dropped
 * (counted; ask again); -EPIPE broken ring.
 */
int vring_net_tx(struct vring *vr, struct pkt_vnet *vnet, uint8_t *buf,
		 size_t cap, size_t *len);

/**
 * vring_net_rx() - give one frame to the guest.
 * @vr:    the receive ring
 * @vnet:  its offload metadata
 * @frame: the frame (without the net header)
 * @len:   bytes
 *
 * With MRG_RXBUF the frame may fill several chains; without, it must fit in
 * one. When the guest has not offered enough buffers, nothing is consumed
 * and -ENOBUFS tells the caller to keep the frame for the next kick.
 *
 * Return: 0; -ENOBUFS not enough buffers now; -EBADMSG a bad chain was met
 * (counted, the frame is dropped); -EMSGSIZE the frame can never fit; -EPIPE
 * broken ring.
 */
int vring_net_rx(struct vring *vr, const struct pkt_vnet *vnet,
		 const uint8_t *frame, size_t len);

#endif /* ARCNAT_GUEST_VRING_H */
