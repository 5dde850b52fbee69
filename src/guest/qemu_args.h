/* SPDX-License-Identifier: MIT */
/*
 * qemu_args.h - the QEMU command-line arguments that connect a guest to a
 * stream, dgram or vhost-user port, printed by `arcnat gateway` at start so that they
 * can be pasted into a shell (or, one argument at a time, into libvirt's
 * <qemu:commandline>).
 *
 * One form for every socket transport: `-netdev KIND,id=n0,... -device
 * virtio-net-pci,netdev=n0`; vhost-user puts the path in a `-chardev
 * socket,id=c0,...` in front and appends the shared memory backend (of
 * the size of the guest's -m: `size=RAM` is to be replaced). Paths are escaped twice: a comma doubled
 * (QEMU's option syntax), then the whole netdev value in single quotes
 * if it holds anything a POSIX shell would read as special.
 */
#ifndef ARCNAT_GUEST_QEMU_ARGS_H
#define ARCNAT_GUEST_QEMU_ARGS_H

#include <stddef.h>

/* The transports a line is made for. */
enum qemu_args_kind {
	QEMU_ARGS_STREAM,	/* -netdev stream, client of arcnat's listener */
	QEMU_ARGS_DGRAM,	/* -netdev dgram, local and remote UNIX paths */
	QEMU_ARGS_VHOST_USER,	/* -chardev socket, -netdev vhost-user, and the
				 * shared guest memory it needs */
};

/* What a dgram guest's own socket path is called when PATH.qemu does not
 * fit in sun_path: the user picks one. */
#define QEMU_ARGS_LOCAL_PLACEHOLDER "QEMU_SIDE_PATH"

/**
 * qemu_args_format() - the arguments for a port at @path, as one line.
 * @kind: the transport
 * @path: the port's socket path
 * @out:  where
 * @cap:  its size
 *
 * A dgram guest needs a socket path of its own (QEMU binds local.path and
 * sends to remote.path): @path with ".qemu" appended where that fits in a
 * sockaddr_un, else QEMU_ARGS_LOCAL_PLACEHOLDER.
 *
 * Return: 0, or -ENOSPC if @out is too small (it then holds a truncated,
 * terminated line).
 */
int qemu_args_format(enum qemu_args_kind kind, const char *path, char *out,
		     size_t cap);

#endif /* ARCNAT_GUEST_QEMU_ARGS_H */
