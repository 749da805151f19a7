# Acceptance 5 of issue 6: two "CI runners" (two stores, two empty cache
# dirs) share the step cache through one registry.  Runner 1 builds
# examples/hello with --cache-to registry:REF; runner 2, with an empty cache
# and --cache-from, reports every step CACHED, runs nothing and produces the
# same image digest, downloading only the layers of the steps that hit.  The
# same through --cache-to/--cache-from oci:DIR.  A --cache-from that does not
# exist yet (the first CI run) is a warning, not an error.  Several
# --cache-from sources, each holding another stage's records, give a fully
# cached build, each hit's layer downloaded from its own source.  Two recipes
# exporting to one --cache-to ref both stay importable (the export merges),
# and the merge drops other builds' records last exported over 7 days ago.
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

# The oci:DIR cache artifact's manifest blob and its index (config) blob.
cache_manifest_blob() {
	m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "ocb-cache") | .digest' \
		"$1/index.json")
	echo "$1/blobs/sha256/${m#sha256:}"
}
cache_index_blob() { echo "$1/blobs/sha256/$(jq -r .config.digest "$(cache_manifest_blob "$1")" | cut -d: -f2)"; }
# Rewrite the index of the cache in oci:DIR $1 with jq filter $2 (a new
# config blob, manifest and index.json entry).
rewrite_cache_index() {
	jq -c "$2" "$(cache_index_blob "$1")" >"$T/new-index"
	c=$(sha256sum <"$T/new-index" | cut -d' ' -f1)
	cp "$T/new-index" "$1/blobs/sha256/$c"
	jq -c --arg d "sha256:$c" --argjson s "$(stat -c %s "$T/new-index")" \
		'.config.digest = $d | .config.size = $s' "$(cache_manifest_blob "$1")" >"$T/new-manifest"
	n=$(sha256sum <"$T/new-manifest" | cut -d' ' -f1)
	cp "$T/new-manifest" "$1/blobs/sha256/$n"
	jq --arg d "sha256:$n" --argjson s "$(stat -c %s "$T/new-manifest")" \
		'(.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "ocb-cache")) |= (.digest = $d | .size = $s)' \
		"$1/index.json" >"$T/new-index.json"
	mv "$T/new-index.json" "$1/index.json"
}
# build_empty RUNNER LOG [ARGS...]: a build of $recipe on a new runner (a
# store with only busybox, an empty cache) with metadata in $T/LOG.json; its
# digest in $T/LOG.d, stderr in $T/LOG.
build_empty() {
	r=$1 log=$2; shift 2
	rm -rf "${T:?}/$r"
	OCB_ROOT="$T/$r" "$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
	OCB_ROOT="$T/$r" "$OCB" build "$recipe" --progress plain --tls-verify=false --metadata-file "$T/$log.json" \
		"$@" >"$T/$log.d" 2>"$T/$log" || { cat "$T/$log"; fail "build $log"; }
}
cached() { jq '[.steps[] | select(.cached)] | length' "$T/$1.json"; }

# -- several --cache-from sources, each with another stage's records
build_ref="$REGISTRY/cache-build:main"
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --tls-verify=false --target build \
	--cache-to "registry:$build_ref" >/dev/null 2>"$T/log6" || { cat "$T/log6"; fail "export the build stage"; }
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --target build --cache-to "oci:$T/build-keys" \
	>/dev/null 2>"$T/log6" || { cat "$T/log6"; fail "export the build stage to a directory"; }
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --cache-to "oci:$T/rest" >/dev/null 2>"$T/log6" ||
	{ cat "$T/log6"; fail "export every stage to a directory"; }
build_keys=$(jq -c '[.records[].key]' "$(cache_index_blob "$T/build-keys")")
n_build=$(echo "$build_keys" | jq length)
[ "$n_build" -ge 2 ] || fail "the build stage exported $n_build records"
rewrite_cache_index "$T/rest" ".records |= map(select(.key as \$k | $build_keys | index(\$k) | not))"
assert_eq "$(jq '.records | length' "$(cache_index_blob "$T/rest")")" $((steps - n_build)) \
	"oci:rest holds every stage's records but the build stage's"
build_empty r4 m7 --cache-from "oci:$T/rest"
assert_eq "$(cached m7)" $((steps - n_build)) "one source alone: the build stage runs"
before=$(registry_requests "GET /v2/cache-build/blobs/sha256:")
build_empty r4 m8 --cache-from "registry:$build_ref" --cache-from "oci:$T/rest"
assert_eq "$(cached m8)" "$steps" "two sources: every step cached"
assert_eq "$(tail -n 1 "$T/m8.d")" "$d1" "two sources: the same image digest"
assert_eq "$(($(registry_requests "GET /v2/cache-build/blobs/sha256:") - before))" 1 \
	"two sources: the registry source's index only (the build stage's layers are not read)"
pass "two --cache-from sources, each with another stage's records: every step CACHED"

# a step that runs reads the build stage: its layers come from the source
# that had its records (the registry), the rest from the directory
sed -i 's|from = "build", to = "/app/", chown = "app"|from = "build", to = "/app/bin/", chown = "app"|' "$recipe"
before=$(registry_requests "GET /v2/cache-build/blobs/sha256:")
build_empty r4 m9 --cache-from "registry:$build_ref" --cache-from "oci:$T/rest"
assert_eq "$(cached m9)" $((steps - 2)) "a changed copy from the build stage: it and the copy after it ran"
skopeo inspect --tls-verify=false --raw "docker://$build_ref" >"$T/build-manifest.json"
assert_eq "$(($(registry_requests "GET /v2/cache-build/blobs/sha256:") - before))" \
	$(($(jq '.layers | length' "$T/build-manifest.json") + 1)) \
	"the build stage's layers are downloaded from the registry source, once each"
cp "$OCB_SRC/examples/hello/recipe.toml" "$recipe"
pass "a hit's layers are downloaded from the source that had its record"

# -- a source that does not exist yet warns; one that is not an ocb cache fails, naming it
build_empty r4 m10 --cache-from "registry:$REGISTRY/nothing:here" --cache-from "oci:$T/no-such-dir" \
	--cache-from "registry:$build_ref" --cache-from "oci:$T/rest"
assert_eq "$(cached m10)" "$steps" "missing sources: every step cached from the others"
assert_contains "$(cat "$T/m10")" "warning: --cache-from 'registry:$REGISTRY/nothing:here': no cache there yet" \
	"a missing registry source warns"
assert_contains "$(cat "$T/m10")" "warning: --cache-from 'oci:$T/no-such-dir': no cache there yet" \
	"a missing directory source warns"
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --output "oci:$T/not-a-cache:ocb-cache" >/dev/null 2>&1 ||
	fail "write an image named ocb-cache"
rm -rf "$T/r4/cache"
expect_exit 2 env OCB_ROOT="$T/r4" "$OCB" build "$recipe" --progress plain \
	--cache-from "oci:$T/rest" --cache-from "oci:$T/not-a-cache"
assert_contains "$(cat "$T/stderr")" "--cache-from 'oci:$T/not-a-cache': not an ocb cache" \
	"a source that is not a cache is an error naming it"
args=""
for i in 1 2 3 4 5 6 7 8 9; do args="$args --cache-from oci:$T/s$i"; done
# shellcheck disable=SC2086
expect_exit 2 "$OCB" build "$recipe" $args
assert_contains "$(cat "$T/stderr")" "at most 8" "a ninth --cache-from"
pass "a missing source warns, a bad one fails naming it, at most 8 sources"

# -- two recipes exporting to the same --cache-to ref: both stay importable
shared_ref="$REGISTRY/cache:shared"
cp "$recipe" "$T/hello/recipe1.toml"
sed 's|echo \\"version ${VERSION}\\" > version.txt|echo \\"release ${VERSION}\\" > version.txt|' \
	"$recipe" >"$T/hello/recipe2.toml"
! cmp -s "$T/hello/recipe1.toml" "$T/hello/recipe2.toml" || fail "recipe 2 is recipe 1"
for n in 1 2; do
	cp "$T/hello/recipe$n.toml" "$recipe"
	OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --tls-verify=false \
		--cache-to "registry:$shared_ref" >/dev/null 2>"$T/log11" || { cat "$T/log11"; fail "export recipe $n"; }
done
uploads=$(registry_requests "POST /v2/cache/blobs/uploads")
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --tls-verify=false \
	--cache-to "registry:$shared_ref" >/dev/null 2>"$T/log11" || { cat "$T/log11"; fail "export recipe 2 again"; }
[ $(($(registry_requests "POST /v2/cache/blobs/uploads") - uploads)) -le 1 ] ||
	fail "a re-export uploaded blobs the registry had (only the index may change)"
for n in 1 2; do
	cp "$T/hello/recipe$n.toml" "$recipe"
	build_empty r4 m12-$n --cache-from "registry:$shared_ref"
	assert_eq "$(cached "m12-$n")" "$steps" "recipe $n from the merged export: every step cached"
done
pass "two recipes exporting to one --cache-to ref both stay importable; a re-export uploads no layer"

# -- the keep policy: records last exported more than 7 days ago are dropped by the next export
cp "$T/hello/recipe1.toml" "$recipe"
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --cache-to "oci:$T/aged" >/dev/null 2>"$T/log13" ||
	{ cat "$T/log13"; fail "export recipe 1 to a directory"; }
rewrite_cache_index "$T/aged" ".exported |= map_values($(date +%s) - 8 * 86400)"
cp "$T/hello/recipe2.toml" "$recipe"
OCB_ROOT="$T/r1" "$OCB" build "$recipe" --progress plain --cache-to "oci:$T/aged" >/dev/null 2>"$T/log13" ||
	{ cat "$T/log13"; fail "export recipe 2 to a directory"; }
build_empty r4 m14 --cache-from "oci:$T/aged"
assert_eq "$(cached m14)" "$steps" "the fresh export: every step cached"
cp "$T/hello/recipe1.toml" "$recipe"
build_empty r4 m15 --cache-from "oci:$T/aged"
[ "$(cached m15)" -lt "$steps" ] || fail "records exported 8 days ago were kept"
# the two recipes share their records but the assets stage's and the runtime stage's last copies
assert_eq "$(jq '.records | length' "$(cache_index_blob "$T/aged")")" "$steps" \
	"the export holds only this build's records"
pass "an export drops records of other builds last exported more than 7 days ago"
