# Acceptance (issue 6, points 1 and 3) against Debian's docker-registry:
# an imported busybox image pushes, skopeo inspects and copies it back, a
# fresh store pulls it with the same digests; a two-platform index pushes
# and pulls whole and --platform linux/arm64 takes the arm64 manifest;
# pushing again uploads no blob; pushing to a second repository mounts.
. "$OCB_SRC/tests/lib.sh"

start_registry
make_busybox_rootfs "$T/amd64" amd64
make_busybox_rootfs "$T/arm64" arm64
tar -C "$T/amd64" -cf "$T/amd64.tar" .
tar -C "$T/arm64" -cf "$T/arm64.tar" .
"$OCB" import "$T/amd64.tar" bb:amd64 --platform linux/amd64
"$OCB" import "$T/arm64.tar" bb:arm64 --platform linux/arm64
"$OCB" manifest create bb:multi bb:amd64 bb:arm64

# -- one image: push, skopeo inspect/copy, pull into a fresh store
"$OCB" push bb:amd64 "$REGISTRY/test/bb:1" >"$T/push1.out" 2>"$T/push1.err"
pushed=$(awk '{print $3}' "$T/push1.out")
case "$pushed" in sha256:*) ;; *) fail "push printed no digest: $(cat "$T/push1.out")" ;; esac
skopeo inspect --tls-verify=false "docker://$REGISTRY/test/bb:1" >"$T/inspect.json"
assert_eq "$(jq -r .Digest "$T/inspect.json")" "$pushed" "skopeo sees the pushed manifest digest"
assert_eq "$(jq -r .Architecture "$T/inspect.json")" "amd64" "architecture"
skopeo copy --src-tls-verify=false "docker://$REGISTRY/test/bb:1" "oci:$T/copy:bb" >/dev/null
copied=$(jq -r '.manifests[0].digest' "$T/copy/index.json")
assert_eq "$copied" "$pushed" "skopeo copy gives back the same manifest"
layer=$(skopeo inspect --raw "oci:$T/copy:bb" | jq -r '.layers[0].digest')
[ -f "$T/copy/blobs/sha256/${layer#sha256:}" ] || fail "skopeo copied no layer"

OCB_ROOT="$T/store2" "$OCB" pull "$REGISTRY/test/bb:1" >"$T/pull.out"
assert_contains "$(cat "$T/pull.out")" "$pushed" "pull names the same digest"
OCB_ROOT="$T/store2" "$OCB" save "$REGISTRY/test/bb:1" -o "oci:$T/pulled:bb"
assert_eq "$(jq -r '.manifests[0].digest' "$T/pulled/index.json")" "$pushed" "pulled manifest digest"
for b in "$T"/copy/blobs/sha256/*; do
	[ -f "$T/pulled/blobs/sha256/$(basename "$b")" ] || fail "pulled store lacks blob $(basename "$b")"
done
pass "push, skopeo inspect/copy, pull: same digests"

# -- pushing again uploads nothing (HEAD hits only)
before=$(registry_requests "POST /v2/test/bb/blobs/uploads")
"$OCB" push bb:amd64 "$REGISTRY/test/bb:1" >/dev/null 2>"$T/push2.err"
after=$(registry_requests "POST /v2/test/bb/blobs/uploads")
assert_eq "$after" "$before" "a second push starts no upload"
[ "$(grep -c '^exists' "$T/push2.err")" = 2 ] || fail "second push: want 2 blobs existing: $(cat "$T/push2.err")"
pass "pushing again uploads no blob"

# -- a second repository on the same registry: mounted, not uploaded
OCB_ROOT="$T/store2" "$OCB" push "$REGISTRY/test/bb:1" "$REGISTRY/other/bb:1" >/dev/null 2>"$T/mount.err"
[ "$(grep -c '^mounted' "$T/mount.err")" = 2 ] || fail "want 2 mounted blobs: $(cat "$T/mount.err")"
[ "$(registry_requests "POST /v2/other/bb/blobs/uploads/\?mount=")" -ge 2 ] || fail "no mount requests"
[ "$(registry_requests "PUT /v2/other/bb/blobs/uploads")" = 0 ] || fail "a blob was uploaded to other/bb"
skopeo inspect --tls-verify=false "docker://$REGISTRY/other/bb:1" | jq -e ".Digest == \"$pushed\"" >/dev/null ||
	fail "other/bb:1 has another digest"
# an image named otherwise that reaches the same blobs mounts them too (the
# store's names on that registry say which repository holds which blob)
OCB_ROOT="$T/store2" "$OCB" manifest create local-index:1 "$REGISTRY/test/bb:1" >/dev/null
OCB_ROOT="$T/store2" "$OCB" push local-index:1 "$REGISTRY/third/bb:1" >/dev/null 2>"$T/mount2.err"
[ "$(grep -c '^mounted' "$T/mount2.err")" = 2 ] || fail "index push: want 2 mounted blobs: $(cat "$T/mount2.err")"
[ "$(registry_requests "PUT /v2/third/bb/blobs/uploads")" = 0 ] || fail "a blob was uploaded to third/bb"
pass "a second repository mounts"

# -- a two-platform index
"$OCB" push bb:multi "$REGISTRY/test/multi:1" >"$T/pushm.out" 2>/dev/null
index=$(awk '{print $3}' "$T/pushm.out")
skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/test/multi:1" >"$T/index.json"
plats=$(jq -r '.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/"+.variant else "" end)"' "$T/index.json" | sort | tr '\n' ' ')
assert_eq "$plats" "linux/amd64 linux/arm64/v8 " "pushed index platforms"
arch=$(skopeo inspect --tls-verify=false --override-arch arm64 --override-variant v8 "docker://$REGISTRY/test/multi:1" | jq -r .Architecture)
assert_eq "$arch" arm64 "skopeo resolves the arm64 manifest"

OCB_ROOT="$T/store3" "$OCB" pull --all-platforms "$REGISTRY/test/multi:1" >"$T/pullm.out" 2>/dev/null
assert_contains "$(cat "$T/pullm.out")" "$index" "the whole index pulled"
OCB_ROOT="$T/store3" "$OCB" save "$REGISTRY/test/multi:1" -o "oci:$T/multi:m"
assert_eq "$(jq -r '.manifests[0].digest' "$T/multi/index.json")" "$index" "pulled index digest"
[ "$(jq '.manifests | length' "$T/multi/blobs/sha256/${index#sha256:}")" = 2 ] || fail "index lost a manifest"
oci-image-tool validate --type imageIndex "$T/multi/blobs/sha256/${index#sha256:}" >/dev/null ||
	fail "the pulled index does not validate"

arm=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' "$T/index.json")
OCB_ROOT="$T/store4" "$OCB" pull --platform linux/arm64 "$REGISTRY/test/multi:1" >"$T/pulla.out" 2>/dev/null
assert_contains "$(cat "$T/pulla.out")" "$arm" "--platform linux/arm64 takes the arm64 manifest"
OCB_ROOT="$T/store4" "$OCB" save "$REGISTRY/test/multi:1" -o "oci:$T/arm:a" --platform linux/arm64
cfg=$(jq -r .config.digest "$T/arm/blobs/sha256/${arm#sha256:}")
assert_eq "$(jq -r .architecture "$T/arm/blobs/sha256/${cfg#sha256:}")" arm64 "pulled config is arm64"
expect_exit 2 env OCB_ROOT="$T/store4" "$OCB" pull --platform linux/arm/v7 "$REGISTRY/test/multi:1"
assert_contains "$(cat "$T/stderr")" "linux/arm/v7" "a missing platform is named"
# an explicit --platform must match a single-platform image too
expect_exit 2 env OCB_ROOT="$T/store5" "$OCB" pull --platform linux/arm64 "$REGISTRY/test/bb:1"
assert_contains "$(cat "$T/stderr")" "arm64" "the platform mismatch is named"
if OCB_ROOT="$T/store5" "$OCB" inspect "$REGISTRY/test/bb:1" >/dev/null 2>&1; then fail "a mismatched image was named"; fi
pass "two-platform index: pushed whole, pulled whole, --platform picks arm64"

# -- errors name the registry, repository and status
expect_exit 2 "$OCB" pull "$REGISTRY/test/missing:1"
assert_contains "$(cat "$T/stderr")" "$REGISTRY" "error names the registry"
assert_contains "$(cat "$T/stderr")" "HTTP 404" "error has the status"
assert_contains "$(cat "$T/stderr")" "MANIFEST_UNKNOWN" "error has the registry's code"
port=$(free_port)
expect_exit 3 "$OCB" pull "127.0.0.1:$port/test/bb:1"
assert_contains "$(cat "$T/stderr")" "unreachable" "unreachable registry"
pass "errors"
