// SPDX-License-Identifier: MIT
#include "nat/map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/compiler.h"
#include "ct/tuple.h"
#include "prot/ip4.h"

#define PORT_WORDS (65536 / 64)

/* Which of a mapping's keys a hash value refers to (low 2 bits). */
enum map_key { KEY_INT = 0, KEY_EXT = 1, KEY_PERM = 2 };

static_assert(NAT_MAP_MAX_EXT <= 255, "ext_idx fits a byte");

unsigned int nat_ext_index(uint32_t int_addr, unsigned int n_ext_addrs)
{
	uint32_t h = ntohl(int_addr) * 2654435761u;

	return (unsigned int)(((uint64_t)h * n_ext_addrs) >> 32);
}

unsigned int nat_proto_pidx(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return 0;
	case IPPROTO_NUM_UDP:
		return 1;
	default:
		return 2;
	}
}

/* The 16-byte hash keys, laid out as tuples with a kind byte in the padding. */
static struct ct_tuple key_int(uint32_t addr, uint16_t port, uint8_t proto)
{
	struct ct_tuple k = { .saddr = addr, .sport = port, .proto = proto };

	k.pad[0] = 1 + KEY_INT;
	return k;
}

static struct ct_tuple key_ext(uint32_t addr, uint16_t port, uint8_t proto)
{
	struct ct_tuple k = { .saddr = addr, .sport = port, .proto = proto };

	k.pad[0] = 1 + KEY_EXT;
	return k;
}

static struct ct_tuple key_perm(const struct nat_map *map, uint32_t remote)
{
	struct ct_tuple k = { .saddr = map->ext_addr, .daddr = remote,
			      .sport = map->ext_port, .proto = map->proto };

	k.pad[0] = 1 + KEY_PERM;
	return k;
}

static struct ct_tuple key_of(const struct nat_map *map, enum map_key which)
{
	switch (which) {
	case KEY_INT:
		return key_int(map->int_addr, map->int_port, map->proto);
	case KEY_EXT:
		return key_ext(map->ext_addr, map->ext_port, map->proto);
	default:
		/* A permission stores the remote address in int_addr. */
		return key_perm(map, map->int_addr);
	}
}

static bool map_match(const void *ctx, uint32_t val, const void *key)
{
	const struct nat_maps *m = ctx;
	const struct nat_map *map = &m->maps[val >> 2];
	struct ct_tuple k = key_of(map, (enum map_key)(val & 3));

	return ct_tuple_eq(&k, key);
}

static struct nat_map *find(const struct nat_maps *m, const struct ct_tuple *k)
{
	uint64_t hv = ct_hash_key(&m->hash, k, sizeof(*k));
	uint32_t v = ct_hash_lookup(&m->hash, hv, k, map_match, m);

	return v == CT_HASH_EMPTY ? NULL : &m->maps[v >> 2];
}

static int index_key(struct nat_maps *m, struct nat_map *map, enum map_key which)
{
	struct ct_tuple k = key_of(map, which);

	return ct_hash_insert(&m->hash, ct_hash_key(&m->hash, &k, sizeof(k)),
			      nat_map_index(m, map) << 2 | which);
}

static void unindex_key(struct nat_maps *m, struct nat_map *map,
			enum map_key which)
{
	struct ct_tuple k = key_of(map, which);
	int r = ct_hash_delete(&m->hash, ct_hash_key(&m->hash, &k, sizeof(k)),
			       nat_map_index(m, map) << 2 | which);

	ARC_ASSERT(r == 0);
}

uint32_t nat_map_index(const struct nat_maps *m, const struct nat_map *map)
{
	return (uint32_t)(map - m->maps);
}

struct nat_map *nat_map_at(const struct nat_maps *m, uint32_t idx)
{
	ARC_ASSERT(idx < m->capacity);
	return &m->maps[idx];
}

static uint64_t *port_words(const struct nat_maps *m, unsigned int ext_idx,
			    unsigned int pidx)
{
	return m->ports + ((size_t)ext_idx * NAT_MAP_PROTOS + pidx) * PORT_WORDS;
}

bool nat_port_taken(const struct nat_maps *m, unsigned int ext_idx,
		    unsigned int pidx, uint16_t port)
{
	uint16_t p = ntohs(port);

	return port_words(m, ext_idx, pidx)[p / 64] >> (p % 64) & 1;
}

static void port_set(struct nat_maps *m, const struct nat_map *map, bool taken)
{
	uint16_t p = ntohs(map->ext_port);
	uint64_t *w = &port_words(m, map->ext_idx, map->pidx)[p / 64];

	if (taken)
		*w |= 1ULL << (p % 64);
	else
		*w &= ~(1ULL << (p % 64));
}

static struct nat_map *obj_alloc(struct nat_maps *m)
{
	struct nat_map *map;

	if (m->free_head == NAT_MAP_NONE)
		return NULL;
	ARC_ASSERT(m->maps);	/* a free object implies the array */
	map = &m->maps[m->free_head];
	m->free_head = map->refs;
	memset(map, 0, sizeof(*map));
	m->used++;
	return map;
}

static void obj_free(struct nat_maps *m, struct nat_map *map)
{
	map->kind = NAT_MAP_FREE;
	map->refs = m->free_head;
	m->free_head = nat_map_index(m, map);
	m->used--;
}

struct nat_map *nat_map_find_int(const struct nat_maps *m, uint32_t addr,
				 uint16_t port, uint8_t proto)
{
	struct ct_tuple k = key_int(addr, port, proto);

	return find(m, &k);
}

struct nat_map *nat_map_find_ext(const struct nat_maps *m, uint32_t addr,
				 uint16_t port, uint8_t proto)
{
	struct ct_tuple k = key_ext(addr, port, proto);

	return find(m, &k);
}

/*
 * First free port in [a, b] (inclusive), word by word; @parity 0 or 1 keeps
 * only ports of that parity, -1 any. At most (b - a) / 64 + 1 words.
 */
static int scan_free(const uint64_t *bits, unsigned int a, unsigned int b,
		     int parity)
{
	for (unsigned int w = a / 64; w <= b / 64; w++) {
		uint64_t free = ~bits[w];

		if (w == a / 64)
			free &= ~0ULL << (a % 64);
		if (w == b / 64 && b % 64 != 63)
			free &= (1ULL << (b % 64 + 1)) - 1;
		if (parity == 0)
			free &= 0x5555555555555555ULL;	/* even ports */
		else if (parity == 1)
			free &= 0xaaaaaaaaaaaaaaaaULL;
		if (free)
			return (int)(w * 64 + (unsigned int)__builtin_ctzll(free));
	}
	return -1;
}

/* First free port at or after @from in [lo, hi], wrapping around once. */
static int scan_free_cyclic(const uint64_t *bits, unsigned int lo,
			    unsigned int hi, unsigned int from, int parity)
{
	int p = scan_free(bits, from, hi, parity);

	if (p < 0 && from > lo)
		p = scan_free(bits, lo, from - 1, parity);
	return p;
}

/*
 * Port choice, docs/nat.md "Mappings and port choice": preservation, then
 * the first free same-class same-parity candidate from a random start
 * (the first NAT_PORT_PROBES one by one, which is the common case, the rest
 * a bitmap word at a time), then, the parity being full, the first free
 * port of the class from the same start. Bounded by the range: at most
 * 2 * 1024 bitmap words. Returns the port in host order, or -1.
 */
static int choose_port(struct nat_maps *m, unsigned int ext_idx,
		       unsigned int pidx, uint8_t proto, uint16_t want)
{
	const uint64_t *bits = port_words(m, ext_idx, pidx);
	unsigned int lo = m->port_min, hi = m->port_max, step = 1;
	unsigned int first, count, start, probes, from;
	int parity = -1, p;

#define PORT_FREE(p) (!(bits[(p) / 64] >> ((p) % 64) & 1))
	if (want >= lo && want <= hi && want != 0 && PORT_FREE(want))
		return want;
	if (proto != IPPROTO_NUM_ICMP) {
		unsigned int slo = want < 1024 ? lo : MAX(lo, 1024u);
		unsigned int shi = want < 1024 ? MIN(hi, 1023u) : hi;

		if (slo <= shi) {
			lo = slo;
			hi = shi;
		}
		first = lo + ((lo & 1) != (want & 1u));
		if (first <= hi) {
			step = 2;
			parity = (int)(want & 1u);
		} else {
			first = lo;	/* one port of the other parity */
		}
	} else {
		first = lo;
	}
	count = (hi - first) / step + 1;
	start = (unsigned int)(nat_rng_next(&m->rng) % count);
	probes = count < NAT_PORT_PROBES ? count : NAT_PORT_PROBES;
	/* count >= 1 since first <= hi; cppcheck 2.10 loses that bound. */
	// cppcheck-suppress knownConditionTrueFalse
	for (unsigned int i = 0; i < probes; i++) {
		unsigned int c = first + ((start + i) % count) * step;

		if (PORT_FREE(c))
			return (int)c;
	}
#undef PORT_FREE
	/* cppcheck 2.10 again loses that probes can equal count. */
	// cppcheck-suppress knownConditionTrueFalse
	if (probes == count && parity < 0)
		return -1;
	/* The probed ones are taken: scanning from the start again finds the
	 * same port as going on from where the probes stopped. */
	from = first + start * step;
	p = scan_free_cyclic(bits, lo, hi, from, parity);
	if (p < 0 && parity >= 0)
		p = scan_free_cyclic(bits, lo, hi, from, -1);
	return p;
}

static int map_insert(struct nat_maps *m, struct nat_map *map)
{
	int err = index_key(m, map, KEY_INT);

	if (err)
		return err;
	err = index_key(m, map, KEY_EXT);
	if (err) {
		unindex_key(m, map, KEY_INT);
		return err;
	}
	port_set(m, map, true);
	m->dynamic++;
	return 0;
}

/* Allocate, fill and index a mapping (dynamic or static). */
static int map_add(struct nat_maps *m, enum nat_map_kind kind,
		   unsigned int ext_idx, uint16_t ext_port, uint32_t int_addr,
		   uint16_t int_port, uint8_t proto, struct nat_map **out)
{
	struct nat_map *map = obj_alloc(m);

	if (!map)
		return -ENOSPC;
	map->int_addr = int_addr;
	map->int_port = int_port;
	map->ext_addr = m->ext_addrs[ext_idx];
	map->ext_port = ext_port;
	map->proto = proto;
	map->kind = (uint8_t)kind;
	map->ext_idx = (uint8_t)ext_idx;
	map->pidx = (uint8_t)nat_proto_pidx(proto);
	if (map_insert(m, map)) {
		obj_free(m, map);
		return -ENOSPC;
	}
	if (out)
		*out = map;
	return 0;
}

int nat_map_create(struct nat_maps *m, uint32_t addr, uint16_t port,
		   uint8_t proto, struct nat_map **out)
{
	unsigned int ext_idx = nat_ext_index(addr, m->n_ext);
	int p = choose_port(m, ext_idx, nat_proto_pidx(proto), proto, ntohs(port));

	if (p < 0)
		return -EADDRNOTAVAIL;
	return map_add(m, NAT_MAP_DYNAMIC, ext_idx, htons((uint16_t)p), addr,
		       port, proto, out);
}

int nat_map_add_static(struct nat_maps *m, unsigned int ext_idx,
		       uint16_t ext_port, uint32_t int_addr, uint16_t int_port,
		       uint8_t proto)
{
	if (nat_port_taken(m, ext_idx, nat_proto_pidx(proto), ext_port) ||
	    nat_map_find_int(m, int_addr, int_port, proto))
		return -EADDRINUSE;
	return map_add(m, NAT_MAP_STATIC, ext_idx, ext_port, int_addr, int_port,
		       proto, NULL);
}

void nat_map_unstatic(struct nat_maps *m, struct nat_map *map)
{
	ARC_ASSERT(map->kind == NAT_MAP_STATIC);
	map->kind = NAT_MAP_DYNAMIC;
	if (map->refs)
		return;
	/* nat_map_put()'s release, without a reference to drop. */
	unindex_key(m, map, KEY_INT);
	unindex_key(m, map, KEY_EXT);
	port_set(m, map, false);
	m->dynamic--;
	obj_free(m, map);
}

void nat_map_get(struct nat_maps *m, struct nat_map *map)
{
	(void)m;
	ARC_ASSERT(map->kind != NAT_MAP_FREE);
	map->refs++;
}

void nat_map_put(struct nat_maps *m, struct nat_map *map)
{
	ARC_ASSERT(map->kind != NAT_MAP_FREE && map->refs > 0);
	if (--map->refs > 0 || map->kind == NAT_MAP_STATIC)
		return;
	if (map->kind == NAT_MAP_PERM) {
		unindex_key(m, map, KEY_PERM);
	} else {
		unindex_key(m, map, KEY_INT);
		unindex_key(m, map, KEY_EXT);
		port_set(m, map, false);
		m->dynamic--;
	}
	obj_free(m, map);
}

struct nat_map *nat_perm_find(const struct nat_maps *m,
			      const struct nat_map *map, uint32_t remote)
{
	struct ct_tuple k = key_perm(map, remote);

	return find(m, &k);
}

int nat_perm_get(struct nat_maps *m, const struct nat_map *map, uint32_t remote)
{
	struct nat_map *perm = nat_perm_find(m, map, remote);

	if (!perm) {
		perm = obj_alloc(m);
		if (!perm)
			return -ENOSPC;
		perm->int_addr = remote;
		perm->ext_addr = map->ext_addr;
		perm->ext_port = map->ext_port;
		perm->proto = map->proto;
		perm->kind = NAT_MAP_PERM;
		perm->ext_idx = map->ext_idx;
		perm->pidx = map->pidx;
		if (index_key(m, perm, KEY_PERM)) {
			obj_free(m, perm);
			return -ENOSPC;
		}
	}
	perm->refs++;
	return 0;
}

int nat_maps_init(struct nat_maps *m, uint32_t capacity,
		  const uint32_t *ext_addrs, unsigned int n_ext,
		  uint16_t port_min, uint16_t port_max, uint64_t seed,
		  const struct siphash_key *key)
{
	int err;

	memset(m, 0, sizeof(*m));
	if (!capacity || capacity > (1u << 28) || !n_ext ||
	    n_ext > NAT_MAP_MAX_EXT || port_min > port_max)
		return -EINVAL;
	m->maps = calloc(capacity, sizeof(*m->maps));
	m->ports = calloc((size_t)n_ext * NAT_MAP_PROTOS * PORT_WORDS,
			  sizeof(uint64_t));
	if (!m->maps || !m->ports) {
		err = -ENOMEM;
		goto err_free;
	}
	/* Every object has at most 2 keys (permissions 1). */
	err = ct_hash_init(&m->hash, capacity * 2, key, seed ^ 0x5a5a5a5aULL);
	if (err)
		goto err_free;
	for (uint32_t i = 0; i < capacity; i++)
		m->maps[i].refs = i + 1 < capacity ? i + 1 : NAT_MAP_NONE;
	m->capacity = capacity;
	m->free_head = 0;
	memcpy(m->ext_addrs, ext_addrs, n_ext * sizeof(*ext_addrs));
	m->n_ext = n_ext;
	m->port_min = port_min;
	m->port_max = port_max;
	m->rng = seed;
	return 0;

err_free:
	free(m->ports);
	free(m->maps);
	memset(m, 0, sizeof(*m));
	return err;
}

void nat_maps_destroy(struct nat_maps *m)
{
	ct_hash_destroy(&m->hash);
	free(m->ports);
	free(m->maps);
	memset(m, 0, sizeof(*m));
}
