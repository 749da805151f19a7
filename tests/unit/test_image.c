#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "oci/image.h"
#include "oci/json.h"
#include "oci/strv.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

/* A config in Docker's shape, with fields ocb does not model. */
static const char docker_config[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2023-01-01T00:00:00Z\","
    "\"docker_version\":\"20.10.5\",\"container_config\":{\"Hostname\":\"abc\",\"Cmd\":[\"/bin/sh\"]},"
    "\"config\":{\"Hostname\":\"\",\"User\":\"app\",\"Env\":[\"PATH=/usr/bin\",\"A=1\"],"
    "\"Entrypoint\":null,\"Cmd\":[\"sh\"],\"OnBuild\":null,\"ArgsEscaped\":true,"
    "\"ExposedPorts\":{\"8080/tcp\":{},\"80/tcp\":{}},\"Volumes\":{\"/data\":{}},\"WorkingDir\":\"/app\","
    "\"Labels\":{\"a\":\"b\"},\"StopSignal\":\"SIGTERM\","
    "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":30000000000,\"Timeout\":10000000000,"
    "\"StartPeriod\":5000000000,\"Retries\":3}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
    "\"history\":[{\"created\":\"2023-01-01T00:00:00Z\",\"created_by\":\"ADD file\"},"
    "{\"created_by\":\"ENV A=1\",\"empty_layer\":true,\"comment\":\"c\",\"author\":\"me\"}]}";

static void test_config_parse_fields(void **state)
{
	struct oci_image_config c;

	assert_ok(oci_config_parse(docker_config, strlen(docker_config), &c, &test_err));
	assert_string_equal(c.platform.architecture, "amd64");
	assert_string_equal(c.platform.os, "linux");
	assert_null(c.platform.variant);
	assert_string_equal(c.created, "2023-01-01T00:00:00Z");
	assert_string_equal(c.config.user, "app");
	assert_int_equal(oci_strv_len(c.config.env), 2);
	assert_string_equal(oci_config_get_env(&c, "PATH"), "/usr/bin");
	assert_null(c.config.entrypoint);
	assert_string_equal(c.config.cmd[0], "sh");
	/* Sets come back sorted. */
	assert_string_equal(c.config.exposed_ports[0], "80/tcp");
	assert_string_equal(c.config.exposed_ports[1], "8080/tcp");
	assert_string_equal(c.config.volumes[0], "/data");
	assert_string_equal(c.config.working_dir, "/app");
	assert_string_equal(oci_string_map_get(c.config.labels, "a"), "b");
	assert_string_equal(c.config.stop_signal, "SIGTERM");
	assert_non_null(c.config.healthcheck);
	assert_int_equal(c.config.healthcheck->interval, 30000000000LL);
	assert_int_equal(c.config.healthcheck->timeout, 10000000000LL);
	assert_int_equal(c.config.healthcheck->start_period, 5000000000LL);
	assert_int_equal(c.config.healthcheck->retries, 3);
	assert_string_equal(c.config.healthcheck->test[1], "true");
	assert_int_equal(c.n_diff_ids, 2);
	assert_string_equal(c.diff_ids[1].str, D2);
	assert_int_equal(c.n_history, 2);
	assert_false(c.history[0].empty_layer);
	assert_true(c.history[1].empty_layer);
	assert_string_equal(c.history[1].author, "me");
	oci_config_release(&c);
}

static void test_config_round_trip_keeps_unknown_fields(void **state)
{
	struct oci_image_config c, c2;
	struct oci_digest d3;
	struct oci_history h = {.created_by = "RUN make", .created = "2024-01-01T00:00:00Z"};
	char *a = NULL, *b = NULL;
	size_t alen, blen;

	assert_ok(oci_config_parse(docker_config, strlen(docker_config), &c, &test_err));
	assert_ok(oci_config_set_env(&c, "A", "2", &test_err));
	assert_ok(oci_config_set_env(&c, "NEW", "x=y", &test_err));
	assert_ok(oci_digest_parse(D3, &d3, &test_err));
	assert_ok(oci_config_add_layer(&c, &d3, &h, &test_err));
	assert_ok(oci_config_serialize(&c, &a, &alen, &test_err));
	/* Unknown fields survive, at the top and inside config. */
	assert_non_null(strstr(a, "\"docker_version\":\"20.10.5\""));
	assert_non_null(strstr(a, "\"container_config\":{\"Cmd\":[\"/bin/sh\"],\"Hostname\":\"abc\"}"));
	assert_non_null(strstr(a, "\"ArgsEscaped\":true"));
	assert_non_null(strstr(a, "\"Env\":[\"PATH=/usr/bin\",\"A=2\",\"NEW=x=y\"]"));
	assert_null(strstr(a, "Entrypoint"));
	assert_non_null(strstr(a, "\"ExposedPorts\":{\"80/tcp\":{},\"8080/tcp\":{}}"));

	assert_ok(oci_config_parse(a, alen, &c2, &test_err));
	assert_int_equal(c2.n_diff_ids, 3);
	assert_string_equal(c2.diff_ids[2].str, D3);
	assert_int_equal(c2.n_history, 3);
	assert_string_equal(c2.history[2].created_by, "RUN make");
	assert_ok(oci_config_serialize(&c2, &b, &blen, &test_err));
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	oci_config_release(&c);
	oci_config_release(&c2);
}

static void test_config_canonical_bytes(void **state)
{
	struct oci_image_config c;
	struct oci_platform p;
	struct oci_digest d1;
	char *out = NULL;
	size_t len;

	assert_ok(oci_platform_parse("linux/arm64", &p, &test_err));
	assert_ok(oci_config_init(&c, &p, &test_err));
	oci_platform_release(&p);
	c.created = strdup("1970-01-01T00:00:00Z");
	assert_ok(oci_strv_push(&c.config.entrypoint, "/bin/sh", &test_err));
	assert_ok(oci_strv_push(&c.config.exposed_ports, "80/tcp", &test_err));
	assert_ok(oci_string_map_set(&c.config.labels, "z", "1", &test_err));
	assert_ok(oci_string_map_set(&c.config.labels, "a", "2", &test_err));
	c.config.healthcheck = calloc(1, sizeof(*c.config.healthcheck));
	assert_ok(oci_strv_push(&c.config.healthcheck->test, "NONE", &test_err));
	assert_ok(oci_digest_parse(D1, &d1, &test_err));
	assert_ok(oci_config_add_layer(&c, &d1, NULL, &test_err));
	assert_ok(oci_config_serialize(&c, &out, &len, &test_err));
	assert_string_equal(out,
			    "{\"architecture\":\"arm64\",\"config\":{\"Entrypoint\":[\"/bin/sh\"],"
			    "\"ExposedPorts\":{\"80/tcp\":{}},\"Healthcheck\":{\"Test\":[\"NONE\"]},"
			    "\"Labels\":{\"a\":\"2\",\"z\":\"1\"}},\"created\":\"1970-01-01T00:00:00Z\","
			    "\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"" D1 "\"],\"type\":\"layers\"},"
			    "\"variant\":\"v8\"}");
	assert_int_equal(len, strlen(out));
	free(out);
	oci_config_release(&c);
}

static void expect_config_rejected(const char *doc, const char *needle)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_image_config c = {0};

	if (oci_config_parse(doc, strlen(doc), &c, &err) == 0)
		fail_msg("accepted bad config: %s", doc);
	assert_int_equal(err.code, OCB_EINVAL);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' lacks '%s'", err.msg, needle);
	assert_null(c.raw);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
#define PLAT   "\"architecture\":\"amd64\",\"os\":\"linux\""

static void test_config_rejects_bad_types(void **state)
{
	expect_config_rejected("[]", "not a JSON object");
	expect_config_rejected("{", "invalid JSON");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"os\":\"linux\"}", "duplicate");
	expect_config_rejected("{" PLAT "}", "missing 'rootfs'");
	expect_config_rejected("{\"os\":\"linux\"," ROOTFS "}", "'architecture' and 'os' are required");
	expect_config_rejected("{" PLAT ",\"architecture\":1," ROOTFS "}", "duplicate");
	expect_config_rejected("{\"architecture\":1,\"os\":\"linux\"," ROOTFS "}", "field 'architecture'");
	expect_config_rejected("{" PLAT ",\"rootfs\":{\"type\":\"x\",\"diff_ids\":[]}}",
			       "must be \"layers\"");
	expect_config_rejected("{" PLAT ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}",
			       "invalid digest");
	expect_config_rejected("{" PLAT ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1]}}", "diff_ids");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"Env\":\"A=1\"}}", "field 'Env'");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"Env\":[1]}}", "field 'Env'");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"Labels\":{\"a\":1}}}", "field 'Labels'");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"ExposedPorts\":[\"80\"]}}",
			       "ExposedPorts");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"Healthcheck\":{\"Interval\":\"30s\"}}}",
			       "Healthcheck: field 'Interval'");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":{\"Healthcheck\":{\"Retries\":-1}}}",
			       "negative");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"history\":[{\"empty_layer\":\"yes\"}]}", "history[0]");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"history\":[1]}", "history[0]");
	expect_config_rejected("{" PLAT "," ROOTFS ",\"config\":[]}", "field 'config'");
}

static void test_config_size_bound(void **state)
{
	size_t n = OCI_JSON_MAX + 1;
	char *big = malloc(n);
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_image_config c;

	memset(big, ' ', n);
	assert_int_equal(oci_config_parse(big, n, &c, &err), -1);
	assert_int_equal(err.code, OCB_ELIMIT);
	free(big);
}

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
    "\",\"size\":7023},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2 "\","
    "\"size\":32654},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D3 "\","
    "\"size\":16724,\"annotations\":{\"k\":\"v\"}}],\"annotations\":{\"com.example.key1\":\"value1\"}}";

static void test_manifest_round_trip(void **state)
{
	struct oci_manifest m, m2;
	char *a = NULL, *b = NULL;
	size_t alen, blen;

	assert_ok(oci_manifest_parse(oci_manifest, strlen(oci_manifest), &m, &test_err));
	assert_string_equal(m.media_type, OCI_MEDIA_TYPE_MANIFEST);
	assert_string_equal(m.config.digest.str, D1);
	assert_int_equal(m.config.size, 7023);
	assert_int_equal(m.n_layers, 2);
	assert_string_equal(m.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
	assert_string_equal(oci_string_map_get(m.layers[1].annotations, "k"), "v");
	assert_string_equal(oci_string_map_get(m.annotations, "com.example.key1"), "value1");
	assert_ok(oci_manifest_serialize(&m, &a, &alen, &test_err));
	assert_ok(oci_manifest_parse(a, alen, &m2, &test_err));
	assert_ok(oci_manifest_serialize(&m2, &b, &blen, &test_err));
	assert_string_equal(a, b);
	assert_int_equal(
	    strncmp(a, "{\"annotations\":{\"com.example.key1\":\"value1\"},\"config\":{\"digest\"", 62), 0);
	free(a);
	free(b);
	oci_manifest_release(&m);
	oci_manifest_release(&m2);
}

static void test_manifest_docker_v2s2(void **state)
{
	static const char doc[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1,"
	    "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
	    "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":2,\"digest\":\"" D2 "\"}]}";
	struct oci_manifest m;
	char *out = NULL;
	size_t len;

	assert_ok(oci_manifest_parse(doc, strlen(doc), &m, &test_err));
	assert_string_equal(m.media_type, DOCKER_MEDIA_TYPE_MANIFEST);
	assert_int_equal(oci_media_kind(m.config.media_type), OCI_KIND_CONFIG);
	assert_int_equal(oci_media_kind(m.layers[0].media_type), OCI_KIND_LAYER);
	assert_ok(oci_manifest_serialize(&m, &out, &len, &test_err));
	assert_non_null(strstr(out, DOCKER_MEDIA_TYPE_MANIFEST));
	free(out);
	oci_manifest_release(&m);
}

static void expect_manifest_rejected(const char *doc, const char *needle)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_manifest m;

	if (oci_manifest_parse(doc, strlen(doc), &m, &err) == 0)
		fail_msg("accepted bad manifest: %s", doc);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' lacks '%s'", err.msg, needle);
}

#define CFG "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1}"

static void test_manifest_rejects(void **state)
{
	expect_manifest_rejected("{\"schemaVersion\":1," CFG ",\"layers\":[]}", "schemaVersion");
	expect_manifest_rejected("{" CFG ",\"layers\":[]}", "schemaVersion");
	expect_manifest_rejected("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\"," CFG
				 ",\"layers\":[]}",
				 "unexpected media type");
	expect_manifest_rejected("{\"schemaVersion\":2,\"layers\":[]}", "missing 'config'");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG "}", "missing 'layers'");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"digest\":"
				 "\"sha256:../x\",\"size\":1}]}",
				 "layers[0]: descriptor: invalid digest");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"digest\":"
				 "\"" D2 "\",\"size\":-1}]}",
				 "negative");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"digest\":"
				 "\"" D2 "\",\"size\":\"1\"}]}",
				 "field 'size'");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"x\",\"digest\":"
				 "\"" D2 "\",\"size\":1}]}",
				 "mediaType");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":{}}", "field 'layers'");
	expect_manifest_rejected("{\"schemaVersion\":2," CFG ",\"layers\":[],\"annotations\":{\"a\":[]}}",
				 "annotations");
}

static const char manifest_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
    "\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":1,"
    "\"digest\":\"" D1 "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":2,"
    "\"digest\":\"" D2 "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":3,"
    "\"digest\":\"" D3 "\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\","
    "\"os.features\":[\"f\"],\"os.version\":\"1\"}}]}";

static void test_index_platforms(void **state)
{
	struct oci_index x;
	struct oci_platform p;
	struct ocb_error err = OCB_ERROR_INIT;
	char *out = NULL;
	size_t len;

	assert_ok(oci_index_parse(manifest_list, strlen(manifest_list), &x, &test_err));
	assert_int_equal(x.n_manifests, 3);
	assert_string_equal(x.manifests[2].platform->os_version, "1");
	assert_string_equal(x.manifests[2].platform->os_features[0], "f");

	assert_ok(oci_platform_parse("linux/arm64/v8", &p, &test_err));
	assert_int_equal(oci_index_find_platform(&x, &p, &test_err), 2);
	oci_platform_release(&p);
	assert_ok(oci_platform_parse("linux/amd64", &p, &test_err));
	assert_int_equal(oci_index_find_platform(&x, &p, &test_err), 0);
	oci_platform_release(&p);
	/* Exact variant: arm/v7 is not arm/v6. */
	assert_ok(oci_platform_parse("linux/arm/v7", &p, &test_err));
	assert_int_equal(oci_index_find_platform(&x, &p, &err), -1);
	assert_int_equal(err.code, OCB_ENOTFOUND);
	assert_non_null(strstr(err.msg, "linux/arm/v7"));
	oci_platform_release(&p);

	oci_index_remove(&x, 1);
	assert_int_equal(x.n_manifests, 2);
	assert_string_equal(x.manifests[1].digest.str, D3);
	assert_ok(oci_index_serialize(&x, &out, &len, &test_err));
	assert_non_null(strstr(out, "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\","
				    "\"os.features\":[\"f\"],\"os.version\":\"1\"}"));
	assert_null(strstr(out, D2));
	free(out);
	oci_index_release(&x);
}

static void test_index_rejects(void **state)
{
	struct ocb_error err = OCB_ERROR_INIT;
	struct oci_index x;
	const char *bad[] = {
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"manifests\":{}}",
	    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"manifests\":[]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
	    "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
	    "\",\"size\":1,\"platform\":\"linux/amd64\"}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (oci_index_parse(bad[i], strlen(bad[i]), &x, &err) == 0)
			fail_msg("accepted bad index %s", bad[i]);
		assert_int_equal(err.code, OCB_EINVAL);
	}
}

static void test_platform_parse(void **state)
{
	struct {
		const char *in, *out;
	} good[] = {
	    {"linux/amd64", "linux/amd64"},	  {"linux/arm64", "linux/arm64/v8"},
	    {"linux/arm64/v8", "linux/arm64/v8"}, {"arm64", "linux/arm64/v8"},
	    {"linux/aarch64", "linux/arm64/v8"},  {"x86_64", "linux/amd64"},
	    {"linux/arm", "linux/arm/v7"},	  {"linux/arm/v6", "linux/arm/v6"},
	    {"linux/armhf", "linux/arm/v7"},
	};
	const char *bad[] = {
	    "", "linux/", "/amd64", "linux/amd64/v1/x", "Linux/amd64", "linux//amd64", "linux/a b"};
	struct oci_platform p, host;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *s;
		assert_ok(oci_platform_parse(good[i].in, &p, &test_err));
		s = oci_platform_format(&p);
		assert_string_equal(s, good[i].out);
		free(s);
		oci_platform_release(&p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ocb_error err = OCB_ERROR_INIT;
		if (oci_platform_parse(bad[i], &p, &err) == 0)
			fail_msg("accepted platform '%s'", bad[i]);
		assert_int_equal(err.code, OCB_EINVAL);
	}
	assert_ok(oci_platform_host(&host, &test_err));
	assert_string_equal(host.os, "linux");
	assert_non_null(host.architecture);
	oci_platform_release(&host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parse_fields),
	    cmocka_unit_test(test_config_round_trip_keeps_unknown_fields),
	    cmocka_unit_test(test_config_canonical_bytes),
	    cmocka_unit_test(test_config_rejects_bad_types),
	    cmocka_unit_test(test_config_size_bound),
	    cmocka_unit_test(test_manifest_round_trip),
	    cmocka_unit_test(test_manifest_docker_v2s2),
	    cmocka_unit_test(test_manifest_rejects),
	    cmocka_unit_test(test_index_platforms),
	    cmocka_unit_test(test_index_rejects),
	    cmocka_unit_test(test_platform_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
