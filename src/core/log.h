/* SPDX-License-Identifier: MIT */
/*
 * log.h - leveled logging with a rate-limited variant for the data path.
 *
 * Theory of operation: one process-wide level and one sink. The default sink
 * writes one line per message to stderr with a single write(2), so lines from
 * different threads never interleave. Tests install their own sink to see
 * exactly what was logged.
 *
 * Anything a packet can trigger must use log_rl() with a struct ratelimit
 * owned by the caller (per worker, per reason): a flood of bad frames then
 * costs a counter increment, and the next line that gets through says how
 * many were suppressed.
 */
#ifndef ARCNAT_CORE_LOG_H
#define ARCNAT_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/ratelimit.h"

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Longest message, including the "arcnat: level: " prefix; longer ones are cut. */
#define LOG_LINE_MAX 1024

/**
 * typedef log_sink_fn - where formatted messages go.
 * @ctx:   the pointer given to log_set_sink()
 * @level: the message's level
 * @msg:   the message, without prefix or newline, NUL-terminated
 */
typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *msg);

/**
 * log_set_level() - show messages up to and including @level.
 * @level: LOG_LEVEL_ERR shows only errors; LOG_LEVEL_DEBUG shows everything
 */
void log_set_level(enum log_level level);

/** log_get_level() - the current level. Return: the level. */
enum log_level log_get_level(void);

/**
 * log_enabled() - whether a message at @level would be shown.
 * @level: level to test
 *
 * Return: true if shown. Lets callers skip building expensive arguments.
 */
bool log_enabled(enum log_level level);

/**
 * log_set_sink() - send messages to @fn instead of stderr.
 * @fn:  sink, or NULL to restore the stderr sink
 * @ctx: passed to @fn
 *
 * Not thread-safe: call before workers start (or in single-threaded tests).
 */
void log_set_sink(log_sink_fn fn, void *ctx);

/**
 * log_level_name() - "error", "warning", "info" or "debug".
 * @level: level
 *
 * Return: a static string.
 */
const char *log_level_name(enum log_level level);

/**
 * log_msg() - log one message if @level is enabled.
 * @level: level
 * @fmt:   printf format
 */
__printf(2, 3) void log_msg(enum log_level level, const char *fmt, ...);

/**
 * log_vmsg() - va_list form of log_msg().
 * @level: level
 * @fmt:   printf format
 * @ap:    arguments
 */
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

/**
 * log_rl() - log through a rate limiter.
 * @rl:    limiter owned by the caller (e.g. one per drop reason per worker)
 * @now:   current time in nanoseconds
 * @level: level
 * @fmt:   printf format
 *
 * A message over the limit is counted, not printed. The first message that
 * gets through after some were suppressed is followed by a line saying how
 * many. A disabled level does not consume the limiter.
 *
 * Return: true if the message was printed.
 */
__printf(4, 5) bool log_rl(struct ratelimit *rl, uint64_t now,
			   enum log_level level, const char *fmt, ...);

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                   \
	do {                                             \
		if (unlikely(log_enabled(LOG_LEVEL_DEBUG))) \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif /* ARCNAT_CORE_LOG_H */
