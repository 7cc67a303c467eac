#!/bin/bash
# The Debian packages of //tools:deb, checked as a user would meet them:
# dpkg-deb --info fields (version from version.bzl, architecture, Depends
# naming Debian's Abseil runtime package), the file list, the CLI run from a
# scratch extraction, the man page and completion, and a C program built with
# pkg-config against the extracted -dev package and run.
set -euo pipefail

want_version="$1"; man_src="$2"; hello_c="$3"
deb_linx="$4"; deb_lib="$5"; deb_dev="$6"
root="${TEST_TMPDIR:?}/root"
mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
field() { dpkg-deb --field "$1" "$2"; }

arch="$(dpkg --print-architecture)"
multiarch="$(gcc -print-multiarch)"
for deb in "$deb_linx" "$deb_lib" "$deb_dev"; do
  dpkg-deb --info "$deb" >/dev/null || fail "dpkg-deb --info $deb"
  [[ "$(field "$deb" Version)" == "$want_version" ]] || fail "$deb: Version $(field "$deb" Version)"
  [[ "$(field "$deb" Architecture)" == "$arch" ]] || fail "$deb: Architecture"
  [[ -n "$(field "$deb" Description)" ]] || fail "$deb: no Description"
  dpkg-deb --extract "$deb" "$root"
done
[[ "$(field "$deb_linx" Package)" == linx ]] || fail "linx: Package"
[[ "$(field "$deb_lib" Package)" == liblinx-mount0 ]] || fail "lib: Package"
[[ "$(field "$deb_dev" Package)" == liblinx-mount-dev ]] || fail "dev: Package"
# Depends: the shared library needs Debian's Abseil runtime and libc; -dev
# pins the library of the same version and pulls libabsl-dev.
lib_depends="$(field "$deb_lib" Depends)"
grep -qE '(^|, )libabsl20220623( |,|$)' <<<"$lib_depends" || fail "lib Depends lacks libabsl20220623: $lib_depends"
grep -qE '(^|, )libc6 ' <<<"$lib_depends" || fail "lib Depends lacks libc6: $lib_depends"
dev_depends="$(field "$deb_dev" Depends)"
grep -qF "liblinx-mount0 (= $want_version)" <<<"$dev_depends" || fail "dev Depends: $dev_depends"
grep -qE '(^|, )libabsl-dev($|,)' <<<"$dev_depends" || fail "dev Depends lacks libabsl-dev: $dev_depends"
grep -qE '(^|, )libc6 ' <<<"$(field "$deb_linx" Depends)" || fail "linx Depends: $(field "$deb_linx" Depends)"
echo "ok   control fields; Depends of liblinx-mount0: $lib_depends"

# The files, where Debian expects them.
for f in usr/bin/linx usr/share/man/man1/linx.1.gz \
         usr/share/bash-completion/completions/linx \
         "usr/lib/$multiarch/liblinx_mount.so.$want_version" \
         "usr/lib/$multiarch/liblinx.a" \
         "usr/lib/$multiarch/pkgconfig/linx-mount.pc" \
         "usr/lib/$multiarch/pkgconfig/linx.pc" \
         usr/include/linx/mount/linx_mount.h usr/include/linx/mount/mount.h; do
  [[ -e "$root/$f" ]] || fail "missing /$f"
done
[[ "$(readlink "$root/usr/lib/$multiarch/liblinx_mount.so.0")" == "liblinx_mount.so.$want_version" ]] ||
  fail "liblinx_mount.so.0 link"
[[ "$(readlink "$root/usr/lib/$multiarch/liblinx_mount.so")" == liblinx_mount.so.0 ]] ||
  fail "liblinx_mount.so link"
contents="$(dpkg-deb --contents "$deb_linx")"
grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/linx$' <<<"$contents" || fail "usr/bin/linx: $contents"
cmp -s <(gzip -dc "$root/usr/share/man/man1/linx.1.gz") "$man_src" || fail "man page differs from docs/linx.1"
bash -n "$root/usr/share/bash-completion/completions/linx" || fail "completion is not valid bash"
echo "ok   files"

# The CLI from the extraction.
[[ "$("$root/usr/bin/linx" version)" == "linx $want_version" ]] || fail "linx version"
"$root/usr/bin/linx" list --json >"$TEST_TMPDIR/list.json" || fail "linx list"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(m["target"]=="/" for m in d["mounts"])' \
  "$TEST_TMPDIR/list.json" || fail "linx list --json has no /"
rc=0; "$root/usr/bin/linx" umount --flags nosuchword /x 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "bad flag word: exit $rc, want 2"
echo "ok   CLI runs from the package"

# A C program against the extracted -dev package: pkg-config with the
# extraction as sysroot (the .pc files say prefix=/usr, as installed).
export PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root/usr/lib/$multiarch/pkgconfig"
[[ "$(pkg-config --modversion linx-mount)" == "$want_version" ]] || fail "pkg-config linx-mount version"
# linx.pc (C++) requires the absl_* modules of the system's libabsl-dev.
[[ "$(PKG_CONFIG_LIBDIR="$PKG_CONFIG_LIBDIR:/usr/lib/$multiarch/pkgconfig" \
      pkg-config --modversion linx)" == "$want_version" ]] || fail "pkg-config linx version"
cflags="$(pkg-config --cflags linx-mount)"
[[ "$cflags" == *"$root/usr/include/linx"* ]] || fail "cflags: $cflags"
# Under --config=asan/ubsan the library is instrumented: link the same way.
san=()
needed="$(readelf -d "$root/usr/lib/$multiarch/liblinx_mount.so.$want_version" | grep NEEDED || true)"
grep -q 'libasan\.' <<<"$needed" && san+=(-fsanitize=address)
grep -q 'libubsan\.' <<<"$needed" && san+=(-fsanitize=undefined)
grep -q 'libtsan\.' <<<"$needed" && san+=(-fsanitize=thread)
work="$TEST_TMPDIR/work"
mkdir -p "$work/scratch"
# shellcheck disable=SC2046
cc -Wall -Werror "${san[@]}" -o "$work/hello" "$hello_c" $(pkg-config --cflags --libs linx-mount)
out="$(LD_LIBRARY_PATH="$root/usr/lib/$multiarch" "$work/hello" "$work/scratch")"
case "$out" in
  "ok $want_version") ;;
  SKIPPED:*)
    # The program mounts; without CAP_SYS_ADMIN it can only say why not.
    [[ "${LINX_REQUIRE_PRIVILEGED:-}" != 1 ]] || fail "LINX_REQUIRE_PRIVILEGED=1, cannot skip: $out"
    echo "$out" ;;
  *) fail "hello: $out" ;;
esac
echo "ok   C program built with pkg-config against liblinx-mount-dev: $out"
echo "deb: PASS"
