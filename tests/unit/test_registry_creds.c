/* Docker config.json credentials: read (auths, username/password, helpers),
 * write keeping other entries, erase, base64. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "testutil.h"
#include "oci/registry_impl.h"

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void test_base64(void **state)
{
	char *s = NULL, *d = NULL;
	size_t len = 0;
	struct ocb_error err = OCB_ERROR_INIT;

	assert_ok(oci_registry_base64_encode("user:pa:ss", 10, &s, &test_err));
	assert_string_equal(s, "dXNlcjpwYTpzcw==");
	assert_ok(oci_registry_base64_decode(s, &d, &len, &test_err));
	assert_int_equal(len, 10);
	assert_memory_equal(d, "user:pa:ss", 10);
	free(s), free(d);
	assert_ok(oci_registry_base64_decode("YQ==", &d, &len, &test_err));
	assert_int_equal(len, 1);
	free(d);
	assert_int_equal(oci_registry_base64_decode("abc", &d, &len, &err), -1);
	assert_int_equal(oci_registry_base64_decode("a*b=", &d, &len, &err), -1);
}

static void test_lookup(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	char *user = NULL, *secret = NULL;
	struct ocb_error err = OCB_ERROR_INIT;
	const char *cfg = "{\"auths\": {"
			  "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmh1YnB3\"},"
			  "\"http://r.example:5000/v2/\": {\"auth\": \"YWxpY2U6czNjcjN0Og==\"},"
			  "\"plain.example\": {\"username\": \"bob\", \"password\": \"pw\"},"
			  "\"bad.example\": {\"auth\": \"bm9jb2xvbg==\"},"
			  "\"idt.example\": {\"auth\": \"MDAwOg==\", \"identitytoken\": \"rt-1\"}},"
			  "\"credHelpers\": {\"helped.example\": \"ocb-test-missing\"}}";

	assert_int_equal(oci_registry_creds_lookup(dir, "r.example:5000", &user, &secret, &test_err), 0);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	testutil_write_file(path, cfg, strlen(cfg));
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example:5000", &user, &secret, &test_err), 1);
	assert_string_equal(user, "alice");
	assert_string_equal(secret, "s3cr3t:"); /* only the first ':' splits */
	free(user), free(secret);
	assert_int_equal(oci_registry_creds_lookup(dir, "docker.io", &user, &secret, &test_err), 1);
	assert_string_equal(user, "hub");
	free(user), free(secret);
	assert_int_equal(oci_registry_creds_lookup(dir, "plain.example", &user, &secret, &test_err), 1);
	assert_string_equal(secret, "pw");
	free(user), free(secret);
	/* an identity token wins over auth, as Docker's "<token>" user */
	assert_int_equal(oci_registry_creds_lookup(dir, "idt.example", &user, &secret, &test_err), 1);
	assert_string_equal(user, "<token>");
	assert_string_equal(secret, "rt-1");
	free(user), free(secret);
	user = secret = NULL;
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example", &user, &secret, &test_err), 0);
	assert_int_equal(oci_registry_creds_lookup(dir, "bad.example", &user, &secret, &err), -1);
	assert_int_equal(err.code, OCB_EINVAL);
	/* a helper that does not exist is an error, not silently anonymous */
	assert_int_equal(oci_registry_creds_lookup(dir, "helped.example", &user, &secret, &err), -1);
	assert_null(user);
	testutil_rmtree(dir);
	free(dir);
}

static void test_helper(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096], cfg[8192];
	char *user = NULL, *secret = NULL;
	const char *old_path = getenv("PATH");
	char *saved = old_path ? strdup(old_path) : NULL;
	const char *script = "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 2\n"
			     "printf '{\"ServerURL\":\"%s\",\"Username\":\"h-user\",\"Secret\":\"h-%s\"}' "
			     "\"$server\" \"$server\"\n";

	snprintf(path, sizeof(path), "%s/docker-credential-ocbtest", dir);
	testutil_write_file(path, script, strlen(script));
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(cfg, sizeof(cfg), "%s:%s", dir, saved ? saved : "/usr/bin:/bin");
	setenv("PATH", cfg, 1);
	snprintf(cfg, sizeof(cfg),
		 "{\"credsStore\": \"ocbtest\", \"credHelpers\": {\"x.example\": \"ocbtest\"}}");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	testutil_write_file(path, cfg, strlen(cfg));
	assert_int_equal(oci_registry_creds_lookup(dir, "x.example", &user, &secret, &test_err), 1);
	assert_string_equal(user, "h-user");
	assert_string_equal(secret, "h-x.example");
	free(user), free(secret);
	assert_int_equal(oci_registry_creds_lookup(dir, "docker.io", &user, &secret, &test_err), 1);
	assert_string_equal(secret, "h-https://index.docker.io/v1/");
	free(user), free(secret);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	testutil_rmtree(dir);
	free(dir);
}

/* A credsStore helper keeping one credential in a file next to itself. */
static void test_helper_store_erase(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096], env[8192];
	char *user = NULL, *secret = NULL, *text;
	const char *old_path = getenv("PATH");
	char *saved = old_path ? strdup(old_path) : NULL;
	struct ocb_error err = OCB_ERROR_INIT;
	const char *script = "#!/bin/sh\nd=$(dirname \"$0\")\n"
			     "case \"$1\" in\n"
			     "store) cat >\"$d/stored\" ;;\n"
			     "get) cat >/dev/null; [ -f \"$d/stored\" ] && exec cat \"$d/stored\";"
			     " echo 'credentials not found in native keychain'; exit 1 ;;\n"
			     "erase) read s; [ -f \"$d/stored\" ] && exec rm \"$d/stored\";"
			     " echo 'credentials not found in native keychain'; exit 1 ;;\n"
			     "esac\n";
	const char *cfg = "{\"credsStore\": \"ocbstore\", \"auths\": {\"r.example\": {\"auth\": \"eDp5\"}}}";

	snprintf(path, sizeof(path), "%s/docker-credential-ocbstore", dir);
	testutil_write_file(path, script, strlen(script));
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(env, sizeof(env), "%s:%s", dir, saved ? saved : "/usr/bin:/bin");
	setenv("PATH", env, 1);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	testutil_write_file(path, cfg, strlen(cfg));

	/* with a credsStore, the file's auth entry is not used (as in Docker) */
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example", &user, &secret, &test_err), 0);
	assert_ok(oci_registry_creds_store(dir, "r.example", "u1", "s1", &test_err));
	text = read_text(path);
	assert_null(strstr(text, "eDp5")); /* the old secret left the file */
	assert_null(strstr(text, "s1"));   /* the new one never entered it */
	assert_non_null(strstr(text, "r.example"));
	free(text);
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example", &user, &secret, &test_err), 1);
	assert_string_equal(user, "u1");
	assert_string_equal(secret, "s1");
	free(user), free(secret);
	assert_ok(oci_registry_creds_erase(dir, "r.example", &test_err));
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example", &user, &secret, &test_err), 0);
	assert_int_equal(oci_registry_creds_erase(dir, "r.example", &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	testutil_rmtree(dir);
	free(dir);
}

static void test_store_keeps_entries(void **state)
{
	char *dir = testutil_mkdtemp();
	char path[4096];
	char *text, *user = NULL, *secret = NULL;
	struct ocb_error err = OCB_ERROR_INIT;
	struct stat st;
	json_t *doc;
	const char *cfg =
	    "{\"auths\": {\"other.example\": {\"auth\": \"eDp5\"}, "
	    "\"https://r.example:5000\": {\"auth\": \"b2xkOm9sZA==\"}}, \"psFormat\": \"table\"}";

	snprintf(path, sizeof(path), "%s/config.json", dir);
	testutil_write_file(path, cfg, strlen(cfg));
	assert_ok(oci_registry_creds_store(dir, "r.example:5000", "new", "pw", &test_err));
	assert_ok(oci_registry_creds_store(dir, "fresh.example", "u", "p", &test_err));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = read_text(path);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "psFormat")), "table");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(doc, "auths"), "other.example"), "auth")),
			    "eDp5");
	/* the existing key for the host is updated, not duplicated */
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(doc, "auths"), "https://r.example:5000"), "auth")),
	    "bmV3OnB3");
	assert_int_equal(json_object_size(json_object_get(doc, "auths")), 3);
	json_decref(doc);
	free(text);
	assert_int_equal(oci_registry_creds_lookup(dir, "fresh.example", &user, &secret, &test_err), 1);
	assert_string_equal(user, "u");
	free(user), free(secret);

	assert_ok(oci_registry_creds_erase(dir, "r.example:5000", &test_err));
	assert_int_equal(oci_registry_creds_lookup(dir, "r.example:5000", &user, &secret, &test_err), 0);
	assert_int_equal(oci_registry_creds_erase(dir, "r.example:5000", &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_int_equal(oci_registry_creds_store(dir, "x.example", "a:b", "p", &err), -1);
	/* a fresh directory is created */
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_ok(oci_registry_creds_store(path, "x.example", "a", "p", &test_err));
	testutil_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_helper),
	    cmocka_unit_test(test_helper_store_erase),
	    cmocka_unit_test(test_store_keeps_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
