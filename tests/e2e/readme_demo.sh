# The README's first command, scripts/demo, as written: the flagship
# examples/unified for amd64 + arm64, rebuilt all CACHED, the amd64 image run
# in Docker (healthy, /api/info through nginx).  Shares the e2e store
# ($OCB_E2E_ROOT), so it runs after tests/e2e/unified.sh has built the bases.
. "$OCB_SRC/tests/lib.sh"

cd "$OCB_SRC"
OCB_ROOT="${OCB_E2E_ROOT:-/var/tmp/ocb-e2e}" ./scripts/demo >"$T/demo.log" 2>&1 ||
	{ tail -n 40 "$T/demo.log"; fail "scripts/demo failed"; }
grep -q '^health: healthy after' "$T/demo.log" || fail "the image never became healthy"
grep -q '^GET /api/info through nginx: {"version":"1.0.0","os":"linux","arch":"amd64"' "$T/demo.log" ||
	fail "/api/info through nginx"
# The second build of the demo ran nothing.
second=$(sed -n '/^== 3\./,/^== 4\./p' "$T/demo.log")
if echo "$second" | grep -q ' DONE '; then fail "the demo's second build re-ran a step"; fi
assert_contains "$second" "CACHED" "the demo's second build"
[ -s dockerverse-amd64.tar ] && [ -s dockerverse-arm64.tar ] || fail "no docker-archives"
rm -f dockerverse-amd64.tar dockerverse-arm64.tar
pass "README demo (flagship)"
