/* SPDX-License-Identifier: MIT */
/*
 * stream.h - the stream guest port: QEMU's `-netdev stream` (and `-netdev
 * socket`) over a UNIX stream socket, one guest port per connection.
 *
 * Theory of operation: arcnat listens on a UNIX stream socket
 * (guest/unix_listen.h, shared with the vhost-user port). The
 * listener is itself a guest port of the worker (it carries no frames: it
 * takes the segment's frames and sends them nowhere; DP_PORT_LISTENER), so
 * that its accept runs on the worker's thread without a new kind of epoll
 * entry: each connection accepted becomes a guest port added with
 * dp_worker_add_port(), named after the socket and a process-wide
 * connection number ("stream:PATH#3"), and a peer that hangs up or breaks
 * the framing fails its rx_burst, which makes the worker remove it; the
 * other guests go on.
 *
 * The listener's fd (the one the worker polls) is a small epoll set of its
 * own that holds the listening socket. The worker polls level-triggered,
 * so a connection that accept4() cannot take (EMFILE, ENFILE: out of
 * descriptors; ENOBUFS, ENOMEM) would wake it again at once, for ever: the
 * listener then takes the socket out of its set (counted, logged
 * rate-limited) until a connection of its own closes or
 * STREAM_ACCEPT_BACKOFF_NS have passed (its tick), and the connection
 * waits in the kernel's backlog meanwhile.
 *
 * Framing: a 4-byte big-endian length, then that many bytes of Ethernet
 * frame, no virtio-net header. A length below an Ethernet header (0
 * included) or above DP_BUF_DATA_MAX closes that connection (counted in
 * its rx_errors). Receive reads into a per-connection reassembly buffer
 * and hands the pipeline whole frames only. Transmit writes lengths and
 * frames with sendmsg(); if the socket takes part of a frame, the rest
 * waits in the connection's own buffer (one frame) and goes out before
 * anything else (on the next transmit, receive or tick): the peer never
 * sees half a frame, and the frames behind it wait in the worker's queue
 * ("not now", dp/port.h).
 */
#ifndef ARCNAT_GUEST_STREAM_H
#define ARCNAT_GUEST_STREAM_H

#include "dp/port.h"
#include "dp/worker.h"
#include "guest/unix_listen.h"

/* Connections one listener serves at once; more are accepted and closed. */
#define STREAM_CONNS_MAX	16u
/* How long a listener out of descriptors stops accepting, at most. */
#define STREAM_ACCEPT_BACKOFF_NS	UNIX_LISTEN_BACKOFF_NS
/* Frame lengths the framing accepts. */
/* Socket buffer asked for each connection (capped by net.core.*mem_max). */
#define STREAM_SOCK_BUF		(4 << 20)
#define STREAM_FRAME_MIN	14u
#define STREAM_FRAME_MAX	DP_BUF_DATA_MAX

/**
 * struct stream_cfg - where to listen.
 * @path: the socket's path (up to 107 bytes)
 * @mtu:  the guests' L3 MTU (the ports report it)
 */
struct stream_cfg {
	const char *path;
	unsigned int mtu;
};

/**
 * stream_listen() - create, bind and listen on the socket at @cfg->path.
 * @out: the listener port
 * @cfg: configuration
 *
 * A stale socket at the path (nobody accepts on it) is replaced; a live
 * one or any other file is left alone. The socket is made rw for its
 * owner and group (0660) and unlinked when the listener is destroyed
 * (where the directory lets arcnat's user at that time do so).
 *
 * Return: 0; -ENAMETOOLONG; -EEXIST a file that is not a socket;
 * -EADDRINUSE a socket someone listens on; -ENOMEM; -errno.
 */
int stream_listen(struct dp_port **out, const struct stream_cfg *cfg);

/**
 * stream_attach() - the worker the listener adds its connections to.
 * @listener: from stream_listen()
 * @w:        the worker; until it is set, connections are refused
 */
void stream_attach(struct dp_port *listener, struct dp_worker *w);

/**
 * stream_conn_open() - a guest port over a connected stream socket.
 * @out:  the port
 * @fd:   the socket, non-blocking (accept4() made it so: no fcntl()
 *        in the sandbox); the port's from this call on (closed on error)
 * @mtu:  the guests' L3 MTU
 * @name: for logs
 *
 * Return: 0 or -ENOMEM.
 */
int stream_conn_open(struct dp_port **out, int fd, unsigned int mtu,
		     const char *name);

#endif /* ARCNAT_GUEST_STREAM_H */
