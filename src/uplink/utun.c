// SPDX-License-Identifier: MIT
/*
 * utun.c - macOS utun uplink. Never built or run: arcnat does not build on
 * macOS yet (see utun.h).
 */
#include "uplink/utun.h"

#ifdef __APPLE__

#include <errno.h>
#include <net/if_utun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/kern_control.h>
#include <sys/socket.h>
#include <sys/sys_domain.h>
#include <sys/uio.h>
#include <unistd.h>
#include <fcntl.h>

#define UTUN_AF_LEN 4

static int utun_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		   uint64_t now)
{
	unsigned int got = 0;

	(void)now;
	while (got < n) {
		struct dp_buf *b = bufs[got];
		uint8_t af[UTUN_AF_LEN];
		struct iovec iov[2];
		ssize_t r;

		dp_buf_reset(b);
		iov[0] = (struct iovec){ af, sizeof(af) };
		iov[1] = (struct iovec){ b->data, dp_buf_room(b) };
		r = readv(p->fd, iov, 2);
		if (r < 0)
			break;
		if (r <= UTUN_AF_LEN) {
			p->stats.rx_errors++;
			continue;
		}
		b->len = (uint32_t)(r - UTUN_AF_LEN);
		p->stats.rx_packets++;
		p->stats.rx_bytes += b->len;
		got++;
	}
	return (int)got;
}

static unsigned int utun_tx(struct dp_port *p, struct dp_buf **bufs,
			    unsigned int n, uint64_t now)
{
	(void)now;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t af;
		struct iovec iov[2];

		dp_buf_check(bufs[i], 0);
		af = htonl(bufs[i]->len && (bufs[i]->data[0] >> 4) == 6 ?
				   AF_INET6 : AF_INET);
		iov[0] = (struct iovec){ &af, sizeof(af) };
		iov[1] = (struct iovec){ bufs[i]->data, bufs[i]->len };
		if (writev(p->fd, iov, 2) < 0) {
			/* The kernel's queue is full: not now (dp/port.h). */
			if (errno == EAGAIN || errno == ENOBUFS)
				return i;
			p->stats.tx_dropped++;
			continue;
		}
		p->stats.tx_packets++;
		p->stats.tx_bytes += bufs[i]->len;
	}
	return n;
}

static void utun_destroy(struct dp_port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

static const struct dp_port_ops utun_ops = {
	.rx_burst = utun_rx,
	.tx_burst = utun_tx,
	.destroy = utun_destroy,
};

int utun_uplink_open(struct dp_port **out)
{
	struct ctl_info ci = { 0 };
	struct sockaddr_ctl sc = { 0 };
	struct dp_port *p;
	int fd, err;

	fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
	if (fd < 0)
		return -errno;
	snprintf(ci.ctl_name, sizeof(ci.ctl_name), "%s", UTUN_CONTROL_NAME);
	if (ioctl(fd, CTLIOCGINFO, &ci) < 0)
		goto err_errno;
	sc.sc_len = sizeof(sc);
	sc.sc_family = AF_SYSTEM;
	sc.ss_sysaddr = AF_SYS_CONTROL;
	sc.sc_id = ci.ctl_id;
	sc.sc_unit = 0;	/* the next free utunN */
	if (connect(fd, (struct sockaddr *)&sc, sizeof(sc)) < 0)
		goto err_errno;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		goto err_errno;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	p->ops = &utun_ops;
	p->fd = fd;
	p->flags = DP_PORT_L3;
	p->mtu = 1500;
	snprintf(p->name, sizeof(p->name), "utun");
	*out = p;
	return 0;
err_errno:
	err = -errno;
	close(fd);
	return err;
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int utun_uplink_linux_placeholder;
#endif /* __APPLE__ */
