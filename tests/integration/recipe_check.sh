#!/bin/sh
# `ocb check`: good recipes pass and print their graph; each bad recipe gets
# exactly one error at the exact file:line:col, and exit code 2.
. "$OCB_SRC/tests/lib.sh"

F=tests/fixtures/recipes
cd "$OCB_SRC"

# bad recipe | expected error line on stderr
while IFS="|" read -r name expected; do
	[ -n "$name" ] || continue
	expect_exit 2 "$OCB" check "$F/$name"
	got=$(cat "$T/stderr")
	assert_eq "$got" "ocb: error: $F/$name:$expected" "$name"
	[ ! -s "$T/stdout" ] || fail "$name: printed a graph for a bad recipe"
	pass "$name"
done <<'EOT'
bad-version.toml|1:11: unsupported recipe version 2 (this ocb reads version 1)
bad-unknown-key.toml|5:1: unknown key 'entrypont' in [stages.runtime] (did you mean 'entrypoint'?)
bad-type.toml|5:10: 'expose' must be an array of strings, got integer
bad-copy-from-stage.toml|9:31: copy 'from': unknown stage 'biuld' (did you mean 'build'? stages: build, runtime)
bad-from-stage.toml|7:8: 'from': unknown stage 'backnd' (did you mean 'backend'? write 'backnd:latest' for an image)
bad-cycle.toml|8:8: stage cycle: a -> b -> a
bad-target.toml|5:10: target: unknown stage 'prod' (stages: build)
bad-duration.toml|5:52: 'interval': invalid duration '30 seconds': unknown unit (use e.g. "30s", "1m30s", "500ms")
bad-signal.toml|5:15: invalid signal 'SIGSTOPP' (use a name like "SIGTERM" or a number 1-64)
bad-port.toml|5:21: invalid port '70000': expected a port number 1-65535 (use e.g. "80", "80/tcp", "53/udp", "8000-8010/tcp")
bad-context-escape.toml|7:17: copy source '../secrets/id_rsa' is outside the build context
bad-missing-from.toml|3:1: stage 'app' has no 'from' (use from = "scratch" for an empty base)
bad-toml-syntax.toml|5:1: duplicate key "from" in table [stages.app]
bad-platform.toml|4:29: invalid platform 'linux/arm65': unknown architecture (use e.g. "linux/amd64", "linux/arm64")
bad-variable.toml|7:8: 'from': bad variable reference in '${BASE:latest': unsupported modifier (use :-, -, :+, +, :? or ?)
bad-step-kind.toml|6:19: a step is either 'run' or 'copy', not both
EOT

# Every bad fixture is covered above.
for f in "$F"/bad-*.toml; do
	grep -q "^$(basename "$f")|" "$0" || fail "$(basename "$f") has no expectation in $0"
done

# Good fixtures and every example recipe pass, as text and as JSON.
for f in "$F"/good-*.toml examples/*/recipe.toml examples/*/*/recipe.toml; do
	[ -e "$f" ] || continue
	expect_exit 0 "$OCB" check "$f"
	grep -q '^  wave 1:' "$T/stdout" || fail "$f: no wave in the output"
	expect_exit 0 "$OCB" check --format json --arch all "$f"
	jq -e '.platforms | length == 2' "$T/stdout" >/dev/null || fail "$f: --arch all is not two platforms"
	pass "$f"
done

# The flagship recipe's graph: two build stages in parallel, then the runtime.
expect_exit 0 "$OCB" check examples/unified/recipe.toml
grep -qx '  wave 1: backend, frontend' "$T/stdout" || fail "unified: wave 1"
grep -qx '  wave 2: runtime' "$T/stdout" || fail "unified: wave 2"
grep -q '^platform linux/amd64 ' "$T/stdout" || fail "unified: [image].platforms not used"
grep -q '^platform linux/arm64 ' "$T/stdout" || fail "unified: [image].platforms not used"
expect_exit 0 "$OCB" check --format json --platform linux/arm64 examples/unified/recipe.toml
assert_eq "$(jq -c '.platforms[0].waves' "$T/stdout")" '[["backend","frontend"],["runtime"]]' "unified waves"
assert_eq "$(jq -r '.platforms[0].stages[0].platform' "$T/stdout")" "linux/amd64" "build stage platform"
assert_eq "$(jq -r '.platforms[0].stages[2].platform' "$T/stdout")" "linux/arm64" "runtime platform"
assert_eq "$(jq -r '.platforms[0].stages[2].entrypoint[0]' "$T/stdout")" "/usr/bin/s6-svscan" "runtime entrypoint"
assert_eq "$(jq -r '.platforms[0].stages[2].healthcheck.interval' "$T/stdout")" "10s" "healthcheck interval"
pass "unified graph"

# --target, --build-arg (and its warning), unused stages.
expect_exit 0 "$OCB" check --target base --build-arg BASE=alpine:3 --build-arg NOPE=1 "$F/good-table-steps.toml"
grep -qx '  wave 1: base' "$T/stdout" || fail "--target base"
grep -q 'from: alpine:3 (image)' "$T/stdout" || fail "--build-arg not applied"
assert_eq "$(cat "$T/stderr")" "ocb: warning: build-arg 'NOPE' is not declared in [args] and is ignored" "warning"
expect_exit 0 "$OCB" check "$F/good-table-steps.toml"
grep -qx '  not built: unused' "$T/stdout" || fail "unused stage listed"
BASE=debian:12 expect_exit 0 "$OCB" check --build-arg BASE "$F/good-table-steps.toml"
grep -q 'from: debian:12 (image)' "$T/stdout" || fail "--build-arg KEY from the environment"
pass "options"

# The context's ignore file is checked: default the recipe's directory, or --context.
expect_exit 0 "$OCB" check examples/unified/recipe.toml
grep -qx 'context: examples/unified (.ocbignore: 8 patterns)' "$T/stdout" || fail "unified: .ocbignore not read"
mkdir "$T/ctx"
printf 'ok\n[bad\n' >"$T/ctx/.dockerignore"
expect_exit 2 "$OCB" check --context "$T/ctx" "$F/good-minimal.toml"
assert_eq "$(cat "$T/stderr")" "ocb: error: $T/ctx/.dockerignore:2: invalid pattern '[bad'" "bad ignore file"
printf '# only this\n*.tmp\n' >"$T/ctx/.ocbignore"
expect_exit 0 "$OCB" check --format json --context "$T/ctx" "$F/good-minimal.toml"
assert_eq "$(jq -c .context "$T/stdout")" "{\"dir\":\"$T/ctx\",\"ignore_file\":\".ocbignore\",\"ignore_patterns\":1}" "context json"
expect_exit 2 "$OCB" check --context "$T/nope" "$F/good-minimal.toml"
pass "context"

# Usage errors exit 2.
expect_exit 2 "$OCB" check --target nope "$F/good-minimal.toml"
assert_eq "$(cat "$T/stderr")" "ocb: error: target: unknown stage 'nope' (stages: only)"
expect_exit 2 "$OCB" check --arch sparc "$F/good-minimal.toml"
expect_exit 2 "$OCB" check --arch all --platform linux/amd64 "$F/good-minimal.toml"
expect_exit 2 "$OCB" check --format yaml "$F/good-minimal.toml"
expect_exit 2 "$OCB" check "$F/good-minimal.toml" "$F/good-minimal.toml"
expect_exit 2 "$OCB" check "$T/missing.toml"
expect_exit 0 "$OCB" check --help
pass "usage errors"

# Without an argument, ./recipe.toml is checked.
(cd examples/hello && expect_exit 0 "$OCB" check) || exit 1
pass "default recipe.toml"
