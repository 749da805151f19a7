/* The recipe model: what a recipe.toml says, checked and with variables
 * expanded, every value with the place it was written.
 *
 * The model records what the recipe set and nothing else: a stage's user,
 * workdir, env or cmd that the recipe leaves out is absent here (value NULL,
 * set false), and the builder inherits it from the base image.  A recipe is
 * loaded for one target platform (variables such as TARGETARCH are expanded
 * at load time); a multi-platform build loads it once per platform.
 *
 * The format is documented in docs/recipe.md. */
#ifndef OCB_RECIPE_H
#define OCB_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"
#include "recipes/recipe_platform.h"
#include "recipes/recipe_port.h"
#include "recipes/toml.h"

#define RECIPE_VERSION 1

/* Where a value was written: file is the recipe's path as given to the loader. */
struct recipe_pos {
	const char *file;
	uint32_t line, col;
};

/* A string value.  value is NULL when the key is absent. */
struct recipe_str {
	char *value; /* after variable expansion, for the keys that expand */
	char *raw;   /* as written */
	struct recipe_pos pos;
};

struct recipe_strv {
	struct recipe_str *items;
	size_t len;
	bool set; /* the key was present (an empty array counts) */
	struct recipe_pos pos;
};

struct recipe_kv {
	struct recipe_str key; /* key.pos is where the key was written */
	struct recipe_str value;
};

/* A table of strings (env, labels, args), in document order. */
struct recipe_map {
	struct recipe_kv *items;
	size_t len;
	bool set;
	struct recipe_pos pos;
};

/* entrypoint, cmd, run.  A string is the shell form: argv is then
 * {"/bin/sh", "-c", string} and shell is true.  An array is the exec form. */
struct recipe_cmd {
	bool set;
	bool shell;
	struct recipe_strv argv;
	struct recipe_pos pos;
};

struct recipe_duration {
	bool set;
	int64_t ns;
	struct recipe_pos pos;
};

enum recipe_health_kind {
	RECIPE_HEALTH_CMD,	 /* test = ["CMD", "curl", ...] */
	RECIPE_HEALTH_CMD_SHELL, /* test = ["CMD-SHELL", "..."] or a string */
	RECIPE_HEALTH_NONE,	 /* test = ["NONE"]: disable the base image's check */
};

struct recipe_healthcheck {
	bool set;
	struct recipe_pos pos;
	enum recipe_health_kind kind;
	struct recipe_strv test; /* the image-config form, kind word first */
	struct recipe_duration interval, timeout, start_period, start_interval;
	bool retries_set;
	int retries;
	struct recipe_pos retries_pos;
};

struct recipe_expose {
	struct recipe_port port;
	struct recipe_str text; /* as written (expanded) */
};

struct recipe_ports {
	struct recipe_expose *items;
	size_t len;
	bool set;
	struct recipe_pos pos;
};

enum recipe_step_kind {
	RECIPE_STEP_RUN,
	RECIPE_STEP_COPY,
};

enum recipe_network {
	RECIPE_NETWORK_DEFAULT, /* not written: the builder's default (network access, as Docker) */
	RECIPE_NETWORK_NONE,
	RECIPE_NETWORK_HOST,
};

enum recipe_copy_origin {
	RECIPE_COPY_CONTEXT, /* no 'from': the build context */
	RECIPE_COPY_STAGE,   /* from = a stage of this recipe */
	RECIPE_COPY_IMAGE,   /* from = an image reference */
};

struct recipe_copy {
	/* For RECIPE_COPY_CONTEXT each value is cleaned and relative to the
	 * context root ("." for the root itself); otherwise as expanded. */
	struct recipe_strv sources;
	struct recipe_str to;
	struct recipe_str from; /* value NULL for the context */
	enum recipe_copy_origin origin;
	size_t from_stage; /* index in recipe.stages for RECIPE_COPY_STAGE */
	bool chmod_set;
	uint32_t chmod; /* 0..07777 */
	struct recipe_pos chmod_pos;
	struct recipe_str chown;    /* "user[:group]", names or numbers */
	char *chown_user;	    /* the part before ':' (NULL when chown is unset) */
	char *chown_group;	    /* the part after ':' (NULL when absent) */
	struct recipe_strv exclude; /* .ocbignore-style patterns, relative to each source */
};

struct recipe_step {
	enum recipe_step_kind kind;
	size_t index; /* 0-based, in the stage */
	struct recipe_pos pos;
	struct recipe_cmd run;		 /* RECIPE_STEP_RUN */
	struct recipe_copy copy;	 /* RECIPE_STEP_COPY */
	struct recipe_map env;		 /* run only: for this step, not kept in the image */
	struct recipe_str workdir, user; /* workdir: run and copy; user: run */
	struct recipe_str network;	 /* run only */
	enum recipe_network net;
	struct recipe_strv cache;   /* run only: absolute paths of cache mounts */
	struct recipe_strv secrets; /* run only: secret ids, mounted at /run/secrets/ID */
};

enum recipe_base {
	RECIPE_BASE_IMAGE,   /* from = an image reference */
	RECIPE_BASE_STAGE,   /* from = another stage */
	RECIPE_BASE_SCRATCH, /* from = "scratch": an empty root */
};

enum recipe_platform_kind {
	RECIPE_PLATFORM_TARGET,	  /* the default: the platform being built */
	RECIPE_PLATFORM_BUILD,	  /* "build": the build host's platform */
	RECIPE_PLATFORM_EXPLICIT, /* "linux/arm64" */
};

/* A dependency of a stage on another: through 'from' or a copy's 'from'. */
struct recipe_dep {
	size_t stage;
	struct recipe_pos pos; /* where the name was written (the first mention) */
};

struct recipe_stage {
	char *name;
	struct recipe_pos pos; /* the [stages.NAME] header or the NAME key */
	size_t index;	       /* in document order */
	struct recipe_str from;
	enum recipe_base base;
	size_t base_stage; /* RECIPE_BASE_STAGE */
	struct recipe_str platform;
	enum recipe_platform_kind platform_kind;
	struct recipe_platform resolved_platform; /* what 'platform' means for this load */
	/* Build settings that are also image metadata (Docker's WORKDIR, ENV, USER). */
	struct recipe_str workdir, user;
	struct recipe_map env;
	/* Image metadata. */
	struct recipe_cmd entrypoint, cmd;
	struct recipe_ports expose;
	struct recipe_map labels;
	struct recipe_strv volumes;
	struct recipe_str stop_signal; /* value is canonical: "SIGTERM", or a number */
	int stop_signum;
	struct recipe_healthcheck healthcheck;
	struct recipe_step *steps;
	size_t n_steps;
	struct recipe_dep *deps; /* each stage once, in order of first mention */
	size_t n_deps;
};

struct recipe {
	char *file;
	int64_t version;
	struct recipe_pos version_pos;
	struct recipe_str image_name, image_tag; /* expanded with [args] and platform variables */
	struct recipe_strv platforms;		 /* normalised "linux/arm64"... */
	struct recipe_str target;		 /* [image].target or the --target override */
	size_t target_stage;			 /* target, else the last stage */
	struct recipe_map args;			 /* [args], values after --build-arg */
	struct recipe_stage *stages;		 /* in document order */
	size_t n_stages;
	struct recipe_platform target_platform, build_platform;
	char **warnings; /* e.g. an unused --build-arg; for the CLI to print */
	size_t n_warnings;
};

struct recipe_options {
	const char *const *build_args; /* "KEY=VALUE" overriding [args] defaults; "KEY": from getenv */
	size_t n_build_args;
	const char *target_platform; /* NULL: the host's */
	const char *build_platform;  /* NULL: the host's */
	const char *target;	     /* NULL: [image].target, else the last stage */
};

/* Load and check a recipe.  Every error is OCB_EINVAL with the message
 * "FILE:LINE:COL: what is wrong" (the first error found). */
int recipe_load_file(const char *path, const struct recipe_options *opts, struct recipe **out,
		     struct ocb_error *err);
int recipe_load_string(const char *file, const char *data, size_t len, const struct recipe_options *opts,
		       struct recipe **out, struct ocb_error *err);
/* From a parsed TOML document; file is used in positions and messages. */
int recipe_load_toml(const struct toml_value *root, const char *file, const struct recipe_options *opts,
		     struct recipe **out, struct ocb_error *err);
void recipe_free(struct recipe *r);

/* The stage named name, or NULL. */
const struct recipe_stage *recipe_stage_find(const struct recipe *r, const char *name);

/* Environments, as "KEY=VALUE" strings in a NULL-terminated array owned by
 * the caller (free with recipe_env_free).  base_env is the base image's
 * Config.Env (NULL for none, or when the base is scratch).
 *
 * recipe_stage_image_env: the Env of the stage's image: base_env with the
 * stage's env applied, each value expanded again from what was written
 * against the keys before it, then the base image's environment, then
 * [args], then the platform variables (so PATH = "/app/bin:$PATH" extends
 * the base image's PATH, as ENV does in a Dockerfile).
 *
 * recipe_step_env: what a run step's command gets: the platform variables,
 * then [args] (after --build-arg), then the stage's image Env, then the
 * step's env (expanded the same way), a later one replacing an earlier one
 * of the same name.  step may be NULL. */
int recipe_stage_image_env(const struct recipe *r, const struct recipe_stage *stage,
			   const char *const *base_env, char ***envp, struct ocb_error *err);
int recipe_step_env(const struct recipe *r, const struct recipe_stage *stage, const struct recipe_step *step,
		    const char *const *base_env, char ***envp, struct ocb_error *err);
void recipe_env_free(char **envp);

#endif
