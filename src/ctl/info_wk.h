/* SPDX-License-Identifier: MIT */
/*
 * info_wk.h - the operations of ctl/m_info.h in arcnat: each one a call
 * the worker runs on its own thread (dp_worker_call()).
 *
 * Theory of operation: as ctl/snap.h, with an eventfd and pages of its own
 * (allocated once, at start), so that a slow snapshot and a slow listing
 * of the cache never share a buffer. The control thread fills in the request,
 * posts the call and waits on the eventfd for at most CTL_SNAP_TIMEOUT_MS;
 * the worker does it between bursts (copies cached answers into the page,
 * deletes a lease, flushes the cache, installs or takes back the capture)
 * and writes the eventfd. A call that timed out still owns the
 * request and the pages until the worker has run it: meanwhile every call
 * is refused (-EBUSY), and when it has run, what it did is settled first
 * (a capture it took back is closed, one it installed is known to run).
 *
 * Capture files are created here, by the control thread, with O_CREAT |
 * O_EXCL (the only open the sandbox allows: a new file, never one that
 * exists), mode 0600; the worker gets the writer and only writes.
 */
#ifndef ARCNAT_CTL_INFO_WK_H
#define ARCNAT_CTL_INFO_WK_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl/m_info.h"

struct dp_worker;

/* What a call does. */
enum ctl_iw_kind {
	CTL_IW_LEASE_DELETE,
	CTL_IW_DNS,
	CTL_IW_DNS_FLUSH,
	CTL_IW_PCAP_START,
	CTL_IW_PCAP_STOP,
};

/**
 * struct ctl_iw - the hand-off and its state (the control thread's).
 * @w:           the worker
 * @efd:         written by the worker once it ran a call
 * @outstanding: a call timed out and has not run yet
 * @kind:        what the call does
 * @cursor:      DNS: where to start
 * @limit:       and how many at most
 * @mac:         LEASE_DELETE: the MAC, or, with @by_mac false, @ip
 * @by_mac:      see @mac
 * @ip:          see @mac
 * @err:         the worker's answer: 0 or -errno
 * @lease:       LEASE_DELETE: the lease deleted
 * @now:         the worker's clock when it ran the call
 * @flushed:     DNS_FLUSH: entries dropped
 * @pc:          PCAP_START: the writer to install; PCAP_STOP: the one
 *               taken back (the control thread's to close)
 * @running:     a capture runs (as far as the last settled call says)
 * @path:        its file
 * @dp:          the DNS page
 */
struct ctl_iw {
	struct dp_worker *w;
	int efd;
	bool outstanding;
	enum ctl_iw_kind kind;
	uint32_t cursor;
	uint32_t limit;
	uint8_t mac[6];
	bool by_mac;
	uint32_t ip;
	int err;
	struct dhcp_lease_info lease;
	uint64_t now;
	uint32_t flushed;
	struct dp_pcap *pc;
	bool running;
	char path[PATH_MAX];
	struct ctl_dns_page *dp;
};

/**
 * ctl_iw_init() - allocate the pages and the eventfd.
 * @iw: zeroed
 * @w:  the worker
 *
 * Return: 0, -ENOMEM, -errno.
 */
int ctl_iw_init(struct ctl_iw *iw, struct dp_worker *w);

/**
 * ctl_iw_fini() - free; a zeroed or half-built @iw is fine. Only once the
 * worker is stopped for good or destroyed.
 * @iw: the hand-off
 */
void ctl_iw_fini(struct ctl_iw *iw);

/** ctl_iw_ops - the operations, their ctx a struct ctl_iw. */
extern const struct ctl_svc_ops ctl_iw_ops;

/**
 * ctl_iw_fill_dns() - copy cached answers from @cursor into @pg, at most
 * @limit, as many as its bytes hold (the worker's side of `dns-cache`).
 * @c:      the cache
 * @cursor: the slot to start at
 * @limit:  answers at most (<= CTL_DNS_PAGE)
 * @now:    the worker's clock, ns
 * @pg:     filled
 */
void ctl_iw_fill_dns(const struct dns_cache *c, uint32_t cursor,
		     uint32_t limit, uint64_t now, struct ctl_dns_page *pg);

#endif /* ARCNAT_CTL_INFO_WK_H */
