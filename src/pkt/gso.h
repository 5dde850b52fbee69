/* SPDX-License-Identifier: MIT */
/*
 * gso.h - offloads finished in software: a GSO super-frame cut into the
 * frames it stands for, a pending checksum (VNET_F_NEEDS_CSUM) computed.
 *
 * Theory of operation: the pipeline keeps offloads to the end (pkt/vnet.h):
 * a TAP or AF_PACKET device takes a 64 KiB TCP super-frame with a pending
 * checksum as it is. A port without a virtio-net header (a QEMU stream
 * socket) must put on the wire what a NIC would: MSS-sized frames, each
 * with its own IP length, IPv4 ID and checksum, TCP sequence number and
 * flags (FIN and PSH on the last only, CWR on the first only) and TCP or
 * UDP checksum. The frame is an Ethernet frame (no VLAN tag) with IPv4 or
 * IPv6 (no extension headers) and TCP (VNET_GSO_TCPV4/V6) or UDP
 * (VNET_GSO_UDP_L4); the frame may come from another guest, so everything
 * is read through the bounds-checked cursor and anything else is refused.
 */
#ifndef ARCNAT_PKT_GSO_H
#define ARCNAT_PKT_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/vnet.h"

/* Frames one super-frame may become (a gso_size of 536 over 64 KiB: 123). */
#define PKT_GSO_SEGS_MAX	128u
/* Headers copied to each frame, at most: Ethernet, IPv4 with options (60;
 * IPv6 without extension headers is 40) and TCP with options (60). */
#define PKT_GSO_HDR_MAX		(14u + 60u + 60u)
/* What pkt_gso_cut() writes for a super-frame of @len bytes, at most: the
 * payload once and every frame's headers. Not twice @len: a short
 * super-frame with a small gso_size repeats its headers up to 128 times. */
#define PKT_GSO_CUT_MAX(len)	(PKT_GSO_SEGS_MAX * PKT_GSO_HDR_MAX + (len))

/**
 * struct pkt_gso - a super-frame being cut.
 * @frame:   the frame (borrowed)
 * @len:     its length
 * @l3:      offset of the IP header
 * @l4:      offset of the TCP/UDP header
 * @hdr:     offset of the payload (end of the headers copied to each)
 * @seg:     payload bytes per frame
 * @off:     payload bytes already cut
 * @n:       frames cut so far
 * @ip6:     IPv6 (else IPv4)
 * @proto:   6 or 17
 * @gso:     cut (else: one frame, its checksum finished)
 */
struct pkt_gso {
	const uint8_t *frame;
	size_t len;
	size_t l3;
	size_t l4;
	size_t hdr;
	size_t seg;
	size_t off;
	unsigned int n;
	bool ip6;
	uint8_t proto;
	bool gso;
};

/**
 * pkt_gso_init() - check a frame and its offload metadata.
 * @g:     state, filled
 * @frame: Ethernet frame
 * @len:   its length
 * @v:     its metadata (a GSO type, or VNET_F_NEEDS_CSUM, or neither)
 *
 * Return: 0; -EINVAL a frame or metadata the cutter cannot follow; -E2BIG
 * more than PKT_GSO_SEGS_MAX frames; -EOPNOTSUPP legacy UFO.
 */
int pkt_gso_init(struct pkt_gso *g, const uint8_t *frame, size_t len,
		 const struct pkt_vnet *v);

/**
 * pkt_gso_next() - write the next frame, complete with its checksums.
 * @g:   state from pkt_gso_init()
 * @out: where
 * @cap: its size
 *
 * Return: the frame's length; 0 when there is none left; -ENOSPC @out is
 * too small.
 */
int pkt_gso_next(struct pkt_gso *g, uint8_t *out, size_t cap);

/**
 * pkt_gso_cut() - cut a whole super-frame at once, its frames back to back.
 * @frame: Ethernet frame
 * @len:   its length
 * @v:     its metadata, as for pkt_gso_init()
 * @out:   where the frames go
 * @cap:   its size (PKT_GSO_CUT_MAX(@len) is always enough; less may
 *         give -ENOSPC)
 * @off:   each frame's offset in @out
 * @flen:  each frame's length
 *
 * For a port that may send part of the frames now and keep the rest for
 * later (the dgram and vhost-user ports): the frames must outlive the
 * super-frame's buffer.
 *
 * Return: the count of frames (at least 1), or pkt_gso_init()'s and
 * pkt_gso_next()'s errors.
 */
int pkt_gso_cut(const uint8_t *frame, size_t len, const struct pkt_vnet *v,
		uint8_t *out, size_t cap, uint32_t off[PKT_GSO_SEGS_MAX],
		uint32_t flen[PKT_GSO_SEGS_MAX]);

#endif /* ARCNAT_PKT_GSO_H */
