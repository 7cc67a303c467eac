// nsexec against real processes parked in fresh mount + PID namespaces.
// Every stage is provoked and checked by {stage, errno}; mounts are verified
// by reading the kernel's tables back.
#include "nsexec/nsexec.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nsexec/internal/pid_open_mode.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::nsexec_internal::PidOpenMode;
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

// True when `mountinfo` has a mount whose mount point (field 5) is `dir`.
bool HasMountAt(const std::string& mountinfo, const std::string& dir) {
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point == dir) return true;
  }
  return false;
}

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
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

class ScopedPidOpenMode {
 public:
  explicit ScopedPidOpenMode(PidOpenMode m) {
    nsexec_internal::SetPidOpenModeForTesting(m);
  }
  ~ScopedPidOpenMode() {
    nsexec_internal::SetPidOpenModeForTesting(PidOpenMode::kAuto);
  }
};

// A pid that names no process right now: a reaped child's.
pid_t DeadPid() {
  pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  int st;
  ::waitpid(p, &st, 0);
  return p;
}

// ---------------------------------------------------------------------------
// Arguments: bad_in, never a syscall.

TEST(NamespaceParseTest, AcceptsSelfPidAndPath) {
  ASSERT_OK_AND_ASSIGN(Namespace self, Namespace::Parse("self"));
  EXPECT_TRUE(self.is_self());
  EXPECT_EQ(self.Describe(), "");
  ASSERT_OK_AND_ASSIGN(Namespace mine,
                       Namespace::Parse(absl::StrCat("pid:", ::getpid())));
  EXPECT_FALSE(mine.is_self());
  EXPECT_EQ(mine.pid(), ::getpid());
  EXPECT_EQ(mine.Describe(),
            absl::StrCat("mount namespace of pid ", ::getpid()));
  ASSERT_OK_AND_ASSIGN(Namespace path,
                       Namespace::Parse("path:/proc/self/ns/mnt"));
  EXPECT_EQ(path.Describe(), "mount namespace at /proc/self/ns/mnt");
  EXPECT_EQ(path.pid(), 0);
}

TEST(NamespaceParseTest, GarbageIsBadInNamingTheValue) {
  for (const char* spec :
       {"", "Self", "pid", "pid:", "pid:0", "pid:-1", "pid:+5", "pid: 5",
        "pid:5 ", "pid:12abc", "pid:99999999999", "path:", "path:rel/x",
        "mnt:/proc/self/ns/mnt", "nonsense"}) {
    SCOPED_TRACE(spec);
    absl::StatusOr<Namespace> ns = Namespace::Parse(spec);
    EXPECT_THAT(ns, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(ns, StageIs(Stage::kBadIn));
    std::optional<OpError> e = GetOpError(ns.status());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->errno_value, 0);
  }
  std::optional<OpError> e = GetOpError(Namespace::Parse("pid:12abc").status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "pid:12abc");
  EXPECT_THAT(Namespace::Parse("pid:12abc").status().message(),
              HasSubstr("pid:12abc"));
}

TEST(NamespacePidTest, NonPositivePidIsBadIn) {
  for (pid_t pid : {0, -1, -12345}) {
    SCOPED_TRACE(pid);
    absl::StatusOr<Namespace> ns = Namespace::Pid(pid);
    EXPECT_THAT(ns, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(ns, StageIs(Stage::kBadIn));
    EXPECT_EQ(GetOpError(ns.status())->value, absl::StrCat("pid:", pid));
  }
}

TEST(NamespacePathTest, RelativeEmptyOrNulIsBadIn) {
  for (absl::string_view p : {absl::string_view("rel"), absl::string_view(""),
                              absl::string_view("proc/self/ns/mnt"),
                              absl::string_view("/proc/self\0/ns/mnt", 18)}) {
    SCOPED_TRACE(std::string(p));
    absl::StatusOr<Namespace> ns = Namespace::Path(p);
    EXPECT_THAT(ns, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(ns, StageIs(Stage::kBadIn));
  }
  EXPECT_THAT(Namespace::Path("/proc/self/ns/mnt", "rel"),
              StageIs(Stage::kBadIn));
}

TEST(NamespacePidfdTest, NegativeIsBadInAndClosedIsEbadf) {
  EXPECT_THAT(Namespace::Pidfd(-1), StageIs(Stage::kBadIn));
  EXPECT_THAT(Namespace::Pidfd(-1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  absl::StatusOr<Namespace> ns = Namespace::Pidfd(fd);
  EXPECT_THAT(ns, StageIs(Stage::kOpenNs));
  EXPECT_THAT(ns, ErrnoIs(EBADF));
}

// ---------------------------------------------------------------------------
// Opening: open_ns in the caller's thread.

class PidModeTest : public ::testing::TestWithParam<PidOpenMode> {
 protected:
  void SetUp() override {
    if (GetParam() == PidOpenMode::kPidfd &&
        !nsexec_internal::PidfdSetnsSupported()) {
      LINX_SKIP_OR_FAIL("kernel lacks setns(2) on a pidfd (Linux 5.8+)");
    }
  }
  ScopedPidOpenMode mode_{GetParam()};
};

std::string ModeName(const ::testing::TestParamInfo<PidOpenMode>& info) {
  return info.param == PidOpenMode::kPidfd ? "Pidfd" : "ProcDir";
}

TEST_P(PidModeTest, MissingPidFailsFastAtOpenNsWithEnoent) {
  pid_t dead = DeadPid();
  ASSERT_NE(::kill(dead, 0), 0);
  absl::StatusOr<Namespace> ns = Namespace::Pid(dead);
  EXPECT_THAT(ns, StageIs(Stage::kOpenNs));
  EXPECT_THAT(ns, ErrnoIs(ENOENT));
  EXPECT_THAT(ns, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ns.status().message(),
              HasSubstr(absl::StrCat("no such process ", dead)));
}

TEST(NamespacePathTest, MissingFileIsOpenNsEnoent) {
  std::string dir = MakeScratchDir("missing");
  absl::StatusOr<Namespace> ns = Namespace::Path(dir + "/nope");
  EXPECT_THAT(ns, StageIs(Stage::kOpenNs));
  EXPECT_THAT(ns, ErrnoIs(ENOENT));
}

TEST(NamespacePathTest, DirectoryOrWrongNamespaceTypeIsRefusedAtOpen) {
  std::string dir = MakeScratchDir("dir");
  EXPECT_THAT(Namespace::Path(dir), StageIs(Stage::kOpenNs));
  EXPECT_THAT(Namespace::Path(dir), ErrnoIs(EINVAL));
  absl::StatusOr<Namespace> net = Namespace::Path("/proc/self/ns/net");
  EXPECT_THAT(net, StageIs(Stage::kOpenNs));
  EXPECT_THAT(net, ErrnoIs(EINVAL));
  EXPECT_THAT(net.status().message(), HasSubstr("is a net namespace"));
  absl::StatusOr<Namespace> pid2 =
      Namespace::Path("/proc/self/ns/mnt", "/proc/self/ns/mnt");
  EXPECT_THAT(pid2, StageIs(Stage::kOpenPidns));
  EXPECT_THAT(pid2, ErrnoIs(EINVAL));
}

TEST(RunInTest, RegularFileAsNamespaceFailsAtSetnsWithEinval) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string file = MakeScratchDir("regular") + "/file";
  UniqueFd fd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Path(file));
  bool ran = false;
  absl::Status s = RunIn(ns, "mount", [&] {
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StageIs(Stage::kSetns));
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(s.message(), "setns: EINVAL (Invalid argument)");
  EXPECT_EQ(GetOpError(s)->operation, "mount");
  EXPECT_FALSE(ran);
}

// ---------------------------------------------------------------------------
// RunIn against a parked child.

TEST_P(PidModeTest, MountInChildIsSeenThereAndNotHere) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("visible");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  std::string worker_table;
  ASSERT_OK(RunIn(ns, "mount", [&]() -> absl::Status {
    if (::mount("linx-t", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
      return absl::InternalError(absl::StrCat("mount: ", errno));
    }
    worker_table = ReadFile("/proc/thread-self/mountinfo");
    return absl::OkStatus();
  }));
  EXPECT_TRUE(HasMountAt(worker_table, dir));
  EXPECT_TRUE(HasMountAt(
      ReadFile(absl::StrCat("/proc/", child->pid(), "/mountinfo")), dir));
  EXPECT_FALSE(HasMountAt(ReadFile("/proc/thread-self/mountinfo"), dir));
  EXPECT_FALSE(HasMountAt(ReadFile("/proc/self/mountinfo"), dir));

  ASSERT_OK(RunIn(ns, "umount", [&]() -> absl::Status {
    if (::umount2(dir.c_str(), 0) != 0) {
      return absl::InternalError(absl::StrCat("umount: ", errno));
    }
    return absl::OkStatus();
  }));
  EXPECT_FALSE(HasMountAt(
      ReadFile(absl::StrCat("/proc/", child->pid(), "/mountinfo")), dir));
}

TEST_P(PidModeTest, WorkerIsInTargetNamespaceAtItsRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ino_t target = InodeOf(absl::StrCat("/proc/", child->pid(), "/ns/mnt"));
  ino_t mine = InodeOf("/proc/thread-self/ns/mnt");
  ASSERT_NE(target, mine);
  ino_t seen = 0;
  char cwd[4096] = {};
  ASSERT_OK(RunIn(ns, "probe", [&] {
    seen = InodeOf("/proc/thread-self/ns/mnt");
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) cwd[0] = '?';
    return absl::OkStatus();
  }));
  EXPECT_EQ(seen, target);
  EXPECT_STREQ(cwd, "/");  // setns(CLONE_NEWNS) moved cwd to the root
  EXPECT_EQ(InodeOf("/proc/thread-self/ns/mnt"), mine);
}

TEST_P(PidModeTest, ProcessThatExitedAfterOpen) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ino_t target = InodeOf(absl::StrCat("/proc/", child->pid(), "/ns/mnt"));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  child->Kill();  // killed and reaped: the namespace has no process left
  ino_t seen = 0;
  absl::Status s = RunIn(ns, "probe", [&] {
    seen = InodeOf("/proc/thread-self/ns/mnt");
    return absl::OkStatus();
  });
  if (GetParam() == PidOpenMode::kPidfd) {
    // The pidfd names the dead process: setns(2) refuses with ESRCH.
    EXPECT_THAT(s, StageIs(Stage::kSetns));
    EXPECT_THAT(s, ErrnoIs(ESRCH));
    EXPECT_EQ(seen, 0u);
  } else {
    // The ns/mnt file opened at Pid() time keeps the mount namespace alive:
    // it is still joinable, though no process lives in it any more.
    EXPECT_OK(s);
    EXPECT_EQ(seen, target);
  }
}

TEST_P(PidModeTest, WithoutCapSysAdminSetnsFailsWithEperm) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_CHROOT}) {
    SCOPED_TRACE(cap);
    absl::Status s;
    bool dropped = false;
    bool ran = false;
    // Capabilities are per thread: drop on a helper thread, whose RunIn
    // worker inherits the reduced set.
    std::thread t([&] {
      dropped = DropEffectiveCapOnThisThread(cap);
      s = RunIn(ns, "mount", [&] {
        ran = true;
        return absl::OkStatus();
      });
    });
    t.join();
    ASSERT_TRUE(dropped);
    EXPECT_THAT(s, StageIs(Stage::kSetns));
    EXPECT_THAT(s, ErrnoIs(EPERM));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_FALSE(ran);
  }
  EXPECT_TRUE(testing::HasCapability(CAP_SYS_ADMIN));  // this thread untouched
}

INSTANTIATE_TEST_SUITE_P(BothWays, PidModeTest,
                         ::testing::Values(PidOpenMode::kPidfd,
                                           PidOpenMode::kProcDir),
                         ModeName);

TEST(RunInTest, PathAndPidfdTargetsReachTheSameNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string mnt = absl::StrCat("/proc/", child->pid(), "/ns/mnt");
  ino_t target = InodeOf(mnt);
  ASSERT_OK_AND_ASSIGN(Namespace by_path, Namespace::Path(mnt));
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child->pid(), 0)));
  ASSERT_TRUE(pidfd.valid());
  ASSERT_OK_AND_ASSIGN(Namespace by_pidfd, Namespace::Pidfd(pidfd.get()));
  pidfd.reset();  // Pidfd() duplicated it
  EXPECT_EQ(by_pidfd.Describe().rfind("mount namespace of pidfd ", 0), 0u);
  for (const Namespace* ns : {&by_path, &by_pidfd}) {
    ino_t seen = 0;
    ASSERT_OK(RunIn(*ns, "probe", [&] {
      seen = InodeOf("/proc/thread-self/ns/mnt");
      return absl::OkStatus();
    }));
    EXPECT_EQ(seen, target) << ns->Describe();
  }
}

TEST(RunInTest, SelfKeepsNamespaceAndCwdAndReturnsFnStatus) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ino_t mine = InodeOf("/proc/thread-self/ns/mnt");
  char here[4096];
  ASSERT_NE(::getcwd(here, sizeof(here)), nullptr);
  ino_t seen = 0;
  char cwd[4096] = {};
  pid_t tid = 0;
  absl::Status s = RunIn(Namespace::Self(), "op", [&] {
    seen = InodeOf("/proc/thread-self/ns/mnt");
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) cwd[0] = '?';
    // A chdir here stays on the worker (it unshared CLONE_FS).
    if (::chdir("/") != 0) return absl::InternalError("chdir");
    return absl::FailedPreconditionError("from fn");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.message(), "from fn");
  EXPECT_FALSE(GetOpError(s).has_value());
  EXPECT_EQ(seen, mine);
  EXPECT_STREQ(cwd, here);
  EXPECT_NE(tid, static_cast<pid_t>(::syscall(SYS_gettid)));
  char after[4096];
  ASSERT_NE(::getcwd(after, sizeof(after)), nullptr);
  EXPECT_STREQ(after, here);
}

TEST(RunInTest, SelfMeansTheCallingThreadsNamespaceEvenWhenNested) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ino_t target = InodeOf(absl::StrCat("/proc/", child->pid(), "/ns/mnt"));
  ino_t inner = 0;
  ASSERT_OK(RunIn(ns, "outer", [&] {
    return RunIn(Namespace::Self(), "inner", [&] {
      inner = InodeOf("/proc/thread-self/ns/mnt");
      return absl::OkStatus();
    });
  }));
  EXPECT_EQ(inner, target);
}

TEST(RunInTest, WorkerBlocksAsyncSignals) {
  sigset_t seen;
  sigemptyset(&seen);
  ASSERT_OK(RunIn(Namespace::Self(), "probe", [&] {
    ::pthread_sigmask(SIG_BLOCK, nullptr, &seen);
    return absl::OkStatus();
  }));
  EXPECT_TRUE(sigismember(&seen, SIGTERM));
  EXPECT_TRUE(sigismember(&seen, SIGINT));
  EXPECT_TRUE(sigismember(&seen, SIGCHLD));
  EXPECT_FALSE(sigismember(&seen, SIGSEGV));
}

// ---------------------------------------------------------------------------
// RunInForked: the proc path.

struct ProcArg {
  char dir[256];
};

StageErrno MountProc(void* arg) {
  auto* a = static_cast<ProcArg*>(arg);
  if (::mount("proc", a->dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    return {Stage::kMount, errno};
  }
  return {};
}

std::set<std::string> NumericEntries(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    int n;
    if (absl::SimpleAtoi(e->d_name, &n)) out.insert(e->d_name);
  }
  ::closedir(d);
  return out;
}

TEST_P(PidModeTest, ForkedProcShowsOnlyTheTargetsPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("proc");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  ProcArg arg{};
  ASSERT_LT(dir.size(), sizeof(arg.dir));
  dir.copy(arg.dir, dir.size());
  ASSERT_OK(RunInForked(ns, "mount", &MountProc, &arg));
  std::set<std::string> pids;
  ino_t pid1_mnt = 0;
  ASSERT_OK(RunIn(ns, "read", [&] {
    pids = NumericEntries(dir);
    pid1_mnt = InodeOf(dir + "/1/ns/mnt");
    return absl::OkStatus();
  }));
  // Only the parked child, pid 1 of its namespace; the forked mounter has
  // been reaped.
  EXPECT_EQ(pids, std::set<std::string>{"1"});
  EXPECT_EQ(pid1_mnt, InodeOf(absl::StrCat("/proc/", child->pid(), "/ns/mnt")));
  EXPECT_FALSE(HasMountAt(ReadFile("/proc/thread-self/mountinfo"), dir));
  ASSERT_OK(RunIn(ns, "umount", [&]() -> absl::Status {
    return ::umount2(dir.c_str(), 0) == 0 ? absl::OkStatus()
                                          : absl::InternalError("umount");
  }));
}

TEST_P(PidModeTest, ForkedOnExitedProcess) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  child->Kill();
  ProcArg arg{};
  absl::Status s = RunInForked(ns, "mount", &MountProc, &arg);
  if (GetParam() == PidOpenMode::kPidfd) {
    EXPECT_THAT(s, StageIs(Stage::kSetns));
    EXPECT_THAT(s, ErrnoIs(ESRCH));
  } else {
    // Both namespace files still hold their namespaces, but the PID
    // namespace's init is gone: no process can be born there.
    EXPECT_THAT(s, StageIs(Stage::kFork));
    EXPECT_THAT(s, ErrnoIs(ENOMEM));
  }
}

TEST(RunInForkedTest, PidNamespaceWhoseInitDiedFailsAtForkWithEnomem) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  // Hold both namespaces by file, then let their init (the parked child) die.
  UniqueFd mnt(::open(absl::StrCat("/proc/", child->pid(), "/ns/mnt").c_str(),
                      O_RDONLY | O_CLOEXEC));
  UniqueFd pidns(::open(absl::StrCat("/proc/", child->pid(), "/ns/pid").c_str(),
                        O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(mnt.valid());
  ASSERT_TRUE(pidns.valid());
  child->Kill();
  ASSERT_OK_AND_ASSIGN(
      Namespace ns,
      Namespace::Path(absl::StrCat("/proc/self/fd/", mnt.get()),
                      absl::StrCat("/proc/self/fd/", pidns.get())));
  ProcArg arg{};
  absl::Status s = RunInForked(ns, "mount", &MountProc, &arg);
  EXPECT_THAT(s, StageIs(Stage::kFork));
  EXPECT_THAT(s, ErrnoIs(ENOMEM));
  EXPECT_EQ(s.message(), "fork: ENOMEM (Cannot allocate memory)");
}

TEST(RunInForkedTest, RegularFileAsPidNamespaceFailsAtSetnsPid) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string file = MakeScratchDir("pidns") + "/file";
  UniqueFd fd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd.valid());
  ASSERT_OK_AND_ASSIGN(Namespace ns,
                       Namespace::Path("/proc/self/ns/mnt", file));
  ProcArg arg{};
  absl::Status s = RunInForked(ns, "mount", &MountProc, &arg);
  EXPECT_THAT(s, StageIs(Stage::kSetnsPid));
  EXPECT_THAT(s, ErrnoIs(EINVAL));
}

StageErrno ReportBusy(void*) { return {Stage::kMount, EBUSY}; }

StageErrno KillSelf(void*) {
  ::syscall(SYS_kill, ::syscall(SYS_getpid), SIGKILL);
  return {};
}

StageErrno WriteOwnPid(void* arg) {
  *static_cast<volatile pid_t*>(arg) =
      static_cast<pid_t>(::syscall(SYS_getpid));
  return {};
}

TEST(RunInForkedTest, ChildStageAndErrnoComeBack) {
  absl::Status s =
      RunInForked(Namespace::Self(), "umount", &ReportBusy, nullptr);
  EXPECT_THAT(s, StageIs(Stage::kMount));
  EXPECT_THAT(s, ErrnoIs(EBUSY));
  EXPECT_EQ(GetOpError(s)->operation, "umount");
  EXPECT_EQ(s.message(), "mount: EBUSY (Device or resource busy)");
}

TEST(RunInForkedTest, ChildRunsInACopyOfMemory) {
  volatile pid_t seen = 0;
  ASSERT_OK(RunInForked(Namespace::Self(), "probe", &WriteOwnPid,
                        const_cast<pid_t*>(&seen)));
  EXPECT_EQ(seen, 0);  // the write happened in the child's copy
}

TEST(RunInForkedTest, ChildDeathWithoutReportIsAborted) {
  absl::Status s = RunInForked(Namespace::Self(), "mount", &KillSelf, nullptr);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(s, StageIs(Stage::kFork));
  EXPECT_THAT(s.message(), HasSubstr("killed by signal 9 (SIGKILL)"));
}

TEST(RunInForkedTest, NullFnIsBadArgument) {
  EXPECT_THAT(RunInForked(Namespace::Self(), "mount", nullptr, nullptr),
              StageIs(Stage::kBadArgument));
}

TEST(RunInForkedTest, NoFreeDescriptorFailsAtPipeWithEmfile) {
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  // Fill every free slot below a low limit, then free exactly one: pipe2
  // needs two.
  int max_fd = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) max_fd = fd;
  }
  struct rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(max_fd + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fillers.push_back(fd);
  }
  ASSERT_FALSE(fillers.empty());
  ::close(fillers.back());
  fillers.pop_back();
  absl::Status s =
      RunInForked(Namespace::Self(), "mount", &ReportBusy, nullptr);
  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_THAT(s, StageIs(Stage::kPipe));
  EXPECT_THAT(s, ErrnoIs(EMFILE));
}

TEST(RunInForkedTest, MountAndPidNamespaceFilesReachTheChildsPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("proc-by-path");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string base = absl::StrCat("/proc/", child->pid(), "/ns/");
  ASSERT_OK_AND_ASSIGN(Namespace ns,
                       Namespace::Path(base + "mnt", base + "pid"));
  ProcArg arg{};
  dir.copy(arg.dir, dir.size());
  ASSERT_OK(RunInForked(ns, "mount", &MountProc, &arg));
  std::set<std::string> pids;
  ASSERT_OK(RunIn(ns, "read", [&] {
    pids = NumericEntries(dir);
    return absl::OkStatus();
  }));
  EXPECT_EQ(pids, std::set<std::string>{"1"});
}

size_t OpenFdCount() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

TEST(NamespaceTest, NoDescriptorLeaksOnSuccessOrFailure) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string file = MakeScratchDir("leak") + "/file";
  UniqueFd f(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(f.valid());
  pid_t dead = DeadPid();
  size_t before = OpenFdCount();
  for (PidOpenMode mode : {PidOpenMode::kPidfd, PidOpenMode::kProcDir}) {
    if (mode == PidOpenMode::kPidfd &&
        !nsexec_internal::PidfdSetnsSupported()) {
      continue;
    }
    ScopedPidOpenMode m(mode);
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<Namespace> a = Namespace::Pid(::getpid());
      ASSERT_OK(a);
      Namespace copy = *a;  // copies share the descriptors
      a = Namespace::Pid(dead);
      EXPECT_THAT(a, ErrnoIs(ENOENT));
      EXPECT_OK(RunIn(copy, "noop", [] { return absl::OkStatus(); }));
      EXPECT_THAT(Namespace::Path("/proc/self/ns/net"), ErrnoIs(EINVAL));
      absl::StatusOr<Namespace> bad = Namespace::Path(file);
      ASSERT_OK(bad);
      EXPECT_THAT(RunIn(*bad, "noop", [] { return absl::OkStatus(); }),
                  ErrnoIs(EINVAL));
      EXPECT_THAT(RunInForked(*bad, "noop", &ReportBusy, nullptr),
                  StageIs(Stage::kSetns));
      EXPECT_THAT(RunInForked(Namespace::Self(), "noop", &ReportBusy, nullptr),
                  ErrnoIs(EBUSY));
    }
  }
  EXPECT_EQ(OpenFdCount(), before);
}

}  // namespace
}  // namespace linx
