// SPDX-License-Identifier: MIT
/*
 * stream.c - the stream guest port: a UNIX stream listener and one port per
 * connection, QEMU's length-prefixed framing (guest/stream.h).
 */
#include "guest/stream.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"
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

struct stream_conn {
	struct dp_port port;
	struct unix_listen *l;		/* NULL for stream_conn_open() */
	bool eof;
	uint32_t rlen;			/* bytes in @rbuf */
	uint32_t tx_off;		/* first unsent byte of @tx_pend */
	uint32_t tx_len;		/* bytes of the frame that waits */
	uint8_t rbuf[STREAM_RBUF];
	/* one frame, or the frames of one super-frame (pkt/gso.h) */
	uint8_t tx_pend[STREAM_RBUF];
};

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
		log_info("%s: guest disconnected", p->name);
		unix_listen_conn_gone(c->l);
	}
	free(c);
}

static const struct dp_port_ops stream_conn_ops = {
	.rx_burst = stream_rx_burst,
	.tx_burst = stream_tx_burst,
	.tick = stream_conn_tick,
	.destroy = stream_conn_destroy,
};

/*
 * The connection's socket buffers as large as the host allows: a burst for
 * the guest that does not fit waits in the worker's 64-frame queue and
 * past it is dropped, and the default (net.core.wmem_default, 208 KiB)
 * holds a hundred or so full frames. The kernel caps the request at
 * net.core.{w,r}mem_max; failure only leaves the default.
 */
static void stream_conn_bufs(int fd)
{
	int v = STREAM_SOCK_BUF;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

int stream_conn_open(struct dp_port **out, int fd, unsigned int mtu,
		     const char *name)
{
	struct stream_conn *c = calloc(1, sizeof(*c));

	stream_conn_bufs(fd);
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

/* A connection of the listener: a port of its own. */
static int stream_accepted(struct unix_listen *l, int fd, const char *name,
			   struct dp_port **out)
{
	int err = stream_conn_open(out, fd, l->port.mtu, name);

	if (!err)
		((struct stream_conn *)*out)->l = l;
	return err;
}

static const struct unix_listen_kind stream_kind = {
	.name = "stream",
	.stat = "stream",
	.peer = "guest",
	.conn_name = "stream",
	.name_path = true,
	.seq = &stream_conn_seq,
	.conns_max = STREAM_CONNS_MAX,
	.conn_open = stream_accepted,
};

int stream_listen(struct dp_port **out, const struct stream_cfg *cfg)
{
	return unix_listen_open(out, &stream_kind, cfg->path, cfg->mtu);
}

void stream_attach(struct dp_port *listener, struct dp_worker *w)
{
	unix_listen_attach(listener, w);
}
