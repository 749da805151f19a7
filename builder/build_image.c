/* struct build_image: a config and its layers' descriptors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

void build_image_release(struct build_image *img)
{
	oci_config_release(&img->config);
	for (size_t i = 0; i < img->n_layers; i++)
		oci_descriptor_release(&img->layers[i].desc);
	free(img->layers);
	memset(img, 0, sizeof(*img));
}

int build_image_push_layer(struct build_image *img, const struct build_layer *l, struct ocb_error *err)
{
	struct build_layer *v = realloc(img->layers, (img->n_layers + 1) * sizeof(*v));

	if (!v)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	img->layers = v;
	v[img->n_layers] = (struct build_layer){.diff_id = l->diff_id, .in_store = l->in_store};
	if (oci_descriptor_copy(&v[img->n_layers].desc, &l->desc, err) < 0)
		return -1;
	img->n_layers++;
	return 0;
}

int build_image_copy(struct build_image *dst, const struct build_image *src, struct ocb_error *err)
{
	struct build_image out = {0};
	cleanup_free char *buf = NULL;
	size_t len;

	if (oci_config_serialize(&src->config, &buf, &len, err) < 0 ||
	    oci_config_parse(buf, len, &out.config, err) < 0)
		return ocb_error_wrap(err, "copy image config");
	for (size_t i = 0; i < src->n_layers; i++) {
		if (build_image_push_layer(&out, &src->layers[i], err) < 0) {
			build_image_release(&out);
			return -1;
		}
	}
	*dst = out;
	return 0;
}

int build_image_add_step(struct build *b, struct build_image *img, const struct build_layer *l,
			 const char *created_by, struct ocb_error *err)
{
	struct oci_history h = {.created = b->created, .created_by = (char *)created_by, .empty_layer = !l};

	if (!l)
		return oci_config_add_history(&img->config, &h, err);
	if (build_image_push_layer(img, l, err) < 0)
		return -1;
	return oci_config_add_layer(&img->config, &l->diff_id, &h, err);
}
