/* SPDX-License-Identifier: MIT */
/*
 * snap.h - a consistent snapshot of the worker's state, taken on the
 * worker's thread for the control thread.
 *
 * Theory of operation: nothing but the worker touches its counters, ports
 * and tables. The control thread posts a call (dp_worker_call(): a bounded
 * list the worker serves between bursts), which prints the statistics
 * block into this snapshot's buffer and lists the ports, then writes the
 * snapshot's eventfd; the control thread waits on that eventfd with a
 * timeout. The worker never waits for anyone. A call that times out still
 * owns the buffer until the worker has run it: until the eventfd says so
 * the snapshot refuses new calls (-EBUSY) instead of sharing the buffer.
 * The same hand-off carries a page of the connection table
 * (ctl/flows.h) and the deletion of one flow, which must happen on the
 * worker's thread too.
 */
#ifndef ARCNAT_CTL_SNAP_H
#define ARCNAT_CTL_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/flows.h"
#include "ctl/leases.h"
#include "dp/port.h"
#include "dp/portset.h"

#define CTL_SNAP_TEXT_MAX	((size_t)512 * 1024)	/* the statistics block */
#define CTL_SNAP_TIMEOUT_MS	2000u		/* the worker's answer, at most */

struct dp_worker;

/**
 * struct ctl_port_info - one port, as the snapshot saw it.
 * @slot:     its slot in the worker's port set
 * @uplink:   the uplink (else a guest port)
 * @listener: a listener that carries no frames (it accepts guests)
 * @mtu:      its MTU (0: not limited)
 * @mac:      its MAC (zero for an L3 port)
 * @name:     its name
 */
struct ctl_port_info {
	unsigned int slot;
	bool uplink;
	bool listener;
	uint32_t mtu;
	uint8_t mac[6];
	char name[DP_PORT_NAME_MAX];
};

/**
 * struct ctl_snapshot - what a snapshot holds.
 * @text:      the statistics block (dp_worker_print_stats())
 * @len:       its length
 * @truncated: it did not fit in CTL_SNAP_TEXT_MAX
 * @port:      the ports
 * @n_ports:   how many
 */
struct ctl_snapshot {
	char *text;
	size_t len;
	bool truncated;
	struct ctl_port_info port[DP_PORTS_MAX];
	unsigned int n_ports;
};

/* What a call to the worker does. */
enum ctl_snap_kind {
	CTL_SNAP_STATS,		/* fill @s */
	CTL_SNAP_FLOWS,		/* fill @page from @q */
	CTL_SNAP_FLOW_DELETE,	/* delete @del_id (@del_key), set @del_err */
	CTL_SNAP_LEASES,	/* fill @leases from @lease_cursor */
};

/**
 * struct ctl_snap - the snapshot and its hand-off.
 * @w:           the worker
 * @efd:         written by the worker once it did what @kind says
 * @outstanding: a call the control thread stopped waiting for has not
 *               run yet: what follows is still the worker's
 * @kind:        what the call does
 * @s:           the snapshot (CTL_SNAP_STATS)
 * @q:           the query (CTL_SNAP_FLOWS)
 * @page:        its page
 * @del_id:      the flow to delete (CTL_SNAP_FLOW_DELETE)
 * @del_key:     its key, "" for none
 * @del_err:     0 or -ENOENT
 * @lease_cursor: the first lease slot (CTL_SNAP_LEASES)
 * @leases:      its page
 */
struct ctl_snap {
	struct dp_worker *w;
	int efd;
	bool outstanding;
	enum ctl_snap_kind kind;
	struct ctl_snapshot s;
	struct ctl_flow_query q;
	struct ctl_flow_page *page;
	uint32_t del_id;
	char del_key[CTL_FLOW_KEY_LEN + 1];
	int del_err;
	uint32_t lease_cursor;
	struct ctl_lease_page *leases;
};

/**
 * ctl_snap_init() - the buffer and the eventfd.
 * @sn: zeroed
 * @w:  the worker
 *
 * Return: 0, -ENOMEM, -errno.
 */
int ctl_snap_init(struct ctl_snap *sn, struct dp_worker *w);

/**
 * ctl_wait_worker() - wait for a dp_worker_call() function to say it ran:
 * its write to eventfd @efd, read here. The eventfd's write and read also
 * order the function's stores before the caller's loads. Every control
 * module that hands work to the worker (snap, rt, info_wk) waits so.
 * @efd:        the eventfd (non-blocking)
 * @timeout_ms: how long at most (0: only look)
 * Return: 0, -ETIMEDOUT, -errno.
 */
int ctl_wait_worker(int efd, int timeout_ms);

/**
 * ctl_snap_take() - ask the worker for a snapshot and wait for it.
 * @sn:         the snapshot
 * @timeout_ms: how long to wait
 *
 * Return: 0 (@sn->s filled); -EBUSY an earlier call has not run yet;
 * -EAGAIN the worker has DP_CALLS calls pending; -ETIMEDOUT; -errno.
 */
int ctl_snap_take(struct ctl_snap *sn, unsigned int timeout_ms);

/**
 * ctl_snap_flows() - a page of flows, scanned on the worker's thread.
 * @sn:         the snapshot
 * @q:          the query
 * @timeout_ms: how long to wait
 *
 * Return: 0 (@sn->page filled), or ctl_snap_take()'s errors.
 */
int ctl_snap_flows(struct ctl_snap *sn, const struct ctl_flow_query *q,
		   unsigned int timeout_ms);

/**
 * ctl_snap_flow_delete() - delete a flow on the worker's thread.
 * @sn:         the snapshot
 * @id:         the flow's index
 * @key:        its key, or NULL
 * @timeout_ms: how long to wait
 *
 * Return: 0; -ENOENT no such flow; ctl_snap_take()'s errors.
 */
int ctl_snap_flow_delete(struct ctl_snap *sn, uint32_t id, const char *key,
			 unsigned int timeout_ms);

/**
 * ctl_snap_leases() - a page of DHCP leases, copied on the worker's thread.
 * @sn:         the snapshot
 * @cursor:     the first slot
 * @timeout_ms: how long to wait
 *
 * Return: 0 (@sn->leases filled), or ctl_snap_take()'s errors.
 */
int ctl_snap_leases(struct ctl_snap *sn, uint32_t cursor,
		    unsigned int timeout_ms);

/**
 * ctl_snap_fini() - free; a zeroed or half-built @sn is fine. Only once
 * the worker is stopped for good or destroyed (a pending call would write
 * into the buffer).
 * @sn: the snapshot
 */
void ctl_snap_fini(struct ctl_snap *sn);

#endif /* ARCNAT_CTL_SNAP_H */
