/* SPDX-License-Identifier: MIT */
/*
 * csum.h - the Internet checksum: full (RFC 1071) and incremental (RFC 1624).
 *
 * Representation: every 16- and 32-bit value passed in or returned here,
 * and every checksum, is "as it sits in the packet": loaded from or stored
 * to the wire bytes with memcpy, never byte-swapped. The one's-complement
 * sum is byte-order independent (RFC 1071 section 2(B)): summing native
 * words gives the byte-swapped sum of big-endian words on a little-endian
 * machine, and swapping back commutes with folding and inverting. So a
 * checksum computed here is stored with memcpy as it is, and a field read
 * with memcpy can be handed to the update functions as it is. Nothing here
 * calls htons() on a checksum; only host-order protocol numbers and lengths
 * (the pseudo-header helpers say which) are converted.
 *
 * Three kinds of value:
 *  - a partial sum (uint32_t): an unfolded one's-complement accumulator,
 *    from csum_partial() or a pseudo-header helper. Two partial sums of
 *    the same bytes may differ; only their folds are comparable.
 *  - a folded sum (uint16_t, csum_fold()): not inverted. This is what a
 *    CHECKSUM_PARTIAL / virtio-net NEEDS_CSUM packet keeps in its L4
 *    checksum field (the pseudo-header sum), for the NIC to complete.
 *  - a checksum (uint16_t, csum_finish()): the inverted fold, the value a
 *    complete packet stores in its checksum field. Summing data that
 *    contains a correct checksum field gives csum_finish() == 0.
 *
 * Incremental updates use RFC 1624 equation 3, HC' = ~(~HC + ~m + m'),
 * which, unlike equation 2, never turns a checksum into 0xFFFF (minus zero)
 * unless the old one already was. For data that is not all zero the result
 * is therefore bit-identical to a full recomputation (the unit tests check
 * this on random packets).
 *
 * UDP: a checksum field of 0 means "no checksum" (IPv4 only); callers must
 * not update such a field, and must pass any computed or updated UDP
 * checksum through csum_udp_nonzero() before storing it (RFC 768).
 */
#ifndef ARCNAT_PKT_CSUM_H
#define ARCNAT_PKT_CSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * csum_partial() - one's-complement sum of a buffer, added to a partial sum.
 * @data: bytes to sum, any alignment
 * @len:  number of bytes; may be odd
 * @sum:  partial sum to add to (0 to start, or a pseudo-header sum)
 *
 * The first byte of @data is taken to sit at an even offset of the
 * checksummed data: chaining calls is only correct if every call but the
 * last covers an even number of bytes. An odd last byte is padded with a
 * zero byte after it, as RFC 1071 pads the data.
 *
 * Return: an unfolded 32-bit partial sum, to pass on to csum_partial(),
 * csum_fold() or csum_finish().
 */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);

/**
 * csum_fold64() - fold a 64-bit one's-complement accumulator to 32 bits.
 * @sum: accumulator (any value; carries out of bit 31 are end-around)
 *
 * Return: an unfolded 32-bit partial sum congruent to @sum.
 */
static inline uint32_t csum_fold64(uint64_t sum)
{
	/* Twice: the first add can carry into bit 32, the second cannot. */
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return (uint32_t)sum;
}

/**
 * csum_fold() - fold a partial sum to 16 bits, not inverted.
 * @sum: partial sum
 *
 * Return: the folded sum, in packet representation. 0 only if @sum is 0.
 */
static inline uint16_t csum_fold(uint32_t sum)
{
	/* 0xffff + 0xffff = 0x1fffe, so a second round absorbs the carry. */
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/**
 * csum_finish() - the value to store in a checksum field.
 * @sum: partial sum over everything the checksum covers, with the checksum
 *       field itself zero (or, to verify, holding the received value)
 *
 * Return: ~csum_fold(@sum), in packet representation; 0 when verifying
 * data whose checksum field is correct.
 */
static inline uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/**
 * csum_ip4_header() - checksum of an IPv4 header.
 * @hdr: the header, any alignment
 * @len: its length in bytes (IHL * 4, checked by the caller)
 *
 * Return: with the checksum field zero, the value to store in it; with the
 * field as received, 0 if and only if the header is intact.
 */
uint16_t csum_ip4_header(const void *hdr, size_t len);

/**
 * csum_pseudo_ip4() - partial sum of the IPv4 pseudo-header (RFC 768, 793).
 * @saddr:  source address, as in the packet
 * @daddr:  destination address, as in the packet
 * @proto:  IP protocol number (host order, e.g. 17 for UDP)
 * @l4_len: TCP/UDP header plus payload length in bytes, host order
 *
 * Return: a partial sum, to pass as @sum to csum_partial() over the L4
 * header and payload, or to csum_fold() for a CHECKSUM_PARTIAL field.
 */
uint32_t csum_pseudo_ip4(uint32_t saddr, uint32_t daddr, uint8_t proto,
			 uint16_t l4_len);

/**
 * csum_pseudo_ip6() - partial sum of the IPv6 pseudo-header (RFC 8200 8.1).
 * @saddr16: 16-byte source address, as in the packet, any alignment
 * @daddr16: 16-byte destination address (the final one if there is a
 *           routing header), as in the packet, any alignment
 * @proto:   upper-layer protocol number (host order)
 * @l4_len:  upper-layer packet length in bytes, host order
 *
 * Return: a partial sum, as for csum_pseudo_ip4().
 */
uint32_t csum_pseudo_ip6(const void *saddr16, const void *daddr16,
			 uint8_t proto, uint32_t l4_len);

/**
 * csum_replace2() - update a checksum for a changed 16-bit field.
 * @csum: checksum field before the change, as in the packet
 * @old:  the field's old value, as in the packet
 * @new_: the field's new value, as in the packet
 *
 * The field must sit at an even offset of the checksummed data (every
 * port, identifier and address field does). RFC 1624 equation 3.
 *
 * Return: the new checksum field value.
 */
static inline uint16_t csum_replace2(uint16_t csum, uint16_t old,
				     uint16_t new_)
{
	uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~old + new_;

	return (uint16_t)~csum_fold(sum);
}

/**
 * csum_replace4() - update a checksum for a changed 32-bit field.
 * @csum: checksum field before the change, as in the packet
 * @old:  the field's old value (e.g. an IPv4 address), as in the packet
 * @new_: the field's new value, as in the packet
 *
 * As csum_replace2(); a 32-bit ~old is congruent to the sum of its two
 * inverted halves because 2^32 - 1 is a multiple of 0xffff.
 *
 * Return: the new checksum field value.
 */
static inline uint16_t csum_replace4(uint16_t csum, uint32_t old,
				     uint32_t new_)
{
	uint64_t sum = (uint64_t)(uint16_t)~csum + (uint32_t)~old + new_;

	return (uint16_t)~csum_fold(csum_fold64(sum));
}

/**
 * csum_replace16() - update a checksum for a changed IPv6 address.
 * @csum:  checksum field before the change, as in the packet
 * @old16: the old 16-byte address, any alignment
 * @new16: the new 16-byte address, any alignment
 *
 * Return: the new checksum field value.
 */
uint16_t csum_replace16(uint16_t csum, const void *old16, const void *new16);

/**
 * csum_replace4_pseudo() - update a CHECKSUM_PARTIAL field for a new address.
 * @pseudo: the L4 checksum field, holding the folded (not inverted)
 *          pseudo-header sum that the NIC or the guest will complete
 * @old:    the old IPv4 address, as in the packet
 * @new_:   the new IPv4 address, as in the packet
 *
 * The field is not a checksum yet, so there is no outer inversion: the
 * update is @pseudo + ~@old + @new_. Ports need no such update: they lie
 * inside the range the NIC sums itself.
 *
 * Return: the new field value.
 */
static inline uint16_t csum_replace4_pseudo(uint16_t pseudo, uint32_t old,
					    uint32_t new_)
{
	uint64_t sum = (uint64_t)pseudo + (uint32_t)~old + new_;

	return csum_fold(csum_fold64(sum));
}

/**
 * csum_replace16_pseudo() - csum_replace4_pseudo() for an IPv6 address.
 * @pseudo: the L4 checksum field holding the folded pseudo-header sum
 * @old16:  the old 16-byte address, any alignment
 * @new16:  the new 16-byte address, any alignment
 *
 * Return: the new field value.
 */
uint16_t csum_replace16_pseudo(uint16_t pseudo, const void *old16,
			       const void *new16);

/**
 * csum_udp_nonzero() - the UDP rule for a computed checksum of zero.
 * @c: a computed or updated UDP checksum, as in the packet
 *
 * A UDP checksum field of 0 means "not computed" (RFC 768), so a checksum
 * that computes to 0 is transmitted as its one's-complement twin 0xFFFF,
 * which verifies the same. Byte order does not matter for either value.
 *
 * Return: 0xFFFF if @c is 0, else @c.
 */
static inline uint16_t csum_udp_nonzero(uint16_t c)
{
	return c ? c : 0xffff;
}

#endif /* ARCNAT_PKT_CSUM_H */
