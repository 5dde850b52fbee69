// SPDX-License-Identifier: MIT
#include "core/assert.h"

#include <stdio.h>
#include <stdlib.h>

void core_assert_fail(const char *expr, const char *file, int line,
		      const char *func)
{
	fprintf(stderr, "arcnat: assertion failed: %s (%s:%d, %s)\n", expr,
		file, line, func);
	fflush(stderr);
	abort();
}
