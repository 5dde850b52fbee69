// SPDX-License-Identifier: MIT
/*
 * server.c - the control socket and its thread (server.h).
 */
#include "ctl/server.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "ctl/proto.h"
#include "ctl/info_wk.h"
#include "ctl/snap.h"
#include "guest/unix_listen.h"

#define CTL_TAG_LISTEN	0u
#define CTL_TAG_STOP	1u
#define CTL_TAG_CLIENT	2u	/* + the client's index */
#define CTL_TICK_MS	1000
#define CTL_EVENTS	16
#define CTL_ACCEPTS	32u	/* accepts per wakeup, at most */
#define CTL_BACKLOG	(4 * CTL_CLIENTS_MAX)	/* connections not accepted yet */
#define CTL_METRICS_MAX	(CTL_REPLY_MAX / 2)

/**
 * struct ctl_client - one connection.
 * @fd:       its socket, -1 for a free slot
 * @in:       bytes of requests not answered yet (CTL_REQUEST_MAX + 1)
 * @in_len:   how many
 * @out:      replies not sent yet (CTL_OUT_MAX)
 * @out_off:  the first not sent
 * @out_len:  the end of what waits
 * @last_ns:  the last request or byte sent (for the idle limit)
 * @closing:  no more requests are read: close once @out is sent
 * @want_out: EPOLLOUT is armed
 */
struct ctl_client {
	int fd;
	char *in;
	size_t in_len;
	char *out;
	size_t out_off;
	size_t out_len;
	uint64_t last_ns;
	bool closing;
	bool want_out;
};

struct ctl_server {
	struct ctl_server_cfg cfg;
	char path[UNIX_LISTEN_PATH_MAX];
	char metrics_base[NAME_MAX + 1];
	char metrics_tmp[NAME_MAX + 1];
	int lfd;
	int ep;
	int stop_fd;
	int metrics_dir;
	uint64_t next_metrics;
	bool metrics_failed;
	pthread_t th;
	bool started;
	struct ratelimit rl;		/* for what hostile clients cause */
	struct ctl_snap snap;
	struct ctl_iw iw;		/* lease-delete, DNS cache, capture */
	struct ctl_env env;
	char *reply;			/* CTL_REPLY_MAX */
	struct ctl_client client[CTL_CLIENTS_MAX];
};

static uint64_t ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int ctl_backend_snapshot(void *ctx, const struct ctl_snapshot **out)
{
	struct ctl_snap *sn = ctx;
	int err = ctl_snap_take(sn, CTL_SNAP_TIMEOUT_MS);

	if (!err)
		*out = &sn->s;
	return err;
}

static int ctl_backend_flows(void *ctx, const struct ctl_flow_query *q,
			     const struct ctl_flow_page **out)
{
	struct ctl_snap *sn = ctx;
	int err = ctl_snap_flows(sn, q, CTL_SNAP_TIMEOUT_MS);

	if (!err)
		*out = sn->page;
	return err;
}

static int ctl_backend_leases(void *ctx, uint32_t cursor,
			      const struct ctl_lease_page **out)
{
	struct ctl_snap *sn = ctx;
	int err = ctl_snap_leases(sn, cursor, CTL_SNAP_TIMEOUT_MS);

	if (!err)
		*out = sn->leases;
	return err;
}

static int ctl_backend_flow_delete(void *ctx, uint32_t id, const char *key)
{
	return ctl_snap_flow_delete(ctx, id, key, CTL_SNAP_TIMEOUT_MS);
}

/* The default path's directory, mode 0700, when missing. */
static int ctl_make_dir(const char *path)
{
	char d[UNIX_LISTEN_PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	if (mkdir(dirname(d), 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int ctl_bind(struct ctl_server *s)
{
	const struct ctl_server_cfg *c = &s->cfg;
	int err;

	if (strlen(c->path) >= sizeof(s->path))
		return -ENAMETOOLONG;
	snprintf(s->path, sizeof(s->path), "%s", c->path);
	if (c->make_dir) {
		err = ctl_make_dir(s->path);
		if (err)
			return err;
	}
	err = unix_listen_bind(&s->lfd, s->path, SOCK_STREAM, CTL_BACKLOG);
	if (err) {
		s->path[0] = 0;
		return err;
	}
	/* unix_listen_bind() made it 0660 for a guest's group: ours is the
	 * owner's only. */
	if (chmod(s->path, 0600) < 0 ||
	    (c->chown && chown(s->path, c->uid, c->gid) < 0))
		return -errno;
	return 0;
}

/* The metrics file's directory, opened now: the sandbox lets arcnat only
 * create files, relative to a directory it holds. */
static int ctl_metrics_open(struct ctl_server *s)
{
	char d[PATH_MAX], b[PATH_MAX];
	const char *base;

	if (strlen(s->cfg.metrics_file) >= sizeof(d))
		return -ENAMETOOLONG;
	snprintf(d, sizeof(d), "%s", s->cfg.metrics_file);
	snprintf(b, sizeof(b), "%s", s->cfg.metrics_file);
	base = basename(b);
	if (!base[0] || !strcmp(base, "/") || !strcmp(base, ".") ||
	    !strcmp(base, "..") || strlen(base) + 5 > NAME_MAX)
		return -EINVAL;
	snprintf(s->metrics_base, sizeof(s->metrics_base), "%s", base);
	snprintf(s->metrics_tmp, sizeof(s->metrics_tmp), ".%s.tmp", base);
	s->metrics_dir = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return s->metrics_dir < 0 ? -errno : 0;
}

static int ctl_ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/*
 * json-c seeds the hash of its objects' keys once per process, with
 * getrandom(2), on the first key it hashes. The sandbox does not allow
 * getrandom: seed it now, before the sandbox exists.
 */
static int ctl_json_seed(void)
{
	struct json_object *o = json_object_new_object();
	int err = o ? json_object_object_add(o, "seed", NULL) : -1;

	json_object_put(o);
	return err ? -ENOMEM : 0;
}

int ctl_server_open(struct ctl_server **out, const struct ctl_server_cfg *cfg)
{
	struct ctl_server *s;
	int err = ctl_json_seed();

	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->lfd = s->ep = s->stop_fd = s->metrics_dir = s->iw.efd = -1;
	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++)
		s->client[i].fd = -1;
	if (!s->cfg.idle_ms)
		s->cfg.idle_ms = CTL_IDLE_MS;
	if (!s->cfg.metrics_interval)
		s->cfg.metrics_interval = CTL_METRICS_INTERVAL;
	s->cfg.info.clients_max = CTL_CLIENTS_MAX;
	ratelimit_init(&s->rl, 5, NSEC_PER_SEC);
	s->reply = malloc(CTL_REPLY_MAX);
	err = s->reply ? ctl_snap_init(&s->snap, cfg->worker) : -ENOMEM;
	if (!err)
		err = ctl_iw_init(&s->iw, cfg->worker);
	if (err)
		goto fail;
	s->env.svc = &ctl_iw_ops;
	s->env.svc_ctx = &s->iw;
	s->env.info = &s->cfg.info;
	s->env.be.ctx = &s->snap;
	s->env.be.snapshot = ctl_backend_snapshot;
	s->env.be.flows = ctl_backend_flows;
	s->env.be.flow_delete = ctl_backend_flow_delete;
	s->env.be.leases = ctl_backend_leases;
	s->env.rt = cfg->rt;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->ep < 0 || s->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = ctl_ep_add(s->ep, s->stop_fd, EPOLLIN, CTL_TAG_STOP);
	if (!err && cfg->metrics_file)
		err = ctl_metrics_open(s);
	if (!err && cfg->path) {
		err = ctl_bind(s);
		if (!err)
			err = ctl_ep_add(s->ep, s->lfd, EPOLLIN, CTL_TAG_LISTEN);
	}
	if (err)
		goto fail;
	s->cfg.info.control = s->path;
	*out = s;
	return 0;
fail:
	ctl_server_destroy(s);
	return err;
}

static void ctl_client_close(struct ctl_server *s, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);	/* leaves the epoll set with it */
	free(c->in);
	free(c->out);
	*c = (struct ctl_client){ .fd = -1 };
	(void)s;
}

/* EPOLLOUT armed while replies wait. */
static void ctl_client_events(struct ctl_server *s, struct ctl_client *c)
{
	bool want = c->out_len > c->out_off;
	struct epoll_event ev = {
		.events = (c->closing ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0),
		.data.u64 = CTL_TAG_CLIENT + (uint64_t)(c - s->client),
	};

	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		log_warn("control: epoll_ctl: %s", strerror(errno));
	c->want_out = want;
}

/* Send what waits. Return: 1 some still waits, 0 all sent, -errno (the
 * client is to be closed). */
static int ctl_client_flush(struct ctl_client *c, uint64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		c->out_off += (size_t)n;
		c->last_ns = now;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* After reading or writing: send what waits, close a client that is done
 * or failed, else watch for what it needs. */
static void ctl_client_settle(struct ctl_server *s, struct ctl_client *c,
			      bool ok, uint64_t now)
{
	int r = ok ? ctl_client_flush(c, now) : -EPIPE;

	if (r < 0 || (r == 0 && c->closing)) {
		ctl_client_close(s, c);
		return;
	}
	ctl_client_events(s, c);
}

/*
 * Queue a reply. A client whose unread replies would pass CTL_OUT_MAX
 * never reads: false, it is to be closed.
 */
static bool ctl_client_queue(struct ctl_client *c, const char *r, size_t n)
{
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (n > CTL_OUT_MAX - c->out_len)
		return false;
	memcpy(c->out + c->out_len, r, n);
	c->out_len += n;
	return true;
}

/* Answer every whole line in @c->in. Return: false to close @c. */
static bool ctl_client_lines(struct ctl_server *s, struct ctl_client *c,
			     bool eof)
{
	size_t start = 0;

	while (!c->closing && start < c->in_len) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t end = nl ? (size_t)(nl - c->in) : c->in_len;
		size_t n;

		if (!nl && !eof)
			break;
		n = ctl_dispatch(&s->env, c->in + start, end - start, s->reply,
				 CTL_REPLY_MAX);
		if (!ctl_client_queue(c, s->reply, n)) {
			log_rl(&s->rl, ctl_now(), LOG_LEVEL_INFO,
			       "control: a client's unread replies passed %zu bytes: closed",
			       CTL_OUT_MAX);
			return false;
		}
		start = nl ? end + 1 : c->in_len;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > CTL_REQUEST_MAX) {
		/* No newline within the bound: say so, and hang up. */
		size_t n = ctl_proto_error(s->reply, CTL_REPLY_MAX, NULL,
					   CTL_E_TOO_LARGE,
					   "request line too long");

		c->in_len = 0;
		c->closing = true;
		if (!ctl_client_queue(c, s->reply, n))
			return false;
	}
	if (eof)
		c->closing = true;
	return true;
}

static void ctl_client_read(struct ctl_server *s, struct ctl_client *c,
			    uint64_t now)
{
	bool eof = false;
	ssize_t n;

	if (c->closing)
		return;
	do {
		n = recv(c->fd, c->in + c->in_len,
			 CTL_REQUEST_MAX + 1 - c->in_len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0)
		eof = true;
	else
		c->in_len += (size_t)n;
	c->last_ns = now;
	ctl_client_settle(s, c, ctl_client_lines(s, c, eof), now);
}

static void ctl_refuse(int fd)
{
	char line[256];
	size_t n = ctl_proto_error(line, sizeof(line), NULL, CTL_E_TOO_MANY,
				   "too many control clients");

	/* Best effort: a new socket's buffer takes a line. */
	if (send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

static void ctl_accept(struct ctl_server *s, uint64_t now)
{
	for (unsigned int k = 0; k < CTL_ACCEPTS; k++) {
		struct ctl_client *c = NULL;
		int fd = accept4(s->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_rl(&s->rl, now, LOG_LEVEL_WARN,
				       "control: accept: %s", strerror(errno));
			return;
		}
		for (unsigned int i = 0; i < CTL_CLIENTS_MAX && !c; i++)
			if (s->client[i].fd < 0)
				c = &s->client[i];
		if (!c) {
			ctl_refuse(fd);
			continue;
		}
		c->in = malloc(CTL_REQUEST_MAX + 1);
		c->out = malloc(CTL_OUT_MAX);
		c->fd = fd;
		c->last_ns = now;
		if (!c->in || !c->out ||
		    ctl_ep_add(s->ep, fd, EPOLLIN,
			       CTL_TAG_CLIENT + (uint64_t)(c - s->client))) {
			ctl_client_close(s, c);
			continue;
		}
	}
}

static void ctl_write_metrics(struct ctl_server *s)
{
	char *buf = malloc(CTL_METRICS_MAX);
	ssize_t n = buf ? ctl_metrics_text(&s->env, buf, CTL_METRICS_MAX) :
			  -ENOMEM;
	int fd = -1, err = 0;

	if (n < 0) {
		err = (int)n;
		goto out;
	}
	unlinkat(s->metrics_dir, s->metrics_tmp, 0);
	fd = openat(s->metrics_dir, s->metrics_tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = write(fd, buf + off, (size_t)n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		err = -errno;
	fd = -1;
	if (!err && renameat(s->metrics_dir, s->metrics_tmp, s->metrics_dir,
			     s->metrics_base) < 0)
		err = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		unlinkat(s->metrics_dir, s->metrics_tmp, 0);
		if (!s->metrics_failed)
			log_warn("--metrics-file %s: %s", s->cfg.metrics_file,
				 strerror(-err));
	} else if (s->metrics_failed) {
		log_info("--metrics-file %s: written again",
			 s->cfg.metrics_file);
	}
	s->metrics_failed = err != 0;
	free(buf);
}

/* The tick: idle clients, the metrics file. */
static void ctl_tick(struct ctl_server *s, uint64_t now)
{
	uint64_t idle = (uint64_t)s->cfg.idle_ms * NSEC_PER_MSEC;

	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct ctl_client *c = &s->client[i];

		if (c->fd >= 0 && now - c->last_ns >= idle)
			ctl_client_close(s, c);
	}
	if (s->metrics_dir >= 0 && now >= s->next_metrics) {
		ctl_write_metrics(s);
		s->next_metrics = ctl_now() +
				  (uint64_t)s->cfg.metrics_interval * NSEC_PER_SEC;
	}
}

static void ctl_client_event(struct ctl_server *s, struct ctl_client *c,
			     uint32_t events, uint64_t now)
{
	if (c->fd < 0)
		return;	/* closed earlier in this wakeup */
	if (events & EPOLLOUT) {
		ctl_client_settle(s, c, true, now);
		if (c->fd < 0)
			return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (c->closing && (events & (EPOLLHUP | EPOLLERR)))
			ctl_client_close(s, c);	/* nobody to send the rest to */
		else
			ctl_client_read(s, c, now);
	}
}

static void *ctl_thread(void *arg)
{
	struct ctl_server *s = arg;
	uint64_t last_tick = 0;

	for (;;) {
		struct epoll_event ev[CTL_EVENTS];
		int n = epoll_wait(s->ep, ev, CTL_EVENTS, CTL_TICK_MS);
		uint64_t now = ctl_now();

		if (n < 0 && errno != EINTR) {
			log_err("control: epoll_wait: %s; no more control",
				strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;

			if (tag == CTL_TAG_STOP)
				return NULL;
			if (tag == CTL_TAG_LISTEN)
				ctl_accept(s, now);
			else if (tag - CTL_TAG_CLIENT < CTL_CLIENTS_MAX)
				ctl_client_event(s, &s->client[tag - CTL_TAG_CLIENT],
						 ev[i].events, now);
		}
		if (now - last_tick >= (uint64_t)CTL_TICK_MS * NSEC_PER_MSEC) {
			ctl_tick(s, now);
			last_tick = now;
		}
	}
	return NULL;
}

int ctl_server_start(struct ctl_server *s)
{
	int err = pthread_create(&s->th, NULL, ctl_thread, s);

	if (err)
		return -err;
	s->started = true;
	return 0;
}

void ctl_server_stop(struct ctl_server *s)
{
	uint64_t one = 1;

	if (!s || !s->started)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) < 0)
		log_warn("control: stop: %s", strerror(errno));
	pthread_join(s->th, NULL);
	s->started = false;
	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++)
		ctl_client_close(s, &s->client[i]);
}

void ctl_server_destroy(struct ctl_server *s)
{
	if (!s)
		return;
	ctl_server_stop(s);
	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++)
		ctl_client_close(s, &s->client[i]);
	if (s->lfd >= 0) {
		close(s->lfd);
		unix_listen_unlink(s->path);
	}
	if (s->metrics_dir >= 0)
		close(s->metrics_dir);
	if (s->ep >= 0)
		close(s->ep);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	ctl_snap_fini(&s->snap);
	ctl_iw_fini(&s->iw);
	free(s->reply);
	free(s);
}
