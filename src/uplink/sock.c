// SPDX-License-Identifier: MIT
/*
 * sock.c - the socket uplink's port: what the worker sees of it
 * (theory of operation in sock.h).
 *
 * The port dispatches: a translated packet by its protocol to the datagram
 * sockets (sock_dgram: UDP, ICMP echo) or to the TCP relay (sock_tcp), an
 * fd event by its sub-index kind, a flow's end to both. rx_burst() hands
 * out first the port's own packets (ICMP errors it makes, RSTs when there
 * is no relay), which wait in a small ring, then the relay's segments and
 * the datagram sockets' packets, each going first every other call so that
 * neither starves the other; rx_pending() tells the worker about all
 * three, since no fd event announces them.
 *
 * Port forwards: a UDP forward's socket is its external port's datagram
 * socket, bound at start and never closed (sock_dgram_forward()); a TCP
 * forward has a listening socket here, whose clients are accepted (a
 * bounded burst per event) and handed to the relay (sock_tcp_accept()),
 * which opens the connection towards the guest. A client's loopback
 * address is given as its image in 198.19.0.0/16 (sock_defs.h), which the
 * NAT shows the guest as the gateway's address. A listener whose clients
 * cannot be taken now (the relay has no room for another opening
 * connection, or accept() ran out of descriptors) is left unwatched until
 * the next tick: its clients wait in the kernel's backlog rather than
 * being accepted and reset, and the worker is not woken again and again
 * by a backlog it cannot take.
 *
 * Fragments: a host socket cannot send one, so the guest's fragments are
 * put back together first (pkt/reasm, bounded: REASM_SLOTS_DEFAULT
 * datagrams of up to 64 KiB at once) and the whole datagram goes the way
 * an unfragmented one does. They arrive translated (the NAT's memory of
 * first fragments translates the later ones), all from EXT, so the
 * reassembler keys them by their flow too: two guests' datagrams with one
 * identification to one remote stay apart. The datagram lives in the
 * reassembler's storage; sk_tx_frag() lends it to the datagram sockets as
 * a dp_buf of its own for the length of the call.
 */
#include "uplink/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "pkt/reasm.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"
#include "uplink/sock_dgram.h"
#include "uplink/sock_tcp.h"

#define SK_MIN_SOCKETS	16u
#define SK_LISTEN_BACKLOG 128	/* listen(): clients not yet accepted */
#define SK_ACCEPT_BURST	32u	/* clients accepted per listener event */

/**
 * struct sk_listener - a TCP forward's listening socket.
 * @fd:     the socket
 * @port:   its host port, the forward's external port (host order)
 * @paused: unwatched until the tick (sock.c's header says why)
 */
struct sk_listener {
	int fd;
	uint16_t port;
	bool paused;
};

struct sk_pending {
	uint16_t len;
	uint8_t data[PKT_ICMP4_ERR_MAX];
};

struct sock_uplink {
	struct dp_port port;
	struct sock_uplink_cfg cfg;
	struct sock_env env;
	struct dp_worker *w;
	struct sock_tcp *tcp;		/* NULL: TCP answered with an RST */
	struct reasm *ra;		/* the guest's fragments */
	bool tcp_first;			/* rx_burst's order this time */
	struct sock_dgram *dg;
	struct sk_pending pend[SOCK_PENDING_MAX];
	unsigned int pend_head;
	unsigned int pend_n;
	uint16_t ip_id;
	struct sk_listener *lst;	/* TCP forwards, n_lst of them */
	unsigned int n_lst;
	struct ratelimit rl_accept;
	struct sock_uplink_stats st;
};

static struct sock_uplink *sk_of(struct dp_port *p)
{
	return container_of(p, struct sock_uplink, port);
}

static const struct sock_uplink *sk_of_c(const struct dp_port *p)
{
	return container_of(p, const struct sock_uplink, port);
}

/* ---- the port's own packets ---- */

/* A slot of the pending ring to build into, or NULL (counted). */
static struct sk_pending *sk_pend_slot(struct sock_uplink *s)
{
	if (s->pend_n == SOCK_PENDING_MAX) {
		s->st.pending_full++;
		return NULL;
	}
	return &s->pend[(s->pend_head + s->pend_n) % SOCK_PENDING_MAX];
}

static void sk_pend_commit(struct sock_uplink *s, struct sk_pending *q, int len)
{
	if (len <= 0)
		return;
	q->len = (uint16_t)len;
	s->pend_n++;
}

/*
 * An ICMP error about @pkt (a translated packet EXT:P -> R, from its IP
 * header, @len bytes) from @from to the external address, for the guest.
 */
static void sk_pend_icmp(struct sock_uplink *s, uint32_t from, uint8_t type,
			 uint8_t code, const uint8_t *pkt, uint32_t len)
{
	struct sk_pending *q = sk_pend_slot(s);
	struct pkt_icmp4_err e = {
		.no_eth = true,
		.src4 = from,
		.dst4 = s->cfg.ext_addr,
		.ip_id = s->ip_id++,
		.type = type,
		.code = code,
		.quote = pkt,
		.quote_len = len,
	};

	if (q)
		sk_pend_commit(s, q, pkt_build_icmp4_error(&e, q->data,
							   sizeof(q->data)));
}

/* A datagram socket could not be opened for @b: tell the guest. */
static void sk_refuse(void *ctx, uint32_t remote, const struct dp_buf *b)
{
	sk_pend_icmp(ctx, remote, ICMP_DEST_UNREACH, ICMP_ADMIN_PROHIBITED,
		     b->data, b->len);
}

/* No TCP relay: answer a guest's segment with an RST (RFC 793 "Reset
 * Generation"), never an RST with one. */
static void sk_tcp_reset(struct sock_uplink *s, const uint8_t *ip,
			 const struct pkt_meta *m)
{
	const uint8_t *th = ip + m->l4_off;
	struct pkt_spec sp = {
		.no_eth = true,
		.src4 = pkt_ip4_daddr(ip, m),
		.dst4 = pkt_ip4_saddr(ip, m),
		.ip_id = s->ip_id++,
		.proto = IPPROTO_NUM_TCP,
		.sport = ntohs(m->dport),
		.dport = ntohs(m->sport),
	};
	struct sk_pending *q;
	uint32_t seq, ack;

	if (m->tcp_flags & TCP_RST)
		return;
	s->st.tcp_rst++;
	q = sk_pend_slot(s);
	if (!q)
		return;
	memcpy(&seq, th + offsetof(struct tcp_hdr, seq), 4);
	memcpy(&ack, th + offsetof(struct tcp_hdr, ack_seq), 4);
	if (m->tcp_flags & TCP_ACK) {
		sp.seq = ntohl(ack);
		sp.tcp_flags = TCP_RST;
	} else {
		sp.ack = ntohl(seq) + pkt_payload_len(m) +
			 !!(m->tcp_flags & TCP_SYN) + !!(m->tcp_flags & TCP_FIN);
		sp.tcp_flags = TCP_RST | TCP_ACK;
	}
	sk_pend_commit(s, q, pkt_build(&sp, q->data, sizeof(q->data)));
}

/*
 * One packet (UDP: a run of them from bufs[0] on) by its protocol, @m its
 * pkt_parse(), not a fragment. Return: packets consumed, at least 1.
 */
static unsigned int sk_tx_l4(struct sock_uplink *s, struct dp_buf **bufs,
			     unsigned int n, const struct pkt_meta *m,
			     uint64_t now)
{
	struct dp_buf *b = bufs[0];

	switch (m->l4_proto) {
	case IPPROTO_NUM_UDP:
		return sock_dgram_udp_tx(s->dg, bufs, n, m, now);
	case IPPROTO_NUM_ICMP:
		/* A guest's error about a SYN the relay sent it (a forward
		 * to a port or host that is not there). */
		if ((m->flags & PKT_F_ICMP_ERROR) && s->tcp &&
		    m->inner.proto == IPPROTO_NUM_TCP) {
			sock_tcp_icmp(s->tcp, b->data, b->len, m, now);
			s->port.stats.tx_packets++;
			s->port.stats.tx_bytes += b->len;
			break;
		}
		sock_dgram_echo_tx(s->dg, b, m, now);
		break;
	case IPPROTO_NUM_TCP:
		if (s->tcp) {
			sock_tcp_input(s->tcp, b->flow, b->data, b->len, m,
				       &b->vnet, now);
			s->port.stats.tx_packets++;
			s->port.stats.tx_bytes += b->len;
			break;
		}
		sk_tcp_reset(s, b->data, m);
		s->port.stats.tx_dropped++;
		break;
	default:
		s->st.other++;
		s->port.stats.tx_dropped++;
		break;
	}
	return 1;
}

/*
 * A fragment: to the reassembler; a datagram it completes goes on as one
 * packet. A fragment held is neither sent nor dropped yet (tx_packets
 * counts the datagram once it is sent); one the reassembler drops is
 * counted there and in tx_dropped.
 */
static void sk_tx_frag(struct sock_uplink *s, const struct dp_buf *b,
		       uint64_t now)
{
	struct reasm_out o;
	struct dp_buf whole, *one = &whole;
	struct pkt_meta m;

	switch (reasm_add(s->ra, b->data, b->len, b->flow, now, &o)) {
	case REASM_HELD:
		return;
	case REASM_DONE:
		break;
	default:	/* REASM_DROP; REASM_NOT_FRAG cannot be (PKT_F_FRAG) */
		s->port.stats.tx_dropped++;
		return;
	}
	/* The reassembler's storage, lent for this call: a buffer of ours
	 * with no headroom, which the datagram sockets do not need. */
	whole = (struct dp_buf){
		.data = (uint8_t *)o.pkt,
		.len = o.len,
		.flow = o.ctx,
		.head = (uint8_t *)o.pkt,
		.cap = o.len,
	};
	if (pkt_parse(whole.data, whole.len, PKT_PARSE_L3, &m) != PKT_DROP_OK ||
	    !(m.flags & PKT_F_L4)) {
		/* Another protocol, or an L4 header that only the whole
		 * datagram shows to be bad. */
		s->st.other++;
		s->port.stats.tx_dropped++;
		return;
	}
	(void)sk_tx_l4(s, &one, 1, &m, now);
}

static unsigned int sk_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct sock_uplink *s = sk_of(p);
	unsigned int i = 0;

	while (i < n) {
		struct dp_buf *b = bufs[i];
		struct pkt_meta m;

		dp_buf_check(b, 0);
		if (pkt_parse(b->data, b->len, PKT_PARSE_L3, &m) != PKT_DROP_OK ||
		    m.l3 != PKT_L3_IPV4) {
			s->st.other++;
			s->port.stats.tx_dropped++;
			i++;
			continue;
		}
		if (m.flags & PKT_F_FRAG) {
			sk_tx_frag(s, b, now);
			i++;
			continue;
		}
		if (!(m.flags & PKT_F_L4)) {
			s->st.other++;
			s->port.stats.tx_dropped++;
			i++;
			continue;
		}
		i += sk_tx_l4(s, bufs + i, n - i, &m, now);
	}
	return n;
}

/* The TCP relay's segments for the guest into bufs. Return: how many. */
static unsigned int sk_tcp_out(struct sock_uplink *s, struct dp_buf **bufs,
			       unsigned int n, uint64_t now)
{
	if (!s->tcp || !n || !sock_tcp_pending(s->tcp))
		return 0;
	for (unsigned int i = 0; i < n; i++)
		dp_buf_reset(bufs[i]);
	return sock_tcp_output(s->tcp, bufs, n, now);
}

static int sk_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	struct sock_uplink *s = sk_of(p);
	unsigned int k = 0;

	while (k < n && s->pend_n) {
		const struct sk_pending *q = &s->pend[s->pend_head];

		dp_buf_reset(bufs[k]);
		memcpy(bufs[k]->data, q->data, q->len);
		bufs[k++]->len = q->len;
		s->pend_head = (s->pend_head + 1) % SOCK_PENDING_MAX;
		s->pend_n--;
	}
	/* TCP's segments and the datagram sockets take turns at going
	 * first, so that a bulk transfer starves neither. */
	s->tcp_first = !s->tcp_first;
	if (s->tcp_first)
		k += sk_tcp_out(s, bufs + k, n - k, now);
	k += sock_dgram_rx(s->dg, bufs + k, n - k);
	if (!s->tcp_first)
		k += sk_tcp_out(s, bufs + k, n - k, now);
	for (unsigned int i = 0; i < k; i++) {
		s->port.stats.rx_packets++;
		s->port.stats.rx_bytes += bufs[i]->len;
	}
	return (int)k;
}

/* Close a client at once with an RST (linger 0), not a FIN. */
static void sk_close_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Watch (or pause) listener @i for new clients. Return: 0 or -errno. */
static int sk_listen_watch(struct sock_uplink *s, unsigned int i, bool on)
{
	struct sk_listener *l = &s->lst[i];

	if (!s->env.watch)
		return -ENOTCONN;
	l->paused = !on;
	return s->env.watch(s->env.ctx, l->fd,
			    SOCK_SUB_TCP_LISTEN << SOCK_SUB_KIND_SHIFT | i,
			    on ? EPOLLIN : 0);
}

/*
 * Clients of listener @i, at most a burst: each goes to the relay, which
 * owns its socket from then on. A client whose loopback address has no
 * image is reset at once.
 */
static void sk_accept(struct sock_uplink *s, unsigned int i, uint64_t now)
{
	struct sk_listener *l = &s->lst[i];

	for (unsigned int k = 0; k < SK_ACCEPT_BURST; k++) {
		struct sockaddr_in sa = { 0 };
		socklen_t len = sizeof(sa);
		uint32_t peer;
		int fd;

		if (!sock_tcp_can_accept(s->tcp)) {
			sk_listen_watch(s, i, false);
			return;
		}
		fd = accept4(l->fd, (struct sockaddr *)&sa, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				s->st.fwd_refused++;
				log_rl(&s->rl_accept, now, LOG_LEVEL_WARN,
				       "sock: forward of port %u: accept: %s "
				       "(clients wait in the backlog)", l->port,
				       strerror(errno));
				sk_listen_watch(s, i, false);
			}
			return;	/* EAGAIN, or a client gone already */
		}
		s->st.fwd_accepted++;
		peer = sa.sin_addr.s_addr;
		if (sa.sin_family != AF_INET || !sock_addr_from_host(&peer)) {
			s->st.fwd_refused++;
			sk_close_reset(fd);
			continue;
		}
		/* Refusals are the relay's to count; it closed the socket. */
		(void)sock_tcp_accept(s->tcp, fd, peer, sa.sin_port,
				      htons(l->port), now);
	}
}

static int sk_fd_event(struct dp_port *p, uint32_t sub, uint32_t events,
		       uint64_t now)
{
	struct sock_uplink *s = sk_of(p);
	uint32_t kind = sub >> SOCK_SUB_KIND_SHIFT;

	if (kind == SOCK_SUB_TCP_LISTEN) {
		if ((sub & 0xffffu) < s->n_lst && s->lst[sub & 0xffffu].fd >= 0)
			sk_accept(s, sub & 0xffffu, now);
		return sock_tcp_pending(s->tcp) ? DP_FD_RX : 0;
	}
	if (kind == SOCK_SUB_TCP && s->tcp) {
		sock_tcp_event(s->tcp, sub & (SOCK_TCP_ID_LIMIT - 1), events,
			       now);
		return sock_tcp_pending(s->tcp) ? DP_FD_RX : 0;
	}
	return sock_dgram_event(s->dg, sub, events);
}

static bool sk_rx_pending(const struct dp_port *p)
{
	const struct sock_uplink *s = sk_of_c(p);

	return s->pend_n || sock_dgram_pending(s->dg) ||
	       (s->tcp && sock_tcp_pending(s->tcp));
}

static void sk_tick(struct dp_port *p, uint64_t now)
{
	struct sock_uplink *s = sk_of(p);

	for (unsigned int i = 0; i < s->n_lst; i++)
		if (s->lst[i].paused && s->lst[i].fd >= 0)
			sk_listen_watch(s, i, true);
	if (s->tcp)
		sock_tcp_tick(s->tcp, now);
	reasm_expire(s->ra, now);
}

/* A flow left the table: a TCP connection belongs to its flow, a datagram
 * socket to its mapping. */
static void sk_flow_gone(struct dp_port *p, uint32_t flow,
			 const struct ct_entry *e, bool mapping_gone)
{
	struct sock_uplink *s = sk_of(p);

	if (e->tuple[CT_DIR_ORIG].proto == IPPROTO_NUM_TCP) {
		if (s->tcp)
			sock_tcp_flow_gone(s->tcp, flow);
		return;
	}
	sock_dgram_flow_gone(s->dg, e, mapping_gone);
}

static void sk_print_stats(const struct dp_port *p, FILE *f, const char *pfx)
{
	struct sock_uplink_stats st;

	sock_uplink_get_stats(p, &st);
#define SK_STAT(name) \
	fprintf(f, "stat %s.sock." #name " %" PRIu64 "\n", pfx, st.name)
	SK_STAT(udp_open);
	SK_STAT(udp_opened);
	SK_STAT(udp_preserved);
	SK_STAT(udp_closed);
	SK_STAT(echo_open);
	SK_STAT(echo_opened);
	SK_STAT(echo_closed);
	SK_STAT(icmp_errors);
	SK_STAT(err_local);
	SK_STAT(no_fd);
	SK_STAT(echo_denied);
	SK_STAT(no_flow);
	SK_STAT(frag);
	SK_STAT(frag_reassembled);
	SK_STAT(frag_timeout);
	SK_STAT(frag_overlap);
	SK_STAT(frag_dup);
	SK_STAT(frag_too_big);
	SK_STAT(frag_bad_end);
	SK_STAT(frag_bad);
	SK_STAT(frag_evicted);
	SK_STAT(frag_active);
	SK_STAT(frag_slots);
	SK_STAT(lo_unmapped);
	SK_STAT(send_err);
	SK_STAT(tcp_rst);
	SK_STAT(other);
	SK_STAT(pending_full);
	SK_STAT(fwd_accepted);
	SK_STAT(fwd_refused);
	SK_STAT(max_sockets);
	SK_STAT(max_tcp);
#undef SK_STAT
	if (sk_of_c(p)->tcp) {
		struct sock_tcp_stats t;

		sock_tcp_get_stats(sk_of_c(p)->tcp, &t);
#define SK_TCP(name) \
	fprintf(f, "stat %s.sock.tcp_" #name " %" PRIu64 "\n", pfx, t.name)
		SK_TCP(active);
		SK_TCP(opened);
		SK_TCP(established);
		SK_TCP(closed);
		SK_TCP(refused);
		SK_TCP(unreachable);
		SK_TCP(table_full);
		SK_TCP(socket_failed);
		SK_TCP(rst_from_guest);
		SK_TCP(rst_from_remote);
		SK_TCP(aborted);
		SK_TCP(flow_gone);
		SK_TCP(rst_sent);
		SK_TCP(rst_dropped);
		SK_TCP(no_conn);
		SK_TCP(bad_segment);
		SK_TCP(ooo);
		SK_TCP(short_writes);
		SK_TCP(to_remote_bytes);
		SK_TCP(to_guest_bytes);
		SK_TCP(segs_in);
		SK_TCP(segs_out);
		SK_TCP(retransmits);
		SK_TCP(fast_retransmits);
		SK_TCP(probes);
		SK_TCP(wnd_polls);
		SK_TCP(fwd_accepted);
		SK_TCP(fwd_established);
		SK_TCP(fwd_no_slot);
		SK_TCP(fwd_exists);
		SK_TCP(fwd_syn_timeout);
		SK_TCP(fwd_refused);
		SK_TCP(fwd_unreachable);
		SK_TCP(fwd_client_gone);
#undef SK_TCP
	}
}

static void sk_destroy(struct dp_port *p)
{
	struct sock_uplink *s;

	if (!p)
		return;
	s = sk_of(p);
	/* The worker may be gone already; closing our own sockets takes
	 * them out of its epoll set anyway. */
	s->env.unwatch = NULL;
	sock_tcp_destroy(s->tcp);
	sock_dgram_destroy(s->dg);
	reasm_destroy(s->ra);
	for (unsigned int i = 0; i < s->n_lst; i++)
		if (s->lst[i].fd >= 0)
			close(s->lst[i].fd);
	free(s->lst);
	if (p->fd >= 0)
		close(p->fd);
	free(s);
}

static const struct dp_port_ops sk_ops = {
	.rx_burst = sk_rx,
	.tx_burst = sk_tx,
	.fd_event = sk_fd_event,
	.flow_gone = sk_flow_gone,
	.rx_pending = sk_rx_pending,
	.tick = sk_tick,
	.print_stats = sk_print_stats,
	.destroy = sk_destroy,
};

/* ---- setup ---- */

/* The TCP relay's sockets go into the port's event set under kind TCP. */
static int sk_tcp_watch(void *ctx, int fd, uint32_t id, uint32_t events)
{
	struct sock_uplink *s = ctx;

	if (!s->env.watch || id >= SOCK_TCP_ID_LIMIT)
		return -ENOTCONN;
	return s->env.watch(s->env.ctx, fd,
			    SOCK_SUB_TCP << SOCK_SUB_KIND_SHIFT | id, events);
}

static void sk_tcp_unwatch(void *ctx, int fd)
{
	struct sock_uplink *s = ctx;

	if (s->env.unwatch)
		s->env.unwatch(s->env.ctx, fd);
}

/* The TCP relay, sized by the table's flows and the socket bound. */
static int sk_tcp_open(struct sock_uplink *s)
{
	uint32_t flows = ct_capacity(s->cfg.ct);
	struct sock_tcp_config tc = {
		.max_conns = s->cfg.max_tcp ? s->cfg.max_tcp : flows,
		.max_flows = flows,
		.ext_addr = s->cfg.ext_addr,
		.mtu = s->cfg.guest_mtu,
		.gso = true,
		.csum_offload = true,
		.env = { .ctx = s, .watch = sk_tcp_watch,
			 .unwatch = sk_tcp_unwatch },
	};

	if (tc.max_conns > s->cfg.max_sockets)
		tc.max_conns = s->cfg.max_sockets;
	if (tc.max_conns > SOCK_TCP_CONNS_MAX)
		tc.max_conns = SOCK_TCP_CONNS_MAX;
	s->st.max_tcp = tc.max_conns;
	return sock_tcp_create(&s->tcp, &tc);
}

/* Why binding a forward's @port failed, as a hint after the error. */
static const char *sk_bind_hint(int err, uint16_t port)
{
	if (err == -EACCES && port < 1024)
		return " (ports below net.ipv4.ip_unprivileged_port_start need "
		       "privilege)";
	if (err == -EADDRINUSE)
		return " (another program has it)";
	if (err == -EADDRNOTAVAIL)
		return " (not an address of this host)";
	return "";
}

/* A TCP forward's listener in @l, bound to @f's address and port. */
static int sk_listen_open(struct sk_listener *l, const struct sock_forward *f)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(f->port),
		.sin_addr.s_addr = f->addr,
	};
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A forward's port comes back at once after a restart, while old
	 * connections linger in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, SK_LISTEN_BACKLOG) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*l = (struct sk_listener){ .fd = fd, .port = f->port };
	return 0;
}

/* Every forward's socket, bound now; the first failure is logged. */
static int sk_forwards_open(struct sock_uplink *s)
{
	char a[INET_ADDRSTRLEN];
	int err = 0;

	if (s->cfg.n_fwd > SOCK_FORWARDS_MAX)
		return -EINVAL;
	if (s->cfg.n_fwd && !s->tcp)
		return -EINVAL;		/* forwards need the connection table */
	/* Room for every forward the control socket may add. */
	s->lst = calloc(SOCK_FORWARDS_MAX, sizeof(*s->lst));
	if (!s->lst)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->cfg.n_fwd && !err; i++) {
		const struct sock_forward *f = &s->cfg.fwd[i];

		err = f->proto == IPPROTO_TCP ?
			      sk_listen_open(&s->lst[s->n_lst], f) :
		      f->proto == IPPROTO_UDP ?
			      sock_dgram_forward(s->dg, f->addr, f->port) :
			      -EPROTONOSUPPORT;
		if (err) {
			inet_ntop(AF_INET, &f->addr, a, sizeof(a));
			log_err("%s forward of %s port %u: %s%s",
				f->proto == IPPROTO_TCP ? "TCP" : "UDP",
				f->addr ? a : "any address", f->port,
				strerror(-err), sk_bind_hint(err, f->port));
		}
		if (!err && f->proto == IPPROTO_TCP)
			s->n_lst++;
	}
	s->cfg.fwd = NULL;	/* borrowed for this call only */
	return err;
}

/* The forwards' sockets join the event set, once there is one. */
static void sk_forwards_watch(struct sock_uplink *s)
{
	int err = sock_dgram_watch_forwards(s->dg);

	for (unsigned int i = 0; i < s->n_lst && !err; i++)
		err = sk_listen_watch(s, i, true);
	if (err)
		log_err("sock: cannot watch the forwards' sockets: %s",
			strerror(-err));
}

int sock_uplink_forward_add(struct dp_port *p, const struct sock_forward *f)
{
	struct sock_uplink *s = sk_of(p);
	unsigned int i = 0;
	int err;

	if (f->proto == IPPROTO_UDP)
		return sock_dgram_forward_add(s->dg, f->addr, f->port);
	if (f->proto != IPPROTO_TCP || !f->port || !s->tcp)
		return -EINVAL;
	while (i < s->n_lst && s->lst[i].fd >= 0)	/* a free slot first */
		i++;
	if (i == SOCK_FORWARDS_MAX)
		return -ENOSPC;
	err = sk_listen_open(&s->lst[i], f);
	if (err)
		return err;
	if (i == s->n_lst)
		s->n_lst++;
	err = s->env.watch ? sk_listen_watch(s, i, true) : 0;
	if (err) {
		close(s->lst[i].fd);
		s->lst[i].fd = -1;
	}
	return err;
}

int sock_uplink_forward_host(const struct dp_port *p, uint8_t proto,
			     uint16_t port, uint32_t *addr)
{
	const struct sock_uplink *s = sk_of_c(p);

	if (proto == IPPROTO_UDP)
		return sock_dgram_forward_host(s->dg, port, addr);
	for (unsigned int i = 0; proto == IPPROTO_TCP && i < s->n_lst; i++)
		if (s->lst[i].fd >= 0 && s->lst[i].port == port)
			return sock_bound_addr(s->lst[i].fd, addr);
	return -ENOENT;
}

int sock_uplink_forward_remove(struct dp_port *p, uint8_t proto, uint16_t port,
			       bool held)
{
	struct sock_uplink *s = sk_of(p);

	if (proto == IPPROTO_UDP)
		return sock_dgram_forward_remove(s->dg, port, held);
	for (unsigned int i = 0; i < s->n_lst; i++) {
		struct sk_listener *l = &s->lst[i];

		if (l->fd < 0 || l->port != port)
			continue;
		/* Its clients are the relay's: they go on. */
		if (s->env.unwatch)
			s->env.unwatch(s->env.ctx, l->fd);
		close(l->fd);
		*l = (struct sk_listener){ .fd = -1 };
		return 0;
	}
	return -ENOENT;
}

/* The descriptor limit, raised to its hard maximum (as pasta does). */
static uint32_t sk_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	return rl.rlim_cur > UINT32_MAX ? UINT32_MAX : (uint32_t)rl.rlim_cur;
}

int sock_uplink_open(struct dp_port **out, const struct sock_uplink_cfg *cfg)
{
	struct sock_uplink *s;
	int err;

	if (!cfg->ext_addr)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->port.ops = &sk_ops;
	s->port.fd = -1;
	s->cfg = *cfg;
	if (!s->cfg.max_sockets) {
		uint32_t lim = sk_fd_limit();

		s->cfg.max_sockets = lim > SOCK_FD_RESERVE + SK_MIN_SOCKETS ?
					     lim - SOCK_FD_RESERVE : SK_MIN_SOCKETS;
	}
	s->st.max_sockets = s->cfg.max_sockets;
	snprintf(s->port.name, sizeof(s->port.name), "sock");
	err = sock_dgram_create(&s->dg, &(struct sock_dgram_cfg){
		.ext_addr = s->cfg.ext_addr,
		.ct = s->cfg.ct,
		.pinned_udp = s->cfg.pinned_udp,
		.max_sockets = s->cfg.max_sockets,
		.name = s->port.name,
		.env = &s->env,
		.pstats = &s->port.stats,
		.st = &s->st,
		.refuse = sk_refuse,
		.ctx = s,
	});
	if (err)
		goto fail;
	if (s->cfg.ct) {
		err = sk_tcp_open(s);
		if (err)
			goto fail;
	}
	err = reasm_create(&s->ra, NULL);
	if (err)
		goto fail;
	ratelimit_init(&s->rl_accept, 5, 10 * NSEC_PER_SEC);
	err = sk_forwards_open(s);
	if (err)
		goto fail;
	/* The port's own fd: never readable (its sockets are extra fds). */
	s->port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->port.fd < 0) {
		err = -errno;
		goto fail;
	}
	s->port.flags = DP_PORT_L3 | DP_PORT_VNET | DP_PORT_KICK;
	s->port.mtu = SOCK_MTU;
	*out = &s->port;
	return 0;
fail:
	sk_destroy(&s->port);
	return err;
}

/* The worker as the port's sock_env: add, or change an fd already in. */
static int sk_worker_watch(void *ctx, int fd, uint32_t sub, uint32_t events)
{
	struct dp_worker **wp = ctx;
	struct sock_uplink *s = container_of(wp, struct sock_uplink, w);
	int err = dp_worker_add_fd(*wp, &s->port, fd, sub, events);

	if (err == -EEXIST)
		err = dp_worker_mod_fd(*wp, &s->port, fd, sub, events);
	return err;
}

static void sk_worker_unwatch(void *ctx, int fd)
{
	struct dp_worker **wp = ctx;

	dp_worker_del_fd(*wp, fd);
}

void sock_uplink_attach(struct dp_port *p, struct dp_worker *w)
{
	struct sock_uplink *s = sk_of(p);

	s->w = w;
	s->env = (struct sock_env){
		.ctx = &s->w,
		.watch = sk_worker_watch,
		.unwatch = sk_worker_unwatch,
	};
	sk_forwards_watch(s);
}

void sock_uplink_set_env(struct dp_port *p, const struct sock_env *env)
{
	sk_of(p)->env = *env;
	sk_forwards_watch(sk_of(p));
}

bool sock_uplink_probe_echo(struct dp_port *p)
{
	return sock_dgram_probe_echo(sk_of(p)->dg);
}

void sock_uplink_get_stats(const struct dp_port *p,
			   struct sock_uplink_stats *out)
{
	const struct sock_uplink *s = sk_of_c(p);
	struct reasm_stats r;

	*out = s->st;
	reasm_get_stats(s->ra, &r);
	out->frag = r.fragments;
	out->frag_reassembled = r.reassembled;
	out->frag_timeout = r.timeout;
	out->frag_overlap = r.overlap;
	out->frag_dup = r.dup;
	out->frag_too_big = r.too_big;
	out->frag_bad_end = r.bad_end;
	out->frag_bad = r.bad;
	out->frag_evicted = r.evicted;
	out->frag_active = r.active;
	out->frag_slots = reasm_slots(s->ra);
}
