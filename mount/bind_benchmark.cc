// A read-only bind two ways, side by side in one run: linx's fd-based path
// (open_tree + mount_setattr on the detached tree + move_mount: the bind
// appears read-only) and the classic pair (mount MS_BIND, then statvfs +
// MS_REMOUNT|MS_BIND|MS_RDONLY, which leaves a writable moment), plus the
// bare syscalls of each for the floor. Each iteration binds and unmounts.
//
//   tools/bazel run -c opt //mount:bind_benchmark --
//       --benchmark_enable_random_interleaving=true
//       --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
//   (one line)
//
// Needs CAP_SYS_ADMIN: main() first enters a private mount namespace ("/"
// rprivate) and mounts a scratch tmpfs, so nothing touches the host's table.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/syscalls.h"
#include "benchmark/benchmark.h"
#include "mount/internal/hooks.h"
#include "mount/mount.h"

namespace {

std::string g_src, g_dst;

void BM_LinxBindRoFdApi(benchmark::State& state) {
  linx::mount_internal::SetForceClassicCalls(false);
  linx::BindOptions ro;
  ro.flags = {linx::MountFlag::kRo};
  for (auto _ : state) {
    if (!linx::Bind(g_src, g_dst, ro).ok()) state.SkipWithError("bind");
    ::umount2(g_dst.c_str(), MNT_DETACH);
  }
}
BENCHMARK(BM_LinxBindRoFdApi);

void BM_LinxBindRoClassic(benchmark::State& state) {
  linx::mount_internal::SetForceClassicCalls(true);
  linx::BindOptions ro;
  ro.flags = {linx::MountFlag::kRo};
  for (auto _ : state) {
    if (!linx::Bind(g_src, g_dst, ro).ok()) state.SkipWithError("bind");
    ::umount2(g_dst.c_str(), MNT_DETACH);
  }
  linx::mount_internal::SetForceClassicCalls(false);
}
BENCHMARK(BM_LinxBindRoClassic);

// The floor of each: the bare syscalls, no checks, no messages.
void BM_BareOpenTreeSetattrMove(benchmark::State& state) {
  for (auto _ : state) {
    int t = linx::sys::OpenTree(AT_FDCWD, g_src.c_str(),
                                linx::sys::kOpenTreeClone | O_CLOEXEC);
    linx::sys::MountAttr attr;
    attr.attr_set = linx::sys::kMountAttrRdonly;
    linx::sys::MountSetattr(t, "", linx::sys::kAtEmptyPath, &attr);
    linx::sys::MoveMount(t, "", AT_FDCWD, g_dst.c_str(),
                         linx::sys::kMoveMountFEmptyPath);
    ::close(t);
    ::umount2(g_dst.c_str(), MNT_DETACH);
  }
}
BENCHMARK(BM_BareOpenTreeSetattrMove);

void BM_BareBindThenRemount(benchmark::State& state) {
  for (auto _ : state) {
    ::mount(g_src.c_str(), g_dst.c_str(), nullptr, MS_BIND, nullptr);
    struct statvfs sv;
    ::statvfs(g_dst.c_str(), &sv);
    ::mount(nullptr, g_dst.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY,
            nullptr);
    ::umount2(g_dst.c_str(), MNT_DETACH);
  }
}
BENCHMARK(BM_BareBindThenRemount);

}  // namespace

int main(int argc, char** argv) {
  if (::unshare(CLONE_NEWNS) != 0) {
    std::perror("unshare(CLONE_NEWNS) (needs CAP_SYS_ADMIN)");
    return 1;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("make / rprivate");
    return 1;
  }
  char tmpl[] = "/tmp/linx-bind-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr ||
      ::mount("bench", tmpl, "tmpfs", 0, nullptr) != 0) {
    std::perror("scratch tmpfs");
    return 1;
  }
  g_src = std::string(tmpl) + "/src";
  g_dst = std::string(tmpl) + "/dst";
  ::mkdir(g_src.c_str(), 0755);
  ::mkdir(g_dst.c_str(), 0755);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  ::umount2(tmpl, MNT_DETACH);
  ::rmdir(tmpl);
  return 0;
}
