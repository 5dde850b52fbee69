// SPDX-License-Identifier: MIT
/*
 * mtu.c - packets too big for their egress port: ICMP "fragmentation
 * needed", fragments, GSO segment sizes.
 */
#include "dp/mtu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/ratelimit.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/fragment.h"
#include "prot/eth.h"
#include "prot/icmp.h"
#include "prot/ip4.h"

static_assert(PKT_ICMP4_QUOTE_MAX == PKT_ICMP4_ERR_MAX - IP4_HLEN_MIN - ICMP_HLEN,
	      "the quote fills an ICMP error of 576 bytes");

/**
 * struct dp_mtu_quote - the leading bytes of one packet of the batch.
 * @len: bytes in @ip; 0 when nothing was saved for this slot
 * @mac: its Ethernet source (packets from the guests)
 * @ip:  from the IPv4 header on, as the sender sent it
 */
struct dp_mtu_quote {
	uint16_t len;
	uint8_t mac[ETH_ALEN];
	uint8_t ip[PKT_ICMP4_QUOTE_MAX];
};

struct dp_mtu {
	struct dp_mtu_cfg cfg;
	struct dp_mtu_stats st;
	struct ratelimit rl;
	uint32_t note_above;		/* copy packets longer than this */
	uint16_t ip_id;
	uint8_t *storage;
	size_t storage_len;
	struct dp_buf bufs[DP_MTU_SPARE];
	struct dp_buf *spare[DP_MTU_SPARE];
	struct dp_mtu_quote quotes[DP_BURST_MAX];
};

static bool dp_mtu_gso(const struct dp_buf *b, const struct pkt_meta *m)
{
	return (b->vnet.gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE &&
	       b->vnet.gso_size && (m->flags & PKT_F_L4);
}

/* Bytes of IP packet the egress must take in one piece: the packet, or
 * for a GSO super-frame its first segment (headers + gso_size). */
static uint32_t dp_mtu_seg_len(const struct dp_buf *b, const struct pkt_meta *m)
{
	uint32_t seg;

	if (likely(!dp_mtu_gso(b, m)))
		return m->l3_len;
	seg = (uint32_t)(m->payload_off - m->l3_off) + b->vnet.gso_size;
	return seg < m->l3_len ? seg : m->l3_len;
}

/* Offset (from the frame start) of an offloaded L4 checksum field inside
 * [l3 + 20, end), and the complete checksum for it: the field holds the
 * pseudo-header sum, so the sum from csum_start to the end is the whole
 * L4 checksum (virtio 1.1 section 5.1.6.2). -1 when the offsets are not
 * inside the packet (hostile metadata): the field is then left alone. */
static int dp_mtu_csum(const uint8_t *frame, unsigned int l3, uint32_t end,
		       const struct pkt_vnet *v, uint8_t proto, uint16_t *out)
{
	uint32_t cs = v->csum_start, field = cs + v->csum_offset;
	uint16_t c;

	if (!(v->flags & VNET_F_NEEDS_CSUM) || cs < l3 + IP4_HLEN_MIN ||
	    field + 2 > end)
		return -1;
	c = csum_finish(csum_partial(frame + cs, end - cs, 0));
	*out = proto == IPPROTO_NUM_UDP ? csum_udp_nonzero(c) : c;
	return (int)field;
}

int dp_mtu_create(struct dp_mtu **out, const struct dp_mtu_cfg *cfg)
{
	size_t per_buf = DP_BUF_HEADROOM + ETH_HLEN + cfg->mtu_max;
	struct dp_mtu *mt;

	mt = calloc(1, sizeof(*mt));
	if (!mt)
		return -ENOMEM;
	mt->cfg = *cfg;
	mt->note_above = cfg->mtu_min ? cfg->mtu_min : UINT32_MAX;
	ratelimit_init(&mt->rl, DP_MTU_ICMP_PER_SEC, NSEC_PER_SEC);
	per_buf = (per_buf + 63) & ~(size_t)63;
	if (cfg->mtu_max) {
		mt->storage_len = per_buf * DP_MTU_SPARE;
		mt->storage = mmap(NULL, mt->storage_len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mt->storage == MAP_FAILED) {
			free(mt);
			return -ENOMEM;
		}
	}
	for (unsigned int i = 0; i < DP_MTU_SPARE && mt->storage; i++) {
		mt->bufs[i].head = mt->storage + i * per_buf;
		mt->bufs[i].cap = (uint32_t)per_buf;
		dp_buf_reset(&mt->bufs[i]);
		mt->spare[i] = &mt->bufs[i];
	}
	*out = mt;
	return 0;
}

void dp_mtu_destroy(struct dp_mtu *mt)
{
	if (!mt)
		return;
	if (mt->storage)
		munmap(mt->storage, mt->storage_len);
	free(mt);
}

void dp_mtu_note(struct dp_mtu *mt, unsigned int slot, const struct dp_buf *b,
		 const struct pkt_meta *m)
{
	struct dp_mtu_quote *q = &mt->quotes[slot];
	uint32_t seg = dp_mtu_seg_len(b, m);
	/* The packet, or a GSO super-frame's first segment. */
	uint32_t n = seg < PKT_ICMP4_QUOTE_MAX ? seg : PKT_ICMP4_QUOTE_MAX;
	uint16_t c;

	q->len = 0;
	if (likely(seg <= mt->note_above))
		return;
	memcpy(q->ip, b->data + m->l3_off, n);
	if (m->l3_off >= ETH_HLEN)
		memcpy(q->mac, b->data + ETH_ALEN, ETH_ALEN);
	if (dp_mtu_gso(b, m)) {
		/* Quote the first segment, as the segments would be
		 * quoted: its length, its header checksum. Its L4 checksum
		 * is the device's to compute and stays as it is. */
		uint16_t tot = htons((uint16_t)seg);
		unsigned int hlen = (q->ip[0] & 0x0fu) * 4u;

		memcpy(q->ip + offsetof(struct ip4_hdr, tot_len), &tot, 2);
		memset(q->ip + offsetof(struct ip4_hdr, check), 0, 2);
		c = csum_ip4_header(q->ip, hlen);
		memcpy(q->ip + offsetof(struct ip4_hdr, check), &c, 2);
	} else {
		/* An offloaded checksum: quote it as the wire would carry
		 * it, complete. */
		int at = dp_mtu_csum(b->data, m->l3_off, m->l3_off + m->l3_len,
				 &b->vnet, m->l4_proto, &c);
		if (at >= 0 && (uint32_t)at + 2 <= m->l3_off + n)
			memcpy(q->ip + (uint32_t)at - m->l3_off, &c, 2);
	}
	q->len = (uint16_t)n;
}

/* RFC 1122 section 3.2.2 and RFC 1812 section 4.3.2.7: no error about an
 * ICMP error, a fragment other than the first, or a source that does not
 * name one host (0/8, 127/8, multicast, class E, broadcast). */
static bool dp_mtu_may_answer(const struct dp_mtu_quote *q,
			      const struct pkt_meta *m)
{
	uint32_t src;

	if (!q->len || (m->flags & (PKT_F_ICMP_ERROR | PKT_F_FRAG_LATER)))
		return false;
	memcpy(&src, q->ip + offsetof(struct ip4_hdr, saddr), 4);
	src = ntohl(src);
	return (src >> 24) != 0 && (src >> 24) != 127 && src < 0xe0000000u;
}

static enum dp_mtu_verdict dp_mtu_icmp(struct dp_mtu *mt,
				       const struct dp_mtu_quote *q,
				       struct dp_buf *b, unsigned int mtu,
				       bool from_inside)
{
	struct pkt_icmp4_err e = {
		.no_eth = !from_inside,
		.ip_id = mt->ip_id++,
		.type = ICMP_DEST_UNREACH,
		.code = ICMP_FRAG_NEEDED,
		.mtu = (uint16_t)(mtu < IP4_MAX_LEN ? mtu : IP4_MAX_LEN),
		.quote = q->ip,
		.quote_len = q->len,
	};
	int n;

	memcpy(&e.dst4, q->ip + offsetof(struct ip4_hdr, saddr), 4);
	if (from_inside) {
		e.src4 = mt->cfg.gw_addr;
		memcpy(e.eth_dst, q->mac, ETH_ALEN);
		memcpy(e.eth_src, mt->cfg.gw_mac, ETH_ALEN);
	} else {
		/* From the address the sender used: the external one, whose
		 * flow the NAT owns. */
		memcpy(&e.src4, q->ip + offsetof(struct ip4_hdr, daddr), 4);
	}
	dp_buf_reset(b);
	n = pkt_build_icmp4_error(&e, b->data, dp_buf_room(b));
	if (n < 0)
		return DP_MTU_TOO_BIG;
	b->len = (uint32_t)n;
	mt->st.icmp_sent++;
	return DP_MTU_ICMP;
}

enum dp_mtu_verdict dp_mtu_check(struct dp_mtu *mt, unsigned int slot,
				 struct dp_buf *b, unsigned int l3,
				 const struct pkt_meta *m, unsigned int mtu,
				 bool from_inside, uint64_t now)
{
	const struct dp_mtu_quote *q = &mt->quotes[slot];
	uint32_t hdrs = (uint32_t)(m->payload_off - m->l3_off);
	uint16_t fo;

	if (likely(!mtu || dp_mtu_seg_len(b, m) <= mtu))
		return DP_MTU_FITS;
	memcpy(&fo, b->data + l3 + offsetof(struct ip4_hdr, frag_off), 2);
	if (ntohs(fo) & IP4_FLAG_DF) {
		if (!dp_mtu_may_answer(q, m))
			return DP_MTU_TOO_BIG;
		if (!ratelimit_allow(&mt->rl, now)) {
			mt->st.icmp_limited++;
			return DP_MTU_TOO_BIG;
		}
		return dp_mtu_icmp(mt, q, b, mtu, from_inside);
	}
	if (!dp_mtu_gso(b, m))
		return DP_MTU_FRAGMENT;
	switch (b->vnet.gso_type & ~VNET_GSO_ECN) {
	case VNET_GSO_TCPV4:
		/* Any segment size carries the same byte stream. */
		if (mtu < hdrs + 8)
			return DP_MTU_NO_FRAGMENT;
		b->vnet.gso_size = (uint16_t)(mtu - hdrs);
		mt->st.gso_resized++;
		return DP_MTU_FITS;
	case VNET_GSO_UDP:	/* UFO: one datagram, cut by IP */
		return DP_MTU_FRAGMENT;
	default:		/* USO: many datagrams, each too big */
		return DP_MTU_NO_FRAGMENT;
	}
}

int dp_mtu_fragment(struct dp_mtu *mt, struct dp_buf *b, unsigned int l3,
		    unsigned int mtu,
		    void (*tx)(void *ctx, struct dp_buf **bufs, unsigned int n),
		    void *ctx)
{
	struct pkt_frag f;
	unsigned int k = 0;
	uint16_t c;
	int n, at, sent = 0;

	if (l3 > ETH_HLEN || b->len < l3 + IP4_HLEN_MIN || mtu > mt->cfg.mtu_max)
		return -EINVAL;
	/* Fragments carry no offload metadata: the checksum is completed
	 * here, over the whole (translated) packet. */
	at = dp_mtu_csum(b->data, l3, b->len, &b->vnet,
			 b->data[l3 + offsetof(struct ip4_hdr, protocol)], &c);
	if (at >= 0)
		memcpy(b->data + at, &c, 2);
	n = pkt_frag_init(&f, b->data + l3, b->len - l3, mtu);
	if (n < 0)
		return n;
	/* Bounded: each fragment carries at least 8 of at most 65535 bytes. */
	for (;;) {
		struct dp_buf *s = mt->spare[k];

		dp_buf_reset(s);
		memcpy(s->data, b->data, l3);
		n = pkt_frag_next(&f, s->data + l3, dp_buf_room(s) - l3);
		if (n <= 0)
			break;
		s->len = l3 + (uint32_t)n;
		sent++;
		if (++k == DP_MTU_SPARE) {
			tx(ctx, mt->spare, k);
			k = 0;
		}
	}
	if (k)
		tx(ctx, mt->spare, k);
	mt->st.fragmented++;
	mt->st.fragments += (uint64_t)sent;
	return sent;
}

const struct dp_mtu_stats *dp_mtu_get_stats(const struct dp_mtu *mt)
{
	return &mt->st;
}

void dp_mtu_print_stats(const struct dp_mtu *mt, FILE *f)
{
	fprintf(f, "stat mtu.icmp_frag_needed %" PRIu64 "\n", mt->st.icmp_sent);
	fprintf(f, "stat mtu.icmp_rate_limited %" PRIu64 "\n",
		mt->st.icmp_limited);
	fprintf(f, "stat mtu.fragmented %" PRIu64 "\n", mt->st.fragmented);
	fprintf(f, "stat mtu.fragments %" PRIu64 "\n", mt->st.fragments);
	fprintf(f, "stat mtu.gso_resized %" PRIu64 "\n", mt->st.gso_resized);
}
