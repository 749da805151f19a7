# Builds and registries (issue 6, commands and build integration): a recipe
# `from` a registry reference that is not in the local store pulls it for the
# stage's platform (the pull leaves no name behind); `ocb build --push`
# pushes the result, an image or a multi-platform index, and the registry
# serves exactly the digest the build printed.
. "$OCB_SRC/tests/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
start_registry
make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest --cmd '["sh"]' >/dev/null
"$OCB" push busybox:latest "$REGISTRY/busybox:latest" >/dev/null 2>&1
"$OCB" rmi busybox:latest >/dev/null
"$OCB" images >"$T/images"
grep -q busybox "$T/images" && fail "busybox still in the store: $(cat "$T/images")"

# -- from = a registry reference: pulled, then built over
mkdir -p "$T/ctx"
cat >"$T/ctx/recipe.toml" <<R
version = 1
[stages.app]
from = "$REGISTRY/busybox:latest"
steps = [ { run = "echo built > /built" } ]
R
"$OCB" build "$T/ctx/recipe.toml" --progress plain --tls-verify=false -t "$REGISTRY/app:1" \
	>"$T/build.out" 2>"$T/build.err" || { cat "$T/build.err"; fail "build from a registry base"; }
built=$(tail -n 1 "$T/build.out")
case "$built" in sha256:*) ;; *) fail "build printed no digest: $(cat "$T/build.out")" ;; esac
assert_contains "$(cat "$T/build.err")" "pulling $REGISTRY/busybox:latest" "the base is pulled"
[ "$(registry_requests "GET /v2/busybox/manifests/latest")" -ge 1 ] || fail "no manifest request for the base"
"$OCB" images >"$T/images2"
grep -q "$REGISTRY/busybox" "$T/images2" && fail "the pulled base got a name: $(cat "$T/images2")"
"$OCB" save "$REGISTRY/app:1" -o "oci:$T/app:1"
layers=$(jq -r '.manifests[0].digest' "$T/app/index.json" | sed 's/sha256://' |
	xargs -I{} jq '.layers | length' "$T/app/blobs/sha256/{}")
assert_eq "$layers" 2 "the image has the base layer and the step's"
pass "from = a registry reference pulls the base"

# -- --progress json: the registry's blob lines are progress events too
OCB_ROOT="$T/store-json" "$OCB" build "$T/ctx/recipe.toml" --progress json --tls-verify=false \
	>/dev/null 2>"$T/json.err" || { cat "$T/json.err"; fail "json build"; }
while IFS= read -r line; do
	printf '%s' "$line" | jq -e . >/dev/null 2>&1 || fail "not a JSON progress line: $line"
done <"$T/json.err"
grep -q 'pulled sha256:' "$T/json.err" || fail "no pulled blob event: $(cat "$T/json.err")"
pass "--progress json stays JSON through a base pull"

# -- a base that no registry has: an error naming the recipe position
cat >"$T/ctx/missing.toml" <<R
version = 1
[stages.a]
from = "$REGISTRY/nosuch:1"
steps = [ { run = "true" } ]
R
expect_exit 2 "$OCB" build "$T/ctx/missing.toml" --progress plain --tls-verify=false
assert_contains "$(cat "$T/stderr")" "missing.toml:3:8: image '$REGISTRY/nosuch:1' is not in the local store" \
	"missing base"
pass "a base no registry has is exit 2 with a position"

# -- --push: the registry serves the digest the build printed
"$OCB" build "$T/ctx/recipe.toml" --progress plain --tls-verify=false -t "$REGISTRY/app:pushed" --push \
	>"$T/push.out" 2>"$T/push.err" || { cat "$T/push.err"; fail "build --push"; }
pushed=$(tail -n 1 "$T/push.out")
assert_eq "$pushed" "$built" "the same build gives the same image"
remote=$(skopeo inspect --tls-verify=false "docker://$REGISTRY/app:pushed" | jq -r .Digest)
assert_eq "$remote" "$pushed" "skopeo sees the built digest"
pass "build --push pushes the image"

# -- --push of a two-platform build pushes the index
cat >"$T/ctx/multi.toml" <<R
version = 1
[stages.files]
from = "scratch"
steps = [ { copy = ["recipe.toml"], to = "/recipe.toml" } ]
R
"$OCB" build "$T/ctx/multi.toml" --progress plain --platform linux/amd64,linux/arm64 --tls-verify=false \
	-t "$REGISTRY/multi:1" --push >"$T/multi.out" 2>"$T/multi.err" || { cat "$T/multi.err"; fail "multi --push"; }
index=$(tail -n 1 "$T/multi.out")
skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/multi:1" >"$T/index.json"
assert_eq "sha256:$(sha256sum <"$T/index.json" | cut -d' ' -f1)" "$index" "the registry serves the built index"
assert_eq "$(jq '.manifests | length' "$T/index.json")" 2 "the index has both platforms"
arch=$(skopeo inspect --tls-verify=false --override-arch arm64 "docker://$REGISTRY/multi:1" | jq -r .Architecture)
assert_eq "$arch" arm64 "the arm64 image was pushed"
pass "build --push pushes a multi-platform index"

# -- --push needs a name
expect_exit 2 "$OCB" build "$T/ctx/multi.toml" --progress plain --push --no-cache
assert_contains "$(cat "$T/stderr")" "--push needs a name" "push without a name"
grep -q "COPY" "$T/stderr" && fail "--push without a name ran steps first: $(cat "$T/stderr")"
pass "--push without a name is a usage error before anything runs"
