# Acceptance (issue 2, point 2): the image saved as an OCI layout passes
# oci-image-tool validate and skopeo inspect; umoci unpack yields the same file
# tree as the source rootfs; podman loads the docker-archive and the OCI archive.
. "$OCB_SRC/tests/lib.sh"

make_fixture_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" demo:1 --entrypoint '["/bin/echo", "hi"]' --label a=b
"$OCB" save demo:1 -o "oci:$T/layout"

oci-image-tool validate --type image --ref name=1 "$T/layout"
skopeo inspect "oci:$T/layout:1" >"$T/skopeo.json"
assert_eq "$(jq -r .Architecture "$T/skopeo.json")" "amd64" "skopeo architecture"
assert_eq "$(jq -r .Labels.a "$T/skopeo.json")" "b" "skopeo labels"

umoci unpack --image "$T/layout:1" "$T/bundle"
tree_listing "$T/rootfs" "$T/want"
tree_listing "$T/bundle/rootfs" "$T/got"
diff -u "$T/want" "$T/got" || fail "umoci unpack differs from the source rootfs"
pass "umoci tree identical"

"$OCB" save demo:1 -o "$T/demo-docker.tar" --format docker
"$OCB" save demo:1 -o "$T/demo-oci.tar" --format oci
setup_containers_conf
podman load -i "$T/demo-docker.tar"
out=$(podman run --rm --network none demo:1)
assert_eq "$out" "hi" "podman run (docker-archive)"
podman rmi -a -f >/dev/null
podman load -i "$T/demo-oci.tar" >"$T/podman-load.out"
id=$(podman images -q | head -n1)
[ -n "$id" ] || fail "podman load (oci-archive) loaded nothing"
out=$(podman run --rm --network none "$id")
assert_eq "$out" "hi" "podman run (oci-archive)"
pass "podman load docker-archive and oci-archive"
