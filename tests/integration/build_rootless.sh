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
