// SPDX-License-Identifier: MIT
/*
 * test_persist.c - the lease file's writer thread (dp/persist).
 *
 * A test hook blocks the writer before it writes. While it is blocked,
 * publishing returns at once, newer contents replace older unwritten ones,
 * the file keeps its old content, and a datapath worker with the DHCP
 * server goes on answering DHCP and forwarding. Once released, the file
 * catches up with the newest content. A reader thread checks all along that
 * the file is always one complete content, never a mix or a prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/log.h"
#include "dp/persist.h"
#include "dp/worker.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/dhcp.h"
#include "prot/eth.h"
#include "prot/udp.h"

#define BIG		(1u << 20)	/* content size: a torn write would show */
#define WAIT_MS		5000
#define MEMPORT_WAIT_MS	WAIT_MS
#include "gw_fixture.h"
#include "memport.h"

/* ---- the blocking hook ---- */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	unsigned int entered;
};

static void gate_hook(void *ctx)
{
	struct gate *g = ctx;

	pthread_mutex_lock(&g->lock);
	g->entered++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gate_init(struct gate *g, bool open)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->open = open;
}

static void gate_wait_entered(struct gate *g, unsigned int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&g->lock);
	while (g->entered < n)
		if (pthread_cond_timedwait(&g->cond, &g->lock, &ts))
			break;
	pthread_mutex_unlock(&g->lock);
	assert_true(g->entered >= n);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- files ---- */

struct dir {
	char path[64];
	char file[96];
	int fd;
};

static void dir_make(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/test_persist.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/leases", d->path);
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->fd >= 0);
}

static unsigned int dir_count(const struct dir *d)
{
	DIR *dd = opendir(d->path);
	struct dirent *e;
	unsigned int n = 0;

	assert_non_null(dd);
	while ((e = readdir(dd)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dd);
	return n;
}

static void dir_remove(struct dir *d)
{
	unlink(d->file);
	close(d->fd);
	assert_int_equal(rmdir(d->path), 0);
}

/* The file's content into @buf (at most @cap); Return: its length, -1 if none. */
static ssize_t read_all(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < cap && (n = read(fd, buf + off, cap - off)) > 0)
		off += (size_t)n;
	close(fd);
	return (ssize_t)off;
}

/* Content @c: BIG - 1 bytes of the letter, then a newline. */
static void fill(char *buf, char c)
{
	memset(buf, c, BIG - 1);
	buf[BIG - 1] = '\n';
}

/* Return: the letter of a complete content, '?' for anything else. */
static char letter_of(const char *buf, ssize_t len)
{
	if (len != (ssize_t)BIG || buf[BIG - 1] != '\n')
		return '?';
	for (size_t i = 1; i < BIG - 1; i++)
		if (buf[i] != buf[0])
			return '?';
	return buf[0];
}

static char file_letter(const char *path)
{
	static char buf[BIG + 1];

	return letter_of(buf, read_all(path, buf, sizeof(buf)));
}

/* ---- a reader that never may see a torn file ---- */

struct reader {
	const char *path;
	pthread_t th;
	atomic_bool stop;
	atomic_uint reads, torn;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	char *buf = malloc(BIG + 1);

	assert_non_null(buf);
	while (!atomic_load(&r->stop)) {
		ssize_t n = read_all(r->path, buf, BIG + 1);

		if (n >= 0 && letter_of(buf, n) == '?')
			atomic_fetch_add(&r->torn, 1);
		atomic_fetch_add(&r->reads, 1);
	}
	free(buf);
	return NULL;
}

/* ---- the writer alone ---- */

static void blocked_writer_catches_up_atomically(void **state)
{
	struct gate g;
	struct dir d = { 0 };
	struct dp_persist *p;
	struct dp_persist_stats s = { 0 };
	struct reader r = { 0 };
	struct dp_persist_cfg cfg = {
		.name = "leases", .cap = BIG, .retry_sec = 1,
		.before_write = gate_hook, .hook_ctx = &g,
	};
	char *old = malloc(BIG);
	uint64_t t0;

	(void)state;
	assert_non_null(old);
	gate_init(&g, false);
	dir_make(&d);
	fill(old, 'o');
	{
		FILE *f = fopen(d.file, "w");

		assert_non_null(f);
		assert_int_equal(fwrite(old, 1, BIG, f), BIG);
		assert_int_equal(fclose(f), 0);
	}
	cfg.dirfd = d.fd;
	assert_int_equal(dp_persist_create(&p, &cfg), 0);
	assert_int_equal(dp_persist_start(p), 0);
	r.path = d.file;
	assert_int_equal(pthread_create(&r.th, NULL, reader_thread, &r), 0);

	/* A is taken by the writer, which then blocks in the hook. */
	fill(dp_persist_buf(p), 'A');
	dp_persist_publish(p, BIG);
	gate_wait_entered(&g, 1);
	/* B and C while it is blocked: each returns at once; C replaces B. */
	t0 = mono_ms();
	fill(dp_persist_buf(p), 'B');
	dp_persist_publish(p, BIG);
	fill(dp_persist_buf(p), 'C');
	dp_persist_publish(p, BIG);
	assert_true(mono_ms() - t0 < 1000);
	sleep_ms(300);
	assert_int_equal(file_letter(d.file), 'o');
	dp_persist_get_stats(p, &s);
	assert_int_equal(s.published, 3);
	assert_int_equal(s.writes, 0);

	/* Released: A is written, then C (B never is); C is the file. */
	gate_open(&g);
	for (t0 = mono_ms(); mono_ms() - t0 < WAIT_MS; sleep_ms(10)) {
		dp_persist_get_stats(p, &s);
		if (s.writes == 2)
			break;
	}
	assert_int_equal(s.writes, 2);
	assert_int_equal(s.errors, 0);
	assert_int_equal(file_letter(d.file), 'C');
	/* Only the file: no temporary left behind. */
	assert_int_equal(dir_count(&d), 1);

	atomic_store(&r.stop, true);
	pthread_join(r.th, NULL);
	assert_true(atomic_load(&r.reads) > 0);
	assert_int_equal(atomic_load(&r.torn), 0);
	dp_persist_destroy(p);
	dir_remove(&d);
	free(old);
}

static void count_sink(void *ctx, enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
	atomic_fetch_add((atomic_uint *)ctx, 1);
}

/* A failed write is logged once, counted, retried; the newest content wins. */
static void failed_write_is_retried(void **state)
{
	struct dir d = { 0 };
	struct dp_persist *p;
	struct dp_persist_stats s = { 0 };
	struct dp_persist_cfg cfg = { .name = "leases", .cap = 64, .retry_sec = 1 };
	char tmp[128], sub[160], got[64];
	atomic_uint logged = 0;
	uint64_t t0;

	(void)state;
	dir_make(&d);
	/* A directory where the temporary goes: every write fails. */
	snprintf(tmp, sizeof(tmp), "%s/leases.tmp", d.path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/x", tmp);
	assert_int_equal(mkdir(sub, 0700), 0);
	log_set_sink(count_sink, &logged);
	cfg.dirfd = d.fd;
	assert_int_equal(dp_persist_create(&p, &cfg), 0);
	assert_int_equal(dp_persist_start(p), 0);
	memcpy(dp_persist_buf(p), "one\n", 4);
	dp_persist_publish(p, 4);
	for (t0 = mono_ms(); mono_ms() - t0 < WAIT_MS; sleep_ms(10)) {
		dp_persist_get_stats(p, &s);
		if (s.errors >= 2)	/* the first try, and one retry 1 s later */
			break;
	}
	assert_true(s.errors >= 2);
	assert_int_equal(s.writes, 0);
	assert_int_equal(atomic_load(&logged), 1);
	memcpy(dp_persist_buf(p), "two\n", 4);
	dp_persist_publish(p, 4);
	/* The obstacle goes: the next try writes the newest content. */
	rmdir(sub);
	rmdir(tmp);
	for (t0 = mono_ms(); mono_ms() - t0 < WAIT_MS; sleep_ms(10)) {
		dp_persist_get_stats(p, &s);
		if (s.writes == 1)
			break;
	}
	assert_int_equal(s.writes, 1);
	assert_int_equal(read_all(d.file, got, sizeof(got)), 4);
	assert_memory_equal(got, "two\n", 4);
	assert_int_equal(atomic_load(&logged), 2);	/* "written again" */
	dp_persist_destroy(p);
	log_set_sink(NULL, NULL);
	dir_remove(&d);
}

/* Stopping writes what was published last; without a start, nothing. */
static void stop_writes_the_last_content(void **state)
{
	struct dir d = { 0 };
	struct dp_persist *p;
	struct dp_persist_cfg cfg = { .name = "leases", .cap = 64, .retry_sec = 1 };
	char got[64];

	(void)state;
	dir_make(&d);
	cfg.dirfd = d.fd;
	assert_int_equal(dp_persist_create(&p, &cfg), 0);
	dp_persist_destroy(p);
	assert_int_equal(dir_count(&d), 0);
	assert_int_equal(dp_persist_create(&p, &cfg), 0);
	assert_int_equal(dp_persist_start(p), 0);
	memcpy(dp_persist_buf(p), "last\n", 5);
	dp_persist_publish(p, 5);
	dp_persist_stop(p);
	assert_int_equal(read_all(d.file, got, sizeof(got)), 5);
	assert_memory_equal(got, "last\n", 5);
	dp_persist_destroy(p);
	/* Bad names. */
	cfg.name = "a/b";
	assert_int_equal(dp_persist_create(&p, &cfg), -EINVAL);
	cfg.name = "";
	assert_int_equal(dp_persist_create(&p, &cfg), -EINVAL);
	dir_remove(&d);
}

/* ---- the writer blocked under a running worker ---- */

/* Assert-on-failure forms of memport.h's push and wait. */
static void mp_push(struct memport *m, const uint8_t *frame, size_t len)
{
	assert_int_equal(memport_push(m, frame, len, NULL), 0);
}

static void mp_wait(struct memport *m, unsigned int n, struct mframe *f)
{
	if (!memport_wait(m, n, f))
		fail_msg("port sent fewer than %u frames", n);
}

/* The next frame the guests got that is not ARP: an OFFER comes with the
 * server's ARP probe of the address (svc/dhcp.h, "Addresses in use by
 * other hosts"). @n counts the frames seen. */
static void mp_wait_ip(struct memport *m, unsigned int *n, struct mframe *f)
{
	for (unsigned int i = 0; i < 4; i++) {
		mp_wait(m, ++*n, f);
		if (f->len < ETH_HLEN || f->data[12] != (ETH_P_ARP >> 8) ||
		    f->data[13] != (ETH_P_ARP & 0xff))
			return;
	}
	fail_msg("only ARP frames from the gateway");
}

static const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A DHCP message of @type from the guest; @ip: option 50 (0 = none). */
static size_t dhcp_frame(uint8_t *buf, uint8_t type, uint32_t ip)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	uint8_t msg[300] = { 0 };
	struct bootp_hdr h = { 0 };
	struct pkt_spec s = {
		.src4 = 0,
		.dst4 = 0xffffffffu,
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = DHCP_CLIENT_PORT,
		.dport = DHCP_SERVER_PORT,
		.payload = msg,
		.payload_len = sizeof(msg),
	};
	size_t o = DHCP_OPTS_OFF;
	int n;

	h.op = BOOTP_REQUEST;
	h.htype = BOOTP_HTYPE_ETHER;
	h.hlen = ETH_ALEN;
	h.xid = htonl(0x1234);
	memcpy(h.chaddr, guest_mac, ETH_ALEN);
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + BOOTP_HDR_LEN, cookie, 4);
	msg[o++] = DHCP_OPT_MSG_TYPE;
	msg[o++] = 1;
	msg[o++] = type;
	if (ip) {
		msg[o++] = DHCP_OPT_REQUESTED_IP;
		msg[o++] = 4;
		memcpy(msg + o, &ip, 4);
		o += 4;
	}
	msg[o] = DHCP_OPT_END;
	memset(s.eth_dst, 0xff, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = pkt_build(&s, buf, MEMPORT_FRAME);
	assert_true(n > 0);
	return (size_t)n;
}

/* The message type of a DHCP reply frame; its yiaddr to @yi. */
static uint8_t dhcp_reply(const struct mframe *f, uint32_t *yi)
{
	struct pkt_meta m;
	struct bootp_hdr h;
	const uint8_t *p;
	size_t len, o = DHCP_OPTS_OFF;

	assert_int_equal(pkt_parse(f->data, f->len, 0, &m), PKT_DROP_OK);
	assert_int_equal(ntohs(m.sport), DHCP_SERVER_PORT);
	p = f->data + m.payload_off;
	len = m.l4_off + m.l4_len - m.payload_off;
	assert_true(len > DHCP_OPTS_OFF);
	memcpy(&h, p, sizeof(h));
	*yi = h.yiaddr;
	while (o + 2 < len && p[o] != DHCP_OPT_END) {
		if (p[o] == DHCP_OPT_MSG_TYPE)
			return p[o + 2];
		o += p[o] == 0 ? 1 : 2u + p[o + 1];
	}
	fail_msg("no message type in the reply");
	return 0;
}

static size_t udp_frame(uint8_t *buf, uint16_t sport)
{
	struct pkt_spec s = {
		.src4 = htonl(0x0a000202),
		.dst4 = htonl(0xc6336401),
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = sport,
		.dport = 7,
		.payload = "hello",
		.payload_len = 5,
	};
	int n;

	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = pkt_build(&s, buf, MEMPORT_FRAME);
	assert_true(n > 0);
	return (size_t)n;
}

struct wenv {
	struct memport in, out;
	struct nat *nat;
	struct dp_worker *w;
	int run_err;
};

static void *wenv_thread(void *arg)
{
	struct wenv *e = arg;

	e->run_err = dp_worker_run(e->w);
	return NULL;
}

static void worker_goes_on_while_the_writer_is_blocked(void **state)
{
	struct wenv *e = calloc(1, sizeof(*e));
	struct nat_config nc;
	struct dhcp_cfg dh = { 0 };
	struct dp_config dc;
	struct dp_persist_cfg pc = {
		.name = "leases", .cap = DHCP_FILE_MAX, .retry_sec = 1,
		.before_write = gate_hook,
	};
	struct dp_persist *p;
	struct dp_persist_stats s = { 0 };
	struct mframe f;
	struct gate g;
	struct dir d = { 0 };
	pthread_t th;
	uint8_t buf[MEMPORT_FRAME];
	char text[4096], want[32];
	uint32_t yi = 0, yi2 = 0;
	size_t len;
	unsigned int n_in = 0, n_out = 0;
	uint64_t t0;

	(void)state;
	assert_non_null(e);
	gate_init(&g, false);
	dir_make(&d);
	pc.dirfd = d.fd;
	pc.hook_ctx = &g;
	assert_int_equal(dp_persist_create(&p, &pc), 0);
	assert_int_equal(dp_persist_start(p), 0);

	assert_int_equal(memport_init(&e->in, 0, 0), 0);
	assert_int_equal(memport_init(&e->out, DP_PORT_L3, 0), 0);
	nc = gw_fixture_nat(1024);
	assert_int_equal(nat_create(&e->nat, &nc), 0);
	dh.server = htonl(0x0a000201);
	dh.plen = 24;
	memcpy(dh.server_mac, gw_mac, 6);
	dh.lease_file = d.file;
	dc = gw_fixture_dp(&e->in.port, &e->out.port, e->nat);
	dc.dhcp = &dh;
	dc.leases = p;
	assert_int_equal(dp_worker_create(&e->w, &dc), 0);
	assert_int_equal(pthread_create(&th, NULL, wenv_thread, e), 0);

	/* A lease: DISCOVER, OFFER, REQUEST, ACK. */
	len = dhcp_frame(buf, DHCP_DISCOVER, 0);
	mp_push(&e->in, buf, len);
	mp_wait_ip(&e->in, &n_in, &f);
	assert_int_equal(dhcp_reply(&f, &yi), DHCP_OFFER);
	len = dhcp_frame(buf, DHCP_REQUEST, yi);
	mp_push(&e->in, buf, len);
	mp_wait_ip(&e->in, &n_in, &f);
	assert_int_equal(dhcp_reply(&f, &yi2), DHCP_ACK);
	assert_int_equal(yi2, yi);
	/* The next tick hands the table over; the writer blocks on it. */
	gate_wait_entered(&g, 1);

	/* Blocked: DHCP answers and forwarding go on, for a while. */
	for (unsigned int i = 0; i < 5; i++) {
		len = dhcp_frame(buf, DHCP_REQUEST, yi);
		mp_push(&e->in, buf, len);
		mp_wait_ip(&e->in, &n_in, &f);
		assert_int_equal(dhcp_reply(&f, &yi2), DHCP_ACK);
		len = udp_frame(buf, (uint16_t)(40000 + i));
		mp_push(&e->in, buf, len);
		mp_wait(&e->out, ++n_out, &f);
		sleep_ms(100);
	}
	/* Each renewal changed the table: newer snapshots were handed over. */
	dp_persist_get_stats(p, &s);
	assert_true(s.published >= 2);
	assert_int_equal(s.writes, 0);
	assert_int_equal(read_all(d.file, text, sizeof(text)), -1);

	/* Released: the file catches up with the lease. */
	gate_open(&g);
	inet_ntop(AF_INET, &yi, want, sizeof(want));
	for (t0 = mono_ms(); mono_ms() - t0 < WAIT_MS; sleep_ms(10)) {
		ssize_t n = read_all(d.file, text, sizeof(text) - 1);

		text[n > 0 ? n : 0] = '\0';
		if (strstr(text, want))
			break;
	}
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "52:54:00:12:34:56"));

	dp_worker_stop(e->w);
	pthread_join(th, NULL);
	assert_int_equal(e->run_err, 0);
	dp_persist_destroy(p);
	dp_worker_destroy(e->w);
	nat_destroy(e->nat);
	memport_fini(&e->in);
	memport_fini(&e->out);
	free(e);
	dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_writer_catches_up_atomically),
		cmocka_unit_test(failed_write_is_retried),
		cmocka_unit_test(stop_writes_the_last_content),
		cmocka_unit_test(worker_goes_on_while_the_writer_is_blocked),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
