# Multi-platform builds (issue 5): `--arch all` over a two-platform busybox
# base writes an index of linux/amd64 and linux/arm64/v8; the target stage's
# run step runs under qemu for arm64 (its image holds an aarch64 ELF, the
# amd64 one an x86-64 ELF); a platform = "build" stage runs once and is
# shared (only its step that names $TARGETARCH runs per target, and the
# others do not see TARGETARCH), with --no-cache too; a rebuild is all CACHED; a docker-archive
# output of several platforms and a base without the target's platform are
# errors that say so.
. "$OCB_SRC/tests/lib.sh"

"$OCB_SRC/scripts/setup-binfmt" arm64 >/dev/null
make_busybox_rootfs "$T/amd64" amd64
make_busybox_rootfs "$T/arm64" arm64
tar -C "$T/amd64" -cf "$T/amd64.tar" .
tar -C "$T/arm64" -cf "$T/arm64.tar" .
"$OCB" import "$T/amd64.tar" bb:amd64 --platform linux/amd64 >/dev/null
"$OCB" import "$T/arm64.tar" bb:arm64 --platform linux/arm64 >/dev/null
"$OCB" manifest create bb:multi bb:amd64 bb:arm64 >/dev/null

mkdir -p "$T/ctx"
echo "source" >"$T/ctx/src.txt"
cat >"$T/ctx/recipe.toml" <<'R'
version = 1
[image]
name = "multi"
tag = "1"
[stages.build]
from = "bb:multi"
platform = "build"
steps = [
  { copy = "src.txt", to = "/out/" },
  { run = "env > /out/env && uname -m > /out/build-machine" },
  { run = "echo $TARGETARCH > /out/arch-$TARGETARCH" },
]
[stages.runtime]
from = "bb:multi"
steps = [
  { run = "cp /bin/busybox /bb-copy && uname -m > /machine" },
  { copy = "/out/", from = "build", to = "/from-build/" },
]
R

build() {
	"$OCB" build "$T/ctx/recipe.toml" --progress plain "$@" 2>"$T/log" || { cat "$T/log"; fail "build $*"; }
}
build --arch all -o "oci:$T/layout" --metadata-file "$T/meta.json" >"$T/digest"
assert_contains "$(cat "$T/log")" "[linux/arm64 runtime 1/2] RUN cp /bin/busybox" "progress names the platform"

# the index
skopeo inspect --raw "oci:$T/layout:1" >"$T/index.json"
plats=$(jq -r '.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/"+.variant else "" end)"' "$T/index.json" | sort | tr '\n' ' ')
assert_eq "$plats" "linux/amd64 linux/arm64/v8 " "index platforms"
assert_eq "$(jq -r .mediaType "$T/index.json")" "application/vnd.oci.image.index.v1+json" "an index"
assert_eq "$(jq -r .image_digest "$T/meta.json")" "$(cat "$T/digest")" "metadata: the index digest"
assert_eq "$(jq -r '[.platforms[].platform] | sort | join(" ")' "$T/meta.json")" "linux/amd64 linux/arm64/v8" \
	"metadata: per-platform digests"
"$OCB" inspect multi:1 >/dev/null || fail "multi:1 is not in the store"
arch=$(skopeo inspect --override-arch arm64 --override-variant v8 "oci:$T/layout:1" | jq -r .Architecture)
assert_eq "$arch" arm64 "skopeo resolves the arm64 image"
arch=$(skopeo inspect --override-arch amd64 "oci:$T/layout:1" | jq -r .Architecture)
assert_eq "$arch" amd64 "skopeo resolves the amd64 image"
pass "two-platform index"

# each platform's files: unpack its layers
unpack() { # ARCH DIR
	m=$(jq -r --arg a "$1" '.manifests[] | select(.platform.architecture == $a) | .digest' "$T/index.json")
	mkdir -p "$2"
	for l in $(jq -r '.layers[].digest' "$T/layout/blobs/sha256/${m#sha256:}"); do
		tar -C "$2" -xzf "$T/layout/blobs/sha256/${l#sha256:}"
	done
}
unpack amd64 "$T/u-amd64"
unpack arm64 "$T/u-arm64"
file -b "$T/u-arm64/bb-copy" | grep -q aarch64 || fail "arm64 image: $(file -b "$T/u-arm64/bb-copy")"
file -b "$T/u-amd64/bb-copy" | grep -q x86-64 || fail "amd64 image: $(file -b "$T/u-amd64/bb-copy")"
assert_eq "$(cat "$T/u-arm64/machine")" aarch64 "the arm64 run step ran under qemu"
assert_eq "$(cat "$T/u-arm64/from-build/build-machine")" x86_64 "the build stage ran on the host's platform"
assert_eq "$(cat "$T/u-arm64/from-build/arch-arm64")" arm64 "TARGETARCH in the build stage (arm64)"
assert_eq "$(cat "$T/u-amd64/from-build/arch-amd64")" amd64 "TARGETARCH in the build stage (amd64)"
[ ! -e "$T/u-arm64/from-build/arch-amd64" ] || fail "arm64 image has the amd64 output"
if grep -q '^TARGET' "$T/u-arm64/from-build/env"; then fail "a step that does not name TARGET* sees them"; fi
grep -q '^BUILDARCH=amd64' "$T/u-arm64/from-build/env" || fail "BUILDARCH missing"
pass "right ELF per platform; TARGET* only where named"

# the build stage ran once: its steps that do not name TARGETARCH are cached
# for one of the two platforms, the one that does ran for each
ran() { jq -r --arg s "$1" --argjson i "$2" '[.steps[] | select(.stage == $s and .index == $i and (.cached | not))] | length' "$T/meta.json"; }
assert_eq "$(ran build 0)" 1 "build stage step 1 (copy) ran once"
assert_eq "$(ran build 1)" 1 "build stage step 2 (run) ran once"
assert_eq "$(ran build 2)" 2 "the step naming TARGETARCH ran per target"
assert_eq "$(ran runtime 0)" 2 "the target stage ran per platform"
assert_eq "$(grep -c 'RUN env > /out/env' "$T/log")" 2 "both platforms list the shared step"
pass "platform = build stage built once and shared"

build --arch all --metadata-file "$T/meta2.json" >"$T/digest2"
assert_eq "$(jq '[.steps[] | select(.cached | not)] | length' "$T/meta2.json")" 0 "rebuild: all cached"
assert_eq "$(cat "$T/digest2")" "$(cat "$T/digest")" "rebuild: same index digest"
if grep -q ' DONE ' "$T/log"; then fail "rebuild ran a step: $(cat "$T/log")"; fi
pass "rebuild all CACHED"

# --no-cache runs every step again, but still once per invocation: the
# shared build stage's steps are taken from the platform that ran them
build --arch all --no-cache --metadata-file "$T/meta3.json" >/dev/null
T_META=$T/meta3.json
ran3() { jq -r --arg s "$1" --argjson i "$2" '[.steps[] | select(.stage == $s and .index == $i and (.cached | not))] | length' "$T_META"; }
assert_eq "$(ran3 build 0)" 1 "--no-cache: build stage step 1 (copy) ran once"
assert_eq "$(ran3 build 1)" 1 "--no-cache: build stage step 2 (run) ran once"
assert_eq "$(ran3 build 2)" 2 "--no-cache: the step naming TARGETARCH ran per target"
assert_eq "$(ran3 runtime 0)" 2 "--no-cache: the target stage ran per platform"
pass "--no-cache multi-platform: shared steps run once"

# --platform picks one; a docker-archive of one platform works
build --platform linux/arm64 -o "docker-archive:$T/arm64.tar" >/dev/null
tar -xOf "$T/arm64.tar" manifest.json | jq -e 'length == 1' >/dev/null || fail "docker-archive of one image"
expect_exit 2 "$OCB" build "$T/ctx/recipe.toml" --arch all -o "docker-archive:$T/x.tar"
assert_contains "$(cat "$T/stderr")" "a docker-archive holds one platform" "docker-archive of two platforms"
assert_contains "$(cat "$T/stderr")" "--platform" "the error names the fix"

# a single-platform base of the wrong architecture
sed 's/bb:multi/bb:amd64/' "$T/ctx/recipe.toml" >"$T/ctx/wrong.toml"
expect_exit 2 "$OCB" build "$T/ctx/wrong.toml" --arch arm64
assert_contains "$(cat "$T/stderr")" "image 'bb:amd64' has no linux/arm64/v8 image" "wrong-arch base"
pass "one platform outputs and errors"
