# Acceptance (issue 6, point 4): a fault-injecting proxy (tests/registry-proxy.py)
# in front of a token-auth registry.  Push and pull survive 5xx, 429 with a
# short Retry-After, connections dropped mid-blob (monolithic and chunked
# uploads, downloads), a 401 mid-push (the token is refreshed) and a
# redirect to another host (which never sees an Authorization header);
# digests are verified; a corrupted blob is refused; a long Retry-After
# gives up at once.
. "$OCB_SRC/tests/lib.sh"

export DOCKER_CONFIG="$T/docker-config"
start_token_registry carol 'c pw'
UPSTREAM=$REGISTRY
start_registry_proxy "$UPSTREAM"
printf 'c pw\n' | "$OCB" login "$PROXY" -u carol --password-stdin >/dev/null

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" bb:1 >/dev/null
echo "another layer" >"$T/rootfs/extra"
tar -C "$T/rootfs" -cf "$T/rootfs2.tar" .
"$OCB" import "$T/rootfs2.tar" bb:2 --compression none >/dev/null

rules() { echo "$1" >"$PROXY_RULES"; }
count() { grep -cE "$1" "$PROXY_LOG" || true; }
upstream_digest() {
	skopeo inspect --tls-verify=false --creds 'carol:c pw' "docker://$UPSTREAM/$1" | jq -r .Digest
}

# -- push: 503 on HEADs, 429 on the upload start, a PUT dropped mid-blob, a 401 on the manifest
rules '[{"id": "a", "method": "HEAD", "path": "/blobs/", "action": "503", "times": 2},
	{"id": "b", "method": "POST", "path": "/blobs/uploads/", "action": "429", "times": 1},
	{"id": "c", "method": "PUT", "path": "/blobs/uploads/", "action": "drop", "times": 1},
	{"id": "d", "method": "PUT", "path": "/manifests/", "action": "401", "times": 1}]'
: >"$TOKEN_LOG"
"$OCB" push bb:1 "$PROXY/team/bb:1" >"$T/push.out" 2>"$T/push.err" || { cat "$T/push.err"; fail "push through faults"; }
pushed=$(awk '{print $3}' "$T/push.out")
assert_eq "$(upstream_digest team/bb:1)" "$pushed" "the registry has what was pushed"
assert_eq "$(count ' 503$')" 2 "503s injected"
assert_eq "$(count ' 429$')" 1 "429 injected"
assert_eq "$(count ' drop$')" 1 "a dropped upload"
assert_eq "$(count 'manifests/1 401$')" 1 "401 injected"
assert_eq "$(count '^PUT .*/manifests/1 ')" 2 "the manifest PUT was retried after the 401"
assert_eq "$(grep -c 'repository:team/bb:pull,push' "$TOKEN_LOG")" 2 "the token was refreshed once"
pass "push through 503, 429, a dropped upload and a 401"

# -- chunked upload: a PATCH dropped mid-chunk resumes from the registry's Range
rules '[{"id": "e", "method": "PATCH", "path": "/blobs/uploads/", "action": "drop", "skip": 2, "times": 1}]'
: >"$PROXY_LOG"
OCB_REGISTRY_CHUNK_THRESHOLD=262144 OCB_REGISTRY_CHUNK_SIZE=131072 \
	"$OCB" push bb:2 "$PROXY/team/chunked:1" >"$T/push2.out" 2>"$T/push2.err" || { cat "$T/push2.err"; fail "chunked push"; }
pushed2=$(awk '{print $3}' "$T/push2.out")
assert_eq "$(upstream_digest team/chunked:1)" "$pushed2" "chunked push digest"
[ "$(count '^PATCH ')" -gt 10 ] || fail "the big layer was not sent in chunks: $(count '^PATCH ') PATCHes"
assert_eq "$(count '^PATCH .* drop$')" 1 "a PATCH was dropped"
[ "$(count '^GET /v2/team/chunked/blobs/uploads/')" -ge 1 ] || fail "no upload status request after the drop"
# the first PATCH of an upload dropped: the registry reports "0-0" (nothing)
rules '[{"id": "e0", "method": "PATCH", "path": "/blobs/uploads/", "action": "drop", "times": 1}]'
: >"$PROXY_LOG"
OCB_REGISTRY_CHUNK_THRESHOLD=262144 OCB_REGISTRY_CHUNK_SIZE=131072 \
	"$OCB" push bb:2 "$PROXY/team/chunked0:1" >"$T/push3.out" 2>"$T/push3.err" || { cat "$T/push3.err"; fail "chunked push, first PATCH dropped"; }
assert_eq "$(upstream_digest team/chunked0:1)" "$pushed2" "chunked push digest (first PATCH dropped)"
assert_eq "$(count '^POST /v2/team/chunked0/blobs/uploads/')" 2 "one upload session per blob, none restarted"
pass "chunked upload resumes after a dropped PATCH"

# -- pull: 503 on the manifest, a blob dropped mid-body (resumed with a Range), 429, 500,
# a redirect to another host
rules '[{"id": "f", "method": "GET", "path": "/manifests/", "action": "503", "times": 1},
	{"id": "g", "method": "GET", "path": "/blobs/sha256:", "action": "drop", "times": 1},
	{"id": "h", "method": "GET", "path": "/blobs/sha256:", "action": "429", "times": 1},
	{"id": "i", "method": "GET", "path": "/blobs/sha256:", "action": "redirect", "times": 1},
	{"id": "j", "method": "GET", "path": "/blobs/sha256:", "action": "500", "times": 1}]'
: >"$PROXY_LOG"
OCB_ROOT="$T/store2" "$OCB" pull "$PROXY/team/bb:1" >"$T/pull.out" 2>"$T/pull.err" || { cat "$T/pull.err"; fail "pull through faults"; }
assert_contains "$(cat "$T/pull.out")" "$pushed" "pulled digest"
OCB_ROOT="$T/store2" "$OCB" save "$PROXY/team/bb:1" -o "oci:$T/pulled:x" >/dev/null
for b in "$T"/pulled/blobs/sha256/*; do
	[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || fail "blob $(basename "$b") does not match its digest"
done
[ "$(count '^OTHER ')" -ge 1 ] || fail "the redirect to another host was not followed"
assert_eq "$(count '^OTHER auth=yes')" 0 "an Authorization header reached the other host"
dropped=$(grep -E ' drop( range=.*)?$' "$PROXY_LOG" | awk '{print $2}')
[ "$(grep -c "^GET $dropped .*range=bytes=[1-9]" "$PROXY_LOG")" -ge 1 ] ||
	fail "the dropped download did not resume with a Range: $(cat "$PROXY_LOG")"
for a in 503 drop 429 redirect 500; do
	assert_eq "$(count " $a( range=.*)?\$")" 1 "fault '$a' injected once"
done
pass "pull through 503, a dropped blob, 429, 500 and a cross-host redirect (no credentials leaked)"

# -- a download dropped mid-blob resumes where it stopped (206 from the registry)
rules '[{"id": "m", "method": "GET", "path": "/blobs/sha256:", "action": "drop", "times": 1}]'
: >"$PROXY_LOG"
OCB_ROOT="$T/store5" "$OCB" pull "$PROXY/team/bb:1" >"$T/pull5.out" 2>"$T/pull5.err" || { cat "$T/pull5.err"; fail "resumed pull"; }
assert_contains "$(cat "$T/pull5.out")" "$pushed" "resumed pull digest"
dropped=$(grep -E ' drop$' "$PROXY_LOG" | awk '{print $2}')
assert_eq "$(grep -cE "^GET $dropped - range=bytes=[1-9][0-9]*-$" "$PROXY_LOG")" 1 "one resumed request, forwarded"
OCB_ROOT="$T/store5" "$OCB" save "$PROXY/team/bb:1" -o "oci:$T/pulled5:x" >/dev/null
for b in "$T"/pulled5/blobs/sha256/*; do
	[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || fail "resumed blob $(basename "$b") is corrupt"
done
# a 206 for other bytes than asked (or unasked) is not trusted: the blob starts over
rules '[{"id": "n", "method": "GET", "path": "/blobs/sha256:", "action": "drop", "times": 1},
	{"id": "o", "method": "GET", "path": "/blobs/sha256:", "action": "badrange", "times": 1}]'
: >"$PROXY_LOG"
OCB_ROOT="$T/store6" "$OCB" pull "$PROXY/team/bb:1" >"$T/pull6.out" 2>"$T/pull6.err" || { cat "$T/pull6.err"; fail "pull past a mislabelled 206"; }
assert_contains "$(cat "$T/pull6.out")" "$pushed" "pull past a mislabelled 206"
assert_eq "$(count ' badrange( range=.*)?$')" 1 "a mislabelled 206 was served"
pass "a dropped download resumes with a Range; a mislabelled 206 restarts the blob"

# -- a corrupted blob is refused and not stored
rules '[{"id": "k", "method": "GET", "path": "/blobs/sha256:", "action": "corrupt", "times": 100}]'
expect_exit 2 env OCB_ROOT="$T/store3" "$OCB" pull "$PROXY/team/bb:1"
assert_contains "$(cat "$T/stderr")" "content has digest" "corruption is reported as a digest mismatch (OCB_EDIGEST)"
assert_contains "$(cat "$T/stderr")" "team/bb" "the error names the repository"
n=$(find "$T/store3/blobs/sha256" -type f 2>/dev/null | wc -l)
[ "$n" -le 1 ] || fail "corrupted pull left $n blobs in the store"
if OCB_ROOT="$T/store3" "$OCB" inspect "$PROXY/team/bb:1" >/dev/null 2>&1; then fail "a corrupted image was named"; fi
pass "a corrupted blob is refused"

# -- a long Retry-After gives up at once
rules '[{"id": "l", "method": "GET", "path": "/manifests/", "action": "429long", "times": 100}]'
start=$(date +%s)
expect_exit 1 env OCB_ROOT="$T/store4" "$OCB" pull "$PROXY/team/bb:1"
[ $(($(date +%s) - start)) -lt 10 ] || fail "a 120 s Retry-After was waited for"
assert_contains "$(cat "$T/stderr")" "HTTP 429" "the 429 is reported"
assert_eq "$(count 'manifests/1 429long$')" 1 "no retry after a long Retry-After"
pass "a long Retry-After gives up at once"
