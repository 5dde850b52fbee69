// SPDX-License-Identifier: MIT
/*
 * rewrite.c - in-place header rewriting with incremental checksums.
 *
 * All values stay in wire byte order (loaded and stored with memcpy); the
 * one's-complement arithmetic of pkt/csum.h is byte-order independent, so
 * no value is ever swapped. Each changed field updates every checksum that
 * covers it: the IPv4 header checksum covers addresses; TCP and UDP cover
 * addresses (pseudo-header) and ports; ICMP covers its id and, in errors,
 * every byte of the quote, including the quote's own checksums.
 */
#include "nat/rewrite.h"

#include <string.h>

#include "pkt/csum.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Offset of the L4 checksum field, or 0 when the protocol has none we keep. */
static unsigned int l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return offsetof(struct tcp_hdr, check);
	case IPPROTO_NUM_UDP:
		return offsetof(struct udp_hdr, check);
	case IPPROTO_NUM_ICMP:
		return offsetof(struct icmp_hdr, check);
	default:
		return 0;
	}
}

/*
 * One's-complement delta of replacing @old by @new_ (RFC 1624 eqn 3 terms
 * ~m + m'), accumulated unfolded: a 32-bit value is congruent to the sum of
 * its two 16-bit halves modulo 0xffff, so the fold at the end is exact. An
 * unchanged field contributes nothing: ~m + m would be 0xffff, a negative
 * zero that could turn a stored 0xffff into 0x0000.
 */
static inline uint64_t delta32(uint32_t old, uint32_t new_)
{
	return old == new_ ? 0 : (uint64_t)(uint32_t)~old + new_;
}

static inline uint64_t delta16(uint16_t old, uint16_t new_)
{
	return old == new_ ? 0 : (uint64_t)(uint16_t)~old + new_;
}

/* HC' = ~(~HC + sum of deltas): one fold for any number of changed fields. */
static inline uint16_t csum_apply(uint16_t csum, uint64_t delta)
{
	return (uint16_t)~csum_fold(csum_fold64((uint16_t)~csum + delta));
}

/* A partial (pseudo-header) sum is stored uninverted: add the deltas. */
static inline uint16_t csum_apply_pseudo(uint16_t sum, uint64_t delta)
{
	return csum_fold(csum_fold64(sum + delta));
}

void nat_rewrite(uint8_t *frame, const struct pkt_meta *m,
		 const struct ct_tuple *to, bool partial)
{
	uint8_t *ip = frame + m->l3_off;
	uint8_t *l4 = frame + m->l4_off;
	uint32_t osrc = ld32(ip + offsetof(struct ip4_hdr, saddr));
	uint32_t odst = ld32(ip + offsetof(struct ip4_hdr, daddr));
	uint64_t daddr_delta, dport_delta = 0;
	bool has_l4 = m->flags & PKT_F_L4;
	unsigned int coff;
	uint16_t l4c, oport[2];

	/* Addresses: covered by the IPv4 header checksum and, for TCP and
	 * UDP, by the pseudo-header. */
	daddr_delta = delta32(osrc, to->saddr) + delta32(odst, to->daddr);
	st32(ip + offsetof(struct ip4_hdr, saddr), to->saddr);
	st32(ip + offsetof(struct ip4_hdr, daddr), to->daddr);
	st16(ip + offsetof(struct ip4_hdr, check),
	     csum_apply(ld16(ip + offsetof(struct ip4_hdr, check)), daddr_delta));
	if (!has_l4)
		return;	/* a non-first fragment: no L4 header */

	coff = l4_csum_off(m->l4_proto);
	l4c = ld16(l4 + coff);
	if (m->l4_proto == IPPROTO_NUM_ICMP) {
		/* Echo: the id is covered by the ICMP checksum, no pseudo-header;
		 * a partial sum covers no header field (the NIC sums the id). */
		uint16_t oid = ld16(l4 + offsetof(struct icmp_hdr, un.echo.id));

		st16(l4 + offsetof(struct icmp_hdr, un.echo.id), to->sport);
		if (partial)
			return;
		l4c = csum_apply(l4c, delta16(oid, to->sport));
		/*
		 * The one case RFC 1624 eqn 3 gets wrong: a message whose words
		 * all become zero (an echo reply with id 0, seq 0, no data)
		 * sums to +0 and needs 0xffff, but the update yields 0x0000.
		 * TCP and UDP cannot get there (the pseudo-header is never
		 * zero); a whole echo message is short: sum it again.
		 */
		if (l4c == 0 && !(m->flags & PKT_F_FRAG)) {
			st16(l4 + coff, 0);
			l4c = csum_finish(csum_partial(l4, m->l4_len, 0));
		}
		st16(l4 + coff, l4c);
		return;
	}

	/* TCP and UDP ports sit at the same offsets. */
	oport[0] = ld16(l4);
	oport[1] = ld16(l4 + 2);
	st16(l4, to->sport);
	st16(l4 + 2, to->dport);
	if (partial) {
		/* The NIC sums the ports itself: only the pseudo-header changes. */
		st16(l4 + coff, csum_apply_pseudo(l4c, daddr_delta));
		return;
	}
	/* UDP checksum 0 means "none" (RFC 768): it stays 0. */
	if (m->l4_proto == IPPROTO_NUM_UDP && l4c == 0)
		return;
	dport_delta = delta16(oport[0], to->sport) + delta16(oport[1], to->dport);
	l4c = csum_apply(l4c, daddr_delta + dport_delta);
	if (m->l4_proto == IPPROTO_NUM_UDP)
		l4c = csum_udp_nonzero(l4c);
	st16(l4 + coff, l4c);
}

/*
 * Replace a 32-bit field inside the ICMP message, updating the ICMP
 * checksum, and return the old value.
 */
static uint32_t icmp_set32(uint8_t *p, uint32_t v, uint16_t *icmpc)
{
	uint32_t old = ld32(p);

	if (old != v) {
		*icmpc = csum_replace4(*icmpc, old, v);
		st32(p, v);
	}
	return old;
}

static void icmp_set16(uint8_t *p, uint16_t v, uint16_t *icmpc)
{
	uint16_t old = ld16(p);

	if (old != v) {
		*icmpc = csum_replace2(*icmpc, old, v);
		st16(p, v);
	}
}

/*
 * The checksum of a quoted echo message summed again, its checksum field
 * taken as zero; @c if the message is not whole in the quote. As in the
 * echo rewrite above: a message whose words all became zero needs 0xffff,
 * which RFC 1624 eqn 3 cannot give.
 */
static uint16_t quote_echo_resum(const uint8_t *frame,
				 const struct pkt_inner *in, unsigned int coff,
				 uint16_t c)
{
	const uint8_t *ip = frame + in->l3_off, *l4 = frame + in->l4_off;
	uint32_t hl = (uint32_t)(ip[0] & 15u) * 4u;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
	uint32_t sum;

	if (in->l3 != PKT_L3_IPV4 || tot < hl + coff + 2 ||
	    tot - hl > in->l4_avail)
		return c;
	sum = csum_partial(l4, coff, 0);
	sum = csum_partial(l4 + coff + 2, tot - hl - coff - 2, sum);
	return csum_finish(sum);
}

/* The quoted L4 header: ports or echo id, and its checksum if quoted. */
static void rewrite_quote_l4(uint8_t *frame, const struct pkt_inner *in,
			     const struct ct_tuple *to, uint32_t osrc,
			     uint32_t odst, uint16_t *icmpc)
{
	uint8_t *l4 = frame + in->l4_off;
	unsigned int coff = l4_csum_off(in->proto);
	bool has_csum = in->l4_avail >= coff + 2;
	uint16_t c = has_csum ? ld16(l4 + coff) : 0;
	uint16_t c0 = c;
	bool udp_none = in->proto == IPPROTO_NUM_UDP && c == 0;

	if (in->flags & PKT_INNER_ECHO) {
		uint16_t oid = ld16(l4 + offsetof(struct icmp_hdr, un.echo.id));

		if (has_csum && oid != to->sport)
			c = csum_replace2(c, oid, to->sport);
		icmp_set16(l4 + offsetof(struct icmp_hdr, un.echo.id), to->sport,
			   icmpc);
		if (has_csum && c == 0)
			c = quote_echo_resum(frame, in, coff, c);
	} else {
		if (has_csum && !udp_none) {
			c = csum_replace4(c, osrc, to->saddr);
			c = csum_replace4(c, odst, to->daddr);
			c = csum_replace2(c, ld16(l4), to->sport);
			c = csum_replace2(c, ld16(l4 + 2), to->dport);
			if (in->proto == IPPROTO_NUM_UDP)
				c = csum_udp_nonzero(c);
		}
		icmp_set16(l4, to->sport, icmpc);
		icmp_set16(l4 + 2, to->dport, icmpc);
	}
	if (has_csum && c != c0)
		icmp_set16(l4 + coff, c, icmpc);
}

void nat_rewrite_icmp_error(uint8_t *frame, const struct pkt_meta *m,
			    const struct ct_tuple *inner, uint32_t outer_src,
			    uint32_t outer_dst)
{
	const struct pkt_inner *in = &m->inner;
	uint8_t *icmp = frame + m->l4_off;
	uint8_t *qip = frame + in->l3_off;
	uint16_t icmpc = ld16(icmp + offsetof(struct icmp_hdr, check));
	uint16_t qipc = ld16(qip + offsetof(struct ip4_hdr, check));
	uint32_t osrc = ld32(qip + offsetof(struct ip4_hdr, saddr));
	uint32_t odst = ld32(qip + offsetof(struct ip4_hdr, daddr));
	struct ct_tuple outer = { .saddr = outer_src, .daddr = outer_dst };

	/* The quoted IPv4 header and its checksum, all under the ICMP checksum. */
	qipc = csum_replace4(qipc, osrc, inner->saddr);
	qipc = csum_replace4(qipc, odst, inner->daddr);
	icmp_set32(qip + offsetof(struct ip4_hdr, saddr), inner->saddr, &icmpc);
	icmp_set32(qip + offsetof(struct ip4_hdr, daddr), inner->daddr, &icmpc);
	icmp_set16(qip + offsetof(struct ip4_hdr, check), qipc, &icmpc);

	if (in->flags & PKT_INNER_PORTS)
		rewrite_quote_l4(frame, in, inner, osrc, odst, &icmpc);
	st16(icmp + offsetof(struct icmp_hdr, check), icmpc);

	/* The outer header: ICMP has no pseudo-header, only the IP checksum. */
	{
		struct pkt_meta outer_only = *m;

		outer_only.flags &= ~PKT_F_L4;
		nat_rewrite(frame, &outer_only, &outer, false);
	}
}
