// SPDX-License-Identifier: MIT
/*
 * test_vhost_user.c - the vhost-user guest port on a running worker, with a
 * frontend of the test's own (tests/unit/vhost_guest.h) over a real UNIX
 * socket and memfd guest memory.
 *
 * The worker's other ports are in-memory (memport.h): a first guest port
 * (the segment's other guest) and the uplink. Tested: a frame from the
 * guest's transmit ring is answered into its receive ring (and, switched,
 * not to the other guest); replies for a guest that has offered no
 * receive buffers wait in the port's queue and arrive, in order, when it
 * offers some and kicks; a frontend that goes frees its port and one that
 * comes back works; a hostile frontend (unknown and malformed messages,
 * descriptors outside its memory, an available index from nowhere) gets
 * counted refusals (ring descriptors that are not non-blocking eventfds
 * too), then its connection closed, and the other guest is
 * answered throughout. Guest memory that could shrink is refused. Out of
 * descriptors, the listener goes quiet for a while instead of waking the
 * worker for ever. A super-frame cut for a guest whose receive ring has
 * room for part of it keeps the rest, which arrives, in order and once,
 * when the guest gives buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "dp/worker.h"
#include "guest/vhost_user.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "prot/arp.h"
#include "pkt/parse.h"

/* Room for a UDP super-frame from the uplink. */
#define MEMPORT_FRAME	8192
#include "memport.h"
/* the listener's socket path */
#define WORKER_ENV_EXTRA char path[108];
#include "worker_env.h"
#include "fdfill.h"
#include "vhost_guest.h"


static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct vhost_user_cfg vc = { 0 };
	struct dp_port *l;

	assert_non_null(e);
	assert_int_equal(memport_init(&e->in, 0, 0), 0);
	assert_int_equal(memport_init(&e->out, DP_PORT_L3 | DP_PORT_VNET, 0), 0);
	env_worker_create(e, htonl(0x0a000202));	/* 10.0.2.2 */
	snprintf(e->path, sizeof(e->path), "/tmp/arcnat-test-vu-%d.sock",
		 (int)getpid());
	vc.path = e->path;
	vc.mtu = 1500;
	assert_int_equal(vhost_user_listen(&l, &vc), 0);
	vhost_user_attach(l, e->w);
	assert_int_equal(dp_worker_add_port(e->w, l), 0);
	env_resume(e);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	env_pause(e);
	dp_worker_destroy(e->w);
	assert_int_equal(access(e->path, F_OK), -1);	/* unlinked */
	nat_destroy(e->nat);
	memport_fini(&e->in);
	memport_fini(&e->out);
	free(e);
	return 0;
}

/* A frame in the guest's receive ring is the echo reply @seq. */
static void expect_reply(struct vg *g, uint16_t seq)
{
	uint8_t f[2048];
	struct pkt_meta m;
	uint16_t got;
	int n = vg_recv(g, f, sizeof(f), 2000);

	assert_true(n > 0);
	assert_int_equal(pkt_parse(f, (uint32_t)n, 0, &m), PKT_DROP_OK);
	assert_int_equal(m.icmp_type, 0);
	memcpy(&got, f + m.l4_off + 6, sizeof(got));
	assert_int_equal(ntohs(got), seq);
	assert_memory_equal(f, guest_mac, 6);
}

/* The guest transmits echo request @seq to the gateway. */
static void send_echo(struct vg *g, uint16_t seq)
{
	uint8_t f[MEMPORT_FRAME];
	size_t n = echo_frame(f, seq);

	assert_int_equal(vg_send(g, f, n, true), 0);
}

static void guest_up(struct env *e, struct vg *g)
{
	assert_int_equal(vg_connect(g, e->path), 0);
	assert_int_equal(vg_up(g), 0);
}

/* Wait until the stats show @want (2 s at most); the worker runs after. */
static void wait_stat(struct env *e, const char *want)
{
	for (int i = 0; i < 200; i++) {
		char *s = env_stats(e);
		bool ok = strstr(s, want) != NULL;

		free(s);
		env_resume(e);
		if (ok)
			return;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	fail_msg("no '%s' within 2 s", want);
}

static void vhost_user_echo_through_both_rings(void **state)
{
	struct env *e = *state;
	struct vg g;
	char *stats;

	guest_up(e, &g);
	vg_rx_fill(&g);
	for (uint16_t seq = 1; seq <= 3; seq++)
		send_echo(&g, seq);
	for (uint16_t seq = 1; seq <= 3; seq++)
		expect_reply(&g, seq);
	stats = env_stats(e);
	assert_int_equal(e->in.n_out, 0);	/* switched: the guest's port only */
	assert_non_null(strstr(stats, "stat ports.guests 3\n"));
	assert_non_null(strstr(stats, "is vhost1\n"));
	assert_non_null(strstr(stats, "stat gw.echo_replies 3\n"));
	assert_non_null(strstr(stats, "stat drops.total 0\n"));
	free(stats);
	env_resume(e);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

/*
 * No receive buffers: the replies wait in the port's queue ("not now"),
 * then arrive in order once the guest offers buffers and kicks.
 */
static void vhost_user_replies_wait_for_buffers(void **state)
{
	struct env *e = *state;
	struct vg g;

	guest_up(e, &g);
	for (uint16_t seq = 1; seq <= 4; seq++)
		send_echo(&g, seq);
	wait_stat(e, ".tx_queued 4\n");
	vg_rx_fill(&g);
	for (uint16_t seq = 1; seq <= 4; seq++)
		expect_reply(&g, seq);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");

	/* A frontend that comes back is a new port, and works. */
	guest_up(e, &g);
	vg_rx_fill(&g);
	send_echo(&g, 9);
	expect_reply(&g, 9);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

/* The other guest is still answered. */
static void other_guest_answered(struct env *e, uint16_t seq);

/*
 * The frontend shares its call eventfds with arcnat: it clears their
 * O_NONBLOCK after the handshake and fills their counters. Signalling the
 * guest must not block the worker (before RWF_NOWAIT, write() did, and
 * every guest with it): the reply still arrives, and so do the others'.
 */
static void vhost_user_blocking_call_fd_does_not_hang(void **state)
{
	struct env *e = *state;
	uint64_t full = UINT64_MAX - 1;
	struct vg g;

	guest_up(e, &g);
	vg_rx_fill(&g);
	for (unsigned int r = 0; r < 2; r++) {
		assert_int_equal(fcntl(g.call[r], F_SETFL, 0), 0);
		assert_int_equal(write(g.call[r], &full, sizeof(full)),
				 (ssize_t)sizeof(full));
	}
	alarm(20);	/* a hung worker fails the program, not the machine */
	send_echo(&g, 21);
	expect_reply(&g, 21);
	other_guest_answered(e, 22);
	alarm(0);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

static void other_guest_answered(struct env *e, uint16_t seq)
{
	uint8_t f[MEMPORT_FRAME];
	size_t len = echo_frame(f, seq);
	unsigned int n;

	pthread_mutex_lock(&e->in.lock);
	n = e->in.n_out;
	pthread_mutex_unlock(&e->in.lock);
	assert_int_equal(memport_push(&e->in, f, len, NULL), 0);
	assert_true(memport_wait(&e->in, n + 1, NULL));
}

static void vhost_user_hostile_frontend(void **state)
{
	struct env *e = *state;
	struct vg g;
	uint64_t v = 0;
	uint16_t slot;

	/* Unknown requests, answered with a failed ack, counted; the
	 * connection goes on until VHOST_USER_BAD_MAX of them. */
	guest_up(e, &g);
	vg_rx_fill(&g);
	assert_int_equal(fe_send(g.sock, 99, VHOST_USER_VERSION |
				 VHOST_USER_NEED_REPLY, &v, 8, NULL, 0), 0);
	assert_int_equal(fe_reply_u64(g.sock, 99), 1);
	/* A ring address outside the memory table. */
	{
		struct vhost_msg_addr a = { .index = 0, .desc = 16, .used = 64,
					    .avail = 32 };

		assert_int_equal(vg_msg(&g, VHOST_USER_SET_VRING_ADDR, &a,
					sizeof(a), NULL, 0), -1);
	}
	/* Ring descriptors the worker could block on: a pipe, a blocking
	 * eventfd (whose counter the frontend may have filled). */
	{
		int pfd[2], bl = eventfd(0, EFD_CLOEXEC);
		uint64_t ring = 0;

		assert_int_equal(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
		assert_true(bl >= 0);
		assert_int_equal(vg_msg(&g, VHOST_USER_SET_VRING_CALL, &ring, 8,
					&pfd[1], 1), -1);
		assert_int_equal(vg_msg(&g, VHOST_USER_SET_VRING_CALL, &ring, 8,
					&bl, 1), -1);
		close(pfd[0]);
		close(pfd[1]);
		close(bl);
	}
	/* A transmit descriptor outside guest memory: a counted drop. */
	slot = g.avail[1] % VG_NUM;
	vg_desc(&g, 1)[slot] = (struct vring_desc_le){ .addr = VG_MEM + 4096,
						       .len = 100 };
	vg_publish(&g, 1, slot);
	vg_kick(&g, 1);
	/* The ring still works after it. */
	send_echo(&g, 5);
	expect_reply(&g, 5);
	wait_stat(e, "stat inside.rx_errors 5\n");
	other_guest_answered(e, 1);

	/* An available index far ahead breaks the ring: connection closed. */
	__atomic_store_n(&vg_avail(&g, 1)->idx, (uint16_t)(g.avail[1] + 1000),
			 __ATOMIC_RELEASE);
	vg_kick(&g, 1);
	assert_true(vg_closed(&g, 2000));
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
	other_guest_answered(e, 2);

	/* Too many refused messages: closed. */
	guest_up(e, &g);
	for (unsigned int i = 0; i <= VHOST_USER_BAD_MAX; i++)
		assert_int_equal(fe_send(g.sock, 99, VHOST_USER_VERSION, &v, 8,
					 NULL, 0), 0);
	assert_true(vg_closed(&g, 2000));
	vg_close(&g);
	/* An announced size over the largest message: out of step, closed. */
	guest_up(e, &g);
	{
		uint32_t hdr[3] = { htole32(VHOST_USER_SET_OWNER),
				    htole32(VHOST_USER_VERSION),
				    htole32(100000) };

		assert_int_equal(fe_send_raw(g.sock, (uint8_t *)hdr,
					     sizeof(hdr), NULL, 0), 0);
	}
	assert_true(vg_closed(&g, 2000));
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
	other_guest_answered(e, 3);
}

/*
 * Guest memory in a file that could shrink (no F_SEAL_SHRINK) is refused:
 * a mapping past the end of a shrunk file would fault (SIGBUS).
 */
static void vhost_user_unsealed_memory_refused(void **state)
{
	struct env *e = *state;
	struct vhost_msg_region reg = { .size = VG_MEM };
	uint8_t mem[8 + sizeof(reg)] = { 1 };
	uint64_t pf = VG_PF_REPLY_ACK;
	struct vg g;
	int fd = memfd_create("unsealed", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VG_MEM), 0);
	assert_int_equal(vg_connect(&g, e->path), 0);
	assert_int_equal(fe_send(g.sock, VHOST_USER_SET_PROTOCOL_FEATURES,
				 VHOST_USER_VERSION, &pf, 8, NULL, 0), 0);
	assert_int_equal(vg_msg(&g, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0), 0);
	reg.uva = 0x7f0000000000ull;
	memcpy(mem + 8, &reg, sizeof(reg));
	assert_int_equal(vg_msg(&g, VHOST_USER_SET_MEM_TABLE, mem, sizeof(mem),
				&fd, 1), -1);
	/* Sealed, the same table is taken. */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), -1);
	close(fd);
	fd = fe_memfd(VG_MEM, &g.mem);
	assert_true(fd >= 0);
	assert_int_equal(vg_msg(&g, VHOST_USER_SET_MEM_TABLE, mem, sizeof(mem),
				&fd, 1), 0);
	close(fd);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

/* The gateway learns the guest's MAC from its ARP request (and answers). */
static void guest_arp(struct vg *g)
{
	uint8_t f[MEMPORT_FRAME];
	int n;

	n = pkt_build_arp(f, sizeof(f), ARP_OP_REQUEST,
			  (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			  guest_mac, htonl(0x0a000202), (const uint8_t[6]){ 0 },
			  htonl(0x0a000201));
	assert_true(n > 0);
	assert_int_equal(vg_send(g, f, (size_t)n, true), 0);
	n = vg_recv(g, f, sizeof(f), 2000);
	assert_true(n >= 42);	/* the gateway's ARP reply (padded) */
}

/*
 * From the uplink, a UDP datagram of @len bytes of @payload for the
 * guest's port forward (to the external address, port 5000). @uso: as a
 * super-frame of 1000-byte segments, checksum pending (the AF_PACKET
 * uplink's GRO), else a plain packet.
 */
static void uplink_udp(struct env *e, const uint8_t *payload, size_t len,
		       bool uso)
{
	static const struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM,
		.gso_type = VNET_GSO_UDP_L4,
		.hdr_len = 28,
		.gso_size = 1000,
		.csum_start = 20,
		.csum_offset = 6,
	};
	struct pkt_spec sp = {
		.no_eth = true,
		.src4 = htonl(0xc6336401),
		.dst4 = htonl(0xc6336402),
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = 4444,
		.dport = 5000,
		.payload = payload,
		.payload_len = len,
	};
	uint8_t f[MEMPORT_FRAME];
	int n = pkt_build(&sp, f, sizeof(f));

	assert_int_equal(n, 20 + 8 + (int)len);
	assert_int_equal(memport_push(&e->out, f, (size_t)n, uso ? &v : NULL),
			 0);
}

/*
 * A UDP super-frame from the uplink (USO, checksum pending) for a guest that
 * acked neither GUEST_CSUM nor a GSO type: arcnat cuts it into MSS-sized
 * frames with their checksums (pkt/gso), one receive chain each.
 */
static void vhost_user_offloads_finished_for_a_plain_guest(void **state)
{
	struct env *e = *state;
	static uint8_t payload[4000];
	uint8_t f[MEMPORT_FRAME];
	struct pkt_meta m;
	size_t total = 0;
	struct vg g;

	memset(payload, 'u', sizeof(payload));
	guest_up(e, &g);
	vg_rx_fill(&g);
	guest_arp(&g);

	uplink_udp(e, payload, sizeof(payload), true);
	for (int i = 0; i < 4; i++) {
		int n = vg_recv(&g, f, sizeof(f), 2000);

		assert_int_equal(n, 14 + 20 + 8 + 1000);
		assert_int_equal(pkt_parse(f, (uint32_t)n, 0, &m), PKT_DROP_OK);
		assert_int_equal(m.l4_proto, IPPROTO_UDP);
		assert_int_equal(ntohs(m.dport), 53);	/* the forward's */
		/* The checksums are whole: they verify to 0. */
		assert_int_equal(csum_ip4_header(f + 14, 20), 0);
		assert_int_equal(csum_finish(csum_partial(
					 f + 34, 1008,
					 csum_pseudo_ip4(pkt_ip4_saddr(f, &m),
							 pkt_ip4_daddr(f, &m),
							 IPPROTO_UDP, 1008))),
				 0);
		total += (size_t)n - 42;
	}
	assert_int_equal(total, sizeof(payload));
	assert_int_equal(vg_recv(&g, f, sizeof(f), 50), -1);	/* no more */
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

/* Has the device used receive entries up to @idx (2 s at most)? */
static bool used_reaches(struct vg *g, uint16_t idx)
{
	for (int t = 0; t < 2000; t++) {
		/* Pairs with the device's release of used->idx. */
		if (__atomic_load_n(&vg_used(g, 0)->idx, __ATOMIC_ACQUIRE) == idx)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

/*
 * A super-frame cut in software for a guest whose receive ring has room for
 * only part of it: the rest waits in the port and goes when the guest gives
 * buffers and kicks (vg_recv() gives back each buffer it read, and kicks).
 * Every frame arrives once, in order, and a frame queued behind the
 * super-frame arrives after all of it.
 */
static void vhost_user_cut_super_frame_waits_for_buffers(void **state)
{
	struct env *e = *state;
	static uint8_t payload[4000];
	uint8_t f[MEMPORT_FRAME];
	static uint8_t tail[100];
	struct pkt_meta m;
	struct vg g;
	char *st;

	/* Each of the four frames' payload is its number, '0' to '3'. */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)('0' + i / 1000);
	guest_up(e, &g);
	vg_rx_offer(&g, 2);	/* room for two frames of four */
	guest_arp(&g);

	uplink_udp(e, payload, sizeof(payload), true);
	/* Two frames fill the ring; nothing more goes until buffers come. */
	assert_true(used_reaches(&g, (uint16_t)(g.used[0] + 2)));
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	assert_int_equal(__atomic_load_n(&vg_used(&g, 0)->idx, __ATOMIC_ACQUIRE),
			 (uint16_t)(g.used[0] + 2));
	/* A plain frame for the guest, queued behind the super-frame. */
	memset(tail, 'z', sizeof(tail));
	uplink_udp(e, tail, sizeof(tail), false);
	for (int i = 0; i < 5; i++) {
		size_t plen = i < 4 ? 1000 : sizeof(tail);
		int n = vg_recv(&g, f, sizeof(f), 2000);

		assert_int_equal(n, 14 + 20 + 8 + (int)plen);
		assert_int_equal(pkt_parse(f, (uint32_t)n, 0, &m), PKT_DROP_OK);
		assert_int_equal(m.l4_proto, IPPROTO_UDP);
		assert_int_equal(f[42], i < 4 ? '0' + i : 'z');
		assert_int_equal(f[n - 1], i < 4 ? '0' + i : 'z');
	}
	assert_int_equal(vg_recv(&g, f, sizeof(f), 50), -1);	/* no more */
	st = env_stats(e);
	assert_non_null(strstr(st, "stat drops.total 0\n"));
	free(st);
	env_resume(e);
	vg_close(&g);
	wait_stat(e, "stat ports.guests 2\n");
}

/*
 * Out of descriptors, accept4() fails and the connection stays pending: a
 * level-triggered listener would wake the worker for ever. It goes quiet
 * (counted) until its back-off ends, then accepts again (here: refuses,
 * counted, as no worker is attached).
 */
static void vhost_user_accept_out_of_fds_backs_off(void **state)
{
	struct vhost_user_cfg vc = { .mtu = 1500 };
	struct dp_buf *bufs[1] = { NULL };
	char path[108], *st = NULL;
	size_t stlen = 0;
	int fds[256], c;
	unsigned int nfill;
	struct rlimit saved;
	struct dp_port *l;
	struct pollfd pfd;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/arcnat-test-vu-fd-%d.sock",
		 (int)getpid());
	vc.path = path;
	assert_int_equal(vhost_user_listen(&l, &vc), 0);
	assert_true(l->flags & DP_PORT_LISTENER);
	pfd = (struct pollfd){ .fd = l->fd, .events = POLLIN };
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		memcpy(sa.sun_path, path, strlen(path) + 1);
		assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)),
				 0);
	}
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	nfill = fill_fds(fds, 256, (rlim_t)c + 8);
	assert_int_equal(l->ops->rx_burst(l, bufs, 0, 1000), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* pending, but quiet */
	for (unsigned int i = 0; i < nfill; i++)
		close(fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	l->ops->tick(l, 1000 + NSEC_PER_SEC / 2);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	l->ops->tick(l, 1000 + NSEC_PER_SEC);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(l->ops->rx_burst(l, bufs, 0, 2 * NSEC_PER_SEC), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* taken */
	f = open_memstream(&st, &stlen);
	l->ops->print_stats(l, f, "g");
	fclose(f);
	assert_non_null(strstr(st, "stat g.vhost_accept_paused 1\n"));
	assert_non_null(strstr(st, "stat g.vhost_refused 1\n"));
	free(st);
	close(c);
	dp_port_destroy(l);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			vhost_user_echo_through_both_rings, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(
			vhost_user_replies_wait_for_buffers, env_setup,
			env_teardown),
		cmocka_unit_test_setup_teardown(vhost_user_hostile_frontend,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			vhost_user_unsealed_memory_refused, env_setup,
			env_teardown),
		cmocka_unit_test(vhost_user_accept_out_of_fds_backs_off),
		cmocka_unit_test_setup_teardown(
			vhost_user_offloads_finished_for_a_plain_guest,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			vhost_user_cut_super_frame_waits_for_buffers,
			env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(
			vhost_user_blocking_call_fd_does_not_hang,
			env_setup, env_teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
