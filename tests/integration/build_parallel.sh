# Acceptance 4 of issue 4: two stages without dependencies between them run at
# the same time.  Each sleeps a second; the JSON progress events (start and
# done, with times) of the two steps must overlap.
. "$OCB_SRC/tests/lib.sh"

make_busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" busybox:latest >/dev/null
cat >"$T/recipe.toml" <<'R'
version = 1
[stages.left]
from = "busybox:latest"
steps = [ { run = "sleep 1; echo left > /left" } ]
[stages.right]
from = "busybox:latest"
steps = [ { run = "sleep 1; echo right > /right" } ]
[stages.final]
from = "busybox:latest"
steps = [
  { copy = ["/left"], from = "left", to = "/" },
  { copy = ["/right"], from = "right", to = "/" },
]
R
"$OCB" build "$T/recipe.toml" --progress json --jobs 2 >"$T/digest" 2>"$T/events" || { cat "$T/events"; fail "build"; }
ev() { # ev STAGE EVENT -> time_ms of that stage's run step event
	id=$(jq -r "select(.event == \"start\" and .stage == \"$1\") | .id" "$T/events")
	jq -r "select(.id == $id and .event == \"$2\") | .time_ms" "$T/events"
}
ls=$(ev left start); le=$(ev left done); rs=$(ev right start); re=$(ev right done)
echo "left $ls..$le right $rs..$re"
[ "$ls" -lt "$re" ] && [ "$rs" -lt "$le" ] || fail "left ($ls..$le ms) and right ($rs..$re ms) did not overlap"
[ $((le - ls)) -ge 1000 ] && [ $((re - rs)) -ge 1000 ] || fail "the steps did not take their second"
pass "independent stages ran at the same time"

# --jobs 1 runs them one after the other.
"$OCB" build "$T/recipe.toml" --progress json --jobs 1 --no-cache >/dev/null 2>"$T/events"
ls=$(ev left start); le=$(ev left done); rs=$(ev right start); re=$(ev right done)
[ "$rs" -ge "$le" ] || [ "$ls" -ge "$re" ] || fail "--jobs 1 overlapped: left $ls..$le right $rs..$re"
pass "--jobs 1 serialises"

# A stage starts when its own dependencies are done, not when a whole wave is:
# "next" needs only the fast "quick" and must start while "slow" still runs.
cat >"$T/dag.toml" <<'R'
version = 1
[stages.slow]
from = "busybox:latest"
steps = [ { run = "sleep 2; echo slow > /slow" } ]
[stages.quick]
from = "busybox:latest"
steps = [ { run = "echo quick > /quick" } ]
[stages.next]
from = "quick"
steps = [ { run = "cat /quick > /next" } ]
[stages.final]
from = "next"
steps = [ { copy = ["/slow"], from = "slow", to = "/" } ]
R
"$OCB" build "$T/dag.toml" --progress json --jobs 3 >/dev/null 2>"$T/events" || { cat "$T/events"; fail "dag build"; }
ns=$(ev next start); se=$(ev slow done)
[ "$ns" -lt "$se" ] || fail "stage next started at $ns ms, after slow ended at $se ms"
pass "a stage starts as soon as its dependencies are done"
