/* SPDX-License-Identifier: MIT */
/*
 * assert.h - an assert that stays on in release builds.
 *
 * ARC_ASSERT() is for programmer invariants only: a condition that can be
 * false only if arcnat itself has a bug. It is never used on anything a
 * packet, a config file or a control request can influence; hostile input is
 * a counted drop or an error return (docs/architecture.md "Conventions",
 * rules 3 and 10).
 *
 * It is not compiled out by NDEBUG: a broken invariant in a network stack is
 * better stopped loudly than carried on into memory corruption.
 */
#ifndef ARCNAT_CORE_ASSERT_H
#define ARCNAT_CORE_ASSERT_H

#include "core/compiler.h"

/**
 * core_assert_fail() - report a failed ARC_ASSERT() and abort.
 * @expr: the text of the failed condition
 * @file: source file
 * @line: source line
 * @func: enclosing function
 *
 * Writes one line to stderr (not through the logger, whose state may be what
 * is broken) and calls abort() so that a core dump or a sanitizer report
 * shows the stack.
 */
__noreturn __cold void core_assert_fail(const char *expr, const char *file,
					int line, const char *func);

#define ARC_ASSERT(cond)                                                   \
	do {                                                               \
		if (unlikely(!(cond)))                                     \
			core_assert_fail(#cond, __FILE__, __LINE__, __func__); \
	} while (0)

#endif /* ARCNAT_CORE_ASSERT_H */
