// SPDX-License-Identifier: MIT
/*
 * packet.c - the AF_PACKET uplink: socket setup, burst rx/tx with the
 * virtio-net header, ARP for the external address. Theory of operation in
 * packet.h.
 */
#include "uplink/packet.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "pkt/cursor.h"
#include "pkt/martian.h"
#include "pkt/parse.h"
#include "prot/eth.h"
#include "prot/ip4.h"
#include "sys/netlink.h"
#include "sys/netns.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23	/* Linux 4.20 */
#endif
#define PU_ETH_P_ALL	0x0003		/* linux/if_ether.h ETH_P_ALL */
#define PU_VNET_LEN	sizeof(struct virtio_net_hdr)
#define PU_SNAPLEN	0x40000u	/* more than any GSO super-frame */

static_assert(sizeof(struct virtio_net_hdr) == 10, "virtio_net_hdr layout");

struct packet_uplink {
	struct dp_port port;	/* first: the pipeline's handle */
	struct arp *arp;
	uint8_t mac[ETH_ALEN];
	unsigned int ifindex;
	uint32_t ext_addr;
	uint32_t ext_mask;	/* network order */
	uint32_t next_hop;
	struct packet_uplink_stats xs;
	/* Burst scratch, sized once: nothing allocates per packet. */
	struct mmsghdr msg[DP_BURST_MAX];
	struct iovec iov[DP_BURST_MAX][2];
	struct virtio_net_hdr vh[DP_BURST_MAX];
	struct sockaddr_ll sll[DP_BURST_MAX];
	struct dp_buf *txb[DP_BURST_MAX];
};

static struct packet_uplink *pu_of(struct dp_port *p)
{
	return container_of(p, struct packet_uplink, port);
}

/* The wire header of an L3 packet's metadata, with an Ethernet header added. */
static void vnet_to_wire(struct virtio_net_hdr *h, const struct pkt_vnet *l3)
{
	struct pkt_vnet v = *l3;

	pkt_vnet_shift(&v, ETH_HLEN);
	pkt_vnet_to_wire(h, &v);
}

static void eth_write(const struct packet_uplink *pu, uint8_t *at,
		      const uint8_t dst[ETH_ALEN])
{
	struct eth_hdr e;

	memcpy(e.dst, dst, ETH_ALEN);
	memcpy(e.src, pu->mac, ETH_ALEN);
	e.type = htons(ETH_P_IPV4);
	memcpy(at, &e, sizeof(e));
}

/* Errors after which the socket still works: try again next burst. */
static bool transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ENOBUFS ||
	       e == ENETDOWN || e == ENOMEM;
}

/* ---- ARP endpoint callbacks ---- */

static void pu_arp_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct packet_uplink *pu = ctx;
	struct virtio_net_hdr vh = { 0 };
	uint8_t f[ETH_MIN_FRAME];
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { f, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	/* A copy, since iov_base is not const; ARP frames are 60 bytes. */
	if (len > sizeof(f)) {
		pu->xs.tx_arp_errors++;
		return;
	}
	memcpy(f, frame, len);
	if (sendmsg(pu->port.fd, &mh, MSG_DONTWAIT) < 0)
		pu->xs.tx_arp_errors++;
}

static void pu_arp_deliver(void *ctx, uint8_t *pkt, size_t len,
			   const struct pkt_vnet *vnet,
			   const uint8_t mac[ETH_ALEN])
{
	struct packet_uplink *pu = ctx;
	struct virtio_net_hdr vh;
	struct iovec iov[2] = { { &vh, sizeof(vh) },
				{ pkt - ETH_HLEN, len + ETH_HLEN } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	static_assert(ARP_HOLD_HEADROOM >= ETH_HLEN, "room for the header");
	eth_write(pu, pkt - ETH_HLEN, mac);
	vnet_to_wire(&vh, vnet);
	if (sendmsg(pu->port.fd, &mh, MSG_DONTWAIT) < 0) {
		pu->port.stats.tx_dropped++;
		return;
	}
	pu->xs.tx_released++;
	pu->port.stats.tx_packets++;
	pu->port.stats.tx_bytes += len;
}

/* ---- receive ---- */

enum rx_kind { RX_DROP, RX_ARP, RX_IP4 };

/*
 * What a received frame is: ARP, IPv4 to the external address (returned),
 * or anything else. Only the EtherType and the IPv4 version and destination
 * are read here; the pipeline's parser validates the rest.
 */
static enum rx_kind rx_classify(struct packet_uplink *pu, const uint8_t *f,
				size_t len)
{
	struct pkt_cursor c;
	const struct ip4_hdr *ip;
	uint16_t type;

	pkt_cursor_init(&c, f, len);
	if (!pkt_cursor_skip(&c, offsetof(struct eth_hdr, type)) ||
	    !pkt_cursor_be16(&c, &type)) {
		pu->port.stats.rx_errors++;
		return RX_DROP;
	}
	if (type == ETH_P_ARP)
		return RX_ARP;
	ip = pkt_cursor_peek(&c, sizeof(*ip));
	if (type != ETH_P_IPV4 || !ip || (ip->ver_ihl >> 4) != 4 ||
	    ip->daddr != pu->ext_addr) {
		pu->xs.rx_not_ours++;
		return RX_DROP;
	}
	return RX_IP4;
}

/* Turn the received frame in @b into the L3 packet the pipeline wants. */
static void rx_to_l3(struct dp_buf *b, const struct virtio_net_hdr *vh,
		     size_t flen)
{
	struct pkt_cursor c;
	uint16_t tot;

	pkt_vnet_from_wire(&b->vnet, vh);
	pkt_vnet_shift(&b->vnet, -ETH_HLEN);
	b->flags |= DP_BUF_VNET;
	b->data += ETH_HLEN;
	b->len = (uint32_t)(flen - ETH_HLEN);
	/* Cut Ethernet padding (rx_classify() saw 20 bytes of header). */
	pkt_cursor_init(&c, b->data, b->len);
	if (pkt_cursor_skip(&c, 2) && pkt_cursor_be16(&c, &tot) &&
	    tot >= sizeof(struct ip4_hdr) && tot < b->len)
		b->len = tot;
}

static int pu_rx_burst(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		       uint64_t now)
{
	struct packet_uplink *pu = pu_of(p);
	unsigned int i, ret = 0;
	int got;

	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX;
	for (i = 0; i < n; i++) {
		struct dp_buf *b = bufs[i];

		dp_buf_reset(b);
		pu->iov[i][0] = (struct iovec){ &pu->vh[i], PU_VNET_LEN };
		pu->iov[i][1] = (struct iovec){ b->data, dp_buf_room(b) };
		pu->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &pu->sll[i],
			.msg_namelen = sizeof(pu->sll[i]),
			.msg_iov = pu->iov[i],
			.msg_iovlen = 2,
		};
		pu->msg[i].msg_len = 0;
	}
	got = recvmmsg(p->fd, pu->msg, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return transient(errno) ? 0 : -errno;

	/*
	 * Frames kept are swapped to the front: bufs[ret] (ret <= i) was
	 * already looked at, and the ones after i are not touched yet.
	 */
	for (i = 0; i < (unsigned int)got; i++) {
		const struct mmsghdr *mm = &pu->msg[i];
		struct dp_buf *b = bufs[i];
		struct pkt_meta m;
		size_t flen;

		if ((mm->msg_hdr.msg_flags & MSG_TRUNC) ||
		    mm->msg_len < PU_VNET_LEN + ETH_HLEN) {
			p->stats.rx_errors++;
			continue;
		}
		flen = mm->msg_len - PU_VNET_LEN;
		if (pu->sll[i].sll_pkttype != PACKET_HOST &&
		    pu->sll[i].sll_pkttype != PACKET_BROADCAST) {
			pu->xs.rx_foreign++;
			continue;
		}
		switch (rx_classify(pu, b->data, flen)) {
		case RX_ARP:
			pu->xs.rx_arp++;
			if (pkt_parse(b->data, flen, 0, &m) == PKT_DROP_OK)
				arp_input(pu->arp, b->data, &m, now);
			else
				p->stats.rx_errors++;
			continue;
		case RX_IP4:
			break;
		default:
			continue;
		}
		rx_to_l3(b, &pu->vh[i], flen);
		p->stats.rx_packets++;
		p->stats.rx_bytes += b->len;
		bufs[i] = bufs[ret];
		bufs[ret++] = b;
	}
	return (int)ret;
}

/* ---- transmit ---- */

/*
 * The next hop for @daddr, or -1 (a counted drop): off-link without a
 * router, our own address (hairpinning is the NAT's business), or an
 * address the martian rule refuses (the worker drops those before NAT:
 * this is the same rule again, at the wire).
 */
static int tx_next_hop(const struct packet_uplink *pu, uint32_t daddr,
		       uint32_t *nh)
{
	const struct pkt_martian_rule r = {
		.bcast = { { pu->ext_addr, pu->ext_mask } },
	};

	if (daddr == pu->ext_addr ||
	    pkt_martian(&r, pu->ext_addr, daddr) != PKT_MARTIAN_NONE)
		return -1;
	if ((daddr & pu->ext_mask) == (pu->ext_addr & pu->ext_mask))
		*nh = daddr;
	else if (pu->next_hop)
		*nh = pu->next_hop;
	else
		return -1;
	return 0;
}

/*
 * Send msg[0..m-1] (buffers txb[]), skipping any one the kernel refuses for
 * good. Return: how many were consumed (sent or refused): fewer than @m
 * when the kernel's queue is full, the rest being not sent now (port.h).
 */
static unsigned int tx_flush(struct packet_uplink *pu, unsigned int m)
{
	unsigned int off = 0, i;

	while (off < m) {	/* each round moves off forward: at most m */
		int r = sendmmsg(pu->port.fd, pu->msg + off, m - off,
				 MSG_DONTWAIT);

		if (r > 0) {
			for (i = off; i < off + (unsigned int)r; i++) {
				pu->port.stats.tx_packets++;
				pu->port.stats.tx_bytes += pu->txb[i]->len;
			}
			off += (unsigned int)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == ENOBUFS))
			break;		/* queue full: not now */
		pu->port.stats.tx_dropped++;	/* this one is bad: EMSGSIZE... */
		off++;
	}
	return off;
}

enum tx_what { TX_SEND, TX_HOLD, TX_NO_ROUTE, TX_BAD };

/*
 * The packets waiting in msg[] are always bufs[i - m .. i): a packet held
 * or dropped on the way flushes them first, so that a full queue leaves a
 * clean tail of the burst for the worker to queue.
 */
static unsigned int pu_tx_burst(struct dp_port *p, struct dp_buf **bufs,
				unsigned int n, uint64_t now)
{
	static const struct pkt_vnet no_vnet;
	struct packet_uplink *pu = pu_of(p);
	unsigned int i, m = 0, f;

	for (i = 0; i < n; i++) {
		struct dp_buf *b = bufs[i];
		const struct pkt_vnet *v =
			(b->flags & DP_BUF_VNET) ? &b->vnet : &no_vnet;
		const struct ip4_hdr *ip;
		uint8_t mac[ETH_ALEN];
		struct pkt_cursor c;
		enum tx_what why;
		uint32_t nh = 0;

		/* The Ethernet header goes into the headroom. */
		dp_buf_check(b, ETH_HLEN);
		pkt_cursor_init(&c, b->data, b->len);
		ip = pkt_cursor_peek(&c, sizeof(*ip));
		if (!ip || (ip->ver_ihl >> 4) != 4)
			why = TX_BAD;
		else if (tx_next_hop(pu, ip->daddr, &nh) < 0)
			why = TX_NO_ROUTE;
		else if (arp_lookup(pu->arp, nh, now, mac) < 0)
			why = TX_HOLD;
		else
			why = TX_SEND;
		if (why == TX_SEND) {
			eth_write(pu, b->data - ETH_HLEN, mac);
			vnet_to_wire(&pu->vh[m], v);
			pu->iov[m][0] = (struct iovec){ &pu->vh[m], PU_VNET_LEN };
			pu->iov[m][1] = (struct iovec){ b->data - ETH_HLEN,
							b->len + ETH_HLEN };
			pu->msg[m].msg_hdr = (struct msghdr){
				.msg_iov = pu->iov[m], .msg_iovlen = 2 };
			pu->txb[m++] = b;
			if (m < DP_BURST_MAX)
				continue;
			f = tx_flush(pu, m);
			if (f < m)
				return i + 1 - m + f;
			m = 0;
			continue;
		}
		if (m) {
			f = tx_flush(pu, m);
			if (f < m)
				return i - m + f;
			m = 0;
		}
		if (why == TX_BAD) {
			p->stats.tx_dropped++;
		} else if (why == TX_NO_ROUTE) {
			pu->xs.tx_no_route++;
			p->stats.tx_dropped++;
		} else if (arp_hold(pu->arp, nh, b->data, b->len, v, now) == 0) {
			pu->xs.tx_held++;
		} else {
			p->stats.tx_dropped++;
		}
	}
	if (m) {
		f = tx_flush(pu, m);
		if (f < m)
			return n - m + f;
	}
	return n;
}

static void pu_tick(struct dp_port *p, uint64_t now)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* The kernel's count of frames our full receive queue refused; the
	 * call also resets it, so it is added up here. */
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		p->stats.rx_dropped += st.tp_drops;
	arp_tick(pu_of(p)->arp, now);
}

static void pu_stats(const struct dp_port *p, struct dp_port_stats *out)
{
	*out = p->stats;
	out->tx_lost = packet_uplink_arp_stats(p)->hold_expired;
}

/* The ARP endpoint's counters, under the port's prefix. */
static void pu_print_stats(const struct dp_port *p, FILE *f, const char *pfx)
{
	const struct arp_stats *s = packet_uplink_arp_stats(p);

	fprintf(f, "stat %s.arp_requests_in %" PRIu64 "\n", pfx, s->requests_in);
	fprintf(f, "stat %s.arp_replies_out %" PRIu64 "\n", pfx, s->replies_out);
	fprintf(f, "stat %s.arp_requests_out %" PRIu64 "\n", pfx,
		s->requests_out);
	fprintf(f, "stat %s.arp_refreshes %" PRIu64 "\n", pfx, s->refreshes);
	fprintf(f, "stat %s.arp_held %" PRIu64 "\n", pfx, s->held);
	fprintf(f, "stat %s.arp_hold_dropped %" PRIu64 "\n", pfx,
		s->hold_dropped + s->hold_expired);
}

static void pu_destroy(struct dp_port *p)
{
	struct packet_uplink *pu;

	if (!p)
		return;
	pu = pu_of(p);
	if (p->fd >= 0)
		close(p->fd);
	arp_destroy(pu->arp);
	free(pu);
}

static const struct dp_port_ops pu_ops = {
	.rx_burst = pu_rx_burst,
	.tx_burst = pu_tx_burst,
	.tick = pu_tick,
	.stats = pu_stats,
	.print_stats = pu_print_stats,
	.destroy = pu_destroy,
};

/* ---- setup ---- */

/*
 * Keep only frames to us or broadcast, untagged, ARP or IPv4 to @ext_addr.
 * The VLAN test reads the skb's metadata: the kernel strips a tag before
 * packet sockets see the frame.
 */
static int attach_filter(int fd, uint32_t ext_addr)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, PACKET_BROADCAST, 8, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 6),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV4, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ETH_HLEN + 16),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(ext_addr), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, PU_SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static void set_buf(int fd, int force, int plain, const char *what)
{
	int v = PACKET_UPLINK_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) == 0)
		return;
	/* Without CAP_NET_ADMIN: as much as net.core.*mem_max allows. */
	if (setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v)) < 0)
		log_debug("packet: %s: %s", what, strerror(errno));
}

/* The socket, bound to @ifindex, with every option; an fd or -errno. */
static int open_socket(unsigned int ifindex, uint32_t ext_addr)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(PU_ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	int fd, one = 1, r;

	/* Protocol 0: nothing is queued before the filter and bind(). */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
		r = -errno;
		log_err("packet: PACKET_VNET_HDR: %s", strerror(-r));
		goto err_close;
	}
	/* Optional: rx only keeps PACKET_HOST/BROADCAST frames anyway. */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) < 0)
		log_debug("packet: PACKET_IGNORE_OUTGOING: %s", strerror(errno));
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, "SO_RCVBUF");
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, "SO_SNDBUF");
	r = attach_filter(fd, ext_addr);
	if (r < 0) {
		log_err("packet: SO_ATTACH_FILTER: %s", strerror(-r));
		goto err_close;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		log_err("packet: bind: %s", strerror(-r));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return r;
}

/* Everything done inside the interface's namespace: netlink, the socket. */
static int open_link(struct packet_uplink *pu,
		     const struct packet_uplink_cfg *cfg)
{
	unsigned int mtu = 0;
	bool up = false;
	struct nl *nl;
	int r;

	r = nl_open(&nl);
	if (r < 0) {
		log_err("packet: netlink: %s", strerror(-r));
		return r;
	}
	r = nl_link_index(nl, cfg->ifname, &pu->ifindex);
	if (r < 0) {
		log_err("packet: %s: %s", cfg->ifname, strerror(-r));
		goto err_nl;
	}
	r = nl_link_info(nl, pu->ifindex, pu->mac, &mtu, &up);
	if (r < 0) {
		log_err("packet: %s: %s", cfg->ifname, strerror(-r));
		goto err_nl;
	}
	if (!memcmp(pu->mac, (const uint8_t[ETH_ALEN]){ 0 }, ETH_ALEN) ||
	    (pu->mac[0] & 1)) {
		log_err("packet: %s has no Ethernet address", cfg->ifname);
		r = -EINVAL;
		goto err_nl;
	}
	if (!up)
		log_warn("packet: %s is down", cfg->ifname);
	pu->port.mtu = mtu;
	r = open_socket(pu->ifindex, cfg->ext_addr);
	if (r < 0)
		goto err_nl;
	pu->port.fd = r;
	r = 0;
err_nl:
	nl_close(nl);
	return r;
}

int packet_uplink_open(struct dp_port **out,
		       const struct packet_uplink_cfg *cfg)
{
	unsigned int plen = cfg->ext_plen ? cfg->ext_plen : 32;
	struct arp_cfg ac = { .own = { cfg->ext_addr }, .n_own = 1,
			      .max_neigh = PACKET_UPLINK_NEIGH,
			      .send = pu_arp_send, .deliver = pu_arp_deliver };
	struct packet_uplink *pu;
	int r, saved = -1, l;

	*out = NULL;
	if (!cfg->ifname || !cfg->ifname[0] || strlen(cfg->ifname) >= IFNAMSIZ ||
	    !cfg->ext_addr || plen > 32)
		return -EINVAL;
	pu = calloc(1, sizeof(*pu));
	if (!pu)
		return -ENOMEM;
	pu->port.ops = &pu_ops;
	pu->port.fd = -1;
	pu->port.flags = DP_PORT_L3 | DP_PORT_VNET;
	pu->ext_addr = cfg->ext_addr;
	pu->ext_mask = ip4_prefix_mask(plen);
	pu->next_hop = cfg->next_hop;
	snprintf(pu->port.name, sizeof(pu->port.name), "%s%s%s", cfg->ifname,
		 cfg->netns ? "@" : "", cfg->netns ? cfg->netns : "");

	if (cfg->netns) {
		r = netns_enter(cfg->netns, &saved);
		if (r < 0) {
			log_err("packet: netns %s: %s", cfg->netns, strerror(-r));
			goto err_free;
		}
	}
	r = open_link(pu, cfg);
	if (cfg->netns) {
		l = netns_leave(saved);
		if (l < 0) {
			/* Stuck in the wrong namespace: give up. */
			log_err("packet: cannot leave netns %s: %s", cfg->netns,
				strerror(-l));
			if (r == 0)
				r = l;
		}
	}
	if (r < 0)
		goto err_free;

	memcpy(ac.mac, pu->mac, ETH_ALEN);
	ac.ctx = pu;
	r = arp_create(&pu->arp, &ac);
	if (r < 0)
		goto err_free;
	*out = &pu->port;
	return 0;

err_free:
	pu_destroy(&pu->port);
	return r;
}

const struct arp_stats *packet_uplink_arp_stats(const struct dp_port *p)
{
	const struct packet_uplink *pu =
		container_of(p, const struct packet_uplink, port);

	return arp_get_stats(pu->arp);
}

const struct packet_uplink_stats *packet_uplink_stats(const struct dp_port *p)
{
	return &container_of(p, const struct packet_uplink, port)->xs;
}
