// SPDX-License-Identifier: MIT
/*
 * fuzz_arp.c - libFuzzer harness for the ARP endpoint (src/svc/arp): one
 * endpoint per input (the inside gateway, 02:ab:cd:00:00:01), a stream of
 * frames, lookups, holds and ticks on a manual clock, and the endpoint's
 * promises checked after every step.
 *
 * Input:
 *   header, 2 bytes:
 *     h0  bits 0-2 max_neigh = 1 << n; bit 3 reachable_sec 2 (else the
 *         default 300); bits 4-5 own addresses 10.0.2.1 (+ .3, + .5)
 *     h1  start time, in seconds
 *   records, at most MAX_RECORDS: ctl, then a body by kind.
 *     ctl  bits 0-2 kind; bits 3-5 time step before it (steps[])
 *     kind 0  raw frame: length byte, then that many bytes; pkt_parse()d,
 *             handed to arp_input() if ARP
 *     kind 1  template: 4 bytes t0..t3 (t3 unused), an ARP frame from pools:
 *             t0 bits 0-1 op (1, 2, 0, 3); bit 2 gratuitous (tpa = spa);
 *                bit 3 truncate the metadata by one byte; bits 4-7 tha
 *             t1 spa (low nibble), tpa (high nibble): addrs[]
 *             t2 sha (bits 0-2), Ethernet destination (bits 3-5): macs[]
 *     kind 2  lookup: 1 byte, the address
 *     kind 3  hold: 2 bytes, the address and a length selector (9 + 36 n)
 *     kind 4  tick
 *     kind 5  hold an oversized packet (must be refused)
 *     kind 6  a reply from the address (byte) for own[0] with mac (byte)
 *     kind 7  ten ticks, 100 ms apart
 *
 * Checks: every frame sent parses as ARP from our MAC, requests are
 * broadcast from own[0], replies come only from an own address and go to
 * the asker; a delivered packet is one that was held, whole, with its
 * metadata, for an address now resolved to the MAC it was delivered to;
 * lookups only ever succeed for learnable, foreign addresses; the counters
 * add up, and at the end every held packet is accounted for.
 * FUZZ_ARP_TRACE=1 prints the counters at the end of each input.
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
#include "prot/arp.h"
#include "svc/arp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 256
#define MAX_DELIV   (ARP_HOLD_MAX * 2)

#define FAIL(...) \
	(fprintf(stderr, "fuzz_arp: " __VA_ARGS__), fputc('\n', stderr), abort())
#define CHECK(c) ((c) ? (void)0 : FAIL("line %d: %s", __LINE__, #c))

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const uint64_t steps[8] = {
	0, NSEC_PER_MSEC, 100 * NSEC_PER_MSEC, 999 * NSEC_PER_MSEC,
	NSEC_PER_SEC, 3 * NSEC_PER_SEC, 301 * NSEC_PER_SEC, 3600 * NSEC_PER_SEC,
};

static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t macs[8][ETH_ALEN] = {
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x03 },
	{ 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 },	/* ours */
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0 },
	{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
	{ 0x52, 0x54, 0x00, 0x00, 0x00, 0x04 },
};
static const struct siphash_key fz_key = { { 0x0706050403020100ULL,
					     0x0f0e0d0c0b0a0908ULL } };
static uint32_t own_pool[3];
static uint32_t addrs[16];

/* What the callbacks saw during one step. */
struct fz {
	struct arp *a;
	struct arp_cfg cfg;
	uint64_t now;
	uint64_t sent;
	uint64_t delivered;
	unsigned int n_deliv;
	uint32_t deliv_ip[MAX_DELIV];
	uint8_t deliv_mac[MAX_DELIV][ETH_ALEN];
	uint32_t tag;
};

static struct fz fz;
static bool trace;
static uint8_t pkt[ARP_HOLD_BYTES + 1];

static void init_addrs(void)
{
	unsigned int i;

	for (i = 0; i < 10; i++)
		addrs[i] = IP(10, 0, 2, i);	/* .0 .. .9: own, guests */
	addrs[10] = IP(10, 0, 3, 7);
	addrs[11] = 0;
	addrs[12] = IP(255, 255, 255, 255);
	addrs[13] = IP(224, 0, 0, 1);
	addrs[14] = IP(127, 0, 0, 1);
	addrs[15] = IP(198, 51, 100, 1);
	for (i = 0; i < ARRAY_SIZE(own_pool); i++)
		own_pool[i] = IP(10, 0, 2, 1 + 2 * i);	/* .1 .3 .5 */
}

static bool is_own(uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < fz.cfg.n_own; i++)
		if (fz.cfg.own[i] == ip)
			return true;
	return false;
}

/* The metadata a held packet carries is a function of its tag. */
static struct pkt_vnet vnet_of(uint32_t tag)
{
	return (struct pkt_vnet){ .flags = (uint8_t)(tag & 3),
				  .gso_type = (uint8_t)(tag >> 2 & 1),
				  .hdr_len = (uint16_t)tag,
				  .gso_size = (uint16_t)(tag * 7),
				  .csum_start = (uint16_t)(tag >> 3),
				  .csum_offset = 6 };
}

static void on_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct arp_eth_ip4 h;
	struct pkt_meta m;

	(void)ctx;
	fz.sent++;
	CHECK(len == ETH_MIN_FRAME);
	CHECK(pkt_parse(frame, len, 0, &m) == PKT_DROP_OK);
	CHECK(m.l3 == PKT_L3_ARP && m.l3_off == ETH_HLEN);
	memcpy(&h, frame + ETH_HLEN, sizeof(h));
	CHECK(!memcmp(frame + ETH_ALEN, gw_mac, ETH_ALEN));
	CHECK(!memcmp(h.sha, gw_mac, ETH_ALEN));
	CHECK(is_own(h.spa));
	if (ntohs(h.op) == ARP_OP_REQUEST) {
		CHECK(h.spa == fz.cfg.own[0]);
		CHECK(!memcmp(frame, macs[4], ETH_ALEN));
	} else {
		CHECK(ntohs(h.op) == ARP_OP_REPLY);
		CHECK(!memcmp(frame, h.tha, ETH_ALEN));	/* to the asker */
		CHECK(!(h.tha[0] & 1));
	}
}

static void on_deliver(void *ctx, uint8_t *p, size_t len,
		       const struct pkt_vnet *vnet, const uint8_t mac[ETH_ALEN])
{
	struct pkt_vnet want;
	uint32_t tag, ip;

	(void)ctx;
	CHECK(len >= 9 && len <= ARP_HOLD_BYTES);
	memcpy(&tag, p, 4);
	memcpy(&ip, p + 4, 4);
	CHECK(p[len - 1] == (uint8_t)tag);
	want = vnet_of(tag);
	CHECK(!memcmp(vnet, &want, sizeof(want)));
	CHECK(!(mac[0] & 1));
	memset(p - ARP_HOLD_HEADROOM, 0, ARP_HOLD_HEADROOM);	/* ASan: writable */
	CHECK(fz.n_deliv < MAX_DELIV);
	fz.deliv_ip[fz.n_deliv] = ip;
	memcpy(fz.deliv_mac[fz.n_deliv++], mac, ETH_ALEN);
	fz.delivered++;
}

static void check_step(void)
{
	const struct arp_stats *s = arp_get_stats(fz.a);
	uint8_t mac[ETH_ALEN];
	unsigned int i;

	for (i = 0; i < fz.n_deliv; i++) {
		CHECK(arp_lookup(fz.a, fz.deliv_ip[i], fz.now, mac) == 0);
		CHECK(!memcmp(mac, fz.deliv_mac[i], ETH_ALEN));
	}
	fz.n_deliv = 0;
	CHECK(s->replies_out + s->requests_out == fz.sent);
	CHECK(s->released == fz.delivered);
	CHECK(s->held >= s->released + s->hold_expired);
	CHECK(s->held - s->released - s->hold_expired <= ARP_HOLD_MAX);
	CHECK(s->replies_out <= s->requests_in);
	CHECK(s->evicted <= s->learned);
}

static void do_lookup(uint32_t ip)
{
	uint8_t mac[ETH_ALEN];

	if (arp_lookup(fz.a, ip, fz.now, mac) != 0)
		return;
	CHECK(!is_own(ip) && ip != 0);
	CHECK(!(mac[0] & 1) && memcmp(mac, gw_mac, ETH_ALEN) != 0);
}

static void do_hold(uint32_t ip, size_t len)
{
	const struct arp_stats *s = arp_get_stats(fz.a);
	uint64_t dropped = s->hold_dropped;
	uint32_t tag = fz.tag++;
	struct pkt_vnet v = vnet_of(tag);
	int r;

	memcpy(pkt, &tag, 4);
	memcpy(pkt + 4, &ip, 4);
	pkt[len - 1] = (uint8_t)tag;
	r = arp_hold(fz.a, ip, pkt, len, &v, fz.now);
	CHECK(r == 0 || r == -ENOSPC || r == -EINVAL);
	CHECK((r != 0) == (s->hold_dropped == dropped + 1));
	if (len > ARP_HOLD_BYTES)
		CHECK(r != 0);
}

static void do_frame(const uint8_t *f, size_t len, bool short_meta)
{
	struct pkt_meta m;

	if (pkt_parse(f, len, 0, &m) != PKT_DROP_OK || m.l3 != PKT_L3_ARP)
		return;
	if (short_meta && m.len)
		m.len--;
	arp_input(fz.a, f, &m, fz.now);
}

static void do_template(const uint8_t t[4])
{
	static const uint16_t ops[4] = { ARP_OP_REQUEST, ARP_OP_REPLY, 0, 3 };
	uint32_t spa = addrs[t[1] & 15], tpa = addrs[t[1] >> 4];
	uint8_t f[64];
	int n;

	if (t[0] & 4)
		tpa = spa;
	n = pkt_build_arp(f, sizeof(f), ops[t[0] & 3], macs[t[2] >> 3 & 7],
			  macs[t[2] & 7], spa, macs[t[0] >> 4 & 7], tpa);
	CHECK(n == ETH_HLEN + ARP_ETH_IP4_LEN);
	do_frame(f, (size_t)n, t[0] & 8);
}

static int setup(uint8_t h0, uint8_t h1)
{
	fz.cfg = (struct arp_cfg){ .max_neigh = 1u << (h0 & 7),
				   .reachable_sec = (h0 & 8) ? 2 : 0,
				   .n_own = 1 + (h0 >> 4 & 3) % 3,
				   .send = on_send, .deliver = on_deliver,
				   .key = &fz_key };
	memcpy(fz.cfg.mac, gw_mac, ETH_ALEN);
	memcpy(fz.cfg.own, own_pool, sizeof(own_pool));
	fz.now = (uint64_t)h1 * NSEC_PER_SEC;
	return arp_create(&fz.a, &fz.cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 2;
	unsigned int rec, i;

	if (size < 2)
		return 0;
	if (!addrs[1]) {
		init_addrs();
		log_set_level(LOG_LEVEL_ERR);	/* conflicts are expected */
		trace = getenv("FUZZ_ARP_TRACE") != NULL;
	}
	memset(&fz, 0, offsetof(struct fz, deliv_ip));
	fz.n_deliv = 0;
	CHECK(setup(data[0], data[1]) == 0);

	for (rec = 0; rec < MAX_RECORDS && off < size; rec++) {
		uint8_t ctl = data[off++];
		const uint8_t *b = data + off;
		size_t left = size - off;

		fz.now += steps[ctl >> 3 & 7];
		switch (ctl & 7) {
		case 0:
			if (!left || left - 1 < b[0])
				goto out;
			do_frame(b + 1, b[0], false);
			off += 1 + (size_t)b[0];
			break;
		case 1:
			if (left < 4)
				goto out;
			do_template(b);
			off += 4;
			break;
		case 2:
			if (left < 1)
				goto out;
			do_lookup(addrs[b[0] & 15]);
			off += 1;
			break;
		case 3:
			if (left < 2)
				goto out;
			do_hold(addrs[b[0] & 15], 9 + (size_t)b[1] * 36);
			off += 2;
			break;
		case 4:
			arp_tick(fz.a, fz.now);
			break;
		case 5:
			do_hold(addrs[ctl >> 6], ARP_HOLD_BYTES + 1);
			break;
		case 6: {
			uint8_t t[4];

			if (left < 2)
				goto out;
			t[0] = 1 | (uint8_t)(b[1] & 7) << 4;	/* reply to gw_mac-ish */
			t[1] = (uint8_t)((b[0] & 15) | 1 << 4);	/* tpa 10.0.2.1 */
			t[2] = (uint8_t)(b[1] >> 4 & 7);
			t[3] = 0;
			do_template(t);
			off += 2;
			break;
		}
		default:
			for (i = 0; i < 10; i++) {
				fz.now += 100 * NSEC_PER_MSEC;
				arp_tick(fz.a, fz.now);
			}
			break;
		}
		check_step();
	}
out:
	/* Everything held is gone after ARP_HOLD_SEC, delivered or expired. */
	fz.now += (ARP_HOLD_SEC + 1) * NSEC_PER_SEC;
	arp_tick(fz.a, fz.now);
	check_step();
	{
		const struct arp_stats *s = arp_get_stats(fz.a);

		CHECK(s->held == s->released + s->hold_expired);
		if (trace)
			fprintf(stderr,
				"fuzz_arp: req in %llu rep in %llu rep out %llu req out %llu "
				"learned %llu updated %llu grat %llu conflicts %llu "
				"ignored %llu held %llu released %llu dropped %llu "
				"expired %llu evicted %llu\n",
				(unsigned long long)s->requests_in,
				(unsigned long long)s->replies_in,
				(unsigned long long)s->replies_out,
				(unsigned long long)s->requests_out,
				(unsigned long long)s->learned,
				(unsigned long long)s->updated,
				(unsigned long long)s->gratuitous,
				(unsigned long long)s->conflicts,
				(unsigned long long)s->ignored,
				(unsigned long long)s->held,
				(unsigned long long)s->released,
				(unsigned long long)s->hold_dropped,
				(unsigned long long)s->hold_expired,
				(unsigned long long)s->evicted);
	}
	arp_destroy(fz.a);
	fz.a = NULL;
	return 0;
}
