// SPDX-License-Identifier: MIT
/*
 * nat_ref.c - the naive NAT model; theory of operation in nat_ref.h.
 *
 * Section numbers in comments are those of docs/nat.md. Every structure is
 * a plain array scanned from the start; removal keeps the order with
 * memmove, so that "oldest" is always "first". Where the specification
 * leaves a choice open, the comment at that spot says which reading the
 * model takes.
 */
#include "ref/nat_ref.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "ct/table.h"
#include "ct/timeouts.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"
#include "ref/csum_ref.h"

/* Offsets the model writes, straight from RFC 791, 793, 768 and 792. */
#define IP_CHECK	10
#define IP_SADDR	12
#define IP_DADDR	16
#define TCP_CHECK	16
#define UDP_LEN		4
#define UDP_CHECK	6
#define ICMP_CHECK	2
#define ICMP_ID		4

/* The range of ports is at most 65536 ports long. */
#define PORTS_MAX	65536u

/**
 * struct nat_ref_frag - what a translated first fragment left behind.
 * @saddr: its source before translation (network order)
 * @daddr: its destination before translation
 * @id:    its IP identification (host order)
 * @proto: its protocol
 * @dir:   the direction it travelled in its flow
 * @tuple: the flow's two tuples
 * @time:  when it was recorded (or last updated), ns
 */
struct nat_ref_frag {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t id;
	uint8_t proto;
	uint8_t dir;
	struct ct_tuple tuple[2];
	uint64_t time;
};

struct nat_ref {
	uint32_t ext_addrs[NAT_MAX_EXT_ADDRS];
	unsigned int n_ext;
	uint16_t port_min;
	uint16_t port_max;
	enum nat_filtering filtering;
	uint64_t timeout_ns[CT_TO__MAX];
	uint64_t frag_timeout_ns;
	uint32_t frag_max;
	uint64_t rng;

	struct nat_ref_flow *flows;	/* present flows, in confirm order */
	uint32_t n_flows;
	uint32_t max_flows;
	struct nat_ref_mapping *maps;	/* mappings in use, any order */
	uint32_t n_maps;
	uint32_t cap_maps;
	unsigned int n_forwards;
	struct nat_redirect redirects[NAT_MAX_REDIRECTS];	/* host-order ports */
	unsigned int n_redirects;
	struct nat_alias alias;		/* nat_config.inbound_alias */
	struct nat_ref_frag *frags;	/* fragment entries, oldest first */
	uint32_t n_frags;
	uint16_t *cand;			/* scratch: port candidates */

	uint64_t next_serial;
	uint64_t next_closed;	/* order of entering TIME_WAIT/CLOSE, from 1 */
	uint64_t next_map_id;
	/*
	 * The mapping a flow under construction holds: from the moment it
	 * is found or created until the flow is confirmed (then the flow
	 * holds it) or refused (then it is let go), so that nothing removed
	 * in between (an early drop, an expired clash holder) can release a
	 * mapping that is about to be used.
	 */
	uint64_t pending;
	struct nat_ref_stats stats;
};

/* ---- small helpers ---- */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static struct ct_tuple mk_tuple(uint32_t saddr, uint32_t daddr, uint16_t sport,
				uint16_t dport, uint8_t proto)
{
	struct ct_tuple t;

	memset(&t, 0, sizeof(t));	/* the padding too: tuples compare as bytes */
	t.saddr = saddr;
	t.daddr = daddr;
	t.sport = sport;
	t.dport = dport;
	t.proto = proto;
	return t;
}

static bool is_ext(const struct nat_ref *m, uint32_t addr)
{
	for (unsigned int i = 0; i < m->n_ext; i++) {
		if (m->ext_addrs[i] == addr)
			return true;
	}
	return false;
}

enum nat_side nat_ref_from_side(enum nat_ref_kind kind, enum ct_dir dir)
{
	switch (kind) {
	case NAT_REF_OUT:
		return dir == CT_DIR_ORIG ? NAT_INSIDE : NAT_OUTSIDE;
	case NAT_REF_IN:
		return dir == CT_DIR_ORIG ? NAT_OUTSIDE : NAT_INSIDE;
	default:
		return NAT_INSIDE;
	}
}

/* Where a packet of direction @dir goes: away from where it came from. */
static enum nat_verdict to_side(enum nat_ref_kind kind, enum ct_dir dir)
{
	if (kind == NAT_REF_HAIRPIN)
		return NAT_V_TO_INSIDE;
	return nat_ref_from_side(kind, dir) == NAT_INSIDE ? NAT_V_TO_OUTSIDE
							  : NAT_V_TO_INSIDE;
}

/* ---- mappings ---- */

static int32_t map_by_id(const struct nat_ref *m, uint64_t id)
{
	for (uint32_t i = 0; i < m->n_maps; i++) {
		if (m->maps[i].id == id)
			return (int32_t)i;
	}
	return -1;
}

static int32_t map_by_int(const struct nat_ref *m, uint32_t addr, uint16_t port,
			  uint8_t proto)
{
	for (uint32_t i = 0; i < m->n_maps; i++) {
		const struct nat_ref_mapping *p = &m->maps[i];

		if (p->int_addr == addr && p->int_port == port && p->proto == proto)
			return (int32_t)i;
	}
	return -1;
}

static int32_t map_by_ext(const struct nat_ref *m, uint32_t addr, uint16_t port,
			  uint8_t proto)
{
	for (uint32_t i = 0; i < m->n_maps; i++) {
		const struct nat_ref_mapping *p = &m->maps[i];

		if (p->ext_addr == addr && p->ext_port == port && p->proto == proto)
			return (int32_t)i;
	}
	return -1;
}

/* "Free": no mapping, dynamic or static, uses it on that address and protocol. */
static bool port_free(const struct nat_ref *m, uint32_t addr, uint8_t proto,
		      uint16_t port_host)
{
	return map_by_ext(m, addr, htons(port_host), proto) < 0;
}

static uint64_t map_add(struct nat_ref *m, uint32_t int_addr, uint16_t int_port,
			uint32_t ext_addr, uint16_t ext_port, uint8_t proto,
			bool is_static)
{
	struct nat_ref_mapping *p;

	if (m->n_maps == m->cap_maps)
		return 0;	/* cannot happen: sized for every flow + forwards */
	p = &m->maps[m->n_maps++];
	memset(p, 0, sizeof(*p));
	p->id = m->next_map_id++;
	p->int_addr = int_addr;
	p->int_port = int_port;
	p->ext_addr = ext_addr;
	p->ext_port = ext_port;
	p->proto = proto;
	p->is_static = is_static;
	return p->id;
}

/* A dynamic mapping lives while some flow (or the flow being built) holds it. */
static void map_put(struct nat_ref *m, uint64_t id)
{
	int32_t i = map_by_id(m, id);

	if (i < 0 || m->maps[i].is_static || m->pending == id)
		return;
	for (uint32_t j = 0; j < m->n_flows; j++) {
		if (m->flows[j].mapping == id)
			return;
	}
	memmove(&m->maps[i], &m->maps[i + 1],
		(m->n_maps - (uint32_t)i - 1) * sizeof(*m->maps));
	m->n_maps--;
}

/*
 * The ports a search may try, in increasing order, into m->cand: TCP/UDP
 * the sub-range of @p's class (below 1024 or not; the whole range if that
 * is empty) and of @p's parity (all of it if none has it); ICMP the whole
 * range.
 */
static uint32_t candidates(struct nat_ref *m, unsigned int p, uint8_t proto)
{
	unsigned int lo = m->port_min, hi = m->port_max;
	uint32_t count = 0;

	if (proto != IPPROTO_NUM_ICMP) {
		unsigned int sub_lo = p < 1024 ? lo : MAX(lo, 1024u);
		unsigned int sub_hi = p < 1024 ? MIN(hi, 1023u) : hi;

		if (sub_lo <= sub_hi) {
			lo = sub_lo;
			hi = sub_hi;
		}
		for (unsigned int c = lo; c <= hi; c++) {
			if ((c & 1) == (p & 1))
				m->cand[count++] = (uint16_t)c;
		}
		if (count)
			return count;
	}
	for (unsigned int c = lo; c <= hi; c++)
		m->cand[count++] = (uint16_t)c;
	return count;
}

/*
 * Create the mapping of (@addr, @port, @proto): paired address, then port
 * preservation, then one draw of the generator for a random start among
 * the candidates, every candidate in turn from there; then, if the
 * candidates were one parity of the class, every port of the class from
 * the start candidate on, wrapping around.
 */
static uint64_t map_create(struct nat_ref *m, uint32_t addr, uint16_t port,
			   uint8_t proto)
{
	uint32_t ext = m->ext_addrs[nat_ext_index(addr, m->n_ext)];
	unsigned int p = ntohs(port);
	unsigned int lo = m->port_min, hi = m->port_max;
	uint32_t count, start;
	uint16_t from;

	if (p >= m->port_min && p <= m->port_max && p != 0 &&
	    port_free(m, ext, proto, (uint16_t)p))
		return map_add(m, addr, port, ext, port, proto, false);

	count = candidates(m, p, proto);
	start = (uint32_t)(nat_rng_next(&m->rng) % count);
	for (uint32_t i = 0; i < count; i++) {
		uint16_t c = m->cand[(start + i) % count];

		if (port_free(m, ext, proto, c))
			return map_add(m, addr, port, ext, htons(c), proto, false);
	}
	if (proto == IPPROTO_NUM_ICMP)
		return 0;
	/* The class, as candidates() chose it, every port. */
	if (p < 1024 ? lo <= MIN(hi, 1023u) : MAX(lo, 1024u) <= hi) {
		lo = p < 1024 ? lo : MAX(lo, 1024u);
		hi = p < 1024 ? MIN(hi, 1023u) : hi;
	}
	from = m->cand[start];
	for (unsigned int i = 0; i <= hi - lo; i++) {
		unsigned int c = from + i;

		if (c > hi)
			c -= hi - lo + 1;
		if (port_free(m, ext, proto, (uint16_t)c))
			return map_add(m, addr, port, ext, htons((uint16_t)c),
				       proto, false);
	}
	return 0;
}

static bool reclaim_closed(struct nat_ref *m);

/* The source's mapping, found or created; it becomes the pending one. */
static bool map_get_source(struct nat_ref *m, uint32_t addr, uint16_t port,
			   uint8_t proto, struct nat_ref_mapping *out)
{
	int32_t i = map_by_int(m, addr, port, proto);

	if (i < 0) {
		uint64_t id = map_create(m, addr, port, proto);

		/* No port: closed flows give theirs back, a bounded number. */
		for (unsigned int k = 0; !id && k < NAT_RECLAIM_MAX &&
					 reclaim_closed(m); k++)
			id = map_create(m, addr, port, proto);
		if (!id)
			return false;
		i = map_by_id(m, id);
	}
	*out = m->maps[i];
	m->pending = out->id;
	return true;
}

/* The flow being built was refused: let go of its mapping. */
static void pending_drop(struct nat_ref *m)
{
	uint64_t id = m->pending;

	m->pending = 0;
	if (id)
		map_put(m, id);
}

/* ---- flows ---- */

static void flow_remove(struct nat_ref *m, uint32_t i)
{
	uint64_t map = m->flows[i].mapping;

	memmove(&m->flows[i], &m->flows[i + 1],
		(m->n_flows - i - 1) * sizeof(*m->flows));
	m->n_flows--;
	map_put(m, map);
}

/*
 * The lookup of every section: the present flow one of whose tuples is
 * @t; a flow that is present but no longer live is removed and missed.
 */
static int32_t flow_lookup(struct nat_ref *m, const struct ct_tuple *t,
			   uint64_t now, enum ct_dir *dir)
{
	for (uint32_t i = 0; i < m->n_flows; i++) {
		for (unsigned int d = 0; d < 2; d++) {
			if (!ct_tuple_eq(&m->flows[i].tuple[d], t))
				continue;
			if (m->flows[i].deadline <= now) {
				flow_remove(m, i);
				return -1;
			}
			*dir = (enum ct_dir)d;
			return (int32_t)i;
		}
	}
	return -1;
}

/* The replied TCP flow that closed longest ago goes; false if none. */
static bool reclaim_closed(struct nat_ref *m)
{
	int32_t best = -1;

	for (uint32_t i = 0; i < m->n_flows; i++) {
		if (m->flows[i].closed &&
		    (best < 0 || m->flows[i].closed < m->flows[best].closed))
			best = (int32_t)i;
	}
	if (best < 0)
		return false;
	m->stats.reclaimed++;
	flow_remove(m, (uint32_t)best);
	return true;
}

/* Step 1: a free entry, early-dropping the oldest unreplied flow if need
 * be, else the flow that closed longest ago. */
static bool take_entry(struct nat_ref *m)
{
	if (m->n_flows < m->max_flows)
		return true;
	for (uint32_t i = 0; i < m->n_flows; i++) {
		if (!m->flows[i].replied) {
			m->stats.early_drops++;
			flow_remove(m, i);
			return true;
		}
	}
	return reclaim_closed(m);
}

/*
 * Step 5. Neither tuple may be held by a live flow; expired holders are
 * removed on the way. The two may be equal (a host hairpinning to its own
 * mapping): the flow is its own reply, and flow_lookup() finds it as ORIG.
 */
static bool confirm(struct nat_ref *m, struct nat_ref_flow *f,
		    enum ct_timeout_class tc, uint64_t now)
{
	enum ct_dir d;

	if (flow_lookup(m, &f->tuple[0], now, &d) >= 0 ||
	    flow_lookup(m, &f->tuple[1], now, &d) >= 0)
		return false;
	f->mapping = m->pending;
	f->deadline = now + m->timeout_ns[tc];
	f->serial = m->next_serial++;
	f->replied = false;
	m->flows[m->n_flows++] = *f;
	m->pending = 0;
	return true;
}

/* ADF: some present inside flow of @map_id went to @addr (its reply's
 * source: a redirected flow went to the redirect's target). */
static bool permitted(const struct nat_ref *m, uint64_t map_id, uint32_t addr)
{
	for (uint32_t i = 0; i < m->n_flows; i++) {
		const struct nat_ref_flow *f = &m->flows[i];

		if (f->kind == NAT_REF_OUT && f->mapping == map_id &&
		    f->tuple[CT_DIR_REPLY].saddr == addr)
			return true;
	}
	return false;
}

static bool filter_allows(const struct nat_ref *m,
			  const struct nat_ref_mapping *dst, uint32_t remote)
{
	if (dst->is_static)
		return true;
	switch (m->filtering) {
	case NAT_FILTER_EIF:
		return true;
	case NAT_FILTER_ADF:
		return permitted(m, dst->id, remote);
	default:
		return false;
	}
}

/* ---- checksums, in full or by a plain word-by-word adjustment ---- */

static void ip4_csum_full(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0fu) * 4u;

	wr16(ip + IP_CHECK, 0);
	wr16(ip + IP_CHECK, csum_ref(ip, hlen));
}

static void pseudo_hdr(uint8_t ph[12], uint32_t saddr, uint32_t daddr,
		       uint8_t proto, size_t len)
{
	wr32(ph, saddr);
	wr32(ph + 4, daddr);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
}

/*
 * The checksum of @len bytes at @l4 whose checksum field is at @off,
 * behind @ph (12 bytes) or no pseudo-header (NULL): the field counts as 0.
 */
static uint16_t csum_full(const uint8_t *ph, const uint8_t *l4, size_t len,
			  size_t off)
{
	uint16_t s = ph ? csum_ref_sum(ph, 12, 0) : 0;

	s = csum_ref_sum(l4, off, s);
	s = csum_ref_sum(l4 + off + 2, len - off - 2, s);
	return csum_ref_wire((uint16_t)~s);
}

/*
 * RFC 1624 equation 3 done the slow way: take the complement of the old
 * checksum, then for each 16-bit word that changed add its old value's
 * complement and its new value, folding the carry at every step. A word
 * that did not change is no update at all: adding ~m + m would turn a
 * checksum of 0xFFFF into 0 when nothing else changes.
 */
static uint16_t csum_adjust(uint16_t field, const uint8_t *old,
			    const uint8_t *new_, size_t len)
{
	const uint8_t *f = (const uint8_t *)&field;
	uint32_t s = (uint16_t)~(uint16_t)(f[0] << 8 | f[1]);

	for (size_t i = 0; i < len; i += 2) {
		if (old[i] == new_[i] && old[i + 1] == new_[i + 1])
			continue;
		s += (uint16_t)~(uint16_t)(old[i] << 8 | old[i + 1]);
		if (s > 0xffff)
			s = (s & 0xffff) + 1;
		s += (uint32_t)(new_[i] << 8 | new_[i + 1]);
		if (s > 0xffff)
			s = (s & 0xffff) + 1;
	}
	return csum_ref_wire((uint16_t)~s);
}

static uint16_t udp_nonzero(uint16_t c)
{
	return c ? c : 0xffff;
}

/* ---- rewriting ---- */

/*
 * Give a packet the tuple @n. The IPv4 header checksum is recomputed in
 * full. L4: a non-first fragment has none; a CHECKSUM_PARTIAL TCP/UDP
 * field gets the pseudo-header sum of the new addresses; an ICMP echo
 * with CHECKSUM_PARTIAL keeps its field (no pseudo-header, and the id is
 * summed by the NIC); a UDP checksum of 0 stays 0; a first fragment's
 * checksum covers the whole datagram, so it is adjusted; anything else is
 * recomputed over the whole segment.
 */
static void rewrite_packet(uint8_t *frame, const struct pkt_meta *pm,
			   uint32_t flags, const struct ct_tuple *n)
{
	uint8_t *ip = frame + pm->l3_off, *l4 = frame + pm->l4_off;
	bool first_frag = (pm->flags & PKT_F_FRAG) != 0;
	bool partial = (flags & NAT_PKT_CSUM_PARTIAL) != 0;
	uint8_t old[12], new_[12], ph[12];
	uint8_t proto = pm->l4_proto;
	size_t off, len;
	uint16_t c;

	memcpy(old, ip + IP_SADDR, 8);
	wr32(ip + IP_SADDR, n->saddr);
	wr32(ip + IP_DADDR, n->daddr);
	ip4_csum_full(ip);
	if (pm->flags & PKT_F_FRAG_LATER)
		return;

	if (proto == IPPROTO_NUM_ICMP) {
		memcpy(old, l4 + ICMP_ID, 2);
		wr16(l4 + ICMP_ID, n->sport);
		if (partial)
			return;
		if (first_frag)
			c = csum_adjust(rd16(l4 + ICMP_CHECK), old, l4 + ICMP_ID, 2);
		else
			c = csum_full(NULL, l4, pm->l4_len, ICMP_CHECK);
		wr16(l4 + ICMP_CHECK, c);
		return;
	}

	off = proto == IPPROTO_NUM_TCP ? TCP_CHECK : UDP_CHECK;
	len = proto == IPPROTO_NUM_TCP ? pm->l4_len : ntohs(rd16(l4 + UDP_LEN));
	memcpy(old + 8, l4, 4);
	wr16(l4, n->sport);
	wr16(l4 + 2, n->dport);
	memcpy(new_, ip + IP_SADDR, 8);
	memcpy(new_ + 8, l4, 4);
	c = rd16(l4 + off);
	if (partial) {
		pseudo_hdr(ph, n->saddr, n->daddr, proto, len);
		c = csum_ref_wire(csum_ref_sum(ph, sizeof(ph), 0));
	} else if (proto == IPPROTO_NUM_UDP && c == 0) {
		return;
	} else if (first_frag) {
		c = csum_adjust(c, old, new_, sizeof(old));
	} else {
		pseudo_hdr(ph, n->saddr, n->daddr, proto, len);
		c = csum_full(ph, l4, len, off);
	}
	if (proto == IPPROTO_NUM_UDP && !partial)
		c = udp_nonzero(c);
	wr16(l4 + off, c);
}

/*
 * Section 7: the quote becomes @to, the outer addresses that were the
 * flow's endpoints as @at saw them are swapped for @to's, checksums as
 * the specification lists them.
 */
static void rewrite_error(uint8_t *frame, const struct pkt_meta *pm,
			  const struct ct_tuple *at, const struct ct_tuple *to,
			  bool to_outside)
{
	uint8_t *ip = frame + pm->l3_off, *l4 = frame + pm->l4_off;
	uint8_t *iip = frame + pm->inner.l3_off, *il4 = frame + pm->inner.l4_off;
	unsigned int avail = pm->inner.l4_avail;
	uint32_t saddr = rd32(ip + IP_SADDR), daddr = rd32(ip + IP_DADDR);
	uint8_t old[12], new_[12];
	uint16_t c;

	memcpy(old, iip + IP_SADDR, 8);
	wr32(iip + IP_SADDR, to->saddr);
	wr32(iip + IP_DADDR, to->daddr);
	ip4_csum_full(iip);
	memcpy(new_, iip + IP_SADDR, 8);

	if (pm->inner.proto == IPPROTO_NUM_ICMP) {
		memcpy(old, il4 + ICMP_ID, 2);
		wr16(il4 + ICMP_ID, to->sport);
		if (avail >= ICMP_CHECK + 2) {
			c = csum_adjust(rd16(il4 + ICMP_CHECK), old,
					il4 + ICMP_ID, 2);
			wr16(il4 + ICMP_CHECK, c);
		}
	} else {
		size_t off = pm->inner.proto == IPPROTO_NUM_TCP ? TCP_CHECK
								: UDP_CHECK;

		memcpy(old + 8, il4, 4);
		wr16(il4, to->sport);
		wr16(il4 + 2, to->dport);
		memcpy(new_ + 8, il4, 4);
		if (avail >= off + 2) {
			c = rd16(il4 + off);
			if (pm->inner.proto == IPPROTO_NUM_TCP) {
				wr16(il4 + off, csum_adjust(c, old, new_, 12));
			} else if (c != 0) {
				c = csum_adjust(c, old, new_, 12);
				wr16(il4 + off, udp_nonzero(c));
			}
		}
	}

	/* Both tests look at the addresses as they arrived; leaving to the
	 * outside, the source is always the external address. */
	wr32(ip + IP_SADDR, (to_outside || saddr == at->saddr) ? to->daddr : saddr);
	wr32(ip + IP_DADDR, daddr == at->daddr ? to->saddr : daddr);
	ip4_csum_full(ip);
	wr16(l4 + ICMP_CHECK, csum_full(NULL, l4, pm->l4_len, ICMP_CHECK));
}

/* ---- fragments (section 1) ---- */

static int32_t frag_find(const struct nat_ref *m, uint32_t saddr, uint32_t daddr,
			 uint16_t id, uint8_t proto)
{
	for (uint32_t i = 0; i < m->n_frags; i++) {
		const struct nat_ref_frag *fr = &m->frags[i];

		if (fr->saddr == saddr && fr->daddr == daddr && fr->id == id &&
		    fr->proto == proto)
			return (int32_t)i;
	}
	return -1;
}

/* A first fragment was translated: remember its flow for the later ones. */
static void frag_record(struct nat_ref *m, const struct pkt_meta *pm,
			uint32_t saddr, uint32_t daddr,
			const struct nat_ref_flow *f, enum ct_dir dir, uint64_t now)
{
	uint16_t id = (uint16_t)pm->frag_id;
	int32_t i = frag_find(m, saddr, daddr, id, pm->l4_proto);
	struct nat_ref_frag *fr;

	if (i >= 0) {
		fr = &m->frags[i];	/* updated in place: keeps its age rank */
	} else {
		if (m->n_frags == m->frag_max) {
			if (m->frags[0].time + m->frag_timeout_ns > now)
				m->stats.frag_evicted++;
			memmove(&m->frags[0], &m->frags[1],
				(m->n_frags - 1) * sizeof(*m->frags));
			m->n_frags--;
		}
		fr = &m->frags[m->n_frags++];
		fr->saddr = saddr;
		fr->daddr = daddr;
		fr->id = id;
		fr->proto = pm->l4_proto;
	}
	fr->dir = (uint8_t)dir;
	fr->tuple[0] = f->tuple[0];
	fr->tuple[1] = f->tuple[1];
	fr->time = now;
}

static enum nat_drop do_frag_later(struct nat_ref *m, struct nat_pkt *pkt,
				   enum nat_side from, uint64_t now,
				   uint32_t saddr, uint32_t daddr)
{
	const struct nat_ref_frag *fr;
	const struct nat_ref_flow *f = NULL;
	struct ct_tuple n;
	int32_t i;

	i = frag_find(m, saddr, daddr, (uint16_t)pkt->meta.frag_id,
		      pkt->meta.l4_proto);
	if (i < 0)
		return NAT_DROP_FRAG_NO_FLOW;
	fr = &m->frags[i];
	if (fr->time + m->frag_timeout_ns <= now)
		return NAT_DROP_FRAG_NO_FLOW;
	/*
	 * "Still live with the same two tuples": the present flow with both
	 * tuples, if its deadline is later than now. Not a lookup: a flow
	 * found dead here is left for the collector or the next lookup.
	 */
	for (uint32_t j = 0; j < m->n_flows; j++) {
		if (ct_tuple_eq(&m->flows[j].tuple[0], &fr->tuple[0]) &&
		    ct_tuple_eq(&m->flows[j].tuple[1], &fr->tuple[1])) {
			f = &m->flows[j];
			break;
		}
	}
	if (!f || f->deadline <= now)
		return NAT_DROP_FRAG_NO_FLOW;
	if (nat_ref_from_side(f->kind, fr->dir) != from)
		return NAT_DROP_WRONG_SIDE;
	n = ct_tuple_invert(&f->tuple[!fr->dir]);
	rewrite_packet(pkt->frame, &pkt->meta, pkt->flags, &n);
	pkt->verdict = (uint8_t)to_side(f->kind, fr->dir);
	return NAT_DROP_NONE;
}

/* ---- the sections ---- */

static void tcp_seg(const struct nat_pkt *pkt, struct ct_tcp_seg *s)
{
	const uint8_t *th = pkt->frame + pkt->meta.l4_off;

	memset(s, 0, sizeof(*s));
	s->seq = ntohl(rd32(th + 4));
	s->ack = ntohl(rd32(th + 8));
	s->len = pkt_payload_len(&pkt->meta);
	s->win = ntohs(rd16(th + 14));
	s->flags = th[13];
	s->has_wscale = (pkt->meta.flags & PKT_F_TCP_WSCALE) != 0;
	s->wscale = pkt->meta.tcp_wscale;
	s->sack_perm = (pkt->meta.flags & PKT_F_TCP_SACK_PERM) != 0;
}

static enum nat_drop tcp_drop(enum ct_tcp_verdict v)
{
	switch (v) {
	case CT_TCP_OK:
		return NAT_DROP_NONE;
	case CT_TCP_BAD_FLAGS:
		return NAT_DROP_TCP_BAD_FLAGS;
	case CT_TCP_NOT_SYN:
		return NAT_DROP_TCP_NOT_SYN;
	case CT_TCP_RST_OUT_OF_WINDOW:
		return NAT_DROP_TCP_RST_WINDOW;
	case CT_TCP_BAD_SYNACK:
		return NAT_DROP_TCP_BAD_SYNACK;
	default:
		return NAT_DROP_TCP_UNEXPECTED;
	}
}

/* Timeout class of a flow that has just been confirmed (step 6). */
static enum ct_timeout_class new_class(uint8_t proto)
{
	if (proto == IPPROTO_NUM_TCP)
		return ct_tcp_timeout_class(CT_TCP_SYN_SENT);
	if (proto == IPPROTO_NUM_UDP)
		return CT_TO_UDP_UNREPLIED;
	return CT_TO_ICMP;
}

/* A new flow was confirmed: translate its first packet (ORIG). */
static void forward_new(struct nat_ref *m, struct nat_pkt *pkt, uint64_t now,
			uint32_t saddr, uint32_t daddr)
{
	const struct nat_ref_flow *f = &m->flows[m->n_flows - 1];
	struct ct_tuple n = ct_tuple_invert(&f->tuple[CT_DIR_REPLY]);

	rewrite_packet(pkt->frame, &pkt->meta, pkt->flags, &n);
	pkt->verdict = (uint8_t)to_side(f->kind, CT_DIR_ORIG);
	if ((pkt->meta.flags & PKT_F_FRAG) && !(pkt->meta.flags & PKT_F_FRAG_LATER))
		frag_record(m, &pkt->meta, saddr, daddr, f, CT_DIR_ORIG, now);
}

/* Section 3. */
static enum nat_drop do_known(struct nat_ref *m, struct nat_pkt *pkt,
			      enum nat_side from, uint64_t now, uint32_t i,
			      enum ct_dir d)
{
	struct nat_ref_flow *f = &m->flows[i];
	uint8_t proto = f->tuple[0].proto;
	enum ct_timeout_class tc = CT_TO_ICMP;
	uint32_t saddr = pkt_ip4_saddr(pkt->frame, &pkt->meta);
	uint32_t daddr = pkt_ip4_daddr(pkt->frame, &pkt->meta);
	struct ct_tcp_seg seg;
	struct ct_tuple n;

	if (nat_ref_from_side(f->kind, d) != from)
		return NAT_DROP_WRONG_SIDE;
	if (proto == IPPROTO_NUM_TCP) {
		enum ct_tcp_verdict v;

		tcp_seg(pkt, &seg);
		v = ct_tcp_track(&f->tcp, d, &seg);
		if (v != CT_TCP_OK)
			return tcp_drop(v);
		tc = ct_tcp_timeout_class(f->tcp.state);
	} else if (proto == IPPROTO_NUM_UDP) {
		tc = f->replied || d == CT_DIR_REPLY ? CT_TO_UDP_ASSURED
						     : CT_TO_UDP_UNREPLIED;
	}
	f->deadline = now + m->timeout_ns[tc];
	if (d == CT_DIR_REPLY)
		f->replied = true;
	if (tc != CT_TO_TCP_TIME_WAIT && tc != CT_TO_TCP_CLOSE)
		f->closed = 0;
	else if (f->replied && !f->closed)
		f->closed = m->next_closed++;
	n = ct_tuple_invert(&f->tuple[!d]);
	rewrite_packet(pkt->frame, &pkt->meta, pkt->flags, &n);
	pkt->verdict = (uint8_t)to_side(f->kind, d);
	if (pkt->meta.flags & PKT_F_FRAG)
		frag_record(m, &pkt->meta, saddr, daddr, f, d, now);
	return NAT_DROP_NONE;
}

/* Section 5, after step 1 (never ICMP: that was local before step 1). */
static enum nat_drop do_hairpin(struct nat_ref *m, struct nat_pkt *pkt,
				uint64_t now, const struct ct_tuple *key,
				const struct ct_tcp *tcp)
{
	struct nat_ref_mapping dst, src;
	struct nat_ref_flow f;
	bool self;
	int32_t i;

	i = map_by_ext(m, key->daddr, key->dport, key->proto);
	if (i < 0)
		return NAT_DROP_UNSOLICITED;
	dst = m->maps[i];
	if (!map_get_source(m, key->saddr, key->sport, key->proto, &src))
		return NAT_DROP_PORT_EXHAUSTED;
	/* To its own mapping: no filter, but no TCP with itself. */
	self = src.id == dst.id;
	if (self && key->proto == IPPROTO_NUM_TCP) {
		pending_drop(m);
		return NAT_DROP_HAIRPIN_SELF_TCP;
	}
	if (!self && !filter_allows(m, &dst, src.ext_addr)) {
		pending_drop(m);
		return NAT_DROP_FILTERED;
	}
	memset(&f, 0, sizeof(f));
	f.tuple[CT_DIR_ORIG] = *key;
	f.tuple[CT_DIR_REPLY] = mk_tuple(dst.int_addr, src.ext_addr, dst.int_port,
					 src.ext_port, key->proto);
	f.tcp = *tcp;
	f.kind = NAT_REF_HAIRPIN;
	if (!confirm(m, &f, new_class(key->proto), now)) {
		pending_drop(m);
		return NAT_DROP_CLASH;
	}
	forward_new(m, pkt, now, key->saddr, key->daddr);
	return NAT_DROP_NONE;
}

/* Section 4. */
static enum nat_drop do_new_inside(struct nat_ref *m, struct nat_pkt *pkt,
				   uint64_t now, const struct ct_tuple *key)
{
	struct nat_ref_mapping src;
	struct nat_ref_flow f;
	struct ct_tcp tcp;
	uint16_t rsport;
	uint32_t rsaddr;

	memset(&tcp, 0, sizeof(tcp));
	if (key->proto == IPPROTO_NUM_TCP) {
		struct ct_tcp_seg seg;
		enum ct_tcp_verdict v;

		tcp_seg(pkt, &seg);
		v = ct_tcp_new(&tcp, &seg);
		if (v != CT_TCP_OK)
			return tcp_drop(v);
	} else if (key->proto == IPPROTO_NUM_ICMP) {
		if (pkt->meta.icmp_type != ICMP_ECHO)
			return NAT_DROP_ICMP_TYPE;
		/* A ping to an external address: before step 1, takes no entry. */
		if (is_ext(m, key->daddr)) {
			pkt->verdict = NAT_V_LOCAL;
			return NAT_DROP_NONE;
		}
	}
	if (!take_entry(m))
		return NAT_DROP_TABLE_FULL;
	if (is_ext(m, key->daddr))
		return do_hairpin(m, pkt, now, key, &tcp);
	if (!map_get_source(m, key->saddr, key->sport, key->proto, &src))
		return NAT_DROP_PORT_EXHAUSTED;

	/* ICMP: both "ports" of the reply tuple are the external id. */
	rsport = key->proto == IPPROTO_NUM_ICMP ? src.ext_port : key->dport;
	rsaddr = key->daddr;
	/* The exact rule, else the address's wildcard (port 0). */
	for (int exact = 1; exact >= 0 && key->proto != IPPROTO_NUM_ICMP &&
			    rsaddr == key->daddr; exact--) {
		for (unsigned int r = 0; r < m->n_redirects; r++) {
			const struct nat_redirect *rd = &m->redirects[r];

			if (rd->proto != key->proto || rd->addr != key->daddr ||
			    rd->port != (exact ? ntohs(key->dport) : 0))
				continue;
			rsaddr = rd->to_addr;
			if (rd->to_port)
				rsport = htons(rd->to_port);
		}
	}
	memset(&f, 0, sizeof(f));
	f.tuple[CT_DIR_ORIG] = *key;
	f.tuple[CT_DIR_REPLY] = mk_tuple(rsaddr, src.ext_addr, rsport,
					 src.ext_port, key->proto);
	f.tcp = tcp;
	f.kind = NAT_REF_OUT;
	if (!confirm(m, &f, new_class(key->proto), now)) {
		pending_drop(m);
		return NAT_DROP_CLASH;
	}
	forward_new(m, pkt, now, key->saddr, key->daddr);
	return NAT_DROP_NONE;
}

/* Section 6. */
static enum nat_drop do_new_outside(struct nat_ref *m, struct nat_pkt *pkt,
				    uint64_t now, const struct ct_tuple *key)
{
	struct nat_ref_mapping dst;
	struct nat_ref_flow f;
	struct ct_tcp tcp;
	int32_t i;

	if (!is_ext(m, key->daddr))
		return NAT_DROP_NOT_OURS;
	i = map_by_ext(m, key->daddr, key->dport, key->proto);
	if (key->proto == IPPROTO_NUM_ICMP && pkt->meta.icmp_type == ICMP_ECHO) {
		pkt->verdict = NAT_V_LOCAL;
		return NAT_DROP_NONE;
	}
	if (i < 0)
		return NAT_DROP_UNSOLICITED;
	dst = m->maps[i];
	memset(&tcp, 0, sizeof(tcp));
	if (key->proto == IPPROTO_NUM_TCP) {
		struct ct_tcp_seg seg;

		tcp_seg(pkt, &seg);
		if (ct_tcp_new(&tcp, &seg) != CT_TCP_OK)
			return NAT_DROP_UNSOLICITED;
	} else if (key->proto != IPPROTO_NUM_UDP) {
		return NAT_DROP_UNSOLICITED;
	}
	if (!filter_allows(m, &dst, key->saddr))
		return NAT_DROP_FILTERED;
	/*
	 * The mapping is held from here: an early drop in the step below
	 * must not release the mapping the new flow is about to use.
	 */
	m->pending = dst.id;
	if (!take_entry(m)) {
		pending_drop(m);
		return NAT_DROP_TABLE_FULL;
	}
	memset(&f, 0, sizeof(f));
	f.tuple[CT_DIR_ORIG] = *key;
	/* The inbound alias: the inside sees its address as the source. */
	f.tuple[CT_DIR_REPLY] = mk_tuple(dst.int_addr,
					 m->alias.to && (key->saddr & m->alias.mask) ==
					 m->alias.addr ? m->alias.to : key->saddr,
					 dst.int_port, key->sport, key->proto);
	f.tcp = tcp;
	f.kind = NAT_REF_IN;
	if (!confirm(m, &f, new_class(key->proto), now)) {
		pending_drop(m);
		return NAT_DROP_CLASH;
	}
	forward_new(m, pkt, now, key->saddr, key->daddr);
	return NAT_DROP_NONE;
}

/* Section 7. */
static enum nat_drop do_icmp_error(struct nat_ref *m, struct nat_pkt *pkt,
				   enum nat_side from, uint64_t now)
{
	const struct pkt_inner *in = &pkt->meta.inner;
	const uint8_t *iip = pkt->frame + in->l3_off;
	const struct nat_ref_flow *f;
	struct ct_tuple x, inv;
	enum ct_dir d;
	int32_t i;

	if (!(in->flags & PKT_INNER_PORTS) || (in->flags & PKT_INNER_FRAG_LATER))
		return NAT_DROP_ICMP_ERR_NO_FLOW;
	if (in->proto == IPPROTO_NUM_ICMP) {
		if (!(in->flags & PKT_INNER_ECHO))
			return NAT_DROP_ICMP_ERR_NO_FLOW;
		x = mk_tuple(rd32(iip + IP_SADDR), rd32(iip + IP_DADDR),
			     in->sport, in->sport, in->proto);
	} else if (in->proto == IPPROTO_NUM_TCP || in->proto == IPPROTO_NUM_UDP) {
		x = mk_tuple(rd32(iip + IP_SADDR), rd32(iip + IP_DADDR),
			     in->sport, in->dport, in->proto);
	} else {
		return NAT_DROP_ICMP_ERR_NO_FLOW;
	}
	inv = ct_tuple_invert(&x);
	i = flow_lookup(m, &inv, now, &d);
	if (i < 0)
		return NAT_DROP_ICMP_ERR_NO_FLOW;
	f = &m->flows[i];
	if (nat_ref_from_side(f->kind, d) != from)
		return NAT_DROP_WRONG_SIDE;
	if (rd32(pkt->frame + pkt->meta.l3_off + IP_DADDR) != f->tuple[d].daddr)
		return NAT_DROP_ICMP_ERR_ADDR;
	pkt->verdict = (uint8_t)to_side(f->kind, d);
	rewrite_error(pkt->frame, &pkt->meta, &f->tuple[d], &f->tuple[!d],
		      pkt->verdict == NAT_V_TO_OUTSIDE);
	return NAT_DROP_NONE;
}

static enum nat_drop process(struct nat_ref *m, struct nat_pkt *pkt,
			     enum nat_side from, uint64_t now)
{
	const struct pkt_meta *pm = &pkt->meta;
	uint32_t saddr, daddr;
	struct ct_tuple key;
	enum ct_dir d;
	int32_t i;

	if (pm->l3 != PKT_L3_IPV4)
		return NAT_DROP_NOT_IPV4;
	if (pm->l4_proto != IPPROTO_NUM_TCP && pm->l4_proto != IPPROTO_NUM_UDP &&
	    pm->l4_proto != IPPROTO_NUM_ICMP)
		return NAT_DROP_PROTO;
	saddr = pkt_ip4_saddr(pkt->frame, pm);
	daddr = pkt_ip4_daddr(pkt->frame, pm);
	if (pm->flags & PKT_F_FRAG_LATER)
		return do_frag_later(m, pkt, from, now, saddr, daddr);

	if (pm->l4_proto == IPPROTO_NUM_ICMP) {
		if (pm->flags & PKT_F_ICMP_ERROR)
			return do_icmp_error(m, pkt, from, now);
		if (!(pm->flags & PKT_F_ICMP_ECHO))
			return NAT_DROP_ICMP_TYPE;
		key = mk_tuple(saddr, daddr, pm->sport, pm->sport, pm->l4_proto);
	} else {
		key = mk_tuple(saddr, daddr, pm->sport, pm->dport, pm->l4_proto);
	}

	i = flow_lookup(m, &key, now, &d);
	if (i >= 0)
		return do_known(m, pkt, from, now, (uint32_t)i, d);
	if (from == NAT_INSIDE)
		return do_new_inside(m, pkt, now, &key);
	return do_new_outside(m, pkt, now, &key);
}

void nat_ref_process(struct nat_ref *m, struct nat_pkt *pkt,
		     enum nat_side from, uint64_t now)
{
	enum nat_drop r;

	pkt->verdict = NAT_V_DROP;
	pkt->reason = NAT_DROP_NONE;
	r = process(m, pkt, from, now);
	m->pending = 0;	/* every path has let go of it already */
	if (r != NAT_DROP_NONE) {
		pkt->verdict = NAT_V_DROP;
		pkt->reason = (uint8_t)r;
	}
}

void nat_ref_collect(struct nat_ref *m, uint64_t now)
{
	uint64_t tick_start = (now >> CT_TICK_SHIFT) << CT_TICK_SHIFT;
	uint32_t i = 0;

	while (i < m->n_flows) {
		if (m->flows[i].deadline < tick_start)
			flow_remove(m, i);
		else
			i++;
	}
}

/* ---- setup and accessors ---- */

int nat_ref_add_forward(struct nat_ref *m, const struct nat_forward *fwd)
{
	uint32_t ext = fwd->ext_addr ? fwd->ext_addr : m->ext_addrs[0];

	if (fwd->proto != IPPROTO_NUM_TCP && fwd->proto != IPPROTO_NUM_UDP)
		return -EINVAL;
	if (fwd->ext_port == 0 || fwd->int_port == 0 || !is_ext(m, ext))
		return -EINVAL;
	if (m->n_forwards >= NAT_MAX_FORWARDS)
		return -ENOSPC;
	if (!port_free(m, ext, fwd->proto, fwd->ext_port))
		return -EADDRINUSE;
	if (!map_add(m, fwd->int_addr, htons(fwd->int_port), ext,
		     htons(fwd->ext_port), fwd->proto, true))
		return -ENOSPC;
	m->n_forwards++;
	return 0;
}

int nat_ref_add_redirect(struct nat_ref *m, const struct nat_redirect *rd)
{
	if (rd->proto != IPPROTO_NUM_TCP && rd->proto != IPPROTO_NUM_UDP)
		return -EINVAL;
	if (rd->addr == 0 ||
	    rd->to_addr == 0 || is_ext(m, rd->addr) || is_ext(m, rd->to_addr))
		return -EINVAL;
	for (unsigned int i = 0; i < m->n_redirects; i++) {
		if (m->redirects[i].proto == rd->proto &&
		    m->redirects[i].addr == rd->addr &&
		    m->redirects[i].port == rd->port)
			return -EADDRINUSE;
	}
	if (m->n_redirects >= NAT_MAX_REDIRECTS)
		return -ENOSPC;
	m->redirects[m->n_redirects++] = *rd;
	return 0;
}

static int check_config(const struct nat_config *cfg)
{
	static const struct ct_timeouts zero;

	if (cfg->n_ext_addrs == 0 || cfg->n_ext_addrs > NAT_MAX_EXT_ADDRS)
		return -EINVAL;
	if (cfg->port_min > cfg->port_max ||
	    (cfg->port_min == 0 && cfg->port_max != 0))
		return -EINVAL;
	if (cfg->max_flows > CT_MAX_FLOWS)
		return -EINVAL;
	if (cfg->inbound_alias.to) {
		/* A subnet: a prefix mask, no address bits outside it. */
		uint32_t mask = ntohl(cfg->inbound_alias.mask);
		bool seen_zero = false;

		for (int b = 31; b >= 0; b--) {
			if (!(mask >> b & 1))
				seen_zero = true;
			else if (seen_zero)
				return -EINVAL;
		}
		if (cfg->inbound_alias.addr & ~cfg->inbound_alias.mask)
			return -EINVAL;
	}
	if (memcmp(&cfg->timeouts, &zero, sizeof(zero)) != 0 &&
	    ct_timeouts_validate(&cfg->timeouts, cfg->allow_short_udp))
		return -EINVAL;
	return 0;
}

int nat_ref_create(struct nat_ref **out, const struct nat_config *cfg)
{
	static const struct ct_timeouts zero;
	struct ct_timeouts to = cfg->timeouts;
	struct nat_ref *m;
	int err = check_config(cfg);

	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memcpy(m->ext_addrs, cfg->ext_addrs, sizeof(m->ext_addrs));
	m->n_ext = cfg->n_ext_addrs;
	m->port_min = cfg->port_min ? cfg->port_min : NAT_DEFAULT_PORT_MIN;
	m->port_max = cfg->port_max ? cfg->port_max : NAT_DEFAULT_PORT_MAX;
	m->filtering = cfg->filtering;
	m->alias = cfg->inbound_alias;
	if (memcmp(&to, &zero, sizeof(zero)) == 0)
		ct_timeouts_default(&to);
	for (unsigned int i = 0; i < CT_TO__MAX; i++)
		m->timeout_ns[i] = (uint64_t)to.sec[i] * NSEC_PER_SEC;
	m->frag_timeout_ns = (uint64_t)(cfg->frag_timeout ? cfg->frag_timeout
					: NAT_FRAG_DEFAULT_TIMEOUT) * NSEC_PER_SEC;
	m->frag_max = cfg->frag_max ? cfg->frag_max : NAT_FRAG_DEFAULT_MAX;
	m->max_flows = cfg->max_flows ? cfg->max_flows : CT_DEFAULT_MAX_FLOWS;
	m->rng = cfg->seed;
	/* Every flow holds one mapping, plus the forwards and a pending one. */
	m->cap_maps = m->max_flows + NAT_MAX_FORWARDS + 1;
	m->next_serial = 1;
	m->next_closed = 1;
	m->next_map_id = 1;

	m->flows = calloc(m->max_flows, sizeof(*m->flows));
	m->maps = calloc(m->cap_maps, sizeof(*m->maps));
	m->frags = calloc(m->frag_max, sizeof(*m->frags));
	m->cand = calloc(PORTS_MAX, sizeof(*m->cand));
	if (!m->flows || !m->maps || !m->frags || !m->cand) {
		nat_ref_destroy(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void nat_ref_destroy(struct nat_ref *m)
{
	if (!m)
		return;
	free(m->flows);
	free(m->maps);
	free(m->frags);
	free(m->cand);
	free(m);
}

uint32_t nat_ref_flow_count(const struct nat_ref *m)
{
	return m->n_flows;
}

const struct nat_ref_flow *nat_ref_flow_at(const struct nat_ref *m, uint32_t i)
{
	return &m->flows[i];
}

const struct nat_ref_stats *nat_ref_get_stats(const struct nat_ref *m)
{
	return &m->stats;
}

uint32_t nat_ref_mapping_count(const struct nat_ref *m)
{
	return m->n_maps;
}

const struct nat_ref_mapping *nat_ref_mapping_at(const struct nat_ref *m,
						 uint32_t i)
{
	return &m->maps[i];
}
