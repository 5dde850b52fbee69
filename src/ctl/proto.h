/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the control socket's wire protocol: one JSON object per line
 * each way (docs/control.md).
 *
 * Theory of operation: a request is one line of at most CTL_REQUEST_MAX
 * bytes, `{"id": ID, "method": "NAME", "params": {...}}`, parsed by json-c
 * with a bounded nesting depth; ID is a number, a string or null and is
 * echoed in the reply; "params" may be left out. A reply is one line,
 * `{"id": ID, "result": ...}` or `{"id": ID, "error": {"code": N,
 * "message": "..."}}`, at most CTL_REPLY_MAX bytes, the newline included. The
 * error codes are JSON-RPC 2.0's where they mean the same, and arcnat's
 * own (-32001 and below) for the bounds of the socket. Nothing here does
 * I/O: the server (ctl/server.h) frames lines, the dispatcher
 * (ctl/methods.h) answers them, and the fuzzer drives both without a
 * socket.
 */
#ifndef ARCNAT_CTL_PROTO_H
#define ARCNAT_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;

#define CTL_REQUEST_MAX	65536u		/* a request line, newline excluded */
#define CTL_REPLY_MAX	(1u << 20)	/* a reply line, newline included */
#define CTL_JSON_DEPTH	16		/* nesting of a request */
#define CTL_NAME_MAX	64u		/* --name, NUL excluded */

/* Error codes (docs/control.md "Errors"). */
#define CTL_E_PARSE		(-32700)	/* not JSON */
#define CTL_E_REQUEST		(-32600)	/* JSON, not a request */
#define CTL_E_METHOD		(-32601)	/* no such method */
#define CTL_E_PARAMS		(-32602)	/* bad params */
#define CTL_E_INTERNAL		(-32603)	/* arcnat failed to answer */
#define CTL_E_TOO_LARGE		(-32001)	/* request line over the bound */
#define CTL_E_TOO_MANY		(-32002)	/* too many clients */
#define CTL_E_BUSY		(-32003)	/* the worker did not answer */
#define CTL_E_REPLY_TOO_LARGE	(-32004)	/* the reply would be too long */
#define CTL_E_NO_FLOW		(-32005)	/* flow-delete: no such flow */

/**
 * struct ctl_req - a parsed request.
 * @root:   the whole object (owned; ctl_req_free())
 * @id:     its "id", borrowed from @root; NULL when absent
 * @method: its "method", borrowed from @root
 * @params: its "params" (an object), borrowed from @root; NULL when absent
 */
struct ctl_req {
	struct json_object *root;
	struct json_object *id;
	const char *method;
	struct json_object *params;
};

/**
 * ctl_proto_parse() - parse one request line.
 * @r:    filled; on error, @r->id is what could be read of the id (for the
 *        error reply) and ctl_req_free() must still be called
 * @line: the line, without its newline; need not be NUL-terminated
 * @len:  its length (at most CTL_REQUEST_MAX)
 * @why:  on error, a static message
 *
 * Return: 0, or CTL_E_PARSE, CTL_E_REQUEST, CTL_E_TOO_LARGE.
 */
int ctl_proto_parse(struct ctl_req *r, const char *line, size_t len,
		    const char **why);

/**
 * ctl_req_free() - free what ctl_proto_parse() made; a zeroed @r is fine.
 * @r: the request
 */
void ctl_req_free(struct ctl_req *r);

/**
 * ctl_proto_result() - a result reply line.
 * @out:    where
 * @cap:    its size
 * @id:     the request's id, or NULL (null)
 * @result: the result (borrowed)
 *
 * Return: the line's length, its newline included (no NUL is counted), or
 * -EMSGSIZE when it would not fit in min(@cap, CTL_REPLY_MAX).
 */
ssize_t ctl_proto_result(char *out, size_t cap, struct json_object *id,
			 struct json_object *result);

/**
 * ctl_proto_error() - an error reply line; always fits when @cap is at
 * least 512 (the message is cut to fit).
 * @out:  where
 * @cap:  its size
 * @id:   the request's id, or NULL
 * @code: one of CTL_E_*
 * @msg:  what went wrong
 *
 * Return: the line's length, its newline included.
 */
size_t ctl_proto_error(char *out, size_t cap, struct json_object *id, int code,
		       const char *msg);

/**
 * ctl_name_ok() - whether @name may name an arcnat (--name): 1 to
 * CTL_NAME_MAX bytes of [A-Za-z0-9._-], not starting with '.'.
 * @name: the name
 *
 * Return: true when it may.
 */
bool ctl_name_ok(const char *name);

/**
 * ctl_default_path() - where arcnat NAME's socket is when no --control
 * says: $XDG_RUNTIME_DIR/arcnat/NAME.sock when XDG_RUNTIME_DIR is an
 * absolute path, else /run/arcnat/NAME.sock.
 * @buf:  filled
 * @cap:  its size
 * @name: a name ctl_name_ok() accepts
 *
 * Return: 0, -EINVAL a bad name, -ENAMETOOLONG.
 */
int ctl_default_path(char *buf, size_t cap, const char *name);

#endif /* ARCNAT_CTL_PROTO_H */
