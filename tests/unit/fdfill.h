/* SPDX-License-Identifier: MIT */
/*
 * fdfill.h - running a listener out of descriptors, for the unit tests of
 * the guest ports' listeners (test_stream.c, test_vhost_user.c): fill_fds()
 * lowers RLIMIT_NOFILE and takes every free descriptor below it, so that
 * the listener's next accept4() fails with EMFILE. The test closes them
 * and restores the limit itself. Static: each test program gets its own
 * copy; include cmocka.h first.
 */
#ifndef ARCNAT_TESTS_FDFILL_H
#define ARCNAT_TESTS_FDFILL_H

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fill every free descriptor below @limit with a dup of stdin, so that the
 * next accept fails (EMFILE). Return: how many; their numbers in @fds. */
static inline unsigned int fill_fds(int *fds, unsigned int cap, rlim_t limit)
{
	struct rlimit rl;
	unsigned int n = 0;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < cap) {
		int fd = dup(0);

		if (fd < 0) {
			assert_int_equal(errno, EMFILE);
			break;
		}
		fds[n++] = fd;
	}
	return n;
}

#endif /* ARCNAT_TESTS_FDFILL_H */
