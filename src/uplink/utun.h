/* SPDX-License-Identifier: MIT */
/*
 * utun.h - the macOS utun uplink (the original ArcBox backend).
 *
 * UNTESTED HERE: this file and utun.c compile only on macOS (__APPLE__);
 * arcnat's CI runs on Linux, where uplink/tun.h is the equivalent. A utun
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
