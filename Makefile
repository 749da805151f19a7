# ocb — daemonless multi-stage OCI image builder.
#
#   make                  build ./ocb, the static libraries and tests/toml-decoder
#   make check            unit tests, fuzz corpus replay, integration tests
#   make check-unit       unit tests only
#   make check-asan       unit tests + corpus replay under ASan/UBSan
#   make fuzz             libFuzzer targets (clang) in build-fuzz/
#   make install PREFIX=/usr/local DESTDIR=
#   make format           clang-format the sources;  make # cppcheck cannot see __attribute__((cleanup)), so every cleanup_free /
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
