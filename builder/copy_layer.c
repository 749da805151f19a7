/* copy_plan_write_layer(): the plan's entries into a layer writer. */
#include <stdbool.h>

#include "builder/copy_impl.h"
#include "oci/banned.h"

/* The source root itself (copy "." or "/") has no name to add by: write
 * its directory entry from the plan's stat. */
static int add_root_dir(const struct copy_plan *p, const struct copy_entry *e, struct oci_layer_writer *w,
			struct ocb_error *err)
{
	const struct oci_layer_override *ov = &p->ov;

	return oci_layer_add_dir(w, e->dst, ov->mode_set ? ov->mode : e->st.st_mode & 07777,
				 ov->owner_set ? ov->uid : e->st.st_uid,
				 ov->owner_set ? ov->gid : e->st.st_gid, e->st.mtime, err);
}

int copy_plan_write_layer(const struct copy_plan *plan, struct oci_layer_writer *w, struct ocb_error *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct copy_entry *e = &plan->v[i];
		int rc;

		if (!e->src)
			/* a parent: created (0755 0:0) or existing (its metadata) */
			rc = oci_layer_add_dir(w, e->dst, e->st.st_mode & 07777, e->st.st_uid, e->st.st_gid,
					       e->st.mtime, err);
		else if (!*e->src)
			rc = add_root_dir(plan, e, w, err);
		else
			rc = oci_layer_add_path_as(w, plan->root_fd, e->src, e->dst, &plan->ov, err);
		if (rc < 0)
			return ocb_error_wrap(err, "copy '%s'", e->dst);
	}
	return 0;
}
