// SPDX-License-Identifier: MIT
/*
 * arp.c - ARP endpoint: neighbour table, replies for our addresses, the
 * hold queue and its requests. Theory of operation in arp.h.
 */
#include "svc/arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/siphash.h"
#include "pkt/build.h"
#include "pkt/cursor.h"
#include "pkt/martian.h"
#include "prot/arp.h"
#include "prot/eth.h"

/*
 * Each hold slot: the packet starts ARP_HOLD_PKT_OFF bytes into it, which
 * leaves at least ARP_HOLD_HEADROOM bytes for a link header and keeps the
 * IP header 16-byte aligned.
 */
#define ARP_HOLD_PKT_OFF 32u
#define ARP_HOLD_SLOT	 ALIGN_UP(ARP_HOLD_PKT_OFF + ARP_HOLD_BYTES, 64u)
static_assert(ARP_HOLD_PKT_OFF >= ARP_HOLD_HEADROOM, "hold headroom");
static_assert(ARP_HOLD_MAX <= UINT8_MAX, "pend.n_held is 8 bits");
static_assert(IS_POWER_OF_2(ARP_PROBE_MAX), "probe window");

#define ARP_FRAME_LEN (ETH_HLEN + ARP_ETH_IP4_LEN)

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t eth_zero[ETH_ALEN];

/* One neighbour: 24 bytes, so a probe window is three cache lines. */
struct arp_neigh {
	uint64_t confirmed;	/* last ARP packet from its owner, ns */
	uint64_t asked;		/* last refresh request while stale, ns */
	uint32_t ip;		/* network order */
	uint8_t mac[ETH_ALEN];
	uint8_t valid;
};

/* A held packet; its bytes are in arp->store at the slot's index. */
struct arp_held {
	uint64_t since;		/* when it was held, ns */
	uint64_t seq;		/* arrival order, for in-order release */
	uint32_t ip;		/* next hop waited for */
	uint32_t len;
	struct pkt_vnet vnet;
	bool in_use;
};

/*
 * Request state for an address we are resolving. A record whose packets
 * are all gone (expired) stays in use to remember @last_req for the rate
 * limit until its slot is needed again.
 */
struct arp_pend {
	uint64_t last_req;	/* last request sent, ns */
	uint32_t ip;
	uint8_t retries;	/* requests repeated by arp_tick() */
	uint8_t n_held;		/* held packets waiting for @ip */
	bool in_use;
};

struct arp {
	struct arp_cfg cfg;
	struct siphash_key key;
	struct arp_neigh *tab;
	uint32_t mask;		/* table size - 1 */
	uint32_t probe;		/* slots per lookup window */
	uint32_t gc_pos;	/* next slot arp_tick() ages */
	uint64_t reach_ns;
	uint64_t seq;
	unsigned int n_held;
	struct arp_held held[ARP_HOLD_MAX];
	struct arp_pend pend[ARP_HOLD_MAX];
	uint8_t *store;		/* ARP_HOLD_MAX slots of ARP_HOLD_SLOT bytes */
	struct ratelimit log_rl;
	struct ratelimit solicit_rl;
	struct arp_stats stats;
};

/* now - t, or 0 if the clock seems to have gone backwards. */
static uint64_t elapsed(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static bool is_own(const struct arp *a, uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < a->cfg.n_own; i++)
		if (a->cfg.own[i] == ip)
			return true;
	return false;
}

static bool mac_unicast(const uint8_t mac[ETH_ALEN])
{
	return !(mac[0] & 1) && memcmp(mac, eth_zero, ETH_ALEN) != 0;
}

static uint8_t *held_pkt(const struct arp *a, unsigned int i)
{
	return a->store + (size_t)i * ARP_HOLD_SLOT + ARP_HOLD_PKT_OFF;
}

/* ---- neighbour table ---- */

static uint32_t neigh_home(const struct arp *a, uint32_t ip)
{
	return (uint32_t)siphash13(&a->key, &ip, sizeof(ip)) & a->mask;
}

static bool neigh_fresh(const struct arp *a, const struct arp_neigh *e,
			uint64_t now)
{
	return elapsed(now, e->confirmed) < a->reach_ns;
}

/* Past reachable but within the grace: used while its owner is re-asked. */
static bool neigh_usable(const struct arp *a, const struct arp_neigh *e,
			 uint64_t now)
{
	return elapsed(now, e->confirmed) <
	       a->reach_ns + ARP_STALE_SEC * NSEC_PER_SEC;
}

static struct arp_neigh *neigh_find(const struct arp *a, uint32_t ip)
{
	uint32_t h = neigh_home(a, ip), i;

	for (i = 0; i < a->probe; i++) {
		struct arp_neigh *e = &a->tab[(h + i) & a->mask];

		if (e->valid && e->ip == ip)
			return e;
	}
	return NULL;
}

/*
 * A new entry for @ip (not in the table): the first free or stale slot of
 * the window, else the one confirmed longest ago (evicted, counted).
 */
static struct arp_neigh *neigh_insert(struct arp *a, uint32_t ip,
				      const uint8_t mac[ETH_ALEN], uint64_t now)
{
	uint32_t h = neigh_home(a, ip), i;
	struct arp_neigh *victim = &a->tab[h];

	for (i = 0; i < a->probe; i++) {
		struct arp_neigh *e = &a->tab[(h + i) & a->mask];

		if (!e->valid || !neigh_usable(a, e, now)) {
			victim = e;
			break;
		}
		if (e->confirmed < victim->confirmed)
			victim = e;
	}
	if (i == a->probe)
		a->stats.evicted++;
	victim->ip = ip;
	memcpy(victim->mac, mac, ETH_ALEN);
	victim->confirmed = now;
	victim->valid = 1;
	a->stats.learned++;
	return victim;
}

static void send_request(struct arp *a, uint32_t ip);

int arp_lookup(struct arp *a, uint32_t ip, uint64_t now, uint8_t mac[ETH_ALEN])
{
	struct arp_neigh *e = neigh_find(a, ip);

	if (!e || !neigh_usable(a, e, now))
		return -ENOENT;
	if (unlikely(!neigh_fresh(a, e, now)) &&
	    elapsed(now, e->asked) >= NSEC_PER_SEC) {
		e->asked = now;
		a->stats.refreshes++;
		send_request(a, ip);
	}
	memcpy(mac, e->mac, ETH_ALEN);
	return 0;
}

int arp_peek(const struct arp *a, uint32_t ip, uint64_t now,
	     uint8_t mac[ETH_ALEN])
{
	const struct arp_neigh *e = neigh_find(a, ip);

	if (!e || !neigh_usable(a, e, now))
		return -ENOENT;
	memcpy(mac, e->mac, ETH_ALEN);
	return 0;
}

/* ---- output ---- */

/*
 * Write one ARP frame and pass it to send(). Frames are padded to the
 * Ethernet minimum: software paths (TAP, veth, AF_PACKET) do not pad, and
 * some receivers drop runts.
 */
static void arp_emit(struct arp *a, uint16_t op, const uint8_t eth_dst[ETH_ALEN],
		     uint32_t spa, const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	uint8_t f[ETH_MIN_FRAME];
	int n;

	static_assert(ARP_FRAME_LEN <= ETH_MIN_FRAME, "ARP frame is a runt");
	memset(f, 0, sizeof(f));
	n = pkt_build_arp(f, sizeof(f), op, eth_dst, a->cfg.mac, spa, tha, tpa);
	if (n < 0)
		return;		/* cannot happen: the buffer is big enough */
	a->cfg.send(a->cfg.ctx, f, sizeof(f));
}

static void send_request(struct arp *a, uint32_t ip)
{
	arp_emit(a, ARP_OP_REQUEST, eth_bcast, a->cfg.own[0], eth_zero, ip);
	a->stats.requests_out++;
}

int arp_solicit(struct arp *a, uint32_t ip, uint64_t now)
{
	if (!pkt_ip4_host(ip) || is_own(a, ip))
		return -EINVAL;
	if (!ratelimit_allow(&a->solicit_rl, now)) {
		a->stats.solicit_limited++;
		return -EBUSY;
	}
	a->stats.solicits++;
	send_request(a, ip);
	return 0;
}

/* ---- hold queue ---- */

static struct arp_pend *pend_find(struct arp *a, uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < ARP_HOLD_MAX; i++)
		if (a->pend[i].in_use && a->pend[i].ip == ip)
			return &a->pend[i];
	return NULL;
}

/*
 * A record for @ip: its own if it has one, else a free record, else the
 * idle one (no packets) with the oldest request. The caller holds fewer
 * than ARP_HOLD_MAX packets, so at least one record is idle.
 */
static struct arp_pend *pend_get(struct arp *a, uint32_t ip)
{
	struct arp_pend *p = pend_find(a, ip), *best = NULL;
	unsigned int i;

	if (p)
		return p;
	for (i = 0; i < ARP_HOLD_MAX; i++) {
		p = &a->pend[i];
		if (!p->in_use) {
			best = p;
			break;
		}
		if (!p->n_held && (!best || p->last_req < best->last_req))
			best = p;
	}
	if (!best)
		return NULL;
	memset(best, 0, sizeof(*best));
	best->ip = ip;
	return best;
}

static void held_free(struct arp *a, struct arp_held *h)
{
	struct arp_pend *p = pend_find(a, h->ip);

	if (p && p->n_held)
		p->n_held--;
	h->in_use = false;
	a->n_held--;
}

int arp_hold(struct arp *a, uint32_t ip, const uint8_t *pkt, size_t len,
	     const struct pkt_vnet *vnet, uint64_t now)
{
	struct arp_held *h = NULL;
	struct arp_pend *p;
	unsigned int i;

	if (!pkt_ip4_host(ip) || is_own(a, ip) || !a->cfg.deliver) {
		a->stats.hold_dropped++;
		return -EINVAL;
	}
	if (len > ARP_HOLD_BYTES || a->n_held >= ARP_HOLD_MAX) {
		a->stats.hold_dropped++;
		return -ENOSPC;
	}
	for (i = 0; i < ARP_HOLD_MAX; i++) {
		if (!a->held[i].in_use) {
			h = &a->held[i];
			break;
		}
	}
	p = pend_get(a, ip);
	if (!h || !p) {		/* cannot happen while n_held is right */
		a->stats.hold_dropped++;
		return -ENOSPC;
	}
	memcpy(held_pkt(a, i), pkt, len);
	h->len = (uint32_t)len;
	h->ip = ip;
	h->since = now;
	h->seq = a->seq++;
	h->vnet = vnet ? *vnet : (struct pkt_vnet){ 0 };
	h->in_use = true;
	a->n_held++;
	a->stats.held++;

	if (!p->n_held)
		p->retries = 0;	/* a new round of resolution */
	if (!p->in_use || elapsed(now, p->last_req) >= NSEC_PER_SEC) {
		p->in_use = true;
		p->last_req = now;
		send_request(a, ip);
	}
	p->n_held++;
	return 0;
}

/* Hand every packet held for @ip to deliver(), oldest first. */
static void release(struct arp *a, uint32_t ip, const uint8_t mac_in[ETH_ALEN])
{
	uint8_t mac[ETH_ALEN];
	struct arp_pend *p;
	unsigned int round, i;

	if (!a->n_held)
		return;
	memcpy(mac, mac_in, ETH_ALEN);
	for (round = 0; round < ARP_HOLD_MAX; round++) {
		struct arp_held *h = NULL;

		for (i = 0; i < ARP_HOLD_MAX; i++) {
			struct arp_held *c = &a->held[i];

			if (c->in_use && c->ip == ip && (!h || c->seq < h->seq))
				h = c;
		}
		if (!h)
			break;
		i = (unsigned int)(h - a->held);
		a->cfg.deliver(a->cfg.ctx, held_pkt(a, i), h->len, &h->vnet, mac);
		a->stats.released++;
		held_free(a, h);
	}
	p = pend_find(a, ip);
	if (p)
		p->in_use = false;	/* resolved: no rate limit to remember */
}

void arp_tick(struct arp *a, uint64_t now)
{
	uint32_t n = a->mask < ARP_GC_SLICE ? a->mask + 1 : ARP_GC_SLICE, i;

	for (i = 0; i < ARP_HOLD_MAX; i++) {
		struct arp_held *h = &a->held[i];

		if (h->in_use &&
		    elapsed(now, h->since) >= ARP_HOLD_SEC * NSEC_PER_SEC) {
			a->stats.hold_expired++;
			held_free(a, h);
		}
	}
	for (i = 0; i < ARP_HOLD_MAX; i++) {
		struct arp_pend *p = &a->pend[i];

		if (p->in_use && p->n_held && p->retries < ARP_RETRY_MAX &&
		    elapsed(now, p->last_req) >= NSEC_PER_SEC) {
			p->retries++;
			p->last_req = now;
			send_request(a, p->ip);
		}
	}
	for (i = 0; i < n; i++) {
		struct arp_neigh *e = &a->tab[a->gc_pos++ & a->mask];

		if (e->valid && !neigh_usable(a, e, now))
			e->valid = 0;
	}
}

/* ---- input ---- */

static void log_conflict(struct arp *a, const struct arp_eth_ip4 *h,
			 uint64_t now)
{
	char ip[INET_ADDRSTRLEN];
	uint32_t spa = h->spa;

	if (!inet_ntop(AF_INET, &spa, ip, sizeof(ip)))
		return;
	log_rl(&a->log_rl, now, LOG_LEVEL_WARN,
	       "arp: " ETH_MAC_FMT " claims our address %s",
	       ETH_MAC_ARG(h->sha), ip);
}

/* Copy the ARP header out of @frame if it is one we speak; else false. */
static bool arp_read(const uint8_t *frame, const struct pkt_meta *m,
		     struct arp_eth_ip4 *h)
{
	struct pkt_cursor c;
	const void *p;
	uint16_t op;

	if (m->l3 != PKT_L3_ARP)
		return false;
	pkt_cursor_init(&c, frame, m->len);
	p = pkt_cursor_at(&c, m->l3_off, sizeof(*h));
	if (!p)
		return false;
	memcpy(h, p, sizeof(*h));
	op = ntohs(h->op);
	return ntohs(h->htype) == ARP_HTYPE_ETHER &&
	       ntohs(h->ptype) == ETH_P_IPV4 && h->hlen == ETH_ALEN &&
	       h->plen == 4 && (op == ARP_OP_REQUEST || op == ARP_OP_REPLY);
}

void arp_input(struct arp *a, const uint8_t *frame, const struct pkt_meta *m,
	       uint64_t now)
{
	struct arp_neigh *e = NULL;
	struct arp_eth_ip4 h;
	bool request, grat;

	if (!arp_read(frame, m, &h)) {
		a->stats.ignored++;
		return;
	}
	request = ntohs(h.op) == ARP_OP_REQUEST;
	if (request)
		a->stats.requests_in++;
	else
		a->stats.replies_in++;
	/* Our own frames looped back, or a sender with no usable MAC. */
	if (!mac_unicast(h.sha) || !memcmp(h.sha, a->cfg.mac, ETH_ALEN)) {
		a->stats.ignored++;
		return;
	}
	if (is_own(a, h.spa)) {
		a->stats.conflicts++;
		log_conflict(a, &h, now);
		return;
	}
	grat = h.spa == h.tpa && h.spa != 0;
	if (grat)
		a->stats.gratuitous++;
	/* spa 0 is an address probe (RFC 5227): answered, never learned. */
	if (h.spa != 0) {
		if (!pkt_ip4_host(h.spa)) {
			a->stats.ignored++;
			return;
		}
		e = neigh_find(a, h.spa);
		if (e) {
			bool moved = memcmp(e->mac, h.sha, ETH_ALEN) != 0;

			memcpy(e->mac, h.sha, ETH_ALEN);
			e->confirmed = now;
			a->stats.updated++;
			if (moved) {
				a->stats.moved++;
				if (a->cfg.learned)
					a->cfg.learned(a->cfg.ctx, h.spa, h.sha);
			}
		} else if ((!grat && is_own(a, h.tpa)) || pend_find(a, h.spa)) {
			e = neigh_insert(a, h.spa, h.sha, now);
			if (a->cfg.learned)
				a->cfg.learned(a->cfg.ctx, h.spa, h.sha);
		}
	}
	if (request && is_own(a, h.tpa)) {
		arp_emit(a, ARP_OP_REPLY, h.sha, h.tpa, h.sha, h.spa);
		a->stats.replies_out++;
	}
	if (e)
		release(a, h.spa, h.sha);
}

/* ---- lifecycle ---- */

int arp_create(struct arp **out, const struct arp_cfg *cfg)
{
	uint32_t size = cfg->max_neigh ? cfg->max_neigh : ARP_DEFAULT_NEIGH;
	struct arp *a;
	unsigned int i;
	int r;

	*out = NULL;
	if (!cfg->send || cfg->n_own == 0 || cfg->n_own > ARP_OWN_MAX ||
	    size > ARP_MAX_NEIGH || !mac_unicast(cfg->mac))
		return -EINVAL;
	for (i = 0; i < cfg->n_own; i++)
		if (!pkt_ip4_host(cfg->own[i]))
			return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->cfg.key = NULL;	/* not kept: the caller's may go away */
	if (cfg->key) {
		a->key = *cfg->key;
	} else {
		r = siphash_key_random(&a->key);
		if (r < 0)
			goto err_free;
	}
	r = -ENOMEM;
	while (!IS_POWER_OF_2(size))	/* at most 32 rounds */
		size += size & -size;
	a->tab = calloc(size, sizeof(*a->tab));
	if (!a->tab)
		goto err_free;
	a->store = malloc((size_t)ARP_HOLD_MAX * ARP_HOLD_SLOT);
	if (!a->store)
		goto err_free;
	a->mask = size - 1;
	a->probe = MIN(ARP_PROBE_MAX, size);
	a->reach_ns = (uint64_t)(cfg->reachable_sec ? cfg->reachable_sec
						    : ARP_DEFAULT_REACHABLE) *
		      NSEC_PER_SEC;
	ratelimit_init(&a->log_rl, 5, NSEC_PER_SEC);
	ratelimit_init(&a->solicit_rl, ARP_SOLICIT_BURST, NSEC_PER_SEC);
	*out = a;
	return 0;

err_free:
	arp_destroy(a);
	return r;
}

void arp_destroy(struct arp *a)
{
	if (!a)
		return;
	free(a->store);
	free(a->tab);
	free(a);
}

const struct arp_stats *arp_get_stats(const struct arp *a)
{
	return &a->stats;
}
