// linx::Worker against real processes parked in fresh mount + PID
// namespaces: where its functions run (read back from /proc/thread-self and
// the kernel's mountinfo), that the caller never moves, that destruction
// leaves no thread or descriptor behind, that concurrent callers are
// serialised, and that set-up errors carry RunIn's stages.
#include "nsexec/worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

// Skips a test that needs the private sandbox, or fails it when CI demands
// privileged tests run (LINX_REQUIRE_PRIVILEGED=1).
#define LINX_WORKER_REQUIRE_PRIVILEGED()                                       \
  do {                                                                         \
    if (!::linx::testing::Privileged()) {                                      \
      const char* require = std::getenv("LINX_REQUIRE_PRIVILEGED");            \
      if (require != nullptr && std::string(require) == "1") {                 \
        FAIL() << "LINX_REQUIRE_PRIVILEGED=1 but no private mount namespace: " \
               << ::linx::testing::PrivilegeSkipReason();                      \
      }                                                                        \
      GTEST_SKIP() << "needs a private mount namespace: "                      \
                   << ::linx::testing::PrivilegeSkipReason();                  \
    }                                                                          \
  } while (0)

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::IsOk;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::ParkedChild;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

std::pair<dev_t, ino_t> DevIno(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

std::string Readlink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

// True when `mountinfo` has a mount whose mount point (field 5) is `dir`.
bool HasMountAt(const std::string& mountinfo, const std::string& dir) {
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() > 4 && f[4] == dir) return true;
  }
  return false;
}

// The caller-side facts a Worker promises never to change.
struct CallerState {
  std::pair<dev_t, ino_t> thread_ns;
  std::pair<dev_t, ino_t> process_ns;
  std::pair<dev_t, ino_t> root;
  std::pair<dev_t, ino_t> cwd;
  std::string cwd_link;
  bool operator==(const CallerState& o) const {
    return thread_ns == o.thread_ns && process_ns == o.process_ns &&
           root == o.root && cwd == o.cwd && cwd_link == o.cwd_link;
  }
};

CallerState TakeCallerState() {
  return {DevIno("/proc/thread-self/ns/mnt"), DevIno("/proc/self/ns/mnt"),
          DevIno("/"), DevIno("."), Readlink("/proc/thread-self/cwd")};
}

// Drops `cap` from this thread's effective set only (capset(2) acts on the
// calling thread; glibc does not broadcast the raw syscall).
bool DropEffectiveCapOnThisThread(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  data[cap / 32].effective &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

// Thread count of this process, waiting up to 2 s for it to reach `want`:
// pthread_join returns when the kernel clears the thread id, a moment
// before the thread leaves /proc/self/task.
size_t ThreadsSettlingAt(size_t want) {
  size_t n = 0;
  for (int i = 0; i < 2000; ++i) {
    n = List("/proc/self/task").size();
    if (n == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return n;
}

TEST(WorkerTest, RunsInTheTargetNamespaceOnOneThread) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  std::string dir = MakeScratchDir("worker-target");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string child_ns = absl::StrCat("/proc/", child->pid(), "/ns/mnt");
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
  EXPECT_GT(worker.tid(), 0);
  EXPECT_NE(worker.tid(), ::gettid());

  std::pair<dev_t, ino_t> seen_ns;
  pid_t seen_tid = 0;
  ASSERT_OK(worker.Run("probe", [&] {
    seen_ns = DevIno("/proc/thread-self/ns/mnt");
    seen_tid = ::gettid();
    return absl::OkStatus();
  }));
  EXPECT_EQ(seen_ns, DevIno(child_ns));
  EXPECT_NE(seen_ns, DevIno("/proc/thread-self/ns/mnt"));
  EXPECT_EQ(seen_tid, worker.tid());

  // A mount made on the worker lands in the child's table, not ours.
  ASSERT_OK(worker.Run("mount", [&]() -> absl::Status {
    if (::mount("linx-worker", dir.c_str(), "tmpfs", 0, "size=64k") != 0) {
      return ErrnoToStatus(errno, "mount");
    }
    return absl::OkStatus();
  }));
  std::string child_table =
      ReadFile(absl::StrCat("/proc/", child->pid(), "/mountinfo"));
  EXPECT_TRUE(HasMountAt(child_table, dir)) << child_table;
  EXPECT_FALSE(HasMountAt(ReadFile("/proc/thread-self/mountinfo"), dir));
  ASSERT_OK(worker.Run("umount", [&]() -> absl::Status {
    if (::umount2(dir.c_str(), 0) != 0) return ErrnoToStatus(errno, "umount");
    return absl::OkStatus();
  }));
  EXPECT_FALSE(HasMountAt(
      ReadFile(absl::StrCat("/proc/", child->pid(), "/mountinfo")), dir));
}

TEST(WorkerTest, ThousandsOfCallsNeverMoveTheWorkerOrTheCaller) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  std::string dir = MakeScratchDir("worker-many");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::pair<dev_t, ino_t> child_ns =
      DevIno(absl::StrCat("/proc/", child->pid(), "/ns/mnt"));
  CallerState before = TakeCallerState();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
  for (int i = 0; i < 2000; ++i) {
    absl::Status s = worker.Run("mount", [&]() -> absl::Status {
      if (::gettid() != worker.tid()) return absl::InternalError("moved tid");
      if (DevIno("/proc/thread-self/ns/mnt") != child_ns) {
        return absl::InternalError("left the namespace");
      }
      if (::mount("linx-worker", dir.c_str(), "tmpfs", 0, "size=64k") != 0) {
        return ErrnoToStatus(errno, "mount");
      }
      if (::umount2(dir.c_str(), 0) != 0) return ErrnoToStatus(errno, "umount");
      return absl::OkStatus();
    });
    ASSERT_OK(s) << "call " << i;
    if (i % 500 == 0) {
      EXPECT_TRUE(TakeCallerState() == before) << i;
    }
  }
  EXPECT_TRUE(TakeCallerState() == before);
}

TEST(WorkerTest, FunctionStatusComesBackAsIsAndStateCarriesOver) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  std::string dir = MakeScratchDir("worker-state");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  CallerState before = TakeCallerState();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
  EXPECT_THAT(worker.Run("x", [] { return absl::DataLossError("mine"); }),
              StatusIs(absl::StatusCode::kDataLoss, "mine"));
  // The worker starts at the target's root; a chdir stays on the worker
  // and is what the next function sees.
  std::string cwd;
  ASSERT_OK(worker.Run("cwd", [&] {
    cwd = Readlink("/proc/thread-self/cwd");
    return absl::OkStatus();
  }));
  EXPECT_EQ(cwd, "/");
  ASSERT_OK(worker.Run("chdir", [&]() -> absl::Status {
    if (::chdir(dir.c_str()) != 0) return ErrnoToStatus(errno, "chdir");
    return absl::OkStatus();
  }));
  ASSERT_OK(worker.Run("cwd", [&] {
    cwd = Readlink("/proc/thread-self/cwd");
    return absl::OkStatus();
  }));
  EXPECT_EQ(cwd, dir);
  EXPECT_TRUE(TakeCallerState() == before);
}

TEST(WorkerTest, AsyncSignalsAreBlockedOnTheWorker) {
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(Namespace::Self()));
  sigset_t mask;
  ASSERT_OK(worker.Run("mask", [&] {
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return absl::OkStatus();
  }));
  for (int sig : {SIGINT, SIGTERM, SIGCHLD, SIGUSR1, SIGHUP, SIGALRM}) {
    EXPECT_EQ(::sigismember(&mask, sig), 1) << sig;
  }
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    EXPECT_EQ(::sigismember(&mask, sig), 0) << sig;
  }
}

TEST(WorkerTest, SelfKeepsTheCallersCwdAsOfStartAndNeverMovesIt) {
  // Needs no privilege: unshare(CLONE_FS) only, no setns.
  std::string here = Readlink("/proc/thread-self/cwd");
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(Namespace::Self()));
  std::string seen;
  ASSERT_OK(worker.Run("cwd", [&]() -> absl::Status {
    seen = Readlink("/proc/thread-self/cwd");
    if (::chdir("/") != 0) return ErrnoToStatus(errno, "chdir");
    return absl::OkStatus();
  }));
  EXPECT_EQ(seen, here);
  EXPECT_EQ(Readlink("/proc/thread-self/cwd"), here);
  EXPECT_EQ(DevIno("/proc/thread-self/ns/mnt"), DevIno("/proc/self/ns/mnt"));
}

TEST(WorkerTest, DestructionEndsTheThreadAndClosesNothingElse) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  size_t threads = ThreadsSettlingAt(List("/proc/self/task").size());
  size_t fds = List("/proc/self/fd").size();
  for (int round = 0; round < 50; ++round) {
    pid_t tid = 0;
    {
      ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
      ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
      tid = worker.tid();
      EXPECT_EQ(List("/proc/self/task").size(), threads + 1);
      ASSERT_OK(worker.Run("noop", [] { return absl::OkStatus(); }));
      // A moved Worker keeps the same thread; the moved-from one is empty.
      Worker moved = std::move(worker);
      EXPECT_EQ(moved.tid(), tid);
      EXPECT_EQ(worker.tid(), 0);  // NOLINT(bugprone-use-after-move)
    }
    EXPECT_EQ(ThreadsSettlingAt(threads), threads) << "round " << round;
    struct stat st {};
    EXPECT_NE(::stat(absl::StrCat("/proc/self/task/", tid).c_str(), &st), 0);
    EXPECT_EQ(List("/proc/self/fd").size(), fds) << "round " << round;
  }
}

TEST(WorkerTest, MovedFromWorkerFailsWithFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(Namespace::Self()));
  Worker other = std::move(worker);
  bool ran = false;
  absl::Status s = worker.Run("mount", [&] {  // NOLINT(bugprone-use-after-move)
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s, StageIs(Stage::kThread));
  EXPECT_FALSE(ran);
  EXPECT_OK(other.Run("noop", [] { return absl::OkStatus(); }));
  // Move-assigning over a live Worker ends that one's thread first.
  ASSERT_OK_AND_ASSIGN(Worker third, Worker::Start(Namespace::Self()));
  pid_t old_tid = third.tid();
  third = std::move(other);
  EXPECT_NE(third.tid(), old_tid);
  EXPECT_OK(third.Run("noop", [] { return absl::OkStatus(); }));
}

// A forked child inherits the Worker object but not its thread: Run()
// refuses instead of waiting forever, and destroying it does not join.
TEST(WorkerTest, InAForkedChildRunRefusesAndDestructionReturns) {
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(Namespace::Self()));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ran = false;
    absl::Status s = worker.Run("mount", [&] {
      ran = true;
      return absl::OkStatus();
    });
    int code = s.code() == absl::StatusCode::kFailedPrecondition && !ran &&
                       GetOpError(s) && GetOpError(s)->stage == Stage::kThread
                   ? 0
                   : 1;
    { Worker gone = std::move(worker); }  // must not hang in pthread_join
    ::_exit(code);
  }
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = ::waitpid(child, &status, WNOHANG);
    if (reaped == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reaped == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "the child hung";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent's Worker is untouched.
  EXPECT_OK(worker.Run("noop", [] { return absl::OkStatus(); }));
}

TEST(WorkerTest, ConcurrentCallersAreSerialised) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  CallerState before = TakeCallerState();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Worker worker, Worker::Start(ns));
  constexpr int kThreads = 8;
  constexpr int kCalls = 300;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  int total = 0;  // plain int: only ever touched on the worker
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        absl::Status s = worker.Run("count", [&] {
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          ++total;
          std::this_thread::yield();
          inside.fetch_sub(1);
          return ::gettid() == worker.tid()
                     ? absl::OkStatus()
                     : absl::InternalError("ran off the worker");
        });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(total, kThreads * kCalls);
  EXPECT_TRUE(TakeCallerState() == before);
}

// ---------------------------------------------------------------------------
// Set-up errors: the stages and messages of RunIn for the same failure.

TEST(WorkerStartTest, NotANamespaceFileFailsAtSetnsWithEinvalLikeRunIn) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  std::string file = absl::StrCat(MakeScratchDir("worker-file"), "/plain");
  { std::ofstream(file) << "x"; }
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Path(file));
  size_t threads = ThreadsSettlingAt(List("/proc/self/task").size());
  absl::StatusOr<Worker> w = Worker::Start(ns, "mount");
  EXPECT_THAT(w, StageIs(Stage::kSetns));
  EXPECT_THAT(w, ErrnoIs(EINVAL));
  absl::Status run_in = RunIn(ns, "mount", [] { return absl::OkStatus(); });
  EXPECT_EQ(w.status(), run_in);
  EXPECT_EQ(GetOpError(w.status())->operation, "mount");
  EXPECT_EQ(ThreadsSettlingAt(threads), threads);
}

TEST(WorkerStartTest, ExitedProcessPidfdFailsAtSetnsWithEsrch) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  pid_t pid = child->pid();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0) << errno;
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pidfd(pidfd));
  ::close(pidfd);
  child->Kill();
  absl::StatusOr<Worker> w = Worker::Start(ns);
  EXPECT_THAT(w, StageIs(Stage::kSetns));
  EXPECT_THAT(w, ErrnoIs(ESRCH));
  EXPECT_THAT(w.status().message(), HasSubstr("setns: ESRCH"));
}

TEST(WorkerStartTest, WithoutCapSysAdminSetnsFailsWithEperm) {
  LINX_WORKER_REQUIRE_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  // The worker inherits the capabilities of the thread that starts it.
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_CHROOT}) {
    SCOPED_TRACE(cap);
    absl::Status s;
    bool dropped = false;
    std::thread t([&] {
      dropped = DropEffectiveCapOnThisThread(cap);
      s = Worker::Start(ns).status();
    });
    t.join();
    ASSERT_TRUE(dropped);
    EXPECT_THAT(s, StageIs(Stage::kSetns));
    EXPECT_THAT(s, ErrnoIs(EPERM));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  }
}

}  // namespace
}  // namespace linx
