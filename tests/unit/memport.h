/* SPDX-License-Identifier: MIT */
/*
 * memport.h - the in-memory port the worker's unit tests plug in instead of
 * a device: a queue in, a record out, an eventfd for epoll.
 *
 * It only records. What the worker sends goes into out[] (at most
 * MEMPORT_OUT_MAX frames of at most MEMPORT_FRAME bytes) and is counted in
 * the port's statistics as a device would count it; what it cannot take is
 * refused for good: counted in tx_dropped (and n_full or n_oversize) and
 * not in tx_packets, so the worker's accounting is tested too. It never
 * says "not now" (dp/port.h): tx_burst consumes every frame. Nothing is
 * asserted on the worker's thread except the buffer contract
 * (dp_buf_check(), the always-on assert every port makes, which aborts):
 * a test reads the record on its own thread, with the worker stopped or
 * under the port's lock (memport_wait()).
 *
 * A test may set MEMPORT_IN_MAX, MEMPORT_OUT_MAX, MEMPORT_FRAME and
 * MEMPORT_WAIT_MS before
 * including this header. Functions are static: each test program gets its
 * own copy.
 */
#ifndef ARCNAT_TESTS_MEMPORT_H
#define ARCNAT_TESTS_MEMPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/compiler.h"
#include "dp/port.h"
#include "prot/eth.h"

#ifndef MEMPORT_IN_MAX
#define MEMPORT_IN_MAX	16
#endif
#ifndef MEMPORT_OUT_MAX
#define MEMPORT_OUT_MAX	16
#endif
#ifndef MEMPORT_FRAME
#define MEMPORT_FRAME	2048
#endif
/* memport_wait() gives up after this many 1 ms steps. */
#ifndef MEMPORT_WAIT_MS
#define MEMPORT_WAIT_MS	2000
#endif

struct mframe {
	uint8_t data[MEMPORT_FRAME];
	uint32_t len;
	struct pkt_vnet vnet;
};

/**
 * struct memport - an in-memory port.
 * @port:       the device, for the worker
 * @lock:       guards everything below between the worker and the test
 * @in:         frames for the worker to receive (memport_push())
 * @in_head:    next to receive (free-running)
 * @in_tail:    next free (free-running)
 * @out:        what the worker sent, in order
 * @n_out:      frames recorded in @out
 * @n_full:     refused: @out was full
 * @n_oversize: refused: longer than MEMPORT_FRAME
 * @destroyed:  the port's destroy operation ran (the worker destroys the
 *              ports it owns; the memory stays the test's)
 * @destroyed_by: the thread it ran on
 */
struct memport {
	struct dp_port port;
	pthread_mutex_t lock;
	struct mframe in[MEMPORT_IN_MAX];
	unsigned int in_head, in_tail;
	struct mframe out[MEMPORT_OUT_MAX];
	unsigned int n_out;
	unsigned int n_full;
	unsigned int n_oversize;
	bool destroyed;
	pthread_t destroyed_by;
};

static int memport_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		      uint64_t now)
{
	struct memport *m = container_of(p, struct memport, port);
	unsigned int got = 0;
	uint64_t v = 1;

	(void)now;
	if (read(p->fd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&m->lock);
	while (got < n && m->in_head != m->in_tail) {
		const struct mframe *f = &m->in[m->in_head++ % MEMPORT_IN_MAX];
		struct dp_buf *b = bufs[got++];

		dp_buf_reset(b);
		memcpy(b->data, f->data, f->len);
		b->len = f->len;
		b->vnet = f->vnet;
		b->flags = DP_BUF_VNET;
		p->stats.rx_packets++;
		p->stats.rx_bytes += f->len;
	}
	/* Level-triggered like a device: frames left over wake the worker
	 * again (the read above consumed the eventfd's count). */
	if (m->in_head != m->in_tail && write(p->fd, &v, sizeof(v)) < 0)
		p->stats.rx_errors++;
	pthread_mutex_unlock(&m->lock);
	return (int)got;
}

static unsigned int memport_tx(struct dp_port *p, struct dp_buf **bufs,
			       unsigned int n, uint64_t now)
{
	struct memport *m = container_of(p, struct memport, port);

	(void)now;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < n; i++) {
		const struct dp_buf *b = bufs[i];
		struct mframe *f;

		/* An L3 port's packets must leave room for the link header
		 * an Ethernet uplink writes in front of them. */
		dp_buf_check(b, (p->flags & DP_PORT_L3) ? ETH_HLEN : 0);
		if (b->len > MEMPORT_FRAME) {
			m->n_oversize++;
			p->stats.tx_dropped++;
			continue;
		}
		if (m->n_out == MEMPORT_OUT_MAX) {
			m->n_full++;
			p->stats.tx_dropped++;
			continue;
		}
		f = &m->out[m->n_out++];
		memcpy(f->data, b->data, b->len);
		f->len = b->len;
		f->vnet = b->vnet;
		p->stats.tx_packets++;
		p->stats.tx_bytes += b->len;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* The test owns the memory and the fd: record who destroyed the port. */
static void memport_destroy(struct dp_port *p)
{
	struct memport *m = container_of(p, struct memport, port);

	m->destroyed = true;
	m->destroyed_by = pthread_self();
}

static const struct dp_port_ops memport_ops = {
	.rx_burst = memport_rx,
	.tx_burst = memport_tx,
	.destroy = memport_destroy,
};

/**
 * memport_init() - an empty port.
 * @m:     the port
 * @flags: DP_PORT_*
 * @mtu:   its MTU (0: none set)
 *
 * Return: 0, or -errno if the eventfd cannot be made.
 */
static inline int memport_init(struct memport *m, uint32_t flags, uint32_t mtu)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->port.ops = &memport_ops;
	m->port.flags = flags;
	m->port.mtu = mtu;
	m->port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return m->port.fd >= 0 ? 0 : -1;
}

/** memport_fini() - close @m's eventfd. @m: the port */
static inline void memport_fini(struct memport *m)
{
	if (m->port.fd >= 0)
		close(m->port.fd);
	m->port.fd = -1;
	pthread_mutex_destroy(&m->lock);
}

/**
 * memport_push() - queue a frame for the worker to receive.
 * @m:     the port
 * @frame: its bytes (copied)
 * @len:   at most MEMPORT_FRAME
 * @v:     offload metadata, or NULL
 *
 * Return: 0, or -1 if the queue is full or the frame too long (the test
 * pushed more than it waited for).
 */
static inline int memport_push(struct memport *m, const uint8_t *frame,
			       size_t len, const struct pkt_vnet *v)
{
	uint64_t one = 1;
	int r = -1;

	if (len > MEMPORT_FRAME)
		return -1;
	pthread_mutex_lock(&m->lock);
	if (m->in_tail - m->in_head < MEMPORT_IN_MAX) {
		struct mframe *f = &m->in[m->in_tail++ % MEMPORT_IN_MAX];

		memcpy(f->data, frame, len);
		f->len = (uint32_t)len;
		f->vnet = v ? *v : (struct pkt_vnet){ 0 };
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	if (r == 0 && write(m->port.fd, &one, sizeof(one)) != sizeof(one))
		r = -1;
	return r;
}

/**
 * memport_wait() - wait (1 ms steps, MEMPORT_WAIT_MS at most) until @m has
 * recorded @n frames, and copy frame @n - 1 to @f if @f is not NULL.
 * @m: the port
 * @n: frames, at least 1
 * @f: where the last one goes, or NULL
 *
 * Return: true if they came in time.
 */
static inline bool memport_wait(struct memport *m, unsigned int n,
				struct mframe *f)
{
	for (int i = 0; i < MEMPORT_WAIT_MS; i++) {
		bool got;

		pthread_mutex_lock(&m->lock);
		got = m->n_out >= n;
		if (got && f)
			*f = m->out[n - 1];
		pthread_mutex_unlock(&m->lock);
		if (got)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

#endif /* ARCNAT_TESTS_MEMPORT_H */
