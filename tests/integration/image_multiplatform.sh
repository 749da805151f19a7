# Acceptance (issue 2, point 3): an arm64 busybox rootfs imported with
# --platform linux/arm64 and an amd64 one combine into one index; skopeo sees
# both platforms.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/amd64" amd64
make_busybox_rootfs "$T/arm64" arm64
file -b "$T/arm64/bin/busybox" | grep -q aarch64 || fail "arm64 busybox is not aarch64"
tar -C "$T/amd64" -cf "$T/amd64.tar" .
tar -C "$T/arm64" -cf "$T/arm64.tar" .
"$OCB" import "$T/amd64.tar" bb:amd64 --platform linux/amd64
"$OCB" import "$T/arm64.tar" bb:arm64 --platform linux/arm64
"$OCB" manifest create bb:multi bb:amd64 bb:arm64
"$OCB" save bb:multi -o "oci:$T/layout:multi"

skopeo inspect --raw "oci:$T/layout:multi" >"$T/index.json"
plats=$(jq -r '.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/"+.variant else "" end)"' "$T/index.json" | sort | tr '\n' ' ')
assert_eq "$plats" "linux/amd64 linux/arm64/v8 " "index platforms"
arch=$(skopeo inspect --override-arch arm64 --override-variant v8 "oci:$T/layout:multi" | jq -r .Architecture)
assert_eq "$arch" "arm64" "skopeo resolves the arm64 manifest"
arch=$(skopeo inspect --override-arch amd64 "oci:$T/layout:multi" | jq -r .Architecture)
assert_eq "$arch" "amd64" "skopeo resolves the amd64 manifest"
pass "multi-platform index"
