# The flagship end-to-end test (issue 5, acceptance 1-4), run by `make e2e`:
#
#   scripts/bootstrap-bases; examples/bases/{golang,node,nginx} --arch all;
#   examples/unified --arch all (a fresh step cache) -> a two-platform index,
#   the backend an aarch64 / x86-64 ELF, the Go and Node stages run once;
#   amd64 image: docker load + run, /health and /api/health through nginx,
#   healthy, `docker stop` within seconds; arm64 image: docker run --platform
#   linux/arm64 answers /api/health; a rebuild is all CACHED; one frontend
#   source file changed re-runs only the frontend build and its copy.
#
# The store (with the base images) is $OCB_E2E_ROOT (default
# /var/tmp/ocb-e2e), kept between runs so the bases are built once per
# machine; OCB_E2E_FRESH=1 starts from an empty one (the cold case).
# Needs root, network (Debian mirror, npm registry), docker.io, qemu-user.
. "$OCB_SRC/tests/lib.sh"

export OCB_ROOT="${OCB_E2E_ROOT:-/var/tmp/ocb-e2e}"
[ "${OCB_E2E_FRESH:-0}" = 0 ] || rm -rf "$OCB_ROOT"
mkdir -p "$OCB_ROOT"
CA="--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt"
t0=$(date +%s)
lap() { echo "time: $1: $(($(date +%s) - t0))s"; }

"$OCB_SRC/scripts/setup-binfmt" arm64 >/dev/null
OCB="$OCB" "$OCB_SRC/scripts/bootstrap-bases" >"$T/bootstrap.log" 2>&1 || {
	tail -30 "$T/bootstrap.log"
	fail "bootstrap-bases"
}
lap "bootstrap-bases"
for b in golang node nginx; do
	"$OCB" build "$OCB_SRC/examples/bases/$b/recipe.toml" --arch all --progress plain \
		>"$T/base-$b.out" 2>"$T/base-$b.log" &
	eval "pid_$b=\$!"
done
for b in golang node nginx; do
	eval "wait \$pid_$b" || { tail -30 "$T/base-$b.log"; fail "base $b"; }
done
lap "bases golang, node, nginx (--arch all)"

# The example, in a copy (the last check edits it), with a fresh step cache.
cp -a "$OCB_SRC/examples/unified" "$T/unified"
rm -rf "$T/unified/frontend/node_modules" "$T/unified/frontend/dist"
build() { # LOG META [args]
	log=$1 meta=$2; shift 2
	"$OCB" build "$T/unified/recipe.toml" --arch all --cache-dir "$T/cache" $CA --progress plain \
		--metadata-file "$meta" "$@" >"$T/digest" 2>"$log" || { tail -40 "$log"; fail "build unified"; }
}
ms() { echo $(($(date +%s%N) / 1000000)); }
t1=$(ms)
build "$T/cold.log" "$T/cold.json"
cold=$(($(ms) - t1))
lap "unified --arch all, cold step cache (${cold}ms)"

# 1. the index, the backend binaries, the build stages ran once
"$OCB" save dockerverse:unified -o "oci:$T/layout:unified"
idx=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
jq . "$T/layout/blobs/sha256/${idx#sha256:}" >"$T/index.json"
assert_eq "$(jq -r .mediaType "$T/index.json")" application/vnd.oci.image.index.v1+json "an OCI index"
plats=$(jq -r '.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/"+.variant else "" end)"' "$T/index.json" | sort | tr '\n' ' ')
assert_eq "$plats" "linux/amd64 linux/arm64/v8 " "index platforms"
server_of() { # ARCH -> the backend binary, extracted
	m=$(jq -r --arg a "$1" '.manifests[] | select(.platform.architecture == $a) | .digest' "$T/index.json")
	mkdir -p "$T/u-$1"
	for l in $(jq -r '.layers[].digest' "$T/layout/blobs/sha256/${m#sha256:}"); do
		tar -C "$T/u-$1" -xzf "$T/layout/blobs/sha256/${l#sha256:}" app/server 2>/dev/null || true
	done
	echo "$T/u-$1/app/server"
}
file -b "$(server_of arm64)" | grep -q 'ELF 64-bit.*aarch64' || fail "arm64 backend: $(file -b "$T/u-arm64/app/server")"
file -b "$(server_of amd64)" | grep -q 'ELF 64-bit.*x86-64' || fail "amd64 backend: $(file -b "$T/u-amd64/app/server")"
ran() { jq -r --arg s "$2" --argjson i "$3" '[.steps[] | select(.stage == $s and .index == $i and (.cached | not))] | length' "$1"; }
for i in 0 1 2 3; do assert_eq "$(ran "$T/cold.json" backend $i)" 1 "backend step $((i + 1)) ran once"; done
assert_eq "$(ran "$T/cold.json" backend 4)" 2 "go build ran per target (GOARCH=\$TARGETARCH)"
for i in 0 1 2 3; do assert_eq "$(ran "$T/cold.json" frontend $i)" 1 "frontend step $((i + 1)) ran once"; done
pass "1: two-platform index, aarch64 and x86-64 backends, Go and Node stages ran once"

# 2. the amd64 image in docker
start_dockerd
"$OCB" save dockerverse:unified --platform linux/amd64 -o "$T/amd64.tar" --format docker
"$OCB" save dockerverse:unified --platform linux/arm64 -o "$T/arm64.tar" --format docker
docker load -i "$T/amd64.tar" >/dev/null
docker tag dockerverse:unified dv:amd64
run_d() { /usr/bin/docker run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 "$@"; }
run_d --name dv-amd64 dv:amd64 >/dev/null
at_exit "/usr/bin/docker rm -f dv-amd64 dv-arm64 >/dev/null 2>&1"
wait_for() { # SECONDS CONTAINER URL
	i=0
	until docker exec "$2" curl -fsS "$3" >"$T/body" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt "$1" ] || { docker logs "$2" | tail -20; fail "$2: $3 did not answer"; }
		sleep 1
	done
}
wait_for 30 dv-amd64 http://localhost/health
wait_for 10 dv-amd64 http://localhost/api/health
assert_contains "$(cat "$T/body")" "ok" "/api/health through nginx"
i=0
until [ "$(docker inspect dv-amd64 --format '{{.State.Health.Status}}')" = healthy ]; do
	i=$((i + 1)); [ $i -lt 30 ] || fail "not healthy after 30s: $(docker inspect dv-amd64 --format '{{json .State.Health}}')"
	sleep 1
done
healthy_after=$i
s=$(date +%s%N)
docker stop -t 10 dv-amd64 >/dev/null
stop_ms=$((($(date +%s%N) - s) / 1000000))
[ $stop_ms -lt 5000 ] || fail "docker stop took ${stop_ms}ms"
pass "2: amd64 image runs, /health and /api/health, healthy after ~${healthy_after}s, stopped in ${stop_ms}ms"
lap "amd64 in docker"

# 3. the arm64 image under emulation
docker rmi dockerverse:unified >/dev/null
docker load -i "$T/arm64.tar" >/dev/null
run_d --platform linux/arm64 --name dv-arm64 dockerverse:unified >/dev/null
wait_for 90 dv-arm64 http://localhost/api/health
assert_contains "$(cat "$T/body")" "ok" "arm64 /api/health"
assert_eq "$(docker exec dv-arm64 uname -m)" aarch64 "the arm64 container"
pass "3: arm64 image answers /api/health under emulation"
lap "arm64 in docker"

# 4. a rebuild is all CACHED; one frontend file changed re-runs only the
# frontend build and the copy of its output
t1=$(ms)
build "$T/warm.log" "$T/warm.json"
warm=$(($(ms) - t1))
assert_eq "$(jq '[.steps[] | select(.cached | not)] | length' "$T/warm.json")" 0 "rebuild: all cached"
if grep -q ' DONE ' "$T/warm.log"; then fail "rebuild ran a step: $(grep ' DONE ' "$T/warm.log")"; fi
sed -i 's|</h1>|</h1><!-- e2e -->|' "$T/unified/frontend/src/App.svelte"
grep -q 'e2e' "$T/unified/frontend/src/App.svelte" || echo "// e2e" >>"$T/unified/frontend/src/main.js"
t1=$(ms)
build "$T/change.log" "$T/change.json"
change=$(($(ms) - t1))
ranlist=$(jq -r '[.steps[] | select(.cached | not) | "\(.stage)/\(.index)"] | unique | join(" ")' "$T/change.json")
assert_eq "$ranlist" "frontend/2 frontend/3 runtime/2" "only the frontend build and its copy re-ran"
assert_eq "$(grep -c ' DONE ' "$T/change.log")" 4 "plain progress: 2 frontend steps + the copy per platform"
pass "4: rebuild all CACHED (${warm}ms); one frontend change re-runs only the frontend (${change}ms)"
lap "total"
echo "times: unified cold ${cold}ms, fully cached ${warm}ms, frontend change ${change}ms"
