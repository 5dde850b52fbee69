/* SPDX-License-Identifier: MIT */
/*
 * map.h - NAT mappings, external port ownership, ADF permissions.
 *
 * Theory of operation: a mapping ties an internal endpoint (address, port
 * or ICMP id, protocol) to an external one. Mappings are preallocated
 * objects indexed twice in one cuckoo hash (ct/hash.h): by internal and by
 * external endpoint. Which external ports are taken is a bitmap per
 * (external address, protocol): 8 KiB each, so "is this port free" is one
 * bit test and no port is ever handed to two mappings (no port
 * overloading). Dynamic mappings are reference-counted by the flows that
 * hold them and vanish with the last one; static mappings (port forwards)
 * stay. With address-dependent filtering, a permission object per
 * (mapping, remote address), counted the same way, records that the
 * internal endpoint has sent to that address.
 *
 * Port choice follows docs/nat.md "Mappings and port choice" to the
 * letter: the reference model in tests/ref repeats it.
 */
#ifndef ARCNAT_NAT_MAP_H
#define ARCNAT_NAT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"
#include "ct/hash.h"

#define NAT_MAP_NONE UINT32_MAX

enum nat_map_kind {
	NAT_MAP_FREE = 0,
	NAT_MAP_DYNAMIC,
	NAT_MAP_STATIC,
	NAT_MAP_PERM,
};

/**
 * struct nat_map - a mapping or an ADF permission.
 * @int_addr: internal address (permission: the remote address), network order
 * @ext_addr: external address, network order
 * @int_port: internal port or ICMP id (permission: 0), network order
 * @ext_port: external port or ICMP id, network order
 * @refs:     flows holding it (free objects: index of the next free one)
 * @proto:    IP protocol
 * @kind:     enum nat_map_kind
 * @ext_idx:  index of @ext_addr in the configuration
 * @pidx:     protocol index of the port bitmaps
 */
struct nat_map {
	uint32_t int_addr;
	uint32_t ext_addr;
	uint16_t int_port;
	uint16_t ext_port;
	uint32_t refs;
	uint8_t proto;
	uint8_t kind;
	uint8_t ext_idx;
	uint8_t pidx;
};

static_assert(sizeof(struct nat_map) == 20, "a mapping is 20 bytes");

#define NAT_MAP_PROTOS 3	/* TCP, UDP, ICMP */
#define NAT_MAP_MAX_EXT 16	/* external addresses */
#define NAT_PORT_PROBES 128	/* port candidates tried one by one */

/**
 * struct nat_maps - all mappings of one NAT.
 * @maps:      objects
 * @capacity:  number of objects
 * @free_head: first free object
 * @used:      objects in use (all kinds)
 * @dynamic:   dynamic + static mappings in use
 * @hash:      index by internal endpoint, external endpoint, permission
 * @ports:     taken ports, [external address][protocol], 65536 bits each
 * @ext_addrs: external addresses, network order
 * @n_ext:     how many
 * @port_min:  dynamic range, host order
 * @port_max:  dynamic range, host order
 * @rng:       port-choice generator state
 */
struct nat_maps {
	struct nat_map *maps;
	uint32_t capacity;
	uint32_t free_head;
	uint32_t used;
	uint32_t dynamic;
	struct ct_hash hash;
	uint64_t *ports;
	uint32_t ext_addrs[NAT_MAP_MAX_EXT];
	unsigned int n_ext;
	uint16_t port_min;
	uint16_t port_max;
	uint64_t rng;
};

/**
 * nat_maps_init() - allocate mapping state.
 * @m:         state
 * @capacity:  objects (mappings + permissions + static forwards)
 * @ext_addrs: external addresses, network order
 * @n_ext:     1 .. 16
 * @port_min:  dynamic range start (host order)
 * @port_max:  dynamic range end
 * @seed:      port-choice generator seed
 * @key:       SipHash key or NULL
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int nat_maps_init(struct nat_maps *m, uint32_t capacity,
		  const uint32_t *ext_addrs, unsigned int n_ext,
		  uint16_t port_min, uint16_t port_max, uint64_t seed,
		  const struct siphash_key *key);

/** nat_maps_destroy() - free; safe on zeroed state. @m: state */
void nat_maps_destroy(struct nat_maps *m);

/**
 * nat_map_find_int() - the mapping (dynamic or static) of an internal endpoint.
 * @m: state; @addr: address; @port: port or id; @proto: protocol (network order values)
 *
 * Return: the mapping or NULL.
 */
struct nat_map *nat_map_find_int(const struct nat_maps *m, uint32_t addr,
				 uint16_t port, uint8_t proto);

/**
 * nat_map_find_ext() - the mapping owning an external endpoint.
 * @m: state; @addr: external address; @port: port or id; @proto: protocol
 *
 * Return: the mapping or NULL.
 */
struct nat_map *nat_map_find_ext(const struct nat_maps *m, uint32_t addr,
				 uint16_t port, uint8_t proto);

/**
 * nat_map_create() - a new dynamic mapping for an internal endpoint, with
 * refs 0 (the caller takes the first reference).
 * @m:     state
 * @addr:  internal address
 * @port:  internal port or id (network order)
 * @proto: IPPROTO_NUM_TCP, _UDP or _ICMP
 * @out:   the mapping
 *
 * Return: 0; -EADDRNOTAVAIL when no port is free within NAT_PORT_PROBES
 * candidates; -ENOSPC when no object or hash slot is left.
 */
int nat_map_create(struct nat_maps *m, uint32_t addr, uint16_t port,
		   uint8_t proto, struct nat_map **out);

/**
 * nat_map_add_static() - a permanent mapping (port forward).
 * @m:        state
 * @ext_idx:  external address index
 * @ext_port: external port (network order)
 * @int_addr: internal address
 * @int_port: internal port (network order)
 * @proto:    protocol
 *
 * Return: 0; -EADDRINUSE if the external port or the internal endpoint is
 * already mapped; -ENOSPC.
 */
int nat_map_add_static(struct nat_maps *m, unsigned int ext_idx,
		       uint16_t ext_port, uint32_t int_addr, uint16_t int_port,
		       uint8_t proto);

/**
 * nat_map_unstatic() - a static mapping (port forward) is removed: it
 * becomes dynamic, lives on while flows hold it (their packets keep being
 * translated) and is released with the last one, at once when none does.
 * @m:   state
 * @map: a NAT_MAP_STATIC mapping
 */
void nat_map_unstatic(struct nat_maps *m, struct nat_map *map);

/** nat_map_get() - take a reference. @m: state. @map: mapping. */
void nat_map_get(struct nat_maps *m, struct nat_map *map);

/**
 * nat_map_put() - drop a reference; a dynamic mapping or permission whose
 * count reaches 0 is released (its port becomes free).
 * @m:   state
 * @map: mapping
 */
void nat_map_put(struct nat_maps *m, struct nat_map *map);

/**
 * nat_perm_find() - the ADF permission (mapping, remote address).
 * @m: state; @map: mapping; @remote: remote address
 *
 * Return: the permission or NULL.
 */
struct nat_map *nat_perm_find(const struct nat_maps *m,
			      const struct nat_map *map, uint32_t remote);

/**
 * nat_perm_get() - find or create the permission and take a reference.
 * @m: state; @map: mapping; @remote: remote address
 *
 * Return: 0 or -ENOSPC.
 */
int nat_perm_get(struct nat_maps *m, const struct nat_map *map, uint32_t remote);

/** nat_map_index() - stable index of @map. Return: the index. */
uint32_t nat_map_index(const struct nat_maps *m, const struct nat_map *map);

/** nat_map_at() - the object at @idx. Return: it. */
struct nat_map *nat_map_at(const struct nat_maps *m, uint32_t idx);

/** nat_port_taken() - is @port (network order) taken on (@ext_idx, @pidx)? */
bool nat_port_taken(const struct nat_maps *m, unsigned int ext_idx,
		    unsigned int pidx, uint16_t port);

/** nat_proto_pidx() - bitmap index of a protocol (TCP 0, UDP 1, ICMP 2). */
unsigned int nat_proto_pidx(uint8_t proto);

/**
 * nat_ext_index() - which external address an internal address is paired
 * with (RFC 4787 REQ-2 "paired" pooling).
 * @int_addr:    internal address, network order
 * @n_ext_addrs: number of external addresses
 *
 * Return: an index below @n_ext_addrs.
 */
unsigned int nat_ext_index(uint32_t int_addr, unsigned int n_ext_addrs);

/**
 * nat_rng_next() - the port-choice generator (splitmix64), exported so that
 * a reference model can follow the same random choices.
 * @state: generator state, advanced
 *
 * Return: 64 random bits.
 */
static inline uint64_t nat_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif /* ARCNAT_NAT_MAP_H */
