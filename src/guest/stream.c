// SPDX-License-Identifier: MIT
/*
 * stream.c - the stream guest port: a UNIX stream listener and one port per
 * connection, QEMU's length-prefixed framing (guest/stream.h).
 */
#include "guest/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "pkt/gso.h"

#define STREAM_HDR	4u
/* Room for one whole frame behind a partial one, so that one read() can
 * bring many small frames. */
#define STREAM_RBUF	(2u * (STREAM_HDR + STREAM_FRAME_MAX))
/* Frames one sendmsg() carries (two iovecs each). */
#define STREAM_TX_BATCH	32u
/* read() calls per rx_burst: a bound, and fairness to the other ports. */
#define STREAM_READS	2u

/* Connections of every listener of the process, numbered for their
 * names: unique even where two paths would print the same. */
static atomic_uint stream_conn_seq;

/*
 * A listener. @port.fd is an epoll set holding @lfd, so that the listener
 * can stop being woken (out of descriptors) without the worker's help.
 */
struct stream_listener {
	struct dp_port port;
	struct dp_worker *w;
	int lfd;		/* the listening socket */
	unsigned int refs;	/* the listener itself and each connection */
	unsigned int conns;
	bool paused;		/* @lfd out of @port.fd's set */
	uint64_t resume_at;	/* when a pause ends at the latest */
	uint64_t refused;
	uint64_t paused_n;
	struct ratelimit rl;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct stream_conn {
	struct dp_port port;
	struct stream_listener *l;	/* NULL for stream_conn_open() */
	bool eof;
	uint32_t rlen;			/* bytes in @rbuf */
	uint32_t tx_off;		/* first unsent byte of @tx_pend */
	uint32_t tx_len;		/* bytes of the frame that waits */
	uint8_t rbuf[STREAM_RBUF];
	/* one frame, or the frames of one super-frame (pkt/gso.h) */
	uint8_t tx_pend[STREAM_RBUF];
};

static void stream_unref(struct stream_listener *l)
{
	if (l && --l->refs == 0)
		free(l);
}

/* Put the listening socket in or out of the set the worker polls. */
static void stream_listen_poll(struct stream_listener *l, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };

	if (l->paused == !on || l->port.fd < 0)
		return;
	if (epoll_ctl(l->port.fd, EPOLL_CTL_MOD, l->lfd, &ev) < 0) {
		log_warn("%s: epoll_ctl: %s", l->port.name, strerror(errno));
		return;
	}
	l->paused = !on;
}

static uint32_t stream_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Send what is left of the frame that waits. Return: true when none is. */
static bool stream_flush(struct stream_conn *c)
{
	while (c->tx_off < c->tx_len) {
		struct iovec iov = { c->tx_pend + c->tx_off,
				     c->tx_len - c->tx_off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t r = sendmsg(c->port.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (r <= 0)	/* the peer is gone: rx_burst sees the hang-up */
			break;
		c->tx_off += (uint32_t)r;
	}
	c->tx_off = c->tx_len = 0;
	return true;
}

/* Take whole frames out of @rbuf. Return: the count, or -EPROTO. */
static int stream_parse(struct stream_conn *c, struct dp_buf **bufs,
			unsigned int n)
{
	uint32_t off = 0;
	unsigned int k = 0;
	int err = 0;

	while (k < n && c->rlen - off >= STREAM_HDR) {
		uint32_t len = stream_be32(c->rbuf + off);
		struct dp_buf *b = bufs[k];

		if (len < STREAM_FRAME_MIN || len > STREAM_FRAME_MAX) {
			err = -EPROTO;
			break;
		}
		if (c->rlen - off - STREAM_HDR < len)
			break;
		dp_buf_reset(b);
		if (dp_buf_room(b) < len) {	/* a worker's buffers hold it */
			c->port.stats.rx_errors++;
		} else {
			memcpy(b->data, c->rbuf + off + STREAM_HDR, len);
			b->len = len;
			c->port.stats.rx_packets++;
			c->port.stats.rx_bytes += len;
			k++;
		}
		off += STREAM_HDR + len;
	}
	if (err && k == 0) {
		c->port.stats.rx_errors++;
		return err;
	}
	if (err)	/* the frames before the bad length go first */
		c->eof = true;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return (int)k;
}

static int stream_rx_burst(struct dp_port *p, struct dp_buf **bufs,
			   unsigned int n, uint64_t now)
{
	struct stream_conn *c = (struct stream_conn *)p;
	unsigned int k = 0;

	(void)now;
	if (c->tx_len)
		stream_flush(c);
	for (unsigned int i = 0; i <= STREAM_READS && k < n; i++) {
		int r = stream_parse(c, bufs + k, n - k);
		ssize_t got;

		if (r < 0) {
			log_warn("%s: frame length out of %u..%u: connection "
				 "closed", p->name, STREAM_FRAME_MIN,
				 STREAM_FRAME_MAX);
			return k ? (int)k : r;
		}
		k += (unsigned int)r;
		if (k == n || c->eof || i == STREAM_READS)
			break;
		got = read(p->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got <= 0) {
			/* A hang-up: frames already whole go first. */
			c->eof = true;
			if (c->rlen >= STREAM_HDR)
				continue;
			break;
		}
		c->rlen += (uint32_t)got;
	}
	if (k == 0 && c->eof)
		return -ECONNRESET;
	return (int)k;
}

/* Keep the part of frame @b the socket did not take, from byte @sent of
 * its length prefix on. */
static void stream_hold(struct stream_conn *c, const struct dp_buf *b,
			size_t sent)
{
	uint8_t hdr[STREAM_HDR] = { (uint8_t)(b->len >> 24),
				    (uint8_t)(b->len >> 16),
				    (uint8_t)(b->len >> 8), (uint8_t)b->len };

	memcpy(c->tx_pend, hdr, STREAM_HDR);
	memcpy(c->tx_pend + STREAM_HDR, b->data, b->len);
	c->tx_len = STREAM_HDR + b->len;
	c->tx_off = (uint32_t)sent;
}

/* Offloads the peer cannot take (no virtio-net header on a stream). */
static bool stream_needs_offload(const struct dp_buf *b)
{
	return (b->flags & DP_BUF_VNET) &&
	       (b->vnet.gso_type != VNET_GSO_NONE ||
		(b->vnet.flags & VNET_F_NEEDS_CSUM));
}

/*
 * Finish @b's offloads in software into @tx_pend: its frames, each with its
 * length, as one unit that is sent whole or held (never half of it).
 * The caller has nothing held. The frame counts once, as sent or dropped.
 */
static void stream_tx_offload(struct stream_conn *c, const struct dp_buf *b)
{
	struct pkt_gso g;
	uint32_t at = 0;
	int r = pkt_gso_init(&g, b->data, b->len, &b->vnet);

	while (!r) {
		r = pkt_gso_next(&g, c->tx_pend + at + STREAM_HDR,
				 sizeof(c->tx_pend) - at - STREAM_HDR);
		if (r <= 0)
			break;
		c->tx_pend[at] = (uint8_t)((uint32_t)r >> 24);
		c->tx_pend[at + 1] = (uint8_t)((uint32_t)r >> 16);
		c->tx_pend[at + 2] = (uint8_t)((uint32_t)r >> 8);
		c->tx_pend[at + 3] = (uint8_t)r;
		at += STREAM_HDR + (uint32_t)r;
		r = 0;
	}
	if (r < 0) {
		c->port.stats.tx_dropped++;
		return;
	}
	c->tx_len = at;
	c->tx_off = 0;
	c->port.stats.tx_packets++;
	c->port.stats.tx_bytes += b->len;
	stream_flush(c);
}

static unsigned int stream_tx_burst(struct dp_port *p, struct dp_buf **bufs,
				    unsigned int n, uint64_t now)
{
	struct stream_conn *c = (struct stream_conn *)p;
	unsigned int done = 0;

	(void)now;
	if (c->tx_len && !stream_flush(c))
		return 0;	/* the frame that waits goes first */
	while (done < n) {
		uint8_t hdr[STREAM_TX_BATCH][STREAM_HDR];
		struct iovec iov[2 * STREAM_TX_BATCH];
		struct msghdr mh = { .msg_iov = iov };
		size_t m = 0;
		unsigned int i, idx[STREAM_TX_BATCH];
		ssize_t r;

		dp_buf_check(bufs[done], 0);
		if (stream_needs_offload(bufs[done])) {
			stream_tx_offload(c, bufs[done++]);
			if (c->tx_len)
				return done;	/* held: the rest later */
			continue;
		}
		for (i = done; i < n && m < STREAM_TX_BATCH; i++) {
			struct dp_buf *b = bufs[i];

			dp_buf_check(b, 0);
			if (stream_needs_offload(b))
				break;	/* on its own, in the next round */
			if (b->len < STREAM_FRAME_MIN || b->len > STREAM_FRAME_MAX)
				continue;	/* dropped below, in order */
			hdr[m][0] = (uint8_t)(b->len >> 24);
			hdr[m][1] = (uint8_t)(b->len >> 16);
			hdr[m][2] = (uint8_t)(b->len >> 8);
			hdr[m][3] = (uint8_t)b->len;
			iov[2 * m] = (struct iovec){ hdr[m], STREAM_HDR };
			iov[2 * m + 1] = (struct iovec){ b->data, b->len };
			idx[m++] = i;
		}
		if (m == 0) {	/* only frames no peer may get */
			p->stats.tx_dropped += i - done;
			done = i;
			continue;
		}
		mh.msg_iovlen = 2 * m;
		do {
			r = sendmsg(p->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Bad frames in front of the first that waits. */
			p->stats.tx_dropped += idx[0] - done;
			return idx[0];
		}
		if (r < 0) {	/* the peer is gone: its rx_burst says so */
			p->stats.tx_dropped += n - done;
			return n;
		}
		for (size_t j = 0; j < m; j++) {
			const struct dp_buf *b = bufs[idx[j]];
			size_t whole = STREAM_HDR + b->len;

			p->stats.tx_dropped += idx[j] - done;
			done = idx[j];
			if (r == 0)
				return done;	/* not now: the worker queues */
			p->stats.tx_packets++;
			p->stats.tx_bytes += b->len;
			done++;
			if ((size_t)r < whole) {
				stream_hold(c, b, (size_t)r);
				return done;
			}
			r -= (ssize_t)whole;
		}
		/* Bad frames after the last sent, up to where the batch
		 * stopped. */
		p->stats.tx_dropped += i - done;
		done = i;
	}
	return done;
}

static void stream_conn_tick(struct dp_port *p, uint64_t now)
{
	struct stream_conn *c = (struct stream_conn *)p;

	(void)now;
	/* A frame held after the last of a burst has no EPOLLOUT of the
	 * worker's behind it: finish it here if no frame in or out did. */
	if (c->tx_len)
		stream_flush(c);
}

static void stream_conn_destroy(struct dp_port *p)
{
	struct stream_conn *c = (struct stream_conn *)p;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (c->l) {
		c->l->conns--;
		log_info("%s: guest disconnected", p->name);
		/* A descriptor is free again: accept what waits. */
		stream_listen_poll(c->l, true);
		stream_unref(c->l);
	}
	free(c);
}

static const struct dp_port_ops stream_conn_ops = {
	.rx_burst = stream_rx_burst,
	.tx_burst = stream_tx_burst,
	.tick = stream_conn_tick,
	.destroy = stream_conn_destroy,
};

int stream_conn_open(struct dp_port **out, int fd, unsigned int mtu,
		     const char *name)
{
	struct stream_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->port.ops = &stream_conn_ops;
	c->port.fd = fd;
	c->port.mtu = mtu;
	snprintf(c->port.name, sizeof(c->port.name), "%s", name);
	*out = &c->port;
	return 0;
}

/* "stream:PATH#SEQ" in @cap bytes; a path too long keeps its end. */
static void stream_conn_name(char *out, size_t cap, const char *path,
			     unsigned int seq)
{
	char num[16];
	size_t room, len = strlen(path);

	snprintf(num, sizeof(num), "#%u", seq);
	room = cap - 1 - strlen("stream:") - strlen(num);
	if (len <= room)
		snprintf(out, cap, "stream:%s%s", path, num);
	else
		snprintf(out, cap, "stream:...%s%s", path + len - (room - 3),
			 num);
}

/* accept4() cannot take a connection for lack of resources. */
static bool stream_accept_starved(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

/* Accept what is pending: each connection a port of the worker. */
static int stream_accept_burst(struct dp_port *p, struct dp_buf **bufs,
			       unsigned int n, uint64_t now)
{
	struct stream_listener *l = (struct stream_listener *)p;

	(void)bufs;
	(void)n;
	if (l->paused)	/* an event from before the pause */
		return 0;
	for (unsigned int i = 0; i < STREAM_CONNS_MAX; i++) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dp_port *cp;
		char name[DP_PORT_NAME_MAX];
		int err;

		if (fd < 0 && stream_accept_starved(errno)) {
			/* The connection stays pending and the socket
			 * readable: stop polling it for a while. */
			err = errno;
			l->paused_n++;
			l->resume_at = now + STREAM_ACCEPT_BACKOFF_NS;
			stream_listen_poll(l, false);
			log_rl(&l->rl, now, LOG_LEVEL_WARN,
			       "%s: cannot accept: %s; not accepting for %" PRIu64
			       " ms or until a guest leaves", p->name,
			       strerror(err),
			       (uint64_t)(STREAM_ACCEPT_BACKOFF_NS / NSEC_PER_MSEC));
			break;
		}
		if (fd < 0)
			break;	/* EAGAIN, or the peer gave up already */
		if (!l->w || l->conns >= STREAM_CONNS_MAX) {
			l->refused++;
			p->stats.rx_errors++;
			log_warn("%s: connection refused: %s (%u guests)",
				 p->name, l->w ? "full" : "not started",
				 l->conns);
			close(fd);
			continue;
		}
		stream_conn_name(name, sizeof(name), l->path,
				 atomic_fetch_add(&stream_conn_seq, 1) + 1);
		if (stream_conn_open(&cp, fd, p->mtu, name))
			continue;
		((struct stream_conn *)cp)->l = l;
		l->refs++;
		l->conns++;
		err = dp_worker_add_port(l->w, cp);	/* destroys it on error */
		if (err)
			log_warn("%s: cannot add a guest: %s", p->name,
				 strerror(-err));
		else
			log_info("%s: guest connected as port %s", p->name,
				 name);
	}
	return 0;
}

/* The listener carries no frames: what the segment sends it goes nowhere. */
static unsigned int stream_listener_tx(struct dp_port *p, struct dp_buf **bufs,
				       unsigned int n, uint64_t now)
{
	(void)p;
	(void)now;
	for (unsigned int i = 0; i < n; i++)
		dp_buf_check(bufs[i], 0);
	return n;
}

/* A pause ends at the latest here. */
static void stream_listener_tick(struct dp_port *p, uint64_t now)
{
	struct stream_listener *l = (struct stream_listener *)p;

	if (l->paused && now >= l->resume_at)
		stream_listen_poll(l, true);
}

static void stream_listener_print_stats(const struct dp_port *p, FILE *f,
					const char *pfx)
{
	const struct stream_listener *l = (const struct stream_listener *)p;

	fprintf(f, "stat %s.stream_guests %u\n", pfx, l->conns);
	fprintf(f, "stat %s.stream_refused %" PRIu64 "\n", pfx, l->refused);
	fprintf(f, "stat %s.stream_accept_paused %" PRIu64 "\n", pfx,
		l->paused_n);
}

static void stream_listener_destroy(struct dp_port *p)
{
	struct stream_listener *l = (struct stream_listener *)p;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (l->lfd >= 0) {
		close(l->lfd);
		/* unlinkat: the call the sandbox allows (the lease file's). */
		unlinkat(AT_FDCWD, l->path, 0);
	}
	l->lfd = -1;
	l->w = NULL;
	stream_unref(l);
}

static const struct dp_port_ops stream_listener_ops = {
	.rx_burst = stream_accept_burst,
	.tx_burst = stream_listener_tx,
	.tick = stream_listener_tick,
	.print_stats = stream_listener_print_stats,
	.destroy = stream_listener_destroy,
};

/* Clear the way for the socket: Return: 0, -EEXIST, -EADDRINUSE, -errno. */
static int stream_clear_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;	/* someone serves it */
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int stream_listen(struct dp_port **out, const struct stream_cfg *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stream_listener *l;
	int err;

	if (!cfg->path || !cfg->path[0])
		return -EINVAL;
	if (strlen(cfg->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, cfg->path, strlen(cfg->path));
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->refs = 1;
	l->port.ops = &stream_listener_ops;
	l->port.flags = DP_PORT_LISTENER;
	l->port.mtu = cfg->mtu;
	l->port.fd = -1;
	l->lfd = -1;
	ratelimit_init(&l->rl, 1, 10 * NSEC_PER_SEC);
	memcpy(l->path, sa.sun_path, sizeof(l->path));
	snprintf(l->port.name, sizeof(l->port.name), "stream:%s", cfg->path);
	err = stream_clear_path(&sa);
	if (err)
		goto err_free;
	l->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->lfd < 0) {
		err = -errno;
		goto err_free;
	}
	if (bind(l->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto err_close;
	}
	if (chmod(sa.sun_path, 0660) < 0 ||
	    listen(l->lfd, (int)STREAM_CONNS_MAX) < 0) {
		err = -errno;
		goto err_unlink;
	}
	l->port.fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->port.fd < 0) {
		err = -errno;
		goto err_unlink;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN };

		if (epoll_ctl(l->port.fd, EPOLL_CTL_ADD, l->lfd, &ev) < 0) {
			err = -errno;
			close(l->port.fd);
			goto err_unlink;
		}
	}
	*out = &l->port;
	return 0;

err_unlink:
	unlink(sa.sun_path);
err_close:
	close(l->lfd);
err_free:
	free(l);
	return err;
}

void stream_attach(struct dp_port *listener, struct dp_worker *w)
{
	((struct stream_listener *)listener)->w = w;
}
