// SPDX-License-Identifier: MIT
/*
 * vhost_user.c - the vhost-user guest port: a listener, one port per
 * frontend, its control messages and its two virtqueues on the worker's
 * thread (guest/vhost_user.h).
 */
#include "guest/vhost_user.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"
#include "guest/unix_listen.h"
#include "guest/vhost_dev.h"
#include "pkt/gso.h"

/* Chains one rx_burst walks past its frames: bad ones are consumed too,
 * and a ring breaks after VRING_BROKEN_AFTER of them. */
#define VU_BAD_CHAINS_PER_CALL	16u
/* A super-frame the guest cannot take whole is cut here first: its frames,
 * each with its headers, for the largest super-frame a buffer holds. */
#define VU_SEG_BUF		PKT_GSO_CUT_MAX(DP_BUF_DATA_MAX)

/* Connections of every listener of the process, numbered for their names. */
static atomic_uint vu_conn_seq;

struct vu_conn {
	struct dp_port port;		/* fd: the control socket */
	struct unix_listen *l;
	struct dp_worker *w;
	struct vhost_dev dev;
	int reg_fd[VHOST_DEV_NRINGS];	/* kick fds registered, or -1 */
	uint32_t reg_sub[VHOST_DEV_NRINGS];
	uint32_t next_sub;
	bool kicked;			/* rx_burst after a transmit kick */
	bool failed;			/* a ring broke: remove the port */
	uint32_t bad_msgs;
	/* The frames of one super-frame cut in software that wait for room
	 * in the receive ring: [seg_next, seg_n), in @seg. */
	unsigned int seg_n;
	unsigned int seg_next;
	bool seg_sent;			/* one of them reached the guest */
	uint32_t seg_bytes;		/* the super-frame's length */
	uint32_t seg_off[PKT_GSO_SEGS_MAX];
	uint32_t seg_len[PKT_GSO_SEGS_MAX];
	uint8_t seg[VU_SEG_BUF];
};

/*
 * The kick and call eventfds are files the frontend shares with arcnat:
 * their O_NONBLOCK flag is the open file's, which the frontend can clear
 * after SET_VRING_KICK/CALL checked it (vhost_dev), then fill a counter
 * (or drain one first), and a plain write() or read() would block the
 * worker and every guest with it. So each access asks for "never wait" by
 * itself: RWF_NOWAIT, which eventfd reads honour since Linux 5.12 and
 * writes since 6.8 (write_iter). An older kernel answers a write with
 * EOPNOTSUPP; then poll() says whether there is room first, which leaves a
 * frontend that clears O_NONBLOCK and fills the counter between the two
 * calls a window (docs/security.md).
 */
static void vu_eventfd_signal(int fd)
{
	uint64_t one = 1;
	struct iovec iov = { &one, sizeof(one) };
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t r;

	if (fd < 0)
		return;
	r = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
	if (r < 0 && errno == EOPNOTSUPP) {
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
			return;	/* a full counter needs no more signal */
		r = write(fd, &one, sizeof(one));
	}
	if (r < 0 && errno != EAGAIN)
		log_debug("vhost-user: eventfd write: %s", strerror(errno));
}

static void vu_eventfd_drain(int fd)
{
	uint64_t v;
	struct iovec iov = { &v, sizeof(v) };

	if (preadv2(fd, &iov, 1, -1, RWF_NOWAIT) < 0 && errno != EAGAIN)
		log_debug("vhost-user: eventfd read: %s", strerror(errno));
}

/* Unregister the kick fds: before a message may make the device close
 * them (an fd from another process stays in the epoll set otherwise). */
static void vu_unregister(struct vu_conn *c)
{
	for (unsigned int i = 0; i < VHOST_DEV_NRINGS; i++) {
		if (c->reg_fd[i] < 0)
			continue;
		if (c->w)
			dp_worker_del_fd(c->w, c->reg_fd[i]);
		c->reg_fd[i] = -1;
		c->reg_sub[i] = 0;	/* its events are stale from now on */
	}
}

/* Register the kick fd of each started ring, each under a fresh sub-index. */
static void vu_register(struct vu_conn *c)
{
	for (unsigned int i = 0; i < VHOST_DEV_NRINGS; i++) {
		const struct vhost_dev_ring *r = &c->dev.ring[i];
		int err;

		if (!r->started || r->kick_fd < 0 || !c->w)
			continue;
		if (++c->next_sub == 0)
			c->next_sub = 1;
		err = dp_worker_add_fd(c->w, &c->port, r->kick_fd, c->next_sub,
				       EPOLLIN);
		if (err) {
			log_warn("%s: ring %u: cannot watch its kick: %s",
				 c->port.name, i, strerror(-err));
			continue;
		}
		c->reg_fd[i] = r->kick_fd;
		c->reg_sub[i] = c->next_sub;
	}
}

/* A refused message (counted by reason in the device): too many end the
 * connection. */
static int vu_refused(struct vu_conn *c)
{
	c->port.stats.rx_errors++;
	if (++c->bad_msgs > VHOST_USER_BAD_MAX) {
		log_warn("%s: more than %u messages refused: connection closed",
			 c->port.name, VHOST_USER_BAD_MAX);
		return -EPROTO;
	}
	return 0;
}

/* Apply one whole message and answer it. Return: 0 or -errno (drop). */
static int vu_apply(struct vu_conn *c, const uint8_t *buf, size_t len,
		    const int *fds, unsigned int nfds)
{
	uint8_t reply[VHOST_MSG_MAX_SIZE];
	struct vhost_msg m;
	enum vhost_err e;
	size_t rlen = 0;
	uint32_t req, flags, size;
	int rc;

	memcpy(&req, buf, sizeof(req));
	memcpy(&flags, buf + 4, sizeof(flags));
	memcpy(&size, buf + 8, sizeof(size));
	e = vhost_msg_parse(&m, buf, len, fds, nfds);
	if (e) {
		vhost_dev_refused(&c->dev, e);
		/* Only the header of an oversized message was read: the
		 * stream is out of step. */
		if (le32toh(size) > VHOST_MSG_MAX_PAYLOAD)
			return -EPROTO;
		/* A frontend waiting for an ack hears of the refusal. */
		if ((le32toh(flags) & VHOST_USER_NEED_REPLY) &&
		    (c->dev.protocol_features & VHOST_PF_REPLY_ACK))
			rlen = vhost_msg_build_u64(reply, le32toh(req), 1);
		if (rlen && send(c->port.fd, reply, rlen,
				 MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)rlen)
			return -EPIPE;
		return vu_refused(c);
	}
	vu_unregister(c);
	rc = vhost_dev_handle(&c->dev, &m, reply, &rlen);
	vu_register(c);
	if (rlen) {
		ssize_t w = send(c->port.fd, reply, rlen,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w != (ssize_t)rlen)
			return -EPIPE;	/* a frontend that does not read */
	}
	if (rc)	/* counted by reason in the device */
		return vu_refused(c);
	return 0;
}

/*
 * Serve the control messages that wait, VHOST_USER_MSGS_PER_CALL at most
 * (the socket stays readable for the rest). A message must be whole once
 * its first byte is there (QEMU sends each with one sendmsg()).
 * Return: 0, or -errno to drop the connection.
 */
static int vu_serve(struct vu_conn *c)
{
	uint8_t buf[VHOST_MSG_MAX_SIZE];
	int fds[VHOST_MSG_MAX_FDS];

	for (unsigned int i = 0; i < VHOST_USER_MSGS_PER_CALL; i++) {
		unsigned int nfds;
		size_t len;
		uint8_t b;
		ssize_t r;
		int err;

		do {
			r = recv(c->port.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		} while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return r == 0 ? -ECONNRESET : -errno;
		err = vhost_msg_recv(c->port.fd, buf, &len, fds, &nfds);
		if (err) {
			vhost_dev_refused(&c->dev, VHOST_ERR_IO);
			c->port.stats.rx_errors++;
			return err == -EAGAIN ? -EPROTO : err;
		}
		err = vu_apply(c, buf, len, fds, nfds);
		if (err)
			return err;
	}
	return 0;
}

/* A ring broke (a hostile guest): the port fails at its next event. */
static void vu_ring_check(struct vu_conn *c, unsigned int idx)
{
	const struct vhost_dev_ring *r = &c->dev.ring[idx];

	if (r->started && r->vr.broken && !c->failed) {
		c->failed = true;
		log_warn("%s: guest broke its %s ring: connection closed",
			 c->port.name, idx == VHOST_DEV_RX ? "receive" :
							     "transmit");
	}
}

static void vu_call(struct vu_conn *c, unsigned int idx)
{
	const struct vhost_dev_ring *r = &c->dev.ring[idx];

	if (vring_need_call(&r->vr))
		vu_eventfd_signal(r->call_fd);
}

/* Frames the guest transmits, up to @n. */
static unsigned int vu_take(struct vu_conn *c, struct dp_buf **bufs,
			    unsigned int n)
{
	struct vhost_dev_ring *r = &c->dev.ring[VHOST_DEV_TX];
	unsigned int k = 0, bad = 0, used = 0;

	if (!vhost_dev_ring_ready(&c->dev, VHOST_DEV_TX))
		return 0;
	while (k < n && bad < VU_BAD_CHAINS_PER_CALL) {
		struct dp_buf *b = bufs[k];
		size_t len;
		int rc;

		dp_buf_reset(b);
		rc = vring_net_tx(&r->vr, &b->vnet, b->data, dp_buf_room(b),
				  &len);
		if (rc == -EAGAIN || rc == -EPIPE)
			break;
		used++;
		if (rc) {	/* a bad chain, counted by the ring */
			bad++;
			c->port.stats.rx_errors++;
			continue;
		}
		b->len = (uint32_t)len;
		b->flags = DP_BUF_VNET;
		c->port.stats.rx_packets++;
		c->port.stats.rx_bytes += len;
		k++;
	}
	if (used)
		vu_call(c, VHOST_DEV_TX);
	vu_ring_check(c, VHOST_DEV_TX);
	/* A full burst may have left more: kick ourselves to come back
	 * (the worker drains a port a bounded number of bursts per wakeup). */
	if (k == n || bad == VU_BAD_CHAINS_PER_CALL)
		vu_eventfd_signal(c->reg_fd[VHOST_DEV_TX]);
	return k;
}

static int vu_rx_burst(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		       uint64_t now)
{
	struct vu_conn *c = (struct vu_conn *)p;
	unsigned int k;

	(void)now;
	if (!c->kicked) {
		int err = vu_serve(c);

		if (err)
			return err;
	}
	c->kicked = false;
	if (c->failed)
		return -EPROTO;
	k = vu_take(c, bufs, n);
	if (c->failed && k == 0)
		return -EPROTO;
	return (int)k;
}

/* The offloads the guest acked for this frame's metadata. */
static bool vu_guest_takes(const struct vu_conn *c, const struct dp_buf *b)
{
	uint64_t f = c->dev.features;

	if (!(b->flags & DP_BUF_VNET))
		return true;
	if ((b->vnet.flags & VNET_F_NEEDS_CSUM) && !(f & VHOST_F_NET_GUEST_CSUM))
		return false;
	switch (b->vnet.gso_type & ~VNET_GSO_ECN) {
	case VNET_GSO_NONE:
		return true;
	case VNET_GSO_TCPV4:
		return f & VHOST_F_NET_GUEST_TSO4;
	case VNET_GSO_TCPV6:
		return f & VHOST_F_NET_GUEST_TSO6;
	default:
		return false;
	}
}

/* The super-frame whose frames waited is done: it counts once, as sent
 * when one of its frames reached the guest, else as dropped. */
static void vu_seg_done(struct vu_conn *c)
{
	if (c->seg_sent) {
		c->port.stats.tx_packets++;
		c->port.stats.tx_bytes += c->seg_bytes;
	} else {
		c->port.stats.tx_dropped++;
	}
	c->seg_n = c->seg_next = 0;
	c->seg_sent = false;
}

/*
 * Give the guest the frames of a super-frame that wait, in order, each
 * once. A frame the ring refuses for good (a bad chain, too big) is lost
 * alone; a broken ring loses the rest. Return: frames given.
 */
static unsigned int vu_seg_flush(struct vu_conn *c, struct vring *vr)
{
	static const struct pkt_vnet none;
	unsigned int pushed = 0;

	if (c->seg_next == c->seg_n)
		return 0;
	while (c->seg_next < c->seg_n) {
		unsigned int k = c->seg_next;
		int rc = vring_net_rx(vr, &none, c->seg + c->seg_off[k],
				      c->seg_len[k]);

		if (rc == -ENOBUFS)
			return pushed;	/* the rest waits for a kick */
		if (rc == -EPIPE)
			break;
		if (!rc) {
			c->seg_sent = true;
			pushed++;
		}
		c->seg_next++;
	}
	vu_seg_done(c);
	return pushed;
}

/*
 * Finish @b's offloads in software: cut it into @seg and give the guest
 * what its receive ring has room for; the rest waits in the port, and no
 * frame goes before it (vu_tx_burst()). @b is consumed. Nothing waits when
 * called. Return: frames given.
 */
static unsigned int vu_tx_offload(struct vu_conn *c, struct vring *vr,
				  const struct dp_buf *b)
{
	int k = pkt_gso_cut(b->data, b->len, &b->vnet, c->seg, sizeof(c->seg),
			    c->seg_off, c->seg_len);

	if (k < 0) {
		c->port.stats.tx_dropped++;
		return 0;
	}
	c->seg_n = (unsigned int)k;
	c->seg_next = 0;
	c->seg_sent = false;
	c->seg_bytes = b->len;
	return vu_seg_flush(c, vr);
}

static bool vu_seg_waits(const struct vu_conn *c)
{
	return c->seg_next < c->seg_n;
}

static unsigned int vu_tx_burst(struct dp_port *p, struct dp_buf **bufs,
				unsigned int n, uint64_t now)
{
	static const struct pkt_vnet none;
	struct vu_conn *c = (struct vu_conn *)p;
	struct vring *vr = &c->dev.ring[VHOST_DEV_RX].vr;
	unsigned int i, pushed;

	(void)now;
	for (i = 0; i < n; i++)
		dp_buf_check(bufs[i], 0);
	if (!vhost_dev_ring_ready(&c->dev, VHOST_DEV_RX)) {
		/* No receive ring yet (the guest's driver is not up) or
		 * broken: a NIC with its link down. */
		if (vu_seg_waits(c))
			vu_seg_done(c);
		p->stats.tx_dropped += n;
		return n;
	}
	/* The frames of a super-frame that wait go first. */
	pushed = vu_seg_flush(c, vr);
	for (i = 0; i < n && !vu_seg_waits(c); i++) {
		const struct dp_buf *b = bufs[i];
		int rc;

		if (!vu_guest_takes(c, b)) {
			pushed += vu_tx_offload(c, vr, b);
			continue;	/* consumed; what waits stops the loop */
		}
		rc = vring_net_rx(vr, (b->flags & DP_BUF_VNET) ? &b->vnet : &none,
				  b->data, b->len);
		if (rc == -ENOBUFS)
			break;	/* not now: the queue waits for a kick */
		if (rc) {
			p->stats.tx_dropped++;
			continue;
		}
		pushed++;
		p->stats.tx_packets++;
		p->stats.tx_bytes += b->len;
	}
	if (pushed)
		vu_call(c, VHOST_DEV_RX);
	vu_ring_check(c, VHOST_DEV_RX);
	if (c->failed)	/* wake the worker to remove us */
		vu_eventfd_signal(c->reg_fd[VHOST_DEV_TX]);
	return i;
}

/* The guest gave receive buffers: the frames of a super-frame that wait
 * go now (the worker offers the queue after, which may be empty). */
static void vu_seg_resume(struct vu_conn *c)
{
	if (!vu_seg_waits(c))
		return;
	if (!vhost_dev_ring_ready(&c->dev, VHOST_DEV_RX)) {
		vu_seg_done(c);
		return;
	}
	if (vu_seg_flush(c, &c->dev.ring[VHOST_DEV_RX].vr))
		vu_call(c, VHOST_DEV_RX);
	vu_ring_check(c, VHOST_DEV_RX);
}

static int vu_fd_event(struct dp_port *p, uint32_t sub, uint32_t events,
		       uint64_t now)
{
	struct vu_conn *c = (struct vu_conn *)p;

	(void)events;
	(void)now;
	if (c->failed)
		return -EPROTO;
	if (sub == c->reg_sub[VHOST_DEV_TX]) {
		vu_eventfd_drain(c->reg_fd[VHOST_DEV_TX]);
		c->kicked = true;
		return DP_FD_RX;
	}
	if (sub == c->reg_sub[VHOST_DEV_RX]) {
		vu_eventfd_drain(c->reg_fd[VHOST_DEV_RX]);
		vu_seg_resume(c);
		return DP_FD_TX;
	}
	return 0;	/* an fd replaced since: stale */
}

/* A kick that never came (a ring without a kick fd, a lost one): look at
 * the transmit ring every tick. */
static void vu_tick(struct dp_port *p, uint64_t now)
{
	struct vu_conn *c = (struct vu_conn *)p;
	const struct vring *vr = &c->dev.ring[VHOST_DEV_TX].vr;

	(void)now;
	/* Frames that wait for receive buffers offered without a kick. */
	vu_seg_resume(c);
	if (!vhost_dev_ring_ready(&c->dev, VHOST_DEV_TX))
		return;
	/* Pairs with the guest's release of avail->idx. */
	if (__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) !=
	    vr->last_avail)
		vu_eventfd_signal(c->reg_fd[VHOST_DEV_TX]);
}

static void vu_log_end(const struct vu_conn *c)
{
	char why[256];
	size_t at = 0;

	why[0] = 0;
	for (unsigned int e = 1; e < VHOST_ERR__MAX; e++)
		if (c->dev.errors[e] && at < sizeof(why))
			at += (size_t)snprintf(why + at, sizeof(why) - at,
					       " msg.%s=%llu", vhost_err_name(e),
					       (unsigned long long)c->dev.errors[e]);
	for (unsigned int i = 0; i < VHOST_DEV_NRINGS; i++)
		for (unsigned int d = 1; d < VRING_DROP__MAX; d++)
			if (c->dev.ring[i].vr.drops[d] && at < sizeof(why))
				at += (size_t)snprintf(
					why + at, sizeof(why) - at,
					" %s.%s=%llu", i ? "tx" : "rx",
					vring_drop_name(d),
					(unsigned long long)c->dev.ring[i].vr.drops[d]);
	log_info("%s: frontend disconnected (%llu messages%s%s)", c->port.name,
		 (unsigned long long)c->dev.handled, why[0] ? ", refused or bad:" : "",
		 why);
}

static void vu_conn_destroy(struct dp_port *p)
{
	struct vu_conn *c = (struct vu_conn *)p;

	if (!p)
		return;
	vu_unregister(c);
	vu_log_end(c);
	vhost_dev_destroy(&c->dev);
	if (p->fd >= 0)
		close(p->fd);
	if (c->l)
		unix_listen_conn_gone(c->l);
	free(c);
}

static const struct dp_port_ops vu_conn_ops = {
	.rx_burst = vu_rx_burst,
	.tx_burst = vu_tx_burst,
	.fd_event = vu_fd_event,
	.tick = vu_tick,
	.destroy = vu_conn_destroy,
};

/* A connection of the listener: a port of its own. */
static int vu_conn_open(struct unix_listen *l, int fd, const char *name,
			struct dp_port **out)
{
	struct vu_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->port.ops = &vu_conn_ops;
	c->port.fd = fd;
	c->port.flags = DP_PORT_VNET | DP_PORT_KICK;
	c->port.mtu = l->port.mtu;
	snprintf(c->port.name, sizeof(c->port.name), "%s", name);
	c->l = l;
	c->w = l->w;
	for (unsigned int i = 0; i < VHOST_DEV_NRINGS; i++)
		c->reg_fd[i] = -1;
	vhost_dev_init(&c->dev);
	*out = &c->port;
	return 0;
}

static const struct unix_listen_kind vu_kind = {
	.name = "vhost-user",
	.stat = "vhost",
	.peer = "frontend",
	.conn_name = "vhost",
	.name_path = false,
	.seq = &vu_conn_seq,
	.conns_max = VHOST_USER_CONNS_MAX,
	.conn_open = vu_conn_open,
};

int vhost_user_listen(struct dp_port **out, const struct vhost_user_cfg *cfg)
{
	return unix_listen_open(out, &vu_kind, cfg->path, cfg->mtu);
}

void vhost_user_attach(struct dp_port *listener, struct dp_worker *w)
{
	unix_listen_attach(listener, w);
}
