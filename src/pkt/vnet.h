/* SPDX-License-Identifier: MIT */
/*
 * vnet.h - the virtio-net header that TAP (IFF_VNET_HDR), TUN and AF_PACKET
 * (PACKET_VNET_HDR) put in front of each frame, in host byte order.
 *
 * Theory of operation: with offloads on, the kernel hands arcnat frames whose
 * L4 checksum is not yet computed (VNET_F_NEEDS_CSUM: the checksum field holds
 * the pseudo-header sum, the device or the next kernel finishes it) and GSO
 * super-frames of up to 64 KiB (gso_type != NONE: one TCP/UDP header over
 * many MSS-sized segments). NAT treats such a frame as one packet: it
 * rewrites addresses and ports once, and the header stays valid because it
 * only holds offsets and sizes, which change only when an L2 header is added
 * or removed in front of the packet (pkt_vnet_shift()).
 *
 * Devices put the header on the wire in the guest's byte order; on the
 * little-endian hosts arcnat supports that is host order, and the ports
 * convert with le16toh()/htole16() at the boundary (struct virtio_net_hdr).
 */
#ifndef ARCNAT_PKT_VNET_H
#define ARCNAT_PKT_VNET_H

#include <endian.h>
#include <linux/virtio_net.h>
#include <stdint.h>

/* pkt_vnet.flags (linux/virtio_net.h VIRTIO_NET_HDR_F_*) */
#define VNET_F_NEEDS_CSUM	1u
#define VNET_F_DATA_VALID	2u

/* pkt_vnet.gso_type (VIRTIO_NET_HDR_GSO_*) */
#define VNET_GSO_NONE		0u
#define VNET_GSO_TCPV4		1u
#define VNET_GSO_UDP		3u	/* UFO, legacy */
#define VNET_GSO_TCPV6		4u
#define VNET_GSO_UDP_L4		5u	/* USO */
#define VNET_GSO_ECN		0x80u

/**
 * struct pkt_vnet - one frame's offload metadata, host order.
 * @flags:       VNET_F_*
 * @gso_type:    VNET_GSO_*
 * @hdr_len:     bytes of headers (L2 + L3 + L4) before the payload
 * @gso_size:    payload bytes per segment (MSS)
 * @csum_start:  offset from the frame start where checksumming starts
 * @csum_offset: offset of the checksum field from @csum_start
 */
struct pkt_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/**
 * pkt_vnet_shift() - keep the offsets right when @delta bytes of header are
 * added (@delta > 0) or removed (@delta < 0) in front of the packet.
 * @v:     header
 * @delta: bytes added in front
 *
 * Offsets that would fall below zero are cleared with their flag: a caller
 * only strips headers that lie before the L3 header, so that cannot happen
 * for a header the parser accepted.
 */
static inline void pkt_vnet_shift(struct pkt_vnet *v, int delta)
{
	if (v->flags & VNET_F_NEEDS_CSUM) {
		if ((int)v->csum_start + delta < 0) {
			v->flags &= (uint8_t)~VNET_F_NEEDS_CSUM;
			v->csum_start = 0;
			v->csum_offset = 0;
		} else {
			v->csum_start = (uint16_t)(v->csum_start + delta);
		}
	}
	if (v->hdr_len) {
		if ((int)v->hdr_len + delta < 0)
			v->hdr_len = 0;
		else
			v->hdr_len = (uint16_t)(v->hdr_len + delta);
	}
}

/**
 * pkt_vnet_from_wire() - a device's header (little-endian) in host order.
 * @v: out
 * @h: the header as read
 */
static inline void pkt_vnet_from_wire(struct pkt_vnet *v,
				      const struct virtio_net_hdr *h)
{
	v->flags = h->flags;
	v->gso_type = h->gso_type;
	v->hdr_len = le16toh(h->hdr_len);
	v->gso_size = le16toh(h->gso_size);
	v->csum_start = le16toh(h->csum_start);
	v->csum_offset = le16toh(h->csum_offset);
}

/**
 * pkt_vnet_to_wire() - the header a device expects, from host order.
 * @h: out
 * @v: metadata
 */
static inline void pkt_vnet_to_wire(struct virtio_net_hdr *h,
				    const struct pkt_vnet *v)
{
	h->flags = v->flags;
	h->gso_type = v->gso_type;
	h->hdr_len = htole16(v->hdr_len);
	h->gso_size = htole16(v->gso_size);
	h->csum_start = htole16(v->csum_start);
	h->csum_offset = htole16(v->csum_offset);
}

#endif /* ARCNAT_PKT_VNET_H */
