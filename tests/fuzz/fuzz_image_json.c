/* libFuzzer target for the untrusted-document parsers of oci/: image config,
 * manifest, index, image reference and platform.  The first byte picks the
 * parser.  Whatever parses must serialise canonically: parse(serialise(x))
 * serialises to the same bytes, or the target traps. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/image.h"
#include "oci/ref.h"
#include "oci/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*parse_fn)(const char *buf, size_t len, void *out, struct ocb_error *err);
typedef int (*serialize_fn)(const void *x, char **buf, size_t *len, struct ocb_error *err);
typedef void (*release_fn)(void *x);

struct doc_ops {
	parse_fn parse;
	serialize_fn serialize;
	release_fn release;
};

static const struct doc_ops ops[] = {
    {(parse_fn)oci_config_parse, (serialize_fn)oci_config_serialize, (release_fn)oci_config_release},
    {(parse_fn)oci_manifest_parse, (serialize_fn)oci_manifest_serialize, (release_fn)oci_manifest_release},
    {(parse_fn)oci_index_parse, (serialize_fn)oci_index_serialize, (release_fn)oci_index_release},
};

static void check_document(const struct doc_ops *o, const char *buf, size_t len)
{
	union {
		struct oci_image_config c;
		struct oci_manifest m;
		struct oci_index x;
	} a, b;
	char *s1 = NULL, *s2 = NULL;
	size_t l1, l2;

	if (o->parse(buf, len, &a, NULL) < 0)
		return;
	if (o->serialize(&a, &s1, &l1, NULL) == 0) {
		if (o->parse(s1, l1, &b, NULL) < 0)
			__builtin_trap(); /* our own output must parse */
		if (o->serialize(&b, &s2, &l2, NULL) < 0 || l1 != l2 || memcmp(s1, s2, l1) != 0)
			__builtin_trap(); /* not canonical */
		o->release(&b);
	}
	free(s1);
	free(s2);
	o->release(&a);
}

static void check_ref(const char *s)
{
	struct oci_ref a, b;
	char *f1, *f2;

	if (oci_ref_parse(s, &a, NULL) < 0)
		return;
	f1 = oci_ref_full_name(&a);
	if (f1 && oci_ref_parse(f1, &b, NULL) < 0)
		__builtin_trap(); /* a normalised name must parse */
	if (f1) {
		f2 = oci_ref_full_name(&b);
		if (!f2 || strcmp(f1, f2) != 0)
			__builtin_trap(); /* normalising twice changes nothing */
		free(f2);
		oci_ref_release(&b);
	}
	free(f1);
	free(oci_ref_familiar_name(&a));
	free(oci_ref_local_name(&a));
	oci_ref_release(&a);
}

static void check_platform(const char *s)
{
	struct oci_platform p;

	if (oci_platform_parse(s, &p, NULL) < 0)
		return;
	free(oci_platform_format(&p));
	oci_platform_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if (data[0] % 5 < 3) {
		check_document(&ops[data[0] % 5], (const char *)data + 1, size - 1);
		return 0;
	}
	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		return 0;
	if (data[0] % 5 == 3)
		check_ref(s);
	else
		check_platform(s);
	free(s);
	return 0;
}
