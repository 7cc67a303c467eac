#!/bin/bash
# //bindings/elixir:exunit_test: runs the ExUnit suite with `mix test` on a
# scratch copy of the Mix project, using the NIF Bazel built ($1) instead of
# building one (LINX_MOUNT_NIF: the :linx_mount compiler then never calls
# Bazel). HOME and MIX_HOME point at scratch directories; the project has no
# dependencies, so Mix never looks for Hex.
#
# Privileged cases must not touch the host's mount table: with the privilege,
# `mix test` runs under `unshare --mount --propagation private`, and the
# suite mounts a scratch tmpfs for everything it creates. Without it, the
# privileged cases are excluded with the reason, or fail when
# LINX_REQUIRE_PRIVILEGED=1 (test/test_helper.exs decides).
set -euo pipefail

nif="$(realpath "$1")"
src="$(dirname "$(realpath "${BASH_SOURCE[0]}")")/.."
# The runfiles hold symlinks; realpath above leads into the source tree, so
# take the project from the runfiles tree instead when it is there.
runfiles_project="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-linx}/bindings/elixir"
[[ -f "$runfiles_project/mix.exs" ]] && src="$runfiles_project"

scratch="${TEST_TMPDIR:-$(mktemp -d)}"
# The copy keeps the repository's layout, so mix.exs finds version.bzl at
# ../../version.bzl (and no tools/bazel: nothing here can start Bazel).
project="$scratch/linx/bindings/elixir"
rm -rf "$scratch/linx"
mkdir -p "$project/priv" "$scratch/home" "$scratch/mix"
cp -RL "$src/mix.exs" "$src/.formatter.exs" "$src/lib" "$src/test" "$project/"
cp -L "$src/../../version.bzl" "$scratch/linx/version.bzl"

export HOME="$scratch/home" MIX_HOME="$scratch/mix" MIX_ENV=test
export HEX_OFFLINE=1 LANG=C.UTF-8 LC_ALL=C.UTF-8
export LINX_MOUNT_NIF="$nif"
export ERL_CRASH_DUMP="$scratch/erl_crash.dump"

# A NIF built with --config=asan needs the ASan runtime loaded first, before
# the BEAM (which is not instrumented; the runtime cannot be dlopen'ed
# later). Its leak checker would report the BEAM's own allocations at exit,
# so it is off for this process tree.
runtime="$(ldd "$nif" | awk '/libasan|libtsan/ { print $3 }')"
case "$runtime" in
  *libasan*)
    export LD_PRELOAD="$runtime"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
    ;;
  *libtsan*)
    # The BEAM itself segfaults at start with libtsan preloaded (its own
    # stacks and allocators), and libtsan cannot be loaded with the NIF.
    # linx's threads have their own TSan tests (.ci/run). Like the C++
    # tests that cannot run under TSan, say so and stop.
    echo "SKIPPED under --config=tsan: the BEAM cannot run with libtsan preloaded"
    exit 0
    ;;
esac

cd "$project"
if [[ "$(grep -E '^CapEff:' /proc/self/status)" =~ ([0-9a-f]+)$ ]] &&
  (((0x${BASH_REMATCH[1]} >> 21) & 1)) &&
  unshare --mount --propagation private true 2>/dev/null; then
  exec unshare --mount --propagation private -- \
    env LINX_TEST_ISOLATED=1 mix test "${@:2}"
fi
exec mix test "${@:2}"
