// SPDX-License-Identifier: MIT
/*
 * dhcp_lease.c - the DHCP lease table (slots, free list, indexes by client
 * and by name, expiry) and the lease file. Theory of operation in
 * dhcp_lease.h.
 */
#include "svc/dhcp_lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/siphash.h"
#include "prot/eth.h"

#define LINE_MAX_LEN	512	/* lease file lines we write are < 260 */
#define BAD_LOG_MAX	5	/* bad lines logged one by one at load */
/* Longest line written: 20 + 17 + 15 + 63 + 128 bytes, 4 spaces, newline. */
static_assert(DHCP_FILE_LINE_MAX >= 20 + 1 + 17 + 1 + 15 + 1 + DHCP_NAME_MAX + 1 +
				    2 * DHCP_CLIENT_ID_MAX + 1, "DHCP_FILE_LINE_MAX");
#define FILE_HEADER \
	"# arcnat DHCP leases: expiry (s since epoch) MAC IP name client-id\n"
static_assert(sizeof(FILE_HEADER) <= DHCP_FILE_HEADER_MAX, "DHCP_FILE_HEADER_MAX");

/* ---- names ---- */

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

bool dhcp_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DHCP_NAME_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!ldh(s[i]))
			return false;
	return true;
}

static uint32_t name_hash(const struct dhcp_leases *t, const char *s,
			  size_t len)
{
	char low[DHCP_NAME_MAX];
	size_t i;

	for (i = 0; i < len && i < sizeof(low); i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	return (uint32_t)siphash13(&t->hkey, low, i);
}

static uint32_t key_hash(const struct dhcp_leases *t, const struct dhcp_key *k)
{
	/* kind, len and the bytes: keys of different kinds never collide. */
	return (uint32_t)siphash13(&t->hkey, k, 2u + k->len);
}

static bool key_eq(const struct dhcp_key *a, const struct dhcp_key *b)
{
	return a->kind == b->kind && a->len == b->len &&
	       !memcmp(a->b, b->b, a->len);
}

/* ---- indexes ---- */

static int idx_init(struct dhcp_idx *x, uint32_t n)
{
	uint32_t size = 16;

	while (size < 2 * n)	/* n <= DHCP_POOL_MAX + DHCP_HOSTS_MAX */
		size <<= 1;
	x->ent = calloc(size, sizeof(*x->ent));
	if (!x->ent)
		return -ENOMEM;
	x->mask = size - 1;
	return 0;
}

static uint32_t ent_hash(const struct dhcp_leases *t, const struct dhcp_idx *x,
			 uint32_t slot)
{
	return x == &t->by_name ? t->l[slot].name_hash : t->l[slot].key_hash;
}

static void idx_insert(struct dhcp_idx *x, uint32_t hash, uint32_t slot)
{
	uint32_t i = hash & x->mask, n;

	/* At most half full: an empty bucket is always found. */
	for (n = 0; n <= x->mask; n++, i = (i + 1) & x->mask) {
		if (!x->ent[i]) {
			x->ent[i] = slot + 1;
			return;
		}
	}
	ARC_ASSERT(0);
}

/*
 * Remove @slot, then move later members of its probe run back into the
 * hole when their home bucket allows it (Knuth, TAOCP 6.4, Algorithm R).
 */
static void idx_remove(const struct dhcp_leases *t, struct dhcp_idx *x,
		       uint32_t hash, uint32_t slot)
{
	uint32_t i = hash & x->mask, hole, j, n;

	for (n = 0; n <= x->mask; n++, i = (i + 1) & x->mask) {
		if (!x->ent[i])
			return;		/* not indexed */
		if (x->ent[i] == slot + 1)
			break;
	}
	if (n > x->mask)
		return;
	hole = j = i;
	x->ent[hole] = 0;
	/* At most half full: the run ends at an empty bucket in time. */
	for (n = 0; n < x->mask; n++) {
		uint32_t home;

		j = (j + 1) & x->mask;
		if (!x->ent[j])
			return;
		home = ent_hash(t, x, x->ent[j] - 1) & x->mask;
		/* It stays if its home lies cyclically in (hole, j]. */
		if (hole <= j ? (hole < home && home <= j)
			      : (hole < home || home <= j))
			continue;
		x->ent[hole] = x->ent[j];
		x->ent[j] = 0;
		hole = j;
	}
}

struct dhcp_lease *dhcp_lease_find(const struct dhcp_leases *t,
				   const struct dhcp_key *k)
{
	const struct dhcp_idx *x = &t->by_key;
	uint32_t i = key_hash(t, k) & x->mask, n;

	for (n = 0; n <= x->mask; n++, i = (i + 1) & x->mask) {
		struct dhcp_lease *l;

		if (!x->ent[i])
			return NULL;
		l = &t->l[x->ent[i] - 1];
		if (key_eq(&l->key, k))
			return l;
	}
	return NULL;
}

struct dhcp_lease *dhcp_lease_by_name(const struct dhcp_leases *t,
				      const char *name, size_t len)
{
	const struct dhcp_idx *x = &t->by_name;
	uint32_t i, n;

	if (len == 0 || len > DHCP_NAME_MAX)
		return NULL;
	i = name_hash(t, name, len) & x->mask;
	for (n = 0; n <= x->mask; n++, i = (i + 1) & x->mask) {
		struct dhcp_lease *l;

		if (!x->ent[i])
			return NULL;
		l = &t->l[x->ent[i] - 1];
		if (strlen(l->name) == len && !strncasecmp(l->name, name, len))
			return l;
	}
	return NULL;
}

struct dhcp_lease *dhcp_lease_by_ip(const struct dhcp_leases *t, uint32_t ip)
{
	uint32_t off = ntohl(ip) - t->pool_first, i;

	if (off < t->n_pool && t->l[off].state != DHCP_LS_RESERVED)
		return &t->l[off];
	/* Static hosts: a configuration-sized list (DHCP_HOSTS_MAX). */
	for (i = t->n_pool; i < t->n; i++)
		if (t->l[i].ip == ip)
			return &t->l[i];
	return NULL;
}

/* ---- free list ---- */

static uint32_t slot_of(const struct dhcp_leases *t, const struct dhcp_lease *l)
{
	return (uint32_t)(l - t->l);
}

static void free_push(struct dhcp_leases *t, struct dhcp_lease *l)
{
	uint32_t s = slot_of(t, l);

	if (l->in_free || l->is_static)
		return;
	l->prev = t->free_tail;
	l->next = DHCP_LEASE_NIL;
	if (t->free_tail != DHCP_LEASE_NIL)
		t->l[t->free_tail].next = s;
	else
		t->free_head = s;
	t->free_tail = s;
	l->in_free = true;
}

static void free_unlink(struct dhcp_leases *t, struct dhcp_lease *l)
{
	if (!l->in_free)
		return;
	if (l->prev != DHCP_LEASE_NIL)
		t->l[l->prev].next = l->next;
	else
		t->free_head = l->next;
	if (l->next != DHCP_LEASE_NIL)
		t->l[l->next].prev = l->prev;
	else
		t->free_tail = l->prev;
	l->prev = l->next = DHCP_LEASE_NIL;
	l->in_free = false;
}

/* ---- state ---- */

static void key_forget(struct dhcp_leases *t, struct dhcp_lease *l)
{
	if (l->key.kind == DHCP_KEY_NONE || l->is_static)
		return;
	idx_remove(t, &t->by_key, l->key_hash, slot_of(t, l));
	memset(&l->key, 0, sizeof(l->key));
}

static void name_drop(struct dhcp_leases *t, struct dhcp_lease *l)
{
	if (!l->name[0] || l->name_fixed)
		return;
	idx_remove(t, &t->by_name, l->name_hash, slot_of(t, l));
	l->name[0] = '\0';
}

static void count(struct dhcp_leases *t, uint8_t state, int d)
{
	uint32_t *c = state == DHCP_LS_OFFERED ? &t->n_offered
		    : state == DHCP_LS_BOUND   ? &t->n_bound
		    : state == DHCP_LS_DECLINED ? &t->n_declined
						: NULL;

	if (c)
		*c += (uint32_t)d;
}

static void set_state(struct dhcp_leases *t, struct dhcp_lease *l,
		      uint8_t state, uint64_t expires)
{
	uint8_t old = l->state;

	ARC_ASSERT(old != DHCP_LS_RESERVED && state != DHCP_LS_RESERVED);
	count(t, old, -1);
	count(t, state, 1);
	if (state == DHCP_LS_FREE)
		free_push(t, l);
	else
		free_unlink(t, l);
	if (old == DHCP_LS_BOUND && state != DHCP_LS_BOUND)
		name_drop(t, l);
	if (!l->is_static && (old == DHCP_LS_BOUND || state == DHCP_LS_BOUND))
		t->dirty = true;
	if (old != state)
		l->warned = false;
	l->state = state;
	l->expires = expires;
}

void dhcp_lease_set_state(struct dhcp_leases *t, struct dhcp_lease *l,
			  enum dhcp_lease_state state, uint64_t expires)
{
	ARC_ASSERT(state == DHCP_LS_FREE || state == DHCP_LS_OFFERED ||
		   state == DHCP_LS_BOUND);
	set_state(t, l, (uint8_t)state, state == DHCP_LS_FREE ? 0 : expires);
}

void dhcp_lease_decline(struct dhcp_leases *t, struct dhcp_lease *l,
			uint64_t until)
{
	set_state(t, l, DHCP_LS_DECLINED, until);
	key_forget(t, l);
}

void dhcp_lease_forget(struct dhcp_leases *t, struct dhcp_lease *l)
{
	if (l->state != DHCP_LS_FREE)
		set_state(t, l, DHCP_LS_FREE, 0);
	key_forget(t, l);
}

void dhcp_lease_expire(struct dhcp_leases *t, struct dhcp_lease *l,
		       uint64_t now)
{
	switch (l->state) {
	case DHCP_LS_OFFERED:
	case DHCP_LS_BOUND:
	case DHCP_LS_DECLINED:
		break;
	default:
		return;
	}
	if (now < l->expires)
		return;
	if (l->state == DHCP_LS_OFFERED)
		t->offers_expired++;
	else if (l->state == DHCP_LS_BOUND)
		t->leases_expired++;
	set_state(t, l, DHCP_LS_FREE, 0);
}

void dhcp_lease_gc(struct dhcp_leases *t, uint64_t now, uint32_t budget)
{
	uint32_t i;

	budget = MIN(budget, t->n);
	for (i = 0; i < budget; i++) {
		if (t->gc_pos >= t->n)
			t->gc_pos = 0;
		dhcp_lease_expire(t, &t->l[t->gc_pos++], now);
	}
}

struct dhcp_lease *dhcp_lease_alloc(struct dhcp_leases *t, uint64_t now)
{
	if (t->free_head == DHCP_LEASE_NIL)
		dhcp_lease_gc(t, now, DHCP_GC_SLICE);
	if (t->free_head == DHCP_LEASE_NIL)
		return NULL;
	return &t->l[t->free_head];
}

void dhcp_lease_bind_key(struct dhcp_leases *t, struct dhcp_lease *l,
			 const struct dhcp_key *k, const uint8_t mac[ETH_ALEN])
{
	struct dhcp_lease *old = dhcp_lease_find(t, k);

	ARC_ASSERT(!l->is_static && k->kind != DHCP_KEY_NONE);
	memcpy(l->mac, mac, ETH_ALEN);
	if (old == l)
		return;
	if (old) {
		if (old->state == DHCP_LS_OFFERED || old->state == DHCP_LS_BOUND)
			set_state(t, old, DHCP_LS_FREE, 0);
		key_forget(t, old);
	}
	key_forget(t, l);
	name_drop(t, l);
	l->warned = false;
	l->key = *k;
	l->key_hash = key_hash(t, k);
	idx_insert(&t->by_key, l->key_hash, slot_of(t, l));
}

int dhcp_lease_set_name(struct dhcp_leases *t, struct dhcp_lease *l,
			const char *name, size_t len)
{
	struct dhcp_lease *o;

	if (l->name_fixed)
		return -EPERM;
	if (!name) {
		name_drop(t, l);
		return 0;
	}
	ARC_ASSERT(dhcp_name_valid(name, len));
	o = dhcp_lease_by_name(t, name, len);
	if (o == l && !strncmp(l->name, name, len))
		return 0;
	if (o && o->name_fixed)
		return -EEXIST;
	if (o)
		name_drop(t, o);
	name_drop(t, l);
	memcpy(l->name, name, len);
	l->name[len] = '\0';
	l->name_hash = name_hash(t, name, len);
	idx_insert(&t->by_name, l->name_hash, slot_of(t, l));
	if (!l->is_static && l->state == DHCP_LS_BOUND)
		t->dirty = true;
	return 0;
}

/* ---- lifecycle ---- */

static void reserve(struct dhcp_leases *t, uint32_t ip)
{
	uint32_t off = ntohl(ip) - t->pool_first;

	if (off < t->n_pool)
		t->l[off].state = DHCP_LS_RESERVED;
}

int dhcp_leases_init(struct dhcp_leases *t, uint32_t pool_first,
		     uint32_t pool_last, uint32_t server,
		     const struct dhcp_host *hosts, unsigned int n_hosts)
{
	uint32_t first = ntohl(pool_first), i;
	int r;

	ARC_ASSERT(ntohl(pool_last) >= first);
	t->free_head = t->free_tail = DHCP_LEASE_NIL;
	t->pool_first = first;
	t->n_pool = ntohl(pool_last) - first + 1;
	t->n = t->n_pool + n_hosts;
	r = siphash_key_random(&t->hkey);
	if (r < 0)
		return r;
	t->l = calloc(t->n, sizeof(*t->l));
	if (!t->l || idx_init(&t->by_key, t->n) || idx_init(&t->by_name, t->n))
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		struct dhcp_lease *l = &t->l[i];

		l->prev = l->next = DHCP_LEASE_NIL;
		if (i < t->n_pool) {
			l->ip = htonl(first + i);
			continue;
		}
		l->is_static = true;
		l->ip = hosts[i - t->n_pool].ip;
		memcpy(l->mac, hosts[i - t->n_pool].mac, ETH_ALEN);
		l->key.kind = DHCP_KEY_STATIC;
		l->key.len = ETH_ALEN;
		memcpy(l->key.b, l->mac, ETH_ALEN);
		l->key_hash = key_hash(t, &l->key);
		idx_insert(&t->by_key, l->key_hash, i);
		if (hosts[i - t->n_pool].name[0]) {
			size_t len = strlen(hosts[i - t->n_pool].name);

			r = dhcp_lease_set_name(t, l, hosts[i - t->n_pool].name,
						len);
			ARC_ASSERT(r == 0);	/* names checked distinct */
			l->name_fixed = true;
		}
	}
	/* The pool slots of the server and of static hosts are never given. */
	reserve(t, server);
	for (i = t->n_pool; i < t->n; i++)
		reserve(t, t->l[i].ip);
	for (i = 0; i < t->n_pool; i++)
		if (t->l[i].state == DHCP_LS_FREE)
			free_push(t, &t->l[i]);
	return 0;
}

void dhcp_leases_fini(struct dhcp_leases *t)
{
	free(t->by_name.ent);
	free(t->by_key.ent);
	free(t->l);
	memset(t, 0, sizeof(*t));
}

/* ---- lease file ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dhcp_mac_parse(const char *s, size_t len, uint8_t mac[ETH_ALEN])
{
	size_t i;

	if (len != 3 * ETH_ALEN - 1)
		return -EINVAL;
	for (i = 0; i < ETH_ALEN; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i + 1 < ETH_ALEN && s[3 * i + 2] != ':' && s[3 * i + 2] != '-')
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;		/* multicast, broadcast or zero */
	return 0;
}

/* One parsed line. */
struct lease_line {
	int64_t expiry;
	uint8_t mac[ETH_ALEN];
	uint32_t ip;
	const char *name;	/* NULL for none */
	struct dhcp_key key;
};

/* Split @s at blanks into at most @max tokens. Return: the token count. */
static unsigned int split(char *s, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *save = NULL, *p;

	for (p = strtok_r(s, " \t\r", &save); p && n < max;
	     p = strtok_r(NULL, " \t\r", &save))
		tok[n++] = p;
	return p ? max + 1 : n;
}

static const char *parse_line(char *s, struct lease_line *ln)
{
	char *tok[5], *end;
	size_t len, i;

	if (split(s, tok, 5) != 5)
		return "not 5 fields";
	errno = 0;
	ln->expiry = strtoll(tok[0], &end, 10);
	if (errno || *end || end == tok[0] || ln->expiry < 0)
		return "bad expiry time";
	if (dhcp_mac_parse(tok[1], strlen(tok[1]), ln->mac))
		return "bad MAC";
	if (inet_pton(AF_INET, tok[2], &ln->ip) != 1)
		return "bad address";
	ln->name = NULL;
	if (strcmp(tok[3], "*") != 0) {
		if (!dhcp_name_valid(tok[3], strlen(tok[3])))
			return "bad host name";
		ln->name = tok[3];
	}
	memset(&ln->key, 0, sizeof(ln->key));
	if (!strcmp(tok[4], "*")) {
		ln->key.kind = DHCP_KEY_MAC;
		ln->key.len = ETH_ALEN;
		memcpy(ln->key.b, ln->mac, ETH_ALEN);
		return NULL;
	}
	len = strlen(tok[4]);
	if (len % 2 || len < 4 || len > (size_t)2 * DHCP_CLIENT_ID_MAX)
		return "bad client identifier";
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(tok[4][2 * i]), lo = hexval(tok[4][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return "bad client identifier";
		ln->key.b[i] = (uint8_t)(hi << 4 | lo);
	}
	ln->key.kind = DHCP_KEY_CLIENT_ID;
	ln->key.len = (uint8_t)(len / 2);
	return NULL;
}

/* Make a parsed line a bound lease. Return: NULL, or why it cannot be. */
static const char *load_line(struct dhcp_leases *t, const struct lease_line *ln,
			     uint64_t now, int64_t wall_sec, uint32_t max_sec)
{
	struct dhcp_key sk = { .kind = DHCP_KEY_STATIC, .len = ETH_ALEN };
	struct dhcp_lease *l;
	int64_t left = ln->expiry - wall_sec;

	if (left > (int64_t)max_sec)
		return "expiry too far in the future";
	l = dhcp_lease_by_ip(t, ln->ip);
	if (!l || l->is_static)
		return "address not in the pool";
	if (l->state != DHCP_LS_FREE || l->key.kind != DHCP_KEY_NONE)
		return "address given twice";
	if (dhcp_lease_find(t, &ln->key))
		return "client given twice";
	memcpy(sk.b, ln->mac, ETH_ALEN);
	if (dhcp_lease_find(t, &sk))
		return "MAC of a static host";
	dhcp_lease_bind_key(t, l, &ln->key, ln->mac);
	dhcp_lease_set_state(t, l, DHCP_LS_BOUND,
			     now + (uint64_t)left * NSEC_PER_SEC);
	if (ln->name)
		(void)dhcp_lease_set_name(t, l, ln->name, strlen(ln->name));
	return NULL;
}

int dhcp_lease_load(struct dhcp_leases *t, const char *path, uint64_t now,
		    int64_t wall_sec, uint32_t max_sec, uint64_t *bad_lines)
{
	/* A file we wrote has at most one line per slot, plus comments. */
	uint64_t chunks, max_chunks = (uint64_t)t->n * 4 + 64, bad = 0;
	unsigned int lineno = 0;
	bool skipping = false;
	char line[LINE_MAX_LEN];
	int loaded = 0, r = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		log_warn("dhcp: cannot read lease file %s: %s", path,
			 strerror(-r));
		return r;
	}
	for (chunks = 0; chunks < max_chunks; chunks++) {
		struct lease_line ln;
		const char *why;
		size_t len;

		if (!fgets(line, sizeof(line), f))
			break;
		len = strlen(line);
		if (skipping) {		/* the rest of an overlong line */
			skipping = len && line[len - 1] != '\n';
			continue;
		}
		lineno++;
		if (len && line[len - 1] == '\n') {
			line[--len] = '\0';
		} else if (!feof(f)) {
			skipping = true;
			why = "line too long";
			goto bad;
		}
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		why = parse_line(line, &ln);
		if (!why && ln.expiry <= wall_sec)
			continue;	/* ran out while we were away */
		if (!why)
			why = load_line(t, &ln, now, wall_sec, max_sec);
		if (!why) {
			loaded++;
			continue;
		}
bad:
		if (bad++ < BAD_LOG_MAX)
			log_warn("dhcp: %s:%u: %s, line ignored", path, lineno,
				 why);
	}
	if (chunks == max_chunks)
		log_warn("dhcp: %s: more than %" PRIu64 " lines, rest ignored",
			 path, max_chunks);
	if (ferror(f)) {
		r = -EIO;
		log_warn("dhcp: error reading lease file %s", path);
	}
	fclose(f);
	if (bad > BAD_LOG_MAX)
		log_warn("dhcp: %s: %" PRIu64 " bad lines ignored in all",
			 path, bad);
	*bad_lines += bad;
	/* Rewrite a file with bad lines at the next tick; else it is current. */
	t->dirty = bad > 0;
	return r ? r : loaded;
}

/* Append @l's line at @buf + *@off. Return: 0, or -ENOSPC. */
static int format_lease(const struct dhcp_lease *l, uint64_t now,
			int64_t wall_sec, char *buf, size_t cap, size_t *off)
{
	char cid[2 * DHCP_CLIENT_ID_MAX + 1], ip[INET_ADDRSTRLEN];
	uint64_t left = (l->expires - now + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	const uint8_t *m = l->mac;
	int n;

	if (l->key.kind == DHCP_KEY_CLIENT_ID) {
		size_t i;

		for (i = 0; i < l->key.len; i++)
			snprintf(cid + 2 * i, 3, "%02x", l->key.b[i]);
	} else {
		strcpy(cid, "*");
	}
	inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
	n = snprintf(buf + *off, cap - *off,
		     "%" PRId64 " " ETH_MAC_FMT " %s %s %s\n",
		     wall_sec + (int64_t)left, ETH_MAC_ARG(m),
		     ip, l->name[0] ? l->name : "*", cid);
	if (n < 0 || (size_t)n >= cap - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

int dhcp_lease_format(struct dhcp_leases *t, uint64_t now, int64_t wall_sec,
		      char *buf, size_t cap)
{
	size_t off = sizeof(FILE_HEADER) - 1;
	uint32_t i;

	if (cap <= off)
		return -ENOSPC;
	memcpy(buf, FILE_HEADER, off);
	for (i = 0; i < t->n_pool; i++) {
		const struct dhcp_lease *l = &t->l[i];

		if (l->state == DHCP_LS_BOUND && l->expires > now &&
		    format_lease(l, now, wall_sec, buf, cap, &off))
			return -ENOSPC;
	}
	t->dirty = false;
	return (int)off;
}
