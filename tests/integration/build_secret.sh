# Acceptance 6 of issue 4: a `secrets` step reads its secret; the secret's
# bytes are in no blob of the store, the cache or the outputs (layers are
# decompressed before the search), nor in any file under them.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
secret="ocb-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$secret" >"$T/token"
cat >"$T/recipe.toml" <<'R'
version = 1
[stages.s]
from = "busybox:latest"
steps = [
  { run = "test -r /run/secrets/token && sha256sum /run/secrets/token | cut -d' ' -f1 > /token.sum && echo read-ok", secrets = ["token"] },
]
R
"$OCB" build "$T/recipe.toml" --progress plain --secret "id=token,src=$T/token" \
	-o "docker-archive:$T/out.tar" -o "oci:$T/layout" -o "oci-archive:$T/out-oci.tar" \
	--cache-dir "$T/cache" >"$T/digest" 2>"$T/log" || { cat "$T/log"; fail "build"; }
assert_contains "$(cat "$T/log")" "read-ok" "the step read its secret"
mkdir -p "$T/da" && tar -C "$T/da" -xf "$T/out.tar"
for l in $(jq -r '.[0].Layers[]' "$T/da/manifest.json"); do
	tar -C "$T/da" -xOf "$T/da/$l" token.sum 2>/dev/null || true
done >"$T/sum"
assert_eq "$(cat "$T/sum")" "$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)" "the step saw the secret's bytes"
pass "secret readable in the step"

found=""
for f in $(find "$OCB_ROOT" "$T/cache" "$T/layout" "$T/out.tar" "$T/out-oci.tar" -type f); do
	if grep -qF "$secret" "$f" || { zcat -f "$f" 2>/dev/null | grep -qF "$secret"; } ||
		{ zstdcat -f "$f" 2>/dev/null | grep -qF "$secret"; }; then
		found="$found $f"
	fi
done
[ -z "$found" ] || fail "secret bytes found in:$found"
grep -rqF "$T/token" "$OCB_ROOT" "$T/cache" && fail "the secret's path is recorded"
pass "secret in no blob, cache file or output"

expect_exit 2 "$OCB" build "$T/recipe.toml" --progress plain --cache-dir "$T/cache" --no-cache
assert_contains "$(cat "$T/stderr")" "secret 'token' was not given" "missing secret"
expect_exit 2 "$OCB" build "$T/recipe.toml" --secret "id=token,src=$T/nonexistent"
pass "a missing secret is a usage error"
