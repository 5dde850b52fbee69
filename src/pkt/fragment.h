/* SPDX-License-Identifier: MIT */
/*
 * fragment.h - cut an IPv4 packet into fragments that fit an MTU (RFC 791).
 *
 * Theory of operation: pkt_frag_init() reads the packet's header once
 * (through a cursor: the bytes come from the wire) and prepares two header
 * templates: the first fragment keeps the whole header, the later ones only
 * the options whose copy flag is set (RFC 791 section 3.1), padded with
 * end-of-options to a multiple of 4. Each pkt_frag_next() then writes one
 * fragment into a caller's buffer: its header with the total length, the
 * flags and offset and a fresh header checksum, then its share of the data.
 * Every fragment but the last carries as many data bytes as fit, a
 * multiple of 8; offsets count from the packet's own offset, so a fragment
 * can be cut again, and the last piece keeps the packet's MF flag.
 * The identification, addresses and every other field are copied, so all
 * fragments of one packet are alike but for length, offset and MF.
 *
 * The caller decides whether a packet may be fragmented (DF clear) and
 * completes any partial (offloaded) L4 checksum first: fragments carry no
 * offload metadata.
 */
#ifndef ARCNAT_PKT_FRAGMENT_H
#define ARCNAT_PKT_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "prot/ip4.h"

/**
 * struct pkt_frag - an IPv4 packet being cut; filled by pkt_frag_init().
 * @ip:         the packet (borrowed until the last pkt_frag_next())
 * @data_len:   bytes after its header
 * @pos:        data bytes already written out
 * @base:       the packet's own fragment offset, bytes
 * @flags:      its flags (DF, RF, MF), host order
 * @hlen:       its header length (the first fragment's)
 * @hlen_rest:  the later fragments' header length
 * @step_first: data bytes in the first fragment (a multiple of 8)
 * @step_rest:  data bytes in each later one but the last (a multiple of 8)
 * @started:    the first fragment has been written
 * @hdr_rest:   the later fragments' header (length, offset, checksum
 *              filled per fragment)
 */
struct pkt_frag {
	const uint8_t *ip;
	uint32_t data_len;
	uint32_t pos;
	uint32_t base;
	uint16_t flags;
	uint16_t hlen;
	uint16_t hlen_rest;
	uint16_t step_first;
	uint16_t step_rest;
	uint8_t started;
	uint8_t hdr_rest[IP4_HLEN_MAX];
};

/**
 * pkt_frag_init() - prepare to cut @ip into fragments of at most @mtu bytes.
 * @f:   state
 * @ip:  an IPv4 packet (from its header on); its total length must be @len
 * @len: its length
 * @mtu: the largest fragment, bytes of IP packet
 *
 * Return: 0; -EINVAL if @ip is not a sound IPv4 packet (version, header
 * length, total length, an option's length) or its fragments would end
 * past offset 65535; -EMSGSIZE if @mtu cannot hold a header and 8 bytes.
 */
int pkt_frag_init(struct pkt_frag *f, const uint8_t *ip, size_t len,
		  unsigned int mtu);

/**
 * pkt_frag_next() - write the next fragment.
 * @f:   state
 * @out: where the fragment goes (from its IPv4 header on)
 * @cap: bytes at @out
 *
 * Return: the fragment's length; 0 when every fragment has been written;
 * -ENOSPC if it does not fit in @cap (nothing consumed).
 */
int pkt_frag_next(struct pkt_frag *f, uint8_t *out, size_t cap);

#endif /* ARCNAT_PKT_FRAGMENT_H */
