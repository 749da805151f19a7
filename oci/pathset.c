#include "oci/pathset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "oci/banned.h"

#define CHUNK_SIZE ((size_t)1 << 20)

struct oci_pathset_chunk {
	struct oci_pathset_chunk *next;
	size_t used, size;
	char data[];
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                             \
	do {                                                                                                 \
		v0 += v1;                                                                                    \
		v1 = ROTL(v1, 13);                                                                           \
		v1 ^= v0;                                                                                    \
		v0 = ROTL(v0, 32);                                                                           \
		v2 += v3;                                                                                    \
		v3 = ROTL(v3, 16);                                                                           \
		v3 ^= v2;                                                                                    \
		v0 += v3;                                                                                    \
		v3 = ROTL(v3, 21);                                                                           \
		v3 ^= v0;                                                                                    \
		v2 += v1;                                                                                    \
		v1 = ROTL(v1, 17);                                                                           \
		v1 ^= v2;                                                                                    \
		v2 = ROTL(v2, 32);                                                                           \
	} while (0)

/* SipHash-2-4 keyed per set: the paths come from untrusted tars, so a keyed
 * hash keeps crafted collisions from turning the set quadratic. */
static uint64_t hash_bytes(const uint64_t key[2], const char *s, size_t len)
{
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ key[0], v1 = UINT64_C(0x646f72616e646f6d) ^ key[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ key[0], v3 = UINT64_C(0x7465646279746573) ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8); /* little-endian hosts only matter for speed, not safety */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static struct oci_pathset_slot *find_slot(struct oci_pathset_slot *slots, size_t cap, uint64_t h,
					  const char *s, size_t len)
{
	size_t i = (size_t)h & (cap - 1);

	for (;;) {
		struct oci_pathset_slot *slot = &slots[i];
		if (!slot->str || (slot->hash == h && slot->len == len && !memcmp(slot->str, s, len)))
			return slot;
		i = (i + 1) & (cap - 1);
	}
}

bool oci_pathset_has(const struct oci_pathset *set, const char *s, size_t len)
{
	if (!set->cap)
		return false;
	return find_slot(set->slots, set->cap, hash_bytes(set->key, s, len), s, len)->str != NULL;
}

static int grow(struct oci_pathset *set, struct ocb_error *err)
{
	size_t cap = set->cap ? set->cap * 2 : 1024;
	struct oci_pathset_slot *slots;

	if (cap > SIZE_MAX / sizeof(*slots))
		return ocb_error_set(err, OCB_ELIMIT, ENOMEM, "path set too large");
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < set->cap; i++) {
		struct oci_pathset_slot *old = &set->slots[i];
		if (old->str)
			*find_slot(slots, cap, old->hash, old->str, old->len) = *old;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

static char *arena_copy(struct oci_pathset *set, const char *s, size_t len)
{
	struct oci_pathset_chunk *c = set->chunks;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = set->chunks;
		c->used = 0;
		c->size = size;
		set->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

int oci_pathset_add(struct oci_pathset *set, const char *s, size_t len, bool *added, struct ocb_error *err)
{
	struct oci_pathset_slot *slot;
	char *copy;
	uint64_t h;

	if (!set->cap && getrandom(set->key, sizeof(set->key), 0) != sizeof(set->key))
		return ocb_error_sys(err, "getrandom");
	if ((set->count + 1) * 2 > set->cap && grow(set, err) < 0)
		return -1;
	h = hash_bytes(set->key, s, len);
	slot = find_slot(set->slots, set->cap, h, s, len);
	if (slot->str) {
		*added = false;
		return 0;
	}
	copy = arena_copy(set, s, len);
	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	slot->hash = h;
	slot->str = copy;
	slot->len = len;
	set->count++;
	*added = true;
	return 0;
}

void oci_pathset_release(struct oci_pathset *set)
{
	while (set->chunks) {
		struct oci_pathset_chunk *next = set->chunks->next;
		free(set->chunks);
		set->chunks = next;
	}
	free(set->slots);
	set->slots = NULL;
	set->cap = set->count = 0;
}
