/* A `copy` step (placeholder until builder/copy.h lands: copy steps fail
 * with a clear message). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "oci/banned.h"

int build_copy_created_by(const struct recipe_step *step, char **out, struct ocb_error *err)
{
	const struct recipe_copy *c = &step->copy;
	size_t len = 32 + strlen(c->to.value) + (c->from.value ? strlen(c->from.value) : 0);
	char *s, *q;

	for (size_t i = 0; i < c->sources.len; i++)
		len += strlen(c->sources.items[i].value) + 1;
	if (!(s = malloc(len)))
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	q = s + snprintf(s, len, "COPY");
	if (c->from.value)
		q += snprintf(q, len - (size_t)(q - s), " --from=%s", c->from.value);
	for (size_t i = 0; i < c->sources.len; i++)
		q += snprintf(q, len - (size_t)(q - s), " %s", c->sources.items[i].value);
	snprintf(q, len - (size_t)(q - s), " %s", c->to.value);
	*out = s;
	return 0;
}

int build_copy_init(struct build *b, struct ocb_error *err)
{
	return 0;
}

void build_copy_fini(struct build *b)
{
}

int build_copy_prepare(struct build_step_ctx *sc, struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "%s:%u:%u: copy steps are not supported yet",
			     sc->step->pos.file, sc->step->pos.line, sc->step->pos.col);
}

void build_copy_release(struct build_step_ctx *sc)
{
}

const struct oci_digest *build_copy_digest(const struct build_step_ctx *sc)
{
	return NULL;
}

int build_step_copy_exec(struct build_step_ctx *sc, struct build_layer *layer, bool *empty,
			 struct ocb_error *err)
{
	return ocb_error_set(err, OCB_EINVAL, 0, "copy steps are not supported yet");
}
