# Acceptance (issue 2, point 4): importing twice and saving twice with the same
# SOURCE_DATE_EPOCH gives byte-identical outputs.
. "$OCB_SRC/tests/lib.sh"

make_fixture_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
for i in 1 2; do
	for c in gzip zstd; do
		OCB_ROOT="$T/store$i" "$OCB" import "$T/rootfs.tar" repro:$c --compression $c \
			--entrypoint '["/bin/sh"]' --env A=1 --label x=y
		OCB_ROOT="$T/store$i" "$OCB" inspect repro:$c --format json | jq -r .digest >"$T/digest-$c-$i"
	done
	OCB_ROOT="$T/store$i" "$OCB" save repro:gzip -o "$T/docker$i.tar" --format docker
	OCB_ROOT="$T/store$i" "$OCB" save repro:gzip -o "$T/oci$i.tar" --format oci
	OCB_ROOT="$T/store$i" "$OCB" save repro:zstd -o "oci:$T/layout$i"
done
cmp "$T/digest-gzip-1" "$T/digest-gzip-2" || fail "gzip import digests differ"
cmp "$T/digest-zstd-1" "$T/digest-zstd-2" || fail "zstd import digests differ"
cmp "$T/docker1.tar" "$T/docker2.tar" || fail "docker-archive outputs differ"
cmp "$T/oci1.tar" "$T/oci2.tar" || fail "oci-archive outputs differ"
diff -r "$T/layout1" "$T/layout2" || fail "oci layouts differ"
# A changed epoch changes the digest (the epoch really is applied).
SOURCE_DATE_EPOCH=1600000000 OCB_ROOT="$T/store3" "$OCB" import "$T/rootfs.tar" repro:gzip \
	--compression gzip --entrypoint '["/bin/sh"]' --env A=1 --label x=y
OCB_ROOT="$T/store3" "$OCB" inspect repro:gzip --format json | jq -r .digest >"$T/digest-3"
if cmp -s "$T/digest-gzip-1" "$T/digest-3"; then fail "SOURCE_DATE_EPOCH has no effect"; fi
pass "byte-identical outputs"
