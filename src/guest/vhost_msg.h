/* SPDX-License-Identifier: MIT */
/*
 * vhost_msg.h - the vhost-user protocol's messages: parse, build, receive.
 *
 * Theory of operation: a vhost-user frontend (QEMU) drives its backend over a
 * UNIX stream socket. Each message is a 12-byte header (request, flags, size,
 * all little-endian u32) and size bytes of payload whose layout the request
 * fixes (QEMU's docs/interop/vhost-user.rst); file descriptors travel next to
 * it as SCM_RIGHTS. Everything in a message is untrusted: vhost_msg_parse()
 * accepts a message only when the request is known, the version is 1, size
 * equals exactly the size of the request's payload (for a memory table: of
 * the regions it announces, at most VHOST_MSG_MAX_REGIONS) and the number of
 * descriptors is exactly what the request carries. A refused message has a
 * named reason (VHOST_ERR_*), and every descriptor that came with it is
 * closed, so a hostile frontend cannot make arcnat leak fds.
 *
 * Replies are built by vhost_msg_build_*(); vhost_msg_recv() reads one
 * message with its descriptors, bounded by the largest valid payload.
 */
#ifndef ARCNAT_GUEST_VHOST_MSG_H
#define ARCNAT_GUEST_VHOST_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

/* Requests (frontend to backend) arcnat knows. */
#define VHOST_USER_GET_FEATURES          1u
#define VHOST_USER_SET_FEATURES          2u
#define VHOST_USER_SET_OWNER             3u
#define VHOST_USER_RESET_OWNER           4u
#define VHOST_USER_SET_MEM_TABLE         5u
#define VHOST_USER_SET_LOG_BASE          6u
#define VHOST_USER_SET_LOG_FD            7u
#define VHOST_USER_SET_VRING_NUM         8u
#define VHOST_USER_SET_VRING_ADDR        9u
#define VHOST_USER_SET_VRING_BASE        10u
#define VHOST_USER_GET_VRING_BASE        11u
#define VHOST_USER_SET_VRING_KICK        12u
#define VHOST_USER_SET_VRING_CALL        13u
#define VHOST_USER_SET_VRING_ERR         14u
#define VHOST_USER_GET_PROTOCOL_FEATURES 15u
#define VHOST_USER_SET_PROTOCOL_FEATURES 16u
#define VHOST_USER_GET_QUEUE_NUM         17u
#define VHOST_USER_SET_VRING_ENABLE      18u
#define VHOST_USER_SEND_RARP             19u
#define VHOST_USER_NET_SET_MTU           20u
#define VHOST_USER_REQ_MAX               21u	/* first unknown */

/* Header flags. */
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_VERSION      0x1u
#define VHOST_USER_REPLY        0x4u
#define VHOST_USER_NEED_REPLY   0x8u

/* SET_VRING_KICK/CALL/ERR u64: ring index and "no descriptor follows". */
#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD     0x100u

#define VHOST_MSG_HDR_SIZE    12u
#define VHOST_MSG_MAX_REGIONS 8u	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHOST_MSG_MAX_FDS     VHOST_MSG_MAX_REGIONS
/* The largest payload: a memory table of VHOST_MSG_MAX_REGIONS regions. */
#define VHOST_MSG_MAX_PAYLOAD (8u + 32u * VHOST_MSG_MAX_REGIONS)
#define VHOST_MSG_MAX_SIZE    (VHOST_MSG_HDR_SIZE + VHOST_MSG_MAX_PAYLOAD)

/* X(enum suffix, name, what it means): why a message was refused. */
#define VHOST_ERR_LIST(X)                                                    \
	X(NONE, "none", "not refused")                                       \
	X(TRUNCATED, "truncated", "shorter than its header or its size")     \
	X(UNKNOWN_REQ, "unknown_req", "request not known or not supported")   \
	X(BAD_VERSION, "bad_version", "header version not 1")                 \
	X(BAD_FLAGS, "bad_flags", "reply bit or unknown flag bits set")       \
	X(BAD_SIZE, "bad_size", "size not the request's payload size")        \
	X(TOO_MANY_REGIONS, "too_many_regions", "memory table over 8 regions") \
	X(BAD_FD_COUNT, "bad_fd_count", "wrong number of descriptors")       \
	X(BAD_RING, "bad_ring", "ring index not served")                      \
	X(BAD_FEATURES, "bad_features", "feature bits not offered")           \
	X(BAD_STATE, "bad_state", "request not valid in this state")          \
	X(BAD_MEM, "bad_mem", "memory table region invalid or unmappable")    \
	X(BAD_NUM, "bad_num", "ring size not a power of two up to 32768")     \
	X(BAD_ADDR, "bad_addr", "ring address outside memory or misaligned")  \
	X(IO, "io", "socket error or closed mid-message")                    \
	X(BAD_FD, "bad_fd", "ring descriptor not a non-blocking eventfd")

enum vhost_err {
#define VHOST_ERR_ENUM(sym, name, desc) VHOST_ERR_##sym,
	VHOST_ERR_LIST(VHOST_ERR_ENUM)
#undef VHOST_ERR_ENUM
	VHOST_ERR__MAX
};

/**
 * vhost_err_name() - short stable name of a refusal reason.
 * @e: reason; out of range gives "invalid"
 *
 * Return: a static string.
 */
const char *vhost_err_name(enum vhost_err e);

/**
 * struct vhost_msg_state - payload of SET/GET_VRING_NUM/BASE/ENABLE.
 * @index: ring
 * @num:   value
 */
struct vhost_msg_state {
	uint32_t index;
	uint32_t num;
} __packed;

/**
 * struct vhost_msg_addr - payload of SET_VRING_ADDR (frontend addresses).
 * @index: ring
 * @flags: bit 0: log used ring writes
 * @desc:  descriptor table
 * @used:  used ring
 * @avail: available ring
 * @log:   guest address for logging
 */
struct vhost_msg_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
} __packed;

/**
 * struct vhost_msg_region - one memory region of SET_MEM_TABLE.
 * @gpa:         guest physical address
 * @size:        bytes
 * @uva:         the frontend's user address
 * @mmap_offset: offset in the file
 */
struct vhost_msg_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
} __packed;

/**
 * struct vhost_msg_mem - payload of SET_MEM_TABLE.
 * @nregions: regions that follow
 * @padding:  unused
 * @region:   the regions
 */
struct vhost_msg_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_msg_region region[VHOST_MSG_MAX_REGIONS];
} __packed;

/**
 * struct vhost_msg_log - payload of SET_LOG_BASE.
 * @size:   bytes
 * @offset: offset in the file
 */
struct vhost_msg_log {
	uint64_t size;
	uint64_t offset;
} __packed;

/**
 * struct vhost_msg - one parsed message, host order.
 * @request: VHOST_USER_*
 * @flags:   header flags
 * @size:    payload bytes
 * @u64:     payload of the u64 requests
 * @state:   payload of the vring state requests
 * @addr:    payload of SET_VRING_ADDR
 * @mem:     payload of SET_MEM_TABLE
 * @log:     payload of SET_LOG_BASE
 * @fds:     descriptors received, owned by the message
 * @nfds:    how many
 */
struct vhost_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhost_msg_state state;
		struct vhost_msg_addr addr;
		struct vhost_msg_mem mem;
		struct vhost_msg_log log;
	};
	int fds[VHOST_MSG_MAX_FDS];
	unsigned int nfds;
};

/**
 * vhost_msg_parse() - validate and decode one message.
 * @m:    out
 * @buf:  header and payload as received
 * @len:  bytes in @buf
 * @fds:  descriptors received with it; ownership passes to this function
 * @nfds: how many
 *
 * On success the descriptors belong to @m (vhost_msg_close_fds()). On
 * failure each of them is closed and @m holds none.
 *
 * Return: VHOST_ERR_NONE (0) or the reason for refusing.
 */
enum vhost_err vhost_msg_parse(struct vhost_msg *m, const uint8_t *buf,
			       size_t len, const int *fds, unsigned int nfds);

/**
 * vhost_msg_close_fds() - close the descriptors a message still owns.
 * @m: message (NULL is fine)
 */
void vhost_msg_close_fds(struct vhost_msg *m);

/**
 * vhost_msg_take_fd() - take the message's first descriptor.
 * @m: message
 *
 * Return: the descriptor, now the caller's, or -1 when there is none.
 */
int vhost_msg_take_fd(struct vhost_msg *m);

/**
 * vhost_msg_build_u64() - a reply carrying a u64 (GET_FEATURES,
 * GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, the reply-ack).
 * @buf:     out, at least VHOST_MSG_HDR_SIZE + 8 bytes
 * @request: the request answered
 * @v:       the value (for a reply-ack: 0 success, 1 failure)
 *
 * Return: bytes written.
 */
size_t vhost_msg_build_u64(uint8_t *buf, uint32_t request, uint64_t v);

/**
 * vhost_msg_build_state() - a reply carrying a vring state (GET_VRING_BASE).
 * @buf:     out, at least VHOST_MSG_HDR_SIZE + 8 bytes
 * @request: the request answered
 * @index:   ring
 * @num:     value
 *
 * Return: bytes written.
 */
size_t vhost_msg_build_state(uint8_t *buf, uint32_t request, uint32_t index,
			     uint32_t num);

/**
 * vhost_msg_recv() - read one message and its descriptors from a socket.
 * @sock:  connected UNIX stream socket (blocking, or readable now)
 * @buf:   out, VHOST_MSG_MAX_SIZE bytes
 * @len:   out, bytes of header and payload read
 * @fds:   out, VHOST_MSG_MAX_FDS descriptors
 * @nfds:  out, how many; they are the caller's (vhost_msg_parse() takes them)
 *
 * Reads the header with the descriptors, then exactly the size it announces
 * when that is at most VHOST_MSG_MAX_PAYLOAD (otherwise only the header: the
 * parser refuses it, and the caller closes the connection, as the stream is
 * out of step). Descriptors beyond VHOST_MSG_MAX_FDS are closed by the kernel
 * (MSG_CTRUNC) and the message then carries none, which the parser refuses.
 *
 * Return: 0; -EPIPE the peer closed before a whole header; -EPROTO closed
 * mid-message or truncated control data; -errno from recvmsg().
 */
int vhost_msg_recv(int sock, uint8_t *buf, size_t *len, int *fds,
		   unsigned int *nfds);

#endif /* ARCNAT_GUEST_VHOST_MSG_H */
