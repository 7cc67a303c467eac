#!/bin/bash
# Builds examples/consumer as a separate Bazel workspace that pulls linx in
# with local_repository, then runs its program. A broken public label, a
# private header reached from outside, or a missing dependency declaration in
# linx fails here before it fails a user.
set -euo pipefail

runfiles="${TEST_SRCDIR}/${TEST_WORKSPACE}"
# The runfiles are symlinks into the source tree; local_repository needs the
# tree itself (every BUILD file of linx), so follow one back to its root.
linx_root="$(dirname "$(readlink -f "${runfiles}/WORKSPACE")")"
bazel_bin="${BAZEL_REAL:-/usr/bin/bazel-4}"
[[ -x "$bazel_bin" ]] || { echo "no Bazel at $bazel_bin"; exit 1; }
# The consumer program mounts inside a namespace of its own.
# Without CAP_SYS_ADMIN the run is skipped with its reason (the build is
# still checked); under LINX_REQUIRE_PRIVILEGED=1 (CI, as root) that is a
# failure.
if ! unshare --mount true 2>/dev/null; then
  reason="cannot create a mount namespace (needs CAP_SYS_ADMIN)"
  if [[ "${LINX_REQUIRE_PRIVILEGED:-}" == 1 ]]; then
    echo "FAIL: LINX_REQUIRE_PRIVILEGED=1, cannot skip: $reason"
    exit 1
  fi
  echo "SKIPPED (running the program): $reason; the build is still checked"
  no_run=1
fi

work="${TEST_TMPDIR}/consumer"
mkdir -p "$work"
src="${runfiles}/examples/consumer"
sed "s|@LINX_PATH@|${linx_root}|g" "$src/WORKSPACE.example" > "$work/WORKSPACE"
cp "$src/BUILD.example" "$work/BUILD.bazel"
cp "$src/bazelrc.example" "$work/.bazelrc"
cp "$src/main.cc" "$work/main.cc"

cd "$work"
# --batch: no server is left behind; everything lives under TEST_TMPDIR.
"$bazel_bin" --batch --output_user_root="${TEST_TMPDIR}/bazel-root" \
  build //:consumer --symlink_prefix=/ 2>&1 | tail -20
bin="$("$bazel_bin" --batch --output_user_root="${TEST_TMPDIR}/bazel-root" info bazel-bin 2>/dev/null)/consumer"

if [[ -n "${no_run:-}" ]]; then
  [[ -x "$bin" ]] || { echo "FAIL: $bin was not built"; exit 1; }
  echo "consumer workspace: built; run SKIPPED"
  exit 0
fi
scratch="${TEST_TMPDIR}/scratch"
mkdir -p "$scratch"
out="$("$bin" "$scratch")"
echo "$out"
grep -q "^${scratch} tmpfs / rw" <<<"$out" || { echo "FAIL: tmpfs not listed"; exit 1; }
grep -q "^${scratch}/dst tmpfs /src ro" <<<"$out" || { echo "FAIL: ro bind not listed"; exit 1; }
grep -q '): ok$' <<<"$out" || { echo "FAIL: no ok line"; exit 1; }
echo "consumer workspace: PASS"
