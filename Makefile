# ocb — daemonless multi-stage OCI image builder.
#
#   make                  build ./ocb, the static libraries and tests/toml-decoder
#   make check            unit tests, fuzz corpus replay, integration tests
#   make check-unit       unit tests only
#   make check-asan       unit tests + corpus replay under ASan/UBSan
#   make fuzz             libFuzzer targets (clang) in build-fuzz/
#   make install PREFIX=/usr/local DESTDIR=
#   make format           clang-format the sources;  make lint: format check + cppcheck

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libarchive libcrypto libzstd jansson libcurl libisal libseccomp

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))

OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wno-format-nonliteral
override CFLAGS := -std=gnu11 $(OPT) $(WARN) -fno-strict-aliasing -pthread $(SANITIZE) $(PKG_CFLAGS) $(CFLAGS)
override CPPFLAGS := -I. -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(CPPFLAGS)
override LDFLAGS := -pthread $(SANITIZE) $(LDFLAGS)
LDLIBS := $(PKG_LIBS)

OCI_SRC := $(sort $(wildcard oci/*.c))
RECIPES_SRC := $(sort $(wildcard recipes/*.c))
BUILDER_SRC := $(sort $(filter-out builder/main.c,$(wildcard builder/*.c)))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))

OCI_LIB := $(BUILD)/libocb-oci.a
RECIPES_LIB := $(BUILD)/libocb-recipes.a
BUILDER_LIB := $(BUILD)/libocb-builder.a
# Link order: builder uses recipes and oci; recipes uses oci/error only.
ALL_LIBS := $(BUILDER_LIB) $(RECIPES_LIB) $(OCI_LIB)

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay_%,$(FUZZ_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
OCB := $(if $(filter build,$(BUILD)),ocb,$(BUILD)/ocb)
TOML_DECODER := $(if $(wildcard tests/toml-decoder.c),$(if $(filter build,$(BUILD)),tests/toml-decoder,$(BUILD)/tests/toml-decoder))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all check check-unit check-replay check-integration e2e check-asan check-valgrind fuzz install test-setup \
	format lint clean deps
.DEFAULT_GOAL := all

all: $(OCB) $(TOML_DECODER) $(UNIT_BINS) $(REPLAY_BINS) $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(OCI_LIB): $(call obj,$(OCI_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(RECIPES_LIB): $(call obj,$(RECIPES_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILDER_LIB): $(call obj,$(BUILDER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(OCB): $(call obj,builder/main.c) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TOML_DECODER): $(call obj,tests/toml-decoder.c) $(RECIPES_LIB) $(OCI_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -ljansson

$(BUILD)/tests/test_%: $(call obj,tests/unit/test_%.c) $(call obj,tests/unit/testutil.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# A static helper test_sandbox_seccomp copies into its rootfs (no
# sanitizers: they do not link statically).
$(BUILD)/tests/seccomp_probe: tests/unit/seccomp_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=gnu11 -O2 $(WARN) -static -o $@ $<
$(BUILD)/tests/test_sandbox_seccomp: | $(BUILD)/tests/seccomp_probe

# Fuzz targets double as corpus replayers (libgit2's standalone driver), so
# `make check` replays the saved corpora with gcc and no libFuzzer.
$(BUILD)/tests/replay_%: $(call obj,tests/fuzz/%.c) $(call obj,tests/fuzz/standalone.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Benchmarks (scripts/bench-layer runs them).
$(BUILD)/bench/%: $(call obj,tests/bench/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
		(cd tests/unit && CMOCKA_MESSAGE_OUTPUT=stdout ../../$$t); done

check-replay: $(REPLAY_BINS)
	@set -e; for t in $(REPLAY_BINS); do \
		name=$$(basename $$t | sed 's/^replay_fuzz_//'); \
		echo "== $$t tests/fuzz/corpus/$$name"; $$t tests/fuzz/corpus/$$name; done

check-integration: all
	./tests/run-integration

check: deps test-setup all check-unit check-replay check-integration e2e

# The flagship end-to-end test (issue 5): minutes; the store with the base
# images is kept in $$OCB_E2E_ROOT (default /var/tmp/ocb-e2e).
# (under `make check` it runs after the integration tests, also with -j).
ifneq ($(filter check,$(MAKECMDGOALS)),)
e2e: check-integration
endif
e2e: all
	@set -e; for t in tests/e2e/unified.sh tests/e2e/service_family.sh tests/e2e/stack.sh tests/e2e/unified_cache_registry.sh tests/e2e/readme_demo.sh; do echo "== $$t"; \
		OCB_SRC=$(CURDIR) OCB=$(CURDIR)/ocb sh $$t; done

deps:
	./scripts/install-deps

test-setup: deps
	./scripts/test-setup

check-asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" check-unit check-replay

# Valgrind (memcheck: leaks, uninitialised reads, which ASan does not see) on
# the unit tests it can run: Debian 12's valgrind 3.19 does not know openat2
# or open_tree (syscalls 437, 428), so the tests of the extractor, copies,
# snapshots, the step cache's read-only mounts, passwd lookups and the
# sandbox (namespaces) are left to ASan.
VALGRIND_SKIP := build_progress cache copy extract extract_hostile extract_unsafe layer_extract \
	overlay_diff passwd sandbox sandbox_escape sandbox_seccomp
VALGRIND_BINS := $(filter-out $(patsubst %,$(BUILD)/tests/test_%,$(VALGRIND_SKIP)),$(UNIT_BINS))
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect
check-valgrind: $(VALGRIND_BINS)
	@set -e; for t in $(VALGRIND_BINS); do echo "== valgrind $$t"; \
		(cd tests/unit && CMOCKA_MESSAGE_OUTPUT=stdout $(VALGRIND) ../../$$t); done

FUZZ_CC ?= clang
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g" WARN="-Wall" SANITIZE="$(FUZZ_FLAGS)" \
		$(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(FUZZ_SRC))

build-fuzz/fuzz/%: $(call obj,tests/fuzz/%.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

install: $(OCB)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(OCB) $(DESTDIR)$(BINDIR)/ocb
	install -m 0644 docs/ocb.1 $(DESTDIR)$(MANDIR)/man1/ocb.1

FORMAT_SRC = $(wildcard oci/*.[ch] recipes/*.[ch] builder/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/bench/*.c tests/*.c)
format:
	clang-format -i $(FORMAT_SRC)

# cppcheck cannot see __attribute__((cleanup)), so every cleanup_free /
# cleanup_close return looks like a leak to it: leak checks are left to
# ASan/LSan (make check-asan) and valgrind instead.
CPPCHECK_FLAGS := --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	--suppress=missingIncludeSystem --suppress=memleak --suppress=resourceLeak \
	--suppress=ctuuninitvar -I. -D_GNU_SOURCE \
	'-Djson_array_foreach(a,i,v)=for(i=0;(v=json_array_get(a,i));i++)' \
	'-Djson_object_foreach(o,k,v)=for(k=0,v=0;k;)'
lint:
	clang-format --dry-run --Werror $(FORMAT_SRC)
	cppcheck $(CPPCHECK_FLAGS) oci recipes builder

clean:
	rm -rf build build-asan build-fuzz ocb tests/toml-decoder

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
