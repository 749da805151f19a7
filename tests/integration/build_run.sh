# ocb build with run steps only (issue 4): a multi-stage recipe over a busybox
# base builds, the image carries the steps' changes and the stage metadata,
# the same inputs give the same digest, a failing step exits 1 naming the
# stage, the step and its last output lines (acceptance 5), an image not in
# the store is a recipe error naming file:line:col (exit 2), the seccomp
# filter refuses a user namespace unless --security-opt seccomp=unconfined.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
mkdir -p "$T/ctx"
cat >"$T/ctx/recipe.toml" <<'R'
version = 1
[image]
name = "runonly"
tag = "1"
[stages.a]
from = "busybox:latest"
workdir = "/w"
steps = [
  { run = "echo hello > a.txt && rm /bin/wc && echo step-one-output" },
  { run = ["/bin/sh", "-c", "id -u > /tmp/uid"], user = "app" },
]
[stages.b]
from = "a"
entrypoint = ["/bin/cat", "/w/a.txt"]
user = "app"
expose = ["80"]
env = { GREETING = "hi" }
steps = [ { run = "true" } ]
R
"$OCB" build "$T/ctx/recipe.toml" --progress plain --no-cache -o "oci:$T/layout" \
	--metadata-file "$T/meta.json" >"$T/digest1" 2>"$T/log1" || { cat "$T/log1"; fail "build"; }
assert_contains "$(cat "$T/log1")" "[a 1/2] RUN echo hello > a.txt" "progress names the step"
assert_contains "$(cat "$T/log1")" "step-one-output" "step output is shown"
d1=$(cat "$T/digest1")
assert_contains "$(cat "$T/meta.json")" "\"image_digest\": \"$d1\"" "metadata file"
assert_eq "$(jq -r '.platform + " " + .target' "$T/meta.json")" "linux/amd64 b" "metadata platform and target"
"$OCB" inspect runonly:1 >"$T/inspect"
assert_contains "$(cat "$T/inspect")" "Entrypoint: /bin/cat /w/a.txt" "entrypoint"
assert_contains "$(cat "$T/inspect")" "User:       app" "user"
assert_contains "$(cat "$T/inspect")" "WorkingDir: /w" "workdir"
assert_contains "$(cat "$T/inspect")" "80/tcp" "expose"
[ -f "$T/layout/index.json" ] || fail "oci:DIR output missing"

# Extract the image's layers: a.txt present, /bin/wc gone (a whiteout), uid 1000.
mkdir -p "$T/x"
for l in $(jq -r '.layers[].digest' "$T/layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/layout/index.json" | cut -d: -f2)" | cut -d: -f2); do
	tar -C "$T/x" -xzf "$T/layout/blobs/sha256/$l"
done
assert_eq "$(cat "$T/x/w/a.txt")" "hello" "file made by the run step"
[ -e "$T/x/bin/.wh.wc" ] || fail "deleted file has no whiteout"
assert_eq "$(cat "$T/x/tmp/uid")" "1000" "step user"
pass "run steps build an image"

"$OCB" build "$T/ctx/recipe.toml" --progress plain --no-cache >"$T/digest2" 2>"$T/log2"
assert_eq "$(cat "$T/digest2")" "$d1" "same recipe, same digest"
pass "reproducible"

# A failing step: exit 1, stage and step named, the last output lines shown.
sed -i 's/{ run = "true" }/{ run = "echo some-context; echo failing-now; exit 3" }/' "$T/ctx/recipe.toml"
expect_exit 1 "$OCB" build "$T/ctx/recipe.toml" --progress plain
err=$(cat "$T/stderr")
assert_contains "$err" "stage 'b', step 1" "failure names stage and step"
assert_contains "$err" "exit code 3" "failure names the exit code"
assert_contains "$err" "failing-now" "failure shows the last output"
sed -i 's/exit 3/true/' "$T/ctx/recipe.toml"
"$OCB" build "$T/ctx/recipe.toml" --progress plain >/dev/null 2>"$T/log3" || { cat "$T/log3"; fail "fixed build"; }
pass "failing step exit 1, fixed build succeeds"

cat >"$T/ctx/missing.toml" <<'R'
version = 1
[stages.a]
from = "nosuch:1"
steps = [ { run = "true" } ]
R
expect_exit 3 "$OCB" build "$T/ctx/missing.toml" --progress plain
assert_contains "$(cat "$T/stderr")" "missing.toml:3:8: image 'nosuch:1' is not in the local store" "missing base"
pass "missing base (unreachable registry) is exit 3 with a position"
ls "$OCB_ROOT/tmp" | grep -q . && fail "temp dirs left behind: $(ls "$OCB_ROOT/tmp")"
pass "no temp dirs left"

# SIGINT mid-step: the sandbox is killed, temp dirs removed, exit 1.
cat >"$T/ctx/slow.toml" <<'R'
version = 1
[stages.a]
from = "busybox:latest"
steps = [ { run = "echo started; sleep 33" } ]
R
"$OCB" build "$T/ctx/slow.toml" --progress plain --no-cache >/dev/null 2>"$T/int.log" &
pid=$!
i=0
until grep -q started "$T/int.log" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || fail "step did not start"; sleep 0.1; done
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
assert_eq "$rc" 1 "exit status after SIGINT"
assert_contains "$(cat "$T/int.log")" "interrupted" "message after SIGINT"
sleep 0.2
pgrep -f "sleep 33" >/dev/null && fail "the step survived SIGINT"
ls "$OCB_ROOT/tmp" | grep -q '^build-' && fail "temp dirs left after SIGINT: $(ls "$OCB_ROOT/tmp")"
pass "SIGINT kills the step and cleans up"

# The default seccomp filter: a user namespace is refused with EPERM (busybox's
# unshare); --security-opt seccomp=unconfined lifts it, with a key of its own,
# so the default build afterwards does not reuse the unconfined result.
cat >"$T/ctx/seccomp.toml" <<'R'
version = 1
[stages.a]
from = "busybox:latest"
steps = [ { run = "busybox linux32 busybox uname -m; busybox unshare -U busybox true && echo userns-ok" } ]
R
expect_exit 1 "$OCB" build "$T/ctx/seccomp.toml" --progress plain
assert_contains "$(cat "$T/stderr")" "Operation not permitted" "unshare -U refused"
assert_contains "$(cat "$T/stderr")" "i686" "an allowed personality (linux32) works"
"$OCB" build "$T/ctx/seccomp.toml" --progress plain --security-opt seccomp=unconfined \
	>/dev/null 2>"$T/unconfined.log" || { cat "$T/unconfined.log"; fail "unconfined build"; }
assert_contains "$(cat "$T/unconfined.log")" "userns-ok" "unconfined step makes a user namespace"
expect_exit 1 "$OCB" build "$T/ctx/seccomp.toml" --progress plain
assert_contains "$(cat "$T/stderr")" "Operation not permitted" "no cache hit from the unconfined build"
expect_exit 2 "$OCB" build "$T/ctx/seccomp.toml" --security-opt seccomp=/tmp/profile.json
assert_contains "$(cat "$T/stderr")" "only seccomp=unconfined" "other --security-opt values refused"
pass "seccomp filter on by default, --security-opt seccomp=unconfined"

# Run steps for an architecture without a binfmt handler: exit 3 before anything runs.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-riscv64 ]; then
	expect_exit 3 "$OCB" build "$T/ctx/recipe.toml" --platform linux/riscv64 --progress plain
	assert_contains "$(cat "$T/stderr")" "qemu-riscv64" "binfmt message"
	pass "foreign arch without binfmt is exit 3"
fi
expect_exit 2 "$OCB" build "$T/ctx/recipe.toml" --progress fancy
expect_exit 2 "$OCB" build "$T/ctx/recipe.toml" --bogus
assert_contains "$(cat "$T/stderr")" "'--bogus'" "unknown option named"
pass "usage errors are exit 2"
