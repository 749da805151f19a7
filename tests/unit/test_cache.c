#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "builder/cache.h"
#include "oci/blobstore.h"
#include "oci/compress.h"
#include "oci/layer.h"

struct fixture {
	char *tmp;
	char *dir; /* the cache directory */
	struct build_cache *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->tmp = testutil_mkdtemp();
	if (asprintf(&f->dir, "%s/cache", f->tmp) < 0)
		return -1;
	assert_ok(cache_open(&f->c, f->dir, &test_err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cache_close(f->c);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- keys ---- */

struct key_fields {
	const char *kind;
	char *parent[3];
	const char *shell;
	char *env[3];
	const char *workdir;
	uint64_t n;
	bool flag;
	const struct oci_digest *src;
};

static struct oci_digest key_of(const struct key_fields *k)
{
	struct cache_key b;
	struct oci_digest out;

	cache_key_init(&b);
	cache_key_add_strv(&b, "parent", k->parent);
	cache_key_add_str(&b, "kind", k->kind);
	cache_key_add_str(&b, "shell", k->shell);
	cache_key_add_strv(&b, "env", k->env);
	cache_key_add_str(&b, "workdir", k->workdir);
	cache_key_add_u64(&b, "n", k->n);
	cache_key_add_bool(&b, "flag", k->flag);
	cache_key_add_digest(&b, "src", k->src);
	assert_ok(cache_key_final(&b, &out, &test_err));
	return out;
}

static struct oci_digest key2(const char *f1, const char *v1, const char *f2, const char *v2)
{
	struct cache_key b;
	struct oci_digest out;

	cache_key_init(&b);
	cache_key_add_str(&b, f1, v1);
	if (f2)
		cache_key_add_str(&b, f2, v2);
	assert_ok(cache_key_final(&b, &out, &test_err));
	return out;
}

static void test_key_deterministic_and_sensitive(void **state)
{
	struct oci_digest d1, d2;
	struct key_fields base = {
	    "run", {"sha256:aa", "sha256:bb", NULL}, "make", {"A=1", "B=2", NULL}, "/src", 7, false, NULL};
	struct key_fields k;
	struct oci_digest ref, seen[16];
	size_t n_seen = 0;

	assert_ok(oci_digest_buffer("x", 1, &d1, &test_err));
	assert_ok(oci_digest_buffer("y", 1, &d2, &test_err));
	base.src = &d1;
	ref = key_of(&base);
	k = base;
	assert_true(oci_digest_equal(&ref, &(struct oci_digest){0}) == false);
	assert_string_equal(key_of(&k).str, ref.str);

	/* Each change of one field gives a new key, all distinct. */
#define VARY(stmt)                                                                                           \
	do {                                                                                                 \
		k = base;                                                                                    \
		stmt;                                                                                        \
		seen[n_seen] = key_of(&k);                                                                   \
		assert_string_not_equal(seen[n_seen].str, ref.str);                                          \
		for (size_t j_ = 0; j_ < n_seen; j_++)                                                       \
			assert_string_not_equal(seen[n_seen].str, seen[j_].str);                             \
		n_seen++;                                                                                    \
	} while (0)
	VARY(k.kind = "copy");
	VARY(k.parent[1] = "sha256:bc");
	VARY(k.parent[1] = NULL);
	VARY(k.shell = "make ");
	VARY(k.shell = NULL);
	VARY(k.shell = "");
	VARY(k.env[0] = "A=2");
	VARY((k.env[0] = "B=2", k.env[1] = "A=1")); /* order matters */
	VARY(k.workdir = "/");
	VARY(k.n = 8);
	VARY(k.flag = true);
	VARY(k.src = &d2);
	VARY(k.src = NULL);
#undef VARY
}

static void test_key_unambiguous(void **state)
{
	struct cache_key b;
	struct oci_digest a, c, v, s, empty, null;

	/* The same bytes split differently. */
	assert_string_not_equal(key2("a", "bc", NULL, NULL).str, key2("ab", "c", NULL, NULL).str);
	assert_string_not_equal(key2("x", "ab", "y", "c").str, key2("x", "a", "y", "bc").str);
	/* The same fields in another order. */
	assert_string_not_equal(key2("x", "1", "y", "2").str, key2("y", "2", "x", "1").str);
	/* NULL is not "". */
	assert_string_not_equal(key2("x", NULL, NULL, NULL).str, key2("x", "", NULL, NULL).str);
	/* A value that looks like an encoded field. */
	assert_string_not_equal(key2("x", "1", "y", "2").str, key2("x", "1\x01y", NULL, NULL).str);

	/* A vector of two is not a vector of one holding both. */
	char *two[] = {"a", "b", NULL}, *one[] = {"ab", NULL}, *none[] = {NULL};
	cache_key_init(&b);
	cache_key_add_strv(&b, "v", two);
	assert_ok(cache_key_final(&b, &a, &test_err));
	cache_key_init(&b);
	cache_key_add_strv(&b, "v", one);
	assert_ok(cache_key_final(&b, &c, &test_err));
	assert_string_not_equal(a.str, c.str);
	/* strv vs str of the same text, empty vs NULL vector. */
	cache_key_init(&b);
	cache_key_add_strv(&b, "v", one);
	assert_ok(cache_key_final(&b, &v, &test_err));
	s = key2("v", "ab", NULL, NULL);
	assert_string_not_equal(v.str, s.str);
	cache_key_init(&b);
	cache_key_add_strv(&b, "v", none);
	assert_ok(cache_key_final(&b, &empty, &test_err));
	cache_key_init(&b);
	cache_key_add_strv(&b, "v", NULL);
	assert_ok(cache_key_final(&b, &null, &test_err));
	assert_string_not_equal(empty.str, null.str);
	/* u64 vs i64 of the same bits. */
	cache_key_init(&b);
	cache_key_add_u64(&b, "n", 5);
	assert_ok(cache_key_final(&b, &a, &test_err));
	cache_key_init(&b);
	cache_key_add_i64(&b, "n", 5);
	assert_ok(cache_key_final(&b, &c, &test_err));
	assert_string_not_equal(a.str, c.str);
	/* An abandoned builder frees its buffer (LSan checks). */
	cache_key_init(&b);
	cache_key_add_str(&b, "x", "y");
	cache_key_release(&b);
}

/* ---- store and lookup ---- */

/* A blob of len bytes derived from seed, in the cache's blob store. */
static void put_blob(struct build_cache *c, int seed, size_t len, struct oci_digest *out)
{
	char *buf = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed * 31 + i);
	assert_ok(oci_blobstore_put(cache_blobstore(c), buf, len, out, &test_err));
	free(buf);
}

static struct oci_digest make_key(const char *s)
{
	return key2("test", s, NULL, NULL);
}

/* Store key(name) -> a fresh blob of len bytes; returns the blob digest. */
static struct oci_digest store_one(struct build_cache *c, const char *name, int seed, size_t len)
{
	struct cache_record r = {0};
	struct oci_digest key = make_key(name);

	put_blob(c, seed, len, &r.digest);
	r.size = len;
	r.media_type = (char *)OCI_MEDIA_TYPE_LAYER_GZIP;
	assert_ok(oci_digest_buffer(name, strlen(name), &r.diff_id, &test_err));
	r.tar_size = len * 2;
	r.created_by = (char *)name;
	assert_ok(cache_store(c, &key, &r, &test_err));
	return r.digest;
}

static char *record_path(struct fixture *f, const struct oci_digest *key)
{
	char *p = NULL;
	const char *hex = oci_digest_hex(key);

	if (asprintf(&p, "%s/keys/%.2s/%s.json", f->dir, hex, hex) < 0)
		fail_msg("asprintf");
	return p;
}

static char *blob_path(const char *dir, const struct oci_digest *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/blobs/sha256/%s", dir, oci_digest_hex(d)) < 0)
		fail_msg("asprintf");
	return p;
}

static void test_store_lookup(void **state)
{
	struct fixture *f = *state;
	struct cache_record r = {0}, got = {0};
	struct oci_digest key = make_key("step1"), other = make_key("step2");
	json_t *meta = json_pack("{s:s, s:[s]}", "workdir", "/app", "env", "A=1");

	put_blob(f->c, 1, 4096, &r.digest);
	r.size = 4096;
	r.media_type = (char *)OCI_MEDIA_TYPE_LAYER_ZSTD;
	assert_ok(oci_digest_buffer("tar", 3, &r.diff_id, &test_err));
	r.tar_size = 10240;
	r.created_by = (char *)"RUN /bin/sh -c make";
	r.meta = meta;
	assert_ok(cache_store(f->c, &key, &r, &test_err));

	assert_ok(cache_lookup(f->c, &key, &got, &test_err));
	assert_false(got.empty_layer);
	assert_string_equal(got.media_type, OCI_MEDIA_TYPE_LAYER_ZSTD);
	assert_string_equal(got.digest.str, r.digest.str);
	assert_int_equal(got.size, 4096);
	assert_string_equal(got.diff_id.str, r.diff_id.str);
	assert_int_equal(got.tar_size, 10240);
	assert_string_equal(got.created_by, "RUN /bin/sh -c make");
	assert_true(json_equal(got.meta, meta));
	assert_true(got.created > 1600000000);
	cache_record_release(&got);

	assert_int_equal(cache_lookup(f->c, &other, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);

	/* An empty layer needs no blob. */
	struct cache_record e = {.empty_layer = true, .created_by = (char *)"RUN true"};
	assert_ok(cache_store(f->c, &other, &e, &test_err));
	assert_ok(cache_lookup(f->c, &other, &got, &test_err));
	assert_true(got.empty_layer);
	assert_null(got.media_type);
	cache_record_release(&got);
	json_decref(meta);
}

static void test_store_needs_blob(void **state)
{
	struct fixture *f = *state;
	struct cache_record r = {0};
	struct oci_digest key = make_key("k");

	assert_ok(oci_digest_buffer("absent", 6, &r.digest, &test_err));
	r.size = 6;
	r.media_type = (char *)OCI_MEDIA_TYPE_LAYER;
	r.diff_id = r.digest;
	assert_int_equal(cache_store(f->c, &key, &r, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	/* Present but with another size. */
	put_blob(f->c, 3, 100, &r.digest);
	r.size = 99;
	assert_int_equal(cache_store(f->c, &key, &r, &test_err), -1);
	r.size = 100;
	assert_ok(cache_store(f->c, &key, &r, &test_err));
}

static void test_missing_or_truncated_blob_is_miss(void **state)
{
	struct fixture *f = *state;
	struct cache_record got = {0};
	struct oci_digest k1 = make_key("gone"), k2 = make_key("short");
	struct oci_digest b1 = store_one(f->c, "gone", 1, 500);
	struct oci_digest b2 = store_one(f->c, "short", 2, 500);
	char *p1 = blob_path(f->dir, &b1), *p2 = blob_path(f->dir, &b2);
	char *r1 = record_path(f, &k1), *r2 = record_path(f, &k2);
	struct stat st;

	assert_int_equal(unlink(p1), 0);
	assert_int_equal(truncate(p2, 100), 0);
	assert_int_equal(cache_lookup(f->c, &k1, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	assert_int_equal(cache_lookup(f->c, &k2, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	/* The broken records are gone. */
	assert_int_equal(stat(r1, &st), -1);
	assert_int_equal(stat(r2, &st), -1);
	free(p1);
	free(p2);
	free(r1);
	free(r2);
}

static void test_corrupt_record_is_miss(void **state)
{
	struct fixture *f = *state;
	struct cache_record got = {0};
	struct oci_digest k = make_key("corrupt"), k2 = make_key("moved");
	char *p, *p2;
	struct stat st;

	store_one(f->c, "corrupt", 1, 10);
	p = record_path(f, &k);
	testutil_write_file(p, "{\"version\":", 11);
	assert_int_equal(cache_lookup(f->c, &k, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	assert_int_equal(stat(p, &st), -1);
	/* A FIFO in a record's place: a miss, not a hang. */
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(cache_lookup(f->c, &k, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	assert_int_equal(unlink(p), 0);
	/* A record renamed to another key's place does not answer for it. */
	store_one(f->c, "corrupt", 1, 10);
	p2 = record_path(f, &k2);
	char *dir = strdup(p2);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0755);
	assert_int_equal(rename(p, p2), 0);
	assert_int_equal(cache_lookup(f->c, &k2, &got, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	free(dir);
	free(p);
	free(p2);
}

static void test_lookup_touches_record(void **state)
{
	struct fixture *f = *state;
	struct cache_record got = {0};
	struct oci_digest k = make_key("lru");
	char *p = record_path(f, &k);
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	struct stat st;

	store_one(f->c, "lru", 1, 10);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_ok(cache_lookup(f->c, &k, &got, &test_err));
	cache_record_release(&got);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_mtime > 1000000);
	free(p);
}

/* Forked processes storing overlapping keys into one cache. */
static void test_concurrent_stores(void **state)
{
	struct fixture *f = *state;
	enum { PROCS = 6, KEYS = 15 };
	pid_t pids[PROCS];

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct build_cache *c;
			struct ocb_error e = OCB_ERROR_INIT;
			if (cache_open(&c, f->dir, &e) < 0)
				_exit(1);
			for (int i = 0; i < KEYS; i++) {
				char name[32];
				struct cache_record r = {0};
				struct oci_digest key;
				/* Half the keys are shared by every process, with
				 * process-specific layers: last writer wins. */
				snprintf(name, sizeof(name), i % 2 ? "own-%d-%d" : "shared-%d", i, p);
				if (i % 2 == 0)
					snprintf(name, sizeof(name), "shared-%d", i);
				key = make_key(name);
				put_blob(c, p * 100 + i, 2000 + (size_t)p, &r.digest);
				r.size = 2000 + (size_t)p;
				r.media_type = (char *)OCI_MEDIA_TYPE_LAYER_GZIP;
				r.diff_id = r.digest;
				if (cache_store(c, &key, &r, &e) < 0)
					_exit(2);
			}
			cache_close(c);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	for (int p = 0; p < PROCS; p++) {
		for (int i = 0; i < KEYS; i++) {
			char name[32];
			struct cache_record got = {0};
			struct oci_digest key;
			if (i % 2)
				snprintf(name, sizeof(name), "own-%d-%d", i, p);
			else
				snprintf(name, sizeof(name), "shared-%d", i);
			key = make_key(name);
			assert_ok(cache_lookup(f->c, &key, &got, &test_err));
			assert_true(got.size >= 2000 && got.size < 2000 + PROCS);
			cache_record_release(&got);
		}
	}
	/* No temp files left. */
	char *tmp = NULL;
	assert_true(asprintf(&tmp, "%s/tmp", f->dir) > 0);
	DIR *d = opendir(tmp);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || strlen(de->d_name) > 2;
	closedir(d);
	assert_int_equal(n, 0);
	free(tmp);
}

/* ---- prune ---- */

static void set_mtime(struct fixture *f, const char *name, time_t t)
{
	struct oci_digest k = make_key(name);
	char *p = record_path(f, &k);
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

static bool hits(struct build_cache *c, const char *name)
{
	struct cache_record got = {0};
	struct oci_digest k = make_key(name);
	struct ocb_error e = OCB_ERROR_INIT;

	if (cache_lookup(c, &k, &got, &e) < 0)
		return false;
	cache_record_release(&got);
	return true;
}

static void test_prune_lru_and_gc(void **state)
{
	struct fixture *f = *state;
	struct build_cache *x;
	struct cache_prune_opts o = {.keep_storage_set = true, .keep_storage = 2500};
	struct cache_prune_result res = {0};
	struct cache_usage u = {0};
	struct oci_digest orphan, b_old, b_mid;
	char *p;
	struct stat st;

	b_old = store_one(f->c, "old", 1, 1000);
	b_mid = store_one(f->c, "mid", 2, 1000);
	store_one(f->c, "new", 3, 1000);
	store_one(f->c, "empty-ish", 4, 200);
	put_blob(f->c, 9, 300, &orphan);
	set_mtime(f, "old", 1000);
	set_mtime(f, "mid", 2000);
	set_mtime(f, "new", 3000);
	set_mtime(f, "empty-ish", 4000);

	assert_ok(cache_du(f->c, &u, &test_err));
	assert_int_equal(u.records, 4);
	assert_int_equal(u.blobs, 5);
	assert_int_equal(u.blob_bytes, 3500);

	/* A build holds the cache: prune cannot take it. */
	assert_int_equal(cache_open_exclusive(&x, f->dir, 100, &test_err), -1);
	assert_int_equal(test_err.code, OCB_EENV);
	assert_non_null(strstr(test_err.msg, "in use"));
	cache_close(f->c);
	f->c = NULL;

	assert_ok(cache_open_exclusive(&x, f->dir, 0, &test_err));
	/* 3200 referenced bytes > 2500: "old" goes (2200 left). */
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.records_removed, 1);
	assert_int_equal(res.blobs_removed, 2); /* old's and the orphan */
	assert_int_equal(res.bytes_freed, 1300);
	assert_false(hits(x, "old"));
	assert_true(hits(x, "mid"));
	assert_true(hits(x, "new"));
	assert_true(hits(x, "empty-ish"));
	p = blob_path(f->dir, &b_old);
	assert_int_equal(stat(p, &st), -1);
	free(p);
	p = blob_path(f->dir, &orphan);
	assert_int_equal(stat(p, &st), -1);
	free(p);

	/* The hits above made everything recent; age them again. */
	set_mtime(f, "mid", 2000);
	set_mtime(f, "new", 3000);
	set_mtime(f, "empty-ish", 1000); /* now the oldest */
	o.keep_storage = 1000;
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.records_removed, 2); /* empty-ish, then mid */
	assert_true(hits(x, "new"));
	assert_false(hits(x, "mid"));
	p = blob_path(f->dir, &b_mid);
	assert_int_equal(stat(p, &st), -1);
	free(p);

	/* No size: everything goes but the mounts. */
	char *host = NULL;
	int lock = -1;
	assert_ok(cache_mount_acquire(x, "build", "/root/.npm", &host, &lock, &test_err));
	p = NULL;
	assert_true(asprintf(&p, "%s/file", host) > 0);
	testutil_write_file(p, "12345", 5);
	cache_mount_release(lock);
	o.keep_storage_set = false;
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.records_removed, 1);
	assert_ok(cache_du(x, &u, &test_err));
	assert_int_equal(u.records, 0);
	assert_int_equal(u.blobs, 0);
	assert_int_equal(u.mounts, 1);
	assert_int_equal(u.mount_bytes, 5);
	o.mounts = true;
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.bytes_freed, 5);
	assert_int_equal(stat(host, &st), -1);
	free(p);
	free(host);
	cache_close(x);
}

/* Two keys whose steps made the same layer share one blob: it stays while
 * either record does. */
static void test_prune_shared_blob(void **state)
{
	struct fixture *f = *state;
	struct build_cache *x;
	struct cache_record r = {0};
	struct oci_layer_desc d = {.media_type = OCI_MEDIA_TYPE_LAYER_GZIP, .size = 700, .tar_size = 2048};
	struct oci_digest k1 = make_key("one"), k2 = make_key("two");
	struct cache_prune_opts o = {.keep_storage_set = true, .keep_storage = 0};
	struct cache_prune_result res = {0};
	struct cache_usage u = {0};

	put_blob(f->c, 5, 700, &d.digest);
	assert_ok(oci_digest_buffer("t", 1, &d.diff_id, &test_err));
	assert_ok(cache_record_set_layer(&r, &d, &test_err));
	assert_string_equal(r.media_type, OCI_MEDIA_TYPE_LAYER_GZIP);
	assert_int_equal(r.tar_size, 2048);
	assert_ok(cache_store(f->c, &k1, &r, &test_err));
	assert_ok(cache_store(f->c, &k2, &r, &test_err));
	cache_record_release(&r);
	set_mtime(f, "one", 1000);
	set_mtime(f, "two", 2000);
	cache_close(f->c);
	f->c = NULL;
	assert_ok(cache_open_exclusive(&x, f->dir, 0, &test_err));
	/* 700 bytes fit in 700: nothing goes. */
	o.keep_storage = 700;
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.records_removed, 0);
	assert_int_equal(res.blobs_removed, 0);
	/* 0 bytes: both records go, and their blob once. */
	o.keep_storage = 0;
	assert_ok(cache_prune(x, &o, &res, &test_err));
	assert_int_equal(res.records_removed, 2);
	assert_int_equal(res.blobs_removed, 1);
	assert_ok(cache_du(x, &u, &test_err));
	assert_int_equal(u.blobs, 0);
	cache_close(x);
}

static void test_list_most_recent_first(void **state)
{
	struct fixture *f = *state;
	struct cache_entry *e = NULL;
	size_t n = 0;

	store_one(f->c, "a", 1, 10);
	store_one(f->c, "b", 2, 20);
	store_one(f->c, "c", 3, 30);
	set_mtime(f, "a", 3000);
	set_mtime(f, "b", 1000);
	set_mtime(f, "c", 2000);
	assert_ok(cache_list(f->c, &e, &n, &test_err));
	assert_int_equal(n, 3);
	assert_string_equal(e[0].rec.created_by, "a");
	assert_string_equal(e[1].rec.created_by, "c");
	assert_string_equal(e[2].rec.created_by, "b");
	assert_int_equal(e[2].rec.last_used, 1000);
	assert_string_equal(e[2].key.str, make_key("b").str);
	cache_entries_free(e, n);
}

/* ---- relocation, export, crash leftovers ---- */

static void test_relocate_with_cp(void **state)
{
	struct fixture *f = *state;
	struct build_cache *moved;
	struct oci_blobstore other;
	struct oci_digest blob = store_one(f->c, "portable", 1, 3000);
	char *dst = NULL, *cmd = NULL, *st_dir = NULL, *p;
	struct stat st;

	store_one(f->c, "portable2", 2, 10);
	assert_true(asprintf(&dst, "%s/elsewhere/restored", f->tmp) > 0);
	assert_true(asprintf(&cmd, "mkdir -p %s/elsewhere && cp -a %s %s", f->tmp, f->dir, dst) > 0);
	assert_int_equal(system(cmd), 0);
	cache_close(f->c);
	f->c = NULL;
	testutil_rmtree(f->dir); /* the original is gone */
	assert_ok(cache_open(&moved, dst, &test_err));
	assert_true(hits(moved, "portable"));
	assert_true(hits(moved, "portable2"));
	assert_string_equal(cache_path(moved) + strlen(cache_path(moved)) - 9, "/restored");

	/* Export: a hard link on the same file system. */
	assert_true(asprintf(&st_dir, "%s/store", f->tmp) > 0);
	assert_ok(oci_blobstore_open(&other, st_dir, true, &test_err));
	assert_ok(cache_export_blob(moved, &other, &blob, &test_err));
	assert_ok(cache_export_blob(moved, &other, &blob, &test_err)); /* again: fine */
	assert_ok(oci_blobstore_verify(&other, &blob, &test_err));
	p = blob_path(st_dir, &blob);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	free(p);
	struct oci_digest absent;
	assert_ok(oci_digest_buffer("nope", 4, &absent, &test_err));
	assert_int_equal(cache_export_blob(moved, &other, &absent, &test_err), -1);
	assert_int_equal(test_err.code, OCB_ENOTFOUND);
	oci_blobstore_release(&other);
	cache_close(moved);
	free(dst);
	free(cmd);
	free(st_dir);
}

static void test_crash_leftovers(void **state)
{
	struct fixture *f = *state;
	struct build_cache *again, *second;
	struct cache_entry *e = NULL;
	size_t n = 0;
	char *tmp_rec = NULL, *tmp_blob = NULL;
	struct stat st;

	store_one(f->c, "kept", 1, 10);
	/* What a build killed between writing and renaming leaves. */
	assert_true(asprintf(&tmp_rec, "%s/tmp/.tmp-0123456789abcdef", f->dir) > 0);
	assert_true(asprintf(&tmp_blob, "%s/blobs/sha256/.tmp-fedcba9876543210", f->dir) > 0);
	testutil_write_file(tmp_rec, "{\"version\":1,\"key\":", 19);
	testutil_write_file(tmp_blob, "partial layer", 13);
	assert_ok(cache_list(f->c, &e, &n, &test_err));
	assert_int_equal(n, 1);
	cache_entries_free(e, n);
	assert_true(hits(f->c, "kept"));

	/* Another process joins while this one holds the cache: temps stay
	 * (they might be that process's). */
	assert_ok(cache_open(&second, f->dir, &test_err));
	assert_int_equal(stat(tmp_rec, &st), 0);
	cache_close(second);
	/* The next process alone with the cache removes them. */
	cache_close(f->c);
	f->c = NULL;
	assert_ok(cache_open(&again, f->dir, &test_err));
	assert_int_equal(stat(tmp_rec, &st), -1);
	assert_int_equal(stat(tmp_blob, &st), -1);
	assert_true(hits(again, "kept"));
	f->c = again;
	free(tmp_rec);
	free(tmp_blob);
}

/* A writer SIGKILLed at arbitrary points: every record left hits with a
 * verified blob, and the leftovers go once the cache is free. */
static void test_sigkill_while_storing(void **state)
{
	struct fixture *f = *state;
	enum { ROUNDS = 8, MAX_KEYS = 400 };
	int partial = 0; /* rounds killed part-way through */

	for (int round = 0; round < ROUNDS; round++) {
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct build_cache *c;
			struct ocb_error e = OCB_ERROR_INIT;
			if (cache_open(&c, f->dir, &e) < 0)
				_exit(1);
			for (int i = 0; i < MAX_KEYS; i++) {
				char name[32];
				struct cache_record r = {0};
				struct oci_digest key;
				snprintf(name, sizeof(name), "kill-%d-%d", round, i);
				key = make_key(name);
				put_blob(c, round * 1000 + i, 65536 + (size_t)i, &r.digest);
				r.size = 65536 + (size_t)i;
				r.media_type = (char *)OCI_MEDIA_TYPE_LAYER_GZIP;
				r.diff_id = r.digest;
				if (cache_store(c, &key, &r, &e) < 0)
					_exit(2);
			}
			_exit(0);
		}
		usleep((useconds_t)(2000 + round * 3000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		int n_hits = 0;
		for (int i = 0; i < MAX_KEYS; i++) {
			char name[32];
			struct cache_record got = {0};
			struct oci_digest key;
			snprintf(name, sizeof(name), "kill-%d-%d", round, i);
			key = make_key(name);
			if (cache_lookup(f->c, &key, &got, &test_err) < 0) {
				assert_int_equal(test_err.code, OCB_ENOTFOUND);
				continue;
			}
			assert_int_equal(got.size, 65536 + i);
			assert_ok(oci_blobstore_verify(cache_blobstore(f->c), &got.digest, &test_err));
			cache_record_release(&got);
			n_hits++;
		}
		partial += n_hits < MAX_KEYS;
		if (getenv("TEST_CACHE_VERBOSE"))
			fprintf(stderr, "round %d: %d records\n", round, n_hits);
	}
	assert_true(partial > 0);
	/* Alone again: temp records and partial blobs are removed. */
	cache_close(f->c);
	assert_ok(cache_open(&f->c, f->dir, &test_err));
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "test -z \"$(ls -A %s/tmp)\" && ! ls -A %s/blobs/sha256 | grep -q tmp",
			     f->dir, f->dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* A cache restored read-only (a CI cache mount) still hits. */
static void test_read_only_cache_hits(void **state)
{
	struct fixture *f = *state;
	char *ro = NULL;
	pid_t pid;
	int status;

	store_one(f->c, "ro", 1, 100);
	cache_close(f->c);
	f->c = NULL;
	assert_true(asprintf(&ro, "%s/ro", f->tmp) > 0);
	assert_int_equal(mkdir(ro, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct build_cache *c;
		struct ocb_error e = OCB_ERROR_INIT;
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(f->dir, ro, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
			_exit(77);
		if (cache_open(&c, ro, &e) < 0)
			_exit(1);
		_exit(hits(c, "ro") ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	free(ro);
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- cache mounts ---- */

static void test_mount_dirs_and_lock(void **state)
{
	struct fixture *f = *state;
	char *a = NULL, *b = NULL, *c2 = NULL, *marker = NULL;
	int la = -1, lb = -1, lc = -1;
	struct stat st;
	pid_t pid;
	int status;

	/* mounts/ is private, also when it was made loose by someone else. */
	char *mounts = NULL;
	assert_true(asprintf(&mounts, "%s/mounts", f->dir) > 0);
	assert_int_equal(chmod(mounts, 0755), 0);
	assert_ok(cache_mount_acquire(f->c, "build", "/root/.npm", &a, &la, &test_err));
	assert_int_equal(stat(mounts, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	if (geteuid() == 0) {
		int lx = -1;
		char *x = NULL;
		assert_int_equal(chown(mounts, 1234, 1234), 0);
		assert_int_equal(cache_mount_acquire(f->c, "build", "/x", &x, &lx, &test_err), -1);
		assert_int_equal(test_err.code, OCB_EENV);
		assert_int_equal(chown(mounts, 0, 0), 0);
	}
	free(mounts);
	assert_int_equal(stat(a, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_non_null(strstr(a, "/mounts/"));
	/* Another stage or another path: another directory. */
	assert_ok(cache_mount_acquire(f->c, "other", "/root/.npm", &b, &lb, &test_err));
	assert_ok(cache_mount_acquire(f->c, "build", "/root/.cache", &c2, &lc, &test_err));
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c2);
	cache_mount_release(lb);
	cache_mount_release(lc);

	/* A second user of the same mount waits for the first. */
	assert_true(asprintf(&marker, "%s/marker", f->tmp) > 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct build_cache *c;
		struct ocb_error e = OCB_ERROR_INIT;
		char *dir = NULL;
		int l = -1;
		close(la); /* the parent's lock, inherited: flock follows the open file */
		if (cache_open(&c, f->dir, &e) < 0 ||
		    cache_mount_acquire(c, "build", "/root/.npm", &dir, &l, &e) < 0)
			_exit(1);
		testutil_write_file(marker, "x", 1);
		_exit(strcmp(dir, a) == 0 ? 0 : 3);
	}
	usleep(300 * 1000);
	assert_int_equal(stat(marker, &st), -1);
	cache_mount_release(la);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(stat(marker, &st), 0);
	free(a);
	free(b);
	free(c2);
	free(marker);
}

/* ---- sizes and the default directory ---- */

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_ok(cache_parse_size("100", &v, &test_err));
	assert_int_equal(v, 100);
	assert_ok(cache_parse_size("10GB", &v, &test_err));
	assert_int_equal(v, 10000000000ULL);
	assert_ok(cache_parse_size("512MiB", &v, &test_err));
	assert_int_equal(v, 512ULL << 20);
	assert_ok(cache_parse_size("1.5G", &v, &test_err));
	assert_int_equal(v, 1500000000ULL);
	assert_ok(cache_parse_size("1.5kib", &v, &test_err));
	assert_int_equal(v, 1536);
	assert_ok(cache_parse_size("2 TiB", &v, &test_err));
	assert_int_equal(v, 2ULL << 40);
	assert_ok(cache_parse_size("0", &v, &test_err));
	assert_int_equal(v, 0);
	const char *bad[] = {"", "GB", "10XB", "-1", "1..5G", "99999999999999999999", "20000000TiB", "1e9"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cache_parse_size(bad[i], &v, &test_err), -1);
		assert_int_equal(test_err.code, OCB_EINVAL);
	}
	char buf[32];
	cache_format_size(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1.5kB");
	cache_format_size(12, buf, sizeof(buf));
	assert_string_equal(buf, "12B");
}

static void test_default_dir(void **state)
{
	char *d = NULL;

	assert_ok(cache_dir_default("/x/y", &d, &test_err));
	assert_string_equal(d, "/x/y");
	free(d);
	if (geteuid() == 0) {
		setenv("OCB_ROOT", "/srv/ocb", 1);
		assert_ok(cache_dir_default(NULL, &d, &test_err));
		assert_string_equal(d, "/srv/ocb/cache");
		free(d);
		unsetenv("OCB_ROOT");
		assert_ok(cache_dir_default(NULL, &d, &test_err));
		assert_string_equal(d, "/var/lib/ocb/cache");
	} else {
		setenv("XDG_CACHE_HOME", "/c", 1);
		assert_ok(cache_dir_default(NULL, &d, &test_err));
		assert_string_equal(d, "/c/ocb");
	}
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_deterministic_and_sensitive),
	    cmocka_unit_test(test_key_unambiguous),
	    cmocka_unit_test_setup_teardown(test_store_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_needs_blob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_or_truncated_blob_is_miss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_record_is_miss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_touches_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_stores, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_lru_and_gc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_shared_blob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_most_recent_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relocate_with_cp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigkill_while_storing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_cache_hits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mount_dirs_and_lock, setup, teardown),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_default_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
