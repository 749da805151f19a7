# Acceptance 5 of issue 6: two "CI runners" (two stores, two empty cache
# dirs) share the step cache through one registry.  Runner 1 builds
# examples/hello with --cache-to registry:REF; runner 2, with an empty cache
# and --cache-from, reports every step CACHED, runs nothing and produces the
# same image digest, downloading only the layers of the steps that hit.  The
# same through --cache-to/--cache-from oci:DIR.  A --cache-from that does not
# exist yet (the first CI run) is not an error.
. "$OCB_SRC/tests/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
start_registry
make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
cp -r "$OCB_SRC/examples/hello" "$T/hello"
recipe="$T/hello/recipe.toml"
for r in r1 r2 r3; do
	OCB_ROOT="$T/$r" "$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
done
cache_ref="$REGISTRY/cache:hello"

# -- runner 1: a cold build exporting its cache (the import source does not exist yet)
start=$(date +%s%N)
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --tls-verify=false \
	--cache-from "registry:$cache_ref" --cache-to "registry:$cache_ref" --metadata-file "$T/m1.json" \
	>"$T/d1" 2>"$T/log1" || { cat "$T/log1"; fail "runner 1"; }
cold_ms=$((($(date +%s%N) - start) / 1000000))
d1=$(tail -n 1 "$T/d1")
steps=$(jq '.steps | length' "$T/m1.json")
[ "$(jq '[.steps[] | select(.cached)] | length' "$T/m1.json")" = 0 ] || fail "runner 1 had cache hits"
skopeo inspect --tls-verify=false --raw "docker://$cache_ref" >"$T/cache-manifest.json"
assert_eq "$(jq -r .config.mediaType "$T/cache-manifest.json")" "application/vnd.ocb.cache.config.v1+json" \
	"the cache artifact's config media type"
nlayers=$(jq '.layers | length' "$T/cache-manifest.json")
[ "$nlayers" -ge 1 ] || fail "the cache artifact has no layer"
pass "runner 1 exports its step cache ($steps steps, $nlayers layers) as an OCI artifact"

# -- runner 2: an empty cache, --cache-from: every step CACHED, the same digest
blob_gets() { registry_requests "GET /v2/cache/blobs/sha256:"; }
before=$(blob_gets)
start=$(date +%s%N)
OCB_ROOT="$T/r2" "$OCB" build "$recipe" --progress plain --tls-verify=false \
	--cache-from "registry:$cache_ref" --metadata-file "$T/m2.json" \
	>"$T/d2" 2>"$T/log2" || { cat "$T/log2"; fail "runner 2"; }
warm_ms=$((($(date +%s%N) - start) / 1000000))
d2=$(tail -n 1 "$T/d2")
assert_eq "$(jq '[.steps[] | select(.cached)] | length' "$T/m2.json")" "$steps" "runner 2: every step cached"
assert_eq "$(grep -c 'CACHED' "$T/log2")" "$steps" "runner 2: CACHED lines"
assert_eq "$d2" "$d1" "runner 2 produces the same image digest"
[ -z "$(find "$T/r2/cache/mounts" -name runs 2>/dev/null)" ] || fail "runner 2 ran a step"
# Lazy: only the layers the image is made of (the runtime stage's steps)
# are downloaded, not those of the build stages whose steps all hit.
got2=$(($(blob_gets) - before))
fetched() { jq -r '.layers[].digest' "$T/cache-manifest.json" | while read -r l; do
	[ ! -f "$T/$1/cache/blobs/sha256/${l#sha256:}" ] || echo "$l"; done | wc -l; }
in_image=$(OCB_ROOT="$T/r2" "$OCB" inspect hello:1.0 --format json |
	jq '[.manifest.layers[].digest] | length - 1') # minus the base layer
assert_eq "$(fetched r2)" "$in_image" "runner 2 fetched exactly the image's step layers"
assert_eq "$got2" $((in_image + 1)) "runner 2 downloads the index and those layers, once each"
[ "$in_image" -lt "$nlayers" ] || fail "the test needs cache layers outside the image"
echo "benchmark: cold build ${cold_ms} ms, build from the registry cache ${warm_ms} ms"
pass "runner 2 with an empty cache: every step CACHED, same digest"

# -- a changed last step: layers are fetched only where something reads them
sed -i 's|{ copy = \["/assets/"\], from = "assets", to = "/app/assets/" },|{ copy = ["/assets/"], from = "assets", to = "/app/assets2/" },|' "$recipe"
before=$(blob_gets)
OCB_ROOT="$T/r3" "$OCB" build "$recipe" --progress plain --tls-verify=false \
	--cache-from "registry:$cache_ref" --metadata-file "$T/m3.json" \
	>/dev/null 2>"$T/log3" || { cat "$T/log3"; fail "runner 3"; }
assert_eq "$(jq '[.steps[] | select(.cached | not)] | length' "$T/m3.json")" 1 "runner 3: one step ran"
# the copy that runs reads the runtime stage so far and the assets stage:
# their layers are fetched; the build stage's and the changed step's are not
got3=$(($(blob_gets) - before))
assert_eq "$got3" $(($(fetched r3) + 1)) "runner 3: one download per fetched layer"
[ "$(fetched r3)" -lt "$nlayers" ] || fail "runner 3 downloaded every cached layer"
pass "a step that runs fetches only the layers it reads"
cp -r "$OCB_SRC/examples/hello/recipe.toml" "$recipe"

# -- the same through a directory
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --cache-to "oci:$T/cachedir" >/dev/null 2>"$T/log4" ||
	{ cat "$T/log4"; fail "export to oci:DIR"; }
[ -f "$T/cachedir/index.json" ] || fail "no layout written"
rm -rf "$T/r2/cache"
OCB_ROOT="$T/r2" "$OCB" build "$recipe" --progress plain --cache-from "oci:$T/cachedir" \
	--metadata-file "$T/m5.json" >"$T/d5" 2>"$T/log5" || { cat "$T/log5"; fail "import from oci:DIR"; }
assert_eq "$(jq '[.steps[] | select(.cached)] | length' "$T/m5.json")" "$steps" "oci:DIR: every step cached"
assert_eq "$(tail -n 1 "$T/d5")" "$d1" "oci:DIR: the same image digest"
pass "--cache-to/--cache-from oci:DIR"

# -- malformed specs are usage errors
expect_exit 2 "$OCB" build "$recipe" --cache-to "s3:bucket"
assert_contains "$(cat "$T/stderr")" "expected registry:REF or oci:DIR" "bad --cache-to"
pass "a bad --cache-to is a usage error"
