// SPDX-License-Identifier: MIT
/*
 * vhost_msg.c - vhost-user messages: the parser of untrusted frontend bytes,
 * the reply builders and the bounded receive.
 */
#include "guest/vhost_msg.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pkt/cursor.h"

static const char *const err_names[] = {
#define VHOST_ERR_NAME(sym, name, desc) [VHOST_ERR_##sym] = (name),
	VHOST_ERR_LIST(VHOST_ERR_NAME)
#undef VHOST_ERR_NAME
};

const char *vhost_err_name(enum vhost_err e)
{
	if ((unsigned int)e >= VHOST_ERR__MAX)
		return "invalid";
	return err_names[e];
}

/* What a request carries: payload kind and descriptors. */
enum payload {
	PL_NONE,	/* size 0 */
	PL_U64,
	PL_STATE,
	PL_ADDR,
	PL_MEM,		/* 8 + 32 * nregions */
	PL_LOG,
};

enum fdrule {
	FD_NONE,	/* no descriptor */
	FD_ONE,		/* exactly one */
	FD_VRING,	/* one unless the u64 has VHOST_USER_VRING_NOFD */
	FD_REGIONS,	/* one per memory region */
};

struct req_desc {
	uint8_t payload;
	uint8_t fds;
};

static const struct req_desc req_table[VHOST_USER_REQ_MAX] = {
	[VHOST_USER_GET_FEATURES] = { PL_NONE, FD_NONE },
	[VHOST_USER_SET_FEATURES] = { PL_U64, FD_NONE },
	[VHOST_USER_SET_OWNER] = { PL_NONE, FD_NONE },
	[VHOST_USER_RESET_OWNER] = { PL_NONE, FD_NONE },
	[VHOST_USER_SET_MEM_TABLE] = { PL_MEM, FD_REGIONS },
	[VHOST_USER_SET_LOG_BASE] = { PL_LOG, FD_ONE },
	[VHOST_USER_SET_LOG_FD] = { PL_NONE, FD_ONE },
	[VHOST_USER_SET_VRING_NUM] = { PL_STATE, FD_NONE },
	[VHOST_USER_SET_VRING_ADDR] = { PL_ADDR, FD_NONE },
	[VHOST_USER_SET_VRING_BASE] = { PL_STATE, FD_NONE },
	[VHOST_USER_GET_VRING_BASE] = { PL_STATE, FD_NONE },
	[VHOST_USER_SET_VRING_KICK] = { PL_U64, FD_VRING },
	[VHOST_USER_SET_VRING_CALL] = { PL_U64, FD_VRING },
	[VHOST_USER_SET_VRING_ERR] = { PL_U64, FD_VRING },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { PL_NONE, FD_NONE },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { PL_U64, FD_NONE },
	[VHOST_USER_GET_QUEUE_NUM] = { PL_NONE, FD_NONE },
	[VHOST_USER_SET_VRING_ENABLE] = { PL_STATE, FD_NONE },
	[VHOST_USER_SEND_RARP] = { PL_U64, FD_NONE },
	[VHOST_USER_NET_SET_MTU] = { PL_U64, FD_NONE },
};

static void close_all(const int *fds, unsigned int nfds)
{
	unsigned int i;

	for (i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			(void)close(fds[i]);
	}
}

static uint32_t payload_size(enum payload pl, uint32_t nregions)
{
	switch (pl) {
	case PL_U64:
		return 8;
	case PL_STATE:
		return sizeof(struct vhost_msg_state);
	case PL_ADDR:
		return sizeof(struct vhost_msg_addr);
	case PL_MEM:
		return 8 + nregions * (uint32_t)sizeof(struct vhost_msg_region);
	case PL_LOG:
		return sizeof(struct vhost_msg_log);
	case PL_NONE:
	default:
		return 0;
	}
}

/* Decode the payload (host order) once its size is known to be right. */
static enum vhost_err decode(struct vhost_msg *m, struct pkt_cursor *c,
			     enum payload pl)
{
	uint32_t i;
	bool ok = true;

	switch (pl) {
	case PL_U64:
		ok = pkt_cursor_copy(c, &m->u64, 8);
		m->u64 = le64toh(m->u64);
		break;
	case PL_STATE:
		ok = pkt_cursor_copy(c, &m->state, sizeof(m->state));
		m->state.index = le32toh(m->state.index);
		m->state.num = le32toh(m->state.num);
		break;
	case PL_ADDR:
		ok = pkt_cursor_copy(c, &m->addr, sizeof(m->addr));
		m->addr.index = le32toh(m->addr.index);
		m->addr.flags = le32toh(m->addr.flags);
		m->addr.desc = le64toh(m->addr.desc);
		m->addr.used = le64toh(m->addr.used);
		m->addr.avail = le64toh(m->addr.avail);
		m->addr.log = le64toh(m->addr.log);
		break;
	case PL_MEM:
		/* nregions was read and bounded by the caller. */
		ok = pkt_cursor_skip(c, 8);
		for (i = 0; ok && i < m->mem.nregions; i++) {
			struct vhost_msg_region *r = &m->mem.region[i];

			ok = pkt_cursor_copy(c, r, sizeof(*r));
			r->gpa = le64toh(r->gpa);
			r->size = le64toh(r->size);
			r->uva = le64toh(r->uva);
			r->mmap_offset = le64toh(r->mmap_offset);
		}
		break;
	case PL_LOG:
		ok = pkt_cursor_copy(c, &m->log, sizeof(m->log));
		m->log.size = le64toh(m->log.size);
		m->log.offset = le64toh(m->log.offset);
		break;
	case PL_NONE:
	default:
		break;
	}
	return ok ? VHOST_ERR_NONE : VHOST_ERR_TRUNCATED;
}

static unsigned int fds_wanted(const struct vhost_msg *m, enum fdrule rule)
{
	switch (rule) {
	case FD_ONE:
		return 1;
	case FD_VRING:
		return (m->u64 & VHOST_USER_VRING_NOFD) ? 0 : 1;
	case FD_REGIONS:
		return m->mem.nregions;
	case FD_NONE:
	default:
		return 0;
	}
}

static enum vhost_err parse(struct vhost_msg *m, const uint8_t *buf, size_t len,
			    unsigned int nfds)
{
	struct pkt_cursor c;
	uint32_t hdr[3];
	const struct req_desc *rd;
	uint32_t want;
	enum vhost_err e;

	pkt_cursor_init(&c, buf, len);
	if (!pkt_cursor_copy(&c, hdr, sizeof(hdr)))
		return VHOST_ERR_TRUNCATED;
	m->request = le32toh(hdr[0]);
	m->flags = le32toh(hdr[1]);
	m->size = le32toh(hdr[2]);

	if (m->request == 0 || m->request >= VHOST_USER_REQ_MAX)
		return VHOST_ERR_UNKNOWN_REQ;
	if ((m->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return VHOST_ERR_BAD_VERSION;
	/* A frontend sends requests, never replies; no other bit is defined. */
	if (m->flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_NEED_REPLY))
		return VHOST_ERR_BAD_FLAGS;
	rd = &req_table[m->request];

	if (rd->payload == PL_MEM) {
		const uint8_t *nreg = pkt_cursor_peek(&c, 4);
		uint32_t n;

		if (m->size < 8 || !nreg)
			return m->size < 8 ? VHOST_ERR_BAD_SIZE :
					     VHOST_ERR_TRUNCATED;
		memcpy(&n, nreg, 4);	/* the buffer need not be aligned */
		m->mem.nregions = le32toh(n);
		if (m->mem.nregions > VHOST_MSG_MAX_REGIONS)
			return VHOST_ERR_TOO_MANY_REGIONS;
		m->mem.padding = 0;
	}
	want = payload_size(rd->payload, m->mem.nregions);
	if (m->size != want)
		return VHOST_ERR_BAD_SIZE;
	if (pkt_cursor_remaining(&c) != m->size)
		return pkt_cursor_remaining(&c) < m->size ?
			       VHOST_ERR_TRUNCATED :
			       VHOST_ERR_BAD_SIZE;
	e = decode(m, &c, (enum payload)rd->payload);
	if (e)
		return e;
	if (nfds != fds_wanted(m, (enum fdrule)rd->fds))
		return VHOST_ERR_BAD_FD_COUNT;
	return VHOST_ERR_NONE;
}

enum vhost_err vhost_msg_parse(struct vhost_msg *m, const uint8_t *buf,
			       size_t len, const int *fds, unsigned int nfds)
{
	enum vhost_err e;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	if (nfds > VHOST_MSG_MAX_FDS) {
		close_all(fds, nfds);
		return VHOST_ERR_BAD_FD_COUNT;
	}
	e = parse(m, buf, len, nfds);
	if (e) {
		close_all(fds, nfds);
		m->nfds = 0;
		return e;
	}
	for (i = 0; i < nfds; i++)
		m->fds[i] = fds[i];
	m->nfds = nfds;
	return VHOST_ERR_NONE;
}

void vhost_msg_close_fds(struct vhost_msg *m)
{
	if (!m)
		return;
	close_all(m->fds, m->nfds);
	m->nfds = 0;
}

int vhost_msg_take_fd(struct vhost_msg *m)
{
	int fd;

	if (m->nfds == 0)
		return -1;
	fd = m->fds[0];
	memmove(&m->fds[0], &m->fds[1], (m->nfds - 1) * sizeof(m->fds[0]));
	m->nfds--;
	return fd;
}

static void put_hdr(uint8_t *buf, uint32_t request, uint32_t size)
{
	uint32_t hdr[3] = {
		htole32(request),
		htole32(VHOST_USER_VERSION | VHOST_USER_REPLY),
		htole32(size),
	};

	memcpy(buf, hdr, sizeof(hdr));
}

size_t vhost_msg_build_u64(uint8_t *buf, uint32_t request, uint64_t v)
{
	uint64_t le = htole64(v);

	put_hdr(buf, request, 8);
	memcpy(buf + VHOST_MSG_HDR_SIZE, &le, 8);
	return VHOST_MSG_HDR_SIZE + 8;
}

size_t vhost_msg_build_state(uint8_t *buf, uint32_t request, uint32_t index,
			     uint32_t num)
{
	uint32_t st[2] = { htole32(index), htole32(num) };

	put_hdr(buf, request, 8);
	memcpy(buf + VHOST_MSG_HDR_SIZE, st, sizeof(st));
	return VHOST_MSG_HDR_SIZE + 8;
}

/* Read exactly n bytes (the rest of a message); no descriptors expected. */
static int read_full(int sock, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = recv(sock, p, n, MSG_WAITALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPROTO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int vhost_msg_recv(int sock, uint8_t *buf, size_t *len, int *fds,
		   unsigned int *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VHOST_MSG_MAX_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = VHOST_MSG_HDR_SIZE };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	uint32_t size;
	ssize_t r;
	int rc;

	*len = 0;
	*nfds = 0;
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EPIPE;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > VHOST_MSG_MAX_FDS - *nfds)
			n = VHOST_MSG_MAX_FDS - *nfds;
		memcpy(fds + *nfds, CMSG_DATA(cm), n * sizeof(int));
		*nfds += (unsigned int)n;
	}
	rc = 0;
	if (mh.msg_flags & MSG_CTRUNC)
		rc = -EPROTO;	/* the kernel closed what did not fit */
	else if ((size_t)r < VHOST_MSG_HDR_SIZE)
		rc = read_full(sock, buf + r, VHOST_MSG_HDR_SIZE - (size_t)r);
	if (rc)
		goto fail;
	*len = VHOST_MSG_HDR_SIZE;
	memcpy(&size, buf + 8, 4);
	size = le32toh(size);
	if (size > VHOST_MSG_MAX_PAYLOAD)
		return 0;	/* the parser refuses it: BAD_SIZE */
	rc = read_full(sock, buf + VHOST_MSG_HDR_SIZE, size);
	if (rc)
		goto fail;
	*len += size;
	return 0;
fail:
	close_all(fds, *nfds);
	*nfds = 0;
	*len = 0;
	return rc;
}
