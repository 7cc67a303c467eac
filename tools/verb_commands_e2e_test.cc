// End-to-end tests of `linx mount|bind|move|remount|umount|pivot-root|
// version`: the real //tools:linx binary runs as a child process inside this
// test's private mount namespace (privileged_test_main; children inherit
// it), and every result is read back from the kernel.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/mount.h"
#include "nsexec/testing/parked_child.h"
#include "tools/linx_process.h"

namespace linx::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The top mount at `target` in a table, if any.
std::optional<MountInfo> Find(const std::vector<MountInfo>& table,
                              const std::string& target) {
  std::optional<MountInfo> found;
  for (const MountInfo& m : table) {
    if (m.target == target) found = m;
  }
  return found;
}

std::optional<MountInfo> FindHere(const std::string& target) {
  auto table = List();
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? Find(*table, target) : std::nullopt;
}

std::optional<MountInfo> FindIn(pid_t pid, const std::string& target) {
  auto table = List(pid);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? Find(*table, target) : std::nullopt;
}

unsigned long StatvfsFlags(const std::string& path) {
  struct statvfs st {};
  EXPECT_EQ(statvfs(path.c_str(), &st), 0) << path;
  return st.f_flag;
}

// Unmounts whatever a failing test left at `dir` (the namespace is private
// and dies with the test, but tests should not see each other's mounts).
class MountCleanup {
 public:
  explicit MountCleanup(std::string dir) : dir_(std::move(dir)) {}
  ~MountCleanup() {
    while (umount2(dir_.c_str(), MNT_DETACH) == 0) {
    }
  }

 private:
  std::string dir_;
};

TEST(LinxCliTest, MountsATmpfsWithFlagsAndDataThenUnmountsIt) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-tmpfs");
  MountCleanup cleanup(dir);
  LinxResult r = RunLinx({"mount", "none", dir, "tmpfs", "--flags",
                          "nosuid,nodev", "--data=size=1m"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  std::optional<MountInfo> m = FindHere(dir);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->fstype, "tmpfs");
  EXPECT_EQ(m->source, "none");
  EXPECT_THAT(m->fs_options, HasSubstr("size=1024k"));
  unsigned long f = StatvfsFlags(dir);
  EXPECT_NE(f & ST_NOSUID, 0u);
  EXPECT_NE(f & ST_NODEV, 0u);
  EXPECT_EQ(f & ST_RDONLY, 0u);

  r = RunLinx({"umount", dir});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(dir).has_value());
}

TEST(LinxCliTest, BindRoIsReallyReadOnlyAndRemountChangesIt) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = testing::MakeScratchDir("cli-bind-src");
  std::string dst = testing::MakeScratchDir("cli-bind-dst");
  MountCleanup cleanup(dst);
  LinxResult r = RunLinx({"bind", src, dst, "--flags", "ro"});
  ASSERT_EQ(r.exit_code, 0) << r;
  ASSERT_TRUE(FindHere(dst).has_value());
  EXPECT_NE(StatvfsFlags(dst) & ST_RDONLY, 0u);
  EXPECT_EQ(StatvfsFlags(src) & ST_RDONLY, 0u);

  // remount --flags bind: only the per-mount flags, now without ro.
  r = RunLinx({"remount", dst, "--flags", "bind"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(StatvfsFlags(dst) & ST_RDONLY, 0u);
  r = RunLinx({"remount", dst, "--flags", "bind,ro,noexec"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_NE(StatvfsFlags(dst) & ST_RDONLY, 0u);
  EXPECT_NE(StatvfsFlags(dst) & ST_NOEXEC, 0u);

  r = RunLinx({"umount", dst});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(dst).has_value());
}

TEST(LinxCliTest, BindCreateMakesThePlaceholderForAFileBind) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dev = testing::MakeScratchDir("cli-create");
  MountCleanup cleanup_dev(dev);
  ASSERT_EQ(RunLinx({"mount", "none", dev, "tmpfs"}).exit_code, 0);
  std::string null = dev + "/null";
  MountCleanup cleanup_null(null);
  // Without --create the target is missing: the bind fails at stage mount.
  LinxResult r = RunLinx({"bind", "/dev/null", null});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("ENOENT"));
  r = RunLinx({"bind", "/dev/null", null, "--create"});
  ASSERT_EQ(r.exit_code, 0) << r;
  struct stat st {};
  ASSERT_EQ(stat(null.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  std::optional<MountInfo> m = FindHere(null);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->root, "/null");
}

TEST(LinxCliTest, RemountChangesFilesystemData) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-remount");
  MountCleanup cleanup(dir);
  ASSERT_EQ(
      RunLinx({"mount", "none", dir, "tmpfs", "--data", "size=1m"}).exit_code,
      0);
  LinxResult r = RunLinx({"remount", dir, "--data", "size=2m"});
  ASSERT_EQ(r.exit_code, 0) << r;
  std::optional<MountInfo> m = FindHere(dir);
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->fs_options, HasSubstr("size=2048k"));
}

TEST(LinxCliTest, RemountWithOnlyPropagationWordsChangesPropagation) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-propagation");
  MountCleanup cleanup(dir);
  ASSERT_EQ(RunLinx({"mount", "none", dir, "tmpfs"}).exit_code, 0);
  LinxResult r = RunLinx({"remount", dir, "--flags", "shared"});
  ASSERT_EQ(r.exit_code, 0) << r;
  std::optional<MountInfo> m = FindHere(dir);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->shared.has_value());
  r = RunLinx({"remount", dir, "--flags", "private"});
  ASSERT_EQ(r.exit_code, 0) << r;
  m = FindHere(dir);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->shared.has_value());
}

TEST(LinxCliTest, MoveMovesTheMount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string from = testing::MakeScratchDir("cli-move-from");
  std::string to = testing::MakeScratchDir("cli-move-to");
  MountCleanup cleanup_from(from);
  MountCleanup cleanup_to(to);
  ASSERT_EQ(RunLinx({"mount", "none", from, "tmpfs"}).exit_code, 0);
  LinxResult r = RunLinx({"move", from, to});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(from).has_value());
  std::optional<MountInfo> m = FindHere(to);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->fstype, "tmpfs");
}

TEST(LinxCliTest, BusyUmountFailsWithEbusyAndDetachSucceeds) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-busy");
  MountCleanup cleanup(dir);
  ASSERT_EQ(RunLinx({"mount", "none", dir, "tmpfs"}).exit_code, 0);
  UniqueFd busy(
      open((dir + "/open-file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_GE(busy.get(), 0);

  LinxResult r = RunLinx({"umount", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, StartsWith("linx: "));
  EXPECT_THAT(r.err, HasSubstr("umount"));
  EXPECT_THAT(r.err, HasSubstr("EBUSY"));
  EXPECT_THAT(r.err, HasSubstr("target is busy"));
  EXPECT_TRUE(FindHere(dir).has_value());

  r = RunLinx({"umount", dir, "--flags", "detach"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(dir).has_value());
}

TEST(LinxCliTest, RecursiveUmountTakesTheWholeTree) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-recursive");
  MountCleanup cleanup(dir);
  ASSERT_EQ(RunLinx({"mount", "top", dir, "tmpfs"}).exit_code, 0);
  ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(RunLinx({"mount", "sub", dir + "/sub", "tmpfs"}).exit_code, 0);

  LinxResult r = RunLinx({"umount", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("EBUSY"));

  r = RunLinx({"umount", "--recursive", dir});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(dir).has_value());
  EXPECT_FALSE(FindHere(dir + "/sub").has_value());
}

TEST(LinxCliTest, UmountOfANonMountFailsWithEinvalAndExit1) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-not-a-mount");
  LinxResult r = RunLinx({"umount", dir});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("linx: umount2(\"" + dir + "\""));
  EXPECT_THAT(r.err, HasSubstr(": umount: EINVAL (Invalid argument)"));
  EXPECT_THAT(r.err, HasSubstr("not a mount point"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(LinxCliTest, UnknownFlagWordIsAUsageErrorAndMountsNothing) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-bad-flag");
  MountCleanup cleanup(dir);
  LinxResult r =
      RunLinx({"mount", "none", dir, "tmpfs", "--flags", "ro,bogus"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("linx mount: unknown mount flag \"bogus\"\n"
                                "usage: linx mount "));
  EXPECT_FALSE(FindHere(dir).has_value());
}

TEST(LinxCliTest, FlagsTheVerbRefusesAreUsageErrors) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = testing::MakeScratchDir("cli-bind-sync-src");
  std::string dst = testing::MakeScratchDir("cli-bind-sync-dst");
  MountCleanup cleanup(dst);
  // A known word, but not a per-mount flag: Bind refuses it (bad_flag).
  LinxResult r = RunLinx({"bind", src, dst, "--flags", "sync"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, StartsWith("linx bind: "));
  EXPECT_THAT(r.err, HasSubstr("usage: linx bind"));
  EXPECT_FALSE(FindHere(dst).has_value());
}

TEST(LinxCliTest, OperandsAfterDoubleDashMayStartWithADash) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-dash");
  ASSERT_EQ(mkdir((dir + "/-x").c_str(), 0755), 0);
  MountCleanup cleanup(dir + "/-x");
  LinxResult r = RunLinx(
      {"mount", "--data", "size=1m", "--", "-src", "-x", "tmpfs"}, dir.c_str());
  ASSERT_EQ(r.exit_code, 0) << r;
  std::optional<MountInfo> m = FindHere(dir + "/-x");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source, "-src");
}

// Run in the released child: reports "ok" if "/marker" exists and the old
// root is at /old, else which one is missing.
void CheckPivoted(int report_fd) {
  struct stat st;
  const char* r = stat("/marker", &st) != 0 ? "no /marker"
                  : stat("/old", &st) != 0  ? "no /old"
                                            : "ok";
  if (write(report_fd, r, strlen(r)) < 0) _exit(1);
}

TEST(LinxCliTest, InPidActsInTheChildsNamespaceOnly) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-in-pid");
  ASSERT_OK_AND_ASSIGN(auto child, testing::ParkedChild::Spawn(
                                       nullptr, /*new_pid_namespace=*/false));
  std::string in = absl::StrCat("pid:", child->pid());
  LinxResult r = RunLinx({"mount", "none", dir, "tmpfs", "--in", in});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(FindIn(child->pid(), dir).has_value());
  EXPECT_FALSE(FindHere(dir).has_value());

  // The same namespace by its file.
  r = RunLinx({"umount", dir, "--in",
               absl::StrCat("path:/proc/", child->pid(), "/ns/mnt")});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindIn(child->pid(), dir).has_value());
  EXPECT_OK(child->Release().status());
}

TEST(LinxCliTest, PivotRootInAChildsNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string new_root = testing::MakeScratchDir("cli-new-root");
  ASSERT_EQ(mkdir((new_root + "/old").c_str(), 0755), 0);
  UniqueFd marker(open((new_root + "/marker").c_str(),
                       O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_GE(marker.get(), 0);
  ASSERT_OK_AND_ASSIGN(
      auto child, testing::ParkedChild::Spawn(&CheckPivoted,
                                              /*new_pid_namespace=*/false));
  std::string in = absl::StrCat("--in=pid:", child->pid());

  ASSERT_EQ(RunLinx({"bind", new_root, new_root, in}).exit_code, 0);
  LinxResult r = RunLinx({"pivot-root", new_root, new_root + "/old", in});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(FindIn(child->pid(), "/old").has_value());
  EXPECT_FALSE(FindHere("/old").has_value());
  ASSERT_OK_AND_ASSIGN(std::string report, child->Release());
  EXPECT_EQ(report, "ok") << "the child does not see the new root";
}

TEST(LinxCliTest, BadInTargets) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = testing::MakeScratchDir("cli-bad-in");
  // Malformed: a usage error.
  LinxResult r = RunLinx({"umount", dir, "--in", "container:7"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("bad --in \"container:7\""));
  // Well formed, but no such process: the operation failed at open_ns.
  r = RunLinx({"mount", "none", dir, "tmpfs", "--in", "pid:999999999"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("open_ns"));
  EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("ESRCH"), HasSubstr("ENOENT")));
  // A file that is no namespace: setns EINVAL.
  std::string file = dir + "/not-a-namespace";
  UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_GE(fd.get(), 0);
  r = RunLinx({"mount", "none", dir, "tmpfs", "--in", "path:" + file});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("setns"));
  EXPECT_THAT(r.err, HasSubstr("EINVAL"));
  EXPECT_FALSE(FindHere(dir).has_value());
}

TEST(LinxCliTest, VersionPrintsTheLibraryVersion) {
  LinxResult r = RunLinx({"version"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, absl::StrCat("linx ", Version(), "\n"));
  EXPECT_EQ(r.err, "");
}

TEST(LinxCliTest, HelpForEveryVerbGoesToStdoutWithExit0) {
  for (const char* verb : {"mount", "bind", "move", "remount", "umount",
                           "pivot-root", "version"}) {
    SCOPED_TRACE(verb);
    for (const char* opt : {"--help", "-h"}) {
      LinxResult r = RunLinx({verb, opt});
      EXPECT_EQ(r.exit_code, 0) << r;
      EXPECT_THAT(r.out, StartsWith(absl::StrCat("usage: linx ", verb)));
      EXPECT_EQ(r.err, "");
    }
  }
}

// The measured escape, through the CLI: rootfs/dev is a symlink to
// ../host/etc. With --root nothing lands outside and the verb fails at stage
// resolve; a legitimate in-root symlink is followed inside.
TEST(LinxCliTest, RootKeepsImageSymlinksInsideTheRoot) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string top = linx::testing::MakeScratchDir("cli-root");
  std::string rootfs = linx::testing::MakeSubdir(top, "rootfs");
  std::string host = linx::testing::MakeSubdir(top, "host");
  std::string etc = linx::testing::MakeSubdir(host, "etc");
  ASSERT_EQ(::symlink("../host/etc", (rootfs + "/dev").c_str()), 0);
  LinxResult r =
      RunLinx({"bind", "/dev/null", "/dev/null", "--create", "--root", rootfs});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("resolve"));
  EXPECT_THAT(r.err, HasSubstr("ENOENT"));
  EXPECT_NE(::access((etc + "/null").c_str(), F_OK), 0);
  EXPECT_FALSE(FindHere(etc + "/null").has_value());
  // With the directory inside the root, --mkdir builds the path inside.
  r = RunLinx({"bind", "/dev/null", "/dev/null", "--create", "--mkdir",
               "--root", rootfs, "--flags", "ro"});
  // rootfs/dev still points at ROOTFS/host/etc, which --mkdir may not
  // create through the symlink.
  EXPECT_EQ(r.exit_code, 1) << r;
  linx::testing::MakeSubdir(linx::testing::MakeSubdir(rootfs, "host"), "etc");
  r = RunLinx({"bind", "/dev/null", "/dev/null", "--create", "--root", rootfs,
               "--flags", "ro"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(FindHere(rootfs + "/host/etc/null").has_value());
  r = RunLinx({"mount", "none", "/run/lock", "tmpfs", "--mkdir", "--root",
               rootfs, "--data", "size=bogus"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("Bad value for"));  // the kernel's own words
  r = RunLinx({"umount", "/dev/null", "--root", rootfs});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_FALSE(FindHere(rootfs + "/host/etc/null").has_value());
  EXPECT_EQ(::rmdir(etc.c_str()), 0) << "host/etc stayed empty";
}

TEST(LinxCliTest, UsageErrorsExit2WithAHint) {
  LinxResult r = RunLinx({"bind", "/only-one"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "linx bind: missing operand: expected SOURCE TARGET\n"
            "usage: linx bind SOURCE TARGET [--flags W1,W2,...] [--data STR] "
            "[--create] [--mkdir] [--root DIR] [--source-in-root] [--beneath] "
            "[--idmap pid:N|userns:PATH] [--in self|pid:N|path:P] [--userns]\n"
            "Run 'linx bind --help' for more.\n");
  r = RunLinx({"umount", "/x", "--lazy"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, StartsWith("linx umount: unknown option \"--lazy\"\n"));
  r = RunLinx({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frobnicate'"));
}

}  // namespace
}  // namespace linx::tools
