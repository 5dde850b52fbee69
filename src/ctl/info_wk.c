// SPDX-License-Identifier: MIT
/*
 * info_wk.c - m_info's operations as calls on the worker's thread
 * (info_wk.h).
 */
#include "ctl/info_wk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "ctl/snap.h"
#include "dp/services.h"
#include "dp/worker.h"

int ctl_iw_init(struct ctl_iw *iw, struct dp_worker *w)
{
	iw->w = w;
	iw->efd = -1;
	iw->dp = malloc(sizeof(*iw->dp));
	if (!iw->dp)
		return -ENOMEM;
	iw->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return iw->efd < 0 ? -errno : 0;
}

void ctl_iw_fini(struct ctl_iw *iw)
{
	free(iw->dp);
	iw->dp = NULL;
	if (iw->efd >= 0)
		close(iw->efd);
	iw->efd = -1;
	/* A writer never handed over, or taken back and not closed. */
	dp_pcap_close(iw->pc);
	iw->pc = NULL;
}

void ctl_iw_fill_dns(const struct dns_cache *c, uint32_t cursor,
		     uint32_t limit, uint64_t now, struct ctl_dns_page *pg)
{
	struct dns_cache_info info;
	uint32_t pos = cursor;

	pg->n = 0;
	pg->used = 0;
	pg->next = UINT32_MAX;
	if (limit > CTL_DNS_PAGE)
		limit = CTL_DNS_PAGE;
	while (pg->n < limit) {
		struct ctl_dns_rec *e = &pg->e[pg->n];
		int r = dns_cache_next(c, &pos, now, &e->info, pg->bytes + pg->used,
				   sizeof(pg->bytes) - pg->used);
		if (r == -ENOSPC)
			break;		/* the page is full: it goes on there */
		if (r < 0)
			return;		/* the end */
		e->off = pg->used;
		e->after = pos;
		pg->used += (uint32_t)r;
		pg->n++;
	}
	/* An entry is left if one does not fit in nothing. */
	if (dns_cache_next(c, &pos, now, &info, pg->bytes, 0) == -ENOSPC)
		pg->next = pos;
}

static uint64_t ctl_iw_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* On the worker's thread: do what @iw->kind says, then say so. */
static void ctl_iw_run(struct dp_worker *w, void *arg)
{
	struct ctl_iw *iw = arg;
	struct dp_svc *svc = dp_worker_svc(w);
	struct dhcp *d = svc ? dp_svc_dhcp(svc) : NULL;
	struct dns_cache *dc = svc ? dp_svc_dns_cache(svc) : NULL;
	uint64_t one = 1;

	/* The worker's clock is CLOCK_MONOTONIC (core/clock.h). */
	iw->now = ctl_iw_clock(CLOCK_MONOTONIC);
	iw->err = 0;
	switch (iw->kind) {
	case CTL_IW_LEASE_DELETE:
		iw->err = !d ? -ENODEV :
			  dhcp_lease_delete(d, iw->by_mac ? iw->mac : NULL,
					    iw->ip, iw->now, &iw->lease);
		break;
	case CTL_IW_DNS:
		if (dc)
			ctl_iw_fill_dns(dc, iw->cursor, iw->limit, iw->now,
					iw->dp);
		else
			iw->err = -ENODEV;
		break;
	case CTL_IW_DNS_FLUSH:
		if (dc)
			iw->flushed = dns_cache_flush(dc);
		else
			iw->err = -ENODEV;
		break;
	case CTL_IW_PCAP_START:
		/* The worker holds at most one: a second one is refused. */
		iw->pc = dp_worker_set_capture(w, iw->pc);
		if (iw->pc) {
			iw->pc = dp_worker_set_capture(w, iw->pc);
			iw->err = -EALREADY;
		}
		break;
	case CTL_IW_PCAP_STOP:
		iw->pc = dp_worker_set_capture(w, NULL);
		if (!iw->pc)
			iw->err = -ENOENT;
		break;
	}
	/* Pairs with the read in ctl_wait_worker(): the eventfd's write and read
	 * order the stores above before the control thread's loads. */
	if (write(iw->efd, &one, sizeof(one)) < 0)
		return;	/* cannot happen below 2^64 - 1 calls */
}

/* A capture call has run: what the control thread knows follows. */
static void ctl_iw_settle(struct ctl_iw *iw)
{
	if (iw->kind == CTL_IW_PCAP_START) {
		if (!iw->err) {
			iw->running = true;
			iw->pc = NULL;	/* the worker's now */
		}
		/* Refused: iw->pc is still ours, closed by the caller. */
	} else if (iw->kind == CTL_IW_PCAP_STOP) {
		iw->running = false;
	}
}

/* Before a new call: one that timed out must have run (and is settled). */
static int ctl_iw_free(struct ctl_iw *iw)
{
	if (!iw->outstanding)
		return 0;
	if (ctl_wait_worker(iw->efd, 0))
		return -EBUSY;
	iw->outstanding = false;
	ctl_iw_settle(iw);
	/* A capture taken back, or one the worker refused. */
	dp_pcap_close(iw->pc);
	iw->pc = NULL;
	return 0;
}

/* Post the call set up in @iw and wait for it. Return: 0, the worker's
 * -errno, or the wait's. */
static int ctl_iw_post(struct ctl_iw *iw)
{
	int err = dp_worker_call(iw->w, ctl_iw_run, iw);

	if (err)
		return err;
	err = ctl_wait_worker(iw->efd, CTL_SNAP_TIMEOUT_MS);
	if (err == -ETIMEDOUT) {
		iw->outstanding = true;
		return err;
	}
	if (!err)
		ctl_iw_settle(iw);
	return err ? err : iw->err;
}

static int ctl_iw_lease_delete(void *ctx, const uint8_t *mac, uint32_t ip,
			       struct dhcp_lease_info *out, uint64_t *now)
{
	struct ctl_iw *iw = ctx;
	int err = ctl_iw_free(iw);

	if (err)
		return err;
	iw->kind = CTL_IW_LEASE_DELETE;
	iw->by_mac = mac != NULL;
	if (mac)
		memcpy(iw->mac, mac, sizeof(iw->mac));
	iw->ip = ip;
	err = ctl_iw_post(iw);
	if (!err) {
		*out = iw->lease;
		*now = iw->now;
	}
	return err;
}

static int ctl_iw_dns(void *ctx, uint32_t cursor, uint32_t limit,
		      const struct ctl_dns_page **out)
{
	struct ctl_iw *iw = ctx;
	int err = ctl_iw_free(iw);

	if (err)
		return err;
	iw->kind = CTL_IW_DNS;
	iw->cursor = cursor;
	iw->limit = limit;
	err = ctl_iw_post(iw);
	if (!err)
		*out = iw->dp;
	return err;
}

static int ctl_iw_dns_flush(void *ctx, uint32_t *n)
{
	struct ctl_iw *iw = ctx;
	int err = ctl_iw_free(iw);

	if (err)
		return err;
	iw->kind = CTL_IW_DNS_FLUSH;
	err = ctl_iw_post(iw);
	if (!err)
		*n = iw->flushed;
	return err;
}

static int ctl_iw_pcap_start(void *ctx, const char *path,
			     const struct dp_pcap_filter *f, uint64_t max_bytes)
{
	struct ctl_iw *iw = ctx;
	int err = ctl_iw_free(iw), fd;

	if (err)
		return err;
	if (iw->running)
		return -EALREADY;
	if (strlen(path) >= sizeof(iw->path))
		return -ENAMETOOLONG;
	/* A new file only: what the sandbox allows, and no capture ever
	 * overwrites a file that was there. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = dp_pcap_open_fd(&iw->pc, fd, f, max_bytes);
	if (err) {
		unlinkat(AT_FDCWD, path, 0);
		return err;
	}
	iw->kind = CTL_IW_PCAP_START;
	/* Named before the call: one that times out may still start it. */
	snprintf(iw->path, sizeof(iw->path), "%s", path);
	err = ctl_iw_post(iw);
	if (err == -ETIMEDOUT)
		return err;	/* settled by the next call */
	if (err) {
		dp_pcap_close(iw->pc);
		iw->pc = NULL;
		unlinkat(AT_FDCWD, path, 0);
		return err;
	}
	log_info("control: capture to %s started", path);
	return 0;
}

static int ctl_iw_pcap_stop(void *ctx, char *path, size_t cap,
			    struct dp_pcap_stats *st)
{
	struct ctl_iw *iw = ctx;
	int err = ctl_iw_free(iw);

	if (err)
		return err;
	iw->kind = CTL_IW_PCAP_STOP;
	err = ctl_iw_post(iw);
	if (err)
		return err;
	/* Closed here, off the packet path: the last flush and close. */
	dp_pcap_flush(iw->pc);
	dp_pcap_get_stats(iw->pc, st);
	dp_pcap_close(iw->pc);
	iw->pc = NULL;
	snprintf(path, cap, "%s", iw->path);
	log_info("control: capture to %s stopped", iw->path);
	return 0;
}

const struct ctl_svc_ops ctl_iw_ops = {
	.lease_delete = ctl_iw_lease_delete,
	.dns_cache = ctl_iw_dns,
	.dns_flush = ctl_iw_dns_flush,
	.pcap_start = ctl_iw_pcap_start,
	.pcap_stop = ctl_iw_pcap_stop,
};
