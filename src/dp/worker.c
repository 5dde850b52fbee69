// SPDX-License-Identifier: MIT
/*
 * worker.c - the datapath loop: burst in, parse, classify, NAT, burst out.
 */
#include "dp/worker.h"
#include "dp/worker_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "dp/bufmem.h"
#include "dp/mailbox.h"
#include "dp/mtu.h"
#include "dp/portset.h"
#include "dp/route.h"
#include "dp/services.h"
#include "dp/stats.h"
#include "dp/switch.h"
#include "pkt/gro.h"
#include "pkt/martian.h"
#include "pkt/parse.h"
#include "prot/dhcp.h"
#include "prot/eth.h"
#include "prot/ip4.h"
#include "svc/arp.h"
#include "svc/icmp_echo.h"


static void dp_worker_signal(struct dp_worker *w, unsigned int req);

static void dp_drop(struct dp_worker *w, enum dp_drop reason)
{
	w->st.drops[reason]++;
}

static void dp_capture(struct dp_worker *w, const struct dp_port *p,
		       const struct dp_buf *b)
{
	if (w->cfg.pcap)
		dp_pcap_write(w->cfg.pcap, w->wall_ns, b->data, b->len,
			      p->flags & DP_PORT_L3);
	if (w->cap)
		dp_pcap_write(w->cap, w->wall_ns, b->data, b->len,
			      p->flags & DP_PORT_L3);
}

static struct dp_port *dp_uplink(struct dp_worker *w)
{
	return w->ports.slot[w->up].port;
}

/* The NAT removed a flow: the uplink may hold a socket for it or for its
 * mapping (dp_port_ops.flow_gone). */
void dp_flow_gone(void *ctx, uint32_t flow, const struct ct_entry *e,
			 bool mapping_gone)
{
	struct dp_worker *w = ctx;
	struct dp_port *up = dp_uplink(w);

	up->ops->flow_gone(up, flow, e, mapping_gone);
}

/*
 * Send to the guests or to the uplink. The guest segment is one Ethernet
 * segment: a frame for the guests goes to the port the switch learned its
 * destination MAC on, or to every guest port (broadcast, multicast,
 * unknown: dp/switch.h). What a port cannot take now waits in its queue
 * (dp/portset.h); what it refuses it counts.
 */
static void dp_tx(struct dp_worker *w, bool to_guests, struct dp_buf **bufs,
		  unsigned int n)
{
	uint64_t now;

	if (!n)
		return;
	now = clock_now(&w->clock);
	if (!to_guests) {
		for (unsigned int i = 0; i < n; i++)
			dp_capture(w, dp_uplink(w), bufs[i]);
		dp_ports_tx(&w->ports, &w->ports.slot[w->up], bufs, n, now);
		return;
	}
	ARC_ASSERT(n <= DP_BURST_MAX);
	for (unsigned int i = 0; i < n; i++) {
		if (w->cfg.pcap)
			dp_pcap_write(w->cfg.pcap, w->wall_ns, bufs[i]->data,
				      bufs[i]->len, false);
		if (w->cap)
			dp_pcap_write(w->cap, w->wall_ns, bufs[i]->data,
				      bufs[i]->len, false);
		w->fan[i] = dp_switch_from_gateway(w->sw, bufs[i]->data,
						   bufs[i]->len, now);
	}
	dp_ports_tx_fanout(&w->ports, bufs, w->fan, n, now);
}

/*
 * A frame the gateway made itself (ARP, DHCP, DNS), copied into the worker's
 * own buffer: ports get storage with headroom (port.h), and the copy is
 * small (ARP 42 bytes, DNS at most an EDNS message).
 */
static void dp_tx_local(struct dp_worker *w, bool to_guests,
			const uint8_t *frame, size_t len)
{
	struct dp_buf *b = &w->local;

	dp_buf_reset(b);
	ARC_ASSERT(len <= dp_buf_room(b));
	memcpy(b->data, frame, len);
	b->len = (uint32_t)len;
	dp_tx(w, to_guests, &b, 1);
}

/* ARP endpoint output: a complete frame for the guests. */
void dp_arp_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct dp_worker *w = ctx;

	dp_tx_local(w, true, frame, len);
}

/* ARP endpoint: a guest's address learned or moved to another MAC; the
 * DHCP server checks it against its leases. */
void dp_arp_learned(void *ctx, uint32_t ip, const uint8_t mac[6])
{
	struct dp_worker *w = ctx;

	if (w->svc)
		dp_svc_addr_seen(w->svc, ip, mac);
}

/* Services output: a complete frame for the guests. */
void dp_svc_tx_inside(void *ctx, uint8_t *frame, size_t len)
{
	dp_arp_send(ctx, frame, len);
}

/* Services output: an IP packet for the uplink. */
void dp_svc_tx_outside(void *ctx, uint8_t *pkt, size_t len)
{
	struct dp_worker *w = ctx;

	dp_tx_local(w, false, pkt, len);
}

/* A held packet's guest MAC is known: it has headroom for the header,
 * which is written in front of @pkt (so @pkt cannot be const). */
// cppcheck-suppress constParameter
void dp_arp_deliver(void *ctx, uint8_t *pkt, size_t len,
			   const struct pkt_vnet *vnet, const uint8_t mac[6])
{
	struct dp_worker *w = ctx;
	struct dp_buf b = {
		.data = pkt - ETH_HLEN,
		.len = (uint32_t)(len + ETH_HLEN),
		.vnet = *vnet,
		/* The hold slot: its headroom and the packet. */
		.head = pkt - ARP_HOLD_HEADROOM,
		.cap = (uint32_t)(ARP_HOLD_HEADROOM + len),
	};
	struct dp_buf *bp = &b;

	dp_route_eth(&w->route, b.data, mac);
	pkt_vnet_shift(&b.vnet, ETH_HLEN);
	dp_tx(w, true, &bp, 1);
}

/* A packet to an address the gateway owns: answer it if it is an echo
 * request within the rate limit, in place and ready to go back where it
 * came from (an Ethernet frame gets the asker as destination). Fragments
 * are not reassembled: a fragmented echo request is a counted drop. */
static bool dp_echo(struct dp_worker *w, struct dp_buf *b,
		    const struct pkt_meta *m, uint64_t now)
{
	if (!icmp_echo_is_request(m)) {
		dp_drop(w, DP_DROP_TO_GATEWAY);
		return false;
	}
	if (!ratelimit_allow(&w->rl_echo, now)) {
		dp_drop(w, DP_DROP_ECHO_LIMIT);
		return false;
	}
	icmp_echo_reply(b->data, m);
	if (m->l3_off) {
		memcpy(b->data, b->data + ETH_ALEN, ETH_ALEN);
		memcpy(b->data + ETH_ALEN, w->cfg.gw_mac, ETH_ALEN);
	}
	b->len = m->l3_off + m->l3_len;
	w->st.echo++;
	return true;
}

struct dp_frag_ctx {
	struct dp_worker *w;
	bool in;			/* to the guests */
	uint32_t dst;		/* held for this guest's MAC: network order */
	unsigned int l3;
	uint64_t now;
};

static void dp_frag_tx(void *ctx, struct dp_buf **bufs, unsigned int n)
{
	const struct dp_frag_ctx *c = ctx;

	dp_tx(c->w, c->in, bufs, n);
}

/* Fragments for a guest whose MAC is not known yet: each is held (as an
 * IP packet) like any other packet for it, and goes out when it answers. */
static void dp_frag_hold(void *ctx, struct dp_buf **bufs, unsigned int n)
{
	const struct dp_frag_ctx *c = ctx;

	for (unsigned int i = 0; i < n; i++)
		dp_route_hold(&c->w->route, c->dst, bufs[i]->data + c->l3,
			      bufs[i]->len - c->l3, NULL, c->now);
}

/**
 * dp_fit() - the egress MTU check of a translated packet (dp/mtu.h).
 * @w:           worker
 * @slot:        its index in the NAT batch
 * @b:           the buffer, its IP header @l3 bytes in
 * @l3:          see @b
 * @m:           its parse result
 * @in:          it leaves to the guests (else by the uplink)
 * @from_inside: it came from a guest (the ICMP error goes back inside)
 * @nin:         packets queued on w->tx_in
 * @nout:        packets queued on w->tx_out
 * @now:         time
 *
 * Too big: with DF, @b becomes the ICMP error for its sender, queued for
 * the port it came from; without DF, its fragments go out at once, after
 * what is already queued for its way out (a flow keeps its order), or, for a
 * guest whose MAC is not known yet, are held for it; else a counted drop.
 *
 * Return: true if @b goes out as it is: the caller queues it.
 */
static bool dp_fit(struct dp_worker *w, unsigned int slot, struct dp_buf *b,
		   unsigned int l3, const struct pkt_meta *m, bool in,
		   bool from_inside, unsigned int *nin, unsigned int *nout,
		   uint64_t now)
{
	const struct dp_port *up = dp_uplink(w);
	uint32_t egress_mtu = in ? w->guest_mtu : up->mtu;
	struct dp_frag_ctx c = { w, in, 0, l3, now };

	switch (dp_mtu_check(w->mtu, slot, b, l3, m, egress_mtu, from_inside,
			     now)) {
	case DP_MTU_FITS:
		return true;
	case DP_MTU_ICMP:
		dp_drop(w, DP_DROP_TOO_BIG);
		if (from_inside)
			w->tx_in[(*nin)++] = b;
		else
			w->tx_out[(*nout)++] = b;
		return false;
	case DP_MTU_TOO_BIG:
		dp_drop(w, DP_DROP_TOO_BIG);
		return false;
	case DP_MTU_FRAGMENT:
		break;
	default:
		dp_drop(w, DP_DROP_CANNOT_FRAGMENT);
		return false;
	}
	if (in) {
		uint8_t mac[ETH_ALEN];

		c.dst = pkt_ip4_daddr(b->data, m);
		if (dp_route_on_segment(&w->route, c.dst) &&
		    arp_lookup(w->arp, c.dst, now, mac) != 0) {
			if (dp_mtu_fragment(w->mtu, b, l3, egress_mtu,
					    dp_frag_hold, &c) < 0)
				dp_drop(w, DP_DROP_CANNOT_FRAGMENT);
			return false;
		}
		if (!dp_route_to_guest(&w->route, b, m, now))
			return false;
		l3 = ETH_HLEN;
	}
	dp_tx(w, in, in ? w->tx_in : w->tx_out, in ? *nin : *nout);
	*(in ? nin : nout) = 0;
	if (dp_mtu_fragment(w->mtu, b, l3, egress_mtu, dp_frag_tx, &c) < 0)
		dp_drop(w, DP_DROP_CANNOT_FRAGMENT);
	return false;
}

static void dp_log_drop(struct dp_worker *w, const struct dp_port *p,
			enum pkt_drop r, uint64_t now)
{
	log_rl(&w->rl_drop, now, LOG_LEVEL_DEBUG, "%s: dropped frame: %s",
	       p->name, pkt_drop_name(r));
}

/* The martian rule (pkt/martian.h) for a parsed IPv4 packet. */
static enum pkt_martian dp_martian(const struct pkt_martian_rule *r,
				   const uint8_t *frame, const struct pkt_meta *m)
{
	return pkt_martian(r, pkt_ip4_saddr(frame, m), pkt_ip4_daddr(frame, m));
}

/* UDP to the DHCP server port: from 0.0.0.0, often to 255.255.255.255,
 * so the services see it before the martian rule does. */
static bool dp_dhcp_to_server(const struct pkt_meta *m)
{
	return m->l4_proto == IPPROTO_UDP && (m->flags & PKT_F_L4) &&
	       !(m->flags & PKT_F_FRAG) && m->dport == htons(DHCP_SERVER_PORT);
}

/*
 * To the gateway's address but for the NAT: a redirect applies (DNS over
 * TCP; with --outside sock, any port the services did not take, to the
 * host's loopback), or the packet belongs to a flow already (a guest's
 * reply to a loopback client of a forward, which appears as the gateway:
 * nat_config.inbound_alias; an ICMP error about such a flow). Not a
 * fragment: the later ones carry no ports to match. Only packets to the
 * gateway's address pay for this.
 */
static bool dp_gateway_to_nat(struct dp_worker *w, const uint8_t *frame,
			      const struct pkt_meta *m, uint32_t daddr,
			      uint64_t now)
{
	if (!(m->flags & PKT_F_L4) || (m->flags & PKT_F_FRAG))
		return false;
	if (m->l4_proto != IPPROTO_ICMP &&
	    nat_redirects(w->cfg.nat, m->l4_proto, daddr, m->dport))
		return true;
	return !icmp_echo_is_request(m) &&
	       nat_has_flow(w->cfg.nat, frame, m, now);
}

/*
 * Join frame @b (a candidate, pkt/gro.h) to packet @i of the NAT batch,
 * the one before it, also a candidate. @b's buffer is then left unused
 * (it stays the worker's). The joined packet's checksum is pending, which
 * the NAT keeps consistent (NAT_PKT_CSUM_PARTIAL) and the uplink's kernel
 * finishes. Return: joined.
 */
static bool dp_gro_join(struct dp_worker *w, unsigned int i,
			const struct dp_buf *b, const struct pkt_meta *m)
{
	struct dp_buf *a = w->pkt_buf[i];
	struct nat_pkt *p = &w->pkts[i];
	bool first = a->vnet.gso_type == VNET_GSO_NONE;

	if (!pkt_gro_append(a->data, dp_buf_room(a), &p->meta, &a->vnet,
			    b->data, m))
		return false;
	a->len = p->meta.len;
	a->flags |= DP_BUF_VNET;
	p->flags |= NAT_PKT_CSUM_PARTIAL;
	w->st.gro_joined++;
	w->st.gro_frames += first;
	return true;
}

/* Frames from the guests for the gateway (dp_guest_burst()), received by
 * guest port @in. */
static void dp_inside_burst(struct dp_worker *w, const struct dp_port *in,
			    unsigned int n, uint64_t now)
{
	unsigned int np = 0, nin = 0, nout = 0;
	bool gro, gro_prev = false;

	for (unsigned int i = 0; i < n; i++) {
		struct dp_buf *b = w->rx[i];
		struct nat_pkt *p = &w->pkts[np];
		struct pkt_meta *m = &p->meta;
		enum pkt_martian why;
		enum pkt_drop r;
		uint32_t daddr;

		r = pkt_parse(b->data, b->len, 0, m);
		if (r != PKT_DROP_OK) {
			w->st.pkt_drops[r]++;
			dp_log_drop(w, in, r, now);
			continue;
		}
		if (m->flags & PKT_F_VLAN) {
			dp_drop(w, DP_DROP_VLAN);
			continue;
		}
		if (m->l3 == PKT_L3_ARP) {
			w->st.arp_in++;
			arp_input(w->arp, b->data, m, now);
			continue;
		}
		if (m->l3 != PKT_L3_IPV4) {
			dp_drop(w, m->l3 == PKT_L3_IPV6 ? DP_DROP_IPV6 :
							  DP_DROP_ETHERTYPE);
			continue;
		}
		p->flags = (b->vnet.flags & VNET_F_NEEDS_CSUM) ?
				   NAT_PKT_CSUM_PARTIAL : 0;
		/* Before anything (a DNS query, a flow) is made for it. */
		why = dp_martian(&w->martian_in, b->data, m);
		if (why != PKT_MARTIAN_NONE && !dp_dhcp_to_server(m)) {
			dp_drop(w, dp_drop_of_martian(why));
			continue;
		}
		if (dp_svc_inside(w->svc, b->data, m, now))
			continue;
		if (why != PKT_MARTIAN_NONE) {	/* DHCP, and no server */
			dp_drop(w, dp_drop_of_martian(why));
			continue;
		}
		daddr = pkt_ip4_daddr(b->data, m);
		if (daddr == w->cfg.gw_addr &&
		    !dp_gateway_to_nat(w, b->data, m, daddr, now)) {
			if (dp_echo(w, b, m, now))
				w->tx_in[nin++] = b;
			continue;
		}
		/* Another guest's address (the gateway's own here is for
		 * the NAT: a redirect or a flow's packet). */
		if (daddr != w->cfg.gw_addr &&
		    dp_route_on_segment(&w->route, daddr)) {
			if (dp_route_inside(&w->route, b, m, now))
				w->tx_in[nin++] = b;
			continue;
		}
		gro = w->gro && pkt_gro_candidate(b->data, m, &b->vnet);
		if (gro && gro_prev && dp_gro_join(w, np - 1, b, m))
			continue;
		gro_prev = gro;
		p->frame = b->data;
		dp_mtu_note(w->mtu, np, b, m);
		w->pkt_buf[np++] = b;
	}

	nat_process(w->cfg.nat, w->pkts, np, NAT_INSIDE, now);

	for (unsigned int i = 0; i < np; i++) {
		struct nat_pkt *p = &w->pkts[i];
		struct dp_buf *b = w->pkt_buf[i];
		const struct pkt_meta *m = &p->meta;

		switch (p->verdict) {
		case NAT_V_TO_OUTSIDE:
			/* The uplink takes IP packets: drop the link header
			 * (and any Ethernet padding). */
			b->data += m->l3_off;
			b->len = m->l3_len;
			b->flow = p->flow;	/* a flow-level uplink's key */
			pkt_vnet_shift(&b->vnet, -(int)m->l3_off);
			if (dp_fit(w, i, b, 0, m, false, true, &nin, &nout,
				   now))
				w->tx_out[nout++] = b;
			break;
		case NAT_V_TO_INSIDE:	/* hairpin */
			if (dp_fit(w, i, b, m->l3_off, m, true, true, &nin,
				   &nout, now) &&
			    dp_route_to_guest(&w->route, b, m, now))
				w->tx_in[nin++] = b;
			break;
		case NAT_V_LOCAL:	/* echo to an external address */
			if (dp_echo(w, b, m, now))
				w->tx_in[nin++] = b;
			break;
		default:	/* NAT_V_DROP: counted by the NAT */
			break;
		}
	}
	dp_tx(w, false, w->tx_out, nout);
	dp_tx(w, true, w->tx_in, nin);
}

/* IP packets from the uplink. */
static void dp_outside_burst(struct dp_worker *w, unsigned int n, uint64_t now)
{
	const struct dp_port *out = dp_uplink(w);
	unsigned int np = 0, nin = 0, nout = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct dp_buf *b = w->rx[i];
		struct nat_pkt *p = &w->pkts[np];
		enum pkt_martian why;
		enum pkt_drop r;

		dp_capture(w, out, b);
		r = pkt_parse(b->data, b->len, PKT_PARSE_L3, &p->meta);
		if (r != PKT_DROP_OK) {
			w->st.pkt_drops[r]++;
			dp_log_drop(w, out, r, now);
			continue;
		}
		if (p->meta.l3 != PKT_L3_IPV4) {
			dp_drop(w, p->meta.l3 == PKT_L3_IPV6 ? DP_DROP_IPV6 :
							       DP_DROP_ETHERTYPE);
			continue;
		}
		why = dp_martian(&w->martian_out, b->data, &p->meta);
		if (why != PKT_MARTIAN_NONE) {
			dp_drop(w, dp_drop_of_martian(why));
			continue;
		}
		if (dp_svc_outside(w->svc, b->data, &p->meta, now))
			continue;
		p->frame = b->data;
		p->flags = (b->vnet.flags & VNET_F_NEEDS_CSUM) ?
				   NAT_PKT_CSUM_PARTIAL : 0;
		dp_mtu_note(w->mtu, np, b, &p->meta);
		w->pkt_buf[np++] = b;
	}

	nat_process(w->cfg.nat, w->pkts, np, NAT_OUTSIDE, now);

	for (unsigned int i = 0; i < np; i++) {
		struct nat_pkt *p = &w->pkts[i];
		struct dp_buf *b = w->pkt_buf[i];
		const struct pkt_meta *m = &p->meta;

		switch (p->verdict) {
		case NAT_V_TO_INSIDE:
			if (dp_fit(w, i, b, m->l3_off, m, true, false, &nin,
				   &nout, now) &&
			    dp_route_to_guest(&w->route, b, m, now))
				w->tx_in[nin++] = b;
			break;
		case NAT_V_TO_OUTSIDE:
			b->len = m->l3_len;
			w->tx_out[nout++] = b;
			break;
		case NAT_V_LOCAL:	/* echo to the external address */
			if (dp_echo(w, b, m, now))
				w->tx_out[nout++] = b;
			break;
		default:
			break;
		}
	}
	dp_tx(w, true, w->tx_in, nin);
	dp_tx(w, false, w->tx_out, nout);
}

/*
 * A burst from guest port @idx: each frame is captured and goes through
 * the switch (dp/switch.h), which learns its source; what it sends to
 * other guest ports goes there as it is (no NAT); what is for the gateway
 * (its MAC, broadcast, multicast) goes on to dp_inside_burst(), moved to
 * the front of w->rx (a permutation: every buffer stays the worker's).
 */
static void dp_guest_burst(struct dp_worker *w, unsigned int idx,
			   unsigned int n, uint64_t now)
{
	const struct dp_port *in = w->ports.slot[idx].port;
	unsigned int ne = 0, nf = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct dp_buf *b = w->rx[i];
		struct dp_sw_dest d;

		dp_capture(w, in, b);
		d = dp_switch_from_guest(w->sw, idx, b->data, b->len, now);
		if (d.ports) {
			w->tx_in[nf] = b;
			w->fan[nf++] = d.ports;
		}
		if (d.engine) {
			w->rx[i] = w->rx[ne];
			w->rx[ne++] = b;
		}
	}
	dp_ports_tx_fanout(&w->ports, w->tx_in, w->fan, nf, now);
	dp_inside_burst(w, in, ne, now);
}

/* Port @p failed with @err (its ops said so). A peer that hung up (a
 * guest's QEMU quit or powered off) is the normal end of a socket port:
 * said at info level; anything else is an error. */
static void dp_log_failed(const struct dp_port *p, int err)
{
	if (err == -ECONNRESET || err == -EPIPE)
		log_info("%s: the peer hung up", p->name);
	else
		log_err("%s: device failed: %s", p->name, strerror(-err));
}

/* Drain up to DP_BURSTS_PER_WAKE bursts of the port of slot @idx. */
static int dp_poll_port(struct dp_worker *w, unsigned int idx)
{
	struct dp_port *p = w->ports.slot[idx].port;
	bool inside = w->ports.slot[idx].kind == DP_TAG_GUEST;

	/* A stale tag cannot get here (dp_ports_of_tag()). */
	for (unsigned int k = 0; k < DP_BURSTS_PER_WAKE; k++) {
		uint64_t now = clock_now(&w->clock);
		int n = p->ops->rx_burst(p, w->rx, DP_BURST_MAX, now);

		if (n < 0) {
			dp_log_failed(p, n);
			return n;
		}
		if (n == 0)
			break;
		w->st.batch_hist[dp_stats_hist_bucket((unsigned int)n)]++;
		if (inside)
			dp_guest_burst(w, idx, (unsigned int)n, now);
		else
			dp_outside_burst(w, (unsigned int)n, now);
		if ((unsigned int)n < DP_BURST_MAX)
			break;
	}
	return 0;
}

static void dp_serve_mailbox(struct dp_worker *w);

void dp_worker_input_port(struct dp_worker *w, const struct dp_port *from,
			  const uint8_t *data, size_t len,
			  const struct pkt_vnet *vnet, uint64_t now)
{
	struct dp_buf *b = w->rx[0];
	int idx = -ENOENT;

	dp_serve_mailbox(w);	/* this thread stands in for the worker's */
	if (from) {
		idx = dp_ports_find(&w->ports, from);
		if (idx < 0 || w->ports.slot[idx].kind != DP_TAG_GUEST)
			return;
	}
	dp_buf_reset(b);
	if (len > dp_buf_room(b))
		len = dp_buf_room(b);
	memcpy(b->data, data, len);
	b->len = (uint32_t)len;
	if (vnet) {
		b->vnet = *vnet;
		b->flags |= DP_BUF_VNET;
	}
	if (idx >= 0)
		dp_guest_burst(w, (unsigned int)idx, 1, now);
	else
		dp_outside_burst(w, 1, now);
}

void dp_worker_input(struct dp_worker *w, bool from_inside, const uint8_t *data,
		     size_t len, const struct pkt_vnet *vnet, uint64_t now)
{
	dp_worker_input_port(w, from_inside ? w->cfg.inside : NULL, data, len,
			     vnet, now);
}

/* What the statistics read (dp/stats.h). */
static struct dp_stats_view dp_view(struct dp_worker *w)
{
	return (struct dp_stats_view){
		.st = &w->st, .nat = w->cfg.nat, .arp = w->arp,
		.ports = &w->ports, .svc = w->svc, .mtu = w->mtu, .sw = w->sw,
	};
}

void dp_worker_print_stats(struct dp_worker *w, FILE *f)
{
	struct dp_stats_view v = dp_view(w);

	dp_stats_print(&v, f);
}

static void dp_tick(struct dp_worker *w, uint64_t now)
{
	uint64_t expirations;

	if (read(w->tfd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		log_warn("worker: timerfd read: %s", strerror(errno));
	nat_tick(w->cfg.nat, now, DP_EXPIRE_BUDGET);
	arp_tick(w->arp, now);
	dp_switch_tick(w->sw, now, DP_SW_TICK_BUDGET);
	dp_svc_tick(w->svc, now, (int64_t)time(NULL));
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		struct dp_port *p = w->ports.slot[i].port;

		if (p && p->ops->tick)
			p->ops->tick(p, now);
	}
	if (w->cfg.stats_interval && now >= w->next_summary) {
		struct dp_stats_view v = dp_view(w);

		dp_stats_print_summary(&v, w->cfg.stats_out);
		w->next_summary = now + w->cfg.stats_interval * NSEC_PER_SEC;
	}
}

/* On the worker's thread, inside dp_worker_run(). Any other caller posts
 * to the mailbox: a thread that just started the worker cannot know
 * whether it is running yet, and the mailbox is served either way. */
static bool dp_on_worker(struct dp_worker *w)
{
	return atomic_load_explicit(&w->running, memory_order_acquire) &&
	       pthread_equal(pthread_self(), w->thread);
}

int dp_add_guest(struct dp_worker *w, struct dp_port *p, bool owned)
{
	unsigned int idx;
	int err;

	if ((p->flags & DP_PORT_L3) || (p->mtu && p->mtu < w->guest_mtu))
		return -EINVAL;
	err = dp_ports_add(&w->ports, p, DP_TAG_GUEST, owned, &idx);
	if (!err)
		dp_switch_port_add(w->sw, idx);
	return err;
}

static int dp_remove_guest(struct dp_worker *w, const struct dp_port *p)
{
	int idx = dp_ports_find(&w->ports, p);

	if (idx < 0 || w->ports.slot[idx].kind != DP_TAG_GUEST)
		return -ENOENT;
	dp_switch_port_remove(w->sw, (unsigned int)idx);
	dp_ports_remove(&w->ports, (unsigned int)idx);
	return 0;
}

/* Port requests of other threads, in the order they were made. */
static void dp_serve_mailbox(struct dp_worker *w)
{
	struct dp_port_req r[DP_MAILBOX];
	unsigned int n = dp_mailbox_take(&w->mb, r);

	for (unsigned int i = 0; i < n; i++) {
		int err;

		if (!r[i].add) {
			dp_remove_guest(w, r[i].port);
			continue;
		}
		err = dp_add_guest(w, r[i].port, true);
		if (err) {
			log_err("%s: cannot add the port: %s", r[i].port->name,
				strerror(-err));
			dp_port_destroy(r[i].port);
		}
	}
}

static int dp_post(struct dp_worker *w, struct dp_port *p, bool add)
{
	int err = dp_mailbox_post(&w->mb, p, add);

	if (!err)
		dp_worker_signal(w, DP_CTL_PORTS);
	return err;
}

int dp_worker_add_port(struct dp_worker *w, struct dp_port *p)
{
	int err;

	if (dp_on_worker(w))
		err = dp_add_guest(w, p, true);
	else
		err = dp_post(w, p, true);
	if (err)
		dp_port_destroy(p);
	return err;
}

int dp_worker_remove_port(struct dp_worker *w, struct dp_port *p)
{
	if (dp_on_worker(w))
		return dp_remove_guest(w, p);
	return dp_post(w, p, false);
}

int dp_worker_add_fd(struct dp_worker *w, struct dp_port *p, int fd,
		     uint32_t sub, uint32_t events)
{
	int idx = dp_ports_find(&w->ports, p);

	if (idx < 0)
		return -ENOENT;
	return dp_ports_add_fd(&w->ports, (unsigned int)idx, fd, sub, events);
}

int dp_worker_mod_fd(struct dp_worker *w, struct dp_port *p, int fd,
		     uint32_t sub, uint32_t events)
{
	int idx = dp_ports_find(&w->ports, p);

	if (idx < 0)
		return -ENOENT;
	return dp_ports_mod_fd(&w->ports, (unsigned int)idx, fd, sub, events);
}

int dp_worker_del_fd(struct dp_worker *w, int fd)
{
	return dp_ports_del_fd(&w->ports, fd);
}

/* Return: true to keep running. */
static bool dp_control(struct dp_worker *w)
{
	uint64_t v;
	unsigned int req;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("worker: eventfd read: %s", strerror(errno));
	/* Pairs with the atomic_fetch_or() in dp_worker_signal(). */
	req = atomic_exchange_explicit(&w->ctl, 0, memory_order_acquire);
	if (req & DP_CTL_PORTS)
		dp_serve_mailbox(w);
	if (req & DP_CTL_STATS)
		dp_worker_print_stats(w, w->cfg.stats_out);
	if (req & DP_CTL_CALLS) {
		struct dp_call c[DP_CALLS];
		unsigned int n = dp_mailbox_take_calls(&w->mb, c);

		for (unsigned int i = 0; i < n; i++)
			c[i].fn(w, c[i].arg);
	}
	return !(req & DP_CTL_STOP);
}

/* An event of one of a port's extra fds: the port says what it means. */
static int dp_fd_event(struct dp_worker *w, struct dp_slot *s, uint32_t sub,
		       uint32_t events)
{
	struct dp_port *p = s->port;
	int r = p->ops->fd_event ? p->ops->fd_event(p, sub, events,
						    clock_now(&w->clock)) : 0;

	if (r < 0) {
		dp_log_failed(p, r);
		return r;
	}
	if (r & DP_FD_TX)
		dp_ports_writable(&w->ports, s, clock_now(&w->clock));
	if (r & DP_FD_RX)
		return dp_poll_port(w, (unsigned int)(s - w->ports.slot));
	return 0;
}

/*
 * Output ports made without an fd event (dp_port_ops.rx_pending: a relay's
 * RST or ACK owed after a tx_burst), at most DP_BURSTS_PER_WAKE polls per
 * port per wakeup. A guest port the worker owns that fails is removed.
 * Return: 0, 1 when some port still has output (the next epoll_wait()
 * must not sleep), -errno when a configured port failed.
 */
static int dp_pending(struct dp_worker *w)
{
	int more = 0;

	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		struct dp_slot *s = &w->ports.slot[i];
		struct dp_port *p = s->port;
		unsigned int k = 0;
		int err = 0;

		if (!p || !p->ops->rx_pending)
			continue;
		while (!err && p->ops->rx_pending(p) && k++ < DP_BURSTS_PER_WAKE)
			err = dp_poll_port(w, i);
		if (err && s->kind == DP_TAG_GUEST && s->owned) {
			dp_remove_guest(w, p);
			continue;
		}
		if (err)
			return err;
		more |= p->ops->rx_pending(p);
	}
	return more;
}

/*
 * An event of a port's fd: writable first (its queue goes before the new
 * frames its input may cause), then readable. A stale tag (the port was
 * removed, maybe earlier in this very wakeup) is ignored. A guest port the
 * worker owns that fails for good is removed, the others go on; the
 * configured ports failing ends the run, as an uplink failing must. An
 * event of an extra fd (sub-index not 0) goes to the port's fd_event().
 */
static int dp_port_event(struct dp_worker *w, uint64_t tag, uint32_t events)
{
	struct dp_slot *s = dp_ports_of_tag(&w->ports, tag);
	bool guest;
	int err;

	if (!s)
		return 0;
	guest = s->kind == DP_TAG_GUEST;
	if (dp_tag_sub(tag)) {	/* one of the port's extra fds */
		err = dp_fd_event(w, s, dp_tag_sub(tag), events);
	} else {
		if (events & EPOLLOUT)
			dp_ports_writable(&w->ports, s, clock_now(&w->clock));
		if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			return 0;
		err = dp_poll_port(w, (unsigned int)(s - w->ports.slot));
	}
	if (err && guest && s->owned) {
		dp_remove_guest(w, s->port);
		err = 0;
	}
	return err;
}

/*
 * How long the next epoll_wait() may sleep: not at all while some port has
 * output pending or while busy polling lasts, else until an event.
 */
static int dp_wait_timeout(struct dp_worker *w, int more,
			   uint64_t poll_until)
{
	if (more)
		return 0;
	return poll_until && clock_read(&w->clock) < poll_until ? 0 : -1;
}

int dp_worker_run(struct dp_worker *w)
{
	struct itimerspec its = {
		.it_interval = { 0, (long)DP_TICK_NS },
		.it_value = { 0, (long)DP_TICK_NS },
	};
	bool running = true;
	int err = 0, more = 0;
	uint64_t poll_until = 0;	/* busy polling lasts until then */

	if (timerfd_settime(w->tfd, 0, &its, NULL) < 0)
		return -errno;
	w->next_summary = clock_read(&w->clock) +
			  w->cfg.stats_interval * NSEC_PER_SEC;
	w->thread = pthread_self();
	atomic_store_explicit(&w->running, true, memory_order_release);
	dp_serve_mailbox(w);	/* requests made before the run */
	while (running) {
		struct epoll_event ev[DP_EVENTS];
		int timeout = dp_wait_timeout(w, more, poll_until);
		int n = epoll_wait(w->ep, ev, DP_EVENTS, timeout);
		bool port_event = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0 && !more) {
			/* busy polling found nothing yet: any other task
			 * of this CPU (the guest's, a server's) runs first */
			sched_yield();
			continue;
		}
		uint64_t now = clock_read(&w->clock);

		w->st.wakeups++;
		if (w->cfg.pcap || w->cap) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			w->wall_ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC +
				     (uint64_t)ts.tv_nsec;
		}
		for (int i = 0; i < n && !err; i++) {
			uint64_t tag = ev[i].data.u64;

			if (dp_tag_kind(tag) == DP_TAG_TIMER) {
				dp_tick(w, now);
			} else if (dp_tag_kind(tag) == DP_TAG_CTL) {
				running = dp_control(w);
			} else {
				err = dp_port_event(w, tag, ev[i].events);
				port_event = true;
			}
		}
		if (port_event && timeout == 0 && !more)
			w->st.busy_polled++;	/* found without a sleep */
		/* traffic: its next packet is likely a round trip away */
		if (port_event && w->cfg.busy_poll_ns)
			poll_until = now + w->cfg.busy_poll_ns;
		if (!err) {
			more = dp_pending(w);
			err = more < 0 ? more : 0;
		}
		dp_pcap_flush(w->cfg.pcap);
		dp_pcap_flush(w->cap);
		if (err)
			break;
	}
	atomic_store_explicit(&w->running, false, memory_order_release);
	return err;
}

static void dp_worker_signal(struct dp_worker *w, unsigned int req)
{
	uint64_t one = 1;

	/* Pairs with the atomic_exchange_explicit() in dp_control(). */
	atomic_fetch_or_explicit(&w->ctl, req, memory_order_release);
	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("worker: eventfd write: %s", strerror(errno));
}

void dp_worker_stop(struct dp_worker *w)
{
	dp_worker_signal(w, DP_CTL_STOP);
}

void dp_worker_request_stats(struct dp_worker *w)
{
	dp_worker_signal(w, DP_CTL_STATS);
}

int dp_worker_call(struct dp_worker *w, dp_call_fn fn, void *arg)
{
	int err = dp_mailbox_post_call(&w->mb, fn, arg);

	if (!err)
		dp_worker_signal(w, DP_CTL_CALLS);
	return err;
}

const struct dp_ports *dp_worker_ports(const struct dp_worker *w)
{
	return &w->ports;
}

struct nat *dp_worker_nat(const struct dp_worker *w)
{
	return w->cfg.nat;
}

struct dp_svc *dp_worker_svc(const struct dp_worker *w)
{
	return w->svc;
}

struct dp_pcap *dp_worker_set_capture(struct dp_worker *w, struct dp_pcap *pc)
{
	struct dp_pcap *old = w->cap;

	w->cap = pc;
	return old;
}
