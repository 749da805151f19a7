# ocb load of its own archives and of a real `docker save`; rmi; bad input.
. "$OCB_SRC/tests/lib.sh"

make_fixture_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
"$OCB" import "$T/rootfs.tar" demo:1 --entrypoint '["/bin/echo", "loaded"]'
"$OCB" inspect demo:1 --format json >"$T/orig.json"
"$OCB" save demo:1 -o "$T/demo-oci.tar" --format oci
"$OCB" save demo:1 -o "$T/demo-docker.tar" --format docker

# An OCI archive loads back to the same manifest digest.
OCB_ROOT="$T/s2" "$OCB" load "$T/demo-oci.tar"
OCB_ROOT="$T/s2" "$OCB" inspect docker.io/library/demo:1 --format json >"$T/oci.json"
assert_eq "$(jq -r .digest "$T/oci.json")" "$(jq -r .digest "$T/orig.json")" "oci-archive round trip digest"

# A docker-archive loads back to the same config (layers become uncompressed).
OCB_ROOT="$T/s3" "$OCB" load -i "$T/demo-docker.tar"
OCB_ROOT="$T/s3" "$OCB" inspect demo:1 --format json >"$T/docker.json"
assert_eq "$(jq -r .configDigest "$T/docker.json")" "$(jq -r .configDigest "$T/orig.json")" "docker-archive round trip config"

# What a real Docker engine saves loads too, with the same config.
start_dockerd
docker load -i "$T/demo-docker.tar"
docker save demo:1 -o "$T/real-docker.tar"
OCB_ROOT="$T/s4" "$OCB" load "$T/real-docker.tar"
OCB_ROOT="$T/s4" "$OCB" inspect demo:1 --format json >"$T/real.json"
assert_eq "$(jq -r .configDigest "$T/real.json")" "$(jq -r .configDigest "$T/orig.json")" "docker save -> ocb load config"
# ...and goes back to Docker intact.
OCB_ROOT="$T/s4" "$OCB" save demo:1 -o "$T/again.tar"
docker rmi demo:1 >/dev/null
docker load -i "$T/again.tar"
assert_eq "$(docker_run demo:1)" "loaded" "docker run after a second round trip"

# rmi removes the name and the blobs only it reached.
blobs_before=$(ls "$OCB_ROOT/blobs/sha256" | wc -l)
"$OCB" rmi demo:1
expect_exit 2 "$OCB" inspect demo:1
assert_contains "$(cat "$T/stderr")" "demo:1" "inspect error names the image"
"$OCB" images >"$T/images"
if grep -q demo "$T/images"; then fail "rmi left demo in 'ocb images'"; fi

# Not an archive at all: an input error (2) that says so, without the
# misleading strerror of libarchive's format errno (EILSEQ).
head -c 5000 "$OCB" >"$T/garbage.tar"
expect_exit 2 env OCB_ROOT="$T/s6" "$OCB" load "$T/garbage.tar"
assert_contains "$(cat "$T/stderr")" "garbage.tar': Unrecognized archive format" "load names a non-archive"
if grep -q 'multibyte' "$T/stderr"; then fail "load of a non-archive: $(cat "$T/stderr")"; fi

# A truncated archive and a flipped byte are refused, and nothing is named.
head -c 20000 "$T/demo-oci.tar" >"$T/truncated.tar"
set +e; OCB_ROOT="$T/s5" "$OCB" load "$T/truncated.tar" 2>"$T/err"; rc=$?; set -e
[ $rc -ne 0 ] || fail "truncated archive loaded"
python3 - "$T/demo-docker.tar" "$T/flipped.tar" <<'PY'
import sys, tarfile, io
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, "w") as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if data is not None and m.name.endswith("layer.tar"):
            b = bytearray(data); b[600] ^= 0x01; data = bytes(b)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
PY
set +e; OCB_ROOT="$T/s6" "$OCB" load "$T/flipped.tar" 2>"$T/err"; rc=$?; set -e
[ $rc -ne 0 ] || fail "a layer with a flipped byte loaded"
cat "$T/err"
OCB_ROOT="$T/s6" "$OCB" images >"$T/images6"
if grep -q demo "$T/images6"; then fail "a failed load named an image"; fi
pass "load, rmi, bad archives"
