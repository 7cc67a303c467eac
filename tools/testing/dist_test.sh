#!/bin/bash
# Unpacks //tools:dist into a prefix and builds plain C and C++ programs
# against it with cc/c++ and pkg-config, outside Bazel, then runs them.
set -euo pipefail

tar_file="$1"; c_src="$2"; cxx_src="$3"; want_version="$4"
prefix="${TEST_TMPDIR}/prefix"
mkdir -p "$prefix"
tar -xf "$tar_file" -C "$prefix"

fail() { echo "FAIL: $*"; exit 1; }
[[ -L "$prefix/lib/liblinx_mount.so" ]] || fail "no liblinx_mount.so symlink"
[[ "$(readlink "$prefix/lib/liblinx_mount.so.0")" == "liblinx_mount.so.${want_version}" ]] ||
  fail "liblinx_mount.so.0 does not point at liblinx_mount.so.${want_version}"
readelf -d "$prefix/lib/liblinx_mount.so.${want_version}" | grep -q 'soname: \[liblinx_mount.so.0\]' ||
  fail "SONAME is not liblinx_mount.so.0"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[[ "$(pkg-config --modversion linx-mount)" == "$want_version" ]] || fail "linx-mount.pc version"
[[ "$(pkg-config --modversion linx)" == "$want_version" ]] || fail "linx.pc version"

# Under --config=asan/ubsan/tsan the tree holds instrumented code: link the
# programs with the same sanitizer, as a consumer of such a build would.
san=()
needed="$(readelf -d "$prefix/lib/liblinx_mount.so.${want_version}" | grep NEEDED || true)"
grep -q 'libasan\.' <<<"$needed" && san+=(-fsanitize=address)
grep -q 'libubsan\.' <<<"$needed" && san+=(-fsanitize=undefined)
grep -q 'libtsan\.' <<<"$needed" && san+=(-fsanitize=thread)

work="${TEST_TMPDIR}/work"
mkdir -p "$work"
# shellcheck disable=SC2046
cc -Wall -Werror "${san[@]}" -o "$work/hello_c" "$c_src" $(pkg-config --cflags --libs linx-mount)
# shellcheck disable=SC2046
c++ -Wall -Werror "${san[@]}" -o "$work/hello_cxx" "$cxx_src" $(pkg-config --cflags --libs linx)

# The C program finds the library through LD_LIBRARY_PATH, as an installed
# one would through the loader's cache.
# Each program mounts a scratch tmpfs on its own directory (in a private
# mount namespace of its own) and makes everything else on it.
mkdir -p "$work/c-scratch" "$work/cxx-scratch"
out_c="$(LD_LIBRARY_PATH="$prefix/lib" "$work/hello_c" "$work/c-scratch")"
echo "C:   $out_c"
out_cxx="$("$work/hello_cxx" "$work/cxx-scratch")"
echo "C++: $out_cxx"
# The programs mount, so without CAP_SYS_ADMIN they can only report
# "SKIPPED: <reason>" (the build and link above are still checked). That is a
# failure under LINX_REQUIRE_PRIVILEGED=1 (CI, as root), where nothing skips.
for out in "$out_c" "$out_cxx"; do
  case "$out" in
    "ok $want_version") ;;
    SKIPPED:*)
      [[ "${LINX_REQUIRE_PRIVILEGED:-}" != 1 ]] ||
        fail "LINX_REQUIRE_PRIVILEGED=1, cannot skip: $out"
      echo "$out" ;;
    *) fail "unexpected output: $out" ;;
  esac
done
echo "dist: PASS"
