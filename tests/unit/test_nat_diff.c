// SPDX-License-Identifier: MIT
/*
 * Differential test: the NAT (src/nat) against its naive reference model
 * (tests/ref/nat_ref.c, written from docs/nat.md alone).
 *
 * Both get the same configuration, the same forwards and the same random
 * packets; after every packet the verdicts, the drop reasons and, for
 * forwarded packets, the rewritten frames must be identical byte for byte,
 * and after every batch the number of flows must agree; every 1000 packets
 * nat_verify() checks the NAT's internal invariants and the early-drop and
 * frag_evicted counters are compared. Outputs both agree on must still
 * carry valid checksums (a common-mode error check). Before every batch
 * the NAT's collector runs to completion and the model collects the same
 * flows, so that the set of present flows is a function of time alone.
 *
 * Packets are generated from what the model says exists (its flows and
 * mappings) so that most of them hit something: new flows from a small
 * pool of inside hosts and ports (so that ports collide, mappings are
 * reused and port searches run out), packets of known flows in either
 * direction with TCP segments that follow or break the handshake, spoofed
 * packets from the wrong side, unsolicited packets, hairpinning, port
 * forwards, redirects, ICMP errors quoting translated (or unknown, or truncated)
 * packets, fragments, UDP without checksum and CHECKSUM_PARTIAL packets.
 * Time moves mostly by small steps, sometimes past whole timeouts, and
 * sometimes by exact numbers of seconds so that deadlines land on `now`.
 *
 * The events are split over several configurations (each filtering mode,
 * default and short timeouts, narrow port ranges, small tables so that
 * early drop and table_full happen, small fragment tables). Environment:
 *   NAT_DIFF_SEED    base seed (default below); each run mixes in its index
 *   NAT_DIFF_EVENTS  total packets over all runs (default 4,000,000)
 *   NAT_DIFF_RUN     run only the configuration of that name
 *   NAT_DIFF_TRACE   print every packet from this packet number on
 * On the first mismatch the test prints the seed, the run, the packet
 * number and hex dumps of the input and of both outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "ct/table.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "ref/frames.h"
#include "ref/nat_ref.h"

#define DIFF_SEED	0x6172636e61745f31ULL
#define DIFF_EVENTS	4000000ull
#define VERIFY_EVERY	1000u
#define BUF_CAP		1600
#define BATCH		8
#define FRAG_RING	64
#define PAYLOAD_POOL	512

#define IP4(a, b, c, d) htonl((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			      (uint32_t)(c) << 8 | (uint32_t)(d))

/* emit() modifiers */
#define REDIRECT_ADDR	IP4(10, 0, 2, 1)	/* no inside host has it */
#define EM_PARTIAL	(1u << 0)	/* NAT_PKT_CSUM_PARTIAL */

/**
 * struct run_cfg - one configuration of the NAT under test.
 * @name:      for messages
 * @filtering: filtering mode
 * @port_min:  dynamic range (0, 0: the default)
 * @port_max:  dynamic range
 * @max_flows: connection table size (small: early drop, table_full)
 * @short_to:  short timeouts (allow_short_udp)
 * @n_ext:     external addresses (1 or 2)
 * @frag_max:  fragment entries (0: default)
 * @frag_to:   fragment timeout, s (0: default)
 */
struct run_cfg {
	const char *name;
	enum nat_filtering filtering;
	uint16_t port_min;
	uint16_t port_max;
	uint32_t max_flows;
	bool short_to;
	unsigned int n_ext;
	uint32_t frag_max;
	uint32_t frag_to;
};

static const struct run_cfg runs[] = {
	{ "apdf_default", NAT_FILTER_APDF, 1000, 1063, 64, false, 2, 6, 0 },
	{ "adf_default", NAT_FILTER_ADF, 50000, 50063, 128, false, 2, 0, 0 },
	{ "eif_default", NAT_FILTER_EIF, 1000, 1063, 256, false, 2, 32, 0 },
	{ "apdf_short", NAT_FILTER_APDF, 1000, 1063, 32, true, 2, 4, 5 },
	{ "adf_short", NAT_FILTER_ADF, 1000, 1063, 48, true, 2, 16, 3 },
	{ "eif_short", NAT_FILTER_EIF, 50000, 50063, 24, true, 2, 3, 4 },
	{ "eif_one_addr", NAT_FILTER_EIF, 1000, 1031, 16, false, 1, 0, 0 },
	{ "adf_wide_range", NAT_FILTER_ADF, 0, 0, 256, false, 2, 0, 0 },
};

/* A first fragment sent, for sending its later fragments. */
struct frag_rec {
	uint32_t saddr;
	uint32_t daddr;
	uint16_t id;
	uint8_t proto;
	uint8_t side;
};

struct harness {
	const struct run_cfg *rc;
	struct nat *nat;
	struct nat_ref *ref;
	uint64_t seed;
	uint64_t rng;
	uint64_t now;
	uint64_t packets;	/* packets compared so far in this run */
	uint64_t trace_from;
	uint16_t port_min;
	uint16_t port_max;
	uint16_t ip_id;
	bool mk_frag;		/* emit the next packet as a first fragment */

	uint32_t ext[2];
	struct nat_forward fwd[4];
	unsigned int n_fwd;

	struct frag_rec frags[FRAG_RING];
	unsigned int n_frags;
	unsigned int frag_next;

	/* the batch under construction */
	unsigned int n;
	enum nat_side side;
	size_t len[BATCH];
	uint32_t flags[BATCH];
	uint8_t in[BATCH][BUF_CAP];
	uint8_t out_real[BATCH][BUF_CAP];
	uint8_t out_ref[BATCH][BUF_CAP];
	struct pkt_meta meta[BATCH];
	struct nat_pkt pr[BATCH];
	struct nat_pkt pm[BATCH];

	uint64_t verdicts[4];
	uint64_t reasons[NAT_DROP__MAX];
	uint8_t payload[PAYLOAD_POOL];
};

static const uint32_t remote_ports[] = { 53, 80, 443, 1000, 3478, 50000 };
static const uint16_t fixed_ports[] = {
	22, 53, 80, 123, 1000, 1001, 1023, 1024, 1025, 1040,
	5000, 5001, 40000, 50000, 50001, 50063, 65535,
};

/* ---- randomness (xorshift64*, independent of the NAT's generator) ---- */

static uint64_t rnd(struct harness *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(struct harness *h, uint32_t n)
{
	return (uint32_t)((rnd(h) >> 32) % n);
}

static bool chance(struct harness *h, unsigned int pct)
{
	return below(h, 100) < pct;
}

static uint32_t inside_host(struct harness *h)
{
	return IP4(10, 0, 2, 2 + below(h, 8));
}

static uint32_t remote_host(struct harness *h)
{
	return IP4(198, 51, 100, 1 + below(h, 4));
}

static uint16_t remote_port(struct harness *h)
{
	return htons((uint16_t)remote_ports[below(h, ARRAY_SIZE(remote_ports))]);
}

/* Internal ports: fixed ones on both sides of 1024 and of the range. */
static uint16_t inside_port(struct harness *h)
{
	uint32_t r = below(h, 100);

	if (r < 12)
		return htons((uint16_t)(h->port_min + below(h, 3)));
	if (r < 20)
		return htons((uint16_t)(h->port_max - below(h, 3)));
	if (r < 28)
		return htons((uint16_t)(h->port_min + below(h, 40)));
	return htons(fixed_ports[below(h, ARRAY_SIZE(fixed_ports))]);
}

static uint16_t icmp_id(struct harness *h)
{
	static const uint16_t ids[] = { 1, 2, 7, 1000, 1001, 0x4242, 50000 };

	if (chance(h, 30))
		return htons((uint16_t)(h->port_min + below(h, 4)));
	return htons(ids[below(h, ARRAY_SIZE(ids))]);
}

static uint32_t ext_addr(struct harness *h)
{
	return h->ext[below(h, h->rc->n_ext)];
}

static const void *payload(struct harness *h, size_t len)
{
	return h->payload + below(h, PAYLOAD_POOL - (uint32_t)len);
}

/* ---- frames ---- */

static void fail_gen(const char *what, int r)
{
	fail_msg("generator made a bad frame (%s): %d", what, r);
}

/*
 * Add a frame to the batch: parse it, apply the modifiers. Packets from
 * the other side than the batch's first are skipped (a batch comes from
 * one side).
 */
static void emit_raw(struct harness *h, const uint8_t *buf, size_t len,
		     enum nat_side side, unsigned int em)
{
	unsigned int i = h->n;
	enum pkt_drop r;

	if (i == BATCH || (i > 0 && side != h->side))
		return;
	memcpy(h->in[i], buf, len);
	r = pkt_parse(h->in[i], len, 0, &h->meta[i]);
	if (r != PKT_DROP_OK)
		fail_gen("parse", (int)r);
	h->flags[i] = 0;
	if ((em & EM_PARTIAL) && (h->meta[i].flags & PKT_F_L4) &&
	    !(h->meta[i].flags & PKT_F_FRAG) &&
	    !(h->meta[i].flags & PKT_F_ICMP_ERROR)) {
		frame_set_csum_partial(h->in[i], &h->meta[i]);
		h->flags[i] = NAT_PKT_CSUM_PARTIAL;
	}
	/*
	 * A first fragment's L4 checksum covers the whole datagram, which is
	 * not here: make it arbitrary (a UDP one sometimes 0).
	 */
	if ((h->meta[i].flags & PKT_F_FRAG) && (h->meta[i].flags & PKT_F_L4)) {
		uint16_t c = (uint16_t)rnd(h);

		if (h->meta[i].l4_proto == IPPROTO_NUM_UDP && chance(h, 10))
			c = 0;
		memcpy(h->in[i] + frame_l4_csum_off(&h->meta[i]), &c, 2);
	}
	h->len[i] = len;
	h->side = side;
	h->n++;
}

static void emit(struct harness *h, struct frame_desc *d, enum nat_side side,
		 unsigned int em)
{
	unsigned int n = h->n;
	uint8_t buf[BUF_CAP];
	int len;

	if (h->mk_frag) {
		d->ip_id = ++h->ip_id;
		d->ip4_frag = IP4_FLAG_MF;
		em &= ~EM_PARTIAL;
	} else {
		d->ip_id = (uint16_t)rnd(h);
	}
	len = frame_build(d, false, buf, sizeof(buf));
	if (len < 0)
		fail_gen("build", len);
	emit_raw(h, buf, (size_t)len, side, em);
	if (h->mk_frag && h->n > n) {
		struct frag_rec *fr = &h->frags[h->frag_next];

		fr->saddr = d->saddr;
		fr->daddr = d->daddr;
		fr->id = d->ip_id;
		fr->proto = d->proto;
		fr->side = (uint8_t)side;
		h->frag_next = (h->frag_next + 1) % FRAG_RING;
		h->n_frags = MIN(h->n_frags + 1, FRAG_RING);
	}
}

static void set_payload(struct harness *h, struct frame_desc *d, uint32_t max)
{
	d->payload_len = below(h, max + 1);
	d->payload = payload(h, d->payload_len);
}

static unsigned int maybe_partial(struct harness *h, unsigned int pct)
{
	return chance(h, pct) ? EM_PARTIAL : 0;
}

/* ---- TCP segments ---- */

static const uint8_t odd_flags[] = {
	TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST,
	TCP_RST | TCP_ACK, TCP_PSH | TCP_ACK, TCP_FIN, TCP_SYN | TCP_FIN,
	TCP_SYN | TCP_RST, 0, TCP_URG | TCP_ACK | TCP_PSH, TCP_SYN | TCP_ECE | TCP_CWR,
};

static void syn_options(struct harness *h, struct frame_desc *d)
{
	d->has_wscale = chance(h, 50);
	d->wscale = (uint8_t)below(h, 16);
	d->sack_perm = chance(h, 50);
	d->mss = chance(h, 50) ? 1460 : 0;
}

/* A segment that mostly fits the tracked state, sometimes anything. */
static void tcp_segment(struct harness *h, struct frame_desc *d,
			const struct ct_tcp *t, enum ct_dir dir)
{
	const struct ct_tcp_peer *p = &t->peer[dir], *o = &t->peer[!dir];
	uint32_t r = below(h, 100);

	d->window = chance(h, 20) ? (uint16_t)(1 + below(h, 4096)) : 0;
	d->seq = p->end;
	d->ack = o->end;
	if (chance(h, 20)) {
		d->tcp_flags = odd_flags[below(h, ARRAY_SIZE(odd_flags))];
		if (chance(h, 10))
			d->tcp_flags = (uint8_t)rnd(h);
		d->seq = chance(h, 50) ? p->end + below(h, 64) - 32 : (uint32_t)rnd(h);
		d->ack = chance(h, 50) ? o->end : (uint32_t)rnd(h);
		if (!(d->tcp_flags & TCP_SYN))
			set_payload(h, d, 40);
		return;
	}
	switch (t->state) {
	case CT_TCP_SYN_SENT:
		if (dir == CT_DIR_ORIG) {
			d->tcp_flags = TCP_SYN;
			d->seq = chance(h, 80) ? p->fin_seq : (uint32_t)rnd(h);
		} else if (r < 65) {
			d->tcp_flags = TCP_SYN | TCP_ACK;
			d->seq = (uint32_t)rnd(h);
		} else if (r < 80) {
			d->tcp_flags = TCP_SYN;	/* simultaneous open */
			d->seq = (uint32_t)rnd(h);
		} else if (r < 90) {
			d->tcp_flags = TCP_SYN | TCP_ACK;
			d->seq = (uint32_t)rnd(h);
			d->ack = o->end + 1 + below(h, 1000);
		} else {
			d->tcp_flags = TCP_RST | TCP_ACK;
			d->seq = 0;
		}
		syn_options(h, d);
		return;
	case CT_TCP_SYN_SENT2:
		d->tcp_flags = r < 80 ? TCP_SYN | TCP_ACK : TCP_SYN;
		d->seq = p->fin_seq;
		return;
	case CT_TCP_SYN_RECV:
		if ((p->flags & CT_TCP_PF_SYNACK) && r < 20) {
			d->tcp_flags = TCP_SYN | TCP_ACK;
			d->seq = chance(h, 70) ? p->fin_seq : (uint32_t)rnd(h);
			return;
		}
		d->tcp_flags = TCP_ACK;
		set_payload(h, d, 20);
		return;
	case CT_TCP_TIME_WAIT:
	case CT_TCP_CLOSE:
		if (dir == CT_DIR_ORIG && r < 50) {
			d->tcp_flags = TCP_SYN;
			d->seq = (uint32_t)rnd(h);
			syn_options(h, d);
			return;
		}
		d->tcp_flags = TCP_ACK;
		return;
	default:
		if (r < 70) {
			d->tcp_flags = chance(h, 30) ? TCP_ACK | TCP_PSH : TCP_ACK;
			set_payload(h, d, 40);
		} else if (r < 90) {
			d->tcp_flags = TCP_FIN | TCP_ACK;
			set_payload(h, d, 8);
		} else {
			d->tcp_flags = chance(h, 50) ? TCP_RST : TCP_RST | TCP_ACK;
			d->seq = p->end + below(h, 3) * o->maxwin / 2;
		}
		return;
	}
}

/* A new connection's first TCP segment: mostly a SYN. */
static void tcp_first(struct harness *h, struct frame_desc *d)
{
	d->tcp_flags = TCP_SYN;
	if (chance(h, 12))
		d->tcp_flags = odd_flags[below(h, ARRAY_SIZE(odd_flags))];
	d->seq = (uint32_t)rnd(h);
	d->ack = chance(h, 50) ? 0 : (uint32_t)rnd(h);
	syn_options(h, d);
}

/* ---- event generators ---- */

static void fill_l4(struct harness *h, struct frame_desc *d, bool request)
{
	switch (d->proto) {
	case IPPROTO_NUM_TCP:
		tcp_first(h, d);
		break;
	case IPPROTO_NUM_UDP:
		d->udp_no_csum = chance(h, 10);
		set_payload(h, d, 48);
		break;
	default:
		d->icmp_type = request ? ICMP_ECHO : ICMP_ECHOREPLY;
		d->icmp_seq = (uint16_t)rnd(h);
		set_payload(h, d, 32);
		break;
	}
}

static uint8_t pick_proto(struct harness *h)
{
	uint32_t r = below(h, 100);

	return r < 40 ? IPPROTO_NUM_TCP : r < 80 ? IPPROTO_NUM_UDP : IPPROTO_NUM_ICMP;
}

static void gen_new_out(struct harness *h)
{
	struct frame_desc d;

	memset(&d, 0, sizeof(d));
	d.proto = pick_proto(h);
	d.saddr = inside_host(h);
	d.daddr = remote_host(h);
	if (d.proto == IPPROTO_NUM_ICMP) {
		d.sport = icmp_id(h);
	} else {
		d.sport = chance(h, 1) ? 0 : inside_port(h);
		d.dport = remote_port(h);
		if (chance(h, 8))	/* the redirects' address (add_forwards) */
			d.daddr = REDIRECT_ADDR;
	}
	fill_l4(h, &d, chance(h, 93));
	emit(h, &d, NAT_INSIDE, maybe_partial(h, 7));
}

static const struct nat_ref_flow *pick_flow(struct harness *h)
{
	uint32_t n = nat_ref_flow_count(h->ref);

	return n ? nat_ref_flow_at(h->ref, below(h, n)) : NULL;
}

static void gen_flow_pkt(struct harness *h)
{
	const struct nat_ref_flow *f = pick_flow(h);
	enum ct_dir dir;
	enum nat_side side;
	struct frame_desc d;

	if (!f) {
		gen_new_out(h);
		return;
	}
	/* Answer unanswered flows more often: replied flows fill the table. */
	dir = chance(h, f->replied ? 50 : 75) ? CT_DIR_REPLY : CT_DIR_ORIG;
	frame_desc_from_tuple(&d, &f->tuple[dir]);
	side = nat_ref_from_side((enum nat_ref_kind)f->kind, dir);
	if (chance(h, 6))
		side = side == NAT_INSIDE ? NAT_OUTSIDE : NAT_INSIDE;
	switch (d.proto) {
	case IPPROTO_NUM_TCP:
		tcp_segment(h, &d, &f->tcp, dir);
		break;
	case IPPROTO_NUM_UDP:
		d.udp_no_csum = chance(h, 8);
		set_payload(h, &d, 64);
		break;
	default:
		d.icmp_type = (dir == CT_DIR_ORIG) == chance(h, 88) ? ICMP_ECHO
								    : ICMP_ECHOREPLY;
		d.icmp_seq = (uint16_t)rnd(h);
		set_payload(h, &d, 32);
		break;
	}
	emit(h, &d, side, maybe_partial(h, d.proto == IPPROTO_NUM_ICMP ? 3 : 7));
}

static const struct nat_ref_mapping *pick_mapping(struct harness *h)
{
	uint32_t n = nat_ref_mapping_count(h->ref);

	return n ? nat_ref_mapping_at(h->ref, below(h, n)) : NULL;
}

/* Somewhere to send to on an external address: a mapping, a forward, any. */
static void pick_target(struct harness *h, struct frame_desc *d)
{
	const struct nat_ref_mapping *mp = pick_mapping(h);
	uint32_t r = below(h, 100);

	if (mp && r < 50) {
		d->daddr = mp->ext_addr;
		d->dport = mp->ext_port;
		d->proto = mp->proto;
	} else if (h->n_fwd && r < 65) {
		const struct nat_forward *fw = &h->fwd[below(h, h->n_fwd)];

		d->daddr = fw->ext_addr ? fw->ext_addr : h->ext[0];
		d->dport = htons(fw->ext_port);
		d->proto = fw->proto;
	} else {
		d->daddr = ext_addr(h);
		d->dport = htons((uint16_t)(h->port_min + below(h, 70)));
		d->proto = pick_proto(h);
	}
	if (d->proto == IPPROTO_NUM_ICMP) {
		d->sport = d->dport;	/* the echo id is the "port" */
		d->dport = 0;
	}
}

static void gen_unsolicited(struct harness *h)
{
	struct frame_desc d;
	uint32_t r = below(h, 100);

	memset(&d, 0, sizeof(d));
	pick_target(h, &d);
	if (r < 8)
		d.daddr = IP4(203, 0, 113, 9);	/* not an external address */
	else if (r < 14)
		d.daddr = inside_host(h);
	d.saddr = chance(h, 95) ? remote_host(h) : inside_host(h);
	if (d.proto != IPPROTO_NUM_ICMP)
		d.sport = remote_port(h);
	fill_l4(h, &d, chance(h, 50));
	if (d.proto == IPPROTO_NUM_ICMP && chance(h, 10))
		d.icmp_type = ICMP_TIMESTAMP;
	emit(h, &d, NAT_OUTSIDE, maybe_partial(h, 5));
}

static void gen_hairpin(struct harness *h)
{
	const struct nat_ref_mapping *mp;
	struct frame_desc d;

	memset(&d, 0, sizeof(d));
	pick_target(h, &d);
	d.saddr = inside_host(h);
	if (d.proto == IPPROTO_NUM_ICMP) {
		fill_l4(h, &d, chance(h, 90));
	} else {
		d.sport = inside_port(h);
		/* Sometimes a host hairpins to its own mapping. */
		mp = pick_mapping(h);
		if (mp && mp->proto != IPPROTO_NUM_ICMP && chance(h, 10)) {
			d.saddr = mp->int_addr;
			d.sport = mp->int_port;
			d.daddr = mp->ext_addr;
			d.dport = mp->ext_port;
			d.proto = mp->proto;
		}
		fill_l4(h, &d, true);
	}
	emit(h, &d, NAT_INSIDE, maybe_partial(h, 5));
}

static void gen_forward(struct harness *h)
{
	const struct nat_forward *fw;
	struct frame_desc d;

	if (!h->n_fwd) {
		gen_unsolicited(h);
		return;
	}
	fw = &h->fwd[below(h, h->n_fwd)];
	memset(&d, 0, sizeof(d));
	d.proto = fw->proto;
	if (chance(h, 50)) {
		d.saddr = remote_host(h);
		d.sport = remote_port(h);
		d.daddr = fw->ext_addr ? fw->ext_addr : h->ext[0];
		d.dport = htons(fw->ext_port);
		fill_l4(h, &d, true);
		emit(h, &d, NAT_OUTSIDE, maybe_partial(h, 5));
	} else {
		d.saddr = fw->int_addr;
		d.sport = htons(fw->int_port);
		d.daddr = remote_host(h);
		d.dport = remote_port(h);
		fill_l4(h, &d, true);
		emit(h, &d, NAT_INSIDE, maybe_partial(h, 5));
	}
}

/* The packet an ICMP error quotes, as a bare IPv4 packet. */
static int build_quoted(struct harness *h, const struct ct_tuple *x, uint8_t *q,
			size_t cap)
{
	static const uint8_t opts[4] = { IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP,
					 IP4_OPT_EOL };
	struct frame_desc d;
	uint32_t r = below(h, 100);

	frame_desc_from_tuple(&d, x);
	d.ip_id = (uint16_t)rnd(h);
	if (chance(h, 8)) {
		d.ip4_opts = opts;
		d.ip4_opts_len = sizeof(opts);
	}
	if (r < 3) {
		d.proto = 47;	/* GRE: no ports */
		d.l4_raw = true;
		set_payload(h, &d, 32);
	} else if (r < 6) {
		d.ip4_frag = (uint16_t)(3 + below(h, 100));	/* non-first */
		d.l4_raw = true;
		set_payload(h, &d, 32);
	} else if (d.proto == IPPROTO_NUM_TCP) {
		d.tcp_flags = TCP_ACK;
		d.seq = (uint32_t)rnd(h);
		d.ack = (uint32_t)rnd(h);
		set_payload(h, &d, 32);
	} else if (d.proto == IPPROTO_NUM_UDP) {
		d.udp_no_csum = chance(h, 15);
		set_payload(h, &d, 32);
	} else {
		d.icmp_type = chance(h, 70) ? ICMP_ECHO : ICMP_ECHOREPLY;
		d.icmp_seq = (uint16_t)rnd(h);
		set_payload(h, &d, 32);
	}
	return frame_build(&d, true, q, cap);
}

static void gen_error(struct harness *h, enum nat_side side)
{
	static const uint8_t types[][2] = {
		{ ICMP_DEST_UNREACH, ICMP_PORT_UNREACH },
		{ ICMP_DEST_UNREACH, ICMP_HOST_UNREACH },
		{ ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED },
		{ ICMP_TIME_EXCEEDED, 0 },
		{ ICMP_PARAMETERPROB, 0 },
		{ ICMP_SOURCE_QUENCH, 0 },
		{ ICMP_REDIRECT, 1 },
	};
	static const uint16_t cuts[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 18, 20 };
	const struct nat_ref_flow *f = pick_flow(h);
	uint8_t q[BUF_CAP], buf[BUF_CAP];
	uint32_t saddr, daddr, rest = 0;
	unsigned int t = below(h, ARRAY_SIZE(types));
	struct ct_tuple x;
	size_t qlen, hl;
	int len;

	if (f && chance(h, 90)) {
		enum ct_dir e = chance(h, 50) ? CT_DIR_ORIG : CT_DIR_REPLY;

		if (nat_ref_from_side((enum nat_ref_kind)f->kind, e) != side &&
		    chance(h, 85))
			e = (enum ct_dir)!e;
		x = ct_tuple_invert(&f->tuple[e]);
	} else {
		memset(&x, 0, sizeof(x));
		x.saddr = chance(h, 50) ? ext_addr(h) : inside_host(h);
		x.daddr = remote_host(h);
		x.proto = pick_proto(h);
		x.sport = x.proto == IPPROTO_NUM_ICMP ? icmp_id(h) : inside_port(h);
		x.dport = x.proto == IPPROTO_NUM_ICMP ? x.sport : remote_port(h);
	}
	len = build_quoted(h, &x, q, sizeof(q));
	if (len < 0)
		fail_gen("quote", len);
	hl = (size_t)(q[0] & 0x0fu) * 4u;
	qlen = (size_t)len;
	if (chance(h, 60))
		qlen = MIN(qlen, hl + cuts[below(h, ARRAY_SIZE(cuts))]);

	saddr = chance(h, 70) ? x.daddr
			      : side == NAT_OUTSIDE ? IP4(192, 0, 2, 1) : IP4(10, 0, 2, 1);
	daddr = chance(h, 92) ? x.saddr : side == NAT_OUTSIDE ? ext_addr(h)
							      : inside_host(h);
	if (types[t][0] == ICMP_DEST_UNREACH && types[t][1] == ICMP_FRAG_NEEDED)
		rest = 1400;
	else if (types[t][0] == ICMP_REDIRECT)
		rest = ntohl(IP4(192, 0, 2, 254));
	len = frame_icmp_error(saddr, daddr, types[t][0], types[t][1], rest, q,
			       qlen, buf, sizeof(buf));
	if (len < 0)
		fail_gen("icmp error", len);
	emit_raw(h, buf, (size_t)len, side, 0);
}

static void gen_later_fragment(struct harness *h)
{
	uint8_t buf[BUF_CAP];
	struct frame_desc d;
	enum nat_side side;
	unsigned int units;
	int len;

	memset(&d, 0, sizeof(d));
	if (h->n_frags && chance(h, 90)) {
		/* Mostly one of the last few first fragments. */
		unsigned int back = 1 + below(h, chance(h, 70) ? MIN(h->n_frags, 4u)
								: h->n_frags);
		const struct frag_rec *fr =
			&h->frags[(h->frag_next + FRAG_RING - back) % FRAG_RING];

		d.saddr = fr->saddr;
		d.daddr = fr->daddr;
		d.ip_id = fr->id;
		d.proto = fr->proto;
		side = (enum nat_side)fr->side;
		if (chance(h, 6))
			side = side == NAT_INSIDE ? NAT_OUTSIDE : NAT_INSIDE;
	} else {
		d.saddr = chance(h, 50) ? inside_host(h) : remote_host(h);
		d.daddr = chance(h, 50) ? ext_addr(h) : remote_host(h);
		d.ip_id = (uint16_t)rnd(h);
		d.proto = pick_proto(h);
		side = chance(h, 50) ? NAT_INSIDE : NAT_OUTSIDE;
	}
	/* Offset 8 bytes would overlap a TCP header: RFC 1858, parse drops it. */
	units = 2 + below(h, 180);
	d.l4_raw = true;
	d.payload_len = 8 * (size_t)(1 + below(h, 8));
	d.payload = payload(h, d.payload_len);
	d.ip4_frag = (uint16_t)((chance(h, 50) ? IP4_FLAG_MF : 0) | units);
	len = frame_build(&d, false, buf, sizeof(buf));
	if (len < 0)
		fail_gen("fragment", len);
	emit_raw(h, buf, (size_t)len, side, 0);
}

/* Not IPv4, other protocols, ICMP types the NAT does not translate. */
static void gen_other(struct harness *h)
{
	static const uint8_t mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 9 };
	enum nat_side side = chance(h, 50) ? NAT_INSIDE : NAT_OUTSIDE;
	uint8_t buf[BUF_CAP];
	struct frame_desc d;
	struct pkt_spec s;
	uint32_t r = below(h, 100);
	int len;

	memset(&d, 0, sizeof(d));
	d.saddr = side == NAT_INSIDE ? inside_host(h) : remote_host(h);
	d.daddr = side == NAT_INSIDE ? remote_host(h) : ext_addr(h);
	if (r < 20) {
		memset(&s, 0, sizeof(s));
		s.ip6 = true;
		s.src6[0] = 0xfd;
		s.dst6[0] = 0x20;
		s.proto = IPPROTO_NUM_UDP;
		s.sport = 1000;
		s.dport = 53;
		len = pkt_build(&s, buf, sizeof(buf));
	} else if (r < 35) {
		len = pkt_build_arp(buf, sizeof(buf), 1, mac, mac, d.saddr, mac,
				    d.daddr);
	} else if (r < 55) {
		d.proto = 47;
		d.l4_raw = true;
		set_payload(h, &d, 40);
		len = frame_build(&d, false, buf, sizeof(buf));
	} else {
		d.proto = IPPROTO_NUM_ICMP;
		d.icmp_type = r < 80 ? ICMP_TIMESTAMP : ICMP_ECHOREPLY;
		d.sport = icmp_id(h);
		set_payload(h, &d, 20);
		len = frame_build(&d, false, buf, sizeof(buf));
	}
	if (len < 0)
		fail_gen("other", len);
	emit_raw(h, buf, (size_t)len, side, 0);
}

static void gen_one(struct harness *h)
{
	uint32_t r = below(h, 100);

	/*
	 * A quarter of the time mostly known flows talk: they get replied
	 * until the table is full of replied flows and new ones are refused
	 * (table_full) instead of early-dropping.
	 */
	if ((h->packets / 1000) % 4 == 3 && chance(h, 97)) {
		gen_flow_pkt(h);
		return;
	}

	if (r < 22) {
		gen_new_out(h);
	} else if (r < 54) {
		gen_flow_pkt(h);
	} else if (r < 61) {
		gen_unsolicited(h);
	} else if (r < 66) {
		gen_hairpin(h);
	} else if (r < 71) {
		gen_forward(h);
	} else if (r < 78) {
		gen_error(h, NAT_OUTSIDE);
	} else if (r < 82) {
		gen_error(h, NAT_INSIDE);
	} else if (r < 88) {
		/* First fragments, sometimes a burst: of known flows or new ones. */
		unsigned int k = chance(h, 25) ? 2 + below(h, 6) : 1;

		h->mk_frag = true;
		while (k--) {
			if (chance(h, 60))
				gen_flow_pkt(h);
			else if (chance(h, 70))
				gen_new_out(h);
			else
				gen_unsolicited(h);
		}
		h->mk_frag = false;
		/* Its next fragment in the same batch sometimes. */
		if (chance(h, 30))
			gen_later_fragment(h);
	} else if (r < 93) {
		gen_later_fragment(h);
	} else if (r < 95) {
		gen_other(h);
	} else {
		/* Reverse traffic of a known flow, the common case again. */
		gen_flow_pkt(h);
	}
}

/* ---- time ---- */

static void advance_time(struct harness *h)
{
	static const uint32_t jumps[] = { 10, 30, 60, 120, 130, 240, 250, 300,
					  7440, 7500 };
	static const uint32_t short_jumps[] = { 2, 3, 4, 5, 6, 8, 10, 15, 40 };
	uint32_t r = below(h, 10000), s;

	if (r < 6500)
		return;
	if (r < 9600) {
		h->now += rnd(h) % (r < 9000 ? NSEC_PER_SEC : 2 * NSEC_PER_SEC);
		return;
	}
	if (r < 9940) {
		h->now += rnd(h) % (20 * NSEC_PER_SEC);
		return;
	}
	if (h->rc->short_to && chance(h, 60))
		s = short_jumps[below(h, ARRAY_SIZE(short_jumps))];
	else
		s = jumps[below(h, ARRAY_SIZE(jumps))];
	/* Exact seconds: a deadline set at the last step lands on now. */
	h->now += (uint64_t)s * NSEC_PER_SEC;
	if (chance(h, 50))
		h->now += rnd(h) % NSEC_PER_SEC;
}

static void collect(struct harness *h)
{
	while (nat_tick_pending(h->nat, h->now))
		nat_tick(h->nat, h->now, 1u << 20);
	nat_ref_collect(h->ref, h->now);
}

/* ---- comparing ---- */

static const char *verdict_name(uint8_t v)
{
	static const char *const names[] = { "DROP", "TO_OUTSIDE", "TO_INSIDE",
					     "LOCAL" };

	return v < ARRAY_SIZE(names) ? names[v] : "INVALID";
}

static const char *side_name(enum nat_side s)
{
	return s == NAT_INSIDE ? "inside" : "outside";
}

/* One line per packet for NAT_DIFF_TRACE. */
static void trace(const struct harness *h, unsigned int i)
{
	const struct pkt_meta *m = &h->meta[i];
	const struct nat_pkt *p = &h->pm[i];
	char s[INET_ADDRSTRLEN] = "-", d[INET_ADDRSTRLEN] = "-";
	uint32_t sa, da;

	if (m->l3 == PKT_L3_IPV4) {
		sa = pkt_ip4_saddr(h->in[i], m);
		da = pkt_ip4_daddr(h->in[i], m);
		inet_ntop(AF_INET, &sa, s, sizeof(s));
		inet_ntop(AF_INET, &da, d, sizeof(d));
	}
	fprintf(stderr,
		"#%llu t=%llu.%09llu %s p%u %s:%u > %s:%u fl=%#x tcp=%#x icmp=%u"
		" frag=%#x/%u -> %s %s (flows %u)\n",
		(unsigned long long)h->packets + i,
		(unsigned long long)(h->now / NSEC_PER_SEC),
		(unsigned long long)(h->now % NSEC_PER_SEC), side_name(h->side),
		m->l4_proto, s, ntohs(m->sport), d, ntohs(m->dport), h->flags[i],
		m->tcp_flags, m->icmp_type, m->flags, m->frag_id,
		verdict_name(p->verdict),
		p->verdict == NAT_V_DROP ? nat_drop_name(p->reason) : "",
		nat_ref_flow_count(h->ref));
}

static void report(const struct harness *h, unsigned int i, const char *what)
{
	const struct nat_pkt *r = &h->pr[i], *m = &h->pm[i];

	fprintf(stderr,
		"\nnat_diff MISMATCH (%s): seed=%#llx run=%s packet=%llu "
		"(%u of a batch of %u from %s) now=%llu flags=%#x\n"
		"  nat:   %s %s\n  model: %s %s\n",
		what, (unsigned long long)h->seed, h->rc->name,
		(unsigned long long)h->packets + i, i + 1, h->n,
		side_name(h->side), (unsigned long long)h->now, h->flags[i],
		verdict_name(r->verdict),
		r->verdict == NAT_V_DROP ? nat_drop_name(r->reason) : "",
		verdict_name(m->verdict),
		m->verdict == NAT_V_DROP ? nat_drop_name(m->reason) : "");
	trace(h, i);
	frame_hexdump("input", h->in[i], h->len[i]);
	frame_hexdump("nat output", h->out_real[i], h->len[i]);
	frame_hexdump("model output", h->out_ref[i], h->len[i]);
	fail_msg("nat_diff: %s at packet %llu (seed %#llx, run %s)", what,
		 (unsigned long long)h->packets + i,
		 (unsigned long long)h->seed, h->rc->name);
}

static void run_batch(struct harness *h)
{
	unsigned int i, passed = 0, fwd;

	for (i = 0; i < h->n; i++) {
		memcpy(h->out_real[i], h->in[i], h->len[i]);
		memcpy(h->out_ref[i], h->in[i], h->len[i]);
		memset(&h->pr[i], 0, sizeof(h->pr[i]));
		h->pr[i].frame = h->out_real[i];
		h->pr[i].meta = h->meta[i];
		h->pr[i].flags = h->flags[i];
		h->pm[i] = h->pr[i];
		h->pm[i].frame = h->out_ref[i];
	}
	/* The model first: a trace then shows the packet an abort stopped at. */
	for (i = 0; i < h->n; i++) {
		nat_ref_process(h->ref, &h->pm[i], h->side, h->now);
		if (h->trace_from && h->packets + i >= h->trace_from)
			trace(h, i);
	}
	fwd = nat_process(h->nat, h->pr, h->n, h->side, h->now);
	for (i = 0; i < h->n; i++) {
		const struct nat_pkt *r = &h->pr[i], *m = &h->pm[i];

		if (r->verdict != m->verdict)
			report(h, i, "verdict");
		if (r->verdict == NAT_V_DROP && r->reason != m->reason)
			report(h, i, "drop reason");
		if ((r->verdict == NAT_V_TO_INSIDE || r->verdict == NAT_V_TO_OUTSIDE) &&
		    memcmp(h->out_real[i], h->out_ref[i], h->len[i]) != 0)
			report(h, i, "output frame");
		/* Common-mode errors: what both agree on must still verify. */
		if (m->verdict == NAT_V_TO_INSIDE || m->verdict == NAT_V_TO_OUTSIDE)
			if (!frame_csums_ok(h->out_ref[i], &h->meta[i], h->flags[i]))
				report(h, i, "checksums of the output");
		passed += r->verdict != NAT_V_DROP;
		h->verdicts[m->verdict & 3]++;
		if (m->verdict == NAT_V_DROP)
			h->reasons[m->reason % NAT_DROP__MAX]++;
	}
	if (fwd != passed)
		fail_msg("nat_process() returned %u, %u packets passed", fwd, passed);
	if (ct_count(nat_ct(h->nat)) != nat_ref_flow_count(h->ref)) {
		fprintf(stderr, "after packet %llu: nat has %u flows, model %u\n",
			(unsigned long long)(h->packets + h->n - 1),
			ct_count(nat_ct(h->nat)), nat_ref_flow_count(h->ref));
		report(h, h->n - 1, "flow count");
	}
}

/* nat_verify(), and the counters both keep by the specification. */
static void verify(struct harness *h)
{
	const struct nat_ref_stats *rs = nat_ref_get_stats(h->ref);
	uint64_t ed = ct_get_stats(nat_ct(h->nat))->early_drops;
	uint64_t rc = ct_get_stats(nat_ct(h->nat))->reclaimed;
	uint64_t fe = nat_get_stats(h->nat)->frag_evicted;
	char why[256] = "";

	if (nat_verify(h->nat, why, sizeof(why)) != 0)
		fail_msg("nat_verify after packet %llu (seed %#llx, run %s): %s",
			 (unsigned long long)h->packets,
			 (unsigned long long)h->seed, h->rc->name, why);
	if (rc != rs->reclaimed)
		fail_msg("after packet %llu (seed %#llx, run %s): reclaimed %llu, "
			 "model %llu", (unsigned long long)h->packets,
			 (unsigned long long)h->seed, h->rc->name,
			 (unsigned long long)rc, (unsigned long long)rs->reclaimed);
	if (ed != rs->early_drops || fe != rs->frag_evicted)
		fail_msg("after packet %llu (seed %#llx, run %s): early drops %llu, "
			 "model %llu; frag_evicted %llu, model %llu",
			 (unsigned long long)h->packets,
			 (unsigned long long)h->seed, h->rc->name,
			 (unsigned long long)ed,
			 (unsigned long long)rs->early_drops,
			 (unsigned long long)fe,
			 (unsigned long long)rs->frag_evicted);
}

/* ---- runs ---- */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void short_timeouts(struct ct_timeouts *t)
{
	t->sec[CT_TO_TCP_ESTABLISHED] = 40;
	t->sec[CT_TO_TCP_TRANSITORY] = 8;
	t->sec[CT_TO_TCP_TIME_WAIT] = 4;
	t->sec[CT_TO_TCP_CLOSE] = 2;
	t->sec[CT_TO_UDP_UNREPLIED] = 6;
	t->sec[CT_TO_UDP_ASSURED] = 15;
	t->sec[CT_TO_ICMP] = 5;
}

/* Same forwards and redirects, and the same refusals, on both. */
static void add_forwards(struct harness *h)
{
	const struct nat_redirect rd[] = {
		{ IPPROTO_NUM_TCP, REDIRECT_ADDR, 53, IP4(198, 51, 100, 1), 53 },
		{ IPPROTO_NUM_UDP, REDIRECT_ADDR, 53, IP4(198, 51, 100, 2), 5353 },
		{ IPPROTO_NUM_TCP, REDIRECT_ADDR, 80, IP4(10, 0, 2, 3), 8080 },
		/* wildcards: every other port, kept or made one */
		{ IPPROTO_NUM_TCP, REDIRECT_ADDR, 0, IP4(198, 51, 100, 4), 0 },
		{ IPPROTO_NUM_UDP, REDIRECT_ADDR, 0, IP4(198, 51, 100, 4), 7 },
		/* refused: taken, bad protocol, an external address */
		{ IPPROTO_NUM_TCP, REDIRECT_ADDR, 53, IP4(198, 51, 100, 3), 53 },
		{ IPPROTO_NUM_UDP, REDIRECT_ADDR, 0, IP4(198, 51, 100, 3), 0 },
		{ IPPROTO_NUM_ICMP, REDIRECT_ADDR, 53, IP4(198, 51, 100, 3), 53 },
		{ IPPROTO_NUM_UDP, REDIRECT_ADDR, 443, IP4(203, 0, 113, 1), 443 },
	};

	uint16_t base = h->port_min;
	const struct nat_forward cand[] = {
		{ IPPROTO_NUM_TCP, 0, 8080, IP4(10, 0, 2, 5), 80 },
		{ IPPROTO_NUM_UDP, IP4(203, 0, 113, 2), (uint16_t)(base + 5),
		  IP4(10, 0, 2, 6), 53 },
		{ IPPROTO_NUM_TCP, IP4(203, 0, 113, 1), (uint16_t)(base + 30),
		  IP4(10, 0, 2, 7), 22 },
		/* refused: taken, bad protocol, port 0, not an external address */
		{ IPPROTO_NUM_TCP, IP4(203, 0, 113, 1), 8080, IP4(10, 0, 2, 8), 80 },
		{ IPPROTO_NUM_ICMP, 0, 7, IP4(10, 0, 2, 8), 7 },
		{ IPPROTO_NUM_UDP, 0, 0, IP4(10, 0, 2, 8), 53 },
		{ IPPROTO_NUM_UDP, IP4(198, 51, 100, 1), 53, IP4(10, 0, 2, 8), 53 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cand); i++) {
		int a = nat_add_forward(h->nat, &cand[i]);
		int b = nat_ref_add_forward(h->ref, &cand[i]);

		if (a != b)
			fail_msg("forward %u: nat_add_forward %d, model %d", i, a, b);
		if (a == 0 && h->n_fwd < ARRAY_SIZE(h->fwd))
			h->fwd[h->n_fwd++] = cand[i];
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(rd); i++) {
		int a = nat_add_redirect(h->nat, &rd[i]);
		int b = nat_ref_add_redirect(h->ref, &rd[i]);

		if (a != b)
			fail_msg("redirect %u: nat_add_redirect %d, model %d", i, a, b);
	}
}

/* What the run covered, so that a change to the generator is seen. */
static void summary(const struct harness *h)
{
	const struct nat_stats *ns = nat_get_stats(h->nat);

	fprintf(stderr, "  out %llu, in %llu, local %llu, dropped %llu; early drops %llu,"
		" reclaimed %llu, frag evictions %llu, icmp errors %llu, fragments %llu,"
		" hairpin %llu, redirects %llu\n  drops:",
		(unsigned long long)h->verdicts[NAT_V_TO_OUTSIDE],
		(unsigned long long)h->verdicts[NAT_V_TO_INSIDE],
		(unsigned long long)h->verdicts[NAT_V_LOCAL],
		(unsigned long long)h->verdicts[NAT_V_DROP],
		(unsigned long long)nat_ref_get_stats(h->ref)->early_drops,
		(unsigned long long)nat_ref_get_stats(h->ref)->reclaimed,
		(unsigned long long)nat_ref_get_stats(h->ref)->frag_evicted,
		(unsigned long long)ns->icmp_errors, (unsigned long long)ns->fragments,
		(unsigned long long)ns->hairpin, (unsigned long long)ns->redirects);
	for (unsigned int r = 1; r < NAT_DROP__MAX; r++) {
		if (h->reasons[r])
			fprintf(stderr, " %s=%llu", nat_drop_name((enum nat_drop)r),
				(unsigned long long)h->reasons[r]);
	}
	fputc('\n', stderr);
}

static void run_one(void **state)
{
	const struct run_cfg *rc = *state;
	unsigned int idx = (unsigned int)(rc - runs);
	struct siphash_key key = { { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL } };
	uint64_t total = env_u64("NAT_DIFF_EVENTS", DIFF_EVENTS);
	uint64_t events = (total + ARRAY_SIZE(runs) - 1) / ARRAY_SIZE(runs);
	uint64_t next_verify = VERIFY_EVERY;
	struct nat_config cfg;
	struct harness *h;
	const char *only;

	only = getenv("NAT_DIFF_RUN");
	if (only && *only && strcmp(only, rc->name) != 0)
		skip();
	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->rc = rc;
	h->seed = env_u64("NAT_DIFF_SEED", DIFF_SEED);
	h->rng = h->seed + (idx + 1) * 0x9e3779b97f4a7c15ULL;
	h->rng = nat_rng_next(&h->rng) | 1;	/* any mixer; xorshift needs != 0 */
	h->trace_from = env_u64("NAT_DIFF_TRACE", 0);
	h->port_min = rc->port_min ? rc->port_min : NAT_DEFAULT_PORT_MIN;
	h->port_max = rc->port_max ? rc->port_max : NAT_DEFAULT_PORT_MAX;
	h->ext[0] = IP4(203, 0, 113, 1);
	h->ext[1] = IP4(203, 0, 113, 2);
	h->now = 1000 * NSEC_PER_SEC + rnd(h) % NSEC_PER_SEC;
	for (unsigned int i = 0; i < PAYLOAD_POOL; i++)
		h->payload[i] = (uint8_t)rnd(h);

	memset(&cfg, 0, sizeof(cfg));
	cfg.ext_addrs[0] = h->ext[0];
	cfg.ext_addrs[1] = h->ext[1];
	cfg.n_ext_addrs = rc->n_ext;
	cfg.port_min = rc->port_min;
	cfg.port_max = rc->port_max;
	cfg.filtering = rc->filtering;
	cfg.max_flows = rc->max_flows;
	if (rc->short_to)
		short_timeouts(&cfg.timeouts);
	cfg.allow_short_udp = rc->short_to;
	cfg.frag_max = rc->frag_max;
	cfg.frag_timeout = rc->frag_to;
	cfg.seed = rnd(h) | 1;
	cfg.key = &key;
	/* Two of the four remotes reach forwards as the redirects' address
	 * (as the host's loopback reaches them as the gateway). */
	cfg.inbound_alias = (struct nat_alias){ IP4(198, 51, 100, 2),
						IP4(255, 255, 255, 254),
						REDIRECT_ADDR };
	assert_int_equal(nat_create(&h->nat, &cfg), 0);
	assert_int_equal(nat_ref_create(&h->ref, &cfg), 0);
	add_forwards(h);

	fprintf(stderr, "nat_diff: run %s seed=%#llx packets=%llu\n", rc->name,
		(unsigned long long)h->seed, (unsigned long long)events);
	while (h->packets < events) {
		unsigned int want = chance(h, 5) ? 2 + below(h, BATCH - 1) : 1;

		advance_time(h);
		collect(h);
		h->n = 0;
		for (unsigned int tries = 0; h->n < want && tries < 4 * want; tries++)
			gen_one(h);
		if (!h->n)
			continue;
		run_batch(h);
		h->packets += h->n;
		if (h->packets >= next_verify) {
			verify(h);
			next_verify += VERIFY_EVERY;
		}
	}
	verify(h);

	summary(h);
	nat_destroy(h->nat);
	nat_ref_destroy(h->ref);
	free(h);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(runs)];

	for (unsigned int i = 0; i < ARRAY_SIZE(runs); i++) {
		tests[i] = (struct CMUnitTest){
			.name = runs[i].name,
			.test_func = run_one,
			.initial_state = (void *)&runs[i],
		};
	}
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
