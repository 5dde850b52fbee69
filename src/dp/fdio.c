// SPDX-License-Identifier: MIT
/*
 * fdio.c - burst readv()/writev() of packets with a virtio-net header.
 */
#include "dp/fdio.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"
#include "sys/netlink.h"
#include "sys/netns.h"
#include "sys/tuntap.h"

static_assert(sizeof(struct virtio_net_hdr) == 10, "virtio_net_hdr layout");

/* The mergeable-buffers variant is 2 bytes longer; arcnat never sets them. */
#define FDIO_VNET_MAX 12

int dp_fdio_rx_burst(struct dp_port *p, int fd, size_t vnet_len,
		     struct dp_buf **bufs, unsigned int n)
{
	uint8_t hdr[FDIO_VNET_MAX] = { 0 };
	unsigned int got = 0;

	if (vnet_len > sizeof(hdr))
		return -EINVAL;
	while (got < n) {
		struct dp_buf *b = bufs[got];
		struct iovec iov[2];
		ssize_t r;

		dp_buf_reset(b);
		iov[0] = (struct iovec){ hdr, vnet_len };
		iov[1] = (struct iovec){ b->data, dp_buf_room(b) };
		r = readv(fd, iov + (vnet_len ? 0 : 1), vnet_len ? 2 : 1);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == EIO || errno == EBADFD || errno == ENODEV)
				return got ? (int)got : -errno;
			p->stats.rx_errors++;
			break;
		}
		if ((size_t)r <= vnet_len) {
			p->stats.rx_errors++;
			continue;
		}
		b->len = (uint32_t)((size_t)r - vnet_len);
		if (vnet_len) {
			pkt_vnet_from_wire(&b->vnet, (const struct virtio_net_hdr *)hdr);
			b->flags |= DP_BUF_VNET;
		}
		p->stats.rx_packets++;
		p->stats.rx_bytes += b->len;
		got++;
	}
	return (int)got;
}

unsigned int dp_fdio_tx_burst(struct dp_port *p, int fd, size_t vnet_len,
			      struct dp_buf **bufs, unsigned int n)
{
	uint8_t hdr[FDIO_VNET_MAX] = { 0 };

	if (vnet_len > sizeof(hdr)) {
		p->stats.tx_dropped += n;
		return n;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct dp_buf *b = bufs[i];
		struct iovec iov[2];
		ssize_t r;

		dp_buf_check(b, 0);
		pkt_vnet_to_wire((struct virtio_net_hdr *)hdr, &b->vnet);
		iov[0] = (struct iovec){ hdr, vnet_len };
		iov[1] = (struct iovec){ b->data, b->len };
		do {
			r = writev(fd, iov + (vnet_len ? 0 : 1), vnet_len ? 2 : 1);
		} while (r < 0 && errno == EINTR);
		if (r < 0) {
			/* The kernel's queue is full: not now (port.h). */
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return i;
			p->stats.tx_dropped++;
			continue;
		}
		p->stats.tx_packets++;
		p->stats.tx_bytes += b->len;
	}
	return n;
}

struct fdio_port {
	struct dp_port port;
	size_t vnet_len;
};

static struct fdio_port *fdio_port(struct dp_port *p)
{
	return container_of(p, struct fdio_port, port);
}

static int fdio_port_rx(struct dp_port *p, struct dp_buf **bufs,
			unsigned int n, uint64_t now)
{
	(void)now;
	return dp_fdio_rx_burst(p, p->fd, fdio_port(p)->vnet_len, bufs, n);
}

static unsigned int fdio_port_tx(struct dp_port *p, struct dp_buf **bufs,
				 unsigned int n, uint64_t now)
{
	(void)now;
	return dp_fdio_tx_burst(p, p->fd, fdio_port(p)->vnet_len, bufs, n);
}

static void fdio_port_destroy(struct dp_port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(fdio_port(p));
}

static const struct dp_port_ops fdio_port_ops = {
	.rx_burst = fdio_port_rx,
	.tx_burst = fdio_port_tx,
	.destroy = fdio_port_destroy,
};

int dp_fdio_port_create(struct dp_port **out, int fd, uint32_t flags,
			size_t vnet_len, unsigned int mtu, const char *name)
{
	struct fdio_port *fp = calloc(1, sizeof(*fp));

	if (!fp) {
		close(fd);
		return -ENOMEM;
	}
	fp->port.ops = &fdio_port_ops;
	fp->port.fd = fd;
	fp->port.flags = vnet_len ? flags : flags & ~DP_PORT_VNET;
	fp->port.mtu = mtu;
	snprintf(fp->port.name, sizeof(fp->port.name), "%s", name);
	fp->vnet_len = vnet_len;
	*out = &fp->port;
	return 0;
}

/* Bring the device up with its MTU and route, in the current namespace. */
static int fdio_setup_link(const struct dp_fdio_dev *d, const char *ifname,
			   unsigned int *mtu)
{
	unsigned int ifindex;
	struct nl *nl = NULL;
	const char *step;
	int err;

	step = "netlink";
	err = nl_open(&nl);
	if (err)
		goto out;
	step = "find";
	err = nl_link_index(nl, ifname, &ifindex);
	if (err)
		goto out;
	if (d->mtu) {
		step = "set the MTU of";
		err = nl_link_set_mtu(nl, ifindex, d->mtu);
		if (err)
			goto out;
	}
	step = "bring up";
	err = nl_link_set_up(nl, ifindex, true);
	if (err)
		goto out;
	if (d->route_plen) {
		step = "add the route via";
		err = nl_route4_add(nl, d->route_dst, d->route_plen, 0, ifindex);
		if (err)
			goto out;
	}
	step = "read";
	err = nl_link_info(nl, ifindex, NULL, mtu, NULL);
out:
	if (err)
		log_err("%s: cannot %s the device: %s", ifname, step,
			strerror(-err));
	nl_close(nl);
	return err;
}

int dp_fdio_open(struct dp_port **out, const struct dp_fdio_dev *d)
{
	unsigned int flags = TUNTAP_VNET | (d->tap ? TUNTAP_TAP : 0) |
			     (d->multi_queue ? TUNTAP_MULTI_QUEUE : 0);
	char ifname[IFNAMSIZ] = "";
	char name[DP_PORT_NAME_MAX];
	unsigned int offloads = 0, mtu = 0;
	int saved = -1, fd, err;

	*out = NULL;
	if (d->netns) {
		err = netns_enter(d->netns, &saved);
		if (err) {
			log_err("network namespace %s: %s", d->netns,
				strerror(-err));
			return err;
		}
	}
	fd = tuntap_open(d->ifname, flags, ifname, &offloads);
	if (fd < 0) {
		err = fd;
		log_err("%s: cannot open the %s device: %s", d->ifname,
			d->tap ? "TAP" : "TUN", strerror(-err));
		goto out;
	}
	err = fdio_setup_link(d, ifname, &mtu);
	if (err) {
		close(fd);
		goto out;
	}
	log_info("%s: %s%s%s up, MTU %u, offloads%s%s%s%s%s", ifname,
		 d->tap ? "TAP" : "TUN", d->netns ? " in " : "",
		 d->netns ? d->netns : "", mtu,
		 offloads & TUNTAP_OFF_CSUM ? " csum" : " none",
		 offloads & TUNTAP_OFF_TSO4 ? " tso4" : "",
		 offloads & TUNTAP_OFF_TSO6 ? " tso6" : "",
		 offloads & TUNTAP_OFF_USO4 ? " uso4" : "",
		 offloads & TUNTAP_OFF_USO6 ? " uso6" : "");
	snprintf(name, sizeof(name), "%s%s%s", ifname, d->netns ? "@" : "",
		 d->netns ? d->netns : "");
	err = dp_fdio_port_create(out, fd,
				  DP_PORT_VNET | (d->tap ? 0 : DP_PORT_L3),
				  TUNTAP_VNET_HDR_LEN, mtu, name);
out:
	if (saved >= 0) {
		int e = netns_leave(saved);

		if (e && !err) {
			/* Staying in the wrong namespace is not survivable. */
			log_err("cannot return to arcnat's namespace: %s",
				strerror(-e));
			if (*out)
				dp_port_destroy(*out);
			*out = NULL;
			err = e;
		}
	}
	return err;
}
