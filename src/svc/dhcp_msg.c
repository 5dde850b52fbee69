// SPDX-License-Identifier: MIT
/*
 * dhcp_msg.c - DHCP message parsing and reply frames. Theory of operation
 * in dhcp_msg.h.
 */
#include "svc/dhcp_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/compiler.h"
#include "pkt/build.h"
#include "pkt/cursor.h"
#include "prot/ip4.h"
#include "prot/udp.h"

#define IP_UDP_HLEN	(IP4_HLEN_MIN + UDP_HLEN)
/* Largest BOOTP message we write: a 1500-byte IP datagram. */
#define REPLY_MAX	(1500 - IP_UDP_HLEN)

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t magic[DHCP_MAGIC_LEN] = { DHCP_MAGIC_0, DHCP_MAGIC_1,
					       DHCP_MAGIC_2, DHCP_MAGIC_3 };

static bool mac_unicast(const uint8_t *mac)
{
	return !(mac[0] & 1) &&
	       (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

/* ---- parsing ---- */

static bool opt_bad(enum dhcp_drop *why, enum dhcp_drop r)
{
	*why = r;
	return false;
}

/*
 * Walk one option field. The first instance of an option wins (RFC 3396
 * concatenation is not needed by anything read here). A field may end
 * without END; an option running past the field is malformed. Option 52 is
 * taken only from the 'options' field, so overloading cannot loop.
 */
static bool walk(struct dhcp_req *r, const uint8_t *p, size_t len, bool top,
		 enum dhcp_drop *why)
{
	struct pkt_cursor c;
	size_t n;

	pkt_cursor_init(&c, p, len);
	for (n = 0; n < len; n++) {	/* each round consumes a byte or more */
		const uint8_t *v;
		uint8_t code, olen;

		if (!pkt_cursor_u8(&c, &code) || code == DHCP_OPT_END)
			return true;
		if (code == DHCP_OPT_PAD)
			continue;
		if (!pkt_cursor_u8(&c, &olen))
			return opt_bad(why, DHCP_DROP_BAD_OPTION);
		v = pkt_cursor_pull(&c, olen);
		if (!v)
			return opt_bad(why, DHCP_DROP_BAD_OPTION);
		switch (code) {
		case DHCP_OPT_MSG_TYPE:
			if (olen != 1)
				return opt_bad(why, DHCP_DROP_BAD_OPTION);
			if (!r->type)
				r->type = v[0] ? v[0] : UINT8_MAX;
			break;
		case DHCP_OPT_REQUESTED_IP:
		case DHCP_OPT_SERVER_ID:
			if (olen != 4)
				return opt_bad(why, DHCP_DROP_BAD_OPTION);
			if (code == DHCP_OPT_REQUESTED_IP && !r->has_req_ip) {
				memcpy(&r->req_ip, v, 4);
				r->has_req_ip = true;
			} else if (code == DHCP_OPT_SERVER_ID && !r->has_server_id) {
				memcpy(&r->server_id, v, 4);
				r->has_server_id = true;
			}
			break;
		case DHCP_OPT_CLIENT_ID:	/* RFC 2132 9.14: at least 2 */
			if (olen < 2)
				return opt_bad(why, DHCP_DROP_BAD_OPTION);
			if (!r->client_id) {
				r->client_id = v;
				r->client_id_len = olen;
			}
			break;
		case DHCP_OPT_HOST_NAME:
			if (olen < 1)
				return opt_bad(why, DHCP_DROP_BAD_OPTION);
			if (!r->host_name) {
				r->host_name = v;
				r->host_name_len = olen;
			}
			break;
		case DHCP_OPT_MAX_MSG_SIZE:
			if (olen != 2)
				return opt_bad(why, DHCP_DROP_BAD_OPTION);
			if (!r->max_size)
				r->max_size = (uint16_t)(v[0] << 8 | v[1]);
			break;
		case DHCP_OPT_OVERLOAD:
			if (!top || olen != 1 || v[0] < DHCP_OVERLOAD_FILE ||
			    v[0] > DHCP_OVERLOAD_BOTH)
				return opt_bad(why, DHCP_DROP_BAD_OVERLOAD);
			if (!r->overload)
				r->overload = v[0];
			break;
		default:
			break;
		}
	}
	return true;
}

bool dhcp_msg_parse(const uint8_t *frame, const struct pkt_meta *m,
		    struct dhcp_req *r, enum dhcp_drop *why)
{
	struct pkt_cursor c;
	const uint8_t *cookie, *opts, *src;
	size_t rest;

	memset(r, 0, sizeof(*r));
	if (m->l3 != PKT_L3_IPV4 || !(m->flags & PKT_F_L4) ||
	    (m->flags & PKT_F_FRAG) || m->l4_proto != IPPROTO_NUM_UDP ||
	    m->dport != htons(DHCP_SERVER_PORT) || m->payload_off < m->l4_off ||
	    (uint32_t)(m->payload_off - m->l4_off) > m->l4_len)
		return opt_bad(why, DHCP_DROP_BAD_FRAME);
	pkt_cursor_init(&c, frame, m->len);
	src = pkt_cursor_at(&c, m->l3_off + offsetof(struct ip4_hdr, saddr), 4);
	if (!src || !pkt_cursor_skip(&c, m->payload_off) ||
	    !pkt_cursor_limit(&c, pkt_payload_len(m)))
		return opt_bad(why, DHCP_DROP_BAD_FRAME);
	memcpy(&r->ip_src, src, 4);
	if (!pkt_cursor_copy(&c, &r->h, sizeof(r->h)))
		return opt_bad(why, DHCP_DROP_SHORT);
	cookie = pkt_cursor_pull(&c, DHCP_MAGIC_LEN);
	if (!cookie)
		return opt_bad(why, DHCP_DROP_SHORT);
	if (r->h.op != BOOTP_REQUEST)
		return opt_bad(why, DHCP_DROP_NOT_REQUEST);
	if (r->h.htype != BOOTP_HTYPE_ETHER || r->h.hlen != ETH_ALEN ||
	    !mac_unicast(r->h.chaddr))
		return opt_bad(why, DHCP_DROP_BAD_HW);
	if (memcmp(cookie, magic, DHCP_MAGIC_LEN) != 0)
		return opt_bad(why, DHCP_DROP_BAD_COOKIE);
	rest = pkt_cursor_remaining(&c);
	opts = pkt_cursor_peek(&c, rest);
	/* RFC 2131 4.1: 'options' first, then 'file', then 'sname'. */
	if (!opts || !walk(r, opts, rest, true, why))
		return false;
	if ((r->overload & DHCP_OVERLOAD_FILE) &&
	    !walk(r, r->h.file, sizeof(r->h.file), false, why))
		return false;
	if ((r->overload & DHCP_OVERLOAD_SNAME) &&
	    !walk(r, r->h.sname, sizeof(r->h.sname), false, why))
		return false;
	if (!r->type)
		return opt_bad(why, DHCP_DROP_NO_MSG_TYPE);
	switch (r->type) {
	case DHCP_DISCOVER:
	case DHCP_REQUEST:
	case DHCP_DECLINE:
	case DHCP_RELEASE:
	case DHCP_INFORM:
		break;
	default:
		return opt_bad(why, DHCP_DROP_BAD_MSG_TYPE);
	}
	return true;
}

/* ---- replies ---- */

/* Append one option if it fits before @lim with room left for END. */
static bool put(uint8_t *b, size_t *off, size_t lim, uint8_t code,
		const void *v, size_t len)
{
	if (len > UINT8_MAX || *off + 2 + len + 1 > lim)
		return false;
	b[*off] = code;
	b[*off + 1] = (uint8_t)len;
	memcpy(b + *off + 2, v, len);
	*off += 2 + len;
	return true;
}

static bool put32(uint8_t *b, size_t *off, size_t lim, uint8_t code,
		  uint32_t host_val)
{
	uint32_t v = htonl(host_val);

	return put(b, off, lim, code, &v, 4);
}

/* The BOOTP message of @rep into @b (at most @lim bytes). Return: length. */
static size_t build_msg(const struct dhcp_env *d, const struct dhcp_req *r,
			const struct dhcp_reply *rep, uint8_t *b, size_t lim)
{
	struct bootp_hdr h;
	size_t off = DHCP_OPTS_OFF;

	memset(&h, 0, sizeof(h));
	h.op = BOOTP_REPLY;
	h.htype = BOOTP_HTYPE_ETHER;
	h.hlen = ETH_ALEN;
	h.xid = r->h.xid;
	h.flags = r->h.flags;
	h.ciaddr = rep->ciaddr;
	h.yiaddr = rep->yiaddr;
	h.giaddr = r->h.giaddr;
	memcpy(h.chaddr, r->h.chaddr, sizeof(h.chaddr));
	memset(b, 0, lim);
	memcpy(b, &h, sizeof(h));
	memcpy(b + BOOTP_HDR_LEN, magic, DHCP_MAGIC_LEN);

	/* Most important first: what does not fit is left out. */
	put(b, &off, lim, DHCP_OPT_MSG_TYPE, &rep->type, 1);
	put(b, &off, lim, DHCP_OPT_SERVER_ID, &d->server, 4);
	if (rep->type != DHCP_NAK) {
		if (rep->lease) {
			put32(b, &off, lim, DHCP_OPT_LEASE_TIME, d->lease_sec);
			put32(b, &off, lim, DHCP_OPT_T1, d->lease_sec / 2);
			put32(b, &off, lim, DHCP_OPT_T2,
			      (uint32_t)((uint64_t)d->lease_sec * 7 / 8));
		}
		put(b, &off, lim, DHCP_OPT_SUBNET_MASK, &d->mask, 4);
		put(b, &off, lim, DHCP_OPT_ROUTER, &d->server, 4);
		put(b, &off, lim, DHCP_OPT_DNS, d->dns, 4 * (size_t)d->n_dns);
		if (d->mtu) {
			uint16_t mtu = htons(d->mtu);

			put(b, &off, lim, DHCP_OPT_MTU, &mtu, 2);
		}
	}
	/* RFC 6842: the client identifier comes back, NAK included. */
	if (r->client_id)
		put(b, &off, lim, DHCP_OPT_CLIENT_ID, r->client_id,
		    r->client_id_len);
	if (rep->type != DHCP_NAK) {
		if (rep->name)
			put(b, &off, lim, DHCP_OPT_HOST_NAME, rep->name,
			    strlen(rep->name));
		put(b, &off, lim, DHCP_OPT_DOMAIN_NAME, d->domain, d->domain_len);
		put(b, &off, lim, DHCP_OPT_DOMAIN_SEARCH, d->search,
		    d->search_len);
	}
	b[off++] = DHCP_OPT_END;
	return MAX(off, (size_t)BOOTP_MIN_LEN);
}

int dhcp_msg_reply(const struct dhcp_env *env, const struct pkt_meta *m,
		   const struct dhcp_req *r, const struct dhcp_reply *rep,
		   uint8_t *out, size_t cap)
{
	uint8_t msg[REPLY_MAX];
	size_t l2 = ETH_HLEN + ((m->flags & PKT_F_VLAN) ? ETH_VLAN_HLEN : 0);
	size_t lim = MAX((size_t)r->max_size, (size_t)DHCP_MIN_MAX_MSG) -
		     IP_UDP_HLEN;
	struct pkt_spec s;
	uint32_t to = rep->unicast ? rep->unicast : r->h.ciaddr;
	bool bcast;
	int n;

	if (cap < l2 + IP_UDP_HLEN + BOOTP_MIN_LEN)
		return -ENOSPC;
	lim = MIN(lim, MIN(sizeof(msg), cap - l2 - IP_UDP_HLEN));
	if (rep->type == DHCP_NAK)
		bcast = true;
	else if (to)
		bcast = false;
	else
		bcast = ntohs(r->h.flags) & BOOTP_FLAG_BROADCAST;
	if (!bcast && !to)
		to = rep->yiaddr;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_dst, bcast ? eth_bcast : r->h.chaddr, ETH_ALEN);
	memcpy(s.eth_src, env->server_mac, ETH_ALEN);
	s.vlan = m->flags & PKT_F_VLAN;
	s.vlan_tci = m->vlan_tci;
	s.src4 = env->server;
	s.dst4 = bcast ? htonl(INADDR_BROADCAST) : to;
	s.proto = IPPROTO_NUM_UDP;
	s.sport = DHCP_SERVER_PORT;
	s.dport = DHCP_CLIENT_PORT;
	s.payload = msg;
	s.payload_len = build_msg(env, r, rep, msg, lim);
	n = pkt_build(&s, out, cap);
	return n < 0 ? -ENOSPC : n;	/* cannot fail: sizes were checked */
}

/* ---- options 15 and 119 ---- */

int dhcp_env_set_domain(struct dhcp_env *d, const char *dom)
{
	size_t len = strlen(dom), start = 0, w = 0, i;

	if (len && dom[len - 1] == '.')
		len--;
	if (!len || len > DHCP_DOMAIN_MAX)
		return -EINVAL;
	for (i = 0; i <= len; i++) {
		if (i < len && dom[i] != '.')
			continue;
		if (!dhcp_name_valid(dom + start, i - start))
			return -EINVAL;
		d->search[w++] = (uint8_t)(i - start);
		memcpy(d->search + w, dom + start, i - start);
		w += i - start;
		start = i + 1;
	}
	d->search[w++] = 0;	/* the root: len + 2 <= sizeof(d->search) */
	memcpy(d->domain, dom, len);
	d->domain[len] = '\0';
	d->domain_len = len;
	d->search_len = w;
	return 0;
}
