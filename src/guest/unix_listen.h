/* SPDX-License-Identifier: MIT */
/*
 * unix_listen.h - what the socket guest ports share: a UNIX socket bound at
 * a path, and a listener that is a guest port of its own whose accept adds
 * one guest port per connection (the stream and vhost-user ports).
 *
 * Theory of operation. The path: a stale socket there (nobody accepts on
 * it, or nobody is bound to it) is replaced; a live one or any other file
 * is left alone. The socket is made rw for its owner and group (0660) and
 * unlinked when its port is destroyed (unix_listen_unlink(), where the
 * directory lets arcnat's user at that time do so).
 *
 * The listener carries no frames (DP_PORT_LISTENER: it takes the segment's
 * frames and sends them nowhere), so that its accept runs on the worker's
 * thread without a new kind of epoll entry. Each connection accepted
 * becomes a guest port made by its kind's @conn_open and added with
 * dp_worker_add_port(), named with a number unique in the process for that
 * kind ("stream:PATH#3", "vhost3"). The listener's fd (the one the worker
 * polls) is a small epoll set of its own that holds the listening socket.
 * The worker polls level-triggered, so a connection that accept4() cannot
 * take (EMFILE, ENFILE: out of descriptors; ENOBUFS, ENOMEM) would wake it
 * again at once, for ever: the listener then takes the socket out of its
 * set (counted, logged rate-limited) until a connection of its own closes
 * or UNIX_LISTEN_BACKOFF_NS have passed (its tick), and the connection
 * waits in the kernel's backlog meanwhile. A connection port holds a
 * reference on its listener, so the listener outlives none of its
 * connections' destroy calls.
 */
#ifndef ARCNAT_GUEST_UNIX_LISTEN_H
#define ARCNAT_GUEST_UNIX_LISTEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "core/ratelimit.h"
#include "dp/port.h"
#include "dp/worker.h"

/* How long a listener out of descriptors stops accepting, at most. */
#define UNIX_LISTEN_BACKOFF_NS	1000000000ull
/* A socket path's bytes, its NUL included. */
#define UNIX_LISTEN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

struct unix_listen;

/**
 * struct unix_listen_kind - what differs between the listeners of two ports.
 * @name:       the listener port's name is "@name:PATH"
 * @stat:       its statistics are "@stat_guests", "@stat_refused"...
 * @peer:       what a connection is called in logs ("guest", "frontend")
 * @conn_name:  a connection's name: "@conn_name:PATH#N" with @name_path,
 *              "@conn_nameN" without
 * @name_path:  see @conn_name
 * @seq:        the kind's connection numbers, process-wide
 * @conns_max:  connections served at once (the backlog too); more are
 *              accepted and closed
 * @conn_open:  make the port of connection @fd, named @name (consumes @fd,
 *              closed on error); the port's destroy calls
 *              unix_listen_conn_gone(@l). Return: 0 or -errno.
 */
struct unix_listen_kind {
	const char *name;
	const char *stat;
	const char *peer;
	const char *conn_name;
	bool name_path;
	atomic_uint *seq;
	unsigned int conns_max;
	int (*conn_open)(struct unix_listen *l, int fd, const char *name,
			 struct dp_port **out);
};

/**
 * struct unix_listen - a listener port.
 * @port:      the port; @port.fd is the epoll set holding @lfd
 * @kind:      its kind
 * @w:         the worker connections are added to (NULL: refused)
 * @lfd:       the listening socket
 * @refs:      the listener itself and each connection
 * @conns:     connections now
 * @paused:    @lfd out of @port.fd's set
 * @resume_at: when a pause ends at the latest
 * @refused:   connections accepted and closed (full, no worker yet, no
 *             port for them: no memory, the worker's mailbox or port
 *             table full)
 * @paused_n:  pauses for lack of resources
 * @rl:        the pause's log line
 * @path:      the socket's path
 */
struct unix_listen {
	struct dp_port port;
	const struct unix_listen_kind *kind;
	struct dp_worker *w;
	int lfd;
	unsigned int refs;
	unsigned int conns;
	bool paused;
	uint64_t resume_at;
	uint64_t refused;
	uint64_t paused_n;
	struct ratelimit rl;
	char path[UNIX_LISTEN_PATH_MAX];
};

/**
 * unix_listen_bind() - a UNIX socket bound at @path, by the path's rules.
 * @fd:      the socket (non-blocking, close-on-exec) on success
 * @path:    where
 * @type:    SOCK_STREAM or SOCK_DGRAM (a stale socket is probed with it)
 * @backlog: a stream socket listens with it
 *
 * One rule for every port bound at a path, so that none may take the path
 * of a live peer or clobber a file a user pointed it at by mistake.
 *
 * Return: 0; -EINVAL an empty path; -ENAMETOOLONG; -EEXIST a file that is
 * not a socket; -EADDRINUSE a socket someone serves; -errno.
 */
int unix_listen_bind(int *fd, const char *path, int type,
		     unsigned int backlog);

/**
 * unix_listen_unlink() - remove the socket file of a port that ends.
 * @path: as bound
 *
 * unlinkat(): the call the sandbox allows (the lease file's). Errors are
 * ignored: the directory may not let the user arcnat became do it.
 */
void unix_listen_unlink(const char *path);

/**
 * unix_listen_open() - a listener port of @kind at @path.
 * @out:  the listener port
 * @kind: static, outlives the port
 * @path: the socket's path (unix_listen_bind()'s rules)
 * @mtu:  the guests' L3 MTU (the ports report it)
 *
 * Return: 0; unix_listen_bind()'s errors; -ENOMEM; -errno.
 */
int unix_listen_open(struct dp_port **out, const struct unix_listen_kind *kind,
		     const char *path, unsigned int mtu);

/**
 * unix_listen_attach() - the worker the listener adds its connections to.
 * @listener: from unix_listen_open()
 * @w:        the worker; until it is set, connections are refused
 */
void unix_listen_attach(struct dp_port *listener, struct dp_worker *w);

/**
 * unix_listen_conn_gone() - a connection port of @l is destroyed.
 * @l: its listener
 *
 * A descriptor is free again: the listener accepts what waits, and drops
 * the connection's reference (the last one frees it).
 */
void unix_listen_conn_gone(struct unix_listen *l);

#endif /* ARCNAT_GUEST_UNIX_LISTEN_H */
