# Shared helpers for tests/integration/*.sh (POSIX sh).  Source it:
#   . "$OCB_SRC/tests/lib.sh"
# Every test gets a private $T (temp dir) and $OCB_ROOT; cleanup runs at exit.
set -eu

: "${OCB_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${OCB:=$OCB_SRC/ocb}"
T=$(mktemp -d /tmp/ocb-it.XXXXXX)
export OCB_ROOT="$T/store"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
_cleanups=""

at_exit() { _cleanups="$1
$_cleanups"; }
_run_cleanups() {
	rc=$?
	echo "$_cleanups" | while IFS= read -r c; do [ -n "$c" ] && eval "$c" || true; done
	rm -rf "$T" 2>/dev/null || true
	exit $rc
}
trap _run_cleanups EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: '$1' != '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-missing text}: '$2' not in: $1" ;; esac; }
# expect_exit CODE cmd...: run cmd, require exit status CODE, keep stderr in $T/stderr
expect_exit() {
	want=$1; shift
	set +e; "$@" >"$T/stdout" 2>"$T/stderr"; got=$?; set -e
	[ "$got" = "$want" ] || { cat "$T/stderr" >&2; fail "'$*' exited $got, want $want"; }
}

# A busybox root filesystem tree (Debian's busybox-static) at $1, for ARCH $2
# (amd64 default; arm64 downloads busybox-static:arm64 once into a cache).
make_busybox_rootfs() {
	root=$1; arch=${2:-amd64}
	mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
	if [ "$arch" = amd64 ]; then
		cp /bin/busybox "$root/bin/busybox"
	else
		cache=/var/cache/ocb-tests
		[ -x "$cache/busybox-$arch" ] || "$OCB_SRC/scripts/test-setup" >&2
		cp "$cache/busybox-$arch" "$root/bin/busybox"
	fi
	for a in sh ls cat echo id env sleep mkdir rm cp ln wc sed grep head tail true false touch chmod stat find sha256sum; do
		ln -sf busybox "$root/bin/$a"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "app:x:1000:1000:app:/home/app:/bin/sh" >>"$root/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
	chmod 1777 "$root/tmp"
}

# Start a private Docker engine (Debian's docker.io); sets DOCKER_HOST.
start_dockerd() {
	run="$T/docker"; mkdir -p "$run"
	dockerd --iptables=false --ip6tables=false --bridge=none \
		--host "unix://$run/docker.sock" --data-root "$run/data" --exec-root "$run/exec" \
		--pidfile "$run/docker.pid" >"$run/dockerd.log" 2>&1 &
	at_exit "kill \$(cat '$run/docker.pid' 2>/dev/null) 2>/dev/null; sleep 1"
	export DOCKER_HOST="unix://$run/docker.sock"
	i=0
	until /usr/bin/docker version >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 60 ] || { cat "$run/dockerd.log" >&2; fail "dockerd did not start"; }
		sleep 0.5
	done
}
docker() { /usr/bin/docker "$@"; }
docker_run() { /usr/bin/docker run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 "$@"; }

# podman/buildah with the settings this machine needs (cgroupfs, runc, ulimits).
setup_containers_conf() {
	export CONTAINERS_CONF="$T/containers.conf"
	cat >"$CONTAINERS_CONF" <<EOC
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOC
	export CONTAINERS_STORAGE_CONF="$T/storage.conf"
	cat >"$CONTAINERS_STORAGE_CONF" <<EOC
[storage]
driver = "vfs"
runroot = "$T/containers/run"
graphroot = "$T/containers/graph"
EOC
}

# Register qemu-aarch64 with binfmt_misc (F flag) if it is not.
setup_binfmt_arm64() {
	[ -e /proc/sys/fs/binfmt_misc/register ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
		cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
}

# A richer rootfs fixture: busybox plus owners, modes, a hardlink, symlinks,
# an empty dir and a long name, to compare trees after a round trip.
make_fixture_rootfs() {
	root=$1; arch=${2:-amd64}
	make_busybox_rootfs "$root" "$arch"
	mkdir -p "$root/home/app/data" "$root/empty" "$root/opt/a/very/deep/directory/tree/that/makes/the/name/longer/than/one/hundred/characters/for/pax"
	echo "app data" >"$root/home/app/data/file.txt"
	chown -R 1000:1000 "$root/home/app"
	chmod 0700 "$root/home/app/data"
	echo secret >"$root/root/secret"; chmod 0600 "$root/root/secret"
	echo "#!/bin/sh" >"$root/bin/suid-tool"; chmod 4755 "$root/bin/suid-tool"
	ln "$root/home/app/data/file.txt" "$root/home/app/data/hardlink.txt"
	ln -s ../home/app/data/file.txt "$root/opt/rel-link"
	ln -s /bin/busybox "$root/opt/abs-link"
	echo deep >"$root/opt/a/very/deep/directory/tree/that/makes/the/name/longer/than/one/hundred/characters/for/pax/file-with-a-long-name.txt"
	touch -h -d @1600000000 "$root/opt/rel-link"
}

# A listing of a tree that a faithful round trip must reproduce: path, type,
# mode, owner, link target, link count and content hash.
tree_listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %U:%G %n %l\n' | LC_ALL=C sort) >"$2.meta"
	(cd "$1" && find . -mindepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$2.sums"
	cat "$2.meta" "$2.sums" >"$2"
}

# A free TCP port on 127.0.0.1 (the kernel's pick; a race with other
# processes is unlikely and only makes the start fail).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The HTTP status of GET $1 (TLS not verified), 000 when nothing answers.
# python3 rather than curl(1), which the build dependencies do not pull in.
http_status() {
	python3 - "$1" <<'EOP' 2>/dev/null || echo 000
import ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2, context=ctx).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOP
}

# Start Debian's docker-registry (distribution v2.8) on 127.0.0.1, a free
# port; stopped at exit.  Sets REGISTRY (127.0.0.1:PORT) and REGISTRY_LOG (its
# log, with an access-log line per request).  $1: an htpasswd file for basic
# auth; or set REGISTRY_AUTH_YAML to a whole `auth:` section (token auth).
# REGISTRY_TLS_CERT and REGISTRY_TLS_KEY (PEM files) make it serve HTTPS.
_registry_n=0
start_registry() {
	_registry_n=$((_registry_n + 1))
	run="$T/registry$_registry_n"; mkdir -p "$run/data"
	port=$(free_port)
	{
		echo "version: 0.1"
		echo "log: { level: info, accesslog: { disabled: false } }"
		echo "storage: { filesystem: { rootdirectory: $run/data }, delete: { enabled: true } }"
		if [ -n "${REGISTRY_TLS_CERT:-}" ]; then
			echo "http: { addr: 127.0.0.1:$port, secret: ocb-tests, tls: { certificate: $REGISTRY_TLS_CERT, key: $REGISTRY_TLS_KEY } }"
		else
			echo "http: { addr: 127.0.0.1:$port, secret: ocb-tests }"
		fi
		if [ -n "${1:-}" ]; then
			echo "auth: { htpasswd: { realm: ocb-tests, path: $1 } }"
		elif [ -n "${REGISTRY_AUTH_YAML:-}" ]; then
			echo "$REGISTRY_AUTH_YAML"
		fi
	} >"$run/config.yml"
	docker-registry serve "$run/config.yml" >"$run/log" 2>&1 &
	echo $! >"$run/pid"
	at_exit "kill \$(cat '$run/pid') 2>/dev/null"
	REGISTRY="127.0.0.1:$port"
	REGISTRY_LOG="$run/log"
	i=0
	scheme=http; [ -z "${REGISTRY_TLS_CERT:-}" ] || scheme=https
	until http_status "$scheme://$REGISTRY/v2/" | grep -qE '200|401'; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$run/log" >&2; fail "docker-registry did not start"; }
		sleep 0.1
	done
}

# Requests in a registry's access log matching an extended regexp
# ("POST /v2/x/blobs/uploads"); 0 when none.
registry_requests() {
	grep -cE "\"$1" "${2:-$REGISTRY_LOG}" || true
}

# A registry with bearer-token auth: a self-signed signing certificate, the
# token server (tests/registry-token-server.py) on a free port granting USER
# ($1) with PASSWORD ($2) every requested action, and start_registry with
# `auth: token:`.  Sets REGISTRY, REGISTRY_LOG and TOKEN_LOG (a line per
# token request).
start_token_registry() {
	tok="$T/token$_registry_n"; mkdir -p "$tok"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tok/key.pem" -out "$tok/cert.pem" \
		-subj /CN=ocb-test-token -days 2 2>/dev/null
	tport=$(free_port)
	TOKEN_LOG="$tok/log"; : >"$TOKEN_LOG"
	python3 "$OCB_SRC/tests/registry-token-server.py" "$tport" "$tok/key.pem" "$tok/cert.pem" \
		"$1" "$2" "$TOKEN_LOG" >"$tok/server.log" 2>&1 &
	echo $! >"$tok/pid"
	at_exit "kill \$(cat '$tok/pid') 2>/dev/null"
	REGISTRY_AUTH_YAML="auth: { token: { realm: http://127.0.0.1:$tport/token, service: ocb-test-registry, issuer: ocb-test-issuer, rootcertbundle: $tok/cert.pem } }"
	start_registry
	unset REGISTRY_AUTH_YAML
	i=0
	until [ "$(http_status "http://127.0.0.1:$tport/")" != 000 ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$tok/server.log" >&2; fail "token server did not start"; }
		sleep 0.1
	done
	: >"$TOKEN_LOG"
}

# The fault-injecting proxy (tests/registry-proxy.py) in front of registry
# $1, with its second listener on 127.0.0.2.  Sets PROXY (127.0.0.1:PORT),
# PROXY_RULES (write a JSON list of rules there) and PROXY_LOG.
start_registry_proxy() {
	prx="$T/proxy$_registry_n"; mkdir -p "$prx"
	pport=$(free_port); oport=$(free_port)
	PROXY_RULES="$prx/rules.json"; echo '[]' >"$PROXY_RULES"
	PROXY_LOG="$prx/log"; : >"$PROXY_LOG"
	python3 "$OCB_SRC/tests/registry-proxy.py" "$pport" "$1" "$PROXY_RULES" "$PROXY_LOG" "$oport" \
		>"$prx/server.log" 2>&1 &
	echo $! >"$prx/pid"
	at_exit "kill \$(cat '$prx/pid') 2>/dev/null"
	PROXY="127.0.0.1:$pport"
	i=0
	until [ "$(http_status "http://$PROXY/v2/")" != 000 ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$prx/server.log" >&2; fail "registry proxy did not start"; }
		sleep 0.1
	done
	: >"$PROXY_LOG"
}
