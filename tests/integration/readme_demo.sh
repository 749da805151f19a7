# The README's first command in its quick form, scripts/demo --quick: it builds
# examples/hello, rebuilds it all CACHED, and the image runs in Docker.
. "$OCB_SRC/tests/lib.sh"

cd "$OCB_SRC"
OCB_ROOT= ./scripts/demo --quick >"$T/demo.log" 2>&1 || { tail -n 30 "$T/demo.log"; fail "scripts/demo failed"; }
grep -q '^hello, world$' "$T/demo.log" || fail "the demo image did not run"
grep -q '^running as app$' "$T/demo.log" || fail "the demo image's user"
# The second build of the demo is all CACHED: no step of it ran.
second=$(sed -n '/^== 3/,/^== 4/p' "$T/demo.log")
assert_contains "$second" "CACHED" "second build"
if echo "$second" | grep -q ' DONE '; then fail "the second build re-ran a step"; fi
[ -s demo-docker.tar ] || fail "no demo-docker.tar"
rm -f demo-docker.tar
pass "README demo"
