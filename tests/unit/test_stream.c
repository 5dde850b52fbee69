// SPDX-License-Identifier: MIT
/*
 * test_stream.c - the stream guest port (QEMU's -netdev stream framing)
 * over real UNIX stream sockets: whole frames both ways, a frame split
 * across reads, a bad length closing only its own connection, a socket
 * that takes part of a frame never leaving half of it on the wire, and the
 * listener's care for the path it binds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "test_exit.h"
#include "core/log.h"
#include "dp/mailbox.h"
#include "dp/portset.h"
#include "dp/worker.h"
#include "guest/stream.h"
#include "nat/nat.h"

#include "fdfill.h"
#include "gw_fixture.h"
#include "memport.h"
#include "portbufs.h"

/* Length prefix and @len bytes of @tag into @out. Return: bytes. */
static size_t wire(uint8_t *out, uint32_t len, uint8_t tag)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memset(out + 4, tag, len);
	return 4 + len;
}

static struct dp_port *open_pair(int *peer, const char *name)
{
	struct dp_port *p = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv),
			 0);
	assert_int_equal(stream_conn_open(&p, sv[0], 1500, name), 0);
	*peer = sv[1];
	return p;
}

static void stream_frames_both_ways(void **state)
{
	static uint8_t w[3 * 1600];
	uint8_t got[2 * 1600];
	size_t n = 0;
	int peer;
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	n += wire(w + n, 60, 0x11);
	n += wire(w + n, 1514, 0x22);
	n += wire(w + n, 14, 0x33);
	assert_int_equal(write(peer, w, n), (ssize_t)n);
	empty_bufs();
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 3);
	assert_int_equal(bufs[0].len, 60);
	assert_int_equal(bufs[0].data[59], 0x11);
	assert_int_equal(bufs[1].len, 1514);
	assert_int_equal(bufs[1].data[0], 0x22);
	assert_int_equal(bufs[2].len, 14);
	assert_int_equal(p->stats.rx_packets, 3);
	assert_int_equal(p->stats.rx_bytes, 60 + 1514 + 14);
	empty_bufs();
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 0);	/* nothing */

	frame(0, 0xa0, 60);
	frame(1, 0xa1, 1000);
	assert_int_equal(p->ops->tx_burst(p, vec, 2, 0), 2);
	assert_int_equal(p->stats.tx_packets, 2);
	assert_int_equal(read(peer, got, sizeof(got)), 4 + 60 + 4 + 1000);
	assert_memory_equal(got, "\0\0\0\x3c", 4);
	assert_int_equal(got[4], 0xa0);
	assert_memory_equal(got + 64, "\0\0\x03\xe8", 4);
	assert_int_equal(got[68 + 999], 0xa1);

	/* The peer hangs up: the port fails for good, the worker removes it. */
	close(peer);
	empty_bufs();
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), -ECONNRESET);
	dp_port_destroy(p);
}

/* The host's cap on a socket buffer request, net.core.NAME. */
static int sysctl_core(const char *name)
{
	char path[64];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/core/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

/* A connection's socket buffers are as large as the host allows: the
 * kernel's default (208 KiB) holds a hundred or so full frames, and a
 * burst for the guest beyond that and the worker's queue was dropped. The
 * kernel stores twice the request, capped at net.core.{w,r}mem_max. */
static void stream_connection_buffers_raised(void **state)
{
	int peer, snd = 0, rcv = 0;
	socklen_t len = sizeof(int);
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	assert_int_equal(getsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
	len = sizeof(int);
	assert_int_equal(getsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
	assert_int_equal(snd, 2 * MIN(STREAM_SOCK_BUF, sysctl_core("wmem_max")));
	assert_int_equal(rcv, 2 * MIN(STREAM_SOCK_BUF, sysctl_core("rmem_max")));
	p->ops->destroy(p);
	close(peer);
}

static void stream_frame_split_across_reads(void **state)
{
	static uint8_t w[4 + 1000];
	int peer;
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	wire(w, 1000, 0x44);
	empty_bufs();
	assert_int_equal(write(peer, w, 2), 2);	/* half a length */
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 0);
	assert_int_equal(write(peer, w + 2, 500), 500);
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 0);
	assert_int_equal(write(peer, w + 502, sizeof(w) - 502),
			 (ssize_t)(sizeof(w) - 502));
	assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 1);
	assert_int_equal(bufs[0].len, 1000);
	assert_int_equal(bufs[0].data[0], 0x44);
	assert_int_equal(bufs[0].data[999], 0x44);
	assert_int_equal(p->stats.rx_errors, 0);
	dp_port_destroy(p);
	close(peer);
}

/* A bad length after a good frame: the good one is delivered, then the
 * connection fails (counted once); another connection is not touched. */
static void bad_length(uint32_t bad)
{
	uint8_t w[4 + 60 + 4];
	size_t n;
	int pa, pb;
	struct dp_port *a = open_pair(&pa, "a");
	struct dp_port *b = open_pair(&pb, "b");

	n = wire(w, 60, 0x55);
	w[n] = (uint8_t)(bad >> 24);
	w[n + 1] = (uint8_t)(bad >> 16);
	w[n + 2] = (uint8_t)(bad >> 8);
	w[n + 3] = (uint8_t)bad;
	n += 4;
	assert_int_equal(write(pa, w, n), (ssize_t)n);
	empty_bufs();
	assert_int_equal(a->ops->rx_burst(a, vec, NB, 0), 1);
	assert_int_equal(bufs[0].len, 60);
	assert_int_equal(a->ops->rx_burst(a, vec, NB, 0), -EPROTO);
	assert_int_equal(a->stats.rx_errors, 1);
	assert_int_equal(a->stats.rx_packets, 1);

	n = wire(w, 60, 0x66);
	assert_int_equal(write(pb, w, n), (ssize_t)n);
	empty_bufs();
	assert_int_equal(b->ops->rx_burst(b, vec, NB, 0), 1);
	assert_int_equal(bufs[0].data[0], 0x66);
	assert_int_equal(b->stats.rx_errors, 0);
	dp_port_destroy(a);
	dp_port_destroy(b);
	close(pa);
	close(pb);
}

static void stream_bad_length_closes_only_its_connection(void **state)
{
	(void)state;
	bad_length(0);
	bad_length(STREAM_FRAME_MIN - 1);
	bad_length(STREAM_FRAME_MAX + 1);
	bad_length(0xffffffffu);
}

/*
 * A send buffer far smaller than the frames: the socket takes part of one.
 * Whatever tx_burst() returns, what the peer reads, put together, is the
 * frames consumed, whole and in order: the held remainder goes out before
 * the frames the worker offers again.
 */
static void stream_partial_write_never_half_a_frame(void **state)
{
	static uint8_t got[16 * (4 + 30000)];
	size_t have = 0, off = 0;
	unsigned int sent = 0, calls = 0, short_calls = 0, seen = 0;
	int peer, small = 4096;
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	assert_int_equal(setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	assert_int_equal(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
	while (sent < 16) {
		unsigned int n = 16 - sent, k;
		ssize_t r;

		if (n > 4)
			n = 4;
		assert_true(++calls < 10000);
		for (unsigned int i = 0; i < n; i++)
			frame(i, (uint8_t)(0x80 + sent + i), 30000);
		k = p->ops->tx_burst(p, vec, n, 0);
		if (k < n)
			short_calls++;
		sent += k;
		r = read(peer, got + have, sizeof(got) - have);
		if (r > 0)
			have += (size_t)r;
	}
	/* What is still held goes on the next transmit or receive. */
	for (unsigned int i = 0; i < 10000; i++) {
		ssize_t r;

		empty_bufs();
		assert_int_equal(p->ops->rx_burst(p, vec, NB, 0), 0);
		r = read(peer, got + have, sizeof(got) - have);
		if (r <= 0 && have == sizeof(got))
			break;
		if (r > 0)
			have += (size_t)r;
	}
	assert_true(short_calls > 0);	/* the socket did push back */
	assert_int_equal(have, sizeof(got));
	while (off < have) {
		uint32_t len = (uint32_t)got[off] << 24 | got[off + 1] << 16 |
			       got[off + 2] << 8 | got[off + 3];

		assert_int_equal(len, 30000);
		assert_int_equal(got[off + 4], 0x80 + seen);
		assert_int_equal(got[off + 4 + len - 1], 0x80 + seen);
		off += 4 + len;
		seen++;
	}
	assert_int_equal(seen, 16);
	assert_int_equal(p->stats.tx_packets, 16);
	assert_int_equal(p->stats.tx_dropped, 0);
	dp_port_destroy(p);
	close(peer);
}

static void stream_runt_and_giant_frames_are_not_sent(void **state)
{
	uint8_t got[256];
	int peer;
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	tx_runts_refused(p);
	assert_int_equal(read(peer, got, sizeof(got)), 64);
	assert_int_equal(got[4], 0x02);
	dp_port_destroy(p);
	close(peer);
}

/* A TCP super-frame (the AF_PACKET uplink's GRO): the peer, which has no
 * virtio-net header, gets MSS-sized frames, each whole. */
static void stream_super_frame_goes_as_whole_frames(void **state)
{
	static uint8_t got[4096];
	int peer;
	size_t off = 0;
	struct dp_port *p = open_pair(&peer, "s0");

	(void)state;
	tcp_super_frame(0, 2500, 1000);
	frame(1, 0x77, 60);
	assert_int_equal(p->ops->tx_burst(p, vec, 2, 0), 2);
	assert_int_equal(p->stats.tx_packets, 2);
	assert_int_equal(read(peer, got, sizeof(got)),
			 3 * (4 + 54) + 2500 + 4 + 60);
	for (unsigned int k = 0; k < 3; k++) {
		uint32_t len = (uint32_t)got[off + 2] << 8 | got[off + 3];

		assert_int_equal(len, 54 + (k < 2 ? 1000 : 500));
		off += 4 + len;
	}
	assert_int_equal(got[off + 3], 60);
	assert_int_equal(got[off + 4], 0x77);
	dp_port_destroy(p);
	close(peer);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void stream_listener_path(void **state)
{
	char dir[] = "/tmp/arcnat-test-stream-XXXXXX", path[64];
	struct stream_cfg cfg = { .path = path, .mtu = 1500 };
	struct dp_port *l = NULL, *l2 = NULL;
	struct stat st;
	int fd, c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);

	/* Not a socket: refused, left alone. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stream_listen(&l, &cfg), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(path), 0);

	/* A stale socket (bound, nobody listening): replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	assert_int_equal(stream_listen(&l, &cfg), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	/* A live one: refused. */
	assert_int_equal(stream_listen(&l2, &cfg), -EADDRINUSE);

	/* Without a worker a connection is refused, counted; not a frame.
	 * (The second stream_listen()'s probe was one connection too.) */
	c = connect_to(path);
	assert_true(c >= 0);
	empty_bufs();
	assert_int_equal(l->ops->rx_burst(l, vec, NB, 0), 0);
	assert_int_equal(l->stats.rx_errors, 2);
	close(c);

	/* The listener takes the segment's frames and sends them nowhere. */
	frame(0, 0x01, 60);
	assert_int_equal(l->ops->tx_burst(l, vec, 1, 0), 1);

	dp_port_destroy(l);
	assert_int_equal(lstat(path, &st), -1);	/* unlinked at the end */
	assert_int_equal(rmdir(dir), 0);
}

/* A worker that is never run: the listeners hand it their connections
 * (through its mailbox, since this is not its thread), and it destroys
 * them with itself. Enough to see what a listener does on accept. */
struct mini {
	struct memport in, out;
	struct nat *nat;
	struct dp_worker *w;
};

static void mini_init(struct mini *m)
{
	struct nat_config nc = gw_fixture_nat(64);
	struct dp_config dc;

	assert_int_equal(memport_init(&m->in, 0, 0), 0);
	assert_int_equal(memport_init(&m->out, DP_PORT_L3, 0), 0);
	assert_int_equal(nat_create(&m->nat, &nc), 0);
	dc = gw_fixture_dp(&m->in.port, &m->out.port, m->nat);
	assert_int_equal(dp_worker_create(&m->w, &dc), 0);
}

static void mini_fini(struct mini *m)
{
	dp_worker_destroy(m->w);
	nat_destroy(m->nat);
	memport_fini(&m->in);
	memport_fini(&m->out);
}

static struct dp_port *listen_at(const char *dir, const char *name, char *path,
				 size_t cap)
{
	struct stream_cfg cfg = { .path = path, .mtu = 1500 };
	struct dp_port *l = NULL;

	snprintf(path, cap, "%s/%s", dir, name);
	assert_int_equal(stream_listen(&l, &cfg), 0);
	return l;
}

/* The name of the last port a listener logged as connected. */
static char connected[DP_PORT_NAME_MAX];

static void capture_log(void *ctx, enum log_level level, const char *msg)
{
	const char *at = strstr(msg, "guest connected as port ");

	(void)ctx;
	(void)level;
	if (at)
		snprintf(connected, sizeof(connected), "%s",
			 at + strlen("guest connected as port "));
}

/* Two listeners, one connection each: the two guest ports have different
 * names, each saying which socket it came in on. */
static void stream_connection_names_are_unique(void **state)
{
	char dir[] = "/tmp/arcnat-test-stream-XXXXXX", pa[96], pb[96];
	char na[DP_PORT_NAME_MAX], nb[DP_PORT_NAME_MAX];
	struct dp_port *la, *lb;
	struct mini m;
	int ca, cb;

	(void)state;
	assert_non_null(mkdtemp(dir));
	la = listen_at(dir, "a", pa, sizeof(pa));
	lb = listen_at(dir, "b", pb, sizeof(pb));
	mini_init(&m);
	stream_attach(la, m.w);
	stream_attach(lb, m.w);
	log_set_sink(capture_log, NULL);
	ca = connect_to(pa);
	cb = connect_to(pb);
	assert_true(ca >= 0 && cb >= 0);
	empty_bufs();
	connected[0] = '\0';
	assert_int_equal(la->ops->rx_burst(la, vec, NB, 0), 0);
	snprintf(na, sizeof(na), "%s", connected);
	connected[0] = '\0';
	assert_int_equal(lb->ops->rx_burst(lb, vec, NB, 0), 0);
	snprintf(nb, sizeof(nb), "%s", connected);
	log_set_sink(NULL, NULL);
	assert_true(na[0] && nb[0]);
	assert_string_not_equal(na, nb);
	assert_non_null(strstr(na, "/a#"));
	assert_non_null(strstr(nb, "/b#"));
	mini_fini(&m);	/* destroys the two connections */
	close(ca);
	close(cb);
	dp_port_destroy(la);
	dp_port_destroy(lb);
	assert_int_equal(rmdir(dir), 0);
}

/* The listener's own counter @name (stat g.stream_@name). */
static void assert_listener_stat(struct dp_port *l, const char *name,
				 unsigned int want)
{
	char line[96], *st = NULL;
	size_t stlen = 0;
	FILE *f = open_memstream(&st, &stlen);

	assert_non_null(f);
	l->ops->print_stats(l, f, "g");
	fclose(f);
	snprintf(line, sizeof(line), "stat g.stream_%s %u\n", name, want);
	if (!strstr(st, line))
		fail_msg("no '%s' in:\n%s", line, st);
	free(st);
}

/*
 * A connection the worker cannot take (its mailbox of port requests is
 * full: it is not running) is accepted and closed, counted as refused and
 * in the listener's rx_errors, and its peer sees the end; the connections
 * before it wait in the mailbox, as before.
 */
static void stream_connection_the_worker_cannot_take_is_refused(void **state)
{
	char dir[] = "/tmp/arcnat-test-stream-XXXXXX", pa[96], pb[96];
	int c[DP_MAILBOX + 1];
	struct dp_port *la, *lb;
	struct mini m;
	uint8_t x;

	(void)state;
	static_assert(DP_MAILBOX <= STREAM_CONNS_MAX, "one listener fills it");
	assert_non_null(mkdtemp(dir));
	la = listen_at(dir, "a", pa, sizeof(pa));
	lb = listen_at(dir, "b", pb, sizeof(pb));
	mini_init(&m);
	stream_attach(la, m.w);
	stream_attach(lb, m.w);
	for (unsigned int i = 0; i < DP_MAILBOX; i++) {
		c[i] = connect_to(pa);
		assert_true(c[i] >= 0);
	}
	c[DP_MAILBOX] = connect_to(pb);
	assert_true(c[DP_MAILBOX] >= 0);
	empty_bufs();
	assert_int_equal(la->ops->rx_burst(la, vec, NB, 0), 0);
	assert_int_equal(lb->ops->rx_burst(lb, vec, NB, 0), 0);
	assert_listener_stat(la, "refused", 0);
	assert_listener_stat(la, "guests", DP_MAILBOX);
	assert_int_equal(la->stats.rx_errors, 0);
	assert_listener_stat(lb, "refused", 1);
	assert_listener_stat(lb, "guests", 0);
	assert_int_equal(lb->stats.rx_errors, 1);
	assert_int_equal(recv(c[DP_MAILBOX], &x, 1, MSG_DONTWAIT), 0);
	assert_int_equal(recv(c[0], &x, 1, MSG_DONTWAIT), -1);	/* waits */
	mini_fini(&m);	/* destroys the ports in its mailbox */
	for (unsigned int i = 0; i <= DP_MAILBOX; i++)
		close(c[i]);
	dp_port_destroy(la);
	dp_port_destroy(lb);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * Out of descriptors: accept4() fails with EMFILE and the connection stays
 * pending, so a level-triggered listener would wake the worker at once,
 * for ever. The listener stops being readable (counted, logged) until a
 * connection closes or its back-off ends; then it accepts again.
 */
static void stream_accept_out_of_fds_backs_off(void **state)
{
	char dir[] = "/tmp/arcnat-test-stream-XXXXXX", path[96];
	int fds[256], c, c2;
	unsigned int nfill;
	struct rlimit saved;
	struct dp_port *l;
	struct pollfd pfd;
	struct mini m;
	char *st = NULL;
	size_t stlen = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	l = listen_at(dir, "s", path, sizeof(path));
	mini_init(&m);
	stream_attach(l, m.w);
	pfd = (struct pollfd){ .fd = l->fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* nothing pending */
	c = connect_to(path);
	assert_true(c >= 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	nfill = fill_fds(fds, 256, (rlim_t)c + 8);
	empty_bufs();
	assert_int_equal(l->ops->rx_burst(l, vec, NB, 1000), 0);
	/* The connection is still pending, but the listener is quiet. */
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(l->ops->rx_burst(l, vec, NB, 2000), 0);
	f = open_memstream(&st, &stlen);
	l->ops->print_stats(l, f, "g");
	fclose(f);
	assert_non_null(strstr(st, "stat g.stream_accept_paused 1\n"));
	free(st);

	/* Descriptors again; before the back-off ends only a closed
	 * connection would wake it. */
	for (unsigned int i = 0; i < nfill; i++)
		close(fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	l->ops->tick(l, 1000 + STREAM_ACCEPT_BACKOFF_NS / 2);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	l->ops->tick(l, 1000 + STREAM_ACCEPT_BACKOFF_NS);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	connected[0] = '\0';
	log_set_sink(capture_log, NULL);
	assert_int_equal(l->ops->rx_burst(l, vec, NB, 2 * STREAM_ACCEPT_BACKOFF_NS), 0);
	log_set_sink(NULL, NULL);
	assert_true(connected[0] != '\0');	/* accepted now */
	assert_int_equal(poll(&pfd, 1, 0), 0);

	/* Paused again, a connection that closes resumes it at once. */
	c2 = connect_to(path);
	assert_true(c2 >= 0);
	nfill = fill_fds(fds, 256, (rlim_t)c2 + 8);
	assert_int_equal(l->ops->rx_burst(l, vec, NB, 3 * STREAM_ACCEPT_BACKOFF_NS), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	for (unsigned int i = 0; i < nfill; i++)
		close(fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	mini_fini(&m);	/* destroys the first connection: a guest left */
	assert_int_equal(poll(&pfd, 1, 0), 1);
	close(c);
	close(c2);
	dp_port_destroy(l);
	assert_int_equal(rmdir(dir), 0);
}

/* The listener carries no frames: the statistics name it as a listener
 * and print no all-zero guestN counters for it. */
static void stream_listener_is_no_guest_in_the_statistics(void **state)
{
	char dir[] = "/tmp/arcnat-test-stream-XXXXXX", path[96], line[160];
	struct dp_ports ps;
	struct dp_port *l, *c;
	unsigned int li, ci;
	int ep = epoll_create1(EPOLL_CLOEXEC), peer;
	char *st = NULL;
	size_t stlen = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	l = listen_at(dir, "s", path, sizeof(path));
	c = open_pair(&peer, "conn");
	assert_true(ep >= 0);
	dp_ports_init(&ps, ep);
	assert_int_equal(dp_ports_add(&ps, l, DP_TAG_GUEST, false, &li), 0);
	assert_int_equal(dp_ports_add(&ps, c, DP_TAG_GUEST, false, &ci), 0);
	f = open_memstream(&st, &stlen);
	dp_ports_print(&ps, f);
	fclose(f);
	snprintf(line, sizeof(line), "stat guest%u.rx_packets ", li);
	assert_null(strstr(st, line));
	snprintf(line, sizeof(line), "arcnat: port guest%u is stream:%s (a listener: no frames)\n",
		 li, path);
	assert_non_null(strstr(st, line));
	snprintf(line, sizeof(line), "stat guest%u.rx_packets 0\n", ci);
	assert_non_null(strstr(st, line));
	free(st);
	dp_ports_fini(&ps);
	close(ep);
	dp_port_destroy(c);
	dp_port_destroy(l);
	close(peer);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream_frames_both_ways),
		cmocka_unit_test(stream_connection_buffers_raised),
		cmocka_unit_test(stream_frame_split_across_reads),
		cmocka_unit_test(stream_bad_length_closes_only_its_connection),
		cmocka_unit_test(stream_partial_write_never_half_a_frame),
		cmocka_unit_test(stream_runt_and_giant_frames_are_not_sent),
		cmocka_unit_test(stream_super_frame_goes_as_whole_frames),
		cmocka_unit_test(stream_listener_path),
		cmocka_unit_test(stream_connection_names_are_unique),
		cmocka_unit_test(stream_connection_the_worker_cannot_take_is_refused),
		cmocka_unit_test(stream_accept_out_of_fds_backs_off),
		cmocka_unit_test(stream_listener_is_no_guest_in_the_statistics),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
