/* SPDX-License-Identifier: MIT */
/*
 * dhcp_client.h - the client side of the DHCP unit tests (test_dhcp.c,
 * test_dhcp_msg.c, test_dhcp_lease.c): a message builder, a fixture that
 * owns a server and a manual clock, and a reply parser.
 *
 * Deliberately independent of src/svc/dhcp_msg.c: client messages are laid
 * out byte by byte here (malformed ones by changing bytes afterwards),
 * wrapped by pkt_build() in UDP/IPv4/Ethernet and parsed by pkt_parse() as
 * the datapath would. Every reply is parsed back field by field with
 * cmocka assertions: Ethernet source, IPv4 and UDP ports, the BOOTP header,
 * and an option table that checks the encoding on the way (each option at
 * most once, no PAD, END present, zero padding after it, at least
 * BOOTP_MIN_LEN bytes of BOOTP). Include <cmocka.h> first.
 */
#ifndef ARCNAT_TESTS_DHCP_CLIENT_H
#define ARCNAT_TESTS_DHCP_CLIENT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/dhcp.h"
#include "prot/eth.h"
#include "prot/ip4.h"
#include "svc/dhcp.h"

#define SEC(s)	((uint64_t)(s) * NSEC_PER_SEC)
#define T0	SEC(1000)
#define WALL0	1700000000
#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define GW	IP(10, 0, 2, 1)
#define G(n)	IP(10, 0, 2, n)
#define BCAST	IP(255, 255, 255, 255)

static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- the client side ---- */

struct client {
	uint8_t mac[ETH_ALEN];
	uint8_t cid[8];		/* client identifier: type 1 + MAC, if used */
	bool use_cid;
	const char *name;	/* option 12, or NULL */
	uint32_t xid;
};

static inline void client_init(struct client *c, uint8_t n, bool use_cid)
{
	static const uint8_t base[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0 };

	memset(c, 0, sizeof(*c));
	memcpy(c->mac, base, ETH_ALEN);
	c->mac[5] = n;
	c->use_cid = use_cid;
	c->cid[0] = 1;
	memcpy(c->cid + 1, c->mac, ETH_ALEN);
	c->xid = 0x1000u + n;
}

/* A client message under construction: @h overlays the first bytes. */
struct cm {
	union {
		uint8_t b[1400];
		struct bootp_hdr h;
	};
	size_t len;
};

static inline struct bootp_hdr *cm_hdr(struct cm *c)
{
	return &c->h;
}

static inline void cm_opt(struct cm *c, uint8_t code, const void *v, size_t len)
{
	assert_true(c->len + 2 + len <= sizeof(c->b));
	c->b[c->len++] = code;
	c->b[c->len++] = (uint8_t)len;
	memcpy(c->b + c->len, v, len);
	c->len += len;
}

static inline void cm_ip(struct cm *c, uint8_t code, uint32_t ip)
{
	cm_opt(c, code, &ip, 4);
}

/* Header, cookie and option 53 (type 0: none). */
static inline void cm_raw(struct cm *c, uint8_t type, const uint8_t mac[ETH_ALEN],
		   uint32_t xid)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	struct bootp_hdr h;

	memset(c, 0, sizeof(*c));
	memset(&h, 0, sizeof(h));
	h.op = BOOTP_REQUEST;
	h.htype = BOOTP_HTYPE_ETHER;
	h.hlen = ETH_ALEN;
	h.xid = htonl(xid);
	memcpy(h.chaddr, mac, ETH_ALEN);
	memcpy(c->b, &h, sizeof(h));
	memcpy(c->b + BOOTP_HDR_LEN, cookie, 4);
	c->len = DHCP_OPTS_OFF;
	if (type)
		cm_opt(c, DHCP_OPT_MSG_TYPE, &type, 1);
}

/* A message from @cl: type, client id, host name, a parameter list. */
static inline void cm_client(struct cm *c, const struct client *cl, uint8_t type)
{
	static const uint8_t prl[] = { 1, 3, 6, 12, 15, 26, 28, 119 };

	cm_raw(c, type, cl->mac, cl->xid);
	if (cl->use_cid)
		cm_opt(c, DHCP_OPT_CLIENT_ID, cl->cid, sizeof(cl->cid) - 1);
	if (cl->name)
		cm_opt(c, DHCP_OPT_HOST_NAME, cl->name, strlen(cl->name));
	cm_opt(c, DHCP_OPT_PARAM_LIST, prl, sizeof(prl));
}

/* END, then pad to the BOOTP minimum as clients do. */
static inline void cm_end(struct cm *c)
{
	c->b[c->len++] = DHCP_OPT_END;
	if (c->len < BOOTP_MIN_LEN)
		c->len = BOOTP_MIN_LEN;
}

/* ---- the server under test, and its last reply ---- */

struct rp {
	struct eth_hdr eth;
	bool vlan;
	uint16_t vlan_tci;
	uint32_t ip_src, ip_dst;
	uint16_t sport, dport;
	size_t len;		/* BOOTP bytes */
	struct bootp_hdr h;
	const uint8_t *opt[256];
	uint8_t olen[256];
	uint8_t type;
};

struct td {
	struct dhcp *d;
	struct dhcp_cfg cfg;
	struct dhcp_host hosts[4];
	uint64_t now;
	int64_t wall;
	uint8_t out[2048];
	int n;
	struct rp r;
};

static inline void quiet_sink(void *ctx, enum log_level level, const char *msg)
{
	unsigned int *n = ctx;

	(void)level;
	(void)msg;
	if (n)
		(*n)++;
}

static inline void td_cfg_default(struct td *t)
{
	memset(t, 0, sizeof(*t));
	t->cfg.server = GW;
	t->cfg.plen = 24;
	memcpy(t->cfg.server_mac, gw_mac, ETH_ALEN);
	t->cfg.mtu = 1500;
	t->now = T0;
	t->wall = WALL0;
	log_set_sink(quiet_sink, NULL);
}

static inline void td_start(struct td *t)
{
	assert_int_equal(dhcp_create(&t->d, &t->cfg, t->now, t->wall), 0);
	assert_non_null(t->d);
}

static inline void td_init(struct td *t)
{
	td_cfg_default(t);
	td_start(t);
}

/*
 * End a test. Without a lease file (which the tick would rewrite), first
 * check that the table drains: two days on, after enough ticks to age
 * every slot (DHCP_POOL_MAX + DHCP_HOSTS_MAX at DHCP_GC_SLICE per tick),
 * no lease, offer or quarantine is left.
 */
static inline void td_fini(struct td *t)
{
	const struct dhcp_stats *s = dhcp_get_stats(t->d);

	if (!t->cfg.lease_file) {
		unsigned int i;

		t->now += 2 * 86400 * NSEC_PER_SEC;
		for (i = 0; i < 300; i++)
			dhcp_tick(t->d, t->now);
		assert_int_equal(s->leases_active, 0);
		assert_int_equal(s->offers_pending, 0);
		assert_int_equal(s->quarantined, 0);
	}
	dhcp_destroy(t->d);
	t->d = NULL;
	log_set_sink(NULL, NULL);
}

static inline const struct dhcp_stats *st(const struct td *t)
{
	return dhcp_get_stats(t->d);
}

static inline void advance(struct td *t, uint64_t sec)
{
	t->now += SEC(sec);
	t->wall += (int64_t)sec;
}

/* Parse t->out as a reply, checking everything the wire format demands. */
static inline void rp_parse(struct td *t)
{
	struct rp *r = &t->r;
	struct pkt_meta m;
	const uint8_t *p;
	size_t off, plen;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pkt_parse(t->out, (size_t)t->n, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.l3, PKT_L3_IPV4);
	assert_int_equal(m.l4_proto, IPPROTO_NUM_UDP);
	assert_true(m.flags & PKT_F_L4);
	memcpy(&r->eth, t->out, sizeof(r->eth));
	r->vlan = m.flags & PKT_F_VLAN;
	r->vlan_tci = m.vlan_tci;
	assert_memory_equal(r->eth.src, gw_mac, ETH_ALEN);
	r->ip_src = pkt_ip4_saddr(t->out, &m);
	r->ip_dst = pkt_ip4_daddr(t->out, &m);
	r->sport = ntohs(m.sport);
	r->dport = ntohs(m.dport);
	assert_int_equal(r->ip_src, GW);
	assert_int_equal(r->sport, DHCP_SERVER_PORT);
	assert_int_equal(r->dport, DHCP_CLIENT_PORT);
	plen = pkt_payload_len(&m);
	assert_true(plen >= BOOTP_MIN_LEN);
	assert_int_equal(m.payload_off + plen, (size_t)t->n);
	r->len = plen;
	p = t->out + m.payload_off;
	memcpy(&r->h, p, sizeof(r->h));
	assert_int_equal(r->h.op, BOOTP_REPLY);
	assert_int_equal(r->h.htype, BOOTP_HTYPE_ETHER);
	assert_int_equal(r->h.hlen, ETH_ALEN);
	assert_int_equal(r->h.siaddr, 0);
	assert_int_equal(r->h.giaddr, 0);
	assert_int_equal(p[236], 99);
	assert_int_equal(p[237], 130);
	assert_int_equal(p[238], 83);
	assert_int_equal(p[239], 99);
	for (off = DHCP_OPTS_OFF;;) {
		uint8_t code, len;

		assert_true(off < plen);
		code = p[off++];
		if (code == DHCP_OPT_END)
			break;
		assert_int_not_equal(code, DHCP_OPT_PAD);	/* we never pad */
		assert_true(off < plen);
		len = p[off++];
		assert_true(off + len <= plen);
		assert_null(r->opt[code]);			/* each once */
		r->opt[code] = p + off;
		r->olen[code] = len;
		off += len;
	}
	for (; off < plen; off++)
		assert_int_equal(p[off], 0);
	assert_non_null(r->opt[DHCP_OPT_MSG_TYPE]);
	assert_int_equal(r->olen[DHCP_OPT_MSG_TYPE], 1);
	r->type = r->opt[DHCP_OPT_MSG_TYPE][0];
}

/* Send @c from @src to @dst; parse the reply if there is one. */
static inline int tx_full(struct td *t, struct cm *c, uint32_t src, uint32_t dst,
		   bool vlan, size_t cap)
{
	const struct bootp_hdr *h = cm_hdr(c);
	uint8_t f[1600];
	struct pkt_spec s = { 0 };
	struct pkt_meta m;
	int n;

	memcpy(s.eth_dst, dst == BCAST ? bcast_mac : gw_mac, ETH_ALEN);
	memcpy(s.eth_src, h->chaddr, ETH_ALEN);
	s.vlan = vlan;
	s.vlan_tci = 42;
	s.src4 = src;
	s.dst4 = dst;
	s.proto = IPPROTO_NUM_UDP;
	s.sport = DHCP_CLIENT_PORT;
	s.dport = DHCP_SERVER_PORT;
	s.payload = c->b;
	s.payload_len = c->len;
	n = pkt_build(&s, f, sizeof(f));
	assert_true(n > 0);
	assert_int_equal(pkt_parse(f, (size_t)n, 0, &m), PKT_DROP_OK);
	memset(t->out, 0xee, sizeof(t->out));
	t->n = dhcp_input(t->d, f, &m, t->now, t->out, cap);
	if (t->n > 0)
		rp_parse(t);
	return t->n;
}

static inline int tx(struct td *t, struct cm *c, uint32_t src, uint32_t dst)
{
	return tx_full(t, c, src, dst, false, sizeof(t->out));
}

static inline uint32_t opt32(const struct rp *r, uint8_t code)
{
	uint32_t v;

	assert_non_null(r->opt[code]);
	assert_int_equal(r->olen[code], 4);
	memcpy(&v, r->opt[code], 4);
	return v;
}

static inline bool opt_is(const struct rp *r, uint8_t code, const void *v, size_t len)
{
	return r->opt[code] && r->olen[code] == len &&
	       !memcmp(r->opt[code], v, len);
}

static inline int discover(struct td *t, const struct client *cl)
{
	struct cm c;

	cm_client(&c, cl, DHCP_DISCOVER);
	cm_end(&c);
	return tx(t, &c, 0, BCAST);
}

static inline int request_sel(struct td *t, const struct client *cl, uint32_t ip,
		       uint32_t server)
{
	struct cm c;

	cm_client(&c, cl, DHCP_REQUEST);
	cm_ip(&c, DHCP_OPT_REQUESTED_IP, ip);
	cm_ip(&c, DHCP_OPT_SERVER_ID, server);
	cm_end(&c);
	return tx(t, &c, 0, BCAST);
}

static inline int request_reboot(struct td *t, const struct client *cl, uint32_t ip)
{
	struct cm c;

	cm_client(&c, cl, DHCP_REQUEST);
	cm_ip(&c, DHCP_OPT_REQUESTED_IP, ip);
	cm_end(&c);
	return tx(t, &c, 0, BCAST);
}

static inline int request_renew(struct td *t, const struct client *cl, uint32_t ip)
{
	struct cm c;

	cm_client(&c, cl, DHCP_REQUEST);
	cm_hdr(&c)->ciaddr = ip;
	cm_end(&c);
	return tx(t, &c, ip, GW);
}

static inline int release(struct td *t, const struct client *cl, uint32_t ip)
{
	struct cm c;

	cm_client(&c, cl, DHCP_RELEASE);
	cm_hdr(&c)->ciaddr = ip;
	cm_ip(&c, DHCP_OPT_SERVER_ID, GW);
	cm_end(&c);
	return tx(t, &c, ip, GW);
}

static inline int decline(struct td *t, const struct client *cl, uint32_t ip)
{
	struct cm c;

	cm_client(&c, cl, DHCP_DECLINE);
	cm_ip(&c, DHCP_OPT_REQUESTED_IP, ip);
	cm_ip(&c, DHCP_OPT_SERVER_ID, GW);
	cm_end(&c);
	return tx(t, &c, 0, BCAST);
}

/* DISCOVER, OFFER, REQUEST, ACK: the address bound. */
static inline uint32_t lease(struct td *t, const struct client *cl)
{
	uint32_t ip;

	assert_true(discover(t, cl) > 0);
	assert_int_equal(t->r.type, DHCP_OFFER);
	ip = t->r.h.yiaddr;
	assert_true(request_sel(t, cl, ip, GW) > 0);
	assert_int_equal(t->r.type, DHCP_ACK);
	assert_int_equal(t->r.h.yiaddr, ip);
	return ip;
}

/* Options 54, 51, 58, 59, 1, 3, 6, 15, 119, 26 as configured by default. */
static inline void check_config_opts(const struct rp *r, bool lease_opts)
{
	static const uint8_t search[] = "\x06" "arcnat" "\x08" "internal";
	const uint16_t mtu = htons(1500);

	assert_int_equal(opt32(r, DHCP_OPT_SERVER_ID), GW);
	if (lease_opts) {
		assert_int_equal(ntohl(opt32(r, DHCP_OPT_LEASE_TIME)), 3600);
		assert_int_equal(ntohl(opt32(r, DHCP_OPT_T1)), 1800);
		assert_int_equal(ntohl(opt32(r, DHCP_OPT_T2)), 3150);
	} else {
		assert_null(r->opt[DHCP_OPT_LEASE_TIME]);
		assert_null(r->opt[DHCP_OPT_T1]);
		assert_null(r->opt[DHCP_OPT_T2]);
	}
	assert_int_equal(opt32(r, DHCP_OPT_SUBNET_MASK), IP(255, 255, 255, 0));
	assert_int_equal(opt32(r, DHCP_OPT_ROUTER), GW);
	assert_int_equal(opt32(r, DHCP_OPT_DNS), GW);
	assert_true(opt_is(r, DHCP_OPT_DOMAIN_NAME, "arcnat.internal", 15));
	/* RFC 3397: the name in DNS wire format, with the root label. */
	assert_true(opt_is(r, DHCP_OPT_DOMAIN_SEARCH, search, sizeof(search)));
	assert_true(opt_is(r, DHCP_OPT_MTU, &mtu, 2));
}

#endif /* ARCNAT_TESTS_DHCP_CLIENT_H */
