# Rootless builds (docs/rootless.md): an ordinary user with a subordinate id
# range imports busybox and builds examples/hello and a recipe with a run
# step, a copy step, a chown to a non-root uid, a whiteout and an opaque
# directory; both images are byte-identical to root builds of the same
# recipes (same SOURCE_DATE_EPOCH).  The steps really run in a user
# namespace (their /proc/self/uid_map maps 0 to the user), the store and
# cache go to $XDG_DATA_HOME/ocb and $XDG_CACHE_HOME/ocb, marked as a
# user.overlay.* store, and rmi/prune/cache prune clean up what the
# subordinate ids own.  A user without a range gets exit 3 saying what to
# configure; a store of the other convention is refused.
. "$OCB_SRC/tests/lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root (to create the test users)"
"$OCB_SRC/scripts/install-deps" >&2
command -v newuidmap >/dev/null || fail "newuidmap missing after install-deps"

RL=ocbrl$$
NOSUB=ocbns$$
del_users() {
	for u in "$RL" "$NOSUB"; do
		userdel "$u" 2>/dev/null || true
		sed -i "/^$u:/d" /etc/subuid /etc/subgid
	done
}
at_exit del_users
chmod 711 "$T"
H="$T/home"
mkdir -p "$H"
useradd -M -d "$H" -s /bin/sh "$RL"
useradd -M -d "$T/nohome" -s /bin/sh "$NOSUB"
# Exactly one range each for $RL (useradd may have allotted one already), none for $NOSUB.
sed -i "/^$RL:/d; /^$NOSUB:/d" /etc/subuid /etc/subgid
echo "$RL:400000:65536" >>/etc/subuid
echo "$RL:400000:65536" >>/etc/subgid
chown "$RL:" "$H"

# as_user CMD...: run as $RL with its own XDG dirs (the default store and
# cache of a non-root user), no OCB_ROOT.
as_user() {
	runuser -u "$RL" -- env -u OCB_ROOT HOME="$H" XDG_DATA_HOME="$H/data" XDG_CACHE_HOME="$H/cache" \
		SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" PATH="$PATH" "$@"
}

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
cp "$T/rootfs.tar" "$H/rootfs.tar"
cp -r "$OCB_SRC/examples/hello" "$H/hello"
mkdir -p "$H/extra"
echo "copied" >"$H/extra/hello.txt"
cat >"$H/extra/recipe.toml" <<'R'
version = 1
[image]
name = "rlextra"
[stages.x]
from = "busybox:latest"
steps = [
  { run = "mkdir -p /data/sub && echo old > /data/sub/f && echo keep > /data/k && mkdir /data/sub/deep" },
  { run = "rm -rf /data && mkdir /data && echo new > /data/n && touch /owned && chown 1234:2345 /owned && rm /bin/cat" },
  { copy = ["hello.txt"], to = "/data/", chown = "4321:4321" },
]
R
mkdir -p "$H/probe"
cat >"$H/probe/recipe.toml" <<'R'
version = 1
[stages.p]
from = "busybox:latest"
steps = [ { run = "echo uidmap; cat /proc/self/uid_map; echo gidmap; cat /proc/self/gid_map; id -u" } ]
R
chown -R "$RL:" "$H"

# Rootless: import, build both recipes, write the images as OCI layouts.
as_user "$OCB" import "$H/rootfs.tar" busybox:latest >"$T/rl-import" 2>"$T/log" || { cat "$T/log"; fail "rootless import"; }
as_user "$OCB" build "$H/hello/recipe.toml" --progress plain >"$T/rl-hello" 2>"$T/log" || { cat "$T/log"; fail "rootless build of examples/hello"; }
as_user "$OCB" build "$H/extra/recipe.toml" --progress plain -o "oci:$H/extra-oci" >"$T/rl-extra" 2>"$T/log" || { cat "$T/log"; fail "rootless build of the extra recipe"; }
assert_eq "$(cat "$H/data/ocb/overlay-xattrs")" "user" "a rootless store is marked user.overlay.*"
[ -d "$H/cache/ocb" ] || fail "the rootless cache is not under XDG_CACHE_HOME"
pass "rootless import and builds"

# The step ran in a user namespace: uid 0 is the user, 1.. its range.
as_user "$OCB" build "$H/probe/recipe.toml" --progress plain --no-cache >/dev/null 2>"$T/probe" || { cat "$T/probe"; fail "probe build"; }
uid=$(id -u "$RL")
# Progress lines look like "#1 0.055 TEXT": the last three fields of the map lines.
awk '/ gidmap$/{exit} m{print $(NF-2), $(NF-1), $NF} / uidmap$/{m=1}' "$T/probe" >"$T/map"
assert_eq "$(sed -n 1p "$T/map")" "0 $uid 1" "uid 0 of the step is the user"
assert_eq "$(sed -n 2p "$T/map")" "1 400000 65536" "uids 1.. are the user's range"
pass "run steps run in a user namespace"

# The sandbox's defences hold inside the namespace too: /proc/sys and every
# /sys mount read-only (the host's /sys, bound for a step on the host network,
# down to each submount; a fresh sysfs with network = "none"), Docker's masks,
# the seccomp filter (no nested user namespace).
mkdir -p "$H/defences"
cat >"$H/defences/recipe.toml" <<'R'
version = 1
[stages.d]
from = "busybox:latest"
steps = [
  { run = "echo x 2>/dev/null >/proc/sys/kernel/hostname || echo procsys-ro; touch /sys/kernel/ocb 2>/dev/null || echo sys-ro; busybox awk '$5 ~ \"^/sys\" { n++; if ($6 !~ /^ro/) print \"rw-sys\", $5 } END { print \"sys-mounts\", n }' /proc/self/mountinfo; busybox wc -c </proc/keys; busybox ls /sys/firmware | busybox wc -l; busybox unshare -U true 2>/dev/null || echo userns-refused; busybox grep '^Seccomp:' /proc/self/status" },
  { run = "touch /sys/kernel/ocb 2>/dev/null || echo none-sys-ro; busybox grep -c ' /sys .* - sysfs ' /proc/self/mountinfo", network = "none" },
]
R
chown -R "$RL:" "$H/defences"
as_user "$OCB" build "$H/defences/recipe.toml" --progress plain --no-cache >/dev/null 2>"$T/def" || { cat "$T/def"; fail "defences build"; }
sed 's/^#[0-9]* [0-9.]* //' "$T/def" >"$T/def.out"
for want in procsys-ro sys-ro userns-refused none-sys-ro; do
	grep -qx "$want" "$T/def.out" || { cat "$T/def.out"; fail "rootless step: no '$want'"; }
done
grep -q '^rw-sys' "$T/def.out" && { cat "$T/def.out"; fail "a writable /sys mount in a rootless step"; }
grep -q '^sys-mounts [1-9]' "$T/def.out" || { cat "$T/def.out"; fail "no /sys in a rootless step"; }
grep -qx 'Seccomp:.2' "$T/def.out" || { cat "$T/def.out"; fail "no seccomp filter in a rootless step"; }
[ "$(grep -cx '0' "$T/def.out")" -ge 2 ] || { cat "$T/def.out"; fail "/proc/keys or /sys/firmware not masked"; }
pass "rootless steps: read-only /proc/sys and /sys, masks, seccomp"

# An image's /proc or /sys that is a symlink is refused rootless as it is as
# root (proc over "/" escaped the masks), on both ways of making /sys.
for d in proc sys; do
	for net in default none; do
		rm -rf "$T/esc"
		cp -a "$T/rootfs" "$T/esc"
		ln -s / "$T/esc/$d"
		tar -C "$T/esc" -cf "$H/esc.tar" .
		chown "$RL:" "$H/esc.tar"
		as_user "$OCB" import "$H/esc.tar" "esc$d:1" >/dev/null 2>"$T/log" || { cat "$T/log"; fail "import esc$d"; }
		mkdir -p "$H/esc"
		printf 'version = 1\n[stages.e]\nfrom = "esc%s:1"\nsteps = [ { run = "echo ran", network = "%s" } ]\n' \
			"$d" "$net" >"$H/esc/recipe.toml"
		chown -R "$RL:" "$H/esc"
		expect_exit 2 as_user "$OCB" build "$H/esc/recipe.toml" --progress plain --no-cache
		assert_contains "$(cat "$T/stderr")" "a symlink in the image" "/$d -> / rootless, network $net"
	done
done
pass "rootless: /proc and /sys symlinks in the image refused"

# ^C at a terminal goes to the whole foreground process group, the
# namespace's process included: the parent must not pass a second SIGINT on
# (the build's handler is one-shot, the second would kill it before it
# cleans up).  A race, so a few times; setpriv, not runuser, whose watching
# parent would add a SIGTERM of its own.
mkdir -p "$H/slow"
cat >"$H/slow/recipe.toml" <<'R'
version = 1
[stages.a]
from = "busybox:latest"
steps = [ { run = "echo started; sleep 33" } ]
R
chown -R "$RL:" "$H/slow"
for i in 1 2 3 4 5 6; do
	rm -f "$T/ctl" "$T/int.log" # a previous try's log would look started
	mkfifo "$T/ctl"
	script -qfec "setpriv --reuid=$RL --regid=$RL --init-groups env -u OCB_ROOT HOME=$H XDG_DATA_HOME=$H/data XDG_CACHE_HOME=$H/cache PATH=$PATH $OCB build $H/slow/recipe.toml --progress plain --no-cache" \
		/dev/null <"$T/ctl" >"$T/int.log" 2>&1 &
	spid=$!
	exec 9>"$T/ctl"
	n=0
	until grep -q started "$T/int.log" 2>/dev/null; do n=$((n + 1)); [ $n -lt 200 ] || fail "the slow step did not start"; sleep 0.1; done
	printf '\003' >&9
	set +e; wait $spid; rc=$?; set -e
	exec 9>&-
	assert_eq "$rc" "1" "exit status after ^C (try $i)"
	assert_contains "$(cat "$T/int.log")" "interrupted by signal 2" "message after ^C (try $i)"
	ls "$H/data/ocb/tmp" | grep -q '^build-' && fail "temp dirs left after ^C: $(ls "$H/data/ocb/tmp")"
done
pass "^C at the terminal: one SIGINT, the rootless build cleans up"

# Root: the same recipes on a root store give the same digests.
"$OCB" import "$T/rootfs.tar" busybox:latest >"$T/root-import"
assert_eq "$(cat "$T/root-import")" "$(cat "$T/rl-import")" "import digest, root vs rootless"
"$OCB" build "$H/hello/recipe.toml" --progress plain --cache-dir "$T/rootcache" >"$T/root-hello" 2>"$T/log" || { cat "$T/log"; fail "root build of examples/hello"; }
"$OCB" build "$H/extra/recipe.toml" --progress plain --cache-dir "$T/rootcache" >"$T/root-extra" 2>"$T/log" || { cat "$T/log"; fail "root build of the extra recipe"; }
assert_eq "$(cat "$T/root-hello")" "$(cat "$T/rl-hello")" "examples/hello digest, root vs rootless"
assert_eq "$(cat "$T/root-extra")" "$(cat "$T/rl-extra")" "extra recipe digest, root vs rootless"
pass "rootless images are byte-identical to root builds"

# What the rootless layers hold: the owners as in the steps, the whiteout,
# the opaque directory.
m=$(jq -r '.manifests[0].digest' "$H/extra-oci/index.json" | cut -d: -f2)
n=$(jq '.layers | length' "$H/extra-oci/blobs/sha256/$m")
l2=$(jq -r ".layers[$((n - 2))].digest" "$H/extra-oci/blobs/sha256/$m" | cut -d: -f2)
l3=$(jq -r ".layers[$((n - 1))].digest" "$H/extra-oci/blobs/sha256/$m" | cut -d: -f2)
tar -tzvf "$H/extra-oci/blobs/sha256/$l2" --numeric-owner >"$T/l2"
tar -tzvf "$H/extra-oci/blobs/sha256/$l3" --numeric-owner >"$T/l3"
grep -q ' 1234/2345 .* owned$' "$T/l2" || { cat "$T/l2"; fail "chown to 1234:2345 lost"; }
grep -q 'bin/\.wh\.cat$' "$T/l2" || { cat "$T/l2"; fail "no whiteout for /bin/cat"; }
grep -q 'data/\.wh\.\.wh\.\.opq$' "$T/l2" || { cat "$T/l2"; fail "recreated /data is not opaque"; }
grep -q 'data/sub' "$T/l2" && { cat "$T/l2"; fail "the opaque layer still lists /data/sub"; }
grep -q ' 4321/4321 .* data/hello.txt$' "$T/l3" || { cat "$T/l3"; fail "copy --chown"; }
pass "owners, whiteout and opaque directory in the rootless layers"

# A base with a device node (imported by root, loaded by the user): the
# rootless snapshot skips the node (a user namespace cannot make one), the
# build still works and, since a layer holds only what a step changed, gives
# root's image.
mkdir -p "$T/devroot"
cp -a "$T/rootfs/." "$T/devroot/"
mknod "$T/devroot/mynull" c 1 3
tar -C "$T/devroot" -cf "$T/devroot.tar" .
"$OCB" import "$T/devroot.tar" devbase:1 >/dev/null
"$OCB" save devbase:1 -o "$H/devbase.tar" --format oci
chown "$RL:" "$H/devbase.tar"
as_user "$OCB" load "$H/devbase.tar" >/dev/null 2>"$T/log" || { cat "$T/log"; fail "rootless load"; }
mkdir -p "$H/dev"
cat >"$H/dev/recipe.toml" <<'R'
version = 1
[stages.d]
from = "devbase:1"
steps = [ { run = "test -e /mynull || echo skipped > /devnode" } ]
R
chown -R "$RL:" "$H/dev"
as_user "$OCB" build "$H/dev/recipe.toml" >"$T/rl-dev" 2>"$T/log" || { cat "$T/log"; fail "rootless build on a base with a device"; }
"$OCB" build "$H/dev/recipe.toml" --cache-dir "$T/rootcache" >"$T/root-dev" 2>"$T/log" || { cat "$T/log"; fail "root build on a base with a device"; }
[ "$(cat "$T/rl-dev")" != "$(cat "$T/root-dev")" ] || fail "the step saw the device node rootless"
pass "a device node in a base layer is skipped"

# rmi, prune and cache prune run in the namespace too: the snapshots owned
# by subordinate ids go.
as_user "$OCB" rmi hello:1.0 rlextra >/dev/null 2>"$T/log" || { cat "$T/log"; fail "rootless rmi"; }
as_user "$OCB" prune --all >/dev/null 2>"$T/log" || { cat "$T/log"; fail "rootless prune"; }
assert_eq "$(find "$H/data/ocb/snapshots" -mindepth 1 | wc -l)" "0" "snapshots left after prune --all"
as_user "$OCB" cache prune --all >/dev/null 2>"$T/log" || { cat "$T/log"; fail "rootless cache prune"; }
pass "rootless rmi, prune and cache prune"

# A store of the other convention is refused.
mkdir -p "$H/other"
echo trusted >"$H/other/overlay-xattrs"
chown -R "$RL:" "$H/other"
set +e
runuser -u "$RL" -- env HOME="$H" OCB_ROOT="$H/other" "$OCB" build "$H/probe/recipe.toml" >/dev/null 2>"$T/stderr"
rc=$?
set -e
assert_eq "$rc" "3" "exit code for a root store used rootless"
assert_contains "$(cat "$T/stderr")" "use another store" "message for the wrong convention"
pass "a store of the other convention is refused"

# An owner beyond the user's range cannot be extracted: exit 3, saying so.
mkdir -p "$T/big"
echo x >"$T/big/f"
tar -C "$T/big" --owner=70000 --group=70000 -cf "$H/big.tar" f
chown "$RL:" "$H/big.tar"
expect_exit 3 as_user "$OCB" import "$H/big.tar" big:1
assert_contains "$(cat "$T/stderr")" "cannot set owner 70000:70000: not mapped in this user namespace" "unmapped owner"
pass "an owner outside the range: exit 3"

# No subordinate range: exit 3 naming what to configure and install.
set +e
runuser -u "$NOSUB" -- env HOME="$T/nohome" OCB_ROOT="$T/nohome/store" "$OCB" build "$H/probe/recipe.toml" >/dev/null 2>"$T/stderr"
rc=$?
set -e
assert_eq "$rc" "3" "exit code without a subordinate range"
assert_contains "$(cat "$T/stderr")" "has no subordinate id range in /etc/subuid" "message names /etc/subuid"
assert_contains "$(cat "$T/stderr")" "usermod --add-subuids" "message says how to add a range"
pass "no subordinate range: exit 3 with what to configure"
