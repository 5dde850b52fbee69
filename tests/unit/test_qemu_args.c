// SPDX-License-Identifier: MIT
/*
 * test_qemu_args.c - the QEMU arguments arcnat prints for a stream or
 * dgram port: one form for both, QEMU's comma escaping, shell quoting,
 * a dgram guest's own path and its placeholder, a line that does not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "test_exit.h"
#include "guest/qemu_args.h"

static void qemu_args_plain_paths(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(qemu_args_format(QEMU_ARGS_STREAM, "/run/a/g.sock", out,
					  sizeof(out)), 0);
	assert_string_equal(out, "-netdev stream,id=n0,server=off,addr.type=unix,"
				 "addr.path=/run/a/g.sock "
				 "-device virtio-net-pci,netdev=n0");
	assert_int_equal(qemu_args_format(QEMU_ARGS_DGRAM, "/run/a/g.sock", out,
					  sizeof(out)), 0);
	assert_string_equal(out, "-netdev dgram,id=n0,local.type=unix,"
				 "local.path=/run/a/g.sock.qemu,remote.type=unix,"
				 "remote.path=/run/a/g.sock "
				 "-device virtio-net-pci,netdev=n0");
	assert_int_equal(qemu_args_format(QEMU_ARGS_VHOST_USER, "/run/a/v,1",
					  out, sizeof(out)), 0);
	assert_string_equal(out, "-chardev socket,id=c0,path=/run/a/v,,1 "
				 "-netdev vhost-user,id=n0,chardev=c0 "
				 "-device virtio-net-pci,netdev=n0 "
				 "-object memory-backend-memfd,id=mem,size=RAM,"
				 "share=on -machine memory-backend=mem");
}

static void qemu_args_escapes(void **state)
{
	char out[512];

	(void)state;
	/* A comma is doubled for QEMU; a space and a quote need the shell's
	 * single quotes. */
	assert_int_equal(qemu_args_format(QEMU_ARGS_STREAM, "/r/a,b", out,
					  sizeof(out)), 0);
	assert_string_equal(out, "-netdev stream,id=n0,server=off,addr.type=unix,"
				 "addr.path=/r/a,,b -device virtio-net-pci,netdev=n0");
	assert_int_equal(qemu_args_format(QEMU_ARGS_STREAM, "/r/it's here", out,
					  sizeof(out)), 0);
	assert_string_equal(out, "-netdev 'stream,id=n0,server=off,addr.type=unix,"
				 "addr.path=/r/it'\\''s here' "
				 "-device virtio-net-pci,netdev=n0");
}

static void qemu_args_long_dgram_path(void **state)
{
	char path[108], out[512], tiny[16];

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';	/* 107 bytes: no room for .qemu */
	assert_int_equal(qemu_args_format(QEMU_ARGS_DGRAM, path, out,
					  sizeof(out)), 0);
	assert_non_null(strstr(out, "local.path=" QEMU_ARGS_LOCAL_PLACEHOLDER
				    ",remote.type=unix,remote.path=/ppp"));
	assert_int_equal(qemu_args_format(QEMU_ARGS_DGRAM, "/a", tiny,
					  sizeof(tiny)), -ENOSPC);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_args_plain_paths),
		cmocka_unit_test(qemu_args_escapes),
		cmocka_unit_test(qemu_args_long_dgram_path),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
