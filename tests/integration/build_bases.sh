# Every kind of `from` (issue 4, plan): a stage, a store name, oci:DIR[:TAG],
# docker-archive:FILE, scratch; copy from an image; the base's config under
# the stage's (an entrypoint resets the inherited cmd, env extends the
# base's); outputs readable by skopeo.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest --cmd '["sh"]' --env PATH=/bin:/usr/bin --env BASE=1 >/dev/null
"$OCB" save busybox:latest -o "oci:$T/bb:v1"
"$OCB" save busybox:latest -o "$T/bb-docker.tar"
mkdir -p "$T/ctx"
cat >"$T/ctx/recipe.toml" <<R
version = 1
[stages.fromlayout]
from = "oci:$T/bb:v1"
steps = [ { run = "echo layout > /from-layout" } ]
[stages.fromarchive]
from = "docker-archive:$T/bb-docker.tar"
steps = [ { run = "echo archive > /from-archive" } ]
[stages.empty]
from = "scratch"
steps = [
  { copy = ["/from-layout"], from = "fromlayout", to = "/" },
  { copy = ["/from-archive"], from = "fromarchive", to = "/" },
  { copy = ["/bin/busybox"], from = "busybox:latest", to = "/bin/busybox" },
]
[stages.final]
from = "busybox:latest"
entrypoint = ["/bin/cat"]
env = { EXTRA = "2" }
steps = [
  { copy = ["/"], from = "empty", to = "/copied/" },
  { run = "test \"\$BASE\" = 1 && test \"\$EXTRA\" = 2 && ls /copied > /listing" },
]
R
"$OCB" build "$T/ctx/recipe.toml" --progress plain -t bases:1 -o "oci:$T/out" -o "oci-archive:$T/out.tar" \
	>/dev/null 2>"$T/log" || { cat "$T/log"; fail "build"; }
"$OCB" inspect bases:1 --format json >"$T/inspect.json"
assert_eq "$(jq -c '.config.config.Entrypoint' "$T/inspect.json")" '["/bin/cat"]' "entrypoint"
assert_eq "$(jq -c '.config.config.Cmd' "$T/inspect.json")" 'null' "the base's cmd is reset by the entrypoint"
assert_eq "$(jq -c '.config.config.Env' "$T/inspect.json")" '["PATH=/bin:/usr/bin","BASE=1","EXTRA=2"]' "env over the base's"
assert_eq "$(jq '.config.history | length' "$T/inspect.json")" 3 "history: the base's entry and one per step"
assert_eq "$(jq -r '.config.history[1].created_by' "$T/inspect.json")" "COPY --from=empty / /copied/" "history text"
pass "oci:DIR, docker-archive:FILE, scratch, copy from an image; config inherited"

mkdir -p "$T/x"
for l in $(jq -r '.manifest.layers[].digest' "$T/inspect.json" | cut -d: -f2); do
	tar -C "$T/x" -xzf "$T/out/blobs/sha256/$l"
done
assert_eq "$(cat "$T/x/listing" | tr '\n' ' ')" "bin from-archive from-layout " "files from every base"
if command -v skopeo >/dev/null; then
	skopeo inspect "oci:$T/out:1" >/dev/null || fail "skopeo cannot read the oci: output"
	skopeo inspect "oci-archive:$T/out.tar" >/dev/null || fail "skopeo cannot read the oci-archive output"
	pass "skopeo reads the outputs"
fi
