// SPDX-License-Identifier: MIT
/*
 * dns_msg.c - DNS message parser, builders and in-place edits. Theory of
 * operation in dns_msg.h.
 */
#include "svc/dns_msg.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"
#include "pkt/cursor.h"

/* Offsets of the header's fields. */
#define OFF_FLAGS 2
#define OFF_QD	  4
#define OFF_AN	  6
#define OFF_NS	  8
#define OFF_AR	  10

/* Steps of a name walk: at most 127 labels (2 bytes each, at least) and the
 * root, plus the jumps. */
#define NAME_STEPS (DNS_NAME_MAX / 2 + 1 + DNS_MSG_MAX_HOPS)

/* TTL rewrite done by walk() for dns_msg_adjust_ttls(). */
struct ttl_edit {
	uint8_t *buf;
	uint32_t lo, hi, sub;
};

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* @n bytes at @p if they lie below @limit (and inside the cursor). */
static const uint8_t *at(const struct pkt_cursor *c, size_t p, size_t n,
			 size_t limit)
{
	if (p > limit || n > limit - p)
		return NULL;
	return pkt_cursor_at(c, p, n);
}

/*
 * Read the name at *pos. Its labels up to the first pointer must lie below
 * @end (the end of the rdata it sits in, or of the message); after a jump,
 * anywhere in the message. On success *pos is just after the name's bytes
 * in place, @out (if not NULL) holds the name lowercased and uncompressed,
 * and *out_len its length.
 */
static int read_name(const struct pkt_cursor *c, size_t *pos, size_t end,
		     uint8_t *out, size_t *out_len)
{
	size_t p = *pos, seg = p, limit = end, wlen = 0, next = 0;
	unsigned int hops = 0, step;
	bool jumped = false;

	for (step = 0; step < NAME_STEPS; step++) {
		const uint8_t *b = at(c, p, 1, limit);
		size_t n;

		if (!b)
			return -EBADMSG;
		if (b[0] == 0) {
			if (out)
				out[wlen] = 0;
			*out_len = wlen + 1;
			*pos = jumped ? next : p + 1;
			return 0;
		}
		if ((b[0] & DNS_PTR_MASK) == DNS_PTR_MASK) {
			size_t target;

			b = at(c, p, 2, limit);
			if (!b)
				return -EBADMSG;
			target = get16(b) & DNS_PTR_OFF_MASK;
			/* Strictly backward from the current run of labels:
			 * no loops. */
			if (target < DNS_HLEN || target >= seg ||
			    ++hops > DNS_MSG_MAX_HOPS)
				return -EBADMSG;
			if (!jumped) {
				next = p + 2;
				jumped = true;
				limit = c->len;
			}
			p = seg = target;
			continue;
		}
		if (b[0] & DNS_PTR_MASK)
			return -EBADMSG;	/* 01, 10: retired label types */
		n = b[0];
		/* Room for this label and the root after it. */
		if (wlen + 1 + n + 1 > DNS_NAME_MAX)
			return -EBADMSG;
		b = at(c, p + 1, n, limit);
		if (!b)
			return -EBADMSG;
		if (out) {
			size_t i;

			out[wlen] = (uint8_t)n;
			for (i = 0; i < n; i++)
				out[wlen + 1 + i] = lower(b[i]);
		}
		wlen += 1 + n;
		p += 1 + n;
	}
	return -EBADMSG;
}

/* The rdata of the types whose layout we know must fill rdlength exactly. */
static int check_rdata(const struct pkt_cursor *c, uint16_t type,
		       uint16_t class, size_t off, size_t rdlen)
{
	size_t end = off + rdlen, p = off, nl;
	const uint8_t *b;

	switch (type) {
	case DNS_TYPE_A:
		return class != DNS_CLASS_IN || rdlen == 4 ? 0 : -EBADMSG;
	case DNS_TYPE_AAAA:
		return class != DNS_CLASS_IN || rdlen == 16 ? 0 : -EBADMSG;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (read_name(c, &p, end, NULL, &nl))
			return -EBADMSG;
		return p == end ? 0 : -EBADMSG;
	case DNS_TYPE_MX:
		if (rdlen < 2)
			return -EBADMSG;
		p += 2;
		if (read_name(c, &p, end, NULL, &nl))
			return -EBADMSG;
		return p == end ? 0 : -EBADMSG;
	case DNS_TYPE_SOA:
		if (read_name(c, &p, end, NULL, &nl))	/* MNAME */
			return -EBADMSG;
		if (read_name(c, &p, end, NULL, &nl))	/* RNAME */
			return -EBADMSG;
		return end - p == DNS_SOA_FIXED_LEN ? 0 : -EBADMSG;
	case DNS_TYPE_TXT:
		/* One or more <length><bytes> strings; each takes >= 1 byte. */
		if (rdlen == 0)
			return -EBADMSG;
		while (p < end) {
			b = at(c, p, 1, end);
			if (!b || !at(c, p + 1, b[0], end))
				return -EBADMSG;
			p += 1 + (size_t)b[0];
		}
		return 0;
	case DNS_TYPE_OPT:
		/* Options: code, length, data; each takes >= 4 bytes. */
		while (p < end) {
			b = at(c, p, 4, end);
			if (!b || !at(c, p + 4, get16(b + 2), end))
				return -EBADMSG;
			p += 4 + (size_t)get16(b + 2);
		}
		return 0;
	default:
		return 0;
	}
}

static void rr_seen(struct dns_msg *m, unsigned int section, uint16_t type,
		    uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	if (section == 0) {
		if (!m->has_an_ttl || ttl < m->an_min_ttl)
			m->an_min_ttl = ttl;
		m->has_an_ttl = true;
	} else if (section == 1 && type == DNS_TYPE_SOA && !m->has_soa) {
		m->has_soa = true;
		m->soa_ttl = ttl;
		m->soa_minimum = get32(rdata + rdlen - 4);
		if (m->soa_minimum > DNS_TTL_MAX)
			m->soa_minimum = 0;
	}
}

static void edit_ttl(const struct ttl_edit *ed, size_t ttl_off, uint32_t ttl)
{
	uint32_t v = MIN(ttl, ed->hi);

	v = MAX(v, ed->lo);
	v = v > ed->sub ? v - ed->sub : 0;
	put32(ed->buf + ttl_off, v);
}

/* Parse the whole message; with @ed, also rewrite every TTL. */
static int walk(const uint8_t *buf, size_t len, struct dns_msg *m,
		const struct ttl_edit *ed)
{
	struct pkt_cursor c;
	const uint8_t *b;
	size_t pos, nl;
	uint32_t i, total;

	memset(m, 0, sizeof(*m));
	pkt_cursor_init(&c, buf, len);
	b = pkt_cursor_pull(&c, DNS_HLEN);
	if (!b)
		return -EINVAL;
	m->id = get16(b);
	m->flags = get16(b + OFF_FLAGS);
	m->qdcount = get16(b + OFF_QD);
	m->ancount = get16(b + OFF_AN);
	m->nscount = get16(b + OFF_NS);
	m->arcount = get16(b + OFF_AR);
	m->hdr_ok = true;
	if (m->qdcount != 1 || len > DNS_MSG_MAX)
		return -EBADMSG;

	pos = DNS_HLEN;
	if (read_name(&c, &pos, len, m->q.name, &nl))
		return -EBADMSG;
	b = at(&c, pos, DNS_Q_FIXED_LEN, len);
	if (!b)
		return -EBADMSG;
	m->q.name_len = (uint8_t)nl;
	m->q.qtype = get16(b);
	m->q.qclass = get16(b + 2);
	pos += DNS_Q_FIXED_LEN;
	m->q_end = pos;
	m->q_ok = true;

	/* Bounded by the counts, and by len: a record takes >= 11 bytes. */
	total = (uint32_t)m->ancount + m->nscount + m->arcount;
	for (i = 0; i < total; i++) {
		unsigned int section =
			i < m->ancount ? 0 :
			i < (uint32_t)m->ancount + m->nscount ? 1 : 2;
		size_t rr_off = pos, ttl_off, rdlen;
		uint16_t type, class;
		uint32_t ttl;

		if (read_name(&c, &pos, len, NULL, &nl))
			return -EBADMSG;
		b = at(&c, pos, DNS_RR_FIXED_LEN, len);
		if (!b)
			return -EBADMSG;
		type = get16(b);
		class = get16(b + 2);
		ttl = get32(b + 4);
		rdlen = get16(b + 8);
		ttl_off = pos + 4;
		pos += DNS_RR_FIXED_LEN;
		if (!at(&c, pos, rdlen, len) ||
		    check_rdata(&c, type, class, pos, rdlen))
			return -EBADMSG;
		if (type == DNS_TYPE_OPT) {
			if (section != 2 || nl != 1 || m->has_opt)
				return -EBADMSG;
			m->has_opt = true;
			m->opt_size = class;
			m->opt_ext_rcode = (uint8_t)(ttl >> 24);
			m->opt_version = (uint8_t)(ttl >> 16);
			m->opt_do = ttl & DNS_OPT_DO;
			m->opt_off = rr_off;
			m->opt_len = pos + rdlen - rr_off;
		} else {
			if (ttl > DNS_TTL_MAX)
				ttl = 0;
			rr_seen(m, section, type, ttl, buf + pos, rdlen);
			if (ed)
				edit_ttl(ed, ttl_off, ttl);
		}
		pos += rdlen;
	}
	if (pos != len)
		return -EBADMSG;	/* trailing bytes */
	m->len = pos;
	return 0;
}

int dns_msg_parse(const uint8_t *buf, size_t len, struct dns_msg *m)
{
	return walk(buf, len, m, NULL);
}

int dns_msg_adjust_ttls(uint8_t *msg, size_t len, uint32_t lo, uint32_t hi,
			uint32_t sub)
{
	struct ttl_edit ed = { .buf = msg, .lo = lo, .hi = hi, .sub = sub };
	struct dns_msg m;
	int r = walk(msg, len, &m, NULL);

	if (r)
		return r;
	return walk(msg, len, &m, &ed);
}

int dns_name_from_str(const char *s, uint8_t out[DNS_NAME_MAX])
{
	size_t len = strlen(s), i, lab = 0, w = 1;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0) {
		out[0] = 0;	/* "" or ".": the root */
		return 1;
	}
	if (len + 2 > DNS_NAME_MAX)
		return -EINVAL;
	/* out[lab] is the length byte of the label being written, w the next
	 * free byte; the wire form is len + 2 bytes. */
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = w - lab - 1;

			if (n == 0 || n > DNS_LABEL_MAX)
				return -EINVAL;
			out[lab] = (uint8_t)n;
			lab = w++;
		} else {
			out[w++] = lower((uint8_t)s[i]);
		}
	}
	out[lab] = 0;
	return (int)w;
}

bool dns_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
		    size_t b_len)
{
	size_t i;

	if (a_len != b_len)
		return false;
	/* Length bytes are <= 63, below 'A': lowering them changes nothing. */
	for (i = 0; i < a_len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static void put_header(uint8_t *p, uint16_t id, uint16_t flags, uint16_t qd,
		       uint16_t an, uint16_t ar)
{
	put16(p, id);
	put16(p + OFF_FLAGS, flags);
	put16(p + OFF_QD, qd);
	put16(p + OFF_AN, an);
	put16(p + OFF_NS, 0);
	put16(p + OFF_AR, ar);
}

static size_t put_question(uint8_t *p, const uint8_t *name, size_t name_len,
			   uint16_t qtype, uint16_t qclass)
{
	memcpy(p, name, name_len);
	put16(p + name_len, qtype);
	put16(p + name_len + 2, qclass);
	return name_len + DNS_Q_FIXED_LEN;
}

static void put_opt(uint8_t *p, uint16_t udp_size, uint8_t ext_rcode)
{
	p[0] = 0;	/* root owner */
	put16(p + 1, DNS_TYPE_OPT);
	put16(p + 3, udp_size);
	put32(p + 5, (uint32_t)ext_rcode << 24);	/* version 0, DO 0 */
	put16(p + 9, 0);
}

int dns_msg_build_reply(uint8_t *out, size_t cap, const struct dns_reply *r)
{
	size_t need = DNS_HLEN, p = DNS_HLEN, rdlen = 0;
	uint16_t flags;

	if (r->rcode > 0xfff || (r->rcode > DNS_F_RCODE_MASK && !r->edns))
		return -EINVAL;
	if (r->qname) {
		if (r->qname_len < 1 || r->qname_len > DNS_NAME_MAX)
			return -EINVAL;
		need += r->qname_len + DNS_Q_FIXED_LEN;
	}
	if (r->an_type == DNS_TYPE_A) {
		rdlen = 4;
	} else if (r->an_type == DNS_TYPE_PTR) {
		if (!r->ptr || r->ptr_len < 1 || r->ptr_len > DNS_NAME_MAX)
			return -EINVAL;
		rdlen = r->ptr_len;
	} else if (r->an_type) {
		return -EINVAL;
	}
	if (r->an_type) {
		if (!r->qname)
			return -EINVAL;
		need += 2 + DNS_RR_FIXED_LEN + rdlen;
	}
	if (r->edns)
		need += DNS_OPT_LEN;
	if (need > cap)
		return -ENOSPC;

	flags = (r->flags & (DNS_F_OPCODE_MASK | DNS_F_RD | DNS_F_CD)) |
		DNS_F_QR | DNS_F_RA | (r->aa ? DNS_F_AA : 0) |
		(r->rcode & DNS_F_RCODE_MASK);
	put_header(out, r->id, flags, r->qname ? 1 : 0, r->an_type ? 1 : 0,
		   r->edns ? 1 : 0);
	if (r->qname)
		p += put_question(out + p, r->qname, r->qname_len, r->qtype,
				  r->qclass);
	if (r->an_type) {
		put16(out + p, (uint16_t)(DNS_PTR_MASK << 8 | DNS_HLEN));
		put16(out + p + 2, r->an_type);
		put16(out + p + 4, DNS_CLASS_IN);
		put32(out + p + 6, r->an_ttl);
		put16(out + p + 10, (uint16_t)rdlen);
		p += 2 + DNS_RR_FIXED_LEN;
		if (r->an_type == DNS_TYPE_A)
			memcpy(out + p, &r->a_addr, 4);	/* network order */
		else
			memcpy(out + p, r->ptr, rdlen);
		p += rdlen;
	}
	if (r->edns) {
		put_opt(out + p, r->edns_size, (uint8_t)(r->rcode >> 4));
		p += DNS_OPT_LEN;
	}
	return (int)p;
}

int dns_msg_build_query(uint8_t *out, size_t cap, uint16_t id, uint16_t flags,
			const uint8_t *name, size_t name_len, uint16_t qtype,
			uint16_t qclass, uint16_t edns_size)
{
	size_t need = DNS_HLEN + name_len + DNS_Q_FIXED_LEN, p = DNS_HLEN;

	if (name_len < 1 || name_len > DNS_NAME_MAX)
		return -EINVAL;
	if (edns_size)
		need += DNS_OPT_LEN;
	if (need > cap)
		return -ENOSPC;
	put_header(out, id, flags, 1, 0, edns_size ? 1 : 0);
	p += put_question(out + p, name, name_len, qtype, qclass);
	if (edns_size) {
		put_opt(out + p, edns_size, 0);
		p += DNS_OPT_LEN;
	}
	return (int)p;
}

void dns_msg_set_id(uint8_t *msg, uint16_t id)
{
	put16(msg, id);
}

void dns_msg_set_flags(uint8_t *msg, uint16_t flags)
{
	put16(msg + OFF_FLAGS, flags);
}

uint16_t dns_msg_get_flags(const uint8_t *msg)
{
	return get16(msg + OFF_FLAGS);
}

size_t dns_msg_truncate(uint8_t *msg, size_t q_end)
{
	put16(msg + OFF_FLAGS, get16(msg + OFF_FLAGS) | DNS_F_TC);
	put16(msg + OFF_AN, 0);
	put16(msg + OFF_NS, 0);
	put16(msg + OFF_AR, 0);
	return q_end;
}

size_t dns_msg_strip_opt(uint8_t *msg, const struct dns_msg *m)
{
	size_t tail;

	if (!m->has_opt)
		return m->len;
	tail = m->len - m->opt_off - m->opt_len;
	memmove(msg + m->opt_off, msg + m->opt_off + m->opt_len, tail);
	put16(msg + OFF_AR, (uint16_t)(get16(msg + OFF_AR) - 1));
	return m->len - m->opt_len;
}

int dns_msg_append_opt(uint8_t *msg, size_t len, size_t cap, uint16_t udp_size,
		       uint8_t ext_rcode)
{
	uint16_t ar = get16(msg + OFF_AR);

	if (len > cap || cap - len < DNS_OPT_LEN || ar == UINT16_MAX ||
	    len + DNS_OPT_LEN > DNS_MSG_MAX)
		return -ENOSPC;
	put_opt(msg + len, udp_size, ext_rcode);
	put16(msg + OFF_AR, (uint16_t)(ar + 1));
	return (int)(len + DNS_OPT_LEN);
}

int dns_msg_rr_next(const uint8_t *msg, size_t len, size_t *pos,
		    struct dns_rr *rr)
{
	struct pkt_cursor c;
	const uint8_t *b;
	size_t p = *pos, t, nl = 0;

	if (len > DNS_MSG_MAX)
		return -EBADMSG;
	pkt_cursor_init(&c, msg, len);
	if (read_name(&c, &p, len, rr->name, &nl))
		return -EBADMSG;
	rr->name_len = nl;
	b = at(&c, p, DNS_RR_FIXED_LEN, len);
	if (!b)
		return -EBADMSG;
	rr->type = get16(b);
	rr->rclass = get16(b + 2);
	rr->ttl = get32(b + 4);
	if (rr->ttl > DNS_TTL_MAX)
		rr->ttl = 0;
	rr->rdlen = get16(b + 8);
	rr->rdata = p + DNS_RR_FIXED_LEN;
	rr->target_len = 0;
	if (!at(&c, rr->rdata, rr->rdlen, len))
		return -EBADMSG;
	t = rr->rdata;
	switch (rr->type) {
	case DNS_TYPE_MX:
		if (rr->rdlen < 2)
			return -EBADMSG;
		t += 2;
		/* fall through */
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (read_name(&c, &t, rr->rdata + rr->rdlen, rr->target, &nl))
			return -EBADMSG;
		rr->target_len = nl;
		break;
	default:
		break;
	}
	*pos = rr->rdata + rr->rdlen;
	return 0;
}
