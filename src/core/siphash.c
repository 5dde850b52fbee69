// SPDX-License-Identifier: MIT
/*
 * SipHash-c-d: c compression rounds per 8-byte word, d finalisation rounds.
 * Written from the paper's description. SipHash-2-4 is checked against the
 * paper's 64 test vectors in tests/unit/test_siphash.c; SipHash-1-3 is the
 * same code with other round counts, checked against published outputs.
 */
#include "core/siphash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static inline uint64_t rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

/* Little-endian 64-bit load from any alignment. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_compress(struct sip_state *s, uint64_t m,
				unsigned int c)
{
	s->v3 ^= m;
	for (unsigned int i = 0; i < c; i++)
		sip_round(s);
	s->v0 ^= m;
}

void siphash_key_from_bytes(struct siphash_key *key, const uint8_t bytes[16])
{
	key->k[0] = load_le64(bytes);
	key->k[1] = load_le64(bytes + 8);
}

int siphash_key_random(struct siphash_key *key)
{
	uint8_t buf[16];
	size_t got = 0;

	while (got < sizeof(buf)) {
		ssize_t n = getrandom(buf + got, sizeof(buf) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	siphash_key_from_bytes(key, buf);
	return 0;
}

/* Always inlined with constant round counts: the loops unroll. */
static __always_inline uint64_t sip_hash(const struct siphash_key *key,
					 const void *data, size_t len,
					 unsigned int c, unsigned int d)
{
	const uint8_t *p = data;
	const uint8_t *end = p + (len & ~(size_t)7);
	struct sip_state s = {
		/* "somepseudorandomlygeneratedbytes" */
		.v0 = key->k[0] ^ 0x736f6d6570736575ULL,
		.v1 = key->k[1] ^ 0x646f72616e646f6dULL,
		.v2 = key->k[0] ^ 0x6c7967656e657261ULL,
		.v3 = key->k[1] ^ 0x7465646279746573ULL,
	};
	uint64_t last = (uint64_t)len << 56;

	for (; p != end; p += 8)
		sip_compress(&s, load_le64(p), c);

	/* The 0..7 trailing bytes, little-endian, under the length byte. */
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[i] << (8 * i);
	sip_compress(&s, last, c);

	s.v2 ^= 0xff;
	for (unsigned int i = 0; i < d; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	return sip_hash(key, data, len, 2, 4);
}

uint64_t siphash13(const struct siphash_key *key, const void *data, size_t len)
{
	return sip_hash(key, data, len, 1, 3);
}
