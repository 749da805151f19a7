# Copy steps through `ocb build`: Docker's COPY rules (directory contents,
# files into a directory or renamed, wildcards, exclude, .ocbignore, chmod,
# chown by name from the destination's /etc/passwd, owners kept from a
# stage, symlinks kept), positioned errors, a symlink in the context that
# points outside it copied as a link and never followed, and a copy into a
# scratch stage whose layers hold exactly the copied names.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
ctx="$T/ctx"
mkdir -p "$ctx/etc" "$ctx/src/lib" "$ctx/conf" "$T/outside"
cp "$T/rootfs/etc/passwd" "$T/rootfs/etc/group" "$ctx/etc/"
echo a >"$ctx/a.txt"
echo b >"$ctx/b.txt"
echo skip >"$ctx/skip.txt"
echo main >"$ctx/src/main.c"
echo lib >"$ctx/src/lib/x.c"
echo secret >"$ctx/src/secret.log"
echo conf >"$ctx/conf/app.conf"
echo TOPSECRET >"$T/outside/secret"
ln -s "$T/outside/secret" "$ctx/src/escape"
printf '*.log\n**/*.log\n' >"$ctx/.ocbignore"
cat >"$ctx/recipe.toml" <<'R'
version = 1
[stages.gen]
from = "busybox:latest"
steps = [ { run = "mkdir -p /out/sub && echo gen > /out/sub/g.txt && ln -s g.txt /out/sub/link && chown 1000:1000 /out/sub/g.txt" } ]

[stages.final]
from = "scratch"
workdir = "/app"
steps = [
  { copy = "etc/", to = "/etc/" },
  { copy = ["*.txt"], to = "./", exclude = ["skip*"] },
  { copy = "src", to = "/srv/code", chmod = "0750", chown = "app" },
  { copy = "/out/", from = "gen", to = "/gen/" },
  { copy = "conf/app.conf", to = "/etc/app/renamed.conf" },
]
R
"$OCB" build "$ctx/recipe.toml" --progress plain -o "oci:$T/out" >"$T/digest" 2>"$T/log" ||
	{ cat "$T/log"; fail "build"; }
m=$(jq -r '.manifests[0].digest' "$T/out/index.json" | cut -d: -f2)
mkdir -p "$T/x"
: >"$T/listing"
for b in $(jq -r '.layers[].digest' "$T/out/blobs/sha256/$m" | cut -d: -f2); do
	tar -tzvf "$T/out/blobs/sha256/$b" --numeric-owner >>"$T/listing"
	tar -C "$T/x" -xzf "$T/out/blobs/sha256/$b" --numeric-owner --same-owner
done
assert_eq "$(cat "$T/x/app/a.txt" "$T/x/app/b.txt")" "a
b" "a wildcard's files land in the workdir"
[ -e "$T/x/app/skip.txt" ] && fail "exclude ignored"
assert_eq "$(stat -c '%a %u:%g' "$T/x/srv/code/main.c")" "750 1000:1000" "chmod and chown by name"
assert_eq "$(stat -c '%a %u:%g' "$T/x/srv")" "755 0:0" "a created parent is root's"
assert_eq "$(cat "$T/x/srv/code/lib/x.c")" "lib" "a directory's contents"
[ -e "$T/x/srv/code/secret.log" ] && fail ".ocbignore ignored"
[ -L "$T/x/srv/code/escape" ] || fail "a symlink to outside the context was not copied as a link"
assert_eq "$(readlink "$T/x/srv/code/escape")" "$T/outside/secret" "the link's target"
grep -rq TOPSECRET "$T/out/blobs" && fail "a file outside the context reached a blob"
assert_eq "$(stat -c '%u:%g' "$T/x/gen/sub/g.txt")" "1000:1000" "owners kept from a stage"
[ -L "$T/x/gen/sub/link" ] || fail "a symlink from a stage"
assert_eq "$(cat "$T/x/etc/app/renamed.conf")" "conf" "a file copied under a new name"
grep -q ' app/a.txt$' "$T/listing" || fail "layer names: $(cat "$T/listing")"
pass "copy steps: contents, wildcards, exclude, ignore, chmod, chown, stage owners, links"

cat >"$ctx/bad.toml" <<'R'
version = 1
[stages.s]
from = "scratch"
steps = [ { copy = ["a.txt", "nope/*.c"], to = "/x/" } ]
R
expect_exit 2 "$OCB" build "$ctx/bad.toml" --progress plain -o "oci:$T/bad"
assert_contains "$(cat "$T/stderr")" "bad.toml:4:30: copy source 'nope/*.c' matches nothing in context '$ctx' (after .ocbignore)" "glob error"
cat >"$ctx/bad2.toml" <<'R'
version = 1
[stages.s]
from = "scratch"
steps = [ { copy = ["a.txt", "b.txt"], to = "/x" } ]
R
set +e; "$OCB" build "$ctx/bad2.toml" --progress plain -o "oci:$T/bad" >/dev/null 2>"$T/stderr"; rc=$?; set -e
[ "$rc" != 0 ] || fail "several sources into a file name built"
assert_contains "$(cat "$T/stderr")" "bad2.toml:4:45: copy with several sources needs 'to' to end in '/'" "to error"
pass "copy errors name the recipe position"
