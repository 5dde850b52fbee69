// SPDX-License-Identifier: MIT
/*
 * test_sock_tcp_fwd.c - the TCP relay opening towards the guest
 * (sock_tcp_accept(), a port forward's client): the harness of
 * sock_tcp_fx.h with a passive guest, and real clients on 127.0.0.1 that
 * connect to a listener of the test's (the forward's, in arcnat the
 * port's) whose accepted sockets go to the relay. Every test counts the
 * process's descriptors back to where they were.
 */
#include "sock_tcp_fx.h"
#include "test_exit.h"
#include "uplink/sock_defs.h"

#define FWD_PORT 8080u	/* the forward's external port (host order) */

/* A client connects to the forward's listener @lfd (port @lport); the
 * relay takes the accepted socket as a client of @g (passive, its rport
 * set to the client's port). Return: the client's socket, non-blocking;
 * *@ret what sock_tcp_accept() said. */
static int fwd_client(struct fx *f, struct guest *g, int lfd, uint16_t lport,
		      int *ret)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(lport),
				  .sin_addr.s_addr = LO };
	socklen_t sl = sizeof(sa);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a;

	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(c, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(fcntl(c, F_SETFL, O_NONBLOCK), 0);
	a = accept_nb(lfd);
	assert_true(a >= 0);
	g->passive = true;
	g->rport = ntohs(sa.sin_port);
	*ret = sock_tcp_accept(f->t, a, g->raddr, sa.sin_port, htons(g->eport),
			       fx_now(f));
	return c;
}

static bool g_syn_seen(struct fx *f, void *arg)
{
	(void)f;
	return ((struct guest *)arg)->syns_seen > 0;
}

static bool g_rst_seen(struct fx *f, void *arg)
{
	(void)f;
	return ((struct guest *)arg)->rst;
}

/* The client's socket was reset: ECONNRESET, at once. */
static void assert_reset(int c)
{
	char b[8];
	ssize_t r = recv(c, b, sizeof(b), 0);

	assert_int_equal(r, -1);
	assert_int_equal(errno, ECONNRESET);
}

/* Both directions of a forwarded connection at once. */
struct fwd_bulk {
	struct guest *g;
	int cfd;
	const uint8_t *down;	/* client -> guest */
	size_t down_len, down_off;
	uint8_t *up;		/* guest -> client, as the client read it */
	size_t up_len, up_want;
};

static bool fwd_bulk_step(struct fx *f, void *arg)
{
	struct fwd_bulk *b = arg;
	ssize_t n;

	(void)f;
	while (b->down_off < b->down_len) {
		n = send(b->cfd, b->down + b->down_off, b->down_len - b->down_off,
			 MSG_DONTWAIT);
		if (n <= 0)
			break;
		b->down_off += (size_t)n;
	}
	while (b->up_len < b->up_want) {
		n = recv(b->cfd, b->up + b->up_len, b->up_want - b->up_len,
			 MSG_DONTWAIT);
		if (n <= 0)
			break;
		b->up_len += (size_t)n;
	}
	return b->up_len == b->up_want && b->g->rx_len == b->down_len &&
	       b->g->snd_una == b->g->iss + 1 + b->g->tx_len;
}

/*
 * The fixture of every test: a relay of 8 connections (fwd_setup()), or of
 * 3 with 2 opening at once (fwd_setup_small()), the forward's listener,
 * and one passive guest (fwd_connect(): its client connected, accepted
 * and handed to the relay). The teardown closes what the test left open
 * and counts the process's descriptors back to where they were, after a
 * failed test too.
 */
struct fwd {
	struct fx f;
	struct guest g;
	unsigned int fds0;
	uint16_t lport;
	int lfd;
	int cfd;	/* the guest's client, -1 once closed */
};

static int fwd_setup_conns(void **state, uint32_t max_conns,
			   uint32_t max_opening)
{
	struct fwd *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->fds0 = count_fds();
	fx_init(&w->f, max_conns, false, false);
	if (max_opening)
		w->f.cfg.max_opening = max_opening;
	fx_start(&w->f);
	w->lfd = listener(&w->lport, 8);
	w->cfd = -1;
	*state = w;
	return 0;
}

static int fwd_setup(void **state)
{
	return fwd_setup_conns(state, 8, 0);
}

static int fwd_setup_small(void **state)
{
	return fwd_setup_conns(state, 3, 2);
}

static int fwd_teardown(void **state)
{
	struct fwd *w = *state;
	unsigned int fds0 = w->fds0;

	if (w->cfd >= 0)
		close(w->cfd);
	close(w->lfd);
	fx_fini(&w->f);
	free(w);
	assert_int_equal(count_fds(), fds0);
	return 0;
}

/* The guest (flow @flow, on the forward's port) doing @on_syn with the
 * relay's SYN, and its client, which sock_tcp_accept() took. */
static void fwd_connect(struct fwd *w, uint32_t flow, enum g_on_syn on_syn)
{
	int ret;

	g_init(&w->g, flow, FWD_PORT, 0);
	w->g.on_syn = on_syn;
	w->cfd = fwd_client(&w->f, &w->g, w->lfd, w->lport, &ret);
	assert_int_equal(ret, 0);
}

static void fwd_client_close(struct fwd *w)
{
	close(w->cfd);
	w->cfd = -1;
}

#define FWD_TEST(t) \
	cmocka_unit_test_setup_teardown(t, fwd_setup, fwd_teardown)
#define FWD_TEST_SMALL(t) \
	cmocka_unit_test_setup_teardown(t, fwd_setup_small, fwd_teardown)

/* accept -> SYN with the right tuple and options; nothing of the client's
 * before the guest answers; the SYN-ACK binds, and 512 KiB go each way,
 * compared byte for byte; both close in order. */
static void fwd_open_and_relay(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	const size_t size = 512u << 10;
	uint8_t *down = malloc(size), *up = malloc(size);
	struct fwd_bulk b = { 0 };
	struct sock_tcp_stats st;

	assert_non_null(down);
	assert_non_null(up);
	fill(down, size, 7);
	fill(up, size, 8);
	fwd_connect(w, 5, G_SILENT);
	g->offer_sack = true;
	/* the client speaks first: its bytes wait in its socket */
	assert_int_equal(send(w->cfd, down, 1000, 0), 1000);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	assert_int_equal(g->syns_seen, 1);
	assert_int_equal(g->syn_mss, 1460);
	assert_true(g->syn_wscale);
	assert_int_equal(g->peer_wscale, 8);
	assert_true(g->sack_ok);
	assert_true(g->peer_wnd > 0);
	fx_pump(f, g, 1, 30, NULL, NULL);
	assert_int_equal(g->rx_len, 0);
	st = fx_stats(f);
	assert_int_equal(st.fwd_accepted, 1);
	assert_int_equal(st.fwd_established, 0);
	assert_int_equal(st.active, 1);
	/* the guest answers: bound, an ACK, then the client's bytes */
	g->on_syn = G_ANSWER;
	g_answer_syn(f, g);
	assert_int_equal(fx_stats(f).fwd_established, 1);
	b.g = g;
	b.cfd = w->cfd;
	b.down = down;
	b.down_len = size;
	b.down_off = 1000;
	b.up = malloc(size);
	assert_non_null(b.up);
	b.up_want = size;
	g->tx = up;
	g->tx_len = size;
	fx_pump(f, g, 1, 20000, fwd_bulk_step, &b);
	assert_int_equal(g->rx_len, size);
	assert_memory_equal(g->rx, down, size);
	assert_int_equal(b.up_len, size);
	assert_memory_equal(b.up, up, size);
	st = fx_stats(f);
	assert_int_equal(st.to_remote_bytes, size);
	assert_int_equal(st.to_guest_bytes, size);
	/* the guest closes, the client reads EOF and closes: done */
	g->tx_fin = true;
	fx_pump(f, g, 1, 50, NULL, NULL);
	{
		char c;

		assert_int_equal(recv(w->cfd, &c, 1, 0), 0);
	}
	fwd_client_close(w);
	fx_pump(f, g, 1, 2000, relay_empty, NULL);
	assert_true(g->fin);
	st = fx_stats(f);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.closed, 1);
	free(b.up);
	free(down);
	free(up);
}

/* A guest that never answers: the SYN again at 1, 2, 4, 8 and 16 s after
 * the one before, then the client reset (ECONNRESET) and an RST to the
 * guest. */
static void fwd_syn_retransmitted_then_given_up(void **state)
{
	static const unsigned int gap_ms[] = { 1000, 2000, 4000, 8000, 16000 };
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	unsigned int i;

	fwd_connect(w, 6, G_SILENT);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	assert_int_equal(g->syns_seen, 1);
	for (i = 0; i < 5; i++) {
		/* not before its time ... */
		f->skew += (uint64_t)(gap_ms[i] - 100) * 1000000ull;
		fx_pump(f, g, 1, 20, NULL, NULL);
		assert_int_equal(g->syns_seen, i + 1);
		/* ... and then */
		f->skew += 200ull * 1000000ull;
		fx_pump(f, g, 1, 20, NULL, NULL);
		assert_int_equal(g->syns_seen, i + 2);
		assert_int_equal(fx_stats(f).active, 1);
	}
	f->skew += 32ull * 1000000000ull;
	fx_pump(f, g, 1, 2000, g_rst_seen, g);
	assert_true(g->rst);
	assert_int_equal(g->syns_seen, 6);
	assert_int_equal(fx_stats(f).fwd_syn_timeout, 1);
	assert_int_equal(fx_stats(f).active, 0);
	assert_reset(w->cfd);
}

/* Nothing listens on the guest's port: its RST resets the client at once;
 * an RST that acknowledges another number does not. */
static void fwd_guest_refuses(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;

	fwd_connect(w, 7, G_SILENT);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	g_send(f, g, TCP_RST | TCP_ACK, 0, g->rel_iss + 2, NULL, 0, false);
	g_send(f, g, TCP_RST, g->rel_iss + 1, 0, NULL, 0, false);
	assert_int_equal(fx_stats(f).active, 1);
	g->on_syn = G_REFUSE;
	g_answer_syn(f, g);
	assert_int_equal(fx_stats(f).fwd_refused, 1);
	assert_int_equal(fx_stats(f).active, 0);
	assert_reset(w->cfd);
	/* the relay says nothing more to the guest */
	assert_false(sock_tcp_pending(f->t));
}

/* A SYN-ACK acknowledging another number gets an RST <SEQ=its ACK> and
 * binds nothing; the SYN resent at its RTO is then answered properly and
 * the connection carries data. */
static void fwd_synack_with_a_bad_ack(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	char buf[16];

	fwd_connect(w, 8, G_BAD_ACK);
	fx_pump(f, g, 1, 2000, g_rst_seen, g);
	assert_true(g->rst);
	assert_int_equal(fx_stats(f).fwd_established, 0);
	assert_int_equal(fx_stats(f).active, 1);
	assert_int_equal(fx_stats(f).rst_sent, 1);
	g->rst = false;
	g->on_syn = G_ANSWER;
	f->skew += 1100ull * 1000000ull;
	fx_pump(f, g, 1, 100, NULL, NULL);
	assert_int_equal(g->syns_seen, 2);
	assert_true(g->synack);
	assert_false(g->rst);
	assert_int_equal(fx_stats(f).fwd_established, 1);
	g->tx = (const uint8_t *)"hello client";
	g->tx_len = 12;
	fx_pump(f, g, 1, 50, NULL, NULL);
	assert_int_equal(recv(w->cfd, buf, sizeof(buf), 0), 12);
	assert_memory_equal(buf, "hello client", 12);
	assert_int_equal(send(w->cfd, "hi guest", 8, 0), 8);
	fx_pump(f, g, 1, 50, NULL, NULL);
	assert_int_equal(g->rx_len, 8);
	assert_memory_equal(g->rx, "hi guest", 8);
}

/* max_opening clients waiting: the next is reset (-EBUSY), as is one for a
 * 4-tuple already opening (-EEXIST) and one beyond max_conns (-ENOSPC);
 * each counted, none of their descriptors left. */
static void fwd_no_room_resets_the_client(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest g[5];
	unsigned int i;
	int cfd[5], ret, c2, a;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = LO };

	for (i = 0; i < 3; i++) {
		g_init(&g[i], 20 + i, FWD_PORT, 0);
		g[i].on_syn = G_SILENT;
		cfd[i] = fwd_client(f, &g[i], w->lfd, w->lport, &ret);
		assert_true(sock_tcp_can_accept(f->t) == (i == 0));
		assert_int_equal(ret, i < 2 ? 0 : -EBUSY);
	}
	assert_reset(cfd[2]);
	assert_int_equal(fx_stats(f).fwd_no_slot, 1);
	assert_int_equal(fx_stats(f).active, 2);
	/* the same 4-tuple as the first, again */
	c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons(w->lport);
	assert_int_equal(connect(c2, (struct sockaddr *)&sa, sizeof(sa)), 0);
	a = accept_nb(w->lfd);
	assert_true(a >= 0);
	assert_int_equal(sock_tcp_accept(f->t, a, LO, htons(g[0].rport),
					 htons(FWD_PORT), fx_now(f)),
			 -EEXIST);
	assert_reset(c2);
	close(c2);
	assert_int_equal(fx_stats(f).fwd_exists, 1);
	/* the guest answers one; the third slot is taken by a new client,
	 * and a fourth finds no slot */
	fx_pump(f, g, 2, 2000, g_syn_seen, &g[1]);
	g[0].on_syn = G_ANSWER;
	g_answer_syn(f, &g[0]);
	assert_int_equal(fx_stats(f).fwd_established, 1);
	g_init(&g[3], 23, FWD_PORT, 0);
	cfd[3] = fwd_client(f, &g[3], w->lfd, w->lport, &ret);
	assert_int_equal(ret, 0);
	assert_false(sock_tcp_can_accept(f->t));
	g_init(&g[4], 24, FWD_PORT, 0);
	cfd[4] = fwd_client(f, &g[4], w->lfd, w->lport, &ret);
	assert_int_equal(ret, -ENOSPC);
	assert_reset(cfd[4]);
	assert_int_equal(fx_stats(f).fwd_no_slot, 2);
	assert_int_equal(fx_stats(f).fwd_accepted, 3);
	assert_int_equal(fx_stats(f).active, 3);
	/* a bad descriptor or tuple */
	assert_int_equal(sock_tcp_accept(f->t, -1, LO, 1, 1, fx_now(f)), -EBADF);
	for (i = 0; i < 5; i++)
		close(cfd[i]);
}

/* An ICMP destination unreachable quoting our SYN (as the NAT translates
 * one of the guest's, or the gateway's own) resets the client; one quoting
 * another sequence number does nothing. */
static void fwd_icmp_unreachable(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	int n;
	struct dp_buf *bp[1] = { &f->bufs[0] };
	uint8_t syn[64], err[256];
	uint32_t synlen, seq;
	struct pkt_meta m;
	struct pkt_icmp4_err e = {
		.no_eth = true,
		.src4 = htonl(0x0a000202u),
		.dst4 = LO,
		.type = ICMP_DEST_UNREACH,
		.code = ICMP_PORT_UNREACH,
		.quote = syn,
	};

	fwd_connect(w, 9, G_ANSWER);
	dp_buf_reset(&f->bufs[0]);
	assert_int_equal(sock_tcp_output(f->t, bp, 1, fx_now(f)), 1);
	synlen = f->bufs[0].len;
	assert_true(synlen <= sizeof(syn));
	memcpy(syn, f->bufs[0].data, synlen);
	e.quote_len = synlen;
	/* a quote of another sequence number first */
	memcpy(&seq, syn + 24, 4);
	seq = htonl(ntohl(seq) + 1);
	memcpy(syn + 24, &seq, 4);
	n = pkt_build_icmp4_error(&e, err, sizeof(err));
	assert_true(n > 0);
	assert_int_equal(pkt_parse(err, (size_t)n, PKT_PARSE_L3, &m), 0);
	sock_tcp_icmp(f->t, err, (uint32_t)n, &m, fx_now(f));
	assert_int_equal(fx_stats(f).active, 1);
	memcpy(syn, f->bufs[0].data, synlen);
	n = pkt_build_icmp4_error(&e, err, sizeof(err));
	assert_true(n > 0);
	assert_int_equal(pkt_parse(err, (size_t)n, PKT_PARSE_L3, &m), 0);
	sock_tcp_icmp(f->t, err, (uint32_t)n, &m, fx_now(f));
	assert_int_equal(fx_stats(f).fwd_unreachable, 1);
	assert_int_equal(fx_stats(f).active, 0);
	assert_reset(w->cfd);
}

/* The client resets before the guest answers: the guest gets an RST for
 * our SYN, and its late SYN-ACK is answered with an RST too (no
 * connection). */
static void fwd_client_resets_first(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	struct linger l = { 1, 0 };

	fwd_connect(w, 10, G_SILENT);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	setsockopt(w->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	fwd_client_close(w);
	fx_pump(f, g, 1, 2000, g_rst_seen, g);
	assert_true(g->rst);
	assert_int_equal(fx_stats(f).fwd_client_gone, 1);
	assert_int_equal(fx_stats(f).active, 0);
	g->rst = false;
	g->on_syn = G_ANSWER;
	g_answer_syn(f, g);
	fx_pump(f, g, 1, 2000, g_rst_seen, g);
	assert_true(g->rst);
	assert_int_equal(fx_stats(f).no_conn, 1);
}

/* The bound connection is an ordinary one: its flow going resets the
 * client; a guest's SYN to 198.19.0.1 reaches the host's 127.0.0.1. */
static void fwd_flow_gone_and_host_loopback(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	struct guest h;
	int rfd;

	fwd_connect(w, 11, G_ANSWER);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	fx_pump(f, g, 1, 20, NULL, NULL);
	assert_int_equal(fx_stats(f).fwd_established, 1);
	sock_tcp_flow_gone(f->t, g->flow);
	assert_int_equal(fx_stats(f).flow_gone, 1);
	assert_int_equal(fx_stats(f).active, 0);
	assert_reset(w->cfd);
	fwd_client_close(w);
	/* the host's loopback as the guest addresses it */
	g_init(&h, 12, 40100, w->lport);
	h.raddr = htonl(SOCK_LO_NET_HOST | 1u);
	rfd = g_open(f, &h, w->lfd);
	assert_int_equal(fx_stats(f).established, 1);
	close(rfd);
	fx_pump(f, &h, 1, 2000, g_fin_seen, &h);
	h.tx_fin = true;
	f->skew += 3000000000ull;
	fx_pump(f, &h, 1, 2000, relay_empty, NULL);
}

/* A new client on the ports of a connection lingering in TIME_WAIT (the
 * client closed first) on the same flow: the guest's SYN-ACK ends the
 * lingering one and binds the new one, which carries data. The second
 * client's port is given as the first's, as a host reusing it would. */
static void fwd_time_wait_gives_way(void **state)
{
	struct fwd *w = *state;
	struct fx *f = &w->f;
	struct guest *g = &w->g;
	uint16_t port;
	int c2, a;
	char buf[16];

	fwd_connect(w, 13, G_ANSWER);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	fx_pump(f, g, 1, 20, NULL, NULL);
	assert_int_equal(fx_stats(f).fwd_established, 1);
	/* the client closes first, then the guest: the relay lingers */
	fwd_client_close(w);
	fx_pump(f, g, 1, 2000, g_fin_seen, g);
	g->tx_fin = true;
	fx_pump(f, g, 1, 50, NULL, NULL);
	assert_int_equal(fx_stats(f).closed, 1);
	assert_int_equal(fx_stats(f).active, 1);
	/* the next client, same ports, same flow */
	port = g->rport;
	g_init(g, 13, FWD_PORT, port);
	g->passive = true;
	g->iss += 777777u;
	c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(w->lport),
					  .sin_addr.s_addr = LO };

		assert_int_equal(connect(c2, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	a = accept_nb(w->lfd);
	assert_true(a >= 0);
	assert_int_equal(sock_tcp_accept(f->t, a, LO, htons(port), htons(FWD_PORT),
					 fx_now(f)),
			 0);
	fx_pump(f, g, 1, 2000, g_syn_seen, g);
	fx_pump(f, g, 1, 20, NULL, NULL);
	assert_int_equal(fx_stats(f).fwd_established, 2);
	assert_int_equal(fx_stats(f).active, 1);
	g->tx = (const uint8_t *)"second";
	g->tx_len = 6;
	fx_pump(f, g, 1, 50, NULL, NULL);
	assert_int_equal(recv(c2, buf, sizeof(buf), 0), 6);
	assert_memory_equal(buf, "second", 6);
	close(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FWD_TEST(fwd_open_and_relay),
		FWD_TEST(fwd_syn_retransmitted_then_given_up),
		FWD_TEST(fwd_guest_refuses),
		FWD_TEST(fwd_synack_with_a_bad_ack),
		FWD_TEST_SMALL(fwd_no_room_resets_the_client),
		FWD_TEST(fwd_icmp_unreachable),
		FWD_TEST(fwd_client_resets_first),
		FWD_TEST(fwd_flow_gone_and_host_loopback),
		FWD_TEST(fwd_time_wait_gives_way),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
