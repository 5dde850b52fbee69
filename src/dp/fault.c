// SPDX-License-Identifier: MIT
/*
 * fault.c - loss, duplication, reordering and delay on a port, for tests
 * (fault.h).
 *
 * Buffers: the worker's buffers stay the worker's. rx_burst permutes the
 * worker's array (kept frames to the front) and copies held frames into
 * buffers it frees so; tx_burst copies a frame it holds into a buffer of
 * its own and reports it consumed. Nothing is allocated after wrapping.
 */
#include "dp/fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/log.h"
#include "dp/bufmem.h"

#define FAULT_TIMER_SUB	1u
#define PPM		1000000u

struct fault_item {
	struct dp_buf *b;
	uint64_t due;
	bool after_next;	/* reordered: due as soon as a frame passes */
};

struct fault_dir {
	struct fault_item item[DP_FAULT_HOLD];	/* in arrival order */
	unsigned int n;
	struct dp_buf *free[DP_FAULT_HOLD];
	unsigned int nfree;
};

struct dp_fault {
	struct dp_port port;
	struct dp_port *inner;
	struct dp_fault_cfg cfg;
	int tfd;
	uint64_t rng;
	struct fault_dir dir[DP_FAULT__DIRS];
	struct dp_buf store[DP_FAULT__DIRS][DP_FAULT_HOLD];
	struct dp_bufmem mem;
	struct dp_fault_stats st;
};

static struct dp_fault *fault_of(struct dp_port *p)
{
	return (struct dp_fault *)p;
}

/* xorshift64*: fast, seeded, repeatable; not for anything but tests. */
static uint32_t fault_rand_ppm(struct dp_fault *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (uint32_t)(((f->rng * 0x2545F4914F6CDD1DULL) >> 32) % PPM);
}

static bool fault_roll(struct dp_fault *f, uint32_t ppm)
{
	return ppm && fault_rand_ppm(f) < ppm;
}

static void fault_copy(struct dp_buf *to, const struct dp_buf *from)
{
	dp_buf_reset(to);
	memcpy(to->data, from->data, from->len);
	to->len = from->len;
	to->flags = from->flags;
	to->vnet = from->vnet;
}

/* Hold a copy of @b until @due; false when every hold buffer is in use. */
static bool fault_hold(struct dp_fault *f, enum dp_fault_dir d,
		       const struct dp_buf *b, uint64_t due, bool after_next)
{
	struct fault_dir *q = &f->dir[d];
	struct fault_item *it;

	if (!q->nfree) {
		f->st.hold_full[d]++;
		return false;
	}
	it = &q->item[q->n++];
	it->b = q->free[--q->nfree];
	it->due = due;
	it->after_next = after_next;
	fault_copy(it->b, b);
	return true;
}

/* A frame passed: every reordered frame waiting in @d may come now. */
static void fault_passed(struct dp_fault *f, enum dp_fault_dir d,
			 uint64_t now)
{
	struct fault_dir *q = &f->dir[d];

	for (unsigned int i = 0; i < q->n; i++) {
		if (q->item[i].after_next) {
			q->item[i].after_next = false;
			q->item[i].due = now;
		}
	}
}

/* Arm the timer for the earliest held frame of either direction. */
static void fault_arm(struct dp_fault *f, uint64_t now)
{
	struct itimerspec its = { 0 };
	uint64_t first = UINT64_MAX;

	if (f->tfd < 0)
		return;
	for (unsigned int d = 0; d < DP_FAULT__DIRS; d++)
		for (unsigned int i = 0; i < f->dir[d].n; i++)
			if (f->dir[d].item[i].due < first)
				first = f->dir[d].item[i].due;
	if (first != UINT64_MAX) {
		uint64_t ns = first > now ? first - now : 1000;

		its.it_value.tv_sec = (time_t)(ns / 1000000000u);
		its.it_value.tv_nsec = (long)(ns % 1000000000u);
	}
	if (timerfd_settime(f->tfd, 0, &its, NULL) < 0)
		log_debug("%s: fault timer: %s", f->port.name, strerror(errno));
}

/* Remove item @i of @q, keeping the others in order. */
static void fault_unhold(struct fault_dir *q, unsigned int i)
{
	q->free[q->nfree++] = q->item[i].b;
	memmove(&q->item[i], &q->item[i + 1],
		(q->n - i - 1) * sizeof(q->item[0]));
	q->n--;
}

/* What happens to one frame: rolled first, done after (fault_apply). */
enum fault_fate {
	FAULT_PASS,		/* goes on now */
	FAULT_PASS_DUP,		/* goes on now, a copy right after */
	FAULT_DROP,
	FAULT_REORDER,
	FAULT_DELAY,
	FAULT_DELAY_DUP,
};

static enum fault_fate fault_decide(struct dp_fault *f)
{
	const struct dp_fault_cfg *c = &f->cfg;
	bool dup;

	if (fault_roll(f, c->drop_ppm))
		return FAULT_DROP;
	if (fault_roll(f, c->reorder_ppm))
		return FAULT_REORDER;
	dup = fault_roll(f, c->dup_ppm);
	if (c->delay_us)
		return dup ? FAULT_DELAY_DUP : FAULT_DELAY;
	return dup ? FAULT_PASS_DUP : FAULT_PASS;
}

/*
 * Do what @fate says to frame @b of direction @d: true when it goes on
 * now (a hold that finds no free buffer lets it pass), false when it was
 * lost or is held back. A duplicate is held, due at once or with its
 * original.
 */
static bool fault_apply(struct dp_fault *f, enum dp_fault_dir d,
			const struct dp_buf *b, enum fault_fate fate,
			uint64_t now)
{
	uint64_t late = now + (uint64_t)f->cfg.delay_us * 1000u;

	switch (fate) {
	case FAULT_DROP:
		f->st.dropped[d]++;
		return false;
	case FAULT_REORDER:
		if (!fault_hold(f, d, b, late + DP_FAULT_REORDER_US * 1000ull,
				true))
			break;
		f->st.reordered[d]++;
		return false;
	case FAULT_DELAY:
	case FAULT_DELAY_DUP:
		if (!fault_hold(f, d, b, late, false))
			break;
		f->st.delayed[d]++;
		if (fate == FAULT_DELAY_DUP && fault_hold(f, d, b, late, false))
			f->st.duplicated[d]++;
		return false;
	case FAULT_PASS_DUP:
		if (fault_hold(f, d, b, now, false))
			f->st.duplicated[d]++;
		break;
	case FAULT_PASS:
		break;
	}
	fault_passed(f, d, now);
	return true;
}

static int fault_rx_burst(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct dp_fault *f = fault_of(p);
	struct fault_dir *q = &f->dir[DP_FAULT_RX];
	unsigned int kept = 0;
	int r;

	r = f->inner->ops->rx_burst(f->inner, bufs, n, now);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < (unsigned int)r; i++) {
		if (!(f->cfg.dirs & (1u << DP_FAULT_RX)) ||
		    fault_apply(f, DP_FAULT_RX, bufs[i], fault_decide(f),
				now)) {
			struct dp_buf *t = bufs[kept];

			bufs[kept++] = bufs[i];
			bufs[i] = t;
		}
	}
	/* Held frames that are due follow, in the order they came. */
	for (unsigned int i = 0; i < q->n && kept < n;) {
		if (q->item[i].due > now) {
			i++;
			continue;
		}
		fault_copy(bufs[kept++], q->item[i].b);
		fault_unhold(q, i);
	}
	fault_arm(f, now);
	return (int)kept;
}

/* Offer @d's due held frames to the inner port, oldest first. */
static void fault_tx_due(struct dp_fault *f, uint64_t now)
{
	struct fault_dir *q = &f->dir[DP_FAULT_TX];
	struct dp_buf *due[DP_FAULT_HOLD];
	unsigned int n = 0, sent;

	for (unsigned int i = 0; i < q->n; i++)
		if (q->item[i].due <= now)
			due[n++] = q->item[i].b;
	if (!n)
		return;
	sent = f->inner->ops->tx_burst(f->inner, due, n, now);
	/* The first @sent due items go; a refusal waits for the timer. */
	for (unsigned int i = 0; i < q->n && sent;) {
		if (q->item[i].due <= now) {
			fault_unhold(q, i);
			sent--;
		} else {
			i++;
		}
	}
}

static unsigned int fault_tx_burst(struct dp_port *p, struct dp_buf **bufs,
				   unsigned int n, uint64_t now)
{
	struct dp_fault *f = fault_of(p);
	unsigned int i = 0;

	if (!(f->cfg.dirs & (1u << DP_FAULT_TX)))
		return f->inner->ops->tx_burst(f->inner, bufs, n, now);
	/*
	 * Runs of passing frames go to the inner port together. A frame that
	 * does not pass is acted on only once the run before it was taken
	 * whole: when the inner port is full, the worker offers the rest
	 * again later and they are rolled again, so nothing is held twice.
	 */
	while (i < n) {
		unsigned int j = i, sent;
		enum fault_fate fate = FAULT_PASS;

		while (j < n) {
			fate = fault_decide(f);
			if (fate != FAULT_PASS && fate != FAULT_PASS_DUP)
				break;
			fault_apply(f, DP_FAULT_TX, bufs[j++], fate, now);
		}
		sent = j > i ? f->inner->ops->tx_burst(f->inner, bufs + i,
						       j - i, now) : 0;
		i += sent;
		if (i < j || j == n)
			break;
		if (fault_apply(f, DP_FAULT_TX, bufs[j], fate, now)) {
			/* held nowhere (hold full): it passes alone */
			if (!f->inner->ops->tx_burst(f->inner, bufs + j, 1, now))
				break;
		}
		i = j + 1;
	}
	fault_tx_due(f, now);
	fault_arm(f, now);
	return i;
}

static int fault_fd_event(struct dp_port *p, uint32_t sub, uint32_t events,
			  uint64_t now)
{
	struct dp_fault *f = fault_of(p);
	uint64_t ticks;

	(void)events;
	if (sub != FAULT_TIMER_SUB)
		return 0;
	if (read(f->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	fault_tx_due(f, now);
	fault_arm(f, now);
	for (unsigned int i = 0; i < f->dir[DP_FAULT_RX].n; i++)
		if (f->dir[DP_FAULT_RX].item[i].due <= now)
			return DP_FD_RX;
	return 0;
}

static void fault_tick(struct dp_port *p, uint64_t now)
{
	struct dp_fault *f = fault_of(p);

	if (f->inner->ops->tick)
		f->inner->ops->tick(f->inner, now);
}

static void fault_stats(const struct dp_port *p, struct dp_port_stats *out)
{
	const struct dp_fault *f = (const struct dp_fault *)p;

	dp_port_get_stats(f->inner, out);
}

static void fault_print_stats(const struct dp_port *p, FILE *fp,
			      const char *prefix)
{
	const struct dp_fault *f = (const struct dp_fault *)p;
	static const char *const dn[DP_FAULT__DIRS] = { "rx", "tx" };

	if (f->inner->ops->print_stats)
		f->inner->ops->print_stats(f->inner, fp, prefix);
	for (unsigned int d = 0; d < DP_FAULT__DIRS; d++)
		fprintf(fp,
			"stat %s.fault_%s_dropped %llu\n"
			"stat %s.fault_%s_duplicated %llu\n"
			"stat %s.fault_%s_reordered %llu\n"
			"stat %s.fault_%s_delayed %llu\n"
			"stat %s.fault_%s_hold_full %llu\n",
			prefix, dn[d], (unsigned long long)f->st.dropped[d],
			prefix, dn[d], (unsigned long long)f->st.duplicated[d],
			prefix, dn[d], (unsigned long long)f->st.reordered[d],
			prefix, dn[d], (unsigned long long)f->st.delayed[d],
			prefix, dn[d], (unsigned long long)f->st.hold_full[d]);
}

static void fault_destroy(struct dp_port *p)
{
	struct dp_fault *f = fault_of(p);

	if (!f)
		return;
	/*
	 * The timerfd is ours alone, so closing it leaves the epoll set too;
	 * the worker may already be gone (the configured port outlives it).
	 */
	if (f->tfd >= 0)
		close(f->tfd);
	dp_bufmem_unmap(&f->mem);
	dp_port_destroy(f->inner);
	free(f);
}

static const struct dp_port_ops fault_ops = {
	.rx_burst = fault_rx_burst,
	.tx_burst = fault_tx_burst,
	.fd_event = fault_fd_event,
	.tick = fault_tick,
	.stats = fault_stats,
	.print_stats = fault_print_stats,
	.destroy = fault_destroy,
};

int dp_fault_wrap(struct dp_port **out, struct dp_port *inner,
		  const struct dp_fault_cfg *cfg)
{
	struct dp_buf *all[DP_FAULT__DIRS * DP_FAULT_HOLD];
	struct dp_fault *f;
	int err;

	if (!inner || !cfg || cfg->drop_ppm > PPM || cfg->dup_ppm > PPM ||
	    cfg->reorder_ppm > PPM || cfg->delay_us > DP_FAULT_DELAY_MAX_US ||
	    !cfg->dirs || (inner->flags & (DP_PORT_KICK | DP_PORT_LISTENER)))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->tfd = -1;
	for (unsigned int d = 0; d < DP_FAULT__DIRS; d++)
		for (unsigned int i = 0; i < DP_FAULT_HOLD; i++) {
			all[d * DP_FAULT_HOLD + i] = &f->store[d][i];
			f->dir[d].free[i] = &f->store[d][i];
		}
	for (unsigned int d = 0; d < DP_FAULT__DIRS; d++)
		f->dir[d].nfree = DP_FAULT_HOLD;
	err = dp_bufmem_map(&f->mem, all, DP_FAULT__DIRS * DP_FAULT_HOLD);
	if (err)
		goto fail;
	f->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (f->tfd < 0) {
		err = -errno;
		goto fail;
	}
	f->cfg = *cfg;
	f->rng = cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ULL;
	f->port = *inner;
	f->port.ops = &fault_ops;
	f->port.stats = (struct dp_port_stats){ 0 };
	f->inner = inner;
	*out = &f->port;
	return 0;
fail:
	dp_bufmem_unmap(&f->mem);
	free(f);
	return err;
}

int dp_fault_attach(struct dp_port *p, struct dp_worker *w)
{
	struct dp_fault *f = fault_of(p);
	return dp_worker_add_fd(w, p, f->tfd, FAULT_TIMER_SUB, EPOLLIN);
}

void dp_fault_get_stats(const struct dp_port *p, struct dp_fault_stats *out)
{
	*out = ((const struct dp_fault *)p)->st;
}

/* "1.5" -> 15000 ppm of a percentage with up to four decimal places. */
static int fault_parse_pct(const char *v, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0, scale = 10000;
	const char *s = v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9' && whole <= 100)
		whole = whole * 10 + (uint64_t)(*s++ - '0');
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (scale == 1)
				return -EINVAL;
			scale /= 10;
			frac += (uint64_t)(*s++ - '0') * scale;
		}
	}
	if (strcmp(s, "%") != 0 || whole > 100 || (whole == 100 && frac))
		return -EINVAL;
	*ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}

static int fault_parse_delay(const char *v, uint32_t *us)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || n > DP_FAULT_DELAY_MAX_US)
		return -EINVAL;
	if (!strcmp(end, "ms") && n <= DP_FAULT_DELAY_MAX_US / 1000)
		*us = (uint32_t)n * 1000u;
	else if (!strcmp(end, "us"))
		*us = (uint32_t)n;
	else
		return -EINVAL;
	return 0;
}

static int fault_parse_item(const char *k, const char *v,
			    struct dp_fault_cfg *c)
{
	if (!strcmp(k, "drop"))
		return fault_parse_pct(v, &c->drop_ppm);
	if (!strcmp(k, "dup"))
		return fault_parse_pct(v, &c->dup_ppm);
	if (!strcmp(k, "reorder"))
		return fault_parse_pct(v, &c->reorder_ppm);
	if (!strcmp(k, "delay"))
		return fault_parse_delay(v, &c->delay_us);
	if (!strcmp(k, "dir")) {
		if (!strcmp(v, "rx"))
			c->dirs = 1u << DP_FAULT_RX;
		else if (!strcmp(v, "tx"))
			c->dirs = 1u << DP_FAULT_TX;
		else if (!strcmp(v, "both"))
			c->dirs = (1u << DP_FAULT_RX) | (1u << DP_FAULT_TX);
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "seed")) {
		char *end;

		if (*v < '0' || *v > '9')
			return -EINVAL;
		errno = 0;
		c->seed = strtoull(v, &end, 10);
		return errno || *end ? -EINVAL : 0;
	}
	return -EINVAL;
}

int dp_fault_parse(const char *spec, struct dp_fault_cfg *cfg, char *err,
		   unsigned int len)
{
	struct dp_fault_cfg c = {
		.dirs = (1u << DP_FAULT_RX) | (1u << DP_FAULT_TX),
	};
	char item[64];
	const char *s = spec;

	if (!s || !*s) {
		snprintf(err, len, "empty fault specification");
		return -EINVAL;
	}
	while (*s) {
		size_t n = strcspn(s, ",");
		char *eq;

		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, len, "bad item '%.*s'", (int)n, s);
			return -EINVAL;
		}
		memcpy(item, s, n);
		item[n] = '\0';
		eq = strchr(item, '=');
		if (!eq) {
			snprintf(err, len, "'%s' is not KEY=VALUE", item);
			return -EINVAL;
		}
		*eq = '\0';
		if (fault_parse_item(item, eq + 1, &c)) {
			snprintf(err, len,
				 "bad item '%s=%s' (drop=, dup=, reorder= take 0-100%%; delay= Nms or Nus up to 1 s; dir= rx, tx or both; seed= a number)",
				 item, eq + 1);
			return -EINVAL;
		}
		s += n;
		if (*s == ',' && !*++s) {
			snprintf(err, len, "trailing comma");
			return -EINVAL;
		}
	}
	if (!c.drop_ppm && !c.dup_ppm && !c.reorder_ppm && !c.delay_us) {
		snprintf(err, len, "no fault named (drop, dup, reorder, delay)");
		return -EINVAL;
	}
	*cfg = c;
	return 0;
}
