/* SPDX-License-Identifier: MIT */
/*
 * gro.h - consecutive TCP segments of one connection joined into one
 * super-frame (receive offload in software).
 *
 * A guest on a port without a virtio-net header (QEMU's stream and dgram
 * sockets) cannot hand over TSO super-frames: a bulk upload arrives as one
 * MSS-sized frame per segment, and each costs the datapath a parse, a NAT
 * lookup and a slot in the uplink's send batch, and the receiver one ACK
 * per two segments, which the guest must process. Segments of one
 * connection that arrive in one burst, in sequence and otherwise alike, are
 * joined instead, as Linux's GRO joins them on a NIC's receive path: one
 * IPv4/TCP super-frame with a virtio-net GSO header (gso_size = the first
 * segment's payload, checksum pending), which the uplink's kernel takes
 * whole (AF_PACKET and TUN with a virtio-net header) and which cuts back,
 * where it must, into exactly the segments that came in.
 *
 * Only what cuts back unchanged is joined (the rules of Linux's
 * tcp_gro_receive()): IPv4 without options or fragmentation, ACK set, no
 * SYN, FIN, RST, URG, ECE or CWR; the same Ethernet header, TOS, TTL,
 * addresses, ports, acknowledgement, window, urgent pointer (unused) and
 * TCP options (timestamps included); the next sequence number; every
 * segment but the last one full-sized; a PSH ends the super-frame; IP IDs
 * incrementing unless DF is set; at most PKT_GSO_SEGS_MAX segments and
 * 65535 bytes of IP packet. A segment whose TCP checksum is wrong is never
 * joined: it stays a frame of its own and its receiver drops it, as it
 * would have.
 */
#ifndef ARCNAT_PKT_GRO_H
#define ARCNAT_PKT_GRO_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt/meta.h"
#include "pkt/vnet.h"

/**
 * pkt_gro_candidate() - may this frame start or continue a super-frame?
 * @f: the frame (Ethernet, or IP when @m->l3_off is 0)
 * @m: its parse result
 * @v: its virtio-net metadata (a frame with GSO or a pending checksum is
 *     no candidate: it is a super-frame already, or its sum is unknown)
 *
 * Reads the whole segment once, to verify its TCP checksum.
 *
 * Return: true for an IPv4 TCP data segment the rules above allow.
 */
bool pkt_gro_candidate(const uint8_t *f, const struct pkt_meta *m,
		       const struct pkt_vnet *v);

/**
 * pkt_gro_append() - join candidate @b to the end of @a when it continues
 * it. @a is a candidate or a super-frame this function made; on success it
 * is a super-frame (@v: GSO TCPv4, gso_size, checksum pending) whose IP
 * length, header checksum, TCP flags and @ma describe the joined packet.
 * @a:   the first frame, in a buffer of @cap bytes
 * @cap: room at @a
 * @ma:  @a's parse result, updated
 * @va:  @a's virtio-net metadata, updated
 * @b:   the next candidate
 * @mb:  its parse result
 *
 * Return: true when @b was joined (it is no longer needed), false when
 * @a is left as it was.
 */
bool pkt_gro_append(uint8_t *a, uint32_t cap, struct pkt_meta *ma,
		    struct pkt_vnet *va, const uint8_t *b,
		    const struct pkt_meta *mb);

#endif /* ARCNAT_PKT_GRO_H */
