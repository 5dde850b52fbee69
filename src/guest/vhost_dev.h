/* SPDX-License-Identifier: MIT */
/*
 * vhost_dev.h - the backend side of a vhost-user-net device: the state a
 * frontend (QEMU) sets up with vhost-user messages.
 *
 * Theory of operation: one vhost_dev per connected frontend, one queue pair
 * (ring 0 receive, ring 1 transmit, as virtio-net numbers them). QEMU 7.2
 * first asks for the features and protocol features and sets the owner,
 * hands over the call descriptors, then on start sends the acked features,
 * the memory table and, per ring, its size, base, addresses and kick
 * descriptor, and enables the rings; stopping asks each ring's base back.
 * vhost_dev_handle() applies one parsed message (vhost_msg) and builds the
 * reply if there is one. Each handler checks everything before it changes
 * anything, so a refused message leaves the device as it was, with the
 * refusal counted by reason (VHOST_ERR_*). With REPLY_ACK negotiated and
 * need-reply set, the frontend hears about the refusal in the ack.
 *
 * Offered: VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF,
 * VIRTIO_RING_F_INDIRECT_DESC, VHOST_USER_F_PROTOCOL_FEATURES and the
 * offloads the TAP port passes through (CSUM, GUEST_CSUM, HOST_TSO4/6,
 * GUEST_TSO4/6); protocol features REPLY_ACK and MQ (GET_QUEUE_NUM says 1).
 * Not offered, so refused: dirty logging, RARP, MTU, EVENT_IDX.
 */
#ifndef ARCNAT_GUEST_VHOST_DEV_H
#define ARCNAT_GUEST_VHOST_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/vhost_msg.h"
#include "guest/vmem.h"
#include "guest/vring.h"

#define VHOST_DEV_RX     0u
#define VHOST_DEV_TX     1u
#define VHOST_DEV_NRINGS 2u

/* Feature bits (virtio 1.x, linux/virtio_net.h, vhost-user.rst). */
#define VHOST_F_NET_CSUM            (1ull << 0)
#define VHOST_F_NET_GUEST_CSUM      (1ull << 1)
#define VHOST_F_NET_GUEST_TSO4      (1ull << 7)
#define VHOST_F_NET_GUEST_TSO6      (1ull << 8)
#define VHOST_F_NET_HOST_TSO4       (1ull << 11)
#define VHOST_F_NET_HOST_TSO6       (1ull << 12)
#define VHOST_F_NET_MRG_RXBUF       (1ull << 15)
#define VHOST_F_RING_INDIRECT_DESC  (1ull << 28)
#define VHOST_F_PROTOCOL_FEATURES   (1ull << 30)
#define VHOST_F_VERSION_1           (1ull << 32)

#define VHOST_DEV_FEATURES                                                 \
	(VHOST_F_NET_CSUM | VHOST_F_NET_GUEST_CSUM | VHOST_F_NET_GUEST_TSO4 | \
	 VHOST_F_NET_GUEST_TSO6 | VHOST_F_NET_HOST_TSO4 |                    \
	 VHOST_F_NET_HOST_TSO6 | VHOST_F_NET_MRG_RXBUF |                     \
	 VHOST_F_RING_INDIRECT_DESC | VHOST_F_PROTOCOL_FEATURES |            \
	 VHOST_F_VERSION_1)

/* Protocol feature bits. */
#define VHOST_PF_MQ        (1ull << 0)
#define VHOST_PF_REPLY_ACK (1ull << 3)
#define VHOST_DEV_PROTOCOL_FEATURES (VHOST_PF_MQ | VHOST_PF_REPLY_ACK)

/**
 * struct vhost_dev_ring - one ring's setup, as the frontend gave it.
 * @num:      queue size, 0 until SET_VRING_NUM
 * @base:     next available index to use (SET_VRING_BASE)
 * @desc:     descriptor table, frontend user address
 * @avail:    available ring, frontend user address
 * @used:     used ring, frontend user address
 * @has_addr: SET_VRING_ADDR accepted
 * @started:  SET_VRING_KICK received since the last stop (@vr is live)
 * @enabled:  SET_VRING_ENABLE 1
 * @kick_fd:  the guest's kicks (-1: none, poll)
 * @call_fd:  our signal to the guest (-1: none)
 * @err_fd:   error signal (-1: none)
 * @vr:       the ring itself, valid while @started
 */
struct vhost_dev_ring {
	uint32_t num;
	uint16_t base;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	bool has_addr;
	bool started;
	bool enabled;
	int kick_fd;
	int call_fd;
	int err_fd;
	struct vring vr;
};

/**
 * struct vhost_dev - one frontend's device.
 * @features:          acked feature bits (SET_FEATURES)
 * @protocol_features: acked protocol features
 * @owner:             SET_OWNER received
 * @mem:               guest memory table
 * @ring:              the receive and transmit rings
 * @handled:           messages applied
 * @errors:            messages refused, per reason
 */
struct vhost_dev {
	uint64_t features;
	uint64_t protocol_features;
	bool owner;
	struct vmem mem;
	struct vhost_dev_ring ring[VHOST_DEV_NRINGS];
	uint64_t handled;
	uint64_t errors[VHOST_ERR__MAX];
};

/**
 * vhost_dev_init() - an empty device, as before the first message.
 * @d: the device
 */
void vhost_dev_init(struct vhost_dev *d);

/**
 * vhost_dev_destroy() - close every descriptor and unmap guest memory.
 * @d: the device (NULL is fine); vhost_dev_init() makes it usable again
 */
void vhost_dev_destroy(struct vhost_dev *d);

/**
 * vhost_dev_handle() - apply one parsed message.
 * @d:         the device
 * @m:         the message; its descriptors are taken or closed, always
 * @reply:     out, VHOST_MSG_MAX_SIZE bytes
 * @reply_len: out, bytes of @reply to send (0: no reply)
 *
 * Return: 0; -EINVAL, -ENOTSUP, -EBUSY, -errno for a refused message (counted
 * in @d->errors, nothing changed; a reply-ack saying so may be in @reply).
 */
int vhost_dev_handle(struct vhost_dev *d, struct vhost_msg *m, uint8_t *reply,
		     size_t *reply_len);

/**
 * vhost_dev_refused() - count a message the parser refused.
 * @d: the device
 * @e: the parser's reason
 */
void vhost_dev_refused(struct vhost_dev *d, enum vhost_err e);

/**
 * vhost_dev_serve() - receive, apply and answer one message.
 * @d:    the device
 * @sock: the frontend's connection
 *
 * Return: 0; -EPIPE the frontend closed; another -errno: the message was
 * refused (counted) or the socket failed; the caller then closes the
 * connection, as QEMU expects of a backend that cannot go on.
 */
int vhost_dev_serve(struct vhost_dev *d, int sock);

/**
 * vhost_dev_ring_ready() - may the datapath use this ring now?
 * @d:   the device
 * @idx: VHOST_DEV_RX or VHOST_DEV_TX
 *
 * Return: true when started, enabled (or enabling is not negotiated) and not
 * broken.
 */
bool vhost_dev_ring_ready(const struct vhost_dev *d, unsigned int idx);

#endif /* ARCNAT_GUEST_VHOST_DEV_H */
