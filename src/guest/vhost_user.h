/* SPDX-License-Identifier: MIT */
/*
 * vhost_user.h - the vhost-user guest port: a vhost-user-net backend for
 * QEMU's `-netdev vhost-user`, one guest port per frontend connection.
 *
 * Theory of operation: arcnat listens on a UNIX stream socket. As with the
 * stream port (guest/stream.h; both are guest/unix_listen.h's), the listener is a guest port of its own
 * that carries no frames, whose accept runs on the worker's thread and
 * adds one guest port per connection (dp_worker_add_port()).
 *
 * A connection's own fd is the control socket: its messages are served on
 * the worker's thread by rx_burst, at most VHOST_USER_MSGS_PER_CALL per call, each
 * read whole without blocking (a message that is not whole when its first
 * byte is, or whose announced size is over the largest valid one, drops the
 * connection) and applied to the device state (guest/vhost_dev.h). The
 * guest's memory is the frontend's memfd regions (guest/vmem.h); the rings
 * are split virtqueues in it (guest/vring.h), one queue pair.
 *
 * Each started ring's kick eventfd is an extra fd of the port
 * (dp_worker_add_fd(), a fresh sub-index for each registration): a kick
 * of the transmit ring (1) makes the worker receive (rx_burst takes up to a
 * burst of frames from the ring, with their virtio-net header's offloads);
 * a kick of the receive ring (0) says the guest gave buffers, and the
 * worker offers the port its queue again (DP_PORT_KICK: frames the ring had
 * no room for waited there, "not now"; the frames of a super-frame cut in
 * software for a guest without the offloads that found no room wait in
 * the port itself, and go first). Every kick fd is unregistered
 * before the device may close it. The call eventfd is signalled after used
 * entries are published, unless the guest set VRING_AVAIL_F_NO_INTERRUPT
 * (EVENT_IDX is not offered).
 *
 * A hostile frontend: every refused message counts (rx_errors, and by
 * reason when the connection ends); past VHOST_USER_BAD_MAX refusals, or when
 * a ring breaks (guest/vring.h: a hostile available index, or
 * VRING_BROKEN_AFTER bad chains), the port fails and the worker removes it
 * (the connection is closed, its memory unmapped, its fds closed); the other
 * guests go on. A frontend that reconnects is a new port.
 */
#ifndef ARCNAT_GUEST_VHOST_USER_H
#define ARCNAT_GUEST_VHOST_USER_H

#include "dp/port.h"
#include "dp/worker.h"

/* Frontends one listener serves at once; more are accepted and closed. */
#define VHOST_USER_CONNS_MAX		8u
/* Control messages one rx_burst serves, at most. */
#define VHOST_USER_MSGS_PER_CALL	16u
/* Refused messages a connection may send before it is closed. */
#define VHOST_USER_BAD_MAX		8u

/**
 * struct vhost_user_cfg - where to listen.
 * @path: the socket's path (up to 107 bytes)
 * @mtu:  the guests' L3 MTU (the ports report it)
 */
struct vhost_user_cfg {
	const char *path;
	unsigned int mtu;
};

/**
 * vhost_user_listen() - create, bind and listen on the socket at @cfg->path.
 * @out: the listener port
 * @cfg: configuration
 *
 * The socket file's rules are the stream port's (stream_listen()): a stale
 * socket is replaced, a live one or another file refused, mode 0660,
 * unlinked when the listener is destroyed.
 *
 * Return: 0; -ENAMETOOLONG; -EEXIST a file that is not a socket;
 * -EADDRINUSE a socket someone listens on; -ENOMEM; -errno.
 */
int vhost_user_listen(struct dp_port **out, const struct vhost_user_cfg *cfg);

/**
 * vhost_user_attach() - the worker the listener adds its connections to.
 * @listener: from vhost_user_listen()
 * @w:        the worker; until it is set, connections are refused
 */
void vhost_user_attach(struct dp_port *listener, struct dp_worker *w);

#endif /* ARCNAT_GUEST_VHOST_USER_H */
