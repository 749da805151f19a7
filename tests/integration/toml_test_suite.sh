# The public toml-test suite (valid and invalid documents) through
# tests/toml-decoder; see tests/toml-test-run for the comparison rules.
. "$OCB_SRC/tests/lib.sh"

out=$("$OCB_SRC/tests/toml-test-run" --decoder "$OCB_SRC/tests/toml-decoder") || {
	echo "$out"
	fail "toml-test suite"
}
echo "$out" | tail -n 1
assert_contains "$out" " 0 failed"
pass "toml-test suite"
