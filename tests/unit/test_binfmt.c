/* sandbox_check_binfmt against fake binfmt_misc directories. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/sandbox.h"
#include "oci/banned.h"

struct fx {
	char *dir;
	const char *foreign, *qemu_entry;
};

static void put(struct fx *f, const char *name, const char *text)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	testutil_write_file(p, text, strlen(text));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct utsname u;

	f->dir = testutil_mkdtemp();
	uname(&u);
	/* An architecture that is not this host's. */
	if (!strcmp(u.machine, "aarch64")) {
		f->foreign = "amd64";
		f->qemu_entry = "qemu-x86_64";
	} else {
		f->foreign = "arm64";
		f->qemu_entry = "qemu-aarch64";
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void expect_env_error(struct fx *f, const char *arch, const char *needle)
{
	assert_int_equal(sandbox_check_binfmt_at(f->dir, arch, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EENV);
	if (!strstr(test_err.msg, needle))
		fail_msg("'%s' not in: %s", needle, test_err.msg);
	assert_non_null(strstr(test_err.msg, "scripts/setup-binfmt"));
}

static void test_native_and_unknown(void **state)
{
	struct fx *f = *state;
	struct utsname u;

	uname(&u);
	assert_ok(sandbox_check_binfmt_at(f->dir, u.machine, &test_err)); /* empty dir: not needed */
	assert_int_equal(sandbox_check_binfmt_at(f->dir, "vax", &test_err), -1);
	assert_int_equal(test_err.code, OCB_EINVAL);
}

static void test_entry_states(void **state)
{
	struct fx *f = *state;
	char linux_arch[64];

	expect_env_error(f, f->foreign, "binfmt_misc is not mounted");
	put(f, "register", "");
	put(f, "status", "disabled\n");
	expect_env_error(f, f->foreign, "binfmt_misc is disabled");
	put(f, "status", "enabled\n");
	expect_env_error(f, f->foreign, f->qemu_entry);
	put(f, f->qemu_entry, "disabled\ninterpreter /usr/libexec/qemu-binfmt/x\nflags: OCF\noffset 0\n");
	expect_env_error(f, f->foreign, "is disabled");
	put(f, f->qemu_entry, "enabled\ninterpreter /usr/libexec/qemu-binfmt/x\nflags: OC\noffset 0\n");
	expect_env_error(f, f->foreign, "lacks the F flag");
	put(f, f->qemu_entry, "enabled\ninterpreter /usr/libexec/qemu-binfmt/x\nflags: POCF\noffset 0\n");
	assert_ok(sandbox_check_binfmt_at(f->dir, f->foreign, &test_err));
	snprintf(linux_arch, sizeof(linux_arch), "linux/%s", f->foreign);
	assert_ok(sandbox_check_binfmt_at(f->dir, linux_arch, &test_err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_native_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_states, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
