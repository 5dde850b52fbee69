/* SPDX-License-Identifier: MIT */
/*
 * csum_ref.h - naive RFC 1071 Internet checksum, the reference model for
 * differential tests and benchmarks of pkt/csum. Not for the data path.
 *
 * It does exactly what RFC 1071 section 1 describes and nothing clever:
 * adjacent bytes form big-endian 16-bit words, the words are added with the
 * carry folded back in at every step, and the sum is inverted. Results are
 * returned in the same "as in the packet" representation as pkt/csum.h (a
 * uint16_t whose memory holds the two wire bytes), so that the two can be
 * compared with ==.
 */
#ifndef ARCNAT_REF_CSUM_REF_H
#define ARCNAT_REF_CSUM_REF_H

#include <stddef.h>
#include <stdint.h>

/**
 * csum_ref_sum() - naive one's-complement sum of big-endian 16-bit words.
 * @data: bytes, any alignment
 * @len:  number of bytes; an odd last byte is padded with a zero after it
 * @sum:  host-order folded sum to start from (0, or a previous result when
 *        the previous call covered an even number of bytes)
 *
 * Return: the folded, not inverted sum as a host-order number (0..0xffff);
 * this is what RFC 1071's worked examples print.
 */
uint16_t csum_ref_sum(const void *data, size_t len, uint16_t sum);

/**
 * csum_ref_wire() - a host-order 16-bit value in packet representation.
 * @v: host-order value
 *
 * Return: the uint16_t whose two bytes in memory are @v big-endian.
 */
uint16_t csum_ref_wire(uint16_t v);

/**
 * csum_ref() - naive Internet checksum of a buffer.
 * @data: bytes, any alignment
 * @len:  number of bytes
 *
 * Return: ~csum_ref_sum(@data, @len, 0) in packet representation: the value
 * to store in a checksum field, or 0 when verifying intact data.
 */
uint16_t csum_ref(const void *data, size_t len);

#endif /* ARCNAT_REF_CSUM_REF_H */
