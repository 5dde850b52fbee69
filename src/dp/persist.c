// SPDX-License-Identifier: MIT
/*
 * persist.c - one file kept equal to the latest content, written by a
 * thread of its own. Theory of operation in persist.h.
 */
#include "dp/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"

#define PERSIST_FRESH	4u	/* in @mid: the slot's content is not taken yet */

struct dp_persist {
	char *mem;
	size_t map_len;
	size_t cap;
	char *buf[3];
	size_t len[3];			/* moves with its buffer */
	unsigned int back;		/* the producer's buffer */
	unsigned int front;		/* the writer's buffer */
	_Atomic unsigned int mid;	/* the latest slot: index | PERSIST_FRESH */
	_Atomic bool stop;
	int efd;			/* wakes the writer */
	pthread_t th;
	bool started;
	bool failing;			/* writer's: the last write failed */
	int dirfd;
	unsigned int retry_sec;
	void (*before_write)(void *ctx);
	void *hook_ctx;
	_Atomic uint64_t published, writes, errors;
	char name[DP_PERSIST_NAME_MAX + 1];
	char tmp[DP_PERSIST_NAME_MAX + 8];
	char label[PATH_MAX];
};

/* Replace the file by @len bytes of @buf. Return: 0 or -errno. */
static int persist_write(struct dp_persist *p, const char *buf, size_t len)
{
	size_t off = 0;
	int fd, r = 0;

	/* A temporary left by a crash would make O_EXCL fail. */
	if (unlinkat(p->dirfd, p->tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(p->dirfd, p->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(p->dirfd, p->tmp, p->dirfd, p->name) < 0)
		r = -errno;
	if (r) {
		unlinkat(p->dirfd, p->tmp, 0);
		return r;
	}
	/* Makes the rename durable; a failure only weakens that. */
	(void)fsync(p->dirfd);
	return 0;
}

/* Return: true if written. */
static bool persist_attempt(struct dp_persist *p)
{
	int r;

	if (p->before_write)
		p->before_write(p->hook_ctx);
	r = persist_write(p, p->buf[p->front], p->len[p->front]);
	if (r < 0) {
		atomic_fetch_add_explicit(&p->errors, 1, memory_order_relaxed);
		if (!p->failing)
			log_err("cannot write %s: %s (will retry)", p->label,
				strerror(-r));
		p->failing = true;
		return false;
	}
	atomic_fetch_add_explicit(&p->writes, 1, memory_order_relaxed);
	if (p->failing)
		log_info("%s written again", p->label);
	p->failing = false;
	return true;
}

static void *persist_thread(void *arg)
{
	struct dp_persist *p = arg;
	bool pending = false;	/* the front buffer is not written yet */

	for (;;) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		int timeout = pending ? (int)p->retry_sec * 1000 : -1;
		bool stop;
		uint64_t v;

		if (poll(&pfd, 1, timeout) > 0 &&
		    read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_warn("persist: eventfd read: %s", strerror(errno));
		/* Pairs with the release in dp_persist_stop(). */
		stop = atomic_load_explicit(&p->stop, memory_order_acquire);
		if (atomic_load_explicit(&p->mid, memory_order_relaxed) &
		    PERSIST_FRESH) {
			/* Pairs with the exchange in dp_persist_publish(). */
			unsigned int m = atomic_exchange_explicit(
				&p->mid, p->front, memory_order_acq_rel);

			p->front = m & 3u;
			pending = true;
		}
		if (pending)
			pending = !persist_attempt(p);
		if (stop)
			return NULL;
	}
}

static void persist_wake(struct dp_persist *p)
{
	uint64_t one = 1;

	/* Non-blocking: a full counter (never in practice) is a wake-up too. */
	if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("persist: eventfd write: %s", strerror(errno));
}

int dp_persist_create(struct dp_persist **out, const struct dp_persist_cfg *cfg)
{
	long page = sysconf(_SC_PAGESIZE);
	struct dp_persist *p;
	size_t per;
	int err;

	*out = NULL;
	if (!cfg->name || !cfg->name[0] || strchr(cfg->name, '/') ||
	    strlen(cfg->name) > DP_PERSIST_NAME_MAX || !cfg->cap ||
	    cfg->cap > SIZE_MAX / 4)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->efd = -1;
	p->dirfd = cfg->dirfd;
	p->cap = cfg->cap;
	p->retry_sec = cfg->retry_sec ? cfg->retry_sec : 1;
	p->before_write = cfg->before_write;
	p->hook_ctx = cfg->hook_ctx;
	snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", cfg->name);
	snprintf(p->label, sizeof(p->label), "%s",
		 cfg->label ? cfg->label : cfg->name);

	/* Mapped, not touched: pages are committed as content fills them. */
	per = (cfg->cap + (size_t)page - 1) & ~((size_t)page - 1);
	p->map_len = 3 * per;
	p->mem = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		err = -ENOMEM;
		goto err;
	}
	for (unsigned int i = 0; i < 3; i++)
		p->buf[i] = p->mem + i * per;
	p->back = 0;
	atomic_init(&p->mid, 1u);
	p->front = 2;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		err = -errno;
		goto err;
	}
	*out = p;
	return 0;
err:
	dp_persist_destroy(p);
	return err;
}

int dp_persist_start(struct dp_persist *p)
{
	int err = pthread_create(&p->th, NULL, persist_thread, p);

	if (err)
		return -err;
	p->started = true;
	return 0;
}

char *dp_persist_buf(struct dp_persist *p)
{
	return p->buf[p->back];
}

size_t dp_persist_cap(const struct dp_persist *p)
{
	return p->cap;
}

void dp_persist_publish(struct dp_persist *p, size_t len)
{
	unsigned int m;

	p->len[p->back] = len < p->cap ? len : p->cap;
	/* Release: the content is complete before the writer can take it. */
	m = atomic_exchange_explicit(&p->mid, p->back | PERSIST_FRESH,
				     memory_order_acq_rel);
	p->back = m & 3u;
	atomic_fetch_add_explicit(&p->published, 1, memory_order_relaxed);
	persist_wake(p);
}

void dp_persist_stop(struct dp_persist *p)
{
	if (!p || !p->started)
		return;
	atomic_store_explicit(&p->stop, true, memory_order_release);
	persist_wake(p);
	pthread_join(p->th, NULL);
	p->started = false;
}

void dp_persist_get_stats(const struct dp_persist *p, struct dp_persist_stats *s)
{
	s->published = atomic_load_explicit(&p->published, memory_order_relaxed);
	s->writes = atomic_load_explicit(&p->writes, memory_order_relaxed);
	s->errors = atomic_load_explicit(&p->errors, memory_order_relaxed);
}

void dp_persist_destroy(struct dp_persist *p)
{
	if (!p)
		return;
	dp_persist_stop(p);
	if (p->efd >= 0)
		close(p->efd);
	if (p->mem)
		munmap(p->mem, p->map_len);
	free(p);
}
