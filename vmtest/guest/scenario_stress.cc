// Scenario 8: nsexec under load on a real kernel. Threads x operations, each
// a RunIn into a parked child's mount namespace that mounts and unmounts a
// tmpfs; afterwards the caller's namespace, root, cwd, fds and threads are
// exactly as before and the child's table holds no leftovers.
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "mount/mount.h"
#include "nsexec/nsexec.h"
#include "vmtest/guest/harness.h"

namespace linx::vmtest {
namespace {

constexpr int kThreads = 4;
constexpr int kOpsPerThread = 60;

struct Snapshot {
  ino_t mnt_ns = 0;
  std::string root, cwd, threads;
  int fds = 0;
  size_t mounts = 0;
};

absl::StatusOr<Snapshot> Take() {
  Snapshot s;
  struct stat st;
  if (::stat("/proc/self/ns/mnt", &st) != 0) return Failure("stat ns/mnt");
  s.mnt_ns = st.st_ino;
  char buf[4096] = {};
  if (::readlink("/proc/self/root", buf, sizeof buf - 1) < 0)
    return Failure("readlink root");
  s.root = buf;
  if (::getcwd(buf, sizeof buf) == nullptr) return Failure("getcwd");
  s.cwd = buf;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return Failure("opendir fd");
  while (::readdir(d) != nullptr) ++s.fds;
  ::closedir(d);
  auto status = ReadFile("/proc/self/status");
  if (!status.ok()) return status.status();
  size_t p = status->find("Threads:");
  s.threads = status->substr(p, status->find('\n', p) - p);
  auto t = ReadMounts();
  if (!t.ok()) return t.status();
  s.mounts = t->size();
  return s;
}

LINX_VM_SCENARIO(
    nsexec_stress, 8,
    "4 threads x 60 mount+umount into a child (RunIn and linx verbs "
    "with in: pid); caller unchanged, no leftovers") {
  auto child = Child::Start(
      CLONE_NEWNS | CLONE_NEWPID,
      [](const Channel& ch) -> absl::Status { return ch.Expect("bye"); });
  if (!child.ok()) return child.status();
  for (int i = 0; i < kThreads; ++i) {
    VM_RETURN_IF_ERROR(MakeDirs(absl::StrCat("/scratch/stress/t", i)), "mkdir");
  }
  auto ns = Namespace::Pid((*child)->pid());
  if (!ns.ok()) return ns.status();
  // The baseline settles too: Namespace::Pid's one-time probe of setns on a
  // pidfd runs on a throwaway thread that may still be leaving the thread
  // group (seen on 6.1: Threads 2 -> 1 across the run).
  auto before = Take();
  for (int i = 0; i < 200 && before.ok() && before->threads != "Threads:\t1";
       ++i) {
    ::usleep(10000);
    before = Take();
  }
  if (!before.ok()) return before.status();

  std::atomic<int> failures{0};
  std::string first_error;
  std::atomic<bool> have_error{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string dir = absl::StrCat("/scratch/stress/t", i);
      for (int op = 0; op < kOpsPerThread; ++op) {
        absl::Status s;
        if (i % 2 == 0) {
          // nsexec directly, raw syscalls on the worker.
          s = RunIn(*ns, "stress", [&]() -> absl::Status {
            VM_SYS(::mount("stress", dir.c_str(), "tmpfs", 0, "size=16k"));
            VM_SYS(::umount2(dir.c_str(), 0));
            return absl::OkStatus();
          });
        } else {
          // The linx verbs with in: pid (each its own nsexec trip).
          MountOptions mo;
          mo.data = "size=16k";
          mo.in = *ns;
          s = Mount("stress", dir, "tmpfs", mo);
          if (s.ok()) {
            UmountOptions uo;
            uo.in = *ns;
            s = Umount(dir, uo);
          }
        }
        if (!s.ok()) {
          ++failures;
          if (!have_error.exchange(true))
            first_error = std::string(s.message());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  VM_EXPECT(failures == 0, failures.load(), " of ", kThreads * kOpsPerThread,
            " operations failed, first: ", first_error);
  // A joined thread can still be counted for a moment: pthread_join returns
  // when the kernel clears the tid (exit_mm), before the thread leaves the
  // thread group. Wait for it to settle; a real leak stays.
  auto after = Take();
  for (int i = 0; i < 200 && after.ok() && after->threads != before->threads;
       ++i) {
    ::usleep(10000);
    after = Take();
  }
  if (!after.ok()) return after.status();
  VM_EXPECT(after->mnt_ns == before->mnt_ns, "caller's mount ns changed");
  VM_EXPECT(after->root == before->root, "root moved to ", after->root);
  VM_EXPECT(after->cwd == before->cwd, "cwd moved to ", after->cwd);
  VM_EXPECT(after->fds == before->fds, "fds ", before->fds, " -> ", after->fds);
  VM_EXPECT(after->threads == before->threads, before->threads, " -> ",
            after->threads);
  VM_EXPECT(after->mounts == before->mounts, "caller's table changed");
  auto theirs = ReadMounts(std::to_string((*child)->pid()));
  if (!theirs.ok()) return theirs.status();
  for (const MountInfo& m : *theirs) {
    VM_EXPECT(m.source != "stress", "leftover mount at ", m.target);
  }
  Note(absl::StrCat(kThreads * kOpsPerThread, " mount+umount pairs"));
  VM_RETURN_IF_ERROR((*child)->channel().Send("bye"), "send");
  return (*child)->Wait();
}

}  // namespace
}  // namespace linx::vmtest
