// The fd-based mount API (fsopen/fsmount, open_tree + mount_setattr +
// move_mount) and its classic fallback give the same results: every case
// runs twice, once on each path (mount_internal::SetForceClassicCalls), and
// reads the result back from the kernel. What only the fd path gives is
// checked on its own: the kernel's message in the error, and a read-only
// bind that is never writable, not even for an instant.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/op_error.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/internal/hooks.h"
#include "mount/mount.h"
#include "mount/testing/mount_test_util.h"
#include "nsexec/testing/mapped_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::FindMount;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::MakeSubdir;
using ::linx::testing::MappedChild;
using ::linx::testing::StageIs;
using ::linx::testing::StatvfsFlags;
using ::linx::testing::TableText;
using ::testing::HasSubstr;

class BothPathsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { mount_internal::SetForceClassicCalls(GetParam()); }
  void TearDown() override { mount_internal::SetForceClassicCalls(false); }
};

INSTANTIATE_TEST_SUITE_P(Paths, BothPathsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Classic" : "FdApi";
                         });

TEST_P(BothPathsTest, NewMountCarriesEveryFlagAndOption) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("fd-new");
  MountOptions o;
  o.flags = {MountFlag::kRo,      MountFlag::kNosuid,  MountFlag::kNodev,
             MountFlag::kNoexec,  MountFlag::kNoatime, MountFlag::kNodiratime,
             MountFlag::kDirsync, MountFlag::kShared};
  o.data = "size=2m,mode=0711,nr_inodes=100";
  ASSERT_OK(Mount("fdapi", d, "tmpfs", o));
  std::optional<MountInfo> m = FindMount(d);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source, "fdapi");
  EXPECT_EQ(m->vfs_options, "ro,nosuid,nodev,noexec,noatime,nodiratime");
  EXPECT_THAT(m->fs_options, HasSubstr("ro"));
  EXPECT_THAT(m->fs_options, HasSubstr("dirsync"));
  EXPECT_THAT(m->fs_options, HasSubstr("size=2048k"));
  EXPECT_THAT(m->fs_options, HasSubstr("nr_inodes=100"));
  EXPECT_THAT(m->fs_options, HasSubstr("mode=711"));
  EXPECT_TRUE(m->shared.has_value());
  ASSERT_OK(Umount(d));
}

TEST_P(BothPathsTest, BindsEndWithTheirFlagsAndRecursiveOnesOnTheTree) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("fd-bsrc");
  std::string sub = MakeSubdir(src, "sub");
  ASSERT_EQ(::mount("src", src.c_str(), "tmpfs", MS_NOSUID, nullptr), 0);
  MakeSubdir(src, "sub");
  ASSERT_EQ(::mount("sub", sub.c_str(), "tmpfs", 0, nullptr), 0);
  std::string dst = MakeScratchDir("fd-bdst");
  BindOptions ro;
  ro.flags = {MountFlag::kRo, MountFlag::kNodev};
  ASSERT_OK(Bind(src, dst, ro));
  EXPECT_EQ(FindMount(dst)->vfs_options, "ro,nosuid,nodev,relatime");
  EXPECT_FALSE(FindMount(dst + "/sub").has_value()) << "not recursive";
  ASSERT_OK(Umount(dst));
  BindOptions rec;
  rec.flags = {MountFlag::kRec, MountFlag::kRo, MountFlag::kPrivate};
  ASSERT_OK(Bind(src, dst, rec));
  EXPECT_NE(StatvfsFlags(dst) & ST_RDONLY, 0u);
  EXPECT_NE(StatvfsFlags(dst + "/sub") & ST_RDONLY, 0u);
  EXPECT_EQ(StatvfsFlags(sub) & ST_RDONLY, 0u) << "the source is untouched";
  EXPECT_TRUE(FindMount(dst)->optional_fields.empty());
  UmountOptions tree;
  tree.recursive = true;
  ASSERT_OK(Umount(dst, tree));
  ASSERT_OK(Umount(src, tree));
}

TEST_P(BothPathsTest, FailuresAreTheSameErrnoAndLeaveNothing) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("fd-fail");
  std::string before = TableText();
  EXPECT_THAT(Mount("none", d + "/missing", "tmpfs"), ErrnoIs(ENOENT));
  EXPECT_THAT(Mount("none", d, "linx-no-such-fs"), ErrnoIs(ENODEV));
  EXPECT_THAT(Mount("none", d, "tmpfs", {{}, "size=bogus"}), ErrnoIs(EINVAL));
  EXPECT_THAT(Bind(d + "/missing", d), ErrnoIs(ENOENT));
  MountOptions create;
  create.create = true;
  EXPECT_THAT(Mount("none", d + "/placeholder", "linx-no-such-fs", create),
              ErrnoIs(ENODEV));
  EXPECT_NE(::access((d + "/placeholder").c_str(), F_OK), 0);
  EXPECT_EQ(TableText(), before);
}

// Locked flags (a mount inherited into a user namespace keeps nosuid,
// nodev and its atime mode): a read-only bind sets ro and keeps them.
TEST_P(BothPathsTest, ReadOnlyBindKeepsLockedFlagsInAUserNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("fd-usrc");
  std::string dst = MakeScratchDir("fd-udst");
  const bool classic = GetParam();
  std::string result = testing::RunInUserNamespaceChild([&]() -> std::string {
    mount_internal::SetForceClassicCalls(classic);
    BindOptions ro;
    ro.flags = {MountFlag::kRo};
    absl::Status s = Bind(src, dst, ro);
    if (!s.ok()) return s.ToString();
    unsigned long f = StatvfsFlags(dst);
    return absl::StrCat((f & ST_RDONLY) ? "ro" : "rw",
                        (f & ST_NOSUID) ? ",nosuid" : "",
                        (f & ST_NODEV) ? ",nodev" : "");
  });
  if (absl::StartsWith(result, "skip: ")) GTEST_SKIP() << result;
  EXPECT_EQ(result, "ro,nosuid,nodev");
}

// Only the fd path: the kernel's own words.
TEST(FdApiTest, TheKernelsMessageReachesTheError) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("fd-msg");
  MountOptions o;
  o.data = "size=bogus";
  absl::Status s = Mount("none", d, "tmpfs", o);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_EQ(s.message(),
            absl::StrCat("mount(\"none\", \"", d,
                         "\", \"tmpfs\", 0, \"size=bogus\"): mount: EINVAL "
                         "(Invalid argument): fsconfig(FSCONFIG_SET_STRING, "
                         "\"size\", \"bogus\"): tmpfs: Bad value for 'size'"));
  std::optional<OpError> e = GetOpError(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kernel_message, "tmpfs: Bad value for 'size'");
  // The classic call has no such words.
  mount_internal::SetForceClassicCalls(true);
  absl::Status c = Mount("none", d, "tmpfs", o);
  mount_internal::SetForceClassicCalls(false);
  EXPECT_THAT(c, ErrnoIs(EINVAL));
  EXPECT_EQ(GetOpError(c)->kernel_message, "");
}

// Only the fd path: the bind appears read-only. A writer hammers the target
// directory while binds with ro come and go; through the bind nothing is
// ever written. (With bind + remount there is a window where it is
// writable.)
TEST(FdApiTest, AReadOnlyBindIsNeverWritable) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("fd-rsrc");
  std::string dst = MakeScratchDir("fd-rdst");
  ASSERT_EQ(::mount("rsrc", src.c_str(), "tmpfs", 0, nullptr), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::string probe = dst + "/probe";
  struct stat src_st;
  ASSERT_EQ(::stat(src.c_str(), &src_st), 0);
  std::thread writer([&] {
    while (!stop.load()) {
      int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) {
        struct stat st;
        // Created on the source's tmpfs: written through the bind.
        if (::fstat(fd, &st) == 0 && st.st_dev == src_st.st_dev) {
          written.fetch_add(1);
        }
        ::close(fd);
        ::unlink(probe.c_str());
      }
    }
  });
  BindOptions ro;
  ro.flags = {MountFlag::kRo};
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(Bind(src, dst, ro));
    ASSERT_OK(Umount(dst, {{UmountFlag::kDetach}}));
  }
  stop.store(true);
  writer.join();
  // Files the writer made in the scratch directory itself (no bind on top)
  // do not count; one made on the source's tmpfs went through the bind.
  EXPECT_EQ(written.load(), 0) << "writes through a read-only bind";
  ::umount2(src.c_str(), MNT_DETACH);
}

// An idmapped bind: a file owned by uid 0 shows as 100000 through a bind
// idmapped with a 0→100000 namespace; the source is unchanged.
TEST(FdApiTest, IdmappedBindShowsOwnersThroughTheMap) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  MappedChild userns(/*own_mount_ns=*/false);
  ASSERT_TRUE(userns.ready()) << userns.error();
  ASSERT_OK_AND_ASSIGN(UserNamespace ns, UserNamespace::Pid(userns.pid()));
  std::string src = MakeScratchDir("idmap-src");
  ASSERT_EQ(::mount("idsrc", src.c_str(), "tmpfs", 0, nullptr), 0);
  ASSERT_TRUE(testing::WriteFile(src + "/f", "x"));
  ASSERT_EQ(::chown((src + "/f").c_str(), 0, 0), 0);
  std::string dst = MakeScratchDir("idmap-dst");
  BindOptions o;
  o.idmap = ns;
  ASSERT_OK(Bind(src, dst, o));
  struct stat st;
  ASSERT_EQ(::stat((dst + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
  ASSERT_EQ(::stat((src + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  // Refusals come back at stage mount with the kernel's errno: a mount that
  // is already idmapped, and a filesystem without idmap support (proc).
  std::string again = MakeScratchDir("idmap-again");
  absl::Status twice = Bind(dst, again, o);
  EXPECT_THAT(twice, StageIs(Stage::kMount));
  EXPECT_THAT(twice, ErrnoIs(EPERM));
  EXPECT_THAT(std::string(twice.message()), HasSubstr("MOUNT_ATTR_IDMAP"));
  std::string proc = MakeScratchDir("idmap-proc");
  ASSERT_EQ(::mount("proc", proc.c_str(), "proc", 0, nullptr), 0);
  std::string proc_dst = MakeScratchDir("idmap-proc-dst");
  absl::Status unsupported = Bind(proc, proc_dst, o);
  EXPECT_THAT(unsupported, StageIs(Stage::kMount));
  EXPECT_THAT(unsupported, ErrnoIs(EINVAL));
  std::string before = TableText();
  EXPECT_EQ(TableText(), before);
  EXPECT_FALSE(FindMount(again).has_value());
  EXPECT_FALSE(FindMount(proc_dst).has_value());
  // With the classic calls forced there is no idmapping: a clear error.
  mount_internal::SetForceClassicCalls(true);
  absl::Status classic = Bind(src, again, o);
  mount_internal::SetForceClassicCalls(false);
  EXPECT_THAT(classic, ErrnoIs(ENOSYS));
  ::umount2(dst.c_str(), MNT_DETACH);
  ::umount2(proc.c_str(), MNT_DETACH);
  ::umount2(src.c_str(), MNT_DETACH);
}

// --userns: the verb runs in a child that joined the target's user
// namespace too, so a tmpfs it mounts belongs to that namespace: its root
// directory is owned by the namespace's root, host uid 100000. Without it,
// the same mount from the host's user namespace is owned by uid 0.
TEST(UserNamespaceTest, MountsJoinTheTargetsUserNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  // The namespace's root (host uid 100000) must be able to reach the
  // target: the scratch tmpfs lives under /root (0700, host root's). A
  // scratch tmpfs over /mnt of this test's private mount namespace (made
  // before the child copies it) is reachable; it dies with the namespace.
  ASSERT_EQ(::mount("userns-scratch", "/mnt", "tmpfs", 0, "mode=0755"), 0);
  struct UnmountMnt {
    ~UnmountMnt() { ::umount2("/mnt", MNT_DETACH); }
  } unmount_mnt;
  MappedChild child(/*own_mount_ns=*/true);
  ASSERT_TRUE(child.ready()) << child.error();
  ASSERT_OK_AND_ASSIGN(Namespace plain, Namespace::Pid(child.pid()));
  ASSERT_OK_AND_ASSIGN(Namespace rootless, plain.WithUserNamespace());
  EXPECT_TRUE(rootless.joins_userns());
  std::string d = MakeSubdir("/mnt", "userns-tmpfs");
  std::string e = MakeSubdir("/mnt", "userns-host");
  MountOptions o;
  o.in = rootless;
  ASSERT_OK(Mount("none", d, "tmpfs", o));
  o.in = plain;
  ASSERT_OK(Mount("none", e, "tmpfs", o));
  std::string root = absl::StrCat("/proc/", child.pid(), "/root");
  struct stat st;
  ASSERT_EQ(::stat((root + d).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
  ASSERT_EQ(::stat((root + e).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_FALSE(FindMount(d).has_value()) << "only in the child's namespace";
  // umount joins it too; pivot_root and walks are refused up front.
  UmountOptions u;
  u.in = rootless;
  ASSERT_OK(Umount(d, u));
  EXPECT_THAT(Umount(d, u), ErrnoIs(EINVAL));
  PivotRootOptions pr;
  pr.in = rootless;
  EXPECT_THAT(PivotRoot(d, "old", pr), StageIs(Stage::kBadArgument));
  // Self has no other user namespace to join.
  EXPECT_THAT(Namespace::Self().WithUserNamespace().status(),
              StageIs(Stage::kBadIn));
}

// overlayfs with 500 lower layers (the kernel's maximum): on the fsopen
// path each layer is one fsconfig("lowerdir+"), so the 4095-byte limit of
// mount(2)'s data page does not apply; the classic path refuses such data
// before touching anything.
TEST(FdApiTest, OverlayWithFiveHundredLayers) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string top = MakeScratchDir("ovl");
  std::vector<std::string> layers;
  for (int i = 0; i < 500; ++i) {
    std::string l = MakeSubdir(top, absl::StrCat("l", i));
    ASSERT_TRUE(testing::WriteFile(absl::StrCat(l, "/f", i), "x"));
    layers.push_back(l);
  }
  std::string upper = MakeSubdir(top, "upper");
  std::string work = MakeSubdir(top, "work");
  std::string merged = MakeSubdir(top, "merged");
  // The topmost layer first, as in "lowerdir=".
  MountOptions o;
  o.data = absl::StrCat("lowerdir=", absl::StrJoin(layers, ":"),
                        ",upperdir=", upper, ",workdir=", work);
  ASSERT_GT(o.data.size(), 4095u);
  mount_internal::SetForceClassicCalls(true);
  absl::Status classic = Mount("overlay", merged, "overlay", o);
  mount_internal::SetForceClassicCalls(false);
  EXPECT_THAT(classic, StageIs(Stage::kBadArgument));
  EXPECT_FALSE(FindMount(merged).has_value());
  ASSERT_OK(Mount("overlay", merged, "overlay", o));
  for (int i : {0, 1, 250, 498, 499}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(testing::ReadFile(absl::StrCat(merged, "/f", i)), "x");
  }
  std::optional<MountInfo> m = FindMount(merged);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->fstype, "overlay");
  ASSERT_OK(Umount(merged));
}

// MOVE_MOUNT_BENEATH: the new mount goes under the one at the target, so
// unmounting the old one reveals it, with no moment where the path is
// empty.
TEST(FdApiTest, BeneathSlidesTheNewMountUnderTheOldOne) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("beneath");
  ASSERT_EQ(::mount("old", d.c_str(), "tmpfs", 0, nullptr), 0);
  ASSERT_TRUE(testing::WriteFile(d + "/version", "1"));
  MountOptions under;
  under.beneath = true;
  ASSERT_OK(Mount("new", d, "tmpfs", under));
  auto stacked = [&] {
    int n = 0;
    for (const MountInfo& m : testing::Table()) n += m.target == d;
    return n;
  };
  EXPECT_EQ(stacked(), 2);
  EXPECT_EQ(testing::ReadFile(d + "/version"), "1") << "the old one is on top";
  ASSERT_EQ(::umount2(d.c_str(), 0), 0);
  EXPECT_EQ(stacked(), 1);
  EXPECT_FALSE(testing::ReadFile(d + "/version").has_value())
      << "the new, empty tmpfs is revealed";
  // A bind beneath too.
  std::string src = MakeScratchDir("beneath-src");
  ASSERT_TRUE(testing::WriteFile(src + "/version", "2"));
  BindOptions b;
  b.beneath = true;
  ASSERT_OK(Bind(src, d, b));
  EXPECT_EQ(stacked(), 2);
  EXPECT_FALSE(testing::ReadFile(d + "/version").has_value());
  ASSERT_EQ(::umount2(d.c_str(), 0), 0);
  EXPECT_EQ(testing::ReadFile(d + "/version"), "2");
  ASSERT_EQ(::umount2(d.c_str(), 0), 0);
  // Beneath a path that is no mount point: the kernel's EINVAL.
  EXPECT_THAT(Mount("none", d, "tmpfs", under), ErrnoIs(EINVAL));
  EXPECT_FALSE(FindMount(d).has_value());
}

}  // namespace
}  // namespace linx
