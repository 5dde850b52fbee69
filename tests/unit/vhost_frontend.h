/* SPDX-License-Identifier: MIT */
/*
 * vhost_frontend.h - the frontend half of vhost-user for tests: build a
 * message as QEMU would and send it with its descriptors, read a reply, make
 * memfd guest memory.
 */
#ifndef ARCNAT_TESTS_VHOST_FRONTEND_H
#define ARCNAT_TESTS_VHOST_FRONTEND_H

#include <endian.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest/vhost_msg.h"

/* Header + payload into buf; return its length. */
static inline size_t fe_build(uint8_t *buf, uint32_t req, uint32_t flags,
			      const void *payload, uint32_t size)
{
	uint32_t hdr[3] = { htole32(req), htole32(flags), htole32(size) };

	memcpy(buf, hdr, sizeof(hdr));
	if (size)
		memcpy(buf + sizeof(hdr), payload, size);
	return sizeof(hdr) + size;
}

/* Send buf[0, len) with nfds descriptors (copies: the caller keeps its own). */
static inline int fe_send_raw(int sock, const uint8_t *buf, size_t len,
			      const int *fds, unsigned int nfds)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&ctl, 0, sizeof(ctl));
	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static inline int fe_send(int sock, uint32_t req, uint32_t flags,
			  const void *payload, uint32_t size, const int *fds,
			  unsigned int nfds)
{
	uint8_t buf[VHOST_MSG_MAX_SIZE + 64];

	return fe_send_raw(sock, buf, fe_build(buf, req, flags, payload, size),
			   fds, nfds);
}

/* Read one reply (header + 8 bytes); return its u64 payload, or ~0. */
static inline uint64_t fe_reply_u64(int sock, uint32_t want_req)
{
	uint8_t b[VHOST_MSG_HDR_SIZE + 8];
	uint32_t hdr[3];
	uint64_t v;

	if (recv(sock, b, sizeof(b), MSG_WAITALL) != (ssize_t)sizeof(b))
		return ~0ull;
	memcpy(hdr, b, sizeof(hdr));
	if (le32toh(hdr[0]) != want_req ||
	    le32toh(hdr[1]) != (VHOST_USER_VERSION | VHOST_USER_REPLY) ||
	    le32toh(hdr[2]) != 8)
		return ~0ull;
	memcpy(&v, b + VHOST_MSG_HDR_SIZE, 8);
	return le64toh(v);
}

/* A memfd of len bytes sealed against shrinking (as QEMU's are), mapped;
 * the mapping goes to *map. */
static inline int fe_memfd(size_t len, uint8_t **map)
{
	int fd = memfd_create("arcnat-test-guest",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(fd);
		return -1;
	}
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline bool fe_fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

#endif /* ARCNAT_TESTS_VHOST_FRONTEND_H */
