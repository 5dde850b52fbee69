// SPDX-License-Identifier: MIT
/*
 * test_sock.c - the socket uplink (uplink/sock) behind a real NAT, over
 * loopback: guest packets are translated by nat_process() as the worker
 * does, handed to the port's tx_burst with their flow, and relayed to UDP
 * servers on 127.0.0.1 that the test owns; what the servers send back
 * comes out of rx_burst as IPv4 packets (checksums verified) that the NAT
 * translates back to the guest. The port's sockets are watched by the
 * test's own epoll set (sock_uplink_set_env()).
 *
 * Checked: UDP both ways at sizes up to 65000 bytes, port preservation,
 * endpoint-independent mapping (two servers see one source port, a third
 * reaches the mapping and the NAT's filtering drops it), an ICMP port
 * unreachable from the host's error queue given to the guest as the NAT
 * translates it, the socket closed with its mapping's last flow (and its
 * stale event ignored), the pinned port of packets of no flow, the socket
 * limit answered with an ICMP error, TCP through the relay (uplink/sock_tcp)
 * to a server of the test's and a refused port's RST, ICMP echo through a
 * ping socket with the guest's identifier restored. Guest packets go to the
 * loopback's image 198.19.0.1, which the port maps to 127.0.0.1 and back;
 * a sender on 127.1.0.1 (no image) is dropped.
 *
 * As root the test runs in a network namespace of its own (loopback up,
 * ping sockets allowed there); otherwise in the caller's, and the echo
 * test checks only that a refused ping socket is a counted drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/parse.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"
#include "prot/udp.h"
#include "uplink/sock.h"

#define NB 16
#include "portbufs.h"
#include "fdfill.h"

#define LO	htonl(INADDR_LOOPBACK)
/* The NAT's view of 127.0.0.1 (sock_defs.h): where guest packets go. */
#define LO_IMG	htonl(SOCK_LO_NET_HOST | 1u)
#define EXT	htonl(SOCK_EXT_ADDR_HOST)
#define IN1	htonl(0x0a000202)	/* 10.0.2.2 */
#define GW	htonl(0x0a000201)	/* 10.0.2.1: forwards' loopback clients */
#define IMG	htonl(SOCK_LO_NET_HOST | 1)	/* 198.19.0.1: 127.0.0.1 */
#define SEC(s)	((uint64_t)(s) * NSEC_PER_SEC)

static const struct siphash_key key = { { 1, 2 } };

struct fix {
	struct nat *nat;
	struct dp_port *port;
	int ep;
	uint64_t now;
	uint32_t last_sub;	/* of the last socket watched */
	unsigned int watched;
	uint32_t flows_seen;	/* the flow of the last packet sent out */
	bool echo_ok;
	unsigned int n_fwd;	/* forwards: their sockets stay watched */
};

static struct fix F;

static int t_watch(void *ctx, int fd, uint32_t sub, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = sub };

	(void)ctx;
	F.last_sub = sub;
	if (epoll_ctl(F.ep, EPOLL_CTL_ADD, fd, &ev) == 0) {
		F.watched++;
		return 0;
	}
	if (errno == EEXIST && epoll_ctl(F.ep, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	return -errno;
}

static void t_unwatch(void *ctx, int fd)
{
	(void)ctx;
	assert_int_equal(epoll_ctl(F.ep, EPOLL_CTL_DEL, fd, NULL), 0);
	F.watched--;
}

static void t_gone(void *ctx, uint32_t flow, const struct ct_entry *e,
		   bool mapping_gone)
{
	(void)ctx;
	F.port->ops->flow_gone(F.port, flow, e, mapping_gone);
}

/*
 * The NAT and the port, with @n port forwards: @fwd[i] on the host, to the
 * guest IN1's port @to[i], and the loopback's image shown as GW, as the
 * gateway configures them.
 */
static void fix_up_fwd(uint32_t max_sockets, const struct sock_forward *fwd,
		       const uint16_t *to, unsigned int n)
{
	struct nat_config nc = {
		.ext_addrs = { EXT },
		.n_ext_addrs = 1,
		.max_flows = 1024,
		.seed = 7,
		.key = &key,
		.on_flow_gone = t_gone,
		.inbound_alias = { .addr = htonl(SOCK_LO_NET_HOST),
				   .mask = htonl(SOCK_LO_MASK_HOST), .to = GW },
	};
	struct sock_env env = { .watch = t_watch, .unwatch = t_unwatch };
	struct sock_uplink_cfg sc = { .ext_addr = EXT, .pinned_udp = 49151,
				      .max_sockets = max_sockets,
				      .fwd = fwd, .n_fwd = n };

	memset(&F, 0, sizeof(F));
	F.now = SEC(100);
	F.ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(F.ep >= 0);
	assert_int_equal(nat_create(&F.nat, &nc), 0);
	for (unsigned int i = 0; i < n; i++) {
		const struct nat_forward nf = {
			.proto = fwd[i].proto, .ext_addr = EXT,
			.ext_port = fwd[i].port, .int_addr = IN1,
			.int_port = to[i],
		};

		assert_int_equal(nat_add_forward(F.nat, &nf), 0);
	}
	sc.ct = nat_ct(F.nat);
	assert_int_equal(sock_uplink_open(&F.port, &sc), 0);
	assert_true(F.port->flags & DP_PORT_L3);
	sock_uplink_set_env(F.port, &env);
	assert_int_equal(F.watched, n);	/* bound and listening already */
	F.n_fwd = n;
}

static void fix_up(uint32_t max_sockets)
{
	fix_up_fwd(max_sockets, NULL, NULL, 0);
}

static void expire_all(void);

/* Every flow expires, and with it every socket. */
static void fix_down(void)
{
	expire_all();
	assert_int_equal(F.watched, F.n_fwd);
	assert_int_equal(ct_count(nat_ct(F.nat)), 0);
	nat_destroy(F.nat);
	dp_port_destroy(F.port);
	close(F.ep);
}

static struct sock_uplink_stats sstats(void)
{
	struct sock_uplink_stats st;

	sock_uplink_get_stats(F.port, &st);
	return st;
}

/* A UDP socket of the test's on 127.0.0.1, its port in *port (host order). */
static int server(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = LO };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 1 << 20;
	struct timeval tv = { .tv_sec = 2 };

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port of 127.0.0.1 nobody listens on (host order). */
static uint16_t free_port(void)
{
	uint16_t p;

	close(server(&p));
	return p;
}

/*
 * The guest sends @s (an L3 packet): translated from inside as the worker
 * does and, when it goes out, handed to the port with its flow.
 * Return: the NAT's verdict.
 */
static uint8_t guest_send(const struct pkt_spec *s)
{
	struct nat_pkt p = { 0 };
	int n;

	empty_bufs();
	n = pkt_build(s, bufs[0].data, dp_buf_room(&bufs[0]));
	assert_true(n > 0);
	bufs[0].len = (uint32_t)n;
	assert_int_equal(pkt_parse(bufs[0].data, bufs[0].len, PKT_PARSE_L3,
				   &p.meta), PKT_DROP_OK);
	p.frame = bufs[0].data;
	nat_process(F.nat, &p, 1, NAT_INSIDE, F.now);
	if (p.verdict == NAT_V_TO_OUTSIDE) {
		F.flows_seen = p.flow;
		bufs[0].flow = p.flow;
		assert_int_equal(F.port->ops->tx_burst(F.port, vec, 1, F.now), 1);
	}
	return p.verdict;
}

static struct pkt_spec udp_spec(uint16_t sport, uint32_t dst, uint16_t dport,
				const void *data, size_t len)
{
	return (struct pkt_spec){ .no_eth = true, .src4 = IN1, .dst4 = dst,
				  .proto = IPPROTO_NUM_UDP, .sport = sport,
				  .dport = dport, .payload = data,
				  .payload_len = len };
}

/*
 * Events until @want packets came out of the port or 2 s passed; every
 * packet's IPv4 header and L4 checksum verified. Return: packets in vec[].
 */
static unsigned int pump(unsigned int want)
{
	unsigned int got = 0;

	empty_bufs();
	for (int round = 0; round < 40 && got < want; round++) {
		struct epoll_event ev[8];
		int n = epoll_wait(F.ep, ev, 8, 50);

		for (int i = 0; i < n; i++) {
			int r = F.port->ops->fd_event(F.port, (uint32_t)ev[i].data.u64,
						      ev[i].events, F.now);

			assert_true(r >= 0);
		}
		for (int k = 0; k < 8 && F.port->ops->rx_pending(F.port) &&
				got < NB; k++) {
			int r = F.port->ops->rx_burst(F.port, vec + got, NB - got,
						      F.now);

			assert_true(r >= 0);
			got += (unsigned int)r;
		}
	}
	for (unsigned int i = 0; i < got; i++) {
		const uint8_t *ip = vec[i]->data;
		struct pkt_meta m;

		assert_int_equal(pkt_parse(ip, vec[i]->len, PKT_PARSE_L3, &m),
				 PKT_DROP_OK);
		assert_int_equal(csum_ip4_header(ip, IP4_HLEN_MIN), 0);
		assert_int_equal(pkt_ip4_daddr(ip, &m), EXT);
		if ((vec[i]->flags & DP_BUF_VNET) &&
		    (vec[i]->vnet.flags & VNET_F_NEEDS_CSUM)) {
			continue;	/* the device finishes it */
		} else if (m.l4_proto == IPPROTO_NUM_ICMP) {
			assert_int_equal(csum_finish(csum_partial(ip + m.l4_off,
								  m.l4_len, 0)), 0);
		} else {
			uint32_t sum = csum_pseudo_ip4(pkt_ip4_saddr(ip, &m), EXT,
						       m.l4_proto,
						       (uint16_t)m.l4_len);

			assert_int_equal(csum_finish(csum_partial(ip + m.l4_off,
								  m.l4_len, sum)), 0);
		}
	}
	return got;
}

/* Packet vec[@i] from the port through the NAT to the guest. */
static uint8_t to_guest(unsigned int i, struct pkt_meta *m)
{
	struct nat_pkt p = { .frame = vec[i]->data };

	memset(m, 0, sizeof(*m));
	if ((vec[i]->flags & DP_BUF_VNET) &&
	    (vec[i]->vnet.flags & VNET_F_NEEDS_CSUM))
		p.flags = NAT_PKT_CSUM_PARTIAL;
	assert_int_equal(pkt_parse(vec[i]->data, vec[i]->len, PKT_PARSE_L3,
				   &p.meta), PKT_DROP_OK);
	nat_process(F.nat, &p, 1, NAT_OUTSIDE, F.now);
	if (p.verdict == NAT_V_TO_INSIDE)
		assert_int_equal(pkt_parse(vec[i]->data, vec[i]->len,
					   PKT_PARSE_L3, m), PKT_DROP_OK);
	return p.verdict;
}

static void expire_all(void)
{
	F.now += SEC(CT_TO_MAX) + SEC(1);
	for (int i = 0; i < 1000 && nat_tick_pending(F.nat, F.now); i++)
		nat_tick(F.nat, F.now, 1u << 16);
}

static uint8_t payload[65000];

/* UDP both ways through the relay at several sizes; port preservation. */
static void udp_round_trip(void **state __maybe_unused)
{
	static const uint32_t sizes[] = { 1, 1472, 8000, 65000 };
	uint16_t sp, gport = free_port();
	int srv = server(&sp);

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	fix_up(0);
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		static uint8_t got[65536];
		struct pkt_spec s = udp_spec(gport, LO_IMG, sp, payload, sizes[k]);
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct pkt_meta m;
		ssize_t r;

		assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
		r = recvfrom(srv, got, sizeof(got), 0, (struct sockaddr *)&from,
			     &fl);
		assert_int_equal(r, (ssize_t)sizes[k]);
		assert_memory_equal(got, payload, sizes[k]);
		/* The guest's own port: free on the host, so preserved. */
		assert_int_equal(ntohs(from.sin_port), gport);
		assert_int_equal(sendto(srv, got, (size_t)r, 0,
					(struct sockaddr *)&from, fl), r);
		assert_int_equal(pump(1), 1);
		assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
		assert_int_equal(pkt_ip4_daddr(vec[0]->data, &m), IN1);
		assert_int_equal(ntohs(m.dport), gport);
		assert_int_equal(ntohs(m.sport), sp);
		assert_int_equal(pkt_payload_len(&m), sizes[k]);
		assert_memory_equal(vec[0]->data + m.payload_off, payload,
				    sizes[k]);
	}
	assert_int_equal(sstats().udp_opened, 1);
	assert_int_equal(sstats().udp_preserved, 1);
	assert_int_equal(F.port->stats.tx_packets, ARRAY_SIZE(sizes));
	assert_int_equal(F.port->stats.rx_packets, ARRAY_SIZE(sizes));
	fix_down();
	close(srv);
}

/*
 * One socket per mapping: two servers see the same source port; a third,
 * never addressed, reaches the mapping through the socket, and the NAT's
 * (address- and port-dependent) filtering drops it. The socket closes
 * with the mapping's last flow; an event of it after that is stale.
 */
static void udp_eim_and_close(void **state __maybe_unused)
{
	uint16_t pa, pb, pc, ports[2];
	int a = server(&pa), b = server(&pb), c = server(&pc);
	const int srv[2] = { a, b };
	struct sockaddr_in from = { 0 };
	socklen_t fl = sizeof(from);
	uint32_t sub;
	struct pkt_meta m;
	char x[8];

	fix_up(0);
	for (int i = 0; i < 2; i++) {
		struct pkt_spec s = udp_spec(40000, LO_IMG, i ? pb : pa, "hi", 2);

		assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
		fl = sizeof(from);
		assert_int_equal(recvfrom(srv[i], x, sizeof(x), 0,
					  (struct sockaddr *)&from, &fl), 2);
		ports[i] = from.sin_port;
	}
	assert_int_equal(ports[0], ports[1]);
	assert_int_equal(sstats().udp_opened, 1);
	sub = F.last_sub;

	assert_int_equal(sendto(c, "no", 2, 0, (struct sockaddr *)&from, fl), 2);
	assert_int_equal(pump(1), 1);
	assert_int_equal(ntohs(((const struct udp_hdr *)(vec[0]->data + 20))->sport),
			 pc);
	assert_int_equal(to_guest(0, &m), NAT_V_DROP);

	expire_all();
	assert_int_equal(sstats().udp_open, 0);
	assert_int_equal(sstats().udp_closed, 1);
	assert_int_equal(F.watched, 0);
	assert_int_equal(F.port->ops->fd_event(F.port, sub, EPOLLIN, F.now), 0);
	assert_false(F.port->ops->rx_pending(F.port));
	fix_down();
	close(a);
	close(b);
	close(c);
}

/*
 * The host's loopback through its image (sock_defs.h): the guest's
 * datagram to 198.19.0.1 reaches the server on 127.0.0.1, whose answer
 * comes back from 198.19.0.1; a sender on 127.1.0.1, which has no image,
 * is a counted drop.
 */
static void udp_loopback_image(void **state __maybe_unused)
{
	uint16_t sp;
	int srv = server(&sp), far = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in from = { 0 }, a = { .sin_family = AF_INET,
					       .sin_addr.s_addr = htonl(0x7f010001) };
	struct pkt_spec s = udp_spec(40050, LO_IMG, sp, "hi", 2);
	socklen_t fl = sizeof(from);
	struct pkt_meta m;
	char x[8];

	assert_true(far >= 0);
	assert_int_equal(bind(far, (struct sockaddr *)&a, sizeof(a)), 0);
	fix_up(0);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	assert_int_equal(recvfrom(srv, x, sizeof(x), 0, (struct sockaddr *)&from,
				  &fl), 2);
	assert_int_equal(sendto(srv, "ho", 2, 0, (struct sockaddr *)&from, fl), 2);
	assert_int_equal(pump(1), 1);
	assert_int_equal(pkt_parse(vec[0]->data, vec[0]->len, PKT_PARSE_L3, &m),
			 PKT_DROP_OK);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &m), LO_IMG);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &m), LO_IMG);
	assert_int_equal(ntohs(m.sport), sp);

	from.sin_addr.s_addr = LO;
	assert_int_equal(sendto(far, "no", 2, 0, (struct sockaddr *)&from, fl), 2);
	assert_int_equal(pump(1), 0);
	assert_int_equal(sstats().lo_unmapped, 1);
	fix_down();
	close(far);
	close(srv);
}

/* A datagram to a closed port: the host's ICMP port unreachable comes back
 * to the guest quoting its own datagram (RFC 5508). */
static void udp_icmp_error(void **state __maybe_unused)
{
	uint16_t dead = free_port();
	struct pkt_spec s = udp_spec(40001, LO_IMG, dead, "knock", 5);
	struct pkt_meta m;
	const uint8_t *q;
	uint16_t v;

	fix_up(0);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_true(m.flags & PKT_F_ICMP_ERROR);
	assert_int_equal(m.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(m.icmp_code, ICMP_PORT_UNREACH);
	assert_int_equal(pkt_ip4_daddr(vec[0]->data, &m), IN1);
	q = vec[0]->data + m.inner.l3_off;
	assert_int_equal(memcmp(q + 12, &(uint32_t){ IN1 }, 4), 0);
	memcpy(&v, q + 20, 2);
	assert_int_equal(ntohs(v), 40001);
	memcpy(&v, q + 22, 2);
	assert_int_equal(ntohs(v), dead);
	assert_int_equal(sstats().icmp_errors, 1);
	fix_down();
}

/* A mapping whose last flow is a hairpin flow (the guest to its own
 * mapping, as a STUN client checks): its socket still goes with it. */
static void hairpin_last(void **state __maybe_unused)
{
	uint16_t sp, ext;
	int srv = server(&sp);
	struct pkt_spec s = udp_spec(40030, LO_IMG, sp, "a", 1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char x[4];

	fix_up(0);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	assert_int_equal(recvfrom(srv, x, sizeof(x), 0, (struct sockaddr *)&from,
				  &fl), 1);
	ext = ntohs(ct_entry_at(nat_ct(F.nat),
				F.flows_seen)->tuple[CT_DIR_REPLY].dport);
	F.now += SEC(100);
	s = udp_spec(40030, EXT, ext, "b", 1);	/* to its own mapping */
	assert_int_equal(guest_send(&s), NAT_V_TO_INSIDE);
	F.now += SEC(30);	/* the first flow expires (120 s), not the other */
	for (int i = 0; i < 100 && nat_tick_pending(F.nat, F.now); i++)
		nat_tick(F.nat, F.now, 1u << 16);
	assert_int_equal(ct_count(nat_ct(F.nat)), 1);
	assert_int_equal(sstats().udp_open, 1);
	expire_all();	/* the hairpin flow goes last: the socket with it */
	assert_int_equal(sstats().udp_closed, 1);
	assert_int_equal(F.watched, 0);
	fix_down();
	close(srv);
}

/* The DNS forwarder's queries are no flow: only the pinned port relays
 * them, and its socket stays. */
static void pinned_port(void **state __maybe_unused)
{
	uint16_t sp;
	int srv = server(&sp);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct pkt_spec s = { .no_eth = true, .src4 = EXT, .dst4 = LO_IMG,
			      .proto = IPPROTO_NUM_UDP, .sport = 49151,
			      .dport = sp, .payload = "q", .payload_len = 1 };
	char x[4];
	int n;

	fix_up(0);
	empty_bufs();
	n = pkt_build(&s, bufs[0].data, dp_buf_room(&bufs[0]));
	bufs[0].len = (uint32_t)n;
	assert_int_equal(F.port->ops->tx_burst(F.port, vec, 1, F.now), 1);
	assert_int_equal(recvfrom(srv, x, sizeof(x), 0, (struct sockaddr *)&from,
				  &fl), 1);
	assert_int_equal(sendto(srv, "a", 1, 0, (struct sockaddr *)&from, fl), 1);
	assert_int_equal(pump(1), 1);
	assert_int_equal(ntohs(((const struct udp_hdr *)(vec[0]->data + 20))->dport),
			 49151);
	/* Another port with no flow: dropped, counted. */
	s.sport = 5555;
	empty_bufs();
	n = pkt_build(&s, bufs[0].data, dp_buf_room(&bufs[0]));
	bufs[0].len = (uint32_t)n;
	assert_int_equal(F.port->ops->tx_burst(F.port, vec, 1, F.now), 1);
	assert_int_equal(sstats().no_flow, 1);
	expire_all();
	assert_int_equal(sstats().udp_open, 1);	/* pinned */
	F.port->ops->destroy(F.port);	/* closes it (no unwatch: see there) */
	F.port = NULL;
	nat_destroy(F.nat);
	close(F.ep);
	close(srv);
}

/* Out of sockets: a counted drop and an ICMP error for the guest. */
static void socket_limit(void **state __maybe_unused)
{
	uint16_t sp;
	int srv = server(&sp);
	struct pkt_spec s1 = udp_spec(40010, LO_IMG, sp, "a", 1);
	struct pkt_spec s2 = udp_spec(40011, LO_IMG, sp, "b", 1);
	struct pkt_meta m;

	fix_up(1);
	assert_int_equal(guest_send(&s1), NAT_V_TO_OUTSIDE);
	assert_int_equal(guest_send(&s2), NAT_V_TO_OUTSIDE);
	assert_int_equal(sstats().no_fd, 1);
	assert_true(F.port->ops->rx_pending(F.port));
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(m.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(m.icmp_code, ICMP_ADMIN_PROHIBITED);
	fix_down();
	close(srv);
}

/* Out of descriptors for real (EMFILE): a new UDP mapping is a counted
 * drop answered with an ICMP error; once descriptors are back, the next
 * datagram of that mapping gets its socket. */
static void out_of_descriptors(void **state __maybe_unused)
{
	uint16_t sp;
	int srv = server(&sp), fds[256], probe;
	struct pkt_spec s = udp_spec(40040, LO_IMG, sp, "x", 1);
	struct rlimit saved;
	unsigned int nfill;
	struct pkt_meta m;
	char x[4];

	fix_up(0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	nfill = fill_fds(fds, 256, (rlim_t)probe + 1);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	assert_int_equal(sstats().no_fd, 1);
	assert_int_equal(sstats().udp_open, 0);
	for (unsigned int i = 0; i < nfill; i++)
		close(fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(m.icmp_type, ICMP_DEST_UNREACH);
	assert_int_equal(m.icmp_code, ICMP_ADMIN_PROHIBITED);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	assert_int_equal(recv(srv, x, sizeof(x), 0), 1);
	assert_int_equal(sstats().udp_open, 1);
	fix_down();
	close(srv);
}

/* A guest's TCP segment (no options but MSS on a SYN). */
static uint8_t guest_tcp(uint16_t dport, uint8_t flags, uint32_t seq,
			 uint32_t ack, const char *data)
{
	struct pkt_spec s = { .no_eth = true, .src4 = IN1, .dst4 = LO,
			      .proto = IPPROTO_NUM_TCP, .sport = 40020,
			      .dport = dport, .seq = seq, .ack = ack,
			      .tcp_flags = flags, .window = 65535,
			      .mss = (flags & TCP_SYN) ? 1460 : 0,
			      .payload = data,
			      .payload_len = data ? strlen(data) : 0 };

	return guest_send(&s);
}

static uint32_t tcp_seq(unsigned int i, const struct pkt_meta *m, int field)
{
	uint32_t v;

	memcpy(&v, vec[i]->data + m->l4_off + (field ? 8 : 4), 4);
	return ntohl(v);
}

/* A closed port: the relay's connect() is refused, the guest gets an RST
 * for its SYN at once, which the NAT takes back in. */
static void tcp_refused(void **state __maybe_unused)
{
	uint16_t dead = free_port();
	struct pkt_meta m;

	fix_up(0);
	assert_int_equal(guest_tcp(dead, TCP_SYN, 1000, 0, NULL),
			 NAT_V_TO_OUTSIDE);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_true(m.tcp_flags & TCP_RST);
	assert_int_equal(ntohs(m.dport), 40020);
	assert_int_equal(ntohs(m.sport), dead);
	if (m.tcp_flags & TCP_ACK)
		assert_int_equal(tcp_seq(0, &m, 1), 1001);
	fix_down();
}

/*
 * Through the relay to a server of the test's: the SYN-ACK comes only once
 * the server's kernel accepted; the guest's data reaches the server, the
 * server's reply and FIN reach the guest, all translated by the NAT with
 * the flow the worker would pass (dp_buf.flow).
 */
static void tcp_relay(void **state __maybe_unused)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = LO };
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd;
	struct timeval tv = { .tv_sec = 2 };
	uint32_t srv_seq, gseq = 1001;
	char got[64] = "";
	size_t have = 0;
	bool fin = false;
	uint16_t sp;
	char x[16];

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	sp = ntohs(a.sin_port);
	fix_up(0);

	assert_int_equal(guest_tcp(sp, TCP_SYN, 1000, 0, NULL), NAT_V_TO_OUTSIDE);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	{
		struct pkt_meta m;

		assert_int_equal(pump(1), 1);
		assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
		assert_int_equal(m.tcp_flags, TCP_SYN | TCP_ACK);
		assert_int_equal(tcp_seq(0, &m, 1), 1001);
		srv_seq = tcp_seq(0, &m, 0) + 1;
	}
	assert_int_equal(guest_tcp(sp, TCP_ACK | TCP_PSH, gseq, srv_seq, "hello"),
			 NAT_V_TO_OUTSIDE);
	gseq += 5;
	assert_int_equal(recv(cfd, x, sizeof(x), 0), 5);
	assert_memory_equal(x, "hello", 5);
	assert_int_equal(send(cfd, "world", 5, 0), 5);
	close(cfd);	/* the remote's FIN follows its data */

	for (int round = 0; round < 10 && !fin; round++) {
		unsigned int n = pump(1);

		for (unsigned int i = 0; i < n; i++) {
			struct pkt_meta m;
			uint32_t len;

			assert_int_equal(to_guest(i, &m), NAT_V_TO_INSIDE);
			assert_int_equal(ntohs(m.dport), 40020);
			assert_false(m.tcp_flags & TCP_RST);
			len = pkt_payload_len(&m);
			if (len && tcp_seq(i, &m, 0) == srv_seq &&
			    have + len < sizeof(got)) {
				memcpy(got + have, vec[i]->data + m.payload_off, len);
				have += len;
				srv_seq += len;
			}
			if ((m.tcp_flags & TCP_FIN) && tcp_seq(i, &m, 0) + len ==
							       srv_seq)
				fin = true;
		}
		/* Acknowledge what arrived, as the guest's stack would. */
		assert_int_equal(guest_tcp(sp, TCP_ACK, gseq, srv_seq + fin, NULL),
				 NAT_V_TO_OUTSIDE);
	}
	assert_int_equal(have, 5);
	assert_memory_equal(got, "world", 5);
	assert_true(fin);
	fix_down();	/* the flow's end closes the connection */
	close(lfd);
}

/* A TCP port of 127.0.0.1 nobody listens on (host order). */
static uint16_t free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = LO };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* The local port of socket @fd (host order). */
static uint16_t local_port(int fd)
{
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	return ntohs(a.sin_port);
}

/*
 * A UDP forward, 127.0.0.1:hp -> the guest's port 53: the client's
 * datagram leaves the port from the loopback's image to the forward's
 * external port, and the NAT shows it to the guest from the gateway with
 * the client's port; the guest's answer to the gateway goes back to the
 * client from the forwarded port. A second forward's port is bound too.
 */
static void udp_forward(void **state __maybe_unused)
{
	const uint16_t hp = free_port(), hp2 = free_port(), to[2] = { 53, 54 };
	const struct sock_forward f[2] = { { IPPROTO_UDP, LO, hp },
					   { IPPROTO_UDP, 0, hp2 } };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(hp),
				   .sin_addr.s_addr = LO }, from = { 0 };
	socklen_t fl = sizeof(from);
	struct pkt_spec ans;
	struct pkt_meta m;
	uint16_t cp;
	int cl = server(&cp);	/* the client */
	char x[8];

	fix_up_fwd(0, f, to, 2);
	assert_int_equal(sendto(cl, "ask", 3, 0, (struct sockaddr *)&dst,
				sizeof(dst)), 3);
	assert_int_equal(pump(1), 1);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &(struct pkt_meta){ 0 }),
			 IMG);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &m), GW);
	assert_int_equal(pkt_ip4_daddr(vec[0]->data, &m), IN1);
	assert_int_equal(ntohs(m.sport), cp);
	assert_int_equal(ntohs(m.dport), 53);
	assert_memory_equal(vec[0]->data + m.payload_off, "ask", 3);

	ans = udp_spec(53, GW, cp, "ans", 3);
	assert_int_equal(guest_send(&ans), NAT_V_TO_OUTSIDE);
	assert_int_equal(recvfrom(cl, x, sizeof(x), 0, (struct sockaddr *)&from,
				  &fl), 3);
	assert_memory_equal(x, "ans", 3);
	assert_int_equal(ntohs(from.sin_port), hp);
	assert_int_equal(sstats().udp_open, 2);
	fix_down();	/* the flow goes, the forwards' sockets stay */
	close(cl);
}

/*
 * Forwards added and deleted while the port runs (the control socket's
 * forward-add|delete, after the NAT's change): a TCP listener bound and
 * watched at once, a client reaching the guest, closed on delete (the
 * next client refused); a UDP forward's socket, kept after its delete
 * while a flow holds the mapping and closed with the flow; closed at once
 * without one; a host port in use refused.
 */
static uint8_t guest_tcp_to_gw(uint16_t sport, uint16_t dport, uint8_t flags,
			       uint32_t seq, uint32_t ack, const char *data);

static void forward_runtime(void **state __maybe_unused)
{
	const uint16_t hp = free_tcp_port(), up = free_port(), up2 = free_port();
	const struct sock_forward tf = { IPPROTO_TCP, LO, hp };
	const struct sock_forward uf = { IPPROTO_UDP, LO, up };
	const struct sock_forward uf2 = { IPPROTO_UDP, 0, up2 };
	const struct sock_forward uf2_up = { IPPROTO_UDP, 0, up };
	struct nat_forward nt = { IPPROTO_TCP, EXT, hp, IN1, 80 };
	struct nat_forward nu = { IPPROTO_UDP, EXT, up, IN1, 53 };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(hp),
				   .sin_addr.s_addr = LO };
	struct sockaddr_in udst = { .sin_family = AF_INET,
				    .sin_port = htons(up), .sin_addr.s_addr = LO };
	struct pkt_meta m;
	unsigned int w0;
	uint32_t addr;
	uint16_t cp;
	int cl, busy, one = 1;

	fix_up(0);
	assert_int_equal(nat_add_forward(F.nat, &nt), 0);
	assert_int_equal(sock_uplink_forward_add(F.port, &tf), 0);
	assert_int_equal(F.watched, 1);
	/* forward-list's host address: the listener's */
	addr = 1;
	assert_int_equal(sock_uplink_forward_host(F.port, IPPROTO_TCP, hp,
						  &addr), 0);
	assert_int_equal(addr, LO);
	assert_int_equal(sock_uplink_forward_host(F.port, IPPROTO_UDP, hp,
						  &addr), -ENOENT);
	cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cl >= 0);
	assert_int_equal(connect(cl, (struct sockaddr *)&dst, sizeof(dst)), 0);
	cp = local_port(cl);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(m.tcp_flags, TCP_SYN);
	assert_int_equal(ntohs(m.dport), 80);
	assert_int_equal(sstats().fwd_accepted, 1);
	/* The guest refuses it: the relay lets the client go. */
	assert_int_equal(guest_tcp_to_gw(80, cp, TCP_RST | TCP_ACK, 0,
					 tcp_seq(0, &m, 0) + 1, NULL),
			 NAT_V_TO_OUTSIDE);
	close(cl);
	/* Deleted: the listener is closed, the next client refused. */
	assert_int_equal(nat_remove_forward(F.nat, &nt), 0);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_TCP, hp,
						    false), 0);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_TCP, hp,
						    false), -ENOENT);
	cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cl, (struct sockaddr *)&dst, sizeof(dst)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(cl);
	/* Added again, in the freed slot. */
	assert_int_equal(sock_uplink_forward_add(F.port, &tf), 0);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_TCP, hp,
						    false), 0);

	/* UDP: a client's flow outlives the forward, and so does its socket
	 * (the relay's connection to the first client is watched too). */
	w0 = F.watched;
	assert_int_equal(nat_add_forward(F.nat, &nu), 0);
	assert_int_equal(sock_uplink_forward_add(F.port, &uf), 0);
	assert_int_equal(sock_uplink_forward_add(F.port, &uf), -EINVAL);
	assert_int_equal(sock_uplink_forward_host(F.port, IPPROTO_UDP, up,
						  &addr), 0);
	assert_int_equal(addr, LO);
	cl = server(&cp);
	assert_int_equal(sendto(cl, "ask", 3, 0, (struct sockaddr *)&udst,
				sizeof(udst)), 3);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(ntohs(m.dport), 53);
	assert_int_equal(nat_remove_forward(F.nat, &nu), 0);
	assert_true(nat_ext_port_taken(F.nat, IPPROTO_UDP, up));
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_UDP, up,
						    true), 0);
	assert_int_equal(sstats().udp_open, 1);
	/* Held by the flow: not a forward's (not listed); added again on
	 * another address it cannot be, on its own it can. */
	assert_int_equal(sock_uplink_forward_host(F.port, IPPROTO_UDP, up,
						  &addr), -ENOENT);
	assert_int_equal(sock_uplink_forward_add(F.port, &uf2_up), -EBUSY);
	assert_int_equal(sock_uplink_forward_add(F.port, &uf), 0);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_UDP, up,
						    true), 0);
	assert_int_equal(F.watched, w0 + 1);
	expire_all();		/* the flow goes, and the socket with it */
	assert_false(nat_ext_port_taken(F.nat, IPPROTO_UDP, up));
	assert_int_equal(sstats().udp_open, 0);
	assert_true(F.watched < w0 + 1);
	close(cl);
	/* No flow: closed at once. */
	assert_int_equal(sock_uplink_forward_add(F.port, &uf2), 0);
	assert_int_equal(sock_uplink_forward_host(F.port, IPPROTO_UDP, up2,
						  &addr), 0);
	assert_int_equal(addr, 0);	/* every address */
	assert_int_equal(sstats().udp_open, 1);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_UDP, up2,
						    false), 0);
	assert_int_equal(sstats().udp_open, 0);
	assert_int_equal(sock_uplink_forward_remove(F.port, IPPROTO_UDP, up2,
						    false), -ENOENT);
	/* A host port another socket has. */
	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(busy >= 0);
	setsockopt(busy, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(busy, (struct sockaddr *)&dst, sizeof(dst)), 0);
	assert_int_equal(listen(busy, 1), 0);
	assert_int_equal(sock_uplink_forward_add(F.port, &tf), -EADDRINUSE);
	close(busy);
	fix_down();	/* nothing left watched */
}

/* A guest's TCP segment from IN1:@sport to GW:@dport. */
static uint8_t guest_tcp_to_gw(uint16_t sport, uint16_t dport, uint8_t flags,
			       uint32_t seq, uint32_t ack, const char *data)
{
	struct pkt_spec s = { .no_eth = true, .src4 = IN1, .dst4 = GW,
			      .proto = IPPROTO_NUM_TCP, .sport = sport,
			      .dport = dport, .seq = seq, .ack = ack,
			      .tcp_flags = flags, .window = 65535,
			      .mss = (flags & TCP_SYN) ? 1460 : 0,
			      .payload = data,
			      .payload_len = data ? strlen(data) : 0 };

	return guest_send(&s);
}

/*
 * A TCP forward, 127.0.0.1:hp -> the guest's port 80: the client is
 * accepted and the relay's SYN reaches the guest from the gateway with the
 * client's port; the guest's SYN-ACK binds the connection, and bytes cross
 * both ways; the client's close is the guest's FIN.
 */
static void tcp_forward(void **state __maybe_unused)
{
	const uint16_t hp = free_tcp_port(), to = 80;
	const struct sock_forward f = { IPPROTO_TCP, LO, hp };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(hp),
				   .sin_addr.s_addr = LO };
	struct timeval tv = { .tv_sec = 2 };
	uint32_t cseq = 0, gseq = 5000;
	bool data = false, fin = false;
	struct pkt_meta m;
	uint16_t cp;
	char x[8];
	int cl;

	fix_up_fwd(0, &f, &to, 1);
	cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cl >= 0);
	setsockopt(cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(cl, (struct sockaddr *)&dst, sizeof(dst)), 0);
	cp = local_port(cl);

	assert_int_equal(pump(1), 1);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &(struct pkt_meta){ 0 }),
			 IMG);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(m.tcp_flags, TCP_SYN);
	assert_int_equal(pkt_ip4_saddr(vec[0]->data, &m), GW);
	assert_int_equal(pkt_ip4_daddr(vec[0]->data, &m), IN1);
	assert_int_equal(ntohs(m.sport), cp);
	assert_int_equal(ntohs(m.dport), 80);
	cseq = tcp_seq(0, &m, 0) + 1;
	assert_int_equal(sstats().fwd_accepted, 1);

	assert_int_equal(guest_tcp_to_gw(80, cp, TCP_SYN | TCP_ACK, gseq - 1,
					 cseq, NULL), NAT_V_TO_OUTSIDE);
	assert_int_equal(send(cl, "hello", 5, 0), 5);
	for (int round = 0; round < 10 && !data; round++) {
		unsigned int n = pump(1);

		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(to_guest(i, &m), NAT_V_TO_INSIDE);
			assert_false(m.tcp_flags & TCP_RST);
			if (pkt_payload_len(&m) == 5 && tcp_seq(i, &m, 0) == cseq) {
				assert_memory_equal(vec[i]->data + m.payload_off,
						    "hello", 5);
				data = true;
			}
		}
	}
	assert_true(data);
	cseq += 5;
	assert_int_equal(guest_tcp_to_gw(80, cp, TCP_ACK | TCP_PSH, gseq, cseq,
					 "world"), NAT_V_TO_OUTSIDE);
	gseq += 5;
	assert_int_equal(recv(cl, x, sizeof(x), 0), 5);
	assert_memory_equal(x, "world", 5);

	close(cl);	/* its FIN reaches the guest after the data */
	for (int round = 0; round < 10 && !fin; round++) {
		unsigned int n = pump(1);

		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(to_guest(i, &m), NAT_V_TO_INSIDE);
			if ((m.tcp_flags & TCP_FIN) && tcp_seq(i, &m, 0) == cseq)
				fin = true;
		}
	}
	assert_true(fin);
	assert_int_equal(guest_tcp_to_gw(80, cp, TCP_ACK | TCP_FIN, gseq,
					 cseq + 1, NULL), NAT_V_TO_OUTSIDE);
	fix_down();
}

/* ICMP echo through a ping socket, the guest's identifier restored. */
static void echo(void **state __maybe_unused)
{
	struct pkt_spec s = { .no_eth = true, .src4 = IN1, .dst4 = LO_IMG,
			      .proto = IPPROTO_NUM_ICMP, .icmp_type = ICMP_ECHO,
			      .icmp_id = 0x1234, .icmp_seq = 9,
			      .payload = "ping!", .payload_len = 5 };
	struct pkt_meta m;

	fix_up(0);
	F.echo_ok = sock_uplink_probe_echo(F.port);
	assert_int_equal(guest_send(&s), NAT_V_TO_OUTSIDE);
	if (!F.echo_ok) {
		/* As root the namespace allows them (private_netns()). */
		assert_true(geteuid() != 0);
		assert_int_equal(sstats().echo_denied, 1);
		assert_int_equal(F.port->stats.tx_dropped, 1);
		printf("echo: ping sockets not allowed here; checked the "
		       "counted drop only\n");
		fix_down();
		return;
	}
	assert_int_equal(sstats().echo_opened, 1);
	assert_int_equal(pump(1), 1);
	assert_int_equal(to_guest(0, &m), NAT_V_TO_INSIDE);
	assert_int_equal(m.icmp_type, ICMP_ECHOREPLY);
	assert_int_equal(ntohs(m.sport), 0x1234);	/* the echo id */
	assert_int_equal(pkt_payload_len(&m), 5);
	assert_memory_equal(vec[0]->data + m.payload_off, "ping!", 5);
	expire_all();
	assert_int_equal(sstats().echo_open, 0);
	fix_down();
}

/* As root: a network namespace of our own, loopback up, ping allowed.
 * Return: 0, or -1 when a step failed (a failure as root). */
static int private_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd, rc = -1;

	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto out;
	close(fd);
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "0 2147483647", 12) == 12)
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_round_trip),
		cmocka_unit_test(udp_eim_and_close),
		cmocka_unit_test(udp_icmp_error),
		cmocka_unit_test(udp_loopback_image),
		cmocka_unit_test(hairpin_last),
		cmocka_unit_test(pinned_port),
		cmocka_unit_test(socket_limit),
		cmocka_unit_test(out_of_descriptors),
		cmocka_unit_test(tcp_refused),
		cmocka_unit_test(tcp_relay),
		cmocka_unit_test(echo),
		cmocka_unit_test(udp_forward),
		cmocka_unit_test(tcp_forward),
		cmocka_unit_test(forward_runtime),
	};

	if (private_netns())
		return test_exit_fail("a network namespace with loopback up "
				      "and ping sockets allowed: %s",
				      strerror(errno));
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
