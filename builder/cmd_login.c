/* ocb login REGISTRY [-u USER] [--password-stdin] [--tls-verify=false]
 *
 * Checks the credentials against the registry (GET /v2/, with a token when it
 * asks for one) and stores them in Docker's config.json ($DOCKER_CONFIG or
 * ~/.docker), keeping every other entry.  The password comes from stdin with
 * --password-stdin, else from a prompt on the terminal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/cli.h"
#include "builder/cli_registry.h"
#include "oci/cleanup.h"
#include "oci/registry.h"
#include "oci/banned.h"

#define PASSWORD_MAX 4096

static const char login_usage[] =
    "usage: ocb login REGISTRY [-u USER] [--password-stdin] [--tls-verify=false]\n"
    "  -u, --username USER  the user name (prompted for when missing on a terminal)\n"
    "  --password-stdin     read the password (or token) from stdin\n"
    "Credentials are stored in $DOCKER_CONFIG/config.json (default ~/.docker/config.json).\n";

struct login_opts {
	const char *registry;
	const char *user;
	bool password_stdin;
	bool tls_verify;
};

static int parse_args(int argc, char **argv, struct login_opts *o, struct ocb_error *err)
{
	enum { OPT_STDIN = 1, OPT_TLS, OPT_HELP };
	static const struct option longopts[] = {
	    {"username", required_argument, NULL, 'u'},
	    {"password-stdin", no_argument, NULL, OPT_STDIN},
	    {"tls-verify", optional_argument, NULL, OPT_TLS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "u:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			o->user = optarg;
			break;
		case OPT_STDIN:
			o->password_stdin = true;
			break;
		case OPT_TLS:
			if (cli_parse_tls_verify("login", optarg, &o->tls_verify, err) < 0)
				return -1;
			break;
		case OPT_HELP:
			fputs(login_usage, stdout);
			exit(0);
		default:
			return cli_usage_error(err, "login", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(err, "login", "expected one REGISTRY");
	o->registry = argv[optind];
	return 0;
}

/* One line from f without its newline; *out malloc'd. */
static int read_line(FILE *f, char **out, struct ocb_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);

	if (n < 0) {
		free(line);
		return ocb_error_set(err, OCB_EINVAL, 0, "no input");
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > PASSWORD_MAX) {
		explicit_bzero(line, (size_t)n);
		free(line);
		return ocb_error_set(err, OCB_ELIMIT, 0, "input longer than %d bytes", PASSWORD_MAX);
	}
	*out = line;
	return 0;
}

static int get_secrets(const struct login_opts *o, char **user, char **password, struct ocb_error *err)
{
	if (o->user && !(*user = strdup(o->user)))
		return ocb_error_set(err, OCB_EFAIL, 0, "out of memory");
	if (!o->password_stdin && !isatty(STDIN_FILENO))
		return cli_usage_error(err, "login", "no terminal to prompt on: use --password-stdin");
	if (!*user) {
		if (o->password_stdin)
			return cli_usage_error(err, "login", "--password-stdin needs -u USER");
		fputs("Username: ", stderr);
		if (read_line(stdin, user, err) < 0)
			return -1;
	}
	if (o->password_stdin) {
		if (read_line(stdin, password, err) < 0)
			return ocb_error_wrap(err, "password from stdin");
	} else {
		const char *p = getpass("Password: ");
		if (!p || !(*password = strdup(p)))
			return ocb_error_set(err, OCB_EINVAL, 0, "no password");
	}
	if (!**user || !**password)
		return ocb_error_set(err, OCB_EINVAL, 0, "empty user name or password");
	return 0;
}

int cmd_login(int argc, char **argv, struct ocb_error *err)
{
	struct login_opts o = {.tls_verify = true};
	struct oci_registry *r = NULL;
	cleanup_free char *host = NULL;
	cleanup_free char *dir = NULL;
	cleanup_free char *user = NULL;
	cleanup_free char *password = NULL;
	int ret = -1;

	if (parse_args(argc, argv, &o, err) < 0 || cli_registry_host(o.registry, &host, err) < 0)
		return -1;
	if (get_secrets(&o, &user, &password, err) < 0 || oci_registry_config_dir(&dir, err) < 0)
		goto out;
	if (cli_registry_open(host, o.tls_verify, user, password, &r, err) < 0 ||
	    oci_registry_ping(r, err) < 0)
		goto out;
	if (oci_registry_creds_store(dir, host, user, password, err) < 0)
		goto out;
	printf("login succeeded: %s (credentials in %s/config.json)\n", host, dir);
	ret = 0;
out:
	if (ret < 0)
		ocb_error_wrap(err, "login '%s'", host ? host : o.registry);
	if (password)
		explicit_bzero(password, strlen(password));
	oci_registry_free(r);
	return ret;
}

int cmd_logout(int argc, char **argv, struct ocb_error *err)
{
	cleanup_free char *host = NULL;
	cleanup_free char *dir = NULL;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		puts(
		    "usage: ocb logout REGISTRY\nRemoves the registry's credentials from the Docker config.");
		return 0;
	}
	if (argc != 2)
		return cli_usage_error(err, "logout", "expected one REGISTRY");
	if (cli_registry_host(argv[1], &host, err) < 0 || oci_registry_config_dir(&dir, err) < 0)
		return -1;
	if (oci_registry_creds_erase(dir, host, err) < 0)
		return ocb_error_wrap(err, "logout '%s'", host);
	printf("removed the credentials for %s\n", host);
	return 0;
}
