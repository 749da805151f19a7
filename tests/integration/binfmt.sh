#!/bin/sh
# scripts/setup-binfmt registers qemu-aarch64 with the F flag, idempotently;
# an arm64 busybox then runs in a chroot that holds no qemu.
. "$OCB_SRC/tests/lib.sh"

"$OCB_SRC/scripts/setup-binfmt" arm64 >"$T/first"
"$OCB_SRC/scripts/setup-binfmt" arm64 >"$T/second"
assert_contains "$(cat "$T/second")" "qemu-aarch64 already registered" "second run is a no-op"
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
grep -qx enabled "$entry" || fail "qemu-aarch64 is not enabled"
grep -q '^flags:.*F' "$entry" || fail "qemu-aarch64 has no F flag: $(cat "$entry")"
pass "registered with F"

make_busybox_rootfs "$T/root" arm64
[ ! -e "$T/root/usr/libexec/qemu-binfmt" ] || fail "qemu inside the rootfs"
assert_eq "$(chroot "$T/root" /bin/busybox uname -m)" aarch64 "arm64 busybox under qemu"
pass "arm64 binary runs without an interpreter in the rootfs"

expect_exit 2 "$OCB_SRC/scripts/setup-binfmt" vax
assert_contains "$(cat "$T/stderr")" "unknown architecture 'vax'"
"$OCB_SRC/scripts/setup-binfmt" amd64 | grep -q natively || fail "amd64 should be native"
pass "usage errors and native arches"
