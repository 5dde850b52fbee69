/* SPDX-License-Identifier: MIT */
/*
 * dgram.h - the dgram guest port: one UNIX datagram = one Ethernet frame,
 * for QEMU's `-netdev dgram` (local and remote UNIX paths), vfkit's
 * `unixSocketPath` and the connected socket pair of macOS
 * Virtualization.framework's file-handle attachment.
 *
 * Theory of operation: arcnat binds a UNIX datagram socket at PATH; the
 * guest's side binds a socket of its own (QEMU's local.path) and sends to
 * PATH. A datagram socket has no accept(), so the port learns its peer
 * from the sender address of the first whole frame (or of vfkit's "VFKT"
 * greeting) and then connect()s to it. Being connected does three things:
 * send() needs no address; EPOLLOUT means "the peer's receive queue has
 * room" (an unconnected socket is always writable, which would make a
 * full peer queue a busy loop); and the kernel refuses, with EPERM, every
 * datagram of another sender while the peer lives, so one port is one
 * guest and no other local process can inject frames into its traffic.
 *
 * The peer is re-learned: every 100 ms (the port's tick) the port
 * connect()s to the peer's path again. A QEMU restarted with the same
 * local.path has bound a new socket there: the port is now connected to
 * it, and the guest's DHCP request gets its lease back by MAC. A peer
 * whose path names no socket any more (ECONNREFUSED, ENOENT), or a send
 * that the kernel refuses because the peer socket is closed
 * (ECONNREFUSED, ENOTCONN), makes the port forget it: the next sender
 * becomes the peer. Frames for the guests while there is no peer go
 * nowhere, counted (no_peer).
 *
 * Hostile input: a datagram longer than DGRAM_FRAME_MAX (seen truncated,
 * MSG_TRUNC), shorter than an Ethernet header (a runt), empty, or from a
 * sender that is not the peer (queued before the port connected) or has
 * no address to answer is a counted drop; nothing is parsed here beyond
 * the length (pkt_parse, fuzzed, reads the frame). Receive is one
 * recvmmsg() of at most the worker's burst into the worker's buffers;
 * transmit one sendmmsg() per run of frames; offloads (a GSO super-frame
 * from the uplink, a pending checksum) are finished in software (pkt/gso),
 * as on a stream socket, since no virtio-net header travels. Nothing is
 * allocated after the port is opened.
 */
#ifndef ARCNAT_GUEST_DGRAM_H
#define ARCNAT_GUEST_DGRAM_H

#include "dp/port.h"

/* Frame lengths a datagram may carry. */
#define DGRAM_FRAME_MIN	14u
#define DGRAM_FRAME_MAX	DP_BUF_DATA_MAX
/* vfkit's greeting: the first datagram of its connected socket. */
#define DGRAM_HELLO	"VFKT"
#define DGRAM_HELLO_LEN	4u
/* How often the peer's path is looked up again (re-learning): every
 * tick of the worker's, so that a restarted guest is refused (EPERM) for
 * at most that long. One connect() per port and tick. */
#define DGRAM_CHECK_NS	100000000ull

/**
 * struct dgram_cfg - where to bind.
 * @path: the socket's path (up to 107 bytes)
 * @mtu:  the guests' L3 MTU (the port reports it)
 */
struct dgram_cfg {
	const char *path;
	unsigned int mtu;
};

/**
 * dgram_open() - bind a datagram socket at @cfg->path: a guest port that
 * learns its peer.
 * @out: the port
 * @cfg: configuration
 *
 * A stale socket at the path (nobody bound to it) is replaced; a live one
 * or any other file is left alone. The socket is made rw for its owner and
 * group (0660), so that QEMU running as that user or group can send to it,
 * and unlinked when the port is destroyed (where the directory lets
 * arcnat's user at that time do so).
 *
 * Return: 0; -EINVAL an empty path; -ENAMETOOLONG; -EEXIST a file that is
 * not a socket; -EADDRINUSE a socket someone is bound to; -ENOMEM; -errno.
 */
int dgram_open(struct dp_port **out, const struct dgram_cfg *cfg);

/**
 * dgram_open_fd() - a guest port over an already connected datagram socket
 * (one end of a socketpair(), as Virtualization.framework's file-handle
 * attachment takes the other): the peer is fixed and never re-learned.
 * @out:  the port
 * @fd:   the socket, non-blocking; the port's from this call on (closed on
 *        error)
 * @mtu:  the guests' L3 MTU
 * @name: for logs
 *
 * Return: 0 or -ENOMEM.
 */
int dgram_open_fd(struct dp_port **out, int fd, unsigned int mtu,
		  const char *name);

#endif /* ARCNAT_GUEST_DGRAM_H */
