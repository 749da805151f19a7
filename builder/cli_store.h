/* Where the local store lives: $OCB_ROOT, else /var/lib/ocb as root, else
 * $XDG_DATA_HOME/ocb (~/.local/share/ocb). */
#ifndef OCB_CLI_STORE_H
#define OCB_CLI_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

/* *out is malloc'd. */
int cli_store_root(char **out, struct ocb_error *err);

#endif

struct oci_layout;

/* Open the local store (creating it when create is set). */
int cli_store_open(struct oci_layout *store, bool create, struct ocb_error *err);
/* The same for a command that writes blobs before it names them (import,
 * load, pull, manifest create): also takes the store lock shared
 * (builder/store_lock.h) into *lock_fd, which the caller closes when done, so
 * a collection cannot take the blobs in between. */
int cli_store_open_writer(struct oci_layout *store, bool create, int *lock_fd, struct ocb_error *err);
/* A fresh directory <store>/tmp/<prefix>-XXXXXX for scratch work on the
 * store's file system (extracted root filesystems, unpacked archives).
 * <store>/tmp is made private like the builder's (build_private_dir): what is
 * unpacked there may hold setuid files and devices.  *out is malloc'd. */
int cli_store_mkdtemp(const struct oci_layout *store, const char *prefix, char **out, struct ocb_error *err);
/* The image creation time: SOURCE_DATE_EPOCH when set, else now, as RFC 3339
 * UTC ("2023-11-14T22:13:20Z") into buf. */
int cli_created_time(char *buf, size_t size, struct ocb_error *err);
