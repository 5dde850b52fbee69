// SPDX-License-Identifier: MIT
/*
 * test_dgram.c - the dgram guest port over real UNIX datagram sockets: a
 * connected socket pair (Virtualization.framework's file handle) and a
 * bound path whose peer is learned (QEMU's -netdev dgram, vfkit): frames
 * both ways, runts, empty and oversized datagrams as counted drops, the
 * peer locked in, re-learned after a restart on the same path or gone,
 * vfkit's greeting, "not now" on a full peer queue with EPOLLOUT that
 * means it, a super-frame cut into whole frames, the path's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_exit.h"
#include "guest/dgram.h"
#include "portbufs.h"

#define SEC 1000000000ull

static uint8_t big[DGRAM_FRAME_MAX + 2];
static char dir[] = "/tmp/arcnat-test-dgram-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static socklen_t addr_of(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	assert_true(n < sizeof(sa->sun_path));
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sa->sun_path, path, n);
	return (socklen_t)sizeof(*sa);
}

/* A guest's socket bound at @name in the test directory (QEMU's
 * local.path); any stale file there is replaced, as QEMU does. */
static int guest_sock(const char *name)
{
	struct sockaddr_un sa;
	char path[128];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	path_of(path, sizeof(path), name);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, addr_of(&sa, path)), 0);
	return fd;
}

/* sendto() the port's path. Return: 0 or -errno. */
static int send_to(int fd, const char *path, const void *data, size_t len)
{
	struct sockaddr_un sa;
	socklen_t sl = addr_of(&sa, path);

	if (sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sl) < 0)
		return -errno;
	return 0;
}

static int send_frame(int fd, const char *path, uint8_t tag, size_t len)
{
	memset(big, tag, len);
	return send_to(fd, path, big, len);
}

static struct dp_port *open_path(char *path, size_t cap)
{
	struct dp_port *p = NULL;
	struct dgram_cfg cfg = { .path = path, .mtu = 1500 };

	path_of(path, cap, "port");
	assert_int_equal(dgram_open(&p, &cfg), 0);
	return p;
}

static struct dp_port *open_pair(int *peer)
{
	struct dp_port *p = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(dgram_open_fd(&p, sv[0], 1500, "pair"), 0);
	*peer = sv[1];
	return p;
}

static char *stats_of(struct dp_port *p)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	p->ops->print_stats(p, f, "g");
	fclose(f);
	return s;
}

static void assert_stat(struct dp_port *p, const char *name, unsigned int v)
{
	char line[96], *s = stats_of(p);

	snprintf(line, sizeof(line), "stat g.%s %u\n", name, v);
	if (!strstr(s, line))
		fail_msg("want '%s' in:\n%s", line, s);
	free(s);
}

static int rx(struct dp_port *p, uint64_t now)
{
	empty_bufs();
	return p->ops->rx_burst(p, vec, NB, now);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void dgram_frames_both_ways(void **state)
{
	uint8_t got[2000];
	int peer;
	struct dp_port *p = open_pair(&peer);

	(void)state;
	memset(big, 0x11, 60);
	assert_int_equal(write(peer, big, 60), 60);
	memset(big, 0x22, 1514);
	assert_int_equal(write(peer, big, 1514), 1514);
	memset(big, 0x33, 14);
	assert_int_equal(write(peer, big, 14), 14);
	assert_int_equal(rx(p, 0), 3);
	assert_int_equal(vec[0]->len, 60);
	assert_int_equal(vec[0]->data[59], 0x11);
	assert_int_equal(vec[1]->len, 1514);
	assert_int_equal(vec[1]->data[0], 0x22);
	assert_int_equal(vec[2]->len, 14);
	assert_int_equal(p->stats.rx_packets, 3);
	assert_int_equal(p->stats.rx_bytes, 60 + 1514 + 14);
	assert_int_equal(rx(p, 0), 0);	/* nothing */

	frame(0, 0xa0, 60);
	frame(1, 0xa1, 1000);
	assert_int_equal(p->ops->tx_burst(p, vec, 2, 0), 2);
	assert_int_equal(p->stats.tx_packets, 2);
	assert_int_equal(read(peer, got, sizeof(got)), 60);	/* one each */
	assert_int_equal(got[0], 0xa0);
	assert_int_equal(read(peer, got, sizeof(got)), 1000);
	assert_int_equal(got[999], 0xa1);
	dp_port_destroy(p);
	close(peer);
}

/* Runts, empty and oversized datagrams between good frames: counted
 * drops, never a frame for the pipeline, never a truncated one; the
 * good frames on both sides of them come through, in order. */
static void dgram_hostile_datagrams_are_counted_drops(void **state)
{
	int peer, sz = 4 << 20;
	struct dp_port *p = open_pair(&peer);

	(void)state;
	assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)),
			 0);
	memset(big, 0x44, sizeof(big));
	assert_int_equal(write(peer, big, 60), 60);
	assert_int_equal(write(peer, big, 13), 13);	/* runt */
	assert_int_equal(write(peer, big, 0), 0);	/* empty */
	assert_int_equal(write(peer, big, 1), 1);	/* runt */
	assert_int_equal(write(peer, big, DGRAM_FRAME_MAX + 1),
			 DGRAM_FRAME_MAX + 1);		/* oversize */
	big[0] = 0x55;
	assert_int_equal(write(peer, big, DGRAM_FRAME_MAX), DGRAM_FRAME_MAX);
	assert_int_equal(rx(p, 0), 2);
	assert_int_equal(vec[0]->len, 60);
	assert_int_equal(vec[0]->data[0], 0x44);
	assert_int_equal(vec[1]->len, DGRAM_FRAME_MAX);	/* the largest */
	assert_int_equal(vec[1]->data[0], 0x55);
	assert_int_equal(p->stats.rx_packets, 2);
	assert_int_equal(p->stats.rx_errors, 4);
	assert_stat(p, "dgram_runt", 2);
	assert_stat(p, "dgram_empty", 1);
	assert_stat(p, "dgram_oversize", 1);
	assert_int_equal(rx(p, 0), 0);
	/* The port goes on. */
	assert_int_equal(write(peer, big, 100), 100);
	assert_int_equal(rx(p, 0), 1);

	/* Frames the pipeline hands over out of bounds are not sent. */
	tx_runts_refused(p);
	assert_int_equal(read(peer, big, sizeof(big)), 60);
	assert_int_equal(big[0], 0x02);
	dp_port_destroy(p);
	close(peer);
}

/* The first sender is the peer; another is refused by the kernel while
 * the peer lives (EPERM); one without an address cannot be answered. */
static void dgram_learns_and_locks_its_peer(void **state)
{
	char path[128];
	uint8_t got[128];
	struct dp_port *p = open_path(path, sizeof(path));
	int a = guest_sock("a"), b = guest_sock("b");
	int anon = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	(void)state;
	/* No peer yet: frames for the guests go nowhere, counted apart. */
	frame(0, 0x01, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 0), 1);
	assert_int_equal(p->stats.tx_dropped, 0);
	assert_stat(p, "dgram_no_peer", 1);

	assert_int_equal(send_frame(anon, path, 0x0a, 60), 0);
	assert_int_equal(rx(p, 0), 0);
	assert_stat(p, "dgram_foreign", 1);
	assert_stat(p, "dgram_peers", 0);

	assert_int_equal(send_frame(a, path, 0x0b, 60), 0);
	assert_int_equal(rx(p, 0), 1);
	assert_int_equal(vec[0]->data[0], 0x0b);
	assert_stat(p, "dgram_peers", 1);

	assert_int_equal(send_frame(b, path, 0x0c, 60), -EPERM);
	assert_int_equal(send_frame(anon, path, 0x0c, 60), -EPERM);
	assert_int_equal(rx(p, 0), 0);

	frame(0, 0x0d, 70);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 0), 1);
	assert_int_equal(recv(a, got, sizeof(got), 0), 70);
	assert_int_equal(got[0], 0x0d);
	assert_int_equal(recv(b, got, sizeof(got), MSG_DONTWAIT), -1);

	/* The tick finds the peer alive: nothing changes. */
	p->ops->tick(p, 2 * SEC);
	assert_stat(p, "dgram_peer_gone", 0);
	assert_int_equal(send_frame(a, path, 0x0e, 60), 0);
	assert_int_equal(rx(p, 2 * SEC), 1);
	dp_port_destroy(p);
	close(a);
	close(b);
	close(anon);
}

/* Datagrams from another sender queued before the port learned its peer
 * are not the peer's: dropped, counted. */
static void dgram_frames_queued_from_another_sender_are_dropped(void **state)
{
	char path[128];
	struct dp_port *p = open_path(path, sizeof(path));
	int a = guest_sock("a"), b = guest_sock("b");

	(void)state;
	assert_int_equal(send_frame(a, path, 0x01, 60), 0);
	assert_int_equal(send_frame(b, path, 0x02, 60), 0);
	assert_int_equal(send_frame(a, path, 0x03, 60), 0);
	assert_int_equal(rx(p, 0), 2);
	assert_int_equal(vec[0]->data[0], 0x01);
	assert_int_equal(vec[1]->data[0], 0x03);
	assert_stat(p, "dgram_foreign", 1);
	assert_int_equal(p->stats.rx_errors, 1);
	dp_port_destroy(p);
	close(a);
	close(b);
}

/* QEMU killed and started again with the same local.path: refused until
 * the tick looks the path up again, then the new socket is the peer. */
static void dgram_peer_restarted_on_the_same_path(void **state)
{
	char path[128];
	uint8_t got[128];
	struct dp_port *p = open_path(path, sizeof(path));
	int a = guest_sock("qemu");

	(void)state;
	assert_int_equal(send_frame(a, path, 0x01, 60), 0);
	assert_int_equal(rx(p, 0), 1);
	close(a);
	a = guest_sock("qemu");	/* unlinks and binds, as QEMU does */
	assert_int_equal(send_frame(a, path, 0x02, 60), -EPERM);
	p->ops->tick(p, DGRAM_CHECK_NS / 2);	/* not yet time to look */
	assert_int_equal(send_frame(a, path, 0x02, 60), -EPERM);
	p->ops->tick(p, 2 * SEC);
	assert_int_equal(send_frame(a, path, 0x03, 60), 0);
	assert_int_equal(rx(p, 2 * SEC), 1);
	assert_int_equal(vec[0]->data[0], 0x03);
	frame(0, 0x04, 80);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 2 * SEC), 1);
	assert_int_equal(recv(a, got, sizeof(got), 0), 80);
	assert_stat(p, "dgram_peer_gone", 0);
	dp_port_destroy(p);
	close(a);
}

/* The peer's socket closed: a send says so, or the tick finds its path
 * empty; either way the next sender is the peer. */
static void dgram_peer_gone_then_another(void **state)
{
	char path[128], apath[128];
	uint8_t got[128];
	struct dp_port *p = open_path(path, sizeof(path));
	int a = guest_sock("a"), b;

	(void)state;
	assert_int_equal(send_frame(a, path, 0x01, 60), 0);
	assert_int_equal(rx(p, 0), 1);
	close(a);	/* its file stays, as QEMU leaves it */
	frame(0, 0x02, 60);
	frame(1, 0x03, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 2, 0), 2);
	assert_int_equal(p->stats.tx_dropped, 2);
	assert_stat(p, "dgram_peer_gone", 1);
	frame(0, 0x04, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 0), 1);
	assert_stat(p, "dgram_no_peer", 1);

	b = guest_sock("b");
	assert_int_equal(send_frame(b, path, 0x05, 60), 0);
	assert_int_equal(rx(p, 0), 1);
	assert_stat(p, "dgram_peers", 2);

	/* b's path unlinked and its socket closed: the tick notices. */
	close(b);
	path_of(apath, sizeof(apath), "b");
	assert_int_equal(unlink(apath), 0);
	p->ops->tick(p, 2 * SEC);
	assert_stat(p, "dgram_peer_gone", 2);
	a = guest_sock("c");
	assert_int_equal(send_frame(a, path, 0x06, 60), 0);
	assert_int_equal(rx(p, 2 * SEC), 1);
	frame(0, 0x07, 90);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 2 * SEC), 1);
	assert_int_equal(recv(a, got, sizeof(got), 0), 90);
	dp_port_destroy(p);
	close(a);
}

/* vfkit connects to the path and says "VFKT" first: its address is the
 * peer's, and the greeting is no drop. */
static void dgram_vfkit_greeting(void **state)
{
	char path[128];
	uint8_t got[128];
	struct sockaddr_un sa;
	struct dp_port *p = open_path(path, sizeof(path));
	int v = guest_sock("vfkit");

	(void)state;
	assert_int_equal(connect(v, (struct sockaddr *)&sa, addr_of(&sa, path)), 0);
	assert_int_equal(send(v, DGRAM_HELLO, DGRAM_HELLO_LEN, 0),
			 DGRAM_HELLO_LEN);
	assert_int_equal(rx(p, 0), 0);
	assert_int_equal(p->stats.rx_errors, 0);
	assert_stat(p, "dgram_hello", 1);
	assert_stat(p, "dgram_peers", 1);
	frame(0, 0x42, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 0), 1);
	assert_int_equal(recv(v, got, sizeof(got), 0), 60);
	assert_int_equal(got[0], 0x42);
	memset(big, 0x43, 60);
	assert_int_equal(send(v, big, 60, 0), 60);
	assert_int_equal(rx(p, 0), 1);
	dp_port_destroy(p);
	close(v);
}

/*
 * A peer that does not read (QEMU's receive queue full, as
 * net.unix.max_dgram_qlen allows): tx says "not now", leaves the rest
 * untouched for the worker's queue, and the socket is not writable
 * (EPOLLOUT) until the peer reads: no busy loop. Then the rest goes, in
 * order.
 */
static void dgram_full_peer_queue_is_not_now(void **state)
{
	char path[128];
	uint8_t got[256];
	struct dp_port *p = open_path(path, sizeof(path));
	int a = guest_sock("a");
	unsigned int sent = 0, seen = 0, calls = 0;
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };

	(void)state;
	assert_int_equal(send_frame(a, path, 0x01, 60), 0);
	assert_int_equal(rx(p, 0), 1);
	for (;;) {
		unsigned int k;

		assert_true(++calls < 1000);
		for (unsigned int i = 0; i < NB; i++)
			frame(i, (uint8_t)(sent + i), 100);
		k = p->ops->tx_burst(p, vec, NB, 0);
		sent += k;
		if (k < NB) {
			/* The rest is untouched. */
			assert_int_equal(vec[k]->len, 100);
			assert_int_equal(vec[k]->data[0], (uint8_t)sent);
			break;
		}
	}
	assert_int_equal(p->stats.tx_dropped, 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* EPOLLOUT would not fire */
	while (recv(a, got, sizeof(got), 0) == 100) {
		assert_int_equal(got[0], (uint8_t)seen);
		seen++;
	}
	assert_int_equal(seen, sent);
	assert_int_equal(poll(&pfd, 1, 0), 1);	/* writable: the peer read */
	frame(0, (uint8_t)sent, 100);
	assert_int_equal(p->ops->tx_burst(p, vec, 1, 0), 1);
	assert_int_equal(recv(a, got, sizeof(got), 0), 100);
	assert_int_equal(got[0], (uint8_t)sent);
	dp_port_destroy(p);
	close(a);
}

/* A TCP super-frame (the AF_PACKET uplink's GRO) goes as MSS-sized
 * frames, one datagram each; a frame behind it follows. */
static void dgram_super_frame_goes_as_whole_frames(void **state)
{
	uint8_t got[2048];
	int peer;
	struct dp_port *p = open_pair(&peer);

	(void)state;
	tcp_super_frame(0, 2500, 1000);
	frame(1, 0x77, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 2, 0), 2);
	assert_int_equal(p->stats.tx_packets, 2);
	assert_int_equal(read(peer, got, sizeof(got)), 54 + 1000);
	assert_int_equal(read(peer, got, sizeof(got)), 54 + 1000);
	assert_int_equal(read(peer, got, sizeof(got)), 54 + 500);
	assert_int_equal(read(peer, got, sizeof(got)), 60);
	assert_int_equal(got[0], 0x77);
	dp_port_destroy(p);
	close(peer);
}

static void dgram_path_rules(void **state)
{
	char path[128], lp[200];
	struct dgram_cfg cfg = { .path = path, .mtu = 1500 };
	struct dp_port *p = NULL, *p2 = NULL;
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	(void)state;
	path_of(path, sizeof(path), "rules");
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dgram_open(&p, &cfg), -EEXIST);	/* kept */
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(path), 0);

	/* A stale socket (nobody bound any more): replaced. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, addr_of(&sa, path)), 0);
	close(fd);
	assert_int_equal(dgram_open(&p, &cfg), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(dgram_open(&p2, &cfg), -EADDRINUSE);	/* live */
	dp_port_destroy(p);
	assert_int_equal(lstat(path, &st), -1);	/* unlinked at the end */

	memset(lp, 'x', sizeof(lp) - 1);
	lp[sizeof(lp) - 1] = '\0';
	cfg.path = lp;
	assert_int_equal(dgram_open(&p, &cfg), -ENAMETOOLONG);
	cfg.path = "";
	assert_int_equal(dgram_open(&p, &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dgram_frames_both_ways),
		cmocka_unit_test(dgram_hostile_datagrams_are_counted_drops),
		cmocka_unit_test(dgram_learns_and_locks_its_peer),
		cmocka_unit_test(dgram_frames_queued_from_another_sender_are_dropped),
		cmocka_unit_test(dgram_peer_restarted_on_the_same_path),
		cmocka_unit_test(dgram_peer_gone_then_another),
		cmocka_unit_test(dgram_vfkit_greeting),
		cmocka_unit_test(dgram_full_peer_queue_is_not_now),
		cmocka_unit_test(dgram_super_frame_goes_as_whole_frames),
		cmocka_unit_test(dgram_path_rules),
	};

	return TEST_RUN_GROUP(tests, setup, teardown);
}
