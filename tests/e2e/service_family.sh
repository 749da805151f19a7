# A base-image hierarchy (issue 5, acceptance 6): examples/service-family/base
# (Debian, the shared group `family` and user `svc` with ids 9999, a venv, an
# entrypoint writing the service's config from SERVICE_* variables) and two
# services built `from` it (web: nginx; api: Python in the venv); both run in
# Docker as uid 9999 and become healthy.
# The store is $OCB_E2E_ROOT (default /var/tmp/ocb-e2e); debian:bookworm is
# made by scripts/bootstrap-bases when it is not there.
. "$OCB_SRC/tests/lib.sh"

export OCB_ROOT="${OCB_E2E_ROOT:-/var/tmp/ocb-e2e}"
mkdir -p "$OCB_ROOT"
"$OCB" inspect debian:bookworm >/dev/null 2>&1 ||
	OCB="$OCB" "$OCB_SRC/scripts/bootstrap-bases" >"$T/bootstrap.log" 2>&1 || { tail -30 "$T/bootstrap.log"; fail "bootstrap-bases"; }
t0=$(date +%s)
for r in base web api; do
	"$OCB" build "$OCB_SRC/examples/service-family/$r/recipe.toml" --progress plain \
		>/dev/null 2>"$T/$r.log" || { tail -30 "$T/$r.log"; fail "build $r"; }
done
echo "time: the family built in $(($(date +%s) - t0))s"

start_dockerd
for s in web api; do
	"$OCB" save "family/$s:1" -o "$T/$s.tar"
	docker load -i "$T/$s.tar" >/dev/null
	/usr/bin/docker run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 \
		--name "sf-$s" "family/$s:1" >/dev/null
done
at_exit "/usr/bin/docker rm -f sf-web sf-api >/dev/null 2>&1"
for s in web api; do
	i=0
	until [ "$(docker inspect "sf-$s" --format '{{.State.Health.Status}}')" = healthy ]; do
		i=$((i + 1))
		[ $i -lt 40 ] || { docker logs "sf-$s" 2>&1 | tail -20; fail "$s: not healthy: $(docker inspect "sf-$s" --format '{{json .State.Health}}')"; }
		sleep 1
	done
	assert_eq "$(docker exec "sf-$s" id -u):$(docker exec "sf-$s" id -g)" "9999:9999" "$s runs as the service user"
	assert_eq "$(docker exec "sf-$s" id -un):$(docker exec "sf-$s" id -gn)" "svc:family" "$s user and group names"
	assert_contains "$(docker exec "sf-$s" cat /etc/family/service.env)" "SERVICE_NAME=$s" \
		"$s: the entrypoint wrote its config from the environment"
	pass "$s: healthy within $i s, uid 9999"
done
assert_eq "$(docker exec sf-web curl -fsS http://127.0.0.1:8080/healthz)" "ok" "web /healthz"
assert_contains "$(docker exec sf-api curl -fsS http://127.0.0.1:8000/whoami)" "9999" "api /whoami"
pass "the family: web (nginx) and api (python venv) from one base"
