// SPDX-License-Identifier: MIT
/*
 * test_vhost_msg.c - unit tests for src/guest/vhost_msg and
 * src/guest/vhost_dev.
 *
 * The parser: every payload kind decodes; every class of bad message (short,
 * unknown request, bad version or flags, wrong size, too many regions, wrong
 * descriptor count) is refused with its reason and its descriptors closed.
 * The device: the messages QEMU 7.2 sends to bring up a vhost-user-net
 * backend with one queue pair, over a socketpair with memfd guest memory,
 * leave the expected state (features, memory table, ring pointers into the
 * right place of the right region, descriptors owned) and the right replies,
 * and the rings then carry a frame each way through guest memory;
 * then each bad message is refused with its reason, answered with a failed
 * reply-ack, and leaves the device byte for byte as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <linux/virtio_net.h>
#include <sys/eventfd.h>

#include "test_exit.h"
#include "unit/vhost_frontend.h"
#include "guest/vhost_dev.h"
#include "guest/vhost_msg.h"

#define MEM_A   (1u << 20)
#define OFF_B   4096u
#define UVA_A   0x7f0000000000ull
#define UVA_B   0x7f0000200000ull
#define GPA_B   0x100000000ull
#define NUM     256u

/* Ring areas inside region A, as offsets. */
static const uint64_t ring_off[2][3] = {
	{ 0x0000, 0x1000, 0x2000 },	/* rx: desc, avail, used */
	{ 0x4000, 0x5000, 0x6000 },	/* tx */
};

static int parse_bytes(struct vhost_msg *m, uint32_t req, uint32_t flags,
		       const void *pl, uint32_t size, const int *fds,
		       unsigned int nfds)
{
	uint8_t buf[VHOST_MSG_MAX_SIZE + 64];
	size_t len = fe_build(buf, req, flags, pl, size);

	return vhost_msg_parse(m, buf, len, fds, nfds);
}

static void make_fds(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(fds[i] >= 0);
	}
}

static void test_parse_payloads(void **state)
{
	struct vhost_msg m;
	uint64_t u = htole64(0x123456789ull);
	uint32_t st[2] = { htole32(1), htole32(256) };
	uint64_t addr[5];
	uint8_t mem[8 + 32 * 2];
	uint32_t two = htole32(2);
	int fds[2];
	(void)state;

	assert_int_equal(parse_bytes(&m, VHOST_USER_GET_FEATURES, 1, NULL, 0,
				     NULL, 0), VHOST_ERR_NONE);
	assert_int_equal(m.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_FEATURES,
				     1 | VHOST_USER_NEED_REPLY, &u, 8, NULL, 0),
			 VHOST_ERR_NONE);
	assert_int_equal(m.u64, 0x123456789ull);
	assert_int_equal(m.flags, 1 | VHOST_USER_NEED_REPLY);
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_VRING_NUM, 1, st, 8,
				     NULL, 0), VHOST_ERR_NONE);
	assert_int_equal(m.state.index, 1);
	assert_int_equal(m.state.num, 256);

	((uint32_t *)addr)[0] = htole32(1);
	((uint32_t *)addr)[1] = 0;
	addr[1] = htole64(0x1000);
	addr[2] = htole64(0x3000);
	addr[3] = htole64(0x2000);
	addr[4] = 0;
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_VRING_ADDR, 1, addr, 40,
				     NULL, 0), VHOST_ERR_NONE);
	assert_int_equal(m.addr.index, 1);
	assert_int_equal(m.addr.desc, 0x1000);
	assert_int_equal(m.addr.used, 0x3000);
	assert_int_equal(m.addr.avail, 0x2000);

	memset(mem, 0, sizeof(mem));
	memcpy(mem, &two, 4);
	mem[8 + 32 + 0] = 0x10;	/* region 1 gpa 0x10 */
	make_fds(fds, 2);
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_MEM_TABLE, 1, mem,
				     sizeof(mem), fds, 2), VHOST_ERR_NONE);
	assert_int_equal(m.mem.nregions, 2);
	assert_int_equal(m.mem.region[1].gpa, 0x10);
	assert_int_equal(m.nfds, 2);
	assert_int_equal(vhost_msg_take_fd(&m), fds[0]);
	assert_int_equal(m.nfds, 1);
	vhost_msg_close_fds(&m);
	assert_true(fe_fd_open(fds[0]));
	assert_false(fe_fd_open(fds[1]));
	close(fds[0]);

	/* A kick with its descriptor, and one that says it has none. */
	make_fds(fds, 1);
	u = htole64(1);
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_VRING_KICK, 1, &u, 8,
				     fds, 1), VHOST_ERR_NONE);
	vhost_msg_close_fds(&m);
	u = htole64(1 | VHOST_USER_VRING_NOFD);
	assert_int_equal(parse_bytes(&m, VHOST_USER_SET_VRING_CALL, 1, &u, 8,
				     NULL, 0), VHOST_ERR_NONE);
	assert_int_equal(m.nfds, 0);
}

struct bad_case {
	const char *what;
	uint32_t req;
	uint32_t flags;
	uint32_t size;		/* header's size field */
	uint32_t have;		/* payload bytes actually present */
	uint32_t nregions;	/* for SET_MEM_TABLE */
	uint64_t u64;		/* first 8 payload bytes */
	unsigned int nfds;
	enum vhost_err want;
};

static const struct bad_case bad_cases[] = {
	{ "unknown request 0", 0, 1, 0, 0, 0, 0, 0, VHOST_ERR_UNKNOWN_REQ },
	{ "unknown request 40", 40, 1, 0, 0, 0, 0, 0, VHOST_ERR_UNKNOWN_REQ },
	{ "version 0", VHOST_USER_GET_FEATURES, 0, 0, 0, 0, 0, 0,
	  VHOST_ERR_BAD_VERSION },
	{ "version 2", VHOST_USER_GET_FEATURES, 2, 0, 0, 0, 0, 0,
	  VHOST_ERR_BAD_VERSION },
	{ "reply bit", VHOST_USER_GET_FEATURES, 1 | VHOST_USER_REPLY, 0, 0, 0,
	  0, 0, VHOST_ERR_BAD_FLAGS },
	{ "unknown flag", VHOST_USER_GET_FEATURES, 1 | 0x100, 0, 0, 0, 0, 0,
	  VHOST_ERR_BAD_FLAGS },
	{ "payload on GET_FEATURES", VHOST_USER_GET_FEATURES, 1, 8, 8, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "u64 of 4", VHOST_USER_SET_FEATURES, 1, 4, 4, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "u64 of 16", VHOST_USER_SET_FEATURES, 1, 16, 16, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "size beyond bytes", VHOST_USER_SET_FEATURES, 1, 8, 4, 0, 0, 0,
	  VHOST_ERR_TRUNCATED },
	{ "bytes beyond size", VHOST_USER_SET_FEATURES, 1, 8, 12, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "state of 12", VHOST_USER_SET_VRING_NUM, 1, 12, 12, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "addr of 32", VHOST_USER_SET_VRING_ADDR, 1, 32, 32, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "mem of 9 regions", VHOST_USER_SET_MEM_TABLE, 1, 8 + 32 * 9,
	  8 + 32 * 9, 9, 0, 8, VHOST_ERR_TOO_MANY_REGIONS },
	{ "mem size for 2, says 1", VHOST_USER_SET_MEM_TABLE, 1, 8 + 64,
	  8 + 64, 1, 0, 1, VHOST_ERR_BAD_SIZE },
	{ "mem of 4 bytes", VHOST_USER_SET_MEM_TABLE, 1, 4, 4, 0, 0, 0,
	  VHOST_ERR_BAD_SIZE },
	{ "mem 2 regions 1 fd", VHOST_USER_SET_MEM_TABLE, 1, 8 + 64, 8 + 64, 2,
	  0, 1, VHOST_ERR_BAD_FD_COUNT },
	{ "mem 1 region 2 fds", VHOST_USER_SET_MEM_TABLE, 1, 8 + 32, 8 + 32, 1,
	  0, 2, VHOST_ERR_BAD_FD_COUNT },
	{ "kick without fd", VHOST_USER_SET_VRING_KICK, 1, 8, 8, 0, 0, 0,
	  VHOST_ERR_BAD_FD_COUNT },
	{ "call NOFD with fd", VHOST_USER_SET_VRING_CALL, 1, 8, 8, 0,
	  VHOST_USER_VRING_NOFD, 1, VHOST_ERR_BAD_FD_COUNT },
	{ "err with 2 fds", VHOST_USER_SET_VRING_ERR, 1, 8, 8, 0, 0, 2,
	  VHOST_ERR_BAD_FD_COUNT },
	{ "fd on SET_OWNER", VHOST_USER_SET_OWNER, 1, 0, 0, 0, 0, 1,
	  VHOST_ERR_BAD_FD_COUNT },
	{ "9 fds", VHOST_USER_SET_OWNER, 1, 0, 0, 0, 0, 9,
	  VHOST_ERR_BAD_FD_COUNT },
	{ "log base without fd", VHOST_USER_SET_LOG_BASE, 1, 16, 16, 0, 0, 0,
	  VHOST_ERR_BAD_FD_COUNT },
};

static void test_parse_refused(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		uint8_t buf[VHOST_MSG_HDR_SIZE + 512];
		uint32_t hdr[3] = { htole32(bc->req), htole32(bc->flags),
				    htole32(bc->size) };
		uint32_t nreg = htole32(bc->nregions);
		uint64_t u = htole64(bc->u64);
		struct vhost_msg m;
		int fds[9];
		unsigned int k;

		memset(buf, 0, sizeof(buf));
		memcpy(buf, hdr, sizeof(hdr));
		if (bc->req == VHOST_USER_SET_MEM_TABLE)
			memcpy(buf + VHOST_MSG_HDR_SIZE, &nreg, 4);
		else
			memcpy(buf + VHOST_MSG_HDR_SIZE, &u, 8);
		make_fds(fds, bc->nfds);
		print_message("case: %s\n", bc->what);
		assert_int_equal(vhost_msg_parse(&m, buf,
						 VHOST_MSG_HDR_SIZE + bc->have,
						 fds, bc->nfds),
				 bc->want);
		assert_int_equal(m.nfds, 0);
		/* Refused: every descriptor that came with it is closed. */
		for (k = 0; k < bc->nfds; k++)
			assert_false(fe_fd_open(fds[k]));
	}
}

static void test_parse_short(void **state)
{
	uint8_t buf[VHOST_MSG_HDR_SIZE];
	struct vhost_msg m;
	size_t n;
	(void)state;

	fe_build(buf, VHOST_USER_GET_FEATURES, 1, NULL, 0);
	for (n = 0; n < VHOST_MSG_HDR_SIZE; n++)
		assert_int_equal(vhost_msg_parse(&m, buf, n, NULL, 0),
				 VHOST_ERR_TRUNCATED);
	assert_string_equal(vhost_err_name(VHOST_ERR_BAD_FD_COUNT),
			    "bad_fd_count");
	assert_string_equal(vhost_err_name(VHOST_ERR__MAX), "invalid");
}

/* ---- the device, driven over a socketpair as QEMU 7.2 drives it ---- */

struct fe {
	int sv[2];		/* [0] frontend, [1] backend */
	int memfd[2];
	uint8_t *map[2];
	size_t maplen[2];
	struct vhost_dev dev;
};

static struct fe fe;

static int fe_setup(void **state)
{
	(void)state;
	memset(&fe, 0, sizeof(fe));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe.sv))
		return -1;
	fe.maplen[0] = MEM_A;
	fe.maplen[1] = OFF_B + MEM_A;
	fe.memfd[0] = fe_memfd(fe.maplen[0], &fe.map[0]);
	fe.memfd[1] = fe_memfd(fe.maplen[1], &fe.map[1]);
	if (fe.memfd[0] < 0 || fe.memfd[1] < 0)
		return -1;
	vhost_dev_init(&fe.dev);
	return 0;
}

static int fe_teardown(void **state)
{
	unsigned int i;
	(void)state;

	vhost_dev_destroy(&fe.dev);
	for (i = 0; i < 2; i++) {
		munmap(fe.map[i], fe.maplen[i]);
		close(fe.memfd[i]);
		close(fe.sv[i]);
	}
	return 0;
}

/* Frontend sends, backend serves one message; return serve's result. */
static int xfer(uint32_t req, uint32_t flags, const void *pl, uint32_t size,
		const int *fds, unsigned int nfds)
{
	assert_int_equal(fe_send(fe.sv[0], req, flags, pl, size, fds, nfds), 0);
	return vhost_dev_serve(&fe.dev, fe.sv[1]);
}

static int xfer_u64(uint32_t req, uint32_t flags, uint64_t v, const int *fds,
		    unsigned int nfds)
{
	uint64_t le = htole64(v);

	return xfer(req, flags, &le, 8, fds, nfds);
}

static int xfer_state(uint32_t req, uint32_t flags, uint32_t idx, uint32_t num)
{
	uint32_t st[2] = { htole32(idx), htole32(num) };

	return xfer(req, flags, st, 8, NULL, 0);
}

static int xfer_addr_f(uint32_t idx, uint64_t desc, uint64_t used,
		       uint64_t avail, uint32_t flags, uint32_t hflags)
{
	uint8_t a[40];
	uint32_t i32[2] = { htole32(idx), htole32(flags) };
	uint64_t u[4] = { htole64(desc), htole64(used), htole64(avail), 0 };

	memcpy(a, i32, 8);
	memcpy(a + 8, u, 32);
	return xfer(VHOST_USER_SET_VRING_ADDR, hflags, a, 40, NULL, 0);
}

static int xfer_addr(uint32_t idx, uint64_t desc, uint64_t used,
		     uint64_t avail, uint32_t flags)
{
	return xfer_addr_f(idx, desc, used, avail, flags, 1);
}

static int xfer_addr_ack(uint32_t idx, uint64_t desc, uint64_t used,
			 uint64_t avail, uint32_t flags)
{
	return xfer_addr_f(idx, desc, used, avail, flags,
			   1 | VHOST_USER_NEED_REPLY);
}

/* SET_MEM_TABLE with the two test regions (or n of them as given). */
static int xfer_mem(uint32_t flags, const struct vhost_msg_region *r,
		    unsigned int n)
{
	uint8_t pl[8 + 32 * VHOST_MSG_MAX_REGIONS];
	uint32_t nr = htole32(n);
	int fds[VHOST_MSG_MAX_REGIONS];
	unsigned int i;

	memset(pl, 0, sizeof(pl));
	memcpy(pl, &nr, 4);
	for (i = 0; i < n; i++) {
		uint64_t le[4] = { htole64(r[i].gpa), htole64(r[i].size),
				   htole64(r[i].uva),
				   htole64(r[i].mmap_offset) };

		memcpy(pl + 8 + 32 * (size_t)i, le, 32);
		fds[i] = fe.memfd[i % 2];
	}
	return xfer(VHOST_USER_SET_MEM_TABLE, flags, pl, 8 + 32 * n, fds, n);
}

static const struct vhost_msg_region regions[2] = {
	{ 0, MEM_A, UVA_A, 0 },
	{ GPA_B, MEM_A, UVA_B, OFF_B },
};

/* The whole QEMU 7.2 bring-up; ends with both rings started and enabled. */
static void handshake(int *call, int *kick)
{
	const uint32_t ack = 1 | VHOST_USER_NEED_REPLY;
	const uint64_t feat = VHOST_F_VERSION_1 | VHOST_F_NET_MRG_RXBUF |
			      VHOST_F_PROTOCOL_FEATURES | VHOST_F_NET_CSUM |
			      VHOST_F_NET_GUEST_CSUM | VHOST_F_NET_HOST_TSO4;
	unsigned int i;

	/* vhost_user_backend_init() */
	assert_int_equal(xfer(VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0], VHOST_USER_GET_FEATURES),
			 VHOST_DEV_FEATURES);
	assert_int_equal(xfer(VHOST_USER_GET_PROTOCOL_FEATURES, 1, NULL, 0,
			      NULL, 0), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0],
				      VHOST_USER_GET_PROTOCOL_FEATURES),
			 VHOST_PF_MQ | VHOST_PF_REPLY_ACK);
	assert_int_equal(xfer_u64(VHOST_USER_SET_PROTOCOL_FEATURES, 1,
				  VHOST_PF_MQ | VHOST_PF_REPLY_ACK, NULL, 0), 0);
	assert_int_equal(xfer(VHOST_USER_GET_QUEUE_NUM, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0], VHOST_USER_GET_QUEUE_NUM), 1);
	/* vhost_dev_init() */
	assert_int_equal(xfer(VHOST_USER_SET_OWNER, ack, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0], VHOST_USER_SET_OWNER), 0);
	assert_int_equal(xfer(VHOST_USER_GET_FEATURES, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0], VHOST_USER_GET_FEATURES),
			 VHOST_DEV_FEATURES);
	for (i = 0; i < 2; i++)
		assert_int_equal(xfer_u64(VHOST_USER_SET_VRING_CALL, 1, i,
					  &call[i], 1), 0);
	/* vhost_dev_start() */
	assert_int_equal(xfer_u64(VHOST_USER_SET_FEATURES, 1, feat, NULL, 0), 0);
	assert_int_equal(xfer_mem(ack, regions, 2), 0);
	assert_int_equal(fe_reply_u64(fe.sv[0], VHOST_USER_SET_MEM_TABLE), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(xfer_state(VHOST_USER_SET_VRING_NUM, 1, i, NUM),
				 0);
		assert_int_equal(xfer_state(VHOST_USER_SET_VRING_BASE, 1, i, 0),
				 0);
		assert_int_equal(xfer_addr(i, UVA_A + ring_off[i][0],
					   UVA_A + ring_off[i][2],
					   UVA_A + ring_off[i][1], 0), 0);
		assert_int_equal(xfer_u64(VHOST_USER_SET_VRING_KICK, 1, i,
					  &kick[i], 1), 0);
		assert_int_equal(xfer_u64(VHOST_USER_SET_VRING_CALL, 1, i,
					  &call[i], 1), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_false(vhost_dev_ring_ready(&fe.dev, i));
		assert_int_equal(xfer_state(VHOST_USER_SET_VRING_ENABLE, 1, i, 1),
				 0);
		assert_true(vhost_dev_ring_ready(&fe.dev, i));
	}
}

static void test_handshake(void **state)
{
	struct vhost_dev *d = &fe.dev;
	int call[2], kick[2];
	unsigned int i;
	(void)state;

	make_fds(call, 2);
	make_fds(kick, 2);
	handshake(call, kick);

	assert_true(d->owner);
	assert_int_equal(d->protocol_features, VHOST_PF_MQ | VHOST_PF_REPLY_ACK);
	assert_true(d->features & VHOST_F_NET_MRG_RXBUF);
	assert_int_equal(d->mem.n, 2);
	assert_int_equal(d->mem.region[1].gpa, GPA_B);
	/* Region B starts OFF_B into its file: the same bytes as QEMU's. */
	fe.map[1][OFF_B + 5] = 0x5a;
	assert_int_equal(*(uint8_t *)vmem_gpa(&d->mem, GPA_B + 5, 1), 0x5a);
	for (i = 0; i < 2; i++) {
		const struct vhost_dev_ring *r = &d->ring[i];

		assert_true(r->started);
		assert_int_equal(r->vr.num, NUM);
		assert_true(r->vr.mrg_rxbuf);
		assert_int_equal(r->vr.hdr_len, 12);
		/* The ring areas are QEMU's, at the offsets it chose. */
		fe.map[0][ring_off[i][0]] = (uint8_t)(0x11 + i);
		assert_int_equal(*(uint8_t *)r->vr.desc, 0x11 + i);
		assert_ptr_equal((uint8_t *)r->vr.avail - (uint8_t *)r->vr.desc,
				 ring_off[i][1] - ring_off[i][0]);
		assert_ptr_equal((uint8_t *)r->vr.used - (uint8_t *)r->vr.desc,
				 ring_off[i][2] - ring_off[i][0]);
		/* The backend holds its own copies of the descriptors. */
		assert_true(r->kick_fd >= 0 && r->kick_fd != kick[i]);
		assert_true(r->call_fd >= 0 && r->call_fd != call[i]);
	}
	assert_int_equal(d->errors[VHOST_ERR_BAD_STATE], 0);

	/* Stopping: GET_VRING_BASE returns where the ring stopped. */
	d->ring[1].vr.last_avail = 7;
	assert_int_equal(xfer_state(VHOST_USER_GET_VRING_BASE, 1, 1, 0), 0);
	{
		uint8_t b[VHOST_MSG_HDR_SIZE + 8];
		uint32_t v[5];

		assert_int_equal(recv(fe.sv[0], b, sizeof(b), MSG_WAITALL),
				 sizeof(b));
		memcpy(v, b, sizeof(v));
		assert_int_equal(le32toh(v[0]), VHOST_USER_GET_VRING_BASE);
		assert_int_equal(le32toh(v[1]), 1 | VHOST_USER_REPLY);
		assert_int_equal(le32toh(v[3]), 1);
		assert_int_equal(le32toh(v[4]), 7);
	}
	assert_false(d->ring[1].started);
	assert_int_equal(d->ring[1].kick_fd, -1);
	assert_false(vhost_dev_ring_ready(d, 1));

	/* A second memory table replaces the first; started rings follow. */
	assert_int_equal(xfer_mem(1, regions, 2), 0);
	assert_int_equal(d->mem.n, 2);
	fe.map[0][ring_off[0][0]] = 0x77;
	assert_int_equal(*(uint8_t *)d->ring[0].vr.desc, 0x77);

	/* The frontend going away is -EPIPE, not a refusal. */
	close(fe.sv[0]);
	fe.sv[0] = -1;
	assert_int_equal(vhost_dev_serve(d, fe.sv[1]), -EPIPE);
	assert_int_equal(d->errors[VHOST_ERR_IO], 0);
	for (i = 0; i < 2; i++) {
		close(call[i]);
		close(kick[i]);
	}
}

/* Write a descriptor as the guest driver would, into the frontend's mapping. */
static void guest_desc(unsigned int ring, uint16_t i, uint64_t gpa,
		       uint32_t len, uint16_t flags)
{
	struct vring_desc_le dsc = { htole64(gpa), htole32(len),
				     htole16(flags), 0 };

	memcpy(fe.map[0] + ring_off[ring][0] + 16 * (size_t)i, &dsc,
	       sizeof(dsc));
}

static void guest_offer(unsigned int ring, uint16_t slot, uint16_t head)
{
	struct vring_avail_le *a =
		(struct vring_avail_le *)(fe.map[0] + ring_off[ring][1]);

	a->ring[slot] = htole16(head);
	__atomic_store_n(&a->idx, htole16(slot + 1), __ATOMIC_RELEASE);
}

/*
 * After the handshake the rings are live: a frame the guest transmits from
 * region B (mapped at its mmap offset) arrives whole, and a frame given to
 * the guest lands in its buffer with a merged-buffers header.
 */
static void test_handshake_traffic(void **state)
{
	struct vhost_dev *d = &fe.dev;
	struct virtio_net_hdr_mrg_rxbuf h;
	struct pkt_vnet v = { .flags = VNET_F_DATA_VALID };
	const struct vring_used_le *u;
	uint8_t frame[64], out[256];
	int call[2], kick[2];
	size_t len = 0, i;
	(void)state;

	make_fds(call, 2);
	make_fds(kick, 2);
	handshake(call, kick);
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 5);

	/* Transmit: header and frame at GPA_B + 0x100, i.e. file OFF_B + 0x100. */
	memset(fe.map[1] + OFF_B + 0x100, 0, 12);
	memcpy(fe.map[1] + OFF_B + 0x100 + 12, frame, sizeof(frame));
	guest_desc(VHOST_DEV_TX, 0, GPA_B + 0x100, 12 + sizeof(frame), 0);
	guest_offer(VHOST_DEV_TX, 0, 0);
	assert_true(vhost_dev_ring_ready(d, VHOST_DEV_TX));
	assert_int_equal(vring_net_tx(&d->ring[VHOST_DEV_TX].vr, &v, out,
				      sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(frame));
	assert_memory_equal(out, frame, sizeof(frame));
	u = (const struct vring_used_le *)(fe.map[0] + ring_off[VHOST_DEV_TX][2]);
	assert_int_equal(le16toh(u->idx), 1);

	/* Receive into a 2 KiB buffer at guest address 0x8000 (region A). */
	guest_desc(VHOST_DEV_RX, 3, 0x8000, 2048, VRING_DESC_F_WRITE);
	guest_offer(VHOST_DEV_RX, 0, 3);
	v.flags = VNET_F_DATA_VALID;
	assert_int_equal(vring_net_rx(&d->ring[VHOST_DEV_RX].vr, &v, frame,
				      sizeof(frame)), 0);
	memcpy(&h, fe.map[0] + 0x8000, 12);
	assert_int_equal(h.hdr.flags, VNET_F_DATA_VALID);
	assert_int_equal(le16toh(h.num_buffers), 1);
	assert_memory_equal(fe.map[0] + 0x8000 + 12, frame, sizeof(frame));
	u = (const struct vring_used_le *)(fe.map[0] + ring_off[VHOST_DEV_RX][2]);
	assert_int_equal(le16toh(u->idx), 1);
	assert_int_equal(le32toh(u->ring[0].id), 3);
	assert_int_equal(le32toh(u->ring[0].len), 12 + sizeof(frame));
	for (i = 0; i < 2; i++) {
		close(call[i]);
		close(kick[i]);
	}
}

/*
 * One refused message: the reason counted, a failed reply-ack (ack_req names
 * the request it answers), and the device unchanged in every byte but that
 * counter.
 */
#define EXPECT_REFUSED(why, call)                                           \
	do {                                                                \
		struct vhost_dev *snap_ = malloc(sizeof(*snap_));           \
		int rc_;                                                    \
		assert_non_null(snap_);                                     \
		memcpy(snap_, &fe.dev, sizeof(*snap_));                     \
		rc_ = (call);                                               \
		assert_int_not_equal(rc_, 0);                               \
		assert_int_equal(fe_reply_u64(fe.sv[0], ack_req), 1);       \
		assert_int_equal(fe.dev.errors[why], snap_->errors[why] + 1); \
		snap_->errors[why]++;                                       \
		assert_memory_equal(snap_, &fe.dev, sizeof(*snap_));        \
		free(snap_);                                                \
	} while (0)

static void test_dev_refused(void **state)
{
	const uint32_t ack = 1 | VHOST_USER_NEED_REPLY;
	struct vhost_msg_region bad[2];
	uint32_t ack_req;
	int call[2], kick[2], efd[1];
	(void)state;

	make_fds(call, 2);
	make_fds(kick, 2);
	handshake(call, kick);
	/* Stop ring 1 so that its setup may change again. */
	assert_int_equal(xfer_state(VHOST_USER_GET_VRING_BASE, 1, 1, 0), 0);
	(void)fe_reply_u64(fe.sv[0], VHOST_USER_GET_VRING_BASE);

	ack_req = VHOST_USER_SET_FEATURES;
	EXPECT_REFUSED(VHOST_ERR_BAD_FEATURES,
		       xfer_u64(ack_req, ack, 1ull << 29, NULL, 0));
	/* Ring 0 runs: the header layout cannot change under it. */
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE,
		       xfer_u64(ack_req, ack, VHOST_F_VERSION_1, NULL, 0));
	ack_req = VHOST_USER_SET_PROTOCOL_FEATURES;
	EXPECT_REFUSED(VHOST_ERR_BAD_FEATURES,
		       xfer_u64(ack_req, ack, 1ull << 9, NULL, 0));

	ack_req = VHOST_USER_SET_VRING_NUM;
	EXPECT_REFUSED(VHOST_ERR_BAD_NUM, xfer_state(ack_req, ack, 1, 100));
	EXPECT_REFUSED(VHOST_ERR_BAD_NUM, xfer_state(ack_req, ack, 1, 65536));
	EXPECT_REFUSED(VHOST_ERR_BAD_NUM, xfer_state(ack_req, ack, 1, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_RING, xfer_state(ack_req, ack, 2, 256));
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE, xfer_state(ack_req, ack, 0, 128));
	ack_req = VHOST_USER_SET_VRING_BASE;
	EXPECT_REFUSED(VHOST_ERR_BAD_NUM, xfer_state(ack_req, ack, 1, 70000));
	ack_req = VHOST_USER_SET_VRING_ENABLE;
	EXPECT_REFUSED(VHOST_ERR_BAD_NUM, xfer_state(ack_req, ack, 1, 2));

	/* Ring addresses: outside memory, straddling a region, misaligned. */
	ack_req = VHOST_USER_SET_VRING_ADDR;
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, 0x1000, UVA_A + 0x6000, UVA_A + 0x5000, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, UVA_A + MEM_A - 0x800, UVA_A + 0x6000,
				UVA_A + 0x5000, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, UVA_A + 0x4008, UVA_A + 0x6000,
				UVA_A + 0x5000, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, UVA_A + 0x4000, UVA_A + 0x6002,
				UVA_A + 0x5000, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, UVA_A + 0x4000, UVA_A + 0x6000,
				UVA_A + 0x5000, 1));
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR,
		       xfer_addr_ack(1, UVA_A + 0x4000, 0xfffffffffffffff0ull,
				UVA_A + 0x5000, 0));
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE,
		       xfer_addr_ack(0, UVA_A + 0x4000, UVA_A + 0x6000,
				UVA_A + 0x5000, 0));

	/* Memory tables: empty, overlapping, beyond the file, hiding a ring. */
	ack_req = VHOST_USER_SET_MEM_TABLE;
	EXPECT_REFUSED(VHOST_ERR_BAD_MEM, xfer_mem(ack, regions, 0));
	memcpy(bad, regions, sizeof(bad));
	bad[1].gpa = MEM_A - 4096;
	EXPECT_REFUSED(VHOST_ERR_BAD_MEM, xfer_mem(ack, bad, 2));
	memcpy(bad, regions, sizeof(bad));
	bad[1].mmap_offset = OFF_B + 4096;
	EXPECT_REFUSED(VHOST_ERR_BAD_MEM, xfer_mem(ack, bad, 2));
	memcpy(bad, regions, sizeof(bad));
	bad[1].size = 0;
	EXPECT_REFUSED(VHOST_ERR_BAD_MEM, xfer_mem(ack, bad, 2));
	memcpy(bad, regions, sizeof(bad));
	bad[0].uva = 0x1000;
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR, xfer_mem(ack, bad, 2));
	/* An mmap offset that misaligns the running ring's areas for us. */
	memcpy(bad, regions, sizeof(bad));
	bad[0].size = MEM_A - 4096;
	bad[0].mmap_offset = 8;
	EXPECT_REFUSED(VHOST_ERR_BAD_ADDR, xfer_mem(ack, bad, 2));

	/* Descriptors: bad ring, unknown bits; a kick before the addresses. */
	ack_req = VHOST_USER_SET_VRING_CALL;
	EXPECT_REFUSED(VHOST_ERR_BAD_RING,
		       xfer_u64(ack_req, ack, 2 | VHOST_USER_VRING_NOFD, NULL,
				0));
	EXPECT_REFUSED(VHOST_ERR_BAD_RING,
		       xfer_u64(ack_req, ack, 0x10000 | VHOST_USER_VRING_NOFD,
				NULL, 0));
	make_fds(efd, 1);
	EXPECT_REFUSED(VHOST_ERR_BAD_RING,
		       xfer_u64(ack_req, ack, 5, efd, 1));
	ack_req = VHOST_USER_SET_LOG_BASE;
	{
		uint64_t lg[2] = { htole64(4096), 0 };

		EXPECT_REFUSED(VHOST_ERR_UNKNOWN_REQ,
			       xfer(ack_req, ack, lg, 16, efd, 1));
	}
	close(efd[0]);
	ack_req = VHOST_USER_SEND_RARP;
	EXPECT_REFUSED(VHOST_ERR_UNKNOWN_REQ, xfer_u64(ack_req, ack, 0, NULL, 0));

	/* Reset, then a kick before the ring is placed again. */
	assert_int_equal(xfer(VHOST_USER_RESET_OWNER, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe.dev.mem.n, 0);
	assert_false(fe.dev.ring[0].started);
	assert_int_equal(fe.dev.ring[0].call_fd, -1);
	ack_req = VHOST_USER_SET_VRING_KICK;
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE,
		       xfer_u64(ack_req, ack, VHOST_USER_VRING_NOFD, NULL, 0));

	/* A message the parser refuses is counted too (no ack: not parsed). */
	assert_int_equal(xfer(VHOST_USER_GET_FEATURES, 1 | VHOST_USER_REPLY,
			      NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(fe.dev.errors[VHOST_ERR_BAD_FLAGS], 1);
	for (unsigned int i = 0; i < 2; i++) {
		close(call[i]);
		close(kick[i]);
	}
}

static void test_dev_owner_first(void **state)
{
	uint32_t ack_req = VHOST_USER_SET_MEM_TABLE;
	const uint32_t ack = 1 | VHOST_USER_NEED_REPLY;
	(void)state;

	assert_int_equal(xfer_u64(VHOST_USER_SET_PROTOCOL_FEATURES, 1,
				  VHOST_PF_REPLY_ACK, NULL, 0), 0);
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE, xfer_mem(ack, regions, 2));
	ack_req = VHOST_USER_SET_VRING_NUM;
	EXPECT_REFUSED(VHOST_ERR_BAD_STATE, xfer_state(ack_req, ack, 0, 256));
	/*
	 * SET_VRING_ENABLE may come before SET_FEATURES (QEMU sends it once
	 * the feature was offered); it counts once the ring starts.
	 */
	assert_int_equal(xfer(VHOST_USER_SET_OWNER, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(xfer_state(VHOST_USER_SET_VRING_ENABLE, 1, 0, 1), 0);
	assert_true(fe.dev.ring[0].enabled);
	assert_false(vhost_dev_ring_ready(&fe.dev, 0));
}

static void test_recv_bounds(void **state)
{
	uint8_t buf[VHOST_MSG_MAX_SIZE];
	int fds[VHOST_MSG_MAX_FDS], many[10];
	unsigned int nfds, i;
	struct vhost_msg m;
	size_t len;
	uint32_t hdr[3] = { htole32(VHOST_USER_SET_FEATURES), htole32(1),
			    htole32(1u << 30) };
	(void)state;

	/* A size far beyond any payload: only the header is read. */
	assert_int_equal(fe_send_raw(fe.sv[0], (uint8_t *)hdr, sizeof(hdr),
				     NULL, 0), 0);
	assert_int_equal(vhost_msg_recv(fe.sv[1], buf, &len, fds, &nfds), 0);
	assert_int_equal(len, VHOST_MSG_HDR_SIZE);
	assert_int_equal(vhost_msg_parse(&m, buf, len, fds, nfds),
			 VHOST_ERR_BAD_SIZE);

	/* More descriptors than any message carries: refused, none leak. */
	make_fds(many, 10);
	assert_int_equal(fe_send(fe.sv[0], VHOST_USER_SET_OWNER, 1, NULL, 0,
				 many, 10), 0);
	assert_int_equal(vhost_msg_recv(fe.sv[1], buf, &len, fds, &nfds),
			 -EPROTO);
	assert_int_equal(nfds, 0);
	for (i = 0; i < 10; i++)
		close(many[i]);

	/* Closed mid-message. */
	hdr[2] = htole32(8);
	assert_int_equal(fe_send_raw(fe.sv[0], (uint8_t *)hdr, sizeof(hdr),
				     NULL, 0), 0);
	close(fe.sv[0]);
	fe.sv[0] = -1;
	assert_int_equal(vhost_msg_recv(fe.sv[1], buf, &len, fds, &nfds),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_payloads),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test_setup_teardown(test_handshake, fe_setup,
						fe_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_traffic,
						fe_setup, fe_teardown),
		cmocka_unit_test_setup_teardown(test_dev_refused, fe_setup,
						fe_teardown),
		cmocka_unit_test_setup_teardown(test_dev_owner_first, fe_setup,
						fe_teardown),
		cmocka_unit_test_setup_teardown(test_recv_bounds, fe_setup,
						fe_teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
