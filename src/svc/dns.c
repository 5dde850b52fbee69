// SPDX-License-Identifier: MIT
/*
 * dns.c - the DNS forwarder: queries from guests, the queries in flight
 * upstream and their answers, retries and timeouts. Theory of operation in
 * dns.h; local names in dns_local.c, the cache in dns_cache.c, the wire
 * format in dns_msg.c.
 */
#include "svc/dns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "core/siphash.h"
#include "svc/dns_cache.h"
#include "svc/dns_local.h"
#include "svc/dns_msg.h"

#define NIL UINT32_MAX
#define BUF_SIZE (DNS_MSG_MAX + 1)
#define CASE_BYTES ((DNS_NAME_MAX + 7) / 8)
/* Our own queries: header, question, OPT. */
#define QUERY_MAX (DNS_HLEN + DNS_NAME_MAX + DNS_Q_FIXED_LEN + DNS_OPT_LEN)

static_assert(DNS_MAX_UPSTREAM <= 8, "dns_pending.asked is an 8-bit mask");
static_assert(DNS_MAX_INFLIGHT <= 65536 / 4, "IDs must stay easy to find");

/* Who asked, and how the reply must look for them. */
struct dns_asker {
	struct dns_client c;	/* c.udp_size: the reply size limit (UDP) */
	uint16_t id;		/* their ID */
	uint16_t flags;		/* their flags (RD and CD go back) */
	uint8_t upper[CASE_BYTES]; /* bit i: name byte i was upper case */
	bool edns;		/* they sent OPT: the reply gets one */
};

/* A client waiting for an upstream answer. Free ones chain through @next. */
struct dns_waiter {
	struct dns_asker a;
	uint32_t next;
	bool in_use;
};

/* A question in flight upstream. Free ones chain through @next. */
struct dns_pending {
	uint64_t started;	/* first try sent, ns */
	uint64_t deadline;	/* of the current try, ns */
	uint64_t qhash;
	uint32_t id_next;	/* ID index chain */
	uint32_t q_next;	/* question index chain */
	uint32_t prev, next;	/* deadline list */
	uint32_t first, last;	/* waiters, in arrival order */
	uint32_t n_waiters;
	uint16_t id;		/* toward upstream */
	uint16_t qtype, qclass;
	uint8_t name[DNS_NAME_MAX]; /* lowercased */
	uint8_t name_len;
	uint8_t first_server;	/* server of the first try */
	uint8_t tries;
	uint8_t asked;		/* bit i: upstream[i] was sent this query */
	bool in_use;
};

struct dns {
	struct dns_cfg cfg;
	struct dns_local local;
	struct dns_cache *cache;
	struct siphash_key qkey;	/* question index */
	struct siphash_key rng_key;	/* upstream IDs */
	uint64_t rng_ctr;
	struct dns_pending *pend;
	struct dns_waiter *wait;
	uint32_t *id_bucket;
	uint32_t *q_bucket;
	uint32_t bmask;
	uint32_t free_pend, free_wait;
	uint32_t dl_head, dl_tail;	/* deadline list, earliest first */
	uint32_t preferred;		/* server that answered last */
	uint64_t timeout_ns;
	uint8_t *buf;			/* upstream answers */
	uint8_t *out;			/* replies being built */
	struct dns_stats stats;
};

/* now - t, or 0 if the clock seems to have gone backwards. */
static uint64_t elapsed(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static void sync_stats(struct dns *d)
{
	const struct dns_cache_stats *cs = dns_cache_get_stats(d->cache);

	d->stats.cache_entries = cs->entries;
	d->stats.cache_bytes = cs->bytes;
}

static uint16_t rand16(struct dns *d)
{
	uint64_t v = siphash24(&d->rng_key, &d->rng_ctr, sizeof(d->rng_ctr));

	d->rng_ctr++;
	return (uint16_t)(v ^ v >> 16 ^ v >> 32 ^ v >> 48);
}

static uint64_t question_hash(const struct dns *d, const struct dns_question *q)
{
	uint8_t k[DNS_NAME_MAX + 4];

	memcpy(k, q->name, q->name_len);
	k[q->name_len] = (uint8_t)(q->qtype >> 8);
	k[q->name_len + 1] = (uint8_t)q->qtype;
	k[q->name_len + 2] = (uint8_t)(q->qclass >> 8);
	k[q->name_len + 3] = (uint8_t)q->qclass;
	return siphash13(&d->qkey, k, q->name_len + 4u);
}

static void case_bits(const uint8_t *raw, size_t n, uint8_t upper[CASE_BYTES])
{
	size_t i;

	memset(upper, 0, CASE_BYTES);
	for (i = 0; i < n; i++)
		if (raw[i] >= 'A' && raw[i] <= 'Z')
			upper[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Write the lowercased @name with the asker's upper-case letters to @dst. */
static void put_case(uint8_t *dst, const uint8_t *name, size_t n,
		     const uint8_t upper[CASE_BYTES])
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (upper[i / 8] >> (i % 8) & 1) ?
				 (uint8_t)(name[i] - ('a' - 'A')) : name[i];
}

/* ---- replies ---- */

/*
 * d->out holds a response of @len bytes for @a: header, the question
 * (ending at @q_end, name @name of @name_len bytes lowercased, or none when
 * @name_len is 0), records, no OPT. Make it theirs: ID, spelling, RD/CD;
 * cut it to @limit with TC if it (with OPT) does not fit; add OPT if they
 * used EDNS0 (with @ext_rcode, the upper bits of a 12-bit rcode).
 * Return: the final length, at most @limit.
 */
static size_t finish(struct dns *d, const struct dns_asker *a,
		     const uint8_t *name, size_t name_len, size_t len,
		     size_t q_end, size_t limit, uint8_t ext_rcode)
{
	uint16_t flags = dns_msg_get_flags(d->out);
	size_t need = len + (a->edns ? DNS_OPT_LEN : 0);

	dns_msg_set_id(d->out, a->id);
	flags = (flags & ~(DNS_F_RD | DNS_F_CD)) |
		(a->flags & (DNS_F_RD | DNS_F_CD));
	dns_msg_set_flags(d->out, flags);
	if (name_len)
		put_case(d->out + DNS_HLEN, name, name_len, a->upper);
	if (need > limit)
		len = dns_msg_truncate(d->out, q_end);
	if (a->edns) {
		int n = dns_msg_append_opt(d->out, len, BUF_SIZE,
					   DNS_EDNS_MAX, ext_rcode);
		ARC_ASSERT(n > 0);	/* a question always fits in 512 */
		len = (size_t)n;
	}
	ARC_ASSERT(len <= limit);
	if (dns_msg_get_flags(d->out) & DNS_F_TC)
		d->stats.truncated++;
	return len;
}

/* The size a reply to @a may have. */
static size_t reply_limit(const struct dns_asker *a, size_t cap)
{
	if (a->c.tcp)
		return MIN(cap, (size_t)DNS_MSG_MAX);
	return MIN(cap, (size_t)a->c.udp_size);
}

/*
 * Build a reply for @a from scratch into d->out and finish it: an error
 * (@rcode) without records, or the local answer @la.
 * Return: its length.
 */
static size_t build_reply(struct dns *d, const struct dns_asker *a,
			  const struct dns_question *q, uint16_t rcode,
			  const struct dns_local_answer *la, size_t limit)
{
	struct dns_reply r = { .id = a->id, .flags = a->flags, .rcode = rcode };
	int n;

	if (q) {
		r.qname = q->name;	/* finish() puts the spelling back */
		r.qname_len = q->name_len;
		r.qtype = q->qtype;
		r.qclass = q->qclass;
	}
	if (la) {
		r.aa = true;
		r.rcode = la->rcode;
		r.an_type = la->an_type;
		r.an_ttl = DNS_LOCAL_TTL;
		r.a_addr = la->addr;
		r.ptr = la->ptr;
		r.ptr_len = la->ptr_len;
	}
	/* The upper bits of an extended rcode (BADVERS) go in the OPT record
	 * finish() adds; the asker has one, or the rcode would not be used. */
	ARC_ASSERT(rcode <= DNS_F_RCODE_MASK || a->edns);
	r.rcode &= DNS_F_RCODE_MASK;
	n = dns_msg_build_reply(d->out, BUF_SIZE, &r);
	ARC_ASSERT(n > 0);
	return finish(d, a, q ? q->name : NULL, q ? q->name_len : 0, (size_t)n,
		      DNS_HLEN + (q ? q->name_len + DNS_Q_FIXED_LEN : 0), limit,
		      (uint8_t)(rcode >> 4));
}

static size_t servfail(struct dns *d, const struct dns_asker *a,
		       const struct dns_question *q, size_t limit)
{
	d->stats.servfail++;
	return build_reply(d, a, q, DNS_RCODE_SERVFAIL, NULL, limit);
}

/* ---- queries in flight ---- */

static uint32_t find_by_id(const struct dns *d, uint16_t id)
{
	uint32_t i = d->id_bucket[id & d->bmask], n;

	for (n = 0; i != NIL && n < d->cfg.max_inflight; n++) {
		if (d->pend[i].id == id)
			return i;
		i = d->pend[i].id_next;
	}
	return NIL;
}

static uint32_t find_by_question(const struct dns *d, uint64_t h,
				 const struct dns_question *q)
{
	uint32_t i = d->q_bucket[h & d->bmask], n;

	for (n = 0; i != NIL && n < d->cfg.max_inflight; n++) {
		const struct dns_pending *p = &d->pend[i];

		if (p->qhash == h && p->qtype == q->qtype &&
		    p->qclass == q->qclass && p->name_len == q->name_len &&
		    !memcmp(p->name, q->name, q->name_len))
			return i;
		i = p->q_next;
	}
	return NIL;
}

static void unlink_chain(struct dns *d, uint32_t *head, uint32_t i, bool by_id)
{
	bool found = false;
	uint32_t n;

	for (n = 0; *head != NIL && n < d->cfg.max_inflight; n++) {
		uint32_t *nx = by_id ? &d->pend[*head].id_next :
				       &d->pend[*head].q_next;

		if (*head == i) {
			*head = *nx;
			found = true;
			break;
		}
		head = nx;
	}
	ARC_ASSERT(found);	/* every query is in both indexes */
}

static void dl_unlink(struct dns *d, uint32_t i)
{
	struct dns_pending *p = &d->pend[i];

	if (p->prev != NIL)
		d->pend[p->prev].next = p->next;
	else
		d->dl_head = p->next;
	if (p->next != NIL)
		d->pend[p->next].prev = p->prev;
	else
		d->dl_tail = p->prev;
	p->prev = p->next = NIL;
}

static void dl_append(struct dns *d, uint32_t i)
{
	struct dns_pending *p = &d->pend[i];

	p->next = NIL;
	p->prev = d->dl_tail;
	if (d->dl_tail != NIL)
		d->pend[d->dl_tail].next = i;
	else
		d->dl_head = i;
	d->dl_tail = i;
}

static void waiter_free(struct dns *d, uint32_t w)
{
	d->wait[w].in_use = false;
	d->wait[w].next = d->free_wait;
	d->free_wait = w;
	d->stats.waiting--;
}

static uint32_t waiter_alloc(struct dns *d, const struct dns_asker *a)
{
	uint32_t w = d->free_wait;

	if (w == NIL)
		return NIL;
	d->free_wait = d->wait[w].next;
	d->wait[w].a = *a;
	d->wait[w].next = NIL;
	d->wait[w].in_use = true;
	d->stats.waiting++;
	return w;
}

/* Free a query in flight and its waiters (already answered). */
static void pending_free(struct dns *d, uint32_t i)
{
	struct dns_pending *p = &d->pend[i];
	uint32_t w = p->first, n;

	for (n = 0; w != NIL && n < DNS_MAX_WAITERS; n++) {
		uint32_t nx = d->wait[w].next;

		waiter_free(d, w);
		w = nx;
	}
	ARC_ASSERT(w == NIL);
	unlink_chain(d, &d->id_bucket[p->id & d->bmask], i, true);
	unlink_chain(d, &d->q_bucket[p->qhash & d->bmask], i, false);
	dl_unlink(d, i);
	p->in_use = false;
	p->next = d->free_pend;
	d->free_pend = i;
	d->stats.inflight--;
}

/* Send the next try of query @i (the tries-th server after the first). */
static void send_try(struct dns *d, uint32_t i, uint64_t now)
{
	struct dns_pending *p = &d->pend[i];
	unsigned int s = (p->first_server + p->tries) % d->cfg.n_upstream;
	uint8_t q[QUERY_MAX];
	int n;

	n = dns_msg_build_query(q, sizeof(q), p->id, DNS_F_RD, p->name,
				p->name_len, p->qtype, p->qclass, DNS_EDNS_MAX);
	ARC_ASSERT(n > 0);
	if (p->tries)
		d->stats.retries++;
	p->tries++;
	p->asked |= (uint8_t)(1u << s);
	p->deadline = now + d->timeout_ns;
	dl_unlink(d, i);
	dl_append(d, i);
	d->stats.upstream_sent++;
	d->cfg.send_upstream(d->cfg.ctx, d->cfg.upstream[s], p->id, q,
			     (size_t)n);
}

/* Give every waiter of query @i SERVFAIL, and free it. */
static void fail_pending(struct dns *d, uint32_t i)
{
	struct dns_pending *p = &d->pend[i];
	struct dns_question q = { .name_len = p->name_len, .qtype = p->qtype,
				  .qclass = p->qclass };
	uint32_t w, n;

	memcpy(q.name, p->name, p->name_len);
	for (w = p->first, n = 0; w != NIL && n < DNS_MAX_WAITERS; n++) {
		const struct dns_asker *a = &d->wait[w].a;
		size_t len = servfail(d, a, &q, reply_limit(a, DNS_MSG_MAX));

		d->stats.replies++;
		d->cfg.send_reply(d->cfg.ctx, &a->c, d->out, len);
		w = d->wait[w].next;
	}
	pending_free(d, i);
}

/* The current try of query @i failed: try the next server, or give up. */
static void next_try(struct dns *d, uint32_t i, uint64_t now)
{
	struct dns_pending *p = &d->pend[i];

	if (p->tries >= 2 * d->cfg.n_upstream ||
	    elapsed(now, p->started) >= DNS_QUERY_LIFETIME_MS * NSEC_PER_MSEC) {
		d->stats.timeouts++;
		fail_pending(d, i);
		return;
	}
	send_try(d, i, now);
}

/* An ID no query in flight has, or -1. */
static int fresh_id(struct dns *d)
{
	unsigned int t;

	for (t = 0; t < DNS_ID_TRIES; t++) {
		uint16_t id = rand16(d);

		if (find_by_id(d, id) == NIL)
			return id;
	}
	return -1;
}

/*
 * Forward @q for @a: join a query in flight, or start one.
 * Return: 0 if the reply will come through send_reply(), else the length
 * of a SERVFAIL in d->out.
 */
static size_t forward(struct dns *d, const struct dns_asker *a,
		      const struct dns_question *q, uint64_t now, size_t limit)
{
	uint64_t h = question_hash(d, q);
	uint32_t i = find_by_question(d, h, q), w, n;
	struct dns_pending *p;
	int id;

	if (i != NIL) {
		p = &d->pend[i];
		for (w = p->first, n = 0; w != NIL && n < DNS_MAX_WAITERS;
		     n++) {
			const struct dns_asker *o = &d->wait[w].a;

			if (o->id == a->id && o->c.addr == a->c.addr &&
			    o->c.port == a->c.port && o->c.tcp == a->c.tcp &&
			    o->c.cookie == a->c.cookie) {
				d->stats.duplicates++;
				return 0;
			}
			w = d->wait[w].next;
		}
		if (p->n_waiters >= DNS_MAX_WAITERS)
			goto full;
		w = waiter_alloc(d, a);
		if (w == NIL)
			goto full;
		d->wait[p->last].next = w;
		p->last = w;
		p->n_waiters++;
		d->stats.coalesced++;
		return 0;
	}
	if (!d->cfg.n_upstream)
		return servfail(d, a, q, limit);
	if (d->free_pend == NIL || d->free_wait == NIL)
		goto full;
	id = fresh_id(d);
	if (id < 0)
		goto full;

	i = d->free_pend;
	p = &d->pend[i];
	d->free_pend = p->next;
	memset(p, 0, sizeof(*p));
	p->in_use = true;
	p->started = now;
	p->qhash = h;
	p->id = (uint16_t)id;
	p->qtype = q->qtype;
	p->qclass = q->qclass;
	memcpy(p->name, q->name, q->name_len);
	p->name_len = q->name_len;
	p->first_server = (uint8_t)d->preferred;
	p->first = p->last = waiter_alloc(d, a);
	p->n_waiters = 1;
	p->id_next = d->id_bucket[p->id & d->bmask];
	d->id_bucket[p->id & d->bmask] = i;
	p->q_next = d->q_bucket[h & d->bmask];
	d->q_bucket[h & d->bmask] = i;
	p->prev = p->next = NIL;
	dl_append(d, i);
	d->stats.inflight++;
	d->stats.forwarded++;
	send_try(d, i, now);
	return 0;

full:
	d->stats.inflight_full++;
	return servfail(d, a, q, limit);
}

/* ---- API ---- */

int dns_query(struct dns *d, const struct dns_client *c, const uint8_t *msg,
	      size_t len, uint64_t now, uint8_t *reply, size_t cap)
{
	struct dns_local_answer la;
	struct dns_asker a = { .c = *c };
	struct dns_msg m;
	size_t n, limit;
	int r, hit;

	if (cap < DNS_UDP_MIN)
		return -EINVAL;
	if (c->tcp)
		d->stats.queries_tcp++;
	else
		d->stats.queries_udp++;
	r = dns_msg_parse(msg, len, &m);
	if (!m.hdr_ok || (m.flags & DNS_F_QR)) {
		d->stats.drops++;
		return -EBADMSG;
	}
	a.id = m.id;
	a.flags = m.flags;
	/* The client's size: EDNS0 or 512, at most 4096 and the datapath's
	 * limit. Only an OPT in a well-formed query counts. */
	limit = DNS_UDP_MIN;
	if (r == 0 && m.has_opt)
		limit = MAX(m.opt_size, DNS_UDP_MIN);
	limit = MIN(limit, (size_t)DNS_EDNS_MAX);
	if (c->udp_size)
		limit = MIN(limit, MAX(c->udp_size, DNS_UDP_MIN));
	a.c.udp_size = (uint16_t)limit;
	limit = reply_limit(&a, cap);
	a.edns = r == 0 && m.has_opt;
	if (m.q_ok)
		case_bits(msg + DNS_HLEN, m.q.name_len, a.upper);

	if (dns_msg_opcode(&m) != DNS_OPCODE_QUERY) {
		d->stats.notimp++;
		n = build_reply(d, &a, m.q_ok ? &m.q : NULL, DNS_RCODE_NOTIMP,
				NULL, limit);
	} else if (r || m.q.qtype == DNS_TYPE_OPT) {
		d->stats.formerr++;
		n = build_reply(d, &a, m.q_ok ? &m.q : NULL, DNS_RCODE_FORMERR,
				NULL, limit);
	} else if (m.has_opt && m.opt_version != 0) {
		d->stats.badvers++;	/* RFC 6891 section 6.1.3 */
		n = build_reply(d, &a, &m.q, DNS_RCODE_BADVERS, NULL, limit);
	} else if (dns_local_lookup(&d->local, &m.q, &la)) {
		d->stats.local++;
		n = build_reply(d, &a, &m.q, 0, &la, limit);
	} else {
		hit = dns_cache_get(d->cache, &m.q, now, d->out, BUF_SIZE);
		if (hit > 0) {
			d->stats.cache_hits++;
			n = finish(d, &a, m.q.name, m.q.name_len, (size_t)hit,
				   m.q_end, limit, 0);
		} else {
			d->stats.cache_misses++;
			n = forward(d, &a, &m.q, now, limit);
		}
	}
	sync_stats(d);
	if (!n)
		return 0;
	memcpy(reply, d->out, n);
	return (int)n;
}

/* Send the answer in d->buf (@len bytes, question ending at @q_end) to
 * every waiter of query @i, then free it. */
static void deliver(struct dns *d, uint32_t i, size_t len, size_t q_end)
{
	struct dns_pending *p = &d->pend[i];
	uint32_t w, n;

	for (w = p->first, n = 0; w != NIL && n < DNS_MAX_WAITERS; n++) {
		const struct dns_asker *a = &d->wait[w].a;
		size_t k;

		memcpy(d->out, d->buf, len);
		k = finish(d, a, p->name, p->name_len, len, q_end,
			   reply_limit(a, DNS_MSG_MAX), 0);
		d->stats.replies++;
		d->cfg.send_reply(d->cfg.ctx, &a->c, d->out, k);
		w = d->wait[w].next;
	}
	pending_free(d, i);
}

static bool upstream_error(unsigned int rcode)
{
	return rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED ||
	       rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR;
}

static int server_index(const struct dns *d, const struct dns_pending *p,
			uint32_t server)
{
	unsigned int s;

	for (s = 0; s < d->cfg.n_upstream; s++)
		if (d->cfg.upstream[s] == server && (p->asked & (1u << s)))
			return (int)s;
	return -1;
}

void dns_upstream_input(struct dns *d, uint32_t server, const uint8_t *msg,
			size_t len, uint64_t now)
{
	struct dns_pending *p;
	struct dns_msg m;
	uint32_t i;
	int r, s;

	if (len < DNS_HLEN || len > DNS_MSG_MAX)
		goto bad;
	i = find_by_id(d, (uint16_t)(msg[0] << 8 | msg[1]));
	if (i == NIL)
		goto bad;
	p = &d->pend[i];
	s = server_index(d, p, server);
	if (s < 0)
		goto bad;
	memcpy(d->buf, msg, len);
	r = dns_msg_parse(d->buf, len, &m);
	if (!m.q_ok || !(m.flags & DNS_F_QR) ||
	    dns_msg_opcode(&m) != DNS_OPCODE_QUERY ||
	    m.q.qtype != p->qtype || m.q.qclass != p->qclass ||
	    !dns_name_equal(m.q.name, m.q.name_len, p->name, p->name_len))
		goto bad;
	if (m.flags & DNS_F_TC) {
		/* Records of a truncated answer are not to be used (RFC 2181
		 * section 9): pass header and question on, cache nothing. */
		d->stats.upstream_answers++;
		deliver(d, i, dns_msg_truncate(d->buf, m.q_end), m.q_end);
		goto out;
	}
	if (r)
		goto bad;
	if (upstream_error(dns_msg_rcode(&m)) && d->cfg.n_upstream > 1 &&
	    p->tries < 2 * d->cfg.n_upstream &&
	    elapsed(now, p->started) < DNS_QUERY_LIFETIME_MS * NSEC_PER_MSEC) {
		d->stats.upstream_errors++;
		send_try(d, i, now);
		goto out;
	}
	if (m.has_opt) {
		/* OPT is hop-by-hop (RFC 6891 section 6.1.1). A pointer into
		 * it would now dangle: check again. */
		len = dns_msg_strip_opt(d->buf, &m);
		if (dns_msg_parse(d->buf, len, &m))
			goto bad;
	}
	d->stats.upstream_answers++;
	d->preferred = (uint32_t)s;
	(void)dns_cache_put(d->cache, d->buf, len, &m, now);
	deliver(d, i, len, m.q_end);
out:
	sync_stats(d);
	return;
bad:
	d->stats.bad_answers++;
}

void dns_tick(struct dns *d, uint64_t now)
{
	unsigned int n;

	/* The list is in deadline order: stop at the first one not due. */
	for (n = 0; n < DNS_TICK_BUDGET && d->dl_head != NIL; n++) {
		if (d->pend[d->dl_head].deadline > now)
			break;
		next_try(d, d->dl_head, now);
	}
	dns_cache_tick(d->cache, now);
	sync_stats(d);
}

int dns_create(struct dns **out, const struct dns_cfg *cfg)
{
	struct dns_cache_cfg cc = { .max_entries = cfg->cache_entries,
				    .max_bytes = cfg->cache_bytes,
				    .min_ttl = cfg->min_ttl,
				    .max_ttl = cfg->max_ttl,
				    .neg_max_ttl = cfg->neg_max_ttl,
				    .key = cfg->key };
	uint32_t i, nb = 1;
	struct dns *d;
	int r = -EINVAL;

	*out = NULL;
	if (!cfg->send_reply || cfg->n_upstream > DNS_MAX_UPSTREAM ||
	    (cfg->n_upstream && !cfg->send_upstream) ||
	    cfg->max_inflight > DNS_MAX_INFLIGHT ||
	    cfg->timeout_ms > DNS_MAX_TIMEOUT_MS)
		return -EINVAL;
	for (i = 0; i < cfg->n_upstream; i++)
		if (!cfg->upstream[i])
			return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->cfg.domain = NULL;	/* copied into d->local */
	d->cfg.key = NULL;
	if (!d->cfg.max_inflight)
		d->cfg.max_inflight = DNS_DEFAULT_INFLIGHT;
	d->timeout_ns = cfg->timeout_ms ? cfg->timeout_ms :
					  DNS_DEFAULT_TIMEOUT_MS;
	d->timeout_ns *= NSEC_PER_MSEC;
	if (dns_local_init(&d->local, cfg->domain))
		goto err_free;
	d->local.gateway_addr = cfg->gateway_addr;
	d->local.host_addr = cfg->host_addr;
	d->local.local_addr = cfg->local_addr;
	d->local.local_name = cfg->local_name;
	d->local.ctx = cfg->ctx;

	if (cfg->key) {
		d->qkey = *cfg->key;
	} else {
		r = siphash_key_random(&d->qkey);
		if (r)
			goto err_free;
	}
	if (cfg->seed) {
		d->rng_key.k[0] = cfg->seed;
		d->rng_key.k[1] = cfg->seed ^ 0x9e3779b97f4a7c15ULL;
	} else {
		r = siphash_key_random(&d->rng_key);
		if (r)
			goto err_free;
	}
	r = dns_cache_create(&d->cache, &cc);
	if (r)
		goto err_free;

	r = -ENOMEM;
	while (nb < d->cfg.max_inflight)
		nb <<= 1;
	d->bmask = nb - 1;
	d->pend = calloc(d->cfg.max_inflight, sizeof(*d->pend));
	d->wait = calloc(d->cfg.max_inflight, sizeof(*d->wait));
	d->id_bucket = malloc((size_t)nb * sizeof(*d->id_bucket));
	d->q_bucket = malloc((size_t)nb * sizeof(*d->q_bucket));
	d->buf = malloc(BUF_SIZE);
	d->out = malloc(BUF_SIZE);
	if (!d->pend || !d->wait || !d->id_bucket || !d->q_bucket || !d->buf ||
	    !d->out)
		goto err_free;
	for (i = 0; i < nb; i++)
		d->id_bucket[i] = d->q_bucket[i] = NIL;
	for (i = 0; i < d->cfg.max_inflight; i++) {
		d->pend[i].next = i + 1 < d->cfg.max_inflight ? i + 1 : NIL;
		d->wait[i].next = d->pend[i].next;
	}
	d->free_pend = d->free_wait = 0;
	d->dl_head = d->dl_tail = NIL;
	sync_stats(d);
	*out = d;
	return 0;

err_free:
	dns_destroy(d);
	return r;
}

void dns_destroy(struct dns *d)
{
	if (!d)
		return;
	free(d->out);
	free(d->buf);
	free(d->q_bucket);
	free(d->id_bucket);
	free(d->wait);
	free(d->pend);
	dns_cache_destroy(d->cache);
	free(d);
}

const struct dns_stats *dns_get_stats(const struct dns *d)
{
	return &d->stats;
}

struct dns_cache *dns_cache_of(struct dns *d)
{
	return d->cache;
}

const struct dns_cache *dns_get_cache(const struct dns *d)
{
	return d->cache;
}
