// SPDX-License-Identifier: MIT
#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * The level is read on every log_debug() from every worker, and written
 * rarely (start-up, a control request): relaxed atomics are enough, since no
 * other memory is published through it.
 */
static _Atomic int log_level_cur = LOG_LEVEL_INFO;
static log_sink_fn log_sink;
static void *log_sink_ctx;

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	atomic_store_explicit(&log_level_cur, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level_cur,
						    memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&log_level_cur, memory_order_relaxed);
}

void log_set_sink(log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= ARRAY_SIZE(log_level_names))
		return "?";
	return log_level_names[level];
}

static void log_stderr(enum log_level level, const char *msg)
{
	char line[LOG_LINE_MAX + 2];
	size_t off = 0;
	int n;

	n = snprintf(line, LOG_LINE_MAX, "arcnat: %s: %s",
		     log_level_name(level), msg);
	if (n < 0)
		return;
	off = (size_t)n < LOG_LINE_MAX ? (size_t)n : LOG_LINE_MAX - 1;
	line[off++] = '\n';

	/* One write(2) per line so that concurrent lines do not interleave. */
	while (off > 0) {
		ssize_t w = write(STDERR_FILENO, line, off);

		if (w < 0 && errno == EINTR)
			continue;
		break; /* nowhere left to report a failing stderr */
	}
}

static void log_emit(enum log_level level, const char *msg)
{
	if (log_sink)
		log_sink(log_sink_ctx, level, msg);
	else
		log_stderr(level, msg);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	if (!log_enabled(level))
		return;
	/* vsnprintf truncates safely; a cut message is still worth showing. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_rl(struct ratelimit *rl, uint64_t now, enum log_level level,
	    const char *fmt, ...)
{
	uint64_t missed;
	va_list ap;

	if (!log_enabled(level))
		return false;
	if (!ratelimit_allow(rl, now))
		return false;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);

	missed = ratelimit_take_missed(rl);
	if (missed)
		log_msg(level, "(%" PRIu64 " similar messages suppressed)",
			missed);
	return true;
}
