#!/bin/sh
# ocb cache ls|du|prune over a cache directory written by hand in the
# documented format (docs/cache.md), so the test does not depend on a build.
. "$OCB_SRC/tests/lib.sh"

C="$T/cache"
mkdir -p "$C/blobs/sha256" "$C/keys" "$C/mounts" "$C/tmp"

# add_record NAME SIZE MTIME: a blob of SIZE bytes and a record for key
# sha256(NAME) last used at MTIME (touch -d format).
add_record() {
	key=$(printf '%s' "$1" | sha256sum | cut -c1-64)
	head -c "$2" /dev/urandom >"$T/blob"
	hex=$(sha256sum "$T/blob" | cut -c1-64)
	mv "$T/blob" "$C/blobs/sha256/$hex"
	mkdir -p "$C/keys/$(echo "$key" | cut -c1-2)"
	rec="$C/keys/$(echo "$key" | cut -c1-2)/$key.json"
	printf '{"created":1700000000,"createdBy":"RUN %s","diffID":"sha256:%s","emptyLayer":false,"key":"sha256:%s","layer":{"digest":"sha256:%s","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":%s},"tarSize":%s,"version":1}' \
		"$1" "$hex" "$key" "$hex" "$2" "$2" >"$rec"
	touch -d "$3" "$rec"
}

add_record old 3000 "2020-01-01 00:00:00"
add_record mid 2000 "2021-01-01 00:00:00"
add_record new 1000 "2022-01-01 00:00:00"
head -c 500 /dev/urandom >"$C/blobs/sha256/$(printf orphan | sha256sum | cut -c1-64)"
mkdir -p "$C/mounts/m1" && printf 12345 >"$C/mounts/m1/f"

out=$("$OCB" cache ls --cache-dir "$C")
assert_contains "$out" "RUN new"
assert_contains "$out" "2020-01-01 00:00:00"
first=$(echo "$out" | sed -n 2p)
assert_contains "$first" "RUN new" "most recently used first"
assert_eq "$(echo "$out" | wc -l)" 4
pass "ls lists the records, most recent first"

out=$("$OCB" cache du --cache-dir "$C")
assert_contains "$out" "records: 3"
assert_contains "$out" "blobs:   4"
assert_contains "$out" "mounts:  1"
assert_contains "$out" "(6505 bytes)"
pass "du counts blobs and mounts"

# A running build holds the lock shared: prune gives up after --wait.
# The holder execs into sleep with the locked fd, so killing it frees the lock.
sh -c 'exec 9<"$1" && flock -s 9 && exec sleep 30' sh "$C/lock" </dev/null >/dev/null 2>&1 &
holder=$!
sleep 0.3
expect_exit 3 "$OCB" cache prune --cache-dir "$C" --wait 0
assert_contains "$(cat "$T/stderr")" "in use by a running build"
kill "$holder"
wait "$holder" 2>/dev/null || true
pass "prune refuses while a build holds the cache"

out=$("$OCB" cache prune --cache-dir "$C" --keep-storage 3kB)
assert_contains "$out" "removed 1 records and 2 blobs"
out=$("$OCB" cache ls --cache-dir "$C")
case "$out" in *"RUN old"*) fail "the least recently used record survived" ;; esac
assert_contains "$out" "RUN mid"
pass "prune --keep-storage removes the least recently used first"

expect_exit 2 "$OCB" cache prune --cache-dir "$C" --keep-storage 3XB
expect_exit 2 "$OCB" cache frobnicate
expect_exit 2 "$OCB" cache ls --keep-storage 1GB --cache-dir "$C"
pass "usage errors"

"$OCB" cache prune --cache-dir "$C" >/dev/null
out=$("$OCB" cache du --cache-dir "$C")
assert_contains "$out" "records: 0"
assert_contains "$out" "mounts:  1"
"$OCB" cache prune --all --cache-dir "$C" >/dev/null
assert_contains "$("$OCB" cache du --cache-dir "$C")" "total:   0B (0 bytes)"
pass "prune and prune --all"

# The default directory as root: $OCB_ROOT/cache; absent means empty.
if [ "$(id -u)" = 0 ]; then
	assert_contains "$("$OCB" cache du)" "records: 0"
	[ ! -e "$OCB_ROOT/cache" ] || fail "du created the cache directory"
	"$OCB" cache prune >/dev/null
	[ -f "$OCB_ROOT/cache/lock" ] || fail "the default cache is not under \$OCB_ROOT"
	pass "default cache dir under \$OCB_ROOT"
fi
