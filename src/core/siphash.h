/* SPDX-License-Identifier: MIT */
/*
 * siphash.h - keyed SipHash-2-4 (Aumasson and Bernstein, 2012).
 *
 * Why: every table whose keys an outsider chooses (conntrack tuples, DNS
 * names, DHCP client ids) hashes with a secret key picked at start, so that a
 * remote sender cannot aim many keys at one bucket. SipHash-2-4 is the usual
 * choice for this (Linux, Python, Rust) and is fast on short inputs.
 */
#ifndef ARCNAT_CORE_SIPHASH_H
#define ARCNAT_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct siphash_key - a 128-bit SipHash key.
 * @k: the two 64-bit halves, k[0] from bytes 0..7 little-endian
 */
struct siphash_key {
	uint64_t k[2];
};

/**
 * siphash_key_from_bytes() - load a key from 16 bytes (as in the reference).
 * @key:   key to fill
 * @bytes: 16 bytes
 */
void siphash_key_from_bytes(struct siphash_key *key, const uint8_t bytes[16]);

/**
 * siphash_key_random() - fill a key from the kernel's random source.
 * @key: key to fill
 *
 * Return: 0, or -errno if getrandom(2) failed (the key is then unusable).
 */
int siphash_key_random(struct siphash_key *key);

/**
 * siphash24() - SipHash-2-4 of @len bytes.
 * @key:  key
 * @data: input (any alignment)
 * @len:  input length
 *
 * Return: the 64-bit hash.
 */
uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

/**
 * siphash13() - SipHash-1-3 of @len bytes: one compression round per word,
 * three finalisation rounds.
 * @key:  key
 * @data: input (any alignment)
 * @len:  input length
 *
 * For hash tables only, as in Rust's HashMap, CPython and Linux's hsiphash:
 * it keeps an outsider who cannot see hash values from aiming keys at one
 * bucket (hash flooding), at about 60 % of the cost of SipHash-2-4. Where a
 * PRF strong against an observer is needed, use siphash24().
 *
 * Return: the 64-bit hash.
 */
uint64_t siphash13(const struct siphash_key *key, const void *data, size_t len);

#endif /* ARCNAT_CORE_SIPHASH_H */
