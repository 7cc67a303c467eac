// What a mount + umount of a tmpfs costs in another process's mount
// namespace: bare syscalls (the floor), one RunIn worker per verb, one RunIn
// trip for both, and fork+exec of nsenter(1) (what users do today); plus
// no-op workers that isolate the cost of the thread. Figures and the exact
// command: docs/performance.md.
//
//   bazel run -c opt //nsexec:nsexec_benchmark
//
// Needs CAP_SYS_ADMIN. Before any benchmark runs, main() enters a private
// mount namespace (unshare + "/" rprivate), mounts a scratch tmpfs and parks
// a child in fresh mount + PID namespaces below it; every mount happens on
// the scratch tmpfs, inside those private namespaces. The host's table is
// never touched.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"
#include "nsexec/worker.h"

namespace linx {
namespace {

std::string* g_scratch = nullptr;
testing::ParkedChild* g_child = nullptr;

std::string Dir(const char* name) {
  return absl::StrCat(*g_scratch, "/", name);
}

absl::Status MountTmpfs(const std::string& dir) {
  if (::mount("linx-bench", dir.c_str(), "tmpfs", 0, "size=64k") != 0) {
    return absl::InternalError(absl::StrCat("mount: errno ", errno));
  }
  return absl::OkStatus();
}

absl::Status Umount(const std::string& dir) {
  if (::umount2(dir.c_str(), 0) != 0) {
    return absl::InternalError(absl::StrCat("umount: errno ", errno));
  }
  return absl::OkStatus();
}

void BM_MountUmountSelf(benchmark::State& state) {
  std::string dir = Dir("self");
  for (auto _ : state) {
    if (!MountTmpfs(dir).ok() || !Umount(dir).ok()) {
      state.SkipWithError("mount/umount failed");
      break;
    }
  }
}
BENCHMARK(BM_MountUmountSelf)->UseRealTime();

// Each verb is its own call, as linx::Mount(..., {.in = Pid(n)}) and
// linx::Umount(..., {.in = Pid(n)}) would be: open the target, one worker.
void BM_MountUmountInPid(benchmark::State& state) {
  std::string dir = Dir("pid");
  for (auto _ : state) {
    absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
    absl::Status s = ns.ok()
                         ? RunIn(*ns, "mount", [&] { return MountTmpfs(dir); })
                         : ns.status();
    if (s.ok()) {
      ns = Namespace::Pid(g_child->pid());
      s = ns.ok() ? RunIn(*ns, "umount", [&] { return Umount(dir); })
                  : ns.status();
    }
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_MountUmountInPid)->UseRealTime();

// The same two trips with the Namespace opened once, as a caller that keeps
// one for many verbs would.
void BM_MountUmountInPidOpenOnce(benchmark::State& state) {
  std::string dir = Dir("pid");
  absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
  if (!ns.ok()) {
    state.SkipWithError("Namespace::Pid failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = RunIn(*ns, "mount", [&] { return MountTmpfs(dir); });
    if (s.ok()) s = RunIn(*ns, "umount", [&] { return Umount(dir); });
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_MountUmountInPidOpenOnce)->UseRealTime();

void BM_MountUmountBatch(benchmark::State& state) {
  std::string dir = Dir("batch");
  for (auto _ : state) {
    absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
    absl::Status s = ns.ok() ? RunIn(*ns, "batch",
                                     [&]() -> absl::Status {
                                       absl::Status m = MountTmpfs(dir);
                                       if (!m.ok()) return m;
                                       return Umount(dir);
                                     })
                             : ns.status();
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_MountUmountBatch)->UseRealTime();

// Ten verbs (five tmpfs mount+umount pairs), each its own call, as a
// runtime interleaving verbs with its own checks would make them: bare in
// the caller's namespace (the floor) and through one linx::Worker parked in
// the child's namespace (started once, outside the timing).
void BM_SelfTenVerbs(benchmark::State& state) {
  std::string dir = Dir("ten");
  for (auto _ : state) {
    for (int i = 0; i < 5; ++i) {
      absl::Status s = MountTmpfs(dir);
      if (s.ok()) s = Umount(dir);
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
  }
}
BENCHMARK(BM_SelfTenVerbs)->UseRealTime();

void BM_WorkerTenVerbs(benchmark::State& state) {
  std::string dir = Dir("ten");
  absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
  absl::StatusOr<Worker> worker =
      ns.ok() ? Worker::Start(*ns) : absl::StatusOr<Worker>(ns.status());
  if (!worker.ok()) {
    state.SkipWithError(std::string(worker.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    for (int i = 0; i < 5; ++i) {
      absl::Status s = worker->Run("mount", [&] { return MountTmpfs(dir); });
      if (s.ok()) s = worker->Run("umount", [&] { return Umount(dir); });
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
  }
}
BENCHMARK(BM_WorkerTenVerbs)->UseRealTime();

// The hand-off alone: one no-op function through a Worker (in the child's
// namespace) and the same ten verbs through a Worker that stayed in the
// caller's namespace (the hand-off without the namespace change).
void BM_WorkerNoop(benchmark::State& state) {
  absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
  absl::StatusOr<Worker> worker =
      ns.ok() ? Worker::Start(*ns) : absl::StatusOr<Worker>(ns.status());
  if (!worker.ok()) {
    state.SkipWithError(std::string(worker.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    absl::Status s = worker->Run("noop", [] { return absl::OkStatus(); });
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
}
BENCHMARK(BM_WorkerNoop)->UseRealTime();

void BM_WorkerSelfTenVerbs(benchmark::State& state) {
  std::string dir = Dir("ten");
  absl::StatusOr<Worker> worker = Worker::Start(Namespace::Self());
  if (!worker.ok()) {
    state.SkipWithError(std::string(worker.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    for (int i = 0; i < 5; ++i) {
      absl::Status s = worker->Run("mount", [&] { return MountTmpfs(dir); });
      if (s.ok()) s = worker->Run("umount", [&] { return Umount(dir); });
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
  }
}
BENCHMARK(BM_WorkerSelfTenVerbs)->UseRealTime();

// The same ten verbs with a RunIn worker per verb (today's default).
void BM_RunInTenVerbs(benchmark::State& state) {
  std::string dir = Dir("ten");
  absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
  if (!ns.ok()) {
    state.SkipWithError("Namespace::Pid failed");
    return;
  }
  for (auto _ : state) {
    for (int i = 0; i < 5; ++i) {
      absl::Status s = RunIn(*ns, "mount", [&] { return MountTmpfs(dir); });
      if (s.ok()) s = RunIn(*ns, "umount", [&] { return Umount(dir); });
      if (!s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
  }
}
BENCHMARK(BM_RunInTenVerbs)->UseRealTime();

// Where the time of a trip goes: a worker that does nothing, in our own
// namespace and in the child's (pidfd or ns-file handle).
void BM_RunInSelfNoop(benchmark::State& state) {
  for (auto _ : state) {
    absl::Status s =
        RunIn(Namespace::Self(), "noop", [] { return absl::OkStatus(); });
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_RunInSelfNoop)->UseRealTime();

void BM_RunInPidNoop(benchmark::State& state) {
  absl::StatusOr<Namespace> ns = Namespace::Pid(g_child->pid());
  if (!ns.ok()) {
    state.SkipWithError("Namespace::Pid failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = RunIn(*ns, "noop", [] { return absl::OkStatus(); });
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_RunInPidNoop)->UseRealTime();

void BM_RunInPathNoop(benchmark::State& state) {
  absl::StatusOr<Namespace> ns =
      Namespace::Path(absl::StrCat("/proc/", g_child->pid(), "/ns/mnt"));
  if (!ns.ok()) {
    state.SkipWithError("Namespace::Path failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = RunIn(*ns, "noop", [] { return absl::OkStatus(); });
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_RunInPathNoop)->UseRealTime();

bool Spawn(const char* const argv[]) {
  pid_t p = ::fork();
  if (p < 0) return false;
  if (p == 0) {
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(p, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void BM_NsenterMountUmount(benchmark::State& state) {
  std::string dir = Dir("nsenter");
  std::string pid = absl::StrCat(g_child->pid());
  const char* mount_argv[] = {"/usr/bin/nsenter",
                              "-t",
                              pid.c_str(),
                              "-m",
                              "mount",
                              "-t",
                              "tmpfs",
                              "-o",
                              "size=64k",
                              "linx-bench",
                              dir.c_str(),
                              nullptr};
  const char* umount_argv[] = {
      "/usr/bin/nsenter", "-t",        pid.c_str(), "-m",
      "umount",           dir.c_str(), nullptr};
  for (auto _ : state) {
    if (!Spawn(mount_argv) || !Spawn(umount_argv)) {
      state.SkipWithError("nsenter mount/umount failed");
      break;
    }
  }
}
BENCHMARK(BM_NsenterMountUmount)->UseRealTime();

int SetUp() {
  if (::unshare(CLONE_NEWNS) != 0) {
    std::perror("unshare(CLONE_NEWNS) (needs CAP_SYS_ADMIN)");
    return 1;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("make / rprivate");
    return 1;
  }
  g_scratch = new std::string(absl::StrCat("/tmp/linx-bench-", ::getpid()));
  if (::mkdir(g_scratch->c_str(), 0755) != 0 ||
      ::mount("linx-bench", g_scratch->c_str(), "tmpfs", 0, "size=16m") != 0) {
    std::perror("scratch tmpfs");
    return 1;
  }
  for (const char* d : {"self", "pid", "batch", "nsenter", "ten"}) {
    if (::mkdir(Dir(d).c_str(), 0755) != 0) {
      std::perror("mkdir");
      return 1;
    }
  }
  auto child = testing::ParkedChild::Spawn();
  if (!child.ok()) {
    std::fprintf(stderr, "parked child: %s\n",
                 child.status().ToString().c_str());
    return 1;
  }
  g_child = child->release();
  return 0;
}

void TearDown() {
  delete g_child;  // kills and reaps it; its namespaces die with it
  ::umount2(g_scratch->c_str(), MNT_DETACH);
  ::rmdir(g_scratch->c_str());
}

}  // namespace
}  // namespace linx

int main(int argc, char** argv) {
  if (int rc = linx::SetUp(); rc != 0) return rc;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  linx::TearDown();
  return 0;
}
