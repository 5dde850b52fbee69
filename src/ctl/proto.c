// SPDX-License-Identifier: MIT
/*
 * proto.c - the control socket's wire protocol (proto.h).
 */
#include "ctl/proto.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define CTL_SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

/* Only whitespace in @s[@from, @len). */
static bool ctl_only_space(const char *s, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int ctl_proto_parse(struct ctl_req *r, const char *line, size_t len,
		    const char **why)
{
	struct json_tokener *tok;
	struct json_object *m, *p;
	json_type t;

	memset(r, 0, sizeof(*r));
	if (len > CTL_REQUEST_MAX) {
		*why = "request line too long";
		return CTL_E_TOO_LARGE;
	}
	tok = json_tokener_new_ex(CTL_JSON_DEPTH);
	if (!tok) {
		*why = "out of memory";
		return CTL_E_PARSE;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* The whole line in one go: an incomplete value is an error, as is
	 * anything but whitespace after it (two objects on one line). */
	r->root = json_tokener_parse_ex(tok, line, (int)len);
	if (!r->root || json_tokener_get_error(tok) != json_tokener_success ||
	    !ctl_only_space(line, json_tokener_get_parse_end(tok), len)) {
		json_tokener_free(tok);
		json_object_put(r->root);
		r->root = NULL;
		*why = "not one JSON value";
		return CTL_E_PARSE;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(r->root, json_type_object)) {
		*why = "a request is a JSON object";
		return CTL_E_REQUEST;
	}
	if (json_object_object_get_ex(r->root, "id", &r->id)) {
		t = json_object_get_type(r->id);
		if (t != json_type_null && t != json_type_int &&
		    t != json_type_double && t != json_type_string) {
			r->id = NULL;
			*why = "\"id\" must be a number, a string or null";
			return CTL_E_REQUEST;
		}
	}
	if (!json_object_object_get_ex(r->root, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		*why = "\"method\" must be a string";
		return CTL_E_REQUEST;
	}
	r->method = json_object_get_string(m);
	if (json_object_object_get_ex(r->root, "params", &p) &&
	    !json_object_is_type(p, json_type_null)) {
		if (!json_object_is_type(p, json_type_object)) {
			*why = "\"params\" must be an object";
			return CTL_E_REQUEST;
		}
		r->params = p;
	}
	return 0;
}

void ctl_req_free(struct ctl_req *r)
{
	json_object_put(r->root);
	memset(r, 0, sizeof(*r));
}

/* @obj as one line with its newline into @out, or -EMSGSIZE. */
static ssize_t ctl_line(char *out, size_t cap, struct json_object *obj)
{
	const char *s;
	size_t n;

	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (cap > CTL_REPLY_MAX)
		cap = CTL_REPLY_MAX;
	if (n + 1 > cap)
		return -EMSGSIZE;
	memcpy(out, s, n);
	out[n] = '\n';
	return (ssize_t)(n + 1);
}

/* A new reply object with @id (or null). */
static struct json_object *ctl_reply(struct json_object *id)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "id", json_object_get(id));
	return o;
}

ssize_t ctl_proto_result(char *out, size_t cap, struct json_object *id,
			 struct json_object *result)
{
	struct json_object *o = ctl_reply(id);
	ssize_t n;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "result", json_object_get(result));
	n = ctl_line(out, cap, o);
	json_object_put(o);
	return n;
}

/* An id too long for the error line is replaced by null. */
#define CTL_ERR_ID_MAX	128u

/* One try at the error line, with @msg cut to @mlen bytes. */
static ssize_t ctl_error_line(char *out, size_t cap, struct json_object *id,
			      int code, const char *msg, size_t mlen)
{
	struct json_object *o = ctl_reply(id), *e = json_object_new_object();
	ssize_t n = -ENOMEM;

	if (o && e) {
		json_object_object_add(e, "code", json_object_new_int(code));
		json_object_object_add(e, "message",
				       json_object_new_string_len(msg, (int)mlen));
		json_object_object_add(o, "error", e);
		e = NULL;
		n = ctl_line(out, cap, o);
	}
	json_object_put(e);
	json_object_put(o);
	return n;
}

size_t ctl_proto_error(char *out, size_t cap, struct json_object *id, int code,
		       const char *msg)
{
	size_t mlen = strnlen(msg, 255);
	ssize_t n;
	int k;

	if (id && json_object_is_type(id, json_type_string) &&
	    json_object_get_string_len(id) > (int)CTL_ERR_ID_MAX)
		id = NULL;
	/* A message whose escapes make the line too long is cut further. */
	n = ctl_error_line(out, cap, id, code, msg, mlen);
	if (n == -EMSGSIZE && mlen > 40)
		n = ctl_error_line(out, cap, id, code, msg, 40);
	if (n > 0)
		return (size_t)n;
	/* Out of memory (or a tiny @cap): the fixed line, cut to fit. */
	k = snprintf(out, cap, "{\"id\":null,\"error\":{\"code\":%d,"
		     "\"message\":\"internal error\"}}\n", code);
	if (k < 0 || cap == 0)
		return 0;
	if ((size_t)k >= cap) {
		out[cap - 1] = '\n';
		return cap;
	}
	return (size_t)k;
}

bool ctl_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > CTL_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int ctl_default_path(char *buf, size_t cap, const char *name)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (!ctl_name_ok(name))
		return -EINVAL;
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/arcnat/%s.sock", xdg, name);
	else
		n = snprintf(buf, cap, "/run/arcnat/%s.sock", name);
	if (n < 0 || (size_t)n >= cap || (size_t)n >= CTL_SUN_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}
