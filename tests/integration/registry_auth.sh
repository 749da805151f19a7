# Acceptance (issue 6, point 2): push and pull through htpasswd basic auth
# and through a bearer-token registry (distribution's `auth: token` with a
# token server in the tests); ocb login checks and stores credentials in
# Docker's config.json (keeping other entries); a wrong password is a clear
# error with exit 3; logout removes the entry.
. "$OCB_SRC/tests/lib.sh"

export DOCKER_CONFIG="$T/docker-config"
mkdir -p "$DOCKER_CONFIG"
echo '{"auths": {"other.example": {"auth": "eDp5"}}, "psFormat": "table"}' >"$DOCKER_CONFIG/config.json"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" bb:1 >/dev/null

# -- basic auth (htpasswd)
htpasswd -Bbn alice 's3cret pw' >"$T/htpasswd"
start_registry "$T/htpasswd"
expect_exit 3 "$OCB" push bb:1 "$REGISTRY/team/bb:1"
assert_contains "$(cat "$T/stderr")" "authentication required" "push without credentials"
assert_contains "$(cat "$T/stderr")" "$REGISTRY" "the error names the registry"

echo 'wrong' >"$T/wrong"
expect_exit 3 sh -c "'$OCB' login '$REGISTRY' -u alice --password-stdin <'$T/wrong'"
assert_contains "$(cat "$T/stderr")" "credentials were refused" "wrong password"
assert_contains "$(cat "$T/stderr")" "$REGISTRY" "the error names the registry"
grep -q "$REGISTRY" "$DOCKER_CONFIG/config.json" && fail "refused credentials were stored"
if grep -q "wrong" "$T/stderr"; then fail "the password appears in a message"; fi

printf 's3cret pw\n' | "$OCB" login "$REGISTRY" -u alice --password-stdin >/dev/null
auth=$(jq -r ".auths[\"$REGISTRY\"].auth" "$DOCKER_CONFIG/config.json" | base64 -d)
assert_eq "$auth" "alice:s3cret pw" "stored credentials"
assert_eq "$(jq -r '.auths["other.example"].auth' "$DOCKER_CONFIG/config.json")" "eDp5" "other entry kept"
assert_eq "$(jq -r .psFormat "$DOCKER_CONFIG/config.json")" "table" "other setting kept"
assert_eq "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "config.json mode"

"$OCB" push bb:1 "$REGISTRY/team/bb:1" >"$T/push.out" 2>/dev/null
pushed=$(awk '{print $3}' "$T/push.out")
digest=$(skopeo inspect --tls-verify=false --creds 'alice:s3cret pw' "docker://$REGISTRY/team/bb:1" | jq -r .Digest)
assert_eq "$digest" "$pushed" "skopeo with the same credentials sees the push"
# skopeo reads the credentials ocb stored (Docker's format)
digest=$(skopeo inspect --tls-verify=false --authfile "$DOCKER_CONFIG/config.json" "docker://$REGISTRY/team/bb:1" | jq -r .Digest)
assert_eq "$digest" "$pushed" "skopeo reads ocb's config.json"
OCB_ROOT="$T/store2" "$OCB" pull "$REGISTRY/team/bb:1" >"$T/pull.out" 2>/dev/null
assert_contains "$(cat "$T/pull.out")" "$pushed" "pull with basic auth"

"$OCB" logout "$REGISTRY" >/dev/null
jq -e ".auths[\"$REGISTRY\"] == null" "$DOCKER_CONFIG/config.json" >/dev/null || fail "logout kept the entry"
expect_exit 3 env OCB_ROOT="$T/store3" "$OCB" pull "$REGISTRY/team/bb:1"
expect_exit 2 "$OCB" logout "$REGISTRY"
pass "basic auth: login, push, pull, logout, wrong password"

# -- bearer tokens
start_token_registry bob 'tok pw'
expect_exit 3 "$OCB" push bb:1 "$REGISTRY/team/bb:1"
assert_contains "$(cat "$T/stderr")" "authentication required" "anonymous push (a pull-only token)"
assert_contains "$(cat "$T/stderr")" "ocb login" "the error says what to do"
echo nope >"$T/wrong"
expect_exit 3 sh -c "'$OCB' login '$REGISTRY' -u bob --password-stdin <'$T/wrong'"
assert_contains "$(cat "$T/stderr")" "refused the credentials" "wrong token password"
assert_contains "$(cat "$T/stderr")" "UNAUTHORIZED" "the token server's error"

printf 'tok pw\n' | "$OCB" login "$REGISTRY" -u bob --password-stdin >/dev/null
: >"$TOKEN_LOG"
"$OCB" push bb:1 "$REGISTRY/team/bb:1" >"$T/push.out" 2>/dev/null
pushed=$(awk '{print $3}' "$T/push.out")
assert_eq "$(wc -l <"$TOKEN_LOG")" 1 "one token for the whole push (cached per scope)"
assert_contains "$(cat "$TOKEN_LOG")" "repository:team/bb:pull,push auth" "push scope"
OCB_ROOT="$T/store4" "$OCB" pull "$REGISTRY/team/bb:1" >"$T/pull.out" 2>/dev/null
assert_contains "$(cat "$T/pull.out")" "$pushed" "pull with a token"
OCB_ROOT="$T/store4" "$OCB" push "$REGISTRY/team/bb:1" "$REGISTRY/team2/bb:1" 2>"$T/mount.err" >/dev/null
[ "$(grep -c '^mounted' "$T/mount.err")" = 2 ] || fail "token auth: want 2 mounts: $(cat "$T/mount.err")"
assert_contains "$(cat "$TOKEN_LOG")" "repository:team2/bb:pull,push,repository:team/bb:pull" "mount scope"
: >"$TOKEN_LOG"
DOCKER_CONFIG="$T/empty-config" OCB_ROOT="$T/store5" "$OCB" pull "$REGISTRY/team/bb:1" >"$T/pull.out" 2>/dev/null
assert_contains "$(cat "$T/pull.out")" "$pushed" "anonymous pull with a pull-only token"
assert_eq "$(grep -c 'repository:team/bb:pull anonymous' "$TOKEN_LOG")" 1 "one anonymous token"
pass "bearer tokens: login, push, pull, mount, anonymous pull, wrong password"

# -- an identity token (OAuth2 refresh token) in config.json, as `docker login` stores for some registries
jq --arg r "$REGISTRY" '.auths[$r] = {"identitytoken": "refresh-tok pw"}' "$DOCKER_CONFIG/config.json" >"$T/cfg"
mv "$T/cfg" "$DOCKER_CONFIG/config.json"
: >"$TOKEN_LOG"
"$OCB" push bb:1 "$REGISTRY/team/idt:1" >/dev/null 2>&1 || fail "push with an identity token"
assert_eq "$(grep -c '^oauth repository:team/idt:pull,push auth$' "$TOKEN_LOG")" 1 "token from the refresh token (POST)"
assert_eq "$(grep -c '^token ' "$TOKEN_LOG")" 0 "no basic-auth token request with an identity token"
jq --arg r "$REGISTRY" '.auths[$r] = {"identitytoken": "refresh-wrong"}' "$DOCKER_CONFIG/config.json" >"$T/cfg"
mv "$T/cfg" "$DOCKER_CONFIG/config.json"
expect_exit 3 "$OCB" push bb:1 "$REGISTRY/team/idt:1"
assert_contains "$(cat "$T/stderr")" "refused the identity token" "a wrong identity token"
if grep -q "refresh-wrong" "$T/stderr"; then fail "the identity token appears in a message"; fi
pass "identity tokens (OAuth2 refresh) from config.json"
