# TLS: a registry serving HTTPS with a self-signed certificate is refused by
# default (no plain-HTTP fallback can rescue it), trusted through a
# certs.d/HOST/ca.crt, and reachable with --tls-verify=false or when listed
# in OCB_INSECURE_REGISTRIES.
. "$OCB_SRC/tests/lib.sh"

export DOCKER_CONFIG="$T/docker-config"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext "subjectAltName = IP:127.0.0.1" 2>/dev/null
REGISTRY_TLS_CERT="$T/cert.pem" REGISTRY_TLS_KEY="$T/key.pem" start_registry

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" bb:1 >/dev/null

expect_exit 3 "$OCB" push bb:1 "$REGISTRY/tls/bb:1"
assert_contains "$(cat "$T/stderr")" "certificate" "an untrusted certificate is refused"
pass "an untrusted certificate is refused"

mkdir -p "$T/certs/$REGISTRY"
cp "$T/cert.pem" "$T/certs/$REGISTRY/ca.crt"
OCB_CERTS_DIR="$T/certs" "$OCB" push bb:1 "$REGISTRY/tls/bb:1" >"$T/push.out" 2>/dev/null
pushed=$(awk '{print $3}' "$T/push.out")
digest=$(skopeo inspect --cert-dir "$T/certs/$REGISTRY" "docker://$REGISTRY/tls/bb:1" | jq -r .Digest)
assert_eq "$digest" "$pushed" "pushed over verified TLS"
[ "$(registry_requests "PUT /v2/tls/bb/manifests/1")" = 1 ] || fail "the push did not reach the TLS registry"
pass "certs.d/HOST/ca.crt is trusted"

OCB_ROOT="$T/store2" "$OCB" pull --tls-verify=false "$REGISTRY/tls/bb:1" >"$T/pull.out" 2>/dev/null
assert_contains "$(cat "$T/pull.out")" "$pushed" "pull with --tls-verify=false"
OCB_INSECURE_REGISTRIES="other.example:1,$REGISTRY" OCB_ROOT="$T/store3" \
	"$OCB" pull "$REGISTRY/tls/bb:1" >"$T/pull.out" 2>/dev/null
assert_contains "$(cat "$T/pull.out")" "$pushed" "pull from a registry marked insecure"
expect_exit 3 env OCB_INSECURE_REGISTRIES="$REGISTRY.x,other" OCB_ROOT="$T/store4" "$OCB" pull "$REGISTRY/tls/bb:1"
pass "--tls-verify=false and OCB_INSECURE_REGISTRIES"
