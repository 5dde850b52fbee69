// SPDX-License-Identifier: MIT
/*
 * unix_listen.c - a UNIX socket at a path, and the listener port of the
 * stream and vhost-user ports (guest/unix_listen.h).
 */
#include "guest/unix_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

/* Clear the way for the socket. Return: 0, -EEXIST, -EADDRINUSE, -errno. */
static int unix_listen_clear(const struct sockaddr_un *sa, int type)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
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

int unix_listen_bind(int *fd, const char *path, int type,
		     unsigned int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, err;

	if (!path || !path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	err = unix_listen_clear(&sa, type);
	if (err)
		return err;
	s = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto err_close;
	}
	if (chmod(sa.sun_path, 0660) < 0 ||
	    (type == SOCK_STREAM && listen(s, (int)backlog) < 0)) {
		err = -errno;
		goto err_unlink;
	}
	*fd = s;
	return 0;

err_unlink:
	unlink(sa.sun_path);
err_close:
	close(s);
	return err;
}

void unix_listen_unlink(const char *path)
{
	unlinkat(AT_FDCWD, path, 0);
}

static void unix_listen_unref(struct unix_listen *l)
{
	if (l && --l->refs == 0)
		free(l);
}

/* Put the listening socket in or out of the set the worker polls. */
static void unix_listen_poll(struct unix_listen *l, bool on)
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

void unix_listen_conn_gone(struct unix_listen *l)
{
	l->conns--;
	unix_listen_poll(l, true);
	unix_listen_unref(l);
}

/* A connection's name in @cap bytes; a path too long keeps its end. */
static void unix_listen_conn_name(const struct unix_listen *l, char *out,
				  size_t cap, unsigned int seq)
{
	const char *pfx = l->kind->conn_name, *tail = l->path, *cut = "";
	size_t room, len = strlen(l->path);
	char num[16];

	if (!l->kind->name_path) {
		snprintf(out, cap, "%s%u", pfx, seq);
		return;
	}
	snprintf(num, sizeof(num), "#%u", seq);
	room = cap - 1 - strlen(pfx) - 1 - strlen(num);
	if (len > room) {
		cut = "...";
		tail = l->path + len - (room - 3);
	}
	snprintf(out, cap, "%s:%s%s%s", pfx, cut, tail, num);
}

/* accept4() cannot take a connection for lack of resources. */
static bool unix_listen_starved(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

/* A connection accepted and closed: counted, and said why. */
static void unix_listen_refuse(struct unix_listen *l, const char *why)
{
	l->refused++;
	l->port.stats.rx_errors++;
	log_warn("%s: connection refused: %s (%u %ss)", l->port.name, why,
		 l->conns, l->kind->peer);
}

/* Take connection @fd on: a port of the worker. A port that cannot be
 * made or added (no memory, the worker's mailbox or port table full) is
 * a refused connection. */
static void unix_listen_take(struct unix_listen *l, int fd)
{
	char name[DP_PORT_NAME_MAX];
	struct dp_port *cp;
	int err;

	unix_listen_conn_name(l, name, sizeof(name),
			      atomic_fetch_add(l->kind->seq, 1) + 1);
	err = l->kind->conn_open(l, fd, name, &cp);	/* closes @fd on error */
	if (err) {
		unix_listen_refuse(l, strerror(-err));
		return;
	}
	l->refs++;
	l->conns++;
	err = dp_worker_add_port(l->w, cp);	/* destroys it on error */
	if (err)
		unix_listen_refuse(l, strerror(-err));
	else
		log_info("%s: %s connected as port %s", l->port.name,
			 l->kind->peer, name);
}

/* Accept what is pending: each connection a port of the worker. */
static int unix_listen_accept(struct dp_port *p, struct dp_buf **bufs,
			      unsigned int n, uint64_t now)
{
	struct unix_listen *l = (struct unix_listen *)p;

	(void)bufs;
	(void)n;
	if (l->paused)	/* an event from before the pause */
		return 0;
	for (unsigned int i = 0; i < l->kind->conns_max; i++) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && unix_listen_starved(errno)) {
			/* The connection stays pending and the socket
			 * readable: stop polling it for a while. */
			int err = errno;

			l->paused_n++;
			l->resume_at = now + UNIX_LISTEN_BACKOFF_NS;
			unix_listen_poll(l, false);
			log_rl(&l->rl, now, LOG_LEVEL_WARN,
			       "%s: cannot accept: %s; not accepting for %" PRIu64
			       " ms or until a %s leaves", p->name,
			       strerror(err),
			       (uint64_t)(UNIX_LISTEN_BACKOFF_NS / NSEC_PER_MSEC),
			       l->kind->peer);
			break;
		}
		if (fd < 0)
			break;	/* EAGAIN, or the peer gave up already */
		if (!l->w || l->conns >= l->kind->conns_max) {
			close(fd);
			unix_listen_refuse(l, l->w ? "full" : "not started");
			continue;
		}
		unix_listen_take(l, fd);
	}
	return 0;
}

/* The listener carries no frames: what the segment sends it goes nowhere. */
static unsigned int unix_listen_tx(struct dp_port *p, struct dp_buf **bufs,
				   unsigned int n, uint64_t now)
{
	(void)p;
	(void)now;
	for (unsigned int i = 0; i < n; i++)
		dp_buf_check(bufs[i], 0);
	return n;
}

/* A pause ends at the latest here. */
static void unix_listen_tick(struct dp_port *p, uint64_t now)
{
	struct unix_listen *l = (struct unix_listen *)p;

	if (l->paused && now >= l->resume_at)
		unix_listen_poll(l, true);
}

static void unix_listen_print_stats(const struct dp_port *p, FILE *f,
				    const char *pfx)
{
	const struct unix_listen *l = (const struct unix_listen *)p;
	const char *s = l->kind->stat;

	fprintf(f, "stat %s.%s_guests %u\n", pfx, s, l->conns);
	fprintf(f, "stat %s.%s_refused %" PRIu64 "\n", pfx, s, l->refused);
	fprintf(f, "stat %s.%s_accept_paused %" PRIu64 "\n", pfx, s,
		l->paused_n);
}

static void unix_listen_destroy(struct dp_port *p)
{
	struct unix_listen *l = (struct unix_listen *)p;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (l->lfd >= 0) {
		close(l->lfd);
		unix_listen_unlink(l->path);
	}
	l->lfd = -1;
	l->w = NULL;
	unix_listen_unref(l);
}

static const struct dp_port_ops unix_listen_ops = {
	.rx_burst = unix_listen_accept,
	.tx_burst = unix_listen_tx,
	.tick = unix_listen_tick,
	.print_stats = unix_listen_print_stats,
	.destroy = unix_listen_destroy,
};

int unix_listen_open(struct dp_port **out, const struct unix_listen_kind *kind,
		     const char *path, unsigned int mtu)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct unix_listen *l;
	int err;

	if (!path || !path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(l->path))
		return -ENAMETOOLONG;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->refs = 1;
	l->kind = kind;
	l->port.ops = &unix_listen_ops;
	l->port.flags = DP_PORT_LISTENER;
	l->port.mtu = mtu;
	l->port.fd = -1;
	l->lfd = -1;
	ratelimit_init(&l->rl, 1, 10 * NSEC_PER_SEC);
	memcpy(l->path, path, strlen(path));
	snprintf(l->port.name, sizeof(l->port.name), "%s:%s", kind->name, path);
	err = unix_listen_bind(&l->lfd, path, SOCK_STREAM, kind->conns_max);
	if (err)
		goto err_free;
	l->port.fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->port.fd < 0) {
		err = -errno;
		goto err_unlink;
	}
	if (epoll_ctl(l->port.fd, EPOLL_CTL_ADD, l->lfd, &ev) < 0) {
		err = -errno;
		close(l->port.fd);
		goto err_unlink;
	}
	*out = &l->port;
	return 0;

err_unlink:
	unlink(l->path);
	close(l->lfd);
err_free:
	free(l);
	return err;
}

void unix_listen_attach(struct dp_port *listener, struct dp_worker *w)
{
	((struct unix_listen *)listener)->w = w;
}
