# Acceptance (issue 2, point 1): an image imported from a busybox rootfs and
# saved as a docker-archive is loaded by a real `docker load`; `docker run`
# prints what its entrypoint says; `docker inspect` shows the metadata set.
. "$OCB_SRC/tests/lib.sh"

make_fixture_rootfs "$T/rootfs"
tar -C "$T/rootfs" -czf "$T/rootfs.tar.gz" .
"$OCB" import "$T/rootfs.tar.gz" demo:1 \
	--entrypoint '["/bin/echo", "hello from ocb"]' --env GREETING=hi --env PATH=/bin \
	--user 1000:1000 --workdir /home/app --expose 8080/tcp --expose 53/udp \
	--label org.opencontainers.image.title=demo --label com.example.k=v \
	--healthcheck 'CMD-SHELL /bin/true' --health-interval 30s --health-timeout 5s \
	--health-start-period 2s --health-retries 3
"$OCB" images | grep -q 'demo' || fail "ocb images does not list demo"
"$OCB" save demo:1 -o "$T/demo.tar" --format docker

start_dockerd
docker load -i "$T/demo.tar"
out=$(docker_run demo:1)
assert_eq "$out" "hello from ocb" "docker run output"
out=$(docker_run --entrypoint /bin/sh demo:1 -c 'id -u; cat /home/app/data/file.txt; echo $GREETING; pwd')
assert_eq "$out" "1000
app data
hi
/home/app" "user, file, env and workdir in the container"

hc=$(docker inspect demo:1 --format '{{json .Config.Healthcheck}}')
assert_eq "$hc" '{"Test":["CMD-SHELL","/bin/true"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":2000000000,"Retries":3}' "healthcheck"
assert_eq "$(docker inspect demo:1 --format '{{.Config.User}}')" "1000:1000" "user"
assert_contains "$(docker inspect demo:1 --format '{{json .Config.Env}}')" '"GREETING=hi"' "env"
ports=$(docker inspect demo:1 --format '{{json .Config.ExposedPorts}}')
assert_contains "$ports" '"8080/tcp":{}' "exposed ports"
assert_contains "$ports" '"53/udp":{}' "exposed ports"
labels=$(docker inspect demo:1 --format '{{json .Config.Labels}}')
assert_contains "$labels" '"com.example.k":"v"' "labels"
assert_contains "$labels" '"org.opencontainers.image.title":"demo"' "labels"
pass "docker load + run + inspect"
