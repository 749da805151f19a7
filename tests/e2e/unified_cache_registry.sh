# Issue 6, acceptance 5 on the flagship: two "CI runners" (two stores, two
# empty step caches) share examples/unified's step cache through one registry.
# Runner 1 builds --arch all cold with --cache-to; runner 2, with an empty
# cache and --cache-from, reports every step CACHED and produces the same
# index digest.  Prints both times (the benchmark: warm vs cold).
# Runs after tests/e2e/unified.sh, which leaves the bases in $OCB_E2E_ROOT.
. "$OCB_SRC/tests/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
BASES="${OCB_E2E_ROOT:-/var/tmp/ocb-e2e}"
CA="--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt"
start_registry
cache_ref="$REGISTRY/cache:unified"
cp -a "$OCB_SRC/examples/unified" "$T/unified"
rm -rf "$T/unified/frontend/node_modules" "$T/unified/frontend/dist"

# Each runner has its own store holding only the base images.
for b in golang node nginx; do
	OCB_ROOT="$BASES" "$OCB" save "$b:bookworm" -o "$T/$b.tar" --format oci
	for r in r1 r2; do OCB_ROOT="$T/$r" "$OCB" load "$T/$b.tar" >/dev/null; done
done
ms() { echo $(($(date +%s%N) / 1000000)); }
build() { # RUNNER CACHE-OPTION
	OCB_ROOT="$T/$1" "$OCB" build "$T/unified/recipe.toml" --arch all $CA --progress plain --tls-verify=false \
		--cache-dir "$T/$1-cache" "$2" "registry:$cache_ref" --metadata-file "$T/$1.json" \
		>"$T/$1.digest" 2>"$T/$1.log" || { tail -n 40 "$T/$1.log"; fail "runner $1"; }
}

t=$(ms); build r1 --cache-to; cold=$(($(ms) - t))
# Runner 1 starts cold (a shared platform = "build" step shows as CACHED for
# the second platform, which takes it from the first).
ran=$(jq '[.steps[] | select(.cached | not)] | length' "$T/r1.json")
[ "$ran" -gt 10 ] || fail "runner 1 ran only $ran steps"
t=$(ms); build r2 --cache-from; warm=$(($(ms) - t))
total=$(jq '.steps | length' "$T/r2.json")
hits=$(jq '[.steps[] | select(.cached)] | length' "$T/r2.json")
assert_eq "$hits" "$total" "runner 2: every step CACHED"
if grep -q ' DONE ' "$T/r2.log"; then fail "runner 2 ran a step"; fi
assert_eq "$(tail -n 1 "$T/r2.digest")" "$(tail -n 1 "$T/r1.digest")" "same index digest on both runners"
echo "time: cold build with --cache-to: ${cold} ms; empty cache with --cache-from: ${warm} ms"
pass "two runners share examples/unified's step cache through a registry ($total steps)"
