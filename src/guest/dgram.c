// SPDX-License-Identifier: MIT
/*
 * dgram.c - the dgram guest port: one UNIX datagram per Ethernet frame, a
 * peer learned from the first frame and connected to (guest/dgram.h).
 */
#include "guest/dgram.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "guest/unix_listen.h"
#include "pkt/gso.h"

/* Datagrams one recvmmsg() or sendmmsg() carries. */
#define DGRAM_BATCH	DP_BURST_MAX
/* The frames of one super-frame cut in software (pkt/gso.h). */
#define DGRAM_SEG_BUF	PKT_GSO_CUT_MAX(DGRAM_FRAME_MAX)

/**
 * struct dgram_counts - the port's own drop and peer counters.
 * @runt:        datagrams shorter than an Ethernet header (not empty)
 * @empty:       zero-length datagrams
 * @oversize:    datagrams longer than DGRAM_FRAME_MAX (seen truncated)
 * @foreign:     frames from a sender that is not the peer, or that has no
 *               address to answer
 * @unreachable: senders the port could not connect to (their socket gone,
 *               or not writable by arcnat's user)
 * @hello:       vfkit greetings
 * @peers:       peers learned
 * @peer_gone:   peers found gone (a send refused, their path empty)
 * @no_peer:     frames for the guests while there was no peer
 * @send_errors: frames the socket refused for another reason (EMSGSIZE)
 */
struct dgram_counts {
	uint64_t runt;
	uint64_t empty;
	uint64_t oversize;
	uint64_t foreign;
	uint64_t unreachable;
	uint64_t hello;
	uint64_t peers;
	uint64_t peer_gone;
	uint64_t no_peer;
	uint64_t send_errors;
};

struct dgram_port {
	struct dp_port port;
	bool bound;		/* our socket file is at @path */
	bool fixed;		/* connected by its creator: never re-learned */
	bool peer_set;
	socklen_t peer_len;
	struct sockaddr_un peer;
	uint64_t next_check;
	struct ratelimit rl;
	struct dgram_counts c;
	/* the frames of one super-frame that wait: [seg_next, seg_n) */
	unsigned int seg_n;
	unsigned int seg_next;
	uint32_t seg_off[PKT_GSO_SEGS_MAX];
	uint32_t seg_len[PKT_GSO_SEGS_MAX];
	struct mmsghdr msg[DGRAM_BATCH];
	struct iovec iov[DGRAM_BATCH];
	struct sockaddr_un from[DGRAM_BATCH];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint8_t seg[DGRAM_SEG_BUF];
};

static struct dgram_port *dgram_of(struct dp_port *p)
{
	return container_of(p, struct dgram_port, port);
}

/* A printable form of a peer's address: its path, '@' for abstract. */
static const char *dgram_addr_str(const struct sockaddr_un *sa, socklen_t len,
				  char *buf, size_t cap)
{
	size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
			   len - offsetof(struct sockaddr_un, sun_path) : 0;

	if (n == 0)
		return "(unnamed)";
	if (sa->sun_path[0] == '\0') {
		snprintf(buf, cap, "@%.*s", (int)(n - 1), sa->sun_path + 1);
		return buf;
	}
	snprintf(buf, cap, "%.*s", (int)strnlen(sa->sun_path, n), sa->sun_path);
	return buf;
}

static bool dgram_is_peer(const struct dgram_port *d,
			  const struct sockaddr_un *sa, socklen_t len)
{
	return d->peer_set && len == d->peer_len && !memcmp(sa, &d->peer, len);
}

/* Forget the peer: the next sender becomes it. */
static void dgram_peer_lost(struct dgram_port *d, const char *why)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	char a[sizeof(d->peer.sun_path) + 2];

	if (!d->peer_set)
		return;
	d->peer_set = false;
	d->c.peer_gone++;
	if (!d->fixed)	/* dissolve what the kernel may not have yet */
		(void)connect(d->port.fd, &sa, sizeof(sa));
	log_info("%s: guest at %s gone (%s)", d->port.name,
		 dgram_addr_str(&d->peer, d->peer_len, a, sizeof(a)), why);
}

/* Make the sender of a frame the peer. Return: true if it is now. */
static bool dgram_learn(struct dgram_port *d, const struct sockaddr_un *sa,
			socklen_t len, uint64_t now)
{
	char a[sizeof(sa->sun_path) + 2];

	if (len <= offsetof(struct sockaddr_un, sun_path) || len > sizeof(*sa)) {
		/* An unbound socket: nowhere to send the answers. */
		d->c.foreign++;
		log_rl(&d->rl, now, LOG_LEVEL_WARN,
		       "%s: a sender without an address (bind it, as QEMU's "
		       "local.path does): dropped", d->port.name);
		return false;
	}
	if (connect(d->port.fd, (const struct sockaddr *)sa, len) < 0) {
		int err = errno;

		d->c.unreachable++;
		log_rl(&d->rl, now, LOG_LEVEL_WARN,
		       "%s: cannot answer %s: %s%s", d->port.name,
		       dgram_addr_str(sa, len, a, sizeof(a)), strerror(err),
		       err == EACCES ? " (arcnat's user must be able to write "
				       "to the guest's socket: see --user, or "
				       "QEMU's umask)" : "");
		return false;
	}
	memcpy(&d->peer, sa, len);
	d->peer_len = len;
	d->peer_set = true;
	d->next_check = now + DGRAM_CHECK_NS;
	d->c.peers++;
	log_info("%s: guest at %s", d->port.name,
		 dgram_addr_str(sa, len, a, sizeof(a)));
	return true;
}

/* The peer's socket is gone for good: this send error says so. */
static bool dgram_err_peer_gone(int err)
{
	return err == ECONNREFUSED || err == ENOTCONN || err == ECONNRESET ||
	       err == ENOENT || err == EPIPE || err == EDESTADDRREQ;
}

/* Is datagram @i a frame for the pipeline? Counts it if not. */
static bool dgram_rx_ok(struct dgram_port *d, unsigned int i, uint64_t now)
{
	const struct msghdr *mh = &d->msg[i].msg_hdr;
	uint32_t len = d->msg[i].msg_len;
	const uint8_t *data = d->iov[i].iov_base;

	if (mh->msg_flags & MSG_TRUNC) {
		d->c.oversize++;
		goto bad;
	}
	if (len == DGRAM_HELLO_LEN && !memcmp(data, DGRAM_HELLO, len)) {
		d->c.hello++;
		if (!d->fixed && !d->peer_set)
			dgram_learn(d, &d->from[i], mh->msg_namelen, now);
		return false;	/* a greeting, not a drop */
	}
	if (len == 0) {
		d->c.empty++;
		goto bad;
	}
	if (len < DGRAM_FRAME_MIN) {
		d->c.runt++;
		goto bad;
	}
	if (d->fixed)
		return true;
	if (!d->peer_set && !dgram_learn(d, &d->from[i], mh->msg_namelen, now))
		goto bad;
	/* Connected, the kernel lets only the peer send; this one was
	 * queued before, from another sender. */
	if (!dgram_is_peer(d, &d->from[i], mh->msg_namelen)) {
		d->c.foreign++;
		goto bad;
	}
	return true;
bad:
	d->port.stats.rx_errors++;
	return false;
}

static bool dgram_seg_flush(struct dgram_port *d);

static int dgram_rx_burst(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct dgram_port *d = dgram_of(p);
	unsigned int m = n, k = 0;
	int got;

	if (m > DGRAM_BATCH)
		m = DGRAM_BATCH;
	if (d->seg_next < d->seg_n)
		dgram_seg_flush(d);
	for (unsigned int i = 0; i < m; i++) {
		struct dp_buf *b = bufs[i];
		uint32_t room;

		dp_buf_reset(b);
		room = dp_buf_room(b);
		d->iov[i].iov_base = b->data;
		d->iov[i].iov_len = room < DGRAM_FRAME_MAX ? room : DGRAM_FRAME_MAX;
		d->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &d->from[i],
			.msg_namelen = sizeof(d->from[i]),
			.msg_iov = &d->iov[i],
			.msg_iovlen = 1,
		};
	}
	do {
		got = recvmmsg(p->fd, d->msg, m, MSG_DONTWAIT, NULL);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* A socket error is reported once and cleared: go on. */
		p->stats.rx_errors++;
		log_rl(&d->rl, now, LOG_LEVEL_WARN, "%s: receive: %s", p->name,
		       strerror(errno));
		return 0;
	}
	for (unsigned int i = 0; i < (unsigned int)got; i++) {
		struct dp_buf *b = bufs[i];

		if (!dgram_rx_ok(d, i, now))
			continue;
		b->len = d->msg[i].msg_len;
		p->stats.rx_packets++;
		p->stats.rx_bytes += b->len;
		/* Whole frames first: the worker reads bufs[0..k). */
		bufs[i] = bufs[k];
		bufs[k++] = b;
	}
	return (int)k;
}

/* sendmmsg() of the first @m prepared messages. Return: sent, or -errno. */
static int dgram_send(struct dgram_port *d, unsigned int m)
{
	int r;

	do {
		r = sendmmsg(d->port.fd, d->msg, m, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static void dgram_msg(struct dgram_port *d, unsigned int j, void *data,
		      size_t len)
{
	d->iov[j] = (struct iovec){ data, len };
	d->msg[j].msg_hdr = (struct msghdr){ .msg_iov = &d->iov[j],
					     .msg_iovlen = 1 };
}

/*
 * Send the frames of a super-frame that wait. Return: true when none is
 * left (sent, or dropped because the peer went away), false on "not now".
 */
static bool dgram_seg_flush(struct dgram_port *d)
{
	while (d->seg_next < d->seg_n) {
		unsigned int m = 0;
		int r;

		for (unsigned int i = d->seg_next; i < d->seg_n && m < DGRAM_BATCH;
		     i++)
			dgram_msg(d, m++, d->seg + d->seg_off[i], d->seg_len[i]);
		r = dgram_send(d, m);
		if (r == -EAGAIN || r == -EWOULDBLOCK || r == -ENOBUFS)
			return false;
		if (r < 0) {
			if (dgram_err_peer_gone(-r))
				dgram_peer_lost(d, strerror(-r));
			else
				d->c.send_errors++;
			break;	/* the rest of the super-frame is lost */
		}
		d->seg_next += (unsigned int)r;
	}
	d->seg_n = d->seg_next = 0;
	return true;
}

/* Offloads the peer cannot take (no virtio-net header on a datagram). */
static bool dgram_needs_offload(const struct dp_buf *b)
{
	return (b->flags & DP_BUF_VNET) &&
	       (b->vnet.gso_type != VNET_GSO_NONE ||
		(b->vnet.flags & VNET_F_NEEDS_CSUM));
}

/* Cut @b into its frames in @seg and send them; what the socket does not
 * take now waits there. Nothing waits when called. */
static void dgram_tx_offload(struct dgram_port *d, const struct dp_buf *b)
{
	int k = pkt_gso_cut(b->data, b->len, &b->vnet, d->seg, sizeof(d->seg),
			    d->seg_off, d->seg_len);

	if (k < 0) {
		d->port.stats.tx_dropped++;
		return;
	}
	d->seg_n = (unsigned int)k;
	d->seg_next = 0;
	d->port.stats.tx_packets++;
	d->port.stats.tx_bytes += b->len;
	dgram_seg_flush(d);
}

static unsigned int dgram_tx_burst(struct dp_port *p, struct dp_buf **bufs,
				   unsigned int n, uint64_t now)
{
	struct dgram_port *d = dgram_of(p);
	unsigned int done = 0;

	if (d->seg_next < d->seg_n && !dgram_seg_flush(d))
		return 0;	/* the super-frame that waits goes first */
	if (!d->peer_set && !d->fixed) {
		for (unsigned int i = 0; i < n; i++)
			dp_buf_check(bufs[i], 0);
		d->c.no_peer += n;	/* no guest: nowhere to go */
		return n;
	}
	while (done < n) {
		unsigned int m = 0, i, idx[DGRAM_BATCH];
		int r;

		dp_buf_check(bufs[done], 0);
		if (dgram_needs_offload(bufs[done])) {
			dgram_tx_offload(d, bufs[done++]);
			if (d->seg_next < d->seg_n)
				return done;	/* the rest waits for it */
			continue;
		}
		for (i = done; i < n && m < DGRAM_BATCH; i++) {
			struct dp_buf *b = bufs[i];

			dp_buf_check(b, 0);
			if (dgram_needs_offload(b))
				break;	/* on its own, in the next round */
			if (b->len < DGRAM_FRAME_MIN || b->len > DGRAM_FRAME_MAX)
				continue;	/* dropped below, in order */
			dgram_msg(d, m, b->data, b->len);
			idx[m++] = i;
		}
		if (m == 0) {
			p->stats.tx_dropped += i - done;
			done = i;
			continue;
		}
		r = dgram_send(d, m);
		if (r == -EAGAIN || r == -EWOULDBLOCK || r == -ENOBUFS) {
			/* Bad frames in front of the first that waits. */
			p->stats.tx_dropped += idx[0] - done;
			return idx[0];
		}
		if (r < 0 && dgram_err_peer_gone(-r)) {
			dgram_peer_lost(d, strerror(-r));
			p->stats.tx_dropped += n - done;
			return n;
		}
		if (r < 0) {	/* this frame only (EMSGSIZE: a peer's limit) */
			d->c.send_errors++;
			log_rl(&d->rl, now, LOG_LEVEL_WARN, "%s: send: %s",
			       p->name, strerror(-r));
			p->stats.tx_dropped += idx[0] + 1 - done;
			done = idx[0] + 1;
			continue;
		}
		for (unsigned int j = 0; j < (unsigned int)r && j < m; j++) {
			p->stats.tx_dropped += idx[j] - done;
			p->stats.tx_packets++;
			p->stats.tx_bytes += bufs[idx[j]]->len;
			done = idx[j] + 1;
		}
		if ((unsigned int)r == m) {	/* bad frames behind the last */
			p->stats.tx_dropped += i - done;
			done = i;
		}
		/* else: the next round offers idx[r] again and sees why */
	}
	return done;
}

static void dgram_tick(struct dp_port *p, uint64_t now)
{
	struct dgram_port *d = dgram_of(p);

	/* A super-frame's frames held after the last of a burst have no
	 * EPOLLOUT of the worker's behind them. */
	if (d->seg_next < d->seg_n)
		dgram_seg_flush(d);
	if (d->fixed || !d->peer_set || now < d->next_check)
		return;
	d->next_check = now + DGRAM_CHECK_NS;
	/* The peer's path again: a restarted QEMU has bound a new socket
	 * there (now the peer); an empty path means the guest is gone. */
	if (connect(p->fd, (const struct sockaddr *)&d->peer, d->peer_len) < 0 &&
	    errno != EINTR)
		dgram_peer_lost(d, strerror(errno));
}

static void dgram_print_stats(const struct dp_port *p, FILE *f, const char *pfx)
{
	const struct dgram_port *d = container_of(p, struct dgram_port, port);
	const struct dgram_counts *c = &d->c;

	fprintf(f, "stat %s.dgram_runt %" PRIu64 "\n", pfx, c->runt);
	fprintf(f, "stat %s.dgram_empty %" PRIu64 "\n", pfx, c->empty);
	fprintf(f, "stat %s.dgram_oversize %" PRIu64 "\n", pfx, c->oversize);
	fprintf(f, "stat %s.dgram_foreign %" PRIu64 "\n", pfx, c->foreign);
	fprintf(f, "stat %s.dgram_unreachable %" PRIu64 "\n", pfx,
		c->unreachable);
	fprintf(f, "stat %s.dgram_hello %" PRIu64 "\n", pfx, c->hello);
	fprintf(f, "stat %s.dgram_peers %" PRIu64 "\n", pfx, c->peers);
	fprintf(f, "stat %s.dgram_peer_gone %" PRIu64 "\n", pfx, c->peer_gone);
	fprintf(f, "stat %s.dgram_no_peer %" PRIu64 "\n", pfx, c->no_peer);
	fprintf(f, "stat %s.dgram_send_errors %" PRIu64 "\n", pfx,
		c->send_errors);
}

static void dgram_destroy(struct dp_port *p)
{
	struct dgram_port *d;

	if (!p)
		return;
	d = dgram_of(p);
	if (p->fd >= 0)
		close(p->fd);
	if (d->bound)
		unix_listen_unlink(d->path);
	free(d);
}

static const struct dp_port_ops dgram_ops = {
	.rx_burst = dgram_rx_burst,
	.tx_burst = dgram_tx_burst,
	.tick = dgram_tick,
	.print_stats = dgram_print_stats,
	.destroy = dgram_destroy,
};

static struct dgram_port *dgram_alloc(unsigned int mtu, const char *name)
{
	struct dgram_port *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->port.ops = &dgram_ops;
	d->port.fd = -1;
	d->port.mtu = mtu;
	snprintf(d->port.name, sizeof(d->port.name), "%s", name);
	ratelimit_init(&d->rl, 5, NSEC_PER_SEC);
	return d;
}

int dgram_open_fd(struct dp_port **out, int fd, unsigned int mtu,
		  const char *name)
{
	struct dgram_port *d = dgram_alloc(mtu, name);

	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	d->port.fd = fd;
	d->fixed = true;
	*out = &d->port;
	return 0;
}

int dgram_open(struct dp_port **out, const struct dgram_cfg *cfg)
{
	struct dgram_port *d;
	char name[DP_PORT_NAME_MAX];
	int err;

	if (!cfg->path || !cfg->path[0])
		return -EINVAL;
	/* the name first: a port name keeps what fits of a long path */
	snprintf(name, sizeof(name), "dgram:%s", cfg->path);
	if (strlen(cfg->path) >= UNIX_LISTEN_PATH_MAX)
		return -ENAMETOOLONG;
	d = dgram_alloc(cfg->mtu, name);
	if (!d)
		return -ENOMEM;
	memcpy(d->path, cfg->path, strlen(cfg->path));
	err = unix_listen_bind(&d->port.fd, cfg->path, SOCK_DGRAM, 0);
	if (err) {
		free(d);
		return err;
	}
	d->bound = true;
	*out = &d->port;
	return 0;
}
