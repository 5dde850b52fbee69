/* SPDX-License-Identifier: MIT */
/*
 * utun.h - the macOS utun uplink (the original ArcBox backend).
 *
 * NOT USABLE TODAY: this file and utun.c compile to nothing but on macOS
 * (__APPLE__), and the rest of arcnat does not build there (the worker's
 * event loop is epoll, timerfd and eventfd; the gateway reads signals from
 * a signalfd). Nothing calls utun_uplink_open() and it has never been
 * built or run: it is the starting point of a macOS port, which needs a
 * portable event loop first (docs/architecture.md "Platforms"). On Linux,
 * uplink/tun.h is the equivalent. A utun
 * device carries IP packets behind a 4-byte address-family header and has
 * no offloads, so packets are at most the utun MTU and checksums complete.
 */
#ifndef ARCNAT_UPLINK_UTUN_H
#define ARCNAT_UPLINK_UTUN_H

#ifdef __APPLE__

#include "dp/port.h"

/**
 * utun_uplink_open() - open the next free utun device.
 * @out: the port (DP_PORT_L3)
 *
 * Return: 0 or -errno.
 */
int utun_uplink_open(struct dp_port **out);

#endif /* __APPLE__ */
#endif /* ARCNAT_UPLINK_UTUN_H */
