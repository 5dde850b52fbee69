/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - compiler helpers shared by every layer.
 *
 * Branch hints, cache-line alignment, array sizes and friends. Nothing here
 * allocates or has state; everything is a macro or a static inline.
 */
#ifndef ARCNAT_CORE_COMPILER_H
#define ARCNAT_CORE_COMPILER_H

#include <assert.h>
#include <stddef.h>

/* Branch hints: use only where the unlikely side is an error or a rare path. */
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Every x86-64 and arm64 machine we target has 64-byte lines. */
#define CACHE_LINE_SIZE 64
#define __cacheline_aligned __attribute__((aligned(CACHE_LINE_SIZE)))

#define __packed        __attribute__((packed))
#define __maybe_unused  __attribute__((unused))
#ifndef __always_inline /* glibc's sys/cdefs.h has the same definition */
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline      __attribute__((noinline))
#define __noreturn      __attribute__((noreturn))
#define __cold          __attribute__((cold))
#define __must_check    __attribute__((warn_unused_result))
#define __printf(a, b)  __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Round x up to a multiple of the power of two a. */
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))

#define IS_POWER_OF_2(x) ((x) != 0 && (((x) & ((x) - 1)) == 0))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Prefetch for a read that will happen soon (locality: keep in all levels). */
#define prefetch(p)       __builtin_prefetch((p), 0, 3)
#define prefetch_write(p) __builtin_prefetch((p), 1, 3)

#endif /* ARCNAT_CORE_COMPILER_H */
