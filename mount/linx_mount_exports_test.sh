#!/bin/bash
# liblinx_mount.so exports exactly the linx_* functions of linx_mount.h,
# carries SONAME liblinx_mount.so.0, has no text relocations, and needs only
# system libraries that resolve every symbol.
set -euo pipefail

lib="$1"
fail=0

# Every export carries the version node LINX_0 (linx_mount.lds).
versioned="$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^LINX_0$' | sort)"
defined="$(sed 's/@.*//' <<<"$versioned")"
if grep -qv '@@LINX_0$' <<<"$versioned"; then
  echo "FAIL: exports without the LINX_0 version node:"
  grep -v '@@LINX_0$' <<<"$versioned" || true
  fail=1
fi
expected="$(printf '%s\n' linx_bind linx_kernel_message linx_mount linx_mount_ex linx_mount_in_root linx_move \
  linx_pivot_root linx_remount linx_stage_name linx_umount \
  linx_umount_in_root linx_version | sort)"
if [[ "$defined" != "$expected" ]]; then
  echo "FAIL: exported symbols differ from the C ABI"
  diff <(echo "$expected") <(echo "$defined") || true
  fail=1
fi

dynamic="$(readelf -d "$lib")"
if ! grep -q 'Library soname: \[liblinx_mount.so.0\]' <<<"$dynamic"; then
  echo "FAIL: SONAME is not liblinx_mount.so.0"
  grep SONAME <<<"$dynamic" || true
  fail=1
fi
# Only system libraries: glibc, the C++ runtime and Debian's shared Abseil
# (see the comment on :liblinx_mount.so in BUILD.bazel); under
# --config=asan/ubsan/tsan also the sanitizer's runtime.
unexpected="$(grep NEEDED <<<"$dynamic" | sed 's/.*\[\(.*\)\]/\1/' |
  grep -Ev '^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libabsl_[a-z0-9_]+\.so\.20220623|lib(a|ub|t)san\.so\.[0-9]+)$' || true)"
if [[ -n "$unexpected" ]]; then
  echo "FAIL: unexpected dependencies: $unexpected"
  fail=1
fi
if ! ldd -r "$lib" >/dev/null 2>&1 || ldd -r "$lib" 2>&1 | grep -q 'undefined symbol'; then
  echo "FAIL: unresolved symbols at load time"
  ldd -r "$lib" 2>&1 || true
  fail=1
fi
if grep -q TEXTREL <<<"$dynamic"; then
  echo "FAIL: has text relocations"
  fail=1
fi

if ((fail == 0)); then
  echo "PASS: $(wc -l <<<"$defined") linx_* symbols exported, SONAME liblinx_mount.so.0"
  grep NEEDED <<<"$dynamic"
fi
exit "$fail"
