# Acceptance 7 of issue 4: two builds sharing one cache dir at the same time
# both succeed; a build killed with SIGKILL at several points (mid-step,
# mid-commit) is followed by a build that succeeds with the digest of a clean
# build.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
for root in "$OCB_ROOT" "$T/clean"; do OCB_ROOT=$root "$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null; done
cat >"$T/recipe.toml" <<'R'
version = 1
[stages.a]
from = "busybox:latest"
steps = [
  { run = "mkdir -p /data && i=0; while [ $i -lt 48 ]; do dd if=/dev/zero of=/data/f$i bs=1M count=1 2>/dev/null; echo $i >> /data/f$i; i=$((i+1)); done" },
  { run = "sleep 0.3; echo two > /two" },
]
[stages.b]
from = "busybox:latest"
steps = [ { run = "echo b > /b; sleep 0.2" } ]
[stages.final]
from = "a"
steps = [ { copy = ["/b"], from = "b", to = "/b" }, { run = "cat /b /two > /both" } ]
R

# The reference: a clean build in a store and cache of its own.
OCB_ROOT="$T/clean" "$OCB" build "$T/recipe.toml" --progress plain >"$T/clean.digest" 2>"$T/clean.log" ||
	{ cat "$T/clean.log"; fail "clean build"; }
want=$(cat "$T/clean.digest")

# Two builds at once on one store and one cache dir.
"$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/cache" >"$T/d1" 2>"$T/l1" &
p1=$!
"$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/cache" >"$T/d2" 2>"$T/l2" &
p2=$!
wait $p1 || { cat "$T/l1"; fail "concurrent build 1"; }
wait $p2 || { cat "$T/l2"; fail "concurrent build 2"; }
assert_eq "$(cat "$T/d1")" "$want" "concurrent build 1 digest"
assert_eq "$(cat "$T/d2")" "$want" "concurrent build 2 digest"
pass "two concurrent builds sharing a cache dir"

# SIGKILL at several moments of a cold build (steps running, layers being
# written and committed, snapshots renamed), then a build that must succeed.
for delay in 0.05 0.15 0.3 0.5 0.7 0.9 1.2; do
	rm -rf "$T/kstore" "$T/kcache"
	OCB_ROOT="$T/kstore" "$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
	OCB_ROOT="$T/kstore" "$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/kcache" \
		>/dev/null 2>"$T/k.log" &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	OCB_ROOT="$T/kstore" "$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/kcache" \
		>"$T/k.digest" 2>"$T/k2.log" || { cat "$T/k2.log"; fail "build after SIGKILL at ${delay}s"; }
	assert_eq "$(cat "$T/k.digest")" "$want" "digest after SIGKILL at ${delay}s"
done
pass "builds after SIGKILL at 7 points succeed with the clean digest"

# Killed mid-step in a warm cache: the next build reuses what was committed.
rm -rf "$T/kstore"
OCB_ROOT="$T/kstore" "$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
OCB_ROOT="$T/kstore" "$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/cache" --no-cache \
	>/dev/null 2>"$T/k.log" &
pid=$!
i=0
until grep -q '\[a 2/2\]' "$T/k.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "step a 2/2 did not start"; sleep 0.05
done
kill -9 $pid; wait $pid 2>/dev/null || true
OCB_ROOT="$T/kstore" "$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/cache" >"$T/k.digest" 2>"$T/k2.log" ||
	{ cat "$T/k2.log"; fail "build after SIGKILL mid-step"; }
assert_eq "$(cat "$T/k.digest")" "$want" "digest after SIGKILL mid-step"
ls "$T/kstore/tmp" | grep -q '^build-' && fail "a killed build's temp dirs were not cleaned: $(ls "$T/kstore/tmp")"
pass "SIGKILL mid-step, then a good build; stale temp dirs cleaned"
