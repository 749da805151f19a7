# examples/stack end to end, run by `make e2e`: a Next.js UI, a Go API and
# a Go engine, each with a production and a development target.
#
#   1. the production targets build with a fresh step cache: engine for
#      --arch all (an index with an aarch64 and an x86-64 binary, the Go
#      tests run once and `go build` once per platform), api and ui for
#      amd64, the api build reusing the engine's stages;
#   2. in Docker, on a user-defined network, the three become healthy, run
#      as uid 10001, and the UI's page holds the engine's ranking, through
#      the API, naming both instances;
#   3. the dev targets, built from the same source stages: api-dev (`go
#      run`) answers with the production engine's data, ui-dev (`next dev`)
#      with the production API's;
#   4. each container stops on `docker stop` in well under its grace period
#      (the Go services shut down cleanly; the UI under tini), and with the
#      engine gone the UI's page says so (it is rendered per request);
#   5. rebuilding every target is all CACHED, with the same digests.
#
# The store (with the base images) is $OCB_E2E_ROOT (default
# /var/tmp/ocb-e2e), as for tests/e2e/unified.sh.  Needs root, network
# (Debian mirror, npm registry), docker.io.
. "$OCB_SRC/tests/lib.sh"

export OCB_ROOT="${OCB_E2E_ROOT:-/var/tmp/ocb-e2e}"
mkdir -p "$OCB_ROOT"
CA="--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt"
t0=$(date +%s)
lap() { echo "time: $1: $(($(date +%s) - t0))s"; }

"$OCB" inspect debian:bookworm >/dev/null 2>&1 ||
	OCB="$OCB" "$OCB_SRC/scripts/bootstrap-bases" >"$T/bootstrap.log" 2>&1 || { tail -30 "$T/bootstrap.log"; fail "bootstrap-bases"; }
for b in golang node; do
	"$OCB" inspect "$b:bookworm" >/dev/null 2>&1 && continue
	"$OCB_SRC/scripts/setup-binfmt" arm64 >/dev/null
	"$OCB" build "$OCB_SRC/examples/bases/$b/recipe.toml" --arch all --progress plain \
		>/dev/null 2>"$T/base-$b.log" || { tail -30 "$T/base-$b.log"; fail "base $b"; }
done
lap "bases"

# 1. the production targets (and, later, the dev targets), with a fresh step cache
build() { # NAME TARGET [args]: $T/NAME.json and .log
	name=$1 target=$2; shift 2
	"$OCB" build "$OCB_SRC/examples/stack/recipe.toml" --target "$target" --cache-dir "$T/cache" \
		--progress plain --metadata-file "$T/$name.json" "$@" >/dev/null 2>"$T/$name.log" ||
		{ tail -40 "$T/$name.log"; fail "build $name"; }
}
ran() { # METADATA STAGE INDEX: how many times the step ran (was not cached)
	jq -r --arg s "$2" --argjson i "$3" '[.steps[] | select(.stage == $s and .index == $i and (.cached | not))] | length' "$1"
}
ran_list() { jq -r '[.steps[] | select(.cached | not) | "\(.stage)/\(.index)"] | unique | join(" ")' "$1"; }
build ui ui -t stack/ui:1.0.0 $CA &
ui_pid=$!
build engine engine -t stack/engine:1.0.0 --arch all
build api api -t stack/api:1.0.0
wait $ui_pid || fail "build ui"
lap "engine (--arch all), api and ui, fresh step cache"

assert_eq "$(jq -r .media_type "$T/engine.json")" application/vnd.oci.image.index.v1+json "engine: an index"
assert_eq "$(jq -r '[.platforms[].platform] | sort | join(" ")' "$T/engine.json")" "linux/amd64 linux/arm64/v8" "engine platforms"
assert_eq "$(ran "$T/engine.json" go-src 5)" 1 "go vet + go test ran once for two platforms"
assert_eq "$(ran "$T/engine.json" go-build 0)" 2 "go build ran per platform (GOARCH=\$TARGETARCH)"
assert_eq "$(ran_list "$T/api.json")" "api/0" "api: only its own copy ran, the Go stages came from the engine's build"
assert_eq "$(jq -r .platform "$T/ui.json")" linux/amd64 "ui: amd64"
assert_eq "$(ran "$T/ui.json" ui-build 0)" 1 "ui: next build ran"
pass "1: engine index (amd64 + arm64), api reusing the engine's Go stages, ui"

# 2. the stack in Docker
start_dockerd
"$OCB" save stack/engine:1.0.0 --platform linux/arm64 -o "$T/engine-arm64.tar" --format docker
docker load -i "$T/engine-arm64.tar" >/dev/null
docker tag stack/engine:1.0.0 stack/engine:arm64
for s in engine api ui; do
	"$OCB" save "stack/$s:1.0.0" --platform linux/amd64 -o "$T/$s.tar" --format docker
	docker load -i "$T/$s.tar" >/dev/null
done
docker create --platform linux/arm64 --name stack-engine-arm64 stack/engine:arm64 >/dev/null
at_exit "/usr/bin/docker rm -f stack-engine-arm64 stack-engine stack-api stack-ui stack-api-dev stack-ui-dev >/dev/null 2>&1; /usr/bin/docker network rm stack >/dev/null 2>&1"
docker cp stack-engine-arm64:/usr/local/bin/engine "$T/engine-arm64"
file -b "$T/engine-arm64" | grep -q 'ELF 64-bit.*aarch64.*statically linked' || fail "arm64 engine: $(file -b "$T/engine-arm64")"
docker network create stack >/dev/null
run_d() { /usr/bin/docker run -d --network stack --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 "$@" >/dev/null; }
run_d --name stack-engine stack/engine:1.0.0
run_d --name stack-api -e ENGINE_URL=http://stack-engine:9090 stack/api:1.0.0
run_d --name stack-ui -e API_URL=http://stack-api:8080 stack/ui:1.0.0
for c in stack-engine stack-api stack-ui; do
	i=0
	until [ "$(docker inspect "$c" --format '{{.State.Health.Status}}')" = healthy ]; do
		i=$((i + 1))
		[ $i -lt 60 ] || { docker logs "$c" 2>&1 | tail -20; fail "$c: not healthy: $(docker inspect "$c" --format '{{json .State.Health}}')"; }
		sleep 1
	done
	assert_eq "$(docker inspect "$c" --format '{{.Config.User}}')" 10001:10001 "$c: image user"
	uids=$(docker top "$c" -eo uid,pid | awk 'NR > 1 { print $1 }' | sort -u | tr '\n' ' ')
	assert_eq "$uids" "10001 " "$c: the uid of every process"
done
lap "the stack healthy"
addr() { docker inspect "$1" --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'; }
fetch() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' "$1"; }
http_get() { fetch "$1" || fail "GET $1"; }
host() { docker inspect "$1" --format '{{.Config.Hostname}}'; }
page=$(http_get "http://$(addr stack-ui):3000/")
assert_contains "$page" "ranked by engine <code>$(host stack-engine)</code>" "the page names the engine container"
assert_contains "$page" "served by api <code>$(host stack-api)</code>" "the page names the api container"
# The catalog lists multi-arch first; the engine's Wilson bound puts
# cache-mounts (268 up, 9 down) first, at 0.9394.
assert_contains "$page" '<tr id="feature-cache-mounts"><td>1</td><td>Cache mounts</td><td>268</td><td>9</td><td>0.9394</td></tr>' "the engine's ranking on the page"
assert_contains "$(http_get "http://$(addr stack-ui):3000/api/health")" '"status":"ok"' "ui /api/health"
pass "2: three healthy containers as uid 10001; the page shows the engine's ranking through the API"

# 3. the dev targets against the production services: api-dev (the Go
# toolchain and source, `go run ./api`), ui-dev (node_modules and source,
# `next dev`, which compiles the page on the first request)
build api-dev api-dev -t stack/api:dev
build ui-dev ui-dev -t stack/ui:dev $CA
build engine-dev engine-dev -t stack/engine:dev
assert_eq "$(ran_list "$T/engine-dev.json")" "" "engine-dev: all cached (its one step is api-dev's)"
assert_eq "$(ran_list "$T/api-dev.json")" "api-dev/0" "api-dev: only its own step ran (the Go source stage is shared)"
assert_eq "$(ran_list "$T/ui-dev.json")" "ui-dev/0" "ui-dev: only its own step ran (the UI source stage is shared)"
for s in api ui; do
	"$OCB" save "stack/$s:dev" -o "$T/$s-dev.tar" --format docker
	docker load -i "$T/$s-dev.tar" >/dev/null
	rm "$T/$s-dev.tar"
done
run_d --name stack-ui-dev -e API_URL=http://stack-api:8080 stack/ui:dev
run_d --name stack-api-dev -e ENGINE_URL=http://stack-engine:9090 stack/api:dev
wait_page() { # SECONDS CONTAINER URL TEXT: until GET URL holds TEXT
	i=0
	until fetch "$3" 2>/dev/null | grep -qF "$4"; do
		i=$((i + 1))
		[ $i -lt "$1" ] || { docker logs "$2" 2>&1 | tail -20; fail "$2: $3 did not answer with $4 in $1 s"; }
		sleep 1
	done
}
t1=$(date +%s)
wait_page 120 stack-api-dev "http://$(addr stack-api-dev):8080/api/features" "\"engine\":\"$(host stack-engine)\""
api_dev=$(($(date +%s) - t1))
wait_page 180 stack-ui-dev "http://$(addr stack-ui-dev):3000/" "served by api <code>$(host stack-api)</code>"
pass "3: api-dev (go run) answered with the engine's data in ~${api_dev}s, ui-dev (next dev) with the API's in ~$(($(date +%s) - t1))s"
lap "dev targets"

# 4. docker stop (SIGTERM): fast, not killed
stop() { # CONTAINER: stop it, fail past 5 s or when it had to be killed
	s=$(date +%s%N)
	docker stop -t 10 "$1" >/dev/null
	ms=$((($(date +%s%N) - s) / 1000000))
	[ $ms -lt 5000 ] || fail "$1: docker stop took ${ms}ms"
	code=$(docker inspect "$1" --format '{{.State.ExitCode}}')
	[ "$code" != 137 ] || fail "$1: killed (exit 137)"
	echo "$1 ${ms}ms exit $code"
}
stops="$(stop stack-engine)"
assert_contains "$(docker logs stack-engine 2>&1)" "engine: stopped" "the engine shut down cleanly"
page=$(http_get "http://$(addr stack-ui):3000/")
assert_contains "$page" '<p id="error">API unavailable: <!-- -->http://stack-api:8080: 502 ' "with the engine gone, the page says so"
for c in stack-api stack-ui stack-api-dev stack-ui-dev; do stops="$stops, $(stop "$c")"; done
assert_contains "$(docker logs stack-api 2>&1)" "api: stopped" "the api shut down cleanly"
drain="engine $(docker logs stack-engine 2>&1 | grep -o 'stopped (.*'), api $(docker logs stack-api 2>&1 | grep -o 'stopped (.*')"
pass "4: docker stop: $stops; $drain"

# 5. everything again: all cached, the same images
for n in engine api ui api-dev ui-dev; do cp "$T/$n.json" "$T/$n.first.json"; done
t1=$(date +%s%N)
build engine engine -t stack/engine:1.0.0 --arch all
build api api -t stack/api:1.0.0
build ui ui -t stack/ui:1.0.0 $CA
build api-dev api-dev -t stack/api:dev
build ui-dev ui-dev -t stack/ui:dev $CA
warm=$((($(date +%s%N) - t1) / 1000000))
for n in engine api ui api-dev ui-dev; do
	assert_eq "$(ran_list "$T/$n.json")" "" "$n rebuild: all cached"
	assert_eq "$(jq -r .image_digest "$T/$n.json")" "$(jq -r .image_digest "$T/$n.first.json")" "$n rebuild: the same image"
done
pass "5: the five rebuilds are all CACHED (${warm}ms)"
lap "total"
