# The build context: --context DIR (default the recipe's directory), its
# .ocbignore honoured by copy steps, and an ignored file's changes invisible
# to the cache (the copy stays CACHED); a copied file's change re-runs it.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
mkdir -p "$T/recipes" "$T/ctx/sub"
echo keep >"$T/ctx/keep.txt"
echo nested >"$T/ctx/sub/n.txt"
echo ignored >"$T/ctx/notes.log"
printf '*.log\n' >"$T/ctx/.ocbignore"
cat >"$T/recipes/recipe.toml" <<'R'
version = 1
[stages.s]
from = "busybox:latest"
steps = [ { copy = ["."], to = "/ctx/" }, { run = "ls -R /ctx > /listing" } ]
R
build() { "$OCB" build "$T/recipes/recipe.toml" --context "$T/ctx" --progress plain -o "oci:$T/out" \
	--metadata-file "$T/m.json" >"$T/digest" 2>"$T/log" || { cat "$T/log"; fail "build"; }; }
build
mkdir -p "$T/x"
for l in $(jq -r '.manifests[0].digest' "$T/out/index.json" | cut -d: -f2); do
	for b in $(jq -r '.layers[].digest' "$T/out/blobs/sha256/$l" | cut -d: -f2); do tar -C "$T/x" -xzf "$T/out/blobs/sha256/$b"; done
done
[ -f "$T/x/ctx/keep.txt" ] && [ -f "$T/x/ctx/sub/n.txt" ] || fail "context files not copied"
[ -e "$T/x/ctx/notes.log" ] && fail "an ignored file was copied"
pass "--context and .ocbignore"

echo "changed but ignored" >"$T/ctx/notes.log"
build
assert_eq "$(jq '[.steps[] | select(.cached | not)] | length' "$T/m.json")" 0 "an ignored change re-ran steps"
echo "changed" >"$T/ctx/sub/n.txt"
build
assert_eq "$(jq -c '[.steps[] | select(.cached | not) | .index]' "$T/m.json")" '[0,1]' "a copied change re-runs the copy and after"
pass "ignored files do not reach the cache key; copied ones do"
