// SPDX-License-Identifier: MIT
/*
 * nat.c - the NAT engine: classify, look up, create, translate.
 *
 * Theory of operation (behaviour: docs/nat.md; API: nat.h). A batch is
 * handled in two passes: the first builds every packet's lookup tuple,
 * hashes it and prefetches its hash bucket, so that the memory loads of up
 * to NAT_BATCH_MAX lookups overlap; the second looks each packet up and
 * either translates it along its flow or tries to create a flow. The
 * connection table (ct/) owns flows; map.c owns mappings and ports; frag.c
 * remembers first fragments; rewrite.c edits headers. A flow holds one
 * reference on its mapping (and, with ADF, one on a permission), dropped
 * by the table's delete callback whatever removes the flow.
 */
#include "nat/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/clock.h"
#include "nat/frag.h"
#include "nat/rewrite.h"
#include "prot/icmp.h"
#include "prot/tcp.h"

struct nat {
	struct ct_table *ct;
	struct ct_flow_stats *fstats;	/* per flow, or NULL */
	struct nat_maps maps;
	struct nat_frags frags;
	enum nat_filtering filtering;
	uint32_t ext_addrs[NAT_MAX_EXT_ADDRS];
	unsigned int n_ext;
	unsigned int n_forwards;
	unsigned int n_redirects;
	struct nat_redirect redirects[NAT_MAX_REDIRECTS];	/* ports in network order */
	struct nat_alias alias;
	uint64_t frag_timeout_ns;
	nat_flow_gone_fn on_flow_gone;
	void *flow_gone_ctx;
	struct nat_stats stats;
};

/* How stage 1 classified a packet. */
enum pkt_class { CLS_DONE, CLS_FLOW, CLS_FRAG, CLS_ICMP_ERR };

static const char *const nat_drop_names[] = {
#define NAT_DROP_NAME(sym, name, desc) [NAT_DROP_##sym] = (name),
	NAT_DROP_LIST(NAT_DROP_NAME)
#undef NAT_DROP_NAME
};

const char *nat_drop_name(enum nat_drop r)
{
	if ((unsigned int)r >= NAT_DROP__MAX)
		return "invalid";
	return nat_drop_names[r];
}

static bool is_external(const struct nat *nat, uint32_t addr)
{
	for (unsigned int i = 0; i < nat->n_ext; i++) {
		if (nat->ext_addrs[i] == addr)
			return true;
	}
	return false;
}

static inline bool flow_holds_perm(const struct nat *nat, const struct ct_entry *e)
{
	return nat->filtering == NAT_FILTER_ADF &&
	       !(e->flags & (CT_F_INBOUND | CT_F_HAIRPIN));
}

/*
 * The remote address an outbound flow's ADF permission is for: where its
 * packets really go, which is the reply's source (for a redirected flow,
 * the new destination, not the one the inside host addressed).
 */
static inline uint32_t flow_remote(const struct ct_entry *e)
{
	return e->tuple[CT_DIR_REPLY].saddr;
}

/* The rule for exactly (@proto, @addr, @port), @port 0 naming the
 * wildcard, or NULL. */
static const struct nat_redirect *redirect_rule(const struct nat *nat,
						uint8_t proto, uint32_t addr,
						uint16_t port)
{
	for (unsigned int i = 0; i < nat->n_redirects; i++) {
		const struct nat_redirect *rd = &nat->redirects[i];

		if (rd->proto == proto && rd->addr == addr && rd->port == port)
			return rd;
	}
	return NULL;
}

/* The redirect for a new flow's destination, or NULL: the exact rule,
 * else the address's wildcard (at most NAT_MAX_REDIRECTS rules: a bounded
 * scan, and only for new flows). */
static const struct nat_redirect *find_redirect(const struct nat *nat,
						uint8_t proto, uint32_t addr,
						uint16_t port)
{
	const struct nat_redirect *any = NULL;

	for (unsigned int i = 0; i < nat->n_redirects; i++) {
		const struct nat_redirect *rd = &nat->redirects[i];

		if (rd->proto != proto || rd->addr != addr)
			continue;
		if (rd->port == port)
			return rd;
		if (rd->port == 0)
			any = rd;
	}
	return any;
}

/* The address the inside sees a new inbound flow's source @saddr as
 * (nat_config.inbound_alias). */
static inline uint32_t inbound_source(const struct nat *nat, uint32_t saddr)
{
	const struct nat_alias *a = &nat->alias;

	return a->to && (saddr & a->mask) == a->addr ? a->to : saddr;
}

/*
 * The table removes a flow (expiry, early drop, lazy removal): release,
 * then tell the uplink (nat_config.on_flow_gone), which may hold a socket
 * for the flow or for its mapping.
 */
static void nat_flow_gone(void *ctx, struct ct_entry *e, enum ct_gone why)
{
	struct nat *nat = ctx;
	bool mapping_gone = false;
	struct nat_map *map;

	(void)why;
	if (e->owner != CT_NONE) {
		map = nat_map_at(&nat->maps, e->owner);
		if (flow_holds_perm(nat, e)) {
			struct nat_map *perm = nat_perm_find(&nat->maps, map,
							     flow_remote(e));

			ARC_ASSERT(perm);
			nat_map_put(&nat->maps, perm);
		}
		/* nat_map_put() frees a dynamic mapping with its last flow. */
		mapping_gone = map->kind == NAT_MAP_DYNAMIC && map->refs == 1;
		nat_map_put(&nat->maps, map);
		e->owner = CT_NONE;
	}
	if (nat->on_flow_gone)
		nat->on_flow_gone(nat->flow_gone_ctx, ct_index(nat->ct, e), e,
				  mapping_gone);
}

/* Which side packets of direction @d of @e come from. */
static enum nat_side expected_side(const struct ct_entry *e, enum ct_dir d)
{
	bool orig_inside;

	if (e->flags & CT_F_HAIRPIN)
		return NAT_INSIDE;
	orig_inside = !(e->flags & CT_F_INBOUND);
	return (d == CT_DIR_ORIG) == orig_inside ? NAT_INSIDE : NAT_OUTSIDE;
}

static enum nat_verdict verdict_for(const struct ct_entry *e, enum nat_side from)
{
	if (e->flags & CT_F_HAIRPIN)
		return NAT_V_TO_INSIDE;
	return from == NAT_INSIDE ? NAT_V_TO_OUTSIDE : NAT_V_TO_INSIDE;
}

static void tcp_seg_of(const uint8_t *frame, const struct pkt_meta *m,
		       struct ct_tcp_seg *s)
{
	const uint8_t *th = frame + m->l4_off;
	uint32_t v32;
	uint16_t v16;

	memcpy(&v32, th + offsetof(struct tcp_hdr, seq), 4);
	s->seq = ntohl(v32);
	memcpy(&v32, th + offsetof(struct tcp_hdr, ack_seq), 4);
	s->ack = ntohl(v32);
	memcpy(&v16, th + offsetof(struct tcp_hdr, window), 2);
	s->win = ntohs(v16);
	s->len = pkt_payload_len(m);
	s->flags = m->tcp_flags;
	s->has_wscale = m->flags & PKT_F_TCP_WSCALE;
	s->wscale = m->tcp_wscale;
	s->sack_perm = m->flags & PKT_F_TCP_SACK_PERM;
}

static enum nat_drop tcp_drop_reason(enum ct_tcp_verdict v)
{
	switch (v) {
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

static enum ct_timeout_class flow_tclass(const struct ct_entry *e)
{
	switch (e->tuple[CT_DIR_ORIG].proto) {
	case IPPROTO_NUM_TCP:
		return ct_tcp_timeout_class((enum ct_tcp_state)e->tcp.state);
	case IPPROTO_NUM_UDP:
		return (e->flags & CT_F_REPLIED) ? CT_TO_UDP_ASSURED
					       : CT_TO_UDP_UNREPLIED;
	default:
		return CT_TO_ICMP;
	}
}

static inline void set_drop(struct nat *nat, struct nat_pkt *p, enum nat_drop r)
{
	p->verdict = NAT_V_DROP;
	p->reason = (uint8_t)r;
	nat->stats.drops[r]++;
}

/* Rewrite a packet of flow @e travelling @d, remember a first fragment. */
static void translate(struct nat *nat, struct nat_pkt *p, struct ct_entry *e,
		      enum ct_dir d, enum nat_side from, uint64_t now)
{
	struct ct_tuple to = ct_tuple_invert(&e->tuple[!d]);
	const struct pkt_meta *m = &p->meta;

	if ((m->flags & (PKT_F_FRAG | PKT_F_FRAG_LATER)) == PKT_F_FRAG) {
		struct nat_frag_key k = {
			.saddr = p->key.saddr,
			.daddr = p->key.daddr,
			.id = (uint16_t)m->frag_id,
			.proto = p->key.proto,
		};

		nat_frag_remember(&nat->frags, &k, e->tuple, ct_index(nat->ct, e),
				  (uint8_t)d, now + nat->frag_timeout_ns, now);
	}
	nat_rewrite(p->frame, m, &to, p->flags & NAT_PKT_CSUM_PARTIAL);
	p->verdict = (uint8_t)verdict_for(e, from);
	p->flow = ct_index(nat->ct, e);
	if (nat->fstats) {
		nat->fstats[p->flow].packets[d]++;
		nat->fstats[p->flow].bytes[d] += m->l3_len;
	}
	nat->stats.translated[from]++;
}

/* Section 3: a packet of a known flow. */
static void process_known(struct nat *nat, struct nat_pkt *p, struct ct_entry *e,
			  enum ct_dir d, enum nat_side from, uint64_t now)
{
	if (expected_side(e, d) != from) {
		set_drop(nat, p, NAT_DROP_WRONG_SIDE);
		return;
	}
	if (p->key.proto == IPPROTO_NUM_TCP) {
		struct ct_tcp_seg seg;
		enum ct_tcp_verdict v;

		tcp_seg_of(p->frame, &p->meta, &seg);
		v = ct_tcp_track(&e->tcp, d, &seg);
		if (v != CT_TCP_OK) {
			set_drop(nat, p, tcp_drop_reason(v));
			return;
		}
	}
	if (d == CT_DIR_REPLY)
		ct_mark_replied(nat->ct, e);
	ct_refresh(nat->ct, e, flow_tclass(e), now);
	translate(nat, p, e, d, from, now);
}

/*
 * Confirm @e, which will hold @map. The caller has already taken the
 * flow's reference on @map (see hold()); on failure it is dropped here and
 * the reason returned; the entry stays unconfirmed for the caller to free.
 */
static enum nat_drop confirm(struct nat *nat, struct ct_entry *e,
			     struct nat_map *map, uint64_t now)
{
	int err;

	e->owner = nat_map_index(&nat->maps, map);
	err = ct_confirm(nat->ct, e, flow_tclass(e), now);
	if (err) {
		e->owner = CT_NONE;
		nat_map_put(&nat->maps, map);
		return err == -EEXIST ? NAT_DROP_CLASH : NAT_DROP_HASH_FULL;
	}
	if (flow_holds_perm(nat, e) &&
	    nat_perm_get(&nat->maps, map, flow_remote(e)) < 0) {
		/* Sized for one permission per flow: cannot happen. */
		ARC_ASSERT(0);
	}
	return NAT_DROP_NONE;
}

/*
 * The mapping of an internal endpoint, created when missing. No port free:
 * closed connections (TIME_WAIT, CLOSE) give theirs back, oldest first, up
 * to NAT_RECLAIM_MAX of them; a mapping still used by another flow frees no
 * port, hence the bound rather than a single try.
 */
static enum nat_drop source_mapping(struct nat *nat, const struct ct_tuple *k,
				    struct nat_map **out)
{
	int err;

	*out = nat_map_find_int(&nat->maps, k->saddr, k->sport, k->proto);
	if (*out)
		return NAT_DROP_NONE;
	err = nat_map_create(&nat->maps, k->saddr, k->sport, k->proto, out);
	for (unsigned int i = 0; err == -EADDRNOTAVAIL && i < NAT_RECLAIM_MAX &&
				 ct_reclaim_closing(nat->ct); i++)
		err = nat_map_create(&nat->maps, k->saddr, k->sport, k->proto,
				     out);
	if (err == -EADDRNOTAVAIL)
		return NAT_DROP_PORT_EXHAUSTED;
	return err ? NAT_DROP_TABLE_FULL : NAT_DROP_NONE;
}

/*
 * Take the new flow's reference on a mapping as soon as it is found or
 * created. Until the flow is confirmed, other flows can leave the table (an
 * early drop in ct_alloc(), an expired holder removed by the clash check in
 * ct_confirm()); if one of them held the last reference, the mapping would
 * be freed under us. Every refusal afterwards drops the reference, which
 * also releases a mapping created for this flow alone.
 */
static struct nat_map *hold(struct nat *nat, struct nat_map *map)
{
	nat_map_get(&nat->maps, map);
	return map;
}

static void unhold(struct nat *nat, struct nat_map *map)
{
	nat_map_put(&nat->maps, map);
}

static bool filter_allows(const struct nat *nat, const struct nat_map *dm,
			  uint32_t remote)
{
	if (dm->kind == NAT_MAP_STATIC)
		return true;
	switch (nat->filtering) {
	case NAT_FILTER_EIF:
		return true;
	case NAT_FILTER_ADF:
		return nat_perm_find(&nat->maps, dm, remote) != NULL;
	default:
		return false;
	}
}

/* Section 5: from inside to an external address. @e is a fresh entry. */
static enum nat_drop create_hairpin(struct nat *nat, struct nat_pkt *p,
				    struct ct_entry *e, uint64_t now)
{
	const struct ct_tuple *k = &p->key;
	struct nat_map *dm, *sm;
	enum nat_drop r;

	dm = nat_map_find_ext(&nat->maps, k->daddr, k->dport, k->proto);
	if (!dm)
		return NAT_DROP_UNSOLICITED;
	r = source_mapping(nat, k, &sm);
	if (r)
		return r;
	/*
	 * To its own mapping (a STUN client's hairpin check, RFC 4787
	 * REQ-9): the packet goes back to its sender from its own external
	 * endpoint, and both tuples below equal the key: a flow that is its
	 * own reply (ct/table.h). No filtering applies: the mapping's own
	 * endpoint is the one sending. TCP cannot be tracked that way (every
	 * segment of a connection with itself would travel one direction).
	 */
	if (sm == dm && k->proto == IPPROTO_NUM_TCP)
		return NAT_DROP_HAIRPIN_SELF_TCP;
	hold(nat, sm);
	if (sm != dm && !filter_allows(nat, dm, sm->ext_addr)) {
		unhold(nat, sm);
		return NAT_DROP_FILTERED;
	}
	e->tuple[CT_DIR_ORIG] = *k;
	e->tuple[CT_DIR_REPLY] = (struct ct_tuple){
		.saddr = dm->int_addr,
		.daddr = sm->ext_addr,
		.sport = dm->int_port,
		.dport = sm->ext_port,
		.proto = k->proto,
	};
	e->flags |= CT_F_HAIRPIN;
	return confirm(nat, e, sm, now);
}

static enum nat_drop create_inside(struct nat *nat, struct nat_pkt *p,
				   uint64_t now, struct ct_entry **out)
{
	const struct ct_tuple *k = &p->key;
	const struct nat_redirect *rd;
	struct ct_tcp tcp = { 0 };
	struct ct_entry *e;
	struct nat_map *sm;
	enum nat_drop r;

	if (k->proto == IPPROTO_NUM_TCP) {
		struct ct_tcp_seg seg;
		enum ct_tcp_verdict v;

		tcp_seg_of(p->frame, &p->meta, &seg);
		v = ct_tcp_new(&tcp, &seg);
		if (v != CT_TCP_OK)
			return tcp_drop_reason(v);
	} else if (k->proto == IPPROTO_NUM_ICMP) {
		if (p->meta.icmp_type != ICMP_ECHO)
			return NAT_DROP_ICMP_TYPE;
		if (is_external(nat, k->daddr))
			return NAT_DROP_NONE;	/* local: decided by the caller */
	}

	e = ct_alloc(nat->ct, now);
	if (!e)
		return NAT_DROP_TABLE_FULL;
	e->tcp = tcp;

	if (is_external(nat, k->daddr)) {
		r = create_hairpin(nat, p, e, now);
		if (r) {
			ct_free_unconfirmed(nat->ct, e);
			return r;
		}
		nat->stats.hairpin++;
		*out = e;
		return NAT_DROP_NONE;
	}

	r = source_mapping(nat, k, &sm);
	if (r) {
		ct_free_unconfirmed(nat->ct, e);
		return r;
	}
	hold(nat, sm);
	rd = k->proto == IPPROTO_NUM_ICMP ? NULL
		: find_redirect(nat, k->proto, k->daddr, k->dport);
	e->tuple[CT_DIR_ORIG] = *k;
	e->tuple[CT_DIR_REPLY] = (struct ct_tuple){
		.saddr = rd ? rd->to_addr : k->daddr,
		.daddr = sm->ext_addr,
		.sport = k->proto == IPPROTO_NUM_ICMP ? sm->ext_port
			 : rd && rd->to_port ? rd->to_port : k->dport,
		.dport = sm->ext_port,
		.proto = k->proto,
	};
	r = confirm(nat, e, sm, now);
	if (r) {
		ct_free_unconfirmed(nat->ct, e);
		return r;
	}
	nat->stats.flows_out++;
	nat->stats.redirects += rd != NULL;
	*out = e;
	return NAT_DROP_NONE;
}

static enum nat_drop create_outside(struct nat *nat, struct nat_pkt *p,
				    uint64_t now, struct ct_entry **out)
{
	const struct ct_tuple *k = &p->key;
	struct ct_tcp tcp = { 0 };
	struct nat_map *dm;
	struct ct_entry *e;
	enum nat_drop r;

	if (!is_external(nat, k->daddr))
		return NAT_DROP_NOT_OURS;
	if (k->proto == IPPROTO_NUM_ICMP && p->meta.icmp_type == ICMP_ECHO)
		return NAT_DROP_NONE;	/* local */
	dm = nat_map_find_ext(&nat->maps, k->daddr, k->dport, k->proto);
	if (!dm || k->proto == IPPROTO_NUM_ICMP)
		return NAT_DROP_UNSOLICITED;
	if (k->proto == IPPROTO_NUM_TCP) {
		struct ct_tcp_seg seg;

		tcp_seg_of(p->frame, &p->meta, &seg);
		if (ct_tcp_new(&tcp, &seg) != CT_TCP_OK)
			return NAT_DROP_UNSOLICITED;
	}
	if (!filter_allows(nat, dm, k->saddr))
		return NAT_DROP_FILTERED;

	hold(nat, dm);
	e = ct_alloc(nat->ct, now);
	if (!e) {
		unhold(nat, dm);
		return NAT_DROP_TABLE_FULL;
	}
	e->tcp = tcp;
	e->flags |= CT_F_INBOUND;
	e->tuple[CT_DIR_ORIG] = *k;
	e->tuple[CT_DIR_REPLY] = (struct ct_tuple){
		.saddr = dm->int_addr,
		.daddr = inbound_source(nat, k->saddr),
		.sport = dm->int_port,
		.dport = k->sport,
		.proto = k->proto,
	};
	r = confirm(nat, e, dm, now);
	if (r) {
		ct_free_unconfirmed(nat->ct, e);
		return r;
	}
	nat->stats.flows_in++;
	*out = e;
	return NAT_DROP_NONE;
}

static void process_flow(struct nat *nat, struct nat_pkt *p, enum nat_side from,
			 uint64_t now)
{
	struct ct_entry *e;
	enum ct_dir d;
	enum nat_drop r;

	e = ct_lookup(nat->ct, &p->key, p->hv, now, &d);
	if (e) {
		process_known(nat, p, e, d, from, now);
		return;
	}
	e = NULL;
	r = from == NAT_INSIDE ? create_inside(nat, p, now, &e)
			       : create_outside(nat, p, now, &e);
	if (r) {
		set_drop(nat, p, r);
		return;
	}
	if (!e) {
		p->verdict = NAT_V_LOCAL;
		nat->stats.local++;
		return;
	}
	translate(nat, p, e, CT_DIR_ORIG, from, now);
}

/* Section 1: a non-first fragment. */
static void process_frag(struct nat *nat, struct nat_pkt *p, enum nat_side from,
			 uint64_t now)
{
	const struct pkt_meta *m = &p->meta;
	struct nat_frag_key k = {
		.saddr = pkt_ip4_saddr(p->frame, m),
		.daddr = pkt_ip4_daddr(p->frame, m),
		.id = (uint16_t)m->frag_id,
		.proto = m->l4_proto,
	};
	const struct nat_frag *f = nat_frag_find(&nat->frags, &k, now);
	struct ct_entry *e;
	struct ct_tuple to;
	enum ct_dir d;

	if (!f) {
		set_drop(nat, p, NAT_DROP_FRAG_NO_FLOW);
		return;
	}
	/*
	 * The flow is identified by its two tuples, not its slot: a flow
	 * removed and created again with the same tuples within frag_timeout
	 * translates the fragment identically. A look, not a lookup: nothing
	 * is removed here.
	 */
	e = ct_find(nat->ct, &f->tuple[f->dir], &d);
	if (!e || d != f->dir || e->deadline <= now ||
	    !ct_tuple_eq(&e->tuple[!d], &f->tuple[!d])) {
		set_drop(nat, p, NAT_DROP_FRAG_NO_FLOW);
		return;
	}
	if (expected_side(e, (enum ct_dir)f->dir) != from) {
		set_drop(nat, p, NAT_DROP_WRONG_SIDE);
		return;
	}
	to = ct_tuple_invert(&e->tuple[!f->dir]);
	nat_rewrite(p->frame, m, &to, false);
	p->verdict = (uint8_t)verdict_for(e, from);
	p->flow = ct_index(nat->ct, e);
	nat->stats.fragments++;
	nat->stats.translated[from]++;
}

/*
 * Section 7: the lookup key of an ICMP error, the inverse of its quote's
 * tuple X. False when the quote has no ports or is neither TCP, UDP nor
 * an ICMP echo.
 */
static bool quote_key(const uint8_t *frame, const struct pkt_meta *m,
		      struct ct_tuple *key)
{
	const struct pkt_inner *in = &m->inner;
	const uint8_t *q = frame + in->l3_off;
	struct ct_tuple x = { .proto = in->proto };

	if (!(in->flags & PKT_INNER_PORTS) || in->l3 != PKT_L3_IPV4 ||
	    (in->proto == IPPROTO_NUM_ICMP && !(in->flags & PKT_INNER_ECHO)))
		return false;
	memcpy(&x.saddr, q + offsetof(struct ip4_hdr, saddr), 4);
	memcpy(&x.daddr, q + offsetof(struct ip4_hdr, daddr), 4);
	x.sport = in->sport;
	x.dport = in->proto == IPPROTO_NUM_ICMP ? in->sport : in->dport;
	*key = ct_tuple_invert(&x);
	return true;
}

/* Section 7: an ICMP error. */
static void process_icmp_error(struct nat *nat, struct nat_pkt *p,
			       enum nat_side from, uint64_t now)
{
	const struct pkt_meta *m = &p->meta;
	struct ct_tuple key;
	uint32_t osrc = pkt_ip4_saddr(p->frame, m);
	uint32_t odst = pkt_ip4_daddr(p->frame, m);
	struct ct_entry *e;
	enum ct_dir d;
	const struct ct_tuple *td, *tn;

	if (!quote_key(p->frame, m, &key)) {
		set_drop(nat, p, NAT_DROP_ICMP_ERR_NO_FLOW);
		return;
	}
	e = ct_lookup(nat->ct, &key, ct_tuple_hash(nat->ct, &key), now, &d);
	if (!e) {
		set_drop(nat, p, NAT_DROP_ICMP_ERR_NO_FLOW);
		return;
	}
	if (expected_side(e, d) != from) {
		set_drop(nat, p, NAT_DROP_WRONG_SIDE);
		return;
	}
	td = &e->tuple[d];
	tn = &e->tuple[!d];
	/*
	 * The error must be addressed to the flow's endpoint as that side
	 * sees it: otherwise anyone on the outside could reach any inside
	 * host past the filtering by quoting some live flow.
	 */
	if (odst != td->daddr) {
		set_drop(nat, p, NAT_DROP_ICMP_ERR_ADDR);
		return;
	}
	odst = tn->saddr;
	/*
	 * An error leaving to the outside always carries the external
	 * address (RFC 5508 section 4.2): an inside router's private address
	 * must not leak. Going inside, a router's address is kept.
	 */
	if (verdict_for(e, from) == NAT_V_TO_OUTSIDE || osrc == td->saddr)
		osrc = tn->daddr;
	nat_rewrite_icmp_error(p->frame, m, tn, osrc, odst);
	p->verdict = (uint8_t)verdict_for(e, from);
	p->flow = ct_index(nat->ct, e);
	nat->stats.icmp_errors++;
	nat->stats.translated[from]++;
}

/* The lookup tuple of a TCP, UDP or ICMP echo packet (section 2). */
static void flow_key(const uint8_t *frame, const struct pkt_meta *m,
		     struct ct_tuple *k)
{
	memset(k, 0, sizeof(*k));
	k->saddr = pkt_ip4_saddr(frame, m);
	k->daddr = pkt_ip4_daddr(frame, m);
	k->sport = m->sport;
	k->dport = m->l4_proto == IPPROTO_NUM_ICMP ? m->sport : m->dport;
	k->proto = m->l4_proto;
}

/* Stage 1: build the lookup tuple, or decide at once. */
static enum pkt_class classify(struct nat *nat, struct nat_pkt *p)
{
	const struct pkt_meta *m = &p->meta;
	uint8_t proto = m->l4_proto;

	p->verdict = NAT_V_DROP;
	p->reason = NAT_DROP_NONE;
	p->flow = CT_NONE;
	if (m->l3 != PKT_L3_IPV4) {
		set_drop(nat, p, NAT_DROP_NOT_IPV4);
		return CLS_DONE;
	}
	if (proto != IPPROTO_NUM_TCP && proto != IPPROTO_NUM_UDP &&
	    proto != IPPROTO_NUM_ICMP) {
		set_drop(nat, p, NAT_DROP_PROTO);
		return CLS_DONE;
	}
	if (m->flags & PKT_F_FRAG_LATER)
		return CLS_FRAG;
	if (!(m->flags & PKT_F_L4)) {
		set_drop(nat, p, NAT_DROP_PROTO);
		return CLS_DONE;
	}
	if (proto == IPPROTO_NUM_ICMP) {
		if (m->flags & PKT_F_ICMP_ERROR)
			return CLS_ICMP_ERR;
		if (!(m->flags & PKT_F_ICMP_ECHO)) {
			set_drop(nat, p, NAT_DROP_ICMP_TYPE);
			return CLS_DONE;
		}
	}
	flow_key(p->frame, m, &p->key);
	p->hv = ct_tuple_hash(nat->ct, &p->key);
	ct_prefetch(nat->ct, p->hv);
	return CLS_FLOW;
}

unsigned int nat_process(struct nat *nat, struct nat_pkt *pkts, unsigned int n,
			 enum nat_side from, uint64_t now)
{
	uint8_t cls[NAT_BATCH_MAX];
	unsigned int passed = 0;

	for (unsigned int base = 0; base < n; base += NAT_BATCH_MAX) {
		unsigned int cnt = n - base;
		struct nat_pkt *b = pkts + base;

		if (cnt > NAT_BATCH_MAX)
			cnt = NAT_BATCH_MAX;

		for (unsigned int i = 0; i < cnt; i++) {
			nat->stats.packets[from]++;
			cls[i] = (uint8_t)classify(nat, &b[i]);
		}
		for (unsigned int i = 0; i < cnt; i++) {
			switch (cls[i]) {
			case CLS_FLOW:
				process_flow(nat, &b[i], from, now);
				break;
			case CLS_FRAG:
				process_frag(nat, &b[i], from, now);
				break;
			case CLS_ICMP_ERR:
				process_icmp_error(nat, &b[i], from, now);
				break;
			default:
				break;
			}
			passed += b[i].verdict != NAT_V_DROP;
		}
	}
	return passed;
}

unsigned int nat_tick(struct nat *nat, uint64_t now, unsigned int budget)
{
	return ct_expire(nat->ct, now, budget);
}

bool nat_tick_pending(const struct nat *nat, uint64_t now)
{
	return ct_expire_pending(nat->ct, now);
}

const struct nat_stats *nat_get_stats(struct nat *nat)
{
	/* Derived, not tracked: the owners keep the real counts. */
	nat->stats.mappings = nat->maps.dynamic;
	nat->stats.frag_evicted = nat->frags.evicted;
	return &nat->stats;
}

struct ct_table *nat_ct(const struct nat *nat)
{
	return nat->ct;
}

void nat_set_flow_gone(struct nat *nat, nat_flow_gone_fn fn, void *ctx)
{
	nat->on_flow_gone = fn;
	nat->flow_gone_ctx = ctx;
}

/* The index of a forward's external address (0: the first), or -EINVAL. */
static int forward_ext_idx(const struct nat *nat, const struct nat_forward *fwd)
{
	unsigned int idx = 0;

	if (fwd->proto != IPPROTO_NUM_TCP && fwd->proto != IPPROTO_NUM_UDP)
		return -EINVAL;
	if (fwd->ext_addr) {
		while (idx < nat->n_ext && nat->ext_addrs[idx] != fwd->ext_addr)
			idx++;
		if (idx == nat->n_ext)
			return -EINVAL;
	}
	return (int)idx;
}

int nat_add_forward(struct nat *nat, const struct nat_forward *fwd)
{
	int idx = forward_ext_idx(nat, fwd);
	struct nat_map *map;
	int err;

	if (idx < 0 || fwd->ext_port == 0 || fwd->int_port == 0 ||
	    fwd->int_addr == 0)
		return -EINVAL;
	if (nat->n_forwards >= NAT_MAX_FORWARDS)
		return -ENOSPC;
	/* A removed forward's mapping its flows still hold: static again. */
	map = nat_map_find_ext(&nat->maps, nat->ext_addrs[idx],
			       htons(fwd->ext_port), fwd->proto);
	if (map && map->kind == NAT_MAP_DYNAMIC &&
	    map->int_addr == fwd->int_addr &&
	    map->int_port == htons(fwd->int_port)) {
		map->kind = NAT_MAP_STATIC;
		nat->n_forwards++;
		return 0;
	}
	err = nat_map_add_static(&nat->maps, (unsigned int)idx,
				 htons(fwd->ext_port),
				 fwd->int_addr, htons(fwd->int_port), fwd->proto);
	if (err)
		return err;
	nat->n_forwards++;
	return 0;
}

int nat_remove_forward(struct nat *nat, const struct nat_forward *fwd)
{
	int idx = forward_ext_idx(nat, fwd);
	struct nat_map *map;

	if (idx < 0)
		return -EINVAL;
	map = nat_map_find_ext(&nat->maps, nat->ext_addrs[idx],
			       htons(fwd->ext_port), fwd->proto);
	if (!map || map->kind != NAT_MAP_STATIC ||
	    (fwd->int_addr && map->int_addr != fwd->int_addr) ||
	    (fwd->int_port && map->int_port != htons(fwd->int_port)))
		return -ENOENT;
	nat_map_unstatic(&nat->maps, map);
	nat->n_forwards--;
	return 0;
}

bool nat_ext_port_taken(const struct nat *nat, uint8_t proto, uint16_t port)
{
	return nat_port_taken(&nat->maps, 0, nat_proto_pidx(proto), htons(port));
}

unsigned int nat_list_forwards(const struct nat *nat, struct nat_forward *out,
			       unsigned int max)
{
	const struct nat_maps *mm = &nat->maps;
	unsigned int n = 0;

	for (uint32_t i = 0; i < mm->capacity && n < nat->n_forwards; i++) {
		const struct nat_map *map = &mm->maps[i];

		if (map->kind != NAT_MAP_STATIC)
			continue;
		if (n < max)
			out[n] = (struct nat_forward){
				.proto = map->proto,
				.ext_addr = map->ext_addr,
				.ext_port = ntohs(map->ext_port),
				.int_addr = map->int_addr,
				.int_port = ntohs(map->int_port),
			};
		n++;
	}
	return n;
}

int nat_add_redirect(struct nat *nat, const struct nat_redirect *rd)
{
	struct nat_redirect r = *rd;

	if ((r.proto != IPPROTO_NUM_TCP && r.proto != IPPROTO_NUM_UDP) ||
	    r.addr == 0 || r.to_addr == 0 ||
	    is_external(nat, r.addr) || is_external(nat, r.to_addr))
		return -EINVAL;
	r.port = htons(r.port);
	r.to_port = htons(r.to_port);
	if (redirect_rule(nat, r.proto, r.addr, r.port))
		return -EADDRINUSE;
	if (nat->n_redirects >= NAT_MAX_REDIRECTS)
		return -ENOSPC;
	nat->redirects[nat->n_redirects++] = r;
	return 0;
}

bool nat_redirects(const struct nat *nat, uint8_t proto, uint32_t addr,
		   uint16_t port)
{
	return find_redirect(nat, proto, addr, port) != NULL;
}

bool nat_has_flow(struct nat *nat, const uint8_t *frame,
		  const struct pkt_meta *m, uint64_t now)
{
	struct ct_tuple k;
	enum ct_dir d;
	uint8_t proto = m->l4_proto;

	if (m->l3 != PKT_L3_IPV4 || !(m->flags & PKT_F_L4) ||
	    (m->flags & PKT_F_FRAG_LATER))
		return false;
	if (proto == IPPROTO_NUM_ICMP && (m->flags & PKT_F_ICMP_ERROR)) {
		if (!quote_key(frame, m, &k))
			return false;
	} else if (proto == IPPROTO_NUM_TCP || proto == IPPROTO_NUM_UDP ||
		   (proto == IPPROTO_NUM_ICMP && (m->flags & PKT_F_ICMP_ECHO))) {
		flow_key(frame, m, &k);
	} else {
		return false;
	}
	return ct_lookup(nat->ct, &k, ct_tuple_hash(nat->ct, &k), now, &d) != NULL;
}

static int check_config(const struct nat_config *cfg, struct ct_timeouts *to,
			uint16_t *pmin, uint16_t *pmax)
{
	static const struct ct_timeouts zero;

	if (cfg->n_ext_addrs == 0 || cfg->n_ext_addrs > NAT_MAX_EXT_ADDRS)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->n_ext_addrs; i++) {
		if (cfg->ext_addrs[i] == 0)
			return -EINVAL;
	}
	*pmin = cfg->port_min;
	*pmax = cfg->port_max;
	if (*pmin == 0 && *pmax == 0) {
		*pmin = NAT_DEFAULT_PORT_MIN;
		*pmax = NAT_DEFAULT_PORT_MAX;
	}
	if (*pmin == 0 || *pmin > *pmax)
		return -EINVAL;
	if ((unsigned int)cfg->filtering > NAT_FILTER_EIF)
		return -EINVAL;
	if (cfg->inbound_alias.to) {
		/* Contiguous: the host bits are a run of ones at the bottom. */
		uint32_t host = ~ntohl(cfg->inbound_alias.mask);

		if ((host & (host + 1)) ||
		    (cfg->inbound_alias.addr & ~cfg->inbound_alias.mask))
			return -EINVAL;
	}
	if (memcmp(&cfg->timeouts, &zero, sizeof(zero)) == 0)
		ct_timeouts_default(to);
	else
		*to = cfg->timeouts;
	return ct_timeouts_validate(to, cfg->allow_short_udp);
}

int nat_create(struct nat **out, const struct nat_config *cfg)
{
	struct ct_config ctc = { 0 };
	uint32_t max_flows, map_cap;
	uint16_t pmin, pmax;
	uint64_t seed = cfg->seed;
	struct nat *nat;
	int err;

	err = check_config(cfg, &ctc.timeouts, &pmin, &pmax);
	if (err)
		return err;
	max_flows = cfg->max_flows ? cfg->max_flows : CT_DEFAULT_MAX_FLOWS;
	if (max_flows > CT_MAX_FLOWS)
		return -EINVAL;
	if (!seed) {
		struct siphash_key k;

		err = siphash_key_random(&k);
		if (err)
			return err;
		seed = k.k[0] | 1;
	}
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		return -ENOMEM;
	nat->filtering = cfg->filtering;
	memcpy(nat->ext_addrs, cfg->ext_addrs, cfg->n_ext_addrs * sizeof(uint32_t));
	nat->n_ext = cfg->n_ext_addrs;
	nat->on_flow_gone = cfg->on_flow_gone;
	nat->flow_gone_ctx = cfg->flow_gone_ctx;
	nat->alias = cfg->inbound_alias;
	nat->frag_timeout_ns = (uint64_t)(cfg->frag_timeout ? cfg->frag_timeout
				: NAT_FRAG_DEFAULT_TIMEOUT) * NSEC_PER_SEC;

	ctc.max_flows = max_flows;
	ctc.key = cfg->key;
	ctc.seed = seed;
	ctc.on_delete = nat_flow_gone;
	ctc.flow_stats = cfg->flow_stats;
	ctc.ctx = nat;
	err = ct_create(&nat->ct, &ctc);
	if (err)
		goto err_free;
	nat->fstats = ct_flow_stats(nat->ct);
	/* One mapping per flow at most, one permission per flow with ADF,
	 * the static forwards, and one in flight during a failed confirm. */
	map_cap = max_flows + NAT_MAX_FORWARDS + 1;
	if (cfg->filtering == NAT_FILTER_ADF)
		map_cap += max_flows;
	err = nat_maps_init(&nat->maps, map_cap, cfg->ext_addrs,
			    cfg->n_ext_addrs, pmin, pmax, seed, cfg->key);
	if (err)
		goto err_ct;
	err = nat_frags_init(&nat->frags, cfg->frag_max ? cfg->frag_max
						    : NAT_FRAG_DEFAULT_MAX,
			     cfg->key);
	if (err)
		goto err_maps;
	*out = nat;
	return 0;

err_maps:
	nat_maps_destroy(&nat->maps);
err_ct:
	ct_destroy(nat->ct);
err_free:
	free(nat);
	return err;
}

void nat_destroy(struct nat *nat)
{
	if (!nat)
		return;
	nat_frags_destroy(&nat->frags);
	nat_maps_destroy(&nat->maps);
	ct_destroy(nat->ct);
	free(nat);
}

#define VERIFY(cond, ...)                                      \
	do {                                                   \
		if (!(cond)) {                                 \
			snprintf(why, len, __VA_ARGS__);       \
			goto fail;                             \
		}                                              \
	} while (0)

int nat_verify(const struct nat *nat, char *why, size_t len)
{
	const struct nat_maps *mm = &nat->maps;
	uint32_t *refs = calloc(mm->capacity, sizeof(*refs));
	uint32_t flows = 0, maps_used = 0, mappings = 0;
	uint64_t bits = 0;

	if (!refs) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < ct_capacity(nat->ct); i++) {
		const struct ct_entry *e = ct_entry_at(nat->ct, i);

		if (!(e->flags & CT_F_CONFIRMED))
			continue;
		flows++;
		for (unsigned int d = 0; d < 2; d++) {
			enum ct_dir got;

			/* A flow that is its own reply is found as ORIG. */
			VERIFY(ct_find(nat->ct, &e->tuple[d], &got) == e &&
				       (got == d || (ct_entry_is_self(e) &&
						     got == CT_DIR_ORIG)),
			       "flow %u not found from direction %u", i, d);
		}
		VERIFY(e->owner < mm->capacity, "flow %u has no mapping", i);
		VERIFY(mm->maps[e->owner].kind == NAT_MAP_DYNAMIC ||
		       mm->maps[e->owner].kind == NAT_MAP_STATIC,
		       "flow %u holds a non-mapping object", i);
		refs[e->owner]++;
		if (flow_holds_perm(nat, e)) {
			const struct nat_map *perm = nat_perm_find(
				mm, &mm->maps[e->owner], flow_remote(e));

			VERIFY(perm, "flow %u has no permission", i);
			refs[nat_map_index(mm, perm)]++;
		}
	}
	VERIFY(flows == ct_count(nat->ct), "%u confirmed entries, count %u",
	       flows, ct_count(nat->ct));
	for (uint32_t i = 0; i < mm->capacity; i++) {
		const struct nat_map *map = &mm->maps[i];

		if (map->kind == NAT_MAP_FREE)
			continue;
		maps_used++;
		VERIFY(map->refs == refs[i], "object %u: refs %u, held by %u",
		       i, map->refs, refs[i]);
		VERIFY(map->kind == NAT_MAP_STATIC || map->refs > 0,
		       "object %u is unreferenced", i);
		if (map->kind == NAT_MAP_PERM)
			continue;
		mappings++;
		VERIFY(nat_port_taken(mm, map->ext_idx, map->pidx, map->ext_port),
		       "mapping %u: port %u not marked", i, ntohs(map->ext_port));
		VERIFY(nat_map_find_ext(mm, map->ext_addr, map->ext_port,
					map->proto) == map,
		       "mapping %u not found by external endpoint", i);
		VERIFY(nat_map_find_int(mm, map->int_addr, map->int_port,
					map->proto) == map,
		       "mapping %u not found by internal endpoint", i);
	}
	for (size_t w = 0; w < (size_t)mm->n_ext * NAT_MAP_PROTOS * 1024; w++)
		bits += (uint64_t)__builtin_popcountll(mm->ports[w]);
	VERIFY(bits == mappings, "%llu ports marked for %u mappings",
	       (unsigned long long)bits, mappings);
	VERIFY(maps_used == mm->used && mappings == mm->dynamic,
	       "object counts disagree");
	free(refs);
	return 0;
fail:
	free(refs);
	return -EUCLEAN;
}
