// SPDX-License-Identifier: MIT
/*
 * fuzz_dhcp.c - libFuzzer harness for the DHCP server (src/svc/dhcp): one
 * server per input (10.0.2.1/24, MAC 02:ab:cd:00:00:01), a stream of
 * client messages built from the input as UDP payloads, ticks and name
 * lookups on a manual clock, and the server's promises checked after every
 * step.
 *
 * Input:
 *   header, 2 bytes:
 *     h0  bits 0-1 pool: .2 only, .2-.3, .2-.5, or the default .2-.254;
 *         bit 2 static hosts (macs[6] -> .3 "db", macs[7] -> .200);
 *         bit 3 lease time 60 s (else the default); bit 4 quarantine 30 s;
 *         bit 5 no MTU option; bit 6 a segment: cfg->addr_user answers
 *         from a model of which host uses which of addrs[], and
 *         cfg->addr_probe is counted
 *     h1  start time, in seconds
 *   records, at most MAX_RECORDS: ctl, then a body by kind.
 *     ctl  bits 0-1 kind; bits 2-4 time step before it (steps[]);
 *          bits 5-7 by kind
 *     kind 0  raw payload: 2 length bytes (little-endian, at most
 *             MAX_PAYLOAD), then the bytes; ctl bits 5-6 IP source
 *             (srcs[]), bit 7 an 802.1Q tag
 *     kind 1  template: 4 bytes t0..t3, a well-formed message from pools:
 *             t0 bits 0-3 message type (% 9, 0 = no option 53); bit 4
 *                broadcast flag; bit 5 client id; bit 6 host name; bit 7
 *                option 57 = 576
 *             t1 bits 0-2 client (macs[]); bits 3-5 requested address
 *                (addrs[], 0 = none); bits 6-7 server id (none, ours,
 *                another, ours)
 *             t2 bits 0-2 ciaddr (addrs[], 0 = none); bits 3-5 host name
 *                (names[]); bit 6 option 53 carried in 'file' (overload);
 *                bit 7 a small output buffer (342 + ctl bits 5-7 * 8)
 *             t3 xid; bit 0 also an 802.1Q tag
 *     kind 2  ticks: 1 + ctl bits 5-7, 100 ms apart
 *     kind 3  lookups: 1 byte, dhcp_name_of(addrs[b & 7]) and
 *             dhcp_addr_of(names[b >> 3 & 7]); with ctl bit 5 a segment
 *             event instead: addrs[b & 7] used by macs[b >> 3 & 7] (bit 6:
 *             the model learns it and dhcp_addr_seen() hears of it) or by
 *             nobody (bit 6 clear)
 *
 * Checks: every reply parses with pkt_parse() as IPv4/UDP from 10.0.2.1:67
 * and our MAC to port 68, fits the buffer, carries at least BOOTP_MIN_LEN
 * bytes of BOOTP with the cookie, well-formed options ending in END, a
 * type of OFFER, ACK or NAK, the request's xid and chaddr, and a yiaddr in
 * the pool or a static host's (0 for NAK) and not one the segment model
 * says another MAC uses (OFFER, ACK); probes only of addresses the server
 * may give; dhcp_input() returns a length,
 * 0, -EINVAL or -ENOSPC, and each call is accounted for exactly once in the
 * counters; names and addresses agree both ways; occupancy never exceeds
 * the table. FUZZ_DHCP_TRACE=1 prints the counters at the end of each
 * input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/dhcp.h"
#include "prot/ip4.h"
#include "svc/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 256
#define MAX_PAYLOAD 1400

#define FAIL(...) \
	(fprintf(stderr, "fuzz_dhcp: " __VA_ARGS__), fputc('\n', stderr), abort())
#define CHECK(c) ((c) ? (void)0 : FAIL("line %d: %s", __LINE__, #c))

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const uint64_t steps[8] = {
	0, NSEC_PER_MSEC, 100 * NSEC_PER_MSEC, NSEC_PER_SEC,
	30 * NSEC_PER_SEC, 61 * NSEC_PER_SEC, 601 * NSEC_PER_SEC,
	3601 * NSEC_PER_SEC,
};

static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t macs[8][ETH_ALEN] = {
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x03 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x04 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x05 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x06 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x07 },	/* static .3 "db" */
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x08 },	/* static .200 */
};
static const char *const names[8] = {
	"web", "db", "Web", "web.arcnat.internal", "bad_name", "x.example.org",
	"a-very-long-name-that-is-fine-0123456789012345678901234567890123",
	"db.arcnat.internal.",
};
static uint32_t addrs[8];
static uint32_t srcs[4];

struct fz {
	struct dhcp *d;
	struct dhcp_cfg cfg;
	struct dhcp_host hosts[2];
	uint64_t now;
	int64_t wall;
	uint64_t inputs;
	uint32_t pool_first, pool_last;	/* host order */
	unsigned int slots;
	uint8_t seg[8];			/* addrs[i] used by macs[seg[i] - 1] */
	uint64_t probes;
	bool trace;
};

static struct fz fz;
static uint8_t frame[MAX_PAYLOAD + 128];
static uint8_t out[2048];

static void init_addrs(void)
{
	addrs[0] = 0;
	addrs[1] = IP(10, 0, 2, 2);
	addrs[2] = IP(10, 0, 2, 3);
	addrs[3] = IP(10, 0, 2, 4);
	addrs[4] = IP(10, 0, 2, 77);
	addrs[5] = IP(10, 0, 2, 1);		/* ours */
	addrs[6] = IP(10, 0, 2, 200);
	addrs[7] = IP(192, 168, 7, 7);
	srcs[0] = 0;
	srcs[1] = IP(10, 0, 2, 2);
	srcs[2] = IP(10, 0, 2, 77);
	srcs[3] = IP(192, 168, 0, 1);
}

static bool given_ok(uint32_t ip)
{
	uint32_t h = ntohl(ip);
	unsigned int i;

	if (h >= fz.pool_first && h <= fz.pool_last && ip != fz.cfg.server)
		return true;
	for (i = 0; i < fz.cfg.n_hosts; i++)
		if (fz.hosts[i].ip == ip)
			return true;
	return false;
}

/* The segment model: who uses @ip (0 and its MAC, or -ENOENT). The
 * callbacks' signatures are struct dhcp_cfg's. */
// cppcheck-suppress constParameter
static int seg_user(void *ctx, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	unsigned int i;

	CHECK(ctx == &fz);
	for (i = 0; i < 8; i++) {
		if (fz.seg[i] && addrs[i] == ip) {
			memcpy(mac, macs[fz.seg[i] - 1], ETH_ALEN);
			return 0;
		}
	}
	return -ENOENT;
}

// cppcheck-suppress constParameter
static void seg_probe(void *ctx, uint32_t ip)
{
	CHECK(ctx == &fz);
	CHECK(given_ok(ip));
	fz.probes++;
}

/* A host on the segment starts or stops using addrs[b & 7]. */
static void do_segment(uint8_t b)
{
	unsigned int i = b & 7, who = b >> 3 & 7;

	if (!(b & 0x40)) {
		fz.seg[i] = 0;
		return;
	}
	if (fz.cfg.addr_user)
		fz.seg[i] = (uint8_t)(who + 1);
	dhcp_addr_seen(fz.d, addrs[i], macs[who], fz.now);
}

static uint64_t accounted(void)
{
	const struct dhcp_stats *s = dhcp_get_stats(fz.d);
	uint64_t n = s->declined + s->released;
	unsigned int i;

	for (i = 0; i <= DHCP_MSG_TYPE_MAX; i++)
		n += s->out[i];
	for (i = 0; i < DHCP_DROP_MAX; i++)
		n += s->drops[i];
	return n;
}

/* The reply in out[0..n) to a request whose BOOTP payload is @req. */
static void check_reply(int n, size_t cap, const uint8_t *req, size_t req_len)
{
	struct bootp_hdr h, q;
	struct pkt_meta m;
	const uint8_t *p;
	size_t plen, off;
	uint8_t type = 0;
	unsigned int k;

	CHECK((size_t)n <= cap);
	CHECK(pkt_parse(out, (size_t)n, 0, &m) == PKT_DROP_OK);
	CHECK(m.l3 == PKT_L3_IPV4 && m.l4_proto == IPPROTO_NUM_UDP);
	CHECK(m.flags & PKT_F_L4);
	CHECK(!memcmp(out + ETH_ALEN, gw_mac, ETH_ALEN));
	CHECK(pkt_ip4_saddr(out, &m) == fz.cfg.server);
	CHECK(ntohs(m.sport) == DHCP_SERVER_PORT);
	CHECK(ntohs(m.dport) == DHCP_CLIENT_PORT);
	plen = pkt_payload_len(&m);
	CHECK(m.payload_off + plen == (size_t)n);
	CHECK(plen >= BOOTP_MIN_LEN);
	p = out + m.payload_off;
	memcpy(&h, p, sizeof(h));
	CHECK(h.op == BOOTP_REPLY && h.htype == BOOTP_HTYPE_ETHER &&
	      h.hlen == ETH_ALEN);
	CHECK(p[236] == 99 && p[237] == 130 && p[238] == 83 && p[239] == 99);
	CHECK(req_len >= sizeof(q));	/* accepted, so it was this long */
	memcpy(&q, req, sizeof(q));
	CHECK(h.xid == q.xid);
	CHECK(!memcmp(h.chaddr, q.chaddr, ETH_ALEN));
	for (off = DHCP_OPTS_OFF, k = 0; k < plen; k++) {
		uint8_t code;

		CHECK(off < plen);
		code = p[off++];
		if (code == DHCP_OPT_END)
			break;
		CHECK(code != DHCP_OPT_PAD && off < plen);
		CHECK(off + 1 + p[off] <= plen);
		if (code == DHCP_OPT_MSG_TYPE) {
			CHECK(p[off] == 1);
			type = p[off + 1];
		}
		off += 1u + p[off];
	}
	CHECK(type == DHCP_OFFER || type == DHCP_ACK || type == DHCP_NAK);
	if (type == DHCP_NAK) {
		CHECK(h.yiaddr == 0);
		CHECK(!memcmp(out, bcast_mac, ETH_ALEN));
	} else if (h.yiaddr) {
		uint8_t user[ETH_ALEN];

		CHECK(given_ok(h.yiaddr));
		/* Never an address another host uses (svc/dhcp.h). */
		if (fz.cfg.addr_user && seg_user(&fz, h.yiaddr, user) == 0)
			CHECK(!memcmp(user, h.chaddr, ETH_ALEN));
	} else {
		CHECK(type == DHCP_ACK);	/* INFORM */
	}
}

/* Wrap @payload in UDP/IPv4/Ethernet, feed it, check what comes back. */
static void send_payload(const uint8_t *payload, size_t len, uint32_t src,
			 bool vlan, size_t cap)
{
	const struct dhcp_stats *s = dhcp_get_stats(fz.d);
	struct pkt_spec sp = { 0 };
	struct pkt_meta m;
	uint64_t before = accounted();
	int n;

	memcpy(sp.eth_dst, bcast_mac, ETH_ALEN);
	memcpy(sp.eth_src, len >= 34 ? payload + 28 : macs[0], ETH_ALEN);
	sp.vlan = vlan;
	sp.vlan_tci = 5;
	sp.src4 = src;
	sp.dst4 = IP(255, 255, 255, 255);
	sp.proto = IPPROTO_NUM_UDP;
	sp.sport = DHCP_CLIENT_PORT;
	sp.dport = DHCP_SERVER_PORT;
	sp.payload = payload;
	sp.payload_len = len;
	n = pkt_build(&sp, frame, sizeof(frame));
	CHECK(n > 0);
	CHECK(pkt_parse(frame, (size_t)n, 0, &m) == PKT_DROP_OK);
	n = dhcp_input(fz.d, frame, &m, fz.now, out, cap);
	fz.inputs++;
	CHECK(n >= 0 || n == -EINVAL || n == -ENOSPC);
	CHECK(accounted() == before + 1);
	if (n > 0)
		check_reply(n, cap, payload, len);
	CHECK(s->leases_active + s->offers_pending + s->quarantined <= fz.slots);
}

static void put_opt(uint8_t *b, size_t *len, uint8_t code, const void *v,
		    size_t n)
{
	b[(*len)++] = code;
	b[(*len)++] = (uint8_t)n;
	memcpy(b + *len, v, n);
	*len += n;
}

static void do_template(const uint8_t t[4], uint8_t ctl)
{
	static const uint8_t mms[2] = { 576 >> 8, 576 & 0xff };
	uint8_t b[512], type = (uint8_t)((t[0] & 15) % 9);
	const uint8_t *mac = macs[t[1] & 7];
	struct bootp_hdr h;
	uint32_t req = addrs[t[1] >> 3 & 7], ciaddr = addrs[t[2] & 7];
	size_t len = DHCP_OPTS_OFF;
	size_t cap = (t[2] & 0x80) ? 342 + (size_t)(ctl >> 5) * 8 : sizeof(out);
	uint32_t sid;

	memset(&h, 0, sizeof(h));
	h.op = BOOTP_REQUEST;
	h.htype = BOOTP_HTYPE_ETHER;
	h.hlen = ETH_ALEN;
	h.xid = htonl(0xabc00000u | t[3]);
	h.flags = (t[0] & 0x10) ? htons(BOOTP_FLAG_BROADCAST) : 0;
	h.ciaddr = ciaddr;
	memcpy(h.chaddr, mac, ETH_ALEN);
	if (type && (t[2] & 0x40)) {
		uint8_t ov = DHCP_OVERLOAD_FILE;

		h.file[0] = DHCP_OPT_MSG_TYPE;
		h.file[1] = 1;
		h.file[2] = type;
		h.file[3] = DHCP_OPT_END;
		memcpy(b, &h, sizeof(h));
		put_opt(b, &len, DHCP_OPT_OVERLOAD, &ov, 1);
	} else {
		memcpy(b, &h, sizeof(h));
		if (type)
			put_opt(b, &len, DHCP_OPT_MSG_TYPE, &type, 1);
	}
	b[236] = 99;
	b[237] = 130;
	b[238] = 83;
	b[239] = 99;
	if (t[0] & 0x20) {
		uint8_t cid[7];

		cid[0] = 1;
		memcpy(cid + 1, mac, ETH_ALEN);
		put_opt(b, &len, DHCP_OPT_CLIENT_ID, cid, sizeof(cid));
	}
	if (t[0] & 0x40) {
		const char *nm = names[t[2] >> 3 & 7];

		put_opt(b, &len, DHCP_OPT_HOST_NAME, nm, strlen(nm));
	}
	if (t[0] & 0x80)
		put_opt(b, &len, DHCP_OPT_MAX_MSG_SIZE, mms, 2);
	if (req)
		put_opt(b, &len, DHCP_OPT_REQUESTED_IP, &req, 4);
	if (t[1] >> 6) {
		sid = (t[1] >> 6) == 2 ? IP(10, 0, 2, 99) : fz.cfg.server;
		put_opt(b, &len, DHCP_OPT_SERVER_ID, &sid, 4);
	}
	b[len++] = DHCP_OPT_END;
	while (len < BOOTP_MIN_LEN)
		b[len++] = 0;
	send_payload(b, len, ciaddr, t[3] & 1, cap);
}

static void do_lookup(uint8_t b)
{
	const char *nm = dhcp_name_of(fz.d, addrs[b & 7]);
	uint32_t ip = 0;
	int r;

	if (nm) {
		CHECK(strlen(nm) >= 1 && strlen(nm) <= DHCP_NAME_MAX);
		CHECK(dhcp_addr_of(fz.d, nm, &ip) == 0);
		CHECK(ip == addrs[b & 7]);
	}
	r = dhcp_addr_of(fz.d, names[b >> 3 & 7], &ip);
	CHECK(r == 0 || r == -ENOENT);
	if (r == 0) {
		CHECK(given_ok(ip));
		nm = dhcp_name_of(fz.d, ip);
		CHECK(nm != NULL);
	}
}

static int setup(uint8_t h0, uint8_t h1)
{
	static const uint32_t last[4] = { 2, 3, 5, 254 };

	memset(&fz.cfg, 0, sizeof(fz.cfg));
	fz.cfg.server = IP(10, 0, 2, 1);
	fz.cfg.plen = 24;
	memcpy(fz.cfg.server_mac, gw_mac, ETH_ALEN);
	fz.pool_first = 0x0a000202u;
	fz.pool_last = 0x0a000200u | last[h0 & 3];
	if ((h0 & 3) != 3) {
		fz.cfg.pool_first = htonl(fz.pool_first);
		fz.cfg.pool_last = htonl(fz.pool_last);
	}
	fz.slots = fz.pool_last - fz.pool_first + 1;
	if (h0 & 4) {
		memset(fz.hosts, 0, sizeof(fz.hosts));
		memcpy(fz.hosts[0].mac, macs[6], ETH_ALEN);
		fz.hosts[0].ip = IP(10, 0, 2, 3);
		strcpy(fz.hosts[0].name, "db");
		memcpy(fz.hosts[1].mac, macs[7], ETH_ALEN);
		fz.hosts[1].ip = IP(10, 0, 2, 200);
		fz.cfg.hosts = fz.hosts;
		fz.cfg.n_hosts = 2;
		fz.slots += 2;
	}
	fz.cfg.lease_sec = (h0 & 8) ? 60 : 0;
	fz.cfg.decline_sec = (h0 & 16) ? 30 : 0;
	fz.cfg.mtu = (h0 & 32) ? 0 : 1500;
	memset(fz.seg, 0, sizeof(fz.seg));
	fz.probes = 0;
	if (h0 & 64) {
		fz.cfg.addr_user = seg_user;
		fz.cfg.addr_probe = seg_probe;
		fz.cfg.ctx = &fz;
	}
	fz.now = (uint64_t)h1 * NSEC_PER_SEC;
	fz.wall = 1700000000;
	fz.inputs = 0;
	return dhcp_create(&fz.d, &fz.cfg, fz.now, fz.wall);
}

static void trace_stats(void)
{
	const struct dhcp_stats *s = dhcp_get_stats(fz.d);
	unsigned int i;

	fprintf(stderr, "fuzz_dhcp: inputs %llu in", (unsigned long long)fz.inputs);
	for (i = 1; i <= DHCP_MSG_TYPE_MAX; i++)
		fprintf(stderr, " %llu", (unsigned long long)s->in[i]);
	fprintf(stderr, " out offer %llu ack %llu nak %llu active %llu in_use skipped %llu nak %llu conflicts %llu probes %llu drops",
		(unsigned long long)s->out[DHCP_OFFER],
		(unsigned long long)s->out[DHCP_ACK],
		(unsigned long long)s->out[DHCP_NAK],
		(unsigned long long)s->leases_active,
		(unsigned long long)s->in_use_skipped,
		(unsigned long long)s->in_use_nak,
		(unsigned long long)s->in_use_conflicts,
		(unsigned long long)s->probes);
	for (i = 0; i < DHCP_DROP_MAX; i++)
		if (s->drops[i])
			fprintf(stderr, " %s=%llu", dhcp_drop_name(i),
				(unsigned long long)s->drops[i]);
	fputc('\n', stderr);
}

/* The lease file's text, as the datapath takes it each tick: it fits, and
 * every line ends where it should. */
static void check_snapshot(void)
{
	static char text[1 << 20];
	int n = dhcp_snapshot(fz.d, fz.now, fz.wall, text, sizeof(text));

	CHECK(n >= 0);
	CHECK(n == 0 || text[n - 1] == '\n');
	CHECK(dhcp_snapshot(fz.d, fz.now, fz.wall, text, sizeof(text)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 2;
	unsigned int rec, i;

	if (size < 2)
		return 0;
	if (!srcs[1]) {
		init_addrs();
		log_set_level(LOG_LEVEL_ERR);	/* declines are expected */
		fz.trace = getenv("FUZZ_DHCP_TRACE") != NULL;
	}
	CHECK(setup(data[0], data[1]) == 0);

	for (rec = 0; rec < MAX_RECORDS && off < size; rec++) {
		uint8_t ctl = data[off++];
		const uint8_t *b = data + off;
		size_t left = size - off, len;

		fz.now += steps[ctl >> 2 & 7];
		fz.wall += (int64_t)(steps[ctl >> 2 & 7] / NSEC_PER_SEC);
		switch (ctl & 3) {
		case 0:
			if (left < 2)
				goto out;
			len = MIN((size_t)(b[0] | b[1] << 8), MAX_PAYLOAD);
			len = MIN(len, left - 2);
			send_payload(b + 2, len, srcs[ctl >> 5 & 3], ctl & 0x80,
				     sizeof(out));
			off += 2 + len;
			break;
		case 1:
			if (left < 4)
				goto out;
			do_template(b, ctl);
			off += 4;
			break;
		case 2:
			for (i = 0; i <= (unsigned int)(ctl >> 5); i++) {
				fz.now += 100 * NSEC_PER_MSEC;
				dhcp_tick(fz.d, fz.now);
			}
			check_snapshot();
			break;
		default:
			if (left < 1)
				goto out;
			if (ctl & 0x20)
				do_segment(b[0]);
			else
				do_lookup(b[0]);
			off += 1;
			break;
		}
	}
out:
	/* Everything ends: after the longest lease, nothing is held. */
	fz.now += 3601 * NSEC_PER_SEC;
	for (i = 0; i * DHCP_GC_SLICE < fz.slots; i++)
		dhcp_tick(fz.d, fz.now);
	{
		const struct dhcp_stats *s = dhcp_get_stats(fz.d);

		CHECK(s->leases_active == 0 && s->offers_pending == 0 &&
		      s->quarantined == 0);
		CHECK(accounted() == fz.inputs);
		CHECK(s->probes == fz.probes);
		CHECK(s->in_use_skipped <= s->in[DHCP_DISCOVER] * DHCP_IN_USE_TRIES);
		/* A NAK that does not fit the buffer is a no_room drop. */
		CHECK(s->in_use_nak <= s->out[DHCP_NAK] + s->drops[DHCP_DROP_NO_ROOM]);
	}
	if (fz.trace)
		trace_stats();
	dhcp_destroy(fz.d);
	fz.d = NULL;
	return 0;
}
