/* SPDX-License-Identifier: MIT */
/*
 * persist.h - keep one file equal to the latest content handed over, from a
 * thread of its own, so that a slow disk never stalls the packet thread.
 *
 * Theory of operation: the producer (the worker, about every 100 ms when a
 * lease changed) formats the whole new content into the buffer that
 * dp_persist_buf() gives it and calls dp_persist_publish(). Three buffers
 * turn around (triple buffering): one the producer fills, one the writer
 * writes, and one "latest" slot between them, exchanged with one atomic
 * swap on each side. Publishing never waits for the writer and never
 * queues: a newer content replaces an unwritten older one in the slot, so
 * the writer cannot lag by more than one write, and memory is bounded by
 * construction (three buffers of @cap bytes, mapped lazily).
 *
 * The writer replaces the file atomically: it writes NAME.tmp in the
 * directory it was given as a descriptor (openat, so the path needs no
 * search permission later and a privilege drop needs only write access to
 * that directory), fsyncs it, renames it over NAME (renameat) and fsyncs
 * the directory. Readers see the old file or the new one, never a mix. A
 * failed write is logged once (until one succeeds again), counted, and
 * retried after @retry_sec with the newest content.
 */
#ifndef ARCNAT_DP_PERSIST_H
#define ARCNAT_DP_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#define DP_PERSIST_NAME_MAX	200	/* file name length, without the path */

/**
 * struct dp_persist_cfg - where and how big.
 * @dirfd:       directory of the file, opened O_RDONLY | O_DIRECTORY
 *               (borrowed: it must stay open until dp_persist_destroy())
 * @name:        the file's name in it (no '/'), copied
 * @label:       how log lines name the file (e.g. its path), copied
 * @cap:         the largest content
 * @retry_sec:   wait after a failed write
 * @before_write: test hook, NULL otherwise: called on the writer's thread
 *               before each write (a test blocks the writer in it)
 * @hook_ctx:    its argument
 */
struct dp_persist_cfg {
	int dirfd;
	const char *name;
	const char *label;
	size_t cap;
	unsigned int retry_sec;
	void (*before_write)(void *ctx);
	void *hook_ctx;
};

/**
 * struct dp_persist_stats - counters, readable from any thread.
 * @published: contents handed over
 * @writes:    files written (a content replaced before its turn is not)
 * @errors:    writes that failed
 */
struct dp_persist_stats {
	uint64_t published;
	uint64_t writes;
	uint64_t errors;
};

struct dp_persist;

/**
 * dp_persist_create() - allocate the buffers; no thread yet.
 * @out: the writer
 * @cfg: configuration
 *
 * Return: 0, -EINVAL (no name, a '/' in it, too long, @cap 0), -ENOMEM, or
 * -errno of the eventfd.
 */
int dp_persist_create(struct dp_persist **out, const struct dp_persist_cfg *cfg);

/**
 * dp_persist_start() - start the writer thread.
 * @p: writer
 *
 * Return: 0, or -errno of pthread_create().
 */
int dp_persist_start(struct dp_persist *p);

/**
 * dp_persist_buf() - the producer's buffer, dp_persist_cap() bytes. Only
 * the producer's thread uses it, until dp_persist_publish().
 * @p: writer
 *
 * Return: the buffer.
 */
char *dp_persist_buf(struct dp_persist *p);

/**
 * dp_persist_cap() - the size of the producer's buffer.
 * @p: writer
 *
 * Return: @cfg->cap.
 */
size_t dp_persist_cap(const struct dp_persist *p);

/**
 * dp_persist_publish() - hand the buffer's first @len bytes to the writer
 * as the file's new content; never blocks. dp_persist_buf() gives another
 * buffer afterwards.
 * @p:   writer
 * @len: content length (at most the capacity)
 */
void dp_persist_publish(struct dp_persist *p, size_t len);

/**
 * dp_persist_stop() - write the latest content if it is not written yet
 * (once: a failure is logged), then end the thread and join it. Harmless
 * if the thread never started or already stopped.
 * @p: writer
 */
void dp_persist_stop(struct dp_persist *p);

/**
 * dp_persist_get_stats() - the counters; any thread.
 * @p: writer
 * @s: filled
 */
void dp_persist_get_stats(const struct dp_persist *p, struct dp_persist_stats *s);

/**
 * dp_persist_destroy() - stop (see dp_persist_stop()) and free; NULL is fine.
 * @p: writer
 */
void dp_persist_destroy(struct dp_persist *p);

#endif /* ARCNAT_DP_PERSIST_H */
