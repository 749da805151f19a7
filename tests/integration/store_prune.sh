# Snapshot and blob collection in the local store (ocb rmi, ocb prune) and
# ocb tag: rmi takes the snapshots only the removed image used and keeps the
# others (the other image rebuilds fully CACHED); prune frees unnamed builds'
# snapshots and blobs and says how much; a prune or rmi while a build holds
# the store lock removes nothing the build uses (prune --wait 0 fails with
# exit 3, prune --wait N waits for it); a tag keeps an image reachable after
# rmi of its first name.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
S="$OCB_ROOT/snapshots"
snaps() { ls "$S" | grep -E '^[0-9a-f]{64}$' | sort || true; }
# The snapshot names (diff_id hex) of an image's layers.
diff_ids() { "$OCB" inspect "$1" --format json | jq -r '.config.rootfs.diff_ids[]' | sed 's/^sha256://' | sort; }

recipe() { # recipe NAME RUN: an image NAME:1 with one run step
	mkdir -p "$T/$1"
	cat >"$T/$1/recipe.toml" <<R
version = 1
[image]
name = "$1"
tag = "1"
[stages.main]
from = "busybox:latest"
steps = [ { run = "$2" } ]
R
}
recipe one "head -c 3000000 /dev/urandom > /one"
recipe two "head -c 2000000 /dev/urandom > /two && echo two > /two.txt"
"$OCB" build "$T/one/recipe.toml" --progress plain >/dev/null 2>"$T/log-one" || { cat "$T/log-one"; fail "build one"; }
"$OCB" build "$T/two/recipe.toml" --progress plain >/dev/null 2>"$T/log-two" || { cat "$T/log-two"; fail "build two"; }
diff_ids one:1 >"$T/ids-one"
diff_ids two:1 >"$T/ids-two"
own_one=$(comm -23 "$T/ids-one" "$T/ids-two")
own_two=$(comm -13 "$T/ids-one" "$T/ids-two")
[ -n "$own_one" ] && [ -n "$own_two" ] || fail "each image has a layer of its own"
for h in $(cat "$T/ids-one" "$T/ids-two"); do [ -d "$S/$h" ] || fail "snapshot $h of a built image missing"; done

# -- rmi: the removed image's own snapshots go, the other image's stay.
"$OCB" rmi one:1 >"$T/rmi.out"
assert_contains "$(cat "$T/rmi.out")" "deleted 1 snapshots" "rmi reports the snapshot it removed"
[ ! -e "$S/$own_one" ] || fail "rmi left the removed image's snapshot"
for h in $(cat "$T/ids-two"); do [ -d "$S/$h" ] || fail "rmi removed snapshot $h of two:1"; done
ls -a "$S" | grep -q '^\.gc-' && fail "rmi left a .gc- directory"
"$OCB" build "$T/two/recipe.toml" --progress plain >/dev/null 2>"$T/log-two2" || { cat "$T/log-two2"; fail "rebuild two"; }
assert_eq "$(grep -c 'CACHED' "$T/log-two2")" 1 "two:1 rebuilds with its step CACHED"
pass "rmi collects the removed image's snapshots only"

# -- prune: an unnamed build's snapshots and blobs are freed and reported.
cat >"$T/anon.toml" <<'R'
version = 1
[stages.main]
from = "busybox:latest"
steps = [ { run = "head -c 4000000 /dev/urandom > /anon" } ]
R
before=$(snaps | wc -l)
"$OCB" build "$T/anon.toml" --progress plain >/dev/null 2>"$T/log-anon" || { cat "$T/log-anon"; fail "anonymous build"; }
assert_eq "$(snaps | wc -l)" $((before + 1)) "the unnamed build made a snapshot"
du_before=$(du -sk "$S" | cut -f1)
"$OCB" prune >"$T/prune.out"
cat "$T/prune.out"
assert_contains "$(cat "$T/prune.out")" "removed 1 snapshots" "prune counts the snapshot"
freed=$(sed -n 's/.*freed .* (\([0-9]*\) bytes)$/\1/p' "$T/prune.out")
[ "${freed:-0}" -ge 8000000 ] || fail "prune reports $freed bytes, want the 4 MB snapshot and its blob"
du_after=$(du -sk "$S" | cut -f1) # (layer blobs may be hard links into the step cache)
[ $((du_before - du_after)) -ge 3500 ] || fail "the snapshots shrank by $((du_before - du_after)) kB only"
assert_eq "$(snaps | wc -l)" "$before" "prune removed exactly the unnamed build's snapshot"
for h in $(cat "$T/ids-two"); do [ -d "$S/$h" ] || fail "prune removed snapshot $h of two:1"; done
"$OCB" prune >"$T/prune2.out"
assert_contains "$(cat "$T/prune2.out")" "removed 0 snapshots (0B) and 0 blobs (0B), freed 0B (0 bytes)" "a second prune frees nothing"
# A leftover of a killed collection or extraction goes too.
mkdir -p "$S/.gc-leftover/d" "$S/.tmp-leftover"
ln -s /etc "$S/.gc-leftover/d/escape"
"$OCB" prune >/dev/null
[ ! -e "$S/.gc-leftover" ] && [ ! -e "$S/.tmp-leftover" ] || fail "prune left leftovers"
[ -e /etc/passwd ] || fail "prune followed a symlink out of the store"
# --all: every snapshot goes; the next build extracts what it needs again.
"$OCB" prune --all >"$T/prune-all.out"
assert_eq "$(snaps | wc -l)" 0 "prune --all removes every snapshot"
"$OCB" inspect two:1 >/dev/null || fail "prune --all broke a named image"
"$OCB" build "$T/two/recipe.toml" --progress plain >/dev/null 2>"$T/log-two3" || { cat "$T/log-two3"; fail "build after prune --all"; }
assert_eq "$(grep -c 'CACHED' "$T/log-two3")" 1 "after prune --all the step is still CACHED"
pass "prune frees unnamed snapshots and blobs, reports bytes; --all"

# -- a prune or rmi during a build removes nothing the build uses.
cat >"$T/slow.toml" <<'R'
version = 1
[image]
name = "slow"
tag = "1"
[stages.main]
from = "two:1"
steps = [ { run = "head -c 1000000 /dev/urandom > /slow && sleep 4" } ]
R
"$OCB" build "$T/slow.toml" --progress plain --no-cache >"$T/slow.digest" 2>"$T/log-slow" &
build_pid=$!
at_exit "kill $build_pid 2>/dev/null"
i=0
while flock -n -x "$OCB_ROOT/lock" true 2>/dev/null; do # until the build holds the lock
	i=$((i + 1)); [ $i -lt 100 ] || fail "the build never took the store lock"
	sleep 0.1
done
grep -q 'sleep 4' "$T/log-slow" 2>/dev/null || sleep 1
snaps >"$T/snaps-during"
expect_exit 3 "$OCB" prune --wait 0
assert_contains "$(cat "$T/stderr")" "in use by a running build" "prune names why it gave up"
"$OCB" rmi two:1 >"$T/rmi-during.out" 2>"$T/rmi-during.err"
assert_contains "$(cat "$T/rmi-during.err")" "'ocb prune'" "rmi during a build defers the collection"
snaps >"$T/snaps-after"
cmp -s "$T/snaps-during" "$T/snaps-after" || fail "snapshots changed while the build held the lock"
"$OCB" prune --wait 60 >"$T/prune-wait.out" &
prune_pid=$!
sleep 0.5
kill -0 $prune_pid 2>/dev/null || fail "prune --wait did not wait for the build"
wait $build_pid || { cat "$T/log-slow"; fail "the build failed while a prune waited"; }
wait $prune_pid || fail "prune --wait failed after the build finished"
"$OCB" inspect slow:1 >/dev/null || fail "the build's image is gone"
for h in $(diff_ids slow:1); do [ -d "$S/$h" ] || fail "prune removed snapshot $h of the build that ran"; done
assert_contains "$(cat "$T/prune-wait.out")" "removed 0 snapshots" "nothing of slow:1 (which holds two:1's layers) was unused"
pass "prune and rmi during a build keep what it uses"

# -- tag: another name; rmi of the first keeps the image.
"$OCB" tag slow:1 registry.example:5000/team/slow:v2 >"$T/tag.out"
assert_eq "$(cat "$T/tag.out")" "tagged registry.example:5000/team/slow:v2" "tag prints the full name"
"$OCB" tag slow:1 other >/dev/null
jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$OCB_ROOT/index.json" >"$T/names"
grep -qx "docker.io/library/other:latest" "$T/names" || fail "a short target is not normalised: $(cat "$T/names")"
d_old=$("$OCB" inspect slow:1 --format json | jq -r .digest)
"$OCB" rmi slow:1 >/dev/null
"$OCB" inspect registry.example:5000/team/slow:v2 --format json >"$T/tagged.json"
assert_eq "$(jq -r .digest "$T/tagged.json")" "$d_old" "the new name points at the same image"
for h in $(diff_ids registry.example:5000/team/slow:v2); do [ -d "$S/$h" ] || fail "rmi of the old name removed snapshot $h"; done
"$OCB" save registry.example:5000/team/slow:v2 -o "$T/slow.tar"
tar -tf "$T/slow.tar" | grep -q manifest.json || fail "save of the tagged name is no docker-archive"
expect_exit 2 "$OCB" tag nosuch:1 x:1
expect_exit 2 "$OCB" tag other "x@sha256:$(printf '%064d' 0)"
expect_exit 2 "$OCB" tag other
pass "tag, inspect and save by the new name, rmi of the old"
