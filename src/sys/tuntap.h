/* SPDX-License-Identifier: MIT */
/*
 * tuntap.h - open TUN and TAP devices with or without a virtio-net header.
 *
 * Theory of operation: tuntap_open() creates the device @name, or attaches
 * to an existing (persistent) one, in the calling thread's network
 * namespace, and returns a non-blocking, close-on-exec fd on which each
 * read(2) and write(2) is one frame: an Ethernet frame for TAP, a bare IP
 * packet for TUN. Neither carries the 4-byte packet information header
 * (IFF_NO_PI is always set).
 *
 * With TUNTAP_VNET each frame is preceded by TUNTAP_VNET_HDR_LEN = 12 bytes:
 * struct virtio_net_hdr (10 bytes, see pkt/vnet.h), then the 2-byte
 * num_buffers of struct virtio_net_hdr_mrg_rxbuf, which the kernel neither
 * reads nor writes for TUN/TAP. 12 rather than 10 because it is the
 * header of virtio 1.0 (VIRTIO_F_VERSION_1), so frames go to and come from a
 * virtio-net guest unchanged. A reader that wants a TAP frame's IP header
 * 4-byte aligned reads at buffer offset 2 (2 + 12 + 14 = 28).
 * The kernel then hands us unchecksummed frames and GSO super-frames up to
 * 64 KiB for the offloads that were accepted, and takes the same from us.
 *
 * A device stays in the namespace it was created in. The fd is the only
 * handle: closing it deletes a non-persistent device.
 */
#ifndef ARCNAT_SYS_TUNTAP_H
#define ARCNAT_SYS_TUNTAP_H

/* tuntap_open() flags */
#define TUNTAP_TAP	   (1u << 0) /* TAP (Ethernet); without it TUN (IP) */
#define TUNTAP_VNET	   (1u << 1) /* IFF_VNET_HDR, TUNTAP_VNET_HDR_LEN */
#define TUNTAP_MULTI_QUEUE (1u << 2) /* IFF_MULTI_QUEUE: one fd per queue */

/* Bytes of virtio-net header before each frame with TUNTAP_VNET. */
#define TUNTAP_VNET_HDR_LEN 12u

/* Offloads accepted, as returned by tuntap_open() through @offloads. */
#define TUNTAP_OFF_CSUM (1u << 0) /* partial checksums (VNET_F_NEEDS_CSUM) */
#define TUNTAP_OFF_TSO4 (1u << 1) /* TCP over IPv4 GSO super-frames */
#define TUNTAP_OFF_TSO6 (1u << 2) /* TCP over IPv6 GSO super-frames */
#define TUNTAP_OFF_USO4 (1u << 3) /* UDP over IPv4 GSO (Linux >= 6.2) */
#define TUNTAP_OFF_USO6 (1u << 4) /* UDP over IPv6 GSO (Linux >= 6.2) */

/**
 * tuntap_open() - create, or attach to, the TUN/TAP device @name.
 * @name:     device name, 1 .. IFNAMSIZ - 1 bytes; may contain one "%d" for
 *            the kernel to number the device ("tap%d")
 * @flags:    TUNTAP_TAP, TUNTAP_VNET, TUNTAP_MULTI_QUEUE
 * @ifname:   out: the device's actual name, IFNAMSIZ bytes, NUL-terminated;
 *            may be NULL
 * @offloads: out: TUNTAP_OFF_* accepted, always 0 without TUNTAP_VNET; may
 *            be NULL
 *
 * Works in the calling thread's network namespace; the fd is O_NONBLOCK
 * and FD_CLOEXEC. With TUNTAP_VNET: TUNSETVNETHDRSZ (TUNTAP_VNET_HDR_LEN),
 * then TUNSETOFFLOAD with CSUM|TSO4|TSO6|USO4|USO6, retried without USO
 * (kernels before 6.2 answer -EINVAL), then with CSUM only, then with none.
 * Creating a device needs CAP_NET_ADMIN; attaching to a persistent one
 * needs it unless the device's owner or group is ours. With
 * TUNTAP_MULTI_QUEUE each call attaches one more queue to the device.
 *
 * Return: the fd, or -errno: -EPERM no CAP_NET_ADMIN; -EBUSY the device
 * exists but is not a TUN/TAP device of this type and queue mode, or is
 * already attached (single queue); -EINVAL bad name (NULL, empty, >=
 * IFNAMSIZ, or a name the kernel refuses: "." "..", '/', ':', white space)
 * or unknown flags; -errno from open(2) or ioctl(2).
 */
int tuntap_open(const char *name, unsigned int flags, char *ifname,
		unsigned int *offloads);

#endif /* ARCNAT_SYS_TUNTAP_H */
