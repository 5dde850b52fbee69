// SPDX-License-Identifier: MIT
/*
 * qemu_args.c - the QEMU arguments for a stream, dgram or vhost-user port
 * (guest/qemu_args.h).
 */
#include "guest/qemu_args.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define QEMU_ARGS_SUN_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* A small bounded writer: once full, it only counts. */
struct qa_out {
	char *p;
	size_t cap;
	size_t len;
};

static void qa_putc(struct qa_out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->p[o->len] = c;
	o->len++;
}

static void qa_puts(struct qa_out *o, const char *s)
{
	while (*s)
		qa_putc(o, *s++);
}

/* A path as a QEMU option value: ',' doubled. */
static void qa_path(struct qa_out *o, const char *path, const char *suffix)
{
	for (const char *s = path; *s; s++) {
		qa_putc(o, *s);
		if (*s == ',')
			qa_putc(o, ',');
	}
	qa_puts(o, suffix);
}

static bool qa_shell_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_./,=:+-@%", *s))
			return false;
	return true;
}

int qemu_args_format(enum qemu_args_kind kind, const char *path, char *out,
		     size_t cap)
{
	char val[4 * (QEMU_ARGS_SUN_MAX + 8) + 128];
	struct qa_out v = { val, sizeof(val), 0 };
	struct qa_out o = { out, cap, 0 };

	if (kind == QEMU_ARGS_VHOST_USER) {
		qa_puts(&v, "socket,id=c0,path=");
		qa_path(&v, path, "");
	} else if (kind == QEMU_ARGS_STREAM) {
		qa_puts(&v, "stream,id=n0,server=off,addr.type=unix,addr.path=");
		qa_path(&v, path, "");
	} else {
		qa_puts(&v, "dgram,id=n0,local.type=unix,local.path=");
		if (strlen(path) + strlen(".qemu") <= QEMU_ARGS_SUN_MAX)
			qa_path(&v, path, ".qemu");
		else
			qa_puts(&v, QEMU_ARGS_LOCAL_PLACEHOLDER);
		qa_puts(&v, ",remote.type=unix,remote.path=");
		qa_path(&v, path, "");
	}
	val[v.len < sizeof(val) ? v.len : sizeof(val) - 1] = '\0';
	qa_puts(&o, kind == QEMU_ARGS_VHOST_USER ? "-chardev " : "-netdev ");
	if (qa_shell_safe(val)) {
		qa_puts(&o, val);
	} else {	/* '...' with each ' as '\'' */
		qa_putc(&o, '\'');
		for (const char *s = val; *s; s++) {
			if (*s == '\'')
				qa_puts(&o, "'\\''");
			else
				qa_putc(&o, *s);
		}
		qa_putc(&o, '\'');
	}
	if (kind == QEMU_ARGS_VHOST_USER)
		qa_puts(&o, " -netdev vhost-user,id=n0,chardev=c0");
	qa_puts(&o, " -device virtio-net-pci,netdev=n0");
	if (kind == QEMU_ARGS_VHOST_USER)
		qa_puts(&o, " -object memory-backend-memfd,id=mem,size=RAM,"
			    "share=on -machine memory-backend=mem");
	if (cap)
		out[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len < cap && v.len < sizeof(val) ? 0 : -ENOSPC;
}
