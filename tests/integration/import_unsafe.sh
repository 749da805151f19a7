# ocb import of hostile root filesystem tarballs (made with GNU tar): a '..'
# name is refused with a message naming the entry; a symlink to '/' written
# through, and absolute names, land inside the image's root; the victim file
# beside the store and '/' are untouched.
. "$OCB_SRC/tests/lib.sh"

mkdir -p "$T/src/x" "$T/src/y"
printf secret >"$T/victim"
touch -d @1000000000 "$T/victim"
victim_before=$(stat -c '%i %s %Y' "$T/victim")
probe=ocb-import-probe-$$

# '../victim' (GNU tar keeps the '..' with -P).
(cd "$T/src" && tar -cPf "$T/dotdot.tar" ../victim)
set +e
"$OCB" import "$T/dotdot.tar" evil:dotdot >"$T/stdout" 2>"$T/stderr"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a '..' name: exit $rc, not 2 (input error)"
assert_contains "$(cat "$T/stderr")" "entry '../victim': '..' escapes the root"
"$OCB" images >"$T/images"
case "$(cat "$T/images")" in *evil:dotdot*) fail "refused import left an image" ;; esac

# 'link -> /' then 'link/<probe>': written inside the image's root.
printf pwned >"$T/src/x/$probe"
ln -s / "$T/src/link"
(cd "$T/src" && tar --transform 's,^x/,link/,' -cf "$T/through.tar" link "x/$probe")
"$OCB" import "$T/through.tar" evil:through
[ ! -e "/$probe" ] || fail "a write through 'link -> /' reached the host's /"
"$OCB" save evil:through -o "$T/through-docker.tar" --format docker
layer=$(tar -xOf "$T/through-docker.tar" manifest.json | jq -r '.[0].Layers[0]')
tar -xOf "$T/through-docker.tar" "$layer" | tar -t >"$T/through.list"
grep -Eq "^(\./)?$probe\$" "$T/through.list" && ! grep -q "^link/" "$T/through.list" || fail "'link/$probe' is not at the image root"

# An absolute name naming the victim: lands in the image, the file stays.
(cd "$T/src" && tar -cPf "$T/absolute.tar" "$T/victim")
"$OCB" import "$T/absolute.tar" evil:absolute

assert_eq "$(stat -c '%i %s %Y' "$T/victim")" "$victim_before" "victim changed"
assert_eq "$(cat "$T/victim")" secret "victim content"
pass "hostile rootfs tarballs: refused or confined to the image root"

# The scratch dir where import and load unpack untrusted trees (setuid files,
# devices) is private: a world-readable one is tightened, one owned by another
# user is refused.
make_busybox_rootfs "$T/bb"
tar -C "$T/bb" -cf "$T/bb.tar" .
chmod 0755 "$OCB_ROOT/tmp"
"$OCB" import "$T/bb.tar" scratch:1 >/dev/null
assert_eq "$(stat -c '%a' "$OCB_ROOT/tmp")" 700 "store tmp tightened by import"
chown nobody "$OCB_ROOT/tmp"
expect_exit 3 "$OCB" import "$T/bb.tar" scratch:2
assert_contains "$(cat "$T/stderr")" "belongs to uid" "import refuses a foreign tmp"
expect_exit 3 "$OCB" load "$T/bb.tar"
assert_contains "$(cat "$T/stderr")" "belongs to uid" "load refuses a foreign tmp"
chown root "$OCB_ROOT/tmp"
pass "the store's scratch dir is private"
