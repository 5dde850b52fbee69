// SPDX-License-Identifier: MIT
/*
 * test_packet_uplink.c - the AF_PACKET uplink against real kernel objects.
 *
 *   this process, in its own network namespace (unshare(CLONE_NEWNET))
 *
 *     uplink (AF_PACKET)                       kernel stack, test sockets
 *     ext 10.77.0.2/24 --- a0 ===veth=== b0 --- 10.77.0.1/24
 *
 * The kernel on the b0 side is the uplink's neighbour: it ARPs for
 * 10.77.0.2 (the uplink must answer), sends it UDP datagrams (rx_burst must
 * return them as L3 packets), answers the uplink's ARP requests and
 * receives the UDP packets the test hands to tx_burst. Frames the uplink
 * must not return (IPv6, another address, a VLAN tag) are written onto b0
 * with a raw socket. Each test opens its own uplink, so it starts with an
 * empty neighbour table. The uplink is driven by calling rx_burst() in a
 * bounded loop with short sleeps (at most about 2 s per wait).
 *
 * Needs root (namespaces, AF_PACKET, ip(8)); skips (exit 77) otherwise, and
 * fails if, as root, it cannot set up its namespace and veth pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns_wire.h"
#include "test_exit.h"

#include "core/clock.h"
#include "core/compiler.h"
#include "dp/port.h"
#include "dp/services.h"
#include "dp/worker.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/ip4.h"
#include "prot/udp.h"
#include "svc/arp.h"
#include "uplink/packet.h"

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define B0_ADDR	 IP(10, 77, 0, 1)
#define EXT_ADDR IP(10, 77, 0, 2)
#define EXT_PORT 9999
#define NBUF	 8
#define WAIT_ROUNDS 200		/* x 10 ms */

static struct dp_buf *bufs[NBUF];
static uint8_t a0_mac[ETH_ALEN], b0_mac[ETH_ALEN];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void pause_10ms(void)
{
	const struct timespec ts = { .tv_sec = 0, .tv_nsec = 10000000L };

	nanosleep(&ts, NULL);
}

static void get_mac(const char *ifname, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	assert_int_equal(ioctl(fd, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
}

static struct dp_port *open_uplink(uint32_t next_hop, const char *netns)
{
	struct packet_uplink_cfg cfg = { .ifname = "a0", .netns = netns,
					 .ext_addr = EXT_ADDR, .ext_plen = 24,
					 .next_hop = next_hop };
	struct dp_port *p = NULL;

	assert_int_equal(packet_uplink_open(&p, &cfg), 0);
	assert_non_null(p);
	assert_true(p->fd >= 0);
	assert_int_equal(p->flags, DP_PORT_L3 | DP_PORT_VNET);
	assert_int_equal(p->mtu, 1500);
	return p;
}

/* One rx_burst(); returns how many packets and checks the compaction. */
static int rx_once(struct dp_port *p)
{
	int n = p->ops->rx_burst(p, bufs, NBUF, now_ns());
	int i;

	assert_true(n >= 0 && n <= NBUF);
	for (i = 0; i < n; i++) {
		assert_true(bufs[i]->flags & DP_BUF_VNET);
		assert_true(bufs[i]->data >= bufs[i]->head + ETH_HLEN);
	}
	return n;
}

/* A UDP socket bound to b0's address; its port in *port (host order). */
static int udp_socket(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = B0_ADDR };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Wait (driving rx) for the uplink to return a UDP datagram carrying @msg. */
static bool rx_wait_udp(struct dp_port *p, const char *msg, uint16_t sport)
{
	unsigned int round;

	for (round = 0; round < WAIT_ROUNDS; round++) {
		int n = rx_once(p), i;

		for (i = 0; i < n; i++) {
			const struct dp_buf *b = bufs[i];
			struct pkt_meta m;
			struct ip4_hdr ip;

			/* The L3 packet, exactly: no Ethernet header, no padding. */
			assert_int_equal(pkt_parse(b->data, b->len,
						   PKT_PARSE_L3 | PKT_PARSE_NO_IP4_CSUM,
						   &m), PKT_DROP_OK);
			assert_int_equal(m.l3_off, 0);
			assert_int_equal(m.len, b->len);
			memcpy(&ip, b->data, sizeof(ip));
			assert_int_equal(ip.ver_ihl, 0x45);
			assert_int_equal(ntohs(ip.tot_len), b->len);
			assert_int_equal(ip.saddr, B0_ADDR);
			assert_int_equal(ip.daddr, EXT_ADDR);
			assert_int_equal(ip.protocol, IPPROTO_NUM_UDP);
			assert_int_equal(m.dport, htons(EXT_PORT));
			assert_int_equal(m.sport, htons(sport));
			if (pkt_payload_len(&m) == strlen(msg) &&
			    !memcmp(b->data + m.payload_off, msg, strlen(msg)))
				return true;
		}
		if (!n)
			pause_10ms();
	}
	return false;
}

/* Wait (driving rx) for @fd to receive @msg from 10.77.0.2:9999. */
static bool wait_recv(struct dp_port *p, int fd, const char *msg)
{
	unsigned int round;
	char got[256];

	for (round = 0; round < WAIT_ROUNDS; round++) {
		struct sockaddr_in from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, got, sizeof(got), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (r >= 0) {
			assert_int_equal(from.sin_addr.s_addr, EXT_ADDR);
			assert_int_equal(ntohs(from.sin_port), EXT_PORT);
			assert_int_equal((size_t)r, strlen(msg));
			assert_memory_equal(got, msg, (size_t)r);
			return true;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		rx_once(p);
		pause_10ms();
	}
	return false;
}

static void build_udp(struct dp_buf *b, uint32_t dst, uint16_t dport,
		      const char *msg)
{
	struct pkt_spec s = { .no_eth = true, .src4 = EXT_ADDR, .dst4 = dst,
			      .proto = IPPROTO_NUM_UDP, .sport = EXT_PORT,
			      .dport = dport, .payload = msg,
			      .payload_len = strlen(msg) };
	int n;

	dp_buf_reset(b);
	n = pkt_build(&s, b->data, dp_buf_room(b));
	assert_true(n > 0);
	b->len = (uint32_t)n;
}

static void rx_udp(void **state)
{
	const char msg[] = "hello arcnat";
	const struct arp_stats *as;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(EXT_PORT),
				  .sin_addr.s_addr = EXT_ADDR };
	struct dp_port *p = open_uplink(0, NULL);
	uint16_t sport;
	int fd = udp_socket(&sport);

	(void)state;
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to,
				sizeof(to)), (ssize_t)strlen(msg));
	/* The kernel ARPs first; the uplink answers, then the datagram comes. */
	assert_true(rx_wait_udp(p, msg, sport));
	as = packet_uplink_arp_stats(p);
	assert_true(as->requests_in >= 1);
	assert_true(as->replies_out >= 1);
	assert_true(p->stats.rx_packets >= 1);
	assert_true(packet_uplink_stats(p)->rx_arp >= 1);
	/* ARP frames are never returned to the pipeline. */
	assert_int_equal(p->stats.rx_errors, 0);

	/* A flood the uplink does not read overflows its receive queue: the
	 * kernel's drops show as rx_dropped after a tick. */
	{
		static char big[1400];
		unsigned int sent = 0;

		assert_int_equal(p->stats.rx_dropped, 0);
		for (unsigned int i = 0; i < 8000; i++)
			if (sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to,
				   sizeof(to)) > 0)
				sent++;
		assert_true(sent > 4000);
		p->ops->tick(p, now_ns());
		assert_true(p->stats.rx_dropped > 0);
		assert_true(p->stats.rx_dropped < sent);
	}
	close(fd);
	dp_port_destroy(p);
}

static void tx_udp(void **state)
{
	static const char *const burst[] = { "burst 0", "burst 1", "burst 2", "burst 3" };
	const struct packet_uplink_stats *xs;
	struct dp_port *p = open_uplink(0, NULL);
	uint16_t port;
	int fd = udp_socket(&port);
	unsigned int i;

	(void)state;
	xs = packet_uplink_stats(p);
	/* Unknown next hop: held, a request goes out, sent when answered. */
	build_udp(bufs[0], B0_ADDR, port, "first, held");
	assert_int_equal(p->ops->tx_burst(p, bufs, 1, now_ns()), 1);
	assert_int_equal(xs->tx_held, 1);
	assert_int_equal(packet_uplink_arp_stats(p)->requests_out, 1);
	assert_true(wait_recv(p, fd, "first, held"));
	assert_int_equal(xs->tx_released, 1);
	assert_int_equal(packet_uplink_arp_stats(p)->released, 1);
	assert_int_equal(p->stats.tx_packets, 1);

	/* Known now: a burst goes out at once, in one sendmmsg(). */
	for (i = 0; i < ARRAY_SIZE(burst); i++)
		build_udp(bufs[i], B0_ADDR, port, burst[i]);
	assert_int_equal(p->ops->tx_burst(p, bufs, ARRAY_SIZE(burst), now_ns()),
			 ARRAY_SIZE(burst));
	assert_int_equal(xs->tx_held, 1);
	assert_int_equal(p->stats.tx_packets, 1 + ARRAY_SIZE(burst));
	/* The buffers were only borrowed. */
	assert_int_equal(bufs[0]->data, bufs[0]->head + DP_BUF_HEADROOM);
	for (i = 0; i < ARRAY_SIZE(burst); i++)
		assert_true(wait_recv(p, fd, burst[i]));
	assert_int_equal(p->stats.tx_dropped, 0);
	close(fd);
	dp_port_destroy(p);
}

static void tx_offlink(void **state)
{
	struct dp_port *p = open_uplink(0, NULL);
	unsigned int round;

	(void)state;
	/* No router: an off-link destination is a counted drop. */
	build_udp(bufs[0], IP(198, 51, 100, 1), 53, "nowhere");
	/* Consumed (refused for good), not left for a retry. */
	assert_int_equal(p->ops->tx_burst(p, bufs, 1, now_ns()), 1);
	assert_int_equal(p->stats.tx_dropped, 1);
	assert_int_equal(packet_uplink_stats(p)->tx_no_route, 1);
	assert_int_equal(packet_uplink_arp_stats(p)->requests_out, 0);
	/* Our own address does not go on the wire either. */
	build_udp(bufs[0], EXT_ADDR, 53, "myself");
	assert_int_equal(p->ops->tx_burst(p, bufs, 1, now_ns()), 1);
	assert_int_equal(p->stats.tx_dropped, 2);
	dp_port_destroy(p);

	/* With a router (b0), off-link packets go to its MAC. */
	p = open_uplink(B0_ADDR, NULL);
	build_udp(bufs[0], IP(198, 51, 100, 1), 53, "via b0");
	assert_int_equal(p->ops->tx_burst(p, bufs, 1, now_ns()), 1);
	for (round = 0; round < WAIT_ROUNDS; round++) {
		rx_once(p);
		if (packet_uplink_stats(p)->tx_released)
			break;
		pause_10ms();
	}
	assert_int_equal(packet_uplink_stats(p)->tx_released, 1);
	assert_int_equal(p->stats.tx_packets, 1);
	assert_int_equal(p->stats.tx_dropped, 0);
	dp_port_destroy(p);
}

/* Is the page holding @p mapped without any access (a guard page)? */
static bool page_guarded(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t a = (uintptr_t)p;
	char line[512];
	bool r = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 &&
		    a >= lo && a < hi) {
			r = !strcmp(perm, "---p");
			break;
		}
	}
	fclose(f);
	return r;
}

/* Wait (driving rx) until the uplink knows b0's MAC: one packet held and
 * released. */
static void learn_b0(struct dp_port *p, int fd, uint16_t port)
{
	build_udp(bufs[0], B0_ADDR, port, "learn b0");
	assert_int_equal(p->ops->tx_burst(p, bufs, 1, now_ns()), 1);
	assert_true(wait_recv(p, fd, "learn b0"));
	assert_int_equal(packet_uplink_stats(p)->tx_released, 1);
}

/*
 * The contract of tx_burst (dp/port.h): a buffer that is exactly one page
 * between two guard pages, with exactly the Ethernet header's headroom and
 * the packet up to its last byte, goes out without a byte written outside
 * it; a buffer without storage, with too little headroom or longer than
 * its storage stops the program (ARC_ASSERT) instead of being written
 * around.
 */
static void tx_contract(void **state)
{
	struct dp_port *p = open_uplink(0, NULL);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, 3 * pg, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t plen = pg - ETH_HLEN - IP4_HLEN_MIN - UDP_HLEN;
	char *payload = malloc(plen), *got = malloc(plen + 1);
	struct pkt_spec sp = { .no_eth = true, .src4 = EXT_ADDR,
			       .dst4 = B0_ADDR, .proto = IPPROTO_NUM_UDP,
			       .sport = EXT_PORT, .payload = payload,
			       .payload_len = plen };
	struct dp_buf g = { 0 }, *gp = &g;
	unsigned int i, round;
	uint16_t port;
	int fd = udp_socket(&port);
	ssize_t r = -1;
	int n;

	(void)state;
	assert_true(map != MAP_FAILED);
	assert_non_null(payload);
	assert_non_null(got);
	assert_int_equal(mprotect(map + pg, pg, PROT_READ | PROT_WRITE), 0);
	learn_b0(p, fd, port);
	/* A page-sized packet needs a larger MTU than the default 1500. */
	assert_int_equal(system("ip link set a0 mtu 9000 && "
				"ip link set b0 mtu 9000"), 0);

	for (i = 0; i < plen; i++)
		payload[i] = (char)('a' + i % 26);
	sp.dport = port;
	g.head = map + pg;
	g.cap = (uint32_t)pg;
	g.data = g.head + ETH_HLEN;
	n = pkt_build(&sp, g.data, pg - ETH_HLEN);
	assert_int_equal(n, (int)(pg - ETH_HLEN));
	g.len = (uint32_t)n;
	assert_true(page_guarded(g.head - 1));
	assert_true(page_guarded(g.head + g.cap));
	assert_int_equal(p->ops->tx_burst(p, &gp, 1, now_ns()), 1);
	for (round = 0; round < WAIT_ROUNDS && r < 0; round++) {
		r = recv(fd, got, plen + 1, MSG_DONTWAIT);
		if (r < 0)
			pause_10ms();
	}
	assert_int_equal(r, (ssize_t)plen);
	assert_memory_equal(got, payload, plen);

	/* Each broken contract aborts in a child, with its own message. */
	for (i = 0; i < 3; i++) {
		static const char *const what[] = {
			"b->head != NULL", ">= headroom", "<= b->cap" };
		int fds[2], status;
		char out[512] = { 0 };
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dup2(fds[1], STDERR_FILENO);
			if (i == 0)
				g.head = NULL;		/* no storage */
			else if (i == 1)
				g.data--;		/* 13 bytes of headroom */
			else
				g.len++;		/* past the storage */
			p->ops->tx_burst(p, &gp, 1, now_ns());
			_exit(0);	/* not reached */
		}
		close(fds[1]);
		r = read(fds[0], out, sizeof(out) - 1);
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGABRT);
		assert_true(r > 0);
		assert_non_null(strstr(out, "assertion failed"));
		assert_non_null(strstr(out, what[i]));
	}
	assert_int_equal(p->stats.tx_dropped, 0);
	assert_int_equal(system("ip link set a0 mtu 1500 && "
				"ip link set b0 mtu 1500"), 0);
	free(got);
	free(payload);
	munmap(map, 3 * pg);
	close(fd);
	dp_port_destroy(p);
}

/* A guest port for the worker: receives nothing, records what it is sent
 * and whether each buffer lay between guard pages. */
struct guest_port {
	struct dp_port port;
	uint8_t last[2048];
	uint32_t last_len;
	unsigned int sent;
	unsigned int unguarded;
};

static int gp_rx(struct dp_port *p, struct dp_buf **b, unsigned int n,
		 uint64_t now)
{
	(void)p;
	(void)b;
	(void)n;
	(void)now;
	return 0;
}

static unsigned int gp_tx(struct dp_port *p, struct dp_buf **b, unsigned int n,
			  uint64_t now)
{
	struct guest_port *g = container_of(p, struct guest_port, port);

	(void)now;
	for (unsigned int i = 0; i < n; i++) {
		dp_buf_check(b[i], 0);
		if (!page_guarded(b[i]->head - 1) ||
		    !page_guarded(b[i]->head + b[i]->cap))
			g->unguarded++;
		g->last_len = b[i]->len < sizeof(g->last) ? b[i]->len :
							    sizeof(g->last);
		memcpy(g->last, b[i]->data, g->last_len);
		g->sent++;
	}
	return n;
}

static void gp_destroy(struct dp_port *p)
{
	close(p->fd);
}

static const struct dp_port_ops gp_ops = {
	.rx_burst = gp_rx, .tx_burst = gp_tx, .destroy = gp_destroy,
};

#define GW_ADDR	   IP(10, 0, 2, 1)
#define GUEST_ADDR IP(10, 0, 2, 15)
#define N_QUERIES  8

static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0xab, 0xcd, 0, 0, 1 };
static const uint8_t guest_mac[ETH_ALEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* A guest's DNS query for @name to the gateway, through the worker. */
static void guest_query(struct dp_worker *w, const char *name, uint16_t id)
{
	struct wire q;
	struct pkt_spec sp = { .src4 = GUEST_ADDR, .dst4 = GW_ADDR,
			       .proto = IPPROTO_NUM_UDP, .sport = 40000,
			       .dport = 53 };
	uint8_t f[512];
	int n;

	w_reset(&q);
	w_hdr(&q, id, 0x0100, 1, 0, 0, 0);
	w_question(&q, name, 1, 1);
	sp.payload = q.b;
	sp.payload_len = q.n;
	memcpy(sp.eth_dst, gw_mac, ETH_ALEN);
	memcpy(sp.eth_src, guest_mac, ETH_ALEN);
	n = pkt_build(&sp, f, sizeof(f));
	assert_true(n > 0);
	dp_worker_input(w, true, f, (size_t)n, NULL, now_ns());
}

/*
 * Upstream DNS queries over the AF_PACKET uplink with the next hop's MAC
 * known: the services' packets are built in a buffer of the worker's with
 * real headroom, between guard pages, so the Ethernet header the uplink
 * writes lands in that headroom (before, they had no storage at all and
 * the header went over the services' DNS reply buffer). Under ASan and in
 * the plain build alike, a write outside the buffer faults.
 */
static void worker_dns_upstream(void **state)
{
	struct dp_port *p = open_uplink(0, NULL);
	struct guest_port g = { .port = { .ops = &gp_ops, .name = "guest" } };
	struct dns_cfg dns = { .upstream = { B0_ADDR }, .n_upstream = 1 };
	struct nat_config nc = { .ext_addrs = { EXT_ADDR }, .n_ext_addrs = 1,
				 .max_flows = 64 };
	struct dp_config dc = { .inside = &g.port, .outside = p,
				.gw_addr = GW_ADDR, .gw_plen = 24,
				.dns = &dns, .ext_addr = EXT_ADDR };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53),
				  .sin_addr.s_addr = B0_ADDR };
	struct dp_worker *w = NULL;
	struct nat *nat = NULL;
	uint8_t got[512];
	char name[32];
	uint16_t port;
	int fd = udp_socket(&port), dfd;
	unsigned int i, round;
	struct pkt_meta m;

	(void)state;
	g.port.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(g.port.fd >= 0);
	dfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(dfd >= 0);
	assert_int_equal(bind(dfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ct_timeouts_default(&nc.timeouts);
	assert_int_equal(nat_create(&nat, &nc), 0);
	dc.nat = nat;
	memcpy(dc.gw_mac, gw_mac, ETH_ALEN);
	assert_int_equal(dp_worker_create(&w, &dc), 0);

	learn_b0(p, fd, port);
	/* The guest ARPs for the gateway: the reply is the worker's own. */
	{
		static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff,
							 0xff, 0xff, 0xff };
		uint8_t f[64];
		int n = pkt_build_arp(f, sizeof(f), ARP_OP_REQUEST, bcast,
				      guest_mac, GUEST_ADDR,
				      (const uint8_t[ETH_ALEN]){ 0 }, GW_ADDR);

		assert_true(n > 0);
		dp_worker_input(w, true, f, (size_t)n, NULL, now_ns());
		assert_int_equal(g.sent, 1);
	}

	for (i = 0; i < N_QUERIES; i++) {
		snprintf(name, sizeof(name), "q%u.example.test", i);
		guest_query(w, name, 0x1000 + i);
	}
	assert_int_equal(p->stats.tx_packets, 1 + N_QUERIES);
	assert_int_equal(packet_uplink_stats(p)->tx_held, 1);	/* learn_b0 */
	assert_int_equal(p->stats.tx_dropped, 0);

	/* Each query arrived whole from ext:DP_SVC_DNS_PORT; answer the
	 * last one. */
	for (i = 0; i < N_QUERIES; i++) {
		socklen_t fl = sizeof(sa);
		ssize_t r = -1;

		for (round = 0; round < WAIT_ROUNDS && r < 0; round++) {
			r = recvfrom(dfd, got, sizeof(got), 0,
				     (struct sockaddr *)&sa, &fl);
			if (r < 0)
				pause_10ms();
		}
		assert_true(r > DNS_HLEN);
		assert_int_equal(sa.sin_addr.s_addr, EXT_ADDR);
		assert_int_equal(ntohs(sa.sin_port), DP_SVC_DNS_PORT);
		if (i == N_QUERIES - 1) {
			got[2] |= 0x80;		/* QR: a response */
			got[3] |= 0x80;		/* RA */
			assert_int_equal(sendto(dfd, got, (size_t)r, 0,
						(struct sockaddr *)&sa, fl), r);
		}
	}
	/* The answer comes in through the uplink and goes to the guest. */
	for (round = 0; round < WAIT_ROUNDS && g.sent < 2; round++) {
		int n = rx_once(p);

		for (int k = 0; k < n; k++)
			dp_worker_input(w, false, bufs[k]->data, bufs[k]->len,
					&bufs[k]->vnet, now_ns());
		if (!n)
			pause_10ms();
	}
	assert_int_equal(g.sent, 2);
	assert_int_equal(pkt_parse(g.last, g.last_len, 0, &m), PKT_DROP_OK);
	assert_memory_equal(g.last, guest_mac, ETH_ALEN);
	assert_int_equal(m.sport, htons(53));
	assert_int_equal(m.dport, htons(40000));
	assert_int_equal(r16(g.last + m.payload_off), 0x1000 + N_QUERIES - 1);
	assert_int_equal(g.unguarded, 0);

	dp_worker_destroy(w);
	nat_destroy(nat);
	close(dfd);
	close(fd);
	gp_destroy(&g.port);
	dp_port_destroy(p);
}

/* Write one frame onto b0 (it arrives on a0). */
static void b0_inject(int fd, const struct pkt_spec *s)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = (int)if_nametoindex("b0"),
				   .sll_halen = ETH_ALEN };
	uint8_t f[256];
	int n = pkt_build(s, f, sizeof(f));

	assert_true(n > 0);
	memcpy(sll.sll_addr, a0_mac, ETH_ALEN);
	assert_int_equal(sendto(fd, f, (size_t)n, 0, (struct sockaddr *)&sll,
				sizeof(sll)), n);
}

static void rx_filters(void **state)
{
	const char junk[] = "must not come back", good[] = "the good one";
	struct pkt_spec s = { .src4 = B0_ADDR, .dst4 = EXT_ADDR,
			      .proto = IPPROTO_NUM_UDP, .sport = 4000,
			      .dport = EXT_PORT, .payload = junk,
			      .payload_len = strlen(junk) };
	struct dp_port *p = open_uplink(0, NULL);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	(void)state;
	assert_true(fd >= 0);
	memcpy(s.eth_dst, a0_mac, ETH_ALEN);
	memcpy(s.eth_src, b0_mac, ETH_ALEN);
	s.dst4 = IP(10, 77, 0, 9);		/* not our address */
	b0_inject(fd, &s);
	s.dst4 = EXT_ADDR;
	s.vlan = true;				/* tagged */
	s.vlan_tci = 5;
	b0_inject(fd, &s);
	s.vlan = false;
	s.ip6 = true;				/* IPv6 */
	s.src6[0] = 0xfd;
	s.dst6[0] = 0xfd;
	b0_inject(fd, &s);
	s.ip6 = false;
	s.eth_dst[5] ^= 1;			/* for another host */
	b0_inject(fd, &s);
	memcpy(s.eth_dst, a0_mac, ETH_ALEN);
	s.payload = good;
	s.payload_len = strlen(good);
	s.sport = 4001;
	b0_inject(fd, &s);
	/* Only the last one comes back. */
	assert_true(rx_wait_udp(p, good, 4001));
	assert_int_equal(p->stats.rx_packets, 1);
	close(fd);
	dp_port_destroy(p);
}

static void open_errors(void **state)
{
	struct packet_uplink_cfg cfg = { .ifname = "nonexistent0",
					 .ext_addr = EXT_ADDR, .ext_plen = 24 };
	struct dp_port *p = (struct dp_port *)bufs[0];
	char path[64];

	(void)state;
	assert_int_equal(packet_uplink_open(&p, &cfg), -ENODEV);
	assert_null(p);
	cfg.ifname = "lo";			/* no Ethernet address */
	assert_int_equal(packet_uplink_open(&p, &cfg), -EINVAL);
	cfg.ifname = "a0";
	cfg.ext_addr = 0;
	assert_int_equal(packet_uplink_open(&p, &cfg), -EINVAL);
	cfg.ext_addr = EXT_ADDR;
	cfg.ext_plen = 33;
	assert_int_equal(packet_uplink_open(&p, &cfg), -EINVAL);
	cfg.ext_plen = 24;
	cfg.netns = "/nonexistent/ns";
	assert_int_equal(packet_uplink_open(&p, &cfg), -ENOENT);
	/* Entering a namespace by path and coming back. */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)getpid());
	p = open_uplink(0, path);
	assert_non_null(strstr(p->name, "a0@/proc/"));
	dp_port_destroy(p);
	dp_port_destroy(NULL);
}

static int setup_net(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("FAIL: as root, unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	if (system("ip link set lo up && "
		   "ip link add a0 type veth peer name b0 && "
		   "ip link set a0 up && ip link set b0 up && "
		   "ip addr add 10.77.0.1/24 dev b0") != 0) {
		printf("FAIL: as root, could not set up the veth pair with ip(8)\n");
		return -1;
	}
	get_mac("a0", a0_mac);
	get_mac("b0", b0_mac);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rx_udp),
		cmocka_unit_test(tx_udp),
		cmocka_unit_test(tx_offlink),
		cmocka_unit_test(tx_contract),
		cmocka_unit_test(worker_dns_upstream),
		cmocka_unit_test(rx_filters),
		cmocka_unit_test(open_errors),
	};
	unsigned int i;
	int r;

	/* Not root is the one reason not to run; as root, a failed setup
	 * is a failure (tests/run must not count it as a skip). */
	if (geteuid() != 0)
		return test_exit_skip("needs root (network namespace, veth, AF_PACKET)");
	if (setup_net() < 0)
		return TEST_EXIT_FAIL;
	for (i = 0; i < NBUF; i++) {
		bufs[i] = calloc(1, sizeof(*bufs[i]));
		if (!bufs[i])
			return TEST_EXIT_FAIL;
		bufs[i]->cap = DP_BUF_HEADROOM + DP_BUF_DATA_MAX;
		bufs[i]->head = malloc(bufs[i]->cap);
		if (!bufs[i]->head)
			return TEST_EXIT_FAIL;
		dp_buf_reset(bufs[i]);
	}
	r = TEST_RUN_GROUP(tests, NULL, NULL);
	for (i = 0; i < NBUF; i++) {
		free(bufs[i]->head);
		free(bufs[i]);
	}
	return r;
}
