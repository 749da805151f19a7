/* The ocb command line: one file per subcommand, dispatched from one table
 * (crun's commands[], git's cmd_struct). */
#ifndef OCB_CLI_H
#define OCB_CLI_H

#include <stdbool.h>

#include "oci/error.h"

/* A subcommand returns 0 or -1 with err filled; main prints err once and
 * exits with ocb_error_exit_code(err). argv[0] is the subcommand name. */
typedef int (*cli_command_fn)(int argc, char **argv, struct ocb_error *err);

struct cli_command {
	const char *name;
	cli_command_fn fn;
	const char *summary;
	/* Run in the rootless user namespace when the caller is not root
	 * (builder/rootless.h): it extracts layers or removes snapshots. */
	bool userns;
};

int cmd_images(int argc, char **argv, struct ocb_error *err);
int cmd_import(int argc, char **argv, struct ocb_error *err);
int cmd_inspect(int argc, char **argv, struct ocb_error *err);
int cmd_manifest(int argc, char **argv, struct ocb_error *err);
int cmd_load(int argc, char **argv, struct ocb_error *err);
int cmd_save(int argc, char **argv, struct ocb_error *err);
int cmd_rmi(int argc, char **argv, struct ocb_error *err);
int cmd_version(int argc, char **argv, struct ocb_error *err);
int cmd_check(int argc, char **argv, struct ocb_error *err);
int cmd_build(int argc, char **argv, struct ocb_error *err);
int cmd_pull(int argc, char **argv, struct ocb_error *err);
int cmd_push(int argc, char **argv, struct ocb_error *err);
int cmd_login(int argc, char **argv, struct ocb_error *err);
int cmd_logout(int argc, char **argv, struct ocb_error *err);
int cmd_cache(int argc, char **argv, struct ocb_error *err);
int cmd_prune(int argc, char **argv, struct ocb_error *err);
int cmd_tag(int argc, char **argv, struct ocb_error *err);

/* A usage error (exit code 2) for subcommand cmd. */
int cli_usage_error(struct ocb_error *err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CLI_WAIT_MAX_SECONDS (24 * 3600)
/* --wait SECONDS of a prune (0 to a day); a usage error for cmd otherwise. */
int cli_parse_wait(const char *cmd, const char *s, long *out, struct ocb_error *err);

#endif
