/* A set of paths, for the extractor's record of what a layer wrote: 128-bit
 * keyed fingerprints in an open-addressing table, about 32 bytes a path. */
#ifndef OCB_PATHSET_H
#define OCB_PATHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

struct oci_pathset_slot {
	uint64_t a, b; /* the fingerprint; (0, 0): empty */
};

struct oci_pathset {
	struct oci_pathset_slot *slots;
	size_t cap; /* power of two, at most half full */
	size_t count;
	uint64_t key[4]; /* two SipHash keys, random per set */
};

/* Zero-initialised is empty. */
/* Insert s[0..len); *added tells whether it was new. */
int oci_pathset_add(struct oci_pathset *set, const char *s, size_t len, bool *added, struct ocb_error *err);
bool oci_pathset_has(const struct oci_pathset *set, const char *s, size_t len);
void oci_pathset_release(struct oci_pathset *set);

#endif
