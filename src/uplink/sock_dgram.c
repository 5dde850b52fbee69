// SPDX-License-Identifier: MIT
/*
 * sock_dgram.c - the socket uplink's datagram sockets: UDP through one host
 * socket per NAT mapping, ICMP echo through one ping socket per mapped
 * identifier (theory of operation in sock.h).
 *
 * Per external port P and kind (UDP, echo) a slot holds the socket, a
 * generation and two flags: "on the ready list" and "the error queue has
 * something". An fd event puts the slot on the ready list (a ring where
 * each slot is at most once); sock_dgram_rx() walks it, reading the error
 * queue first and then up to a burst of datagrams with recvmmsg(), and
 * keeps a socket on the list (at its tail, for fairness) only while it
 * filled everything it was offered. epoll is level-triggered for these
 * sockets, so a socket given up on still has its event next time.
 *
 * Addresses cross the socket boundary through sock_addr_to_host() and
 * sock_addr_from_host() (sock_defs.h): a destination in 198.19.0.0/16 is
 * the host's loopback 127.0.b.c, and a loopback sender or ICMP offender
 * comes back as its image, or is dropped (lo_unmapped) outside
 * 127.0.0.0/16.
 */
#include "uplink/sock_dgram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/udp.h"

#define SK_PORTS	65536u
#define SK_GEN_MASK	0xfffu
#define SK_READY_CAP	(2u * SK_PORTS)	/* each slot of both kinds once */
#define SK_UDP_MAX	(IP4_MAX_LEN - IP4_HLEN_MIN - UDP_HLEN)
#define SK_ICMP_MAX	(IP4_MAX_LEN - IP4_HLEN_MIN)
#define SK_ERR_BURST	8u	/* error-queue entries per socket per round */
/* Bytes of a datagram an ICMP error quotes after the rebuilt headers. */
#define SK_QUOTE_DATA	(PKT_ICMP4_QUOTE_MAX - IP4_HLEN_MIN - UDP_HLEN)

enum sk_kind { SK_UDP = 0, SK_ICMP = 1, SK__N };

/**
 * struct sk_slot - the socket of one mapping.
 * @fd:    the socket, -1 for none
 * @gen:   generation of the current (or last) socket, in its sub-index
 * @ready: on the ready list
 * @err:   EPOLLERR was reported: read the error queue
 * @pinned: the port's socket is never closed by flow_gone (the DNS
 *          forwarder's port, a UDP port forward's)
 */
struct sk_slot {
	int fd;
	uint16_t gen;
	uint8_t ready;
	uint8_t err;
	uint8_t pinned;
};

struct sock_dgram {
	struct sock_dgram_cfg cfg;
	struct ratelimit rl_nofd;
	struct sk_slot *slot[SK__N];
	uint32_t *ready;		/* kind << 16 | P */
	uint32_t ready_head;
	uint32_t ready_n;
	uint32_t open;			/* sockets open */
	uint16_t fwd[SOCK_FORWARDS_MAX];	/* UDP forwards' ports, bound */
	unsigned int n_fwd;
	uint16_t ip_id;
	bool echo_warned;
	/* recvmmsg()/sendmmsg() scratch */
	struct mmsghdr mm[DP_BURST_MAX];
	struct iovec iov[DP_BURST_MAX];
	struct sockaddr_in sa[DP_BURST_MAX];
	struct {
		_Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(uint16_t))];
	} cm[DP_BURST_MAX];
};

static uint32_t sk_sub(enum sk_kind k, uint16_t gen, uint16_t port)
{
	uint32_t kind = k == SK_UDP ? SOCK_SUB_UDP : SOCK_SUB_ICMP;

	return kind << SOCK_SUB_KIND_SHIFT | (uint32_t)(gen & SK_GEN_MASK) << 16 |
	       port;
}

/* ---- sockets ---- */

static void sk_ready(struct sock_dgram *s, enum sk_kind k, uint16_t port)
{
	struct sk_slot *sl = &s->slot[k][port];

	if (sl->ready)
		return;
	ARC_ASSERT(s->ready_n < SK_READY_CAP);
	s->ready[(s->ready_head + s->ready_n) % SK_READY_CAP] =
		(uint32_t)k << 16 | port;
	s->ready_n++;
	sl->ready = 1;
}

/* The guest's own port of a new UDP mapping, network order (0: unknown):
 * the flow's original source, when @flow really is the flow of EXT:@pn. */
static uint16_t sk_guest_port(const struct sock_dgram *s, uint32_t flow,
			      uint16_t pn)
{
	const struct ct_entry *e;
	const struct ct_tuple *r;

	if (!s->cfg.ct || flow == DP_FLOW_NONE || flow >= ct_capacity(s->cfg.ct))
		return 0;
	e = ct_entry_at(s->cfg.ct, flow);
	r = &e->tuple[CT_DIR_REPLY];
	if (!(e->flags & CT_F_CONFIRMED) || (e->flags & CT_F_INBOUND) ||
	    r->proto != IPPROTO_NUM_UDP || r->daddr != s->cfg.ext_addr ||
	    r->dport != pn)
		return 0;
	return e->tuple[CT_DIR_ORIG].sport;
}

/*
 * Open the socket of mapping @port: UDP bound to @bind_port (network
 * order) when the host has it free, a ping socket otherwise unbound.
 * Return: 0 or -errno (-EMFILE also for max_sockets).
 */
static int sk_open(struct sock_dgram *s, enum sk_kind k, uint16_t port,
		   uint16_t bind_port)
{
	struct sk_slot *sl = &s->slot[k][port];
	int one = 1, fd, err;

	if (s->open >= s->cfg.max_sockets)
		return -EMFILE;
	if (!s->cfg.env->watch)
		return -ENOTCONN;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    k == SK_UDP ? 0 : IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one)) < 0) {
		err = -errno;
		goto fail;
	}
	if (k == SK_UDP && bind_port) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = bind_port };

		/* Taken, or below 1024 without the right: an ephemeral
		 * port, bound by the kernel at the first send. */
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			s->cfg.st->udp_preserved++;
	}
	sl->gen = (uint16_t)((sl->gen + 1) & SK_GEN_MASK);
	err = s->cfg.env->watch(s->cfg.env->ctx, fd, sk_sub(k, sl->gen, port), EPOLLIN);
	if (err)
		goto fail;
	sl->fd = fd;
	sl->err = 0;
	s->open++;
	if (k == SK_UDP) {
		s->cfg.st->udp_opened++;
		s->cfg.st->udp_open++;
	} else {
		s->cfg.st->echo_opened++;
		s->cfg.st->echo_open++;
	}
	return 0;
fail:
	close(fd);
	return err;
}

static void sk_close(struct sock_dgram *s, enum sk_kind k, uint16_t port)
{
	struct sk_slot *sl = &s->slot[k][port];

	if (sl->fd < 0)
		return;
	if (s->cfg.env->unwatch)
		s->cfg.env->unwatch(s->cfg.env->ctx, sl->fd);
	close(sl->fd);
	sl->fd = -1;
	sl->err = 0;
	s->open--;
	if (k == SK_UDP) {
		s->cfg.st->udp_closed++;
		s->cfg.st->udp_open--;
	} else {
		s->cfg.st->echo_closed++;
		s->cfg.st->echo_open--;
	}
	/* A ready-list entry stays; rx_burst() drops it (fd -1). */
}

/*
 * The socket of mapping @port for packet @b, opened when missing. On
 * failure the packet is counted and, for want of descriptors, answered.
 * Return: the fd or -1.
 */
static int sk_get(struct sock_dgram *s, enum sk_kind k, uint16_t port,
		  const struct dp_buf *b, uint32_t remote, uint64_t now)
{
	struct sk_slot *sl = &s->slot[k][port];
	uint16_t bind_port = 0;
	int err;

	if (sl->fd >= 0)
		return sl->fd;
	if (k == SK_UDP) {
		if (b->flow == DP_FLOW_NONE && !sl->pinned) {
			s->cfg.st->no_flow++;
			return -1;
		}
		bind_port = sk_guest_port(s, b->flow, htons(port));
	}
	err = sk_open(s, k, port, bind_port);
	if (!err)
		return sl->fd;
	if (k == SK_ICMP && (err == -EACCES || err == -EPERM)) {
		s->cfg.st->echo_denied++;
		if (!s->echo_warned)
			log_warn("%s: ping sockets are not allowed "
				 "(net.ipv4.ping_group_range): echo requests "
				 "are dropped", s->cfg.name);
		s->echo_warned = true;
	} else if (err == -EMFILE || err == -ENFILE || err == -ENOBUFS ||
		   err == -ENOMEM) {
		s->cfg.st->no_fd++;
		log_rl(&s->rl_nofd, now, LOG_LEVEL_WARN,
		       "%s: no socket for a new mapping: %s (the limit is %u)",
		       s->cfg.name, strerror(-err), s->cfg.max_sockets);
		if (s->cfg.refuse)
			s->cfg.refuse(s->cfg.ctx, remote, b);
	} else {
		s->cfg.st->send_err++;
	}
	return -1;
}

/* ---- transmit: guest packets to host sockets ---- */

static bool sk_same_udp(const struct dp_buf *b, uint16_t sport_n,
			struct pkt_meta *m)
{
	return pkt_parse(b->data, b->len, PKT_PARSE_L3, m) == PKT_DROP_OK &&
	       m->l3 == PKT_L3_IPV4 && m->l4_proto == IPPROTO_NUM_UDP &&
	       (m->flags & PKT_F_L4) && !(m->flags & PKT_F_FRAG) &&
	       m->sport == sport_n;
}

/* Message @i of the sendmmsg() batch: @b's payload to its destination. */
static void sk_msg(struct sock_dgram *s, unsigned int i,
		   const struct dp_buf *b, const struct pkt_meta *m,
		   const uint8_t *l4, uint32_t len)
{
	struct msghdr *h = &s->mm[i].msg_hdr;

	s->sa[i] = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = m->dport,
		.sin_addr.s_addr = sock_addr_to_host(pkt_ip4_daddr(b->data, m)),
	};
	s->iov[i] = (struct iovec){ .iov_base = (void *)l4, .iov_len = len };
	*h = (struct msghdr){
		.msg_name = &s->sa[i],
		.msg_namelen = sizeof(s->sa[i]),
		.msg_iov = &s->iov[i],
		.msg_iovlen = 1,
	};
	/* A USO super-frame: the kernel cuts it into gso_size datagrams. */
	if ((b->vnet.gso_type & (uint8_t)~VNET_GSO_ECN) == VNET_GSO_UDP_L4 &&
	    b->vnet.gso_size && len > b->vnet.gso_size) {
		struct cmsghdr *c = (struct cmsghdr *)s->cm[i].buf;
		uint16_t seg = b->vnet.gso_size;

		h->msg_control = s->cm[i].buf;
		h->msg_controllen = sizeof(s->cm[i].buf);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	}
}

/* Send messages [0, @cnt) on @fd, skipping (and counting) each refused. */
static void sk_sendmmsg(struct sock_dgram *s, int fd, unsigned int cnt)
{
	unsigned int done = 0;

	while (done < cnt) {
		int r = sendmmsg(fd, s->mm + done, cnt - done, MSG_DONTWAIT);

		if (r > 0) {
			for (unsigned int i = done; i < done + (unsigned int)r; i++) {
				s->cfg.pstats->tx_packets++;
				s->cfg.pstats->tx_bytes += s->iov[i].iov_len;
			}
			done += (unsigned int)r;
			continue;
		}
		/* The first message was refused: a full send buffer, a
		 * datagram too big, an error an ICMP message left on the
		 * socket (reported again by the error queue). */
		s->cfg.st->send_err++;
		s->cfg.pstats->tx_dropped++;
		done++;
	}
}

/*
 * UDP packets from bufs[0] on, as long as they leave from the same
 * external port: one sendmmsg() batch. Return: packets consumed (>= 1).
 */
unsigned int sock_dgram_udp_tx(struct sock_dgram *s, struct dp_buf **bufs,
			      unsigned int n, const struct pkt_meta *m0,
			      uint64_t now)
{
	uint16_t port = ntohs(m0->sport);
	unsigned int cnt = 0, j;
	struct pkt_meta m = *m0;
	int fd = sk_get(s, SK_UDP, port, bufs[0],
			pkt_ip4_daddr(bufs[0]->data, m0), now);

	if (fd < 0) {
		s->cfg.pstats->tx_dropped++;
		return 1;
	}
	for (j = 0; j < n && cnt < DP_BURST_MAX; j++) {
		const struct dp_buf *b = bufs[j];

		if (j && !sk_same_udp(b, m0->sport, &m))
			break;
		dp_buf_check(b, 0);
		sk_msg(s, cnt++, b, &m, b->data + m.payload_off,
		       pkt_payload_len(&m));
	}
	sk_sendmmsg(s, fd, cnt);
	return j;
}

/* An ICMP echo request: through the ping socket of its identifier. */
void sock_dgram_echo_tx(struct sock_dgram *s, const struct dp_buf *b,
		       const struct pkt_meta *m, uint64_t now)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = sock_addr_to_host(pkt_ip4_daddr(b->data, m)),
	};
	int fd;

	if (m->icmp_type != ICMP_ECHO || m->icmp_code != 0) {
		s->cfg.st->other++;	/* an error the guest sends: no socket for it */
		s->cfg.pstats->tx_dropped++;
		return;
	}
	fd = sk_get(s, SK_ICMP, ntohs(m->sport), b, to.sin_addr.s_addr, now);
	if (fd < 0) {
		s->cfg.pstats->tx_dropped++;
		return;
	}
	if (sendto(fd, b->data + m->l4_off, m->l4_len, MSG_DONTWAIT,
		   (struct sockaddr *)&to, sizeof(to)) < 0) {
		s->cfg.st->send_err++;
		s->cfg.pstats->tx_dropped++;
		return;
	}
	s->cfg.pstats->tx_packets++;
	s->cfg.pstats->tx_bytes += b->len;
}

/* ---- receive: host sockets to packets for the NAT ---- */

/* The IPv4 header of a packet from @saddr to the external address. */
static void sk_ip(struct sock_dgram *s, uint8_t *pkt, uint32_t saddr,
		  uint8_t proto, uint32_t len)
{
	struct ip4_hdr ip = {
		.ver_ihl = 0x45,
		.tot_len = htons((uint16_t)len),
		.id = htons(s->ip_id++),
		.ttl = 64,
		.protocol = proto,
		.saddr = saddr,
		.daddr = s->cfg.ext_addr,
	};

	ip.check = csum_ip4_header(&ip, sizeof(ip));
	memcpy(pkt, &ip, sizeof(ip));
}

/* Datagram @b of @len bytes at data + 28 from @from became a packet. */
static void sk_udp_pkt(struct sock_dgram *s, struct dp_buf *b, uint16_t port,
		       const struct sockaddr_in *from, uint32_t len)
{
	struct udp_hdr u = {
		.sport = from->sin_port,
		.dport = htons(port),
		.len = htons((uint16_t)(UDP_HLEN + len)),
	};
	uint8_t *l4 = b->data + IP4_HLEN_MIN;
	uint32_t sum;

	sk_ip(s, b->data, from->sin_addr.s_addr, IPPROTO_NUM_UDP,
	      IP4_HLEN_MIN + UDP_HLEN + len);
	memcpy(l4, &u, sizeof(u));
	sum = csum_pseudo_ip4(from->sin_addr.s_addr, s->cfg.ext_addr,
			      IPPROTO_NUM_UDP, (uint16_t)(UDP_HLEN + len));
	u.check = csum_udp_nonzero(csum_finish(csum_partial(l4, UDP_HLEN + len,
							    sum)));
	memcpy(l4 + offsetof(struct udp_hdr, check), &u.check, 2);
	b->len = IP4_HLEN_MIN + UDP_HLEN + len;
}

/* An echo reply of @len bytes at data + 20: the mapped identifier back. */
static bool sk_echo_pkt(struct sock_dgram *s, struct dp_buf *b, uint16_t port,
			const struct sockaddr_in *from, uint32_t len)
{
	uint8_t *l4 = b->data + IP4_HLEN_MIN;
	struct icmp_hdr h;

	if (len < ICMP_HLEN)
		return false;
	memcpy(&h, l4, sizeof(h));
	if (h.type != ICMP_ECHOREPLY)
		return false;
	h.un.echo.id = htons(port);
	h.check = 0;
	memcpy(l4, &h, sizeof(h));
	h.check = csum_finish(csum_partial(l4, len, 0));
	memcpy(l4 + offsetof(struct icmp_hdr, check), &h.check, 2);
	sk_ip(s, b->data, from->sin_addr.s_addr, IPPROTO_NUM_ICMP,
	      IP4_HLEN_MIN + len);
	b->len = IP4_HLEN_MIN + len;
	return true;
}

/*
 * Up to @n datagrams of one socket into bufs[0..). A datagram that makes
 * no packet leaves its buffer for the next (the pointers are swapped:
 * every buffer stays the worker's). Return: packets made; *drained when
 * the socket had fewer than @n.
 */
static unsigned int sk_recv(struct sock_dgram *s, enum sk_kind k,
			    uint16_t port, int fd, struct dp_buf **bufs,
			    unsigned int n, bool *drained)
{
	uint32_t hdr = k == SK_UDP ? IP4_HLEN_MIN + UDP_HLEN : IP4_HLEN_MIN;
	uint32_t max = k == SK_UDP ? SK_UDP_MAX : SK_ICMP_MAX;
	unsigned int out = 0;
	int got;

	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t room;

		dp_buf_reset(bufs[i]);
		room = dp_buf_room(bufs[i]) - hdr;

		s->iov[i] = (struct iovec){ .iov_base = bufs[i]->data + hdr,
					    .iov_len = room < max ? room : max };
		s->mm[i].msg_hdr = (struct msghdr){
			.msg_name = &s->sa[i],
			.msg_namelen = sizeof(s->sa[i]),
			.msg_iov = &s->iov[i],
			.msg_iovlen = 1,
		};
	}
	got = recvmmsg(fd, s->mm, n, MSG_DONTWAIT, NULL);
	*drained = got < (int)n;
	if (got <= 0)
		return 0;
	for (unsigned int i = 0; i < (unsigned int)got; i++) {
		struct dp_buf *b = bufs[i];
		uint32_t len = s->mm[i].msg_len;
		bool ok = !(s->mm[i].msg_hdr.msg_flags & MSG_TRUNC) &&
			  s->sa[i].sin_family == AF_INET;

		if (ok && !sock_addr_from_host(&s->sa[i].sin_addr.s_addr)) {
			s->cfg.st->lo_unmapped++;
			continue;
		}
		if (ok && k == SK_UDP)
			sk_udp_pkt(s, b, port, &s->sa[i], len);
		else if (ok)
			ok = sk_echo_pkt(s, b, port, &s->sa[i], len);
		if (!ok) {
			s->cfg.pstats->rx_errors++;
			continue;
		}
		bufs[i] = bufs[out];
		bufs[out++] = b;
	}
	return out;
}

/*
 * One error-queue entry made an ICMP error in @b, from @src: quote the
 * datagram as the NAT sent it (EXT:P -> R), from the destination the
 * kernel reports and the start of the payload it kept. Both addresses are
 * the NAT's already (sock_addr_from_host()). Return: true if @b holds one.
 */
static bool sk_err_pkt(struct sock_dgram *s, enum sk_kind k, uint16_t port,
		       struct dp_buf *b, const struct sock_extended_err *ee,
		       uint32_t src, const struct sockaddr_in *dst,
		       const uint8_t *data, uint32_t len)
{
	uint8_t q[PKT_ICMP4_QUOTE_MAX];
	uint32_t l4 = k == SK_UDP ? UDP_HLEN : 0, qlen;
	struct pkt_icmp4_err e = {
		.no_eth = true,
		.src4 = src,
		.dst4 = s->cfg.ext_addr,
		.type = ee->ee_type,
		.code = ee->ee_code,
		.quote = q,
	};
	struct ip4_hdr ip = {
		.ver_ihl = 0x45,
		.ttl = 64,
		.protocol = k == SK_UDP ? IPPROTO_NUM_UDP : IPPROTO_NUM_ICMP,
		.saddr = s->cfg.ext_addr,
		.daddr = dst->sin_addr.s_addr,
	};
	int r;

	if (len > sizeof(q) - IP4_HLEN_MIN - l4)
		len = (uint32_t)sizeof(q) - IP4_HLEN_MIN - l4;
	if (k == SK_ICMP && len < ICMP_HLEN)
		return false;
	qlen = IP4_HLEN_MIN + l4 + len;
	ip.tot_len = htons((uint16_t)qlen);
	ip.check = csum_ip4_header(&ip, sizeof(ip));
	memcpy(q, &ip, sizeof(ip));
	if (k == SK_UDP) {
		struct udp_hdr u = {
			.sport = htons(port),
			.dport = dst->sin_port,
			.len = htons((uint16_t)(UDP_HLEN + len)),
		};

		memcpy(q + IP4_HLEN_MIN, &u, sizeof(u));
		memcpy(q + IP4_HLEN_MIN + UDP_HLEN, data, len);
	} else {
		struct icmp_hdr h;

		memcpy(&h, data, sizeof(h));
		/* The kernel's identifier on the wire: the mapping's back. */
		h.check = csum_replace2(h.check, h.un.echo.id, htons(port));
		h.un.echo.id = htons(port);
		memcpy(q + IP4_HLEN_MIN, &h, sizeof(h));
		memcpy(q + IP4_HLEN_MIN + ICMP_HLEN, data + ICMP_HLEN,
		       len - ICMP_HLEN);
	}
	e.quote_len = qlen;
	e.ip_id = s->ip_id++;
	if (e.type == ICMP_DEST_UNREACH && e.code == ICMP_FRAG_NEEDED)
		e.mtu = (uint16_t)(ee->ee_info > 0xffff ? 0xffff : ee->ee_info);
	r = pkt_build_icmp4_error(&e, b->data, dp_buf_room(b));
	if (r <= 0)
		return false;
	b->len = (uint32_t)r;
	return true;
}

/*
 * Up to @n error-queue entries of one socket as ICMP errors into bufs.
 * Return: packets made; *drained when the queue is empty.
 */
static unsigned int sk_errs(struct sock_dgram *s, enum sk_kind k,
			    uint16_t port, int fd, struct dp_buf **bufs,
			    unsigned int n, bool *drained)
{
	unsigned int out = 0;

	*drained = false;
	for (unsigned int i = 0; i < SK_ERR_BURST && out < n; i++) {
		uint8_t data[SK_QUOTE_DATA];
		struct {
			_Alignas(struct cmsghdr) char buf[CMSG_SPACE(
				sizeof(struct sock_extended_err) +
				sizeof(struct sockaddr_in))];
		} ctl;
		struct sockaddr_in dst = { 0 };
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
		struct msghdr mh = {
			.msg_name = &dst,
			.msg_namelen = sizeof(dst),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		const struct sock_extended_err *ee = NULL;
		const struct sockaddr_in *off;
		ssize_t r = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		uint32_t src;

		if (r < 0) {
			*drained = true;
			return out;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR &&
			    c->cmsg_len >= CMSG_LEN(sizeof(*ee)))
				ee = (const struct sock_extended_err *)CMSG_DATA(c);
		}
		if (!ee || ee->ee_origin != SO_EE_ORIGIN_ICMP ||
		    dst.sin_family != AF_INET) {
			s->cfg.st->err_local++;
			continue;
		}
		/* From the router that sent it, else the destination. */
		off = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
		src = off->sin_family == AF_INET && off->sin_addr.s_addr ?
			      off->sin_addr.s_addr : dst.sin_addr.s_addr;
		if (!sock_addr_from_host(&src) ||
		    !sock_addr_from_host(&dst.sin_addr.s_addr)) {
			s->cfg.st->lo_unmapped++;
			continue;
		}
		dp_buf_reset(bufs[out]);
		if (!sk_err_pkt(s, k, port, bufs[out], ee, src, &dst, data,
				(uint32_t)r)) {
			s->cfg.pstats->rx_errors++;
			continue;
		}
		s->cfg.st->icmp_errors++;
		out++;
	}
	return out;
}

unsigned int sock_dgram_rx(struct sock_dgram *s, struct dp_buf **bufs,
			   unsigned int n)
{
	unsigned int k = 0;

	/* Each ready socket at most once per call. */
	for (uint32_t left = s->ready_n; left && k < n; left--) {
		uint32_t e = s->ready[s->ready_head];
		enum sk_kind kind = (enum sk_kind)(e >> 16);
		uint16_t port = (uint16_t)e;
		struct sk_slot *sl = &s->slot[kind][port];
		bool drained = true;

		s->ready_head = (s->ready_head + 1) % SK_READY_CAP;
		s->ready_n--;
		if (sl->fd >= 0 && sl->err) {
			bool empty;

			k += sk_errs(s, kind, port, sl->fd, bufs + k, n - k,
				     &empty);
			if (empty)
				sl->err = 0;
			drained = empty;
		}
		if (sl->fd >= 0 && k < n) {
			k += sk_recv(s, kind, port, sl->fd, bufs + k, n - k,
				     &drained);
		} else if (sl->fd >= 0) {
			drained = false;
		}
		sl->ready = 0;
		if (!drained)
			sk_ready(s, kind, port);	/* at the tail */
	}
	return k;
}

int sock_dgram_event(struct sock_dgram *s, uint32_t sub, uint32_t events)
{
	uint32_t kind = sub >> SOCK_SUB_KIND_SHIFT;
	uint16_t port = (uint16_t)sub;
	uint16_t gen = (uint16_t)((sub >> 16) & SK_GEN_MASK);
	enum sk_kind k;
	struct sk_slot *sl;

	if (kind == SOCK_SUB_UDP)
		k = SK_UDP;
	else if (kind == SOCK_SUB_ICMP)
		k = SK_ICMP;
	else
		return 0;
	sl = &s->slot[k][port];
	if (sl->fd < 0 || sl->gen != gen)
		return 0;	/* a socket closed since: stale */
	if (events & EPOLLERR)
		sl->err = 1;
	sk_ready(s, k, port);
	return DP_FD_RX;
}

bool sock_dgram_pending(const struct sock_dgram *s)
{
	return s->ready_n != 0;
}

/*
 * A datagram socket belongs to the mapping: it goes with the mapping's last
 * flow, whatever that flow was (one the outside opened, or a hairpin flow
 * that held the mapping last). The external port P of the mapping is the
 * destination a reply travels to: for a flow the outside opened, its
 * original destination; for the others (a hairpin flow holds its source's
 * mapping), the reply's.
 */
void sock_dgram_flow_gone(struct sock_dgram *s, const struct ct_entry *e,
			  bool mapping_gone)
{
	const struct ct_tuple *t = (e->flags & CT_F_INBOUND) ?
					   &e->tuple[CT_DIR_ORIG] :
					   &e->tuple[CT_DIR_REPLY];
	uint16_t port = ntohs(t->dport);

	if (!mapping_gone)
		return;
	if (t->proto == IPPROTO_NUM_UDP && !s->slot[SK_UDP][port].pinned)
		sk_close(s, SK_UDP, port);
	else if (t->proto == IPPROTO_NUM_ICMP)
		sk_close(s, SK_ICMP, port);
}

int sock_dgram_forward(struct sock_dgram *s, uint32_t addr, uint16_t port)
{
	struct sk_slot *sl = &s->slot[SK_UDP][port];
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = addr,
	};
	int one = 1, fd;

	if (!port || sl->pinned || s->n_fwd >= SOCK_FORWARDS_MAX)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	sl->fd = fd;
	sl->pinned = 1;
	s->fwd[s->n_fwd++] = port;
	s->open++;
	s->cfg.st->udp_opened++;
	s->cfg.st->udp_open++;
	return 0;
}

int sock_dgram_forward_add(struct sock_dgram *s, uint32_t addr, uint16_t port)
{
	struct sk_slot *sl = &s->slot[SK_UDP][port];
	uint32_t bound = 0;
	int err;

	if (!port || sl->pinned || s->n_fwd >= SOCK_FORWARDS_MAX)
		return -EINVAL;
	if (sl->fd >= 0) {
		/* The socket of a deleted forward that flows still hold:
		 * the same forward again, unless it asks for another
		 * address (that socket cannot move while they use it). */
		err = sock_bound_addr(sl->fd, &bound);
		if (err)
			return err;
		if (bound != addr)
			return -EBUSY;
		sl->pinned = 1;
		s->fwd[s->n_fwd++] = port;
		return 0;
	}
	err = sock_dgram_forward(s, addr, port);
	if (err || !s->cfg.env->watch)
		return err;
	sl->gen = (uint16_t)((sl->gen + 1) & SK_GEN_MASK);
	err = s->cfg.env->watch(s->cfg.env->ctx, sl->fd,
				sk_sub(SK_UDP, sl->gen, port), EPOLLIN);
	if (err)
		sock_dgram_forward_remove(s, port, false);
	return err;
}

int sock_dgram_forward_remove(struct sock_dgram *s, uint16_t port, bool held)
{
	for (unsigned int i = 0; i < s->n_fwd; i++) {
		if (s->fwd[i] != port)
			continue;
		s->fwd[i] = s->fwd[--s->n_fwd];
		s->slot[SK_UDP][port].pinned = 0;
		if (!held)
			sk_close(s, SK_UDP, port);
		return 0;
	}
	return -ENOENT;
}

int sock_dgram_forward_host(const struct sock_dgram *s, uint16_t port,
			    uint32_t *addr)
{
	const struct sk_slot *sl = &s->slot[SK_UDP][port];

	if (!sl->pinned || sl->fd < 0)
		return -ENOENT;
	return sock_bound_addr(sl->fd, addr);
}

int sock_dgram_watch_forwards(struct sock_dgram *s)
{
	for (unsigned int i = 0; i < s->n_fwd; i++) {
		struct sk_slot *sl = &s->slot[SK_UDP][s->fwd[i]];
		int err;

		if (!s->cfg.env->watch)
			return -ENOTCONN;
		sl->gen = (uint16_t)((sl->gen + 1) & SK_GEN_MASK);
		err = s->cfg.env->watch(s->cfg.env->ctx, sl->fd,
					sk_sub(SK_UDP, sl->gen, s->fwd[i]),
					EPOLLIN);
		if (err)
			return err;
	}
	return 0;
}

bool sock_dgram_probe_echo(struct sock_dgram *s)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (errno == EACCES || errno == EPERM) {
		log_err("%s: ICMP echo (ping) is not relayed: arcnat's group is "
			"not in net.ipv4.ping_group_range (sysctl "
			"net.ipv4.ping_group_range=\"0 2147483647\" allows "
			"everyone)", s->cfg.name);
		s->echo_warned = true;
	} else {
		log_err("%s: ICMP echo (ping) is not relayed: ping socket: %s",
			s->cfg.name, strerror(errno));
	}
	return false;
}

void sock_dgram_destroy(struct sock_dgram *s)
{
	if (!s)
		return;
	for (unsigned int k = 0; k < SK__N; k++) {
		for (uint32_t i = 0; s->slot[k] && i < SK_PORTS; i++) {
			struct sk_slot *sl = &s->slot[k][i];

			if (sl->fd >= 0)
				close(sl->fd);
		}
		free(s->slot[k]);
	}
	free(s->ready);
	free(s);
}

int sock_dgram_create(struct sock_dgram **out, const struct sock_dgram_cfg *cfg)
{
	struct sock_dgram *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	ratelimit_init(&s->rl_nofd, 5, 10 * NSEC_PER_SEC);
	for (unsigned int k = 0; k < SK__N; k++) {
		s->slot[k] = malloc(SK_PORTS * sizeof(*s->slot[k]));
		if (!s->slot[k])
			goto fail;
		for (uint32_t i = 0; i < SK_PORTS; i++)
			s->slot[k][i] = (struct sk_slot){ .fd = -1 };
	}
	s->ready = calloc((size_t)SK_READY_CAP, sizeof(*s->ready));
	if (!s->ready)
		goto fail;
	if (cfg->pinned_udp)
		s->slot[SK_UDP][cfg->pinned_udp].pinned = 1;
	*out = s;
	return 0;
fail:
	sock_dgram_destroy(s);
	return -ENOMEM;
}
