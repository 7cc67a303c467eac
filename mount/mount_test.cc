// Privileged tests for the verbs: each runs in the private mount namespace
// made by //base/testing:privileged_test_main, on its scratch tmpfs, and
// reads every result back from the kernel (mountinfo, statvfs).
#include "mount/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/status.h"
#include "base/testing/privileged.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mount/internal/hooks.h"
#include "mount/testing/mount_test_util.h"
#include "nsexec/nsexec.h"
#include "nsexec/testing/parked_child.h"

namespace linx {
namespace {

using ::linx::testing::ErrnoIs;
using ::linx::testing::FindMount;
using ::linx::testing::HasOption;
using ::linx::testing::IsOk;
using ::linx::testing::MakeScratchDir;
using ::linx::testing::ParkedChild;
using ::linx::testing::ReadFile;
using ::linx::testing::ScopedMount;
using ::linx::testing::StageIs;
using ::linx::testing::StatusIs;
using ::linx::testing::StatvfsFlags;
using ::linx::testing::TableText;
using ::linx::testing::WriteFile;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Sub(const std::string& dir, const std::string& name) {
  std::string p = absl::StrCat(dir, "/", name);
  ::mkdir(p.c_str(), 0755);
  return p;
}

MountOptions WithFlags(std::vector<MountFlag> flags, std::string data = "") {
  MountOptions o;
  o.flags = std::move(flags);
  o.data = std::move(data);
  return o;
}

// ---- Mount ----------------------------------------------------------------

TEST(MountTest, TmpfsWithFlagsAndDataShowsInMountinfoAndStatvfs) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("tmpfs");
  ScopedMount guard(dir);
  ASSERT_OK(Mount(
      "linx-test", dir, "tmpfs",
      WithFlags({MountFlag::kNosuid, MountFlag::kNodev, MountFlag::kNoexec},
                "size=1m,mode=0700")));
  std::optional<MountInfo> m = FindMount(dir);
  ASSERT_TRUE(m.has_value()) << TableText();
  EXPECT_EQ(m->fstype, "tmpfs");
  EXPECT_EQ(m->source, "linx-test");
  EXPECT_TRUE(HasOption(m->vfs_options, "nosuid")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->vfs_options, "nodev")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->vfs_options, "noexec")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->fs_options, "size=1024k")) << m->fs_options;
  EXPECT_TRUE(HasOption(m->fs_options, "mode=700")) << m->fs_options;
  unsigned long f = StatvfsFlags(dir);
  EXPECT_EQ(f & (ST_NOSUID | ST_NODEV | ST_NOEXEC),
            ST_NOSUID | ST_NODEV | ST_NOEXEC);
  EXPECT_EQ(f & ST_RDONLY, 0u);
}

TEST(MountTest, EmptySourceIsNullForTheKernel) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("nullsrc");
  ScopedMount guard(dir);
  ASSERT_OK(Mount("", dir, "tmpfs"));
  std::optional<MountInfo> m = FindMount(dir);
  ASSERT_TRUE(m.has_value());
  // A NULL source is shown as "none" by the kernel.
  EXPECT_EQ(m->source, "none");
}

// Each flag word whose effect is visible in mountinfo or statvfs, mounted
// alone on a fresh tmpfs. (silent and mandlock have no visible effect on
// this kernel — mandatory locking is gone since 5.15 — and rec, bind, move,
// remount and the propagation words are proven by their own verbs; the bit
// of every word is checked in flags_test.)
TEST(MountTest, EveryVisibleFlagWordReachesTheKernel) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  struct Case {
    MountFlag flag;
    const char* vfs_option;  // expected in field 6, or null
    const char* sb_option;   // expected in field 11, or null
    unsigned long st_flag;   // expected in statvfs f_flag, or 0
  };
  const Case cases[] = {
      {MountFlag::kRo, "ro", nullptr, ST_RDONLY},
      {MountFlag::kNosuid, "nosuid", nullptr, ST_NOSUID},
      {MountFlag::kNodev, "nodev", nullptr, ST_NODEV},
      {MountFlag::kNoexec, "noexec", nullptr, ST_NOEXEC},
      {MountFlag::kSync, nullptr, "sync", ST_SYNCHRONOUS},
      {MountFlag::kDirsync, nullptr, "dirsync", 0},
      {MountFlag::kNoatime, "noatime", nullptr, ST_NOATIME},
      {MountFlag::kNodiratime, "nodiratime", nullptr, ST_NODIRATIME},
      {MountFlag::kRelatime, "relatime", nullptr, ST_RELATIME},
      {MountFlag::kLazytime, nullptr, "lazytime", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(MountFlagName(c.flag));
    std::string dir = MakeScratchDir(MountFlagName(c.flag));
    ScopedMount guard(dir);
    ASSERT_OK(Mount("none", dir, "tmpfs", WithFlags({c.flag})));
    std::optional<MountInfo> m = FindMount(dir);
    ASSERT_TRUE(m.has_value());
    if (c.vfs_option) {
      EXPECT_TRUE(HasOption(m->vfs_options, c.vfs_option)) << m->vfs_options;
    }
    if (c.sb_option) {
      EXPECT_TRUE(HasOption(m->fs_options, c.sb_option)) << m->fs_options;
    }
    if (c.st_flag) {
      EXPECT_NE(StatvfsFlags(dir) & c.st_flag, 0u);
    }
  }
  // strictatime: neither relatime nor noatime.
  std::string dir = MakeScratchDir("strictatime");
  ScopedMount guard(dir);
  ASSERT_OK(Mount("none", dir, "tmpfs", WithFlags({MountFlag::kStrictatime})));
  std::optional<MountInfo> m = FindMount(dir);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(HasOption(m->vfs_options, "relatime")) << m->vfs_options;
  EXPECT_FALSE(HasOption(m->vfs_options, "noatime")) << m->vfs_options;
  EXPECT_EQ(StatvfsFlags(dir) & (ST_RELATIME | ST_NOATIME), 0u);
  // silent and mandlock are accepted by the kernel.
  std::string quiet = MakeScratchDir("silent");
  ScopedMount quiet_guard(quiet);
  EXPECT_OK(Mount("none", quiet, "tmpfs",
                  WithFlags({MountFlag::kSilent, MountFlag::kMandlock})));
  EXPECT_TRUE(FindMount(quiet).has_value());
}

TEST(MountTest, RejectedDataLeavesTheTableUnchanged) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("baddata");
  std::string before = TableText();
  absl::Status s = Mount("none", dir, "tmpfs", WithFlags({}, "size=bogus"));
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(TableText(), before);
}

TEST(MountTest, FailureMessageIsTheCallWithFlagsByName) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("msg");
  std::string missing = absl::StrCat(dir, "/missing");
  absl::Status s =
      Mount("none", missing, "tmpfs",
            WithFlags({MountFlag::kNosuid, MountFlag::kNodev}, "size=1m"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(s, ErrnoIs(ENOENT));
  EXPECT_THAT(s, StageIs(Stage::kMount));
  EXPECT_EQ(s.message(),
            absl::StrCat("mount(\"none\", \"", missing,
                         "\", \"tmpfs\", MS_NOSUID|MS_NODEV, \"size=1m\"): "
                         "mount: ENOENT (No such file or directory)"));
  std::optional<MountError> e = GetMountError(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->operation, "mount");

  absl::Status nodev = Mount("", dir, "linx-no-such-fs");
  EXPECT_THAT(nodev, ErrnoIs(ENODEV));
  EXPECT_EQ(nodev.message(),
            absl::StrCat("mount(NULL, \"", dir,
                         "\", \"linx-no-such-fs\", 0, NULL): mount: ENODEV "
                         "(No such device): filesystem type "
                         "\"linx-no-such-fs\" is not configured in the "
                         "kernel"));
}

// ---- Bind -----------------------------------------------------------------

TEST(BindTest, BindShowsTheSourceSubtree) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("bsrc");
  std::string dst = MakeScratchDir("bdst");
  ASSERT_TRUE(WriteFile(src + "/f", "hello"));
  ScopedMount guard(dst);
  ASSERT_OK(Bind(src, dst));
  std::optional<MountInfo> m = FindMount(dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(absl::EndsWith(src, m->root)) << m->root;
  EXPECT_EQ(ReadFile(dst + "/f"), "hello");
  EXPECT_EQ(StatvfsFlags(dst) & ST_RDONLY, 0u);
}

TEST(BindTest, ReadOnlyBindIsReadOnlyAndKeepsNosuidNodev) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  // The scratch tmpfs is nosuid,nodev: a plain MS_REMOUNT|MS_BIND|MS_RDONLY
  // would clear both.
  std::string src = MakeScratchDir("rosrc");
  std::string dst = MakeScratchDir("rodst");
  ASSERT_NE(StatvfsFlags(src) & ST_NOSUID, 0u);
  ScopedMount guard(dst);
  BindOptions o;
  o.flags = {MountFlag::kRo};
  ASSERT_OK(Bind(src, dst, o));
  unsigned long f = StatvfsFlags(dst);
  EXPECT_EQ(f & (ST_RDONLY | ST_NOSUID | ST_NODEV),
            ST_RDONLY | ST_NOSUID | ST_NODEV);
  std::optional<MountInfo> m = FindMount(dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(HasOption(m->vfs_options, "ro")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->vfs_options, "nosuid")) << m->vfs_options;
  EXPECT_FALSE(WriteFile(dst + "/new", "x"));
  EXPECT_EQ(errno, EROFS);
  // The source stays writable.
  EXPECT_EQ(StatvfsFlags(src) & ST_RDONLY, 0u);
}

TEST(BindTest, PerMountFlagsOnABind) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("pmsrc");
  std::string dst = MakeScratchDir("pmdst");
  ScopedMount guard(dst);
  BindOptions o;
  o.flags = {MountFlag::kNoexec, MountFlag::kNoatime};
  ASSERT_OK(Bind(src, dst, o));
  std::optional<MountInfo> m = FindMount(dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(HasOption(m->vfs_options, "noexec")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->vfs_options, "noatime")) << m->vfs_options;
  EXPECT_TRUE(HasOption(m->vfs_options, "nosuid")) << m->vfs_options;
  EXPECT_FALSE(HasOption(m->vfs_options, "ro")) << m->vfs_options;
}

TEST(BindTest, ReadOnlyBindInUserNamespaceKeepsLockedFlags) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("usrc");
  std::string dst = MakeScratchDir("udst");
  std::string dst2 = MakeScratchDir("udst2");
  std::string result = testing::RunInUserNamespaceChild([&]() -> std::string {
    std::string out;
    // 1. The naive remount fails: nosuid/nodev/atime are locked here.
    if (::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return absl::StrCat("bind: ", ErrnoName(errno));
    }
    int naive = ::mount(nullptr, dst.c_str(), nullptr,
                        MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
    absl::StrAppend(&out, "naive=", naive == 0 ? "ok" : ErrnoName(errno), ";");
    ::umount2(dst.c_str(), MNT_DETACH);
    // 2. Bind({ro}) keeps them and succeeds.
    BindOptions ro;
    ro.flags = {MountFlag::kRo};
    absl::Status s = Bind(src, dst, ro);
    absl::StrAppend(&out, "bind_ro=", s.ok() ? "ok" : s.ToString(), ";");
    unsigned long f = StatvfsFlags(dst);
    absl::StrAppend(&out, "flags=", (f & ST_RDONLY) ? "ro" : "rw",
                    (f & ST_NOSUID) ? ",nosuid" : "",
                    (f & ST_NODEV) ? ",nodev" : "", ";");
    // 3. Clearing a locked flag is a clear error.
    RemountOptions clear;
    clear.flags = {MountFlag::kBind, MountFlag::kRo};
    absl::Status r = Remount(dst, clear);
    std::optional<MountError> e = GetMountError(r);
    absl::StrAppend(&out, "remount=", e ? ErrnoName(e->errno_value) : "none",
                    ";");
    absl::StrAppend(
        &out, "hint=",
        absl::StrContains(r.message(), "this would clear MS_NOSUID|MS_NODEV")
            ? "yes"
            : std::string(r.message()),
        ";");
    // 4. A follow-up that fails (strictatime: atime is locked) undoes the
    // bind: nothing is left at dst2.
    std::string before = TableText();
    BindOptions strict;
    strict.flags = {MountFlag::kStrictatime};
    absl::Status u = Bind(src, dst2, strict);
    std::optional<MountError> ue = GetMountError(u);
    absl::StrAppend(&out, "undo=", ue ? ErrnoName(ue->errno_value) : "none",
                    ",", FindMount(dst2).has_value() ? "left" : "clean", ",",
                    TableText() == before ? "same" : "changed");
    return out;
  });
  if (absl::StartsWith(result, "skip:")) GTEST_SKIP() << result;
  EXPECT_EQ(result,
            "naive=EPERM;bind_ro=ok;flags=ro,nosuid,nodev;remount=EPERM;"
            "hint=yes;undo=EPERM,clean,same");
}

class UserNamespaceRecursiveReadOnlyTest
    : public ::testing::TestWithParam<bool> {};

// Inside a user namespace every inherited mount has locked flags; a
// recursive read-only bind must still work, by either path.
TEST_P(UserNamespaceRecursiveReadOnlyTest, KeepsLockedFlagsOnEveryMount) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("ursrc");
  std::string dst = MakeScratchDir("urdst");
  std::string sub = Sub(src, "sub");
  ScopedMount g(sub);
  ASSERT_OK(Mount("none", sub, "tmpfs",
                  WithFlags({MountFlag::kNosuid, MountFlag::kNoexec})));
  bool walk = GetParam();
  std::string result = testing::RunInUserNamespaceChild([&]() -> std::string {
    mount_internal::SetForceSubmountWalk(walk);
    BindOptions o;
    o.flags = {MountFlag::kRec, MountFlag::kRo};
    absl::Status s = Bind(src, dst, o);
    if (!s.ok()) return s.ToString();
    std::string out;
    for (const std::string& p : {dst, dst + "/sub"}) {
      unsigned long f = StatvfsFlags(p);
      absl::StrAppend(&out, (f & ST_RDONLY) ? "ro" : "rw",
                      (f & ST_NOSUID) ? ",nosuid" : "",
                      (f & ST_NOEXEC) ? ",noexec" : "", ";");
    }
    return out;
  });
  if (absl::StartsWith(result, "skip:")) GTEST_SKIP() << result;
  EXPECT_EQ(result, "ro,nosuid;ro,nosuid,noexec;");
}

INSTANTIATE_TEST_SUITE_P(MountSetattrAndWalk,
                         UserNamespaceRecursiveReadOnlyTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "SubmountWalk" : "MountSetattr";
                         });

TEST(BindTest, BindFromHostInOwnNamespaceWithRec) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("bfhsrc");
  std::string dst = MakeScratchDir("bfhdst");
  std::string sub = Sub(src, "sub");
  ScopedMount g1(sub), g2(dst);
  ASSERT_OK(Mount("bfh-sub", sub, "tmpfs"));
  BindOptions o;
  o.flags = {MountFlag::kRec};
  ASSERT_OK(BindFromHost(src, dst, o));
  EXPECT_TRUE(FindMount(dst).has_value());
  std::optional<MountInfo> m = FindMount(dst + "/sub");
  ASSERT_TRUE(m.has_value()) << TableText();
  EXPECT_EQ(m->source, "bfh-sub");
  ASSERT_OK(Umount(dst + "/sub"));
  // A missing source fails in open_tree, on the caller's side.
  absl::Status s = BindFromHost(src + "/missing", dst);
  EXPECT_THAT(s, ErrnoIs(ENOENT));
  EXPECT_THAT(std::string(s.message()),
              StartsWith(absl::StrCat("open_tree(AT_FDCWD, \"", src,
                                      "/missing\", OPEN_TREE_CLONE|"
                                      "OPEN_TREE_CLOEXEC): mount: ENOENT")));
}

class RecursiveReadOnlyTest : public ::testing::TestWithParam<bool> {};

TEST_P(RecursiveReadOnlyTest, WholeTreeBecomesReadOnly) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  mount_internal::SetForceSubmountWalk(GetParam());
  std::string src = MakeScratchDir("rsrc");
  std::string dst = MakeScratchDir("rdst");
  std::string sub = Sub(src, "sub");
  ScopedMount g1(src), g2(sub), g3(dst);
  ASSERT_OK(Mount("none", sub, "tmpfs", WithFlags({MountFlag::kNosuid})));
  std::string deeper = Sub(sub, "deeper");
  ScopedMount g4(deeper);
  ASSERT_OK(Mount("none", deeper, "tmpfs", WithFlags({MountFlag::kNoexec})));
  BindOptions o;
  o.flags = {MountFlag::kRec, MountFlag::kRo};
  absl::Status s = Bind(src, dst, o);
  mount_internal::SetForceSubmountWalk(false);
  ASSERT_OK(s);
  for (const std::string& p : {dst, dst + "/sub", dst + "/sub/deeper"}) {
    SCOPED_TRACE(p);
    ASSERT_TRUE(FindMount(p).has_value()) << TableText();
    EXPECT_NE(StatvfsFlags(p) & ST_RDONLY, 0u);
  }
  EXPECT_NE(StatvfsFlags(dst) & ST_NOSUID, 0u);                  // kept
  EXPECT_NE(StatvfsFlags(dst + "/sub") & ST_NOSUID, 0u);         // kept
  EXPECT_NE(StatvfsFlags(dst + "/sub/deeper") & ST_NOEXEC, 0u);  // kept
  // The sources stay writable.
  EXPECT_EQ(StatvfsFlags(sub) & ST_RDONLY, 0u);
  EXPECT_EQ(StatvfsFlags(deeper) & ST_RDONLY, 0u);
  // Cleanup order: the tree at dst first.
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  ASSERT_OK(Umount(dst, lazy));
}

INSTANTIATE_TEST_SUITE_P(MountSetattrAndWalk, RecursiveReadOnlyTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "SubmountWalk" : "MountSetattr";
                         });

TEST(BindTest, NonRecursiveBindLeavesSubmountsOut) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("nrsrc");
  std::string dst = MakeScratchDir("nrdst");
  std::string sub = Sub(src, "sub");
  ScopedMount g1(sub), g2(dst);
  ASSERT_OK(Mount("none", sub, "tmpfs"));
  BindOptions o;
  o.flags = {MountFlag::kRo};
  ASSERT_OK(Bind(src, dst, o));
  EXPECT_FALSE(FindMount(dst + "/sub").has_value());
  EXPECT_NE(StatvfsFlags(dst) & ST_RDONLY, 0u);
}

TEST(BindTest, CreatePlaceholderFileThenBindAFileOntoIt) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string dir = MakeScratchDir("create");
  std::string src = dir + "/src-file";
  ASSERT_TRUE(WriteFile(src, "device-ish"));
  std::string devdir = Sub(dir, "dev");
  ScopedMount g1(devdir);
  ASSERT_OK(Mount("none", devdir, "tmpfs"));
  std::string target = devdir + "/null";
  ScopedMount g2(target);
  BindOptions o;
  o.create = true;
  ASSERT_OK(Bind(src, target, o));
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(ReadFile(target), "device-ish");
  EXPECT_TRUE(FindMount(target).has_value());
  // An existing target is fine.
  ASSERT_OK(Umount(target));
  ASSERT_OK(Bind(src, target, o));
  ASSERT_OK(Umount(target));
  // A missing parent fails at stage create, with nothing mounted.
  absl::Status s = Bind(src, devdir + "/no/such", o);
  EXPECT_THAT(s, StageIs(Stage::kCreate));
  EXPECT_THAT(s, ErrnoIs(ENOENT));
  // A created placeholder is removed again when the mount then fails.
  std::string fresh = devdir + "/fresh";
  absl::Status f = Bind(dir + "/does-not-exist", fresh, o);
  EXPECT_THAT(f, StageIs(Stage::kMount));
  EXPECT_THAT(f, ErrnoIs(ENOENT));
  EXPECT_NE(::access(fresh.c_str(), F_OK), 0);
}

// ---- Propagation ----------------------------------------------------------

TEST(PropagationTest, EachTypeShowsInMountinfoOptionalFields) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("propa");
  std::string b = MakeScratchDir("propb");
  ScopedMount ga(a), gb(b);
  // A mount and a propagation word: two calls (mount_namespaces(7)).
  ASSERT_OK(Mount("none", a, "tmpfs", WithFlags({MountFlag::kShared})));
  std::optional<MountInfo> ma = FindMount(a);
  ASSERT_TRUE(ma.has_value());
  ASSERT_TRUE(ma->shared.has_value()) << TableText();
  // A bind of a shared mount joins its peer group; make it a slave.
  ASSERT_OK(Bind(a, b));
  ASSERT_OK(Mount("", b, "", WithFlags({MountFlag::kSlave})));
  std::optional<MountInfo> mb = FindMount(b);
  ASSERT_TRUE(mb.has_value());
  EXPECT_EQ(mb->master, ma->shared);
  EXPECT_FALSE(mb->shared.has_value());
  // Propagation works: a mount under a appears under b.
  std::string sub = Sub(a, "sub");
  ScopedMount gs(sub);
  ASSERT_OK(Mount("none", sub, "tmpfs"));
  EXPECT_TRUE(FindMount(b + "/sub").has_value());
  ASSERT_OK(Umount(sub));
  ASSERT_OK(Mount("", b, "", WithFlags({MountFlag::kPrivate})));
  mb = FindMount(b);
  ASSERT_TRUE(mb.has_value());
  EXPECT_TRUE(mb->optional_fields.empty());
  ASSERT_OK(Mount("", b, "", WithFlags({MountFlag::kUnbindable})));
  mb = FindMount(b);
  ASSERT_TRUE(mb.has_value());
  EXPECT_TRUE(mb->unbindable);
  // An unbindable mount cannot be bound.
  std::string c = MakeScratchDir("propc");
  EXPECT_THAT(Bind(b, c), ErrnoIs(EINVAL));
}

TEST(PropagationTest, BindWithPropagationWordBindsThenChangesPropagation) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string src = MakeScratchDir("bpsrc");
  std::string dst = MakeScratchDir("bpdst");
  ScopedMount g(dst);
  BindOptions o;
  o.flags = {MountFlag::kRec, MountFlag::kShared};
  ASSERT_OK(Bind(src, dst, o));
  std::optional<MountInfo> m = FindMount(dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->shared.has_value());
}

TEST(PropagationTest, RecursivePrivateAppliesToSubmounts) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("rpriv");
  ScopedMount ga(a);
  ASSERT_OK(Mount("none", a, "tmpfs", WithFlags({MountFlag::kShared})));
  std::string sub = Sub(a, "sub");
  ScopedMount gs(sub);
  ASSERT_OK(Mount("none", sub, "tmpfs"));
  ASSERT_TRUE(FindMount(sub)->shared.has_value());
  ASSERT_OK(
      Mount("", a, "", WithFlags({MountFlag::kRec, MountFlag::kPrivate})));
  EXPECT_TRUE(FindMount(a)->optional_fields.empty());
  EXPECT_TRUE(FindMount(sub)->optional_fields.empty());
}

// ---- Move, Remount, Umount ------------------------------------------------

TEST(MoveTest, MovesTheMountAndLeavesTheSourceEmpty) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("mova");
  std::string b = MakeScratchDir("movb");
  ScopedMount ga(a), gb(b);
  ASSERT_OK(Mount("moved", a, "tmpfs"));
  ASSERT_TRUE(WriteFile(a + "/f", "x"));
  ASSERT_OK(Move(a, b));
  EXPECT_FALSE(FindMount(a).has_value());
  std::optional<MountInfo> m = FindMount(b);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source, "moved");
  EXPECT_EQ(ReadFile(b + "/f"), "x");
}

TEST(MoveTest, MovingANonMountFailsWithEinvalAndHint) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("mvnm");
  std::string b = MakeScratchDir("mvnm2");
  absl::Status s = Move(a, b);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("source is not a mount point")));
  EXPECT_THAT(std::string(s.message()),
              StartsWith(absl::StrCat("mount(\"", a, "\", \"", b,
                                      "\", NULL, MS_MOVE, NULL): mount: "
                                      "EINVAL")));
  EXPECT_EQ(GetMountError(s)->operation, "move");
}

TEST(RemountTest, ReadOnlyAndBack) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("remount");
  ScopedMount g(d);
  ASSERT_OK(Mount("none", d, "tmpfs", WithFlags({MountFlag::kNosuid})));
  RemountOptions ro;
  ro.flags = {MountFlag::kRo, MountFlag::kNosuid};
  ASSERT_OK(Remount(d, ro));
  EXPECT_NE(StatvfsFlags(d) & ST_RDONLY, 0u);
  EXPECT_NE(StatvfsFlags(d) & ST_NOSUID, 0u);
  RemountOptions rw;
  rw.flags = {MountFlag::kNosuid};
  ASSERT_OK(Remount(d, rw));
  EXPECT_EQ(StatvfsFlags(d) & ST_RDONLY, 0u);
  // Data reaches the filesystem.
  RemountOptions size;
  size.data = "size=2m";
  ASSERT_OK(Remount(d, size));
  EXPECT_TRUE(HasOption(FindMount(d)->fs_options, "size=2048k"));
  // Per-mount only (MS_REMOUNT|MS_BIND).
  RemountOptions bind;
  bind.flags = {MountFlag::kBind, MountFlag::kNoexec};
  ASSERT_OK(Remount(d, bind));
  EXPECT_NE(StatvfsFlags(d) & ST_NOEXEC, 0u);
}

// Propagation is its own mount(2) call (mount_namespaces(7)): a remount
// that asks only for a propagation type changes the propagation and nothing
// else (no MS_REMOUNT call that would reset the flags); with other flags,
// the remount comes first and the propagation call after it.
TEST(RemountTest, PropagationWordsAreTheirOwnCall) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("rmprop");
  ScopedMount g(d);
  ASSERT_OK(Mount("none", d, "tmpfs",
                  WithFlags({MountFlag::kNosuid, MountFlag::kShared})));
  ASSERT_TRUE(FindMount(d)->shared.has_value());
  RemountOptions priv;
  priv.flags = {MountFlag::kPrivate};
  ASSERT_OK(Remount(d, priv));
  std::optional<MountInfo> m = FindMount(d);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->optional_fields.empty());
  EXPECT_NE(StatvfsFlags(d) & ST_NOSUID, 0u) << "flags untouched";
  RemountOptions ro_shared;
  ro_shared.flags = {MountFlag::kBind, MountFlag::kRo, MountFlag::kNosuid,
                     MountFlag::kShared};
  ASSERT_OK(Remount(d, ro_shared));
  EXPECT_NE(StatvfsFlags(d) & ST_RDONLY, 0u);
  EXPECT_TRUE(FindMount(d)->shared.has_value());
}

// remount --recursive: one mount_setattr(AT_RECURSIVE), or the walk where
// it is missing (forced here); the flags replace the per-mount flags of
// every mount of the tree.
TEST(RemountTest, RecursiveRemountChangesTheWholeTree) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  for (bool walk : {false, true}) {
    SCOPED_TRACE(walk ? "submount walk" : "mount_setattr");
    mount_internal::SetForceSubmountWalk(walk);
    std::string d = MakeScratchDir("rmrec");
    ScopedMount g(d);
    ASSERT_OK(Mount("none", d, "tmpfs", WithFlags({MountFlag::kNosuid})));
    std::string sub = Sub(d, "sub");
    ScopedMount gs(sub);
    ASSERT_OK(Mount("none", sub, "tmpfs"));
    RemountOptions ro;
    ro.recursive = true;
    ro.flags = {MountFlag::kRo, MountFlag::kNodev, MountFlag::kNosymfollow};
    ASSERT_OK(Remount(d, ro));
    for (const std::string& m : {d, sub}) {
      SCOPED_TRACE(m);
      unsigned long f = StatvfsFlags(m);
      EXPECT_NE(f & ST_RDONLY, 0u);
      EXPECT_NE(f & ST_NODEV, 0u);
      EXPECT_EQ(f & ST_NOSUID, 0u) << "replaced, as by a remount";
      EXPECT_NE(f & 0x2000 /* ST_NOSYMFOLLOW, linux/statfs.h */, 0u);
    }
    RemountOptions rw;
    rw.recursive = true;
    ASSERT_OK(Remount(d, rw));
    EXPECT_EQ(StatvfsFlags(d) & ST_RDONLY, 0u);
    EXPECT_EQ(StatvfsFlags(sub) & ST_RDONLY, 0u);
    RemountOptions bad;
    bad.recursive = true;
    bad.flags = {MountFlag::kSync};
    EXPECT_THAT(Remount(d, bad), StageIs(Stage::kBadFlag));
    bad.flags = {};
    bad.data = "size=1m";
    EXPECT_THAT(Remount(d, bad), StageIs(Stage::kBadArgument));
    ASSERT_OK(Umount(sub));
    ASSERT_OK(Umount(d));
  }
  mount_internal::SetForceSubmountWalk(false);
}

TEST(RemountTest, NotAMountFailsWithEinval) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("rmnm");
  absl::Status s = Remount(d);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_EQ(GetMountError(s)->operation, "remount");
  EXPECT_EQ(s.message(),
            absl::StrCat("mount(NULL, \"", d,
                         "\", NULL, MS_REMOUNT, NULL): mount: EINVAL "
                         "(Invalid argument)"));
}

TEST(UmountTest, BusyTargetFailsWithEbusyThenDetachUnmountsLazily) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("lazy");
  ScopedMount g(d);
  ASSERT_OK(Mount("none", d, "tmpfs"));
  int fd = ::open((d + "/open").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  absl::Status busy = Umount(d);
  EXPECT_THAT(busy, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(busy, ErrnoIs(EBUSY));
  EXPECT_THAT(busy, StageIs(Stage::kUmount));
  EXPECT_EQ(busy.message(),
            absl::StrCat("umount2(\"", d,
                         "\", 0): umount: EBUSY (Device or resource busy): "
                         "target is busy"));
  EXPECT_TRUE(FindMount(d).has_value());
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  ASSERT_OK(Umount(d, lazy));
  EXPECT_FALSE(FindMount(d).has_value());
  // The open file still works on the detached filesystem.
  EXPECT_EQ(::write(fd, "abc", 3), 3);
  ::close(fd);
}

TEST(UmountTest, NotAMountPointFailsWithEinvalAndHint) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("notmnt");
  absl::Status s = Umount(d);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_EQ(s.message(),
            absl::StrCat("umount2(\"", d,
                         "\", 0): umount: EINVAL (Invalid argument): not a "
                         "mount point"));
  EXPECT_EQ(GetMountError(s)->operation, "umount");
}

TEST(UmountTest, NoFollowRefusesASymlinkAndForceWorksOnTmpfs) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("nofollow");
  std::string link = MakeScratchDir("nofollow-link") + "/l";
  ScopedMount g(d);
  ASSERT_OK(Mount("none", d, "tmpfs"));
  ASSERT_EQ(::symlink(d.c_str(), link.c_str()), 0);
  UmountOptions nf;
  nf.flags = {UmountFlag::kNoFollow};
  EXPECT_THAT(Umount(link, nf), ErrnoIs(EINVAL));
  EXPECT_TRUE(FindMount(d).has_value());
  UmountOptions force;
  force.flags = {UmountFlag::kForce};
  EXPECT_OK(Umount(d, force));
  EXPECT_FALSE(FindMount(d).has_value());
}

TEST(UmountTest, ExpireMarksThenUnmounts) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("expire");
  ScopedMount g(d);
  ASSERT_OK(Mount("none", d, "tmpfs"));
  UmountOptions expire;
  expire.flags = {UmountFlag::kExpire};
  absl::Status first = Umount(d, expire);
  EXPECT_THAT(first, ErrnoIs(EAGAIN));
  EXPECT_THAT(std::string(first.message()), HasSubstr("marked as expired"));
  EXPECT_OK(Umount(d, expire));
  EXPECT_FALSE(FindMount(d).has_value());
}

// ---- Bad input --------------------------------------------------------------

TEST(ArgumentTest, BadInputsAreRejectedBeforeAnySyscall) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("badarg");
  std::string nul = d + std::string("\0x", 2);
  std::string too_long = "/" + std::string(PATH_MAX, 'a');
  ASSERT_OK_AND_ASSIGN(Namespace other, Namespace::Pid(::getpid()));
  MountOptions in_other;
  in_other.in = other;
  BindOptions bind_sync;
  bind_sync.flags = {MountFlag::kSync};
  UmountOptions expire_detach;
  expire_detach.flags = {UmountFlag::kExpire, UmountFlag::kDetach};
  RemountOptions remount_data;
  remount_data.data = std::string(5000, 'x');  // mount(2) takes one page
  RemountOptions remount_move;
  remount_move.flags = {MountFlag::kMove};
  BindOptions two_atimes;
  two_atimes.flags = {MountFlag::kNoatime, MountFlag::kStrictatime};
  struct Case {
    const char* name;
    absl::Status status;
    Stage stage;
    const char* value;
  };
  std::string before = TableText();
  const Case cases[] = {
      {"nul target", Mount("none", nul, "tmpfs"), Stage::kBadArgument,
       "target"},
      {"nul source", Bind(nul, d), Stage::kBadArgument, "source"},
      {"nul data",
       Mount("none", d, "tmpfs", WithFlags({}, std::string("a\0b", 3))),
       Stage::kBadArgument, "data"},
      {"empty target", Mount("none", "", "tmpfs"), Stage::kBadArgument,
       "target"},
      {"empty bind source", Bind("", d), Stage::kBadArgument, "source"},
      {"empty move source", Move("", d), Stage::kBadArgument, "source"},
      {"empty new_root", PivotRoot("", "old"), Stage::kBadArgument, "new_root"},
      {"empty put_old", PivotRoot(d, ""), Stage::kBadArgument, "put_old"},
      {"too long", Mount("none", too_long, "tmpfs"), Stage::kBadArgument,
       "target"},
      {"too long data",
       Mount("none", d, "tmpfs",
             WithFlags({}, std::string((1 << 20) + 1, 'x'))),
       Stage::kBadArgument, "data"},
      {"too long remount data", Remount(d, remount_data), Stage::kBadArgument,
       "data"},
      {"relative in other ns", Mount("none", "rel/dir", "tmpfs", in_other),
       Stage::kBadArgument, "target"},
      {"unknown flag value",
       Mount("none", d, "tmpfs", WithFlags({static_cast<MountFlag>(99)})),
       Stage::kBadFlag, "MountFlag(99)"},
      {"two propagation words",
       Mount("", d, "", WithFlags({MountFlag::kShared, MountFlag::kPrivate})),
       Stage::kBadFlag, "shared,private"},
      {"bind with sync", Bind(d, d, bind_sync), Stage::kBadFlag, "sync"},
      {"bind with two atimes", Bind(d, d, two_atimes), Stage::kBadFlag,
       "MS_NOATIME|MS_STRICTATIME"},
      {"remount with move", Remount(d, remount_move), Stage::kBadFlag, "move"},
      {"expire with detach", Umount(d, expire_detach), Stage::kBadFlag,
       "expire,detach"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(c.status, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(c.status, StageIs(c.stage));
    std::optional<MountError> e = GetMountError(c.status);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->value, c.value);
    EXPECT_EQ(e->errno_value, 0);
  }
  EXPECT_EQ(TableText(), before);
  EXPECT_EQ(Mount("none", "", "tmpfs").message(), "mount: target is empty");
}

// ---- PivotRoot (always inside a parked child's namespace) -----------------

class PivotRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::Privileged()) GTEST_SKIP() << testing::PrivilegeSkipReason();
    // Made before the fork, so the child sees these directories.
    root_ = MakeScratchDir("pivot");
    new_root_ = Sub(root_, "new");
    Sub(new_root_, "old");
    outside_ = Sub(root_, "outside");
    ASSERT_OK_AND_ASSIGN(
        child_, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
    ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child_->pid()));
    ns_ = std::make_unique<Namespace>(ns);
    before_ = TableText();
  }
  void TearDown() override {
    if (!before_.empty()) {
      EXPECT_EQ(TableText(), before_) << "our table moved";
    }
    child_.reset();
  }
  BindOptions In() {
    BindOptions o;
    o.in = *ns_;
    return o;
  }
  PivotRootOptions PivotIn() {
    PivotRootOptions o;
    o.in = *ns_;
    return o;
  }

  std::string root_, new_root_, outside_, before_;
  std::unique_ptr<ParkedChild> child_;
  std::unique_ptr<Namespace> ns_;
};

TEST_F(PivotRootTest, HappyPathMovesTheChildsRootAndNotOurs) {
  char cwd_before[PATH_MAX];
  ASSERT_NE(::getcwd(cwd_before, sizeof(cwd_before)), nullptr);
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  ASSERT_OK(PivotRoot(new_root_, "old", PivotIn()));
  pid_t pid = child_->pid();
  std::optional<MountInfo> root = FindMount("/", pid);
  ASSERT_TRUE(root.has_value()) << TableText(pid);
  EXPECT_TRUE(absl::EndsWith(new_root_, root->root))
      << root->root << " " << TableText(pid);
  EXPECT_TRUE(FindMount("/old", pid).has_value()) << TableText(pid);
  char cwd_after[PATH_MAX];
  ASSERT_NE(::getcwd(cwd_after, sizeof(cwd_after)), nullptr);
  EXPECT_STREQ(cwd_before, cwd_after);
}

TEST_F(PivotRootTest, AbsolutePutOldWorksToo) {
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  ASSERT_OK(PivotRoot(new_root_, new_root_ + "/old", PivotIn()));
  EXPECT_TRUE(FindMount("/old", child_->pid()).has_value());
}

TEST_F(PivotRootTest, NewRootNotAMountPointIsNamed) {
  absl::Status s = PivotRoot(new_root_, "old", PivotIn());
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(s, StageIs(Stage::kPivotRoot));
  EXPECT_EQ(
      s.message(),
      absl::StrCat("pivot_root(\"", new_root_,
                   "\", \"old\") in mount namespace of pid ", child_->pid(),
                   ": pivot_root: EINVAL (Invalid argument): new_root "
                   "is not a mount point (bind-mount it onto itself "
                   "first)"));
}

TEST_F(PivotRootTest, PutOldOutsideNewRootIsNamed) {
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  absl::Status s = PivotRoot(new_root_, outside_, PivotIn());
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(std::string(s.message()),
              EndsWith("put_old is not at or under new_root"));
}

TEST_F(PivotRootTest, SharedParentOfNewRootIsNamed) {
  // root_ (a bind of itself, shared) is the parent mount of new_root.
  ASSERT_OK(Bind(root_, root_, In()));
  MountOptions shared;
  shared.flags = {MountFlag::kShared};
  shared.in = *ns_;
  ASSERT_OK(Mount("", root_, "", shared));
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  MountOptions priv;
  priv.flags = {MountFlag::kPrivate};
  priv.in = *ns_;
  ASSERT_OK(Mount("", new_root_, "", priv));
  absl::Status s = PivotRoot(new_root_, "old", PivotIn());
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(std::string(s.message()),
              EndsWith(absl::StrCat("the parent mount of new_root (", root_,
                                    ") is shared; make it private first")));
}

TEST_F(PivotRootTest, SharedPutOldMountIsNamed) {
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  std::string old = new_root_ + "/old";
  ASSERT_OK(Bind(old, old, In()));
  MountOptions shared;
  shared.flags = {MountFlag::kShared};
  shared.in = *ns_;
  ASSERT_OK(Mount("", old, "", shared));
  absl::Status s = PivotRoot(new_root_, "old", PivotIn());
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(std::string(s.message()),
              EndsWith(absl::StrCat("the mount holding put_old (", old,
                                    ") is shared; make it private first")));
}

TEST_F(PivotRootTest, PutOldOnTheCurrentRootMountIsBusy) {
  ASSERT_OK(Bind(new_root_, new_root_, In()));
  absl::Status s = PivotRoot(new_root_, "/", PivotIn());
  EXPECT_THAT(s, ErrnoIs(EBUSY));
  EXPECT_THAT(std::string(s.message()),
              EndsWith("new_root or put_old is the current root mount"));
}

TEST_F(PivotRootTest, MissingNewRootFailsAtChdir) {
  absl::Status s = PivotRoot(root_ + "/nope", "old", PivotIn());
  EXPECT_THAT(s, StageIs(Stage::kChdir));
  EXPECT_THAT(s, ErrnoIs(ENOENT));
}

// ---- Other namespaces -----------------------------------------------------

TEST(NamespaceTest, EveryVerbChangesTheChildsTableAndNotOurs) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("nsa");
  std::string b = MakeScratchDir("nsb");
  std::string c = MakeScratchDir("nsc");
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  pid_t pid = child->pid();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(pid));
  std::string ours = TableText();

  MountOptions m;
  m.in = ns;
  m.flags = {MountFlag::kNosuid};
  ASSERT_OK(Mount("in-child", a, "tmpfs", m));
  std::optional<MountInfo> ma = FindMount(a, pid);
  ASSERT_TRUE(ma.has_value()) << TableText(pid);
  EXPECT_EQ(ma->source, "in-child");

  RemountOptions r;
  r.in = ns;
  r.flags = {MountFlag::kRo, MountFlag::kNosuid};
  ASSERT_OK(Remount(a, r));
  EXPECT_TRUE(HasOption(FindMount(a, pid)->vfs_options, "ro"));

  MoveOptions mv;
  mv.in = ns;
  ASSERT_OK(Move(a, b, mv));
  EXPECT_FALSE(FindMount(a, pid).has_value());
  EXPECT_TRUE(FindMount(b, pid).has_value());

  BindOptions bo;
  bo.in = ns;
  bo.flags = {MountFlag::kRo};
  ASSERT_OK(Bind(b, c, bo));
  EXPECT_TRUE(HasOption(FindMount(c, pid)->vfs_options, "ro"));

  UmountOptions u;
  u.in = ns;
  ASSERT_OK(Umount(c, u));
  ASSERT_OK(Umount(b, u));
  EXPECT_FALSE(FindMount(b, pid).has_value());
  EXPECT_FALSE(FindMount(c, pid).has_value());

  EXPECT_EQ(TableText(), ours);
}

TEST(NamespaceTest, ErrorsNameTheNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("nserr");
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  UmountOptions u;
  u.in = ns;
  absl::Status s = Umount(d, u);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_EQ(s.message(),
            absl::StrCat("umount2(\"", d, "\", 0) in mount namespace of pid ",
                         child->pid(),
                         ": umount: EINVAL (Invalid argument): not a mount "
                         "point"));
  // Relative paths mean nothing in another namespace.
  absl::Status rel = Umount("relative", u);
  EXPECT_THAT(rel, StageIs(Stage::kBadArgument));
  EXPECT_EQ(rel.message(),
            absl::StrCat("umount: target \"relative\" must be absolute in "
                         "mount namespace of pid ",
                         child->pid()));
}

TEST(NamespaceTest, SetnsFailureIsPrefixedWithTheCall) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  // A network-namespace file is not a mount namespace: setns(CLONE_NEWNS)
  // refuses it with EINVAL (unless Namespace::Path already rejects it).
  absl::StatusOr<Namespace> ns = Namespace::Path("/proc/self/ns/net");
  if (!ns.ok()) {
    EXPECT_THAT(ns, StatusIs(absl::StatusCode::kInvalidArgument));
    return;
  }
  std::string d = MakeScratchDir("setns");
  MountOptions m;
  m.in = *ns;
  m.flags = {MountFlag::kNosuid, MountFlag::kNodev};
  absl::Status s = Mount("proc", d, "tmpfs", m);
  EXPECT_THAT(s, StageIs(Stage::kSetns));
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_EQ(s.message(),
            absl::StrCat("mount(\"proc\", \"", d,
                         "\", \"tmpfs\", MS_NOSUID|MS_NODEV, NULL) in mount "
                         "namespace at /proc/self/ns/net: setns: EINVAL "
                         "(Invalid argument)"));
}

TEST(NamespaceTest, CreateHappensInsideTheTargetNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("nscreate");
  std::string file = MakeScratchDir("nscreate-src") + "/f";
  ASSERT_TRUE(WriteFile(file, "f"));
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  // A tmpfs only the child sees; the placeholder must be made inside it.
  MountOptions m;
  m.in = ns;
  ASSERT_OK(Mount("none", d, "tmpfs", m));
  BindOptions b;
  b.in = ns;
  b.create = true;
  ASSERT_OK(Bind(file, d + "/null", b));
  EXPECT_TRUE(FindMount(d + "/null", child->pid()).has_value());
  // Not on our side of d.
  EXPECT_NE(::access((d + "/null").c_str(), F_OK), 0);
}

TEST(NamespaceTest, BindFromHostMakesAHostPathAppearInTheChild) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string host = MakeScratchDir("host");
  std::string target = MakeScratchDir("host-target");
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  pid_t pid = child->pid();
  // Mounted after the fork: only our namespace has it.
  ScopedMount g(host);
  ASSERT_OK(Mount("host-only", host, "tmpfs"));
  ASSERT_TRUE(WriteFile(host + "/hello", "from host"));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(pid));
  // A plain Bind cannot see the host tmpfs from inside the child.
  BindOptions plain;
  plain.in = ns;
  ASSERT_OK(Bind(host, target, plain));
  EXPECT_FALSE(ReadFile(absl::StrCat("/proc/", pid, "/root", target, "/hello"))
                   .has_value());
  UmountOptions u;
  u.in = ns;
  ASSERT_OK(Umount(target, u));

  BindOptions o;
  o.in = ns;
  o.flags = {MountFlag::kRo};
  std::string ours = TableText();
  ASSERT_OK(BindFromHost(host, target, o));
  std::optional<MountInfo> m = FindMount(target, pid);
  ASSERT_TRUE(m.has_value()) << TableText(pid);
  EXPECT_EQ(m->source, "host-only");
  EXPECT_TRUE(HasOption(m->vfs_options, "ro")) << m->vfs_options;
  EXPECT_EQ(ReadFile(absl::StrCat("/proc/", pid, "/root", target, "/hello")),
            "from host");
  EXPECT_EQ(TableText(), ours);
}

TEST(NamespaceTest, ProcMountInAPidTargetShowsItsPidNamespace) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("proc");
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  MountOptions m;
  m.in = ns;
  m.flags = {MountFlag::kNosuid, MountFlag::kNodev, MountFlag::kNoexec};
  ASSERT_OK(Mount("proc", d, "proc", m));
  std::optional<MountInfo> pm = FindMount(d, child->pid());
  ASSERT_TRUE(pm.has_value());
  EXPECT_EQ(pm->fstype, "proc");
  // The child is PID 1 there; our own pid is not visible.
  std::string base = absl::StrCat("/proc/", child->pid(), "/root", d);
  EXPECT_EQ(::access((base + "/1").c_str(), F_OK), 0);
  EXPECT_NE(::access(absl::StrCat(base, "/", ::getpid()).c_str(), F_OK), 0);
}

TEST(NamespaceTest, ProcMountFailureInAPidTargetIsTheCall) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("procfail") + "/missing";
  ASSERT_OK_AND_ASSIGN(auto child, ParkedChild::Spawn());
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  MountOptions m;
  m.in = ns;
  absl::Status s = Mount("proc", d, "proc", m);
  EXPECT_THAT(s, ErrnoIs(ENOENT));
  EXPECT_THAT(s, StageIs(Stage::kMount));
  EXPECT_EQ(s.message(),
            absl::StrCat("mount(\"proc\", \"", d,
                         "\", \"proc\", 0, NULL) in mount namespace of pid ",
                         child->pid(),
                         ": mount: ENOENT (No such file or directory)"));
}

TEST(NamespaceTest, ManyThreadsMountAndUmountInAChildAtOnce) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<std::string> dirs;
  for (int t = 0; t < kThreads; ++t) dirs.push_back(MakeScratchDir("many"));
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(child->pid()));
  std::string ours = TableText();
  std::string theirs = TableText(child->pid());
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MountOptions m;
      m.in = ns;
      m.flags = {MountFlag::kNosuid};
      UmountOptions u;
      u.in = ns;
      for (int i = 0; i < kRounds && results[t].ok(); ++i) {
        results[t] = Mount("none", dirs[t], "tmpfs", m);
        if (results[t].ok()) results[t] = Umount(dirs[t], u);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const absl::Status& r : results) EXPECT_OK(r);
  EXPECT_EQ(TableText(), ours);
  EXPECT_EQ(TableText(child->pid()), theirs);
}

// ---- Batch ----------------------------------------------------------------

TEST(BatchTest, StopsAtTheFirstFailureAndNamesTheStep) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("ba");
  std::string b = MakeScratchDir("bb");
  std::string c = MakeScratchDir("bc");
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  pid_t pid = child->pid();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(pid));
  Batch batch;
  batch.Mount("none", a, "tmpfs").Umount(b).Mount("none", c, "tmpfs");
  EXPECT_EQ(batch.size(), 3u);
  absl::Status s = batch.Run(ns);
  EXPECT_THAT(s, ErrnoIs(EINVAL));
  EXPECT_THAT(s, StageIs(Stage::kUmount));
  EXPECT_EQ(s.message(),
            absl::StrCat("step 2 of 3: umount2(\"", b,
                         "\", 0) in mount namespace of pid ", pid,
                         ": umount: EINVAL (Invalid argument): not a mount "
                         "point"));
  EXPECT_TRUE(FindMount(a, pid).has_value());
  EXPECT_FALSE(FindMount(c, pid).has_value());
}

TEST(BatchTest, BadArgumentInAnyStepRunsNothing) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string a = MakeScratchDir("bba");
  std::string before = TableText();
  Batch batch;
  batch.Mount("none", a, "tmpfs").Umount("");
  absl::Status s = batch.Run();
  EXPECT_THAT(s, StageIs(Stage::kBadArgument));
  EXPECT_EQ(s.message(), "step 2 of 2: umount: target is empty");
  // A step with its own `in` is refused too.
  ASSERT_OK_AND_ASSIGN(Namespace self_by_pid, Namespace::Pid(::getpid()));
  MountOptions own;
  own.in = self_by_pid;
  Batch b2;
  b2.Mount("none", a, "tmpfs", own);
  EXPECT_THAT(b2.Run(), StageIs(Stage::kBadArgument));
  EXPECT_EQ(TableText(), before);
  EXPECT_OK(Batch().Run());
}

TEST(BatchTest, ContainerRootfsRecipeInOneTrip) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string rootfs = MakeScratchDir("rootfs");
  Sub(rootfs, "old_root");
  Sub(rootfs, "tmp");
  std::string volume = MakeScratchDir("volume");
  ASSERT_TRUE(WriteFile(volume + "/v", "vol"));
  ASSERT_OK_AND_ASSIGN(
      auto child, ParkedChild::Spawn(nullptr, /*new_pid_namespace=*/false));
  pid_t pid = child->pid();
  ASSERT_OK_AND_ASSIGN(Namespace ns, Namespace::Pid(pid));
  MountOptions make_private;
  make_private.flags = {MountFlag::kPrivate};
  UmountOptions lazy;
  lazy.flags = {UmountFlag::kDetach};
  BindOptions ro;
  ro.flags = {MountFlag::kRo};
  Batch batch;
  batch.Bind(rootfs, rootfs)
      .Mount("", rootfs, "", make_private)
      .BindFromHost(volume, rootfs + "/tmp", ro)
      .PivotRoot(rootfs, "old_root")
      .Umount("/old_root", lazy)
      .Mount("none", "/old_root", "tmpfs");
  std::string ours = TableText();
  ASSERT_OK(batch.Run(ns));
  std::optional<MountInfo> root = FindMount("/", pid);
  ASSERT_TRUE(root.has_value()) << TableText(pid);
  EXPECT_TRUE(absl::EndsWith(rootfs, root->root)) << TableText(pid);
  std::optional<MountInfo> tmp = FindMount("/tmp", pid);
  ASSERT_TRUE(tmp.has_value()) << TableText(pid);
  EXPECT_TRUE(HasOption(tmp->vfs_options, "ro"));
  EXPECT_EQ(ReadFile(absl::StrCat("/proc/", pid, "/root/tmp/v")), "vol");
  // Only the new root, its volume and the fresh tmpfs are left.
  EXPECT_EQ(testing::Table(pid).size(), 3u) << TableText(pid);
  EXPECT_EQ(TableText(), ours);
}

// ---- List and Version -------------------------------------------------------

TEST(ListTest, ListsThisThreadAndAPidAndAFile) {
  LINX_SKIP_UNLESS_PRIVILEGED();
  std::string d = MakeScratchDir("list");
  ScopedMount g(d);
  ASSERT_OK(Mount("listed", d, "tmpfs"));
  ASSERT_OK_AND_ASSIGN(std::vector<MountInfo> mine, List());
  bool found = false;
  for (const MountInfo& m : mine) found |= m.target == d;
  EXPECT_TRUE(found);
  ASSERT_OK_AND_ASSIGN(std::vector<MountInfo> by_pid, List(::getpid()));
  EXPECT_FALSE(by_pid.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<MountInfo> by_file,
                       List(absl::string_view("/proc/thread-self/mountinfo")));
  EXPECT_EQ(by_file.size(), mine.size());
}

TEST(VersionTest, IsSemver) {
  EXPECT_THAT(Version(), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

}  // namespace
}  // namespace linx
