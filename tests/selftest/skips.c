// SPDX-License-Identifier: MIT
/*
 * skips.c - a fixture of tests/selftest/run.sh, not a test of arcnat: a
 * program that cannot run here, the way a unit test that needs root says
 * so when it is not (test_exit_skip(): a reason, exit status 77).
 */
#include "test_exit.h"

int main(void)
{
	return test_exit_skip("selftest fixture: cannot run here");
}
