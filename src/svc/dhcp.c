// SPDX-License-Identifier: MIT
/*
 * dhcp.c - the DHCPv4 server: the RFC 2131 state rules, host names,
 * configuration. Theory of operation in dhcp.h; messages and reply frames
 * are in dhcp_msg.c, the lease table and the lease file in dhcp_lease.c.
 */
#include "svc/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "svc/dhcp_lease.h"
#include "svc/dhcp_msg.h"

struct dhcp {
	struct dhcp_env env;	/* addresses in network order, as everywhere */
	uint32_t net;
	uint32_t bcast;
	uint32_t decline_sec;
	int (*addr_user)(void *ctx, uint32_t ip, uint8_t mac[ETH_ALEN]);
	void (*addr_probe)(void *ctx, uint32_t ip);
	void *ctx;
	struct dhcp_leases tab;
	uint64_t now;			/* latest time seen, for const lookups */
	struct ratelimit log_rl;
	struct dhcp_stats stats;
};

static const char *const drop_names[] = {
#define DHCP_DROP_NAME(e, n, d) [DHCP_DROP_##e] = (n),
	DHCP_DROP_LIST(DHCP_DROP_NAME)
#undef DHCP_DROP_NAME
};

const char *dhcp_drop_name(enum dhcp_drop r)
{
	return (unsigned int)r < DHCP_DROP_MAX ? drop_names[r] : "?";
}

static bool mac_unicast(const uint8_t *mac)
{
	return !(mac[0] & 1) &&
	       (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

/* A host address of our subnet (not the network or broadcast address). */
static bool in_subnet(const struct dhcp *d, uint32_t ip)
{
	return (ip & d->env.mask) == d->net && ip != d->net && ip != d->bcast;
}

static void sync_stats(struct dhcp *d)
{
	d->stats.leases_active = d->tab.n_bound;
	d->stats.offers_pending = d->tab.n_offered;
	d->stats.quarantined = d->tab.n_declined;
	d->stats.offers_expired = d->tab.offers_expired;
	d->stats.leases_expired = d->tab.leases_expired;
}

/* Who the client is: option 61 if it has a usable one, else its MAC. */
static void client_key(struct dhcp *d, struct dhcp_req *r)
{
	memset(&r->key, 0, sizeof(r->key));
	if (r->client_id && r->client_id_len <= DHCP_CLIENT_ID_MAX) {
		r->key.kind = DHCP_KEY_CLIENT_ID;
		r->key.len = r->client_id_len;
		memcpy(r->key.b, r->client_id, r->client_id_len);
		return;
	}
	if (r->client_id)
		d->stats.client_id_long++;
	r->key.kind = DHCP_KEY_MAC;
	r->key.len = ETH_ALEN;
	memcpy(r->key.b, r->h.chaddr, ETH_ALEN);
}

static int drop(struct dhcp *d, enum dhcp_drop why, int ret)
{
	d->stats.drops[why]++;
	return ret;
}

static int send_reply(struct dhcp *d, const struct pkt_meta *m,
		      const struct dhcp_req *r, const struct dhcp_reply *rep,
		      uint8_t *out, size_t cap)
{
	int n = dhcp_msg_reply(&d->env, m, r, rep, out, cap);

	if (n < 0)
		return drop(d, DHCP_DROP_NO_ROOM, n);
	d->stats.out[rep->type]++;
	return n;
}

/* ---- the state rules (RFC 2131 section 4.3) ---- */

/* The client's slot: its static host by MAC, else its key; expired lazily. */
static struct dhcp_lease *client_lease(struct dhcp *d, const struct dhcp_req *r,
				       uint64_t now)
{
	struct dhcp_key sk = { .kind = DHCP_KEY_STATIC, .len = ETH_ALEN };
	struct dhcp_lease *l;

	memcpy(sk.b, r->h.chaddr, ETH_ALEN);
	l = dhcp_lease_find(&d->tab, &sk);
	if (!l)
		l = dhcp_lease_find(&d->tab, &r->key);
	if (l)
		dhcp_lease_expire(&d->tab, l, now);
	return l;
}

/* A dynamic pool slot for @ip that nobody holds now, or NULL. */
static struct dhcp_lease *free_slot(struct dhcp *d, uint32_t ip, uint64_t now)
{
	struct dhcp_lease *l = dhcp_lease_by_ip(&d->tab, ip);

	if (!l || l->is_static)
		return NULL;
	dhcp_lease_expire(&d->tab, l, now);
	return l->state == DHCP_LS_FREE ? l : NULL;
}

/* ---- addresses in use by other hosts (dhcp.h) ---- */

/* Whether @l's address belongs to a MAC: leased or reserved. An offered
 * address another host answers for is the probe at work, not a conflict
 * anyone has to hear of: the client is NAKed and never uses it. */
static bool held(const struct dhcp_lease *l)
{
	return l->is_static || l->state == DHCP_LS_BOUND;
}

/* @l's address, held by l->mac, is used by @other too: said once per
 * binding (l->warned), at warn level, because one of the two hosts is
 * broken until the other lets go. */
static void conflict(struct dhcp *d, struct dhcp_lease *l,
		     const uint8_t other[ETH_ALEN], uint64_t now)
{
	char ip[INET_ADDRSTRLEN];

	if (l->warned)
		return;
	l->warned = true;
	d->stats.in_use_conflicts++;
	if (!inet_ntop(AF_INET, &l->ip, ip, sizeof(ip)))
		return;
	log_rl(&d->log_rl, now, LOG_LEVEL_WARN,
	       "dhcp: %s %s to " ETH_MAC_FMT " is in use by " ETH_MAC_FMT
	       " too (configured by hand?)",
	       ip, l->is_static ? "reserved" : "leased", ETH_MAC_ARG(l->mac),
	       ETH_MAC_ARG(other));
}

/*
 * Whether a host other than the client (@r's chaddr) uses @l's address, as
 * the datapath's ARP table says. If so the address is quarantined like a
 * declined one (RFC 2131 2.2: the client would find it in use and decline
 * it, or break the other host), a binding of it to another MAC is logged
 * as a conflict, and a dynamic slot forgets its client.
 */
static bool taken(struct dhcp *d, const struct dhcp_req *r,
		  struct dhcp_lease *l, uint64_t now)
{
	uint8_t other[ETH_ALEN];
	char ip[INET_ADDRSTRLEN];

	if (!d->addr_user || d->addr_user(d->ctx, l->ip, other) != 0 ||
	    !memcmp(other, r->h.chaddr, ETH_ALEN))
		return false;
	if (held(l) && memcmp(l->mac, other, ETH_ALEN) != 0)
		conflict(d, l, other, now);
	else if (inet_ntop(AF_INET, &l->ip, ip, sizeof(ip)))
		log_rl(&d->log_rl, now, LOG_LEVEL_INFO,
		       "dhcp: %s is in use by " ETH_MAC_FMT
		       ", not given to " ETH_MAC_FMT ", quarantined for %u s",
		       ip, ETH_MAC_ARG(other), ETH_MAC_ARG(r->h.chaddr),
		       d->decline_sec);
	dhcp_lease_decline(&d->tab, l,
			   now + (uint64_t)d->decline_sec * NSEC_PER_SEC);
	return true;
}

/* taken() for an OFFER's candidate: counted, one of @tries. */
static bool skip_taken(struct dhcp *d, const struct dhcp_req *r,
		       struct dhcp_lease *l, uint64_t now, unsigned int *tries)
{
	if (!taken(d, r, l, now))
		return false;
	d->stats.in_use_skipped++;
	(*tries)++;
	return true;
}

/* taken() for a REQUEST's address: counted, to be NAKed. */
static bool nak_taken(struct dhcp *d, const struct dhcp_req *r,
		      struct dhcp_lease *l, uint64_t now)
{
	if (!taken(d, r, l, now))
		return false;
	d->stats.in_use_nak++;
	return true;
}

void dhcp_addr_seen(struct dhcp *d, uint32_t ip, const uint8_t mac[ETH_ALEN],
		    uint64_t now)
{
	struct dhcp_lease *l = dhcp_lease_by_ip(&d->tab, ip);

	if (now > d->now)
		d->now = now;
	if (!l)
		return;
	dhcp_lease_expire(&d->tab, l, now);
	if (held(l) && memcmp(l->mac, mac, ETH_ALEN) != 0)
		conflict(d, l, mac, now);
	sync_stats(d);
}

/* Learn option 12 for a lease being ACKed (see dhcp.h). */
static void learn_name(struct dhcp *d, struct dhcp_lease *l,
		       const struct dhcp_req *r)
{
	const char *s = (const char *)r->host_name, *dot;
	size_t len = r->host_name_len;
	int e;

	if (!s || l->name_fixed)
		return;
	while (len && s[len - 1] == '\0')	/* some clients send a NUL */
		len--;
	dot = memchr(s, '.', len);
	if (dot) {
		size_t dlen = len - (size_t)(dot + 1 - s);

		if (dlen && dot[dlen] == '.')
			dlen--;
		if (dlen != d->env.domain_len ||
		    strncasecmp(dot + 1, d->env.domain, dlen) != 0) {
			d->stats.names_invalid++;
			return;
		}
		len = (size_t)(dot - s);
	}
	if (!dhcp_name_valid(s, len)) {
		d->stats.names_invalid++;
		return;
	}
	if (strlen(l->name) == len && !strncmp(l->name, s, len))
		return;
	e = dhcp_lease_set_name(&d->tab, l, s, len);
	if (e == -EEXIST)
		d->stats.names_taken++;
	else if (e == 0)
		d->stats.names_learned++;
}

static int ack(struct dhcp *d, const struct pkt_meta *m,
	       const struct dhcp_req *r, struct dhcp_lease *l, uint64_t now,
	       uint8_t *out, size_t cap)
{
	struct dhcp_reply rep = { .type = DHCP_ACK, .yiaddr = l->ip,
				  .ciaddr = r->h.ciaddr, .lease = true };

	dhcp_lease_set_state(&d->tab, l, DHCP_LS_BOUND,
			     now + (uint64_t)d->env.lease_sec * NSEC_PER_SEC);
	if (!l->is_static)
		memcpy(l->mac, r->h.chaddr, ETH_ALEN);
	learn_name(d, l, r);
	rep.name = l->name_fixed ? l->name : NULL;
	return send_reply(d, m, r, &rep, out, cap);
}

static int nak(struct dhcp *d, const struct pkt_meta *m,
	       const struct dhcp_req *r, uint8_t *out, size_t cap)
{
	struct dhcp_reply rep = { .type = DHCP_NAK };

	return send_reply(d, m, r, &rep, out, cap);
}

static int on_discover(struct dhcp *d, const struct pkt_meta *m,
		       const struct dhcp_req *r, uint64_t now, uint8_t *out,
		       size_t cap)
{
	struct dhcp_lease *l = client_lease(d, r, now), *c = l;
	struct dhcp_reply rep = { .type = DHCP_OFFER, .lease = true };
	unsigned int tries = 0;

	if (l && l->state == DHCP_LS_DECLINED)	/* a static host's, in use */
		return drop(d, DHCP_DROP_POOL_EXHAUSTED, 0);
	/* RFC 2131 4.3.1: current or previous binding, requested, new; each
	 * skipped when another host uses it (taken() quarantines it and a
	 * dynamic slot forgets the client). Each skip is one of tries. */
	if (c && skip_taken(d, r, c, now, &tries)) {
		if (c->is_static)
			return drop(d, DHCP_DROP_IN_USE, 0);
		l = c = NULL;
	}
	if (!c && r->has_req_ip) {
		c = free_slot(d, r->req_ip, now);
		if (c && skip_taken(d, r, c, now, &tries))
			c = NULL;
	}
	while (!c && tries < DHCP_IN_USE_TRIES) {
		c = dhcp_lease_alloc(&d->tab, now);
		if (!c)
			break;
		if (skip_taken(d, r, c, now, &tries))
			c = NULL;
	}
	if (!c)
		return drop(d, tries ? DHCP_DROP_IN_USE
				     : DHCP_DROP_POOL_EXHAUSTED, 0);
	if (c != l)
		dhcp_lease_bind_key(&d->tab, c, &r->key, r->h.chaddr);
	else if (!c->is_static)
		memcpy(c->mac, r->h.chaddr, ETH_ALEN);
	if (c->state != DHCP_LS_BOUND) {
		dhcp_lease_set_state(&d->tab, c, DHCP_LS_OFFERED,
				     now + DHCP_OFFER_SEC * NSEC_PER_SEC);
		/* A quiet host is not in the ARP table: ask, but do not wait
		 * (the worker never blocks). An answer arrives before the
		 * client's REQUEST, in practice, which is then NAKed. */
		if (d->addr_probe) {
			d->addr_probe(d->ctx, c->ip);
			d->stats.probes++;
		}
	}
	rep.yiaddr = c->ip;
	rep.name = c->name_fixed ? c->name : NULL;
	return send_reply(d, m, r, &rep, out, cap);
}

static int on_request(struct dhcp *d, const struct pkt_meta *m,
		      const struct dhcp_req *r, uint64_t now, uint8_t *out,
		      size_t cap)
{
	uint32_t want = r->has_req_ip ? r->req_ip : r->h.ciaddr;
	struct dhcp_lease *l = client_lease(d, r, now), *c;

	if (r->has_server_id) {			/* SELECTING */
		if (r->server_id != d->env.server) {
			/* The client took another server's offer. */
			if (l && l->state == DHCP_LS_OFFERED)
				dhcp_lease_set_state(&d->tab, l, DHCP_LS_FREE, 0);
			return drop(d, DHCP_DROP_OTHER_SERVER, 0);
		}
		if (!want)
			return drop(d, DHCP_DROP_BAD_REQUEST, -EINVAL);
		if (l && l->ip == want && l->state != DHCP_LS_DECLINED &&
		    !nak_taken(d, r, l, now))
			return ack(d, m, r, l, now, out, cap);
		return nak(d, m, r, out, cap);
	}
	/* INIT-REBOOT (requested address), RENEWING/REBINDING (ciaddr). */
	if (!want)
		return drop(d, DHCP_DROP_BAD_REQUEST, -EINVAL);
	if (!in_subnet(d, want))
		return nak(d, m, r, out, cap);
	if (l && l->ip == want && l->state != DHCP_LS_DECLINED) {
		/* Someone took the client's address: the client moves. */
		if (nak_taken(d, r, l, now))
			return nak(d, m, r, out, cap);
		return ack(d, m, r, l, now, out, cap);
	}
	/* A live record for another address: the client is wrong. */
	if (l && (l->is_static || l->state != DHCP_LS_FREE))
		return nak(d, m, r, out, cap);
	/* No record (or an old one): authoritative for free addresses. */
	c = free_slot(d, want, now);
	if (!c || nak_taken(d, r, c, now))
		return nak(d, m, r, out, cap);
	dhcp_lease_bind_key(&d->tab, c, &r->key, r->h.chaddr);
	return ack(d, m, r, c, now, out, cap);
}

static void log_decline(struct dhcp *d, const struct dhcp_req *r, uint64_t now)
{
	char ip[INET_ADDRSTRLEN];
	const uint8_t *m = r->h.chaddr;

	if (!inet_ntop(AF_INET, &r->req_ip, ip, sizeof(ip)))
		return;
	log_rl(&d->log_rl, now, LOG_LEVEL_WARN,
	       "dhcp: " ETH_MAC_FMT " declined %s (in use by another host?), quarantined for %u s",
	       ETH_MAC_ARG(m), ip, d->decline_sec);
}

static int on_decline(struct dhcp *d, const struct dhcp_req *r, uint64_t now)
{
	struct dhcp_lease *l;

	if (r->has_server_id && r->server_id != d->env.server)
		return drop(d, DHCP_DROP_OTHER_SERVER, 0);
	l = client_lease(d, r, now);
	if (!r->has_req_ip || !l || l->ip != r->req_ip ||
	    (l->state != DHCP_LS_OFFERED && l->state != DHCP_LS_BOUND))
		return drop(d, DHCP_DROP_NOT_OURS, 0);
	dhcp_lease_decline(&d->tab, l,
			   now + (uint64_t)d->decline_sec * NSEC_PER_SEC);
	d->stats.declined++;
	log_decline(d, r, now);
	return 0;
}

static int on_release(struct dhcp *d, const struct dhcp_req *r, uint64_t now)
{
	struct dhcp_lease *l;

	if (r->has_server_id && r->server_id != d->env.server)
		return drop(d, DHCP_DROP_OTHER_SERVER, 0);
	l = client_lease(d, r, now);
	if (!l || l->ip != r->h.ciaddr || l->state != DHCP_LS_BOUND)
		return drop(d, DHCP_DROP_NOT_OURS, 0);
	/* Free, but remembered: the client gets it back if it returns. */
	dhcp_lease_set_state(&d->tab, l, DHCP_LS_FREE, 0);
	d->stats.released++;
	return 0;
}

static int on_inform(struct dhcp *d, const struct pkt_meta *m,
		     const struct dhcp_req *r, uint8_t *out, size_t cap)
{
	struct dhcp_reply rep = { .type = DHCP_ACK, .ciaddr = r->h.ciaddr };

	/* RFC 2131 4.3.5: to ciaddr; a client that left it 0 by its source. */
	rep.unicast = r->h.ciaddr ? r->h.ciaddr : r->ip_src;
	if (!rep.unicast)
		return drop(d, DHCP_DROP_BAD_REQUEST, -EINVAL);
	if (!in_subnet(d, rep.unicast))
		return drop(d, DHCP_DROP_WRONG_SUBNET, 0);
	return send_reply(d, m, r, &rep, out, cap);
}

int dhcp_input(struct dhcp *d, const uint8_t *frame, const struct pkt_meta *m,
	       uint64_t now, uint8_t *out, size_t cap)
{
	struct dhcp_req r;
	enum dhcp_drop why;
	int n;

	if (now > d->now)
		d->now = now;
	if (!dhcp_msg_parse(frame, m, &r, &why))
		return drop(d, why, -EINVAL);
	client_key(d, &r);
	d->stats.in[r.type]++;
	if (r.h.giaddr)
		return drop(d, DHCP_DROP_RELAYED, 0);
	switch (r.type) {
	case DHCP_DISCOVER:
		n = on_discover(d, m, &r, now, out, cap);
		break;
	case DHCP_REQUEST:
		n = on_request(d, m, &r, now, out, cap);
		break;
	case DHCP_DECLINE:
		n = on_decline(d, &r, now);
		break;
	case DHCP_RELEASE:
		n = on_release(d, &r, now);
		break;
	default:
		n = on_inform(d, m, &r, out, cap);
		break;
	}
	sync_stats(d);
	return n;
}

void dhcp_tick(struct dhcp *d, uint64_t now)
{
	if (now > d->now)
		d->now = now;
	dhcp_lease_gc(&d->tab, now, DHCP_GC_SLICE);
	sync_stats(d);
}

int dhcp_snapshot(struct dhcp *d, uint64_t now, int64_t wall_sec, char *buf,
		  size_t cap)
{
	if (!d->tab.dirty)
		return 0;
	return dhcp_lease_format(&d->tab, now, wall_sec, buf, cap);
}

/* ---- names ---- */

static bool named(const struct dhcp *d, const struct dhcp_lease *l)
{
	return l->name[0] && (l->name_fixed || (l->state == DHCP_LS_BOUND &&
						 d->now < l->expires));
}

const char *dhcp_name_of(const struct dhcp *d, uint32_t ip)
{
	const struct dhcp_lease *l = dhcp_lease_by_ip(&d->tab, ip);

	return l && named(d, l) ? l->name : NULL;
}

int dhcp_addr_of(const struct dhcp *d, const char *name, uint32_t *ip)
{
	size_t len = strnlen(name, DHCP_NAME_MAX + DHCP_DOMAIN_MAX + 3);
	const struct dhcp_lease *l;
	const char *dot;

	if (len && name[len - 1] == '.')
		len--;
	dot = memchr(name, '.', len);
	if (dot) {
		size_t dlen = len - (size_t)(dot + 1 - name);

		if (dlen != d->env.domain_len ||
		    strncasecmp(dot + 1, d->env.domain, dlen) != 0)
			return -ENOENT;
		len = (size_t)(dot - name);
	}
	l = dhcp_lease_by_name(&d->tab, name, len);
	if (!l || !named(d, l))
		return -ENOENT;
	*ip = l->ip;
	return 0;
}

const struct dhcp_leases *dhcp_get_leases(const struct dhcp *d)
{
	return &d->tab;
}

/* ---- the control socket's view ---- */

static bool lease_live(const struct dhcp_lease *l, uint64_t now)
{
	return (l->state == DHCP_LS_OFFERED || l->state == DHCP_LS_BOUND) &&
	       now < l->expires;
}

static void lease_info(const struct dhcp_lease *l, uint64_t now,
		       struct dhcp_lease_info *out)
{
	bool live = lease_live(l, now);

	memcpy(out->mac, l->mac, ETH_ALEN);
	out->ip = l->ip;
	memcpy(out->name, l->name, sizeof(out->name));
	out->expires = live ? l->expires : 0;
	out->state = live ? l->state : DHCP_LS_FREE;
	out->is_static = l->is_static;
}

int dhcp_lease_delete(struct dhcp *d, const uint8_t *mac, uint32_t ip,
		      uint64_t now, struct dhcp_lease_info *out)
{
	struct dhcp_lease *l = NULL;

	if (mac) {
		/* A MAC is no key of the table (a client id may be): look at
		 * every slot, once, on a request of the control socket. */
		for (uint32_t i = 0; i < d->tab.n && !l; i++)
			if (lease_live(&d->tab.l[i], now) &&
			    !memcmp(d->tab.l[i].mac, mac, ETH_ALEN))
				l = &d->tab.l[i];
	} else {
		l = dhcp_lease_by_ip(&d->tab, ip);
	}
	if (!l || !lease_live(l, now))
		return -ENOENT;
	if (out)
		lease_info(l, now, out);
	dhcp_lease_forget(&d->tab, l);
	sync_stats(d);
	return 0;
}

const struct dhcp_stats *dhcp_get_stats(const struct dhcp *d)
{
	return &d->stats;
}

int dhcp_parse_host(const char *spec, struct dhcp_host *out)
{
	const char *c1 = strchr(spec, ','), *c2;
	char ip[INET_ADDRSTRLEN];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!c1 || dhcp_mac_parse(spec, (size_t)(c1 - spec), out->mac))
		return -EINVAL;
	c2 = strchr(c1 + 1, ',');
	n = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, c1 + 1, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &out->ip) != 1 || !out->ip)
		return -EINVAL;
	if (c2) {
		n = strlen(c2 + 1);
		if (!dhcp_name_valid(c2 + 1, n))
			return -EINVAL;
		memcpy(out->name, c2 + 1, n);
	}
	return 0;
}

/* ---- lifecycle ---- */

static bool hosts_ok(const struct dhcp *d, const struct dhcp_host *h,
		     unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		size_t len = strnlen(h[i].name, sizeof(h[i].name));

		if (!in_subnet(d, h[i].ip) || h[i].ip == d->env.server ||
		    !mac_unicast(h[i].mac) || len == sizeof(h[i].name) ||
		    (len && !dhcp_name_valid(h[i].name, len)))
			return false;
		for (j = 0; j < i; j++)	/* configuration-sized: <= 1024^2/2 */
			if (!memcmp(h[i].mac, h[j].mac, ETH_ALEN) ||
			    h[i].ip == h[j].ip ||
			    (len && !strcasecmp(h[i].name, h[j].name)))
				return false;
	}
	return true;
}

/* Check @cfg and fill the parts of @d that come straight from it. */
static int configure(struct dhcp *d, const struct dhcp_cfg *cfg,
		     uint32_t *first, uint32_t *last)
{
	unsigned int i;

	if (cfg->plen < 8 || cfg->plen > 30 || !mac_unicast(cfg->server_mac) ||
	    cfg->lease_sec > DHCP_LEASE_SEC_MAX ||
	    cfg->decline_sec > DHCP_LEASE_SEC_MAX ||
	    (cfg->mtu && cfg->mtu < 68) || cfg->n_dns > DHCP_DNS_MAX ||
	    cfg->n_hosts > DHCP_HOSTS_MAX || (cfg->n_hosts && !cfg->hosts))
		return -EINVAL;
	d->env.server = cfg->server;
	d->env.mask = ip4_prefix_mask(cfg->plen);
	d->net = d->env.server & d->env.mask;
	d->bcast = d->net | ~d->env.mask;
	if (!in_subnet(d, d->env.server))
		return -EINVAL;
	memcpy(d->env.server_mac, cfg->server_mac, ETH_ALEN);
	d->env.lease_sec = cfg->lease_sec ? cfg->lease_sec : DHCP_DEFAULT_LEASE;
	d->decline_sec = cfg->decline_sec ? cfg->decline_sec
					  : DHCP_DEFAULT_DECLINE;
	d->addr_user = cfg->addr_user;
	d->addr_probe = cfg->addr_probe;
	d->ctx = cfg->ctx;
	d->env.mtu = cfg->mtu;
	d->env.n_dns = cfg->n_dns ? cfg->n_dns : 1;
	d->env.dns[0] = d->env.server;
	for (i = 0; i < cfg->n_dns; i++) {
		if (!cfg->dns[i])
			return -EINVAL;
		d->env.dns[i] = cfg->dns[i];
	}
	if (dhcp_env_set_domain(&d->env, cfg->domain ? cfg->domain
						      : DHCP_DEFAULT_DOMAIN))
		return -EINVAL;
	if (!cfg->pool_first && !cfg->pool_last) {
		*first = ntohl(d->net) + 2;
		*last = MIN(ntohl(d->bcast) - 1, *first + DHCP_POOL_MAX - 1);
	} else {
		*first = ntohl(cfg->pool_first);
		*last = ntohl(cfg->pool_last);
		if (!in_subnet(d, cfg->pool_first) ||
		    !in_subnet(d, cfg->pool_last) || *first > *last ||
		    *last - *first >= DHCP_POOL_MAX)
			return -EINVAL;
	}
	if (!hosts_ok(d, cfg->hosts, cfg->n_hosts))
		return -EINVAL;
	if (cfg->lease_file && strlen(cfg->lease_file) > PATH_MAX - 16)
		return -ENAMETOOLONG;
	return 0;
}

int dhcp_create(struct dhcp **out, const struct dhcp_cfg *cfg, uint64_t now,
		int64_t wall_sec)
{
	uint32_t first = 0, last = 0;
	struct dhcp *d;
	int r;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = configure(d, cfg, &first, &last);
	if (r < 0)
		goto err_free;
	d->now = now;
	ratelimit_init(&d->log_rl, 5, NSEC_PER_SEC);
	r = dhcp_leases_init(&d->tab, htonl(first), htonl(last), d->env.server,
			     cfg->hosts, cfg->n_hosts);
	if (r < 0)
		goto err_free;
	if (cfg->lease_file) {
		r = dhcp_lease_load(&d->tab, cfg->lease_file, now, wall_sec,
				    DHCP_LEASE_SEC_MAX,
				    &d->stats.file_bad_lines);
		/* An unreadable file is logged; the server starts empty. */
		d->stats.file_loaded = r > 0 ? (uint64_t)r : 0;
	}
	sync_stats(d);
	*out = d;
	return 0;

err_free:
	dhcp_destroy(d);
	return r;
}

void dhcp_destroy(struct dhcp *d)
{
	if (!d)
		return;
	dhcp_leases_fini(&d->tab);
	free(d);
}
