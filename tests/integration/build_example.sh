# Acceptance 1-3 of issue 4 on examples/hello (two build stages and a
# runtime stage over a busybox base):
#  1. the docker-archive output loads in a real Docker; `docker run` shows the
#     artifact, the deleted file gone, the user in effect; `docker inspect`
#     shows the metadata;
#  2. a rebuild reports every step CACHED, runs no command (the steps append
#     to a file in a cache mount: its line count does not change) and gives
#     the same digest;
#  3. changing one context file re-runs exactly that copy, the steps after it
#     in its stage and the copy of the stage that copies from it.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
cp -r "$OCB_SRC/examples/hello" "$T/hello"
recipe="$T/hello/recipe.toml"

"$OCB" build "$recipe" --progress plain -o "docker-archive:$T/hello.tar" --metadata-file "$T/m1.json" \
	>"$T/d1" 2>"$T/log1" || { cat "$T/log1"; fail "first build"; }
d1=$(cat "$T/d1")
[ "$(jq '[.steps[] | select(.cached)] | length' "$T/m1.json")" = 0 ] || fail "cold build had cache hits"
runs() { cat $(find "$OCB_ROOT/cache/mounts" -name runs) | wc -l; }
assert_eq "$(runs)" 2 "each build stage's counting step ran once"

start_dockerd
docker load -i "$T/hello.tar" >/dev/null
out=$(docker_run hello:1.0)
assert_contains "$out" "hello, world" "the artifact's context file"
assert_contains "$out" "hello from ocb (amd64)" "the build stage's output"
assert_contains "$out" "assets from the context" "the second build stage's artifact"
assert_contains "$out" "version 1.0" "the second build stage's run step"
assert_contains "$out" "running as app" "the stage user"
out=$(docker_run --entrypoint /bin/sh hello:1.0 -c 'cat /etc/motd; grep -c hello /etc/group; ls /bin/wc 2>&1 || true; id -u; pwd; echo $GREETING')
assert_eq "$out" "welcome to hello
1
ls: /bin/wc: No such file or directory
1000
/app
hello from ocb" "created, changed and deleted base files; user, workdir, env"
hc=$(docker inspect hello:1.0 --format '{{json .Config.Healthcheck}}')
assert_eq "$hc" '{"Test":["CMD","/bin/true"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":2000000000,"Retries":3}' "healthcheck"
assert_eq "$(docker inspect hello:1.0 --format '{{.Config.User}}')" "app" "user"
assert_eq "$(docker inspect hello:1.0 --format '{{json .Config.Entrypoint}}')" '["/app/hello"]' "entrypoint"
assert_contains "$(docker inspect hello:1.0 --format '{{json .Config.ExposedPorts}}')" '"8080/tcp":{}' "expose"
assert_contains "$(docker inspect hello:1.0 --format '{{json .Config.Env}}')" '"GREETING=hello from ocb"' "env"
assert_contains "$(docker inspect hello:1.0 --format '{{json .Config.Labels}}')" '"org.opencontainers.image.version":"1.0"' "labels"
assert_eq "$(docker inspect hello:1.0 --format '{{.Config.StopSignal}}')" "SIGTERM" "stop signal"
hist=$(docker history --no-trunc --format '{{.CreatedBy}}' hello:1.0)
assert_contains "$hist" "COPY --from=assets /assets/ /app/assets/" "history names the copy"
assert_contains "$hist" "RUN /bin/sh -c echo 'welcome to hello'" "history names the run"
pass "acceptance 1: docker load, run, inspect"

"$OCB" build "$recipe" --progress plain --metadata-file "$T/m2.json" >"$T/d2" 2>"$T/log2" ||
	{ cat "$T/log2"; fail "rebuild"; }
assert_eq "$(cat "$T/d2")" "$d1" "rebuild digest"
assert_eq "$(jq '[.steps[] | select(.cached | not)] | length' "$T/m2.json")" 0 "steps not cached in the rebuild"
assert_eq "$(grep -c 'CACHED' "$T/log2")" "$(jq '.steps | length' "$T/m2.json")" "CACHED lines"
assert_eq "$(runs)" 2 "no command re-ran"
pass "acceptance 2: fully cached rebuild, same digest"

echo "changed assets" >"$T/hello/assets/motd.txt"
"$OCB" build "$recipe" --progress plain --metadata-file "$T/m3.json" >"$T/d3" 2>"$T/log3" ||
	{ cat "$T/log3"; fail "rebuild after a change"; }
rerun=$(jq -r '[.steps[] | select(.cached | not) | "\(.stage)/\(.index)"] | sort | join(" ")' "$T/m3.json")
assert_eq "$rerun" "assets/0 assets/1 runtime/2" "steps re-run after changing assets/motd.txt"
[ "$(cat "$T/d3")" != "$d1" ] || fail "a changed context file gave the same image"
assert_eq "$(runs)" 3 "only the assets stage's counting step ran again"
pass "acceptance 3: one context change re-runs exactly what depends on it"
