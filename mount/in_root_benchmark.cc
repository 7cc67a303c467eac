// What in-root resolution costs next to a plain open(2) of the same path:
// ResolveInRoot on the openat2 path and on the component walk, through a
// symlink, with creation and rollback, and CheckInsideRoot. Figures and the
// command: docs/security.md ("Cost").
//
//   bazel run -c opt //mount:in_root_benchmark
//
// Needs no privilege: the tree lives in a fresh directory under $TMPDIR (or
// /tmp), removed at exit.
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "benchmark/benchmark.h"
#include "mount/in_root.h"
#include "mount/internal/in_root_hooks.h"

namespace linx {
namespace {

std::string* g_root = nullptr;

// <root>/usr/lib/x86_64-linux-gnu/gconv/file, and <root>/lib -> usr/lib.
bool BuildTree(const std::string& root) {
  std::string p = root;
  for (const char* d : {"usr", "lib", "x86_64-linux-gnu", "gconv"}) {
    p = absl::StrCat(p, "/", d);
    if (::mkdir(p.c_str(), 0755) != 0) return false;
  }
  UniqueFd f(
      ::open((p + "/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  return f.valid() && ::symlink("usr/lib", (root + "/lib").c_str()) == 0;
}

constexpr const char* kPath = "usr/lib/x86_64-linux-gnu/gconv/file";
constexpr const char* kLinkPath = "/lib/x86_64-linux-gnu/gconv/file";

void BM_PlainOpen(benchmark::State& state) {
  std::string full = absl::StrCat(*g_root, "/", kPath);
  for (auto _ : state) {
    UniqueFd fd(::open(full.c_str(), O_PATH | O_CLOEXEC));
    if (!fd.valid()) state.SkipWithError("open failed");
  }
}
BENCHMARK(BM_PlainOpen);

// Arg 0: openat2; 1: the walk.
void BM_ResolveInRoot(benchmark::State& state) {
  mount_internal::SetForceNoOpenat2(state.range(0) != 0);
  UniqueFd root(::open(g_root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (auto _ : state) {
    if (!ResolveInRoot(root.get(), kPath).ok()) {
      state.SkipWithError("resolve failed");
    }
  }
  mount_internal::SetForceNoOpenat2(false);
}
BENCHMARK(BM_ResolveInRoot)->Arg(0)->Arg(1);

void BM_ResolveInRootThroughSymlink(benchmark::State& state) {
  mount_internal::SetForceNoOpenat2(state.range(0) != 0);
  UniqueFd root(::open(g_root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (auto _ : state) {
    if (!ResolveInRoot(root.get(), kLinkPath).ok()) {
      state.SkipWithError("resolve failed");
    }
  }
  mount_internal::SetForceNoOpenat2(false);
}
BENCHMARK(BM_ResolveInRootThroughSymlink)->Arg(0)->Arg(1);

// mkdir + create_file of two new levels under the tree, then RemoveCreated.
void BM_CreateAndRollBack(benchmark::State& state) {
  mount_internal::SetForceNoOpenat2(state.range(0) != 0);
  UniqueFd root(::open(g_root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  InRootOptions opts;
  opts.mkdir = true;
  opts.create_file = true;
  for (auto _ : state) {
    absl::StatusOr<InRootPath> r =
        ResolveInRoot(root.get(), "/lib/x86_64-linux-gnu/new/file", opts);
    if (!r.ok()) {
      state.SkipWithError("resolve failed");
      break;
    }
    RemoveCreated(root.get(), r->created);
  }
  mount_internal::SetForceNoOpenat2(false);
}
BENCHMARK(BM_CreateAndRollBack)->Arg(0)->Arg(1);

void BM_CheckInsideRoot(benchmark::State& state) {
  UniqueFd root(::open(g_root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string dir = absl::StrCat(*g_root, "/usr/lib/x86_64-linux-gnu/gconv");
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (auto _ : state) {
    if (!CheckInsideRoot(root.get(), fd.get()).ok()) {
      state.SkipWithError("check failed");
    }
  }
}
BENCHMARK(BM_CheckInsideRoot);

}  // namespace
}  // namespace linx

int main(int argc, char** argv) {
  const char* tmp = ::getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/linx-inroot-bench-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  linx::g_root = new std::string(templ);
  if (!linx::BuildTree(templ)) {
    std::perror("building the tree");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  // Depth first, never following symlinks (the tree holds one).
  return ::nftw(
             templ.c_str(),
             [](const char* p, const struct stat*, int, struct FTW*) {
               return ::remove(p);
             },
             16, FTW_DEPTH | FTW_PHYS) == 0
             ? 0
             : 1;
}
