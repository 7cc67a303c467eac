// The verb pipeline's promises that span front ends and placements: Batch
// keeps every option, a namespace with an explicit PID namespace runs every
// mount there, proc into a Path target uses the caller's PID namespace,
// pivot_root in the caller's own namespace, and the C ABI's placeholder.
// Privileged: each test runs in this process's private mount namespace on
// the scratch tmpfs (privileged_test_main), with children parked in fresh
// namespaces where another namespace is needed.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/command.h"
#include "mount/linx_mount.h"
#include "mount/mount.h"
#include "mount/testing/mount_test_util.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::ParkedChild;
using ::linx::testing::ReadFile;
using ::linx::testing::ScopedMounts;
using ::linx::testing::StageIs;
using ::linx::testing::StatvfsFlags;
using ::linx::testing::TableText;
using ::linx::testing::WriteFile;

bool MountedIn(pid_t pid, const std::string& target) {
  absl::StatusOr<std::vector<MountInfo>> t = pid == 0 ? List() : List(pid);
  if (!t.ok()) return false;
  for (const MountInfo& m : *t) {
    if (m.target == target) return true;
  }
  return false;
}

TEST(BatchTest, HonoursRecursiveUmount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("batch-rec");
  ScopedMounts guard;
  guard.Mount("none", a, "tmpfs");
  std::string sub = MakeSubdir(a, "sub");
  guard.Mount("none", sub, "tmpfs");
  // Without recursive, the submount keeps the top busy.
  Batch plain;
  plain.Umount(a);
  EXPECT_THAT(plain.Run(), ErrnoIs(EBUSY));
  ASSERT_TRUE(MountedIn(0, a));
  UmountOptions rec;
  rec.recursive = true;
  Batch tree;
  tree.Umount(a, rec);
  ASSERT_OK(tree.Run());
  EXPECT_FALSE(MountedIn(0, sub));
  EXPECT_FALSE(MountedIn(0, a));
}

// linx_mount.h: with a pidns_path, the worker enters that PID namespace and
// a forked child performs the mount, for any mount (not only proc).
TEST(PidnsPathTest, EveryMountRunsInThatPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string mnt = absl::StrCat("/proc/", child->pid(), "/ns/mnt");
  std::string pidns = absl::StrCat("/proc/", child->pid(), "/ns/pid");
  std::string d = MakeScratchDir("pidns-any");
  linx_error err;
  ASSERT_EQ(linx_mount("pidns-tmpfs", d.c_str(), "tmpfs", MS_NOSUID, nullptr,
                       mnt.c_str(), pidns.c_str(), 0, &err),
            0)
      << err.message;
  EXPECT_TRUE(MountedIn(child->pid(), d));
  EXPECT_FALSE(MountedIn(0, d));
  // Proof that a child of that PID namespace made it: once the namespace's
  // init is gone, no process can be forked into it (fork: ENOMEM), while
  // the mount namespace, held open, stays joinable by a worker.
  ASSERT_OK_AND_ASSIGN(Namespace with_pidns, Namespace::Path(mnt, pidns));
  ASSERT_OK_AND_ASSIGN(Namespace mnt_only, Namespace::Path(mnt));
  child->Kill();
  std::string e = MakeScratchDir("pidns-dead");
  MountOptions o;
  o.in = with_pidns;
  absl::Status s = Mount("none", e, "tmpfs", o);
  EXPECT_THAT(s, StageIs(Stage::kFork));
  o.in = mnt_only;
  EXPECT_OK(Mount("none", e, "tmpfs", o));
}

// proc(5): a proc mount shows the PID namespace of the process that mounts
// it. Into a Path target without a pidns_path that is the caller's; into a
// pid's namespace it is that pid's.
TEST(ProcTest, PathTargetUsesTheCallersPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string p = MakeScratchDir("proc-path");
  std::string q = MakeScratchDir("proc-pid");
  ASSERT_OK_AND_ASSIGN(
      Namespace by_path,
      Namespace::Path(absl::StrCat("/proc/", child->pid(), "/ns/mnt")));
  ASSERT_OK_AND_ASSIGN(Namespace by_pid, Namespace::Pid(child->pid()));
  MountOptions o;
  o.in = by_path;
  ASSERT_OK(Mount("proc", p, "proc", o));
  o.in = by_pid;
  ASSERT_OK(Mount("proc", q, "proc", o));
  std::string me = std::to_string(::getpid());
  bool mine_in_p = false, mine_in_q = true, init_in_q = false;
  ASSERT_OK(RunIn(by_path, "check", [&] {
    mine_in_p = ::access((p + "/" + me).c_str(), F_OK) == 0;
    mine_in_q = ::access((q + "/" + me).c_str(), F_OK) == 0;
    init_in_q = ::access((q + "/1").c_str(), F_OK) == 0;
    return absl::OkStatus();
  }));
  EXPECT_TRUE(mine_in_p) << "the caller's PID namespace";
  EXPECT_FALSE(mine_in_q) << "the child's PID namespace";
  EXPECT_TRUE(init_in_q);
}

// A mount a forked child made is in the undo journal too (the child cannot
// write it: the executor records the path and reads the mount's ID there),
// and Undo in that namespace takes it back.
TEST(ProcTest, ForkedMountsAreJournaledAndUndone) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string d = MakeScratchDir("proc-undo");
  ASSERT_OK_AND_ASSIGN(Namespace by_pid, Namespace::Pid(child->pid()));
  std::string before = TableText(child->pid());
  MountCommand proc{"proc", d, "proc", {}};
  proc.options.in = by_pid;
  std::vector<UndoRecord> undo;
  ASSERT_OK(Execute(proc, &undo));
  ASSERT_EQ(undo.size(), 1u);
  EXPECT_EQ(undo[0].mounted_at, d);
  EXPECT_NE(undo[0].mount_id, 0u);
  EXPECT_TRUE(MountedIn(child->pid(), d));
  ASSERT_OK(Undo(undo, by_pid));
  EXPECT_FALSE(MountedIn(child->pid(), d));
  EXPECT_EQ(TableText(child->pid()), before);
}

// The same with a root (as `linx apply --in pid:N` mounts a container's
// /proc): a child forked into the target's PID namespace opens the proc's
// fs context, the worker resolves the target inside the root, configures,
// attaches and checks. The proc shows the child's PID namespace: not our
// pid, and /proc/1 is the child's init (its ns/pid link is the child's).
TEST(ProcTest, WithARootIntoAPidsNamespaceShowsThatNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string base = MakeScratchDir("proc-root");
  std::string root = MakeSubdir(base, "rootfs");
  MakeSubdir(root, "proc");
  MakeSubdir(base, "outside");
  ASSERT_EQ(::symlink("../outside", (root + "/escape").c_str()), 0);
  ASSERT_OK_AND_ASSIGN(Namespace by_pid, Namespace::Pid(child->pid()));
  MountOptions o;
  o.in = by_pid;
  o.root.dir = root;
  o.flags = {MountFlag::kNosuid, MountFlag::kNodev, MountFlag::kNoexec};
  o.data = "hidepid=1";
  ASSERT_OK(Mount("proc", "/proc", "proc", o));
  // A symlink in the image cannot take a proc out of the root: "../outside"
  // resolves to <root>/outside, which does not exist.
  absl::Status escape = Mount("proc", "/escape", "proc", o);
  EXPECT_THAT(escape, ErrnoIs(ENOENT));

  std::string me = std::to_string(::getpid());
  std::string want_pidns(64, '\0'), got_pidns(64, '\0');
  ssize_t wn =
      ::readlink(absl::StrCat("/proc/", child->pid(), "/ns/pid").c_str(),
                 &want_pidns[0], want_pidns.size());
  ASSERT_GT(wn, 0);
  want_pidns.resize(wn);
  bool mine = true, init = false, outside_mounted = true;
  std::string opts;
  ASSERT_OK(RunIn(by_pid, "check", [&] {
    mine = ::access((root + "/proc/" + me).c_str(), F_OK) == 0;
    init = ::access((root + "/proc/1").c_str(), F_OK) == 0;
    ssize_t n = ::readlink((root + "/proc/1/ns/pid").c_str(), &got_pidns[0],
                           got_pidns.size());
    got_pidns.resize(n > 0 ? n : 0);
    struct statvfs st;
    if (::statvfs((root + "/proc").c_str(), &st) == 0) {
      opts = absl::StrCat(st.f_flag & ST_NOSUID ? "nosuid " : "",
                          st.f_flag & ST_NODEV ? "nodev " : "",
                          st.f_flag & ST_NOEXEC ? "noexec" : "");
    }
    outside_mounted = ::access((base + "/outside/1").c_str(), F_OK) == 0;
    return absl::OkStatus();
  }));
  EXPECT_FALSE(mine) << "the proc shows the caller's PID namespace";
  EXPECT_TRUE(init);
  EXPECT_EQ(got_pidns, want_pidns);
  EXPECT_EQ(opts, "nosuid nodev noexec");
  EXPECT_FALSE(outside_mounted);
  EXPECT_TRUE(MountedIn(child->pid(), root + "/proc"));
  EXPECT_FALSE(MountedIn(0, root + "/proc"));
  // The kernel's options made it through fsconfig on the worker.
  bool hidepid = false;
  ASSERT_OK(RunIn(by_pid, "check", [&] {
    std::optional<std::string> mi = ReadFile("/proc/thread-self/mountinfo");
    hidepid = mi.has_value() && mi->find("hidepid=") != std::string::npos;
    return absl::OkStatus();
  }));
  EXPECT_TRUE(hidepid);
}

// A Batch takes the same path, and a dead PID namespace fails at fork
// before anything is touched.
TEST(ProcTest, WithARootInABatchAndIntoADeadPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  std::string root = MakeScratchDir("proc-root-batch");
  MakeSubdir(root, "proc");
  MakeSubdir(root, "tmp");
  std::string mnt = absl::StrCat("/proc/", child->pid(), "/ns/mnt");
  std::string pidns = absl::StrCat("/proc/", child->pid(), "/ns/pid");
  ASSERT_OK_AND_ASSIGN(Namespace by_pid, Namespace::Pid(child->pid()));
  ASSERT_OK_AND_ASSIGN(Namespace with_pidns, Namespace::Path(mnt, pidns));
  MountOptions o;
  o.root.dir = root;
  Batch b;
  b.Mount("tmp", "/tmp", "tmpfs", o);
  b.Mount("proc", "/proc", "proc", o);
  ASSERT_OK(b.Run(by_pid));
  EXPECT_TRUE(MountedIn(child->pid(), root + "/tmp"));
  EXPECT_TRUE(MountedIn(child->pid(), root + "/proc"));
  bool mine = true;
  ASSERT_OK(RunIn(by_pid, "check", [&] {
    mine = ::access((root + "/proc/" + std::to_string(::getpid())).c_str(),
                    F_OK) == 0;
    return absl::OkStatus();
  }));
  EXPECT_FALSE(mine);
  ASSERT_OK_AND_ASSIGN(Namespace mnt_only, Namespace::Path(mnt));
  child->Kill();
  std::string other = MakeSubdir(root, "proc2");
  o.in = with_pidns;
  EXPECT_THAT(Mount("proc", "/proc2", "proc", o), StageIs(Stage::kFork));
  bool mounted = true;
  ASSERT_OK(RunIn(mnt_only, "check", [&] {
    mounted = ::access((other + "/1").c_str(), F_OK) == 0;
    return absl::OkStatus();
  }));
  EXPECT_FALSE(mounted);
}

// pivot_root(2) in the caller's own namespace, from a test child that has
// its own mount namespace: the worker made the call, the child's cwd (not
// the old root) is the same directory afterwards, and the child's root
// moved with the namespace's root, as pivot_root(2) does for every process
// whose root was the old root.
TEST(PivotRootTest, InTheCallersOwnNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string new_root = MakeScratchDir("pivot-self");
  std::string here = MakeScratchDir("pivot-cwd");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // 10: unshare, 11: set-up, 12: pivot failed, 13: cwd moved, 14: root
    // is not new_root.
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(10);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("newroot", new_root.c_str(), "tmpfs", 0, nullptr) != 0 ||
        ::mkdir((new_root + "/old").c_str(), 0755) != 0 ||
        ::chdir(here.c_str()) != 0) {
      ::_exit(11);
    }
    struct stat cwd_before, new_root_st;
    if (::stat(".", &cwd_before) != 0 ||
        ::stat(new_root.c_str(), &new_root_st) != 0) {
      ::_exit(11);
    }
    if (!PivotRoot(new_root, "old").ok()) ::_exit(12);
    struct stat cwd_after, root_after;
    if (::stat(".", &cwd_after) != 0 || cwd_after.st_ino != cwd_before.st_ino ||
        cwd_after.st_dev != cwd_before.st_dev) {
      ::_exit(13);
    }
    if (::stat("/", &root_after) != 0 ||
        root_after.st_ino != new_root_st.st_ino ||
        root_after.st_dev != new_root_st.st_dev ||
        ::access("/old/proc", F_OK) != 0) {
      ::_exit(14);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(MountedIn(0, new_root)) << "the test's namespace is untouched";
}

// linx_mount.h create_target=1: a placeholder file, then the bind onto it.
TEST(CAbiTest, CreateTargetMakesThePlaceholderAndBinds) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("c-create");
  std::string src = d + "/src";
  ASSERT_TRUE(WriteFile(src, "hello"));
  std::string dev = MakeSubdir(d, "dev");
  std::string target = dev + "/null-like";
  linx_error err;
  ASSERT_EQ(linx_bind(src.c_str(), target.c_str(), MS_RDONLY, nullptr, 1, &err),
            0)
      << err.message;
  EXPECT_TRUE(MountedIn(0, target));
  EXPECT_EQ(ReadFile(target), "hello");
  EXPECT_NE(StatvfsFlags(target) & ST_RDONLY, 0u);
  ASSERT_EQ(linx_umount(target.c_str(), 0, nullptr, &err), 0) << err.message;
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0) << "the placeholder stays";
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  // A failing bind removes the placeholder it made.
  std::string target2 = dev + "/other";
  EXPECT_EQ(
      linx_bind((d + "/missing").c_str(), target2.c_str(), 0, nullptr, 1, &err),
      -1);
  EXPECT_EQ(err.stage, LINX_STAGE_MOUNT);
  EXPECT_EQ(err.errno_value, ENOENT);
  EXPECT_NE(::access(target2.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace linx
