// SPDX-License-Identifier: MIT
/*
 * fuzz_nat.c - libFuzzer harness for the NAT engine: one NAT per input, a
 * stream of frames from both sides with time passing, and the engine's
 * invariants checked after every step (a batch through nat_process(), then
 * one nat_tick() slice).
 *
 * Input (multi-byte fields little-endian; tools/gen_corpus.c writes seeds):
 *   header, 4 bytes:
 *     h0  bits 0-1 filtering (0 APDF, 1 ADF, 2 EIF, 3 APDF); bit 2 external
 *         addresses 203.0.113.1 and .2 (else .1); bit 3 verify IPv4 header
 *         checksums (else PKT_PARSE_NO_IP4_CSUM); bit 4 forward TCP
 *         ext1:8080 (bit 7: ext1:port_min) -> 10.0.0.2:80; bit 5 forward
 *         UDP ext2:5353 -> 10.0.0.3:53; bit 6 L3 frames (PKT_PARSE_L3).
 *         Always: a redirect of TCP to 10.0.0.1:53 to 198.51.100.1:53 (as
 *         the gateway does with DNS over TCP to its own address), wildcard
 *         redirects of every other TCP and UDP port of 10.0.0.1 to the
 *         same port of 198.51.100.2 (the socket uplink's gateway to the
 *         host's loopback), and the inbound alias 198.51.100.2/31 ->
 *         10.0.0.1 (a loopback client of a forward seen as the gateway)
 *     h1  bits 0-1 max_flows 8 << n; bits 2-4 port_min, bits 5-7 range
 *         width, from small pools (narrow ranges exhaust)
 *     h2  bits 0-2 timeout scale; bits 3-5 fragment timeout - 1 s; bit 6 a
 *         2-entry fragment table; bit 7 the default timeouts
 *     h3  port-choice seed and start time
 *   records, at most MAX_RECORDS: ctl, length (2 bytes, clamped), body.
 *     ctl  bit 0 side (kinds 3 and 5: flip the natural side); bits 1-3
 *          time step before it (steps[]); bit 4 join the pending batch
 *          (same side, no time step); bit 5 NAT_PKT_CSUM_PARTIAL (a template
 *          gets the pseudo-header sum); bit 6 raw frame, else a template
 *          (a raw frame of no bytes: the header's forwards toggled, the
 *          present ones removed and the removed ones added again, as
 *          the control socket's forward-delete and forward-add do);
 *          bit 7 a large nat_tick() budget after the batch (else 2)
 *     template (missing bytes read as 0):
 *       t0  kind (bits 0-2), k (3-4), v (5-7). Kinds: 0 TCP, 1 UDP, 2 ICMP
 *           echo (v0: reply), 3 ICMP error quoting the k-th latest output
 *           (v0: source from the pool, v1: whole packet, v2: destination
 *           from the pool), 4 non-first fragment of protocol v, 5 reply to
 *           the k-th latest output (v0: seq/ack follow it, v1: other echo
 *           type, v2: same direction), 6 IP protocol t3 (v0: ICMP type t3),
 *           7 as 3, quoting only the IP header and t6 & 7 bytes
 *       t1  source (low nibble), destination (high): address pool
 *       t2  source, destination port: port pool (with two learnt ports)
 *       t3  TCP flags / ICMP error type selector / IP protocol
 *       t4 t5  seq, ack: base (2 bits) + offset (6 bits); t6 payload length
 *       t7  bits: 0 MF, 1 DF, 2 wscale, 3 SACK-permitted, 4 MSS and
 *           timestamps, 5 IPv4 options, 6 VLAN tag, 7 UDP without checksum
 *       t8 t9  IP id;  t10  window (high nibble), wscale (low nibble)
 *
 * Checks, after every step: nat_verify(); verdicts; dropped and local frames
 * untouched; forwarded ones parse as before, changed only in addresses,
 * ports, ids and checksums, valid checksums still valid; input and output
 * tuples on one flow; ICMP errors as docs/nat.md section 7 says; sources
 * sent out external, destinations sent in not (ICMP errors included);
 * counters; the timer wheel; at
 * the end an empty table. FUZZ_NAT_TRACE=1 prints every verdict.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "core/clock.h"
#include "core/siphash.h"
#include "ct/table.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

const char *__asan_default_options(void);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_MAX	2048
#define BATCH_MAX	8
#define MAX_RECORDS	48
#define N_RECENT	4
#define QUOTE_MAX	576
#define VERIFY_EVERY	8
#define SEC		NSEC_PER_SEC

#define FAIL(...) \
	(fprintf(stderr, "fuzz_nat: " __VA_ARGS__), fputc('\n', stderr), abort())
#define CHECK(c) ((c) ? (void)0 : FAIL("line %d: %s", __LINE__, #c))

/* A forwarded frame that later templates may answer or quote. */
struct recent {
	uint8_t buf[FRAME_MAX];
	struct pkt_meta m;
	enum nat_side at;	/* the side it was sent to */
};

struct slot {
	uint8_t orig[FRAME_MAX];	/* the frame as handed in */
	size_t len;
	const struct ct_entry *err_flow; /* ICMP error: its flow, before */
	uint64_t err_deadline;
};

struct fz {
	struct nat *nat;
	uint32_t ext[2];
	unsigned int n_ext, n_fwd, pflags, budget, quiet, n;
	bool l3, tainted;
	uint16_t pmin, pmax, learnt[2];
	uint64_t now, max_to_ns, sig;
	uint64_t processed, dropped, forwarded, local;
	enum nat_side side;
	unsigned int n_recent, recent_next;
	struct nat_forward fwd[2];	/* the header's forwards */
	bool fwd_on[2];			/* in the NAT now */
	unsigned int n_cfg_fwd;
	struct nat_pkt pkts[BATCH_MAX];
	struct slot slots[BATCH_MAX];
	struct recent recent[N_RECENT];
};

static struct fz fz;
static bool trace;

static const uint64_t steps[8] = {
	0, NSEC_PER_MSEC, 250 * NSEC_PER_MSEC, 1100 * NSEC_PER_MSEC,
	4 * SEC, 20 * SEC, 150 * SEC, 4ULL * 3600 * SEC,
};

static const struct siphash_key fz_key = { { 0x0706050403020100ULL,
					     0x0f0e0d0c0b0a0908ULL } };

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool is_ext(const struct fz *z, uint32_t a)
{
	return a == z->ext[0] || (z->n_ext == 2 && a == z->ext[1]);
}

static uint32_t pool_addr(unsigned int i)
{
	static const uint32_t a[16] = {
		0x0a000001, 0x0a000002, 0x0a000003, 0x0a000004, /* inside */
		0xc6336401, 0xc6336402, 0xc6336403, 0xc00002fe, /* outside */
		0xcb007101, 0xcb007102, 0xcb007103,		/* ext, not ext */
		0, 0xffffffff, 0xe0000001, 0x7f000001, 0x0a0000ff,
	};

	return htonl(a[i & 15]);
}

/* Port pool, host order: the range's ends, common ports, learnt ones. */
static uint16_t pool_port(const struct fz *z, unsigned int i)
{
	const uint16_t p[16] = { z->pmin, (uint16_t)(z->pmin + 1), z->pmax, 80,
				 53, 443, 1023, 1024, 40000, 40001, 8080, 5353,
				 0, 65535, z->learnt[0], z->learnt[1] };

	return p[i & 15];
}

static uint32_t seq_code(uint8_t c)
{
	static const uint32_t base[4] = { 0x1000, 0x7000, 0xffffffe0, 0x80000000 };

	return base[c >> 6] + (c & 63u);
}

static const struct recent *recent_at(const struct fz *z, unsigned int k)
{
	if (k >= z->n_recent)
		return NULL;
	return &z->recent[(z->recent_next + N_RECENT - 1 - k) % N_RECENT];
}

static void base_spec(const struct fz *z, struct pkt_spec *s, const uint8_t *t)
{
	static const uint8_t opts[4] = { IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP,
					 IP4_OPT_EOL };
	static const uint8_t payload[256] = "abcdefghijklmnopqrstuvwxyz";

	memset(s, 0, sizeof(*s));
	s->no_eth = z->l3;
	memcpy(s->eth_dst, "\x02\xab\xcd\x00\x00\x01", ETH_ALEN);
	memcpy(s->eth_src, "\x52\x54\x00\x12\x34\x56", ETH_ALEN);
	s->vlan = !z->l3 && (t[7] & 0x40);
	s->vlan_tci = 5;
	s->src4 = pool_addr(t[1]);
	s->dst4 = pool_addr(t[1] >> 4);
	s->sport = pool_port(z, t[2]);
	s->dport = pool_port(z, t[2] >> 4);
	s->ip_id = (uint16_t)(t[8] | t[9] << 8);
	s->ip4_frag = (uint16_t)((t[7] & 1 ? IP4_FLAG_MF : 0) |
				 (t[7] & 2 ? IP4_FLAG_DF : 0));
	if (t[7] & 0x20) {
		s->ip4_opts = opts;
		s->ip4_opts_len = sizeof(opts);
	}
	s->payload = payload;
	s->payload_len = t[6];
	s->udp_no_csum = t[7] & 0x80;
	s->seq = seq_code(t[4]);
	s->ack = seq_code(t[5]);
	s->tcp_flags = t[3];
	s->window = (uint16_t)((t[10] & 0xf0) << 8);
	s->has_wscale = t[7] & 4;
	s->wscale = t[10] & 15;
	s->sack_perm = t[7] & 8;
	if (t[7] & 0x10) {
		s->mss = 1460;
		s->has_ts = true;
		s->tsval = s->seq;
	}
}

/* Turn @s into an ICMP error quoting the IP packet @q (@qlen bytes): all of
 * it (@mode 2), its header and 8 bytes (1), or its header and @mode - 2. */
static void set_error(struct pkt_spec *s, uint8_t sel, const uint8_t *q,
		      size_t qlen, unsigned int mode)
{
	static const uint8_t tc[8][2] = {
		{ ICMP_DEST_UNREACH, ICMP_PORT_UNREACH },
		{ ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED },
		{ ICMP_DEST_UNREACH, ICMP_HOST_UNREACH },
		{ ICMP_TIME_EXCEEDED, 0 }, { ICMP_PARAMETERPROB, 0 },
		{ ICMP_SOURCE_QUENCH, 0 }, { ICMP_REDIRECT, 1 },
		{ ICMP_DEST_UNREACH, ICMP_ADMIN_PROHIBITED },
	};
	size_t n = mode == 2 ? qlen : (size_t)(q[0] & 15u) * 4u +
				      (mode == 1 ? 8u : mode - 2u);

	s->proto = IPPROTO_NUM_ICMP;
	s->ip4_frag &= (uint16_t)~IP4_FLAG_MF;
	s->icmp_type = tc[sel & 7][0];
	s->icmp_code = tc[sel & 7][1];
	s->icmp_id = 0;
	s->icmp_seq = (sel & 7) == 1 ? 1400 : 0;
	s->payload = q;
	s->payload_len = MIN(MIN(n, qlen), (size_t)QUOTE_MAX);
}

/* Kind 5: what a peer would send back to a recent output. */
static bool reply_spec(struct pkt_spec *s, const struct recent *r, unsigned int v)
{
	const struct pkt_meta *m = &r->m;
	const uint8_t *l4 = r->buf + m->l4_off;
	bool same = v & 4;

	if (!(m->flags & PKT_F_L4) || (m->flags & PKT_F_ICMP_ERROR))
		return false;
	s->proto = m->l4_proto;
	s->src4 = same ? pkt_ip4_saddr(r->buf, m) : pkt_ip4_daddr(r->buf, m);
	s->dst4 = same ? pkt_ip4_daddr(r->buf, m) : pkt_ip4_saddr(r->buf, m);
	s->sport = ntohs(same ? m->sport : m->dport);
	s->dport = ntohs(same ? m->dport : m->sport);
	s->ip4_frag &= (uint16_t)~IP4_FLAG_MF;
	if (m->l4_proto == IPPROTO_NUM_ICMP) {
		bool req = m->icmp_type == ICMP_ECHO;

		s->icmp_type = req != !(v & 2) ? ICMP_ECHO : ICMP_ECHOREPLY;
		s->icmp_id = ntohs(m->sport);
		s->icmp_seq = ntohs(rd16(l4 + 6));
	} else if (m->l4_proto == IPPROTO_NUM_TCP && (v & 1)) {
		uint32_t len = pkt_payload_len(m);

		len += (m->tcp_flags & TCP_SYN ? 1u : 0u) +
		       (m->tcp_flags & TCP_FIN ? 1u : 0u);
		if (m->tcp_flags & TCP_ACK)
			s->seq = ntohl(rd32(l4 + 8));
		s->ack = ntohl(rd32(l4 + 4)) + len;
	}
	return true;
}

static int build_template(const struct fz *z, const uint8_t *body, size_t n,
			  uint8_t ctl, uint8_t *buf, enum nat_side *side)
{
	static const uint8_t fproto[4] = { IPPROTO_NUM_TCP, IPPROTO_NUM_UDP,
					   IPPROTO_NUM_ICMP, 47 };
	uint8_t t[11] = { 0 }, quote[FRAME_MAX];
	const struct recent *r;
	struct pkt_spec s;
	unsigned int v;

	memcpy(t, body, MIN(n, sizeof(t)));
	v = t[0] >> 5;
	r = recent_at(z, (t[0] >> 3) & 3);
	base_spec(z, &s, t);
	switch (t[0] & 7) {
	case 0:
		s.proto = IPPROTO_NUM_TCP;
		break;
	case 1:
		s.proto = IPPROTO_NUM_UDP;
		break;
	case 2:
		s.proto = IPPROTO_NUM_ICMP;
		s.icmp_type = v & 1 ? ICMP_ECHOREPLY : ICMP_ECHO;
		s.icmp_id = s.sport;
		s.icmp_seq = s.ip_id;
		break;
	case 3:
	case 7:
		if (!r)
			return -1;
		memcpy(quote, r->buf + r->m.l3_off, r->m.l3_len);
		if (!(v & 1))
			s.src4 = pkt_ip4_daddr(r->buf, &r->m);
		if (!(v & 4))
			s.dst4 = pkt_ip4_saddr(r->buf, &r->m);
		set_error(&s, t[3], quote, r->m.l3_len,
			  (t[0] & 7) == 7 ? 2u + (t[6] & 7u) : 1u + !!(v & 2));
		*side = (enum nat_side)((unsigned int)r->at ^ (ctl & 1u));
		break;
	case 4:
		s.proto = fproto[v & 3];
		s.l4_raw = true;
		s.ip4_frag = (uint16_t)((s.ip4_frag & IP4_FLAG_MF) | 1u | (t[4] & 0x1f));
		break;
	case 5:
		if (!r || !reply_spec(&s, r, v))
			return -1;
		*side = (enum nat_side)((unsigned int)r->at ^ (ctl & 1u));
		break;
	default:
		s.proto = v & 1 ? IPPROTO_NUM_ICMP : t[3];
		s.icmp_type = t[3];
		s.l4_raw = !(v & 1);
		break;
	}
	return pkt_build(&s, buf, FRAME_MAX);
}

/* A CHECKSUM_PARTIAL packet's L4 field: the pseudo-header sum (ICMP: 0). */
static void make_partial(uint8_t *f, const struct pkt_meta *m)
{
	uint16_t c = 0, len = (uint16_t)m->l4_len;
	size_t off = m->l4_off + 2u;

	if (!(m->flags & PKT_F_L4) || (m->flags & (PKT_F_FRAG | PKT_F_ICMP_ERROR)))
		return;
	if (m->l4_proto == IPPROTO_NUM_UDP) {
		len = ntohs(rd16(f + m->l4_off + 4));
		off = m->l4_off + 6u;
	} else if (m->l4_proto == IPPROTO_NUM_TCP) {
		off = m->l4_off + 16u;
	}
	if (m->l4_proto != IPPROTO_NUM_ICMP)
		c = csum_fold(csum_pseudo_ip4(pkt_ip4_saddr(f, m),
					      pkt_ip4_daddr(f, m), m->l4_proto, len));
	memcpy(f + off, &c, 2);
}

/*
 * The L4 checksum of the IPv4 packet at @ip with @avail bytes present: 1
 * valid, 0 wrong, -1 cannot tell (fragment, cut short, UDP without one,
 * other protocol). @partial: compare with the pseudo-header sum instead.
 */
static int l4_state(const uint8_t *ip, size_t avail, bool partial)
{
	size_t hl = (size_t)(ip[0] & 15u) * 4u, tot = ntohs(rd16(ip + 2));
	const uint8_t *l4 = ip + hl;
	uint8_t proto = ip[9];
	size_t len, off = 16;
	uint32_t sum;
	uint16_t c, want;

	if (tot > avail || tot < hl || (ntohs(rd16(ip + 6)) & 0x3fff))
		return -1;
	len = tot - hl;
	if (proto == IPPROTO_NUM_ICMP)
		return len < 8 || partial ? -1 : csum_finish(csum_partial(l4, len, 0)) == 0;
	if (proto == IPPROTO_NUM_UDP) {
		if (len < 8 || ntohs(rd16(l4 + 4)) < 8 || ntohs(rd16(l4 + 4)) > len ||
		    (!partial && rd16(l4 + 6) == 0))
			return -1;
		len = ntohs(rd16(l4 + 4));
		off = 6;
	} else if (proto != IPPROTO_NUM_TCP || len < 20) {
		return -1;
	}
	sum = csum_pseudo_ip4(rd32(ip + 12), rd32(ip + 16), proto, (uint16_t)len);
	if (!partial)
		return csum_finish(csum_partial(l4, len, sum)) == 0;
	c = rd16(l4 + off);
	want = csum_fold(sum);
	/* 0 and 0xffff are both zero in one's complement. */
	return c == want || ((c == 0 || c == 0xffff) && (want == 0 || want == 0xffff));
}

static bool ip_ok(const uint8_t *ip)
{
	return csum_ip4_header(ip, (size_t)(ip[0] & 15u) * 4u) == 0;
}

static void mark(uint8_t *allow, size_t len, size_t off, size_t n)
{
	for (size_t i = off; i < off + n && i < len; i++)
		allow[i] = 1;
}

/* Only addresses, ports, ids and checksums may change. */
static void check_changes(const struct slot *sl, const struct pkt_meta *m,
			  const uint8_t *out)
{
	static uint8_t allow[FRAME_MAX];
	const struct pkt_inner *in = &m->inner;
	size_t len = sl->len, l4 = m->l4_off;

	memset(allow, 0, len);
	mark(allow, len, m->l3_off + 10u, 10);
	if ((m->flags & PKT_F_L4) && (m->flags & PKT_F_ICMP_ERROR)) {
		mark(allow, len, l4 + 2, 2);
		mark(allow, len, in->l3_off + 10u, 10);
		if (in->flags & PKT_INNER_ECHO) {
			mark(allow, len, in->l4_off + 2u, 4);
		} else if (in->flags & PKT_INNER_PORTS) {
			mark(allow, len, in->l4_off, 4);
			mark(allow, len, in->l4_off + (in->proto == IPPROTO_NUM_TCP ? 16u : 6u), 2);
		}
	} else if ((m->flags & PKT_F_L4) && m->l4_proto == IPPROTO_NUM_ICMP) {
		mark(allow, len, l4 + 2, 4);
	} else if (m->flags & PKT_F_L4) {
		mark(allow, len, l4, 4);
		mark(allow, len, l4 + (m->l4_proto == IPPROTO_NUM_TCP ? 16u : 6u), 2);
	}
	for (size_t b = 0; b < len; b++) {
		if (!allow[b] && sl->orig[b] != out[b])
			FAIL("byte %zu changed (0x%02x -> 0x%02x)", b, sl->orig[b], out[b]);
	}
}

/* The lookup tuple (docs/nat.md section 2), or X quoted by an ICMP error
 * (section 7) when @inner. */
static bool tuple_of(const uint8_t *f, const struct pkt_meta *m, bool inner,
		     struct ct_tuple *t)
{
	const struct pkt_inner *in = &m->inner;
	uint8_t proto = inner ? in->proto : m->l4_proto;
	size_t ip = inner ? in->l3_off : m->l3_off;

	if (inner ? !(in->flags & PKT_INNER_PORTS) || in->l3 != PKT_L3_IPV4 ||
			    (proto == IPPROTO_NUM_ICMP && !(in->flags & PKT_INNER_ECHO))
		  : !(m->flags & PKT_F_L4) || (m->flags & PKT_F_ICMP_ERROR) ||
			    (proto == IPPROTO_NUM_ICMP && !(m->flags & PKT_F_ICMP_ECHO)))
		return false;
	memset(t, 0, sizeof(*t));
	t->saddr = rd32(f + ip + 12);
	t->daddr = rd32(f + ip + 16);
	t->sport = inner ? in->sport : m->sport;
	t->dport = proto == IPPROTO_NUM_ICMP ? t->sport : inner ? in->dport : m->dport;
	t->proto = proto;
	return true;
}

static void check_error(const struct fz *z, const struct slot *sl,
			const struct pkt_meta *m, const uint8_t *out,
			const struct pkt_meta *m2, bool removed, uint8_t verdict)
{
	size_t iq = m->inner.l3_off, avail = m->len - iq;
	struct ct_tuple x, y, key;
	const struct ct_entry *e;
	uint32_t os, od;
	enum ct_dir d;

	CHECK(tuple_of(sl->orig, m, true, &x) && tuple_of(out, m2, true, &y));
	key = ct_tuple_invert(&x);
	e = ct_find(nat_ct(z->nat), &key, &d);
	if (!e) {
		CHECK(removed);
		return;
	}
	CHECK(ct_tuple_eq(&y, &e->tuple[!d]));
	os = pkt_ip4_saddr(sl->orig, m);
	od = pkt_ip4_daddr(sl->orig, m);
	/* docs/nat.md section 7: addressed to the endpoint; leaving to the
	 * outside, the source is always external. */
	CHECK(od == e->tuple[d].daddr);
	CHECK(pkt_ip4_daddr(out, m2) == e->tuple[!d].saddr);
	CHECK(pkt_ip4_saddr(out, m2) ==
	      ((verdict == NAT_V_TO_OUTSIDE || os == e->tuple[d].saddr)
		       ? e->tuple[!d].daddr : os));
	if (z->n == 1 && sl->err_flow == e)
		CHECK(e->deadline == sl->err_deadline);	/* errors do not refresh */
	CHECK(!ip_ok(sl->orig + iq) || ip_ok(out + iq));
	CHECK(l4_state(sl->orig + iq, avail, false) != 1 ||
	      l4_state(out + iq, avail, false) == 1);
}

static void remember(struct fz *z, const uint8_t *out, size_t len,
		     const struct pkt_meta *m2, enum nat_side at)
{
	struct recent *r = &z->recent[z->recent_next];

	memcpy(r->buf, out, len);
	r->m = *m2;
	r->at = at;
	z->recent_next = (z->recent_next + 1) % N_RECENT;
	z->n_recent = MIN(z->n_recent + 1, (unsigned int)N_RECENT);
	if ((m2->flags & PKT_F_L4) && !(m2->flags & PKT_F_ICMP_ERROR))
		z->learnt[at == NAT_OUTSIDE ? 0 : 1] =
			ntohs(at == NAT_OUTSIDE ? m2->sport : m2->dport);
}

static void check_forwarded(struct fz *z, unsigned int i, bool removed)
{
	const struct slot *sl = &z->slots[i];
	const struct nat_pkt *p = &z->pkts[i];
	const struct pkt_meta *m = &p->meta;
	const uint8_t *in = sl->orig, *out = p->frame;
	const uint8_t *ip_in = in + m->l3_off, *ip_out = out + m->l3_off;
	bool err = m->flags & PKT_F_ICMP_ERROR;
	bool partial = p->flags & NAT_PKT_CSUM_PARTIAL;
	bool whole = (m->flags & PKT_F_L4) && !(m->flags & PKT_F_FRAG);
	size_t avail = m->len - m->l3_off, l4 = m->l4_off;
	struct pkt_meta m2;
	struct ct_tuple a, b;

	if (pkt_parse(out, sl->len, z->pflags, &m2) != PKT_DROP_OK)
		FAIL("packet %u: the output no longer parses", i);
	CHECK(m2.len == m->len && m2.l3_off == m->l3_off && m2.l4_off == m->l4_off &&
	      m2.payload_off == m->payload_off && m2.flags == m->flags &&
	      m2.l4_proto == m->l4_proto && m2.icmp_type == m->icmp_type &&
	      m2.frag_off == m->frag_off && m2.frag_id == m->frag_id &&
	      m2.inner.l4_off == m->inner.l4_off && m2.inner.flags == m->inner.flags);
	check_changes(sl, m, out);
	CHECK(!ip_ok(ip_in) || ip_ok(ip_out));

	if (p->verdict == NAT_V_TO_OUTSIDE)
		CHECK(is_ext(z, pkt_ip4_saddr(out, &m2)));
	if (p->verdict == NAT_V_TO_INSIDE && !z->tainted)
		CHECK(!is_ext(z, pkt_ip4_daddr(out, &m2)));

	/* Checksums that were right stay right (RFC 1624 updates). */
	if (partial && whole && !err && m->l4_proto == IPPROTO_NUM_ICMP)
		CHECK(rd16(in + l4 + 2) == rd16(out + l4 + 2));
	else if (partial && whole && !err)
		CHECK(l4_state(ip_in, avail, true) != 1 || l4_state(ip_out, avail, true) == 1);
	else if (!partial || err)
		CHECK(l4_state(ip_in, avail, false) != 1 ||
		      l4_state(ip_out, avail, false) == 1);
	if ((m->flags & PKT_F_L4) && m->l4_proto == IPPROTO_NUM_UDP && !partial)
		CHECK((rd16(in + l4 + 6) == 0) == (rd16(out + l4 + 6) == 0));

	if (err) {
		check_error(z, sl, m, out, &m2, removed, p->verdict);
	} else if (tuple_of(in, m, false, &a) && tuple_of(out, &m2, false, &b)) {
		struct ct_tuple rb = ct_tuple_invert(&b);
		const struct ct_entry *ea, *eb;
		enum ct_dir da, db = CT_DIR_ORIG;

		ea = ct_find(nat_ct(z->nat), &a, &da);
		eb = ct_find(nat_ct(z->nat), &rb, &db);
		/* Both directions of one flow; a flow that is its own reply
		 * (a hairpin to the sender's own mapping) is found as ORIG
		 * from both (ct/table.h). */
		if (ea && ct_entry_is_self(ea))
			CHECK(eb == ea && da == CT_DIR_ORIG && db == CT_DIR_ORIG);
		else if (ea)
			CHECK(eb == ea && db != da);
		else
			CHECK(removed);
	}
	remember(z, out, sl->len, &m2,
		 p->verdict == NAT_V_TO_OUTSIDE ? NAT_OUTSIDE : NAT_INSIDE);
}

/* FUZZ_NAT_TRACE: addresses and the first 4 L4 bytes (ports), in and out. */
static void trace_packet(const struct fz *z, unsigned int i)
{
	const struct nat_pkt *p = &z->pkts[i];
	const struct pkt_meta *m = &p->meta;
	const uint8_t *a = z->slots[i].orig, *b = p->frame;
	bool l4 = m->flags & PKT_F_L4;

	fprintf(stderr, "t=%.3f %s #%u proto %u %08x > %08x [%08x] => %s: %08x > %08x [%08x]\n",
		(double)z->now / 1e9, z->side == NAT_INSIDE ? "in" : "out", i,
		m->l4_proto, ntohl(pkt_ip4_saddr(a, m)), ntohl(pkt_ip4_daddr(a, m)),
		l4 ? ntohl(rd32(a + m->l4_off)) : 0,
		p->verdict == NAT_V_DROP ? nat_drop_name((enum nat_drop)p->reason)
		: p->verdict == NAT_V_LOCAL ? "LOCAL"
		: p->verdict == NAT_V_TO_OUTSIDE ? "TO_OUTSIDE" : "TO_INSIDE",
		ntohl(pkt_ip4_saddr(b, m)), ntohl(pkt_ip4_daddr(b, m)),
		l4 ? ntohl(rd32(b + m->l4_off)) : 0);
}

static void check_packet(struct fz *z, unsigned int i, bool removed)
{
	const struct nat_pkt *p = &z->pkts[i];

	if (trace)
		trace_packet(z, i);
	CHECK(p->verdict <= NAT_V_LOCAL);
	CHECK(p->verdict == NAT_V_DROP
	      ? p->reason > NAT_DROP_NONE && p->reason < NAT_DROP__MAX
	      : p->reason == NAT_DROP_NONE);
	z->dropped += p->verdict == NAT_V_DROP;
	if (p->verdict == NAT_V_LOCAL) {
		CHECK(p->meta.l3 == PKT_L3_IPV4 && (p->meta.flags & PKT_F_ICMP_ECHO) &&
		      p->meta.icmp_type == ICMP_ECHO &&
		      is_ext(z, pkt_ip4_daddr(p->frame, &p->meta)));
		z->local++;
	}
	if (p->verdict == NAT_V_DROP || p->verdict == NAT_V_LOCAL) {
		if (memcmp(z->slots[i].orig, p->frame, z->slots[i].len) != 0)
			FAIL("packet %u: verdict %u but the frame changed", i, p->verdict);
		return;
	}
	CHECK(p->verdict == NAT_V_TO_INSIDE || z->side == NAT_INSIDE);
	z->forwarded++;
	check_forwarded(z, i, removed);
}

/*
 * A sum that moves whenever what nat_verify() checks may have changed:
 * flows confirmed or removed, mappings counted, and the drops that can
 * come after an entry or a mapping was taken (their undo paths).
 */
static uint64_t state_sig(const struct fz *z)
{
	static const uint8_t undo[] = { NAT_DROP_UNSOLICITED, NAT_DROP_FILTERED,
					NAT_DROP_PORT_EXHAUSTED, NAT_DROP_TABLE_FULL,
					NAT_DROP_CLASH, NAT_DROP_HASH_FULL };
	const struct nat_stats *st = nat_get_stats(z->nat);
	const struct ct_stats *cs = ct_get_stats(nat_ct(z->nat));
	uint64_t sig = cs->inserts + cs->early_drops + cs->deletes + st->mappings;

	for (unsigned int p = 0; p < CT_P__MAX; p++)
		sig += cs->expired[p];
	for (unsigned int i = 0; i < sizeof(undo); i++)
		sig += st->drops[undo[i]];
	return sig;
}

static void check_state(struct fz *z, bool force)
{
	const struct nat_stats *st = nat_get_stats(z->nat);
	const struct ct_table *ct = nat_ct(z->nat);
	const struct ct_stats *cs = ct_get_stats(ct);
	uint64_t drops = 0, gone = cs->early_drops + cs->reclaimed + cs->deletes;
	uint64_t sig = state_sig(z);

	/* nat_verify() walks every mapping object and port bitmap, ~45 us
	 * under the sanitizers: run it when the state may have changed, and
	 * at least every VERIFY_EVERY steps. */
	if (force || sig != z->sig || ++z->quiet >= VERIFY_EVERY) {
		char why[256];

		if (nat_verify(z->nat, why, sizeof(why)) != 0)
			FAIL("nat_verify: %s", why);
		z->sig = sig;
		z->quiet = 0;
	}
	for (unsigned int r = 1; r < NAT_DROP__MAX; r++)
		drops += st->drops[r];
	for (unsigned int p = 0; p < CT_P__MAX; p++)
		gone += cs->expired[p];
	CHECK(st->drops[NAT_DROP_NONE] == 0 &&
	      st->packets[0] + st->packets[1] == z->processed);
	CHECK(drops + st->translated[0] + st->translated[1] + st->local == z->processed);
	CHECK(drops == z->dropped && st->local == z->local &&
	      st->translated[0] + st->translated[1] == z->forwarded);
	CHECK(st->flows_out + st->flows_in + st->hairpin == cs->inserts);
	CHECK(cs->inserts - gone == ct_count(ct) && ct_count(ct) <= ct_capacity(ct));
	CHECK(ct_in_use(ct) == ct_count(ct));	/* no unconfirmed entry left */
	CHECK(st->mappings >= z->n_fwd);

	/* Deadlines are sane, and once the collector has caught up no entry
	 * whose deadline lies in an elapsed tick remains. */
	for (uint32_t i = 0; i < ct_capacity(ct); i++) {
		const struct ct_entry *e = ct_entry_at(ct, i);

		if (!(e->flags & CT_F_CONFIRMED))
			continue;
		CHECK(e->deadline <= z->now + z->max_to_ns);
		CHECK(nat_tick_pending(z->nat, z->now) ||
		      e->deadline >> CT_TICK_SHIFT >= z->now >> CT_TICK_SHIFT);
	}
}

/*
 * The control socket's forward-delete and forward-add while flows run: each
 * header forward in the NAT is removed (its flows keep a demoted mapping),
 * each removed one added again (static again; refused only when another
 * internal endpoint's mapping took its port meanwhile).
 */
static void toggle_forwards(struct fz *z)
{
	for (unsigned int i = 0; i < z->n_cfg_fwd; i++) {
		int err;

		if (z->fwd_on[i]) {
			CHECK(nat_remove_forward(z->nat, &z->fwd[i]) == 0);
			CHECK(nat_remove_forward(z->nat, &z->fwd[i]) == -ENOENT);
			z->fwd_on[i] = false;
			z->n_fwd--;
			continue;
		}
		err = nat_add_forward(z->nat, &z->fwd[i]);
		CHECK(err == 0 || err == -EADDRINUSE);
		if (!err) {
			z->fwd_on[i] = true;
			z->n_fwd++;
		}
	}
}

/* One step: the pending batch through the NAT, then a collector slice. */
static void step(struct fz *z)
{
	const struct ct_stats *cs = ct_get_stats(nat_ct(z->nat));
	/* Flows a later packet of the batch may take the room of: unreplied
	 * ones (early drops) and closed ones (reclaimed, ct_alloc()). */
	uint64_t early = cs->early_drops + cs->reclaimed;
	unsigned int n = z->n;

	if (n) {
		unsigned int kept = nat_process(z->nat, z->pkts, n, z->side, z->now);

		z->processed += n;
		for (unsigned int i = 0; i < n; i++) {
			check_packet(z, i,
				     cs->early_drops + cs->reclaimed != early);
			kept -= z->pkts[i].verdict != NAT_V_DROP;
			free(z->pkts[i].frame);
		}
		CHECK(kept == 0);	/* the return value counts the kept */
		z->n = 0;
	}
	nat_tick(z->nat, z->now, z->budget);
	check_state(z, false);
}

static void record(struct fz *z, uint8_t ctl, const uint8_t *body, size_t len)
{
	static uint8_t buf[FRAME_MAX];
	unsigned int ts = (ctl >> 1) & 7;
	enum nat_side side = (enum nat_side)(ctl & 1);
	struct slot *sl;
	struct nat_pkt *p;
	struct ct_tuple x, key;
	enum ct_dir d;
	int n;

	if (z->n && (!(ctl & 0x10) || ts || z->n == BATCH_MAX))
		step(z);
	z->now += steps[ts];
	z->budget = ctl & 0x80 ? 4096 : 2;
	if ((ctl & 0x40) && len == 0) {	/* no frame: forwards toggled */
		if (z->n)
			step(z);
		toggle_forwards(z);
		return;
	}
	if (ctl & 0x40) {
		n = (int)MIN(len, (size_t)FRAME_MAX);
		memcpy(buf, body, (size_t)n);
	} else {
		n = build_template(z, body, len, ctl, buf, &side);
	}
	if (n <= 0)
		return;
	if (z->n && side != z->side)
		step(z);
	p = &z->pkts[z->n];
	sl = &z->slots[z->n];
	memset(p, 0, sizeof(*p));
	if (pkt_parse(buf, (size_t)n, z->pflags, &p->meta) != PKT_DROP_OK)
		return;
	if (ctl & 0x20) {
		p->flags = NAT_PKT_CSUM_PARTIAL;
		if (!(ctl & 0x40))
			make_partial(buf, &p->meta);
	}
	/* An inside host using an external address as its source makes
	 * inbound packets to that address legitimate. */
	if (side == NAT_INSIDE && p->meta.l3 == PKT_L3_IPV4 &&
	    is_ext(z, pkt_ip4_saddr(buf, &p->meta)))
		z->tainted = true;
	/* An exact-size copy, so that ASan sees any access past the frame. */
	p->frame = malloc((size_t)n);
	if (!p->frame)
		abort();
	memcpy(p->frame, buf, (size_t)n);
	sl->len = (size_t)n;
	memcpy(sl->orig, buf, (size_t)n);
	/* An error must not refresh its flow: note the deadline before. */
	sl->err_flow = NULL;
	if ((p->meta.flags & PKT_F_ICMP_ERROR) && tuple_of(buf, &p->meta, true, &x)) {
		key = ct_tuple_invert(&x);
		sl->err_flow = ct_find(nat_ct(z->nat), &key, &d);
		sl->err_deadline = sl->err_flow ? sl->err_flow->deadline : 0;
	}
	z->side = side;
	z->n++;
}

static void add_forward(struct fz *z, uint8_t proto, uint32_t ext,
			uint16_t ext_port, uint32_t int_addr, uint16_t int_port)
{
	const struct nat_forward f = { .proto = proto, .ext_addr = ext,
				       .ext_port = ext_port, .int_addr = int_addr,
				       .int_port = int_port };

	CHECK(nat_add_forward(z->nat, &f) == 0);
	z->n_fwd++;
	z->fwd[z->n_cfg_fwd] = f;
	z->fwd_on[z->n_cfg_fwd++] = true;
}

static void setup(struct fz *z, const uint8_t *h)
{
	static const uint16_t pmins[8] = { 1, 1000, 1020, 1023, 4000, 49152, 65500, 65534 };
	static const uint16_t widths[8] = { 0, 1, 2, 5, 9, 17, 40, 300 };
	static const uint16_t base_to[CT_TO__MAX] = { 60, 8, 4, 2, 3, 10, 3 };
	unsigned int sc = 1u + (h[2] & 7u);
	struct nat_redirect rd = { .proto = IPPROTO_NUM_TCP, .port = 53,
				   .to_port = 53 };
	struct nat_redirect any = { .proto = IPPROTO_NUM_TCP };
	struct nat_config cfg = { 0 };
	int err;

	memset(z, 0, offsetof(struct fz, pkts));
	z->ext[0] = htonl(0xcb007101);
	z->ext[1] = htonl(0xcb007102);
	z->n_ext = h[0] & 4 ? 2 : 1;
	memcpy(cfg.ext_addrs, z->ext, sizeof(z->ext));
	cfg.n_ext_addrs = z->n_ext;
	cfg.filtering = (h[0] & 3) == 3 ? NAT_FILTER_APDF : (enum nat_filtering)(h[0] & 3);
	z->l3 = h[0] & 0x40;
	z->pflags = (h[0] & 8 ? 0 : PKT_PARSE_NO_IP4_CSUM) | (z->l3 ? PKT_PARSE_L3 : 0);
	z->pmin = pmins[(h[1] >> 2) & 7];
	z->pmax = (uint16_t)MIN(65535u, (unsigned int)z->pmin + widths[h[1] >> 5]);
	cfg.port_min = z->pmin;
	cfg.port_max = z->pmax;
	cfg.max_flows = 8u << (h[1] & 3);
	z->max_to_ns = CT_TO_DEFAULT_TCP_ESTABLISHED * SEC;
	if (!(h[2] & 0x80)) {
		for (unsigned int c = 0; c < CT_TO__MAX; c++)
			cfg.timeouts.sec[c] = base_to[c] * sc;
		cfg.allow_short_udp = true;
		z->max_to_ns = 60ULL * sc * SEC;
	}
	cfg.frag_max = h[2] & 0x40 ? 2 : 16;
	cfg.frag_timeout = 1u + ((h[2] >> 3) & 7u);
	cfg.seed = 1u + h[3];
	cfg.key = &fz_key;	/* fixed: runs must be reproducible */
	cfg.inbound_alias = (struct nat_alias){ pool_addr(5),
						htonl(0xfffffffeu), pool_addr(0) };
	err = nat_create(&z->nat, &cfg);
	if (err)
		FAIL("nat_create: %d", err);
	rd.addr = pool_addr(0);
	rd.to_addr = pool_addr(4);
	CHECK(nat_add_redirect(z->nat, &rd) == 0);
	any.addr = pool_addr(0);
	any.to_addr = pool_addr(5);
	CHECK(nat_add_redirect(z->nat, &any) == 0);
	any.proto = IPPROTO_NUM_UDP;
	CHECK(nat_add_redirect(z->nat, &any) == 0);
	if (h[0] & 0x10)
		add_forward(z, IPPROTO_NUM_TCP, 0, h[0] & 0x80 ? z->pmin : 8080,
			    pool_addr(1), 80);
	if (h[0] & 0x20)
		add_forward(z, IPPROTO_NUM_UDP, z->ext[z->n_ext - 1], 5353,
			    pool_addr(2), 53);
	z->now = 1000 * SEC + (uint64_t)h[3] * 3 * NSEC_PER_MSEC;
	z->budget = 2;
}

/* A small quarantine: the NAT allocates only when it is created, so a big
 * one buys nothing but page faults on every input's fresh tables. */
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The flow table is mmap()ed in 2 MiB units with a huge page hint:
	 * zeroing a fresh huge page per input would cost more than the run. */
	(void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	trace = getenv("FUZZ_NAT_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *z = &fz;
	unsigned int records = 0;
	size_t pos = 4;

	if (size < 4)
		return 0;
	setup(z, data);
	while (pos + 3 <= size && records++ < MAX_RECORDS) {
		size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;

		len = MIN(len, size - pos - 3);
		record(z, data[pos], data + pos + 3, len);
		pos += 3 + len;
	}
	step(z);

	/* Past every timeout, the collector empties the table; only the
	 * static forwards remain as mappings. */
	z->now += 5ULL * 3600 * SEC;
	for (unsigned int i = 0; i < 64 && nat_tick_pending(z->nat, z->now); i++)
		nat_tick(z->nat, z->now, 1u << 16);
	CHECK(!nat_tick_pending(z->nat, z->now));
	CHECK(ct_count(nat_ct(z->nat)) == 0);
	CHECK(nat_get_stats(z->nat)->mappings == z->n_fwd);
	check_state(z, true);
	nat_destroy(z->nat);
	z->nat = NULL;
	return 0;
}
