// The text back end (read /proc/thread-self/mountinfo, parse) against
// listmount(2)+statmount(2), on real mount namespaces this binary builds.
//
//   bazel run -c opt //mountinfo:list_benchmark
//
// Needs CAP_SYS_ADMIN. Before any benchmark runs, the process enters its
// own mount namespace (unshare(CLONE_NEWNS), "/" made MS_REC|MS_PRIVATE):
// the host's table is never touched. For each size it then builds, under a
// fresh tmpfs in a directory from mkdtemp(3):
//   plain:  N bind mounts of one directory (N + the ~30 inherited mounts);
//   slaves: N bind mounts of a shared tmpfs (one peer group of N members)
//           in namespace A, then a new namespace B (A kept alive by an open
//           descriptor) where the tree is made MS_REC|MS_SLAVE: every mount
//           of B is a slave whose master's peers all live in A, the shape of
//           a container's namespace, where the kernel's mountinfo printer
//           walks the whole peer ring for each line (get_dominating_id()).
// Benchmarks are registered in an order that builds each namespace once.
// FindMount targets the mount point in the middle of the table.
// BM_ListStatmount uses the default thread count (ListOptions::max_threads
// 0), BM_ListStatmountOneThread only the calling thread; the BM_Kernel*
// rows time the syscalls alone, without building MountInfo.
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "mountinfo/internal/kernel.h"
#include "mountinfo/live_table.h"
#include "mountinfo/mountinfo.h"
#include "mountinfo/query.h"
#include "mountinfo/statmount.h"

namespace linx {
namespace {

std::string g_base;     // mkdtemp'd directory, a tmpfs while built
int g_keep_ns = -1;     // namespace A of the slave case
size_t g_n = 0;         // current size
bool g_slaves = false;  // current shape
std::string g_probe;    // FindMount target

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "list_benchmark: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::exit(1);
}

void MustMount(const char* src, const std::string& dst, const char* fs,
               unsigned long flags, const char* data = nullptr) {
  if (::mount(src, dst.c_str(), fs, flags, data) != 0) {
    Die(absl::StrCat("mount ", src ? src : "NULL", " ", dst));
  }
}

std::string MountDir(size_t i) {
  return absl::StrFormat("%s/m%05d", g_base, static_cast<int>(i));
}

void Build(size_t n, bool slaves) {
  if (g_n == n && g_slaves == slaves) return;
  // Drop the previous tree (and namespace A) before copying the namespace.
  if (g_n != 0) ::umount2(g_base.c_str(), MNT_DETACH);
  if (g_keep_ns >= 0) ::close(g_keep_ns);
  g_keep_ns = -1;
  if (::unshare(CLONE_NEWNS) != 0) Die("unshare(CLONE_NEWNS)");
  MustMount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
  MustMount("bench", g_base, "tmpfs", 0, "size=64m");
  std::string src = g_base + "/src";
  if (::mkdir(src.c_str(), 0755) != 0) Die("mkdir src");
  if (slaves) {
    MustMount("shared", src, "tmpfs", 0, "size=1m");
    MustMount(nullptr, src, nullptr, MS_SHARED);
  }
  for (size_t i = 0; i < n; ++i) {
    std::string d = MountDir(i);
    if (::mkdir(d.c_str(), 0755) != 0) Die("mkdir");
    MustMount(src.c_str(), d, nullptr, MS_BIND);
  }
  if (slaves) {
    g_keep_ns = ::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (g_keep_ns < 0) Die("open ns");
    if (::unshare(CLONE_NEWNS) != 0) Die("unshare(CLONE_NEWNS) B");
    MustMount(nullptr, g_base, nullptr, MS_REC | MS_SLAVE);
  }
  g_n = n;
  g_slaves = slaves;
  g_probe = MountDir(n / 2);
}

void CheckBackends() {
  ListOptions t, s;
  t.backend = ListBackend::kText;
  s.backend = ListBackend::kStatmount;
  absl::StatusOr<std::vector<MountInfo>> a = ListMounts(t);
  absl::StatusOr<std::vector<MountInfo>> b = ListMounts(s);
  if (!a.ok() || !b.ok() || *a != *b) {
    std::fprintf(stderr, "list_benchmark: back ends disagree (%s / %s)\n",
                 a.status().ToString().c_str(), b.status().ToString().c_str());
    std::exit(1);
  }
}

void List(benchmark::State& state, size_t n, bool slaves, ListBackend b,
          int max_threads = 0) {
  Build(n, slaves);
  ListOptions o;
  o.backend = b;
  o.max_threads = max_threads;
  size_t count = 0;
  for (auto _ : state) {
    absl::StatusOr<std::vector<MountInfo>> t = ListMounts(o);
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    count = t->size();
    benchmark::DoNotOptimize(t);
  }
  state.counters["mounts"] = static_cast<double>(count);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
}

// The kernel's share alone, for the record: what reading the text costs
// without parsing it, and what the statmount(2) calls cost without turning
// the replies into MountInfo (one thread; `strings` false asks for the
// numeric fields only).
void KernelText(benchmark::State& state, size_t n) {
  Build(n, false);
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    int fd = ::open("/proc/thread-self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) Die("open mountinfo");
    ssize_t r;
    while ((r = ::read(fd, buf.data(), buf.size())) > 0) {
      benchmark::DoNotOptimize(buf.data());
    }
    ::close(fd);
  }
}

void KernelStatmount(benchmark::State& state, size_t n, bool strings) {
  Build(n, false);
  uint64_t mask = strings ? kabi::kStatmountMountInfoMask
                          : kabi::kStatmountSbBasic | kabi::kStatmountMntBasic |
                                kabi::kStatmountMntNsId;
  std::vector<uint64_t> buf(1024);
  for (auto _ : state) {
    absl::StatusOr<std::vector<uint64_t>> ids = ListMountIds();
    if (!ids.ok()) Die("listmount");
    for (uint64_t id : *ids) {
      kabi::MntIdReq req;
      req.size = kabi::kMntIdReqSizeVer0;
      req.mnt_id = id;
      req.param = mask;
      if (kabi::SysStatmount(&req,
                             reinterpret_cast<kabi::Statmount*>(buf.data()),
                             buf.size() * sizeof(uint64_t), 0) != 0) {
        Die("statmount");
      }
    }
  }
}

void Find(benchmark::State& state, size_t n, ListBackend b) {
  Build(n, false);
  FindOptions o;
  o.backend = b;
  for (auto _ : state) {
    absl::StatusOr<MountInfo> m = FindMount(g_probe, o);
    if (!m.ok() || m->target != g_probe) {
      state.SkipWithError(m.ok() ? "wrong mount"
                                 : m.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(m);
  }
}

// LiveMountTable::Refresh() after one change, on the plain table: a tmpfs
// mounted or unmounted (alternately) on a spare directory, or one of the N
// binds remounted read-only / read-write (alternately). Only Refresh() is
// timed (manual time); the change itself is made before. Periodic sweeps
// are off, so what is timed is what the change costs under `policy`.
enum class LiveChange { kMountUmount, kRemount };

void LiveRefresh(benchmark::State& state, size_t n, LiveChange change,
                 SweepPolicy policy, int max_threads = 0) {
  Build(n, false);
  std::string spare = g_base + "/live";
  ::mkdir(spare.c_str(), 0755);
  LiveTableOptions o;
  o.sweep_interval = absl::InfiniteDuration();
  o.sweep_policy = policy;
  o.max_threads = max_threads;
  absl::StatusOr<std::unique_ptr<LiveMountTable>> live =
      LiveMountTable::Open(o);
  if (!live.ok() || (*live)->mode() != LiveMountTable::Mode::kEvents) {
    state.SkipWithError(live.ok() ? "no fanotify mount events"
                                  : live.status().ToString().c_str());
    return;
  }
  bool on = false;
  for (auto _ : state) {
    if (change == LiveChange::kMountUmount) {
      if (!on) {
        MustMount("live", spare, "tmpfs", 0, "size=64k");
      } else if (::umount2(spare.c_str(), 0) != 0) {
        Die("umount spare");
      }
    } else {
      MustMount(nullptr, g_probe, nullptr,
                MS_REMOUNT | MS_BIND | (on ? 0 : MS_RDONLY));
    }
    on = !on;
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<MountChange>> d = (*live)->Refresh();
    auto t1 = std::chrono::steady_clock::now();
    if (!d.ok() || d->size() != 1) {
      state.SkipWithError(d.ok() ? "not exactly one change"
                                 : d.status().ToString().c_str());
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  if (on && change == LiveChange::kMountUmount) ::umount2(spare.c_str(), 0);
  if (on && change == LiveChange::kRemount) {
    MustMount(nullptr, g_probe, nullptr, MS_REMOUNT | MS_BIND);
  }
  absl::StatusOr<std::vector<MountChange>> last = (*live)->Refresh();
  ListOptions s;
  s.backend = ListBackend::kStatmount;
  absl::StatusOr<std::vector<MountInfo>> fresh = ListMounts(s);
  if (!last.ok() || !fresh.ok() || (*live)->mounts() != *fresh) {
    state.SkipWithError("live table differs from a fresh listing");
  }
  state.counters["mounts"] = static_cast<double>((*live)->size());
  state.counters["sweeps"] = static_cast<double>((*live)->stats().sweeps);
}

}  // namespace
}  // namespace linx

int main(int argc, char** argv) {
  using linx::ListBackend;
  benchmark::Initialize(&argc, argv);
  if (!linx::KernelHas(linx::KernelFeature::kStatmount) ||
      !linx::KernelHas(linx::KernelFeature::kStatxMountIdUnique)) {
    std::fprintf(stderr,
                 "list_benchmark: kernel lacks listmount/statmount (6.13+)\n");
    return 1;
  }
  char tmpl[] = "/tmp/linx-list-benchmark-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) linx::Die("mkdtemp");
  linx::g_base = tmpl;
  for (size_t n : {size_t{1000}, size_t{10000}}) {
    std::string s = absl::StrCat("/", n);
    benchmark::RegisterBenchmark(("BM_ListText" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::List(st, n, false, ListBackend::kText);
                                 })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_ListStatmount" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::List(st, n, false,
                                              ListBackend::kStatmount);
                                 })
        ->Unit(benchmark::kMicrosecond);
    // The same on the calling thread alone (ListOptions::max_threads = 1).
    benchmark::RegisterBenchmark(("BM_ListStatmountOneThread" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::List(st, n, false,
                                              ListBackend::kStatmount, 1);
                                 })
        ->Unit(benchmark::kMicrosecond);
    // The default policy (kOnUnexplainedPoke): the change's events alone.
    benchmark::RegisterBenchmark(("BM_LiveRefreshOneChange" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::LiveRefresh(
                                       st, n, linx::LiveChange::kMountUmount,
                                       linx::SweepPolicy::kOnUnexplainedPoke);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    // kOnPoke: the events plus a sweep, since the poll fired too.
    benchmark::RegisterBenchmark(
        ("BM_LiveRefreshOneChangeExactPolicy" + s).c_str(),
        [n](benchmark::State& st) {
          linx::LiveRefresh(st, n, linx::LiveChange::kMountUmount,
                            linx::SweepPolicy::kOnPoke);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    // A remount alone sweeps under either policy.
    benchmark::RegisterBenchmark(("BM_LiveRefreshOneRemount" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::LiveRefresh(
                                       st, n, linx::LiveChange::kRemount,
                                       linx::SweepPolicy::kOnUnexplainedPoke);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    // The same sweep on the calling thread alone (max_threads = 1).
    benchmark::RegisterBenchmark(
        ("BM_LiveRefreshOneRemountOneThread" + s).c_str(),
        [n](benchmark::State& st) {
          linx::LiveRefresh(st, n, linx::LiveChange::kRemount,
                            linx::SweepPolicy::kOnUnexplainedPoke, 1);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("BM_KernelReadMountInfo" + s).c_str(),
        [n](benchmark::State& st) { linx::KernelText(st, n); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("BM_KernelStatmount" + s).c_str(),
        [n](benchmark::State& st) { linx::KernelStatmount(st, n, true); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("BM_KernelStatmountNoStrings" + s).c_str(),
        [n](benchmark::State& st) { linx::KernelStatmount(st, n, false); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("BM_FindMountText" + s).c_str(),
        [n](benchmark::State& st) { linx::Find(st, n, ListBackend::kText); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_FindMountStatmount" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::Find(st, n, ListBackend::kStatmount);
                                 })
        ->Unit(benchmark::kMicrosecond);
  }
  for (size_t n : {size_t{1000}, size_t{10000}}) {
    std::string s = absl::StrCat("/", n);
    benchmark::RegisterBenchmark(("BM_ListTextSlaves" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::List(st, n, true, ListBackend::kText);
                                 })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_ListStatmountSlaves" + s).c_str(),
                                 [n](benchmark::State& st) {
                                   linx::List(st, n, true,
                                              ListBackend::kStatmount);
                                 })
        ->Unit(benchmark::kMicrosecond);
  }
  // Sanity before timing: both back ends agree on a built namespace.
  if (::unshare(CLONE_NEWNS) != 0) linx::Die("unshare(CLONE_NEWNS)");
  linx::Build(100, true);
  linx::CheckBackends();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ::umount2(linx::g_base.c_str(), MNT_DETACH);
  ::rmdir(linx::g_base.c_str());
  return 0;
}
