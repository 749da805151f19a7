/* A set of paths kept as 128-bit keyed fingerprints (two SipHash-2-4 keys,
 * random per set): 16 bytes a path and no strings.  The paths come from
 * untrusted tars; with secret keys nobody can aim at a collision, and a chance
 * one (about n^2 / 2^129) would only keep a lower file an opaque marker should
 * have hidden, never write outside the root. */
#include "oci/pathset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "oci/banned.h"

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

static struct oci_pathset_slot fingerprint(const struct oci_pathset *set, const char *s, size_t len)
{
	struct oci_pathset_slot f = {hash_bytes(set->key, s, len), hash_bytes(set->key + 2, s, len)};

	if (!f.a && !f.b)
		f.b = 1; /* (0, 0) marks an empty slot */
	return f;
}

static struct oci_pathset_slot *find_slot(struct oci_pathset_slot *slots, size_t cap,
					  const struct oci_pathset_slot *f)
{
	size_t i = (size_t)f->a & (cap - 1);

	for (;;) {
		struct oci_pathset_slot *slot = &slots[i];
		if ((!slot->a && !slot->b) || (slot->a == f->a && slot->b == f->b))
			return slot;
		i = (i + 1) & (cap - 1);
	}
}

static bool slot_used(const struct oci_pathset_slot *slot)
{
	return slot->a || slot->b;
}

bool oci_pathset_has(const struct oci_pathset *set, const char *s, size_t len)
{
	struct oci_pathset_slot f;

	if (!set->cap)
		return false;
	f = fingerprint(set, s, len);
	return slot_used(find_slot(set->slots, set->cap, &f));
}

static int grow(struct oci_pathset *set, struct ocb_error *err)
{
	size_t cap = set->cap ? set->cap * 2 : 1024;
	struct oci_pathset_slot *slots;

	if (cap > SIZE_MAX / 2 / sizeof(*slots))
		return ocb_error_set(err, OCB_ELIMIT, ENOMEM, "path set too large");
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < set->cap; i++)
		if (slot_used(&set->slots[i]))
			*find_slot(slots, cap, &set->slots[i]) = set->slots[i];
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

int oci_pathset_add(struct oci_pathset *set, const char *s, size_t len, bool *added, struct ocb_error *err)
{
	struct oci_pathset_slot f, *slot;

	if (!set->cap && getrandom(set->key, sizeof(set->key), 0) != sizeof(set->key))
		return ocb_error_sys(err, "getrandom");
	if ((set->count + 1) * 2 > set->cap && grow(set, err) < 0)
		return -1;
	f = fingerprint(set, s, len);
	slot = find_slot(set->slots, set->cap, &f);
	*added = !slot_used(slot);
	if (*added) {
		*slot = f;
		set->count++;
	}
	return 0;
}

void oci_pathset_release(struct oci_pathset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = set->count = 0;
}
