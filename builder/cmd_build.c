/* ocb build RECIPE [options]: build an image from a recipe (docs/build.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/build.h"
#include "builder/cache_transfer.h"
#include "builder/cli.h"
#include "builder/cli_registry.h"
#include "builder/progress.h"
#include "builder/sandbox.h"
#include "oci/cleanup.h"
#include "oci/banned.h"

static const char build_usage[] =
    "usage: ocb build [RECIPE] [OPTIONS]\n"
    "  --arch amd64|arm64|all        target architecture\n"
    "  --platform linux/arm64,...    target platforms\n"
    "  --target STAGE                build this stage (default: [image].target or the last)\n"
    "  -t, --tag NAME:TAG            name in the local store (default: [image] name:tag)\n"
    "  --output oci:DIR[:TAG] | oci-archive:FILE | docker-archive:FILE   (repeatable)\n"
    "  --cache-dir DIR               the step cache (default: $OCB_ROOT/cache as root)\n"
    "  --no-cache                    run every step (the cache is still filled)\n"
    "  --build-arg K=V               override an [args] value (repeatable)\n"
    "  --secret id=ID,src=PATH       a secret for `secrets = [\"ID\"]` (repeatable)\n"
    "  --progress auto|tty|plain|json\n"
    "  --jobs N                      stages built at once (default: the number of CPUs)\n"
    "  --context DIR                 the build context (default: the recipe's directory)\n"
    "  --compression gzip|zstd       layer compression (default gzip)\n"
    "  --metadata-file FILE          write digests and per-step cache hits as JSON\n"
    "  --cache-from registry:REF|oci:DIR   import a shared step cache (layers fetched on a hit;\n"
    "                                      repeatable, up to 8, the first that has a step wins)\n"
    "  --cache-to registry:REF|oci:DIR     export this build's step cache, merged with what is there\n"
    "  --push                        push the result to its name (-t REGISTRY/REPO:TAG)\n"
    "  --tls-verify=false            registries: accept any certificate, allow plain HTTP\n"
    "  --security-opt seccomp=unconfined   run steps without the default seccomp filter\n"
    "Exit status: 0 built, 1 a step failed, 2 recipe, usage or input error, 3 environment error.\n";

struct build_args {
	struct build_options o;
	char **build_args;
	size_t n_build_args;
	struct build_output *outputs;
	size_t n_outputs;
	struct build_secret *secrets;
	size_t n_secrets;
	const char *progress;
	const char *cache_from[CACHE_TRANSFER_FROM_MAX];
	size_t n_cache_from;
	const char *cache_to;
};

static void build_args_release(struct build_args *a)
{
	for (size_t i = 0; i < a->n_build_args; i++)
		free(a->build_args[i]);
	free(a->build_args);
	for (size_t i = 0; i < a->n_outputs; i++)
		free(a->outputs[i].dest);
	free(a->outputs);
	for (size_t i = 0; i < a->n_secrets; i++) {
		free(a->secrets[i].id);
		free(a->secrets[i].src);
	}
	free(a->secrets);
	cache_transfer_free(a->o.transfer);
}

static int grow(void **v, size_t n, size_t size, struct ocb_error *err)
{
	void *p = realloc(*v, (n + 1) * size);

	if (!p)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	*v = p;
	return 0;
}

static int add_build_arg(struct build_args *a, const char *arg, struct ocb_error *err)
{
	char *kv = NULL;

	if (!strchr(arg, '=')) {
		const char *v = getenv(arg); /* Docker: "K" alone takes K from the environment */
		if (!v)
			return 0;
		if (asprintf(&kv, "%s=%s", arg, v) < 0)
			kv = NULL;
	} else {
		kv = strdup(arg);
	}
	if (!kv || grow((void **)&a->build_args, a->n_build_args, sizeof(char *), err) < 0) {
		free(kv);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	a->build_args[a->n_build_args++] = kv;
	return 0;
}

static int add_output(struct build_args *a, const char *arg, struct ocb_error *err)
{
	static const struct {
		const char *prefix;
		enum build_output_kind kind;
	} kinds[] = {{"oci:", BUILD_OUTPUT_OCI_DIR},
		     {"oci-archive:", BUILD_OUTPUT_OCI_ARCHIVE},
		     {"docker-archive:", BUILD_OUTPUT_DOCKER_ARCHIVE}};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		if (strncmp(arg, kinds[i].prefix, n) != 0)
			continue;
		if (!arg[n])
			break;
		if (grow((void **)&a->outputs, a->n_outputs, sizeof(*a->outputs), err) < 0)
			return -1;
		a->outputs[a->n_outputs] =
		    (struct build_output){.kind = kinds[i].kind, .dest = strdup(arg + n)};
		if (!a->outputs[a->n_outputs++].dest)
			return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
		return 0;
	}
	return cli_usage_error(err, "build",
			       "--output '%s': expected oci:DIR[:TAG], oci-archive:FILE or "
			       "docker-archive:FILE",
			       arg);
}

/* "id=ID,src=PATH" (also source=, and type=file is accepted). */
static int add_secret(struct build_args *a, const char *arg, struct ocb_error *err)
{
	cleanup_free char *copy = strdup(arg);
	char *save = NULL, *id = NULL, *src = NULL;
	struct stat st;

	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (!strncmp(f, "id=", 3))
			id = f + 3;
		else if (!strncmp(f, "src=", 4))
			src = f + 4;
		else if (!strncmp(f, "source=", 7))
			src = f + 7;
		else if (strcmp(f, "type=file") != 0)
			return cli_usage_error(err, "build", "--secret '%s': unknown field '%s'", arg, f);
	}
	if (!id || !*id || strchr(id, '/') || !src || !*src)
		return cli_usage_error(err, "build", "--secret '%s': expected id=ID,src=PATH", arg);
	if (stat(src, &st) < 0 || !S_ISREG(st.st_mode))
		return cli_usage_error(err, "build", "--secret '%s': '%s' is not a readable file", arg, src);
	if (grow((void **)&a->secrets, a->n_secrets, sizeof(*a->secrets), err) < 0)
		return -1;
	a->secrets[a->n_secrets] = (struct build_secret){.id = strdup(id), .src = realpath(src, NULL)};
	if (!a->secrets[a->n_secrets].id || !a->secrets[a->n_secrets].src) {
		free(a->secrets[a->n_secrets].id);
		free(a->secrets[a->n_secrets].src);
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	}
	a->n_secrets++;
	return 0;
}

static int parse_jobs(const char *s, unsigned *out, struct ocb_error *err)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 64)
		return cli_usage_error(err, "build", "--jobs '%s': expected 1 to 64", s);
	*out = (unsigned)v;
	return 0;
}

enum {
	OPT_ARCH = 1,
	OPT_PLATFORM,
	OPT_TARGET,
	OPT_OUTPUT,
	OPT_CACHE_DIR,
	OPT_NO_CACHE,
	OPT_BUILD_ARG,
	OPT_SECRET,
	OPT_PROGRESS,
	OPT_JOBS,
	OPT_CONTEXT,
	OPT_COMPRESSION,
	OPT_METADATA,
	OPT_PUSH,
	OPT_TLS_VERIFY,
	OPT_CACHE_FROM,
	OPT_CACHE_TO,
	OPT_SECURITY_OPT,
	OPT_HELP,
};

static int apply_option(struct build_args *a, int opt, const char *arg, struct ocb_error *err)
{
	struct build_options *o = &a->o;

	switch (opt) {
	case OPT_ARCH:
		o->arch = arg;
		return 0;
	case OPT_PLATFORM:
		o->platform_list = arg;
		return 0;
	case OPT_TARGET:
		o->target = arg;
		return 0;
	case 't':
		o->tag = arg;
		return 0;
	case OPT_OUTPUT:
		return add_output(a, arg, err);
	case OPT_CACHE_DIR:
		o->cache_dir = arg;
		return 0;
	case OPT_NO_CACHE:
		o->no_cache = true;
		return 0;
	case OPT_BUILD_ARG:
		return add_build_arg(a, arg, err);
	case OPT_SECRET:
		return add_secret(a, arg, err);
	case OPT_PROGRESS:
		a->progress = arg;
		return 0;
	case OPT_JOBS:
		return parse_jobs(arg, &o->jobs, err);
	case OPT_CONTEXT:
		o->context_dir = arg;
		return 0;
	case OPT_COMPRESSION:
		if (oci_compression_parse(arg, &o->compression, err) < 0 ||
		    (o->compression != OCI_COMPRESSION_GZIP && o->compression != OCI_COMPRESSION_ZSTD))
			return cli_usage_error(err, "build", "--compression must be gzip or zstd");
		return 0;
	case OPT_METADATA:
		o->metadata_file = arg;
		return 0;
	case OPT_CACHE_FROM:
		if (a->n_cache_from == CACHE_TRANSFER_FROM_MAX)
			return cli_usage_error(err, "build", "--cache-from: at most %d sources",
					       CACHE_TRANSFER_FROM_MAX);
		a->cache_from[a->n_cache_from++] = arg;
		return 0;
	case OPT_CACHE_TO:
		a->cache_to = arg;
		return 0;
	case OPT_PUSH:
		o->push = true;
		return 0;
	case OPT_TLS_VERIFY: {
		bool verify = true;
		if (cli_parse_tls_verify("build", arg, &verify, err) < 0)
			return -1;
		o->no_tls_verify = !verify;
		return 0;
	}
	case OPT_SECURITY_OPT:
		if (strcmp(arg, "seccomp=unconfined"))
			return cli_usage_error(
			    err, "build", "--security-opt '%s': only seccomp=unconfined is supported", arg);
		o->seccomp_unconfined = true;
		return 0;
	default:
		return cli_usage_error(err, "build", "unknown option");
	}
}

/* 1 when --help was asked for. */
static int parse_args(int argc, char **argv, struct build_args *a, struct ocb_error *err)
{
	static const struct option longopts[] = {
	    {"arch", required_argument, NULL, OPT_ARCH},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"target", required_argument, NULL, OPT_TARGET},
	    {"tag", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, OPT_OUTPUT},
	    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
	    {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
	    {"secret", required_argument, NULL, OPT_SECRET},
	    {"progress", required_argument, NULL, OPT_PROGRESS},
	    {"jobs", required_argument, NULL, OPT_JOBS},
	    {"context", required_argument, NULL, OPT_CONTEXT},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"metadata-file", required_argument, NULL, OPT_METADATA},
	    {"push", no_argument, NULL, OPT_PUSH},
	    {"cache-from", required_argument, NULL, OPT_CACHE_FROM},
	    {"cache-to", required_argument, NULL, OPT_CACHE_TO},
	    {"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY},
	    {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:o:", longopts, NULL)) != -1) {
		if (opt == OPT_HELP)
			return 1;
		if (opt == 'o')
			opt = OPT_OUTPUT;
		if (opt == '?' || opt == ':')
			return cli_usage_error(err, "build", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		if (apply_option(a, opt, optarg, err) < 0)
			return -1;
	}
	if (argc - optind > 1)
		return cli_usage_error(err, "build", "one recipe at a time");
	a->o.recipe_path = optind < argc ? argv[optind] : "recipe.toml";
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
	build_interrupt();
	sandbox_kill_all();
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_build(int argc, char **argv, struct ocb_error *err)
{
	struct build_args a = {.o.compression = OCI_COMPRESSION_GZIP, .progress = "auto"};
	struct progress *p = NULL;
	enum progress_mode mode;
	int rc = parse_args(argc, argv, &a, err);

	if (rc == 1) {
		fputs(build_usage, stdout);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((rc = progress_mode_parse(a.progress, &mode, err)) < 0) {
		err->code = OCB_EINVAL;
		goto out;
	}
	if ((rc = progress_new(&p, mode, stderr, err)) < 0)
		goto out;
	a.o.build_args = (const char *const *)a.build_args;
	a.o.n_build_args = a.n_build_args;
	a.o.outputs = a.outputs;
	a.o.n_outputs = a.n_outputs;
	a.o.secrets = a.secrets;
	a.o.n_secrets = a.n_secrets;
	a.o.progress = p;
	if (a.n_cache_from || a.cache_to) {
		struct cache_transfer_options t = {.from = a.cache_from,
						   .n_from = a.n_cache_from,
						   .to = a.cache_to,
						   .tls_verify = !a.o.no_tls_verify,
						   .progress = p};
		if ((rc = cache_transfer_new(&t, &a.o.transfer, err)) < 0)
			goto out;
	}
	install_signals();
	build_registry_progress(p);
	rc = build_run(&a.o, err);
	if (rc == 0 && a.cache_to)
		rc = build_export_cache(&a.o, err);
	build_registry_progress(NULL);
	progress_free(p);
	if (interrupted) {
		ocb_error_set(err, OCB_EBUILD, 0, "interrupted by signal %d", (int)interrupted);
		rc = -1;
	}
out:
	build_args_release(&a);
	return rc;
}
