/* SPDX-License-Identifier: MIT */
/*
 * reasm.h - bounded IPv4 reassembly (RFC 791 section 3.2, RFC 815).
 *
 * Why: a host socket cannot send a fragment, so the socket uplink
 * (uplink/sock) puts a guest's fragments back together and relays the
 * whole datagram, as pasta and slirp4netns do (docs/rootless.md).
 *
 * Theory of operation: a fixed number of slots (struct reasm_cfg.slots,
 * REASM_SLOTS_DEFAULT), each able to hold one datagram of up to 65535
 * bytes, all allocated by reasm_create() and never again: nothing is
 * allocated per fragment. A datagram is keyed by (source, destination,
 * protocol, identification) and one more 32-bit value of the caller's,
 * @ctx: behind a NAT every guest's source is the one external address, so
 * the socket uplink passes the packet's flow, which tells two guests'
 * datagrams apart where the addresses no longer do. Finding the slot is a
 * scan of the slots (at most REASM_SLOTS_MAX: there is no hash to attack).
 *
 * Each slot keeps the data at its offset and a bitmap of the 8-byte
 * blocks received (RFC 815's holes, as bits: 8192 of them, 1 KiB, instead
 * of a list whose length a sender would choose). The first fragment's
 * header, options included, becomes the datagram's header (RFC 791). The
 * datagram is complete when the last fragment (MF clear) has said where
 * it ends and every block before that end is there; the result is one
 * contiguous IPv4 packet with MF and the offset cleared, the total length
 * set and the header checksum computed.
 *
 * Policies, each a counter (struct reasm_stats):
 * - a fragment that overlaps one already held drops the whole datagram
 *   (RFC 5722's rule for IPv6, the modern consensus; RFC 1858 and 3128
 *   attack filters with overlaps); an exact copy of bytes already held
 *   (the same range, the same bytes: a duplicate, which is unambiguous)
 *   is ignored;
 * - a fragment that would end past 65535 bytes ("ping of death") or a
 *   first fragment whose header makes the datagram pass 65535 drops the
 *   datagram; so does a last fragment that disagrees with an earlier one
 *   about the end, or any fragment reaching past a known end;
 * - a malformed fragment (a header that does not parse, an empty or
 *   unaligned fragment that is not the last) is dropped alone;
 * - a partial datagram is dropped REASM_TIMEOUT_DEFAULT_NS after its
 *   first fragment arrived (reasm_expire(), and lazily on every add);
 * - when every slot is taken, the oldest partial datagram is evicted for
 *   the new one (see reasm_add() for why not the new one).
 *
 * Memory: slots x (REASM_SLOT_BYTES + 1 KiB bitmap + about 64 bytes),
 * about 1.04 MiB with the default 16 slots; REASM_SLOTS_MAX bounds it at
 * about 16.7 MiB.
 *
 * Not thread-safe: one owner (the worker's thread).
 */
#ifndef ARCNAT_PKT_REASM_H
#define ARCNAT_PKT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prot/ip4.h"

#define REASM_SLOTS_DEFAULT	16u
#define REASM_SLOTS_MAX		256u
/*
 * 15 s: RFC 791's recommended lower bound for the reassembly timer. The
 * fragments this module sees come from a guest over a local link, sent
 * back to back: a datagram still partial after 15 s has lost a fragment
 * for good, and holding it longer only keeps a 64 KiB slot and widens the
 * window in which a later datagram with the same 16-bit identification
 * could be mixed with it (RFC 4963). Linux's 30 s fits a WAN path.
 */
#define REASM_TIMEOUT_DEFAULT_NS (15ull * 1000000000ull)
/* Data bytes a datagram can carry after the smallest header. */
#define REASM_DATA_MAX		(IP4_MAX_LEN - IP4_HLEN_MIN)
/* A slot's storage: room for the largest header in front of the data. */
#define REASM_SLOT_BYTES	(IP4_HLEN_MAX + REASM_DATA_MAX)

/**
 * struct reasm_cfg - the reassembler's bounds.
 * @slots:      datagrams in reassembly at once (0: REASM_SLOTS_DEFAULT;
 *              at most REASM_SLOTS_MAX)
 * @timeout_ns: a partial datagram's life from its first fragment
 *              (0: REASM_TIMEOUT_DEFAULT_NS)
 */
struct reasm_cfg {
	unsigned int slots;
	uint64_t timeout_ns;
};

/**
 * struct reasm_stats - what the reassembler did.
 * @fragments:   fragments given to reasm_add()
 * @reassembled: datagrams completed
 * @timeout:     partial datagrams dropped after the timeout
 * @overlap:     datagrams dropped for an overlapping fragment
 * @dup:         exact duplicates ignored
 * @too_big:     datagrams dropped: they would pass 65535 bytes
 * @bad_end:     datagrams dropped: a last fragment that disagrees with an
 *               earlier one, or data past the end it set
 * @bad:         malformed fragments dropped alone (header, an empty or
 *               unaligned fragment that is not the last)
 * @evicted:     partial datagrams evicted for a new one, no slot free
 * @active:      partial datagrams held now
 */
struct reasm_stats {
	uint64_t fragments;
	uint64_t reassembled;
	uint64_t timeout;
	uint64_t overlap;
	uint64_t dup;
	uint64_t too_big;
	uint64_t bad_end;
	uint64_t bad;
	uint64_t evicted;
	uint64_t active;
};

/**
 * enum reasm_verdict - what became of a packet given to reasm_add().
 * @REASM_NOT_FRAG: not a fragment (MF clear, offset 0): the caller's as is
 * @REASM_HELD:     kept (or ignored as a duplicate) until the rest comes
 * @REASM_DONE:     the datagram is complete, in the result
 * @REASM_DROP:     dropped, counted in struct reasm_stats (a malformed
 *                  fragment, or its datagram dropped with it)
 */
enum reasm_verdict {
	REASM_NOT_FRAG,
	REASM_HELD,
	REASM_DONE,
	REASM_DROP,
};

/**
 * struct reasm_out - a completed datagram.
 * @pkt: the IPv4 packet, from its header; owned by the reassembler, valid
 *       until the next reasm_add(), reasm_expire() or reasm_destroy()
 * @len: its length (its header's total length)
 * @ctx: the caller's value the fragments were keyed with
 */
struct reasm_out {
	const uint8_t *pkt;
	uint32_t len;
	uint32_t ctx;
};

struct reasm;

/**
 * reasm_create() - allocate every slot now.
 * @out: the reassembler
 * @cfg: bounds (copied); NULL for the defaults
 *
 * Return: 0, -EINVAL (more than REASM_SLOTS_MAX slots), -ENOMEM.
 */
int reasm_create(struct reasm **out, const struct reasm_cfg *cfg);

/**
 * reasm_destroy() - free; NULL is fine.
 * @r: the reassembler
 */
void reasm_destroy(struct reasm *r);

/**
 * reasm_add() - one IPv4 packet, possibly a fragment.
 * @r:   the reassembler
 * @ip:  the packet from its IPv4 header (borrowed: copied when kept); its
 *       header checksum is not checked here (the caller's parser did)
 * @len: bytes at @ip (the header's total length may be less)
 * @ctx: the caller's part of the key (the socket uplink: the flow)
 * @now: clock, ns
 * @res: the datagram, with REASM_DONE
 *
 * A fragment of a new datagram when no slot is free evicts the oldest
 * partial datagram: the fragments of one datagram leave the guest back to
 * back, so the oldest is the one most likely never to complete, and
 * dropping new datagrams instead would let a handful of lost fragments
 * stop all reassembly until they time out.
 *
 * Return: the verdict.
 */
enum reasm_verdict reasm_add(struct reasm *r, const uint8_t *ip, size_t len,
			     uint32_t ctx, uint64_t now, struct reasm_out *res);

/**
 * reasm_expire() - drop (and count) the partial datagrams past their
 * timeout; a scan of the slots, for the caller's periodic tick.
 * @r:   the reassembler
 * @now: clock, ns
 */
void reasm_expire(struct reasm *r, uint64_t now);

/**
 * reasm_get_stats() - the counters.
 * @r:   the reassembler
 * @out: filled
 */
void reasm_get_stats(const struct reasm *r, struct reasm_stats *out);

/**
 * reasm_slots() - how many datagrams it holds at most.
 * @r: the reassembler
 * Return: the slots.
 */
unsigned int reasm_slots(const struct reasm *r);

#endif /* ARCNAT_PKT_REASM_H */
