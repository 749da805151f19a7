/* A set of byte strings (paths), for the extractor's record of what a layer
 * wrote.  Strings live in an arena; memory grows with the set and is freed
 * at once by oci_pathset_release(). */
#ifndef OCB_PATHSET_H
#define OCB_PATHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

struct oci_pathset_slot {
	uint64_t hash;
	const char *str; /* NUL-terminated, in the arena; NULL: empty slot */
	size_t len;
};

struct oci_pathset_chunk;

struct oci_pathset {
	struct oci_pathset_slot *slots;
	size_t cap; /* power of two */
	size_t count;
	struct oci_pathset_chunk *chunks;
	uint64_t key[2]; /* SipHash key, random per set */
};

#define OCI_PATHSET_INIT                                                                                     \
	{                                                                                                    \
		NULL, 0, 0, NULL,                                                                            \
		{                                                                                            \
			0, 0                                                                                 \
		}                                                                                            \
	}

/* Insert s[0..len); *added tells whether it was new. */
int oci_pathset_add(struct oci_pathset *set, const char *s, size_t len, bool *added, struct ocb_error *err);
bool oci_pathset_has(const struct oci_pathset *set, const char *s, size_t len);
void oci_pathset_release(struct oci_pathset *set);

#endif
