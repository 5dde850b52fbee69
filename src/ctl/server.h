/* SPDX-License-Identifier: MIT */
/*
 * server.h - the control socket: a UNIX stream socket served by a thread
 * of its own, and the --metrics-file writer (docs/control.md).
 *
 * Theory of operation: the control thread has its own epoll set (the
 * listening socket, its clients, a stop eventfd) and a one-second tick, so
 * neither the worker nor the main thread's wait for signals ever waits for
 * a client: a slow or hostile client costs the control thread at most its
 * bounds, and a request that reads the datapath waits at most
 * CTL_SNAP_TIMEOUT_MS for the worker (ctl/snap.h), without holding a
 * signal up. Every resource is bounded: CTL_CLIENTS_MAX clients at once
 * (one more is accepted, sent an error line and closed), a request line of
 * CTL_REQUEST_MAX bytes (a longer one gets an error line and the
 * connection is closed), CTL_OUT_MAX bytes of replies a client has not
 * read (beyond that the client is closed), and an idle client (no request
 * for @idle_ms, nothing left to send) is closed. Requests of one client are
 * answered in order, one at a time.
 *
 * The socket is made before arcnat gives up its privileges: mode 0600,
 * owned by the user arcnat becomes, in a directory of mode 0700 made for
 * the default path; a stale socket of an arcnat that died is replaced and
 * a live one refused (guest/unix_listen.h's rule).
 */
#ifndef ARCNAT_CTL_SERVER_H
#define ARCNAT_CTL_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "ctl/methods.h"

#define CTL_CLIENTS_MAX		16u
#define CTL_OUT_MAX		((size_t)CTL_REPLY_MAX * 2)	/* unread replies */
#define CTL_IDLE_MS		60000u		/* default idle limit */
#define CTL_METRICS_INTERVAL	5u		/* default, seconds */

struct dp_worker;
struct ctl_server;

/**
 * struct ctl_server_cfg - what to serve.
 * @path:             the socket's path, or NULL for none (--no-control)
 * @make_dir:         make @path's directory (mode 0700) when missing: the
 *                    default path
 * @chown:            give the socket to @uid:@gid (arcnat is root and
 *                    switches to that user)
 * @uid:              see @chown
 * @gid:              see @chown
 * @idle_ms:          an idle client is closed after this (0: CTL_IDLE_MS)
 * @metrics_file:     --metrics-file, or NULL
 * @metrics_interval: seconds between its writes (0: CTL_METRICS_INTERVAL)
 * @info:             what `status` says (copied; its strings borrowed)
 * @worker:           the worker
 * @rt:               forwards and guests changed while running (ctl/rt.h);
 *                    zero: not here
 */
struct ctl_server_cfg {
	const char *path;
	bool make_dir;
	bool chown;
	uid_t uid;
	gid_t gid;
	unsigned int idle_ms;
	const char *metrics_file;
	unsigned int metrics_interval;
	struct ctl_info info;
	struct dp_worker *worker;
	struct ctl_rt_ops rt;
};

/**
 * ctl_server_open() - bind the socket, open the metrics file's directory,
 * make the control thread's epoll set; no thread yet (this runs before
 * the sandbox, which forbids making sockets and epoll sets).
 * @out: the server
 * @cfg: what to serve
 *
 * Return: 0; -EADDRINUSE a live arcnat serves @cfg->path; -EEXIST a file
 * that is not a socket is there; -ENOENT the metrics file's directory is
 * missing; -ENOMEM; -errno.
 */
int ctl_server_open(struct ctl_server **out, const struct ctl_server_cfg *cfg);

/**
 * ctl_server_start() - start the control thread.
 * @s: opened
 *
 * Return: 0 or -errno.
 */
int ctl_server_start(struct ctl_server *s);

/**
 * ctl_server_stop() - stop the control thread and close its clients;
 * before the worker is destroyed. Not started or NULL is fine.
 * @s: the server
 */
void ctl_server_stop(struct ctl_server *s);

/**
 * ctl_server_destroy() - stop, remove the socket file (where the
 * directory still lets arcnat's user), free; NULL and half-built are fine.
 * @s: the server
 */
void ctl_server_destroy(struct ctl_server *s);

#endif /* ARCNAT_CTL_SERVER_H */
